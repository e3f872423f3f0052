/*
 * mime-int.h - helpers shared by mime.c, html.c and loop.c only.
 * Like mime.h, this does not include tfadesk.h: nothing here aborts; an
 * allocation failure sets mbuf.oom and later calls do nothing.
 */
#ifndef MIME_INT_H
#define MIME_INT_H

#include <stddef.h>

/* A growable byte string, NUL-terminated when p != NULL. */
struct mbuf {
	char *p;
	size_t len, cap;
	int oom;
};

int mbuf_reserve(struct mbuf *, size_t more);  /* -1 (and oom) on failure */
void mbuf_add(struct mbuf *, const void *, size_t);
void mbuf_adds(struct mbuf *, const char *);
void mbuf_addc(struct mbuf *, int);
void mbuf_add_cp(struct mbuf *, unsigned long cp);  /* as UTF-8 */
/* The string, owned by the caller ("" when empty); NULL after OOM. */
char *mbuf_steal(struct mbuf *);
void mbuf_free(struct mbuf *);

/* How mime_utf8_add treats control characters. */
enum { MU_KEEP, MU_TEXT, MU_HEADER };
/* Append S as valid UTF-8: each invalid byte becomes U+FFFD.
 * MU_TEXT: CRLF and CR become LF, NUL and C0 controls other than TAB, LF
 * and FF are dropped. MU_HEADER: TAB, CR, LF become space, other controls
 * are dropped. */
void mime_utf8_add(struct mbuf *, const char *s, size_t n, int mode);
/* Append bytes in CHARSET (NULL: guess) converted to UTF-8, always valid. */
void mime_to_utf8(struct mbuf *, const char *charset, const char *s,
    size_t n, int mode);
/* Windows-1252 code point of byte C (>= 0x80); 0xFFFD if undefined. */
unsigned long mime_cp1252(unsigned char c);

int mime_strncaseeq(const char *a, size_t alen, const char *lit);

#endif
