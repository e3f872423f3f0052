/*
 * desk.c - tfadesk desk: the staff desk, a small web application served by
 * tfadesk itself with libmicrohttpd, meant to sit behind a TLS reverse
 * proxy (samples/nginx/tfadesk-desk.conf) on 127.0.0.1:8026.
 *
 * Server-rendered HTML, one stylesheet, no script. One thread answers every
 * request (MHD's internal polling thread) with one database connection.
 *
 * Login: a name and a password (Argon2id), then a code sent by SMS through
 * the verifier's own code and limits (verifier_start_holder/check_holder,
 * challenges keyed "staff:NAME"). A session is a 256-bit random token in an
 * HttpOnly, SameSite=Strict (and, unless desk.secure_cookies is false,
 * Secure) cookie; the database keeps only its BLAKE2b hash, with a CSRF
 * token that every POST must carry. Sessions end after
 * desk.session_idle_minutes without a request, and on logout.
 *
 * Failed logins (password or code) count per name and per client address;
 * over the limit every login answers the same "try again later", whether
 * the name exists or not, and an unknown name costs the same password hash
 * as a known one.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "cmd.h"
#include "admin.h"
#include "mail.h"
#include "mime.h"
#include "utf8.h"
#include "desk-html.h"
#include "staff.h"
#include "verify/verify.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

#define COOKIE          "tfadesk_session"
#define MAX_BODY        (64 * 1024)
#define MAX_FIELDS      32
#define FAIL_WINDOW     (15 * 60)   /* seconds failures are counted */
#define FAIL_PER_NAME   5
#define FAIL_PER_ADDR   20
#define QUEUE_LIMIT     200
#define AUDIT_LIMIT     500

static struct {
	struct config *cfg;
	struct store *s;
	struct store *vs;    /* verifier.database: challenges and SMS log */
	struct verifier *v;
	struct proc *proc;   /* rules and numbering: approve, plans */
	char dummy_hash[crypto_pwhash_STRBYTES];  /* for unknown names */
} D;

struct form {
	size_t n;
	char *k[MAX_FIELDS], *v[MAX_FIELDS];
};

struct req {                   /* MHD's per-request pointer */
	struct buf body;
	int too_big;
};

struct ctx {
	struct MHD_Connection *c;
	const char *method, *url;
	struct form form;
	char addr[INET6_ADDRSTRLEN];
	int have_sess, had_cookie;
	int db_down;           /* the session could not be read */
	unsigned char hash[DESK_TOKEN_HASH_BYTES];
	struct desk_session sess;
	char *actor;               /* "staff:NAME" */
};

/* ---- small helpers -------------------------------------------------- */

static const char *
form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->k[i], name) == 0)
			return f->v[i];
	return NULL;
}

/* A text field: NULL when absent or blank. */
static const char *
form_text(const struct form *f, const char *name)
{
	const char *v = form_get(f, name);

	if (v == NULL)
		return NULL;
	for (const char *p = v; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return v;
	return NULL;
}

static void
form_parse(struct form *f, char *body)
{
	char *save = NULL;

	for (char *kv = strtok_r(body, "&", &save); kv && f->n < MAX_FIELDS;
	    kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		char *val = eq ? eq + 1 : kv + strlen(kv);
		if (eq)
			*eq = '\0';
		for (char *p = kv; *p; p++)
			if (*p == '+')
				*p = ' ';
		for (char *p = val; *p; p++)
			if (*p == '+')
				*p = ' ';
		MHD_http_unescape(kv);
		MHD_http_unescape(val);
		/* CRLF from a textarea: keep only the LF */
		{
			char *w = val;
			for (char *r = val; *r; r++)
				if (*r != '\r')
					*w++ = *r;
			*w = '\0';
		}
		f->k[f->n] = kv;
		f->v[f->n] = val;
		f->n++;
	}
}

static const char *
arg(struct ctx *x, const char *name)
{
	const char *v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND,
	    name);

	return v && *v ? v : NULL;
}

static void
hexify(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, n * 2 + 1, in, n);
}

/* Is ADDR one of desk.trusted_proxies? */
static int
trusted(const char *addr)
{
	unsigned char a[16], b[16];
	int fa = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fa, addr, a) != 1)
		return 0;
	for (size_t i = 0; i < D.cfg->desk.n_trusted_proxies; i++) {
		const char *p = D.cfg->desk.trusted_proxies[i];
		int fp = strchr(p, ':') ? AF_INET6 : AF_INET;
		if (fp == fa && inet_pton(fp, p, b) == 1 &&
		    memcmp(a, b, fa == AF_INET ? 4 : 16) == 0)
			return 1;
	}
	return 0;
}

/* The client: the peer, or behind a trusted proxy the right-most address
 * of X-Forwarded-For that is not itself a trusted proxy. */
static void
client_addr(struct ctx *x)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(x->c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff;

	snprintf(x->addr, sizeof x->addr, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    x->addr, sizeof x->addr);
	else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], x->addr,
			    sizeof x->addr);
		else
			inet_ntop(AF_INET6, a6, x->addr, sizeof x->addr);
	}
	if (!trusted(x->addr))
		return;
	xff = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	if (xff == NULL || strlen(xff) > 2048)
		return;
	{
		char *copy = xstrdup(xff), *end = copy + strlen(copy);
		while (end > copy) {
			char *start = end, tmp[INET6_ADDRSTRLEN + 1];
			unsigned char bin[16];
			while (start > copy && start[-1] != ',')
				start--;
			snprintf(tmp, sizeof tmp, "%.*s", (int)(end - start),
			    start);
			str_trim(tmp);
			if (inet_pton(strchr(tmp, ':') ? AF_INET6 : AF_INET, tmp,
			    bin) != 1)
				break;      /* not an address: stop here */
			if (strlen(tmp) >= sizeof x->addr)
				break;
			memcpy(x->addr, tmp, strlen(tmp) + 1);
			if (!trusted(tmp))
				break;
			end = start > copy ? start - 1 : copy;
		}
		free(copy);
	}
}

/* ---- responses ------------------------------------------------------ */

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void
security_headers(struct MHD_Response *r, const char *csp)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static MHD_RESULT
send_resp(struct ctx *x, unsigned status, const char *type, const void *data,
    size_t len, const char *cookie, const char *location)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
	    (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	MHD_RESULT rc;

	if (r == NULL)
		return MHD_NO;
	security_headers(r, CSP);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (location)
		MHD_add_response_header(r, "Location", location);
	rc = MHD_queue_response(x->c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static MHD_RESULT
send_page(struct ctx *x, unsigned status, struct buf *b, const char *cookie)
{
	MHD_RESULT rc = send_resp(x, status, "text/html; charset=utf-8",
	    b->s ? b->s : "", b->len, cookie, NULL);

	buf_free(b);
	return rc;
}

static MHD_RESULT
redirect(struct ctx *x, const char *to, const char *cookie)
{
	return send_resp(x, 303, "text/plain; charset=utf-8", "", 0, cookie,
	    to);
}

static MHD_RESULT
error_page(struct ctx *x, unsigned status, const char *title,
    const char *why)
{
	struct buf b;

	buf_init(&b);
	html_begin(&b, title, x->have_sess && x->sess.verified ?
	    x->sess.staff : NULL, x->sess.csrf);
	buf_adds(&b, "<h1>");
	html_str(&b, title);
	buf_adds(&b, "</h1><p class=\"err\">");
	html_str(&b, why);
	buf_adds(&b, "</p>");
	html_end(&b);
	return send_page(x, status, &b, NULL);
}

static char *
session_cookie(const char *token, long max_age)
{
	return xstrfmt(COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
	    token, D.cfg->desk.secure_cookies ? "; Secure" : "",
	    max_age == 0 ? "; Max-Age=0" : "");
}

static void
csrf_field(struct buf *b, const struct ctx *x)
{
	buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_str(b, x->sess.csrf);
	buf_adds(b, "\">");
}

static int
csrf_ok(const struct ctx *x)
{
	const char *t = form_get(&x->form, "csrf");

	return x->have_sess && t && x->sess.csrf &&
	    strlen(t) == strlen(x->sess.csrf) &&
	    sodium_memcmp(t, x->sess.csrf, strlen(t)) == 0;
}

/* ---- sessions ------------------------------------------------------- */

/* Reads the cookie and the session behind it; drops one that is idle. */
static void
load_session(struct ctx *x)
{
	const char *tok = MHD_lookup_connection_value(x->c, MHD_COOKIE_KIND,
	    COOKIE);
	time_t now = now_time();
	int rc;

	x->had_cookie = tok != NULL && *tok != '\0';
	if (tok == NULL || strlen(tok) != 64 ||
	    strspn(tok, "0123456789abcdef") != 64)
		return;
	crypto_generichash(x->hash, sizeof x->hash, (const unsigned char *)tok,
	    64, NULL, 0);
	/* a database that does not answer is no "logged out": 503 */
	if ((rc = store_session_get(D.s, x->hash, &x->sess)) != 0) {
		x->db_down = rc == -1;
		return;
	}
	if ((x->sess.verified && now - x->sess.last_seen >
	    D.cfg->desk.session_idle_minutes * 60) ||
	    (!x->sess.verified && now - x->sess.created >
	    D.cfg->verifier.ttl_seconds)) {
		store_session_delete(D.s, x->hash);
		desk_session_clear(&x->sess);
		return;
	}
	x->have_sess = 1;
	x->actor = xstrfmt("staff:%s", x->sess.staff);
	if (x->sess.verified && now - x->sess.last_seen >= 10)
		store_session_touch(D.s, x->hash, now);
}

/* A new session: the cookie to set (owned). */
static char *
new_session(const char *staff, int verified)
{
	unsigned char tok[32], csrf[32], hash[DESK_TOKEN_HASH_BYTES];
	char tokhex[65], csrfhex[65];
	char *cookie = NULL;

	randombytes_buf(tok, sizeof tok);
	randombytes_buf(csrf, sizeof csrf);
	hexify(tokhex, tok, sizeof tok);
	hexify(csrfhex, csrf, sizeof csrf);
	crypto_generichash(hash, sizeof hash, (const unsigned char *)tokhex,
	    64, NULL, 0);
	if (store_session_add(D.s, hash, staff, csrfhex, verified,
	    now_time()) == 0)
		cookie = session_cookie(tokhex, -1);
	sodium_memzero(tokhex, sizeof tokhex);
	sodium_memzero(tok, sizeof tok);
	return cookie;
}

/* ---- login ---------------------------------------------------------- */

/* The key of a failure count: "name:" or "addr:" and a hash of the value,
 * so that a password typed into the name field is not kept. Owned. */
static char *
fail_key(const char *kind, const char *value)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof h, (const unsigned char *)value,
	    strlen(value), NULL, 0);
	hexify(hex, h, sizeof h);
	return xstrfmt("%s:%s", kind, hex);
}

static int
over_limit(const char *name, const char *addr)
{
	time_t since = now_time() - FAIL_WINDOW;
	char *kn = fail_key("name", name), *ka = fail_key("addr", addr);
	long nn = 0, na = 0;

	store_failure_count(D.s, kn, since, &nn);
	store_failure_count(D.s, ka, since, &na);
	free(kn);
	free(ka);
	return nn >= FAIL_PER_NAME || na >= FAIL_PER_ADDR;
}

static void
record_failure(const char *name, const char *addr, const char *what)
{
	char *kn = fail_key("name", name), *ka = fail_key("addr", addr);
	char *detail = xstrfmt("%s: %s", addr, what);
	time_t now = now_time();

	/* the name typed is not recorded: it may be a password typed in the
	 * wrong field */
	if (store_begin(D.s) == 0) {
		if (store_failure_add(D.s, kn, now) == -1 ||
		    store_failure_add(D.s, ka, now) == -1 ||
		    store_audit(D.s, "desk", "desk.login_failed", NULL, NULL,
		    NULL, detail, 0) == -1 || store_commit(D.s) == -1)
			store_rollback(D.s);
	}
	free(detail);
	log_info("desk: login failed from %s: %s", addr, what);
	free(kn);
	free(ka);
}

static MHD_RESULT
login_form(struct ctx *x, unsigned status, const char *msg)
{
	struct buf b;

	buf_init(&b);
	html_begin(&b, "Log in", NULL, NULL);
	buf_adds(&b, "<h1>Staff desk: log in</h1>");
	if (msg) {
		buf_adds(&b, "<p class=\"err\" id=\"msg\">");
		html_str(&b, msg);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login\"><fieldset>"
	    "<label>Name <input type=\"text\" name=\"name\" id=\"name\" "
	    "autocomplete=\"username\" required maxlength=\"32\"></label>"
	    "<label>Password <input type=\"password\" name=\"password\" "
	    "id=\"password\" autocomplete=\"current-password\" required "
	    "maxlength=\"1024\"></label>"
	    "<button id=\"login\">Log in</button></fieldset></form>"
	    "<p class=\"muted\">A code is then sent by SMS to your mobile.</p>");
	html_end(&b);
	return send_page(x, status, &b, NULL);
}

static MHD_RESULT
code_form(struct ctx *x, unsigned status, const char *msg)
{
	struct buf b;

	buf_init(&b);
	html_begin(&b, "Login code", NULL, NULL);
	buf_adds(&b, "<h1>Login code</h1>");
	if (msg) {
		buf_adds(&b, "<p class=\"err\" id=\"msg\">");
		html_str(&b, msg);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login/code\"><fieldset>");
	csrf_field(&b, x);
	buf_adds(&b, "<label>Code sent by SMS <input type=\"text\" name=\"code\" "
	    "id=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
	    "required maxlength=\"32\"></label>"
	    "<button id=\"verify\">Continue</button></fieldset></form>");
	html_end(&b);
	return send_page(x, status, &b, NULL);
}

#define LOGIN_FAILED "Login failed: the name, password or code is wrong, " \
	"or too many attempts were made. Wait a few minutes and try again."

static MHD_RESULT
login_post(struct ctx *x)
{
	const char *name = form_get(&x->form, "name");
	const char *pw = form_get(&x->form, "password");
	struct staff m;
	struct user holder;
	struct vresult r;
	char *cookie, *hid;
	int ok;

	if (name == NULL || pw == NULL || strlen(name) > 64 ||
	    strlen(pw) > 1024)
		return login_form(x, 400, "Give a name and a password.");
	if (over_limit(name, x->addr))
		return login_form(x, 429, LOGIN_FAILED);
	ok = staff_valid_name(name) &&
	    store_staff_get(D.s, name, &m) == 0;
	if (!ok) {
		/* the same work as for a real name */
		if (crypto_pwhash_str_verify(D.dummy_hash, pw, strlen(pw)) == 0)
			log_debug("desk: dummy password matched");
		record_failure(name, x->addr, "unknown or bad name");
		return login_form(x, 401, LOGIN_FAILED);
	}
	ok = crypto_pwhash_str_verify(m.pwhash, pw, strlen(pw)) == 0 &&
	    !m.disabled;
	if (!ok) {
		record_failure(name, x->addr, m.disabled ? "staff disabled" :
		    "wrong password");
		staff_clear(&m);
		return login_form(x, 401, LOGIN_FAILED);
	}
	hid = xstrfmt("staff:%s", m.name);
	memset(&holder, 0, sizeof holder);
	holder.id = hid;
	holder.phone = m.phone;
	verifier_start_holder(D.v, D.vs, &holder, &r);
	free(hid);
	if (r.outcome != V_SENT) {
		const char *why = r.outcome == V_RATE_LIMITED ?
		    "A code was sent moments ago or too often: wait and try "
		    "again." : r.outcome == V_BLOCKED ? "No code can be sent "
		    "to the number on file: ask an administrator." :
		    "The login code could not be sent: try again later.";
		unsigned st = r.outcome == V_RATE_LIMITED ? 429 :
		    r.outcome == V_ERROR ? 503 : 403;
		log_warnx("desk: login code for staff:%s: %s%s%s", m.name,
		    voutcome_name(r.outcome), r.error ? ": " : "",
		    r.error ? r.error : "");
		vresult_clear(&r);
		staff_clear(&m);
		return login_form(x, st, why);
	}
	vresult_clear(&r);
	cookie = new_session(m.name, 0);
	staff_clear(&m);
	if (cookie == NULL)
		return error_page(x, 503, "Log in", "database unavailable");
	{
		MHD_RESULT rc = redirect(x, "/login/code", cookie);
		free(cookie);
		return rc;
	}
}

static MHD_RESULT
code_post(struct ctx *x)
{
	const char *code = form_get(&x->form, "code");
	struct staff m;
	struct user holder;
	struct vresult r;
	char *cookie, *hid;

	if (!x->have_sess || x->sess.verified)
		return redirect(x, "/login", NULL);
	if (!csrf_ok(x))
		return error_page(x, 403, "Forbidden", "The form is stale or "
		    "did not come from this desk (CSRF token).");
	if (over_limit(x->sess.staff, x->addr)) {
		store_session_delete(D.s, x->hash);
		return login_form(x, 429, LOGIN_FAILED);
	}
	if (code == NULL || strlen(code) > 32)
		return code_form(x, 400, "Give the code from the SMS.");
	if (store_staff_get(D.s, x->sess.staff, &m) != 0)
		return redirect(x, "/login", NULL);
	hid = xstrfmt("staff:%s", m.name);
	memset(&holder, 0, sizeof holder);
	holder.id = hid;
	holder.phone = m.phone;
	verifier_check_holder(D.v, D.vs, &holder, code, &r);
	free(hid);
	if (r.outcome != V_APPROVED) {
		enum voutcome o = r.outcome;
		vresult_clear(&r);
		record_failure(m.name, x->addr, "wrong login code");
		staff_clear(&m);
		if (o == V_DENIED)
			return code_form(x, 401, "That code is not right.");
		store_session_delete(D.s, x->hash);
		return login_form(x, 401, o == V_EXPIRED ? "The code expired: "
		    "log in again." : LOGIN_FAILED);
	}
	vresult_clear(&r);
	/* a new token once both factors passed (no session fixation) */
	store_session_delete(D.s, x->hash);
	cookie = new_session(m.name, 1);
	if (cookie) {
		char *name = fail_key("name", m.name);
		char *actor = xstrfmt("staff:%s", m.name);
		store_failure_clear(D.s, name);
		store_audit(D.s, actor, "desk.login", NULL, NULL, NULL,
		    x->addr, 0);
		free(actor);
		free(name);
	}
	staff_clear(&m);
	if (cookie == NULL)
		return error_page(x, 503, "Log in", "database unavailable");
	{
		MHD_RESULT rc = redirect(x, "/", cookie);
		free(cookie);
		return rc;
	}
}

/* ---- pages ---------------------------------------------------------- */

static void
state_badge(struct buf *b, enum ticket_state st)
{
	buf_addf(b, "<span class=\"state %s\">%s</span>", ticket_state_name(st),
	    ticket_state_name(st));
}

static void
opt(struct buf *b, const char *value, const char *label, const char *cur)
{
	buf_adds(b, "<option value=\"");
	html_str(b, value);
	buf_adds(b, "\"");
	if ((cur == NULL && *value == '\0') || (cur && strcmp(cur, value) == 0))
		buf_adds(b, " selected");
	buf_adds(b, ">");
	html_str(b, label);
	buf_adds(b, "</option>");
}

static void
input(struct buf *b, const char *name, const char *value, const char *ph)
{
	buf_addf(b, "<input type=\"text\" name=\"%s\" id=\"f-%s\" "
	    "placeholder=\"", name, name);
	html_str(b, ph);
	buf_adds(b, "\" value=\"");
	html_str(b, value);
	buf_adds(b, "\">");
}

static MHD_RESULT
page_queue(struct ctx *x)
{
	static const char *const states[] = { "new", "applied",
	    "needs_review", "rejected", "ignored" };
	struct desk_filter f;
	struct ticket *t;
	char **as, *iso;
	size_t n, total, counts[5];
	const char *state = arg(x, "state"), *age = arg(x, "age");
	enum ticket_state ts;
	struct buf b;

	memset(&f, 0, sizeof f);
	f.state = -1;
	if (state == NULL)
		state = "needs_review";
	if (strcmp(state, "all") != 0) {
		if (ticket_state_parse(state, &ts) == -1)
			return error_page(x, 400, "Queue", "unknown state");
		f.state = (int)ts;
	}
	f.kind = arg(x, "kind");
	f.account = arg(x, "account");
	f.text = arg(x, "q");
	if (arg(x, "mine"))
		f.assigned = x->sess.staff;
	if (age) {
		long days = strtol(age, NULL, 10);
		if (days > 0 && days < 100000)
			f.since = now_time() - days * 86400;
	}
	f.oldest_first = f.state == TICKET_NEEDS_REVIEW || f.state ==
	    TICKET_NEW;
	f.limit = QUEUE_LIMIT;
	if (store_ticket_counts(D.s, counts) == -1 ||
	    store_ticket_search(D.s, &f, &t, &as, &n, &total) == -1)
		return error_page(x, 503, "Queue", "database unavailable");

	buf_init(&b);
	html_begin(&b, "Queue", x->sess.staff, x->sess.csrf);
	buf_adds(&b, "<h1>Queue</h1><p class=\"counts\">");
	for (size_t i = 0; i < 5; i++)
		buf_addf(&b, "<a href=\"/?state=%s\">%s: <b id=\"count-%s\">"
		    "%zu</b></a>", states[i], states[i], states[i], counts[i]);
	buf_adds(&b, "<a href=\"/?state=all\">all</a></p>"
	    "<form class=\"filters\" method=\"get\" action=\"/\">"
	    "<select name=\"state\" id=\"f-state\">");
	for (size_t i = 0; i < 5; i++)
		opt(&b, states[i], states[i], state);
	opt(&b, "all", "all states", state);
	buf_adds(&b, "</select><select name=\"kind\" id=\"f-kind\">");
	opt(&b, "", "any kind", f.kind);
	opt(&b, "twofa_setup", "twofa_setup", f.kind);
	opt(&b, "missing_number", "missing_number", f.kind);
	opt(&b, "other", "other", f.kind);
	buf_adds(&b, "</select>");
	input(&b, "account", f.account, "account ID");
	buf_adds(&b, "<select name=\"age\" id=\"f-age\">");
	opt(&b, "", "any age", age);
	opt(&b, "1", "last day", age);
	opt(&b, "7", "last 7 days", age);
	opt(&b, "30", "last 30 days", age);
	buf_adds(&b, "</select>");
	input(&b, "q", f.text, "search: subject, sender, ID");
	buf_adds(&b, "<label class=\"inline\"><input type=\"checkbox\" "
	    "name=\"mine\" value=\"1\"");
	if (f.assigned)
		buf_adds(&b, " checked");
	buf_adds(&b, "> mine</label> <button id=\"filter\">Filter</button>"
	    "</form>");
	buf_addf(&b, "<p class=\"muted\" id=\"total\">%zu ticket%s", total,
	    total == 1 ? "" : "s");
	if (total > n)
		buf_addf(&b, ", first %zu shown", n);
	buf_adds(&b, "</p>");
	buf_adds(&b, "<table id=\"queue\"><tr><th>ID</th><th>Received</th>"
	    "<th>State</th><th>Kind</th><th>Account</th><th>From</th>"
	    "<th>Subject</th><th>Reason</th><th>Assigned</th></tr>");
	for (size_t i = 0; i < n; i++) {
		buf_addf(&b, "<tr><td><a href=\"/ticket/%lld\">%lld</a></td><td>",
		    (long long)t[i].id, (long long)t[i].id);
		iso = time_iso(t[i].received);
		html_str(&b, iso);
		free(iso);
		buf_adds(&b, "</td><td>");
		state_badge(&b, t[i].state);
		buf_adds(&b, "</td><td>");
		html_str(&b, t[i].kind);
		buf_adds(&b, "</td><td>");
		if (t[i].account) {
			buf_adds(&b, "<a href=\"/account?id=");
			html_str(&b, t[i].account);
			buf_adds(&b, "\">");
			html_str(&b, t[i].account);
			buf_adds(&b, "</a>");
		}
		buf_adds(&b, "</td><td>");
		html_str(&b, t[i].from_addr);
		buf_adds(&b, "</td><td>");
		html_str(&b, t[i].subject);
		buf_adds(&b, "</td><td>");
		html_masked(&b, t[i].reason);
		buf_adds(&b, "</td><td>");
		html_str(&b, as[i]);
		buf_adds(&b, "</td></tr>\n");
		free(as[i]);
	}
	buf_adds(&b, "</table>");
	free(as);
	tickets_free(t, n);
	html_end(&b);
	return send_page(x, 200, &b, NULL);
}

/* A JSON value as table cells: objects and arrays of objects as tables,
 * scalars as text, numbers masked. */
static void json_html(struct buf *, json_t *);

static void
json_cell(struct buf *b, json_t *v)
{
	if (json_is_string(v))
		html_masked(b, json_string_value(v));
	else if (json_is_object(v) || json_is_array(v))
		json_html(b, v);
	else if (!json_is_null(v)) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		html_masked(b, s);
		free(s);
	}
}

static void
json_html(struct buf *b, json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		buf_adds(b, "<table>");
		json_object_foreach(v, k, e) {
			buf_adds(b, "<tr><th>");
			html_str(b, k);
			buf_adds(b, "</th><td>");
			json_cell(b, e);
			buf_adds(b, "</td></tr>");
		}
		buf_adds(b, "</table>");
	} else if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_object(json_array_get(v, 0))) {
		json_t *first = json_array_get(v, 0);
		int change = json_object_get(first, "old") != NULL &&
		    json_object_get(first, "phone") != NULL;
		buf_adds(b, "<table><tr>");
		json_object_foreach(first, k, e) {
			if (change && (strcmp(k, "old") == 0 ||
			    strcmp(k, "phone") == 0))
				continue;
			buf_adds(b, "<th>");
			html_str(b, k);
			buf_adds(b, "</th>");
		}
		if (change)
			buf_adds(b, "<th>old -&gt; new</th>");
		buf_adds(b, "</tr>");
		json_array_foreach(v, i, e) {
			json_t *c;
			buf_adds(b, "<tr>");
			json_object_foreach(first, k, c) {
				if (change && (strcmp(k, "old") == 0 ||
				    strcmp(k, "phone") == 0))
					continue;
				buf_adds(b, "<td>");
				json_cell(b, json_object_get(e, k));
				buf_adds(b, "</td>");
			}
			if (change) {
				json_t *o = json_object_get(e, "old");
				json_t *p = json_object_get(e, "phone");
				buf_adds(b, "<td>");
				if (json_is_string(o))
					html_masked(b, json_string_value(o));
				else
					buf_adds(b, "(none)");
				buf_adds(b, " -&gt; ");
				if (json_is_string(p))
					html_masked(b, json_string_value(p));
				else
					buf_adds(b, "(none)");
				buf_adds(b, "</td>");
			}
			buf_adds(b, "</tr>");
		}
		buf_adds(b, "</table>");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i)
				buf_adds(b, ", ");
			json_cell(b, e);
		}
	} else
		json_cell(b, v);
}

static void
json_block(struct buf *b, const char *title, const char *id,
    const char *text)
{
	json_t *v;

	if (text == NULL || *text == '\0' || strcmp(text, "{}") == 0 ||
	    strcmp(text, "[]") == 0)
		return;
	buf_addf(b, "<h2>%s</h2><div id=\"%s\">", title, id);
	if ((v = json_loads(text, JSON_DECODE_ANY, NULL)) == NULL)
		html_masked(b, text);
	else {
		json_html(b, v);
		json_decref(v);
	}
	buf_adds(b, "</div>");
}

static void
audit_row_html(struct buf *b, const struct audit_row *a, int with_ticket)
{
	buf_adds(b, "<tr><td>");
	html_str(b, a->at);
	buf_adds(b, "</td><td>");
	html_str(b, a->actor);
	buf_adds(b, "</td><td>");
	html_str(b, a->action);
	buf_adds(b, "</td><td>");
	html_str(b, a->account);
	buf_adds(b, "</td><td>");
	html_str(b, a->user);
	buf_adds(b, "</td><td>");
	if (a->old_value || a->new_value) {
		html_masked(b, a->old_value);
		if (a->old_value)
			buf_adds(b, " -&gt; ");
		html_masked(b, a->new_value);
	}
	buf_adds(b, "</td>");
	if (with_ticket) {
		buf_adds(b, "<td>");
		if (a->ticket_id)
			buf_addf(b, "<a href=\"/ticket/%lld\">%lld</a>",
			    (long long)a->ticket_id, (long long)a->ticket_id);
		buf_adds(b, "</td>");
	}
	buf_adds(b, "</tr>\n");
}

/*
 * HOOK(plan): the approval plan token of `queue show` (another part of
 * issue 12's sibling work). When it lands, return the token of the plan an
 * approval of T would carry out; the approve form sends it back as
 * "expect" and desk_approve() refuses when it no longer matches. NULL: no
 * plan tokens yet (the form carries none, nothing is compared).
 */
static char *
plan_token(const struct ticket *t)
{
	struct ticket_plan p;
	char *tok = NULL;

	/* the same plan and token as `tfadesk queue show` prints */
	if (process_plan(D.proc, D.s, t->id, &p) != 0)
		return NULL;
	tok = xstrdup(p.token);
	ticket_plan_clear(&p);
	return tok;
}

static void
action_forms(struct buf *b, struct ctx *x, const struct ticket *t,
    const char *assigned)
{
	struct staff *st;
	size_t ns;
	char *plan;

	buf_adds(b, "<h2>Actions</h2>");
	if (t->state == TICKET_NEEDS_REVIEW) {
		buf_addf(b, "<form method=\"post\" action=\"/ticket/%lld/approve\" "
		    "id=\"approve\"><fieldset><legend>Approve</legend>",
		    (long long)t->id);
		csrf_field(b, x);
		if ((plan = plan_token(t)) != NULL) {
			buf_adds(b, "<input type=\"hidden\" name=\"expect\" "
			    "value=\"");
			html_str(b, plan);
			buf_adds(b, "\">");
			free(plan);
		}
		buf_adds(b, "<label>Message to the reseller (optional)"
		    "<textarea name=\"message\" id=\"approve-message\" "
		    "maxlength=\"2000\"></textarea></label>"
		    "<label>Internal note (optional, never mailed)"
		    "<input type=\"text\" name=\"note\" id=\"approve-note\" "
		    "maxlength=\"200\"></label>"
		    "<button id=\"approve-go\">Approve</button></fieldset></form>");
		buf_addf(b, "<form method=\"post\" action=\"/ticket/%lld/reject\" "
		    "id=\"reject\"><fieldset><legend>Reject</legend>",
		    (long long)t->id);
		csrf_field(b, x);
		buf_adds(b, "<label>Reason (the reseller reads it)"
		    "<textarea name=\"reason\" id=\"reject-reason\" required "
		    "maxlength=\"2000\"></textarea></label>"
		    "<label>Internal note (optional, never mailed)"
		    "<input type=\"text\" name=\"note\" id=\"reject-note\" "
		    "maxlength=\"200\"></label>"
		    "<button id=\"reject-go\">Reject</button></fieldset></form>");
	}
	buf_addf(b, "<form method=\"post\" action=\"/ticket/%lld/note\" "
	    "id=\"note\"><fieldset><legend>Internal note</legend>",
	    (long long)t->id);
	csrf_field(b, x);
	buf_adds(b, "<label>Note (history only, never mailed)<textarea "
	    "name=\"text\" id=\"note-text\" required maxlength=\"2000\">"
	    "</textarea></label><button id=\"note-go\">Add note</button>"
	    "</fieldset></form>");
	buf_addf(b, "<form method=\"post\" action=\"/ticket/%lld/assign\" "
	    "id=\"assign\"><fieldset><legend>Assign</legend>",
	    (long long)t->id);
	csrf_field(b, x);
	buf_adds(b, "<select name=\"to\" id=\"assign-to\">");
	opt(b, "", "(nobody)", assigned);
	if (store_staff_list(D.s, &st, &ns) == 0) {
		for (size_t i = 0; i < ns; i++)
			if (!st[i].disabled)
				opt(b, st[i].name, st[i].name, assigned);
		staff_free(st, ns);
	}
	buf_adds(b, "</select> <button id=\"assign-go\">Assign</button> "
	    "<button name=\"take\" value=\"1\" id=\"take\">Take it</button>"
	    "</fieldset></form>");
	if (t->state != TICKET_APPLIED) {
		buf_addf(b, "<form method=\"post\" action=\"/ticket/%lld/retry\" "
		    "id=\"retry\"><fieldset><legend>Retry</legend>",
		    (long long)t->id);
		csrf_field(b, x);
		buf_adds(b, "<p class=\"muted\">Process the ticket again with "
		    "today's data and rules.</p><button id=\"retry-go\">Retry"
		    "</button></fieldset></form>");
	}
}

static int64_t
ticket_id_of(const char *s, const char **rest)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || (*end != '\0' && *end != '/'))
		return 0;
	*rest = end;
	return (int64_t)v;
}

static MHD_RESULT
page_ticket(struct ctx *x, int64_t id)
{
	struct msg_limits lim = MSG_LIMITS_DEFAULT;
	struct audit_filter af;
	struct ticket t;
	struct msg *m;
	struct audit_row *a;
	struct outbox_row *o;
	size_t na, no;
	char *assigned = NULL, *iso;
	const char *flash = arg(x, "done");
	struct buf b;
	int rc;

	if ((rc = store_ticket_get(D.s, id, 1, &t)) == -1)
		return error_page(x, 503, "Ticket", "database unavailable");
	if (rc == 1)
		return error_page(x, 404, "Ticket", "no such ticket");
	store_ticket_assigned(D.s, id, &assigned);
	lim.max_bytes = (size_t)D.cfg->limits.max_bytes;
	lim.max_parts = (size_t)D.cfg->limits.max_parts;
	lim.max_depth = (size_t)D.cfg->limits.max_depth;
	if ((m = msg_parse(t.raw, t.raw_len, &lim)) == NULL)
		fatalx("out of memory");

	buf_init(&b);
	{
		char *title = xstrfmt("Ticket %lld", (long long)id);
		html_begin(&b, title, x->sess.staff, x->sess.csrf);
		free(title);
	}
	buf_addf(&b, "<h1>Ticket %lld ", (long long)id);
	state_badge(&b, t.state);
	buf_adds(&b, "</h1>");
	if (flash) {
		buf_adds(&b, "<p class=\"msg\" id=\"flash\">");
		html_str(&b, flash);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<table id=\"summary\"><tr><th>Kind</th><td>");
	html_str(&b, t.kind ? t.kind : "(not processed yet)");
	buf_adds(&b, "</td></tr><tr><th>Account</th><td>");
	if (t.account) {
		buf_adds(&b, "<a href=\"/account?id=");
		html_str(&b, t.account);
		buf_adds(&b, "\">");
		html_str(&b, t.account);
		buf_adds(&b, "</a>");
	}
	buf_adds(&b, "</td></tr><tr><th>Reason</th><td id=\"reason\">");
	html_masked(&b, t.reason);
	buf_adds(&b, "</td></tr><tr><th>Assigned</th><td id=\"assigned\">");
	html_str(&b, assigned ? assigned : "(nobody)");
	buf_adds(&b, "</td></tr><tr><th>Received</th><td>");
	iso = time_iso(t.received);
	html_str(&b, iso);
	free(iso);
	buf_adds(&b, "</td></tr><tr><th>Source</th><td>");
	html_str(&b, t.source);
	buf_addf(&b, "</td></tr></table><p><a href=\"/ticket/%lld/raw\" "
	    "id=\"raw\">Raw message (text)</a></p>", (long long)id);

	buf_adds(&b, "<h2>Headers</h2><table id=\"headers\">");
	{
		static const char *const shown[] = { "From", "Reply-To", "To",
		    "Date", "Subject", "Message-ID",
		    "Authentication-Results" };
		for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
			for (size_t h = 0; h < m->nheaders; h++)
				if (strcasecmp(m->headers[h].name,
				    shown[i]) == 0) {
					buf_adds(&b, "<tr><th>");
					html_str(&b, shown[i]);
					buf_adds(&b, "</th><td>");
					html_str(&b, m->headers[h].value);
					buf_adds(&b, "</td></tr>");
				}
	}
	buf_adds(&b, "<tr><th>Sender name</th><td id=\"from-name\">");
	html_str(&b, m->from_name);
	buf_adds(&b, "</td></tr><tr><th>Subject (decoded)</th>"
	    "<td id=\"subject\">");
	html_str(&b, m->subject);
	buf_adds(&b, "</td></tr></table>");
	if (m->error) {
		buf_adds(&b, "<p class=\"err\">The message could not be read "
		    "fully: ");
		html_str(&b, m->error);
		buf_adds(&b, "</p>");
	}
	if (m->html_hidden_style) {
		buf_adds(&b, "<p class=\"err\">Hidden HTML text: ");
		html_str(&b, m->html_hidden_style);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<h2>New text</h2><pre id=\"text\">");
	html_str(&b, m->new_text);
	buf_adds(&b, "</pre>");
	if (m->quoted && *m->quoted) {
		buf_adds(&b, "<details><summary>Quoted history</summary>"
		    "<pre id=\"quoted\">");
		html_str(&b, m->quoted);
		buf_adds(&b, "</pre></details>");
	}
	if (m->signature && *m->signature) {
		buf_adds(&b, "<details><summary>Signature</summary><pre>");
		html_str(&b, m->signature);
		buf_adds(&b, "</pre></details>");
	}
	json_block(&b, "Extracted fields", "fields", t.fields);
	json_block(&b, "Per-user results", "results", t.results);

	memset(&af, 0, sizeof af);
	af.ticket_id = id;
	af.limit = 1000;
	buf_adds(&b, "<h2>History</h2><table id=\"history\"><tr><th>At</th>"
	    "<th>Who</th><th>Action</th><th>Account</th><th>User</th>"
	    "<th>Change / note</th></tr>");
	if (store_audit_query(D.s, &af, &a, &na) == 0) {
		for (size_t i = 0; i < na; i++)
			audit_row_html(&b, &a[i], 0);
		audit_rows_free(a, na);
	}
	buf_adds(&b, "</table>");

	buf_adds(&b, "<h2>Replies</h2><div id=\"replies\">");
	if (store_outbox_list(D.s, id, &o, &no) == 0) {
		if (no == 0)
			buf_adds(&b, "<p class=\"muted\">none</p>");
		for (size_t i = 0; i < no; i++) {
			struct msg *r = msg_parse(o[i].message,
			    o[i].message_len, &lim);
			buf_adds(&b, "<div class=\"reply\"><p>To ");
			html_str(&b, o[i].rcpt);
			buf_addf(&b, ": <b>%s</b>", o[i].state == OUTBOX_SENT ?
			    "sent" : o[i].state == OUTBOX_FAILED ? "failed" :
			    "queued");
			buf_addf(&b, ", %d attempt%s", o[i].attempts,
			    o[i].attempts == 1 ? "" : "s");
			if (o[i].last_error) {
				buf_adds(&b, ", last error: ");
				html_str(&b, o[i].last_error);
			}
			buf_adds(&b, "</p>");
			if (r) {
				buf_adds(&b, "<pre class=\"reply-text\">Subject: ");
				html_str(&b, r->subject);
				buf_adds(&b, "\n\n");
				html_masked(&b, r->text);
				buf_adds(&b, "</pre>");
				msg_free(r);
			}
			buf_adds(&b, "</div>");
		}
		outbox_free(o, no);
	}
	buf_adds(&b, "</div>");
	action_forms(&b, x, &t, assigned);
	html_end(&b);
	free(assigned);
	msg_free(m);
	ticket_clear(&t);
	return send_page(x, 200, &b, NULL);
}

static MHD_RESULT
page_raw(struct ctx *x, int64_t id)
{
	struct ticket t;
	MHD_RESULT rc;
	char disp[80];
	struct MHD_Response *r;
	int src;

	if ((src = store_ticket_get(D.s, id, 1, &t)) != 0)
		return error_page(x, src == 1 ? 404 : 503, "Ticket",
		    src == 1 ? "no such ticket" : "database unavailable");
	if ((r = MHD_create_response_from_buffer(t.raw_len, t.raw,
	    MHD_RESPMEM_MUST_COPY)) == NULL) {
		ticket_clear(&t);
		return MHD_NO;
	}
	/* never rendered: plain text, a download, and sandboxed anyway */
	security_headers(r, "sandbox; " CSP);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	snprintf(disp, sizeof disp, "attachment; filename=\"ticket-%lld.eml."
	    "txt\"", (long long)id);
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(x->c, 200, r);
	MHD_destroy_response(r);
	ticket_clear(&t);
	return rc;
}

static MHD_RESULT
page_account(struct ctx *x)
{
	const char *id = arg(x, "id");
	struct account a;
	struct user *u;
	size_t n;
	struct buf b;
	int rc;

	if (id == NULL)
		return redirect(x, "/lookup", NULL);
	if ((rc = store_account_get(D.s, id, &a)) != 0)
		return error_page(x, rc == 1 ? 404 : 503, "Account",
		    rc == 1 ? "no such account" : "database unavailable");
	buf_init(&b);
	html_begin(&b, "Account", x->sess.staff, x->sess.csrf);
	buf_adds(&b, "<h1>Account ");
	html_str(&b, a.id);
	buf_adds(&b, "</h1><table id=\"account\"><tr><th>Name</th><td>");
	html_str(&b, a.name);
	buf_addf(&b, "</td></tr><tr><th>Kind</th><td>%s</td></tr>",
	    a.kind == ACCOUNT_RESELLER ? "reseller" : "end client");
	if (a.reseller) {
		buf_adds(&b, "<tr><th>Reseller</th><td><a href=\"/account?id=");
		html_str(&b, a.reseller);
		buf_adds(&b, "\">");
		html_str(&b, a.reseller);
		buf_adds(&b, "</a></td></tr>");
	}
	buf_addf(&b, "<tr><th>%s</th><td>%s</td></tr></table>",
	    a.kind == ACCOUNT_RESELLER ? "2FA" : "use_2fa", a.twofa ? "on" :
	    "off");
	buf_adds(&b, "<p><a href=\"/?state=all&amp;account=");
	html_str(&b, a.id);
	buf_adds(&b, "\">Tickets</a> <a href=\"/audit?account=");
	html_str(&b, a.id);
	buf_adds(&b, "\">Audit</a></p><h2>Users</h2><table id=\"users\"><tr>"
	    "<th>ID</th><th>Name</th><th>Mobile</th></tr>");
	if (store_account_users(D.s, a.id, &u, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			buf_adds(&b, "<tr><td>");
			html_str(&b, u[i].id);
			buf_adds(&b, "</td><td>");
			html_str(&b, u[i].name);
			buf_adds(&b, "</td><td>");
			if (u[i].phone)
				html_masked(&b, u[i].phone);
			else
				buf_adds(&b, "(none)");
			buf_adds(&b, "</td></tr>");
		}
		users_free(u, n);
	}
	buf_adds(&b, "</table>");
	account_clear(&a);
	html_end(&b);
	return send_page(x, 200, &b, NULL);
}

static MHD_RESULT
page_lookup(struct ctx *x)
{
	const char *q = arg(x, "q");
	struct account a;
	struct user *u;
	size_t n;
	struct buf b;

	buf_init(&b);
	html_begin(&b, "Lookup", x->sess.staff, x->sess.csrf);
	buf_adds(&b, "<h1>Account and user lookup</h1><form method=\"get\" "
	    "action=\"/lookup\" class=\"filters\">");
	input(&b, "q", q, "account or user ID, name, number");
	buf_adds(&b, "<button id=\"lookup-go\">Look up</button></form>");
	if (q && strlen(q) <= 128) {
		if (store_account_get(D.s, q, &a) == 0) {
			buf_adds(&b, "<p>Account <a href=\"/account?id=");
			html_str(&b, a.id);
			buf_adds(&b, "\">");
			html_str(&b, a.id);
			buf_adds(&b, "</a>: ");
			html_str(&b, a.name);
			buf_adds(&b, "</p>");
			account_clear(&a);
		}
		buf_adds(&b, "<table id=\"found\"><tr><th>User</th><th>Name</th>"
		    "<th>Account</th><th>Mobile</th></tr>");
		if (store_user_find(D.s, q, 100, &u, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				buf_adds(&b, "<tr><td>");
				html_str(&b, u[i].id);
				buf_adds(&b, "</td><td>");
				html_str(&b, u[i].name);
				buf_adds(&b, "</td><td><a href=\"/account?id=");
				html_str(&b, u[i].account);
				buf_adds(&b, "\">");
				html_str(&b, u[i].account);
				buf_adds(&b, "</a></td><td>");
				if (u[i].phone)
					html_masked(&b, u[i].phone);
				else
					buf_adds(&b, "(none)");
				buf_adds(&b, "</td></tr>");
			}
			users_free(u, n);
		}
		buf_adds(&b, "</table>");
	}
	html_end(&b);
	return send_page(x, 200, &b, NULL);
}

static MHD_RESULT
page_audit(struct ctx *x)
{
	struct audit_filter f;
	struct audit_row *a;
	size_t n;
	struct buf b;
	const char *tk = arg(x, "ticket");

	memset(&f, 0, sizeof f);
	f.account = arg(x, "account");
	f.user = arg(x, "user");
	f.actor = arg(x, "actor");
	f.action = arg(x, "action");
	f.ticket_id = tk ? strtoll(tk, NULL, 10) : 0;
	if (f.ticket_id < 0)
		f.ticket_id = 0;
	f.limit = AUDIT_LIMIT;
	if (store_audit_query(D.s, &f, &a, &n) == -1)
		return error_page(x, 503, "Audit", "database unavailable");
	buf_init(&b);
	html_begin(&b, "Audit", x->sess.staff, x->sess.csrf);
	buf_adds(&b, "<h1>Audit log</h1><form method=\"get\" action=\"/audit\" "
	    "class=\"filters\">");
	input(&b, "account", f.account, "account");
	input(&b, "user", f.user, "user");
	input(&b, "actor", f.actor, "actor (staff:NAME)");
	input(&b, "action", f.action, "action (user.phone)");
	input(&b, "ticket", tk, "ticket");
	buf_addf(&b, "<button id=\"audit-go\">Filter</button></form><p "
	    "class=\"muted\">Newest first, at most %d rows; numbers masked "
	    "(tfadesk audit --json shows them whole).</p>", AUDIT_LIMIT);
	buf_adds(&b, "<table id=\"audit\"><tr><th>At</th><th>Actor</th>"
	    "<th>Action</th><th>Account</th><th>User</th><th>Old -&gt; new"
	    "</th><th>Ticket</th></tr>");
	for (size_t i = n; i-- > 0;)        /* newest first */
		audit_row_html(&b, &a[i], 1);
	buf_adds(&b, "</table>");
	audit_rows_free(a, n);
	html_end(&b);
	return send_page(x, 200, &b, NULL);
}

static MHD_RESULT
page_outbox(struct ctx *x)
{
	struct outbox_row *o;
	size_t n, first;
	struct buf b;

	if (store_outbox_list(D.s, 0, &o, &n) == -1)
		return error_page(x, 503, "Outbox", "database unavailable");
	buf_init(&b);
	html_begin(&b, "Outbox", x->sess.staff, x->sess.csrf);
	buf_adds(&b, "<h1>Outbox</h1><table id=\"outbox\"><tr><th>ID</th>"
	    "<th>Ticket</th><th>To</th><th>Subject</th><th>State</th>"
	    "<th>Attempts</th><th>Next try</th><th>Last error</th></tr>");
	first = n > QUEUE_LIMIT ? n - QUEUE_LIMIT : 0;
	for (size_t i = n; i-- > first;) {
		const char *subj = NULL;
		size_t sl = 0;
		char *iso;
		/* the Subject line of the message we wrote ourselves, from
		 * its header block */
		for (const char *p = o[i].message; p && *p && *p != '\r' &&
		    *p != '\n';) {
			size_t ll = strcspn(p, "\r\n");
			if (ll > 8 && strncasecmp(p, "Subject:", 8) == 0) {
				subj = p + 8;
				sl = ll - 8;
			}
			p += ll;
			if (*p == '\r')
				p++;
			if (*p == '\n')
				p++;
		}
		buf_addf(&b, "<tr><td>%lld</td><td>", (long long)o[i].id);
		if (o[i].ticket_id)
			buf_addf(&b, "<a href=\"/ticket/%lld\">%lld</a>",
			    (long long)o[i].ticket_id,
			    (long long)o[i].ticket_id);
		buf_adds(&b, "</td><td>");
		html_str(&b, o[i].rcpt);
		buf_adds(&b, "</td><td>");
		if (subj)
			html_text(&b, subj, sl);
		buf_addf(&b, "</td><td>%s</td><td>%d</td><td>",
		    o[i].state == OUTBOX_SENT ? "sent" : o[i].state ==
		    OUTBOX_FAILED ? "failed" : "queued", o[i].attempts);
		iso = o[i].state == OUTBOX_QUEUED ? time_iso(o[i].next_try) :
		    NULL;
		html_str(&b, iso);
		free(iso);
		buf_adds(&b, "</td><td>");
		html_str(&b, o[i].last_error);
		buf_adds(&b, "</td></tr>\n");
	}
	buf_adds(&b, "</table>");
	outbox_free(o, n);
	html_end(&b);
	return send_page(x, 200, &b, NULL);
}

/* ---- actions -------------------------------------------------------- */

/* Text typed by staff: well-formed UTF-8, at most MAX bytes, line breaks
 * and tabs but no other control or any bidi control. */
static int
valid_field(const char *v, size_t max)
{
	size_t n, k;
	uint32_t cp;

	if (v == NULL || (n = strlen(v)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_decode(v + i, n - i, &cp)) == 0)
			return 0;
		if ((utf8_is_control(cp) && cp != '\n' && cp != '\t') ||
		    utf8_is_bidi_control(cp))
			return 0;
	}
	return 1;
}

/* An internal note: an audit row on the ticket, never mail. */
static int
add_note(struct ctx *x, int64_t id, const char *account, const char *text)
{
	if (store_begin(D.s) == -1)
		return -1;
	if (store_audit(D.s, x->actor, "ticket.note", account, NULL, NULL,
	    text, id) == -1 || store_commit(D.s) == -1) {
		store_rollback(D.s);
		return -1;
	}
	return 0;
}

static MHD_RESULT
back(struct ctx *x, int64_t id, const char *what)
{
	char *to, *enc = xstrdup(what);
	MHD_RESULT rc;

	for (char *p = enc; *p; p++)
		if (*p == ' ')
			*p = '+';
	to = xstrfmt("/ticket/%lld?done=%s", (long long)id, enc);
	rc = redirect(x, to, NULL);
	free(to);
	free(enc);
	return rc;
}

static MHD_RESULT
ticket_action(struct ctx *x, int64_t id, const char *what)
{
	const struct form *f = &x->form;
	const char *note = form_text(f, "note");
	struct ticket t;
	int rc;

	if ((rc = store_ticket_get(D.s, id, 0, &t)) != 0)
		return error_page(x, rc == 1 ? 404 : 503, "Ticket",
		    rc == 1 ? "no such ticket" : "database unavailable");
	if (note && !valid_field(note, 200)) {
		ticket_clear(&t);
		return error_page(x, 400, "Ticket", "the note: at most 200 "
		    "characters of text");
	}

	if (strcmp(what, "note") == 0) {
		const char *text = form_text(f, "text");
		if (!valid_field(text, 2000)) {
			ticket_clear(&t);
			return error_page(x, 400, "Note", "a note needs 1 to "
			    "2000 characters of text");
		}
		rc = add_note(x, id, t.account, text);
		ticket_clear(&t);
		return rc == 0 ? back(x, id, "note added") :
		    error_page(x, 503, "Note", "database unavailable");
	}
	if (strcmp(what, "assign") == 0) {
		const char *to = form_get(f, "take") ? x->sess.staff :
		    form_text(f, "to");
		struct staff m;
		if (to && (store_staff_get(D.s, to, &m) != 0 || m.disabled)) {
			if (m.name)
				staff_clear(&m);
			ticket_clear(&t);
			return error_page(x, 400, "Assign", "no such staff "
			    "member");
		}
		if (to)
			staff_clear(&m);
		ticket_clear(&t);
		if (store_begin(D.s) == -1)
			return error_page(x, 503, "Assign", "database busy");
		if (store_ticket_assign(D.s, id, to, x->actor) != 0 ||
		    store_commit(D.s) == -1) {
			store_rollback(D.s);
			return error_page(x, 503, "Assign", "database "
			    "unavailable");
		}
		return back(x, id, to ? "assigned" : "unassigned");
	}
	if (strcmp(what, "approve") == 0) {
		/* The desk's approve: the same entry point as queue
		 * approve, the same state rule. */
		const char *message = form_text(f, "message");
		const char *expect = form_get(f, "expect");
		struct approval ap;
		char *actor;

		if (message && !valid_field(message, 2000)) {
			ticket_clear(&t);
			return error_page(x, 400, "Approve", "the message: at "
			    "most 2000 characters of text");
		}
		if (t.state != TICKET_NEEDS_REVIEW) {
			enum ticket_state st = t.state;
			ticket_clear(&t);
			return error_page(x, 409, "Approve", st ==
			    TICKET_APPLIED ? "already applied; nothing changed" :
			    "only needs_review tickets can be approved");
		}
		ticket_clear(&t);
		memset(&ap, 0, sizeof ap);
		actor = xstrfmt("staff:%s", x->sess.staff);
		ap.actor = actor;
		/* the plan shown with the form: a changed plan is refused,
		 * as `queue approve --expect` refuses it */
		ap.expect = expect && *expect ? expect : NULL;
		ap.message = message && *message ? message : NULL;
		ap.note = note && *note ? note : NULL;
		rc = process_ticket(D.proc, D.s, id, &ap);
		free(actor);
		if (rc < 0)
			return error_page(x, 503, "Approve", "the approval "
			    "failed: see the desk's log");
		if (ap.result == APPROVE_STALE)
			return error_page(x, 409, "Approve", "the ticket changed "
			    "since you looked at it: look again");
		if (ap.result == APPROVE_NOTHING)
			return error_page(x, 409, "Approve", "approving would "
			    "change nothing: reject the ticket instead");
		if (ap.result == APPROVE_NO_PLAN)
			return error_page(x, 409, "Approve", "no plan was stored "
			    "when the ticket was held: retry it first");
		return back(x, id, rc == TICKET_APPLIED ? "approved: applied" :
		    "approved: not applied (see the reason)");
	}
	if (strcmp(what, "reject") == 0) {
		const char *reason = form_text(f, "reason");
		char *actor;

		if (!valid_field(reason, 2000)) {
			ticket_clear(&t);
			return error_page(x, 400, "Reject", "a reason is "
			    "required (at most 2000 characters)");
		}
		if (t.state != TICKET_NEEDS_REVIEW) {
			enum ticket_state st = t.state;
			ticket_clear(&t);
			return error_page(x, 409, "Reject", st ==
			    TICKET_REJECTED ? "already rejected; nothing "
			    "changed" : "only needs_review tickets can be "
			    "rejected");
		}
		ticket_clear(&t);
		actor = xstrfmt("staff:%s", x->sess.staff);
		rc = process_reject(D.cfg, D.s, id, actor, reason,
		    note && *note ? note : NULL);
		free(actor);
		if (rc < 0)
			return error_page(x, 503, "Reject", "the rejection "
			    "failed: see the desk's log");
		return back(x, id, "rejected");
	}
	if (strcmp(what, "retry") == 0) {
		if (t.state == TICKET_APPLIED) {
			ticket_clear(&t);
			return back(x, id, "already applied; nothing changed");
		}
		/* who asked: process_ticket audits as the pipeline */
		rc = store_begin(D.s) == 0 && store_audit(D.s, x->actor,
		    "ticket.retry", t.account, NULL, NULL, NULL, id) == 0 &&
		    store_commit(D.s) == 0 ? 0 : -1;
		ticket_clear(&t);
		if (rc == -1) {
			store_rollback(D.s);
			return error_page(x, 503, "Retry", "database busy");
		}
		rc = process_ticket(D.proc, D.s, id, NULL);
		if (rc < 0)
			return error_page(x, 503, "Retry", "the retry failed: "
			    "see the desk's log");
		return back(x, id, "processed again");
	}
	ticket_clear(&t);
	return error_page(x, 404, "Not found", "no such action");
}

/* ---- dispatch ------------------------------------------------------- */

static MHD_RESULT
route(struct ctx *x)
{
	const char *u = x->url, *rest;
	int post = strcmp(x->method, "POST") == 0;
	int get = strcmp(x->method, "GET") == 0 ||
	    strcmp(x->method, "HEAD") == 0;
	int64_t id;

	if (!post && !get)
		return error_page(x, 405, "Method not allowed", "GET or POST");
	if (get && strcmp(u, "/desk.css") == 0)
		return send_resp(x, 200, "text/css; charset=utf-8", desk_css,
		    strlen(desk_css), NULL, NULL);
	if (strcmp(u, "/login") == 0) {
		if (post)
			return login_post(x);
		return login_form(x, 200, arg(x, "expired") ? "Your session "
		    "ended (idle too long): log in again." : NULL);
	}
	if (strcmp(u, "/login/code") == 0) {
		if (post)
			return code_post(x);
		if (!x->have_sess || x->sess.verified)
			return redirect(x, "/login", NULL);
		return code_form(x, 200, NULL);
	}
	if (!x->have_sess || !x->sess.verified) {
		if (post)   /* a form from an ended session: log in again */
			return error_page(x, 403, "Forbidden", "no session: "
			    "log in again");
		return redirect(x, x->had_cookie ? "/login?expired=1" :
		    "/login", NULL);
	}
	if (post && !csrf_ok(x))
		return error_page(x, 403, "Forbidden", "The form is stale or "
		    "did not come from this desk (CSRF token).");
	if (post && strcmp(u, "/logout") == 0) {
		char *cookie = session_cookie("", 0);
		MHD_RESULT rc;
		store_session_delete(D.s, x->hash);
		store_audit(D.s, x->actor, "desk.logout", NULL, NULL, NULL,
		    x->addr, 0);
		rc = redirect(x, "/login", cookie);
		free(cookie);
		return rc;
	}
	if (strncmp(u, "/ticket/", 8) == 0 &&
	    (id = ticket_id_of(u + 8, &rest)) > 0) {
		if (get && *rest == '\0')
			return page_ticket(x, id);
		if (get && strcmp(rest, "/raw") == 0)
			return page_raw(x, id);
		if (post && *rest == '/' && strchr(rest + 1, '/') == NULL)
			return ticket_action(x, id, rest + 1);
	}
	if (get && strcmp(u, "/") == 0)
		return page_queue(x);
	if (get && strcmp(u, "/lookup") == 0)
		return page_lookup(x);
	if (get && strcmp(u, "/account") == 0)
		return page_account(x);
	if (get && strcmp(u, "/audit") == 0)
		return page_audit(x);
	if (get && strcmp(u, "/outbox") == 0)
		return page_outbox(x);
	return error_page(x, 404, "Not found", "no such page");
}

static MHD_RESULT
desk_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	struct ctx x;
	struct timespec t0, t1, c0, c1;
	MHD_RESULT rc;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		rq = xcalloc(1, sizeof *rq);
		buf_init(&rq->body);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > MAX_BODY)
			rq->too_big = 1;
		else
			buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	memset(&x, 0, sizeof x);
	x.c = c;
	x.method = method;
	x.url = url;
	client_addr(&x);
	if (rq->too_big)
		return send_resp(&x, 413, "text/plain; charset=utf-8",
		    "request too large\n", 18, NULL, NULL);
	if (strcmp(method, "POST") == 0 && rq->body.s)
		form_parse(&x.form, rq->body.s);
	load_session(&x);
	rc = x.db_down ? error_page(&x, 503, "Desk", "database unavailable") :
	    route(&x);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	/* -v: each request's server time, wall clock and CPU */
	log_info("desk: %s %s %s %.1f ms (cpu %.1f ms)", x.addr, method, url,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    (double)(c1.tv_sec - c0.tv_sec) * 1e3 +
	    (double)(c1.tv_nsec - c0.tv_nsec) / 1e6);
	desk_session_clear(&x.sess);
	free(x.actor);
	return rc;
}

static void
desk_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void
desk_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("desk: %s", msg);
}

int
cmd_desk(struct cmd_env *env, int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	const char *listen;
	sigset_t set;
	int v6, sig, rc;

	(void)argv;
	if (argc != 1)
		usage_error("desk", "takes no arguments, only --listen");
	D.cfg = env_config(env);
	listen = env->listen ? env->listen : D.cfg->desk.listen;
	if (serve_parse_listen(listen, &ss, &v6) == -1)
		usage_error("desk", "--listen %s: want ADDR:PORT (IP address, "
		    "[IPv6] or localhost)", listen);
	D.s = env_store(env);
	if ((D.v = verifier_new(D.cfg, 0, &rc)) == NULL)
		return rc;
	/* staff login codes live with the portal's, in the verifier's own
	 * file (the main database attached read-only), under its limits */
	if ((D.vs = store_verifier_open(D.cfg->verifier.database,
	    D.cfg->database)) == NULL) {
		verifier_free(D.v);
		store_close(D.vs);
		return EX_UNAVAILABLE;
	}
	if ((rc = process_open(D.cfg, &D.proc)) != 0) {
		verifier_free(D.v);
		store_close(D.vs);
		return rc;
	}
	/* an unknown name costs a real verification */
	{
		char pw[33];
		unsigned char rnd[16];
		randombytes_buf(rnd, sizeof rnd);
		hexify(pw, rnd, sizeof rnd);
		if (crypto_pwhash_str_alg(D.dummy_hash, pw, strlen(pw),
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE,
		    crypto_pwhash_ALG_ARGON2ID13) != 0)
			fatalx("desk: password hash: out of memory");
	}
	{
		time_t now = now_time();
		store_session_prune(D.s, now -
		    D.cfg->desk.session_idle_minutes * 60,
		    now - D.cfg->verifier.ttl_seconds, now - 86400);
	}
	if (!D.cfg->desk.secure_cookies)
		log_warnx("desk: desk.secure_cookies is false: session "
		    "cookies go over plain HTTP (loopback tests only)");

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    desk_handler, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, desk_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, desk_completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		log_warnx("desk: cannot listen on %s (address in use or not "
		    "ours?)", listen);
		process_close(D.proc);
		verifier_free(D.v);
		store_close(D.vs);
		return EX_UNAVAILABLE;
	}
	printf("desk: listening on http://%s/\n", listen);
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	process_close(D.proc);
	verifier_free(D.v);
	store_close(D.vs);
	return EX_OK;
}
