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

static int step_done(struct store *, sqlite3_stmt *, const char *);

static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_err(s, what);
	return 0;
}

/*
 * The verifier's connection commits with synchronous=NORMAL: in WAL mode a
 * commit is still atomic and survives a crash of the process, but the last
 * commits before a power loss may be rolled back. For the verifier that
 * means at worst an attempt counter or a "used" mark of the last moment
 * (codes expire within ttl_seconds anyway); it buys an fsync per check.
 */
int
vstore_tune(struct store *s, int serving)
{
	if (sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return store_err(s, "synchronous");
	/* serve: the checkpoints (and their fsync) run in a thread of their
	 * own (verifier_checkpoint), not in whichever request commits the
	 * 1000th page */
	if (serving && sqlite3_wal_autocheckpoint(s->db, 0) != SQLITE_OK)
		return store_err(s, "wal_autocheckpoint");
	/* reads of the database file through the page cache of the kernel,
	 * without a copy per page */
	if (serving && sqlite3_exec(s->db, "PRAGMA mmap_size = 268435456",
	    NULL, NULL, NULL) != SQLITE_OK)
		return store_err(s, "mmap_size");
	return 0;
}

/* Copies what it can of the WAL into the database without waiting for
 * anybody (PASSIVE); *frames: the WAL's length in frames, *copied: how
 * many of them are in the database now (a reader still using an older
 * state of the database holds the rest back). */
int
vstore_checkpoint(struct store *s, int *frames, int *copied)
{
	int nlog = 0, nckpt = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->db, "main",
	    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);

	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return store_err(s, "checkpoint");
	if (frames)
		*frames = nlog;
	if (copied)
		*copied = nckpt;
	return 0;
}

/* Flushes this connection's database and WAL files to disk, so that the
 * fsyncs of the next checkpoint find little left to do. Through SQLite's
 * own file objects: a descriptor of our own on the database, once closed,
 * would drop every POSIX lock this process holds on it. */
void
vstore_presync(struct store *s)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	f = NULL;
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

const char *
vstore_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

int
vstore_versions(struct store *s, char *why, size_t len)
{
	static const char *const sql[] = { "PRAGMA main.user_version",
	    "PRAGMA core.user_version" };
	static const char *const name[] = { "verifier database",
	    "main database" };
	int want[2] = { store_vschema_version(), store_schema_version() };
	sqlite3_stmt *st;
	int v, rc;

	for (int i = 0; i < 2; i++) {
		if ((st = store_stmt(s, sql[i])) == NULL) {
			snprintf(why, len, "%s: cannot read: %s", name[i],
			    sqlite3_errmsg(s->db));
			return -1;
		}
		rc = sqlite3_step(st);
		v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			snprintf(why, len, "%s: cannot read: %s", name[i],
			    sqlite3_errmsg(s->db));
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
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	return step_done(s, st, "heartbeat");
}

int
vstore_chal_get(struct store *s, const char *user_id, struct vchal *c)
{
	static const char sql[] = "SELECT dest, code_hash, created_at, "
	    "expires_at, attempts, state FROM challenges WHERE user_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql);
	const void *h;
	const char *t;
	int rc;

	memset(c, 0, sizeof *c);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(st, 0);
		snprintf(c->dest, sizeof c->dest, "%s", t ? t : "");
		h = sqlite3_column_blob(st, 1);
		if (h && sqlite3_column_bytes(st, 1) == OTP_HASH_BYTES) {
			memcpy(c->hash, h, OTP_HASH_BYTES);
			c->has_hash = 1;
		}
		c->created_at = (time_t)sqlite3_column_int64(st, 2);
		c->expires_at = (time_t)sqlite3_column_int64(st, 3);
		c->attempts = sqlite3_column_int(st, 4);
		t = (const char *)sqlite3_column_text(st, 5);
		snprintf(c->state, sizeof c->state, "%s", t ? t : "");
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_err(s, "challenge");
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
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	store_bind_text(st, 2, dest);
	if (hash)
		sqlite3_bind_blob(st, 3, hash, OTP_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, created_at);
	sqlite3_bind_int64(st, 5, expires_at);
	store_bind_text(st, 6, state);
	return step_done(s, st, "challenge put");
}

int
vstore_chal_set(struct store *s, const char *user_id, const char *state,
    int attempts, int clear_hash)
{
	static const char sql[] = "UPDATE challenges SET state = ?, "
	    "attempts = ?, code_hash = CASE WHEN ? THEN NULL ELSE code_hash "
	    "END WHERE user_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, state);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_int(st, 3, clear_hash != 0);
	store_bind_text(st, 4, user_id);
	return step_done(s, st, "challenge set");
}

int
vstore_chal_move(struct store *s, const char *user_id, time_t created_at,
    const unsigned char *hash, const char *from, const char *to,
    int clear_hash)
{
	static const char sql[] = "UPDATE challenges SET state = ?, "
	    "code_hash = CASE WHEN ? THEN NULL ELSE code_hash END "
	    "WHERE user_id = ? AND state = ? AND created_at = ? "
	    "AND code_hash = ?";
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, to);
	sqlite3_bind_int(st, 2, clear_hash != 0);
	store_bind_text(st, 3, user_id);
	store_bind_text(st, 4, from);
	sqlite3_bind_int64(st, 5, created_at);
	sqlite3_bind_blob(st, 6, hash, OTP_HASH_BYTES, SQLITE_STATIC);
	if (step_done(s, st, "challenge move") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
vstore_chal_drop(struct store *s, const char *user_id)
{
	static const char sql[] = "DELETE FROM challenges WHERE user_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql);

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
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, sql_n)) == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	sqlite3_bind_int64(st, 2, since);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_err(s, "sms_log count");
	if ((st = store_stmt(s, sql_last)) == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	rc = sqlite3_step(st);
	*last_sent = rc == SQLITE_ROW ? (time_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_err(s, "sms_log last");
	return 0;
}

int
vstore_sends_dest(struct store *s, const char *dest, time_t since,
    long *count)
{
	static const char sql[] = "SELECT count(*) FROM sms_log "
	    "WHERE dest = ? AND at >= ?";
	sqlite3_stmt *st = store_stmt(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, dest);
	sqlite3_bind_int64(st, 2, since);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_err(s, "sms_log count");
	return 0;
}

int
vstore_smslog_add(struct store *s, const char *user_id, const char *dest,
    time_t at, const char *status, int64_t *id)
{
	static const char sql[] = "INSERT INTO sms_log (user_id, dest, at, "
	    "status) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, user_id);
	store_bind_text(st, 2, dest);
	sqlite3_bind_int64(st, 3, at);
	store_bind_text(st, 4, status);
	if (step_done(s, st, "sms_log add") == -1)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
vstore_smslog_set(struct store *s, int64_t id, const char *status)
{
	static const char sql[] = "UPDATE sms_log SET status = ? WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, id);
	return step_done(s, st, "sms_log set");
}

int
vstore_smslog_prune(struct store *s, time_t before)
{
	static const char sql[] = "DELETE FROM sms_log WHERE at < ?";
	sqlite3_stmt *st = store_stmt(s, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	return step_done(s, st, "sms_log prune");
}

int
vstore_sends_all(struct store *s, time_t since, long *count)
{
	static const char sql[] = "SELECT count(*) FROM sms_log WHERE at >= ?";
	sqlite3_stmt *st = store_stmt(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
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
	sqlite3_stmt *st = store_stmt(s, user_id ? sql_user : dest ? sql_dest :
	    sql_all);
	int rc;

	if (st == NULL)
		return -1;
	if (user_id || dest)
		store_bind_text(st, 1, user_id ? user_id : dest);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st);
	*at = rc == SQLITE_ROW ? (time_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(s, "sms_log nth");
	return rc == SQLITE_ROW ? 0 : 1;
}
