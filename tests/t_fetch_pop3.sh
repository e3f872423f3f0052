#!/bin/sh
# t_fetch_pop3.sh - `tfadesk fetch` from a real Dovecot over POP3, STLS and
# POP3S: UIDL keys, nothing downloaded twice, DELE only after the store
# commit (after: delete), seen keeps the messages, refused certificates.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
export TLS_SAN=DNS:localhost
dovecot_start
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
i=0
deliver() { for _ in $(seq 1 "$1"); do i=$((i + 1)); mkmsg $i | drop "$(printf 'm%05d' $i)"; done; }

source_config "$C" pop3 "$POP3_PORT" none seen 127.0.0.1
expect_exit 0 "db init" tf db init
deliver 3
expect_exit 0 "POP3 fetch" tf fetch
is_eq 3 "$(tickets)" "3 tickets"
is_eq 3 "$(nfiles "$MB")" "seen: messages stay on the server"
key=$(sql "SELECT source FROM tickets WHERE id = 1")
case "$key" in "pop3:support@127.0.0.1:"?*) ok "UIDL key $key" ;;
	*) not_ok "source key: $key" ;; esac
expect_exit 0 "fetch again" tf fetch
is_eq 3 "$(tickets)" "nothing stored twice"
grep "pop3(support)" "$DOVECOT_DIR/dovecot.log" | tail -n 1 > "$T/last"
contains "$T/last" "retr=0/0" "known messages are not downloaded again"

deliver 1
source_config "$C" pop3 "$POP3_PORT" starttls seen localhost
expect_exit 0 "STLS fetch" tf fetch
is_eq 4 "$(tickets)" "STLS message stored"

deliver 1
source_config "$C" pop3s "$POP3S_PORT" implicit seen localhost
sed -i "s#ca_file: .*#ca_file: $DOVECOT_DIR/tls/other-ca.pem#" "$C"
expect_exit 69 "POP3S with the wrong CA refused" tf fetch
contains "$T/err" "certificate" "says certificate"
source_config "$C" pop3s "$POP3S_PORT" implicit seen 127.0.0.1
expect_exit 69 "POP3S to a wrong name refused" tf fetch
source_config "$C" pop3 "$POP3_PORT" starttls seen 127.0.0.1
expect_exit 69 "STLS to a wrong name refused" tf fetch
echo wrong > "$T/imap.pw"
source_config "$C" pop3s "$POP3S_PORT" implicit seen localhost
expect_exit 69 "wrong password refused" tf fetch
echo secret > "$T/imap.pw"
source_config "$C" pop3 "$POP3_PORT" none move:Done 127.0.0.1
expect_exit 78 "move: is not possible with POP3" tf fetch
is_eq 4 "$(tickets)" "nothing stored by refused runs"

# the same messages seen over IMAP are the same tickets
source_config "$C" imap "$IMAP_PORT" none seen 127.0.0.1
expect_exit 0 "IMAP fetch of the same mailbox" tf fetch
is_eq 5 "$(tickets)" "only the one new message added"
is_eq 0 "$(dups)" "no duplicates"

deliver 2
source_config "$C" pop3s "$POP3S_PORT" implicit delete localhost
expect_exit 0 "POP3S fetch with delete" tf fetch
is_eq 7 "$(tickets)" "7 tickets"
is_eq 0 "$(nfiles "$MB")" "delete: all messages gone from the server"
is_eq 0 "$(dups)" "no duplicates"
finish
