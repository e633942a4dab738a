#!/usr/bin/env bash
# The main job: build FakeDRM, mount an emulated i915 device, show it, run the
# examples and the conformance programs against it as a user would, poke it
# from a shell, unmount;
# then run a program (Debian's libigt gem_create when installed) under
# `fakedrm run --strict`, with the device at /dev/dri.
source "$(dirname "$0")/lib.sh"
scripts/setup.sh --optional intel-gpu-tools xxd   # the shell recipe, the libigt client
swift build -c release
make -s -C conformance
make -s -C examples
mount_device
echo "== mounted on $mnt"
ls -l "$mnt" "$mnt/debug"
echo
echo "== device_info"
conformance/build/device_info "$mnt/card0"
echo
echo "== examples (examples/: a GEM object, a batch on the blitter)"
examples/build/hello_gem "$mnt/card0"
examples/build/hello_gpu "$mnt/card0"
echo
echo "== the conformance programs (conformance/)"
conformance/run_all.sh "$mnt/card0"
echo
echo "== $mnt/debug/i915_gem_gtt after the run"
cat "$mnt/debug/i915_gem_gtt"
echo
echo "== $mnt/debug/i915_engine_info: what the software GPU ran"
cat "$mnt/debug/i915_engine_info"
echo
echo "== poking the device from a shell (conformance/shell_poke.sh)"
FAKEDRM=.build/release/fakedrm conformance/shell_poke.sh "$mnt/card0" | tail -4
unmount
echo
echo "== fakedrm run --strict: /dev/dri/card0 in a private namespace, kernel mmap errnos"
.build/release/fakedrm run --strict -- sh -c 'ls -l /dev/dri/card0 /dev/dri/renderD128; conformance/build/strict_errno /dev/dri/card0 | tail -1'
igt=/usr/libexec/igt-gpu-tools/benchmarks
if [[ -x $igt/gem_create ]]; then
    echo
    echo "== Debian's libigt gem_create, unmodified, under fakedrm run --strict"
    .build/release/fakedrm run --strict -- "$igt/gem_create" -s 4096 -r 1
fi
