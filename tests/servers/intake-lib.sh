# tests/servers/intake-lib.sh - sourced by the intake tests after tests/lib.sh:
# a private Dovecot, message generators and a source config.
DOVECOT_DIR=$T/dovecot
MB=$DOVECOT_DIR/mail/support/Maildir
# DB: the test's database (DB_URI of tests/lib.sh: a file, or a
# PostgreSQL database with TFADESK_DB=postgresql)
DB=$DB_URI
: "${IMAP_PORT:=10143}" "${POP3_PORT:=10110}" "${IMAPS_PORT:=10993}" "${POP3S_PORT:=10995}"
export IMAP_PORT POP3_PORT IMAPS_PORT POP3S_PORT

# dovecot_start: skip (77) when Dovecot or sqlite3 is missing.
dovecot_start() {
	need_sqlite3
	bash "$TOP/tests/servers/start-dovecot.sh" "$DOVECOT_DIR" >/dev/null
	rc=$?
	[ $rc -eq 77 ] && { echo "dovecot not installed"; exit 77; }
	[ $rc -eq 0 ] || { echo "dovecot did not start"; exit 1; }
	at_exit "bash '$TOP/tests/servers/stop-dovecot.sh' '$DOVECOT_DIR'"
	echo secret > "$T/imap.pw"
	chmod 600 "$T/imap.pw"
}

# mkmsg N [SUBJECT] [MESSAGE-ID|-]: a small CRLF message on stdout.
mkmsg() {
	n=$1 s=${2:-"ticket $1"} id=${3:-"<msg$1.$$@example.com>"}
	printf 'From: Customer %s <c%s@example.com>\r\n' "$n" "$n"
	printf 'To: support@500.uk.com\r\nSubject: %s\r\n' "$s"
	printf 'Date: Thu, 27 Nov 2025 10:00:00 +0000\r\n'
	[ "$id" = - ] || printf 'Message-ID: %s\r\n' "$id"
	printf '\r\nHello, this is message %s.\r\nUser ID: U%s\r\n' "$n" "$n"
}

# trace_fields N: the header lines (LF) a delivery puts on top of message N
# from mkmsg: Postfix (Return-Path, Delivered-To, X-Original-To, Received),
# a DKIM/ARC milter (Authentication-Results, ARC-*).
trace_fields() {
	printf 'Return-Path: <c%s@example.com>\nDelivered-To: support@500.uk.com\n' "$1"
	printf 'X-Original-To: support@500.uk.com\n'
	printf 'Received: from mail.example.com (mail.example.com [192.0.2.10])\n'
	printf '\tby mx.500.uk.com (Postfix) with ESMTPS id 4XyZ1;\n'
	printf '\tThu, 27 Nov 2025 10:00:02 +0000 (GMT)\n'
	printf 'Authentication-Results: mx.500.uk.com;\n\tdkim=pass header.d=example.com\n'
	printf 'ARC-Seal: i=1; a=rsa-sha256; d=500.uk.com; s=arc; cv=none;\n\tb=AbCd\n'
	printf 'ARC-Authentication-Results: i=1; mx.500.uk.com; dkim=pass\n'
}

# drop NAME < message: deliver into the support Maildir's new/ as the mail owner.
# Names sort in delivery order, so Dovecot assigns UIDs in that order.
drop() {
	cat > "$MB/tmp/$1" && chown nobody: "$MB/tmp/$1" 2>/dev/null
	mv "$MB/tmp/$1" "$MB/new/$1"
}

# source_config FILE TYPE PORT TLS [AFTER] [HOST] [extra source lines]
source_config() {
	f=$1 type=$2 port=$3 tls=$4 after=${5:-seen} host=${6:-127.0.0.1}
	cat > "$f" <<YAML
database: $DB
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source:
  type: $type
  host: $host
  port: $port
  user: support
  password_file: $T/imap.pw
  tls: $tls
  ca_file: $DOVECOT_DIR/tls/ca.pem
  mailbox: INBOX
  after: $after
  timeout: 10
${7:-}
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
}

sql() { dbq main "$1"; }
# raw_text: the SQL of a ticket's raw message as text (in a query FROM tickets)
if [ "$ON_PG" = 1 ]; then raw_text="convert_from(raw, 'UTF8')"; else raw_text="CAST(raw AS TEXT)"; fi
raw_text="(SELECT $raw_text FROM ticket_raw WHERE ticket_raw.ticket_id = tickets.id)"
tickets() { sql "SELECT count(*) FROM tickets"; }
# messages (Message-ID and identity digest) stored more than once (must be 0)
dups() { sql "SELECT count(*) FROM (SELECT msgkey FROM tickets GROUP BY msgkey, digest HAVING count(*) > 1) AS twice"; }
# files in a maildir folder (new+cur), optionally with a flag
nfiles() { find "$1/new" "$1/cur" -type f 2>/dev/null | grep -c "${2:-.}"; }
nseen() { find "$1/cur" -type f 2>/dev/null | grep -c ':2,[A-Za-z]*S'; }
# is_eq WANT GOT DESCRIPTION
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$2', wanted '$1'"; fi; }
