/*
 * db.h - the statement layer under the store: one interface, two backends.
 * db.c dispatches each call through the connection's struct db_ops
 * (db-int.h), which db-sqlite.c (the embedded default) and db-pg.c
 * (PostgreSQL through libpq) fill; sqlite3.h is included by db-sqlite.c
 * only, libpq-fe.h by db-pg.c only. Only the store (store*.c, src/verify/vstore.c) uses it.
 *
 * SQL is written once, with "?" or "?N" placeholders, in the dialect both
 * accept (ON CONFLICT ... DO NOTHING, no INSERT OR IGNORE, no strftime:
 * times come from C). Where the dialects part, the caller picks the text
 * with db_kind() (see DB_SQL in store-int.h).
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

enum db_kind { DB_SQLITE, DB_PG };

/* db_step */
#define DB_ERROR (-1)
#define DB_DONE 0
#define DB_ROW 1

/* db_open flags */
#define DB_RDONLY 0x1
#define DB_CREATE 0x2

struct db;
struct dbst;

/* 1 when DATABASE names a PostgreSQL server (postgresql:// or
 * postgres://), 0 when it is a file path. */
int db_is_pg(const char *database);

/* NULL on error (logged: "store: WHAT: why"). */
struct db *db_open_sqlite(const char *path, int flags);
/* PASSWORD may be NULL; it is never logged. */
struct db *db_open_pg(const char *uri, const char *password);
void db_close(struct db *);
enum db_kind db_kind(const struct db *);

/* A statement; not cached here (store_stmt caches). NULL on error, with
 * db_errmsg set. */
struct dbst *db_prepare(struct db *, const char *sql);
void db_finalize(struct dbst *);
/* Back to before its first step; bindings stay (db_clear drops them). */
void db_reset(struct dbst *);
void db_clear(struct dbst *);

/* Bindings are copied or must outlive the statement's next reset
 * (blobs and texts are not copied on SQLite: SQLITE_STATIC). */
int db_bind_int(struct dbst *, int idx, int);
int db_bind_int64(struct dbst *, int idx, int64_t);
int db_bind_text(struct dbst *, int idx, const char *);  /* NULL: null */
int db_bind_blob(struct dbst *, int idx, const void *, size_t);
int db_bind_null(struct dbst *, int idx);

/* DB_ROW, DB_DONE or DB_ERROR (db_errmsg says why). */
int db_step(struct dbst *);

int db_col_null(struct dbst *, int col);
int db_col_int(struct dbst *, int col);        /* booleans: 0/1 */
int64_t db_col_int64(struct dbst *, int col);
const char *db_col_text(struct dbst *, int col);   /* NULL: null */
const void *db_col_blob(struct dbst *, int col);
size_t db_col_bytes(struct dbst *, int col);

/* Runs SQL without parameters (several statements allowed). */
int db_exec(struct db *, const char *sql);
/* Rows changed by the last INSERT, UPDATE or DELETE. */
int64_t db_changes(struct db *);
const char *db_errmsg(struct db *);
/* Classes of the last error. */
int db_err_full(struct db *);      /* disk or database full */
int db_err_busy(struct db *);      /* locked, busy, serialization failure */
/* 1 inside a transaction the server still holds open */
int db_in_tx(struct db *);
/* The backend's begin of a write transaction. */
const char *db_begin_sql(struct db *);

/* SQLite only: each returns -1 on PostgreSQL without doing anything. */
/* SQL function NAME(blob) -> text through FN (a migration's helper). */
int db_sqlite_function(struct db *, const char *name,
    int (*fn)(void *arg, const void *, size_t, char *out, size_t outlen),
    void *arg);
/* The verifier's tuning (synchronous=NORMAL; serving: checkpoints by
 * hand, mmap), a PASSIVE checkpoint, an fsync of the files. */
int db_sqlite_tune(struct db *, int serving);
int db_sqlite_checkpoint(struct db *, int *frames, int *copied);
int db_sqlite_presync(struct db *);
/* The rowid of this connection's last INSERT (-1 on PostgreSQL: there an
 * INSERT asks for its id with RETURNING, which SQLite pays for with a
 * result table of its own, a few us: see store_audit). */
int64_t db_sqlite_rowid(struct db *);

#endif
