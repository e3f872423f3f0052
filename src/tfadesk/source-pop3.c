/*
 * source-pop3.c - POP3 and POP3S through libetpan.
 *
 * Keys are "pop3:USER@HOST:UIDL": the server's UIDL is the only identity a
 * POP3 message has. A message whose key is stored already is not downloaded
 * again. After the store commit:
 *   delete   DELE, made effective by QUIT at close (a crash before QUIT
 *            undoes the DELEs: the next run finds the keys stored and
 *            deletes again);
 *   seen     POP3 has no flags: the message stays on the server and is
 *            skipped by its stored key on every later run;
 *   move:    not possible in POP3 (a configuration error).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/source.h"

struct pop3 {
	mailpop3 *s;
	char *host, *user, *where;
	carray *list;       /* borrowed from the session */
	unsigned next;
	int delete;
	int connected;
	int broken;
	struct tls_step tls;  /* the last TLS step: its time, what GnuTLS said */
	long timeout;
};

static int pop3_open(struct source *);
static int pop3_next(struct source *, struct source_msg *);
static int pop3_commit(struct source *, struct source_msg *);
static void pop3_close(struct source *);

const struct source_ops source_pop3_ops = {
	"pop3", SOURCE_POP3, pop3_open, pop3_next, pop3_commit, NULL, pop3_close, NULL
};

static int
pop3_bad(struct pop3 *p, const char *what, int r)
{
	enum source_fault f;

	switch (r) {
	case MAILPOP3_ERROR_STREAM:
	case MAILPOP3_ERROR_CONNECTION_REFUSED:
		f = FAULT_CONNECTION;
		break;
	case MAILPOP3_ERROR_SSL:
		f = FAULT_TLS;
		break;
	case MAILPOP3_ERROR_BAD_USER:
	case MAILPOP3_ERROR_BAD_PASSWORD:
	case MAILPOP3_ERROR_DENIED:
		f = FAULT_LOGIN;
		break;
	case MAILPOP3_ERROR_STLS_NOT_SUPPORTED:
		f = FAULT_STARTTLS;
		what = "STLS";
		break;
	default:
		f = FAULT_OTHER;
		break;
	}
	return source_fault(f, p->where, what, r, p->s ? p->s->pop3_response :
	    NULL, &p->tls, p->timeout, &p->broken);
}

static int
pop3_open(struct source *src)
{
	const struct config *cfg = src->cfg;
	struct pop3 *p = xcalloc(1, sizeof *p);
	char *pass = NULL;
	uint16_t port;
	int r;

	src->priv = p;
	if (cfg->source.host == NULL || cfg->source.user == NULL) {
		log_warnx("source: pop3: source.host and source.user are "
		    "needed");
		return SRC_CONFIG;
	}
	p->host = xstrdup(cfg->source.host);
	p->user = xstrdup(cfg->source.user);
	p->where = xstrfmt("%s@%s", p->user, p->host);
	if (cfg->source.after == AFTER_DELETE)
		p->delete = 1;
	else if (cfg->source.after != AFTER_SEEN) {
		log_warnx("source: %s: source.after move:%s: POP3 can only "
		    "keep (seen) or delete messages", p->where,
		    cfg->source.after_folder);
		return SRC_CONFIG;
	}
	port = (uint16_t)(cfg->source.port ? cfg->source.port :
	    cfg->source.tls == TLS_IMPLICIT ? 995 : 110);
	if (cfg->source.tls == TLS_NONE && !is_loopback_host(p->host)) {
		log_warnx("source: %s: source.tls none is only allowed to a "
		    "loopback address", p->where);
		return SRC_CONFIG;
	}
	if (cfg->source.password_file == NULL) {
		log_warnx("source: %s: source.password_file is not set", p->where);
		return SRC_CONFIG;
	}
	/* logged there */
	if (read_secret_file(cfg->source.password_file, &pass) == -1)
		return errno == EACCES ? SRC_NOPERM : SRC_CONFIG;
	if ((p->s = mailpop3_new(0, NULL)) == NULL)
		fatalx("source: out of memory");
	p->timeout = cfg->source.timeout > 0 ? cfg->source.timeout : 30;
	mailpop3_set_timeout(p->s, (time_t)p->timeout);
	if (cfg->source.tls == TLS_IMPLICIT) {
		tls_begin(&p->tls);
		r = mailpop3_ssl_connect_with_callback(p->s, p->host, port,
		    source_tls_sni, p->host);
		tls_end(&p->tls);
	} else
		r = mailpop3_socket_connect(p->s, p->host, port);
	if (r != MAILPOP3_NO_ERROR) {
		r = pop3_bad(p, "connect", r);
		goto out;
	}
	p->connected = 1;
	if (cfg->source.tls == TLS_STARTTLS) {
		tls_begin(&p->tls);
		r = mailpop3_socket_starttls_with_callback(p->s,
		    source_tls_sni, p->host);
		tls_end(&p->tls);
	} else
		r = MAILPOP3_NO_ERROR;
	if (r != MAILPOP3_NO_ERROR) {
		r = pop3_bad(p, "STLS", r);
		goto out;
	}
	if (cfg->source.tls != TLS_NONE &&
	    source_tls_verify(p->s->pop3_stream, cfg->source.ca_file,
	    p->host) == -1) {
		r = SRC_REFUSED;
		goto out;
	}
	if ((r = mailpop3_login(p->s, p->user, pass)) != MAILPOP3_NO_ERROR) {
		r = pop3_bad(p, "login", r == MAILPOP3_ERROR_BAD_STATE ?
		    MAILPOP3_ERROR_DENIED : r);
		goto out;
	}
	if ((r = mailpop3_list(p->s, &p->list)) != MAILPOP3_NO_ERROR) {
		r = pop3_bad(p, "LIST/UIDL", r);
		goto out;
	}
	r = SRC_OK;
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return r;
}

static int
pop3_next(struct source *src, struct source_msg *msg)
{
	struct pop3 *p = src->priv;
	size_t max = (size_t)src->cfg->limits.max_bytes, len;
	struct mailpop3_msg_info *mi;
	unsigned *ip;
	char *data;
	int r, known;

	memset(msg, 0, sizeof *msg);
	while (p->next < carray_count(p->list)) {
		mi = carray_get(p->list, p->next++);
		if (mi == NULL || mi->msg_deleted)
			continue;
		if (mi->msg_uidl == NULL || *mi->msg_uidl == '\0') {
			log_warnx("source: %s: the server gives no UIDL: "
			    "cannot tell messages apart, nothing fetched",
			    p->where);
			return SRC_BOX_BAD;
		}
		msg->key = xstrfmt("pop3:%s@%s:%s", p->user, p->host,
		    mi->msg_uidl);
		ip = xmalloc(sizeof *ip);
		*ip = mi->msg_index;
		msg->priv = ip;
		if ((known = store_source_known(src->store, msg->key)) == -1) {
			source_msg_clear(msg);
			return SRC_TEMP;
		}
		if (known)
			return SRC_OK;     /* raw NULL: only commit */
		if (mi->msg_size > max) {
			log_warnx("source: %s: message %u (uidl %s): %u bytes, "
			    "over limits.max_bytes (%zu): left on the server",
			    p->where, mi->msg_index, mi->msg_uidl,
			    mi->msg_size, max);
			return SRC_MSG_BAD;
		}
		r = mailpop3_retr(p->s, mi->msg_index, &data, &len);
		if (r != MAILPOP3_NO_ERROR) {
			source_msg_clear(msg);
			r = pop3_bad(p, "RETR", r);
			if (r == SRC_BOX_BAD)
				r = SRC_MSG_BAD;
			return r;
		}
		msg->raw = xmalloc(len + 1);
		memcpy(msg->raw, data, len);
		msg->raw[len] = '\0';
		msg->len = len;
		mailpop3_retr_free(data);
		return SRC_OK;
	}
	return SRC_EOF;
}

static int
pop3_commit(struct source *src, struct source_msg *msg)
{
	struct pop3 *p = src->priv;
	int r;

	if (src->dry_run || !p->delete || msg->priv == NULL)
		return SRC_OK;
	r = mailpop3_dele(p->s, *(unsigned *)msg->priv);
	if (r != MAILPOP3_NO_ERROR)
		return pop3_bad(p, "DELE", r);
	return SRC_OK;
}

static void
pop3_close(struct source *src)
{
	struct pop3 *p = src->priv;

	if (p == NULL)
		return;
	if (p->s) {
		/* QUIT makes the DELEs effective */
		if (p->connected && !p->broken &&
		    mailpop3_quit(p->s) != MAILPOP3_NO_ERROR && p->delete)
			log_warnx("source: %s: QUIT failed: deletions undone, "
			    "the next fetch repeats them", p->where);
		mailpop3_free(p->s);
	}
	free(p->host);
	free(p->user);
	free(p->where);
	free(p);
	src->priv = NULL;
}
