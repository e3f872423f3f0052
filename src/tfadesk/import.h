/*
 * import.h - tfadesk db import: sync resellers, end clients, users and
 * contacts from a YAML file (import.c).
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stddef.h>

struct config;
struct store;
struct numbering;

struct import_stats {
	size_t accounts, users, contacts;          /* rows changed */
	size_t removed;                            /* --prune */
	size_t total_accounts, total_users, total_contacts;
};
struct import_opts {
	const struct config *cfg;  /* verifier.allowed_country_codes */
	int dry_run, allow_move, allow_clear, prune, force, verbose;
};
int import_file(struct store *, const struct numbering *, const char *region,
    const char *file, const struct import_opts *, struct import_stats *);
/* The same from LEN bytes in memory (tests/fuzz); NAME in messages. */
int import_mem(struct store *, const struct numbering *, const char *region,
    const char *buf, size_t len, const char *name, const struct import_opts *,
    struct import_stats *);

#endif
