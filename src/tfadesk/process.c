/*
 * process.c - classify, validate and apply stored tickets (tfadesk process,
 * queue approve|reject|retry): the checks every ticket goes through, the
 * outcome and reply written, the run loop. The rules for each kind and the
 * policies are in process-*.c (process-int.h lists them).
 *
 * Reply templates used (templates/NAME.txt) and the variables given to
 * them, besides the standard to, subject, re_subject, ticket_id, from:
 *   twofa_enabled    reseller_id, reseller_name, users [{id, name,
 *                    phone_masked}], message
 *   twofa_already    reseller_id, reseller_name, message
 *   twofa_missing    reseller_id, reseller_name, missing [{id, name}],
 *                    reason, message
 *   numbers_result   reseller_id, reseller_name, users [{id, name,
 *                    phone_masked, result, reason}], reason, message
 *   passed_to_staff  reseller_id, reseller_name (when known), reason
 *   staff_rejected   reseller_id, reseller_name (when known), reason
 *   sender_unknown   reason
 *   sender_unverified  nothing but the standard variables
 * "message" is the text staff wrote for the reseller (approve --message;
 * reject --reason is "reason"); a staff note (--note) is never given to a
 * template. A sender we could not authenticate is told only that a person
 * will look at the request (sender_unverified), never why: what we check
 * is what a forger would learn to fake.
 * Numbers handed to templates are masked here already (reply.c masks
 * again whatever else looks like a number).
 *
 * Deciding and changing are apart: decide() only reads and lists the
 * changes it would make (the plan); apply_plan() makes them. A ticket held
 * for staff is also decided in staff mode (the sender vouched for, an
 * overwrite allowed, every other check the same), and that plan and its
 * token are stored with it: queue show prints the plan, queue approve
 * applies it only if it is still the same.
 *
 * One ticket is one transaction: the changes, their audit rows (actor
 * "ticket:ID", or "staff:NAME" for queue approve/reject), the ticket's new
 * state and its reply are committed together or not at all. A ticket that
 * is no longer new is left alone by process_run, so running it again
 * changes nothing; "queue retry" processes a ticket again but never sends
 * a second automatic reply.
 *
 * Outcomes (DESIGN.md "Decisions that tests rely on"):
 *   a later ticket reusing a Message-ID (other       needs_review, no reply,
 *     content: store_ticket_add)                       until staff approve
 *   loop or bounce mail, unreadable mail, no From    ignored, no reply
 *   no rule matched (kind staff)                     needs_review
 *   sender not a contact of any reseller             rejected
 *   sender a contact but not authenticated           needs_review
 *   twofa_setup: switched on -> applied; already on -> applied; users
 *     without a valid mobile -> rejected, nothing changed, reply lists them;
 *     a forwarded request -> needs_review (never switched on without staff)
 *   missing_number: each user on its own; the ticket is needs_review if
 *     any user waits for staff, else applied if any number was registered
 *     or already there, else rejected. A user whose block gave a field
 *     twice (rentry.held) waits for staff; users read from a forwarded
 *     message are checked against the sender's resellers like any other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "phone.h"
#include "tmpl.h"
#include "utf8.h"
#include "tfadesk/addr.h"
#include "tfadesk/mail.h"
#include "tfadesk/mime.h"
#include "tfadesk/rules.h"
#include "tfadesk/authres.h"
#include "tfadesk/process-int.h"

static void fields_json(struct job *);
static void match_rules(struct job *);
static int decide(struct job *);
static int staff_plan(struct job *, struct ticket_plan *);

/* ---- configuration ------------------------------------------------- */

/* Loads the rules and the numbering policy into a new context *PP (the
 * caller's: process_close() frees it). EX_CONFIG when either is bad
 * (every problem already printed with file and line). */
int
process_open(const struct config *cfg, struct proc **pp)
{
	struct proc *p;

	*pp = NULL;
	p = xcalloc(1, sizeof *p);
	if ((p->rules = rules_load(cfg->rules)) == NULL) {
		free(p);
		return EX_CONFIG;
	}
	if ((p->nb = numbering_load(cfg->numbering)) == NULL) {
		rules_free(p->rules);
		free(p);
		return EX_CONFIG;
	}
	p->cfg = cfg;
	*pp = p;
	return 0;
}

void
process_close(struct proc *p)
{
	if (p == NULL)
		return;
	pcache_clear(p);
	rules_free(p->rules);
	numbering_free(p->nb);
	free(p);
}

static void
set_reseller_vars(struct job *j)
{
	if (j->have_reseller) {
		tv_safe(j->vars, "reseller_id", j->reseller.id);
		tv_safe(j->vars, "reseller_name", j->reseller.name);
	}
}

/* ---- the decision -------------------------------------------------- */

static void
html_hidden_reason(struct job *j)
{
	char b[200];

	reason_add(j, "html_hidden_style: %s, which can hide text; hidden text "
	    "was not read, not applied automatically: left for staff",
	    safe_value(j->msg->html_hidden_style, b, sizeof b));
}

/* The checks every ticket goes through, then the work for its kind.
 * 0 with j->state and j->tmpl set, or -1 on a store error. */
static int
decide(struct job *j)
{
	const char *why = NULL;

	/*
	 * An earlier ticket has this Message-ID and other content: one of
	 * the two is not what it claims (a predicted Message-ID, a replay
	 * with changes). Held whatever it says, no reply (the address may
	 * be forged), never applied automatically, not even by queue
	 * retry; staff approve it the normal way. The earlier ticket is
	 * left as it is.
	 */
	if (j->t.dup_of > 0 && !j->staff) {
		reason_add(j, "duplicate_message_id: ticket %lld has the same "
		    "Message-ID and different content; held for staff, never "
		    "applied automatically", (long long)j->t.dup_of);
		if (j->msg->error == NULL) {
			match_rules(j);
			if (!j->plan_only)
				fields_json(j);
		}
		set_outcome(j, TICKET_NEEDS_REVIEW, NULL);
		return 0;
	}

	/* RFC 3834: never answer automatic mail, never act on it */
	if (!j->have_auto) {
		/* reply.from as written: addr_parse_ours() keeps the one
		 * parse of it that reply.c uses too */
		j->automatic = msg_is_automatic(j->msg, j->cfg->reply.from,
		    &j->auto_why);
		j->have_auto = 1;
	}
	if (j->automatic) {
		why = j->auto_why;
		reason_add(j, "automatic mail (%s): not acted on, not answered",
		    why ? why : "loop protection");
		set_outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}
	if (j->msg->error) {
		char b[128];
		reason_add(j, "the message could not be read: %s",
		    safe_value(j->msg->error, b, sizeof b));
		set_outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}
	if (j->msg->from_addr == NULL || j->msg->from_count != 1) {
		reason_add(j, "%s", j->msg->from_count > 1 ? "more than one From "
		    "address: not acted on" : "no usable From address");
		set_outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}

	match_rules(j);
	/* the fields are recorded with the ticket; a plan does not carry them */
	if (!j->plan_only)
		fields_json(j);
	if (store_contact_resellers(j->s, j->msg->from_addr, &j->resellers,
	    &j->nresellers) < 0)
		return -1;
	/* depends on the message and the configuration only: a held
	 * ticket's second decision (hold_plan()) takes the first one's */
	if (j->have_auth)
		;
	else if (j->cfg->security.require_sender_auth)
		j->auth_ok = auth_check(j->msg, j->cfg->security.authserv_id,
		    j->auth_why, sizeof j->auth_why);
	else {
		j->auth_ok = 1;
		snprintf(j->auth_why, sizeof j->auth_why, "sender authentication "
		    "not required");
	}
	j->have_auth = 1;

	if (j->rm.kind == RK_STAFF) {
		reason_add(j, "not a 2FA set-up or missing-number request: left "
		    "for staff");
		if (j->staff) {
			buf_reset(&j->reason);
			reason_add(j, "closed by %s: nothing for tfadesk to change",
			    j->actor);
			set_outcome(j, TICKET_APPLIED, NULL);
			return 0;
		}
		if (j->msg->html_hidden_style)
			html_hidden_reason(j);
		/* acknowledge only to known contacts: no backscatter */
		set_outcome(j, TICKET_NEEDS_REVIEW, j->nresellers && j->auth_ok ?
		    "passed_to_staff" : NULL);
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	if (j->nresellers == 0) {
		char b[128];
		reason_add(j, "the sender %s is not a contact of any reseller",
		    safe_value(j->msg->from_addr, b, sizeof b));
		/* answer only an address that proved itself, or all when
		 * authentication is off: never a forged one */
		set_outcome(j, TICKET_REJECTED, j->auth_ok ? "sender_unknown" : NULL);
		return 0;
	}
	if (!j->auth_ok && !j->staff) {
		/* the reason is for staff; the sender learns nothing of it */
		reason_add(j, "%s", j->auth_why);
		set_outcome(j, TICKET_NEEDS_REVIEW, "sender_unverified");
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	/* HTML that can hide text (issue 9): what we read may not be what
	 * the reader saw, so staff look at it; a staff approval applies it */
	if (j->msg->html_hidden_style && !j->staff) {
		html_hidden_reason(j);
		set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	if (j->rm.kind == RK_TWOFA_SETUP)
		return do_twofa(j);
	return do_numbers(j);
}

static void
fields_json(struct job *j)
{
	struct buf b;
	struct json js;
	char s[128];

	buf_init(&b);
	json_init(&js, &b, 0);
	json_obj(&js);
	json_kstr(&js, "rule", j->rm.rule);
	json_kint(&js, "rule_line", j->rm.rule_line);
	json_kstr(&js, "kind", rule_kind_name(j->rm.kind));
	json_key(&js, "accounts");
	json_arr(&js);
	for (size_t i = 0; i < j->rm.naccounts; i++)
		json_str(&js, safe_value(j->rm.accounts[i], s, sizeof s));
	json_end(&js);
	json_key(&js, "users");
	json_arr(&js);
	for (size_t i = 0; i < j->rm.nentries; i++) {
		const struct rentry *e = &j->rm.entries[i];
		char *mk = masked_digits(e->mobile);
		json_obj(&js);
		json_kstr(&js, "user_id", e->user_id ? safe_value(e->user_id, s,
		    sizeof s) : NULL);
		json_kstr(&js, "name", e->name ? safe_value(e->name, s, sizeof s) :
		    NULL);
		json_kstr(&js, "account_id", e->account_id ? safe_value(e->account_id,
		    s, sizeof s) : NULL);
		json_kstr(&js, "mobile", e->mobile ? mk : NULL);
		json_kstr(&js, "how", e->how);
		json_kbool(&js, "forwarded", e->forwarded);
		json_kstr(&js, "held", e->held);
		json_end(&js);
		free(mk);
	}
	json_end(&js);
	json_kbool(&js, "truncated", j->rm.truncated);
	json_kbool(&js, "forward_read", j->rm.forward_read);
	json_end(&js);
	free(j->fields);
	j->fields = buf_steal(&b);
}

/* Classifies the message, once per message: rules_match() depends on
 * the message and the rules only, so a held ticket's second decision
 * (staff mode, hold_plan()) takes the first one's. */
static void
match_rules(struct job *j)
{
	if (j->have_rm)
		return;
	rules_match(j->p->rules, j->msg, &j->rm);
	j->have_rm = 1;
}

static void
job_free(struct job *j)
{
	ticket_clear(&j->t);
	msg_free(j->msg);
	rmatch_clear(&j->rm);
	for (size_t i = 0; i < j->nresellers; i++)
		free(j->resellers[i]);
	free(j->resellers);
	account_clear(&j->reseller);
	buf_free(&j->reason);
	free(j->fields);
	free(j->results);
	tv_free(j->vars);
	plan_changes_free(j->plan, j->nplan);
	plan_users_free(j->users, j->nusers);
}

/* Has the ticket had a reply already (queue retry)? */
static int
replied_before(struct store *s, int64_t id)
{
	struct outbox_row *rows = NULL;
	size_t n = 0;

	if (store_outbox_list(s, id, &rows, &n) != 0)
		return 0;
	outbox_free(rows, n);
	return n > 0;
}

/* Writes the outcome: ticket row (with its audit row) and the reply. */
static int
record(struct job *j)
{
	struct ticket out;
	char subj[256];
	int rc;

	memset(&out, 0, sizeof out);
	out.id = j->id;
	out.kind = j->state == TICKET_IGNORED ? NULL :
	    UNCONST(rule_kind_name(j->rm.kind));
	out.state = j->state;
	out.reason = j->reason.s ? j->reason.s : UNCONST("");
	out.from_addr = j->msg ? j->msg->from_addr : NULL;
	if (j->msg && j->msg->subject) {
		size_t k = utf8_trunc_len(j->msg->subject, 200);
		memcpy(subj, j->msg->subject, k);
		subj[k] = '\0';
		out.subject = subj;
	}
	out.fields = j->fields;
	out.results = j->results;
	out.refused = j->refused;
	out.account = j->have_reseller ? j->reseller.id : NULL;
	if (store_ticket_set(j->s, &out, j->t.state, j->actor) != 0)
		return -1;
	if (j->tmpl == NULL)
		return 0;
	/* a new ticket has never been answered; for queue retry, look */
	if (j->ap == NULL && j->t.state != TICKET_NEW &&
	    replied_before(j->s, j->id))
		return 0;
	if (check_reply_to(j->s, j->msg, j->auth_ok) != 0)
		return -1;
	if (!j->auth_ok && j->ap == NULL) {
		/* An address we could not authenticate is told that a person
		 * will look, and nothing else: no reason, no account, no
		 * result. A staff decision (approve) has vouched for it. */
		struct tv *none = tv_new();
		if (none == NULL)
			fatalx("process: out of memory");
		rc = reply_queue(j->cfg, j->s, j->msg, j->id,
		    "sender_unverified", none);
		tv_free(none);
		return rc < 0 ? -1 : 0;
	}
	set_reseller_vars(j);
	tv_set(j->vars, "reason", out.reason);
	if (j->ap && j->ap->message)
		tv_set(j->vars, "message", j->ap->message);
	rc = reply_queue(j->cfg, j->s, j->msg, j->id, j->tmpl, j->vars);
	return rc < 0 ? -1 : 0;
}

/* ---- entry points -------------------------------------------------- */

static int
job_start(struct job *j, struct proc *p, struct store *s, int64_t id,
    const char *actor)
{
	const struct config *cfg = p->cfg;
	char b[96];

	memset(j, 0, sizeof *j);
	pcache_clear(p);
	j->p = p;
	j->cfg = cfg;
	j->s = s;
	j->id = id;
	buf_init(&j->reason);
	if ((j->vars = tv_new()) == NULL)
		fatalx("process: out of memory");
	if (actor)
		snprintf(j->actor, sizeof j->actor, "%s",
		    safe_value(actor, b, sizeof b));
	else
		snprintf(j->actor, sizeof j->actor, "ticket:%lld", (long long)id);
	if (store_begin(s) != 0)
		return -1;
	if (store_ticket_get(s, id, 1, &j->t) != 0) {
		log_warnx("ticket %lld: not found", (long long)id);
		store_rollback(s);
		return -1;
	}
	return 0;
}

static int
parse(struct job *j)
{
	struct msg_limits lim = MSG_LIMITS_DEFAULT;

	if (j->cfg->limits.max_bytes > 0)
		lim.max_bytes = (size_t)j->cfg->limits.max_bytes;
	if (j->cfg->limits.max_parts > 0)
		lim.max_parts = (size_t)j->cfg->limits.max_parts;
	if (j->cfg->limits.max_depth > 0)
		lim.max_depth = (size_t)j->cfg->limits.max_depth;
	j->msg = msg_parse(j->t.raw ? j->t.raw : "", j->t.raw_len, &lim);
	if (j->msg == NULL)
		fatalx("ticket %lld: out of memory", (long long)j->id);
	return 0;
}

/*
 * The plan of ticket ID as staff approval would carry it out now: the
 * ticket decided in staff mode, inside a savepoint that is rolled back
 * (decide() writes nothing anyway). 0, 1 no such ticket, -1 error.
 */
static int
compute_plan(struct proc *pr, struct store *s, int64_t id,
    struct ticket_plan *p)
{
	struct job j;
	int rc;

	memset(p, 0, sizeof *p);
	if (pr == NULL)         /* the rules could not be loaded */
		return -1;
	if (store_begin(s) != 0)
		return -1;
	if ((rc = store_ticket_get(s, id, 0, &j.t)) != 0) {
		ticket_clear(&j.t);
		store_rollback(s);
		return rc;
	}
	ticket_clear(&j.t);
	store_rollback(s);
	if (job_start(&j, pr, s, id, "staff") != 0) {
		job_free(&j);
		return -1;
	}
	parse(&j);
	rc = staff_plan(&j, p);
	job_free(&j);
	return rc;
}

/*
 * Decides J (started and parsed, inside a savepoint of its own) as staff
 * approval would, rolls the savepoint back and moves the plan to P.
 * 0, -1 error.
 */
static int
staff_plan(struct job *j, struct ticket_plan *p)
{
	int rc;

	j->staff = 1;
	j->plan_only = 1;
	rc = decide(j);
	store_rollback(j->s);
	if (rc != 0)
		return -1;
	p->text = plan_text(j, p->token);
	p->ch = j->plan;
	p->nch = j->nplan;
	p->users = j->users;
	p->nusers = j->nusers;
	j->plan = NULL;
	j->users = NULL;
	j->nplan = j->nusers = 0;
	p->state = (int)j->state;
	p->reason = xstrdup(j->reason.s ? j->reason.s : "");
	return 0;
}

int
process_plan(struct proc *pr, struct store *s, int64_t id,
    struct ticket_plan *p)
{
	char *text = NULL;
	int rc;

	if ((rc = compute_plan(pr, s, id, p)) != 0)
		return rc;
	if (store_ticket_plan_get(s, id, &text, &p->held_token) == -1) {
		ticket_plan_clear(p);
		return -1;
	}
	free(text);
	return 0;
}

/*
 * A ticket is held: store the plan its approval would carry out. The
 * plan is what compute_plan() gives after this run's writes: the ticket's
 * message decided afresh in staff mode; only the reading and parsing of
 * the message (which this run did already) are not done again.
 */
static int
hold_plan(struct job *j)
{
	struct ticket_plan p;
	struct job sj;
	int rc;

	memset(&p, 0, sizeof p);
	memset(&sj, 0, sizeof sj);
	sj.p = j->p;
	sj.cfg = j->cfg;
	sj.s = j->s;
	sj.id = j->id;
	snprintf(sj.actor, sizeof sj.actor, "staff");
	buf_init(&sj.reason);
	if ((sj.vars = tv_new()) == NULL)
		fatalx("process: out of memory");
	if (store_begin(j->s) != 0) {
		job_free(&sj);
		return -1;
	}
	sj.t = j->t;            /* borrowed, given back before job_free() */
	sj.msg = j->msg;
	sj.rm = j->rm;
	sj.have_rm = j->have_rm;
	/* what depends on the message and the configuration only */
	sj.automatic = j->automatic;
	sj.auto_why = j->auto_why;
	sj.have_auto = j->have_auto;
	sj.auth_ok = j->auth_ok;
	memcpy(sj.auth_why, j->auth_why, sizeof sj.auth_why);
	sj.have_auth = j->have_auth;
	rc = staff_plan(&sj, &p);
	memset(&sj.t, 0, sizeof sj.t);
	sj.msg = NULL;
	memset(&sj.rm, 0, sizeof sj.rm);
	job_free(&sj);
	if (rc != 0)
		return -1;
	rc = store_ticket_plan_set(j->s, j->id, p.text, p.token);
	ticket_plan_clear(&p);
	return rc;
}

/*
 * Staff approval: the plan decided now must be the one the staff saw (the
 * token given with --expect, else the one stored when the ticket was held)
 * and must change something. 0 go on, 1 refused (AP->result says why).
 */
static int
approval_check(struct job *j)
{
	struct approval *ap = j->ap;
	char *text, *held = NULL;
	const char *want = ap->expect;
	int rc;

	text = plan_text(j, ap->token);
	free(text);
	if (want == NULL) {
		if ((rc = store_ticket_plan_get(j->s, j->id, &text, &held)) == -1)
			return -1;
		free(text);
		if (rc == 1) {
			ap->result = APPROVE_NO_PLAN;
			return 1;
		}
		want = held;
	}
	if (strcasecmp(want, ap->token) != 0) {
		ap->result = APPROVE_STALE;
		free(held);
		return 1;
	}
	free(held);
	/* a ticket left for staff has nothing for tfadesk to apply:
	 * approval closes it */
	if (j->nplan == 0 && j->rm.kind != RK_STAFF) {
		snprintf(ap->why, sizeof ap->why, "%s: %s",
		    ticket_state_name(j->state), j->reason.s ? j->reason.s : "");
		ap->result = APPROVE_NOTHING;
		return 1;
	}
	ap->result = APPROVE_DONE;
	return 0;
}

/* One ticket in one transaction. ONLY_NEW: leave it alone unless it is
 * still new (process_run; another run may have been first). */
static int
run_one(struct proc *p, struct store *s, int64_t id, struct approval *ap,
    int only_new)
{
	struct job j;
	int rc;

	if (p == NULL)          /* the rules could not be loaded */
		return -1;
	if (job_start(&j, p, s, id, ap ? ap->actor : NULL) != 0) {
		job_free(&j);
		return -1;
	}
	j.ap = ap;
	j.staff = ap != NULL;
	if (only_new && j.t.state != TICKET_NEW) {
		store_rollback(s);
		rc = (int)j.t.state;
		job_free(&j);
		return rc;
	}
	if (ap && j.t.state != TICKET_NEEDS_REVIEW) {
		log_warnx("ticket %lld: is %s, only needs_review tickets can be "
		    "approved", (long long)id, ticket_state_name(j.t.state));
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	parse(&j);
	if (decide(&j) != 0)
		goto fail;
	if (ap && (rc = approval_check(&j)) != 0) {
		if (rc < 0)
			goto fail;
		store_rollback(s);
		rc = (int)j.t.state;
		job_free(&j);
		return rc;
	}
	if (apply_plan(&j) != 0 || record(&j) != 0)
		goto fail;
	if (ap && ap->note && store_audit(s, j.actor, "ticket.note",
	    j.have_reseller ? j.reseller.id : NULL, NULL, NULL, ap->note,
	    id) != 0)
		goto fail;
	if (j.state == TICKET_NEEDS_REVIEW && hold_plan(&j) != 0)
		goto fail;
	STEP("process.decided");
	if (store_commit(s) != 0) {
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	STEP("process.applied");
	log_info("ticket %lld: %s: %s", (long long)id,
	    ticket_state_name(j.state), j.reason.s ? j.reason.s : "");
	rc = (int)j.state;
	job_free(&j);
	return rc;
fail:
	store_rollback(s);
	log_warnx("ticket %lld: not processed; it stays %s",
	    (long long)id, ticket_state_name(j.t.state));
	job_free(&j);
	return -1;
}

int
process_ticket(struct proc *p, struct store *s, int64_t id,
    struct approval *ap)
{
	return run_one(p, s, id, ap, 0);
}

int
process_note(struct store *s, int64_t id, const char *actor,
    const char *note)
{
	struct ticket t;
	int rc;

	if (store_begin(s) != 0)
		return -1;
	if ((rc = store_ticket_get(s, id, 0, &t)) != 0) {
		if (rc == 1)
			log_warnx("ticket %lld: no such ticket", (long long)id);
		store_rollback(s);
		return -1;
	}
	rc = store_audit(s, actor, "ticket.note", t.account, NULL, NULL, note,
	    id);
	ticket_clear(&t);
	if (rc != 0 || store_commit(s) != 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

int
process_reject(const struct config *cfg, struct store *s, int64_t id,
    const char *actor, const char *reason, const char *note)
{
	struct job j;
	struct proc none;       /* a rejection reads no rules */
	char b[512];

	memset(&none, 0, sizeof none);
	none.cfg = cfg;
	if (job_start(&j, &none, s, id, actor) != 0) {
		job_free(&j);
		return -1;
	}
	if (j.t.state != TICKET_NEEDS_REVIEW && j.t.state != TICKET_NEW) {
		log_warnx("ticket %lld: is %s, only new or needs_review tickets "
		    "can be rejected", (long long)id,
		    ticket_state_name(j.t.state));
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	parse(&j);
	if (j.t.account && store_account_get(s, j.t.account, &j.reseller) == 0)
		j.have_reseller = 1;
	set_reseller_vars(&j);
	snprintf(b, sizeof b, "%s", reason ? reason : "");
	reason_add(&j, "rejected by %s: %s", j.actor, b);
	j.fields = j.t.fields ? xstrdup(j.t.fields) : NULL;
	j.results = j.t.results ? xstrdup(j.t.results) : NULL;
	j.rm.kind = RK_STAFF;
	set_outcome(&j, TICKET_REJECTED, "staff_rejected");
	{
		/* keep the kind the ticket had */
		struct ticket out;
		memset(&out, 0, sizeof out);
		out.id = id;
		out.kind = j.t.kind;
		out.state = TICKET_REJECTED;
		out.reason = j.reason.s;
		out.from_addr = j.t.from_addr;
		out.subject = j.t.subject;
		out.fields = j.fields;
		out.results = j.results;
		out.refused = j.t.refused;
		out.account = j.t.account;
		tv_set(j.vars, "reason", b);
		if (store_ticket_set(s, &out, j.t.state, j.actor) != 0 ||
		    (note && store_audit(s, j.actor, "ticket.note", j.t.account,
		    NULL, NULL, note, id) != 0) ||
		    check_reply_to(s, j.msg, 0) != 0 ||
		    (!j.msg->error && reply_queue(cfg, s, j.msg, id,
		    "staff_rejected", j.vars) < 0)) {
			store_rollback(s);
			job_free(&j);
			return -1;
		}
	}
	if (store_commit(s) != 0) {
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	job_free(&j);
	return TICKET_REJECTED;
}

/*
 * Tickets are processed in groups inside one outer transaction (each
 * ticket in its own savepoint, so one bad ticket rolls back alone): one
 * fsync per group instead of one per ticket. A group is committed after
 * GROUP_MAX tickets or GROUP_MS milliseconds, so that other writers
 * (ingest, queue approve) never wait long: with its commit a group stays
 * under the 50 ms DESIGN.md allows a mail-side write transaction. If the
 * group's commit fails, none of its tickets changed: they stay new for
 * the next run.
 */
#define GROUP_MAX	500
#define GROUP_MS	25	/* well under 50 ms: the verifier shares the disk */

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
process_run(struct proc *p, struct store *s, struct process_stats *st)
{
	int64_t *ids = NULL;
	size_t n = 0, failed = 0, i = 0;
	int stopped = 0;

	memset(st, 0, sizeof *st);
	if (store_ticket_ids(s, TICKET_NEW, &ids, &n) != 0)
		return EX_TEMPFAIL;
	while (i < n) {
		struct process_stats g;
		size_t gfailed = 0, k = 0;
		long t0 = ms_now();

		memset(&g, 0, sizeof g);
		if (store_begin(s) != 0) {
			failed += n - i;
			break;
		}
		reply_hold(1);
		for (; i < n && k < GROUP_MAX && (k == 0 ||
		    ms_now() - t0 < GROUP_MS); i++, k++) {
			/* SIGTERM/SIGINT: commit what is done, then 75 */
			if (stop_requested())
				break;
			switch (run_one(p, s, ids[i], NULL, 1)) {
			case TICKET_APPLIED:
				g.applied++;
				break;
			case TICKET_NEEDS_REVIEW:
				g.needs_review++;
				break;
			case TICKET_REJECTED:
				g.rejected++;
				break;
			case TICKET_IGNORED:
				g.ignored++;
				break;
			default:
				gfailed++;     /* logged; the ticket stays new */
				break;
			}
		}
		reply_hold(0);
		if (store_commit(s) != 0) {
			failed += k;
			continue;
		}
		STEP("process.committed");
		st->applied += g.applied;
		st->needs_review += g.needs_review;
		st->rejected += g.rejected;
		st->ignored += g.ignored;
		failed += gfailed;
		if ((stopped = stop_requested()) != 0)
			break;
	}
	free(ids);
	if (stopped) {
		log_warnx("process: stopped by signal %d; %zu ticket%s left "
		    "new for the next run", stopped, n - i, n - i == 1 ? "" :
		    "s");
		return EX_TEMPFAIL;
	}
	if (failed)
		log_warnx("process: %zu ticket%s not processed (they stay new)",
		    failed, failed == 1 ? "" : "s");
	return failed ? EX_TEMPFAIL : EX_OK;
}
