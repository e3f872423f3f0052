/*
 * batch.c - one cron run: fetch, process, send, under an exclusive lock.
 *
 * The lock is flock(2) on DATABASE.lock, next to the database: a second
 * batch exits 75 at once (or waits with --wait), so two batches never
 * process at the same time; the kernel drops the lock when the process
 * dies, so a killed batch never leaves a stale lock behind.
 *
 * --dry-run changes nothing anywhere: the source is only read (fetch's
 * dry_run: no flag, move or delete on the server), the whole run happens
 * inside one database transaction that is rolled back at the end, so the
 * new mail is stored and processed only to show what would be done (process's writes included: the store nests transactions as
 * savepoints), and send only prints what it would send. While a dry run
 * lasts, other writers of the database (the verifier) wait for it.
 *
 * Every step runs even when an earlier one failed (tickets already stored
 * are still processed, replies already queued still sent); the exit status
 * is the worst one: any hard error, else 75 when a server was unreachable
 * or the lock busy, else 0. Nothing is lost on 75: mail stays on the
 * source, replies stay queued.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store.h"
#include "mail.h"
#include "source.h"
#include "maildir.h"
#include "term.h"

static int worst(int, int);
static void dry_run_report(struct store *, const int64_t *, size_t);
static void progress(int on, const char *what);
static int batch_locked(const struct config *, int, int, int, int, int *);

static int
worst(int a, int b)
{
	if (a != EX_OK && a != EX_TEMPFAIL)
		return a;
	if (b != EX_OK && b != EX_TEMPFAIL)
		return b;
	return a == EX_TEMPFAIL || b == EX_TEMPFAIL ? EX_TEMPFAIL : EX_OK;
}

/* A progress line on a terminal; cleared with what == NULL. */
static void
progress(int on, const char *what)
{
	if (!on)
		return;
	if (what)
		fprintf(stderr, "\r\033[K%s: batch: %s...", log_prog(), what);
	else
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

/*
 * log.metrics_file: the run's counts in the Prometheus text format, for
 * node-exporter's textfile collector (written whole and renamed into place,
 * so the collector never reads half a file). Counts are of the last run;
 * graph them with the timestamp, alert on its age and on the exit code.
 */
static void
write_metrics(const char *path, const struct fetch_stats *fs,
    const struct process_stats *ps, const struct send_stats *ss,
    size_t waiting, int rc, time_t secs)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "# HELP tfadesk_batch_last_run_timestamp_seconds When the "
	    "last batch ended.\n# TYPE tfadesk_batch_last_run_timestamp_seconds "
	    "gauge\n");
	buf_addf(&b, "tfadesk_batch_last_run_timestamp_seconds %lld\n",
	    (long long)now_time());
	buf_adds(&b, "# HELP tfadesk_batch_exit_code The last batch's exit "
	    "status (0 ran, 75 try later, other: look).\n# TYPE "
	    "tfadesk_batch_exit_code gauge\n");
	buf_addf(&b, "tfadesk_batch_exit_code %d\n", rc);
	buf_adds(&b, "# HELP tfadesk_batch_duration_seconds How long the last "
	    "batch took.\n# TYPE tfadesk_batch_duration_seconds gauge\n");
	buf_addf(&b, "tfadesk_batch_duration_seconds %lld\n", (long long)secs);
	buf_adds(&b, "# HELP tfadesk_batch_fetched Messages the last batch "
	    "stored.\n# TYPE tfadesk_batch_fetched gauge\n");
	buf_addf(&b, "tfadesk_batch_fetched %zu\n", fs->stored);
	buf_adds(&b, "# HELP tfadesk_batch_tickets Tickets the last batch "
	    "processed, by outcome.\n# TYPE tfadesk_batch_tickets gauge\n");
	buf_addf(&b, "tfadesk_batch_tickets{outcome=\"applied\"} %zu\n"
	    "tfadesk_batch_tickets{outcome=\"needs_review\"} %zu\n"
	    "tfadesk_batch_tickets{outcome=\"rejected\"} %zu\n"
	    "tfadesk_batch_tickets{outcome=\"ignored\"} %zu\n",
	    ps->applied, ps->needs_review, ps->rejected, ps->ignored);
	buf_adds(&b, "# HELP tfadesk_batch_replies Replies the last batch "
	    "sent, failed or deferred, and how many wait.\n# TYPE "
	    "tfadesk_batch_replies gauge\n");
	buf_addf(&b, "tfadesk_batch_replies{state=\"sent\"} %zu\n"
	    "tfadesk_batch_replies{state=\"failed\"} %zu\n"
	    "tfadesk_batch_replies{state=\"deferred\"} %zu\n"
	    "tfadesk_batch_replies{state=\"waiting\"} %zu\n",
	    ss->sent, ss->failed, ss->deferred, waiting);
	if (write_file_atomic(path, b.s, b.len, 0644) == -1)
		log_warn("batch: log.metrics_file %s", path);
	buf_free(&b);
}

/*
 * Takes the lock on DATABASE.lock into *FD. Busy: EX_TEMPFAIL at once
 * (said unless SILENT; *BUSY set), or waits with WAIT.
 */
int
batch_lock(const struct config *cfg, int wait, int silent, int tty, int *fd,
    int *busy)
{
	char *lockpath;

	lockpath = config_lock_path(cfg, ".lock");
	*fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd == -1) {
		log_warn("batch: lock %s", lockpath);
		free(lockpath);
		return EX_CANTCREAT;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK || !wait) {
			if (errno != EWOULDBLOCK)
				log_warn("batch: lock %s", lockpath);
			else if ((*busy = 1) && !silent)
				log_warnx("batch: another batch is running "
				    "(%s is locked)", lockpath);
			close(*fd);
			*fd = -1;
			free(lockpath);
			return EX_TEMPFAIL;
		}
		progress(tty, "waiting for the other batch");
		log_info("batch: waiting for %s", lockpath);
		while (flock(*fd, LOCK_EX) == -1) {
			if (errno != EINTR) {
				log_warn("batch: lock %s", lockpath);
				close(*fd);
				*fd = -1;
				free(lockpath);
				return EX_TEMPFAIL;
			}
		}
	}
	free(lockpath);
	return EX_OK;
}

/* Fetch, process and send; the caller holds the lock. */
static int
batch_locked(const struct config *cfg, int dry_run, int quiet, int tty,
    int wait, int *busy)
{
	struct fetch_stats fs;
	struct process_stats ps;
	struct send_stats ss;
	struct store *s = NULL;
	struct proc *proc = NULL;
	size_t waiting = 0, nfresh = 0;
	int64_t *fresh = NULL;
	time_t started = now_time();
	int rc = EX_OK, r;

	memset(&fs, 0, sizeof fs);
	memset(&ps, 0, sizeof ps);
	memset(&ss, 0, sizeof ss);

	/* a bad rules file stops the batch before any mail is touched */
	if ((r = process_open(cfg, &proc)) != 0) {
		rc = r;
		goto out;
	}
	if ((s = store_open(cfg->database, 0)) == NULL) {
		rc = store_open_status(EX_UNAVAILABLE);
		goto out;
	}
	/* PostgreSQL: the lock file guards this host, the database's
	 * advisory lock every host */
	if ((r = store_batch_lock(s, wait)) != 0) {
		if (r == 1) {
			*busy = 1;
			if (!quiet)
				log_warnx("batch: another batch is running "
				    "(on another host: the database's batch "
				    "lock is held)");
		}
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (dry_run && store_begin(s) == -1) {
		rc = EX_TEMPFAIL;
		goto out;
	}

	progress(tty, "fetching mail");
	r = fetch_run(cfg, s, dry_run, &fs);
	rc = worst(rc, r);

	/* --dry-run shows what became of each ticket process looks at */
	if (dry_run && !quiet &&
	    store_ticket_ids(s, TICKET_NEW, &fresh, &nfresh) == -1)
		nfresh = 0;
	progress(tty, "processing tickets");
	r = stop_requested() ? EX_TEMPFAIL : process_run(proc, s, &ps);
	rc = worst(rc, r);

	progress(tty, "sending replies");
	if (stop_requested())
		r = EX_TEMPFAIL;
	else
		r = send_run(cfg, s, dry_run ? SEND_DRY_RUN : 0, &ss);
	rc = worst(rc, r);
	progress(tty, NULL);

	if (store_outbox_waiting(s, &waiting) == -1)
		waiting = 0;
	if (dry_run) {
		if (!quiet)
			dry_run_report(s, fresh, nfresh);
		store_rollback(s);
	}

	if (!quiet)
		printf("%sfetched %zu, applied %zu, needs_review %zu, "
		    "rejected %zu, ignored %zu, sent %zu, failed %zu, "
		    "waiting %zu\n", dry_run ? "dry run (nothing changed): " :
		    "", fs.stored, ps.applied, ps.needs_review, ps.rejected,
		    ps.ignored, ss.sent, ss.failed, dry_run ? 0 : waiting);
	else if (fs.stored || ss.sent || ss.failed)
		log_info("batch: fetched %zu, applied %zu, needs_review %zu, "
		    "rejected %zu, ignored %zu, sent %zu, failed %zu, "
		    "waiting %zu", fs.stored, ps.applied, ps.needs_review,
		    ps.rejected, ps.ignored, ss.sent, ss.failed, waiting);
	if (!dry_run && cfg->metrics_file)
		write_metrics(cfg->metrics_file, &fs, &ps, &ss, waiting, rc,
		    now_time() - started);
	log_syslog("batch: %sfetched %zu, applied %zu, needs_review %zu, "
	    "rejected %zu, ignored %zu, sent %zu, failed %zu, deferred %zu, "
	    "waiting %zu, exit %d", dry_run ? "dry run: " : "", fs.stored,
	    ps.applied, ps.needs_review, ps.rejected, ps.ignored, ss.sent,
	    ss.failed, ss.deferred, dry_run ? 0 : waiting, rc);
out:
	free(fresh);
	store_close(s);
	process_close(proc);
	return rc;
}

int
batch_run(const struct config *cfg, int dry_run, int wait, int quiet)
{
	int fd, rc, busy = 0, tty = !quiet && isatty(STDERR_FILENO);

	if ((rc = batch_lock(cfg, wait, 0, tty, &fd, &busy)) != EX_OK)
		return rc;
	rc = batch_locked(cfg, dry_run, quiet, tty, wait, &busy);
	/* closing the file drops the lock; the file itself stays */
	close(fd);
	return rc;
}

int
batch_once(const struct config *cfg, int *busy)
{
	int fd, rc;

	*busy = 0;
	if ((rc = batch_lock(cfg, 0, 1, 0, &fd, busy)) != EX_OK)
		return rc;
	rc = batch_locked(cfg, 0, 1, 0, 0, busy);
	close(fd);
	return rc;
}

/* One line a ticket: id, outcome (and users refused), kind, the decoded
 * subject escaped for the terminal. */
static void
dry_run_report(struct store *s, const int64_t *ids, size_t n)
{
	struct buf b;
	struct ticket t;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (store_ticket_get(s, ids[i], 0, &t) != 0)
			continue;
		buf_reset(&b);
		buf_addf(&b, "ticket %lld: %s", (long long)t.id,
		    ticket_state_name(t.state));
		if (t.refused)
			buf_addf(&b, " (%d refused)", t.refused);
		buf_addf(&b, ", %s: ", t.kind ? t.kind : "-");
		if (t.subject)
			term_escape(&b, t.subject, strlen(t.subject), 0);
		buf_addc(&b, '\n');
		fwrite(b.s, 1, b.len, stdout);
		ticket_clear(&t);
	}
	buf_free(&b);
}
