/*
 * store-copy.c - tfadesk db copy: a deployment's every table from one
 * database to another (SQLite to PostgreSQL and back), in one transaction
 * on the target, verified before it commits.
 *
 * The tables are listed here with their columns (a schema step that adds
 * a table or a column adds it here too; t_db_copy compares every table).
 * Each table is read in primary-key order (texts in byte order on both
 * backends: COLLATE BINARY, COLLATE "C") and each row is put in a
 * canonical text form (per column: n, or i<decimal>;, or t<length>:<bytes>,
 * or b<length>:<bytes>; a newline ends the row) hashed with BLAKE2b
 * (crypto_generichash, 32 bytes): the same reader for the source and for
 * the target read back inside the transaction. Any difference in a row
 * count or a checksum rolls the target back.
 *
 * The audit log: on SQLite the verifier's rows are in verifier.database's
 * own audit table (ids of its own), on PostgreSQL in the one audit table.
 * SQLite to PostgreSQL, the two logs become one, numbered in the order
 * `tfadesk audit` shows them (time, the main file first within a second,
 * id); PostgreSQL to SQLite, the rows whose actor is "verifier" go to the
 * verifier's file, the others to the main file, their ids kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store-int.h"

#define NCOLS 16
#define VERIFIER_ACTOR "verifier"   /* src/verify/verifier.c ACTOR */

struct ctab {
	const char *name;
	int verifier;             /* SQLite: in verifier.database */
	const char *cols[NCOLS + 1];
	const char *types;        /* per column: i integer, t text, b blob */
	const char *key;          /* primary key: column indexes, "01" */
	int ident;                /* PostgreSQL: column 0 is an identity */
	const char *insert_order; /* SQL, when foreign keys need one */
};

/* In an order the foreign keys accept (parents first). */
static const struct ctab tabs[] = {
	{ "accounts", 0, { "id", "kind", "reseller", "name", "twofa",
	    "imported_twofa" }, "ttttii", "0", 0,
	    /* resellers before their end clients */
	    "reseller IS NOT NULL, id" },
	{ "users", 0, { "id", "account", "name", "phone", "imported_phone" },
	    "ttttt", "0", 0, NULL },
	{ "contacts", 0, { "reseller", "addr", "display" }, "ttt", "01", 0,
	    NULL },
	{ "permissions", 0, { "account", "perm" }, "tt", "01", 0, NULL },
	{ "tickets", 0, { "id", "msgkey", "digest", "source",
	    "received", "kind", "state", "reason", "from_addr", "subject",
	    "fields", "results", "account", "updated", "assigned", "refused" },
	    "itttittttttttiti", "0", 1, NULL },
	{ "ticket_raw", 0, { "ticket_id", "raw" }, "ib", "0", 0, NULL },
	{ "ticket_sources", 0, { "source_key", "ticket_id", "at" }, "tii",
	    "0", 0, NULL },
	{ "ticket_plans", 0, { "ticket_id", "plan", "token", "at" }, "itti",
	    "0", 0, NULL },
	{ "audit", 0, { "id", "at", "actor", "action", "account", "\"user\"",
	    "old", "new", "ticket_id", "note" }, "itttttttit", "0", 1, NULL },
	{ "outbox", 0, { "id", "ticket_id", "msgid", "mail_from", "rcpt",
	    "message", "state", "attempts", "next_try", "last_error",
	    "created", "sent", "claim", "claimed_until" },
	    "iitttbtiitiiti", "0", 1, NULL },
	{ "kv", 0, { "key", "value" }, "tt", "0", 0, NULL },
	{ "staff", 0, { "name", "phone", "pwhash", "disabled", "created" },
	    "tttii", "0", 0, NULL },
	{ "desk_sessions", 0, { "token_hash", "staff", "csrf", "verified",
	    "created", "last_seen" }, "bttiii", "0", 0, NULL },
	{ "desk_failures", 0, { "key", "at" }, "ti", "01", 0, NULL },
	{ "challenges", 1, { "user_id", "dest", "code_hash", "created_at",
	    "expires_at", "attempts", "state" }, "ttbiiit", "0", 0, NULL },
	{ "sms_log", 1, { "id", "user_id", "dest", "at", "status" }, "ittit",
	    "0", 1, NULL },
	{ "heartbeat", 1, { "id", "at" }, "ii", "0", 0, NULL },
};
#define NTABS (sizeof tabs / sizeof tabs[0])

static int
ncols(const struct ctab *t)
{
	return (int)strlen(t->types);
}

/* "a, b, c" (PREFIX before each: "x.") */
static void
add_cols(struct buf *b, const struct ctab *t, const char *prefix)
{
	for (int i = 0; i < ncols(t); i++)
		buf_addf(b, "%s%s%s", i ? ", " : "", prefix, t->cols[i]);
}

/* ORDER BY the primary key, texts in byte order on either backend */
static void
add_key_order(struct buf *b, struct store *s, const struct ctab *t)
{
	buf_adds(b, " ORDER BY ");
	for (const char *k = t->key; *k; k++) {
		int c = *k - '0';
		buf_addf(b, "%s%s%s", k == t->key ? "" : ", ", t->cols[c],
		    t->types[c] != 't' ? "" : store_is_pg(s) ?
		    " COLLATE \"C\"" : " COLLATE BINARY");
	}
}

/* The table as SQL: "accounts", "main.accounts", "verifier.sms_log" */
static const char *
where(struct store *s, const struct ctab *t)
{
	if (store_is_pg(s))
		return "";
	return t->verifier ? "verifier." : "main.";
}

/*
 * The SELECT that reads table T of S: in primary-key order, or (INSERTING)
 * in the order the target's foreign keys need. SOURCE: the source's
 * reading of the audit log (SQLite: both logs as one, renumbered); the
 * target reads its own rows back as they are.
 */
static char *
select_sql(struct store *s, const struct ctab *t, int source, int inserting)
{
	struct buf b;

	buf_init(&b);
	if (strcmp(t->name, "audit") == 0 && !store_is_pg(s)) {
		if (source) {
			/* as tfadesk audit orders them (store-account.c) */
			buf_adds(&b, "SELECT row_number() OVER (ORDER BY at "
			    "COLLATE BINARY, src, id)");
			for (int i = 1; i < ncols(t); i++)
				buf_addf(&b, ", %s", t->cols[i]);
			buf_adds(&b, " FROM (SELECT 0 AS src, ");
			add_cols(&b, t, "");
			buf_adds(&b, " FROM main.audit UNION ALL SELECT 1, ");
			add_cols(&b, t, "");
			buf_adds(&b, " FROM verifier.audit) ORDER BY at COLLATE "
			    "BINARY, src, id");
		} else {
			buf_adds(&b, "SELECT * FROM (SELECT ");
			add_cols(&b, t, "");
			buf_adds(&b, " FROM main.audit UNION ALL SELECT ");
			add_cols(&b, t, "");
			buf_adds(&b, " FROM verifier.audit) ORDER BY id");
		}
		return b.s;
	}
	buf_adds(&b, "SELECT ");
	add_cols(&b, t, "");
	buf_addf(&b, " FROM %s%s", where(s, t), t->name);
	if (inserting && t->insert_order)
		buf_addf(&b, " ORDER BY %s", t->insert_order);
	else
		add_key_order(&b, s, t);
	return b.s;
}

static struct dbst *
prepare(struct store *s, const char *sql, const char *what)
{
	struct dbst *st = db_prepare(s->db, sql);

	if (st == NULL)
		log_warnx("store: %s: %s: %s", s->path, what, db_errmsg(s->db));
	return st;
}

/* Rows and checksum of table T as S holds it (see the top). */
static int
table_sum(struct store *s, const struct ctab *t, int source, int64_t *rows,
    unsigned char sum[STORE_COPY_SUM])
{
	crypto_generichash_state h;
	struct dbst *st;
	char *sql = select_sql(s, t, source, 0);
	char num[32];
	int rc, n = ncols(t);

	st = prepare(s, sql, t->name);
	free(sql);
	if (st == NULL)
		return -1;
	crypto_generichash_init(&h, NULL, 0, STORE_COPY_SUM);
	*rows = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		for (int i = 0; i < n; i++) {
			const void *v;
			size_t len;
			if (db_col_null(st, i)) {
				crypto_generichash_update(&h,
				    (const unsigned char *)"n", 1);
				continue;
			}
			if (t->types[i] == 'i') {
				len = (size_t)snprintf(num, sizeof num,
				    "i%lld;", (long long)db_col_int64(st, i));
				crypto_generichash_update(&h,
				    (unsigned char *)num, len);
				continue;
			}
			if (t->types[i] == 't') {
				v = db_col_text(st, i);
				len = v ? strlen(v) : 0;
			} else {
				v = db_col_blob(st, i);
				len = db_col_bytes(st, i);
			}
			snprintf(num, sizeof num, "%c%zu:", t->types[i], len);
			crypto_generichash_update(&h, (unsigned char *)num,
			    strlen(num));
			if (len)
				crypto_generichash_update(&h, v, len);
		}
		crypto_generichash_update(&h, (const unsigned char *)"\n", 1);
		(*rows)++;
	}
	if (rc != DB_DONE)
		log_warnx("store: %s: read %s: %s", s->path, t->name,
		    db_errmsg(s->db));
	db_finalize(st);
	crypto_generichash_final(&h, sum, STORE_COPY_SUM);
	return rc == DB_DONE ? 0 : -1;
}

static char *
insert_sql(struct store *s, const struct ctab *t, const char *db)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "INSERT INTO %s%s (", store_is_pg(s) ? "" : db, t->name);
	add_cols(&b, t, "");
	buf_adds(&b, ") VALUES (");
	for (int i = 0; i < ncols(t); i++)
		buf_addf(&b, "%s?%d", i ? ", " : "", i + 1);
	buf_adds(&b, ")");
	return b.s;
}

/* Every row of T from SRC into DST (inside DST's transaction). */
static int
copy_table(struct store *src, struct store *dst, const struct ctab *t)
{
	struct dbst *st, *ins, *vins = NULL, *to;
	char *sql;
	int rc = DB_DONE, n = ncols(t), split, vrow;

	/* PostgreSQL to SQLite: the verifier's audit rows to its file */
	split = strcmp(t->name, "audit") == 0 && !store_is_pg(dst);
	sql = select_sql(src, t, 1, 1);
	st = prepare(src, sql, t->name);
	free(sql);
	sql = insert_sql(dst, t, t->verifier ? "verifier." : "main.");
	ins = prepare(dst, sql, t->name);
	free(sql);
	if (split) {
		sql = insert_sql(dst, t, "verifier.");
		vins = prepare(dst, sql, t->name);
		free(sql);
	}
	if (st == NULL || ins == NULL || (split && vins == NULL))
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		vrow = split && !db_col_null(st, 2) &&
		    strcmp(db_col_text(st, 2), VERIFIER_ACTOR) == 0;
		to = vrow ? vins : ins;
		for (int i = 0; i < n; i++) {
			if (db_col_null(st, i))
				db_bind_null(to, i + 1);
			else if (t->types[i] == 'i')
				db_bind_int64(to, i + 1, db_col_int64(st, i));
			else if (t->types[i] == 't')
				db_bind_text(to, i + 1, db_col_text(st, i));
			else
				db_bind_blob(to, i + 1, db_col_blob(st, i),
				    db_col_bytes(st, i));
		}
		if (db_step(to) != DB_DONE) {
			log_warnx("store: %s: %s: a row refused: %s", dst->path,
			    t->name, db_errmsg(dst->db));
			rc = DB_ERROR;
			goto out;
		}
		db_reset(to);
	}
	if (rc != DB_DONE)
		log_warnx("store: %s: read %s: %s", src->path, t->name,
		    db_errmsg(src->db));
out:
	db_finalize(st);
	db_finalize(ins);
	db_finalize(vins);
	return st && ins && (!split || vins) && rc == DB_DONE ? 0 : -1;
}

/* 1: table T of S has a row; 0 none; -1 error */
static int
has_rows(struct store *s, const struct ctab *t)
{
	struct dbst *st;
	char *sql = xstrfmt("SELECT 1 FROM %s%s LIMIT 1", where(s, t),
	    t->name);
	int rc;

	st = prepare(s, sql, t->name);
	free(sql);
	if (st == NULL)
		return -1;
	rc = db_step(st);
	if (rc == DB_ERROR)
		log_warnx("store: %s: %s: %s", s->path, t->name,
		    db_errmsg(s->db));
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/*
 * Every table S holds is one of tabs[] with as many columns: a schema step
 * that adds a table or a column without adding it here would otherwise be
 * left behind in silence. 0, or -1 logged.
 */
static int
check_shape(struct store *s)
{
	static const char *const sql[] = {
		"SELECT name, (SELECT count(*) FROM pragma_table_info(m.name, "
		    "'main')) FROM main.sqlite_master m WHERE type = 'table' "
		    "AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
		"SELECT name, (SELECT count(*) FROM pragma_table_info(m.name, "
		    "'verifier')) FROM verifier.sqlite_master m WHERE type = "
		    "'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
	};
	static const char pgsql[] = "SELECT c.table_name, count(*) FROM "
	    "information_schema.columns c JOIN information_schema.tables t "
	    "USING (table_schema, table_name) WHERE t.table_schema = "
	    "current_schema() AND t.table_type = 'BASE TABLE' AND "
	    "c.table_name <> 'schema_version' GROUP BY c.table_name";
	struct dbst *st;
	const char *name;
	size_t i;
	int rc, bad = 0;

	for (int q = 0; q < (store_is_pg(s) ? 1 : 2); q++) {
		if ((st = prepare(s, store_is_pg(s) ? pgsql : sql[q],
		    "tables")) == NULL)
			return -1;
		while ((rc = db_step(st)) == DB_ROW) {
			name = db_col_text(st, 0);
			for (i = 0; i < NTABS; i++)
				if (strcmp(tabs[i].name, name) == 0)
					break;
			if (i == NTABS || db_col_int64(st, 1) !=
			    ncols(&tabs[i])) {
				log_warnx("store: %s: table %s (%lld columns) "
				    "is not one db copy knows: nothing "
				    "copied", s->path, name,
				    (long long)db_col_int64(st, 1));
				bad = 1;
			}
		}
		if (rc != DB_DONE)
			log_warnx("store: %s: tables: %s", s->path,
			    db_errmsg(s->db));
		db_finalize(st);
		if (rc != DB_DONE || bad)
			return -1;
	}
	return 0;
}

/* The source, read-only, at this build's schema; NULL (*EX set). */
static struct store *
open_source(const struct store_copy_args *a, int *ex)
{
	struct store *s;
	int v;

	if (!db_is_pg(a->from) && access(a->from, F_OK) == -1) {
		log_warnx("store: %s: no database here (run tfadesk db init)",
		    a->from);
		*ex = EX_NOINPUT;
		return NULL;
	}
	if ((s = store_open(a->from, STORE_RDONLY | STORE_NOCHECK)) == NULL) {
		*ex = EX_UNAVAILABLE;
		return NULL;
	}
	*ex = EX_DATAERR;
	if ((v = store_version(s)) < 0 || store_version_ok(s->path, v,
	    store_schema_version(), "tfadesk db init") == -1)
		goto fail;
	if (store_is_pg(s))
		return s;
	if (access(a->from_verifier, F_OK) == -1) {
		log_warnx("store: %s: no verifier database here (run tfadesk "
		    "db init)", a->from_verifier);
		goto fail;
	}
	if (store_attach(s, a->from_verifier, "verifier", 0) == -1) {
		*ex = EX_UNAVAILABLE;
		goto fail;
	}
	if (store_version_ok(a->from_verifier, store_file_version(s,
	    "verifier"), store_vschema_version(), "tfadesk db init") == -1)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

/* The target with this build's schema (as db init makes it); NULL (*EX). */
static struct store *
open_target(const struct store_copy_args *a, int *ex)
{
	struct store *s;

	*ex = EX_CANTCREAT;
	if (db_is_pg(a->to)) {
		if ((s = store_open_pw(a->to, STORE_CREATE,
		    a->to_password_file)) == NULL) {
			*ex = EX_UNAVAILABLE;
			return NULL;
		}
		if (store_migrate(s) == -1) {
			store_close(s);
			return NULL;
		}
		return s;
	}
	/* as db init: the main file, the verifier's, the schema */
	if ((s = store_open(a->to, STORE_CREATE)) == NULL)
		return NULL;
	if (store_verifier_init(a->to_verifier, a->to) == -1) {
		store_close(s);
		return NULL;
	}
	/* the journal, not WAL, while copying: a commit across the two
	 * files is atomic only with a journal (SQLite's super-journal) */
	if (store_migrate(s) == -1 ||
	    store_attach(s, a->to_verifier, "verifier", 1) == -1 ||
	    db_exec(s->db, "PRAGMA main.journal_mode = DELETE; "
	    "PRAGMA verifier.journal_mode = DELETE") == -1) {
		if (s->db)
			log_warnx("store: %s: %s", a->to, db_errmsg(s->db));
		store_close(s);
		return NULL;
	}
	return s;
}

/* The source's snapshot: one read transaction; PostgreSQL: no batch on
 * any host meanwhile (its advisory lock). */
static int
source_begin(struct store *s, int *ex)
{
	int r;

	*ex = EX_UNAVAILABLE;
	if (store_is_pg(s)) {
		if ((r = store_batch_lock(s, 0)) != 0) {
			if (r == 1) {
				log_warnx("store: %s: a batch is running (the "
				    "database's batch lock is held): try "
				    "again when it is done", s->path);
				*ex = EX_TEMPFAIL;
			}
			return -1;
		}
		if (db_exec(s->db, "BEGIN ISOLATION LEVEL REPEATABLE READ "
		    "READ ONLY") == -1)
			return store_err(s, "begin");
		return 0;
	}
	/* SQLite: the read snapshot of each file starts at its first read */
	if (db_exec(s->db, "BEGIN; SELECT count(*) FROM main.sqlite_master; "
	    "SELECT count(*) FROM verifier.sqlite_master") == -1)
		return store_err(s, "begin");
	return 0;
}

void
store_copy_free(struct store_copy_result *r)
{
	free(r->tables);
	free(r->target);
	memset(r, 0, sizeof *r);
}

/* Removes an SQLite target that this copy created (nothing committed). */
static void
remove_created(const char *path)
{
	char *p;

	unlink(path);
	p = xstrfmt("%s-wal", path); unlink(p); free(p);
	p = xstrfmt("%s-shm", path); unlink(p); free(p);
	p = xstrfmt("%s-journal", path); unlink(p); free(p);
}

int
store_copy(const struct store_copy_args *a, struct store_copy_result *r)
{
	struct store *src = NULL, *dst = NULL;
	unsigned char sum[STORE_COPY_SUM];
	int64_t rows;
	int ex, made = 0, vmade = 0, n;
	char *sql;

	memset(r, 0, sizeof *r);
	if (sodium_init() == -1) {
		log_warnx("store: libsodium cannot start");
		return EX_SOFTWARE;
	}
	if ((src = open_source(a, &ex)) == NULL)
		return ex;
	if (!db_is_pg(a->to)) {
		made = access(a->to, F_OK) == -1;
		vmade = access(a->to_verifier, F_OK) == -1;
	}
	if ((dst = open_target(a, &ex)) == NULL)
		goto out;
	r->target = xstrdup(dst->path);
	ex = EX_SOFTWARE;
	if (check_shape(src) == -1 || check_shape(dst) == -1)
		goto out;
	ex = EX_UNAVAILABLE;
	if (store_begin(dst) == -1 || (store_is_pg(dst) && db_exec(dst->db,
	    "SELECT pg_advisory_xact_lock(7244400)") == -1))
		goto out;
	/* never merged into a live database */
	for (size_t i = 0; i < NTABS; i++) {
		if ((n = has_rows(dst, &tabs[i])) == -1)
			goto out;
		if (n) {
			log_warnx("store: %s: table %s has rows: the target "
			    "must be empty (db copy never merges)", dst->path,
			    tabs[i].name);
			ex = EX_DATAERR;
			goto out;
		}
	}
	if (source_begin(src, &ex) == -1)
		goto out;
	r->tables = xcalloc(NTABS, sizeof *r->tables);
	r->ntables = NTABS;
	ex = EX_IOERR;
	for (size_t i = 0; i < NTABS; i++) {
		r->tables[i].name = tabs[i].name;
		if (table_sum(src, &tabs[i], 1, &r->tables[i].rows,
		    r->tables[i].sum) == -1 ||
		    copy_table(src, dst, &tabs[i]) == -1)
			goto out;
		r->rows += r->tables[i].rows;
	}
	/* PostgreSQL: the identities go on past the ids copied */
	for (size_t i = 0; i < NTABS && store_is_pg(dst); i++) {
		if (!tabs[i].ident)
			continue;
		sql = xstrfmt("SELECT setval(pg_get_serial_sequence('%s', "
		    "'%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
		    tabs[i].name, tabs[i].cols[0], tabs[i].cols[0],
		    tabs[i].name);
		n = db_exec(dst->db, sql);
		free(sql);
		if (n == -1) {
			store_err(dst, tabs[i].name);
			goto out;
		}
	}
	/* read back inside the transaction, the same way */
	for (size_t i = 0; i < NTABS; i++) {
		if (table_sum(dst, &tabs[i], 0, &rows, sum) == -1)
			goto out;
		if (rows != r->tables[i].rows ||
		    sodium_memcmp(sum, r->tables[i].sum, sizeof sum) != 0) {
			log_warnx("store: %s: table %s: the copy differs from "
			    "the source (%lld rows read back, %lld copied, "
			    "checksum %s): nothing committed", dst->path,
			    tabs[i].name, (long long)rows,
			    (long long)r->tables[i].rows,
			    sodium_memcmp(sum, r->tables[i].sum,
			    sizeof sum) ? "differs" : "same");
			r->bad = tabs[i].name;
			ex = EX_SOFTWARE;
			goto out;
		}
	}
	if (store_commit(dst) == -1)
		goto out;
	if (!store_is_pg(dst) && db_exec(dst->db,
	    "PRAGMA main.journal_mode = WAL; "
	    "PRAGMA verifier.journal_mode = WAL") == -1)
		log_warnx("store: %s: back to WAL: %s (db init sets it)",
		    dst->path, db_errmsg(dst->db));
	ex = EX_OK;
out:
	if (dst)
		store_rollback(dst);
	store_close(dst);
	if (src && db_in_tx(src->db))
		db_exec(src->db, "ROLLBACK");
	store_close(src);
	if (ex != EX_OK) {
		if (made)
			remove_created(a->to);
		if (vmade)
			remove_created(a->to_verifier);
	}
	return ex;
}
