#!/bin/sh
# t_send_claims.sh - claimed delivery against a real SMTP sink (aiosmtpd):
#   a `batch` and a manual `send` at once deliver 2,000 replies once each;
#   SIGTERM to send finishes the reply in hand, exits 75, and the rerun
#   sends the rest with no duplicate; kill -9 leaves a claim that holds the
#   rows until it expires, then another sender takes them; `send --now`
#   ignores back-off; `outbox list` shows states.
. "$(dirname "$0")/lib.sh"
need_sqlite3
: "${SMTP_PORT:=10025}"
export SMTP_PORT
S=$T/sink
C=$T/c.yaml
N=${CLAIM_N:-2000}
tf() { tfadesk -c "$C" "$@"; }
sql() { dbq main "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
sink_pid=$(bash "$TOP/tests/servers/start-smtp-sink.sh" "$S") || { echo "smtp sink did not start"; exit 1; }
at_exit 'bash "$TOP/tests/servers/stop-pid.sh" $sink_pid'
# received: replies at the sink; distinct: distinct In-Reply-To among them
received() { ls "$S/out" | grep -c '\.eml$'; }
distinct() { cat "$S"/out/*.eml 2>/dev/null | grep -i '^In-Reply-To:' | sort -u | wc -l | tr -d ' '; }

REPLY_YAML="  transport: smtp
  smtp_url: smtp://127.0.0.1:$SMTP_PORT
  timeout: 10" SENDER_AUTH=false write_config "$C"
cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example]
    users:
      - {id: U1001, name: Jane Smith, phone: "07400 123456"}
      - {id: U1002, name: Raj Patel}
YAML
expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$T/accounts.yaml"
# fill: N "2FA Set Up" requests (U1002 has no mobile: each gets a reply)
fill() {
	mkdir -p "$T/maildir/tmp" "$T/maildir/new" "$T/maildir/cur"
	i=$1
	while [ "$i" -le "$2" ]; do
		printf 'From: Acme NOC <noc@acme.example>\r\nTo: support@500.uk.com\r\nSubject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\nMessage-ID: <req%s@acme.example>\r\n\r\nPlease switch on 2FA for our reseller account R100.\r\n' "$i" > "$T/maildir/new/m$i"
		i=$((i + 1))
	done
	tf fetch >/dev/null && tf process >/dev/null
}
fill 1 "$N"
is_eq "$N" "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")" "$N replies queued"

# --- 1. batch and a manual send at once: each reply once
tf batch > "$T/batch.out" 2>&1 & b=$!
tf send > "$T/send.out" 2>&1 & s=$!
wait $b; rb=$?
wait $s; rs=$?
is_eq 0 "$rb" "batch exit"
is_eq 0 "$rs" "send exit"
is_eq "$N" "$(received)" "$N messages at the sink"
is_eq "$N" "$(distinct)" "$N distinct replies: no duplicate"
is_eq 0 "$(sql "SELECT count(*) FROM outbox WHERE state != 'sent' OR claim IS NOT NULL")" "all marked sent, no claim left"
sb=$(sed -n 's/.*sent \([0-9]*\), failed.*/\1/p' "$T/batch.out")
ss=$(sed -n 's/^sent \([0-9]*\),.*/\1/p' "$T/send.out")
is_eq "$N" "$((sb + ss))" "the two senders' counts add up ($sb + $ss)"
[ "$sb" -gt 0 ] && [ "$ss" -gt 0 ] && ok "both senders sent some" ||
	echo "# note: one sender took every row ($sb + $ss)"

# --- 2. SIGTERM: the reply in hand is finished, exit 75, no duplicate
rm -f "$S"/out/*
fill $((N + 1)) $((N + N))
tfadesk -c "$C" send > "$T/send.out" 2>&1 & s=$!
while [ "$(received)" -lt 50 ]; do sleep 0.05; done
kill -TERM $s
wait $s; rs=$?
is_eq 75 "$rs" "send exits 75 on SIGTERM"
got=$(received)
marked=$(sql "SELECT count(*) FROM outbox WHERE state = 'sent' AND id > $N")
is_eq "$got" "$marked" "every reply the sink took is marked sent ($got)"
[ "$got" -lt "$N" ] && ok "stopped early ($got of $N)" || not_ok "SIGTERM did not stop send"
is_eq 0 "$(sql "SELECT count(*) FROM outbox WHERE claim IS NOT NULL")" "claims released"
expect_exit 0 "send the rest" tf send
is_eq "$N" "$(received)" "all $N arrived"
is_eq "$N" "$(distinct)" "no duplicate after SIGTERM"

# --- 3. kill -9: the dead sender's claim holds its rows until it expires
rm -f "$S"/out/*
fill $((2 * N + 1)) $((2 * N + 200))
# the test build dies as kill -9 would right after its second claim
# committed (TFADESK_STOP_AT), however fast the sending: a timed kill
# could come after the last reply
H=${B:-$TOP/build/rel}/tfadesk-hooks
[ -x "$H" ] || { echo "no $H: make check-build builds it"; exit 1; }
TFADESK_STOP_AT=send.claimed:2 "$H" -c "$C" send > /dev/null 2>&1
is_eq 137 "$?" "the sender dies at its second claim"
held=$(sql "SELECT count(*) FROM outbox WHERE state = 'queued' AND claim IS NOT NULL")
[ "$held" -gt 0 ] && ok "kill -9 left $held rows claimed" || not_ok "no claim left by kill -9"
left=$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")
before=$(received)
expect_exit 0 "send while the claim is live" tf send
is_eq $((left - held)) "$(( $(received) - before ))" "the claimed rows wait for the claim to expire"
is_eq "$held" "$(sql "SELECT count(*) FROM outbox WHERE state = 'queued'")" "only the claimed rows still queued"
later=$(( $(date +%s) + 3600 ))
TFADESK_NOW=$later expect_exit 0 "send after the claim expired" tf send
all=$(received); uniq=$(distinct)
[ "$uniq" -eq 200 ] && ok "all 200 arrived" || not_ok "only $uniq of 200 arrived"
[ $((all - uniq)) -le 1 ] && ok "at most the reply in flight at kill -9 went twice ($((all - uniq)))" ||
	not_ok "$((all - uniq)) duplicates after kill -9"

# --- 4. back-off and --now; outbox list
bash "$TOP/tests/servers/stop-pid.sh" $sink_pid
fill $((2 * N + 201)) $((2 * N + 201))
expect_exit 75 "send with the sink down exits 75" tf send
expect_exit 0 "outbox list" tf outbox list
contains "$T/out" "queued" "outbox list shows the queued reply"
expect_exit 0 "outbox list --json" tf outbox list --json
python3 - "$T/out" <<'PY' && ok "outbox list --json: the deferred reply with attempts, next try and error" || not_ok "outbox list --json"
import json, sys
rows = json.load(open(sys.argv[1]))
q = [r for r in rows if r["state"] == "queued"]
assert len(q) == 1, q
r = q[0]
assert r["attempts"] == 1 and r["next_try"] and r["last_error"], r
assert r["to"] == "noc@acme.example" and r["subject"] == "Re: 2FA Set Up", r
PY
sink_pid=$(bash "$TOP/tests/servers/start-smtp-sink.sh" "$S") || { echo "smtp sink did not restart"; exit 1; }
before=$(received)
expect_exit 0 "send during back-off" tf send
is_eq "$before" "$(received)" "back-off: nothing sent before the next try"
expect_exit 0 "send --now" tf send --now
is_eq $((before + 1)) "$(received)" "send --now ignores back-off"
finish
