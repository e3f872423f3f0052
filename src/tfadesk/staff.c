/*
 * staff.c - tfadesk staff: the logins of the staff desk. A password
 * (Argon2id, libsodium's crypto_pwhash_str) and a mobile number for the
 * second factor, an SMS code sent by the verifier's own code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tfadesk.h"
#include "store.h"
#include "phone.h"
#include "cmd.h"
#include "admin.h"
#include "table.h"
#include "staff.h"

int
staff_valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 32)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

static int
staff_add(struct cmd_env *env, const char *name)
{
	struct config *cfg = env_config(env);
	struct staff m;
	char e164[20], hash[crypto_pwhash_STRBYTES], *pw = NULL, *actor;
	const char *why;
	int rc;

	if (env->phone == NULL)
		usage_error("staff add", "--phone NUMBER is required");
	if (env->password_file == NULL)
		usage_error("staff add", "--password-file F is required");
	if (phone_normalize(env_numbering(env), env->phone,
	    cfg->default_country, e164, &why) == -1) {
		char *mk = mask_phone(env->phone);
		log_warnx("staff add: phone %s: %s", mk, why);
		free(mk);
		return EX_DATAERR;
	}
	if (!config_sms_allowed(cfg, e164)) {
		char *mk = mask_phone(e164);
		log_warnx("staff add: phone %s: outside "
		    "verifier.allowed_country_codes: no login code could be "
		    "sent to it", mk);
		free(mk);
		return EX_DATAERR;
	}
	if (read_secret_file(env->password_file, &pw) == -1) {
		/* a password file is a secret: group- or world-readable,
		 * another owner: 77 with the chmod to run (logged) */
		int ex = secret_exit(errno);
		if (ex != EX_NOPERM)
			log_warn("staff add: password file %s",
			    env->password_file);
		return ex == EX_NOPERM ? ex : EX_NOINPUT;
	}
	if (strlen(pw) < STAFF_MIN_PASSWORD || strlen(pw) > 1024) {
		log_warnx("staff add: password file %s: the password must have "
		    "%d to 1024 characters", env->password_file,
		    STAFF_MIN_PASSWORD);
		sodium_memzero(pw, strlen(pw));
		free(pw);
		return EX_DATAERR;
	}
	if (sodium_init() < 0)
		fatalx("libsodium: cannot initialise");
	rc = crypto_pwhash_str_alg(hash, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
	sodium_memzero(pw, strlen(pw));
	free(pw);
	if (rc != 0) {
		log_warnx("staff add: password hash: out of memory");
		return EX_TEMPFAIL;
	}
	memset(&m, 0, sizeof m);
	m.name = UNCONST(name);
	m.phone = e164;
	m.pwhash = hash;
	actor = staff_actor();
	if (store_begin(env_store(env)) == -1) {
		free(actor);
		return EX_TEMPFAIL;
	}
	rc = store_staff_add(env_store(env), &m, actor);
	free(actor);
	if (rc == -1 || store_commit(env_store(env)) == -1) {
		store_rollback(env_store(env));
		return EX_SOFTWARE;
	}
	if (rc == 1) {
		log_warnx("staff add: %s: already a staff member (staff "
		    "enable/disable; a new password: disable and add another "
		    "name)", name);
		return EX_DATAERR;
	}
	{
		char *mk = mask_phone(e164);
		printf("staff %s added (login codes to %s)\n", name, mk);
		free(mk);
	}
	return EX_OK;
}

int
cmd_staff(struct cmd_env *env, int argc, char **argv)
{
	char *actor;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		struct staff *v;
		struct table *t;
		size_t n;

		env_allow(env, "staff list", 0);
		if (store_staff_list(env_store(env), &v, &n) == -1)
			return EX_SOFTWARE;
		if (n == 0) {
			printf("No staff.\n");
			return EX_OK;
		}
		t = table_new(4, "NAME", "PHONE", "STATE", "ADDED");
		for (size_t i = 0; i < n; i++) {
			char *mk = mask_phone(v[i].phone);
			char *at = time_iso(v[i].created);
			table_row(t, v[i].name, mk, v[i].disabled ? "disabled" :
			    "enabled", at);
			free(mk);
			free(at);
		}
		table_print(t);
		staff_free(v, n);
		return EX_OK;
	}
	if (argc != 3)
		usage_error("staff", "expected add NAME, list, disable NAME or "
		    "enable NAME");
	if (!staff_valid_name(argv[2]))
		usage_error("staff", "NAME: 1-32 of a-z 0-9 . - _");
	if (strcmp(argv[1], "add") == 0) {
		env_allow(env, "staff add", OPT_PHONE | OPT_PASSWORD_FILE);
		return staff_add(env, argv[2]);
	}
	if (strcmp(argv[1], "disable") != 0 && strcmp(argv[1], "enable") != 0)
		usage_error("staff", "unknown staff command '%s'", argv[1]);
	env_allow(env, "staff", 0);
	actor = staff_actor();
	if (store_begin(env_store(env)) == -1) {
		free(actor);
		return EX_TEMPFAIL;
	}
	rc = store_staff_set_disabled(env_store(env), argv[2],
	    strcmp(argv[1], "disable") == 0, actor);
	free(actor);
	if (rc == -1 || store_commit(env_store(env)) == -1) {
		store_rollback(env_store(env));
		return EX_SOFTWARE;
	}
	if (rc == 1) {
		log_warnx("staff %s: no such staff member", argv[2]);
		return EX_DATAERR;
	}
	printf("staff %s %sd\n", argv[2], argv[1]);
	return EX_OK;
}
