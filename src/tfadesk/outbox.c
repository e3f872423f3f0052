/*
 * outbox.c - `tfadesk outbox list`: what replies wait, went, or failed,
 * with attempts, next try, last error and who holds a claim on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "cmd.h"
#include "table.h"
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

/* KEY: the time as ISO 8601, or null when there is none. */
static void
json_time(struct json *j, const char *key, time_t t)
{
	char *iso;

	if (t <= 0) {
		json_knull(j, key);
		return;
	}
	iso = time_iso(t);
	json_kstr(j, key, iso);
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
		struct json j;
		buf_init(&b);
		json_init(&j, &b, 0);
		json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			char *subj = subject_of(&r[i]);
			json_obj(&j);
			json_kint(&j, "id", r[i].id);
			if (r[i].ticket_id > 0)
				json_kint(&j, "ticket", r[i].ticket_id);
			else
				json_knull(&j, "ticket");
			json_kstr(&j, "state", state_name(&r[i]));
			json_kstr(&j, "to", r[i].rcpt);
			json_kstr(&j, "subject", subj);
			json_kint(&j, "attempts", r[i].attempts);
			json_time(&j, "created", r[i].created);
			json_time(&j, "next_try", r[i].state == OUTBOX_QUEUED ?
			    r[i].next_try : 0);
			json_time(&j, "sent", r[i].sent);
			json_kstr(&j, "last_error", r[i].last_error);
			json_kbool(&j, "claimed", r[i].claim &&
			    r[i].claimed_until > now);
			json_end(&j);
			free(subj);
		}
		json_end(&j);
		buf_addc(&b, '\n');
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
