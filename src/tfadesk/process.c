/*
 * process.c - classify, validate and apply stored tickets (tfadesk process,
 * queue approve|reject|retry).
 *
 * Reply templates used (templates/NAME.txt) and the variables given to
 * them, besides the standard to, subject, re_subject, ticket_id, from:
 *   twofa_enabled    reseller_id, reseller_name, users [{id, name,
 *                    phone_masked}], message
 *   twofa_already    reseller_id, reseller_name, message
 *   twofa_missing    reseller_id, reseller_name, missing [{id, name}],
 *                    reason, message
 *   numbers_result   reseller_id, reseller_name, users [{id, name,
 *                    phone_masked, result, reason}], reason, message
 *   passed_to_staff  reseller_id, reseller_name (when known), reason
 *   staff_rejected   reseller_id, reseller_name (when known), reason
 *   sender_unknown   reason
 *   sender_unverified  nothing but the standard variables
 * "message" is the text staff wrote for the reseller (approve --message;
 * reject --reason is "reason"); a staff note (--note) is never given to a
 * template. A sender we could not authenticate is told only that a person
 * will look at the request (sender_unverified), never why: what we check
 * is what a forger would learn to fake.
 * Numbers handed to templates are masked here already (reply.c masks
 * again whatever else looks like a number).
 *
 * Deciding and changing are apart: decide() only reads and lists the
 * changes it would make (the plan); apply_plan() makes them. A ticket held
 * for staff is also decided in staff mode (the sender vouched for, an
 * overwrite allowed, every other check the same), and that plan and its
 * token are stored with it: queue show prints the plan, queue approve
 * applies it only if it is still the same.
 *
 * One ticket is one transaction: the changes, their audit rows (actor
 * "ticket:ID", or "staff:NAME" for queue approve/reject), the ticket's new
 * state and its reply are committed together or not at all. A ticket that
 * is no longer new is left alone by process_run, so running it again
 * changes nothing; "queue retry" processes a ticket again but never sends
 * a second automatic reply.
 *
 * Outcomes (DESIGN.md "Decisions that tests rely on"):
 *   a later ticket reusing a Message-ID (other       needs_review, no reply,
 *     content: store_ticket_add)                       until staff approve
 *   loop or bounce mail, unreadable mail, no From    ignored, no reply
 *   no rule matched (kind staff)                     needs_review
 *   sender not a contact of any reseller             rejected
 *   sender a contact but not authenticated           needs_review
 *   twofa_setup: switched on -> applied; already on -> applied; users
 *     without a valid mobile -> rejected, nothing changed, reply lists them;
 *     a forwarded request -> needs_review (never switched on without staff)
 *   missing_number: each user on its own; the ticket is needs_review if
 *     any user waits for staff, else applied if any number was registered
 *     or already there, else rejected. A user whose block gave a field
 *     twice (rentry.held) waits for staff; users read from a forwarded
 *     message are checked against the sender's resellers like any other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "phone.h"
#include "tmpl.h"
#include "utf8.h"
#include "tfadesk/addr.h"
#include "tfadesk/mail.h"
#include "tfadesk/mime.h"
#include "tfadesk/rules.h"
#include "tfadesk/authres.h"

#define REASON_MAX	1000

/* What was decided for one user of a missing-number report. */
enum res { R_APPLIED, R_ALREADY, R_REVIEW, R_REJECTED };
static const char *const res_names[] = {
	"applied", "already", "review", "rejected"
};
/* As the reply puts it. */
static const char *const res_words[] = {
	"registered", "already registered, nothing changed",
	"passed to our support staff for a check", "not registered"
};

struct judged {
	const struct rentry *e;
	struct user u;          /* the record, when found */
	int have_user;
	char phone[20];         /* the number given, normalised, or "" */
	enum res res;
	const char *code;       /* short reason for scripts */
	char *reason;           /* for people; owned */
};

/* Everything process_ticket works with. */
struct job {
	const struct config *cfg;
	struct store *s;
	struct approval *ap;    /* queue approve, else NULL */
	int staff;              /* decide as staff would approve */
	int64_t id;
	char actor[96];
	struct ticket t;
	struct msg *msg;
	struct rmatch rm;
	int have_rm;            /* rm filled (by this or an earlier decide) */
	char **resellers;       /* the sender is a contact of these */
	size_t nresellers;
	struct account reseller;  /* the one the ticket is about, if known */
	int have_reseller;
	int auth_ok;
	char auth_why[256];
	/* outcome */
	enum ticket_state state;
	struct buf reason;
	char *fields, *results;
	const char *tmpl;       /* reply template, NULL: none */
	struct tv *vars;
	struct plan_change *plan;       /* what the decision changes */
	size_t nplan;
	struct plan_user *users;        /* per-user results, for the plan */
	size_t nusers;
};

static struct {
	const struct config *cfg;
	struct rules *rules;
	struct numbering *nb;
	int loaded;
} ctx;

/*
 * The numbers checked while one ticket is decided, with their verdicts:
 * a held ticket is decided twice (as is, then as staff would approve it)
 * and a reseller's numbers are checked once per 2FA request, so the same
 * number comes back within a ticket. Emptied when a ticket starts, so
 * nothing outlives the ticket (and numbering.yaml is read once per run
 * anyway). phone_check() is a pure function of its arguments.
 */
#define PCACHE_N	32
static struct pcache {
	char *text;
	const char *region;
	int rc;
	char e164[20];
	const char *why;
} pcache[PCACHE_N];
static size_t npcache;

static char *our_address(const char *);
static int name_match(const char *, const char *);
static void fields_json(struct job *);
static void match_rules(struct job *);
static int decide(struct job *);
static int staff_plan(struct job *, struct ticket_plan *);

/* ---- configuration ------------------------------------------------- */

static void
pcache_clear(void)
{
	for (size_t i = 0; i < npcache; i++)
		free(pcache[i].text);
	npcache = 0;
}

/* phone_normalize() with ctx.nb, through the ticket's cache. */
static int
norm_phone(const char *text, const char *region, char out[20],
    const char **why)
{
	struct pcache *c;
	size_t i;

	for (i = 0; i < npcache; i++) {
		c = &pcache[i];
		if (c->region == region && strcmp(c->text, text) == 0) {
			memcpy(out, c->e164, sizeof c->e164);
			*why = c->why;
			return c->rc;
		}
	}
	if (npcache == PCACHE_N)        /* full: the last slot is reused */
		free(pcache[--npcache].text);
	c = &pcache[npcache++];
	c->text = xstrdup(text);
	c->region = region;
	c->why = NULL;
	c->e164[0] = '\0';
	c->rc = phone_normalize(ctx.nb, text, region, c->e164, &c->why);
	memcpy(out, c->e164, sizeof c->e164);
	*why = c->why;
	return c->rc;
}

/* Loads the rules and the numbering policy once. EX_CONFIG when either is
 * bad (every problem already printed with file and line). */
int
process_init(const struct config *cfg)
{
	if (ctx.loaded && ctx.cfg == cfg)
		return 0;
	process_done();
	if ((ctx.rules = rules_load(cfg->rules)) == NULL)
		return EX_CONFIG;
	if ((ctx.nb = numbering_load(cfg->numbering)) == NULL) {
		rules_free(ctx.rules);
		ctx.rules = NULL;
		return EX_CONFIG;
	}
	ctx.cfg = cfg;
	ctx.loaded = 1;
	return 0;
}

void
process_done(void)
{
	pcache_clear();
	rules_free(ctx.rules);
	numbering_free(ctx.nb);
	memset(&ctx, 0, sizeof ctx);
}

/* The address of "Name <addr>" or "addr" (addr_parse_one). Owned. */
static char *
our_address(const char *from)
{
	struct addr a;

	if (from == NULL || addr_parse_one(from, &a, NULL) == -1)
		return NULL;
	free(a.name);
	return a.spec;
}

/* ---- names --------------------------------------------------------- */

/* Latin-1 Supplement and Latin Extended-A letters without their accents,
 * lower case; "" for what is not a letter. */
static const char *const fold_c0[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "y"
};
static const char fold_100[] =
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkklllllllll"
	"lnnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/* Appends the folded form of the code point at *P (advancing it). */
static void
fold_char(struct buf *b, const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80) {
		char c = (char)p[0];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf_addc(b, c);
		*pp = p + 1;
		return;
	}
	if ((n = utf8_decode((const char *)p, strnlen((const char *)p, 4),
	    &cp)) == 0) {
		/* not UTF-8: the byte as is */
		buf_add(b, p, 1);
		*pp = p + 1;
		return;
	}
	*pp = p + n;
	if (cp >= 0x300 && cp <= 0x36F)          /* combining accents */
		return;
	if (cp == 0xA0 || cp == 0x2002 || cp == 0x2003 || cp == 0x2009 ||
	    cp == 0x202F) {
		buf_addc(b, ' ');
		return;
	}
	if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032 || cp == 0x60) {
		buf_addc(b, '\'');
		return;
	}
	if (cp == 0x2010 || cp == 0x2011 || cp == 0x2013) {
		buf_addc(b, '-');
		return;
	}
	if (cp >= 0xC0 && cp <= 0xFF && fold_c0[cp - 0xC0]) {
		buf_adds(b, fold_c0[cp - 0xC0]);
		return;
	}
	if (cp >= 0x100 && cp <= 0x17F) {
		if (cp == 0x132 || cp == 0x133)
			buf_adds(b, "ij");
		else if (cp == 0x152 || cp == 0x153)
			buf_adds(b, "oe");
		else
			buf_addc(b, fold_100[cp - 0x100]);
		return;
	}
	buf_add(b, p, n);
}

/*
 * A name as compared: accents folded, lower case, single spaces, and
 * "Surname, First" turned round. Owned.
 */
static char *
name_key(const char *name)
{
	struct buf f, k;
	const unsigned char *p = (const unsigned char *)name;
	char *comma, *s, empty[1] = "";

	buf_init(&f);
	while (*p)
		fold_char(&f, &p);
	s = f.s ? f.s : empty;
	buf_init(&k);
	comma = strchr(s, ',');
	if (comma && strchr(comma + 1, ',') == NULL) {
		*comma = '\0';
		buf_adds(&k, comma + 1);
		buf_addc(&k, ' ');
		buf_adds(&k, s);
	} else
		buf_adds(&k, s);
	buf_free(&f);
	/* collapse blanks */
	s = k.s ? k.s : empty;
	char *out = xmalloc(strlen(s) + 1), *o = out;
	int sp = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			sp = o != out;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = 0;
		*o++ = *s;
	}
	*o = '\0';
	buf_free(&k);
	return out;
}

/* Same name, forgiving case, spacing, accents and "Surname, First". */
static int
name_match(const char *given, const char *record)
{
	char *a, *b;
	int eq;

	if (given == NULL || record == NULL)
		return 0;
	a = name_key(given);
	b = name_key(record);
	eq = *a != '\0' && strcmp(a, b) == 0;
	free(a);
	free(b);
	return eq;
}

/* ---- small helpers ------------------------------------------------- */

static void
reason_add(struct job *j, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
reason_add(struct job *j, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	if (j->reason.len >= REASON_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (j->reason.len)
		buf_adds(&j->reason, "; ");
	buf_adds(&j->reason, tmp);
	if (j->reason.len > REASON_MAX)
		buf_adds(&j->reason, " ...");
}

static void
outcome(struct job *j, enum ticket_state st, const char *tmpl)
{
	j->state = st;
	j->tmpl = tmpl;
}

/* A value safe to hand to a template and to show: no controls, at most
 * 100 bytes, never NULL. */
static const char *
safe(const char *s, char *out, size_t outlen)
{
	const char *s0;
	size_t n = 0;

	if (s == NULL)
		s = "";
	for (s0 = s; *s && n + 1 < outlen && n < 100; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7F ? ' ' : *s;
	/* never end inside a UTF-8 sequence (controls are ASCII: the
	 * sequences in OUT are those of S0) */
	n = utf8_trunc(s0, strnlen(s0, n + 4), n);
	out[n] = '\0';
	return out;
}

static void
tv_safe(struct tv *t, const char *name, const char *v)
{
	char b[128];

	tv_set(t, name, safe(v, b, sizeof b));
}

static void
set_reseller_vars(struct job *j)
{
	if (j->have_reseller) {
		tv_safe(j->vars, "reseller_id", j->reseller.id);
		tv_safe(j->vars, "reseller_name", j->reseller.name);
	}
}

static int
in_list(char **l, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* "4474******56" for digits or text with digits; "" for none. Owned. */
static char *
masked(const char *s)
{
	char d[24];
	size_t n = 0;

	for (; s && *s && n + 1 < sizeof d; s++)
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	d[n] = '\0';
	return n ? mask_phone(d) : xstrdup("");
}

/* ---- the plan ------------------------------------------------------ */

/* Adds a change to the plan, once. */
static void
plan_add(struct job *j, const char *action, const char *account,
    const char *user, const char *old_value, const char *new_value)
{
	struct plan_change *c;

	for (size_t i = 0; i < j->nplan; i++) {
		c = &j->plan[i];
		if (strcmp(c->action, action) == 0 &&
		    strcmp(c->account, account) == 0 &&
		    (user == NULL || (c->user && strcmp(c->user, user) == 0)))
			return;
	}
	j->plan = xreallocarray(j->plan, j->nplan + 1, sizeof *j->plan);
	c = &j->plan[j->nplan++];
	c->action = xstrdup(action);
	c->account = xstrdup(account);
	c->user = user ? xstrdup(user) : NULL;
	c->old_value = old_value ? xstrdup(old_value) : NULL;
	c->new_value = new_value ? xstrdup(new_value) : NULL;
}

static void
plan_user_add(struct job *j, const char *user, const char *name,
    const char *result, const char *code, const char *old_digits,
    const char *new_digits, const char *reason)
{
	struct plan_user *u;
	char b[128];

	j->users = xreallocarray(j->users, j->nusers + 1, sizeof *j->users);
	u = &j->users[j->nusers++];
	u->user = xstrdup(safe(user, b, sizeof b));
	u->name = xstrdup(safe(name, b, sizeof b));
	u->result = xstrdup(result);
	u->code = xstrdup(code ? code : "");
	u->old_masked = masked(old_digits);
	u->new_masked = masked(new_digits);
	u->reason = xstrdup(reason ? reason : "");
}

static void
plan_changes_free(struct plan_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].action);
		free(c[i].account);
		free(c[i].user);
		free(c[i].old_value);
		free(c[i].new_value);
	}
	free(c);
}

static void
plan_users_free(struct plan_user *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].user);
		free(u[i].name);
		free(u[i].result);
		free(u[i].code);
		free(u[i].old_masked);
		free(u[i].new_masked);
		free(u[i].reason);
	}
	free(u);
}

void
ticket_plan_clear(struct ticket_plan *p)
{
	if (p == NULL)
		return;
	plan_changes_free(p->ch, p->nch);
	plan_users_free(p->users, p->nusers);
	free(p->reason);
	free(p->text);
	free(p->held_token);
	memset(p, 0, sizeof *p);
}

/* Length-prefixed fields: no value can pass for another. */
static void
canon_field(struct buf *b, const char *v)
{
	if (v == NULL)
		buf_adds(b, "-;");
	else
		buf_addf(b, "%zu:%s;", strlen(v), v);
}

/* The plan's canonical text and its token. TEXT owned. */
static char *
plan_text(const struct job *j, char token[PLAN_TOKEN_LEN + 1])
{
	unsigned char h[crypto_generichash_BYTES_MIN];
	char hex[2 * sizeof h + 1];
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "tfadesk-plan 1\nticket %lld\n", (long long)j->id);
	for (size_t i = 0; i < j->nplan; i++) {
		const struct plan_change *c = &j->plan[i];
		canon_field(&b, c->action);
		canon_field(&b, c->account);
		canon_field(&b, c->user);
		canon_field(&b, c->old_value);
		canon_field(&b, c->new_value);
		buf_addc(&b, '\n');
	}
	crypto_generichash(h, sizeof h, (const unsigned char *)b.s, b.len,
	    NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	memcpy(token, hex, PLAN_TOKEN_LEN);
	token[PLAN_TOKEN_LEN] = '\0';
	return buf_steal(&b);
}

/* Makes the changes of the plan, each with its audit row. */
static int
apply_plan(struct job *j)
{
	for (size_t i = 0; i < j->nplan; i++) {
		const struct plan_change *c = &j->plan[i];
		int rc;

		if (strcmp(c->action, "user.phone") == 0)
			rc = store_user_set_phone(j->s, c->user, c->new_value,
			    j->actor, j->id);
		else
			rc = store_account_set_twofa(j->s, c->account,
			    strcmp(c->new_value, "on") == 0, j->actor, j->id);
		if (rc != 0) {
			/* the plan was read in this transaction: it holds */
			log_warnx("ticket %lld: %s %s: could not be applied",
			    (long long)j->id, c->action, c->user ? c->user :
			    c->account);
			return -1;
		}
	}
	return 0;
}

/* ---- the decisions ------------------------------------------------- */

/* Which reseller the ticket is about: the only one the sender is a
 * contact of, or the one of those named in the ticket. 0 found, 1 not
 * (the reason says why), -1 error. */
static int
pick_reseller(struct job *j)
{
	const char *pick = NULL;
	size_t named = 0;

	if (j->nresellers == 1)
		pick = j->resellers[0];
	else {
		for (size_t i = 0; i < j->rm.naccounts; i++)
			if (in_list(j->resellers, j->nresellers, j->rm.accounts[i]) &&
			    (pick == NULL || strcmp(pick, j->rm.accounts[i]) != 0)) {
				pick = j->rm.accounts[i];
				named++;
			}
		if (named != 1) {
			struct buf l;
			buf_init(&l);
			for (size_t i = 0; i < j->nresellers; i++)
				buf_addf(&l, "%s%s", i ? ", " : "", j->resellers[i]);
			reason_add(j, "the sender is a contact of several resellers "
			    "(%s) and the ticket %s", l.s, named ? "names more "
			    "than one of them" : "does not say which one");
			buf_free(&l);
			return 1;
		}
	}
	if (store_account_get(j->s, pick, &j->reseller) != 0) {
		log_warnx("ticket %lld: reseller %s not found", (long long)j->id,
		    pick);
		return -1;
	}
	j->have_reseller = 1;
	return 0;
}

/*
 * Does the ticket pass on someone else's mail (a "Fwd:" subject, or a
 * forwarded message in the text)? Its words are not the sender's.
 */
static int
forwarded(const struct msg *m)
{
	static const char *const marks[] = { "Forwarded message",
	    "Forwarded Message", "Begin forwarded message",
	    "Start of forwarded message", NULL };
	const char *texts[] = { m->text, m->quoted, m->new_text };

	if (mime_subject_forwarded(m->subject) ||
	    (m->fwd_text != NULL && *m->fwd_text != '\0'))
		return 1;
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
		for (size_t i = 0; texts[t] && marks[i]; i++)
			if (strstr(texts[t], marks[i]) != NULL)
				return 1;
	return 0;
}

static int
do_twofa(struct job *j)
{
	struct user *u = NULL;
	size_t n = 0, nmiss = 0;
	int rc;

	if ((rc = pick_reseller(j)) != 0) {
		if (rc > 0)
			outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return rc < 0 ? -1 : 0;
	}
	/* An account named in the ticket that is not this reseller: a
	 * careful agent would ask. */
	for (size_t i = 0; i < j->rm.naccounts; i++)
		if (strcmp(j->rm.accounts[i], j->reseller.id) != 0) {
			char b[128];
			reason_add(j, "the ticket names account %s, which is not the "
			    "reseller account %s of the sender",
			    safe(j->rm.accounts[i], b, sizeof b), j->reseller.id);
			outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
			return 0;
		}
	/* A forwarded request is someone else's: 2FA is never switched on
	 * from one without staff. */
	if (forwarded(j->msg) && !j->staff) {
		reason_add(j, "the 2FA request is forwarded: a person checks "
		    "whose request it is before 2FA is switched on for %s",
		    j->reseller.id);
		outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->reseller.twofa) {
		reason_add(j, "2FA was already on for %s; nothing changed",
		    j->reseller.id);
		outcome(j, TICKET_APPLIED, "twofa_already");
		return 0;
	}
	if (store_account_users(j->s, j->reseller.id, &u, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char e164[20];
		const char *why = NULL;
		if (u[i].phone && norm_phone(u[i].phone,
		    j->cfg->default_country, e164, &why) == 0 &&
		    config_sms_allowed(j->cfg, e164))
			continue;
		struct tv *m = tv_add(j->vars, "missing");
		plan_user_add(j, u[i].id, u[i].name, "missing", u[i].phone ?
		    "number_refused" : "no_number", u[i].phone, NULL, u[i].phone ?
		    "the number we hold cannot receive SMS codes" : "no mobile "
		    "number");
		tv_safe(m, "id", u[i].id);
		tv_safe(m, "name", u[i].name);
		if (u[i].phone)
			tv_set(m, "reason", "the number we hold cannot receive "
			    "SMS codes");
		if (nmiss++ == 0)
			reason_add(j, "2FA not switched on for %s: no valid mobile "
			    "number for", j->reseller.id);
		buf_addf(&j->reason, "%s %s (%s)", nmiss > 1 ? "," : "",
		    u[i].id, u[i].phone ? why : "no number");
	}
	if (nmiss) {
		outcome(j, TICKET_REJECTED, "twofa_missing");
		users_free(u, n);
		return 0;
	}
	plan_add(j, "account.twofa", j->reseller.id, NULL, "off", "on");
	for (size_t i = 0; i < n; i++) {
		struct tv *it = tv_add(j->vars, "users");
		char *mk = masked(u[i].phone);
		plan_user_add(j, u[i].id, u[i].name, "has a mobile", "ok",
		    u[i].phone, NULL, "will be sent login codes");
		tv_safe(it, "id", u[i].id);
		tv_safe(it, "name", u[i].name);
		tv_set(it, "phone_masked", mk);
		free(mk);
	}
	reason_add(j, "2FA switched on for %s (%zu user%s, all with a mobile "
	    "number)", j->reseller.id, n, n == 1 ? "" : "s");
	outcome(j, TICKET_APPLIED, "twofa_enabled");
	users_free(u, n);
	return 0;
}

static void
judge_set(struct judged *jd, enum res r, const char *code, const char *fmt,
    ...) PRINTFLIKE(4, 5);

static void
judge_set(struct judged *jd, enum res r, const char *code, const char *fmt,
    ...)
{
	va_list ap;
	char tmp[256];

	jd->res = r;
	jd->code = code;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	free(jd->reason);
	jd->reason = xstrdup(tmp);
}

/* Judges one user of a report, reading only. 0, or -1 on a store error. */
static int
judge(struct job *j, struct judged *jd, const struct judged *all, size_t idx)
{
	const struct rentry *e = jd->e;
	const char *why = NULL;
	char *rid = NULL;
	int rc, staff = j->staff;

	if (e->user_id == NULL) {
		judge_set(jd, staff ? R_REJECTED : R_REVIEW, "no_user_id",
		    "no user account ID given");
		return 0;
	}
	/* two numbers or two IDs in one block: no guessing which, not even
	 * by staff approving the ticket as it stands */
	if (e->held) {
		judge_set(jd, staff ? R_REJECTED : R_REVIEW, "ambiguous", "%s%s",
		    e->held, staff ? "; not registered" : "; our staff will "
		    "check the request");
		return 0;
	}
	rc = store_user_get(j->s, e->user_id, &jd->u);
	if (rc < 0)
		return -1;
	if (rc == 0)
		jd->have_user = 1;
	if (rc == 0 && store_account_reseller(j->s, jd->u.account, &rid) < 0)
		return -1;
	if (rc != 0 || rid == NULL || !in_list(j->resellers, j->nresellers, rid)) {
		/* Unknown, or another reseller's: the same answer for both,
		 * so that the reply tells nothing about other resellers. */
		judge_set(jd, R_REJECTED, rc != 0 ? "unknown_user" :
		    "other_reseller", "we have no user with this ID on your "
		    "accounts");
		free(rid);
		return 0;
	}
	if (e->account_id && strcmp(e->account_id, jd->u.account) != 0 &&
	    strcmp(e->account_id, rid) != 0) {
		judge_set(jd, R_REJECTED, "account_mismatch", "this user is not "
		    "on the account given");
		free(rid);
		return 0;
	}
	free(rid);
	if (e->name == NULL) {
		if (!staff) {
			judge_set(jd, R_REVIEW, "no_name", "no name given; our staff "
			    "will check the request");
			return 0;
		}
	} else if (!name_match(e->name, jd->u.name)) {
		judge_set(jd, R_REJECTED, "name_mismatch", "the name given does "
		    "not match the name we hold for this user");
		return 0;
	}
	if (e->mobile == NULL) {
		judge_set(jd, R_REJECTED, "no_number", "no mobile number given");
		return 0;
	}
	if (norm_phone(e->mobile, j->cfg->default_country,
	    jd->phone, &why) != 0) {
		jd->phone[0] = '\0';
		judge_set(jd, R_REJECTED, "number_refused", "the number given is "
		    "%s", why ? why : "not a valid mobile number");
		return 0;
	}
	/* a number the verifier may not send to would lock the user out */
	if (!config_sms_allowed(j->cfg, jd->phone)) {
		jd->phone[0] = '\0';
		judge_set(jd, R_REJECTED, "number_refused", "the number given is "
		    "in a country we cannot send login codes to");
		return 0;
	}
	for (size_t k = 0; k < idx; k++)
		if (all[k].e->user_id && strcmp(all[k].e->user_id, e->user_id) == 0 &&
		    all[k].phone[0] && strcmp(all[k].phone, jd->phone) != 0) {
			judge_set(jd, R_REJECTED, "conflict", "two different numbers "
			    "were given for this user");
			return 0;
		}
	if (jd->u.phone == NULL || jd->u.phone[0] == '\0') {
		judge_set(jd, R_APPLIED, "set", "registered");
		return 0;
	}
	if (strcmp(jd->u.phone, jd->phone) == 0) {
		judge_set(jd, R_ALREADY, "same", "this number was already "
		    "registered; nothing changed");
		return 0;
	}
	if (staff) {
		judge_set(jd, R_APPLIED, "overwrite_approved", "registered in "
		    "place of the old number (approved by our staff)");
		return 0;
	}
	if (strcmp(j->cfg->policy.overwrite_number, "reject") == 0)
		judge_set(jd, R_REJECTED, "overwrite_refused", "this user already "
		    "has a different mobile number, which we never replace "
		    "automatically; please contact support");
	else
		judge_set(jd, R_REVIEW, "overwrite", "this user already has a "
		    "different mobile number; our staff will check the change");
	return 0;
}

static void
results_json(struct job *j, struct judged *jd, size_t n)
{
	struct buf b;
	struct json js;

	buf_init(&b);
	json_init(&js, &b, 0);
	json_arr(&js);
	for (size_t i = 0; i < n; i++) {
		char *np = masked(jd[i].phone), *op = NULL;
		char s1[128], s2[128];
		if (jd[i].have_user && jd[i].u.phone)
			op = mask_phone(jd[i].u.phone);
		json_obj(&js);
		json_kstr(&js, "user", jd[i].e->user_id ? safe(jd[i].e->user_id,
		    s1, sizeof s1) : NULL);
		json_kstr(&js, "name", jd[i].e->name ? safe(jd[i].e->name, s2,
		    sizeof s2) : NULL);
		json_kstr(&js, "account", jd[i].have_user &&
		    strcmp(jd[i].code, "other_reseller") != 0 ? jd[i].u.account :
		    NULL);
		json_kstr(&js, "phone", *np ? np : NULL);
		json_kstr(&js, "old", op);
		json_kstr(&js, "result", res_names[jd[i].res]);
		json_kstr(&js, "code", jd[i].code);
		json_kstr(&js, "reason", jd[i].reason);
		json_kstr(&js, "how", jd[i].e->how);
		json_kbool(&js, "forwarded", jd[i].e->forwarded);
		json_end(&js);
		plan_user_add(j, jd[i].e->user_id ? jd[i].e->user_id : "(none)",
		    jd[i].e->name, res_names[jd[i].res], jd[i].code,
		    jd[i].have_user ? jd[i].u.phone : NULL, jd[i].phone,
		    jd[i].reason);
		free(np);
		free(op);
	}
	json_end(&js);
	free(j->results);
	j->results = buf_steal(&b);
}

static int
do_numbers(struct job *j)
{
	struct judged *jd;
	size_t n = j->rm.nentries, napplied = 0, nalready = 0, nreview = 0;
	int rc = 0;

	if (n == 0) {
		reason_add(j, "no user account ID and mobile number could be read "
		    "from the ticket");
		outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->rm.truncated) {
		reason_add(j, "more users in one ticket than the rules allow");
		outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		return 0;
	}
	if (j->nresellers == 1 && store_account_get(j->s, j->resellers[0],
	    &j->reseller) == 0)
		j->have_reseller = 1;
	if (j->rm.forward_read)
		reason_add(j, "users read from the forwarded message under the "
		    "sender's request (each checked against the sender's "
		    "accounts)");
	jd = xcalloc(n, sizeof *jd);
	for (size_t i = 0; i < n; i++) {
		jd[i].e = &j->rm.entries[i];
		if (judge(j, &jd[i], jd, i) < 0) {
			rc = -1;
			goto out;
		}
	}
	/* A user named twice with different numbers: none of them is used. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(jd[i].code, "conflict") == 0)
			for (size_t k = 0; k < i; k++)
				if (jd[k].e->user_id && strcmp(jd[k].e->user_id,
				    jd[i].e->user_id) == 0 && jd[k].res != R_REJECTED)
					judge_set(&jd[k], R_REJECTED, "conflict",
					    "two different numbers were given for "
					    "this user");
	for (size_t i = 0; i < n; i++) {
		struct tv *it;
		char *mk;

		if (jd[i].res == R_APPLIED) {
			plan_add(j, "user.phone", jd[i].u.account, jd[i].u.id,
			    jd[i].u.phone, jd[i].phone);
			napplied++;
		} else if (jd[i].res == R_ALREADY)
			nalready++;
		else if (jd[i].res == R_REVIEW)
			nreview++;
		it = tv_add(j->vars, "users");
		tv_safe(it, "id", jd[i].e->user_id ? jd[i].e->user_id : "(none)");
		tv_safe(it, "name", jd[i].have_user && jd[i].res != R_REJECTED ?
		    jd[i].u.name : jd[i].e->name);
		mk = masked(jd[i].phone[0] ? jd[i].phone : jd[i].e->mobile);
		tv_set(it, "phone_masked", *mk ? mk : "(no number)");
		free(mk);
		tv_set(it, "result", res_words[jd[i].res]);
		/* set for every user: an unset one would show the ticket's */
		tv_set(it, "reason", jd[i].res != R_APPLIED ? jd[i].reason : "");
		{
			char b1[128];
			reason_add(j, "%s: %s%s%s",
			    jd[i].e->user_id ? safe(jd[i].e->user_id, b1,
			    sizeof b1) : "(no user ID)", res_names[jd[i].res],
			    jd[i].res == R_APPLIED ? "" : " - ",
			    jd[i].res == R_APPLIED ? "" : jd[i].reason);
		}
	}
	results_json(j, jd, n);
	if (nreview)
		outcome(j, TICKET_NEEDS_REVIEW, "numbers_result");
	else if (napplied || nalready)
		outcome(j, TICKET_APPLIED, "numbers_result");
	else
		outcome(j, TICKET_REJECTED, "numbers_result");
out:
	for (size_t i = 0; i < n; i++) {
		user_clear(&jd[i].u);
		free(jd[i].reason);
	}
	free(jd);
	return rc;
}

static void
html_hidden_reason(struct job *j)
{
	char b[200];

	reason_add(j, "html_hidden_style: %s, which can hide text; hidden text "
	    "was not read, not applied automatically: left for staff",
	    safe(j->msg->html_hidden_style, b, sizeof b));
}

/* The checks every ticket goes through, then the work for its kind.
 * 0 with j->state and j->tmpl set, or -1 on a store error. */
static int
decide(struct job *j)
{
	const char *why = NULL;
	char *ours;
	int automatic;

	/*
	 * An earlier ticket has this Message-ID and other content: one of
	 * the two is not what it claims (a predicted Message-ID, a replay
	 * with changes). Held whatever it says, no reply (the address may
	 * be forged), never applied automatically, not even by queue
	 * retry; staff approve it the normal way. The earlier ticket is
	 * left as it is.
	 */
	if (j->t.dup_of > 0 && !j->staff) {
		reason_add(j, "duplicate_message_id: ticket %lld has the same "
		    "Message-ID and different content; held for staff, never "
		    "applied automatically", (long long)j->t.dup_of);
		if (j->msg->error == NULL) {
			match_rules(j);
			fields_json(j);
		}
		outcome(j, TICKET_NEEDS_REVIEW, NULL);
		return 0;
	}

	/* RFC 3834: never answer automatic mail, never act on it */
	ours = our_address(j->cfg->reply.from);
	automatic = msg_is_automatic(j->msg, ours, &why);
	free(ours);
	if (automatic) {
		reason_add(j, "automatic mail (%s): not acted on, not answered",
		    why ? why : "loop protection");
		outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}
	if (j->msg->error) {
		char b[128];
		reason_add(j, "the message could not be read: %s",
		    safe(j->msg->error, b, sizeof b));
		outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}
	if (j->msg->from_addr == NULL || j->msg->from_count != 1) {
		reason_add(j, "%s", j->msg->from_count > 1 ? "more than one From "
		    "address: not acted on" : "no usable From address");
		outcome(j, TICKET_IGNORED, NULL);
		return 0;
	}

	match_rules(j);
	fields_json(j);
	if (store_contact_resellers(j->s, j->msg->from_addr, &j->resellers,
	    &j->nresellers) < 0)
		return -1;
	if (j->cfg->security.require_sender_auth)
		j->auth_ok = auth_check(j->msg, j->cfg->security.authserv_id,
		    j->auth_why, sizeof j->auth_why);
	else {
		j->auth_ok = 1;
		snprintf(j->auth_why, sizeof j->auth_why, "sender authentication "
		    "not required");
	}

	if (j->rm.kind == RK_STAFF) {
		reason_add(j, "not a 2FA set-up or missing-number request: left "
		    "for staff");
		if (j->staff) {
			buf_reset(&j->reason);
			reason_add(j, "closed by %s: nothing for tfadesk to change",
			    j->actor);
			outcome(j, TICKET_APPLIED, NULL);
			return 0;
		}
		if (j->msg->html_hidden_style)
			html_hidden_reason(j);
		/* acknowledge only to known contacts: no backscatter */
		outcome(j, TICKET_NEEDS_REVIEW, j->nresellers && j->auth_ok ?
		    "passed_to_staff" : NULL);
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	if (j->nresellers == 0) {
		char b[128];
		reason_add(j, "the sender %s is not a contact of any reseller",
		    safe(j->msg->from_addr, b, sizeof b));
		/* answer only an address that proved itself, or all when
		 * authentication is off: never a forged one */
		outcome(j, TICKET_REJECTED, j->auth_ok ? "sender_unknown" : NULL);
		return 0;
	}
	if (!j->auth_ok && !j->staff) {
		/* the reason is for staff; the sender learns nothing of it */
		reason_add(j, "%s", j->auth_why);
		outcome(j, TICKET_NEEDS_REVIEW, "sender_unverified");
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	/* HTML that can hide text (issue 9): what we read may not be what
	 * the reader saw, so staff look at it; a staff approval applies it */
	if (j->msg->html_hidden_style && !j->staff) {
		html_hidden_reason(j);
		outcome(j, TICKET_NEEDS_REVIEW, "passed_to_staff");
		if (j->nresellers == 1 && store_account_get(j->s,
		    j->resellers[0], &j->reseller) == 0)
			j->have_reseller = 1;
		return 0;
	}
	if (j->rm.kind == RK_TWOFA_SETUP)
		return do_twofa(j);
	return do_numbers(j);
}

static void
fields_json(struct job *j)
{
	struct buf b;
	struct json js;
	char s[128];

	buf_init(&b);
	json_init(&js, &b, 0);
	json_obj(&js);
	json_kstr(&js, "rule", j->rm.rule);
	json_kint(&js, "rule_line", j->rm.rule_line);
	json_kstr(&js, "kind", rule_kind_name(j->rm.kind));
	json_key(&js, "accounts");
	json_arr(&js);
	for (size_t i = 0; i < j->rm.naccounts; i++)
		json_str(&js, safe(j->rm.accounts[i], s, sizeof s));
	json_end(&js);
	json_key(&js, "users");
	json_arr(&js);
	for (size_t i = 0; i < j->rm.nentries; i++) {
		const struct rentry *e = &j->rm.entries[i];
		char *mk = masked(e->mobile);
		json_obj(&js);
		json_kstr(&js, "user_id", e->user_id ? safe(e->user_id, s,
		    sizeof s) : NULL);
		json_kstr(&js, "name", e->name ? safe(e->name, s, sizeof s) :
		    NULL);
		json_kstr(&js, "account_id", e->account_id ? safe(e->account_id,
		    s, sizeof s) : NULL);
		json_kstr(&js, "mobile", e->mobile ? mk : NULL);
		json_kstr(&js, "how", e->how);
		json_kbool(&js, "forwarded", e->forwarded);
		json_kstr(&js, "held", e->held);
		json_end(&js);
		free(mk);
	}
	json_end(&js);
	json_kbool(&js, "truncated", j->rm.truncated);
	json_kbool(&js, "forward_read", j->rm.forward_read);
	json_end(&js);
	free(j->fields);
	j->fields = buf_steal(&b);
}

/* Classifies the message, once per message: rules_match() depends on
 * the message and the rules only, so a held ticket's second decision
 * (staff mode, hold_plan()) takes the first one's. */
static void
match_rules(struct job *j)
{
	if (j->have_rm)
		return;
	rules_match(ctx.rules, j->msg, &j->rm);
	j->have_rm = 1;
}

static void
job_free(struct job *j)
{
	ticket_clear(&j->t);
	msg_free(j->msg);
	rmatch_clear(&j->rm);
	for (size_t i = 0; i < j->nresellers; i++)
		free(j->resellers[i]);
	free(j->resellers);
	account_clear(&j->reseller);
	buf_free(&j->reason);
	free(j->fields);
	free(j->results);
	tv_free(j->vars);
	plan_changes_free(j->plan, j->nplan);
	plan_users_free(j->users, j->nusers);
}

/* Has the ticket had a reply already (queue retry)? */
static int
replied_before(struct store *s, int64_t id)
{
	struct outbox_row *rows = NULL;
	size_t n = 0;

	if (store_outbox_list(s, id, &rows, &n) != 0)
		return 0;
	outbox_free(rows, n);
	return n > 0;
}

/*
 * Replies go to Reply-To only when it cannot be a thief's address: the
 * From address itself, an address of the From domain when the sender is
 * authenticated, or another contact of a reseller the sender is a contact
 * of. Otherwise the Reply-To is dropped and the reply goes to From (the
 * real contact, who also learns of a forged request). -1 on a store error.
 */
static int
check_reply_to(struct store *s, struct msg *m, int auth_ok)
{
	const char *rt = m ? m->reply_to_addr : NULL, *fd, *rd;
	char **a = NULL, **b = NULL;
	size_t na = 0, nb = 0, i, k;
	int keep = 0;

	if (rt == NULL || m->from_addr == NULL)
		return 0;
	fd = strrchr(m->from_addr, '@');
	rd = strrchr(rt, '@');
	if (strcasecmp(rt, m->from_addr) == 0 ||
	    (auth_ok && fd && rd && strcasecmp(fd, rd) == 0))
		return 0;
	if (store_contact_resellers(s, m->from_addr, &a, &na) < 0 ||
	    store_contact_resellers(s, rt, &b, &nb) < 0)
		keep = -1;
	for (i = 0; keep == 0 && i < na; i++)
		for (k = 0; k < nb; k++)
			if (strcmp(a[i], b[k]) == 0)
				keep = 1;
	for (i = 0; i < na; i++)
		free(a[i]);
	for (k = 0; k < nb; k++)
		free(b[k]);
	free(a);
	free(b);
	if (keep < 0)
		return -1;
	if (!keep) {
		log_info("reply: Reply-To %s is not the sender's: answering "
		    "%s", rt, m->from_addr);
		free(m->reply_to_addr);
		m->reply_to_addr = NULL;
	}
	return 0;
}

/* Writes the outcome: ticket row (with its audit row) and the reply. */
static int
record(struct job *j)
{
	struct ticket out;
	char subj[256];
	int rc;

	memset(&out, 0, sizeof out);
	out.id = j->id;
	out.kind = j->state == TICKET_IGNORED ? NULL :
	    UNCONST(rule_kind_name(j->rm.kind));
	out.state = j->state;
	out.reason = j->reason.s ? j->reason.s : UNCONST("");
	out.from_addr = j->msg ? j->msg->from_addr : NULL;
	if (j->msg && j->msg->subject) {
		size_t k = utf8_trunc_len(j->msg->subject, 200);
		memcpy(subj, j->msg->subject, k);
		subj[k] = '\0';
		out.subject = subj;
	}
	out.fields = j->fields;
	out.results = j->results;
	out.account = j->have_reseller ? j->reseller.id : NULL;
	if (store_ticket_set(j->s, &out, j->actor) != 0)
		return -1;
	if (j->tmpl == NULL)
		return 0;
	/* a new ticket has never been answered; for queue retry, look */
	if (j->ap == NULL && j->t.state != TICKET_NEW &&
	    replied_before(j->s, j->id))
		return 0;
	if (check_reply_to(j->s, j->msg, j->auth_ok) != 0)
		return -1;
	if (!j->auth_ok && j->ap == NULL) {
		/* An address we could not authenticate is told that a person
		 * will look, and nothing else: no reason, no account, no
		 * result. A staff decision (approve) has vouched for it. */
		struct tv *none = tv_new();
		if (none == NULL)
			fatalx("process: out of memory");
		rc = reply_queue(j->cfg, j->s, j->msg, j->id,
		    "sender_unverified", none);
		tv_free(none);
		return rc < 0 ? -1 : 0;
	}
	set_reseller_vars(j);
	tv_set(j->vars, "reason", out.reason);
	if (j->ap && j->ap->message)
		tv_set(j->vars, "message", j->ap->message);
	rc = reply_queue(j->cfg, j->s, j->msg, j->id, j->tmpl, j->vars);
	return rc < 0 ? -1 : 0;
}

/* ---- entry points -------------------------------------------------- */

static int
job_start(struct job *j, const struct config *cfg, struct store *s,
    int64_t id, const char *actor)
{
	char b[96];

	memset(j, 0, sizeof *j);
	pcache_clear();
	j->cfg = cfg;
	j->s = s;
	j->id = id;
	buf_init(&j->reason);
	if ((j->vars = tv_new()) == NULL)
		fatalx("process: out of memory");
	if (actor)
		snprintf(j->actor, sizeof j->actor, "%s",
		    safe(actor, b, sizeof b));
	else
		snprintf(j->actor, sizeof j->actor, "ticket:%lld", (long long)id);
	if (store_begin(s) != 0)
		return -1;
	if (store_ticket_get(s, id, 1, &j->t) != 0) {
		log_warnx("ticket %lld: not found", (long long)id);
		store_rollback(s);
		return -1;
	}
	return 0;
}

static int
parse(struct job *j)
{
	struct msg_limits lim = MSG_LIMITS_DEFAULT;

	if (j->cfg->limits.max_bytes > 0)
		lim.max_bytes = (size_t)j->cfg->limits.max_bytes;
	if (j->cfg->limits.max_parts > 0)
		lim.max_parts = (size_t)j->cfg->limits.max_parts;
	if (j->cfg->limits.max_depth > 0)
		lim.max_depth = (size_t)j->cfg->limits.max_depth;
	j->msg = msg_parse(j->t.raw ? j->t.raw : "", j->t.raw_len, &lim);
	if (j->msg == NULL)
		fatalx("ticket %lld: out of memory", (long long)j->id);
	return 0;
}

/*
 * The plan of ticket ID as staff approval would carry it out now: the
 * ticket decided in staff mode, inside a savepoint that is rolled back
 * (decide() writes nothing anyway). 0, 1 no such ticket, -1 error.
 */
static int
compute_plan(const struct config *cfg, struct store *s, int64_t id,
    struct ticket_plan *p)
{
	struct job j;
	int rc;

	memset(p, 0, sizeof *p);
	if (process_init(cfg) != 0)
		return -1;
	if (store_begin(s) != 0)
		return -1;
	if ((rc = store_ticket_get(s, id, 0, &j.t)) != 0) {
		ticket_clear(&j.t);
		store_rollback(s);
		return rc;
	}
	ticket_clear(&j.t);
	store_rollback(s);
	if (job_start(&j, cfg, s, id, "staff") != 0) {
		job_free(&j);
		return -1;
	}
	parse(&j);
	rc = staff_plan(&j, p);
	job_free(&j);
	return rc;
}

/*
 * Decides J (started and parsed, inside a savepoint of its own) as staff
 * approval would, rolls the savepoint back and moves the plan to P.
 * 0, -1 error.
 */
static int
staff_plan(struct job *j, struct ticket_plan *p)
{
	int rc;

	j->staff = 1;
	rc = decide(j);
	store_rollback(j->s);
	if (rc != 0)
		return -1;
	p->text = plan_text(j, p->token);
	p->ch = j->plan;
	p->nch = j->nplan;
	p->users = j->users;
	p->nusers = j->nusers;
	j->plan = NULL;
	j->users = NULL;
	j->nplan = j->nusers = 0;
	p->state = (int)j->state;
	p->reason = xstrdup(j->reason.s ? j->reason.s : "");
	return 0;
}

int
process_plan(const struct config *cfg, struct store *s, int64_t id,
    struct ticket_plan *p)
{
	char *text = NULL;
	int rc;

	if ((rc = compute_plan(cfg, s, id, p)) != 0)
		return rc;
	if (store_ticket_plan_get(s, id, &text, &p->held_token) == -1) {
		ticket_plan_clear(p);
		return -1;
	}
	free(text);
	return 0;
}

/*
 * A ticket is held: store the plan its approval would carry out. The
 * plan is what compute_plan() gives after this run's writes: the ticket's
 * message decided afresh in staff mode; only the reading and parsing of
 * the message (which this run did already) are not done again.
 */
static int
hold_plan(struct job *j)
{
	struct ticket_plan p;
	struct job sj;
	int rc;

	memset(&p, 0, sizeof p);
	memset(&sj, 0, sizeof sj);
	sj.cfg = j->cfg;
	sj.s = j->s;
	sj.id = j->id;
	snprintf(sj.actor, sizeof sj.actor, "staff");
	buf_init(&sj.reason);
	if ((sj.vars = tv_new()) == NULL)
		fatalx("process: out of memory");
	if (store_begin(j->s) != 0) {
		job_free(&sj);
		return -1;
	}
	sj.t = j->t;            /* borrowed, given back before job_free() */
	sj.msg = j->msg;
	sj.rm = j->rm;
	sj.have_rm = j->have_rm;
	rc = staff_plan(&sj, &p);
	memset(&sj.t, 0, sizeof sj.t);
	sj.msg = NULL;
	memset(&sj.rm, 0, sizeof sj.rm);
	job_free(&sj);
	if (rc != 0)
		return -1;
	rc = store_ticket_plan_set(j->s, j->id, p.text, p.token);
	ticket_plan_clear(&p);
	return rc;
}

/*
 * Staff approval: the plan decided now must be the one the staff saw (the
 * token given with --expect, else the one stored when the ticket was held)
 * and must change something. 0 go on, 1 refused (AP->result says why).
 */
static int
approval_check(struct job *j)
{
	struct approval *ap = j->ap;
	char *text, *held = NULL;
	const char *want = ap->expect;
	int rc;

	text = plan_text(j, ap->token);
	free(text);
	if (want == NULL) {
		if ((rc = store_ticket_plan_get(j->s, j->id, &text, &held)) == -1)
			return -1;
		free(text);
		if (rc == 1) {
			ap->result = APPROVE_NO_PLAN;
			return 1;
		}
		want = held;
	}
	if (strcasecmp(want, ap->token) != 0) {
		ap->result = APPROVE_STALE;
		free(held);
		return 1;
	}
	free(held);
	/* a ticket left for staff has nothing for tfadesk to apply:
	 * approval closes it */
	if (j->nplan == 0 && j->rm.kind != RK_STAFF) {
		snprintf(ap->why, sizeof ap->why, "%s: %s",
		    ticket_state_name(j->state), j->reason.s ? j->reason.s : "");
		ap->result = APPROVE_NOTHING;
		return 1;
	}
	ap->result = APPROVE_DONE;
	return 0;
}

/* One ticket in one transaction. ONLY_NEW: leave it alone unless it is
 * still new (process_run; another run may have been first). */
static int
run_one(const struct config *cfg, struct store *s, int64_t id,
    struct approval *ap, int only_new)
{
	struct job j;
	int rc;

	if (process_init(cfg) != 0)
		return -1;
	if (job_start(&j, cfg, s, id, ap ? ap->actor : NULL) != 0) {
		job_free(&j);
		return -1;
	}
	j.ap = ap;
	j.staff = ap != NULL;
	if (only_new && j.t.state != TICKET_NEW) {
		store_rollback(s);
		rc = (int)j.t.state;
		job_free(&j);
		return rc;
	}
	if (ap && j.t.state != TICKET_NEEDS_REVIEW) {
		log_warnx("ticket %lld: is %s, only needs_review tickets can be "
		    "approved", (long long)id, ticket_state_name(j.t.state));
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	parse(&j);
	if (decide(&j) != 0)
		goto fail;
	if (ap && (rc = approval_check(&j)) != 0) {
		if (rc < 0)
			goto fail;
		store_rollback(s);
		rc = (int)j.t.state;
		job_free(&j);
		return rc;
	}
	if (apply_plan(&j) != 0 || record(&j) != 0)
		goto fail;
	if (ap && ap->note && store_audit(s, j.actor, "ticket.note",
	    j.have_reseller ? j.reseller.id : NULL, NULL, NULL, ap->note,
	    id) != 0)
		goto fail;
	if (j.state == TICKET_NEEDS_REVIEW && hold_plan(&j) != 0)
		goto fail;
	STEP("process.decided");
	if (store_commit(s) != 0) {
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	STEP("process.applied");
	log_info("ticket %lld: %s: %s", (long long)id,
	    ticket_state_name(j.state), j.reason.s ? j.reason.s : "");
	rc = (int)j.state;
	job_free(&j);
	return rc;
fail:
	store_rollback(s);
	log_warnx("ticket %lld: not processed; it stays %s",
	    (long long)id, ticket_state_name(j.t.state));
	job_free(&j);
	return -1;
}

int
process_ticket(const struct config *cfg, struct store *s, int64_t id,
    struct approval *ap)
{
	return run_one(cfg, s, id, ap, 0);
}

int
process_note(struct store *s, int64_t id, const char *actor,
    const char *note)
{
	struct ticket t;
	int rc;

	if (store_begin(s) != 0)
		return -1;
	if ((rc = store_ticket_get(s, id, 0, &t)) != 0) {
		if (rc == 1)
			log_warnx("ticket %lld: no such ticket", (long long)id);
		store_rollback(s);
		return -1;
	}
	rc = store_audit(s, actor, "ticket.note", t.account, NULL, NULL, note,
	    id);
	ticket_clear(&t);
	if (rc != 0 || store_commit(s) != 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

int
process_reject(const struct config *cfg, struct store *s, int64_t id,
    const char *actor, const char *reason, const char *note)
{
	struct job j;
	char b[512];

	if (job_start(&j, cfg, s, id, actor) != 0) {
		job_free(&j);
		return -1;
	}
	if (j.t.state != TICKET_NEEDS_REVIEW && j.t.state != TICKET_NEW) {
		log_warnx("ticket %lld: is %s, only new or needs_review tickets "
		    "can be rejected", (long long)id,
		    ticket_state_name(j.t.state));
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	parse(&j);
	if (j.t.account && store_account_get(s, j.t.account, &j.reseller) == 0)
		j.have_reseller = 1;
	set_reseller_vars(&j);
	snprintf(b, sizeof b, "%s", reason ? reason : "");
	reason_add(&j, "rejected by %s: %s", j.actor, b);
	j.fields = j.t.fields ? xstrdup(j.t.fields) : NULL;
	j.results = j.t.results ? xstrdup(j.t.results) : NULL;
	j.rm.kind = RK_STAFF;
	outcome(&j, TICKET_REJECTED, "staff_rejected");
	{
		/* keep the kind the ticket had */
		struct ticket out;
		memset(&out, 0, sizeof out);
		out.id = id;
		out.kind = j.t.kind;
		out.state = TICKET_REJECTED;
		out.reason = j.reason.s;
		out.from_addr = j.t.from_addr;
		out.subject = j.t.subject;
		out.fields = j.fields;
		out.results = j.results;
		out.account = j.t.account;
		tv_set(j.vars, "reason", b);
		if (store_ticket_set(s, &out, j.actor) != 0 ||
		    (note && store_audit(s, j.actor, "ticket.note", j.t.account,
		    NULL, NULL, note, id) != 0) ||
		    check_reply_to(s, j.msg, 0) != 0 ||
		    (!j.msg->error && reply_queue(cfg, s, j.msg, id,
		    "staff_rejected", j.vars) < 0)) {
			store_rollback(s);
			job_free(&j);
			return -1;
		}
	}
	if (store_commit(s) != 0) {
		store_rollback(s);
		job_free(&j);
		return -1;
	}
	job_free(&j);
	return TICKET_REJECTED;
}

/*
 * Tickets are processed in groups inside one outer transaction (each
 * ticket in its own savepoint, so one bad ticket rolls back alone): one
 * fsync per group instead of one per ticket. A group is committed after
 * GROUP_MAX tickets or GROUP_MS milliseconds, so that other writers
 * (ingest, queue approve) never wait long: with its commit a group stays
 * under the 50 ms DESIGN.md allows a mail-side write transaction. If the
 * group's commit fails, none of its tickets changed: they stay new for
 * the next run.
 */
#define GROUP_MAX	500
#define GROUP_MS	25	/* well under 50 ms: the verifier shares the disk */

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
process_run(const struct config *cfg, struct store *s,
    struct process_stats *st)
{
	int64_t *ids = NULL;
	size_t n = 0, failed = 0, i = 0;
	int rc, stopped = 0;

	memset(st, 0, sizeof *st);
	if ((rc = process_init(cfg)) != 0)
		return rc;
	if (store_ticket_ids(s, TICKET_NEW, &ids, &n) != 0) {
		process_done();
		return EX_TEMPFAIL;
	}
	while (i < n) {
		struct process_stats g;
		size_t gfailed = 0, k = 0;
		long t0 = ms_now();

		memset(&g, 0, sizeof g);
		if (store_begin(s) != 0) {
			failed += n - i;
			break;
		}
		for (; i < n && k < GROUP_MAX && (k == 0 ||
		    ms_now() - t0 < GROUP_MS); i++, k++) {
			/* SIGTERM/SIGINT: commit what is done, then 75 */
			if (stop_requested())
				break;
			switch (run_one(cfg, s, ids[i], NULL, 1)) {
			case TICKET_APPLIED:
				g.applied++;
				break;
			case TICKET_NEEDS_REVIEW:
				g.needs_review++;
				break;
			case TICKET_REJECTED:
				g.rejected++;
				break;
			case TICKET_IGNORED:
				g.ignored++;
				break;
			default:
				gfailed++;     /* logged; the ticket stays new */
				break;
			}
		}
		if (store_commit(s) != 0) {
			failed += k;
			continue;
		}
		STEP("process.committed");
		st->applied += g.applied;
		st->needs_review += g.needs_review;
		st->rejected += g.rejected;
		st->ignored += g.ignored;
		failed += gfailed;
		if ((stopped = stop_requested()) != 0)
			break;
	}
	free(ids);
	process_done();
	if (stopped) {
		log_warnx("process: stopped by signal %d; %zu ticket%s left "
		    "new for the next run", stopped, n - i, n - i == 1 ? "" :
		    "s");
		return EX_TEMPFAIL;
	}
	if (failed)
		log_warnx("process: %zu ticket%s not processed (they stay new)",
		    failed, failed == 1 ? "" : "s");
	return failed ? EX_TEMPFAIL : EX_OK;
}
