/* tst_tmpl.c - the mustache-style renderer: a table of template + data ->
 * expected text or expected error, with template-injection attempts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tmpl.h"

#include "check.h"

static struct tv *
ctx(void)
{
	struct tv *c = tv_new(), *u;

	tv_set(c, "name", "Acme Telecom");
	tv_set(c, "empty", "");
	tv_set(c, "zero", "0");
	tv_set(c, "yes", "yes");
	tv_set(c, "evil_open", "{{#users}}x{{/users}}");
	tv_set(c, "evil_close", "{{/users}}");
	tv_set(c, "evil_var", "{{name}}{{{name}}}{{! c }}{{^x}}");
	u = tv_add(c, "users");
	tv_set(u, "id", "U1001");
	tv_set(u, "name", "Jane Smith");
	u = tv_add(c, "users");
	tv_set(u, "id", "U1002");
	tv_set(u, "name", "{{/users}}{{id}}");
	tv_add(tv_add(c, "nested"), "inner");
	tv_setf(c, "n", "%d", 42);
	return c;
}

struct tcase {
	const char *tmpl;
	const char *want;      /* NULL: must fail */
	const char *err;       /* substring of the error */
};

static const struct tcase cases[] = {
	{ "", "", NULL },
	{ "plain text\n", "plain text\n", NULL },
	{ "Hello {{name}}!", "Hello Acme Telecom!", NULL },
	{ "Hello {{ name }}!", "Hello Acme Telecom!", NULL },
	{ "[{{missing}}]", "[]", NULL },
	{ "{{n}}", "42", NULL },
	{ "{{#users}}{{id}} {{name}}; {{/users}}",
	  "U1001 Jane Smith; U1002 {{/users}}{{id}}; ", NULL },
	/* outer names are visible inside a section */
	{ "{{#users}}{{id}}@{{n}} {{/users}}", "U1001@42 U1002@42 ", NULL },
	{ "{{#yes}}Y{{/yes}}{{#empty}}E{{/empty}}{{#zero}}Z{{/zero}}",
	  "Y", NULL },
	{ "{{^empty}}e{{/empty}}{{^missing}}m{{/missing}}{{^users}}u{{/users}}"
	  "{{^zero}}z{{/zero}}", "emz", NULL },
	{ "a{{! a comment }}b", "ab", NULL },
	{ "a{{! a comment\nover lines }}b", "ab", NULL },
	/* standalone tags leave no blank line */
	{ "Users:\n{{#users}}\n- {{id}}\n{{/users}}\nend\n",
	  "Users:\n- U1001\n- U1002\nend\n", NULL },
	{ "  {{! note }}  \nx\n", "x\n", NULL },
	{ "Users:\r\n{{#users}}\r\n- {{id}}\r\n{{/users}}\r\n",
	  "Users:\r\n- U1001\r\n- U1002\r\n", NULL },
	{ "x {{#users}}\n", NULL, "never closed" },
	/* injection: values are never read as template syntax */
	{ "[{{evil_open}}]", "[{{#users}}x{{/users}}]", NULL },
	{ "[{{evil_close}}]", "[{{/users}}]", NULL },
	{ "{{#users}}[{{evil_close}}]{{/users}}",
	  "[{{/users}}][{{/users}}]", NULL },
	{ "[{{evil_var}}]", "[{{name}}{{{name}}}{{! c }}{{^x}}]", NULL },
	{ "{{#nested}}{{#inner}}[{{name}}]{{/inner}}{{/nested}}",
	  "[Acme Telecom]", NULL },
	/* errors, with line numbers */
	{ "a\nb {{name", NULL, "line 2: " },
	{ "{{#users}}\nx", NULL, "line 1: section \"users\" is never closed" },
	{ "x\n\n{{/users}}", NULL, "line 3: " },
	{ "{{#a}}\n{{/b}}", NULL, "line 2: \"{{/b}}\" closes \"a\"" },
	{ "{{}}", NULL, "line 1: bad name" },
	{ "{{a b}}", NULL, "bad name" },
	{ "{{{name}}}", NULL, "unsupported" },
	{ "{{&name}}", NULL, "unsupported" },
	{ "{{=<% %>=}}", NULL, "unsupported" },
	{ "{{>partial}}", NULL, "unsupported" },
	{ "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}"
	  "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}", NULL, "nested" },
};

static void
check(size_t i, const struct tcase *t, const struct tv *c)
{
	char *err = NULL, *got = tmpl_render(t->tmpl, c, &err);

	if (t->want) {
		if (got == NULL || strcmp(got, t->want) != 0) {
			FAIL("%zu: %s\n  want [%s]\n  got  [%s] (%s)",
			    i, t->tmpl, t->want, got ? got : "NULL",
			    err ? err : "");
		}
	} else if (got != NULL || err == NULL ||
	    strstr(err, t->err) == NULL) {
		FAIL("%zu: %s\n  want error containing [%s]\n"
		    "  got [%s] err [%s]", i, t->tmpl, t->err,
		    got ? got : "NULL", err ? err : "NULL");
	}
	free(got);
	free(err);
}

int
main(void)
{
	struct tv *c = ctx();
	char *err, *r, big[70000];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(i, &cases[i], c);

	/* tv_set replaces; tv_get borrows */
	tv_set(c, "name", "New");
	if (tv_get(c, "name") == NULL || strcmp(tv_get(c, "name"), "New"))
		FAIL("tv_set replace");
	if (tv_get(c, "users") != NULL)
		FAIL("tv_get list");
	/* NULL context renders the text alone */
	r = tmpl_render("a{{x}}b", NULL, NULL);
	if (r == NULL || strcmp(r, "ab"))
		FAIL("null ctx");
	free(r);
	/* output bound: 4 MiB */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	{
		struct tv *b = tv_new();
		tv_set(b, "v", big);
		for (int i = 0; i < 100; i++)
			tv_add(b, "l");
		r = tmpl_render("{{#l}}{{v}}{{/l}}", b, &err);
		if (r != NULL || err == NULL || !strstr(err, "too big"))
			FAIL("output bound");
		free(r);
		free(err);
		tv_free(b);
	}
	/* work bound: sections nested over a list multiply (10 items, 15
	 * deep: 10^15 passes that write nothing); the renderer gives up in
	 * well under a second instead of burning CPU (SIGALRM fails the test) */
	{
		struct tv *b = tv_new();
		char t[512] = "";
		clock_t t0;
		double secs;

		for (int i = 0; i < 10; i++)
			tv_add(b, "l");
		for (int i = 0; i < 15; i++)
			strcat(t, "{{#l}}");
		strcat(t, "{{^l}}never{{/l}}");
		for (int i = 0; i < 15; i++)
			strcat(t, "{{/l}}");
		alarm(30);
		t0 = clock();
		r = tmpl_render(t, b, &err);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		alarm(0);
		if (r != NULL || err == NULL || !strstr(err, "too much work") ||
		    secs > 2)
			FAIL("work bound: %s after %.2fs",
			    err ? err : "no error", secs);
		free(r);
		free(err);
		/* the same template over a one-item list is fine */
		tv_free(b);
		b = tv_new();
		tv_add(b, "l");
		r = tmpl_render(t, b, &err);
		if (r == NULL || strcmp(r, "") != 0)
			FAIL("one item: %s", err);
		free(r);
		free(err);
		tv_free(b);
	}
	/* files: name with and without .txt; no path escapes */
	r = tmpl_render_file("/nonexistent", "x", c, &err);
	if (r != NULL || err == NULL)
		FAIL("missing file");
	free(err);
	r = tmpl_render_file("/etc", "../etc/passwd", c, &err);
	if (r != NULL || err == NULL)
		FAIL("path escape");
	free(err);
	{
		char dir[] = "/tmp/tst_tmpl.XXXXXX", path[64];
		FILE *f;
		if (mkdtemp(dir) != NULL) {
			snprintf(path, sizeof path, "%s/hello.txt", dir);
			f = fopen(path, "w");
			fputs("Hi {{name}}\n{{#x}}\n", f);
			fclose(f);
			r = tmpl_render_file(dir, "hello", c, &err);
			if (r != NULL || err == NULL ||
			    strstr(err, "hello.txt: line 2:") == NULL)
				FAIL("file error [%s]", err);
			free(r);
			free(err);
			f = fopen(path, "w");
			fputs("Hi {{name}}\n", f);
			fclose(f);
			r = tmpl_render_file(dir, "hello.txt", c, &err);
			if (r == NULL || strcmp(r, "Hi New\n"))
				FAIL("file render");
			free(r);
			unlink(path);
			rmdir(dir);
		}
	}
	tv_free(c);
	tv_free(NULL);
	return DONE();
}
