#!/usr/bin/env bash
# The full test suite: unit tests of the device model and uapi decoding, and
# integration tests that mount real devices and drive them from the C
# conformance programs, the examples, the fuzzer and the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Real clients: Debian's libigt programs (IgtTests), Python (PythonTests and
# the fault-injection tests), xxd (the shell recipe).
scripts/setup.sh --optional intel-gpu-tools python3 xxd libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers vulkan-tools clinfo intel-opencl-icd
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
make -s -C conformance
make -s -C examples
swift test --skip-build "$@"
# CI also runs the unit tests under the thread and address sanitizers.
if [[ ${FAKEDRM_SANITIZE:-0} == 1 ]]; then scripts/sanitize.sh; fi
