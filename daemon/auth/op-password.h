/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Account passwords: yescrypt hashes through libxcrypt and the policy for new
 * passwords. Hashing and verifying are slow by design, so callers run them in a
 * thread pool.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Hashes password with yescrypt at libxcrypt's default cost ("$y$..."). */
char *op_password_hash(const char *password, GError **error);

/* Checks password against a stored crypt(3) hash, comparing in constant time.
 * Returns FALSE for a wrong password and for a malformed or locked hash. */
gboolean op_password_verify(const char *password, const char *hash);

/* Checks a new password: valid UTF-8, 10 characters or more, 1024 bytes or fewer,
 * no control characters. The error message names the problem. */
gboolean op_password_check_policy(const char *password, GError **error);

G_END_DECLS
