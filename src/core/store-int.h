/*
 * store-int.h - inside the store: only store*.c and src/verify/vstore.c.
 * A struct store is one database connection (SQLite or PostgreSQL, see
 * db.h); it is not shared between threads (open one per thread).
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <time.h>

#include "db.h"

#include "store.h"

struct stmt_cache {
	const char *sql;      /* a string literal: the key is its address */
	struct dbst *st;
};

/* SQL in two dialects: the text for this store's backend. Both are
 * string literals (store_stmt caches by address). */
#define DB_SQL(s, sqlite, pg) (db_kind((s)->db) == DB_PG ? (pg) : (sqlite))

struct store {
	struct db *db;
	char *path;
	int depth;            /* transaction nesting (savepoints inside) */
	int readonly;
	int sync_table;       /* db import made its temp.sync_seen table */
	int has_verifier;     /* verifier.database attached as "verifier" */
	int64_t audit_id;     /* the last audit row store_audit wrote */
	struct timespec tx_start;   /* the open write transaction's BEGIN */
	long tx_max_us, tx_n;       /* the longest write transaction, count */
	struct stmt_cache cache[96];
	size_t ncache;
	store_digest_fn digest;   /* for migration 2, see store_set_digest */
};

/* A prepared, reset statement for a string literal SQL, cached for the life
 * of the store. NULL on error (logged). */
struct dbst *store_stmt(struct store *, const char *sql);
/* Logs "store: WHAT: the database's message" and returns -1. */
int store_err(struct store *, const char *what);
/* Reading rows: RD fills one element (a struct of the caller's) from the
 * row at ST. ST has its parameters bound; it is reset after. */
typedef void (*store_read_fn)(struct dbst *, void *);
/* At most one row into OUT: 0 a row, 1 none, -1 an error (WHAT named). */
int store_row(struct store *, struct dbst *, store_read_fn, void *out,
    const char *what);
/* Every row, each into a zeroed element of SIZE bytes of an owned array
 * stored at *(T **)OUTP, N of them: 0, or -1 (WHAT named; the rows read
 * so far are still at *OUTP for the caller to free). */
int store_rows(struct store *, struct dbst *, store_read_fn, size_t size,
    void *outp, size_t *n, const char *what);
/* The columns "id, msgkey, source, received, kind, state, reason,
 * from_addr, subject, fields, results, account, assigned" (0-12) of the
 * row at ST into T, each text owned (store-ticket.c). */
void store_read_ticket(struct dbst *, struct ticket *);
/* Binds a string or NULL. */
int store_bind_text(struct dbst *, int idx, const char *);
/* 1 on PostgreSQL */
int store_is_pg(const struct store *);
/* An INSERT whose new id is wanted, prepared from its SQL as
 * STORE_INSERT_ID(s, SQL): PostgreSQL gives the id with RETURNING (no
 * round trip of its own); SQLite takes it from the rowid, because its
 * RETURNING builds a result table for every row. Steps ST once and
 * resets it: 0 and *ID (if ID), else -1 (the caller says what failed). */
#define STORE_INSERT_ID(s, sql) DB_SQL(s, sql, sql " RETURNING id")
int store_step_insert(struct store *, struct dbst *, int64_t *id);
/* Copies a text column or NULL. */
char *store_col_text(struct dbst *, int col);
/* SQLite: ATTACH PATH AS NAME, read-only unless RW (outside a
 * transaction). 0, or -1 logged. */
int store_attach(struct store *, const char *path, const char *name, int rw);
/* SQLite: the user_version of the attached database DB; -1 logged. */
int store_file_version(struct store *, const char *db);
/* Says what is wrong with schema version V of PATH (this build wants
 * WANT; INIT: the command that migrates): 0 fine, -1 logged. */
int store_version_ok(const char *path, int v, int want, const char *init);

#endif
