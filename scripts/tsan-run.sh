#!/bin/sh
# tsan-run.sh: runs one ThreadSanitizer test binary; any report fails it (exit status 66).
# usage: tsan-run.sh BINARY
# Some kernels place mappings where clang 14's TSan runtime does not expect
# them ("FATAL: ThreadSanitizer: unexpected memory mapping"); then the binary
# is run once more with address-space randomisation off (setarch -R).
set -u
bin=$1
# halt_on_error: the first report ends the run; exitcode=66 makes a report
# fail even when the program itself would have passed.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" 2>"$err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'unexpected memory mapping' "$err"; then
    setarch "$(uname -m)" -R "$@" 2>"$err"
    rc=$?
fi
cat "$err" >&2
exit $rc
