#!/bin/sh
# t_maildir.sh - the maildir source: new/ and cur/ in name order, keys
# without the ":2," info, source.after seen (S flag added, flags kept),
# delete and move:FOLDER (Maildir++), oversized messages left in place,
# --dry-run, and a message stored before a crash only moved afterwards.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
need_sqlite3
M=$T/maildir
C=$T/c.yaml
cfg() {
	cat > "$C" <<YAML
database: $DB
source:
  type: maildir
  path: $M
  after: $1
limits:
  max_bytes: 2048
security:
  require_sender_auth: false
YAML
}
tf() { tfadesk -c "$C" "$@"; }
mkdir -p "$M/new" "$M/cur" "$M/tmp"
cfg seen
expect_exit 0 "db init" tf db init

mkmsg 1 > "$M/new/1700000001.A.host"
mkmsg 2 > "$M/new/1700000002.B.host"
mkmsg 3 > "$M/cur/1700000000.C.host:2,F"
mkmsg 4 "no id" - > "$M/new/1700000003.D.host"
expect_exit 0 "dry run" tf fetch --dry-run
is_eq 0 "$(tickets)" "dry run stores nothing"
is_eq 3 "$(ls "$M/new" | wc -l)" "dry run moves nothing"
expect_exit 0 "fetch" tf fetch
is_eq 4 "$(tickets)" "4 tickets"
is_eq "maildir:1700000001.A.host" "$(sql "SELECT source FROM tickets ORDER BY id LIMIT 1")" "new/ first, in name order; key without info"
is_eq "maildir:1700000000.C.host" "$(sql "SELECT source FROM tickets ORDER BY id LIMIT 1 OFFSET 3")" "then cur/"
is_eq 0 "$(ls "$M/new" | wc -l)" "new/ emptied"
check "cur/ has the S flag added" test -f "$M/cur/1700000001.A.host:2,S"
check "existing flags kept, S added in order" test -f "$M/cur/1700000000.C.host:2,FS"
expect_exit 0 "fetch again" tf fetch
contains "$T/out" "0 new, 0 already stored" "seen messages are skipped quietly"

# stored before a crash, not yet moved: found by key, only moved now
cp "$M/cur/1700000002.B.host:2,S" "$M/new/1700000002.B.host"
expect_exit 0 "fetch after a simulated crash" tf fetch
is_eq 4 "$(tickets)" "not stored twice"
is_eq 0 "$(ls "$M/new" | wc -l)" "moved to cur/"

# oversized: left in place with a warning
head -c 3000 /dev/zero | tr '\0' x | { mkmsg 5; cat; } > "$M/new/1700000005.E.host"
expect_exit 0 "fetch with an oversized message" tf fetch
contains "$T/err" "1700000005.E.host" "warning names the file"
contains "$T/err" "max_bytes" "warning says why"
check "oversized message left in new/" test -f "$M/new/1700000005.E.host"
is_eq 4 "$(tickets)" "oversized message not stored"
rm -f "$M/new/1700000005.E.host"

# delete
cfg delete
mkmsg 6 > "$M/new/1700000006.F.host"
expect_exit 0 "fetch with delete" tf fetch
is_eq 5 "$(tickets)" "stored"
check "deleted" test ! -e "$M/new/1700000006.F.host"
check "already-stored messages deleted too" test ! -e "$M/cur/1700000001.A.host:2,S"

# move:Processed (Maildir++ .Processed, created)
cfg move:Processed
mkmsg 7 > "$M/new/1700000007.G.host"
mkmsg 8 > "$M/cur/1700000008.H.host:2,RS"
expect_exit 0 "fetch with move:Processed" tf fetch
is_eq 7 "$(tickets)" "stored"
check "new/ message moved to .Processed/new" test -f "$M/.Processed/new/1700000007.G.host"
check "cur/ message moved with its flags" test -f "$M/.Processed/cur/1700000008.H.host:2,RS"
check "Processed is a maildir" test -d "$M/.Processed/tmp"
is_eq 0 "$(find "$M/new" "$M/cur" -type f | wc -l)" "INBOX empty"
expect_exit 0 "fetch again" tf fetch
is_eq 7 "$(tickets)" "Processed is not read again"
is_eq 0 "$(dups)" "no duplicates"

cfg move:../x
expect_exit 78 "a folder name with / is refused" tf fetch
finish
