#!/bin/sh
# t_db_copy.sh - tfadesk db copy --to DATABASE: a real deployment on SQLite
# (accounts, tickets from tests/cases processed and answered, staff, the
# verifier's codes, send log and audit rows) copied to PostgreSQL (the
# tests' private cluster) and back to a new SQLite file; audit, account
# show, queue list, outbox list and a verifier check give the same output
# on all three, the checksums agree, the PostgreSQL identities go on past
# the copied ids. Refused: a target with rows (65, nothing changed), a
# source at an older schema (65), a batch holding the lock (75), a target
# password file others may read (77). A PostgreSQL trigger on the target
# that alters a row (a text, a raw message) makes the check fail: 70,
# the table named, nothing committed. Skips (77) without the cluster.
. "$(dirname "$0")/lib.sh"
[ -n "${TFADESK_PG_SOCK:-}" ] || { echo "no PostgreSQL (tests/run.sh starts one unless DB=sqlite)"; exit 77; }
. "$TOP/tests/pg-lib.sh"
. "$(dirname "$0")/verify-lib.sh"
psql() { "$PG_BIN/psql" -qAtX "$@"; }
VERIFIER="verifier:
  allowed_country_codes: [44]
  key_file: $T/keys/verifier.key"
mkdir -p "$T/keys"
NOW=1800000000
TFADESK_NOW=$NOW; export TFADESK_NOW

# the deployment on SQLite
DB_URI=$T/var/tfadesk.db
C=$T/tfadesk.yaml
SENDER_AUTH=false write_config "$C" "$VERIFIER"
tf() { tfadesk -c "$C" "$@"; }
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$TOP/tests/cases/accounts.yaml"
for c in 01-twofa-missing 02-twofa-enabled 06-labelled-block 07-multi-mixed \
    08-html-table 09-sentence 10-csv-and-tab 104-html-css-comment; do
	tf ingest "$TOP/tests/cases/$c.eml" >/dev/null 2>&1
done
expect_exit 0 "process" tf process
expect_exit 0 "send" tf send
expect_exit 0 "queue assign" tf queue assign 1 --to alice --by bob
printf 'correct horse battery staple\n' > "$T/staffpw"; chmod 600 "$T/staffpw"
expect_exit 0 "staff add" tf staff add alice --phone "07400 223344" --password-file "$T/staffpw"
# the verifier: a code sent, a wrong one, the right one
expect_exit 0 "verifier start" tfadesk-verify -c "$C" start U3001
code=$(take_sms "$T/sms" | cut -d' ' -f2)
check "an SMS code ($code)" test -n "$code"
TFADESK_NOW=$((NOW + 5)); export TFADESK_NOW
expect_exit 0 "verifier: a wrong code" tfadesk-verify -c "$C" check U3001 00000000
TFADESK_NOW=$((NOW + 9)); export TFADESK_NOW
expect_exit 0 "verifier: the code" tfadesk-verify -c "$C" check U3001 "$code"
expect_exit 0 "verifier start U3002" tfadesk-verify -c "$C" start U3002
take_sms "$T/sms" >/dev/null
# the two audit logs interleave: a main-file row in the same second as
# the verifier's, and one after them
expect_exit 0 "queue assign (same second)" tf queue assign 2 --to carol --by bob
TFADESK_NOW=$((NOW + 20)); export TFADESK_NOW
expect_exit 0 "queue assign (later)" tf queue assign 3 --to dave --by bob
n=$(sqlite3 "$T/var/tfadesk.db" "SELECT count(*) FROM tickets")
check "tickets stored ($n)" test "$n" -ge 6
n=$(sqlite3 "$T/var/tfadesk-verify.db" "SELECT (SELECT count(*) FROM audit) || ' ' || (SELECT count(*) FROM sms_log) || ' ' || (SELECT count(*) FROM challenges)")
check "the verifier's rows ($n)" test "$n" != "0 0 0"

# show CONFIG OUT: everything a script reads, and a verifier check
show() {
	{
		tfadesk -c "$1" audit --json
		for a in R100 C200 R200 C300; do tfadesk -c "$1" account show $a --json; done
		tfadesk -c "$1" queue list --json
		tfadesk -c "$1" outbox list --json
		tfadesk -c "$1" staff list
		tfadesk-verify -c "$1" check U3002 12345678 --json
		tfadesk -c "$1" audit --json
	} > "$2" 2>&1
}

# SQLite -> PostgreSQL
PG=$(pg_new_db) || { echo "cannot create a PostgreSQL database"; exit 1; }
P=$T/pg.yaml
printf 'database: %s\n' "$PG" > "$T/pgdb"
sed "s|^database: .*|database: $PG|" "$C" > "$P"
sums() { cat "$T"/var/tfadesk*.db "$T"/var/*-wal 2>/dev/null | md5sum; }
src_before=$(sums)
expect_exit 0 "db copy --to postgresql://" tf db copy --to "$PG"
check "the source never changed" test "$(sums)" = "$src_before"
cp "$T/out" "$T/copy1"
contains "$T/out" "copied to postgresql://" "says where"
for t in accounts users contacts permissions tickets ticket_raw ticket_sources ticket_plans audit outbox kv staff desk_sessions desk_failures challenges sms_log heartbeat; do
	contains "$T/out" "$t " "a line for $t"
done
n=$(psql -d "$PG" -c "SELECT count(*) FROM tickets")
check "the tickets are on PostgreSQL ($n)" test "$n" = "$(sqlite3 "$T/var/tfadesk.db" "SELECT count(*) FROM tickets")"
a=$(sqlite3 "$T/var/tfadesk.db" "SELECT group_concat(hex(raw), '') FROM (SELECT raw FROM ticket_raw ORDER BY ticket_id)" | md5sum)
b=$(psql -d "$PG" -c "SELECT string_agg(upper(encode(raw, 'hex')), '' ORDER BY ticket_id) FROM ticket_raw" | md5sum)
n=$(psql -d "$PG" -c "SELECT count(*) FROM tickets t JOIN ticket_raw r ON r.ticket_id = t.id")
check "every ticket's raw message on PostgreSQL ($n)" test "$n" = "$(sqlite3 "$T/var/tfadesk.db" "SELECT count(*) FROM tickets")"
check "raw messages byte for byte" test "$a" = "$b"
n=$(psql -d "$PG" -c "SELECT count(*) FROM audit WHERE actor = 'verifier'")
check "the verifier's audit rows in the one audit table ($n)" test "$n" -ge 3
show "$C" "$T/show.sqlite"
show "$P" "$T/show.pg"
if cmp -s "$T/show.sqlite" "$T/show.pg"; then ok "same output on SQLite and PostgreSQL"; else
	not_ok "same output on SQLite and PostgreSQL"; diff "$T/show.sqlite" "$T/show.pg" | head -20; fi
contains "$T/show.pg" '"outcome"' "... the verifier answered"
# a target with rows: refused, nothing changed
before=$(psql -d "$PG" -c "SELECT (SELECT count(*) FROM tickets) || ' ' || (SELECT count(*) FROM audit) || ' ' || (SELECT count(*) FROM users)")
expect_exit 65 "a target with rows: 65" tf db copy --to "$PG"
contains "$T/err" "table accounts has rows" "... names the table"
after=$(psql -d "$PG" -c "SELECT (SELECT count(*) FROM tickets) || ' ' || (SELECT count(*) FROM audit) || ' ' || (SELECT count(*) FROM users)")
check "... and nothing changed ($after)" test "$before" = "$after"

# PostgreSQL -> a new SQLite file (round trip)
mkdir -p "$T/back"
B=$T/back.yaml
sed "s|^database: .*|database: $T/back/tfadesk.db|" "$C" > "$B"
expect_exit 0 "db copy PostgreSQL -> SQLite" tfadesk -c "$P" db copy --to "$T/back/tfadesk.db"
cp "$T/out" "$T/copy2"
# the source copied again (both had the same checks since): the same
# rows and checksums as PostgreSQL's copy back
expect_exit 0 "db copy of the source again" tf db copy --to "$(pg_new_db)"
grep -v '^copied to' "$T/out" > "$T/sums1"
grep -v '^copied to' "$T/copy2" > "$T/sums2"
if cmp -s "$T/sums1" "$T/sums2"; then ok "the same rows and checksums from SQLite and from PostgreSQL"; else
	not_ok "the same rows and checksums from SQLite and from PostgreSQL"; diff "$T/sums1" "$T/sums2"; fi
check "the verifier's file beside it" test -f "$T/back/tfadesk-verify.db"
n=$(sqlite3 "$T/back/tfadesk-verify.db" "SELECT count(*) FROM audit")
check "the verifier's audit rows back in its file ($n)" test "$n" -ge 3
n=$(sqlite3 "$T/back/tfadesk.db" "PRAGMA journal_mode")
check "the copy is in WAL mode ($n)" test "$n" = wal
show "$C" "$T/show.sqlite2"
show "$B" "$T/show.back"
if cmp -s "$T/show.sqlite2" "$T/show.back"; then ok "the round trip gives the same output"; else
	not_ok "the round trip gives the same output"; diff "$T/show.sqlite2" "$T/show.back" | head -20; fi
a=$(sqlite3 "$T/var/tfadesk.db" "SELECT group_concat(hex(raw), '') FROM (SELECT raw FROM ticket_raw ORDER BY ticket_id)" | md5sum)
b=$(sqlite3 "$T/back/tfadesk.db" "SELECT group_concat(hex(raw), '') FROM (SELECT raw FROM ticket_raw ORDER BY ticket_id)" | md5sum)
check "raw messages byte for byte after the round trip" test "$a" = "$b"
expect_exit 65 "an SQLite target with rows: 65" tf db copy --to "$T/back/tfadesk.db"
contains "$T/err" "has rows" "... says so"

# the identities go on past the copied ids
max=$(psql -d "$PG" -c "SELECT max(id) FROM tickets")
cp "$TOP/tests/cases/03-twofa-already.eml" "$T/new.eml"
tfadesk -c "$P" ingest "$T/new.eml" >/dev/null 2>&1
n=$(psql -d "$PG" -c "SELECT max(id) FROM tickets")
check "a new ticket on PostgreSQL takes the next id ($max -> $n)" test "$n" = $((max + 1))
amax=$(psql -d "$PG" -c "SELECT max(id) FROM audit")
expect_exit 0 "a change on PostgreSQL writes its audit row" tfadesk -c "$P" queue assign 2 --to carol --by bob
n=$(psql -d "$PG" -c "SELECT max(id) FROM audit")
check "... with the next audit id ($amax -> $n)" test "$n" = $((amax + 1))

# a copy that does not match: a trigger on the target alters a row
PG2=$(pg_new_db)
P2=$T/pg2.yaml
sed "s|^database: .*|database: $PG2|" "$C" > "$P2"
expect_exit 0 "db init on the second target" tfadesk -c "$P2" db init
psql -d "$PG2" -c "CREATE FUNCTION t_alter() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN NEW.name := NEW.name || ' '; RETURN NEW; END \$\$;
CREATE TRIGGER t_alter BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION t_alter()"
expect_exit 70 "a row altered on the target: 70" tf db copy --to "$PG2"
contains "$T/err" "table users" "... names the table"
n=$(psql -d "$PG2" -c "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM users) + (SELECT count(*) FROM tickets)")
check "... nothing committed ($n rows)" test "$n" = 0
psql -d "$PG2" -c "DROP TRIGGER t_alter ON users;
CREATE FUNCTION t_raw() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.ticket_id = 2 THEN NEW.raw := NEW.raw || '\\x00'::bytea; END IF; RETURN NEW; END \$\$;
CREATE TRIGGER t_raw BEFORE INSERT ON ticket_raw FOR EACH ROW EXECUTE FUNCTION t_raw()"
expect_exit 70 "one byte more in a raw message: 70" tf db copy --to "$PG2"
contains "$T/err" "table ticket_raw" "... names the table"
n=$(psql -d "$PG2" -c "SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM ticket_raw)")
check "... nothing committed ($n tickets and raw messages)" test "$n" = 0
psql -d "$PG2" -c "DROP TRIGGER t_raw ON ticket_raw"
# a column db copy does not know (a schema step it missed) is refused, not
# left behind
psql -d "$PG2" -c "ALTER TABLE kv ADD COLUMN extra TEXT"
expect_exit 70 "a column db copy does not know: 70" tf db copy --to "$PG2"
contains "$T/err" "table kv (3 columns) is not one db copy knows" "... names the table"
psql -d "$PG2" -c "ALTER TABLE kv DROP COLUMN extra"
expect_exit 0 "without the trigger the copy goes through" tf db copy --to "$PG2"

# refusals before anything is copied
PG3=$(pg_new_db)
flock "$T/var/tfadesk.db.lock" sleep 3 &
holder=$!
wait_for 10 sh -c '! flock -n "$1" true' - "$T/var/tfadesk.db.lock"
expect_exit 75 "a batch holds the lock: 75" tf db copy --to "$PG3"
contains "$T/err" "a batch is running" "... says so"
wait $holder
printf 'x\n' > "$T/pgpw"; chmod 644 "$T/pgpw"
expect_exit 77 "a target password file others may read: 77" tf db copy --to "$PG3" --password-file "$T/pgpw"
contains "$T/err" "readable by group or others" "... names what is wrong"
expect_exit 64 "--password-file with an SQLite target: 64" tf db copy --to "$T/x.db" --password-file "$T/pgpw"
expect_exit 64 "no --to: 64" tf db copy
expect_exit 64 "--to the source itself: 64" tf db copy --to "$T/var/tfadesk.db"
mkdir -p "$T/old"
cp "$T/var/tfadesk.db" "$T/var/tfadesk-verify.db" "$T/old/"
sqlite3 "$T/old/tfadesk.db" "PRAGMA user_version = 10"
O=$T/old.yaml
sed "s|^database: .*|database: $T/old/tfadesk.db|" "$C" > "$O"
expect_exit 65 "a source at an older schema: 65" tfadesk -c "$O" db copy --to "$PG3"
contains "$T/err" "run tfadesk db init" "... says what to run"
n=$(psql -d "$PG3" -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 'tickets'")
check "... the target untouched" test "$n" = 0
chmod 600 "$T/pgpw"
expect_exit 0 "--password-file (0600) --json" tf db copy --to "$PG3" --password-file "$T/pgpw" --json
contains "$T/out" '{"table":"tickets","rows":' "--json: a row per table"
contains "$T/out" '"blake2b":"' "--json: the whole checksum"
finish
