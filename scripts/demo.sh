#!/usr/bin/env bash
# The main job: build FakeDRM, mount an emulated i915 device, show it, run the
# example programs against it as a user would, and unmount.
source "$(dirname "$0")/lib.sh"
swift build -c release
make -s -C examples
mount_device
echo "== mounted on $mnt"
ls -l "$mnt" "$mnt/debug"
echo
echo "== device_info"
examples/build/device_info "$mnt/card0"
echo
echo "== examples"
examples/run_all.sh "$mnt/card0"
echo
echo "== $mnt/debug/i915_gem_gtt after the run"
cat "$mnt/debug/i915_gem_gtt"
