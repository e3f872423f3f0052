#!/bin/sh
# t_signals.sh - SIGTERM to `tfadesk fetch` (3000 messages in a maildir) and
# to `tfadesk process` (3000 tickets, each switching 2FA on for its own
# reseller): it finishes the message in hand, commits, exits 75; what it stored is flagged on the source and
# nothing else; a rerun finishes with every message stored once and every
# ticket applied once (one account.twofa audit row per ticket).
. "$(dirname "$0")/lib.sh"
need_sqlite3
C=$T/c.yaml
N=${SIG_N:-3000}
tf() { tfadesk -c "$C" "$@"; }
sql() { dbq main "$1"; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }
write_config "$C"
sed -i 's/require_sender_auth: true/require_sender_auth: false/' "$C"
i=1
{ echo "resellers:"; while [ $i -le "$N" ]; do
	printf '  - id: R%d\n    name: Reseller %d\n    twofa: false\n    contacts: [noc%d@r%d.example]\n    users:\n      - {id: U%d, name: User %d, phone: "07890 %06d"}\n' \
	    $i $i $i $i $i $i $((100000 + i))
	i=$((i + 1)); done; } > "$T/accounts.yaml"
i=1
while [ $i -le "$N" ]; do
	printf 'From: NOC <noc%d@r%d.example>\r\nTo: support@500.uk.com\r\nSubject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\nMessage-ID: <sig%d@r%d.example>\r\n\r\nPlease switch on 2FA for our reseller account R%d.\r\n' \
	    $i $i $i $i $i > "$T/maildir/new/$i.test"
	i=$((i + 1))
done
expect_exit 0 "db init" tf db init
expect_exit 0 "db import ($N resellers)" tf db import "$T/accounts.yaml"
flagged() { find "$T/maildir/cur" -type f -name '*:2,*S*' | wc -l; }

# The signal must land mid-run however fast the run is: the test build
# (tfadesk-hooks) sends itself SIGTERM at the 500th message stored
# (TFADESK_SIGNAL_AT), through the same handler as a kill from outside.
H=${B:-$TOP/build/rel}/tfadesk-hooks
[ -x "$H" ] || { echo "no $H: make check-build builds it"; exit 1; }

# --- fetch
TFADESK_SIGNAL_AT=fetch.stored:500 "$H" -c "$C" fetch >"$T/f.out" 2>"$T/f.err"
rc=$?
is_eq 75 "$rc" "fetch: SIGTERM -> exit 75"
contains "$T/f.err" "stopped by signal 15" "fetch: says it was stopped"
n1=$(sql "SELECT count(*) FROM tickets")
[ "$n1" -gt 0 ] && [ "$n1" -lt "$N" ] && ok "fetch: stopped part way ($n1 of $N stored)" ||
	not_ok "fetch: stored $n1 of $N: the signal did not land mid-run"
is_eq "$n1" "$(flagged)" "fetch: exactly the stored messages are flagged on the source"
contains "$T/f.out" "fetched $n1 new" "fetch: reports what it stored"
expect_exit 0 "fetch: rerun" tf fetch
is_eq "$N" "$(sql "SELECT count(*) FROM tickets")" "every message stored"
is_eq 0 "$(sql "SELECT count(*) FROM (SELECT 1 FROM tickets GROUP BY msgkey HAVING count(*) > 1) AS twice")" "none twice"
is_eq "$N" "$(flagged)" "every message flagged"

# --- process: SIGTERM at the 500th ticket decided (3000 tickets take less
# than half a second now: a kill from outside after a pause may come late)
TFADESK_SIGNAL_AT=process.decided:500 "$H" -c "$C" process >"$T/p.out" 2>"$T/p.err"
rc=$?
is_eq 75 "$rc" "process: SIGTERM -> exit 75"
contains "$T/p.err" "stopped by signal 15" "process: says it was stopped"
a1=$(sql "SELECT count(*) FROM tickets WHERE state = 'applied'")
[ "$a1" -gt 0 ] && [ "$a1" -lt "$N" ] && ok "process: stopped part way ($a1 of $N applied)" ||
	not_ok "process: applied $a1 of $N: the signal did not land mid-run"
is_eq "$a1" "$(sql "SELECT count(*) FROM audit WHERE action = 'account.twofa'")" "process: one change per applied ticket, none half done"
is_eq "$a1" "$(sql "SELECT count(*) FROM accounts WHERE twofa = 1")" "process: accounts changed == tickets applied"
contains "$T/p.out" "applied $a1," "process: reports what it committed"
expect_exit 0 "process: rerun" tf process
is_eq "$N" "$(sql "SELECT count(*) FROM tickets WHERE state = 'applied'")" "every ticket applied"
is_eq "$N" "$(sql "SELECT count(*) FROM audit WHERE action = 'account.twofa'")" "every change audited once"
is_eq 0 "$(sql "SELECT count(*) FROM (SELECT ticket_id FROM audit WHERE action = 'account.twofa' GROUP BY ticket_id HAVING count(*) > 1) AS twice")" "no change applied twice"
is_eq "$N" "$(sql "SELECT count(*) FROM outbox")" "one reply per ticket"
finish
