/* check.h - the smallest test harness: CHECK() counts, DONE() reports. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int check_fail, check_count;
#define CHECK(cond, ...) do {						\
	check_count++;							\
	if (!(cond)) {							\
		check_fail++;						\
		fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)
#define DONE() (printf("%d checks, %d failed\n", check_count, check_fail), \
	check_fail ? 1 : 0)
#endif
