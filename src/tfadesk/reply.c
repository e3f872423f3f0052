/*
 * reply.c - renders templates/ into replies (rfc5322.c writes the
 * message) and queues them in the outbox, inside the caller's transaction
 * (the same one as the change the reply reports).
 *
 * What a reply can never carry, whatever the incoming mail held:
 *  - a header line it did not mean to write: template headers are rendered
 *    one line at a time, every value has CR, LF and other controls turned
 *    into spaces, and non-ASCII text goes out as RFC 2047 encoded words;
 *  - template syntax from a value (tmpl.c never re-reads a value);
 *  - a phone number in full: every value given to the template has its
 *    digit runs masked first (mask_numbers), the original subject included;
 *  - a recipient the loop rules refuse (RFC 3834): reply_queue returns 1.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "tmpl.h"
#include "mail.h"
#include "mime.h"
#include "reply-int.h"
#include "rfc5322.h"
#include "addr.h"
#include "utf8.h"

#define TMPL_FILE_MAX   (256u << 10)

static const char *const hdr_allowed[] = {
	"Subject", "Comments", "Keywords", "Organization", NULL
};

static int addr_parse(const char *, char **addr, char **name);
static char *mask_value(const char *, const char *, void *);
static char *re_subject(const char *);
static int split_template(const char *, char ***hdrs, size_t *nh,
    const char **body);

void
reply_out_clear(struct reply_out *r)
{
	free(r->message);
	free(r->msgid);
	free(r->mail_from);
	free(r->rcpt);
	memset(r, 0, sizeof *r);
}


char *
mask_numbers(const char *s)
{
	struct buf b, d;
	const char *p = s, *q, *end;
	size_t ndig;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p) {
		int plus = *p == '+' && isdigit((unsigned char)p[1]);

		if (!isdigit((unsigned char)*p) && !plus) {
			buf_addc(&b, *p++);
			continue;
		}
		/* the longest run of digits with short separators */
		buf_init(&d);
		buf_add(&d, "", 0);
		q = plus ? p + 1 : p;
		end = q;
		ndig = 0;
		while (*q) {
			if (isdigit((unsigned char)*q)) {
				buf_addc(&d, *q++);
				ndig++;
				end = q;
				continue;
			}
			size_t sep = strspn(q, " -.()/");
			if (sep == 0 || sep > 2 || !isdigit((unsigned char)q[sep]))
				break;
			q += sep;
		}
		if (ndig >= 7) {
			char *m = mask_phone(d.s);
			if (plus)
				buf_addc(&b, '+');
			buf_adds(&b, m);
			free(m);
		} else
			buf_add(&b, p, (size_t)(end - p));
		buf_free(&d);
		p = end;
	}
	return buf_steal(&b);
}

static char *
mask_value(const char *name, const char *value, void *arg)
{
	(void)arg;
	if (strcmp(name, "ticket_id") == 0)
		return xstrdup(value);
	return mask_numbers(value);
}

/* "Re: " and the subject without its own Re: prefixes. */
static char *
re_subject(const char *subj)
{
	const char *s = subj ? subj : "";

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if ((strncasecmp(s, "re:", 3) == 0) ||
		    (strncasecmp(s, "aw:", 3) == 0))
			s += 3;
		else
			break;
	}
	if (*s == '\0')
		return xstrdup("Re: your e-mail to SIP Trunk Plus Support");
	return xstrfmt("Re: %s", s);
}

/* ADDR and display NAME of "Name <a@b>" or "a@b" (addr_parse_ours), an
 * address we can write into a header and an envelope (ADDR_ASCII). */
static int
addr_parse(const char *s, char **addr, char **name)
{
	const struct addr *a = addr_parse_ours(s);

	*addr = *name = NULL;
	if (a == NULL || !addr_valid(a->spec, ADDR_ASCII, NULL))
		return -1;
	*addr = xstrdup(a->spec);
	*name = a->name ? xstrdup(a->name) : NULL;
	return 0;
}

/*
 * 0: may be answered; 1: a role the loop rules refuse; 2: not an address
 * we can write into a header or an SMTP envelope.
 */
int
reply_addr_refused(const char *addr, const char *our, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (!addr_valid(addr, ADDR_ASCII, why))
		return 2;
	if (addr_role(addr, why) != ADDR_PERSON)
		return 1;
	if (our) {
		char *oa, *on;
		int same = 0;

		if (addr_parse(our, &oa, &on) == 0) {
			same = addr_same(oa, addr);
			free(oa);
			free(on);
		}
		if (same) {
			*why = "our own address";
			return 1;
		}
	}
	return 0;
}


static int
is_header_line(const char *l, size_t n)
{
	size_t i = 0;

	if (n == 0 || !isalpha((unsigned char)l[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)l[i]) || l[i] == '-'))
		i++;
	return i < n && l[i] == ':';
}

static int
is_comment_line(const char *l, size_t n)
{
	while (n > 0 && (*l == ' ' || *l == '\t'))
		l++, n--;
	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' ||
	    l[n - 1] == '\r'))
		n--;
	return n >= 5 && strncmp(l, "{{!", 3) == 0 &&
	    strncmp(l + n - 2, "}}", 2) == 0;
}

/*
 * Header lines (continuations joined, owned) and where the body starts.
 * Leading comment lines are skipped; without a header first, it is all body.
 */
static int
split_template(const char *src, char ***hdrs, size_t *nh, const char **body)
{
	const char *p = src, *start;
	size_t n;

	*hdrs = NULL;
	*nh = 0;
	for (;;) {
		n = strcspn(p, "\n");
		if (!is_comment_line(p, n))
			break;
		p += n + (p[n] == '\n');
	}
	start = p;
	n = strcspn(p, "\n");
	if (!is_header_line(p, n)) {
		*body = start;
		return 0;
	}
	for (;;) {
		n = strcspn(p, "\n");
		size_t m = n;
		if (m > 0 && p[m - 1] == '\r')
			m--;
		if (m == 0) {
			p += n + (p[n] == '\n');
			break;
		}
		if ((*p == ' ' || *p == '\t') && *nh > 0) {
			char *j = xstrfmt("%s %.*s", (*hdrs)[*nh - 1], (int)m,
			    p);
			free((*hdrs)[*nh - 1]);
			(*hdrs)[*nh - 1] = j;
		} else if (is_header_line(p, m)) {
			*hdrs = xreallocarray(*hdrs, *nh + 1, sizeof **hdrs);
			(*hdrs)[(*nh)++] = xstrndup(p, m);
		} else
			return -1;
		if (p[n] == '\0') {
			p += n;
			break;
		}
		p += n + 1;
	}
	*body = p;
	return 0;
}

/*
 * Templates read by this process, each with the identity of the file it
 * was read from (device, inode, size, modification time). A reply costs
 * one stat() a name tried instead of open, read, read, close: on this
 * kind of machine a system call costs more than rendering the reply. An
 * edited or replaced file has another identity and is read again, so a
 * long-lived process (the desk) sees edits at once, as before. Within a
 * hold (reply_hold: process, a group of tickets) a path looked up in this
 * hold, found or not (a name is tried before NAME.txt), is not looked up
 * again: every reply of one transaction uses one version of a template.
 */
#define TCACHE_N	32

/* A reply template as read and checked once: its header lines' names and
 * their values' templates, and the body's template. */
struct rtmpl {
	char		**hname;
	struct tmpl	**hval;
	size_t		  nh;
	struct tmpl	 *body;
};

static struct tcache {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
	char		*src;
	size_t		 len;
	struct rtmpl	*rt;    /* compiled from src, once it checked out */
	unsigned	 held;  /* looked up in this hold (hold_gen) */
	int		 missing;       /* ... and not there (ENOENT) */
} tcache[TCACHE_N];
static size_t ntcache;
static unsigned hold_gen, hold_next;    /* 0: no hold */

void
reply_hold(int on)
{
	if (on) {
		if (++hold_next == 0)
			hold_next = 1;
		hold_gen = hold_next;
	} else
		hold_gen = 0;
}

static void rtmpl_free(struct rtmpl *);

/* PATH's slot, or NULL. */
static struct tcache *
tcache_find(const char *path)
{
	for (size_t i = 0; i < ntcache; i++)
		if (strcmp(tcache[i].path, path) == 0)
			return &tcache[i];
	return NULL;
}

/* C (PATH's slot, from tcache_find), else a new one for PATH (the last
 * reused when all are taken); emptied either way. */
static struct tcache *
tcache_slot(struct tcache *c, const char *path)
{
	if (c == NULL) {
		c = &tcache[ntcache == TCACHE_N ? TCACHE_N - 1 : ntcache++];
		free(c->path);
		c->path = xstrdup(path);
	}
	free(c->src);
	rtmpl_free(c->rt);
	c->src = NULL;
	c->len = 0;
	c->rt = NULL;
	c->held = 0;
	c->missing = 0;
	return c;
}

static void
rtmpl_free(struct rtmpl *rt)
{
	if (rt == NULL)
		return;
	for (size_t i = 0; i < rt->nh; i++) {
		free(rt->hname[i]);
		tmpl_free(rt->hval[i]);
	}
	free(rt->hname);
	free(rt->hval);
	tmpl_free(rt->body);
	free(rt);
}

/* C (found by its path) still holds the file SB describes. */
static int
tcache_same(const struct tcache *c, const struct stat *sb)
{
	return c->dev == sb->st_dev &&
	    c->ino == sb->st_ino && c->size == sb->st_size &&
	    c->mtim.tv_sec == sb->st_mtim.tv_sec &&
	    c->mtim.tv_nsec == sb->st_mtim.tv_nsec;
}

/* PATH through the cache: its slot (NULL with errno set, ENOENT: no such
 * file). Something that is not a regular file is read into TMP, not
 * kept. */
static struct tcache *
tcache_get(const char *path, struct tcache *tmp)
{
	struct stat sb;
	struct tcache *c = tcache_find(path);
	char *src;
	size_t len;

	if (c && hold_gen && c->held == hold_gen) {
		if (!c->missing)
			return c;
		errno = ENOENT;
		return NULL;
	}
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && hold_gen) {
			int e = errno;

			c = tcache_slot(c, path);
			c->missing = 1;
			c->held = hold_gen;
			errno = e;
		}
		return NULL;
	}
	if (c && !c->missing && tcache_same(c, &sb)) {
		c->held = hold_gen;
		return c;
	}
	/* read after the stat: what is read is at least as new as the
	 * identity kept, and a later change shows as another identity */
	if (read_file(path, TMPL_FILE_MAX, &src, &len) == -1)
		return NULL;
	if (!S_ISREG(sb.st_mode)) {
		memset(tmp, 0, sizeof *tmp);
		tmp->src = src;
		tmp->len = len;
		return tmp;
	}
	c = tcache_slot(c, path);       /* changed or new: emptied */
	c->src = src;
	c->len = len;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	c->size = sb.st_size;
	c->mtim = sb.st_mtim;
	c->held = hold_gen;
	return c;
}

/*
 * SRC (from PATH) checked and compiled: the whole file once, for syntax
 * errors with their true line numbers; then the header block (only the
 * headers a template may set, each line a template of its own, so that no
 * value can continue it onto a new line) and the body. NULL: logged.
 */
static struct rtmpl *
rtmpl_compile(const char *src, size_t len, const char *path)
{
	struct rtmpl *rt = xcalloc(1, sizeof *rt);
	struct tmpl *whole;
	const char *bodysrc;
	char **hdrs = NULL, *err = NULL;
	size_t nh = 0, i, k;

	if (memchr(src, '\0', len) != NULL) {
		log_warnx("reply: template %s: contains a NUL byte", path);
		goto fail;
	}
	if ((whole = tmpl_compile(src, &err)) == NULL) {
		log_warnx("reply: template %s: %s", path, err);
		goto fail;
	}
	tmpl_free(whole);
	if (split_template(src, &hdrs, &nh, &bodysrc) == -1) {
		log_warnx("reply: template %s: header block: a line is not "
		    "\"Name: value\"", path);
		goto fail;
	}
	if ((rt->body = tmpl_compile(bodysrc, &err)) == NULL) {
		log_warnx("reply: template %s: %s", path, err);
		goto fail;
	}
	rt->hname = xcalloc(nh + 1, sizeof *rt->hname);
	rt->hval = xcalloc(nh + 1, sizeof *rt->hval);
	for (i = 0; i < nh; i++) {
		char *colon = strchr(hdrs[i], ':');

		*colon = '\0';
		for (k = 0; hdr_allowed[k]; k++)
			if (strcasecmp(hdrs[i], hdr_allowed[k]) == 0)
				break;
		if (hdr_allowed[k] == NULL &&
		    strncasecmp(hdrs[i], "X-", 2) != 0) {
			log_warnx("reply: template %s: header \"%s\" may not "
			    "be set by a template", path, hdrs[i]);
			goto fail;
		}
		if ((rt->hval[rt->nh] = tmpl_compile(colon + 1, &err)) ==
		    NULL) {
			log_warnx("reply: template %s: header %s: %s", path,
			    hdrs[i], err);
			goto fail;
		}
		rt->hname[rt->nh++] = xstrdup(hdrs[i]);
	}
	for (i = 0; i < nh; i++)
		free(hdrs[i]);
	free(hdrs);
	return rt;
fail:
	free(err);
	for (i = 0; i < nh; i++)
		free(hdrs[i]);
	free(hdrs);
	rtmpl_free(rt);
	return NULL;
}

/* Template NAME of DIR (or NAME.txt), compiled: the cache's (*OWNED 0) or
 * the caller's to free (*OWNED 1). *PATH: the file tried last (owned).
 * NULL: logged. */
static struct rtmpl *
read_template(const char *dir, const char *name, char **path, int *owned)
{
	struct tcache tmp, *c;
	struct rtmpl *rt;

	*path = NULL;
	*owned = 0;
	if (name == NULL || *name == '\0' || name[0] == '.' ||
	    strchr(name, '/'))
		return NULL;
	*path = path_join(dir ? dir : ".", name);
	if ((c = tcache_get(*path, &tmp)) == NULL &&
	    strchr(name, '.') == NULL) {
		free(*path);
		*path = xstrfmt("%s/%s.txt", dir ? dir : ".", name);
		c = tcache_get(*path, &tmp);
	}
	if (c == NULL) {
		log_warn("reply: template %s", *path);
		return NULL;
	}
	if (c->rt)
		return c->rt;
	rt = rtmpl_compile(c->src, c->len, *path);
	if (c == &tmp) {
		free(tmp.src);
		*owned = 1;
		return rt;
	}
	return c->rt = rt;
}

int
reply_build(const struct config *cfg, const struct msg *orig,
    int64_t ticket_id, const char *tname, struct tv *vars,
    struct reply_out *out, const char **why)
{
	struct buf b;
	char *path = NULL, *body = NULL;
	char *our = NULL, *our_name = NULL, *subject = NULL, *err = NULL;
	char **hnames = NULL, **hvalues = NULL;
	const char *rcpt, *dummy, *rname = NULL;
	size_t nv = 0, i;
	int rc = -1, r, owned = 0;
	struct tv *own = NULL;
	struct rtmpl *rt = NULL;
	struct rfc5322_msg m;

	memset(out, 0, sizeof *out);
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (orig == NULL) {
		log_warnx("reply: ticket %lld: no original message",
		    (long long)ticket_id);
		return -1;
	}
	if (vars == NULL)
		vars = own = tv_new();
	if (vars == NULL)
		fatalx("reply: out of memory");
	if (addr_parse(cfg->reply.from, &our, &our_name) == -1) {
		log_warnx("reply: reply.from \"%s\" is not an address",
		    cfg->reply.from);
		goto out;
	}

	/* The recipient: Reply-To when present, else From. */
	if (orig->reply_to_addr && *orig->reply_to_addr)
		rcpt = orig->reply_to_addr;
	else {
		rcpt = orig->from_addr;
		rname = orig->from_name;
	}
	if ((r = reply_addr_refused(rcpt, cfg->reply.from, why)) != 0 ||
	    msg_is_automatic(orig, cfg->reply.from, why)) {
		log_info("reply: ticket %lld: no reply to %s: %s",
		    (long long)ticket_id, rcpt ? rcpt : "(none)", *why);
		rc = 1;
		goto out;
	}

	/* Standard variables, then every value masked. */
	if (tv_get(vars, "subject") == NULL)
		tv_set(vars, "subject", orig->subject ? orig->subject : "");
	subject = re_subject(tv_get(vars, "subject"));
	tv_set(vars, "re_subject", subject);
	free(subject);
	subject = NULL;
	tv_setf(vars, "ticket_id", "%lld", (long long)ticket_id);
	tv_set(vars, "to", rcpt);
	tv_set(vars, "from", our);
	if (tv_map(vars, mask_value, NULL) == -1)
		fatalx("reply: out of memory");

	if ((rt = read_template(cfg->templates, tname, &path, &owned)) ==
	    NULL)
		goto out;
	if ((body = tmpl_run(rt->body, vars, &err)) == NULL) {
		log_warnx("reply: template %s: %s", path, err);
		goto out;
	}
	hnames = xcalloc(rt->nh + 1, sizeof *hnames);
	hvalues = xcalloc(rt->nh + 1, sizeof *hvalues);
	for (i = 0; i < rt->nh; i++) {
		char *val;

		if ((val = tmpl_run(rt->hval[i], vars, &err)) == NULL) {
			log_warnx("reply: template %s: header %s: %s", path,
			    rt->hname[i], err);
			goto out;
		}
		if (strcasecmp(rt->hname[i], "Subject") == 0) {
			free(subject);
			subject = val;
		} else {
			hnames[nv] = rt->hname[i];
			hvalues[nv++] = val;
		}
	}
	if (subject == NULL || *str_trim(subject) == '\0') {
		free(subject);
		subject = xstrdup(tv_get(vars, "re_subject"));
	}

	out->msgid = rfc5322_msgid(ticket_id, strrchr(our, '@') + 1);
	memset(&m, 0, sizeof m);
	m.from_name = our_name;
	m.from_addr = our;
	m.to_name = rname;
	m.to_addr = rcpt;
	m.hnames = hnames;
	m.hvalues = hvalues;
	m.nh = nv;
	m.subject = subject;
	m.msgid = out->msgid;
	m.orig = orig;
	m.ticket_id = ticket_id;
	m.body = body;
	buf_init(&b);
	rfc5322_write(&b, &m);
	out->len = b.len;
	out->message = buf_steal(&b);
	out->mail_from = xstrdup(our);
	out->rcpt = xstrdup(rcpt);
	rc = 0;
out:
	if (rc == -1)
		reply_out_clear(out);
	for (i = 0; i < nv; i++)
		free(hvalues[i]);
	free(hvalues);
	free(hnames);
	if (owned)
		rtmpl_free(rt);
	free(path);
	free(body);
	free(err);
	free(our);
	free(our_name);
	free(subject);
	tv_free(own);
	return rc;
}

int
reply_queue(const struct config *cfg, struct store *s, const struct msg *orig,
    int64_t ticket_id, const char *template_name, struct tv *vars)
{
	struct reply_out r;
	struct outbox_row row;
	int64_t id;
	int rc;

	if ((rc = reply_build(cfg, orig, ticket_id, template_name, vars, &r,
	    NULL)) != 0)
		return rc;
	memset(&row, 0, sizeof row);
	row.ticket_id = ticket_id;
	row.msgid = r.msgid;
	row.mail_from = r.mail_from;
	row.rcpt = r.rcpt;
	row.message = r.message;
	row.message_len = r.len;
	row.state = OUTBOX_QUEUED;
	row.next_try = now_time();
	rc = store_outbox_add(s, &row, &id);
	if (rc == 0)
		log_info("reply: ticket %lld: %s queued to %s (outbox %lld)",
		    (long long)ticket_id, template_name, r.rcpt,
		    (long long)id);
	reply_out_clear(&r);
	return rc == 0 ? 0 : -1;
}

