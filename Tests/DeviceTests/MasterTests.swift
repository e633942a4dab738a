import Testing
@testable import FakeDRMDevice

/// DRM master (drm_auth.c) and drm_ioctl_permit.
@Suite struct MasterTests {
    let dev = DrmDevice()

    @Test func firstPrimaryOpenIsMaster() throws {
        let r = dev.open(minor: .render, inode: 1, pid: 10, privileged: false)
        let a = dev.open(minor: .primary, inode: 2, pid: 10, privileged: false)
        let b = dev.open(minor: .primary, inode: 3, pid: 11, privileged: true)
        try dev.permit(a, auth: false, master: true, renderAllow: false)
        #expect(throws: DrmError.EACCES) { try dev.permit(b, auth: false, master: true, renderAllow: false) }
        #expect(throws: DrmError.EACCES) { try dev.permit(r, auth: false, master: true, renderAllow: true) }
        try dev.setMaster(a, pid: 10, privileged: false) // already master: no-op
    }

    @Test func setMasterRules() throws {
        let a = dev.open(minor: .primary, inode: 1, pid: 10, privileged: false)
        let b = dev.open(minor: .primary, inode: 2, pid: 11, privileged: false)
        #expect(throws: DrmError.EACCES) { try dev.setMaster(b, pid: 11, privileged: false) }
        #expect(throws: DrmError.EBUSY) { try dev.setMaster(b, pid: 11, privileged: true) }

        // Not master: EACCES without permission, EINVAL with it.
        #expect(throws: DrmError.EACCES) { try dev.dropMaster(b, pid: 11, privileged: false) }
        #expect(throws: DrmError.EINVAL) { try dev.dropMaster(b, pid: 11, privileged: true) }

        // The master drops (its own process needs no privilege), b takes over.
        try dev.dropMaster(a, pid: 10, privileged: false)
        #expect(throws: DrmError.EINVAL) { try dev.dropMaster(a, pid: 10, privileged: false) }
        try dev.setMaster(b, pid: 11, privileged: true)
        #expect(throws: DrmError.EBUSY) { try dev.setMaster(a, pid: 10, privileged: false) }
        // A former master from another process needs privilege.
        #expect(throws: DrmError.EACCES) { try dev.setMaster(a, pid: 99, privileged: false) }
    }

    @Test func releasingMasterFreesTheRole() throws {
        let a = dev.open(minor: .primary, inode: 1, pid: 10, privileged: false)
        dev.release(a)
        let b = dev.open(minor: .primary, inode: 2, pid: 11, privileged: false)
        try dev.permit(b, auth: true, master: true, renderAllow: false)
    }

    @Test func permitRules() throws {
        let master = dev.open(minor: .primary, inode: 1, pid: 10, privileged: false)
        let plain = dev.open(minor: .primary, inode: 2, pid: 11, privileged: false)
        let root = dev.open(minor: .primary, inode: 3, pid: 12, privileged: true)
        let render = dev.open(minor: .render, inode: 4, pid: 13, privileged: false)

        // Auth-only ioctl (FLINK/OPEN): render clients are refused by RENDER_ALLOW.
        #expect(throws: DrmError.EACCES) { try dev.permit(render, auth: true, master: false, renderAllow: false) }
        try dev.permit(render, auth: true, master: false, renderAllow: true)
        try dev.permit(render, auth: false, master: false, renderAllow: true)
        #expect(throws: DrmError.EACCES) { try dev.permit(render, auth: false, master: false, renderAllow: false) }

        #expect(throws: DrmError.EACCES) { try dev.permit(plain, auth: true, master: false, renderAllow: false) }
        try dev.permit(plain, auth: false, master: false, renderAllow: false)
        try dev.permit(root, auth: true, master: false, renderAllow: false)
        try dev.permit(master, auth: true, master: true, renderAllow: false)
        #expect(throws: DrmError.ENODEV) { try dev.permit(999, auth: false, master: false, renderAllow: true) }
    }

    @Test func authMagicAuthenticates() throws {
        let master = dev.open(minor: .primary, inode: 1, pid: 10, privileged: false)
        let plain = dev.open(minor: .primary, inode: 2, pid: 11, privileged: false)
        let magic = try dev.getMagic(plain)
        try dev.authMagic(master, magic: magic)
        try dev.permit(plain, auth: true, master: false, renderAllow: false)
    }
}
