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
#include "json.h"
#include "store.h"
#include "phone.h"
#include "cmd.h"
#include "admin.h"
#include "import.h"
#include "table.h"
#include "mime.h"
#include "mail.h"
#include "term.h"

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
	if (u == NULL || !utf8_valid_text(u, 64))
		u = "unknown";
	return xstrfmt("admin:%s", u);
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
		env_allow(env, "db init", 0);
		if (argc != 2)
			usage_error("db init", "takes no arguments");
		if ((s = store_open(cfg->database, STORE_CREATE)) == NULL)
			return store_open_status(EX_CANTCREAT);
		env->store = s;
		/* the verifier's file first: it takes over the verifier's
		 * rows before the main file's migration drops them */
		if (store_verifier_init(cfg->verifier.database,
		    cfg->database) == -1)
			return EX_CANTCREAT;
		/* upgrading version 1 computes the tickets' identities */
		store_set_digest(s, mime_identity_hex);
		if (store_migrate(s) == -1)
			return EX_CANTCREAT;
		printf("database %s: schema version %d\n", store_path(s),
		    store_version(s));
		/* PostgreSQL: the verifier's tables are in the one database */
		if (!store_on_pg(s))
			printf("verifier database %s: schema version %d\n",
			    cfg->verifier.database, store_vschema_version());
		return EX_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "import") == 0) {
		struct import_stats st;
		struct import_opts o;
		int rc;
		env_allow(env, "db import", OPT_DRY_RUN | OPT_ALLOW_MOVE |
		    OPT_ALLOW_CLEAR | OPT_PRUNE | OPT_FORCE);
		if (argc != 3)
			usage_error("db import", "give one FILE.yaml");
		memset(&o, 0, sizeof o);
		o.cfg = env_config(env);
		o.dry_run = env->dry_run;
		o.allow_move = env->allow_move;
		o.allow_clear = env->allow_clear;
		o.prune = env->prune;
		o.force = env->force;
		o.verbose = env->verbose;
		rc = import_file(env_store(env), env_numbering(env),
		    env_config(env)->default_country, argv[2], &o, &st);
		if (rc == EX_OK) {
			printf("%s %s: %zu accounts, %zu users, %zu "
			    "contacts; %s %zu, %zu, %zu", env->dry_run ?
			    "dry run (nothing changed):" : "imported", argv[2],
			    st.total_accounts, st.total_users,
			    st.total_contacts, env->dry_run ? "would change" :
			    "changed", st.accounts, st.users, st.contacts);
			if (env->prune)
				printf("; %s %zu", env->dry_run ?
				    "would remove" : "removed", st.removed);
			printf("\n");
		}
		return rc;
	}
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return cmd_db_copy(env, argc, argv);
	usage_error("db", "expected init, import or copy");
}

/* The account's object, left open for what the caller adds. */
static void
json_account(struct json *j, struct store *s, const struct account *a)
{
	struct user *u = NULL;
	size_t n = 0;

	json_obj(j);
	json_kstr(j, "id", a->id);
	json_kstr(j, "kind", kind_name(a->kind));
	json_kstr(j, "reseller", a->reseller);
	json_kstr(j, "name", a->name);
	json_kbool(j, "twofa", a->twofa);
	json_key(j, "users");
	json_arr(j);
	if (store_account_users(s, a->id, &u, &n) == -1)
		exit(EX_SOFTWARE);
	for (size_t i = 0; i < n; i++) {
		json_obj(j);
		json_kstr(j, "id", u[i].id);
		json_kstr(j, "name", u[i].name);
		json_kstr(j, "phone", u[i].phone);
		json_end(j);
	}
	json_end(j);
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
		struct json j;
		json_init(&j, &b, 0);
		json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			json_account(&j, s, &a[i]);
			json_end(&j);
		}
		json_end(&j);
		buf_addc(&b, '\n');
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
		struct json j;
		buf_init(&b);
		json_init(&j, &b, 0);
		json_account(&j, s, &a);
		if (a.kind == ACCOUNT_RESELLER) {
			struct account *all;
			size_t na;
			if (store_account_list(s, &all, &na) == -1)
				return EX_SOFTWARE;
			json_key(&j, "end_clients");
			json_arr(&j);
			for (size_t i = 0; i < na; i++) {
				if (all[i].reseller &&
				    strcmp(all[i].reseller, a.id) == 0)
					json_str(&j, all[i].id);
				account_clear(&all[i]);
			}
			free(all);
			json_end(&j);
		}
		json_end(&j);
		buf_addc(&b, '\n');
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
		for (size_t i = 0; i < n; i++) {
			char *m = mask_phone(u[i].phone);
			table_row(t, u[i].id, u[i].name, m);
			free(m);
		}
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

/* Can this user log in when 2FA applies: a number the verifier may send
 * a code to? */
static int
can_receive_codes(struct cmd_env *env, const char *phone)
{
	return phone != NULL && config_sms_allowed(env_config(env), phone);
}

static int
user_show(struct cmd_env *env, const char *id)
{
	struct store *s = env_store(env);
	struct account a;
	struct user u;
	int rc;

	if ((rc = store_user_get(s, id, &u)) == -1)
		return EX_SOFTWARE;
	if (rc == 1) {
		log_warnx("user %s: no such user", id);
		return EX_DATAERR;
	}
	if (store_account_get(s, u.account, &a) != 0) {
		user_clear(&u);
		return EX_SOFTWARE;
	}
	if (env->json) {
		struct buf b;
		struct json j;
		buf_init(&b);
		json_init(&j, &b, 0);
		json_obj(&j);
		json_kstr(&j, "id", u.id);
		json_kstr(&j, "account", a.id);
		json_kstr(&j, "reseller", a.reseller ? a.reseller : a.id);
		json_kstr(&j, "name", u.name);
		json_kstr(&j, "phone", u.phone);
		json_kbool(&j, "twofa", a.twofa);
		json_kbool(&j, "can_log_in", !a.twofa ||
		    can_receive_codes(env, u.phone));
		json_end(&j);
		buf_addc(&b, '\n');
		fputs(b.s, stdout);
		buf_free(&b);
	} else {
		char *m = mask_phone(u.phone);
		printf("User:      %s\n", u.id);
		printf("Name:      %s\n", u.name);
		if (a.reseller)
			printf("Account:   %s (end client of %s)\n", a.id,
			    a.reseller);
		else
			printf("Account:   %s (reseller)\n", a.id);
		printf("Mobile:    %s%s\n", m, u.phone &&
		    !can_receive_codes(env, u.phone) ? " (outside "
		    "verifier.allowed_country_codes)" : "");
		printf("2FA:       %s (%s of %s)\n", a.twofa ? "on" : "off",
		    a.kind == ACCOUNT_RESELLER ? "2FA" : "use_2fa", a.id);
		if (a.twofa && !can_receive_codes(env, u.phone))
			printf("Login:     refused: no mobile number a login "
			    "code can be sent to\n");
		free(m);
	}
	account_clear(&a);
	user_clear(&u);
	return EX_OK;
}

int
cmd_user(struct cmd_env *env, int argc, char **argv)
{
	struct store *s;
	struct user u;
	char e164[20], *actor, *old, *new_m, *note = NULL;
	const char *phone = NULL, *why;
	int rc;

	if (argc == 3 && strcmp(argv[1], "show") == 0) {
		env_allow(env, "user show", OPT_JSON);
		return user_show(env, argv[2]);
	}
	if (argc != 3 || strcmp(argv[1], "edit") != 0)
		usage_error("user", "expected show USER_ID, or edit USER_ID "
		    "--phone NUMBER");
	env_allow(env, "user edit", OPT_PHONE | OPT_FORCE);
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
		if (!can_receive_codes(env, e164)) {
			/* the verifier blocks it: a lock-out once 2FA is on */
			char *m = mask_phone(e164);
			log_warnx("user %s (%s): %s is outside "
			    "verifier.allowed_country_codes: the user would be "
			    "locked out at login%s", u.id, u.name, m,
			    env->force ? " (forced)" : "; not changed "
			    "(--force sets it anyway)");
			free(m);
			if (!env->force) {
				user_clear(&u);
				return EX_DATAERR;
			}
			note = xstrfmt("forced: locks out %s (%s): number "
			    "outside verifier.allowed_country_codes", u.id,
			    u.name);
		}
	} else if (u.phone != NULL) {
		struct account a;
		if (store_account_get(s, u.account, &a) == -1)
			return EX_SOFTWARE;
		if (a.twofa) {
			log_warnx("user %s (%s): account %s has 2FA on: the "
			    "user would be locked out at login%s", u.id, u.name,
			    a.id, env->force ? " (forced)" : "; not changed "
			    "(--force clears it anyway)");
			if (!env->force) {
				account_clear(&a);
				user_clear(&u);
				return EX_DATAERR;
			}
			note = xstrfmt("forced: locks out %s (%s): account %s "
			    "has 2FA on", u.id, u.name, a.id);
		}
		account_clear(&a);
	}
	actor = staff_actor();
	if (store_begin(s) == -1) {
		free(actor);
		free(note);
		user_clear(&u);
		return EX_TEMPFAIL;
	}
	rc = store_user_set_phone(s, u.id, phone, actor, 0);
	if (rc == 0 && note && store_audit_note(s, store_audit_last(s),
	    note) == -1)
		rc = -1;
	if (rc == -1 || store_commit(s) == -1) {
		store_rollback(s);
		free(actor);
		free(note);
		user_clear(&u);
		return EX_SOFTWARE;
	}
	old = mask_phone(u.phone);
	new_m = mask_phone(phone);
	printf("user ");
	term_puts(stdout, u.id);
	printf(" (");
	term_puts(stdout, u.name);
	if (rc == 1)
		printf("): phone unchanged (%s)\n", new_m);
	else
		printf("): phone %s (was %s)\n", new_m, old);
	free(old);
	free(new_m);
	free(actor);
	free(note);
	user_clear(&u);
	return EX_OK;
}

int
cmd_perm(struct cmd_env *env, int argc, char **argv)
{
	struct store *s;
	struct account a;
	struct buf who;
	char *actor, *note = NULL;
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
	buf_init(&who);
	if (on && !a.twofa) {
		/* The rule of a "2FA Set Up" ticket, for resellers and end
		 * clients alike: nobody locked out. */
		struct user *u;
		size_t n, missing = 0;
		if (store_account_users(s, a.id, &u, &n) == -1)
			return EX_SOFTWARE;
		for (size_t i = 0; i < n; i++) {
			if (can_receive_codes(env, u[i].phone))
				continue;
			log_warnx("account %s: user %s (%s) has %s", a.id,
			    u[i].id, u[i].name, u[i].phone == NULL ?
			    "no mobile number" : "a number outside "
			    "verifier.allowed_country_codes");
			buf_addf(&who, "%s%s (%s)", missing ? ", " : "",
			    u[i].id, u[i].name);
			missing++;
		}
		users_free(u, n);
		if (missing && !env->force) {
			log_warnx("account %s: %s not switched on: %zu user%s "
			    "would be locked out (--force switches it on "
			    "anyway)", a.id, a.kind == ACCOUNT_RESELLER ?
			    "2FA" : "use_2fa", missing, missing == 1 ? "" : "s");
			buf_free(&who);
			account_clear(&a);
			return EX_DATAERR;
		}
		if (missing) {
			note = xstrfmt("forced: locks out %s", who.s);
			log_warnx("account %s: %s", a.id, note);
		}
	}
	buf_free(&who);
	actor = staff_actor();
	if (store_begin(s) == -1) {
		free(actor);
		free(note);
		account_clear(&a);
		return EX_TEMPFAIL;
	}
	rc = store_account_set_twofa(s, a.id, on, actor, 0);
	if (rc == 0 && note && store_audit_note(s, store_audit_last(s),
	    note) == -1)
		rc = -1;
	if (rc == -1 || store_commit(s) == -1) {
		store_rollback(s);
		free(actor);
		free(note);
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
	free(note);
	account_clear(&a);
	return EX_OK;
}

int
cmd_audit(struct cmd_env *env, int argc, char **argv)
{
	struct audit_filter f;
	struct audit_row *r;
	char *since = NULL;
	time_t t;
	size_t n;

	(void)argv;
	if (argc != 1)
		usage_error("audit", "takes no arguments, only options");
	memset(&f, 0, sizeof f);
	f.account = env->account;
	f.user = env->user;
	f.actor = env->actor;
	f.action = env->action;
	if (env->since && parse_since(env->since, &t) == -1)
		usage_error("audit", "--since %s: expected a date "
		    "(2026-11-28), a UTC time (2026-11-28T13:40:00Z) or an "
		    "age (30m, 12h, 7d)", env->since);
	if (env->since)
		since = time_iso(t);	/* the audit log's own form */
	f.since = since;
	if (env->limit) {
		char *end;
		long v = strtol(env->limit, &end, 10);
		if (*env->limit == '\0' || *end != '\0' || v < 1 ||
		    v > 1000000)
			usage_error("audit", "--limit %s: expected a number "
			    "from 1 to 1000000", env->limit);
		f.limit = v;
	}
	/* the verifier's decisions are logged in its own file */
	if (store_attach_verifier(env_store(env),
	    env_config(env)->verifier.database) == -1)
		return EX_UNAVAILABLE;
	if (store_audit_query(env_store(env), &f, &r, &n) == -1) {
		free(since);
		return EX_SOFTWARE;
	}
	free(since);
	if (env->json) {
		/* whole values: how staff undo a wrong change */
		struct buf b;
		struct json j;
		buf_init(&b);
		json_init(&j, &b, 0);
		json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			json_obj(&j);
			json_kstr(&j, "at", r[i].at);
			json_kstr(&j, "actor", r[i].actor);
			json_kstr(&j, "action", r[i].action);
			json_kstr(&j, "account", r[i].account);
			json_kstr(&j, "user", r[i].user);
			json_kstr(&j, "old", r[i].old_value);
			json_kstr(&j, "new", r[i].new_value);
			if (r[i].ticket_id)
				json_kint(&j, "ticket", r[i].ticket_id);
			if (r[i].note)
				json_kstr(&j, "note", r[i].note);
			json_end(&j);
		}
		json_end(&j);
		buf_addc(&b, '\n');
		fputs(b.s, stdout);
		buf_free(&b);
	} else {
		/* numbers masked, as every plain output */
		struct table *tb = table_new(8, "AT", "ACTOR", "ACTION",
		    "ACCOUNT", "USER", "OLD", "NEW", "NOTE");
		for (size_t i = 0; i < n; i++) {
			char *o = audit_shown(r[i].action, r[i].old_value);
			char *nv = audit_shown(r[i].action, r[i].new_value);
			table_row(tb, r[i].at, r[i].actor, r[i].action,
			    r[i].account, r[i].user, o, nv, r[i].note);
			free(o);
			free(nv);
		}
		table_print(tb);
	}
	audit_rows_free(r, n);
	return EX_OK;
}
