/*
 * process-int.h - what the files of ticket processing share (process.c
 * the run loop and the decision, process-names.c name matching,
 * process-twofa.c the 2FA rule, process-numbers.c the numbers rule,
 * process-policy.c the reseller and Reply-To policy, process-plan.c the
 * plan of changes). Not for other modules: mail.h is the interface.
 */
#ifndef TFADESK_PROCESS_INT_H
#define TFADESK_PROCESS_INT_H

#include <stdint.h>

#include "tfadesk.h"
#include "store.h"
#include "tmpl.h"
#include "tfadesk/mail.h"
#include "tfadesk/mime.h"
#include "tfadesk/rules.h"

#define REASON_MAX	1000

/*
 * The numbers checked while one ticket is decided, with their verdicts:
 * a held ticket is decided twice (as is, then as staff would approve it)
 * and a reseller's numbers are checked once per 2FA request, so the same
 * number comes back within a ticket. Emptied when a ticket starts, so
 * nothing outlives the ticket (and numbering.yaml is read once per run
 * anyway). phone_check() is a pure function of its arguments.
 */
#define PCACHE_N	32
struct pcache {
	char *text;
	const char *region;
	int rc;
	char e164[20];
	const char *why;
};

/* The processing context (mail.h), the caller's: what is loaded once for
 * a run (the rules and the numbering policy) and the numbers checked for
 * the ticket in hand. */
struct proc {
	const struct config *cfg;
	struct rules *rules;
	struct numbering *nb;
	struct pcache pcache[PCACHE_N];
	size_t npcache;
};

/* Everything process_ticket works with. */
struct job {
	struct proc *p;          /* the run's context */
	const struct config *cfg;
	struct store *s;
	struct approval *ap;    /* queue approve, else NULL */
	int staff;              /* decide as staff would approve */
	int64_t id;
	char actor[96];
	struct ticket t;
	struct msg *msg;
	struct rmatch rm;
	int have_rm;            /* rm filled (by this or an earlier decide) */
	char **resellers;       /* the sender is a contact of these */
	size_t nresellers;
	struct account reseller;  /* the one the ticket is about, if known */
	int have_reseller;
	int auth_ok;
	char auth_why[256];
	int have_auth;          /* auth_ok and auth_why found already */
	int automatic;          /* msg_is_automatic(), with its reason */
	const char *auto_why;
	int have_auto;          /* automatic found already */
	int plan_only;          /* only the plan is wanted (staff_plan) */
	/* outcome */
	enum ticket_state state;
	struct buf reason;
	char *fields, *results;
	int refused;            /* users the results refused */
	const char *tmpl;       /* reply template, NULL: none */
	struct tv *vars;
	struct plan_change *plan;       /* what the decision changes */
	size_t nplan;
	struct plan_user *users;        /* per-user results, for the plan */
	size_t nusers;
};

/* process.c: the job's outcome, and values as templates and logs get them */
void reason_add(struct job *, const char *, ...) PRINTFLIKE(2, 3);
void set_outcome(struct job *, enum ticket_state, const char *);
const char *safe_value(const char *, char *, size_t);
void tv_safe(struct tv *, const char *, const char *);
int in_strlist(char **, size_t, const char *);
char *masked_digits(const char *);

/* process-names.c */
int name_match(const char *, const char *);

/* process-plan.c */
void plan_add(struct job *, const char *, const char *, const char *,
    const char *, const char *);
void plan_user_add(struct job *, const char *, const char *, const char *,
    const char *, const char *, const char *, const char *);
void plan_changes_free(struct plan_change *, size_t);
void plan_users_free(struct plan_user *, size_t);
char *plan_text(const struct job *, char[PLAN_TOKEN_LEN + 1]);
int apply_plan(struct job *);

/* process-policy.c */
int pick_reseller(struct job *);
int check_reply_to(struct store *, struct msg *, int);

/* process-twofa.c */
int msg_forwarded(const struct msg *);
int do_twofa(struct job *);

/* process-numbers.c */
void pcache_clear(struct proc *);
int norm_phone(struct proc *, const char *, const char *, char[20],
    const char **);
int do_numbers(struct job *);

#endif
