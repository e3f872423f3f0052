/*
 * json.h - the one way to write JSON (json.c): a streaming writer over a
 * struct buf. Commas, colons and quotes are its job, so every --json
 * output, stored JSON text and verifier answer has the same escaping:
 * strings per RFC 8259, with C0/C1 controls, DEL, bidi controls and
 * U+2028/U+2029 as \uXXXX and bytes that are not UTF-8 as \ufffd. Keys
 * come out in the order they are written.
 *
 *	struct json j;
 *	json_init(&j, &b, 0);
 *	json_obj(&j);
 *	json_kstr(&j, "id", id);          {"id":"R1","n":3}
 *	json_kint(&j, "n", 3);
 *	json_end(&j);
 */
#ifndef TFADESK_JSON_H
#define TFADESK_JSON_H

#include <stddef.h>

struct buf;

#define JSON_MAX_DEPTH 16
#define JSON_SPACED 0x1         /* ", " and ": " (the verifier's answers) */

struct json {
	struct buf *b;
	int flags;
	int depth;
	int key;                        /* a key waits for its value */
	unsigned char more[JSON_MAX_DEPTH + 1]; /* an item was written here */
	char close[JSON_MAX_DEPTH + 1];
};

void json_init(struct json *, struct buf *, int flags);
void json_obj(struct json *);           /* { */
void json_arr(struct json *);           /* [ */
void json_end(struct json *);           /* } or ] */
void json_key(struct json *, const char *);
void json_str(struct json *, const char *);     /* NULL: null */
void json_strn(struct json *, const char *, size_t);
void json_int(struct json *, long long);
void json_bool(struct json *, int);
void json_put_null(struct json *);
/* JSON text written by this module earlier (stored); NULL or "": null. */
void json_raw(struct json *, const char *);

void json_kstr(struct json *, const char *key, const char *);
void json_kint(struct json *, const char *key, long long);
void json_kbool(struct json *, const char *key, int);
void json_knull(struct json *, const char *key);
void json_kraw(struct json *, const char *key, const char *);

/* Appends S (N bytes) as a JSON string, quotes included. */
void json_quote_n(struct buf *, const char *s, size_t n);

#endif
