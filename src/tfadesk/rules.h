/*
 * rules.h - ticket rules (rules/tickets.yaml): which kind a ticket is, and
 * the fields written in it (account ID, user ID, name, mobile).
 *
 * The file format is documented at the top of rules/tickets.yaml. Patterns
 * are PCRE2 (UTF-8, Unicode properties, multi-line), compiled once by
 * rules_load(), JIT-compiled when PCRE2 has a JIT, and run with a match,
 * depth and heap limit so that no pattern can run away on hostile text: a
 * pattern that hits a limit simply does not match (the ticket then goes to
 * staff), and the event is counted in rmatch.limit_hits.
 *
 * Only the header fields named by a rule and the new text of the body
 * (msg->new_text: no quoted history, no signature) are ever read, after the
 * "cut" patterns have removed anything else that looks like a quote or a
 * signature. One exception: when that new text, classified alone (no
 * subject), is itself a missing-number request, the users written in the
 * message it forwards (msg->fwd_text) are read too, marked forwarded.
 *
 * A struct rules keeps scratch space for matching: use one per thread.
 */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>

struct msg;
struct rules;

enum rule_kind { RK_STAFF = 0, RK_TWOFA_SETUP, RK_MISSING_NUMBER };

/* "staff", "twofa_setup", "missing_number" */
const char *rule_kind_name(enum rule_kind);

/* One user as written in a missing-number report. Strings owned, NULL
 * when not given; cleaned: valid UTF-8, no control characters, trimmed,
 * at most a few hundred bytes. */
struct rentry {
	char *account_id;
	char *user_id;
	char *name;
	char *mobile;       /* as written ("07400 123456") */
	const char *how;    /* static: "labels", "table", "row", "sentence" */
	const char *held;   /* static, NULL when none: why the entry must not
	                       be applied without staff ("two mobile numbers
	                       in one block") */
	int forwarded;      /* read from a forwarded message */
};

struct rmatch {
	enum rule_kind kind;
	const char *rule;   /* borrowed: name of the rule that decided the
	                       kind, NULL when none matched (kind staff) */
	int rule_line;      /* its line in the rules file */
	char **accounts;    /* account IDs named in subject or body, distinct,
	                       in order of appearance; owned */
	size_t naccounts;
	struct rentry *entries;  /* missing_number only; owned */
	size_t nentries;
	int truncated;      /* more users than max_users: the rest dropped */
	int forward_read;   /* the sender's own text asks to add or register
	                       numbers, so the forwarded message under it was
	                       read too (msg->fwd_text) */
	size_t limit_hits;  /* patterns that hit a PCRE2 limit */
};

/* Reads and checks the rules file. NULL on any error, after printing every
 * problem as "FILE:LINE: rule NAME: what" (callers exit 78). */
struct rules *rules_load(const char *path);
void rules_free(struct rules *);
const char *rules_path(const struct rules *);    /* borrowed */
size_t rules_count(const struct rules *);

/* Classifies MSG and, for the kinds that need them, extracts the fields.
 * Fills *M (cleared first; rmatch_clear() it afterwards). Returns 0. */
int rules_match(struct rules *, const struct msg *, struct rmatch *m);
void rmatch_clear(struct rmatch *);

/* The body text the rules read: msg->new_text cut at the first "cut"
 * pattern and limited in size. Owned. */
char *rules_body(struct rules *, const char *new_text);

/* Extraction alone, on a body already cut (tests, debugging). */
int rules_extract(struct rules *, const char *subject, const char *body,
    struct rmatch *m);

#endif
