/*
 * serve.c - the verifier as an HTTP JSON service (libmicrohttpd + jansson).
 *
 *   POST /v1/challenges        {"user_id": "U1001"}
 *   POST /v1/challenges/check  {"user_id": "U1001", "code": "123456"}
 *   GET  /healthz
 *   GET  /metrics              Prometheus text format (metrics.c)
 *
 * 200 {"outcome": "..."} for every decision (plus "message" for
 * no_mobile); 503 {"outcome": "error", "error": "..."} with Retry-After for
 * a temporary failure (SMS gateway or database); 400 {"error": "..."} for a
 * body that is not exactly the object above (bad JSON, wrong type, unknown
 * or missing field, duplicate key); 404, 405, 413 (body over 4 KiB). The
 * body is read as JSON whatever the Content-Type. Headers are bounded by
 * MHD's per-connection memory limit (MHD itself answers 431).
 *
 * MHD runs a pool of verifier.threads threads, each with its own epoll
 * loop and its own SQLite connection (store.h: a store is not shared
 * between threads); checks are committed in batches (group commit, on a
 * connection of their own, each batch run by one of those threads) and
 * other writes are serialized in-process (verifier.c).
 *
 * The front door: with verifier.api_keys_file, /v1/ wants
 * "Authorization: Bearer KEY" (401 otherwise; /healthz and /metrics stay
 * open); with verifier.tls_cert_file, HTTPS; with verifier.client_ca_file,
 * a client certificate of that CA on every request (403 otherwise). Off
 * loopback, serve refuses to start (78) without keys or client
 * certificates. verifier.access_log: one line per request.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "verify.h"

#define MAX_BODY      4096
#define MAX_HEADERS   (16 * 1024)   /* MHD's buffer per connection */
#define CONN_TIMEOUT  15            /* seconds idle */
/* MHD's timeout is an idle one: a client that trickles a header byte every
 * few seconds keeps its connection for ever. One address may hold only
 * verifier.max_connections_per_address of the VERIFIER_MAX_CONNECTIONS
 * (default a sixteenth: 64 of 1024), so that a slowloris from a few hosts
 * cannot lock the portal out. */

struct req {
	struct buf body;
	int too_big;
	int answered;
	size_t discarded;
	/* a start runs in a thread of its own while its connection is
	 * suspended (the SMS gateway may take sms.timeout): MHD's threads,
	 * which serve checks and /healthz, never wait on the gateway */
	struct MHD_Connection *conn;
	char *user_id;
	int starting;
	/* a check waits, suspended too, for the batch that decides it
	 * (verifier_check_queue): the thread stays free for the others */
	int checking;
	int ready;                    /* atomic: r holds the result */
	struct vresult r;
	/* for /metrics and the access log */
	struct timespec t0;
	int endpoint;                 /* M_START ... */
	int outcome;                  /* -1 until answered */
	unsigned status;
	char addr[INET6_ADDRSTRLEN];
	char method[16];
	char path[128];
	char key[72];                 /* the API key's name, or "-" */
};

/* the request this thread is answering (reply() notes its status) */
static _Thread_local struct req *cur;

/* verifier.api_keys_file, reloaded within a second of a change */
static struct {
	pthread_rwlock_t lock;
	struct apikeys *k;            /* NULL: keys off */
	struct stat st;
	time_t checked;               /* atomic */
	pthread_mutex_t reload;
} keys = { PTHREAD_RWLOCK_INITIALIZER, NULL, { 0 }, 0,
    PTHREAD_MUTEX_INITIALIZER };

/* verifier.access_log: writers share the lock, SIGHUP's reopen takes it */
static struct {
	pthread_rwlock_t lock;
	int fd;
} alog = { PTHREAD_RWLOCK_INITIALIZER, -1 };

static struct verifier *V;
static pthread_key_t store_key;
static int stopping;            /* atomic */
static struct stat db_stat;     /* the database file serve opened */
static struct stat vdb_stat;    /* ... and the verifier's file */
/* /healthz's database probe, done at most once a second */
static struct {
	pthread_mutex_t mu;
	struct timespec at;
	int done, ok;
	char why[256];
	struct store *s;            /* the probe's own connection */
} hc = { PTHREAD_MUTEX_INITIALIZER, { 0, 0 }, 0, 0, "", NULL };
/* Graceful stop: requests being read or answered, start threads running
 * (each resumes its connection before it ends). */
static pthread_mutex_t flight_mu = PTHREAD_MUTEX_INITIALIZER;
static int inflight, nstarts;
/* The start threads' connections, kept for the next start: opening one
 * costs a PostgreSQL backend (a fork, the schema check, every statement
 * prepared anew) or, on SQLite, two files opened and attached. At most
 * STARTS_KEPT idle; one a start failed on is closed, not kept. */
#define STARTS_KEPT 8
static struct {
	pthread_mutex_t mu;
	struct store *s[STARTS_KEPT];
	int n;
} kept = { PTHREAD_MUTEX_INITIALIZER, { NULL }, 0 };
static int nchecks;             /* atomic: checks suspended */

static struct store *thread_store(void);
static void store_dtor(void *);
static enum MHD_Result reply(struct MHD_Connection *, unsigned, struct buf *,
    const char *);
static enum MHD_Result reply_hdr(struct MHD_Connection *, unsigned,
    struct buf *, const char *, const char *, const char *);
static enum MHD_Result reply_error(struct MHD_Connection *, unsigned,
    const char *, const char *);
static enum MHD_Result route(struct MHD_Connection *, const char *,
    const char *, struct req *);
static enum MHD_Result handler(void *, struct MHD_Connection *, const char *,
    const char *, const char *, const char *, size_t *, void **);
static void completed(void *, struct MHD_Connection *, void **,
    enum MHD_RequestTerminationCode);
static void mhd_log(void *, const char *, va_list);
static int health(char *, size_t);

/* The WAL checkpointer: every 50 ms a passive one, every half second one that
 * restarts the WAL (verifier_checkpoint). */
static void *
checkpointer(void *arg)
{
	struct store *s = arg;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	unsigned n = 0;

	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		nanosleep(&ts, NULL);
		verifier_checkpoint(V, s, ++n % 10 == 0);
	}
	verifier_checkpoint(V, s, 1);
	return NULL;
}

static void
store_dtor(void *p)
{
	store_close(p);
}

/* A connection of the verifier's file, main database attached. NULL:
 * logged. */
static struct store *
open_store(void)
{
	struct store *s;

	if ((s = store_verifier_open(V->cfg->verifier.database,
	    V->cfg->database)) == NULL)
		return NULL;
	if (verifier_store_setup(s, 1) == -1) {
		store_close(s);
		return NULL;
	}
	return s;
}

/* This thread's connection, opened on first use. NULL: logged. */
static struct store *
thread_store(void)
{
	struct store *s = pthread_getspecific(store_key);

	if (s)
		return s;
	if ((s = open_store()) == NULL)
		return NULL;
	pthread_setspecific(store_key, s);
	return s;
}

/* A start's connection: a kept one, else a new one. NULL: logged. */
static struct store *
start_store(void)
{
	struct store *s = NULL;

	pthread_mutex_lock(&kept.mu);
	if (kept.n > 0)
		s = kept.s[--kept.n];
	pthread_mutex_unlock(&kept.mu);
	return s ? s : open_store();
}

/* S back for the next start, or closed: when the start failed (the
 * server may have gone under it), or when enough are kept. */
static void
start_store_done(struct store *s, int failed)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&kept.mu);
	if (!failed && kept.n < STARTS_KEPT) {
		kept.s[kept.n++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&kept.mu);
	store_close(s);
}

/* A start, in its own thread: a database connection of its own (none
 * other uses it meanwhile), then the answer handed back to MHD. Nothing of
 * RQ is touched after the resume: from then on MHD may answer and free
 * it. */
static void *
start_thread(void *arg)
{
	struct req *rq = arg;
	struct store *s;

	if ((s = start_store()) == NULL) {
		rq->r.outcome = V_ERROR;
		rq->r.error = "database unavailable";
	} else
		verifier_start(V, s, rq->user_id, &rq->r);
	start_store_done(s, rq->r.outcome == V_ERROR);
	__atomic_store_n(&rq->ready, 1, __ATOMIC_RELEASE);
	MHD_resume_connection(rq->conn);
	pthread_mutex_lock(&flight_mu);
	nstarts--;
	pthread_mutex_unlock(&flight_mu);
	return NULL;
}

/* Suspends RQ's connection and runs the start in a thread; -1: no thread
 * (the connection is left as it was). */
static int
spawn_start(struct MHD_Connection *c, struct req *rq, const char *user_id)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	rq->conn = c;
	rq->user_id = xstrdup(user_id);
	rq->starting = 1;
	pthread_mutex_lock(&flight_mu);
	nstarts++;
	pthread_mutex_unlock(&flight_mu);
	MHD_suspend_connection(c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, start_thread, rq);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return 0;
	MHD_resume_connection(c);
	rq->starting = 0;
	pthread_mutex_lock(&flight_mu);
	nstarts--;
	pthread_mutex_unlock(&flight_mu);
	return -1;
}

/* A queued check is decided and committed (the batches' thread): its
 * connection resumed, RQ untouched from then on. */
static void
check_done(void *arg)
{
	struct req *rq = arg;

	__atomic_store_n(&rq->ready, 1, __ATOMIC_RELEASE);
	MHD_resume_connection(rq->conn);
	__atomic_sub_fetch(&nchecks, 1, __ATOMIC_RELEASE);
}

/* Suspends RQ's connection and queues its check; -1: not queued (the
 * connection is left as it was). */
static int
queue_check(struct MHD_Connection *c, struct req *rq, const char *user_id,
    const char *code)
{
	rq->conn = c;
	rq->user_id = xstrdup(user_id);
	rq->checking = 1;
	__atomic_add_fetch(&nchecks, 1, __ATOMIC_ACQUIRE);
	MHD_suspend_connection(c);
	if (verifier_check_queue(V, rq->user_id, code, &rq->r, check_done,
	    rq) == 0)
		return 0;
	MHD_resume_connection(c);
	rq->checking = 0;
	__atomic_sub_fetch(&nchecks, 1, __ATOMIC_RELEASE);
	return -1;
}

/* PATH is still the file serve opened (SB), and this process may read it
 * (and write it: WRITE). 0, or -1 with the reason in WHY. */
static int
file_ok(const char *name, const char *path, const struct stat *sb,
    int write, char *why, size_t len)
{
	struct stat now;

	if (stat(path, &now) == -1) {
		snprintf(why, len, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (now.st_dev != sb->st_dev || now.st_ino != sb->st_ino) {
		snprintf(why, len, "%s: replaced since serve opened it", name);
		return -1;
	}
	if (access(path, write ? R_OK | W_OK : R_OK) == -1) {
		snprintf(why, len, "%s: %s", name, write ? "not writable" :
		    "not readable");
		return -1;
	}
	return 0;
}

/*
 * /healthz: 0 only when a write would succeed. Every call: both files are
 * still the ones serve opened (an open SQLite connection goes on working
 * on a file that was deleted, renamed or restored over, and on one whose
 * mode no longer lets a new connection write) and their modes let this
 * process read them and write the verifier's. At most once a second (a
 * flood of /healthz costs a few stat calls): both schema versions read
 * and known, and a real write committed in the verifier's file. -1 and
 * the reason in WHY otherwise.
 */
static int
health(char *why, size_t len)
{
	struct store *s;
	struct timespec now;
	long ms;
	int ok;

	/* the files' checks: SQLite only (PostgreSQL: the write probe
	 * below says it all) */
	if (!store_uri_is_pg(V->cfg->database) &&
	    (file_ok("main database", V->cfg->database, &db_stat, 0, why,
	    len) == -1 ||
	    file_ok("verifier database", V->cfg->verifier.database,
	    &vdb_stat, 1, why, len) == -1))
		return -1;
	pthread_mutex_lock(&hc.mu);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - hc.at.tv_sec) * 1000 +
	    (now.tv_nsec - hc.at.tv_nsec) / 1000000;
	if (!hc.done || ms >= 1000) {
		if (hc.s == NULL)
			hc.s = open_store();
		if ((s = hc.s) == NULL) {
			hc.ok = 0;
			snprintf(hc.why, sizeof hc.why, "database: cannot open "
			    "(see the log)");
		} else
			hc.ok = verifier_health(V, s, hc.why,
			    sizeof hc.why) == 0;
		/* PostgreSQL: the next probe connects anew (the server may
		 * have restarted under this connection) */
		if (!hc.ok && hc.s && store_uri_is_pg(V->cfg->database)) {
			store_close(hc.s);
			hc.s = NULL;
		}
		hc.at = now;
		hc.done = 1;
	}
	ok = hc.ok;
	snprintf(why, len, "%s", hc.why);
	pthread_mutex_unlock(&hc.mu);
	return ok ? 0 : -1;
}

/* The outcome label of an answer without a decision. */
static int
status_outcome(unsigned status)
{
	switch (status) {
	case MHD_HTTP_OK: return M_OK;
	case MHD_HTTP_BAD_REQUEST: return M_BAD_REQUEST;
	case MHD_HTTP_UNAUTHORIZED:
	case MHD_HTTP_FORBIDDEN: return M_UNAUTHORIZED;
	case MHD_HTTP_NOT_FOUND: return M_NOT_FOUND;
	case MHD_HTTP_METHOD_NOT_ALLOWED: return M_METHOD_NOT_ALLOWED;
	case MHD_HTTP_CONTENT_TOO_LARGE: return M_TOO_LARGE;
	case MHD_HTTP_SERVICE_UNAVAILABLE: return M_UNAVAILABLE;
	default: return V_ERROR;
	}
}

/* Sends B (JSON text) with STATUS; ALLOW adds Allow. */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, struct buf *b,
    const char *allow)
{
	return reply_hdr(c, status, b, "application/json",
	    allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

/* Sends B (of TYPE) with STATUS and the header HNAME: HVAL if given;
 * 503 adds Retry-After. */
static enum MHD_Result
reply_hdr(struct MHD_Connection *c, unsigned status, struct buf *b,
    const char *type, const char *hname, const char *hval)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (cur) {
		cur->status = status;
		if (cur->outcome < 0)
			cur->outcome = status_outcome(status);
	}
	if (strcmp(type, "application/json") == 0)
		buf_addc(b, '\n');
	r = MHD_create_response_from_buffer(b->len, b->s,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		    __atomic_load_n(&V->draining, __ATOMIC_ACQUIRE) ? "5" : "30");
	/* stopping: the client reconnects, to the next instance */
	if (__atomic_load_n(&V->draining, __ATOMIC_ACQUIRE))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	if (hname)
		MHD_add_response_header(r, hname, hval);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status, const char *msg,
    const char *allow)
{
	struct buf b;
	enum MHD_Result rc;

	struct json j;

	buf_init(&b);
	json_init(&j, &b, JSON_SPACED);
	json_obj(&j);
	json_kstr(&j, "error", msg);
	json_end(&j);
	rc = reply(c, status, &b, allow);
	buf_free(&b);
	return rc;
}

static enum MHD_Result
reply_result(struct MHD_Connection *c, const struct vresult *r)
{
	struct buf b;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;

	if (cur)
		cur->outcome = (int)r->outcome;
	if (r->outcome == V_ERROR && r->error &&
	    strncmp(r->error, "database", 8) == 0)
		metrics_db_error();
	buf_init(&b);
	vresult_json(&b, r);
	if (r->outcome == V_ERROR)
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	rc = reply(c, status, &b, NULL);
	buf_free(&b);
	return rc;
}

/* Declared in verify.h (for tests/fuzz/fuzz_verify_json.c). */
json_t *
serve_parse_body(const char *body, size_t len, int want_code,
    const char **user_id, const char **code, char *errbuf, size_t errlen)
{
	json_error_t je;
	json_t *root, *val;
	const char *key;
	size_t n;

	*user_id = *code = NULL;
	root = json_loadb(body ? body : "", len,
	    JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(errbuf, errlen, "bad JSON: %s (line %d, column %d)",
		    je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(errbuf, errlen, "the body must be a JSON object");
		goto bad;
	}
	json_object_foreach(root, key, val) {
		if (strcmp(key, "user_id") != 0 &&
		    !(want_code && strcmp(key, "code") == 0)) {
			struct buf k;

			buf_init(&k);
			json_quote_n(&k, key, strlen(key));
			snprintf(errbuf, errlen, "unknown field: %.64s%s", k.s,
			    k.len > 64 ? "..." : "");
			buf_free(&k);
			goto bad;
		}
		if (!json_is_string(val)) {
			snprintf(errbuf, errlen, "%s: must be a string", key);
			goto bad;
		}
		n = json_string_length(val);
		if (strlen(json_string_value(val)) != n) {
			snprintf(errbuf, errlen, "%s: contains NUL", key);
			goto bad;
		}
		if (strcmp(key, "user_id") == 0)
			*user_id = json_string_value(val);
		else
			*code = json_string_value(val);
	}
	if (*user_id == NULL) {
		snprintf(errbuf, errlen, "user_id: missing");
		goto bad;
	}
	if (want_code && *code == NULL) {
		snprintf(errbuf, errlen, "code: missing");
		goto bad;
	}
	if (!verifier_valid_user_id(*user_id)) {
		snprintf(errbuf, errlen, "user_id: must be 1 to 128 bytes "
		    "of printable UTF-8 without spaces");
		goto bad;
	}
	if (want_code && !verifier_valid_code(*code)) {
		snprintf(errbuf, errlen, "code: too long");
		goto bad;
	}
	return root;
bad:
	json_decref(root);
	return NULL;
}

/* Reloads verifier.api_keys_file when it changed, looking at most once a
 * second. A file that became unusable leaves no key valid (logged). */
static void
keys_refresh(void)
{
	const char *path = V->cfg->verifier.api_keys_file;
	time_t now = time(NULL);
	struct apikeys *k, *old;
	struct stat st;
	int ex;

	if (path == NULL ||
	    __atomic_load_n(&keys.checked, __ATOMIC_ACQUIRE) == now ||
	    pthread_mutex_trylock(&keys.reload) != 0)
		return;
	__atomic_store_n(&keys.checked, now, __ATOMIC_RELEASE);
	if (stat(path, &st) == 0 && st.st_ino == keys.st.st_ino &&
	    st.st_dev == keys.st.st_dev && st.st_size == keys.st.st_size &&
	    st.st_mtim.tv_sec == keys.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == keys.st.st_mtim.tv_nsec &&
	    st.st_mode == keys.st.st_mode && st.st_uid == keys.st.st_uid) {
		pthread_mutex_unlock(&keys.reload);
		return;
	}
	if ((k = apikeys_load(path, &ex)) == NULL) {
		log_warnx("serve: verifier.api_keys_file %s: unusable: no API "
		    "key is accepted until it is fixed", path);
	} else
		log_info("serve: %s: %zu API keys", path, apikeys_count(k));
	if (stat(path, &st) == -1)
		memset(&st, 0, sizeof st);
	pthread_rwlock_wrlock(&keys.lock);
	old = keys.k;
	keys.k = k;
	keys.st = st;
	pthread_rwlock_unlock(&keys.lock);
	apikeys_free(old);
	pthread_mutex_unlock(&keys.reload);
}

/* With API keys on: the request's Authorization: Bearer KEY names a key
 * (noted in RQ->key); 0 yes, -1 no (*WRONG: a key was given). */
static int
authorized(struct MHD_Connection *c, struct req *rq, int *wrong)
{
	const char *h, *name;
	int ok = 0;

	*wrong = 0;
	keys_refresh();
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	for (h += 7; *h == ' '; h++)
		;
	*wrong = 1;
	pthread_rwlock_rdlock(&keys.lock);
	if ((name = apikeys_match(keys.k, h)) != NULL) {
		snprintf(rq->key, sizeof rq->key, "%s", name);
		ok = 1;
	}
	pthread_rwlock_unlock(&keys.lock);
	return ok ? 0 : -1;
}

static enum MHD_Result
route(struct MHD_Connection *c, const char *url, const char *method,
    struct req *rq)
{
	int start = strcmp(url, "/v1/challenges") == 0;
	int check = strcmp(url, "/v1/challenges/check") == 0;
	const char *user_id, *code;
	char err[256];
	struct vresult r;
	struct store *s;
	json_t *root;
	enum MHD_Result rc;

	if (strcmp(url, "/healthz") == 0) {
		struct buf b;

		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed", "GET, HEAD");
		char why[256];

		if (health(why, sizeof why) == -1) {
			struct json j;
			buf_init(&b);
			json_init(&j, &b, JSON_SPACED);
			json_obj(&j);
			json_kstr(&j, "status", "unavailable");
			json_kstr(&j, "reason", why);
			json_end(&j);
			rc = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, &b, NULL);
			buf_free(&b);
			return rc;
		}
		struct json j;
		buf_init(&b);
		json_init(&j, &b, JSON_SPACED);
		json_obj(&j);
		json_kstr(&j, "status", "ok");
		json_end(&j);
		rc = reply(c, MHD_HTTP_OK, &b, NULL);
		buf_free(&b);
		return rc;
	}
	if (strcmp(url, "/metrics") == 0 && V->cfg->verifier.metrics) {
		struct buf b;

		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed", "GET, HEAD");
		buf_init(&b);
		metrics_render(&b);
		rc = reply_hdr(c, MHD_HTTP_OK, &b,
		    "text/plain; version=0.0.4; charset=utf-8", NULL, NULL);
		buf_free(&b);
		return rc;
	}
	if (!start && !check)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "not found", NULL);
	if (V->cfg->verifier.api_keys_file) {
		int wrong;

		if (authorized(c, rq, &wrong) == -1) {
			struct buf b;

			buf_init(&b);
			buf_adds(&b, wrong ? "{\"error\": \"API key not "
			    "valid\"}" : "{\"error\": \"API key needed "
			    "(Authorization: Bearer KEY)\"}");
			rc = reply_hdr(c, MHD_HTTP_UNAUTHORIZED, &b,
			    "application/json", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    wrong ? "Bearer realm=\"tfadesk-verify\", "
			    "error=\"invalid_token\"" :
			    "Bearer realm=\"tfadesk-verify\"");
			buf_free(&b);
			return rc;
		}
	}
	if (strcmp(method, "POST") != 0)
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed", "POST");
	if (rq->too_big)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large", NULL);
	if ((root = serve_parse_body(rq->body.s, rq->body.len, check, &user_id,
	    &code, err, sizeof err)) == NULL)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, err, NULL);
	memset(&r, 0, sizeof r);
	if (start && __atomic_load_n(&V->draining, __ATOMIC_ACQUIRE)) {
		/* no SMS for a login whose answer might not arrive */
		r.outcome = V_ERROR;
		r.error = "shutting down";
	} else if (start) {
		if (spawn_start(c, rq, user_id) == 0) {
			json_decref(root);
			return MHD_YES;
		}
		r.outcome = V_ERROR;
		r.error = "too busy";
	} else if (queue_check(c, rq, user_id, code) == 0) {
		json_decref(root);
		return MHD_YES;
	} else if ((s = thread_store()) == NULL) {
		r.outcome = V_ERROR;
		r.error = "database unavailable";
	} else
		verifier_check(V, s, user_id, code, &r);
	rc = reply_result(c, &r);
	vresult_clear(&r);
	json_decref(root);
	return rc;
}

/* S as a token for the access log: at most LEN - 1 bytes, anything
 * outside printable ASCII, a space or a percent sign %XX-escaped. */
static void
log_token(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch > 0x20 && ch < 0x7f && ch != '%' && ch != '"')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", ch);
	}
	out[o] = '\0';
}

static int
endpoint_of(const char *url)
{
	if (strcmp(url, "/v1/challenges") == 0)
		return M_START;
	if (strcmp(url, "/v1/challenges/check") == 0)
		return M_CHECK;
	if (strcmp(url, "/healthz") == 0)
		return M_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return M_METRICS;
	return M_OTHER;
}

/* verifier.client_ca_file: the client's certificate chains to it. */
static int
client_cert_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 0;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return 0;
	if (gnutls_certificate_type_get((gnutls_session_t)ci->tls_session) !=
	    GNUTLS_CRT_X509)
		return 0;
	if (gnutls_certificate_verify_peers2(
	    (gnutls_session_t)ci->tls_session, &status) != GNUTLS_E_SUCCESS)
		return 0;
	return status == 0;
}

static enum MHD_Result
handler1(struct MHD_Connection *c, const char *url, const char *method,
    const char *data, size_t *data_size, void **con_cls)
{
	struct req *rq = *con_cls;
	const union MHD_ConnectionInfo *ci;
	const char *cl;

	if (rq == NULL) {
		rq = xcalloc(1, sizeof *rq);
		buf_init(&rq->body);
		*con_cls = rq;
		cur = rq;
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		rq->endpoint = endpoint_of(url);
		rq->outcome = -1;
		snprintf(rq->addr, sizeof rq->addr, "-");
		snprintf(rq->key, sizeof rq->key, "-");
		if (alog.fd != -1) {
			ci = MHD_get_connection_info(c,
			    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			if (ci && ci->client_addr &&
			    ci->client_addr->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)
				    (void *)ci->client_addr)->sin_addr,
				    rq->addr, sizeof rq->addr);
			else if (ci && ci->client_addr &&
			    ci->client_addr->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
				    (void *)ci->client_addr)->sin6_addr,
				    rq->addr, sizeof rq->addr);
			log_token(rq->method, sizeof rq->method, method);
			log_token(rq->path, sizeof rq->path, url);
		}
		metrics_in_flight(1);
		pthread_mutex_lock(&flight_mu);
		inflight++;
		pthread_mutex_unlock(&flight_mu);
		if (V->cfg->verifier.client_ca_file && !client_cert_ok(c)) {
			rq->answered = 1;
			return reply_error(c, MHD_HTTP_FORBIDDEN, "a client "
			    "certificate of verifier.client_ca_file is needed",
			    NULL);
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > MAX_BODY) {
			/* answer now; MHD closes the connection after */
			rq->too_big = rq->answered = 1;
			return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large", NULL);
		}
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (rq->answered) {
			*data_size = 0;
			return MHD_YES;
		}
		if (rq->too_big || rq->body.len + *data_size > MAX_BODY) {
			/* keep reading (a chunked body has no length to
			 * refuse up front) and answer 413 at the end, but
			 * hang up on a client that goes on and on */
			rq->too_big = 1;
			rq->discarded += *data_size;
			*data_size = 0;
			return rq->discarded > 16 * MAX_BODY ? MHD_NO : MHD_YES;
		}
		buf_add(&rq->body, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (rq->starting || rq->checking) {
		/* resumed: the start's thread, or the check's batch, is done */
		if (!__atomic_load_n(&rq->ready, __ATOMIC_ACQUIRE))
			return MHD_YES;
		rq->starting = rq->checking = 0;
		return reply_result(c, &rq->r);
	}
	if (rq->answered)
		return MHD_YES;
	rq->answered = 1;
	return route(c, url, method, rq);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **con_cls)
{
	enum MHD_Result rc;

	(void)cls;
	(void)version;
	cur = *con_cls;
	rc = handler1(c, url, method, data, data_size, con_cls);
	cur = NULL;
	return rc;
}

/* One access log line: one write(2) on an O_APPEND descriptor. */
static void
access_line(const struct req *rq, uint64_t us)
{
	struct timespec now;
	struct tm tm;
	char when[32], line[512];
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %u %s %llu.%03llu "
	    "%s\n", when, now.tv_nsec / 1000000, rq->addr,
	    rq->method[0] ? rq->method : "-", rq->path[0] ? rq->path : "-",
	    rq->status, metrics_outcome_name(rq->outcome < 0 ? M_ABORTED :
	    rq->outcome), (unsigned long long)(us / 1000),
	    (unsigned long long)(us % 1000), rq->key);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	pthread_rwlock_rdlock(&alog.lock);
	if (alog.fd != -1 && write(alog.fd, line, (size_t)n) != n) {
		/* said once a minute at most: a full disk must not flood */
		static time_t said;
		time_t t = time(NULL);
		if (__atomic_exchange_n(&said, t, __ATOMIC_RELAXED) / 60 !=
		    t / 60)
			log_warn("serve: verifier.access_log");
	}
	pthread_rwlock_unlock(&alog.lock);
}

/* (Re)opens verifier.access_log: 0, or -1 (logged). */
static int
access_open(void)
{
	const char *path = V->cfg->verifier.access_log;
	int fd, old;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		log_warn("serve: verifier.access_log %s", path);
		return -1;
	}
	pthread_rwlock_wrlock(&alog.lock);
	old = alog.fd;
	alog.fd = fd;
	pthread_rwlock_unlock(&alog.lock);
	if (old != -1)
		close(old);
	return 0;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	uint64_t us;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	us = metrics_elapsed_us(&rq->t0);
	metrics_request(rq->endpoint, rq->outcome < 0 ? M_ABORTED :
	    rq->outcome, us);
	metrics_in_flight(-1);
	if (alog.fd != -1)
		access_line(rq, us);
	buf_free(&rq->body);
	free(rq->user_id);
	vresult_clear(&rq->r);
	free(rq);
	*con_cls = NULL;
	pthread_mutex_lock(&flight_mu);
	inflight--;
	pthread_mutex_unlock(&flight_mu);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_warnx("serve: %s", msg);
}

/* "127.0.0.1:8025", "[::1]:8025", "localhost:8025", "*:8025". */
int
serve_parse_listen(const char *spec, struct sockaddr_storage *ss, int *v6)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon, *port;
	char *end;
	long p;

	memset(ss, 0, sizeof *ss);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - spec - 1) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1),
		    spec + 1);
		port = close + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    (size_t)(colon - spec) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno || p < 1 || p > 65535)
		return -1;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (strcmp(host, "*") == 0 || host[0] == '\0')
		snprintf(host, sizeof host, "0.0.0.0");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*v6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*v6 = 1;
		return 0;
	}
	return -1;
}

int
serve_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const uint8_t *b;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return 1;
	b = s6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
}

/* The whole of PATH (a PEM file) into *OUT; SECRET: secret_open's rules.
 * 0, or an exit status (logged). */
static int
read_pem(const char *key, const char *path, int secret, char **out)
{
	struct buf b;
	char chunk[4096];
	ssize_t r;
	int fd;

	*out = NULL;
	if (secret) {
		if (secret_open(path, 0, &fd) == -1) {
			if (errno == ENOENT)
				log_warn("serve: %s %s", key, path);
			return errno == ENOENT ? EX_CONFIG : secret_exit(errno);
		}
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("serve: %s %s", key, path);
		return errno == EACCES ? EX_NOPERM : EX_CONFIG;
	}
	buf_init(&b);
	buf_add(&b, "", 0);
	while ((r = read(fd, chunk, sizeof chunk)) > 0 ||
	    (r == -1 && errno == EINTR))
		if (r > 0 && b.len < 1024 * 1024)
			buf_add(&b, chunk, (size_t)r);
	close(fd);
	explicit_bzero(chunk, sizeof chunk);
	if (r == -1 || b.len >= 1024 * 1024 ||
	    strstr(b.s, "-----BEGIN ") == NULL) {
		log_warnx("serve: %s %s: not a PEM file", key, path);
		if (b.s)
			explicit_bzero(b.s, b.len);
		buf_free(&b);
		return EX_CONFIG;
	}
	*out = buf_steal(&b);
	return 0;
}

static void
free_pem(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* What serve_run set up for the front door, undone. */
static void
front_free(char *cert, char *key, char *ca)
{
	free_pem(cert);
	free_pem(key);
	free_pem(ca);
	apikeys_free(keys.k);
	keys.k = NULL;
	if (alog.fd != -1)
		close(alog.fd);
	alog.fd = -1;
}

static int
flight(int *starts)
{
	int n;

	pthread_mutex_lock(&flight_mu);
	n = inflight;
	*starts = nstarts;
	pthread_mutex_unlock(&flight_mu);
	return n;
}

/*
 * SIGTERM: no new connections, no new SMS (a start not yet at its send
 * answers 503 with Retry-After), every request in flight answered, for at
 * most sms.timeout and a few seconds (a client trickling its request in
 * is not waited for longer). Start threads are always waited for: each
 * is bounded by sms.timeout, and MHD must not free a connection that is
 * still suspended.
 */
static void
drain(struct MHD_Daemon *d)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	time_t deadline = time(NULL) + V->cfg->sms.timeout + 5;
	MHD_socket fd;
	int n, starts;

	__atomic_store_n(&V->draining, 1, __ATOMIC_RELEASE);
	if ((fd = MHD_quiesce_daemon(d)) != MHD_INVALID_SOCKET)
		close(fd);
	while ((n = flight(&starts)) > 0 && time(NULL) < deadline)
		nanosleep(&tick, NULL);
	if (n > 0)
		log_warnx("serve: %d requests still unanswered after %ld s: "
		    "closing them", n, V->cfg->sms.timeout + 5);
	/* MHD must not free a connection that is still suspended */
	while (flight(&starts), starts > 0 ||
	    __atomic_load_n(&nchecks, __ATOMIC_ACQUIRE) > 0)
		nanosleep(&tick, NULL);
}

int
serve_run(struct verifier *v, const char *listen)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	struct store *s, *ws = NULL;
	sigset_t set;
	pthread_t ckpt;
	unsigned flags;
	char *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
	int v6, sig;

	V = v;
	v->serialize = 1;
	if (serve_parse_listen(listen, &ss, &v6) == -1) {
		log_warnx("serve: listen %s: want ADDR:PORT (IP address, "
		    "[IPv6] or localhost)", listen);
		return EX_USAGE;
	}
	if (!serve_is_loopback(&ss) && v->cfg->verifier.api_keys_file ==
	    NULL && v->cfg->verifier.client_ca_file == NULL) {
		log_warnx("serve: listen %s is not loopback: set "
		    "verifier.api_keys_file (tfadesk-verify key add NAME) or "
		    "verifier.client_ca_file (with tls_cert_file and "
		    "tls_key_file)", listen);
		return EX_CONFIG;
	}
	if (v->cfg->verifier.api_keys_file) {
		int ex;

		if ((keys.k = apikeys_load(v->cfg->verifier.api_keys_file,
		    &ex)) == NULL)
			return ex;
		if (stat(v->cfg->verifier.api_keys_file, &keys.st) == -1)
			memset(&keys.st, 0, sizeof keys.st);
		keys.checked = time(NULL);
		if (!serve_is_loopback(&ss) &&
		    v->cfg->verifier.tls_cert_file == NULL)
			log_warnx("serve: API keys travel in clear on %s: set "
			    "verifier.tls_cert_file and tls_key_file", listen);
	}
	if (v->cfg->verifier.tls_cert_file) {
		int ex;

		if ((ex = read_pem("verifier.tls_cert_file",
		    v->cfg->verifier.tls_cert_file, 0, &tls_cert)) != 0 ||
		    (ex = read_pem("verifier.tls_key_file",
		    v->cfg->verifier.tls_key_file, 1, &tls_key)) != 0 ||
		    (v->cfg->verifier.client_ca_file &&
		    (ex = read_pem("verifier.client_ca_file",
		    v->cfg->verifier.client_ca_file, 0, &tls_ca)) != 0)) {
			front_free(tls_cert, tls_key, tls_ca);
			return ex;
		}
	}
	metrics_init();
	if (access_open() == -1) {
		front_free(tls_cert, tls_key, tls_ca);
		return EX_CANTCREAT;
	}
	/* fail early on a database that is missing or too old; this
	 * connection is then the checkpointer's */
	if ((s = store_verifier_open(v->cfg->verifier.database,
	    v->cfg->database)) == NULL) {
		front_free(tls_cert, tls_key, tls_ca);
		return store_open_status(EX_UNAVAILABLE);
	}
	if (!store_uri_is_pg(v->cfg->database) &&
	    (stat(v->cfg->database, &db_stat) == -1 ||
	    stat(v->cfg->verifier.database, &vdb_stat) == -1)) {
		log_warn("serve: %s", v->cfg->database);
		store_close(s);
		front_free(tls_cert, tls_key, tls_ca);
		return EX_UNAVAILABLE;
	}
	if (verifier_check_templates(v) == -1) {
		store_close(s);
		front_free(tls_cert, tls_key, tls_ca);
		return EX_CONFIG;
	}
	if (pthread_key_create(&store_key, store_dtor) != 0)
		fatalx("pthread_key_create failed");

	/* MHD's threads inherit this mask: only the main thread gets
	 * SIGINT/SIGTERM, through sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the connection of the checks' batches (group commit) */
	if ((ws = store_verifier_open(v->cfg->verifier.database,
	    v->cfg->database)) == NULL ||
	    verifier_store_setup(ws, 1) == -1 ||
	    verifier_batch_start(v, ws) == -1) {
		store_close(ws);
		store_close(s);
		front_free(tls_cert, tls_key, tls_ca);
		return EX_UNAVAILABLE;
	}

	/* /healthz's connection, before the first /healthz can look for
	 * it (NULL: its first probe opens one, under hc.mu) */
	hc.s = open_store();
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (tls_cert)
		flags |= MHD_USE_TLS;
	/* MHD stops at the first MHD_OPTION_END: the TLS options come last,
	 * ended early when TLS is off */
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)v->cfg->verifier.threads,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MAX_HEADERS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)VERIFIER_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)v->cfg->verifier.max_connections_per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, tls_key,
	    tls_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, tls_ca,
	    MHD_OPTION_END);
	/* MHD keeps pointers to the PEM texts: freed after MHD_stop_daemon */
	if (d == NULL) {
		log_warnx("serve: cannot listen on %s (address in use or not "
		    "ours?)", listen);
		verifier_batch_stop(v);
		store_close(ws);
		store_close(s);
		store_close(hc.s);
		hc.s = NULL;
		front_free(tls_cert, tls_key, tls_ca);
		return EX_UNAVAILABLE;
	}
	if (pthread_create(&ckpt, NULL, checkpointer, s) != 0)
		fatalx("pthread_create failed");
	log_info("serve: listening on %s%s, %ld threads, sms %s", listen,
	    tls_cert ? (tls_ca ? " (HTTPS, client certificates)" :
	    " (HTTPS)") : "",
	    v->cfg->verifier.threads, sms_describe(v->sms));
	log_syslog("serve: listening on %s", listen);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* logrotate: a new access log; the keys file is
			 * looked at again */
			access_open();
			__atomic_store_n(&keys.checked, 0, __ATOMIC_RELEASE);
			continue;
		}
		break;
	}
	log_info("serve: signal %d: stopping", sig);
	drain(d);
	MHD_stop_daemon(d);
	verifier_batch_stop(v);
	store_close(ws);
	while (kept.n > 0)
		store_close(kept.s[--kept.n]);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	pthread_join(ckpt, NULL);
	store_close(s);
	store_close(hc.s);
	pthread_key_delete(store_key);
	front_free(tls_cert, tls_key, tls_ca);
	return 0;
}
