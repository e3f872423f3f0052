#!/bin/sh
# t_send_smtp.sh - `tfadesk send` against a real SMTP sink on 127.0.0.1
# (tests/servers/smtp_sink.py, aiosmtpd) with STARTTLS and AUTH:
#   replies arrive once, threaded (In-Reply-To / References), to Reply-To
#   when present else From; a rerun sends nothing twice;
#   sink stopped: send and batch exit 75, the reply stays queued, and it
#   arrives once the sink is back; a 5xx marks it failed with the answer;
#   a wrong SMTP password keeps it queued (exit 69).
. "$(dirname "$0")/lib.sh"
need_sqlite3
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "python3-aiosmtpd not installed"; exit 77; }
: "${SMTP_PORT:=10025}"
export SMTP_PORT
S=$T/sink
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
sql() { dbq main "$1"; }
sink_pid=
sink_start() {
	sink_pid=$(SMTP_TLS=1 SMTP_AUTH=support:smtppw \
	    bash "$TOP/tests/servers/start-smtp-sink.sh" "$S") ||
	    { echo "smtp sink did not start"; exit 1; }
}
# the sink numbers its files from 0001 each time: keep them in $G
G=$T/got
mkdir -p "$G"
sink_stop() {
	[ -n "$sink_pid" ] && bash "$TOP/tests/servers/stop-pid.sh" "$sink_pid"
	sink_pid=
	for f in "$S"/out/*.json; do
		[ -f "$f" ] || continue
		k=$(ls "$G" | grep -c '\.json$')
		b=$(printf 'g%04d' $((k + 1)))
		mv "${f%.json}.eml" "$G/$b.eml"; mv "$f" "$G/$b.json"
	done
}
at_exit 'sink_stop'
nmail() { ls "$S/out" "$G" 2>/dev/null | grep -c '\.json$'; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
# hdr FILE NAME: the unfolded value of header NAME
hdr() { awk -v h="$2" 'BEGIN{IGNORECASE=1} /^\r?$/{exit}
	/^[ \t]/{ if (on) { sub(/^[ \t]+/, " "); v = v $0 }; next }
	{ on = 0 } tolower(substr($0, 1, length(h) + 1)) == tolower(h) ":" {
	on = 1; v = substr($0, length(h) + 3) } END { gsub(/\r/, "", v); print v }' "$1"; }

mkdir -p "$T/maildir/new" "$T/maildir/cur" "$T/maildir/tmp"
echo smtppw > "$T/smtp.pw"
chmod 600 "$T/smtp.pw"
sink_start
write_smtp_config() {
	REPLY_YAML="  transport: smtp
  smtp_url: smtp://127.0.0.1:$SMTP_PORT
  smtp_user: support
  smtp_password_file: $1
  ca_file: $S/tls/cert.pem
  timeout: 10" SENDER_AUTH=false write_config "$C"
}
write_smtp_config "$T/smtp.pw"
cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example, "Ops Team <ops@acme.example>"]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
      - {id: U1002, name: Raj Patel}
YAML
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$T/accounts.yaml"

# mail N FROM [REPLY-TO]: a 2FA request from a contact, on stdin of ingest
mail() {
	printf 'From: Acme NOC <%s>\r\n' "$2"
	[ -n "${3:-}" ] && printf 'Reply-To: %s\r\n' "$3"
	printf 'To: support@500.uk.com\r\nSubject: 2FA Set Up\r\n'
	printf 'Date: Fri, 28 Nov 2025 10:00:00 +0000\r\n'
	printf 'Message-ID: <req%s@acme.example>\r\n' "$1"
	printf 'References: <root%s@acme.example>\r\n' "$1"
	printf 'Authentication-Results: mx.500.uk.com; dkim=pass header.d=acme.example; spf=pass smtp.mailfrom=acme.example\r\n'
	printf '\r\nHello,\r\n\r\nPlease switch on 2FA for our reseller account R100.\r\n\r\nThanks,\r\nNOC\r\n'
}
queue_one() {   # N FROM [REPLY-TO]: ingest + process; one more reply queued
	mail "$@" > "$T/m$1.eml"
	tf ingest "$T/m$1.eml" >/dev/null 2>&1 || not_ok "ingest $1"
	tf process >/dev/null 2>&1
}

# --- 1. Reply-To wins; From otherwise; STARTTLS + AUTH; threading
queue_one 1 noc@acme.example tickets@acme.example
queue_one 2 ops@acme.example
q=$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")
is_eq 2 "$q" "process queued the two replies"
expect_exit 0 "send" tf send
is_eq 2 "$(nmail)" "two replies arrived"
is_eq 0 "$(sql "SELECT count(*) FROM outbox WHERE state != 'sent'")" "outbox all sent"
j1=$(grep -l 'tickets@acme.example' "$S"/out/*.json | head -1)
j2=$(grep -l '"ops@acme.example"' "$S"/out/*.json | head -1)
[ -n "$j1" ] && ok "reply 1 went to Reply-To" || not_ok "reply 1 went to Reply-To"
[ -n "$j2" ] && ok "reply 2 went to From" || not_ok "reply 2 went to From"
for j in $j1 $j2; do
	contains "$j" '"tls": true' "$(basename "$j"): STARTTLS used"
	contains "$j" '"auth_user": "support"' "$(basename "$j"): AUTH used"
	contains "$j" '"mail_from": "support@500.uk.com"' "envelope sender"
done
e1=${j1%.json}.eml
is_eq "<req1@acme.example>" "$(hdr "$e1" In-Reply-To)" "In-Reply-To"
is_eq "<root1@acme.example> <req1@acme.example>" "$(hdr "$e1" References)" "References"
is_eq "auto-replied" "$(hdr "$e1" Auto-Submitted)" "Auto-Submitted"
is_eq "tickets@acme.example" "$(hdr "$e1" To | sed 's/.*<//; s/>.*//')" "To: header is Reply-To"
is_eq "Re: 2FA Set Up" "$(hdr "$e1" Subject)" "Subject"
lacks "$e1" "7890123456" "no full number in the reply"
lacks "$e1" "7890 123456" "no full number in the reply (spaced)"

# --- 2. a rerun sends nothing twice
expect_exit 0 "send again" tf send
contains "$T/out" "sent 0" "second send sends nothing"
is_eq 2 "$(nmail)" "still two messages at the sink"

# --- 3. sink stopped: 75, still queued; arrives once it is back
sink_stop
queue_one 3 noc@acme.example
expect_exit 75 "send with the sink stopped exits 75" tf send
is_eq 1 "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued' AND last_error IS NOT NULL")" \
	"reply still queued, with the error"
later=$(( $(date +%s) + 7200 ))
TFADESK_NOW=$later expect_exit 75 "batch with the sink stopped exits 75" tf batch
is_eq 1 "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")" "still queued after batch"
a=$(sql "SELECT attempts FROM outbox WHERE state = 'queued'")
nt=$(sql "SELECT next_try FROM outbox WHERE state = 'queued'")
[ "$nt" -gt "$later" ] && ok "back-off: next try later (attempts $a)" || not_ok "back-off next_try $nt"
sink_start
expect_exit 0 "send before the back-off ends sends nothing" tf send
is_eq 2 "$(nmail)" "nothing sent before next_try"
TFADESK_NOW=$(( later + 86400 )) expect_exit 0 "send once the sink is back" tf send
is_eq 3 "$(nmail)" "the queued reply arrived"
TFADESK_NOW=$(( later + 86400 )) expect_exit 0 "send again" tf send
is_eq 3 "$(nmail)" "and only once"

# --- 4. a 5xx marks the reply failed with the server's answer
sink_stop
SMTP_ARGS="--reject-rcpt bounce-me@acme.example" sink_start
queue_one 4 noc@acme.example reject@acme.example
queue_one 5 noc@acme.example
sink_stop
SMTP_ARGS="--reject-rcpt reject@acme.example" sink_start
expect_exit 0 "send with one recipient refused" tf send
err=$(sql "SELECT last_error FROM outbox WHERE rcpt = 'reject@acme.example'")
st=$(sql "SELECT state FROM outbox WHERE rcpt = 'reject@acme.example'")
is_eq failed "$st" "refused reply marked failed"
case "$err" in *"550"*"User unknown"*) ok "failed with the server's answer: $err" ;;
	*) not_ok "last_error: $err" ;; esac
is_eq 4 "$(nmail)" "the other reply went"
expect_exit 0 "send again" tf send
is_eq 4 "$(nmail)" "nothing sent twice, failed not retried"

# --- 5. wrong password: kept queued, 69
queue_one 6 noc@acme.example
echo wrong > "$T/bad.pw"
chmod 600 "$T/bad.pw"
write_smtp_config "$T/bad.pw"
expect_exit 69 "wrong SMTP password: exit 69" tf send
is_eq queued "$(sql "SELECT state FROM outbox WHERE id = (SELECT max(id) FROM outbox)")" \
	"reply still queued after an AUTH failure"
write_smtp_config "$T/smtp.pw"
expect_exit 0 "right password" tf send
is_eq 5 "$(nmail)" "arrived"

# --- 6. certificate checked: a wrong CA is refused, nothing sent
queue_one 7 noc@acme.example
sed -i "s#ca_file: .*#ca_file: /etc/ssl/certs/ca-certificates.crt#" "$C"
expect_exit 69 "unknown certificate refused" tf send
is_eq 5 "$(nmail)" "nothing sent over an unchecked TLS session"
write_smtp_config "$T/smtp.pw"
expect_exit 0 "send" tf send
is_eq 6 "$(nmail)" "arrived with the right CA"

# --- 7. --dry-run sends nothing and changes nothing
queue_one 8 noc@acme.example
sum1=$(sql "SELECT id || state || attempts FROM outbox ORDER BY id")
expect_exit 0 "send --dry-run" tf send --dry-run
contains "$T/out" "would send" "dry run says what it would send"
is_eq 6 "$(nmail)" "dry run sent nothing"
is_eq "$sum1" "$(sql "SELECT id || state || attempts FROM outbox ORDER BY id")" "dry run changed no row"
finish
