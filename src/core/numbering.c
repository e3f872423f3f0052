/*
 * numbering.c - our policy on top of libphonenumber (phone.cc): which
 * number types may receive an SMS code, which country codes and number
 * ranges are refused outright. Read from rules/numbering.yaml:
 *
 *   sms_types: [MOBILE, FIXED_LINE_OR_MOBILE]   required, not empty
 *   refused_country_codes: [881, 882]           optional
 *   refused_ranges: ["447700900"]               optional, E.164 prefixes
 *
 * Unknown keys, duplicate keys and bad values are errors, each reported as
 * "file:line: why"; every problem is reported in one pass.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "ydoc.h"
#include "phone.h"

struct numbering {
	unsigned sms_types;     /* bit (1u << enum phone_type) */
	int *refused_cc;
	size_t n_refused_cc;
	char **ranges;          /* digits, E.164 prefixes without '+' */
	size_t n_ranges;
};

#define DEFAULT_SMS_TYPES \
	((1u << PHONE_MOBILE) | (1u << PHONE_FIXED_LINE_OR_MOBILE))

static const char W_INVALID[] = "not a valid phone number";
static const char W_TOO_LONG[] = "not a valid phone number (too long)";
static const char W_LANDLINE[] = "a landline, which cannot receive SMS codes";
static const char W_LETTERS[] = "not a mobile number (it has letters)";
static const char W_EXTENSION[] = "not a mobile number (it has an extension)";
static const char W_COUNTRY[] = "country code refused";
static const char W_RANGE[] = "number range refused";
/* "not a mobile number (TYPE)", one static string per type. */
static const char *const W_TYPE[PHONE_NTYPES] = {
	"not a mobile number (FIXED_LINE)",
	"not a mobile number (MOBILE)",
	"not a mobile number (FIXED_LINE_OR_MOBILE)",
	"not a mobile number (TOLL_FREE)",
	"not a mobile number (PREMIUM_RATE)",
	"not a mobile number (SHARED_COST)",
	"not a mobile number (VOIP)",
	"not a mobile number (PERSONAL_NUMBER)",
	"not a mobile number (PAGER)",
	"not a mobile number (UAN)",
	"not a mobile number (VOICEMAIL)",
	"not a mobile number (UNKNOWN)",
};

struct loader {
	struct ydoc *doc;
};

/* Reports one problem at NODE's line. */
#define nb_error(l, node, ...) ydoc_error((l)->doc, ynode_line(node), __VA_ARGS__)

/* A key with no value, "~" or "null": taken as an empty list. */
static int
is_null(const struct ynode *n)
{
	const char *v = ynode_str(n);

	if (v == NULL || !n->plain)
		return 0;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

static void
load_types(struct loader *l, struct numbering *nb, const struct ynode *v)
{
	const struct ynode *n;
	enum phone_type t;

	if (v->type != YN_SEQ) {
		nb_error(l, v, "sms_types: expected a list of number types");
		return;
	}
	YSEQ_FOREACH(l->doc, v, n) {
		if (n == NULL || n->type != YN_SCALAR) {
			nb_error(l, n != NULL ? n : v,
			    "sms_types: expected a type name");
			continue;
		}
		if (phone_type_parse(n->value,
		    &t) != 0 || t == PHONE_NTYPES) {
			nb_error(l, n, "sms_types: unknown number type \"%s\""
			    " (MOBILE, FIXED_LINE_OR_MOBILE, FIXED_LINE, "
			    "VOIP, ...)", n->value);
			continue;
		}
		nb->sms_types |= 1u << t;
	}
	if (nb->sms_types == 0 && l->doc->errors == 0)
		nb_error(l, v, "sms_types: empty: no number could receive "
		    "a code");
}

static void
load_cc(struct loader *l, struct numbering *nb, const struct ynode *v)
{
	const struct ynode *n;
	const char *s;
	char *end;
	long cc;

	if (is_null(v))
		return;
	if (v->type != YN_SEQ) {
		nb_error(l, v, "refused_country_codes: expected a list of "
		    "country calling codes");
		return;
	}
	YSEQ_FOREACH(l->doc, v, n) {
		if (n == NULL || n->type != YN_SCALAR) {
			nb_error(l, n != NULL ? n : v,
			    "refused_country_codes: expected a number");
			continue;
		}
		s = n->value;
		if (*s == '+')
			s++;
		errno = 0;
		cc = strtol(s, &end, 10);
		if (*s < '1' || *s > '9' || *end != '\0' || errno != 0 ||
		    cc < 1 || cc > 999) {
			nb_error(l, n, "refused_country_codes: \"%s\" is not "
			    "a country calling code (1-999)",
			    n->value);
			continue;
		}
		nb->refused_cc = xreallocarray(nb->refused_cc,
		    nb->n_refused_cc + 1, sizeof *nb->refused_cc);
		nb->refused_cc[nb->n_refused_cc++] = (int)cc;
	}
}

static void
load_ranges(struct loader *l, struct numbering *nb, const struct ynode *v)
{
	const struct ynode *n;
	const char *s;
	size_t len;

	if (is_null(v))
		return;
	if (v->type != YN_SEQ) {
		nb_error(l, v, "refused_ranges: expected a list of E.164 "
		    "prefixes");
		return;
	}
	YSEQ_FOREACH(l->doc, v, n) {
		if (n == NULL || n->type != YN_SCALAR) {
			nb_error(l, n != NULL ? n : v,
			    "refused_ranges: expected a digit string");
			continue;
		}
		s = n->value;
		if (*s == '+')
			s++;
		len = strspn(s, "0123456789");
		if (len == 0 || len > 15 || s[len] != '\0' || *s == '0') {
			nb_error(l, n, "refused_ranges: \"%s\" is not an "
			    "E.164 prefix (digits, country code first)",
			    n->value);
			continue;
		}
		nb->ranges = xreallocarray(nb->ranges, nb->n_ranges + 1,
		    sizeof *nb->ranges);
		nb->ranges[nb->n_ranges++] = xstrdup(s);
	}
}

struct numbering *
numbering_load(const char *path)
{
	static const char *const keys[] = {
		"sms_types", "refused_country_codes", "refused_ranges",
	};
	struct numbering *nb;
	struct loader l;
	struct ydoc doc;
	struct ynode *root, *k, *v;
	const char *key;
	int seen[3] = { 0, 0, 0 };
	size_t i;
	FILE *f;
	int rc;

	if (path == NULL || *path == '\0') {
		log_warnx("numbering: no file given");
		return NULL;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	nb = xcalloc(1, sizeof *nb);
	l.doc = &doc;
	ydoc_init(&doc, path);
	doc.max_bytes = 1UL << 20;
	rc = ydoc_load_file(&doc, f);
	fclose(f);
	if (rc == -1)
		goto out;

	root = ydoc_root(&doc);
	if (root == NULL) {
		ydoc_error(&doc, 1, "empty file: sms_types is required");
		goto out;
	}
	if (root->type != YN_MAP) {
		nb_error(&l, root, "expected a mapping of keys "
		    "(sms_types, refused_country_codes, refused_ranges)");
		goto out;
	}
	YMAP_FOREACH(&doc, root, k, v) {
		if ((key = ynode_str(k)) == NULL) {
			nb_error(&l, k, "expected a key");
			continue;
		}
		for (i = 0; i < 3; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == 3) {
			nb_error(&l, k, "%s: unknown key", key);
			continue;
		}
		seen[i] = 1;
		if (i == 0)
			load_types(&l, nb, v);
		else if (i == 1)
			load_cc(&l, nb, v);
		else
			load_ranges(&l, nb, v);
	}
	if (!seen[0])
		nb_error(&l, root, "sms_types: missing (e.g. [MOBILE, "
		    "FIXED_LINE_OR_MOBILE])");
out:
	ydoc_free(&doc);
	if (ydoc_done(&doc, NULL) > 0) {
		numbering_free(nb);
		return NULL;
	}
	return nb;
}

void
numbering_free(struct numbering *nb)
{
	size_t i;

	if (nb == NULL)
		return;
	for (i = 0; i < nb->n_ranges; i++)
		free(nb->ranges[i]);
	free(nb->ranges);
	free(nb->refused_cc);
	free(nb);
}

enum phone_verdict
phone_check(const struct numbering *nb, const char *text,
    const char *default_region, char *out, const char **why)
{
	struct phone_info pi;
	const char *dummy;
	unsigned types;
	size_t i;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (out != NULL)
		out[0] = '\0';
	if (phone_parse_noregion(text, default_region, &pi) != 0) {
		switch (pi.input) {
		case PHONE_IN_LETTERS:
			*why = W_LETTERS;
			return PHONE_R_NOT_MOBILE;
		case PHONE_IN_EXTENSION:
			*why = W_EXTENSION;
			return PHONE_R_NOT_MOBILE;
		case PHONE_IN_TOO_LONG:
			*why = W_TOO_LONG;
			return PHONE_R_INVALID;
		default:
			*why = W_INVALID;
			return PHONE_R_INVALID;
		}
	}
	if (!pi.valid) {
		*why = W_INVALID;
		return PHONE_R_INVALID;
	}
	if (nb != NULL) {
		for (i = 0; i < nb->n_refused_cc; i++)
			if (nb->refused_cc[i] == pi.country_code) {
				*why = W_COUNTRY;
				return PHONE_R_COUNTRY;
			}
		for (i = 0; i < nb->n_ranges; i++)
			if (strncmp(pi.e164, nb->ranges[i],
			    strlen(nb->ranges[i])) == 0) {
				*why = W_RANGE;
				return PHONE_R_RANGE;
			}
	}
	types = nb != NULL ? nb->sms_types : DEFAULT_SMS_TYPES;
	if ((types & (1u << pi.type)) == 0) {
		if (pi.type == PHONE_FIXED_LINE) {
			*why = W_LANDLINE;
			return PHONE_R_LANDLINE;
		}
		*why = W_TYPE[pi.type];
		return PHONE_R_NOT_MOBILE;
	}
	if (out != NULL)
		memcpy(out, pi.e164, strlen(pi.e164) + 1);
	return PHONE_OK;
}

int
phone_normalize(const struct numbering *nb, const char *text,
    const char *default_region, char *out, const char **why)
{
	return phone_check(nb, text, default_region, out, why) == PHONE_OK ?
	    0 : -1;
}
