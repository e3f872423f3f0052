/*
 * fetch.c - the intake commands: `tfadesk fetch` polls the configured source
 * into the ticket store, `tfadesk ingest` stores messages given as files or
 * on stdin (an MTA pipe, as rt-mailgate).
 *
 * Never lose, never duplicate (STYLE.md §2): a message is stored (its source
 * key, its Message-ID and its identity digest: msg_identity) and the store
 * transaction committed before the source is told to flag, move or delete
 * it. To keep the fsyncs and server round trips down, messages share one
 * transaction (one fsync a group; the source's own state, ops->save, rides
 * in it too); the server side changes of the group follow its COMMIT
 * (GROUP_BATCHES * source.batch messages, GROUP_BYTES or GROUP_SECONDS)
 * and the server works on them while the next group is read and stored
 * (ops->flush need not wait for the answer). A kill at any instant leaves
 * either the group unstored and untouched on the server, or stored and
 * maybe not yet flagged: the next run finds the key stored and only flags.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/mail.h"
#include "tfadesk/mime.h"
#include "tfadesk/source.h"

/* A group (read whole, then one store transaction, then one round of
 * server-side changes) ends after GROUP_BATCHES * source.batch messages,
 * GROUP_BYTES of them, or GROUP_SECONDS of reading. The bytes bound keeps
 * the store transaction short: every other writer (staff, batch, send)
 * waits on its write lock, and DESIGN.md keeps each under 50 ms. */
#define GROUP_SECONDS 1
#define GROUP_BATCHES 5
#define GROUP_BYTES (256u * 1024)

struct group {
	struct source_msg *msgs;   /* read, held until stored and committed;
				    * raw NULL: stored already */
	size_t n, cap, bytes;
	time_t started;
};

static char *msg_identity(const char *, size_t, char *);
static int group_store(struct source *, struct group *,
    struct fetch_stats *);
static int fetch_lock(const struct config *);

/*
 * One fetch at a time per database: two would read the same messages and
 * both move them (a server copies before it expunges). The lock is the
 * file DATABASE-fetch.lock, held with flock until exit (so a kill frees it).
 * Returns the descriptor, -1 when another fetch holds it, -2 on error.
 */
static int
fetch_lock(const struct config *cfg)
{
	char *path = config_lock_path(cfg, "-fetch.lock");
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("fetch: %s", path);
		free(path);
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("fetch: another fetch is running (%s)",
			    path);
		else
			log_warn("fetch: lock %s", path);
		close(fd);
		free(path);
		return errno == EWOULDBLOCK ? -1 : -2;
	}
	free(path);
	return fd;
}

_Static_assert(MIME_IDENTITY_HEX == STORE_DIGEST_HEX,
    "the store keeps the message identity's hex digest");

/*
 * A message's identity (DESIGN.md, Mail pipeline): its Message-ID without
 * <> and the digest of its bytes without trace fields (mime_identity),
 * written as hex into HEX. Returns the msgkey, owned: the Message-ID, else
 * "digest:<hex>". Two copies are one ticket when both match; a Message-ID
 * stored with another digest is a ticket of its own, held for staff
 * (process.c).
 */
static char *
msg_identity(const char *raw, size_t len, char *hex)
{
	char *id = mime_message_id(raw, len), *k;

	if (mime_identity_hex(raw, len, hex) == -1)
		fatalx("identity: libsodium cannot hash");
	if (id != NULL && *id != '\0') {
		k = xstrdup(id);
		free(id);
		return k;
	}
	free(id);
	return xstrfmt("digest:%s", hex);
}

/*
 * Stores the group's messages in one transaction, then applies the
 * source's after-action to each. When the disk is full (store_full) the
 * transaction is rolled back and the rest of the group is tried again in
 * halves, down to single messages, so that what fits is stored; a message
 * that does not fit ends the group: it and the ones after it stay on the
 * source untouched. Only committed messages count in ST. Returns SRC_OK,
 * SRC_TEMP when the store failed, or the source's failure.
 */
static int
group_store(struct source *src, struct group *g, struct fetch_stats *st)
{
	struct store *s = src->store;
	size_t pos = 0, sz = g->n, end, i, stored, dup;
	int rc = SRC_OK, r, failed;
	int64_t id;
	char *msgkey, digest[STORE_DIGEST_HEX];

	while (pos < g->n && rc == SRC_OK) {
		end = g->n - pos < sz ? g->n : pos + sz;
		stored = dup = 0;
		failed = store_begin(s) == -1;
		for (i = pos; i < end && !failed; i++) {
			struct source_msg *m = &g->msgs[i];

			if (m->raw == NULL) {
				dup++;
				continue;
			}
			msgkey = msg_identity(m->raw, m->len, digest);
			r = store_ticket_add(s, m->key, msgkey, digest, m->raw,
			    m->len, &id);
			free(msgkey);
			if (r == -1)
				failed = 1;
			else if (r == 0)
				stored++;
			else
				dup++;
			STEP("fetch.stored");
		}
		if (!failed && src->ops->save && !src->dry_run &&
		    src->ops->save(src) == -1)
			failed = 1;
		if (failed)
			store_rollback(s);
		else {
			STEP("fetch.before_commit");
			failed = store_commit(s) == -1;   /* rolled back */
		}
		if (failed) {
			if (!store_full(s) || end - pos == 1) {
				rc = SRC_TEMP;
				break;
			}
			sz = (end - pos) / 2;
			log_info("fetch: the disk is full: storing groups of %zu",
			    sz);
			continue;
		}
		STEP("fetch.committed");
		st->stored += stored;
		st->dup += dup;
		for (i = pos; i < end && rc == SRC_OK; i++) {
			r = src->ops->commit(src, &g->msgs[i]);
			if (r == SRC_TEMP || r == SRC_BOX_BAD ||
			    r == SRC_REFUSED)
				rc = r;
			STEP("fetch.flagged");
		}
		if (rc == SRC_OK && src->ops->flush)
			rc = src->ops->flush(src);
		pos = end;
	}
	if (pos < g->n && rc == SRC_TEMP)
		log_warnx("fetch: %zu message%s not stored, left on the source "
		    "(%s)", g->n - pos, g->n - pos == 1 ? "" : "s",
		    store_full(s) ? "the disk is full" : "store failed");
	for (i = 0; i < g->n; i++)
		source_msg_clear(&g->msgs[i]);
	g->n = 0;
	g->bytes = 0;
	return rc;
}

int
fetch_run(const struct config *cfg, struct store *store, int dry_run,
    struct fetch_stats *st)
{
	const struct source_ops *ops = source_lookup(cfg->source.type);
	struct source src;
	struct source_msg m;
	struct group g;
	size_t batch = cfg->source.batch > 0 ? (size_t)cfg->source.batch : 1000;
	int rc, known, r, lockfd, stopped = 0;

	memset(st, 0, sizeof *st);
	if (ops == NULL) {
		log_warnx("source: source.type %s: unknown",
		    config_choice("source.type", (int)cfg->source.type));
		return EX_CONFIG;
	}
	if (sodium_init() < 0)
		fatalx("fetch: libsodium cannot start");
	if ((lockfd = fetch_lock(cfg)) < 0)
		return EX_TEMPFAIL;
	memset(&src, 0, sizeof src);
	src.ops = ops;
	src.cfg = cfg;
	src.store = store;
	src.dry_run = dry_run;
	memset(&g, 0, sizeof g);

	if ((rc = ops->open(&src)) != SRC_OK) {
		ops->close(&src);
		close(lockfd);
		return source_exit(rc);
	}
	for (;;) {
		/* SIGTERM/SIGINT: store and flag what is in hand, then 75 */
		if ((stopped = stop_requested()) != 0)
			break;
		memset(&m, 0, sizeof m);
		r = ops->next(&src, &m);
		if (r == SRC_EOF)
			break;
		if (r == SRC_MSG_BAD) {
			/* logged by the source; the message stays there */
			st->failed++;
			source_msg_clear(&m);
			continue;
		}
		if (r != SRC_OK) {
			rc = r;
			source_msg_clear(&m);
			break;
		}
		STEP("fetch.read");
		st->seen++;
		known = m.raw == NULL ? 1 : store_source_known(store, m.key);
		if (known == -1) {
			rc = SRC_TEMP;
			source_msg_clear(&m);
			break;
		}
		if (known) {
			free(m.raw);
			m.raw = NULL;
		}
		if (g.n == 0)
			g.started = time(NULL);
		if (g.n == g.cap) {
			g.cap = g.cap ? g.cap * 2 : 64;
			g.msgs = xreallocarray(g.msgs, g.cap, sizeof *g.msgs);
		}
		g.bytes += m.raw ? m.len : 0;
		g.msgs[g.n++] = m;
		if (g.n >= GROUP_BATCHES * batch || g.bytes >= GROUP_BYTES ||
		    time(NULL) - g.started >= GROUP_SECONDS) {
			if ((r = group_store(&src, &g, st)) != SRC_OK) {
				rc = r;
				break;
			}
		}
	}
	if (rc == SRC_OK || rc == SRC_MSG_BAD) {
		if ((r = group_store(&src, &g, st)) != SRC_OK)
			rc = r;
		/* the server's answer to the last after-actions */
		else if (ops->flush && (r = ops->flush(&src)) != SRC_OK)
			rc = r;
	} else {
		/* the source failed: what is held is neither stored nor
		 * changed on the server */
		for (size_t i = 0; i < g.n; i++)
			source_msg_clear(&g.msgs[i]);
		g.n = 0;
	}
	free(g.msgs);
	ops->close(&src);
	close(lockfd);
	if (stopped && (rc == SRC_OK || rc == SRC_MSG_BAD)) {
		log_warnx("fetch: stopped by signal %d; the rest stays on the "
		    "source", stopped);
		return EX_TEMPFAIL;
	}
	return source_exit(rc);
}

/* An envelope "From " line (mbox, some MTA pipes) is not part of the
 * message. */
static void
strip_envelope(char **raw, size_t *len)
{
	char *nl;
	size_t skip;

	if (*len < 5 || memcmp(*raw, "From ", 5) != 0)
		return;
	if ((nl = memchr(*raw, '\n', *len)) == NULL)
		return;
	skip = (size_t)(nl + 1 - *raw);
	memmove(*raw, *raw + skip, *len - skip);
	*len -= skip;
	(*raw)[*len] = '\0';
}

static int
ingest_one(const struct config *cfg, struct store *store, const char *file)
{
	const char *name = strcmp(file, "-") == 0 ? "stdin" : file;
	size_t max = (size_t)cfg->limits.max_bytes, len, i;
	char *raw, *msgkey, *key, digest[STORE_DIGEST_HEX];
	struct ticket t;
	int64_t id;
	int r;

	if (read_file(file, max, &raw, &len) == -1) {
		if (errno == EFBIG) {
			log_warnx("ingest: %s: message over limits.max_bytes "
			    "(%zu)", name, max);
			return EX_DATAERR;
		}
		log_warn("ingest: %s", name);
		return errno == ENOENT || errno == EACCES || errno == EISDIR ?
		    EX_NOINPUT : EX_TEMPFAIL;
	}
	strip_envelope(&raw, &len);
	for (i = 0; i < len; i++)
		if (raw[i] != '\r' && raw[i] != '\n' && raw[i] != ' ' &&
		    raw[i] != '\t')
			break;
	if (i == len) {
		log_warnx("ingest: %s: empty message", name);
		free(raw);
		return EX_DATAERR;
	}
	/* the message's own identity is its source key: a pipe has none */
	msgkey = msg_identity(raw, len, digest);
	key = xstrfmt("ingest:%s", digest);
	r = store_ticket_add(store, key, msgkey, digest, raw, len, &id);
	memset(&t, 0, sizeof t);
	if (r == 0 && store_ticket_get(store, id, 0, &t) == -1)
		t.dup_of = 0;		/* logged; only the message below */
	if (r == -1)
		log_warnx("ingest: %s: not stored, try again later", name);
	else if (t.dup_of > 0)
		log_info("ingest: %s: stored as ticket %lld, held for staff: "
		    "ticket %lld has its Message-ID and other content", name,
		    (long long)id, (long long)t.dup_of);
	else
		log_info("ingest: %s: %s ticket %lld", name,
		    r == 0 ? "stored as" : "already stored as",
		    (long long)id);
	ticket_clear(&t);
	free(key);
	free(msgkey);
	free(raw);
	return r == -1 ? EX_TEMPFAIL : EX_OK;
}

/* Worst first: a retry (75) beats a refusal of one input. */
static int
worse(int a, int b)
{
	static const int order[] = { EX_TEMPFAIL, EX_NOINPUT, EX_DATAERR,
	    EX_OK };

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a;
}

int
ingest_run(const struct config *cfg, struct store *store, char **files,
    int n)
{
	int rc = EX_OK;

	if (sodium_init() < 0)
		fatalx("ingest: libsodium cannot start");
	if (n <= 0)
		return ingest_one(cfg, store, "-");
	for (int i = 0; i < n; i++)
		rc = worse(rc, ingest_one(cfg, store, files[i]));
	return rc;
}
