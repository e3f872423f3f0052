/*
 * mime.h - a raw RFC 5322 message to clean UTF-8 text, through libetpan.
 * Self-contained: does not include tfadesk.h; returns NULL on out-of-memory
 * only, so tests and fuzzers can drive it.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

struct msg_limits {
	size_t max_bytes;   /* whole raw message; default 10 MiB */
	size_t max_parts;   /* MIME parts; default 200 */
	size_t max_depth;   /* multipart nesting; default 20 */
};
#define MSG_LIMITS_DEFAULT { 10u << 20, 200, 20 }

struct msg_header {
	char *name;         /* as written, e.g. "Authentication-Results" */
	char *value;        /* unfolded, RFC 2047 decoded, UTF-8, no CR/LF */
};

struct msg {
	/* every header, top to bottom (order matters for Authentication-Results) */
	struct msg_header *headers;
	size_t nheaders;

	char *message_id;   /* without <>, NULL if none */
	char *subject;      /* decoded, "" if none */
	char *from_addr;    /* addr-spec of the first From mailbox, lowercased domain; NULL if none/unparsable */
	char *from_name;    /* display name, decoded; may be NULL */
	int from_count;     /* number of From mailboxes (more than 1 is suspicious) */
	char *reply_to_addr;
	char *in_reply_to;
	char *references;
	char *return_path;  /* addr-spec, "" for the null sender <> , NULL if absent */

	char *text;         /* the whole text of the message, UTF-8 */
	char *new_text;     /* text without quoted history and signature */
	char *quoted;       /* the quoted history, "" if none */
	char *signature;    /* after "-- ", "" if none */
	/* The message forwarded below the new text (Gmail "---------- Forwarded
	 * message ---------", Apple Mail "Begin forwarded message:", an
	 * attached message/rfc822, or an Outlook "From: / Sent: / To: /
	 * Subject:" block when the subject is a forward): its own new text
	 * (its header lines, quoted history and signature set aside) and its
	 * Subject line; "" if none. Part of quoted too: never the sender's
	 * own words. */
	char *fwd_text;
	char *fwd_subject;
	int html_only;      /* text came from HTML */
	/* The HTML read uses something able to hide text (a hiding style, a
	 * <style> rule, the hidden attribute...): why, for people ("HTML uses
	 * style display:none"); NULL if not. Such text is not read, and the
	 * message must not be acted on without staff. */
	char *html_hidden_style;

	char *error;        /* why the message could not be understood, else NULL */
};

/* Never NULL unless out of memory; check msg->error. */
struct msg *msg_parse(const char *raw, size_t len, const struct msg_limits *);
void msg_free(struct msg *);
/* First header NAME (case-insensitive), borrowed, NULL if none. */
const char *msg_header(const struct msg *, const char *name);

/* The Message-ID of a raw message from a quick scan of its header block
 * (no full parse), without <>; NULL if none. Owned. */
char *mime_message_id(const char *raw, size_t len);

/*
 * The identity of a raw message: a BLAKE2b digest (libsodium's generic
 * hash) of its bytes with the trace fields a delivery adds left out
 * (Return-Path, Received, Delivered-To, X-Original-To,
 * Authentication-Results, ARC-*: names case-insensitive, each with its
 * continuation lines; only in the header block) and every line ending
 * (CRLF, LF, CR; none after the last line) read as one. The same mail
 * from an MTA pipe and from an IMAP server has one identity. Linear in LEN,
 * no allocation. 0, or -1 if the hash cannot start.
 */
#define MIME_IDENTITY_BYTES 32
int mime_identity(const char *raw, size_t len,
    unsigned char out[MIME_IDENTITY_BYTES]);
/* The same as 64 lower-case hex digits and a NUL in HEX (the store's
 * ticket digest, STORE_DIGEST_HEX bytes: tfadesk's store_digest_fn). */
#define MIME_IDENTITY_HEX (2 * MIME_IDENTITY_BYTES + 1)
int mime_identity_hex(const char *raw, size_t len,
    char hex[MIME_IDENTITY_HEX]);
/* Does SUBJECT say the message is a forward ("Fwd:", "FW:", "WG:", "TR:",
 * after any "Re:" and "[tag]")? */
int mime_subject_forwarded(const char *subject);

/* RFC 3834 loop and bounce protection: nonzero if the message must never be
 * answered; *why (static string) says which rule. OUR_ADDR may be NULL. */
int msg_is_automatic(const struct msg *, const char *our_addr,
    const char **why);

#endif
