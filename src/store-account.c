/*
 * store-account.c - accounts, users, contacts, permissions and the audit log.
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store-int.h"

/* twofa: the reseller's flag, or for an end client its use_2fa permission */
#define ACCOUNT_COLS "a.id, a.kind, a.reseller, a.name, CASE a.kind " \
	"WHEN 'reseller' THEN a.twofa ELSE EXISTS (SELECT 1 FROM permissions p " \
	"WHERE p.account = a.id AND p.perm = 'use_2fa') END"

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
read_account(sqlite3_stmt *st, struct account *a)
{
	const char *kind = (const char *)sqlite3_column_text(st, 1);

	a->id = store_col_text(st, 0);
	a->kind = kind && strcmp(kind, "reseller") == 0 ? ACCOUNT_RESELLER :
	    ACCOUNT_END_CLIENT;
	a->reseller = store_col_text(st, 2);
	a->name = store_col_text(st, 3);
	a->twofa = sqlite3_column_int(st, 4);
}

static void
read_user(sqlite3_stmt *st, struct user *u)
{
	u->id = store_col_text(st, 0);
	u->account = store_col_text(st, 1);
	u->name = store_col_text(st, 2);
	u->phone = store_col_text(st, 3);
}

int
store_account_get(struct store *s, const char *id, struct account *a)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " ACCOUNT_COLS
	    " FROM accounts a WHERE a.id = ?");
	int rc;

	memset(a, 0, sizeof *a);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_account(st, a);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_err(s, "account");
}

int
store_account_list(struct store *s, struct account **out, size_t *n)
{
	/* resellers, each followed by its end clients */
	sqlite3_stmt *st = store_stmt(s, "SELECT " ACCOUNT_COLS
	    " FROM accounts a ORDER BY coalesce(a.reseller, a.id), "
	    "a.reseller IS NOT NULL, a.id");
	struct account *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		read_account(st, &v[cnt++]);
	}
	sqlite3_reset(st);
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? 0 : store_err(s, "account list");
}

int
store_account_users(struct store *s, const char *account_id,
    struct user **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, account, name, phone "
	    "FROM users WHERE account = ? ORDER BY id");
	struct user *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		read_user(st, &v[cnt++]);
	}
	sqlite3_reset(st);
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? 0 : store_err(s, "users");
}

int
store_user_get(struct store *s, const char *user_id, struct user *u)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, account, name, phone "
	    "FROM users WHERE id = ?");
	int rc;

	memset(u, 0, sizeof *u);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(st, u);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_err(s, "user");
}

int
store_account_reseller(struct store *s, const char *account_id, char **out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT coalesce(reseller, id) "
	    "FROM accounts WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, account_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = store_col_text(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_err(s, "account reseller");
}

static int
strings(struct store *s, sqlite3_stmt *st, char ***out, size_t *n,
    const char *what)
{
	char **v = NULL;
	size_t cnt = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		v[cnt++] = store_col_text(st, 0);
	}
	sqlite3_reset(st);
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? 0 : store_err(s, what);
}

int
store_contact_resellers(struct store *s, const char *addr, char ***ids,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT reseller FROM contacts "
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
	sqlite3_stmt *st = store_stmt(s, "SELECT addr FROM contacts "
	    "WHERE reseller = ? ORDER BY addr");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, reseller_id);
	return strings(s, st, addrs, n, "contacts");
}

static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_err(s, what);
	return 0;
}

/* The audit log keeps numbers masked, as every log does. */
static int
audit_phone(struct store *s, const char *actor, const char *action,
    const char *account, const char *user, const char *old_phone,
    const char *new_phone, int64_t ticket_id)
{
	char *o = old_phone ? mask_phone(old_phone) : NULL;
	char *n = new_phone ? mask_phone(new_phone) : NULL;
	int rc = store_audit(s, actor, action, account, user, o, n, ticket_id);

	free(o);
	free(n);
	return rc;
}

int
store_user_set_phone(struct store *s, const char *user_id, const char *phone,
    const char *actor, int64_t ticket_id)
{
	sqlite3_stmt *st;
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
	sqlite3_stmt *st;
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
		sqlite3_bind_int(st, 1, on != 0);
		store_bind_text(st, 2, account_id);
	} else {
		st = store_stmt(s, on ?
		    "INSERT OR IGNORE INTO permissions (account, perm) "
		    "VALUES (?, 'use_2fa')" :
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

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
store_put_account(struct store *s, const struct account *a, const char *actor)
{
	struct account old;
	sqlite3_stmt *st;
	const char *kind = a->kind == ACCOUNT_RESELLER ? "reseller" :
	    "end_client";
	int rc;

	if ((rc = store_account_get(s, a->id, &old)) == -1)
		return -1;
	if (rc == 0 && old.kind == a->kind && streq_null(old.reseller,
	    a->reseller) && strcmp(old.name, a->name) == 0 &&
	    old.twofa == a->twofa) {
		account_clear(&old);
		return 1;
	}
	st = store_stmt(s, "INSERT INTO accounts (id, kind, reseller, name, "
	    "twofa) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
	    "kind = ?2, reseller = ?3, name = ?4, twofa = ?5");
	if (st == NULL) {
		account_clear(&old);
		return -1;
	}
	store_bind_text(st, 1, a->id);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, a->reseller);
	store_bind_text(st, 4, a->name);
	sqlite3_bind_int(st, 5, a->kind == ACCOUNT_RESELLER ? a->twofa != 0 : 0);
	if (step_done(s, st, "account") == -1)
		goto fail;
	if (a->kind == ACCOUNT_END_CLIENT) {
		st = store_stmt(s, a->twofa ?
		    "INSERT OR IGNORE INTO permissions (account, perm) "
		    "VALUES (?, 'use_2fa')" :
		    "DELETE FROM permissions WHERE account = ? AND "
		    "perm = 'use_2fa'");
		if (st == NULL)
			goto fail;
		store_bind_text(st, 1, a->id);
		if (step_done(s, st, "permission") == -1)
			goto fail;
	}
	{
		char *old_v = rc == 0 ? xprintf("%s %s twofa=%s",
		    old.kind == ACCOUNT_RESELLER ? "reseller" : "end_client",
		    old.name, old.twofa ? "on" : "off") : NULL;
		char *new_v = xprintf("%s %s twofa=%s", kind, a->name,
		    a->twofa ? "on" : "off");
		rc = store_audit(s, actor, rc == 0 ? "account.update" :
		    "account.create", a->id, NULL, old_v, new_v, 0);
		free(old_v);
		free(new_v);
		if (rc == -1)
			goto fail;
	}
	account_clear(&old);
	return 0;
fail:
	account_clear(&old);
	return -1;
}

int
store_put_user(struct store *s, const struct user *u, const char *actor)
{
	struct user old;
	sqlite3_stmt *st;
	int rc;

	if ((rc = store_user_get(s, u->id, &old)) == -1)
		return -1;
	if (rc == 0 && strcmp(old.account, u->account) == 0 &&
	    strcmp(old.name, u->name) == 0 && streq_null(old.phone, u->phone)) {
		user_clear(&old);
		return 1;
	}
	st = store_stmt(s, "INSERT INTO users (id, account, name, phone) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
	    "account = ?2, name = ?3, phone = ?4");
	if (st == NULL) {
		user_clear(&old);
		return -1;
	}
	store_bind_text(st, 1, u->id);
	store_bind_text(st, 2, u->account);
	store_bind_text(st, 3, u->name);
	store_bind_text(st, 4, u->phone);
	if (step_done(s, st, "user") == -1)
		rc = -1;
	else
		rc = audit_phone(s, actor, rc == 0 ? "user.update" :
		    "user.create", u->account, u->id, rc == 0 ? old.phone : NULL,
		    u->phone, 0);
	user_clear(&old);
	return rc;
}

int
store_put_contact(struct store *s, const char *reseller_id, const char *addr,
    const char *display, const char *actor)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO contacts (reseller, addr, "
	    "display) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, reseller_id);
	store_bind_text(st, 2, addr);
	store_bind_text(st, 3, display);
	if (step_done(s, st, "contact") == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
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
	}
	free(r);
}

int
store_audit_list(struct store *s, const char *account, const char *user,
    int64_t ticket_id, struct audit_row **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, at, actor, action, "
	    "account, user, old, new, ticket_id FROM audit WHERE "
	    "(?1 IS NULL OR account = ?1 OR account IN (SELECT id FROM accounts "
	    "WHERE reseller = ?1)) AND (?2 IS NULL OR user = ?2) AND "
	    "(?3 = 0 OR ticket_id = ?3) ORDER BY id");
	struct audit_row *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, account);
	store_bind_text(st, 2, user);
	sqlite3_bind_int64(st, 3, ticket_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row *r;
		v = xreallocarray(v, cnt + 1, sizeof *v);
		r = &v[cnt++];
		r->id = sqlite3_column_int64(st, 0);
		r->at = store_col_text(st, 1);
		r->actor = store_col_text(st, 2);
		r->action = store_col_text(st, 3);
		r->account = store_col_text(st, 4);
		r->user = store_col_text(st, 5);
		r->old_value = store_col_text(st, 6);
		r->new_value = store_col_text(st, 7);
		r->ticket_id = sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? 0 : store_err(s, "audit list");
}
