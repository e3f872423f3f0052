/*
 * store.h - the account database: an SQLite file (WAL, foreign keys on)
 * or a PostgreSQL database (a postgresql:// URI), the same tables, results
 * and guarantees on both.
 *
 * Only files named store*.c (and src/verify/vstore.c) use the statement
 * layer (db.h); sqlite3.h and libpq-fe.h stay inside its two backends.
 * Every statement is prepared.
 *
 * Return convention: 0 ok, 1 not found / already there (where said), -1
 * error (already logged as "store: what: the database's message").
 *
 * Writes: callers wrap a change in store_begin()/store_commit() (BEGIN
 * IMMEDIATE) and write its audit row with store_audit() inside the same
 * transaction; store_rollback() on any failure. The store_*_set functions
 * below write their own audit row but never open a transaction themselves.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

#define STORE_RDONLY 0x1
#define STORE_CREATE 0x2
#define STORE_NOCHECK 0x4   /* no schema version check (the caller's) */

/* store.c */
/* PATH: an SQLite file or a postgresql:// URI. NULL: logged. */
struct store *store_open(const char *path, int flags);
/* The same with the PostgreSQL password from PASSWORD_FILE (NULL: the
 * one store_set_password_file gave): db copy's target. */
struct store *store_open_pw(const char *path, int flags,
    const char *password_file);
/* PostgreSQL's password comes from this secret file (config:
 * database_password_file; NULL: none, or libpq's own ways). */
void store_set_password_file(const char *);
/* After store_open (or store_verifier_open) failed: the exit status it
 * asks for (secret_exit's for a password file that cannot be used), else
 * DFLT. */
int store_open_status(int dflt);
/* 1 when the store is on PostgreSQL; when DATABASE (config) names one */
int store_on_pg(const struct store *);
int store_uri_is_pg(const char *database);
/*
 * The batch lock on PostgreSQL, beside the lock file: a session advisory
 * lock, so that batches on two hosts never process at once. WAIT: block
 * until it is free. 0 held (or SQLite: nothing to do), 1 another session
 * holds it, -1 error.
 */
int store_batch_lock(struct store *, int wait);
void store_close(struct store *);
int store_migrate(struct store *);        /* create or upgrade the schema */
int store_migrate_to(struct store *, int version);  /* tests: stop there */
/*
 * The identity digest of a raw message as hex (tfadesk: mime_identity).
 * The store cannot compute it (the mail parser is not part of it), so the
 * program gives it before store_migrate: upgrading a version 1 database
 * computes the digest of every stored ticket.
 */
#define STORE_DIGEST_HEX 65       /* 64 hex digits and the NUL */
typedef int (*store_digest_fn)(const char *raw, size_t len,
    char hex[STORE_DIGEST_HEX]);
void store_set_digest(struct store *, store_digest_fn);
int store_version(struct store *);  /* user_version; PG: schema_version */
int store_begin(struct store *);
int store_commit(struct store *);
void store_rollback(struct store *);
/* 1 when the last failure was a full disk (SQLITE_FULL): a smaller
 * transaction may still fit. */
int store_full(const struct store *);
int store_audit(struct store *, const char *actor, const char *action,
    const char *account, const char *user, const char *old_value,
    const char *new_value, int64_t ticket_id /* 0: none */);
/* The id of the audit row just written, and a note on it ("forced: ..."). */
int64_t store_audit_last(struct store *);
int store_audit_note(struct store *, int64_t audit_id, const char *note);
int store_kv_get(struct store *, const char *key, char **value); /* 1: none */
int store_kv_set(struct store *, const char *key, const char *value);
const char *store_path(struct store *); /* borrowed */

/*
 * The verifier's file (verifier.database): its tables, with the main
 * database attached READ-ONLY as "core" (users and accounts resolve
 * there), so that no transaction of this connection ever takes a lock on
 * the main file. NULL: logged. store_verifier_init (db init): creates or
 * migrates it and moves the verifier's rows out of the main file (the
 * main database must not be migrated past version 4 yet).
 */
struct store *store_verifier_open(const char *vpath, const char *mainpath);
int store_verifier_init(const char *vpath, const char *mainpath);
/* Schema versions this build knows / a store's verifier file's. */
int store_schema_version(void);
int store_vschema_version(void);
/* tfadesk audit: attaches verifier.database (read-only, if it exists) so
 * that store_audit_query shows the verifier's rows too. */
int store_attach_verifier(struct store *, const char *vpath);

/*
 * store-copy.c: tfadesk db copy. Every table of FROM (an SQLite file with
 * its verifier file FROM_VERIFIER, or a PostgreSQL URI; read-only, in one
 * read transaction, at this build's schema) into TO (TO_VERIFIER: its
 * verifier file on SQLite; TO_PASSWORD_FILE: NULL, the configured
 * database_password_file), which gets the schema and must hold no row;
 * one transaction on TO, each table's rows and BLAKE2b checksum read back
 * and compared before the commit. A sysexits code (each failure logged):
 * EX_DATAERR source schema not current or target not empty, EX_SOFTWARE
 * the copy differs (BAD names the table), EX_TEMPFAIL a batch is
 * running (PostgreSQL source), EX_IOERR the target refused a row.
 */
#define STORE_COPY_SUM 32
struct store_copy_args {
	const char *from, *from_verifier;
	const char *to, *to_verifier, *to_password_file;
};
struct store_copy_table {
	const char *name;
	int64_t rows;
	unsigned char sum[STORE_COPY_SUM];
};
struct store_copy_result {
	struct store_copy_table *tables;
	size_t ntables;
	int64_t rows;
	char *target;          /* as messages may show it (no password) */
	const char *bad;       /* the table that differed */
};
int store_copy(const struct store_copy_args *, struct store_copy_result *);
void store_copy_free(struct store_copy_result *);

/* store-account.c */
enum account_kind { ACCOUNT_RESELLER = 1, ACCOUNT_END_CLIENT = 2 };

struct account {
	char *id;
	enum account_kind kind;
	char *reseller;     /* parent reseller id; NULL for a reseller */
	char *name;
	int twofa;          /* reseller: 2FA flag; end client: use_2fa */
};

struct user {
	char *id;
	char *account;
	char *name;
	char *phone;        /* E.164 digits without '+', NULL if none */
};

void account_clear(struct account *);
void user_clear(struct user *);
void users_free(struct user *, size_t);

int store_account_get(struct store *, const char *id, struct account *);
int store_account_list(struct store *, struct account **, size_t *);
int store_account_users(struct store *, const char *account_id,
    struct user **, size_t *);
int store_user_get(struct store *, const char *user_id, struct user *);
/* Reseller that an account belongs to: itself for a reseller. 1: none. */
int store_account_reseller(struct store *, const char *account_id, char **);
/* Resellers whose contact list holds ADDR (case-insensitive). */
int store_contact_resellers(struct store *, const char *addr, char ***ids,
    size_t *n);
int store_contacts(struct store *, const char *reseller_id, char ***addrs,
    size_t *n);
/* Writes with their audit row (action user.phone / account.twofa). */
int store_user_set_phone(struct store *, const char *user_id,
    const char *phone, const char *actor, int64_t ticket_id);
int store_account_set_twofa(struct store *, const char *account_id, int on,
    const char *actor, int64_t ticket_id);

/* Import (import.c), inside one transaction. A row with the values the
 * last import wrote: imported_phone NULL (never imported), "" (none), the
 * digits, or a masked number from an older database; imported_twofa -1
 * (never imported), 0 or 1. 1: no such row. */
int store_user_sync_get(struct store *, const char *id, struct user *,
    char **imported_phone);
int store_account_sync_get(struct store *, const char *id, struct account *,
    int *imported_twofa);
/* Creates or rewrites the row (no audit row: import.c writes them). */
int store_user_sync_put(struct store *, const struct user *,
    const char *imported_phone, int create);
int store_account_sync_put(struct store *, const struct account *,
    int imported_twofa, int create);
int store_put_contact(struct store *, const char *reseller_id,
    const char *addr, const char *display, const char *actor);
/* --prune: the IDs the file names go into a temporary table; then each row
 * the file does not name is handed to FN (which may write audit rows) and
 * deleted. KIND: "user", "end_client", "reseller", "contact" (ID is
 * "RESELLER ADDR"; only contacts of resellers the file names). */
int store_sync_seen(struct store *, const char *kind, const char *id,
    const char *addr);
int store_sync_prune(struct store *, const char *kind,
    int (*fn)(void *, const char *id, const char *account,
    const char *value), void *arg);
/* Accounts the file does not name that an account of the file refers to
 * (they cannot be pruned): handed to FN. */
int store_sync_unprunable(struct store *,
    int (*fn)(void *, const char *id, const char *account,
    const char *value), void *arg);

/* Audit values: numbers are kept whole (staff undo from them); plain
 * output shows audit_shown() of them. */
int audit_action_phone(const char *action);
char *audit_shown(const char *action, const char *value); /* owned/NULL */

struct audit_row {
	int64_t id;
	char *at, *actor, *action, *account, *user, *old_value, *new_value;
	char *note;
	int64_t ticket_id;
};
void audit_rows_free(struct audit_row *, size_t);
/* Filters may be NULL; ticket_id 0 = any. Oldest first. */
int store_audit_list(struct store *, const char *account, const char *user,
    int64_t ticket_id, struct audit_row **, size_t *);
/* actor and action: exact, or a prefix when they end in '*'; since: rows
 * at or after this ISO 8601 time; limit > 0: the newest LIMIT rows. */
struct audit_filter {
	const char *account, *user, *actor, *action, *since;
	int64_t ticket_id;
	long limit;
};
int store_audit_query(struct store *, const struct audit_filter *,
    struct audit_row **, size_t *);

/* store-ticket.c */
enum ticket_state {
	TICKET_NEW = 0, TICKET_APPLIED, TICKET_NEEDS_REVIEW, TICKET_REJECTED,
	TICKET_IGNORED
};
const char *ticket_state_name(enum ticket_state);
int ticket_state_parse(const char *, enum ticket_state *);

struct ticket {
	int64_t id;
	char *msgkey;       /* Message-ID, else "digest:<identity digest>" */
	char *source;       /* first source key that delivered it */
	char *raw; size_t raw_len;   /* only when asked for */
	time_t received;
	char *kind;         /* NULL until processed */
	enum ticket_state state;
	char *reason;
	char *from_addr;
	char *subject;
	char *fields;       /* JSON text: extracted fields */
	char *results;      /* JSON text: per-user results */
	char *account;      /* reseller the ticket was matched to */
	char *assigned;     /* queue assign --to NAME, or NULL */
	int refused;        /* users refused in the per-user results */
	/* store_ticket_get only: an earlier ticket with the same msgkey (a
	 * reused Message-ID, other content), else 0 */
	int64_t dup_of;
};
void ticket_clear(struct ticket *);
void tickets_free(struct ticket *, size_t);

/* Is this source identity (e.g. "imap:support@host/INBOX:uv:uid") stored? */
int store_source_known(struct store *, const char *source_key);
/*
 * Stores a raw message once per identity: MSGKEY (the Message-ID, else
 * "digest:" DIGEST) and DIGEST (hex of mime_identity). Returns 0 stored
 * (new ticket, *id set), 1 it was already there with the same msgkey and
 * digest (*id set; the source key is recorded as another delivery of it),
 * -1 error. A message whose msgkey is stored with another digest is a new
 * ticket (0); its dup_of names the earlier one. Runs its own transaction
 * (a savepoint inside the caller's).
 */
int store_ticket_add(struct store *, const char *source_key,
    const char *msgkey, const char *digest, const char *raw, size_t len,
    int64_t *id);
int store_ticket_get(struct store *, int64_t id, int with_raw,
    struct ticket *);
/* IDs of tickets in STATE, oldest first. */
int store_ticket_ids(struct store *, enum ticket_state, int64_t **, size_t *);
/* All tickets (state < 0) or one state, without raw, oldest first. */
int store_ticket_list(struct store *, int state, struct ticket **, size_t *);
/*
 * queue list: filters may be NULL (state < 0: any; since 0: any); search
 * matches subject, sender and extracted fields, case-insensitively, as
 * plain text (no wildcards). needs_review alone: oldest first, else newest
 * first; limit > 0: at most LIMIT tickets.
 */
struct ticket_filter {
	int state;
	const char *kind, *account, *search;
	time_t since;
	long limit;
};
int store_ticket_query(struct store *, const struct ticket_filter *,
    struct ticket **, size_t *);
/* Assigns the ticket to NAME (NULL: nobody), with a ticket.assign audit
 * row by ACTOR, in a transaction of its own. 1: no such ticket. */
int store_ticket_assign(struct store *, int64_t id, const char *name,
    const char *actor);
/*
 * Reads JSON text with SQLite's JSON functions (tfadesk links no JSON
 * parser). store_json_value: the value at PATH as text (an array as its
 * items joined by ", ", true/false as yes/no), NULL if none or not JSON.
 * store_json_table: the objects of the array at PATH, one row each, the
 * members named KEYS as cells (owned strings or NULL), row-major.
 */
char *store_json_value(struct store *, const char *json, const char *path);
int store_json_table(struct store *, const char *json, const char *path,
    const char *const *keys, size_t nkeys, char ***cells, size_t *nrows);
/* Records the outcome (kind, state, reason, fields, results, account) and,
 * when the state changes from OLD (as the caller read it in this
 * transaction), a ticket.state audit row by ACTOR. Call inside a
 * transaction. 0, 1 no such ticket, -1 error. */
int store_ticket_set(struct store *, const struct ticket *,
    enum ticket_state old, const char *actor);
/* The plan a held ticket's approval would carry out (process.c's canonical
 * text, whole numbers: never shown as is) and its token, as computed when
 * the ticket was held; replaced when it is held again. get: 1 none. */
int store_ticket_plan_set(struct store *, int64_t id, const char *plan,
    const char *token);
int store_ticket_plan_get(struct store *, int64_t id, char **plan,
    char **token);

/* Outbox of replies. */
enum outbox_state { OUTBOX_QUEUED = 0, OUTBOX_SENT, OUTBOX_FAILED };
struct outbox_row {
	int64_t id;
	int64_t ticket_id;
	char *msgid;        /* Message-ID of the reply, fixed when queued */
	char *mail_from;    /* envelope sender */
	char *rcpt;         /* envelope recipient */
	char *message; size_t message_len;  /* the complete RFC 5322 message */
	enum outbox_state state;
	int attempts;
	time_t next_try;
	char *last_error;
	time_t created, sent;  /* sent: 0 until sent */
	char *claim;        /* the sender that owns it now, or NULL */
	time_t claimed_until;
};
void outbox_clear(struct outbox_row *);
void outbox_free(struct outbox_row *, size_t);
/* Queue inside the caller's transaction. */
int store_outbox_add(struct store *, const struct outbox_row *, int64_t *id);
/* Rows queued and due (next_try <= NOW). */
int store_outbox_due(struct store *, time_t now, struct outbox_row **,
    size_t *);
/*
 * Claims up to LIMIT rows that are queued, due (or any next_try when
 * IGNORE_BACKOFF), have an id above AFTER_ID and no live claim, for OWNER
 * until NOW + LEASE, in one transaction of its own: two senders never get
 * the same row. A claim ends when the row is marked, released, or expires.
 */
int store_outbox_claim(struct store *, time_t now, int ignore_backoff,
    int64_t after_id, int limit, const char *owner, time_t lease,
    struct outbox_row **, size_t *);
/* How many replies are queued (due or not). */
int store_outbox_waiting(struct store *, size_t *);
/* Gives back OWNER's rows still queued (a stopped sender). */
int store_outbox_release(struct store *, const char *owner);
int store_outbox_list(struct store *, int64_t ticket_id,
    struct outbox_row **, size_t *);
int store_outbox_mark(struct store *, int64_t id, enum outbox_state,
    int attempts, time_t next_try, const char *error);


/* store-desk.c: the staff desk (tfadesk desk, tfadesk staff). */
struct staff {
	char *name;
	char *phone;        /* E.164 digits: where the login code goes */
	char *pwhash;       /* crypto_pwhash_str (Argon2id) */
	int disabled;
	time_t created;
};
void staff_clear(struct staff *);
void staff_free(struct staff *, size_t);
/* 1: a staff member of that name exists already. Audited by ACTOR. */
int store_staff_add(struct store *, const struct staff *, const char *actor);
int store_staff_get(struct store *, const char *name, struct staff *);
int store_staff_list(struct store *, struct staff **, size_t *);
/* 1: no such staff member. Disabling also ends every session. */
int store_staff_set_disabled(struct store *, const char *name, int disabled,
    const char *actor);

#define DESK_TOKEN_HASH_BYTES 32
struct desk_session {
	char *staff;
	char *csrf;
	int verified;       /* 0: password given, SMS code still to come */
	time_t created, last_seen;
};
void desk_session_clear(struct desk_session *);
int store_session_add(struct store *,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], const char *staff,
    const char *csrf, int verified, time_t now);
int store_session_get(struct store *,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], struct desk_session *);
int store_session_touch(struct store *,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES], time_t now);
int store_session_delete(struct store *,
    const unsigned char hash[DESK_TOKEN_HASH_BYTES]);
/* Forgets sessions idle since before IDLE_BEFORE, unverified ones created
 * before PENDING_BEFORE, and failures before FAIL_BEFORE. */
int store_session_prune(struct store *, time_t idle_before,
    time_t pending_before, time_t fail_before);
/* Failed logins, per key ("name:NAME", "addr:ADDR"). */
int store_failure_add(struct store *, const char *key, time_t now);
int store_failure_count(struct store *, const char *key, time_t since,
    long *n);
int store_failure_clear(struct store *, const char *key);

/* The desk's queue: filters may be NULL/0; STATE < 0 any. Oldest first
 * when OLDEST_FIRST, else newest first; at most LIMIT rows, *TOTAL all the
 * rows that match. ASSIGNED[i] (owned, may be NULL) beside each ticket. */
struct desk_filter {   /* the desk's queue page (store-desk.c) */
	int state;
	const char *kind, *account, *text, *assigned;
	time_t since;       /* received at or after; 0: any */
	int oldest_first;
	int limit;
};
int store_ticket_search(struct store *, const struct desk_filter *,
    struct ticket **, char ***assigned, size_t *n, size_t *total);
int store_ticket_counts(struct store *, size_t counts[5]);
int store_ticket_assigned(struct store *, int64_t id, char **who);
/* Assigns (TO NULL: unassigns) with an audit row ticket.assign by ACTOR.
 * 1: no such ticket. */
/* Users by ID, account, name (substring, case-insensitive) or number
 * (digits, substring); at most LIMIT. */
int store_user_find(struct store *, const char *q, int limit,
    struct user **, size_t *);
/* The audit log newest first, every filter optional. */

#endif
