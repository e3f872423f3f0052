/*
 * desk-html.c - HTML for the staff desk: the one escaping function, the
 * page frame and the stylesheet (served as /desk.css: no inline style, no
 * script, nothing from another site).
 */
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "term.h"
#include "desk-html.h"

void
html_text(struct buf *b, const char *s, size_t n)
{
	struct buf t;

	/* first what a terminal would get (controls and bidi controls made
	 * visible), then the characters that mean something to HTML */
	buf_init(&t);
	term_escape(&t, s, n, TERM_KEEP_LINES);
	for (size_t i = 0; i < t.len; i++) {
		switch (t.s[i]) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, t.s[i]); break;
		}
	}
	buf_free(&t);
}

void
html_str(struct buf *b, const char *s)
{
	if (s)
		html_text(b, s, strlen(s));
}

void
html_masked(struct buf *b, const char *s)
{
	struct buf t;

	if (s == NULL)
		return;
	buf_init(&t);
	while (*s) {
		size_t d = strspn(s, "0123456789");
		if (d >= 7 && d <= 15) {
			char *run = xstrndup(s, d), *m = mask_phone(run);
			buf_adds(&t, m);
			free(m);
			free(run);
			s += d;
		} else if (d > 0) {
			buf_add(&t, s, d);
			s += d;
		} else
			buf_addc(&t, *s++);
	}
	html_text(b, t.s ? t.s : "", t.len);
	buf_free(&t);
}

void
html_begin(struct buf *b, const char *title, const char *staff,
    const char *csrf)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<link rel=\"stylesheet\" href=\"/desk.css\"><title>");
	html_str(b, title);
	buf_adds(b, " - tfadesk</title></head><body>\n<header><b>tfadesk</b>");
	if (staff) {
		buf_adds(b, "<nav><a href=\"/\">Queue</a> "
		    "<a href=\"/lookup\">Lookup</a> "
		    "<a href=\"/audit\">Audit</a> "
		    "<a href=\"/outbox\">Outbox</a></nav>"
		    "<form class=\"logout\" method=\"post\" action=\"/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
		html_str(b, csrf);
		buf_adds(b, "\"><span>staff:");
		html_str(b, staff);
		buf_adds(b, "</span> <button>Log out</button></form>");
	}
	buf_adds(b, "</header>\n<main>\n");
}

void
html_end(struct buf *b)
{
	buf_adds(b, "</main></body></html>\n");
}

const char desk_css[] =
"body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232a;"
"background:#f4f5f7}\n"
"header{display:flex;gap:1.5em;align-items:center;background:#24324a;"
"color:#fff;padding:.5em 1em}\n"
"header a{color:#cfe0ff;margin-right:1em}\n"
"header .logout{margin-left:auto}\n"
"main{padding:1em 1.5em;max-width:90em}\n"
"h1{font-size:1.4em;margin:.2em 0 .6em}\n"
"h2{font-size:1.1em;margin:1.4em 0 .4em}\n"
"table{border-collapse:collapse;background:#fff;margin:.3em 0}\n"
"th,td{border:1px solid #d5d9e0;padding:.25em .5em;text-align:left;"
"vertical-align:top}\n"
"th{background:#e9edf3}\n"
"pre{background:#fff;border:1px solid #d5d9e0;padding:.6em;"
"white-space:pre-wrap;overflow-wrap:anywhere;max-width:60em}\n"
"form.inline{display:inline}\n"
"fieldset{background:#fff;border:1px solid #d5d9e0;margin:.5em 0;"
"max-width:40em}\n"
"label{display:block;margin:.3em 0}\n"
"input[type=text],input[type=password],textarea,select{font:inherit;"
"padding:.2em}\n"
"textarea{width:95%;min-height:4em}\n"
"button{font:inherit;padding:.2em .8em;cursor:pointer}\n"
".counts a{margin-right:1em}\n"
".state{padding:0 .4em;border-radius:.3em;background:#dde3ec}\n"
".needs_review{background:#ffe3a3}.applied{background:#c9f2c9}\n"
".rejected{background:#f6c5c5}.ignored{background:#e3e3e3}\n"
".msg{background:#fff8d6;border:1px solid #e6d27a;padding:.5em;"
"max-width:50em}\n"
".err{background:#fde2e2;border:1px solid #e08a8a;padding:.5em;"
"max-width:50em}\n"
".filters input,.filters select{margin-right:.5em}\n"
".muted{color:#667}\n";
