/*
 * addr.h - the one home of e-mail addresses: parsing a mailbox or an
 * address list (RFC 5322, through libetpan's parser), the validity rule,
 * and the one list of role, no-reply and mailer-daemon addresses.
 *
 * Parsing works on the raw header text, before any RFC 2047 decoding: an
 * encoded word can never make a '<', ',' or '@'. The display name comes
 * back with its quotes and backslash escapes removed but its encoded
 * words still encoded; mime.c decodes it (hdr_value), once.
 */
#ifndef TFADESK_ADDR_H
#define TFADESK_ADDR_H

#include <stddef.h>

#define ADDR_MAX        254     /* octets of an address (RFC 5321) */
#define ADDR_LOCAL_MAX  64      /* octets of its local part */
#define ADDR_TEXT_MAX   998     /* octets of a header value parsed */

struct addr {
	char *spec;     /* local@domain, domain lower case; NULL: invalid */
	char *name;     /* display name or NULL; not decoded */
};

/* ADDR_ASCII: also only printable ASCII, and a domain of letters, digits,
 * '-' and '.' (what we write into a header or an SMTP envelope). */
#define ADDR_ASCII      0x1
/*
 * 1 when SPEC is an address we accept: one '@', a local part of 1-64
 * octets of atext and '.', a domain of 1 or more non-empty labels (letters,
 * digits, '-', or UTF-8 for IDN), at most 254 octets in all, valid UTF-8,
 * no control, space or special (quotes, comments, routes, literals).
 * Otherwise 0 and *WHY (if not NULL) says what is wrong.
 */
int addr_valid(const char *spec, int flags, const char **why);
/* SPEC checked (addr_valid, no flags) and copied with its domain in lower
 * case; NULL if it is not valid. Owned. */
char *addr_clean(const char *spec);

/*
 * Exactly one mailbox in S ("Name <a@b>", "\"Name, <x>\" <a@b>", "a@b",
 * "a@b (comment)"), nothing after it, at most ADDR_TEXT_MAX octets, no NUL,
 * CR or LF: 0 and *A filled (spec valid and cleaned), or -1 and *WHY.
 */
int addr_parse_one(const char *s, struct addr *a, const char **why);
/* addr_parse_one() of S, remembered until S changes: our own address
 * (reply.from) is asked about for every ticket and every reply. Borrowed;
 * NULL when S is not one mailbox. */
const struct addr *addr_parse_ours(const char *s);
/*
 * An address list of N bytes at S (a From or Reply-To value, unfolded).
 * *COUNT: the mailboxes in it (a group counts its members). Returns 0 and
 * the first mailbox in *FIRST (its spec NULL when that address is not
 * valid); 1 when something follows the list or a NUL is in it (then
 * nobody in it is believed: *FIRST stays empty); -1 when S is no list.
 */
int addr_parse_list(const char *s, size_t n, struct addr *first, int *count);
/* Return-Path: the address inside "<...>" (or the bare text), trimmed;
 * "" for the null path "<>". Owned. */
char *addr_parse_path(const char *s);
void addr_free(struct addr *);

/* The same address (case-insensitive: a loop guard errs on the safe side). */
int addr_same(const char *a, const char *b);

/* What a local part says the mailbox is: the one list. */
enum addr_role {
	ADDR_PERSON = 0,
	ADDR_DAEMON,    /* mailer-daemon, postmaster: bounces */
	ADDR_NOREPLY,   /* no-reply, nobody, root, ... */
	ADDR_LIST,      /* list software and list owners */
};
enum addr_role addr_role(const char *spec, const char **why);

#endif
