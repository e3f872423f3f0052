#!/bin/sh
# tests/bench/watch.sh - time to answer: `tfadesk watch` on a private Dovecot
# (IMAP IDLE), N (default 100) tickets delivered one by one into the
# mailbox, each after the reply to the one before; the time from the
# delivery (rename into new/) to the reply in the spool, median and p90,
# beside the target (median under 2 s; cron every 5 minutes: 150 s).
# Env: BENCH_WATCH_N.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TF=${TFADESK:-$TOP/tfadesk}
N=${BENCH_WATCH_N:-100}
: "${IMAP_PORT:=10143}" "${POP3_PORT:=10110}" "${IMAPS_PORT:=10993}" "${POP3S_PORT:=10995}"
export IMAP_PORT POP3_PORT IMAPS_PORT POP3S_PORT
for c in /usr/bin/python3 sqlite3; do
	command -v $c >/dev/null || { echo "watch: $c not installed (make deps)"; exit 77; }
done
[ -x "$TF" ] || { echo "watch: $TF not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-bench.XXXXXX"); chmod 755 "$T"
D=$T/dovecot
wp=
trap '[ -n "$wp" ] && kill $wp 2>/dev/null; bash "$TOP/tests/servers/stop-dovecot.sh" "$D"; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
bash "$TOP/tests/servers/start-dovecot.sh" "$D" >/dev/null || exit $?
MB=$D/mail/support/Maildir
echo secret > "$T/imap.pw"; chmod 600 "$T/imap.pw"
cat > "$T/c.yaml" <<YAML
database: $T/tfadesk.db
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source:
  type: imap
  host: 127.0.0.1
  port: $IMAP_PORT
  user: support
  password_file: $T/imap.pw
  tls: none
  after: seen
reply:
  from: "SIP Trunk Plus Support <support@500.uk.com>"
  transport: spool
  spool: $T/outbox
security:
  require_sender_auth: false
sms:
  transport: spool
  spool: $T/sms
YAML
cat > "$T/accounts.yaml" <<'YAML'
resellers:
  - id: R100
    name: Acme Telecom
    twofa: false
    contacts: [noc@acme.example]
    users:
      - {id: U1001, name: Jane Smith, phone: "07890 123456"}
YAML
"$TF" -c "$T/c.yaml" db init >/dev/null && "$TF" -c "$T/c.yaml" db import "$T/accounts.yaml" >/dev/null ||
	{ echo "watch: database set-up failed"; exit 1; }
"$TF" -c "$T/c.yaml" watch >/dev/null 2>"$T/watch.err" &
wp=$!
sleep 1
kill -0 $wp 2>/dev/null || { echo "watch: tfadesk watch exited:"; cat "$T/watch.err"; exit 1; }
python3 - "$MB" "$T/outbox/new" "$N" <<'PY'
import os, pwd, sys, time
mb, spool, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    nobody = pwd.getpwnam("nobody")
except KeyError:
    nobody = None
def replies():
    try:
        return len(os.listdir(spool))
    except FileNotFoundError:
        return 0
times = []
for i in range(1, n + 1):
    msg = ("From: Acme NOC <noc@acme.example>\r\nTo: support@500.uk.com\r\n"
           "Subject: 2FA Set Up\r\nDate: Fri, 28 Nov 2025 10:00:00 +0000\r\n"
           "Message-ID: <watch-bench-%d.%d@acme.example>\r\n\r\n"
           "Please switch on 2FA for our reseller account R100.\r\n" % (i, os.getpid()))
    have = replies()
    tmp = os.path.join(mb, "tmp", "b%05d" % i)
    with open(tmp, "w") as f:
        f.write(msg)
    if os.getuid() == 0 and nobody:
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
    t0 = time.monotonic()
    os.rename(tmp, os.path.join(mb, "new", "%d.b%05d.bench" % (int(time.time()), i)))
    while replies() <= have:
        if time.monotonic() - t0 > 120:
            print("watch: ticket %d: no reply within 120 s" % i)
            sys.exit(1)
        time.sleep(0.002)
    times.append(time.monotonic() - t0)
times.sort()
med = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
print("watch: %d tickets one by one: arrival to reply median %.3f s, p90 %.3f s, max %.3f s"
      % (len(times), med, p90, times[-1]))
print("watch: target: median under 2 s (%s); cron every 5 minutes: 150 s on average"
      % ("met" if med < 2.0 else "NOT met"))
PY
rc=$?
kill -TERM $wp; wait $wp; wrc=$?; wp=
[ $wrc -eq 0 ] || echo "watch: tfadesk watch exited $wrc on SIGTERM"
exit $rc
