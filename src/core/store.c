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
/*
 * What a portal may read directly: each user with its account and whether
 * 2FA applies (a reseller's flag, an end client's use_2fa), and whether a
 * mobile number is on file -- never the number itself. Versioned by its
 * name: a change of its columns is a new view (tfadesk_portal_v2) beside
 * this one, never an edit of it. README.md, "Moving to PostgreSQL".
 */
#define PORTAL_VIEW \
	"CREATE VIEW tfadesk_portal_v1 AS SELECT" \
	"  u.id AS user_id, u.name AS user_name," \
	"  a.id AS account_id, a.name AS account_name," \
	"  a.kind AS account_kind, coalesce(a.reseller, a.id) AS reseller_id," \
	"  CASE WHEN a.kind = 'reseller' THEN a.twofa" \
	"    WHEN EXISTS (SELECT 1 FROM permissions p WHERE" \
	"    p.account = a.id AND p.perm = 'use_2fa') THEN 1 ELSE 0 END" \
	"    AS twofa," \
	"  CASE WHEN u.phone IS NULL THEN 0 ELSE 1 END AS has_mobile" \
	"  FROM users u JOIN accounts a ON a.id = u.account;"

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
	/* 11: the portal's view */
	PORTAL_VIEW,
	/*
	 * 12: the raw message in a table of its own (issue 14). process
	 * rewrites a ticket's row at each change of state, and the row held
	 * the raw bytes (1.1 KB on average, up to hundreds of KB): every
	 * UPDATE copied them again, and the covering index tickets_desk
	 * (every column but raw and results, there only so that the desk
	 * never read a raw message) was rewritten with it. Written once at
	 * intake, read by queue show, the desk's ticket page and process.
	 * The rows are copied in id order. DROP COLUMN (SQLite 3.35)
	 * refuses a column an index or a view names: none names raw.
	 * store_migrate_to checks the foreign keys before the commit.
	 */
	"CREATE TABLE ticket_raw ("
	"  ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),"
	"  raw BLOB NOT NULL);"
	"INSERT INTO ticket_raw (ticket_id, raw) SELECT id, raw FROM tickets"
	"  ORDER BY id;"
	"DROP INDEX IF EXISTS tickets_desk;"
	"ALTER TABLE tickets DROP COLUMN raw;",
	/*
	 * 13: how many users a ticket's per-user results refused, counted
	 * by process when it writes them; every reader of a ticket used to
	 * parse the results JSON again (on PostgreSQL through tfadesk_json,
	 * whose error handler costs a subtransaction a row). The tickets
	 * there are counted here, as the readers did. And a reseller's
	 * contacts by address in reseller order straight from an index (a
	 * sort for every ticket's sender before).
	 */
	"ALTER TABLE tickets ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;"
	"UPDATE tickets SET refused = CASE WHEN json_valid(results) AND"
	"  json_type(results) = 'array' THEN (SELECT count(*) FROM"
	"  json_each(results) r WHERE CASE WHEN r.type = 'object' THEN"
	"  json_extract(r.value, '$.result') END = 'rejected') ELSE 0 END"
	"  WHERE results IS NOT NULL;"
	"CREATE INDEX contacts_addr_reseller ON contacts(addr COLLATE NOCASE,"
	"  reseller);"
	"DROP INDEX contacts_addr;",
	/*
	 * 14: the CHECK on a ticket's and a reply's state as a chain of
	 * ORs, the same values allowed. SQLite makes "x IN (three or more
	 * values)" a temporary table, created and filled again at every
	 * INSERT or UPDATE of the row: 6% of what process does a ticket.
	 * SQLite cannot change a CHECK in place, so both tables are
	 * rebuilt: rows copied in id order with their ids, the indexes made
	 * again. PostgreSQL's IN is a plain comparison: nothing to do there.
	 */
	"CREATE TABLE tickets_v14 ("
	"  id INTEGER PRIMARY KEY,"
	"  msgkey TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  kind TEXT,"
	"  state TEXT NOT NULL DEFAULT 'new' CHECK (state = 'new' OR"
	"    state = 'applied' OR state = 'needs_review' OR"
	"    state = 'rejected' OR state = 'ignored'),"
	"  reason TEXT,"
	"  from_addr TEXT,"
	"  subject TEXT,"
	"  fields TEXT,"
	"  results TEXT,"
	"  account TEXT,"
	"  updated INTEGER NOT NULL,"
	"  assigned TEXT,"
	"  refused INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (msgkey, digest));"
	"INSERT INTO tickets_v14 (id, msgkey, digest, source, received, kind,"
	"  state, reason, from_addr, subject, fields, results, account, updated,"
	"  assigned, refused) SELECT id, msgkey, digest, source, received, kind,"
	"  state, reason, from_addr, subject, fields, results, account, updated,"
	"  assigned, refused FROM tickets ORDER BY id;"
	"DROP TABLE tickets;"
	"ALTER TABLE tickets_v14 RENAME TO tickets;"
	"CREATE INDEX tickets_state ON tickets(state, id);"
	"CREATE INDEX tickets_assigned ON tickets(assigned);"
	"CREATE INDEX tickets_kind ON tickets(kind, id);"
	"CREATE INDEX tickets_account ON tickets(account, id);"
	"CREATE INDEX tickets_received ON tickets(received);"
	"CREATE TABLE outbox_v14 ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  msgid TEXT NOT NULL UNIQUE,"
	"  mail_from TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  message BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state = 'queued' OR"
	"    state = 'sent' OR state = 'failed'),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  sent INTEGER,"
	"  claim TEXT,"
	"  claimed_until INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO outbox_v14 (id, ticket_id, msgid, mail_from, rcpt, message,"
	"  state, attempts, next_try, last_error, created, sent, claim,"
	"  claimed_until) SELECT id, ticket_id, msgid, mail_from, rcpt, message,"
	"  state, attempts, next_try, last_error, created, sent, claim,"
	"  claimed_until FROM outbox ORDER BY id;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v14 RENAME TO outbox;"
	"CREATE INDEX outbox_due ON outbox(state, next_try);"
	"CREATE INDEX outbox_ticket ON outbox(ticket_id);"
	"CREATE INDEX outbox_claim ON outbox(claim);",
};
#define SCHEMA_VERSION ((int)(sizeof schema / sizeof schema[0]))

static int sql_digest(void *, const void *, size_t, char *, size_t);

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


/*
 * PostgreSQL: no history to replay. pgbase creates every table as the
 * SQLite schema stands at PG_BASE_VERSION (the verifier's tables
 * included: one database holds them), in PostgreSQL's types (BIGINT
 * times and ids, BYTEA, identity columns, the case-blind collation
 * "nocase" for e-mail addresses). The version is in schema_version.
 * A later step of schema[] gets its PostgreSQL twin in pgschema[]:
 * pgschema[i] takes PG_BASE_VERSION + i to PG_BASE_VERSION + i + 1.
 */
#define PG_BASE_VERSION 10
static const char pgbase[] =
	"CREATE COLLATION IF NOT EXISTS nocase (provider = icu, "
	"  locale = 'und-u-ks-level2', deterministic = false);"
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	/* the text as JSON, NULL when it is not (SQLite's json_valid) */
	"CREATE FUNCTION tfadesk_json(t TEXT) RETURNS json LANGUAGE plpgsql"
	"  IMMUTABLE AS $f$ BEGIN RETURN t::json; EXCEPTION WHEN others THEN"
	"  RETURN NULL; END $f$;"
	"CREATE TABLE accounts ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('reseller', 'end_client')),"
	"  reseller TEXT REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  twofa INTEGER NOT NULL DEFAULT 0 CHECK (twofa IN (0, 1)),"
	"  imported_twofa INTEGER CHECK (imported_twofa IN (0, 1)),"
	"  CHECK ((kind = 'reseller') = (reseller IS NULL)));"
	"CREATE INDEX accounts_reseller ON accounts(reseller);"
	"CREATE TABLE users ("
	"  id TEXT PRIMARY KEY,"
	"  account TEXT NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  phone TEXT CHECK (phone IS NULL OR phone ~ '^[0-9]{7,15}$'),"
	"  imported_phone TEXT);"
	"CREATE INDEX users_account_id ON users(account, id);"
	"CREATE TABLE contacts ("
	"  reseller TEXT NOT NULL REFERENCES accounts(id),"
	"  addr TEXT COLLATE nocase NOT NULL,"
	"  display TEXT,"
	"  PRIMARY KEY (reseller, addr));"
	"CREATE INDEX contacts_addr ON contacts(addr);"
	"CREATE TABLE permissions ("
	"  account TEXT NOT NULL REFERENCES accounts(id),"
	"  perm TEXT NOT NULL CHECK (perm IN ('use_2fa')),"
	"  PRIMARY KEY (account, perm));"
	"CREATE TABLE tickets ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  msgkey TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  raw BYTEA NOT NULL,"
	"  received BIGINT NOT NULL,"
	"  kind TEXT,"
	"  state TEXT NOT NULL DEFAULT 'new' CHECK (state IN"
	"    ('new', 'applied', 'needs_review', 'rejected', 'ignored')),"
	"  reason TEXT,"
	"  from_addr TEXT,"
	"  subject TEXT,"
	"  fields TEXT,"
	"  results TEXT,"
	"  account TEXT,"
	"  updated BIGINT NOT NULL,"
	"  assigned TEXT,"
	"  UNIQUE (msgkey, digest));"
	"CREATE INDEX tickets_state ON tickets(state, id);"
	"CREATE INDEX tickets_assigned ON tickets(assigned);"
	"CREATE INDEX tickets_kind ON tickets(kind, id);"
	"CREATE INDEX tickets_account ON tickets(account, id);"
	"CREATE INDEX tickets_received ON tickets(received);"
	"CREATE TABLE ticket_sources ("
	"  source_key TEXT PRIMARY KEY,"
	"  ticket_id BIGINT NOT NULL REFERENCES tickets(id),"
	"  at BIGINT NOT NULL);"
	"CREATE TABLE ticket_plans ("
	"  ticket_id BIGINT PRIMARY KEY,"
	"  plan TEXT NOT NULL,"
	"  token TEXT NOT NULL,"
	"  at BIGINT NOT NULL);"
	"CREATE TABLE audit ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  account TEXT,"
	"  \"user\" TEXT,"
	"  old TEXT,"
	"  new TEXT,"
	"  ticket_id BIGINT,"
	"  note TEXT);"
	"CREATE INDEX audit_account ON audit(account);"
	"CREATE INDEX audit_user ON audit(\"user\");"
	"CREATE INDEX audit_ticket ON audit(ticket_id);"
	"CREATE INDEX audit_actor ON audit(actor);"
	"CREATE TABLE outbox ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  ticket_id BIGINT REFERENCES tickets(id),"
	"  msgid TEXT NOT NULL UNIQUE,"
	"  mail_from TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  message BYTEA NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
	"    ('queued', 'sent', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try BIGINT NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created BIGINT NOT NULL,"
	"  sent BIGINT,"
	"  claim TEXT,"
	"  claimed_until BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(state, next_try);"
	"CREATE INDEX outbox_ticket ON outbox(ticket_id);"
	"CREATE INDEX outbox_claim ON outbox(claim);"
	"CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE staff ("
	"  name TEXT PRIMARY KEY,"
	"  phone TEXT NOT NULL CHECK (phone ~ '^[0-9]{7,15}$'),"
	"  pwhash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created BIGINT NOT NULL);"
	"CREATE TABLE desk_sessions ("
	"  token_hash BYTEA PRIMARY KEY,"
	"  staff TEXT NOT NULL REFERENCES staff(name),"
	"  csrf TEXT NOT NULL,"
	"  verified INTEGER NOT NULL DEFAULT 0,"
	"  created BIGINT NOT NULL,"
	"  last_seen BIGINT NOT NULL);"
	"CREATE INDEX desk_sessions_staff ON desk_sessions(staff);"
	"CREATE TABLE desk_failures (key TEXT NOT NULL, at BIGINT NOT NULL);"
	"CREATE INDEX desk_failures_key ON desk_failures(key, at);"
	/* the verifier's tables (verifier.database on SQLite) */
	"CREATE TABLE challenges ("
	"  user_id TEXT PRIMARY KEY,"
	"  dest TEXT NOT NULL,"
	"  code_hash BYTEA,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL);"
	"CREATE TABLE sms_log ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  user_id TEXT,"
	"  dest TEXT NOT NULL,"
	"  at BIGINT NOT NULL,"
	"  status TEXT NOT NULL);"
	"CREATE INDEX sms_log_user ON sms_log(user_id, at);"
	"CREATE INDEX sms_log_dest ON sms_log(dest, at);"
	"CREATE INDEX sms_log_at ON sms_log(at);"
	"CREATE TABLE heartbeat ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  at BIGINT NOT NULL);";
/* { "step 11", "step 12", ..., NULL } */
static const char *const pgschema[] = {
	/* 11: the portal's view */
	PORTAL_VIEW,
	/* 12: the raw message in a table of its own (schema[] step 12;
	 * PostgreSQL never had tickets_desk) */
	"CREATE TABLE ticket_raw ("
	"  ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),"
	"  raw BYTEA NOT NULL);"
	"INSERT INTO ticket_raw (ticket_id, raw) SELECT id, raw FROM tickets"
	"  ORDER BY id;"
	"ALTER TABLE tickets DROP COLUMN raw;",
	/* 13: the refused count a column (tfadesk_json() is NULL for text
	 * that is not JSON), contacts by (addr, reseller) */
	"ALTER TABLE tickets ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;"
	"UPDATE tickets SET refused = (SELECT count(*) FROM"
	"  json_array_elements(CASE WHEN json_typeof(tfadesk_json(results)) ="
	"  'array' THEN tfadesk_json(results) ELSE '[]' END) r WHERE CASE WHEN"
	"  json_typeof(r) = 'object' THEN r->>'result' END = 'rejected')"
	"  WHERE results IS NOT NULL;"
	"CREATE INDEX contacts_addr_reseller ON contacts(addr, reseller);"
	"DROP INDEX contacts_addr;",
	/* 14: nothing (schema[] step 14 is SQLite's own cost of IN) */
	"SELECT 14;",
	NULL
};
#define PG_STEPS ((int)(sizeof pgschema / sizeof pgschema[0]) - 1)
_Static_assert(PG_BASE_VERSION + PG_STEPS == SCHEMA_VERSION,
    "pgbase and pgschema[] stand at the SQLite schema's version");

static const char *pw_file;    /* database_password_file */
/* the exit status a failed store_open asks for (0: the caller's own) */
static _Thread_local int open_status;

void
store_set_password_file(const char *path)
{
	pw_file = path;
}

int
store_on_pg(const struct store *s)
{
	return db_kind(s->db) == DB_PG;
}

int
store_uri_is_pg(const char *database)
{
	return database != NULL && db_is_pg(database);
}

int
store_is_pg(const struct store *s)
{
	return db_kind(s->db) == DB_PG;
}

int
store_err(struct store *s, const char *what)
{
	log_warnx("store: %s: %s", what, db_errmsg(s->db));
	return -1;
}

int
store_row(struct store *s, struct dbst *st, store_read_fn rd, void *out,
    const char *what)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = db_step(st);
	if (rc == DB_ROW)
		rd(st, out);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, what);
}

int
store_rows(struct store *s, struct dbst *st, store_read_fn rd, size_t size,
    void *outp, size_t *n, const char *what)
{
	char *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*(void **)outp = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, size);
		}
		memset(v + cnt * size, 0, size);
		rd(st, v + cnt * size);
		cnt++;
	}
	db_reset(st);
	*(void **)outp = v;
	*n = cnt;
	return rc == DB_DONE ? 0 : store_err(s, what);
}

struct dbst *
store_stmt(struct store *s, const char *sql)
{
	struct dbst *st;

	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			st = s->cache[i].st;
			db_reset(st);
			db_clear(st);
			return st;
		}
	if ((st = db_prepare(s->db, sql)) == NULL) {
		log_warnx("store: prepare: %s: %.60s", db_errmsg(s->db), sql);
		return NULL;
	}
	if (s->ncache == sizeof s->cache / sizeof s->cache[0]) {
		/* full: drop the oldest */
		db_finalize(s->cache[0].st);
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
store_bind_text(struct dbst *st, int idx, const char *v)
{
	return db_bind_text(st, idx, v);
}

char *
store_col_text(struct dbst *st, int col)
{
	const char *t = db_col_text(st, col);
	return t ? xstrdup(t) : NULL;
}

static int
exec(struct store *s, const char *sql)
{
	if (db_exec(s->db, sql) == -1) {
		log_warnx("store: %s: %s", s->path, db_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* "postgresql://user@host/db?..." without a password written inside
 * (user:password@): what our messages may name. Owned. */
static char *
uri_shown(const char *uri)
{
	const char *p = strstr(uri, "://"), *at, *colon, *end;

	if (p == NULL)
		return xstrdup(uri);
	p += 3;
	end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at == NULL || (colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return xstrdup(uri);
	return xstrfmt("%.*s:***%s", (int)(colon - uri), uri, at);
}

/* PWFILE: the password's secret file, or NULL */
static struct store *
open_pg(const char *uri, int flags, const char *pwfile)
{
	struct store *s;
	char *pw = NULL;
	int v;

	/* read_secret_file names the file and what is wrong with it; its
	 * exit status is that of every other secret (77 for a mode or an
	 * owner) */
	if (pwfile && read_secret_file(pwfile, &pw) == -1) {
		open_status = secret_exit(errno);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->path = uri_shown(uri);
	s->readonly = (flags & STORE_RDONLY) != 0;
	s->db = db_open_pg(uri, pw);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (s->db == NULL) {
		store_close(s);
		return NULL;
	}
	if (s->readonly && exec(s, "SET default_transaction_read_only = on")
	    == -1) {
		store_close(s);
		return NULL;
	}
	if (!(flags & (STORE_CREATE | STORE_NOCHECK))) {
		if ((v = store_version(s)) < 0 || v != SCHEMA_VERSION) {
			if (v >= 0)
				store_version_ok(s->path, v, SCHEMA_VERSION,
				    "tfadesk db init");
			store_close(s);
			return NULL;
		}
	}
	return s;
}

int
store_open_status(int dflt)
{
	return open_status ? open_status : dflt;
}

struct store *
store_open(const char *path, int flags)
{
	struct store *s;
	int fd;

	open_status = 0;
	if (db_is_pg(path))
		return open_pg(path, flags, pw_file);
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
	if ((s->db = db_open_sqlite(path, (s->readonly ? DB_RDONLY : 0) |
	    ((flags & STORE_CREATE) ? DB_CREATE : 0))) == NULL) {
		store_close(s);
		return NULL;
	}
	if (db_sqlite_function(s->db, "ticket_digest", sql_digest, s) == -1) {
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

struct store *
store_open_pw(const char *path, int flags, const char *password_file)
{
	if (password_file && db_is_pg(path))
		return open_pg(path, flags, password_file);
	return store_open(path, flags);
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
		db_finalize(s->cache[i].st);
	db_close(s->db);
	free(s->path);
	free(s);
}

const char *
store_path(struct store *s)
{
	return s->path;
}

/* One integer from SQL without parameters; -1 on error (logged). */
static int
query_int(struct store *s, const char *sql, int none)
{
	struct dbst *st;
	int v = none, rc;

	if ((st = db_prepare(s->db, sql)) == NULL)
		return store_err(s, "schema version");
	if ((rc = db_step(st)) == DB_ROW)
		v = db_col_null(st, 0) ? none : db_col_int(st, 0);
	else if (rc != DB_DONE)
		v = store_err(s, "schema version");
	db_finalize(st);
	return v;
}

int
store_version(struct store *s)
{
	if (store_is_pg(s)) {
		int has = query_int(s, "SELECT to_regclass('schema_version') "
		    "IS NOT NULL", 0);
		if (has <= 0)
			return has;
		return query_int(s, "SELECT max(version) FROM schema_version",
		    0);
	}
	return query_int(s, "PRAGMA user_version", 0);
}

/* ticket_digest(raw) in SQL: the hex identity digest (migration 2). */
static int
sql_digest(void *arg, const void *raw, size_t len, char *out, size_t outlen)
{
	struct store *s = arg;

	if (s->digest == NULL || outlen < STORE_DIGEST_HEX)
		return -1;
	return s->digest(raw, len, out);
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

/* PostgreSQL: the base schema, then later steps, in one transaction;
 * an advisory lock of the transaction keeps two db inits apart. */
static int
migrate_pg(struct store *s, int to)
{
	char sql[96];
	int v;

	if (store_begin(s) == -1)
		return -1;
	if (exec(s, "SELECT pg_advisory_xact_lock(7244400)") == -1 ||
	    (v = store_version(s)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		log_warnx("store: %s: schema version %d was written by a "
		    "newer tfadesk (this one knows %d): upgrade tfadesk",
		    s->path, v, SCHEMA_VERSION);
		goto fail;
	}
	if (v == 0 && to > 0) {
		if (exec(s, pgbase) == -1)
			goto fail;
		v = PG_BASE_VERSION;
		snprintf(sql, sizeof sql, "INSERT INTO schema_version "
		    "(version) VALUES (%d)", v);
		if (exec(s, sql) == -1)
			goto fail;
		log_info("store: schema created at version %d", v);
	}
	for (; v < to && v - PG_BASE_VERSION < PG_STEPS; v++) {
		if (exec(s, pgschema[v - PG_BASE_VERSION]) == -1)
			goto fail;
		snprintf(sql, sizeof sql, "UPDATE schema_version SET "
		    "version = %d", v + 1);
		if (exec(s, sql) == -1)
			goto fail;
		log_info("store: schema migrated to version %d", v + 1);
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

/*
 * Steps that rebuild a table need foreign keys off (DROP TABLE would
 * otherwise delete through them); that PRAGMA only works outside a
 * transaction. The keys are checked before the commit.
 */
int
store_migrate_to(struct store *s, int to)
{
	struct dbst *st;
	int v, bad;
	char pragma[64];

	if (to > SCHEMA_VERSION)
		to = SCHEMA_VERSION;
	if (store_is_pg(s))
		return migrate_pg(s, to);
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
	if ((st = db_prepare(s->db, "PRAGMA foreign_key_check")) == NULL) {
		store_err(s, "foreign_key_check");
		goto fail;
	}
	bad = db_step(st) != DB_DONE;
	db_finalize(st);
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

/* SQLite: ATTACH PATH AS NAME, read-only unless RW. */
int
store_attach(struct store *s, const char *path, const char *name, int rw)
{
	struct dbst *st;
	char *uri = file_uri(path, rw ? "rw" : "ro");
	int rc;

	if ((st = db_prepare(s->db, "ATTACH ? AS ?")) == NULL) {
		free(uri);
		return store_err(s, "attach");
	}
	store_bind_text(st, 1, uri);
	store_bind_text(st, 2, name);
	rc = db_step(st);
	db_finalize(st);
	free(uri);
	if (rc != DB_DONE) {
		log_warnx("store: %s: %s", path, db_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* SQLite: PRAGMA SCHEMA.user_version; -1 on error (logged). */
int
store_file_version(struct store *s, const char *db)
{
	struct dbst *st;
	char sql[64];
	int v = -1;

	snprintf(sql, sizeof sql, "PRAGMA %s.user_version", db);
	if ((st = db_prepare(s->db, sql)) == NULL)
		return store_err(s, "user_version");
	if (db_step(st) == DB_ROW)
		v = db_col_int(st, 0);
	else
		store_err(s, "user_version");
	db_finalize(st);
	return v;
}

/* Names what is wrong with a schema version: 0 fine, -1 logged. */
int
store_version_ok(const char *path, int v, int want, const char *init)
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

	/* PostgreSQL: one database, the verifier's tables in it */
	if (db_is_pg(mainpath))
		return store_open(mainpath, 0);
	if (access(mainpath, F_OK) == -1) {
		log_warnx("store: %s: no database here (run tfadesk db init)",
		    mainpath);
		return NULL;
	}
	if ((s = store_open(vpath, STORE_NOCHECK)) == NULL)
		return NULL;
	if (store_version_ok(vpath, store_file_version(s, "main"),
	    VSCHEMA_VERSION, "tfadesk db init") == -1 ||
	    store_attach(s, mainpath, "core", 0) == -1 ||
	    store_version_ok(mainpath, store_file_version(s, "core"),
	    SCHEMA_VERSION, "tfadesk db init") == -1) {
		store_close(s);
		return NULL;
	}
	return s;
}

/* 1: the attached main database has table NAME; 0 not; -1 error. */
static int
core_has(struct store *s, const char *name)
{
	struct dbst *st;
	int rc;

	if ((st = db_prepare(s->db, "SELECT 1 FROM core.sqlite_master "
	    "WHERE type = 'table' AND name = ?")) == NULL)
		return store_err(s, "schema");
	store_bind_text(st, 1, name);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_err(s, "schema");
	return rc == DB_ROW;
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

	/* PostgreSQL: the main schema holds the verifier's tables */
	if (db_is_pg(mainpath))
		return 0;
	if ((s = store_open(vpath, STORE_CREATE)) == NULL)
		return -1;
	if (store_begin(s) == -1)
		goto fail;
	if ((v = store_file_version(s, "main")) < 0)
		goto fail_tx;
	if (v > VSCHEMA_VERSION) {
		store_version_ok(vpath, v, VSCHEMA_VERSION, "");
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
	if (store_attach(s, mainpath, "core", 1) == -1 || store_begin(s) == -1)
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
	/* PostgreSQL: nothing to attach, the verifier's audit rows are in
	 * the one audit table */
	if (store_is_pg(s) || vpath == NULL || access(vpath, F_OK) == -1)
		return 0;
	if (store_attach(s, vpath, "verifier", 0) == -1)
		return -1;
	s->has_verifier = 1;
	return 0;
}

int
store_batch_lock(struct store *s, int wait)
{
	struct dbst *st;
	int rc, got;

	if (!store_is_pg(s))
		return 0;
	/* a session lock: held until this connection ends, whatever
	 * transactions commit or roll back meanwhile */
	if ((st = db_prepare(s->db, wait ? "SELECT pg_advisory_lock(7244401), "
	    "true" : "SELECT pg_try_advisory_lock(7244401)")) == NULL)
		return store_err(s, "batch lock");
	/* --wait waits as long as it takes, beyond the lock timeout */
	if (wait && exec(s, "SET lock_timeout = 0") == -1) {
		db_finalize(st);
		return -1;
	}
	rc = db_step(st);
	got = rc == DB_ROW && db_col_int(st, wait ? 1 : 0);
	db_finalize(st);
	if (wait && exec(s, "SET lock_timeout = '10s'") == -1)
		return -1;
	if (rc != DB_ROW)
		return store_err(s, "batch lock");
	return got ? 0 : 1;
}

int
store_begin(struct store *s)
{
	char sql[48];

	if (s->depth == 0)
		snprintf(sql, sizeof sql, "%s", db_begin_sql(s->db));
	else
		snprintf(sql, sizeof sql, "SAVEPOINT sp%d", s->depth);
	if (db_exec(s->db, sql) == -1)
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
	if (db_exec(s->db, sql) == -1) {
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
	return db_err_full(s->db);
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
	if (!db_in_tx(s->db)) {
		s->depth = 0;
		s->sync_table = 0;
		return;
	}
	s->depth--;
	if (s->depth == 0) {
		snprintf(sql, sizeof sql, "ROLLBACK");
		s->sync_table = 0;   /* a temp table made inside is gone */
		tx_end(s);
	} else if (store_is_pg(s)) {
		/* one round trip */
		snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d",
		    s->depth, s->depth);
	} else {
		/* two statements, each kept prepared by the SQLite layer */
		snprintf(sql, sizeof sql, "ROLLBACK TO sp%d", s->depth);
		if (db_exec(s->db, sql) == -1) {
			store_err(s, "rollback");
			return;
		}
		snprintf(sql, sizeof sql, "RELEASE sp%d", s->depth);
	}
	if (db_exec(s->db, sql) == -1)
		store_err(s, "rollback");
}

int
store_audit(struct store *s, const char *actor, const char *action,
    const char *account, const char *user, const char *old_value,
    const char *new_value, int64_t ticket_id)
{
	/* every check of the verifier writes one; its id for
	 * store_audit_last */
	struct dbst *st = store_stmt(s, STORE_INSERT_ID(s, "INSERT INTO "
	    "audit (at, actor, action, account, \"user\", old, new, "
	    "ticket_id) VALUES (?,?,?,?,?,?,?,?)"));
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
		db_bind_int64(st, 8, ticket_id);
	rc = store_step_insert(s, st, &s->audit_id);
	free(at);
	if (rc != 0)
		return store_err(s, "audit");
	return 0;
}

int
store_step_insert(struct store *s, struct dbst *st, int64_t *id)
{
	int rc = db_step(st);
	int64_t v = -1;

	if (rc == DB_ROW)
		v = db_col_int64(st, 0);
	else if (rc == DB_DONE)
		v = db_sqlite_rowid(s->db);
	db_reset(st);
	if (rc != (store_on_pg(s) ? DB_ROW : DB_DONE))
		return -1;
	if (id)
		*id = v;
	return 0;
}

int64_t
store_audit_last(struct store *s)
{
	return s->audit_id;
}

int
store_audit_note(struct store *s, int64_t id, const char *note)
{
	struct dbst *st = store_stmt(s, "UPDATE audit SET note = ? "
	    "WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, note);
	db_bind_int64(st, 2, id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, "audit note");
	return 0;
}

int
store_kv_get(struct store *s, const char *key, char **value)
{
	struct dbst *st = store_stmt(s, "SELECT value FROM kv WHERE key = ?");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*value = store_col_text(st, 0);
		db_reset(st);
		return 0;
	}
	db_reset(st);
	if (rc == DB_DONE)
		return 1;
	return store_err(s, "kv get");
}

int
store_kv_set(struct store *s, const char *key, const char *value)
{
	struct dbst *st = store_stmt(s, "INSERT INTO kv (key, value) "
	    "VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, value);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, "kv set");
	return 0;
}
