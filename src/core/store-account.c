/*
 * store-account.c - accounts, users, contacts, permissions and the audit log.
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store-int.h"

/* twofa: the reseller's flag, or for an end client its use_2fa permission */
#define ACCOUNT_COLS "a.id, a.kind, a.reseller, a.name, CASE a.kind " \
	"WHEN 'reseller' THEN a.twofa ELSE CASE WHEN EXISTS (SELECT 1 FROM " \
	"permissions p WHERE p.account = a.id AND p.perm = 'use_2fa') THEN 1 " \
	"ELSE 0 END END"

void
account_clear(struct account *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->reseller);
	free(a->name);
	memset(a, 0, sizeof *a);
}

void
user_clear(struct user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->account);
	free(u->name);
	free(u->phone);
	memset(u, 0, sizeof *u);
}

void
users_free(struct user *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++)
		user_clear(&u[i]);
	free(u);
}

static void
read_account(struct dbst *st, void *row)
{
	struct account *a = row;
	const char *kind = db_col_text(st, 1);

	a->id = store_col_text(st, 0);
	a->kind = kind && strcmp(kind, "reseller") == 0 ? ACCOUNT_RESELLER :
	    ACCOUNT_END_CLIENT;
	a->reseller = store_col_text(st, 2);
	a->name = store_col_text(st, 3);
	a->twofa = db_col_int(st, 4);
}

static void
read_user(struct dbst *st, void *row)
{
	struct user *u = row;

	u->id = store_col_text(st, 0);
	u->account = store_col_text(st, 1);
	u->name = store_col_text(st, 2);
	u->phone = store_col_text(st, 3);
}

int
store_account_get(struct store *s, const char *id, struct account *a)
{
	struct dbst *st = store_stmt(s, "SELECT " ACCOUNT_COLS
	    " FROM accounts a WHERE a.id = ?");

	memset(a, 0, sizeof *a);
	if (st != NULL)
		store_bind_text(st, 1, id);
	return store_row(s, st, read_account, a, "account");
}

int
store_account_list(struct store *s, struct account **out, size_t *n)
{
	/* resellers, each followed by its end clients */
	struct dbst *st = store_stmt(s, "SELECT " ACCOUNT_COLS
	    " FROM accounts a ORDER BY coalesce(a.reseller, a.id), "
	    "a.reseller IS NOT NULL, a.id");

	return store_rows(s, st, read_account, sizeof **out, out, n,
	    "account list");
}

int
store_account_users(struct store *s, const char *account_id,
    struct user **out, size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT id, account, name, phone "
	    "FROM users WHERE account = ? ORDER BY id");

	if (st != NULL)
		store_bind_text(st, 1, account_id);
	return store_rows(s, st, read_user, sizeof **out, out, n, "users");
}

int
store_user_get(struct store *s, const char *user_id, struct user *u)
{
	struct dbst *st = store_stmt(s, "SELECT id, account, name, phone "
	    "FROM users WHERE id = ?");

	memset(u, 0, sizeof *u);
	if (st != NULL)
		store_bind_text(st, 1, user_id);
	return store_row(s, st, read_user, u, "user");
}

int
store_account_reseller(struct store *s, const char *account_id, char **out)
{
	struct dbst *st = store_stmt(s, "SELECT coalesce(reseller, id) "
	    "FROM accounts WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, account_id);
	rc = db_step(st);
	if (rc == DB_ROW)
		*out = store_col_text(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "account reseller");
}

static int
strings(struct store *s, struct dbst *st, char ***out, size_t *n,
    const char *what)
{
	char **v = NULL;
	size_t cnt = 0;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		v[cnt++] = store_col_text(st, 0);
	}
	db_reset(st);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, what);
}

int
store_contact_resellers(struct store *s, const char *addr, char ***ids,
    size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT reseller FROM contacts "
	    "WHERE addr = ? COLLATE NOCASE ORDER BY reseller");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, addr);
	return strings(s, st, ids, n, "contacts");
}

int
store_contacts(struct store *s, const char *reseller_id, char ***addrs,
    size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT addr FROM contacts "
	    "WHERE reseller = ? ORDER BY addr");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, reseller_id);
	return strings(s, st, addrs, n, "contacts");
}

static int
step_done(struct store *s, struct dbst *st, const char *what)
{
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, what);
	return 0;
}

/* The audit log keeps numbers whole: it is how staff undo a wrong change.
 * Plain output shows them through audit_shown(). */
static int
audit_phone(struct store *s, const char *actor, const char *action,
    const char *account, const char *user, const char *old_phone,
    const char *new_phone, int64_t ticket_id)
{
	return store_audit(s, actor, action, account, user, old_phone,
	    new_phone, ticket_id);
}

/* Actions whose old and new values are phone numbers. */
int
audit_action_phone(const char *action)
{
	static const char *const a[] = { "user.phone", "user.create",
	    "user.update", "user.delete" };

	for (size_t i = 0; action && i < sizeof a / sizeof a[0]; i++)
		if (strcmp(action, a[i]) == 0)
			return 1;
	return 0;
}

/* A value as plain output may show it: numbers masked (a value that is
 * masked already, from an older database, stays as it is). */
char *
audit_shown(const char *action, const char *value)
{
	if (value == NULL)
		return NULL;
	if (audit_action_phone(action) && strchr(value, '*') == NULL)
		return mask_phone(value);
	return xstrdup(value);
}

int
store_user_set_phone(struct store *s, const char *user_id, const char *phone,
    const char *actor, int64_t ticket_id)
{
	struct dbst *st;
	struct user u;
	int rc;

	if ((rc = store_user_get(s, user_id, &u)) != 0)
		return rc;
	if ((u.phone == NULL && phone == NULL) ||
	    (u.phone && phone && strcmp(u.phone, phone) == 0)) {
		user_clear(&u);
		return 1;
	}
	if ((st = store_stmt(s, "UPDATE users SET phone = ? WHERE id = ?")) ==
	    NULL) {
		user_clear(&u);
		return -1;
	}
	store_bind_text(st, 1, phone);
	store_bind_text(st, 2, user_id);
	rc = step_done(s, st, "user phone");
	if (rc == 0)
		rc = audit_phone(s, actor, "user.phone", u.account, user_id,
		    u.phone, phone, ticket_id);
	user_clear(&u);
	return rc;
}

int
store_account_set_twofa(struct store *s, const char *account_id, int on,
    const char *actor, int64_t ticket_id)
{
	struct account a;
	struct dbst *st;
	int rc;

	if ((rc = store_account_get(s, account_id, &a)) != 0)
		return rc;
	if (a.twofa == (on != 0)) {
		account_clear(&a);
		return 1;
	}
	if (a.kind == ACCOUNT_RESELLER) {
		st = store_stmt(s, "UPDATE accounts SET twofa = ? WHERE id = ?");
		if (st == NULL)
			goto fail;
		db_bind_int(st, 1, on != 0);
		store_bind_text(st, 2, account_id);
	} else {
		st = store_stmt(s, on ?
		    "INSERT INTO permissions (account, perm) "
		    "VALUES (?, 'use_2fa') ON CONFLICT DO NOTHING" :
		    "DELETE FROM permissions WHERE account = ? AND "
		    "perm = 'use_2fa'");
		if (st == NULL)
			goto fail;
		store_bind_text(st, 1, account_id);
	}
	if (step_done(s, st, "account 2fa") == -1 ||
	    store_audit(s, actor, a.kind == ACCOUNT_RESELLER ? "account.twofa" :
	    "account.use_2fa", account_id, NULL, a.twofa ? "on" : "off",
	    on ? "on" : "off", ticket_id) == -1)
		goto fail;
	account_clear(&a);
	return 0;
fail:
	account_clear(&a);
	return -1;
}

int
store_account_sync_get(struct store *s, const char *id, struct account *a,
    int *imported_twofa)
{
	struct dbst *st = store_stmt(s, "SELECT " ACCOUNT_COLS ", "
	    "coalesce(a.imported_twofa, -1) FROM accounts a WHERE a.id = ?");
	int rc;

	memset(a, 0, sizeof *a);
	*imported_twofa = -1;
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		read_account(st, a);
		*imported_twofa = db_col_int(st, 5);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "account");
}

int
store_account_sync_put(struct store *s, const struct account *a,
    int imported_twofa, int create)
{
	struct dbst *st;
	const char *kind = a->kind == ACCOUNT_RESELLER ? "reseller" :
	    "end_client";

	st = store_stmt(s, create ?
	    "INSERT INTO accounts (id, kind, reseller, name, twofa, "
	    "imported_twofa) VALUES (?1, ?2, ?3, ?4, ?5, ?6)" :
	    "UPDATE accounts SET kind = ?2, reseller = ?3, name = ?4, "
	    "twofa = ?5, imported_twofa = ?6 WHERE id = ?1");
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, a->id);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, a->reseller);
	store_bind_text(st, 4, a->name);
	db_bind_int(st, 5, a->kind == ACCOUNT_RESELLER ? a->twofa != 0 : 0);
	if (imported_twofa >= 0)
		db_bind_int(st, 6, imported_twofa != 0);
	if (step_done(s, st, "account") == -1)
		return -1;
	if (a->kind == ACCOUNT_END_CLIENT) {
		st = store_stmt(s, a->twofa ?
		    "INSERT INTO permissions (account, perm) "
		    "VALUES (?, 'use_2fa') ON CONFLICT DO NOTHING" :
		    "DELETE FROM permissions WHERE account = ? AND "
		    "perm = 'use_2fa'");
		if (st == NULL)
			return -1;
		store_bind_text(st, 1, a->id);
		if (step_done(s, st, "permission") == -1)
			return -1;
	}
	return 0;
}

int
store_user_sync_get(struct store *s, const char *id, struct user *u,
    char **imported_phone)
{
	struct dbst *st = store_stmt(s, "SELECT id, account, name, phone, "
	    "imported_phone FROM users WHERE id = ?");
	int rc;

	memset(u, 0, sizeof *u);
	*imported_phone = NULL;
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		read_user(st, u);
		*imported_phone = store_col_text(st, 4);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "user");
}

int
store_user_sync_put(struct store *s, const struct user *u,
    const char *imported_phone, int create)
{
	struct dbst *st = store_stmt(s, create ?
	    "INSERT INTO users (id, account, name, phone, imported_phone) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)" :
	    "UPDATE users SET account = ?2, name = ?3, phone = ?4, "
	    "imported_phone = ?5 WHERE id = ?1");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, u->id);
	store_bind_text(st, 2, u->account);
	store_bind_text(st, 3, u->name);
	store_bind_text(st, 4, u->phone);
	store_bind_text(st, 5, imported_phone);
	return step_done(s, st, "user");
}

int
store_sync_seen(struct store *s, const char *kind, const char *id,
    const char *addr)
{
	struct dbst *st;

	if (s->sync_table == 0) {
		if (db_exec(s->db, DB_SQL(s, "CREATE TEMP TABLE IF NOT EXISTS "
		    "sync_seen (kind TEXT NOT NULL, id TEXT NOT NULL, "
		    "addr TEXT NOT NULL COLLATE NOCASE DEFAULT '', "
		    "PRIMARY KEY (kind, id, addr)); DELETE FROM sync_seen",
		    "CREATE TEMP TABLE IF NOT EXISTS "
		    "sync_seen (kind TEXT NOT NULL, id TEXT NOT NULL, "
		    "addr TEXT COLLATE nocase NOT NULL DEFAULT '', "
		    "PRIMARY KEY (kind, id, addr)); DELETE FROM sync_seen")) ==
		    -1)
			return store_err(s, "sync table");
		s->sync_table = 1;
	}
	st = store_stmt(s, "INSERT INTO sync_seen (kind, id, addr) "
	    "VALUES (?, ?, coalesce(?, '')) ON CONFLICT DO NOTHING");
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, kind);
	store_bind_text(st, 2, id);
	store_bind_text(st, 3, addr);
	return step_done(s, st, "sync seen");
}

/* Each statement: the rows to prune (id, account, value), then the
 * deletions. */
static const struct {
	const char *kind, *select, *del;
} prunes[] = {
	{ "contact",
	  "SELECT c.reseller, c.reseller, c.addr FROM contacts c WHERE "
	  "c.reseller IN (SELECT id FROM sync_seen WHERE kind = "
	  "'account') AND NOT EXISTS (SELECT 1 FROM sync_seen s WHERE "
	  "s.kind = 'contact' AND s.id = c.reseller AND s.addr = c.addr) "
	  "ORDER BY c.reseller, c.addr",
	  "DELETE FROM contacts WHERE reseller IN (SELECT id FROM "
	  "sync_seen WHERE kind = 'account') AND NOT EXISTS (SELECT 1 "
	  "FROM sync_seen s WHERE s.kind = 'contact' AND "
	  "s.id = contacts.reseller AND s.addr = contacts.addr)" },
	{ "user",
	  "SELECT id, account, phone FROM users WHERE id NOT IN (SELECT id "
	  "FROM sync_seen WHERE kind = 'user') ORDER BY id",
	  "DELETE FROM users WHERE id NOT IN (SELECT id FROM sync_seen "
	  "WHERE kind = 'user')" },
	{ "end_client",
	  "SELECT id, reseller, name FROM accounts WHERE kind = 'end_client' "
	  "AND id NOT IN (SELECT id FROM sync_seen WHERE kind = "
	  "'account') ORDER BY id",
	  "DELETE FROM permissions WHERE account IN (SELECT id FROM accounts "
	  "WHERE kind = 'end_client' AND id NOT IN (SELECT id FROM "
	  "sync_seen WHERE kind = 'account'));"
	  "DELETE FROM accounts WHERE kind = 'end_client' AND id NOT IN "
	  "(SELECT id FROM sync_seen WHERE kind = 'account')" },
	{ "reseller",
	  "SELECT id, id, name FROM accounts WHERE kind = 'reseller' "
	  "AND id NOT IN (SELECT id FROM sync_seen WHERE kind = "
	  "'account') ORDER BY id",
	  "DELETE FROM permissions WHERE account IN (SELECT id FROM accounts "
	  "WHERE kind = 'reseller' AND id NOT IN (SELECT id FROM "
	  "sync_seen WHERE kind = 'account'));"
	  "DELETE FROM contacts WHERE reseller IN (SELECT id FROM accounts "
	  "WHERE kind = 'reseller' AND id NOT IN (SELECT id FROM "
	  "sync_seen WHERE kind = 'account'));"
	  "DELETE FROM accounts WHERE kind = 'reseller' AND id NOT IN "
	  "(SELECT id FROM sync_seen WHERE kind = 'account')" },
};

static int
each_row(struct store *s, const char *sql, int (*fn)(void *, const char *,
    const char *, const char *), void *arg)
{
	struct dbst *st;
	int rc;

	if ((st = db_prepare(s->db, sql)) == NULL)
		return store_err(s, "sync select");
	while ((rc = db_step(st)) == DB_ROW)
		if (fn(arg, db_col_text(st, 0),
		    db_col_text(st, 1),
		    db_col_text(st, 2)) == -1) {
			db_finalize(st);
			return -1;
		}
	db_finalize(st);
	return rc == DB_DONE ? 0 : store_err(s, "sync select");
}

int
store_sync_prune(struct store *s, const char *kind, int (*fn)(void *,
    const char *, const char *, const char *), void *arg)
{
	for (size_t i = 0; i < sizeof prunes / sizeof prunes[0]; i++) {
		if (strcmp(prunes[i].kind, kind) != 0)
			continue;
		if (!s->sync_table)
			return 0;
		if (each_row(s, prunes[i].select, fn, arg) == -1)
			return -1;
		if (db_exec(s->db, prunes[i].del) == -1)
			return store_err(s, "prune");
		return 0;
	}
	return -1;
}

int
store_sync_unprunable(struct store *s, int (*fn)(void *, const char *,
    const char *, const char *), void *arg)
{
	if (!s->sync_table)
		return 0;
	return each_row(s, "SELECT a.reseller, a.id, NULL FROM accounts a "
	    "WHERE a.id IN (SELECT id FROM sync_seen WHERE kind = "
	    "'account') AND a.reseller NOT IN (SELECT id FROM sync_seen "
	    "WHERE kind = 'account') ORDER BY a.id", fn, arg);
}

int
store_put_contact(struct store *s, const char *reseller_id, const char *addr,
    const char *display, const char *actor)
{
	struct dbst *st = store_stmt(s, "INSERT INTO contacts (reseller, addr, "
	    "display) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, reseller_id);
	store_bind_text(st, 2, addr);
	store_bind_text(st, 3, display);
	if (step_done(s, st, "contact") == -1)
		return -1;
	if (db_changes(s->db) == 0)
		return 1;
	return store_audit(s, actor, "contact.create", reseller_id, NULL, NULL,
	    addr, 0);
}

void
audit_rows_free(struct audit_row *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].at);
		free(r[i].actor);
		free(r[i].action);
		free(r[i].account);
		free(r[i].user);
		free(r[i].old_value);
		free(r[i].new_value);
		free(r[i].note);
	}
	free(r);
}

int
store_audit_list(struct store *s, const char *account, const char *user,
    int64_t ticket_id, struct audit_row **out, size_t *n)
{
	struct audit_filter f;

	memset(&f, 0, sizeof f);
	f.account = account;
	f.user = user;
	f.ticket_id = ticket_id;
	return store_audit_query(s, &f, out, n);
}

int
store_audit_query(struct store *s, const struct audit_filter *f,
    struct audit_row **out, size_t *n)
{
	/* ?4/?5 ending in '*': a prefix; ?7 > 0: the newest ?7 rows. The
	 * most selective filter leads, as a plain equality, so that its
	 * index is used: "?1 IS NULL OR ..." alone reads the whole log. */
#define AUDIT_WHERE(lead) "WHERE " lead \
	    "(CAST(?1 AS TEXT) IS NULL OR account = ?1 OR account IN " \
	    "(SELECT id FROM accounts WHERE reseller = ?1)) AND " \
	    "(CAST(?2 AS TEXT) IS NULL OR \"user\" = ?2) " \
	    "AND (?3 = 0 OR ticket_id = ?3) AND " \
	    "(CAST(?4 AS TEXT) IS NULL OR actor = ?4 OR (?4 LIKE '%*' AND " \
	    "substr(actor, 1, length(?4) - 1) = substr(?4, 1, length(?4) - 1)))" \
	    " AND (CAST(?5 AS TEXT) IS NULL OR action = ?5 OR " \
	    "(?5 LIKE '%*' AND " \
	    "substr(action, 1, length(?5) - 1) = substr(?5, 1, length(?5) - 1)))" \
	    " AND (CAST(?6 AS TEXT) IS NULL OR at >= ?6) "
#define AUDIT_COLS "id, at, actor, action, account, \"user\", old, new, " \
	    "ticket_id, note"
#define AUDIT_LIMIT "LIMIT CASE WHEN ?7 > 0 THEN ?7 " \
	    "ELSE 9223372036854775807 END"
	/* unqualified: this connection's main database first (SQLite) */
#define SQL_MAIN(lead) "SELECT * FROM (SELECT " AUDIT_COLS \
	    " FROM audit " AUDIT_WHERE(lead) \
	    "ORDER BY id DESC " AUDIT_LIMIT ") AS q " \
	    "ORDER BY id"
	/* with verifier.database attached (SQLite): both logs, merged by
	 * time (each file keeps its own order within a second) */
#define SQL_BOTH(lead) "SELECT " AUDIT_COLS " FROM (SELECT * " \
	    "FROM (SELECT 0 AS src, " AUDIT_COLS " FROM main.audit " \
	    AUDIT_WHERE(lead) "UNION ALL SELECT 1 AS src, " AUDIT_COLS \
	    " FROM verifier.audit " AUDIT_WHERE(lead) ") ORDER BY at DESC, " \
	    "src DESC, id DESC " AUDIT_LIMIT ") " \
	    "ORDER BY at, src, id"
#define SQL(lead) (s->has_verifier ? SQL_BOTH(lead) : SQL_MAIN(lead))
	struct dbst *st = f->ticket_id > 0 ?
	    store_stmt(s, SQL("ticket_id = ?3 AND ")) : f->user ?
	    store_stmt(s, SQL("\"user\" = ?2 AND ")) : f->account ?
	    store_stmt(s, SQL("account IN (SELECT ?1 UNION ALL SELECT id "
	    "FROM accounts WHERE reseller = ?1) AND ")) :
	    store_stmt(s, SQL(""));
#undef SQL
#undef SQL_BOTH
#undef SQL_MAIN
#undef AUDIT_COLS
#undef AUDIT_LIMIT
#undef AUDIT_WHERE
	struct audit_row *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, f->account);
	store_bind_text(st, 2, f->user);
	db_bind_int64(st, 3, f->ticket_id);
	store_bind_text(st, 4, f->actor);
	store_bind_text(st, 5, f->action);
	store_bind_text(st, 6, f->since);
	db_bind_int64(st, 7, f->limit);
	while ((rc = db_step(st)) == DB_ROW) {
		struct audit_row *r;
		v = xreallocarray(v, cnt + 1, sizeof *v);
		r = &v[cnt++];
		r->id = db_col_int64(st, 0);
		r->at = store_col_text(st, 1);
		r->actor = store_col_text(st, 2);
		r->action = store_col_text(st, 3);
		r->account = store_col_text(st, 4);
		r->user = store_col_text(st, 5);
		r->old_value = store_col_text(st, 6);
		r->new_value = store_col_text(st, 7);
		r->ticket_id = db_col_int64(st, 8);
		r->note = store_col_text(st, 9);
	}
	db_reset(st);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "audit list");
}
