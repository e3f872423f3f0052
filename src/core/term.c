/*
 * term.c - text from mail made safe for a terminal (JSON strings: json.c).
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

