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
 * For after: seen a group's UID STORE ... +FLAGS.SILENT (\Seen) is sent
 * right after its COMMIT without waiting: the server renames while tfadesk
 * stores the next group, and settle() reads its answer before any other
 * command. Never more than one command in flight: Dovecot runs pipelined
 * commands in parallel and answers them in the order they end, so a UID
 * FETCH sent behind a STORE can deliver its messages before the STORE's
 * answer (tried: reading the STORE's answer swallowed a fetched message).
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
#define STORE_SET_MAX	4000u   /* bytes of UID set in one UID STORE */

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
	int inflight;       /* a UID STORE sent, its answer not read yet */
	uint32_t inflight_top;   /* its highest UID */
	uint32_t savedtop;  /* LASTUID as written in the store */
};

static int imap_open(struct source *);
static int imap_next(struct source *, struct source_msg *);
static int imap_commit(struct source *, struct source_msg *);
static int imap_flush(struct source *);
static void imap_close(struct source *);
static int imap_save(struct source *);
static int imap_names(const struct config *, struct imap *);
static int settle(struct imap *);

const struct source_ops source_imap_ops = {
	"imap", SOURCE_IMAP, imap_open, imap_next, imap_commit, imap_flush, imap_close,
	imap_save
};

/* One place that turns a failed libetpan call into a graded result. */
static int
imap_bad(struct imap *im, const char *what, int r)
{
	enum source_fault f;

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		f = FAULT_CONNECTION;
		break;
	case MAILIMAP_ERROR_SSL:
		f = FAULT_TLS;
		break;
	case MAILIMAP_ERROR_LOGIN:
		f = FAULT_LOGIN;
		break;
	case MAILIMAP_ERROR_STARTTLS:
		f = FAULT_STARTTLS;
		what = "STARTTLS";
		break;
	case MAILIMAP_ERROR_PARSE:
		f = FAULT_UNREADABLE;
		break;
	default:
		f = FAULT_OTHER;
		break;
	}
	return source_fault(f, im->where, what, r, im->s ?
	    im->s->imap_response : NULL, &im->tls, im->timeout, &im->broken);
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
	enum source_tls tls = cfg->source.tls;
	uint16_t port = (uint16_t)(cfg->source.port ? cfg->source.port :
	    tls == TLS_IMPLICIT ? 993 : 143);
	char *pass = NULL;
	int r;

	if (tls == TLS_NONE && !is_loopback_host(im->host)) {
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
	if (tls == TLS_IMPLICIT) {
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
	if (tls == TLS_STARTTLS) {
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
	if (tls != TLS_NONE &&
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
	struct mailimap_selection_info *si;
	char *state = NULL, *val;
	unsigned long uv, last;
	int r;

	src->priv = im;
	if ((r = imap_names(cfg, im)) != SRC_OK)
		return r;
	if (cfg->source.after == AFTER_MOVE)
		im->folder = xstrdup(cfg->source.after_folder);
	im->statekey = xstrfmt("imap:%s@%s:%ld/%s", im->user, im->host,
	    cfg->source.port, im->mailbox);

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
	if ((r = settle(im)) != SRC_OK)
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
 * Fetches the bodies of the window's messages from index FROM on that are
 * not stored yet and not too big, up to source.batch messages and
 * CHUNK_BYTES, in one UID FETCH.
 */
static int
read_chunk(struct source *src, struct imap *im, size_t from)
{
	size_t max = (size_t)src->cfg->limits.max_bytes, n = 0, bytes = 0;
	size_t batch = src->cfg->source.batch > 0 ?
	    (size_t)src->cfg->source.batch : 1000;
	struct mailimap_set *set = mailimap_set_new_empty();
	struct mailimap_fetch_type *ft;
	clistiter *it, *j;
	char *key;
	int r, known;

	free_chunk(im);
	for (size_t i = from; i < im->nmeta && n < batch; i++) {
		if (im->meta[i].size > max)
			continue;
		key = xstrfmt("%s%" PRIu32, im->keyprefix, im->meta[i].uid);
		known = store_source_known(src->store, key);
		free(key);
		if (known == -1) {
			mailimap_set_free(set);
			return SRC_TEMP;
		}
		if (known)
			continue;
		if (n > 0 && bytes + im->meta[i].size > CHUNK_BYTES)
			break;
		mailimap_set_add_single(set, im->meta[i].uid);
		bytes += im->meta[i].size;
		n++;
	}
	if (n == 0) {
		mailimap_set_free(set);
		return SRC_OK;
	}
	if ((r = settle(im)) != SRC_OK) {
		mailimap_set_free(set);
		return r;
	}
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	r = mailimap_uid_fetch(im->s, set, ft, &im->chunk);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		im->chunk = NULL;
		return imap_bad(im, "UID FETCH (bodies)", r);
	}
	for (it = clist_begin(im->chunk); it; it = clist_next(it)) {
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
	}
	qsort(im->bodies, im->nbodies, sizeof *im->bodies, cmp_body);
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
 * Reads the answer to the UID STORE in flight, if any: its messages are
 * flagged, and LASTUID moves up to its top (written by imap_save inside
 * the next group's transaction, or by the last flush).
 */
static int
settle(struct imap *im)
{
	struct mailimap_response *resp = NULL;
	int r, code;

	if (!im->inflight)
		return SRC_OK;
	im->inflight = 0;
	if (mailimap_read_line(im->s) == NULL)
		return imap_bad(im, "UID STORE \\Seen", MAILIMAP_ERROR_STREAM);
	if ((r = mailimap_parse_response(im->s, &resp)) != MAILIMAP_NO_ERROR)
		return imap_bad(im, "UID STORE \\Seen", r);
	code = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->
	    rsp_type;
	mailimap_response_free(resp);
	if (code != MAILIMAP_RESP_COND_STATE_OK)
		return imap_bad(im, "UID STORE \\Seen", MAILIMAP_ERROR_UID_STORE);
	if (im->inflight_top > im->lastuid)
		im->lastuid = im->inflight_top;
	return SRC_OK;
}

/* Sends "TAG UID STORE SET +FLAGS.SILENT (\Seen)" without reading the
 * answer: settle() reads it before the next command. */
static int
send_seen(struct imap *im, const struct buf *set, uint32_t top)
{
	int r;

	if ((r = mailimap_send_current_tag(im->s)) != MAILIMAP_NO_ERROR)
		return imap_bad(im, "UID STORE \\Seen", r);
	if (mailstream_write(im->s->imap_stream, "UID STORE ", 10) == -1 ||
	    mailstream_write(im->s->imap_stream, set->s, set->len) == -1 ||
	    mailstream_write(im->s->imap_stream,
	    " +FLAGS.SILENT (\\Seen)\r\n", 24) == -1 ||
	    mailstream_flush(im->s->imap_stream) == -1)
		return imap_bad(im, "UID STORE \\Seen", MAILIMAP_ERROR_STREAM);
	im->inflight = 1;
	im->inflight_top = top;
	return SRC_OK;
}

/*
 * after: seen. The queue, committed in UID order, as runs (a:b,c) in UID
 * STOREs of at most STORE_SET_MAX bytes of set; the last one is left in
 * flight (a longer queue waits for the ones before it).
 */
static int
flush_seen(struct imap *im)
{
	struct buf set;
	uint32_t top = im->lastuid;
	int r = SRC_OK;

	buf_init(&set);
	for (size_t i = 0, j; i < im->npend && r == SRC_OK; i = j) {
		for (j = i + 1; j < im->npend &&
		    im->pend[j] == im->pend[j - 1] + 1; j++)
			;
		if (set.len > 0)
			buf_addc(&set, ',');
		if (j - i == 1)
			buf_addf(&set, "%" PRIu32, im->pend[i]);
		else
			buf_addf(&set, "%" PRIu32 ":%" PRIu32, im->pend[i],
			    im->pend[j - 1]);
		if (im->pend[j - 1] > top)
			top = im->pend[j - 1];
		if (set.len >= STORE_SET_MAX || j == im->npend) {
			if ((r = send_seen(im, &set, top)) == SRC_OK &&
			    j < im->npend)
				r = settle(im);
			buf_reset(&set);
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
	if ((r = settle(im)) != SRC_OK)
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
	if (im->folder == NULL && src->cfg->source.after != AFTER_DELETE)
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
			(void)settle(im);
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
