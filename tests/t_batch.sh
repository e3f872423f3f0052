#!/bin/sh
# t_batch.sh - `tfadesk batch`: the lock next to the database (a second
# batch exits 75 at once, --wait waits for the first), --dry-run changes
# nothing anywhere (database, source maildir, reply spool), the one-line
# summary, and a real run that stores, answers into the spool and a rerun
# that does nothing again.
. "$(dirname "$0")/lib.sh"
need_sqlite3
command -v flock >/dev/null || { echo "flock(1) not installed"; exit 77; }
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
sql() { dbq main "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
state() {   # everything a dry run must leave alone
	dbsum
	(cd "$T" && find maildir outbox -type f 2>/dev/null | sort)
	(cd "$T" && find maildir -type f -exec cat {} + 2>/dev/null | sha256sum)
}
write_config "$C"
cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
      - {id: U1002, name: Raj Patel}
YAML
sed -i 's/require_sender_auth: true/require_sender_auth: false/' "$C"
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$T/accounts.yaml"

mail() {
	printf 'From: Acme NOC <noc@acme.example>\r\nTo: support@500.uk.com\r\n'
	printf 'Subject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\n'
	printf 'Message-ID: <batch%s@acme.example>\r\n' "$1"
	printf '\r\nPlease switch on 2FA for our reseller account R100.\r\n'
}
drop() { mail "$1" > "$T/maildir/tmp/m$1"; mv "$T/maildir/tmp/m$1" "$T/maildir/new/$1.test:2,"; }

# --- 1. the lock
flock "$(db_lock_file "$C")" sleep 3 &
holder=$!
at_exit "kill $holder 2>/dev/null"
wait_for 10 sh -c '! flock -n "$1" true' - "$(db_lock_file "$C")"
t0=$(date +%s)
expect_exit 75 "a second batch exits 75 while the lock is held" tf batch
[ $(( $(date +%s) - t0 )) -le 2 ] && ok "at once" || not_ok "it waited"
contains "$T/err" "lock" "and says it is locked"
t0=$(date +%s)
expect_exit 0 "batch --wait waits for the lock" tf batch --wait
[ $(( $(date +%s) - t0 )) -ge 1 ] && ok "it waited" || not_ok "--wait did not wait"
wait $holder 2>/dev/null

# --- 2. --dry-run changes nothing anywhere
drop 1
drop 2
mail 3 > "$T/m3.eml"
tf ingest "$T/m3.eml" >/dev/null 2>&1
tf process >/dev/null 2>&1       # a reply queued, not sent yet
queued=$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")
db_checkpoint
state > "$T/before"
expect_exit 0 "batch --dry-run" tf batch --dry-run
cp "$T/out" "$T/dry.out"
state > "$T/after"
if cmp -s "$T/before" "$T/after"; then ok "dry run: database, maildir and spool unchanged"
else not_ok "dry run changed something:"; diff "$T/before" "$T/after" | sed 's/^/    /'; fi
is_eq 0 "$(ls "$T/outbox/new" 2>/dev/null | wc -l)" "dry run: spool empty"
contains "$T/dry.out" "fetched 2," "dry run: counts the 2 new messages"
[ "$queued" -gt 0 ] && contains "$T/dry.out" "would send" "dry run: shows the reply it would send"

# --- 3. a real run: summary, tickets, source flagged, replies in the spool
expect_exit 0 "batch" tf batch
cp "$T/out" "$T/run.out"
if grep -Eq '^fetched [0-9]+, applied [0-9]+, needs_review [0-9]+, rejected [0-9]+, ignored [0-9]+, sent [0-9]+, failed [0-9]+, waiting [0-9]+$' "$T/run.out"
then ok "one-line summary"; else not_ok "summary: $(cat "$T/run.out")"; fi
contains "$T/run.out" "fetched 2," "2 fetched"
is_eq 3 "$(sql "SELECT count(*) FROM tickets")" "3 tickets stored"
is_eq 0 "$(ls "$T/maildir/new" | wc -l)" "source: new/ emptied (after: seen)"
is_eq 0 "$(sql "SELECT count(*) FROM tickets WHERE state = 'new'")" "every ticket processed"
n=$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")
is_eq "$n" "$(ls "$T/outbox/new" | wc -l)" "one spool file per sent reply ($n)"
is_eq 0 "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")" "nothing left queued"
for f in "$T"/outbox/new/*; do
	[ -f "$f" ] || continue
	contains "$f" "Auto-Submitted: auto-replied" "$(basename "$f"): auto-replied"
	lacks "$f" "7890123456" "$(basename "$f"): no full number"
done
ls "$T/outbox/tmp" | grep -q . && not_ok "leftovers in spool tmp/" || ok "spool tmp/ empty"

# --- 4. a rerun does nothing again
expect_exit 0 "batch again" tf batch
contains "$T/out" "fetched 0, applied 0, needs_review 0, rejected 0, ignored 0, sent 0, failed 0" "rerun: nothing to do"
is_eq "$n" "$(ls "$T/outbox/new" | wc -l)" "rerun: no reply twice"

# --- 5. two batches at once: one waits, nothing is done twice
drop 4
drop 5
tf batch --wait > "$T/b1" 2>&1 &
p1=$!
tf batch --wait > "$T/b2" 2>&1
r2=$?
wait $p1
r1=$?
is_eq "0 0" "$r1 $r2" "both waiting batches ran"
is_eq 5 "$(sql "SELECT count(*) FROM tickets")" "each message stored once"
is_eq "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" "$(ls "$T/outbox/new" | wc -l)" "each reply spooled once"

# log.metrics_file: the last run's counts for node-exporter's textfile
# collector, in the Prometheus text format
printf 'log:\n  metrics_file: %s\n' "$T/metrics/tfadesk.prom" >> "$C"
mkdir -p "$T/metrics"
drop 6
expect_exit 0 "batch with log.metrics_file" tf batch
python3 - "$T/metrics/tfadesk.prom" <<'PY' && ok "metrics file: valid text format with the run's counts" || not_ok "metrics file"
import re, sys
text = open(sys.argv[1]).read()
samples = {}
for line in text.splitlines():
    if line.startswith("#"):
        assert re.match(r"# (HELP|TYPE) tfadesk_batch_\w+ ", line), line
        continue
    m = re.fullmatch(r'(tfadesk_batch_\w+)(\{\w+="\w+"\})? (-?\d+)', line)
    assert m, line
    samples[m.group(1) + (m.group(2) or "")] = int(m.group(3))
assert samples["tfadesk_batch_fetched"] == 1, samples
assert samples["tfadesk_batch_exit_code"] == 0, samples
assert sum(v for k, v in samples.items() if k.startswith("tfadesk_batch_tickets{")) == 1, samples
assert 'tfadesk_batch_replies{state="waiting"}' in samples, samples
PY
finish
