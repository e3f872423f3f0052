/*
 * rfc5322.h - the RFC 5322 message writer for replies (rfc5322.c).
 */
#ifndef RFC5322_H
#define RFC5322_H

#include <stdint.h>

struct buf;
struct msg;

/* One reply as it is written: every value as rendered, the writer makes
 * it safe (controls, encoded words, folding). */
struct rfc5322_msg {
	const char *from_name, *from_addr;      /* name may be NULL */
	const char *to_name, *to_addr;
	char *const *hnames;    /* more unstructured fields, in order */
	char *const *hvalues;
	size_t nh;
	const char *subject;
	const char *msgid;      /* without <> */
	const struct msg *orig; /* In-Reply-To and References from it */
	int64_t ticket_id;
	const char *body;       /* text, any line ends */
};
/* Appends the whole message: Date, From, To, the fields, Subject,
 * Message-ID, In-Reply-To, References, the auto-reply fields, MIME-Version
 * and one text/plain UTF-8 part; CRLF line ends. */
void rfc5322_write(struct buf *, const struct rfc5322_msg *);
/* A new Message-ID for a reply to TICKET_ID: random, at DOMAIN, without
 * <>. Owned. */
char *rfc5322_msgid(int64_t ticket_id, const char *domain);

/* "Name: value" with CR/LF/controls turned to spaces, RFC 2047 encoded
 * words when needed, folded at 78 columns, ending in CRLF. */
void hdr_unstructured(struct buf *, const char *name, const char *value);
/* Text to CRLF lines, quoted-printable when not plain 7-bit; returns 1 if
 * quoted-printable was used. */
int body_encode(struct buf *, const char *text);

#endif
