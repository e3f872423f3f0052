/*
 * identity.h - who a raw message is, from a quick scan of its header block
 * (header.c): its Message-ID, and the digest that tells two copies of one
 * mail from two mails. Self-contained, as mime.h.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stddef.h>

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

#endif
