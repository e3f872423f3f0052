/*
 * sms.c - SMS delivery for the verifier: the only verifier file that
 * touches libcurl.
 *
 *   sms.transport: spool   one file per SMS in the new/ folder of the maildir
 *                          sms.spool: "To: <digits>", a blank line, the text
 *   sms.transport: http    one HTTP request per SMS, shaped by sms.preset:
 *     kannel   GET sms.url?username&password&to&from&text (sms.user,
 *              sms.password_file), plus coding=2&charset=UTF-8 when the
 *              text is not plain GSM; or with sms.method POST, the text
 *              as a text/plain UTF-8 body and the rest as X-Kannel-*
 *              headers (Kannel refuses form bodies); accepted: 200-202
 *     twilio   POST form To, From, Body with basic auth (sms.user = the
 *              account SID, sms.password_file = the auth token) to sms.url
 *              (.../Accounts/SID/Messages.json); accepted: 201
 *     custom   sms.method, sms.url and sms.body are templates with {{to}}
 *              (+E.164), {{to_digits}}, {{text}} and {{from}}: URL-encoded
 *              in the URL and in form bodies, JSON-escaped when
 *              sms.content_type names JSON; sms.auth none|basic|bearer;
 *              accepted: 2xx unless sms.accept_status says otherwise
 *   sms.accept_status and sms.timeout apply to every preset.
 *
 * Nothing here ever logs the text or a URL with its query: both may hold
 * the code. Numbers are logged masked.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tfadesk.h"
#include "json.h"
#include "verify.h"
#include "maildir.h"

enum preset { P_KANNEL, P_TWILIO, P_CUSTOM };
enum esc { ESC_URL, ESC_JSON };

struct sms {
	int spool;
	char *dir;                /* spool: the maildir */
	char *host;               /* http: "scheme://host:port" for logs */
	enum preset preset;
	char *url;
	int post;
	char *body;               /* custom: template */
	char *content_type;
	enum esc body_esc;
	char *auth;               /* none basic bearer */
	char *user, *password, *token, *from;
	long *accept;
	size_t naccept;
	long timeout;
	char desc[256];
};

struct capture {
	char buf[256];
	size_t len;
};

static int spool_send(struct sms *, const char *, const char *,
    const char **);
static int http_send(struct sms *, const char *, const char *,
    const char **);
static void add_escaped(struct buf *, const char *, enum esc);
static int expand(struct buf *, const char *, enum esc, const char *,
    const char *, const char *, const char *);
static int gsm_plain(const char *);
static size_t discard(char *, size_t, size_t, void *);


/* Frees a buffer that may have held the code. */
static void
wipe(struct buf *b)
{
	if (b->s)
		memset(b->s, 0, b->cap);
	buf_free(b);
}

static void
add_escaped(struct buf *b, const char *s, enum esc e)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	if (e == ESC_JSON) {
		struct buf q;

		buf_init(&q);
		json_quote_n(&q, s, strlen(s));
		/* without the quotes: the template has them */
		buf_add(b, q.s + 1, q.len - 2);
		buf_free(&q);
		return;
	}
	for (; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			buf_addc(b, *p);
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/* Expands {{to}} {{to_digits}} {{text}} {{from}} in TMPL. -1: an unknown
 * or unclosed placeholder (the config's fault). */
static int
expand(struct buf *b, const char *tmpl, enum esc e, const char *to,
    const char *digits, const char *text, const char *from)
{
	const char *p = tmpl, *open, *close;
	size_t n;

	while ((open = strstr(p, "{{")) != NULL) {
		buf_add(b, p, (size_t)(open - p));
		if ((close = strstr(open + 2, "}}")) == NULL)
			return -1;
		n = (size_t)(close - open - 2);
		if (n == 2 && strncmp(open + 2, "to", 2) == 0)
			add_escaped(b, to, e);
		else if (n == 9 && strncmp(open + 2, "to_digits", 9) == 0)
			add_escaped(b, digits, e);
		else if (n == 4 && strncmp(open + 2, "text", 4) == 0)
			add_escaped(b, text, e);
		else if (n == 4 && strncmp(open + 2, "from", 4) == 0)
			add_escaped(b, from ? from : "", e);
		else
			return -1;
		p = close + 2;
	}
	buf_adds(b, p);
	return 0;
}

/* Plain ASCII that the GSM 7-bit alphabet holds (no backquote, no control
 * characters but LF and CR). Anything else goes as UCS-2. */
static int
gsm_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80 || *p == '`' || *p == 0x7f)
			return 0;
		if (*p < 0x20 && *p != '\n' && *p != '\r')
			return 0;
	}
	return 1;
}

static int
has_ctl(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

/* -1 with *EX the exit status (the secret reader logged why). */
static int
secret(const char *key, const char *path, char **out, int *ex)
{
	if (path == NULL) {
		log_warnx("config: %s is needed for this sms.preset/sms.auth",
		    key);
		return -1;
	}
	if (read_secret_file(path, out) == -1) {
		*ex = secret_exit(errno);
		return -1;
	}
	return 0;
}

struct sms *
sms_new(const struct config *cfg, int *ex)
{
	struct sms *g = xcalloc(1, sizeof *g);
	const char *p;
	struct buf b;

	*ex = EX_CONFIG;
	g->timeout = cfg->sms.timeout > 0 ? cfg->sms.timeout : 10;
	if (cfg->sms.transport == SMS_SPOOL) {
		g->spool = 1;
		g->dir = xstrdup(cfg->sms.spool);
		if (maildir_make(g->dir, 0750) == -1) {
			log_warn("sms: spool %s", g->dir);
			sms_free(g);
			return NULL;
		}
		snprintf(g->desc, sizeof g->desc, "spool %s/new", g->dir);
		return g;
	}

	g->url = xstrdup(cfg->sms.url);
	if (strncmp(g->url, "http://", 7) != 0 &&
	    strncmp(g->url, "https://", 8) != 0) {
		log_warnx("config: sms.url: must start with http:// or "
		    "https://");
		goto fail;
	}
	p = strstr(g->url, "://") + 3;
	g->host = xstrndup(g->url, (size_t)(p - g->url) + strcspn(p, "/?#"));
	g->from = cfg->sms.from ? xstrdup(cfg->sms.from) : NULL;
	g->user = cfg->sms.user ? xstrdup(cfg->sms.user) : NULL;
	g->auth = xstrdup(cfg->sms.auth == SMS_AUTH_BASIC ? "basic" :
	    cfg->sms.auth == SMS_AUTH_BEARER ? "bearer" : "none");

	if (cfg->sms.preset == SMS_KANNEL) {
		g->preset = P_KANNEL;
		g->post = cfg->sms.method == SMS_POST;
		g->content_type = xstrdup(g->post ?
		    "text/plain; charset=UTF-8" :
		    "application/x-www-form-urlencoded");
		if (g->user && secret("sms.password_file",
		    cfg->sms.password_file, &g->password, ex) == -1)
			goto fail;
		if (g->user == NULL)
			log_warnx("config: sms.user is not set: Kannel's "
			    "sendsms will refuse the request");
		if (cfg->sms.n_accept_status == 0) {
			static const long k[] = { 200, 201, 202 };
			g->accept = xcalloc(3, sizeof *g->accept);
			memcpy(g->accept, k, sizeof k);
			g->naccept = 3;
		}
	} else if (cfg->sms.preset == SMS_TWILIO) {
		g->preset = P_TWILIO;
		g->post = 1;
		g->content_type = xstrdup("application/x-www-form-urlencoded");
		free(g->auth);
		g->auth = xstrdup("basic");
		if (g->user == NULL || g->from == NULL) {
			log_warnx("config: sms.preset twilio needs sms.user "
			    "(the account SID) and sms.from");
			goto fail;
		}
		if (secret("sms.password_file", cfg->sms.password_file,
		    &g->password, ex) == -1)
			goto fail;
		if (cfg->sms.n_accept_status == 0) {
			g->accept = xcalloc(1, sizeof *g->accept);
			g->accept[0] = 201;
			g->naccept = 1;
		}
	} else {
		g->preset = P_CUSTOM;
		g->post = cfg->sms.method == SMS_POST;
		if (g->post && cfg->sms.body == NULL) {
			log_warnx("config: sms.body is needed for a custom "
			    "POST request");
			goto fail;
		}
		g->body = cfg->sms.body ? xstrdup(cfg->sms.body) : NULL;
		g->content_type = xstrdup(cfg->sms.content_type ?
		    cfg->sms.content_type : g->body && g->body[0] == '{' ?
		    "application/json" : "application/x-www-form-urlencoded");
		if (strcmp(g->auth, "basic") == 0 && (g->user == NULL ||
		    secret("sms.password_file", cfg->sms.password_file,
		    &g->password, ex) == -1)) {
			if (g->user == NULL)
				log_warnx("config: sms.auth basic needs "
				    "sms.user");
			goto fail;
		}
		if (strcmp(g->auth, "bearer") == 0 && secret("sms.token_file",
		    cfg->sms.token_file, &g->token, ex) == -1)
			goto fail;
		/* templates must expand */
		buf_init(&b);
		if (expand(&b, g->url, ESC_URL, "+1", "1", "x", "y") == -1 ||
		    (g->body && expand(&b, g->body, ESC_URL, "+1", "1", "x",
		    "y") == -1)) {
			buf_free(&b);
			log_warnx("config: sms.url or sms.body: unknown or "
			    "unclosed placeholder (use {{to}} {{to_digits}} "
			    "{{text}} {{from}})");
			goto fail;
		}
		buf_free(&b);
	}
	/* they may end up in headers */
	if (has_ctl(g->user) || has_ctl(g->from) || has_ctl(g->password) ||
	    has_ctl(g->token) || has_ctl(g->content_type) || has_ctl(g->url)) {
		log_warnx("config: sms.user, sms.from, sms.url, sms.content_type "
		    "and the secrets must be one line without control "
		    "characters");
		goto fail;
	}
	if (strcasestr(g->content_type, "json"))
		g->body_esc = ESC_JSON;
	if (cfg->sms.n_accept_status > 0) {
		g->naccept = cfg->sms.n_accept_status;
		g->accept = xcalloc(g->naccept, sizeof *g->accept);
		memcpy(g->accept, cfg->sms.accept_status,
		    g->naccept * sizeof *g->accept);
	}
	if (strncmp(g->url, "http://", 7) == 0) {
		char *h = xstrdup(g->host + 7);
		h[strcspn(h, ":")] = '\0';
		if (h[0] == '[')
			memmove(h, h + 1, strlen(h));
		h[strcspn(h, "]")] = '\0';
		if (!is_loopback_host(h) && (g->password || g->token))
			log_warnx("sms: %s: credentials over plain http",
			    g->host);
		free(h);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("sms: libcurl: cannot initialise");
		goto fail;
	}
	snprintf(g->desc, sizeof g->desc, "%s %s %s (%s)",
	    g->preset == P_KANNEL ? "kannel" : g->preset == P_TWILIO ?
	    "twilio" : "custom", g->post ? "POST" : "GET", g->host,
	    g->content_type);
	return g;
fail:
	sms_free(g);
	return NULL;
}

void
sms_free(struct sms *g)
{
	if (g == NULL)
		return;
	if (!g->spool && g->desc[0])
		curl_global_cleanup();
	free(g->dir);
	free(g->host);
	free(g->url);
	free(g->body);
	free(g->content_type);
	free(g->auth);
	free(g->user);
	if (g->password)
		memset(g->password, 0, strlen(g->password));
	free(g->password);
	if (g->token)
		memset(g->token, 0, strlen(g->token));
	free(g->token);
	free(g->from);
	free(g->accept);
	free(g);
}

const char *
sms_describe(const struct sms *g)
{
	return g->desc;
}

int
sms_send(struct sms *g, const char *to_digits, const char *text,
    const char **why)
{
	struct timespec t0;
	int rc;

	*why = "";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (g->spool)
		rc = spool_send(g, to_digits, text, why);
	else
		rc = http_send(g, to_digits, text, why);
	metrics_sms(rc == 0, metrics_elapsed_us(&t0));
	return rc;
}

/* One file in new/ (maildir_deliver): readers never see half a file. */
static int
spool_send(struct sms *g, const char *to, const char *text, const char **why)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_addf(&b, "To: %s\n", to);
	if (g->from)
		buf_addf(&b, "From: %s\n", g->from);
	buf_addf(&b, "\n%s\n", text);
	if ((rc = maildir_deliver(g->dir, NULL, b.s, b.len, 0640, NULL)) == -1) {
		log_warn("sms: spool %s", g->dir);
		*why = "spool not writable";
	}
	wipe(&b);
	return rc;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	struct capture *c = arg;
	size_t len = size * n, room = sizeof c->buf - 1 - c->len;

	if (room > 0) {
		size_t k = len < room ? len : room;
		memcpy(c->buf + c->len, p, k);
		c->len += k;
		c->buf[c->len] = '\0';
	}
	return len;
}

/* Kannel's sendsms parameters (query string for GET, form body for POST). */
static void
kannel_params(struct sms *g, struct buf *b, const char *to, const char *text)
{
	buf_adds(b, "username=");
	add_escaped(b, g->user ? g->user : "", ESC_URL);
	buf_adds(b, "&password=");
	add_escaped(b, g->password ? g->password : "", ESC_URL);
	buf_adds(b, "&to=");
	add_escaped(b, to, ESC_URL);
	if (g->from) {
		buf_adds(b, "&from=");
		add_escaped(b, g->from, ESC_URL);
	}
	buf_adds(b, "&text=");
	add_escaped(b, text, ESC_URL);
	if (!gsm_plain(text))
		buf_adds(b, "&coding=2&charset=UTF-8");
}

static int
http_send(struct sms *g, const char *digits, const char *text,
    const char **why)
{
	char errbuf[CURL_ERROR_SIZE] = "", *to = xstrfmt("+%s", digits);
	char *masked = mask_phone(digits);
	struct curl_slist *hdrs = NULL;
	struct capture cap = { .len = 0 };
	struct buf url, body, h;
	long status = 0;
	CURLcode cc;
	CURL *c;
	int ok = 0;

	buf_init(&url);
	buf_init(&body);
	buf_init(&h);
	switch (g->preset) {
	case P_KANNEL:
		buf_adds(&url, g->url);
		if (g->post) {
			/* Kannel's POST: the text is the body, the rest
			 * X-Kannel-* headers */
			buf_adds(&body, text);
			buf_addf(&h, "X-Kannel-Username: %s",
			    g->user ? g->user : "");
			hdrs = curl_slist_append(hdrs, h.s);
			buf_reset(&h);
			buf_addf(&h, "X-Kannel-Password: %s",
			    g->password ? g->password : "");
			hdrs = curl_slist_append(hdrs, h.s);
			buf_reset(&h);
			buf_addf(&h, "X-Kannel-To: %s", to);
			hdrs = curl_slist_append(hdrs, h.s);
			buf_reset(&h);
			if (g->from) {
				buf_addf(&h, "X-Kannel-From: %s", g->from);
				hdrs = curl_slist_append(hdrs, h.s);
				buf_reset(&h);
			}
			if (!gsm_plain(text))
				hdrs = curl_slist_append(hdrs,
				    "X-Kannel-Coding: 2");
		} else {
			buf_addc(&url, strchr(g->url, '?') ? '&' : '?');
			kannel_params(g, &url, to, text);
		}
		break;
	case P_TWILIO:
		buf_adds(&url, g->url);
		buf_adds(&body, "To=");
		add_escaped(&body, to, ESC_URL);
		buf_adds(&body, "&From=");
		add_escaped(&body, g->from, ESC_URL);
		buf_adds(&body, "&Body=");
		add_escaped(&body, text, ESC_URL);
		break;
	case P_CUSTOM:
		expand(&url, g->url, ESC_URL, to, digits, text, g->from);
		if (g->body)
			expand(&body, g->body, g->body_esc, to, digits, text,
			    g->from);
		break;
	}

	if ((c = curl_easy_init()) == NULL) {
		*why = "libcurl unusable";
		log_warnx("sms: %s: curl_easy_init failed", g->host);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url.s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, g->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    g->timeout < 10 ? g->timeout : 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tfadesk-verify/" TFADESK_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &cap);
	if (g->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.s ? body.s : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
		buf_reset(&h);
		buf_addf(&h, "Content-Type: %s", g->content_type);
		hdrs = curl_slist_append(hdrs, h.s);
		hdrs = curl_slist_append(hdrs, "Expect:");
	} else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (strcmp(g->auth, "basic") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, g->user ? g->user : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    g->password ? g->password : "");
	} else if (strcmp(g->auth, "bearer") == 0) {
		buf_reset(&h);
		buf_addf(&h, "Authorization: Bearer %s", g->token);
		hdrs = curl_slist_append(hdrs, h.s);
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		log_warnx("sms: %s: to %s: %s", g->host, masked,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		*why = cc == CURLE_OPERATION_TIMEDOUT ? "gateway timeout" :
		    "gateway unreachable";
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (g->naccept == 0)
		ok = status >= 200 && status <= 299;
	for (size_t i = 0; i < g->naccept; i++)
		if (g->accept[i] == status)
			ok = 1;
	if (!ok) {
		/* the reply, cut and on one line; it never holds the code */
		for (char *p = cap.buf; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		log_warnx("sms: %s: to %s: refused with HTTP %ld: %.120s",
		    g->host, masked, status, cap.buf);
		*why = "gateway refused";
	} else
		log_debug("sms: %s: to %s: HTTP %ld", g->host, masked, status);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	wipe(&url);
	wipe(&body);
	wipe(&h);
	free(to);
	free(masked);
	return ok ? 0 : -1;
}
