#!/bin/sh
# t_verify_ops.sh - tfadesk-verify serve in operation, as an unprivileged
# user (root ignores file modes: nobody through setpriv, as t_secrets.sh):
#  1. a slow SMS gateway (3 s) holds only the starts waiting on it: with
#     eight starts at the gateway, a check and /healthz answer at once;
#  2. SIGTERM answers every request in flight, sends no SMS for a start
#     that arrives while it stops (503, Retry-After), and exits 0;
#  3. /healthz tells the truth: 503 with a reason for a read-only or
#     unreadable file, a folder gone, a schema too new; 200 again after;
#  4. the verifier never writes the main database file.
# Ports: VERIFY_PORT (serve), the gateway the first free one after it.
. "$(dirname "$0")/lib.sh"
sqlite_only "the verifier's own file beside the main one, its modes and /healthz on files"
. "$(dirname "$0")/verify-lib.sh"
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "/usr/bin/python3 missing"; exit 77; }
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "setpriv not installed"; exit 77; }
	AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
else
	AS=
fi
as_me() { $AS "$@"; }
wait_jobs() { for j in $pids; do wait "$j"; done; pids=; }
mine() { [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$@"; return 0; }

PORT=${VERIFY_PORT:-$(free_port 18025 18099)}
URL=http://127.0.0.1:$PORT
GW=$(free_port $((PORT + 1)) $((PORT + 60)))
W=$T/w
mkdir -p "$W"
chmod 755 "$T"
GLOG=$W/gateway.jsonl
/usr/bin/python3 "$TOP/tests/servers/fake_sms_gateway.py" "$GW" "$GLOG" 201 3 \
    2>"$T/gw.err" &
gwpid=$!
at_exit "kill $gwpid 2>/dev/null"

C=$W/tfadesk.yaml
cat > "$C" <<YAML
database: $W/var/tfadesk.db
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
default_country: GB
source: {type: maildir, path: $W/maildir}
security: {require_sender_auth: false}
sms:
  transport: http
  preset: twilio
  url: http://127.0.0.1:$GW/2010-04-01/Accounts/AC1/Messages.json
  user: AC1
  password_file: $W/token
  from: '+441234567890'
  timeout: 10
verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
  threads: 2
YAML
printf 'tok\n' > "$W/token"
chmod 600 "$W/token"
awk 'BEGIN { print "resellers:\n  - id: RP\n    name: Ops\n    twofa: true\n    users:"
	for (i = 1; i <= 20; i++)
		printf "      - {id: P%d, name: Ops %d, phone: \"074005%05d\"}\n", i, i, i }' \
    > "$W/accounts.yaml"
mine "$W"
chmod 700 "$W"
check "db init as nobody" as_me tfadesk -c "$C" db init
check "db import" as_me tfadesk -c "$C" db import "$W/accounts.yaml"
check "the verifier's own file beside the main one" test -f "$W/var/tfadesk-verify.db"
n=$(sqlite3 "$W/var/tfadesk.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('challenges', 'sms_log')")
check "no verifier table in the main file ($n)" test "$n" = 0
sum_main() { sqlite3 "$W/var/tfadesk.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null; md5sum < "$W/var/tfadesk.db"; }
main_before=$(sum_main)

serve() {
	$AS tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT" 2>>"$T/serve.err" &
	pid=$!
	at_exit "kill $pid 2>/dev/null"
	wait_http "$URL/healthz" || { cat "$T/serve.err"; return 1; }
}
# timed PATH [BODY]: "STATUS SECONDS BODY"
timed() {
	if [ $# -ge 2 ]; then
		curl -s -m 20 -o "$T/tb" -w '%{http_code} %{time_total}' --data-binary "$2" "$URL$1" > "$T/ts"
	else
		curl -s -m 20 -o "$T/tb" -w '%{http_code} %{time_total}' "$URL$1" > "$T/ts"
	fi
	echo "$(cat "$T/ts") $(tr -d '\n' < "$T/tb")"
}
under1() { awk -v t="$1" 'BEGIN { exit !(t < 1.0) }'; }
until curl -s -o /dev/null "http://127.0.0.1:$GW/"; do sleep 0.05; done
rm -f "$GLOG"

# 1. a slow gateway: eight starts wait on it, nothing else does
check "serve as nobody" serve
mkdir -p "$T/par"
pids=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -m 20 -o "$T/par/$i" --data-binary "{\"user_id\": \"P$i\"}" "$URL/v1/challenges" &
	pids="$pids $!"
done
sleep 0.5
set -- $(timed /v1/challenges/check '{"user_id": "P20", "code": "000000"}')
st=${1:-} t=${2:-9}
check "a check while the gateway is busy: $st in $t s (< 1 s)" eval 'test "$st" = 200 && under1 "$t"'
set -- $(timed /healthz)
st=${1:-} t=${2:-9}
check "/healthz while the gateway is busy: $st in $t s (< 1 s)" eval 'test "$st" = 200 && under1 "$t"'
n=$(cat "$T"/par/* 2>/dev/null | wc -c)
check "... all that before any start was answered ($n bytes)" test "$n" = 0
check "eight starts at the gateway at once ($(cat "$GLOG" 2>/dev/null | wc -l))" test "$(wc -l < "$GLOG")" = 8
wait_jobs
n=$(cat "$T"/par/* | grep -c '"sent"')
check "the eight starts: sent ($n)" test "$n" = 8

# 2. SIGTERM: in-flight starts answered, a late one refused without a send
rm -f "$GLOG" "$T"/par/*
pids=
for i in 9 10 11 12; do
	curl -s -m 20 -o "$T/par/$i" --data-binary "{\"user_id\": \"P$i\"}" "$URL/v1/challenges" &
	pids="$pids $!"
done
# a start whose body is still on its way when serve is told to stop
/usr/bin/python3 - "$PORT" "$T/late" "$T/late.go" <<'PY' &
import os, socket, sys, time
port, out, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = b'{"user_id": "P13"}'
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/challenges HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
open(out + ".on", "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
s.sendall(body)
data = b""
s.settimeout(20)
while True:
    try:
        d = s.recv(4096)
    except OSError:
        break
    if not d:
        break
    data += d
open(out, "wb").write(data)
PY
late=$!
i=0
while { [ "$(cat "$GLOG" 2>/dev/null | wc -l)" -lt 4 ] || [ ! -f "$T/late.on" ]; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
# stopping once it takes no new connection (not a fixed sleep: a race)
refused() { test "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/healthz")" = 000; }
wait_for 10 refused
touch "$T/late.go"
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/healthz")
check "stopping: no new connections ($code)" test "$code" = 000
wait $pid; rc=$?
check "SIGTERM: serve exits 0 ($rc)" test "$rc" = 0
wait_jobs
wait $late
n=$(cat "$T"/par/* | grep -c '"sent"')
check "the four starts in flight answered: sent ($n)" test "$n" = 4
contains "$T/late" "503 Service Unavailable" "a start that arrived while stopping: 503"
contains "$T/late" "Retry-After" "... with Retry-After"
contains "$T/late" '"error": "shutting down"' "... saying why"
check "gateway: an SMS for each answered send only ($(wc -l < "$GLOG") for $n)" test "$(wc -l < "$GLOG")" = "$n"
lacks "$GLOG" "005000013" "no SMS for the late start"

# 3. /healthz tells the truth
V=$W/var/tfadesk-verify.db
check "serve again" serve
hz() { curl -s -o "$T/hb" -w '%{http_code}' "$URL/healthz"; echo " $(tr -d '\n' < "$T/hb")"; }
expect_hz() { # DESCRIPTION WANT
	got=$(hz)
	if [ "$got" = "$2" ]; then ok "$1"; else not_ok "$1: got '$got', wanted '$2'"; fi
}
expect_hz "healthy: 200" '200 {"status": "ok"}'
chmod 440 "$V"
expect_hz "verifier file read-only: 503" '503 {"status": "unavailable", "reason": "verifier database: not writable"}'
chmod 640 "$V"
expect_hz "writable again: 200" '200 {"status": "ok"}'
chmod 000 "$W/var/tfadesk.db"
expect_hz "main file unreadable: 503" '503 {"status": "unavailable", "reason": "main database: not readable"}'
chmod 640 "$W/var/tfadesk.db"
mv "$W/var" "$W/gone"
expect_hz "folder gone: 503" '503 {"status": "unavailable", "reason": "main database: No such file or directory"}'
mv "$W/gone" "$W/var"
expect_hz "folder back: 200" '200 {"status": "ok"}'
sqlite3 "$V" "PRAGMA user_version = 99"
sleep 1.1
expect_hz "schema too new: 503" '503 {"status": "unavailable", "reason": "verifier database: schema version 99, this tfadesk-verify knows 1"}'
sqlite3 "$V" "PRAGMA user_version = 1"
sleep 1.1
expect_hz "schema back: 200" '200 {"status": "ok"}'
kill -TERM $pid; wait $pid
# started on a read-only file: every write would fail
chmod 440 "$V"
check "serve on a read-only verifier file" serve
expect_hz "... healthz 503" '503 {"status": "unavailable", "reason": "verifier database: not writable"}'
kill -TERM $pid; wait $pid
chmod 640 "$V"

# 4. nothing of the verifier's went into the main file
check "the main database file unchanged by the verifier" test "$(sum_main)" = "$main_before"

finish
