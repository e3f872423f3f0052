/* tst_otp.c - one-time codes (src/verify/otp.c): digits and their spread,
 * the keyed hash, and the key file (created 0600, reused, refused when
 * others may read it, when it is a symlink or when it is not a key); the
 * user IDs the verifier accepts (verifier.c). */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "check.h"
#include "verify/otp.h"
#include "verify/verify.h"

static void
test_generate(void)
{
	char code[OTP_MAX_DIGITS + 1];
	int seen[10] = { 0 };

	CHECK(otp_generate(code, 0) == -1, "0 digits refused");
	CHECK(otp_generate(code, OTP_MAX_DIGITS + 1) == -1, "11 refused");
	for (size_t len = 1; len <= OTP_MAX_DIGITS; len++) {
		CHECK(otp_generate(code, len) == 0, "generate %zu", len);
		CHECK(strlen(code) == len, "length %zu: %s", len, code);
		CHECK(strspn(code, "0123456789") == len, "digits: %s", code);
	}
	for (int i = 0; i < 2000; i++) {
		otp_generate(code, 6);
		for (int k = 0; k < 6; k++)
			seen[code[k] - '0']++;
	}
	/* 12,000 digits: each of 10 values ~1,200; a broken generator
	 * (always 0, modulo bias from bytes) would be far off */
	for (int d = 0; d < 10; d++)
		CHECK(seen[d] > 1000 && seen[d] < 1400, "digit %d seen %d", d,
		    seen[d]);
}

static void
test_hash(void)
{
	unsigned char k1[OTP_KEY_BYTES], k2[OTP_KEY_BYTES];
	unsigned char a[OTP_HASH_BYTES], b[OTP_HASH_BYTES];

	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	otp_hash(k1, "U1", "123456", a);
	otp_hash(k1, "U1", "123456", b);
	CHECK(otp_equal(a, b), "same input, same hash");
	otp_hash(k1, "U1", "123457", b);
	CHECK(!otp_equal(a, b), "another code");
	otp_hash(k1, "U2", "123456", b);
	CHECK(!otp_equal(a, b), "another user");
	otp_hash(k2, "U1", "123456", b);
	CHECK(!otp_equal(a, b), "another key");
	otp_hash(k1, "U12", "3456", a);
	otp_hash(k1, "U1", "23456", b);
	CHECK(!otp_equal(a, b), "user/code boundary is kept");
	CHECK(memmem(a, sizeof a, "3456", 4) == NULL, "no code in the hash");
}

/* otp_key_load with stderr (where it logs why) caught in ERR. */
static int
key_load(const char *path, unsigned char *key, char *err, size_t len)
{
	char tmpl[] = "/tmp/tst_otp_err.XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO), rc;
	ssize_t n;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	rc = otp_key_load(path, key);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, err, len - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmpl);
	return rc;
}

static void
test_key(void)
{
	char dir[] = "/tmp/tst_otp.XXXXXX", path[256], text[200], err[1024];
	unsigned char k1[OTP_KEY_BYTES], k2[OTP_KEY_BYTES];
	struct stat sb;
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/verifier.key", dir);
	umask(022);
	CHECK(key_load(path, k1, err, sizeof err) == 0, "created: %s", err);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "mode 0600 (%o)", (unsigned)(sb.st_mode & 0777));
	CHECK(key_load(path, k2, err, sizeof err) == 0, "reloaded: %s", err);
	CHECK(memcmp(k1, k2, sizeof k1) == 0, "same key on reload");

	chmod(path, 0640);
	CHECK(key_load(path, k2, err, sizeof err) == EX_NOPERM,
	    "0640 refused with 77");
	CHECK(strstr(err, "readable by group or others (mode 0640): run "
	    "chmod 600 ") != NULL && strstr(err, path) != NULL,
	    "names the file and says how to fix it: %s", err);
	chmod(path, 0620);
	CHECK(key_load(path, k2, err, sizeof err) == EX_NOPERM,
	    "0620 refused with 77: %s", err);
	chmod(path, 0600);

	fd = open(path, O_WRONLY | O_TRUNC);
	if (write(fd, "abc\n", 4) != 4)
		CHECK(0, "write");
	close(fd);
	CHECK(key_load(path, k2, err, sizeof err) == EX_CONFIG,
	    "short key refused");
	fd = open(path, O_WRONLY | O_TRUNC);
	memset(text, 'g', 64);
	text[64] = '\n';
	if (write(fd, text, 65) != 65)
		CHECK(0, "write");
	close(fd);
	CHECK(key_load(path, k2, err, sizeof err) == EX_CONFIG,
	    "non-hex key refused");
	unlink(path);

	/* a symlink in place of the key is not followed */
	snprintf(text, sizeof text, "%s/real.key", dir);
	CHECK(key_load(text, k1, err, sizeof err) == 0, "target key created");
	CHECK(symlink(text, path) == 0, "symlink");
	CHECK(key_load(path, k2, err, sizeof err) != 0,
	    "symlinked key refused");
	unlink(path);
	unlink(text);

	snprintf(path, sizeof path, "%s/no/such/dir/verifier.key", dir);
	CHECK(key_load(path, k2, err, sizeof err) != 0,
	    "missing folder refused");
	rmdir(dir);
}

static void
test_user_id(void)
{
	static const char *const good[] = {
		"U1001", "U\xc3\xa9", "\xe2\x82\xac" "1", "\xf0\x9f\x98\x80",
		"a!~", NULL
	};
	static const char *const bad[] = {
		"", "U 1", "U\t1", "U\x7f", "U\xc2\x85",   /* NEL, a C1 control */
		"U\xff", "U\xc3", "U\xc0\xaf",              /* truncated, overlong */
		"U\xe0\x80\xaf", "U\xed\xa0\x80",          /* overlong, surrogate */
		"U\xf4\x90\x80\x80",                      /* beyond U+10FFFF */
		"U\xe2\x80\xae", "U\xe2\x81\xa6",          /* RLO, LRI */
		"U\xe2\x80\xa8", "U\xe2\x80\xa9",         /* LS, PS */
		"U\xd8\x9c", "U\xe2\x80\x8e",           /* ALM, LRM */
		"U\xe2\x80\x8f", NULL                    /* RLM */
	};
	char id[200];

	for (int i = 0; good[i]; i++)
		CHECK(verifier_valid_user_id(good[i]), "good id %d", i);
	for (int i = 0; bad[i]; i++)
		CHECK(!verifier_valid_user_id(bad[i]), "bad id %d", i);
	memset(id, 'x', 128);
	id[128] = '\0';
	CHECK(verifier_valid_user_id(id), "128 bytes");
	id[128] = 'x';
	id[129] = '\0';
	CHECK(!verifier_valid_user_id(id), "129 bytes");
	CHECK(verifier_valid_code("") && verifier_valid_code("000000"),
	    "short codes are codes");
	memset(id, '1', 33);
	id[33] = '\0';
	CHECK(!verifier_valid_code(id), "33-byte code refused");
}

int
main(void)
{
	if (otp_init() == -1) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	test_generate();
	test_hash();
	test_key();
	test_user_id();
	return DONE();
}
