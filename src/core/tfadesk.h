/*
 * tfadesk.h - shared types and prototypes of the core (the .c files directly in src/), linked by
 * both tfadesk and tfadesk-verify. Library handles (sqlite3, yaml_parser_t,
 * CURL, libetpan) never appear here.
 *
 * Memory: what a function returns belongs to the caller ("owned") unless the
 * comment says "borrowed". Every _free(NULL) does nothing.
 */
#ifndef TFADESK_H
#define TFADESK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <time.h>

/*
 * A borrowed string stored where a struct or an API has char * but the
 * pointer is neither written through nor freed (curl's CURL_UNCONST): the
 * one place that drops const, so -Wcast-qual stays on everywhere else.
 */
#define UNCONST(p) ((void *)(uintptr_t)(const void *)(p))

#define TFADESK_VERSION "0.1.0"

#if defined(__GNUC__)
#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTFLIKE(a, b)
#define NORETURN
#endif

/* log.c: one line per message, "prog: what failed: why", to stderr and to
 * syslog when log_init() was asked to. */
void log_init(const char *prog, int use_syslog, int verbose);
const char *log_prog(void);
void log_warn(const char *fmt, ...) PRINTFLIKE(1, 2);  /* adds strerror(errno) */
void log_warnx(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) PRINTFLIKE(1, 2);  /* stderr only if verbose */
void log_debug(const char *fmt, ...) PRINTFLIKE(1, 2); /* only if verbose > 1 */
void log_syslog(const char *fmt, ...) PRINTFLIKE(1, 2); /* syslog only (when on) */
void fatal(const char *fmt, ...) NORETURN PRINTFLIKE(1, 2);  /* exit 70 + errno */
void fatalx(const char *fmt, ...) NORETURN PRINTFLIKE(1, 2); /* exit 70 */
void die(int status, const char *fmt, ...) NORETURN PRINTFLIKE(2, 3);

/* xmalloc.c: abort the program on out-of-memory. */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) PRINTFLIKE(2, 3);
char *xstrfmt(const char *, ...) PRINTFLIKE(1, 2); /* returns the string */

/*
 * buf.c: the one growable byte buffer, NUL-terminated once anything was
 * added. A plain buffer (max 0, as buf_init or { 0 } make it) ends the
 * program when memory runs out. A bounded one (BUF_BOUNDED(max),
 * buf_init_max) holds at most MAX bytes and never aborts: going past MAX
 * or running out of memory sets err (BUF_TOOBIG, BUF_NOMEM), and from then
 * on every add does nothing and returns -1; buf_steal gives NULL. mime.c,
 * html.c and tmpl.c use bounded buffers for text from outside.
 */
struct buf {
	char *s;
	size_t len, cap;
	size_t max;             /* 0: no bound (and no soft failure) */
	int err;                /* sticky: BUF_NOMEM or BUF_TOOBIG */
};
#define BUF_NOMEM 1
#define BUF_TOOBIG 2
#define BUF_BOUNDED(m) { NULL, 0, 0, (m), 0 }
void buf_init(struct buf *);
void buf_init_max(struct buf *, size_t max);
void buf_free(struct buf *);    /* keeps the bound, clears err */
void buf_wipe(struct buf *);    /* buf_free, the bytes zeroed first */
void buf_reset(struct buf *);
int buf_reserve(struct buf *, size_t more);
int buf_add(struct buf *, const void *, size_t);
int buf_adds(struct buf *, const char *);
int buf_addc(struct buf *, int);
int buf_addf(struct buf *, const char *, ...) PRINTFLIKE(2, 3);
int buf_add_cp(struct buf *, uint32_t cp); /* UTF-8; U+FFFD if not a scalar */
char *buf_steal(struct buf *); /* owned ("" if empty), buffer reset; NULL
                                * after an error */

/* util.c */
char *mask_phone(const char *digits);   /* "4478******56", owned */
int streq_ci(const char *, const char *);
char *str_trim(char *);                 /* in place */
char *str_lower(char *);                /* ASCII, in place */
int path_is_abs(const char *);
char *path_join(const char *dir, const char *file); /* owned */
int read_file(const char *path, size_t max, char **out, size_t *len);
/*
 * Secrets: the *_file keys, verifier.key_file, API keys, staff passwords.
 * Every reader goes through secret_open (or read_secret_file), which
 * refuses, as fetchmail does its rc file, a secret that is not a regular
 * file, that group or others may read, write or run (mode & 077), or that
 * is owned by someone other than the user running us (or root). Each
 * returns 0, or -1 having logged one line "PATH: why" (with the chmod to
 * run) and set errno: EACCES for a mode, an owner or a permission to fix,
 * ENOENT (secret_open alone does not log it), EINVAL, EIO, EFBIG.
 * secret_exit(errno) is then the exit status: EX_NOPERM (77) for EACCES,
 * EX_CONFIG for a missing or unusable file, EX_IOERR.
 */
int secret_fd_check(const char *path, int fd);
/* OFLAGS: extra open(2) flags, e.g. O_NOFOLLOW. *FD: open for reading. */
int secret_open(const char *path, int oflags, int *fd);
/* The first line, without its end of line, owned (at most 4 KiB). */
int read_secret_file(const char *path, char **out);
int secret_exit(int err);
int mkdir_p(const char *path, int mode);
int is_loopback_host(const char *host);
/* SIGTERM/SIGINT set a flag that long loops check between messages. */
void stop_install(void);
int stop_requested(void);              /* the signal number, or 0 */
/*
 * Crash points for tests (in the spirit of isync's -T): STEP("fetch.stored")
 * marks an instant where a crash matters. Only a build with
 * -DTFADESK_TEST_HOOKS (make check-build's tfadesk-hooks) has them:
 * TFADESK_STOP_AT=NAME:N ends the process with _exit(137), as kill -9
 * would, at the Nth passage of step NAME; TFADESK_SIGNAL_AT=NAME:N sends
 * the process SIGTERM there instead (a signal that lands mid-run, however
 * fast the run); TFADESK_PAUSE_AT=NAME:N:MS sleeps MS milliseconds there
 * (a window another process can be made to hit); TFADESK_STOP_AT=list
 * prints the names. The release binary compiles STEP to nothing.
 */
#ifdef TFADESK_TEST_HOOKS
void test_step(const char *);
void test_step_list(void);
#define STEP(name) test_step(name)
#else
#define STEP(name) ((void)0)
#endif
time_t now_time(void);                 /* TFADESK_NOW overrides, for tests */
char *time_iso(time_t);                /* "2026-11-28T13:40:00Z", owned */
/* --since T: a date, a UTC time or an age (30m, 12h, 7d); -1: not one */
int parse_since(const char *, time_t *);

/* config.c: the YAML configuration of DESIGN.md. Every string is owned by
 * the struct; paths are already made absolute (relative to the file). */
/*
 * Config values that select behaviour, parsed once at load (config.c): the
 * code compares enums, never strings. Each enum's order is its key's list
 * of choices in config.c; config_choice() gives the word back for logs.
 */
enum source_type { SOURCE_MAILDIR, SOURCE_IMAP, SOURCE_IMAPS, SOURCE_POP3,
    SOURCE_POP3S };
enum source_tls { TLS_IMPLICIT, TLS_STARTTLS, TLS_NONE };
enum source_after { AFTER_SEEN, AFTER_DELETE, AFTER_MOVE };
enum reply_transport { REPLY_SPOOL, REPLY_SMTP };
enum overwrite_policy { OVERWRITE_REVIEW, OVERWRITE_REJECT };
enum sms_transport { SMS_SPOOL, SMS_HTTP };
enum sms_preset { SMS_KANNEL, SMS_TWILIO, SMS_CUSTOM };
enum sms_method { SMS_GET, SMS_POST };
enum sms_auth { SMS_AUTH_NONE, SMS_AUTH_BASIC, SMS_AUTH_BEARER };

struct config {
	char *file;            /* absolute path of the file read */
	char *dir;             /* its folder */

	char *database;             /* a file (SQLite) or postgresql://... */
	char *database_password_file;   /* PostgreSQL's password */
	char *default_country; /* ISO 3166 alpha-2 */
	char *rules;
	char *numbering;
	char *templates;       /* folder */
	int use_syslog;        /* log.syslog */
	char *metrics_file;    /* log.metrics_file: node-exporter textfile */

	struct {
		enum source_type type;
		char *path;
		char *host;
		long port;     /* 0: the protocol default */
		char *user;
		char *password_file;
		enum source_tls tls;    /* default per type */
		char *ca_file;
		char *mailbox;
		enum source_after after;
		char *after_folder;     /* AFTER_MOVE: move:FOLDER */
		long timeout;  /* seconds */
		long batch;    /* messages per UID FETCH */
		long poll_seconds;  /* watch: full check at least this often */
	} source;

	struct {               /* limits on each incoming message */
		long max_bytes;
		long max_parts;
		long max_depth;
	} limits;

	struct {
		char *from;
		enum reply_transport transport;
		char *spool;
		char *smtp_url;
		char *smtp_user;
		char *smtp_password_file;
		char *ca_file;
		long timeout;
		long max_attempts;    /* then the row is marked failed */
	} reply;

	struct {
		int require_sender_auth;
		char *authserv_id;
	} security;

	struct {
		enum overwrite_policy overwrite_number;
	} policy;

	struct {
		enum sms_transport transport;
		char *spool;
		char *url;
		enum sms_preset preset;
		enum sms_method method;   /* default: GET for kannel, else POST */
		char *body;        /* template: {{to}} {{text}} {{from}} */
		char *content_type;
		enum sms_auth auth;
		char *user;
		char *password_file;
		char *token_file;
		char *from;        /* sender id */
		long *accept_status; size_t n_accept_status;
		long timeout;
	} sms;

	struct {
		char *listen;
		long code_length;
		long ttl_seconds;
		long max_attempts;
		long resend_after_seconds;
		long max_sends_per_hour;
		long max_sends_per_dest_per_hour;
		long *allowed_country_codes; size_t n_allowed_country_codes;
		char *key_file;
		char *database;             /* SQLite: the verifier's own file */
		long threads;
		long max_sms_per_hour;      /* all users together */
		long max_connections_per_address; /* serve, per client IP */
		char *api_keys_file;        /* serve: Authorization: Bearer */
		char *access_log;           /* serve: one line per request */
		int metrics;                /* serve: GET /metrics (default on) */
		char *tls_cert_file;        /* serve: HTTPS */
		char *tls_key_file;
		char *client_ca_file;       /* serve: client certificates */
	} verifier;

	struct {               /* the staff desk (tfadesk desk) */
		char *listen;
		int secure_cookies;
		long session_idle_minutes;
		char **trusted_proxies; size_t n_trusted_proxies;
	} desk;
};

/* serve: connections at once, all clients together (MHD's limit); one
 * address may hold verifier.max_connections_per_address of them. */
#define VERIFIER_MAX_CONNECTIONS 1024

/* Reads FILE, or with FILE NULL the default locations. On any error prints
 * every problem as "file:line: key: why" and returns NULL (callers exit 78). */
struct config *config_load(const char *file);
/* The same from LEN bytes in memory (tests/fuzz): NAME is the file name
 * in messages, relative paths are taken from DIR. */
struct config *config_load_mem(const char *buf, size_t len, const char *name,
    const char *dir);
void config_free(struct config *);
/* tfadesk -n: reads every secret file the mail side will read (the
 * source's password, the SMTP password, PostgreSQL's
 * database_password_file) through read_secret_file. 0, or
 * the exit status of the first problem (each logged). */
char *config_lock_path(const struct config *, const char *suffix);
int config_check_mail_secrets(const struct config *);
/* An SQLite DATABASE's verifier.database when the key is not given:
 * var/tfadesk.db -> var/tfadesk-verify.db (owned) */
char *config_verifier_path(const char *database);
/* The word of an enum key's value V (KEY "source.type": "imaps"), for
 * logs and messages; "?" for a key or value it does not know. */
const char *config_choice(const char *key, int v);
/* Is E164 in verifier.allowed_country_codes (an SMS can reach it)? */
int config_sms_allowed(const struct config *, const char *e164);

#endif
