#!/bin/sh
# t_watch.sh - `tfadesk watch` against a real Dovecot: a message dropped into
# the mailbox is answered within seconds (IMAP IDLE), a cron `batch` beside
# it exits 0 or 75 and nothing is stored or answered twice, Dovecot stopped
# and started again is reconnected to with back-off and the next arrival
# answered, SIGTERM ends it with 0 at once; a maildir source is watched too;
# a bad configuration ends it with 78.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
dovecot_start
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
source_config "$C" imap "$IMAP_PORT" none seen 127.0.0.1 "  poll_seconds: 600"
cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
YAML
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$T/accounts.yaml"

ticket() {
	printf 'From: Acme NOC <noc@acme.example>\r\nTo: support@500.uk.com\r\n'
	printf 'Subject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\n'
	printf 'Message-ID: <watch%s.%s@acme.example>\r\n' "$1" "$$"
	printf '\r\nPlease switch on 2FA for our reseller account R100.\r\n'
}
replies() { ls "$T/outbox/new" 2>/dev/null | wc -l; }
# wait_replies N SECONDS: 0 when the spool holds N replies in time
has_replies() { [ "$(replies)" -ge "$1" ]; }
wait_replies() { wait_for "$2" has_replies "$1"; }
sent_is() { [ "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" = "$1" ]; }
has_tickets() { [ "$(tickets)" -ge "$1" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
# stopped PID SECONDS: 0 when PID ended in time; its status in $st
stopped() {
	k=0
	while alive "$1"; do
		k=$((k + 1)); [ $k -gt $(( $2 * 10 )) ] && return 1
		sleep 0.1
	done
	wait "$1"; st=$?
}

# --- 1. an arrival is answered within seconds (poll_seconds is 600: only
# IDLE can wake it)
tfadesk -c "$C" -v watch > "$T/w.out" 2> "$T/w.err" &
wp=$!
at_exit "kill $wp 2>/dev/null"
sleep 1
alive $wp && ok "watch runs" || not_ok "watch exited: $(cat "$T/w.err")"
is_eq 0 "$(replies)" "nothing answered before mail arrives"
ticket 1 | drop m00001
if wait_replies 1 10; then ok "arrival answered within 10 s"
else not_ok "no reply within 10 s: $(tail -3 "$T/w.err")"; fi
is_eq 1 "$(tickets)" "one ticket stored"
is_eq 1 "$(nseen "$MB")" "the message flagged \\Seen on the server"

# --- 2. a cron batch beside it: 0 or 75, nothing done twice
for n in 2 3 4; do ticket $n | drop "m0000$n"; done
tf batch > "$T/b.out" 2>&1
rc=$?
case $rc in 0|75) ok "cron batch beside watch exits $rc" ;;
	*) not_ok "cron batch exit $rc: $(cat "$T/b.out")" ;; esac
wait_replies 4 10 && ok "the three arrivals answered" || not_ok "replies: $(replies)"
ticket 5 | drop m00005; tf batch >/dev/null 2>&1 & b1=$!
ticket 6 | drop m00006; tf batch >/dev/null 2>&1 & b2=$!
wait $b1 $b2
wait_replies 6 10 && ok "arrivals during cron batches answered" || not_ok "replies: $(replies)"
# a reply is in the spool before its row is marked sent (one commit later,
# by whichever process sent it): wait for the marks, then a second more
# for a reply too many to show itself
wait_for 10 sent_is 6
sleep 1
is_eq 6 "$(tickets)" "each message stored once"
is_eq 0 "$(dups)" "no message stored twice"
is_eq 6 "$(replies)" "each ticket answered once"
is_eq 6 "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" "six replies sent"

# --- 3. Dovecot stopped and started again: back-off, reconnect, answer
# the master alone may leave its imap processes behind, still serving the
# IDLE connection: end those of this instance too, so the connection breaks
inst=$(sed -n 's/^instance_name = //p' "$DOVECOT_DIR/dovecot.conf")
kids=$(ps -eo pid=,args= | awk -v n="$inst/" 'index($0, n) { print $1 }')
bash "$TOP/tests/servers/stop-dovecot.sh" "$DOVECOT_DIR"
for p in $kids; do kill -KILL "$p" 2>/dev/null; done
wait_for 10 grep -q "trying again" "$T/w.err"
contains "$T/w.err" "trying again" "says it will try again"
sleep 1
alive $wp && ok "watch survives the server going away" || not_ok "watch exited"
bash "$TOP/tests/servers/start-dovecot.sh" "$DOVECOT_DIR" >/dev/null ||
	not_ok "dovecot restart"
ticket 7 | drop m00007
if wait_replies 7 20; then ok "after the restart: the next arrival answered"
else not_ok "no reply after the restart: $(tail -5 "$T/w.err")"; fi
ticket 8 | drop m00008
grep -E "watch|source" "$T/w.err" | sed "s/^/#  /"
wait_replies 8 10 && ok "and the one after it" || not_ok "replies: $(replies)"

# --- 4. SIGTERM: exit 0 promptly
kill -TERM $wp
if stopped $wp 3; then is_eq 0 "$st" "SIGTERM: exit 0 within 3 s"
else not_ok "still running 3 s after SIGTERM"; fi
is_eq 8 "$(tickets)" "eight tickets, each once"

# --- 4b. an arrival while watch's first batch runs, after its fetch: the
# waiting connection must already be open (EXAMINE before the batch), or
# the mailbox it opens already counts the message and IDLE never reports
# it (caught only at the next full check, 600 s here). The hooks build
# pauses the first batch 3 s at its first decision to open that window.
H=${B:-$TOP/build/rel}/tfadesk-hooks
case "$H" in /*) ;; *) H=$TOP/$H ;; esac
ticket 10 | drop m00010
TFADESK_PAUSE_AT=process.decided:1:3000 "$H" -c "$C" -v watch \
	> /dev/null 2> "$T/p.err" &
pp=$!
at_exit "kill $pp 2>/dev/null"
wait_for 10 has_tickets 9
sleep 0.5
ticket 11 | drop m00011
if wait_replies 9 10; then ok "the first batch's own arrival answered"
else not_ok "first batch: $(tail -8 "$T/p.err")"; fi
if wait_replies 10 10; then ok "an arrival during the first batch answered"
else not_ok "arrival during the first batch missed: $(tail -3 "$T/p.err")"; fi
kill -TERM $pp
stopped $pp 3 && is_eq 0 "$st" "SIGTERM: exit 0" || not_ok "still running"
is_eq 10 "$(tickets)" "ten tickets, each once"

# --- 5. a maildir source is watched (new/ looked at every second)
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
sed -i "s#^  type: imap#  type: maildir\n  path: $T/md#" "$C"
tfadesk -c "$C" watch > /dev/null 2> "$T/m.err" &
mp=$!
at_exit "kill $mp 2>/dev/null"
sleep 1
ticket 12 > "$T/md/tmp/m12"; mv "$T/md/tmp/m12" "$T/md/new/m12"
wait_replies 11 10 && ok "maildir arrival answered within 10 s" || not_ok "maildir: $(cat "$T/m.err")"
kill -TERM $mp
stopped $mp 3 && is_eq 0 "$st" "maildir watch: SIGTERM exit 0" || not_ok "maildir watch still running"

# --- 6. a configuration to fix ends it at once: 78
source_config "$C" imap "$IMAP_PORT" none seen mail.example.com
tfadesk -c "$C" watch > /dev/null 2> "$T/x.err" &
xp=$!
at_exit "kill $xp 2>/dev/null"
if stopped $xp 10; then is_eq 78 "$st" "tls none to a remote host: exit 78"
else not_ok "watch kept running with a bad configuration"; fi
contains "$T/x.err" "loopback" "and says why"
expect_exit 64 "watch takes no arguments" tf watch extra
finish
