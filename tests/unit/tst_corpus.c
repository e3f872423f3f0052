/* tst_corpus.c - msg_parse over a folder of real-world mail: every file,
 * whole and cut at 16 points, must parse without a crash (run it under
 * SANITIZE=1 too) and give sound output. The folder is $CORPUS, else
 * $TFADESK_CORPUS, else $TOP/tests/corpus (kept in the tree, so the test
 * runs on every clone); a missing folder is a failure, not a skip. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mime_inv.h"
#include "check.h"

static int
is_dir(const char *p)
{
	struct stat st;

	return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int
main(void)
{
	char dir[4096], path[8192], *raw;
	const char *top = getenv("TOP"), *v;
	struct dirent *e;
	struct msg *m;
	struct timespec t0, t1;
	size_t len, off, files = 0, parses = 0, bytes = 0, errors = 0, k;
	size_t nhtml = 0, nheld = 0;
	double secs = 0;
	DIR *d;

	if (is_dir(getenv("CORPUS")))
		snprintf(dir, sizeof(dir), "%s", getenv("CORPUS"));
	else if (is_dir(getenv("TFADESK_CORPUS")))
		snprintf(dir, sizeof(dir), "%s", getenv("TFADESK_CORPUS"));
	else
		snprintf(dir, sizeof(dir), "%s/tests/corpus",
		    top && *top ? top : ".");
	if (!is_dir(dir)) {
		printf("no corpus folder (%s): set CORPUS\n", dir);
		return 1;
	}
	d = opendir(dir);
	if (d == NULL) {
		printf("%s: cannot open\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (is_dir(path) || strcmp(e->d_name, "SOURCES.md") == 0 ||
		    strcmp(e->d_name, "LICENSES.md") == 0)
			continue;
		raw = inv_slurp(path, &len);
		if (raw == NULL) {
			printf("FAIL %s: cannot read\n", path);
			CHECK_FAILED();
			continue;
		}
		files++;
		bytes += len;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		m = msg_parse(raw, len, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs += (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		parses++;
		if ((v = inv_check(m, raw, len)) != NULL) {
			printf("FAIL %s: %s\n", e->d_name, v);
			CHECK_FAILED();
		} else if (m->error) {
			errors++;
			printf("note %s: %s\n", e->d_name, m->error);
		}
		/* how much real HTML-only mail would go to staff (issue 9) */
		if (m && m->html_only)
			nhtml++;
		if (m && m->html_hidden_style) {
			nheld += m->html_only;
			printf("note %s: %s%s\n", e->d_name,
			    m->html_hidden_style, m->html_only ? " (HTML only)" :
			    "");
		}
		msg_free(m);
		for (k = 1; k <= 16; k++) {
			char *pre;

			off = len * k / 17;
			pre = malloc(off ? off : 1);
			memcpy(pre, raw, off);
			m = msg_parse(pre, off, NULL);
			if ((v = inv_check(m, pre, off)) != NULL) {
				printf("FAIL %s cut at %zu: %s\n", e->d_name,
				    off, v);
				CHECK_FAILED();
			}
			msg_free(m);
			free(pre);
			parses++;
		}
		free(raw);
	}
	closedir(d);
	printf("%zu files (%zu KB), %zu parses, %zu with an error reason, "
	    "%d failed; whole-file parse %.1f us/message\n", files,
	    bytes / 1024, parses, errors, check_fail,
	    files ? secs * 1e6 / (double)files : 0.0);
	printf("%zu HTML-only messages, %zu of them held for hidden-text "
	    "styles\n", nhtml, nheld);
	return check_fail ? 1 : 0;
}
