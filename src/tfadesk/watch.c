/*
 * watch.c - tfadesk watch: the batch of batch.c for each arrival, as a
 * long-running service, so a reseller gets the reply within seconds rather
 * than at the next cron run.
 *
 * How an arrival is noticed, per source.type:
 *   imap, imaps  a second connection that only waits (imap_wait: IDLE, or
 *                NOOP every 5 s on a server without IDLE);
 *   maildir      the mtime of new/, looked at every second (portable: no
 *                inotify);
 *   pop3, pop3s  nothing to wait on: a batch every source.poll_seconds.
 * Whatever the source, a batch also runs at start, after a reconnection
 * and every source.poll_seconds (default 60; at most 25 minutes, so IDLE
 * is renewed well within RFC 2177's 29) as a safety net.
 *
 * The lock of batch.c is taken only for the batch itself, never while
 * waiting: cron's `tfadesk batch` and watch on another host may run beside
 * it. When the lock is busy, watch tries again every 200 ms until it gets
 * it, so an arrival the other batch missed is still handled at once.
 *
 * A lost connection is opened again with back-off (1 s doubling to 60 s;
 * a refused login or certificate 5 minutes). SIGTERM or SIGINT ends watch
 * with 0 within about a second (a batch in hand finishes its message
 * first); a configuration or secret to fix (78, 77) ends it with that
 * code. Any other failure of a batch is logged and retried.
 */
#include <sys/stat.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfadesk.h"
#include "mail.h"
#include "source.h"

#define BACKOFF_MAX	60
#define REFUSED_WAIT	300
#define BUSY_RETRY_MS	200

enum kind { W_IMAP, W_MAILDIR, W_POLL };

static int nap(long ms);
static int cycle(const struct config *);
static int fatal_code(int);

/* Sleeps MS milliseconds unless a stop is requested; 1: stopped. */
static int
nap(long ms)
{
	while (ms > 0 && !stop_requested()) {
		(void)poll(NULL, 0, ms > 250 ? 250 : (int)ms);
		ms -= 250;
	}
	return stop_requested() != 0;
}

/* The exit statuses a person must act on: configuration, secrets. */
static int
fatal_code(int rc)
{
	return rc == EX_CONFIG || rc == EX_NOPERM;
}

/* One batch, waiting (stoppably) while another batch holds the lock. */
static int
cycle(const struct config *cfg)
{
	int busy, rc;

	for (;;) {
		rc = batch_once(cfg, &busy);
		if (!busy)
			break;
		if (nap(BUSY_RETRY_MS))
			return EX_TEMPFAIL;
	}
	if (rc != EX_OK && rc != EX_TEMPFAIL && !fatal_code(rc))
		log_warnx("watch: batch failed (exit %d); trying again at "
		    "the next arrival or in %ld s", rc, cfg->source.poll_seconds);
	return rc;
}

/* The mtime of DIR/new in nanoseconds, 0 when it cannot be read. */
static long long
new_mtime(const char *dir)
{
	struct stat sb;
	char *p = path_join(dir, "new");
	long long t = 0;

	if (stat(p, &sb) == 0)
		t = (long long)sb.st_mtim.tv_sec * 1000000000LL +
		    sb.st_mtim.tv_nsec;
	free(p);
	return t;
}

int
watch_run(const struct config *cfg)
{
	const char *type = config_choice("source.type", (int)cfg->source.type);
	struct imap_waiter *w = NULL;
	enum kind kind;
	long poll_s = cfg->source.poll_seconds > 0 ? cfg->source.poll_seconds :
	    60, backoff = 1, left;
	long long mt = 0, m;
	time_t next;
	int rc, r, fresh = 0;

	if (cfg->source.type == SOURCE_IMAP ||
	    cfg->source.type == SOURCE_IMAPS)
		kind = W_IMAP;
	else if (cfg->source.type == SOURCE_MAILDIR)
		kind = W_MAILDIR;
	else
		kind = W_POLL;
	stop_install();
	/* a server gone away must be an error on write, not the end of the
	 * service: libetpan writes to its socket with write(2) */
	signal(SIGPIPE, SIG_IGN);
	log_info("watch: started (%s source; a full check every %ld s)", type,
	    poll_s);
	log_syslog("watch: started (%s source)", type);

	if (kind == W_MAILDIR && cfg->source.path)
		mt = new_mtime(cfg->source.path);
	/*
	 * The waiting connection opens before the first batch, as after a
	 * reconnection: a message that comes after the batch's fetch and
	 * before the EXAMINE would be counted by the EXAMINE and never
	 * reported by IDLE. Opened first, the batch's fetch sees what came
	 * before it and IDLE reports what came after.
	 */
	rc = EX_OK;
	if (kind == W_IMAP) {
		r = imap_wait_open(cfg, &w);
		if (r == SRC_CONFIG || r == SRC_NOPERM)
			rc = source_exit(r);
		else if (r != SRC_OK) {
			/* the loop tries again with back-off */
			imap_wait_close(w);
			w = NULL;
		}
	}
	if (!fatal_code(rc))
		rc = cycle(cfg);
	next = time(NULL) + poll_s;
	while (!fatal_code(rc) && !stop_requested()) {
		switch (kind) {
		case W_IMAP:
			if (w == NULL) {
				r = imap_wait_open(cfg, &w);
				if (r == SRC_CONFIG || r == SRC_NOPERM) {
					rc = source_exit(r);
					break;
				}
				if (r != SRC_OK) {
					imap_wait_close(w);
					w = NULL;
					left = r == SRC_REFUSED ? REFUSED_WAIT :
					    backoff;
					log_warnx("watch: mail server: trying "
					    "again in %ld s", left);
					if (backoff < BACKOFF_MAX)
						backoff *= 2;
					fresh = 1;
					nap(left * 1000);
					continue;
				}
				backoff = 1;
				if (fresh) {
					/* what came while we were away */
					log_info("watch: connected again");
					fresh = 0;
					rc = cycle(cfg);
					next = time(NULL) + poll_s;
					continue;
				}
			}
			left = (long)(next - time(NULL));
			r = left > 0 ? imap_wait(w, left) : SRC_EOF;
			if (r == SRC_OK) {
				log_debug("watch: a message arrived");
				rc = cycle(cfg);
			} else if (r == SRC_EOF) {
				if (time(NULL) >= next) {
					rc = cycle(cfg);
					next = time(NULL) + poll_s;
				}
			} else {
				imap_wait_close(w);
				w = NULL;
				fresh = 1;
				log_warnx("watch: mail server connection lost: "
				    "trying again in %ld s", backoff);
				nap(backoff * 1000);
				if (backoff < BACKOFF_MAX)
					backoff *= 2;
			}
			break;
		case W_MAILDIR:
			nap(1000);
			m = cfg->source.path ? new_mtime(cfg->source.path) : 0;
			if (m != mt || time(NULL) >= next) {
				mt = m;
				rc = cycle(cfg);
				next = time(NULL) + poll_s;
			}
			break;
		case W_POLL:
			nap(1000);
			if (time(NULL) >= next) {
				rc = cycle(cfg);
				next = time(NULL) + poll_s;
			}
			break;
		}
	}
	imap_wait_close(w);
	if (fatal_code(rc)) {
		log_warnx("watch: stopped: fix the configuration (exit %d)", rc);
		return rc;
	}
	log_info("watch: stopped (signal %d)", stop_requested());
	log_syslog("watch: stopped");
	return EX_OK;
}
