/*
 * process-job.c - the small helpers every rule of ticket processing uses
 * on the ticket in hand (struct job, process-int.h): the reason for staff,
 * the outcome, values made safe for templates, masked numbers. A leaf of
 * the process*.c family: the rules call it, it calls none of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tfadesk.h"
#include "tmpl.h"
#include "utf8.h"
#include "tfadesk/process-int.h"

void
reason_add(struct job *j, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	if (j->reason.len >= REASON_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (j->reason.len)
		buf_adds(&j->reason, "; ");
	buf_adds(&j->reason, tmp);
	if (j->reason.len > REASON_MAX)
		buf_adds(&j->reason, " ...");
}

void
set_outcome(struct job *j, enum ticket_state st, const char *tmpl)
{
	j->state = st;
	j->tmpl = tmpl;
}

/* A value safe to hand to a template and to show: no controls, at most
 * 100 bytes, never NULL. */
const char *
safe_value(const char *s, char *out, size_t outlen)
{
	const char *s0;
	size_t n = 0;

	if (s == NULL)
		s = "";
	for (s0 = s; *s && n + 1 < outlen && n < 100; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7F ? ' ' : *s;
	/* never end inside a UTF-8 sequence (controls are ASCII: the
	 * sequences in OUT are those of S0) */
	n = utf8_trunc(s0, strnlen(s0, n + 4), n);
	out[n] = '\0';
	return out;
}

void
tv_safe(struct tv *t, const char *name, const char *v)
{
	char b[128];

	tv_set(t, name, safe_value(v, b, sizeof b));
}


int
in_strlist(char **l, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* "4474******56" for digits or text with digits; "" for none. Owned. */
char *
masked_digits(const char *s)
{
	char d[24];
	size_t n = 0;

	for (; s && *s && n + 1 < sizeof d; s++)
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	d[n] = '\0';
	return n ? mask_phone(d) : xstrdup("");
}
