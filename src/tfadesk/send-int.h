/*
 * send-int.h - inside send.c: the reply transports it dispatches through
 * (reply.transport), as fdm's deliver-* behind struct deliver, one file
 * each: send-spool.c (a maildir) and send-smtp.c (SMTP through libcurl,
 * the only file of the mail side that includes curl/curl.h).
 */
#ifndef SEND_INT_H
#define SEND_INT_H

#include <stddef.h>

struct config;
struct outbox_row;
struct transport;

enum tr_result {
	TR_SENT = 0,    /* the server answered 250 to the end of DATA, or
			 * the spool file is in new/ */
	TR_TEMP,        /* 4xx or a broken session: this message, try later */
	TR_PERM,        /* 5xx to this message: it will never go */
	TR_DOWN,        /* server unreachable (refused, timeout, no name) */
	TR_SETUP,       /* TLS, certificate or AUTH refused: fix the config */
	TR_LOCAL,       /* cannot write here (the spool): stop, 73 */
};

struct transport_ops {
	const char *name;       /* reply.transport */
	/* Called once rows are claimed. 0, or -1 logged with *EX the exit
	 * status; close() is called after a failed open too. */
	int (*open)(struct transport *, const struct config *, int *ex);
	/* Sends R->message (CRLF lines, complete) from R->mail_from to
	 * R->rcpt. *ANSWER (owned, may be NULL): the server's last reply line
	 * or what failed. */
	enum tr_result (*send)(struct transport *, const struct outbox_row *r,
	    char **answer);
	void (*close)(struct transport *);
};

struct transport {
	const struct transport_ops *ops;
	void *priv;
};

extern const struct transport_ops send_spool_ops;
extern const struct transport_ops send_smtp_ops;

#endif
