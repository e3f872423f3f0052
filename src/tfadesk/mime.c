/*
 * mime.c - a raw RFC 5322 message to clean UTF-8 text: msg_parse and
 * msg_free, the module's entry.
 *
 * The header block is read by header.c; the MIME structure comes from
 * libetpan's mailmime_parse and is walked here (limits on parts and
 * nesting, multipart/alternative choice, attachments left out, forwarded
 * message/rfc822 parts); transfer encodings and charsets are undone by
 * charset.c so that bad input can never produce invalid UTF-8; HTML parts
 * go through html.c, and the text is split by quoted.c. Self-contained: no
 * aborts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "mime.h"
#include "charset.h"
#include "header.h"
#include "html.h"
#include "quoted.h"
#include "addr.h"

struct walk {
	const struct msg_limits *lim;
	struct buf text;
	size_t parts;
	int nplain, nhtml;
	int badenc;
	char hidden[160];	/* why the HTML read may hide text, or "" */
	const char *error;
};

static void parse_from(struct msg *, const char *, size_t, int);
static void walk_mime(struct walk *, struct mailmime *, size_t);
static void add_part_text(struct walk *, struct mailmime *);
static void decode_cte(struct buf *, int, const char *, size_t, int *);
static void part_bounds(const char *, size_t, size_t *, size_t *,
    size_t *);


const char *
msg_header(const struct msg *m, const char *name)
{
	size_t i;

	if (m == NULL || name == NULL)
		return NULL;
	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

/* From (WHICH 0) or Reply-To (1) from a raw unfolded value: parsed
 * (addr_parse_list) before any decoding; the display name decoded after. */
static void
parse_from(struct msg *m, const char *v, size_t n, int which)
{
	struct addr first;
	int count, rc;

	rc = addr_parse_list(v, n, &first, &count);
	if (rc == -1) {
		if (which == 0)
			m->from_count++;    /* there, but unusable */
		return;
	}
	if (which == 0) {
		/* every From field counts, even one with no mailbox in it
		 * ("From: undisclosed:;"), so that a second one is seen */
		m->from_count += count ? count : 1;
		if (first.spec && m->from_addr == NULL) {
			m->from_addr = first.spec;
			first.spec = NULL;
			if (first.name) {
				m->from_name = mime_hdr_value(first.name,
				    strlen(first.name), 1);
				if (m->from_name && m->from_name[0] == '\0') {
					free(m->from_name);
					m->from_name = NULL;
				}
			}
		}
	} else if (first.spec && m->reply_to_addr == NULL) {
		m->reply_to_addr = first.spec;
		first.spec = NULL;
	}
	addr_free(&first);
}

/* ---- body ---------------------------------------------------------- */

static void
decode_cte(struct buf *b, int enc, const char *s, size_t n, int *bad)
{
	if (enc == MAILMIME_MECHANISM_BASE64)
		mime_b64_decode(b, s, n, bad);
	else if (enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		mime_qp_decode(b, s, n, 0);
	else
		buf_add(b, s, n);	/* 7bit, 8bit, binary, unknown */
}


static const char *
ct_param(struct mailmime_content *ct, const char *name)
{
	clistiter *it;

	if (ct == NULL || ct->ct_parameters == NULL)
		return NULL;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (pa->pa_name && strcasecmp(pa->pa_name, name) == 0)
			return pa->pa_value;
	}
	return NULL;
}

static int
ct_has_param_prefix(struct mailmime_content *ct, const char *pfx)
{
	clistiter *it;

	if (ct == NULL || ct->ct_parameters == NULL)
		return 0;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (pa->pa_name && strncasecmp(pa->pa_name, pfx,
		    strlen(pfx)) == 0)
			return 1;
	}
	return 0;
}

/* Is this single part an attachment rather than body text? */
static int
is_attachment(struct mailmime *mm)
{
	clistiter *it, *jt;

	if (ct_has_param_prefix(mm->mm_content_type, "name"))
		return 1;
	if (mm->mm_mime_fields == NULL)
		return 0;
	for (it = clist_begin(mm->mm_mime_fields->fld_list); it;
	    it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		struct mailmime_disposition *d;

		if (f->fld_type != MAILMIME_FIELD_DISPOSITION)
			continue;
		d = f->fld_data.fld_disposition;
		if (d == NULL)
			continue;
		if (d->dsp_type && d->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
		for (jt = clist_begin(d->dsp_parms); jt; jt = clist_next(jt)) {
			struct mailmime_disposition_parm *pa = clist_content(jt);

			if (pa->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				return 1;
			if (pa->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
			    pa->pa_data.pa_parameter->pa_name &&
			    strncasecmp(pa->pa_data.pa_parameter->pa_name,
			    "filename", 8) == 0)
				return 1;
		}
	}
	return 0;
}

/* 0 other, 1 text/plain, 2 text/html */
static int
text_kind(struct mailmime *mm)
{
	struct mailmime_content *ct = mm->mm_content_type;
	struct mailmime_type *t;

	if (ct == NULL)
		return 1;
	t = ct->ct_type;
	if (t == NULL || t->tp_type != MAILMIME_TYPE_DISCRETE_TYPE ||
	    t->tp_data.tp_discrete_type == NULL ||
	    t->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT)
		return 0;
	if (ct->ct_subtype == NULL || strcasecmp(ct->ct_subtype, "plain") == 0)
		return 1;
	if (strcasecmp(ct->ct_subtype, "html") == 0)
		return 2;
	return 0;
}

/* Does the subtree hold a body part of kind K? */
static int
has_kind(struct mailmime *mm, int k, int depth)
{
	clistiter *it;

	if (depth > 64)
		return 0;
	if (mm->mm_type == MAILMIME_SINGLE)
		return !is_attachment(mm) && text_kind(mm) == k;
	if (mm->mm_type == MAILMIME_MULTIPLE)
		for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it;
		    it = clist_next(it))
			if (has_kind(clist_content(it), k, depth + 1))
				return 1;
	return 0;
}

/* Undo RFC 3676 format=flowed (soft breaks end in a space). */
static void
unflow(struct buf *out, const char *s, size_t n, int delsp)
{
	const char *p = s, *end = s + n, *eol;
	size_t ll;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		ll = (size_t)(eol - p);
		if (ll > 0 && p[0] == ' ')	/* space-stuffing */
			p++, ll--;
		if (ll > 0 && p[ll - 1] == ' ' && !(ll == 3 &&
		    memcmp(p, "-- ", 3) == 0) && p[0] != '>') {
			buf_add(out, p, delsp ? ll - 1 : ll);
		} else {
			buf_add(out, p, ll);
			if (eol < end)
				buf_addc(out, '\n');
		}
		p = eol < end ? eol + 1 : end;
	}
}

/* Guess a charset from an HTML <meta>, for HTML parts without one. */
static int
html_charset(const char *s, size_t n, char *cs, size_t cssz)
{
	size_t i, j, lim = n < 2048 ? n : 2048;

	for (i = 0; i + 8 < lim; i++) {
		if (strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		i += 8;
		while (i < lim && (s[i] == '"' || s[i] == '\''))
			i++;
		for (j = 0; i < lim && j + 1 < cssz && (isalnum(
		    (unsigned char)s[i]) || s[i] == '-' || s[i] == '_' ||
		    s[i] == ':' || s[i] == '.'); i++)
			cs[j++] = s[i];
		cs[j] = '\0';
		return j > 0;
	}
	return 0;
}

static void
add_part_text(struct walk *w, struct mailmime *mm)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	struct buf dec = MIME_BUF, u = MIME_BUF;
	const char *charset;
	char csbuf[64];
	int kind, bad = 0, enc;
	size_t nonws = 0, i;

	kind = text_kind(mm);
	if (kind == 0 || is_attachment(mm) || d == NULL ||
	    d->dt_type != MAILMIME_DATA_TEXT)
		return;
	enc = d->dt_encoded ? d->dt_encoding : MAILMIME_MECHANISM_8BIT;
	decode_cte(&dec, enc, d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &bad);
	if (enc == MAILMIME_MECHANISM_BASE64 && bad > 0) {
		for (i = 0; i < d->dt_data.dt_text.dt_length; i++)
			if (!isspace((unsigned char)
			    d->dt_data.dt_text.dt_data[i]))
				nonws++;
		if ((size_t)bad * 20 > nonws)
			w->badenc = 1;
	}
	charset = ct_param(mm->mm_content_type, "charset");
	if (charset == NULL && kind == 2 && dec.s &&
	    html_charset(dec.s, dec.len, csbuf, sizeof(csbuf)))
		charset = csbuf;
	mime_to_utf8(&u, charset, dec.s ? dec.s : "", dec.len, MU_TEXT);
	if (dec.err)
		u.err = BUF_NOMEM;
	buf_free(&dec);
	if (u.err) {
		w->text.err = BUF_NOMEM;
		buf_free(&u);
		return;
	}
	if (w->text.len > 0 && w->text.s[w->text.len - 1] != '\n')
		buf_addc(&w->text, '\n');
	if (kind == 2) {
		char why[sizeof w->hidden];
		char *t = html_to_text_why(u.s ? u.s : "", u.len, why,
		    sizeof why);

		if (why[0] != '\0' && w->hidden[0] == '\0')
			memcpy(w->hidden, why, sizeof why);
		if (t == NULL)
			w->text.err = BUF_NOMEM;
		else
			buf_adds(&w->text, t);
		free(t);
		w->nhtml++;
	} else {
		const char *fmt = ct_param(mm->mm_content_type, "format");
		const char *dsp = ct_param(mm->mm_content_type, "delsp");

		if (fmt && strcasecmp(fmt, "flowed") == 0)
			unflow(&w->text, u.s ? u.s : "", u.len,
			    dsp && strcasecmp(dsp, "yes") == 0);
		else
			buf_add(&w->text, u.s ? u.s : "", u.len);
		w->nplain++;
	}
	buf_free(&u);
}

/* A message/rfc822 part: a short header then its text. */
static void
add_forwarded(struct walk *w, struct mailmime *mm)
{
	static const char *const keep[] = { "From", "Date", "Subject", "To",
	    NULL };
	struct mailmime_data *d = mm->mm_body;
	struct rawhdr *h = NULL;
	size_t nh = 0, body, i, k;
	char *v;

	if (w->text.len > 0 && w->text.s[w->text.len - 1] != '\n')
		buf_addc(&w->text, '\n');
	buf_adds(&w->text, "\n---------- Forwarded message ---------\n");
	if (d && d->dt_type == MAILMIME_DATA_TEXT &&
	    mime_scan_headers(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &h, &nh, &body, NULL) == 0) {
		for (k = 0; keep[k]; k++)
			for (i = 0; i < nh; i++) {
				if (!mime_strncaseeq(h[i].name, h[i].namelen,
				    keep[k]))
					continue;
				v = mime_hdr_value(h[i].val, h[i].vallen, 1);
				if (v == NULL) {
					w->text.err = BUF_NOMEM;
					break;
				}
				buf_adds(&w->text, keep[k]);
				buf_adds(&w->text, ": ");
				buf_adds(&w->text, v);
				buf_addc(&w->text, '\n');
				free(v);
				break;
			}
		free(h);
	}
	buf_addc(&w->text, '\n');
}

static void
walk_mime(struct walk *w, struct mailmime *mm, size_t depth)
{
	clistiter *it;
	const char *sub;
	struct mailmime *pick = NULL;

	if (w->error || mm == NULL)
		return;
	if (++w->parts > w->lim->max_parts) {
		w->error = "too many MIME parts";
		return;
	}
	if (depth > w->lim->max_depth) {
		w->error = "MIME nesting too deep";
		return;
	}
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		add_part_text(w, mm);
		break;
	case MAILMIME_MESSAGE:
		if (mm->mm_parent != NULL)
			add_forwarded(w, mm);
		walk_mime(w, mm->mm_data.mm_message.mm_msg_mime,
		    mm->mm_parent ? depth + 1 : depth);
		break;
	case MAILMIME_MULTIPLE:
		sub = mm->mm_content_type && mm->mm_content_type->ct_subtype ?
		    mm->mm_content_type->ct_subtype : "mixed";
		if (strcasecmp(sub, "alternative") == 0) {
			/* count every alternative against the limits */
			for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			    it; it = clist_next(it)) {
				struct mailmime *c = clist_content(it);

				if (pick == NULL && has_kind(c, 1, 0))
					pick = c;
			}
			if (pick == NULL)
				for (it = clist_begin(
				    mm->mm_data.mm_multipart.mm_mp_list); it;
				    it = clist_next(it))
					if (has_kind(clist_content(it), 2, 0)) {
						pick = clist_content(it);
						break;
					}
			w->parts += clist_count(
			    mm->mm_data.mm_multipart.mm_mp_list);
			if (pick) {
				w->parts--;
				walk_mime(w, pick, depth + 1);
			}
			if (w->parts > w->lim->max_parts && !w->error)
				w->error = "too many MIME parts";
		} else if (strcasecmp(sub, "related") == 0 ||
		    strcasecmp(sub, "signed") == 0 ||
		    strcasecmp(sub, "encrypted") == 0) {
			it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			if (it)
				walk_mime(w, clist_content(it), depth + 1);
			w->parts += clist_count(
			    mm->mm_data.mm_multipart.mm_mp_list);
			if (it)
				w->parts--;
			if (w->parts > w->lim->max_parts && !w->error)
				w->error = "too many MIME parts";
		} else {
			for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
			    it && !w->error; it = clist_next(it))
				walk_mime(w, clist_content(it), depth + 1);
		}
		break;
	default:
		break;
	}
}

/* Cheap upper bounds, before libetpan builds a tree: the number of
 * Content-Type header lines naming multipart/ or message/ (bounds its
 * recursion), and the number of lines that start with one of the declared
 * boundaries (bounds the parts, so a small message of 300,000 empty parts
 * cannot cost memory). */
#define MAX_BOUNDS 64

static void
part_bounds(const char *s, size_t n, size_t *nest, size_t *delims,
    size_t *depth)
{
	const char *p = s, *end = s + n, *eol, *v, *b;
	const char *bs[MAX_BOUNDS];
	size_t bl[MAX_BOUNDS], nb = 0, k, len, sp = 0;

	/* bs[0..sp) is also the stack of open multiparts, for *DEPTH */
	*nest = *delims = *depth = 0;
	while (p < end) {
		eol = mime_find_eol(p, end);
		if (eol - p > 13 && (p[0] == 'C' || p[0] == 'c') &&
		    strncasecmp(p, "content-type:", 13) == 0) {
			/* the value, first line plus one fold */
			const char *ve = eol;

			if (ve + 1 < end && (ve[1] == ' ' || ve[1] == '\t'))
				ve = mime_find_eol(ve + 1, end);
			for (v = p + 13; v < ve && (*v == ' ' || *v == '\t' ||
			    *v == '\r' || *v == '\n'); v++)
				;
			if ((ve - v >= 10 && strncasecmp(v, "multipart/",
			    10) == 0) || (ve - v >= 8 && strncasecmp(v,
			    "message/", 8) == 0))
				(*nest)++;
			b = nb < MAX_BOUNDS ? memmem(v, (size_t)(ve - v),
			    "oundary=", 8) : NULL;
			if (b) {
				b += 8;
				if (b < ve && *b == '"') {
					b++;
					for (len = 0; b + len < ve &&
					    b[len] != '"'; len++)
						;
				} else
					for (len = 0; b + len < ve && b[len] >
					    ' ' && b[len] != ';'; len++)
						;
				if (len > 0 && len <= 200) {
					nb = sp;	/* closed ones are done */
					bs[nb] = b;
					bl[nb++] = len;
					sp = nb;
					if (sp > *depth)
						*depth = sp;
				}
			}
		} else if (eol - p >= 3 && p[0] == '-' && p[1] == '-') {
			for (k = 0; k < sp; k++)
				if ((size_t)(eol - p) >= bl[k] + 2 &&
				    memcmp(p + 2, bs[k], bl[k]) == 0) {
					(*delims)++;
					/* "--b--" closes it, "--b" a part in it */
					if ((size_t)(eol - p) >= bl[k] + 4 &&
					    p[bl[k] + 2] == '-' &&
					    p[bl[k] + 3] == '-')
						sp = k;
					else
						sp = k + 1;
					break;
				}
		}
		p = eol < end ? eol + 1 : end;
	}
}


/* ---- msg ----------------------------------------------------------- */

static int
set_str(char **dst, const char *raw, size_t n, int decode)
{
	if (*dst)
		return 0;
	*dst = mime_hdr_value(raw, n, decode);
	return *dst ? 0 : -1;
}

/*
 * Structured fields written by the receiving hosts: RFC 2047 does not apply
 * to them, and decoding would let text the sender controls (an envelope
 * local part "=?us-ascii?q?x=3B_spf=3Dpass...?=@evil") turn into new
 * results in a trusted Authentication-Results header. Kept as written.
 */
static int
is_trace(const char *nm, size_t nl)
{
	static const char *const names[] = { "Authentication-Results",
	    "ARC-Authentication-Results", "Received-SPF", "DKIM-Signature",
	    "ARC-Seal", "ARC-Message-Signature", "Received", NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (mime_strncaseeq(nm, nl, names[i]))
			return 1;
	return 0;
}

/*
 * The message as libetpan is given it: the MIME fields of its header
 * block (Content-*, MIME-Version), each as written, then the rest from
 * HEND (the blank line and the body) as it is. libetpan would otherwise
 * build the whole envelope too (every Received, DKIM-Signature, ...),
 * which nothing reads: half of its work. It also reads the header block
 * as this file's scan does (H), not as a parser of its own would: a line
 * that is no header (an mbox "From " line) no longer ends it there.
 */
static void
mime_fields_only(struct buf *b, const char *raw, size_t len,
    const struct rawhdr *h, size_t nh, size_t hend)
{
	const char *e;

	for (size_t i = 0; i < nh; i++) {
		if (!(h[i].namelen > 8 && strncasecmp(h[i].name, "Content-",
		    8) == 0) && !mime_strncaseeq(h[i].name, h[i].namelen,
		    "MIME-Version"))
			continue;
		e = h[i].val + h[i].vallen;     /* its '\n', or the end */
		if (e < raw + len)
			e++;
		buf_add(b, h[i].name, (size_t)(e - h[i].name));
	}
	buf_add(b, raw + hend, len - hend);
}

struct msg *
msg_parse(const char *raw, size_t len, const struct msg_limits *limits)
{
	static const struct msg_limits deflim = MSG_LIMITS_DEFAULT;
	struct msg_limits lim = limits ? *limits : deflim;
	struct msg *m;
	struct rawhdr *h = NULL;
	size_t nh = 0, body = 0, hend = 0, i, idx = 0;
	struct mailmime *mime = NULL;
	struct walk w;
	struct buf nt = MIME_BUF, qt = MIME_BUF, sg = MIME_BUF, u = MIME_BUF;
	struct buf mb = MIME_BUF;
	int r;

	if (lim.max_bytes == 0)
		lim.max_bytes = deflim.max_bytes;
	if (lim.max_parts == 0)
		lim.max_parts = deflim.max_parts;
	if (lim.max_depth == 0)
		lim.max_depth = deflim.max_depth;
	if (raw == NULL)
		len = 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	memset(&w, 0, sizeof(w));
	w.lim = &lim;

	if (len > lim.max_bytes) {
		w.error = "message too large";
		/* headers only, from a bounded prefix */
		len = lim.max_bytes;
	}
	if (mime_scan_headers(raw ? raw : "", len, &h, &nh, &body, &hend) ==
	    -1)
		goto oom;
	m->headers = calloc(nh ? nh : 1, sizeof(*m->headers));
	if (m->headers == NULL)
		goto oom;
	for (i = 0; i < nh; i++) {
		struct msg_header *mh = &m->headers[i];
		const char *nm = h[i].name, *v = h[i].val;
		size_t nl = h[i].namelen, vl = h[i].vallen;

		mh->name = strndup(nm, nl);
		mh->value = mime_hdr_value(v, vl, !is_trace(nm, nl));
		m->nheaders++;
		if (mh->name == NULL || mh->value == NULL)
			goto oom;
		if (mime_strncaseeq(nm, nl, "Subject")) {
			if (m->subject == NULL &&
			    (m->subject = strdup(mh->value)) == NULL)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "Message-ID")) {
			if (m->message_id == NULL) {
				u.len = 0;
				mime_unfold(&u, v, vl);
				if (u.err)
					goto oom;
				m->message_id = mime_extract_id(u.s, u.len);
			}
		} else if (mime_strncaseeq(nm, nl, "From") ||
		    mime_strncaseeq(nm, nl, "Reply-To")) {
			u.len = 0;
			mime_unfold(&u, v, vl);
			if (u.err)
				goto oom;
			parse_from(m, u.s, u.len, nl == 4 ? 0 : 1);
		} else if (mime_strncaseeq(nm, nl, "In-Reply-To")) {
			if (set_str(&m->in_reply_to, v, vl, 0) == -1)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "References")) {
			if (set_str(&m->references, v, vl, 0) == -1)
				goto oom;
		} else if (mime_strncaseeq(nm, nl, "Return-Path") &&
		    m->return_path == NULL) {
			char *rp = mime_hdr_value(v, vl, 0);

			if (rp == NULL)
				goto oom;
			m->return_path = addr_parse_path(rp);
			free(rp);
		}
	}
	buf_free(&u);
	if (m->subject == NULL && (m->subject = strdup("")) == NULL)
		goto oom;

	/* body */
	if (w.error == NULL) {
		size_t nest, delims, depth;

		/* bounds libetpan's work; the walk checks exactly (the
		 * estimate can count boundaries quoted in text: leeway) */
		part_bounds(raw ? raw : "", len, &nest, &delims, &depth);
		if (nest > lim.max_parts || delims > 2 * lim.max_parts + 2)
			w.error = "too many MIME parts";
		else if (depth > lim.max_depth + 4)
			w.error = "MIME nesting too deep";
	}
	if (w.error == NULL && len > 0) {
		mime_fields_only(&mb, raw ? raw : "", len, h, nh, hend);
		if (mb.err)
			goto oom;
		r = mailmime_parse(mb.s ? mb.s : "", mb.len, &idx, &mime);
		if (r == MAILIMF_ERROR_MEMORY)
			goto oom;
		if (r == MAILIMF_NO_ERROR && mime != NULL) {
			walk_mime(&w, mime, 0);
		} else {
			/* not MIME we understand: the body as 8-bit text */
			mime_to_utf8(&w.text, NULL, raw + body, len - body,
			    MU_TEXT);
			w.nplain++;
		}
	}
	if (mime)
		mailmime_free(mime);
	mime = NULL;
	buf_free(&mb);
	free(h);
	h = NULL;
	if (w.text.err)
		goto oom;
	mime_tidy_text(&w.text);
	if (w.error == NULL && w.badenc)
		w.error = "text part has undecodable base64";
	if (w.error) {
		if ((m->error = strdup(w.error)) == NULL)
			goto oom;
	}
	m->html_only = w.nhtml > 0 && w.nplain == 0;
	if (w.hidden[0] != '\0' &&
	    (m->html_hidden_style = strdup(w.hidden)) == NULL)
		goto oom;
	if ((m->text = buf_steal(&w.text)) == NULL)
		goto oom;
	mime_split_text(m, &nt, &qt, &sg);
	m->new_text = buf_steal(&nt);
	m->quoted = buf_steal(&qt);
	m->signature = buf_steal(&sg);
	if (m->fwd_text == NULL)
		m->fwd_text = strdup("");
	if (m->fwd_subject == NULL)
		m->fwd_subject = strdup("");
	if (m->new_text == NULL || m->quoted == NULL || m->signature == NULL ||
	    m->fwd_text == NULL || m->fwd_subject == NULL)
		goto oom;
	return m;
oom:
	if (mime)
		mailmime_free(mime);
	buf_free(&mb);
	free(h);
	buf_free(&u);
	buf_free(&w.text);
	buf_free(&nt);
	buf_free(&qt);
	buf_free(&sg);
	msg_free(m);
	return NULL;
}

void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->message_id);
	free(m->subject);
	free(m->from_addr);
	free(m->from_name);
	free(m->reply_to_addr);
	free(m->in_reply_to);
	free(m->references);
	free(m->return_path);
	free(m->text);
	free(m->new_text);
	free(m->quoted);
	free(m->signature);
	free(m->fwd_text);
	free(m->fwd_subject);
	free(m->error);
	free(m->html_hidden_style);
	free(m);
}
