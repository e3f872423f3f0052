/*
 * queue.c - the staff queue: list, show, approve, reject, retry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "store.h"
#include "admin.h"
#include "mail.h"
#include "mime.h"
#include "utf8.h"

static int show(FILE *, struct cmd_env *, int64_t);
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

static int
queue_list(struct cmd_env *env)
{
	struct ticket *t;
	size_t n;
	int state = -1;

	if (env->state) {
		enum ticket_state ts;
		if (ticket_state_parse(env->state, &ts) == -1)
			usage_error("queue list", "unknown state '%s' (new, "
			    "applied, needs_review, rejected, ignored)",
			    env->state);
		state = (int)ts;
	}
	if (store_ticket_list(env_store(env), state, &t, &n) == -1)
		return EX_SOFTWARE;
	if (env->json) {
		struct buf b;
		buf_init(&b);
		buf_addc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			buf_addf(&b, "%s{\"id\":%lld,\"state\":", i ? "," : "",
			    (long long)t[i].id);
			json_escape(&b, ticket_state_name(t[i].state));
			buf_adds(&b, ",\"kind\":");
			json_escape(&b, t[i].kind);
			buf_adds(&b, ",\"from\":");
			json_escape(&b, t[i].from_addr);
			buf_adds(&b, ",\"subject\":");
			json_escape(&b, t[i].subject);
			buf_adds(&b, ",\"reason\":");
			json_escape(&b, t[i].reason);
			buf_adds(&b, ",\"account\":");
			json_escape(&b, t[i].account);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
		buf_free(&b);
	} else if (n == 0)
		printf("No tickets%s%s.\n", env->state ? " in state " : "",
		    env->state ? env->state : "");
	else {
		struct table *tb = table_new(6, "ID", "STATE", "KIND", "FROM",
		    "SUBJECT", "REASON");
		for (size_t i = 0; i < n; i++) {
			char id[24], subj[64], reason[100];
			const char *su = t[i].subject ? t[i].subject : "";
			const char *re = t[i].reason ? t[i].reason : "";
			snprintf(id, sizeof id, "%lld", (long long)t[i].id);
			/* keep the table readable: cut long text, never
			 * inside a character */
			snprintf(subj, sizeof subj, "%.*s",
			    (int)utf8_trunc_len(su, sizeof subj - 1), su);
			snprintf(reason, sizeof reason, "%.*s",
			    (int)utf8_trunc_len(re, sizeof reason - 1), re);
			table_row(tb, id, ticket_state_name(t[i].state),
			    t[i].kind, t[i].from_addr, subj, reason);
		}
		table_print(tb);
	}
	tickets_free(t, n);
	return EX_OK;
}

static void
show_json_block(FILE *out, const char *title, const char *json)
{
	if (json == NULL || *json == '\0' || strcmp(json, "{}") == 0 ||
	    strcmp(json, "[]") == 0)
		return;
	fprintf(out, "\n%s:\n  %s\n", title, json);
}

static int
queue_show(struct cmd_env *env, int64_t id)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	if (out == NULL)
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
	show_json_block(out, "Extracted fields", t.fields);
	show_json_block(out, "Per-user results", t.results);

	if (store_audit_list(s, NULL, NULL, t.id, &a, &na) == -1)
		return EX_SOFTWARE;
	fprintf(out, "\nHistory:\n");
	if (na == 0)
		fprintf(out, "  (nothing yet)\n");
	for (size_t i = 0; i < na; i++) {
		/* the audit keeps numbers whole; the terminal shows them
		 * masked */
		char *ov = audit_shown(a[i].action, a[i].old_value);
		char *nv = audit_shown(a[i].action, a[i].new_value);
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

static void
check_name(const char *what, const char *v)
{
	if (v == NULL)
		usage_error("queue", "%s is required", what);
	if (!valid_text(v) || strlen(v) > 200)
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

int
cmd_queue(struct cmd_env *env, int argc, char **argv)
{
	enum ticket_state st;
	int64_t id;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		env_allow(env, "queue list", OPT_STATE | OPT_JSON);
		return queue_list(env);
	}
	if (argc != 3)
		usage_error("queue", "expected list, or show|approve|reject|"
		    "retry TICKET_ID");
	id = ticket_id_arg(argv[2]);
	if (strcmp(argv[1], "show") == 0) {
		env_allow(env, "queue show", 0);
		return queue_show(env, id);
	}
	if (strcmp(argv[1], "approve") == 0) {
		struct approval ap;
		env_allow(env, "queue approve", OPT_BY | OPT_NOTE);
		check_name("--by NAME", env->by);
		if (env->note)
			check_name("--note TEXT", env->note);
		if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
			return rc;
		if (st == TICKET_APPLIED) {
			printf("ticket %lld: already applied; nothing changed\n",
			    (long long)id);
			return EX_OK;
		}
		if (st != TICKET_NEEDS_REVIEW) {
			log_warnx("ticket %lld: is %s, only needs_review "
			    "tickets can be approved", (long long)id,
			    ticket_state_name(st));
			return EX_DATAERR;
		}
		ap.by = env->by;
		ap.note = env->note;
		return report(id, process_ticket(env_config(env),
		    env_store(env), id, &ap));
	}
	if (strcmp(argv[1], "reject") == 0) {
		env_allow(env, "queue reject", OPT_BY | OPT_REASON);
		check_name("--by NAME", env->by);
		check_name("--reason TEXT", env->reason);
		if ((rc = ticket_state_of(env, id, &st)) != EX_OK)
			return rc;
		if (st == TICKET_REJECTED) {
			printf("ticket %lld: already rejected; nothing "
			    "changed\n", (long long)id);
			return EX_OK;
		}
		if (st != TICKET_NEEDS_REVIEW) {
			log_warnx("ticket %lld: is %s, only needs_review "
			    "tickets can be rejected", (long long)id,
			    ticket_state_name(st));
			return EX_DATAERR;
		}
		return report(id, process_reject(env_config(env),
		    env_store(env), id, env->by, env->reason));
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
		return report(id, process_ticket(env_config(env),
		    env_store(env), id, NULL));
	}
	usage_error("queue", "unknown queue command '%s'", argv[1]);
}
