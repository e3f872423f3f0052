/*
 * charset.c - text in any charset and transfer encoding into valid UTF-8:
 * charset names (aliases, undeclared 8-bit read as UTF-8 or Windows-1252)
 * and iconv, base64 and quoted-printable, each tolerant of bad input, so
 * that no input can produce invalid UTF-8. Used by the MIME walk, the
 * header decoder and html.c; needs only buf and utf8. No aborts.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "utf8.h"


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
void
mime_b64_decode(struct buf *b, const char *s, size_t n, int *bad)
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
void
mime_qp_decode(struct buf *b, const char *s, size_t n, int hdr)
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

