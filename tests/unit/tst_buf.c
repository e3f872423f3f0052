/* tst_buf.c - the one growable buffer: plain, bounded (mime.c, html.c and
 * tmpl.c build text from outside in bounded ones), code points as UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "check.h"

int
main(void)
{
	struct buf b = { 0 }, m = BUF_BOUNDED(8);
	char *s;

	/* plain: grows, always NUL-terminated */
	for (int i = 0; i < 1000; i++)
		CHECK(buf_addc(&b, 'a' + i % 26) == 0, "addc %d", i);
	CHECK(b.len == 1000 && b.s[1000] == '\0' && b.s[26] == 'a', "1000");
	buf_addf(&b, "%d-%s", 42, "x");
	CHECK(strcmp(b.s + 1000, "42-x") == 0, "addf");
	s = buf_steal(&b);
	CHECK(s && strlen(s) == 1004 && b.s == NULL && b.len == 0, "steal");
	free(s);
	s = buf_steal(&b);
	CHECK(s && *s == '\0', "steal of nothing: \"\"");
	free(s);

	/* bounded: up to MAX bytes, then sticky failure */
	CHECK(buf_adds(&m, "12345") == 0 && buf_add(&m, "678", 3) == 0,
	    "8 bytes fit in 8");
	CHECK(m.cap <= 9, "no more room than the bound: %zu", m.cap);
	CHECK(buf_addc(&m, '9') == -1 && m.err == BUF_TOOBIG, "the 9th fails");
	buf_reset(&m);
	CHECK(buf_addc(&m, 'x') == -1, "an error sticks, even with room");
	CHECK(buf_steal(&m) == NULL && m.err == 0 && m.max == 8,
	    "steal after an error: NULL; the bound stays");
	CHECK(buf_add(&m, "abcdefgh", 8) == 0 && buf_add(&m, "", 0) == 0,
	    "usable again");
	buf_free(&m);
	CHECK(buf_addf(&m, "%s", "123456789") == -1 && m.err == BUF_TOOBIG,
	    "addf is bounded too");
	buf_free(&m);
	/* addf formats into the room there is, again when it did not fit:
	 * what was cut off is never kept, the NUL stays at len */
	CHECK(buf_adds(&m, "ab") == 0 && m.cap > 5, "room left");
	CHECK(buf_addf(&m, "%d", 123) == 0 && strcmp(m.s, "ab123") == 0 &&
	    m.len == 5, "addf into the room: %s", m.s);
	CHECK(buf_addf(&m, "%s", "xyzw") == -1 && m.len == 5 &&
	    m.s[5] == '\0' && strcmp(m.s, "ab123") == 0,
	    "addf past the bound: nothing of it kept: %s", m.s);
	buf_free(&m);
	buf_init(&b);
	CHECK(buf_adds(&b, "0123456789") == 0, "ten");
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "%s%d;", "item-", i);
	CHECK(b.len == 10 + 10 * 7 + 90 * 8 && strncmp(b.s + 10, "item-0;",
	    7) == 0 && strcmp(b.s + b.len - 8, "item-99;") == 0 &&
	    b.s[b.len] == '\0', "addf grows through many formats");
	buf_free(&b);

	/* code points */
	buf_init(&b);
	buf_add_cp(&b, 0x41);
	buf_add_cp(&b, 0xE9);
	buf_add_cp(&b, 0x20AC);
	buf_add_cp(&b, 0x1F600);
	buf_add_cp(&b, 0xD800);         /* a surrogate */
	buf_add_cp(&b, 0x110000);       /* beyond Unicode */
	CHECK(strcmp(b.s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\xef\xbf\xbd\xef\xbf\xbd") == 0, "UTF-8 of code points");
	buf_free(&b);
	return DONE();
}
