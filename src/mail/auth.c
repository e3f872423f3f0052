/*
 * auth.c - sender authentication from Authentication-Results (RFC 8601).
 * See auth.h for what counts and why.
 *
 *   header   = authserv-id [ CFWS version ] ( *( ";" resinfo ) / ";" "none" )
 *   resinfo  = method [ "/" version ] "=" result *( ptype "." property "=" value )
 *   value    = token / quoted-string / [ local-part ] "@" domain
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "mail/auth.h"
#include "mail/mime.h"

struct lex {
	const char *p;
};

/* Skips blanks and (nested) comments; an unclosed comment runs to the end. */
static void
cfws(struct lex *l)
{
	for (;;) {
		while (*l->p == ' ' || *l->p == '\t' || *l->p == '\r' ||
		    *l->p == '\n')
			l->p++;
		if (*l->p != '(')
			return;
		int depth = 0;
		do {
			if (*l->p == '\\' && l->p[1] != '\0')
				l->p++;
			else if (*l->p == '(')
				depth++;
			else if (*l->p == ')')
				depth--;
			l->p++;
		} while (depth > 0 && *l->p != '\0');
	}
}

/* A value: a quoted string (unescaped) or a run up to a blank, ';', '(' or
 * (when STOP_EQ) '='. A quoted local part keeps the "@domain" that follows
 * it ('"noc@acme.example"@evil.example' is a mailbox of evil.example).
 * NULL when there is none. Owned. */
static char *
value(struct lex *l, int stop_eq)
{
	struct buf b;

	cfws(l);
	buf_init(&b);
	if (*l->p == '"') {
		l->p++;
		while (*l->p != '\0' && *l->p != '"') {
			if (*l->p == '\\' && l->p[1] != '\0')
				l->p++;
			buf_addc(&b, *l->p++);
		}
		if (*l->p != '"') {
			buf_free(&b);
			return NULL;       /* unterminated: stop here */
		}
		l->p++;
		if (*l->p != '@')
			return buf_steal(&b);
	}
	while (*l->p != '\0' && !strchr(" \t\r\n;(\"", *l->p) &&
	    !(stop_eq && *l->p == '='))
		buf_addc(&b, *l->p++);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
expect(struct lex *l, char c)
{
	cfws(l);
	if (*l->p != c)
		return 0;
	l->p++;
	return 1;
}

/* Skips to just after the next ';' outside comments and quotes. */
static void
skip_resinfo(struct lex *l)
{
	for (;;) {
		cfws(l);
		if (*l->p == '\0')
			return;
		if (*l->p == ';') {
			l->p++;
			return;
		}
		if (*l->p == '"') {
			char *v = value(l, 0);
			if (v == NULL) {
				l->p += strlen(l->p);
				return;
			}
			free(v);
		} else
			l->p++;
	}
}

/* The domain of "user@dom", "@dom" or "dom": lowercased, no final dot.
 * NULL unless it is a plain host name (letters, digits, '-', '_', '.'):
 * anything else cannot be compared with the From domain. */
static char *
domain_of(const char *v)
{
	const char *at = strrchr(v, '@');
	char *d = xstrdup(at ? at + 1 : v);
	size_t n;

	str_lower(d);
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	if (n == 0 || strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n) {
		free(d);
		return NULL;
	}
	return d;
}

int
auth_aligned(const char *from, const char *dom)
{
	size_t fl, dl;

	if (from == NULL || dom == NULL || *dom == '\0' ||
	    strchr(dom, '.') == NULL || dom[0] == '.')
		return 0;
	fl = strlen(from);
	dl = strlen(dom);
	if (strcasecmp(from, dom) == 0)
		return 1;
	return fl > dl && from[fl - dl - 1] == '.' &&
	    strcasecmp(from + fl - dl, dom) == 0;
}

/* Keeps CAND in *SLOT when it is better: aligned beats not aligned, the
 * first one found wins among equals. Takes CAND. */
static void
keep(char **slot, int *slot_aligned, char *cand, const char *from)
{
	int al = auth_aligned(from, cand);

	if (*slot == NULL || (al && !*slot_aligned)) {
		free(*slot);
		*slot = cand;
		*slot_aligned = al;
	} else
		free(cand);
}

int
auth_parse(const char *hv, const char *authserv_id, const char *from,
    char **dkim_d, char **spf_d, char **summary)
{
	struct lex l = { hv };
	struct buf sum;
	char *id;
	int dk_al = 0, spf_al = 0;

	*dkim_d = *spf_d = NULL;
	*summary = NULL;
	if ((id = value(&l, 0)) == NULL)
		return 0;
	if (strcasecmp(id, authserv_id) != 0) {
		free(id);
		return 0;
	}
	free(id);
	cfws(&l);
	if (*l.p >= '0' && *l.p <= '9') {      /* version */
		char *v = value(&l, 0);
		free(v);
	}
	buf_init(&sum);
	if (!expect(&l, ';'))
		goto done;          /* "id" alone, or junk: no results */
	for (;;) {
		char *method, *result, *slash;
		char *d = NULL, *i = NULL, *mailfrom = NULL;
		int seen = 0, bad = 0;

		cfws(&l);
		if (*l.p == '\0')
			break;
		if (*l.p == ';') {
			l.p++;
			continue;
		}
		if ((method = value(&l, 1)) == NULL)
			break;
		if ((slash = strchr(method, '/')) != NULL)
			*slash = '\0';
		if (strcasecmp(method, "none") == 0 || !expect(&l, '=') ||
		    (result = value(&l, 0)) == NULL) {
			free(method);
			skip_resinfo(&l);
			continue;
		}
		/* properties up to the next ';' */
		for (;;) {
			char *prop, *pv;
			cfws(&l);
			if (*l.p == '\0' || *l.p == ';')
				break;
			/* junk among the properties: the result is not
			 * trusted (it could hide a display part or a second
			 * address); on to the next one */
			if ((prop = value(&l, 1)) == NULL) {
				bad = 1;
				skip_resinfo(&l);
				break;
			}
			if (!expect(&l, '=') || (pv = value(&l, 0)) == NULL) {
				free(prop);
				bad = 1;
				skip_resinfo(&l);
				break;
			}
			/* the first of each counts, even when unusable */
			if (strcasecmp(prop, "header.d") == 0 && !(seen & 1)) {
				d = domain_of(pv);
				seen |= 1;
			} else if (strcasecmp(prop, "header.i") == 0 &&
			    !(seen & 2)) {
				i = domain_of(pv);
				seen |= 2;
			} else if (strcasecmp(prop, "smtp.mailfrom") == 0 &&
			    !(seen & 4)) {
				mailfrom = domain_of(pv);
				seen |= 4;
			}
			free(prop);
			free(pv);
		}
		if (sum.len)
			buf_adds(&sum, ", ");
		buf_addf(&sum, "%s=%s", method, result);
		if (strcasecmp(method, "dkim") == 0) {
			const char *dom = (seen & 1) ? d : i;
			if (dom)
				buf_addf(&sum, " (%s)", dom);
			if (strcasecmp(result, "pass") == 0 && dom && !bad)
				keep(dkim_d, &dk_al, xstrdup(dom), from);
		} else if (strcasecmp(method, "spf") == 0) {
			if (mailfrom)
				buf_addf(&sum, " (%s)", mailfrom);
			if (strcasecmp(result, "pass") == 0 && mailfrom && !bad)
				keep(spf_d, &spf_al, xstrdup(mailfrom), from);
		}
		free(method);
		free(result);
		free(d);
		free(i);
		free(mailfrom);
	}
done:
	*summary = buf_steal(&sum);
	return 1;
}

int
auth_check(const struct msg *m, const char *authserv_id, char *why,
    size_t whylen)
{
	const char *from_dom;
	char *dk = NULL, *spf = NULL, *sum = NULL;
	int ok = 0;
	size_t i;

	if (m->from_addr == NULL || m->from_count != 1 ||
	    (from_dom = strrchr(m->from_addr, '@')) == NULL) {
		snprintf(why, whylen, "sender not authenticated: %s",
		    m->from_count > 1 ? "more than one From address" :
		    "no usable From address");
		return 0;
	}
	from_dom++;
	if (authserv_id == NULL || *authserv_id == '\0') {
		snprintf(why, whylen, "sender not authenticated: no "
		    "security.authserv_id configured");
		return 0;
	}
	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, "Authentication-Results") == 0 &&
		    m->headers[i].value != NULL &&
		    auth_parse(m->headers[i].value, authserv_id, from_dom, &dk,
		    &spf, &sum))
			break;
	if (i == m->nheaders) {
		snprintf(why, whylen, "sender not authenticated: no "
		    "Authentication-Results from %s", authserv_id);
		return 0;
	}
	if (dk && auth_aligned(from_dom, dk)) {
		snprintf(why, whylen, "sender authenticated: dkim=pass for %s",
		    dk);
		ok = 1;
	} else if (spf && auth_aligned(from_dom, spf)) {
		snprintf(why, whylen, "sender authenticated: spf=pass for %s",
		    spf);
		ok = 1;
	} else if (dk || spf)
		snprintf(why, whylen, "sender not authenticated: %s passed for "
		    "%s, which is not the From domain %s", dk ? "dkim" : "spf",
		    dk ? dk : spf, from_dom);
	else
		snprintf(why, whylen, "sender not authenticated: %s reports %s",
		    authserv_id, sum && *sum ? sum : "no results");
	free(dk);
	free(spf);
	free(sum);
	return ok;
}
