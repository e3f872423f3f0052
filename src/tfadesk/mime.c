/*
 * mime.c - a raw RFC 5322 message to clean UTF-8 text.
 *
 * The header block is read here (every header kept in order, unfolded,
 * RFC 2047 decoded); the MIME structure comes from libetpan's mailmime_parse;
 * transfer encodings and charsets are undone here so that bad input can
 * never produce invalid UTF-8. Self-contained: no tfadesk.h, no aborts.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>
#include <sodium.h>

#include "mime.h"
#include "mime-int.h"
#include "addr.h"
#include "utf8.h"

#define MAX_HEADERS	5000		/* more are read past, not kept */
#define MSGID_SCAN	(256u << 10)	/* mime_message_id reads this much */
#define MAX_MSGID	998

struct rawhdr {
	const char *name;
	size_t namelen;
	const char *val;	/* raw, with folds */
	size_t vallen;
};

struct walk {
	const struct msg_limits *lim;
	struct buf text;
	size_t parts;
	int nplain, nhtml;
	int badenc;
	char hidden[160];	/* why the HTML read may hide text, or "" */
	const char *error;
};

static const char *find_eol(const char *, const char *);
static void unfold(struct buf *, const char *, size_t);
static void hdr_decode(struct buf *, const char *, size_t);
static char *extract_id(const char *, size_t);
static int scan_headers(const char *, size_t, struct rawhdr **, size_t *,
    size_t *);
static void parse_from(struct msg *, const char *, size_t, int);
static void walk_mime(struct walk *, struct mailmime *, size_t);
static void add_part_text(struct walk *, struct mailmime *);
static void decode_cte(struct buf *, int, const char *, size_t, int *);
static void split_text(struct msg *, struct buf *, struct buf *,
    struct buf *);
static void part_bounds(const char *, size_t, size_t *, size_t *,
    size_t *);

int
mime_strncaseeq(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen == n && strncasecmp(a, lit, n) == 0;
}

/* ---- UTF-8 and charsets -------------------------------------------- */

void
mime_utf8_add(struct buf *b, const char *s, size_t n, int mode)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0, run, k;

	if (buf_reserve(b, n) == -1)
		return;
	while (i < n) {
		/* fast path: a run of plain printable ASCII */
		run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7F)
			run++;
		if (run > i) {
			buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		if (p[i] < 0x80) {
			unsigned char c = p[i++];

			if (mode == MU_KEEP) {
				if (c != 0)
					buf_addc(b, c);
			} else if (mode == MU_HEADER) {
				if (c == '\t' || c == '\r' || c == '\n')
					buf_addc(b, ' ');
			} else if (c == '\r') {
				buf_addc(b, '\n');
				if (i < n && p[i] == '\n')
					i++;
			} else if (c == '\n' || c == '\t' || c == '\f')
				buf_addc(b, c);
			continue;
		}
		k = utf8_decode(s + i, n - i, &cp);
		if (k == 0) {
			buf_add(b, UTF8_REPLACEMENT_STR, 3);
			i++;
		} else {
			if (cp == 0xFEFF && b->len == 0)
				;	/* byte-order mark */
			else
				buf_add(b, s + i, k);
			i += k;
		}
	}
}

static const unsigned short cp1252_hi[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

unsigned long
mime_cp1252(unsigned char c)
{
	if (c >= 0x80 && c < 0xA0)
		return cp1252_hi[c - 0x80];
	return c;
}

static void
cp1252_add(struct buf *b, const char *s, size_t n, int mode)
{
	struct buf t = MIME_BUF;
	size_t i;

	if (buf_reserve(&t, n + n / 2) == -1) {
		b->err = BUF_NOMEM;
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			buf_addc(&t, c);
		else
			buf_add_cp(&t, mime_cp1252(c));
	}
	if (t.err)
		b->err = BUF_NOMEM;
	else
		mime_utf8_add(b, t.s, t.len, mode);
	buf_free(&t);
}

/* Normalised charset name into OUT (lowercase, no quotes, no *lang). */
static void
cs_norm(const char *cs, char *out, size_t outsz)
{
	size_t i = 0;

	while (*cs == ' ' || *cs == '"' || *cs == '\'')
		cs++;
	for (; *cs && *cs != '"' && *cs != '*' && *cs != ' ' &&
	    i + 1 < outsz; cs++)
		out[i++] = (char)tolower((unsigned char)*cs);
	out[i] = '\0';
}

static int
cs_is(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(cs, *names) == 0)
			return 1;
	return 0;
}

static const char *const cs_utf8[] = { "utf-8", "utf8", "unicode-1-1-utf-8",
    "x-unicode20utf8", NULL };
static const char *const cs_ascii[] = { "", "us-ascii", "ascii", "us",
    "ansi_x3.4-1968", "iso646-us", "default", "unknown", "x-unknown",
    "unknown-8bit", "x-user-defined", "iso-8859-1-i", NULL };
static const char *const cs_1252[] = { "iso-8859-1", "iso8859-1",
    "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252",
    "x-cp1252", "cp819", "ibm819", "iso-ir-100", "iso_8859-1:1987",
    "windows-1252-i", NULL };

static const struct { const char *from, *to; } cs_alias[] = {
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" },
	{ "cn-gb", "GB18030" }, { "x-sjis", "SHIFT_JIS" },
	{ "shift-jis", "SHIFT_JIS" }, { "iso-8859-8-i", "ISO-8859-8" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "iso-8859-9", "WINDOWS-1254" }, { "tis-620", "CP874" },
	{ "windows-874", "CP874" }, { "unicode-1-1-utf-7", "UTF-7" },
	{ "x-euc-jp", "EUC-JP" }, { "big5", "BIG5-HKSCS" },
	{ NULL, NULL }
};

void
mime_to_utf8(struct buf *b, const char *charset, const char *s, size_t n,
    int mode)
{
	char cs[64];
	const char *name;
	struct buf t = MIME_BUF;
	iconv_t cd;
	char *in, *out;
	size_t inleft, outleft, r, i;

	cs_norm(charset ? charset : "", cs, sizeof(cs));
	if (cs_is(cs, cs_utf8)) {
		mime_utf8_add(b, s, n, mode);
		return;
	}
	if (cs_is(cs, cs_ascii)) {
		/* undeclared 8-bit: UTF-8 when it is, else Windows-1252 */
		if (utf8_valid(s, n))
			mime_utf8_add(b, s, n, mode);
		else
			cp1252_add(b, s, n, mode);
		return;
	}
	if (cs_is(cs, cs_1252)) {
		cp1252_add(b, s, n, mode);
		return;
	}
	name = cs;
	for (i = 0; cs_alias[i].from; i++)
		if (strcmp(cs, cs_alias[i].from) == 0) {
			name = cs_alias[i].to;
			break;
		}
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1) {
		cp1252_add(b, s, n, mode);	/* unknown charset */
		return;
	}
	if (buf_reserve(&t, n * 2 + 16) == -1) {
		iconv_close(cd);
		b->err = BUF_NOMEM;
		return;
	}
	in = (char *)(uintptr_t)s;
	inleft = n;
	while (inleft > 0) {
		out = t.s + t.len;
		outleft = t.cap - t.len - 1;
		r = iconv(cd, &in, &inleft, &out, &outleft);
		t.len = (size_t)(out - t.s);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			if (buf_reserve(&t, inleft * 2 + 16) == -1)
				break;
		} else if (errno == EILSEQ) {
			buf_add(&t, "\xEF\xBF\xBD", 3);
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		} else {	/* EINVAL: truncated sequence at the end */
			buf_add(&t, "\xEF\xBF\xBD", 3);
			break;
		}
	}
	/* flush any shift state (ISO-2022-JP, UTF-7) */
	if (!t.err && buf_reserve(&t, 16) == 0) {
		out = t.s + t.len;
		outleft = t.cap - t.len - 1;
		iconv(cd, NULL, NULL, &out, &outleft);
		t.len = (size_t)(out - t.s);
	}
	iconv_close(cd);
	if (t.err)
		b->err = BUF_NOMEM;
	else
		mime_utf8_add(b, t.s, t.len, mode);	/* validate anyway */
	buf_free(&t);
}

/* ---- transfer encodings -------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static const signed char b64tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
	['-'] = 63, ['_'] = 64,	/* URL-safe alphabet, seen in the wild */
};

/* Tolerant base64: skips whitespace; counts other junk in *bad. */
static void
b64_decode(struct buf *b, const char *s, size_t n, int *bad)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t i;

	if (buf_reserve(b, n / 4 * 3 + 3) == -1)
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = b64tab[c];

		if (v == 0) {
			if (c == '=' || c == ' ' || c == '\t' || c == '\r' ||
			    c == '\n')
				continue;
			if (bad)
				(*bad)++;
			continue;
		}
		acc = (acc << 6) | (unsigned long)(v - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b->s[b->len++] = (char)((acc >> bits) & 0xFF);
		}
	}
	b->s[b->len] = '\0';
}

/* Quoted-printable (RFC 2045 6.7), tolerant of bad escapes. With HDR, the
 * RFC 2047 Q form: '_' is a space. */
static void
qp_decode(struct buf *b, const char *s, size_t n, int hdr)
{
	size_t i, j;
	int h, l;

	if (buf_reserve(b, n) == -1)
		return;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '_' && hdr) {
			b->s[b->len++] = ' ';
		} else if (c != '=') {
			b->s[b->len++] = c;
		} else if (i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			b->s[b->len++] = (char)(h * 16 + l);
			i += 2;
		} else {
			/* soft line break: "=" then optional blanks, EOL */
			j = i + 1;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < n && s[j] == '\r')
				j++;
			if (j < n && s[j] == '\n') {
				i = j;
			} else if (j >= n) {
				i = n;
			} else
				b->s[b->len++] = '=';
		}
	}
	b->s[b->len] = '\0';
}

static void
decode_cte(struct buf *b, int enc, const char *s, size_t n, int *bad)
{
	if (enc == MAILMIME_MECHANISM_BASE64)
		b64_decode(b, s, n, bad);
	else if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		qp_decode(b, s, n, 0);
	else
		buf_add(b, s, n);	/* 7bit, 8bit, binary, unknown */
}

/* ---- headers ------------------------------------------------------- */

static const char *
find_eol(const char *p, const char *end)
{
	const char *q = memchr(p, '\n', (size_t)(end - p));

	return q ? q : end;
}

/* Split the header block into RAWHDR entries; *BODY is where the body
 * starts. Lines that are not headers (an mbox "From " line, garbage) are
 * skipped. Returns -1 on OOM. */
static int
scan_headers(const char *raw, size_t len, struct rawhdr **hp, size_t *np,
    size_t *body)
{
	const char *p = raw, *end = raw + len, *eol, *c, *q;
	struct rawhdr *h = NULL, *nh;
	size_t n = 0, cap = 0;

	*hp = NULL;
	*np = 0;
	while (p < end) {
		eol = find_eol(p, end);
		if (p[0] == '\n' || (p[0] == '\r' && p + 1 < end &&
		    p[1] == '\n') || (p[0] == '\r' && p + 1 == end)) {
			p = eol < end ? eol + 1 : end;
			break;		/* empty line: end of headers */
		}
		if (p[0] == ' ' || p[0] == '\t') {
			p = eol < end ? eol + 1 : end;	/* stray fold */
			continue;
		}
		for (c = p; c < eol && *c != ':' && (unsigned char)*c > ' ' &&
		    (unsigned char)*c < 127; c++)
			;
		q = c;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (c == p || q >= eol || *q != ':') {
			p = eol < end ? eol + 1 : end;	/* not a header */
			continue;
		}
		/* the value runs on over continuation lines */
		{
			const char *v = q + 1, *ve = eol;

			while (ve < end && ve + 1 < end &&
			    (ve[1] == ' ' || ve[1] == '\t')) {
				/* do not run a fold into the blank line */
				const char *nx = ve + 1, *ne = find_eol(nx, end);
				const char *k = nx;

				while (k < ne && (*k == ' ' || *k == '\t' ||
				    *k == '\r'))
					k++;
				if (k == ne)
					break;
				ve = ne;
			}
			if (n < MAX_HEADERS) {
				if (n == cap) {
					cap = cap ? cap * 2 : 32;
					nh = realloc(h, cap * sizeof(*h));
					if (nh == NULL) {
						free(h);
						return -1;
					}
					h = nh;
				}
				h[n].name = p;
				h[n].namelen = (size_t)(c - p);
				h[n].val = v;
				h[n].vallen = (size_t)(ve - v);
				n++;
			}
			p = ve < end ? ve + 1 : end;
		}
	}
	*hp = h;
	*np = n;
	*body = (size_t)(p - raw);
	return 0;
}

/* Unfold: drop CR and LF (the folding whitespace that follows stays). */
static void
unfold(struct buf *b, const char *s, size_t n)
{
	size_t i, st = 0;

	if (buf_reserve(b, n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n') {
			buf_add(b, s + st, i - st);
			st = i + 1;
		}
	buf_add(b, s + st, n - st);
}

/* Parse an encoded word at S (ending before END). On success fill charset
 * (CS, CSLEN), encoding, text, and return its length. */
static size_t
ew_parse(const char *s, const char *end, const char **cs, size_t *cslen,
    int *enc, const char **txt, size_t *txtlen)
{
	const char *p = s + 2, *t;

	if (end - s < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	*cs = p;
	while (p < end && *p != '?' && (unsigned char)*p > ' ' &&
	    p - *cs < 64)
		p++;
	if (p >= end || *p != '?' || p == *cs)
		return 0;
	*cslen = (size_t)(p - *cs);
	p++;
	if (p + 1 >= end || p[1] != '?')
		return 0;
	*enc = toupper((unsigned char)*p);
	if (*enc != 'Q' && *enc != 'B')
		return 0;
	p += 2;
	t = p;
	while (p < end && *p != '?' && p - t < 2000)
		p++;
	if (p + 1 >= end || p[0] != '?' || p[1] != '=')
		return 0;
	*txt = t;
	*txtlen = (size_t)(p - t);
	return (size_t)(p + 2 - s);
}

/* Decode RFC 2047 words in an unfolded value (also where RFC 2047 says
 * they may not be: mail programs do that), adjacent words joined, so a
 * character split across two words survives. Appends raw UTF-8 (MU_KEEP
 * later cleaned by the caller). */
static void
hdr_decode(struct buf *out, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *lit = s, *q, *cs = NULL, *txt;
	const char *pcs = NULL;
	size_t pcslen = 0, cslen, txtlen, k;
	struct buf pend = MIME_BUF;
	char csbuf[65];
	int enc, prev_ew = 0;

	while (p < end) {
		q = memchr(p, '=', (size_t)(end - p));
		if (q == NULL)
			break;
		k = ew_parse(q, end, &cs, &cslen, &enc, &txt, &txtlen);
		if (k == 0) {
			p = q + 1;
			continue;
		}
		/* literal text between the previous word and this one */
		if (q > lit) {
			const char *w = lit;

			while (w < q && (*w == ' ' || *w == '\t'))
				w++;
			if (!(prev_ew && w == q)) {
				if (pend.len) {
					memcpy(csbuf, pcs, pcslen);
					csbuf[pcslen] = '\0';
					mime_to_utf8(out, csbuf, pend.s,
					    pend.len, MU_KEEP);
					pend.len = 0;
				}
				mime_to_utf8(out, NULL, lit,
				    (size_t)(q - lit), MU_KEEP);
			}
		}
		if (pend.len && (pcslen != cslen ||
		    strncasecmp(pcs, cs, cslen) != 0)) {
			memcpy(csbuf, pcs, pcslen);
			csbuf[pcslen] = '\0';
			mime_to_utf8(out, csbuf, pend.s, pend.len, MU_KEEP);
			pend.len = 0;
		}
		pcs = cs;
		pcslen = cslen;
		if (enc == 'B')
			b64_decode(&pend, txt, txtlen, NULL);
		else
			qp_decode(&pend, txt, txtlen, 1);
		prev_ew = 1;
		p = lit = q + k;
	}
	if (pend.len) {
		memcpy(csbuf, pcs, pcslen);
		csbuf[pcslen] = '\0';
		mime_to_utf8(out, csbuf, pend.s, pend.len, MU_KEEP);
	}
	if (pend.err)
		out->err = BUF_NOMEM;
	buf_free(&pend);
	if (lit < end)
		mime_to_utf8(out, NULL, lit, (size_t)(end - lit), MU_KEEP);
}

/* The decoded, cleaned value of a raw header value: one line, valid UTF-8,
 * runs of blanks collapsed, trimmed. NULL on OOM. */
static char *
hdr_value(const char *raw, size_t n, int decode)
{
	struct buf u = MIME_BUF, d = MIME_BUF, c = MIME_BUF;
	size_t i;
	int sp = 0;

	unfold(&u, raw, n);
	if (decode)
		hdr_decode(&d, u.s ? u.s : "", u.len);
	else
		mime_to_utf8(&d, NULL, u.s ? u.s : "", u.len, MU_KEEP);
	mime_utf8_add(&c, d.s ? d.s : "", d.len, MU_HEADER);
	if (u.err || d.err)
		c.err = BUF_NOMEM;
	buf_free(&u);
	buf_free(&d);
	if (c.err) {
		buf_free(&c);
		return NULL;
	}
	/* collapse blanks in place and trim */
	{
		size_t o = 0;

		for (i = 0; i < c.len; i++) {
			if (c.s[i] == ' ') {
				sp = 1;
				continue;
			}
			if (sp && o > 0)
				c.s[o++] = ' ';
			sp = 0;
			c.s[o++] = c.s[i];
		}
		c.len = o;
		if (c.s)
			c.s[o] = '\0';
	}
	return buf_steal(&c);
}

/* "<id>" (first one) from a raw value; bare tokens accepted. */
static char *
extract_id(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *lt, *gt;
	char *id;
	size_t i, o = 0;

	lt = memchr(s, '<', n);
	if (lt) {
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			gt = end;
		p = lt + 1;
		end = gt;
	}
	if ((size_t)(end - p) > 4 * MAX_MSGID)
		return NULL;
	id = malloc((size_t)(end - p) + 1);
	if (id == NULL)
		return NULL;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 127 || c == '<' || c == '>') {
			if (!lt && o > 0 && (c == ' ' || c == '\t'))
				break;	/* bare id: first token only */
			continue;
		}
		if (c >= 128)
			continue;	/* ids are ASCII */
		id[o++] = (char)c;
	}
	id[o] = '\0';
	for (i = 0; i < o && id[i] != '@'; i++)
		;
	if (o == 0 || o > MAX_MSGID) {
		free(id);
		return NULL;
	}
	return id;
}

char *
mime_message_id(const char *raw, size_t len)
{
	const char *p = raw, *end, *eol, *v;
	struct buf u = MIME_BUF;
	char *id;

	if (raw == NULL)
		return NULL;
	end = raw + (len < MSGID_SCAN ? len : MSGID_SCAN);
	while (p < end) {
		eol = find_eol(p, end);
		if (p[0] == '\n' || (p[0] == '\r' && (p + 1 == end ||
		    p[1] == '\n')))
			break;
		if (eol - p >= 11 && strncasecmp(p, "message-id", 10) == 0) {
			v = p + 10;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (v < eol && *v == ':') {
				v++;
				buf_add(&u, v, (size_t)(eol - v));
				while (eol < end && eol + 1 < end &&
				    (eol[1] == ' ' || eol[1] == '\t')) {
					p = eol + 1;
					eol = find_eol(p, end);
					buf_add(&u, p, (size_t)(eol - p));
				}
				if (u.err)
					return NULL;
				id = extract_id(u.s, u.len);
				buf_free(&u);
				return id;
			}
		}
		p = eol < end ? eol + 1 : end;
	}
	return NULL;
}

/* ---- identity ------------------------------------------------------ */

/* The digest is fed through a small buffer: one hash update per 4 KiB. */
struct idhash {
	crypto_generichash_state st;
	unsigned char b[4096];
	size_t n;
};

static void
id_add(struct idhash *h, const char *s, size_t n)
{
	size_t k;

	while (n > 0) {
		if (h->n == sizeof h->b) {
			crypto_generichash_update(&h->st, h->b, h->n);
			h->n = 0;
		}
		k = sizeof h->b - h->n < n ? sizeof h->b - h->n : n;
		memcpy(h->b + h->n, s, k);
		h->n += k;
		s += k;
		n -= k;
	}
}

/*
 * Is the header line [P, E) one of the trace fields a delivery adds
 * (Return-Path, Received, Delivered-To, X-Original-To,
 * Authentication-Results, ARC-*)? The name as scan_headers reads it:
 * printable ASCII up to the colon, blanks allowed before it.
 */
static int
id_trace(const char *p, const char *e)
{
	static const char *const names[] = { "Return-Path", "Received",
	    "Delivered-To", "X-Original-To", "Authentication-Results", NULL };
	const char *c, *q;
	size_t i, nl;

	for (c = p; c < e && *c != ':' && (unsigned char)*c > ' ' &&
	    (unsigned char)*c < 127; c++)
		;
	for (q = c; q < e && (*q == ' ' || *q == '\t'); q++)
		;
	if (c == p || q >= e || *q != ':')
		return 0;		/* not a header line: kept */
	nl = (size_t)(c - p);
	if (nl >= 4 && strncasecmp(p, "ARC-", 4) == 0)
		return 1;
	for (i = 0; names[i]; i++)
		if (mime_strncaseeq(p, nl, names[i]))
			return 1;
	return 0;
}

/*
 * The identity of a message (see mime.h): one pass over the bytes, no
 * allocation. Each line (ended by CRLF, LF, CR or the end of the input)
 * goes into the hash with LF; in the header block, a trace field and
 * the continuation lines that follow it are left out.
 */
int
mime_identity(const char *raw, size_t len,
    unsigned char out[MIME_IDENTITY_BYTES])
{
	struct idhash h;
	const char *p = raw, *end, *e;
	int head = 1, skip = 0;

	if (raw == NULL)
		len = 0, p = "";
	end = p + len;
	if (crypto_generichash_init(&h.st, NULL, 0, MIME_IDENTITY_BYTES) != 0)
		return -1;
	h.n = 0;
	while (p < end) {
		for (e = p; e < end && *e != '\n' && *e != '\r'; e++)
			;
		if (head && e == p)
			head = 0;	/* the blank line ends the header block */
		else if (head && (*p == ' ' || *p == '\t'))
			;		/* a continuation: as its field */
		else if (head)
			skip = id_trace(p, e);
		if (!head || !skip) {
			id_add(&h, p, (size_t)(e - p));
			id_add(&h, "\n", 1);
		}
		if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
			e++;
		p = e < end ? e + 1 : end;
	}
	crypto_generichash_update(&h.st, h.b, h.n);
	return crypto_generichash_final(&h.st, out, MIME_IDENTITY_BYTES);
}

const char *
msg_header(const struct msg *m, const char *name)
{
	size_t i;

	if (m == NULL || name == NULL)
		return NULL;
	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

/* From (WHICH 0) or Reply-To (1) from a raw unfolded value: parsed
 * (addr_parse_list) before any decoding; the display name decoded after. */
static void
parse_from(struct msg *m, const char *v, size_t n, int which)
{
	struct addr first;
	int count, rc;

	rc = addr_parse_list(v, n, &first, &count);
	if (rc == -1) {
		if (which == 0)
			m->from_count++;    /* there, but unusable */
		return;
	}
	if (which == 0) {
		/* every From field counts, even one with no mailbox in it
		 * ("From: undisclosed:;"), so that a second one is seen */
		m->from_count += count ? count : 1;
		if (first.spec && m->from_addr == NULL) {
			m->from_addr = first.spec;
			first.spec = NULL;
			if (first.name) {
				m->from_name = hdr_value(first.name,
				    strlen(first.name), 1);
				if (m->from_name && m->from_name[0] == '\0') {
					free(m->from_name);
					m->from_name = NULL;
				}
			}
		}
	} else if (first.spec && m->reply_to_addr == NULL) {
		m->reply_to_addr = first.spec;
		first.spec = NULL;
	}
	addr_free(&first);
}

/* ---- body ---------------------------------------------------------- */

static const char *
ct_param(struct mailmime_content *ct, const char *name)
{
	clistiter *it;

	if (ct == NULL || ct->ct_parameters == NULL)
		return NULL;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (pa->pa_name && strcasecmp(pa->pa_name, name) == 0)
			return pa->pa_value;
	}
	return NULL;
}

static int
ct_has_param_prefix(struct mailmime_content *ct, const char *pfx)
{
	clistiter *it;

	if (ct == NULL || ct->ct_parameters == NULL)
		return 0;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (pa->pa_name && strncasecmp(pa->pa_name, pfx,
		    strlen(pfx)) == 0)
			return 1;
	}
	return 0;
}

/* Is this single part an attachment rather than body text? */
static int
is_attachment(struct mailmime *mm)
{
	clistiter *it, *jt;

	if (ct_has_param_prefix(mm->mm_content_type, "name"))
		return 1;
	if (mm->mm_mime_fields == NULL)
		return 0;
	for (it = clist_begin(mm->mm_mime_fields->fld_list); it;
	    it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		struct mailmime_disposition *d;

		if (f->fld_type != MAILMIME_FIELD_DISPOSITION)
			continue;
		d = f->fld_data.fld_disposition;
		if (d == NULL)
			continue;
		if (d->dsp_type && d->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
		for (jt = clist_begin(d->dsp_parms); jt; jt = clist_next(jt)) {
			struct mailmime_disposition_parm *pa = clist_content(jt);

			if (pa->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				return 1;
			if (pa->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
			    pa->pa_data.pa_parameter->pa_name &&
			    strncasecmp(pa->pa_data.pa_parameter->pa_name,
			    "filename", 8) == 0)
				return 1;
		}
	}
	return 0;
}

/* 0 other, 1 text/plain, 2 text/html */
static int
text_kind(struct mailmime *mm)
{
	struct mailmime_content *ct = mm->mm_content_type;
	struct mailmime_type *t;

	if (ct == NULL)
		return 1;
	t = ct->ct_type;
	if (t == NULL || t->tp_type != MAILMIME_TYPE_DISCRETE_TYPE ||
	    t->tp_data.tp_discrete_type == NULL ||
	    t->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT)
		return 0;
	if (ct->ct_subtype == NULL || strcasecmp(ct->ct_subtype, "plain") == 0)
		return 1;
	if (strcasecmp(ct->ct_subtype, "html") == 0)
		return 2;
	return 0;
}

/* Does the subtree hold a body part of kind K? */
static int
has_kind(struct mailmime *mm, int k, int depth)
{
	clistiter *it;

	if (depth > 64)
		return 0;
	if (mm->mm_type == MAILMIME_SINGLE)
		return !is_attachment(mm) && text_kind(mm) == k;
	if (mm->mm_type == MAILMIME_MULTIPLE)
		for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it;
		    it = clist_next(it))
			if (has_kind(clist_content(it), k, depth + 1))
				return 1;
	return 0;
}

/* Undo RFC 3676 format=flowed (soft breaks end in a space). */
static void
unflow(struct buf *out, const char *s, size_t n, int delsp)
{
	const char *p = s, *end = s + n, *eol;
	size_t ll;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		ll = (size_t)(eol - p);
		if (ll > 0 && p[0] == ' ')	/* space-stuffing */
			p++, ll--;
		if (ll > 0 && p[ll - 1] == ' ' && !(ll == 3 &&
		    memcmp(p, "-- ", 3) == 0) && p[0] != '>') {
			buf_add(out, p, delsp ? ll - 1 : ll);
		} else {
			buf_add(out, p, ll);
			if (eol < end)
				buf_addc(out, '\n');
		}
		p = eol < end ? eol + 1 : end;
	}
}

/* Guess a charset from an HTML <meta>, for HTML parts without one. */
static int
html_charset(const char *s, size_t n, char *cs, size_t cssz)
{
	size_t i, j, lim = n < 2048 ? n : 2048;

	for (i = 0; i + 8 < lim; i++) {
		if (strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		i += 8;
		while (i < lim && (s[i] == '"' || s[i] == '\''))
			i++;
		for (j = 0; i < lim && j + 1 < cssz && (isalnum(
		    (unsigned char)s[i]) || s[i] == '-' || s[i] == '_' ||
		    s[i] == ':' || s[i] == '.'); i++)
			cs[j++] = s[i];
		cs[j] = '\0';
		return j > 0;
	}
	return 0;
}

static void
add_part_text(struct walk *w, struct mailmime *mm)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	struct buf dec = MIME_BUF, u = MIME_BUF;
	const char *charset;
	char csbuf[64];
	int kind, bad = 0, enc;
	size_t nonws = 0, i;

	kind = text_kind(mm);
	if (kind == 0 || is_attachment(mm) || d == NULL ||
	    d->dt_type != MAILMIME_DATA_TEXT)
		return;
	enc = d->dt_encoded ? d->dt_encoding : MAILMIME_MECHANISM_8BIT;
	decode_cte(&dec, enc, d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &bad);
	if (enc == MAILMIME_MECHANISM_BASE64 && bad > 0) {
		for (i = 0; i < d->dt_data.dt_text.dt_length; i++)
			if (!isspace((unsigned char)
			    d->dt_data.dt_text.dt_data[i]))
				nonws++;
		if ((size_t)bad * 20 > nonws)
			w->badenc = 1;
	}
	charset = ct_param(mm->mm_content_type, "charset");
	if (charset == NULL && kind == 2 && dec.s &&
	    html_charset(dec.s, dec.len, csbuf, sizeof(csbuf)))
		charset = csbuf;
	mime_to_utf8(&u, charset, dec.s ? dec.s : "", dec.len, MU_TEXT);
	if (dec.err)
		u.err = BUF_NOMEM;
	buf_free(&dec);
	if (u.err) {
		w->text.err = BUF_NOMEM;
		buf_free(&u);
		return;
	}
	if (w->text.len > 0 && w->text.s[w->text.len - 1] != '\n')
		buf_addc(&w->text, '\n');
	if (kind == 2) {
		char why[sizeof w->hidden];
		char *t = html_to_text_why(u.s ? u.s : "", u.len, why,
		    sizeof why);

		if (why[0] != '\0' && w->hidden[0] == '\0')
			memcpy(w->hidden, why, sizeof why);
		if (t == NULL)
			w->text.err = BUF_NOMEM;
		else
			buf_adds(&w->text, t);
		free(t);
		w->nhtml++;
	} else {
		const char *fmt = ct_param(mm->mm_content_type, "format");
		const char *dsp = ct_param(mm->mm_content_type, "delsp");

		if (fmt && strcasecmp(fmt, "flowed") == 0)
			unflow(&w->text, u.s ? u.s : "", u.len,
			    dsp && strcasecmp(dsp, "yes") == 0);
		else
			buf_add(&w->text, u.s ? u.s : "", u.len);
		w->nplain++;
	}
	buf_free(&u);
}

/* A message/rfc822 part: a short header then its text. */
static void
add_forwarded(struct walk *w, struct mailmime *mm)
{
	static const char *const keep[] = { "From", "Date", "Subject", "To",
	    NULL };
	struct mailmime_data *d = mm->mm_body;
	struct rawhdr *h = NULL;
	size_t nh = 0, body, i, k;
	char *v;

	if (w->text.len > 0 && w->text.s[w->text.len - 1] != '\n')
		buf_addc(&w->text, '\n');
	buf_adds(&w->text, "\n---------- Forwarded message ---------\n");
	if (d && d->dt_type == MAILMIME_DATA_TEXT &&
	    scan_headers(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &h, &nh, &body) == 0) {
		for (k = 0; keep[k]; k++)
			for (i = 0; i < nh; i++) {
				if (!mime_strncaseeq(h[i].name, h[i].namelen,
				    keep[k]))
					continue;
				v = hdr_value(h[i].val, h[i].vallen, 1);
				if (v == NULL) {
					w->text.err = BUF_NOMEM;
					break;
				}
				buf_adds(&w->text, keep[k]);
				buf_adds(&w->text, ": ");
				buf_adds(&w->text, v);
				buf_addc(&w->text, '\n');
				free(v);
				break;
			}
		free(h);
	}
	buf_addc(&w->text, '\n');
}

static void
walk_mime(struct walk *w, struct mailmime *mm, size_t depth)
{
	clistiter *it;
	const char *sub;
	struct mailmime *pick = NULL;

	if (w->error || mm == NULL)
		return;
	if (++w->parts > w->lim->max_parts) {
		w->error = "too many MIME parts";
		return;
	}
	if (depth > w->lim->max_depth) {
		w->error = "MIME nesting too deep";
		return;
	}
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		add_part_text(w, mm);
		break;
	case MAILMIME_MESSAGE:
		if (mm->mm_parent != NULL)
			add_forwarded(w, mm);
		walk_mime(w, mm->mm_data.mm_message.mm_msg_mime,
		    mm->mm_parent ? depth + 1 : depth);
		break;
	case MAILMIME_MULTIPLE:
		sub = mm->mm_content_type && mm->mm_content_type->ct_subtype ?
		    mm->mm_content_type->ct_subtype : "mixed";
		if (strcasecmp(sub, "alternative") == 0) {
			/* count every alternative against the limits */
			for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			    it; it = clist_next(it)) {
				struct mailmime *c = clist_content(it);

				if (pick == NULL && has_kind(c, 1, 0))
					pick = c;
			}
			if (pick == NULL)
				for (it = clist_begin(
				    mm->mm_data.mm_multipart.mm_mp_list); it;
				    it = clist_next(it))
					if (has_kind(clist_content(it), 2, 0)) {
						pick = clist_content(it);
						break;
					}
			w->parts += clist_count(
			    mm->mm_data.mm_multipart.mm_mp_list);
			if (pick) {
				w->parts--;
				walk_mime(w, pick, depth + 1);
			}
			if (w->parts > w->lim->max_parts && !w->error)
				w->error = "too many MIME parts";
		} else if (strcasecmp(sub, "related") == 0 ||
		    strcasecmp(sub, "signed") == 0 ||
		    strcasecmp(sub, "encrypted") == 0) {
			it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			if (it)
				walk_mime(w, clist_content(it), depth + 1);
			w->parts += clist_count(
			    mm->mm_data.mm_multipart.mm_mp_list);
			if (it)
				w->parts--;
			if (w->parts > w->lim->max_parts && !w->error)
				w->error = "too many MIME parts";
		} else {
			for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			    it && !w->error; it = clist_next(it))
				walk_mime(w, clist_content(it), depth + 1);
		}
		break;
	default:
		break;
	}
}

/* Cheap upper bounds, before libetpan builds a tree: the number of
 * Content-Type header lines naming multipart/ or message/ (bounds its
 * recursion), and the number of lines that start with one of the declared
 * boundaries (bounds the parts, so a small message of 300,000 empty parts
 * cannot cost memory). */
#define MAX_BOUNDS 64

static void
part_bounds(const char *s, size_t n, size_t *nest, size_t *delims,
    size_t *depth)
{
	const char *p = s, *end = s + n, *eol, *v, *b;
	const char *bs[MAX_BOUNDS];
	size_t bl[MAX_BOUNDS], nb = 0, k, len, sp = 0;

	/* bs[0..sp) is also the stack of open multiparts, for *DEPTH */
	*nest = *delims = *depth = 0;
	while (p < end) {
		eol = find_eol(p, end);
		if (eol - p > 13 && (p[0] == 'C' || p[0] == 'c') &&
		    strncasecmp(p, "content-type:", 13) == 0) {
			/* the value, first line plus one fold */
			const char *ve = eol;

			if (ve + 1 < end && (ve[1] == ' ' || ve[1] == '\t'))
				ve = find_eol(ve + 1, end);
			for (v = p + 13; v < ve && (*v == ' ' || *v == '\t' ||
			    *v == '\r' || *v == '\n'); v++)
				;
			if ((ve - v >= 10 && strncasecmp(v, "multipart/",
			    10) == 0) || (ve - v >= 8 && strncasecmp(v,
			    "message/", 8) == 0))
				(*nest)++;
			b = nb < MAX_BOUNDS ? memmem(v, (size_t)(ve - v),
			    "oundary=", 8) : NULL;
			if (b) {
				b += 8;
				if (b < ve && *b == '"') {
					b++;
					for (len = 0; b + len < ve &&
					    b[len] != '"'; len++)
						;
				} else
					for (len = 0; b + len < ve && b[len] >
					    ' ' && b[len] != ';'; len++)
						;
				if (len > 0 && len <= 200) {
					nb = sp;	/* closed ones are done */
					bs[nb] = b;
					bl[nb++] = len;
					sp = nb;
					if (sp > *depth)
						*depth = sp;
				}
			}
		} else if (eol - p >= 3 && p[0] == '-' && p[1] == '-') {
			for (k = 0; k < sp; k++)
				if ((size_t)(eol - p) >= bl[k] + 2 &&
				    memcmp(p + 2, bs[k], bl[k]) == 0) {
					(*delims)++;
					/* "--b--" closes it, "--b" a part in it */
					if ((size_t)(eol - p) >= bl[k] + 4 &&
					    p[bl[k] + 2] == '-' &&
					    p[bl[k] + 3] == '-')
						sp = k;
					else
						sp = k + 1;
					break;
				}
		}
		p = eol < end ? eol + 1 : end;
	}
}

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

static void
split_text(struct msg *m, struct buf *nt, struct buf *qt, struct buf *sg)
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
static void
tidy_text(struct buf *b)
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

/* ---- msg ----------------------------------------------------------- */

static int
set_str(char **dst, const char *raw, size_t n, int decode)
{
	if (*dst)
		return 0;
	*dst = hdr_value(raw, n, decode);
	return *dst ? 0 : -1;
}

/*
 * Structured fields written by the receiving hosts: RFC 2047 does not apply
 * to them, and decoding would let text the sender controls (an envelope
 * local part "=?us-ascii?q?x=3B_spf=3Dpass...?=@evil") turn into new
 * results in a trusted Authentication-Results header. Kept as written.
 */
static int
is_trace(const char *nm, size_t nl)
{
	static const char *const names[] = { "Authentication-Results",
	    "ARC-Authentication-Results", "Received-SPF", "DKIM-Signature",
	    "ARC-Seal", "ARC-Message-Signature", "Received", NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (mime_strncaseeq(nm, nl, names[i]))
			return 1;
	return 0;
}

struct msg *
msg_parse(const char *raw, size_t len, const struct msg_limits *limits)
{
	static const struct msg_limits deflim = MSG_LIMITS_DEFAULT;
	struct msg_limits lim = limits ? *limits : deflim;
	struct msg *m;
	struct rawhdr *h = NULL;
	size_t nh = 0, body = 0, i, idx = 0;
	struct mailmime *mime = NULL;
	struct walk w;
	struct buf nt = MIME_BUF, qt = MIME_BUF, sg = MIME_BUF, u = MIME_BUF;
	int r;

	if (lim.max_bytes == 0)
		lim.max_bytes = deflim.max_bytes;
	if (lim.max_parts == 0)
		lim.max_parts = deflim.max_parts;
	if (lim.max_depth == 0)
		lim.max_depth = deflim.max_depth;
	if (raw == NULL)
		len = 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	memset(&w, 0, sizeof(w));
	w.lim = &lim;

	if (len > lim.max_bytes) {
		w.error = "message too large";
		/* headers only, from a bounded prefix */
		len = lim.max_bytes;
	}
	if (scan_headers(raw ? raw : "", len, &h, &nh, &body) == -1)
		goto oom;
	m->headers = calloc(nh ? nh : 1, sizeof(*m->headers));
	if (m->headers == NULL)
		goto oom;
	for (i = 0; i < nh; i++) {
		struct msg_header *mh = &m->headers[i];
		const char *nm = h[i].name, *v = h[i].val;
		size_t nl = h[i].namelen, vl = h[i].vallen;

		mh->name = strndup(nm, nl);
		mh->value = hdr_value(v, vl, !is_trace(nm, nl));
		m->nheaders++;
		if (mh->name == NULL || mh->value == NULL)
			goto oom;
		if (mime_strncaseeq(nm, nl, "Subject")) {
			if (m->subject == NULL &&
			    (m->subject = strdup(mh->value)) == NULL)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "Message-ID")) {
			if (m->message_id == NULL) {
				u.len = 0;
				unfold(&u, v, vl);
				if (u.err)
					goto oom;
				m->message_id = extract_id(u.s, u.len);
			}
		} else if (mime_strncaseeq(nm, nl, "From") ||
		    mime_strncaseeq(nm, nl, "Reply-To")) {
			u.len = 0;
			unfold(&u, v, vl);
			if (u.err)
				goto oom;
			parse_from(m, u.s, u.len, nl == 4 ? 0 : 1);
		} else if (mime_strncaseeq(nm, nl, "In-Reply-To")) {
			if (set_str(&m->in_reply_to, v, vl, 0) == -1)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "References")) {
			if (set_str(&m->references, v, vl, 0) == -1)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "Return-Path") &&
		    m->return_path == NULL) {
			char *rp = hdr_value(v, vl, 0);

			if (rp == NULL)
				goto oom;
			m->return_path = addr_parse_path(rp);
			free(rp);
		}
	}
	buf_free(&u);
	free(h);
	h = NULL;
	if (m->subject == NULL && (m->subject = strdup("")) == NULL)
		goto oom;

	/* body */
	if (w.error == NULL) {
		size_t nest, delims, depth;

		/* bounds libetpan's work; the walk checks exactly (the
		 * estimate can count boundaries quoted in text: leeway) */
		part_bounds(raw ? raw : "", len, &nest, &delims, &depth);
		if (nest > lim.max_parts || delims > 2 * lim.max_parts + 2)
			w.error = "too many MIME parts";
		else if (depth > lim.max_depth + 4)
			w.error = "MIME nesting too deep";
	}
	if (w.error == NULL && len > 0) {
		r = mailmime_parse(raw, len, &idx, &mime);
		if (r == MAILIMF_ERROR_MEMORY)
			goto oom;
		if (r == MAILIMF_NO_ERROR && mime != NULL) {
			walk_mime(&w, mime, 0);
		} else {
			/* not MIME we understand: the body as 8-bit text */
			mime_to_utf8(&w.text, NULL, raw + body, len - body,
			    MU_TEXT);
			w.nplain++;
		}
	}
	if (mime)
		mailmime_free(mime);
	mime = NULL;
	if (w.text.err)
		goto oom;
	tidy_text(&w.text);
	if (w.error == NULL && w.badenc)
		w.error = "text part has undecodable base64";
	if (w.error) {
		if ((m->error = strdup(w.error)) == NULL)
			goto oom;
	}
	m->html_only = w.nhtml > 0 && w.nplain == 0;
	if (w.hidden[0] != '\0' &&
	    (m->html_hidden_style = strdup(w.hidden)) == NULL)
		goto oom;
	if ((m->text = buf_steal(&w.text)) == NULL)
		goto oom;
	split_text(m, &nt, &qt, &sg);
	m->new_text = buf_steal(&nt);
	m->quoted = buf_steal(&qt);
	m->signature = buf_steal(&sg);
	if (m->fwd_text == NULL)
		m->fwd_text = strdup("");
	if (m->fwd_subject == NULL)
		m->fwd_subject = strdup("");
	if (m->new_text == NULL || m->quoted == NULL || m->signature == NULL ||
	    m->fwd_text == NULL || m->fwd_subject == NULL)
		goto oom;
	return m;
oom:
	if (mime)
		mailmime_free(mime);
	free(h);
	buf_free(&u);
	buf_free(&w.text);
	buf_free(&nt);
	buf_free(&qt);
	buf_free(&sg);
	msg_free(m);
	return NULL;
}

void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->message_id);
	free(m->subject);
	free(m->from_addr);
	free(m->from_name);
	free(m->reply_to_addr);
	free(m->in_reply_to);
	free(m->references);
	free(m->return_path);
	free(m->text);
	free(m->new_text);
	free(m->quoted);
	free(m->signature);
	free(m->fwd_text);
	free(m->fwd_subject);
	free(m->error);
	free(m->html_hidden_style);
	free(m);
}
