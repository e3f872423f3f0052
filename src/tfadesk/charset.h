/*
 * charset.h - text into valid UTF-8 (charset.c): charset names and iconv,
 * the transfer decodings (base64, quoted-printable), and a case-insensitive
 * compare; shared by the MIME files (mime.c, header.c, quoted.c, html.c)
 * and autoreply.c only. Nothing here aborts: text is built in bounded
 * buffers (struct buf made with MIME_BUF), where an allocation failure sets
 * err and later calls do nothing; buf_steal() then gives NULL.
 */
#ifndef CHARSET_H
#define CHARSET_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"

#define MIME_BUF_MAX (SIZE_MAX / 4)
#define MIME_BUF BUF_BOUNDED(MIME_BUF_MAX)

/* How mime_utf8_add treats control characters. */
enum { MU_KEEP, MU_TEXT, MU_HEADER };
/* Append S as valid UTF-8: each invalid byte becomes U+FFFD.
 * MU_TEXT: CRLF and CR become LF, NUL and C0 controls other than TAB, LF
 * and FF are dropped. MU_HEADER: TAB, CR, LF become space, other controls
 * are dropped. */
void mime_utf8_add(struct buf *, const char *s, size_t n, int mode);
/* Append bytes in CHARSET (NULL: guess) converted to UTF-8, always valid. */
void mime_to_utf8(struct buf *, const char *charset, const char *s,
    size_t n, int mode);
/* Windows-1252 code point of byte C (>= 0x80); 0xFFFD if undefined. */
unsigned long mime_cp1252(unsigned char c);

/* A[0..ALEN) is LIT, ignoring ASCII case. Inline: called with a literal
 * for every header of every message, whose length the compiler knows. */
static inline int
mime_strncaseeq(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen == n && strncasecmp(a, lit, n) == 0;
}

/* Append the decoded bytes. Base64 is tolerant: whitespace skipped, other
 * junk counted in *BAD (BAD may be NULL). Quoted-printable (RFC 2045 6.7)
 * is tolerant of bad escapes; with HDR, the RFC 2047 Q form ('_' is a
 * space). */
void mime_b64_decode(struct buf *, const char *s, size_t n, int *bad);
void mime_qp_decode(struct buf *, const char *s, size_t n, int hdr);

#endif
