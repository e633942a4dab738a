#!/usr/bin/env bash
# Benchmarks, printed and never asserted: GTT/CPU mmap fault-in throughput of
# a release daemon against tmpfs mmap fault-in measured in the same run.
# Usage: scripts/bench.sh [MiB]
source "$(dirname "$0")/lib.sh"
swift build -c release
make -s -C bench
echo "== fault-in, $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
mount_device
bench/build/fault_bench "$mnt/card0" "${1:-64}"
echo
echo "== the same through an 8 MiB aperture (partial views, eviction)"
mount_device --aperture-size 8M
bench/build/fault_bench "$mnt/card0" "${1:-64}"
