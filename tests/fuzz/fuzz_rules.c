/* fuzz_rules.c - the ticket rules (rules/tickets.yaml) on a message:
 * header lines "Name: value" up to a blank line (Subject and From among
 * them), then the new text of the body. As in production, every text is
 * valid UTF-8 (mime.c makes it so) before rules_match() classifies the
 * message and extracts users, accounts and numbers. */
#include "fuzz.h"
#include "tfadesk/mime.h"
#include "tfadesk/charset.h"
#include "tfadesk/rules.h"

#define MAXH 16

static struct rules *R;

static char *
clean(const uint8_t *s, size_t n, int mode)
{
	struct buf b = MIME_BUF;
	char *r;

	mime_utf8_add(&b, (const char *)s, n, mode);
	if ((r = buf_steal(&b)) == NULL)
		abort();
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_header hs[MAXH];
	struct rmatch rm;
	struct msg m;
	const uint8_t *hdr, *body, *p, *e, *nl, *colon;
	size_t hlen, blen, n = 0;

	if (R == NULL && (R = rules_load(fuzz_path("rules/tickets.yaml"))) ==
	    NULL)
		abort();
	fuzz_split(data, size, "\n\n", &hdr, &hlen, &body, &blen);
	memset(&m, 0, sizeof m);
	for (p = hdr, e = hdr + hlen; p < e && n < MAXH; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if ((colon = memchr(p, ':', (size_t)(nl - p))) == NULL)
			continue;
		hs[n].name = clean(p, (size_t)(colon - p), MU_HEADER);
		hs[n].value = clean(colon + 1, (size_t)(nl - colon - 1),
		    MU_HEADER);
		if (strcasecmp(hs[n].name, "Subject") == 0 && !m.subject)
			m.subject = hs[n].value;
		if (strcasecmp(hs[n].name, "From") == 0 && !m.from_addr)
			m.from_addr = hs[n].value;
		n++;
	}
	m.headers = hs;
	m.nheaders = n;
	if (m.subject == NULL)
		m.subject = "";
	m.new_text = clean(body, blen, MU_TEXT);
	rules_match(R, &m, &rm);
	rmatch_clear(&rm);
	free(m.new_text);
	for (size_t i = 0; i < n; i++) {
		free(hs[i].name);
		free(hs[i].value);
	}
	return 0;
}
