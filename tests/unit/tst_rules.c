/*
 * tst_rules.c - rules/tickets.yaml: classification, extraction of users in
 * every layout, and bad rules files refused with rule and line named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "mail/mime.h"
#include "mail/rules.h"
#include "check.h"

static struct rules *R;

static void
mkmsg(struct msg *m, const char *subject, const char *body)
{
	memset(m, 0, sizeof *m);
	m->subject = (char *)subject;
	m->from_addr = (char *)"noc@acme.example";
	m->from_count = 1;
	m->new_text = (char *)body;
}

static enum rule_kind
kind_of(const char *subject, const char *body)
{
	struct msg m;
	struct rmatch rm;
	enum rule_kind k;

	mkmsg(&m, subject, body);
	rules_match(R, &m, &rm);
	k = rm.kind;
	rmatch_clear(&rm);
	return k;
}

/* Extracts and returns "user|name|mobile;..." for comparison. */
static char *
users_of(const char *subject, const char *body)
{
	struct msg m;
	struct rmatch rm;
	struct buf b;

	mkmsg(&m, subject, body);
	rules_match(R, &m, &rm);
	buf_init(&b);
	buf_adds(&b, "");
	for (size_t i = 0; i < rm.nentries; i++)
		buf_addf(&b, "%s%s|%s|%s", i ? ";" : "",
		    rm.entries[i].user_id ? rm.entries[i].user_id : "-",
		    rm.entries[i].name ? rm.entries[i].name : "-",
		    rm.entries[i].mobile ? rm.entries[i].mobile : "-");
	rmatch_clear(&rm);
	return buf_steal(&b);
}

static void
users_are(int line, const char *subject, const char *body, const char *want)
{
	char *got = users_of(subject, body);
	CHECK(strcmp(got, want) == 0, "line %d: got [%s], want [%s]", line,
	    got, want);
	free(got);
}
#define USERS(s, b, w) users_are(__LINE__, s, b, w)

static const char *const twofa_subjects[] = {
	"2FA Set Up", "2FA setup", "RE: 2FA Set Up", "2fa set-up request",
	"[Ticket #123] 2FA Set Up", "Fwd: 2FA Set Up for Acme Telecom",
	"Re: RE: 2FA set up", "2-FA Setup", "Please enable 2FA",
	"Two-factor authentication set up", "2FA SETUP", NULL
};
static const char *const staff_subjects[] = {
	"Invoice query", "Please disable 2FA", "2FA off please", "",
	"Question about SIP trunks", NULL
};

static void
test_kinds(void)
{
	for (int i = 0; twofa_subjects[i]; i++)
		CHECK(kind_of(twofa_subjects[i], "Please switch it on for R100.\n")
		    == RK_TWOFA_SETUP, "subject '%s' is twofa_setup",
		    twofa_subjects[i]);
	for (int i = 0; staff_subjects[i]; i++)
		CHECK(kind_of(staff_subjects[i], "Hello,\nA question.\n") ==
		    RK_STAFF, "subject '%s' is staff", staff_subjects[i]);
	CHECK(kind_of("Missing mobile number", "Hi\n") == RK_MISSING_NUMBER,
	    "missing number by subject");
	CHECK(kind_of("Hello", "User ID: U2001\nName: Bob Jones\n"
	    "Mobile: 07400 123456\n") == RK_MISSING_NUMBER,
	    "missing number by body");
	CHECK(kind_of("RE: 2FA Set Up", "U1002 Raj Patel +44 7400 123457\n")
	    == RK_MISSING_NUMBER, "reply with numbers to a 2FA set up");
	/* the number only in the signature: not a report */
	CHECK(kind_of("2FA Set Up", "Please enable 2FA for R100, users U1001 "
	    "and U1002.\n\nKind regards,\nJohn\nTel: 07400 999888\n") ==
	    RK_TWOFA_SETUP, "signature number does not make a report");
}

static void
test_extract(void)
{
	USERS("x", "User ID: U2001\nName: Bob Jones\nMobile: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "User ID: U2001\r\nName: Bob Jones\r\nMobile: 07400 123456\r\n",
	    "U2001|Bob Jones|07400 123456");
	/* two blocks, a label repeated starts the next */
	USERS("x", "Hello,\n\nUser ID: U2001\nName: Bob Jones\nMobile: 07400 "
	    "123456\n\nUser ID: U1002\nName: Raj Patel\nMobile: +44 7400 "
	    "123457\n", "U2001|Bob Jones|07400 123456;U1002|Raj Patel|+44 7400 "
	    "123457");
	USERS("x", "- User account ID: u2001\n- Full name: Jones, Bob\n- Mobile "
	    "number: 07400 123456 (mobile)\n", "U2001|Jones, Bob|07400 123456");
	/* several labels on one line */
	USERS("x", "User ID: U2001, Name: Bob Jones, Mobile: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	/* value on the next line */
	USERS("x", "User ID:\nU2001\nName:\nBob Jones\nMobile:\n07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	/* tables */
	USERS("x", "User ID,Name,Mobile\nU2001,Bob Jones,07400 123456\nU1002,"
	    "Raj Patel,07400 123457\n", "U2001|Bob Jones|07400 123456;U1002|"
	    "Raj Patel|07400 123457");
	USERS("x", "User ID\tName\tMobile\nU2001\tBob Jones\t07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "| User ID | Name | Mobile |\n|---|---|---|\n| U2001 | Bob "
	    "Jones | 07400 123456 |\n", "U2001|Bob Jones|07400 123456");
	USERS("x", "Please add these:\nUser ID | Name | Mobile number\n"
	    "U2001 | Bob Jones | 07400 123456\nU1002 | Raj Patel | 07400 123457\n"
	    "Thanks\n", "U2001|Bob Jones|07400 123456;U1002|Raj Patel|07400 "
	    "123457");
	USERS("x", "Name,User ID,Mobile\n\"Jones, Bob\",U2001,07400 123456\n",
	    "U2001|Jones, Bob|07400 123456");
	/* rows without a header */
	USERS("x", "U2001, Bob Jones, 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "U2001 | Bob Jones | 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	/* sentences */
	USERS("x", "Hi, please add 07400 123456 for Bob Jones, user U2001. "
	    "Thanks\n", "U2001|Bob Jones|07400 123456");
	USERS("x", "Could you set 07400 123456 for user U2001 (Bob Jones)?\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "U1002 Raj Patel +44 7400 123457\n",
	    "U1002|Raj Patel|+44 7400 123457");
	USERS("x", "Bob Jones (U2001): 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	/* the signature (after a sign-off) is never read */
	USERS("Missing mobile", "User ID: U2001\nName: Bob Jones\n\nKind regards,\nJohn "
	    "Smith\nMobile: 07400 999888\n", "U2001|Bob Jones|-");
	USERS("x", "Please add 07400 123456 for Bob Jones, user U2001\n"
	    "-----Original Message-----\nUser ID: U1002\nMobile: 07400 111222\n",
	    "U2001|Bob Jones|07400 123456");
	/* the same user twice with the same number: once */
	USERS("x", "User ID: U2001\nName: Bob Jones\nMobile: 07400 123456\n\n"
	    "Please add 07400 123456 for Bob Jones, user U2001\n",
	    "U2001|Bob Jones|07400 123456");
	/* hostile values stay values */
	USERS("x", "User ID: U2001'; DROP TABLE users;--\nName: Bob\" OR 1=1\n"
	    "Mobile: 07400 123456\n", "U2001'|Bob\" OR 1=1|07400 123456");
}

static void
test_accounts(void)
{
	struct msg m;
	struct rmatch rm;

	mkmsg(&m, "2FA Set Up for R100", "Please enable it on R100 and C200.\n");
	rules_match(R, &m, &rm);
	CHECK(rm.naccounts == 2 && strcmp(rm.accounts[0], "R100") == 0 &&
	    strcmp(rm.accounts[1], "C200") == 0, "accounts named");
	CHECK(rm.rule && strcmp(rm.rule, "twofa-setup") == 0 && rm.rule_line > 0,
	    "rule remembered with its line");
	rmatch_clear(&rm);
}

/* A hostile body must not run away (catastrophic backtracking is cut). */
static void
test_limits(void)
{
	size_t n = 60000;
	char *big = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 50 == 49 ? '\n' : (i % 3 ? '1' : ' ');
	big[n] = '\0';
	char *u = users_of("x", big);
	CHECK(u != NULL, "large body survives");
	free(u);
	free(big);
}

/* Random text made of the pieces the extractors look for: no crash, no
 * leak, every value clean (no control characters). */
static void
test_fuzz(void)
{
	static const char *const piece[] = {
		"User ID:", "Name:", "Mobile:", "Account:", " U2001", " R100",
		"07400 123456", "+44", "(0)", " | ", ",", "\t", "\n", "\r\n",
		"\n\n", "\"", "'", "Zoë", "Núñez", "\xe2\x80\xa2 ", "-", "please add ",
		" for ", " user ", "Kind regards,", "> ", "-- \n", ";", "(", ")",
		"\xc2\xa0", "\xf0\x9f\x98\x80", "User ID | Name | Mobile\n", "==",
	};
	unsigned x = 2463534242u;
	int bad = 0;

	for (int it = 0; it < 3000; it++) {
		struct buf b;
		struct msg m;
		struct rmatch rm;
		int n;

		buf_init(&b);
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n = (int)(x % 80);
		for (int k = 0; k < n; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf_adds(&b, piece[x % (sizeof piece / sizeof piece[0])]);
		}
		mkmsg(&m, "Missing mobile", b.s ? b.s : "");
		rules_match(R, &m, &rm);
		for (size_t i = 0; i < rm.nentries; i++) {
			const char *v[4] = { rm.entries[i].user_id,
			    rm.entries[i].name, rm.entries[i].mobile,
			    rm.entries[i].account_id };
			for (int f = 0; f < 4; f++)
				for (const char *p = v[f]; p && *p; p++)
					if ((unsigned char)*p < 0x20)
						bad++;
		}
		rmatch_clear(&rm);
		buf_free(&b);
	}
	CHECK(bad == 0, "fuzz: %d control characters in values", bad);
}

/* Bad rules files: refused, with the line and the rule named. */
static int
bad_file(const char *yaml, const char *want)
{
	char path[] = "/tmp/tst_rules.XXXXXX", errp[] = "/tmp/tst_rules_err.XXXXXX";
	int fd = mkstemp(path), efd = mkstemp(errp), saved = dup(2), ok;
	struct rules *r;
	char buf[4096];
	ssize_t got;

	if (write(fd, yaml, strlen(yaml)) < 0)
		return 0;
	close(fd);
	dup2(efd, 2);
	r = rules_load(path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(efd, 0, SEEK_SET);
	got = read(efd, buf, sizeof buf - 1);
	buf[got > 0 ? got : 0] = '\0';
	close(efd);
	unlink(path);
	unlink(errp);
	ok = r == NULL && strstr(buf, want) != NULL;
	if (!ok)
		fprintf(stderr, "wanted '%s' in:\n%s", want, buf);
	rules_free(r);
	return ok;
}

#define HEAD "fields:\n  user_id: 'U\\d+'\n  mobile: '[0-9 ]+'\n"

static void
test_bad(void)
{
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match:\n"
	    "      subject: '(unclosed'\n", ":8: rule a: match.subject: bad "
	    "pattern"), "bad pattern: rule and line");
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match:\n"
	    "      subject: x\n  - name: b\n    kind: twofa\n    match:\n"
	    "      body: y\n", ":10: rule b: kind: twofa is not"), "bad kind");
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match:\n"
	    "      subjekt: x\n", ":8: rule a: match: unknown field subjekt"),
	    "unknown field");
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match:\n"
	    "      subject: x\n  - name: a\n    kind: staff\n    match:\n"
	    "      subject: y\n", ":9: rule a: name already used by the rule "
	    "at line 5"), "duplicate name");
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n", ":5: rule "
	    "a: match: required"), "match required");
	CHECK(bad_file(HEAD "rules: []\n", ":4: rules: expected a non-empty"),
	    "no rules");
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match: "
	    "{subject: x}\n    extra: 1\n", ":8: rule a: unknown key extra"),
	    "unknown rule key");
	CHECK(bad_file(HEAD "sentences:\n  - '(?<mobile>\\d+)'\nrules:\n  - "
	    "name: a\n    kind: staff\n    match: {subject: x}\n", ":5: "
	    "sentences[0]: needs the groups"), "sentence groups");
	CHECK(bad_file(HEAD "sentences:\n  - '(?<phone>\\d+) (?<name>x)'\n"
	    "rules:\n  - name: a\n    kind: staff\n    match: {subject: x}\n",
	    "unknown group name (?<phone>)"), "unknown group");
	CHECK(bad_file("rules:\n  - name: a\n   kind: x\n", ":3:"),
	    "YAML syntax error with line");
	CHECK(bad_file("rules:\n  - name: a\n    kind: staff\n    match: "
	    "{subject: x}\n", "fields.user_id: required"), "shapes required");
	CHECK(bad_file(HEAD "bogus: 1\nrules:\n  - name: a\n    kind: staff\n"
	    "    match: {subject: x}\n", ":4: unknown key bogus"), "unknown top");
}

int
main(int argc, char **argv)
{
	const char *top = getenv("TOP");
	char *path = xprintf("%s/rules/tickets.yaml", top ? top : ".");

	(void)argc;
	log_init(argv[0], 0, 0);
	R = rules_load(path);
	CHECK(R != NULL, "rules/tickets.yaml loads");
	if (R == NULL)
		return DONE();
	test_kinds();
	test_extract();
	test_accounts();
	test_limits();
	test_fuzz();
	test_bad();
	rules_free(R);
	free(path);
	return DONE();
}
