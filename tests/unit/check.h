/* check.h - the one harness of the unit tests (tests/unit/tst_*.c): CHECK()
 * counts, DONE() reports; no test keeps a copy of its own. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int check_fail __attribute__((unused)), check_count __attribute__((unused));
#define CHECK(cond, ...) do {						\
	check_count++;							\
	if (!(cond)) {							\
		check_fail++;						\
		fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)
/* FAIL: a failure found by code of the test's own (a loop, a table):
 * reported as a failed CHECK is, counted as a failure. */
#define FAIL(...) do {							\
	check_fail++;							\
	fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
} while (0)
/* A table-driven test that reports its own "ok"/"FAIL" lines counts with
 * CHECKED() and CHECK_FAILED(); DONE() gives the totals either way. */
#define CHECKED() (check_count++)
#define CHECK_FAILED() (check_fail++)
#define DONE() ((check_count ?					\
	printf("%d checks, %d failed\n", check_count, check_fail) :	\
	printf("%d failed\n", check_fail)), check_fail ? 1 : 0)
#endif
