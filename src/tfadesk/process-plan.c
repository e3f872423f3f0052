/*
 * process-plan.c - the plan: the concrete changes a decision makes (and
 * the per-user results it shows), its canonical text and token (what
 * queue approve --expect compares), and applying it with audit rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/process-int.h"

/* Adds a change to the plan, once. */
void
plan_add(struct job *j, const char *action, const char *account,
    const char *user, const char *old_value, const char *new_value)
{
	struct plan_change *c;

	for (size_t i = 0; i < j->nplan; i++) {
		c = &j->plan[i];
		if (strcmp(c->action, action) == 0 &&
		    strcmp(c->account, account) == 0 &&
		    (user == NULL || (c->user && strcmp(c->user, user) == 0)))
			return;
	}
	j->plan = xreallocarray(j->plan, j->nplan + 1, sizeof *j->plan);
	c = &j->plan[j->nplan++];
	c->action = xstrdup(action);
	c->account = xstrdup(account);
	c->user = user ? xstrdup(user) : NULL;
	c->old_value = old_value ? xstrdup(old_value) : NULL;
	c->new_value = new_value ? xstrdup(new_value) : NULL;
}

void
plan_user_add(struct job *j, const char *user, const char *name,
    const char *result, const char *code, const char *old_digits,
    const char *new_digits, const char *reason)
{
	struct plan_user *u;
	char b[128];

	j->users = xreallocarray(j->users, j->nusers + 1, sizeof *j->users);
	u = &j->users[j->nusers++];
	u->user = xstrdup(safe_value(user, b, sizeof b));
	u->name = xstrdup(safe_value(name, b, sizeof b));
	u->result = xstrdup(result);
	u->code = xstrdup(code ? code : "");
	u->old_masked = masked_digits(old_digits);
	u->new_masked = masked_digits(new_digits);
	u->reason = xstrdup(reason ? reason : "");
}

void
plan_changes_free(struct plan_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].action);
		free(c[i].account);
		free(c[i].user);
		free(c[i].old_value);
		free(c[i].new_value);
	}
	free(c);
}

void
plan_users_free(struct plan_user *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].user);
		free(u[i].name);
		free(u[i].result);
		free(u[i].code);
		free(u[i].old_masked);
		free(u[i].new_masked);
		free(u[i].reason);
	}
	free(u);
}

void
ticket_plan_clear(struct ticket_plan *p)
{
	if (p == NULL)
		return;
	plan_changes_free(p->ch, p->nch);
	plan_users_free(p->users, p->nusers);
	free(p->reason);
	free(p->text);
	free(p->held_token);
	memset(p, 0, sizeof *p);
}

/* Length-prefixed fields: no value can pass for another. */
static void
canon_field(struct buf *b, const char *v)
{
	if (v == NULL)
		buf_adds(b, "-;");
	else
		buf_addf(b, "%zu:%s;", strlen(v), v);
}

/* The plan's canonical text and its token. TEXT owned. */
char *
plan_text(const struct job *j, char token[PLAN_TOKEN_LEN + 1])
{
	unsigned char h[crypto_generichash_BYTES_MIN];
	char hex[2 * sizeof h + 1];
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "tfadesk-plan 1\nticket %lld\n", (long long)j->id);
	for (size_t i = 0; i < j->nplan; i++) {
		const struct plan_change *c = &j->plan[i];
		canon_field(&b, c->action);
		canon_field(&b, c->account);
		canon_field(&b, c->user);
		canon_field(&b, c->old_value);
		canon_field(&b, c->new_value);
		buf_addc(&b, '\n');
	}
	crypto_generichash(h, sizeof h, (const unsigned char *)b.s, b.len,
	    NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	memcpy(token, hex, PLAN_TOKEN_LEN);
	token[PLAN_TOKEN_LEN] = '\0';
	return buf_steal(&b);
}

/* Makes the changes of the plan, each with its audit row. */
int
apply_plan(struct job *j)
{
	for (size_t i = 0; i < j->nplan; i++) {
		const struct plan_change *c = &j->plan[i];
		int rc;

		if (strcmp(c->action, "user.phone") == 0)
			rc = store_user_set_phone(j->s, c->user, c->new_value,
			    j->actor, j->id);
		else
			rc = store_account_set_twofa(j->s, c->account,
			    strcmp(c->new_value, "on") == 0, j->actor, j->id);
		if (rc != 0) {
			/* the plan was read in this transaction: it holds */
			log_warnx("ticket %lld: %s %s: could not be applied",
			    (long long)j->id, c->action, c->user ? c->user :
			    c->account);
			return -1;
		}
	}
	return 0;
}
