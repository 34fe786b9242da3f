#!/bin/sh
# check-freestanding.sh: fails unless BINARY is a static executable that links nothing from libc.
# usage: check-freestanding.sh BINARY
set -eu
bin=$1
fail() { echo "check-freestanding: $bin: $*" >&2; exit 1; }
[ -f "$bin" ] || fail "no such file"
readelf -h "$bin" | grep -q 'Type:[[:space:]]*EXEC' || fail "not a static (non-PIE) executable"
readelf -d "$bin" 2>&1 | grep -q 'There is no dynamic section' || fail "has a dynamic section"
! readelf -l "$bin" | grep -q 'INTERP' || fail "asks for a program interpreter"
undef=$(nm -u "$bin")
[ -z "$undef" ] || fail "undefined symbols: $undef"
# glibc and musl leave their marks in symbol names; a freestanding binary has none.
! nm "$bin" | grep -Eq ' (__libc_start_main|__libc_|_IO_|__stack_chk_fail|__errno_location)' \
    || fail "contains libc symbols"
