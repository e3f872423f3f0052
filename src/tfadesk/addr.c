/*
 * addr.c - e-mail addresses: parsing (libetpan's RFC 5322 parser on the
 * raw header text), the validity rule and the role list.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "tfadesk.h"
#include "utf8.h"
#include "addr.h"

/* Characters that are never part of a plain address (RFC 5322 specials
 * but '@' and '.', which have their own rules). */
#define ADDR_SPECIALS "\"(),:;<>[\\]"

/* One character of an address at S (N bytes): its length, or 0 when it is
 * a control, a space, a special, a bidi control or not UTF-8. */
static size_t
addr_char(const char *s, size_t n, int flags)
{
	uint32_t cp;
	size_t k = utf8_decode(s, n, &cp);

	if (k == 0 || cp <= ' ' || utf8_is_control(cp) ||
	    utf8_is_bidi_control(cp) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0xfeff)
		return 0;
	if (cp < 0x80 && strchr(ADDR_SPECIALS, (int)cp) != NULL)
		return 0;
	if (cp >= 0x80 && (flags & ADDR_ASCII))
		return 0;
	return k;
}

int
addr_valid(const char *spec, int flags, const char **why)
{
	const char *dummy, *at, *p, *end;
	size_t n, k, label = 0;

	if (why == NULL)
		why = &dummy;
	if (spec == NULL || *spec == '\0') {
		*why = "no address";
		return 0;
	}
	n = strnlen(spec, ADDR_MAX + 1);
	if (n > ADDR_MAX) {
		*why = "address too long";
		return 0;
	}
	at = strchr(spec, '@');
	if (at == NULL || at == spec || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL) {
		*why = "not an address";
		return 0;
	}
	if ((size_t)(at - spec) > ADDR_LOCAL_MAX) {
		*why = "local part too long";
		return 0;
	}
	for (p = spec; p < at; p += k)
		if ((k = addr_char(p, (size_t)(at - p), flags)) == 0) {
			*why = flags & ADDR_ASCII ? "not a plain ASCII address" :
			    "not a plain address";
			return 0;
		}
	end = spec + n;
	for (p = at + 1; p < end; p += k) {
		k = 1;
		if (*p == '.') {
			if (label == 0)
				break;
			label = 0;
			continue;
		}
		if ((unsigned char)*p < 0x80) {
			if (!isalnum((unsigned char)*p) && *p != '-') {
				*why = "bad domain";
				return 0;
			}
		} else if ((k = addr_char(p, (size_t)(end - p), flags)) == 0) {
			*why = "bad domain";
			return 0;
		}
		label += k;
	}
	if (label == 0) {
		*why = "not an address";       /* "a@.x", "a@x..y", "a@x." */
		return 0;
	}
	return 1;
}

char *
addr_clean(const char *spec)
{
	char *s, *at;

	if (!addr_valid(spec, 0, NULL))
		return NULL;
	s = xstrdup(spec);
	for (at = strchr(s, '@'); *at; at++)
		*at = (char)tolower((unsigned char)*at);
	return s;
}

/* 1 when only blanks and comments (nested, with escapes) are left. */
static int
only_blank(const char *s, size_t i, size_t n)
{
	int depth = 0;

	for (; i < n; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (s[i] == '\\' && depth > 0 && i + 1 < n)
			i++;
		else if (depth == 0 && s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/*
 * A display name as libetpan gives it: already without its quotes and
 * escapes, except that it leaves them on a quoted string that holds an
 * encoded word ("=?utf-8?q?x?="); those come off here. Blanks at the ends
 * trimmed; NULL when nothing is left.
 */
static char *
unquote(const char *dn)
{
	char *o, *w;
	size_t n, k, j = 0;

	if (dn == NULL)
		return NULL;
	o = xstrdup(dn);
	n = strlen(o);
	if (n >= 2 && o[0] == '"' && o[n - 1] == '"') {
		for (k = 1; k + 1 < n; k++) {
			if (o[k] == '\\' && k + 2 < n)
				k++;
			o[j++] = o[k];
		}
		o[j] = '\0';
	}
	w = str_trim(o);
	if (*w == '\0') {
		free(o);
		return NULL;
	}
	memmove(o, w, strlen(w) + 1);
	return o;
}

static void
fill(struct addr *a, const struct mailimf_mailbox *mb)
{
	a->spec = addr_clean(mb->mb_addr_spec);
	a->name = a->spec ? unquote(mb->mb_display_name) : NULL;
}

/* Hostile text libetpan is never given: too long, or a NUL, CR or LF. */
static int
text_ok(const char *s, size_t n)
{
	return n <= ADDR_TEXT_MAX && memchr(s, '\0', n) == NULL &&
	    memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL;
}

int
addr_parse_one(const char *s, struct addr *a, const char **why)
{
	struct mailimf_mailbox *mb = NULL;
	const char *dummy;
	size_t n, idx = 0;

	if (why == NULL)
		why = &dummy;
	memset(a, 0, sizeof *a);
	if (s == NULL || *s == '\0') {
		*why = "no address";
		return -1;
	}
	n = strlen(s);
	if (!text_ok(s, n)) {
		*why = n > ADDR_TEXT_MAX ? "address too long" :
		    "line break in an address";
		return -1;
	}
	if (mailimf_mailbox_parse(s, n, &idx, &mb) != MAILIMF_NO_ERROR) {
		*why = "not an address";
		return -1;
	}
	if (!only_blank(s, idx, n)) {
		mailimf_mailbox_free(mb);
		*why = "text after the address";
		return -1;
	}
	if (!addr_valid(mb->mb_addr_spec, 0, why)) {
		mailimf_mailbox_free(mb);
		return -1;
	}
	fill(a, mb);
	mailimf_mailbox_free(mb);
	return 0;
}

const struct addr *
addr_parse_ours(const char *s)
{
	static char *text;
	static struct addr a;
	static int ok;

	if (s == NULL)
		return NULL;
	if (text == NULL || strcmp(text, s) != 0) {
		free(text);
		addr_free(&a);
		text = xstrdup(s);
		ok = addr_parse_one(s, &a, NULL) == 0;
	}
	return ok ? &a : NULL;
}

int
addr_parse_list(const char *s, size_t n, struct addr *first, int *count)
{
	struct mailimf_address_list *al = NULL;
	struct mailimf_mailbox *mb1 = NULL;
	clistiter *it, *jt;
	size_t idx = 0;
	int rc = 0;

	memset(first, 0, sizeof *first);
	*count = 0;
	if (n > ADDR_TEXT_MAX * 8 ||
	    mailimf_address_list_parse(s, n, &idx, &al) != MAILIMF_NO_ERROR)
		return -1;
	/* Text after the list ("<a@x> <b@y>", "a@x b@y") would be read
	 * otherwise by another program: then nobody in it is believed. */
	if (!only_blank(s, idx, n) || memchr(s, '\0', n) != NULL)
		rc = 1;
	for (it = clist_begin(al->ad_list); it; it = clist_next(it)) {
		struct mailimf_address *ad = clist_content(it);

		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			if (mb1 == NULL)
				mb1 = ad->ad_data.ad_mailbox;
			(*count)++;
		} else if (ad->ad_data.ad_group->grp_mb_list) {
			clist *l = ad->ad_data.ad_group->grp_mb_list->mb_list;

			for (jt = clist_begin(l); jt; jt = clist_next(jt)) {
				if (mb1 == NULL)
					mb1 = clist_content(jt);
				(*count)++;
			}
		}
	}
	if (mb1 && rc == 0)
		fill(first, mb1);
	mailimf_address_list_free(al);
	return rc;
}

char *
addr_parse_path(const char *s)
{
	const char *lt, *gt, *e;

	if (s == NULL)
		return NULL;
	if ((lt = strchr(s, '<')) != NULL) {
		s = lt + 1;
		gt = strchr(s, '>');
		e = gt ? gt : s + strlen(s);
	} else
		e = s + strlen(s);
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

void
addr_free(struct addr *a)
{
	free(a->spec);
	free(a->name);
	a->spec = a->name = NULL;
}

int
addr_same(const char *a, const char *b)
{
	return a && b && *a && strcasecmp(a, b) == 0;
}

/* The one list: local parts, whole, any case. */
static const struct {
	const char *local;
	enum addr_role role;
} roles[] = {
	{ "mailer-daemon", ADDR_DAEMON }, { "mailer_daemon", ADDR_DAEMON },
	{ "mailerdaemon", ADDR_DAEMON }, { "postmaster", ADDR_DAEMON },
	{ "nobody", ADDR_NOREPLY }, { "noreply", ADDR_NOREPLY },
	{ "no-reply", ADDR_NOREPLY }, { "no_reply", ADDR_NOREPLY },
	{ "donotreply", ADDR_NOREPLY }, { "do-not-reply", ADDR_NOREPLY },
	{ "do_not_reply", ADDR_NOREPLY }, { "bounce", ADDR_NOREPLY },
	{ "bounces", ADDR_NOREPLY }, { "root", ADDR_NOREPLY },
	{ "listserv", ADDR_LIST }, { "majordomo", ADDR_LIST },
};
/* and list addresses by their shape: owner-*, *-request, *-owner,
 * *-bounces */
static const char *const list_prefix[] = { "owner-", NULL };
static const char *const list_suffix[] = { "-request", "-owner", "-bounces",
    NULL };

enum addr_role
addr_role(const char *spec, const char **why)
{
	const char *dummy, *at;
	size_t llen, k;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (spec == NULL)
		return ADDR_PERSON;
	at = strrchr(spec, '@');
	llen = at ? (size_t)(at - spec) : strlen(spec);
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (strlen(roles[i].local) == llen &&
		    strncasecmp(spec, roles[i].local, llen) == 0) {
			*why = "a system or no-reply address";
			return roles[i].role;
		}
	for (size_t i = 0; list_prefix[i]; i++)
		if ((k = strlen(list_prefix[i])) < llen &&
		    strncasecmp(spec, list_prefix[i], k) == 0) {
			*why = "a mailing list address";
			return ADDR_LIST;
		}
	for (size_t i = 0; list_suffix[i]; i++)
		if ((k = strlen(list_suffix[i])) < llen &&
		    strncasecmp(spec + llen - k, list_suffix[i], k) == 0) {
			*why = "a mailing list address";
			return ADDR_LIST;
		}
	return ADDR_PERSON;
}
