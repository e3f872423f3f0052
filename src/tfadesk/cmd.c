/*
 * cmd.c - what every tfadesk command gets on demand: the configuration,
 * the database, the numbering plan and the processing context, each
 * loaded once; the check of the options a command takes; and the usage
 * error that names the command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tfadesk.h"
#include "store.h"
#include "phone.h"
#include "cmd.h"
#include "mail.h"

static const char *current_usage, *current_text;

void
cmd_set_usage(const char *line, const char *text)
{
	current_usage = line;
	current_text = text;
}

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
	else if (current_text)
		fputs(current_text, stderr);
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

