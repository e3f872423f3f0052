/*
 * otp.c - one-time codes and their keyed hash (see otp.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tfadesk.h"
#include "otp.h"

static int key_read(const char *, unsigned char *);
static int key_create(const char *);

int
otp_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
otp_generate(char *out, size_t digits)
{
	if (digits < 1 || digits > OTP_MAX_DIGITS)
		return -1;
	for (size_t i = 0; i < digits; i++)
		out[i] = (char)('0' + randombytes_uniform(10));
	out[digits] = '\0';
	return 0;
}

int
otp_hash(const unsigned char key[OTP_KEY_BYTES], const char *user_id,
    const char *code, unsigned char hash[OTP_HASH_BYTES])
{
	crypto_generichash_state st;

	/* The NUL after the user ID keeps ("U1","23") apart from ("U12","3"). */
	if (crypto_generichash_init(&st, key, OTP_KEY_BYTES,
	    OTP_HASH_BYTES) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)user_id,
	    strlen(user_id) + 1) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)code,
	    strlen(code)) != 0 ||
	    crypto_generichash_final(&st, hash, OTP_HASH_BYTES) != 0)
		return -1;
	sodium_memzero(&st, sizeof st);
	return 0;
}

int
otp_equal(const unsigned char a[OTP_HASH_BYTES],
    const unsigned char b[OTP_HASH_BYTES])
{
	return sodium_memcmp(a, b, OTP_HASH_BYTES) == 0;
}

/* Reads and checks an existing key file (secret_open: mode, owner, not a
 * symlink). 0, -1: it does not exist, or an exit status (logged). */
static int
key_read(const char *path, unsigned char *key)
{
	char text[160];
	ssize_t n;
	size_t klen;
	int fd;

	if (secret_open(path, O_NOFOLLOW, &fd) == -1)
		return errno == ENOENT ? -1 : secret_exit(errno);
	n = read(fd, text, sizeof text - 1);
	if (n < 0) {
		log_warn("%s", path);
		close(fd);
		return EX_IOERR;
	}
	close(fd);
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	if (strlen(text) != 2 * OTP_KEY_BYTES ||
	    sodium_hex2bin(key, OTP_KEY_BYTES, text, strlen(text), NULL, &klen,
	    NULL) != 0 || klen != OTP_KEY_BYTES) {
		sodium_memzero(text, sizeof text);
		log_warnx("%s: not a key (64 hexadecimal digits)", path);
		return EX_CONFIG;
	}
	sodium_memzero(text, sizeof text);
	return 0;
}

/* Creates a new key file: write a temporary file 0600, then link() it into
 * place, which fails if another process got there first (then its key is
 * used). 0: created or already there; or an exit status (logged). */
static int
key_create(const char *path)
{
	unsigned char key[OTP_KEY_BYTES];
	char hex[2 * OTP_KEY_BYTES + 2], tmp[4096];
	size_t len;
	int fd, rc = EX_CANTCREAT;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.new.%ld.%08x", path,
	    (long)getpid(), (unsigned)randombytes_random()) >= sizeof tmp) {
		log_warnx("%s: path too long", path);
		return EX_CANTCREAT;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	sodium_memzero(key, sizeof key);
	len = strlen(hex);
	hex[len++] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		log_warn("%s: cannot create", path);
		goto out;
	}
	if (fchmod(fd, 0600) == -1 || write(fd, hex, len) != (ssize_t)len ||
	    fsync(fd) == -1) {
		log_warn("%s: cannot write", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (link(tmp, path) == -1 && errno != EEXIST) {
		log_warn("%s: cannot create", path);
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	rc = 0;
out:
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int
otp_key_load(const char *path, unsigned char key[OTP_KEY_BYTES])
{
	int rc;

	if ((rc = key_read(path, key)) != -1)
		return rc;
	if ((rc = key_create(path)) != 0)
		return rc;
	if ((rc = key_read(path, key)) == -1) {
		log_warnx("%s: vanished after creation", path);
		return EX_CANTCREAT;
	}
	return rc;
}
