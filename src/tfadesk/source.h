/*
 * source.h - where tickets come from: one ops table per kind of mailbox, as
 * fdm's struct fetch and isync's struct driver.
 *
 * The order that makes a kill -9 safe at any instant:
 *   1. next() hands over one message; nothing changes on the server yet.
 *   2. fetch.c stores it (store_ticket_add: one transaction, keyed by the
 *      source key and by the message's identity: Message-ID and digest) or
 *      finds its key already stored.
 *   3. only then commit() flags, moves or deletes it per source.after.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stddef.h>

struct config;
struct store;

enum {
	SRC_OK = 0,    /* a message / the call worked */
	SRC_EOF,       /* no more messages */
	SRC_MSG_BAD,   /* this message failed; go on with the next */
	SRC_BOX_BAD,   /* the mailbox cannot be used (UIDVALIDITY changed...) */
	SRC_TEMP,      /* server unreachable, timeout: retry later (exit 75) */
	SRC_CONFIG,    /* bad settings (exit 78) */
	SRC_REFUSED,   /* certificate or login refused by/for the server (69) */
	SRC_NOPERM,    /* a secret's mode or owner to fix (77) */
};

/*
 * One message handed over by next(). RAW may be NULL when the source itself
 * found KEY already stored (store_source_known) and skipped the download:
 * fetch.c then only calls commit(). PRIV is owned by the source and freed by
 * source_msg_clear() with free().
 */
struct source_msg {
	char *key;     /* owned: stable identity in this source */
	char *raw;     /* owned, NULL: already stored, not downloaded */
	size_t len;
	void *priv;    /* owned by the source (uid, file name...), free()d */
};

struct source;

struct source_ops {
	const char *name;   /* "maildir", "imap", ... */
	enum source_type type;  /* the plain one: SOURCE_IMAP for imaps too */
	int (*open)(struct source *);
	int (*next)(struct source *, struct source_msg *);
	/* Only for a message whose key is durably stored (committed). May
	 * just queue the server-side change; flush() applies the queue. */
	int (*commit)(struct source *, struct source_msg *);
	/* Optional (NULL): send the queued commits. The server's answer may
	 * still be on its way when it returns (read before the next command
	 * on that connection); a flush with nothing queued waits for it.
	 * fetch.c calls it after each group and once more at the end. */
	int (*flush)(struct source *);
	void (*close)(struct source *);
	/* Optional (NULL): inside a group's store transaction, before its
	 * COMMIT, write what the source keeps about itself (IMAP: how far
	 * the server confirmed the after-actions), so that it costs no
	 * commit and no fsync of its own. Returns 0, or -1 when the store
	 * failed: the group is rolled back. */
	int (*save)(struct source *);
};

struct source {
	const struct source_ops *ops;
	const struct config *cfg;   /* borrowed */
	struct store *store;        /* borrowed: for UIDVALIDITY/UID state */
	int dry_run;                /* no server-side change at all */
	void *priv;
};

void source_msg_clear(struct source_msg *);
const struct source_ops *source_lookup(enum source_type);
/* SRC_* of a failed call to an exit status (sysexits). */
int source_exit(int src);

/*
 * libetpan writes GnuTLS's errors to stderr itself ("GnuTLS error: ...").
 * A TLS step runs between tls_begin and tls_end: what the library printed
 * is kept instead of leaking as a second line, and the time it took, so
 * that a handshake that timed out (75: try later) is told apart from one
 * that was refused (69: fix the certificate).
 */
struct tls_step {
	int saved_fd, cap_fd;
	double t0, elapsed;
	char *said;          /* owned: what the library printed, or NULL */
};
void tls_begin(struct tls_step *);
void tls_end(struct tls_step *);
/* Logs a failed TLS step WHAT at WHERE in one line; returns SRC_TEMP when
 * it timed out (TIMEOUT seconds), else SRC_REFUSED. Frees STEP's text. */
int tls_failed(struct tls_step *, const char *where, const char *what,
    long timeout);

/*
 * What a failed call to a mail server comes to, however the library names
 * it; source_fault logs it in one line at WHERE (WHAT: the step) and
 * grades it: a lost connection or an answer that cannot be read is
 * SRC_TEMP and marks the connection BROKEN (no LOGOUT); a refused login,
 * STARTTLS or certificate is SRC_REFUSED (a TLS step that timed out is
 * SRC_TEMP); anything else SRC_BOX_BAD. RESP: what the server said, or
 * "". CODE: the library's number, for the last kind.
 */
enum source_fault {
	FAULT_CONNECTION, FAULT_TLS, FAULT_LOGIN, FAULT_STARTTLS,
	FAULT_UNREADABLE, FAULT_OTHER
};
int source_fault(enum source_fault, const char *where, const char *what,
    int code, const char *resp, struct tls_step *, long timeout,
    int *broken);

extern const struct source_ops source_maildir_ops;
extern const struct source_ops source_imap_ops;
extern const struct source_ops source_pop3_ops;

/*
 * source-imap.c, for watch: a second IMAP connection that only waits for
 * the mailbox to change (EXAMINE, then IDLE; NOOP every few seconds on a
 * server without IDLE). imap_wait returns SRC_OK when a message arrived
 * (an untagged EXISTS), SRC_EOF when SECONDS passed or a stop was
 * requested, SRC_TEMP (or another SRC_*) when the connection failed:
 * close it and open a new one.
 */
struct imap_waiter;
int imap_wait_open(const struct config *, struct imap_waiter **);
int imap_wait(struct imap_waiter *, long seconds);
int imap_wait_idles(const struct imap_waiter *);  /* 1: IDLE, 0: NOOP */
void imap_wait_close(struct imap_waiter *);

/* source-tls.c: check the peer chain of an established TLS stream (a
 * libetpan mailstream *) against CA_FILE (NULL: system trust) and HOST.
 * Returns 0 or -1 with the reason logged as "source: HOST: ...". */
struct mailstream_ssl_context;
void source_tls_sni(struct mailstream_ssl_context *, void *host);
int source_tls_verify(void *mailstream, const char *ca_file,
    const char *host);

/* fetch.c: poll the configured source into the ticket store. DRY_RUN:
 * nothing changes on the server; the caller holds a transaction that it
 * rolls back (batch --dry-run, fetch --dry-run). */
struct fetch_stats { size_t seen, stored, dup, failed; };
int fetch_run(const struct config *, struct store *, int dry_run,
    struct fetch_stats *);       /* returns an exit status */
/* ingest: store raw messages from files or stdin. */
int ingest_run(const struct config *, struct store *, char **files, int n);

#endif
