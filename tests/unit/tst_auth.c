/*
 * tst_auth.c - sender authentication from Authentication-Results: which
 * header counts, DKIM/SPF alignment, comments and quoted strings, forgeries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "mail/mime.h"
#include "mail/auth.h"
#include "check.h"

#define ID "mx.500.uk.com"

/* Checks the outcome for a message from FROM with the given
 * Authentication-Results values, top first (NULL-terminated). */
static void
t(int line, int want, const char *from, const char *const *ar)
{
	struct msg m;
	struct msg_header h[8];
	char why[256];
	size_t n = 0;
	int got;

	memset(&m, 0, sizeof m);
	h[n].name = (char *)"Received";
	h[n++].value = (char *)"from x by mx.500.uk.com";
	for (; ar && *ar && n < 7; ar++) {
		h[n].name = (char *)(n % 2 ? "Authentication-Results" :
		    "authentication-results");
		h[n++].value = (char *)*ar;
	}
	m.headers = h;
	m.nheaders = n;
	m.from_addr = (char *)from;
	m.from_count = from ? 1 : 0;
	got = auth_check(&m, ID, why, sizeof why);
	CHECK(got == want, "line %d: got %d (%s), wanted %d", line, got, why,
	    want);
}
#define T(want, from, ...) do { \
	const char *const ar_[] = { __VA_ARGS__, NULL }; \
	t(__LINE__, want, from, ar_); \
} while (0)

static void
test_results(void)
{
	/* the ordinary passes */
	T(1, "noc@acme.example", ID "; dkim=pass header.d=acme.example");
	T(1, "noc@acme.example", ID "; spf=pass smtp.mailfrom=noc@acme.example");
	T(1, "noc@acme.example", ID "; spf=pass smtp.mailfrom=acme.example");
	T(1, "noc@acme.example", ID "; dkim=fail header.d=acme.example; "
	    "spf=pass smtp.mailfrom=bounce@acme.example");
	T(1, "noc@acme.example", ID " 1; dkim=pass header.i=@acme.example");
	T(1, "noc@acme.example", "MX.500.UK.COM; DKIM=Pass header.d=ACME.example");
	/* real-world shape: comments with ';' and '=', quoted b= */
	T(1, "noc@acme.example", ID "; dkim=pass (1024-bit key; unprotected) "
	    "header.d=acme.example header.i=@acme.example header.b=\"abc;d=x\"; "
	    "spf=pass (mx.500.uk.com: domain of noc@acme.example designates "
	    "192.0.2.1 as permitted sender) smtp.mailfrom=noc@acme.example");
	T(1, "noc@acme.example", ID "; dkim=pass header.b=Ab+/c= "
	    "header.d=acme.example");
	T(1, "noc@acme.example", ID " (our (nested) comment); dkim/1=pass "
	    "header.d=\"acme.example\"");
	/* subdomain of the signing domain: aligned */
	T(1, "noc@mail.acme.example", ID "; dkim=pass header.d=acme.example");
	/* not aligned */
	T(0, "noc@acme.example", ID "; dkim=pass header.d=mail.acme.example");
	T(0, "noc@acme.example", ID "; dkim=pass header.d=evil.example");
	T(0, "noc@acme.example", ID "; dkim=pass header.d=example");
	T(0, "noc@acme.example", ID "; dkim=pass header.d=notacme.example");
	T(0, "noc@acme.example", ID "; spf=pass smtp.mailfrom=x@evil.example");
	T(0, "noc@acme.example", ID "; spf=pass smtp.helo=acme.example");
	/* not pass */
	T(0, "noc@acme.example", ID "; dkim=fail header.d=acme.example");
	T(0, "noc@acme.example", ID "; dkim=neutral header.d=acme.example; "
	    "spf=softfail smtp.mailfrom=acme.example");
	T(0, "noc@acme.example", ID "; none");
	T(0, "noc@acme.example", ID);
	T(0, "noc@acme.example", ID "; dkim=passed header.d=acme.example");
	/* a pass inside a comment or a quoted string is no pass */
	T(0, "noc@acme.example", ID "; dkim=fail (dkim=pass header.d="
	    "acme.example) header.d=acme.example");
	T(0, "noc@acme.example", ID "; dkim=fail reason=\"x; dkim=pass "
	    "header.d=acme.example\"");
	T(0, "noc@acme.example", "mx.evil.example; dkim=pass header.d="
	    "acme.example (" ID "; dkim=pass header.d=acme.example)");
}

static void
test_which_header(void)
{
	/* none of ours */
	T(0, "noc@acme.example", "mx.evil.example; dkim=pass header.d=acme.example");
	T(0, "noc@acme.example", "mx.500.uk.com.evil.example; dkim=pass "
	    "header.d=acme.example");
	T(0, "noc@acme.example", "evil-mx.500.uk.com; dkim=pass "
	    "header.d=acme.example");
	T(0, "noc@acme.example", "500.uk.com; dkim=pass header.d=acme.example");
	/* a foreign header above ours does not matter */
	T(1, "noc@acme.example", "mx.evil.example; dkim=fail",
	    ID "; dkim=pass header.d=acme.example");
	T(0, "noc@acme.example", "mx.evil.example; dkim=pass header.d=acme.example",
	    ID "; dkim=fail header.d=acme.example");
	/* only the topmost of ours counts: one injected below is ignored */
	T(0, "noc@acme.example", ID "; dkim=none; spf=fail smtp.mailfrom="
	    "acme.example", ID "; dkim=pass header.d=acme.example");
	T(1, "noc@acme.example", ID "; dkim=pass header.d=acme.example",
	    ID "; dkim=fail header.d=acme.example");
	/* broken trusted header: read not at all */
	T(0, "noc@acme.example", ID "; dkim=\"pass header.d=acme.example");
	T(0, "noc@acme.example", ID "; =pass; dkim=pass header.d=acme.example");
	T(0, "noc@acme.example", ID "; foo; dkim=pass header.d=acme.example");
	/* no From, no headers */
	T(0, NULL, ID "; dkim=pass header.d=acme.example");
	T(0, "noc@acme.example", NULL);
}

static void
test_more(void)
{
	struct msg m;
	char why[256];
	struct msg_header h = { (char *)"Authentication-Results",
	    (char *)ID "; dkim=pass header.d=acme.example" };

	memset(&m, 0, sizeof m);
	m.headers = &h;
	m.nheaders = 1;
	m.from_addr = (char *)"noc@acme.example";
	m.from_count = 2;
	CHECK(auth_check(&m, ID, why, sizeof why) == 0 && strstr(why,
	    "more than one From"), "two From addresses: %s", why);
	m.from_count = 1;
	CHECK(auth_check(&m, "", why, sizeof why) == 0, "no authserv_id");
	CHECK(auth_check(&m, ID, why, sizeof why) == 1 && strstr(why,
	    "dkim=pass for acme.example"), "why says: %s", why);
	CHECK(auth_aligned("acme.example", "acme.example"), "same");
	CHECK(auth_aligned("a.b.acme.example", "acme.example"), "subdomain");
	CHECK(!auth_aligned("acme.example", "a.acme.example"), "parent");
	CHECK(!auth_aligned("acme.example", "example"), "tld");
	CHECK(!auth_aligned("acme.example", ".example"), "dot");
	CHECK(!auth_aligned("xacme.example", "acme.example"), "suffix only");
}

int
main(int argc, char **argv)
{
	(void)argc;
	log_init(argv[0], 0, 0);
	test_results();
	test_which_header();
	test_more();
	return DONE();
}
