/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decodes the client responses of SMTP AUTH (RFC 4954) for the PLAIN
 * (RFC 4616) and LOGIN mechanisms. Pure functions over buffers: no sockets
 * and no logging, because the buffers hold passwords.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Decodes strict base64 (RFC 4648 §4). Whitespace, characters outside the
 * alphabet, bad padding and trailing data fail with
 * OP_ERROR_INVALID_ARGUMENT. A lone "=" is the empty response (RFC 4954 §4)
 * and returns an empty GBytes. */
GBytes *op_sasl_decode_base64(const char *text, GError **error);

typedef struct {
	char *authzid; /* "" when the client sent none */
	char *authcid;
	char *password;
} OpSaslCredentials;

/* Parses a decoded PLAIN message "[authzid] NUL authcid NUL passwd"
 * (RFC 4616 §2). Fails with OP_ERROR_ACCESS_DENIED when the message does not
 * contain exactly two NULs, the authcid or the password is empty, a field is
 * not UTF-8, or the authzid is not empty and differs from the authcid
 * (compared after ASCII lower-casing). */
gboolean op_sasl_parse_plain(GBytes *message, OpSaslCredentials *credentials, GError **error);

/* Frees the fields, overwriting the password with explicit_bzero() first. */
void op_sasl_credentials_clear(OpSaslCredentials *credentials);

/* Decodes one LOGIN step (the user name or the password) from base64 into a
 * UTF-8 string without NULs. Fails with OP_ERROR_INVALID_ARGUMENT. */
char *op_sasl_decode_login_step(const char *text, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSaslCredentials, op_sasl_credentials_clear)

G_END_DECLS
