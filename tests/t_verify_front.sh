#!/bin/sh
# t_verify_front.sh - tfadesk-verify serve's front door:
#  1. GET /metrics: 3 starts, 2 wrong checks and 1 right check move the
#     counters by exactly that much, read by a strict exposition parser;
#  2. verifier.access_log: one line per request, in the documented shape,
#     never the number (not even from a query string), the user or a code;
#  3. API keys: key add|list|revoke; Bearer missing/wrong -> 401 with
#     WWW-Authenticate, counted in /metrics and in no user's attempts; a
#     revoked key stops working within a second; a keys file open to others
#     is refused (77);
#  4. off loopback without keys or client certificates: 78;
#  5. HTTPS with a CA made here: a client certificate of that CA is let in,
#     none or one of another CA is refused; a TLS key open to others: 77.
# Port: VERIFY_PORT or the first free one in 18025..18099.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v openssl >/dev/null || { echo "openssl not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "/usr/bin/python3 missing"; exit 77; }
PORT=${VERIFY_PORT:-$(free_port 18025 18099)}
URL=http://127.0.0.1:$PORT
SMS=$T/sms
C=$T/tfadesk.yaml
write_config "$C" "verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
  max_attempts: 5
  threads: 2
  access_log: $T/access.log"
check "fixture" verify_fixture "$C"

pid=
serve() {
	tfadesk-verify -c "$C" serve --listen "${LISTEN:-127.0.0.1:$PORT}" \
	    2>>"$T/serve.err" &
	pid=$!
	at_exit "kill $pid 2>/dev/null"
	i=0
	until curl -sk -o /dev/null "$URL/healthz"; do
		i=$((i + 1))
		[ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null ||
		    { cat "$T/serve.err"; return 1; }
		sleep 0.05
	done
}
stop() {
	kill -TERM "$pid"; wait "$pid"; rc=$?
	check "serve stops cleanly on SIGTERM (exit $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || tail -5 "$T/serve.err"
}
# post PATH BODY [CURL ARGS]: prints the status, the body in $T/body
post() {
	p=$1 b=$2; shift 2
	curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" \
	    -H 'Content-Type: application/json' --data-binary "$b" "$URL$p"
}
# metric NAME{LABELS}: the value in $T/metrics (strictly parsed)
metric() {
	/usr/bin/python3 "$T/prom.py" "$T/metrics" "$1"
}
# lines FILE N: waits up to 2 s for FILE to hold N lines
lines() {
	i=0
	while [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -lt "$2" ] && [ $i -lt 40 ]; do
		sleep 0.05; i=$((i + 1))
	done
	[ "$(wc -l < "$1")" -eq "$2" ]
}

# A strict reader of the text exposition format 0.0.4: every sample's
# family has HELP and TYPE first, names and labels well-formed, values
# numbers, no series twice, counters end in _total, histograms have
# cumulative buckets ending in +Inf equal to _count. Prints the value of
# the series named on the command line (or fails).
cat > "$T/prom.py" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    sys.exit("no final newline")
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample_re = re.compile(r"^(" + name_re + r")(\{(.*)\})? (\S+)$")
label_re = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"$')
help_, type_, series = {}, {}, {}
for n, line in enumerate(text.split("\n")[:-1], 1):
    m = re.match(r"^# (HELP|TYPE) (" + name_re + r") (.+)$", line)
    if m:
        d = help_ if m.group(1) == "HELP" else type_
        if m.group(2) in d:
            sys.exit("line %d: second %s" % (n, m.group(1)))
        d[m.group(2)] = m.group(3)
        if m.group(1) == "TYPE" and m.group(3) not in ("counter", "gauge", "histogram"):
            sys.exit("line %d: type %s" % (n, m.group(3)))
        continue
    if line.startswith("#") or line == "":
        sys.exit("line %d: stray %r" % (n, line))
    m = sample_re.match(line)
    if not m:
        sys.exit("line %d: not a sample: %r" % (n, line))
    name, labels, value = m.group(1), m.group(3), m.group(4)
    fam = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in type_ else name
    if fam not in type_ or fam not in help_:
        sys.exit("line %d: %s without HELP/TYPE before it" % (n, name))
    if type_[fam] == "counter" and not name.endswith("_total"):
        sys.exit("line %d: counter %s not _total" % (n, name))
    lab = {}
    if labels is not None:
        for part in re.findall(r'[^,]+="(?:[^"\\]|\\.)*"', labels):
            lm = label_re.match(part)
            if not lm:
                sys.exit("line %d: label %r" % (n, part))
            lab[lm.group(1)] = lm.group(2)
        if ",".join('%s="%s"' % kv for kv in lab.items()) != labels:
            sys.exit("line %d: labels %r" % (n, labels))
    try:
        v = float(value)
    except ValueError:
        sys.exit("line %d: value %r" % (n, value))
    if re.search(r"\d{6,}", labels or ""):
        sys.exit("line %d: digits in a label" % n)
    key = name + ("{" + labels + "}" if labels else "")
    if key in series:
        sys.exit("line %d: %s twice" % (n, key))
    series[key] = (name, lab, v)
for fam, t in type_.items():
    if t != "histogram":
        continue
    groups = {}
    for name, lab, v in series.values():
        if name == fam + "_bucket":
            rest = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
            groups.setdefault(rest, []).append((lab["le"], v))
    if not groups:
        sys.exit("%s: no buckets" % fam)
    for rest, bs in groups.items():
        les = [float(le) for le, _ in bs]
        if les != sorted(les) or bs[-1][0] != "+Inf":
            sys.exit("%s: buckets out of order" % fam)
        vals = [v for _, v in bs]
        if vals != sorted(vals):
            sys.exit("%s: buckets not cumulative" % fam)
        lbl = ",".join('%s="%s"' % kv for kv in rest)
        cnt = series.get(fam + "_count" + ("{" + lbl + "}" if lbl else ""))
        if cnt is None or cnt[2] != vals[-1] or (fam + "_sum" + ("{" + lbl + "}" if lbl else "")) not in series:
            sys.exit("%s{%s}: _count/_sum missing or not +Inf" % (fam, lbl))
want = sys.argv[2]
if want not in series:
    sys.exit("%s: no such series" % want)
v = series[want][2]
print(int(v) if v == int(v) else v)
PY

# 1 and 2: metrics and the access log
check "serve on loopback with no keys" serve
curl -s "$URL/metrics" > "$T/metrics"
check "metrics parse before any start" metric 'tfadesk_verify_sms_sent_total'
expect_start_sent() {
	s=$(post /v1/challenges '{"user_id": "U1"}')
	[ "$s $(cat "$T/body")" = '200 {"outcome": "sent"}' ]
}
for i in 1 2 3; do
	check "start $i: sent" expect_start_sent
	set -- $(take_sms "$SMS"); code=$2; echo "$code" >> "$T/codes"
done
wrong=$(printf '%06d' $(( (${code#0} + 1) % 1000000 )))
for i in 1 2; do
	s=$(post /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$wrong\"}")
	check "wrong check $i: denied" test "$s $(cat "$T/body")" = '200 {"outcome": "denied"}'
done
s=$(post /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$code\"}")
check "right check: approved" test "$s $(cat "$T/body")" = '200 {"outcome": "approved"}'
curl -s -o /dev/null "$URL/healthz?phone=447400123456&user=U1"
curl -s -D "$T/mh" "$URL/metrics" > "$T/metrics"
contains "$T/mh" "Content-Type: text/plain; version=0.0.4" "metrics content type"
for kv in 'tfadesk_verify_requests_total{endpoint="start",outcome="sent"} 3' \
    'tfadesk_verify_requests_total{endpoint="check",outcome="denied"} 2' \
    'tfadesk_verify_requests_total{endpoint="check",outcome="approved"} 1' \
    'tfadesk_verify_requests_total{endpoint="check",outcome="locked"} 0' \
    'tfadesk_verify_requests_total{endpoint="metrics",outcome="ok"} 1' \
    'tfadesk_verify_request_duration_seconds_count{endpoint="start"} 3' \
    'tfadesk_verify_request_duration_seconds_count{endpoint="check"} 3' \
    'tfadesk_verify_sms_sent_total 3' 'tfadesk_verify_sms_failed_total 0' \
    'tfadesk_verify_sms_duration_seconds_count 3' \
    'tfadesk_verify_requests_in_flight 1' \
    'tfadesk_verify_database_errors_total 0'; do
	got=$(metric "${kv% *}")
	check "metric ${kv% *} = ${kv##* } (got $got)" test "$got" = "${kv##* }"
done
lacks "$T/metrics" "U1" "no user ID in /metrics"
lacks "$T/metrics" "7400123456" "no number in /metrics"

# 1 healthz (wait_http) + 3 starts + 3 checks + healthz + 2 metrics
check "access log: one line per request (10)" lines "$T/access.log" 10
check "access log lines in the documented shape" test "$(grep -Evc \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z 127\.0\.0\.1 (GET|POST) /[^ ]* [0-9]{3} [a-z_]+ [0-9]+\.[0-9]{3} -$' \
    "$T/access.log")" = 0
contains "$T/access.log" "POST /v1/challenges 200 sent " "a start's line"
contains "$T/access.log" "POST /v1/challenges/check 200 denied " "a wrong check's line"
contains "$T/access.log" "GET /healthz 200 ok " "the query string left out"
for pat in 7400123456 123456 U1 user_phone; do
	lacks "$T/access.log" "$pat" "access log without '$pat'"
done
while read -r c; do lacks "$T/access.log" "$c" "access log without a code sent"; done < "$T/codes"
stop

# 3: API keys
KEYS=$T/verify.keys
printf '  api_keys_file: %s\n' "$KEYS" >> "$C"
expect_exit 78 "serve with a keys file that does not exist: 78" \
    tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT"
contains "$T/err" "key add NAME" "says how to make one"
tfadesk-verify -c "$C" key add portal > "$T/key" 2>"$T/key.err"
check "key add: exit 0" test $? = 0
KEY=$(cat "$T/key")
check "key add: prints one key" test "$(wc -l < "$T/key")" = 1 -a "${#KEY}" -ge 40
check "keys file 0600" test "$(stat -c %a "$KEYS")" = 600
lacks "$KEYS" "$KEY" "the key itself is not stored"
expect_exit 65 "key add of a name that exists: 65" tfadesk-verify -c "$C" key add portal
expect_exit 64 "key add without a name: 64" tfadesk-verify -c "$C" key add
tfadesk-verify -c "$C" key add spare > /dev/null 2>&1
tfadesk-verify -c "$C" key list > "$T/list"
check "key list: both names, with a creation time" grep -Eq '^portal	[0-9]{4}-.*Z$' "$T/list"
contains "$T/list" "spare" "key list: spare"
check "-n: the keys file is fine" tfadesk-verify -c "$C" -n
chmod 644 "$KEYS"
expect_exit 77 "serve with a keys file readable by others: 77" \
    tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT"
contains "$T/err" "chmod 600" "says what to run"
expect_exit 77 "-n: likewise 77" tfadesk-verify -c "$C" -n
chmod 600 "$KEYS"
: > "$T/access.log"
check "serve with keys" serve
s=$(post /v1/challenges '{"user_id": "U1"}')
check "no key: 401 ($s)" test "$s" = 401
contains "$T/headers" 'WWW-Authenticate: Bearer realm="tfadesk-verify"' "WWW-Authenticate"
s=$(post /v1/challenges '{"user_id": "U1"}' -H "Authorization: Bearer tfv1_${KEY#tfv1_}x")
check "wrong key: 401 ($s)" test "$s" = 401
contains "$T/headers" 'error="invalid_token"' "invalid_token"
s=$(post /v1/challenges '{"user_id": "U1"}' -H "Authorization: Bearer $KEY")
check "right key: 200 sent ($s $(cat "$T/body"))" test "$s $(cat "$T/body")" = '200 {"outcome": "sent"}'
set -- $(take_sms "$SMS"); code=$2
wrong=$(printf '%06d' $(( (${code#0} + 1) % 1000000 )))
for i in 1 2 3 4 5 6; do
	post /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$wrong\"}" > /dev/null
done
s=$(post /v1/challenges/check "{\"user_id\": \"U1\", \"code\": \"$code\"}" -H "Authorization: bearer $KEY")
check "6 unauthenticated checks count in no user's attempts: approved" \
    test "$s $(cat "$T/body")" = '200 {"outcome": "approved"}'
check "/healthz needs no key" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200
curl -s "$URL/metrics" > "$T/metrics"
got=$(metric 'tfadesk_verify_requests_total{endpoint="check",outcome="unauthorized"}')
check "/metrics needs no key; 6 unauthorized checks counted ($got)" test "$got" = 6
got=$(metric 'tfadesk_verify_requests_total{endpoint="start",outcome="unauthorized"}')
check "2 unauthorized starts counted ($got)" test "$got" = 2
check "the key's name in the access log" grep -q ' POST /v1/challenges 200 sent [0-9.]* portal$' "$T/access.log"
lacks "$T/access.log" "$KEY" "never the key"
tfadesk-verify -c "$C" key revoke portal 2>/dev/null
check "key revoke" test $? = 0
sleep 1.1
s=$(post /v1/challenges '{"user_id": "U1"}' -H "Authorization: Bearer $KEY")
check "a revoked key: 401 within a second ($s)" test "$s" = 401
expect_exit 65 "key revoke of an unknown name: 65" tfadesk-verify -c "$C" key revoke portal
stop

# 4: off loopback
sed -i '/api_keys_file/d' "$C"
expect_exit 78 "0.0.0.0 without keys or client certificates: 78" \
    tfadesk-verify -c "$C" serve --listen "0.0.0.0:$PORT"
contains "$T/err" "verifier.api_keys_file" "says what to set"
check "one line" test "$(wc -l < "$T/err")" = 1
expect_exit 78 "[::] likewise" tfadesk-verify -c "$C" serve --listen "[::]:$PORT"

# 5: HTTPS with client certificates
P=$T/pki
mkdir -p "$P"
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.pem" -days 2 -subj "/CN=$1 test CA" \
	    2>/dev/null
}
# mkcert CA NAME EXT
mkcert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$P/$2.key" -out "$P/$2.csr" -subj "/CN=$2" 2>/dev/null &&
	printf '%s\n' "$3" > "$P/$2.ext" &&
	openssl x509 -req -in "$P/$2.csr" -CA "$P/$1.pem" -CAkey "$P/$1.key" \
	    -CAcreateserial -days 2 -extfile "$P/$2.ext" -out "$P/$2.pem" 2>/dev/null
}
check "test CA" mkca ca
check "another CA" mkca evil
check "server certificate" mkcert ca server "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
check "client certificate" mkcert ca portal "extendedKeyUsage=clientAuth"
check "client certificate of another CA" mkcert evil intruder "extendedKeyUsage=clientAuth"
chmod 600 "$P"/*.key
printf '  tls_cert_file: %s\n  tls_key_file: %s\n  client_ca_file: %s\n' \
    "$P/server.pem" "$P/server.key" "$P/ca.pem" >> "$C"
sed '/tls_key_file/d' "$C" > "$T/nokey.yaml"
expect_exit 78 "tls_cert_file without tls_key_file: 78" tfadesk-verify -c "$T/nokey.yaml" -n
chmod 644 "$P/server.key"
expect_exit 77 "a TLS key readable by others: 77" \
    tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT"
chmod 600 "$P/server.key"
URL=https://127.0.0.1:$PORT
# off loopback is fine with client certificates
LISTEN=0.0.0.0:$PORT
check "serve over HTTPS on 0.0.0.0 with client certificates" serve
tls() { curl -s -o "$T/body" -w '%{http_code}' --cacert "$P/ca.pem" "$@"; }
s=$(tls --cert "$P/portal.pem" --key "$P/portal.key" "$URL/healthz")
check "client certificate of the CA: 200 ($s)" test "$s" = 200
s=$(post /v1/challenges '{"user_id": "U1"}' --cacert "$P/ca.pem" --cert "$P/portal.pem" --key "$P/portal.key")
check "a start over HTTPS: sent ($s $(cat "$T/body"))" test "$s $(cat "$T/body")" = '200 {"outcome": "sent"}'
take_sms "$SMS" > /dev/null
s=$(tls "$URL/healthz")
check "no client certificate: refused ($s)" test "$s" != 200
s=$(tls --cert "$P/intruder.pem" --key "$P/intruder.key" "$URL/healthz")
check "a client certificate of another CA: refused ($s)" test "$s" != 200
s=$(post /v1/challenges '{"user_id": "U1"}' --cacert "$P/ca.pem" --cert "$P/intruder.pem" --key "$P/intruder.key")
check "no start with a certificate of another CA ($s)" test "$s" != 200
check "no SMS sent for it" test "$(sms_count "$SMS")" = 0
s=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
check "plain HTTP on the HTTPS port: no answer ($s)" test "$s" != 200
stop
finish
