/*
 * db-int.h - between db.c (the dispatch of db.h) and the two backends:
 * each backend fills a struct db_ops; db.c calls through it on the
 * backend's own connection and statement objects. Nothing but db.c,
 * db-sqlite.c and db-pg.c includes this file.
 */
#ifndef DB_INT_H
#define DB_INT_H

#include <stddef.h>
#include <stdint.h>

/* bind's kinds */
#define B_NULL 0
#define B_INT 1
#define B_TEXT 2
#define B_BLOB 3

struct db_ops {
	void (*close)(void *conn);
	/* NULL on error, with errmsg set */
	void *(*prepare)(void *conn, const char *sql);
	void (*finalize)(void *st);
	void (*reset)(void *st);
	void (*clear)(void *st);
	/* texts and blobs: V, LEN; integers: IV */
	int (*bind)(void *st, int idx, int kind, const void *v, size_t len,
	    int64_t iv);
	int (*step)(void *st);                  /* DB_ROW, DB_DONE, DB_ERROR */
	int (*col_null)(void *st, int col);
	int64_t (*col_int64)(void *st, int col);
	const char *(*col_text)(void *st, int col);
	const void *(*col_blob)(void *st, int col);
	size_t (*col_bytes)(void *st, int col);
	int (*exec)(void *conn, const char *sql);
	int64_t (*changes)(void *conn);
	const char *(*errmsg)(void *conn);
	int (*err_full)(void *conn);
	int (*err_busy)(void *conn);
	int (*in_tx)(void *conn);
	const char *begin_sql;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* The backends' connections; NULL on error (logged). */
void *sqlite_connect(const char *path, int flags);
void *pg_connect(const char *uri, const char *password);

/* SQLite's own (db.h: db_sqlite_*), on a connection of sqlite_connect */
int sqlite_function(void *conn, const char *name,
    int (*fn)(void *, const void *, size_t, char *, size_t), void *arg);
int sqlite_tune(void *conn, int serving);
int sqlite_checkpoint(void *conn, int *frames, int *copied);
int sqlite_presync(void *conn);
int64_t sqlite_rowid(void *conn);

#endif
