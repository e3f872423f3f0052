/*
 * desk.h - the staff desk (tfadesk desk): a small web application served
 * by tfadesk itself (libmicrohttpd), and the staff logins it needs.
 *
 *   staff.c      tfadesk staff add|list|disable|enable
 *   desk.c       the HTTP server: login (password, then an SMS code through
 *                the verifier's own code), sessions, CSRF, the pages and
 *                the actions
 *   desk-html.c  the one HTML escaping function, the page frame, the
 *                stylesheet
 */
#ifndef DESK_H
#define DESK_H

#include <stddef.h>

struct buf;

#define DESK_MIN_PASSWORD 10

/* staff.c: 1-32 of a-z 0-9 . - _ */
int desk_valid_staff_name(const char *);

/* desk-html.c */
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
