#!/bin/sh
# t_desk_http.sh - tfadesk staff and tfadesk desk over HTTP (curl): the
# staff commands, security headers on every answer, the two-step login
# (password, then the SMS code from the spool), cookie flags, tokens kept
# only hashed, CSRF (403 without or with a wrong token), the failed-login
# limits per name and per address (X-Forwarded-For only from a trusted
# proxy), no hint whether a name exists, idle expiry (TFADESK_NOW), logout,
# disable, and the server time of the queue and a ticket page on 10,000
# tickets. Port: DESK_PORT or the first free one from 18026.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
. "$(dirname "$0")/desk-lib.sh"
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
need_sqlite3
PORT=${DESK_PORT:-$(free_port 18026 18099)}
URL=http://127.0.0.1:$PORT
C=$T/tfadesk.yaml
desk_config "$C"
check "fixture" desk_fixture "$C"

# ---- staff commands
expect_exit 65 "staff add: a name already there" tfadesk -c "$C" staff add alice --phone 07400123456 --password-file "$T/pw"
expect_exit 64 "staff add: a bad name" tfadesk -c "$C" staff add 'Al ice' --phone 07400123456 --password-file "$T/pw"
echo short > "$T/short"; chmod 600 "$T/short"
expect_exit 65 "staff add: a short password" tfadesk -c "$C" staff add carol --phone 07400123456 --password-file "$T/short"
expect_exit 65 "staff add: a landline" tfadesk -c "$C" staff add carol --phone "020 7946 0000" --password-file "$T/pw"
cp "$T/pw" "$T/pw644"; chmod 644 "$T/pw644"
expect_exit 77 "staff add: a password file others can read" tfadesk -c "$C" staff add carol --phone 07400123456 --password-file "$T/pw644"
contains "$T/err" "chmod 600" "and says the chmod to run"
expect_exit 66 "staff add: no password file" tfadesk -c "$C" staff add carol --phone 07400123456 --password-file "$T/none"
expect_exit 64 "staff add: --phone required" tfadesk -c "$C" staff add carol --password-file "$T/pw"
tfadesk -c "$C" staff list > "$T/list"
contains "$T/list" "4474******56" "staff list masks the number"
lacks "$T/list" "447400123456" "staff list never shows it whole"
h=$(dbq main "SELECT pwhash FROM staff WHERE name = 'alice'")
case "$h" in '$argon2id$'*) ok "password stored as Argon2id" ;; *) not_ok "pwhash: $h" ;; esac
expect_exit 65 "staff disable: unknown" tfadesk -c "$C" staff disable nobody

check "desk starts" start_desk "$C"

# req METHOD PATH [curl args...]: status in $T/status, headers $T/hdr, body $T/body
JAR=$T/jar
req() {
	m=$1 p=$2; shift 2
	curl -s -X "$m" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	    -b "$JAR" -c "$JAR" "$@" "$URL$p" > "$T/status"
	cat "$T/status"
}
hdr() { tr -d '\r' < "$T/hdr" | sed -n "s/^$1: //Ip" | head -n 1; }
expect_status() {
	want=$1 d=$2; shift 2
	got=$(req "$@")
	if [ "$got" = "$want" ]; then ok "$d"; else not_ok "$d (status $got, wanted $want)"; fi
}
csrf() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/body" | head -n 1; }

# ---- headers on every kind of answer
for p in /login /desk.css /nosuch /; do
	req GET "$p" >/dev/null
	csp=$(hdr Content-Security-Policy)
	case "$csp" in *"default-src 'none'"*"frame-ancestors 'none'"*) ok "$p: strict CSP" ;;
	*) not_ok "$p: CSP '$csp'" ;; esac
	case "$csp" in *unsafe*|*script-src*) not_ok "$p: CSP allows script: $csp" ;; *) ok "$p: CSP allows no script" ;; esac
	[ "$(hdr X-Content-Type-Options)" = nosniff ] && ok "$p: nosniff" || not_ok "$p: nosniff"
	[ "$(hdr Referrer-Policy)" = no-referrer ] && ok "$p: no-referrer" || not_ok "$p: no-referrer"
done
expect_status 303 "no session: the queue sends to login" GET /
[ "$(hdr Location)" = /login ] && ok "to /login" || not_ok "Location $(hdr Location)"
expect_status 403 "no session: a POST is refused" POST /ticket/7/note --data "text=x"
expect_status 405 "other methods refused" PUT /login

# ---- login: password, then the code
login() {   # login NAME PASSWORD [curl args]: 0 when logged in
	n=$1 pw=$2; shift 2
	rm -f "$JAR"
	[ "$(req POST /login --data-urlencode "name=$n" --data-urlencode "password=$pw" "$@")" = 303 ] || return 1
	code=$(newest_code) || return 1
	req GET /login/code "$@" >/dev/null
	t=$(csrf)
	[ "$(req POST /login/code --data "csrf=$t&code=$code" "$@")" = 303 ] || return 1
	[ "$(hdr Location)" = / ]
}
expect_status 303 "right password: on to the code" POST /login --data "name=alice&password=correct+horse+battery+staple"
cookie=$(hdr Set-Cookie)
case "$cookie" in *HttpOnly*SameSite=Strict*) ok "cookie HttpOnly, SameSite=Strict" ;; *) not_ok "cookie: $cookie" ;; esac
case "$cookie" in *Secure*) not_ok "Secure with secure_cookies false" ;; *) ok "no Secure with secure_cookies: false" ;; esac
[ "$(sms_count "$T/sms")" = 1 ] && ok "one SMS sent" || not_ok "SMS count $(sms_count "$T/sms")"
to=$(sed -n 's/^To: //p' "$T"/sms/new/*)
[ "$to" = 447400123456 ] && ok "SMS to alice's number" || not_ok "SMS to $to"
expect_status 303 "half logged in: the queue is closed" GET /
code=$(newest_code)
req GET /login/code >/dev/null; t=$(csrf)
expect_status 403 "code without the CSRF token" POST /login/code --data "code=$code"
bad=$(printf '%06d' $(( (${code#0} + 1) % 1000000 )))
expect_status 401 "a wrong code" POST /login/code --data "csrf=$t&code=$bad"
expect_status 303 "the right code" POST /login/code --data "csrf=$t&code=$code"
[ "$(hdr Location)" = / ] && ok "logged in" || not_ok "after code: $(hdr Location)"
tok=$(sed -n 's/.*tfadesk_session\t//p' "$JAR")
[ ${#tok} = 64 ] && ok "256-bit token" || not_ok "token '$tok'"
if [ "$ON_PG" = 1 ]; then
	n=$(dbq main "SELECT count(*) FROM desk_sessions WHERE token_hash = convert_to('$tok', 'UTF8') OR encode(token_hash, 'hex') = '$tok' OR csrf = '$tok'")
else
	n=$(dbq main "SELECT count(*) FROM desk_sessions WHERE token_hash = CAST('$tok' AS BLOB) OR hex(token_hash) = upper('$tok') OR csrf = '$tok'")
fi
[ "$n" = 0 ] && ok "token not stored in clear" || not_ok "token stored"
if [ "$ON_PG" = 1 ]; then
	"$PG_BIN/pg_dump" -d "$DB_URI" 2>/dev/null | grep -q "$tok" && not_ok "token in the database" || ok "token not in the database (pg_dump)"
else
	grep -q "$tok" "$DB_URI" "$DB_URI-wal" 2>/dev/null && not_ok "token in the database file" || ok "token not in the database file"
fi
n=$(dbq verifier "SELECT count(*) FROM audit WHERE actor='verifier' AND \"user\"='staff:alice' AND action='verify.approved'")
[ "$n" = 1 ] && ok "code checked by the verifier as staff:alice" || not_ok "verifier audit rows: $n"

# ---- logged in: pages, CSRF
expect_status 200 "queue" GET /
contains "$T/body" 'id="queue"' "queue table"
expect_status 200 "ticket page" GET /ticket/7
t=$(csrf)
expect_status 200 "raw message" GET /ticket/7/raw
case "$(hdr Content-Type)" in text/plain*) ok "raw is text/plain" ;; *) not_ok "raw: $(hdr Content-Type)" ;; esac
case "$(hdr Content-Security-Policy)" in *sandbox*) ok "raw is sandboxed" ;; *) not_ok "raw CSP" ;; esac
expect_status 403 "a note without its token" POST /ticket/7/note --data "text=no+token"
expect_status 403 "a note with another token" POST /ticket/7/note --data "csrf=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&text=wrong"
expect_status 303 "a note with its token" POST /ticket/7/note --data "csrf=$t&text=called+the+reseller"
n=$(dbq main "SELECT count(*) FROM audit WHERE ticket_id=7 AND action='ticket.note'")
[ "$n" = 1 ] && ok "only the note with its token was written" || not_ok "notes: $n"
a=$(dbq main "SELECT actor FROM audit WHERE ticket_id=7 AND action='ticket.note'")
[ "$a" = staff:alice ] && ok "note audited as staff:alice" || not_ok "actor $a"
req POST /ticket/7/note --data "csrf=$t&text=a%1b%5b31mb" >/dev/null
[ "$(cat "$T/status")" = 400 ] && ok "control characters refused (400)" || not_ok "control: $(cat "$T/status")"
expect_status 303 "take the ticket" POST /ticket/7/assign --data "csrf=$t&take=1"
w=$(dbq main "SELECT assigned FROM tickets WHERE id=7")
[ "$w" = alice ] && ok "assigned to alice" || not_ok "assigned '$w'"
expect_status 400 "assign to nobody known" POST /ticket/7/assign --data "csrf=$t&to=mallory"

# ---- idle expiry: the same session, 31 minutes later
stop_desk
TFADESK_NOW=$(( $(date +%s) + 31 * 60 )) start_desk "$C" || not_ok "desk restarts"
expect_status 303 "idle 31 minutes: sent back to login" GET /
[ "$(hdr Location)" = "/login?expired=1" ] && ok "told the session expired" || not_ok "Location $(hdr Location)"
n=$(dbq main "SELECT count(*) FROM desk_sessions WHERE staff='alice' AND verified=1")
[ "$n" = 0 ] && ok "expired session deleted" || not_ok "sessions left: $n"
stop_desk
start_desk "$C"

# ---- logout; disable
check "log in again" login alice "correct horse battery staple"
expect_status 200 "queue" GET /
t=$(csrf)
expect_status 303 "log out" POST /logout --data "csrf=$t"
expect_status 303 "after logout: login" GET /
check "log in as bob" login bob "correct horse battery staple"
tfadesk -c "$C" staff disable bob >/dev/null
expect_status 303 "disabled: the session ends" GET /

# ---- failed logins: per name, with no hint whether it exists
rm -f "$JAR"
for i in 1 2 3 4 5; do
	req POST /login --data "name=alice&password=wrong$i" >/dev/null
	cp "$T/body" "$T/known.html"; cp "$T/status" "$T/known.status"
	req POST /login --data "name=mallory&password=wrong$i" >/dev/null
	cp "$T/body" "$T/unknown.html"; cp "$T/status" "$T/unknown.status"
done
cmp -s "$T/known.status" "$T/unknown.status" && ok "same status, known or unknown name" || not_ok "status differs"
cmp -s "$T/known.html" "$T/unknown.html" && ok "same page, known or unknown name" || not_ok "page differs"
mv "$T"/sms/new/* "$T/sms/cur/" 2>/dev/null
expect_status 429 "6th try with the right password: refused" POST /login --data "name=alice&password=correct+horse+battery+staple"
[ "$(sms_count "$T/sms")" = 0 ] && ok "no SMS while limited" || not_ok "SMS sent while limited"
expect_status 429 "unknown name limited the same way" POST /login --data "name=mallory&password=x"
cp "$T/body" "$T/m.html"
req POST /login --data "name=alice&password=x" >/dev/null
cmp -s "$T/body" "$T/m.html" && ok "same page when limited" || not_ok "limited pages differ"

# ---- per address: X-Forwarded-For from the trusted proxy (loopback)
i=0
while [ $i -lt 20 ]; do
	req POST /login -H "X-Forwarded-For: 198.51.100.7" --data "name=n$i&password=x" >/dev/null
	i=$((i + 1))
done
tfadesk -c "$C" staff enable bob >/dev/null
expect_status 429 "20 failures from one address: bob refused there" POST /login -H "X-Forwarded-For: 198.51.100.7" --data "name=bob&password=correct+horse+battery+staple"
expect_status 303 "bob from another address: on to the code" POST /login -H "X-Forwarded-For: 198.51.100.8" --data "name=bob&password=correct+horse+battery+staple"
stop_desk

# an untrusted peer's X-Forwarded-For is ignored: all from 127.0.0.1
C2=$T/untrusted.yaml
desk_config "$C2" "  trusted_proxies: [192.0.2.1]"
start_desk "$C2"
i=0
while [ $i -lt 20 ]; do
	req POST /login -H "X-Forwarded-For: 203.0.113.$i" --data "name=u$i&password=x" >/dev/null
	i=$((i + 1))
done
expect_status 429 "untrusted peer: X-Forwarded-For ignored, its address limited" POST /login -H "X-Forwarded-For: 203.0.113.99" --data "name=bob&password=correct+horse+battery+staple"
stop_desk

# secure_cookies defaults to true
C3=$T/secure.yaml
write_config "$C3" "verifier:
  resend_after_seconds: 0
desk:
  listen: 127.0.0.1:$PORT"
start_desk "$C3"
req POST /login -H "X-Forwarded-For: 198.51.100.9" --data "name=bob&password=correct+horse+battery+staple" >/dev/null
case "$(hdr Set-Cookie)" in *"; Secure"*) ok "Secure cookie by default" ;; *) not_ok "cookie: $(hdr Set-Cookie)" ;; esac
stop_desk

# ---- 10,000 tickets: server time of the queue and a ticket page
dbq main "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO tickets (msgkey, digest, source, received, kind, state, reason, from_addr, subject, fields, results, account, updated)
SELECT 'bulk' || i, 'bulk' || i, 'bulk:' || i, 1764000000 + i, 'missing_number',
 CASE i % 4 WHEN 0 THEN 'needs_review' WHEN 1 THEN 'applied' WHEN 2 THEN 'rejected' ELSE 'ignored' END,
 'bulk', 'noc@acme.example', 'Bulk ticket ' || i, '{}', '[]', 'R100', 1764000000 FROM n;
INSERT INTO ticket_raw (ticket_id, raw) SELECT id, (SELECT raw FROM ticket_raw WHERE ticket_id = 7) FROM tickets WHERE msgkey LIKE 'bulk%';
INSERT INTO audit (at, actor, action, account, ticket_id) SELECT '2026-11-24T10:00:00Z', 'tfadesk', 'ticket.state', 'R100', id FROM tickets WHERE msgkey LIKE 'bulk%';"
tfadesk -v -c "$C" desk >"$T/desk.out" 2>"$T/perf.err" &
desk_pid=$!
at_exit "kill $desk_pid 2>/dev/null"
wait_http "$URL/login"
check "log in" login bob "correct horse battery staple" -H "X-Forwarded-For: 198.51.100.20"
for p in "/?state=needs_review" "/?state=all" "/?state=all&q=Bulk+ticket+99" "/ticket/7" "/ticket/5000"; do
	for k in 1 2 3 4 5; do req GET "$p" >/dev/null; done
	[ "$(cat "$T/status")" = 200 ] || not_ok "$p: status $(cat "$T/status")"
done
stop_desk
# "... GET /ticket/7 12.3 ms (cpu 4.5 ms)": per page, the median wall time
# (the machine may be busy with other work) and the largest CPU time
grep -E ' GET /(ticket/[0-9]+)? [0-9.]+ ms \(cpu' "$T/perf.err" | sed 's/.* GET //; s/[()]//g' > "$T/times"
cat "$T/times"
awk '{ print $1 }' "$T/times" | uniq | while read -r p; do
	med=$(awk -v p="$p" '$1 == p { print $2 }' "$T/times" | sort -n | sed -n 3p)
	cpu=$(awk -v p="$p" '$1 == p && $5 > c { c = $5 } END { print c + 0 }' "$T/times")
	echo "server time on 10,000 tickets: $p median $med ms, cpu at most $cpu ms"
	awk -v m="$med" -v c="$cpu" 'BEGIN { exit !(m < 50 && c < 50) }' && ok "$p under 50 ms" || not_ok "$p: median $med ms, cpu $cpu ms"
done
finish
