/*
 * store.c - the database: opening, schema migrations, transactions, the
 * audit log and a small key/value table for sources' state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store-int.h"

/*
 * Migrations: schema[i] takes user_version i to i + 1. Never edit a step
 * that has shipped; add one.
 */
static const char *const schema[] = {
	/* 1: the first schema */
	"CREATE TABLE accounts ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('reseller', 'end_client')),"
	"  reseller TEXT REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  twofa INTEGER NOT NULL DEFAULT 0 CHECK (twofa IN (0, 1)),"
	"  CHECK ((kind = 'reseller') = (reseller IS NULL)));"
	"CREATE INDEX accounts_reseller ON accounts(reseller);"
	"CREATE TABLE users ("
	"  id TEXT PRIMARY KEY,"
	"  account TEXT NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  phone TEXT CHECK (phone IS NULL OR (length(phone) BETWEEN 7 AND 15"
	"    AND phone NOT GLOB '*[^0-9]*')));"
	"CREATE INDEX users_account ON users(account);"
	"CREATE TABLE contacts ("
	"  reseller TEXT NOT NULL REFERENCES accounts(id),"
	"  addr TEXT NOT NULL COLLATE NOCASE,"
	"  display TEXT,"
	"  PRIMARY KEY (reseller, addr));"
	"CREATE INDEX contacts_addr ON contacts(addr COLLATE NOCASE);"
	/* the portal's Options > Permissions of an end client (use_2fa) */
	"CREATE TABLE permissions ("
	"  account TEXT NOT NULL REFERENCES accounts(id),"
	"  perm TEXT NOT NULL CHECK (perm IN ('use_2fa')),"
	"  PRIMARY KEY (account, perm));"
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY,"
	"  msgkey TEXT NOT NULL UNIQUE,"
	"  source TEXT NOT NULL,"
	"  raw BLOB NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  kind TEXT,"
	"  state TEXT NOT NULL DEFAULT 'new' CHECK (state IN"
	"    ('new', 'applied', 'needs_review', 'rejected', 'ignored')),"
	"  reason TEXT,"
	"  from_addr TEXT,"
	"  subject TEXT,"
	"  fields TEXT,"
	"  results TEXT,"
	"  account TEXT,"
	"  updated INTEGER NOT NULL);"
	"CREATE INDEX tickets_state ON tickets(state, id);"
	/* every source identity that delivered a ticket (IMAP uid, UIDL...) */
	"CREATE TABLE ticket_sources ("
	"  source_key TEXT PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  at INTEGER NOT NULL);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  account TEXT,"
	"  user TEXT,"
	"  old TEXT,"
	"  new TEXT,"
	"  ticket_id INTEGER);"
	"CREATE INDEX audit_account ON audit(account);"
	"CREATE INDEX audit_user ON audit(user);"
	"CREATE INDEX audit_ticket ON audit(ticket_id);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  msgid TEXT NOT NULL UNIQUE,"
	"  mail_from TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  message BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
	"    ('queued', 'sent', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  sent INTEGER);"
	"CREATE INDEX outbox_due ON outbox(state, next_try);"
	"CREATE INDEX outbox_ticket ON outbox(ticket_id);"
	"CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT);"
	/* the verifier (tfadesk-verify) */
	"CREATE TABLE challenges ("
	"  user_id TEXT PRIMARY KEY,"
	"  dest TEXT NOT NULL,"
	"  code_hash BLOB,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL);"
	"CREATE TABLE sms_log ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id TEXT,"
	"  dest TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  status TEXT NOT NULL);"
	"CREATE INDEX sms_log_user ON sms_log(user_id, at);"
	"CREATE INDEX sms_log_dest ON sms_log(dest, at);",
	/* outbox claims: a sender owns the rows it sends until they are
	 * marked or its claim expires (a crashed sender) */
	"ALTER TABLE outbox ADD COLUMN claim TEXT;"
	"ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX outbox_claim ON outbox(claim);",
	/* verifier.max_sms_per_hour counts every user's sends */
	"CREATE INDEX sms_log_at ON sms_log(at);",
	/*
	 * Message identity. A ticket is the pair (msgkey, digest): the
	 * Message-ID (else "digest:<hex>") and the identity digest of the
	 * raw bytes (mime_identity). The same Message-ID with other content
	 * is another ticket, no longer swallowed by UNIQUE (msgkey). The
	 * table is rebuilt (SQLite cannot drop a UNIQUE); ticket_digest() is
	 * the function given with store_set_digest. A message stored twice
	 * under version 1 (no Message-ID, two deliveries) keeps its sha256:
	 * key on the later copy, so no ticket is lost.
	 */
	"CREATE TABLE tickets_v2 ("
	"  id INTEGER PRIMARY KEY,"
	"  msgkey TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  raw BLOB NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  kind TEXT,"
	"  state TEXT NOT NULL DEFAULT 'new' CHECK (state IN"
	"    ('new', 'applied', 'needs_review', 'rejected', 'ignored')),"
	"  reason TEXT,"
	"  from_addr TEXT,"
	"  subject TEXT,"
	"  fields TEXT,"
	"  results TEXT,"
	"  account TEXT,"
	"  updated INTEGER NOT NULL,"
	"  UNIQUE (msgkey, digest));"
	"INSERT INTO tickets_v2 (id, msgkey, digest, source, raw, received,"
	"  kind, state, reason, from_addr, subject, fields, results, account,"
	"  updated) SELECT id, msgkey, ticket_digest(raw), source, raw,"
	"  received, kind, state, reason, from_addr, subject, fields, results,"
	"  account, updated FROM tickets ORDER BY id;"
	"UPDATE OR IGNORE tickets_v2 SET msgkey = 'digest:' || digest"
	"  WHERE msgkey LIKE 'sha256:%';"
	"DROP TABLE tickets;"
	"ALTER TABLE tickets_v2 RENAME TO tickets;"
	"CREATE INDEX tickets_state ON tickets(state, id);",
	/* the plan a held ticket's approval would carry out, and its
	 * token, as computed when the ticket was held (queue approve
	 * without --expect compares against it). A table of its own: a step
	 * that rebuilds tickets leaves it alone. Keyed by ticket id. */
	"CREATE TABLE IF NOT EXISTS ticket_plans ("
	"  ticket_id INTEGER PRIMARY KEY,"
	"  plan TEXT NOT NULL,"
	"  token TEXT NOT NULL,"
	"  at INTEGER NOT NULL);",
	/* the staff desk (issue 12): staff logins, their sessions (token
	 * and CSRF token kept only hashed / bound to the session), failed
	 * logins for the rate limits, and who a ticket is assigned to */
	"CREATE TABLE staff ("
	"  name TEXT PRIMARY KEY,"
	"  phone TEXT NOT NULL CHECK (length(phone) BETWEEN 7 AND 15"
	"    AND phone NOT GLOB '*[^0-9]*'),"
	"  pwhash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE desk_sessions ("
	"  token_hash BLOB PRIMARY KEY,"
	"  staff TEXT NOT NULL REFERENCES staff(name),"
	"  csrf TEXT NOT NULL,"
	"  verified INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);"
	"CREATE INDEX desk_sessions_staff ON desk_sessions(staff);"
	"CREATE TABLE desk_failures (key TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX desk_failures_key ON desk_failures(key, at);"
	"ALTER TABLE tickets ADD COLUMN assigned TEXT;"
	"CREATE INDEX tickets_assigned ON tickets(assigned);"
	/* the desk's queue reads this index only, never a raw message */
	"CREATE INDEX tickets_desk ON tickets(state, id, received, kind,"
	"  account, assigned, from_addr, subject, reason, msgkey, source,"
	"  fields);",
	/*
	 * Scale (a million users): a reseller's users in ID order straight
	 * from an index (account show, 2FA checks, lock-out checks), where
	 * users_account left a sort of all of them to do.
	 */
	"CREATE INDEX IF NOT EXISTS users_account_id ON users(account, id);"
	"DROP INDEX IF EXISTS users_account;",
	/* indexes for queue list's filters (tickets.assigned comes with
	 * the desk's step) (a scan would walk every raw message) */
	"CREATE INDEX IF NOT EXISTS tickets_kind ON tickets(kind, id);"
	"CREATE INDEX IF NOT EXISTS tickets_account ON tickets(account, id);"
	"CREATE INDEX IF NOT EXISTS tickets_received ON tickets(received);",
	/*
	 * The verifier's tables live in verifier.database (vschema below),
	 * so that no mail-side transaction ever holds a lock a login needs.
	 * db init copies their rows there before this step drops them
	 * (store_verifier_init); the verifier's audit rows written so far
	 * stay here, `tfadesk audit` reads both files.
	 */
	"DROP TABLE IF EXISTS challenges;"
	"DROP TABLE IF EXISTS sms_log;",
	/*
	 * db import as a sync (kept the last step until the next release,
	 * after the verifier's move: t_import rebuilds a database from before
	 * both by undoing them). It only adds
	 * columns to tables of step 1. Per field, the
	 * value the last import wrote: users.imported_phone ('' = none,
	 * digits, or a masked "4478******56" taken from the audit log of an
	 * older tfadesk, which kept numbers masked); accounts.imported_twofa.
	 * A forced change (--force) notes it in audit.note. The last import's
	 * values come from its audit rows, unless nothing changed the field
	 * since (then the live value is the imported one).
	 */
	"ALTER TABLE users ADD COLUMN imported_phone TEXT;"
	"ALTER TABLE accounts ADD COLUMN imported_twofa INTEGER"
	"  CHECK (imported_twofa IN (0, 1));"
	"ALTER TABLE audit ADD COLUMN note TEXT;"
	"CREATE INDEX audit_actor ON audit(actor);"
	"UPDATE users SET imported_phone = CASE WHEN EXISTS (SELECT 1 FROM"
	"  audit p WHERE p.user = users.id AND p.action = 'user.phone' AND"
	"  p.id > coalesce((SELECT max(i.id) FROM audit i WHERE"
	"  i.user = users.id AND i.action IN ('user.create', 'user.update')),"
	"  0))"
	"  THEN coalesce((SELECT i.new FROM audit i WHERE i.user = users.id AND"
	"  i.action IN ('user.create', 'user.update') ORDER BY i.id DESC"
	"  LIMIT 1), '')"
	"  ELSE coalesce(phone, '') END;"
	"UPDATE accounts SET imported_twofa = CASE WHEN EXISTS (SELECT 1 FROM"
	"  audit p WHERE p.account = accounts.id AND p.action IN"
	"  ('account.twofa', 'account.use_2fa') AND p.id > coalesce((SELECT"
	"  max(i.id) FROM audit i WHERE i.account = accounts.id AND i.action IN"
	"  ('account.create', 'account.update')), 0))"
	"  THEN coalesce((SELECT i.new LIKE '% twofa=on' FROM audit i WHERE"
	"  i.account = accounts.id AND i.action IN ('account.create',"
	"  'account.update') ORDER BY i.id DESC LIMIT 1), 0)"
	"  ELSE CASE kind WHEN 'reseller' THEN twofa ELSE EXISTS (SELECT 1 FROM"
	"  permissions p WHERE p.account = accounts.id AND p.perm = 'use_2fa')"
	"  END END;",
};
#define SCHEMA_VERSION ((int)(sizeof schema / sizeof schema[0]))

static void sql_digest(sqlite3_context *, int, sqlite3_value **);

/*
 * The verifier's own file (verifier.database), versioned on its own.
 * audit: the rows of the verifier's decisions (same columns as the main
 * audit table); heartbeat: /healthz's write probe.
 */
static const char *const vschema[] = {
	/* 1 */
	"CREATE TABLE challenges ("
	"  user_id TEXT PRIMARY KEY,"
	"  dest TEXT NOT NULL,"
	"  code_hash BLOB,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL);"
	"CREATE TABLE sms_log ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id TEXT,"
	"  dest TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  status TEXT NOT NULL);"
	"CREATE INDEX sms_log_user ON sms_log(user_id, at);"
	"CREATE INDEX sms_log_dest ON sms_log(dest, at);"
	"CREATE INDEX sms_log_at ON sms_log(at);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  account TEXT,"
	"  user TEXT,"
	"  old TEXT,"
	"  new TEXT,"
	"  ticket_id INTEGER,"
	"  note TEXT);"
	"CREATE INDEX audit_account ON audit(account);"
	"CREATE INDEX audit_user ON audit(user);"
	"CREATE INDEX audit_actor ON audit(actor);"
	"CREATE TABLE heartbeat ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  at INTEGER NOT NULL);",
};
#define VSCHEMA_VERSION ((int)(sizeof vschema / sizeof vschema[0]))

int
store_err(struct store *s, const char *what)
{
	s->last_err = sqlite3_extended_errcode(s->db);
	log_warnx("store: %s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			st = s->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("store: prepare: %s: %.60s", sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	if (s->ncache == sizeof s->cache / sizeof s->cache[0]) {
		/* full: drop the oldest */
		sqlite3_finalize(s->cache[0].st);
		memmove(&s->cache[0], &s->cache[1],
		    (s->ncache - 1) * sizeof s->cache[0]);
		s->ncache--;
	}
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].st = st;
	s->ncache++;
	return st;
}

int
store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

char *
store_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? xstrdup((const char *)t) : NULL;
}

static int
exec(struct store *s, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s: %s", s->path, err ? err : "failed");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *path, int flags)
{
	struct store *s;
	int oflags, fd;

	if (!(flags & STORE_CREATE) && access(path, F_OK) == -1) {
		log_warnx("store: %s: no database here (run tfadesk db init)",
		    path);
		return NULL;
	}
	/* ":memory:" is SQLite's private in-memory database, not a file. */
	if ((flags & STORE_CREATE) && strcmp(path, ":memory:") != 0) {
		char *dir = xstrdup(path), *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir_p(dir, 0750) == -1) {
				log_warn("store: mkdir %s", dir);
				free(dir);
				return NULL;
			}
		}
		free(dir);
		/* The database holds phone numbers: 0640 whatever the umask
		 * (SQLite would create it 0644 less the umask). SQLite gives
		 * the -wal and -shm files the mode of the database file. */
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
		    0640)) == -1) {
			log_warn("store: %s", path);
			return NULL;
		}
		close(fd);
	}
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->readonly = (flags & STORE_RDONLY) != 0;
	oflags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	/* URI: for ATTACH ... mode=ro (paths here are never "file:...") */
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX |
	    SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		store_close(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_create_function(s->db, "ticket_digest", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, s, sql_digest, NULL, NULL) != SQLITE_OK) {
		store_err(s, "ticket_digest");
		store_close(s);
		return NULL;
	}
	if (exec(s, "PRAGMA foreign_keys = ON") == -1 ||
	    (!s->readonly && (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, "PRAGMA synchronous = FULL") == -1))) {
		store_close(s);
		return NULL;
	}
	if (!(flags & (STORE_CREATE | STORE_NOCHECK))) {
		int v = store_version(s);
		if (v > SCHEMA_VERSION) {
			log_warnx("store: %s: schema version %d was written by "
			    "a newer tfadesk (this one knows %d): upgrade "
			    "tfadesk", path, v, SCHEMA_VERSION);
			store_close(s);
			return NULL;
		}
		if (v != SCHEMA_VERSION) {
			log_warnx("store: %s: schema version %d, this tfadesk "
			    "needs %d (run tfadesk db init)", path, v,
			    SCHEMA_VERSION);
			store_close(s);
			return NULL;
		}
	}
	return s;
}

/* How long the write transaction that just ended held the lock. */
static void
tx_end(struct store *s)
{
	struct timespec now;
	long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - s->tx_start.tv_sec) * 1000000 +
	    (now.tv_nsec - s->tx_start.tv_nsec) / 1000;
	if (us > s->tx_max_us)
		s->tx_max_us = us;
	s->tx_n++;
	if (us > 50000)
		log_debug("store: %s: a write transaction of %.1f ms", s->path,
		    us / 1000.0);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* -vv: how long the writers of this connection held the lock (the
	 * verifier's bench reads it: mail-side transactions stay short) */
	if (s->tx_n > 0)
		log_debug("store: %s: %ld write transactions, the longest "
		    "%.1f ms", s->path, s->tx_n, s->tx_max_us / 1000.0);
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	if (s->db)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

const char *
store_path(struct store *s)
{
	return s->path;
}

int
store_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_err(s, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ticket_digest(raw) in SQL: the hex identity digest (migration 2). */
static void
sql_digest(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store *s = sqlite3_user_data(ctx);
	char hex[STORE_DIGEST_HEX];
	const void *raw;
	int n;

	(void)argc;
	raw = sqlite3_value_blob(argv[0]);
	n = sqlite3_value_bytes(argv[0]);
	if (s->digest == NULL || s->digest(raw ? raw : "", (size_t)n,
	    hex) == -1) {
		sqlite3_result_error(ctx, "no message digest function", -1);
		return;
	}
	sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT);
}

void
store_set_digest(struct store *s, store_digest_fn fn)
{
	s->digest = fn;
}

int
store_migrate(struct store *s)
{
	return store_migrate_to(s, SCHEMA_VERSION);
}

/*
 * Steps that rebuild a table need foreign keys off (DROP TABLE would
 * otherwise delete through them); that PRAGMA only works outside a
 * transaction. The keys are checked before the commit.
 */
int
store_migrate_to(struct store *s, int to)
{
	sqlite3_stmt *st;
	int v, bad;
	char pragma[64];

	if (to > SCHEMA_VERSION)
		to = SCHEMA_VERSION;
	if (s->depth == 0 && exec(s, "PRAGMA foreign_keys = OFF") == -1)
		return -1;
	if (store_begin(s) == -1)
		goto out;
	if ((v = store_version(s)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		log_warnx("store: %s: schema version %d was written by a "
		    "newer tfadesk (this one knows %d): upgrade tfadesk",
		    s->path, v, SCHEMA_VERSION);
		goto fail;
	}
	for (; v < to; v++) {
		if (exec(s, schema[v]) == -1)
			goto fail;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (exec(s, pragma) == -1)
			goto fail;
		log_info("store: schema migrated to version %d", v + 1);
	}
	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK) {
		store_err(s, "foreign_key_check");
		goto fail;
	}
	bad = sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	if (bad) {
		log_warnx("store: %s: migration broke a foreign key", s->path);
		goto fail;
	}
	if (store_commit(s) == -1)
		goto out;
	exec(s, "PRAGMA foreign_keys = ON");
	return 0;
fail:
	store_rollback(s);
out:
	exec(s, "PRAGMA foreign_keys = ON");
	return -1;
}

int
store_schema_version(void)
{
	return SCHEMA_VERSION;
}

int
store_vschema_version(void)
{
	return VSCHEMA_VERSION;
}

/* "file:PATH?mode=MODE" with the characters a URI gives a meaning to
 * escaped. Owned. */
static char *
file_uri(const char *path, const char *mode)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			buf_addf(&b, "%%%02X", (unsigned char)*p);
		else
			buf_addc(&b, *p);
	}
	buf_addf(&b, "?mode=%s", mode);
	return b.s;
}

/* ATTACH PATH AS NAME, read-only unless RW. */
static int
attach(struct store *s, const char *path, const char *name, int rw)
{
	sqlite3_stmt *st;
	char *uri = file_uri(path, rw ? "rw" : "ro");
	int rc;

	if (sqlite3_prepare_v2(s->db, "ATTACH ? AS ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(uri);
		return store_err(s, "attach");
	}
	store_bind_text(st, 1, uri);
	store_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(uri);
	if (rc != SQLITE_DONE) {
		log_warnx("store: %s: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* PRAGMA DB.user_version; -1 on error (logged). */
static int
schema_version_of(struct store *s, const char *db)
{
	sqlite3_stmt *st;
	char sql[64];
	int v = -1;

	snprintf(sql, sizeof sql, "PRAGMA %s.user_version", db);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_err(s, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		store_err(s, "user_version");
	sqlite3_finalize(st);
	return v;
}

/* Names what is wrong with a schema version: 0 fine, -1 logged. */
static int
version_ok(const char *path, int v, int want, const char *init)
{
	if (v < 0)
		return -1;
	if (v > want) {
		log_warnx("store: %s: schema version %d was written by a "
		    "newer tfadesk (this one knows %d): upgrade tfadesk", path,
		    v, want);
		return -1;
	}
	if (v != want) {
		log_warnx("store: %s: schema version %d, this tfadesk needs %d "
		    "(run %s)", path, v, want, init);
		return -1;
	}
	return 0;
}

struct store *
store_verifier_open(const char *vpath, const char *mainpath)
{
	struct store *s;

	if (access(mainpath, F_OK) == -1) {
		log_warnx("store: %s: no database here (run tfadesk db init)",
		    mainpath);
		return NULL;
	}
	if ((s = store_open(vpath, STORE_NOCHECK)) == NULL)
		return NULL;
	if (version_ok(vpath, schema_version_of(s, "main"), VSCHEMA_VERSION,
	    "tfadesk db init") == -1 ||
	    attach(s, mainpath, "core", 0) == -1 ||
	    version_ok(mainpath, schema_version_of(s, "core"), SCHEMA_VERSION,
	    "tfadesk db init") == -1) {
		store_close(s);
		return NULL;
	}
	return s;
}

/* 1: the attached main database has table NAME; 0 not; -1 error. */
static int
core_has(struct store *s, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM core.sqlite_master "
	    "WHERE type = 'table' AND name = ?", -1, &st, NULL) != SQLITE_OK)
		return store_err(s, "schema");
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(s, "schema");
	return rc == SQLITE_ROW;
}

int
store_verifier_init(const char *vpath, const char *mainpath)
{
	static const struct {
		const char *table, *sql;
	} copy[] = {
		{ "challenges", "INSERT OR IGNORE INTO main.challenges SELECT "
		    "user_id, dest, code_hash, created_at, expires_at, "
		    "attempts, state FROM core.challenges" },
		{ "sms_log", "INSERT OR IGNORE INTO main.sms_log SELECT id, "
		    "user_id, dest, at, status FROM core.sms_log" },
	};
	struct store *s;
	char pragma[64];
	int v, n;

	if ((s = store_open(vpath, STORE_CREATE)) == NULL)
		return -1;
	if (store_begin(s) == -1)
		goto fail;
	if ((v = schema_version_of(s, "main")) < 0)
		goto fail_tx;
	if (v > VSCHEMA_VERSION) {
		version_ok(vpath, v, VSCHEMA_VERSION, "");
		goto fail_tx;
	}
	for (; v < VSCHEMA_VERSION; v++) {
		if (exec(s, vschema[v]) == -1)
			goto fail_tx;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
		    v + 1);
		if (exec(s, pragma) == -1)
			goto fail_tx;
	}
	if (store_commit(s) == -1)
		goto fail;
	/* an older main database: its codes and send log move here (a copy
	 * that is safe to repeat; the main file's migration drops them) */
	if (attach(s, mainpath, "core", 1) == -1 || store_begin(s) == -1)
		goto fail;
	for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
		if ((n = core_has(s, copy[i].table)) == -1)
			goto fail_tx;
		if (n && exec(s, copy[i].sql) == -1)
			goto fail_tx;
		if (n)
			log_info("store: %s: %s copied to %s", mainpath,
			    copy[i].table, vpath);
	}
	if (store_commit(s) == -1)
		goto fail;
	store_close(s);
	return 0;
fail_tx:
	store_rollback(s);
fail:
	store_close(s);
	return -1;
}

int
store_attach_verifier(struct store *s, const char *vpath)
{
	if (vpath == NULL || access(vpath, F_OK) == -1)
		return 0;
	if (attach(s, vpath, "verifier", 0) == -1)
		return -1;
	s->has_verifier = 1;
	return 0;
}

int
store_begin(struct store *s)
{
	char sql[48];

	if (s->depth == 0)
		snprintf(sql, sizeof sql, "BEGIN IMMEDIATE");
	else
		snprintf(sql, sizeof sql, "SAVEPOINT sp%d", s->depth);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_err(s, "begin");
	if (s->depth == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->tx_start);
	s->depth++;
	return 0;
}

int
store_commit(struct store *s)
{
	char sql[48];

	if (s->depth <= 0)
		fatalx("store: commit outside a transaction");
	s->depth--;
	if (s->depth == 0)
		snprintf(sql, sizeof sql, "COMMIT");
	else
		snprintf(sql, sizeof sql, "RELEASE sp%d", s->depth);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_err(s, "commit");
		s->depth++;
		store_rollback(s);
		return -1;
	}
	if (s->depth == 0)
		tx_end(s);
	return 0;
}

int
store_full(const struct store *s)
{
	return (s->last_err & 0xff) == SQLITE_FULL;
}

void
store_rollback(struct store *s)
{
	char sql[64];

	if (s->depth <= 0)
		return;
	/* After a full disk or an I/O error SQLite may have rolled the
	 * whole transaction back itself: nothing is left to undo, and a
	 * ROLLBACK would only fail with a second, misleading error. */
	if (sqlite3_get_autocommit(s->db)) {
		s->depth = 0;
		s->sync_table = 0;
		return;
	}
	s->depth--;
	if (s->depth == 0) {
		snprintf(sql, sizeof sql, "ROLLBACK");
		s->sync_table = 0;   /* a temp table made inside is gone */
		tx_end(s);
	} else
		snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d",
		    s->depth, s->depth);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		store_err(s, "rollback");
}

int
store_audit(struct store *s, const char *actor, const char *action,
    const char *account, const char *user, const char *old_value,
    const char *new_value, int64_t ticket_id)
{
	static const char sql[] = "INSERT INTO audit (at, actor, action, "
	    "account, user, old, new, ticket_id) VALUES (?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = store_stmt(s, sql);
	char *at;
	int rc;

	if (st == NULL)
		return -1;
	at = time_iso(now_time());
	store_bind_text(st, 1, at);
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, account);
	store_bind_text(st, 5, user);
	store_bind_text(st, 6, old_value);
	store_bind_text(st, 7, new_value);
	if (ticket_id > 0)
		sqlite3_bind_int64(st, 8, ticket_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(at);
	if (rc != SQLITE_DONE)
		return store_err(s, "audit");
	return 0;
}

int64_t
store_audit_last(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

int
store_audit_note(struct store *s, int64_t id, const char *note)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE audit SET note = ? "
	    "WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, note);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_err(s, "audit note");
	return 0;
}

int
store_kv_get(struct store *s, const char *key, char **value)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT value FROM kv WHERE key = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = store_col_text(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 1;
	return store_err(s, "kv get");
}

int
store_kv_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO kv (key, value) "
	    "VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_err(s, "kv set");
	return 0;
}
