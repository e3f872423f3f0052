/*
 * send.c - delivers the outbox: each reply that is queued and due goes to
 * the spool maildir (reply.transport: spool) or to the SMTP server.
 *
 * Delivery guarantee. A row is marked sent in its own statement right after
 * the server answered 250 to the end of DATA (or right after the spool file
 * was renamed into new/), so a rerun never sends a reply again once the
 * server accepted it. What remains is the window between that 250 and the
 * database write (a kill -9 or a power cut in those microseconds): the row
 * is still queued and will be sent a second time. That is SMTP's own choice
 * (RFC 5321 section 6.1: a duplicate rather than a loss); the spool avoids
 * it entirely because the file name is the reply's Message-ID, so a second
 * write replaces the first.
 *
 * Failures: a 4xx or a broken session leaves the row queued with
 * exponential back-off (1, 2, 4 ... minutes, at most an hour) until
 * reply.max_attempts; a 5xx marks it failed with the server's answer. An
 * unreachable server (refused, timeout) stops the run with 75 and never
 * fails a row; a TLS, certificate or AUTH problem stops it with 69.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store.h"
#include "mail.h"
#include "smtp.h"

#define BACKOFF_BASE 60
#define BACKOFF_MAX  3600

static time_t backoff(int attempts);
static int spool_write(const char *dir, const struct outbox_row *);
static void show(const struct outbox_row *, const char *how);

static time_t
backoff(int attempts)
{
	time_t d = BACKOFF_BASE;

	for (int i = 1; i < attempts && d < BACKOFF_MAX; i++)
		d *= 2;
	return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Maildir delivery: tmp/NAME, fsync, rename to new/NAME. NAME is the
 * Message-ID, unique per row and the same on a retry.
 */
static int
spool_write(const char *dir, const struct outbox_row *r)
{
	char *name, *tmp = NULL, *dst = NULL, *sub;
	const char *p = r->message;
	size_t left = r->message_len;
	int fd = -1, rc = -1;

	for (const char *d = "tmp\0new\0cur\0"; *d; d += 4) {
		sub = xprintf("%s/%s", dir, d);
		if (mkdir_p(sub, 0750) == -1) {
			log_warn("send: spool %s", sub);
			free(sub);
			return -1;
		}
		free(sub);
	}
	name = xstrdup(r->msgid);
	for (char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
		    *c == '_' || *c == '@'))
			*c = '_';
	if (name[0] == '.')
		name[0] = '_';
	tmp = xprintf("%s/tmp/%s", dir, name);
	dst = xprintf("%s/new/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		goto fail;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		left -= (size_t)w;
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
	sub = xprintf("%s/new", dir);
	fsync_dir(sub);
	free(sub);
	rc = 0;
	goto out;
fail:
	log_warn("send: spool %s", dst);
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(name);
	free(tmp);
	free(dst);
	return rc;
}

/* One line per reply: what would be (or was not) sent. */
static void
show(const struct outbox_row *r, const char *how)
{
	const char *s = r->message, *e, *end;
	int n = 0;

	end = strstr(r->message, "\r\n\r\n");
	for (; s && (!end || s < end); s = e + 2) {
		e = strstr(s, "\r\n");
		if (e == NULL)
			break;
		if (strncasecmp(s, "Subject: ", 9) == 0) {
			s += 9;
			n = (int)(e - s);
			break;
		}
	}
	printf("%s reply %lld (ticket %lld) to %s: %.*s\n", how,
	    (long long)r->id, (long long)r->ticket_id, r->rcpt,
	    n > 0 ? n : 0, n > 0 ? s : "");
}

int
send_run(const struct config *cfg, struct store *s, int dry_run,
    struct send_stats *st)
{
	struct outbox_row *rows = NULL;
	struct smtp *smtp = NULL;
	size_t n = 0, i;
	int smtp_tr, rc = EX_OK, max, ex;
	time_t now = now_time();
	char *err = NULL, *answer;

	memset(st, 0, sizeof *st);
	smtp_tr = cfg->reply.transport && strcmp(cfg->reply.transport,
	    "smtp") == 0;
	max = cfg->reply.max_attempts > 0 ? (int)cfg->reply.max_attempts : 20;
	if (store_outbox_due(s, now, &rows, &n) == -1)
		return EX_SOFTWARE;
	if (n == 0)
		return EX_OK;
	if (dry_run) {
		for (i = 0; i < n; i++) {
			show(&rows[i], "would send");
			st->sent++;
		}
		outbox_free(rows, n);
		return EX_OK;
	}
	if (smtp_tr && (smtp = smtp_new(cfg, &err, &ex)) == NULL) {
		if (err)
			log_warnx("send: %s", err);
		free(err);
		outbox_free(rows, n);
		return ex;
	}
	if (!smtp_tr && cfg->reply.spool == NULL) {
		log_warnx("send: reply.spool is not set");
		outbox_free(rows, n);
		return EX_CONFIG;
	}
	for (i = 0; i < n; i++) {
		struct outbox_row *r = &rows[i];
		enum smtp_result res;
		int att = r->attempts + 1;

		if (!smtp_tr) {
			if (spool_write(cfg->reply.spool, r) == -1) {
				rc = EX_CANTCREAT;
				break;
			}
			res = SMTP_SENT;
			answer = NULL;
		} else
			res = smtp_send(smtp, r->mail_from, r->rcpt, r->message,
			    r->message_len, &answer);
		switch (res) {
		case SMTP_SENT:
			/* at once: a rerun must not send it again */
			if (store_outbox_mark(s, r->id, OUTBOX_SENT, att, now,
			    NULL) == -1) {
				log_warnx("send: reply %lld was sent but could "
				    "not be marked sent", (long long)r->id);
				rc = EX_SOFTWARE;
				free(answer);
				goto out;
			}
			log_info("send: reply %lld (ticket %lld) to %s: %s",
			    (long long)r->id, (long long)r->ticket_id, r->rcpt,
			    answer && *answer ? answer : "delivered");
			st->sent++;
			break;
		case SMTP_PERM:
			log_warnx("send: reply %lld to %s refused: %s",
			    (long long)r->id, r->rcpt, answer);
			store_outbox_mark(s, r->id, OUTBOX_FAILED, att, now,
			    answer);
			st->failed++;
			break;
		case SMTP_TEMP:
			if (att >= max) {
				log_warnx("send: reply %lld to %s: giving up "
				    "after %d attempts: %s", (long long)r->id,
				    r->rcpt, att, answer);
				store_outbox_mark(s, r->id, OUTBOX_FAILED, att,
				    now, answer);
				st->failed++;
			} else {
				log_warnx("send: reply %lld to %s deferred: %s",
				    (long long)r->id, r->rcpt, answer);
				store_outbox_mark(s, r->id, OUTBOX_QUEUED, att,
				    now + backoff(att), answer);
				st->deferred++;
			}
			break;
		case SMTP_DOWN:
			/* the server, not the reply: never failed for it */
			log_warnx("send: %s: %s; %zu repl%s still queued",
			    cfg->reply.smtp_url, answer, n - i,
			    n - i == 1 ? "y" : "ies");
			store_outbox_mark(s, r->id, OUTBOX_QUEUED, att,
			    now + backoff(att), answer);
			st->deferred += n - i;
			rc = EX_TEMPFAIL;
			free(answer);
			goto out;
		case SMTP_SETUP:
			log_warnx("send: %s: %s; %zu repl%s still queued",
			    cfg->reply.smtp_url, answer, n - i,
			    n - i == 1 ? "y" : "ies");
			store_outbox_mark(s, r->id, OUTBOX_QUEUED, r->attempts,
			    r->next_try, answer);
			st->deferred += n - i;
			rc = EX_UNAVAILABLE;
			free(answer);
			goto out;
		}
		free(answer);
	}
out:
	smtp_free(smtp);
	outbox_free(rows, n);
	return rc;
}
