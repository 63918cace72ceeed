/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Builds the server-side SSL_CTX. Sessions share one context; a reload
 * makes a new context for new sessions while old ones keep theirs.
 */
#include "tls/op-tls.h"

#include "op-error.h"

#include <openssl/err.h>

/* Drains the OpenSSL error queue into one line for a GError message. */
char *
op_tls_dup_openssl_errors(void)
{
	g_autoptr(GString) text = g_string_new(NULL);
	unsigned long code;

	while ((code = ERR_get_error()) != 0) {
		char buffer[256];

		ERR_error_string_n(code, buffer, sizeof buffer);
		if (text->len > 0)
			g_string_append(text, "; ");
		g_string_append(text, buffer);
	}
	if (text->len == 0)
		g_string_append(text, "unknown TLS error");
	return g_string_free(g_steal_pointer(&text), FALSE);
}

SSL_CTX *
op_tls_server_context_new(const char *cert_path, const char *key_path, GError **error)
{
	g_autoptr(SSL_CTX) context = SSL_CTX_new(TLS_server_method());
	g_autofree char *reason = NULL;

	if (context == NULL)
		goto failed;
	/* RFC 8314 §4.1 and RFC 8996: nothing older than TLS 1.2. */
	if (!SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION))
		goto failed;
	SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					     SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Forward-secret AEAD suites only for TLS 1.2; TLS 1.3 suites are all fine. */
	if (!SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:"
					      "!aNULL:!eNULL:!MD5:!SHA1:!DSS"))
		goto failed;
	SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE |
					  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
					  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_use_certificate_chain_file(context, cert_path) != 1) {
		reason = op_tls_dup_openssl_errors();
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "failed to load the TLS certificate %s: %s", cert_path, reason);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(context, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(context) != 1) {
		reason = op_tls_dup_openssl_errors();
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "failed to load the TLS key %s (does it match %s?): %s", key_path,
			    cert_path, reason);
		return NULL;
	}
	return g_steal_pointer(&context);

failed:
	reason = op_tls_dup_openssl_errors();
	g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to set up TLS: %s", reason);
	return NULL;
}
