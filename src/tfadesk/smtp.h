/*
 * smtp.h - one SMTP client session through libcurl (smtp.c is the only
 * file of the mail side that includes curl/curl.h).
 */
#ifndef SMTP_H
#define SMTP_H

#include <stddef.h>

struct config;
struct smtp;

enum smtp_result {
	SMTP_SENT = 0,  /* the server answered 250 to the end of DATA */
	SMTP_TEMP,      /* 4xx or a broken session: this message, try later */
	SMTP_PERM,      /* 5xx to this message: it will never go */
	SMTP_DOWN,      /* server unreachable (refused, timeout, no name) */
	SMTP_SETUP,     /* TLS, certificate or AUTH refused: fix the config */
};

/* NULL with *ex (an exit status) and *err (owned; NULL when the secret
 * reader already logged why) when the settings cannot work. */
struct smtp *smtp_new(const struct config *, char **err, int *ex);
void smtp_free(struct smtp *);
/* Sends MSG (CRLF lines, complete) from FROM to RCPT (addr-specs).
 * *answer (owned) is the server's last reply line or curl's error. */
enum smtp_result smtp_send(struct smtp *, const char *from, const char *rcpt,
    const char *msg, size_t len, char **answer);

#endif
