/* tst_addr.c - addresses (src/tfadesk/addr.c): one mailbox and address
 * lists parsed from hostile text, the validity rule and its bounds, the
 * null Return-Path, and the one role list. */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "tfadesk/addr.h"
#include "check.h"

/* addr_parse_one: SPEC NULL means refused. */
static const struct {
	const char *in, *spec, *name;
} one[] = {
	{ "ops@acme.example", "ops@acme.example", NULL },
	{ "Ops <ops@ACME.Example>", "ops@acme.example", "Ops" },
	{ "  Ops Team  <Ops@acme.example>  ", "Ops@acme.example", "Ops Team" },
	{ "\"Smith, John\" <js@acme.example>", "js@acme.example",
	  "Smith, John" },
	/* a quoted display name that looks like an address: the real one
	 * is in the angle brackets, whatever strchr/strrchr would say */
	{ "\"<evil@x.example>\" <ops@acme.example>", "ops@acme.example",
	  "<evil@x.example>" },
	{ "\"ops@acme.example <x>\" <evil@x.example>", "evil@x.example",
	  "ops@acme.example <x>" },
	{ "\"a \\\"quoted\\\" b\" <q@acme.example>", "q@acme.example",
	  "a \"quoted\" b" },
	{ "ops@acme.example (Ops desk)", "ops@acme.example", NULL },
	{ "(c) Ops <ops@acme.example> (trailing comment)", "ops@acme.example",
	  "(c) Ops" },                         /* libetpan keeps it */
	{ "\"=?UTF-8?Q?x?=\" <r@acme.example>", "r@acme.example",
	  "=?UTF-8?Q?x?=" },
	{ "=?UTF-8?Q?Ren=C3=A9?= <r@acme.example>", "r@acme.example",
	  "=?UTF-8?Q?Ren=C3=A9?=" },          /* decoded later, once */
	{ "=?UTF-8?Q?evil=40x.example?= <r@acme.example>", "r@acme.example",
	  "=?UTF-8?Q?evil=40x.example?=" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "j\xc3\xb6rg@b\xc3\xbc"
	  "cher.example", NULL },              /* UTF-8 local part, IDN */
	/* refused */
	{ "", NULL, NULL },
	{ "Ops", NULL, NULL },
	{ "<>", NULL, NULL },
	{ "a@x.example, b@y.example", NULL, NULL },      /* two */
	{ "<a@x.example> <b@y.example>", NULL, NULL },
	{ "a@x.example b@y.example", NULL, NULL },
	{ "Ops <ops@acme.example> junk", NULL, NULL },   /* trailing text */
	{ "Ops <ops@acme.example>>", NULL, NULL },
	{ "Ops <ops@acme.example", NULL, NULL },
	{ "ops@acme.example\r\nBcc: x@y.example", NULL, NULL },
	{ "ops@acme.example\nBcc: x@y.example", NULL, NULL },
	{ "\"noc@acme.example\"@evil.example", NULL, NULL },  /* quoted local */
	{ "a@b@c.example", NULL, NULL },
	{ "@acme.example", NULL, NULL },
	{ "ops@", NULL, NULL },
	{ "ops@.acme.example", NULL, NULL },
	{ "ops@acme..example", NULL, NULL },
	{ "ops@acme.example.", NULL, NULL },
	{ "ops@[192.0.2.1]", NULL, NULL },                 /* literal */
	{ "ops@acme_x.example", NULL, NULL },
	{ "@route:ops@acme.example", NULL, NULL },
	{ "<@route:ops@acme.example>", NULL, NULL },
	{ "Undisclosed:;", NULL, NULL },                    /* a group */
	{ "o\xe2\x80\xaeps@acme.example", NULL, NULL },     /* RLO */
	{ "o\xc2\x85ps@acme.example", NULL, NULL },         /* C1 NEL */
	{ "o\xc0\xafps@acme.example", NULL, NULL },         /* overlong */
	{ "ops@acme\xff.example", NULL, NULL },
};

int
main(void)
{
	struct addr a;
	char big[1200], *p;
	int count;
	const char *why;

	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
		int rc = addr_parse_one(one[i].in, &a, &why);
		if (one[i].spec == NULL) {
			CHECK(rc == -1, "one #%zu '%s' refused (got '%s')", i,
			    one[i].in, a.spec ? a.spec : "");
			continue;
		}
		CHECK(rc == 0 && a.spec && strcmp(a.spec, one[i].spec) == 0,
		    "one #%zu '%s': '%s' (%s)", i, one[i].in,
		    a.spec ? a.spec : "-", rc ? why : "");
		CHECK((one[i].name == NULL && a.name == NULL) ||
		    (one[i].name && a.name && strcmp(a.name, one[i].name) == 0),
		    "one #%zu name '%s'", i, a.name ? a.name : "(null)");
		addr_free(&a);
	}
	CHECK(addr_parse_one(NULL, &a, NULL) == -1, "NULL");

	/* a NUL inside: the text after it is never seen as the address */
	CHECK(addr_parse_list("a@x.example\0b@y.example", 23, &a, &count) ==
	    1 && a.spec == NULL, "list: NUL inside");

	/* bounds: 254 octets in all, 64 in the local part */
	memset(big, 'a', 64);
	strcpy(big + 64, "@x.example");
	CHECK(addr_valid(big, 0, NULL), "64-octet local part");
	memset(big, 'a', 65);
	strcpy(big + 65, "@x.example");
	CHECK(!addr_valid(big, 0, &why) && strcmp(why, "local part too long")
	    == 0, "65-octet local part");
	memcpy(big, "a@", 2);
	for (p = big + 2; p < big + 2 + 63 * 4; p += 63) {
		memset(p, 'b', 62);
		p[62] = '.';
	}
	strcpy(p, "ex");
	CHECK(strlen(big) == 256 && !addr_valid(big, 0, &why) &&
	    strcmp(why, "address too long") == 0, "256 octets");
	big[253] = 'c';
	big[254] = '\0';
	CHECK(addr_valid(big, 0, NULL), "254 octets");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[10] = '@';
	CHECK(addr_parse_one(big, &a, NULL) == -1, "1199 octets of text");

	/* ASCII only for what we write into headers and envelopes */
	CHECK(addr_valid("j\xc3\xb6rg@acme.example", 0, NULL) &&
	    !addr_valid("j\xc3\xb6rg@acme.example", ADDR_ASCII, NULL) &&
	    !addr_valid("jorg@b\xc3\xbc" "cher.example", ADDR_ASCII, NULL),
	    "UTF-8 valid, not ASCII");
	CHECK(!addr_valid("a\x7f@acme.example", 0, NULL), "DEL");
	CHECK(!addr_valid("a b@acme.example", 0, NULL), "space");

	/* lists: the count sees every mailbox, groups by their members */
	static const struct {
		const char *in;
		int rc, count;
		const char *first;
	} lists[] = {
		{ "a@x.example", 0, 1, "a@x.example" },
		{ "A <a@X.example>, b@y.example", 0, 2, "a@x.example" },
		{ "\"B, <b@y.example>\" <a@x.example>", 0, 1, "a@x.example" },
		{ "team: a@x.example, b@y.example;", 0, 2, "a@x.example" },
		{ "undisclosed-recipients:;", 0, 0, NULL },
		{ "<a@x.example> <b@y.example>", 1, 1, NULL },
		{ "a@x.example b@y.example", 0, 1, NULL },  /* one bad */
		{ "a@x.example (ok comment)", 0, 1, "a@x.example" },
		{ "\"no-address\"", 0, 1, NULL },
		{ ",,,", -1, 0, NULL },
		{ "\"q\"@x.example", 0, 1, NULL },   /* there, not believed */
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		int rc = addr_parse_list(lists[i].in, strlen(lists[i].in), &a,
		    &count);
		CHECK(rc == lists[i].rc, "list #%zu rc %d", i, rc);
		if (rc != -1)
			CHECK(count == lists[i].count, "list #%zu count %d", i,
			    count);
		CHECK((lists[i].first == NULL && a.spec == NULL) ||
		    (lists[i].first && a.spec &&
		    strcmp(a.spec, lists[i].first) == 0), "list #%zu first %s",
		    i, a.spec ? a.spec : "(null)");
		addr_free(&a);
	}

	/* Return-Path */
	static const char *const paths[][2] = {
		{ "<>", "" }, { " < > ", "" }, { "<b@x.example>", "b@x.example" },
		{ "b@x.example ", "b@x.example" }, { "<>  <evil@x.example>", "" },
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		p = addr_parse_path(paths[i][0]);
		CHECK(strcmp(p, paths[i][1]) == 0, "path #%zu '%s'", i, p);
		free(p);
	}

	/* the one role list */
	static const struct {
		const char *spec;
		enum addr_role role;
	} roles[] = {
		{ "MAILER-DAEMON@x.example", ADDR_DAEMON },
		{ "postmaster@x.example", ADDR_DAEMON },
		{ "Postmaster", ADDR_DAEMON },
		{ "no-reply@x.example", ADDR_NOREPLY },
		{ "DoNotReply@x.example", ADDR_NOREPLY },
		{ "root@x.example", ADDR_NOREPLY },
		{ "owner-ops@x.example", ADDR_LIST },
		{ "ops-request@x.example", ADDR_LIST },
		{ "ops-bounces@x.example", ADDR_LIST },
		{ "majordomo@x.example", ADDR_LIST },
		{ "alice@x.example", ADDR_PERSON },
		{ "postmasters@x.example", ADDR_PERSON },
		{ "-request@x.example", ADDR_PERSON },
		{ "noreply.alice@x.example", ADDR_PERSON },
	};
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		CHECK(addr_role(roles[i].spec, NULL) == roles[i].role,
		    "role '%s'", roles[i].spec);
	CHECK(addr_same("Ops@Acme.example", "ops@acme.example") &&
	    !addr_same("ops@acme.example", "ops@acme.example.") &&
	    !addr_same(NULL, "a@b") && !addr_same("", ""), "addr_same");
	p = addr_clean("Ops@ACME.Example");
	CHECK(p && strcmp(p, "Ops@acme.example") == 0, "clean");
	free(p);
	return DONE();
}
