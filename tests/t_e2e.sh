#!/bin/sh
# t_e2e.sh - the whole main job against real servers on 127.0.0.1:
# tickets APPENDed to a private Dovecot, `tfadesk batch` fetching them over
# IMAP with STARTTLS, processing them with the shipped rules and templates,
# and sending the replies to the SMTP sink with STARTTLS and AUTH; then the
# database (numbers, 2FA flag, audit, ticket states, outbox), the server's
# flags and the delivered replies are checked. A loop mail gets no reply.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "python3-aiosmtpd not installed"; exit 77; }
. "$TOP/tests/servers/intake-lib.sh"
export TLS_SAN=DNS:localhost
dovecot_start
: "${SMTP_PORT:=10025}"
export SMTP_PORT
S=$T/sink
sink_pid=$(SMTP_TLS=1 SMTP_AUTH=support:smtppw \
    bash "$TOP/tests/servers/start-smtp-sink.sh" "$S") || { echo "smtp sink did not start"; exit 1; }
at_exit "bash '$TOP/tests/servers/stop-pid.sh' $sink_pid"
echo smtppw > "$T/smtp.pw"
chmod 600 "$T/smtp.pw"
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
nmail() { ls "$S/out" 2>/dev/null | grep -c '\.json$'; }
# the delivered reply (.eml) threaded to Message-ID $1
reply_to() { grep -l "^In-Reply-To: <$1>" "$S"/out/*.eml 2>/dev/null | head -1; }

source_config "$C" imap "$IMAP_PORT" starttls seen localhost
# SMTP out instead of the spool
sed -i '/^reply:/,/^security:/{/^reply:/!{/^security:/!d}}' "$C"
sed -i "s#^reply:#reply:\n  from: \"SIP Trunk Plus Support <support@500.uk.com>\"\n  transport: smtp\n  smtp_url: smtp://127.0.0.1:$SMTP_PORT\n  smtp_user: support\n  smtp_password_file: $T/smtp.pw\n  ca_file: $S/tls/cert.pem\n  timeout: 10#" "$C"

cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example, "Ops Team <ops@acme.example>"]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
      - {id: U1002, name: Raj Patel}
    end_clients:
      - id: C200
        name: Widget Ltd
        use_2fa: true
        users:
          - {id: U2001, name: Bob Jones}
  - id: R300
    name: Blue Sky Comms
    twofa: false
    contacts: [admin@bluesky.example]
    users:
      - {id: U4001, name: Priya Shah, phone: "07400 234567"}
YAML
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$T/accounts.yaml"

# msg ID FROM SUBJECT BODY [EXTRA-HEADER]
msg() {
	printf 'From: %s\r\nTo: support@500.uk.com\r\nSubject: %s\r\n' "$2" "$3"
	printf 'Date: Fri, 28 Nov 2025 10:00:00 +0000\r\nMessage-ID: <%s>\r\n' "$1"
	[ -n "${5:-}" ] && printf '%s\r\n' "$5"
	printf 'Content-Type: text/plain; charset=UTF-8\r\n\r\n%s\r\n' "$4"
}
n=0
deliver() { n=$((n + 1)); msg "$@" | drop "$(printf 'e%05d' $n)"; }

# --- round 1: numbers, a 2FA request of another reseller, a loop mail
deliver e2e-num@acme.example "Acme NOC <noc@acme.example>" "Missing mobile number" \
"Hello,

Please add the mobile number for this user:

User ID: U1002
Name: Raj Patel
Mobile: +44 7400 456789

Regards,
Acme NOC"
deliver e2e-bluesky@bluesky.example "admin@bluesky.example" "2FA Set Up" \
"Hello, please switch on 2FA for our reseller account R300. Thanks"
deliver e2e-loop@acme.example "noc@acme.example" "Out of office" \
"I am away until Monday." "Auto-Submitted: auto-replied"

expect_exit 0 "batch 1" tf batch
contains "$T/out" "fetched 3," "batch 1 fetched 3"
is_eq 3 "$(nseen "$MB")" "all 3 flagged \\Seen on the IMAP server"
is_eq 447400456789 "$(sql "SELECT phone FROM users WHERE id = 'U1002'")" "U1002's number registered"
is_eq 1 "$(sql "SELECT count(*) FROM audit WHERE user = 'U1002' AND action LIKE '%phone%'")" "audited"
is_eq 1 "$(sql "SELECT twofa FROM accounts WHERE id = 'R300'")" "R300: 2FA on"
is_eq applied "$(sql "SELECT state FROM tickets WHERE msgkey LIKE '%e2e-num%'")" "numbers ticket applied"
is_eq applied "$(sql "SELECT state FROM tickets WHERE msgkey LIKE '%e2e-bluesky%'")" "2FA ticket applied"
is_eq ignored "$(sql "SELECT state FROM tickets WHERE msgkey LIKE '%e2e-loop%'")" "loop mail ignored"
is_eq 2 "$(nmail)" "two replies at the SMTP sink"
is_eq 0 "$(sql "SELECT count(*) FROM outbox WHERE state != 'sent'")" "outbox: all sent"

r=$(reply_to e2e-num@acme.example)
if [ -n "$r" ]; then
	ok "numbers reply threaded"
	contains "$r" "To: Acme NOC <noc@acme.example>" "numbers reply to the sender"
	contains "$r" "4474******89" "masked number in the reply"
	lacks "$r" "7400456789" "no full number"
	lacks "$r" "7400 456789" "no full number (spaced)"
	contains "$r" "Auto-Submitted: auto-replied" "auto-replied"
	contains "${r%.eml}.json" '"tls": true' "sent over STARTTLS"
	contains "${r%.eml}.json" '"auth_user": "support"' "sent with AUTH"
	contains "${r%.eml}.json" '"rcpt_tos": [
  "noc@acme.example"' "envelope recipient" 2>/dev/null ||
	    contains "${r%.eml}.json" 'noc@acme.example' "envelope recipient"
else not_ok "numbers reply threaded"; fi
r=$(reply_to e2e-bluesky@bluesky.example)
if [ -n "$r" ]; then
	ok "2FA reply threaded"
	contains "$r" "Blue Sky Comms" "2FA reply names the account"
	contains "$r" "4474******67" "2FA reply lists the masked number"
	lacks "$r" "7400234567" "no full number"
else not_ok "2FA reply threaded"; fi
grep -l "e2e-loop" "$S"/out/*.eml >/dev/null 2>&1 && not_ok "loop mail answered" || ok "loop mail not answered"

# --- round 2: Acme asks for 2FA: all of its own users now have numbers
deliver e2e-2fa@acme.example "Acme NOC <noc@acme.example>" "2FA Set Up" \
"Hello, please turn on 2FA for our reseller account. Thanks"
expect_exit 0 "batch 2" tf batch
contains "$T/out" "fetched 1," "batch 2 fetched 1"
is_eq 1 "$(sql "SELECT twofa FROM accounts WHERE id = 'R100'")" "R100: 2FA on"
is_eq 3 "$(nmail)" "third reply sent"
r=$(reply_to e2e-2fa@acme.example)
[ -n "$r" ] && contains "$r" "Raj Patel" "2FA reply lists the users" || not_ok "2FA reply threaded"

# --- round 3: nothing new: nothing fetched, nothing sent twice
expect_exit 0 "batch 3" tf batch
contains "$T/out" "fetched 0, applied 0, needs_review 0, rejected 0, ignored 0, sent 0, failed 0" "batch 3: nothing to do"
is_eq 3 "$(nmail)" "no reply twice"
is_eq 4 "$(tickets)" "4 tickets"
is_eq 0 "$(dups)" "each stored once"
finish
