/*
 * header.h - the header block of a raw message (header.c), for mime.c:
 * scanned into raw fields, unfolded, decoded to one clean UTF-8 line,
 * Message-IDs extracted. mime_message_id and mime_identity are in mime.h.
 */
#ifndef HEADER_H
#define HEADER_H

#include <stddef.h>

#include "tfadesk.h"

struct rawhdr {
	const char *name;
	size_t namelen;
	const char *val;	/* raw, with folds */
	size_t vallen;
};

/* The end of the line at P: its '\n', or END. */
const char *mime_find_eol(const char *p, const char *end);
/* Split the header block into RAWHDR entries; *BODY is where the body
 * starts, *HEND (if not NULL) where the header block ends: the blank line
 * that ends it, or LEN. Lines that are not headers (an mbox "From " line,
 * garbage) are skipped. Returns -1 on OOM. */
int mime_scan_headers(const char *raw, size_t len, struct rawhdr **,
    size_t *n, size_t *body, size_t *hend);
/* Unfold: drop CR and LF (the folding whitespace that follows stays). */
void mime_unfold(struct buf *, const char *s, size_t n);
/* The decoded (DECODE: RFC 2047 words), cleaned value of a raw header
 * value: one line, valid UTF-8, runs of blanks collapsed, trimmed. NULL on
 * OOM. */
char *mime_hdr_value(const char *raw, size_t n, int decode);
/* "<id>" (first one) from a raw value, without <>; bare tokens accepted.
 * Owned; NULL if none. */
char *mime_extract_id(const char *s, size_t n);

#endif
