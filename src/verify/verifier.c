/*
 * verifier.c - the decisions of tfadesk-verify: whether a login needs a
 * code, whether a code may be sent (policy and limits), and whether a code
 * given back is right. Shared by the CLI and the HTTP service.
 *
 * A challenge row moves through these states:
 *
 *   start:  (none) -> sending -> pending         SMS accepted
 *                            \-> failed          gateway failure; hash gone
 *   check:  pending -> used                      right code (single use)
 *           pending -> locked                    max_attempts wrong codes
 *           pending -> expired                   checked after expires_at
 *   a new start replaces the row whatever its state (attempts back to 0);
 *   a blocked destination deletes it, so no earlier code can be approved.
 *
 * Every decision that concerns a 2FA login writes one audit row (actor
 * "verifier", action "verify.<outcome>", the number masked, never the
 * code) in the same transaction as its state change. Every check and every
 * send reservation runs under BEGIN IMMEDIATE, so that attempt counting is
 * atomic across threads and processes: of many parallel checks of one right
 * code exactly one is approved.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "tmpl.h"
#include "verify.h"
#include "utf8.h"

#define ACTOR "verifier"

static int dest_allowed(const struct config *, const char *);
static int wbegin(struct verifier *, struct store *);
static int wcommit(struct verifier *, struct store *);
static void wrollback(struct verifier *, struct store *);
static char *render(const struct verifier *, const char *,
    const struct tv *);
static void fail(struct vresult *, const char *);
static int audit(struct store *, const char *, const char *, const char *,
    const char *);
static void start_unknown(struct verifier *, struct store *, const char *,
    time_t, struct vresult *);
static void start_send(struct verifier *, struct store *,
    const struct user *, time_t, struct vresult *);
static int limits(struct verifier *, struct store *, const struct user *,
    time_t, time_t, long, long, long, struct vresult *);

/* Inside one serve process writers queue here rather than in SQLite's busy
 * handler, whose sleeps would show in the latency. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* The answer as JSON, as the HTTP API and `check --json` give it:
 * {"outcome": ...} and, per outcome, reason and retry_after, message or
 * error. */
void
vresult_json(struct buf *b, const struct vresult *r)
{
	struct json j;

	json_init(&j, b, JSON_SPACED);
	json_obj(&j);
	json_kstr(&j, "outcome", voutcome_name(r->outcome));
	if (r->outcome == V_RATE_LIMITED && r->reason) {
		json_kstr(&j, "reason", r->reason);
		json_kint(&j, "retry_after", r->retry_after);
	}
	if (r->outcome == V_NO_MOBILE && r->message)
		json_kstr(&j, "message", r->message);
	if (r->outcome == V_ERROR)
		json_kstr(&j, "error", r->error ? r->error :
		    "temporary failure");
	json_end(&j);
}

void
vresult_clear(struct vresult *r)
{
	if (r == NULL)
		return;
	free(r->message);
	memset(r, 0, sizeof *r);
}

struct verifier *
verifier_new(const struct config *cfg, int check_only, int *ex)
{
	struct verifier *v;

	*ex = EX_CONFIG;
	if (otp_init() == -1) {
		log_warnx("verifier: libsodium: cannot initialise");
		return NULL;
	}
	v = xcalloc(1, sizeof *v);
	v->cfg = cfg;
	if (check_only && access(cfg->verifier.key_file, F_OK) == -1 &&
	    errno == ENOENT)
		log_info("verifier: key_file %s: created on first use",
		    cfg->verifier.key_file);
	else if ((*ex = otp_key_load(cfg->verifier.key_file, v->key)) != 0) {
		verifier_free(v);
		return NULL;
	}
	if ((v->sms = sms_new(cfg, ex)) == NULL) {
		verifier_free(v);
		return NULL;
	}
	*ex = 0;
	return v;
}

void
verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	sms_free(v->sms);
	sodium_memzero(v->key, sizeof v->key);
	free(v);
}

int
verifier_store_setup(struct store *s, int serving)
{
	return vstore_tune(s, serving);
}

/*
 * serve's WAL checkpoints (automatic ones are off there). Often: copy the
 * WAL into the database while requests go on (PASSIVE). Now and then
 * (RESTART): once more under the write lock, which only has the last few
 * frames to copy; a WAL wholly copied when the next writer begins is
 * restarted from its start. Without that step, under constant load the
 * WAL would never restart and would grow without end; with it at every
 * checkpoint, the fsyncs under the lock would show in the latency.
 */
int
verifier_checkpoint(struct verifier *v, struct store *s, int restart)
{
	struct timespec pause = { 0, 50 * 1000 };
	int rc, frames = 0, copied = 0;

	(void)v;
	if (vstore_checkpoint(s, &frames, NULL) == -1)
		return -1;
	if (!restart && frames < 65536)
		return 0;
	/* again: this one only copies what came in during the first */
	if (vstore_checkpoint(s, NULL, NULL) == -1)
		return -1;
	/* the disk writes too, before the lock rather than under it */
	vstore_presync(s);
	pthread_mutex_lock(&write_lock);
	/* readers that began before the lock may hold the last frames back
	 * for a moment; the ones that begin now read the latest state */
	for (int i = 0; i < 20; i++) {
		if ((rc = vstore_checkpoint(s, &frames, &copied)) == -1 ||
		    copied >= frames)
			break;
		nanosleep(&pause, NULL);
	}
	pthread_mutex_unlock(&write_lock);
	return rc;
}

/*
 * /healthz's database probe: both schema versions readable and known, and
 * a real write (the heartbeat row) committed to the verifier's file. 0
 * fine; -1 and WHY (a short reason) otherwise.
 */
int
verifier_health(struct verifier *v, struct store *s, char *why, size_t len)
{
	int rc;

	if ((rc = vstore_versions(s, why, len)) != 0)
		return -1;
	if (wbegin(v, s) == -1) {
		snprintf(why, len, "verifier database: cannot write: %s",
		    vstore_errmsg(s));
		return -1;
	}
	if (vstore_heartbeat(s, now_time()) == -1) {
		snprintf(why, len, "verifier database: cannot write: %s",
		    vstore_errmsg(s));
		wrollback(v, s);
		return -1;
	}
	if (wcommit(v, s) == -1) {
		snprintf(why, len, "verifier database: cannot commit: %s",
		    vstore_errmsg(s));
		return -1;
	}
	return 0;
}

/* Well-formed UTF-8 (the ID goes into the audit log, which is printed as
 * JSON), no space, no control character, no line or paragraph separator,
 * no bidirectional formatting character (utf8_is_bidi_control: marks,
 * overrides, isolates) that would make one ID look like another in a
 * listing. */
int
verifier_valid_user_id(const char *id)
{
	size_t n = strlen(id), k;
	uint32_t c;

	if (n == 0 || n > 128)
		return 0;
	for (; n > 0; id += k, n -= k)
		if ((k = utf8_decode(id, n, &c)) == 0 || c == ' ' ||
		    utf8_is_control(c) || utf8_is_bidi_control(c) ||
		    c == 0x2028 || c == 0x2029)
			return 0;
	return 1;
}

int
verifier_valid_code(const char *code)
{
	return strlen(code) <= 32;
}

/* Destination country codes: E.164 country codes are a prefix code, so a
 * number belongs to country code CC exactly when its digits start with CC. */
static int
dest_allowed(const struct config *cfg, const char *digits)
{
	char cc[16];
	size_t n = strlen(digits);

	if (n < 7 || n > 15 || strspn(digits, "0123456789") != n)
		return 0;
	for (size_t i = 0; i < cfg->verifier.n_allowed_country_codes; i++) {
		snprintf(cc, sizeof cc, "%ld",
		    cfg->verifier.allowed_country_codes[i]);
		if (strncmp(digits, cc, strlen(cc)) == 0)
			return 1;
	}
	return 0;
}

/* Write transactions. In serve, writers of one process queue on
 * write_lock; wlocked says whether this thread holds it (and has a
 * transaction open), so that a rollback after a failed commit (which has
 * already rolled back and let go) does nothing. */
static __thread int wlocked;

static int
wbegin(struct verifier *v, struct store *s)
{
	if (v->serialize)
		pthread_mutex_lock(&write_lock);
	if (store_begin(s) == -1 || vstore_serialize(s) == -1) {
		store_rollback(s);
		if (v->serialize)
			pthread_mutex_unlock(&write_lock);
		return -1;
	}
	wlocked = 1;
	return 0;
}

static int
wcommit(struct verifier *v, struct store *s)
{
	int rc = store_commit(s);

	wlocked = 0;
	if (v->serialize)
		pthread_mutex_unlock(&write_lock);
	return rc;
}

static void
wrollback(struct verifier *v, struct store *s)
{
	if (!wlocked)
		return;
	store_rollback(s);
	wlocked = 0;
	if (v->serialize)
		pthread_mutex_unlock(&write_lock);
}

/* Renders templates/NAME; trailing white space trimmed. NULL: logged. */
static char *
render(const struct verifier *v, const char *name, const struct tv *ctx)
{
	char *err = NULL, *out;
	size_t n;

	out = tmpl_render_file(v->cfg->templates, name, ctx, &err);
	if (out == NULL) {
		log_warnx("verifier: %s/%s: %s", v->cfg->templates, name,
		    err ? err : "cannot render");
		free(err);
		return NULL;
	}
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	return out;
}

int
verifier_check_templates(struct verifier *v)
{
	struct tv *tv = tv_new();
	char *a, *b;
	int rc;

	if (tv == NULL)
		fatalx("out of memory");
	tv_set(tv, "user_id", "U0");
	tv_set(tv, "name", "A User");
	tv_set(tv, "account", "R0");
	tv_set(tv, "reseller", "R0");
	tv_set(tv, "code", "000000");
	tv_set(tv, "minutes", "5");
	tv_set(tv, "seconds", "300");
	a = render(v, "lockout.txt", tv);
	b = render(v, "sms_code.txt", tv);
	rc = a && b && *a && *b ? 0 : -1;
	if (a && b && (!*a || !*b))
		log_warnx("verifier: %s: lockout.txt or sms_code.txt renders "
		    "empty", v->cfg->templates);
	free(a);
	free(b);
	tv_free(tv);
	return rc;
}

static void
fail(struct vresult *r, const char *why)
{
	r->outcome = V_ERROR;
	r->error = why;
}

static int
audit(struct store *s, const char *action, const char *account,
    const char *user, const char *detail)
{
	return store_audit(s, ACTOR, action, account, user, NULL, detail, 0);
}

/*
 * unknown_user: the same work as a real start up to the send (an account
 * lookup, a code, its hash and its text, both limit queries, one write
 * transaction with its audit row), so that the answer takes as long as a
 * refusal (rate_limited) for a known user. Only a real send (the gateway's
 * round trip) takes longer.
 */
static void
start_unknown(struct verifier *v, struct store *s, const char *user_id,
    time_t now, struct vresult *r)
{
	struct account a;
	char code[OTP_MAX_DIGITS + 1];
	unsigned char hash[OTP_HASH_BYTES];
	time_t last;
	long n;

	struct tv *tv;
	char *text;

	if (store_account_get(s, "\001", &a) == 0)
		account_clear(&a);
	otp_generate(code, (size_t)v->cfg->verifier.code_length);
	otp_hash(v->key, user_id, code, hash);
	if ((tv = tv_new()) == NULL)
		fatalx("out of memory");
	tv_set(tv, "code", code);
	tv_setf(tv, "minutes", "%ld", (v->cfg->verifier.ttl_seconds + 59) / 60);
	tv_setf(tv, "seconds", "%ld", v->cfg->verifier.ttl_seconds);
	tv_set(tv, "user_id", user_id);
	text = render(v, "sms_code.txt", tv);
	tv_free(tv);
	free(text);
	sodium_memzero(code, sizeof code);
	if (wbegin(v, s) == -1) {
		fail(r, "database unavailable");
		return;
	}
	if (vstore_sends_user(s, user_id, now - 3600, &n, &last) == -1 ||
	    vstore_sends_dest(s, "0", now - 3600, &n) == -1 ||
	    vstore_sends_all(s, now - 3600, &n) == -1 ||
	    audit(s, "verify.unknown_user", NULL, user_id, NULL) == -1 ||
	    wcommit(v, s) == -1) {
		wrollback(v, s);
		fail(r, "database unavailable");
		return;
	}
	r->outcome = V_UNKNOWN_USER;
}

void
verifier_start(struct verifier *v, struct store *s, const char *user_id,
    struct vresult *r)
{
	const struct config *cfg = v->cfg;
	struct user u;
	struct account a;
	struct tv *tv;
	char *masked;
	time_t now = now_time();
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = store_user_get(s, user_id, &u)) == -1) {
		fail(r, "database unavailable");
		return;
	}
	if (rc == 1) {
		start_unknown(v, s, user_id, now, r);
		return;
	}
	if ((rc = store_account_get(s, u.account, &a)) != 0) {
		if (rc == 1)
			log_warnx("verifier: user %s: account %s not found",
			    u.id, u.account);
		user_clear(&u);
		fail(r, "database unavailable");
		return;
	}

	if (!a.twofa) {
		r->outcome = V_NOT_REQUIRED;
		goto out;
	}

	if (u.phone == NULL || *u.phone == '\0') {
		/* The portal's lockout rule: refuse the login, tell the user
		 * how to get a number registered. */
		if ((tv = tv_new()) == NULL)
			fatalx("out of memory");
		tv_set(tv, "user_id", u.id);
		tv_set(tv, "name", u.name);
		tv_set(tv, "account", a.id);
		tv_set(tv, "reseller", a.reseller ? a.reseller : a.id);
		r->message = render(v, "lockout.txt", tv);
		tv_free(tv);
		if (r->message == NULL) {
			fail(r, "lockout template unusable");
			goto out;
		}
		if (wbegin(v, s) == -1) {
			fail(r, "database unavailable");
			goto out;
		}
		if (audit(s, "verify.no_mobile", a.id, u.id, NULL) == -1 ||
		    wcommit(v, s) == -1) {
			wrollback(v, s);
			fail(r, "database unavailable");
			goto out;
		}
		r->outcome = V_NO_MOBILE;
		goto out;
	}

	if (!dest_allowed(cfg, u.phone)) {
		/* SMS pumping: never send, and no earlier code may pass. */
		masked = mask_phone(u.phone);
		if (wbegin(v, s) == -1) {
			free(masked);
			fail(r, "database unavailable");
			goto out;
		}
		if (vstore_chal_drop(s, u.id) == -1 ||
		    audit(s, "verify.blocked", a.id, u.id, masked) == -1 ||
		    wcommit(v, s) == -1) {
			wrollback(v, s);
			fail(r, "database unavailable");
		} else {
			log_info("verifier: %s: %s: country not allowed: "
			    "blocked", u.id, masked);
			r->outcome = V_BLOCKED;
		}
		free(masked);
		goto out;
	}

	start_send(v, s, &u, now, r);
out:
	user_clear(&u);
	account_clear(&a);
}

/*
 * The send limits, inside the reservation's transaction. 0: a send may
 * go; 1: r->reason and r->retry_after set; -1: database error. Of the
 * limits that hold, the one that holds longest is reported, so that a
 * retry after retry_after seconds is not refused by another one (as far
 * as sends by others do not fill the windows again). Counts are over the
 * last hour (at >= now - 3600): a send at time T stops counting at
 * T + 3601, and when COUNT reaches LIMIT the send that must leave first
 * is the (COUNT - LIMIT + 1)-th oldest.
 */
static int
limits(struct verifier *v, struct store *s, const struct user *u,
    time_t now, time_t last, long nuser, long ndest, long nall,
    struct vresult *r)
{
	const struct config *cfg = v->cfg;
	struct {
		const char *reason, *user_id, *dest;
		long count, max;
	} lim[] = {
		{ "user_limit", u->id, NULL, nuser,
		    cfg->verifier.max_sends_per_hour },
		{ "destination_limit", NULL, u->phone, ndest,
		    cfg->verifier.max_sends_per_dest_per_hour },
		{ "global_limit", NULL, NULL, nall,
		    cfg->verifier.max_sms_per_hour },
	};
	time_t until = 0, t;
	int rc;

	r->reason = NULL;
	if (last > 0 && now - last < cfg->verifier.resend_after_seconds) {
		until = last + cfg->verifier.resend_after_seconds;
		r->reason = "cooldown";
	}
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		if (lim[i].count < lim[i].max)
			continue;
		if ((rc = vstore_sends_nth(s, lim[i].user_id, lim[i].dest,
		    now - 3600, lim[i].count - lim[i].max, &t)) == -1)
			return -1;
		/* rc 1 cannot happen inside the transaction; be safe */
		t = rc == 0 ? t + 3601 : now + 1;
		if (r->reason == NULL || t > until) {
			until = t;
			r->reason = lim[i].reason;
		}
	}
	if (r->reason == NULL)
		return 0;
	r->retry_after = until > now ? (long)(until - now) : 1;
	return 1;
}

/* Reserve (limits, sms_log row, challenge "sending") in one transaction,
 * send outside it, then record the result in a second one. */
static void
start_send(struct verifier *v, struct store *s, const struct user *u,
    time_t now, struct vresult *r)
{
	const struct config *cfg = v->cfg;
	char code[OTP_MAX_DIGITS + 1], *text, *masked, *detail;
	unsigned char hash[OTP_HASH_BYTES];
	const char *why = NULL;
	struct tv *tv;
	time_t last, keep;
	long nuser, ndest, nall;
	int64_t logid;
	int sent, rc;

	otp_generate(code, (size_t)cfg->verifier.code_length);
	otp_hash(v->key, u->id, code, hash);
	if ((tv = tv_new()) == NULL)
		fatalx("out of memory");
	tv_set(tv, "code", code);
	tv_setf(tv, "minutes", "%ld", (cfg->verifier.ttl_seconds + 59) / 60);
	tv_setf(tv, "seconds", "%ld", cfg->verifier.ttl_seconds);
	tv_set(tv, "user_id", u->id);
	text = render(v, "sms_code.txt", tv);
	tv_free(tv);
	sodium_memzero(code, sizeof code);
	if (text == NULL) {
		fail(r, "SMS template unusable");
		return;
	}
	masked = mask_phone(u->phone);

	if (wbegin(v, s) == -1)
		goto dberr;
	if (vstore_sends_user(s, u->id, now - 3600, &nuser, &last) == -1 ||
	    vstore_sends_dest(s, u->phone, now - 3600, &ndest) == -1 ||
	    vstore_sends_all(s, now - 3600, &nall) == -1)
		goto dberr_tx;
	if ((rc = limits(v, s, u, now, last, nuser, ndest, nall, r)) == -1)
		goto dberr_tx;
	if (rc == 1) {
		detail = xstrfmt("%s: %s: retry after %ld s", masked,
		    r->reason, r->retry_after);
		if (audit(s, "verify.rate_limited", u->account, u->id,
		    detail) == -1) {
			free(detail);
			goto dberr_tx;
		}
		free(detail);
		if (wcommit(v, s) == -1)
			goto dberr;
		r->outcome = V_RATE_LIMITED;
		goto done;
	}
	/* the cool-down reads the user's last send whatever its age */
	keep = cfg->verifier.resend_after_seconds > 3600 ?
	    cfg->verifier.resend_after_seconds : 3600;
	if (vstore_smslog_prune(s, now - keep - 60) == -1 ||
	    vstore_smslog_add(s, u->id, u->phone, now, "sending",
	    &logid) == -1 ||
	    vstore_chal_put(s, u->id, u->phone, hash, now,
	    now + cfg->verifier.ttl_seconds, "sending") == -1 ||
	    wcommit(v, s) == -1)
		goto dberr_tx;

	/* serve is stopping: its answer might never arrive, so no SMS (the
	 * reservation is given back as a failed send) */
	if (__atomic_load_n(&v->draining, __ATOMIC_ACQUIRE)) {
		sent = 0;
		why = "shutting down";
	} else
		sent = sms_send(v->sms, u->phone, text, &why) == 0;

	if (wbegin(v, s) == -1)
		goto dberr;
	detail = sent ? xstrdup(masked) : xstrfmt("%s: %s", masked, why);
	if (vstore_smslog_set(s, logid, sent ? "sent" : "failed") == -1 ||
	    vstore_chal_move(s, u->id, now, hash, "sending",
	    sent ? "pending" : "failed", !sent) == -1 ||
	    audit(s, sent ? "verify.sent" : "verify.send_failed", u->account,
	    u->id, detail) == -1) {
		free(detail);
		goto dberr_tx;
	}
	free(detail);
	if (wcommit(v, s) == -1)
		goto dberr;
	if (sent) {
		log_info("verifier: %s: code sent to %s", u->id, masked);
		r->outcome = V_SENT;
	} else
		fail(r, why && strcmp(why, "shutting down") == 0 ? why :
		    "SMS gateway unavailable");
	goto done;

dberr_tx:
	wrollback(v, s);
dberr:
	fail(r, "database unavailable");
done:
	sodium_memzero(text, strlen(text));
	free(text);
	free(masked);
}

/*
 * A check, once its hash is computed and its user read: everything that
 * must happen atomically, inside the caller's write transaction. Fills
 * j->r; -1 on a database error (the transaction must then be rolled back).
 */
struct cjob {
	const char *user_id;
	const struct user *u;        /* borrowed; id NULL: unknown user */
	struct user *lookup;         /* batch: read into it, then u, inside
	                                the transaction */
	unsigned char hash[OTP_HASH_BYTES];
	int well_formed;
	time_t now;
	struct vresult *r;
	void (*done_cb)(void *);      /* group commit: called after it */
	void *arg;
	struct cjob *next;
};

static int
check_tx(struct verifier *v, struct store *s, struct cjob *j)
{
	const struct config *cfg = v->cfg;
	const struct user *u = j->u;
	const char *user_id = j->user_id, *action, *detail_s = NULL;
	char *detail = NULL, *masked = NULL;
	struct vresult *r = j->r;
	struct vchal c;
	int known = u->id != NULL, right, rc;

	if ((rc = vstore_chal_get(s, user_id, &c)) == -1)
		return -1;
	right = rc == 0 && c.has_hash && otp_equal(j->hash, c.hash);
	if (rc == 1 || !known) {
		r->outcome = V_DENIED;
		detail_s = "no pending code";
	} else if (strcmp(c.state, "locked") == 0) {
		r->outcome = V_LOCKED;
		detail_s = "challenge locked";
	} else if (strcmp(c.state, "expired") == 0) {
		r->outcome = V_EXPIRED;
		detail_s = "code expired";
	} else if (strcmp(c.state, "pending") != 0) {
		r->outcome = V_DENIED;
		detail_s = strcmp(c.state, "used") == 0 ? "code already used" :
		    "no pending code";
	} else if (j->now >= c.expires_at) {
		if (vstore_chal_set(s, user_id, "expired", c.attempts, 1) == -1)
			return -1;
		r->outcome = V_EXPIRED;
		detail_s = "code expired";
	} else if (right && j->well_formed && u->phone &&
	    strcmp(u->phone, c.dest) == 0 && dest_allowed(cfg, c.dest)) {
		/* the right code, still for the user's current, allowed
		 * number: approved, and never again */
		if (vstore_chal_set(s, user_id, "used", c.attempts, 1) == -1)
			return -1;
		r->outcome = V_APPROVED;
		masked = mask_phone(c.dest);
		detail_s = masked;
	} else {
		c.attempts++;
		if (c.attempts >= cfg->verifier.max_attempts) {
			if (vstore_chal_set(s, user_id, "locked", c.attempts,
			    1) == -1)
				return -1;
			r->outcome = V_LOCKED;
			detail = xstrfmt("wrong code %d of %ld: locked",
			    c.attempts, cfg->verifier.max_attempts);
		} else {
			if (vstore_chal_set(s, user_id, "pending", c.attempts,
			    0) == -1)
				return -1;
			r->outcome = V_DENIED;
			detail = xstrfmt("wrong code %d of %ld", c.attempts,
			    cfg->verifier.max_attempts);
		}
		detail_s = detail;
	}
	switch (r->outcome) {
	case V_APPROVED: action = "verify.approved"; break;
	case V_EXPIRED: action = "verify.expired"; break;
	case V_LOCKED: action = "verify.locked"; break;
	default: action = "verify.denied"; break;
	}
	rc = audit(s, action, known ? u->account : NULL, user_id, detail_s);
	if (rc == 0 && r->outcome == V_LOCKED && detail)
		log_info("verifier: %s: %s", user_id, detail);
	free(detail);
	free(masked);
	return rc;
}

/*
 * Group commit (serve): a request thread queues its check and goes back to
 * its other connections (serve suspends the check's connection); the
 * batches' thread takes every check queued (at most BATCH_MAX), runs them
 * in one transaction on the batches' connection (one connection keeps its
 * page cache warm across batches, where the threads' own would each find
 * the others' commits and drop theirs), commits once, and only then hands
 * each its answer (DONE: serve resumes the connection). Each check is
 * still decided atomically (one after the other, inside the transaction),
 * none is answered before the commit that holds it, and none waits for
 * company: the thread begins a batch as soon as one check is queued and it
 * is free. The checks that arrive while it commits make the next batch;
 * a commit, its WAL pages and locks are shared by the batch. (When each
 * request thread waited for its own check, with verifier.threads on 2
 * cores the checks seldom overlapped: 1.003 a batch.)
 */
#define BATCH_MAX 64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* a check queued, or stop */
	struct cjob *head, *tail;
	int stop, running;
	unsigned long checks, batches;
	pthread_t t;
	struct store *s;
	struct verifier *v;
} gc = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
    0, 0, 0, 0, 0, NULL, NULL };

/* Runs BATCH in one transaction; 0, or -1 (rolled back). */
static int
check_batch_run(struct cjob *batch)
{
	struct store *s = gc.s;
	struct cjob *j;

	if (wbegin(gc.v, s) == -1)
		return -1;
	for (j = batch; j; j = j->next) {
		/* rc 1: unknown user, all zero */
		if (store_user_get(s, j->user_id, j->lookup) == -1 ||
		    (j->u = j->lookup, check_tx(gc.v, s, j)) == -1) {
			wrollback(gc.v, s);
			return -1;
		}
	}
	return wcommit(gc.v, s);
}

static void *
batch_thread(void *arg)
{
	struct cjob *batch, *j, *next;
	int n, failed;

	(void)arg;
	pthread_mutex_lock(&gc.mu);
	for (;;) {
		while (gc.head == NULL && !gc.stop)
			pthread_cond_wait(&gc.cv, &gc.mu);
		if (gc.head == NULL)
			break;
		batch = gc.head;
		for (n = 1, j = batch; j->next && n < BATCH_MAX; n++)
			j = j->next;
		gc.head = j->next;
		if (gc.head == NULL)
			gc.tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&gc.mu);

		failed = check_batch_run(batch) == -1;
		gc.checks += (unsigned long)n;
		gc.batches++;
		for (j = batch; j; j = next) {
			next = j->next;
			if (failed) {
				memset(j->r, 0, sizeof *j->r);
				fail(j->r, "database unavailable");
			}
			sodium_memzero(j->hash, sizeof j->hash);
			user_clear(j->lookup);
			free(j->lookup);
			/* the job is the queue's: the caller's R and
			 * USER_ID are handed back by DONE */
			j->done_cb(j->arg);
			free(j);
		}
		pthread_mutex_lock(&gc.mu);
	}
	pthread_mutex_unlock(&gc.mu);
	return NULL;
}

/* Checks from now on go by group commit, on S. */
int
verifier_batch_start(struct verifier *v, struct store *s)
{
	gc.v = v;
	gc.s = s;
	gc.stop = 0;
	if (pthread_create(&gc.t, NULL, batch_thread, NULL) != 0) {
		log_warnx("verifier: cannot start the checks' thread");
		return -1;
	}
	gc.running = 1;
	v->batch = 1;
	return 0;
}

/* Every check queued is answered first. */
void
verifier_batch_stop(struct verifier *v)
{
	v->batch = 0;
	if (!gc.running)
		return;
	pthread_mutex_lock(&gc.mu);
	gc.stop = 1;
	pthread_cond_signal(&gc.cv);
	pthread_mutex_unlock(&gc.mu);
	pthread_join(gc.t, NULL);
	gc.running = 0;
	if (gc.batches > 0)
		log_info("verifier: %lu checks in %lu batches (%.2f a batch)",
		    gc.checks, gc.batches, (double)gc.checks / gc.batches);
}

static int check_prepare(struct verifier *, const char *, const char *,
    struct vresult *, struct cjob *);

int
verifier_check_queue(struct verifier *v, const char *user_id,
    const char *code, struct vresult *r, void (*done)(void *), void *arg)
{
	struct cjob *j;

	if (!v->batch)
		return -1;
	j = xcalloc(1, sizeof *j);
	memset(r, 0, sizeof *r);
	check_prepare(v, user_id, code, r, j);
	j->lookup = xcalloc(1, sizeof *j->lookup);
	j->done_cb = done;
	j->arg = arg;
	pthread_mutex_lock(&gc.mu);
	if (gc.tail)
		gc.tail->next = j;
	else
		gc.head = j;
	gc.tail = j;
	pthread_cond_signal(&gc.cv);
	pthread_mutex_unlock(&gc.mu);
	return 0;
}

/* A caller that waits for its queued check (serve's synchronous path). */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void
waiter_done(void *arg)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
batch_check_wait(struct verifier *v, const char *user_id, const char *code,
    struct vresult *r)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, 0 };

	if (verifier_check_queue(v, user_id, code, r, waiter_done, &w) == -1) {
		fail(r, "database unavailable");
		return;
	}
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
}

static void check_user(struct verifier *, struct store *, const char *,
    const struct user *, const char *, struct vresult *);

void
verifier_check(struct verifier *v, struct store *s, const char *user_id,
    const char *code, struct vresult *r)
{
	struct user u;

	memset(r, 0, sizeof *r);
	/* serve: the user is read inside the batch's transaction (the read
	 * locks of a transaction of its own cost as much as the rest) */
	if (v->batch) {
		batch_check_wait(v, user_id, code, r);
		return;
	}
	/* rc 1: unknown user, u is all zero */
	if (store_user_get(s, user_id, &u) == -1) {
		fail(r, "database unavailable");
		return;
	}
	check_user(v, s, user_id, &u, code, r);
	user_clear(&u);
}

/*
 * The staff desk's second factor: the same codes, limits and checks for
 * a holder that is not a portal user (U->id "staff:NAME", U->phone its
 * number, U->account NULL): no 2FA or lockout decision, only the
 * destination policy, the limits and the send.
 */
void
verifier_start_holder(struct verifier *v, struct store *s,
    const struct user *u, struct vresult *r)
{
	char *masked;

	memset(r, 0, sizeof *r);
	if (u->phone == NULL || !dest_allowed(v->cfg, u->phone)) {
		masked = mask_phone(u->phone ? u->phone : "");
		if (wbegin(v, s) == -1) {
			free(masked);
			fail(r, "database unavailable");
			return;
		}
		if (vstore_chal_drop(s, u->id) == -1 ||
		    audit(s, "verify.blocked", NULL, u->id, masked) == -1 ||
		    wcommit(v, s) == -1) {
			wrollback(v, s);
			fail(r, "database unavailable");
		} else
			r->outcome = V_BLOCKED;
		free(masked);
		return;
	}
	start_send(v, s, u, now_time(), r);
}

void
verifier_check_holder(struct verifier *v, struct store *s,
    const struct user *u, const char *code, struct vresult *r)
{
	memset(r, 0, sizeof *r);
	check_user(v, s, u->id, u, code, r);
}

/* J for the check of CODE for USER_ID (borrowed), answer into R. */
static int
check_prepare(struct verifier *v, const char *user_id, const char *code,
    struct vresult *r, struct cjob *j)
{
	size_t clen = strlen(code);

	j->user_id = user_id;
	j->r = r;
	j->now = now_time();
	j->well_formed = clen == (size_t)v->cfg->verifier.code_length &&
	    strspn(code, "0123456789") == clen;
	/* Always hash, so that a malformed code costs the same. */
	otp_hash(v->key, user_id, code, j->hash);
	return 0;
}

static void
check_user(struct verifier *v, struct store *s, const char *user_id,
    const struct user *u, const char *code, struct vresult *r)
{
	struct cjob j;

	memset(&j, 0, sizeof j);
	check_prepare(v, user_id, code, r, &j);
	j.u = u;
	if (wbegin(v, s) == -1)
		fail(r, "database unavailable");
	else if (check_tx(v, s, &j) == -1) {
		wrollback(v, s);
		fail(r, "database unavailable");
	} else if (wcommit(v, s) == -1)
		fail(r, "database unavailable");
	sodium_memzero(j.hash, sizeof j.hash);
}
