#!/bin/bash
# (copied from the shared test-server kit; part of the project tests)
# Start a private Kannel (bearerbox + smsbox) with the 'fake' SMSC and Kannel's own
# fakesmsc client (package kannel-extras) capturing every MT message, all on 127.0.0.1.
# Usage: start-kannel.sh DIR
# Env:   KANNEL_SENDSMS_PORT=13013 KANNEL_ADMIN_PORT=13000 KANNEL_BOX_PORT=13001
#        KANNEL_FAKE_PORT=13015 KANNEL_USER=tester KANNEL_PASS=foobar
# After start:  curl 'http://127.0.0.1:13013/cgi-bin/sendsms?username=tester&password=foobar&from=Support&to=+4915112345678&text=Hello'
# Delivered MTs appear in DIR/fakesmsc.log as lines
#   ... DEBUG: Got message N: <FROM TO text TEXT>      (or "... data URLENCODED" for UCS-2/8-bit)
# PIDs: DIR/{bearerbox,smsbox,fakesmsc}.pid. Stop: stop-kannel.sh DIR
set -euo pipefail
D=${1:?usage: start-kannel.sh DIR}; mkdir -p "$D"; D=$(cd "$D" && pwd)
SENDSMS=${KANNEL_SENDSMS_PORT:-13013}; ADMIN=${KANNEL_ADMIN_PORT:-13000}
BOX=${KANNEL_BOX_PORT:-13001}; FAKE=${KANNEL_FAKE_PORT:-13015}
USER_=${KANNEL_USER:-tester}; PASS_=${KANNEL_PASS:-foobar}
FAKESMSC=/usr/lib/kannel/test/fakesmsc

# NB: Kannel config groups must not contain empty lines.
cat > "$D"/kannel.conf <<EOF
group = core
admin-port = $ADMIN
admin-interface = 127.0.0.1
admin-password = adminpw
status-password = statuspw
admin-allow-ip = "127.0.0.1"
smsbox-port = $BOX
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "$D/bearerbox.log"
log-level = 0
access-log = "$D/access.log"

group = smsc
smsc = fake
smsc-id = FAKE
port = $FAKE
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BOX
sendsms-port = $SENDSMS
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "$D/smsbox.log"
log-level = 0

group = sendsms-user
username = $USER_
password = $PASS_
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "No service specified"
EOF

wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
              echo "port $1 not ready" >&2; return 1; }

/usr/sbin/bearerbox -v 1 "$D"/kannel.conf > "$D"/bearerbox.out 2>&1 &
echo $! > "$D"/bearerbox.pid
wait_port "$FAKE"
# -m 0: send no MO messages, just print every MT (the dummy msg arg avoids "interactive"
# mode, which reads stdin); -v 0 = debug level, needed to log each "Got message".
"$FAKESMSC" -H 127.0.0.1 -r "$FAKE" -m 0 -v 0 "0 0 text unused" > "$D"/fakesmsc.log 2>&1 &
echo $! > "$D"/fakesmsc.pid
/usr/sbin/smsbox -v 1 "$D"/kannel.conf > "$D"/smsbox.out 2>&1 &
echo $! > "$D"/smsbox.pid
wait_port "$SENDSMS"
# ready = fake SMSC online (fakesmsc connected) and an smsbox connected to bearerbox
for _ in $(seq 1 200); do
  st=$(curl -s "http://127.0.0.1:$ADMIN/status.txt?password=statuspw" || true)
  if grep -q 'FAKE.*online' <<<"$st" && grep -qE 'smsbox:.*127\.0\.0\.1' <<<"$st"; then
    cat "$D"/bearerbox.pid "$D"/smsbox.pid "$D"/fakesmsc.pid | tr '\n' ' '; echo; exit 0; fi
  sleep 0.05
done
echo "kannel not ready" >&2; echo "$st" >&2; exit 1
