/* tst_reply.c - reply building without a database: header injection
 * (CR/LF and controls in subjects, display names and values), RFC 2047,
 * quoted-printable, masked numbers, recipients the loop rules refuse,
 * threading, and every shipped template. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "tmpl.h"
#include "tfadesk/mime.h"
#include "tfadesk/mail.h"
#include "tfadesk/reply-int.h"
#include "check.h"

static char tdir[] = "/tmp/tst_reply.XXXXXX";


static void
put(const char *name, const char *text)
{
	char *p = xstrfmt("%s/%s", tdir, name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	free(p);
}

static void
msg_init(struct msg *m)
{
	memset(m, 0, sizeof *m);
	m->message_id = UNCONST("orig.1@acme.example");
	m->subject = UNCONST("2FA Set Up");
	m->from_addr = UNCONST("noc@acme.example");
	m->from_name = UNCONST("Acme NOC");
}

/* The header block, unfolded, one header per line, "\n" separated. */
static char *
headers_of(const char *m)
{
	const char *end = strstr(m, "\r\n\r\n");
	struct buf b;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = m; p < end; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			if (p[2] == ' ' || p[2] == '\t') {
				p += 1;
				continue;
			}
			buf_addc(&b, '\n');
			p++;
			continue;
		}
		if (*p == '\r' || *p == '\n' || *p == '\0')
			buf_addc(&b, '#');      /* bare: must never happen */
		else
			buf_addc(&b, *p);
	}
	buf_addc(&b, '\n');
	return buf_steal(&b);
}

/* "\nName: value" of the unfolded header block, or NULL. */
static const char *
hdr(const char *h, const char *name)
{
	static char v[4096];
	char key[64];
	const char *p, *e;

	snprintf(key, sizeof key, "\n%s: ", name);
	if (strncmp(h, key + 1, strlen(key) - 1) == 0)
		p = h + strlen(key) - 1;
	else if ((p = strstr(h, key)) != NULL)
		p += strlen(key);
	else
		return NULL;
	e = strchr(p, '\n');
	snprintf(v, sizeof v, "%.*s", (int)(e - p), p);
	return v;
}

/* RFC 2047 B words decoded (enough for what reply.c writes). */
static char *
decode_ew(const char *v)
{
	struct buf b;
	const char *p = v, *s, *e;
	unsigned char bin[256];
	size_t n;
	int last_ew = 0;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0 &&
		    (e = strstr(p + 10, "?=")) != NULL) {
			s = p + 10;
			sodium_base642bin(bin, sizeof bin, s, (size_t)(e - s),
			    NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL);
			buf_add(&b, bin, n);
			p = e + 2;
			last_ew = 1;
			continue;
		}
		if (*p == ' ' && last_ew && strncmp(p + 1, "=?", 2) == 0) {
			p++;
			continue;
		}
		last_ew = 0;
		buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}

static char *
qp_decode(const char *body)
{
	struct buf b;
	const char *p = body;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			char h[3] = { p[1], p[2], 0 };
			buf_addc(&b, (int)strtol(h, NULL, 16));
			p += 3;
		} else
			buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}

/* Digits only: a number with any separators still shows up. */
static char *
digits(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (; *s; s++)
		if (isdigit((unsigned char)*s))
			buf_addc(&b, *s);
	return buf_steal(&b);
}

static void
check_lines(const char *m)
{
	const char *p = m, *e;
	int in_body = 0;

	for (; *p; p = e + 2) {
		e = strstr(p, "\r\n");
		if (e == NULL) {
			FAIL("message does not end in CRLF");
			return;
		}
		if (memchr(p, '\n', (size_t)(e - p)) ||
		    memchr(p, '\r', (size_t)(e - p)))
			FAIL("bare CR or LF");
		if (e == p)
			in_body = 1;
		if ((size_t)(e - p) > (in_body ? 76u : 998u))
			FAIL("line too long (%d): %.*s", (int)(e - p),
			    (int)(e - p), p);
		for (const char *q = p; q < e; q++)
			if ((unsigned char)*q >= 0x80)
				FAIL("8-bit byte in the message");
	}
}

static int
build(struct config *cfg, struct msg *m, const char *t, struct tv *v,
    struct reply_out *r, char **h)
{
	const char *why;
	int rc = reply_build(cfg, m, 7, t, v, r, &why);

	*h = rc == 0 ? headers_of(r->message) : NULL;
	if (rc == 0)
		check_lines(r->message);
	return rc;
}

int
main(void)
{
	struct config cfg;
	struct msg m;
	struct reply_out r;
	struct tv *v;
	char *h, *d, *body;
	const char *x, *why;
	int rc;

	if (sodium_init() < 0 || mkdtemp(tdir) == NULL)
		return 99;
	memset(&cfg, 0, sizeof cfg);
	cfg.reply.from = UNCONST("SIP Trunk Plus Support <support@500.uk.com>");
	cfg.templates = tdir;
	put("plain.txt", "Subject: {{re_subject}}\n\nHello {{name}},\n"
	    "{{#users}}\n- {{id}} {{phone_masked}} {{reason}}\n{{/users}}\n");
	put("nosubj.txt", "Hello {{name}}.\n");
	put("hsub.txt", "{{! a comment line }}\nSubject: Hi {{name}}\n"
	    "X-Note: {{name}}\n\nbody {{name}}\n");
	put("bcc.txt", "Bcc: {{name}}\n\nbody\n");
	put("bad.txt", "Subject: x\n\n{{#users}}\n");

	/* 1. a plain reply: recipient, threading, fixed headers */
	msg_init(&m);
	m.references = UNCONST("<root@acme.example> <mid@acme.example>");
	v = tv_new();
	tv_set(v, "name", "Jane");
	rc = build(&cfg, &m, "plain", v, &r, &h);
	if (rc != 0)
		FAIL("plain: rc %d", rc);
	else {
		if (!(x = hdr(h, "To")) || strcmp(x,
		    "Acme NOC <noc@acme.example>"))
			FAIL("To [%s]", x ? x : "");
		if (!(x = hdr(h, "From")) || strcmp(x,
		    "SIP Trunk Plus Support <support@500.uk.com>"))
			FAIL("From [%s]", x ? x : "");
		if (!(x = hdr(h, "Subject")) || strcmp(x, "Re: 2FA Set Up"))
			FAIL("Subject [%s]", x ? x : "");
		if (!(x = hdr(h, "In-Reply-To")) ||
		    strcmp(x, "<orig.1@acme.example>"))
			FAIL("In-Reply-To [%s]", x ? x : "");
		if (!(x = hdr(h, "References")) || strcmp(x,
		    "<root@acme.example> <mid@acme.example> "
		    "<orig.1@acme.example>"))
			FAIL("References [%s]", x ? x : "");
		if (!(x = hdr(h, "Auto-Submitted")) ||
		    strcmp(x, "auto-replied"))
			FAIL("Auto-Submitted");
		if (!hdr(h, "Date") || !hdr(h, "MIME-Version"))
			FAIL("Date/MIME-Version");
		if (!(x = hdr(h, "Content-Transfer-Encoding")) ||
		    strcmp(x, "7bit"))
			FAIL("CTE [%s]", x ? x : "");
		if (!(x = hdr(h, "Message-ID")) || x[0] != '<' ||
		    !strstr(x, "@500.uk.com>") || strchr(r.msgid, '<'))
			FAIL("Message-ID [%s]", x ? x : "");
		if (strcmp(r.rcpt, "noc@acme.example") ||
		    strcmp(r.mail_from, "support@500.uk.com"))
			FAIL("envelope %s %s", r.mail_from, r.rcpt);
		if (!strstr(r.message, "\r\n\r\nHello Jane,\r\n"))
			FAIL("body");
		/* a second reply gets another Message-ID */
		char *first = xstrdup(r.msgid);
		reply_out_clear(&r);
		free(h);
		build(&cfg, &m, "plain", v, &r, &h);
		if (strcmp(first, r.msgid) == 0)
			FAIL("Message-ID not unique");
		free(first);
	}
	reply_out_clear(&r);
	free(h);
	tv_free(v);

	/* 2. Reply-To wins over From */
	msg_init(&m);
	m.reply_to_addr = UNCONST("tickets@acme.example");
	rc = build(&cfg, &m, "plain", NULL, &r, &h);
	if (rc != 0 || strcmp(r.rcpt, "tickets@acme.example") ||
	    strcmp(hdr(h, "To"), "<tickets@acme.example>"))
		FAIL("Reply-To: rc %d", rc);
	reply_out_clear(&r);
	free(h);

	/* 3. recipients never answered: rc 1, nothing built */
	{
		static const char *const bad[] = { "", "MAILER-DAEMON@acme.example",
		    "postmaster@acme.example", "Support@500.UK.com",
		    "noreply@acme.example", "owner-list@acme.example",
		    "list-request@acme.example", "a@b\r\nBcc: c@d",
		    "a b@acme.example", "<a@acme.example>", "no-at-sign",
		    "a@acme.example,b@acme.example", NULL };
		for (int i = 0; bad[i]; i++) {
			msg_init(&m);
			m.from_addr = UNCONST(bad[i]);
			rc = reply_build(&cfg, &m, 7, "plain", NULL, &r, &why);
			if (rc != 1 || r.message)
				FAIL("recipient [%s] rc %d", bad[i], rc);
			reply_out_clear(&r);
		}
		msg_init(&m);
		m.from_addr = NULL;
		if (reply_build(&cfg, &m, 7, "plain", NULL, &r, &why) != 1)
			FAIL("no From");
		/* Reply-To pointing at a daemon is refused too */
		msg_init(&m);
		m.reply_to_addr = UNCONST("mailer-daemon@acme.example");
		if (reply_build(&cfg, &m, 7, "plain", NULL, &r, &why) != 1)
			FAIL("Reply-To daemon");
		/* RFC 3834: Auto-Submitted mail is never answered */
		struct msg_header hs[] = { { UNCONST("Auto-Submitted"),
		    UNCONST("auto-replied") } };
		msg_init(&m);
		m.headers = hs;
		m.nheaders = 1;
		if (reply_build(&cfg, &m, 7, "plain", NULL, &r, &why) != 1)
			FAIL("Auto-Submitted original answered");
		reply_out_clear(&r);
	}

	/* 4. header injection: subject, display name, values */
	msg_init(&m);
	m.subject = UNCONST("hello\r\nBcc: evil@x.example\r\n\r\nbody\x01\x1b[0m");
	m.from_name = UNCONST("Eve\r\nBcc: evil2@x.example");
	m.message_id = UNCONST("x>\r\nBcc: evil3@x.example");
	m.references = UNCONST("<ok@x.example> <bad\r\nBcc: e@x>");
	v = tv_new();
	tv_set(v, "name", "Bob\r\nBcc: evil4@x.example\nX-A: b\rX-B: c");
	rc = build(&cfg, &m, "hsub", v, &r, &h);
	if (rc != 0)
		FAIL("injection rc %d", rc);
	else {
		if (strstr(h, "\nBcc") || strncmp(h, "Bcc", 3) == 0 ||
		    strstr(h, "\nX-A:") || strstr(h, "\nX-B:") ||
		    strchr(h, '#'))
			FAIL("header injected:\n%s", h);
		if (!(x = hdr(h, "Subject")) || strcmp(x,
		    "Hi Bob Bcc: evil4@x.example X-A: b X-B: c"))
			FAIL("Subject [%s]", x ? x : "");
		if (!(x = hdr(h, "To")) || strcmp(x,
		    "\"Eve Bcc: evil2@x.example\" <noc@acme.example>"))
			FAIL("To [%s]", x ? x : "");
		if (hdr(h, "In-Reply-To"))
			FAIL("bad Message-ID repeated");
		if (!(x = hdr(h, "References")) ||
		    strcmp(x, "<ok@x.example>"))
			FAIL("References [%s]", x ? x : "");
	}
	reply_out_clear(&r);
	free(h);
	/* the original subject, with controls, in Re: */
	rc = build(&cfg, &m, "nosubj", v, &r, &h);
	if (rc != 0 || !(x = hdr(h, "Subject")) || strcmp(x,
	    "Re: hello Bcc: evil@x.example body [0m"))
		FAIL("Re: subject [%s]", rc ? "" : x);
	reply_out_clear(&r);
	free(h);
	tv_free(v);
	/* a template may not set addressing headers */
	if (reply_build(&cfg, &m, 7, "bcc", NULL, &r, &why) != -1)
		FAIL("Bcc from a template accepted");
	if (reply_build(&cfg, &m, 7, "bad", NULL, &r, &why) != -1)
		FAIL("broken template accepted");
	if (reply_build(&cfg, &m, 7, "../etc/passwd", NULL, &r, &why) != -1)
		FAIL("template path escape");
	if (reply_build(&cfg, &m, 7, "missing", NULL, &r, &why) != -1)
		FAIL("missing template");

	/* templates are kept between replies: an edit, a replaced file and a
	 * new file that comes first in the lookup are each seen at once */
	{
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
		char *pa = xstrfmt("%s/edited.txt", tdir);
		char *pn = xstrfmt("%s/edited.new", tdir);
		char *pb = xstrfmt("%s/edited", tdir);
		static const char *const want[] = { "first AAAA", "later BBBB",
		    "moved CCCC", "plain DDDD" };

		put("edited.txt", "Subject: s\n\nfirst AAAA\n");
		for (int i = 0; i < 4; i++) {
			if (i == 1) {           /* same size, another mtime */
				put("edited.txt", "Subject: s\n\nlater BBBB\n");
				ts[0].tv_sec = ts[1].tv_sec = 1000000100;
				utimensat(AT_FDCWD, pa, ts, 0);
			} else if (i == 2) {    /* same size and mtime, new file */
				put("edited.new", "Subject: s\n\nmoved CCCC\n");
				utimensat(AT_FDCWD, pn, ts, 0);
				rename(pn, pa);
			} else if (i == 3)      /* "edited" is tried first */
				put("edited", "Subject: s\n\nplain DDDD\n");
			for (int k = 0; k < 2; k++) {
				msg_init(&m);
				rc = reply_build(&cfg, &m, 7, "edited", NULL, &r,
				    &why);
				if (rc != 0 || strstr(r.message, want[i]) == NULL)
					FAIL("template cache: step %d: not \"%s\"",
					    i, want[i]);
				else
					CHECKED();
				reply_out_clear(&r);
			}
		}
		/* within a hold (one group of tickets) a name is looked up
		 * once: "edited" found, then an edit and a new "held" file
		 * are not seen until the hold ends; both are seen then */
		char *ph = xstrfmt("%s/held.txt", tdir);
		static const char *const hwant[] = { "plain DDDD", "plain DDDD",
		    "plain EEEE" };

		reply_hold(1);
		for (int i = 0; i < 3; i++) {
			if (i == 1) {
				put("edited", "Subject: s\n\nplain EEEE\n");
				ts[0].tv_sec = ts[1].tv_sec = 1000000200;
				utimensat(AT_FDCWD, pb, ts, 0);
				put("held.txt", "Subject: s\n\nheld FFFF\n");
			} else if (i == 2)
				reply_hold(0);
			msg_init(&m);
			rc = reply_build(&cfg, &m, 7, "edited", NULL, &r, &why);
			if (rc != 0 || strstr(r.message, hwant[i]) == NULL)
				FAIL("template hold: step %d: not \"%s\"", i,
				    hwant[i]);
			else
				CHECKED();
			reply_out_clear(&r);
			if (i == 0) {   /* missing now: stays so in the hold */
				unlink(ph);
				if (reply_build(&cfg, &m, 7, "held", NULL, &r,
				    &why) != -1)
					FAIL("template hold: held.txt found");
			}
			msg_init(&m);
			rc = reply_build(&cfg, &m, 7, "held", NULL, &r, &why);
			if ((i < 2 && rc != -1) || (i == 2 && (rc != 0 ||
			    strstr(r.message, "held FFFF") == NULL)))
				FAIL("template hold: step %d: held.txt %s", i,
				    i < 2 ? "seen in the hold" : "not seen after");
			else
				CHECKED();
			if (rc == 0)
				reply_out_clear(&r);
		}
		unlink(ph);
		free(ph);
		unlink(pb);
		unlink(pa);
		free(pa);
		free(pn);
		free(pb);
	}

	/* 5. template injection in values: literal text */
	msg_init(&m);
	m.subject = UNCONST("{{#users}}{{/users}}");
	v = tv_new();
	tv_set(v, "name", "{{#users}}x{{/users}}{{re_subject}}");
	rc = build(&cfg, &m, "hsub", v, &r, &h);
	if (rc != 0 || !strstr(r.message,
	    "body {{#users}}x{{/users}}{{re_subject}}\r\n") ||
	    !(x = hdr(h, "Subject")) ||
	    strcmp(x, "Hi {{#users}}x{{/users}}{{re_subject}}"))
		FAIL("template injection");
	reply_out_clear(&r);
	free(h);
	tv_free(v);

	/* 6. non-ASCII: RFC 2047 subject and display name, QP body */
	msg_init(&m);
	m.subject = UNCONST("Zwei-Faktor für Müller GmbH – bitte einschalten 😀 "
	    "and a long tail to force folding of the encoded words here");
	m.from_name = UNCONST("José Müller");
	v = tv_new();
	tv_set(v, "name", "Zoë Ñandú, a long line of text that will need "
	    "soft line breaks in quoted-printable = yes, é");
	rc = build(&cfg, &m, "plain", v, &r, &h);
	if (rc != 0)
		FAIL("utf8 rc %d", rc);
	else {
		x = hdr(h, "Subject");
		d = decode_ew(x ? x : "");
		if (!x || strncmp(x, "=?UTF-8?B?", 10) ||
		    strcmp(d, "Re: Zwei-Faktor für Müller GmbH – bitte "
		    "einschalten 😀 and a long tail to force folding of the "
		    "encoded words here"))
			FAIL("2047 subject [%s] -> [%s]", x ? x : "", d);
		free(d);
		x = hdr(h, "To");
		d = decode_ew(x ? x : "");
		if (strcmp(d, "José Müller <noc@acme.example>"))
			FAIL("2047 name [%s]", d);
		free(d);
		if (!(x = hdr(h, "Content-Transfer-Encoding")) ||
		    strcmp(x, "quoted-printable"))
			FAIL("no QP");
		body = qp_decode(strstr(r.message, "\r\n\r\n") + 4);
		if (!strstr(body, "Hello Zoë Ñandú, a long line of text that "
		    "will need soft line breaks in quoted-printable = yes, é,"
		    "\r\n"))
			FAIL("QP body [%s]", body);
		free(body);
	}
	reply_out_clear(&r);
	free(h);
	tv_free(v);

	/* 7. phone numbers: never in full, wherever they come from */
	msg_init(&m);
	m.subject = UNCONST("Number for U1002: +44 7890 123456");
	v = tv_new();
	tv_set(v, "name", "tel. 07890-123456 or (0)7890.123.456");
	{
		struct tv *u = tv_add(v, "users");
		tv_set(u, "id", "U1002");
		tv_set(u, "phone_masked", "447890123456");
		tv_set(u, "reason", "447890123456 is already stored");
	}
	tv_set(v, "note", "+447890123456");
	rc = build(&cfg, &m, "plain", v, &r, &h);
	if (rc != 0)
		FAIL("mask rc %d", rc);
	else {
		char *all = qp_decode(r.message);
		d = digits(all);
		if (strstr(d, "7890123456"))
			FAIL("a full number leaked:\n%s", all);
		if (!strstr(all, "4478******56") ||
		    !strstr(all, "U1002"))
			FAIL("masked number missing:\n%s", all);
		free(d);
		free(all);
	}
	reply_out_clear(&r);
	free(h);
	tv_free(v);
	d = mask_numbers("ticket 42, U1001, 2026, +44 (0)7400 123456.");
	if (strcmp(d, "ticket 42, U1001, 2026, +4407*******56."))
		FAIL("mask_numbers [%s]", d);
	free(d);

	/* 8. long References are bounded */
	{
		struct buf refs;
		buf_init(&refs);
		for (int i = 0; i < 300; i++)
			buf_addf(&refs, "<r%d@acme.example> ", i);
		msg_init(&m);
		m.references = refs.s;
		rc = build(&cfg, &m, "plain", NULL, &r, &h);
		x = rc == 0 ? hdr(h, "References") : NULL;
		if (!x || strncmp(x, "<r0@acme.example> ", 18) ||
		    !strstr(x, "<r299@acme.example> <orig.1@acme.example>") ||
		    strlen(x) > 20 * 25)
			FAIL("References bound [%s]", x ? x : "");
		reply_out_clear(&r);
		free(h);
		buf_free(&refs);
	}

	/* 9. the shipped templates, when run from the checkout */
	{
		const char *top = getenv("TOP");
		static const char *const names[] = { "twofa_enabled",
		    "twofa_already", "twofa_missing", "numbers_result",
		    "passed_to_staff", "staff_rejected", "sender_unknown",
		    "sender_unverified", NULL };
		char *dir = xstrfmt("%s/templates", top ? top : ".");
		struct stat st;

		if (stat(dir, &st) == 0) {
			cfg.templates = dir;
			for (int i = 0; names[i]; i++) {
				struct tv *u;
				msg_init(&m);
				v = tv_new();
				tv_set(v, "reseller_id", "R100");
				tv_set(v, "reseller_name", "Acme Telecom");
				tv_set(v, "reason", "the name does not match");
				u = tv_add(v, "users");
				tv_set(u, "id", "U1001");
				tv_set(u, "name", "Jane Smith");
				tv_set(u, "phone_masked", "4478******56");
				tv_set(u, "result", "registered");
				u = tv_add(v, "missing");
				tv_set(u, "id", "U1002");
				tv_set(u, "name", "Raj Patel");
				rc = build(&cfg, &m, names[i], v, &r, &h);
				if (rc != 0 || strstr(r.message, "{{") ||
				    !strstr(r.message, "ticket 7") ||
				    strcmp(hdr(h, "Subject"), "Re: 2FA Set Up"))
					FAIL("template %s rc %d", names[i], rc);
				/* an unauthenticated sender is never told why */
				if (rc == 0 && strcmp(names[i],
				    "sender_unverified") == 0 &&
				    (strstr(r.message, "does not match") ||
				    strstr(r.message, "R100")))
					FAIL("sender_unverified tells why:\n%s",
					    r.message);
				if (getenv("SHOW") && rc == 0)
					printf("---- %s\n%s", names[i],
					    r.message);
				reply_out_clear(&r);
				free(h);
				tv_free(v);
			}
		}
		free(dir);
	}

	{
		static const char *const fs[] = { "plain.txt", "nosubj.txt",
		    "hsub.txt", "bcc.txt", "bad.txt", NULL };
		for (int i = 0; fs[i]; i++) {
			char *p = xstrfmt("%s/%s", tdir, fs[i]);
			unlink(p);
			free(p);
		}
	}
	rmdir(tdir);

	/* Message-IDs: from a pool of random bytes, each byte used once;
	 * a child of fork starts with an empty pool, never its parent's */
	{
		enum { N = 200 };
		char *ids[N], *child, *parent;
		int fd[2], same = 0;
		ssize_t got;
		char cbuf[200];

		for (int i = 0; i < N; i++) {
			ids[i] = rfc5322_msgid(7, "500.uk.com");
			CHECK(strncmp(ids[i], "tfadesk.7.", 10) == 0 &&
			    strlen(ids[i]) == 10 + 32 + 11, "msgid %s", ids[i]);
		}
		for (int i = 0; i < N; i++)
			for (int k = i + 1; k < N; k++)
				same += strcmp(ids[i], ids[k]) == 0;
		CHECK(same == 0, "%d Message-IDs repeated among %d", same, N);
		for (int i = 0; i < N; i++)
			free(ids[i]);
		free(rfc5322_msgid(7, "x"));  /* the pool partly used */
		CHECK(pipe(fd) == 0, "pipe");
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			child = rfc5322_msgid(7, "x");
			(void)!write(fd[1], child, strlen(child));
			free(child);
			_exit(0);
		}
		close(fd[1]);
		parent = rfc5322_msgid(7, "x");
		got = read(fd[0], cbuf, sizeof cbuf - 1);
		close(fd[0]);
		waitpid(pid, NULL, 0);
		cbuf[got > 0 ? got : 0] = '\0';
		CHECK(got > 0 && strcmp(cbuf, parent) != 0,
		    "parent and child after fork: %s and %s", parent, cbuf);
		free(parent);
	}
	return DONE();
}
