#!/bin/sh
# t_pg_restart.sh - a PostgreSQL restart (pg_ctl restart -m fast) under
# running processes (PostgreSQL only; tests/run.sh runs it as
# t_pg_restart@pg, on a cluster of its own so that no other test sees the
# restart): tfadesk-verify serve (its per-thread connections and the
# checks' batch connection), tfadesk desk and tfadesk watch go on after
# it without being restarted. While the server is down a request answers
# 503 (the verifier: {"outcome": "error"}), never a wrong result; checks in
# flight during the restart are each counted at most once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
. "$(dirname "$0")/desk-lib.sh"
[ "$ON_PG" = 1 ] || { echo "PostgreSQL only (tests/run.sh runs it as t_pg_restart@pg)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
# a cluster of our own: the run's is shared with the tests beside us
pg_start || { echo "cannot start a PostgreSQL cluster"; exit 1; }
at_exit pg_stop
DB_URI=$(pg_new_db) || exit 1
as_pg=
[ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
pgctl() { $as_pg "$PG_BIN/pg_ctl" -D "$TFADESK_PG_DIR/data" -w -t 30 -l "$TFADESK_PG_DIR/server.log" "$@" >/dev/null; }

PORT=${DESK_PORT:-$(free_port 18026 18099)}
URL=http://127.0.0.1:$PORT
VP=${VERIFY_PORT:-$(free_port 18025 18099)}
V=http://127.0.0.1:$VP
C=$T/tfadesk.yaml
write_config "$C" "verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
  max_sms_per_hour: 1000
  max_attempts: 100
  max_connections_per_address: 100
  threads: 4
desk:
  listen: 127.0.0.1:$PORT
  secure_cookies: false"
check "fixture" desk_fixture "$C"

tfadesk-verify -c "$C" serve --listen "127.0.0.1:$VP" 2>"$T/serve.err" &
vpid=$!
at_exit "kill $vpid 2>/dev/null"
check "verifier answers" wait_http "$V/healthz"
check "desk starts" start_desk "$C"
tfadesk -c "$C" watch 2>"$T/watch.err" &
wpid=$!
at_exit "kill $wpid 2>/dev/null"

post() { curl -s -m 20 -o "$T/vbody" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$2" "$V$1"; }
# code_for USER: starts a challenge, prints its code
code_for() {
	[ "$(post /v1/challenges "{\"user_id\": \"$1\"}")" = 200 ] || return 1
	grep -q '"sent"' "$T/vbody" || return 1
	newest_code
}
JAR=$T/jar
req() {
	m=$1 p=$2; shift 2
	curl -s -m 20 -X "$m" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	    -b "$JAR" -c "$JAR" "$@" "$URL$p"
}
hdr() { tr -d '\r' < "$T/hdr" | sed -n "s/^$1: //Ip" | head -n 1; }
csrf() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/body" | head -n 1; }
login() {
	rm -f "$JAR"
	[ "$(req POST /login --data "name=alice&password=correct+horse+battery+staple")" = 303 ] || return 1
	code=$(newest_code) || return 1
	req GET /login/code >/dev/null
	[ "$(req POST /login/code --data "csrf=$(csrf)&code=$code")" = 303 ] || return 1
	[ "$(hdr Location)" = / ]
}

# before: everything works
c=$(code_for U2002)
check "before: a code is sent" test -n "$c"
post /v1/challenges/check "{\"user_id\": \"U2002\", \"code\": \"$c\"}" >/dev/null
contains "$T/vbody" '"approved"' "before: the code is approved"
check "before: staff log in to the desk" login
check "before: the queue" test "$(req GET /)" = 200

# 1. a restart while nothing runs: the next requests succeed at once
check "pg_ctl restart -m fast" pgctl restart -m fast
c=$(code_for U2002)
check "after: a code is sent (the verifier connected again)" test -n "$c"
post /v1/challenges/check "{\"user_id\": \"U2002\", \"code\": \"$c\"}" >/dev/null
contains "$T/vbody" '"approved"' "after: the check is approved (the batch connection too)"
check "after: the desk's queue (same session)" test "$(req GET /)" = 200
req GET /ticket/7 >/dev/null
check "after: a note" test "$(req POST /ticket/7/note --data "csrf=$(csrf)&text=after+the+restart")" = 303
check "after: the note is written once" test "$(dbq main "SELECT count(*) FROM audit WHERE ticket_id = 7 AND action = 'ticket.note'")" = 1
check "after: staff log in again (the desk's verifier store)" login
n0=$(dbq main "SELECT count(*) FROM tickets")
cp "$TOP/tests/cases/01-twofa-missing.eml" "$T/maildir/tmp/1800000000.M1P1.restart"
mv "$T/maildir/tmp/1800000000.M1P1.restart" "$T/maildir/new/"
i=0
while [ $i -lt 100 ] && [ -n "$(ls "$T/maildir/new")" ]; do sleep 0.1; i=$((i + 1)); done
check "after: watch takes new mail (its batch connects again)" test -z "$(ls "$T/maildir/new")"
n1=$(dbq main "SELECT count(*) FROM tickets")
check "after: watch stored the tickets ($n0 -> $n1)" test "$n1" -gt "$n0"

# 2. down: a request answers 503, never a wrong result
check "pg_ctl stop -m fast" pgctl stop -m fast
check "down: a check answers 503" test "$(post /v1/challenges/check '{"user_id": "U2002", "code": "000000"}')" = 503
contains "$T/vbody" '"error"' "down: the outcome is error"
check "down: a start answers 503" test "$(post /v1/challenges '{"user_id": "U3001"}')" = 503
st=$(req GET /)
check "down: the desk answers 503 ($st)" test "$st" = 503
# (restart also starts a stopped server, with the options it had)
check "pg_ctl start" pgctl restart 2>/dev/null
check "up again: the desk's queue" test "$(req GET /)" = 200
c=$(code_for U3001)
check "up again: a code is sent" test -n "$c"

# 3. checks in flight during a restart: each wrong code counted at most
# once, every answer denied or error
bad=$(printf '%06d' $(( (${c#0} + 1) % 1000000 )))
i=0 reqs=
while [ $i -lt 30 ]; do
	curl -s -m 20 -o "$T/fly.$i" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
	    --data-binary "{\"user_id\": \"U3001\", \"code\": \"$bad\"}" "$V/v1/challenges/check" >"$T/flys.$i" &
	reqs="$reqs $!"
	[ $i = 10 ] && { pgctl restart -m fast & rpid=$!; }
	sleep 0.02
	i=$((i + 1))
done
for j in $reqs; do wait "$j"; done
wait $rpid
denied=$(grep -l '"denied"' "$T"/fly.* | wc -l | tr -d ' ')
errors=$(grep -l '"error"' "$T"/fly.* | wc -l | tr -d ' ')
other=$(( 30 - denied - errors ))
check "in flight: every answer denied ($denied) or error ($errors)" test "$other" = 0
att=$(dbq main "SELECT attempts FROM challenges WHERE user_id = 'U3001' AND state = 'pending'")
check "in flight: attempts counted ($att) = denied answers, at most once each" \
    test "$att" -ge "$denied" -a "$att" -le $((denied + errors))
post /v1/challenges/check "{\"user_id\": \"U3001\", \"code\": \"$c\"}" >/dev/null
contains "$T/vbody" '"approved"' "in flight: the right code is approved after"
check "verifier still running" kill -0 $vpid
check "desk still running" kill -0 $desk_pid
check "watch still running" kill -0 $wpid
finish
