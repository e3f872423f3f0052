/* fuzz_mime.c - a raw message to text: msg_parse() (MIME, RFC 2047,
 * charsets, HTML parts, quote and signature split) and the quick
 * Message-ID scan, with the production limits and with tight ones. */
#include "fuzz.h"
#include "tfadesk/mime.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg_limits dflt = MSG_LIMITS_DEFAULT;
	static const struct msg_limits tight = { 4096, 8, 3 };
	const char *why;
	struct msg *m;
	char *id;

	/* an exact-size copy: a read past the end is caught */
	char *raw = malloc(size ? size : 1);

	if (raw == NULL)
		return 0;
	memcpy(raw, data, size);
	m = msg_parse(raw, size, (size & 1) ? &tight : &dflt);
	if (m != NULL) {
		msg_header(m, "Authentication-Results");
		msg_is_automatic(m, "support@example.com", &why);
		msg_free(m);
	}
	id = mime_message_id(raw, size);
	free(id);
	free(raw);
	return 0;
}
