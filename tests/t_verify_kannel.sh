#!/bin/sh
# t_verify_kannel.sh - SMS delivery through a real Kannel (bearerbox +
# smsbox + the fake SMSC) on 127.0.0.1, started here from tests/servers/:
# the SMS arrives with the code, by GET and by POST, in GSM and in UCS-2;
# a refused request and Kannel down are temporary failures, and the code
# they leave behind is not usable.
# Ports: KANNEL_SENDSMS_PORT 13013, KANNEL_ADMIN_PORT 13000,
# KANNEL_BOX_PORT 13001, KANNEL_FAKE_PORT 13015.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
S=$TOP/tests/servers
for b in /usr/sbin/bearerbox /usr/sbin/smsbox /usr/lib/kannel/test/fakesmsc \
    /usr/bin/python3; do
	[ -x "$b" ] || { echo "$b missing (make deps installs kannel, kannel-extras)"; exit 77; }
done
: "${KANNEL_SENDSMS_PORT:=13013}" "${KANNEL_ADMIN_PORT:=13000}"
: "${KANNEL_BOX_PORT:=13001}" "${KANNEL_FAKE_PORT:=13015}"
export KANNEL_SENDSMS_PORT KANNEL_ADMIN_PORT KANNEL_BOX_PORT KANNEL_FAKE_PORT
K=$T/kannel
mkdir -p "$K"
at_exit "bash '$S/stop-kannel.sh' '$K' >/dev/null 2>&1"
if ! bash "$S/start-kannel.sh" "$K" > "$K/start.out" 2>&1; then
	not_ok "Kannel starts"; cat "$K/start.out"; tail -5 "$K"/*.log; finish; exit 1
fi
ok "Kannel started"

printf 'foobar\n' > "$T/kannel.pw"
chmod 600 "$T/kannel.pw"
mkdir -p "$T/tpl" "$T/var"
cp "$TOP"/templates/* "$T/tpl/"
conf() { # conf FILE METHOD PASSWORD_FILE TEMPLATES
	cat > "$1" <<YAML
database: $DB_URI
templates: $4
numbering: $TOP/rules/numbering.yaml
source: {type: maildir, path: $T/maildir}
security: {require_sender_auth: false}
sms:
  transport: http
  preset: kannel
  method: $2
  url: http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms
  user: tester
  password_file: $3
  from: TFADesk
  timeout: 5
verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
YAML
}
C=$T/get.yaml
conf "$C" GET "$T/kannel.pw" "$TOP/templates"
write_config "$T/base.yaml"
check "fixture" verify_fixture "$T/base.yaml"
expect_exit 0 "-n with the kannel preset" tfadesk-verify -c "$C" -n
contains "$T/out" "kannel GET" "-n describes the request"

# delivered N: waits for the Nth SMS at the fake SMSC, prints it as JSON
delivered() {
	i=0
	while [ $i -lt 100 ]; do
		/usr/bin/python3 "$S/kannel_delivered.py" "$K" > "$T/dl.json"
		[ "$(wc -l < "$T/dl.json")" -ge "$1" ] && { sed -n "$1p" "$T/dl.json"; return 0; }
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
jfield() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

# GET, GSM text
expect_exit 0 "start through Kannel (GET)" tfadesk-verify -c "$C" start U1
contains "$T/out" "sent" "outcome sent"
m=$(delivered 1) || m='{}'
echo "$m" > "$T/m1.json"
check "the SMS reached the fake SMSC" test "$m" != '{}'
to=$(echo "$m" | jfield to 2>/dev/null)
text=$(echo "$m" | jfield text 2>/dev/null)
check "to the user's number ($to)" test "$to" = "+447400123456"
contains "$T/m1.json" '"from": "TFADesk"' "from the configured sender"
contains "$T/m1.json" '"type": "text"' "GSM text, not UCS-2"
code=$(echo "$text" | grep -o '[0-9]\{6\}' | head -n 1)
check "the text carries a 6-digit code ($text)" test -n "$code"
expect_exit 0 "check the delivered code" tfadesk-verify -c "$C" check U1 "$code"
contains "$T/out" "approved" "the delivered code is approved"

# POST, non-GSM text: X-Kannel headers, UCS-2
printf 'Ihr Zugangscode: {{code}} – gültig {{minutes}} Min.\n' > "$T/tpl/sms_code.txt"
conf "$T/post.yaml" POST "$T/kannel.pw" "$T/tpl"
expect_exit 0 "start through Kannel (POST, UTF-8)" tfadesk-verify -c "$T/post.yaml" start U6
contains "$T/out" "sent" "outcome sent"
m=$(delivered 2) || m='{}'
echo "$m" > "$T/m2.json"
contains "$T/m2.json" '"to": "+353851234567"' "POST: to the Irish number"
contains "$T/m2.json" '"type": "ucs-2"' "non-GSM text goes as UCS-2"
contains "$T/m2.json" "– gültig 5 Min." "the UTF-8 text arrives intact"
code=$(echo "$m" | jfield text | grep -o '[0-9]\{6\}' | head -n 1)
expect_exit 0 "check the POSTed code" tfadesk-verify -c "$C" check U6 "${code:-x}"
contains "$T/out" "approved" "the POSTed code is approved"

# Kannel refuses (wrong password: 403): temporary failure, code unusable
printf 'wrong\n' > "$T/bad.pw"
chmod 600 "$T/bad.pw"
conf "$T/badpw.yaml" GET "$T/bad.pw" "$TOP/templates"
expect_exit 75 "Kannel refuses: exit 75" tfadesk-verify -c "$T/badpw.yaml" start U4 --json
contains "$T/out" '"outcome": "error"' "refused: outcome error"
contains "$T/err" "HTTP 403" "refused: the log names the status"
lacks "$T/err" "foobar" "the log never shows the password"
lacks "$T/err" "wrong" "the log never shows the password"
st=$(dbq verifier "SELECT state || ',' || CASE WHEN code_hash IS NULL THEN 1 ELSE 0 END FROM challenges WHERE user_id = 'U4'")
check "refused send leaves no usable code ($st)" test "$st" = "failed,1"

# Kannel down
bash "$S/stop-kannel.sh" "$K" >/dev/null 2>&1
expect_exit 75 "Kannel down: exit 75" tfadesk-verify -c "$C" start U1 --json
contains "$T/out" '{"outcome": "error", "error": "SMS gateway unavailable"}' "down: outcome error"
st=$(dbq verifier "SELECT state || ',' || CASE WHEN code_hash IS NULL THEN 1 ELSE 0 END FROM challenges WHERE user_id = 'U1'")
check "failed send leaves no usable code ($st)" test "$st" = "failed,1"
expect_exit 0 "check after the failure" tfadesk-verify -c "$C" check U1 "$code"
contains "$T/out" "denied" "no code passes after a failed send"
tfadesk -c "$C" audit --actor verifier --json > "$T/audit.json"
contains "$T/audit.json" '"verify.send_failed"' "the failure is audited"
lacks "$T/audit.json" "447400123456" "audit masks the number"

finish
