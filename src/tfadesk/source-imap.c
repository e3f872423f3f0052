/*
 * source-imap.c - IMAP and IMAPS through libetpan.
 *
 * State kept in the store's kv table, per mailbox:
 *   "imap:USER@HOST:PORT/MAILBOX" = "UIDVALIDITY LASTUID"
 * LASTUID is the highest UID whose after-action (flag, move, delete) the
 * server confirmed; it is written only after that (inside the next group's
 * store transaction, imap_save, or by the last flush), so a crash makes the
 * next run look at those messages again, find their keys stored and only
 * redo the server-side step. Message keys are
 * "imap:USER@HOST/MAILBOX:UV:UID".
 *
 * A changed UIDVALIDITY means the server renumbered the mailbox: the UIDs we
 * remember mean nothing. We warn and scan the whole mailbox again; every
 * message stored before is recognised by its Message-ID (or the hash of its
 * bytes) in store_ticket_add, so nothing is lost and nothing is stored twice.
 *
 * Memory stays bounded whatever the mailbox size: UIDs and sizes are read in
 * windows of UID_WINDOW UIDs (UID FETCH a:b (UID RFC822.SIZE)), and bodies in
 * chunks of at most source.batch messages and CHUNK_BYTES bytes with
 * BODY.PEEK[] (nothing is flagged by reading). Flag changes are queued by
 * commit() and sent as one UID STORE/MOVE per group by flush().
 *
 * For after: seen (and a dry run) nothing waits that need not: the UID
 * FETCH of the next chunk is sent as soon as a chunk is read, and each
 * group's UID STORE ... +FLAGS.SILENT (\Seen) right after its COMMIT, so
 * that the server reads and renames while tfadesk stores. Commands in
 * flight (im->sent) are answered in the order sent; settle() reads the
 * STOREs' answers, read_fetch() a chunk's, drain() all before a command
 * that waits (sizes, delete, move, LOGOUT).
 */
#include <arpa/inet.h>

#include <poll.h>
#include <time.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/source.h"

#define UID_WINDOW	5000u
#define CHUNK_BYTES	(8u << 20)
#define STORE_SET_MAX	4000u   /* bytes of UID set in one command */
#define SENT_MAX	64      /* commands in flight */

struct meta {
	uint32_t uid, size;
};

struct body {
	uint32_t uid;
	const char *p;      /* borrowed from the fetch result */
	size_t len;
};

struct imap {
	mailimap *s;
	char *host, *user, *mailbox, *folder;  /* folder: move target */
	char *where;        /* "user@host/mailbox" for log lines */
	char *statekey, *keyprefix;
	uint32_t uidvalidity, uidnext, scan, lastuid;
	int has_move, has_uidplus;
	int broken;         /* the connection failed: no LOGOUT */
	struct tls_step tls;  /* the last TLS step: its time, what GnuTLS said */
	long timeout;

	struct meta *meta;  /* the current UID window */
	size_t nmeta, imeta, capmeta;

	clist *chunk;       /* owned fetch result holding the bodies */
	struct body *bodies;
	size_t nbodies, ibody, capbodies;

	uint32_t *pend;     /* committed, after-action not yet sent */
	size_t npend, cappend;
	/* Commands sent whose answers are not read yet, oldest first: UID
	 * STOREs of \Seen and at most one UID FETCH of the next chunk. */
	struct sent {
		int tag, fetch;
		uint32_t top;     /* a STORE's highest UID */
	} sent[SENT_MAX];
	size_t nsent;
	int pipeline;       /* after: seen or a dry run: send ahead */
	size_t pf_from;     /* the prefetched chunk begins at meta[pf_from] */
	int pf_pending;
	uint32_t savedtop;  /* LASTUID as written in the store */
};

static int imap_open(struct source *);
static int imap_next(struct source *, struct source_msg *);
static int imap_commit(struct source *, struct source_msg *);
static int imap_flush(struct source *);
static void imap_close(struct source *);
static int imap_save(struct source *);
static int imap_names(const struct config *, struct imap *);
static int drain(struct imap *);

const struct source_ops source_imap_ops = {
	"imap", imap_open, imap_next, imap_commit, imap_flush, imap_close,
	imap_save
};

/* One place that turns a failed libetpan call into a graded result. */
static int
imap_bad(struct imap *im, const char *what, int r)
{
	const char *resp = im->s && im->s->imap_response ?
	    im->s->imap_response : "";

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		log_warnx("source: %s: %s: connection failed or timed out",
		    im->where, what);
		im->broken = 1;
		return SRC_TEMP;
	case MAILIMAP_ERROR_SSL:
		if (tls_failed(&im->tls, im->where, what, im->timeout) ==
		    SRC_TEMP) {
			im->broken = 1;
			return SRC_TEMP;
		}
		return SRC_REFUSED;
	case MAILIMAP_ERROR_LOGIN:
		log_warnx("source: %s: login refused%s%s", im->where,
		    *resp ? ": " : "", resp);
		return SRC_REFUSED;
	case MAILIMAP_ERROR_STARTTLS:
		log_warnx("source: %s: STARTTLS refused%s%s", im->where,
		    *resp ? ": " : "", resp);
		return SRC_REFUSED;
	case MAILIMAP_ERROR_PARSE:
		log_warnx("source: %s: %s: unreadable answer from the server",
		    im->where, what);
		im->broken = 1;
		return SRC_TEMP;
	default:
		log_warnx("source: %s: %s failed (libetpan %d)%s%s",
		    im->where, what, r, *resp ? ": " : "", resp);
		return SRC_BOX_BAD;
	}
}

static void
read_caps(struct imap *im)
{
	struct mailimap_capability_data *cap = NULL;
	clistiter *it;

	if (mailimap_capability(im->s, &cap) != MAILIMAP_NO_ERROR ||
	    cap == NULL)
		return;
	for (it = clist_begin(cap->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);
		if (c->cap_type != MAILIMAP_CAPABILITY_NAME ||
		    c->cap_data.cap_name == NULL)
			continue;
		if (strcasecmp(c->cap_data.cap_name, "MOVE") == 0)
			im->has_move = 1;
		else if (strcasecmp(c->cap_data.cap_name, "UIDPLUS") == 0)
			im->has_uidplus = 1;
	}
	mailimap_capability_data_free(cap);
}

/* Connect, TLS, certificate check, login. */
static int
imap_connect(struct source *src, struct imap *im)
{
	const struct config *cfg = src->cfg;
	const char *tls = cfg->source.tls ? cfg->source.tls :
	    strcmp(cfg->source.type, "imaps") == 0 ? "implicit" : "starttls";
	uint16_t port = (uint16_t)(cfg->source.port ? cfg->source.port :
	    strcmp(tls, "implicit") == 0 ? 993 : 143);
	char *pass = NULL;
	int r;

	if (strcmp(tls, "none") == 0 && !is_loopback_host(im->host)) {
		log_warnx("source: %s: source.tls none is only allowed to a "
		    "loopback address", im->where);
		return SRC_CONFIG;
	}
	if (cfg->source.password_file == NULL) {
		log_warnx("source: %s: source.password_file is not set", im->where);
		return SRC_CONFIG;
	}
	/* logged there */
	if (read_secret_file(cfg->source.password_file, &pass) == -1)
		return errno == EACCES ? SRC_NOPERM : SRC_CONFIG;
	im->s = mailimap_new(0, NULL);
	if (im->s == NULL)
		fatalx("source: out of memory");
	im->timeout = cfg->source.timeout > 0 ? cfg->source.timeout : 30;
	mailimap_set_timeout(im->s, (time_t)im->timeout);
	if (strcmp(tls, "implicit") == 0) {
		tls_begin(&im->tls);
		r = mailimap_ssl_connect_with_callback(im->s, im->host, port,
		    source_tls_sni, im->host);
		tls_end(&im->tls);
	} else
		r = mailimap_socket_connect(im->s, im->host, port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		r = imap_bad(im, "connect", r);
		goto out;
	}
	if (strcmp(tls, "starttls") == 0) {
		tls_begin(&im->tls);
		r = mailimap_socket_starttls_with_callback(im->s,
		    source_tls_sni, im->host);
		tls_end(&im->tls);
	} else
		r = MAILIMAP_NO_ERROR;
	if (r != MAILIMAP_NO_ERROR) {
		r = imap_bad(im, "STARTTLS", r == MAILIMAP_ERROR_EXTENSION ?
		    MAILIMAP_ERROR_STARTTLS : r);
		goto out;
	}
	if (strcmp(tls, "none") != 0 &&
	    source_tls_verify(im->s->imap_stream, cfg->source.ca_file,
	    im->host) == -1) {
		r = SRC_REFUSED;
		goto out;
	}
	if ((r = mailimap_login(im->s, im->user, pass)) != MAILIMAP_NO_ERROR) {
		r = imap_bad(im, "login", r);
		goto out;
	}
	read_caps(im);
	r = SRC_OK;
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return r;
}

/* Host, user, mailbox and the "where" of log lines. */
static int
imap_names(const struct config *cfg, struct imap *im)
{
	if (cfg->source.host == NULL || cfg->source.user == NULL) {
		log_warnx("source: imap: source.host and source.user are "
		    "needed");
		return SRC_CONFIG;
	}
	im->host = xstrdup(cfg->source.host);
	im->user = xstrdup(cfg->source.user);
	im->mailbox = xstrdup(cfg->source.mailbox ? cfg->source.mailbox :
	    "INBOX");
	im->where = xstrfmt("%s@%s/%s", im->user, im->host, im->mailbox);
	return SRC_OK;
}

static int
imap_open(struct source *src)
{
	const struct config *cfg = src->cfg;
	struct imap *im = xcalloc(1, sizeof *im);
	const char *after = cfg->source.after ? cfg->source.after : "seen";
	struct mailimap_selection_info *si;
	char *state = NULL, *val;
	unsigned long uv, last;
	int r;

	src->priv = im;
	if ((r = imap_names(cfg, im)) != SRC_OK)
		return r;
	if (strncmp(after, "move:", 5) == 0 && after[5] != '\0')
		im->folder = xstrdup(after + 5);
	else if (strcmp(after, "seen") != 0 && strcmp(after, "delete") != 0) {
		log_warnx("source: %s: source.after %s: not usable", im->where,
		    after);
		return SRC_CONFIG;
	}
	im->statekey = xstrfmt("imap:%s@%s:%ld/%s", im->user, im->host,
	    cfg->source.port, im->mailbox);
	im->pipeline = src->dry_run || (im->folder == NULL &&
	    strcmp(after, "delete") != 0);

	if ((r = imap_connect(src, im)) != SRC_OK)
		return r;
	if (im->folder && !src->dry_run) {
		/* NO when it exists already: fine */
		(void)mailimap_create(im->s, im->folder);
	}
	if ((r = mailimap_select(im->s, im->mailbox)) != MAILIMAP_NO_ERROR)
		return imap_bad(im, "SELECT", r);
	si = im->s->imap_selection_info;
	im->uidvalidity = si->sel_uidvalidity;
	im->uidnext = si->sel_uidnext;
	im->keyprefix = xstrfmt("imap:%s@%s/%s:%" PRIu32 ":", im->user,
	    im->host, im->mailbox, im->uidvalidity);

	/* Where we left off. */
	im->scan = 1;
	r = store_kv_get(src->store, im->statekey, &state);
	if (r == -1)
		return SRC_TEMP;
	if (r == 0 && sscanf(state, "%lu %lu", &uv, &last) == 2) {
		if (uv == im->uidvalidity) {
			im->scan = (uint32_t)last + 1;
			im->lastuid = im->savedtop = (uint32_t)last;
		} else {
			log_warnx("source: %s: UIDVALIDITY changed from %lu "
			    "to %" PRIu32 ": the server renumbered the "
			    "mailbox; scanning all of it again (messages "
			    "already stored are recognised by Message-ID)",
			    im->where, uv, im->uidvalidity);
			if (!src->dry_run) {
				val = xstrfmt("%" PRIu32 " 0", im->uidvalidity);
				r = store_kv_set(src->store, im->statekey, val);
				free(val);
				if (r == -1) {
					free(state);
					return SRC_TEMP;
				}
			}
		}
	}
	free(state);
	log_debug("source: %s: UIDVALIDITY %" PRIu32 " UIDNEXT %" PRIu32
	    ", from UID %" PRIu32, im->where, im->uidvalidity, im->uidnext,
	    im->scan);
	return SRC_OK;
}

/* Reads the next window of UIDs and sizes into im->meta. */
static int
read_window(struct imap *im)
{
	struct mailimap_set *set;
	struct mailimap_fetch_type *ft;
	clist *res = NULL;
	clistiter *it, *j;
	uint32_t hi;
	int r;

	im->nmeta = im->imeta = 0;
	if ((r = drain(im)) != SRC_OK)
		return r;
	while (im->nmeta == 0) {
		if (im->uidnext != 0 && im->scan >= im->uidnext)
			return SRC_EOF;
		if (im->scan == 0)      /* wrapped */
			return SRC_EOF;
		if (im->uidnext != 0)
			hi = im->uidnext - 1 - im->scan < UID_WINDOW - 1 ?
			    im->uidnext - 1 : im->scan + UID_WINDOW - 1;
		else
			hi = 0;         /* scan:* */
		set = mailimap_set_new_interval(im->scan, hi);
		ft = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(ft,
		    mailimap_fetch_att_new_uid());
		mailimap_fetch_type_new_fetch_att_list_add(ft,
		    mailimap_fetch_att_new_rfc822_size());
		r = mailimap_uid_fetch(im->s, set, ft, &res);
		mailimap_fetch_type_free(ft);
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR)
			return imap_bad(im, "UID FETCH (sizes)", r);
		for (it = clist_begin(res); it; it = clist_next(it)) {
			struct mailimap_msg_att *ma = clist_content(it);
			struct meta mt = { 0, 0 };
			int have_size = 0;
			for (j = clist_begin(ma->att_list); j; j = clist_next(j)) {
				struct mailimap_msg_att_item *item =
				    clist_content(j);
				struct mailimap_msg_att_static *st;
				if (item->att_type !=
				    MAILIMAP_MSG_ATT_ITEM_STATIC)
					continue;
				st = item->att_data.att_static;
				if (st->att_type == MAILIMAP_MSG_ATT_UID)
					mt.uid = st->att_data.att_uid;
				else if (st->att_type ==
				    MAILIMAP_MSG_ATT_RFC822_SIZE) {
					mt.size = st->att_data.att_rfc822_size;
					have_size = 1;
				}
			}
			if (mt.uid < im->scan || !have_size ||
			    (hi != 0 && mt.uid > hi))
				continue;
			if (im->nmeta == im->capmeta) {
				im->capmeta = im->capmeta ? im->capmeta * 2 :
				    256;
				im->meta = xreallocarray(im->meta, im->capmeta,
				    sizeof *im->meta);
			}
			im->meta[im->nmeta++] = mt;
		}
		mailimap_fetch_list_free(res);
		res = NULL;
		if (hi == 0) {
			im->scan = 0;   /* one pass over scan:* */
			if (im->nmeta == 0)
				return SRC_EOF;
		} else
			im->scan = hi + 1 == 0 ? 0 : hi + 1;
	}
	/* the server answers in sequence order, which is UID order; make
	 * sure, since the watermark relies on it */
	for (size_t i = 1; i < im->nmeta; i++) {
		struct meta t = im->meta[i];
		size_t k = i;
		while (k > 0 && im->meta[k - 1].uid > t.uid) {
			im->meta[k] = im->meta[k - 1];
			k--;
		}
		im->meta[k] = t;
	}
	return SRC_OK;
}

static void
free_chunk(struct imap *im)
{
	if (im->chunk)
		mailimap_fetch_list_free(im->chunk);
	im->chunk = NULL;
	im->nbodies = im->ibody = 0;
}

static int
cmp_body(const void *a, const void *b)
{
	const struct body *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/*
 * Reads the answer to the oldest command in flight. libetpan checks the
 * tag of an answer against its last one: it is set to that command's for
 * the read.
 */
static int
read_answer(struct imap *im, const char *what,
    struct mailimap_response **resp)
{
	int cur = im->s->imap_tag, r;

	im->s->imap_tag = im->sent[0].tag;
	if (mailimap_read_line(im->s) == NULL)
		r = MAILIMAP_ERROR_STREAM;
	else
		r = mailimap_parse_response(im->s, resp);
	im->s->imap_tag = cur;
	im->nsent--;
	memmove(im->sent, im->sent + 1, im->nsent * sizeof *im->sent);
	if (r != MAILIMAP_NO_ERROR)
		return imap_bad(im, what, r);
	return SRC_OK;
}

/*
 * Reads the answers to the UID STOREs ahead of a chunk sent ahead (or to
 * all of them): their messages are flagged, and LASTUID moves up to their
 * top (written by imap_save inside the next group's transaction, or by the
 * last flush).
 */
static int
settle(struct imap *im)
{
	struct mailimap_response *resp = NULL;
	uint32_t top;
	int r, code;

	while (im->nsent > 0 && !im->sent[0].fetch) {
		top = im->sent[0].top;
		if ((r = read_answer(im, "UID STORE \\Seen", &resp)) != SRC_OK)
			return r;
		code = resp->rsp_resp_done->rsp_data.rsp_tagged->
		    rsp_cond_state->rsp_type;
		mailimap_response_free(resp);
		if (code != MAILIMAP_RESP_COND_STATE_OK)
			return imap_bad(im, "UID STORE \\Seen",
			    MAILIMAP_ERROR_UID_STORE);
		if (top > im->lastuid)
			im->lastuid = top;
	}
	return SRC_OK;
}

/* The answer to the UID FETCH of bodies at the head of what is in flight:
 * the list of its messages (owned), as mailimap_uid_fetch gives it. */
static int
read_fetch(struct imap *im, clist **out)
{
	struct mailimap_response *resp = NULL;
	int r, code;

	*out = NULL;
	im->pf_pending = 0;
	if ((r = read_answer(im, "UID FETCH (bodies)", &resp)) != SRC_OK)
		return r;
	if (im->s->imap_response_info != NULL) {
		*out = im->s->imap_response_info->rsp_fetch_list;
		im->s->imap_response_info->rsp_fetch_list = NULL;
	}
	code = *out != NULL && clist_count(*out) > 0 ?
	    MAILIMAP_RESP_COND_STATE_OK : resp->rsp_resp_done->rsp_data.
	    rsp_tagged->rsp_cond_state->rsp_type;
	mailimap_response_free(resp);
	if (code != MAILIMAP_RESP_COND_STATE_OK) {
		if (*out)
			mailimap_fetch_list_free(*out);
		*out = NULL;
		return imap_bad(im, "UID FETCH (bodies)",
		    MAILIMAP_ERROR_UID_FETCH);
	}
	return SRC_OK;
}

/* Everything in flight; a chunk sent ahead is read and dropped. */
static int
drain(struct imap *im)
{
	clist *l;
	int r;

	while (im->nsent > 0) {
		if ((r = settle(im)) != SRC_OK)
			return r;
		if (im->nsent > 0) {
			if ((r = read_fetch(im, &l)) != SRC_OK)
				return r;
			if (l)
				mailimap_fetch_list_free(l);
		}
	}
	return SRC_OK;
}

/* Sends "TAG VERB SET TAIL" without reading the answer. */
static int
send_cmd(struct imap *im, const char *what, const char *verb,
    const struct buf *set, const char *tail, int fetch, uint32_t top)
{
	mailstream *ms;
	int r;

	if (im->nsent == SENT_MAX && (r = drain(im)) != SRC_OK)
		return r;
	if ((r = mailimap_send_current_tag(im->s)) != MAILIMAP_NO_ERROR)
		return imap_bad(im, what, r);
	ms = im->s->imap_stream;
	if (mailstream_write(ms, verb, strlen(verb)) == -1 ||
	    mailstream_write(ms, set->s, set->len) == -1 ||
	    mailstream_write(ms, tail, strlen(tail)) == -1 ||
	    mailstream_flush(ms) == -1)
		return imap_bad(im, what, MAILIMAP_ERROR_STREAM);
	im->sent[im->nsent].tag = im->s->imap_tag;
	im->sent[im->nsent].fetch = fetch;
	im->sent[im->nsent].top = top;
	im->nsent++;
	return SRC_OK;
}

/* Appends UID to SET, a list of runs (a:b,c) in UID order. */
static void
set_add(struct buf *set, uint32_t *lo, uint32_t *hi, uint32_t uid)
{
	if (uid != 0 && *hi != 0 && uid == *hi + 1) {
		*hi = uid;
		return;
	}
	if (*hi != 0) {
		if (set->len > 0)
			buf_addc(set, ',');
		if (*lo == *hi)
			buf_addf(set, "%" PRIu32, *lo);
		else
			buf_addf(set, "%" PRIu32 ":%" PRIu32, *lo, *hi);
	}
	*lo = *hi = uid;
}

/*
 * Sends the UID FETCH of the bodies of the window's messages from index
 * FROM on that are not stored yet and not too big, up to source.batch
 * messages, CHUNK_BYTES bytes and STORE_SET_MAX bytes of UID set;
 * pf_pending tells whether there was one to send.
 */
static int
send_chunk(struct source *src, struct imap *im, size_t from)
{
	size_t max = (size_t)src->cfg->limits.max_bytes, n = 0, bytes = 0, i;
	size_t batch = src->cfg->source.batch > 0 ?
	    (size_t)src->cfg->source.batch : 1000;
	struct buf set;
	uint32_t lo = 0, hi = 0;
	char *key;
	int r = SRC_OK, known;

	buf_init(&set);
	for (i = from; i < im->nmeta && n < batch &&
	    set.len < STORE_SET_MAX; i++) {
		if (im->meta[i].size > max)
			continue;
		key = xstrfmt("%s%" PRIu32, im->keyprefix, im->meta[i].uid);
		known = store_source_known(src->store, key);
		free(key);
		if (known == -1) {
			buf_free(&set);
			return SRC_TEMP;
		}
		if (known)
			continue;
		if (n > 0 && bytes + im->meta[i].size > CHUNK_BYTES)
			break;
		set_add(&set, &lo, &hi, im->meta[i].uid);
		bytes += im->meta[i].size;
		n++;
	}
	if (n > 0) {
		set_add(&set, &lo, &hi, 0);     /* the last run */
		r = send_cmd(im, "UID FETCH (bodies)", "UID FETCH ", &set,
		    " (UID BODY.PEEK[])\r\n", 1, 0);
		if (r == SRC_OK) {
			im->pf_pending = 1;
			im->pf_from = from;
		}
	}
	buf_free(&set);
	return r;
}

/*
 * Reads the bodies of the window's messages from index FROM on (see
 * send_chunk): the chunk sent ahead when it begins there. Then, after:
 * seen or a dry run, sends the FETCH of the chunk after it, which the
 * server reads while this one is stored; its answer waits in the socket
 * until this one is used up, so memory holds one chunk.
 */
static int
read_chunk(struct source *src, struct imap *im, size_t from)
{
	clistiter *it, *j;
	uint32_t last = 0;
	size_t next;
	int r;

	free_chunk(im);
	/* not the chunk sent ahead (a message vanished): drop it */
	if (im->pf_pending && im->pf_from != from &&
	    (r = drain(im)) != SRC_OK)
		return r;
	if (!im->pf_pending) {
		if ((r = settle(im)) != SRC_OK ||
		    (r = send_chunk(src, im, from)) != SRC_OK)
			return r;
		if (!im->pf_pending)
			return SRC_OK;          /* nothing left to read */
	}
	if ((r = settle(im)) != SRC_OK ||
	    (r = read_fetch(im, &im->chunk)) != SRC_OK)
		return r;
	for (it = im->chunk ? clist_begin(im->chunk) : NULL; it;
	    it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		struct body b = { 0, NULL, 0 };
		for (j = clist_begin(ma->att_list); j; j = clist_next(j)) {
			struct mailimap_msg_att_item *item = clist_content(j);
			struct mailimap_msg_att_static *st;
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				b.uid = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			    st->att_data.att_body_section->sec_body_part) {
				b.p = st->att_data.att_body_section->
				    sec_body_part;
				b.len = st->att_data.att_body_section->
				    sec_length;
			}
		}
		if (b.uid == 0 || b.p == NULL)
			continue;
		if (im->nbodies == im->capbodies) {
			im->capbodies = im->capbodies ? im->capbodies * 2 : 64;
			im->bodies = xreallocarray(im->bodies, im->capbodies,
			    sizeof *im->bodies);
		}
		im->bodies[im->nbodies++] = b;
		if (b.uid > last)
			last = b.uid;
	}
	qsort(im->bodies, im->nbodies, sizeof *im->bodies, cmp_body);
	if (!im->pipeline || last == 0)
		return SRC_OK;
	for (next = from; next < im->nmeta && im->meta[next].uid <= last;
	    next++)
		;
	if (next < im->nmeta)
		return send_chunk(src, im, next);
	return SRC_OK;
}

static const struct body *
find_body(struct imap *im, uint32_t uid)
{
	struct body k = { uid, NULL, 0 };

	if (im->nbodies == 0)
		return NULL;
	return bsearch(&k, im->bodies, im->nbodies, sizeof k, cmp_body);
}

static int
imap_next(struct source *src, struct source_msg *msg)
{
	struct imap *im = src->priv;
	size_t max = (size_t)src->cfg->limits.max_bytes;
	const struct body *b;
	struct meta *mt;
	uint32_t *up;
	int r, known;

	memset(msg, 0, sizeof *msg);
	for (;;) {
		if (im->imeta >= im->nmeta) {
			free_chunk(im);
			if ((r = read_window(im)) != SRC_OK)
				return r;
		}
		mt = &im->meta[im->imeta];
		msg->key = xstrfmt("%s%" PRIu32, im->keyprefix, mt->uid);
		up = xmalloc(sizeof *up);
		*up = mt->uid;
		msg->priv = up;
		if (mt->size > max) {
			im->imeta++;
			log_warnx("source: %s: uid %" PRIu32 ": %" PRIu32
			    " bytes, over limits.max_bytes (%zu): left on the "
			    "server", im->where, mt->uid, mt->size, max);
			return SRC_MSG_BAD;
		}
		b = find_body(im, mt->uid);
		if (b == NULL) {
			known = store_source_known(src->store, msg->key);
			if (known == -1) {
				source_msg_clear(msg);
				return SRC_TEMP;
			}
			if (known) {
				im->imeta++;
				return SRC_OK;      /* raw NULL: only commit */
			}
			if ((r = read_chunk(src, im, im->imeta)) != SRC_OK) {
				source_msg_clear(msg);
				return r;
			}
			b = find_body(im, mt->uid);
		}
		im->imeta++;
		if (b == NULL) {
			/* expunged by someone else meanwhile */
			log_debug("source: %s: uid %" PRIu32 ": gone",
			    im->where, mt->uid);
			source_msg_clear(msg);
			continue;
		}
		msg->raw = xmalloc(b->len + 1);
		memcpy(msg->raw, b->p, b->len);
		msg->raw[b->len] = '\0';
		msg->len = b->len;
		return SRC_OK;
	}
}

static int
imap_commit(struct source *src, struct source_msg *msg)
{
	struct imap *im = src->priv;

	if (src->dry_run || msg->priv == NULL)
		return SRC_OK;
	if (im->npend == im->cappend) {
		im->cappend = im->cappend ? im->cappend * 2 : 256;
		im->pend = xreallocarray(im->pend, im->cappend,
		    sizeof *im->pend);
	}
	im->pend[im->npend++] = *(uint32_t *)msg->priv;
	return SRC_OK;
}

static int
store_flag(struct imap *im, struct mailimap_set *set,
    struct mailimap_flag *flag)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	int r;

	mailimap_flag_list_add(fl, flag);
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(im->s, set, sa);
	mailimap_store_att_flags_free(sa);
	return r;
}

/* \Deleted, then expunge just those (UIDPLUS) or every \Deleted one. */
static int
delete_set(struct imap *im, struct mailimap_set *set)
{
	int r;

	if ((r = store_flag(im, set, mailimap_flag_new_deleted())) !=
	    MAILIMAP_NO_ERROR)
		return imap_bad(im, "UID STORE \\Deleted", r);
	if (im->has_uidplus)
		r = mailimap_uid_expunge(im->s, set);
	else
		r = mailimap_expunge(im->s);
	if (r != MAILIMAP_NO_ERROR)
		return imap_bad(im, "EXPUNGE", r);
	return SRC_OK;
}

/*
 * after: seen. The queue, committed in UID order, as runs (a:b,c) in UID
 * STOREs of at most STORE_SET_MAX bytes of set, left in flight: settle()
 * reads their answers before the next command that needs one.
 */
static int
flush_seen(struct imap *im)
{
	struct buf set;
	uint32_t top = im->lastuid, lo = 0, hi = 0;
	int r = SRC_OK;

	buf_init(&set);
	for (size_t i = 0; i < im->npend && r == SRC_OK; i++) {
		set_add(&set, &lo, &hi, im->pend[i]);
		if (im->pend[i] > top)
			top = im->pend[i];
		if (set.len >= STORE_SET_MAX || i + 1 == im->npend) {
			set_add(&set, &lo, &hi, 0);
			r = send_cmd(im, "UID STORE \\Seen", "UID STORE ", &set,
			    " +FLAGS.SILENT (\\Seen)\r\n", 0, top);
			buf_reset(&set);
			lo = hi = 0;
		}
	}
	buf_free(&set);
	if (r == SRC_OK)
		im->npend = 0;
	return r;
}

/* Writes LASTUID when it moved; 0 or -1 (the store failed, logged). */
static int
write_state(struct source *src, struct imap *im)
{
	char *val;
	int r;

	if (im->lastuid == im->savedtop)
		return 0;
	val = xstrfmt("%" PRIu32 " %" PRIu32, im->uidvalidity, im->lastuid);
	r = store_kv_set(src->store, im->statekey, val);
	free(val);
	if (r == 0)
		im->savedtop = im->lastuid;
	return r;
}

/* Inside a group's store transaction: how far the server confirmed. A
 * rolled back group may leave it unwritten: the last flush writes it. */
static int
imap_save(struct source *src)
{
	struct imap *im = src->priv;

	if (src->dry_run)
		return 0;
	if (write_state(src, im) == -1)
		return -1;
	im->savedtop = 0;   /* not known to be committed yet */
	return 0;
}

/*
 * Sends the queued after-actions (UID STORE \Seen is left in flight);
 * with nothing queued, reads the answer in flight and records how far the
 * server got (the end of a fetch).
 */
static int
imap_flush(struct source *src)
{
	struct imap *im = src->priv;
	struct mailimap_set *set;
	uint32_t top = im->lastuid;
	int r = SRC_OK;

	if (src->dry_run)
		return SRC_OK;
	if ((r = im->npend == 0 ? drain(im) : settle(im)) != SRC_OK)
		return r;
	if (im->npend == 0) {
		r = store_begin(src->store) == -1 ? -1 :
		    write_state(src, im);
		if (r == 0)
			r = store_commit(src->store);
		else
			store_rollback(src->store);
		return r == -1 ? SRC_TEMP : SRC_OK;
	}
	if (im->folder == NULL && strcmp(src->cfg->source.after, "delete") !=
	    0)
		return flush_seen(im);
	/* delete, move: one command a group, answer awaited */
	set = mailimap_set_new_empty();
	for (size_t i = 0, j; i < im->npend; i = j) {
		for (j = i + 1; j < im->npend &&
		    im->pend[j] == im->pend[j - 1] + 1; j++)
			;
		if (j - i == 1)
			mailimap_set_add_single(set, im->pend[i]);
		else
			mailimap_set_add_interval(set, im->pend[i],
			    im->pend[j - 1]);
		if (im->pend[j - 1] > top)
			top = im->pend[j - 1];
	}
	if (im->folder == NULL)
		r = delete_set(im, set);
	else if (im->has_move) {
		r = mailimap_uid_move(im->s, set, im->folder);
		if (r != MAILIMAP_NO_ERROR)
			r = imap_bad(im, "UID MOVE", r);
	} else {
		r = mailimap_uid_copy(im->s, set, im->folder);
		if (r != MAILIMAP_NO_ERROR)
			r = imap_bad(im, "UID COPY", r);
		else
			r = delete_set(im, set);
	}
	mailimap_set_free(set);
	if (r != SRC_OK)
		return r;
	im->npend = 0;
	im->lastuid = top;
	return SRC_OK;
}

static void
imap_close(struct source *src)
{
	struct imap *im = src->priv;

	if (im == NULL)
		return;
	free_chunk(im);
	if (im->s) {
		if (!im->broken)
			(void)drain(im);
		if (!im->broken &&
		    im->s->imap_state != MAILIMAP_STATE_DISCONNECTED)
			(void)mailimap_logout(im->s);
		mailimap_free(im->s);
	}
	free(im->host);
	free(im->user);
	free(im->mailbox);
	free(im->folder);
	free(im->where);
	free(im->statekey);
	free(im->keyprefix);
	free(im->meta);
	free(im->bodies);
	free(im->pend);
	free(im);
	src->priv = NULL;
}

/*
 * watch: a connection that only waits. It EXAMINEs the mailbox (read-only:
 * nothing it does changes a flag) and IDLEs; the fetch of batch runs on a
 * connection of its own, so this one never reads a message. An arrival is
 * an untagged EXISTS (RFC 3501 7.3.1: sent when the mailbox grows); flag
 * changes, EXPUNGEs and Dovecot's "OK Still here" are not. The wait sleeps
 * in poll(2) for at most a second at a time, so a SIGTERM ends it at once.
 */
#define NOOP_SECONDS	5     /* a server without IDLE: how often to ask */

struct imap_waiter {
	struct source src;
	struct imap *im;
	int idle;
};

int
imap_wait_open(const struct config *cfg, struct imap_waiter **out)
{
	struct imap_waiter *w = xcalloc(1, sizeof *w);
	int r;

	*out = w;
	w->src.ops = &source_imap_ops;
	w->src.cfg = cfg;
	w->src.dry_run = 1;
	w->im = xcalloc(1, sizeof *w->im);
	w->src.priv = w->im;
	if ((r = imap_names(cfg, w->im)) != SRC_OK)
		return r;
	if ((r = imap_connect(&w->src, w->im)) != SRC_OK)
		return r;
	if ((r = mailimap_examine(w->im->s, w->im->mailbox)) !=
	    MAILIMAP_NO_ERROR)
		return imap_bad(w->im, "EXAMINE", r);
	w->idle = mailimap_has_idle(w->im->s);
	log_debug("source: %s: waiting with %s", w->im->where,
	    w->idle ? "IDLE" : "NOOP");
	return SRC_OK;
}

int
imap_wait_idles(const struct imap_waiter *w)
{
	return w->idle;
}

/* Data the library read already and holds in its buffer. */
static int
buffered(mailimap *s)
{
	return s->imap_stream != NULL && s->imap_stream->read_buffer_len > 0;
}

int
imap_wait(struct imap_waiter *w, long seconds)
{
	struct imap *im = w->im;
	struct mailimap_selection_info *si = im->s->imap_selection_info;
	time_t end = time(NULL) + seconds, now;
	struct pollfd pfd;
	int r, fd, n;

	while (!stop_requested() && (now = time(NULL)) < end) {
		if (si == NULL) {
			im->broken = 1;
			return SRC_TEMP;
		}
		si->sel_has_exists = 0;
		if (!w->idle) {
			for (n = 0; n < NOOP_SECONDS && now + n < end &&
			    !stop_requested(); n++)
				(void)poll(NULL, 0, 1000);
			if (stop_requested())
				break;
			if ((r = mailimap_noop(im->s)) != MAILIMAP_NO_ERROR)
				return imap_bad(im, "NOOP", r);
		} else {
			if ((r = mailimap_idle(im->s)) != MAILIMAP_NO_ERROR)
				return imap_bad(im, "IDLE", r);
			fd = mailimap_idle_get_fd(im->s);
			while (!buffered(im->s) && !stop_requested() &&
			    time(NULL) < end) {
				pfd.fd = fd;
				pfd.events = POLLIN;
				pfd.revents = 0;
				n = poll(&pfd, 1, 1000);
				if (n > 0)
					break;
				if (n == -1 && errno != EINTR) {
					log_warn("source: %s: poll", im->where);
					im->broken = 1;
					return SRC_TEMP;
				}
			}
			/* reads what came, up to the tagged OK of IDLE */
			if ((r = mailimap_idle_done(im->s)) != MAILIMAP_NO_ERROR)
				return imap_bad(im, "IDLE (DONE)", r);
		}
		si = im->s->imap_selection_info;
		if (si != NULL && si->sel_has_exists)
			return SRC_OK;
	}
	return SRC_EOF;
}

void
imap_wait_close(struct imap_waiter *w)
{
	if (w == NULL)
		return;
	imap_close(&w->src);
	free(w);
}
