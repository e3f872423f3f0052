/* tst_json.c - the one JSON writer: separators, nesting, key order, and
 * string escaping of hostile text (RFC 8259, plus U+2028/U+2029, C1 and
 * bidi controls; bytes that are not UTF-8 as U+FFFD). */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "json.h"
#include "check.h"

static const struct {
	const char *in, *out;
} esc[] = {
	{ "plain", "\"plain\"" },
	{ "q\"b\\", "\"q\\\"b\\\\\"" },
	{ "a\nb\r\tc", "\"a\\nb\\r\\tc\"" },
	{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
	{ "\xc2\x9b", "\"\\u009b\"" },                  /* C1 CSI */
	{ "\xe2\x80\xae", "\"\\u202e\"" },              /* RLO */
	{ "a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"" },
	{ "caf\xe9", "\"caf\\ufffd\"" },                /* Latin-1 */
	{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* a surrogate */
	{ "\xc3\xa9\xf0\x9f\x98\x80", "\"\xc3\xa9\xf0\x9f\x98\x80\"" },
	{ "</script>", "\"</script>\"" },
};

int
main(void)
{
	struct buf b = { 0 };
	struct json j;

	for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
		buf_reset(&b);
		json_init(&j, &b, 0);
		json_str(&j, esc[i].in);
		CHECK(b.s && strcmp(b.s, esc[i].out) == 0, "escape %zu: %s", i,
		    b.s);
	}

	/* compact: the CLI's --json and the stored fields/results */
	buf_reset(&b);
	json_init(&j, &b, 0);
	json_arr(&j);
	json_obj(&j);
	json_kint(&j, "id", 7);
	json_kstr(&j, "s", NULL);
	json_kbool(&j, "t", 1);
	json_key(&j, "l");
	json_arr(&j);
	json_str(&j, "a");
	json_int(&j, -1);
	json_end(&j);
	json_kraw(&j, "raw", "{\"x\":1}");
	json_kraw(&j, "none", "");
	json_end(&j);
	json_obj(&j);
	json_end(&j);
	json_end(&j);
	CHECK(strcmp(b.s, "[{\"id\":7,\"s\":null,\"t\":true,\"l\":[\"a\",-1],"
	    "\"raw\":{\"x\":1},\"none\":null},{}]") == 0, "compact: %s", b.s);

	/* spaced: the verifier's answers */
	buf_reset(&b);
	json_init(&j, &b, JSON_SPACED);
	json_obj(&j);
	json_kstr(&j, "outcome", "rate_limited");
	json_kint(&j, "retry_after", 30);
	json_key(&j, "e");
	json_arr(&j);
	json_end(&j);
	json_end(&j);
	CHECK(strcmp(b.s, "{\"outcome\": \"rate_limited\", \"retry_after\": 30, "
	    "\"e\": []}") == 0, "spaced: %s", b.s);

	/* keys are escaped too */
	buf_reset(&b);
	json_init(&j, &b, 0);
	json_obj(&j);
	json_kint(&j, "k\"\n", 1);
	json_end(&j);
	CHECK(strcmp(b.s, "{\"k\\\"\\n\":1}") == 0, "key: %s", b.s);
	buf_free(&b);
	return DONE();
}
