/*
 * mhd_floor.c - the floor of the verifier benchmark: a bare libmicrohttpd
 * server, configured as tfadesk-verify serve is (internal threads, a pool,
 * epoll), that reads each POST body and answers a fixed JSON outcome.
 * Whatever the verifier spends beyond it is ours.
 *
 *   mhd_floor PORT [THREADS]
 *
 * Bench code only: not installed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char answer[] = "{\"outcome\": \"denied\"}\n";

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	static int marker;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls; (void)url; (void)method; (void)version; (void)data;
	if (*ctx == NULL) {
		*ctx = &marker;
		return MHD_YES;
	}
	if (*size != 0) {           /* a body chunk: consume it */
		*size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof answer - 1,
	    (void *)answer, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	sigset_t set;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: mhd_floor PORT [THREADS]\n");
		return 64;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)atoi(argv[1]), NULL, NULL, handler, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, 15u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd_floor: cannot listen on %s\n", argv[1]);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
