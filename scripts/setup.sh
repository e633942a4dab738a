#!/usr/bin/env bash
# Installs what FakeDRM needs to build and run: libfuse3, fuse3 (fusermount3),
# libdrm (uapi headers; sysfs_device links it) and libpciaccess-dev, pkg-config, a C compiler and make, gnuplot-nox
# (`make bench` draws its scaling curves with it); xxd and python3 for the shell and fault-injection
# tests; Mesa (libegl-dev, libgles-dev, libegl-mesa0, libgl1-mesa-dri, mesa-vulkan-drivers,
# vulkan-tools; clinfo and intel-opencl-icd for OpenCL) for MesaTests, through --optional from
# scripts/test.sh. Idempotent.
set -euo pipefail
export PATH="/opt/swift/usr/bin:$PATH"

# `setup.sh --optional PKG...` installs what only some tests need (the real
# clients), and when it cannot (not root) only says so.
optional=0
pkgs=(libfuse3-dev fuse3 libdrm-dev libpciaccess-dev pkg-config gcc make gnuplot-nox)
if [[ ${1:-} == --optional ]]; then optional=1; shift; pkgs=("$@"); fi

need=()
for pkg in "${pkgs[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 && $optional -eq 1 ]]; then
        echo "setup: not installing ${need[*]} (not root): the tests that need them are skipped" >&2
        exit 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing packages: ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: no swift toolchain on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
[[ -e /dev/fuse ]] || { echo "setup: /dev/fuse is missing: FUSE is not available here" >&2; exit 1; }
