/*
 * db-sqlite.c - the statement layer (db.h) on SQLite, the embedded default.
 * The only file that includes sqlite3.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tfadesk.h"
#include "db.h"
#include "db-pg.h"

/* Each call goes to SQLite here or to the PostgreSQL backend (db-pg.c,
 * "pg_*", on its own connection and statement objects). */
struct db {
	enum db_kind kind;
	sqlite3 *h;
	struct pgconn *pg;
	int last_err;
	int (*fn)(void *, const void *, size_t, char *, size_t);
	void *fn_arg;
};

struct dbst {
	struct db *db;
	sqlite3_stmt *st;
	struct pgst *pg;
};

int
db_is_pg(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0;
}

struct db *
db_open_sqlite(const char *path, int flags)
{
	struct db *db = xcalloc(1, sizeof *db);
	int oflags;

	db->kind = DB_SQLITE;
	oflags = (flags & DB_RDONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE;
	if (flags & DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	/* URI: for ATTACH ... mode=ro (paths here are never "file:...") */
	if (sqlite3_open_v2(path, &db->h, oflags | SQLITE_OPEN_NOMUTEX |
	    SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", path,
		    db->h ? sqlite3_errmsg(db->h) : "cannot open");
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 1);
	return db;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->pg)
		pg_close(db->pg);
	if (db->h)
		sqlite3_close(db->h);
	free(db);
}

enum db_kind
db_kind(const struct db *db)
{
	return db->kind;
}

#define PG(db) ((db)->kind != DB_SQLITE)
#define PGST(st) ((st)->db->kind != DB_SQLITE)

struct db *
db_open_pg(const char *uri, const char *password)
{
	struct pgconn *c;
	struct db *db;

	if ((c = pg_connect(uri, password)) == NULL)
		return NULL;
	db = xcalloc(1, sizeof *db);
	db->kind = DB_PG;
	db->pg = c;
	return db;
}

struct dbst *
db_prepare(struct db *db, const char *sql)
{
	struct dbst *st;
	sqlite3_stmt *h;

	if (PG(db)) {
		struct pgst *p = pg_prepare(db->pg, sql);
		if (p == NULL)
			return NULL;
		st = xcalloc(1, sizeof *st);
		st->db = db;
		st->pg = p;
		return st;
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &h,
	    NULL) != SQLITE_OK) {
		db->last_err = sqlite3_extended_errcode(db->h);
		return NULL;
	}
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
	if (PGST(st))
		pg_finalize(st->pg);
	else
		sqlite3_finalize(st->st);
	free(st);
}

void
db_reset(struct dbst *st)
{
	if (PGST(st))
		pg_reset(st->pg);
	else
		sqlite3_reset(st->st);
}

void
db_clear(struct dbst *st)
{
	if (PGST(st))
		pg_clear(st->pg);
	else
		sqlite3_clear_bindings(st->st);
}

int
db_bind_int(struct dbst *st, int idx, int v)
{
	if (PGST(st))
		return pg_bind(st->pg, idx, B_INT, NULL, 0, v);
	return sqlite3_bind_int(st->st, idx, v);
}

int
db_bind_int64(struct dbst *st, int idx, int64_t v)
{
	if (PGST(st))
		return pg_bind(st->pg, idx, B_INT, NULL, 0, v);
	return sqlite3_bind_int64(st->st, idx, v);
}

int
db_bind_text(struct dbst *st, int idx, const char *v)
{
	if (PGST(st))
		return pg_bind(st->pg, idx, v ? B_TEXT : B_NULL, v,
		    v ? strlen(v) : 0, 0);
	if (v == NULL)
		return sqlite3_bind_null(st->st, idx);
	return sqlite3_bind_text(st->st, idx, v, -1, SQLITE_STATIC);
}

int
db_bind_blob(struct dbst *st, int idx, const void *v, size_t len)
{
	if (PGST(st))
		return pg_bind(st->pg, idx, B_BLOB, v ? v : "", len, 0);
	return sqlite3_bind_blob64(st->st, idx, v ? v : "", len,
	    SQLITE_STATIC);
}

int
db_bind_null(struct dbst *st, int idx)
{
	if (PGST(st))
		return pg_bind(st->pg, idx, B_NULL, NULL, 0, 0);
	return sqlite3_bind_null(st->st, idx);
}

int
db_step(struct dbst *st)
{
	int rc;

	if (PGST(st))
		return pg_step(st->pg);
	rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	st->db->last_err = sqlite3_extended_errcode(st->db->h);
	return DB_ERROR;
}

int
db_col_null(struct dbst *st, int col)
{
	if (PGST(st))
		return pg_col_null(st->pg, col);
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int
db_col_int(struct dbst *st, int col)
{
	if (PGST(st))
		return (int)pg_col_int64(st->pg, col);
	return sqlite3_column_int(st->st, col);
}

int64_t
db_col_int64(struct dbst *st, int col)
{
	if (PGST(st))
		return pg_col_int64(st->pg, col);
	return sqlite3_column_int64(st->st, col);
}

const char *
db_col_text(struct dbst *st, int col)
{
	if (PGST(st))
		return pg_col_text(st->pg, col);
	return (const char *)sqlite3_column_text(st->st, col);
}

const void *
db_col_blob(struct dbst *st, int col)
{
	if (PGST(st))
		return pg_col_blob(st->pg, col);
	return sqlite3_column_blob(st->st, col);
}

size_t
db_col_bytes(struct dbst *st, int col)
{
	if (PGST(st))
		return pg_col_bytes(st->pg, col);
	return (size_t)sqlite3_column_bytes(st->st, col);
}

int
db_exec(struct db *db, const char *sql)
{
	if (PG(db))
		return pg_exec(db->pg, sql);
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		db->last_err = sqlite3_extended_errcode(db->h);
		return -1;
	}
	return 0;
}

int64_t
db_last_id(struct db *db)
{
	if (PG(db))
		return pg_last_id(db->pg);
	return sqlite3_last_insert_rowid(db->h);
}

int64_t
db_changes(struct db *db)
{
	if (PG(db))
		return pg_changes(db->pg);
	return sqlite3_changes(db->h);
}

const char *
db_errmsg(struct db *db)
{
	if (PG(db))
		return pg_errmsg(db->pg);
	return sqlite3_errmsg(db->h);
}

int
db_err_full(struct db *db)
{
	if (PG(db))
		return pg_err_full(db->pg);
	return (db->last_err & 0xff) == SQLITE_FULL;
}

int
db_err_busy(struct db *db)
{
	if (PG(db))
		return pg_err_busy(db->pg);
	return (db->last_err & 0xff) == SQLITE_BUSY ||
	    (db->last_err & 0xff) == SQLITE_LOCKED;
}

int
db_in_tx(struct db *db)
{
	if (PG(db))
		return pg_in_tx(db->pg);
	return !sqlite3_get_autocommit(db->h);
}

const char *
db_begin_sql(struct db *db)
{
	/* SQLite: take the write lock now, not at the first write (a
	 * reader upgraded later could fail with SQLITE_BUSY midway) */
	return PG(db) ? "BEGIN" : "BEGIN IMMEDIATE";
}

static void
sql_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct db *db = sqlite3_user_data(ctx);
	char out[256];
	const void *v;
	int n;

	(void)argc;
	v = sqlite3_value_blob(argv[0]);
	n = sqlite3_value_bytes(argv[0]);
	if (db->fn == NULL || db->fn(db->fn_arg, v ? v : "", (size_t)n, out,
	    sizeof out) == -1) {
		sqlite3_result_error(ctx, "no such function", -1);
		return;
	}
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

int
db_sqlite_function(struct db *db, const char *name,
    int (*fn)(void *, const void *, size_t, char *, size_t), void *arg)
{
	if (PG(db))
		return -1;
	db->fn = fn;
	db->fn_arg = arg;
	if (sqlite3_create_function(db->h, name, 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, db, sql_fn, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

/*
 * The verifier's connection commits with synchronous=NORMAL: in WAL mode a
 * commit is still atomic and survives a crash of the process, but the last
 * commits before a power loss may be rolled back. For the verifier that
 * means at worst an attempt counter or a "used" mark of the last moment
 * (codes expire within ttl_seconds anyway); it buys an fsync per check.
 */
int
db_sqlite_tune(struct db *db, int serving)
{
	if (PG(db))
		return -1;
	if (db_exec(db, "PRAGMA synchronous = NORMAL") == -1)
		return -1;
	/* serve: the checkpoints (and their fsync) run in a thread of their
	 * own (verifier_checkpoint), not in whichever request commits the
	 * 1000th page */
	if (serving && sqlite3_wal_autocheckpoint(db->h, 0) != SQLITE_OK)
		return -1;
	/* reads of the database file through the page cache of the kernel,
	 * without a copy per page */
	if (serving && db_exec(db, "PRAGMA mmap_size = 268435456") == -1)
		return -1;
	return 0;
}

/* Copies what it can of the WAL into the database without waiting for
 * anybody (PASSIVE); *frames: the WAL's length in frames, *copied: how
 * many of them are in the database now. */
int
db_sqlite_checkpoint(struct db *db, int *frames, int *copied)
{
	int nlog = 0, nckpt = 0, rc;

	if (PG(db))
		return -1;
	rc = sqlite3_wal_checkpoint_v2(db->h, "main",
	    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		db->last_err = rc;
		return -1;
	}
	if (frames)
		*frames = nlog;
	if (copied)
		*copied = nckpt;
	return 0;
}

/* Flushes this connection's database and WAL files to disk, so that the
 * fsyncs of the next checkpoint find little left to do. Through SQLite's
 * own file objects: a descriptor of our own on the database, once closed,
 * would drop every POSIX lock this process holds on it. */
int
db_sqlite_presync(struct db *db)
{
	sqlite3_file *f = NULL;

	if (PG(db))
		return -1;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_FILE_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	f = NULL;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	return 0;
}
