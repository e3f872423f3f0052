/*
 * tst_identity.c - mime_identity, the digest that says whether two copies
 * are the same message (DESIGN.md, Mail pipeline): a table of variants of
 * one message, each the same or different; hostile input in bounded time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tfadesk/mime.h"
#include "check.h"

/* The message as a mail client hands it over (CRLF). */
#define HDR "From: Acme NOC <noc@acme.example>\r\n" \
	"To: support@500.uk.com\r\n" \
	"Subject: User locked out\r\n" \
	"Date: Mon, 23 Nov 2026 09:12:40 +0000\r\n" \
	"Message-ID: <case-80@test.example>\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n"
#define BODY "Hello,\r\n\r\nUser ID: U2001\r\nName: Bob Jones\r\n" \
	"Mobile: 07400 123456\r\n"
#define TRACE "Return-Path: <noc@acme.example>\r\n" \
	"Delivered-To: support@500.uk.com\r\n" \
	"X-Original-To: support@500.uk.com\r\n" \
	"Received: from mx.500.uk.com by imap.500.uk.com with LMTP\r\n" \
	"\tid 4XyZ1; Mon, 23 Nov 2026 09:12:45 +0000\r\n" \
	"ARC-Seal: i=1; a=rsa-sha256; d=500.uk.com; s=arc; cv=none;\r\n" \
	" b=AbCd\r\n" \
	"ARC-Message-Signature: i=1; a=rsa-sha256; d=500.uk.com; bh=x;\r\n" \
	"\th=from:to; b=EfGh\r\n" \
	"ARC-Authentication-Results: i=1; mx.500.uk.com; dkim=pass\r\n" \
	"Authentication-Results: mx.500.uk.com;\r\n" \
	"\tdkim=pass header.d=acme.example;\r\n" \
	"\tspf=pass smtp.mailfrom=noc@acme.example\r\n"

static const struct {
	const char *name;
	const char *raw;
	int same;       /* the same message as BASE */
} cases[] = {
	{ "itself", HDR "\r\n" BODY, 1 },
	{ "trace fields on top (an IMAP delivery)", TRACE HDR "\r\n" BODY, 1 },
	{ "trace fields between the others",
	  "From: Acme NOC <noc@acme.example>\r\n" TRACE
	  "To: support@500.uk.com\r\nSubject: User locked out\r\n"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\r\n"
	  "Message-ID: <case-80@test.example>\r\n" TRACE
	  "Content-Type: text/plain; charset=utf-8\r\n\r\n" BODY, 1 },
	{ "trace names in any case, blanks before the colon",
	  "RECEIVED: by mx\r\nreturn-path :<x@y>\r\narc-seal: i=2\r\n"
	  "delivered-TO:\tsupport@500.uk.com\r\n"
	  "authentication-results : mx; none\r\n" HDR "\r\n" BODY, 1 },
	{ "LF line endings",
	  "From: Acme NOC <noc@acme.example>\n"
	  "To: support@500.uk.com\nSubject: User locked out\n"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\n"
	  "Message-ID: <case-80@test.example>\n"
	  "Content-Type: text/plain; charset=utf-8\n\n"
	  "Hello,\n\nUser ID: U2001\nName: Bob Jones\nMobile: 07400 123456\n",
	  1 },
	{ "CR line endings, trace fields with LF",
	  "Received: by mx\n\tid 1\nReturn-Path: <x@y>\n"
	  "From: Acme NOC <noc@acme.example>\r"
	  "To: support@500.uk.com\rSubject: User locked out\r"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\r"
	  "Message-ID: <case-80@test.example>\r"
	  "Content-Type: text/plain; charset=utf-8\r\r"
	  "Hello,\r\rUser ID: U2001\rName: Bob Jones\rMobile: 07400 123456\r",
	  1 },
	{ "no line break after the last line",
	  HDR "\r\nHello,\r\n\r\nUser ID: U2001\r\nName: Bob Jones\r\n"
	  "Mobile: 07400 123456", 1 },

	{ "Subject changed", TRACE
	  "From: Acme NOC <noc@acme.example>\r\n"
	  "To: support@500.uk.com\r\nSubject: User locked out!\r\n"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\r\n"
	  "Message-ID: <case-80@test.example>\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n\r\n" BODY, 0 },
	{ "body changed (another number)", TRACE HDR "\r\nHello,\r\n\r\n"
	  "User ID: U2001\r\nName: Bob Jones\r\nMobile: 07400 654321\r\n", 0 },
	{ "Message-ID changed",
	  "From: Acme NOC <noc@acme.example>\r\n"
	  "To: support@500.uk.com\r\nSubject: User locked out\r\n"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\r\n"
	  "Message-ID: <case-81@test.example>\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n\r\n" BODY, 0 },
	{ "a trace-looking line in the body is body",
	  HDR "\r\n" BODY "Received: by mx\r\n", 0 },
	{ "a trace-looking first body line is body",
	  HDR "\r\nReceived: by mx\r\n" BODY, 0 },
	{ "Received-Foo is not a trace field",
	  "Received-Foo: x\r\n" HDR "\r\n" BODY, 0 },
	{ "X-Received is not a trace field", "X-Received: x\r\n" HDR "\r\n" BODY,
	  0 },
	{ "Received-SPF is not listed", "Received-SPF: pass\r\n" HDR "\r\n" BODY,
	  0 },
	{ "DKIM-Signature is not a trace field",
	  "DKIM-Signature: v=1; d=acme.example\r\n" HDR "\r\n" BODY, 0 },
	{ "a kept field refolded after a trace field",
	  "Received: by mx\r\nFrom: Acme NOC <noc@acme.example>\r\n"
	  "To: support@500.uk.com\r\nSubject: User locked\r\n out\r\n"
	  "Date: Mon, 23 Nov 2026 09:12:40 +0000\r\n"
	  "Message-ID: <case-80@test.example>\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n\r\n" BODY, 0 },
	{ "an extra blank line at the end", HDR "\r\n" BODY "\r\n", 0 },
	{ "a header line without colon kept",
	  "Received by mx\r\n" HDR "\r\n" BODY, 0 },
	{ "no header block at all", "\r\n" HDR "\r\n" BODY, 0 },
};

static void
digest(const char *raw, size_t len, unsigned char out[MIME_IDENTITY_BYTES])
{
	memset(out, 0, MIME_IDENTITY_BYTES);
	CHECK(mime_identity(raw, len, out) == 0, "mime_identity returns 0");
}

/* Hostile shapes, LEN bytes each: every one linear, no allocation. */
static void
hostile(size_t len)
{
	static const char *const fill[] = { "\r", "\n", " \n", "a",
	    "Received: x\r\n", "\tfold\r\n", "ARC-", ":" };
	unsigned char h[MIME_IDENTITY_BYTES];
	char *buf = malloc(len);
	clock_t t0;
	double secs;

	if (buf == NULL)
		return;
	for (size_t f = 0; f < sizeof fill / sizeof fill[0]; f++) {
		size_t fl = strlen(fill[f]);
		for (size_t i = 0; i < len; i++)
			buf[i] = fill[f][i % fl];
		t0 = clock();
		digest(buf, len, h);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		/* ~0.2 s here; minutes would mean quadratic work */
		CHECK(secs < 5.0, "%zu bytes of \"%s\": %.2f s", len, fill[f],
		    secs);
	}
	free(buf);
}

int
main(void)
{
	unsigned char base[MIME_IDENTITY_BYTES], h[MIME_IDENTITY_BYTES];
	unsigned char empty[MIME_IDENTITY_BYTES];
	size_t i;

	if (sodium_init() < 0)
		return 2;
	digest(HDR "\r\n" BODY, strlen(HDR "\r\n" BODY), base);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		digest(cases[i].raw, strlen(cases[i].raw), h);
		CHECK((memcmp(h, base, sizeof h) == 0) == cases[i].same,
		    "%s: %s", cases[i].name, cases[i].same ? "must be the same "
		    "message" : "must differ");
		printf("%s %s\n", (memcmp(h, base, sizeof h) == 0) ==
		    cases[i].same ? "ok  " : "FAIL", cases[i].name);
	}
	/* only trace fields: the same as nothing at all */
	digest(NULL, 0, empty);
	digest(TRACE, strlen(TRACE), h);
	CHECK(memcmp(h, empty, sizeof h) == 0, "trace fields alone: empty");
	digest("", 0, h);
	CHECK(memcmp(h, empty, sizeof h) == 0, "NULL and \"\" alike");
	hostile(8u << 20);
	return DONE();
}
