/*
 * fuzz.h - shared by the libFuzzer harnesses tests/fuzz/fuzz_*.c (make
 * fuzz; tests/fuzz/run.sh). Each harness feeds the bytes to one of our
 * parsers of untrusted input through its real entry point.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The bytes as a C string of its own allocation (ASan sees an overrun). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* TOP/FILE: the source tree is $TOP, else where make built the harness. */
static inline const char *
fuzz_path(const char *file)
{
	static char path[4096];
	const char *top = getenv("TOP");

	snprintf(path, sizeof path, "%s/%s", top && *top ? top : FUZZ_TOP,
	    file);
	return path;
}

/* Splits DATA at the first occurrence of SEP: the part before in *A
 * (length *ALEN), after in *B. Without SEP, all of it goes to *B. */
static inline void
fuzz_split(const uint8_t *data, size_t size, const char *sep,
    const uint8_t **a, size_t *alen, const uint8_t **b, size_t *blen)
{
	size_t sl = strlen(sep);

	for (size_t i = 0; i + sl <= size; i++)
		if (memcmp(data + i, sep, sl) == 0) {
			*a = data;
			*alen = i;
			*b = data + i + sl;
			*blen = size - i - sl;
			return;
		}
	*a = data;
	*alen = 0;
	*b = data;
	*blen = size;
}

#endif
