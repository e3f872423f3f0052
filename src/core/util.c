/* util.c - small helpers shared by both programs. */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tfadesk.h"
#include "term.h"

/* "447890123456" -> "4478******56": country code and the start of the
 * national number stay readable, the rest never leaves the database. */
char *
mask_phone(const char *digits)
{
	size_t n, i;
	char *m;

	if (digits == NULL || *digits == '\0')
		return xstrdup("(none)");
	n = strlen(digits);
	m = xstrdup(digits);
	if (n <= 6) {
		for (i = 0; i < n; i++)
			m[i] = '*';
		return m;
	}
	for (i = 4; i < n - 2; i++)
		m[i] = '*';
	return m;
}

int
streq_ci(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

char *
str_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

char *
str_lower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

int
path_is_abs(const char *p)
{
	return p[0] == '/';
}

char *
path_join(const char *dir, const char *file)
{
	if (path_is_abs(file) || dir == NULL || *dir == '\0')
		return xstrdup(file);
	size_t n = strlen(dir);
	return xstrfmt("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", file);
}

/* Reads at most MAX bytes; a bigger file is an error (EFBIG). */
int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct buf b;
	char chunk[65536];
	ssize_t r;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	buf_init(&b);
	buf_add(&b, "", 0);
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > max) {
			r = -1;
			errno = EFBIG;
			break;
		}
		buf_add(&b, chunk, (size_t)r);
	}
	if (fd != STDIN_FILENO) {
		int e = errno;
		close(fd);
		errno = e;
	}
	if (r < 0) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*out = buf_steal(&b);
	return 0;
}

/* "tfadesk (uid 999)" or "uid 999": who a uid is, for a message. */
static void
uid_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char pbuf[1024];

	if (getpwuid_r(uid, &pw, pbuf, sizeof pbuf, &res) == 0 && res)
		snprintf(out, len, "%s (uid %ld)", res->pw_name, (long)uid);
	else
		snprintf(out, len, "uid %ld", (long)uid);
}

int
secret_exit(int err)
{
	if (err == EACCES || err == EPERM)
		return EX_NOPERM;
	return err == EIO ? EX_IOERR : EX_CONFIG;
}

int
secret_fd_check(const char *path, int fd)
{
	struct stat sb;
	char owner[128], me[128];
	uid_t euid = geteuid();
	const char *what;

	if (fstat(fd, &sb) == -1) {
		log_warn("%s", path);
		errno = EIO;
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_warnx("%s: not a regular file", path);
		errno = EINVAL;
		return -1;
	}
	if (sb.st_mode & 077) {
		what = sb.st_mode & 044 ? "readable by" : sb.st_mode & 022 ?
		    "writable by" : "open to";
		log_warnx("%s: %s group or others (mode %04o): run chmod 600 "
		    "%s", path, what, (unsigned)(sb.st_mode & 07777), path);
		errno = EACCES;
		return -1;
	}
	if (sb.st_uid != euid && sb.st_uid != 0) {
		uid_name(sb.st_uid, owner, sizeof owner);
		uid_name(euid, me, sizeof me);
		log_warnx("%s: owned by %s, not by %s who runs %s: a secret "
		    "belongs to the service user alone (run %s as that user, "
		    "or chown the file)", path, owner, me, log_prog(),
		    log_prog());
		errno = EACCES;
		return -1;
	}
	return 0;
}

int
secret_open(const char *path, int oflags, int *fdp)
{
	int fd, e;
	char me[128];

	*fdp = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | oflags)) == -1) {
		e = errno;
		if (e == ENOENT)
			return -1;
		if (e == EACCES || e == EPERM) {
			uid_name(geteuid(), me, sizeof me);
			log_warnx("%s: %s: %s runs as %s, who must own it "
			    "(mode 0600 or 0400)", path, strerror(e),
			    log_prog(), me);
			e = EACCES;
		} else if (e == ELOOP && (oflags & O_NOFOLLOW)) {
			log_warnx("%s: a symbolic link: not followed for a "
			    "secret", path);
			e = EINVAL;
		} else {
			log_warn("%s", path);
			if (e != ENOTDIR)
				e = EIO;
		}
		errno = e;
		return -1;
	}
	if (secret_fd_check(path, fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*fdp = fd;
	return 0;
}

int
read_secret_file(const char *path, char **out)
{
	struct buf b;
	char chunk[512];
	ssize_t r;
	int fd;

	*out = NULL;
	if (secret_open(path, 0, &fd) == -1) {
		if (errno == ENOENT) {
			log_warn("%s", path);
			errno = ENOENT;
		}
		return -1;
	}
	buf_init(&b);
	buf_add(&b, "", 0);
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > 4096) {
			r = -2;
			break;
		}
		buf_add(&b, chunk, (size_t)r);
	}
	if (r == -1)
		log_warn("%s", path);
	else if (r == -2)
		log_warnx("%s: over 4096 bytes: not a secret", path);
	close(fd);
	explicit_bzero(chunk, sizeof chunk);
	if (r < 0) {
		explicit_bzero(b.s, b.len);
		buf_free(&b);
		errno = r == -1 ? EIO : EFBIG;
		return -1;
	}
	b.s[strcspn(b.s, "\r\n")] = '\0';
	*out = buf_steal(&b);
	return 0;
}

int
mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST) {
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

int
is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL)
		return 0;
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}


time_t
now_time(void)
{
	const char *s = getenv("TFADESK_NOW");
	if (s && *s)
		return (time_t)strtoll(s, NULL, 10);
	return time(NULL);
}

char *
time_iso(time_t t)
{
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(s);
}

/*
 * --since of audit and queue list: an ISO 8601 date or UTC time as the
 * audit log writes it (2026-11-28, 2026-11-28T13:40, 2026-11-28T13:40:00Z),
 * or an age: 30s, 30m, 12h, 7d. 0, or -1 for anything else.
 */
int
parse_since(const char *t, time_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t n = strlen(t);
	struct tm tm;
	int v[6] = { 0, 0, 0, 0, 0, 0 };

	if (n >= 2 && n <= 8 && strchr("smhd", t[n - 1])) {
		long long age = 0, unit;
		for (size_t i = 0; i + 1 < n; i++) {
			if (t[i] < '0' || t[i] > '9')
				return -1;
			age = age * 10 + (t[i] - '0');
		}
		unit = t[n - 1] == 's' ? 1 : t[n - 1] == 'm' ? 60 :
		    t[n - 1] == 'h' ? 3600 : 86400;
		*out = now_time() - (time_t)(age * unit);
		return 0;
	}
	if (n != 10 && n != 16 && n != 19 && n != 20)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') :
		    t[i] != shape[i])
			return -1;
	/* year, month, day, hour, minute, second at 0, 5, 8, 11, 14, 17 */
	for (size_t f = 0; f < 6; f++) {
		static const size_t off[6] = { 0, 5, 8, 11, 14, 17 };
		for (size_t i = off[f]; i < n && i < off[f] + (f ? 2 : 4); i++)
			v[f] = v[f] * 10 + (t[i] - '0');
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = timegm(&tm);
	return 0;
}

/*
 * SIGTERM and SIGINT ask a command to stop: it finishes the message in
 * hand, commits and exits 75. The handler only sets a flag; a second
 * signal gets the default action (SA_RESETHAND), so a stuck run can still
 * be ended at once.
 */
static volatile sig_atomic_t stop_flag;

static void
on_stop(int sig)
{
	stop_flag = sig;
}

void
stop_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int
stop_requested(void)
{
	return stop_flag;
}

#ifdef TFADESK_TEST_HOOKS
/* Every STEP() name; test_step() refuses others, so the list stays true. */
static const char *const test_steps[] = {
	"fetch.read", "fetch.stored", "fetch.before_commit", "fetch.committed",
	"fetch.flagged", "process.decided", "process.applied",
	"process.committed", "send.claimed", "send.accepted", "send.marked",
};

/* One hook of the environment: NAME:N[:MS], armed at the first step. */
struct test_hook {
	const char *env;
	const char *want;
	long left, ms;
	int init;
};

static int
test_hook_hit(struct test_hook *h, const char *name)
{
	const char *e, *colon;
	char *end;

	if (!h->init) {
		h->init = 1;
		if ((e = getenv(h->env)) != NULL &&
		    (colon = strchr(e, ':')) != NULL) {
			h->want = xstrndup(e, (size_t)(colon - e));
			h->left = strtol(colon + 1, &end, 10);
			if (*end == ':')
				h->ms = strtol(end + 1, NULL, 10);
		}
	}
	return h->want != NULL && strcmp(h->want, name) == 0 &&
	    --h->left == 0;
}

void
test_step(const char *name)
{
	static struct test_hook stop = { "TFADESK_STOP_AT", NULL, -1, 0, 0 },
	    sig = { "TFADESK_SIGNAL_AT", NULL, -1, 0, 0 },
	    pause = { "TFADESK_PAUSE_AT", NULL, -1, 0, 0 };
	size_t i, n = sizeof test_steps / sizeof test_steps[0];

	for (i = 0; i < n; i++)
		if (strcmp(test_steps[i], name) == 0)
			break;
	if (i == n)
		fatalx("test hook: step %s is not in test_steps[]", name);
	if (test_hook_hit(&stop, name))
		_exit(137);
	if (test_hook_hit(&sig, name))
		raise(SIGTERM);
	if (test_hook_hit(&pause, name) && pause.ms > 0)
		(void)poll(NULL, 0, (int)(pause.ms > 60000 ? 60000 : pause.ms));
}

/* TFADESK_STOP_AT=list: print the step names and exit 0. */
void
test_step_list(void)
{
	const char *e = getenv("TFADESK_STOP_AT");

	if (e == NULL || strcmp(e, "list") != 0)
		return;
	for (size_t i = 0; i < sizeof test_steps / sizeof test_steps[0]; i++)
		printf("%s\n", test_steps[i]);
	exit(0);
}
#endif
