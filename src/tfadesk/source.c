/*
 * source.c - the table of mail sources (looked up by source.type, as
 * OpenSMTPD's table.c finds a backend) and what they share: the message
 * hand-over struct, the exit status of a failure, and the certificate check
 * that libetpan leaves to us.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "tfadesk.h"
#include "tfadesk/source.h"

static const struct source_ops *const sources[] = {
	&source_maildir_ops,
	&source_imap_ops,
	&source_pop3_ops,
	NULL
};

/* imaps and pop3s are the same drivers with implicit TLS. */
const struct source_ops *
source_lookup(enum source_type type)
{
	for (size_t i = 0; sources[i] != NULL; i++)
		if (sources[i]->type == type ||
		    (sources[i]->type == SOURCE_IMAP && type == SOURCE_IMAPS) ||
		    (sources[i]->type == SOURCE_POP3 && type == SOURCE_POP3S))
			return sources[i];
	return NULL;
}

void
source_msg_clear(struct source_msg *m)
{
	if (m == NULL)
		return;
	free(m->key);
	free(m->raw);
	free(m->priv);
	memset(m, 0, sizeof *m);
}

int
source_exit(int src)
{
	switch (src) {
	case SRC_OK:
	case SRC_EOF:
	case SRC_MSG_BAD:
		return EX_OK;
	case SRC_TEMP:
		return EX_TEMPFAIL;
	case SRC_CONFIG:
		return EX_CONFIG;
	case SRC_NOPERM:
		return EX_NOPERM;
	case SRC_REFUSED:
	case SRC_BOX_BAD:
	default:
		return EX_UNAVAILABLE;
	}
}

/*
 * Debian's libetpan is built with GnuTLS and checks nothing about the peer:
 * after the handshake we take the chain it saw and verify it (chain to a
 * trusted anchor, validity, and the host name) with a GnuTLS trust list.
 */
int
source_tls_verify(void *stream, const char *ca_file, const char *host)
{
	carray *chain = mailstream_get_certificate_chain(stream);
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vd;
	gnutls_datum_t out;
	unsigned n = 0, i, status = 0;
	int r, rc = -1;

	if (chain == NULL || (n = carray_count(chain)) == 0) {
		log_warnx("source: %s: TLS: the server sent no certificate",
		    host);
		goto done;
	}
	crts = xcalloc(n, sizeof *crts);
	for (i = 0; i < n; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str,
		    (unsigned)der->len };
		if (gnutls_x509_crt_init(&crts[i]) < 0 ||
		    gnutls_x509_crt_import(crts[i], &d,
		    GNUTLS_X509_FMT_DER) < 0) {
			log_warnx("source: %s: TLS: unreadable certificate "
			    "from the server", host);
			goto done;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		tl = NULL;
		goto done;
	}
	if (ca_file)
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		log_warnx("source: %s: TLS: no trusted certificates in %s%s%s",
		    host, ca_file ? ca_file : "the system store",
		    r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		goto done;
	}
	vd.type = GNUTLS_DT_DNS_HOSTNAME;
	vd.data = UNCONST(host);
	vd.size = 0;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, &vd, 1, 0,
	    &status, NULL);
	if (r < 0) {
		log_warnx("source: %s: TLS: certificate check failed: %s",
		    host, gnutls_strerror(r));
		goto done;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			log_warnx("source: %s: TLS: certificate refused "
			    "(CA %s): %s", host, ca_file ? ca_file : "system",
			    out.data);
			gnutls_free(out.data);
		} else
			log_warnx("source: %s: TLS: certificate refused", host);
		goto done;
	}
	rc = 0;
done:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; crts && i < n; i++)
		if (crts[i])
			gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return rc;
}

/* libetpan's TLS callback: SNI carries names only, never address literals
 * (RFC 6066). */
void
source_tls_sni(struct mailstream_ssl_context *ctx, void *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) != 1 &&
	    inet_pton(AF_INET6, host, &a6) != 1)
		mailstream_ssl_set_server_name(ctx, host);
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
tls_begin(struct tls_step *t)
{
	FILE *f;

	memset(t, 0, sizeof *t);
	t->saved_fd = t->cap_fd = -1;
	t->t0 = mono_now();
	fflush(stderr);
	if ((f = tmpfile()) == NULL)
		return;
	t->cap_fd = dup(fileno(f));
	fclose(f);
	if (t->cap_fd == -1)
		return;
	t->saved_fd = dup(STDERR_FILENO);
	if (t->saved_fd == -1 || dup2(t->cap_fd, STDERR_FILENO) == -1) {
		if (t->saved_fd != -1)
			close(t->saved_fd);
		close(t->cap_fd);
		t->saved_fd = t->cap_fd = -1;
	}
}

void
tls_end(struct tls_step *t)
{
	char buf[512];
	ssize_t n;

	t->elapsed = mono_now() - t->t0;
	if (t->saved_fd == -1)
		return;
	fflush(stderr);
	dup2(t->saved_fd, STDERR_FILENO);
	close(t->saved_fd);
	t->saved_fd = -1;
	n = pread(t->cap_fd, buf, sizeof buf - 1, 0);
	close(t->cap_fd);
	t->cap_fd = -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* one line of ours: the library's lines joined, its prefix dropped */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = p[1] ? ';' : '\0';
	free(t->said);
	t->said = xstrdup(strncmp(buf, "GnuTLS error: ", 14) == 0 ?
	    buf + 14 : buf);
}

int
tls_failed(struct tls_step *t, const char *where, const char *what,
    long timeout)
{
	int timed_out = t->elapsed + 0.25 >= (double)timeout ||
	    (t->said && strstr(t->said, "timed out"));

	if (timed_out)
		log_warnx("source: %s: %s: TLS handshake timed out after %.0f "
		    "s", where, what, t->elapsed);
	else
		log_warnx("source: %s: %s: TLS handshake failed%s%s", where,
		    what, t->said ? ": " : "", t->said ? t->said : "");
	free(t->said);
	t->said = NULL;
	return timed_out ? SRC_TEMP : SRC_REFUSED;
}

int
source_fault(enum source_fault f, const char *where, const char *what,
    int code, const char *resp, struct tls_step *tls, long timeout,
    int *broken)
{
	const char *sep = resp && *resp ? ": " : "";

	if (resp == NULL)
		resp = "";
	switch (f) {
	case FAULT_CONNECTION:
		log_warnx("source: %s: %s: connection failed or timed out",
		    where, what);
		*broken = 1;
		return SRC_TEMP;
	case FAULT_TLS:
		if (tls_failed(tls, where, what, timeout) == SRC_REFUSED)
			return SRC_REFUSED;
		*broken = 1;
		return SRC_TEMP;
	case FAULT_LOGIN:
		log_warnx("source: %s: login refused%s%s", where, sep, resp);
		return SRC_REFUSED;
	case FAULT_STARTTLS:
		log_warnx("source: %s: %s refused by the server%s%s", where, what,
		    sep, resp);
		return SRC_REFUSED;
	case FAULT_UNREADABLE:
		log_warnx("source: %s: %s: unreadable answer from the server",
		    where, what);
		*broken = 1;
		return SRC_TEMP;
	case FAULT_OTHER:
		break;
	}
	log_warnx("source: %s: %s failed (libetpan %d)%s%s", where, what, code,
	    sep, resp);
	return SRC_BOX_BAD;
}
