/*
 * config.c - the YAML configuration (DESIGN.md "Configuration").
 *
 * One table names every key, its type and where it lands in struct config.
 * Unknown keys, wrong types and missing required keys are all reported, each
 * as "file:line: key: why", before config_load() gives up (exit 78).
 */
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "db.h"
#include "store.h"
#include "ydoc.h"

enum ktype { K_STR, K_PATH, K_INT, K_BOOL, K_ENUM, K_INTLIST, K_STRLIST,
    K_SECTION };

struct key {
	const char *name;      /* dotted path */
	enum ktype type;
	size_t off;
	size_t off_n;          /* K_INTLIST: offset of the count */
	/* K_ENUM: the words, in the order of the enum stored (an int) at off;
	 * a word ending in ':' is a prefix, the rest of the value stored at
	 * off_n (a char *) */
	const char *const *choices;
	long min, max;         /* K_INT and K_INTLIST items */
};

#define O(f) offsetof(struct config, f)
#define STR(n, f) { n, K_STR, O(f), 0, NULL, 0, 0 }
#define PATH(n, f) { n, K_PATH, O(f), 0, NULL, 0, 0 }
#define INT(n, f, lo, hi) { n, K_INT, O(f), 0, NULL, lo, hi }
#define BOOL(n, f) { n, K_BOOL, O(f), 0, NULL, 0, 0 }
#define ENUM(n, f, c) { n, K_ENUM, O(f), 0, c, 0, 0 }
#define ENUMP(n, f, fs, c) { n, K_ENUM, O(f), O(fs), c, 0, 0 }
#define INTS(n, f, fn, lo, hi) { n, K_INTLIST, O(f), O(fn), NULL, lo, hi }
#define STRS(n, f, fn) { n, K_STRLIST, O(f), O(fn), NULL, 0, 0 }
#define SECTION(n) { n, K_SECTION, 0, 0, NULL, 0, 0 }

/* each in the order of its enum in tfadesk.h */
static const char *const source_types[] = { "maildir", "imap", "imaps",
    "pop3", "pop3s", NULL };
static const char *const source_tlss[] = { "implicit", "starttls", "none",
    NULL };
static const char *const source_afters[] = { "seen", "delete", "move:",
    NULL };
static const char *const reply_transports[] = { "spool", "smtp", NULL };
static const char *const overwrite_policies[] = { "review", "reject", NULL };
static const char *const sms_transports[] = { "spool", "http", NULL };
static const char *const sms_presets[] = { "kannel", "twilio", "custom",
    NULL };
static const char *const sms_methods[] = { "GET", "POST", NULL };
static const char *const sms_auths[] = { "none", "basic", "bearer", NULL };

/* the loader stores an enum through an int */
_Static_assert(sizeof(enum source_type) == sizeof(int) &&
    sizeof(enum source_tls) == sizeof(int) &&
    sizeof(enum source_after) == sizeof(int) &&
    sizeof(enum reply_transport) == sizeof(int) &&
    sizeof(enum overwrite_policy) == sizeof(int) &&
    sizeof(enum sms_transport) == sizeof(int) &&
    sizeof(enum sms_preset) == sizeof(int) &&
    sizeof(enum sms_method) == sizeof(int) &&
    sizeof(enum sms_auth) == sizeof(int), "enums are ints");

static const struct key keys[] = {
	PATH("database", database),
	PATH("database_password_file", database_password_file),
	STR("default_country", default_country),
	PATH("rules", rules),
	PATH("numbering", numbering),
	PATH("templates", templates),
	SECTION("log"),
	BOOL("log.syslog", use_syslog),
	PATH("log.metrics_file", metrics_file),

	SECTION("source"),
	ENUM("source.type", source.type, source_types),
	PATH("source.path", source.path),
	STR("source.host", source.host),
	INT("source.port", source.port, 1, 65535),
	STR("source.user", source.user),
	PATH("source.password_file", source.password_file),
	ENUM("source.tls", source.tls, source_tlss),
	PATH("source.ca_file", source.ca_file),
	STR("source.mailbox", source.mailbox),
	ENUMP("source.after", source.after, source.after_folder,
	    source_afters),
	INT("source.timeout", source.timeout, 1, 3600),
	INT("source.batch", source.batch, 1, 100000),
	/* at most 25 minutes: RFC 2177 wants IDLE renewed within 29 */
	INT("source.poll_seconds", source.poll_seconds, 1, 1500),

	SECTION("limits"),
	INT("limits.max_bytes", limits.max_bytes, 1024, 1L << 30),
	INT("limits.max_parts", limits.max_parts, 1, 100000),
	INT("limits.max_depth", limits.max_depth, 1, 1000),

	SECTION("reply"),
	STR("reply.from", reply.from),
	ENUM("reply.transport", reply.transport, reply_transports),
	PATH("reply.spool", reply.spool),
	STR("reply.smtp_url", reply.smtp_url),
	STR("reply.smtp_user", reply.smtp_user),
	PATH("reply.smtp_password_file", reply.smtp_password_file),
	PATH("reply.ca_file", reply.ca_file),
	INT("reply.timeout", reply.timeout, 1, 3600),
	INT("reply.max_attempts", reply.max_attempts, 1, 1000),

	SECTION("security"),
	BOOL("security.require_sender_auth", security.require_sender_auth),
	STR("security.authserv_id", security.authserv_id),

	SECTION("policy"),
	ENUM("policy.overwrite_number", policy.overwrite_number,
	    overwrite_policies),

	SECTION("sms"),
	ENUM("sms.transport", sms.transport, sms_transports),
	PATH("sms.spool", sms.spool),
	STR("sms.url", sms.url),
	ENUM("sms.preset", sms.preset, sms_presets),
	ENUM("sms.method", sms.method, sms_methods),
	STR("sms.body", sms.body),
	STR("sms.content_type", sms.content_type),
	ENUM("sms.auth", sms.auth, sms_auths),
	STR("sms.user", sms.user),
	PATH("sms.password_file", sms.password_file),
	PATH("sms.token_file", sms.token_file),
	STR("sms.from", sms.from),
	INTS("sms.accept_status", sms.accept_status, sms.n_accept_status,
	    100, 599),
	INT("sms.timeout", sms.timeout, 1, 600),

	SECTION("verifier"),
	STR("verifier.listen", verifier.listen),
	INT("verifier.code_length", verifier.code_length, 4, 10),
	INT("verifier.ttl_seconds", verifier.ttl_seconds, 30, 86400),
	INT("verifier.max_attempts", verifier.max_attempts, 1, 100),
	INT("verifier.resend_after_seconds", verifier.resend_after_seconds, 0,
	    86400),
	INT("verifier.max_sends_per_hour", verifier.max_sends_per_hour, 1, 1000),
	INT("verifier.max_sends_per_dest_per_hour",
	    verifier.max_sends_per_dest_per_hour, 1, 1000),
	INTS("verifier.allowed_country_codes", verifier.allowed_country_codes,
	    verifier.n_allowed_country_codes, 1, 999),
	PATH("verifier.key_file", verifier.key_file),
	PATH("verifier.database", verifier.database),
	INT("verifier.max_sms_per_hour", verifier.max_sms_per_hour, 1,
	    100000000),
	INT("verifier.max_connections_per_address",
	    verifier.max_connections_per_address, 1, VERIFIER_MAX_CONNECTIONS),
	INT("verifier.threads", verifier.threads, 1, 256),
	PATH("verifier.api_keys_file", verifier.api_keys_file),
	PATH("verifier.access_log", verifier.access_log),
	BOOL("verifier.metrics", verifier.metrics),
	PATH("verifier.tls_cert_file", verifier.tls_cert_file),
	PATH("verifier.tls_key_file", verifier.tls_key_file),
	PATH("verifier.client_ca_file", verifier.client_ca_file),

	SECTION("desk"),
	STR("desk.listen", desk.listen),
	BOOL("desk.secure_cookies", desk.secure_cookies),
	INT("desk.session_idle_minutes", desk.session_idle_minutes, 1, 1440),
	STRS("desk.trusted_proxies", desk.trusted_proxies,
	    desk.n_trusted_proxies),
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* a configuration is a page of keys, not a data file */
#define CONFIG_MAX_BYTES (1UL << 20)

struct loader {
	struct config *cfg;
	struct ydoc *doc;
	int seen[NKEYS];
	int line[NKEYS];
};

#define cerr(l, ...) ydoc_error((l)->doc, __VA_ARGS__)

static const struct key *
find_key(const char *name, size_t *idx)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0) {
			*idx = i;
			return &keys[i];
		}
	return NULL;
}

static int
scalar(const struct ynode *n, const char **out)
{
	return (*out = ynode_str(n)) == NULL ? -1 : 0;
}

static int
parse_long(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return (errno || end == s || *end != '\0') ? -1 : 0;
}

/* The index of V in CHOICES, or -1; a prefix choice ("move:") matches a
 * longer value and *REST is what follows it. */
static int
enum_index(const char *const *choices, const char *v, const char **rest)
{
	*rest = NULL;
	for (int i = 0; choices[i] != NULL; i++) {
		size_t n = strlen(choices[i]);
		if (n > 0 && choices[i][n - 1] == ':') {
			if (strncmp(v, choices[i], n) == 0 && v[n] != '\0') {
				*rest = v + n;
				return i;
			}
		} else if (strcmp(v, choices[i]) == 0)
			return i;
	}
	return -1;
}

/* "a|b|c", for the error message */
static char *
enum_words(const char *const *choices)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; choices[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", choices[i]);
	return buf_steal(&b);
}

static void
set_value(struct loader *l, const struct key *k, const char *name,
    struct ynode *n)
{
	char *base = (char *)l->cfg;
	int line = ynode_line(n);
	struct ynode *e;
	const char *s;
	long v;

	if (k->type == K_STRLIST) {
		char ***arr = (char ***)(void *)(base + k->off);
		size_t *cnt = (size_t *)(void *)(base + k->off_n);
		if (n->type != YN_SEQ) {
			cerr(l, line, "%s: expected a list", name);
			return;
		}
		for (size_t i = 0; i < *cnt; i++)
			free((*arr)[i]);
		free(*arr);
		*arr = NULL;
		*cnt = 0;
		YSEQ_FOREACH(l->doc, n, e) {
			int eline = ynode_line(e);
			if (scalar(e, &s) == -1 || *s == '\0' ||
			    strlen(s) > 255 || strpbrk(s, "\r\n") != NULL) {
				cerr(l, eline, "%s: expected single-line values",
				    name);
				continue;
			}
			*arr = xreallocarray(*arr, *cnt + 1, sizeof **arr);
			(*arr)[(*cnt)++] = xstrdup(s);
		}
		return;
	}
	if (k->type == K_INTLIST) {
		long **arr = (long **)(void *)(base + k->off);
		size_t *cnt = (size_t *)(void *)(base + k->off_n);
		if (n->type != YN_SEQ) {
			cerr(l, line, "%s: expected a list of numbers", name);
			return;
		}
		free(*arr);
		*arr = NULL;
		*cnt = 0;
		YSEQ_FOREACH(l->doc, n, e) {
			int eline = ynode_line(e);
			if (scalar(e, &s) == -1 || parse_long(s, &v) == -1 ||
			    v < k->min || v > k->max) {
				cerr(l, eline, "%s: expected numbers from %ld to %ld",
				    name, k->min, k->max);
				continue;
			}
			*arr = xreallocarray(*arr, *cnt + 1, sizeof **arr);
			(*arr)[(*cnt)++] = v;
		}
		return;
	}
	if (scalar(n, &s) == -1) {
		cerr(l, line, "%s: expected a single value", name);
		return;
	}
	switch (k->type) {
	case K_ENUM: {
		const char *rest;
		int i;
		if (memchr(s, '\0', n->len) != NULL ||
		    strpbrk(s, "\r\n") != NULL) {
			cerr(l, line, "%s: line breaks are not allowed", name);
			return;
		}
		if ((i = enum_index(k->choices, s, &rest)) == -1) {
			char *w = enum_words(k->choices);
			cerr(l, line, "%s: '%s' is not one of %s", name, s, w);
			free(w);
			return;
		}
		*(int *)(void *)(base + k->off) = i;
		if (k->off_n) {
			char **dst = (char **)(void *)(base + k->off_n);
			free(*dst);
			*dst = rest ? xstrdup(rest) : NULL;
		}
		break;
	}
	case K_STR:
	case K_PATH: {
		char **dst = (char **)(void *)(base + k->off);
		if (memchr(s, '\0', n->len) != NULL ||
		    strpbrk(s, "\r\n") != NULL) {
			cerr(l, line, "%s: line breaks are not allowed", name);
			return;
		}
		if (*s == '\0' && k->type != K_STR) {
			cerr(l, line, "%s: empty value", name);
			return;
		}
		free(*dst);
		/* a PostgreSQL URI is not a path */
		*dst = k->type == K_PATH && !db_is_pg(s) ?
		    path_join(l->cfg->dir, s) : xstrdup(s);
		break;
	}
	case K_INT:
		if (parse_long(s, &v) == -1 || v < k->min || v > k->max) {
			cerr(l, line, "%s: expected a number from %ld to %ld",
			    name, k->min, k->max);
			return;
		}
		*(long *)(void *)(base + k->off) = v;
		break;
	case K_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
		    strcmp(s, "on") == 0)
			*(int *)(void *)(base + k->off) = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
		    strcmp(s, "off") == 0)
			*(int *)(void *)(base + k->off) = 0;
		else
			cerr(l, line, "%s: expected true or false", name);
		break;
	default:
		break;
	}
}

static void
walk(struct loader *l, struct ynode *map, const char *prefix)
{
	struct ynode *kn, *vn;

	YMAP_FOREACH(l->doc, map, kn, vn) {
		const char *ks;
		char *name;
		size_t idx;
		const struct key *k;
		int line = ynode_line(kn);

		if (scalar(kn, &ks) == -1) {
			cerr(l, line, "keys must be plain words");
			continue;
		}
		name = *prefix ? xstrfmt("%s.%s", prefix, ks) : xstrdup(ks);
		if ((k = find_key(name, &idx)) == NULL) {
			cerr(l, line, "%s: unknown key", name);
			free(name);
			continue;
		}
		if (l->seen[idx])
			cerr(l, line, "%s: given twice (first on line %d)", name,
			    l->line[idx]);
		l->seen[idx] = 1;
		l->line[idx] = line;
		if (k->type == K_SECTION) {
			if (vn->type != YN_MAP)
				cerr(l, line, "%s: expected a section of keys",
				    name);
			else
				walk(l, vn, name);
		} else
			set_value(l, k, name, vn);
		free(name);
	}
}

static void
dflt(char **v, const char *s)
{
	if (*v == NULL)
		*v = xstrdup(s);
}

static void
dflt_path(struct config *c, char **v, const char *s)
{
	if (*v == NULL)
		*v = path_join(c->dir, s);
}

static int
key_line(struct loader *l, const char *name)
{
	size_t idx;
	return find_key(name, &idx) ? l->line[idx] : 0;
}

static int
given(struct loader *l, const char *name)
{
	size_t idx;
	return find_key(name, &idx) && l->seen[idx];
}

static void
require(struct loader *l, const char *name, const void *v, const char *when)
{
	/* given with a bad value: that error is already reported */
	if (v != NULL || given(l, name))
		return;
	const char *dot = strrchr(name, '.');
	int line = 0;
	if (dot) {
		char *sec = xstrndup(name, (size_t)(dot - name));
		line = key_line(l, sec);
		free(sec);
	}
	cerr(l, line, "%s: required%s%s", name, when ? " " : "", when ? when : "");
}

/* source.after that the source type can carry out: POP3 has no folders
 * to move to; a maildir folder is one plain name beside cur/ and new/. */
static void
after_suits_source(struct loader *l)
{
	enum source_type t = l->cfg->source.type;
	const char *f = l->cfg->source.after_folder;
	int line = key_line(l, "source.after");

	if (l->cfg->source.after != AFTER_MOVE)
		return;
	if (t == SOURCE_POP3 || t == SOURCE_POP3S)
		cerr(l, line, "source.after: move:%s: POP3 can only keep (seen) "
		    "or delete messages", f);
	else if (t == SOURCE_MAILDIR && (f[0] == '.' ||
	    strchr(f, '/') != NULL))
		cerr(l, line, "source.after: move:%s: a maildir folder is one "
		    "name without '/' and not starting with '.'", f);
}

static void
defaults_and_checks(struct loader *l)
{
	struct config *c = l->cfg;
	const char *t;

	require(l, "database", c->database, NULL);
	if (c->database && db_is_pg(c->database)) {
		/* one database holds the verifier's tables too */
		if (c->verifier.database)
			cerr(l, key_line(l, "verifier.database"),
			    "verifier.database: only with an SQLite database "
			    "(on PostgreSQL the verifier's tables live in "
			    "database)");
	} else if (c->database_password_file)
		cerr(l, key_line(l, "database_password_file"),
		    "database_password_file: only with a PostgreSQL database");
	store_set_password_file(c->database_password_file);
	dflt(&c->default_country, "GB");
	if (strlen(c->default_country) != 2 || c->default_country[0] < 'A' ||
	    c->default_country[0] > 'Z' || c->default_country[1] < 'A' ||
	    c->default_country[1] > 'Z')
		cerr(l, key_line(l, "default_country"),
		    "default_country: expected a two-letter country code like GB");
	dflt_path(c, &c->rules, "rules/tickets.yaml");
	dflt_path(c, &c->numbering, "rules/numbering.yaml");
	dflt_path(c, &c->templates, "templates");

	/* enums left unset hold their first choice, the default */
	t = config_choice("source.type", (int)c->source.type);
	if (c->source.type == SOURCE_MAILDIR) {
		/* a config without a source section (the verifier's) is fine;
		 * fetch then says source.path is not set */
		if (given(l, "source"))
			require(l, "source.path", c->source.path,
			    "when source.type is maildir");
	}
	else {
		int imap = c->source.type == SOURCE_IMAP ||
		    c->source.type == SOURCE_IMAPS;
		int implicit = c->source.type == SOURCE_IMAPS ||
		    c->source.type == SOURCE_POP3S;
		require(l, "source.host", c->source.host, "for a mail server");
		require(l, "source.user", c->source.user, "for a mail server");
		require(l, "source.password_file", c->source.password_file,
		    "for a mail server");
		if (!given(l, "source.tls"))
			c->source.tls = implicit ? TLS_IMPLICIT : TLS_STARTTLS;
		if (implicit && c->source.tls != TLS_IMPLICIT)
			cerr(l, key_line(l, "source.tls"),
			    "source.tls: %s means implicit TLS", t);
		if (!implicit && c->source.tls == TLS_IMPLICIT)
			cerr(l, key_line(l, "source.tls"),
			    "source.tls: implicit TLS needs source.type %ss", t);
		if (c->source.tls == TLS_NONE && c->source.host &&
		    !is_loopback_host(c->source.host))
			cerr(l, key_line(l, "source.tls"),
			    "source.tls: none is only allowed to a loopback address, not %s",
			    c->source.host);
		if (c->source.port == 0)
			c->source.port = imap ? (implicit ? 993 : 143) :
			    (implicit ? 995 : 110);
	}
	dflt(&c->source.mailbox, "INBOX");
	after_suits_source(l);
	if (c->source.timeout == 0)
		c->source.timeout = 30;
	if (c->source.batch == 0)
		c->source.batch = 1000;
	if (c->source.poll_seconds == 0)
		c->source.poll_seconds = 60;

	if (c->limits.max_bytes == 0)
		c->limits.max_bytes = 10L << 20;
	if (c->limits.max_parts == 0)
		c->limits.max_parts = 200;
	if (c->limits.max_depth == 0)
		c->limits.max_depth = 20;

	if (c->reply.transport == REPLY_SPOOL)
		dflt_path(c, &c->reply.spool, "var/outbox");
	else
		require(l, "reply.smtp_url", c->reply.smtp_url,
		    "when reply.transport is smtp");
	if (c->reply.smtp_url && strncmp(c->reply.smtp_url, "smtp://", 7) &&
	    strncmp(c->reply.smtp_url, "smtps://", 8))
		cerr(l, key_line(l, "reply.smtp_url"),
		    "reply.smtp_url: must start with smtp:// or smtps://");
	dflt(&c->reply.from, "SIP Trunk Plus Support <support@500.uk.com>");
	if (c->reply.timeout == 0)
		c->reply.timeout = 60;
	if (c->reply.max_attempts == 0)
		c->reply.max_attempts = 20;

	if (!given(l, "security.require_sender_auth"))
		c->security.require_sender_auth = 1;
	if (c->security.require_sender_auth)
		require(l, "security.authserv_id", c->security.authserv_id,
		    "when security.require_sender_auth is on");

	if (c->sms.transport == SMS_SPOOL)
		dflt_path(c, &c->sms.spool, "var/sms");
	else
		require(l, "sms.url", c->sms.url, "when sms.transport is http");
	/* Kannel's sendsms takes GET; the others POST (Twilio only) */
	if (!given(l, "sms.method"))
		c->sms.method = c->sms.preset == SMS_KANNEL ? SMS_GET :
		    SMS_POST;
	if (c->sms.timeout == 0)
		c->sms.timeout = 10;

	dflt(&c->verifier.listen, "127.0.0.1:8025");
	dflt(&c->desk.listen, "127.0.0.1:8026");
	if (!given(l, "desk.secure_cookies"))
		c->desk.secure_cookies = 1;
	if (c->desk.session_idle_minutes == 0)
		c->desk.session_idle_minutes = 30;
	for (size_t i = 0; i < c->desk.n_trusted_proxies; i++) {
		unsigned char bin[16];
		const char *a = c->desk.trusted_proxies[i];
		if (inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, bin) != 1)
			cerr(l, key_line(l, "desk.trusted_proxies"),
			    "desk.trusted_proxies: '%s' is not an IP address", a);
	}
	if (!given(l, "desk.trusted_proxies")) {
		c->desk.trusted_proxies = xcalloc(2, sizeof(char *));
		c->desk.trusted_proxies[0] = xstrdup("127.0.0.1");
		c->desk.trusted_proxies[1] = xstrdup("::1");
		c->desk.n_trusted_proxies = 2;
	}
	if (c->verifier.code_length == 0)
		c->verifier.code_length = 6;
	if (c->verifier.ttl_seconds == 0)
		c->verifier.ttl_seconds = 300;
	if (c->verifier.max_attempts == 0)
		c->verifier.max_attempts = 5;
	if (!given(l, "verifier.resend_after_seconds"))
		c->verifier.resend_after_seconds = 30;
	if (c->verifier.max_sends_per_hour == 0)
		c->verifier.max_sends_per_hour = 5;
	if (c->verifier.max_sends_per_dest_per_hour == 0)
		c->verifier.max_sends_per_dest_per_hour = 10;
	if (c->verifier.n_allowed_country_codes == 0) {
		c->verifier.allowed_country_codes = xcalloc(2, sizeof(long));
		c->verifier.allowed_country_codes[0] = 44;
		c->verifier.allowed_country_codes[1] = 353;
		c->verifier.n_allowed_country_codes = 2;
	}
	if (c->verifier.key_file == NULL) {
		char *slash = c->database && !db_is_pg(c->database) ?
		    strrchr(c->database, '/') : NULL;
		c->verifier.key_file = slash ?
		    xstrfmt("%.*s/verifier.key", (int)(slash - c->database),
			c->database) : path_join(c->dir, "verifier.key");
	}
	/* PostgreSQL: the verifier's tables are in the one database */
	if (c->verifier.database == NULL && c->database &&
	    !db_is_pg(c->database)) {
		c->verifier.database = config_verifier_path(c->database);
	}
	if (c->verifier.threads == 0)
		c->verifier.threads = 4;
	if (!given(l, "verifier.metrics"))
		c->verifier.metrics = 1;
	if ((c->verifier.tls_cert_file == NULL) !=
	    (c->verifier.tls_key_file == NULL))
		cerr(l, 0, "verifier: tls_cert_file and tls_key_file go "
		    "together");
	if (c->verifier.client_ca_file && c->verifier.tls_cert_file == NULL)
		cerr(l, 0, "verifier.client_ca_file: needs TLS "
		    "(tls_cert_file and tls_key_file)");
	if (c->verifier.max_sms_per_hour == 0)
		c->verifier.max_sms_per_hour = 1000;
	if (c->verifier.max_connections_per_address == 0)
		c->verifier.max_connections_per_address =
		    VERIFIER_MAX_CONNECTIONS / 16;
}

/*
 * A lock file's path: DATABASE + SUFFIX beside an SQLite file; on
 * PostgreSQL beside the config file (tfadesk-pg + SUFFIX), the database
 * having no file to sit beside. Owned.
 */
char *
config_verifier_path(const char *database)
{
	size_t n = strlen(database);

	/* beside the main database: var/tfadesk.db -> var/tfadesk-verify.db */
	if (n > 3 && strcmp(database + n - 3, ".db") == 0)
		n -= 3;
	return xstrfmt("%.*s-verify.db", (int)n, database);
}

char *
config_lock_path(const struct config *c, const char *suffix)
{
	char *base, *path;

	if (!db_is_pg(c->database))
		return xstrfmt("%s%s", c->database, suffix);
	base = path_join(c->dir, "tfadesk-pg");
	path = xstrfmt("%s%s", base, suffix);
	free(base);
	return path;
}

int
config_check_mail_secrets(const struct config *c)
{
	const char *paths[3];
	char *secret;
	int n = 0, rc = 0;

	if (db_is_pg(c->database) && c->database_password_file)
		paths[n++] = c->database_password_file;
	if (c->source.type != SOURCE_MAILDIR && c->source.password_file)
		paths[n++] = c->source.password_file;
	if (c->reply.transport == REPLY_SMTP && c->reply.smtp_user &&
	    *c->reply.smtp_user && c->reply.smtp_password_file)
		paths[n++] = c->reply.smtp_password_file;
	for (int i = 0; i < n; i++) {
		if (read_secret_file(paths[i], &secret) == -1) {
			/* the first problem decides the exit status */
			if (rc == 0)
				rc = secret_exit(errno);
			continue;
		}
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return rc;
}

const char *
config_choice(const char *key, int v)
{
	size_t idx;
	const struct key *k = find_key(key, &idx);

	if (k == NULL || k->type != K_ENUM || v < 0)
		return "?";
	for (int i = 0; k->choices[i] != NULL; i++)
		if (i == v)
			return k->choices[i];
	return "?";
}

/* Can the verifier send a login code to this E.164 number? Country codes
 * are a prefix code, so a prefix match is exact. */
int
config_sms_allowed(const struct config *c, const char *e164)
{
	char cc[8];

	for (size_t i = 0; i < c->verifier.n_allowed_country_codes; i++) {
		snprintf(cc, sizeof cc, "%ld", c->verifier.allowed_country_codes[i]);
		if (strncmp(e164, cc, strlen(cc)) == 0)
			return 1;
	}
	return 0;
}

static char *
absolute(const char *file)
{
	char *r = realpath(file, NULL);
	if (r == NULL)
		fatal("realpath %s", file);
	return r;
}

/* Checks the document D holds into C (its file and dir already set).
 * C, or NULL after the errors are printed. */
static struct config *
config_parse(struct config *c, struct ydoc *d, int loaded)
{
	struct loader l;
	struct ynode *root;

	memset(&l, 0, sizeof l);
	l.cfg = c;
	l.doc = d;

	if (loaded == -1) {
		ydoc_done(d, NULL);
		ydoc_free(d);
		config_free(c);
		return NULL;
	}
	root = ydoc_root(d);
	if (root == NULL || root->type != YN_MAP)
		cerr(&l, ynode_line(root), "expected a mapping of keys at the "
		    "top");
	else
		walk(&l, root, "");
	/* also after errors: a typo must not hide the required key it
	 * replaced; every problem is reported in one pass */
	defaults_and_checks(&l);
	ydoc_free(d);
	if (ydoc_done(d, NULL)) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *
config_load(const char *file)
{
	struct ydoc d;
	FILE *fp;
	struct config *c;
	char *slash;
	int rc;

	if (file == NULL) {
		if (access("tfadesk.yaml", F_OK) == 0)
			file = "tfadesk.yaml";
		else
			file = "/etc/tfadesk/tfadesk.yaml";
	}
	if ((fp = fopen(file, "rb")) == NULL) {
		log_warn("config: %s", file);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->file = absolute(file);
	c->dir = xstrdup(c->file);
	slash = strrchr(c->dir, '/');
	slash[slash == c->dir ? 1 : 0] = '\0';

	ydoc_init(&d, file);
	d.max_bytes = CONFIG_MAX_BYTES;
	rc = ydoc_load_file(&d, fp);
	fclose(fp);
	return config_parse(c, &d, rc);
}

struct config *
config_load_mem(const char *buf, size_t len, const char *name,
    const char *dir)
{
	struct ydoc d;
	struct config *c;

	c = xcalloc(1, sizeof *c);
	c->file = xstrdup(name);
	c->dir = xstrdup(dir);
	ydoc_init(&d, name);
	d.max_bytes = CONFIG_MAX_BYTES;
	return config_parse(c, &d, ydoc_load_mem(&d, buf, len));
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		char *base = (char *)c;
		switch (keys[i].type) {
		case K_STR:
		case K_PATH:
		case K_INTLIST:
			free(*(void **)(void *)(base + keys[i].off));
			break;
		case K_ENUM:
			if (keys[i].off_n)
				free(*(void **)(void *)(base + keys[i].off_n));
			break;
		case K_STRLIST: {
			char **v = *(char ***)(void *)(base + keys[i].off);
			size_t cnt = *(size_t *)(void *)(base + keys[i].off_n);
			for (size_t j = 0; j < cnt; j++)
				free(v[j]);
			free(v);
			break;
		}
		default:
			break;
		}
	}
	free(c->file);
	free(c->dir);
	free(c);
}
