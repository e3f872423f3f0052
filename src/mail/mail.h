/*
 * mail.h - the mail side of tfadesk (src/mail/): what main.c calls.
 */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct msg;
struct tv;

/* reply.c: renders templates/NAME with VARS (plus the standard variables
 * to, subject, ticket_id, from) into a complete RFC 5322 message threaded
 * to ORIG and queues it in the outbox inside the caller's transaction.
 * Returns 0 queued, 1 not queued because the recipient must not be answered
 * (loop rules), -1 error. */
int reply_queue(const struct config *, struct store *, const struct msg *orig,
    int64_t ticket_id, const char *template_name, struct tv *vars);

/* send.c: deliver due outbox rows (spool maildir or SMTP). */
struct send_stats { size_t sent, failed, deferred; };
#define SEND_DRY_RUN 0x1     /* show what would go, send nothing */
#define SEND_NOW     0x2     /* ignore back-off */
int send_run(const struct config *, struct store *, int flags,
    struct send_stats *);        /* returns an exit status */

/* fetch.c: the identity digest of a raw message, as 64 hex digits and a
 * NUL in HEX (STORE_DIGEST_HEX bytes); tfadesk's store_digest_fn. */
int ticket_digest(const char *raw, size_t len, char *hex);

/* batch.c: fetch, process and send under an exclusive lock on
 * DATABASE.lock (busy: 75 at once, or wait). DRY_RUN changes nothing
 * anywhere. Prints the one-line summary unless QUIET. Returns an exit
 * status: 0 it ran, 75 lock busy or a server unreachable. */
int batch_run(const struct config *, int dry_run, int wait, int quiet);

/* process.c: classify, validate and apply stored tickets. */
/* Loads rules (cfg->rules) and numbering once; EX_CONFIG after printing
 * every problem with file and line. process_run/process_ticket call it;
 * main may call it early to refuse a bad rules file at start. */
int process_init(const struct config *);
void process_done(void);         /* frees what process_init loaded */
struct process_stats { size_t applied, needs_review, rejected, ignored; };
int process_run(const struct config *, struct store *,
    struct process_stats *);     /* returns an exit status */
struct approval {
	const char *by;     /* staff member */
	const char *note;   /* may be NULL */
};
/* One ticket. With AP, staff approve a needs_review ticket: what validation
 * held back for review is applied (number validation still applies).
 * Returns the new state (enum ticket_state) or -1. */
int process_ticket(const struct config *, struct store *, int64_t id,
    const struct approval *ap);
/* Staff reject: state rejected with REASON and a reply quoting it. */
int process_reject(const struct config *, struct store *, int64_t id,
    const char *by, const char *reason);

#endif
