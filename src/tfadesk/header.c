/*
 * header.c - the header block of a raw message: scanned into fields (every
 * header kept in order), unfolded, RFC 2047 encoded words decoded, each
 * value one clean UTF-8 line; the Message-ID from a quick scan; the
 * message identity (a digest without the trace fields a delivery adds).
 * No aborts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "msg.h"
#include "identity.h"
#include "charset.h"
#include "header.h"

#define MAX_HEADERS	5000		/* more are read past, not kept */
#define MSGID_SCAN	(256u << 10)	/* mime_message_id reads this much */
#define MAX_MSGID	998

/* ---- headers ------------------------------------------------------- */

const char *
mime_find_eol(const char *p, const char *end)
{
	const char *q = memchr(p, '\n', (size_t)(end - p));

	return q ? q : end;
}

/* Split the header block into RAWHDR entries; *BODY is where the body
 * starts, *HEND (if not NULL) where the header block ends: the blank line
 * that ends it, or LEN. Lines that are not headers (an mbox "From " line,
 * garbage) are skipped. Returns -1 on OOM. */
int
mime_scan_headers(const char *raw, size_t len, struct rawhdr **hp, size_t *np,
    size_t *body, size_t *hend)
{
	const char *p = raw, *end = raw + len, *eol, *c, *q;
	struct rawhdr *h = NULL, *nh;
	size_t n = 0, cap = 0;

	*hp = NULL;
	*np = 0;
	if (hend)
		*hend = len;
	while (p < end) {
		eol = mime_find_eol(p, end);
		if (p[0] == '\n' || (p[0] == '\r' && p + 1 < end &&
		    p[1] == '\n') || (p[0] == '\r' && p + 1 == end)) {
			if (hend)
				*hend = (size_t)(p - raw);
			p = eol < end ? eol + 1 : end;
			break;		/* empty line: end of headers */
		}
		if (p[0] == ' ' || p[0] == '\t') {
			p = eol < end ? eol + 1 : end;	/* stray fold */
			continue;
		}
		for (c = p; c < eol && *c != ':' && (unsigned char)*c > ' ' &&
		    (unsigned char)*c < 127; c++)
			;
		q = c;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (c == p || q >= eol || *q != ':') {
			p = eol < end ? eol + 1 : end;	/* not a header */
			continue;
		}
		/* the value runs on over continuation lines */
		{
			const char *v = q + 1, *ve = eol;

			while (ve < end && ve + 1 < end &&
			    (ve[1] == ' ' || ve[1] == '\t')) {
				/* do not run a fold into the blank line */
				const char *nx = ve + 1;
				const char *ne = mime_find_eol(nx, end);
				const char *k = nx;

				while (k < ne && (*k == ' ' || *k == '\t' ||
				    *k == '\r'))
					k++;
				if (k == ne)
					break;
				ve = ne;
			}
			if (n < MAX_HEADERS) {
				if (n == cap) {
					cap = cap ? cap * 2 : 32;
					nh = realloc(h, cap * sizeof(*h));
					if (nh == NULL) {
						free(h);
						return -1;
					}
					h = nh;
				}
				h[n].name = p;
				h[n].namelen = (size_t)(c - p);
				h[n].val = v;
				h[n].vallen = (size_t)(ve - v);
				n++;
			}
			p = ve < end ? ve + 1 : end;
		}
	}
	*hp = h;
	*np = n;
	*body = (size_t)(p - raw);
	return 0;
}

/* Unfold: drop CR and LF (the folding whitespace that follows stays). */
void
mime_unfold(struct buf *b, const char *s, size_t n)
{
	size_t i, st = 0;

	if (buf_reserve(b, n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n') {
			buf_add(b, s + st, i - st);
			st = i + 1;
		}
	buf_add(b, s + st, n - st);
}

/* Parse an encoded word at S (ending before END). On success fill charset
 * (CS, CSLEN), encoding, text, and return its length. */
static size_t
ew_parse(const char *s, const char *end, const char **cs, size_t *cslen,
    int *enc, const char **txt, size_t *txtlen)
{
	const char *p = s + 2, *t;

	if (end - s < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	*cs = p;
	while (p < end && *p != '?' && (unsigned char)*p > ' ' &&
	    p - *cs < 64)
		p++;
	if (p >= end || *p != '?' || p == *cs)
		return 0;
	*cslen = (size_t)(p - *cs);
	p++;
	if (p + 1 >= end || p[1] != '?')
		return 0;
	*enc = toupper((unsigned char)*p);
	if (*enc != 'Q' && *enc != 'B')
		return 0;
	p += 2;
	t = p;
	while (p < end && *p != '?' && p - t < 2000)
		p++;
	if (p + 1 >= end || p[0] != '?' || p[1] != '=')
		return 0;
	*txt = t;
	*txtlen = (size_t)(p - t);
	return (size_t)(p + 2 - s);
}

/* Decode RFC 2047 words in an unfolded value (also where RFC 2047 says
 * they may not be: mail programs do that), adjacent words joined, so a
 * character split across two words survives. Appends raw UTF-8 (MU_KEEP
 * later cleaned by the caller). */
static void
hdr_decode(struct buf *out, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *lit = s, *q, *cs = NULL, *txt;
	const char *pcs = NULL;
	size_t pcslen = 0, cslen, txtlen, k;
	struct buf pend = MIME_BUF;
	char csbuf[65];
	int enc, prev_ew = 0;

	while (p < end) {
		q = memchr(p, '=', (size_t)(end - p));
		if (q == NULL)
			break;
		k = ew_parse(q, end, &cs, &cslen, &enc, &txt, &txtlen);
		if (k == 0) {
			p = q + 1;
			continue;
		}
		/* literal text between the previous word and this one */
		if (q > lit) {
			const char *w = lit;

			while (w < q && (*w == ' ' || *w == '\t'))
				w++;
			if (!(prev_ew && w == q)) {
				if (pend.len) {
					memcpy(csbuf, pcs, pcslen);
					csbuf[pcslen] = '\0';
					mime_to_utf8(out, csbuf, pend.s,
					    pend.len, MU_KEEP);
					pend.len = 0;
				}
				mime_to_utf8(out, NULL, lit,
				    (size_t)(q - lit), MU_KEEP);
			}
		}
		if (pend.len && (pcslen != cslen ||
		    strncasecmp(pcs, cs, cslen) != 0)) {
			memcpy(csbuf, pcs, pcslen);
			csbuf[pcslen] = '\0';
			mime_to_utf8(out, csbuf, pend.s, pend.len, MU_KEEP);
			pend.len = 0;
		}
		pcs = cs;
		pcslen = cslen;
		if (enc == 'B')
			mime_b64_decode(&pend, txt, txtlen, NULL);
		else
			mime_qp_decode(&pend, txt, txtlen, 1);
		prev_ew = 1;
		p = lit = q + k;
	}
	if (pend.len) {
		memcpy(csbuf, pcs, pcslen);
		csbuf[pcslen] = '\0';
		mime_to_utf8(out, csbuf, pend.s, pend.len, MU_KEEP);
	}
	if (pend.err)
		out->err = BUF_NOMEM;
	buf_free(&pend);
	if (lit < end)
		mime_to_utf8(out, NULL, lit, (size_t)(end - lit), MU_KEEP);
}

/*
 * Most header values (Received, DKIM-Signature, Message-ID, Date, ...)
 * are printable ASCII and folding white space, with no encoded word to
 * decode: then the full path below (unfold, decode, clean, each into a
 * buffer of its own) comes to dropping CR and LF, tabs as blanks, runs of
 * blanks collapsed and the ends trimmed, done here in one pass. NULL when
 * RAW is not such a value (or on OOM, *nomem set).
 */
static char *hdr_full_value(const char *, size_t, int);

static char *
hdr_plain_value(const char *raw, size_t n, int decode, int *nomem)
{
	const unsigned char *p = (const unsigned char *)raw;
	char *out;
	size_t i, o = 0;
	int sp = 0;

	*nomem = 0;
	if ((out = malloc(n + 1)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	/* one pass: copied as checked; given up at the first byte that
	 * needs the full path */
	for (i = 0; i < n; i++) {
		if (p[i] > ' ' && p[i] < 0x7F) {
			if (p[i] == '=' && decode && i + 1 < n &&
			    p[i + 1] == '?')
				break;
			if (sp && o > 0)
				out[o++] = ' ';
			sp = 0;
			out[o++] = (char)p[i];
		} else if (p[i] == ' ' || p[i] == '\t')
			sp = 1;
		else if (p[i] != '\r' && p[i] != '\n')
			break;
	}
	if (i < n) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	return out;
}

/* The decoded, cleaned value of a raw header value: one line, valid UTF-8,
 * runs of blanks collapsed, trimmed. NULL on OOM. */
char *
mime_hdr_value(const char *raw, size_t n, int decode)
{
	char *plain;
	int nomem;

	if ((plain = hdr_plain_value(raw, n, decode, &nomem)) != NULL ||
	    nomem)
		return plain;
	return hdr_full_value(raw, n, decode);
}

/* Any value: unfolded, decoded (DECODE: RFC 2047 words), cleaned. */
static char *
hdr_full_value(const char *raw, size_t n, int decode)
{
	struct buf u = MIME_BUF, d = MIME_BUF, c = MIME_BUF;
	size_t i;
	int sp = 0;

	mime_unfold(&u, raw, n);
	if (decode)
		hdr_decode(&d, u.s ? u.s : "", u.len);
	else
		mime_to_utf8(&d, NULL, u.s ? u.s : "", u.len, MU_KEEP);
	mime_utf8_add(&c, d.s ? d.s : "", d.len, MU_HEADER);
	if (u.err || d.err)
		c.err = BUF_NOMEM;
	buf_free(&u);
	buf_free(&d);
	if (c.err) {
		buf_free(&c);
		return NULL;
	}
	/* collapse blanks in place and trim */
	{
		size_t o = 0;

		for (i = 0; i < c.len; i++) {
			if (c.s[i] == ' ') {
				sp = 1;
				continue;
			}
			if (sp && o > 0)
				c.s[o++] = ' ';
			sp = 0;
			c.s[o++] = c.s[i];
		}
		c.len = o;
		if (c.s)
			c.s[o] = '\0';
	}
	return buf_steal(&c);
}

/* "<id>" (first one) from a raw value; bare tokens accepted. */
char *
mime_extract_id(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *lt, *gt;
	char *id;
	size_t i, o = 0;

	lt = memchr(s, '<', n);
	if (lt) {
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			gt = end;
		p = lt + 1;
		end = gt;
	}
	if ((size_t)(end - p) > 4 * MAX_MSGID)
		return NULL;
	id = malloc((size_t)(end - p) + 1);
	if (id == NULL)
		return NULL;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 127 || c == '<' || c == '>') {
			if (!lt && o > 0 && (c == ' ' || c == '\t'))
				break;	/* bare id: first token only */
			continue;
		}
		if (c >= 128)
			continue;	/* ids are ASCII */
		id[o++] = (char)c;
	}
	id[o] = '\0';
	for (i = 0; i < o && id[i] != '@'; i++)
		;
	if (o == 0 || o > MAX_MSGID) {
		free(id);
		return NULL;
	}
	return id;
}

char *
mime_message_id(const char *raw, size_t len)
{
	const char *p = raw, *end, *eol, *v;
	struct buf u = MIME_BUF;
	char *id;

	if (raw == NULL)
		return NULL;
	end = raw + (len < MSGID_SCAN ? len : MSGID_SCAN);
	while (p < end) {
		eol = mime_find_eol(p, end);
		if (p[0] == '\n' || (p[0] == '\r' && (p + 1 == end ||
		    p[1] == '\n')))
			break;
		if (eol - p >= 11 && strncasecmp(p, "message-id", 10) == 0) {
			v = p + 10;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (v < eol && *v == ':') {
				v++;
				buf_add(&u, v, (size_t)(eol - v));
				while (eol < end && eol + 1 < end &&
				    (eol[1] == ' ' || eol[1] == '\t')) {
					p = eol + 1;
					eol = mime_find_eol(p, end);
					buf_add(&u, p, (size_t)(eol - p));
				}
				if (u.err)
					return NULL;
				id = mime_extract_id(u.s, u.len);
				buf_free(&u);
				return id;
			}
		}
		p = eol < end ? eol + 1 : end;
	}
	return NULL;
}

/* ---- identity ------------------------------------------------------ */

/* The digest is fed through a small buffer: one hash update per 4 KiB. */
struct idhash {
	crypto_generichash_state st;
	unsigned char b[4096];
	size_t n;
};

static void
id_add(struct idhash *h, const char *s, size_t n)
{
	size_t k;

	while (n > 0) {
		if (h->n == sizeof h->b) {
			crypto_generichash_update(&h->st, h->b, h->n);
			h->n = 0;
		}
		k = sizeof h->b - h->n < n ? sizeof h->b - h->n : n;
		memcpy(h->b + h->n, s, k);
		h->n += k;
		s += k;
		n -= k;
	}
}

/*
 * Is the header line [P, E) one of the trace fields a delivery adds
 * (Return-Path, Received, Delivered-To, X-Original-To,
 * Authentication-Results, ARC-*)? The name as mime_scan_headers reads it:
 * printable ASCII up to the colon, blanks allowed before it.
 */
static int
id_trace(const char *p, const char *e)
{
	static const char *const names[] = { "Return-Path", "Received",
	    "Delivered-To", "X-Original-To", "Authentication-Results", NULL };
	const char *c, *q;
	size_t i, nl;

	for (c = p; c < e && *c != ':' && (unsigned char)*c > ' ' &&
	    (unsigned char)*c < 127; c++)
		;
	for (q = c; q < e && (*q == ' ' || *q == '\t'); q++)
		;
	if (c == p || q >= e || *q != ':')
		return 0;		/* not a header line: kept */
	nl = (size_t)(c - p);
	if (nl >= 4 && strncasecmp(p, "ARC-", 4) == 0)
		return 1;
	for (i = 0; names[i]; i++)
		if (mime_strncaseeq(p, nl, names[i]))
			return 1;
	return 0;
}

/*
 * The identity of a message (see mime.h): one pass over the bytes, no
 * allocation. Each line (ended by CRLF, LF, CR or the end of the input)
 * goes into the hash with LF; in the header block, a trace field and
 * the continuation lines that follow it are left out.
 */
int
mime_identity(const char *raw, size_t len,
    unsigned char out[MIME_IDENTITY_BYTES])
{
	struct idhash h;
	const char *p = raw, *end, *e;
	int head = 1, skip = 0;

	if (raw == NULL)
		len = 0, p = "";
	end = p + len;
	if (crypto_generichash_init(&h.st, NULL, 0, MIME_IDENTITY_BYTES) != 0)
		return -1;
	h.n = 0;
	while (p < end) {
		for (e = p; e < end && *e != '\n' && *e != '\r'; e++)
			;
		if (head && e == p)
			head = 0;	/* the blank line ends the header block */
		else if (head && (*p == ' ' || *p == '\t'))
			;		/* a continuation: as its field */
		else if (head)
			skip = id_trace(p, e);
		if (!head || !skip) {
			id_add(&h, p, (size_t)(e - p));
			id_add(&h, "\n", 1);
		}
		if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
			e++;
		p = e < end ? e + 1 : end;
	}
	crypto_generichash_update(&h.st, h.b, h.n);
	return crypto_generichash_final(&h.st, out, MIME_IDENTITY_BYTES);
}

int
mime_identity_hex(const char *raw, size_t len, char hex[MIME_IDENTITY_HEX])
{
	unsigned char h[MIME_IDENTITY_BYTES];

	if (mime_identity(raw, len, h) == -1)
		return -1;
	sodium_bin2hex(hex, MIME_IDENTITY_HEX, h, sizeof h);
	return 0;
}
