/*
 * admin.c - staff commands on the account database: db, account, user,
 * perm, audit.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store.h"
#include "phone.h"
#include "admin.h"
#include "utf8.h"

/* Who is behind a change made from the command line. */
char *
staff_actor(void)
{
	const char *u = getenv("SUDO_USER");

	if (u == NULL || *u == '\0')
		u = getenv("USER");
	if (u == NULL || *u == '\0')
		u = getenv("LOGNAME");
	if (u == NULL || *u == '\0') {
		struct passwd *pw = getpwuid(getuid());
		u = pw ? pw->pw_name : NULL;
	}
	if (u == NULL || *u == '\0' || !valid_text(u) || strlen(u) > 64)
		u = "unknown";
	return xprintf("admin:%s", u);
}

static const char *
kind_name(enum account_kind k)
{
	return k == ACCOUNT_RESELLER ? "reseller" : "end_client";
}

int
cmd_db(struct cmd_env *env, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0) {
		struct config *cfg = env_config(env);
		struct store *s;
		if (argc != 2)
			usage_error("db init", "takes no arguments");
		if ((s = store_open(cfg->database, STORE_CREATE)) == NULL)
			return EX_CANTCREAT;
		env->store = s;
		if (store_migrate(s) == -1)
			return EX_CANTCREAT;
		printf("database %s: schema version %d\n", cfg->database,
		    store_version(s));
		return EX_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "import") == 0) {
		struct import_stats st;
		char *actor;
		int rc;
		if (argc != 3)
			usage_error("db import", "give one FILE.yaml");
		actor = staff_actor();
		rc = import_file(env_store(env), env_numbering(env),
		    env_config(env)->default_country, argv[2], actor, &st);
		free(actor);
		if (rc == EX_OK)
			printf("imported %s: %zu accounts, %zu users, %zu "
			    "contacts; changed %zu, %zu, %zu\n", argv[2],
			    st.total_accounts, st.total_users,
			    st.total_contacts, st.accounts, st.users,
			    st.contacts);
		return rc;
	}
	usage_error("db", "expected init or import");
}

static void
json_account(struct buf *b, struct store *s, const struct account *a)
{
	struct user *u = NULL;
	size_t n = 0;

	buf_adds(b, "{\"id\":");
	json_escape(b, a->id);
	buf_adds(b, ",\"kind\":");
	json_escape(b, kind_name(a->kind));
	buf_adds(b, ",\"reseller\":");
	json_escape(b, a->reseller);
	buf_adds(b, ",\"name\":");
	json_escape(b, a->name);
	buf_addf(b, ",\"twofa\":%s,\"users\":[", a->twofa ? "true" : "false");
	if (store_account_users(s, a->id, &u, &n) == -1)
		exit(EX_SOFTWARE);
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, i ? ",{\"id\":" : "{\"id\":");
		json_escape(b, u[i].id);
		buf_adds(b, ",\"name\":");
		json_escape(b, u[i].name);
		buf_adds(b, ",\"phone\":");
		json_escape(b, u[i].phone);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	users_free(u, n);
}

static int
account_list(struct cmd_env *env)
{
	struct store *s = env_store(env);
	struct account *a;
	size_t n;
	struct buf b;

	if (store_account_list(s, &a, &n) == -1)
		return EX_SOFTWARE;
	buf_init(&b);
	if (env->json) {
		buf_addc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addc(&b, ',');
			json_account(&b, s, &a[i]);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
	} else {
		struct table *t = table_new(6, "ID", "KIND", "RESELLER", "NAME",
		    "2FA", "USERS");
		for (size_t i = 0; i < n; i++) {
			struct user *u;
			size_t nu, missing = 0;
			char cnt[64];
			if (store_account_users(s, a[i].id, &u, &nu) == -1)
				return EX_SOFTWARE;
			for (size_t j = 0; j < nu; j++)
				missing += u[j].phone == NULL;
			if (missing)
				snprintf(cnt, sizeof cnt, "%zu (%zu without "
				    "mobile)", nu, missing);
			else
				snprintf(cnt, sizeof cnt, "%zu", nu);
			users_free(u, nu);
			table_row(t, a[i].id, kind_name(a[i].kind),
			    a[i].reseller, a[i].name, a[i].twofa ? "on" : "off",
			    cnt);
		}
		table_print(t);
	}
	buf_free(&b);
	for (size_t i = 0; i < n; i++)
		account_clear(&a[i]);
	free(a);
	return EX_OK;
}

static int
account_show(struct cmd_env *env, const char *id)
{
	struct store *s = env_store(env);
	struct account a;
	struct user *u;
	size_t n;
	int rc;

	if ((rc = store_account_get(s, id, &a)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("account %s: no such account", id);
		return EX_DATAERR;
	}
	if (env->json) {
		struct buf b;
		buf_init(&b);
		json_account(&b, s, &a);
		if (a.kind == ACCOUNT_RESELLER) {
			struct account *all;
			size_t na, k = 0;
			if (store_account_list(s, &all, &na) == -1)
				return EX_SOFTWARE;
			buf_adds(&b, ",\"end_clients\":[");
			for (size_t i = 0; i < na; i++) {
				if (all[i].reseller &&
				    strcmp(all[i].reseller, a.id) == 0) {
					if (k++)
						buf_addc(&b, ',');
					json_escape(&b, all[i].id);
				}
				account_clear(&all[i]);
			}
			free(all);
			buf_addc(&b, ']');
		}
		buf_adds(&b, "}\n");
		fputs(b.s, stdout);
		buf_free(&b);
		account_clear(&a);
		return EX_OK;
	}
	printf("Account:   ");
	term_puts(stdout, a.id);
	printf(" (%s)\nName:      ", a.kind == ACCOUNT_RESELLER ?
	    "reseller" : "end client");
	term_puts(stdout, a.name);
	putchar('\n');
	if (a.reseller) {
		printf("Reseller:  ");
		term_puts(stdout, a.reseller);
		putchar('\n');
	}
	printf("%s %s\n", a.kind == ACCOUNT_RESELLER ? "2FA:      " :
	    "use_2fa:  ", a.twofa ? "on" : "off");
	if (a.kind == ACCOUNT_RESELLER) {
		char **c;
		size_t nc;
		if (store_contacts(s, a.id, &c, &nc) == -1)
			return EX_SOFTWARE;
		printf("Contacts: ");
		for (size_t i = 0; i < nc; i++) {
			putchar(' ');
			term_puts(stdout, c[i]);
			free(c[i]);
		}
		printf("%s\n", nc ? "" : " (none)");
		free(c);
	}
	if (store_account_users(s, a.id, &u, &n) == -1)
		return EX_SOFTWARE;
	printf("\n");
	if (n == 0)
		printf("No users.\n");
	else {
		struct table *t = table_new(3, "USER", "NAME", "MOBILE");
		for (size_t i = 0; i < n; i++)
			table_row(t, u[i].id, u[i].name, u[i].phone ?
			    u[i].phone : "(none)");
		table_print(t);
	}
	users_free(u, n);
	account_clear(&a);
	return EX_OK;
}

int
cmd_account(struct cmd_env *env, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return account_list(env);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return account_show(env, argv[2]);
	usage_error("account", "expected list, or show ID");
}

int
cmd_user(struct cmd_env *env, int argc, char **argv)
{
	struct store *s;
	struct user u;
	char e164[20], *actor, *old, *new_m;
	const char *phone = NULL, *why;
	int rc;

	if (argc != 3 || strcmp(argv[1], "edit") != 0)
		usage_error("user", "expected edit USER_ID --phone NUMBER");
	if (env->phone == NULL)
		usage_error("user edit", "--phone NUMBER is required");
	s = env_store(env);
	if ((rc = store_user_get(s, argv[2], &u)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("user %s: no such user", argv[2]);
		return EX_DATAERR;
	}
	if (*env->phone != '\0' && strcmp(env->phone, "none") != 0) {
		if (phone_normalize(env_numbering(env), env->phone,
		    env_config(env)->default_country, e164, &why) == -1) {
			char *m = mask_phone(env->phone);
			log_warnx("user %s: phone %s: %s", u.id, m, why);
			free(m);
			user_clear(&u);
			return EX_DATAERR;
		}
		phone = e164;
		if (!config_sms_allowed(env_config(env), e164)) {
			char *m = mask_phone(e164);
			log_warnx("user %s: %s is outside "
			    "verifier.allowed_country_codes: login codes will "
			    "not be sent to it", u.id, m);
			free(m);
		}
	}
	actor = staff_actor();
	if (store_begin(s) == -1) {
		free(actor);
		user_clear(&u);
		return EX_TEMPFAIL;
	}
	rc = store_user_set_phone(s, u.id, phone, actor, 0);
	if (rc == -1 || store_commit(s) == -1) {
		store_rollback(s);
		free(actor);
		user_clear(&u);
		return EX_SOFTWARE;
	}
	old = u.phone ? xstrdup(u.phone) : xstrdup("none");
	new_m = phone ? xstrdup(phone) : xstrdup("none");
	printf("user ");
	term_puts(stdout, u.id);
	printf(" (");
	term_puts(stdout, u.name);
	if (rc == 1)
		printf("): phone unchanged (%s)\n", new_m);
	else
		printf("): phone %s (was %s)\n", new_m, old);
	if (phone == NULL && rc == 0) {
		struct account a;
		if (store_account_get(s, u.account, &a) == 0 && a.twofa)
			log_warnx("user %s: account %s has 2FA on: this user "
			    "cannot log in until a mobile number is set", u.id,
			    a.id);
		account_clear(&a);
	}
	free(old);
	free(new_m);
	free(actor);
	user_clear(&u);
	return EX_OK;
}

int
cmd_perm(struct cmd_env *env, int argc, char **argv)
{
	struct store *s;
	struct account a;
	char *actor;
	int on, rc;

	if (argc != 4 || (strcmp(argv[1], "grant") && strcmp(argv[1],
	    "revoke")))
		usage_error("perm", "expected grant|revoke ACCOUNT_ID use_2fa");
	if (strcmp(argv[3], "use_2fa") != 0)
		usage_error("perm", "unknown permission '%s' (only use_2fa)",
		    argv[3]);
	on = strcmp(argv[1], "grant") == 0;
	s = env_store(env);
	if ((rc = store_account_get(s, argv[2], &a)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("account %s: no such account", argv[2]);
		return EX_DATAERR;
	}
	if (on && a.kind == ACCOUNT_RESELLER) {
		/* The same rule as a "2FA Set Up" ticket: nobody locked out. */
		struct user *u;
		size_t n, missing = 0;
		if (store_account_users(s, a.id, &u, &n) == -1)
			return EX_SOFTWARE;
		for (size_t i = 0; i < n; i++)
			if (u[i].phone == NULL) {
				log_warnx("account %s: user %s (%s) has no "
				    "mobile number", a.id, u[i].id, u[i].name);
				missing++;
			}
		users_free(u, n);
		if (missing) {
			log_warnx("account %s: 2FA not switched on: %zu user%s "
			    "would be locked out", a.id, missing,
			    missing == 1 ? "" : "s");
			account_clear(&a);
			return EX_DATAERR;
		}
	}
	actor = staff_actor();
	if (store_begin(s) == -1) {
		free(actor);
		account_clear(&a);
		return EX_TEMPFAIL;
	}
	rc = store_account_set_twofa(s, a.id, on, actor, 0);
	if (rc == -1 || store_commit(s) == -1) {
		store_rollback(s);
		free(actor);
		account_clear(&a);
		return EX_SOFTWARE;
	}
	printf("account ");
	term_puts(stdout, a.id);
	printf(" (");
	term_puts(stdout, a.name);
	printf("): %s %s%s\n",
	    a.kind == ACCOUNT_RESELLER ? "2FA" : "use_2fa", on ? "on" : "off",
	    rc == 1 ? " (unchanged)" : "");
	free(actor);
	account_clear(&a);
	return EX_OK;
}

int
cmd_audit(struct cmd_env *env, int argc, char **argv)
{
	struct audit_row *r;
	size_t n;

	(void)argv;
	if (argc != 1)
		usage_error("audit", "takes no arguments, only options");
	if (store_audit_list(env_store(env), env->account, env->user, 0, &r,
	    &n) == -1)
		return EX_SOFTWARE;
	if (env->json) {
		struct buf b;
		buf_init(&b);
		buf_addc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			buf_adds(&b, i ? ",{\"at\":" : "{\"at\":");
			json_escape(&b, r[i].at);
			buf_adds(&b, ",\"actor\":");
			json_escape(&b, r[i].actor);
			buf_adds(&b, ",\"action\":");
			json_escape(&b, r[i].action);
			buf_adds(&b, ",\"account\":");
			json_escape(&b, r[i].account);
			buf_adds(&b, ",\"user\":");
			json_escape(&b, r[i].user);
			buf_adds(&b, ",\"old\":");
			json_escape(&b, r[i].old_value);
			buf_adds(&b, ",\"new\":");
			json_escape(&b, r[i].new_value);
			if (r[i].ticket_id)
				buf_addf(&b, ",\"ticket\":%lld",
				    (long long)r[i].ticket_id);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
		buf_free(&b);
	} else {
		struct table *t = table_new(7, "AT", "ACTOR", "ACTION",
		    "ACCOUNT", "USER", "OLD", "NEW");
		for (size_t i = 0; i < n; i++)
			table_row(t, r[i].at, r[i].actor, r[i].action,
			    r[i].account, r[i].user, r[i].old_value,
			    r[i].new_value);
		table_print(t);
	}
	audit_rows_free(r, n);
	return EX_OK;
}
