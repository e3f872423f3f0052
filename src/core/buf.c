/* buf.c - the one growable byte buffer (see tfadesk.h): plain buffers
 * abort on out-of-memory, bounded ones fail softly and stay failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"

void
buf_init(struct buf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->max = 0;
	b->err = 0;
}

void
buf_init_max(struct buf *b, size_t max)
{
	buf_init(b);
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

/* buf_free of a buffer that held a secret (an SMS code): zeroed first, in
 * a way the compiler may not drop as a dead store */
void
buf_wipe(struct buf *b)
{
	if (b->s)
		explicit_bzero(b->s, b->cap);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

static int
fail(struct buf *b, int err)
{
	if (b->max == 0)
		fatalx("buf: %s", err == BUF_TOOBIG ? "size overflow" :
		    "out of memory");
	b->err = err;
	return -1;
}

/* Room for MORE bytes and the NUL. */
int
buf_reserve(struct buf *b, size_t more)
{
	size_t need, cap;
	char *ns;

	if (b->err)
		return -1;
	if (b->max ? more > b->max - b->len : more > SIZE_MAX / 2 - b->len - 1)
		return fail(b, BUF_TOOBIG);
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (b->max && cap > b->max + 1)         /* so that len < cap <= max + 1 */
		cap = b->max + 1;
	if (b->max == 0)
		ns = xrealloc(b->s, cap);
	else if ((ns = realloc(b->s, cap)) == NULL)
		return fail(b, BUF_NOMEM);
	b->s = ns;
	b->cap = cap;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if ((b->cap - b->len <= n || b->err) &&    /* room for N and the NUL? */
	    buf_reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, int c)
{
	if ((b->cap - b->len <= 1 || b->err) &&
	    buf_reserve(b, 1) == -1)
		return -1;
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->err || b->s == NULL ? 0 : b->cap - b->len;
	int n;

	/* straight into the room there is (one formatting, mostly); only
	 * what does not fit is formatted again after buf_reserve() */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_addf: bad format");
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return 0;
	}
	if (room)
		b->s[b->len] = '\0';   /* what was cut off is not kept */
	if (buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_add_cp(struct buf *b, uint32_t cp)
{
	char u[4];

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80)
		return buf_addc(b, (int)cp);
	if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		return buf_add(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		return buf_add(b, u, 3);
	}
	u[0] = (char)(0xF0 | (cp >> 18));
	u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	u[3] = (char)(0x80 | (cp & 0x3F));
	return buf_add(b, u, 4);
}

char *
buf_steal(struct buf *b)
{
	char *s;

	if (b->err) {
		buf_free(b);
		return NULL;
	}
	if ((s = b->s) == NULL) {
		if (b->max == 0)
			s = xstrdup("");
		else if ((s = calloc(1, 1)) == NULL)
			return NULL;
	}
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}
