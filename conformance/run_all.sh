#!/bin/sh
# run_all.sh DEVICE - run every built example (build/*) against DEVICE (<mount>/card0).
# Prints each program's summary line (full output too when it fails) and a final
# "N passed, N failed" line (", N skipped" appended when any skipped). Exit 1 if any failed.
set -u
if [ $# -ne 1 ]; then
	echo "usage: $0 <path-to-card0>" >&2
	exit 2
fi
dev=$1
dir=$(cd "$(dirname "$0")" && pwd)/build
passed=0 failed=0 skipped=0
found=0

for prog in "$dir"/*; do
	[ -f "$prog" ] && [ -x "$prog" ] || continue
	found=1
	name=$(basename "$prog")
	out=$(timeout 60 "$prog" "$dev" 2>&1)
	rc=$?
	summary=$(printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) ' | tail -n 1)
	case $rc in
	0)  [ -n "$summary" ] || summary="PASS $name: (no summary line)"
	    passed=$((passed + 1)) ;;
	77) [ -n "$summary" ] || summary="SKIP $name: (no summary line)"
	    skipped=$((skipped + 1)) ;;
	*)  [ -n "$summary" ] && [ "${summary#FAIL }" != "$summary" ] ||
		summary="FAIL $name: exit status $rc${summary:+ (last: $summary)}"
	    failed=$((failed + 1)) ;;
	esac
	echo "$summary"
	# On failure also show the rest of the output (everything but the summary line).
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		printf '%s\n' "$out" | grep -vxF -e "$summary" | sed 's/^/    | /'
	fi
done

if [ "$found" -eq 0 ]; then
	echo "no programs in $dir (run make -C $(dirname "$dir") first)" >&2
	exit 2
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
