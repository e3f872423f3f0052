/*
 * store-desk.c - the tables of the staff desk: staff logins, desk sessions,
 * failed logins (rate limits), ticket assignment, and the searches the
 * desk's pages run (queue filters, user lookup, audit filters).
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store-int.h"

void
staff_clear(struct staff *st)
{
	if (st == NULL)
		return;
	free(st->name);
	free(st->phone);
	if (st->pwhash) {
		memset(st->pwhash, 0, strlen(st->pwhash));
		free(st->pwhash);
	}
	memset(st, 0, sizeof *st);
}

void
staff_free(struct staff *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		staff_clear(&v[i]);
	free(v);
}

void
desk_session_clear(struct desk_session *d)
{
	free(d->staff);
	free(d->csrf);
	memset(d, 0, sizeof *d);
}

static int
done(struct store *s, struct dbst *st, const char *what)
{
	int rc = db_step(st);

	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, what);
	return 0;
}

int
store_staff_add(struct store *s, const struct staff *m, const char *actor)
{
	struct dbst *st = store_stmt(s, "INSERT INTO staff (name, phone, "
	    "pwhash, disabled, created) VALUES (?, ?, ?, 0, ?) "
	    "ON CONFLICT (name) DO NOTHING");
	char *masked;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, m->name);
	store_bind_text(st, 2, m->phone);
	store_bind_text(st, 3, m->pwhash);
	db_bind_int64(st, 4, now_time());
	if (done(s, st, "staff add") == -1)
		return -1;
	if (db_changes(s->db) == 0)
		return 1;
	masked = mask_phone(m->phone);
	rc = store_audit(s, actor, "staff.add", NULL, NULL, NULL, masked, 0);
	free(masked);
	return rc;
}

static void
read_staff(struct dbst *st, void *row)
{
	struct staff *m = row;

	m->name = store_col_text(st, 0);
	m->phone = store_col_text(st, 1);
	m->pwhash = store_col_text(st, 2);
	m->disabled = db_col_int(st, 3);
	m->created = (time_t)db_col_int64(st, 4);
}

int
store_staff_get(struct store *s, const char *name, struct staff *m)
{
	struct dbst *st = store_stmt(s, "SELECT name, phone, pwhash, "
	    "disabled, created FROM staff WHERE name = ?");

	memset(m, 0, sizeof *m);
	if (st != NULL)
		store_bind_text(st, 1, name);
	return store_row(s, st, read_staff, m, "staff");
}

int
store_staff_list(struct store *s, struct staff **out, size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT name, phone, pwhash, "
	    "disabled, created FROM staff ORDER BY name");

	return store_rows(s, st, read_staff, sizeof **out, out, n,
	    "staff list");
}

int
store_staff_set_disabled(struct store *s, const char *name, int disabled,
    const char *actor)
{
	struct dbst *st = store_stmt(s, "UPDATE staff SET disabled = ? "
	    "WHERE name = ?");

	if (st == NULL)
		return -1;
	db_bind_int(st, 1, disabled != 0);
	store_bind_text(st, 2, name);
	if (done(s, st, "staff update") == -1)
		return -1;
	if (db_changes(s->db) == 0)
		return 1;
	if (disabled) {
		st = store_stmt(s, "DELETE FROM desk_sessions WHERE staff = ?");
		if (st == NULL)
			return -1;
		store_bind_text(st, 1, name);
		if (done(s, st, "session delete") == -1)
			return -1;
	}
	return store_audit(s, actor, disabled ? "staff.disable" :
	    "staff.enable", NULL, NULL, NULL, name, 0);
}

int
store_session_add(struct store *s,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], const char *staff,
    const char *csrf, int verified, time_t now)
{
	struct dbst *st = store_stmt(s, "INSERT INTO desk_sessions "
	    "(token_hash, staff, csrf, verified, created, last_seen) "
	    "VALUES (?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	db_bind_blob(st, 1, hash, DESK_TOKEN_HASH_BYTES);
	store_bind_text(st, 2, staff);
	store_bind_text(st, 3, csrf);
	db_bind_int(st, 4, verified != 0);
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, now);
	return done(s, st, "session add");
}

int
store_session_get(struct store *s,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], struct desk_session *d)
{
	struct dbst *st = store_stmt(s, "SELECT d.staff, d.csrf, d.verified, "
	    "d.created, d.last_seen FROM desk_sessions d JOIN staff m ON "
	    "m.name = d.staff WHERE d.token_hash = ? AND m.disabled = 0");
	int rc;

	memset(d, 0, sizeof *d);
	if (st == NULL)
		return -1;
	db_bind_blob(st, 1, hash, DESK_TOKEN_HASH_BYTES);
	rc = db_step(st);
	if (rc == DB_ROW) {
		d->staff = store_col_text(st, 0);
		d->csrf = store_col_text(st, 1);
		d->verified = db_col_int(st, 2);
		d->created = (time_t)db_col_int64(st, 3);
		d->last_seen = (time_t)db_col_int64(st, 4);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "session");
}

int
store_session_touch(struct store *s,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], time_t now)
{
	struct dbst *st = store_stmt(s, "UPDATE desk_sessions SET "
	    "last_seen = ? WHERE token_hash = ?");

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, now);
	db_bind_blob(st, 2, hash, DESK_TOKEN_HASH_BYTES);
	return done(s, st, "session touch");
}

int
store_session_delete(struct store *s,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES])
{
	struct dbst *st = store_stmt(s, "DELETE FROM desk_sessions "
	    "WHERE token_hash = ?");

	if (st == NULL)
		return -1;
	db_bind_blob(st, 1, hash, DESK_TOKEN_HASH_BYTES);
	return done(s, st, "session delete");
}

int
store_session_prune(struct store *s, time_t idle_before,
    time_t pending_before, time_t fail_before)
{
	struct dbst *st = store_stmt(s, "DELETE FROM desk_sessions WHERE "
	    "last_seen < ? OR (verified = 0 AND created < ?)");

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, idle_before);
	db_bind_int64(st, 2, pending_before);
	if (done(s, st, "session prune") == -1)
		return -1;
	if ((st = store_stmt(s, "DELETE FROM desk_failures WHERE at < ?")) ==
	    NULL)
		return -1;
	db_bind_int64(st, 1, fail_before);
	return done(s, st, "failure prune");
}

int
store_failure_add(struct store *s, const char *key, time_t now)
{
	struct dbst *st = store_stmt(s, "INSERT INTO desk_failures (key, at) "
	    "VALUES (?, ?)");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	db_bind_int64(st, 2, now);
	return done(s, st, "failure add");
}

int
store_failure_count(struct store *s, const char *key, time_t since, long *n)
{
	struct dbst *st = store_stmt(s, "SELECT count(*) FROM desk_failures "
	    "WHERE key = ? AND at >= ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	db_bind_int64(st, 2, since);
	rc = db_step(st);
	*n = rc == DB_ROW ? (long)db_col_int64(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? 0 : store_err(s, "failure count");
}

int
store_failure_clear(struct store *s, const char *key)
{
	struct dbst *st = store_stmt(s, "DELETE FROM desk_failures "
	    "WHERE key = ?");

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	return done(s, st, "failure clear");
}

/* LIKE pattern for a substring: %, _ and \ taken literally. Owned. */
static char *
like_pattern(const char *q)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '%');
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *q);
	}
	buf_addc(&b, '%');
	return buf_steal(&b);
}

/*
 * The queue reads the tickets rows themselves: the raw messages are in
 * ticket_raw (schema step 12), so a row is small and a state's tickets
 * are found through tickets_state (state, id), in id order. One statement
 * per shape (state given or not, order), so that each gets its plan.
 */
#define DESK_TICKET_COLS "id, msgkey, source, received, kind, state, " \
	"reason, from_addr, subject, fields, NULL, account, assigned"
/* HEAD FROM tickets WHERE TAIL, on either backend */
#define DESK_SQL(head, tail) (head " FROM tickets WHERE " tail)
#define DESK_STATE "state = ?1 AND "
#define DESK_ANY "CAST(?1 AS TEXT) IS NULL AND "
#define DESK_TICKET_WHERE \
	"(CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND " \
	"(CAST(?3 AS TEXT) IS NULL OR account = ?3 OR account IN " \
	"(SELECT reseller FROM " \
	"accounts WHERE id = ?3)) AND (?4 = 0 OR received >= ?4) AND " \
	"(CAST(?5 AS TEXT) IS NULL OR subject LIKE ?5 ESCAPE '\\' OR " \
	"from_addr LIKE ?5 " \
	"ESCAPE '\\' OR reason LIKE ?5 ESCAPE '\\' OR fields LIKE ?5 " \
	"ESCAPE '\\' OR msgkey LIKE ?5 ESCAPE '\\' OR id = ?6) AND " \
	"(CAST(?7 AS TEXT) IS NULL OR assigned = ?7)"

static void
bind_filter(struct dbst *st, const struct desk_filter *f,
    const char *like)
{
	store_bind_text(st, 1, f->state < 0 ? NULL :
	    ticket_state_name((enum ticket_state)f->state));
	store_bind_text(st, 2, f->kind);
	store_bind_text(st, 3, f->account);
	db_bind_int64(st, 4, f->since);
	store_bind_text(st, 5, like);
	db_bind_int64(st, 6, f->text ? strtoll(f->text, NULL, 10) : -1);
	store_bind_text(st, 7, f->assigned);
}

int
store_ticket_search(struct store *s, const struct desk_filter *f,
    struct ticket **out, char ***assigned, size_t *n, size_t *total)
{
	struct dbst *st;
	struct ticket *v = NULL;
	char **as = NULL, *like = f->text && *f->text ?
	    like_pattern(f->text) : NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*assigned = NULL;
	*n = *total = 0;
	st = f->state >= 0 ?
	    store_stmt(s, DESK_SQL("SELECT count(*)", DESK_STATE
	    DESK_TICKET_WHERE)) :
	    store_stmt(s, DESK_SQL("SELECT count(*)", DESK_ANY
	    DESK_TICKET_WHERE));
	if (st == NULL)
		goto fail;
	bind_filter(st, f, like);
	rc = db_step(st);
	if (rc == DB_ROW)
		*total = (size_t)db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW) {
		store_err(s, "ticket search");
		goto fail;
	}
	if (f->state >= 0)
		st = f->oldest_first ?
		    store_stmt(s, DESK_SQL("SELECT " DESK_TICKET_COLS,
		    DESK_STATE DESK_TICKET_WHERE " ORDER BY id LIMIT ?8")) :
		    store_stmt(s, DESK_SQL("SELECT " DESK_TICKET_COLS,
		    DESK_STATE DESK_TICKET_WHERE " ORDER BY id DESC LIMIT ?8"));
	else
		st = f->oldest_first ?
		    store_stmt(s, DESK_SQL("SELECT " DESK_TICKET_COLS,
		    DESK_ANY DESK_TICKET_WHERE " ORDER BY id LIMIT ?8")) :
		    store_stmt(s, DESK_SQL("SELECT " DESK_TICKET_COLS,
		    DESK_ANY DESK_TICKET_WHERE " ORDER BY id DESC LIMIT ?8"));
	if (st == NULL)
		goto fail;
	bind_filter(st, f, like);
	db_bind_int(st, 8, f->limit > 0 ? f->limit : 100);
	while ((rc = db_step(st)) == DB_ROW) {
		struct ticket *t;

		v = xreallocarray(v, cnt + 1, sizeof *v);
		as = xreallocarray(as, cnt + 1, sizeof *as);
		t = &v[cnt];
		memset(t, 0, sizeof *t);
		store_read_ticket(st, t);
		as[cnt] = t->assigned;
		t->assigned = NULL;
		cnt++;
	}
	db_reset(st);
	free(like);
	*out = v;
	*assigned = as;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "ticket search");
fail:
	free(like);
	return -1;
}

int
store_ticket_counts(struct store *s, size_t counts[5])
{
	struct dbst *st = store_stmt(s, "SELECT state, count(*) FROM tickets "
	    "GROUP BY state");
	int rc;

	memset(counts, 0, 5 * sizeof counts[0]);
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		enum ticket_state ts;
		const char *name = db_col_text(st, 0);
		if (name && ticket_state_parse(name, &ts) == 0 &&
		    (int)ts >= 0 && (int)ts < 5)
			counts[ts] = (size_t)db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : store_err(s, "ticket counts");
}

int
store_ticket_assigned(struct store *s, int64_t id, char **who)
{
	struct dbst *st = store_stmt(s, "SELECT assigned FROM tickets "
	    "WHERE id = ?");
	int rc;

	*who = NULL;
	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		*who = store_col_text(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "ticket assigned");
}


int
store_user_find(struct store *s, const char *q, int limit, struct user **out,
    size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT id, account, name, phone "
	    "FROM users WHERE id = ?1 OR account = ?1 OR name LIKE ?2 "
	    "ESCAPE '\\' OR (CAST(?3 AS TEXT) IS NOT NULL AND phone LIKE ?3) "
	    "ORDER BY account, id LIMIT ?4");
	struct user *v = NULL;
	char *like = like_pattern(q), *digits = NULL;
	size_t cnt = 0, nd = 0;
	int rc;

	/* a number as staff type it: +44 7400 123456, 07400-123456 */
	for (const char *p = q; *p; p++)
		nd += *p >= '0' && *p <= '9';
	if (nd >= 4) {
		struct buf b;
		const char *p = q;
		buf_init(&b);
		buf_addc(&b, '%');
		if (*p == '0' || (*p == '+'))
			p++;      /* national 0 or '+': match the rest */
		for (; *p; p++)
			if (*p >= '0' && *p <= '9')
				buf_addc(&b, *p);
		buf_addc(&b, '%');
		digits = buf_steal(&b);
	}
	*out = NULL;
	*n = 0;
	if (st == NULL) {
		free(like);
		free(digits);
		return -1;
	}
	store_bind_text(st, 1, q);
	store_bind_text(st, 2, like);
	store_bind_text(st, 3, digits);
	db_bind_int(st, 4, limit);
	while ((rc = db_step(st)) == DB_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		v[cnt].id = store_col_text(st, 0);
		v[cnt].account = store_col_text(st, 1);
		v[cnt].name = store_col_text(st, 2);
		v[cnt].phone = store_col_text(st, 3);
		cnt++;
	}
	db_reset(st);
	free(like);
	free(digits);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "user find");
}

