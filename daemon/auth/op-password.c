/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Account passwords: yescrypt hashes made and checked through libxcrypt, and the
 * minimal policy a new password must meet.
 */
#include "auth/op-password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "op-error.h"

#define OP_PASSWORD_MIN_CHARS 10
#define OP_PASSWORD_MAX_BYTES 1024

/* Runs crypt_ra() and returns a copy of its result, or NULL when libxcrypt reports
 * an invalid setting. The work area contains data derived from the password, so it is
 * cleared before it is freed. */
static char *
op_password_crypt(const char *password, const char *setting)
{
	void *data = NULL;
	int data_size = 0;
	const char *result;
	char *copy = NULL;

	result = crypt_ra(password, setting, &data, &data_size);
	/* libxcrypt returns a string starting with '*' instead of NULL on failure. */
	if (result != NULL && result[0] != '*')
		copy = g_strdup(result);
	if (data != NULL) {
		OPENSSL_cleanse(data, (size_t)data_size);
		free(data);
	}
	return copy;
}

char *
op_password_hash(const char *password, GError **error)
{
	char *setting;
	char *hash;

	g_return_val_if_fail(password != NULL, NULL);

	/* A count of 0 selects libxcrypt's default cost for yescrypt. */
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL) {
		g_set_error_literal(error, OP_ERROR, OP_ERROR_FAILED,
				    "Cannot make a yescrypt salt: libxcrypt lacks yescrypt "
				    "or the system random source failed");
		return NULL;
	}
	hash = op_password_crypt(password, setting);
	free(setting);
	if (hash == NULL)
		g_set_error_literal(error, OP_ERROR, OP_ERROR_FAILED,
				    "Cannot hash the password with yescrypt");
	return hash;
}

gboolean
op_password_verify(const char *password, const char *hash)
{
	g_autofree char *computed = NULL;
	gsize hash_len;

	if (password == NULL || hash == NULL)
		return FALSE;

	/* Only modular hashes ("$id$...") are accepted: the traditional DES format
	 * uses the first 8 characters of a password only. A hash starting with '!'
	 * or '*' marks a locked account and fails here too. */
	if (hash[0] != '$')
		return FALSE;

	computed = op_password_crypt(password, hash);
	if (computed == NULL)
		return FALSE;

	/* The lengths depend on the hash method only, so comparing them first
	 * reveals nothing about the password. */
	hash_len = strlen(hash);
	if (strlen(computed) != hash_len)
		return FALSE;
	return CRYPTO_memcmp(computed, hash, hash_len) == 0;
}

gboolean
op_password_check_policy(const char *password, GError **error)
{
	const char *cursor;

	g_return_val_if_fail(password != NULL, FALSE);

	if (!g_utf8_validate(password, -1, NULL)) {
		g_set_error_literal(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "The password is not valid UTF-8 text");
		return FALSE;
	}
	if (strlen(password) > OP_PASSWORD_MAX_BYTES) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "The password is too long: use at most %d bytes",
			    OP_PASSWORD_MAX_BYTES);
		return FALSE;
	}
	for (cursor = password; *cursor != '\0'; cursor = g_utf8_next_char(cursor)) {
		if (g_unichar_iscntrl(g_utf8_get_char(cursor))) {
			g_set_error_literal(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
					    "The password contains a control character "
					    "such as a tab or a line break: remove it");
			return FALSE;
		}
	}
	if (g_utf8_strlen(password, -1) < OP_PASSWORD_MIN_CHARS) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "The password is too short: use at least %d characters",
			    OP_PASSWORD_MIN_CHARS);
		return FALSE;
	}
	for (cursor = password; *cursor != '\0'; cursor = g_utf8_next_char(cursor)) {
		if (!g_unichar_isspace(g_utf8_get_char(cursor)))
			return TRUE;
	}
	g_set_error_literal(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "The password contains only spaces: use letters, digits or symbols");
	return FALSE;
}
