/*
 * send-spool.c - the reply transport reply.transport: spool: each reply a
 * file in the new/ folder of the maildir reply.spool (maildir_deliver),
 * named for its Message-ID, unique per row and the same on a retry, so a
 * second write replaces the first: a reply is never spooled twice.
 */
#include <stdlib.h>

#include "tfadesk.h"
#include "store.h"
#include "maildir.h"
#include "send-int.h"

static int spool_open(struct transport *, const struct config *, int *);
static enum tr_result spool_send(struct transport *,
    const struct outbox_row *, char **);
static void spool_close(struct transport *);

const struct transport_ops send_spool_ops = {
	"spool", spool_open, spool_send, spool_close
};

static int
spool_open(struct transport *t, const struct config *cfg, int *ex)
{
	if (cfg->reply.spool == NULL) {
		log_warnx("send: reply.spool is not set");
		*ex = EX_CONFIG;
		return -1;
	}
	t->priv = xstrdup(cfg->reply.spool);
	return 0;
}

static enum tr_result
spool_send(struct transport *t, const struct outbox_row *r, char **answer)
{
	const char *dir = t->priv;
	char *name;
	enum tr_result res = TR_SENT;

	*answer = NULL;
	if (maildir_make(dir, 0750) == -1) {
		log_warn("send: spool %s", dir);
		return TR_LOCAL;
	}
	name = xstrdup(r->msgid);
	for (char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
		    *c == '_' || *c == '@'))
			*c = '_';
	if (name[0] == '.' || name[0] == '\0') {
		char *n = xstrfmt("_%s", name);
		free(name);
		name = n;
	}
	if (maildir_deliver(dir, name, r->message, r->message_len, 0640,
	    NULL) == -1) {
		log_warn("send: spool %s/new/%s", dir, name);
		res = TR_LOCAL;
	}
	free(name);
	return res;
}

static void
spool_close(struct transport *t)
{
	free(t->priv);
	t->priv = NULL;
}
