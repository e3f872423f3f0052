/*
 * autoreply.c - RFC 3834 loop and bounce protection: which mail must never be
 * answered automatically. Each rule has a short name returned in *why.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "autoreply.h"
#include "charset.h"
#include "addr.h"

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

/* The address in OUR ("Name <a@b>" or "a@b", addr_parse_one) is ADDR. */
static int
same_addr(const char *our, const char *addr)
{
	const struct addr *a = addr_parse_ours(our);

	return a != NULL && addr_same(a->spec, addr);
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
	if (addr_role(m->from_addr, NULL) == ADDR_DAEMON ||
	    addr_role(m->return_path, NULL) == ADDR_DAEMON) {
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
