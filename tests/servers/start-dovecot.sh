#!/bin/bash
# tests/servers/start-dovecot.sh DIR - a private Dovecot (IMAP, POP3, IMAPS,
# POP3S) on 127.0.0.1 for the intake tests; everything lives in DIR.
# Env:   IMAP_PORT=10143 POP3_PORT=10110 IMAPS_PORT=10993 POP3S_PORT=10995
#        DOVECOT_USERS="support:secret alice:alicepw"
#        TLS_SAN="DNS:localhost,IP:127.0.0.1"   names in the server certificate
#        MAIL_OWNER=nobody (when root: Dovecot refuses mail access as uid 0)
# TLS: DIR/tls/ca.pem is a test CA that signed DIR/tls/cert.pem; DIR/tls/other-ca.pem
# is an unrelated CA (for "wrong CA" tests).
# Prints the master PID (also DIR/run/master.pid). Stop: stop-dovecot.sh DIR.
# Mail for user U: DIR/mail/U/Maildir/{new,cur,tmp}. Exit 77 if dovecot is absent.
set -euo pipefail
D=${1:?usage: start-dovecot.sh DIR}
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { echo "dovecot not installed" >&2; exit 77; }
PATH=$PATH:/usr/sbin
IMAP_PORT=${IMAP_PORT:-10143}; POP3_PORT=${POP3_PORT:-10110}
IMAPS_PORT=${IMAPS_PORT:-10993}; POP3S_PORT=${POP3S_PORT:-10995}
DOVECOT_USERS=${DOVECOT_USERS:-"support:secret alice:alicepw"}
TLS_SAN=${TLS_SAN:-"DNS:localhost,IP:127.0.0.1"}
if [ "$(id -u)" = 0 ]; then MAIL_OWNER=${MAIL_OWNER:-nobody}; else MAIL_OWNER=$(id -un); fi
MUID=$(id -u "$MAIL_OWNER"); MGID=$(id -g "$MAIL_OWNER")

mkdir -p "$D"/run "$D"/state "$D"/mail "$D"/tls
D=$(cd "$D" && pwd)
# auth runs as 'dovecot', mail as $MAIL_OWNER: every ancestor must be o+x
chmod 755 "$D" "$D"/mail
p=$D; while p=$(dirname "$p"); [ "$p" != / ]; do
  [ $(( 0$(stat -c %a "$p") & 1 )) -eq 1 ] || { echo "start-dovecot: $p is not o+x (chmod 755 it)" >&2; exit 1; }
done

if [ ! -s "$D"/tls/cert.pem ]; then
  ( cd "$D"/tls
    for ca in ca other-ca; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout $ca-key.pem -out $ca.pem -days 3650 -subj "/CN=tfadesk test $ca" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout key.pem -out cert.csr -subj /CN=localhost 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$TLS_SAN" > ext.cnf
    openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -out cert.pem -days 3650 -extfile ext.cnf 2>/dev/null
    chmod 600 key.pem ca-key.pem other-ca-key.pem; chmod 644 ca.pem other-ca.pem cert.pem )
fi

: > "$D"/passwd
for up in $DOVECOT_USERS; do
  u=${up%%:*}; pw=${up#*:}
  echo "$u:{PLAIN}$pw::::::" >> "$D"/passwd
  mkdir -p "$D"/mail/"$u"/Maildir/{new,cur,tmp}
done
chown -R "$MUID:$MGID" "$D"/mail
chmod 644 "$D"/passwd

cat > "$D"/dovecot.conf <<EOF
instance_name = tfadesk-test-dovecot-$$
base_dir  = $D/run
state_dir = $D/state
log_path  = $D/dovecot.log
info_log_path = $D/dovecot.log
debug_log_path = $D/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_verbose = yes
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=$MUID gid=$MGID home=$D/mail/%u
}
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
ssl = yes
ssl_cert = <$D/tls/cert.pem
ssl_key  = <$D/tls/key.pem
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $POP3S_PORT
    ssl = yes
  }
}
shutdown_clients = yes
mail_max_userip_connections = 1000
EOF

dovecot -c "$D"/dovecot.conf
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
              echo "port $1 not ready" >&2; cat "$D"/dovecot.log >&2; return 1; }
for p in $IMAP_PORT $POP3_PORT $IMAPS_PORT $POP3S_PORT; do wait_port $p; done
cat "$D"/run/master.pid
