/*
 * tst_store.c - the database layer: schema, migrations, nested
 * transactions, audit rows, ticket dedupe, outbox; the migration of a
 * version 1 database to message identities.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/mail.h"
#include "tfadesk/mime.h"
#include "check.h"

static char dir[] = "/tmp/tst_store.XXXXXX";

/*
 * A version 1 database as that tfadesk left it: a Message-ID ticket with
 * a reply, and a message without Message-ID stored twice (once from a
 * pipe with LF, once from IMAP with a Received line and CRLF: two SHA-256
 * keys). db init (store_migrate) keeps every ticket, reply and source,
 * gives each its identity, and the same mail arriving again is known.
 */
static const char v1_id[] = "From: a@r.example\nSubject: s\n"
    "Message-ID: <a@x>\n\nbody\n";
static const char v1_id_imap[] = "Received: from mx by imap; Mon, 1 Dec "
    "2025\r\n\tid 1\r\nFrom: a@r.example\r\nSubject: s\r\n"
    "Message-ID: <a@x>\r\n\r\nbody\r\n";
static const char v1_noid[] = "From: b@r.example\nSubject: t\n\nhello\n";
static const char v1_noid_imap[] = "Received: by mx\r\nFrom: b@r.example"
    "\r\nSubject: t\r\n\r\nhello\r\n";

static void
v1_ticket(sqlite3 *db, int id, const char *key, const char *raw)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(db, "INSERT INTO tickets (id, msgkey, source, raw, "
	    "received, state, updated) VALUES (?, ?, ?, ?, 1, 'applied', 1)",
	    -1, &st, NULL);
	sqlite3_bind_int(st, 1, id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, raw, (int)strlen(raw), SQLITE_STATIC);
	CHECK(sqlite3_step(st) == SQLITE_DONE, "v1 ticket %d", id);
	sqlite3_finalize(st);
}

static void
migrate_v1(void)
{
	char *path = xstrfmt("%s/v1.db", dir), hex[STORE_DIGEST_HEX];
	struct store *s;
	struct ticket t;
	struct outbox_row *o;
	size_t n;
	int64_t id;
	sqlite3 *db;

	s = store_open(path, STORE_CREATE);
	CHECK(s && store_migrate_to(s, 1) == 0 && store_version(s) == 1,
	    "a version 1 database");
	store_close(s);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "sqlite3 open");
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	v1_ticket(db, 1, "a@x", v1_id);
	v1_ticket(db, 2, "sha256:1111", v1_noid);
	v1_ticket(db, 3, "sha256:2222", v1_noid_imap);
	CHECK(sqlite3_exec(db, "INSERT INTO ticket_sources VALUES "
	    "('ingest:a@x', 1, 1), ('ingest:sha256:1111', 2, 1), "
	    "('imap:x/INBOX:1:7', 3, 1);"
	    "INSERT INTO outbox (ticket_id, msgid, mail_from, rcpt, message, "
	    "created) VALUES (1, 'r@us', 's@us', 'a@r.example', 'm', 1);",
	    NULL, NULL, NULL) == SQLITE_OK, "v1 sources and reply");
	sqlite3_close(db);

	s = store_open(path, 0);
	CHECK(s == NULL, "version 1 is refused until db init");
	s = store_open(path, STORE_CREATE);
	CHECK(s && store_migrate(s) == -1 && store_version(s) == 1,
	    "no digest function: the migration fails, nothing changed");
	store_set_digest(s, mime_identity_hex);
	CHECK(store_migrate(s) == 0 && store_version(s) >= 2, "migrated");
	store_close(s);
	s = store_open(path, 0);
	CHECK(s != NULL, "opens after db init");

	CHECK(store_ticket_get(s, 1, 0, &t) == 0 && strcmp(t.msgkey, "a@x") ==
	    0 && t.state == TICKET_APPLIED, "Message-ID ticket kept");
	ticket_clear(&t);
	mime_identity_hex(v1_noid, strlen(v1_noid), hex);
	CHECK(store_ticket_get(s, 2, 0, &t) == 0 && strncmp(t.msgkey,
	    "digest:", 7) == 0 && strcmp(t.msgkey + 7, hex) == 0,
	    "no Message-ID: keyed by its identity (%s)", t.msgkey);
	ticket_clear(&t);
	CHECK(store_ticket_get(s, 3, 0, &t) == 0 && strcmp(t.msgkey,
	    "sha256:2222") == 0, "its v1 twin kept, under its old key");
	ticket_clear(&t);
	CHECK(store_outbox_list(s, 1, &o, &n) == 0 && n == 1,
	    "reply kept");
	outbox_free(o, n);
	CHECK(store_source_known(s, "imap:x/INBOX:1:7") == 1, "sources kept");

	mime_identity_hex(v1_id_imap, strlen(v1_id_imap), hex);
	CHECK(store_ticket_add(s, "imap:x/INBOX:2:9", "a@x", hex, v1_id_imap,
	    strlen(v1_id_imap), &id) == 1 && id == 1,
	    "the same mail again (trace fields, CRLF): known");
	mime_identity_hex(v1_noid_imap, strlen(v1_noid_imap), hex);
	char *key = xstrfmt("digest:%s", hex);
	CHECK(store_ticket_add(s, "pop3:x:5", key, hex, v1_noid_imap,
	    strlen(v1_noid_imap), &id) == 1 && id == 2,
	    "no Message-ID, again: known as the first copy");
	free(key);
	struct outbox_row bad = { 0 };
	bad.ticket_id = 999;
	bad.msgid = UNCONST("r2@us");
	bad.mail_from = bad.rcpt = UNCONST("x@y");
	bad.message = UNCONST("m");
	bad.message_len = 1;
	CHECK(store_outbox_add(s, &bad, NULL) == -1,
	    "foreign keys on again after the migration");
	store_close(s);
	free(path);
}

int
main(void)
{
	struct store *s;
	struct account a;
	struct user u;
	struct audit_row *ar;
	size_t n;
	int64_t id, id2;
	char *path, *v;
	/* tests/run.sh on PostgreSQL: a fresh, empty database's URI */
	const char *pg = getenv("TFADESK_TEST_PG");

	log_init("tst_store", 0, 0);
	if (mkdtemp(dir) == NULL)
		return 2;
	path = pg && *pg ? xstrdup(pg) : xstrfmt("%s/sub/t.db", dir);

	CHECK(store_open(path, 0) == NULL, "open without db init must fail");
	s = store_open(path, STORE_CREATE);
	CHECK(s != NULL, "create");
	CHECK(store_migrate(s) == 0, "migrate");
	int ver = store_version(s);
	CHECK(ver >= 1, "version %d", ver);
	CHECK(store_migrate(s) == 0 && store_version(s) == ver,
	    "migrate twice is a no-op");
	store_close(s);
	s = store_open(path, 0);
	CHECK(s != NULL, "reopen");

	/* accounts, users, audit */
	struct account r = { UNCONST("R1"), ACCOUNT_RESELLER, NULL,
	    UNCONST("Reseller One"), 0 };
	struct account c = { UNCONST("C1"), ACCOUNT_END_CLIENT, UNCONST("R1"),
	    UNCONST("Client"), 1 };
	struct user u1 = { UNCONST("U1"), UNCONST("R1"), UNCONST("Ann Lee"),
	    NULL };
	int imp;
	char *impp;
	CHECK(store_begin(s) == 0, "begin");
	CHECK(store_account_sync_put(s, &r, 0, 1) == 0, "put reseller");
	CHECK(store_account_sync_put(s, &c, 1, 1) == 0, "put client");
	CHECK(store_user_sync_put(s, &u1, "", 1) == 0, "put user");
	CHECK(store_audit(s, "test", "account.create", "C1", NULL, NULL,
	    "end_client Client twofa=on", 0) == 0, "audit row");
	CHECK(store_account_sync_put(s, &r, 0, 1) == -1, "created twice: "
	    "refused");
	CHECK(store_account_sync_get(s, "C1", &a, &imp) == 0 && imp == 1 &&
	    a.twofa == 1, "imported use_2fa remembered");
	account_clear(&a);
	CHECK(store_user_sync_get(s, "U1", &u, &impp) == 0 && impp &&
	    *impp == '\0' && u.phone == NULL, "imported none remembered");
	user_clear(&u);
	free(impp);
	CHECK(store_put_contact(s, "R1", "noc@r1.example", NULL, "test") == 0,
	    "contact");
	CHECK(store_put_contact(s, "R1", "NOC@R1.example", NULL, "test") == 1,
	    "contact case-insensitive duplicate");
	CHECK(store_commit(s) == 0, "commit");

	CHECK(store_account_get(s, "C1", &a) == 0 && a.twofa == 1 &&
	    a.kind == ACCOUNT_END_CLIENT && strcmp(a.reseller, "R1") == 0,
	    "end client use_2fa from permissions");
	account_clear(&a);
	CHECK(store_account_get(s, "nope", &a) == 1, "missing account");
	account_clear(&a);

	char **ids;
	CHECK(store_contact_resellers(s, "Noc@R1.Example", &ids, &n) == 0 &&
	    n == 1 && strcmp(ids[0], "R1") == 0, "contact lookup ignores case");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);

	/* nested transactions: the inner rollback keeps the outer work */
	CHECK(store_begin(s) == 0, "outer");
	CHECK(store_user_set_phone(s, "U1", "447400123456", "t", 0) == 0,
	    "set phone");
	CHECK(store_begin(s) == 0, "inner");
	CHECK(store_account_set_twofa(s, "R1", 1, "t", 0) == 0, "2fa on");
	store_rollback(s);
	CHECK(store_commit(s) == 0, "outer commit");
	CHECK(store_user_get(s, "U1", &u) == 0 && u.phone &&
	    strcmp(u.phone, "447400123456") == 0, "phone kept");
	user_clear(&u);
	CHECK(store_account_get(s, "R1", &a) == 0 && a.twofa == 0,
	    "inner rollback undone");
	account_clear(&a);
	CHECK(store_user_set_phone(s, "U1", "447400123456", "t", 0) == 1,
	    "same number again is a no-op");

	/* the audit keeps numbers whole (staff undo from it); plain output
	 * masks them */
	CHECK(store_audit_list(s, NULL, "U1", 0, &ar, &n) == 0, "audit list");
	int seen = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ar[i].action, "user.phone") == 0) {
			char *m = audit_shown(ar[i].action, ar[i].new_value);
			seen = 1;
			CHECK(strcmp(ar[i].new_value, "447400123456") == 0,
			    "whole in audit: %s", ar[i].new_value);
			CHECK(strcmp(m, "4474******56") == 0, "shown masked");
			free(m);
		}
	CHECK(seen, "phone change audited");
	audit_rows_free(ar, n);
	v = audit_shown("user.phone", "4474******56");
	CHECK(strcmp(v, "4474******56") == 0, "an old masked value stays");
	free(v);
	v = audit_shown("user.move", "1234567");
	CHECK(strcmp(v, "1234567") == 0, "an account ID is not a number");
	free(v);
	CHECK(store_audit_list(s, "R1", NULL, 0, &ar, &n) == 0 && n >= 3,
	    "audit by reseller includes its end clients (%zu)", n);
	audit_rows_free(ar, n);
	struct audit_filter af = { 0 };
	af.account = "R1";
	af.limit = 1;
	CHECK(store_audit_query(s, &af, &ar, &n) == 0 && n == 1 &&
	    strcmp(ar[0].action, "user.phone") == 0, "--limit: the newest");
	audit_rows_free(ar, n);
	af.limit = 0;
	af.action = "account.*";
	CHECK(store_audit_query(s, &af, &ar, &n) == 0 && n == 1 &&
	    strcmp(ar[0].account, "C1") == 0, "action prefix");
	audit_rows_free(ar, n);
	af.action = "account.";
	CHECK(store_audit_query(s, &af, &ar, &n) == 0 && n == 0,
	    "action without '*' is exact");
	audit_rows_free(ar, n);

	/* a CHECK constraint keeps junk out even if a caller forgot */
	CHECK(store_begin(s) == 0, "begin");
	CHECK(store_user_set_phone(s, "U1", "44 74'; DROP", "t", 0) == -1,
	    "non-digits refused by the schema");
	store_rollback(s);

	/* tickets: stored once per (msgkey, digest); every source key
	 * remembered; the same msgkey with another digest is a new ticket
	 * that names the first */
	CHECK(store_ticket_add(s, "maildir:a", "m1@x", "d1", "raw1", 4,
	    &id) == 0, "ticket add");
	CHECK(store_ticket_add(s, "imap:b", "m1@x", "d1", "raw1b", 5,
	    &id2) == 1 && id2 == id, "same identity from another source: "
	    "duplicate");
	int64_t id3, id4;
	CHECK(store_ticket_add(s, "imap:f", "m1@x", "d2", "forged", 6,
	    &id3) == 0 && id3 > id, "same Message-ID, other digest: a ticket");
	CHECK(store_ticket_add(s, "imap:g", "m1@x", "d2", "forged", 6,
	    &id4) == 1 && id4 == id3, "that one stored once too");
	CHECK(store_ticket_add(s, "imap:h", "m2@x", "d2", "other", 5,
	    &id4) == 0 && id4 > id3, "same digest, other Message-ID: a ticket");
	{
		struct ticket t1, t3, t4;
		CHECK(store_ticket_get(s, id, 0, &t1) == 0 && t1.dup_of == 0,
		    "the first ticket is no duplicate");
		CHECK(t1.raw == NULL && t1.raw_len == 0,
		    "... its raw message not read without with_raw");
		CHECK(store_ticket_get(s, id3, 0, &t3) == 0 && t3.dup_of == id,
		    "the later one names the first (%lld)",
		    (long long)t3.dup_of);
		CHECK(store_ticket_get(s, id4, 0, &t4) == 0 && t4.dup_of == 0,
		    "another Message-ID is no duplicate");
		ticket_clear(&t1);
		ticket_clear(&t3);
		ticket_clear(&t4);
	}
	/* hostile bytes never make a write fail (PostgreSQL refuses text
	 * that is not UTF-8): text columns get U+FFFD, raw stays whole,
	 * NULs included */
	{
		static const char raw[] = "Subject: \xff\0x\n\nb\xc0\xaf\0";
		struct ticket tp;
		int64_t idp;

		CHECK(store_ticket_add(s, "maildir:17.\xff\xfex.host",
		    "p\xff@x", "dp", raw, sizeof raw, &idp) == 0,
		    "ticket with bytes that are not UTF-8 stored");
		CHECK(store_source_known(s, "maildir:17.\xff\xfex.host") == 1,
		    "... its source key known again by the same bytes");
		CHECK(store_ticket_get(s, idp, 1, &tp) == 0 &&
		    tp.raw_len == sizeof raw &&
		    memcmp(tp.raw, raw, sizeof raw) == 0,
		    "... raw kept byte for byte");
		CHECK(tp.source && strcmp(tp.source,
		    "maildir:17.\xef\xbf\xbd\xef\xbf\xbdx.host") == 0,
		    "... source key as U+FFFD (%s)", tp.source ? tp.source : "");
		ticket_clear(&tp);
	}
	CHECK(store_source_known(s, "imap:b") == 1, "source key recorded");
	CHECK(store_source_known(s, "imap:c") == 0, "unknown source key");
	struct ticket t;
	CHECK(store_ticket_get(s, id, 1, &t) == 0 && t.raw_len == 4 &&
	    memcmp(t.raw, "raw1", 4) == 0 && t.state == TICKET_NEW,
	    "ticket raw kept");
	t.state = TICKET_NEEDS_REVIEW;
	t.reason = xstrdup("why");
	CHECK(store_begin(s) == 0 && store_ticket_set(s, &t, TICKET_NEW,
	    "ticket:1") == 0 && store_commit(s) == 0, "ticket set");
	{
		struct ticket none = t;

		none.id = 999999;
		CHECK(store_begin(s) == 0 && store_ticket_set(s, &none,
		    TICKET_NEW, "ticket:1") == 1, "ticket set: no such ticket");
		store_rollback(s);
	}
	ticket_clear(&t);
	CHECK(store_ticket_get(s, id, 1, &t) == 0 && t.raw_len == 4 &&
	    memcmp(t.raw, "raw1", 4) == 0 && t.state == TICKET_NEEDS_REVIEW &&
	    t.dup_of == 0, "raw message kept across a change of state");
	ticket_clear(&t);
	int64_t *tids;
	CHECK(store_ticket_ids(s, TICKET_NEEDS_REVIEW, &tids, &n) == 0 &&
	    n == 1 && tids[0] == id, "ids by state");
	free(tids);
	CHECK(store_audit_list(s, NULL, NULL, id, &ar, &n) == 0 && n == 1 &&
	    strcmp(ar[0].new_value, "needs_review: why") == 0,
	    "state change audited");
	audit_rows_free(ar, n);

	/* outbox */
	struct outbox_row o = { 0 };
	o.ticket_id = id;
	o.msgid = UNCONST("r1@500.uk.com");
	o.mail_from = UNCONST("support@500.uk.com");
	o.rcpt = UNCONST("noc@r1.example");
	o.message = UNCONST("Subject: x\r\n\r\nbody\r\n");
	o.message_len = strlen(o.message);
	CHECK(store_outbox_add(s, &o, &id2) == 0, "outbox add");
	CHECK(store_outbox_add(s, &o, NULL) == -1, "Message-ID is unique");
	struct outbox_row *due;
	CHECK(store_outbox_due(s, now_time(), &due, &n) == 0 && n == 1 &&
	    due[0].message_len == o.message_len, "due");
	outbox_free(due, n);
	CHECK(store_outbox_mark(s, id2, OUTBOX_QUEUED, 1, now_time() + 60,
	    "421 try later") == 0, "defer");
	CHECK(store_outbox_due(s, now_time(), &due, &n) == 0 && n == 0,
	    "deferred row not due");
	outbox_free(due, n);
	CHECK(store_outbox_mark(s, id2, OUTBOX_SENT, 2, 0, NULL) == 0, "sent");

	CHECK(store_kv_get(s, "k", &v) == 1, "kv missing");
	CHECK(store_kv_set(s, "k", "1") == 0 && store_kv_set(s, "k", "2") == 0,
	    "kv set");
	CHECK(store_kv_get(s, "k", &v) == 0 && strcmp(v, "2") == 0, "kv get");
	free(v);

	store_close(s);
	free(path);
	/* an SQLite file of version 1: there is no such PostgreSQL database */
	if (!(pg && *pg))
		migrate_v1();
	path = xstrfmt("rm -rf %s", dir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(path);
	return DONE();
}
