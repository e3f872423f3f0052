/*
 * sms.c - SMS delivery for the verifier: picks the gateway by
 * sms.transport and dispatches through its ops (sms-int.h):
 *
 *   sms.transport: spool   sms-spool.c: one file per SMS in a maildir
 *   sms.transport: http    sms-http.c: one HTTP request per SMS, shaped by
 *                          sms.preset (kannel, twilio, custom)
 *
 * Nothing here ever logs the text or a URL with its query: both may hold
 * the code. Numbers are logged masked.
 */
#include <stdlib.h>
#include <time.h>

#include "tfadesk.h"
#include "verify.h"
#include "sms-int.h"

/* indexed by enum sms_transport */
static const struct sms_ops *const gateways[] = {
	[SMS_SPOOL] = &sms_spool_ops,
	[SMS_HTTP] = &sms_http_ops,
};

struct sms *
sms_new(const struct config *cfg, int *ex)
{
	struct sms *g;

	*ex = EX_CONFIG;
	if ((size_t)cfg->sms.transport >= sizeof gateways / sizeof gateways[0]) {
		log_warnx("config: sms.transport: unknown");
		return NULL;
	}
	g = xcalloc(1, sizeof *g);
	g->ops = gateways[cfg->sms.transport];
	if (g->ops->open(g, cfg, ex) == -1) {
		sms_free(g);
		return NULL;
	}
	return g;
}

void
sms_free(struct sms *g)
{
	if (g == NULL)
		return;
	g->ops->close(g);
	free(g);
}

const char *
sms_describe(const struct sms *g)
{
	return g->desc;
}

int
sms_send(struct sms *g, const char *to_digits, const char *text,
    const char **why)
{
	struct timespec t0;
	int rc;

	*why = "";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = g->ops->send(g, to_digits, text, why);
	metrics_sms(rc == 0, metrics_elapsed_us(&t0));
	return rc;
}
