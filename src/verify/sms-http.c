/*
 * sms-http.c - the HTTP SMS gateway (sms.transport: http): one request per
 * SMS, shaped by sms.preset, each preset a row of the table below:
 *
 *   kannel   GET sms.url?username&password&to&from&text (sms.user,
 *            sms.password_file), plus coding=2&charset=UTF-8 when the
 *            text is not plain GSM; or with sms.method POST, the text
 *            as a text/plain UTF-8 body and the rest as X-Kannel-*
 *            headers (Kannel refuses form bodies); accepted: 200-202
 *   twilio   POST form To, From, Body with basic auth (sms.user = the
 *            account SID, sms.password_file = the auth token) to sms.url
 *            (.../Accounts/SID/Messages.json); accepted: 201
 *   custom   sms.method, sms.url and sms.body are templates with {{to}}
 *            (+E.164), {{to_digits}}, {{text}} and {{from}}: URL-encoded
 *            in the URL and in form bodies, JSON-escaped when
 *            sms.content_type names JSON; accepted: 2xx
 * sms.auth none|basic|bearer, sms.accept_status and sms.timeout apply to
 * every preset (twilio is always basic).
 *
 * The only verifier file that touches libcurl. Nothing here ever logs the
 * text or a URL with its query: both may hold the code. Numbers are logged
 * masked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tfadesk.h"
#include "json.h"
#include "sms-int.h"

enum esc { ESC_URL, ESC_JSON };

/*
 * A preset: how the request is built from the number, the text and the
 * settings. Parameters (P_*) go in the query string of a GET or as a form
 * body of a POST, in this order, those with a NULL name left out; a preset
 * with TEXT_BODY sends, on POST, the text as the body and the parameters
 * as the headers H_*. TEMPLATED: the URL and body are sms.url and sms.body
 * with placeholders.
 */
struct preset {
	enum sms_preset id;
	const char *name;
	int force_post;                 /* whatever sms.method says */
	int force_basic;                /* whatever sms.auth says */
	int templated;
	int text_body;                  /* POST: text as the body */
	const char *ct_get, *ct_post;   /* NULL: from the settings */
	const char *p_user, *p_password, *p_to, *p_from, *p_text;
	const char *p_unicode;          /* added when the text is not GSM */
	const char *h_user, *h_password, *h_to, *h_from, *h_unicode;
	long accept[4];                 /* 0-terminated; none: 2xx */
	const char *needs_user_from;    /* error when sms.user or sms.from
					 * is not set */
	const char *no_user;            /* warning when sms.user is not set */
};

static const struct preset presets[] = {
	{ SMS_KANNEL, "kannel", 0, 0, 0, 1,
	  "application/x-www-form-urlencoded", "text/plain; charset=UTF-8",
	  "username", "password", "to", "from", "text",
	  "&coding=2&charset=UTF-8",
	  "X-Kannel-Username", "X-Kannel-Password", "X-Kannel-To",
	  "X-Kannel-From", "X-Kannel-Coding: 2",
	  { 200, 201, 202, 0 }, NULL,
	  "config: sms.user is not set: Kannel's sendsms will refuse the "
	  "request" },
	{ SMS_TWILIO, "twilio", 1, 1, 0, 0,
	  "application/x-www-form-urlencoded",
	  "application/x-www-form-urlencoded",
	  NULL, NULL, "To", "From", "Body", NULL,
	  NULL, NULL, NULL, NULL, NULL,
	  { 201, 0 },
	  "config: sms.preset twilio needs sms.user (the account SID) and "
	  "sms.from", NULL },
	{ SMS_CUSTOM, "custom", 0, 0, 1, 0, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL,
	  { 0 }, NULL, NULL },
};

struct http {
	const struct preset *p;
	char *host;               /* "scheme://host:port" for logs */
	char *url;
	int post;
	char *body;               /* templated: sms.body */
	char *content_type;
	enum esc body_esc;
	enum sms_auth auth;
	char *user, *password, *token, *from;
	long *accept;
	size_t naccept;
	long timeout;
	int curl_up;              /* curl_global_init done */
};

struct capture {
	char buf[256];
	size_t len;
};

static int http_open(struct sms *, const struct config *, int *);
static int http_send(struct sms *, const char *, const char *,
    const char **);
static void http_close(struct sms *);

const struct sms_ops sms_http_ops = {
	"http", http_open, http_send, http_close
};


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

static int
http_open(struct sms *g, const struct config *cfg, int *ex)
{
	struct http *h = xcalloc(1, sizeof *h);
	const struct preset *p = NULL;
	const char *s;
	struct buf b;

	g->priv = h;
	*ex = EX_CONFIG;
	h->timeout = cfg->sms.timeout > 0 ? cfg->sms.timeout : 10;
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (presets[i].id == cfg->sms.preset)
			p = &presets[i];
	if (p == NULL) {
		log_warnx("config: sms.preset: unknown");
		return -1;
	}
	h->p = p;
	h->url = xstrdup(cfg->sms.url);
	if (strncmp(h->url, "http://", 7) != 0 &&
	    strncmp(h->url, "https://", 8) != 0) {
		log_warnx("config: sms.url: must start with http:// or "
		    "https://");
		return -1;
	}
	s = strstr(h->url, "://") + 3;
	h->host = xstrndup(h->url, (size_t)(s - h->url) + strcspn(s, "/?#"));
	h->from = cfg->sms.from ? xstrdup(cfg->sms.from) : NULL;
	h->user = cfg->sms.user ? xstrdup(cfg->sms.user) : NULL;
	h->post = p->force_post || cfg->sms.method == SMS_POST;
	h->auth = p->force_basic ? SMS_AUTH_BASIC : cfg->sms.auth;

	if (p->needs_user_from && (h->user == NULL || h->from == NULL)) {
		log_warnx("%s", p->needs_user_from);
		return -1;
	}
	if (p->templated && h->post && cfg->sms.body == NULL) {
		log_warnx("config: sms.body is needed for a custom POST "
		    "request");
		return -1;
	}
	if (h->auth == SMS_AUTH_BASIC && h->user == NULL) {
		log_warnx("config: sms.auth basic needs sms.user");
		return -1;
	}
	/* basic auth, or a preset that sends the password as a parameter */
	if ((h->auth == SMS_AUTH_BASIC || (p->p_password && h->user)) &&
	    secret("sms.password_file", cfg->sms.password_file, &h->password,
	    ex) == -1)
		return -1;
	if (h->auth == SMS_AUTH_BEARER && secret("sms.token_file",
	    cfg->sms.token_file, &h->token, ex) == -1)
		return -1;
	if (p->no_user && h->user == NULL)
		log_warnx("%s", p->no_user);
	if (p->templated) {
		h->body = cfg->sms.body ? xstrdup(cfg->sms.body) : NULL;
		/* templates must expand */
		buf_init(&b);
		if (expand(&b, h->url, ESC_URL, "+1", "1", "x", "y") == -1 ||
		    (h->body && expand(&b, h->body, ESC_URL, "+1", "1", "x",
		    "y") == -1)) {
			buf_free(&b);
			log_warnx("config: sms.url or sms.body: unknown or "
			    "unclosed placeholder (use {{to}} {{to_digits}} "
			    "{{text}} {{from}})");
			return -1;
		}
		buf_free(&b);
	}
	s = h->post ? p->ct_post : p->ct_get;
	if (s == NULL)
		s = cfg->sms.content_type ? cfg->sms.content_type :
		    h->body && h->body[0] == '{' ? "application/json" :
		    "application/x-www-form-urlencoded";
	h->content_type = xstrdup(s);
	/* they may end up in headers */
	if (has_ctl(h->user) || has_ctl(h->from) || has_ctl(h->password) ||
	    has_ctl(h->token) || has_ctl(h->content_type) || has_ctl(h->url)) {
		log_warnx("config: sms.user, sms.from, sms.url, sms.content_type "
		    "and the secrets must be one line without control "
		    "characters");
		return -1;
	}
	if (strcasestr(h->content_type, "json"))
		h->body_esc = ESC_JSON;
	if (cfg->sms.n_accept_status > 0) {
		h->naccept = cfg->sms.n_accept_status;
		h->accept = xcalloc(h->naccept, sizeof *h->accept);
		memcpy(h->accept, cfg->sms.accept_status,
		    h->naccept * sizeof *h->accept);
	} else {
		while (h->naccept < sizeof p->accept / sizeof p->accept[0] &&
		    p->accept[h->naccept] != 0)
			h->naccept++;
		if (h->naccept > 0) {
			h->accept = xcalloc(h->naccept, sizeof *h->accept);
			memcpy(h->accept, p->accept,
			    h->naccept * sizeof *h->accept);
		}
	}
	if (strncmp(h->url, "http://", 7) == 0) {
		char *hn = xstrdup(h->host + 7);
		hn[strcspn(hn, ":")] = '\0';
		if (hn[0] == '[')
			memmove(hn, hn + 1, strlen(hn));
		hn[strcspn(hn, "]")] = '\0';
		if (!is_loopback_host(hn) && (h->password || h->token))
			log_warnx("sms: %s: credentials over plain http",
			    h->host);
		free(hn);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("sms: libcurl: cannot initialise");
		return -1;
	}
	h->curl_up = 1;
	snprintf(g->desc, sizeof g->desc, "%s %s %s (%s)", p->name,
	    h->post ? "POST" : "GET", h->host, h->content_type);
	return 0;
}

static void
http_close(struct sms *g)
{
	struct http *h = g->priv;

	if (h == NULL)
		return;
	if (h->curl_up)
		curl_global_cleanup();
	free(h->host);
	free(h->url);
	free(h->body);
	free(h->content_type);
	free(h->user);
	if (h->password)
		memset(h->password, 0, strlen(h->password));
	free(h->password);
	if (h->token)
		memset(h->token, 0, strlen(h->token));
	free(h->token);
	free(h->from);
	free(h->accept);
	free(h);
	g->priv = NULL;
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

/* One parameter NAME=VALUE, URL-encoded; none without a name. */
static void
param(struct buf *b, const char *name, const char *value)
{
	if (name == NULL)
		return;
	if (b->len > 0 && b->s[b->len - 1] != '?' && b->s[b->len - 1] != '&')
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	add_escaped(b, value, ESC_URL);
}

/* One header "NAME: VALUE"; none without a name. */
static struct curl_slist *
header(struct curl_slist *hdrs, struct buf *tmp, const char *name,
    const char *value)
{
	if (name == NULL)
		return hdrs;
	buf_reset(tmp);
	buf_addf(tmp, "%s: %s", name, value);
	return curl_slist_append(hdrs, tmp->s);
}

/* The preset's URL, body and headers for one SMS. */
static struct curl_slist *
build(struct http *h, struct buf *url, struct buf *body, struct buf *tmp,
    const char *to, const char *digits, const char *text)
{
	const struct preset *p = h->p;
	struct curl_slist *hdrs = NULL;
	struct buf *pb;

	if (p->templated) {
		expand(url, h->url, ESC_URL, to, digits, text, h->from);
		if (h->body)
			expand(body, h->body, h->body_esc, to, digits, text,
			    h->from);
		return NULL;
	}
	buf_adds(url, h->url);
	if (h->post && p->text_body) {
		buf_adds(body, text);
		hdrs = header(hdrs, tmp, p->h_user, h->user ? h->user : "");
		hdrs = header(hdrs, tmp, p->h_password,
		    h->password ? h->password : "");
		hdrs = header(hdrs, tmp, p->h_to, to);
		if (h->from)
			hdrs = header(hdrs, tmp, p->h_from, h->from);
		if (!gsm_plain(text) && p->h_unicode)
			hdrs = curl_slist_append(hdrs, p->h_unicode);
		return hdrs;
	}
	if (h->post)
		pb = body;
	else {
		pb = url;
		buf_addc(url, strchr(h->url, '?') ? '&' : '?');
	}
	param(pb, p->p_user, h->user ? h->user : "");
	param(pb, p->p_password, h->password ? h->password : "");
	param(pb, p->p_to, to);
	if (h->from)
		param(pb, p->p_from, h->from);
	param(pb, p->p_text, text);
	if (!gsm_plain(text) && p->p_unicode)
		buf_adds(pb, p->p_unicode);
	return hdrs;
}

static int
http_send(struct sms *g, const char *digits, const char *text,
    const char **why)
{
	struct http *h = g->priv;
	char errbuf[CURL_ERROR_SIZE] = "", *to = xstrfmt("+%s", digits);
	char *masked = mask_phone(digits);
	struct curl_slist *hdrs;
	struct capture cap = { .len = 0 };
	struct buf url, body, t;
	long status = 0;
	CURLcode cc;
	CURL *c;
	int ok = 0;

	buf_init(&url);
	buf_init(&body);
	buf_init(&t);
	hdrs = build(h, &url, &body, &t, to, digits, text);

	if ((c = curl_easy_init()) == NULL) {
		*why = "libcurl unusable";
		log_warnx("sms: %s: curl_easy_init failed", h->host);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url.s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    h->timeout < 10 ? h->timeout : 10L);
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
	if (h->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.s ? body.s : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
		hdrs = header(hdrs, &t, "Content-Type", h->content_type);
		hdrs = curl_slist_append(hdrs, "Expect:");
	} else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (h->auth == SMS_AUTH_BASIC) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, h->user ? h->user : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    h->password ? h->password : "");
	} else if (h->auth == SMS_AUTH_BEARER) {
		buf_reset(&t);
		buf_addf(&t, "Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, t.s);
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		log_warnx("sms: %s: to %s: %s", h->host, masked,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		*why = cc == CURLE_OPERATION_TIMEDOUT ? "gateway timeout" :
		    "gateway unreachable";
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (h->naccept == 0)
		ok = status >= 200 && status <= 299;
	for (size_t i = 0; i < h->naccept; i++)
		if (h->accept[i] == status)
			ok = 1;
	if (!ok) {
		/* the reply, cut and on one line; it never holds the code */
		for (char *q = cap.buf; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = ' ';
		log_warnx("sms: %s: to %s: refused with HTTP %ld: %.120s",
		    h->host, masked, status, cap.buf);
		*why = "gateway refused";
	} else
		log_debug("sms: %s: to %s: HTTP %ld", h->host, masked, status);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	buf_wipe(&url);
	buf_wipe(&body);
	buf_wipe(&t);
	free(to);
	free(masked);
	return ok ? 0 : -1;
}
