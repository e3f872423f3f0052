/*
 * term.h - text from mail made safe for a terminal (JSON strings: json.c), into
 * a buf (the escapes themselves are utf8_term_step in utf8.c).
 */
#ifndef TFADESK_TERM_H
#define TFADESK_TERM_H

#include <stddef.h>
#include <stdio.h>

#include "utf8.h"

struct buf;

/*
 * Text that came from mail, made safe for a terminal: C0 and C1 controls,
 * DEL and bidi controls are shown as visible escapes ("\u009b"), bytes that
 * are not UTF-8 as "\xff". With TERM_KEEP_LINES, '\n' and '\t' pass.
 * This is the one function every plain-text output of mail text uses.
 */
void term_escape(struct buf *, const char *s, size_t n, int flags);
char *term_clean(const char *s);        /* owned; NULL gives "" */
void term_puts(FILE *, const char *s);  /* writes term_clean(S) */
#endif
