/* table.c - aligned plain-text tables for people (JSON is for scripts). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "table.h"
#include "term.h"

struct table {
	size_t ncols, nrows;
	char **cells;        /* (nrows + 1) * ncols, row 0 the titles */
};

/* Display width: code points (cells are already escaped). */
static size_t
width(const char *s)
{
	return utf8_count(s, strlen(s));
}

/* Every cell may hold text from mail: controls and bidi controls are
 * shown as visible escapes (term_clean). */
static char *
cell(const char *s)
{
	return term_clean(s ? s : "-");
}

struct table *
table_new(size_t ncols, ...)
{
	struct table *t = xcalloc(1, sizeof *t);
	va_list ap;

	t->ncols = ncols;
	t->cells = xcalloc(ncols, sizeof *t->cells);
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++)
		t->cells[i] = cell(va_arg(ap, const char *));
	va_end(ap);
	return t;
}

void
table_row(struct table *t, ...)
{
	va_list ap;
	size_t base;

	t->nrows++;
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof *t->cells);
	base = t->nrows * t->ncols;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[base + i] = cell(va_arg(ap, const char *));
	va_end(ap);
}

void
table_print(struct table *t)
{
	table_fprint(stdout, t);
}

void
table_fprint(FILE *out, struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof *w);

	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t cw = width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%s%*s", s, (int)(w[c] - width(s) + 2),
				    "");
		}
	}
	for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
	free(t);
}
