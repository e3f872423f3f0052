/* tst_utf8.c - the UTF-8 decoder, truncation, and the terminal and JSON
 * escapers that every output of mail text goes through. */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "term.h"
#include "json.h"
#include "check.h"

static const struct {
	const char *in;
	size_t len;          /* 0: invalid */
	uint32_t cp;
} dec[] = {
	{ "A", 1, 0x41 },
	{ "\xc2\x9b", 2, 0x9b },                 /* C1 CSI, UTF-8 encoded */
	{ "\xe2\x80\xae", 3, 0x202e },            /* RIGHT-TO-LEFT OVERRIDE */
	{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
	{ "\xc0\xaf", 0, 0 },                    /* overlong '/' */
	{ "\xe0\x80\xaf", 0, 0 },                /* overlong, 3 bytes */
	{ "\xf0\x80\x80\xaf", 0, 0 },            /* overlong, 4 bytes */
	{ "\xed\xa0\x80", 0, 0 },                /* surrogate U+D800 */
	{ "\xf4\x90\x80\x80", 0, 0 },            /* above U+10FFFF */
	{ "\x80", 0, 0 },                        /* lone continuation */
	{ "\xe2\x80", 0, 0 },                    /* cut short */
	{ "\xff", 0, 0 },
	{ "\xc1\xbf", 0, 0 },                    /* overlong U+007F */
	{ "\xe0\x9f\xbf", 0, 0 },                /* overlong U+07FF */
	{ "\xf0\x8f\xbf\xbf", 0, 0 },            /* overlong U+FFFF */
	{ "\xed\xbf\xbf", 0, 0 },                /* surrogate U+DFFF */
	{ "\xf5\x80\x80\x80", 0, 0 },            /* lead byte above F4 */
	{ "\xf0\x9f\x98", 0, 0 },                /* 4-byte cut short */
	{ "\xe2\x28\xa1", 0, 0 },                /* bad continuation */
	{ "\xed\x9f\xbf", 3, 0xd7ff },            /* just below surrogates */
	{ "\xee\x80\x80", 3, 0xe000 },            /* just above */
	{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },      /* the last code point */
	{ "\xdf\xbf", 2, 0x7ff },
	{ "\xc2\x80", 2, 0x80 },
};

static const struct {
	const char *in, *term, *json;
} esc[] = {
	{ "plain text", "plain text", "\"plain text\"" },
	{ "caf\xc3\xa9", "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	{ "a\033[31mb", "a\\u001b[31mb", "\"a\\u001b[31mb\"" },
	{ "x\xc2\x9b" "2Jy", "x\\u009b2Jy", "\"x\\u009b2Jy\"" },
	{ "p\xe2\x80\xae" "gnp.exe", "p\\u202egnp.exe", "\"p\\u202egnp.exe\"" },
	{ "\xe2\x81\xa6" "iso\xe2\x81\xa9", "\\u2066iso\\u2069",
	  "\"\\u2066iso\\u2069\"" },
	{ "\xd8\x9c" "alm", "\\u061calm", "\"\\u061calm\"" },
	{ "lrm\xe2\x80\x8e", "lrm\\u200e", "\"lrm\\u200e\"" },
	{ "bad\xff" "byte", "bad\\xffbyte", "\"bad\\ufffdbyte\"" },
	{ "over\xc0\xaf" "long", "over\\xc0\\xaflong",
	  "\"over\\ufffd\\ufffdlong\"" },
	{ "line\nbreak\ttab\x7f", "line\\u000abreak\\u0009tab\\u007f",
	  "\"line\\nbreak\\ttab\\u007f\"" },
	{ "q\"b\\", "q\"b\\", "\"q\\\"b\\\\\"" },
};

static void
test_more(void)
{
	char out[64], e[4];
	uint32_t cp;
	int bad;

	/* encode round-trips decode; surrogates and beyond become U+FFFD */
	static const uint32_t cps[] = { 0, 0x41, 0x7f, 0x80, 0x7ff, 0x800,
	    0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff };
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		size_t k = utf8_encode(cps[i], e);
		CHECK(utf8_decode(e, k, &cp) == k && cp == cps[i],
		    "encode U+%04X", (unsigned)cps[i]);
	}
	CHECK(utf8_encode(0xd800, e) == 3 && memcmp(e, UTF8_REPLACEMENT_STR,
	    3) == 0, "encode a surrogate: U+FFFD");
	CHECK(utf8_encode(0x110000, e) == 3 && memcmp(e, UTF8_REPLACEMENT_STR,
	    3) == 0, "encode beyond U+10FFFF: U+FFFD");

	/* the cleaning decoder: one U+FFFD a bad byte */
	CHECK(utf8_decode_clean("\xc0\xaf", 2, &cp, &bad) == 1 && bad &&
	    cp == UTF8_REPLACEMENT, "clean: overlong lead alone");
	CHECK(utf8_decode_clean("\xe2\x80", 2, &cp, &bad) == 1 && bad,
	    "clean: cut short");
	CHECK(utf8_decode_clean("\xc3\xa9", 2, &cp, &bad) == 2 && !bad &&
	    cp == 0xe9, "clean: good");
	CHECK(utf8_decode_clean("", 0, &cp, &bad) == 0, "clean: empty");
	CHECK(utf8_count("a\xc3\xa9\xff\xf0\x9f\x98\x80", 8) == 4, "count");

	/* the escape that may not allocate (log.c): same as term_escape,
	 * cut before an escape that does not fit, always terminated */
	CHECK(utf8_term_escape(out, sizeof out, "a\033[1m\xff", 6, 0) == 14 &&
	    strcmp(out, "a\\u001b[1m\\xff") == 0, "array escape: '%s'", out);
	CHECK(utf8_term_escape(out, 6, "ab\xe2\x80\xae", 5, 0) == 2 &&
	    strcmp(out, "ab") == 0, "array escape: cut before an escape");
	CHECK(utf8_term_escape(out, 3, "ab\xc3\xa9", 4, 0) == 2 &&
	    strcmp(out, "ab") == 0, "array escape: never half a character");
	CHECK(utf8_term_escape(out, 1, "abc", 3, 0) == 0 && out[0] == '\0',
	    "array escape: room for the NUL only");
}

int
main(void)
{
	uint32_t cp;
	struct buf b;

	for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
		size_t k = utf8_decode(dec[i].in, strlen(dec[i].in), &cp);
		CHECK(k == dec[i].len, "decode #%zu: length %zu, wanted %zu",
		    i, k, dec[i].len);
		if (k && dec[i].len)
			CHECK(cp == dec[i].cp, "decode #%zu: U+%04X", i,
			    (unsigned)cp);
		CHECK(utf8_valid(dec[i].in, strlen(dec[i].in)) ==
		    (dec[i].len == strlen(dec[i].in)), "valid #%zu", i);
	}
	for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
		char *t = term_clean(esc[i].in);
		CHECK(strcmp(t, esc[i].term) == 0, "term #%zu: '%s'", i, t);
		free(t);
		buf_init(&b);
		json_quote_n(&b, esc[i].in, strlen(esc[i].in));
		CHECK(strcmp(b.s, esc[i].json) == 0, "json #%zu: '%s'", i,
		    b.s);
		buf_free(&b);
	}
	/* with TERM_KEEP_LINES, our line breaks and tabs pass */
	buf_init(&b);
	term_escape(&b, "a\nb\tc\rd", 7, TERM_KEEP_LINES);
	CHECK(strcmp(b.s, "a\nb\tc\\u000dd") == 0, "keep lines: '%s'", b.s);
	buf_free(&b);
	/* truncation never cuts a character in two */
	CHECK(utf8_trunc_len("caf\xc3\xa9", 4) == 3, "cut before e-acute");
	CHECK(utf8_trunc_len("caf\xc3\xa9", 5) == 5, "whole");
	CHECK(utf8_trunc_len("\xf0\x9f\x98\x80x", 3) == 0, "cut before emoji");
	CHECK(utf8_trunc_len("abc", 10) == 3, "short");
	CHECK(utf8_trunc_len("", 0) == 0, "empty");
	CHECK(utf8_trunc_len("ab\xe2\x82\xac", 4) == 2, "cut before euro");
	CHECK(utf8_trunc("\xc3\xa9\xc3\xa9", 4, 3) == 2, "trunc: counted");
	CHECK(utf8_trunc("a\xff\xfe", 3, 2) == 2, "trunc: bad bytes one each");
	CHECK(utf8_trunc("\xe2\x82\xac", 3, 0) == 0, "trunc to 0");
	CHECK(utf8_is_bidi_control(0x202d) && !utf8_is_bidi_control(0x2070),
	    "bidi set");
	test_more();
	return DONE();
}
