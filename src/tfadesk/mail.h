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
/* Between reply_hold(1) and reply_hold(0) (a group of tickets, one
 * transaction) a template file, or its absence, is looked up once; at
 * other times each reply looks again, so that an edit shows at once. */
void reply_hold(int on);

/* send.c: deliver due outbox rows (spool maildir or SMTP). */
struct send_stats { size_t sent, failed, deferred; };
#define SEND_DRY_RUN 0x1     /* show what would go, send nothing */
#define SEND_NOW     0x2     /* ignore back-off */
int send_run(const struct config *, struct store *, int flags,
    struct send_stats *);        /* returns an exit status */

/* batch.c: fetch, process and send under an exclusive lock on
 * DATABASE.lock (busy: 75 at once, or wait). DRY_RUN changes nothing
 * anywhere. Prints the one-line summary unless QUIET. Returns an exit
 * status: 0 it ran, 75 lock busy or a server unreachable. */
int batch_run(const struct config *, int dry_run, int wait, int quiet);
/* One quiet batch for watch: *BUSY set (and 75) when another batch holds
 * the lock; a summary is logged (-v) when something was done. */
int batch_once(const struct config *, int *busy);
/* The batch's lock file (DATABASE.lock) into *FD: EX_OK, EX_TEMPFAIL
 * when another holds it (said unless SILENT; *BUSY set) or WAIT waits.
 * Closing *FD lets go. */
int batch_lock(const struct config *, int wait, int silent, int tty, int *fd,
    int *busy);
/* watch.c: a batch for each arrival until SIGTERM (exit 0). */
int watch_run(const struct config *);

/* process.c: classify, validate and apply stored tickets. */
/* The processing context: the rules (cfg->rules) and numbering policy,
 * loaded once, and what one ticket's decision caches. The caller owns it
 * and passes it to process_run/plan/ticket. process_open: 0, or
 * EX_CONFIG after printing every problem with file and line (main opens
 * one early to refuse a bad rules file at start). */
struct proc;
int process_open(const struct config *, struct proc **);
void process_close(struct proc *);
struct process_stats { size_t applied, needs_review, rejected, ignored; };
int process_run(struct proc *, struct store *,
    struct process_stats *);     /* returns an exit status */
/*
 * A plan: the ordered list of concrete changes that approving a held
 * ticket would make, computed by the same validation as process (in staff
 * mode: the sender vouched for, an overwrite allowed), with the values
 * they replace, so that a change made meanwhile (another ticket, staff,
 * an import) changes it. Its token is a short hash of its canonical text
 * (ticket id included); queue show prints it, approve --expect checks it.
 */
#define PLAN_TOKEN_LEN	16
struct plan_change {
	char *action;       /* user.phone | account.twofa | account.use_2fa */
	char *account;
	char *user;         /* user.phone only */
	char *old_value;    /* whole number (NULL: none), or off */
	char *new_value;    /* whole number, or on */
};
/* One user as the plan's validation judged it; numbers masked. */
struct plan_user {
	char *user, *name, *result, *code, *old_masked, *new_masked, *reason;
};
struct ticket_plan {
	struct plan_change *ch;         /* owned */
	size_t nch;
	struct plan_user *users;        /* owned */
	size_t nusers;
	int state;          /* enum ticket_state approval would end in */
	char *reason;       /* and why; owned */
	char *text;         /* canonical text (whole numbers: internal) */
	char token[PLAN_TOKEN_LEN + 1];
	char *held_token;   /* the token stored when the ticket was held */
};
void ticket_plan_clear(struct ticket_plan *);
/* Computes the plan of ticket ID as it stands now, changing nothing.
 * 0, 1 no such ticket, -1 error (also for a NULL context: the rules
 * could not be loaded). */
int process_plan(struct proc *, struct store *, int64_t id,
    struct ticket_plan *);

enum approve_result {
	APPROVE_DONE = 0,   /* the plan was applied (or the ticket closed) */
	APPROVE_STALE,      /* the plan is not the one expected: nothing done */
	APPROVE_NOTHING,    /* approval would change nothing: nothing done */
	APPROVE_NO_PLAN     /* no --expect and no plan stored when held */
};
struct approval {
	const char *actor;   /* "staff:NAME" or "admin:USER" */
	const char *expect;  /* token the staff saw; NULL: the one stored */
	const char *message; /* for the reseller (the reply); may be NULL */
	const char *note;    /* internal: history only, never mail; may be NULL */
	/* out */
	enum approve_result result;
	char token[PLAN_TOKEN_LEN + 1];  /* the plan's token now */
	char why[512];       /* APPROVE_NOTHING: what approval would end as */
};
/* One ticket. With AP, staff approve a needs_review ticket: its plan is
 * computed again, compared with AP->expect (or the stored one) and applied
 * in one transaction with its audit rows, the note and the reply; AP->result
 * says whether it was. Returns the ticket's state (enum ticket_state)
 * afterwards, or -1. */
int process_ticket(struct proc *, struct store *, int64_t id,
    struct approval *ap);
/* Staff reject: state rejected with REASON and a reply quoting it; NOTE
 * (may be NULL) goes into the history only. */
int process_reject(const struct config *, struct store *, int64_t id,
    const char *actor, const char *reason, const char *note);
/* Staff note: an audit row (ticket.note) in the ticket's history. */
int process_note(struct store *, int64_t id, const char *actor,
    const char *note);

#endif
