import Foundation
import Testing

/// The fault-injection control files of MOUNT/debug against real clients:
/// a shell holding the device on fd 3 (`fakedrm ioctl`, reads through fd 3
/// as faults) and Python touching a real mmap of it.
@Suite(.serialized, .enabled(if: Harness.canMount, "needs root and /dev/fuse"))
struct FaultInjectionMountTests {
    /// Runs a snippet with fd 3 open on the device; `$F` is fakedrm, `$D`
    /// the debug tree, `touch OFFSET` touches one mapped byte in a child
    /// (exit 135 on SIGBUS).
    func shell(_ m: Mounted, _ body: String) throws -> Harness.Output {
        let prelude = """
            exec 3<>\(m.device); F=\(Harness.fakedrm); D=\(m.dir)/debug
            touch() { python3 -c "import mmap,sys; m = mmap.mmap(3, 4096, offset=$1); sys.stdout.write('%d\\n' % m[0])"; }

            """
        return try Harness.run(["bash", "-c", prelude + body], timeout: 60)
    }

    @Test func failFaultsGivesTheNextTouchesSigbus() throws {
        let m = try Mounted()
        let r = try shell(m, """
            h=$($F ioctl --fd 3 create 64K); off=$($F ioctl --fd 3 mmap-offset $h)
            printf 'A' | $F ioctl --fd 3 pwrite $h
            echo 2 > $D/fail_faults; cat $D/fail_faults
            touch $off; echo "touch rc=$?"
            cat $D/fail_faults
            xxd -s $off -l 1 -p <&3; echo "read rc=$?"
            touch $off; echo "touch rc=$?"
            cat $D/fail_faults
            """)
        #expect(r.stdout == """
            2 (the next 2 faults fail: SIGBUS)
            touch rc=135
            1 (the next 1 faults fail: SIGBUS)
            read rc=2
            65
            touch rc=0
            0

            """, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("Input/output error"), "\(r.stderr)")
    }

    @Test func failIoctlFailsTheNextCallsOfAKind() throws {
        let m = try Mounted()
        let r = try shell(m, """
            echo "GEM_CREATE ENOMEM 2" > $D/fail_ioctl
            echo "0x0b 1" >> $D/fail_ioctl        # GEM_OPEN by number, EPERM by number
            cat $D/fail_ioctl
            $F ioctl --fd 3 create 4096; $F ioctl --fd 3 create 4096; $F ioctl --fd 3 create 4096
            $F ioctl --fd 3 open 1; $F ioctl --fd 3 open 1
            echo "NO_SUCH ENOMEM" > $D/fail_ioctl || echo refused
            cat $D/fail_ioctl; echo end
            """)
        #expect(r.stdout == "GEM_OPEN EPERM 1\nGEM_CREATE ENOMEM 2\n1\nrefused\nend\n", "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "fakedrm ioctl: GEM_CREATE: Cannot allocate memory (ENOMEM)").count == 3, "\(r.stderr)")
        #expect(r.stderr.contains("fakedrm ioctl: GEM_OPEN: Operation not permitted (EPERM)"), "\(r.stderr)")
        // Then the real answer: no such name.
        #expect(r.stderr.contains("fakedrm ioctl: GEM_OPEN: No such file or directory (ENOENT)"), "\(r.stderr)")
    }

    @Test func exhaustedApertureKeepsBindingsAndStallsNewOnes() throws {
        let m = try Mounted()
        let r = try shell(m, """
            a=$($F ioctl --fd 3 create 4M); offa=$($F ioctl --fd 3 mmap-offset $a)
            b=$($F ioctl --fd 3 create 4096); offb=$($F ioctl --fd 3 mmap-offset $b)
            touch $offa >/dev/null                       # binds all of a
            echo 1 > $D/exhaust_aperture; head -c 1 $D/exhaust_aperture; echo
            touch $((offa + 3145728)); echo "bound rc=$?"
            touch $offb; echo "new binding rc=$?"
            (sleep 0.1; echo 0 > $D/exhaust_aperture) & touch $offb; echo "released rc=$?"; wait
            cat $D/exhaust_aperture
            """)
        #expect(r.stdout == "1\n0\nbound rc=0\nnew binding rc=135\n0\nreleased rc=0\n0\n", "\(r.stdout)\n\(r.stderr)")
    }

    @Test func exhaustedFencesStallTiledFaultsOnly() throws {
        let m = try Mounted()
        let r = try shell(m, """
            t=$($F ioctl --fd 3 create 64K); $F ioctl --fd 3 set-tiling $t x 4096 >/dev/null
            u=$($F ioctl --fd 3 create 64K)
            offt=$($F ioctl --fd 3 mmap-offset $t); offu=$($F ioctl --fd 3 mmap-offset $u)
            echo 1 > $D/exhaust_fences; head -c 1 $D/exhaust_fences; echo
            touch $offt; echo "tiled rc=$?"
            touch $offu; echo "untiled rc=$?"
            echo 0 > $D/exhaust_fences
            touch $offt; echo "tiled rc=$?"
            grep -c "^Fence .*object" $D/i915_gem_fence_regs
            """)
        #expect(r.stdout == "1\ntiled rc=135\n0\nuntiled rc=0\n0\ntiled rc=0\n1\n", "\(r.stdout)\n\(r.stderr)")
    }
}
