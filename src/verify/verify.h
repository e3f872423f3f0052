/*
 * verify.h - inside tfadesk-verify: the verifier's decisions (verifier.c),
 * its tables (vstore.c), SMS delivery (sms.c) and the HTTP service
 * (serve.c). Links the core (tfadesk.h, store.h, tmpl.h), never mail code.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "otp.h"

struct buf;

struct config;
struct store;
struct sms;
struct user;

/* Outcomes of start and check (DESIGN.md). V_ERROR is a temporary failure
 * (SMS gateway or database unavailable): the CLI exits 75, the service
 * answers 503 with {"outcome": "error"}. */
enum voutcome {
	V_SENT = 0, V_NOT_REQUIRED, V_BLOCKED, V_NO_MOBILE, V_RATE_LIMITED,
	V_UNKNOWN_USER,
	V_APPROVED, V_DENIED, V_EXPIRED, V_LOCKED,
	V_ERROR
};
const char *voutcome_name(enum voutcome);

/* The verifier: configuration, key and gateway, shared by every thread
 * (read-only after verifier_new, except the gateway, which is
 * thread-safe). Each thread brings its own struct store. */
struct verifier {
	const struct config *cfg;     /* borrowed */
	unsigned char key[OTP_KEY_BYTES];
	struct sms *sms;              /* owned */
	int serialize;                /* serve: one writer at a time */
	int batch;                    /* serve: checks by group commit */
	int draining;                 /* atomic; serve stopping: no sends */
};

struct vresult {
	enum voutcome outcome;
	char *message;                /* owned; no_mobile: the lockout text */
	const char *error;            /* static; V_ERROR: what failed */
	/* rate_limited: the limit that holds longest (cooldown user_limit
	 * destination_limit global_limit, static) and the seconds until a
	 * start can send again, from the send log */
	const char *reason;
	long retry_after;
};
void vresult_clear(struct vresult *);
/* Appends the answer as JSON (the HTTP API, check --json). */
void vresult_json(struct buf *, const struct vresult *);

/* serve.c: parses an HTTP request body of LEN bytes as exactly
 * {"user_id": STRING[, "code": STRING]} (code present iff WANT_CODE), the
 * values checked as verifier_valid_user_id() and verifier_valid_code()
 * say. The parsed object (json_decref it; *USER_ID and *CODE point into
 * it), or NULL and ERRBUF says why (the 400 answer's "error"). */
struct json_t;
struct json_t *serve_parse_body(const char *body, size_t len, int want_code,
    const char **user_id, const char **code, char *errbuf, size_t errlen);

/* verifier.c. NULL: logged, *EX the exit status (78; 77 for a secret's
 * mode or owner). CHECK_ONLY (-n): a key file that does not exist yet is
 * not created. */
struct verifier *verifier_new(const struct config *, int check_only,
    int *ex);
void verifier_free(struct verifier *);
/* Renders both templates once with sample values: 0 or -1 (logged). */
int verifier_check_templates(struct verifier *);
/* A user ID the verifier accepts at all: 1..128 bytes of well-formed
 * UTF-8, no spaces, control characters or bidirectional overrides.
 * Anything else is a bad request (CLI 65, HTTP 400). */
int verifier_valid_user_id(const char *);
/* Code of at most 32 bytes (anything shorter is simply a wrong code). */
int verifier_valid_code(const char *);
void verifier_start(struct verifier *, struct store *, const char *user_id,
    struct vresult *);
void verifier_check(struct verifier *, struct store *, const char *user_id,
    const char *code, struct vresult *);
/* The staff desk's SMS code (U->id "staff:NAME", U->phone, no account):
 * the same codes, limits and destination policy, no 2FA decision. */
void verifier_start_holder(struct verifier *, struct store *,
    const struct user *u, struct vresult *);
void verifier_check_holder(struct verifier *, struct store *,
    const struct user *u, const char *code, struct vresult *);
/* serve: checks are committed in batches (group commit) on the
 * connection S (borrowed until verifier_batch_stop), by a thread of their
 * own (verifier.c). verifier_check_queue queues one (USER_ID and R are
 * the caller's until DONE(ARG), called from that thread once the
 * transaction that decided it committed, or failed: R says); -1: not
 * queued (no batches). verifier_check waits for its own. */
int verifier_batch_start(struct verifier *, struct store *s);
void verifier_batch_stop(struct verifier *);
int verifier_check_queue(struct verifier *, const char *user_id,
    const char *code, struct vresult *r, void (*done)(void *), void *arg);
/* serve: a WAL checkpoint; RESTART: one that lets the WAL restart (see
 * verifier.c). */
int verifier_checkpoint(struct verifier *, struct store *, int restart);
/* /healthz: 0, or -1 with a reason in WHY (verifier.c). */
int verifier_health(struct verifier *, struct store *, char *why,
    size_t len);
/* The per-connection tuning of the verifier's database handle. */
int verifier_store_setup(struct store *, int serving);

/* vstore.c: the challenges and sms_log tables. 0 ok, 1 not found, -1
 * error (logged). Writes run inside the caller's transaction. */
struct vchal {
	char dest[32];
	unsigned char hash[OTP_HASH_BYTES];
	int has_hash;
	time_t created_at, expires_at;
	int attempts;
	char state[16];   /* sending pending used locked expired failed */
};
/* Both files' schema versions are the ones this build knows: 0, or -1
 * with the reason in WHY. */
int vstore_versions(struct store *, char *why, size_t len);
int vstore_heartbeat(struct store *, time_t);
const char *vstore_errmsg(struct store *);
int vstore_serialize(struct store *);
/* synchronous=NORMAL; SERVING: no automatic checkpoints (see below). */
int vstore_tune(struct store *, int serving);
int vstore_checkpoint(struct store *, int *frames, int *copied);
void vstore_presync(struct store *);
int vstore_chal_get(struct store *, const char *user_id, struct vchal *);
int vstore_chal_put(struct store *, const char *user_id, const char *dest,
    const unsigned char *hash, time_t created_at, time_t expires_at,
    const char *state);
/* Sets state and attempts; CLEAR_HASH forgets the code hash. */
int vstore_chal_set(struct store *, const char *user_id, const char *state,
    int attempts, int clear_hash);
/* Makes STATE_FROM -> STATE_TO only if the row is still in STATE_FROM and
 * is still the challenge of CREATED and HASH (not one that a parallel
 * start put in its place): 0 done, 1 the row has moved on. */
int vstore_chal_move(struct store *, const char *user_id, time_t created_at,
    const unsigned char *hash, const char *state_from, const char *state_to,
    int clear_hash);
/* Send attempts to a user or a destination since SINCE; *last_sent: the
 * newest send accepted or still under way (0 if none). */
int vstore_chal_drop(struct store *, const char *user_id);
int vstore_sends_user(struct store *, const char *user_id, time_t since,
    long *count, time_t *last_sent);
int vstore_sends_dest(struct store *, const char *dest, time_t since,
    long *count);
int vstore_smslog_add(struct store *, const char *user_id, const char *dest,
    time_t at, const char *status, int64_t *id);
int vstore_smslog_set(struct store *, int64_t id, const char *status);
/* Every user's sends since SINCE (verifier.max_sms_per_hour). */
int vstore_sends_all(struct store *, time_t since, long *count);
/* *AT: the time of the send N places after the oldest since SINCE (N = 0:
 * the oldest) of USER_ID, else of DEST, else (both NULL) of everybody;
 * when it leaves the window the count drops below the limit. 1: none. */
int vstore_sends_nth(struct store *, const char *user_id, const char *dest,
    time_t since, long n, time_t *at);
/* Forgets every sms_log row older than BEFORE (the audit log keeps the
 * history; sms_log only feeds the limits). */
int vstore_smslog_prune(struct store *, time_t before);

/* sms.c: delivery by spool or HTTP. */
/* NULL: logged, *EX the exit status (78; 77 for a secret's mode). */
struct sms *sms_new(const struct config *, int *ex);
void sms_free(struct sms *);
/* 0 accepted by the gateway (or spooled); -1 failed (logged), *why set to
 * a short static reason. The text is never logged. */
int sms_send(struct sms *, const char *to_digits, const char *text,
    const char **why);
/* For tests and the man page: the effective request shape, one line. */
const char *sms_describe(const struct sms *);

/* serve.c: "ADDR:PORT", "[V6]:PORT", "localhost:PORT" into SS; -1 bad.
 * Also the staff desk's --listen. */
struct sockaddr_storage;
int serve_parse_listen(const char *, struct sockaddr_storage *, int *v6);
/* serve.c: runs the HTTP service until SIGINT/SIGTERM; an exit status. */
int serve_run(struct verifier *, const char *listen);
/* serve.c: is the address in SS loopback (127.0.0.0/8, ::1)? */
int serve_is_loopback(const struct sockaddr_storage *);

/* metrics.c: serve's counters (GET /metrics), lock-free. Endpoints and
 * outcomes: the decisions (enum voutcome) then how a request ended
 * without one. */
enum { M_START, M_CHECK, M_HEALTHZ, M_METRICS, M_OTHER, M_NENDPOINTS };
enum {
	M_OK = V_ERROR + 1, M_UNAVAILABLE, M_BAD_REQUEST, M_UNAUTHORIZED,
	M_NOT_FOUND, M_METHOD_NOT_ALLOWED, M_TOO_LARGE, M_ABORTED,
	M_NOUTCOMES
};
struct buf;
struct timespec;
void metrics_init(void);
const char *metrics_outcome_name(int);
void metrics_request(int endpoint, int outcome, uint64_t us);
void metrics_in_flight(int delta);
void metrics_sms(int ok, uint64_t us);
void metrics_db_error(void);
/* Microseconds since SINCE (CLOCK_MONOTONIC). */
uint64_t metrics_elapsed_us(const struct timespec *since);
/* Appends the exposition text. */
void metrics_render(struct buf *);

/* apikeys.c: verifier.api_keys_file, one key a line:
 * "NAME CREATED HASH" (HASH: BLAKE2b-256 of the key, hex). */
struct apikeys;
/* Reads PATH (a secret: secret_open's rules). NULL: logged, *EX the exit
 * status (77 mode or owner, 78 missing or malformed). */
struct apikeys *apikeys_load(const char *path, int *ex);
void apikeys_free(struct apikeys *);
size_t apikeys_count(const struct apikeys *);
/* The name of the key TOKEN is (constant time over all keys), or NULL. */
const char *apikeys_match(const struct apikeys *, const char *token);
/* tfadesk-verify key add|list|revoke: an exit status. */
int apikeys_cmd(const char *path, const char *cmd, const char *name);

#endif
