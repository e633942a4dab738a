#!/usr/bin/env bash
# Benchmarks, printed and never asserted: every figure next to a baseline
# measured in the same run (BENCHMARKS.md explains them and the targets).
# Usage: scripts/bench.sh [ioctl] [fault] [scale] [conc] [mem] [coh] [gpu]   (default: all)
# Knobs (environment): PIN=CPU for the ioctl and scale runs (default 0; empty
# to leave the scheduler alone), FAULT_MIB (64), SCALE_MAX (1000000),
# IOCTL_N/IOCTL_ROUNDS, SCALE_K/SCALE_ROUNDS, CONC_MIN/CONC_MAX/CONC_MS/CONC_ROUNDS,
# CONC_WORK (ioctl, fault, param or a list such as ioctl,param; default ioctl and fault),
# PLOT (where the conc section draws its curves, docs/img/scaling.png),
# COH_ITERS/COH_ROUNDS/COH_BIG_MIB, GPU_N/GPU_ROUNDS/GPU_MIB/GPU_REPS.
source "$(dirname "$0")/lib.sh"
swift build -c release
make -s -C bench

sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(ioctl fault scale conc mem coh gpu)
want() { [[ " ${sections[*]} " == *" $1 "* ]]; }
pin=${PIN-0}

# The floor: bench/floor_daemon.c, a libfuse daemon doing the least it can.
floor_mnt="" floor_pid=""
stop_floor() {
    if [[ -n $floor_pid ]]; then kill "$floor_pid" 2>/dev/null || true; wait "$floor_pid" 2>/dev/null || true; fi
    if [[ -n $floor_mnt ]]; then fusermount3 -u "$floor_mnt" 2>/dev/null || true; rmdir "$floor_mnt" 2>/dev/null || true; fi
    floor_pid="" floor_mnt=""
}
trap 'stop_floor; unmount' EXIT
start_floor() {
    floor_mnt=$(mktemp -d /tmp/fakedrm-floor.XXXXXX)
    bench/build/floor_daemon "$floor_mnt" &
    floor_pid=$!
    for _ in $(seq 100); do [[ -e $floor_mnt/card0 ]] && return; sleep 0.05; done
    echo "floor daemon did not come up" >&2
    exit 1
}
# The daemon serving $mnt (mount_device daemonizes it): the process whose
# command line is `... fakedrm mount ... $mnt`.
daemon_pid() {
    local c line
    for c in /proc/[0-9]*/cmdline; do
        line=" $(tr '\0' ' ' 2>/dev/null < "$c")"
        [[ $line == *"fakedrm mount "* && $line == *" $mnt " ]] && { c=${c#/proc/}; echo "${c%/cmdline}"; return; }
    done
}
# pinned CMD...: runs CMD with itself and both daemons on CPU $pin.
pinned() {
    if [[ -z $pin ]]; then "$@"; return; fi
    for p in $(daemon_pid) $floor_pid; do taskset -a -cp "$pin" "$p" >/dev/null; done
    taskset -c "$pin" "$@"
    for p in $(daemon_pid) $floor_pid; do taskset -a -cp "0-$(($(nproc) - 1))" "$p" >/dev/null; done
}

echo "== FakeDRM benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "   $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r)," \
     "libfuse $(pkg-config --modversion fuse3), load $(cut -d' ' -f1-3 /proc/loadavg)"

if want ioctl; then
    echo
    echo "== ioctl round trip vs the floor daemon${pin:+ (client and daemons on CPU $pin)}"
    mount_device
    start_floor
    pinned bench/build/ioctl_bench "$mnt/card0" "$floor_mnt/card0"
    stop_floor
fi

if want fault; then
    echo
    echo "== GTT/CPU mmap fault-in vs tmpfs mmap fault-in"
    mount_device
    bench/build/fault_bench "$mnt/card0" "${FAULT_MIB:-64}"
    echo
    echo "== the same through an 8 MiB aperture (partial views, eviction; no target)"
    mount_device --aperture-size 8M
    FAULT_REPS=1 FAULT_NO_TARGETS=1 bench/build/fault_bench "$mnt/card0" "${FAULT_MIB:-64}"
fi

if want scale; then
    echo
    echo "== scale: N one-page objects with an mmap offset each${pin:+ (on CPU $pin)}"
    mount_device
    pinned bench/build/scale_bench "$mnt/card0" "$(daemon_pid)"
fi

if want conc; then
    echo
    echo "== concurrency: clients as threads (one open) and processes (one open each) vs the floor"
    mount_device
    start_floor
    data=$(mktemp /tmp/fakedrm-conc.XXXXXX)
    bench/build/conc_bench "$mnt/card0" "$floor_mnt/card0" "$(daemon_pid)" "$floor_pid" "$data"
    # A daemon that served millions of objects has wrapped its offset space
    # (issue 14: 16 clients of one ran at 0.01x of the floor): a fresh one,
    # aged past a wrap in a second, must match the rows above.
    echo "   an aged daemon (its offset space wrapped), 16 clients:"
    mount_device
    CONC_AGE=1 CONC_MIN=16 CONC_MAX=16 CONC_WORK=ioctl bench/build/conc_bench "$mnt/card0" "$floor_mnt/card0" | grep '^ioctl'
    stop_floor
    # The curves, drawn by gnuplot (scripts/setup.sh installs gnuplot-nox).
    plot=${PLOT:-docs/img/scaling.png}
    if ! grep -q '^ioctl ' "$data" || ! grep -q '^fault ' "$data"; then
        echo "   (scaling curves not drawn: they need both the ioctl and the fault workload; CONC_WORK=${CONC_WORK-})"
    elif command -v gnuplot >/dev/null; then
        mkdir -p "$(dirname "$plot")"
        gnuplot -e "data='$data'; out='$plot'; title='FakeDRM vs the floor daemon, $(nproc) CPUs, $(date -u +%Y-%m-%d)'" bench/scaling.gp &&
            echo "   scaling curves drawn into $plot"
    else
        echo "   (no gnuplot: scaling curves not drawn; scripts/setup.sh installs gnuplot-nox)"
    fi
    rm -f "$data"
fi

if want mem; then
    echo
    echo "== memory: daemon resident set per client, object and debug reader; hostile shapes (issue 11) beside the normal case"
    mount_device
    bench/build/mem_bench "$mnt/card0" "$(daemon_pid)"
fi

if want coh; then
    echo
    echo "== coherency point cost: per-page PWRITE + SET_DOMAIN + WC read (IGT gem_pwrite big-gtt-*), big object vs 1 MiB"
    mount_device
    bench/build/coh_bench "$mnt/card0" "$(daemon_pid)"
fi

if want gpu; then
    echo
    echo "== software GPU: empty-batch execbuf round trip vs the floor, blitter copies vs memcpy${pin:+ (on CPU $pin)}"
    mount_device
    start_floor
    pinned bench/build/gpu_bench "$mnt/card0" "$floor_mnt/card0"
    stop_floor
fi
