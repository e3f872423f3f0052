/*
 * maildir.c - whole files written so that readers never see half of one:
 * maildir delivery (tmp/, new/) and the replacement of a single file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tfadesk.h"
#include "maildir.h"

static unsigned name_counter;

/* fsync of the folder DIR, so that a rename into it survives a crash. */
static int
fsync_dir(const char *dir)
{
	int fd, rc, e;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* The folder part of PATH, owned ("." when it has none). */
static char *
dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		return xstrdup(".");
	if (sl == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(sl - path));
}

/* The one writer: TMP (created afresh), all of DATA, fsync, rename to DST,
 * fsync of DST's folder. */
static int
write_rename(const char *tmp, const char *dst, const void *data, size_t len,
    int mode)
{
	const char *p = data;
	char *dir;
	int fd, e, tries = 0;

again:
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1 && errno == EEXIST && tries++ == 0) {
		/* left by a crash of a process with our pid: never reused,
		 * never followed */
		if (unlink(tmp) == 0)
			goto again;
		errno = EEXIST;
	}
	if (fd == -1)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto fail;
		if (w == 0) {
			errno = EIO;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto fail;
	dir = dir_of(dst);
	if (fsync_dir(dir) == -1) {
		/* the file is in place, but not known to be durable: the
		 * caller is told, as for any other failed step */
		e = errno;
		free(dir);
		errno = e;
		return -1;
	}
	free(dir);
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int
maildir_make(const char *dir, int mode)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char *d;

	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		d = xstrfmt("%s/%s", dir, sub[i]);
		if (mkdir_p(d, mode) == -1) {
			int e = errno;
			free(d);
			errno = e;
			return -1;
		}
		free(d);
	}
	return 0;
}

char *
maildir_unique_name(void)
{
	char host[64];
	unsigned n = __atomic_add_fetch(&name_counter, 1, __ATOMIC_RELAXED);

	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	/* maildir(5): '/' and ':' may not appear in a name */
	host[strcspn(host, "/:")] = '\0';
	if (host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	return xstrfmt("%lld.P%ldQ%u.%s", (long long)time(NULL),
	    (long)getpid(), n, host);
}

int
maildir_deliver(const char *dir, const char *name, const void *data,
    size_t len, int mode, char **pathp)
{
	char *u = maildir_unique_name(), *tmp, *dst;
	int rc, e;

	if (name && (name[0] == '\0' || name[0] == '.' ||
	    strchr(name, '/') != NULL)) {
		free(u);
		errno = EINVAL;
		return -1;
	}
	tmp = xstrfmt("%s/tmp/%s", dir, u);
	dst = xstrfmt("%s/new/%s", dir, name ? name : u);
	rc = write_rename(tmp, dst, data, len, mode);
	e = errno;
	free(u);
	free(tmp);
	if (rc == 0 && pathp)
		*pathp = dst;
	else
		free(dst);
	errno = e;
	return rc;
}

int
write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	unsigned n = __atomic_add_fetch(&name_counter, 1, __ATOMIC_RELAXED);
	char *tmp = xstrfmt("%s.tmp.%ldQ%u", path, (long)getpid(), n);
	int rc, e;

	rc = write_rename(tmp, path, data, len, mode);
	e = errno;
	free(tmp);
	errno = e;
	return rc;
}
