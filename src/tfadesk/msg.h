/*
 * msg.h - a message as mime.c reads it (msg_parse in mime.h): its headers,
 * addresses and text, and the limits of the reading. Types only.
 */
#ifndef MSG_H
#define MSG_H

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

#endif
