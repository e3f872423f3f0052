/* fuzz_tmpl.c - the mustache-style renderer, template and values both
 * from the input: values first, one per line, then a line "%%", then the
 * template.
 *   name=value    a string in the current map
 *   name[         a new item of list NAME; the lines below fill it
 *   ]             back to the map above
 * tmpl_render() must end on any template with the text or an error,
 * within its bounds on output and work. */
#include "fuzz.h"
#include "tmpl.h"

#define MAXDEPTH 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv *root, *st[MAXDEPTH];
	const uint8_t *vals, *tp;
	size_t vlen, tlen, depth = 0;
	char *v, *t, *line, *save = NULL, *out, *err = NULL;

	fuzz_split(data, size, "\n%%\n", &vals, &vlen, &tp, &tlen);
	v = fuzz_str(vals, vlen);
	t = fuzz_str(tp, tlen);
	if ((root = tv_new()) == NULL)
		abort();
	st[0] = root;
	for (line = strtok_r(v, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		size_t n = strlen(line);

		if (eq) {
			*eq = '\0';
			tv_set(st[depth], line, eq + 1);
		} else if (n > 1 && line[n - 1] == '[' && depth + 1 < MAXDEPTH) {
			struct tv *item;

			line[n - 1] = '\0';
			if ((item = tv_add(st[depth], line)) != NULL)
				st[++depth] = item;
		} else if (strcmp(line, "]") == 0 && depth > 0)
			depth--;
	}
	out = tmpl_render(t, root, &err);
	if (out == NULL && err == NULL)
		abort();	/* a failure always says why */
	free(out);
	free(err);
	tv_free(root);
	free(t);
	free(v);
	return 0;
}
