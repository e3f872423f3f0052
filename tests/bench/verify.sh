#!/bin/sh
# tests/bench/verify.sh - the verifier's HTTP service under load, on loopback:
# a database of 100,000 users (100 resellers with 2FA on, 1,000 users each,
# built with `tfadesk db import`), then wrk POSTing
#   1. starts  (POST /v1/challenges) for random users, for BENCH_START_SECS
#      (SMS to the spool; this leaves pending codes for the checks)
#   2. checks  (POST /v1/challenges/check) with random codes for random
#      users, for BENCH_SECS at BENCH_CONNS connections
# and prints requests/s and the p50/p99 latency of each, then the same
# check load against the floor, a bare libmicrohttpd server with as many
# threads answering fixed JSON (tests/bench/mhd_floor.c), and the ratios.
# Target (DESIGN/issue 6): >= 5,000 checks/s with p99 < 10 ms on 2 cores.
# Env: BENCH_USERS (100000) BENCH_SECS (10) BENCH_START_SECS (3)
#      BENCH_CONNS (8) BENCH_THREADS (verifier.threads, 4) VERIFY_PORT
#      BENCH_KEEP=1 keeps the scratch folder.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH="$TOP:$PATH"
command -v wrk >/dev/null || { echo "verify bench: wrk not installed (apt-get install wrk)"; exit 0; }
USERS=${BENCH_USERS:-100000}
SECS=${BENCH_SECS:-10}
START_SECS=${BENCH_START_SECS:-3}
CONNS=${BENCH_CONNS:-8}
THREADS=${BENCH_THREADS:-4}
PORT=${VERIFY_PORT:-18099}
W=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat > "$W/tfadesk.yaml" <<YAML
database: $W/var/bench.db
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
source: {type: maildir, path: $W/maildir}
security: {require_sender_auth: false}
sms: {transport: spool, spool: $W/var/sms}
verifier:
  threads: $THREADS
  resend_after_seconds: 30
  max_sends_per_hour: 5
  # wrk loads it from 127.0.0.1, sending for every user it picks
  max_sms_per_hour: 100000000
  max_connections_per_address: 1024
YAML

# 100 users per reseller... 1,000 per reseller, UK mobiles 074xx xxxxxx
awk -v n="$USERS" 'BEGIN {
	print "resellers:"
	per = 1000
	for (r = 0; r * per < n; r++) {
		printf "  - id: BR%d\n    name: Bench Reseller %d\n    twofa: true\n", r, r
		printf "    contacts: [noc%d@bench.example]\n    users:\n", r
		for (i = r * per; i < (r + 1) * per && i < n; i++)
			printf "      - {id: B%d, name: Bench User %d, phone: \"4474%08d\"}\n", i, i, i
	}
}' > "$W/accounts.yaml"
t0=$(date +%s)
tfadesk -c "$W/tfadesk.yaml" db init >/dev/null || exit 1
tfadesk -c "$W/tfadesk.yaml" db import "$W/accounts.yaml" >/dev/null || exit 1
echo "database: $USERS users imported in $(( $(date +%s) - t0 )) s"

cat > "$W/start.lua" <<LUA
local users = $USERS
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(os.time() * 1000 + seed) end
function request()
  return wrk.format("POST", "/v1/challenges",
    {["Content-Type"] = "application/json"},
    string.format('{"user_id": "B%d"}', math.random(0, users - 1)))
end
LUA
cat > "$W/check.lua" <<LUA
local users = $USERS
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(os.time() * 1000 + seed) end
function request()
  return wrk.format("POST", "/v1/challenges/check",
    {["Content-Type"] = "application/json"},
    string.format('{"user_id": "B%d", "code": "%06d"}',
      math.random(0, users - 1), math.random(0, 999999)))
end
LUA

tfadesk-verify -c "$W/tfadesk.yaml" serve --listen "127.0.0.1:$PORT" 2>"$W/serve.err" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "verify bench: serve did not start"; cat "$W/serve.err"; exit 1; }
	sleep 0.05
done

# summary NAME FILE: one line from wrk's --latency report
summary() {
	awk -v name="$1" '
	/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
	/Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
	/requests in/ { total = $1 }
	END { printf "%s: %d requests/s, p50 %s, p99 %s (%d requests, %d non-2xx)\n",
	    name, rps, p50, p99, total, bad }' "$2"
}
wrk -t2 -c"$CONNS" -d"${START_SECS}s" --latency -s "$W/start.lua" \
    "http://127.0.0.1:$PORT/" > "$W/start.out" 2>&1
summary "starts (SMS to the spool)" "$W/start.out"
pending=$(sqlite3 "$W/var/bench.db" "SELECT count(*) FROM challenges WHERE state = 'pending'" 2>/dev/null || echo "?")
echo "pending codes before the checks: $pending"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$W/check.lua" \
    "http://127.0.0.1:$PORT/" > "$W/check.out" 2>&1
summary "checks" "$W/check.out"
awk '/Requests\/sec/ { rps = $2 } /^ +99%/ { p99 = $2 } /Non-2xx|Socket errors/ { bad = 1 }
END {
	ms = p99; if (ms ~ /us$/) ms = ms / 1000; else if (ms ~ /ms$/) ms = ms + 0; else if (ms ~ /s$/) ms = ms * 1000
	printf "target >= 5000 checks/s with p99 < 10 ms, no errors: %s\n", (rps >= 5000 && ms < 10 && !bad) ? "met" : "NOT met"
}' "$W/check.out"
# the floor: a bare libmicrohttpd server with the same threads answering a
# fixed JSON outcome (tests/bench/mhd_floor.c), under the same load
FPORT=$((PORT - 1))
if cc -O2 -o "$W/mhd_floor" "$TOP/tests/bench/mhd_floor.c" \
    $(pkg-config --cflags --libs libmicrohttpd) 2>"$W/cc.err"; then
	"$W/mhd_floor" "$FPORT" "$THREADS" & fpid=$!
	i=0
	until curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$FPORT/"; do
		i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
	done
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$W/check.lua" \
	    "http://127.0.0.1:$FPORT/" > "$W/floor.out" 2>&1
	kill "$fpid"; wait "$fpid" 2>/dev/null
	summary "floor (bare libmicrohttpd, fixed JSON)" "$W/floor.out"
	awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	FNR == 1 { f++ } /Requests\/sec/ { rps[f] = $2 } /^ +99%/ { p99[f] = ms($2) }
	END { printf "checks vs floor: %.2fx the requests/s (target >= 0.4), p99 %.1fx the floor'"'"'s (target <= 2.5)\n",
	    rps[1] / rps[2], p99[1] / p99[2] }' "$W/check.out" "$W/floor.out"
else
	echo "floor: mhd_floor did not build:"; cat "$W/cc.err"
fi
[ -s "$W/serve.err" ] && { echo "serve's log:"; sort "$W/serve.err" | uniq -c | sort -rn | head -5; }
echo "(cores: $(nproc); connections: $CONNS; verifier.threads: $THREADS; wrk on the same machine)"
