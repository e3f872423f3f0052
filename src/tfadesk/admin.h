/*
 * admin.h - the staff-facing commands of tfadesk (admin.c, queue.c,
 * import.c) and what they share with main.c.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>
#include <stdio.h>

struct config;
struct store;
struct numbering;
struct proc;

/* main.c: what every command gets */
struct cmd_env {
	const char *config_file;   /* -c, or NULL for the default places */
	struct config *cfg;        /* loaded on demand by env_config() */
	struct store *store;
	struct numbering *numbering;
	struct proc *proc;         /* loaded on demand by env_proc() */
	/* options, wherever they stood on the command line */
	int json, dry_run, wait, now, verbose;
	const char *phone, *account, *user, *state, *by, *note, *reason;
	/* account data: db import, user edit, perm, audit */
	int force, allow_move, allow_clear, prune;
	const char *actor, *action, *since, *limit;
	/* queue approve, list, show, assign */
	const char *expect, *message;
	const char *password_file, *listen;     /* staff add, desk */
	const char *kind, *search, *to;
	int raw;
	unsigned given;            /* OPT_* bits of the options given */
};
enum {
	OPT_JSON = 1 << 0, OPT_PHONE = 1 << 1, OPT_ACCOUNT = 1 << 2,
	OPT_USER = 1 << 3, OPT_STATE = 1 << 4, OPT_BY = 1 << 5,
	OPT_NOTE = 1 << 6, OPT_REASON = 1 << 7, OPT_DRY_RUN = 1 << 8,
	OPT_WAIT = 1 << 9,
	OPT_FORCE = 1 << 10, OPT_ALLOW_MOVE = 1 << 11,
	OPT_ALLOW_CLEAR = 1 << 12, OPT_PRUNE = 1 << 13, OPT_ACTOR = 1 << 14,
	OPT_ACTION = 1 << 15, OPT_SINCE = 1 << 16, OPT_LIMIT = 1 << 17,
	OPT_NOW = 1 << 18, OPT_EXPECT = 1 << 19, OPT_MESSAGE = 1 << 20,
	OPT_PASSWORD_FILE = 1 << 21, OPT_LISTEN = 1 << 22,
	OPT_KIND = 1 << 23, OPT_SEARCH = 1 << 24, OPT_RAW = 1 << 25,
	OPT_TO = 1 << 26
};
/* Exits 64 naming the first option given that the command does not take. */
void env_allow(struct cmd_env *, const char *cmd, unsigned allowed);
void usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
struct config *env_config(struct cmd_env *);       /* exits 78 */
struct store *env_store(struct cmd_env *);         /* exits 69/75/78 */
struct numbering *env_numbering(struct cmd_env *); /* exits 78 */
/* The processing context (mail.h), or NULL when the rules or numbering
 * policy cannot be loaded (every problem printed). */
struct proc *env_proc(struct cmd_env *);

/* dbcopy.c: tfadesk db copy --to DATABASE */
int cmd_db_copy(struct cmd_env *, int argc, char **argv);

/* staff.c and desk.c: tfadesk staff, tfadesk desk */
int cmd_staff(struct cmd_env *, int argc, char **argv);
int cmd_desk(struct cmd_env *, int argc, char **argv);

/* import.c */
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
int valid_text(const char *);
int parse_contact(const char *, char **addr, char **display);

/* table.c: aligned plain-text tables */
struct table;
struct table *table_new(size_t ncols, ...);   /* the column titles */
void table_row(struct table *, ...);          /* ncols strings, NULL = "-" */
void table_print(struct table *);             /* and frees it */
void table_fprint(FILE *, struct table *);    /* the same to a stream */

/* admin.c: who is behind a change from the command line, "admin:USER"
 * (SUDO_USER, USER, LOGNAME, the passwd entry). Owned. */
char *staff_actor(void);

/* admin.c and queue.c: each returns an exit status */
int cmd_db(struct cmd_env *, int argc, char **argv);
int cmd_account(struct cmd_env *, int argc, char **argv);
int cmd_user(struct cmd_env *, int argc, char **argv);
int cmd_perm(struct cmd_env *, int argc, char **argv);
int cmd_audit(struct cmd_env *, int argc, char **argv);
int cmd_outbox(struct cmd_env *, int argc, char **argv);
int cmd_queue(struct cmd_env *, int argc, char **argv);

#endif
