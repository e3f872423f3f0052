#!/bin/sh
# t_pg.sh - what only PostgreSQL has (tests/run.sh runs it as t_pg@pg; on
# SQLite it skips): db init's schema and its version, the batch's advisory
# lock (another host's batch holds it: 75 at once, --wait waits), the
# password file's mode rules, connection errors that never show the
# password, verifier.database refused, the verifier's starts reusing
# their connections, schema steps 12 (ticket_raw) and 13 (the refused count) on a database with tickets.
. "$(dirname "$0")/lib.sh"
[ "$ON_PG" = 1 ] || { echo "PostgreSQL only (tests/run.sh runs it as t_pg@pg)"; exit 77; }
C="$T/tfadesk.yaml"
write_config "$C"
psql() { "$PG_BIN/psql" -qAtX "$@"; }

expect_exit 69 "no schema yet: 69" tfadesk -c "$C" account list
contains "$T/err" "run tfadesk db init" "no schema: says what to run"
expect_exit 0 "db init" tfadesk -c "$C" db init
lacks "$T/out" "verifier database" "db init: no verifier file on PostgreSQL"
v=$(dbq main "SELECT version FROM schema_version")
check "schema_version holds the version ($v)" test -n "$v"
for t in accounts users contacts tickets ticket_raw audit outbox challenges sms_log heartbeat; do
	n=$(dbq main "SELECT count(*) FROM information_schema.tables WHERE table_name = '$t'")
	check "table $t" test "$n" = 1
done
expect_exit 0 "db init twice" tfadesk -c "$C" db init
check "still one version row" test "$(dbq main "SELECT count(*) FROM schema_version")" = 1
expect_exit 0 "import" tfadesk -c "$C" db import "$TOP/samples/accounts.yaml"

# another host's batch: the database's advisory lock (the lock file here
# is free)
psql -d "$DB_URI" -c "SELECT pg_advisory_lock(7244401); SELECT pg_sleep(4)" >/dev/null &
holder=$!
adv_held() {
	[ "$(psql -d "$DB_URI" -tAc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7244401 AND granted")" = 1 ]
}
wait_for 10 adv_held
expect_exit 75 "batch while another host's batch runs: 75" tfadesk -c "$C" batch
contains "$T/err" "another batch is running" "... and says so"
start=$(date +%s)
expect_exit 0 "batch --wait waits for it" tfadesk -c "$C" batch --wait
check "... until the other let go ($(( $(date +%s) - start )) s)" test $(( $(date +%s) - start )) -ge 1
wait $holder
expect_exit 0 "batch when free" tfadesk -c "$C" batch
check "the lock file beside the config" test -f "$T/tfadesk-pg.lock"

# the password: from a secret file, never in a message
db=${DB_URI#postgresql://postgres@/}
db=${db%%\?*}
cat > "$T/pw.yaml" <<YAML
database: postgresql://nosuchrole:pw-in-uri@/$db?host=$TFADESK_PG_SOCK
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source: {type: maildir, path: $T/maildir}
security: {require_sender_auth: false}
YAML
expect_exit 69 "unknown role: 69" tfadesk -c "$T/pw.yaml" account list
contains "$T/err" "store: postgresql: connect:" "connect error named"
lacks "$T/err" "pw-in-uri" "the password in the URI is never shown"
printf 'database_password_file: %s\n' "$T/pw" >> "$T/pw.yaml"
printf 'x\n' > "$T/pw"; chmod 644 "$T/pw"
# a password file that cannot be used: the exit status of every other
# secret (secret_exit: 77 for a mode or an owner, 78 missing), the file named
expect_exit 77 "a readable password file is refused: 77" tfadesk -c "$T/pw.yaml" account list
contains "$T/err" "readable by group or others" "... and named"
contains "$T/err" "$T/pw" "... the file named"
expect_exit 77 "batch: a readable password file: 77" tfadesk -c "$T/pw.yaml" batch
expect_exit 77 "-n reads the database password file too: 77" tfadesk -c "$T/pw.yaml" -n
contains "$T/err" "$T/pw" "... and names it"
expect_exit 77 "verify check: a readable password file: 77" tfadesk-verify -c "$T/pw.yaml" check U1 123456
expect_exit 77 "verify serve: a readable password file: 77" tfadesk-verify -c "$T/pw.yaml" serve --listen 127.0.0.1:${VERIFY_PORT:-18099}
expect_exit 77 "db init: a readable password file: 77" tfadesk -c "$T/pw.yaml" db init
chmod 600 "$T/pw"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$T/pw"
	expect_exit 77 "a password file of another owner: 77" tfadesk -c "$T/pw.yaml" account list
	contains "$T/err" "$T/pw" "... named"
	chown 0 "$T/pw"
fi
rm -f "$T/pw"
expect_exit 78 "a missing password file: 78 (as every secret)" tfadesk -c "$T/pw.yaml" account list
contains "$T/err" "$T/pw" "... named"
printf 'x\n' > "$T/pw"; chmod 600 "$T/pw"
printf 'database: %s\ndatabase_password_file: %s\n' "$DB_URI" "$T/pw" > "$T/x.yaml"
printf 'verifier:\n  database: %s\n' "$T/v.db" >> "$T/x.yaml"
expect_exit 78 "verifier.database on PostgreSQL: 78" tfadesk -c "$T/x.yaml" account list
contains "$T/err" "verifier.database: only with an SQLite database" "... names the key"
printf 'database: %s/a.db\ndatabase_password_file: %s\n' "$T" "$T/pw" > "$T/y.yaml"
expect_exit 78 "database_password_file on SQLite: 78" tfadesk -c "$T/y.yaml" account list

# the verifier's starts keep their connections for the next start (each
# used to connect anew: a server process forked, the schema checked, every
# statement prepared again); pg_stat_database counts the sessions
. "$TOP/tests/verify-lib.sh"
P=${VERIFY_PORT:-$(free_port 18025 18099)}
tfadesk-verify -c "$C" serve --listen "127.0.0.1:$P" 2>"$T/serve.err" &
spid=$!
at_exit "kill $spid 2>/dev/null"
check "serve answers" wait_http "http://127.0.0.1:$P/healthz"
sessions() { psql -d "$DB_URI" -c "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"; }
s0=$(sessions)
i=0
while [ $i -lt 12 ]; do
	curl -s -m 20 --data-binary '{"user_id": "U3001"}' "http://127.0.0.1:$P/v1/challenges" >> "$T/starts"
	i=$((i + 1))
done
sleep 1
s1=$(sessions)
check "12 starts answered ($(sort "$T/starts" | uniq -c | tr -s ' \n' ' '))" \
    test "$(grep '"outcome"' "$T/starts" | grep -vc '"error"')" = 12
check "12 starts one after another: a few connections, not one each ($s0 -> $s1 sessions)" \
    test $((s1 - s0)) -le 4
kill $spid; wait $spid

# schema steps 14 (nothing on PostgreSQL), 13 and 12 on a database with
# tickets: the steps undone (raw back in tickets, schema_version 11), db init
# moves every raw message to ticket_raw again, queue show --raw the same
# before and after
tfadesk -c "$C" ingest "$TOP"/tests/cases/*.eml "$TOP"/samples/maildir/new/* >/dev/null 2>&1
tfadesk -c "$C" process >/dev/null 2>&1
raws() { for i in $(dbq main "SELECT id FROM tickets ORDER BY id"); do
	printf '%s ' "$i"; tfadesk -c "$C" queue show "$i" --raw | md5sum; done; }
raws > "$T/raws.before"
n=$(wc -l < "$T/raws.before")
check "tickets to migrate ($n)" test "$n" -ge 100
tfadesk -c "$C" queue list --json > "$T/list.before"
check "tickets with refused users" test "$(dbq main "SELECT count(*) FROM tickets WHERE refused > 0")" -gt 0
v=$(dbq main "SELECT version FROM schema_version")
# undo steps 14 (nothing), 13 (the refused count, contacts_addr_reseller)
# and 12
psql -d "$DB_URI" -c "ALTER TABLE tickets DROP COLUMN refused;
DROP INDEX contacts_addr_reseller; CREATE INDEX contacts_addr ON contacts(addr);
ALTER TABLE tickets ADD COLUMN raw BYTEA;
UPDATE tickets SET raw = (SELECT r.raw FROM ticket_raw r WHERE r.ticket_id = tickets.id);
ALTER TABLE tickets ALTER COLUMN raw SET NOT NULL;
DROP TABLE ticket_raw;
UPDATE schema_version SET version = $((v - 3))"
expect_exit 69 "at schema version $((v - 3)): 69" tfadesk -c "$C" queue list
expect_exit 0 "db init migrates it" tfadesk -c "$C" db init
check "to version $v" test "$(dbq main "SELECT version FROM schema_version")" = "$v"
tfadesk -c "$C" queue list --json > "$T/list.after"
if cmp -s "$T/list.before" "$T/list.after"; then ok "queue list --json the same after the upgrade (refused counts)"; else
	not_ok "queue list --json changed by the upgrade"; diff "$T/list.before" "$T/list.after" | head -5; fi
raws > "$T/raws.after"
if cmp -s "$T/raws.before" "$T/raws.after"; then ok "every raw message the same after the upgrade ($n tickets)"; else
	not_ok "every raw message the same after the upgrade"; diff "$T/raws.before" "$T/raws.after" | head -5; fi
check "tickets without raw" test "$(dbq main "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tickets' AND column_name = 'raw'")" = 0
check "a raw message for every ticket" test "$(dbq main "SELECT count(*) FROM tickets t LEFT JOIN ticket_raw r ON r.ticket_id = t.id WHERE r.raw IS NULL")" = 0
finish
