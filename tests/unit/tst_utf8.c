/* tst_utf8.c - the UTF-8 decoder, truncation, and the terminal and JSON
 * escapers that every output of mail text goes through. */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "utf8.h"
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
		json_quote(&b, esc[i].in);
		CHECK(strcmp(b.s, esc[i].json) == 0, "json #%zu: '%s'", i,
		    b.s);
		buf_free(&b);
	}
	/* with TERM_KEEP_LINES, our line breaks and tabs pass */
	buf_init(&b);
	term_escape(&b, "a\nb\tc\rd", 7, TERM_KEEP_LINES);
	CHECK(strcmp(b.s, "a\nb\tc\\u000dd") == 0, "keep lines: '%s'", b.s);
	buf_free(&b);
	buf_init(&b);
	json_quote(&b, NULL);
	CHECK(strcmp(b.s, "null") == 0, "json NULL");
	buf_free(&b);
	/* truncation never cuts a character in two */
	CHECK(utf8_trunc_len("caf\xc3\xa9", 4) == 3, "cut before e-acute");
	CHECK(utf8_trunc_len("caf\xc3\xa9", 5) == 5, "whole");
	CHECK(utf8_trunc_len("\xf0\x9f\x98\x80x", 3) == 0, "cut before emoji");
	CHECK(utf8_trunc_len("abc", 10) == 3, "short");
	CHECK(utf8_is_bidi_control(0x202d) && !utf8_is_bidi_control(0x2070),
	    "bidi set");
	return DONE();
}
