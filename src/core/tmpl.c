/*
 * tmpl.c - a small mustache-style renderer (see tmpl.h).
 *
 * The template is parsed into a tree first, so a syntax error is reported
 * whatever the data, and values are only ever copied into the output: a
 * value that contains "{{" stays text. Nesting, template size, output
 * size and the work of a rendering are bounded: sections nested over lists
 * multiply (ten items, sixteen deep: 10^16 passes that may write nothing),
 * so every node rendered and every list item counts as a step. Self-contained: plain malloc, NULL on failure, never
 * aborts (so unit tests and fuzzers can drive it).
 *
 * Mustache's "standalone" rule applies: a line holding nothing but a
 * section tag, a closing tag or a comment (and blanks) leaves no trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "tmpl.h"

#define TMPL_MAX_DEPTH   16          /* nested sections */
#define TMPL_MAX_SIZE    (256u << 10) /* template source */
#define TMPL_MAX_OUT     (4u << 20)   /* rendered text */
#define TMPL_MAX_NAME    64
#define TMPL_MAX_STEPS   (1u << 18)   /* nodes and items rendered; a reply
                                         for 50 users takes a few thousand */

/* Values. */
struct tv_ent {
	char *name;
	char *str;             /* a string value, or NULL for a list */
	struct tv **items;     /* a list of maps */
	size_t nitems;
};

struct tv {
	struct tv_ent *e;
	size_t n;
};

/* Template tree. */
enum node_type { N_TEXT, N_VAR, N_SECTION, N_INVERTED };

struct node {
	enum node_type type;
	char *s;               /* text, or the name */
	size_t len;            /* N_TEXT */
	struct node *kids;     /* sections: first child */
	struct node *next;
};

struct out {
	struct buf b;           /* bounded by TMPL_MAX_OUT */
	size_t steps;
	int toolong;
};

static char *tstrdup(const char *);
static struct tv_ent *tv_find(const struct tv *, const char *);
static struct tv_ent *tv_ent_new(struct tv *, const char *);
static void tv_ent_clear(struct tv_ent *);
static void nodes_free(struct node *);
static char *errf(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct node *parse(const char *, char **);
static int render(const struct node *, const struct tv **, size_t,
    struct out *);

static char *
tstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

struct tv *
tv_new(void)
{
	return calloc(1, sizeof(struct tv));
}

static void
tv_ent_clear(struct tv_ent *e)
{
	free(e->name);
	free(e->str);
	for (size_t i = 0; i < e->nitems; i++)
		tv_free(e->items[i]);
	free(e->items);
	memset(e, 0, sizeof *e);
}

void
tv_free(struct tv *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		tv_ent_clear(&m->e[i]);
	free(m->e);
	free(m);
}

static struct tv_ent *
tv_find(const struct tv *m, const char *name)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0)
			return &m->e[i];
	return NULL;
}

/* A fresh entry NAME (an old one of that name is emptied). */
static struct tv_ent *
tv_ent_new(struct tv *m, const char *name)
{
	struct tv_ent *e, *ne;
	char *nm;

	if ((e = tv_find(m, name)) != NULL) {
		nm = e->name;
		e->name = NULL;
		tv_ent_clear(e);
		e->name = nm;
		return e;
	}
	if ((nm = tstrdup(name)) == NULL)
		return NULL;
	ne = realloc(m->e, (m->n + 1) * sizeof *ne);
	if (ne == NULL) {
		free(nm);
		return NULL;
	}
	m->e = ne;
	e = &m->e[m->n++];
	memset(e, 0, sizeof *e);
	e->name = nm;
	return e;
}

int
tv_set(struct tv *m, const char *name, const char *value)
{
	struct tv_ent *e;
	char *v;

	if (m == NULL || name == NULL)
		return -1;
	if ((v = tstrdup(value ? value : "")) == NULL)
		return -1;
	if ((e = tv_ent_new(m, name)) == NULL) {
		free(v);
		return -1;
	}
	e->str = v;
	return 0;
}

int
tv_setf(struct tv *m, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = tv_set(m, name, s);
	free(s);
	return rc;
}

struct tv *
tv_add(struct tv *m, const char *name)
{
	struct tv_ent *e;
	struct tv **ni, *item;

	if (m == NULL || name == NULL)
		return NULL;
	e = tv_find(m, name);
	if (e == NULL || e->str != NULL)
		if ((e = tv_ent_new(m, name)) == NULL)
			return NULL;
	if ((item = tv_new()) == NULL)
		return NULL;
	ni = realloc(e->items, (e->nitems + 1) * sizeof *ni);
	if (ni == NULL) {
		tv_free(item);
		return NULL;
	}
	e->items = ni;
	e->items[e->nitems++] = item;
	return item;
}

const char *
tv_get(const struct tv *m, const char *name)
{
	struct tv_ent *e = tv_find(m, name);

	return e ? e->str : NULL;
}

int
tv_map(struct tv *m, char *(*fn)(const char *, const char *, void *),
    void *arg)
{
	char *v;

	if (m == NULL)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		struct tv_ent *e = &m->e[i];

		if (e->str != NULL) {
			if ((v = fn(e->name, e->str, arg)) == NULL)
				return -1;
			free(e->str);
			e->str = v;
		}
		for (size_t j = 0; j < e->nitems; j++)
			if (tv_map(e->items[j], fn, arg) == -1)
				return -1;
	}
	return 0;
}

/* Parsing. */

static char *
errf(int line, const char *fmt, ...)
{
	char msg[256];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof msg, "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	return tstrdup(msg);
}

static void
nodes_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		nodes_free(n->kids);
		free(n->s);
		free(n);
		n = next;
	}
}

static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > TMPL_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int
count_lines(const char *from, const char *to)
{
	int n = 0;

	for (; from < to; from++)
		if (*from == '\n')
			n++;
	return n;
}

struct frame {
	struct node *sec;      /* NULL at the top */
	struct node **tail;    /* where the next node goes */
	int line;
};

/* Appends a new node at the current frame's tail. */
static struct node *
add_node(struct frame *f, enum node_type t, const char *s, size_t len)
{
	struct node *n = calloc(1, sizeof *n);

	if (n == NULL)
		return NULL;
	n->type = t;
	if ((n->s = malloc(len + 1)) == NULL) {
		free(n);
		return NULL;
	}
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	n->len = len;
	*f->tail = n;
	f->tail = &n->next;
	return n;
}

static struct node *
parse(const char *t, char **err)
{
	struct frame st[TMPL_MAX_DEPTH + 1];
	struct node *root = NULL;
	const char *p = t, *open, *close, *a, *b, *ls, *le;
	size_t depth = 0;
	int line = 1, tagline;
	char kind;

	st[0].sec = NULL;
	st[0].tail = &root;
	st[0].line = 0;
	for (;;) {
		open = strstr(p, "{{");
		if (open == NULL) {
			if (*p && add_node(&st[depth], N_TEXT, p, strlen(p)) == NULL)
				goto oom;
			break;
		}
		tagline = line + count_lines(p, open);
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			*err = errf(tagline, "\"{{\" without \"}}\"");
			goto fail;
		}
		a = open + 2;
		b = close;
		kind = *a;
		if (kind == '#' || kind == '^' || kind == '/' || kind == '!')
			a++;
		else if (kind == '{' || kind == '&' || kind == '=' ||
		    kind == '>') {
			*err = errf(tagline, "unsupported tag \"{{%c\"", kind);
			goto fail;
		} else
			kind = 0;
		if (kind != '!') {
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			if (!name_ok(a, (size_t)(b - a))) {
				*err = errf(tagline, "bad name in tag \"%.*s\"",
				    (int)(close - open + 2 > 40 ? 40 :
				    close - open + 2), open);
				goto fail;
			}
		}

		/* Standalone lines: a block tag alone on its line vanishes. */
		ls = open;
		le = close + 2;
		if (kind != 0) {
			while (ls > t && (ls[-1] == ' ' || ls[-1] == '\t'))
				ls--;
			while (*le == ' ' || *le == '\t' || *le == '\r')
				le++;
			if ((ls == t || ls[-1] == '\n') &&
			    (*le == '\n' || *le == '\0')) {
				if (*le == '\n')
					le++;
			} else {
				ls = open;
				le = close + 2;
			}
		}
		if (ls > p && add_node(&st[depth], N_TEXT, p,
		    (size_t)(ls - p)) == NULL)
			goto oom;
		line = tagline + count_lines(open, le);
		p = le;

		switch (kind) {
		case '!':
			break;
		case 0:
			if (add_node(&st[depth], N_VAR, a, (size_t)(b - a)) ==
			    NULL)
				goto oom;
			break;
		case '#':
		case '^': {
			struct node *n;

			if (depth >= TMPL_MAX_DEPTH) {
				*err = errf(tagline, "sections nested more "
				    "than %d deep", TMPL_MAX_DEPTH);
				goto fail;
			}
			n = add_node(&st[depth], kind == '#' ? N_SECTION :
			    N_INVERTED, a, (size_t)(b - a));
			if (n == NULL)
				goto oom;
			depth++;
			st[depth].sec = n;
			st[depth].tail = &n->kids;
			st[depth].line = tagline;
			break;
		}
		case '/':
			if (depth == 0) {
				*err = errf(tagline, "\"{{/%.*s}}\" closes no "
				    "section", (int)(b - a), a);
				goto fail;
			}
			if (strlen(st[depth].sec->s) != (size_t)(b - a) ||
			    memcmp(st[depth].sec->s, a, (size_t)(b - a)) != 0) {
				*err = errf(tagline, "\"{{/%.*s}}\" closes "
				    "\"%s\" (opened at line %d)", (int)(b - a),
				    a, st[depth].sec->s, st[depth].line);
				goto fail;
			}
			depth--;
			break;
		}
	}
	if (depth > 0) {
		*err = errf(st[depth].line, "section \"%s\" is never closed",
		    st[depth].sec->s);
		goto fail;
	}
	if (root == NULL && (root = calloc(1, sizeof *root)) != NULL) {
		root->type = N_TEXT;    /* an empty template */
		if ((root->s = tstrdup("")) == NULL) {
			free(root);
			root = NULL;
		}
	}
	if (root == NULL)
		goto oom;
	return root;
oom:
	*err = tstrdup("out of memory");
fail:
	nodes_free(root);
	return NULL;
}

/* Rendering. */

/* One more node or item rendered: -1 past TMPL_MAX_STEPS. */
static int
step(struct out *o)
{
	if (++o->steps > TMPL_MAX_STEPS) {
		o->toolong = 1;
		return -1;
	}
	return 0;
}

/* Innermost first. */
static const struct tv_ent *
lookup(const struct tv **stack, size_t n, const char *name)
{
	const struct tv_ent *e;

	while (n-- > 0)
		if ((e = tv_find(stack[n], name)) != NULL)
			return e;
	return NULL;
}

static int
truthy(const struct tv_ent *e)
{
	if (e == NULL)
		return 0;
	if (e->str == NULL)
		return e->nitems > 0;
	return e->str[0] != '\0' && strcmp(e->str, "0") != 0 &&
	    strcmp(e->str, "false") != 0;
}

static int
render(const struct node *n, const struct tv **stack, size_t depth,
    struct out *o)
{
	const struct tv_ent *e;

	for (; n; n = n->next) {
		if (step(o) == -1)
			return -1;
		switch (n->type) {
		case N_TEXT:
			if (buf_add(&o->b, n->s, n->len) == -1)
				return -1;
			break;
		case N_VAR:
			e = lookup(stack, depth, n->s);
			if (e && e->str && buf_add(&o->b, e->str,
			    strlen(e->str)) == -1)
				return -1;
			break;
		case N_INVERTED:
			e = lookup(stack, depth, n->s);
			if (!truthy(e) && render(n->kids, stack, depth, o) == -1)
				return -1;
			break;
		case N_SECTION:
			e = lookup(stack, depth, n->s);
			if (!truthy(e))
				break;
			if (e->str != NULL) {
				if (render(n->kids, stack, depth, o) == -1)
					return -1;
				break;
			}
			for (size_t i = 0; i < e->nitems; i++) {
				if (step(o) == -1)
					return -1;
				stack[depth] = e->items[i];
				if (render(n->kids, stack, depth + 1, o) == -1)
					return -1;
			}
			break;
		}
	}
	return 0;
}

struct tmpl {
	struct node *root;
};

struct tmpl *
tmpl_compile(const char *src, char **err)
{
	struct tmpl *t;
	struct node *root;
	char *e = NULL;

	if (err)
		*err = NULL;
	if (src == NULL) {
		if (err)
			*err = tstrdup("no template");
		return NULL;
	}
	if (strlen(src) > TMPL_MAX_SIZE) {
		if (err)
			*err = tstrdup("template too big");
		return NULL;
	}
	if ((root = parse(src, &e)) == NULL) {
		if (err)
			*err = e;
		else
			free(e);
		return NULL;
	}
	if ((t = malloc(sizeof *t)) == NULL) {
		nodes_free(root);
		if (err)
			*err = tstrdup("out of memory");
		return NULL;
	}
	t->root = root;
	return t;
}

char *
tmpl_run(const struct tmpl *t, const struct tv *ctx, char **err)
{
	const struct tv *stack[TMPL_MAX_DEPTH + 2];
	struct out o = { BUF_BOUNDED(TMPL_MAX_OUT), 0, 0 };

	if (err)
		*err = NULL;
	if (t == NULL) {
		if (err)
			*err = tstrdup("no template");
		return NULL;
	}
	stack[0] = ctx;
	if (render(t->root, stack, ctx ? 1 : 0, &o) == -1 ||
	    buf_add(&o.b, "", 0)) {
		if (err)
			*err = tstrdup(o.b.err == BUF_TOOBIG ? "rendered text too big" :
			    o.toolong ? "too much work (sections nested over "
			    "lists)" : "out of memory");
		buf_free(&o.b);
		return NULL;
	}
	return buf_steal(&o.b);
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	nodes_free(t->root);
	free(t);
}

char *
tmpl_render(const char *src, const struct tv *ctx, char **err)
{
	struct tmpl *t;
	char *out;

	if ((t = tmpl_compile(src, err)) == NULL)
		return NULL;
	out = tmpl_run(t, ctx, err);
	tmpl_free(t);
	return out;
}

/* NAME is a file in DIR: "twofa_enabled" or "twofa_enabled.txt". */
char *
tmpl_render_file(const char *dir, const char *name, const struct tv *ctx,
    char **err)
{
	char path[4096], *src, *res;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd, n;

	if (err)
		*err = NULL;
	if (name == NULL || *name == '\0' || name[0] == '.' ||
	    strchr(name, '/') != NULL) {
		if (err)
			*err = tstrdup("bad template name");
		return NULL;
	}
	n = snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", name);
	if (n < 0 || (size_t)n >= sizeof path - 4)
		goto toolong;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && strchr(name, '.') == NULL) {
		strcat(path, ".txt");
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1) {
		if (err) {
			char m[4200];
			snprintf(m, sizeof m, "%s: %s", path, strerror(errno));
			*err = tstrdup(m);
		}
		return NULL;
	}
	src = NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *ns;
			cap = cap ? cap * 2 : 8192;
			if (cap > TMPL_MAX_SIZE + 8192 ||
			    (ns = realloc(src, cap)) == NULL) {
				free(src);
				close(fd);
				if (err)
					*err = tstrdup(cap > TMPL_MAX_SIZE ?
					    "template too big" : "out of memory");
				return NULL;
			}
			src = ns;
		}
		r = read(fd, src + len, 4096);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r < 0 || memchr(src, '\0', len) != NULL) {
		free(src);
		if (err)
			*err = tstrdup(r < 0 ? "read error" :
			    "template contains a NUL byte");
		return NULL;
	}
	src[len] = '\0';
	res = tmpl_render(src, ctx, err);
	free(src);
	if (res == NULL && err && *err) {
		/* "FILE: line N: why" */
		size_t m = strlen(path) + strlen(*err) + 3;
		char *e2 = malloc(m);
		if (e2) {
			snprintf(e2, m, "%s: %s", path, *err);
			free(*err);
			*err = e2;
		}
	}
	return res;
toolong:
	if (err)
		*err = tstrdup("template path too long");
	return NULL;
}
