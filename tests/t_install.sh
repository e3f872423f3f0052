#!/bin/sh
# t_install.sh - make install honours PREFIX and DESTDIR.
. "$(dirname "$0")/lib.sh"
# install what is being tested: a sanitizer run must not relink ./tfadesk
# as the plain build under the tests that follow
case "${B:-}" in */san) san=1 ;; *) san= ;; esac
make -s -C "$TOP" install SANITIZE="$san" DESTDIR="$T/root" PREFIX=/opt/tfa >"$T/out" 2>&1 ||
	{ cat "$T/out"; not_ok "make install"; }
for f in bin/tfadesk bin/tfadesk-verify share/man/man1/tfadesk.1 \
    share/man/man5/tfadesk.yaml.5 share/man/man8/tfadesk-verify.8 \
    share/tfadesk/rules/tickets.yaml share/tfadesk/rules/numbering.yaml \
    share/tfadesk/templates/lockout.txt share/tfadesk/templates/twofa_enabled.txt; do
	check "installed $f" test -f "$T/root/opt/tfa/$f"
done
check "programs are executable" test -x "$T/root/opt/tfa/bin/tfadesk"
expect_exit 0 "installed tfadesk runs" "$T/root/opt/tfa/bin/tfadesk" --version
check "nothing outside DESTDIR/PREFIX" sh -c "[ \$(ls '$T/root') = opt ]"
finish
