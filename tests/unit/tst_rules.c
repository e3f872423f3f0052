/*
 * tst_rules.c - rules/tickets.yaml: classification, extraction of users in
 * every layout, and bad rules files refused with rule and line named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "tfadesk/mime.h"
#include "tfadesk/rules.h"
#include "check.h"

static struct rules *R;

static void
mkmsg(struct msg *m, const char *subject, const char *body)
{
	memset(m, 0, sizeof *m);
	m->subject = UNCONST(subject);
	m->from_addr = UNCONST("noc@acme.example");
	m->from_count = 1;
	m->new_text = UNCONST(body);
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

/* Extracts and returns "user|name|mobile;..." for comparison; a held
 * entry ends "|held", one read from a forwarded message "|fwd"; FWD is
 * the forwarded message's text (NULL: none). */
static char *
users_fwd(const char *subject, const char *body, const char *fwd)
{
	struct msg m;
	struct rmatch rm;
	struct buf b;

	mkmsg(&m, subject, body);
	m.fwd_text = UNCONST(fwd);
	rules_match(R, &m, &rm);
	buf_init(&b);
	buf_adds(&b, "");
	for (size_t i = 0; i < rm.nentries; i++)
		buf_addf(&b, "%s%s|%s|%s%s%s", i ? ";" : "",
		    rm.entries[i].user_id ? rm.entries[i].user_id : "-",
		    rm.entries[i].name ? rm.entries[i].name : "-",
		    rm.entries[i].mobile ? rm.entries[i].mobile : "-",
		    rm.entries[i].held ? "|held" : "",
		    rm.entries[i].forwarded ? "|fwd" : "");
	rmatch_clear(&rm);
	return buf_steal(&b);
}

static char *
users_of(const char *subject, const char *body)
{
	return users_fwd(subject, body, NULL);
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

static void
users_fwd_are(int line, const char *subject, const char *body,
    const char *fwd, const char *want)
{
	char *got = users_fwd(subject, body, fwd);
	CHECK(strcmp(got, want) == 0, "line %d: got [%s], want [%s]", line,
	    got, want);
	free(got);
}
#define USERS_FWD(s, b, f, w) users_fwd_are(__LINE__, s, b, f, w)

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

/* Label synonyms, in any order, any case, with ':' '-' '=' or a tab. */
static const char *const id_labels[] = {
	"User ID", "user id", "USER ID", "UserID", "User-ID", "User Id",
	"User account ID", "User account", "Account user ID", "Portal user ID",
	"User no.", "User number", "User ref", "ID", "Id", "Login", "Login ID",
	"User", "Username", "User name", "Account user", NULL
};
static const char *const name_labels[] = {
	"Name", "name", "NAME", "Full name", "User's name", "Contact name",
	"Name of user", NULL
};
static const char *const mobile_labels[] = {
	"Mobile", "Mob", "Cell", "Cell phone", "Cellphone", "Mobile phone",
	"Tel", "Telephone", "Phone", "Phone number", "Mobile number",
	"Mobile no.", "Mobile #", "Telephone number", "New mobile number",
	"Number", "2FA mobile", "SMS number", "MSISDN", NULL
};
static const char *const seps[] = { ": ", ":", " - ", " = ", "\t", " :\t",
	NULL };

static void
test_labels(void)
{
	char body[512];

	for (int i = 0; id_labels[i]; i++)
		for (int s = 0; seps[s]; s++) {
			snprintf(body, sizeof body, "%s%sU2001\nName: Bob Jones\n"
			    "Mobile: 07400 123456\n", id_labels[i], seps[s]);
			USERS("Missing mobile", body, "U2001|Bob Jones|07400 123456");
		}
	for (int i = 0; name_labels[i]; i++)
		for (int s = 0; seps[s]; s++) {
			snprintf(body, sizeof body, "User ID: U2001\n%s%sBob Jones\n"
			    "Mobile: 07400 123456\n", name_labels[i], seps[s]);
			USERS("Missing mobile", body, "U2001|Bob Jones|07400 123456");
		}
	for (int i = 0; mobile_labels[i]; i++)
		for (int s = 0; seps[s]; s++) {
			snprintf(body, sizeof body, "User ID: U2001\nName: Bob Jones\n"
			    "%s%s07400 123456\n", mobile_labels[i], seps[s]);
			USERS("Missing mobile", body, "U2001|Bob Jones|07400 123456");
		}
	/* abbreviations with a dot */
	USERS("x", "User ID: U2001\nName: Bob Jones\nMob. 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "User ID: U2001\nName: Bob Jones\nTel. +44 7400 123456\n",
	    "U2001|Bob Jones|+44 7400 123456");
}

/* Every order of the three fields, one user a block or one after the
 * other without blank lines. */
static void
test_orders(void)
{
	static const char *const f[3] = { "User ID", "Name", "Mobile" };
	static const int ord[6][3] = { {0,1,2}, {0,2,1}, {1,0,2}, {1,2,0},
	    {2,0,1}, {2,1,0} };
	const char *v1[3] = { "U2001", "Bob Jones", "07400 123456" };
	const char *v2[3] = { "U1002", "Raj Patel", "07400 123457" };

	for (int o = 0; o < 6; o++)
		for (int blank = 0; blank < 2; blank++) {
			char body[512], line[128];
			size_t n = 0;
			for (int u = 0; u < 2; u++) {
				for (int k = 0; k < 3; k++) {
					int x = ord[o][k];
					snprintf(line, sizeof line, "%s: %s\n", f[x],
					    u ? v2[x] : v1[x]);
					n += (size_t)snprintf(body + n, sizeof body - n, "%s",
					    line);
				}
				if (blank)
					n += (size_t)snprintf(body + n, sizeof body - n,
					    "\n");
			}
			USERS("Missing mobile", body, "U2001|Bob Jones|07400 123456;"
			    "U1002|Raj Patel|07400 123457");
		}
}

/* A shaped label is read by its value's shape (fields.user_id). */
static void
test_shapes(void)
{
	USERS("x", "User: U2001\nName: Bob Jones\nMobile: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "User: u2001\nName: Bob Jones\nMobile: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "ID: U2001\nUser: Bob Jones\nCell: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	USERS("x", "User: Bob Jones\nLogin: U2001\nCell: 07400 123456\n",
	    "U2001|Bob Jones|07400 123456");
	/* a name under a name label wins over one read by shape */
	USERS("x", "Username: bjones\nName: Bob Jones\nUser ID: U2001\n"
	    "Mobile: 07400 123456\n", "U2001|Bob Jones|07400 123456");
	USERS("x", "Name: Bob Jones\nUser: bjones\nUser ID: U2001\n"
	    "Mobile: 07400 123456\n", "U2001|Bob Jones|07400 123456");
	/* a login that is not shaped like a user ID is not read */
	USERS("Missing mobile", "Login: bjones\nName: Bob Jones\nMobile: 07400 123456\n",
	    "-|Bob Jones|07400 123456");
	/* "ID: C200" is an account ID, not a user */
	USERS("x", "ID: C200\nUser ID: U2001\nName: Bob Jones\nMobile: 07400 "
	    "123456\n", "U2001|Bob Jones|07400 123456");
	/* a user ID label is a user ID whatever its value */
	USERS("Missing mobile", "User ID: jones\nName: Bob Jones\nMobile: 07400 123456\n",
	    "jones|Bob Jones|07400 123456");
}

/* No guessing across users: a block giving a field twice is held. */
static void
test_held(void)
{
	USERS("x", "User ID: U2001\nName: Bob Jones\nMobile: 07400 123456\n"
	    "Mobile: 07400 654321\n", "U2001|Bob Jones|07400 123456|held");
	USERS("x", "User ID: U2001\nLogin: U2002\nName: Bob Jones\nMobile: "
	    "07400 123456\n", "U2001|Bob Jones|07400 123456|held");
	USERS("x", "User ID: U2001\nUser ID: U2002\nName: Bob Jones\nMobile: "
	    "07400 123456\n", "U2001|Bob Jones|07400 123456|held");
	USERS("x", "User ID: U2001\nName: Bob Jones\nName: Raj Patel\nMobile: "
	    "07400 123456\n", "U2001|Bob Jones|07400 123456|held");
	USERS("x", "User ID: U2001, Mobile: 07400 123456, Cell: 07400 111222\n"
	    "Name: Bob Jones\n", "U2001|Bob Jones|07400 123456|held");
	/* the field that opened a block, again once it has two fields,
	 * starts the next user: neither is complete, both go to staff */
	USERS("x", "Mobile: 07400 123456\nUser ID: U2001, Cell: 07400 111222\n"
	    "Name: Bob Jones\n", "U2001|-|07400 123456;-|Bob Jones|07400 111222");
	/* the same value twice is no conflict */
	USERS("x", "User ID: U2001\nLogin: u2001\nName: Bob Jones\nMobile: "
	    "07400 123456\nPhone: 07400-123-456\n",
	    "U2001|Bob Jones|07400 123456");
	/* blocks apart: each on its own, the held one alone held */
	USERS("x", "User ID: U2001\nName: Bob Jones\nMobile: 07400 123456\n\n"
	    "User ID: U1002\nName: Raj Patel\nMobile: 07400 123457\nTel: "
	    "07400 123458\n", "U2001|Bob Jones|07400 123456;U1002|Raj Patel|"
	    "07400 123457|held");
	/* a number alone in its block is not given to the next user */
	USERS("x", "User ID: U2001\nName: Bob Jones\n\nMobile: 07400 123456\n"
	    "Name: Raj Patel\n", "U2001|Bob Jones|-;-|Raj Patel|07400 123456");
}

/* A forwarded report: read only when the sender's own text asks to add or
 * register a number, and marked as forwarded. */
static void
test_forwarded(void)
{
	static const char *const fwd = "Hello,\n\nUser ID: U2001\nName: Bob "
	    "Jones\nMobile: 07400 123456\n\nThanks,\nMaria\nMob: 07400 999888\n";
	static const char *const asks[] = {
		"Please add the number below.", "Can you register this mobile "
		"please?", "Please add the mobile number for the user below",
		"Could you update the phone number as requested below, thanks",
		"Hi, please set up the mobile below.", "Please add these numbers.",
		"The mobile number below needs to be added.", NULL
	};
	static const char *const not_asks[] = {
		"FYI", "See below.", "Please have a look at this.",
		"Please do not add this number yet.", "Don't register these numbers.",
		"", "Please disable 2FA for them and add the numbers below.", NULL
	};
	struct msg m;
	struct rmatch rm;

	for (int i = 0; asks[i]; i++) {
		char *got = users_fwd("Fwd: Locked out", asks[i], fwd);
		CHECK(strcmp(got, "U2001|Bob Jones|07400 123456|fwd") == 0,
		    "'%s' reads the forward: [%s]", asks[i], got);
		free(got);
	}
	for (int i = 0; not_asks[i]; i++) {
		char *got = users_fwd("Fwd: Missing mobile number", not_asks[i],
		    fwd);
		CHECK(strcmp(got, "") == 0, "'%s' does not read the forward: [%s]",
		    not_asks[i], got);
		free(got);
	}
	/* the subject is the forwarded author's: it is not the request */
	USERS_FWD("Fwd: please add mobile number", "FYI", fwd, "");
	/* the sender's own users and the forwarded ones, each marked */
	USERS_FWD("Fwd: x", "Please add this number too:\nU1002 Raj Patel 07400 "
	    "123457", fwd, "U1002|Raj Patel|07400 123457;U2001|Bob Jones|"
	    "07400 123456|fwd");
	/* a forwarded 2FA set up under a number request: only numbers */
	mkmsg(&m, "Fwd: 2FA Set Up", "Please add the numbers below first.");
	m.fwd_text = UNCONST("Please switch on 2FA.\nUser ID: U1002\nName: Raj "
	    "Patel\nMobile: 07400 123457\n");
	rules_match(R, &m, &rm);
	CHECK(rm.kind == RK_MISSING_NUMBER && rm.forward_read && rm.nentries == 1,
	    "forwarded 2FA set up under a number request: missing_number");
	rmatch_clear(&rm);
	/* no request above a forwarded 2FA set up: still twofa_setup (and
	 * process sends it to staff) */
	mkmsg(&m, "Fwd: 2FA Set Up", "FYI");
	m.fwd_text = UNCONST("Please switch on 2FA.\n");
	rules_match(R, &m, &rm);
	CHECK(rm.kind == RK_TWOFA_SETUP && !rm.forward_read,
	    "forwarded 2FA set up alone: twofa_setup, forward not read");
	rmatch_clear(&rm);
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
		/* every other time as a forwarded report under a request */
		if (it % 2)
			mkmsg(&m, "Missing mobile", b.s ? b.s : "");
		else {
			mkmsg(&m, "Fwd: x", "Please add the numbers below.");
			m.fwd_text = b.s ? b.s : UNCONST("");
		}
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
	/* the one YAML loader: a key given twice is an error, not "the last
	 * one wins" (a second kind: silently turned a staff rule into 2FA) */
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match: "
	    "{subject: x}\n    kind: twofa_setup\n", ":8: kind: given twice "
	    "(first on line 6)"), "a rule key given twice");
	CHECK(bad_file(HEAD "max_users: 5\nrules:\n  - name: a\n    kind: staff"
	    "\n    match: {subject: x}\nmax_users: 500\n", ":9: max_users: "
	    "given twice (first on line 4)"), "a top key given twice");
	/* aliases: refused (a few lines must not name a huge tree) */
	CHECK(bad_file(HEAD "rules:\n  - name: a\n    kind: staff\n    match: "
	    "{subject: &s x}\n    unless: {subject: *s}\n", ":8: YAML alias *s: "
	    "not supported"), "an alias");
	/* every problem, then the count */
	CHECK(bad_file(HEAD "bogus: 1\nrules:\n  - name: a\n    kind: stuff\n"
	    "    match: {subject: x}\n", ":7: rule a: kind: stuff is not") &&
	    bad_file(HEAD "bogus: 1\nrules:\n  - name: a\n    kind: stuff\n"
	    "    match: {subject: x}\n", ": 2 errors\n"), "all problems, counted");
}

int
main(int argc, char **argv)
{
	const char *top = getenv("TOP");
	char *path = xstrfmt("%s/rules/tickets.yaml", top ? top : ".");

	(void)argc;
	log_init(argv[0], 0, 0);
	R = rules_load(path);
	CHECK(R != NULL, "rules/tickets.yaml loads");
	if (R == NULL)
		return DONE();
	test_kinds();
	test_extract();
	test_labels();
	test_orders();
	test_shapes();
	test_held();
	test_forwarded();
	test_accounts();
	test_limits();
	test_fuzz();
	test_bad();
	rules_free(R);
	free(path);
	return DONE();
}
