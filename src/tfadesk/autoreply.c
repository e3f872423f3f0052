/*
 * loop.c - RFC 3834 loop and bounce protection: which mail must never be
 * answered automatically. Each rule has a short name returned in *why.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "mime-int.h"

/* The first token of V (before ';', blanks, '(' comment), lowercased. */
static void
first_token(const char *v, char *out, size_t sz)
{
	size_t i = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v && *v != ';' && *v != ' ' && *v != '\t' && *v != '(' &&
	    i + 1 < sz; v++)
		out[i++] = (char)tolower((unsigned char)*v);
	out[i] = '\0';
}

/* Local part of ADDR is one of the daemon names. */
static int
daemon_local(const char *addr)
{
	static const char *const names[] = { "mailer-daemon", "mailer_daemon",
	    "mailerdaemon", "postmaster", NULL };
	const char *at;
	size_t n, i;

	if (addr == NULL)
		return 0;
	at = strrchr(addr, '@');
	n = at ? (size_t)(at - addr) : strlen(addr);
	for (i = 0; names[i]; i++)
		if (mime_strncaseeq(addr, n, names[i]))
			return 1;
	return 0;
}

/* The addr-spec in OUR ("Name <a@b>" or "a@b") equals ADDR. */
static int
same_addr(const char *our, const char *addr)
{
	const char *lt, *gt;
	size_t n;

	lt = strchr(our, '<');
	if (lt) {
		gt = strchr(lt, '>');
		our = lt + 1;
		n = gt ? (size_t)(gt - our) : strlen(our);
	} else {
		while (*our == ' ' || *our == '\t')
			our++;
		n = strlen(our);
		while (n > 0 && (our[n - 1] == ' ' || our[n - 1] == '\t'))
			n--;
	}
	return n > 0 && strlen(addr) == n && strncasecmp(our, addr, n) == 0;
}

int
msg_is_automatic(const struct msg *m, const char *our_addr, const char **why)
{
	const char *v, *dummy;
	char tok[64];
	size_t i;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (m == NULL)
		return 0;
	for (i = 0; i < m->nheaders; i++) {
		const char *n = m->headers[i].name;

		v = m->headers[i].value;
		if (strcasecmp(n, "Auto-Submitted") == 0) {
			first_token(v, tok, sizeof(tok));
			if (strcmp(tok, "no") != 0) {
				*why = "Auto-Submitted header";
				return 1;
			}
		} else if (strcasecmp(n, "Precedence") == 0) {
			first_token(v, tok, sizeof(tok));
			if (strcmp(tok, "bulk") == 0 ||
			    strcmp(tok, "junk") == 0 ||
			    strcmp(tok, "list") == 0) {
				*why = "Precedence bulk/junk/list";
				return 1;
			}
		} else if (strcasecmp(n, "List-Id") == 0) {
			*why = "mailing list (List-Id)";
			return 1;
		} else if (strcasecmp(n, "X-Autoreply") == 0 ||
		    strcasecmp(n, "X-Autorespond") == 0 ||
		    strcasecmp(n, "X-Autoresponse") == 0) {
			*why = "auto-reply header (X-Autoreply)";
			return 1;
		} else if (strcasecmp(n, "Content-Type") == 0 &&
		    strncasecmp(v, "multipart/report", 16) == 0) {
			*why = "delivery or read report (multipart/report)";
			return 1;
		}
	}
	if (m->return_path && m->return_path[0] == '\0') {
		*why = "null Return-Path (<>)";
		return 1;
	}
	if (daemon_local(m->from_addr) || daemon_local(m->return_path)) {
		*why = "sender is MAILER-DAEMON/postmaster";
		return 1;
	}
	if (our_addr && *our_addr && m->from_addr &&
	    same_addr(our_addr, m->from_addr)) {
		*why = "sent by our own address";
		return 1;
	}
	return 0;
}
