#!/bin/sh
# t_pg_multi.sh - several machines simulated on one (PostgreSQL only;
# tests/run.sh runs it as t_pg_multi@pg): two `tfadesk-verify serve` on two
# ports and `tfadesk batch` runs from two config folders (two lock files),
# all on one database. 50 parallel checks of one code over both verifiers
# approve once; 10 parallel starts for one user send one SMS; the attempt
# limit counts wrong codes sent to either; two batches never both process
# a ticket (the advisory lock); a verifier answers on while the other is
# killed (kill -9) in the middle of requests.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
[ "$ON_PG" = 1 ] || { echo "PostgreSQL only (tests/run.sh runs it as t_pg_multi@pg)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
C="$T/tfadesk.yaml"
write_config "$C" "verifier:
  resend_after_seconds: 30
  max_attempts: 5
  max_sends_per_hour: 5
  max_sms_per_hour: 24
  max_connections_per_address: 100
  threads: 4"
SMS=$T/sms
NOW=1800000000
TFADESK_NOW=$NOW; export TFADESK_NOW
check "fixture" verify_fixture "$C"
P1=${VERIFY_PORT:-$(free_port 18025 18099)}
P2=$((P1 + 1))
U1=http://127.0.0.1:$P1 U2=http://127.0.0.1:$P2
tfadesk-verify -c "$C" serve --listen "127.0.0.1:$P1" 2>"$T/serve1.err" &
pid1=$!
tfadesk-verify -c "$C" serve --listen "127.0.0.1:$P2" 2>"$T/serve2.err" &
pid2=$!
at_exit "kill $pid1 $pid2 2>/dev/null"
check "verifier 1 answers" wait_http "$U1/healthz"
check "verifier 2 answers" wait_http "$U2/healthz"

# post URL PATH BODY > file: the response body
post() { curl -s -m 20 -X POST -H 'Content-Type: application/json' --data-binary "$3" "$1$2"; }
# the requests' pids (jobs -p in $(...) sees no jobs in some shells)
reqs=
wait_all() { for j in $reqs; do wait "$j"; done; reqs=; }

# 10 parallel starts for U1, five to each verifier: one SMS
i=0
while [ $i -lt 10 ]; do
	if [ $((i % 2)) = 0 ]; then u=$U1; else u=$U2; fi
	post "$u" /v1/challenges '{"user_id": "U1"}' > "$T/start.$i" &
	reqs="$reqs $!"
	i=$((i + 1))
done
wait_all
# nfiles WORD FILE...: how many of the files hold WORD
nfiles() { w=$1; shift; grep -l -- "$w" "$@" | wc -l | tr -d ' '; }
# what they answered, for the log
tally() { for f in "$@"; do cat "$f"; echo; done | grep . | sort | uniq -c; }
tally "$T"/start.*
sent=$(nfiles '"sent"' "$T"/start.*)
limited=$(nfiles '"rate_limited"' "$T"/start.*)
check "10 parallel starts over both: one sent ($sent), 9 rate_limited ($limited)" \
    test "$sent" = 1 -a "$limited" = 9
check "... one SMS in the spool ($(sms_count "$SMS"))" test "$(sms_count "$SMS")" = 1
set -- $(take_sms "$SMS")
code=${2:-}
check "the SMS holds a code" test -n "$code"

# 50 parallel checks of that code, 25 to each: approved exactly once
i=0
while [ $i -lt 50 ]; do
	if [ $((i % 2)) = 0 ]; then u=$U1; else u=$U2; fi
	post "$u" /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$code\"}" > "$T/check.$i" &
	reqs="$reqs $!"
	i=$((i + 1))
done
wait_all
tally "$T"/check.*
appr=$(nfiles '"approved"' "$T"/check.*)
denied=$(( $(nfiles '"denied"' "$T"/check.*) + $(nfiles '"locked"' "$T"/check.*) ))
check "50 parallel checks of one code over both: approved once ($appr)" test "$appr" = 1
check "... the 49 others denied or locked ($denied)" test "$denied" = 49

# the attempt limit counts wrong codes sent to either verifier: a code for
# U6 sent a minute ago (CLI), five wrong codes alternately, then the right
# one is locked
TFADESK_NOW=$((NOW - 60)) tfadesk-verify -c "$C" start U6 >/dev/null 2>&1 ||
    TFADESK_NOW=$((NOW - 60)) tfadesk-verify -c "$C" start U4 >/dev/null
who=U6; grep -q '353' "$SMS"/new/* 2>/dev/null || who=U4
set -- $(take_sms "$SMS")
code=${2:-}
check "a code for $who" test -n "$code"
wrong=$(printf '%06d' $(( (1${code} + 1) % 1000000 )))
for u in $U1 $U2 $U1 $U2 $U1; do
	post "$u" /v1/challenges/check "{\"user_id\": \"$who\", \"code\": \"$wrong\"}" >> "$T/wrong"
	echo >> "$T/wrong"
done
check "4 wrong codes denied over both ($(grep -c denied "$T/wrong"))" test "$(grep -c denied "$T/wrong")" -ge 4
got=$(post "$U2" /v1/challenges/check "{\"user_id\": \"$who\", \"code\": \"$code\"}")
check "after 5 wrong codes over both the right one is locked ($got)" \
    test "$got" = '{"outcome": "locked"}'

# a verifier killed (kill -9) in the middle of requests: the other answers
i=0
while [ $i -lt 20 ]; do
	post "$U1" /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$wrong\"}" > /dev/null &
	reqs="$reqs $!"
	i=$((i + 1))
done
kill -9 $pid1
wait_all
wait $pid1 2>/dev/null
start=$(date +%s)
got=$(post "$U2" /v1/challenges '{"user_id": "U5"}')
check "verifier 1 killed: verifier 2 answers ($got)" test "$got" = '{"outcome": "not_required"}'
got=$(post "$U2" /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$wrong\"}")
check "... checks too ($got)" test -n "$got"
check "... at once ($(( $(date +%s) - start )) s)" test $(( $(date +%s) - start )) -le 3
check "... and its health is ok" curl -sf -m 5 -o /dev/null "$U2/healthz"

# two batches, two config folders (two lock files, as on two hosts), one
# database and one mailbox: no ticket processed by both
n=0
for f in "$TOP"/tests/cases/*.eml; do
	n=$((n + 1))
	cp "$f" "$T/maildir/new/$n.host"
done
mkdir -p "$T/h1" "$T/h2"
cp "$C" "$T/h1/tfadesk.yaml"; cp "$C" "$T/h2/tfadesk.yaml"
unset TFADESK_NOW
tfadesk -c "$T/h1/tfadesk.yaml" batch --wait > "$T/b1.out" 2>&1 &
b1=$!
tfadesk -c "$T/h2/tfadesk.yaml" batch --wait > "$T/b2.out" 2>&1 &
b2=$!
wait $b1; r1=$?
wait $b2; r2=$?
check "both batches end 0 ($r1, $r2)" test "$r1" = 0 -a "$r2" = 0
check "two lock files" test -f "$T/h1/tfadesk-pg.lock" -a -f "$T/h2/tfadesk-pg.lock"
t=$(dbq main "SELECT count(*) FROM tickets")
check "every message a ticket ($t of $n)" test "$t" -ge $((n - 5)) -a "$t" -le "$n"
twice=$(dbq main "SELECT count(*) FROM (SELECT ticket_id FROM audit WHERE action = 'ticket.state' AND old = 'new' GROUP BY ticket_id HAVING count(*) > 1) x")
check "no ticket processed twice ($twice)" test "$twice" = 0
left=$(dbq main "SELECT count(*) FROM tickets WHERE state = 'new'")
check "none left new ($left)" test "$left" = 0
dup=$(dbq main "SELECT count(*) FROM (SELECT ticket_id FROM outbox GROUP BY ticket_id, rcpt HAVING count(*) > 1) x")
check "no reply queued twice ($dup)" test "$dup" = 0
finish
