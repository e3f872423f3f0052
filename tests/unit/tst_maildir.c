/* tst_maildir.c - the one writer of whole files (src/core/maildir.c):
 * maildir delivery into new/ with nothing left in tmp/, unique names,
 * replacement, refused names, the single-file replacement, symlinks at the
 * temporary names never followed, and a failed write that leaves nothing. */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "maildir.h"
#include "check.h"

static char dir[] = "/tmp/tst_maildir.XXXXXX";

/* Entries in D other than . and .. */
static int
entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

/* The whole of PATH, owned, or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 65536);
	size_t n;

	if (f == NULL) {
		free(s);
		return NULL;
	}
	n = fread(s, 1, 65535, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void
test_deliver(void)
{
	char md[256], sub[300], *p1 = NULL, *p2 = NULL, *s;
	struct stat st;

	snprintf(md, sizeof md, "%s/spool", dir);
	CHECK(maildir_make(md, 0750) == 0, "maildir_make");
	for (const char *d = "tmp\0new\0cur\0"; *d; d += 4) {
		snprintf(sub, sizeof sub, "%s/%s", md, d);
		CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "%s made", d);
	}
	CHECK(maildir_make(md, 0750) == 0, "maildir_make again");

	CHECK(maildir_deliver(md, NULL, "To: x\n\nhello\n", 13, 0640, &p1) == 0,
	    "deliver");
	CHECK(maildir_deliver(md, NULL, "two", 3, 0640, &p2) == 0, "again");
	CHECK(p1 && p2 && strcmp(p1, p2) != 0, "unique names");
	CHECK(p1 && strncmp(p1, md, strlen(md)) == 0 &&
	    strncmp(p1 + strlen(md), "/new/", 5) == 0, "in new/");
	s = p1 ? slurp(p1) : NULL;
	CHECK(s && strcmp(s, "To: x\n\nhello\n") == 0, "content");
	free(s);
	CHECK(p1 && stat(p1, &st) == 0 && (st.st_mode & 0777) == 0640,
	    "mode 0640");
	snprintf(sub, sizeof sub, "%s/tmp", md);
	CHECK(entries(sub) == 0, "nothing left in tmp/");
	free(p1);
	free(p2);

	/* a fixed name (the reply's Message-ID) replaces: a retry is one file */
	CHECK(maildir_deliver(md, "id@x", "first", 5, 0640, &p1) == 0, "named");
	CHECK(maildir_deliver(md, "id@x", "second", 6, 0640, NULL) == 0,
	    "named again");
	s = p1 ? slurp(p1) : NULL;
	CHECK(s && strcmp(s, "second") == 0, "replaced");
	free(s);
	free(p1);
	snprintf(sub, sizeof sub, "%s/new", md);
	CHECK(entries(sub) == 3, "three files in new/ (%d)", entries(sub));

	static const char *const bad[] = { "", ".hidden", "../escape", "a/b",
	    NULL };
	for (int i = 0; bad[i]; i++) {
		errno = 0;
		CHECK(maildir_deliver(md, bad[i], "x", 1, 0640, NULL) == -1 &&
		    errno == EINVAL, "name '%s' refused", bad[i]);
	}
	snprintf(sub, sizeof sub, "%s/none", dir);
	CHECK(maildir_deliver(sub, NULL, "x", 1, 0640, NULL) == -1 &&
	    errno == ENOENT, "no maildir: ENOENT");

	/* an empty message is a file too */
	CHECK(maildir_deliver(md, "empty", "", 0, 0640, &p1) == 0 && p1 &&
	    stat(p1, &st) == 0 && st.st_size == 0, "empty message");
	free(p1);
}

/* A write that fails half way (the file size limit) leaves nothing. */
static void
test_short(void)
{
	char md[256], sub[300];
	struct rlimit old, lim;
	static char big[20000];
	int rc, e;

	snprintf(md, sizeof md, "%s/small", dir);
	CHECK(maildir_make(md, 0750) == 0, "maildir_make");
	memset(big, 'x', sizeof big);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 4096;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = maildir_deliver(md, NULL, big, sizeof big, 0640, NULL);
	e = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(rc == -1 && e == EFBIG, "cut short: -1 EFBIG (%d %s)", rc,
	    strerror(e));
	snprintf(sub, sizeof sub, "%s/tmp", md);
	CHECK(entries(sub) == 0, "cut short: nothing in tmp/");
	snprintf(sub, sizeof sub, "%s/new", md);
	CHECK(entries(sub) == 0, "cut short: nothing in new/");
}

static void
test_atomic(void)
{
	char path[256], victim[256], link[320], *s;
	int fd;

	snprintf(path, sizeof path, "%s/metrics.prom", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1 && write(fd, "keep", 4) == 4, "victim");
	close(fd);
	/* symlinks at every temporary name this process could pick: a
	 * writer must never write through one */
	snprintf(link, sizeof link, "%s.tmp.%ld", path, (long)getpid());
	CHECK(symlink(victim, link) == 0, "symlink");
	for (int i = 0; i < 64; i++) {
		snprintf(link, sizeof link, "%s.tmp.%ldQ%d", path,
		    (long)getpid(), i);
		CHECK(symlink(victim, link) == 0, "symlink %d", i);
	}
	CHECK(write_file_atomic(path, "a 1\n", 4, 0644) == 0, "write");
	CHECK(write_file_atomic(path, "a 2\n", 4, 0644) == 0, "replace");
	s = slurp(path);
	CHECK(s && strcmp(s, "a 2\n") == 0, "content '%s'", s ? s : "");
	free(s);
	s = slurp(victim);
	CHECK(s && strcmp(s, "keep") == 0, "symlink not followed: victim "
	    "'%s'", s ? s : "");
	free(s);
	snprintf(link, sizeof link, "%s/no/such/file", dir);
	CHECK(write_file_atomic(link, "x", 1, 0644) == -1 && errno == ENOENT,
	    "missing folder: ENOENT");
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_deliver();
	test_short();
	test_atomic();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "tst_maildir: could not remove %s\n", dir);
	return DONE();
}
