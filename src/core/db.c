/*
 * db.c - the statement layer (db.h): each call goes through the ops of
 * the connection's backend (db-int.h), db-sqlite.c or db-pg.c. No
 * backend's header is included here.
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "db.h"
#include "db-int.h"
#include "utf8.h"

struct db {
	enum db_kind kind;
	const struct db_ops *ops;
	void *c;
};

struct dbst {
	struct db *db;
	void *st;
	char **own;    /* [nown]: the scrubbed copies bound, by index */
	int nown;
};

static void
own_free(struct dbst *st)
{
	for (int i = 0; i < st->nown; i++)
		free(st->own[i]);
	free(st->own);
	st->own = NULL;
	st->nown = 0;
}

int
db_is_pg(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0;
}

static struct db *
db_new(enum db_kind kind, const struct db_ops *ops, void *c)
{
	struct db *db;

	if (c == NULL)
		return NULL;
	db = xcalloc(1, sizeof *db);
	db->kind = kind;
	db->ops = ops;
	db->c = c;
	return db;
}

struct db *
db_open_sqlite(const char *path, int flags)
{
	return db_new(DB_SQLITE, &db_sqlite_ops, sqlite_connect(path, flags));
}

struct db *
db_open_pg(const char *uri, const char *password)
{
	return db_new(DB_PG, &db_pg_ops, pg_connect(uri, password));
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db->ops->close(db->c);
	free(db);
}

enum db_kind
db_kind(const struct db *db)
{
	return db->kind;
}

struct dbst *
db_prepare(struct db *db, const char *sql)
{
	struct dbst *st;
	void *h;

	if ((h = db->ops->prepare(db->c, sql)) == NULL)
		return NULL;
	st = xcalloc(1, sizeof *st);
	st->db = db;
	st->st = h;
	return st;
}

void
db_finalize(struct dbst *st)
{
	if (st == NULL)
		return;
	st->db->ops->finalize(st->st);
	own_free(st);
	free(st);
}

void
db_reset(struct dbst *st)
{
	st->db->ops->reset(st->st);
}

void
db_clear(struct dbst *st)
{
	st->db->ops->clear(st->st);
	own_free(st);
}

int
db_bind_int(struct dbst *st, int idx, int v)
{
	return st->db->ops->bind(st->st, idx, B_INT, NULL, 0, v);
}

int
db_bind_int64(struct dbst *st, int idx, int64_t v)
{
	return st->db->ops->bind(st->st, idx, B_INT, NULL, 0, v);
}

/*
 * A text column holds valid UTF-8 on both backends: PostgreSQL refuses
 * anything else, and a write that fails on hostile bytes (a maildir file
 * name, a header, a form field) would block fetch or lose the message.
 * So each byte that is not UTF-8 is bound as U+FFFD, here, whatever the
 * caller; raw bytes that must stay whole are blobs (db_bind_blob).
 */
int
db_bind_text(struct dbst *st, int idx, const char *v)
{
	size_t n;
	char *c, *old = NULL;
	int rc;

	if (v == NULL)
		return st->db->ops->bind(st->st, idx, B_NULL, NULL, 0, 0);
	n = strlen(v);
	if (utf8_valid(v, n) || idx < 1 || idx > 32766)
		return st->db->ops->bind(st->st, idx, B_TEXT, v, n, 0);
	if ((c = utf8_scrub(v, n)) == NULL)
		fatalx("db: out of memory");
	if (idx > st->nown) {
		st->own = xreallocarray(st->own, (size_t)idx, sizeof *st->own);
		memset(st->own + st->nown, 0, (size_t)(idx - st->nown) *
		    sizeof *st->own);
		st->nown = idx;
	}
	old = st->own[idx - 1];
	st->own[idx - 1] = c;
	rc = st->db->ops->bind(st->st, idx, B_TEXT, c, strlen(c), 0);
	free(old);
	return rc;
}

int
db_bind_blob(struct dbst *st, int idx, const void *v, size_t len)
{
	return st->db->ops->bind(st->st, idx, B_BLOB, v ? v : "", len, 0);
}

int
db_bind_null(struct dbst *st, int idx)
{
	return st->db->ops->bind(st->st, idx, B_NULL, NULL, 0, 0);
}

int
db_step(struct dbst *st)
{
	return st->db->ops->step(st->st);
}

int
db_col_null(struct dbst *st, int col)
{
	return st->db->ops->col_null(st->st, col);
}

int
db_col_int(struct dbst *st, int col)
{
	return (int)st->db->ops->col_int64(st->st, col);
}

int64_t
db_col_int64(struct dbst *st, int col)
{
	return st->db->ops->col_int64(st->st, col);
}

const char *
db_col_text(struct dbst *st, int col)
{
	return st->db->ops->col_text(st->st, col);
}

const void *
db_col_blob(struct dbst *st, int col)
{
	return st->db->ops->col_blob(st->st, col);
}

size_t
db_col_bytes(struct dbst *st, int col)
{
	return st->db->ops->col_bytes(st->st, col);
}

int
db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db->c, sql);
}

int64_t
db_changes(struct db *db)
{
	return db->ops->changes(db->c);
}

const char *
db_errmsg(struct db *db)
{
	return db->ops->errmsg(db->c);
}

int
db_err_full(struct db *db)
{
	return db->ops->err_full(db->c);
}

int
db_err_busy(struct db *db)
{
	return db->ops->err_busy(db->c);
}

int
db_in_tx(struct db *db)
{
	return db->ops->in_tx(db->c);
}

const char *
db_begin_sql(struct db *db)
{
	return db->ops->begin_sql;
}

int
db_sqlite_function(struct db *db, const char *name,
    int (*fn)(void *, const void *, size_t, char *, size_t), void *arg)
{
	if (db->kind != DB_SQLITE)
		return -1;
	return sqlite_function(db->c, name, fn, arg);
}

int
db_sqlite_tune(struct db *db, int serving)
{
	if (db->kind != DB_SQLITE)
		return -1;
	return sqlite_tune(db->c, serving);
}

int
db_sqlite_checkpoint(struct db *db, int *frames, int *copied)
{
	if (db->kind != DB_SQLITE)
		return -1;
	return sqlite_checkpoint(db->c, frames, copied);
}

int
db_sqlite_presync(struct db *db)
{
	if (db->kind != DB_SQLITE)
		return -1;
	return sqlite_presync(db->c);
}

int64_t
db_sqlite_rowid(struct db *db)
{
	if (db->kind != DB_SQLITE)
		return -1;
	return sqlite_rowid(db->c);
}
