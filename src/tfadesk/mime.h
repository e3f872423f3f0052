/*
 * mime.h - a raw RFC 5322 message to clean UTF-8 text, through libetpan.
 * Self-contained: does not include tfadesk.h; returns NULL on out-of-memory
 * only, so tests and fuzzers can drive it.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

#include "msg.h"
#include "identity.h"
#include "autoreply.h"
#include "quoted.h"

/* Never NULL unless out of memory; check msg->error. */
struct msg *msg_parse(const char *raw, size_t len, const struct msg_limits *);
void msg_free(struct msg *);
/* First header NAME (case-insensitive), borrowed, NULL if none. */
const char *msg_header(const struct msg *, const char *name);

#endif
