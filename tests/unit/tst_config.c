/*
 * tst_config.c - the YAML configuration: defaults, relative paths, and every
 * kind of error named with its file, line and key.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "check.h"

static char dir[] = "/tmp/tst_config.XXXXXX";

/* Loads TEXT as a config; returns it (or NULL) and what went to stderr. */
static struct config *
load(const char *text, char *err, size_t errsz)
{
	char *path = xstrfmt("%s/tfadesk.yaml", dir);
	char *errf = xstrfmt("%s/stderr", dir);
	FILE *fp = fopen(path, "w");
	int saved, fd;
	struct config *c;
	ssize_t n;

	fputs(text, fp);
	fclose(fp);
	fflush(stderr);
	saved = dup(2);
	fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	c = config_load(path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fd = open(errf, O_RDONLY);
	n = read(fd, err, errsz - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	free(path);
	free(errf);
	return c;
}

struct bad {
	const char *yaml;
	const char *want;   /* in the error output */
};

int
main(void)
{
	char err[4096];
	struct config *c;

	if (mkdtemp(dir) == NULL)
		return 2;
	log_init("tst_config", 0, 0);

	/* a minimal file: defaults fill the rest; paths are absolute */
	c = load("database: var/t.db\nsource:\n  path: mail\nsecurity:\n  authserv_id: mx.example\n",
	    err, sizeof err);
	CHECK(c != NULL, "minimal config refused: %s", err);
	if (c) {
		char *want = xstrfmt("%s/var/t.db", dir);
		CHECK(strcmp(c->database, want) == 0, "database %s", c->database);
		free(want);
		CHECK(strcmp(c->default_country, "GB") == 0, "country");
		CHECK(c->security.require_sender_auth == 1,
		    "sender auth must default to on");
		CHECK(c->verifier.code_length == 6, "code length");
		CHECK(c->verifier.n_allowed_country_codes == 2, "countries");
		CHECK(c->verifier.resend_after_seconds == 30, "resend");
		CHECK(c->verifier.max_sms_per_hour == 1000, "max_sms_per_hour");
		CHECK(c->verifier.max_connections_per_address == 64,
		    "max_connections_per_address: a sixteenth of 1024");
		CHECK(strstr(c->verifier.key_file, "/var/verifier.key") != NULL,
		    "key file beside the database: %s", c->verifier.key_file);
		CHECK(c->policy.overwrite_number == OVERWRITE_REVIEW,
		    "overwrite");
		CHECK(strcmp(c->desk.listen, "127.0.0.1:8026") == 0 &&
		    c->desk.secure_cookies == 1 &&
		    c->desk.session_idle_minutes == 30, "desk defaults");
		CHECK(c->desk.n_trusted_proxies == 2 &&
		    strcmp(c->desk.trusted_proxies[0], "127.0.0.1") == 0 &&
		    strcmp(c->desk.trusted_proxies[1], "::1") == 0,
		    "trusted proxies default to loopback");
		config_free(c);
	}

	/* a full file as in DESIGN.md */
	c = load(
	    "database: /srv/t.db\n"
	    "default_country: IE\n"
	    "source:\n  type: imaps\n  host: imap.example.com\n  port: 993\n"
	    "  user: support\n  password_file: secrets/imap\n"
	    "  tls: implicit\n  mailbox: INBOX\n  after: move:Done\n"
	    "reply:\n  transport: smtp\n  smtp_url: smtps://mail.example.com\n"
	    "security:\n  require_sender_auth: false\n"
	    "verifier:\n  allowed_country_codes: [44, 353, 1]\n"
	    "  resend_after_seconds: 0\n  max_sms_per_hour: 50\n"
	    "  max_connections_per_address: 8\n"
	    "desk:\n  listen: 127.0.0.1:9026\n  secure_cookies: false\n"
	    "  session_idle_minutes: 5\n  trusted_proxies: [10.0.0.1, \"fd00::1\"]\n",
	    err, sizeof err);
	CHECK(c != NULL, "full config refused: %s", err);
	if (c) {
		CHECK(strcmp(c->database, "/srv/t.db") == 0, "absolute kept");
		CHECK(c->source.port == 993, "port");
		CHECK(c->source.after == AFTER_MOVE &&
		    strcmp(c->source.after_folder, "Done") == 0, "after");
		CHECK(c->source.type == SOURCE_IMAPS &&
		    c->source.tls == TLS_IMPLICIT &&
		    c->reply.transport == REPLY_SMTP, "enums");
		CHECK(strstr(c->source.password_file, "/secrets/imap") &&
		    c->source.password_file[0] == '/', "secret path relative "
		    "to the file");
		CHECK(c->verifier.n_allowed_country_codes == 3 &&
		    c->verifier.allowed_country_codes[2] == 1, "list");
		CHECK(c->verifier.resend_after_seconds == 0, "explicit 0 kept");
		CHECK(c->security.require_sender_auth == 0, "false");
		CHECK(c->verifier.max_sms_per_hour == 50 &&
		    c->verifier.max_connections_per_address == 8, "limits");
		CHECK(c->desk.secure_cookies == 0 &&
		    c->desk.session_idle_minutes == 5 &&
		    c->desk.n_trusted_proxies == 2 &&
		    strcmp(c->desk.trusted_proxies[1], "fd00::1") == 0, "desk");
		config_free(c);
	}

	static const struct bad bad[] = {
		{ "database: a.db\nfrobnicate: 1\n", "tfadesk.yaml:2: frobnicate: unknown key" },
		{ "database: a.db\nsource:\n  type: maildir\n  path: x\n  colour: red\n",
		  ":5: source.colour: unknown key" },
		{ "source:\n  type: maildir\n  path: x\nsecurity:\n  authserv_id: a\n",
		  "database: required" },
		{ "database: a.db\nsource:\n  type: carrier-pigeon\n",
		  ":3: source.type: 'carrier-pigeon' is not one of" },
		{ "database: a.db\nsource:\n  type: imap\n  host: h\n  user: u\n"
		  "  password_file: p\n  port: 99999\n", ":7: source.port: expected a number" },
		{ "database: a.db\nsource:\n  type: imap\n  user: u\n  password_file: p\n",
		  "source.host: required" },
		{ "database: a.db\nsource:\n  type: imap\n  host: mail.example.com\n"
		  "  user: u\n  password_file: p\n  tls: none\n",
		  ":7: source.tls: none is only allowed to a loopback" },
		{ "database: [a, b]\n", ":1: database: expected a single value" },
		{ "database: a.db\nsecurity:\n  require_sender_auth: maybe\n",
		  ":3: security.require_sender_auth: expected true or false" },
		{ "database: a.db\nsecurity:\n  require_sender_auth: true\n",
		  "security.authserv_id: required" },
		{ "database: a.db\nverifier:\n  allowed_country_codes: [44, x]\n",
		  ":3: verifier.allowed_country_codes: expected numbers" },
		{ "database: a.db\ndatabase: b.db\n", ":2: database: given twice" },
		/* the one YAML loader: aliases refused, nesting bounded */
		{ "database: &d a.db\nverifier:\n  database: *d\n",
		    ":3: YAML alias *d: not supported" },
		{ "database: a.db\nsource: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]"
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]\n", ":2: nested more than 32" },
		{ "database: a.db\ndesk:\n  trusted_proxies: [127.0.0.l]\n",
		  ":3: desk.trusted_proxies: '127.0.0.l' is not an IP address" },
		{ "database: a.db\ndesk:\n  trusted_proxies: 127.0.0.1\n",
		  ":3: desk.trusted_proxies: expected a list" },
		{ "database: a.db\ndesk:\n  session_idle_minutes: 0\n",
		  ":3: desk.session_idle_minutes: expected a number" },
		{ "database: a.db\nsource: [1]\n", ":2: source: expected a section" },
		{ "database: a.db\n  bad: : indent\n", "YAML error" },
		{ "- just\n- a list\n", "expected a mapping" },
		{ "database: a.db\nsource:\n  type: maildir\n  path: x\n  after: \"move:\"\n",
		  "source.after: 'move:' is not one of" },
		{ "database: a.db\nreply:\n  transport: smtp\n  smtp_url: http://x\n",
		  "reply.smtp_url: must start with smtp://" },
		{ "database: a.db\ndefault_country: England\n",
		  "default_country: expected a two-letter" },
		{ "database: a.db\nsource:\n  type: pop3\n  host: h\n  user: u\n"
		  "  password_file: p\n  after: move:Done\n",
		  ":7: source.after: move:Done: POP3 can only keep" },
		{ "database: a.db\nsource:\n  type: pop3s\n  host: h\n  user: u\n"
		  "  after: move:X\n  password_file: p\n",
		  ":6: source.after: move:X: POP3" },
		{ "database: a.db\nsource:\n  type: maildir\n  path: x\n"
		  "  after: move:../up\n", ":5: source.after: move:../up: a maildir" },
		{ "database: a.db\nsource:\n  type: maildir\n  path: x\n"
		  "  after: move:.Trash\n", ":5: source.after: move:.Trash" },
		{ "database: a.db\nverifier:\n  max_sms_per_hour: 0\n",
		  ":3: verifier.max_sms_per_hour: expected a number" },
		{ "database: a.db\nverifier:\n  max_connections_per_address: 1025\n",
		  ":3: verifier.max_connections_per_address: expected a number from 1 to 1024" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = load(bad[i].yaml, err, sizeof err);
		CHECK(c == NULL, "bad config %zu accepted", i);
		CHECK(strstr(err, bad[i].want) != NULL,
		    "bad config %zu: wanted \"%s\" in:\n%s", i, bad[i].want, err);
		config_free(c);
	}
	/* no source section at all: a verifier-only configuration */
	c = load("database: a.db\nsecurity:\n  require_sender_auth: false\n",
	    err, sizeof err);
	CHECK(c != NULL, "a config without a source section: %s", err);
	config_free(c);
	c = load("database: a.db\nsource:\n  after: seen\n"
	    "security:\n  require_sender_auth: false\n", err, sizeof err);
	CHECK(c == NULL && strstr(err, "source.path: required"),
	    "a maildir source needs its path: %s", err);
	config_free(c);

	/* every error is reported, not only the first */
	c = load("database: a.db\nfoo: 1\nbar: 2\n", err, sizeof err);
	CHECK(c == NULL && strstr(err, ":2: foo") && strstr(err, ":3: bar"),
	    "all errors in one pass: %s", err);

	char *cmd = xstrfmt("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(cmd);
	return DONE();
}
