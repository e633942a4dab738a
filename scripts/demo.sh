#!/usr/bin/env bash
# The main job: build FakeDRM, mount an emulated i915 device, show it, run the
# example programs against it as a user would, and unmount.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release
make -s -C examples

mnt=$(mktemp -d /tmp/fakedrm-demo.XXXXXX)
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

.build/release/fakedrm mount "$mnt"
echo "== mounted on $mnt"
ls -l "$mnt"
echo
echo "== device_info"
examples/build/device_info "$mnt/card0"
echo
echo "== examples"
examples/run_all.sh "$mnt/card0"
