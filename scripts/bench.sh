#!/usr/bin/env bash
# Benchmarks, printed and never asserted: GTT/CPU mmap fault-in throughput of
# a release daemon against tmpfs mmap fault-in measured in the same run.
# Usage: scripts/bench.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release
make -s -C bench

mnt=$(mktemp -d /tmp/fakedrm-bench.XXXXXX)
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
.build/release/fakedrm mount "$mnt"
echo "== fault-in, $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)"
bench/build/fault_bench "$mnt/card0" "${1:-64}"
echo
echo "== the same through an 8 MiB aperture (partial views, eviction)"
cleanup; mnt=$(mktemp -d /tmp/fakedrm-bench.XXXXXX)
.build/release/fakedrm mount --aperture-size 8M "$mnt"
bench/build/fault_bench "$mnt/card0" "${1:-64}"
