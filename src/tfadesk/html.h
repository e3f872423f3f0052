/*
 * html.h - HTML mail to readable UTF-8 text (html.c). Self-contained: does
 * not include tfadesk.h; returns NULL on out-of-memory only.
 */
#ifndef HTML_H
#define HTML_H

#include <stddef.h>

/* HTML to readable text (blocks to lines, cells to " | ", entities decoded,
 * script/style dropped). Owned, NULL on OOM. */
char *html_to_text(const char *html, size_t len);
/* The same; WHY (WHYSZ bytes, may be NULL) gets "" or, when the HTML uses
 * anything able to hide text, a reason naming the first such construct. */
char *html_to_text_why(const char *html, size_t len, char *why,
    size_t whysz);

#endif
