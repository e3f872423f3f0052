/*
 * process-names.c - does the name given in a ticket match the one we hold?
 * Names are compared folded: accents off (Latin-1 and Latin Extended-A),
 * lower case, single spaces, "Surname, First" turned round.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "utf8.h"
#include "tfadesk/process-int.h"

/* Latin-1 Supplement and Latin Extended-A letters without their accents,
 * lower case; "" for what is not a letter. */
static const char *const fold_c0[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "y"
};
static const char fold_100[] =
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkklllllllll"
	"lnnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/* Appends the folded form of the code point at *P (advancing it). */
static void
fold_char(struct buf *b, const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80) {
		char c = (char)p[0];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf_addc(b, c);
		*pp = p + 1;
		return;
	}
	if ((n = utf8_decode((const char *)p, strnlen((const char *)p, 4),
	    &cp)) == 0) {
		/* not UTF-8: the byte as is */
		buf_add(b, p, 1);
		*pp = p + 1;
		return;
	}
	*pp = p + n;
	if (cp >= 0x300 && cp <= 0x36F)          /* combining accents */
		return;
	if (cp == 0xA0 || cp == 0x2002 || cp == 0x2003 || cp == 0x2009 ||
	    cp == 0x202F) {
		buf_addc(b, ' ');
		return;
	}
	if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032 || cp == 0x60) {
		buf_addc(b, '\'');
		return;
	}
	if (cp == 0x2010 || cp == 0x2011 || cp == 0x2013) {
		buf_addc(b, '-');
		return;
	}
	if (cp >= 0xC0 && cp <= 0xFF && fold_c0[cp - 0xC0]) {
		buf_adds(b, fold_c0[cp - 0xC0]);
		return;
	}
	if (cp >= 0x100 && cp <= 0x17F) {
		if (cp == 0x132 || cp == 0x133)
			buf_adds(b, "ij");
		else if (cp == 0x152 || cp == 0x153)
			buf_adds(b, "oe");
		else
			buf_addc(b, fold_100[cp - 0x100]);
		return;
	}
	buf_add(b, p, n);
}

/*
 * A name as compared: accents folded, lower case, single spaces, and
 * "Surname, First" turned round. Owned.
 */
static char *
name_key(const char *name)
{
	struct buf f, k;
	const unsigned char *p = (const unsigned char *)name;
	char *comma, *s, empty[1] = "";

	buf_init(&f);
	while (*p)
		fold_char(&f, &p);
	s = f.s ? f.s : empty;
	buf_init(&k);
	comma = strchr(s, ',');
	if (comma && strchr(comma + 1, ',') == NULL) {
		*comma = '\0';
		buf_adds(&k, comma + 1);
		buf_addc(&k, ' ');
		buf_adds(&k, s);
	} else
		buf_adds(&k, s);
	buf_free(&f);
	/* collapse blanks */
	s = k.s ? k.s : empty;
	char *out = xmalloc(strlen(s) + 1), *o = out;
	int sp = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			sp = o != out;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = 0;
		*o++ = *s;
	}
	*o = '\0';
	buf_free(&k);
	return out;
}

/* Same name, forgiving case, spacing, accents and "Surname, First". */
int
name_match(const char *given, const char *record)
{
	char *a, *b;
	int eq;

	if (given == NULL || record == NULL)
		return 0;
	a = name_key(given);
	b = name_key(record);
	eq = *a != '\0' && strcmp(a, b) == 0;
	free(a);
	free(b);
	return eq;
}
