/*
 * phone.h - phone numbers. phone.cc is the only C++ in the project: a thin
 * extern "C" adapter over libphonenumber (parse, validity, type, E.164).
 * numbering.c holds our policy on top (rules/numbering.yaml).
 */
#ifndef PHONE_H
#define PHONE_H

#ifdef __cplusplus
extern "C" {
#endif

enum phone_type {
	PHONE_FIXED_LINE, PHONE_MOBILE, PHONE_FIXED_LINE_OR_MOBILE,
	PHONE_TOLL_FREE, PHONE_PREMIUM_RATE, PHONE_SHARED_COST, PHONE_VOIP,
	PHONE_PERSONAL_NUMBER, PHONE_PAGER, PHONE_UAN, PHONE_VOICEMAIL,
	PHONE_UNKNOWN, PHONE_NTYPES
};

/* phone.cc */
#define PHONE_MAX_INPUT 64    /* bytes of text accepted; longer is refused */

/* Why phone_parse() returned -1 (input hygiene runs before libphonenumber,
 * which on its own would accept "0800 FLOWERS" and "... ext 12"). */
enum phone_input {
	PHONE_IN_OK,
	PHONE_IN_EMPTY,       /* nothing but blanks */
	PHONE_IN_TOO_LONG,    /* > PHONE_MAX_INPUT bytes or > 17 digits */
	PHONE_IN_LETTERS,     /* letters: a vanity number, a label, a word */
	PHONE_IN_EXTENSION,   /* "ext 12", "x12", "#12", ";ext=12" */
	PHONE_IN_JUNK,        /* another character, bad UTF-8, a late '+' */
	PHONE_IN_UNPARSED     /* libphonenumber could not parse it */
};

struct phone_info {
	int valid;            /* valid for its region's numbering plan */
	enum phone_type type;
	int country_code;     /* e.g. 44 */
	char e164[20];        /* digits without '+', e.g. "447400123456" */
	char region[3];       /* "GB"; "" when unknown or non-geographic
	                         (+800, +881, +882, +883 ...) */
	enum phone_input input; /* PHONE_IN_OK unless phone_parse() gave -1 */
};
/* 0 parsed (check info->valid), -1 not a phone number at all (see
 * info->input). Accepts what people type: spaces, dashes, dots, slashes,
 * parentheses and their Unicode look-alikes (no-break spaces, en dashes,
 * full-width digits), "tel:", a leading '+', the international prefix 00
 * (and 011, whatever the default region), the trunk 0, "(0)" after the
 * country code, and E.164 digits without the '+'. DEFAULT_REGION is an
 * ISO 3166 alpha-2 code ("GB") or NULL. Thread-safe. */
int phone_parse(const char *text, const char *default_region,
    struct phone_info *info);
/* The same without info->region (left ""): finding the region of a
 * country code that several share (+1, +44, +7) costs another match of
 * the number's patterns; phone_check() does not need it. */
int phone_parse_noregion(const char *text, const char *default_region,
    struct phone_info *info);
const char *phone_type_name(enum phone_type);   /* "MOBILE", ... */
int phone_type_parse(const char *name, enum phone_type *);

#ifdef __cplusplus
}
#endif

/* numbering.c: policy from rules/numbering.yaml */
struct numbering;
struct numbering *numbering_load(const char *path); /* NULL: errors printed */
void numbering_free(struct numbering *);
/* Normalises TEXT as typed by a person. Returns 0 and the E.164 digits in
 * out (>= 20 bytes) when it is a valid number able to receive an SMS; else
 * -1 and *why (a static string, may be shown to people) says which
 * problem: "not a valid phone number", "not a valid phone number (too
 * long)", "a landline, which cannot receive SMS codes", "not a mobile
 * number (TYPE)" with TYPE a phone_type_name() such as TOLL_FREE, "not a
 * mobile number (it has letters)", "not a mobile number (it has an
 * extension)", "country code refused", "number range refused". NUMBERING
 * may be NULL: then MOBILE and FIXED_LINE_OR_MOBILE are accepted and
 * nothing else is refused. WHY may be NULL. */
int phone_normalize(const struct numbering *, const char *text,
    const char *default_region, char *out, const char **why);

/* The same, returning the kind of refusal (PHONE_OK is 0). Checks run in
 * this order: validity, country code, range, type. */
enum phone_verdict {
	PHONE_OK,
	PHONE_R_INVALID,       /* not a number, or not valid in its plan */
	PHONE_R_LANDLINE,      /* FIXED_LINE (not in sms_types) */
	PHONE_R_NOT_MOBILE,    /* any other type not in sms_types; letters;
	                          an extension */
	PHONE_R_COUNTRY,       /* refused_country_codes */
	PHONE_R_RANGE          /* refused_ranges */
};
enum phone_verdict phone_check(const struct numbering *, const char *text,
    const char *default_region, char *out, const char **why);

#endif
