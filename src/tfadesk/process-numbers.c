/*
 * process-numbers.c - the numbers rule (missing-number reports): each
 * user judged on its own (who, whose, which name, which number: validated
 * with libphonenumber and the numbering policy, the countries the
 * verifier may send to), the overwrite policy for a user who has a number
 * already, and the per-user results for the reply and for scripts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "json.h"
#include "phone.h"
#include "store.h"
#include "tfadesk/process-int.h"

/* What was decided for one user of a missing-number report. */
enum res { R_APPLIED, R_ALREADY, R_REVIEW, R_REJECTED };
static const char *const res_names[] = {
	"applied", "already", "review", "rejected"
};
/* As the reply puts it. */
static const char *const res_words[] = {
	"registered", "already registered, nothing changed",
	"passed to our support staff for a check", "not registered"
};

struct judged {
	const struct rentry *e;
	struct user u;          /* the record, when found */
	int have_user;
	char phone[20];         /* the number given, normalised, or "" */
	enum res res;
	const char *code;       /* short reason for scripts */
	char *reason;           /* for people; owned */
};

/* Empties P's cache of checked numbers (a ticket starts). */
void
pcache_clear(struct proc *p)
{
	for (size_t i = 0; i < p->npcache; i++)
		free(p->pcache[i].text);
	p->npcache = 0;
}

/* phone_normalize() with P's numbering policy, through the ticket's cache. */
int
norm_phone(struct proc *p, const char *text, const char *region, char out[20],
    const char **why)
{
	struct pcache *c;
	size_t i;

	for (i = 0; i < p->npcache; i++) {
		c = &p->pcache[i];
		if (c->region == region && strcmp(c->text, text) == 0) {
			memcpy(out, c->e164, sizeof c->e164);
			*why = c->why;
			return c->rc;
		}
	}
	if (p->npcache == PCACHE_N)        /* full: the last slot is reused */
		free(p->pcache[--p->npcache].text);
	c = &p->pcache[p->npcache++];
	c->text = xstrdup(text);
	c->region = region;
	c->why = NULL;
	c->e164[0] = '\0';
	c->rc = phone_normalize(p->nb, text, region, c->e164, &c->why);
	memcpy(out, c->e164, sizeof c->e164);
	*why = c->why;
	return c->rc;
}

static void
judge_set(struct judged *jd, enum res r, const char *code, const char *fmt,
    ...) PRINTFLIKE(4, 5);

static void
judge_set(struct judged *jd, enum res r, const char *code, const char *fmt,
    ...)
{
	va_list ap;
	char tmp[256];

	jd->res = r;
	jd->code = code;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	free(jd->reason);
	jd->reason = xstrdup(tmp);
}

/* Judges one user of a report, reading only. 0, or -1 on a store error. */
static int
judge(struct job *j, struct judged *jd, const struct judged *all, size_t idx)
{
	const struct rentry *e = jd->e;
	const char *why = NULL;
	char *rid = NULL;
	int rc, staff = j->staff;

	if (e->user_id == NULL) {
		judge_set(jd, staff ? R_REJECTED : R_REVIEW, "no_user_id",
		    "no user account ID given");
		return 0;
	}
	/* two numbers or two IDs in one block: no guessing which, not even
	 * by staff approving the ticket as it stands */
	if (e->held) {
		judge_set(jd, staff ? R_REJECTED : R_REVIEW, "ambiguous", "%s%s",
		    e->held, staff ? "; not registered" : "; our staff will "
		    "check the request");
		return 0;
	}
	rc = store_user_get(j->s, e->user_id, &jd->u);
	if (rc < 0)
		return -1;
	if (rc == 0)
		jd->have_user = 1;
	if (rc == 0 && store_account_reseller(j->s, jd->u.account, &rid) < 0)
		return -1;
	if (rc != 0 || rid == NULL || !in_strlist(j->resellers, j->nresellers, rid)) {
		/* Unknown, or another reseller's: the same answer for both,
		 * so that the reply tells nothing about other resellers. */
		judge_set(jd, R_REJECTED, rc != 0 ? "unknown_user" :
		    "other_reseller", "we have no user with this ID on your "
		    "accounts");
		free(rid);
		return 0;
	}
	if (e->account_id && strcmp(e->account_id, jd->u.account) != 0 &&
	    strcmp(e->account_id, rid) != 0) {
		judge_set(jd, R_REJECTED, "account_mismatch", "this user is not "
		    "on the account given");
		free(rid);
		return 0;
	}
	free(rid);
	if (e->name == NULL) {
		if (!staff) {
			judge_set(jd, R_REVIEW, "no_name", "no name given; our staff "
			    "will check the request");
			return 0;
		}
	} else if (!name_match(e->name, jd->u.name)) {
		judge_set(jd, R_REJECTED, "name_mismatch", "the name given does "
		    "not match the name we hold for this user");
		return 0;
	}
	if (e->mobile == NULL) {
		judge_set(jd, R_REJECTED, "no_number", "no mobile number given");
		return 0;
	}
	if (norm_phone(j->p, e->mobile, j->cfg->default_country,
	    jd->phone, &why) != 0) {
		jd->phone[0] = '\0';
		judge_set(jd, R_REJECTED, "number_refused", "the number given is "
		    "%s", why ? why : "not a valid mobile number");
		return 0;
	}
	/* a number the verifier may not send to would lock the user out */
	if (!config_sms_allowed(j->cfg, jd->phone)) {
		jd->phone[0] = '\0';
		judge_set(jd, R_REJECTED, "number_refused", "the number given is "
		    "in a country we cannot send login codes to");
		return 0;
	}
	for (size_t k = 0; k < idx; k++)
		if (all[k].e->user_id && strcmp(all[k].e->user_id, e->user_id) == 0 &&
		    all[k].phone[0] && strcmp(all[k].phone, jd->phone) != 0) {
			judge_set(jd, R_REJECTED, "conflict", "two different numbers "
			    "were given for this user");
			return 0;
		}
	if (jd->u.phone == NULL || jd->u.phone[0] == '\0') {
		judge_set(jd, R_APPLIED, "set", "registered");
		return 0;
	}
	if (strcmp(jd->u.phone, jd->phone) == 0) {
		judge_set(jd, R_ALREADY, "same", "this number was already "
		    "registered; nothing changed");
		return 0;
	}
	if (staff) {
		judge_set(jd, R_APPLIED, "overwrite_approved", "registered in "
		    "place of the old number (approved by our staff)");
		return 0;
	}
	if (j->cfg->policy.overwrite_number == OVERWRITE_REJECT)
		judge_set(jd, R_REJECTED, "overwrite_refused", "this user already "
		    "has a different mobile number, which we never replace "
		    "automatically; please contact support");
	else
		judge_set(jd, R_REVIEW, "overwrite", "this user already has a "
		    "different mobile number; our staff will check the change");
	return 0;
}

static void
results_json(struct job *j, struct judged *jd, size_t n)
{
	struct buf b;
	struct json js;

	buf_init(&b);
	json_init(&js, &b, 0);
	json_arr(&js);
	for (size_t i = 0; i < n; i++) {
		char *np = masked_digits(jd[i].phone), *op = NULL;
		char s1[128], s2[128];
		if (jd[i].have_user && jd[i].u.phone)
			op = mask_phone(jd[i].u.phone);
		json_obj(&js);
		json_kstr(&js, "user", jd[i].e->user_id ? safe_value(jd[i].e->user_id,
		    s1, sizeof s1) : NULL);
		json_kstr(&js, "name", jd[i].e->name ? safe_value(jd[i].e->name, s2,
		    sizeof s2) : NULL);
		json_kstr(&js, "account", jd[i].have_user &&
		    strcmp(jd[i].code, "other_reseller") != 0 ? jd[i].u.account :
		    NULL);
		json_kstr(&js, "phone", *np ? np : NULL);
		json_kstr(&js, "old", op);
		json_kstr(&js, "result", res_names[jd[i].res]);
		json_kstr(&js, "code", jd[i].code);
		json_kstr(&js, "reason", jd[i].reason);
		json_kstr(&js, "how", jd[i].e->how);
		json_kbool(&js, "forwarded", jd[i].e->forwarded);
		json_end(&js);
		plan_user_add(j, jd[i].e->user_id ? jd[i].e->user_id : "(none)",
		    jd[i].e->name, res_names[jd[i].res], jd[i].code,
		    jd[i].have_user ? jd[i].u.phone : NULL, jd[i].phone,
		    jd[i].reason);
		free(np);
		free(op);
	}
	json_end(&js);
	free(j->results);
	j->results = buf_steal(&b);
	j->refused = 0;
	for (size_t i = 0; i < n; i++)
		if (jd[i].res == R_REJECTED)
			j->refused++;
}

int
do_numbers(struct job *j)
{
	struct judged *jd;
	size_t n = j->rm.nentries, napplied = 0, nalready = 0, nreview = 0;
	int rc = 0;

	if (n == 0) {
		reason_add(j, "no user account ID and mobile number could be read "
		    "from the ticket");
		set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->rm.truncated) {
		reason_add(j, "more users in one ticket than the rules allow");
		set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->nresellers == 1 && store_account_get(j->s, j->resellers[0],
	    &j->reseller) == 0)
		j->have_reseller = 1;
	if (j->rm.forward_read)
		reason_add(j, "users read from the forwarded message under the "
		    "sender's request (each checked against the sender's "
		    "accounts)");
	jd = xcalloc(n, sizeof *jd);
	for (size_t i = 0; i < n; i++) {
		jd[i].e = &j->rm.entries[i];
		if (judge(j, &jd[i], jd, i) < 0) {
			rc = -1;
			goto out;
		}
	}
	/* A user named twice with different numbers: none of them is used. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(jd[i].code, "conflict") == 0)
			for (size_t k = 0; k < i; k++)
				if (jd[k].e->user_id && strcmp(jd[k].e->user_id,
				    jd[i].e->user_id) == 0 && jd[k].res != R_REJECTED)
					judge_set(&jd[k], R_REJECTED, "conflict",
					    "two different numbers were given for "
					    "this user");
	for (size_t i = 0; i < n; i++) {
		struct tv *it;
		char *mk;

		if (jd[i].res == R_APPLIED) {
			plan_add(j, "user.phone", jd[i].u.account, jd[i].u.id,
			    jd[i].u.phone, jd[i].phone);
			napplied++;
		} else if (jd[i].res == R_ALREADY)
			nalready++;
		else if (jd[i].res == R_REVIEW)
			nreview++;
		it = tv_add(j->vars, "users");
		tv_safe(it, "id", jd[i].e->user_id ? jd[i].e->user_id : "(none)");
		tv_safe(it, "name", jd[i].have_user && jd[i].res != R_REJECTED ?
		    jd[i].u.name : jd[i].e->name);
		mk = masked_digits(jd[i].phone[0] ? jd[i].phone : jd[i].e->mobile);
		tv_set(it, "phone_masked", *mk ? mk : "(no number)");
		free(mk);
		tv_set(it, "result", res_words[jd[i].res]);
		/* set for every user: an unset one would show the ticket's */
		tv_set(it, "reason", jd[i].res != R_APPLIED ? jd[i].reason : "");
		{
			char b1[128];
			reason_add(j, "%s: %s%s%s",
			    jd[i].e->user_id ? safe_value(jd[i].e->user_id, b1,
			    sizeof b1) : "(no user ID)", res_names[jd[i].res],
			    jd[i].res == R_APPLIED ? "" : " - ",
			    jd[i].res == R_APPLIED ? "" : jd[i].reason);
		}
	}
	results_json(j, jd, n);
	if (nreview)
		set_outcome(j, TICKET_NEEDS_REVIEW, "numbers_result");
	else if (napplied || nalready)
		set_outcome(j, TICKET_APPLIED, "numbers_result");
	else
		set_outcome(j, TICKET_REJECTED, "numbers_result");
out:
	for (size_t i = 0; i < n; i++) {
		user_clear(&jd[i].u);
		free(jd[i].reason);
	}
	free(jd);
	return rc;
}
