/*
 * reply.c - renders templates/ into complete RFC 5322 replies and queues
 * them in the outbox, inside the caller's transaction (the same one as the
 * change the reply reports).
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
#include <ctype.h>
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
#include "addr.h"
#include "utf8.h"

#define HDR_WIDTH       78      /* fold before this column */
#define EW_WIDTH        75      /* longest encoded word */
#define HDR_VALUE_MAX   512     /* bytes of one unstructured value */
#define REFS_MAX        20      /* message ids kept in References */
#define MSGID_MAX       250
#define TMPL_FILE_MAX   (256u << 10)

static const char *const hdr_allowed[] = {
	"Subject", "Comments", "Keywords", "Organization", NULL
};

static char *clean_utf8(const char *, int keep_newlines);
static int addr_parse(const char *, char **addr, char **name);
static int msgid_ok(const char *, size_t);
static void hdr_address(struct buf *, const char *, const char *,
    const char *);
static void hdr_msgids(struct buf *, const char *, const struct msg *);
static void rfc5322_date(char *, size_t, time_t);
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

/*
 * Valid UTF-8 (bad bytes become U+FFFD), no NUL, no C0/C1 control but TAB
 * (and LF when KEEP_NEWLINES; CRLF and lone CR become LF); otherwise every
 * control is a space.
 */
static char *
clean_utf8(const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), l;
	struct buf b;
	uint32_t cp;
	int bad;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p) {
		if (*p == '\r' && keep_newlines) {
			buf_addc(&b, '\n');
			p += p[1] == '\n' ? 2 : 1;
			continue;
		}
		if (*p == '\n' && keep_newlines) {
			buf_addc(&b, '\n');
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			buf_addc(&b, *p == '\t' && keep_newlines ? '\t' : ' ');
			p++;
			continue;
		}
		l = utf8_decode_clean((const char *)p,
		    n - (size_t)(p - (const unsigned char *)s), &cp, &bad);
		if (bad) {
			buf_adds(&b, UTF8_REPLACEMENT_STR);
			p++;
			continue;
		}
		if (utf8_is_control(cp)) {
			buf_addc(&b, ' ');    /* C1 control */
			p += 2;
			continue;
		}
		buf_add(&b, p, l);
		p += l;
	}
	return buf_steal(&b);
}

/* Emits one token, folding first when the line would get too long. */
static void
fold_token(struct buf *b, size_t *col, const char *tok, size_t n, int first)
{
	if (!first) {
		if (*col + 1 + n > HDR_WIDTH) {
			buf_adds(b, "\r\n ");
			*col = 1;
		} else {
			buf_addc(b, ' ');
			(*col)++;
		}
	}
	buf_add(b, tok, n);
	*col += n;
}

/* The words of V as RFC 2047 "B" encoded words, split on characters. */
static void
encoded_words(struct buf *b, size_t *col, const char *v, int first)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), i = 0, take, room;
	char b64[128], word[160];

	while (i < n) {
		/* bytes per word: 45 fit in 60 base64 characters */
		room = (EW_WIDTH - 12) / 4 * 3;
		take = utf8_trunc(v + i, n - i, room);
		if (take == 0)
			take = 1;
		sodium_bin2base64(b64, sizeof b64, p + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(word, sizeof word, "=?UTF-8?B?%s?=", b64);
		fold_token(b, col, word, strlen(word), first);
		first = 0;
		i += take;
	}
}

void
hdr_unstructured(struct buf *b, const char *name, const char *value)
{
	char *v = clean_utf8(value ? value : "", 0), *w, *save = NULL;
	size_t col, n;
	int encode = 0, first = 1;
	const char *p;

	/* bounded length, cut on a character */
	n = strlen(v);
	if (n > HDR_VALUE_MAX) {
		n = utf8_trunc(v, n, HDR_VALUE_MAX);
		v[n] = '\0';
	}
	for (p = v; *p; p++)
		if ((unsigned char)*p >= 0x80)
			encode = 1;
	if (strstr(v, "=?") != NULL)
		encode = 1;   /* would read as an encoded word */
	for (p = v; *p && !encode;) {
		n = strcspn(p, " ");
		if (n > HDR_WIDTH - 10)
			encode = 1;
		p += n;
		p += strspn(p, " ");
	}
	buf_addf(b, "%s:", name);
	col = strlen(name) + 1;
	/* a space always follows the colon */
	buf_addc(b, ' ');
	col++;
	if (encode) {
		/* trim ends; inner spaces are kept inside the words */
		char *s = v;
		while (*s == ' ')
			s++;
		n = strlen(s);
		while (n > 0 && s[n - 1] == ' ')
			s[--n] = '\0';
		encoded_words(b, &col, s, 1);
	} else {
		for (w = strtok_r(v, " ", &save); w;
		    w = strtok_r(NULL, " ", &save)) {
			fold_token(b, &col, w, strlen(w), first);
			first = 0;
		}
	}
	buf_adds(b, "\r\n");
	free(v);
}

/* A display name as atom words, a quoted string or encoded words. */
static void
hdr_address(struct buf *b, const char *hname, const char *name,
    const char *addr)
{
	char *n = name ? clean_utf8(name, 0) : NULL, *s;
	size_t col = strlen(hname) + 2;
	int ascii = 1, atoms = 1;
	struct buf q;

	buf_addf(b, "%s: ", hname);
	if (n) {
		char *w = n;
		/* one space between words */
		for (const char *r = n; *r; r++)
			if (*r != ' ' || (w > n && w[-1] != ' '))
				*w++ = *r;
		*w = '\0';
		s = str_trim(n);
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c >= 0x80)
				ascii = 0;
			else if (!(isalnum(c) || c == ' ' ||
			    strchr("!#$%&'*+-/=?^_`{|}~", c)))
				atoms = 0;
		}
		if (strstr(s, "=?"))
			ascii = 0;
		if (*s == '\0' || strlen(s) > 200)
			;       /* no name */
		else if (!ascii) {
			encoded_words(b, &col, s, 1);
			buf_addc(b, ' ');
			col++;
		} else {
			buf_init(&q);
			if (!atoms)
				buf_addc(&q, '"');
			for (const char *p = s; *p; p++) {
				if (!atoms && (*p == '"' || *p == '\\'))
					buf_addc(&q, '\\');
				buf_addc(&q, *p);
			}
			if (!atoms)
				buf_addc(&q, '"');
			buf_addc(&q, ' ');
			buf_add(b, q.s, q.len);
			col += q.len;
			buf_free(&q);
		}
		free(n);
	}
	if (col + strlen(addr) + 2 > HDR_WIDTH && col > strlen(hname) + 2)
		buf_adds(b, "\r\n ");
	buf_addf(b, "<%s>\r\n", addr);
}

/* A msg-id between <> we may repeat: printable ASCII, no blanks or <>. */
static int
msgid_ok(const char *s, size_t n)
{
	if (n == 0 || n > MSGID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '\\' || c == '(' || c == ')')
			return 0;
	}
	return 1;
}

/* In-Reply-To and References, bounded, one id per line. */
static void
hdr_msgids(struct buf *b, const char *name, const struct msg *orig)
{
	const char *ids[REFS_MAX * 4 + 1];
	size_t lens[REFS_MAX * 4 + 1], n = 0, i;
	const char *p = orig->references, *lt, *gt;
	int refs = strcmp(name, "References") == 0;

	if (refs && p) {
		while ((lt = strchr(p, '<')) != NULL &&
		    (gt = strchr(lt, '>')) != NULL) {
			if (msgid_ok(lt + 1, (size_t)(gt - lt - 1))) {
				if (n == REFS_MAX * 4) {
					/* keep the first; drop the oldest */
					memmove(&ids[1], &ids[2],
					    (n - 2) * sizeof ids[0]);
					memmove(&lens[1], &lens[2],
					    (n - 2) * sizeof lens[0]);
					n--;
				}
				ids[n] = lt + 1;
				lens[n++] = (size_t)(gt - lt - 1);
			}
			p = gt + 1;
		}
	}
	if (orig->message_id &&
	    msgid_ok(orig->message_id, strlen(orig->message_id))) {
		ids[n] = orig->message_id;
		lens[n++] = strlen(orig->message_id);
	}
	if (n == 0)
		return;
	if (!refs) {
		if (orig->message_id == NULL ||
		    !msgid_ok(orig->message_id, strlen(orig->message_id)))
			return;
		buf_addf(b, "%s: <%.*s>\r\n", name, (int)lens[n - 1],
		    ids[n - 1]);
		return;
	}
	/* the first id (thread root) and the newest ones */
	buf_addf(b, "%s: <%.*s>", name, (int)lens[0], ids[0]);
	i = n > REFS_MAX ? n - (REFS_MAX - 1) : 1;
	for (; i < n; i++)
		buf_addf(b, "\r\n <%.*s>", (int)lens[i], ids[i]);
	buf_adds(b, "\r\n");
}

int
body_encode(struct buf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	char *t = clean_utf8(text, 1);
	const char *line;
	size_t n, col;
	int qp = 0;

	/* one final line end */
	n = strlen(t);
	while (n > 0 && t[n - 1] == '\n')
		t[--n] = '\0';
	for (line = t; !qp && *line; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n > 76)
			qp = 1;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] >= 0x80)
				qp = 1;
		if (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			qp = 1;
		if (line[n] == '\0')
			break;
	}
	for (line = t;; line += n + 1) {
		n = strcspn(line, "\n");
		if (!qp) {
			buf_add(b, line, n);
		} else {
			col = 0;
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)line[i];
				int last = i + 1 == n, enc;

				enc = c >= 0x7f || c == '=' ||
				    ((c == ' ' || c == '\t') && last) ||
				    (c < 0x20 && c != '\t');
				if (col + (enc ? 3 : 1) > 75 && !(last &&
				    col + (enc ? 3 : 1) <= 76)) {
					buf_adds(b, "=\r\n");
					col = 0;
				}
				if (enc) {
					buf_addc(b, '=');
					buf_addc(b, hex[c >> 4]);
					buf_addc(b, hex[c & 15]);
					col += 3;
				} else {
					buf_addc(b, c);
					col++;
				}
			}
		}
		buf_adds(b, "\r\n");
		if (line[n] == '\0')
			break;
	}
	free(t);
	return qp;
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

/* ADDR and display NAME of "Name <a@b>" or "a@b" (addr_parse_one), an
 * address we can write into a header and an envelope (ADDR_ASCII). */
static int
addr_parse(const char *s, char **addr, char **name)
{
	struct addr a;

	*addr = *name = NULL;
	if (addr_parse_one(s, &a, NULL) == -1)
		return -1;
	if (!addr_valid(a.spec, ADDR_ASCII, NULL)) {
		addr_free(&a);
		return -1;
	}
	*addr = a.spec;
	*name = a.name;
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

static void
rfc5322_date(char *s, size_t n, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(s, n, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
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

static char *
read_template(const char *dir, const char *name, char **path)
{
	char *src;
	size_t len;

	*path = NULL;
	if (name == NULL || *name == '\0' || name[0] == '.' ||
	    strchr(name, '/'))
		return NULL;
	*path = path_join(dir ? dir : ".", name);
	if (read_file(*path, TMPL_FILE_MAX, &src, &len) == 0)
		goto done;
	if (strchr(name, '.') == NULL) {
		free(*path);
		*path = xstrfmt("%s/%s.txt", dir ? dir : ".", name);
		if (read_file(*path, TMPL_FILE_MAX, &src, &len) == 0)
			goto done;
	}
	log_warn("reply: template %s", *path);
	return NULL;
done:
	if (memchr(src, '\0', len) != NULL) {
		log_warnx("reply: template %s: contains a NUL byte", *path);
		free(src);
		return NULL;
	}
	return src;
}

int
reply_build(const struct config *cfg, const struct msg *orig,
    int64_t ticket_id, const char *tname, struct tv *vars,
    struct reply_out *out, const char **why)
{
	struct buf b;
	char *src = NULL, *path = NULL, *whole = NULL, *body = NULL;
	char *our = NULL, *our_name = NULL, *subject = NULL, *err = NULL;
	char **hdrs = NULL, date[64], *domain, rnd_hex[33];
	unsigned char rnd[16];
	const char *rcpt, *bodysrc, *dummy, *rname = NULL;
	size_t nh = 0, i;
	int rc = -1, r, qp;
	struct tv *own = NULL;

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

	if ((src = read_template(cfg->templates, tname, &path)) == NULL)
		goto out;
	/* the whole file once: syntax errors with true line numbers */
	if ((whole = tmpl_render(src, vars, &err)) == NULL) {
		log_warnx("reply: template %s: %s", path, err);
		goto out;
	}
	if (split_template(src, &hdrs, &nh, &bodysrc) == -1) {
		log_warnx("reply: template %s: header block: a line is not "
		    "\"Name: value\"", path);
		goto out;
	}
	if ((body = tmpl_render(bodysrc, vars, &err)) == NULL) {
		log_warnx("reply: template %s: %s", path, err);
		goto out;
	}

	buf_init(&b);
	rfc5322_date(date, sizeof date, now_time());
	buf_addf(&b, "Date: %s\r\n", date);
	hdr_address(&b, "From", our_name, our);
	hdr_address(&b, "To", rname, rcpt);
	for (i = 0; i < nh; i++) {
		char *colon = strchr(hdrs[i], ':'), *val;
		size_t k;

		*colon = '\0';
		for (k = 0; hdr_allowed[k]; k++)
			if (strcasecmp(hdrs[i], hdr_allowed[k]) == 0)
				break;
		if (hdr_allowed[k] == NULL &&
		    strncasecmp(hdrs[i], "X-", 2) != 0) {
			log_warnx("reply: template %s: header \"%s\" may not "
			    "be set by a template", path, hdrs[i]);
			buf_free(&b);
			goto out;
		}
		/* each header line is its own template: no value can
		 * continue it onto a new line */
		if ((val = tmpl_render(colon + 1, vars, &err)) == NULL) {
			log_warnx("reply: template %s: header %s: %s", path,
			    hdrs[i], err);
			buf_free(&b);
			goto out;
		}
		if (strcasecmp(hdrs[i], "Subject") == 0) {
			free(subject);
			subject = val;
		} else {
			hdr_unstructured(&b, hdrs[i], val);
			free(val);
		}
	}
	if (subject == NULL || *str_trim(subject) == '\0') {
		free(subject);
		subject = xstrdup(tv_get(vars, "re_subject"));
	}
	hdr_unstructured(&b, "Subject", subject);

	domain = strrchr(our, '@') + 1;
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(rnd_hex, sizeof rnd_hex, rnd, sizeof rnd);
	out->msgid = xstrfmt("tfadesk.%lld.%s@%s", (long long)ticket_id,
	    rnd_hex, domain);
	buf_addf(&b, "Message-ID: <%s>\r\n", out->msgid);
	hdr_msgids(&b, "In-Reply-To", orig);
	hdr_msgids(&b, "References", orig);
	buf_adds(&b, "Auto-Submitted: auto-replied\r\n");
	buf_adds(&b, "X-Auto-Response-Suppress: All\r\n");
	buf_addf(&b, "X-Tfadesk-Ticket: %lld\r\n", (long long)ticket_id);
	buf_adds(&b, "MIME-Version: 1.0\r\n");
	buf_adds(&b, "Content-Type: text/plain; charset=UTF-8\r\n");
	{
		struct buf bb;

		buf_init(&bb);
		qp = body_encode(&bb, body);
		buf_addf(&b, "Content-Transfer-Encoding: %s\r\n\r\n",
		    qp ? "quoted-printable" : "7bit");
		buf_add(&b, bb.s, bb.len);
		buf_free(&bb);
	}
	out->len = b.len;
	out->message = buf_steal(&b);
	out->mail_from = xstrdup(our);
	out->rcpt = xstrdup(rcpt);
	rc = 0;
out:
	if (rc == -1)
		reply_out_clear(out);
	for (i = 0; i < nh; i++)
		free(hdrs[i]);
	free(hdrs);
	free(src);
	free(path);
	free(whole);
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
