/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The OpenSSL server context for the submission ports: TLS 1.2 or newer,
 * certificate and key from PEM files, reloadable without dropping sessions.
 */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL_CTX, SSL_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SSL, SSL_free)

SSL_CTX *op_tls_server_context_new(const char *cert_path, const char *key_path, GError **error);
char *op_tls_dup_openssl_errors(void);

G_END_DECLS
