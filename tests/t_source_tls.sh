#!/bin/sh
# t_source_tls.sh - TLS failures of the mail source and the SMTP relay:
#   a handshake that times out exits 75 (try later: systemd and cron treat
#   it as a passing hiccup), a handshake that fails exits 69 (fix it), and
#   either is one line of ours: nothing that GnuTLS prints leaks to stderr.
. "$(dirname "$0")/lib.sh"
SILENT=$TOP/tests/servers/silent_tcp.py
# serve [ARGS]: start a silent server, sets $port
serve() {
	python3 -u "$SILENT" "$@" > "$T/port.$$" & pid=$!
	at_exit "kill $pid 2>/dev/null"
	i=0
	while [ ! -s "$T/port.$$" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(head -n 1 "$T/port.$$"); rm -f "$T/port.$$"
	[ -n "$port" ] || { echo "silent server did not start"; exit 1; }
}
echo secret > "$T/pw"; chmod 600 "$T/pw"
C=$T/c.yaml
cfg() {   # TYPE TLS PORT
	SENDER_AUTH=false write_config "$C"
	sed -i '/^source:/,/^reply:/{/^source:/!{/^reply:/!d}}' "$C"
	sed -i "s#^source:#source:\n  type: $1\n  host: 127.0.0.1\n  port: $3\n  user: support\n  password_file: $T/pw\n  tls: $2\n  timeout: 2#" "$C"
}
one_line() {   # what: stderr is exactly one line, ours
	n=$(wc -l < "$T/err")
	if [ "$n" -eq 1 ] && grep -q '^tfadesk: ' "$T/err" && ! grep -qi 'gnutls error' "$T/err"; then
		ok "$1: one line of ours"
	else not_ok "$1: stderr is not one line of ours:"; sed 's/^/    /' "$T/err"; fi
}
serve
for t in "imaps implicit" "pop3s implicit"; do
	set -- $t
	cfg "$1" "$2" "$port"
	tfadesk -c "$C" db init >/dev/null
	expect_exit 75 "$1: a TLS handshake that times out exits 75" tfadesk -c "$C" fetch
	contains "$T/err" "timed out" "$1: says it timed out"
	one_line "$1 timeout"
done
serve --greet "* OK plain IMAP, no TLS here"
cfg imaps implicit "$port"
expect_exit 69 "imaps: a TLS handshake that fails exits 69" tfadesk -c "$C" fetch
contains "$T/err" "TLS handshake failed" "imaps: says the handshake failed"
one_line "imaps failure"
serve --greet "+OK plain POP3, no TLS here"
cfg pop3s implicit "$port"
expect_exit 69 "pop3s: a TLS handshake that fails exits 69" tfadesk -c "$C" fetch
one_line "pop3s failure"
# the SMTP relay: libcurl's handshake timeout is a temporary failure too
serve
REPLY_YAML="  transport: smtp
  smtp_url: smtps://127.0.0.1:$port
  timeout: 2" SENDER_AUTH=false write_config "$C"
tfadesk -c "$C" db init >/dev/null
printf 'resellers:\n  - {id: R100, name: Acme, contacts: [noc@acme.example], users: [{id: U1002, name: Raj Patel}]}\n' > "$T/a.yaml"
tfadesk -c "$C" db import "$T/a.yaml" >/dev/null
printf 'From: noc@acme.example\r\nSubject: 2FA Set Up\r\nMessage-ID: <t1@acme.example>\r\n\r\nPlease switch on 2FA for R100.\r\n' | tfadesk -c "$C" ingest >/dev/null
tfadesk -c "$C" process >/dev/null
if [ "$(dbq main 'SELECT count(*) FROM outbox')" -gt 0 ]; then
	expect_exit 75 "smtps: a TLS handshake that times out exits 75" tfadesk -c "$C" send
	one_line "smtps timeout"
else
	not_ok "no reply queued to send"
fi
finish
