/* mime_inv.h - shared by tst_mime.c and tst_corpus.c: what every parsed
 * message must satisfy, whatever the input (valid UTF-8 everywhere, header
 * values on one line, no control characters in text). */
#ifndef MIME_INV_H
#define MIME_INV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk/mime.h"

static int
inv_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	int n, i;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xC2 && *p <= 0xDF)
			n = 1, cp = *p & 0x1F;
		else if (*p >= 0xE0 && *p <= 0xEF)
			n = 2, cp = *p & 0x0F;
		else if (*p >= 0xF0 && *p <= 0xF4)
			n = 3, cp = *p & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* Returns NULL when M is sound, else what is wrong. */
static const char *
inv_check(const struct msg *m, const char *raw, size_t len)
{
	const char *texts[7], *why;
	size_t i, k;
	char *id;

	if (m == NULL)
		return "msg_parse returned NULL";
	texts[0] = m->subject;
	texts[1] = m->text;
	texts[2] = m->new_text;
	texts[3] = m->quoted;
	texts[4] = m->signature;
	texts[5] = m->fwd_text;
	texts[6] = m->fwd_subject;
	for (i = 0; i < 7; i++) {
		if (texts[i] == NULL)
			return "a text field is NULL";
		if (!inv_utf8(texts[i]))
			return "a text field is not UTF-8";
		for (k = 0; texts[i][k]; k++) {
			unsigned char c = (unsigned char)texts[i][k];

			if (c == '\r' || (c < 0x20 && c != '\n' && c != '\t' &&
			    c != '\f'))
				return "control character in text";
			if ((i == 0 || i == 6) && c == '\n')
				return "newline in subject";
		}
	}
	for (i = 0; i < m->nheaders; i++) {
		const char *v = m->headers[i].value;

		if (m->headers[i].name == NULL || !m->headers[i].name[0] || !v)
			return "empty header";
		if (!inv_utf8(v) || !inv_utf8(m->headers[i].name))
			return "header not UTF-8";
		if (strpbrk(v, "\r\n") || strpbrk(m->headers[i].name,
		    "\r\n: "))
			return "CR/LF in a header";
	}
	if (m->from_addr && (!strchr(m->from_addr, '@') ||
	    strpbrk(m->from_addr, " \t\r\n") || !inv_utf8(m->from_addr)))
		return "bad from_addr";
	if (m->from_name && (strpbrk(m->from_name, "\r\n") ||
	    !inv_utf8(m->from_name)))
		return "bad from_name";
	if (m->message_id && (strpbrk(m->message_id, " <>\r\n") ||
	    !inv_utf8(m->message_id)))
		return "bad message_id";
	if (m->error && (!m->error[0] || strchr(m->error, '\n')))
		return "bad error";
	(void)msg_is_automatic(m, "support@500.uk.com", &why);
	(void)msg_header(m, "From");
	id = mime_message_id(raw, len);
	if (id && strpbrk(id, " <>\r\n")) {
		free(id);
		return "bad mime_message_id";
	}
	free(id);
	return NULL;
}

static char *
inv_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL, *nb;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(b, cap + 1);
			if (nb == NULL)
				break;
			b = nb;
		}
		r = fread(b + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

#endif
