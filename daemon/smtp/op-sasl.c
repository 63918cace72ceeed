/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Strict base64 decoding of SMTP AUTH responses (RFC 4954 §4) and the PLAIN
 * (RFC 4616) and LOGIN client messages. Every buffer that may contain a
 * password is overwritten before it is freed.
 */
#include "smtp/op-sasl.h"

#include "op-error.h"

#include <string.h>

static void
op_sasl_wipe_free(gpointer data, gsize len)
{
	if (data != NULL)
		explicit_bzero(data, len);
	g_free(data);
}

typedef struct {
	guint8 *data;
	gsize len;
} OpSaslBuffer;

static void
op_sasl_buffer_free(gpointer user_data)
{
	OpSaslBuffer *buffer = user_data;

	op_sasl_wipe_free(buffer->data, buffer->len);
	g_free(buffer);
}

static gboolean
op_sasl_is_base64_char(char c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/';
}

static guint
op_sasl_base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (guint)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (guint)(c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (guint)(c - '0') + 52;
	return c == '+' ? 62 : 63;
}

/* Checks the canonical encoding of RFC 4648 §4: only alphabet characters,
 * a length that is a multiple of 4, and at most two "=" at the end. The
 * unused bits of the last character must be zero (§3.5), so every octet
 * string has exactly one accepted encoding. */
static gboolean
op_sasl_check_base64(const char *text, gsize len, GError **error)
{
	gsize padding = 0;
	gsize data_len;
	guint last_value;

	if (len == 0 || len % 4 != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid base64: the length is not a multiple of 4");
		return FALSE;
	}
	while (padding < 2 && text[len - 1 - padding] == '=')
		padding++;
	data_len = len - padding;
	for (gsize i = 0; i < data_len; i++) {
		if (!op_sasl_is_base64_char(text[i])) {
			g_set_error(
			    error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid base64: unexpected character at offset %" G_GSIZE_FORMAT, i);
			return FALSE;
		}
	}

	last_value = op_sasl_base64_value(text[data_len - 1]);
	if ((padding == 1 && (last_value & 0x03) != 0) ||
	    (padding == 2 && (last_value & 0x0f) != 0)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid base64: bad padding");
		return FALSE;
	}
	return TRUE;
}

GBytes *
op_sasl_decode_base64(const char *text, GError **error)
{
	OpSaslBuffer *buffer;
	gsize len;

	g_return_val_if_fail(text != NULL, NULL);

	/* RFC 4954 §4: a single "=" is an empty response. */
	if (strcmp(text, "=") == 0)
		return g_bytes_new(NULL, 0);

	len = strlen(text);
	if (!op_sasl_check_base64(text, len, error))
		return NULL;

	buffer = g_new0(OpSaslBuffer, 1);
	buffer->data = g_base64_decode(text, &buffer->len);
	return g_bytes_new_with_free_func(buffer->data, buffer->len, op_sasl_buffer_free, buffer);
}

static gboolean
op_sasl_plain_denied(GError **error, const char *reason)
{
	g_set_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED, "invalid PLAIN message: %s", reason);
	return FALSE;
}

/* Returns the number of NUL octets in @data and stores the offsets of the
 * first two. */
static guint
op_sasl_find_nuls(const guint8 *data, gsize len, gsize *first, gsize *second)
{
	guint count = 0;

	for (gsize i = 0; i < len; i++) {
		if (data[i] != '\0')
			continue;
		if (count == 0)
			*first = i;
		else if (count == 1)
			*second = i;
		count++;
	}
	return count;
}

gboolean
op_sasl_parse_plain(GBytes *message, OpSaslCredentials *credentials, GError **error)
{
	gsize len = 0;
	const char *data;
	gsize first = 0;
	gsize second = 0;
	g_autofree char *authzid_folded = NULL;
	g_autofree char *authcid_folded = NULL;

	g_return_val_if_fail(message != NULL, FALSE);
	g_return_val_if_fail(credentials != NULL, FALSE);

	memset(credentials, 0, sizeof(*credentials));
	data = g_bytes_get_data(message, &len);

	/* RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
	if (op_sasl_find_nuls((const guint8 *)data, len, &first, &second) != 2)
		return op_sasl_plain_denied(error, "expected exactly two NUL separators");
	if (second == first + 1)
		return op_sasl_plain_denied(error, "the authentication identity is empty");
	if (second + 1 == len)
		return op_sasl_plain_denied(error, "the password is empty");
	/* Each field on its own, because g_utf8_validate() stops at a NUL. */
	if (!g_utf8_validate_len(data, first, NULL) ||
	    !g_utf8_validate_len(data + first + 1, second - first - 1, NULL) ||
	    !g_utf8_validate_len(data + second + 1, len - second - 1, NULL))
		return op_sasl_plain_denied(error, "not valid UTF-8");

	/* An authorization identity other than the authenticated user would let
	 * one account act as another, which Outpost never allows. */
	authzid_folded = g_ascii_strdown(data, (gssize)first);
	authcid_folded = g_ascii_strdown(data + first + 1, (gssize)(second - first - 1));
	if (first > 0 && strcmp(authzid_folded, authcid_folded) != 0)
		return op_sasl_plain_denied(error, "the authorization identity differs from "
						   "the authentication identity");

	credentials->authzid = g_strndup(data, first);
	credentials->authcid = g_strndup(data + first + 1, second - first - 1);
	credentials->password = g_strndup(data + second + 1, len - second - 1);
	return TRUE;
}

void
op_sasl_credentials_clear(OpSaslCredentials *credentials)
{
	if (credentials == NULL)
		return;
	g_clear_pointer(&credentials->authzid, g_free);
	g_clear_pointer(&credentials->authcid, g_free);
	if (credentials->password != NULL)
		op_sasl_wipe_free(credentials->password, strlen(credentials->password));
	credentials->password = NULL;
}

char *
op_sasl_decode_login_step(const char *text, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	gsize len = 0;
	const char *data;

	g_return_val_if_fail(text != NULL, NULL);

	bytes = op_sasl_decode_base64(text, error);
	if (bytes == NULL)
		return NULL;
	data = g_bytes_get_data(bytes, &len);
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid LOGIN response: it contains a NUL octet");
		return NULL;
	}
	if (!g_utf8_validate_len(data, len, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid LOGIN response: not valid UTF-8");
		return NULL;
	}
	return len > 0 ? g_strndup(data, len) : g_strdup("");
}
