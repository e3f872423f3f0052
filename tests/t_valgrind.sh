#!/bin/sh
# t_valgrind.sh - the admin commands under valgrind: no leak, no error.
# libphonenumber keeps process-lifetime caches (its metadata singleton and
# compiled regexes); tests/libphonenumber.supp hides only those.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
# a sanitizer build cannot run under valgrind
if nm "$TOP/tfadesk" 2>/dev/null | grep -q __asan_init; then
	echo "sanitizer build: valgrind skipped"; exit 77
fi
C="$T/tfadesk.yaml"
write_config "$C"
vg() {
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 --suppressions="$TOP/tests/libphonenumber.supp" \
	    tfadesk -c "$C" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 99 ] && ! grep -q '==[0-9]*==' "$T/err"; then ok "valgrind: $*"
	else not_ok "valgrind: $* (exit $rc)"; sed 's/^/    /' "$T/err" | head -30; fi
}
vg db init
vg db import "$TOP/samples/accounts.yaml"
printf 'resellers:\n  - {id: R1, name: X}\n  - {id: R1, name: Y}\n' > "$T/bad.yaml"
vg db import "$T/bad.yaml"
vg account list
vg account show R100 --json
vg account show C200
vg user edit U1002 --phone "07400 123999"
vg user edit U1002 --phone "020 7946 0123"
vg perm grant C210 use_2fa
vg perm revoke C210 use_2fa
vg audit --json
vg audit --account R100
vg queue list
finish
