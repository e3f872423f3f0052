#!/bin/sh
# t_secrets.sh - files and secrets, with the programs run as an unprivileged
# user (root ignores modes; as root: nobody through setpriv, as Dovecot's
# tests do). What tfadesk and tfadesk-verify create (the database and its
# -wal/-shm, the key file, the spools, the lock) is 0640/0600, folders
# 0750/0700, whatever the umask. A secret that group or others may access,
# that cannot be read or that another user owns is refused with exit 77,
# naming the file and the chmod to run; -n reads every secret and checks
# source.after against the source type.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "setpriv not installed"; exit 77; }
	AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	ME=nobody
else
	AS=
	ME=$(id -un)
fi
# the service user's folder: nobody else may write it
W=$T/w
mkdir -p "$W/maildir/new" "$W/maildir/cur" "$W/maildir/tmp"
cp "$TOP"/samples/maildir/new/* "$W/maildir/new/"
cp "$TOP/samples/accounts.yaml" "$W/accounts.yaml"
mine() { [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$@"; return 0; }
# as_me CMD...: run as the service user
as_me() { $AS "$@"; }
# mode FILE: its permission bits, e.g. 640
mode() { stat -c %a "$1"; }

C=$W/tfadesk.yaml
cat > "$C" <<YAML
database: var/tfadesk.db
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source: {type: maildir, path: maildir}
reply: {transport: spool, spool: var/outbox}
security: {require_sender_auth: true, authserv_id: mx.500.uk.com}
sms: {transport: spool, spool: var/sms}
YAML
mine "$W"
chmod 700 "$W"

# 1. what the programs create, with umask 000 (the worst case)
umask 000
expect_exit 0 "db init as $ME, umask 000" as_me tfadesk -c "$C" db init
check "database 0640 ($(mode "$W/var/tfadesk.db"))" test "$(mode "$W/var/tfadesk.db")" = 640
check "its folder 0750 ($(mode "$W/var"))" test "$(mode "$W/var")" = 750
expect_exit 0 "db import" as_me tfadesk -c "$C" db import "$W/accounts.yaml"
expect_exit 0 "batch as $ME, umask 000" as_me tfadesk -c "$C" batch
set -- "$W"/var/outbox/new/*
check "replies spooled" test -f "$1"
bad=
for f in "$W"/var/outbox/new/*; do [ "$(mode "$f")" = 640 ] || bad="$bad $f:$(mode "$f")"; done
check "every spooled reply 0640 ($bad)" test -z "$bad"
for d in "$W/var/outbox" "$W/var/outbox/new" "$W/var/outbox/tmp" "$W/var/outbox/cur"; do
	check "reply spool folder ${d#$W/} 0750 ($(mode "$d"))" test "$(mode "$d")" = 750
done
check "batch lock 0600" test "$(mode "$W/var/tfadesk.db.lock")" = 600

PORT=${VERIFY_PORT:-$(free_port 18025 18099)}
URL=http://127.0.0.1:$PORT
$AS tfadesk-verify -c "$C" serve --listen "127.0.0.1:$PORT" 2>"$T/serve.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
check "serve as $ME answers" wait_http "$URL/healthz"
got=$(curl -s --data-binary '{"user_id": "U2002"}' "$URL/v1/challenges")
check "start: sent ($got)" test "$got" = '{"outcome": "sent"}'
# serve holds the database open: its -wal and -shm exist now
for f in "$W/var/tfadesk.db-wal" "$W/var/tfadesk.db-shm"; do
	check "${f#$W/} 0640 while serve runs ($(mode "$f" 2>&1))" test "$(mode "$f")" = 640
done
check "verifier.key 0600 ($(mode "$W/var/verifier.key"))" test "$(mode "$W/var/verifier.key")" = 600
set -- "$W"/var/sms/new/*
check "SMS spooled" test -f "$1"
check "spooled SMS 0640 ($(mode "$1"))" test "$(mode "$1")" = 640
for d in "$W/var/sms" "$W/var/sms/new" "$W/var/sms/tmp" "$W/var/sms/cur"; do
	check "SMS spool folder ${d#$W/} 0750 ($(mode "$d"))" test "$(mode "$d")" = 750
done
kill -TERM $pid; wait $pid
sed 's/^/    serve: /' "$T/serve.err"
umask 022

# 2. secrets: the source's password
S=$W/secrets
mkdir -p "$S"
printf 'pw-9f3k\n' > "$S/imap"
cat > "$T/imap.yaml" <<YAML
database: $W/var/tfadesk.db
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source:
  type: imap
  host: 127.0.0.1
  port: 1
  tls: none
  user: support
  password_file: $S/imap
  after: move:Done
security: {require_sender_auth: false}
YAML
cp "$T/imap.yaml" "$W/imap.yaml"
mine "$W"
chmod 644 "$S/imap"
msg="tfadesk: $S/imap: readable by group or others (mode 0644): run chmod 600 $S/imap"
expect_exit 77 "-n: a world-readable password file: 77" as_me tfadesk -c "$W/imap.yaml" -n
contains "$T/err" "$msg" "-n names the file and the chmod to run"
lacks "$T/out" "configuration OK" "-n does not say OK"
expect_exit 77 "fetch refuses it: 77" as_me tfadesk -c "$W/imap.yaml" fetch
contains "$T/err" "$msg" "fetch says the same"
expect_exit 77 "batch refuses it: 77" as_me tfadesk -c "$W/imap.yaml" batch
contains "$T/err" "$msg" "batch says the same"
lacks "$T/err" "pw-9f3k" "the password is never shown"
for m in 640 604 620 610; do
	chmod $m "$S/imap"
	expect_exit 77 "mode 0$m refused" as_me tfadesk -c "$W/imap.yaml" -n
	contains "$T/err" "(mode 0$m): run chmod 600 $S/imap" "mode 0$m: names the mode"
done
chmod 600 "$S/imap"
expect_exit 0 "-n: 0600 is fine" as_me tfadesk -c "$W/imap.yaml" -n
contains "$T/out" "configuration OK" "-n says OK"
chmod 400 "$S/imap"
expect_exit 0 "-n: 0400 is fine" as_me tfadesk -c "$W/imap.yaml" -n
expect_exit 75 "fetch with it: on to the (closed) server, 75" as_me tfadesk -c "$W/imap.yaml" fetch
rm "$S/imap"
expect_exit 78 "-n: a missing password file: 78" as_me tfadesk -c "$W/imap.yaml" -n
contains "$T/err" "$S/imap: No such file" "... named"
printf 'pw-9f3k\n' > "$S/imap"; chmod 600 "$S/imap"
if [ "$(id -u)" = 0 ]; then
	# root's file, 0600: nobody cannot read it
	chown root:root "$S/imap"
	expect_exit 77 "-n: a password file $ME cannot read: 77" as_me tfadesk -c "$W/imap.yaml" -n
	contains "$T/err" "$S/imap: Permission denied" "... named, with why"
	# another user's secret, read by root: refused too
	chown nobody:nogroup "$S/imap"
	expect_exit 77 "root reading nobody's password file: 77" tfadesk -c "$W/imap.yaml" -n
	contains "$T/err" "$S/imap: owned by nobody" "... says whose it is"
fi

# the SMTP password; -n reports each bad secret
printf 'smtppw\n' > "$S/smtp"
chmod 640 "$S/smtp" "$S/imap"
sed 's#^security:#reply:\n  transport: smtp\n  smtp_url: smtp://127.0.0.1:1\n  smtp_user: support\n  smtp_password_file: '"$S"'/smtp\nsecurity:#' \
    "$T/imap.yaml" > "$W/smtp.yaml"
mine "$W"
chmod 640 "$S/smtp" "$S/imap"
expect_exit 77 "-n: both secrets group-readable: 77" as_me tfadesk -c "$W/smtp.yaml" -n
contains "$T/err" "$S/imap: readable by group or others (mode 0640)" "-n names the first"
contains "$T/err" "$S/smtp: readable by group or others (mode 0640)" "... and the second"
chmod 600 "$S/imap" "$S/smtp"
expect_exit 0 "-n: both 0600" as_me tfadesk -c "$W/smtp.yaml" -n

# source.after that the source type cannot carry out
sed 's/type: imap/type: pop3/' "$T/imap.yaml" > "$W/pop3.yaml"
sed 's#type: imap#type: maildir\n  path: maildir#;s#move:Done#move:../x#' "$T/imap.yaml" > "$W/md.yaml"
mine "$W"
expect_exit 78 "-n: POP3 with move: is a configuration error" as_me tfadesk -c "$W/pop3.yaml" -n
contains "$T/err" "pop3.yaml:12: source.after: move:Done: POP3 can only keep (seen) or delete" \
    "... naming the key and line"
expect_exit 78 "-n: a maildir move: out of the folder" as_me tfadesk -c "$W/md.yaml" -n
contains "$T/err" "source.after: move:../x" "... named"

# 3. the verifier's secrets: the gateway password and token, the key file
printf 'foobar\n' > "$S/kannel"
cat > "$W/kannel.yaml" <<YAML
database: $W/var/tfadesk.db
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
security: {require_sender_auth: false}
sms:
  transport: http
  url: http://127.0.0.1:1/cgi-bin/sendsms
  user: tester
  password_file: $S/kannel
YAML
sed "s#^  user: tester#  preset: custom\n  method: GET\n  auth: bearer#;s#password_file: .*#token_file: $S/token#" \
    "$W/kannel.yaml" > "$W/token.yaml"
printf 'tok\n' > "$S/token"
mine "$W"
chmod 644 "$S/kannel"
expect_exit 77 "verify -n: a world-readable gateway password: 77" as_me tfadesk-verify -c "$W/kannel.yaml" -n
contains "$T/err" "tfadesk-verify: $S/kannel: readable by group or others (mode 0644): run chmod 600 $S/kannel" \
    "... names the file and the chmod"
expect_exit 77 "verify start: 77" as_me tfadesk-verify -c "$W/kannel.yaml" start U2002
expect_exit 77 "verify serve: 77" timeout 10 $AS tfadesk-verify -c "$W/kannel.yaml" serve --listen "127.0.0.1:$PORT"
chmod 600 "$S/kannel"
expect_exit 0 "verify -n: 0600 is fine" as_me tfadesk-verify -c "$W/kannel.yaml" -n
chmod 660 "$S/token"
expect_exit 77 "verify -n: a group-writable token: 77" as_me tfadesk-verify -c "$W/token.yaml" -n
contains "$T/err" "$S/token: readable by group or others (mode 0660)" "... named"
chmod 600 "$S/token"
expect_exit 0 "verify -n: token 0600" as_me tfadesk-verify -c "$W/token.yaml" -n
chmod 640 "$W/var/verifier.key"
expect_exit 77 "verify -n: a group-readable key file: 77" as_me tfadesk-verify -c "$W/kannel.yaml" -n
contains "$T/err" "$W/var/verifier.key: readable by group or others (mode 0640): run chmod 600" "... named"
chmod 600 "$W/var/verifier.key"

finish
