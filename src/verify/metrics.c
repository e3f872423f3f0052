/*
 * metrics.c - the verifier's counters for GET /metrics, in the Prometheus
 * text exposition format 0.0.4.
 *
 * Process-wide, updated with C11 atomics (relaxed: each is a count on its
 * own, a scrape may see one request's counter a moment before its
 * histogram), never on the database. Labels are fixed words: an endpoint,
 * an outcome, a result. Never a number, a user ID or a code.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tfadesk.h"
#include "verify.h"

static const char *const endpoint_names[M_NENDPOINTS] = {
	[M_START] = "start", [M_CHECK] = "check", [M_HEALTHZ] = "healthz",
	[M_METRICS] = "metrics", [M_OTHER] = "other",
};

/* The outcomes past the decisions (enum voutcome): how a request ended
 * when no decision was made. */
static const char *const extra_names[M_NOUTCOMES - M_OK] = {
	[M_OK - M_OK] = "ok",
	[M_UNAVAILABLE - M_OK] = "unavailable",
	[M_BAD_REQUEST - M_OK] = "bad_request",
	[M_UNAUTHORIZED - M_OK] = "unauthorized",
	[M_NOT_FOUND - M_OK] = "not_found",
	[M_METHOD_NOT_ALLOWED - M_OK] = "method_not_allowed",
	[M_TOO_LARGE - M_OK] = "too_large",
	[M_ABORTED - M_OK] = "aborted",
};

/* upper bounds in microseconds: 1 ms .. 10 s */
static const uint64_t bounds[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

struct histo {
	atomic_uint_fast64_t bucket[NBOUNDS];   /* not cumulative */
	atomic_uint_fast64_t count, sum_us;
};

static atomic_uint_fast64_t requests[M_NENDPOINTS][M_NOUTCOMES];
static struct histo req_latency[M_NENDPOINTS];
static atomic_uint_fast64_t sms_sent, sms_failed, db_errors;
static struct histo sms_latency;
static atomic_int in_flight;
static time_t started;

/* The words of enum voutcome: the API's "outcome" and the metrics'
 * label (here so that metrics.c depends on nothing of the verifier). */
static const char *const outcome_names[] = {
	[V_SENT] = "sent", [V_NOT_REQUIRED] = "not_required",
	[V_BLOCKED] = "blocked", [V_NO_MOBILE] = "no_mobile",
	[V_RATE_LIMITED] = "rate_limited", [V_UNKNOWN_USER] = "unknown_user",
	[V_APPROVED] = "approved", [V_DENIED] = "denied",
	[V_EXPIRED] = "expired", [V_LOCKED] = "locked", [V_ERROR] = "error",
};

const char *
voutcome_name(enum voutcome o)
{
	if ((unsigned)o >= sizeof outcome_names / sizeof outcome_names[0])
		return "error";
	return outcome_names[o];
}

const char *
metrics_outcome_name(int o)
{
	if (o >= 0 && o < M_OK)
		return voutcome_name((enum voutcome)o);
	if (o >= M_OK && o < M_NOUTCOMES)
		return extra_names[o - M_OK];
	return "error";
}

static void
observe(struct histo *h, uint64_t us)
{
	size_t i;

	for (i = 0; i < NBOUNDS && us > bounds[i]; i++)
		;
	if (i < NBOUNDS)
		atomic_fetch_add_explicit(&h->bucket[i], 1,
		    memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
metrics_init(void)
{
	started = time(NULL);
}

void
metrics_request(int endpoint, int outcome, uint64_t us)
{
	if (endpoint < 0 || endpoint >= M_NENDPOINTS)
		endpoint = M_OTHER;
	if (outcome < 0 || outcome >= M_NOUTCOMES)
		outcome = V_ERROR;
	atomic_fetch_add_explicit(&requests[endpoint][outcome], 1,
	    memory_order_relaxed);
	observe(&req_latency[endpoint], us);
}

void
metrics_in_flight(int delta)
{
	atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

void
metrics_sms(int ok, uint64_t us)
{
	atomic_fetch_add_explicit(ok ? &sms_sent : &sms_failed, 1,
	    memory_order_relaxed);
	observe(&sms_latency, us);
}

void
metrics_db_error(void)
{
	atomic_fetch_add_explicit(&db_errors, 1, memory_order_relaxed);
}

uint64_t
metrics_elapsed_us(const struct timespec *since)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - since->tv_sec) * 1000000 +
	    (now.tv_nsec - since->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

static uint64_t
get(atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
histo(struct buf *b, const char *name, const char *label,
    struct histo *h)
{
	uint64_t cum = 0, count, sum;
	const char *sep = label[0] ? "," : "";

	/* the count first: every bucket then stays at or under it */
	count = get(&h->count);
	sum = get(&h->sum_us);
	for (size_t i = 0; i < NBOUNDS; i++) {
		cum += get(&h->bucket[i]);
		if (cum > count)
			cum = count;
		buf_addf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, sep,
		    (double)bounds[i] / 1e6, (unsigned long long)cum);
	}
	buf_addf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep,
	    (unsigned long long)count);
	if (label[0]) {
		buf_addf(b, "%s_sum{%s} %llu.%06llu\n", name, label,
		    (unsigned long long)(sum / 1000000),
		    (unsigned long long)(sum % 1000000));
		buf_addf(b, "%s_count{%s} %llu\n", name, label,
		    (unsigned long long)count);
	} else {
		buf_addf(b, "%s_sum %llu.%06llu\n", name,
		    (unsigned long long)(sum / 1000000),
		    (unsigned long long)(sum % 1000000));
		buf_addf(b, "%s_count %llu\n", name, (unsigned long long)count);
	}
}

/* Is O an answer ENDPOINT gives in normal work? Those series are shown
 * from the start at 0, so that a rate() sees the first one. */
static int
usual(int e, int o)
{
	switch (e) {
	case M_START:
		return o <= V_UNKNOWN_USER || o == V_ERROR;
	case M_CHECK:
		return (o >= V_APPROVED && o <= V_LOCKED) || o == V_ERROR;
	case M_HEALTHZ:
		return o == M_OK || o == M_UNAVAILABLE;
	default:
		return 0;
	}
}

void
metrics_render(struct buf *b)
{
	char label[64];
	uint64_t n;

	head(b, "tfadesk_verify_requests_total", "counter",
	    "HTTP requests answered, by endpoint and outcome.");
	for (int e = 0; e < M_NENDPOINTS; e++)
		for (int o = 0; o < M_NOUTCOMES; o++) {
			n = get(&requests[e][o]);
			if (n == 0 && !usual(e, o))
				continue;
			buf_addf(b, "tfadesk_verify_requests_total{endpoint="
			    "\"%s\",outcome=\"%s\"} %llu\n", endpoint_names[e],
			    metrics_outcome_name(o), (unsigned long long)n);
		}
	head(b, "tfadesk_verify_request_duration_seconds", "histogram",
	    "Time from a request's first byte to its answer, by endpoint.");
	for (int e = 0; e < M_NENDPOINTS; e++) {
		snprintf(label, sizeof label, "endpoint=\"%s\"",
		    endpoint_names[e]);
		histo(b, "tfadesk_verify_request_duration_seconds", label,
		    &req_latency[e]);
	}
	head(b, "tfadesk_verify_requests_in_flight", "gauge",
	    "Requests being read, decided or answered now.");
	buf_addf(b, "tfadesk_verify_requests_in_flight %d\n",
	    atomic_load_explicit(&in_flight, memory_order_relaxed));
	head(b, "tfadesk_verify_sms_sent_total", "counter",
	    "SMS accepted by the gateway (or spooled).");
	buf_addf(b, "tfadesk_verify_sms_sent_total %llu\n",
	    (unsigned long long)get(&sms_sent));
	head(b, "tfadesk_verify_sms_failed_total", "counter",
	    "SMS the gateway refused or did not answer in time.");
	buf_addf(b, "tfadesk_verify_sms_failed_total %llu\n",
	    (unsigned long long)get(&sms_failed));
	head(b, "tfadesk_verify_sms_duration_seconds", "histogram",
	    "Time the SMS gateway (or the spool) took per message.");
	histo(b, "tfadesk_verify_sms_duration_seconds", "", &sms_latency);
	head(b, "tfadesk_verify_database_errors_total", "counter",
	    "Requests answered 503 because the database failed.");
	buf_addf(b, "tfadesk_verify_database_errors_total %llu\n",
	    (unsigned long long)get(&db_errors));
	head(b, "tfadesk_verify_start_time_seconds", "gauge",
	    "When this serve process started (Unix time).");
	buf_addf(b, "tfadesk_verify_start_time_seconds %lld\n",
	    (long long)started);
}
