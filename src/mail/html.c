/*
 * html.c - HTML mail to readable UTF-8 text, with a small forgiving
 * tokenizer (no DOM): block elements become line breaks, table cells
 * " | "-separated columns, entities are decoded, script/style/head are
 * dropped, and <blockquote> / Gmail's gmail_quote lines get "> " prefixes.
 * One pass, linear in the input. Self-contained: no tfadesk.h, no aborts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "mime-int.h"

#define MAX_NEST	64	/* div / table stacks; deeper is flattened */

struct tbl {
	int cells;		/* cells started in the current row */
	int incell;
};

struct h2t {
	struct mbuf *o;
	size_t line;		/* offset of the current line */
	size_t prefix;		/* bytes of quote prefix on it */
	int bol;		/* nothing written on the current line yet */
	int blanks;		/* blank lines just written (-1: at start) */
	int space;		/* a collapsed space is pending */
	int quote;		/* quote depth */
	int pre;
	unsigned char divq[MAX_NEST];	/* div opened a quote? */
	int ndiv;
	struct tbl tb[MAX_NEST];
	int ntb;
};

static const struct ent {
	const char *name;
	unsigned short cp;
} ents[] = {
	{ "nbsp", ' ' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' },
	{ "quot", '"' }, { "apos", '\'' }, { "copy", 0xA9 }, { "reg", 0xAE },
	{ "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
	{ "ndash", 0x2013 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201C }, { "rdquo", 0x201D }, { "sbquo", 0x201A },
	{ "bdquo", 0x201E }, { "bull", 0x2022 }, { "middot", 0xB7 },
	{ "euro", 0x20AC }, { "pound", 0xA3 }, { "yen", 0xA5 }, { "cent", 0xA2 },
	{ "sect", 0xA7 }, { "para", 0xB6 }, { "deg", 0xB0 }, { "plusmn", 0xB1 },
	{ "times", 0xD7 }, { "divide", 0xF7 }, { "frac12", 0xBD },
	{ "frac14", 0xBC }, { "frac34", 0xBE }, { "laquo", 0xAB },
	{ "raquo", 0xBB }, { "iexcl", 0xA1 }, { "iquest", 0xBF },
	{ "shy", 0 }, { "zwnj", 0 }, { "zwj", 0 }, { "lrm", 0 }, { "rlm", 0 },
	{ "zwsp", 0 }, { "thinsp", ' ' }, { "ensp", ' ' }, { "emsp", ' ' },
	{ "szlig", 0xDF }, { "yuml", 0xFF }, { "Yuml", 0x178 },
	{ "dagger", 0x2020 }, { "larr", 0x2190 }, { "rarr", 0x2192 },
	{ "uarr", 0x2191 }, { "darr", 0x2193 }, { "minus", 0x2212 },
	{ "lsaquo", 0x2039 }, { "rsaquo", 0x203A }, { "tab", '\t' },
	{ "newline", '\n' }, { "ordf", 0xAA }, { "ordm", 0xBA }, { "not", 0xAC },
	{ "macr", 0xAF }, { "acute", 0xB4 }, { "micro", 0xB5 }, { "cedil", 0xB8 },
	{ "sup1", 0xB9 }, { "sup2", 0xB2 }, { "sup3", 0xB3 }, { "curren", 0xA4 },
	{ "brvbar", 0xA6 }, { "uml", 0xA8 }, { "check", 0x2713 },
	{ NULL, 0 }
};

/* Latin-1 letters: lowercase name -> code point; uppercase is cp - 0x20. */
static const struct ent latin[] = {
	{ "agrave", 0xE0 }, { "aacute", 0xE1 }, { "acirc", 0xE2 },
	{ "atilde", 0xE3 }, { "auml", 0xE4 }, { "aring", 0xE5 },
	{ "aelig", 0xE6 }, { "ccedil", 0xE7 }, { "egrave", 0xE8 },
	{ "eacute", 0xE9 }, { "ecirc", 0xEA }, { "euml", 0xEB },
	{ "igrave", 0xEC }, { "iacute", 0xED }, { "icirc", 0xEE },
	{ "iuml", 0xEF }, { "eth", 0xF0 }, { "ntilde", 0xF1 },
	{ "ograve", 0xF2 }, { "oacute", 0xF3 }, { "ocirc", 0xF4 },
	{ "otilde", 0xF5 }, { "ouml", 0xF6 }, { "oslash", 0xF8 },
	{ "ugrave", 0xF9 }, { "uacute", 0xFA }, { "ucirc", 0xFB },
	{ "uuml", 0xFC }, { "yacute", 0xFD }, { "thorn", 0xFE },
	{ NULL, 0 }
};

/* ---- output -------------------------------------------------------- */

static void
begin_line(struct h2t *h)
{
	int i;

	if (!h->bol)
		return;
	h->line = h->o->len;
	for (i = 0; i < h->quote; i++)
		mbuf_add(h->o, "> ", 2);
	h->prefix = h->o->len - h->line;
	h->bol = 0;
	h->space = 0;
}

static void
put(struct h2t *h, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (h->bol)
		begin_line(h);
	else if (h->space)
		mbuf_addc(h->o, ' ');
	h->space = 0;
	mbuf_add(h->o, s, n);
	h->blanks = 0;
}

static void
put_cp(struct h2t *h, unsigned long cp)
{
	struct mbuf t = { 0 };
	char u[8];

	if (cp == 0)
		return;
	if (cp == '\n') {
		h->space = 0;
		return;
	}
	/* small code points are encoded locally, no allocation */
	t.p = u;
	t.cap = sizeof(u);
	mbuf_add_cp(&t, cp);
	put(h, u, t.len);
}

/* End the current line. HARD (br): an empty line still counts. */
static void
newline(struct h2t *h, int hard)
{
	struct mbuf *o = h->o;

	if (h->bol) {
		if (!hard || h->blanks < 0 || h->blanks >= 1)
			return;
		begin_line(h);
	}
	while (o->len > h->line + h->prefix && (o->p[o->len - 1] == ' '))
		o->len--;
	if (o->len == h->line + h->prefix) {	/* empty line */
		while (o->len > h->line && o->p[o->len - 1] == ' ')
			o->len--;
		if (h->blanks < 0 || h->blanks >= 1) {
			o->len = h->line;
			if (o->p)
				o->p[o->len] = '\0';
			h->bol = 1;
			return;
		}
		h->blanks++;
	} else
		h->blanks = 0;
	if (o->p)
		o->p[o->len] = '\0';
	mbuf_addc(o, '\n');
	h->bol = 1;
	h->space = 0;
}

static int
in_cell(const struct h2t *h)
{
	int i;

	for (i = 0; i < h->ntb && i < MAX_NEST; i++)
		if (h->tb[i].incell)
			return 1;
	return 0;
}

/* A block boundary: a line break, or a space inside a table cell. */
static void
block(struct h2t *h)
{
	if (in_cell(h))
		h->space = !h->bol;
	else
		newline(h, 0);
}

/* ---- entities ------------------------------------------------------ */

/* Decode the entity at S ('&'); returns bytes used, 0 if not one. */
static size_t
entity(const char *s, const char *end, unsigned long *cp)
{
	const char *p = s + 1;
	unsigned long v = 0;
	char name[12];
	size_t k = 0;
	int i, digits = 0;

	if (p < end && *p == '#') {
		p++;
		if (p < end && (*p == 'x' || *p == 'X')) {
			for (p++; p < end && isxdigit((unsigned char)*p); p++) {
				if (v < 0x110000)
					v = v * 16 + (unsigned long)(isdigit(
					    (unsigned char)*p) ? *p - '0' :
					    (tolower((unsigned char)*p) - 'a' +
					    10));
				digits++;
			}
		} else
			for (; p < end && isdigit((unsigned char)*p); p++) {
				if (v < 0x110000)
					v = v * 10 + (unsigned long)(*p - '0');
				digits++;
			}
		if (digits == 0)
			return 0;
		if (p < end && *p == ';')
			p++;
		if (v >= 0x80 && v < 0xA0)
			v = mime_cp1252((unsigned char)v);
		else if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		*cp = v;
		return (size_t)(p - s);
	}
	while (p < end && k < sizeof(name) - 1 && isalnum((unsigned char)*p))
		name[k++] = *p++;
	name[k] = '\0';
	if (k == 0 || p >= end || *p != ';') {
		/* a few are commonly written without ';' */
		if (k == 0 || (p < end && isalnum((unsigned char)*p)))
			return 0;
		if (strcmp(name, "amp") && strcmp(name, "nbsp") &&
		    strcmp(name, "lt") && strcmp(name, "gt") &&
		    strcmp(name, "quot"))
			return 0;
	} else
		p++;
	for (i = 0; ents[i].name; i++)
		if (strcmp(ents[i].name, name) == 0) {
			*cp = ents[i].cp;
			return (size_t)(p - s);
		}
	for (i = 0; latin[i].name; i++) {
		if (strcasecmp(latin[i].name, name) != 0)
			continue;
		if (strcmp(latin[i].name, name) == 0)
			*cp = latin[i].cp;
		else if (isupper((unsigned char)name[0]) &&
		    strcmp(latin[i].name + 1, name + 1) == 0)
			*cp = latin[i].cp - 0x20u;
		else
			continue;
		return (size_t)(p - s);
	}
	return 0;
}

/* ---- tags ---------------------------------------------------------- */

static int
name_is(const char *n, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (mime_strncaseeq(n, len, *list))
			return 1;
	return 0;
}

static const char *const blocks[] = { "p", "div", "h1", "h2", "h3", "h4",
    "h5", "h6", "ul", "ol", "dl", "dt", "dd", "table", "address",
    "article", "section", "header", "footer", "center", "form", "fieldset",
    "nav", "aside", "figure", "figcaption", "main", "hr", "caption",
    "tbody", "thead", "tfoot", "body", "html", "title", "legend", NULL };
static const char *const voids[] = { "br", "hr", "img", "input", "meta",
    "link", "wbr", "col", "area", "base", "source", "track", "embed", NULL };
static const char *const skips[] = { "script", "style", "head", "title",
    "template", "xml", "noscript", "object", "svg", "math", NULL };

/* Case-insensitive search for "</NAME" from P; returns the position after
 * its '>', or END. */
static const char *
skip_to_close(const char *p, const char *end, const char *name, size_t nl)
{
	const char *q;

	for (q = p; q < end; q++) {
		q = memchr(q, '<', (size_t)(end - q));
		if (q == NULL)
			return end;
		/* "</" NAME and the byte after it, all before END */
		if ((size_t)(end - q) > nl + 2 && q[1] == '/' &&
		    strncasecmp(q + 2, name, nl) == 0 &&
		    !isalnum((unsigned char)q[2 + nl])) {
			q = memchr(q, '>', (size_t)(end - q));
			return q ? q + 1 : end;
		}
		/* a head without </head>: the body starts */
		if (nl == 4 && strncasecmp(name, "head", 4) == 0 &&
		    (size_t)(end - q) > 5 && strncasecmp(q + 1, "body", 4) == 0)
			return q;
	}
	return end;
}

/*
 * Is the element hidden from the reader (the "hidden" attribute, or an
 * inline style that shows nothing)? Its text is not the sender's visible
 * words, so it is dropped: a number in a hidden <span> is never read.
 * Stylesheets are not evaluated.
 */
static int
is_hidden(const char *a, const char *end)
{
	static const char *const styles[] = { "display:none",
	    "visibility:hidden", "mso-hide:all", "font-size:0", "opacity:0",
	    "max-height:0", "line-height:0", NULL };
	char st[512];
	size_t n = 0, i;

	for (const char *q = a; q < end; q++) {
		/* a bare "hidden" attribute */
		if ((q == a || isspace((unsigned char)q[-1])) &&
		    (size_t)(end - q) >= 6 && strncasecmp(q, "hidden", 6) == 0 &&
		    (q + 6 == end || isspace((unsigned char)q[6]) ||
		    q[6] == '=' || q[6] == '/'))
			return 1;
		/* the attributes without blanks and quotes, lower case */
		if (!isspace((unsigned char)*q) && *q != '"' && *q != '\'' &&
		    n + 1 < sizeof st)
			st[n++] = (char)tolower((unsigned char)*q);
	}
	st[n] = '\0';
	for (i = 0; styles[i]; i++) {
		const char *f = st;
		size_t sl = strlen(styles[i]);

		while ((f = strstr(f, styles[i])) != NULL) {
			f += sl;
			/* "font-size:0" but not "font-size:0.9em" or ":05" */
			if (styles[i][sl - 1] != '0' ||
			    (*f != '.' && !isdigit((unsigned char)*f)))
				return 1;
		}
	}
	return 0;
}

/* After the element NAME whose start tag ends at P: past its matching
 * end tag (same-name elements inside are counted), or END. */
static const char *
skip_element(const char *p, const char *end, const char *name, size_t nl)
{
	int depth = 1;

	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		int closing = p + 1 < end && p[1] == '/';
		const char *n = p + 1 + closing;

		if ((size_t)(end - n) > nl && strncasecmp(n, name, nl) == 0 &&
		    !isalnum((unsigned char)n[nl]) && n[nl] != '-' &&
		    (depth += closing ? -1 : 1) == 0) {
			p = memchr(n, '>', (size_t)(end - n));
			return p ? p + 1 : end;
		}
		p++;
	}
	return end;
}

/* Does the tag's attribute text ATTR (up to END) have class containing
 * WORD? Crude but enough for gmail_quote. */
static int
has_class(const char *a, const char *end, const char *word)
{
	size_t wl = strlen(word);

	for (; a + wl <= end; a++)
		if (strncasecmp(a, word, wl) == 0)
			return 1;
	return 0;
}

static void
tag(struct h2t *h, const char *name, size_t nl, int closing,
    const char *attr, const char *aend)
{
	struct tbl *t;

	if (nl == 0)
		return;
	if (mime_strncaseeq(name, nl, "br")) {
		if (in_cell(h))
			h->space = !h->bol;
		else
			newline(h, 1);
	} else if (mime_strncaseeq(name, nl, "blockquote")) {
		block(h);
		if (closing) {
			if (h->quote > 0)
				h->quote--;
		} else if (h->quote < MAX_NEST)
			h->quote++;
	} else if (mime_strncaseeq(name, nl, "div")) {
		block(h);
		if (!closing) {
			int q = has_class(attr, aend, "gmail_quote") &&
			    !has_class(attr, aend, "gmail_quote_container");

			if (h->ndiv < MAX_NEST)
				h->divq[h->ndiv] = (unsigned char)q;
			h->ndiv++;
			if (q && h->quote < MAX_NEST)
				h->quote++;
		} else if (h->ndiv > 0) {
			h->ndiv--;
			if (h->ndiv < MAX_NEST && h->divq[h->ndiv] &&
			    h->quote > 0)
				h->quote--;
		}
	} else if (mime_strncaseeq(name, nl, "li")) {
		block(h);
		if (!closing)
			put(h, "- ", 2);
	} else if (mime_strncaseeq(name, nl, "pre")) {
		block(h);
		h->pre = !closing;
	} else if (mime_strncaseeq(name, nl, "table")) {
		if (closing) {
			if (h->ntb > 0)
				h->ntb--;
			block(h);
		} else {
			block(h);
			if (h->ntb < MAX_NEST)
				memset(&h->tb[h->ntb], 0, sizeof(h->tb[0]));
			h->ntb++;
		}
	} else if (mime_strncaseeq(name, nl, "tr")) {
		t = h->ntb > 0 && h->ntb <= MAX_NEST ? &h->tb[h->ntb - 1] :
		    NULL;
		if (t)
			t->incell = 0;
		block(h);
		if (t)
			t->cells = 0;
	} else if (mime_strncaseeq(name, nl, "td") ||
	    mime_strncaseeq(name, nl, "th")) {
		t = h->ntb > 0 && h->ntb <= MAX_NEST ? &h->tb[h->ntb - 1] :
		    NULL;
		if (closing) {
			if (t)
				t->incell = 0;
			return;
		}
		if (t == NULL) {
			h->space = !h->bol;
			return;
		}
		if (t->cells > 0) {
			if (h->bol)
				begin_line(h);
			h->space = 0;
			mbuf_add(h->o, " |", 2);
			h->space = 1;
			h->blanks = 0;
		}
		t->cells++;
		t->incell = 1;
	} else if (name_is(name, nl, blocks)) {
		block(h);
	}
}

char *
html_to_text(const char *html, size_t len)
{
	struct mbuf o = { 0 }, v = { 0 };
	struct h2t h;
	const char *p, *end, *q, *nm, *a;
	unsigned long cp;
	size_t k, nl;
	int closing;

	if (html == NULL)
		len = 0;
	memset(&h, 0, sizeof(h));
	h.o = &o;
	h.bol = 1;
	h.blanks = -1;
	if (mbuf_reserve(&o, len / 2 + 64) == -1)
		return NULL;
	p = html;
	end = html + len;
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '<') {
			q = p + 1;
			if (q < end && *q == '!') {
				if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
					const char *e = q + 3;

					for (; e + 2 < end; e++)
						if (e[0] == '-' && e[1] == '-' &&
						    e[2] == '>')
							break;
					p = e + 2 < end ? e + 3 : end;
				} else {
					q = memchr(q, '>', (size_t)(end - q));
					p = q ? q + 1 : end;
				}
				continue;
			}
			if (q < end && *q == '?') {
				q = memchr(q, '>', (size_t)(end - q));
				p = q ? q + 1 : end;
				continue;
			}
			closing = 0;
			if (q < end && *q == '/') {
				closing = 1;
				q++;
			}
			if (q >= end || !isalpha((unsigned char)*q)) {
				put(&h, "<", 1);	/* a lone '<' */
				p++;
				continue;
			}
			nm = q;
			while (q < end && (isalnum((unsigned char)*q) ||
			    *q == ':' || *q == '-' || *q == '_'))
				q++;
			nl = (size_t)(q - nm);
			/* attributes, with quoted values, up to '>' */
			a = q;
			while (q < end && *q != '>') {
				if (*q == '"' || *q == '\'') {
					const char *e = memchr(q + 1, *q,
					    (size_t)(end - q - 1));

					q = e ? e + 1 : end;
				} else
					q++;
			}
			if (!closing && name_is(nm, nl, skips)) {
				char buf[16];

				memcpy(buf, nm, nl < 15 ? nl : 15);
				buf[nl < 15 ? nl : 15] = '\0';
				p = q < end ? q + 1 : end;
				if (q > a && q[-1] == '/')
					continue;	/* <script/> */
				p = skip_to_close(p, end, buf, strlen(buf));
				continue;
			}
			if (!closing && is_hidden(a, q)) {
				p = q < end ? q + 1 : end;
				if (q > a && q[-1] == '/')
					continue;	/* <span hidden/> */
				if (name_is(nm, nl, voids)) {
					tag(&h, nm, nl, closing, a, q);
					continue;	/* <br hidden> */
				}
				p = skip_element(p, end, nm, nl);
				continue;
			}
			tag(&h, nm, nl, closing, a, q);
			p = q < end ? q + 1 : end;
			continue;
		}
		if (c == '&') {
			k = entity(p, end, &cp);
			if (k > 0) {
				if (cp == ' ') {
					put(&h, " ", 1);
				} else if (cp == '\t') {
					h.space = !h.bol;
				} else
					put_cp(&h, cp);
				p += k;
				continue;
			}
			put(&h, "&", 1);
			p++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f') {
			if (h.pre && c == '\n')
				newline(&h, 1);
			else if (h.pre && c != '\r')
				put(&h, " ", 1);
			else if (!h.bol)
				h.space = 1;
			p++;
			continue;
		}
		/* a run of text */
		q = p;
		while (q < end && *q != '<' && *q != '&' && *q != ' ' &&
		    *q != '\t' && *q != '\n' && *q != '\r' && *q != '\f')
			q++;
		put(&h, p, (size_t)(q - p));
		p = q;
	}
	if (!h.bol)
		newline(&h, 0);
	/* drop trailing blank lines; make sure the result is UTF-8 */
	for (;;) {
		size_t ls;

		while (o.len > 0 && (o.p[o.len - 1] == '\n' ||
		    o.p[o.len - 1] == ' '))
			o.len--;
		for (ls = o.len; ls > 0 && o.p[ls - 1] != '\n'; ls--)
			;
		for (k = ls; k < o.len && (o.p[k] == '>' || o.p[k] == ' '); k++)
			;
		if (k < o.len || ls == o.len)
			break;
		o.len = ls;	/* a last line of bare quote marks */
	}
	if (o.oom) {
		mbuf_free(&o);
		return NULL;
	}
	mime_utf8_add(&v, o.p ? o.p : "", o.len, MU_TEXT);
	mbuf_free(&o);
	return mbuf_steal(&v);
}
