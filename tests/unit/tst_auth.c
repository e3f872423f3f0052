/*
 * tst_auth.c - sender authentication from Authentication-Results: which
 * header counts, DKIM/SPF alignment, comments and quoted strings, forgeries;
 * the headers real programs write (tests/fixtures/authres), each with a
 * hostile envelope sender; every class of malformed header, refused whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "tfadesk/mime.h"
#include "tfadesk/authres.h"
#include "check.h"

#define ID "mx.500.uk.com"

/* Checks the outcome for a message from FROM with the given
 * Authentication-Results values, top first (NULL-terminated). */
static void
t(int line, int want, const char *why_has, const char *from,
    const char *const *ar)
{
	struct msg m;
	struct msg_header h[8];
	char why[256];
	size_t n = 0;
	int got;

	memset(&m, 0, sizeof m);
	h[n].name = UNCONST("Received");
	h[n++].value = UNCONST("from x by mx.500.uk.com");
	for (; ar && *ar && n < 7; ar++) {
		h[n].name = UNCONST(n % 2 ? "Authentication-Results" :
		    "authentication-results");
		h[n++].value = UNCONST(*ar);
	}
	m.headers = h;
	m.nheaders = n;
	m.from_addr = UNCONST(from);
	m.from_count = from ? 1 : 0;
	got = auth_check(&m, ID, why, sizeof why);
	CHECK(got == want, "line %d: got %d (%s), wanted %d", line, got, why,
	    want);
	CHECK(why_has == NULL || strstr(why, why_has) != NULL,
	    "line %d: reason \"%s\" lacks \"%s\"", line, why, why_has);
}
#define T(want, from, ...) do { \
	const char *const ar_[] = { __VA_ARGS__, NULL }; \
	t(__LINE__, want, NULL, from, ar_); \
} while (0)
/* Refused whole, and the reason says why ("does not parse: " WHY). */
#define BAD(why, ...) do { \
	const char *const ar_[] = { __VA_ARGS__, NULL }; \
	t(__LINE__, 0, "Authentication-Results from " ID " does not parse: " \
	    why, "noc@acme.example", ar_); \
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

/* Several results for one method: any aligned pass counts. */
static void
test_several(void)
{
	T(1, "noc@acme.example", ID "; dkim=pass header.d=esp.example; "
	    "dkim=pass header.d=acme.example");
	T(1, "noc@acme.example", ID "; dkim=pass header.d=acme.example; "
	    "dkim=pass header.d=esp.example");
	T(1, "noc@acme.example", ID "; dkim=fail header.d=acme.example; "
	    "dkim=pass header.d=acme.example");
	t(__LINE__, 0, "dkim passed for esp.example", "noc@acme.example",
	    (const char *const []){ ID "; dkim=fail header.d=acme.example; "
	    "dkim=pass header.d=esp.example", NULL });
	T(1, "noc@acme.example", ID "; spf=pass smtp.helo=mail.esp.example; "
	    "spf=pass smtp.mailfrom=acme.example");
	T(1, "noc@acme.example", ID "; spf=pass smtp.mailfrom=esp.example; "
	    "spf=pass smtp.mailfrom=acme.example");
	/* the same property in two results is no duplicate */
	T(1, "noc@acme.example", ID ";dkim=pass header.d=acme.example;"
	    "dkim=pass header.d=acme.example");
	t(__LINE__, 0, "reports no results", "noc@acme.example",
	    (const char *const []){ ID "; none", NULL });
	t(__LINE__, 0, "reports no results", "noc@acme.example",
	    (const char *const []){ ID " 1 (c) ;  none  (c)", NULL });
	/* a quoted value may hold anything; its domain is after the quote */
	t(__LINE__, 0, "spf passed for evil.example", "noc@acme.example",
	    (const char *const []){ ID "; spf=pass smtp.mailfrom=\"x) "
	    "smtp.mailfrom=noc@acme.example; dkim=pass header.d=acme.example "
	    "(x\"@evil.example", NULL });
	t(__LINE__, 0, "spf passed for evil.example", "noc@acme.example",
	    (const char *const []){ ID "; spf=pass smtp.mailfrom="
	    "\"noc@acme.example\"@evil.example", NULL });
	/* comments: nested, with quoted pairs, anywhere */
	T(1, "noc@acme.example", "(c) " ID " (a \\) b (c)) ; (x) dkim (x) = "
	    "(x) pass (x) header (x) . (x) d (x) = (x) acme.example (x)");
	T(1, "noc@acme.example", ID "; dkim=pass (a(b)c) header.d=acme.example "
	    "(x);spf=none (y)");
	T(1, "noc@acme.example", "\"" ID "\"; dkim=pass header.d=acme.example");
	T(1, "noc@acme.example", ID "; dkim=pass reason=\"a (b; c=d\" "
	    "header.d=acme.example");
	T(1, "noc@acme.example", ID "; spf=pass smtp.mailfrom="
	    "bounces+SRS=k3=x/y@acme.example");
}

/* Every class of malformed trusted header is refused whole, with the
 * fault and its offset, even where a good aligned pass is in it. */
static void
test_malformed(void)
{
	static char big[20000];

	/* unbalanced comment */
	BAD("unbalanced comment at offset 25",
	    ID "; dkim=pass (unclosed header.d=acme.example");
	BAD("unbalanced comment at offset 25",
	    ID "; dkim=pass (a (b) header.d=acme.example");
	BAD("unbalanced comment at offset 25",
	    ID "; dkim=pass (a \\) header.d=acme.example");
	BAD("')' outside a comment at offset 29",
	    ID "; spf=pass (x) y) smtp.mailfrom=acme.example");
	BAD("')' outside a comment at offset 57", ID "; dkim=pass "
	    "header.d=evil.example header.i=x) header.d=acme.example "
	    "(x@evil.example");
	/* unbalanced quote */
	BAD("unbalanced quote at offset 32",
	    ID "; dkim=pass reason=\"x header.d=acme.example");
	BAD("unbalanced quote at offset 38", ID "; spf=pass smtp.mailfrom="
	    "\"noc@acme.example; dkim=pass header.d=acme.example");
	/* a quote inside a comment, even escaped, even a genuine one */
	BAD("quote inside a comment at offset 35", ID "; spf=pass (domain of "
	    "\"a b\"@acme.example designates 192.0.2.1) "
	    "smtp.mailfrom=acme.example");
	BAD("quote inside a comment at offset 28",
	    ID "; spf=pass (a \\\"b) smtp.mailfrom=acme.example");
	BAD("quote inside a comment at offset 15",
	    ID " (\"x\") ; dkim=pass header.d=acme.example");
	/* a comment without a blank before or after it: how a HELO name or
	 * an address literal (no blanks, no quotes) would add a result */
	BAD("comment not preceded by a blank at offset 91", ID "; spf=pass "
	    "smtp.mailfrom=evil.example (client-ip=192.0.2.66; helo=x);"
	    "dkim=pass(c)header.d=acme.example(x; receiver=mx)");
	BAD("comment not followed by a blank at offset 28",
	    ID "; dkim=pass (c)header.d=acme.example");
	BAD("comment not preceded by a blank at offset 46",
	    ID "; dkim=pass header.d=acme.example(c)");
	/* a property given twice within one result */
	BAD("header.d given twice in one result at offset 47",
	    ID "; dkim=pass header.d=acme.example header.D=evil.example");
	BAD("smtp.mailfrom given twice in one result at offset 55", ID "; "
	    "spf=pass smtp.mailfrom=evil.example (x) smtp.mailfrom=acme.example");
	BAD("reason given twice in one result at offset 36",
	    ID "; dkim=fail reason=\"a\" reason=\"b\" header.d=acme.example");
	BAD("reason after the properties at offset 58",
	    ID "; dkim=pass header.d=acme.example header.s=a reason=b");
	/* text that belongs to no result */
	BAD("text that belongs to no result at offset 51",
	    ID "; dkim=pass header.d=acme.example (c) junk");
	BAD("text that belongs to no result at offset 14",
	    ID " junk; dkim=pass header.d=acme.example");
	BAD("text that belongs to no result at offset 15",
	    ID "; =pass; dkim=pass header.d=acme.example");
	BAD("text that belongs to no result at offset 57", ID "; spf=pass "
	    "smtp.mailfrom=\"noc@acme.example\" <x@evil.example>");
	BAD("a property without a type at offset 26",
	    ID "; dmarc=pass action=none header.from=acme.example");
	BAD("quote inside a value at offset 41",
	    ID "; spf=pass smtp.mailfrom=noc\"x\"@acme.example");
	BAD("more than one '@' in a value at offset 44",
	    ID "; spf=pass smtp.mailfrom=x@evil@acme.example");
	BAD("no value after '=' at offset 38",
	    ID "; spf=pass smtp.mailfrom=[192.0.2.1]");
	BAD("no '=' after the method at offset 20",
	    ID "; dkim pass header.d=acme.example");
	BAD("no method version after '/' at offset 20",
	    ID "; dkim/=pass header.d=acme.example");
	BAD("no result after '=' at offset 20", ID "; dkim=");
	BAD("no value after '=' at offset 35",
	    ID "; dkim=pass header.d= ; dkim=pass header.d=acme.example");
	BAD("'none' with other results at offset 15",
	    ID "; none; dkim=pass header.d=acme.example");
	/* empty */
	BAD("no results after the authserv-id at offset 13", ID);
	BAD("no results after the authserv-id at offset 17", ID " (c)");
	BAD("empty result at offset 14", ID ";");
	BAD("empty result at offset 14",
	    ID ";; dkim=pass header.d=acme.example");
	BAD("empty result at offset 49",
	    ID "; dkim=pass header.d=acme.example ; ");
	/* control characters, depth, length */
	BAD("control character at offset 27",
	    ID "; dkim=pass (a\001b) header.d=acme.example");
	BAD("comments nested too deeply at offset 33", ID "; dkim=pass "
	    "(((((((((x))))))))) header.d=acme.example");
	memset(big, 'x', sizeof big - 1);
	memcpy(big, ID "; dkim=pass header.d=acme.example (", 48);
	big[sizeof big - 2] = ')';
	BAD("longer than 16384 bytes", big);
	/* a header that does not say whose it is, is nobody's */
	t(__LINE__, 0, "no Authentication-Results from", "noc@acme.example",
	    (const char *const []){ "", NULL });
	t(__LINE__, 0, "no Authentication-Results from", "noc@acme.example",
	    (const char *const []){ "(" ID "; dkim=pass header.d=acme.example",
	    NULL });
	/* only the topmost of ours is read: a broken one is not skipped */
	BAD("unbalanced comment", ID "; dkim=pass (", ID "; dkim=pass "
	    "header.d=acme.example");
}

/* The headers real programs write, read from tests/fixtures/authres
 * through msg_parse, as tfadesk reads mail; each hostile variant has the
 * envelope sender "x) smtp.mailfrom=noc@acme.example; dkim=pass
 * header.d=acme.example (x"@evil.example wherever that program writes
 * sender-controlled text (see the folder's README). */
static void
test_vendors(void)
{
	static const struct {
		const char *file, *id;
		int want;
		const char *why;
	} v[] = {
		{ "opendkim", ID, 1, "dkim=pass for acme.example" },
		{ "opendkim-two-signatures", ID, 1,
		    "dkim=pass for acme.example" },
		{ "opendkim-fail", ID, 0, ID " reports dkim=fail "
		    "(acme.example), dkim-atps=neutral" },
		{ "opendkim-hostile", ID, 0, "dkim passed for evil.example" },
		{ "opendmarc", ID, 0, ID " reports dmarc=pass" },
		{ "opendmarc-spf", ID, 1, "spf=pass for acme.example" },
		{ "opendmarc-hostile", ID, 0, "spf passed for evil.example" },
		{ "policyd-spf", ID, 1, "spf=pass for acme.example" },
		{ "policyd-spf-softfail", ID, 0,
		    "reports spf=softfail (acme.example)" },
		{ "policyd-spf-hostile", ID, 0, "does not parse: quote inside "
		    "a comment at offset 136" },
		{ "policyd-spf-hostile-helo", ID, 0, "does not parse: comment "
		    "not preceded by a blank" },
		{ "policyd-spf-hostile-literal", ID, 0, "does not parse: "
		    "no value after '=' at offset 54" },
		{ "rspamd", ID, 1, "dkim=pass for acme.example" },
		{ "rspamd-hostile", ID, 0, "does not parse: quote inside a "
		    "comment at offset 61" },
		/* the price of refusing quotes in comments */
		{ "rspamd-dkim-fail", ID, 0, "quote inside a comment" },
		{ "rspamd-verp", ID, 0, "quote inside a comment" },
		{ "exim", ID, 1, "dkim=pass for acme.example" },
		{ "exim-hostile", ID, 0, "dkim passed for evil.example" },
		{ "gmail", "mx.google.com", 1, "dkim=pass for acme.example" },
		{ "gmail-hostile", "mx.google.com", 0, "does not parse: quote "
		    "inside a comment at offset 117" },
		/* Microsoft 365 writes no authserv-id: never ours */
		{ "m365", ID, 0, "no Authentication-Results from " ID },
		{ "m365-hostile", ID, 0, "no Authentication-Results from " ID },
	};
	const char *top = getenv("TOP");
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		char path[1024], why[256], *hdr = NULL, *raw;
		size_t len;
		struct msg *m;
		int got;

		snprintf(path, sizeof path, "%s/tests/fixtures/authres/%s.txt",
		    top && *top ? top : ".", v[i].file);
		if (read_file(path, 65536, &hdr, &len) == -1) {
			CHECK(0, "%s: cannot read", path);
			continue;
		}
		raw = xstrfmt("%sFrom: Acme NOC <noc@acme.example>\n"
		    "To: support@500.uk.com\nSubject: Missing mobile\n"
		    "Message-ID: <%s@test.example>\n\nUser ID: U2001\n", hdr,
		    v[i].file);
		m = msg_parse(raw, strlen(raw), NULL);
		CHECK(m != NULL && m->error == NULL, "%s: parse", v[i].file);
		if (m != NULL) {
			got = auth_check(m, v[i].id, why, sizeof why);
			CHECK(got == v[i].want, "%s: got %d (%s), wanted %d",
			    v[i].file, got, why, v[i].want);
			CHECK(strstr(why, v[i].why) != NULL,
			    "%s: reason \"%s\" lacks \"%s\"", v[i].file, why,
			    v[i].why);
			msg_free(m);
		}
		free(raw);
		free(hdr);
	}
}

static void
test_more(void)
{
	struct msg m;
	char why[256];
	struct msg_header h = { UNCONST("Authentication-Results"),
	    UNCONST(ID "; dkim=pass header.d=acme.example") };

	memset(&m, 0, sizeof m);
	m.headers = &h;
	m.nheaders = 1;
	m.from_addr = UNCONST("noc@acme.example");
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
	test_several();
	test_malformed();
	test_vendors();
	test_more();
	return DONE();
}
