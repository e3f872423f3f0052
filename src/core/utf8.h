/*
 * utf8.h - the one home of UTF-8 decoding, encoding, validation, cleaning
 * and truncation. A leaf: it calls nothing else of ours (log.c uses it).
 *
 * Decoding is strict (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no sequence cut short.
 *
 * Cleaning has one policy everywhere: each byte that does not start a
 * valid sequence becomes one U+FFFD (as WHATWG and json_quote do).
 */
#ifndef TFADESK_UTF8_H
#define TFADESK_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffd
#define UTF8_REPLACEMENT_STR "\xef\xbf\xbd"

/* Decodes one code point at S (N bytes available): returns its length in
 * bytes (1-4) and sets *CP, or 0 when the bytes there are not valid UTF-8. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* The cleaning decoder: as utf8_decode, but a byte that starts no valid
 * sequence is consumed alone (returns 1) as U+FFFD with *BAD set.
 * Returns 0 only when N is 0. */
size_t utf8_decode_clean(const char *s, size_t n, uint32_t *cp, int *bad);
/* Writes CP (U+FFFD if it is a surrogate or above U+10FFFF) to OUT:
 * returns 1-4. */
size_t utf8_encode(uint32_t cp, char out[4]);
/* 1 when all N bytes at S are valid UTF-8. */
int utf8_valid(const char *s, size_t n);
/* 1 when the string S is a line of text a person typed: 1 to MAX bytes
 * of valid UTF-8 with no C0 control character and no DEL (names, notes,
 * reasons given on the command line or in an import file). */
int utf8_valid_text(const char *s, size_t max);
/* An owned copy of the N bytes at S in which each byte that does not
 * start a valid sequence is U+FFFD: what a text column takes whatever
 * the input (db_bind_text). NULL when out of memory. */
char *utf8_scrub(const char *s, size_t n);
/* The largest length <= MAX that does not cut a sequence in two. */
size_t utf8_trunc_len(const char *s, size_t max);
/* The same for the N bytes at S (which need not end in a NUL). */
size_t utf8_trunc(const char *s, size_t n, size_t max);
/* Code points in the N bytes at S (an invalid byte counts as one). */
size_t utf8_count(const char *s, size_t n);

/* Bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069): they reorder what a reader sees. */
int utf8_is_bidi_control(uint32_t cp);
/* C0 and C1 controls and DEL. */
int utf8_is_control(uint32_t cp);

/*
 * The terminal escape of text from mail, one step: C0 and C1 controls, DEL
 * and bidi controls become visible escapes ("\u009b"), bytes that are not
 * UTF-8 "\xff"; with TERM_KEEP_LINES '\n' and '\t' pass. Consumes one
 * character at S (N > 0 bytes), writes its escaped form to OUT (not
 * NUL-terminated), sets *OUTLEN and returns the bytes consumed.
 */
#define TERM_KEEP_LINES 0x1
#define UTF8_ESC_MAX    8
size_t utf8_term_step(const char *s, size_t n, int flags,
    char out[UTF8_ESC_MAX], size_t *outlen);
/* The whole of S (N bytes) escaped into DST (CAP > 0 bytes, always
 * NUL-terminated; cut before an escape that does not fit). Returns the
 * length written. For writers that may not allocate (log.c). */
size_t utf8_term_escape(char *dst, size_t cap, const char *s, size_t n,
    int flags);

#endif
