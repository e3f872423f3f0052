/* fuzz_authres.c - Authentication-Results: auth_parse() on one header
 * value, and auth_check() on a message whose headers are the input's
 * lines ("Name: value"), the From domain "acme.example". */
#include "fuzz.h"
#include "tfadesk/mime.h"
#include "tfadesk/authres.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *dkim = NULL, *spf = NULL;
	char *sum = NULL, why[256], err[256], *line, *save = NULL;
	struct msg_header hs[16];
	char from[] = "noc@acme.example";
	struct msg m;
	size_t n = 0;

	auth_parse(s, "mx.500.uk.com", "acme.example", &dkim, &spf, &sum, err,
	    sizeof err);
	free(dkim);
	free(spf);
	free(sum);
	auth_aligned("mail.acme.example", s);

	memset(&m, 0, sizeof m);
	for (line = strtok_r(s, "\n", &save); line && n < 16;
	    line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		hs[n].name = line;
		hs[n].value = colon + 1;
		n++;
	}
	m.headers = hs;
	m.nheaders = n;
	m.from_addr = from;
	m.subject = from + sizeof from - 1;
	auth_check(&m, "mx.500.uk.com", why, sizeof why);
	free(s);
	return 0;
}
