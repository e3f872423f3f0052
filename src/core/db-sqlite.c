/*
 * db-sqlite.c - the statement layer (db.h) on SQLite, the embedded default,
 * as a struct db_ops (db-int.h) for db.c. The only file that includes
 * sqlite3.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tfadesk.h"
#include "db.h"
#include "db-int.h"

/*
 * The transaction statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE) come once or twice a ticket and a check; sqlite3_exec() would
 * parse each of them again every time, about half of what they cost.
 * They are prepared once a connection and kept here, keyed by their text.
 */
#define XCACHE_N	8
#define XCACHE_SQL	40

struct sqlconn {
	sqlite3 *h;
	int last_err;
	int (*fn)(void *, const void *, size_t, char *, size_t);
	void *fn_arg;
	struct {
		char sql[XCACHE_SQL];
		sqlite3_stmt *st;
	} xc[XCACHE_N];
	unsigned xnext;         /* the slot reused next when all are taken */
};

struct sqlst {
	struct sqlconn *c;
	sqlite3_stmt *st;
};

static void
sq_close(void *conn)
{
	struct sqlconn *c = conn;

	if (c == NULL)
		return;
	for (size_t i = 0; i < XCACHE_N; i++)
		sqlite3_finalize(c->xc[i].st);
	if (c->h)
		sqlite3_close(c->h);
	free(c);
}

/*
 * Savepoints (one per ticket in a processing group, one per check in a
 * verifier group) keep the original of every page they change in a
 * sub-journal. SQLite holds it in memory up to 64 KiB, then spills it to
 * a temporary file, which it never truncates until the transaction ends:
 * a group of 80 tickets then wrote 55 pages a ticket through it. Held in
 * memory, it is emptied at each release. 4 MiB (a thousand pages) still
 * bounds one statement's journal; SQLite reads this setting only before
 * its first connection, hence once per process.
 */
#define SUBJOURNAL_SPILL	(4 << 20)

static void
sq_config(void)
{
	static int done;

	if (done++)
		return;
	if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, SUBJOURNAL_SPILL) !=
	    SQLITE_OK)
		log_debug("store: sub-journal spill size not set (SQLite "
		    "was already initialised)");
	/* Debian's SQLite has no lookaside: every small allocation is a
	 * malloc (120 a ticket), and with the memory statistics on, each
	 * also takes a global mutex to count itself. Nothing reads them. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void *
sqlite_connect(const char *path, int flags)
{
	struct sqlconn *c = xcalloc(1, sizeof *c);
	int oflags;

	sq_config();

	oflags = (flags & DB_RDONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE;
	if (flags & DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	/* URI: for ATTACH ... mode=ro (paths here are never "file:...") */
	if (sqlite3_open_v2(path, &c->h, oflags | SQLITE_OPEN_NOMUTEX |
	    SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", path,
		    c->h ? sqlite3_errmsg(c->h) : "cannot open");
		sq_close(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->h, 10000);
	sqlite3_extended_result_codes(c->h, 1);
	return c;
}

static void *
sq_prepare(void *conn, const char *sql)
{
	struct sqlconn *c = conn;
	struct sqlst *st;
	sqlite3_stmt *h;

	if (sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &h,
	    NULL) != SQLITE_OK) {
		c->last_err = sqlite3_extended_errcode(c->h);
		return NULL;
	}
	st = xcalloc(1, sizeof *st);
	st->c = c;
	st->st = h;
	return st;
}

static void
sq_finalize(void *p)
{
	struct sqlst *st = p;

	sqlite3_finalize(st->st);
	free(st);
}

static void
sq_reset(void *p)
{
	sqlite3_reset(((struct sqlst *)p)->st);
}

static void
sq_clear(void *p)
{
	sqlite3_clear_bindings(((struct sqlst *)p)->st);
}

/* texts and blobs are not copied (SQLITE_STATIC): db.h says they outlive
 * the statement's next reset */
static int
sq_bind(void *p, int idx, int kind, const void *v, size_t len, int64_t iv)
{
	sqlite3_stmt *st = ((struct sqlst *)p)->st;

	switch (kind) {
	case B_INT:
		return sqlite3_bind_int64(st, idx, iv);
	case B_TEXT:
		return sqlite3_bind_text64(st, idx, v, len, SQLITE_STATIC,
		    SQLITE_UTF8);
	case B_BLOB:
		return sqlite3_bind_blob64(st, idx, v, len, SQLITE_STATIC);
	default:
		return sqlite3_bind_null(st, idx);
	}
}

static int
sq_step(void *p)
{
	struct sqlst *st = p;
	int rc;

	rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	st->c->last_err = sqlite3_extended_errcode(st->c->h);
	return DB_ERROR;
}

static int
sq_col_null(void *p, int col)
{
	return sqlite3_column_type(((struct sqlst *)p)->st, col) ==
	    SQLITE_NULL;
}

static int64_t
sq_col_int64(void *p, int col)
{
	return sqlite3_column_int64(((struct sqlst *)p)->st, col);
}

static const char *
sq_col_text(void *p, int col)
{
	return (const char *)sqlite3_column_text(((struct sqlst *)p)->st, col);
}

static const void *
sq_col_blob(void *p, int col)
{
	return sqlite3_column_blob(((struct sqlst *)p)->st, col);
}

static size_t
sq_col_bytes(void *p, int col)
{
	return (size_t)sqlite3_column_bytes(((struct sqlst *)p)->st, col);
}

/* Is SQL one of the transaction statements worth keeping prepared? */
static int
xcache_wanted(const char *sql)
{
	static const char *const kw[] = {
		"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT ", "RELEASE ",
	};

	if (strlen(sql) >= XCACHE_SQL || strchr(sql, ';') != NULL)
		return 0;
	for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
		if (strncmp(sql, kw[i], strlen(kw[i])) == 0)
			return 1;
	return 0;
}

/* SQL's kept statement, prepared now if need be; NULL: not kept (not one
 * of those statements) or not preparable (sqlite3_exec says why). */
static sqlite3_stmt *
xcache_get(struct sqlconn *c, const char *sql)
{
	sqlite3_stmt *h;
	size_t i;

	if (!xcache_wanted(sql))
		return NULL;
	for (i = 0; i < XCACHE_N; i++)
		if (c->xc[i].st && strcmp(c->xc[i].sql, sql) == 0)
			return c->xc[i].st;
	if (sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &h,
	    NULL) != SQLITE_OK)
		return NULL;
	for (i = 0; i < XCACHE_N && c->xc[i].st; i++)
		;
	if (i == XCACHE_N) {
		i = c->xnext++ % XCACHE_N;
		sqlite3_finalize(c->xc[i].st);
	}
	snprintf(c->xc[i].sql, sizeof c->xc[i].sql, "%s", sql);
	c->xc[i].st = h;
	return h;
}

static int
sq_exec(void *conn, const char *sql)
{
	struct sqlconn *c = conn;
	sqlite3_stmt *h;
	int rc;

	if ((h = xcache_get(c, sql)) != NULL) {
		while ((rc = sqlite3_step(h)) == SQLITE_ROW)
			;
		/* the error, if any, is the connection's until the reset */
		if (rc != SQLITE_DONE)
			c->last_err = sqlite3_extended_errcode(c->h);
		sqlite3_reset(h);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	if (sqlite3_exec(c->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		c->last_err = sqlite3_extended_errcode(c->h);
		return -1;
	}
	return 0;
}

static int64_t
sq_changes(void *conn)
{
	return sqlite3_changes(((struct sqlconn *)conn)->h);
}

static const char *
sq_errmsg(void *conn)
{
	return sqlite3_errmsg(((struct sqlconn *)conn)->h);
}

static int
sq_err_full(void *conn)
{
	return (((struct sqlconn *)conn)->last_err & 0xff) == SQLITE_FULL;
}

static int
sq_err_busy(void *conn)
{
	int e = ((struct sqlconn *)conn)->last_err & 0xff;

	return e == SQLITE_BUSY || e == SQLITE_LOCKED;
}

static int
sq_in_tx(void *conn)
{
	return !sqlite3_get_autocommit(((struct sqlconn *)conn)->h);
}

const struct db_ops db_sqlite_ops = {
	.close = sq_close,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.reset = sq_reset,
	.clear = sq_clear,
	.bind = sq_bind,
	.step = sq_step,
	.col_null = sq_col_null,
	.col_int64 = sq_col_int64,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.col_bytes = sq_col_bytes,
	.exec = sq_exec,
	.changes = sq_changes,
	.errmsg = sq_errmsg,
	.err_full = sq_err_full,
	.err_busy = sq_err_busy,
	.in_tx = sq_in_tx,
	/* take the write lock now, not at the first write (a reader
	 * upgraded later could fail with SQLITE_BUSY midway) */
	.begin_sql = "BEGIN IMMEDIATE",
};

static void
sql_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sqlconn *db = sqlite3_user_data(ctx);
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
sqlite_function(void *conn, const char *name,
    int (*fn)(void *, const void *, size_t, char *, size_t), void *arg)
{
	struct sqlconn *db = conn;

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
sqlite_tune(void *conn, int serving)
{
	struct sqlconn *db = conn;

	if (sq_exec(db, "PRAGMA synchronous = NORMAL") == -1)
		return -1;
	/* serve: the checkpoints (and their fsync) run in a thread of their
	 * own (verifier_checkpoint), not in whichever request commits the
	 * 1000th page */
	if (serving && sqlite3_wal_autocheckpoint(db->h, 0) != SQLITE_OK)
		return -1;
	/* reads of the database file through the page cache of the kernel,
	 * without a copy per page */
	if (serving && sq_exec(db, "PRAGMA mmap_size = 268435456") == -1)
		return -1;
	return 0;
}

/* Copies what it can of the WAL into the database without waiting for
 * anybody (PASSIVE); *frames: the WAL's length in frames, *copied: how
 * many of them are in the database now. */
int
sqlite_checkpoint(void *conn, int *frames, int *copied)
{
	struct sqlconn *db = conn;
	int nlog = 0, nckpt = 0, rc;

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
sqlite_presync(void *conn)
{
	struct sqlconn *db = conn;
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_FILE_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	f = NULL;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	return 0;
}

int64_t
sqlite_rowid(void *conn)
{
	return sqlite3_last_insert_rowid(((struct sqlconn *)conn)->h);
}
