/* fuzz_phone.c - phone numbers as people type them: phone_parse()
 * (the C++ adapter over libphonenumber) with and without a default
 * region, and phone_check() under rules/numbering.yaml. */
#include "fuzz.h"
#include "phone.h"

static struct numbering *N;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phone_info info;
	const char *why;
	char out[20], *s;

	if (N == NULL && (N = numbering_load(fuzz_path(
	    "rules/numbering.yaml"))) == NULL)
		abort();
	if (size > 256)
		return 0;
	s = fuzz_str(data, size);
	phone_parse(s, "GB", &info);
	phone_parse(s, NULL, &info);
	phone_check(N, s, "GB", out, &why);
	phone_normalize(NULL, s, "IE", out, &why);
	free(s);
	return 0;
}
