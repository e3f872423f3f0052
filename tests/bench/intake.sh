#!/bin/sh
# tests/bench/intake.sh - intake benchmark: N (default 10000) tickets in a
# private Dovecot mailbox; time `tfadesk fetch` of them beside the floor set
# by the server, one raw `UID FETCH 1:* (BODY.PEEK[])` of the same mailbox
# (curl); print both, their ratio and tfadesk's peak RSS.
# Targets: ratio <= 1.5, peak RSS < 64 MB. Env: BENCH_N, BENCH_BATCH.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TF=${TFADESK:-$TOP/tfadesk}
N=${BENCH_N:-10000}
: "${IMAP_PORT:=10143}" "${POP3_PORT:=10110}" "${IMAPS_PORT:=10993}" "${POP3S_PORT:=10995}"
export IMAP_PORT POP3_PORT IMAPS_PORT POP3S_PORT
for c in /usr/bin/python3 /usr/bin/time sqlite3; do
	command -v $c >/dev/null || { echo "intake: $c not installed (make deps)"; exit 77; }
done
[ -x "$TF" ] || { echo "intake: $TF not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX"); chmod 755 "$T"
D=$T/dovecot
trap 'bash "$TOP/tests/servers/stop-dovecot.sh" "$D"; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
bash "$TOP/tests/servers/start-dovecot.sh" "$D" >/dev/null || exit $?
MB=$D/mail/support/Maildir

# N tickets of ~2 KB written straight into new/ (as the mail owner)
awk -v n="$N" -v dir="$MB/new" 'BEGIN {
	body = ""
	for (l = 0; l < 24; l++)
		body = body "Please add the mobile number for this user, line " l " of the request text.\r\n"
	for (i = 1; i <= n; i++) {
		f = sprintf("%s/%010d.M%dP1.bench", dir, 1700000000 + i, i)
		printf "Return-Path: <noc%d@acme.example>\r\n", i > f
		printf "From: NOC %d <noc%d@acme.example>\r\nTo: support@500.uk.com\r\n", i, i > f
		printf "Subject: Missing number U%d\r\nDate: Thu, 27 Nov 2025 10:00:00 +0000\r\n", i > f
		printf "Message-ID: <bench-%d@acme.example>\r\nMIME-Version: 1.0\r\n", i > f
		printf "Content-Type: text/plain; charset=utf-8\r\n\r\n", i > f
		printf "User ID: U%d\r\nName: User %d\r\nMobile: 07400 %06d\r\n\r\n%s", i, i, i, body > f
		close(f)
	}
}'
chown -R nobody: "$MB" 2>/dev/null
bytes=$(du -sk "$MB/new" | cut -f1)

cat > "$T/c.yaml" <<YAML
database: $T/var/tfadesk.db
source:
  type: imap
  host: 127.0.0.1
  port: $IMAP_PORT
  user: support
  password_file: $T/pw
  tls: none
  after: seen
  batch: ${BENCH_BATCH:-1000}
security:
  require_sender_auth: false
YAML
echo secret > "$T/pw"
chmod 600 "$T/pw"
"$TF" -c "$T/c.yaml" db init >/dev/null || exit 1

# The floor: tests/bench/imap_floor.c, a small C client that logs in,
# sends one UID FETCH 1:* (BODY.PEEK[]) and reads the answer to its end,
# parsing nothing; floor+mark adds one UID STORE 1:* +FLAGS.SILENT (\Seen),
# what the server itself must do for `after: seen`.
cc -O2 -o "$T/imap_floor" "$TOP/tests/bench/imap_floor.c" || exit 1
# warm up: Dovecot indexes the new files once (not counted for either side)
"$T/imap_floor" "$IMAP_PORT" support secret >/dev/null
url=imap://127.0.0.1:$IMAP_PORT/INBOX
best=; best_mark=
for _ in 1 2 3; do
	"$T/imap_floor" "$IMAP_PORT" support secret mark > "$T/floor.out" || exit 1
	read -r ms mark_ms got fbytes < "$T/floor.out"
	curl -s -u support:secret "$url" -X 'UID STORE 1:* -FLAGS.SILENT (\Seen)' >/dev/null
	[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	[ -z "$best_mark" ] || [ $((ms + mark_ms)) -lt "$best_mark" ] && best_mark=$((ms + mark_ms))
done
floor_ms=$best
floor_mark_ms=$best_mark

# fetch only (nothing stored or flagged), for the breakdown
/usr/bin/time -f '%e' -o "$T/time.dry" "$TF" -c "$T/c.yaml" fetch --dry-run >/dev/null 2>&1
dry_ms=$(awk '{ printf "%d", $1 * 1000 }' "$T/time.dry")

/usr/bin/time -f '%e %M %U %S' -o "$T/time" "$TF" -c "$T/c.yaml" fetch > "$T/fetch.out" 2> "$T/fetch.err"
rc=$?
read -r _ rss_kb cpu_u cpu_s < "$T/time"
fetch_ms=$(awk '{ printf "%d", $1 * 1000 }' "$T/time")
stored=$(sqlite3 "$T/var/tfadesk.db" 'SELECT count(*) FROM tickets' 2>/dev/null || echo "?")
seen=$(find "$MB/cur" -name '*:2,*S*' | wc -l)
[ $rc -eq 0 ] || { echo "intake: tfadesk fetch failed ($rc):"; cat "$T/fetch.err"; exit 1; }

ratio=$(awk -v a="$fetch_ms" -v b="$floor_mark_ms" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
ratio_read=$(awk -v a="$fetch_ms" -v b="$floor_ms" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
echo "intake: $N messages ($((bytes / 1024)) MB in the maildir), batch ${BENCH_BATCH:-1000}"
echo "  floor      C client, UID FETCH 1:* (BODY.PEEK[]):  ${floor_ms} ms ($got messages, $((fbytes / 1048576)) MB; best of 3)"
echo "  floor+mark the same + UID STORE 1:* +FLAGS.SILENT:   ${floor_mark_ms} ms"
echo "  tfadesk fetch (store, durable, + \\Seen):           ${fetch_ms} ms ($stored tickets, $seen flagged; CPU $(awk -v u="$cpu_u" -v s="$cpu_s" 'BEGIN { printf "%d ms", (u + s) * 1000 }'))"
echo "  breakdown: fetch --dry-run (read, parse, nothing stored or flagged) ${dry_ms} ms"
echo "  ratio to floor+mark ${ratio} (target <= 1.5); to the read-only floor ${ratio_read}"
echo "  peak RSS ${rss_mb} MB (target < 64)"
awk -v r="$ratio" -v m="$rss_mb" 'BEGIN { exit !(r <= 1.5 && m < 64) }' &&
	echo "  targets met" || echo "  TARGET MISSED"
[ "$stored" = "$N" ] || { echo "intake: stored $stored of $N"; exit 1; }
exit 0
