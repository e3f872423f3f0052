/*
 * imap_floor.c - the floor of the intake benchmark: what the IMAP server
 * itself must do, measured by a client that does nothing else.
 *
 *   imap_floor PORT USER PASSWORD [mark]
 *
 * Logs in on 127.0.0.1:PORT, selects INBOX, sends one
 * UID FETCH 1:* (BODY.PEEK[]) and reads the answer to its tagged end,
 * parsing nothing; with "mark", then one UID STORE 1:* +FLAGS.SILENT
 * (\Seen), what `source.after: seen` asks of the server. Prints
 * "FETCH_MS MARK_MS MESSAGES BYTES". Bench code only: not installed.
 */
#define _GNU_SOURCE             /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
say(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0) {
			perror("imap_floor: write");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Reads until "\r\nTAG " begins a line; counts "* N FETCH" lines. */
static void
until_tag(int fd, const char *tag, long *fetches, long *bytes)
{
	char want[16], keep[32] = "\r\n";
	size_t klen = 2, wl;

	snprintf(want, sizeof want, "\r\n%s ", tag);
	wl = strlen(want);
	for (;;) {
		ssize_t r = read(fd, buf + klen, sizeof buf - klen - 1);
		if (r <= 0) {
			fprintf(stderr, "imap_floor: connection closed\n");
			exit(1);
		}
		memcpy(buf, keep, klen);
		*bytes += r;
		buf[klen + (size_t)r] = '\0';
		for (char *p = buf; (p = memmem(p, klen + (size_t)r -
		    (size_t)(p - buf), " FETCH (", 8)) != NULL; p += 8)
			(*fetches)++;
		if (memmem(buf, klen + (size_t)r, want, wl) != NULL)
			return;
		klen = (size_t)r < sizeof keep - 1 ? (size_t)r : sizeof keep - 1;
		memcpy(keep, buf + 2 + (size_t)r - klen, klen);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char cmd[512];
	long fetches = 0, bytes = 0, junk = 0;
	double t0, t1, t2;
	int fd, one = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: imap_floor PORT USER PASSWORD [mark]\n");
		return 64;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t0 = now_ms();
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("imap_floor: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	snprintf(cmd, sizeof cmd, "a LOGIN %s %s\r\nb SELECT INBOX\r\n",
	    argv[2], argv[3]);
	say(fd, cmd);
	until_tag(fd, "b", &junk, &junk);
	say(fd, "c UID FETCH 1:* (BODY.PEEK[])\r\n");
	until_tag(fd, "c", &fetches, &bytes);
	t1 = now_ms();
	if (argc > 4 && strcmp(argv[4], "mark") == 0) {
		say(fd, "d UID STORE 1:* +FLAGS.SILENT (\\Seen)\r\n");
		until_tag(fd, "d", &junk, &junk);
	}
	t2 = now_ms();
	say(fd, "e LOGOUT\r\n");
	close(fd);
	printf("%.0f %.0f %ld %ld\n", t1 - t0, t2 - t1, fetches, bytes);
	return 0;
}
