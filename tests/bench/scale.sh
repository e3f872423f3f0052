#!/bin/sh
# tests/bench/scale.sh - per-item times as the database grows (issue 14,
# scale). For each size (10,000, 100,000 and 1,000,000 users; 1,000 users
# a reseller, generated with awk as verify.sh does) in one database:
#   db import     the file into an empty database: wall and CPU time,
#                 users/s, CPU us a user, peak RSS (memory follows the file)
#   re-import     the same file again (nothing changes)
#   + 100,000 stored tickets (10% needs_review; written with sqlite3)
#   process       BENCH_SCALE_TICKETS (2000) new tickets made from
#                 tests/cases/*.eml: ms a ticket
#   queue list --state needs_review   us a listed ticket
#   account show  a reseller with 1,000 users: us a user
#   tfadesk-verify check              ms a call (start then check, as the
#                                     CLI does it: one process each)
# The machine may be shared: each figure is a time per item measured in the
# same run, and CPU time (user + sys) is printed beside wall time; compare
# the per-item figures across sizes, they should stay flat.
# Env: BENCH_SCALE_MAX (1000000) caps the largest size; BENCH_SCALE_TICKETS;
#      BENCH_SCALE_CHECKS (100); BENCH_KEEP=1 keeps the scratch folder.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TF=${TFADESK:-$TOP/tfadesk}
TV=${TFADESK_VERIFY:-$TOP/tfadesk-verify}
MAX=${BENCH_SCALE_MAX:-1000000}
NT=${BENCH_SCALE_TICKETS:-2000}
NC=${BENCH_SCALE_CHECKS:-100}
STORED=100000
for c in /usr/bin/python3 /usr/bin/time sqlite3; do
	command -v $c >/dev/null || { echo "scale: $c not installed (make deps)"; exit 0; }
done
[ -x "$TF" ] && [ -x "$TV" ] || { echo "scale: tfadesk not built"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX")
trap '[ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"' EXIT
trap 'exit 1' INT TERM

# seconds and CPU seconds of a command: "wall cpu maxrss_kb" in $W/t
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$W/t.raw" "$@" || {
		echo "scale: $* failed"; cat "$W/err" 2>/dev/null | head -5; exit 1; }
	awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' "$W/t.raw" > "$W/t"
}
wall() { cut -d' ' -f1 "$W/t"; }
cpu() { cut -d' ' -f2 "$W/t"; }
rss() { cut -d' ' -f3 "$W/t"; }
# per ITEMS SECONDS UNIT(1e6: us, 1e3: ms)
per() { awk -v n="$1" -v s="$2" -v u="$3" 'BEGIN { printf "%.1f", (n > 0 ? s * u / n : 0) }'; }

# the mail for `process`: the case fixtures, each with its own Message-ID
mkdir -p "$W/mail"
python3 - "$W/mail" "$NT" "$TOP"/tests/cases/*.eml <<'PY' || exit 1
import re, sys
out, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
raws = [open(s, "rb").read() for s in srcs]
for i in range(n):
    r = raws[i % len(raws)]
    r = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: <scale-%d@bench.example>" % i, r, count=1)
    open("%s/%06d.eml" % (out, i), "wb").write(r)
PY

printf '%-9s %-26s %-20s %-12s %-10s %-10s %-10s\n' users "db import (wall/cpu)" "re-import" process \
    "queue" "acct show" "verify"
for N in 10000 100000 1000000; do
	[ "$N" -gt "$MAX" ] && break
	D=$W/$N
	mkdir -p "$D"
	cat > "$D/tfadesk.yaml" <<YAML
database: $D/tfadesk.db
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source: {type: maildir, path: $D/maildir}
reply: {transport: spool, spool: $D/outbox}
sms: {transport: spool, spool: $D/sms}
security:
  require_sender_auth: true
  authserv_id: mx.500.uk.com
YAML
	awk -v n="$N" 'BEGIN {
		print "resellers:"
		per = 1000
		for (r = 0; r * per < n; r++) {
			printf "  - id: SR%d\n    name: Scale Reseller %d\n    twofa: %s\n", r, r, r % 2 ? "true" : "false"
			printf "    contacts: [noc%d@scale.example]\n    users:\n", r
			for (i = r * per; i < (r + 1) * per && i < n; i++)
				printf "      - {id: S%d, name: Scale User %d, phone: \"4474%08d\"}\n", i, i, i
		}
	}' > "$D/accounts.yaml"
	tf() { "$TF" -c "$D/tfadesk.yaml" "$@"; }
	tf db init >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
	timed "$TF" -c "$D/tfadesk.yaml" db import "$D/accounts.yaml" >/dev/null 2>"$W/err"
	imp="$(wall)s/$(cpu)s $(per "$N" "$(cpu)" 1e6)us $(($(rss) / 1024))M"
	ups=$(awk -v n="$N" -v s="$(wall)" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
	timed "$TF" -c "$D/tfadesk.yaml" db import "$D/accounts.yaml" >/dev/null 2>"$W/err"
	re="$(wall)s/$(cpu)s $(per "$N" "$(cpu)" 1e6)us"
	# the case accounts beside them (a sync without --prune keeps the rest)
	tf db import "$TOP/tests/cases/accounts.yaml" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
	# 100,000 stored tickets of ~3 KB, one in ten waiting for staff
	sqlite3 "$D/tfadesk.db" "PRAGMA journal_mode = WAL; WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $STORED)
INSERT INTO tickets (msgkey, digest, source, received, kind, state, reason, from_addr, subject, account, updated)
SELECT 'stored-' || n, 'stored-' || n, 'bench', 1700000000 + n, 'add_numbers',
  CASE WHEN n % 10 = 0 THEN 'needs_review' ELSE 'applied' END, 'stored by the benchmark',
  'noc' || (n % 1000) || '@scale.example', 'Stored ticket ' || n, 'SR' || (n % 1000), 1700000000 + n FROM i;
INSERT INTO ticket_raw (ticket_id, raw) SELECT id, randomblob(3000) FROM tickets WHERE source = 'bench' ORDER BY id;" >/dev/null || exit 1
	ls "$W/mail" | sed "s#^#$W/mail/#" | xargs "$TF" -c "$D/tfadesk.yaml" ingest >/dev/null 2>&1
	timed "$TF" -c "$D/tfadesk.yaml" process >/dev/null 2>"$W/err"
	proc="$(per "$NT" "$(wall)" 1e3)/$(per "$NT" "$(cpu)" 1e3)ms"
	nq=$(sqlite3 "$D/tfadesk.db" "SELECT count(*) FROM tickets WHERE state = 'needs_review'")
	timed "$TF" -c "$D/tfadesk.yaml" queue list --state needs_review >/dev/null 2>"$W/err"
	queue="$(per "$nq" "$(wall)" 1e6)/$(per "$nq" "$(cpu)" 1e6)us"
	nu=$(sqlite3 "$D/tfadesk.db" "SELECT count(*) FROM users WHERE account = 'SR0'")
	timed "$TF" -c "$D/tfadesk.yaml" account show SR0 >/dev/null 2>"$W/err"
	show="$(per "$nu" "$(wall)" 1e6)/$(per "$nu" "$(cpu)" 1e6)us"
	# start then check NC users of a 2FA reseller (SR1) spread over the base
	awk -v n="$N" -v c="$NC" 'BEGIN { srand(1); for (i = 0; i < c; i++) print "S" (1000 + int(rand() * 1000)) }' > "$D/who"
	cat > "$D/checks.sh" <<SH
while read u; do
	"$TV" -c "$D/tfadesk.yaml" start "\$u" >/dev/null
	"$TV" -c "$D/tfadesk.yaml" check "\$u" 000000 >/dev/null
done < "$D/who"
exit 0
SH
	timed sh "$D/checks.sh" 2>"$W/err"
	ver="$(per $((NC * 2)) "$(wall)" 1e3)/$(per $((NC * 2)) "$(cpu)" 1e3)ms"
	printf '%-9s %-26s %-20s %-12s %-10s %-10s %-10s\n' "$N" "$imp" "$re" "$proc" "$queue" "$show" "$ver"
	echo "          db import: $ups users/s wall; queue list: $nq tickets listed of $((STORED + NT)); account show: $nu users"
	[ "$N" = 100000 ] && awk -v s="$(echo "$imp" | cut -d's' -f1)" 'BEGIN {
		printf "          target: db import of 100,000 users in under 5 s: %.1f s, %s\n", s, (s < 5 ? "met" : "MISSED") }'
	rm -rf "$D"
done
echo "(per item: wall/CPU; db import: wall/CPU seconds, CPU us a user, peak RSS;"
echo " process ms a ticket, queue us a listed ticket, account show us a user,"
echo " verify ms a tfadesk-verify call; cores: $(nproc), load: $(cut -d' ' -f1 /proc/loadavg))"
echo "(target: each per-item figure flat from 10,000 to 1,000,000 users, peak RSS of db import following the file)"
