#!/bin/sh
# tests/bench/pg.sh - both backends side by side (issue 13 item 6), on a
# private PostgreSQL 15 cluster (tests/pg-lib.sh: Unix socket, fsync off,
# synchronous_commit off) and on SQLite (WAL, synchronous = NORMAL):
#   1. verifier checks over HTTP, the load of verify.sh (wrk -t2, random
#      users, random codes, BENCH_USERS users, BENCH_CHALLENGES pending
#      codes made first, one start each for distinct users), on SQLite, on
#      PostgreSQL with one verifier and with two verifiers (two `serve` on
#      two ports, one wrk thread and half the connections at each); each
#      printed beside a floor measured just before it in the same run: the
#      bare libmicrohttpd server (tests/bench/mhd_floor.c), one process
#      (two for two verifiers, the load split the same way)
#   2. a batch of BENCH_BATCH (10,000) tickets: `tfadesk batch` (fetch
#      from a maildir, process, send to the spool) of the realistic mix of
#      process.sh on each backend: tickets/s wall, per CPU second of
#      tfadesk, and per CPU second of tfadesk plus the server's (every
#      postgres process, from /proc), peak RSS.
# The machine is shared: read the ratios, and the load average printed.
# Env: BENCH_QUICK=1 (10,000 users, 3 s runs, 2,000 tickets),
#      BENCH_USERS (100000) BENCH_CHALLENGES (1000) BENCH_SECS (10)
#      BENCH_CONNS (8) BENCH_THREADS (verifier.threads, 4) BENCH_BATCH
#      (10000) VERIFY_PORT (this bench takes it and the three below it)
#      BENCH_KEEP=1 keeps the scratch folder.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH="$TOP:$PATH"
. "$TOP/tests/pg-lib.sh"
command -v wrk >/dev/null || { echo "pg bench: wrk not installed (apt-get install wrk)"; exit 0; }
[ -x "$PG_BIN/initdb" ] || { echo "pg bench: no PostgreSQL in $PG_BIN (make deps)"; exit 0; }
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	USERS=${BENCH_USERS:-10000} SECS=${BENCH_SECS:-3} NBATCH=${BENCH_BATCH:-2000}
else
	USERS=${BENCH_USERS:-100000} SECS=${BENCH_SECS:-10} NBATCH=${BENCH_BATCH:-10000}
fi
NCHAL=${BENCH_CHALLENGES:-1000}
CONNS=${BENCH_CONNS:-8}
THREADS=${BENCH_THREADS:-4}
PORT=${VERIFY_PORT:-18099}
P2=$((PORT - 1)) FP1=$((PORT - 2)) FP2=$((PORT - 3))
W=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX")
chmod 755 "$W"
pids=
stop() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; pids=; }
cleanup() {
	stop
	pg_stop
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pg_start || { echo "pg bench: the PostgreSQL cluster did not start"; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at the start: $(load); cores: $(nproc)"

# cpu_ticks PID...: user + system clock ticks of the processes so far
cpu_ticks() {
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
	    awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
# pg_ticks: every postgres process's CPU so far: the postmaster's own and
# its reaped children's (a backend that ended: cutime, cstime), plus the
# live children's
pg_ticks() {
	pm=$(head -1 "$TFADESK_PG_DIR/data/postmaster.pid")
	for s in /proc/[0-9]*/stat; do cat "$s" 2>/dev/null; done |
	    awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, "")
		if (pid == pm) t += $12 + $13 + $14 + $15
		else if ($2 == pm) t += $12 + $13 } END { print t + 0 }'
}
TCK=$(getconf CLK_TCK)

cc -O2 -o "$W/mhd_floor" "$TOP/tests/bench/mhd_floor.c" \
    $(pkg-config --cflags --libs libmicrohttpd) 2>"$W/cc.err" ||
    { echo "pg bench: mhd_floor did not build:"; cat "$W/cc.err"; exit 1; }

# the users of verify.sh: 1,000 a reseller, 2FA on, UK mobiles
awk -v n="$USERS" -f "$TOP/tests/bench/accounts.awk" > "$W/accounts.yaml"

# config NAME DATABASE: $W/NAME/tfadesk.yaml
config() {
	mkdir -p "$W/$1/var"
	echo "$2" > "$W/$1/database"
	cat > "$W/$1/tfadesk.yaml" <<YAML
database: $2
default_country: GB
rules: $TOP/rules/tickets.yaml
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
reply: {from: "Support <support@500.uk.com>", transport: spool, spool: $W/$1/var/outbox}
source: {type: maildir, path: $W/$1/maildir}
security: {require_sender_auth: true, authserv_id: mx.500.uk.com}
sms: {transport: spool, spool: $W/$1/var/sms}
verifier:
  threads: $THREADS
  resend_after_seconds: 30
  max_sends_per_hour: 5
  max_sms_per_hour: 100000000
  max_connections_per_address: 1024
YAML
}

cat > "$W/start.lua" <<LUA
-- one start each for users 0, stride, 2 stride, ...: exactly $NCHAL
local users, nchal = $USERS, $NCHAL
local stride = math.max(1, math.floor(users / nchal))
local k, threads = 0, {}
function setup(thread) k = k + 1; thread:set("first", k - 1); thread:set("step", 2) end
function init(args) nxt = first; left = math.ceil((nchal - first) / step) end
function request()
  local u = nxt; nxt = nxt + step
  return wrk.format("POST", "/v1/challenges", {["Content-Type"] = "application/json"},
    string.format('{"user_id": "B%d"}', (u * stride) % users))
end
function response(status, headers, body)
  left = left - 1
  if left <= 0 then wrk.thread:stop() end
end
LUA
# check.lua A [B]: verify.sh's checks; with two addresses, thread 1 loads
# port A and thread 2 port B
check_lua() {
	cat <<LUA
local users = $USERS
local ports = {"$1", "${2:-$1}"}
local k = 0
function setup(thread)
  k = k + 1; thread:set("seed", k)
  thread.addr = wrk.lookup("127.0.0.1", ports[(k - 1) % 2 + 1])[1]
end
function init(args) math.randomseed(os.time() * 1000 + seed) end
function request()
  return wrk.format("POST", "/v1/challenges/check",
    {["Content-Type"] = "application/json"},
    string.format('{"user_id": "B%d", "code": "%06d"}',
      math.random(0, users - 1), math.random(0, 999999)))
end
LUA
}
# sql NAME QUERY: one value from NAME's database (its verifier's file on
# SQLite)
sql() {
	db=$(cat "$W/$1/database")
	case $db in
	postgresql:*) "$PG_BIN/psql" -XAtq -c "$2" "$db" ;;
	*) sqlite3 "$db" "$2" ;;
	esac 2>/dev/null || echo "?"
}
# wait_up URL
wait_up() {
	i=0
	until curl -s -o /dev/null -X POST -d '{}' "$1"; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
	done
}
# run NAME LUA: wrk's check load for BENCH_SECS into $W/NAME.out
run() {
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$2" \
	    "http://127.0.0.1:$PORT/" > "$W/$1.out" 2>&1
}
# figures FILE: "RPS P50MS P99MS REQUESTS ERRORS"
figures() {
	awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /Requests\/sec/ { rps = $2 }
	/requests in/ { n = $1 } /Non-2xx/ { bad += $NF } /Socket errors/ { bad += 1 }
	END { printf "%d %.2f %.2f %d %d\n", rps, p50, p99, n, bad }' "$1"
}
# floor N LUA: N bare libmicrohttpd servers (ports FP1, FP2) under the
# load; sets FLOOR ("RPS P50 P99 N ERR") and FCPU (us a request)
floor() {
	"$W/mhd_floor" "$FP1" "$THREADS" & fp="$!"
	[ "$1" = 2 ] && { "$W/mhd_floor" "$FP2" "$THREADS" & fp="$fp $!"; }
	wait_up "http://127.0.0.1:$FP1/"
	[ "$1" = 1 ] || wait_up "http://127.0.0.1:$FP2/"
	c0=$(cpu_ticks $fp)
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$2" \
	    "http://127.0.0.1:$FP1/" > "$W/floor$1.out" 2>&1
	c1=$(cpu_ticks $fp)
	kill $fp; for p in $fp; do wait "$p" 2>/dev/null; done
	FLOOR=$(figures "$W/floor$1.out")
	FCPU=$(echo $FLOOR | awk -v c=$((c1 - c0)) -v t="$TCK" '{ printf "%.0f", $4 ? c * 1e6 / t / $4 : 0 }')
}
check_lua "$FP1" > "$W/floor1.lua"
check_lua "$FP1" "$FP2" > "$W/floor2.lua"
check_lua "$PORT" > "$W/check1.lua"
check_lua "$PORT" "$P2" > "$W/check2.lua"

# import NAME: NAME's database with the users
import() {
	t0=$(date +%s)
	tfadesk -c "$W/$1/tfadesk.yaml" db init >/dev/null &&
	    tfadesk -c "$W/$1/tfadesk.yaml" db import "$W/accounts.yaml" >/dev/null ||
	    { echo "$1: db init/import failed"; return 1; }
	echo "$1: $USERS users imported in $(( $(date +%s) - t0 )) s"
}
# verifier NAME LABEL NSERVE: starts, floor, checks; one summary line
verifier() {
	C=$W/$1/tfadesk.yaml
	pg=0; grep -q '^database: postgresql:' "$C" && pg=1
	tfadesk -c "$C" db init >/dev/null || { echo "$2: db init failed"; return 1; }
	tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT" 2>>"$W/serve.err" & pids="$!"
	[ "$3" = 2 ] && { tfadesk-verify -c "$C" serve --listen "127.0.0.1:$P2" 2>>"$W/serve.err" & pids="$pids $!"; }
	wait_up "http://127.0.0.1:$PORT/healthz" && { [ "$3" = 1 ] || wait_up "http://127.0.0.1:$P2/healthz"; } ||
	    { echo "$2: serve did not start"; cat "$W/serve.err"; stop; return 1; }
	# (wrk divides by its -d, not by the time until the last thread stopped)
	t0=$(date +%s.%N)
	wrk -t2 -c"$CONNS" -d60s --latency -s "$W/start.lua" "http://127.0.0.1:$PORT/" > "$W/$1.start" 2>&1
	t1=$(date +%s.%N)
	echo "$2: starts (SMS to the spool): $(figures "$W/$1.start" | awk -v s="$(echo "$t1 - $t0" | bc)" '
	    { printf "%.0f/s, p50 %.2f ms, p99 %.2f ms (%d starts in %.1f s, %d errors)", $4 / s, $2, $3, $4, s, $5 }')"
	[ -f "$W/$1/var/bench-verify.db" ] && echo "$W/$1/var/bench-verify.db" > "$W/$1/database"
	pending=$(sql "$1" "SELECT count(*) FROM challenges WHERE state = 'pending'")
	floor "$3" "$W/floor$3.lua"
	s0=$(cpu_ticks $pids) g0=$(pg_ticks)
	run "$1" "$W/check$3.lua"
	s1=$(cpu_ticks $pids) g1=$(pg_ticks)
	stop
	set -- "$2" $(figures "$W/$1.out") $FLOOR
	# $2..$6 the checks, $7..$11 the floor
	awk -v name="$1" -v pending="$pending" -v s=$((s1 - s0)) -v g=$((g1 - g0)) -v t="$TCK" \
	    -v fcpu="$FCPU" -v load="$(load)" -v pg="$pg" \
	    -v r="$2" -v p50="$3" -v p99="$4" -v n="$5" -v bad="$6" \
	    -v fr="$7" -v fp50="$8" -v fp99="$9" -v fbad="${11}" 'BEGIN {
		printf "%s: %d checks/s, p50 %.2f ms, p99 %.2f ms (%d checks on %s pending codes, %d errors); ", name, r, p50, p99, n, pending, bad
		printf "floor %d requests/s, p50 %.2f ms, p99 %.2f ms (%d errors): %.2fx the floor, p99 %.1fx; ", fr, fp50, fp99, fbad, fr ? r / fr : 0, fp99 ? p99 / fp99 : 0
		printf "CPU a check: verifier %.0f us", n ? s * 1e6 / t / n : 0
		if (pg) printf ", postgres %.0f us", n ? g * 1e6 / t / n : 0
		printf " (floor %d us); load %s\n", fcpu, load
	}' | tee -a "$W/summary"
}

# batch NAME LABEL: NBATCH tickets of process.sh's mix in a maildir
batch() {
	C=$W/$1/tfadesk.yaml
	pg=0; grep -q '^database: postgresql:' "$C" && pg=1
	tfadesk -c "$C" db init >/dev/null &&
	    tfadesk -c "$C" db import "$TOP/tests/cases/accounts.yaml" >/dev/null ||
	    { echo "$2: db init/import failed"; return 1; }
	cp -r "$W/mail" "$W/$1/maildir"
	g0=$(pg_ticks)
	/usr/bin/time -v tfadesk -c "$C" batch >"$W/$1.bout" 2>"$W/$1.time"
	brc=$?
	g1=$(pg_ticks)
	n=$(sql "$1" "SELECT count(*) FROM tickets")
	awk -v name="$2" -v brc="$brc" -v n="${n:-0}" -v g=$((g1 - g0)) -v t="$TCK" -v load="$(load)" -v pg="$pg" '
	/Elapsed \(wall clock\)/ { m = split($NF, a, ":"); w = 0; for (i = 1; i <= m; i++) w = w * 60 + a[i] }
	/User time|System time/ { c += $NF } /Maximum resident/ { rss = $NF }
	END { gs = g / t
		printf "%s: exit %d, %d tickets in %.2f s: %.0f tickets/s wall, %.0f per CPU second of tfadesk (%.2f s)",
		    name, brc, n, w, w ? n / w : 0, c ? n / c : 0, c
		if (pg) printf ", %.0f per CPU second with the server'"'"'s (%.2f s)", (c + gs) ? n / (c + gs) : 0, gs
		printf "; peak RSS %d MiB; load %s\n", rss / 1024, load }' \
	    "$W/$1.time" | tee -a "$W/summary"
	[ "$brc" = 0 ] || tail -3 "$W/$1.bout" "$W/$1.time"
	return 0
}

echo "verifier: $USERS users, $NCHAL pending codes, wrk -t2 -c$CONNS ${SECS}s, verifier.threads $THREADS"
config vsqlite "$W/vsqlite/var/bench.db"
import vsqlite && verifier vsqlite "sqlite" 1
# PostgreSQL: imported once, copied for each run (createdb -T)
config vpg "$(pg_new_db)"
import vpg
tpl=$(sed -n 's|^database: postgresql://postgres@/\([^?]*\)?.*|\1|p' "$W/vpg/tfadesk.yaml")
config vpg1 "$(pg_new_db "$tpl")"
verifier vpg1 "postgresql, 1 verifier" 1
config vpg2 "$(pg_new_db "$tpl")"
verifier vpg2 "postgresql, 2 verifiers" 2

mkdir -p "$W/mail/new" "$W/mail/cur" "$W/mail/tmp"
python3 - "$W/mail/new" "$NBATCH" "$TOP"/tests/cases/*.eml "$TOP"/samples/maildir/new/* <<'PY' || exit 1
import re, sys
out, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
raws = [open(s, "rb").read() for s in srcs]
for i in range(n):
    r = raws[i % len(raws)]
    r = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: <bench-%d@bench.example>" % i, r, count=1)
    open("%s/%06d.bench" % (out, i), "wb").write(r)
PY
echo "batch: $NBATCH tickets (process.sh's mix) from a maildir: fetch, process, send to the spool"
config bsqlite "$W/bsqlite/var/bench.db"
batch bsqlite "batch sqlite"
config bpg "$(pg_new_db)"
batch bpg "batch postgresql"
[ -s "$W/serve.err" ] && { echo "serve's log:"; sort "$W/serve.err" | uniq -c | sort -rn | head -5; }
echo "load average at the end: $(load)"
