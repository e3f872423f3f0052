/*
 * db-pg.c - the statement layer (db.h) on PostgreSQL, through libpq. The
 * only file that includes libpq-fe.h; a struct db_ops (db-int.h) for db.c.
 *
 * Statements: the "?" and "?N" placeholders become $1..$n and LIKE
 * becomes ILIKE (SQLite's LIKE ignores ASCII case), outside quotes; and
 * each statement is prepared once per connection
 * (PQprepare), at its first step, with the types of that step's bindings:
 * integers int8, blobs bytea (sent binary), texts text, nulls left for the
 * server to infer from where they stand. Rows come back as text; a step
 * runs the statement and later steps walk its rows.
 *
 * Inside a transaction a statement that writes runs under a savepoint of
 * its own: a failure (a duplicate key) undoes that statement only and the
 * transaction goes on, as on SQLite (PostgreSQL would abort all of it).
 *
 * A lost connection (the server restarted, a network cut) is made again
 * at the next statement begun outside a transaction: a closed socket is
 * noticed before the statement is sent (the server's goodbye, read
 * without waiting), the connection is reset, the statements are prepared
 * again and the session's SETs replayed. The statement that meets the
 * loss fails (its caller's error: 503, exit 75), as does the rest of a
 * transaction the loss cut: nothing is sent twice, nothing runs outside
 * the transaction it was written for. A connection that holds session
 * state (a session advisory lock, a temporary table) is never replaced
 * behind its owner's back: it stays lost.
 *
 * Isolation: READ COMMITTED (the server's default). Where two sessions
 * could race, the SQL says how: conditional UPDATEs whose row count
 * tells who won, row locks (SELECT ... FOR UPDATE [SKIP LOCKED]) and
 * advisory locks; no step of ours needs SERIALIZABLE's retries.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "tfadesk.h"
#include "db.h"
#include "db-int.h"

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

/* Every session's settings: notices are no news; a lock waited for gives
 * up after 10 s (55P03: busy), as SQLite's busy timeout does. */
#define SESSION_SQL "SET client_min_messages = warning; " \
	"SET lock_timeout = '10s'"

struct pgconn {
	PGconn *c;
	char err[512];
	char state[6];         /* SQLSTATE of the last error */
	int64_t changes;
	unsigned long seq;     /* prepared statements' names */
	struct buf dealloc;    /* "DEALLOCATE sN;" of finalized statements */
	int ndealloc;
	unsigned gen;          /* connections made; a reset adds one */
	int tx;                /* inside a BEGIN of ours */
	int pinned;            /* holds session state: never reset */
	int stale;             /* made again without its SETs: reset */
	char *sets;            /* the session's SETs, replayed on a reset */
};
/* finalized statements whose DEALLOCATEs go together, in one round trip */
#define DEALLOC_BATCH 32

struct pgst {
	struct pgconn *pc;
	char *sql;             /* with $1..$n */
	int n;                 /* parameters */
	unsigned char *used;   /* [n]: the SQL names $i */
	char name[24];         /* "" until prepared */
	unsigned gen;          /* the connection NAME was prepared on */
	char **val;
	int *len, *fmt, *kind;
	PGresult *res;
	int cur, nrows;
	unsigned char *blob;   /* the last blob column read, unescaped */
	size_t bloblen;
	int write;             /* not a SELECT */
};

static void pg_close(void *);
static int pg_exec(void *, const char *);

static void
set_err(struct pgconn *pc, const char *what, const PGresult *res)
{
	const char *m = res ? PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
	    NULL;
	size_t n;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(pc->c);
	if (m == NULL || *m == '\0')
		m = "failed";
	/* one line: libpq's messages end in a newline, details follow */
	n = strcspn(m, "\n");
	snprintf(pc->err, sizeof pc->err, "%s%s%.*s", what ? what : "",
	    what ? ": " : "", (int)n, m);
	snprintf(pc->state, sizeof pc->state, "%s", st ? st : "");
}

/* notices (CREATE ... IF NOT EXISTS and the like) are no news */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	log_debug("store: postgresql: %.*s", (int)strcspn(message, "\n"),
	    message);
}

void *
pg_connect(const char *uri, const char *password)
{
	const char *keys[5], *vals[5];
	struct pgconn *pc;
	PGresult *res;
	int n = 0;

	keys[n] = "dbname", vals[n++] = uri;
	if (password)
		keys[n] = "password", vals[n++] = password;
	keys[n] = "connect_timeout", vals[n++] = "10";
	keys[n] = "application_name", vals[n++] = program_invocation_short_name;
	keys[n] = vals[n] = NULL;
	pc = xcalloc(1, sizeof *pc);
	buf_init(&pc->dealloc);
	pc->c = PQconnectdbParams(keys, vals, 1);
	if (pc->c == NULL || PQstatus(pc->c) != CONNECTION_OK) {
		const char *m = pc->c ? PQerrorMessage(pc->c) : "out of memory";
		/* libpq's message names host and database, never the
		 * password */
		log_warnx("store: postgresql: connect: %.*s",
		    (int)strcspn(m, "\n"), m);
		pg_close(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc->c, quiet, NULL);
	res = PQexec(pc->c, SESSION_SQL);
	PQclear(res);
	return pc;
}

/*
 * Before a statement begun outside a transaction: is the connection still
 * there? A server that shut down has said goodbye (57P01) and closed the
 * socket; reading what waits, without blocking, lets libpq see it. A lost
 * connection is reset (libpq connects again with the same parameters) and
 * the session's SETs replayed. 0 usable, -1 not (errmsg says why).
 */
static int
alive(struct pgconn *pc)
{
	struct pollfd pfd;
	PGresult *res;
	int i;

	if (pc->tx || pc->stale || PQstatus(pc->c) == CONNECTION_BAD)
		goto check;
	/* idle, nothing should wait on the socket: read what does */
	for (i = 0; i < 4; i++) {
		pfd.fd = PQsocket(pc->c);
		pfd.events = POLLIN;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1)
			break;
		if (!PQconsumeInput(pc->c))
			break;
		while ((res = PQgetResult(pc->c)) != NULL)
			PQclear(res);
	}
check:
	if (PQstatus(pc->c) == CONNECTION_OK && !pc->stale)
		return 0;
	if (pc->tx) {
		snprintf(pc->err, sizeof pc->err, "connection lost inside a "
		    "transaction");
		snprintf(pc->state, sizeof pc->state, "08006");
		return -1;
	}
	if (pc->pinned) {
		snprintf(pc->err, sizeof pc->err, "connection lost (it held a "
		    "session lock or table: not made again)");
		snprintf(pc->state, sizeof pc->state, "08006");
		return -1;
	}
	PQreset(pc->c);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pc->c);
		snprintf(pc->err, sizeof pc->err, "connection lost; connect "
		    "again: %.*s", (int)strcspn(m, "\n"), m);
		snprintf(pc->state, sizeof pc->state, "08001");
		return -1;
	}
	pc->gen++;
	pc->stale = 0;
	/* the statements to deallocate died with the old connection */
	buf_reset(&pc->dealloc);
	pc->ndealloc = 0;
	log_info("store: postgresql: connected again");
	res = PQexec(pc->c, SESSION_SQL);
	PQclear(res);
	if (pc->sets) {
		res = PQexec(pc->c, pc->sets);
		i = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!i) {
			set_err(pc, "connect again", res);
			PQclear(res);
			/* a session without its settings is no session of
			 * ours: the next statement tries again */
			pc->stale = 1;
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

/* What a successful SQL text did to the session: a BEGIN, a COMMIT or a
 * ROLLBACK, a session SET to replay, session state that pins it. */
static void
track(struct pgconn *pc, const char *sql)
{
	const char *p = sql + strspn(sql, " \t\n");

	if (strncasecmp(p, "BEGIN", 5) == 0)
		pc->tx = 1;
	else if (strncasecmp(p, "COMMIT", 6) == 0 ||
	    (strncasecmp(p, "ROLLBACK", 8) == 0 &&
	    strncasecmp(p + 8 + strspn(p + 8, " "), "TO", 2) != 0))
		pc->tx = 0;
	else if (strncasecmp(p, "SET ", 4) == 0 &&
	    strncasecmp(p + 4, "LOCAL ", 6) != 0 &&
	    strncasecmp(p + 4, "TRANSACTION ", 12) != 0 &&
	    strchr(p, ';') == NULL) {
		char *n = xstrfmt("%s%s%s", pc->sets ? pc->sets : "",
		    pc->sets ? "; " : "", p);
		free(pc->sets);
		pc->sets = n;
	}
	if (strcasestr(sql, "TEMP TABLE") || strcasestr(sql, "TEMPORARY TABLE")
	    || strcasestr(sql, "pg_advisory_lock(") ||
	    strcasestr(sql, "pg_try_advisory_lock("))
		pc->pinned = 1;
}

static void
pg_close(void *pc_)
{
	struct pgconn *pc = pc_;
	if (pc == NULL)
		return;
	/* the statements not yet deallocated die with the connection */
	if (pc->c)
		PQfinish(pc->c);
	buf_free(&pc->dealloc);
	free(pc->sets);
	free(pc);
}

/* ? and ?N -> $k and $N, outside '...' and "..." */
static char *
rewrite(const char *sql, int *nparams, unsigned char **usedp)
{
	struct buf b;
	int k = 0, max = 0, v;
	unsigned char *used;
	const char *p;

	buf_init(&b);
	for (p = sql; *p; p++) {
		if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);
			if (q == NULL)
				q = p + strlen(p) - 1;
			buf_add(&b, p, (size_t)(q - p + 1));
			p = q;
			continue;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			size_t n = 1;
			while (isalnum((unsigned char)p[n]) || p[n] == '_')
				n++;
			/* SQLite's LIKE is blind to ASCII case */
			if (n == 4 && strncasecmp(p, "LIKE", 4) == 0)
				buf_adds(&b, "ILIKE");
			else
				buf_add(&b, p, n);
			p += n - 1;
			continue;
		}
		if (*p != '?') {
			buf_addc(&b, *p);
			continue;
		}
		if (p[1] >= '0' && p[1] <= '9') {
			v = 0;
			while (p[1] >= '0' && p[1] <= '9' && v < 1000)
				v = v * 10 + (*++p - '0');
		} else
			v = ++k;
		if (v > max)
			max = v;
		buf_addf(&b, "$%d", v);
	}
	used = xcalloc((size_t)max + 1, 1);
	for (p = b.s; (p = strchr(p, '$')) != NULL; p++) {
		v = atoi(p + 1);
		if (v > 0 && v <= max)
			used[v - 1] = 1;
	}
	*nparams = max;
	*usedp = used;
	return b.s;
}

static void *
pg_prepare(void *pc_, const char *sql)
{
	struct pgconn *pc = pc_;
	struct pgst *st = xcalloc(1, sizeof *st);

	st->pc = pc;
	st->sql = rewrite(sql, &st->n, &st->used);
	sql += strspn(sql, " \t\n(");
	st->write = strncasecmp(sql, "SELECT", 6) != 0;
	st->val = xcalloc((size_t)st->n + 1, sizeof *st->val);
	st->len = xcalloc((size_t)st->n + 1, sizeof *st->len);
	st->fmt = xcalloc((size_t)st->n + 1, sizeof *st->fmt);
	st->kind = xcalloc((size_t)st->n + 1, sizeof *st->kind);
	st->cur = -1;
	return st;
}

static void
pg_reset(void *st_)
{
	struct pgst *st = st_;
	PQclear(st->res);
	st->res = NULL;
	st->cur = -1;
	st->nrows = 0;
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = NULL;
}

static void
pg_clear(void *st_)
{
	struct pgst *st = st_;
	for (int i = 0; i < st->n; i++) {
		free(st->val[i]);
		st->val[i] = NULL;
		st->len[i] = st->fmt[i] = st->kind[i] = 0;
	}
}

static void
pg_finalize(void *st_)
{
	struct pgst *st = st_;
	struct pgconn *pc = st->pc;
	PGresult *res;

	pg_reset(st);
	pg_clear(st);
	/* the server's copy goes later, DEALLOC_BATCH at a time (a round
	 * trip each cost every store_close one a cached statement), or with
	 * the connection; an aborted transaction refuses even this: the
	 * names wait for the next finalize then. A name prepared on a
	 * connection since made again died with it. */
	if (*st->name && st->gen == pc->gen)
		buf_addf(&pc->dealloc, "DEALLOCATE %s;", st->name),
		pc->ndealloc++;
	if (pc->ndealloc >= DEALLOC_BATCH && pc->dealloc.err == 0 &&
	    PQtransactionStatus(pc->c) == PQTRANS_IDLE) {
		res = PQexec(pc->c, pc->dealloc.s);
		PQclear(res);
		buf_reset(&pc->dealloc);
		pc->ndealloc = 0;
	}
	free(st->val);
	free(st->len);
	free(st->fmt);
	free(st->kind);
	free(st->used);
	free(st->sql);
	free(st);
}

static int
pg_bind(void *st_, int idx, int kind, const void *v, size_t len,
    int64_t iv)
{
	struct pgst *st = st_;
	if (idx < 1 || idx > st->n)
		return -1;
	idx--;
	free(st->val[idx]);
	st->val[idx] = NULL;
	st->len[idx] = st->fmt[idx] = 0;
	st->kind[idx] = kind;
	switch (kind) {
	case B_INT:
		st->val[idx] = xstrfmt("%lld", (long long)iv);
		break;
	case B_TEXT:
		st->val[idx] = xstrdup(v);
		break;
	case B_BLOB:
		st->val[idx] = xmalloc(len + 1);
		memcpy(st->val[idx], v, len);
		st->len[idx] = (int)len;
		st->fmt[idx] = 1;
		break;
	}
	return 0;
}

static int
prepare_now(struct pgst *st)
{
	Oid *types = xcalloc((size_t)st->n + 1, sizeof *types);
	PGresult *res;
	int ok;

	for (int i = 0; i < st->n; i++)
		types[i] = !st->used[i] ? OID_TEXT :
		    st->kind[i] == B_INT ? OID_INT8 :
		    st->kind[i] == B_BLOB ? OID_BYTEA :
		    st->kind[i] == B_TEXT ? OID_TEXT : 0;
	snprintf(st->name, sizeof st->name, "s%lu", ++st->pc->seq);
	st->gen = st->pc->gen;
	res = PQprepare(st->pc->c, st->name, st->sql, st->n, types);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	/* a null left where nothing tells its type ("? IS NULL" alone):
	 * text (outside a transaction only: inside, the error has already
	 * aborted it) */
	if (!ok && PQtransactionStatus(st->pc->c) == PQTRANS_IDLE) {
		const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (code && strcmp(code, "42P18") == 0) {
			for (int i = 0; i < st->n; i++)
				if (types[i] == 0)
					types[i] = OID_TEXT;
			PQclear(res);
			res = PQprepare(st->pc->c, st->name, st->sql, st->n,
			    types);
			ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		}
	}
	free(types);
	if (!ok) {
		set_err(st->pc, NULL, res);
		*st->name = '\0';
	}
	PQclear(res);
	return ok ? 0 : -1;
}

/* Back to before the failed statement; its error stays the last one. */
static void
undo_statement(struct pgconn *pc)
{
	char err[sizeof pc->err], state[sizeof pc->state];

	memcpy(err, pc->err, sizeof err);
	memcpy(state, pc->state, sizeof state);
	pg_exec(pc, "ROLLBACK TO SAVEPOINT db_st; RELEASE SAVEPOINT db_st");
	memcpy(pc->err, err, sizeof err);
	memcpy(pc->state, state, sizeof state);
}

/*
 * A write inside a transaction, under a savepoint of its own, in one round
 * trip: SAVEPOINT, the statement and RELEASE go together (libpq's pipeline
 * mode; three round trips one after the other cost three waits for the
 * server, and a thread switch each on both sides). The statement's result
 * (NULL: out of memory); *SP is set when the savepoint was made (the
 * caller rolls back to it when the statement failed: the server skipped
 * the RELEASE then).
 */
static PGresult *
exec_saved(struct pgst *st, int *sp)
{
	PGconn *c = st->pc->c;
	PGresult *r, *res = NULL, *spres = NULL;

	*sp = 0;
	if (PQenterPipelineMode(c) != 1)
		goto serial;
	if (PQsendQueryParams(c, "SAVEPOINT db_st", 0, NULL, NULL, NULL,
	    NULL, 0) != 1 ||
	    PQsendQueryPrepared(c, st->name, st->n,
	    (const char *const *)st->val, st->len, st->fmt, 0) != 1 ||
	    PQsendQueryParams(c, "RELEASE SAVEPOINT db_st", 0, NULL, NULL,
	    NULL, NULL, 0) != 1 ||
	    PQpipelineSync(c) != 1) {
		/* nothing was sent (libpq buffers until the sync) */
		PQexitPipelineMode(c);
		goto serial;
	}
	/* each query's results end with a NULL; then the sync's */
	for (int q = 0; q < 3; q++)
		while ((r = PQgetResult(c)) != NULL) {
			if (q == 0 && spres == NULL)
				spres = r;
			else if (q == 1 && res == NULL)
				res = r;
			else
				PQclear(r);
		}
	while ((r = PQgetResult(c)) != NULL &&
	    PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		PQclear(r);
	PQclear(r);
	PQexitPipelineMode(c);
	*sp = PQresultStatus(spres) == PGRES_COMMAND_OK;
	/* the savepoint failed, and the statement was not run: its error */
	if (!*sp && spres) {
		PQclear(res);
		return spres;
	}
	PQclear(spres);
	return res;
serial:
	*sp = pg_exec(st->pc, "SAVEPOINT db_st") == 0;
	res = PQexecPrepared(c, st->name, st->n,
	    (const char *const *)st->val, st->len, st->fmt, 0);
	if (*sp && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK))
		pg_exec(st->pc, "RELEASE SAVEPOINT db_st");
	return res;
}

static int
pg_step(void *st_)
{
	struct pgst *st = st_;
	ExecStatusType es;
	const char *cmd;
	int sp;

	if (st->res == NULL) {
		if (alive(st->pc) == -1)
			return DB_ERROR;
		/* prepared on a connection that is gone: again */
		if (st->gen != st->pc->gen)
			*st->name = '\0';
		if (*st->name == '\0' && prepare_now(st) == -1)
			return DB_ERROR;
		sp = 0;
		if (st->write && PQtransactionStatus(st->pc->c) ==
		    PQTRANS_INTRANS)
			st->res = exec_saved(st, &sp);
		else
			st->res = PQexecPrepared(st->pc->c, st->name, st->n,
			    (const char *const *)st->val, st->len, st->fmt, 0);
		es = PQresultStatus(st->res);
		if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
			set_err(st->pc, NULL, st->res);
			PQclear(st->res);
			st->res = NULL;
			/* as on SQLite, the failed statement is undone, the
			 * transaction goes on */
			if (sp)
				undo_statement(st->pc);
			return DB_ERROR;
		}
		if (!st->write)
			track(st->pc, st->sql);
		cmd = PQcmdStatus(st->res);
		if (strncmp(cmd, "INSERT", 6) == 0 ||
		    strncmp(cmd, "UPDATE", 6) == 0 ||
		    strncmp(cmd, "DELETE", 6) == 0)
			st->pc->changes = strtoll(PQcmdTuples(st->res), NULL,
			    10);
		st->nrows = es == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		st->cur = -1;
	}
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = NULL;
	if (++st->cur < st->nrows)
		return DB_ROW;
	st->cur = st->nrows;
	return DB_DONE;
}

static int
in_row(struct pgst *st, int col)
{
	return st->res && st->cur >= 0 && st->cur < st->nrows && col >= 0 &&
	    col < PQnfields(st->res);
}

static int
pg_col_null(void *st_, int col)
{
	struct pgst *st = st_;
	return !in_row(st, col) || PQgetisnull(st->res, st->cur, col);
}

static int64_t
pg_col_int64(void *st_, int col)
{
	struct pgst *st = st_;
	const char *v;

	if (pg_col_null(st, col))
		return 0;
	v = PQgetvalue(st->res, st->cur, col);
	if (PQftype(st->res, col) == 16)        /* bool */
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static const char *
pg_col_text(void *st_, int col)
{
	struct pgst *st = st_;
	if (pg_col_null(st, col))
		return NULL;
	if (PQftype(st->res, col) == 16)
		return *PQgetvalue(st->res, st->cur, col) == 't' ? "1" : "0";
	return PQgetvalue(st->res, st->cur, col);
}

static const void *
pg_col_blob(void *st_, int col)
{
	struct pgst *st = st_;
	const char *v;

	if (pg_col_null(st, col))
		return NULL;
	v = PQgetvalue(st->res, st->cur, col);
	if (PQftype(st->res, col) != OID_BYTEA) {
		st->bloblen = (size_t)PQgetlength(st->res, st->cur, col);
		return v;
	}
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)v, &st->bloblen);
	return st->blob;
}

static size_t
pg_col_bytes(void *st_, int col)
{
	struct pgst *st = st_;
	if (pg_col_null(st, col))
		return 0;
	if (PQftype(st->res, col) != OID_BYTEA)
		return (size_t)PQgetlength(st->res, st->cur, col);
	if (st->blob == NULL)
		pg_col_blob(st, col);
	return st->blob ? st->bloblen : 0;
}

static int
pg_exec(void *pc_, const char *sql)
{
	struct pgconn *pc = pc_;
	const char *p = sql + strspn(sql, " \t\n");
	PGresult *res;
	ExecStatusType es;

	/* a ROLLBACK of a transaction the lost connection took along
	 * has nothing left to undo */
	if (pc->tx && PQstatus(pc->c) == CONNECTION_BAD &&
	    strncasecmp(p, "ROLLBACK", 8) == 0 &&
	    strncasecmp(p + 8 + strspn(p + 8, " "), "TO", 2) != 0) {
		pc->tx = 0;
		return 0;
	}
	if (alive(pc) == -1) {
		/* a COMMIT that never reached the server: the transaction
		 * is gone, the caller is told */
		if (strncasecmp(p, "COMMIT", 6) == 0)
			pc->tx = 0;
		return -1;
	}
	res = PQexec(pc->c, sql);
	es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		set_err(pc, NULL, res);
		PQclear(res);
		if (strncasecmp(p, "COMMIT", 6) == 0 ||
		    strncasecmp(p, "ROLLBACK", 8) == 0)
			track(pc, p);
		return -1;
	}
	PQclear(res);
	track(pc, sql);
	return 0;
}

static int64_t
pg_changes(void *pc_)
{
	struct pgconn *pc = pc_;
	return pc->changes;
}

static const char *
pg_errmsg(void *pc_)
{
	struct pgconn *pc = pc_;
	if (*pc->err == '\0' && PQstatus(pc->c) != CONNECTION_OK)
		set_err(pc, NULL, NULL);
	return *pc->err ? pc->err : "no error";
}

static int
pg_err_full(void *pc_)
{
	struct pgconn *pc = pc_;
	/* class 53: insufficient resources (disk full, out of memory) */
	return strncmp(pc->state, "53", 2) == 0;
}

static int
pg_err_busy(void *pc_)
{
	struct pgconn *pc = pc_;
	return strcmp(pc->state, "40001") == 0 ||
	    strcmp(pc->state, "40P01") == 0 ||
	    strcmp(pc->state, "55P03") == 0;
}

static int
pg_in_tx(void *pc_)
{
	struct pgconn *pc = pc_;
	PGTransactionStatusType t = PQtransactionStatus(pc->c);

	/* a lost connection took its transaction along */
	if (PQstatus(pc->c) == CONNECTION_BAD)
		pc->tx = 0;
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
	    t == PQTRANS_ACTIVE;
}

const struct db_ops db_pg_ops = {
	.close = pg_close,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.reset = pg_reset,
	.clear = pg_clear,
	.bind = pg_bind,
	.step = pg_step,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_bytes = pg_col_bytes,
	.exec = pg_exec,
	.changes = pg_changes,
	.errmsg = pg_errmsg,
	.err_full = pg_err_full,
	.err_busy = pg_err_busy,
	.in_tx = pg_in_tx,
	.begin_sql = "BEGIN",
};
