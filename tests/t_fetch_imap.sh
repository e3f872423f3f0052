#!/bin/sh
# t_fetch_imap.sh - `tfadesk fetch` from a real Dovecot over IMAP: plain,
# STARTTLS and IMAPS with the test CA; refused certificates (wrong CA, wrong
# name), refused logins, an unreachable server; source.after seen, move and
# delete checked in the server's maildir; a UIDVALIDITY change; the same
# message from two sources stored once, also when the IMAP copy was
# delivered by Dovecot's LDA with the MTA's trace fields (CRLF over IMAP,
# LF from the pipe); a forged copy reusing its Message-ID is a ticket of
# its own.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
# the certificate names "localhost" only: 127.0.0.1 is then a wrong name
export TLS_SAN=DNS:localhost
dovecot_start
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }

i=0
deliver() { for _ in $(seq 1 "$1"); do i=$((i + 1)); mkmsg $i | drop "$(printf 'm%05d' $i)"; done; }

# --- plain IMAP on loopback, after: seen
source_config "$C" imap "$IMAP_PORT" none seen 127.0.0.1
expect_exit 0 "db init" tf db init
deliver 3
expect_exit 0 "plain IMAP fetch" tf fetch
is_eq 3 "$(tickets)" "3 tickets stored"
is_eq 3 "$(nseen "$MB")" "3 messages flagged \\Seen on the server"
expect_exit 0 "fetch again" tf fetch
is_eq 3 "$(tickets)" "nothing stored twice"
key=$(sql "SELECT source FROM tickets WHERE id = 1")
case "$key" in "imap:support@127.0.0.1/INBOX:"*":1") ok "source key $key" ;;
	*) not_ok "source key: $key" ;; esac
sql "SELECT value FROM kv WHERE key LIKE 'imap:%'" > "$T/kv"
contains "$T/kv" " 3" "last UID remembered in kv"

# --- dry run: nothing stored, nothing flagged
deliver 1
expect_exit 0 "dry-run fetch" tf fetch --dry-run
is_eq 3 "$(tickets)" "dry run stores nothing"
is_eq 3 "$(nseen "$MB")" "dry run flags nothing"

# --- tls none is for loopback only (a config error)
source_config "$C" imap "$IMAP_PORT" none seen mail.example.com
expect_exit 78 "tls none to a remote host refused" tf fetch
contains "$T/err" "loopback" "error says why"

# --- STARTTLS, verified against the test CA
source_config "$C" imap "$IMAP_PORT" starttls seen localhost
expect_exit 0 "STARTTLS fetch" tf fetch
is_eq 4 "$(tickets)" "STARTTLS message stored"

# --- IMAPS
deliver 2
source_config "$C" imaps "$IMAPS_PORT" implicit seen localhost
expect_exit 0 "IMAPS fetch" tf fetch
is_eq 6 "$(tickets)" "IMAPS messages stored"
is_eq 6 "$(nseen "$MB")" "all flagged \\Seen"

# --- refused: wrong CA, wrong host name, wrong password; unreachable
deliver 1
sed -i "s#ca_file: .*#ca_file: $DOVECOT_DIR/tls/other-ca.pem#" "$C"
expect_exit 69 "IMAPS with the wrong CA refused" tf fetch
contains "$T/err" "certificate" "wrong CA: says certificate"
source_config "$C" imap "$IMAP_PORT" starttls seen localhost
sed -i "s#ca_file: .*#ca_file: $DOVECOT_DIR/tls/other-ca.pem#" "$C"
expect_exit 69 "STARTTLS with the wrong CA refused" tf fetch
source_config "$C" imaps "$IMAPS_PORT" implicit seen 127.0.0.1
expect_exit 69 "IMAPS to a name not in the certificate refused" tf fetch
contains "$T/err" "certificate" "wrong name: says certificate"
is_eq 6 "$(tickets)" "nothing stored from a refused server"
source_config "$C" imaps "$IMAPS_PORT" implicit seen localhost
echo wrong > "$T/imap.pw"
expect_exit 69 "wrong password refused" tf fetch
contains "$T/err" "login" "says login"
echo secret > "$T/imap.pw"
source_config "$C" imaps 10999 implicit seen localhost
expect_exit 75 "unreachable server: temporary failure" tf fetch
source_config "$C" imap "$IMAP_PORT" starttls seen localhost
expect_exit 0 "fetch after the refusals" tf fetch
is_eq 7 "$(tickets)" "the waiting message stored"

# --- after: move:Processed
deliver 3
source_config "$C" imaps "$IMAPS_PORT" implicit move:Processed localhost
expect_exit 0 "fetch with move:Processed" tf fetch
is_eq 10 "$(tickets)" "3 more tickets"
# message 7 came in over STARTTLS (another port, another UID state) after
# the last IMAPS run: it is known, so it is only moved
is_eq 4 "$(nfiles "$MB/.Processed")" "4 messages in Processed"
is_eq 6 "$(nfiles "$MB")" "INBOX keeps the 6 processed before"

# --- after: delete
deliver 2
source_config "$C" imaps "$IMAPS_PORT" implicit delete localhost
expect_exit 0 "fetch with delete" tf fetch
is_eq 12 "$(tickets)" "2 more tickets"
is_eq 6 "$(nfiles "$MB")" "deleted from INBOX"

# --- UIDVALIDITY change: the server renumbers the mailbox
source_config "$C" imaps "$IMAPS_PORT" implicit seen localhost
mkmsg nomsgid "no Message-ID" - | drop m09000
expect_exit 0 "fetch a message without Message-ID" tf fetch
is_eq 13 "$(tickets)" "stored by hash"
kvkey="imap:support@localhost:$IMAPS_PORT/INBOX"
old=$(sql "SELECT value FROM kv WHERE key = '$kvkey'")
rm -f "$MB"/dovecot.index* "$MB"/dovecot.list.index* "$MB"/dovecot-uidlist
printf "3 V4242 N1 G%s\n" "$(openssl rand -hex 16)" > "$MB/dovecot-uidlist"
chown nobody: "$MB/dovecot-uidlist" 2>/dev/null
deliver 1
expect_exit 0 "fetch after the UIDVALIDITY change" tf fetch
contains "$T/err" "UIDVALIDITY changed" "the change is reported"
is_eq 14 "$(tickets)" "only the new message stored"
is_eq 0 "$(dups)" "no duplicates"
new=$(sql "SELECT value FROM kv WHERE key = '$kvkey'")
case "$new" in "4242 "*) ok "new UIDVALIDITY remembered ($old -> $new)" ;;
	*) not_ok "kv after the change: $new" ;; esac
expect_exit 0 "fetch again" tf fetch
lacks "$T/err" "UIDVALIDITY" "no second warning"

# --- the same message from two sources is one ticket
mkmsg twice "two sources" "<twice.$$@example.com>" > "$T/twice.eml"
drop m09100 < "$T/twice.eml"
expect_exit 0 "fetch it over IMAP" tf fetch
expect_exit 0 "ingest the same message" tf ingest "$T/twice.eml"
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
cp "$T/twice.eml" "$T/md/new/1.x"
mkmsg nomsgid "no Message-ID" - > "$T/md/new/2.x"
cat > "$T/md.yaml" <<YAML
database: $DB
source:
  type: maildir
  path: $T/md
security:
  require_sender_auth: false
YAML
expect_exit 0 "fetch both from a maildir" tfadesk -c "$T/md.yaml" fetch
is_eq 15 "$(tickets)" "one ticket for the message from three sources"
is_eq 3 "$(sql "SELECT count(*) FROM ticket_sources WHERE ticket_id = (SELECT id FROM tickets WHERE msgkey = 'twice.$$@example.com')" | tr -d ' ')" "every delivery (imap, ingest, maildir) recorded"
is_eq 0 "$(dups)" "no duplicates"

# --- identity: an MTA pipes a message into `tfadesk ingest` (LF) and also
# delivers it to the mailbox through Dovecot's LDA with its trace fields
# on top; over IMAP it comes back with CRLF. One ticket, two deliveries.
LDA=/usr/lib/dovecot/dovecot-lda
lda() { "$LDA" -c "$DOVECOT_DIR/dovecot.conf" -d support -f "$1"; }
mkmsg lda "two paths" "<lda.$$@example.com>" | tr -d '\r' > "$T/lda.eml"
expect_exit 0 "ingest it (LF, an MTA pipe)" tf ingest "$T/lda.eml"
is_eq 16 "$(tickets)" "stored"
{ trace_fields lda; cat "$T/lda.eml"; } > "$T/lda-mx.eml"
check "Dovecot's LDA delivers it with the trace fields" lda clda@example.com < "$T/lda-mx.eml"
expect_exit 0 "fetch it over IMAP" tf fetch
is_eq 16 "$(tickets)" "the same message: one ticket"
is_eq 2 "$(sql "SELECT count(*) FROM ticket_sources WHERE ticket_id = (SELECT id FROM tickets WHERE msgkey = 'lda.$$@example.com')")" "both deliveries (ingest, imap) recorded"
# a forgery reusing that Message-ID, delivered the same way
sed 's/User ID: Ulda/User ID: U666/' "$T/lda-mx.eml" > "$T/lda-forged.eml"
check "the LDA delivers a forged copy" lda clda@example.com < "$T/lda-forged.eml"
expect_exit 0 "fetch it" tf fetch
is_eq 17 "$(tickets)" "a ticket of its own"
is_eq 2 "$(sql "SELECT count(*) FROM tickets WHERE msgkey = 'lda.$$@example.com'")" "two tickets share the Message-ID"
sql "SELECT $raw_text FROM tickets WHERE msgkey = 'lda.$$@example.com' ORDER BY id LIMIT 1" > "$T/first"
lacks "$T/first" "U666" "the first ticket keeps its own message"
expect_exit 0 "fetch again" tf fetch
is_eq 17 "$(tickets)" "nothing stored twice"

# --- many groups in one fetch (after: seen, batch 3: a group of 15, three
# chunks each): every group's STORE is answered while the next one is
# stored; every message is stored once and flagged, none skipped
source_config "$C" imap "$IMAP_PORT" none seen 127.0.0.1 "  batch: 3"
seen0=$(nseen "$MB")
deliver 46
expect_exit 0 "fetch 46 messages in 3-message chunks" tf fetch
is_eq 63 "$(tickets)" "46 more tickets"
is_eq $((seen0 + 46)) "$(nseen "$MB")" "all 46 flagged \\Seen"
expect_exit 0 "fetch again" tf fetch
is_eq 63 "$(tickets)" "nothing stored twice"
finish
