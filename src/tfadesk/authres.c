/*
 * auth.c - sender authentication from Authentication-Results (RFC 8601).
 * See auth.h for what counts and why.
 *
 * The trusted header is read strictly, all of it or none of it:
 *
 *   header   = authserv-id [ version ] ( ";" "none" / 1*( ";" resinfo ) )
 *   resinfo  = method [ "/" version ] "=" result [ "reason" "=" value ]
 *              *( ptype "." property "=" pvalue )
 *   method, result, ptype, property = Keyword (letters, digits, '-')
 *   version  = 1*DIGIT
 *   value    = token / quoted-string                    (RFC 2045)
 *   pvalue   = quoted-string [ "@" domain ]             ("a b"@x.example)
 *            / 1*( atext / "." / "@" )                  (at most one '@')
 *
 * with CFWS (blanks and comments) allowed around every element. A comment
 * has a blank before it and a blank, ';' or the end after it. Comments
 * nest and may hold quoted pairs, but never a '"' (not even escaped):
 * receiving hosts write the envelope sender verbatim in comments, and a
 * quoted local part such as "x) smtp.mailfrom=noc@acme.example; (x"@evil
 * would otherwise decide where the comment ends. Text with neither quotes
 * nor blanks (a HELO name, an address literal) may still close a comment,
 * but cannot give a result a property: that needs a blank. All this is
 * stricter than RFC 5322, on purpose. Anything else that does not fit (an
 * unbalanced comment or quote, a ')' outside a comment, a property given
 * twice within one result, text that belongs to no result, an empty
 * result, a control character) makes the whole header unreadable: it
 * authenticates nobody.
 * A pvalue may hold '/' and '=' (atext) because DKIM's header.b is written
 * unquoted by OpenDKIM, rspamd and Gmail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "tfadesk/authres.h"
#include "tfadesk/mime.h"

#define AR_MAX		16384   /* a longer trusted header is refused */
#define DEPTH_MAX	8       /* comment nesting */
#define PROPS_MAX	32      /* properties in one result */
#define WORD_MAX	64      /* a method, result, ptype or property */

struct ar {
	const char *s;          /* the header value */
	const char *p;          /* the cursor */
	char *err;              /* the first problem, with its offset */
	size_t errlen;
	int bad;
};

/* Records the first problem (WHAT at AT); always -1. */
static int
bad(struct ar *a, const char *at, const char *what)
{
	if (!a->bad && a->errlen > 0)
		snprintf(a->err, a->errlen, "%s at offset %zu", what,
		    (size_t)(at - a->s));
	a->bad = 1;
	return -1;
}

static int
is_ctl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
	    c == 0x7f;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 2045 token: printable ASCII but tspecials. */
static int
is_token(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* What an unquoted pvalue is made of: atext, '.', '@', UTF-8. */
static int
is_run(int c)
{
	return (c >= 0x80 && c <= 0xff) || is_ldh(c) ||
	    (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.@", c) != NULL);
}

static int
is_domain(int c)
{
	return is_ldh(c) || c == '.' || c == '_';
}

/* Skips blanks and comments. -1 on an unbalanced or forbidden comment, or
 * on a ')' that closes nothing. */
static int
cfws(struct ar *a)
{
	for (;;) {
		const char *open;
		int depth = 0;

		while (is_blank((unsigned char)*a->p))
			a->p++;
		if (*a->p == ')')
			return bad(a, a->p, "')' outside a comment");
		if (*a->p != '(')
			return 0;
		/* comments stand apart: a sender's HELO name or address
		 * literal, copied into a comment, holds no blank, so it
		 * cannot close the comment and open results of its own
		 * ("helo=x);dkim=pass(c)header.d=acme.example(x") */
		if (a->p > a->s && !is_blank((unsigned char)a->p[-1]))
			return bad(a, a->p, "comment not preceded by a blank");
		open = a->p;
		do {
			int c = (unsigned char)*a->p;

			if (c == '\0')
				return bad(a, open, "unbalanced comment");
			if (c == '"')
				return bad(a, a->p, "quote inside a comment");
			if (is_ctl(c))
				return bad(a, a->p, "control character");
			if (c == '\\') {
				c = (unsigned char)a->p[1];
				if (c == '\0')
					return bad(a, open, "unbalanced comment");
				if (c == '"')
					return bad(a, a->p + 1,
					    "quote inside a comment");
				if (is_ctl(c))
					return bad(a, a->p + 1,
					    "control character");
				a->p += 2;
				continue;
			}
			if (c == '(' && ++depth > DEPTH_MAX)
				return bad(a, a->p, "comments nested too deeply");
			if (c == ')')
				depth--;
			a->p++;
		} while (depth > 0);
		if (*a->p != '\0' && *a->p != ';' &&
		    !is_blank((unsigned char)*a->p))
			return bad(a, a->p, "comment not followed by a blank");
	}
}

/* A quoted string at the cursor, unescaped into B. */
static int
qstring(struct ar *a, struct buf *b)
{
	const char *open = a->p++;

	for (;;) {
		int c = (unsigned char)*a->p;

		if (c == '\0')
			return bad(a, open, "unbalanced quote");
		if (c == '"') {
			a->p++;
			return 0;
		}
		if (c == '\\') {
			c = (unsigned char)a->p[1];
			if (c == '\0')
				return bad(a, open, "unbalanced quote");
			a->p++;
		}
		if (is_ctl(c))
			return bad(a, a->p, "control character");
		buf_addc(b, c);
		a->p++;
	}
}

/* A Keyword into OUT: 1 read, 0 none at the cursor, -1 bad. */
static int
keyword(struct ar *a, char *out)
{
	const char *st = a->p;
	size_t n;

	while (is_ldh((unsigned char)*a->p))
		a->p++;
	n = (size_t)(a->p - st);
	if (n == 0)
		return 0;
	if (*st == '-' || a->p[-1] == '-')
		return bad(a, st, "a word begins or ends with '-'");
	if (n >= WORD_MAX)
		return bad(a, st, "a word is too long");
	memcpy(out, st, n);
	out[n] = '\0';
	return 1;
}

/* token / quoted-string into B: 1 read, 0 none, -1 bad. */
static int
value(struct ar *a, struct buf *b)
{
	const char *st = a->p;

	if (*a->p == '"')
		return qstring(a, b) < 0 ? -1 : 1;
	while (is_token((unsigned char)*a->p))
		buf_addc(b, *a->p++);
	return a->p > st;
}

/* A property's value into B: 1 read, 0 none, -1 bad. */
static int
pvalue(struct ar *a, struct buf *b)
{
	const char *st = a->p;
	int ats = 0;

	if (*a->p == '"') {
		if (qstring(a, b) < 0)
			return -1;
		if (*a->p != '@')
			return 1;
		buf_addc(b, *a->p++);
		st = a->p;
		while (is_domain((unsigned char)*a->p))
			buf_addc(b, *a->p++);
		if (a->p == st)
			return bad(a, a->p, "no domain after '@'");
		return 1;
	}
	while (is_run((unsigned char)*a->p)) {
		if (*a->p == '@' && ++ats > 1)
			return bad(a, a->p, "more than one '@' in a value");
		buf_addc(b, *a->p++);
	}
	if (a->p == st)
		return 0;
	if (*a->p == '"')
		return bad(a, a->p, "quote inside a value");
	return 1;
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

/* One result, from its method to the next ';' or the end. */
static int
resinfo(struct ar *a, const char *from, char **dkim_d, int *dk_al,
    char **spf_d, int *spf_al, struct buf *sum)
{
	char method[WORD_MAX], result[WORD_MAX], ptype[WORD_MAX];
	char prop[WORD_MAX], seen[PROPS_MAX][2 * WORD_MAX];
	char *d = NULL, *i = NULL, *mailfrom = NULL;
	struct buf v;
	size_t nseen = 0, k;
	int reason = 0, r, ret = -1;

	buf_init(&v);
	if (keyword(a, method) <= 0) {
		if (!a->bad)
			bad(a, a->p, *a->p == ';' || *a->p == '\0' ?
			    "empty result" : "text that belongs to no result");
		goto out;
	}
	if (cfws(a) < 0)
		goto out;
	if (*a->p == '/') {
		a->p++;
		if (cfws(a) < 0)
			goto out;
		if (!is_digit((unsigned char)*a->p)) {
			bad(a, a->p, "no method version after '/'");
			goto out;
		}
		while (is_digit((unsigned char)*a->p))
			a->p++;
		if (cfws(a) < 0)
			goto out;
	}
	if (*a->p != '=') {
		bad(a, a->p, "no '=' after the method");
		goto out;
	}
	a->p++;
	if (cfws(a) < 0)
		goto out;
	if ((r = keyword(a, result)) <= 0) {
		if (r == 0)
			bad(a, a->p, "no result after '='");
		goto out;
	}
	if (cfws(a) < 0)
		goto out;
	while (*a->p != '\0' && *a->p != ';') {
		const char *st = a->p;
		char name[2 * WORD_MAX];

		if ((r = keyword(a, ptype)) <= 0) {
			if (r == 0)
				bad(a, a->p, "text that belongs to no result");
			goto out;
		}
		if (cfws(a) < 0)
			goto out;
		if (*a->p == '=' && strcasecmp(ptype, "reason") == 0) {
			if (reason || nseen > 0) {
				bad(a, st, reason ? "reason given twice in one "
				    "result" : "reason after the properties");
				goto out;
			}
			a->p++;
			if (cfws(a) < 0 || (r = value(a, &v)) < 0)
				goto out;
			if (r == 0) {
				bad(a, a->p, "no value after '='");
				goto out;
			}
			reason = 1;
			if (cfws(a) < 0)
				goto out;
			continue;
		}
		if (*a->p != '.') {
			bad(a, st, *a->p == '=' ? "a property without a type" :
			    "text that belongs to no result");
			goto out;
		}
		a->p++;
		if (cfws(a) < 0)
			goto out;
		if ((r = keyword(a, prop)) <= 0) {
			if (r == 0)
				bad(a, a->p, "no property after '.'");
			goto out;
		}
		if (cfws(a) < 0)
			goto out;
		if (*a->p != '=') {
			bad(a, a->p, "no '=' after the property");
			goto out;
		}
		a->p++;
		buf_reset(&v);
		if (cfws(a) < 0 || (r = pvalue(a, &v)) < 0)
			goto out;
		if (r == 0) {
			bad(a, a->p, "no value after '='");
			goto out;
		}
		snprintf(name, sizeof name, "%s.%s", ptype, prop);
		str_lower(name);
		for (k = 0; k < nseen; k++)
			if (strcmp(seen[k], name) == 0) {
				char msg[sizeof name + 32];
				snprintf(msg, sizeof msg, "%s given twice in "
				    "one result", name);
				bad(a, st, msg);
				goto out;
			}
		if (nseen == PROPS_MAX) {
			bad(a, st, "too many properties in one result");
			goto out;
		}
		memcpy(seen[nseen++], name, sizeof name);
		if (strcmp(name, "header.d") == 0)
			d = domain_of(v.s ? v.s : "");
		else if (strcmp(name, "header.i") == 0)
			i = domain_of(v.s ? v.s : "");
		else if (strcmp(name, "smtp.mailfrom") == 0)
			mailfrom = domain_of(v.s ? v.s : "");
		if (cfws(a) < 0)
			goto out;
	}

	if (sum->len)
		buf_adds(sum, ", ");
	str_lower(method);
	str_lower(result);
	buf_adds(sum, method);
	buf_addc(sum, '=');
	buf_adds(sum, result);
	if (strcmp(method, "dkim") == 0) {
		const char *dom = d ? d : i;
		/* header.d, when given, is the signing domain even if
		 * unusable; header.i only stands in for a missing one */
		for (k = 0; k < nseen; k++)
			if (strcmp(seen[k], "header.d") == 0)
				dom = d;
		if (dom) {
			buf_adds(sum, " (");
			buf_adds(sum, dom);
			buf_addc(sum, ')');
		}
		if (strcmp(result, "pass") == 0 && dom)
			keep(dkim_d, dk_al, xstrdup(dom), from);
	} else if (strcmp(method, "spf") == 0) {
		if (mailfrom) {
			buf_adds(sum, " (");
			buf_adds(sum, mailfrom);
			buf_addc(sum, ')');
		}
		if (strcmp(result, "pass") == 0 && mailfrom)
			keep(spf_d, spf_al, xstrdup(mailfrom), from);
	}
	ret = 0;
out:
	buf_free(&v);
	free(d);
	free(i);
	free(mailfrom);
	return ret;
}

int
auth_parse(const char *hv, const char *authserv_id, const char *from,
    char **dkim_d, char **spf_d, char **summary, char *err, size_t errlen)
{
	struct ar a = { hv, hv, err, errlen, 0 };
	struct buf id, sum;
	int dk_al = 0, spf_al = 0, nres = 0;

	*dkim_d = *spf_d = NULL;
	*summary = NULL;
	if (errlen > 0)
		err[0] = '\0';
	/* whose header is it? One that does not even say is nobody's */
	buf_init(&id);
	if (cfws(&a) < 0 || value(&a, &id) != 1 ||
	    strcasecmp(id.s ? id.s : "", authserv_id) != 0) {
		buf_free(&id);
		if (errlen > 0)
			err[0] = '\0';
		return 0;
	}
	buf_free(&id);
	buf_init(&sum);
	if (strlen(hv) > AR_MAX) {
		bad(&a, hv + AR_MAX, "longer than 16384 bytes");
		goto bad;
	}
	if (cfws(&a) < 0)
		goto bad;
	if (is_digit((unsigned char)*a.p)) {            /* version */
		while (is_digit((unsigned char)*a.p))
			a.p++;
		if (cfws(&a) < 0)
			goto bad;
	}
	if (*a.p != ';') {
		bad(&a, a.p, *a.p == '\0' ? "no results after the "
		    "authserv-id" : "text that belongs to no result");
		goto bad;
	}
	while (*a.p == ';') {
		const char *st;

		a.p++;
		if (cfws(&a) < 0)
			goto bad;
		st = a.p;
		if (nres == 0 && strncasecmp(a.p, "none", 4) == 0 &&
		    !is_ldh((unsigned char)a.p[4])) {
			a.p += 4;
			if (cfws(&a) < 0)
				goto bad;
			if (*a.p == '\0')
				break;          /* "; none": no results */
			bad(&a, st, "'none' with other results");
			goto bad;
		}
		if (resinfo(&a, from, dkim_d, &dk_al, spf_d, &spf_al,
		    &sum) < 0)
			goto bad;
		nres++;
	}
	/* resinfo stops only at ';' or the end */
	*summary = buf_steal(&sum);
	return 1;
bad:
	buf_free(&sum);
	free(*dkim_d);
	free(*spf_d);
	*dkim_d = *spf_d = NULL;
	return -1;
}

int
auth_check(const struct msg *m, const char *authserv_id, char *why,
    size_t whylen)
{
	const char *from_dom;
	char *dk = NULL, *spf = NULL, *sum = NULL, err[128];
	int ok = 0, r = 0;
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
		    (r = auth_parse(m->headers[i].value, authserv_id, from_dom,
		    &dk, &spf, &sum, err, sizeof err)) != 0)
			break;
	if (i == m->nheaders) {
		snprintf(why, whylen, "sender not authenticated: no "
		    "Authentication-Results from %s", authserv_id);
		return 0;
	}
	if (r < 0) {
		snprintf(why, whylen, "sender not authenticated: "
		    "Authentication-Results from %s does not parse: %s",
		    authserv_id, err);
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
