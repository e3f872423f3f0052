/*
 * vstore.c - the verifier's tables: challenges (one pending code per user,
 * stored as a keyed hash) and sms_log (every send attempt, for the send
 * limits). Every statement is prepared once per connection (store_stmt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store-int.h"
#include "verify.h"

static int step_done(struct store *, struct dbst *, const char *);

static int
step_done(struct store *s, struct dbst *st, const char *what)
{
	int rc = db_step(st);

	db_reset(st);
	if (rc != DB_DONE)
		return store_err(s, what);
	return 0;
}

/* SQLite's tuning of the verifier's connection (db-sqlite.c says why);
 * PostgreSQL needs none. */
int
vstore_tune(struct store *s, int serving)
{
	if (store_is_pg(s))
		return 0;
	if (db_sqlite_tune(s->db, serving) == -1)
		return store_err(s, "tune");
	return 0;
}

/* SQLite: a PASSIVE checkpoint of the WAL (db_sqlite_checkpoint);
 * PostgreSQL: nothing (the server checkpoints). */
int
vstore_checkpoint(struct store *s, int *frames, int *copied)
{
	if (frames)
		*frames = 0;
	if (copied)
		*copied = 0;
	if (store_is_pg(s))
		return 0;
	if (db_sqlite_checkpoint(s->db, frames, copied) == -1)
		return store_err(s, "checkpoint");
	return 0;
}

/* SQLite: the files to disk ahead of the next checkpoint. */
void
vstore_presync(struct store *s)
{
	if (!store_is_pg(s))
		db_sqlite_presync(s->db);
}

/*
 * Inside a write transaction just begun: the verifier's writers take turns
 * across every process and host, as SQLite's BEGIN IMMEDIATE makes them do
 * on one file. PostgreSQL: an advisory lock held until the commit, so
 * that the counts a decision reads (attempts, sends per user, per number,
 * in all) are the ones it writes back, whichever verifier serves the
 * request. Each holder's transaction is a few statements long.
 */
int
vstore_serialize(struct store *s)
{
	static const char sql[] = "SELECT pg_advisory_xact_lock(7244402)";
	struct dbst *st;
	int rc;

	if (!store_is_pg(s))
		return 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 0 : store_err(s, "verifier lock");
}

const char *
vstore_errmsg(struct store *s)
{
	return db_errmsg(s->db);
}

int
vstore_versions(struct store *s, char *why, size_t len)
{
	static const char *const sql[] = { "PRAGMA main.user_version",
	    "PRAGMA core.user_version" };
	static const char *const name[] = { "verifier database",
	    "main database" };
	int want[2] = { store_vschema_version(), store_schema_version() };
	struct dbst *st;
	int v, rc;

	/* PostgreSQL: one database, one version (the verifier's tables are
	 * part of its schema) */
	if (store_is_pg(s)) {
		if ((v = store_version(s)) == -1) {
			snprintf(why, len, "database: cannot read: %s",
			    db_errmsg(s->db));
			return -1;
		}
		if (v != want[1]) {
			snprintf(why, len, "database: schema version %d, this "
			    "tfadesk-verify knows %d", v, want[1]);
			return -1;
		}
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		if ((st = store_stmt(s, sql[i])) == NULL) {
			snprintf(why, len, "%s: cannot read: %s", name[i],
			    db_errmsg(s->db));
			return -1;
		}
		rc = db_step(st);
		v = rc == DB_ROW ? db_col_int(st, 0) : -1;
		db_reset(st);
		if (rc != DB_ROW) {
			snprintf(why, len, "%s: cannot read: %s", name[i],
			    db_errmsg(s->db));
			return -1;
		}
		if (v != want[i]) {
			snprintf(why, len, "%s: schema version %d, this "
			    "tfadesk-verify knows %d", name[i], v, want[i]);
			return -1;
		}
	}
	return 0;
}

int
vstore_heartbeat(struct store *s, time_t now)
{
	static const char sql[] = "INSERT INTO heartbeat (id, at) VALUES "
	    "(1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, now);
	return step_done(s, st, "heartbeat");
}

int
vstore_chal_get(struct store *s, const char *user_id, struct vchal *c)
{
	static const char sql[] = "SELECT dest, code_hash, created_at, "
	    "expires_at, attempts, state FROM challenges WHERE user_id = ?";
	struct dbst *st = store_stmt(s, sql);
	const void *h;
	const char *t;
	int rc;

	memset(c, 0, sizeof *c);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		t = db_col_text(st, 0);
		snprintf(c->dest, sizeof c->dest, "%s", t ? t : "");
		h = db_col_blob(st, 1);
		if (h && db_col_bytes(st, 1) == OTP_HASH_BYTES) {
			memcpy(c->hash, h, OTP_HASH_BYTES);
			c->has_hash = 1;
		}
		c->created_at = (time_t)db_col_int64(st, 2);
		c->expires_at = (time_t)db_col_int64(st, 3);
		c->attempts = db_col_int(st, 4);
		t = db_col_text(st, 5);
		snprintf(c->state, sizeof c->state, "%s", t ? t : "");
	}
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? 1 : store_err(s, "challenge");
}

int
vstore_chal_put(struct store *s, const char *user_id, const char *dest,
    const unsigned char *hash, time_t created_at, time_t expires_at,
    const char *state)
{
	static const char sql[] = "INSERT INTO challenges (user_id, dest, "
	    "code_hash, created_at, expires_at, attempts, state) "
	    "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (user_id) DO UPDATE SET "
	    "dest = excluded.dest, code_hash = excluded.code_hash, "
	    "created_at = excluded.created_at, "
	    "expires_at = excluded.expires_at, attempts = 0, "
	    "state = excluded.state";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	store_bind_text(st, 2, dest);
	if (hash)
		db_bind_blob(st, 3, hash, OTP_HASH_BYTES);
	db_bind_int64(st, 4, created_at);
	db_bind_int64(st, 5, expires_at);
	store_bind_text(st, 6, state);
	return step_done(s, st, "challenge put");
}

int
vstore_chal_set(struct store *s, const char *user_id, const char *state,
    int attempts, int clear_hash)
{
	static const char sql[] = "UPDATE challenges SET state = ?, "
	    "attempts = ?, code_hash = CASE WHEN ? <> 0 THEN NULL ELSE "
	    "code_hash END WHERE user_id = ?";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, state);
	db_bind_int(st, 2, attempts);
	db_bind_int(st, 3, clear_hash != 0);
	store_bind_text(st, 4, user_id);
	return step_done(s, st, "challenge set");
}

int
vstore_chal_move(struct store *s, const char *user_id, time_t created_at,
    const unsigned char *hash, const char *from, const char *to,
    int clear_hash)
{
	static const char sql[] = "UPDATE challenges SET state = ?, "
	    "code_hash = CASE WHEN ? <> 0 THEN NULL ELSE code_hash END "
	    "WHERE user_id = ? AND state = ? AND created_at = ? "
	    "AND code_hash = ?";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, to);
	db_bind_int(st, 2, clear_hash != 0);
	store_bind_text(st, 3, user_id);
	store_bind_text(st, 4, from);
	db_bind_int64(st, 5, created_at);
	db_bind_blob(st, 6, hash, OTP_HASH_BYTES);
	if (step_done(s, st, "challenge move") == -1)
		return -1;
	return db_changes(s->db) == 1 ? 0 : 1;
}

int
vstore_chal_drop(struct store *s, const char *user_id)
{
	static const char sql[] = "DELETE FROM challenges WHERE user_id = ?";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	return step_done(s, st, "challenge drop");
}

int
vstore_sends_user(struct store *s, const char *user_id, time_t since,
    long *count, time_t *last_sent)
{
	static const char sql_n[] = "SELECT count(*) FROM sms_log "
	    "WHERE user_id = ? AND at >= ?";
	/* a send still under way counts: parallel starts must not all
	 * pass the cool-down before the first of them is accepted */
	static const char sql_last[] = "SELECT max(at) FROM sms_log "
	    "WHERE user_id = ? AND status IN ('sending', 'sent')";
	struct dbst *st;
	int rc;

	if ((st = store_stmt(s, sql_n)) == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	db_bind_int64(st, 2, since);
	rc = db_step(st);
	*count = rc == DB_ROW ? (long)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return store_err(s, "sms_log count");
	if ((st = store_stmt(s, sql_last)) == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	rc = db_step(st);
	*last_sent = rc == DB_ROW ? (time_t)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return store_err(s, "sms_log last");
	return 0;
}

int
vstore_sends_dest(struct store *s, const char *dest, time_t since,
    long *count)
{
	static const char sql[] = "SELECT count(*) FROM sms_log "
	    "WHERE dest = ? AND at >= ?";
	struct dbst *st = store_stmt(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, dest);
	db_bind_int64(st, 2, since);
	rc = db_step(st);
	*count = rc == DB_ROW ? (long)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return store_err(s, "sms_log count");
	return 0;
}

int
vstore_smslog_add(struct store *s, const char *user_id, const char *dest,
    time_t at, const char *status, int64_t *id)
{
	struct dbst *st = store_stmt(s, STORE_INSERT_ID(s, "INSERT INTO "
	    "sms_log (user_id, dest, at, status) VALUES (?, ?, ?, ?)"));

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	store_bind_text(st, 2, dest);
	db_bind_int64(st, 3, at);
	store_bind_text(st, 4, status);
	if (store_step_insert(s, st, id) != 0)
		return store_err(s, "sms_log add");
	return 0;
}

int
vstore_smslog_set(struct store *s, int64_t id, const char *status)
{
	static const char sql[] = "UPDATE sms_log SET status = ? WHERE id = ?";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, status);
	db_bind_int64(st, 2, id);
	return step_done(s, st, "sms_log set");
}

int
vstore_smslog_prune(struct store *s, time_t before)
{
	static const char sql[] = "DELETE FROM sms_log WHERE at < ?";
	struct dbst *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, before);
	return step_done(s, st, "sms_log prune");
}

int
vstore_sends_all(struct store *s, time_t since, long *count)
{
	static const char sql[] = "SELECT count(*) FROM sms_log WHERE at >= ?";
	struct dbst *st = store_stmt(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, since);
	rc = db_step(st);
	*count = rc == DB_ROW ? (long)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return store_err(s, "sms_log count");
	return 0;
}

int
vstore_sends_nth(struct store *s, const char *user_id, const char *dest,
    time_t since, long n, time_t *at)
{
	static const char sql_user[] = "SELECT at FROM sms_log "
	    "WHERE user_id = ?1 AND at >= ?2 ORDER BY at LIMIT 1 OFFSET ?3";
	static const char sql_dest[] = "SELECT at FROM sms_log "
	    "WHERE dest = ?1 AND at >= ?2 ORDER BY at LIMIT 1 OFFSET ?3";
	static const char sql_all[] = "SELECT at FROM sms_log "
	    "WHERE at >= ?2 ORDER BY at LIMIT 1 OFFSET ?3";
	struct dbst *st = store_stmt(s, user_id ? sql_user : dest ? sql_dest :
	    sql_all);
	int rc;

	if (st == NULL)
		return -1;
	if (user_id || dest)
		store_bind_text(st, 1, user_id ? user_id : dest);
	db_bind_int64(st, 2, since);
	db_bind_int64(st, 3, n);
	rc = db_step(st);
	*at = rc == DB_ROW ? (time_t)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_err(s, "sms_log nth");
	return rc == DB_ROW ? 0 : 1;
}
