/*
 * utf8.c - strict UTF-8 decoding, and text made safe for terminals and JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "utf8.h"

size_t
utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t len;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int
utf8_valid(const char *s, size_t n)
{
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_decode(s, n, &cp)) == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

char *
utf8_scrub(const char *s, size_t n)
{
	struct buf b;
	uint32_t cp;
	size_t k;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (n > 0) {
		if ((k = utf8_decode(s, n, &cp)) == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			k = 1;
		} else
			buf_add(&b, s, k);
		s += k;
		n -= k;
	}
	return b.s;
}

size_t
utf8_trunc_len(const char *s, size_t max)
{
	size_t n = strlen(s), i = 0;
	uint32_t cp;

	if (n <= max)
		return n;
	while (i < max) {
		size_t k = utf8_decode(s + i, n - i, &cp);
		if (k == 0)
			k = 1;
		if (i + k > max)
			break;
		i += k;
	}
	return i;
}

int
utf8_is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

void
term_escape(struct buf *b, const char *s, size_t n, int flags)
{
	uint32_t cp;

	while (n > 0) {
		size_t k = utf8_decode(s, n, &cp);
		if (k == 0) {
			buf_addf(b, "\\x%02x", (unsigned char)*s);
			k = 1;
		} else if ((cp == '\n' || cp == '\t') &&
		    (flags & TERM_KEEP_LINES))
			buf_addc(b, (int)cp);
		else if (utf8_is_control(cp) || utf8_is_bidi_control(cp))
			buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			buf_add(b, s, k);
		s += k;
		n -= k;
	}
}

char *
term_clean(const char *s)
{
	struct buf b;

	buf_init(&b);
	if (s)
		term_escape(&b, s, strlen(s), 0);
	return buf_steal(&b);
}

void
term_puts(FILE *f, const char *s)
{
	char *c = term_clean(s);

	fputs(c, f);
	free(c);
}

void
json_quote(struct buf *b, const char *s)
{
	uint32_t cp;
	size_t n;

	if (s == NULL) {
		buf_adds(b, "null");
		return;
	}
	n = strlen(s);
	buf_addc(b, '"');
	while (n > 0) {
		size_t k = utf8_decode(s, n, &cp);
		if (k == 0) {
			buf_adds(b, "\\ufffd");
			k = 1;
		} else if (cp == '"')
			buf_adds(b, "\\\"");
		else if (cp == '\\')
			buf_adds(b, "\\\\");
		else if (cp == '\n')
			buf_adds(b, "\\n");
		else if (cp == '\r')
			buf_adds(b, "\\r");
		else if (cp == '\t')
			buf_adds(b, "\\t");
		else if (utf8_is_control(cp) || utf8_is_bidi_control(cp))
			buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			buf_add(b, s, k);
		s += k;
		n -= k;
	}
	buf_addc(b, '"');
}
