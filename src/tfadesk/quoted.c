/*
 * quoted.c - a message's text split into what the sender wrote now and
 * what is not theirs: quoted history (attribution lines in several
 * languages, "> " quoting, Outlook header blocks), a forwarded message
 * (read apart as a message of its own) and the signature after "-- ".
 * Pure text heuristics: no MIME, no headers. No aborts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "charset.h"
#include "quoted.h"

/* ---- quoted history and signature ---------------------------------- */

struct line {
	const char *s;
	size_t n;
};

static int
lstarts(const struct line *l, const char *pfx)
{
	size_t k = strlen(pfx);

	return l->n >= k && strncasecmp(l->s, pfx, k) == 0;
}

/* The line without leading blanks, '*' (bold) and trailing blanks. */
static struct line
ltrim(struct line l)
{
	while (l.n > 0 && (l.s[0] == ' ' || l.s[0] == '\t' || l.s[0] == '*'))
		l.s++, l.n--;
	while (l.n > 0 && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t' ||
	    l.s[l.n - 1] == '*' || l.s[l.n - 1] == '\r'))
		l.n--;
	return l;
}

static int
lends(const struct line *l, const char *sfx)
{
	size_t k = strlen(sfx);

	return l->n >= k && strncasecmp(l->s + l->n - k, sfx, k) == 0;
}

static int
is_attribution_end(const struct line *t)
{
	return lends(t, "wrote:") || lends(t, "a \xC3\xA9" "crit :") ||
	    lends(t, "a \xC3\xA9" "crit:") ||
	    lends(t, "a \xC3\xA9" "crit\xC2\xA0:") ||
	    lends(t, "escribi\xC3\xB3:") || lends(t, "schreef:") ||
	    lends(t, "ha scritto:") || lends(t, "skrev:") ||
	    lends(t, "kirjoitti:") || lends(t, "napisa\xC5\x82:") ||
	    lends(t, "\xD0\xBD\xD0\xB0\xD0\xBF\xD0\xB8\xD1\x81\xD0\xB0\xD0\xBB:") ||
	    (lends(t, ":") && t->n < 400 && memmem(t->s, t->n, " schrieb ",
	    9) != NULL);
}

static int
is_attribution_start(const struct line *t)
{
	return lstarts(t, "On ") || lstarts(t, "Le ") || lstarts(t, "Am ") ||
	    lstarts(t, "El ") || lstarts(t, "Op ") || lstarts(t, "Il ") ||
	    lstarts(t, "Den ") || lstarts(t, "W dniu ");
}

/* Lines of the "From: / Sent: / To: / Subject:" header of a quoted mail. */
static int
is_hdr_block(const struct line *L, size_t n, size_t i)
{
	struct line t = ltrim(L[i]);
	size_t j, seen = 0;
	int date = 0, subj = 0;

	if (!(lstarts(&t, "From:") || lstarts(&t, "De :") ||
	    lstarts(&t, "Von:") || lstarts(&t, "De:")))
		return 0;
	for (j = i + 1; j < n && seen < 6; j++) {
		t = ltrim(L[j]);
		if (t.n == 0)
			continue;
		seen++;
		if (lstarts(&t, "Sent:") || lstarts(&t, "Date:") ||
		    lstarts(&t, "Envoy\xC3\xA9 :") || lstarts(&t, "Gesendet:"))
			date = 1;
		else if (lstarts(&t, "Subject:") || lstarts(&t, "To:") ||
		    lstarts(&t, "Objet :") || lstarts(&t, "Betreff:") ||
		    lstarts(&t, "Cc:") || lstarts(&t, "\xC3\x80 :") ||
		    lstarts(&t, "An:"))
			subj = 1;
	}
	return date && subj;
}

/* 0: no; 1: quote header (all below is quoted); 2: attribution line(s)
 * introducing ">" lines (*SPAN lines long). */
static int
quote_header(const struct line *L, size_t n, size_t i, size_t *span)
{
	struct line t = ltrim(L[i]), t2;
	size_t j;

	*span = 1;
	if (t.n == 0)
		return 0;
	if (t.n >= 10 && t.s[0] == '-' && (memmem(t.s, t.n, "Original Message",
	    16) || memmem(t.s, t.n, "Forwarded message", 17) ||
	    memmem(t.s, t.n, "Forwarded Message", 17) ||
	    memmem(t.s, t.n, "original message", 16)))
		return 1;
	if (lstarts(&t, "Begin forwarded message:") ||
	    lstarts(&t, "Start of forwarded message"))
		return 1;
	if (t.n >= 20 && t.s[0] == '_' && t.s[t.n - 1] == '_' && i + 1 < n) {
		for (j = i + 1; j < n && ltrim(L[j]).n == 0 && j < i + 3; j++)
			;
		if (j < n && is_hdr_block(L, n, j))
			return 1;
	}
	if (is_hdr_block(L, n, i))
		return 1;
	/* attribution: "On ... wrote:" over up to three lines; any line(s)
	 * ending so when ">" lines follow */
	while (t.n > 0 && (t.s[0] == '-' || t.s[0] == ' '))
		t.s++, t.n--;
	if (t.n == 0 || t.n > 300 || t.s[0] == '>')
		return 0;
	{
		size_t tot = t.n, sp, maxsp = 3, k;
		int start = is_attribution_start(&t);

		if (!start) {
			/* a date must be in it: "02.04.2012 14:20 ..." */
			for (k = 0; k < t.n && !isdigit((unsigned char)t.s[k]);
			    k++)
				;
			if (k == t.n)
				return 0;
			maxsp = 2;
		}
		if (!start && (t.s[t.n - 1] == '.' || t.s[t.n - 1] == '!' ||
		    t.s[t.n - 1] == '?'))
			return 0;	/* a sentence, not a date line */
		for (sp = 1; sp <= maxsp && i + sp <= n; sp++) {
			t2 = sp == 1 ? t : ltrim(L[i + sp - 1]);
			if (sp > 1) {
				if (t2.n == 0 || t2.s[0] == '>' ||
				    is_attribution_start(&t2))
					break;
				tot += t2.n;
			}
			if (tot > 400)
				break;
			if (!is_attribution_end(&t2))
				continue;
			for (j = i + sp; j < n && ltrim(L[j]).n == 0; j++)
				;
			*span = sp;
			if (j < n && L[j].n > 0 && L[j].s[0] == '>')
				return 2;
			if (start)
				return 1;
			break;
		}
	}
	return 0;
}

/* Where a forwarded message starts: the Gmail and Thunderbird marker
 * lines, Apple Mail's "Begin forwarded message:", and, when the subject
 * says the mail is a forward, Outlook's "-----Original Message-----", rule
 * line or bare "From: / Sent: / To: / Subject:" block. */
static int
is_forward_start(const struct line *L, size_t n, size_t i, int fwdsubj)
{
	struct line t = ltrim(L[i]);
	size_t j;

	if (t.n >= 10 && t.s[0] == '-' && (memmem(t.s, t.n,
	    "Forwarded message", 17) || memmem(t.s, t.n, "Forwarded Message",
	    17) || memmem(t.s, t.n, "forwarded message", 17)))
		return 1;
	if (lstarts(&t, "Begin forwarded message:") ||
	    lstarts(&t, "Start of forwarded message"))
		return 1;
	if (!fwdsubj)
		return 0;
	if (t.n >= 10 && t.s[0] == '-' && (memmem(t.s, t.n,
	    "Original Message", 16) || memmem(t.s, t.n, "original message",
	    16)))
		return 1;
	if (t.n >= 20 && t.s[0] == '_' && t.s[t.n - 1] == '_') {
		for (j = i + 1; j < n && ltrim(L[j]).n == 0 && j < i + 3; j++)
			;
		return j < n && is_hdr_block(L, n, j);
	}
	return is_hdr_block(L, n, i);
}

/* A header line of a forwarded message ("From: ...", "Sent: ..."). */
static int
is_fwd_hdr(const struct line *t)
{
	static const char *const names[] = { "From:", "Sent:", "Date:", "To:",
	    "Cc:", "Subject:", "Reply-To:", "Importance:", "Attachments:",
	    "De :", "De:", "Envoy\xC3\xA9 :", "\xC3\x80 :", "Objet :", "Von:",
	    "Gesendet:", "An:", "Betreff:", "Datum:", NULL };

	for (size_t k = 0; names[k]; k++)
		if (lstarts(t, names[k]))
			return 1;
	return 0;
}

/* Line L without one level of "> " quoting. */
static struct line
unquote1(struct line l)
{
	if (l.n > 0 && l.s[0] == '>') {
		l.s++, l.n--;
		if (l.n > 0 && l.s[0] == ' ')
			l.s++, l.n--;
	}
	return l;
}

static void split_str(struct msg *, const char *, int, struct buf *,
    struct buf *, struct buf *);
static void add_line(struct buf *, const struct line *);

/* The forwarded message starting at line I: skips the marker and its
 * header lines (keeping Subject), then splits its text as a message of
 * its own: M->fwd_text is its new text. */
static void
forwarded_text(const struct line *L, size_t n, size_t i, struct buf *fs,
    struct buf *ft)
{
	struct buf body = MIME_BUF, q = MIME_BUF, s = MIME_BUF;
	struct line t;
	size_t j = i, nh = 0, k;
	int quoted = 1, any = 0;

	t = ltrim(L[j]);
	if (!is_fwd_hdr(&t))
		j++;			/* the marker line */
	for (; j < n; j++) {
		t = ltrim(unquote1(L[j]));
		if (t.n == 0) {
			if (nh > 0) {
				j++;
				break;
			}
			continue;
		}
		if (is_fwd_hdr(&t)) {
			if (lstarts(&t, "Subject:") && fs->len == 0) {
				struct line v = { t.s + 8, t.n - 8 };
				v = ltrim(v);
				buf_add(fs, v.s, v.n);
			}
			nh++;
			continue;
		}
		/* a folded header value */
		if (nh > 0 && (L[j].s[0] == ' ' || L[j].s[0] == '\t'))
			continue;
		break;
	}
	/* Apple Mail may quote the whole forwarded text */
	for (k = j; k < n; k++)
		if (L[k].n > 0 && ltrim(L[k]).n > 0) {
			any = 1;
			if (L[k].s[0] != '>')
				quoted = 0;
		}
	for (k = j; k < n; k++) {
		t = quoted && any ? unquote1(L[k]) : L[k];
		add_line(&body, &t);
	}
	if (body.err) {
		ft->err = BUF_NOMEM;
		buf_free(&body);
		return;
	}
	if (body.s != NULL)
		split_str(NULL, body.s, 0, ft, &q, &s);
	buf_free(&body);
	buf_free(&q);
	buf_free(&s);
}

static int
is_sig_start(const struct line *l)
{
	struct line t;

	if ((l->n == 3 && memcmp(l->s, "-- ", 3) == 0) ||
	    (l->n == 2 && memcmp(l->s, "--", 2) == 0))
		return 1;
	t = ltrim(*l);
	return t.n < 60 && (lstarts(&t, "Sent from my ") ||
	    lstarts(&t, "Get Outlook for ") ||
	    lstarts(&t, "Sent from Mail for Windows") ||
	    lstarts(&t, "Sent from Outlook") ||
	    lstarts(&t, "Envoy\xC3\xA9 de mon "));
}

static void
add_line(struct buf *b, const struct line *l)
{
	buf_add(b, l->s, l->n);
	buf_addc(b, '\n');
}

/* Trim blank lines at both ends, in place. */
static void
trim_lines(struct buf *b)
{
	size_t st = 0, e = b->len;

	if (b->s == NULL)
		return;
	while (st < e && (b->s[st] == '\n' || b->s[st] == ' ' ||
	    b->s[st] == '\t')) {
		size_t k = st;

		while (k < e && (b->s[k] == ' ' || b->s[k] == '\t'))
			k++;
		if (k < e && b->s[k] != '\n')
			break;
		st = k < e ? k + 1 : e;
	}
	while (e > st && (b->s[e - 1] == '\n' || b->s[e - 1] == ' ' ||
	    b->s[e - 1] == '\t'))
		e--;
	memmove(b->s, b->s + st, e - st);
	b->len = e - st;
	b->s[b->len] = '\0';
}

/*
 * Splits the text S into new text, quoted history and signature. With M,
 * S is the message's text: a forwarded message where the new text ends is
 * read into fwd_text and fwd_subject (FWDSUBJ: the subject says forward).
 */
static void
split_str(struct msg *m, const char *s, int fwdsubj, struct buf *nt,
    struct buf *qt, struct buf *sg)
{
	const char *p, *end, *eol;
	struct line *L = NULL;
	size_t n = 0, cap = 0, i, span, k;
	int insig = 0, r;

	end = s + strlen(s);
	for (p = s; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (n == cap) {
			struct line *nl;

			cap = cap ? cap * 2 : 64;
			nl = realloc(L, cap * sizeof(*L));
			if (nl == NULL) {
				free(L);
				nt->err = BUF_NOMEM;
				return;
			}
			L = nl;
		}
		L[n].s = p;
		L[n].n = (size_t)(eol - p);
		n++;
		if (eol == end)
			break;
	}
	for (i = 0; i < n; i++) {
		r = quote_header(L, n, i, &span);
		if (r == 1) {
			if (m != NULL && is_forward_start(L, n, i, fwdsubj)) {
				struct buf fs = MIME_BUF, ft = MIME_BUF;

				forwarded_text(L, n, i, &fs, &ft);
				trim_lines(&ft);
				free(m->fwd_text);
				free(m->fwd_subject);
				m->fwd_text = buf_steal(&ft);
				m->fwd_subject = buf_steal(&fs);
				if (m->fwd_text == NULL || m->fwd_subject == NULL)
					nt->err = BUF_NOMEM;
			}
			for (; i < n; i++)
				add_line(qt, &L[i]);
			break;
		}
		if (r == 2) {
			for (k = 0; k < span; k++)
				add_line(qt, &L[i + k]);
			i += span - 1;
			insig = 0;
			continue;
		}
		if (L[i].n > 0 && L[i].s[0] == '>') {
			add_line(qt, &L[i]);
			continue;
		}
		if (!insig && is_sig_start(&L[i]))
			insig = 1;
		add_line(insig ? sg : nt, &L[i]);
	}
	free(L);
	trim_lines(nt);
	trim_lines(qt);
	trim_lines(sg);
}

void
mime_split_text(struct msg *m, struct buf *nt, struct buf *qt, struct buf *sg)
{
	split_str(m, m->text, mime_subject_forwarded(m->subject), nt, qt, sg);
}

int
mime_subject_forwarded(const char *s)
{
	if (s == NULL)
		return 0;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '[' && strchr(s, ']') != NULL)
			s = strchr(s, ']') + 1;
		else if (strncasecmp(s, "re:", 3) == 0 ||
		    strncasecmp(s, "aw:", 3) == 0)
			s += 3;
		else
			break;
	}
	return strncasecmp(s, "fwd:", 4) == 0 || strncasecmp(s, "fw:", 3) == 0 ||
	    strncasecmp(s, "wg:", 3) == 0 || strncasecmp(s, "tr:", 3) == 0;
}

/* Trim trailing blanks of every line, and blank lines at both ends. */
void
mime_tidy_text(struct buf *b)
{
	size_t i, o = 0;

	if (b->s == NULL)
		return;
	for (i = 0; i < b->len; i++) {
		if (b->s[i] == '\n')
			while (o > 0 && (b->s[o - 1] == ' ' ||
			    b->s[o - 1] == '\t'))
				o--;
		b->s[o++] = b->s[i];
	}
	b->len = o;
	b->s[o] = '\0';
	trim_lines(b);
}
