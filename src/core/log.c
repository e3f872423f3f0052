/* log.c - one line per message: "prog: what failed: why". It allocates
 * nothing (xmalloc and buf report through it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tfadesk.h"
#include "utf8.h"

static const char *prog = "tfadesk";
static int to_syslog;
static int verbosity;

void
log_init(const char *name, int use_syslog, int verbose)
{
	prog = name;
	verbosity = verbose;
	if (use_syslog && !to_syslog)
		openlog(name, LOG_PID, LOG_MAIL);
	to_syslog = use_syslog;
}

const char *
log_prog(void)
{
	return prog;
}

static void
vlog(int pri, int add_errno, const char *fmt, va_list ap)
{
	char msg[2048], esc[4096];
	int saved = errno, show;

	/* nowhere to go (a quiet run without syslog: every ticket's
	 * info line): not formatted at all */
	show = pri <= LOG_WARNING || verbosity > (pri == LOG_DEBUG);
	if (!show && !to_syslog)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (add_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof msg - n, ": %s", strerror(saved));
	}
	/* Nothing we print may smuggle a line break, a terminal escape or
	 * a bidi override into a log: text from mail ends up here. */
	utf8_term_escape(esc, sizeof esc, msg, strlen(msg), 0);
	if (show)
		fprintf(stderr, "%s: %s\n", prog, esc);
	if (to_syslog)
		syslog(pri, "%s", esc);
	errno = saved;
}

#define LOGFN(name, pri, e)                       \
	void name(const char *fmt, ...)           \
	{                                         \
		va_list ap;                       \
		va_start(ap, fmt);                \
		vlog(pri, e, fmt, ap);            \
		va_end(ap);                       \
	}
LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_debug, LOG_DEBUG, 0)

void
log_syslog(const char *fmt, ...)
{
	va_list ap;
	char msg[2048], esc[4096];

	if (!to_syslog)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_term_escape(esc, sizeof esc, msg, strlen(msg), 0);
	syslog(LOG_NOTICE, "%s", esc);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(status);
}
