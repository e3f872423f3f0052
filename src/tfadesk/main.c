/*
 * main.c - tfadesk: options, the command table, and the shared set-up
 * (configuration, database) that every command gets on demand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store.h"
#include "phone.h"
#include "admin.h"
#include "mail.h"
#include "source.h"

static const char usage_text[] =
"usage: tfadesk [-c FILE] [-v] COMMAND [ARGS]\n"
"\n"
"Accounts (the portal's data):\n"
"  db init                            create or migrate the schema\n"
"  db import FILE.yaml [--dry-run] [--allow-move] [--allow-clear] [--prune]\n"
"            [--force]                sync resellers, end clients, users, contacts\n"
"  account list [--json]\n"
"  account show ID [--json]\n"
"  user show USER_ID [--json]\n"
"  user edit USER_ID --phone NUMBER [--force]  set a user's mobile (none clears)\n"
"  perm grant|revoke ACCOUNT_ID use_2fa [--force]\n"
"  audit [--account ID] [--user ID] [--actor A] [--action A] [--since T]\n"
"        [--limit N] [--json]\n"
"\n"
"Mail:\n"
"  fetch                              poll the mail source into the ticket store\n"
"  ingest [FILE.eml ...]              store messages from files or stdin\n"
"  process                            classify, validate and apply tickets\n"
"  send [--dry-run] [--now]           deliver queued replies (--now: ignore back-off)\n"
"  outbox list [--json]               replies queued, sent, failed\n"
"  batch [--dry-run] [--wait]         fetch + process + send under a lock\n"
"  watch                              a batch for each arrival (IMAP IDLE); a service\n"
"\n"
"Staff queue:\n"
"  queue list [--state S] [--kind K] [--account ID] [--since T] [--search TEXT]\n"
"             [--limit N] [--json]\n"
"  queue show TICKET_ID [--json] [--raw] the plan an approval would carry out\n"
"  queue assign TICKET_ID --to NAME [--by NAME]   (--to none: nobody)\n"
"  queue approve TICKET_ID --by NAME [--expect PLAN] [--message TEXT] [--note TEXT]\n"
"  queue reject TICKET_ID --by NAME --reason TEXT [--note TEXT]\n"
"  queue note TICKET_ID --by NAME TEXT   internal: history only, never mail\n"
"  queue retry TICKET_ID\n"
"\n"
"Staff desk:\n"
"  staff add NAME --phone NUMBER --password-file F\n"
"  staff list | disable NAME | enable NAME\n"
"  desk [--listen ADDR:PORT]          the staff web desk (HTTP, foreground)\n"
"\n"
"Options: -c FILE (default ./tfadesk.yaml, then /etc/tfadesk/tfadesk.yaml),\n"
"  -n check the configuration only, -v verbose, --help, --version.\n"
"Each command takes --help. See tfadesk(1) and tfadesk.yaml(5).\n";

struct command {
	const char *name;
	int (*fn)(struct cmd_env *, int, char **);
	unsigned opts;
	const char *usage;
};

static int cmd_fetch(struct cmd_env *, int, char **);
static int cmd_ingest(struct cmd_env *, int, char **);
static int cmd_process(struct cmd_env *, int, char **);
static int cmd_send(struct cmd_env *, int, char **);
static int cmd_batch(struct cmd_env *, int, char **);
static int cmd_watch(struct cmd_env *, int, char **);

static const struct command commands[] = {
	{ "db", cmd_db, OPT_DRY_RUN | OPT_ALLOW_MOVE | OPT_ALLOW_CLEAR |
	    OPT_PRUNE | OPT_FORCE,
	    "db init | db import FILE.yaml [--dry-run] [--allow-move] "
	    "[--allow-clear] [--prune] [--force]" },
	{ "account", cmd_account, OPT_JSON,
	    "account list [--json] | account show ID [--json]" },
	{ "user", cmd_user, OPT_PHONE | OPT_FORCE | OPT_JSON,
	    "user show USER_ID [--json] | "
	    "user edit USER_ID --phone NUMBER [--force]" },
	{ "perm", cmd_perm, OPT_FORCE,
	    "perm grant|revoke ACCOUNT_ID use_2fa [--force]" },
	{ "audit", cmd_audit, OPT_JSON | OPT_ACCOUNT | OPT_USER | OPT_ACTOR |
	    OPT_ACTION | OPT_SINCE | OPT_LIMIT,
	    "audit [--account ID] [--user ID] [--actor A] [--action A] "
	    "[--since T] [--limit N] [--json]" },
	{ "fetch", cmd_fetch, OPT_DRY_RUN, "fetch [--dry-run]" },
	{ "ingest", cmd_ingest, 0, "ingest [FILE.eml ...]   (stdin when none)" },
	{ "process", cmd_process, 0, "process" },
	{ "send", cmd_send, OPT_DRY_RUN | OPT_NOW, "send [--dry-run] [--now]" },
	{ "outbox", cmd_outbox, OPT_JSON, "outbox list [--json]" },
	{ "batch", cmd_batch, OPT_DRY_RUN | OPT_WAIT,
	    "batch [--dry-run] [--wait]" },
	{ "watch", cmd_watch, 0, "watch   (until SIGTERM; see tfadesk(1))" },
	{ "queue", cmd_queue, OPT_JSON | OPT_STATE | OPT_BY | OPT_NOTE |
	    OPT_REASON | OPT_EXPECT | OPT_MESSAGE | OPT_KIND | OPT_ACCOUNT |
	    OPT_SINCE | OPT_SEARCH | OPT_LIMIT | OPT_RAW | OPT_TO,
	    "queue list [--state S] [--kind K] [--account ID] [--since T]\n"
	    "       [--search TEXT] [--limit N] [--json] |\n"
	    "       queue show ID [--json] [--raw] |\n"
	    "       queue assign ID --to NAME [--by NAME] |\n"
	    "       queue approve ID --by NAME [--expect PLAN] [--message TEXT]"
	    " [--note TEXT] |\n"
	    "       queue reject ID --by NAME --reason TEXT [--note TEXT] |\n"
	    "       queue note ID --by NAME TEXT | queue retry ID" },
	{ "staff", cmd_staff, OPT_PHONE | OPT_PASSWORD_FILE,
	    "staff add NAME --phone NUMBER --password-file F |\n"
	    "       staff list | staff disable NAME | staff enable NAME" },
	{ "desk", cmd_desk, OPT_LISTEN, "desk [--listen ADDR:PORT]" },
	{ NULL, NULL, 0, NULL }
};

static const char *current_usage;

void
usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s%s%s\n", log_prog(), cmd ? cmd : "",
	    cmd ? ": " : "", msg);
	if (current_usage)
		fprintf(stderr, "usage: tfadesk %s\n", current_usage);
	else
		fputs(usage_text, stderr);
	exit(EX_USAGE);
}

void
env_allow(struct cmd_env *env, const char *cmd, unsigned allowed)
{
	static const char *const names[] = { "--json", "--phone", "--account",
	    "--user", "--state", "--by", "--note", "--reason", "--dry-run",
	    "--wait", "--force", "--allow-move", "--allow-clear", "--prune",
	    "--actor", "--action", "--since", "--limit", "--now",
	    "--expect", "--message", "--password-file", "--listen",
	    "--kind", "--search", "--raw", "--to" };
	unsigned extra = env->given & ~allowed;

	for (unsigned i = 0; extra && i < sizeof names / sizeof names[0]; i++)
		if (extra & (1u << i))
			usage_error(cmd, "%s is not an option of this command",
			    names[i]);
}

struct config *
env_config(struct cmd_env *env)
{
	if (env->cfg == NULL) {
		env->cfg = config_load(env->config_file);
		if (env->cfg == NULL)
			die(EX_CONFIG, "configuration: %s: not usable",
			    env->config_file ? env->config_file :
			    "tfadesk.yaml or /etc/tfadesk/tfadesk.yaml");
		log_init(log_prog(), env->cfg->use_syslog, env->verbose);
	}
	return env->cfg;
}

struct store *
env_store(struct cmd_env *env)
{
	if (env->store == NULL) {
		struct config *cfg = env_config(env);
		env->store = store_open(cfg->database, 0);
		if (env->store == NULL)
			exit(store_open_status(EX_UNAVAILABLE));
	}
	return env->store;
}

struct numbering *
env_numbering(struct cmd_env *env)
{
	if (env->numbering == NULL) {
		struct config *cfg = env_config(env);
		env->numbering = numbering_load(cfg->numbering);
		if (env->numbering == NULL)
			die(EX_CONFIG, "numbering: %s: not usable",
			    cfg->numbering);
	}
	return env->numbering;
}

struct proc *
env_proc(struct cmd_env *env)
{
	if (env->proc == NULL)
		(void)process_open(env_config(env), &env->proc);
	return env->proc;
}

static int
cmd_fetch(struct cmd_env *env, int argc, char **argv)
{
	struct fetch_stats st;
	int rc;

	(void)argv;
	if (argc > 1)
		usage_error("fetch", "takes no arguments");
	memset(&st, 0, sizeof st);
	/* A dry run stores into a transaction that is rolled back, and the
	 * source changes nothing on the server. */
	if (env->dry_run && store_begin(env_store(env)) == -1)
		return EX_TEMPFAIL;
	stop_install();
	rc = fetch_run(env_config(env), env_store(env), env->dry_run, &st);
	if (env->dry_run)
		store_rollback(env_store(env));
	printf("%sfetched %zu new, %zu already stored, %zu failed\n",
	    env->dry_run ? "dry run (nothing changed): " : "", st.stored,
	    st.dup, st.failed);
	return rc;
}

static int
cmd_ingest(struct cmd_env *env, int argc, char **argv)
{
	struct config *cfg = config_load(env->config_file);
	struct store *s;
	int rc;

	/* An MTA pipe defers on 75 and bounces on anything else: every
	 * failure a person can fix (the configuration, a file mode, a full
	 * disk, the database) answers 75, so no ticket is bounced back to a
	 * reseller. Only a message that can never be stored (empty, too
	 * large: 65) or a missing file given by name (66) is final. */
	if (cfg == NULL) {
		log_warnx("configuration: not usable: the mail is deferred "
		    "(exit 75)");
		return EX_TEMPFAIL;
	}
	env->cfg = cfg;
	if ((s = store_open(cfg->database, 0)) == NULL)
		return EX_TEMPFAIL;
	env->store = s;
	rc = ingest_run(cfg, s, argv + 1, argc - 1);
	if (rc != EX_OK && rc != EX_DATAERR && rc != EX_NOINPUT &&
	    rc != EX_TEMPFAIL) {
		log_warnx("ingest: exit %d turned into 75: the mail is deferred",
		    rc);
		rc = EX_TEMPFAIL;
	}
	return rc;
}

static int
cmd_process(struct cmd_env *env, int argc, char **argv)
{
	struct process_stats st;
	int rc;

	(void)argv;
	if (argc > 1)
		usage_error("process", "takes no arguments");
	memset(&st, 0, sizeof st);
	if ((rc = process_open(env_config(env), &env->proc)) != 0)
		return rc;
	stop_install();
	rc = process_run(env->proc, env_store(env), &st);
	printf("applied %zu, needs_review %zu, rejected %zu, ignored %zu\n",
	    st.applied, st.needs_review, st.rejected, st.ignored);
	return rc;
}

static int
cmd_send(struct cmd_env *env, int argc, char **argv)
{
	struct send_stats st;
	int rc;

	(void)argv;
	if (argc > 1)
		usage_error("send", "takes no arguments");
	memset(&st, 0, sizeof st);
	stop_install();
	rc = send_run(env_config(env), env_store(env),
	    (env->dry_run ? SEND_DRY_RUN : 0) | (env->now ? SEND_NOW : 0), &st);
	printf("sent %zu, failed %zu, deferred %zu\n", st.sent, st.failed,
	    st.deferred);
	return rc;
}

static int
cmd_batch(struct cmd_env *env, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		usage_error("batch", "takes no arguments");
	stop_install();
	return batch_run(env_config(env), env->dry_run, env->wait, 0);
}

static int
cmd_watch(struct cmd_env *env, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc > 1)
		usage_error("watch", "takes no arguments");
	/* refuse a bad rules file or secret at start, as -n does */
	if ((rc = process_open(env_config(env), &env->proc)) != 0)
		return rc;
	process_close(env->proc);
	env->proc = NULL;
	if ((rc = config_check_mail_secrets(env->cfg)) != 0)
		return rc;
	return watch_run(env->cfg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "phone", required_argument, NULL, 'p' },
		{ "account", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "state", required_argument, NULL, 's' },
		{ "by", required_argument, NULL, 'b' },
		{ "note", required_argument, NULL, 'N' },
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "wait", no_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'F' },
		{ "allow-move", no_argument, NULL, 'M' },
		{ "allow-clear", no_argument, NULL, 'C' },
		{ "prune", no_argument, NULL, 'P' },
		{ "actor", required_argument, NULL, 'A' },
		{ "action", required_argument, NULL, 'X' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'L' },
		{ "now", no_argument, NULL, 'W' },
		{ "expect", required_argument, NULL, 'E' },
		{ "message", required_argument, NULL, 'G' },
		{ "password-file", required_argument, NULL, 'Q' },
		{ "listen", required_argument, NULL, 'K' },
		{ "kind", required_argument, NULL, 'k' },
		{ "search", required_argument, NULL, 'q' },
		{ "raw", no_argument, NULL, 'R' },
		{ "to", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_env env;
	const struct command *cmd;
	int ch, help = 0, check_only = 0, rc;

	log_init("tfadesk", 0, 0);
#ifdef TFADESK_TEST_HOOKS
	test_step_list();
#endif
	memset(&env, 0, sizeof env);
	while ((ch = getopt_long(argc, argv, "c:hnvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': env.config_file = optarg; break;
		case 'h': help = 1; break;
		case 'n': check_only = 1; break;
		case 'v': env.verbose++; break;
		case 'V':
			printf("tfadesk %s\n", TFADESK_VERSION);
			return EX_OK;
		case 'j': env.json = 1; env.given |= OPT_JSON; break;
		case 'p': env.phone = optarg; env.given |= OPT_PHONE; break;
		case 'a': env.account = optarg; env.given |= OPT_ACCOUNT; break;
		case 'u': env.user = optarg; env.given |= OPT_USER; break;
		case 's': env.state = optarg; env.given |= OPT_STATE; break;
		case 'b': env.by = optarg; env.given |= OPT_BY; break;
		case 'N': env.note = optarg; env.given |= OPT_NOTE; break;
		case 'r': env.reason = optarg; env.given |= OPT_REASON; break;
		case 'd': env.dry_run = 1; env.given |= OPT_DRY_RUN; break;
		case 'w': env.wait = 1; env.given |= OPT_WAIT; break;
		case 'F': env.force = 1; env.given |= OPT_FORCE; break;
		case 'M': env.allow_move = 1; env.given |= OPT_ALLOW_MOVE; break;
		case 'C': env.allow_clear = 1; env.given |= OPT_ALLOW_CLEAR;
			break;
		case 'P': env.prune = 1; env.given |= OPT_PRUNE; break;
		case 'A': env.actor = optarg; env.given |= OPT_ACTOR; break;
		case 'X': env.action = optarg; env.given |= OPT_ACTION; break;
		case 'S': env.since = optarg; env.given |= OPT_SINCE; break;
		case 'L': env.limit = optarg; env.given |= OPT_LIMIT; break;
		case 'W': env.now = 1; env.given |= OPT_NOW; break;
		case 'E': env.expect = optarg; env.given |= OPT_EXPECT; break;
		case 'G': env.message = optarg; env.given |= OPT_MESSAGE; break;
		case 'Q': env.password_file = optarg;
			env.given |= OPT_PASSWORD_FILE; break;
		case 'K': env.listen = optarg; env.given |= OPT_LISTEN; break;
		case 'k': env.kind = optarg; env.given |= OPT_KIND; break;
		case 'q': env.search = optarg; env.given |= OPT_SEARCH; break;
		case 'R': env.raw = 1; env.given |= OPT_RAW; break;
		case 'T': env.to = optarg; env.given |= OPT_TO; break;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("tfadesk", 0, env.verbose);

	if (check_only) {
		if (env_config(&env) == NULL)
			return EX_CONFIG;
		if ((rc = process_open(env.cfg, &env.proc)) != 0)
			return rc;
		process_close(env.proc);
		env.proc = NULL;
		/* -n passing means the batch can start: its secrets too */
		if ((rc = config_check_mail_secrets(env.cfg)) != 0) {
			config_free(env.cfg);
			return rc;
		}
		printf("configuration OK\n");
		config_free(env.cfg);
		return EX_OK;
	}
	if (argc == 0) {
		if (help) {
			fputs(usage_text, stdout);
			return EX_OK;
		}
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	for (cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL)
		usage_error(NULL, "unknown command '%s'", argv[0]);
	current_usage = cmd->usage;
	if (help) {
		printf("usage: tfadesk %s\n", cmd->usage);
		return EX_OK;
	}
	env_allow(&env, cmd->name, cmd->opts);
	rc = cmd->fn(&env, argc, argv);
	fflush(stdout);
	if (ferror(stdout)) {
		log_warnx("stdout: write error");
		rc = EX_IOERR;
	}
	process_close(env.proc);
	store_close(env.store);
	numbering_free(env.numbering);
	config_free(env.cfg);
	return rc;
}
