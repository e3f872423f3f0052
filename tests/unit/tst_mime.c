/* tst_mime.c - the MIME module (src/tfadesk/mime.c, charset.c,
 * header.c, quoted.c, html.c, autoreply.c): a table
 * of fixture messages (the .eml files in tests/fixtures/mail, as Outlook, Gmail, Apple
 * Mail and Thunderbird write them) and inline messages with what must come
 * out; html_to_text and mime_message_id tables; every fixture truncated at
 * many offsets and mutated (speed is make bench's job, not a test's). One line per case; exit 1 on
 * any failure. */
#include <sys/mman.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tfadesk/html.h"
#include "mime_inv.h"
#include "check.h"

static char fixdir[4096];

struct tcase {
	const char *name;
	const char *file;		/* fixture, or NULL and RAW */
	const char *raw;
	const char *subject;		/* exact */
	const char *from_addr;		/* exact; "-" must be NULL */
	const char *from_name;
	const char *msgid;
	const char *return_path;
	const char *has[4];		/* new_text contains */
	const char *not[4];		/* new_text does not contain */
	const char *quoted;		/* quoted contains */
	const char *sig;		/* signature contains */
	const char *text;		/* whole text contains */
	const char *header[2];		/* msg_header(NAME) == VALUE */
	const char *fwd[2];		/* fwd_text contains ("" : is empty) */
	const char *fwd_not;		/* fwd_text does not contain */
	const char *fwd_subject;	/* exact */
	char err;			/* 'y' error set, default none */
	char html;			/* 'y', 'n' or don't care */
	const char *hidden;		/* html_hidden_style contains; "-": NULL */
	char autom;			/* 'y', 'n' or don't care */
	int from_count;
	struct msg_limits lim;		/* zero: NULL limits */
};

#define H "From: Jane Smith <noc@acme.example>\r\nTo: support@500.uk.com\r\n"

static const struct tcase tcases[] = {
	/* ---- fixtures ---- */
	{ .name = "outlook reply, QP windows-1252, From/Sent block",
	  .file = "outlook-reply-2fa.eml", .subject = "RE: 2FA Set Up",
	  .from_addr = "noc@acme.example", .from_name = "Jane Smith",
	  .msgid = "AM9PR03MB7012C6F0E4B5A1D2A3F4B5C6D7E8F9A0B1C2D@"
	  "AM9PR03MB7012.eurprd03.prod.outlook.com",
	  .return_path = "noc@acme.example",
	  .has = { "2FA switched on for our reseller account R100 \xE2\x80\x93",
	  "Jane Smith" }, .not = { "07400 555666", "Sent:" },
	  .quoted = "07400 555666", .html = 'n', .autom = 'n',
	  .header = { "Thread-Topic", "2FA Set Up" } },
	{ .name = "gmail alternative, wrapped attribution, > quotes",
	  .file = "gmail-missing-number.eml",
	  .subject = "Re: Login problem - missing mobile number",
	  .from_addr = "ravi@widgets.example", .from_name = "Ravi Kumar",
	  .has = { "User ID: U2001", "Name: Bob Jones",
	  "Mobile: 07400 123456" }, .not = { "999888", "wrote:" },
	  .quoted = "07400 999888", .html = 'n', .autom = 'n' },
	{ .name = "gmail HTML only, base64, table rows, gmail_quote",
	  .file = "gmail-html-only-table.eml",
	  .has = { "U2001 | Bob Jones | 07400 123456",
	  "U2002 | Am\xC3\xA9lie Dupont | 07400 654321", "Thanks & regards," },
	  .not = { "111222", "<div", "gmail_quote" }, .quoted = "> ",
	  .html = 'y', .hidden = "-" },
	{ .name = "apple mail, encoded subject, iPhone signature",
	  .file = "apple-mail-reply.eml", .subject = "Re: 2FA Set Up",
	  .has = { "go ahead with 2FA for R100. Jane\xE2\x80\x99s team" },
	  .not = { "222333", "iPhone" }, .quoted = "07400 222333",
	  .sig = "Sent from my iPhone", .html = 'n' },
	{ .name = "thunderbird latin1 8bit flowed, encoded From",
	  .file = "thunderbird-latin1-flowed.eml",
	  .subject = "R\xC3\xA9ponse: missing number",
	  .from_addr = "Jose.Muller@widgets.example",
	  .from_name = "Jos\xC3\xA9 M\xC3\xBCller",
	  .has = { "(Bob M\xC3\xBCller, caf\xC3\xA9 manager) the number is "
	  "07400 123456" }, .not = { "Which user" },
	  .sig = "Jos\xC3\xA9 M\xC3\xBCller", .quoted = "Which user" },
	{ .name = "outlook HTML only cp1252, table of MsoNormal cells",
	  .file = "outlook-html-only-1252.eml",
	  .from_name = "Fran\xC3\xA7ois Dupont",
	  .has = { "U2001 | Bob Jones | 07400 123456",
	  "can\xE2\x80\x99t log in", "Fran\xC3\xA7ois & team \xE2\x9C\x93" },
	  .not = { "SCRIPTTEXT", "ignored title", "MsoNormal", "&nbsp;" },
	  .html = 'y', .hidden = "style display:none" },
	{ .name = "encoded words split across folds and inside a character",
	  .file = "encoded-subject-split.eml",
	  .subject = "RE: 2FA Set Up \xE2\x80\x93 caf\xC3\xA9",
	  .from_name = "Jos\xC3\xA9 Garc\xC3\xAD" "a" },
	{ .name = "gmail inline forward", .file = "gmail-forward.eml",
	  .has = { "Please see below" }, .not = { "765432" },
	  .quoted = "07400 765432" },
	{ .name = "forward as attachment (message/rfc822)",
	  .file = "forward-as-attachment.eml",
	  .has = { "See the attached request." }, .not = { "765432" },
	  .quoted = "My mobile is 07400 765432",
	  .fwd = { "My mobile is 07400 765432" }, .fwd_not = "From:" },
	/* ---- the header block as our scan reads it, for libetpan too:
	 * a line no header parser accepts (an mbox "From " line, a name
	 * with a space) must not end it there and turn the headers that
	 * follow into the body's text ---- */
	{ .name = "mbox From line first, then the headers",
	  .raw = "From noc@acme.example Mon Nov 23 08:00:00 2026\r\n" H
	  "Subject: Locked out\r\nMIME-Version: 1.0\r\nContent-Type: "
	  "text/html; charset=utf-8\r\nX-Note: User ID U9999 Mobile 07400 "
	  "000111\r\n\r\n<p>User ID: U2001<br>Mobile: 07400 123456</p>\r\n",
	  .subject = "Locked out", .from_addr = "noc@acme.example",
	  .has = { "User ID: U2001", "Mobile: 07400 123456" },
	  .not = { "U9999", "Content-Type", "<p>", "Subject:" }, .html = 'y' },
	{ .name = "a header line libetpan refuses, then Content-Type",
	  .raw = H "Subject: Locked out\r\nX-Bad Header : odd\r\n"
	  "Content-Type: text/plain; format=flowed\r\nX-Note: U9999\r\n"
	  "\r\nUser ID: U2001 \r\nMobile: 07400 123456\r\n",
	  .has = { "User ID: U2001 Mobile: 07400 123456" },
	  .not = { "U9999", "Content-Type", "X-Bad" }, .html = 'n' },
	/* ---- forwarded messages: the forward's own new text ---- */
	{ .name = "gmail forward",
	  .raw = H "Subject: Fwd: Missing mobile\r\n\r\nPlease add the number "
	  "below.\r\n\r\n---------- Forwarded message ---------\r\nFrom: "
	  "Maria <maria@widget.example>\r\nDate: Mon, 23 Nov 2026 at 08:00\r\n"
	  "Subject: Missing mobile\r\nTo: <noc@acme.example>\r\n\r\n\r\n"
	  "User ID: U2001\r\nMobile: 07400 123456\r\n\r\nThanks,\r\nMaria\r\n"
	  "-- \r\nMaria, Widget Ltd, Mob: 07400 999888\r\n",
	  .has = { "Please add the number below." }, .not = { "U2001" },
	  .fwd = { "User ID: U2001\nMobile: 07400 123456" }, .fwd_not = "999888",
	  .fwd_subject = "Missing mobile" },
	{ .name = "apple mail forward, quoted body",
	  .raw = H "Subject: Fwd: Locked out\r\n\r\nCan you add this mobile "
	  "please?\r\n\r\nBegin forwarded message:\r\n\r\n> From: Bob Jones "
	  "<bob@widget.example>\r\n> Subject: Locked out\r\n> Date: 23 "
	  "November 2026 at 08:00:00 GMT\r\n> To: noc@acme.example\r\n> \r\n"
	  "> User: U2001\r\n> Cell: 07400 123456\r\n",
	  .has = { "Can you add this mobile" }, .not = { "U2001" },
	  .fwd = { "User: U2001\nCell: 07400 123456" }, .fwd_not = "> ",
	  .fwd_subject = "Locked out" },
	{ .name = "outlook forward, Original Message and FW subject",
	  .raw = H "Subject: FW: Missing mobile\r\n\r\nPlease register the "
	  "mobile below.\r\n\r\n-----Original Message-----\r\nFrom: Maria "
	  "<maria@widget.example> \r\nSent: Monday, November 23, 2026 8:00 AM"
	  "\r\nTo: noc@acme.example\r\nSubject: Missing mobile\r\n\r\n"
	  "Login: U2001\r\nTel: 07400 123456\r\n",
	  .has = { "Please register" }, .not = { "U2001" },
	  .fwd = { "Login: U2001" }, .fwd_subject = "Missing mobile" },
	{ .name = "thunderbird inline forward, tabbed header",
	  .raw = H "Subject: Fwd: Locked out\r\n\r\nPlease add.\r\n\r\n\r\n"
	  "-------- Forwarded Message --------\r\nSubject: \tLocked out\r\n"
	  "Date: \tTue, 24 Nov 2026 09:58:10 +0000\r\nFrom: \tBob Jones "
	  "<bob@widget.example>\r\nTo: \tJohn <noc@acme.example>\r\n\r\n\r\n"
	  "\r\nUser ID: U2001\r\n",
	  .fwd = { "User ID: U2001" }, .fwd_not = "Date:",
	  .fwd_subject = "Locked out" },
	{ .name = "outlook web forward, rule line",
	  .raw = H "Subject: FW: Missing mobile\r\n\r\nPlease add.\r\n\r\n"
	  "________________________________\r\nFrom: Maria <maria@widget."
	  "example>\r\nSent: 23 November 2026 08:00\r\nTo: Acme NOC "
	  "<noc@acme.example>\r\nSubject: Missing mobile\r\n\r\nID: U2001"
	  "\r\n\r\nFrom: Maria\r\n",
	  .fwd = { "ID: U2001" }, .fwd_subject = "Missing mobile" },
	{ .name = "outlook reply is not a forward",
	  .raw = H "Subject: RE: Missing mobile\r\n\r\nPlease add.\r\n\r\n"
	  "-----Original Message-----\r\nFrom: Maria <maria@widget.example>"
	  "\r\nSent: 23 November 2026 08:00\r\nTo: noc@acme.example\r\n"
	  "Subject: Missing mobile\r\n\r\nID: U2001\r\n",
	  .quoted = "ID: U2001", .fwd = { "" } },
	{ .name = "a reply attribution is not a forward",
	  .raw = H "Subject: Re: x\r\n\r\nPlease add.\r\n\r\nOn Mon, 23 Nov "
	  "2026, Maria <m@widget.example> wrote:\r\n> ID: U2001\r\n",
	  .quoted = "ID: U2001", .fwd = { "" } },
	{ .name = "forward in a forward: the first one's own text",
	  .raw = H "Subject: Fwd: Fwd: x\r\n\r\nPlease add.\r\n\r\n"
	  "---------- Forwarded message ---------\r\nFrom: A <a@a.example>\r\n"
	  "Subject: Fwd: x\r\n\r\nMiddle text\r\n\r\n---------- Forwarded "
	  "message ---------\r\nFrom: B <b@b.example>\r\nSubject: x\r\n\r\n"
	  "ID: U2001\r\n",
	  .fwd = { "Middle text" }, .fwd_not = "U2001", .fwd_subject = "Fwd: x" },
	{ .name = "attachments are not text", .file = "attachment-mixed.eml",
	  .has = { "Please find the users list attached." },
	  .not = { "SECRET-ATTACHMENT", "PDF", "iVBOR" } },
	{ .name = "DSN bounce", .file = "dsn-bounce.eml", .return_path = "",
	  .autom = 'y', .from_addr = "MAILER-DAEMON@mx.500.uk.com" },
	{ .name = "outlook auto-reply", .file = "outlook-auto-reply.eml",
	  .autom = 'y' },
	{ .name = "vacation with X-Autoreply", .file = "vacation-x-autoreply.eml",
	  .autom = 'y' },
	{ .name = "list mail", .file = "list-mail.eml", .autom = 'y' },
	{ .name = "missing end boundary", .file = "malformed-no-end-boundary.eml",
	  .has = { "User ID: U2001, mobile 07400 123456." }, .not = { "AAEC" } },
	{ .name = "bad base64", .file = "malformed-bad-base64.eml", .err = 'y' },
	{ .name = "garbage charset falls back to windows-1252",
	  .file = "malformed-garbage-charset.eml",
	  .subject = "caf\xC3\xA9 ticket",
	  .has = { "The caf\xC3\xA9 user U2001 \xE2\x80\x93 number 07400 123456." } },
	{ .name = "deep nesting", .file = "malformed-deep-nesting.eml", .err = 'y',
	  .not = { "innermost" } },
	{ .name = "1000 parts", .file = "malformed-1000-parts.eml", .err = 'y' },
	{ .name = "invalid UTF-8 replaced", .file = "malformed-invalid-utf8.eml",
	  .has = { "User U2001 \xEF\xBF\xBD(", "ok done" } },
	{ .name = "thunderbird HTML reply, blockquote cite, moz-signature",
	  .file = "thunderbird-html-reply.eml",
	  .has = { "Confirmed, please enable 2FA." }, .not = { "333444" },
	  .quoted = "> Bob Jones has 07400 333444", .sig = "Ravi Kumar",
	  .html = 'y', .hidden = "-" },
	{ .name = "koi8-r through iconv", .file = "koi8r-qp.eml",
	  .subject = "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
	  .has = { "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, U2001" } },
	{ .name = "outlook web, underscore separator, Get Outlook sig",
	  .file = "outlook-web-underscore.eml",
	  .has = { "Done \xE2\x80\x93 all numbers are in." },
	  .not = { "999000", "Outlook" }, .quoted = "U1002 Raj Patel",
	  .sig = "Get Outlook for iOS" },
	{ .name = "apple mail french \"a \xC3\xA9" "crit\"",
	  .file = "apple-mail-french.eml",
	  .subject = "Re\xC2\xA0: 2FA Set Up",
	  .has = { "merci d\xE2\x80\x99" "activer la 2FA" },
	  .not = { "888777", "crit" }, .quoted = "888777" },

	/* ---- subjects ---- */
	{ .name = "subject base64", .raw = H "Subject: =?UTF-8?B?UkU6IDJGQSBTZXQgVXA=?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject base64 without padding",
	  .raw = H "Subject: =?utf-8?b?UkU6IDJGQSBTZXQgVXA?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject plain folded", .raw = H "Subject: RE:\r\n 2FA\r\n\tSet Up\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject mixed words",
	  .raw = H "Subject: =?utf-8?q?RE:?= 2FA =?utf-8?q?Set_Up?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject iso-8859-1 Q", .raw = H "Subject: =?iso-8859-1?q?RE=3A_2FA_Set_Up?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject windows-1252 dash",
	  .raw = H "Subject: =?windows-1252?Q?RE:_2FA_Set_Up_=96_R100?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up \xE2\x80\x93 R100" },
	{ .name = "subject words with no space between",
	  .raw = H "Subject: =?utf-8?Q?RE:_2FA?==?utf-8?Q?_Set_Up?=\r\n\r\nx\r\n",
	  .subject = "RE: 2FA Set Up" },
	{ .name = "subject RFC 2231 language tag",
	  .raw = H "Subject: =?UTF-8*en?Q?2FA_Set_Up?=\r\n\r\nx\r\n",
	  .subject = "2FA Set Up" },
	{ .name = "subject encoded CRLF cannot inject a header",
	  .raw = H "Subject: =?utf-8?Q?RE:=0D=0ABcc:_x@evil.example=00?=\r\n\r\nx\r\n",
	  .subject = "RE: Bcc: x@evil.example" },
	{ .name = "subject unterminated encoded word is literal",
	  .raw = H "Subject: =?utf-8?Q?abc\r\n\r\nx\r\n", .subject = "=?utf-8?Q?abc" },
	{ .name = "subject raw 8-bit UTF-8", .raw = H "Subject: Caf\xC3\xA9\r\n\r\nx\r\n",
	  .subject = "Caf\xC3\xA9" },
	{ .name = "subject raw latin1", .raw = H "Subject: Caf\xE9\r\n\r\nx\r\n",
	  .subject = "Caf\xC3\xA9" },
	{ .name = "no subject", .raw = H "\r\nbody\r\n", .subject = "",
	  .has = { "body" } },

	/* ---- addresses ---- */
	{ .name = "from quoted name with comma",
	  .raw = "From: \"Smith, Jane\" <Jane@ACME.Example>\r\n\r\nx\r\n",
	  .from_addr = "Jane@acme.example", .from_name = "Smith, Jane" },
	{ .name = "from encoded name in quotes",
	  .raw = "From: \"=?utf-8?Q?J=C3=B6rg?=\" <j@x.example>\r\n\r\nx\r\n",
	  .from_addr = "j@x.example", .from_name = "J\xC3\xB6rg" },
	{ .name = "from bare address with comment",
	  .raw = "From: jane@acme.example (Jane)\r\n\r\nx\r\n",
	  .from_addr = "jane@acme.example" },
	{ .name = "from two mailboxes", .raw = "From: a@x.example, b@y.example\r\n\r\nx\r\n",
	  .from_addr = "a@x.example", .from_count = 2 },
	{ .name = "from unparsable", .raw = "From: Jane Smith\r\n\r\nx\r\n",
	  .from_addr = "-" },
	{ .name = "from folded", .raw = "From: Jane Smith\r\n <jane@acme.example>\r\n\r\nx\r\n",
	  .from_addr = "jane@acme.example", .from_name = "Jane Smith" },
	{ .name = "reply-to", .raw = H "Reply-To: Ops <OPS@Acme.example>\r\n\r\nx\r\n",
	  .from_addr = "noc@acme.example" },
	/* one address rule (addr.c): what reply.c refuses, the sender is not */
	{ .name = "from with a bidi override in the address",
	  .raw = "From: <no\xE2\x80\xAE" "c@acme.example>\r\n\r\nx\r\n",
	  .from_addr = "-" },
	{ .name = "from with a C1 control in the address",
	  .raw = "From: <no\xC2\x85" "c@acme.example>\r\n\r\nx\r\n",
	  .from_addr = "-" },
	{ .name = "from with a 65-octet local part",
	  .raw = "From: <aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@acme.example>\r\n\r\nx\r\n", .from_addr = "-" },
	{ .name = "from with an empty domain label",
	  .raw = "From: <noc@acme..example>\r\n\r\nx\r\n", .from_addr = "-" },
	{ .name = "from with a quoted name that holds an address",
	  .raw = "From: \"<noc@acme.example>\" <evil@x.example>\r\n\r\nx\r\n",
	  .from_addr = "evil@x.example", .from_name = "<noc@acme.example>" },

	/* ---- loop protection ---- */
	{ .name = "null return-path", .raw = "Return-Path: <>\r\n" H "\r\nx\r\n",
	  .return_path = "", .autom = 'y' },
	{ .name = "auto-submitted no is fine", .raw = H "Auto-Submitted: no\r\n\r\nx\r\n",
	  .autom = 'n' },
	{ .name = "auto-submitted auto-generated",
	  .raw = H "Auto-Submitted: auto-generated; owner-email=\"x@y\"\r\n\r\nx\r\n",
	  .autom = 'y' },
	{ .name = "precedence bulk", .raw = H "Precedence: Bulk\r\n\r\nx\r\n", .autom = 'y' },
	{ .name = "precedence first-class", .raw = H "Precedence: first-class\r\n\r\nx\r\n",
	  .autom = 'n' },
	{ .name = "from postmaster", .raw = "From: postmaster@acme.example\r\n\r\nx\r\n",
	  .autom = 'y' },
	{ .name = "from ourselves", .raw = "From: Support <SUPPORT@500.uk.com>\r\n\r\nx\r\n",
	  .autom = 'y' },
	{ .name = "multipart/report", .raw = H "Content-Type: multipart/report; "
	  "report-type=disposition-notification; boundary=b\r\n\r\n--b\r\n\r\nread\r\n--b--\r\n",
	  .autom = 'y' },

	/* ---- odd shapes ---- */
	{ .name = "LF line ends", .raw = "From: a@b.example\nSubject: lf\n\nhello\nworld\n",
	  .subject = "lf", .has = { "hello\nworld" } },
	{ .name = "empty message", .raw = "", .subject = "", .from_addr = "-" },
	{ .name = "headers only", .raw = "Subject: x", .subject = "x" },
	{ .name = "no blank line", .raw = "Subject: y\r\nFrom: a@b.example\r\n",
	  .subject = "y", .from_addr = "a@b.example" },
	{ .name = "mbox From_ line and garbage header lines",
	  .raw = "From a@b Mon Jan  1 00:00:00 2025\r\nthis is no header\r\n"
	  "Subject: ok\r\n\r\nbody\r\n", .subject = "ok", .has = { "body" } },
	{ .name = "unknown transfer encoding as 8bit",
	  .raw = H "Content-Type: text/plain; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: x-weird\r\n\r\nplain \xC3\xA9\r\n",
	  .has = { "plain \xC3\xA9" } },
	{ .name = "QP soft breaks and bad escapes",
	  .raw = H "Content-Type: text/plain; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "07400 12=\r\n3456 =ZZ 100=3D100 =C3=A9=\r\n",
	  .has = { "07400 123456 =ZZ 100=100 \xC3\xA9" } },
	{ .name = "multipart/related html picks the root",
	  .raw = H "Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\n"
	  "Content-Type: text/html\r\n\r\n<p>Hello&nbsp;there</p>\r\n--r\r\n"
	  "Content-Type: image/gif\r\n\r\nGIF89a\r\n--r--\r\n",
	  .has = { "Hello there" }, .not = { "GIF" }, .html = 'y' },
	{ .name = "hidden HTML: not read, the message says why",
	  .raw = H "Content-Type: text/html; charset=utf-8\r\n\r\n<p>User U2001"
	  "<span style=\"display:none\">07400 666777</span></p>\r\n",
	  .has = { "User U2001" }, .not = { "666777" }, .html = 'y',
	  .hidden = "HTML uses style display:none" },
	{ .name = "hidden HTML after a text/plain part (mixed): HTML read too",
	  .raw = H "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n"
	  "Content-Type: text/plain\r\n\r\nUser U2001\r\n--m\r\n"
	  "Content-Type: text/html\r\n\r\n<p>Name Bob<span hidden>07400 666777"
	  "</span></p>\r\n--m--\r\n", .has = { "User U2001", "Name Bob" },
	  .not = { "666777" }, .html = 'n', .hidden = "the hidden attribute" },
	{ .name = "hidden HTML beside text/plain (alternative): plain read",
	  .raw = H "Content-Type: multipart/alternative; boundary=a\r\n\r\n"
	  "--a\r\nContent-Type: text/plain\r\n\r\nUser U2001\r\n--a\r\n"
	  "Content-Type: text/html\r\n\r\n<p>User U2001<span style=\"font-size:"
	  "0\">07400 666777</span></p>\r\n--a--\r\n", .has = { "User U2001" },
	  .not = { "666777" }, .html = 'n', .hidden = "-" },
	{ .name = "html charset from meta",
	  .raw = H "Content-Type: text/html\r\n\r\n<meta charset=\"windows-1252\">"
	  "<p>\x93quoted\x94 \x80" "5</p>\r\n",
	  .has = { "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC" "5" } },
	{ .name = "top-posted, sig, then quote",
	  .raw = H "\r\nNew text.\r\n-- \r\nSig line\r\n\r\n"
	  "-----Original Message-----\r\nFrom: x\r\nold 07400 123456\r\n",
	  .has = { "New text." }, .not = { "Sig line", "123456" },
	  .sig = "Sig line", .quoted = "old 07400" },
	{ .name = "interleaved quoting keeps the answers",
	  .raw = H "\r\nOn Mon, 1 Jan 2025, Support wrote:\r\n> Which user?\r\n"
	  "U2001\r\n> Which number?\r\n07400 123456\r\n",
	  .has = { "U2001", "07400 123456" }, .not = { "Which", "wrote" },
	  .quoted = "> Which number?" },
	{ .name = "limits: too large", .file = "outlook-reply-2fa.eml",
	  .lim = { 1000, 200, 20 }, .err = 'y', .subject = "RE: 2FA Set Up" },
	{ .name = "limits: depth 1 is enough for alternative",
	  .file = "gmail-missing-number.eml",
	  .lim = { 1u << 20, 200, 1 }, .has = { "U2001" } },
	{ .name = "limits: depth 1 and an attached message",
	  .file = "forward-as-attachment.eml",
	  .lim = { 1u << 20, 200, 1 }, .err = 'y' },
	{ .name = "limits: 2 parts", .file = "attachment-mixed.eml",
	  .lim = { 1u << 20, 2, 20 }, .err = 'y' },
};

static int
contains(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}

/* a case's failures under one heading; run_case counts the case once */
#define CASE_FAIL(...) do { if (!bad++) printf("FAIL %s\n", tc->name); \
	printf("    "); printf(__VA_ARGS__); printf("\n"); } while (0)

static void
run_case(const struct tcase *tc)
{
	char path[8192], *raw;
	size_t len, i;
	struct msg *m;
	const char *why = NULL, *v;
	int bad = 0, au;

	CHECKED();
	if (tc->file) {
		snprintf(path, sizeof(path), "%s/%s", fixdir, tc->file);
		raw = inv_slurp(path, &len);
		if (raw == NULL) {
			printf("FAIL %s\n    cannot read %s\n", tc->name, path);
			CHECK_FAILED();
			return;
		}
	} else {
		len = strlen(tc->raw);
		raw = malloc(len + 1);
		memcpy(raw, tc->raw, len + 1);
	}
	m = msg_parse(raw, len, tc->lim.max_bytes ? &tc->lim : NULL);
	if ((v = inv_check(m, raw, len)) != NULL) {
		CASE_FAIL("invariant: %s", v);
		goto out;
	}
	if (tc->subject && strcmp(m->subject, tc->subject))
		CASE_FAIL("subject [%s], want [%s]", m->subject, tc->subject);
	if (tc->from_addr && strcmp(tc->from_addr, "-") == 0 && m->from_addr)
		CASE_FAIL("from_addr [%s], want none", m->from_addr);
	else if (tc->from_addr && strcmp(tc->from_addr, "-") &&
	    (!m->from_addr || strcmp(m->from_addr, tc->from_addr)))
		CASE_FAIL("from_addr [%s], want [%s]", m->from_addr ? m->from_addr :
		    "(null)", tc->from_addr);
	if (tc->from_name && (!m->from_name || strcmp(m->from_name,
	    tc->from_name)))
		CASE_FAIL("from_name [%s], want [%s]", m->from_name ? m->from_name :
		    "(null)", tc->from_name);
	if (tc->from_count && m->from_count != tc->from_count)
		CASE_FAIL("from_count %d, want %d", m->from_count, tc->from_count);
	if (tc->msgid && (!m->message_id || strcmp(m->message_id, tc->msgid)))
		CASE_FAIL("message_id [%s]", m->message_id ? m->message_id : "");
	if (tc->return_path && (!m->return_path ||
	    strcmp(m->return_path, tc->return_path)))
		CASE_FAIL("return_path [%s], want [%s]", m->return_path ?
		    m->return_path : "(null)", tc->return_path);
	for (i = 0; i < 4 && tc->has[i]; i++)
		if (!contains(m->new_text, tc->has[i]))
			CASE_FAIL("new_text lacks [%s]:\n%s", tc->has[i], m->new_text);
	for (i = 0; i < 4 && tc->not[i]; i++)
		if (contains(m->new_text, tc->not[i]))
			CASE_FAIL("new_text has [%s]:\n%s", tc->not[i], m->new_text);
	if (tc->quoted && !contains(m->quoted, tc->quoted))
		CASE_FAIL("quoted lacks [%s]:\n%s", tc->quoted, m->quoted);
	if (tc->sig && !contains(m->signature, tc->sig))
		CASE_FAIL("signature lacks [%s]: [%s]", tc->sig, m->signature);
	if (tc->text && !contains(m->text, tc->text))
		CASE_FAIL("text lacks [%s]", tc->text);
	for (i = 0; i < 2 && tc->fwd[i]; i++)
		if (*tc->fwd[i] ? !contains(m->fwd_text, tc->fwd[i]) :
		    *m->fwd_text != '\0')
			CASE_FAIL("fwd_text lacks [%s]:\n%s", tc->fwd[i], m->fwd_text);
	if (tc->fwd_not && contains(m->fwd_text, tc->fwd_not))
		CASE_FAIL("fwd_text has [%s]:\n%s", tc->fwd_not, m->fwd_text);
	if (tc->fwd_subject && strcmp(m->fwd_subject, tc->fwd_subject))
		CASE_FAIL("fwd_subject [%s], want [%s]", m->fwd_subject,
		    tc->fwd_subject);
	if (tc->header[0] && (!msg_header(m, tc->header[0]) ||
	    strcmp(msg_header(m, tc->header[0]), tc->header[1])))
		CASE_FAIL("header %s [%s]", tc->header[0],
		    msg_header(m, tc->header[0]) ? msg_header(m,
		    tc->header[0]) : "(none)");
	if ((tc->err == 'y') != (m->error != NULL))
		CASE_FAIL("error [%s], want %s", m->error ? m->error : "(none)",
		    tc->err == 'y' ? "one" : "none");
	if (tc->html && m->html_only != (tc->html == 'y'))
		CASE_FAIL("html_only %d", m->html_only);
	if (tc->hidden && (strcmp(tc->hidden, "-") == 0 ?
	    m->html_hidden_style != NULL : !contains(m->html_hidden_style,
	    tc->hidden)))
		CASE_FAIL("html_hidden_style [%s], want [%s]", m->html_hidden_style ?
		    m->html_hidden_style : "(none)", tc->hidden);
	au = msg_is_automatic(m, "SIP Trunk Plus Support <support@500.uk.com>",
	    &why);
	if (tc->autom && au != (tc->autom == 'y'))
		CASE_FAIL("automatic %d (%s)", au, why ? why : "");
	if (au && why == NULL)
		CASE_FAIL("automatic without a reason");
out:
	if (!bad)
		printf("ok   %s%s%s\n", tc->name, m && m->error ? ": " : "",
		    m && m->error ? m->error : "");
	else
		CHECK_FAILED();
	msg_free(m);
	free(raw);
}

/* ---- html_to_text ---- */

static const struct { const char *name, *in, *want; } htcases[] = {
	{ "blocks and br", "<p>a</p><p>b<br>c</p><div>d</div>e", "a\nb\nc\nd\ne" },
	{ "table", "<table><tr><td>U2001</td><td>Bob Jones</td><td>07400 123456"
	  "</td></tr><tr><td>U2002</td><td></td><td>x</td></tr></table>",
	  "U2001 | Bob Jones | 07400 123456\nU2002 | | x" },
	{ "unclosed cells", "<table><tr><td>a<td>b<tr><td>c<td>d</table>",
	  "a | b\nc | d" },
	{ "entities", "&lt;b&gt; &amp;amp; &quot;q&quot; &#233;&#xE9; &eacute;&Eacute; "
	  "&euro;&#128; &bogus; &#0; &#x110000; & alone &amp",
	  "<b> &amp; \"q\" \xC3\xA9\xC3\xA9 \xC3\xA9\xC3\x89 \xE2\x82\xAC\xE2\x82\xAC "
	  "&bogus; \xEF\xBF\xBD \xEF\xBF\xBD & alone &" },
	{ "script style head dropped",
	  "<html><head><title>T</title><style>p{}</style></head><body>"
	  "<script>alert(1)</script>x<SCRIPT type=x>y</SCRIPT >z</body>", "xz" },
	{ "head without close", "<head><meta x><body>hi", "hi" },
	{ "comments", "a<!-- hidden <p> -->b<!-- unterminated", "ab" },
	{ "whitespace collapsed", "  a \n\t b  <p>  c  </p>", "a b\nc" },
	{ "blockquote prefixes", "new<blockquote>old<blockquote>older</blockquote>"
	  "</blockquote>", "new\n> old\n> > older" },
	{ "gmail_quote", "<div>hi</div><div class=\"gmail_quote\">On x wrote:"
	  "<blockquote class=\"gmail_quote\">q</blockquote></div>after",
	  "hi\n> On x wrote:\n> > q\nafter" },
	{ "lists", "<ul><li>one</li><li>two</ul>", "- one\n- two" },
	{ "pre", "<pre>a  b\n c</pre>", "a  b\n c" },
	{ "lone brackets", "a < b > c <3", "a < b > c <3" },
	{ "attributes with >", "<a title=\"x>y\" href='>'>link</a>", "link" },
	{ "blank lines limited", "a<br><br><br><br><br>b", "a\n\nb" },
	{ "invalid utf-8 replaced", "a\xFF" "b", "a\xEF\xBF\xBD" "b" },
	{ "truncated tag", "abc<div class=\"x", "abc" },
	{ "empty", "", "" },
};

static void
run_html(void)
{
	size_t i;
	char *t;

	for (i = 0; i < sizeof(htcases) / sizeof(htcases[0]); i++) {
		CHECKED();
		t = html_to_text(htcases[i].in, strlen(htcases[i].in));
		if (t && strcmp(t, htcases[i].want) == 0) {
			printf("ok   html: %s\n", htcases[i].name);
		} else {
			CHECK_FAILED();
			printf("FAIL html: %s\n    got  [%s]\n    want [%s]\n",
			    htcases[i].name, t ? t : "(null)", htcases[i].want);
		}
		free(t);
	}
}

/* ---- HTML that can hide text (issue 9) ---- */

/* Each hiding construct: the hidden text ("666777") is not read and the
 * reason names the construct; ordinary formatting as real clients write it
 * is read and raises nothing (why NULL). */
#define SEC "Mobile: 07400 666777"
static const struct { const char *name, *in, *want, *why; } hidcases[] = {
	{ "display:none", "<p>A<span style=\"display:none\">" SEC "</span>B</p>",
	  "AB", "style display:none" },
	{ "display none with blanks and case", "<p>A<SPAN STYLE=\"Display : NONE\">"
	  SEC "</SPAN>B", "AB", "Display : NONE" },
	{ "visibility", "A<div style='visibility:hidden'>" SEC "</div>B",
	  "AB", "visibility:hidden" },
	{ "opacity", "A<span style=opacity:0>" SEC "</span>B", "AB",
	  "opacity:0" },
	{ "opacity small", "A<span style=\"opacity:.01\">" SEC "</span>B", "AB",
	  "opacity" },
	{ "font-size 0", "A<span style=\"font-size:0\">" SEC "</span>B", "AB",
	  "font-size:0" },
	{ "font-size 1px", "A<span style=\"font-size:1px\">" SEC "</span>B",
	  "AB", "font-size:1px" },
	{ "font-size tiny em", "A<span style=\"font-size:0.1em\">" SEC
	  "</span>B", "AB", "font-size" },
	{ "font shorthand", "A<span style=\"font:0/0 a\">" SEC "</span>B", "AB",
	  "style font:0/0 a" },
	{ "white text", "A<span style=\"color:#ffffff\">" SEC "</span>B", "AB",
	  "color:#ffffff" },
	{ "near-white text", "A<span style=\"color:rgb(250, 250, 250)\">" SEC
	  "</span>B", "AB", "color" },
	{ "transparent text", "A<span style=\"color:transparent\">" SEC
	  "</span>B", "AB", "color:transparent" },
	{ "rgba text", "A<span style=\"color:rgba(0,0,0,0)\">" SEC "</span>B",
	  "AB", "color" },
	{ "font color white", "A<font color=white>" SEC "</font>B", "AB",
	  "color=white" },
	{ "dark background", "A<td style=\"background-color:#000\">" SEC
	  "</td>B", "AB", "background-color:#000" },
	{ "bgcolor", "A<table bgcolor=\"#111111\"><tr><td>" SEC
	  "</td></tr></table>B", "AB", "bgcolor=#111111" },
	{ "background image", "A<div style=\"background:url(x.png)\">" SEC
	  "</div>B", "AB", "background:url" },
	{ "height 0 overflow", "A<div style=\"height:0;overflow:hidden\">" SEC
	  "</div>B", "AB", "height:0" },
	{ "overflow", "A<div style=\"overflow:hidden\">" SEC "</div>B", "AB",
	  "overflow:hidden" },
	{ "max-height", "A<div style=\"max-height:0px\">" SEC "</div>B", "AB",
	  "max-height:0px" },
	{ "width 0", "A<div style=\"width:0\">" SEC "</div>B", "AB",
	  "width:0" },
	{ "width attribute 0", "A<table width=0><tr><td>" SEC
	  "</td></tr></table>B", "AB", "width=0" },
	{ "position", "A<div style=\"position:absolute;left:-9999px\">" SEC
	  "</div>B", "AB", "position:absolute" },
	{ "left alone", "A<div style=\"left:-9999px\">" SEC "</div>B", "AB",
	  "left:-9999px" },
	{ "clip", "A<span style=\"clip:rect(0,0,0,0)\">" SEC "</span>B", "AB",
	  "clip:rect" },
	{ "clip-path", "A<span style=\"clip-path:inset(50%)\">" SEC "</span>B",
	  "AB", "clip-path" },
	{ "transform", "A<span style=\"transform:scale(0)\">" SEC "</span>B",
	  "AB", "transform:scale(0)" },
	{ "text-indent", "A<div style=\"text-indent:-9999px\">" SEC "</div>B",
	  "AB", "text-indent" },
	{ "line-height 0", "A<div style=\"line-height:0\">" SEC "</div>B",
	  "AB", "line-height:0" },
	{ "z-index", "A<div style=\"z-index:-1\">" SEC "</div>B", "AB",
	  "z-index" },
	{ "filter", "A<span style=\"filter:opacity(0)\">" SEC "</span>B", "AB",
	  "filter" },
	{ "mso-hide", "A<span style='mso-hide:all'>" SEC "</span>B", "AB",
	  "mso-hide:all" },
	{ "unknown property", "A<span style=\"content-visibility:hidden\">" SEC
	  "</span>B", "AB", "content-visibility" },
	{ "custom property", "A<span style=\"--x:1\">" SEC "</span>B", "AB",
	  "--x" },
	{ "rtl override", "A<span style=\"unicode-bidi:bidi-override;"
	  "direction:rtl\">" SEC "</span>B", "AB", "unicode-bidi" },
	{ "bdo", "A<bdo dir=rtl>" SEC "</bdo>B", "AB", "bdo" },
	{ "details", "A<details><summary>x</summary>" SEC "</details>B", "AB",
	  "details" },
	{ "comment inside a property", "A<span style=\"disp/**/lay:none\">" SEC
	  "</span>B", "AB", "a CSS comment" },
	{ "comment in a harmless value", "A<span style=\"color:/**/red\">" SEC
	  "</span>B", "AB", "a CSS comment" },
	{ "escape", "A<span style=\"d\\69splay:none\">" SEC "</span>B", "AB",
	  "a CSS escape" },
	{ "escape in value", "A<span style=\"display:\\6e one\">" SEC "</span>B",
	  "AB", "a CSS escape" },
	{ "entity-encoded colon", "A<span style=\"display&#58;none\">" SEC
	  "</span>B", "AB", "display:none" },
	{ "entity-encoded letters", "A<span style=\"&#x64;isplay:n&#111;ne\">"
	  SEC "</span>B", "AB", "display:none" },
	{ "unknown entity", "A<span style=\"display&colon;none\">" SEC
	  "</span>B", "AB", "style display&colon" },
	{ "no quotes", "A<span style=display:none>" SEC "</span>B", "AB",
	  "display:none" },
	{ "no quotes, blank after colon", "A<span style=display: none>" SEC
	  "</span>B", "AB", "display:" },
	{ "single quotes", "A<span style='display:none'>" SEC "</span>B", "AB",
	  "display:none" },
	{ "important", "A<span style=\"color:red;display:none !important\">" SEC
	  "</span>B", "AB", "display:none !important" },
	{ "slash before attribute", "A<span/style=\"display:none\">" SEC
	  "</span>B", "AB", "display:none" },
	{ "hidden attribute", "A<div hidden>" SEC "</div>B", "AB",
	  "the hidden attribute" },
	{ "hidden attribute uppercase with value", "A<p HIDDEN=\"hidden\">" SEC
	  "</p>B", "AB", "the hidden attribute" },
	{ "nested hidden containers", "A<div style=\"display:none\"><div>"
	  "<div>" SEC "</div></div>" SEC "</div>B", "AB", "display:none" },
	{ "unclosed hidden element", "A<span style=\"display:none\">" SEC
	  "<p>still hidden", "A", "display:none" },
	{ "unclosed style attribute", "A<span style=\"display:none>" SEC, "A",
	  "display:none" },
	{ "hidden line break", "07400 123456<br style=\"display:none\">99",
	  "07400 123456\n99", "display:none" },
	{ "font size 0", "A<font size=0>" SEC "</font>B", "AB", "size=0" },
	{ "style block, class rule", "<style>.h{display:none}</style><p>A</p>"
	  "<p class=\"x h\">" SEC "</p><p>B</p>", "A\nB", "display:none" },
	{ "style block, tag.class and id", "<head><STYLE type=text/css>\n"
	  "p.MsoNormal{margin:0cm} span.z, #q {font-size:0}</STYLE></head>"
	  "<p class=MsoNormal>A<span class=z>" SEC "</span></p><div id=Q>" SEC
	  "</div>B", "A\nB", "font-size:0" },
	{ "style block, media rule", "<style>@media screen { .a {color:red} "
	  ".b{visibility:hidden} }</style>A<span class=b>" SEC "</span>B", "AB",
	  "visibility:hidden" },
	{ "style block, complex selector: nothing read", "<style>p > span"
	  "{font-size:0}</style><p>A<span>" SEC "</span>B</p>", "",
	  "font-size:0" },
	{ "style block, comment in rule: nothing read",
	  "<style>.a{disp/**/lay:none}</style><p>A" SEC "</p>", "",
	  "a CSS comment" },
	{ "style block, escape: nothing read",
	  "<style>.a{d\\69splay:none}</style><p>A" SEC "</p>", "",
	  "a CSS escape" },
	{ "style block, @import: nothing read",
	  "<style>@import url(x.css);</style><p>A" SEC "</p>", "", "@import" },
	{ "style block in the body, unclosed", "<p>A</p><style>.a{display:none}"
	  "<p class=a>" SEC, "A", "display:none" },
	/* ordinary formatting: read, nothing raised */
	{ "outlook styles", "<html><head><style><!--\n/* Font Definitions */\n"
	  "@font-face\n\t{font-family:\"Cambria Math\";\n\tpanose-1:2 4 5 3 5 4 6 "
	  "3 2 4;}\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n"
	  "\tfont-size:11.0pt;\n\tfont-family:\"Calibri\",sans-serif;\n"
	  "\tmso-fareast-language:EN-US;}\na:link, span.MsoHyperlink\n\t"
	  "{mso-style-priority:99;\n\tcolor:#0563C1;\n\ttext-decoration:underline;}"
	  "\nspan.EmailStyle17\n\t{mso-style-type:personal-compose;\n\tcolor:"
	  "windowtext;}\n@page WordSection1\n\t{size:612.0pt 792.0pt;\n\tmargin:"
	  "72.0pt 72.0pt 72.0pt 72.0pt;}\ndiv.WordSection1\n\t{page:WordSection1;}"
	  "\n--></style></head><body lang=EN-GB link=\"#0563C1\" vlink=\"#954F72\""
	  " style='word-wrap:break-word'><div class=WordSection1><p class="
	  "MsoNormal><span style='font-size:11.0pt;font-family:\"Calibri\","
	  "sans-serif;color:#1F497D;mso-fareast-language:EN-US'>U2001 07400 "
	  "123456<o:p></o:p></span></p><table class=MsoNormalTable border=0 "
	  "cellspacing=0 cellpadding=0 width=600 style='width:450.0pt;"
	  "margin-left:-.75pt;border-collapse:collapse'><tr><td width=150 "
	  "style='width:112.5pt;padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal "
	  "style='margin-bottom:.0001pt;line-height:115%'>x</p></td></tr></table>"
	  "</div></body></html>", "U2001 07400 123456\nx", NULL },
	{ "outlook web", "<html><head><style type=\"text/css\" style=\"display:"
	  "none;\"> P {margin-top:0;margin-bottom:0;} </style></head><body dir="
	  "\"ltr\"><div class=\"elementToProof\" style=\"font-family: Aptos, "
	  "Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);"
	  "\">U2001 07400 123456</div></body></html>", "U2001 07400 123456",
	  NULL },
	{ "gmail", "<div dir=\"ltr\"><div class=\"gmail_default\" style=\""
	  "font-family:arial,sans-serif;font-size:small;color:#000000\">A</div>"
	  "<font size=\"-1\" color=\"#888888\">B</font><span style=\"color:rgb("
	  "34,34,34)\">C</span></div><div class=\"gmail_quote\"><blockquote "
	  "class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:"
	  "1px solid rgb(204,204,204);padding-left:1ex\">q</blockquote></div>",
	  "A\nBC\n> > q", NULL },
	{ "apple mail", "<html><head><meta http-equiv=\"content-type\" content="
	  "\"text/html; charset=utf-8\"></head><body style=\"word-wrap: "
	  "break-word; -webkit-nbsp-mode: space; line-break: after-white-space;"
	  "\" class=\"\"><div class=\"\"><span style=\"caret-color: rgb(0, 0, 0);"
	  " font-family: Helvetica; font-size: 12px; font-style: normal; "
	  "font-variant-caps: normal; font-weight: normal; letter-spacing: "
	  "normal; text-align: start; text-indent: 0px; text-transform: none; "
	  "white-space: normal; word-spacing: 0px; -webkit-text-stroke-width: "
	  "0px; text-decoration: none;\" class=\"\">A</span></div></body></html>",
	  "A", NULL },
	{ "red text in a style block (case 08)", "<style>td {color: red}</style>"
	  "<table><tr><td>A</td></tr></table>", "A", NULL },
	{ "highlight", "<span style='background:yellow;mso-highlight:yellow'>A"
	  "</span>", "A", NULL },
	{ "aria-hidden is not hiding", "<img aria-hidden=\"true\" width=1 "
	  "height=1 src=x>A", "A", NULL },
	{ "input type=hidden", "A<input type=hidden value=x>B", "AB", NULL },
};

static void
run_hidden(void)
{
	size_t i;
	char *t, why[160];

	for (i = 0; i < sizeof(hidcases) / sizeof(hidcases[0]); i++) {
		const char *w = hidcases[i].why;
		int ok;

		CHECKED();
		t = html_to_text_why(hidcases[i].in, strlen(hidcases[i].in), why,
		    sizeof why);
		ok = t && strcmp(t, hidcases[i].want) == 0 && (w ? why[0] &&
		    strstr(why, w) : why[0] == '\0');
		printf("%s hidden: %s\n", ok ? "ok  " : "FAIL", hidcases[i].name);
		if (!ok) {
			CHECK_FAILED();
			printf("    got  [%s] why [%s]\n    want [%s] why [%s]\n",
			    t ? t : "(null)", why, hidcases[i].want, w ? w : "");
		}
		free(t);
	}
}

/*
 * The HTML reader never reads past the end of its input: every case above,
 * and a few more, cut at every length and laid at the very end of a page
 * whose next page is unreadable, so that a read one byte too far faults in
 * any build (the fuzzer found one in the </script> search).
 */
static const char *const edgecases[] = {
	"<script>x</script>", "<style>p{}</style >", "<head><title>t</title>"
	"</head><body>b", "<span hidden>a</span>b", "<div style=\"display:none\">"
	"<div>x</div></div>y", "<br hidden/>&#x41;&eacute;&amp", "<!-- c -->",
	"<?xml x?><svg><text>t</text></svg>",
};

static const char *
at_page_end(const char *s, size_t n)
{
	static char *page;
	static size_t pg;

	if (page == NULL) {
		pg = (size_t)sysconf(_SC_PAGESIZE);
		page = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED || mprotect(page + pg, pg, PROT_NONE)) {
			perror("tst_mime: mmap");
			exit(1);
		}
	}
	if (n > pg)
		n = pg;
	memcpy(page + pg - n, s, n);
	return page + pg - n;
}

static void
html_edge(const char *name, const char *in)
{
	size_t len = strlen(in);

	CHECKED();
	for (size_t k = 0; k <= len; k++)
		free(html_to_text(at_page_end(in, k), k));
	printf("ok   html at the end of a page, every length: %s\n", name);
}

static void
run_html_edge(void)
{
	size_t i;

	for (i = 0; i < sizeof(htcases) / sizeof(htcases[0]); i++)
		html_edge(htcases[i].name, htcases[i].in);
	for (i = 0; i < sizeof(edgecases) / sizeof(edgecases[0]); i++)
		html_edge(edgecases[i], edgecases[i]);
}

/* ---- mime_message_id ---- */

static const struct { const char *name, *in, *want; } idcases[] = {
	{ "plain", "Message-ID: <a@b>\r\n\r\n", "a@b" },
	{ "folded", "Subject: x\r\nMessage-Id:\r\n <long.id@host>\r\n\r\n",
	  "long.id@host" },
	{ "case and spacing", "message-id :   <x@y>  (comment)\n\n", "x@y" },
	{ "no brackets", "Message-ID: bare@id extra\r\n\r\n", "bare@id" },
	{ "none", "Subject: x\r\n\r\nMessage-ID: <body@x>\r\n", NULL },
	{ "empty", "Message-ID: <>\r\n\r\n", NULL },
	{ "at end without EOL", "Message-ID: <e@f>", "e@f" },
};

static void
run_ids(void)
{
	size_t i;
	char *id;
	int ok;

	for (i = 0; i < sizeof(idcases) / sizeof(idcases[0]); i++) {
		CHECKED();
		id = mime_message_id(idcases[i].in, strlen(idcases[i].in));
		ok = idcases[i].want ? id && strcmp(id, idcases[i].want) == 0 :
		    id == NULL;
		printf("%s message-id: %s\n", ok ? "ok  " : "FAIL",
		    idcases[i].name);
		if (!ok) {
			CHECK_FAILED();
			printf("    got [%s]\n", id ? id : "(null)");
		}
		free(id);
	}
}

/* ---- truncation and mutation ---- */

static unsigned long rng = 88172645463325252UL;

static unsigned long
xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
run_fuzz(void)
{
	DIR *d = opendir(fixdir);
	struct dirent *e;
	char path[8192], *raw, *cp;
	size_t len, off, step, nparse = 0, i;
	struct msg *m;
	const char *v;
	int bad;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);

		if (nl < 5 || strcmp(e->d_name + nl - 4, ".eml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", fixdir, e->d_name);
		raw = inv_slurp(path, &len);
		CHECKED();
		if (raw == NULL) {
			FAIL("cannot read %s", path);
			continue;
		}
		bad = 0;
		step = len <= 4096 ? 1 : len / 600 + 1;
		cp = malloc(len + 1);
		for (off = 0; off <= len && !bad; off += step) {
			/* an exact-size copy, so reading past it is caught */
			char *pre = malloc(off ? off : 1);

			memcpy(pre, raw, off);
			m = msg_parse(pre, off, NULL);
			if ((v = inv_check(m, pre, off)) != NULL) {
				printf("FAIL fuzz %s: prefix %zu: %s\n",
				    e->d_name, off, v);
				bad = 1;
			}
			msg_free(m);
			free(pre);
			nparse++;
		}
		for (i = 0; i < 300 && !bad; i++) {
			size_t k, nm = 1 + xrand() % 8;

			memcpy(cp, raw, len);
			for (k = 0; k < nm && len; k++) {
				static const char junk[] = "\r\n:;=?<>\"-\0\xff "
				    "=?utf-8?b?boundary";
				size_t at = xrand() % len;

				cp[at] = xrand() % 2 ? (char)xrand() :
				    junk[xrand() % (sizeof(junk) - 1)];
			}
			m = msg_parse(cp, len, NULL);
			if ((v = inv_check(m, cp, len)) != NULL) {
				printf("FAIL fuzz %s: mutation %zu: %s\n",
				    e->d_name, i, v);
				bad = 1;
			}
			msg_free(m);
			nparse++;
		}
		if (bad)
			CHECK_FAILED();
		else
			printf("ok   fuzz %s\n", e->d_name);
		free(cp);
		free(raw);
	}
	closedir(d);
	printf("     (%zu truncated or mutated messages parsed)\n", nparse);
}

int
main(void)
{
	const char *top = getenv("TOP");
	size_t i;

	snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/mail",
	    top && *top ? top : ".");
	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++)
		run_case(&tcases[i]);
	run_html();
	run_hidden();
	run_html_edge();
	run_ids();
	run_fuzz();
	return DONE();
}
