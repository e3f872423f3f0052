/* fuzz_html.c - HTML mail to text: html_to_text() on the bytes as they
 * are (not NUL-terminated: the buffer ends exactly at SIZE). */
#include "fuzz.h"
#include "tfadesk/html.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *html = malloc(size ? size : 1), *t;

	if (html == NULL)
		return 0;
	memcpy(html, data, size);
	t = html_to_text(html, size);
	free(t);
	free(html);
	return 0;
}
