/*
 * send-smtp.c - the reply transport reply.transport: smtp: one SMTP client
 * session through libcurl for the whole run (the only file of the mail side
 * that includes curl/curl.h).
 *
 * Security: smtp:// must upgrade with STARTTLS (CURLUSESSL_ALL), except to
 * a loopback host, where STARTTLS is used when offered (CURLUSESSL_TRY);
 * smtps:// is TLS from the first byte. The certificate and host name are
 * always checked, against reply.ca_file or the system store. AUTH is only
 * tried when reply.smtp_user is set, with the password read from
 * reply.smtp_password_file.
 *
 * The server's last reply line is kept (through the debug callback, which
 * only ever looks at what the server sent, never at our AUTH lines) so that
 * a refused reply is marked failed with the server's own words.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tfadesk.h"
#include "store.h"
#include "send-int.h"
#include "addr.h"

struct smtp {
	CURL *curl;
	char *url;
	char *user;
	char *password;
	char last[512];         /* the server's error line, else its last */
	char errbuf[CURL_ERROR_SIZE];
};

struct reader {
	const char *p;
	size_t left;
};

static size_t read_cb(char *, size_t, size_t, void *);
static int debug_cb(CURL *, curl_infotype, char *, size_t, void *);
static int smtp_open(struct transport *, const struct config *, int *);
static enum tr_result smtp_send(struct transport *,
    const struct outbox_row *, char **);
static void smtp_close(struct transport *);
static void smtp_free(struct smtp *);

const struct transport_ops send_smtp_ops = {
	"smtp", smtp_open, smtp_send, smtp_close
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb;

	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Remembers the server's last reply line. */
static int
debug_cb(CURL *c, curl_infotype type, char *data, size_t n, void *arg)
{
	struct smtp *s = arg;
	size_t i, j = 0;

	(void)c;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	/* an error line (4xx, 5xx) is kept over the "221 Bye" after it */
	if (s->last[0] == '4' || s->last[0] == '5')
		if (n == 0 || (data[0] != '4' && data[0] != '5'))
			return 0;
	for (i = 0; i < n && j + 1 < sizeof s->last; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\r' || ch == '\n')
			break;
		s->last[j++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	if (j > 0)
		s->last[j] = '\0';
	return 0;
}

/* NULL with *ex (an exit status) and *err (owned; NULL when the secret
 * reader already logged why) when the settings cannot work. */
static struct smtp *
smtp_new(const struct config *cfg, char **err, int *ex)
{
	struct smtp *s;
	CURLU *u;
	char *host = NULL, *scheme = NULL, *path = NULL, *dom;
	long use_ssl;

	*err = NULL;
	*ex = EX_CONFIG;
	if (cfg->reply.smtp_url == NULL) {
		*err = xstrdup("reply.smtp_url is not set");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*err = xstrdup("libcurl cannot start");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, cfg->reply.smtp_url,
	    0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		*err = xstrfmt("reply.smtp_url %s: not a URL",
		    cfg->reply.smtp_url);
		goto fail;
	}
	/* EHLO names our domain unless the URL path gives one */
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    path == NULL || strcmp(path, "/") == 0 || *path == '\0') {
		struct addr a;
		if (addr_parse_one(cfg->reply.from, &a, NULL) == 0) {
			dom = xstrfmt("/%s", strchr(a.spec, '@') + 1);
			curl_url_set(u, CURLUPART_PATH, dom, 0);
			free(dom);
			addr_free(&a);
		}
	}
	{
		char *full = NULL;
		if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
			*err = xstrdup("reply.smtp_url: cannot be used");
			goto fail;
		}
		s->url = xstrdup(full);
		curl_free(full);
	}
	if (host[0] == '[') {        /* [::1] */
		size_t n = strlen(host);
		memmove(host, host + 1, n);
		if (n > 1 && host[n - 2] == ']')
			host[n - 2] = '\0';
	}
	if (strcmp(scheme, "smtps") == 0)
		use_ssl = CURLUSESSL_ALL;
	else if (strcmp(scheme, "smtp") == 0)
		use_ssl = is_loopback_host(host) ? CURLUSESSL_TRY :
		    CURLUSESSL_ALL;
	else {
		*err = xstrfmt("reply.smtp_url %s: must be smtp:// or smtps://",
		    cfg->reply.smtp_url);
		goto fail;
	}
	if (cfg->reply.smtp_user && *cfg->reply.smtp_user) {
		if (cfg->reply.smtp_password_file == NULL) {
			*err = xstrdup("reply.smtp_user is set but not "
			    "reply.smtp_password_file");
			goto fail;
		}
		/* logged there; *err stays NULL */
		if (read_secret_file(cfg->reply.smtp_password_file,
		    &s->password) == -1) {
			*ex = secret_exit(errno);
			goto fail;
		}
		s->user = xstrdup(cfg->reply.smtp_user);
	}
	if ((s->curl = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl: no handle");
		goto fail;
	}
	curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(s->curl, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->reply.ca_file)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, cfg->reply.ca_file);
	if (s->user) {
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password);
	}
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT,
	    cfg->reply.timeout > 0 && cfg->reply.timeout < 30 ?
	    cfg->reply.timeout : 30L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT,
	    cfg->reply.timeout > 0 ? cfg->reply.timeout : 60L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
	curl_free(host);
	curl_free(scheme);
	curl_free(path);
	curl_url_cleanup(u);
	return s;
fail:
	curl_free(host);
	curl_free(scheme);
	curl_free(path);
	curl_url_cleanup(u);
	smtp_free(s);
	return NULL;
}

static int
smtp_open(struct transport *t, const struct config *cfg, int *ex)
{
	char *err = NULL;

	if ((t->priv = smtp_new(cfg, &err, ex)) == NULL) {
		if (err)
			log_warnx("send: %s", err);
		free(err);
		return -1;
	}
	return 0;
}

static void
smtp_close(struct transport *t)
{
	smtp_free(t->priv);
	t->priv = NULL;
}

static void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->url);
	free(s->user);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
	curl_global_cleanup();
}

static enum tr_result
smtp_send(struct transport *tr, const struct outbox_row *row, char **answer)
{
	struct smtp *s = tr->priv;
	size_t len = row->message_len;
	struct curl_slist *rcpts = NULL;
	struct reader r = { row->message, len };
	char *f, *t;
	long code = 0;
	CURLcode rc;
	enum tr_result res;

	*answer = NULL;
	s->last[0] = '\0';
	s->errbuf[0] = '\0';
	f = xstrfmt("<%s>", row->mail_from);
	t = xstrfmt("<%s>", row->rcpt);
	rcpts = curl_slist_append(rcpts, t);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, f);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, &r);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpts);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	free(f);
	free(t);

	if (rc == CURLE_OK)
		res = TR_SENT;
	else switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
		res = TR_DOWN;
		break;
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_AUTH_ERROR:
		res = TR_SETUP;
		break;
	default:
		if (code == 530 || code == 534 || code == 535 || code == 538)
			res = TR_SETUP;         /* authentication */
		else if (code >= 500 && code < 600)
			res = TR_PERM;
		else if (code >= 400 && code < 500)
			res = TR_TEMP;
		else if (code == 0)
			res = TR_DOWN;          /* no greeting at all */
		else
			res = TR_TEMP;          /* the session broke */
		break;
	}
	if (res != TR_SENT) {
		if (s->last[0] && code >= 400)
			*answer = xstrfmt("%s (%s)", s->last,
			    s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
		else
			*answer = xstrdup(s->errbuf[0] ? s->errbuf :
			    curl_easy_strerror(rc));
	} else
		*answer = xstrdup(s->last);
	return res;
}
