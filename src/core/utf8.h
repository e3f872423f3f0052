/*
 * utf8.h - the one home of UTF-8 decoding, validation, truncation and of
 * making text from mail safe to show on a terminal.
 *
 * Decoding is strict (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
#ifndef TFADESK_UTF8_H
#define TFADESK_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct buf;

/* Decodes one code point at S (N bytes available): returns its length in
 * bytes (1-4) and sets *CP, or 0 when the bytes there are not valid UTF-8. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* 1 when all N bytes at S are valid UTF-8. */
int utf8_valid(const char *s, size_t n);
/* An owned copy of the N bytes at S in which each byte that does not
 * start a valid sequence is U+FFFD: what a text column takes whatever
 * the input (db_bind_text). */
char *utf8_scrub(const char *s, size_t n);
/* The largest length <= MAX that does not cut a sequence in two. */
size_t utf8_trunc_len(const char *s, size_t max);

/* Bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069): they reorder what a reader sees. */
int utf8_is_bidi_control(uint32_t cp);
/* C0 and C1 controls and DEL. */
int utf8_is_control(uint32_t cp);

/*
 * Text that came from mail, made safe for a terminal: C0 and C1 controls,
 * DEL and bidi controls are shown as visible escapes ("\u009b"), bytes that
 * are not UTF-8 as "\xff". With TERM_KEEP_LINES, '\n' and '\t' pass.
 * This is the one function every plain-text output of mail text uses.
 */
#define TERM_KEEP_LINES 0x1
void term_escape(struct buf *, const char *s, size_t n, int flags);
char *term_clean(const char *s);        /* owned; NULL gives "" */
void term_puts(FILE *, const char *s);  /* writes term_clean(S) */
/* Appends S as a JSON string ("..."): controls, DEL, C1 and bidi controls
 * as \uXXXX; bytes that are not UTF-8 as U+FFFD. NULL gives null. */
void json_quote(struct buf *, const char *s);

#endif
