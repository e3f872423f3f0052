/*
 * rules.c - rules/tickets.yaml: classify a ticket and read the users
 * written in it. The format is documented at the top of rules/tickets.yaml.
 *
 * Loading reports every problem in one pass as "file:line: what". Matching
 * reads only the subject, From address, header fields named by a rule and
 * the cut new text of the body; extraction understands three layouts:
 *   labelled fields   "User ID: U2001" / "Name: ..." / "Mobile: ..."
 *                     (one per line, or several on one line, in any
 *                     order); a shaped label ("User:", "Login:") is read
 *                     as the field whose shape its value has; a block
 *                     giving a field twice with different values is held
 *   tables            a header row of known column names, then rows split
 *                     by tab, '|', ',' or ';' (HTML tables arrive as " | ");
 *                     or header-less rows holding a user ID and a number
 *   sentences         operator patterns with named groups
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tfadesk.h"
#include "ydoc.h"
#include "tfadesk/mime.h"
#include "tfadesk/rules.h"
#include "utf8.h"

#define MATCH_LIMIT	100000	/* backtracking steps per match */
#define DEPTH_LIMIT	2000	/* nested backtracking (interpreter) */
#define HEAP_LIMIT	8192	/* KiB */
#define MAX_GROUPS	30
#define MAX_HITS	64	/* labels on one line */
#define MAX_VALUE	200	/* bytes kept of an extracted value */
#define DEF_MAX_USERS	50
#define DEF_MAX_BODY	(64u << 10)

enum field { F_ACCOUNT, F_USER, F_NAME, F_MOBILE, NF };
static const char *const field_names[NF] = {
	"account_id", "user_id", "name", "mobile"
};

enum cwhat { C_SUBJECT, C_FROM, C_BODY, C_HEADER };

struct pat {
	pcre2_code *re;
	int line;
	int grp[NF];		/* named groups (sentences, accounts), else -1 */
};

struct cond {
	enum cwhat what;
	char *header;		/* C_HEADER */
	struct pat *alt;	/* any of these */
	size_t nalt;
};

/* A label whose value says which field it is: "User: U1001" is a user
 * ID, "User: Jane Smith" a name (shaped_labels:). */
struct slabel {
	struct pat label;
	int as[NF];		/* candidate fields, in order */
	int nas;
};

struct rule {
	char *name;
	int line;
	enum rule_kind kind;
	struct cond *match, *unless;
	size_t nmatch, nunless;
};

struct rules {
	char *path;
	struct rule *rule;
	size_t nrule;
	struct pat *cut;
	size_t ncut;
	struct pat shape[NF], label[NF], column[NF];
	struct slabel *slabel;
	size_t nslabel;
	struct pat *sent;
	size_t nsent;
	struct pat accounts;
	size_t max_users, max_body;

	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	pcre2_match_data *md;
	int jit;
};

/* A loader: the YAML document plus the error count. */
struct ld {
	struct rules *r;
	struct ydoc *doc;
	const char *rule;	/* name of the rule being read, for messages */
};

static void lerr(struct ld *, int, const char *, ...) PRINTFLIKE(3, 4);
static int compile(struct ld *, struct pat *, struct ynode *, const char *,
    uint32_t);
static size_t u8_next(const char *, size_t, size_t);
static int pmatch(struct rules *, const struct pat *, const char *, size_t,
    size_t, struct rmatch *);
static char *clean(const char *, size_t, size_t);

const char *
rule_kind_name(enum rule_kind k)
{
	switch (k) {
	case RK_TWOFA_SETUP:
		return "twofa_setup";
	case RK_MISSING_NUMBER:
		return "missing_number";
	default:
		return "staff";
	}
}

/* ---- loading ------------------------------------------------------- */

static void
lerr(struct ld *l, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (l->rule)
		ydoc_error(l->doc, line, "rule %s: %s", l->rule, msg);
	else
		ydoc_error(l->doc, line, "%s", msg);
}

static int
nline(struct ynode *n)
{
	return ynode_line(n);
}

/* The scalar's text, or NULL (and an error) when N is not a plain string. */
static const char *
scalar(struct ld *l, struct ynode *n, const char *what)
{
	if (n == NULL || n->type != YN_SCALAR) {
		lerr(l, nline(n), "%s: expected a string", what);
		return NULL;
	}
	return n->value;
}

static int
field_index(const char *name)
{
	for (int f = 0; f < NF; f++)
		if (strcmp(name, field_names[f]) == 0)
			return f;
	return -1;
}

/*
 * Compiles the scalar N into P. Every pattern is UTF-8 with Unicode
 * properties and multi-line anchors; WHOLE patterns (shapes, columns) must
 * match a whole value.
 */
static int
compile(struct ld *l, struct pat *p, struct ynode *n, const char *what,
    uint32_t extra)
{
	const char *src = scalar(l, n, what);
	int errcode;
	PCRE2_SIZE erroff;
	uint32_t ncap;

	for (int f = 0; f < NF; f++)
		p->grp[f] = -1;
	p->line = nline(n);
	if (src == NULL)
		return -1;
	if (*src == '\0') {
		lerr(l, p->line, "%s: empty pattern", what);
		return -1;
	}
	p->re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C |
	    extra, &errcode, &erroff, NULL);
	if (p->re == NULL) {
		PCRE2_UCHAR buf[256];
		pcre2_get_error_message(errcode, buf, sizeof buf);
		lerr(l, p->line, "%s: bad pattern at offset %zu: %s", what,
		    (size_t)erroff, (char *)buf);
		return -1;
	}
	pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (ncap > MAX_GROUPS) {
		lerr(l, p->line, "%s: more than %d capture groups", what,
		    MAX_GROUPS);
		pcre2_code_free(p->re);
		p->re = NULL;
		return -1;
	}
	for (int f = 0; f < NF; f++) {
		int g = pcre2_substring_number_from_name(p->re,
		    (PCRE2_SPTR)field_names[f]);
		p->grp[f] = g > 0 ? g : -1;
	}
	/* Named groups other than ours are a typo. */
	uint32_t nn, esz;
	PCRE2_SPTR tab;
	pcre2_pattern_info(p->re, PCRE2_INFO_NAMECOUNT, &nn);
	pcre2_pattern_info(p->re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(p->re, PCRE2_INFO_NAMETABLE, &tab);
	for (uint32_t i = 0; i < nn; i++) {
		const char *gname = (const char *)tab + i * esz + 2;
		if (field_index(gname) < 0)
			lerr(l, p->line, "%s: unknown group name (?<%s>); "
			    "use account_id, user_id, name or mobile", what, gname);
	}
	if (l->r->jit)
		(void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static void
pat_free(struct pat *p)
{
	pcre2_code_free(p->re);
	p->re = NULL;
}

/* A condition value: one pattern or a list of alternatives. */
static void
load_cond(struct ld *l, struct cond *c, struct ynode *v, const char *what)
{
	if (v->type == YN_SEQ) {
		size_t n = ynode_count(l->doc, v);
		struct ynode *e;
		if (n == 0) {
			lerr(l, nline(v), "%s: empty list", what);
			return;
		}
		c->alt = xcalloc(n, sizeof *c->alt);
		YSEQ_FOREACH(l->doc, v, e)
			if (compile(l, &c->alt[c->nalt], e, what, 0) == 0)
				c->nalt++;
	} else {
		c->alt = xcalloc(1, sizeof *c->alt);
		if (compile(l, &c->alt[0], v, what, 0) == 0)
			c->nalt = 1;
	}
}

static void
load_conds(struct ld *l, struct ynode *m, const char *sect, struct cond **out,
    size_t *nout)
{
	struct ynode *k, *v;
	size_t n;

	if (m->type != YN_MAP) {
		lerr(l, nline(m), "%s: expected a mapping of subject, from, "
		    "body or header.NAME to patterns", sect);
		return;
	}
	n = ynode_count(l->doc, m);
	if (n == 0) {
		lerr(l, nline(m), "%s: no conditions", sect);
		return;
	}
	*out = xcalloc(n, sizeof **out);
	YMAP_FOREACH(l->doc, m, k, v) {
		const char *key = scalar(l, k, sect);
		struct cond *c = &(*out)[*nout];
		char what[128];

		if (key == NULL)
			continue;
		snprintf(what, sizeof what, "%s.%s", sect, key);
		if (strcmp(key, "subject") == 0)
			c->what = C_SUBJECT;
		else if (strcmp(key, "from") == 0)
			c->what = C_FROM;
		else if (strcmp(key, "body") == 0)
			c->what = C_BODY;
		else if (strncmp(key, "header.", 7) == 0 && key[7] != '\0' &&
		    strspn(key + 7, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == strlen(key + 7)) {
			c->what = C_HEADER;
			c->header = xstrdup(key + 7);
		} else {
			lerr(l, nline(k), "%s: unknown field %s (subject, from, "
			    "body or header.NAME)", sect, key);
			continue;
		}
		load_cond(l, c, v, what);
		(*nout)++;
	}
}

static void
load_rule(struct ld *l, struct ynode *m, struct rule *ru)
{
	struct ynode *match = NULL, *unless = NULL, *kind = NULL, *k, *v;

	ru->line = nline(m);
	if (m->type != YN_MAP) {
		lerr(l, ru->line, "rules: each rule is a mapping with name, kind "
		    "and match");
		return;
	}
	/* the name first, so that every message can name the rule */
	YMAP_FOREACH(l->doc, m, k, v)
		if (k->type == YN_SCALAR && strcmp(k->value, "name") == 0 &&
		    v->type == YN_SCALAR)
			l->rule = v->value;
	YMAP_FOREACH(l->doc, m, k, v) {
		const char *key = scalar(l, k, "rule key");
		if (key == NULL)
			continue;
		if (strcmp(key, "name") == 0) {
			const char *s = scalar(l, v, "name");
			if (s && (*s == '\0' || strlen(s) > 64 ||
			    strspn(s, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(s)))
				lerr(l, nline(v), "name: use 1-64 letters, digits, "
				    "'-', '_' or '.'");
			else if (s)
				ru->name = xstrdup(s);
		} else if (strcmp(key, "kind") == 0)
			kind = v;
		else if (strcmp(key, "match") == 0)
			match = v;
		else if (strcmp(key, "unless") == 0)
			unless = v;
		else if (strcmp(key, "description") == 0)
			(void)scalar(l, v, "description");
		else
			lerr(l, nline(k), "unknown key %s (name, description, kind, "
			    "match, unless)", key);
	}
	if (ru->name == NULL) {
		lerr(l, ru->line, "rule without a name");
		ru->name = xstrfmt("#%d", ru->line);
	}
	l->rule = ru->name;
	if (kind == NULL)
		lerr(l, ru->line, "kind: required (twofa_setup, missing_number "
		    "or staff)");
	else {
		const char *s = scalar(l, kind, "kind");
		if (s && strcmp(s, "twofa_setup") == 0)
			ru->kind = RK_TWOFA_SETUP;
		else if (s && strcmp(s, "missing_number") == 0)
			ru->kind = RK_MISSING_NUMBER;
		else if (s && strcmp(s, "staff") == 0)
			ru->kind = RK_STAFF;
		else if (s)
			lerr(l, nline(kind), "kind: %s is not twofa_setup, "
			    "missing_number or staff", s);
	}
	if (match == NULL)
		lerr(l, ru->line, "match: required");
	else
		load_conds(l, match, "match", &ru->match, &ru->nmatch);
	if (unless)
		load_conds(l, unless, "unless", &ru->unless, &ru->nunless);
	l->rule = NULL;
}

/* labels:, columns:, fields: a mapping of field name to pattern. */
static void
load_fieldmap(struct ld *l, struct ynode *m, const char *sect, struct pat *pats,
    uint32_t extra)
{
	struct ynode *k, *v;

	if (m->type != YN_MAP) {
		lerr(l, nline(m), "%s: expected a mapping of account_id, user_id, "
		    "name, mobile to patterns", sect);
		return;
	}
	YMAP_FOREACH(l->doc, m, k, v) {
		const char *key = scalar(l, k, sect);
		char what[64];
		int f;

		if (key == NULL)
			continue;
		if ((f = field_index(key)) < 0) {
			lerr(l, nline(k), "%s: unknown field %s (account_id, "
			    "user_id, name, mobile)", sect, key);
			continue;
		}
		snprintf(what, sizeof what, "%s.%s", sect, key);
		compile(l, &pats[f], v, what, extra);
	}
}

static void
load_patlist(struct ld *l, struct ynode *s, const char *sect, struct pat **out,
    size_t *nout)
{
	struct ynode *e;
	size_t n, i;

	if (s->type != YN_SEQ) {
		lerr(l, nline(s), "%s: expected a list of patterns", sect);
		return;
	}
	n = ynode_count(l->doc, s);
	*out = xcalloc(n ? n : 1, sizeof **out);
	i = 0;
	YSEQ_FOREACH(l->doc, s, e) {
		char what[64];
		snprintf(what, sizeof what, "%s[%zu]", sect, i++);
		if (compile(l, &(*out)[*nout], e, what, 0) == 0)
			(*nout)++;
	}
}

/* shaped_labels: a list of {label: PAT, as: [FIELD...]}. */
static void
load_slabels(struct ld *l, struct ynode *s)
{
	struct rules *r = l->r;
	struct ynode *m;
	size_t n, i = 0;

	if (s->type != YN_SEQ) {
		lerr(l, nline(s), "shaped_labels: expected a list of {label, as}");
		return;
	}
	n = ynode_count(l->doc, s);
	r->slabel = xcalloc(n ? n : 1, sizeof *r->slabel);
	YSEQ_FOREACH(l->doc, s, m) {
		struct ynode *lab = NULL, *as = NULL, *k, *v;
		struct slabel *sl = &r->slabel[r->nslabel];
			char what[64];

		snprintf(what, sizeof what, "shaped_labels[%zu]", i++);
		if (m == NULL || m->type != YN_MAP) {
			lerr(l, nline(m), "%s: expected a mapping with label and as",
			    what);
			continue;
		}
		YMAP_FOREACH(l->doc, m, k, v) {
			const char *key = scalar(l, k, what);
			if (key == NULL)
				continue;
			if (strcmp(key, "label") == 0)
				lab = v;
			else if (strcmp(key, "as") == 0)
				as = v;
			else
				lerr(l, nline(k), "%s: unknown key %s (label, as)", what,
				    key);
		}
		if (lab == NULL || as == NULL) {
			lerr(l, nline(m), "%s: label and as are required", what);
			continue;
		}
		if (as->type != YN_SEQ || ynode_count(l->doc, as) == 0) {
			lerr(l, nline(as), "%s.as: expected a list of fields", what);
			continue;
		}
		sl->nas = 0;
		YSEQ_FOREACH(l->doc, as, v) {
			const char *f = scalar(l, v, what);
			int fi;
			if (f == NULL)
				continue;
			if ((fi = field_index(f)) < 0 || fi == F_MOBILE ||
			    sl->nas >= NF) {
				lerr(l, nline(v), "%s.as: %s is not account_id, "
				    "user_id or name", what, f);
				continue;
			}
			sl->as[sl->nas++] = fi;
		}
		if (compile(l, &sl->label, lab, what, 0) == 0 && sl->nas > 0)
			r->nslabel++;
		else
			pat_free(&sl->label);
	}
}

static long
load_int(struct ld *l, struct ynode *v, const char *what, long lo, long hi)
{
	const char *s = scalar(l, v, what);
	char *end;
	long n;

	if (s == NULL)
		return -1;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < lo || n > hi) {
		lerr(l, nline(v), "%s: expected a number from %ld to %ld", what,
		    lo, hi);
		return -1;
	}
	return n;
}

static void
load_top(struct ld *l, struct ynode *root)
{
	struct rules *r = l->r;
	struct ynode *rules = NULL, *k, *v, *e;

	if (root == NULL || root->type != YN_MAP) {
		lerr(l, nline(root), "expected a mapping with a rules: list");
		return;
	}
	YMAP_FOREACH(l->doc, root, k, v) {
		const char *key = scalar(l, k, "key");
		long n;

		if (key == NULL)
			continue;
		if (strcmp(key, "version") == 0) {
			if (load_int(l, v, "version", 1, 1) < 0)
				continue;
		} else if (strcmp(key, "max_users") == 0) {
			if ((n = load_int(l, v, "max_users", 1, 1000)) > 0)
				r->max_users = (size_t)n;
		} else if (strcmp(key, "max_body") == 0) {
			if ((n = load_int(l, v, "max_body", 1024, 1L << 24)) > 0)
				r->max_body = (size_t)n;
		} else if (strcmp(key, "cut") == 0)
			load_patlist(l, v, "cut", &r->cut, &r->ncut);
		else if (strcmp(key, "sentences") == 0) {
			load_patlist(l, v, "sentences", &r->sent, &r->nsent);
			for (size_t i = 0; i < r->nsent; i++)
				if (r->sent[i].grp[F_MOBILE] < 0 ||
				    (r->sent[i].grp[F_USER] < 0 &&
				    r->sent[i].grp[F_NAME] < 0))
					lerr(l, r->sent[i].line, "sentences[%zu]: needs "
					    "the groups (?<mobile>...) and (?<user_id>...) "
					    "or (?<name>...)", i);
		} else if (strcmp(key, "accounts") == 0)
			compile(l, &r->accounts, v, "accounts", 0);
		else if (strcmp(key, "fields") == 0)
			load_fieldmap(l, v, "fields", r->shape,
			    PCRE2_ANCHORED | PCRE2_ENDANCHORED);
		else if (strcmp(key, "labels") == 0)
			load_fieldmap(l, v, "labels", r->label, 0);
		else if (strcmp(key, "shaped_labels") == 0)
			load_slabels(l, v);
		else if (strcmp(key, "columns") == 0)
			load_fieldmap(l, v, "columns", r->column,
			    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_CASELESS);
		else if (strcmp(key, "rules") == 0)
			rules = v;
		else
			lerr(l, nline(k), "unknown key %s (version, max_users, "
			    "max_body, cut, fields, labels, shaped_labels, columns, "
			    "sentences, accounts, rules)", key);
	}
	if (rules == NULL || rules->type != YN_SEQ ||
	    ynode_count(l->doc, rules) == 0) {
		lerr(l, nline(rules ? rules : root), "rules: expected a non-empty "
		    "list of rules");
		return;
	}
	size_t n = ynode_count(l->doc, rules);
	r->rule = xcalloc(n, sizeof *r->rule);
	YSEQ_FOREACH(l->doc, rules, e) {
		struct rule *ru = &r->rule[r->nrule++];
		load_rule(l, e, ru);
		for (size_t j = 0; j + 1 < r->nrule; j++)
			if (strcmp(r->rule[j].name, ru->name) == 0) {
				l->rule = ru->name;
				lerr(l, ru->line, "name already used by the rule at "
				    "line %d", r->rule[j].line);
				l->rule = NULL;
			}
	}
	if (r->shape[F_USER].re == NULL)
		lerr(l, nline(root), "fields.user_id: required (the shape of a "
		    "user ID)");
	if (r->shape[F_MOBILE].re == NULL)
		lerr(l, nline(root), "fields.mobile: required (the shape of a "
		    "phone number)");
}

struct rules *
rules_load(const char *path)
{
	struct rules *r;
	struct ld l;
	struct ydoc doc;
	FILE *fp;
	int rc;
	uint32_t jit = 0;

	if ((fp = fopen(path, "rb")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path);
	r->max_users = DEF_MAX_USERS;
	r->max_body = DEF_MAX_BODY;
	if (pcre2_config(PCRE2_CONFIG_JIT, &jit) == 0 && jit)
		r->jit = 1;

	memset(&l, 0, sizeof l);
	l.r = r;
	l.doc = &doc;
	ydoc_init(&doc, path);
	rc = ydoc_load_file(&doc, fp);
	fclose(fp);
	if (rc == 0)
		load_top(&l, ydoc_root(&doc));
	ydoc_free(&doc);
	if (ydoc_done(&doc, NULL)) {
		rules_free(r);
		return NULL;
	}

	if ((r->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (r->md = pcre2_match_data_create(MAX_GROUPS + 1, NULL)) == NULL)
		fatalx("rules: out of memory");
	pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, HEAP_LIMIT);
	if (r->jit && (r->jstack = pcre2_jit_stack_create(32 << 10, 512 << 10,
	    NULL)) != NULL)
		pcre2_jit_stack_assign(r->mctx, NULL, r->jstack);
	return r;
}

static void
conds_free(struct cond *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < c[i].nalt; j++)
			pat_free(&c[i].alt[j]);
		free(c[i].alt);
		free(c[i].header);
	}
	free(c);
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrule; i++) {
		free(r->rule[i].name);
		conds_free(r->rule[i].match, r->rule[i].nmatch);
		conds_free(r->rule[i].unless, r->rule[i].nunless);
	}
	free(r->rule);
	for (size_t i = 0; i < r->ncut; i++)
		pat_free(&r->cut[i]);
	free(r->cut);
	for (size_t i = 0; i < r->nsent; i++)
		pat_free(&r->sent[i]);
	free(r->sent);
	for (int f = 0; f < NF; f++) {
		pat_free(&r->shape[f]);
		pat_free(&r->label[f]);
		pat_free(&r->column[f]);
	}
	for (size_t i = 0; i < r->nslabel; i++)
		pat_free(&r->slabel[i].label);
	free(r->slabel);
	pat_free(&r->accounts);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_jit_stack_free(r->jstack);
	free(r->path);
	free(r);
}

const char *
rules_path(const struct rules *r)
{
	return r->path;
}

size_t
rules_count(const struct rules *r)
{
	return r->nrule;
}

/* ---- matching ------------------------------------------------------ */

/* Offset of the character after the one at I (UTF-8). */
static size_t
u8_next(const char *s, size_t len, size_t i)
{
	uint32_t cp;
	int bad;

	if (i >= len)
		return i + 1;
	return i + utf8_decode_clean(s + i, len - i, &cp, &bad);
}

/*
 * Runs P on S[0..LEN) from OFF. 1 and the match in r->md, or 0: no match,
 * or an error such as a limit hit (counted in M), which counts as no match.
 */
static int
pmatch_o(struct rules *r, const struct pat *p, const char *s, size_t len,
    size_t off, struct rmatch *m, uint32_t opts)
{
	int rc;

	if (p->re == NULL || off > len)
		return 0;
	rc = pcre2_match(p->re, (PCRE2_SPTR)s, len, off, opts, r->md,
	    r->mctx);
	if (rc >= 0)
		return 1;
	if (rc != PCRE2_ERROR_NOMATCH && m) {
		if (m->limit_hits++ == 0)
			log_warnx("%s:%d: pattern gave up (%d): treated as no "
			    "match", r->path, p->line, rc);
	}
	return 0;
}

static int
pmatch(struct rules *r, const struct pat *p, const char *s, size_t len,
    size_t off, struct rmatch *m)
{
	return pmatch_o(r, p, s, len, off, m, 0);
}

/*
 * The options for matching S[0..LEN) again and again (patterns by the
 * dozen, offsets through the text): PCRE2 checks the UTF-8 of the whole
 * subject at every call, a fifth of its work here, unless told it is
 * valid. It is, when utf8_valid says so once for the subject: then every
 * match on it skips the check. Offsets given with it are always at a
 * character (a match's end, or u8_next). Invalid text keeps the check,
 * and PCRE2's refusal, as before.
 */
static uint32_t
utf_checked(const char *s, size_t len)
{
	return utf8_valid(s, len) ? PCRE2_NO_UTF_CHECK : 0;
}

/* Start and end of group G of the last match; 0 if it did not take part. */
static int
group(struct rules *r, int g, size_t *s, size_t *e)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);

	if (g < 0 || (uint32_t)g >= pcre2_get_ovector_count(r->md) ||
	    ov[2 * g] == PCRE2_UNSET)
		return 0;
	*s = ov[2 * g];
	*e = ov[2 * g + 1];
	return 1;
}

static int
any_match(struct rules *r, const struct cond *c, const char *s,
    struct rmatch *m)
{
	size_t len = strlen(s);
	uint32_t o = c->nalt > 1 ? utf_checked(s, len) : 0;

	for (size_t i = 0; i < c->nalt; i++)
		if (pmatch_o(r, &c->alt[i], s, len, 0, m, o))
			return 1;
	return 0;
}

static int
cond_true(struct rules *r, const struct cond *c, const struct msg *msg,
    const char *body, struct rmatch *m)
{
	switch (c->what) {
	case C_SUBJECT:
		return any_match(r, c, msg->subject ? msg->subject : "", m);
	case C_FROM:
		return any_match(r, c, msg->from_addr ? msg->from_addr : "", m);
	case C_BODY:
		return any_match(r, c, body, m);
	case C_HEADER:
		for (size_t i = 0; i < msg->nheaders; i++)
			if (strcasecmp(msg->headers[i].name, c->header) == 0 &&
			    any_match(r, c, msg->headers[i].value ?
			    msg->headers[i].value : "", m))
				return 1;
		return 0;
	}
	return 0;
}

char *
rules_body(struct rules *r, const char *text)
{
	size_t len, cut;
	char *b;

	if (text == NULL)
		return xstrdup("");
	len = strlen(text);
	if (len > r->max_body) {
		/* at a line end if there is one, never inside a character */
		len = utf8_trunc(text, len, r->max_body);
		for (size_t i = len; i > r->max_body / 2; i--)
			if (text[i - 1] == '\n') {
				len = i;
				break;
			}
	}
	b = xstrndup(text, len);
	cut = len;
	/* valid for every cut too: each is at a match's start */
	uint32_t o = utf_checked(b, len);
	for (size_t i = 0; i < r->ncut; i++)
		if (pmatch_o(r, &r->cut[i], b, cut, 0, NULL, o)) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
			if (ov[0] < cut)
				cut = ov[0];
		}
	b[cut] = '\0';
	return b;
}

/* ---- extraction ---------------------------------------------------- */

/*
 * A copy of S[0..N) fit for a field: controls become spaces, runs of
 * blanks one space, trimmed, quotes around it dropped, at most MAX bytes
 * (never cutting a character).
 */
static char *
clean(const char *s, size_t n, size_t max)
{
	struct buf b;
	int sp = 0;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* U+00A0 no-break space counts as a blank */
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			i++;
			c = ' ';
		}
		if (c < 0x20 || c == 0x7F || c == ' ') {
			sp = b.len > 0;
			continue;
		}
		if (sp)
			buf_addc(&b, ' ');
		sp = 0;
		buf_addc(&b, c);
	}
	while (b.len >= 2 && ((b.s[0] == '"' && b.s[b.len - 1] == '"') ||
	    (b.s[0] == '\'' && b.s[b.len - 1] == '\'') ||
	    (b.s[0] == '<' && b.s[b.len - 1] == '>'))) {
		memmove(b.s, b.s + 1, b.len - 2);
		b.len -= 2;
		b.s[b.len] = '\0';
	}
	if (b.len > max) {
		size_t k = utf8_trunc(b.s, b.len, max);
		b.len = k;
		b.s[k] = '\0';
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Field-specific tidying of a value taken from text. */
static char *
field_value(enum field f, const char *s, size_t n)
{
	size_t i, e;

	while (n > 0 && strchr(" \t,;|", s[n - 1]))
		n--;
	while (n > 0 && strchr(" \t", *s))
		s++, n--;
	switch (f) {
	case F_ACCOUNT:
	case F_USER:
		/* the first word, without punctuation around it */
		while (n > 0 && strchr("#([<\"'", *s))
			s++, n--;
		for (i = 0; i < n && !strchr(" \t,;|)]>", s[i]); i++)
			;
		while (i > 0 && strchr(".:", s[i - 1]))
			i--;
		return clean(s, i, 64);
	case F_MOBILE:
		/* "07400 123456 (mobile)", "07400 123456 - Bob's phone" */
		e = n;
		for (i = 0; i < n; i++)
			if ((s[i] == '(' && i > 0 && s[i - 1] == ' ' &&
			    i + 1 < n && !(s[i + 1] >= '0' && s[i + 1] <= '9')) ||
			    (s[i] == ' ' && i + 2 < n && (s[i + 1] == '-' ||
			    (unsigned char)s[i + 1] == 0xE2) && i > 0 &&
			    s[i - 1] >= '0' && s[i - 1] <= '9')) {
				e = i;
				break;
			}
		return clean(s, e, MAX_VALUE);
	default:
		return clean(s, n, MAX_VALUE);
	}
}

static int
shape_ok(struct rules *r, enum field f, const char *v)
{
	return v && pmatch(r, &r->shape[f], v, strlen(v), 0, NULL);
}

/* Tidies a user or account ID: "u2001" is read as "U2001" when only the
 * upper-case form has the configured shape. */
static void
fix_id(struct rules *r, enum field f, char *v)
{
	char *up;

	if (v == NULL || shape_ok(r, f, v))
		return;
	up = xstrdup(v);
	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (shape_ok(r, f, up))
		strcpy(v, up);
	free(up);
}

static void
add_account(struct rmatch *m, const char *id)
{
	for (size_t i = 0; i < m->naccounts; i++)
		if (strcmp(m->accounts[i], id) == 0)
			return;
	m->accounts = xreallocarray(m->accounts, m->naccounts + 1,
	    sizeof *m->accounts);
	m->accounts[m->naccounts++] = xstrdup(id);
}

static void
entry_clear(struct rentry *e)
{
	free(e->account_id);
	free(e->user_id);
	free(e->name);
	free(e->mobile);
	memset(e, 0, sizeof *e);
}

static char **
efield(struct rentry *e, int f)
{
	switch (f) {
	case F_ACCOUNT: return &e->account_id;
	case F_USER: return &e->user_id;
	case F_NAME: return &e->name;
	default: return &e->mobile;
	}
}

static int
digits_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a && !(*a >= '0' && *a <= '9'))
			a++;
		while (*b && !(*b >= '0' && *b <= '9'))
			b++;
		if (*a != *b)
			return 0;
		if (*a == '\0')
			return 1;
		a++, b++;
	}
}

/*
 * Takes E (moved) into M: an entry needs a user ID or a number; an entry
 * with nothing but an account ID names the account of the whole ticket;
 * the same user with the same number again is dropped.
 */
static void
push_entry(struct rules *r, struct rmatch *m, struct rentry *e)
{
	fix_id(r, F_USER, e->user_id);
	fix_id(r, F_ACCOUNT, e->account_id);
	if (e->account_id)
		add_account(m, e->account_id);
	if (e->user_id == NULL && e->mobile == NULL) {
		entry_clear(e);
		return;
	}
	for (size_t i = 0; i < m->nentries; i++) {
		struct rentry *o = &m->entries[i];
		if (o->user_id && e->user_id && strcmp(o->user_id, e->user_id) == 0 &&
		    ((o->mobile == NULL && e->mobile == NULL) || (o->mobile &&
		    e->mobile && digits_eq(o->mobile, e->mobile)))) {
			/* fill what the first one lacked */
			if (o->held == NULL)
				o->held = e->held;
			o->forwarded &= e->forwarded;
			for (int f = 0; f < NF; f++)
				if (*efield(o, f) == NULL) {
					*efield(o, f) = *efield(e, f);
					*efield(e, f) = NULL;
				}
			entry_clear(e);
			return;
		}
	}
	if (m->nentries >= r->max_users) {
		m->truncated = 1;
		entry_clear(e);
		return;
	}
	m->entries = xreallocarray(m->entries, m->nentries + 1,
	    sizeof *m->entries);
	m->entries[m->nentries++] = *e;
	memset(e, 0, sizeof *e);
}

struct hit {
	size_t s, e;
	int f;
};

static int
hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->e > y->e ? -1 : x->e < y->e;
}

/* Is a label at S of LINE where a label can start: at the start of the
 * line after blanks, bullets or numbering, or after a separator? */
static int
label_at(const char *line, size_t s)
{
	size_t i = s, blanks = 0;

	while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
		blanks += line[i - 1] == '\t' ? 2 : 1;
		i--;
	}
	if (i == 0)
		return 1;
	if (strchr(",;|/", line[i - 1]) || blanks >= 2)
		return 1;
	for (size_t k = 0; k < i; k++) {
		unsigned char c = (unsigned char)line[k];
		if (strchr(" \t-*+>#.)0123456789", c))
			continue;
		/* U+2022 bullet, U+2013 en dash, U+00B7 middle dot */
		if (c == 0xE2 && k + 2 < i && (unsigned char)line[k + 1] == 0x80 &&
		    ((unsigned char)line[k + 2] == 0xA2 ||
		    (unsigned char)line[k + 2] == 0x93)) {
			k += 2;
			continue;
		}
		if (c == 0xC2 && k + 1 < i && (unsigned char)line[k + 1] == 0xB7) {
			k++;
			continue;
		}
		return 0;
	}
	return 1;
}

static size_t
find_labels(struct rules *r, const char *line, size_t len, struct hit *h,
    struct rmatch *m)
{
	size_t n = 0, k = 0;
	uint32_t o = utf_checked(line, len);

	/* 0..NF-1: the labels of a field; NF+i: shaped label i */
	for (int f = 0; f < NF + (int)r->nslabel; f++) {
		const struct pat *p = f < NF ? &r->label[f] : &r->slabel[f - NF].label;
		size_t off = 0;
		while (n < MAX_HITS && pmatch_o(r, p, line, len, off, m, o)) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
			if (label_at(line, ov[0]) && ov[1] > ov[0]) {
				h[n].s = ov[0];
				h[n].e = ov[1];
				h[n].f = f;
				n++;
			}
			off = ov[1] > ov[0] ? ov[1] : u8_next(line, len, ov[0]);
		}
	}
	qsort(h, n, sizeof *h, hit_cmp);
	for (size_t i = 0; i < n; i++)     /* drop overlapping hits */
		if (k == 0 || h[i].s >= h[k - 1].e)
			h[k++] = h[i];
	return k;
}

#define MAX_CELLS 32

struct cell {
	const char *s;
	size_t n;
};

/* Splits LINE at SEP into trimmed cells ("a | b" from HTML, "|a|b|" from
 * Markdown, "a,\"Jones, Bob\"" from CSV). */
static size_t
split_cells(const char *line, size_t len, char sep, struct cell *c)
{
	size_t n = 0, i = 0;

	while (i <= len && n < MAX_CELLS) {
		size_t e;
		int q = 0;
		while (i < len && line[i] == ' ')
			i++;
		if (sep == ',' && i < len && line[i] == '"')
			q = 1;
		for (e = i + q; e < len && (q ? line[e] != '"' : line[e] != sep);
		    e++)
			;
		if (q && e < len) {
			c[n].s = line + i + 1;
			c[n].n = e - i - 1;
			while (e < len && line[e] != sep)
				e++;
		} else {
			c[n].s = line + i;
			c[n].n = e - i;
		}
		while (c[n].n > 0 && (c[n].s[c[n].n - 1] == ' ' ||
		    c[n].s[c[n].n - 1] == '\t'))
			c[n].n--;
		n++;
		i = e + 1;
	}
	if (sep == '|' && n > 1 && c[0].n == 0) {
		memmove(c, c + 1, (n - 1) * sizeof *c);
		n--;
	}
	if (sep == '|' && n > 1 && c[n - 1].n == 0)
		n--;
	return n;
}

static int
cell_match(struct rules *r, const struct pat *p, const struct cell *c)
{
	return c->n > 0 && pmatch(r, p, c->s, c->n, 0, NULL);
}

static const char seps[] = "\t|;,";

/* A table header: at least two known columns, one of them a user ID or a
 * number, each once. Fills COL (cell index per field, -1 if absent). */
static int
table_header(struct rules *r, const char *line, size_t len, char *sepp,
    int *col)
{
	struct cell c[MAX_CELLS];

	for (const char *sp = seps; *sp; sp++) {
		size_t n, known = 0;
		if (memchr(line, *sp, len) == NULL)
			continue;
		n = split_cells(line, len, *sp, c);
		for (int f = 0; f < NF; f++)
			col[f] = -1;
		for (size_t i = 0; i < n; i++)
			for (int f = 0; f < NF; f++)
				if (col[f] < 0 && cell_match(r, &r->column[f], &c[i])) {
					col[f] = (int)i;
					known++;
					break;
				}
		if (known >= 2 && (col[F_USER] >= 0 || col[F_MOBILE] >= 0)) {
			*sepp = *sp;
			return 1;
		}
	}
	return 0;
}

static int
rule_row(const struct cell *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++)
			if (!strchr("-=:+ ", c[i].s[k]))
				return 0;
	return 1;
}

/* A row of a table under a header. */
static void
table_row(struct rules *r, struct rmatch *m, const char *line, size_t len,
    char sep, const int *col, int fwd)
{
	struct cell c[MAX_CELLS];
	struct rentry e;
	size_t n = split_cells(line, len, sep, c);

	if (rule_row(c, n))
		return;
	memset(&e, 0, sizeof e);
	e.how = "table";
	e.forwarded = fwd;
	for (int f = 0; f < NF; f++)
		if (col[f] >= 0 && (size_t)col[f] < n)
			*efield(&e, f) = field_value(f, c[col[f]].s, c[col[f]].n);
	push_entry(r, m, &e);
}

/* A row without a header: one cell is a user ID, one a phone number, the
 * cells shaped like names make the name, one may be an account ID. */
static int
bare_row(struct rules *r, struct rmatch *m, const char *line, size_t len,
    int fwd)
{
	struct cell c[MAX_CELLS];

	for (const char *sp = seps; *sp; sp++) {
		size_t n;
		int u = -1, ph = -1, a = -1;
		struct buf name;
		struct rentry e;

		if (memchr(line, *sp, len) == NULL)
			continue;
		n = split_cells(line, len, *sp, c);
		if (n < 2)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (u < 0 && cell_match(r, &r->shape[F_USER], &c[i]))
				u = (int)i;
			else if (ph < 0 && cell_match(r, &r->shape[F_MOBILE], &c[i]))
				ph = (int)i;
			else if (a < 0 && cell_match(r, &r->shape[F_ACCOUNT], &c[i]))
				a = (int)i;
		}
		if (u < 0 || ph < 0)
			continue;
		memset(&e, 0, sizeof e);
		e.how = "row";
		e.forwarded = fwd;
		e.user_id = field_value(F_USER, c[u].s, c[u].n);
		e.mobile = field_value(F_MOBILE, c[ph].s, c[ph].n);
		if (a >= 0)
			e.account_id = field_value(F_ACCOUNT, c[a].s, c[a].n);
		buf_init(&name);
		for (size_t i = 0; i < n; i++) {
			if ((int)i == u || (int)i == ph || (int)i == a ||
			    !cell_match(r, &r->shape[F_NAME], &c[i]))
				continue;
			if (name.len)
				buf_adds(&name, ", ");
			buf_add(&name, c[i].s, c[i].n);
		}
		if (name.len)
			e.name = clean(name.s, name.len, MAX_VALUE);
		buf_free(&name);
		push_entry(r, m, &e);
		return 1;
	}
	return 0;
}

/*
 * The block of labelled fields being read: fields belong to the block they
 * are in. A blank line ends a block of two fields or more; so does the
 * label that opened it
 * (its first field other than an account ID) seen again once it has two
 * fields ("User ID, Name, Mobile, User ID, ..." lists users one after the
 * other). Any other field given again with a different value makes the
 * block ambiguous: it is held for staff, never guessed.
 */
struct block {
	struct rentry e;
	int nset;
	int opener;		/* field that opened the block, -1 */
	int weak;		/* the name came from a shaped label */
	int fwd;
};

static void
block_start(struct block *b)
{
	memset(&b->e, 0, sizeof b->e);
	b->e.how = "labels";
	b->e.forwarded = b->fwd;
	b->nset = 0;
	b->opener = -1;
	b->weak = 0;
}

static void
block_end(struct rules *r, struct rmatch *m, struct block *b)
{
	push_entry(r, m, &b->e);
	block_start(b);
}

static int
same_value(int f, const char *a, const char *b)
{
	if (f == F_MOBILE)
		return digits_eq(a, b);
	return strcasecmp(a, b) == 0;
}

static const char *
held_why(int f)
{
	switch (f) {
	case F_ACCOUNT: return "two account IDs in one block";
	case F_USER: return "two user IDs in one block";
	case F_NAME: return "two names in one block";
	default: return "two mobile numbers in one block";
	}
}

/* Puts V (owned) into field F of the block; WEAK: a name read through a
 * shaped label, which gives way to one written under a name label. */
static void
block_set(struct rules *r, struct rmatch *m, struct block *b, int f, char *v,
    int weak)
{
	char **slot = efield(&b->e, f);

	if (*slot == NULL) {
		*slot = v;
		b->nset++;
		if (b->opener < 0 && f != F_ACCOUNT)
			b->opener = f;
		if (f == F_NAME)
			b->weak = weak;
		return;
	}
	if (f == F_USER || f == F_ACCOUNT) {
		fix_id(r, f, v);
		fix_id(r, f, *slot);
	}
	if (same_value(f, *slot, v) || (f == F_NAME && weak)) {
		free(v);
		return;
	}
	if (f == F_NAME && b->weak) {
		free(*slot);
		*slot = v;
		b->weak = 0;
		return;
	}
	if ((f == b->opener || f == F_ACCOUNT) && b->nset >= 2) {
		block_end(r, m, b);
		block_set(r, m, b, f, v, weak);
		return;
	}
	if (b->e.held == NULL)
		b->e.held = held_why(f);
	free(v);
}

/* The value of shaped label SL: the first of its fields whose shape the
 * value has; 0 (and nothing read) when none. */
static int
shaped_value(struct rules *r, const struct slabel *sl, const char *s, size_t n,
    char **out)
{
	for (int i = 0; i < sl->nas; i++) {
		int f = sl->as[i];
		char *v = field_value(f, s, n);
		if (v && (f == F_USER || f == F_ACCOUNT))
			fix_id(r, f, v);
		if (v && shape_ok(r, f, v)) {
			*out = v;
			return f;
		}
		free(v);
	}
	*out = NULL;
	return -1;
}

/* Labelled fields, tables and header-less rows, line by line. FWD: the
 * text is a forwarded message (entries are marked so). */
static void
extract_lines(struct rules *r, const char *body, struct rmatch *m, int fwd)
{
	struct block cur;
	struct hit h[MAX_HITS];
	int col[NF], intable = 0;
	char sep = 0;
	const char *p = body;

	cur.fwd = fwd;
	block_start(&cur);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p), nh;
		const char *next = nl ? nl + 1 : p + len;
		int blank = strspn(p, " \t\r") >= len;

		if (intable) {
			if (blank) {
				p = next;
				continue;
			}
			if (memchr(p, sep, len)) {
				table_row(r, m, p, len, sep, col, fwd);
				p = next;
				continue;
			}
			intable = 0;
		}
		if (blank) {
			/* a lone field (an account ID heading a list, a
			 * label whose value follows a blank line) joins the
			 * lines under it */
			if (cur.nset >= 2)
				block_end(r, m, &cur);
			p = next;
			continue;
		}
		/* before labels: "User ID<TAB>Name<TAB>Mobile" is a header */
		if (table_header(r, p, len, &sep, col)) {
			if (cur.nset)
				block_end(r, m, &cur);
			intable = 1;
			p = next;
			continue;
		}
		nh = find_labels(r, p, len, h, m);
		if (nh > 0) {
			for (size_t i = 0; i < nh; i++) {
				size_t vs = h[i].e, ve = i + 1 < nh ? h[i + 1].s : len;
				const char *vp = p + vs;
				size_t vn = ve - vs;
				char *v = NULL;
				int f = h[i].f;

				/* "Mobile:" with the value on the next line */
				if (i + 1 == nh && nl && next[0] != '\0' &&
				    strspn(vp, " \t\r") >= vn) {
					const char *nl2 = strchr(next, '\n');
					size_t l2 = nl2 ? (size_t)(nl2 - next) :
					    strlen(next);
					struct hit h2[MAX_HITS];
					if (l2 > 0 && strspn(next, " \t\r") < l2 &&
					    find_labels(r, next, l2, h2, m) == 0) {
						vp = next;
						vn = l2;
						next = nl2 ? nl2 + 1 : next + l2;
					}
				}
				if (f >= NF)
					f = shaped_value(r, &r->slabel[f - NF], vp, vn,
					    &v);
				else
					v = field_value(f, vp, vn);
				if (v == NULL)
					continue;
				block_set(r, m, &cur, f, v, h[i].f >= NF);
			}
			p = next;
			continue;
		}
		bare_row(r, m, p, len, fwd);
		p = next;
	}
	push_entry(r, m, &cur.e);
}

/* Operator sentences, over the whole body. */
static void
extract_sentences(struct rules *r, const char *body, struct rmatch *m,
    int fwd)
{
	size_t len = strlen(body);
	uint32_t o = utf_checked(body, len);

	for (size_t i = 0; i < r->nsent; i++) {
		size_t off = 0;
		while (off <= len && pmatch_o(r, &r->sent[i], body, len, off, m,
		    o)) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
			size_t ms = ov[0], me = ov[1], s, e;
			struct rentry en;

			memset(&en, 0, sizeof en);
			en.how = "sentence";
			en.forwarded = fwd;
			for (int f = 0; f < NF; f++)
				if (group(r, r->sent[i].grp[f], &s, &e))
					*efield(&en, f) = field_value(f, body + s, e - s);
			push_entry(r, m, &en);
			off = me > ms ? me : u8_next(body, len, ms);
		}
	}
}

static void
find_accounts(struct rules *r, const char *s, struct rmatch *m)
{
	size_t len = strlen(s), off = 0, gs, ge;
	uint32_t o = utf_checked(s, len);

	while (off <= len && pmatch_o(r, &r->accounts, s, len, off, m, o)) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
		size_t ms = ov[0], me = ov[1];
		char *v;

		if (!group(r, r->accounts.grp[F_ACCOUNT], &gs, &ge)) {
			gs = ms;
			ge = me;
		}
		if ((v = field_value(F_ACCOUNT, s + gs, ge - gs)) != NULL) {
			fix_id(r, F_ACCOUNT, v);
			add_account(m, v);
			free(v);
		}
		off = me > ms ? me : u8_next(s, len, ms);
	}
}

int
rules_extract(struct rules *r, const char *subject, const char *body,
    struct rmatch *m)
{
	find_accounts(r, subject ? subject : "", m);
	find_accounts(r, body, m);
	if (m->kind == RK_MISSING_NUMBER) {
		extract_lines(r, body, m, 0);
		extract_sentences(r, body, m, 0);
	}
	return 0;
}

/* The first rule that matches SUBJECT and BODY decides the kind. */
static void
classify(struct rules *r, const struct msg *msg, const char *subject,
    const char *body, struct rmatch *m)
{
	struct msg alone = *msg;

	alone.subject = UNCONST(subject);
	m->kind = RK_STAFF;
	m->rule = NULL;
	m->rule_line = 0;
	for (size_t i = 0; i < r->nrule; i++) {
		const struct rule *ru = &r->rule[i];
		size_t k;

		for (k = 0; k < ru->nmatch; k++)
			if (!cond_true(r, &ru->match[k], &alone, body, m))
				break;
		if (k < ru->nmatch)
			continue;
		for (k = 0; k < ru->nunless; k++)
			if (cond_true(r, &ru->unless[k], &alone, body, m))
				break;
		if (k < ru->nunless)
			continue;
		m->kind = ru->kind;
		m->rule = ru->name;
		m->rule_line = ru->line;
		break;
	}
}

int
rules_match(struct rules *r, const struct msg *msg, struct rmatch *m)
{
	char *body = rules_body(r, msg->new_text);

	memset(m, 0, sizeof *m);
	classify(r, msg, msg->subject ? msg->subject : "", body, m);
	/*
	 * A forwarded report is read when the sender's own text above it,
	 * classified alone (without the subject, which a forward copies), is
	 * itself a missing-number request; never against a rule that sends
	 * the ticket to staff (such as "2FA off").
	 */
	if (msg->fwd_text && *msg->fwd_text && (m->kind != RK_STAFF ||
	    m->rule == NULL)) {
		struct rmatch top;

		memset(&top, 0, sizeof top);
		classify(r, msg, "", body, &top);
		if (top.kind == RK_MISSING_NUMBER) {
			m->kind = top.kind;
			m->rule = top.rule;
			m->rule_line = top.rule_line;
			m->forward_read = 1;
		}
		m->limit_hits += top.limit_hits;
		rmatch_clear(&top);
	}
	rules_extract(r, msg->subject, body, m);
	if (m->forward_read) {
		char *fb = rules_body(r, msg->fwd_text);
		extract_lines(r, fb, m, 1);
		extract_sentences(r, fb, m, 1);
		free(fb);
	}
	free(body);
	return 0;
}

void
rmatch_clear(struct rmatch *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->naccounts; i++)
		free(m->accounts[i]);
	free(m->accounts);
	for (size_t i = 0; i < m->nentries; i++)
		entry_clear(&m->entries[i]);
	free(m->entries);
	memset(m, 0, sizeof *m);
}
