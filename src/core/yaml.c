/*
 * yaml.c - the one YAML loader and its error reporter (ydoc.h): config.c,
 * numbering.c, rules.c and import.c all read their files through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "tfadesk.h"
#include "ydoc.h"

#define YF_DROP 0x1             /* a key given twice: pair left out */
#define YBLOCK_SIZE 1048576

struct yblock {
	struct yblock *next;
	size_t used, size;
	char data[];
};

/* a mapping's key while looking for duplicates */
struct ykey {
	struct ynode *n;
	uint32_t idx;
};

void
ydoc_init(struct ydoc *d, const char *file)
{
	memset(d, 0, sizeof *d);
	d->file = file;
}

void
ydoc_free(struct ydoc *d)
{
	struct yblock *b, *next;

	for (b = d->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(d->n);
	d->n = NULL;
	d->nn = d->cap = 0;
	d->blocks = NULL;
}

void
ydoc_error(struct ydoc *d, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		log_warnx("%s:%d: %s", d->file, line, msg);
	else
		log_warnx("%s: %s", d->file, msg);
	d->errors++;
}

int
ydoc_done(struct ydoc *d, const char *what)
{
	if (d->errors > 0)
		log_warnx("%s: %d error%s%s%s", d->file, d->errors,
		    d->errors == 1 ? "" : "s", what ? ", " : "", what ? what : "");
	return d->errors;
}

struct ynode *
ydoc_root(struct ydoc *d)
{
	return d->nn ? &d->n[0] : NULL;
}

struct ynode *
ynode_first(struct ydoc *d, const struct ynode *n)
{
	return n && n->first ? &d->n[n->first - 1] : NULL;
}

struct ynode *
ynode_next(struct ydoc *d, const struct ynode *n)
{
	return n && n->next ? &d->n[n->next - 1] : NULL;
}

size_t
ynode_count(struct ydoc *d, const struct ynode *n)
{
	size_t c = 0;

	if (n == NULL || n->type == YN_SCALAR)
		return 0;
	for (const struct ynode *e = ynode_first(d, n); e; e = ynode_next(d, e))
		c++;
	return n->type == YN_MAP ? c / 2 : c;
}

const char *
ynode_str(const struct ynode *n)
{
	return n && n->type == YN_SCALAR ? n->value : NULL;
}

int
ynode_line(const struct ynode *n)
{
	return n ? (int)n->line : 0;
}

static const char *
text(struct ydoc *d, const char *s, size_t len)
{
	struct yblock *b = d->blocks;
	char *p;

	if (b == NULL || b->size - b->used < len + 1) {
		size_t size = len + 1 > YBLOCK_SIZE ? len + 1 : YBLOCK_SIZE;
		b = xmalloc(sizeof *b + size);
		b->size = size;
		b->used = 0;
		b->next = d->blocks;
		d->blocks = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

static int
keycmp_text(const struct ynode *a, const struct ynode *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->value, b->value, a->len);
}

static int
keycmp(const void *pa, const void *pb)
{
	const struct ykey *a = pa, *b = pb;
	int c = keycmp_text(a->n, b->n);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * A mapping is complete: reports every scalar key given twice and leaves
 * out the later pairs, so that no caller has to look for them.
 */
static void
dedup(struct ydoc *d, uint32_t map, struct ykey **keys, size_t *kcap)
{
	struct ynode *m = &d->n[map - 1], *k, *v;
	size_t nk = 0, i, j;
	int dropped = 0;

	for (k = ynode_first(d, m); k && (v = ynode_next(d, k));
	    k = ynode_next(d, v)) {
		if (k->type != YN_SCALAR)
			continue;
		if (nk == *kcap) {
			*kcap = *kcap ? *kcap * 2 : 64;
			*keys = xreallocarray(*keys, *kcap, sizeof **keys);
		}
		(*keys)[nk].n = k;
		(*keys)[nk++].idx = (uint32_t)(k - d->n) + 1;
	}
	if (nk < 2)
		return;
	qsort(*keys, nk, sizeof **keys, keycmp);
	for (i = 0; i < nk; i = j) {
		const struct ynode *a = (*keys)[i].n;
		for (j = i + 1; j < nk; j++) {
			struct ynode *b = (*keys)[j].n;
			if (keycmp_text(a, b) != 0)
				break;
			ydoc_error(d, (int)b->line, "%.80s: given twice (first "
			    "on line %u)", b->value, a->line);
			b->flags |= YF_DROP;
			dropped = 1;
		}
	}
	if (!dropped)
		return;
	uint32_t prev = 0;
	for (k = ynode_first(d, m); k && (v = ynode_next(d, k));
	    k = ynode_next(d, v)) {
		if (k->flags & YF_DROP)
			continue;
		if (prev)
			d->n[prev - 1].next = (uint32_t)(k - d->n) + 1;
		else
			m->first = (uint32_t)(k - d->n) + 1;
		prev = (uint32_t)(v - d->n) + 1;
	}
	if (prev)
		d->n[prev - 1].next = 0;
	else
		m->first = 0;
}

/* The line of byte OFF in DATA. */
static int
line_at(const char *data, size_t len, size_t off)
{
	int line = 1;

	if (off > len)
		off = len;
	for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + off -
	    p))) != NULL; p++)
		line++;
	return line;
}

static uint32_t
add_node(struct ydoc *d, int type, const yaml_event_t *ev)
{
	struct ynode *n;

	if (d->nn == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 4096;
		d->n = xreallocarray(d->n, d->cap, sizeof *d->n);
	}
	n = &d->n[d->nn++];
	memset(n, 0, sizeof *n);
	n->type = (unsigned char)type;
	n->line = (uint32_t)ev->start_mark.line + 1;
	n->value = "";
	return (uint32_t)d->nn;
}

int
ydoc_load_mem(struct ydoc *d, const void *data, size_t len)
{
	size_t max = d->max_bytes ? d->max_bytes : YDOC_MAX_BYTES;
	int maxdepth = d->max_depth > 0 ? d->max_depth : YDOC_MAX_DEPTH;
	uint32_t *stack, *last;
	struct ykey *keys = NULL;
	size_t kcap = 0;
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = 0, done = 0, started = 0;

	ydoc_free(d);
	if (len > max) {
		ydoc_error(d, 0, "larger than %zu bytes", max);
		return -1;
	}
	if (len > UINT32_MAX - 1) {
		ydoc_error(d, 0, "too large");
		return -1;
	}
	stack = xcalloc((size_t)maxdepth, sizeof *stack);
	last = xcalloc((size_t)maxdepth, sizeof *last);
	if (!yaml_parser_initialize(&parser))
		fatalx("yaml: out of memory");
	yaml_parser_set_input_string(&parser, data, len);
	while (!done) {
		uint32_t idx;
		int type;

		if (!yaml_parser_parse(&parser, &ev)) {
			int line = parser.error == YAML_READER_ERROR ?
			    line_at(data, len, parser.problem_offset) :
			    (int)parser.problem_mark.line + 1;
			if (parser.context)
				ydoc_error(d, line, "YAML error: %s %s",
				    parser.problem ? parser.problem :
				    "unreadable", parser.context);
			else
				ydoc_error(d, line, "YAML error: %s",
				    parser.problem ? parser.problem :
				    "unreadable");
			rc = -1;
			break;
		}
		type = 0;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (started)       /* only the first document */
				done = 1;
			started = 1;
			break;
		case YAML_ALIAS_EVENT:
			/* reported, and read as an empty value */
			ydoc_error(d, (int)ev.start_mark.line + 1, "YAML alias "
			    "*%.80s: not supported", (const char *)
			    ev.data.alias.anchor);
			type = YN_SCALAR;
			break;
		case YAML_SCALAR_EVENT:
			type = YN_SCALAR;
			break;
		case YAML_SEQUENCE_START_EVENT:
			type = YN_SEQ;
			break;
		case YAML_MAPPING_START_EVENT:
			type = YN_MAP;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				depth--;
				if (ev.type == YAML_MAPPING_END_EVENT)
					dedup(d, stack[depth], &keys, &kcap);
			}
			break;
		default:
			break;
		}
		if (type == 0) {
			yaml_event_delete(&ev);
			continue;
		}
		if (type != YN_SCALAR && depth == maxdepth) {
			ydoc_error(d, (int)ev.start_mark.line + 1, "nested more "
			    "than %d levels deep", maxdepth);
			rc = -1;
			yaml_event_delete(&ev);
			break;
		}
		if (d->nn >= UINT32_MAX - 1) {
			ydoc_error(d, 0, "too many YAML nodes");
			rc = -1;
			yaml_event_delete(&ev);
			break;
		}
		idx = add_node(d, type, &ev);
		if (ev.type == YAML_SCALAR_EVENT) {
			struct ynode *n = &d->n[idx - 1];
			if (memchr(ev.data.scalar.value, '\0',
			    ev.data.scalar.length) != NULL)
				ydoc_error(d, (int)n->line, "a NUL character in "
				    "a value");
			n->len = (uint32_t)ev.data.scalar.length;
			n->plain = ev.data.scalar.style ==
			    YAML_PLAIN_SCALAR_STYLE;
			n->value = text(d, (const char *)ev.data.scalar.value,
			    ev.data.scalar.length);
		}
		if (depth > 0) {
			if (last[depth - 1])
				d->n[last[depth - 1] - 1].next = idx;
			else
				d->n[stack[depth - 1] - 1].first = idx;
			last[depth - 1] = idx;
		}
		if (type != YN_SCALAR) {
			stack[depth] = idx;
			last[depth] = 0;
			depth++;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	free(stack);
	free(last);
	free(keys);
	return rc;
}

int
ydoc_load_file(struct ydoc *d, FILE *fp)
{
	size_t max = d->max_bytes ? d->max_bytes : YDOC_MAX_BYTES;
	struct buf b;
	char chunk[65536];
	size_t r;
	int rc;

	buf_init(&b);
	while ((r = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (b.len + r > max) {
			ydoc_free(d);
			ydoc_error(d, 0, "larger than %zu bytes", max);
			buf_free(&b);
			return -1;
		}
		buf_add(&b, chunk, r);
	}
	if (ferror(fp)) {
		ydoc_free(d);
		ydoc_error(d, 0, "read error");
		buf_free(&b);
		return -1;
	}
	rc = ydoc_load_mem(d, b.s ? b.s : "", b.len);
	buf_free(&b);
	return rc;
}
