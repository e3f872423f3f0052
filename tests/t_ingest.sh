#!/bin/sh
# t_ingest.sh - `tfadesk ingest`: stdin and files, stored once (Message-ID
# and identity digest: the same mail with the trace fields of a delivery
# and other line endings is one ticket; another mail reusing a Message-ID
# is a ticket of its own, in either order), 65 for an empty or oversized
# message, 75 while another process holds the database locked (so the MTA
# retries).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
need_sqlite3
C=$T/c.yaml
cat > "$C" <<YAML
database: $DB
source:
  type: maildir
  path: $T/maildir
limits:
  max_bytes: 2048
security:
  require_sender_auth: false
YAML
tf() { tfadesk -c "$C" "$@"; }
expect_exit 0 "db init" tf db init

mkmsg 1 > "$T/1.eml"
expect_exit 0 "ingest from stdin" sh -c "tfadesk -c '$C' ingest < '$T/1.eml'"
is_eq 1 "$(tickets)" "stored"
is_eq "ingest:$(sql "SELECT digest FROM tickets")" "$(sql "SELECT source FROM tickets")" "source key ingest:<identity digest>"
mkmsg 2 > "$T/2.eml"; mkmsg 3 "no id" - > "$T/3.eml"
expect_exit 0 "ingest two files" tf ingest "$T/2.eml" "$T/3.eml"
is_eq 3 "$(tickets)" "both stored"
is_eq 1 "$(sql "SELECT count(*) FROM tickets WHERE msgkey = 'digest:' || digest")" "no Message-ID: keyed by its digest"
expect_exit 0 "ingest all again" tf ingest "$T/1.eml" "$T/2.eml" "$T/3.eml"
expect_exit 0 "and from stdin" sh -c "tfadesk -c '$C' ingest - < '$T/3.eml'"
is_eq 3 "$(tickets)" "nothing stored twice"
{ printf 'From MAILER-DAEMON Thu Nov 27 10:00:00 2025\n'; mkmsg 4; } > "$T/4.eml"
expect_exit 0 "an mbox From line" tf ingest "$T/4.eml"
sql "SELECT substr($raw_text, 1, 5) FROM tickets WHERE id = (SELECT max(id) FROM tickets)" > "$T/head"
contains "$T/head" "From:" "envelope line dropped, headers kept"

expect_exit 65 "empty stdin" sh -c "tfadesk -c '$C' ingest < /dev/null"
printf '\r\n\r\n  \n' > "$T/blank.eml"
expect_exit 65 "blank message" tf ingest "$T/blank.eml"
head -c 5000 /dev/zero | tr '\0' x | { mkmsg 5; cat; } > "$T/big.eml"
expect_exit 65 "oversized message" tf ingest "$T/big.eml"
contains "$T/err" "max_bytes" "says why"
expect_exit 66 "missing file" tf ingest "$T/nonexistent.eml"
is_eq 4 "$(tickets)" "nothing stored from bad input"

# another process holds the write lock: temporary failure, then retry works
# (SQLite: BEGIN EXCLUSIVE; PostgreSQL: the tickets table locked, given
# up after lock_timeout as SQLite's busy timeout)
mkfifo "$T/lock"
if [ "$ON_PG" = 1 ]; then
	"$PG_BIN/psql" -qAtX -d "$DB" < "$T/lock" > "$T/lock.out" 2>&1 &
else
	sqlite3 "$DB" < "$T/lock" > "$T/lock.out" 2>&1 &
fi
lockpid=$!
at_exit "kill $lockpid 2>/dev/null"
exec 3> "$T/lock"
if [ "$ON_PG" = 1 ]; then
	printf 'BEGIN;\nLOCK TABLE tickets IN ACCESS EXCLUSIVE MODE;\nSELECT %s;\n' "'locked'" >&3
else
	printf 'BEGIN EXCLUSIVE;\nINSERT INTO kv VALUES (%s, %s);\nSELECT %s;\n' "'lock'" "'x'" "'locked'" >&3
fi
for _ in $(seq 1 100); do grep -q locked "$T/lock.out" && break; sleep 0.1; done
contains "$T/lock.out" "locked" "another session holds the database locked"
mkmsg 6 > "$T/6.eml"
expect_exit 75 "database locked: exit 75 (EX_TEMPFAIL)" sh -c "tfadesk -c '$C' ingest < '$T/6.eml'"
exec 3>&-
wait $lockpid
expect_exit 0 "the MTA retries: stored" sh -c "tfadesk -c '$C' ingest < '$T/6.eml'"
is_eq 5 "$(tickets)" "stored once"
is_eq 0 "$(dups)" "no duplicates"

# --- identity: the trace fields a delivery adds (Postfix, a DKIM/ARC
# milter, the LDA) and LF line endings do not make another message
mkmsg 7 > "$T/7.eml"
expect_exit 0 "ingest a message (CRLF)" tf ingest "$T/7.eml"
first=$(sql "SELECT max(id) FROM tickets")
{ trace_fields 7; mkmsg 7 | tr -d '\r'; } > "$T/7-delivered.eml"
expect_exit 0 "the same message as delivered (trace fields, LF)" tf -v ingest "$T/7-delivered.eml"
is_eq 6 "$(tickets)" "one ticket"
contains "$T/err" "already stored as ticket $first" "known as the first copy"
mkmsg 3 "no id" - | tr -d '\r' | { trace_fields 3; cat; } > "$T/3-delivered.eml"
expect_exit 0 "no Message-ID, delivered" tf ingest "$T/3-delivered.eml"
is_eq 6 "$(tickets)" "no Message-ID: one ticket too"

# --- a different message reusing a stored Message-ID: its own ticket
mkmsg 7 | sed 's/User ID: U7/User ID: U666/' > "$T/7-forged.eml"
expect_exit 0 "a forged message with ticket $first's Message-ID" tf -v ingest "$T/7-forged.eml"
is_eq 7 "$(tickets)" "stored as a ticket of its own"
contains "$T/err" "held for staff" "ingest says it is held"
sql "SELECT $raw_text FROM tickets WHERE id = $first" > "$T/first"
contains "$T/first" "User ID: U7" "the genuine ticket keeps its message"
lacks "$T/first" "U666" "nothing of the forged one in it"
expect_exit 0 "the forged one again" tf ingest "$T/7-forged.eml"
is_eq 7 "$(tickets)" "stored once as well"
# the other order: the forgery predicted the Message-ID and came first
mkmsg 8 | sed 's/User ID: U8/User ID: U666/' > "$T/8-forged.eml"
mkmsg 8 > "$T/8.eml"
expect_exit 0 "a forgery first" tf ingest "$T/8-forged.eml"
expect_exit 0 "then the genuine message" tf -v ingest "$T/8.eml"
is_eq 9 "$(tickets)" "the genuine message is a ticket, not swallowed"
contains "$T/err" "held for staff" "and held for staff"
is_eq 2 "$(sql "SELECT count(*) FROM tickets WHERE msgkey = 'msg8.$$@example.com'")" "two tickets share the Message-ID"

# an MTA defers on 75 and bounces on anything else: every failure a person
# can fix answers 75, so no reseller's ticket bounces
mkmsg 10 > "$T/10.eml"
printf 'database: %s\nsource: {type: maildir, path: %s}\nbogus_key: 1\n' "$DB" "$T/md" > "$T/bad.yaml"
expect_exit 75 "a broken configuration: 75, the MTA defers" sh -c "tfadesk -c '$T/bad.yaml' ingest < '$T/10.eml'"
contains "$T/err" "deferred" "and says the mail is deferred"
expect_exit 75 "a missing configuration: 75" sh -c "tfadesk -c '$T/none.yaml' ingest < '$T/10.eml'"
sed "s#^database: .*#database: $T/nodir/sub/tfadesk.db#" "$C" > "$T/nodb.yaml"
expect_exit 75 "a database that cannot be opened: 75" sh -c "tfadesk -c '$T/nodb.yaml' ingest < '$T/10.eml'"
expect_exit 0 "once fixed: stored" sh -c "tfadesk -c '$C' ingest < '$T/10.eml'"
finish
