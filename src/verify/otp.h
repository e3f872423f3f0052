/*
 * otp.h - one-time login codes: random digits, a keyed hash of them, and the
 * key file. Self-contained but for the key file, which goes through the
 * one check of secret files (secret_open in util.c); returns an error
 * instead of aborting, so a unit test can drive it.
 *
 * A code is never stored: only otp_hash(key, user_id, code), a keyed
 * BLAKE2b (crypto_generichash) over the user ID and the code, so that the
 * same code for two users gives unrelated hashes and a stolen database
 * without the key file gives nothing to brute-force offline.
 */
#ifndef OTP_H
#define OTP_H

#include <stddef.h>

#define OTP_KEY_BYTES  32
#define OTP_HASH_BYTES 32
#define OTP_MAX_DIGITS 10

/* Call once before any other otp_ function (sodium_init). -1: failure. */
int otp_init(void);

/* Writes DIGITS (1..OTP_MAX_DIGITS) uniform random decimal digits and a NUL
 * into out (size DIGITS + 1). */
int otp_generate(char *out, size_t digits);

/* hash = keyed hash of user_id and code (both NUL-terminated). */
int otp_hash(const unsigned char key[OTP_KEY_BYTES], const char *user_id,
    const char *code, unsigned char hash[OTP_HASH_BYTES]);

/* Constant-time comparison of two hashes: 1 equal, 0 not. */
int otp_equal(const unsigned char a[OTP_HASH_BYTES],
    const unsigned char b[OTP_HASH_BYTES]);

/*
 * Loads the key from PATH (64 hex digits and a newline), creating it with
 * mode 0600 if it does not exist yet (atomically: two processes starting at
 * once end up with the same key). The key is a secret: read through
 * secret_open (tfadesk.h), which refuses a key file that group or others
 * may access, that another user owns, or a symbolic link. Returns 0, or an
 * exit status (sysexits: 77 a mode or owner to fix, 78, 73) with the reason
 * logged as "PATH: why".
 */
int otp_key_load(const char *path, unsigned char key[OTP_KEY_BYTES]);

#endif
