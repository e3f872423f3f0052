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

#include "otp.h"

static int key_read(const char *, unsigned char *, const char **);
static int key_create(const char *, const char **);

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

/* Reads and checks an existing key file. 1: it does not exist. */
static int
key_read(const char *path, unsigned char *key, const char **why)
{
	char text[160];
	struct stat sb;
	ssize_t n;
	size_t klen;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		*why = "cannot open";
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		*why = "cannot stat";
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		*why = "not a regular file";
		errno = 0;
		goto fail;
	}
	if (sb.st_mode & 077) {
		*why = "group or others may access it (chmod 600)";
		errno = 0;
		goto fail;
	}
	n = read(fd, text, sizeof text - 1);
	if (n < 0) {
		*why = "cannot read";
		goto fail;
	}
	close(fd);
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	if (strlen(text) != 2 * OTP_KEY_BYTES ||
	    sodium_hex2bin(key, OTP_KEY_BYTES, text, strlen(text), NULL, &klen,
	    NULL) != 0 || klen != OTP_KEY_BYTES) {
		sodium_memzero(text, sizeof text);
		*why = "not 64 hexadecimal digits";
		errno = 0;
		return -1;
	}
	sodium_memzero(text, sizeof text);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Creates a new key file: write a temporary file 0600, then link() it into
 * place, which fails if another process got there first (then its key is
 * used). 0: created or already there. */
static int
key_create(const char *path, const char **why)
{
	unsigned char key[OTP_KEY_BYTES];
	char hex[2 * OTP_KEY_BYTES + 2], tmp[4096];
	size_t len;
	int fd, rc = -1, e;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.new.%ld.%08x", path,
	    (long)getpid(), (unsigned)randombytes_random()) >= sizeof tmp) {
		*why = "path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	sodium_memzero(key, sizeof key);
	len = strlen(hex);
	hex[len++] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		*why = "cannot create";
		goto out;
	}
	if (fchmod(fd, 0600) == -1 || write(fd, hex, len) != (ssize_t)len ||
	    fsync(fd) == -1) {
		*why = "cannot write";
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto out;
	}
	close(fd);
	if (link(tmp, path) == -1 && errno != EEXIST) {
		*why = "cannot create";
		e = errno;
		unlink(tmp);
		errno = e;
		goto out;
	}
	unlink(tmp);
	rc = 0;
out:
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int
otp_key_load(const char *path, unsigned char key[OTP_KEY_BYTES],
    const char **why)
{
	int rc;

	*why = "";
	if ((rc = key_read(path, key, why)) != 1)
		return rc;
	if (key_create(path, why) == -1)
		return -1;
	rc = key_read(path, key, why);
	if (rc == 1) {
		*why = "vanished after creation";
		errno = ENOENT;
		return -1;
	}
	return rc;
}
