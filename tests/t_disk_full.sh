#!/bin/sh
# t_disk_full.sh - `tfadesk fetch` and `tfadesk batch` with the database on
# a full disk (a 2 MB tmpfs; skipped where mount is not allowed): the group
# is stored in halves so that what fits is stored, the summary counts exactly
# what was stored, no spurious rollback error, exit 75, and nothing is lost:
# the messages not stored stay unflagged in the source. With room again, a
# rerun stores the rest, each message once.
. "$(dirname "$0")/lib.sh"
sqlite_only "a full disk through SQLite's max_page_count on the file"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed"; exit 77; }
C=$T/c.yaml
V=$T/var
DB=$V/tfadesk.db
N=2000
tf() { tfadesk -c "$C" "$@"; }
sql() { sqlite3 -cmd ".timeout 5000" -batch -noheader "$DB" "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
mkdir -p "$V"
mount -t tmpfs -o size=2m tmpfs "$V" 2>/dev/null || { echo "cannot mount a tmpfs here"; exit 77; }
at_exit "umount '$V'"
write_config "$C"
sed -i 's/require_sender_auth: true/require_sender_auth: false/' "$C"
pad=$(head -c 1500 /dev/zero | tr '\0' 'x')
i=1
while [ $i -le $N ]; do
	printf 'From: c%d@example.com\r\nTo: support@500.uk.com\r\nSubject: full %d\r\nMessage-ID: <full%d@example.com>\r\n\r\nmessage %d\r\n%s\r\n' \
	    $i $i $i $i "$pad" > "$T/maildir/new/$i.test"
	i=$((i + 1))
done
expect_exit 0 "db init on a 2 MB tmpfs" tf db init
flagged() { find "$T/maildir/cur" -type f -name '*:2,*S*' | wc -l; }
left() { find "$T/maildir/new" -type f | wc -l; }

expect_exit 75 "fetch with the disk full: exit 75" tf fetch
cp "$T/out" "$T/f.out"; cp "$T/err" "$T/f.err"; sed "s/^/    # /" "$T/f.err" | head -20
k=$(sql "SELECT count(*) FROM tickets")
[ "$k" -gt 0 ] && [ "$k" -lt $N ] && ok "what fits is stored ($k of $N)" ||
	not_ok "stored $k of $N: wanted some, not all"
contains "$T/f.out" "fetched $k new" "the summary counts exactly what was stored"
lacks "$T/f.err" "rollback" "no spurious rollback error"
contains "$T/f.err" "not stored, left on the source" "says what was left"
is_eq "$k" "$(flagged)" "exactly the stored messages are flagged"
is_eq $((N - k)) "$(left)" "the rest stays unflagged in the source"

expect_exit 75 "batch with the disk still full: exit 75" tf batch
cp "$T/out" "$T/b.out"; cp "$T/err" "$T/b.err"
k2=$(sql "SELECT count(*) FROM tickets")
contains "$T/b.out" "fetched $((k2 - k))," "batch: counts what it stored ($((k2 - k)))"
lacks "$T/b.err" "rollback" "batch: no spurious rollback error"
is_eq $((N - k2)) "$(left)" "batch: the rest stays unflagged"

mount -o remount,size=64m "$V"
expect_exit 0 "with room again, fetch" tf fetch
is_eq $N "$(sql "SELECT count(*) FROM tickets")" "every message stored"
is_eq 0 "$(sql "SELECT count(*) FROM (SELECT 1 FROM tickets GROUP BY msgkey HAVING count(*) > 1)")" "none twice"
is_eq $N "$(flagged)" "every message flagged"
is_eq ok "$(sql "PRAGMA integrity_check")" "database consistent"
finish
