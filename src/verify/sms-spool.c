/*
 * sms-spool.c - the SMS gateway for tests and for a relay of one's own
 * (sms.transport: spool): one file per SMS in the new/ folder of the
 * maildir sms.spool: "To: <digits>", a blank line, the text. maildir_deliver: readers never see half a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "maildir.h"
#include "sms-int.h"

struct spool {
	char *dir;
};

static int sms_spool_open(struct sms *, const struct config *, int *);
static int sms_spool_send(struct sms *, const char *, const char *,
    const char **);
static void sms_spool_close(struct sms *);

const struct sms_ops sms_spool_ops = {
	"spool", sms_spool_open, sms_spool_send, sms_spool_close
};

static int
sms_spool_open(struct sms *g, const struct config *cfg, int *ex)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	g->priv = sp;
	*ex = EX_CONFIG;
	sp->dir = xstrdup(cfg->sms.spool);
	if (maildir_make(sp->dir, 0750) == -1) {
		log_warn("sms: spool %s", sp->dir);
		return -1;
	}
	snprintf(g->desc, sizeof g->desc, "spool %s/new", sp->dir);
	return 0;
}

static int
sms_spool_send(struct sms *g, const char *to, const char *text, const char **why)
{
	struct spool *sp = g->priv;
	struct buf b;
	int rc;

	buf_init(&b);
	buf_addf(&b, "To: %s\n", to);
	buf_addf(&b, "\n%s\n", text);
	if ((rc = maildir_deliver(sp->dir, NULL, b.s, b.len, 0640,
	    NULL)) == -1) {
		log_warn("sms: spool %s", sp->dir);
		*why = "spool not writable";
	}
	buf_wipe(&b);           /* it held the code */
	return rc;
}

static void
sms_spool_close(struct sms *g)
{
	struct spool *sp = g->priv;

	if (sp == NULL)
		return;
	free(sp->dir);
	free(sp);
	g->priv = NULL;
}
