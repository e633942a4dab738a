#!/usr/bin/env bash
# Installs what FakeDRM needs to build and run: libfuse3, fuse3 (fusermount3),
# libdrm's uapi headers, pkg-config, a C compiler and make; xxd and python3 for
# the shell and fault-injection tests. Idempotent.
set -euo pipefail
export PATH="/opt/swift/usr/bin:$PATH"

need=()
for pkg in libfuse3-dev fuse3 libdrm-dev pkg-config gcc make xxd python3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
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
