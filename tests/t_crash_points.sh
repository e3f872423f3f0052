#!/bin/sh
# t_crash_points.sh - deterministic crashes (in the spirit of isync's -T):
# tfadesk-hooks, the test build of tfadesk, ends itself with _exit(137) as
# kill -9 would at the Nth passage of a named step (TFADESK_STOP_AT=NAME:N;
# TFADESK_STOP_AT=list names them). For every step of fetch, process and
# send and several N: fetch, process and send run with the stop until one
# dies, then the release tfadesk reruns them, and then every message of the
# maildir is stored once and flagged, every ticket applied once (one
# account.twofa audit row each), every reply at the SMTP sink once; a
# duplicate reply only for the step between "server accepted" and "marked
# sent".
. "$(dirname "$0")/lib.sh"
# SQLite only: a client crash mid-write leaves a journal or WAL in the file to recover; a PostgreSQL server outlives its client
sqlite_only "recovery of the SQLite file after a writer crashed"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed"; exit 77; }
H=${B:-$TOP/build/rel}/tfadesk-hooks
case "$H" in /*) ;; *) H=$TOP/$H ;; esac
# built by make check-build: missing is a failure of the build, not a skip
[ -x "$H" ] || { echo "no $H: make check-build builds it"; exit 1; }
: "${SMTP_PORT:=10025}"
export SMTP_PORT
C=$T/c.yaml
DB=$T/var/tfadesk.db
M=6
S=$T/sink
sql() { sqlite3 -cmd ".timeout 5000" -batch -noheader "$DB" "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
sink_pid=$(bash "$TOP/tests/servers/start-smtp-sink.sh" "$S") ||
	{ echo "smtp sink did not start"; exit 1; }
at_exit "bash '$TOP/tests/servers/stop-pid.sh' $sink_pid"
REPLY_YAML="  transport: smtp
  smtp_url: smtp://127.0.0.1:$SMTP_PORT
  timeout: 10" SENDER_AUTH=false write_config "$C"
i=1
{ echo "resellers:"; while [ $i -le $M ]; do
	printf '  - id: R%d\n    name: Reseller %d\n    twofa: false\n    contacts: [noc%d@r%d.example]\n    users:\n      - {id: U%d, name: User %d, phone: "07890 %06d"}\n' \
	    $i $i $i $i $i $i $((100000 + i))
	i=$((i + 1)); done; } > "$T/accounts.yaml"
# source.batch 1: fetch commits in groups of 5, so a group step is
# passed more than once
sed -i "s|^  path: $T/maildir\$|&\\n  batch: 1|" "$C"
mkdir -p "$T/maildir/new" "$T/maildir/cur" "$T/maildir/tmp" "$S/out"
i=1
while [ $i -le $M ]; do
	printf 'From: NOC <noc%d@r%d.example>\r\nTo: support@500.uk.com\r\nSubject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\nMessage-ID: <crash%d@r%d.example>\r\n\r\nPlease switch on 2FA for our reseller account R%d.\r\n' \
	    $i $i $i $i $i > "$T/maildir/new/$i.test"
	i=$((i + 1))
done
expect_exit 0 "db init" tfadesk -c "$C" db init
expect_exit 0 "db import" tfadesk -c "$C" db import "$T/accounts.yaml"
cp -a "$T/var" "$T/var.0"
cp -a "$T/maildir" "$T/maildir.0"
# each run starts from the same database and maildir
fresh() {
	rm -rf "$T/var" "$T/maildir" "$S/out" &&
	mkdir -p "$S/out" &&
	cp -a "$T/var.0" "$T/var" && cp -a "$T/maildir.0" "$T/maildir"
}
steps=$(TFADESK_STOP_AT=list "$H")
[ -n "$steps" ] || { not_ok "TFADESK_STOP_AT=list names no step"; finish; exit; }
[ "$(TFADESK_STOP_AT=list tfadesk -c "$C" --version 2>/dev/null | head -1)" = fetch.read ] &&
	not_ok "the release binary has the hooks" || ok "the release binary has no hooks"
later=$(( $(date +%s) + 86400 ))
t0=$(date +%s)
runs=0
# N: the first passage and the second (the second group of fetch)
for step in $steps; do
	died=0
	for n in 1 2; do
		fresh || { not_ok "$step:$n: setup"; continue; }
		rc=0
		for cmd in fetch process send; do
			TFADESK_STOP_AT=$step:$n "$H" -c "$C" $cmd >/dev/null 2>&1
			rc=$?
			[ $rc -eq 137 ] && break
		done
		[ $rc -eq 137 ] && died=$((died + 1))
		runs=$((runs + 1))
		# the rerun; a dead sender's claim holds its rows until it expires
		tfadesk -c "$C" fetch >/dev/null 2>&1
		tfadesk -c "$C" process >/dev/null 2>&1
		TFADESK_NOW=$later tfadesk -c "$C" send >"$T/send.out" 2>&1 ||
			not_ok "$step:$n: rerun send failed: $(cat "$T/send.out")"
		# tickets, tickets stored twice, applied, account.twofa audit
		# rows, tickets with two of them, replies sent
		got=$(sql "SELECT (SELECT count(*) FROM tickets) || ' ' ||
		    (SELECT count(*) FROM (SELECT 1 FROM tickets GROUP BY msgkey
		    HAVING count(*) > 1)) || ' ' ||
		    (SELECT count(*) FROM tickets WHERE state = 'applied') || ' ' ||
		    (SELECT count(*) FROM audit WHERE action = 'account.twofa') ||
		    ' ' || (SELECT count(*) FROM (SELECT 1 FROM audit WHERE action =
		    'account.twofa' GROUP BY ticket_id HAVING count(*) > 1)) || ' ' ||
		    (SELECT count(*) FROM outbox WHERE state = 'sent')")
		flagged=$(find "$T/maildir/cur" -type f -name '*:2,*S*' | wc -l)
		sent=$(ls "$S/out" | grep -c '\.eml$')
		uniq=$(cat "$S"/out/*.eml 2>/dev/null | tr -d '\r' | grep -i '^Message-ID:' | sort -u | wc -l)
		want=0
		[ "$step" = send.accepted ] && [ $rc -eq 137 ] && want=1
		if [ "$got" = "$M 0 $M $M 0 $M" ] && [ "$flagged" = $M ] &&
		    [ "$uniq" = $M ] && [ $((sent - uniq)) = $want ]; then
			ok "$step:$n (died: $([ $rc -eq 137 ] && echo yes || echo no)$([ $want = 1 ] && echo ", the reply in flight sent twice"))"
		else
			not_ok "$step:$n: tickets, dups, applied, twofa audit, twice, sent: $got (want $M 0 $M $M 0 $M); flagged $flagged; replies $uniq, duplicates $((sent - uniq)) (want $want)"
		fi
	done
	[ $died -gt 0 ] && ok "$step: reached and crashed $died times" || not_ok "$step: never reached"
done
ok "$runs crash runs in $(( $(date +%s) - t0 )) s"
finish
