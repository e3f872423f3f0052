/*
 * tst_store.c - the database layer: schema, migrations, nested
 * transactions, audit rows, ticket dedupe, outbox.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store.h"
#include "check.h"

static char dir[] = "/tmp/tst_store.XXXXXX";

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

	log_init("tst_store", 0, 0);
	if (mkdtemp(dir) == NULL)
		return 2;
	path = xprintf("%s/sub/t.db", dir);

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
	struct account r = { (char *)"R1", ACCOUNT_RESELLER, NULL,
	    (char *)"Reseller One", 0 };
	struct account c = { (char *)"C1", ACCOUNT_END_CLIENT, (char *)"R1",
	    (char *)"Client", 1 };
	struct user u1 = { (char *)"U1", (char *)"R1", (char *)"Ann Lee",
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

	/* tickets: stored once per msgkey; every source key remembered */
	CHECK(store_ticket_add(s, "maildir:a", "m1@x", "raw1", 4, &id) == 0,
	    "ticket add");
	CHECK(store_ticket_add(s, "imap:b", "m1@x", "raw1b", 5, &id2) == 1 &&
	    id2 == id, "same Message-ID from another source: duplicate");
	CHECK(store_source_known(s, "imap:b") == 1, "source key recorded");
	CHECK(store_source_known(s, "imap:c") == 0, "unknown source key");
	struct ticket t;
	CHECK(store_ticket_get(s, id, 1, &t) == 0 && t.raw_len == 4 &&
	    memcmp(t.raw, "raw1", 4) == 0 && t.state == TICKET_NEW,
	    "ticket raw kept");
	t.state = TICKET_NEEDS_REVIEW;
	t.reason = xstrdup("why");
	CHECK(store_begin(s) == 0 && store_ticket_set(s, &t, "ticket:1") == 0 &&
	    store_commit(s) == 0, "ticket set");
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
	o.msgid = (char *)"r1@500.uk.com";
	o.mail_from = (char *)"support@500.uk.com";
	o.rcpt = (char *)"noc@r1.example";
	o.message = (char *)"Subject: x\r\n\r\nbody\r\n";
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
	path = xprintf("rm -rf %s", dir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(path);
	return DONE();
}
