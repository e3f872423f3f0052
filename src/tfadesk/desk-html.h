/*
 * desk-html.h - the staff desk's HTML (desk-html.c): the one escaping
 * function every dynamic string of a page goes through, the page frame and
 * the stylesheet. The desk itself (tfadesk desk) is desk.c; the staff
 * logins it needs are staff.c.
 */
#ifndef DESK_HTML_H
#define DESK_HTML_H

#include <stddef.h>

struct buf;

/* Text from anywhere (mail above all) as HTML text or attribute value:
 * & < > " ' escaped; C0/C1 controls, DEL and bidi controls shown as
 * visible escapes (term_escape), bad UTF-8 as "\xff"; lines kept. The one
 * escaping function of the desk: every dynamic string goes through it. */
void html_text(struct buf *, const char *s, size_t n);
void html_str(struct buf *, const char *s);      /* NULL: nothing */
/* The same, with every run of 7 to 15 digits (a phone number) masked as
 * mask_phone() does. */
void html_masked(struct buf *, const char *s);
void html_begin(struct buf *, const char *title, const char *staff,
    const char *csrf);
void html_end(struct buf *);
extern const char desk_css[];

#endif
