#!/bin/sh
# t_import.sh - db import is a sync, not a restore (DESIGN.md "Data"): it
# never undoes what tickets or staff changed, keeps what the file does not
# name, needs --allow-move / --allow-clear / --prune / --force for the
# dangerous changes, and --dry-run changes nothing.
. "$(dirname "$0")/lib.sh"
sqlite_only "rebuilds databases of older schema versions from SQLite files"
C="$T/tfadesk.yaml"
write_config "$C"
tf() { tfadesk -c "$C" "$@"; }
DB=$T/var/tfadesk.db
dump() { sqlite3 "$DB" .dump; }
sql() { sqlite3 "$DB" "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', wanted '$2')"; fi; }
phone_of() { sql "SELECT coalesce(phone, 'none') FROM users WHERE id = '$1'"; }
twofa_of() { sql "SELECT twofa FROM accounts WHERE id = '$1'"; }
rows() { sql "SELECT count(*) FROM audit WHERE actor = 'import:accounts.yaml'"; }

# every version of the portal's export has the same base name
mkdir -p "$T/v1" "$T/v2" "$T/v3" "$T/v4" "$T/v5" "$T/v6"
cat > "$T/v1/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
      - {id: U1002, name: Raj Patel}
    end_clients:
      - id: C200
        name: Widget Ltd
        use_2fa: false
        users:
          - {id: U2001, name: Bob Jones, phone: "07400 123456"}
  - id: R300
    name: Blue Sky Comms
    twofa: false
    contacts: [admin@bluesky.example]
    users:
      - {id: U4001, name: Priya Shah, phone: "07400 234567"}
YAML

expect_exit 0 "db init" tf db init
expect_exit 0 "first import" tf db import "$T/v1/accounts.yaml"
is_eq "$(sql "SELECT DISTINCT actor FROM audit")" "import:accounts.yaml" "audited as import: and the file's base name"

# a ticket-like staff change since: a number registered, 2FA switched on
expect_exit 0 "staff registers U1002's number" tf user edit U1002 --phone "07400 234999"
expect_exit 0 "staff switches R100's 2FA on" tf perm grant R100 use_2fa
expect_exit 0 "staff grants C200 use_2fa" tf perm grant C200 use_2fa
n=$(rows)
before=$(dump)
expect_exit 0 "the same file again" tf db import "$T/v1/accounts.yaml"
contains "$T/out" "changed 0, 0, 0" "nothing changed"
is_eq "$(phone_of U1002)" "447400234999" "the registered number stays"
is_eq "$(twofa_of R100)" "1" "the reseller's 2FA stays on"
is_eq "$(sql "SELECT count(*) FROM permissions WHERE account = 'C200'")" "1" "the end client's use_2fa stays"
is_eq "$(rows)" "$n" "no audit row the second time"
[ "$(dump)" = "$before" ] && ok "the database is the same" || not_ok "re-import changed the database"

# the portal changed a number since the last import: applied and audited
sed 's/07890 123456/07400 111222/' "$T/v1/accounts.yaml" > "$T/v2/accounts.yaml"
expect_exit 0 "a file that changed a number" tf db import "$T/v2/accounts.yaml"
contains "$T/out" "changed 0, 1, 0" "one user changed"
is_eq "$(phone_of U1001)" "447400111222" "the new number is applied"
is_eq "$(phone_of U1002)" "447400234999" "the other ticket number still stays"
tf audit --actor import:accounts.yaml --action user.phone --json > "$T/a.json"
contains "$T/a.json" '"actor":"import:accounts.yaml","action":"user.phone","account":"R100","user":"U1001","old":"447890123456","new":"447400111222"' "audited whole in --json"

# a move needs --allow-move; the number moves with the user
sed 's/^      - {id: U1002, name: Raj Patel}$//; s/^      - {id: U4001, name: Priya Shah, phone: "07400 234567"}$/&\n      - {id: U1002, name: Raj Patel}/' "$T/v2/accounts.yaml" > "$T/v3/accounts.yaml"
before=$(dump)
expect_exit 65 "a move without --allow-move is refused" tf db import "$T/v3/accounts.yaml"
contains "$T/err" "accounts.yaml:21: user U1002: moves from account R100 to R300: needs --allow-move" "the refusal names the line and the user"
[ "$(dump)" = "$before" ] && ok "a refused move changes nothing" || not_ok "a refused move changed the database"
expect_exit 0 "with --allow-move" tf db import --allow-move "$T/v3/accounts.yaml"
is_eq "$(sql "SELECT account FROM users WHERE id = 'U1002'")" "R300" "moved"
is_eq "$(phone_of U1002)" "447400234999" "the number is kept"
tf audit --action user.move --json > "$T/a.json"
contains "$T/a.json" '"action":"user.move","account":"R300","user":"U1002","old":"R100","new":"R300"' "the move is audited"

# a clear needs --allow-clear; clearing under 2FA needs --force too
sed 's/{id: U1001, name: Jane Smith, phone: "07400 111222"}/{id: U1001, name: Jane Smith, phone: ""}/' "$T/v3/accounts.yaml" > "$T/v4/accounts.yaml"
before=$(dump)
expect_exit 65 "a clear without --allow-clear is refused" tf db import "$T/v4/accounts.yaml"
contains "$T/err" "user U1001: the file clears the number 4474******22: needs --allow-clear" "the clear is named"
lacks "$T/err" "447400111222" "the refusal masks the number"
expect_exit 65 "a clear that locks out needs --force" tf db import --allow-clear "$T/v4/accounts.yaml"
contains "$T/err" "account R100 has 2FA on: U1001 (Jane Smith) would be locked out" "the lock-out names the user"
[ "$(dump)" = "$before" ] && ok "refused clears change nothing" || not_ok "a refused clear changed the database"
expect_exit 0 "--allow-clear --force" tf db import --allow-clear --force "$T/v4/accounts.yaml"
is_eq "$(phone_of U1001)" "none" "cleared"
is_eq "$(sql "SELECT note FROM audit WHERE action = 'user.phone' AND user = 'U1001' ORDER BY id DESC LIMIT 1")" "forced: locks out U1001 (Jane Smith)" "the audit row says forced"

# switching 2FA on for users without a mobile needs --force
expect_exit 0 "staff revokes C200 use_2fa" tf perm revoke C200 use_2fa
sed 's/{id: U2001, name: Bob Jones, phone: "07400 123456"}/{id: U2001, name: Bob Jones, phone: ""}/; s/use_2fa: false/use_2fa: true/' "$T/v4/accounts.yaml" > "$T/v5/accounts.yaml"
expect_exit 65 "a file switching use_2fa on for users without mobiles" tf db import --allow-clear "$T/v5/accounts.yaml"
contains "$T/err" "account C200 has 2FA on: U2001 (Bob Jones) would be locked out" "names who would be locked out"
is_eq "$(sql "SELECT count(*) FROM permissions WHERE account = 'C200'")" "0" "use_2fa not granted"

# what the file does not name is kept; --prune removes it
grep -v "U4001\|admin@bluesky" "$T/v4/accounts.yaml" > "$T/v6/accounts.yaml"
expect_exit 0 "a file without U4001" tf db import "$T/v6/accounts.yaml"
is_eq "$(sql "SELECT count(*) FROM users WHERE id = 'U4001'")" "1" "absent user kept without --prune"
is_eq "$(sql "SELECT count(*) FROM contacts WHERE addr = 'admin@bluesky.example'")" "1" "absent contact kept without --prune"
before=$(dump)
expect_exit 0 "--prune --dry-run" tf db import --prune --dry-run "$T/v6/accounts.yaml"
contains "$T/out" "- user U4001 (in R300, mobile 4474******67)" "the dry run lists the removal"
contains "$T/out" "- contact R300 admin@bluesky.example" "and the contact's"
contains "$T/out" "would remove 2" "the dry run counts removals"
lacks "$T/out" "447400234567" "the dry run masks numbers"
[ "$(dump)" = "$before" ] && ok "--dry-run changes nothing" || not_ok "--dry-run changed the database"
expect_exit 0 "--prune" tf db import --prune "$T/v6/accounts.yaml"
is_eq "$(sql "SELECT count(*) FROM users WHERE id = 'U4001'")" "0" "absent user removed with --prune"
is_eq "$(sql "SELECT count(*) FROM accounts WHERE id = 'R300'")" "1" "an account in the file stays"
tf audit --action user.delete --json > "$T/a.json"
contains "$T/a.json" '"user":"U4001","old":"447400234567","new":null' "the removal keeps the number in the audit"

# --dry-run shows every kind of change and makes none
sed 's/Acme Telecom/Acme Telecom Ltd/; s/07400 111222/07400 555666/; s/twofa: false/twofa: true/' "$T/v2/accounts.yaml" > "$T/v2/accounts.yaml.new"
mv "$T/v2/accounts.yaml.new" "$T/v2/accounts.yaml"
printf '      - {id: U1003, name: New Person, phone: "07400 777888"}\n' > "$T/new.txt"
before=$(dump)
n=$(rows)
expect_exit 0 "--dry-run" tf db import --dry-run --allow-move "$T/v2/accounts.yaml"
contains "$T/out" '~ account R100: name "Acme Telecom" -> "Acme Telecom Ltd"' "dry run: a name"
contains "$T/out" "~ user U1001: mobile (none) -> 4474******66" "dry run: a number, masked"
contains "$T/out" "~ user U1002: account R300 -> R100" "dry run: a move"
contains "$T/out" "dry run (nothing changed)" "dry run says so"
[ "$(dump)" = "$before" ] && ok "dry run: the database is the same" || not_ok "dry run changed the database"
is_eq "$(rows)" "$n" "dry run: no audit row"

# an older database (before the sync): its audit log kept numbers masked,
# and nothing remembered what the last import wrote. db init migrates it
# from the audit log; the masked values stay as they are.
C2="$T/old.yaml"
mkdir -p "$T/old"
sed "s|$T/var/tfadesk.db|$T/old/tfadesk.db|" "$C" > "$C2"
tf2() { tfadesk -c "$C2" "$@"; }
tf2 db init >/dev/null && tf2 db import "$T/v1/accounts.yaml" >/dev/null &&
tf2 user edit U1002 --phone "07400 234999" >/dev/null && tf2 perm grant R100 use_2fa >/dev/null
# tickets of every kind (the case fixtures and the demo maildir, one of
# 300 KB), processed (their rows rewritten): each raw message as queue
# show --raw gives it, before the undo and after the upgrade (step 12)
{ sed -n '1,/^$/p' "$TOP/tests/cases/01-twofa-missing.eml" | sed 's/^Message-ID:.*/Message-ID: <big.'$$'@example.com>/'
  awk 'BEGIN { for (i = 0; i < 5000; i++) printf "User ID: U%d mobile 07400 %06d the line %d of a long list\n", i, i, i }'; } > "$T/big.eml"
tf2 ingest "$TOP"/tests/cases/*.eml "$TOP"/samples/maildir/new/* "$T/big.eml" >/dev/null 2>&1
tf2 process >/dev/null 2>&1
raws() { for i in $(sqlite3 "$T/old/tfadesk.db" "SELECT id FROM tickets ORDER BY id"); do
	printf '%s ' "$i"; tf2 queue show "$i" --raw | md5sum; done; }
raws > "$T/raws.before"
n=$(wc -l < "$T/raws.before")
check "tickets in the old database ($n)" test "$n" -ge 100
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT max(length(raw)) FROM ticket_raw")
check "... one of them 300 KB ($n bytes)" test "$n" -ge 300000
tf2 queue list --json > "$T/list.before"
tf2 outbox list --json > "$T/outbox.before"
n=$(grep -o '"id":' "$T/outbox.before" | wc -l)
check "replies in the old outbox ($n)" test "$n" -ge 50
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT count(*) FROM tickets WHERE refused > 0")
check "tickets with refused users ($n)" test "$n" -gt 0
v=$(sqlite3 "$T/old/tfadesk.db" "PRAGMA user_version")
# undo step 13 (the refused count, contacts_addr_reseller), 12 (raw back in
# tickets, tickets_desk), 11 (the view), 10 (the sync's columns), 9 (the
# verifier's tables moved out)
sqlite3 "$T/old/tfadesk.db" "ALTER TABLE tickets DROP COLUMN refused;
DROP INDEX contacts_addr_reseller; CREATE INDEX contacts_addr ON contacts(addr COLLATE NOCASE);
ALTER TABLE tickets ADD COLUMN raw BLOB NOT NULL DEFAULT x'';
UPDATE tickets SET raw = (SELECT r.raw FROM ticket_raw r WHERE r.ticket_id = tickets.id);
DROP TABLE ticket_raw;
CREATE INDEX tickets_desk ON tickets(state, id, received, kind, account, assigned, from_addr, subject, reason, msgkey, source, fields);
UPDATE audit SET new = substr(new, 1, 4) || '******' || substr(new, -2) WHERE action IN ('user.create', 'user.phone') AND new IS NOT NULL;
DROP VIEW tfadesk_portal_v1;
DROP INDEX audit_actor; ALTER TABLE audit DROP COLUMN note; ALTER TABLE users DROP COLUMN imported_phone;
ALTER TABLE accounts DROP COLUMN imported_twofa;
CREATE TABLE challenges (user_id TEXT PRIMARY KEY, dest TEXT NOT NULL, code_hash BLOB,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL);
CREATE TABLE sms_log (id INTEGER PRIMARY KEY, user_id TEXT, dest TEXT NOT NULL, at INTEGER NOT NULL,
  status TEXT NOT NULL);
INSERT INTO challenges VALUES ('U1002', '447400234999', x'00', 1, 2, 1, 'pending');
INSERT INTO sms_log VALUES (7, 'U1002', '447400234999', 1, 'sent');
PRAGMA user_version = $((v - 6))"
# ... and 14 (the CHECKs on the state as SQLite wrote them before: IN lists)
sqlite3 "$T/old/tfadesk.db" "PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = replace(sql, 'CHECK (state = ''new'' OR    state = ''applied'' OR state = ''needs_review'' OR    state = ''rejected'' OR state = ''ignored'')',
  'CHECK (state IN    (''new'', ''applied'', ''needs_review'', ''rejected'', ''ignored''))') WHERE name = 'tickets';
UPDATE sqlite_master SET sql = replace(sql, 'CHECK (state = ''queued'' OR    state = ''sent'' OR state = ''failed'')',
  'CHECK (state IN    (''queued'', ''sent'', ''failed''))') WHERE name = 'outbox';
PRAGMA writable_schema = OFF;"
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('tickets', 'outbox') AND sql LIKE '%state IN%'")
check "the old CHECKs back in place ($n of 2)" test "$n" = 2
expect_exit 69 "an old database must be migrated first" tf2 account list
expect_exit 0 "db init migrates it" tf2 db init
contains "$T/out" "schema version $v" "migrated"
# schema 13: the refused counts made from the results as the readers made
# them, the same as process wrote them
tf2 queue list --json > "$T/list.after"
if cmp -s "$T/list.before" "$T/list.after"; then ok "queue list --json the same after the upgrade (refused counts)"; else
	not_ok "queue list --json changed by the upgrade"; diff "$T/list.before" "$T/list.after" | head -5; fi
# schema 14: tickets and outbox rebuilt, every row kept, the CHECKs as ORs
# and still refusing a state that does not exist
tf2 outbox list --json > "$T/outbox.after"
if cmp -s "$T/outbox.before" "$T/outbox.after"; then ok "outbox list --json the same after the upgrade"; else
	not_ok "outbox list --json changed by the upgrade"; diff "$T/outbox.before" "$T/outbox.after" | head -5; fi
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%state IN%'")
check "no IN list left in a CHECK ($n)" test "$n" = 0
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT count(*) FROM sqlite_master WHERE tbl_name IN ('tickets', 'outbox') AND type = 'index'")
check "the indexes of tickets and outbox made again ($n)" test "$n" -ge 10
expect_exit 19 "a ticket state that does not exist is refused (CHECK)" sqlite3 "$T/old/tfadesk.db" "UPDATE tickets SET state = 'gone' WHERE id = (SELECT min(id) FROM tickets)"
expect_exit 19 "a reply state that does not exist is refused (CHECK)" sqlite3 "$T/old/tfadesk.db" "UPDATE outbox SET state = 'gone' WHERE id = (SELECT min(id) FROM outbox)"
is_eq "$(sqlite3 "$T/old/tfadesk.db" "PRAGMA integrity_check; PRAGMA foreign_key_check")" "ok" "integrity and foreign keys after the rebuild"
# schema 12: the raw messages in ticket_raw, every byte kept
raws > "$T/raws.after"
if cmp -s "$T/raws.before" "$T/raws.after"; then ok "every raw message the same after the upgrade ($(wc -l < "$T/raws.after") tickets)"; else
	not_ok "every raw message the same after the upgrade"; diff "$T/raws.before" "$T/raws.after" | head -5; fi
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT (SELECT count(*) FROM tickets) - (SELECT count(*) FROM ticket_raw r JOIN tickets t ON t.id = r.ticket_id)")
check "a raw message for every ticket ($n missing)" test "$n" = 0
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT (SELECT count(*) FROM pragma_table_info('tickets') WHERE name = 'raw') + (SELECT count(*) FROM sqlite_master WHERE name = 'tickets_desk')")
check "tickets without raw, tickets_desk dropped ($n)" test "$n" = 0
# schema 5: the verifier's tables move to their own file
n=$(sqlite3 "$T/old/tfadesk-verify.db" "SELECT (SELECT count(*) FROM challenges WHERE user_id = 'U1002' AND attempts = 1) || (SELECT count(*) FROM sms_log WHERE id = 7)")
check "the verifier's codes and send log copied to its file ($n)" test "$n" = 11
n=$(sqlite3 "$T/old/tfadesk.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('challenges', 'sms_log')")
check "... and dropped from the main file ($n)" test "$n" = 0
expect_exit 0 "re-import after the upgrade" tf2 db import "$T/v1/accounts.yaml"
contains "$T/out" "changed 0, 0, 0" "the upgrade undoes nothing"
is_eq "$(sqlite3 "$T/old/tfadesk.db" "SELECT phone FROM users WHERE id = 'U1002'")" "447400234999" "the staff number stays after the upgrade"
is_eq "$(sqlite3 "$T/old/tfadesk.db" "SELECT twofa FROM accounts WHERE id = 'R100'")" "1" "the staff 2FA stays after the upgrade"
tf2 audit --user U1001 --json > "$T/a.json"
contains "$T/a.json" '"new":"4478******56"' "old masked audit values are left as they are"

# a bad file still names its line
printf 'resellers:\n  - {id: R1, name: X, twofa: maybe}\n' > "$T/bad.yaml"
expect_exit 65 "a bad file" tf db import "$T/bad.yaml"
contains "$T/err" "bad.yaml:2" "names the line"

# the file is read as events, not loaded whole: an alias (which lets a
# small file name a huge tree) and a NUL inside a value are refused
printf 'resellers:\n  - &r {id: R1, name: X}\n  - *r\n' > "$T/alias.yaml"
expect_exit 65 "an alias is refused" tf db import "$T/alias.yaml"
contains "$T/err" "alias.yaml:3: YAML alias *r: not supported" "names the alias and its line"
printf 'resellers:\n  - {id: "R1\\0x", name: X}\n' > "$T/nul.yaml"
expect_exit 65 "a NUL in a value is refused" tf db import "$T/nul.yaml"
contains "$T/err" "nul.yaml:2: a NUL character" "names the NUL and its line"
is_eq "$(sqlite3 "$T/var/tfadesk.db" "SELECT count(*) FROM accounts WHERE id = 'R1'")" "0" "neither file changed anything"

# a large file has its numbers checked on every core: refusals are still
# reported on their own lines, in file order, and nothing is changed
awk 'BEGIN { print "resellers:\n  - id: BIG\n    name: Big\n    users:"
	for (i = 0; i < 6000; i++)
		printf "      - {id: BIG%d, name: U%d, phone: \"%s\"}\n", i, i,
		    i == 1234 || i == 5555 ? "020 7946 0123" : sprintf("4474%08d", i) }' > "$T/big.yaml"
expect_exit 65 "two landlines among 6000 users" tf db import "$T/big.yaml"
is_eq "$(grep -c 'landline' "$T/err")" "2" "both refused"
is_eq "$(grep 'landline' "$T/err" | sed 's|.*big.yaml:\([0-9]*\):.*|\1|' | tr '\n' ' ')" "1239 5560 " "on their lines, in order"
lacks "$T/err" "020 7946" "the numbers masked"
is_eq "$(sql "SELECT count(*) FROM users WHERE id LIKE 'BIG%'")" "0" "nothing imported"
sed -i 's/020 7946 0123/07400 000001/' "$T/big.yaml"
expect_exit 0 "6000 users" tf db import "$T/big.yaml"
is_eq "$(sql "SELECT phone FROM users WHERE id = 'BIG5555'")" "447400000001" "normalised"
is_eq "$(sql "SELECT phone FROM users WHERE id = 'BIG4321'")" "447400004321" "each its own number"
finish
