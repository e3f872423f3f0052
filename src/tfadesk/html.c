/*
 * html.c - HTML mail to readable UTF-8 text, with a small forgiving
 * tokenizer (no DOM): block elements become line breaks, table cells
 * " | "-separated columns, entities are decoded, script/style/head are
 * dropped, and <blockquote> / Gmail's gmail_quote lines get "> " prefixes.
 * One pass, linear in the input. Needs only charset.c (and buf): not the
 * MIME walk, which calls it. No aborts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "html.h"

#define MAX_NEST	64	/* div / table stacks; deeper is flattened */
#define MAX_SELS	32	/* hiding <style> rules whose elements we drop */

struct tbl {
	int cells;		/* cells started in the current row */
	int incell;
};

struct h2t {
	struct buf *o;
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
	int hidden;		/* something may hide text */
	int drop_all;		/* ... and we cannot tell what: read nothing */
	struct sel {		/* <style> rules that may hide: "p.x", "#y" */
		char tag[16], cls[48], id[48];
	} sels[MAX_SELS];
	int nsel;
	char *why;		/* the first such thing, for people */
	size_t whysz;
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
		buf_add(h->o, "> ", 2);
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
		buf_addc(h->o, ' ');
	h->space = 0;
	buf_add(h->o, s, n);
	h->blanks = 0;
}

static void
put_cp(struct h2t *h, unsigned long cp)
{
	struct buf t = MIME_BUF;
	char u[8];

	if (cp == 0)
		return;
	if (cp == '\n') {
		h->space = 0;
		return;
	}
	/* small code points are encoded locally, no allocation */
	t.s = u;
	t.cap = sizeof(u);
	buf_add_cp(&t, cp);
	put(h, u, t.len);
}

/* End the current line. HARD (br): an empty line still counts. */
static void
newline(struct h2t *h, int hard)
{
	struct buf *o = h->o;

	if (h->bol) {
		if (!hard || h->blanks < 0 || h->blanks >= 1)
			return;
		begin_line(h);
	}
	while (o->len > h->line + h->prefix && (o->s[o->len - 1] == ' '))
		o->len--;
	if (o->len == h->line + h->prefix) {	/* empty line */
		while (o->len > h->line && o->s[o->len - 1] == ' ')
			o->len--;
		if (h->blanks < 0 || h->blanks >= 1) {
			o->len = h->line;
			if (o->s)
				o->s[o->len] = '\0';
			h->bol = 1;
			return;
		}
		h->blanks++;
	} else
		h->blanks = 0;
	if (o->s)
		o->s[o->len] = '\0';
	buf_addc(o, '\n');
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

/* ---- styles that can hide text ------------------------------------- */

/*
 * Text the reader cannot see must not be read (issue 9): a number in a
 * <span style="display:none"> is not the sender's. We do not try to work
 * out exactly which values hide text. A style property is either harmless
 * whatever its value (font-family, margins of ordinary size, borders...),
 * or is allowed only with a plain value that certainly shows text (a font
 * size of 8px or more, a dark text colour, a white background...); anything
 * else (display, visibility, opacity, position, clip, transform, overflow,
 * filter, mso-hide, an unknown property, a value we cannot parse, a CSS
 * comment or escape) marks the HTML as able to hide text: the element's
 * text is dropped, and the reason (the first construct found) is kept so
 * that the ticket goes to staff instead of being applied.
 */

#define MAX_STYLE	8192	/* a longer style attribute is not checked */

enum chk {
	C_ANY,		/* harmless whatever the value */
	C_FONTSIZE,	/* keywords, >= 8px, >= 50% */
	C_LINEH,	/* normal, >= 0.5, >= 8px, >= 50% */
	C_BOX,		/* auto, >= 8px, >= 10% */
	C_MAXBOX,	/* none, or as C_BOX */
	C_FG,		/* a plain dark colour */
	C_BG,		/* transparent, none, or a plain light colour */
	C_INDENT,	/* 0 to 200px */
	C_MARGIN,	/* each of up to four: auto, -10px to 500px, % */
	C_SPACING,	/* normal, -2px to 10px */
	C_VALIGN,	/* keywords */
	C_NONE,		/* "none" only */
	C_THIN,		/* 0 to 2px */
	C_LTR		/* ltr (direction), normal/embed/isolate (unicode-bidi) */
};

static const struct prop {
	const char *name;
	enum chk c;
} props[] = {
	{ "font-family", C_ANY }, { "font-weight", C_ANY },
	{ "font-style", C_ANY }, { "font-variant", C_ANY },
	{ "font-variant-caps", C_ANY }, { "font-variant-ligatures", C_ANY },
	{ "font-variant-numeric", C_ANY }, { "font-variant-east-asian", C_ANY },
	{ "font-kerning", C_ANY }, { "font-stretch", C_ANY },
	{ "font-synthesis", C_ANY }, { "font-optical-sizing", C_ANY },
	{ "font-size", C_FONTSIZE }, { "line-height", C_LINEH },
	{ "text-align", C_ANY }, { "text-align-last", C_ANY },
	{ "text-decoration", C_ANY }, { "text-decoration-line", C_ANY },
	{ "text-decoration-style", C_ANY }, { "text-decoration-color", C_ANY },
	{ "text-decoration-thickness", C_ANY },
	{ "text-underline", C_ANY }, { "text-underline-offset", C_ANY },
	{ "text-underline-position", C_ANY }, { "text-line-through", C_ANY },
	{ "text-transform", C_ANY }, { "text-justify", C_ANY },
	{ "text-autospace", C_ANY }, { "text-rendering", C_ANY },
	{ "text-size-adjust", C_ANY }, { "-webkit-text-size-adjust", C_ANY },
	{ "-ms-text-size-adjust", C_ANY }, { "-webkit-font-smoothing", C_ANY },
	{ "-moz-osx-font-smoothing", C_ANY }, { "-webkit-nbsp-mode", C_ANY },
	{ "-webkit-line-break", C_ANY }, { "punctuation-wrap", C_ANY },
	{ "layout-grid-mode", C_ANY }, { "tab-stops", C_ANY },
	{ "tab-size", C_ANY }, { "white-space", C_ANY },
	{ "word-wrap", C_ANY }, { "overflow-wrap", C_ANY },
	{ "word-break", C_ANY }, { "line-break", C_ANY }, { "hyphens", C_ANY },
	{ "orphans", C_ANY }, { "widows", C_ANY },
	{ "page-break-before", C_ANY }, { "page-break-after", C_ANY },
	{ "page-break-inside", C_ANY }, { "break-before", C_ANY },
	{ "break-after", C_ANY }, { "break-inside", C_ANY }, { "page", C_ANY },
	{ "size", C_ANY }, { "panose-1", C_ANY }, { "src", C_ANY },
	{ "unicode-range", C_ANY }, { "font-display", C_ANY },
	{ "caret-color", C_ANY }, { "cursor", C_ANY },
	{ "padding", C_ANY }, { "padding-top", C_ANY },
	{ "padding-right", C_ANY }, { "padding-bottom", C_ANY },
	{ "padding-left", C_ANY }, { "border", C_ANY },
	{ "border-top", C_ANY }, { "border-right", C_ANY },
	{ "border-bottom", C_ANY }, { "border-left", C_ANY },
	{ "border-color", C_ANY }, { "border-style", C_ANY },
	{ "border-width", C_ANY }, { "border-top-color", C_ANY },
	{ "border-right-color", C_ANY }, { "border-bottom-color", C_ANY },
	{ "border-left-color", C_ANY }, { "border-top-style", C_ANY },
	{ "border-right-style", C_ANY }, { "border-bottom-style", C_ANY },
	{ "border-left-style", C_ANY }, { "border-top-width", C_ANY },
	{ "border-right-width", C_ANY }, { "border-bottom-width", C_ANY },
	{ "border-left-width", C_ANY }, { "border-radius", C_ANY },
	{ "border-collapse", C_ANY }, { "border-spacing", C_ANY },
	{ "outline", C_ANY }, { "box-shadow", C_ANY }, { "box-sizing", C_ANY },
	{ "table-layout", C_ANY }, { "empty-cells", C_ANY },
	{ "caption-side", C_ANY }, { "list-style", C_ANY },
	{ "list-style-type", C_ANY }, { "list-style-position", C_ANY },
	{ "float", C_ANY }, { "clear", C_ANY },
	{ "min-width", C_ANY }, { "min-height", C_ANY },
	{ "margin", C_MARGIN }, { "margin-top", C_MARGIN },
	{ "margin-right", C_MARGIN }, { "margin-bottom", C_MARGIN },
	{ "margin-left", C_MARGIN },
	{ "width", C_BOX }, { "height", C_BOX },
	{ "max-width", C_MAXBOX }, { "max-height", C_MAXBOX },
	{ "color", C_FG }, { "background", C_BG },
	{ "background-color", C_BG }, { "mso-highlight", C_BG },
	{ "text-indent", C_INDENT }, { "letter-spacing", C_SPACING },
	{ "word-spacing", C_SPACING }, { "vertical-align", C_VALIGN },
	{ "text-shadow", C_NONE }, { "-webkit-text-stroke-width", C_THIN },
	{ "direction", C_LTR }, { "unicode-bidi", C_LTR },
	{ NULL, C_ANY }
};

/* Outlook's (Word's) own properties that only carry layout or language:
 * other mso- properties (mso-hide, mso-color-alt, mso-element...) hide. */
static const char *const mso_ok[] = { "mso-style-", "mso-fareast-",
    "mso-ansi-", "mso-bidi-", "mso-ascii-", "mso-hansi-", "mso-font-charset",
    "mso-font-pitch", "mso-font-signature", "mso-font-alt",
    "mso-font-format", "mso-generic-font-family", "mso-margin-",
    "mso-padding-", "mso-border-", "mso-line-height-rule", "mso-list",
    "mso-level-", "mso-pagination", "mso-yfti-", "mso-table-",
    "mso-cellspacing", "mso-para-margin", "mso-outline-level",
    "mso-ligatures", "mso-no-proof", "mso-proof", "mso-default-props",
    "mso-themecolor", "mso-themeshade", "mso-themetint", "mso-spacerun",
    "mso-tab-count", "mso-char-type", "mso-add-space", "mso-layout-grid-",
    "mso-kerning", "mso-lang", "mso-gram-e", "mso-spl-e", NULL };

static const char *const fontsizes[] = { "xx-small", "x-small", "small",
    "medium", "large", "x-large", "xx-large", "xxx-large", "smaller",
    "larger", NULL };
static const char *const valigns[] = { "baseline", "top", "middle",
    "bottom", "sub", "super", "text-top", "text-bottom", NULL };

static const struct color {
	const char *name;
	unsigned char r, g, b;
} colors[] = {
	{ "black", 0, 0, 0 }, { "white", 255, 255, 255 },
	{ "windowtext", 0, 0, 0 }, { "window", 255, 255, 255 },
	{ "red", 255, 0, 0 }, { "green", 0, 128, 0 }, { "blue", 0, 0, 255 },
	{ "navy", 0, 0, 128 }, { "maroon", 128, 0, 0 },
	{ "purple", 128, 0, 128 }, { "gray", 128, 128, 128 },
	{ "grey", 128, 128, 128 }, { "silver", 192, 192, 192 },
	{ "yellow", 255, 255, 0 }, { "orange", 255, 165, 0 },
	{ "teal", 0, 128, 128 }, { "olive", 128, 128, 0 },
	{ "lime", 0, 255, 0 }, { "aqua", 0, 255, 255 },
	{ "cyan", 0, 255, 255 }, { "fuchsia", 255, 0, 255 },
	{ "magenta", 255, 0, 255 }, { "darkblue", 0, 0, 139 },
	{ "darkred", 139, 0, 0 }, { "darkgreen", 0, 100, 0 },
	{ "darkgray", 169, 169, 169 }, { "darkgrey", 169, 169, 169 },
	{ "dimgray", 105, 105, 105 }, { "dimgrey", 105, 105, 105 },
	{ "brown", 165, 42, 42 }, { "whitesmoke", 245, 245, 245 },
	{ "lightgray", 211, 211, 211 }, { "lightgrey", 211, 211, 211 },
	{ "lightyellow", 255, 255, 224 }, { "ivory", 255, 255, 240 },
	{ NULL, 0, 0, 0 }
};

/* Keep the first reason only: "HTML uses WHAT VAL". VAL is hostile text:
 * printable ASCII only, short, and no long digit run (a number must not
 * reach a reason, a log or a reply through a style value). */
static void
hide(struct h2t *h, const char *what, const char *v, size_t vl)
{
	char u[48];
	size_t i, k = 0, run = 0;

	h->hidden = 1;
	if (h->why == NULL || h->whysz == 0 || h->why[0] != '\0')
		return;
	for (i = 0; i < vl && k + 4 < sizeof u; i++) {
		unsigned char c = (unsigned char)v[i];

		run = isdigit(c) ? run + 1 : 0;
		if (run > 6)
			continue;
		if (isspace(c)) {
			if (k > 0 && u[k - 1] != ' ')
				u[k++] = ' ';
		} else
			u[k++] = c > 0x20 && c < 0x7F && c != '"' ? (char)c :
			    '?';
	}
	while (k > 0 && u[k - 1] == ' ')
		k--;
	if (i < vl) {
		memcpy(u + k, "...", 3);
		k += 3;
	}
	u[k] = '\0';
	snprintf(h->why, h->whysz, "HTML uses %s%s%s", what, k &&
	    what[strlen(what) - 1] != '=' ? " " : "", u);
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int
in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (mime_strncaseeq(s, n, *list))
			return 1;
	return 0;
}

enum { L_PX, L_PCT, L_NUM };

/* A plain CSS number with an optional unit ("11.0pt", ".8ex", "-1px",
 * "50%", "1.15"): 0 and *V in CSS px (for L_PX; em counted as 16px), or
 * the number for L_PCT and L_NUM; -1 if it is anything else. */
static int
css_len(const char *s, size_t n, double *v, int *kind)
{
	static const struct { const char *u; double px; } units[] = {
		{ "px", 1 }, { "pt", 4.0 / 3 }, { "pc", 16 }, { "in", 96 },
		{ "cm", 37.8 }, { "mm", 3.78 }, { "q", 0.945 }, { "em", 16 },
		{ "rem", 16 }, { "ex", 8 }, { "ch", 8 }, { NULL, 0 }
	};
	double x = 0, f = 0.1;
	size_t i = 0, digits = 0;
	int neg = 0, k;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && isdigit((unsigned char)s[i]) && digits < 12; i++,
	    digits++)
		x = x * 10 + (s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]) && digits < 12;
		    i++, digits++, f /= 10)
			x += f * (s[i] - '0');
	if (digits == 0 || (i < n && isdigit((unsigned char)s[i])))
		return -1;
	if (neg)
		x = -x;
	*v = x;
	if (i == n) {
		*kind = x == 0 ? L_PX : L_NUM;
		return 0;
	}
	if (n - i == 1 && s[i] == '%') {
		*kind = L_PCT;
		return 0;
	}
	for (k = 0; units[k].u; k++)
		if (mime_strncaseeq(s + i, n - i, units[k].u)) {
			*v = x * units[k].px;
			*kind = L_PX;
			return 0;
		}
	return -1;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* A plain colour ("#1F497D", "#fff", "rgb(34, 34, 34)", "black"): 0 and
 * its luma (0 black .. 1 white), or -1. HASHLESS: "ffffff" too (old HTML
 * attributes). Transparency is not a plain colour. */
static int
css_color(const char *s, size_t n, int hashless, double *luma)
{
	unsigned int c[4] = { 0, 0, 0, 255 };
	size_t i, k;

	if (n > 0 && s[0] == '#')
		s++, n--, hashless = 1;
	if (hashless && (n == 3 || n == 4 || n == 6 || n == 8)) {
		for (i = 0; i < n; i++)
			if (!isxdigit((unsigned char)s[i]))
				goto named;
		for (k = 0; k < n / (n < 6 ? 1 : 2); k++)
			c[k] = n < 6 ? (unsigned)hexval((unsigned char)s[k]) * 17 :
			    (unsigned)(hexval((unsigned char)s[2 * k]) * 16 +
			    hexval((unsigned char)s[2 * k + 1]));
		goto done;
	}
	if (n > 5 && (strncasecmp(s, "rgb(", 4) == 0 ||
	    strncasecmp(s, "rgba(", 5) == 0) && s[n - 1] == ')') {
		i = s[3] == '(' ? 4 : 5;
		for (k = 0; k < 4; k++) {
			unsigned int x = 0, d = 0;

			while (i < n - 1 && (isspace((unsigned char)s[i]) ||
			    (k > 0 && (s[i] == ',' || s[i] == '/'))))
				i++;
			if (i == n - 1 && k == 3)
				break;
			for (; i < n - 1 && isdigit((unsigned char)s[i]) &&
			    d < 4; i++, d++)
				x = x * 10 + (unsigned)(s[i] - '0');
			if (k == 3) {	/* alpha: 1 or 1.0 only */
				if (x != 1)
					return -1;
				if (i < n - 1 && s[i] == '.')
					for (i++; i < n - 1 && s[i] == '0'; i++)
						;
				x = 255;
			}
			if (d == 0 || x > 255)
				return -1;
			c[k] = x;
		}
		while (i < n - 1 && isspace((unsigned char)s[i]))
			i++;
		if (i != n - 1)
			return -1;
		goto done;
	}
named:
	for (k = 0; colors[k].name; k++)
		if (mime_strncaseeq(s, n, colors[k].name)) {
			c[0] = colors[k].r;
			c[1] = colors[k].g;
			c[2] = colors[k].b;
			goto done;
		}
	return -1;
done:
	if (c[3] != 255)
		return -1;
	*luma = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
	return 0;
}

/* Does value V certainly show text, for a property checked as C? */
static int
value_ok(enum chk c, const char *v, size_t n)
{
	double x, y;
	int kind;
	size_t i, j, parts;

	switch (c) {
	case C_ANY:
		return 1;
	case C_FONTSIZE:
		if (in_list(v, n, fontsizes))
			return 1;
		return css_len(v, n, &x, &kind) == 0 && ((kind == L_PX &&
		    x >= 8) || (kind == L_PCT && x >= 50));
	case C_LINEH:
		if (mime_strncaseeq(v, n, "normal"))
			return 1;
		return css_len(v, n, &x, &kind) == 0 && ((kind == L_PX &&
		    x >= 8) || (kind == L_PCT && x >= 50) ||
		    (kind == L_NUM && x >= 0.5));
	case C_MAXBOX:
		if (mime_strncaseeq(v, n, "none"))
			return 1;
		/* FALLTHROUGH */
	case C_BOX:
		if (mime_strncaseeq(v, n, "auto"))
			return 1;
		return css_len(v, n, &x, &kind) == 0 && ((kind == L_PX &&
		    x >= 8) || (kind == L_PCT && x >= 10));
	case C_FG:
		return css_color(v, n, 0, &y) == 0 && y <= 0.65;
	case C_BG:
		if (mime_strncaseeq(v, n, "transparent") ||
		    mime_strncaseeq(v, n, "none"))
			return 1;
		return css_color(v, n, 0, &y) == 0 && y >= 0.85;
	case C_INDENT:
		return css_len(v, n, &x, &kind) == 0 && kind == L_PX &&
		    x >= 0 && x <= 200;
	case C_MARGIN:
		for (i = 0, parts = 0; i < n; i = j) {
			while (i < n && isspace((unsigned char)v[i]))
				i++;
			for (j = i; j < n && !isspace((unsigned char)v[j]); j++)
				;
			if (j == i)
				break;
			if (++parts > 4)
				return 0;
			if (mime_strncaseeq(v + i, j - i, "auto"))
				continue;
			if (css_len(v + i, j - i, &x, &kind) != 0 ||
			    kind == L_NUM || (kind == L_PX && (x < -10 ||
			    x > 500)) || (kind == L_PCT && (x < 0 || x > 50)))
				return 0;
		}
		return parts > 0;
	case C_SPACING:
		if (mime_strncaseeq(v, n, "normal"))
			return 1;
		return css_len(v, n, &x, &kind) == 0 && kind == L_PX &&
		    x >= -2 && x <= 10;
	case C_VALIGN:
		return in_list(v, n, valigns);
	case C_NONE:
		return mime_strncaseeq(v, n, "none");
	case C_THIN:
		return css_len(v, n, &x, &kind) == 0 && kind == L_PX &&
		    x >= 0 && x <= 2;
	case C_LTR:
		return mime_strncaseeq(v, n, "ltr") ||
		    mime_strncaseeq(v, n, "normal") ||
		    mime_strncaseeq(v, n, "embed") ||
		    mime_strncaseeq(v, n, "isolate");
	}
	return 0;
}

/* One declaration "prop: value": 1 if it certainly shows text. */
static int
decl_ok(const char *p, size_t pl, const char *v, size_t vl)
{
	size_t i, k;

	/* "!important" changes nothing here */
	if (vl >= 10 && strncasecmp(v + vl - 9, "important", 9) == 0) {
		for (k = vl - 9; k > 0 && isspace((unsigned char)v[k - 1]); k--)
			;
		if (k > 0 && v[k - 1] == '!') {
			vl = k - 1;
			trim(&v, &vl);
		}
	}
	for (i = 0; props[i].name; i++)
		if (mime_strncaseeq(p, pl, props[i].name))
			return value_ok(props[i].c, v, vl);
	for (i = 0; mso_ok[i]; i++) {
		k = strlen(mso_ok[i]);
		if (pl >= k && strncasecmp(p, mso_ok[i], k) == 0)
			return 1;
	}
	return 0;
}

/* The declarations of a style attribute, or of one rule of a <style>
 * block: 1 (reason set) if any of them may hide text. */
static int
css_decls(struct h2t *h, const char *s, size_t n)
{
	const char *e = s + n, *d, *c;
	size_t pl, vl;

	if (memchr(s, '\\', n)) {
		hide(h, "a CSS escape in a style:", s, n);
		return 1;
	}
	if (memmem(s, n, "/*", 2)) {
		hide(h, "a CSS comment in a style:", s, n);
		return 1;
	}
	while (s < e) {
		char quote = 0;
		int paren = 0;

		/* one declaration, up to a ';' outside quotes and brackets */
		for (d = s; d < e; d++) {
			if (quote) {
				if (*d == quote)
					quote = 0;
			} else if (*d == '"' || *d == '\'')
				quote = *d;
			else if (*d == '(')
				paren++;
			else if (*d == ')' && paren > 0)
				paren--;
			else if (*d == ';' && paren == 0)
				break;
		}
		pl = (size_t)(d - s);
		trim(&s, &pl);
		if (pl > 0) {
			c = memchr(s, ':', pl);
			if (c == NULL) {
				hide(h, "style", s, pl);
				return 1;
			}
			vl = pl - (size_t)(c + 1 - s);
			pl = (size_t)(c - s);
			trim(&s, &pl);
			c++;
			trim(&c, &vl);
			if (!decl_ok(s, pl, c, vl)) {
				hide(h, "style", s, (size_t)(c + vl - s));
				return 1;
			}
		}
		s = d < e ? d + 1 : e;
	}
	return 0;
}

static int
ident(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/* The selectors of a <style> rule that may hide text (S, N: "p.x, #y"):
 * each simple one (tag, tag.class, .class, #id) is kept, so that the
 * elements it matches are not read; anything else (descendants, pseudo
 * classes, attributes, *) cannot be followed here: nothing is read. */
static void
hiding_rule(struct h2t *h, const char *s, size_t n)
{
	const char *e = s + n, *c, *p;
	size_t l, tl, xl;
	struct sel *sl;

	while (s < e) {
		c = memchr(s, ',', (size_t)(e - s));
		if (c == NULL)
			c = e;
		l = (size_t)(c - s);
		trim(&s, &l);
		for (tl = 0; tl < l && isalnum((unsigned char)s[tl]); tl++)
			;
		p = s + tl;
		xl = 0;
		if (tl < l && (*p == '.' || *p == '#'))
			for (xl = 1; tl + xl < l && ident((unsigned char)p[xl]);
			    xl++)
				;
		if (l == 0 || tl + xl != l || xl == 1 || h->nsel >= MAX_SELS ||
		    tl >= sizeof sl->tag || xl >= sizeof sl->cls) {
			h->drop_all = 1;
			return;
		}
		sl = &h->sels[h->nsel++];
		memset(sl, 0, sizeof *sl);
		memcpy(sl->tag, s, tl);
		if (xl && *p == '.')
			memcpy(sl->cls, p + 1, xl - 1);
		else if (xl)
			memcpy(sl->id, p + 1, xl - 1);
		s = c < e ? c + 1 : e;
	}
}

/* A <style> block: a rule that may hide text marks the whole HTML, and
 * the elements it selects are not read (see hiding_rule). Comments
 * between rules are ignored; inside a rule they are suspect. */
static void
css_sheet(struct h2t *h, const char *s, size_t n)
{
	const char *p, *e = s + n, *open = NULL, *sel = s, *q;

	for (p = s; p < e; p++) {
		if (*p == '\\') {
			hide(h, "a CSS escape in a <style> block", NULL, 0);
			h->drop_all = 1;
			return;
		}
		if (*p == '/' && p + 1 < e && p[1] == '*') {
			if (open) {
				hide(h, "a CSS comment inside a <style> rule",
				    NULL, 0);
				h->drop_all = 1;
				return;
			}
			q = memmem(p + 2, (size_t)(e - p - 2), "*/", 2);
			if (q == NULL)
				return;
			p = q + 1;
			sel = p + 1;
		} else if (*p == '"' || *p == '\'') {
			q = memchr(p + 1, *p, (size_t)(e - p - 1));
			p = q ? q : e - 1;
		} else if (*p == '{') {
			if (open)	/* @media ... { rule { */
				sel = open;
			open = p + 1;
		} else if (*p == '}') {
			if (open && css_decls(h, open, (size_t)(p - open)))
				hiding_rule(h, sel, (size_t)(open - 1 - sel));
			open = NULL;
			sel = p + 1;
		} else if (!open && (*p == ';' || (*p == '>' && p > s &&
		    p[-1] == '-'))) {
			sel = p + 1;	/* @charset "x"; or "-->" */
		} else if (!open && *p == '<' && (size_t)(e - p) >= 4 &&
		    memcmp(p, "<!--", 4) == 0) {
			p += 3;
			sel = p + 1;
		} else if (*p == '@' && !open && strncasecmp(p, "@import",
		    (size_t)(e - p) < 7 ? (size_t)(e - p) : 7) == 0) {
			hide(h, "@import in a <style> block", NULL, 0);
			h->drop_all = 1;
			return;
		}
	}
	if (open && css_decls(h, open, (size_t)(e - open)))
		hiding_rule(h, sel, (size_t)(open - 1 - sel));
}

/* Every <style> block, wherever it is (they are in <head>, which is not
 * read, or anywhere in the body). */
static void
style_blocks(struct h2t *h, const char *p, const char *end)
{
	const char *q, *c;

	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) < 7 || strncasecmp(p + 1, "style", 5) ||
		    isalnum((unsigned char)p[6]) || p[6] == '-') {
			p++;
			continue;
		}
		q = memchr(p, '>', (size_t)(end - p));
		if (q == NULL)
			return;
		for (c = q + 1; c < end; c++) {
			if ((c = memchr(c, '<', (size_t)(end - c))) == NULL) {
				c = end;
				break;
			}
			if ((size_t)(end - c) >= 8 && c[1] == '/' &&
			    strncasecmp(c + 2, "style", 5) == 0 &&
			    !isalnum((unsigned char)c[7]))
				break;
		}
		if (c > end)
			c = end;
		css_sheet(h, q + 1, (size_t)(c - (q + 1)));
		p = c;
	}
}

/* The next attribute of a start tag from *P (up to END): its name and raw
 * value (quotes removed; *VL 0 and *V NULL when it has none). 0 at the
 * end. */
static int
attr_next(const char **pp, const char *end, const char **n, size_t *nl,
    const char **v, size_t *vl)
{
	const char *p = *pp;

	while (p < end && (isspace((unsigned char)*p) || *p == '/'))
		p++;
	if (p >= end)
		return 0;
	*n = p;
	while (p < end && !isspace((unsigned char)*p) && *p != '/' &&
	    *p != '=' && *p != '>' && (p == *n || (*p != '"' && *p != '\'')))
		p++;
	if (p == *n)
		p++;		/* a stray '"' or '=' */
	*nl = (size_t)(p - *n);
	*v = NULL;
	*vl = 0;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p == '=') {
		for (p++; p < end && isspace((unsigned char)*p); p++)
			;
		if (p < end && (*p == '"' || *p == '\'')) {
			const char *e = memchr(p + 1, *p, (size_t)(end - p - 1));

			*v = p + 1;
			p = e ? e + 1 : end;
			*vl = (size_t)((e ? e : end) - *v);
		} else {
			*v = p;
			while (p < end && !isspace((unsigned char)*p))
				p++;
			*vl = (size_t)(p - *v);
		}
	}
	*pp = p;
	return 1;
}

/* An attribute value with its entities decoded ("&#58;" is ':'), into
 * OUT; its length, or (size_t)-1 if it does not fit. */
static size_t
attr_decode(const char *v, size_t vl, char *out, size_t outsz)
{
	const char *e = v + vl;
	struct buf t = MIME_BUF;
	unsigned long cp;
	size_t k;

	t.s = out;
	t.cap = outsz;
	while (v < e) {
		if (t.len + 8 >= outsz)
			return (size_t)-1;
		if (*v == '&' && (k = entity(v, e, &cp)) > 0) {
			if (cp != 0)
				buf_add_cp(&t, cp);
			else
				buf_addc(&t, '?');	/* &shy; &zwj; ... */
			v += k;
		} else
			buf_addc(&t, *v++);
	}
	out[t.len] = '\0';
	return t.len;
}

/* Is WORD one of the blank-separated words of LIST (any case)? */
static int
has_word(const char *list, const char *word)
{
	size_t wl = strlen(word), l;

	while (*list) {
		while (isspace((unsigned char)*list))
			list++;
		for (l = 0; list[l] && !isspace((unsigned char)list[l]); l++)
			;
		if (l == wl && strncasecmp(list, word, wl) == 0)
			return 1;
		list += l;
	}
	return 0;
}

/* Elements whose content a reader does not see, or sees reordered or
 * moving, as they are shown by default. */
static const char *const hiding[] = { "details", "dialog", "marquee", "bdo",
    NULL };

/*
 * Can the element hide its text, by its own kind or by its attributes
 * (hidden, style, bgcolor, background, color, text, link, font size,
 * width/height, dir)? Then the reason is set and 1 returned: its text is
 * not read.
 */
static int
elem_hides(struct h2t *h, const char *nm, size_t nl, const char *a,
    const char *end, int isvoid)
{
	const char *n, *v, *p = a;
	size_t vl, al, dl;
	char d[MAX_STYLE], cls[512] = "", id[64] = "";
	double x;
	int kind, i, clslong = 0;

	if (name_is(nm, nl, hiding)) {
		hide(h, "an element that hides text:", nm, nl);
		return 1;
	}
	while (attr_next(&p, end, &n, &al, &v, &vl)) {
		if (mime_strncaseeq(n, al, "hidden")) {
			hide(h, "the hidden attribute", NULL, 0);
			return 1;
		}
		if (v == NULL)
			continue;
		dl = attr_decode(v, vl, d, sizeof d);
		if (dl == (size_t)-1) {
			hide(h, "an attribute too long to check:", n, al);
			return 1;
		}
		v = d;
		trim(&v, &dl);
		if (mime_strncaseeq(n, al, "class") && cls[0] == '\0') {
			if (dl >= sizeof cls)
				clslong = 1;	/* then any rule matches */
			snprintf(cls, sizeof cls, "%.*s", (int)dl, v);
		} else if (mime_strncaseeq(n, al, "id") && id[0] == '\0') {
			snprintf(id, sizeof id, "%.*s", (int)dl, v);
		} else if (mime_strncaseeq(n, al, "style")) {
			if (css_decls(h, v, dl))
				return 1;
		} else if (mime_strncaseeq(n, al, "bgcolor")) {
			if (css_color(v, dl, 1, &x) != 0 || x < 0.85)
				goto bad;
		} else if (mime_strncaseeq(n, al, "background")) {
			goto bad;
		} else if (mime_strncaseeq(n, al, "color") ||
		    mime_strncaseeq(n, al, "text") ||
		    mime_strncaseeq(n, al, "link") ||
		    mime_strncaseeq(n, al, "vlink") ||
		    mime_strncaseeq(n, al, "alink")) {
			if (css_color(v, dl, 1, &x) != 0 || x > 0.65)
				goto bad;
		} else if (mime_strncaseeq(n, al, "size") &&
		    (mime_strncaseeq(nm, nl, "font") ||
		    mime_strncaseeq(nm, nl, "basefont"))) {
			/* 1..7, +N, or -1 / -2 (from the default 3) */
			if (dl == 0 || (dl == 1 && (*v < '1' || *v > '7')) ||
			    (dl == 2 && !((v[0] == '+' && isdigit(
			    (unsigned char)v[1])) || (v[0] == '-' &&
			    (v[1] == '1' || v[1] == '2')))) || dl > 2)
				goto bad;
		} else if (!isvoid && (mime_strncaseeq(n, al, "width") ||
		    mime_strncaseeq(n, al, "height"))) {
			if (css_len(v, dl, &x, &kind) != 0 ||
			    (kind == L_PCT ? x < 10 : x < 8))
				goto bad;
		} else if (mime_strncaseeq(n, al, "dir")) {
			if (!mime_strncaseeq(v, dl, "ltr") &&
			    !mime_strncaseeq(v, dl, "auto"))
				goto bad;
		}
		continue;
bad:
		{
			char w[32];

			snprintf(w, sizeof w, "%.*s=", (int)(al < 12 ? al : 12),
			    n);
			hide(h, w, v, dl);
		}
		return 1;
	}
	/* elements selected by a hiding <style> rule */
	for (i = 0; i < h->nsel; i++) {
		const struct sel *sl = &h->sels[i];

		if (sl->tag[0] && !mime_strncaseeq(nm, nl, sl->tag))
			continue;
		if (sl->id[0] && strcasecmp(sl->id, id) != 0)
			continue;
		if (sl->cls[0] && !clslong && !has_word(cls, sl->cls))
			continue;
		return 1;
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
			buf_add(h->o, " |", 2);
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
	return html_to_text_why(html, len, NULL, 0);
}

char *
html_to_text_why(const char *html, size_t len, char *why, size_t whysz)
{
	struct buf o = MIME_BUF, v = MIME_BUF;
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
	h.why = why;
	h.whysz = whysz;
	if (why && whysz)
		why[0] = '\0';
	if (buf_reserve(&o, len / 2 + 64) == -1)
		return NULL;
	p = html;
	end = html + len;
	style_blocks(&h, p, end);
	if (h.drop_all)
		p = end;	/* we cannot tell which text is hidden */
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
			if (!closing && elem_hides(&h, nm, nl, a, q,
			    name_is(nm, nl, voids))) {
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

		while (o.len > 0 && (o.s[o.len - 1] == '\n' ||
		    o.s[o.len - 1] == ' '))
			o.len--;
		for (ls = o.len; ls > 0 && o.s[ls - 1] != '\n'; ls--)
			;
		for (k = ls; k < o.len && (o.s[k] == '>' || o.s[k] == ' '); k++)
			;
		if (k < o.len || ls == o.len)
			break;
		o.len = ls;	/* a last line of bare quote marks */
	}
	if (o.err) {
		buf_free(&o);
		return NULL;
	}
	mime_utf8_add(&v, o.s ? o.s : "", o.len, MU_TEXT);
	buf_free(&o);
	return buf_steal(&v);
}
