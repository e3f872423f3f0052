/*
 * auth.h - is the From address authenticated? (RFC 8601
 * Authentication-Results, written by our own receiving host.)
 *
 * Only the topmost Authentication-Results header whose authserv-id equals
 * AUTHSERV_ID (compared without regard to ASCII case, as a domain name;
 * never a prefix or suffix match) is read: our MX prepends its header, so
 * anything with another authserv-id, and anything below the first trusted
 * header, may have been written by the sender and is ignored.
 *
 * The sender is authenticated when that header shows
 *   dkim=pass with header.d (else the domain of header.i) aligned, or
 *   spf=pass with the domain of smtp.mailfrom aligned
 * with the From domain. Aligned means: the same domain, or the From domain
 * is a subdomain of it (d=example.com covers From: noc@mail.example.com),
 * and it has at least two labels. This is stricter than DMARC's relaxed
 * mode (which also accepts a signing subdomain of the From domain) and
 * needs no public-suffix list: a pass for d=co.uk would need a key in
 * co.uk itself. Several results for one method are normal (two DKIM
 * signatures): any aligned pass counts.
 *
 * That header is read strictly (RFC 8601, see auth.c for the grammar) and
 * as a whole: comments (nested, with quoted pairs), quoted strings, method
 * versions ("dkim/1") and a version after the authserv-id are understood;
 * an unbalanced comment or quote, a '"' inside a comment (stricter than
 * RFC 5322, on purpose: receiving hosts copy the envelope sender into
 * comments), a property given twice within one result, text that belongs
 * to no result or an empty result makes it unreadable, and then nobody is
 * authenticated: the reason names the fault and its offset.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

struct msg;

/* 1 authenticated, 0 not; WHY (>= 128 bytes advisable) says what was
 * found, for the ticket's reason. */
int auth_check(const struct msg *, const char *authserv_id, char *why,
    size_t whylen);

/* 1 when DOMAIN is aligned with FROM_DOMAIN as described above. */
int auth_aligned(const char *from_domain, const char *domain);

/* Parses one header value. 0: its authserv-id is not AUTHSERV_ID (or it
 * names none). 1: it is, and it parses: *dkim_d / *spf_d (owned,
 * lowercased, NULL if none) are the first passing DKIM and SPF domains
 * that are aligned with FROM_DOMAIN, or else the first passing ones at
 * all; *summary (owned) lists every method=result. -1: it is ours but does
 * not parse; ERR says why and where ("quote inside a comment at offset
 * 57"), the out-parameters are NULL. */
int auth_parse(const char *value, const char *authserv_id,
    const char *from_domain, char **dkim_d, char **spf_d, char **summary,
    char *err, size_t errlen);

#endif
