/*
 * source.c - the table of mail sources (looked up by source.type, as
 * OpenSMTPD's table.c finds a backend) and what they share: the message
 * hand-over struct, the exit status of a failure, and the certificate check
 * that libetpan leaves to us.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "tfadesk.h"
#include "mail/source.h"

static const struct source_ops *const sources[] = {
	&source_maildir_ops,
	&source_imap_ops,
	&source_pop3_ops,
	NULL
};

/* imaps and pop3s are the same drivers with implicit TLS. */
const struct source_ops *
source_lookup(const char *type)
{
	size_t n;

	if (type == NULL)
		return NULL;
	for (size_t i = 0; sources[i] != NULL; i++) {
		n = strlen(sources[i]->name);
		if (strcmp(type, sources[i]->name) == 0 ||
		    (strncmp(type, sources[i]->name, n) == 0 &&
		    strcmp(type + n, "s") == 0 &&
		    strcmp(sources[i]->name, "maildir") != 0))
			return sources[i];
	}
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
	vd.data = (unsigned char *)host;
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
