/*
 * tst_yaml.c - the one YAML loader (src/core/yaml.c): the tree and its line
 * numbers, and what it refuses: aliases (billion laughs), deep nesting, big
 * files, duplicate keys, bytes that are not UTF-8, NUL characters. Every
 * problem is reported as "FILE:LINE: what", all of them, then a count.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "ydoc.h"
#include "check.h"

static char err[8192];

/* Loads TEXT (LEN bytes) into D as "t.yaml"; what went to stderr in err. */
static int
load(struct ydoc *d, const char *text, size_t len, size_t max_bytes,
    int max_depth)
{
	char errf[] = "/tmp/tst_yaml.XXXXXX";
	int saved, fd, rc;
	ssize_t n;

	ydoc_init(d, "t.yaml");
	d->max_bytes = max_bytes;
	d->max_depth = max_depth;
	fflush(stderr);
	saved = dup(2);
	if ((fd = mkstemp(errf)) == -1)
		exit(2);
	dup2(fd, 2);
	rc = ydoc_load_mem(d, text, len);
	ydoc_done(d, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, err, sizeof err - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(errf);
	return rc;
}
#define LOAD(d, s) load(d, s, strlen(s), 0, 0)

/* The value of KEY in the mapping M, or NULL. */
static struct ynode *
get(struct ydoc *d, struct ynode *m, const char *key)
{
	struct ynode *k, *v;

	YMAP_FOREACH(d, m, k, v)
		if (ynode_str(k) && strcmp(ynode_str(k), key) == 0)
			return v;
	return NULL;
}

int
main(void)
{
	struct ydoc d;
	struct ynode *root, *v, *e;
	struct buf b;
	int rc, i;

	log_init("tst_yaml", 0, 0);

	/* a tree with its line numbers */
	rc = LOAD(&d, "# comment\nname: desk\nlist:\n  - a\n  - 'b c'\n"
	    "map: {x: 1, y: [2, 3]}\nempty:\n");
	root = ydoc_root(&d);
	CHECK(rc == 0 && d.errors == 0 && root && root->type == YN_MAP,
	    "plain document: %s", err);
	CHECK(ynode_count(&d, root) == 4, "4 pairs");
	v = get(&d, root, "name");
	CHECK(v && strcmp(ynode_str(v), "desk") == 0 && ynode_line(v) == 2 &&
	    v->plain, "name on line 2");
	v = get(&d, root, "list");
	CHECK(v && v->type == YN_SEQ && ynode_count(&d, v) == 2, "list of 2");
	e = ynode_first(&d, v);
	e = ynode_next(&d, e);
	CHECK(e && strcmp(ynode_str(e), "b c") == 0 && ynode_line(e) == 5 &&
	    !e->plain, "quoted item on line 5");
	v = get(&d, get(&d, root, "map"), "y");
	CHECK(v && v->type == YN_SEQ && ynode_line(v) == 6, "flow list");
	v = get(&d, root, "empty");
	CHECK(v && v->type == YN_SCALAR && v->len == 0 && v->plain, "empty");
	ydoc_free(&d);

	rc = LOAD(&d, "");
	CHECK(rc == 0 && ydoc_root(&d) == NULL && d.errors == 0, "empty file");
	ydoc_free(&d);

	/* only the first document */
	rc = LOAD(&d, "a: 1\n---\nb: 2\n");
	CHECK(rc == 0 && ynode_count(&d, ydoc_root(&d)) == 1, "first document");
	ydoc_free(&d);

	/* a syntax error names its line */
	rc = LOAD(&d, "a: 1\nb: [unclosed\nc: 2\n");
	CHECK(rc == -1 && strstr(err, "t.yaml:") && strstr(err, "YAML error") &&
	    strstr(err, "t.yaml: 1 error\n"), "syntax error: %s", err);
	ydoc_free(&d);

	/* billion laughs: an alias is refused, whatever it names */
	b = (struct buf){ 0 };
	buf_adds(&b, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++)
		buf_addf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, "
		    "*%c, *%c]\n", 'a' + i, 'a' + i, 'a' + i - 1, 'a' + i - 1,
		    'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
		    'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1);
	rc = LOAD(&d, b.s);
	CHECK(d.errors == 90 && strstr(err, "t.yaml:2: YAML alias *a: not "
	    "supported") && strstr(err, "t.yaml:10: YAML alias *i: not "
	    "supported") && strstr(err, "t.yaml: 90 errors"),
	    "every alias reported: %d", d.errors);
	CHECK(d.nn < 200, "no tree grows from aliases: %zu nodes", d.nn);
	ydoc_free(&d);
	buf_free(&b);

	/* nesting: bounded */
	b = (struct buf){ 0 };
	for (i = 0; i < 40; i++)
		buf_addc(&b, '[');
	for (i = 0; i < 40; i++)
		buf_addc(&b, ']');
	rc = LOAD(&d, b.s);
	CHECK(rc == -1 && strstr(err, "t.yaml:1: nested more than 32 levels "
	    "deep"), "depth limit: %s", err);
	ydoc_free(&d);
	rc = load(&d, b.s, b.len, 0, 64);
	CHECK(rc == 0 && d.errors == 0, "a caller may allow more: %s", err);
	ydoc_free(&d);
	buf_free(&b);

	/* size: bounded */
	rc = load(&d, "a: 12345678901234567890\n", 24, 16, 0);
	CHECK(rc == -1 && strstr(err, "t.yaml: larger than 16 bytes"),
	    "size limit: %s", err);
	ydoc_free(&d);

	/* a key given twice: every one reported, the later pairs left out */
	rc = LOAD(&d, "a: 1\nb: 2\na: 3\nc:\n  x: 1\n  x: 2\na: 4\n");
	root = ydoc_root(&d);
	CHECK(rc == 0 && d.errors == 3 &&
	    strstr(err, "t.yaml:3: a: given twice (first on line 1)") &&
	    strstr(err, "t.yaml:6: x: given twice (first on line 5)") &&
	    strstr(err, "t.yaml:7: a: given twice (first on line 1)") &&
	    strstr(err, "t.yaml: 3 errors"), "duplicate keys: %s", err);
	CHECK(ynode_count(&d, root) == 3 &&
	    strcmp(ynode_str(get(&d, root, "a")), "1") == 0 &&
	    ynode_count(&d, get(&d, root, "c")) == 1, "later pairs left out");
	ydoc_free(&d);
	/* many keys: the sorted path */
	b = (struct buf){ 0 };
	for (i = 0; i < 500; i++)
		buf_addf(&b, "k%d: %d\n", i % 400, i);
	rc = LOAD(&d, b.s);
	CHECK(rc == 0 && d.errors == 100 &&
	    ynode_count(&d, ydoc_root(&d)) == 400 &&
	    strstr(err, "t.yaml:401: k0: given twice (first on line 1)"),
	    "500 keys, 100 twice: %d", d.errors);
	ydoc_free(&d);
	buf_free(&b);
	/* the same text in different styles is the same key */
	rc = LOAD(&d, "a: 1\n'a': 2\n\"b\": 3\nb: 4\n");
	CHECK(d.errors == 2, "quoted and plain keys compared by text: %s", err);
	ydoc_free(&d);

	/* bytes that are not UTF-8: refused with their line */
	rc = LOAD(&d, "a: 1\nb: 2\nc: caf\xe9\n");
	CHECK(rc == -1 && strstr(err, "t.yaml:3: YAML error"),
	    "latin-1 byte on line 3: %s", err);
	ydoc_free(&d);
	rc = LOAD(&d, "a: \xed\xa0\x80\n");
	CHECK(rc == -1 && strstr(err, "t.yaml:1: YAML error"),
	    "a surrogate: %s", err);
	ydoc_free(&d);

	/* a NUL character (escaped: the reader refuses a raw one) */
	rc = LOAD(&d, "a: 1\nb: \"x\\0y\"\n");
	CHECK(d.errors == 1 && strstr(err, "t.yaml:2: a NUL character in a "
	    "value"), "NUL: %s", err);
	ydoc_free(&d);

	return DONE();
}
