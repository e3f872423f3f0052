/*
 * autoreply.h - RFC 3834: which mail is never answered (autoreply.c).
 */
#ifndef AUTOREPLY_H
#define AUTOREPLY_H

struct msg;

/* RFC 3834 loop and bounce protection: nonzero if the message must never be
 * answered; *why (static string) says which rule. OUR_ADDR may be NULL. */
int msg_is_automatic(const struct msg *, const char *our_addr,
    const char **why);

#endif
