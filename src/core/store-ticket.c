/*
 * store-ticket.c - tickets, the source identities that delivered them, and
 * the outbox of replies.
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store-int.h"

static const char *const state_names[] = {
	"new", "applied", "needs_review", "rejected", "ignored"
};

const char *
ticket_state_name(enum ticket_state s)
{
	if ((unsigned)s >= sizeof state_names / sizeof state_names[0])
		return "?";
	return state_names[s];
}

int
ticket_state_parse(const char *name, enum ticket_state *out)
{
	for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum ticket_state)i;
			return 0;
		}
	return -1;
}

void
ticket_clear(struct ticket *t)
{
	if (t == NULL)
		return;
	free(t->msgkey);
	free(t->source);
	free(t->raw);
	free(t->kind);
	free(t->reason);
	free(t->from_addr);
	free(t->subject);
	free(t->fields);
	free(t->results);
	free(t->account);
	free(t->assigned);
	memset(t, 0, sizeof *t);
}

void
tickets_free(struct ticket *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		ticket_clear(&t[i]);
	free(t);
}

int
store_source_known(struct store *s, const char *source_key)
{
	struct dbst *st = store_stmt(s, "SELECT 1 FROM ticket_sources "
	    "WHERE source_key = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, source_key);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : store_err(s, "source key");
}

/*
 * One INSERT does the dedupe: the UNIQUE (msgkey, digest) index answers
 * "stored already?", so a new message costs no lookup; only a copy seen
 * before is looked up, for its ticket number.
 *
 * Alone it is a transaction of its own. Inside a caller's transaction (a
 * group of fetched messages) it opens no savepoint: SQLite would copy
 * every index page it touches into the statement journal, once a message
 * (about 12 pages, 50 KB: 500 MB of temporary writes for 10,000
 * messages). A failure then leaves the transaction to the caller, which
 * must roll it back whole.
 */
int
store_ticket_add(struct store *s, const char *source_key, const char *msgkey,
    const char *digest, const char *raw, size_t len, int64_t *id)
{
	struct dbst *st;
	int rc, dup = 0, own = s->depth == 0;
	time_t now = now_time();

	if (own && store_begin(s) == -1)
		return -1;
	/* RETURNING: the new id without a round trip of its own (lastval()
	 * on PostgreSQL); no row when the ticket was there already */
	st = store_stmt(s, "INSERT INTO tickets (msgkey, digest, source, "
	    "received, updated) VALUES (?, ?, ?, ?, ?) "
	    "ON CONFLICT (msgkey, digest) DO NOTHING RETURNING id");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, msgkey);
	store_bind_text(st, 2, digest);
	store_bind_text(st, 3, source_key);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, now);
	rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		store_err(s, "ticket insert");
		goto fail;
	}
	if (rc == DB_ROW) {
		/* the raw bytes in a table of their own (schema step 12):
		 * written once, never with a change of state */
		st = store_stmt(s, "INSERT INTO ticket_raw (ticket_id, raw) "
		    "VALUES (?, ?)");
		if (st == NULL)
			goto fail;
		db_bind_int64(st, 1, *id);
		db_bind_blob(st, 2, raw, len);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE) {
			store_err(s, "ticket raw insert");
			goto fail;
		}
	} else {
		dup = 1;
		st = store_stmt(s, "SELECT id FROM tickets WHERE msgkey = ? "
		    "AND digest = ?");
		if (st == NULL)
			goto fail;
		store_bind_text(st, 1, msgkey);
		store_bind_text(st, 2, digest);
		rc = db_step(st);
		if (rc == DB_ROW)
			*id = db_col_int64(st, 0);
		db_reset(st);
		if (rc != DB_ROW) {
			store_err(s, "ticket lookup");
			goto fail;
		}
	}
	st = store_stmt(s, "INSERT INTO ticket_sources (source_key, "
	    "ticket_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, source_key);
	db_bind_int64(st, 2, *id);
	db_bind_int64(st, 3, now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE) {
		store_err(s, "ticket source");
		goto fail;
	}
	if (own && store_commit(s) == -1)
		return -1;
	return dup;
fail:
	if (own)
		store_rollback(s);
	return -1;
}

/* refused: the users the per-user results refused (result "rejected"),
 * counted when they were written (store_ticket_set) */
#define TICKET_COLS "id, msgkey, source, received, kind, state, reason, " \
	"from_addr, subject, fields, results, account, assigned, refused"
#define TICKET_NCOLS 14

static void
read_ticket(struct dbst *st, struct ticket *t)
{
	store_read_ticket(st, t);
	t->refused = db_col_int(st, 13);
}

void
store_read_ticket(struct dbst *st, struct ticket *t)
{
	const char *state = db_col_text(st, 5);
	enum ticket_state ts = TICKET_NEW;

	t->id = db_col_int64(st, 0);
	t->msgkey = store_col_text(st, 1);
	t->source = store_col_text(st, 2);
	t->received = (time_t)db_col_int64(st, 3);
	t->kind = store_col_text(st, 4);
	if (state)
		ticket_state_parse(state, &ts);
	t->state = ts;
	t->reason = store_col_text(st, 6);
	t->from_addr = store_col_text(st, 7);
	t->subject = store_col_text(st, 8);
	t->fields = store_col_text(st, 9);
	t->results = store_col_text(st, 10);
	t->account = store_col_text(st, 11);
	t->assigned = store_col_text(st, 12);
}

int
store_ticket_get(struct store *s, int64_t id, int with_raw, struct ticket *t)
{
	/* dup_of: the first ticket with this msgkey, if not this one; the
	 * raw message (ticket_raw) only when asked for */
#define DUP_OF "(SELECT min(d.id) FROM tickets d WHERE " \
	"d.msgkey = tickets.msgkey AND d.id < tickets.id)"
#define WITH_RAW ", ticket_raw.raw FROM tickets LEFT JOIN ticket_raw " \
	"ON ticket_raw.ticket_id = tickets.id WHERE tickets.id = ?"
	struct dbst *st = with_raw ? store_stmt(s,
	    "SELECT " TICKET_COLS ", " DUP_OF WITH_RAW) :
	    store_stmt(s,
	    "SELECT " TICKET_COLS ", " DUP_OF " FROM tickets WHERE id = ?");
#undef WITH_RAW
#undef DUP_OF
	int rc;

	memset(t, 0, sizeof *t);
	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		read_ticket(st, t);
		t->dup_of = db_col_int64(st, TICKET_NCOLS);
		if (with_raw) {
			const void *b = db_col_blob(st, TICKET_NCOLS + 1);
			size_t n = (size_t)db_col_bytes(st,
			    TICKET_NCOLS + 1);
			t->raw = xmalloc(n + 1);
			if (n)
				memcpy(t->raw, b, n);
			t->raw[n] = '\0';
			t->raw_len = n;
		}
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "ticket");
}

int
store_ticket_ids(struct store *s, enum ticket_state state, int64_t **out,
    size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT id FROM tickets "
	    "WHERE state = ? ORDER BY id");
	int64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, ticket_state_name(state));
	while ((rc = db_step(st)) == DB_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[cnt++] = db_col_int64(st, 0);
	}
	db_reset(st);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "ticket ids");
}

int
store_ticket_list(struct store *s, int state, struct ticket **out, size_t *n)
{
	/* two statements: "?1 IS NULL OR state = ?1" would read every
	 * ticket; "state = ?" walks the tickets_state index */
	struct dbst *st = state < 0 ? store_stmt(s, "SELECT " TICKET_COLS
	    " FROM tickets ORDER BY id") : store_stmt(s, "SELECT " TICKET_COLS
	    " FROM tickets WHERE state = ?1 ORDER BY id");
	struct ticket *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, state < 0 ? NULL :
	    ticket_state_name((enum ticket_state)state));
	while ((rc = db_step(st)) == DB_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		memset(&v[cnt], 0, sizeof v[cnt]);
		read_ticket(st, &v[cnt++]);
	}
	db_reset(st);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "ticket list");
}

/*
 * One statement per combination of filters, from fixed pieces, every value
 * bound: each filter can use its index ((state, id), (kind, id),
 * (account, id), received) where "?1 IS NULL OR state = ?1" could not.
 */
int
store_ticket_query(struct store *s, const struct ticket_filter *f,
    struct ticket **out, size_t *n)
{
	struct dbst *st;
	struct buf sql, pat;
	struct ticket *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	buf_init(&sql);
	buf_init(&pat);
	buf_adds(&sql, "SELECT " TICKET_COLS " FROM tickets WHERE 1 = 1");
	if (f->state >= 0)
		buf_adds(&sql, " AND state = ?1");
	if (f->kind)
		buf_adds(&sql, " AND kind = ?2");
	if (f->account)
		buf_adds(&sql, " AND account = ?3");
	if (f->since)
		buf_adds(&sql, " AND received >= ?4");
	if (f->search) {
		/* LIKE: ASCII case-insensitive; the text's own % _ \ are
		 * escaped, so they match only themselves */
		buf_addc(&pat, '%');
		for (const char *p = f->search; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_addc(&pat, '\\');
			buf_addc(&pat, *p);
		}
		buf_addc(&pat, '%');
		buf_adds(&sql, store_is_pg(s) ?
		    " AND (subject ILIKE ?5 ESCAPE '\\' OR "
		    "from_addr ILIKE ?5 ESCAPE '\\' OR fields ILIKE ?5 "
		    "ESCAPE '\\')" :
		    " AND (subject LIKE ?5 ESCAPE '\\' OR "
		    "from_addr LIKE ?5 ESCAPE '\\' OR fields LIKE ?5 "
		    "ESCAPE '\\')");
	}
	/* with --since, in the order of its index (ids follow received) */
	if (f->since)
		buf_adds(&sql, f->state == TICKET_NEEDS_REVIEW ?
		    " ORDER BY received, id" : " ORDER BY received DESC, id DESC");
	else
		buf_adds(&sql, f->state == TICKET_NEEDS_REVIEW ? " ORDER BY id" :
		    " ORDER BY id DESC");
	if (f->limit > 0)
		buf_adds(&sql, " LIMIT ?6");
	if ((st = db_prepare(s->db, sql.s)) == NULL) {
		store_err(s, "ticket query");
		buf_free(&sql);
		buf_free(&pat);
		return -1;
	}
	if (f->state >= 0)
		store_bind_text(st, 1,
		    ticket_state_name((enum ticket_state)f->state));
	if (f->kind)
		store_bind_text(st, 2,
		    f->kind);
	if (f->account)
		store_bind_text(st, 3, f->account);
	if (f->since)
		db_bind_int64(st, 4, f->since);
	if (f->search)
		store_bind_text(st, 5,
		    pat.s);
	if (f->limit > 0)
		db_bind_int64(st, 6, f->limit);
	while ((rc = db_step(st)) == DB_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof *v);
		memset(&v[cnt], 0, sizeof v[cnt]);
		read_ticket(st, &v[cnt++]);
	}
	if (rc != DB_DONE)
		store_err(s, "ticket query");
	db_finalize(st);
	buf_free(&sql);
	buf_free(&pat);
	if (rc != DB_DONE) {
		tickets_free(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
store_ticket_assign(struct store *s, int64_t id, const char *name,
    const char *actor)
{
	struct dbst *st;
	struct ticket t;
	int rc;

	if (store_begin(s) == -1)
		return -1;
	if ((rc = store_ticket_get(s, id, 0, &t)) != 0) {
		store_rollback(s);
		return rc;
	}
	st = store_stmt(s, "UPDATE tickets SET assigned = ?, updated = ? "
	    "WHERE id = ?");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, name);
	db_bind_int64(st, 2, now_time());
	db_bind_int64(st, 3, id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE) {
		store_err(s, "ticket assign");
		goto fail;
	}
	if (store_audit(s, actor, "ticket.assign", t.account, NULL, t.assigned,
	    name, id) == -1)
		goto fail;
	ticket_clear(&t);
	return store_commit(s);
fail:
	ticket_clear(&t);
	store_rollback(s);
	return -1;
}

/* JSON text that SQLite can read, else an empty object */
#define JSON_OR_EMPTY "(CASE WHEN json_valid(?1) THEN ?1 ELSE '{}' END)"
/* PostgreSQL: the value at ?2 (a text[] path, json_path_pg) of ?1 when it
 * is JSON (type json: members stay in their order); a JSON scalar as
 * SQLite gives it (true: yes, false: no, null: NULL, strings unquoted) */
#define JSON_AT_PG "(coalesce(tfadesk_json(?1), '{}') #> CAST(?2 AS text[]))"
#define JSON_SCALAR_PG(x) "CASE json_typeof(" x ") WHEN 'boolean' THEN " \
	"CASE WHEN " x "::text = 'true' THEN 'yes' ELSE 'no' END " \
	"WHEN 'null' THEN NULL ELSE " x " #>> '{}' END"

/* "$.a.b" (the paths we use: members only) as PostgreSQL's "{a,b}".
 * Owned. */
static char *
json_path_pg(const char *path)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '{');
	if (path[0] == '$')
		path++;
	for (const char *p = path; *p; p++) {
		if (*p == '.') {
			if (p != path)
				buf_addc(&b, ',');
			continue;
		}
		/* quote each character PostgreSQL's array syntax gives a
		 * meaning to */
		if (strchr("{},\\\" ", *p))
			buf_addc(&b, '\\');
		buf_addc(&b, *p);
	}
	buf_addc(&b, '}');
	return b.s;
}

char *
store_json_value(struct store *s, const char *json, const char *path)
{
	struct dbst *st = store_stmt(s, DB_SQL(s,
	    "SELECT CASE json_type(j, ?2) "
	    "WHEN 'array' THEN (SELECT group_concat(CASE type WHEN 'true' THEN "
	    "'yes' WHEN 'false' THEN 'no' ELSE value END, ', ') FROM "
	    "json_each(j, ?2)) WHEN 'true' THEN 'yes' WHEN 'false' THEN 'no' "
	    "WHEN 'object' THEN NULL ELSE json_extract(j, ?2) END "
	    "FROM (SELECT " JSON_OR_EMPTY " AS j)",
	    "SELECT CASE json_typeof(v) WHEN 'array' THEN (SELECT "
	    "string_agg(" JSON_SCALAR_PG("e") ", ', ' ORDER BY n) FROM "
	    "json_array_elements(v) WITH ORDINALITY AS a(e, n)) "
	    "WHEN 'object' THEN NULL ELSE " JSON_SCALAR_PG("v") " END "
	    "FROM (SELECT " JSON_AT_PG " AS v) q"));
	char *v = NULL, *pgpath = NULL;
	int rc;

	if (st == NULL || json == NULL)
		return NULL;
	store_bind_text(st, 1, json);
	if (store_is_pg(s))
		store_bind_text(st, 2, pgpath = json_path_pg(path));
	else
		store_bind_text(st, 2, path);
	if ((rc = db_step(st)) == DB_ROW)
		v = store_col_text(st, 0);
	else
		store_err(s, "json value");
	db_reset(st);
	free(pgpath);
	return v;
}

int
store_json_table(struct store *s, const char *json, const char *path,
    const char *const *keys, size_t nkeys, char ***cells, size_t *nrows)
{
	struct dbst *st = store_stmt(s, DB_SQL(s,
	    "SELECT e.id, f.key, CASE f.type "
	    "WHEN 'true' THEN 'yes' WHEN 'false' THEN 'no' WHEN 'null' THEN "
	    "NULL ELSE f.value END FROM json_each(" JSON_OR_EMPTY ", ?2) e, "
	    "json_each(CASE WHEN e.type = 'object' THEN e.value ELSE '{}' "
	    "END) f ORDER BY e.id, f.id",
	    "SELECT e.n, f.key, " JSON_SCALAR_PG("f.value") " FROM "
	    "(SELECT " JSON_AT_PG " AS v) q, LATERAL (SELECT x, n FROM "
	    "json_array_elements(CASE WHEN json_typeof(q.v) = 'array' THEN "
	    "q.v ELSE '[]' END) WITH ORDINALITY AS a(x, n) UNION ALL "
	    "SELECT x, n FROM json_each(CASE WHEN json_typeof(q.v) = "
	    "'object' THEN q.v ELSE '{}' END) WITH ORDINALITY AS o(k, x, n)) "
	    "e, LATERAL json_each(CASE WHEN json_typeof(e.x) = 'object' THEN "
	    "e.x ELSE '{}' END) WITH ORDINALITY AS f(key, value, m) "
	    "ORDER BY e.n, f.m"));
	char *pgpath = NULL;
	char **v = NULL;
	size_t cnt = 0;
	int64_t row = -1;
	int rc;

	*cells = NULL;
	*nrows = 0;
	if (st == NULL)
		return -1;
	if (json == NULL)
		return 0;
	store_bind_text(st, 1, json);
	if (store_is_pg(s))
		store_bind_text(st, 2, pgpath = json_path_pg(path));
	else
		store_bind_text(st, 2, path);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *key = db_col_text(st, 1);
		if (db_col_int64(st, 0) != row) {
			row = db_col_int64(st, 0);
			v = xreallocarray(v, (cnt + 1) * nkeys, sizeof *v);
			memset(&v[cnt * nkeys], 0, nkeys * sizeof *v);
			cnt++;
		}
		for (size_t k = 0; key && k < nkeys; k++)
			if (strcmp(key, keys[k]) == 0 &&
			    v[(cnt - 1) * nkeys + k] == NULL)
				v[(cnt - 1) * nkeys + k] = store_col_text(st, 2);
	}
	db_reset(st);
	free(pgpath);
	if (rc != DB_DONE) {
		for (size_t i = 0; i < cnt * nkeys; i++)
			free(v[i]);
		free(v);
		return store_err(s, "json table");
	}
	*cells = v;
	*nrows = cnt;
	return 0;
}

int
store_ticket_set(struct store *s, const struct ticket *t,
    enum ticket_state old, const char *actor)
{
	struct dbst *st;
	int rc;

	st = store_stmt(s, "UPDATE tickets SET kind = ?, state = ?, reason = ?, "
	    "from_addr = ?, subject = ?, fields = ?, results = ?, account = ?, "
	    "updated = ?, refused = ? WHERE id = ?");
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, t->kind);
	store_bind_text(st, 2, ticket_state_name(t->state));
	store_bind_text(st, 3, t->reason);
	store_bind_text(st, 4, t->from_addr);
	store_bind_text(st, 5, t->subject);
	store_bind_text(st, 6, t->fields);
	store_bind_text(st, 7, t->results);
	store_bind_text(st, 8, t->account);
	db_bind_int64(st, 9, now_time());
	db_bind_int64(st, 10, t->refused);
	db_bind_int64(st, 11, t->id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, "ticket update");
	if (db_changes(s->db) != 1)
		return 1;               /* no such ticket */
	if (old != t->state) {
		char *nv = xstrfmt("%s%s%s", ticket_state_name(t->state),
		    t->reason ? ": " : "", t->reason ? t->reason : "");
		rc = store_audit(s, actor, "ticket.state", t->account, NULL,
		    ticket_state_name(old), nv, t->id);
		free(nv);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static const char *const outbox_names[] = { "queued", "sent", "failed" };

void
outbox_clear(struct outbox_row *r)
{
	if (r == NULL)
		return;
	free(r->msgid);
	free(r->mail_from);
	free(r->rcpt);
	free(r->message);
	free(r->last_error);
	free(r->claim);
	memset(r, 0, sizeof *r);
}

void
outbox_free(struct outbox_row *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		outbox_clear(&r[i]);
	free(r);
}

int
store_outbox_add(struct store *s, const struct outbox_row *r, int64_t *id)
{
	struct dbst *st = store_stmt(s, STORE_INSERT_ID(s, "INSERT INTO "
	    "outbox (ticket_id, msgid, mail_from, rcpt, message, state, "
	    "attempts, next_try, created) VALUES (?, ?, ?, ?, ?, 'queued', 0, "
	    "?, ?)"));

	if (st == NULL)
		return -1;
	if (r->ticket_id > 0)
		db_bind_int64(st, 1, r->ticket_id);
	store_bind_text(st, 2, r->msgid);
	store_bind_text(st, 3, r->mail_from);
	store_bind_text(st, 4, r->rcpt);
	db_bind_blob(st, 5, r->message, r->message_len);
	db_bind_int64(st, 6, r->next_try);
	db_bind_int64(st, 7, now_time());
	if (store_step_insert(s, st, id) != 0)
		return store_err(s, "outbox insert");
	return 0;
}

#define OUTBOX_COLS "id, ticket_id, msgid, mail_from, rcpt, message, state, " \
	"attempts, next_try, last_error, created, coalesce(sent, 0), claim, " \
	"claimed_until"

static int
outbox_rows(struct store *s, struct dbst *st, struct outbox_row **out,
    size_t *n)
{
	struct outbox_row *v = NULL;
	size_t cnt = 0;
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		struct outbox_row *r;
		const char *state = db_col_text(st, 6);
		size_t len = (size_t)db_col_bytes(st, 5);
		const void *msg = db_col_blob(st, 5);

		v = xreallocarray(v, cnt + 1, sizeof *v);
		r = &v[cnt++];
		memset(r, 0, sizeof *r);
		r->id = db_col_int64(st, 0);
		r->ticket_id = db_col_int64(st, 1);
		r->msgid = store_col_text(st, 2);
		r->mail_from = store_col_text(st, 3);
		r->rcpt = store_col_text(st, 4);
		r->message = xmalloc(len + 1);
		if (len)
			memcpy(r->message, msg, len);
		r->message[len] = '\0';
		r->message_len = len;
		r->state = OUTBOX_QUEUED;
		for (int i = 0; state && i < 3; i++)
			if (strcmp(state, outbox_names[i]) == 0)
				r->state = (enum outbox_state)i;
		r->attempts = db_col_int(st, 7);
		r->next_try = (time_t)db_col_int64(st, 8);
		r->last_error = store_col_text(st, 9);
		r->created = (time_t)db_col_int64(st, 10);
		r->sent = (time_t)db_col_int64(st, 11);
		r->claim = store_col_text(st, 12);
		r->claimed_until = (time_t)db_col_int64(st, 13);
	}
	db_reset(st);
	*out = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, "outbox");
}

int
store_outbox_due(struct store *s, time_t now, struct outbox_row **out,
    size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT " OUTBOX_COLS " FROM outbox "
	    "WHERE state = 'queued' AND next_try <= ? ORDER BY id");

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, now);
	return outbox_rows(s, st, out, n);
}

int
store_outbox_claim(struct store *s, time_t now, int ignore_backoff,
    int64_t after_id, int limit, const char *owner, time_t lease,
    struct outbox_row **out, size_t *n)
{
	struct dbst *up, *sel;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_begin(s) == -1)
		return -1;
	/* PostgreSQL: rows another sender's transaction is claiming are
	 * skipped, not waited for (SQLite has one writer at a time) */
	up = store_stmt(s, DB_SQL(s,
	    "UPDATE outbox SET claim = ?, claimed_until = ? "
	    "WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND "
	    "id > ? AND (next_try <= ? OR ? <> 0) AND claimed_until <= ? "
	    "ORDER BY id LIMIT ?)",
	    "UPDATE outbox SET claim = ?, claimed_until = ? "
	    "WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND "
	    "id > ? AND (next_try <= ? OR ? <> 0) AND claimed_until <= ? "
	    "ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"));
	if (up == NULL)
		goto fail;
	store_bind_text(up, 1, owner);
	db_bind_int64(up, 2, now + lease);
	db_bind_int64(up, 3, after_id);
	db_bind_int64(up, 4, now);
	db_bind_int(up, 5, ignore_backoff != 0);
	db_bind_int64(up, 6, now);
	db_bind_int(up, 7, limit);
	rc = db_step(up);
	db_reset(up);
	if (rc != DB_DONE) {
		store_err(s, "outbox claim");
		goto fail;
	}
	sel = store_stmt(s, "SELECT " OUTBOX_COLS " FROM outbox WHERE "
	    "claim = ? AND state = 'queued' AND id > ? ORDER BY id");
	if (sel == NULL)
		goto fail;
	store_bind_text(sel, 1, owner);
	db_bind_int64(sel, 2, after_id);
	if (outbox_rows(s, sel, out, n) == -1)
		goto fail;
	if (store_commit(s) == 0)
		return 0;
	outbox_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
fail:
	store_rollback(s);
	return -1;
}

int
store_outbox_waiting(struct store *s, size_t *n)
{
	struct dbst *st = store_stmt(s, "SELECT count(*) FROM outbox "
	    "WHERE state = 'queued'");
	int rc;

	*n = 0;
	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == DB_ROW)
		*n = (size_t)db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 0 : store_err(s, "outbox count");
}

int
store_outbox_release(struct store *s, const char *owner)
{
	struct dbst *st = store_stmt(s, "UPDATE outbox SET claim = NULL, "
	    "claimed_until = 0 WHERE claim = ? AND state = 'queued'");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, owner);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : store_err(s, "outbox release");
}

int
store_outbox_list(struct store *s, int64_t ticket_id, struct outbox_row **out,
    size_t *n)
{
	/* two statements: "?1 = 0 OR ticket_id = ?1" could not use the index */
	struct dbst *st = ticket_id ? store_stmt(s, "SELECT " OUTBOX_COLS
	    " FROM outbox WHERE ticket_id = ? ORDER BY id") :
	    store_stmt(s, "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id");

	if (st == NULL)
		return -1;
	if (ticket_id)
		db_bind_int64(st, 1, ticket_id);
	return outbox_rows(s, st, out, n);
}

int
store_outbox_mark(struct store *s, int64_t id, enum outbox_state state,
    int attempts, time_t next_try, const char *error)
{
	struct dbst *st = store_stmt(s, "UPDATE outbox SET state = ?, "
	    "attempts = ?, next_try = ?, last_error = ?, "
	    "sent = CASE WHEN ? = 'sent' THEN ? ELSE sent END, "
	    "claim = NULL, claimed_until = 0 WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, outbox_names[state]);
	db_bind_int(st, 2, attempts);
	db_bind_int64(st, 3, next_try);
	store_bind_text(st, 4, error);
	store_bind_text(st, 5, outbox_names[state]);
	db_bind_int64(st, 6, now_time());
	db_bind_int64(st, 7, id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, "outbox mark");
	return 0;
}

int
store_ticket_plan_set(struct store *s, int64_t id, const char *plan,
    const char *token)
{
	struct dbst *st = store_stmt(s, "INSERT INTO ticket_plans (ticket_id, "
	    "plan, token, at) VALUES (?, ?, ?, ?) ON CONFLICT (ticket_id) DO "
	    "UPDATE SET plan = excluded.plan, token = excluded.token, "
	    "at = excluded.at");
	int rc;

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	store_bind_text(st, 2, plan);
	store_bind_text(st, 3, token);
	db_bind_int64(st, 4, now_time());
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : store_err(s, "ticket plan");
}

int
store_ticket_plan_get(struct store *s, int64_t id, char **plan, char **token)
{
	struct dbst *st = store_stmt(s, "SELECT plan, token FROM ticket_plans "
	    "WHERE ticket_id = ?");
	int rc;

	*plan = *token = NULL;
	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*plan = store_col_text(st, 0);
		*token = store_col_text(st, 1);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "ticket plan");
}
