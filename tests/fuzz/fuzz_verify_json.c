/* fuzz_verify_json.c - the verifier's HTTP request bodies: the parser
 * behind POST /v1/challenges and /v1/challenges/check (serve.c), on at
 * most the 4 KiB the service reads. */
#include "fuzz.h"
#include "verify/verify.h"

#include <jansson.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *user_id, *code;
	char err[256];
	json_t *root;

	if (size > 4096)
		return 0;
	for (int want_code = 0; want_code < 2; want_code++) {
		err[0] = '\0';
		root = serve_parse_body((const char *)data, size, want_code,
		    &user_id, &code, err, sizeof err);
		if (root == NULL && err[0] == '\0')
			abort();	/* a refusal always says why */
		json_decref(root);
	}
	return 0;
}
