/*
 * outbox.c - `tfadesk outbox list`: what replies wait, went, or failed,
 * with attempts, next try, last error and who holds a claim on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "store.h"
#include "admin.h"
#include "term.h"

static const char *
state_name(const struct outbox_row *r)
{
	return r->state == OUTBOX_SENT ? "sent" :
	    r->state == OUTBOX_FAILED ? "failed" : "queued";
}

/* The Subject of a stored reply (our own, already encoded), or "". */
static char *
subject_of(const struct outbox_row *r)
{
	const char *s = r->message, *e, *end = strstr(r->message, "\r\n\r\n");

	for (; end && s < end; s = e + 2) {
		if ((e = strstr(s, "\r\n")) == NULL)
			break;
		if (strncasecmp(s, "Subject: ", 9) == 0)
			return xstrndup(s + 9, (size_t)(e - s - 9));
	}
	return xstrdup("");
}

static void
json_time(struct buf *b, const char *key, time_t t)
{
	char *iso;

	buf_addf(b, ",\"%s\":", key);
	if (t <= 0) {
		buf_adds(b, "null");
		return;
	}
	iso = time_iso(t);
	json_quote(b, iso);
	free(iso);
}

int
cmd_outbox(struct cmd_env *env, int argc, char **argv)
{
	struct outbox_row *r;
	struct buf b;
	size_t n;
	time_t now = now_time();

	if (argc != 2 || strcmp(argv[1], "list") != 0)
		usage_error("outbox", "the only subcommand is list");
	if (store_outbox_list(env_store(env), 0, &r, &n) == -1)
		return EX_SOFTWARE;
	if (env->json) {
		buf_init(&b);
		buf_addc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			char *subj = subject_of(&r[i]);
			buf_addf(&b, "%s{\"id\":%lld,\"ticket\":", i ? "," : "",
			    (long long)r[i].id);
			if (r[i].ticket_id > 0)
				buf_addf(&b, "%lld", (long long)r[i].ticket_id);
			else
				buf_adds(&b, "null");
			buf_adds(&b, ",\"state\":");
			json_quote(&b, state_name(&r[i]));
			buf_adds(&b, ",\"to\":");
			json_quote(&b, r[i].rcpt);
			buf_adds(&b, ",\"subject\":");
			json_quote(&b, subj);
			buf_addf(&b, ",\"attempts\":%d", r[i].attempts);
			json_time(&b, "created", r[i].created);
			json_time(&b, "next_try", r[i].state == OUTBOX_QUEUED ?
			    r[i].next_try : 0);
			json_time(&b, "sent", r[i].sent);
			buf_adds(&b, ",\"last_error\":");
			json_quote(&b, r[i].last_error);
			buf_addf(&b, ",\"claimed\":%s}",
			    r[i].claim && r[i].claimed_until > now ?
			    "true" : "false");
			free(subj);
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
		buf_free(&b);
	} else if (n == 0)
		printf("The outbox is empty.\n");
	else {
		struct table *t = table_new(7, "ID", "TICKET", "STATE",
		    "ATTEMPTS", "NEXT TRY", "TO", "LAST ERROR");
		size_t q = 0, snt = 0, f = 0;
		for (size_t i = 0; i < n; i++) {
			char id[24], tk[24], att[16], *next = NULL;
			snprintf(id, sizeof id, "%lld", (long long)r[i].id);
			snprintf(tk, sizeof tk, "%lld",
			    (long long)r[i].ticket_id);
			snprintf(att, sizeof att, "%d", r[i].attempts);
			if (r[i].state == OUTBOX_QUEUED)
				next = r[i].next_try <= now ? xstrdup("now") :
				    time_iso(r[i].next_try);
			table_row(t, id, r[i].ticket_id > 0 ? tk : "-",
			    r[i].claim && r[i].claimed_until > now &&
			    r[i].state == OUTBOX_QUEUED ? "sending" :
			    state_name(&r[i]), att, next, r[i].rcpt,
			    r[i].last_error);
			free(next);
			q += r[i].state == OUTBOX_QUEUED;
			snt += r[i].state == OUTBOX_SENT;
			f += r[i].state == OUTBOX_FAILED;
		}
		table_print(t);
		printf("\n%zu queued, %zu sent, %zu failed\n", q, snt, f);
	}
	outbox_free(r, n);
	return EX_OK;
}
