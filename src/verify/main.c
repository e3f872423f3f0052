/*
 * main.c - tfadesk-verify: the SMS login-code verifier, as a command line
 * (start, check) and as an HTTP JSON service (serve). Links the core and
 * src/verify/ only: no mail code.
 *
 * Exit status (sysexits.h): 0 an outcome was printed (whatever it is),
 * 64 usage, 65 a user ID or code that is not even well-formed, 69 the
 * database is missing or the service cannot listen, 75 temporary failure
 * (SMS gateway down, database busy: outcome "error"), 78 configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfadesk.h"
#include "store.h"
#include "verify.h"

static const char usage_text[] =
"usage: tfadesk-verify [-c FILE] [-v] COMMAND [ARGS]\n"
"\n"
"  start USER_ID [--json]          send a login code if 2FA applies\n"
"                                  sent | not_required | blocked | no_mobile |\n"
"                                  rate_limited | unknown_user\n"
"  check USER_ID CODE [--json]     approved | denied | expired | locked\n"
"  serve [--listen ADDR:PORT]      HTTP JSON service (foreground):\n"
"      POST /v1/challenges {\"user_id\": ...}\n"
"      POST /v1/challenges/check {\"user_id\": ..., \"code\": ...}\n"
"      GET  /healthz, GET /metrics\n"
"  key add NAME | key list | key revoke NAME\n"
"                                  the portal's API keys (verifier.api_keys_file)\n"
"\n"
"Options: -c FILE (default ./tfadesk.yaml, then /etc/tfadesk/tfadesk.yaml),\n"
"  -n check the configuration only, -v verbose, --help, --version.\n"
"A temporary failure prints the outcome \"error\" and exits 75.\n"
"See tfadesk-verify(8).\n";

static void usage(const char *, ...) NORETURN PRINTFLIKE(1, 2);
static void print_result(const struct vresult *, int);

static void
usage(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n%s", log_prog(), msg, usage_text);
	exit(EX_USAGE);
}

static void
print_result(const struct vresult *r, int json)
{
	struct buf b;

	buf_init(&b);
	if (json) {
		vresult_json(&b, r);
	} else
		buf_adds(&b, voutcome_name(r->outcome));
	puts(b.s);
	fflush(stdout);
	buf_free(&b);
	if (r->outcome == V_ERROR)
		log_warnx("%s: try again later",
		    r->error ? r->error : "temporary failure");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config_file = NULL, *listen = NULL, *cmd;
	struct config *cfg;
	struct verifier *v;
	struct store *s;
	struct vresult r;
	int ch, json = 0, verbose = 0, check_only = 0, rc;

	log_init("tfadesk-verify", 0, 0);
	while ((ch = getopt_long(argc, argv, "c:hjl:nvV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': config_file = optarg; break;
		case 'j': json = 1; break;
		case 'l': listen = optarg; break;
		case 'n': check_only = 1; break;
		case 'v': verbose++; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("tfadesk-verify %s\n", TFADESK_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("tfadesk-verify", 0, verbose);
	if (!check_only && argc == 0)
		usage("a command is needed");
	cmd = argc > 0 ? argv[0] : "";
	if (!check_only) {
		if (strcmp(cmd, "start") == 0) {
			if (argc != 2)
				usage("start: give one USER_ID");
		} else if (strcmp(cmd, "check") == 0) {
			if (argc != 3)
				usage("check: give USER_ID and CODE");
		} else if (strcmp(cmd, "serve") == 0) {
			if (argc != 1)
				usage("serve: takes no arguments, only "
				    "--listen ADDR:PORT");
		} else if (strcmp(cmd, "key") == 0) {
			if (argc < 2 || (strcmp(argv[1], "list") == 0 ?
			    argc != 2 : (strcmp(argv[1], "add") != 0 &&
			    strcmp(argv[1], "revoke") != 0 &&
			    strcmp(argv[1], "remove") != 0) || argc != 3))
				usage("key: add NAME, list, or revoke NAME");
		} else
			usage("unknown command '%s'", cmd);
		if (listen && strcmp(cmd, "serve") != 0)
			usage("--listen is an option of serve only");
		if (json && strcmp(cmd, "serve") == 0)
			usage("--json is an option of start and check only");
		if (strcmp(cmd, "key") != 0 && argc >= 2 &&
		    !verifier_valid_user_id(argv[1]))
			die(EX_DATAERR, "%s: user ID must be 1 to 128 bytes "
			    "of printable UTF-8 without spaces", cmd);
		if (strcmp(cmd, "check") == 0 && argc == 3 &&
		    !verifier_valid_code(argv[2]))
			die(EX_DATAERR, "check: code too long");
	}

	if ((cfg = config_load(config_file)) == NULL)
		die(EX_CONFIG, "configuration: %s: not usable", config_file ?
		    config_file : "tfadesk.yaml or /etc/tfadesk/tfadesk.yaml");
	log_init("tfadesk-verify", cfg->use_syslog, verbose);
	if (strcmp(cmd, "key") == 0) {
		if (cfg->verifier.api_keys_file == NULL)
			die(EX_CONFIG, "key: set verifier.api_keys_file in %s "
			    "first", cfg->file);
		rc = apikeys_cmd(cfg->verifier.api_keys_file,
		    strcmp(argv[1], "remove") == 0 ? "revoke" : argv[1],
		    argc == 3 ? argv[2] : NULL);
		config_free(cfg);
		return rc;
	}
	if ((v = verifier_new(cfg, check_only, &rc)) == NULL) {
		config_free(cfg);
		return rc;
	}
	if (check_only) {
		int kex = 0;

		rc = verifier_check_templates(v);
		/* the API keys file: its mode, owner and lines, as serve */
		if (cfg->verifier.api_keys_file) {
			struct apikeys *k = apikeys_load(
			    cfg->verifier.api_keys_file, &kex);
			apikeys_free(k);
		}
		if (rc == 0 && kex == 0)
			printf("configuration OK (sms: %s)\n",
			    sms_describe(v->sms));
		verifier_free(v);
		config_free(cfg);
		return kex ? kex : rc == 0 ? 0 : EX_CONFIG;
	}

	if (strcmp(cmd, "serve") == 0) {
		rc = serve_run(v, listen ? listen : cfg->verifier.listen);
		verifier_free(v);
		config_free(cfg);
		return rc;
	}

	if ((s = store_verifier_open(cfg->verifier.database,
	    cfg->database)) == NULL) {
		verifier_free(v);
		config_free(cfg);
		return store_open_status(EX_UNAVAILABLE);
	}
	if (verifier_store_setup(s, 0) == -1) {
		store_close(s);
		verifier_free(v);
		config_free(cfg);
		return EX_TEMPFAIL;
	}
	if (strcmp(cmd, "start") == 0)
		verifier_start(v, s, argv[1], &r);
	else
		verifier_check(v, s, argv[1], argv[2], &r);
	print_result(&r, json);
	rc = r.outcome == V_ERROR ? EX_TEMPFAIL : 0;
	vresult_clear(&r);
	store_close(s);
	verifier_free(v);
	config_free(cfg);
	return rc;
}
