/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Self-signed server certificates, made on first start when the admin has not
 * configured a certificate, and a reader for the facts the admin app shows.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Does nothing if cert_path and key_path both exist. Otherwise generates an ECDSA
 * P-256 key and a self-signed serverAuth certificate for hostname, valid for 825
 * days, and writes both files atomically, the key with mode 0600. The
 * SubjectAltName is DNS:hostname, plus IP:127.0.0.1 and IP:::1 for "localhost".
 * Only for files Outpost owns: an existing file at one of the paths is replaced. */
gboolean op_tls_cert_ensure_self_signed(const char *cert_path, const char *key_path,
					const char *hostname, GError **error);

typedef struct {
	char *subject;     /* the subject common name, or the RFC 2253 subject without a CN */
	char **dns_names;  /* DNS names of the SubjectAltName, NULL-terminated */
	gint64 not_after;  /* expiry, seconds since the Unix epoch */
} OpTlsCertInfo;

/* Reads the first certificate of the PEM file at cert_path into info. */
gboolean op_tls_cert_read_info(const char *cert_path, OpTlsCertInfo *info, GError **error);
void op_tls_cert_info_clear(OpTlsCertInfo *info);

/* Verifies the certificate chain in the PEM file at cert_path against the
 * system's trust store (or SSL_CERT_FILE and SSL_CERT_DIR), for hostname and
 * the present time, and sets *days_left until it expires. A self-signed or
 * unchained certificate fails with OP_ERROR_TEMPORARY, an expired one or one
 * for another name with OP_ERROR_PERMANENT; the message completes "the
 * certificate ...". */
gboolean op_tls_cert_check(const char *cert_path, const char *hostname, gint64 *days_left,
			   GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpTlsCertInfo, op_tls_cert_info_clear)

G_END_DECLS
