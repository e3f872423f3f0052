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
# service files that work as installed: ExecStart follows PREFIX, and every
# unit scores 2.0 or better in systemd's own security review
for u in tfadesk-batch.service tfadesk-batch.timer tfadesk-watch.service tfadesk-verify.service; do
	check "installed unit $u" test -f "$T/root/opt/tfa/lib/systemd/system/$u"
done
check "installed sysusers.d" test -f "$T/root/opt/tfa/lib/sysusers.d/tfadesk.conf"
check "installed tmpfiles.d" test -f "$T/root/opt/tfa/lib/tmpfiles.d/tfadesk.conf"
for u in tfadesk-batch.service tfadesk-watch.service tfadesk-verify.service; do
	f=$T/root/opt/tfa/lib/systemd/system/$u
	contains "$f" "ExecStart=/opt/tfa/bin/" "$u: ExecStart follows PREFIX"
	lacks "$f" "/usr/local/bin" "$u: no path outside PREFIX"
	if command -v systemd-analyze >/dev/null; then
		score=$(cd "$T" && systemd-analyze security --offline=true "$f" 2>&1 |
		    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
			ok "$u: systemd-analyze security $score <= 2.0"
		else not_ok "$u: systemd-analyze security '$score' (want <= 2.0)"; fi
	else
		not_ok "systemd-analyze is not installed (package systemd)"
	fi
done
# the cron sample: quiet on 0 and 75 (stdout and stderr), loud otherwise
line=$(grep -v '^#' "$TOP/samples/cron.d/tfadesk" | grep 'tfadesk.*batch' | sed 's/^[^t]*tfadesk  *//; s#cd /var/lib/tfadesk#cd "$T"#')
mkdir -p "$T/cronbin"
for rc in 0 75 70; do
	printf '#!/bin/sh\necho "tfadesk: some warning" >&2\necho "fetched 1"\nexit %s\n' $rc > "$T/cronbin/tfadesk"
	chmod 755 "$T/cronbin/tfadesk"
	(cd "$T" && PATH="$T/cronbin:$PATH" sh -c "$line") > "$T/cron.out" 2>&1
	if [ $rc = 70 ]; then
		contains "$T/cron.out" "exit 70" "cron sample: exit 70 is reported"
		contains "$T/cron.out" "some warning" "cron sample: with the program's error"
	else
		check "cron sample: exit $rc says nothing" test ! -s "$T/cron.out"
	fi
done
check "nothing outside DESTDIR/PREFIX" sh -c "[ \$(ls '$T/root') = opt ]"
finish
