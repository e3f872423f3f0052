/*
 * term.c - text from mail made safe for a terminal or a JSON string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "term.h"

void
term_escape(struct buf *b, const char *s, size_t n, int flags)
{
	char e[UTF8_ESC_MAX];
	size_t k, el;

	while (n > 0) {
		k = utf8_term_step(s, n, flags, e, &el);
		buf_add(b, e, el);
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
