/*
 * reply-int.h - the parts of reply.c that tests drive without a database:
 * building one complete reply message, and the encoders it uses.
 */
#ifndef REPLY_INT_H
#define REPLY_INT_H

#include <stdint.h>

struct buf;
struct config;
struct msg;
struct tv;

struct reply_out {
	char *message;       /* owned: complete RFC 5322 message, CRLF */
	size_t len;
	char *msgid;         /* owned: without <> */
	char *mail_from;     /* owned: envelope sender (addr-spec) */
	char *rcpt;          /* owned: envelope recipient (addr-spec) */
};
void reply_out_clear(struct reply_out *);

/* As reply_queue() without the store: 0 built, 1 must not be answered
 * (*why says why, static), -1 error (logged). VARS gets the standard
 * variables and has its values masked. */
int reply_build(const struct config *, const struct msg *orig,
    int64_t ticket_id, const char *template_name, struct tv *vars,
    struct reply_out *, const char **why);

/* Nonzero when ADDR must never get an automatic reply (RFC 3834 and the
 * usual role addresses) or is not a plain addr-spec; *why says which. */
int reply_addr_refused(const char *addr, const char *our_addr,
    const char **why);

/* "Name: value" with CR/LF/controls turned to spaces, RFC 2047 encoded
 * words when needed, folded at 78 columns, ending in CRLF. */
void hdr_unstructured(struct buf *, const char *name, const char *value);
/* Text to CRLF lines, quoted-printable when not plain 7-bit; returns 1 if
 * quoted-printable was used. */
int body_encode(struct buf *, const char *text);
/* Every run of 7 or more digits (spaces, dots, dashes and brackets
 * between them allowed) masked as mask_phone() does. Owned. */
char *mask_numbers(const char *);

#endif
