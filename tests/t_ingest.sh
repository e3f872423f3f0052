#!/bin/sh
# t_ingest.sh - `tfadesk ingest`: stdin and files, stored once (Message-ID,
# else a SHA-256 of the bytes), 65 for an empty or oversized message, 75
# while another process holds the database locked (so the MTA retries).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed"; exit 77; }
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
is_eq "ingest:msg1.$$@example.com" "$(sql "SELECT source FROM tickets")" "source key ingest:<Message-ID>"
mkmsg 2 > "$T/2.eml"; mkmsg 3 "no id" - > "$T/3.eml"
expect_exit 0 "ingest two files" tf ingest "$T/2.eml" "$T/3.eml"
is_eq 3 "$(tickets)" "both stored"
is_eq 1 "$(sql "SELECT count(*) FROM tickets WHERE msgkey LIKE 'sha256:%'")" "no Message-ID: keyed by hash"
expect_exit 0 "ingest all again" tf ingest "$T/1.eml" "$T/2.eml" "$T/3.eml"
expect_exit 0 "and from stdin" sh -c "tfadesk -c '$C' ingest - < '$T/3.eml'"
is_eq 3 "$(tickets)" "nothing stored twice"
{ printf 'From MAILER-DAEMON Thu Nov 27 10:00:00 2025\n'; mkmsg 4; } > "$T/4.eml"
expect_exit 0 "an mbox From line" tf ingest "$T/4.eml"
sql "SELECT substr(CAST(raw AS TEXT), 1, 5) FROM tickets WHERE id = 4" > "$T/head"
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
mkfifo "$T/lock"
sqlite3 "$DB" < "$T/lock" > "$T/lock.out" 2>&1 &
lockpid=$!
at_exit "kill $lockpid 2>/dev/null"
exec 3> "$T/lock"
printf 'BEGIN EXCLUSIVE;\nINSERT INTO kv VALUES (%s, %s);\nSELECT %s;\n' "'lock'" "'x'" "'locked'" >&3
for _ in $(seq 1 100); do grep -q locked "$T/lock.out" && break; sleep 0.1; done
contains "$T/lock.out" "locked" "sqlite3 holds BEGIN EXCLUSIVE"
mkmsg 6 > "$T/6.eml"
expect_exit 75 "database locked: exit 75 (EX_TEMPFAIL)" sh -c "tfadesk -c '$C' ingest < '$T/6.eml'"
exec 3>&-
wait $lockpid
expect_exit 0 "the MTA retries: stored" sh -c "tfadesk -c '$C' ingest < '$T/6.eml'"
is_eq 5 "$(tickets)" "stored once"
is_eq 0 "$(dups)" "no duplicates"

# an MTA defers on 75 and bounces on anything else: every failure a person
# can fix answers 75, so no reseller's ticket bounces
mkmsg 7 > "$T/7.eml"
printf 'database: %s\nsource: {type: maildir, path: %s}\nbogus_key: 1\n' "$DB" "$T/md" > "$T/bad.yaml"
expect_exit 75 "a broken configuration: 75, the MTA defers" sh -c "tfadesk -c '$T/bad.yaml' ingest < '$T/7.eml'"
contains "$T/err" "deferred" "and says the mail is deferred"
expect_exit 75 "a missing configuration: 75" sh -c "tfadesk -c '$T/none.yaml' ingest < '$T/7.eml'"
sed "s#^database: .*#database: $T/nodir/sub/tfadesk.db#" "$C" > "$T/nodb.yaml"
expect_exit 75 "a database that cannot be opened: 75" sh -c "tfadesk -c '$T/nodb.yaml' ingest < '$T/7.eml'"
expect_exit 0 "once fixed: stored" sh -c "tfadesk -c '$C' ingest < '$T/7.eml'"
finish
