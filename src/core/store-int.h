/*
 * store-int.h - inside the store: only store*.c and src/verify/vstore.c.
 * A struct store is one SQLite connection; it is not shared between
 * threads (open one per thread).
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <time.h>

#include <sqlite3.h>

#include "store.h"

struct stmt_cache {
	const char *sql;      /* a string literal: the key is its address */
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	char *path;
	int depth;            /* transaction nesting (savepoints inside) */
	int readonly;
	int sync_table;       /* db import made its temp.sync_seen table */
	int has_verifier;     /* verifier.database attached as "verifier" */
	struct timespec tx_start;   /* the open write transaction's BEGIN */
	long tx_max_us, tx_n;       /* the longest write transaction, count */
	int last_err;         /* sqlite's code of the last failure logged */
	struct stmt_cache cache[96];
	size_t ncache;
	store_digest_fn digest;   /* for migration 2, see store_set_digest */
};

/* A prepared, reset statement for a string literal SQL, cached for the life
 * of the store. NULL on error (logged). */
sqlite3_stmt *store_stmt(struct store *, const char *sql);
/* Logs "store: WHAT: sqlite's message" and returns -1. */
int store_err(struct store *, const char *what);
/* Binds a string or NULL. */
int store_bind_text(sqlite3_stmt *, int idx, const char *);
/* Copies a text column or NULL. */
char *store_col_text(sqlite3_stmt *, int col);

#endif
