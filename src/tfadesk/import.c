/*
 * import.c - `tfadesk db import FILE.yaml`: resellers, end clients, users and
 * contacts (DESIGN.md "Data"). The whole file is checked first; any problem
 * is reported as "file:line: what: why" and nothing is changed. Importing the
 * same file again changes nothing.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include "tfadesk.h"
#include "ydoc.h"
#include "store.h"
#include "phone.h"
#include "import.h"
#include "addr.h"
#include "utf8.h"

struct imp_user {
	struct user u;
	int line;
	int phone_given;      /* the file says phone: (a number or none) */
	const char *raw;      /* the number as written (in the tree) */
	int phone_line;
	const char *why;      /* why RAW is refused */
};

struct imp_account {
	struct account a;
	int line;
	int twofa_given;      /* the file says twofa: / use_2fa: */
};

struct imp_contact {
	char *reseller, *addr, *display;
	int line;
};

struct importer {
	const char *file;
	struct ydoc doc;
	const struct numbering *numbering;
	const char *region;
	struct imp_account *acc; size_t nacc;
	struct imp_user *usr; size_t nusr;
	struct imp_contact *con; size_t ncon;
};

#define ierr(im, ...) ydoc_error(&(im)->doc, __VA_ARGS__)

static int
line_of(struct ynode *n)
{
	return ynode_line(n);
}

/* IDs as the portal writes them: letters, digits and . _ - only. */
static int
valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

/* "Ops <ops@acme.example>" or "ops@acme.example" (addr_parse_one) */
static int
parse_contact(const char *s, char **addr, char **display)
{
	struct addr a;

	*addr = *display = NULL;
	if (addr_parse_one(s, &a, NULL) == -1)
		return -1;
	*addr = a.spec;
	*display = a.name;
	return 0;
}

static const char *
scalar(struct ynode *n)
{
	if (n == NULL || n->type != YN_SCALAR)
		return NULL;
	return n->value;
}

struct field {
	const char *name;
	struct ynode *value;
};

/* Picks the known keys out of a mapping; unknown keys are errors. */
static int
fields(struct importer *im, struct ynode *map, const char *what,
    struct field *f, size_t nf)
{
	struct ynode *k, *v;

	if (map == NULL || map->type != YN_MAP) {
		ierr(im, line_of(map), "%s: expected a mapping of keys", what);
		return -1;
	}
	for (k = ynode_first(&im->doc, map); k; k = v ? ynode_next(&im->doc, v) : NULL) {
		const char *ks = scalar(k);
		size_t i;

		v = ynode_next(&im->doc, k);
		for (i = 0; ks && i < nf; i++)
			if (strcmp(ks, f[i].name) == 0)
				break;
		if (ks == NULL || i == nf) {
			ierr(im, line_of(k), "%s: unknown key '%s'", what,
			    ks ? ks : "?");
			continue;
		}
		f[i].value = v;
	}
	return 0;
}

static int
get_bool(struct importer *im, struct ynode *n, const char *what, int *out)
{
	const char *s;

	*out = 0;
	if (n == NULL)
		return 0;
	s = scalar(n);
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no") ||
	    !strcmp(s, "off")))
		*out = 0;
	else {
		ierr(im, line_of(n), "%s: expected true or false", what);
		return -1;
	}
	return 0;
}

static char *
get_id(struct importer *im, struct ynode *map, struct ynode *n,
    const char *what)
{
	const char *s = scalar(n);

	if (n == NULL) {
		ierr(im, line_of(map), "%s: 'id' is missing", what);
		return NULL;
	}
	if (s == NULL || !valid_id(s)) {
		ierr(im, line_of(n), "%s: id must be 1-64 letters, digits, "
		    "'.', '_' or '-'", what);
		return NULL;
	}
	return xstrdup(s);
}

static char *
get_name(struct importer *im, struct ynode *map, struct ynode *n,
    const char *what)
{
	const char *s = scalar(n);

	if (n == NULL) {
		ierr(im, line_of(map), "%s: 'name' is missing", what);
		return NULL;
	}
	if (s == NULL || !utf8_valid_text(s, 200)) {
		ierr(im, line_of(n), "%s: name must be 1-200 characters of "
		    "UTF-8 text without control characters", what);
		return NULL;
	}
	return xstrdup(s);
}

static int
seq_items(struct importer *im, struct ynode *n, const char *what,
    struct ynode **first)
{
	*first = NULL;
	if (n == NULL)
		return 0;
	if (n->type == YN_SCALAR && n->len == 0)
		return 0;           /* "users:" with nothing after it */
	if (n->type != YN_SEQ) {
		ierr(im, line_of(n), "%s: expected a list", what);
		return -1;
	}
	*first = ynode_first(&im->doc, n);
	return 0;
}

static void
add_users(struct importer *im, struct ynode *list, const char *account)
{
	struct ynode *m;
	char what[128];

	snprintf(what, sizeof what, "account %s: users", account);
	if (seq_items(im, list, what, &m) == -1)
		return;
	for (; m; m = ynode_next(&im->doc, m)) {
		struct field f[] = { { "id", NULL }, { "name", NULL },
		    { "phone", NULL } };
		struct imp_user iu;

		memset(&iu, 0, sizeof iu);
		iu.line = line_of(m);
		if (fields(im, m, what, f, 3) == -1)
			continue;
		snprintf(what, sizeof what, "account %s: user", account);
		iu.u.id = get_id(im, m, f[0].value, what);
		if (iu.u.id)
			snprintf(what, sizeof what, "user %s", iu.u.id);
		iu.u.name = get_name(im, m, f[1].value, what);
		iu.u.account = xstrdup(account);
		if (f[2].value) {
			const char *p = scalar(f[2].value);
			iu.phone_given = 1;
			if (p == NULL)
				ierr(im, line_of(f[2].value), "%s: phone: "
				    "expected a number", what);
			else if (*p == '\0' || strcmp(p, "none") == 0 ||
			    strcmp(p, "~") == 0 || strcmp(p, "null") == 0)
				;   /* phone: "" (or none, null) means none */
			else {
				/* normalised by normalize_phones() */
				iu.raw = p;
				iu.phone_line = line_of(f[2].value);
			}
		}
		im->usr = xreallocarray(im->usr, im->nusr + 1, sizeof *im->usr);
		im->usr[im->nusr++] = iu;
		snprintf(what, sizeof what, "account %s: users", account);
	}
}

static void
add_account(struct importer *im, struct ynode *m, const char *reseller)
{
	struct field f[] = { { "id", NULL }, { "name", NULL },
	    { reseller ? "use_2fa" : "twofa", NULL }, { "users", NULL },
	    { "contacts", NULL }, { "end_clients", NULL },
	    { "reseller", NULL } };
	/* contacts and end_clients only for resellers; reseller only for a
	 * top-level end client */
	size_t nf = 4;
	const char *kind = reseller ? "end client" : "reseller";
	struct imp_account ia;
	char what[128];

	memset(&ia, 0, sizeof ia);
	ia.line = line_of(m);
	if (reseller == NULL)
		nf = 6;
	else if (*reseller == '\0') {
		/* top-level end_clients: entry must name its reseller */
		f[4] = f[6];
		nf = 5;
	}
	if (fields(im, m, kind, f, nf) == -1)
		return;
	ia.a.id = get_id(im, m, f[0].value, kind);
	snprintf(what, sizeof what, "%s %s", kind, ia.a.id ? ia.a.id : "?");
	ia.a.name = get_name(im, m, f[1].value, what);
	get_bool(im, f[2].value, what, &ia.a.twofa);
	ia.twofa_given = f[2].value != NULL;
	ia.a.kind = reseller ? ACCOUNT_END_CLIENT : ACCOUNT_RESELLER;
	if (reseller && *reseller == '\0') {
		const char *r = scalar(f[4].value);
		if (f[4].value == NULL || r == NULL || !valid_id(r))
			ierr(im, ia.line, "%s: an end client must be listed "
			    "under a reseller, or name one with 'reseller:'",
			    what);
		else
			ia.a.reseller = xstrdup(r);
	} else if (reseller)
		ia.a.reseller = xstrdup(reseller);
	if (ia.a.id == NULL) {
		account_clear(&ia.a);
		return;
	}
	im->acc = xreallocarray(im->acc, im->nacc + 1, sizeof *im->acc);
	im->acc[im->nacc++] = ia;
	add_users(im, f[3].value, ia.a.id);
	if (reseller)
		return;

	struct ynode *c, *it;
	snprintf(what, sizeof what, "reseller %s: contacts", ia.a.id);
	if (seq_items(im, f[4].value, what, &c) == 0)
		for (; c; c = ynode_next(&im->doc, c)) {
			const char *s = scalar(c);
			struct imp_contact ic;
			memset(&ic, 0, sizeof ic);
			ic.line = line_of(c);
			if (s == NULL || !utf8_valid_text(s, 200) ||
			    parse_contact(s, &ic.addr, &ic.display) == -1) {
				ierr(im, ic.line, "%s: not an e-mail address",
				    what);
				continue;
			}
			ic.reseller = xstrdup(ia.a.id);
			im->con = xreallocarray(im->con, im->ncon + 1,
			    sizeof *im->con);
			im->con[im->ncon++] = ic;
		}
	snprintf(what, sizeof what, "reseller %s: end_clients", ia.a.id);
	char *rid = xstrdup(ia.a.id);
	if (seq_items(im, f[5].value, what, &it) == 0)
		for (; it; it = ynode_next(&im->doc, it))
			add_account(im, it, rid);
	free(rid);
}

/*
 * The file's numbers through libphonenumber: some 25 us each, most of an
 * import's time, so on every core (phone_normalize() is thread-safe; each
 * thread writes only its own users). Refusals are reported afterwards, in
 * file order.
 */
struct phone_job {
	struct importer *im;
	size_t lo, hi;
};

static void *
phone_run(void *arg)
{
	struct phone_job *j = arg;
	char e164[20];

	for (size_t i = j->lo; i < j->hi; i++) {
		struct imp_user *u = &j->im->usr[i];
		if (u->raw == NULL)
			continue;
		if (phone_normalize(j->im->numbering, u->raw, j->im->region,
		    e164, &u->why) == 0)
			u->u.phone = xstrdup(e164);
	}
	return NULL;
}

static void
normalize_phones(struct importer *im)
{
	struct phone_job job[8];
	pthread_t tid[8];
	int started[8] = { 0 };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = cores < 1 ? 1 : cores > 8 ? 8 : (size_t)cores;

	size_t first = 0;

	if (im->nusr < 4096)      /* not worth a thread */
		nt = 1;
	/* the first number alone: libphonenumber builds its tables once,
	 * before any thread asks */
	while (first < im->nusr && im->usr[first].raw == NULL)
		first++;
	if (first < im->nusr) {
		job[0] = (struct phone_job){ im, first, first + 1 };
		phone_run(&job[0]);
		first++;
	}
	for (size_t t = 0; t < nt; t++) {
		job[t].im = im;
		job[t].lo = first + (im->nusr - first) * t / nt;
		job[t].hi = first + (im->nusr - first) * (t + 1) / nt;
		if (t > 0 && pthread_create(&tid[t], NULL, phone_run,
		    &job[t]) == 0)
			started[t] = 1;
	}
	phone_run(&job[0]);
	for (size_t t = 1; t < nt; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			phone_run(&job[t]);
	}
	for (size_t i = 0; i < im->nusr; i++) {
		struct imp_user *u = &im->usr[i];
		char *m;
		if (u->raw == NULL || u->why == NULL)
			continue;
		m = mask_phone(u->raw);
		if (u->u.id)
			ierr(im, u->phone_line, "user %s: phone %s: %s",
			    u->u.id, m, u->why);
		else
			ierr(im, u->phone_line, "account %s: user: phone %s: "
			    "%s", u->u.account, m, u->why);
		free(m);
	}
}

/* Every ID of the file, sorted: duplicates and references are found by
 * binary search, not by comparing every pair (a portal sync has a million
 * users). Accounts sort before users of the same ID, then file order. */
struct idref {
	const char *id;
	int user;             /* 0: im->acc[i], 1: im->usr[i] */
	size_t i;
};

static int
idref_cmp(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	if (x->user != y->user)
		return x->user - y->user;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The first entry with ID (and, if user >= 0, of that type), or NULL. */
static const struct idref *
idref_first(const struct idref *v, size_t n, const char *id, int user)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].id, id);
		if (c == 0 && user > 0)
			c = v[mid].user - 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || strcmp(v[lo].id, id) != 0 ||
	    (user >= 0 && v[lo].user != user))
		return NULL;
	return &v[lo];
}

static void
check_references(struct importer *im, struct store *s)
{
	struct idref *v;
	const struct idref *f;
	size_t n = 0;

	v = xreallocarray(NULL, im->nacc + im->nusr + 1, sizeof *v);
	for (size_t i = 0; i < im->nacc; i++)
		v[n++] = (struct idref){ im->acc[i].a.id, 0, i };
	for (size_t i = 0; i < im->nusr; i++)
		if (im->usr[i].u.id && im->usr[i].u.name)
			v[n++] = (struct idref){ im->usr[i].u.id, 1, i };
	qsort(v, n, sizeof *v, idref_cmp);

	for (size_t i = 0; i < im->nacc; i++) {
		struct imp_account *a = &im->acc[i];
		f = idref_first(v, n, a->a.id, 0);
		if (f && f->i != i)
			ierr(im, a->line, "account %s: duplicate ID "
			    "(first on line %d)", a->a.id,
			    im->acc[f->i].line);
		if (a->a.reseller == NULL)
			continue;
		int found = 0;
		for (f = idref_first(v, n, a->a.reseller, 0); f &&
		    f < v + n && f->user == 0 &&
		    strcmp(f->id, a->a.reseller) == 0; f++)
			if (im->acc[f->i].a.kind == ACCOUNT_RESELLER)
				found = 1;
		if (!found) {
			struct account db;
			if (store_account_get(s, a->a.reseller, &db) == 0 &&
			    db.kind == ACCOUNT_RESELLER)
				found = 1;
			account_clear(&db);
		}
		if (!found)
			ierr(im, a->line, "end client %s: reseller %s does not "
			    "exist", a->a.id, a->a.reseller);
	}
	for (size_t i = 0; i < im->nusr; i++) {
		struct imp_user *u = &im->usr[i];
		if (u->u.id == NULL || u->u.name == NULL)
			continue;
		f = idref_first(v, n, u->u.id, 1);
		if (f && f->i != i)
			ierr(im, u->line, "user %s: duplicate ID "
			    "(first on line %d)", u->u.id,
			    im->usr[f->i].line);
		for (f = idref_first(v, n, u->u.id, 0); f && f < v + n &&
		    f->user == 0 && strcmp(f->id, u->u.id) == 0; f++)
			ierr(im, u->line, "user %s: the same ID as "
			    "account on line %d", u->u.id,
			    im->acc[f->i].line);
	}
	free(v);
	/* an existing account may not change kind under our feet */
	for (size_t i = 0; i < im->nacc; i++) {
		struct account db;
		if (store_account_get(s, im->acc[i].a.id, &db) == 0 &&
		    db.kind != im->acc[i].a.kind)
			ierr(im, im->acc[i].line, "account %s: already exists "
			    "as a%s", db.id, db.kind == ACCOUNT_RESELLER ?
			    " reseller" : "n end client");
		account_clear(&db);
	}
}

static void
importer_free(struct importer *im)
{
	for (size_t i = 0; i < im->nacc; i++)
		account_clear(&im->acc[i].a);
	for (size_t i = 0; i < im->nusr; i++)
		user_clear(&im->usr[i].u);
	for (size_t i = 0; i < im->ncon; i++) {
		free(im->con[i].reseller);
		free(im->con[i].addr);
		free(im->con[i].display);
	}
	free(im->acc);
	free(im->usr);
	free(im->con);
}

/*
 * The sync (DESIGN.md "Data"). Per field the database remembers what the
 * last import wrote (imported_phone, imported_twofa). A file value equal to
 * that changes nothing, whatever a ticket or staff did to the live value
 * since; a file value that differs is a change in the portal and is
 * applied. A move or a clear without its flag, and a change that locks
 * users out without --force, are problems: the whole import changes
 * nothing. Memory grows with the file only: the database is read row by
 * row, and --prune finds what the file does not name in a temporary table.
 */
struct lockout {
	char *account;        /* 2FA switched on: every user of it */
	char *user;           /* cleared or moved: this user */
	int line;
	int64_t audit_id;     /* the row that says forced with --force */
};

struct sync {
	struct importer *im;
	struct store *s;
	const struct import_opts *o;
	struct import_stats *st;
	char *actor;
	int problems;
	struct lockout *lo; size_t nlo;
	const char *cur_kind;  /* what prune() is removing */
};

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A change, printed by --dry-run (numbers masked). */
static void PRINTFLIKE(2, 3)
change(struct sync *sy, const char *fmt, ...)
{
	va_list ap;

	if (!sy->o->dry_run && !sy->o->verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void PRINTFLIKE(3, 4)
problem(struct sync *sy, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", sy->im->file, line, msg);
	sy->problems++;
}

static const char *
shown(const char *phone, char *buf, size_t len)
{
	char *m = mask_phone(phone);

	snprintf(buf, len, "%s", m);
	free(m);
	return buf;
}

static void
add_lockout(struct sync *sy, const char *account, const char *user,
    int line)
{
	struct lockout *l;

	sy->lo = xreallocarray(sy->lo, sy->nlo + 1, sizeof *sy->lo);
	l = &sy->lo[sy->nlo++];
	l->account = account ? xstrdup(account) : NULL;
	l->user = user ? xstrdup(user) : NULL;
	l->line = line;
	l->audit_id = store_audit_last(sy->s);
}

static const char *
kind_word(enum account_kind k)
{
	return k == ACCOUNT_RESELLER ? "reseller" : "end_client";
}

static int
sync_account(struct sync *sy, struct imp_account *ia)
{
	struct account *a = &ia->a, live;
	const char *twofa_action = a->kind == ACCOUNT_RESELLER ?
	    "account.twofa" : "account.use_2fa";
	int imported, rc, dirty = 0, changed = 0;

	if ((rc = store_account_sync_get(sy->s, a->id, &live, &imported)) ==
	    -1)
		return -1;
	if (sy->o->prune && store_sync_seen(sy->s, "account", a->id, NULL) ==
	    -1)
		goto fail;
	if (rc == 1) {
		char *v = xstrfmt("%s %s twofa=%s", kind_word(a->kind), a->name,
		    a->twofa ? "on" : "off");
		rc = store_account_sync_put(sy->s, a, a->twofa, 1);
		if (rc == 0)
			rc = store_audit(sy->s, sy->actor, "account.create",
			    a->id, NULL, NULL, v, 0);
		free(v);
		if (rc == -1)
			return -1;
		change(sy, "+ account %s (%s \"%s\", %s %s)", a->id,
		    a->kind == ACCOUNT_RESELLER ? "reseller" : "end client",
		    a->name, a->kind == ACCOUNT_RESELLER ? "2FA" : "use_2fa",
		    a->twofa ? "on" : "off");
		sy->st->accounts++;
		return 0;
	}
	if (!streq_null(live.reseller, a->reseller)) {
		if (!sy->o->allow_move)
			problem(sy, ia->line, "end client %s: moves from "
			    "reseller %s to %s: needs --allow-move", a->id,
			    live.reseller, a->reseller);
		else {
			if (store_audit(sy->s, sy->actor, "account.move", a->id,
			    NULL, live.reseller, a->reseller, 0) == -1)
				goto fail;
			change(sy, "~ account %s: reseller %s -> %s", a->id,
			    live.reseller, a->reseller);
			free(live.reseller);
			live.reseller = xstrdup(a->reseller);
			dirty = changed = 1;
		}
	}
	if (strcmp(live.name, a->name) != 0) {
		if (store_audit(sy->s, sy->actor, "account.name", a->id, NULL,
		    live.name, a->name, 0) == -1)
			goto fail;
		change(sy, "~ account %s: name \"%s\" -> \"%s\"", a->id,
		    live.name, a->name);
		free(live.name);
		live.name = xstrdup(a->name);
		dirty = changed = 1;
	}
	if (ia->twofa_given) {
		int base = imported >= 0 ? imported : live.twofa;
		if (a->twofa != base) {
			/* the portal changed it since the last import */
			if (live.twofa != a->twofa) {
				if (store_audit(sy->s, sy->actor, twofa_action,
				    a->id, NULL, live.twofa ? "on" : "off",
				    a->twofa ? "on" : "off", 0) == -1)
					goto fail;
				change(sy, "~ account %s: %s %s -> %s", a->id,
				    a->kind == ACCOUNT_RESELLER ? "2FA" :
				    "use_2fa", live.twofa ? "on" : "off",
				    a->twofa ? "on" : "off");
				if (a->twofa)
					add_lockout(sy, a->id, NULL, ia->line);
				live.twofa = a->twofa;
				changed = 1;
			}
			dirty = 1;
		} else if (imported < 0)
			dirty = 1;
		imported = a->twofa;
	}
	if (dirty && store_account_sync_put(sy->s, &live, imported, 0) == -1)
		goto fail;
	if (changed)
		sy->st->accounts++;
	account_clear(&live);
	return 0;
fail:
	account_clear(&live);
	return -1;
}

/* Is the file's number FV (NULL: none) what the last import wrote? */
static int
same_as_imported(const char *base, const char *fv)
{
	char *m;
	int r;

	if (*base == '\0')
		return fv == NULL;
	if (fv == NULL)
		return 0;
	if (strchr(base, '*') == NULL)
		return strcmp(base, fv) == 0;
	/* an older database kept only the masked number */
	m = mask_phone(fv);
	r = strcmp(m, base) == 0;
	free(m);
	return r;
}

static int
sync_user(struct sync *sy, struct imp_user *iu)
{
	struct user *u = &iu->u, live;
	char *imported = NULL, b1[32], b2[32];
	int rc, dirty = 0, changed = 0;

	if ((rc = store_user_sync_get(sy->s, u->id, &live, &imported)) == -1)
		return -1;
	if (sy->o->prune && store_sync_seen(sy->s, "user", u->id, NULL) == -1)
		goto fail;
	if (rc == 1) {
		if (store_user_sync_put(sy->s, u, u->phone ? u->phone : "",
		    1) == -1 || store_audit(sy->s, sy->actor, "user.create",
		    u->account, u->id, NULL, u->phone, 0) == -1)
			goto fail;
		change(sy, "+ user %s in %s (\"%s\", mobile %s)", u->id,
		    u->account, u->name, shown(u->phone, b1, sizeof b1));
		sy->st->users++;
		free(imported);
		return 0;
	}
	if (strcmp(live.account, u->account) != 0) {
		if (!sy->o->allow_move)
			problem(sy, iu->line, "user %s: moves from account %s "
			    "to %s: needs --allow-move", u->id, live.account,
			    u->account);
		else {
			if (store_audit(sy->s, sy->actor, "user.move",
			    u->account, u->id, live.account, u->account, 0) ==
			    -1)
				goto fail;
			change(sy, "~ user %s: account %s -> %s", u->id,
			    live.account, u->account);
			add_lockout(sy, NULL, u->id, iu->line);
			free(live.account);
			live.account = xstrdup(u->account);
			dirty = changed = 1;
		}
	}
	if (strcmp(live.name, u->name) != 0) {
		if (store_audit(sy->s, sy->actor, "user.name", live.account,
		    u->id, live.name, u->name, 0) == -1)
			goto fail;
		change(sy, "~ user %s: name \"%s\" -> \"%s\"", u->id,
		    live.name, u->name);
		free(live.name);
		live.name = xstrdup(u->name);
		dirty = changed = 1;
	}
	if (iu->phone_given) {
		int same = imported ? same_as_imported(imported, u->phone) :
		    streq_null(live.phone, u->phone);
		if (!same && !streq_null(live.phone, u->phone)) {
			/* the portal changed the number since the last
			 * import: applied, but a clear needs its flag */
			if (u->phone == NULL && !sy->o->allow_clear)
				problem(sy, iu->line, "user %s: the file clears "
				    "the number %s: needs --allow-clear", u->id,
				    shown(live.phone, b1, sizeof b1));
			else {
				if (store_audit(sy->s, sy->actor, "user.phone",
				    live.account, u->id, live.phone, u->phone,
				    0) == -1)
					goto fail;
				change(sy, "~ user %s: mobile %s -> %s", u->id,
				    shown(live.phone, b1, sizeof b1),
				    shown(u->phone, b2, sizeof b2));
				if (u->phone == NULL)
					add_lockout(sy, NULL, u->id, iu->line);
				free(live.phone);
				live.phone = u->phone ? xstrdup(u->phone) :
				    NULL;
				changed = 1;
			}
		}
		/* remember what this file says, whole */
		if (imported == NULL || strcmp(imported, u->phone ?
		    u->phone : "") != 0) {
			free(imported);
			imported = xstrdup(u->phone ? u->phone : "");
			dirty = 1;
		}
	}
	if ((dirty || changed) && store_user_sync_put(sy->s, &live, imported,
	    0) == -1)
		goto fail;
	if (changed)
		sy->st->users++;
	user_clear(&live);
	free(imported);
	return 0;
fail:
	user_clear(&live);
	free(imported);
	return -1;
}

static int
pruned(void *arg, const char *id, const char *account, const char *value)
{
	struct sync *sy = arg;
	char b[32];

	sy->st->removed++;
	if (strcmp(sy->cur_kind, "contact") == 0) {
		change(sy, "- contact %s %s", id, value);
		return store_audit(sy->s, sy->actor, "contact.delete", id,
		    NULL, value, NULL, 0);
	}
	if (strcmp(sy->cur_kind, "user") == 0) {
		change(sy, "- user %s (in %s, mobile %s)", id, account,
		    shown(value, b, sizeof b));
		return store_audit(sy->s, sy->actor, "user.delete", account,
		    id, value, NULL, 0);
	}
	change(sy, "- account %s (%s \"%s\")", id, sy->cur_kind, value);
	return store_audit(sy->s, sy->actor, "account.delete", id, NULL,
	    value, NULL, 0);
}

static int
unprunable(void *arg, const char *reseller, const char *id,
    const char *value)
{
	struct sync *sy = arg;

	(void)value;
	problem(sy, 1, "--prune: reseller %s is not in the file, but end "
	    "client %s names it", reseller, id);
	return 0;
}

static int
prune(struct sync *sy)
{
	static const char *const kinds[] = { "contact", "user", "end_client",
	    "reseller" };

	if (store_sync_unprunable(sy->s, unprunable, sy) == -1)
		return -1;
	if (sy->problems)
		return 0;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		sy->cur_kind = kinds[i];
		if (store_sync_prune(sy->s, kinds[i], pruned, sy) == -1)
			return -1;
	}
	return 0;
}

/* A user who could not log in: 2FA applies and no number the verifier
 * may send a code to. */
static int
locked_out(const struct import_opts *o, const struct user *u)
{
	return u->phone == NULL || (o->cfg && !config_sms_allowed(o->cfg,
	    u->phone));
}

/* After every row: who did this import lock out? */
static int
check_lockouts(struct sync *sy)
{
	for (size_t i = 0; i < sy->nlo; i++) {
		struct lockout *l = &sy->lo[i];
		struct account a;
		struct user *u = NULL;
		size_t n = 0;
		struct buf who;
		int rc;

		if (l->user) {
			struct user one;
			if ((rc = store_user_get(sy->s, l->user, &one)) == -1)
				return -1;
			if (rc == 1)
				continue;
			u = xcalloc(1, sizeof *u);
			u[0] = one;
			n = 1;
			rc = store_account_get(sy->s, one.account, &a);
		} else {
			if (store_account_users(sy->s, l->account, &u, &n) ==
			    -1)
				return -1;
			rc = store_account_get(sy->s, l->account, &a);
		}
		if (rc == -1) {
			users_free(u, n);
			return -1;
		}
		buf_init(&who);
		for (size_t j = 0; rc == 0 && a.twofa && j < n; j++)
			if (locked_out(sy->o, &u[j]))
				buf_addf(&who, "%s%s (%s)", who.len ? ", " : "",
				    u[j].id, u[j].name);
		if (who.len && !sy->o->force)
			problem(sy, l->line, "account %s has 2FA on: %s would "
			    "be locked out (no mobile the verifier may send "
			    "to): needs --force", a.id, who.s);
		else if (who.len) {
			char *note = xstrfmt("forced: locks out %s", who.s);
			log_warnx("%s:%d: account %s: %s", sy->im->file,
			    l->line, a.id, note);
			rc = store_audit_note(sy->s, l->audit_id, note);
			free(note);
		}
		buf_free(&who);
		account_clear(&a);
		users_free(u, n);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* "import:" and the file's base name, as the audit log shows it. */
static char *
import_actor(const char *file)
{
	const char *base = strrchr(file, '/');
	char *a;

	a = xstrfmt("import:%.64s", base ? base + 1 : file);
	for (char *p = a; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return a;
}

/* The import of the document PARSER reads; FILE names it in messages. */
static int
import_yaml(struct store *s, const struct numbering *numbering,
    const char *region, FILE *fp, const char *file,
    const struct import_opts *o, struct import_stats *st)
{
	struct importer im;
	struct sync sy;
	struct ynode *root;
	int rc = EX_DATAERR;

	memset(&im, 0, sizeof im);
	memset(&sy, 0, sizeof sy);
	memset(st, 0, sizeof *st);
	im.file = file;
	ydoc_init(&im.doc, file);
	im.numbering = numbering;
	im.region = region;
	if (ydoc_load_file(&im.doc, fp) == -1) {
		ydoc_done(&im.doc, "nothing changed");
		ydoc_free(&im.doc);
		return EX_DATAERR;
	}

	root = ydoc_root(&im.doc);
	if (root == NULL)
		ierr(&im, 1, "the file is empty");
	else {
		struct field f[] = { { "resellers", NULL },
		    { "end_clients", NULL } };
		struct ynode *it;
		if (fields(&im, root, "top level", f, 2) == 0) {
			if (seq_items(&im, f[0].value, "resellers", &it) == 0)
				for (; it; it = ynode_next(&im.doc, it))
					add_account(&im, it, NULL);
			if (seq_items(&im, f[1].value, "end_clients", &it) == 0)
				for (; it; it = ynode_next(&im.doc, it))
					add_account(&im, it, "");
		}
	}
	normalize_phones(&im);
	if (im.doc.errors == 0)
		check_references(&im, s);
	if (ydoc_done(&im.doc, "nothing changed"))
		goto out;

	sy.im = &im;
	sy.s = s;
	sy.o = o;
	sy.st = st;
	sy.actor = import_actor(file);
	rc = EX_SOFTWARE;
	if (store_begin(s) == -1) {
		rc = EX_TEMPFAIL;
		goto out;
	}
	/* resellers first: end clients refer to them */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < im.nacc; i++) {
			struct imp_account *ia = &im.acc[i];
			if ((pass == 0) != (ia->a.kind == ACCOUNT_RESELLER))
				continue;
			if (sync_account(&sy, ia) == -1)
				goto fail;
		}
	for (size_t i = 0; i < im.nusr; i++)
		if (sync_user(&sy, &im.usr[i]) == -1)
			goto fail;
	for (size_t i = 0; i < im.ncon; i++) {
		struct imp_contact *c = &im.con[i];
		int r = store_put_contact(s, c->reseller, c->addr, c->display,
		    sy.actor);
		if (r == -1 || (o->prune && store_sync_seen(s, "contact",
		    c->reseller, c->addr) == -1))
			goto fail;
		if (r == 0) {
			change(&sy, "+ contact %s %s", c->reseller, c->addr);
			st->contacts++;
		}
	}
	if (o->prune && prune(&sy) == -1)
		goto fail;
	if (check_lockouts(&sy) == -1)
		goto fail;
	if (sy.problems) {
		store_rollback(s);
		log_warnx("import: %s: %d change%s refused, nothing changed",
		    file, sy.problems, sy.problems == 1 ? "" : "s");
		rc = EX_DATAERR;
		goto out;
	}
	if (o->dry_run)
		store_rollback(s);
	else if (store_commit(s) == -1)
		goto out;
	st->total_accounts = im.nacc;
	st->total_users = im.nusr;
	st->total_contacts = im.ncon;
	rc = EX_OK;
	goto out;
fail:
	store_rollback(s);
out:
	for (size_t i = 0; i < sy.nlo; i++) {
		free(sy.lo[i].account);
		free(sy.lo[i].user);
	}
	free(sy.lo);
	free(sy.actor);
	ydoc_free(&im.doc);
	importer_free(&im);
	return rc;
}

int
import_file(struct store *s, const struct numbering *numbering,
    const char *region, const char *file, const struct import_opts *o,
    struct import_stats *st)
{
	FILE *fp;
	int rc;

	memset(st, 0, sizeof *st);
	if ((fp = fopen(file, "rb")) == NULL) {
		log_warn("import: %s", file);
		return EX_NOINPUT;
	}
	rc = import_yaml(s, numbering, region, fp, file, o, st);
	fclose(fp);
	return rc;
}

/* The same from LEN bytes in memory (the fuzz harness). */
int
import_mem(struct store *s, const struct numbering *numbering,
    const char *region, const char *buf, size_t len, const char *name,
    const struct import_opts *o, struct import_stats *st)
{
	FILE *fp;
	int rc;

	memset(st, 0, sizeof *st);
	if (len == 0)
		fp = fopen("/dev/null", "rb");
	else
		fp = fmemopen((void *)(uintptr_t)buf, len, "rb");
	if (fp == NULL) {
		log_warn("import: %s", name);
		return EX_NOINPUT;
	}
	rc = import_yaml(s, numbering, region, fp, name, o, st);
	fclose(fp);
	return rc;
}
