/*
 * reply-int.h - the parts of reply.c that tests drive without a database:
 * building one complete reply message (and, through rfc5322.h, the
 * encoders of the message writer).
 */
#ifndef REPLY_INT_H
#define REPLY_INT_H

#include <stdint.h>

#include "rfc5322.h"

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

/* hdr_unstructured() and body_encode(): rfc5322.h */
/* Every run of 7 or more digits (spaces, dots, dashes and brackets
 * between them allowed) masked as mask_phone() does. Owned. */
char *mask_numbers(const char *);

#endif
