/*
 * db-pg.h - the PostgreSQL backend's entry points, called by the dispatch
 * in db-sqlite.c only (db.h is the interface).
 */
#ifndef DB_PG_H
#define DB_PG_H

struct pgconn;
struct pgst;

/* pg_bind's kinds */
#define B_NULL 0
#define B_INT 1
#define B_TEXT 2
#define B_BLOB 3

struct pgconn *pg_connect(const char *uri, const char *password);
void pg_close(struct pgconn *);
struct pgst *pg_prepare(struct pgconn *, const char *);
void pg_finalize(struct pgst *);
void pg_reset(struct pgst *);
void pg_clear(struct pgst *);
int pg_bind(struct pgst *, int idx, int kind, const void *, size_t,
    int64_t);
int pg_step(struct pgst *);
int pg_col_null(struct pgst *, int);
int64_t pg_col_int64(struct pgst *, int);
const char *pg_col_text(struct pgst *, int);
const void *pg_col_blob(struct pgst *, int);
size_t pg_col_bytes(struct pgst *, int);
int pg_exec(struct pgconn *, const char *);
int64_t pg_last_id(struct pgconn *);
int64_t pg_changes(struct pgconn *);
const char *pg_errmsg(struct pgconn *);
int pg_err_full(struct pgconn *);
int pg_err_busy(struct pgconn *);
int pg_in_tx(struct pgconn *);

#endif
