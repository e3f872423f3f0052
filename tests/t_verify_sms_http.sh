#!/bin/sh
# t_verify_sms_http.sh - the shapes of the HTTP SMS requests, against a fake
# gateway on 127.0.0.1 (tests/servers/fake_sms_gateway.py) that records
# them: the twilio preset (form, basic auth, 201), a custom JSON body with
# bearer auth and escaping, a custom GET with URL-encoding, and
# sms.accept_status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
[ -x /usr/bin/python3 ] || { echo "/usr/bin/python3 missing"; exit 77; }
S=$TOP/tests/servers
write_config "$T/base.yaml"
check "fixture" verify_fixture "$T/base.yaml"
GW=$(free_port 18025 18099)
LOG=$T/gateway.jsonl
/usr/bin/python3 "$S/fake_sms_gateway.py" "$GW" "$LOG" 201 2>"$T/gw.err" &
gwpid=$!
at_exit "kill $gwpid 2>/dev/null"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$GW/"; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05; done
rm -f "$LOG"
printf 'tw-token\n' > "$T/token"
chmod 600 "$T/token"
mkdir -p "$T/tpl"
cp "$TOP"/templates/* "$T/tpl/"
printf 'Code "{{code}}" \\ für {{minutes}} min & more\n' > "$T/tpl/sms_code.txt"

conf() { # conf FILE TEMPLATES SMS-YAML
	cat > "$1" <<YAML
database: $T/var/tfadesk.db
templates: $2
numbering: $TOP/rules/numbering.yaml
source: {type: maildir, path: $T/maildir}
security: {require_sender_auth: false}
sms:
$3
verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
YAML
}
# last FIELD...: a field of the last recorded request (python expression)
last() { tail -n 1 "$LOG" | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print($1)"; }

# twilio
conf "$T/tw.yaml" "$TOP/templates" "  transport: http
  preset: twilio
  url: http://127.0.0.1:$GW/2010-04-01/Accounts/AC123/Messages.json
  user: AC123
  password_file: $T/token
  from: '+441234567890'"
expect_exit 0 "twilio: start" tfadesk-verify -c "$T/tw.yaml" start U1
contains "$T/out" "sent" "twilio: 201 is sent"
check "twilio: POST" test "$(last 'r["method"]')" = POST
check "twilio: path" test "$(last 'r["path"]')" = /2010-04-01/Accounts/AC123/Messages.json
check "twilio: form body" test "$(last 'r["headers"]["content-type"]')" = application/x-www-form-urlencoded
auth=$(printf 'AC123:tw-token' | base64)
check "twilio: basic auth" test "$(last 'r["headers"]["authorization"]')" = "Basic $auth"
form='__import__("urllib.parse").parse.parse_qs(r["body"])'
check "twilio: To is +E.164" test "$(last "$form[\"To\"][0]")" = +447400123456
check "twilio: From" test "$(last "$form[\"From\"][0]")" = +441234567890
code=$(last "$form[\"Body\"][0]" | grep -o '[0-9]\{6\}' | head -n 1)
expect_exit 0 "twilio: the code sent checks" tfadesk-verify -c "$T/tw.yaml" check U1 "${code:-x}"
contains "$T/out" "approved" "twilio: approved"

# custom JSON with bearer auth; text with quotes, backslash, UTF-8, &
conf "$T/js.yaml" "$T/tpl" "  transport: http
  preset: custom
  method: POST
  url: 'http://127.0.0.1:$GW/v1/sms?dest={{to_digits}}'
  body: '{\"to\": \"{{to}}\", \"text\": \"{{text}}\", \"from\": \"{{from}}\"}'
  from: Acme
  auth: bearer
  token_file: $T/token"
expect_exit 0 "custom JSON: start" tfadesk-verify -c "$T/js.yaml" start U6
contains "$T/out" "sent" "custom JSON: 201 (any 2xx) is sent"
check "custom JSON: content type" test "$(last 'r["headers"]["content-type"]')" = application/json
check "custom JSON: bearer auth" test "$(last 'r["headers"]["authorization"]')" = "Bearer tw-token"
check "custom JSON: URL placeholder" test "$(last 'r["query"]["dest"][0]')" = 353851234567
body='json.loads(r["body"])'
check "custom JSON: body is JSON, to" test "$(last "$body[\"to\"]")" = +353851234567
text=$(last "$body[\"text\"]")
case "$text" in
'Code "'[0-9][0-9][0-9][0-9][0-9][0-9]'" \ für 5 min & more') ok "custom JSON: text escaped and intact" ;;
*) not_ok "custom JSON: text '$text'" ;;
esac

# custom GET with URL-encoding
conf "$T/get.yaml" "$T/tpl" "  transport: http
  preset: custom
  method: GET
  url: 'http://127.0.0.1:$GW/send?to={{to}}&msg={{text}}'"
expect_exit 0 "custom GET: start" tfadesk-verify -c "$T/get.yaml" start U4
check "custom GET: method" test "$(last 'r["method"]')" = GET
check "custom GET: + is encoded" test "$(last 'r["query"]["to"][0]')" = +447400123456
text=$(last 'r["query"]["msg"][0]')
case "$text" in
'Code "'[0-9][0-9][0-9][0-9][0-9][0-9]'" \ für 5 min & more') ok "custom GET: text URL-encoded and intact" ;;
*) not_ok "custom GET: text '$text'" ;;
esac

# accept_status: the gateway's 201 is not in [200]
conf "$T/acc.yaml" "$TOP/templates" "  transport: http
  preset: custom
  method: GET
  url: 'http://127.0.0.1:$GW/send?to={{to}}&msg={{text}}'
  accept_status: [200]"
expect_exit 75 "201 outside accept_status: exit 75" tfadesk-verify -c "$T/acc.yaml" start U1
contains "$T/err" "HTTP 201" "the log names the status"
lacks "$T/err" "msg=" "the log never shows the URL's query"

# sms.auth is the same for every preset: a Kannel behind a proxy that
# wants a bearer token gets the token read from sms.token_file (it was
# sent as "Bearer (null)"); basic auth without sms.user is refused at load
# (it sent empty credentials)
conf "$T/kb.yaml" "$TOP/templates" "  transport: http
  preset: kannel
  url: 'http://127.0.0.1:$GW/cgi-bin/sendsms'
  auth: bearer
  token_file: $T/token"
expect_exit 0 "kannel with bearer auth: start" tfadesk-verify -c "$T/kb.yaml" start U1
check "kannel: bearer token from sms.token_file" test "$(last 'r["headers"].get("authorization")')" = "Bearer tw-token"
conf "$T/kn.yaml" "$TOP/templates" "  transport: http
  preset: kannel
  url: 'http://127.0.0.1:$GW/cgi-bin/sendsms'
  auth: basic"
expect_exit 78 "kannel: basic auth without sms.user: exit 78" tfadesk-verify -c "$T/kn.yaml" -n
contains "$T/err" "sms.auth basic needs sms.user" "names the missing key"

# configuration errors
conf "$T/bad.yaml" "$TOP/templates" "  transport: http
  preset: custom
  url: 'http://127.0.0.1:$GW/send'
  body: 'to={{to}}&x={{nope}}'"
expect_exit 78 "unknown placeholder: exit 78" tfadesk-verify -c "$T/bad.yaml" start U1
contains "$T/err" "placeholder" "names the problem"
conf "$T/bad2.yaml" "$TOP/templates" "  transport: http
  preset: twilio
  url: 'http://127.0.0.1:$GW/x'"
expect_exit 78 "twilio without credentials: exit 78" tfadesk-verify -c "$T/bad2.yaml" start U1

finish
