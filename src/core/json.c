/* json.c - the one JSON writer (json.h). */
#include <string.h>

#include "tfadesk.h"
#include "json.h"
#include "utf8.h"

void
json_init(struct json *j, struct buf *b, int flags)
{
	memset(j, 0, sizeof *j);
	j->b = b;
	j->flags = flags;
}

/* Before a value or a key: the comma, unless a key just went out. */
static void
sep(struct json *j)
{
	if (j->key) {
		j->key = 0;
		return;
	}
	if (j->more[j->depth])
		buf_adds(j->b, j->flags & JSON_SPACED ? ", " : ",");
	j->more[j->depth] = 1;
}

static void
open_(struct json *j, char open, char close)
{
	sep(j);
	if (j->depth == JSON_MAX_DEPTH)
		fatalx("json: nested more than %d levels", JSON_MAX_DEPTH);
	buf_addc(j->b, open);
	j->depth++;
	j->more[j->depth] = 0;
	j->close[j->depth] = close;
}

void
json_obj(struct json *j)
{
	open_(j, '{', '}');
}

void
json_arr(struct json *j)
{
	open_(j, '[', ']');
}

void
json_end(struct json *j)
{
	if (j->depth == 0)
		fatalx("json: end without a begin");
	buf_addc(j->b, j->close[j->depth]);
	j->depth--;
}

void
json_quote_n(struct buf *b, const char *s, size_t n)
{
	uint32_t cp;

	buf_addc(b, '"');
	while (n > 0) {
		size_t k = 0;

		/* a run of printable ASCII but " and \ as it is, in one copy */
		while (k < n && s[k] >= 0x20 && s[k] < 0x7f && s[k] != '"' &&
		    s[k] != '\\')
			k++;
		if (k > 0) {
			buf_add(b, s, k);
			s += k;
			n -= k;
			continue;
		}
		k = utf8_decode(s, n, &cp);
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
		else if (utf8_is_control(cp) || utf8_is_bidi_control(cp) ||
		    cp == 0x2028 || cp == 0x2029)
			buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			buf_add(b, s, k);
		s += k;
		n -= k;
	}
	buf_addc(b, '"');
}

void
json_key(struct json *j, const char *k)
{
	sep(j);
	json_quote_n(j->b, k, strlen(k));
	buf_adds(j->b, j->flags & JSON_SPACED ? ": " : ":");
	j->key = 1;
}

void
json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	json_quote_n(j->b, s, n);
}

void
json_str(struct json *j, const char *s)
{
	if (s == NULL)
		json_put_null(j);
	else
		json_strn(j, s, strlen(s));
}

void
json_int(struct json *j, long long v)
{
	sep(j);
	buf_addf(j->b, "%lld", v);
}

void
json_bool(struct json *j, int v)
{
	sep(j);
	buf_adds(j->b, v ? "true" : "false");
}

void
json_put_null(struct json *j)
{
	sep(j);
	buf_adds(j->b, "null");
}

void
json_raw(struct json *j, const char *text)
{
	sep(j);
	buf_adds(j->b, text && *text ? text : "null");
}

void
json_kstr(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str(j, s);
}

void
json_kint(struct json *j, const char *k, long long v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_kbool(struct json *j, const char *k, int v)
{
	json_key(j, k);
	json_bool(j, v);
}

void
json_knull(struct json *j, const char *k)
{
	json_key(j, k);
	json_put_null(j);
}

void
json_kraw(struct json *j, const char *k, const char *text)
{
	json_key(j, k);
	json_raw(j, text);
}
