#!/bin/sh
# tests/bench/process.sh - `tfadesk process` on N stored tickets (default
# 10000): a realistic mix made from tests/cases/*.eml and samples/maildir
# (2FA set-ups, missing-number reports in every layout, overwrites, forged
# and foreign mail, bounces, staff mail), each with its own Message-ID.
# Prints tickets per second and peak RSS (/usr/bin/time -v).
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
N=${N:-10000}
TF=${TFADESK:-$TOP/tfadesk}
T=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX")
[ -n "$KEEP" ] || trap 'rm -rf "$T"' EXIT
cat > "$T/tfadesk.yaml" <<YAML
database: $T/db
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source:
  type: maildir
  path: $T/maildir
reply:
  transport: spool
  spool: $T/outbox
security:
  require_sender_auth: true
  authserv_id: mx.500.uk.com
YAML
"$TF" -c "$T/tfadesk.yaml" db init >/dev/null || exit 1
"$TF" -c "$T/tfadesk.yaml" db import "$TOP/tests/cases/accounts.yaml" >/dev/null || exit 1
mkdir -p "$T/mail"
# N messages, round robin over the fixtures, Message-ID made unique
python3 - "$T/mail" "$N" "$TOP"/tests/cases/*.eml "$TOP"/samples/maildir/new/* <<'PY' || exit 1
import re, sys
out, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
raws = [open(s, "rb").read() for s in srcs]
for i in range(n):
    r = raws[i % len(raws)]
    r = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: <bench-%d@bench.example>" % i, r, count=1)
    open("%s/%06d.eml" % (out, i), "wb").write(r)
PY
ls "$T/mail" | sed "s#^#$T/mail/#" | xargs "$TF" -c "$T/tfadesk.yaml" ingest >/dev/null 2>&1
stored=$("$TF" -c "$T/tfadesk.yaml" queue list --state new --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ -n "$KEEP" ] && { cp "$T/db" "$T/db.before"; echo "kept $T"; }
/usr/bin/time -v "$TF" -c "$T/tfadesk.yaml" process >"$T/out" 2>"$T/time" || { cat "$T/out" "$T/time"; exit 1; }
secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T/time" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time")
cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$T/time")
# user + system CPU seconds: on a loaded machine the wall clock mostly
# measures the wait for a core; tickets per CPU second does not
csecs=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$T/time" | awk '{ s += $1 } END { print s }')
echo "process: $stored tickets in ${secs}s: $(awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') tickets/s, peak RSS $((rss / 1024)) MiB, CPU $cpu"
echo "process: ${csecs}s of CPU (user + system): $(awk -v n="$stored" -v s="$csecs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') tickets per CPU second"
echo "process: $(cat "$T/out")"
awk -v n="$stored" -v s="$csecs" 'BEGIN { r = (s > 0 ? n / s : 0)
	printf "process: target >= 10000 tickets per CPU second (one core): %.2fx the target, %s\n", r / 10000, (r >= 10000 ? "met" : "MISSED") }'
