/*
 * tmpl.h - a small mustache-style renderer, used for reply mail (tfadesk)
 * and for the lockout message and SMS text (tfadesk-verify).
 *
 *   {{name}}               the value, as text; never re-read as template
 *   {{#list}}...{{/list}}  once per item of a list (or once if a true value)
 *   {{^name}}...{{/name}}  when name is missing, empty, false or an empty list
 *   {{! comment }}
 * Inside a section, names are looked up in the item first, then outwards.
 * Self-contained: returns NULL/-1 instead of aborting.
 */
#ifndef TMPL_H
#define TMPL_H

#include <stddef.h>

struct tv;                 /* a value: map of name -> string / list of maps */

struct tv *tv_new(void);   /* an empty map */
void tv_free(struct tv *);
int tv_set(struct tv *map, const char *name, const char *value);   /* copies */
int tv_setf(struct tv *map, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a new map as the last item of list NAME (created if needed); the
 * item is borrowed from MAP. */
struct tv *tv_add(struct tv *map, const char *name);
const char *tv_get(const struct tv *map, const char *name); /* borrowed */
/* Replaces every string value in MAP and in its lists, at any depth, by
 * FN(name, value, ARG), which returns a malloc'd string (owned by the map
 * then) or NULL on failure (-1). Used to mask phone numbers in replies. */
int tv_map(struct tv *map,
    char *(*fn)(const char *name, const char *value, void *arg), void *arg);

/* Renders; NULL and *err (owned) on a syntax error: "line N: why". */
char *tmpl_render(const char *tmpl, const struct tv *ctx, char **err);
/* The same in two steps, for a template rendered many times: parsed once
 * (NULL and *err on a syntax error), then rendered as often as needed
 * (NULL and *err when the text is too big or too much work). */
struct tmpl;
struct tmpl *tmpl_compile(const char *tmpl, char **err);
char *tmpl_run(const struct tmpl *, const struct tv *ctx, char **err);
void tmpl_free(struct tmpl *);
/* Reads DIR/NAME and renders it. */
char *tmpl_render_file(const char *dir, const char *name, const struct tv *ctx,
    char **err);

#endif
