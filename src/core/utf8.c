/*
 * utf8.c - strict UTF-8 decoding, encoding, cleaning and truncation, and
 * the terminal escape of one character. A leaf: no allocation, no log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

size_t
utf8_decode_clean(const char *s, size_t n, uint32_t *cp, int *bad)
{
	size_t k;

	*bad = 0;
	if (n == 0)
		return 0;
	if ((k = utf8_decode(s, n, cp)) == 0) {
		*cp = UTF8_REPLACEMENT;
		*bad = 1;
		k = 1;
	}
	return k;
}

size_t
utf8_encode(uint32_t cp, char out[4])
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = UTF8_REPLACEMENT;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int
utf8_valid(const char *s, size_t n)
{
	uint32_t cp;
	size_t k;

	while (n > 0) {
		/* runs of ASCII (most text here) without decoding */
		if ((unsigned char)*s < 0x80) {
			s++;
			n--;
			continue;
		}
		if ((k = utf8_decode(s, n, &cp)) == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

int
utf8_valid_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !utf8_valid(s, n))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

char *
utf8_scrub(const char *s, size_t n)
{
	uint32_t cp;
	size_t k, o = 0;
	char *out;

	/* a bad byte becomes U+FFFD, three bytes: the most it can grow */
	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	while (n > 0) {
		if ((k = utf8_decode(s, n, &cp)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(out + o, s, k);
			o += k;
		}
		s += k;
		n -= k;
	}
	out[o] = '\0';
	return out;
}

size_t
utf8_trunc_len(const char *s, size_t max)
{
	return utf8_trunc(s, strnlen(s, max + 1), max);
}

size_t
utf8_trunc(const char *s, size_t n, size_t max)
{
	size_t i = 0;
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

size_t
utf8_count(const char *s, size_t n)
{
	size_t i = 0, count = 0;
	uint32_t cp;
	int bad;

	while (i < n) {
		i += utf8_decode_clean(s + i, n - i, &cp, &bad);
		count++;
	}
	return count;
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

size_t
utf8_term_step(const char *s, size_t n, int flags, char out[UTF8_ESC_MAX],
    size_t *outlen)
{
	uint32_t cp;
	size_t k = utf8_decode(s, n, &cp);

	if (n == 0) {
		*outlen = 0;
		return 0;
	}
	if (k == 0) {
		snprintf(out, UTF8_ESC_MAX, "\\x%02x", (unsigned char)*s);
		*outlen = 4;
		return 1;
	}
	if ((cp == '\n' || cp == '\t') && (flags & TERM_KEEP_LINES)) {
		out[0] = (char)cp;
		*outlen = 1;
	} else if (utf8_is_control(cp) || utf8_is_bidi_control(cp)) {
		char t[UTF8_ESC_MAX + 1];
		snprintf(t, sizeof t, "\\u%04x", (unsigned)cp);
		memcpy(out, t, 6);
		*outlen = 6;
	} else {
		memcpy(out, s, k);
		*outlen = k;
	}
	return k;
}

size_t
utf8_term_escape(char *dst, size_t cap, const char *s, size_t n, int flags)
{
	char e[UTF8_ESC_MAX];
	size_t len = 0, el, k;

	while (n > 0) {
		k = utf8_term_step(s, n, flags, e, &el);
		if (len + el >= cap)
			break;
		memcpy(dst + len, e, el);
		len += el;
		s += k;
		n -= k;
	}
	dst[len] = '\0';
	return len;
}
