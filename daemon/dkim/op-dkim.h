/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DKIM keys and signatures (RFC 6376, RFC 8463): key generation with OpenSSL,
 * the public-key TXT record, and relaxed/relaxed signing through libopendkim.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OP_DKIM_RSA_SHA256,
	OP_DKIM_ED25519_SHA256,
} OpDkimAlgorithm;

/* Generates an RSA-2048 or Ed25519 key and writes it as PKCS#8 PEM to path with
 * mode 0600. The file is created atomically (temporary file, fsync, rename, fsync of
 * the directory). Fails with OP_ERROR_EXISTS if path exists. */
gboolean op_dkim_generate_key(const char *path, OpDkimAlgorithm algorithm, GError **error);

/* Returns the TXT record value for the public part of the key at key_path:
 * "v=DKIM1; k=rsa; p=..." or "v=DKIM1; k=ed25519; p=..." (RFC 6376 §3.6.1,
 * RFC 8463 §4). The algorithm is taken from the key. */
char *op_dkim_dup_public_txt(const char *key_path, GError **error);

/* Reads the algorithm of the PEM private key text. */
gboolean op_dkim_detect_algorithm(const char *key_pem, OpDkimAlgorithm *algorithm,
				  GError **error);

/* One libopendkim library handle per process. op_dkim_sign() may be called from
 * several threads at once: each call uses its own per-message handle. */
typedef struct _OpDkimSigner OpDkimSigner;

OpDkimSigner *op_dkim_signer_new(GError **error);
void op_dkim_signer_free(OpDkimSigner *signer);

/* Signs message (CRLF line endings, header, empty line, body, as it will be sent and
 * not dot-stuffed) for domain and selector with the PEM private key text.
 * Returns the complete "DKIM-Signature: ...\r\n" header field, folded, to prepend to
 * the message. The signature uses relaxed/relaxed canonicalization, sha256, no l=
 * tag, and oversigns From, To, Subject, Date and Message-ID. A key that does not
 * match algorithm, or a message without a From: header, fails with
 * OP_ERROR_INVALID_ARGUMENT. */
char *op_dkim_sign(OpDkimSigner *signer, const char *domain, const char *selector,
		   OpDkimAlgorithm algorithm, const char *key_pem, GBytes *message,
		   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpDkimSigner, op_dkim_signer_free)

G_END_DECLS
