/*
 * queue.c - the staff queue: list, show, assign, approve, reject, note,
 * retry.
 *
 * queue show prints the plan an approval would carry out now (process.c
 * computes it with the validation process uses) and its token; approve
 * applies the plan only if it is still the one shown (--expect TOKEN) or,
 * without --expect, the one stored when the ticket was held. --note is
 * history (an audit row), never mail; --message (approve) and --reason
 * (reject) are what the reseller reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "cmd.h"
#include "admin.h"
#include "table.h"
#include "mail.h"
#include "mime.h"
#include "term.h"

static int show(FILE *, struct cmd_env *, int64_t);
static int show_json(struct cmd_env *, int64_t);
static int show_plan(FILE *, struct cmd_env *, int64_t);
static void put_safe(const char *, size_t);

static int64_t
ticket_id_arg(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v <= 0)
		usage_error("queue", "'%s' is not a ticket number", s);
	return (int64_t)v;
}

/* A filter value from the command line: text, bounded. */
static void
check_filter(const char *what, const char *v, size_t max)
{
	if (v && !utf8_valid_text(v, max))
		usage_error("queue list", "%s: 1-%zu characters of text, no "
		    "control characters", what, max);
}

static int
queue_list(struct cmd_env *env)
{
	struct ticket_filter f;
	struct ticket *t;
	size_t n;

	memset(&f, 0, sizeof f);
	f.state = -1;
	if (env->state) {
		enum ticket_state ts;
		if (ticket_state_parse(env->state, &ts) == -1)
			usage_error("queue list", "unknown state '%s' (new, "
			    "applied, needs_review, rejected, ignored)",
			    env->state);
		f.state = (int)ts;
	}
	check_filter("--kind", env->kind, 64);
	check_filter("--account", env->account, 64);
	check_filter("--search", env->search, 200);
	f.kind = env->kind;
	f.account = env->account;
	f.search = env->search;
	if (env->since && parse_since(env->since, &f.since) == -1)
		usage_error("queue list", "--since %s: expected a date "
		    "(2026-11-28), a UTC time (2026-11-28T13:40:00Z) or an "
		    "age (30m, 12h, 7d)", env->since);
	if (env->limit) {
		char *end;
		long v = strtol(env->limit, &end, 10);
		if (*env->limit == '\0' || *end != '\0' || v < 1 ||
		    v > 1000000)
			usage_error("queue list", "--limit %s: expected a "
			    "number from 1 to 1000000", env->limit);
		f.limit = v;
	}
	if (store_ticket_query(env_store(env), &f, &t, &n) == -1)
		return EX_SOFTWARE;
	if (env->json) {
		struct buf b;
		struct json j;
		buf_init(&b);
		json_init(&j, &b, 0);
		json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			char *rcv = time_iso(t[i].received);
			json_obj(&j);
			json_kint(&j, "id", t[i].id);
			json_kstr(&j, "state", ticket_state_name(t[i].state));
			json_kstr(&j, "kind", t[i].kind);
			json_kstr(&j, "from", t[i].from_addr);
			json_kstr(&j, "subject", t[i].subject);
			json_kstr(&j, "reason", t[i].reason);
			json_kstr(&j, "account", t[i].account);
			json_kint(&j, "refused", t[i].refused);
			json_kstr(&j, "assigned", t[i].assigned);
			json_kstr(&j, "received", rcv);
			json_end(&j);
			free(rcv);
		}
		json_end(&j);
		buf_addc(&b, '\n');
		fputs(b.s, stdout);
		buf_free(&b);
	} else if (n == 0)
		printf("No tickets%s%s.\n", env->given & (OPT_STATE | OPT_KIND |
		    OPT_ACCOUNT | OPT_SINCE | OPT_SEARCH) ? " match" : "",
		    env->given & (OPT_STATE | OPT_KIND | OPT_ACCOUNT |
		    OPT_SINCE | OPT_SEARCH) ? "ing the filters" : "");
	else {
		struct table *tb = table_new(7, "ID", "STATE", "KIND", "FROM",
		    "SUBJECT", "REASON", "ASSIGNED");
		for (size_t i = 0; i < n; i++) {
			char id[24], state[64], subj[64], reason[100];
			const char *su = t[i].subject ? t[i].subject : "";
			const char *re = t[i].reason ? t[i].reason : "";
			snprintf(id, sizeof id, "%lld", (long long)t[i].id);
			/* some users refused: said in the state itself */
			if (t[i].refused)
				snprintf(state, sizeof state, "%s (%d refused)",
				    ticket_state_name(t[i].state), t[i].refused);
			else
				snprintf(state, sizeof state, "%s",
				    ticket_state_name(t[i].state));
			/* keep the table readable: cut long text, never
			 * inside a character */
			snprintf(subj, sizeof subj, "%.*s",
			    (int)utf8_trunc_len(su, sizeof subj - 1), su);
			snprintf(reason, sizeof reason, "%.*s",
			    (int)utf8_trunc_len(re, sizeof reason - 1), re);
			table_row(tb, id, state, t[i].kind, t[i].from_addr,
			    subj, reason, t[i].assigned);
		}
		table_print(tb);
	}
	tickets_free(t, n);
	return EX_OK;
}

/* The extracted fields: the rule, and the users the mail named (numbers
 * masked by process already) as a table. */
static void
show_fields(FILE *out, struct store *s, const char *json)
{
	static const char *const keys[] = { "user_id", "name", "account_id",
	    "mobile", "how", "forwarded", "held" };
	char *rule, *line, *accounts, **c;
	size_t nr;

	if (json == NULL || *json == '\0')
		return;
	rule = store_json_value(s, json, "$.rule");
	line = store_json_value(s, json, "$.rule_line");
	accounts = store_json_value(s, json, "$.accounts");
	fprintf(out, "\nExtracted fields:\n");
	if (rule)
		fprintf(out, "  Rule:      %s%s%s%s\n", rule, line ? " (line " :
		    "", line ? line : "", line ? ")" : "");
	if (accounts && *accounts)
		fprintf(out, "  Accounts:  %s\n", accounts);
	free(rule);
	free(line);
	free(accounts);
	if (store_json_table(s, json, "$.users", keys, 7, &c, &nr) == -1)
		return;
	if (nr) {
		struct table *tb = table_new(7, "  USER", "NAME", "ACCOUNT",
		    "MOBILE", "HOW", "FORWARDED", "HELD");
		for (size_t i = 0; i < nr; i++) {
			char *u = xstrfmt("  %s", c[i * 7] ? c[i * 7] : "-");
			table_row(tb, u, c[i * 7 + 1], c[i * 7 + 2],
			    c[i * 7 + 3], c[i * 7 + 4], c[i * 7 + 5],
			    c[i * 7 + 6]);
			free(u);
		}
		table_fprint(out, tb);
	}
	for (size_t i = 0; i < nr * 7; i++)
		free(c[i]);
	free(c);
}

/* The per-user results (numbers masked by process already). */
static void
show_results(FILE *out, struct store *s, const char *json)
{
	static const char *const keys[] = { "user", "name", "account",
	    "result", "old", "phone", "code", "reason" };
	char **c;
	size_t nr;

	if (json == NULL || *json == '\0' ||
	    store_json_table(s, json, "$", keys, 8, &c, &nr) == -1)
		return;
	if (nr) {
		struct table *tb = table_new(7, "  USER", "NAME", "ACCOUNT",
		    "RESULT", "NUMBER", "CODE", "WHY");
		fprintf(out, "\nPer-user results:\n");
		for (size_t i = 0; i < nr; i++) {
			char **r = &c[i * 8];
			char *u = xstrfmt("  %s", r[0] ? r[0] : "-");
			char *num = xstrfmt("%s -> %s", r[4] ? r[4] : "(none)",
			    r[5] ? r[5] : "-");
			/* "rejected" for a user is a refusal of that user */
			table_row(tb, u, r[1], r[2], r[3] &&
			    strcmp(r[3], "rejected") == 0 ? "REFUSED" : r[3],
			    num, r[6], r[7]);
			free(u);
			free(num);
		}
		table_fprint(out, tb);
	}
	for (size_t i = 0; i < nr * 8; i++)
		free(c[i]);
	free(c);
}

/* --raw: the stored message byte for byte, never to a terminal (its
 * bytes are the sender's, escapes and all). */
static int
show_raw(struct cmd_env *env, int64_t id)
{
	struct ticket t;
	int rc;

	if (isatty(STDOUT_FILENO)) {
		log_warnx("queue show --raw: not to a terminal: redirect it "
		    "to a file (tfadesk queue show %lld --raw > ticket.eml)",
		    (long long)id);
		return EX_USAGE;
	}
	if ((rc = store_ticket_get(env_store(env), id, 1, &t)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("ticket %lld: no such ticket", (long long)id);
		return EX_DATAERR;
	}
	if (t.raw_len && fwrite(t.raw, 1, t.raw_len, stdout) != t.raw_len)
		rc = EX_IOERR;
	ticket_clear(&t);
	return rc == 0 ? EX_OK : rc;
}

static int
queue_show(struct cmd_env *env, int64_t id)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int rc;

	if (env->json && env->raw)
		usage_error("queue show", "--json or --raw, not both");
	if (env->raw)
		return show_raw(env, id);
	if (env->json)
		return show_json(env, id);
	if ((out = open_memstream(&text, &len)) == NULL)
		fatal("queue show: open_memstream");
	rc = show(out, env, id);
	fclose(out);
	put_safe(text, len);
	free(text);
	return rc;
}

/* Prints what came from a mail: controls and bidi controls shown as
 * visible escapes; only line breaks and tabs pass. */
static void
put_safe(const char *s, size_t len)
{
	struct buf b;

	buf_init(&b);
	term_escape(&b, s, len, TERM_KEEP_LINES);
	if (b.len)
		fwrite(b.s, 1, b.len, stdout);
	buf_free(&b);
}

static int
show(FILE *out, struct cmd_env *env, int64_t id)
{
	struct config *cfg = env_config(env);
	struct store *s = env_store(env);
	struct msg_limits lim = MSG_LIMITS_DEFAULT;
	struct ticket t;
	struct msg *m;
	struct audit_row *a;
	struct outbox_row *o;
	size_t na, no;
	int rc;

	if ((rc = store_ticket_get(s, id, 1, &t)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("ticket %lld: no such ticket", (long long)id);
		return EX_DATAERR;
	}
	lim.max_bytes = (size_t)cfg->limits.max_bytes;
	lim.max_parts = (size_t)cfg->limits.max_parts;
	lim.max_depth = (size_t)cfg->limits.max_depth;
	m = msg_parse(t.raw, t.raw_len, &lim);
	if (m == NULL)
		fatalx("out of memory");

	fprintf(out, "Ticket:    %lld\n", (long long)t.id);
	fprintf(out, "State:     %s\n", ticket_state_name(t.state));
	fprintf(out, "Kind:      %s\n", t.kind ? t.kind : "(not processed yet)");
	if (t.account)
		fprintf(out, "Account:   %s\n", t.account);
	if (t.refused)
		fprintf(out, "Refused:   %d user%s (see the results below)\n",
		    t.refused, t.refused == 1 ? "" : "s");
	fprintf(out, "Assigned:  %s\n", t.assigned ? t.assigned : "nobody");
	if (t.reason)
		fprintf(out, "Reason:    %s\n", t.reason);
	fprintf(out, "Source:    %s\n", t.source);
	fprintf(out, "\n");
	static const char *const shown[] = { "From", "Reply-To", "To", "Date",
	    "Subject", "Message-ID", "Authentication-Results" };
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
		for (size_t h = 0; h < m->nheaders; h++)
			if (strcasecmp(m->headers[h].name, shown[i]) == 0)
				fprintf(out, "%s: %s\n", shown[i],
				    m->headers[h].value);
	if (m->error)
		fprintf(out, "\n(the message could not be read fully: %s)\n",
		    m->error);
	fprintf(out, "\nNew text:\n");
	{
		const char *p = m->new_text ? m->new_text : "";
		while (*p) {
			size_t n = strcspn(p, "\n");
			fprintf(out, "  | %.*s\n", (int)n, p);
			p += n;
			if (*p == '\n')
				p++;
		}
	}
	show_fields(out, s, t.fields);
	if (t.state == TICKET_NEEDS_REVIEW) {
		if ((rc = show_plan(out, env, id)) != EX_OK) {
			msg_free(m);
			ticket_clear(&t);
			return rc;
		}
	} else
		show_results(out, s, t.results);

	if (store_audit_list(s, NULL, NULL, t.id, &a, &na) == -1)
		return EX_SOFTWARE;
	fprintf(out, "\nHistory:\n");
	if (na == 0)
		fprintf(out, "  (nothing yet)\n");
	for (size_t i = 0; i < na; i++) {
		/* the audit keeps numbers whole; the terminal shows them
		 * masked */
		char *ov, *nv;
		if (strcmp(a[i].action, "ticket.note") == 0) {
			fprintf(out, "  %s  %-18s %-14s %s\n", a[i].at,
			    a[i].actor, "note", a[i].new_value ?
			    a[i].new_value : "");
			continue;
		}
		ov = audit_shown(a[i].action, a[i].old_value);
		nv = audit_shown(a[i].action, a[i].new_value);
		fprintf(out, "  %s  %-18s %-14s %s%s%s%s%s\n", a[i].at, a[i].actor,
		    a[i].action, a[i].user ? a[i].user : "",
		    a[i].user ? " " : "", ov ? ov : "",
		    ov || nv ? " -> " : "", nv ? nv : "");
		free(ov);
		free(nv);
	}
	audit_rows_free(a, na);

	if (store_outbox_list(s, t.id, &o, &no) == -1)
		return EX_SOFTWARE;
	if (no) {
		fprintf(out, "\nReplies:\n");
		for (size_t i = 0; i < no; i++)
			fprintf(out, "  to %s: %s%s%s\n", o[i].rcpt,
			    o[i].state == OUTBOX_SENT ? "sent" :
			    o[i].state == OUTBOX_FAILED ? "failed" : "queued",
			    o[i].last_error ? ": " : "",
			    o[i].last_error ? o[i].last_error : "");
	}
	outbox_free(o, no);
	msg_free(m);
	ticket_clear(&t);
	return EX_OK;
}

/* A value of a plan as people may see it: numbers masked. Owned. */
static char *
plan_value(const struct plan_change *c, const char *v)
{
	if (v == NULL)
		return xstrdup("(none)");
	if (strcmp(c->action, "user.phone") == 0)
		return mask_phone(v);
	return xstrdup(v);
}

/* The plan an approval would carry out now, per user and as changes,
 * with its token. */
static int
show_plan(FILE *out, struct cmd_env *env, int64_t id)
{
	struct ticket_plan p;
	int w = 4;

	if (process_plan(env_proc(env), env_store(env), id, &p) != 0)
		return EX_SOFTWARE;
	fprintf(out, "\nIf approved (checked now, as staff would approve):\n");
	for (size_t i = 0; i < p.nusers; i++)
		if ((int)strlen(p.users[i].user) > w)
			w = (int)strlen(p.users[i].user) > 20 ? 20 :
			    (int)strlen(p.users[i].user);
	if (p.nusers) {
		fprintf(out, "  %-*s  %-12s %-12s    %-12s %s\n", w, "USER",
		    "RESULT", "NOW", "NEW", "NAME: WHY");
		for (size_t i = 0; i < p.nusers; i++) {
			const struct plan_user *u = &p.users[i];
			fprintf(out, "  %-*.*s  %-12s %-12s -> %-12s %s%s%s\n",
			    w, w, u->user, u->result, *u->old_masked ?
			    u->old_masked : "(none)", *u->new_masked ?
			    u->new_masked : "-", u->name, *u->reason ? ": " : "",
			    u->reason);
		}
	}
	fprintf(out, "\nPlan (what approve changes):\n");
	if (p.nch == 0)
		fprintf(out, "  nothing: approval would change nothing (%s: "
		    "%s)\n", ticket_state_name((enum ticket_state)p.state),
		    p.reason);
	for (size_t i = 0; i < p.nch; i++) {
		const struct plan_change *c = &p.ch[i];
		char *o = plan_value(c, c->old_value);
		char *n = plan_value(c, c->new_value);
		if (c->user)
			fprintf(out, "  %zu. user %s (account %s) phone %s -> %s\n",
			    i + 1, c->user, c->account, o, n);
		else
			fprintf(out, "  %zu. account %s %s %s -> %s\n", i + 1,
			    c->account, strcmp(c->action, "account.use_2fa") == 0 ?
			    "use_2fa" : "2FA", o, n);
		free(o);
		free(n);
	}
	fprintf(out, "Plan token: %s\n", p.token);
	if (p.held_token == NULL)
		fprintf(out, "  (no plan was stored when the ticket was held: "
		    "approve with --expect %s)\n", p.token);
	else if (strcmp(p.held_token, p.token) != 0)
		fprintf(out, "  (CHANGED since the ticket was held, when it was "
		    "%s: check it, then approve with --expect %s)\n",
		    p.held_token, p.token);
	ticket_plan_clear(&p);
	return EX_OK;
}

static int
show_json(struct cmd_env *env, int64_t id)
{
	struct store *s = env_store(env);
	struct ticket t;
	struct ticket_plan p;
	struct audit_row *a;
	size_t na;
	struct buf b;
	struct json j;
	int rc, have_plan = 0;

	if ((rc = store_ticket_get(s, id, 0, &t)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("ticket %lld: no such ticket", (long long)id);
		return EX_DATAERR;
	}
	if (t.state == TICKET_NEEDS_REVIEW) {
		if (process_plan(env_proc(env), s, id, &p) != 0) {
			ticket_clear(&t);
			return EX_SOFTWARE;
		}
		have_plan = 1;
	}
	if (store_audit_list(s, NULL, NULL, id, &a, &na) == -1) {
		if (have_plan)
			ticket_plan_clear(&p);
		ticket_clear(&t);
		return EX_SOFTWARE;
	}
	buf_init(&b);
	json_init(&j, &b, 0);
	json_obj(&j);
	json_kint(&j, "id", t.id);
	json_kstr(&j, "state", ticket_state_name(t.state));
	json_kstr(&j, "kind", t.kind);
	json_kstr(&j, "from", t.from_addr);
	json_kstr(&j, "subject", t.subject);
	json_kstr(&j, "reason", t.reason);
	json_kstr(&j, "account", t.account);
	/* stored by process as JSON text */
	json_kraw(&j, "fields", t.fields);
	json_kraw(&j, "results", t.results);
	json_key(&j, "plan");
	if (have_plan) {
		json_arr(&j);
		for (size_t i = 0; i < p.nch; i++) {
			const struct plan_change *c = &p.ch[i];
			char *o = c->old_value ? plan_value(c, c->old_value) :
			    NULL;
			char *n = c->new_value ? plan_value(c, c->new_value) :
			    NULL;
			json_obj(&j);
			json_kstr(&j, "action", c->action);
			json_kstr(&j, "account", c->account);
			json_kstr(&j, "user", c->user);
			json_kstr(&j, "old", o);
			json_kstr(&j, "new", n);
			json_end(&j);
			free(o);
			free(n);
		}
		json_end(&j);
		json_kstr(&j, "plan_token", p.token);
		json_kstr(&j, "plan_token_held", p.held_token);
		json_kstr(&j, "plan_outcome",
		    ticket_state_name((enum ticket_state)p.state));
		json_kstr(&j, "plan_reason", p.reason);
		json_key(&j, "plan_users");
		json_arr(&j);
		for (size_t i = 0; i < p.nusers; i++) {
			const struct plan_user *u = &p.users[i];
			json_obj(&j);
			json_kstr(&j, "user", u->user);
			json_kstr(&j, "name", u->name);
			json_kstr(&j, "result", u->result);
			json_kstr(&j, "code", u->code);
			json_kstr(&j, "old", *u->old_masked ? u->old_masked : NULL);
			json_kstr(&j, "new", *u->new_masked ? u->new_masked : NULL);
			json_kstr(&j, "reason", u->reason);
			json_end(&j);
		}
		json_end(&j);
		ticket_plan_clear(&p);
	} else {
		json_put_null(&j);
		json_knull(&j, "plan_token");
	}
	json_key(&j, "history");
	json_arr(&j);
	for (size_t i = 0; i < na; i++) {
		json_obj(&j);
		json_kstr(&j, "at", a[i].at);
		json_kstr(&j, "actor", a[i].actor);
		json_kstr(&j, "action", a[i].action);
		json_kstr(&j, "user", a[i].user);
		json_kstr(&j, "old", a[i].old_value);
		json_kstr(&j, "new", a[i].new_value);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
	buf_addc(&b, '\n');
	fputs(b.s, stdout);
	buf_free(&b);
	audit_rows_free(a, na);
	ticket_clear(&t);
	return EX_OK;
}

static void
check_name(const char *what, const char *v)
{
	if (v == NULL)
		usage_error("queue", "%s is required", what);
	if (!utf8_valid_text(v, 200))
		usage_error("queue", "%s: 1-200 characters of text, no "
		    "control characters", what);
}

/* Loads the ticket and checks it is in one of the states allowed. */
static int
ticket_state_of(struct cmd_env *env, int64_t id, enum ticket_state *st)
{
	struct ticket t;
	int rc = store_ticket_get(env_store(env), id, 0, &t);

	if (rc == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("ticket %lld: no such ticket", (long long)id);
		return EX_DATAERR;
	}
	*st = t.state;
	ticket_clear(&t);
	return EX_OK;
}

static int
report(int64_t id, int state)
{
	if (state < 0)
		return EX_SOFTWARE;
	printf("ticket %lld: %s\n", (long long)id,
	    ticket_state_name((enum ticket_state)state));
	return EX_OK;
}

/* "staff:NAME" for --by NAME, else "admin:USER". Owned. */
static char *
actor_of(struct cmd_env *env)
{
	if (env->by == NULL)
		return staff_actor();
	check_name("--by NAME", env->by);
	return xstrfmt("staff:%s", env->by);
}

static int
queue_approve(struct cmd_env *env, int64_t id)
{
	struct approval ap;
	enum ticket_state st;
	char *actor;
	int rc;

	if (env->note)
		check_name("--note TEXT", env->note);
	if (env->message)
		check_name("--message TEXT", env->message);
	if (env->expect && (strlen(env->expect) != PLAN_TOKEN_LEN ||
	    strspn(env->expect, "0123456789abcdefABCDEF") != PLAN_TOKEN_LEN))
		usage_error("queue approve", "--expect: a plan token is %d hex "
		    "digits, as queue show prints it", PLAN_TOKEN_LEN);
	if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
		return rc;
	if (st == TICKET_APPLIED) {
		printf("ticket %lld: already applied; nothing changed\n",
		    (long long)id);
		return EX_OK;
	}
	if (st != TICKET_NEEDS_REVIEW) {
		log_warnx("ticket %lld: is %s, only needs_review tickets can be "
		    "approved", (long long)id, ticket_state_name(st));
		return EX_DATAERR;
	}
	memset(&ap, 0, sizeof ap);
	actor = actor_of(env);
	ap.actor = actor;
	ap.expect = env->expect;
	ap.message = env->message;
	ap.note = env->note;
	rc = process_ticket(env_proc(env), env_store(env), id, &ap);
	free(actor);
	if (rc < 0)
		return EX_SOFTWARE;
	switch (ap.result) {
	case APPROVE_DONE:
		printf("ticket %lld: %s (plan %s)\n", (long long)id,
		    ticket_state_name((enum ticket_state)rc), ap.token);
		return EX_OK;
	case APPROVE_STALE:
		log_warnx("ticket %lld: the plan has changed since %s (it is "
		    "now %s): nothing done; look again with tfadesk queue show "
		    "%lld", (long long)id, env->expect ? "it was shown" :
		    "the ticket was held", ap.token, (long long)id);
		break;
	case APPROVE_NOTHING:
		log_warnx("ticket %lld: approval would change nothing (%s): "
		    "nothing done; reject it with --reason, or add a note",
		    (long long)id, ap.why);
		break;
	case APPROVE_NO_PLAN:
		log_warnx("ticket %lld: no plan was stored when it was held: "
		    "look at it with tfadesk queue show %lld, then approve with "
		    "--expect TOKEN", (long long)id, (long long)id);
		break;
	}
	return EX_DATAERR;
}

static int
queue_reject(struct cmd_env *env, int64_t id)
{
	enum ticket_state st;
	char *actor;
	int rc;

	check_name("--reason TEXT", env->reason);
	if (env->note)
		check_name("--note TEXT", env->note);
	if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
		return rc;
	if (st == TICKET_REJECTED) {
		printf("ticket %lld: already rejected; nothing changed\n",
		    (long long)id);
		return EX_OK;
	}
	if (st != TICKET_NEEDS_REVIEW) {
		log_warnx("ticket %lld: is %s, only needs_review tickets can be "
		    "rejected", (long long)id, ticket_state_name(st));
		return EX_DATAERR;
	}
	actor = actor_of(env);
	rc = process_reject(env_config(env), env_store(env), id, actor,
	    env->reason, env->note);
	free(actor);
	return report(id, rc);
}

static int
queue_note(struct cmd_env *env, int64_t id, const char *text)
{
	enum ticket_state st;
	char *actor;
	int rc;

	check_name("TEXT", text);
	if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
		return rc;
	actor = actor_of(env);
	rc = process_note(env_store(env), id, actor, text);
	free(actor);
	if (rc != 0)
		return EX_SOFTWARE;
	printf("ticket %lld: note added\n", (long long)id);
	return EX_OK;
}

static int
queue_assign(struct cmd_env *env, int64_t id)
{
	const char *to = env->to;
	char *actor;
	int rc;

	check_name("--to NAME", to);
	if (strcmp(to, "none") == 0)
		to = NULL;
	actor = actor_of(env);
	rc = store_ticket_assign(env_store(env), id, to, actor);
	free(actor);
	if (rc == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("ticket %lld: no such ticket", (long long)id);
		return EX_DATAERR;
	}
	if (to)
		printf("ticket %lld: assigned to %s\n", (long long)id, to);
	else
		printf("ticket %lld: assigned to nobody\n", (long long)id);
	return EX_OK;
}

int
cmd_queue(struct cmd_env *env, int argc, char **argv)
{
	enum ticket_state st;
	int64_t id;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		env_allow(env, "queue list", OPT_STATE | OPT_JSON | OPT_KIND |
		    OPT_ACCOUNT | OPT_SINCE | OPT_SEARCH | OPT_LIMIT);
		return queue_list(env);
	}
	if (argc == 4 && strcmp(argv[1], "note") == 0) {
		env_allow(env, "queue note", OPT_BY);
		return queue_note(env, ticket_id_arg(argv[2]), argv[3]);
	}
	if (argc != 3)
		usage_error("queue", "expected list, note TICKET_ID TEXT, or "
		    "show|assign|approve|reject|retry TICKET_ID");
	id = ticket_id_arg(argv[2]);
	if (strcmp(argv[1], "show") == 0) {
		env_allow(env, "queue show", OPT_JSON | OPT_RAW);
		return queue_show(env, id);
	}
	if (strcmp(argv[1], "assign") == 0) {
		env_allow(env, "queue assign", OPT_TO | OPT_BY);
		return queue_assign(env, id);
	}
	if (strcmp(argv[1], "approve") == 0) {
		env_allow(env, "queue approve", OPT_BY | OPT_NOTE | OPT_EXPECT |
		    OPT_MESSAGE);
		return queue_approve(env, id);
	}
	if (strcmp(argv[1], "reject") == 0) {
		env_allow(env, "queue reject", OPT_BY | OPT_REASON | OPT_NOTE);
		return queue_reject(env, id);
	}
	if (strcmp(argv[1], "retry") == 0) {
		env_allow(env, "queue retry", 0);
		if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
			return rc;
		if (st == TICKET_APPLIED) {
			printf("ticket %lld: already applied; nothing changed\n",
			    (long long)id);
			return EX_OK;
		}
		return report(id, process_ticket(env_proc(env),
		    env_store(env), id, NULL));
	}
	usage_error("queue", "unknown queue command '%s'", argv[1]);
}
