/*
 * dbcopy.c - tfadesk db copy --to DATABASE: the configured database (and,
 * on SQLite, its verifier.database) copied into an empty DATABASE, an
 * SQLite file or a postgresql:// URI, under the batch's lock; the copy
 * itself, its transaction and its checks are store_copy (store-copy.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "json.h"
#include "store.h"
#include "cmd.h"
#include "mail.h"

static void
hex(const unsigned char *sum, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[sum[i] >> 4];
		out[2 * i + 1] = digits[sum[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
print_result(const struct store_copy_result *r, int json)
{
	char sum[2 * STORE_COPY_SUM + 1];
	struct buf b;
	struct json j;

	buf_init(&b);
	if (json) {
		json_init(&j, &b, 0);
		json_obj(&j);
		json_kstr(&j, "target", r->target);
		json_kint(&j, "rows", (long long)r->rows);
		json_key(&j, "tables");
		json_arr(&j);
		for (size_t i = 0; i < r->ntables; i++) {
			hex(r->tables[i].sum, STORE_COPY_SUM, sum);
			json_obj(&j);
			json_kstr(&j, "table", r->tables[i].name);
			json_kint(&j, "rows", (long long)r->tables[i].rows);
			json_kstr(&j, "blake2b", sum);
			json_end(&j);
		}
		json_end(&j);
		json_end(&j);
		buf_addc(&b, '\n');
	} else {
		for (size_t i = 0; i < r->ntables; i++) {
			hex(r->tables[i].sum, STORE_COPY_SUM, sum);
			buf_addf(&b, "%-15s %9lld rows  %.16s\n",
			    r->tables[i].name, (long long)r->tables[i].rows,
			    sum);
		}
		buf_addf(&b, "copied to %s: %lld rows in %zu tables, each "
		    "verified\n", r->target, (long long)r->rows, r->ntables);
	}
	fputs(b.s, stdout);
	buf_free(&b);
}

int
cmd_db_copy(struct cmd_env *env, int argc, char **argv)
{
	struct config *cfg = env_config(env);
	struct store_copy_args a;
	struct store_copy_result r;
	char *pw, *vpath = NULL;
	const char *pwfile;
	int fd = -1, busy = 0, ex;

	(void)argv;
	env_allow(env, "db copy", OPT_TO | OPT_PASSWORD_FILE | OPT_JSON);
	if (argc != 2 || env->to == NULL || *env->to == '\0')
		usage_error("db copy", "give the target with --to DATABASE");
	if (strcmp(env->to, cfg->database) == 0 ||
	    (!store_uri_is_pg(cfg->database) &&
	    strcmp(env->to, cfg->verifier.database) == 0))
		usage_error("db copy", "--to %s: that is the database it copies",
		    env->to);
	if (env->password_file && !store_uri_is_pg(env->to))
		usage_error("db copy", "--password-file goes with a "
		    "postgresql:// target");
	/* the target's password: checked as every secret (77) */
	pwfile = env->password_file ? env->password_file :
	    cfg->database_password_file;
	if (store_uri_is_pg(env->to) && pwfile) {
		if (read_secret_file(pwfile, &pw) == -1)
			return secret_exit(errno);
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	memset(&a, 0, sizeof a);
	a.from = cfg->database;
	a.from_verifier = cfg->verifier.database;
	a.to = env->to;
	a.to_password_file = env->password_file;
	if (!store_uri_is_pg(env->to)) {
		vpath = config_verifier_path(env->to);
		if (strcmp(vpath, cfg->database) == 0 ||
		    (!store_uri_is_pg(cfg->database) &&
		    strcmp(vpath, cfg->verifier.database) == 0))
			usage_error("db copy", "--to %s: its verifier file %s "
			    "is the source's", env->to, vpath);
		a.to_verifier = vpath;
	}
	/* no batch writes meanwhile: its lock, held to the end */
	if ((ex = batch_lock(cfg, 0, 1, 0, &fd, &busy)) != EX_OK) {
		if (busy)
			log_warnx("db copy: a batch is running (%s.lock is "
			    "held): stop cron and tfadesk watch, then copy",
			    store_uri_is_pg(cfg->database) ? "tfadesk-pg" :
			    cfg->database);
		free(vpath);
		return ex;
	}
	ex = store_copy(&a, &r);
	if (ex == EX_OK)
		print_result(&r, env->json);
	else if (r.bad)
		log_warnx("db copy: table %s did not copy exactly: the target "
		    "is left as it was", r.bad);
	store_copy_free(&r);
	close(fd);
	free(vpath);
	return ex;
}
