#!/usr/bin/env bash
# The unit tests (device model, uapi decoding) under ThreadSanitizer and
# AddressSanitizer (with LeakSanitizer), each in its own build folder.
# The integration tests are left out: they drive the plain daemon binary
# over FUSE, and its worker pool, libfuse and the kernel are not what these
# tools can check. scripts/test.sh runs this when FAKEDRM_SANITIZE=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
filter='DeviceTests|UAPITests'

# TSan: a report fails the run (exit 66). The device lock is annotated for
# TSan (Sources/CTsan); nothing is suppressed.
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
TSAN_OPTIONS="exitcode=66 ${TSAN_OPTIONS:-}" \
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "$filter"

# ASan + LSan: a leak or memory error fails the run.
swift build --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}" \
LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp print_suppressions=0 ${LSAN_OPTIONS:-}" \
    swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$filter"
