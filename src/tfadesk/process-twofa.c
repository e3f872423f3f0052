/*
 * process-twofa.c - the 2FA rule: switch two-factor login on for the
 * reseller the sender acts for, only when every user of it has a mobile
 * number that can receive codes, and never from a forwarded request
 * without staff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/mime.h"
#include "tfadesk/process-int.h"

/*
 * Does the ticket pass on someone else's mail (a "Fwd:" subject, or a
 * forwarded message in the text)? Its words are not the sender's.
 */
int
msg_forwarded(const struct msg *m)
{
	static const char *const marks[] = { "Forwarded message",
	    "Forwarded Message", "Begin forwarded message",
	    "Start of forwarded message", NULL };
	const char *texts[] = { m->text, m->quoted, m->new_text };

	if (mime_subject_forwarded(m->subject) ||
	    (m->fwd_text != NULL && *m->fwd_text != '\0'))
		return 1;
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
		for (size_t i = 0; texts[t] && marks[i]; i++)
			if (strstr(texts[t], marks[i]) != NULL)
				return 1;
	return 0;
}

int
do_twofa(struct job *j)
{
	struct user *u = NULL;
	size_t n = 0, nmiss = 0;
	int rc;

	if ((rc = pick_reseller(j)) != 0) {
		if (rc > 0)
			set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return rc < 0 ? -1 : 0;
	}
	/* An account named in the ticket that is not this reseller: a
	 * careful agent would ask. */
	for (size_t i = 0; i < j->rm.naccounts; i++)
		if (strcmp(j->rm.accounts[i], j->reseller.id) != 0) {
			char b[128];
			reason_add(j, "the ticket names account %s, which is not the "
			    "reseller account %s of the sender",
			    safe_value(j->rm.accounts[i], b, sizeof b), j->reseller.id);
			set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
			return 0;
		}
	/* A forwarded request is someone else's: 2FA is never switched on
	 * from one without staff. */
	if (msg_forwarded(j->msg) && !j->staff) {
		reason_add(j, "the 2FA request is forwarded: a person checks "
		    "whose request it is before 2FA is switched on for %s",
		    j->reseller.id);
		set_outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->reseller.twofa) {
		reason_add(j, "2FA was already on for %s; nothing changed",
		    j->reseller.id);
		set_outcome(j, TICKET_APPLIED, "twofa_already");
		return 0;
	}
	if (store_account_users(j->s, j->reseller.id, &u, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char e164[20];
		const char *why = NULL;
		if (u[i].phone && norm_phone(j->p, u[i].phone,
		    j->cfg->default_country, e164, &why) == 0 &&
		    config_sms_allowed(j->cfg, e164))
			continue;
		struct tv *m = tv_add(j->vars, "missing");
		plan_user_add(j, u[i].id, u[i].name, "missing", u[i].phone ?
		    "number_refused" : "no_number", u[i].phone, NULL, u[i].phone ?
		    "the number we hold cannot receive SMS codes" : "no mobile "
		    "number");
		tv_safe(m, "id", u[i].id);
		tv_safe(m, "name", u[i].name);
		if (u[i].phone)
			tv_set(m, "reason", "the number we hold cannot receive "
			    "SMS codes");
		if (nmiss++ == 0)
			reason_add(j, "2FA not switched on for %s: no valid mobile "
			    "number for", j->reseller.id);
		buf_addf(&j->reason, "%s %s (%s)", nmiss > 1 ? "," : "",
		    u[i].id, u[i].phone ? why : "no number");
	}
	if (nmiss) {
		set_outcome(j, TICKET_REJECTED, "twofa_missing");
		users_free(u, n);
		return 0;
	}
	plan_add(j, "account.twofa", j->reseller.id, NULL, "off", "on");
	for (size_t i = 0; i < n; i++) {
		struct tv *it = tv_add(j->vars, "users");
		char *mk = masked_digits(u[i].phone);
		plan_user_add(j, u[i].id, u[i].name, "has a mobile", "ok",
		    u[i].phone, NULL, "will be sent login codes");
		tv_safe(it, "id", u[i].id);
		tv_safe(it, "name", u[i].name);
		tv_set(it, "phone_masked", mk);
		free(mk);
	}
	reason_add(j, "2FA switched on for %s (%zu user%s, all with a mobile "
	    "number)", j->reseller.id, n, n == 1 ? "" : "s");
	set_outcome(j, TICKET_APPLIED, "twofa_enabled");
	users_free(u, n);
	return 0;
}
