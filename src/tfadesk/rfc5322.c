/*
 * rfc5322.c - the RFC 5322 message writer for replies: header fields
 * (controls turned to spaces, RFC 2047 encoded words, folded at 78
 * columns), addresses, Message-ID, In-Reply-To and References, the date,
 * and the one text/plain MIME part (7bit or quoted-printable, CRLF).
 * What goes into the message is reply.c's (rendering templates).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tfadesk.h"
#include "mime.h"
#include "rfc5322.h"
#include "utf8.h"

#define HDR_WIDTH       78      /* fold before this column */
#define EW_WIDTH        75      /* longest encoded word */
#define HDR_VALUE_MAX   512     /* bytes of one unstructured value */
#define REFS_MAX        20      /* message ids kept in References */
#define MSGID_MAX       250

static void hdr_address(struct buf *, const char *, const char *,
    const char *);
static void hdr_msgids(struct buf *, const char *, const struct msg *);

/*
 * Valid UTF-8 (bad bytes become U+FFFD), no NUL, no C0/C1 control but TAB
 * (and LF when KEEP_NEWLINES; CRLF and lone CR become LF); otherwise every
 * control is a space.
 */
static char *
clean_utf8(const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), l;
	struct buf b;
	uint32_t cp;
	int bad;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p) {
		/* a run of printable ASCII as it is, in one copy */
		if (*p >= 0x20 && *p < 0x7f) {
			const unsigned char *q = p + 1;

			while (*q >= 0x20 && *q < 0x7f)
				q++;
			buf_add(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (*p == '\r' && keep_newlines) {
			buf_addc(&b, '\n');
			p += p[1] == '\n' ? 2 : 1;
			continue;
		}
		if (*p == '\n' && keep_newlines) {
			buf_addc(&b, '\n');
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			buf_addc(&b, *p == '\t' && keep_newlines ? '\t' : ' ');
			p++;
			continue;
		}
		l = utf8_decode_clean((const char *)p,
		    n - (size_t)(p - (const unsigned char *)s), &cp, &bad);
		if (bad) {
			buf_adds(&b, UTF8_REPLACEMENT_STR);
			p++;
			continue;
		}
		if (utf8_is_control(cp)) {
			buf_addc(&b, ' ');    /* C1 control */
			p += 2;
			continue;
		}
		buf_add(&b, p, l);
		p += l;
	}
	return buf_steal(&b);
}

/* Emits one token, folding first when the line would get too long. */
static void
fold_token(struct buf *b, size_t *col, const char *tok, size_t n, int first)
{
	if (!first) {
		if (*col + 1 + n > HDR_WIDTH) {
			buf_adds(b, "\r\n ");
			*col = 1;
		} else {
			buf_addc(b, ' ');
			(*col)++;
		}
	}
	buf_add(b, tok, n);
	*col += n;
}

/* The words of V as RFC 2047 "B" encoded words, split on characters. */
static void
encoded_words(struct buf *b, size_t *col, const char *v, int first)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), i = 0, take, room;
	char b64[128], word[160];

	while (i < n) {
		/* bytes per word: 45 fit in 60 base64 characters */
		room = (EW_WIDTH - 12) / 4 * 3;
		take = utf8_trunc(v + i, n - i, room);
		if (take == 0)
			take = 1;
		sodium_bin2base64(b64, sizeof b64, p + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(word, sizeof word, "=?UTF-8?B?%s?=", b64);
		fold_token(b, col, word, strlen(word), first);
		first = 0;
		i += take;
	}
}

void
hdr_unstructured(struct buf *b, const char *name, const char *value)
{
	char *v = clean_utf8(value ? value : "", 0), *w, *save = NULL;
	size_t col, n;
	int encode = 0, first = 1;
	const char *p;

	/* bounded length, cut on a character */
	n = strlen(v);
	if (n > HDR_VALUE_MAX) {
		n = utf8_trunc(v, n, HDR_VALUE_MAX);
		v[n] = '\0';
	}
	for (p = v; *p; p++)
		if ((unsigned char)*p >= 0x80)
			encode = 1;
	if (strstr(v, "=?") != NULL)
		encode = 1;   /* would read as an encoded word */
	for (p = v; *p && !encode;) {
		n = strcspn(p, " ");
		if (n > HDR_WIDTH - 10)
			encode = 1;
		p += n;
		p += strspn(p, " ");
	}
	buf_adds(b, name);
	buf_addc(b, ':');
	col = strlen(name) + 1;
	/* a space always follows the colon */
	buf_addc(b, ' ');
	col++;
	if (encode) {
		/* trim ends; inner spaces are kept inside the words */
		char *s = v;
		while (*s == ' ')
			s++;
		n = strlen(s);
		while (n > 0 && s[n - 1] == ' ')
			s[--n] = '\0';
		encoded_words(b, &col, s, 1);
	} else {
		for (w = strtok_r(v, " ", &save); w;
		    w = strtok_r(NULL, " ", &save)) {
			fold_token(b, &col, w, strlen(w), first);
			first = 0;
		}
	}
	buf_adds(b, "\r\n");
	free(v);
}

/* A display name as atom words, a quoted string or encoded words. */
static void
hdr_address(struct buf *b, const char *hname, const char *name,
    const char *addr)
{
	char *n = name ? clean_utf8(name, 0) : NULL, *s;
	size_t col = strlen(hname) + 2;
	int ascii = 1, atoms = 1;
	struct buf q;

	buf_adds(b, hname);
	buf_adds(b, ": ");
	if (n) {
		char *w = n;
		/* one space between words */
		for (const char *r = n; *r; r++)
			if (*r != ' ' || (w > n && w[-1] != ' '))
				*w++ = *r;
		*w = '\0';
		s = str_trim(n);
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c >= 0x80)
				ascii = 0;
			else if (!(isalnum(c) || c == ' ' ||
			    strchr("!#$%&'*+-/=?^_`{|}~", c)))
				atoms = 0;
		}
		if (strstr(s, "=?"))
			ascii = 0;
		if (*s == '\0' || strlen(s) > 200)
			;       /* no name */
		else if (!ascii) {
			encoded_words(b, &col, s, 1);
			buf_addc(b, ' ');
			col++;
		} else {
			buf_init(&q);
			if (!atoms)
				buf_addc(&q, '"');
			for (const char *p = s; *p; p++) {
				if (!atoms && (*p == '"' || *p == '\\'))
					buf_addc(&q, '\\');
				buf_addc(&q, *p);
			}
			if (!atoms)
				buf_addc(&q, '"');
			buf_addc(&q, ' ');
			buf_add(b, q.s, q.len);
			col += q.len;
			buf_free(&q);
		}
		free(n);
	}
	if (col + strlen(addr) + 2 > HDR_WIDTH && col > strlen(hname) + 2)
		buf_adds(b, "\r\n ");
	buf_addc(b, '<');
	buf_adds(b, addr);
	buf_adds(b, ">\r\n");
}

/* A msg-id between <> we may repeat: printable ASCII, no blanks or <>. */
static int
msgid_ok(const char *s, size_t n)
{
	if (n == 0 || n > MSGID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '\\' || c == '(' || c == ')')
			return 0;
	}
	return 1;
}

/* In-Reply-To and References, bounded, one id per line. */
static void
hdr_msgids(struct buf *b, const char *name, const struct msg *orig)
{
	const char *ids[REFS_MAX * 4 + 1];
	size_t lens[REFS_MAX * 4 + 1], n = 0, i;
	const char *p = orig->references, *lt, *gt;
	int refs = strcmp(name, "References") == 0;

	if (refs && p) {
		while ((lt = strchr(p, '<')) != NULL &&
		    (gt = strchr(lt, '>')) != NULL) {
			if (msgid_ok(lt + 1, (size_t)(gt - lt - 1))) {
				if (n == REFS_MAX * 4) {
					/* keep the first; drop the oldest */
					memmove(&ids[1], &ids[2],
					    (n - 2) * sizeof ids[0]);
					memmove(&lens[1], &lens[2],
					    (n - 2) * sizeof lens[0]);
					n--;
				}
				ids[n] = lt + 1;
				lens[n++] = (size_t)(gt - lt - 1);
			}
			p = gt + 1;
		}
	}
	if (orig->message_id &&
	    msgid_ok(orig->message_id, strlen(orig->message_id))) {
		ids[n] = orig->message_id;
		lens[n++] = strlen(orig->message_id);
	}
	if (n == 0)
		return;
	if (!refs) {
		if (orig->message_id == NULL ||
		    !msgid_ok(orig->message_id, strlen(orig->message_id)))
			return;
		buf_adds(b, name);
		buf_adds(b, ": <");
		buf_add(b, ids[n - 1], lens[n - 1]);
		buf_adds(b, ">\r\n");
		return;
	}
	/* the first id (thread root) and the newest ones */
	buf_adds(b, name);
	buf_adds(b, ": <");
	buf_add(b, ids[0], lens[0]);
	buf_addc(b, '>');
	i = n > REFS_MAX ? n - (REFS_MAX - 1) : 1;
	for (; i < n; i++) {
		buf_adds(b, "\r\n <");
		buf_add(b, ids[i], lens[i]);
		buf_addc(b, '>');
	}
	buf_adds(b, "\r\n");
}

int
body_encode(struct buf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	char *t = clean_utf8(text, 1);
	const char *line;
	size_t n, col;
	int qp = 0;

	/* one final line end */
	n = strlen(t);
	while (n > 0 && t[n - 1] == '\n')
		t[--n] = '\0';
	for (line = t; !qp && *line; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n > 76)
			qp = 1;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] >= 0x80)
				qp = 1;
		if (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			qp = 1;
		if (line[n] == '\0')
			break;
	}
	for (line = t;; line += n + 1) {
		n = strcspn(line, "\n");
		if (!qp) {
			buf_add(b, line, n);
		} else {
			col = 0;
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)line[i];
				int last = i + 1 == n, enc;

				enc = c >= 0x7f || c == '=' ||
				    ((c == ' ' || c == '\t') && last) ||
				    (c < 0x20 && c != '\t');
				if (col + (enc ? 3 : 1) > 75 && !(last &&
				    col + (enc ? 3 : 1) <= 76)) {
					buf_adds(b, "=\r\n");
					col = 0;
				}
				if (enc) {
					buf_addc(b, '=');
					buf_addc(b, hex[c >> 4]);
					buf_addc(b, hex[c & 15]);
					col += 3;
				} else {
					buf_addc(b, c);
					col++;
				}
			}
		}
		buf_adds(b, "\r\n");
		if (line[n] == '\0')
			break;
	}
	free(t);
	return qp;
}

static void
rfc5322_date(char *s, size_t n, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(s, n, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

void
rfc5322_write(struct buf *b, const struct rfc5322_msg *m)
{
	struct buf bb;
	char date[64];
	int qp;

	rfc5322_date(date, sizeof date, now_time());
	buf_adds(b, "Date: ");
	buf_adds(b, date);
	buf_adds(b, "\r\n");
	hdr_address(b, "From", m->from_name, m->from_addr);
	hdr_address(b, "To", m->to_name, m->to_addr);
	for (size_t i = 0; i < m->nh; i++)
		hdr_unstructured(b, m->hnames[i], m->hvalues[i]);
	hdr_unstructured(b, "Subject", m->subject);
	buf_adds(b, "Message-ID: <");
	buf_adds(b, m->msgid);
	buf_adds(b, ">\r\n");
	hdr_msgids(b, "In-Reply-To", m->orig);
	hdr_msgids(b, "References", m->orig);
	buf_adds(b, "Auto-Submitted: auto-replied\r\n");
	buf_adds(b, "X-Auto-Response-Suppress: All\r\n");
	buf_addf(b, "X-Tfadesk-Ticket: %lld\r\n", (long long)m->ticket_id);
	buf_adds(b, "MIME-Version: 1.0\r\n");
	buf_adds(b, "Content-Type: text/plain; charset=UTF-8\r\n");
	buf_init(&bb);
	qp = body_encode(&bb, m->body);
	buf_adds(b, qp ? "Content-Transfer-Encoding: quoted-printable\r\n\r\n" :
	    "Content-Transfer-Encoding: 7bit\r\n\r\n");
	buf_add(b, bb.s, bb.len);
	buf_free(&bb);
}

/*
 * The random part of Message-IDs comes from a pool of libsodium's random
 * bytes, filled 32 IDs at a time: one getrandom(2) a reply was about 1% of
 * `process`. Each byte is used once and wiped as it is taken, under a
 * lock (the desk may build replies in a thread of its own); a child of
 * fork(2) starts with an empty pool (pthread_atfork, the lock held across
 * the fork), so two processes never share bytes.
 */
#define MSGID_RND	16
static unsigned char msgid_pool[32 * MSGID_RND];
static size_t msgid_left;
static pthread_mutex_t msgid_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t msgid_once = PTHREAD_ONCE_INIT;

static void
msgid_pool_lock(void)
{
	pthread_mutex_lock(&msgid_lock);
}

static void
msgid_pool_unlock(void)
{
	pthread_mutex_unlock(&msgid_lock);
}

static void
msgid_pool_forget(void)
{
	sodium_memzero(msgid_pool, sizeof msgid_pool);
	msgid_left = 0;
	pthread_mutex_unlock(&msgid_lock);
}

static void
msgid_pool_arm(void)
{
	if (pthread_atfork(msgid_pool_lock, msgid_pool_unlock,
	    msgid_pool_forget) != 0)
		fatalx("rfc5322: pthread_atfork failed");
}

char *
rfc5322_msgid(int64_t ticket_id, const char *domain)
{
	unsigned char *rnd;
	char rnd_hex[2 * MSGID_RND + 1];

	pthread_once(&msgid_once, msgid_pool_arm);
	pthread_mutex_lock(&msgid_lock);
	if (msgid_left < MSGID_RND) {
		randombytes_buf(msgid_pool, sizeof msgid_pool);
		msgid_left = sizeof msgid_pool;
	}
	msgid_left -= MSGID_RND;
	rnd = msgid_pool + msgid_left;
	sodium_bin2hex(rnd_hex, sizeof rnd_hex, rnd, MSGID_RND);
	sodium_memzero(rnd, MSGID_RND);
	pthread_mutex_unlock(&msgid_lock);
	return xstrfmt("tfadesk.%lld.%s@%s", (long long)ticket_id, rnd_hex,
	    domain);
}
