/*
 * ydoc.h - the one YAML loader (yaml.c, the only libyaml user): a document
 * read into a compact node tree, and the one reporter of its problems.
 *
 * (Not named yaml.h: with -Isrc/core that name would hide libyaml's own.)
 *
 * The tree is built from libyaml's events: a node is 32 bytes and scalar
 * text sits in large blocks, so memory stays proportional to the file
 * (db import reads 100,000 users through it). Only the first document of a
 * file is read. Refused, each reported as "FILE:LINE: what": aliases
 * (a few lines must not name a huge tree: "billion laughs"), nesting deeper
 * than max_depth, files larger than max_bytes, bytes that are not UTF-8, NUL
 * characters, and a key given twice in one mapping (the later pair is
 * dropped, so callers never see it).
 *
 * Every problem, the loader's and the caller's (ydoc_error), is one line
 * "FILE:LINE: what" (or "FILE: what"); ydoc_done() ends with "FILE: N
 * errors" and returns N.
 */
#ifndef TFADESK_YDOC_H
#define TFADESK_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tfadesk.h"

#define YDOC_MAX_DEPTH 32
#define YDOC_MAX_BYTES (256UL << 20)

enum ynode_type { YN_SCALAR = 1, YN_SEQ, YN_MAP };

struct ynode {
	unsigned char type;     /* enum ynode_type */
	unsigned char flags;    /* private */
	unsigned char plain;    /* a scalar written without quotes */
	uint32_t line;          /* 1-based */
	uint32_t len;           /* a scalar's bytes */
	uint32_t first, next;   /* children (a map's: key, value, ...), 1-based */
	const char *value;      /* a scalar's text, NUL-terminated */
};

struct yblock;
struct ydoc {
	const char *file;       /* for messages, borrowed */
	size_t max_bytes;       /* 0: YDOC_MAX_BYTES */
	int max_depth;          /* 0: YDOC_MAX_DEPTH */
	int errors;             /* problems reported so far */
	/* private */
	struct ynode *n;
	size_t nn, cap;
	struct yblock *blocks;
};

void ydoc_init(struct ydoc *, const char *file);
/* 0, or -1 when the document could not be read (already reported); the
 * problems that do not stop the reading only count in ->errors. */
int ydoc_load_file(struct ydoc *, FILE *);
int ydoc_load_mem(struct ydoc *, const void *, size_t);
void ydoc_free(struct ydoc *);

struct ynode *ydoc_root(struct ydoc *);          /* NULL: an empty file */
struct ynode *ynode_first(struct ydoc *, const struct ynode *);
struct ynode *ynode_next(struct ydoc *, const struct ynode *);
size_t ynode_count(struct ydoc *, const struct ynode *); /* items, pairs */
const char *ynode_str(const struct ynode *);  /* a scalar's text, or NULL */
int ynode_line(const struct ynode *);         /* 0 for NULL */

/* Walks a mapping's pairs / a sequence's items (NULL or a scalar: none). */
#define YMAP_FOREACH(d, m, k, v)					\
	for ((k) = ((m) && (m)->type == YN_MAP) ? ynode_first(d, m) : NULL; \
	    (k) != NULL && ((v) = ynode_next(d, k)) != NULL;		\
	    (k) = ynode_next(d, v))
#define YSEQ_FOREACH(d, s, e)						\
	for ((e) = ((s) && (s)->type == YN_SEQ) ? ynode_first(d, s) : NULL; \
	    (e) != NULL; (e) = ynode_next(d, e))

void ydoc_error(struct ydoc *, int line, const char *fmt, ...)
    PRINTFLIKE(3, 4);
/* "FILE: N errors" (", WHAT" after it when given) when N > 0; returns N */
int ydoc_done(struct ydoc *, const char *what);

#endif
