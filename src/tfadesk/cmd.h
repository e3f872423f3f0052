/*
 * cmd.h - what every tfadesk command gets: its options, the configuration,
 * the database, the numbering plan and the processing context, each loaded
 * on demand (cmd.c), and the usage error that names the command. The
 * commands themselves are listed last; main.c dispatches to them.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>

struct config;
struct store;
struct numbering;
struct proc;

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
/* What usage_error prints after its line: the command's usage line
 * ("tfadesk " before it), or the whole text when there is none. */
void cmd_set_usage(const char *line, const char *text);
struct config *env_config(struct cmd_env *);       /* exits 78 */
struct store *env_store(struct cmd_env *);         /* exits 69/75/78 */
struct numbering *env_numbering(struct cmd_env *); /* exits 78 */
/* The processing context (mail.h), or NULL when the rules or numbering
 * policy cannot be loaded (every problem printed). */
struct proc *env_proc(struct cmd_env *);

/* The commands; each returns an exit status. */
int cmd_db(struct cmd_env *, int argc, char **argv);       /* admin.c */
int cmd_db_copy(struct cmd_env *, int argc, char **argv);  /* dbcopy.c */
int cmd_account(struct cmd_env *, int argc, char **argv);
int cmd_user(struct cmd_env *, int argc, char **argv);
int cmd_perm(struct cmd_env *, int argc, char **argv);
int cmd_audit(struct cmd_env *, int argc, char **argv);
int cmd_outbox(struct cmd_env *, int argc, char **argv);   /* outbox.c */
int cmd_queue(struct cmd_env *, int argc, char **argv);    /* queue.c */
int cmd_staff(struct cmd_env *, int argc, char **argv);    /* staff.c */
int cmd_desk(struct cmd_env *, int argc, char **argv);     /* desk.c */

#endif
