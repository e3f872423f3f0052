/*
 * send.c - delivers the outbox: each reply that is queued and due goes
 * through the transport reply.transport names (send-int.h): the spool
 * maildir (send-spool.c) or the SMTP server (send-smtp.c).
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
 * Concurrency: rows are claimed in the transaction that selects them
 * (store_outbox_claim), so any number of `send` and `batch` processes at
 * once deliver each reply once; a crashed sender's claim expires. SIGTERM
 * or SIGINT: the reply in hand is finished and marked, the rest released,
 * exit 75.
 *
 * Failures: a 4xx or a broken session leaves the row queued with
 * exponential back-off (1, 2, 4 ... minutes, at most an hour) until
 * reply.max_attempts; a 5xx marks it failed with the server's answer. An
 * unreachable server (refused, timeout) stops the run with 75 and never
 * fails a row; a TLS, certificate or AUTH problem stops it with 69.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "mail.h"
#include "send-int.h"

#define BACKOFF_BASE 60
#define BACKOFF_MAX  3600

/* indexed by enum reply_transport */
static const struct transport_ops *const transports[] = {
	[REPLY_SPOOL] = &send_spool_ops,
	[REPLY_SMTP] = &send_smtp_ops,
};

static time_t backoff(int attempts);
static void show(const struct outbox_row *, const char *how);

static time_t
backoff(int attempts)
{
	time_t d = BACKOFF_BASE;

	for (int i = 1; i < attempts && d < BACKOFF_MAX; i++)
		d *= 2;
	return d > BACKOFF_MAX ? BACKOFF_MAX : d;
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

/* The claim of this sender: random, so two processes never share one. */
static char *
claim_token(void)
{
	unsigned char r[12];
	char hex[sizeof r * 2 + 1];

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	return xstrfmt("%ld-%s", (long)getpid(), hex);
}

/* Sends one claimed row; returns 0 to go on, else the exit status that
 * ends the run. */
static int
send_one(const struct config *cfg, struct store *s, struct transport *tr,
    const struct outbox_row *r, int max, size_t left, struct send_stats *st)
{
	enum tr_result res;
	char *answer = NULL;
	time_t now;
	int att = r->attempts + 1, rc = 0;

	res = tr->ops->send(tr, r, &answer);
	now = now_time();
	switch (res) {
	case TR_LOCAL:
		/* logged; the row stays claimed until the release */
		rc = EX_CANTCREAT;
		break;
	case TR_SENT:
		STEP("send.accepted");
		/* at once: a rerun must not send it again */
		if (store_outbox_mark(s, r->id, OUTBOX_SENT, att, now,
		    NULL) == -1) {
			log_warnx("send: reply %lld was sent but could not be "
			    "marked sent", (long long)r->id);
			rc = EX_SOFTWARE;
			break;
		}
		STEP("send.marked");
		log_info("send: reply %lld (ticket %lld) to %s: %s",
		    (long long)r->id, (long long)r->ticket_id, r->rcpt,
		    answer && *answer ? answer : "delivered");
		st->sent++;
		break;
	case TR_PERM:
		log_warnx("send: reply %lld to %s refused: %s",
		    (long long)r->id, r->rcpt, answer);
		store_outbox_mark(s, r->id, OUTBOX_FAILED, att, now, answer);
		st->failed++;
		break;
	case TR_TEMP:
		if (att >= max) {
			log_warnx("send: reply %lld to %s: giving up after %d "
			    "attempts: %s", (long long)r->id, r->rcpt, att,
			    answer);
			store_outbox_mark(s, r->id, OUTBOX_FAILED, att, now,
			    answer);
			st->failed++;
		} else {
			log_warnx("send: reply %lld to %s deferred: %s",
			    (long long)r->id, r->rcpt, answer);
			store_outbox_mark(s, r->id, OUTBOX_QUEUED, att,
			    now + backoff(att), answer);
			st->deferred++;
		}
		break;
	case TR_DOWN:
	case TR_SETUP:
		/* the server, not the reply: never failed for it */
		log_warnx("send: %s: %s; %zu repl%s still queued",
		    cfg->reply.smtp_url, answer, left, left == 1 ? "y" : "ies");
		if (res == TR_DOWN)
			store_outbox_mark(s, r->id, OUTBOX_QUEUED, att,
			    now + backoff(att), answer);
		else
			store_outbox_mark(s, r->id, OUTBOX_QUEUED, r->attempts,
			    r->next_try, answer);
		st->deferred += left;
		rc = res == TR_DOWN ? EX_TEMPFAIL : EX_UNAVAILABLE;
		break;
	}
	free(answer);
	return rc;
}

/*
 * Rows are claimed CHUNK at a time, in a transaction of their own, so any
 * number of `send` and `batch` processes deliver each reply once. A claim
 * lasts long enough to send the whole chunk at the SMTP timeout; if the
 * sender dies, it expires and another sender takes the rows. Rows are
 * taken in id order past the last one tried, so a deferred row is tried
 * once per run even with SEND_NOW.
 */
#define CHUNK 16

int
send_run(const struct config *cfg, struct store *s, int flags,
    struct send_stats *st)
{
	struct outbox_row *rows = NULL;
	struct transport tr = { NULL, NULL };
	size_t n = 0, i;
	int rc = EX_OK, max, ex;
	int64_t after = 0;
	time_t lease;
	char *owner;

	memset(st, 0, sizeof *st);
	max = cfg->reply.max_attempts > 0 ? (int)cfg->reply.max_attempts : 20;
	if (flags & SEND_DRY_RUN) {
		if (store_outbox_due(s, (flags & SEND_NOW) ? INT64_MAX :
		    now_time(), &rows, &n) == -1)
			return EX_SOFTWARE;
		for (i = 0; i < n; i++) {
			show(&rows[i], "would send");
			st->sent++;
		}
		outbox_free(rows, n);
		return EX_OK;
	}
	if ((size_t)cfg->reply.transport >=
	    sizeof transports / sizeof transports[0]) {
		log_warnx("send: reply.transport: unknown");
		return EX_CONFIG;
	}
	lease = CHUNK * ((cfg->reply.timeout > 0 ? cfg->reply.timeout : 60) +
	    5) + 60;
	owner = claim_token();
	while (rc == EX_OK) {
		if (stop_requested()) {
			rc = EX_TEMPFAIL;
			break;
		}
		if (store_outbox_claim(s, now_time(), flags & SEND_NOW, after,
		    CHUNK, owner, lease, &rows, &n) == -1) {
			rc = EX_TEMPFAIL;
			break;
		}
		if (n == 0)
			break;
		STEP("send.claimed");
		/* opened once there is something to send */
		if (tr.ops == NULL) {
			tr.ops = transports[cfg->reply.transport];
			if (tr.ops->open(&tr, cfg, &ex) == -1)
				rc = ex;
		}
		for (i = 0; i < n && rc == EX_OK; i++) {
			if (stop_requested()) {
				rc = EX_TEMPFAIL;
				break;
			}
			after = rows[i].id;
			rc = send_one(cfg, s, &tr, &rows[i], max, n - i, st);
		}
		outbox_free(rows, n);
		rows = NULL;
	}
	/* what this sender claimed but did not try goes back at once */
	store_outbox_release(s, owner);
	if (stop_requested())
		log_warnx("send: stopped by signal %d; the rest stays queued",
		    stop_requested());
	free(owner);
	if (tr.ops)
		tr.ops->close(&tr);
	return rc;
}
