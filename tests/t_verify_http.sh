#!/bin/sh
# t_verify_http.sh - tfadesk-verify serve: each endpoint and outcome, the
# 400s (bad JSON, wrong types, unknown fields), size limits, hostile bytes,
# a gateway failure (503), and concurrency: 50 parallel checks of one right
# code give exactly one approval. Port: VERIFY_PORT or the first free one
# in 18025..18099.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
C="$T/tfadesk.yaml"
# 24 SMS an hour in all; 100 connections per address (the parallel runs
# below come from 127.0.0.1)
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
PORT=${VERIFY_PORT:-$(free_port 18025 18099)}
URL=http://127.0.0.1:$PORT

tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT" 2>"$T/serve.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
check "serve answers" wait_http "$URL/healthz"

# req METHOD PATH [BODY]: prints "STATUS BODY" (one line)
req() {
	if [ $# -ge 3 ]; then
		curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "$URL$2" > "$T/status"
	else
		curl -s -o "$T/body" -w '%{http_code}' -X "$1" "$URL$2" \
		    > "$T/status"
	fi
	echo "$(cat "$T/status") $(tr -d '\n' < "$T/body")"
}
# expect_req DESCRIPTION "WANT" METHOD PATH [BODY]: exact status and body
expect_req() {
	d=$1 want=$2; shift 2
	got=$(req "$@")
	if [ "$got" = "$want" ]; then ok "$d"; else
		not_ok "$d: got '$got', wanted '$want'"; fi
}
# expect_400 DESCRIPTION BODY [PATH]
expect_400() {
	got=$(req POST "${3:-/v1/challenges}" "$2")
	case "$got" in
	'400 {"error": "'*'"}') ok "$1" ;;
	*) not_ok "$1: got '$got', wanted 400 with a JSON error" ;;
	esac
}

expect_req "GET /healthz" '200 {"status": "ok"}' GET /healthz
curl -s -D "$T/headers" -o /dev/null "$URL/healthz"
contains "$T/headers" "Content-Type: application/json" "JSON content type"

# start: each outcome
expect_req "not_required" '200 {"outcome": "not_required"}' POST /v1/challenges '{"user_id": "U5"}'
expect_req "unknown_user" '200 {"outcome": "unknown_user"}' POST /v1/challenges '{"user_id": "U999"}'
expect_req "blocked" '200 {"outcome": "blocked"}' POST /v1/challenges '{"user_id": "U3"}'
got=$(req POST /v1/challenges '{"user_id": "U2"}')
case "$got" in
'200 {"outcome": "no_mobile", "message": "'*reseller*'"}') ok "no_mobile with the lockout message" ;;
*) not_ok "no_mobile: got '$got'" ;;
esac
expect_req "sent" '200 {"outcome": "sent"}' POST /v1/challenges '{"user_id": "U1"}'
set -- $(take_sms "$SMS"); code=${2:-x}
check "SMS spooled to the user's number" test "${1:-}" = 447400123456
expect_req "rate_limited: cooldown, retry_after 30" '200 {"outcome": "rate_limited", "reason": "cooldown", "retry_after": 30}' POST /v1/challenges '{"user_id": "U1"}'

# check
wrong=$(printf '%06d' $(( (1${code} + 1) % 1000000 )))
expect_req "denied" '200 {"outcome": "denied"}' POST /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$wrong\"}"
expect_req "approved" '200 {"outcome": "approved"}' POST /v1/challenges/check "{\"code\": \"$code\", \"user_id\": \"U1\"}"
expect_req "replay: denied" '200 {"outcome": "denied"}' POST /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$code\"}"
# expiry: a code sent 400 s ago (by the CLI, at another time)
TFADESK_NOW=$((NOW - 400)) tfadesk-verify -c "$C" start U4 >/dev/null
set -- $(take_sms "$SMS"); code4=${2:-x}
expect_req "expired" '200 {"outcome": "expired"}' POST /v1/challenges/check "{\"user_id\": \"U4\", \"code\": \"$code4\"}"

# bad requests
expect_400 "not JSON" 'user_id=U1'
expect_400 "truncated JSON" '{"user_id": "U1"'
expect_400 "empty body" ''
expect_400 "an array" '["U1"]'
expect_400 "a string" '"U1"'
expect_400 "user_id a number" '{"user_id": 1001}'
expect_400 "user_id null" '{"user_id": null}'
expect_400 "user_id an object" '{"user_id": {"id": "U1"}}'
expect_400 "code a number" '{"user_id": "U1", "code": 123456}' /v1/challenges/check
expect_400 "code missing" '{"user_id": "U1"}' /v1/challenges/check
expect_400 "user_id missing" '{}'
expect_400 "unknown field" '{"user_id": "U1", "admin": true}'
expect_400 "code given to start" '{"user_id": "U1", "code": "1"}'
expect_400 "duplicate key" '{"user_id": "U5", "user_id": "U1"}'
expect_400 "NUL in a string" '{"user_id": "U1\u0000x"}'
expect_400 "user_id with a newline" '{"user_id": "U1\nX"}'
expect_400 "user_id too long" "{\"user_id\": \"$(printf '%0200d' 0)\"}"
expect_400 "code too long" "{\"user_id\": \"U1\", \"code\": \"$(printf '%040d' 0)\"}" /v1/challenges/check
expect_400 "invalid UTF-8" "$(printf '{"user_id": "U\377"}')"
expect_400 "trailing garbage" '{"user_id": "U1"} x'
expect_400 "code a negative number" '{"user_id": "U1", "code": -123456}' /v1/challenges/check
expect_400 "code a float" '{"user_id": "U1", "code": 123456.0}' /v1/challenges/check
expect_400 "code a huge number" '{"user_id": "U1", "code": 1e999}' /v1/challenges/check
expect_400 "code a 30-digit integer" '{"user_id": "U1", "code": 123456789012345678901234567890}' /v1/challenges/check
expect_400 "code null" '{"user_id": "U1", "code": null}' /v1/challenges/check
# a body of exactly 4096 bytes is read, one of 4097 is not
pad=$(head -c 4079 /dev/zero | tr '\0' ' ')
expect_req "body of 4096 bytes: read" '200 {"outcome": "not_required"}' POST /v1/challenges "{\"user_id\": \"U5\"$pad}"
expect_req "body of 4097 bytes: 413" '413 {"error": "request body too large"}' POST /v1/challenges "{\"user_id\": \"U5\" $pad}"
big=$(head -c 6000 /dev/zero | tr '\0' 'a')
got=$(req POST /v1/challenges "{\"user_id\": \"$big\"}")
case "$got" in 413*) ok "body over the limit: 413" ;; *) not_ok "big body: $got" ;; esac
curl -s -o "$T/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary "{\"user_id\": \"$big\"}" "$URL/v1/challenges" > "$T/status"
check "chunked body over the limit: 413" test "$(cat "$T/status")" = 413
code_h=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' 'a')" "$URL/healthz")
case "$code_h" in 4*) ok "huge header refused ($code_h)" ;; *) not_ok "huge header: $code_h" ;; esac
expect_req "unknown path: 404" '404 {"error": "not found"}' GET /v1/nope
expect_req "GET a POST endpoint: 405" '405 {"error": "method not allowed"}' GET /v1/challenges
expect_req "POST /healthz: 405" '405 {"error": "method not allowed"}' POST /healthz '{}'

# hostile bytes on the socket, then the service still answers
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 - "$PORT" <<'PY'
import os, socket, sys
port = int(sys.argv[1])
junk = [b"\x00\xff" * 4000, b"GET /" + b"A" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"POST /v1/challenges HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /v1/challenges HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /v1/challenges HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        os.urandom(3000)]
for j in junk:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        s.sendall(j); s.recv(4096)
    except OSError:
        pass
    s.close()
PY
fi
expect_req "still up after hostile input" '200 {"status": "ok"}' GET /healthz

# slowloris from one address (127.0.0.2): 1100 connections that trickle
# header bytes; the portal (127.0.0.1) still gets in at once
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 - "$PORT" > "$T/slow" <<'PY'
import resource, socket, subprocess, sys, time
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
socks = []
for i in range(1100):
    try:
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        s.send(b"POST /v1/challenges HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        break
time.sleep(1)
for s in socks:
    try:
        s.send(b"X-A: b\r\n")
    except OSError:
        pass
r = subprocess.run(["curl", "-s", "-m", "3", "-o", "/dev/null", "-w",
                    "%{http_code}", "http://127.0.0.1:%d/healthz" % port],
                   capture_output=True, text=True)
print(r.stdout)
for s in socks:
    s.close()
PY
	check "slowloris from one address: others still served ($(cat "$T/slow"))" \
	    test "$(cat "$T/slow")" = 200
fi

# hold PORT ADDR N: opens N connections from ADDR that send half a request
# and wait; prints how many the service kept open, then the status a full
# request gets from ADDR and from 127.0.0.1 while they are held ("000":
# the connection was closed at once)
hold() {
	/usr/bin/python3 - "$@" <<'PY'
import resource, socket, subprocess, sys, time
port, addr, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
socks = []
for i in range(n):
    s = socket.socket()
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    s.send(b"POST /v1/challenges HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(1)
held = 0
for s in socks:
    s.setblocking(False)
    try:
        held += s.recv(1) != b""   # data: not expected
    except BlockingIOError:
        held += 1                   # still open, nothing to read
    except OSError:
        pass                        # reset: refused
def get(src):
    r = subprocess.run(["curl", "-s", "-m", "3", "-o", "/dev/null", "-w",
        "%{http_code}", "--interface", src,
        "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
    return r.stdout
print(held, get(addr), get("127.0.0.1"))
for s in socks:
    s.close()
PY
}
if [ -x /usr/bin/python3 ]; then
	# verifier.max_connections_per_address: 100 (this config)
	set -- $(hold "$PORT" 127.0.0.3 120)
	check "120 connections from one address: 100 kept (${1:-})" test "${1:-}" = 100
	check "... a 101st request from it is refused (${2:-})" test "${2:-}" = 000
	check "... another address is served (${3:-})" test "${3:-}" = 200
	served3() { test "$(curl -s -m 3 -o /dev/null -w '%{http_code}' --interface 127.0.0.3 "$URL/healthz")" = 200; }
	check "the connections closed: that address is served again" \
	    wait_for 10 served3
fi

# concurrency: 50 parallel checks of one right code, exactly one approval
# (not "wait": the server is a child too)
wait_jobs() { for j in $pids; do wait "$j"; done; pids=; }
# 20 parallel starts for one user: exactly one SMS (a send under way
# counts for the cool-down), the others rate_limited
mkdir -p "$T/par"
i=0 pids=
while [ $i -lt 20 ]; do
	curl -s -o "$T/par/$i" --data-binary '{"user_id": "U6"}' \
	    "$URL/v1/challenges" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_jobs
n_ok=$(cat "$T"/par/* | grep -c '"sent"')
n_rl=$(cat "$T"/par/* | grep -c '"rate_limited"')
check "20 parallel starts: exactly 1 sent ($n_ok)" test "$n_ok" = 1
check "... and 19 rate_limited ($n_rl)" test "$n_rl" = 19
check "... and exactly one SMS" test "$(sms_count "$SMS")" = 1
set -- $(take_sms "$SMS"); code6=${2:-x}
rm -f "$T"/par/*
i=0 pids=
while [ $i -lt 50 ]; do
	curl -s -o "$T/par/$i" -H 'Content-Type: application/json' \
	    --data-binary "{\"user_id\": \"U6\", \"code\": \"$code6\"}" \
	    "$URL/v1/challenges/check" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_jobs
n_ok=$(cat "$T"/par/* | grep -c '"approved"')
n_no=$(cat "$T"/par/* | grep -c '"denied"')
check "50 parallel right checks: exactly 1 approved ($n_ok)" test "$n_ok" = 1
check "... and 49 denied ($n_no)" test "$n_no" = 49

# 50 parallel wrong checks: exactly max_attempts counted, the rest locked
TFADESK_NOW=$((NOW + 100)) tfadesk-verify -c "$C" start U6 >/dev/null
set -- $(take_sms "$SMS"); code6=${2:-x}
wrong=$(printf '%06d' $(( (1${code6} + 3) % 1000000 )))
rm -f "$T"/par/*
i=0
while [ $i -lt 50 ]; do
	curl -s -o "$T/par/$i" --data-binary "{\"user_id\": \"U6\", \"code\": \"$wrong\"}" \
	    "$URL/v1/challenges/check" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_jobs
n_no=$(cat "$T"/par/* | grep -c '"denied"')
n_lk=$(cat "$T"/par/* | grep -c '"locked"')
check "50 parallel wrong checks: 4 denied ($n_no)" test "$n_no" = 4
check "... and 46 locked ($n_lk)" test "$n_lk" = 46
expect_req "locked, even the right code" '200 {"outcome": "locked"}' POST /v1/challenges/check "{\"user_id\": \"U6\", \"code\": \"$code6\"}"

# verifier.max_sms_per_hour across many user IDs: 4 SMS sent so far in
# the hour (U1, U4 at NOW - 400, U6 twice), 30 users at once: exactly 20
# more, the other 10 global_limit until U4's send leaves the hour
awk 'BEGIN { print "resellers:\n  - id: RP\n    name: Pump\n    twofa: true\n    users:"
	for (i = 1; i <= 30; i++)
		printf "      - {id: P%d, name: Pump %d, phone: \"074005%05d\"}\n", i, i, i }' \
    > "$T/pump.yaml"
check "30 more users" tfadesk -c "$C" db import "$T/pump.yaml"
rm -f "$T"/par/*
for f in "$SMS"/new/*; do [ -f "$f" ] && mv "$f" "$SMS/cur/"; done
i=1 pids=
while [ $i -le 30 ]; do
	curl -s -o "$T/par/$i" --data-binary "{\"user_id\": \"P$i\"}" \
	    "$URL/v1/challenges" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_jobs
n_ok=$(cat "$T"/par/* | grep -c '"sent"')
n_gl=$(cat "$T"/par/* | grep -cF '{"outcome": "rate_limited", "reason": "global_limit", "retry_after": 3201}')
check "30 users at once under a cap of 24 an hour: 20 sent ($n_ok)" test "$n_ok" = 20
check "... 10 global_limit, retry_after 3201 ($n_gl)" test "$n_gl" = 10
check "... and exactly 20 SMS written" test "$(sms_count "$SMS")" = 20

# codes single use and attempts counted exactly across processes: two more
# serve processes on the same files (each commits its checks in batches)
# and the CLI check one code at once: one right code, exactly one
# approval; wrong codes, exactly max_attempts - 1 denied, the rest locked
sed 's/max_sms_per_hour: 24/max_sms_per_hour: 1000/' "$C" > "$T/two.yaml"
LATER=$((NOW + 7200))
P2=$(free_port $((PORT + 1)) $((PORT + 40)))
TFADESK_NOW=$LATER tfadesk-verify -c "$T/two.yaml" serve --listen "127.0.0.1:$P2" 2>"$T/serveB.err" &
pidB=$!
at_exit "kill $pidB 2>/dev/null"
check "a second serve answers" wait_http "http://127.0.0.1:$P2/healthz"
P3=$(free_port $((P2 + 1)) $((PORT + 40)))
TFADESK_NOW=$LATER tfadesk-verify -c "$T/two.yaml" serve --listen "127.0.0.1:$P3" 2>"$T/serveC.err" &
pidC=$!
at_exit "kill $pidC 2>/dev/null"
check "a third serve answers" wait_http "http://127.0.0.1:$P3/healthz"
# three_ways CODE: 15 checks of P1's CODE at each serve, 10 by the CLI
three_ways() {
	rm -f "$T"/par/*
	i=0 pids=
	while [ $i -lt 40 ]; do
		case $((i % 4)) in
		0) TFADESK_NOW=$LATER tfadesk-verify -c "$T/two.yaml" check P1 "$1" > "$T/par/$i" 2>/dev/null & ;;
		1|3) curl -s -o "$T/par/$i" --data-binary "{\"user_id\": \"P1\", \"code\": \"$1\"}" \
		    "http://127.0.0.1:$P2/v1/challenges/check" & ;;
		2) curl -s -o "$T/par/$i" --data-binary "{\"user_id\": \"P1\", \"code\": \"$1\"}" \
		    "http://127.0.0.1:$P3/v1/challenges/check" & ;;
		esac
		pids="$pids $!"
		i=$((i + 1))
	done
	wait_jobs
}
for f in "$SMS"/new/*; do [ -f "$f" ] && mv "$f" "$SMS/cur/"; done
TFADESK_NOW=$LATER tfadesk-verify -c "$T/two.yaml" start P1 >/dev/null
set -- $(take_sms "$SMS"); codeP=${2:-x}
three_ways "$codeP"
n_ok=$(cat "$T"/par/* | grep -c 'approved')
n_no=$(cat "$T"/par/* | grep -c 'denied')
check "two serves and the CLI, 40 right checks: exactly 1 approved ($n_ok)" test "$n_ok" = 1
check "... and 39 denied ($n_no)" test "$n_no" = 39
check "... one approval in the audit log" test "$(dbq verifier "SELECT count(*) FROM audit WHERE \"user\" = 'P1' AND action = 'verify.approved'")" = 1
TFADESK_NOW=$((LATER + 100)) tfadesk-verify -c "$T/two.yaml" start P1 >/dev/null
set -- $(take_sms "$SMS"); codeP=${2:-x}
wrong=$(printf '%06d' $(( (1${codeP} + 7) % 1000000 )))
three_ways "$wrong"
n_no=$(cat "$T"/par/* | grep -c 'denied')
n_lk=$(cat "$T"/par/* | grep -c 'locked')
check "two serves and the CLI, 40 wrong checks: 4 denied ($n_no)" test "$n_no" = 4
check "... and 36 locked ($n_lk)" test "$n_lk" = 36
kill -TERM $pidB $pidC; wait $pidB; rcB=$?; wait $pidC; rcC=$?
check "both stop on SIGTERM ($rcB $rcC)" test "$rcB$rcC" = 00
[ "$rcB$rcC" = 00 ] || tail -n 20 "$T/serveB.err" "$T/serveC.err" | sed 's/^/    /'

# the database file gone (deleted, renamed, restored over): /healthz says so
# although the open connection still works (SQLite: a file's fate)
if [ "$ON_PG" = 0 ]; then
mv "$T/var/tfadesk.db" "$T/var/moved.db"
expect_req "database moved away: healthz 503" '503 {"status": "unavailable", "reason": "main database: No such file or directory"}' GET /healthz
cp "$T/var/moved.db" "$T/var/tfadesk.db"
expect_req "another file in its place: healthz 503" '503 {"status": "unavailable", "reason": "main database: replaced since serve opened it"}' GET /healthz
mv -f "$T/var/moved.db" "$T/var/tfadesk.db"
expect_req "database back: healthz 200" '200 {"status": "ok"}' GET /healthz
fi

# stop: SIGTERM ends it with status 0
kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM stops serve with status 0 ($rc)" test "$rc" = 0
lacks "$T/serve.err" "$code" "the log never shows a code"

# a gateway failure: 503 with outcome error, and the code is not usable
cat > "$T/down.yaml" <<YAML
database: $DB_URI
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
source: {type: maildir, path: $T/maildir}
security: {require_sender_auth: false}
sms: {transport: http, preset: kannel, url: "http://127.0.0.1:9/cgi-bin/sendsms", timeout: 2}
verifier: {resend_after_seconds: 0}
YAML
TFADESK_NOW=$((NOW + 200)); export TFADESK_NOW
tfadesk-verify -c "$T/down.yaml" serve --listen "127.0.0.1:$PORT" 2>"$T/serve2.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
check "serve (gateway down) answers" wait_http "$URL/healthz"
curl -s -D "$T/headers" -o "$T/body" --data-binary '{"user_id": "U6"}' "$URL/v1/challenges"
contains "$T/headers" "503" "gateway down: 503"
contains "$T/headers" "Retry-After" "gateway down: Retry-After"
contains "$T/body" '"outcome": "error"' "gateway down: outcome error"
st=$(dbq verifier "SELECT state || ',' || CASE WHEN code_hash IS NULL THEN 1 ELSE 0 END FROM challenges WHERE user_id = 'U6'")
check "failed send leaves no usable code ($st)" test "$st" = "failed,1"
if [ -x /usr/bin/python3 ]; then
	# the default cap: 64 connections per address (a sixteenth of 1024)
	set -- $(hold "$PORT" 127.0.0.3 80)
	check "default: 80 connections from one address, 64 kept (${1:-})" test "${1:-}" = 64
	check "... the 65th request refused (${2:-})" test "${2:-}" = 000
	check "... another address served (${3:-})" test "${3:-}" = 200
fi
kill -TERM $pid; wait $pid

finish
