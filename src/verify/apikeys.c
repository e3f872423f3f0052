/*
 * apikeys.c - the portal's API keys (verifier.api_keys_file) and
 * tfadesk-verify key add|list|revoke.
 *
 * A key is "tfv1_" and 32 random bytes in unpadded base64url (48
 * characters); it is printed once by key add and never stored. The file
 * holds one line per key, "NAME CREATED HASH": CREATED in Unix seconds,
 * HASH the BLAKE2b-256 of the key keyed with a fixed label (hex). A key
 * has 256 random bits, so a fast hash is enough (no password stretching:
 * nothing to guess), and a request costs one hash and one constant-time
 * comparison per key. The file is a secret all the same (secret_open:
 * 0600 or 0400, owned by the service user or root, not a link).
 */
#include <sys/file.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "maildir.h"
#include "verify.h"

#define KEY_PREFIX    "tfv1_"
#define KEY_RAW       32
#define HASH_BYTES    32
#define MAX_NAME      64
#define MAX_FILE      (1024 * 1024)
#define MAX_TOKEN     256

static const unsigned char label[] = "tfadesk-verify api key v1";

struct apikey {
	char name[MAX_NAME + 1];
	long long created;
	unsigned char hash[HASH_BYTES];
};

struct apikeys {
	struct apikey *k;
	size_t n;
};

static void
key_hash(const char *token, unsigned char out[HASH_BYTES])
{
	crypto_generichash(out, HASH_BYTES, (const unsigned char *)token,
	    strlen(token), label, sizeof label - 1);
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* Parses TEXT (NUL-terminated) into K; -1 and a logged line number. */
static int
parse(const char *path, char *text, struct apikeys *K)
{
	char *line, *next, *name, *created, *hex, *end, *save;
	size_t hlen;
	int lineno = 0;

	for (line = text; line && *line; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = strtok_r(line, " ", &save);
		created = strtok_r(NULL, " ", &save);
		hex = strtok_r(NULL, " ", &save);
		if (name == NULL || created == NULL || hex == NULL ||
		    strtok_r(NULL, " ", &save) != NULL || !valid_name(name))
			goto bad;
		K->k = xreallocarray(K->k, K->n + 1, sizeof *K->k);
		snprintf(K->k[K->n].name, sizeof K->k[K->n].name, "%s", name);
		errno = 0;
		K->k[K->n].created = strtoll(created, &end, 10);
		if (errno || *end != '\0' || end == created)
			goto bad;
		if (strlen(hex) != 2 * HASH_BYTES ||
		    sodium_hex2bin(K->k[K->n].hash, HASH_BYTES, hex,
		    strlen(hex), NULL, &hlen, NULL) != 0 || hlen != HASH_BYTES)
			goto bad;
		for (size_t i = 0; i < K->n; i++)
			if (strcmp(K->k[i].name, name) == 0) {
				log_warnx("%s: line %d: key %s twice", path,
				    lineno, name);
				return -1;
			}
		K->n++;
	}
	return 0;
bad:
	log_warnx("%s: line %d: not \"NAME CREATED HASH\" (written by "
	    "tfadesk-verify key add)", path, lineno);
	return -1;
}

/* Reads PATH into *TEXT: 0, or -1 with errno (ENOENT said by the caller;
 * other reasons logged). */
static int
read_keys(const char *path, char **text)
{
	struct buf b;
	char chunk[4096];
	ssize_t r;
	int fd, e;

	*text = NULL;
	if (secret_open(path, O_NOFOLLOW, &fd) == -1)
		return -1;
	buf_init(&b);
	buf_add(&b, "", 0);
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > MAX_FILE) {
			log_warnx("%s: over %d bytes", path, MAX_FILE);
			close(fd);
			buf_free(&b);
			errno = EFBIG;
			return -1;
		}
		buf_add(&b, chunk, (size_t)r);
	}
	e = errno;
	close(fd);
	if (r == -1) {
		errno = e;
		log_warn("%s", path);
		buf_free(&b);
		errno = EIO;
		return -1;
	}
	if (memchr(b.s, '\0', b.len)) {
		log_warnx("%s: contains NUL", path);
		buf_free(&b);
		errno = EINVAL;
		return -1;
	}
	*text = buf_steal(&b);
	return 0;
}

struct apikeys *
apikeys_load(const char *path, int *ex)
{
	struct apikeys *K;
	char *text;

	*ex = EX_CONFIG;
	if (read_keys(path, &text) == -1) {
		if (errno == ENOENT)
			log_warnx("verifier.api_keys_file %s: does not exist "
			    "(tfadesk-verify key add NAME creates it)", path);
		else
			*ex = secret_exit(errno);
		return NULL;
	}
	K = xcalloc(1, sizeof *K);
	if (parse(path, text, K) == -1) {
		free(text);
		apikeys_free(K);
		return NULL;
	}
	free(text);
	*ex = 0;
	return K;
}

void
apikeys_free(struct apikeys *K)
{
	if (K == NULL)
		return;
	sodium_memzero(K->k, K->n * sizeof *K->k);
	free(K->k);
	free(K);
}

size_t
apikeys_count(const struct apikeys *K)
{
	return K ? K->n : 0;
}

const char *
apikeys_match(const struct apikeys *K, const char *token)
{
	unsigned char h[HASH_BYTES];
	const char *found = NULL;

	if (K == NULL || token == NULL || strlen(token) > MAX_TOKEN)
		return NULL;
	key_hash(token, h);
	/* every key compared, whichever matches */
	for (size_t i = 0; i < K->n; i++)
		if (sodium_memcmp(h, K->k[i].hash, HASH_BYTES) == 0)
			found = K->k[i].name;
	sodium_memzero(h, sizeof h);
	return found;
}

/* The file's text for K. */
static void
render(const struct apikeys *K, struct buf *b)
{
	char hex[2 * HASH_BYTES + 1];

	buf_adds(b, "# tfadesk-verify API keys: NAME CREATED HASH, one a "
	    "line (tfadesk-verify key add|list|revoke)\n");
	for (size_t i = 0; i < K->n; i++) {
		sodium_bin2hex(hex, sizeof hex, K->k[i].hash, HASH_BYTES);
		buf_addf(b, "%s %lld %s\n", K->k[i].name, K->k[i].created, hex);
	}
}

int
apikeys_cmd(const char *path, const char *cmd, const char *name)
{
	struct apikeys *K = NULL;
	unsigned char raw[KEY_RAW];
	char token[sizeof KEY_PREFIX + 64], *lockpath, *text = NULL;
	struct buf b;
	size_t i;
	int lfd, rc = 0, missing = 0;

	if (sodium_init() < 0)
		die(EX_SOFTWARE, "libsodium: cannot initialise");
	if (name && !valid_name(name))
		die(EX_DATAERR, "key %s: NAME must be 1 to %d letters, digits, "
		    "dots, dashes or underscores", cmd, MAX_NAME);
	/* key add and revoke rewrite the file: one at a time */
	lockpath = xstrfmt("%s.lock", path);
	if ((lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		log_warn("key %s: lock %s", cmd, lockpath);
		free(lockpath);
		if (lfd != -1)
			close(lfd);
		return EX_CANTCREAT;
	}
	free(lockpath);
	if (read_keys(path, &text) == -1) {
		if (errno != ENOENT) {
			rc = secret_exit(errno);
			goto out;
		}
		missing = 1;
		text = xstrdup("");
	}
	K = xcalloc(1, sizeof *K);
	if (parse(path, text, K) == -1) {
		rc = EX_CONFIG;
		goto out;
	}
	if (strcmp(cmd, "list") == 0) {
		if (missing)
			log_warnx("key list: %s: no keys yet", path);
		for (i = 0; i < K->n; i++) {
			char *at = time_iso((time_t)K->k[i].created);
			printf("%s\t%s\n", K->k[i].name, at);
			free(at);
		}
		goto out;
	}
	for (i = 0; i < K->n; i++)
		if (strcmp(K->k[i].name, name) == 0)
			break;
	if (strcmp(cmd, "add") == 0) {
		if (i < K->n) {
			log_warnx("key add: %s: a key of that name exists "
			    "(revoke it first)", name);
			rc = EX_DATAERR;
			goto out;
		}
		randombytes_buf(raw, sizeof raw);
		memcpy(token, KEY_PREFIX, sizeof KEY_PREFIX - 1);
		sodium_bin2base64(token + sizeof KEY_PREFIX - 1,
		    sizeof token - (sizeof KEY_PREFIX - 1), raw, sizeof raw,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(raw, sizeof raw);
		K->k = xreallocarray(K->k, K->n + 1, sizeof *K->k);
		snprintf(K->k[K->n].name, sizeof K->k[K->n].name, "%s", name);
		K->k[K->n].created = (long long)now_time();
		key_hash(token, K->k[K->n].hash);
		K->n++;
	} else {
		if (i == K->n) {
			log_warnx("key revoke: %s: no key of that name", name);
			rc = EX_DATAERR;
			goto out;
		}
		memmove(&K->k[i], &K->k[i + 1], (K->n - i - 1) * sizeof *K->k);
		K->n--;
	}
	buf_init(&b);
	render(K, &b);
	if (write_file_atomic(path, b.s, b.len, 0600) == -1) {
		log_warn("key %s: %s", cmd, path);
		rc = EX_CANTCREAT;
	}
	buf_free(&b);
	if (rc == 0 && strcmp(cmd, "add") == 0) {
		puts(token);
		fflush(stdout);
		fprintf(stderr, "%s: key add: %s: the key above is shown "
		    "once; a running serve takes it within a second\n",
		    log_prog(), name);
	}
	sodium_memzero(token, sizeof token);
out:
	free(text);
	apikeys_free(K);
	close(lfd);
	return rc;
}
