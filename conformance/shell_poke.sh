#!/bin/sh
# shell_poke.sh DEVICE - poke the device from a shell: the recipe in docs/usage.md.
#
# The shell holds the device open on fd 3 (one open file = one drm_file),
# and each `fakedrm ioctl --fd 3 ...` acts on that open file, so handles
# live from one command to the next. Reads of fd 3 at an offset from
# mmap-offset are served like page faults of a mapping.
#
# FAKEDRM names the fakedrm binary (default: fakedrm on PATH).
# Prints a transcript and "PASS shell_poke: ..." (exit 0) or "FAIL ..." (exit 1).
set -eu
dev=${1:?usage: shell_poke.sh MOUNT/card0}
FAKEDRM=${FAKEDRM:-fakedrm}
ioctl() { "$FAKEDRM" ioctl --fd 3 "$@"; }
fail() { echo "FAIL shell_poke: $*"; exit 1; }
expect() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

exec 3<>"$dev"

echo "== create an object and fill it from stdin"
h=$(ioctl create 8192)
echo "handle $h"
printf 'hello from the shell' | ioctl pwrite "$h"
printf 'tile one' | ioctl pwrite "$h" --offset 4096
expect "$(ioctl pread "$h" --length 20)" "hello from the shell" "pread"

echo "== map it: MMAP_GTT allows this open on the object's node"
off=$(ioctl mmap-offset "$h")
echo "gtt offset $off"

echo "== read it through fd 3 at the fake offset, as a mapping would fault it"
ioctl seek "$off"                       # dd reads from the descriptor's position
expect "$(dd bs=4096 count=1 status=none <&3 | head -c 20)" "hello from the shell" "dd through fd 3"
xxd -s "$off" -l 20 <&3                 # xxd -s seeks by itself

echo "== tiling: X with a 1024-byte stride; the GTT view is detiled by a fence"
ioctl set-tiling "$h" x 1024
ioctl get-tiling "$h"
# Linear byte 512 of row 0 lies in the second X tile, i.e. at byte 4096 of the object.
expect "$(xxd -s $((off + 512)) -l 8 -p <&3)" "$(printf 'tile one' | xxd -p)" "detiled GTT read"
ioctl set-tiling "$h" none >/dev/null

echo "== share it: flink here, open by name from a second open file"
name=$(ioctl flink "$h")
echo "flink name $name"
exec 4<>"$dev"
set -- $("$FAKEDRM" ioctl --fd 4 open "$name")
echo "second open: handle $1 size $2"
expect "$2" 8192 "size from GEM_OPEN"
expect "$("$FAKEDRM" ioctl --fd 4 pread "$1" --length 20)" "hello from the shell" "pread from the second open"
# The second open was never allowed on the node: its reads there fail (SIGBUS for a mapping).
if xxd -s "$off" -l 4 <&4 >/dev/null 2>&1; then fail "a foreign open read the node"; fi
echo "second open reading the node: refused"

echo "== readonly: PWRITE is refused from now on"
ioctl readonly "$h"
if printf 'x' | ioctl pwrite "$h" 2>/tmp/shell_poke.$$; then fail "PWRITE to a readonly object"; fi
cat /tmp/shell_poke.$$
rm -f /tmp/shell_poke.$$
expect "$(ioctl pread "$h" --length 5)" "hello" "contents after the refused PWRITE"

echo "== errors are the kernel's: closing a handle twice"
ioctl close "$h"
if ioctl close "$h" 2>&1; then fail "second GEM_CLOSE"; fi

exec 3<&- 4<&-
echo "PASS shell_poke: create, pwrite, mmap-offset, dd/xxd through fd 3, tiling, flink/open, readonly"
