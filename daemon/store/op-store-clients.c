/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per-account tokens of the Apple profile download. A token is the only
 * secret in the profile's URL, so it is 128 random bits from OpenSSL's
 * generator, made once and kept until the account is removed.
 */
#include "store/op-store-private.h"

#include "op-error.h"

#include <openssl/rand.h>

/* Octets of randomness in a token, written as twice as many hex digits. */
#define OP_PROFILE_TOKEN_OCTETS 16

static char *
dup_new_token(GError **error)
{
	guint8 octets[OP_PROFILE_TOKEN_OCTETS];
	GString *token = g_string_sized_new(2 * OP_PROFILE_TOKEN_OCTETS);

	if (RAND_bytes(octets, sizeof octets) != 1) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the random number generator failed to make a profile token");
		g_string_free(token, TRUE);
		return NULL;
	}
	for (gsize i = 0; i < sizeof octets; i++)
		g_string_append_printf(token, "%02x", octets[i]);
	return g_string_free(token, FALSE);
}

char *
op_store_ensure_profile_token(OpStore *store, const char *address, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) update = NULL;
	g_autoptr(sqlite3_stmt) select = NULL;
	g_autofree char *token = dup_new_token(error);
	int rc;

	if (token == NULL)
		return NULL;
	/* The UPDATE keeps a token made before, so the URL handed out stays valid. */
	update = op_store_prepare(store->write_db,
				  "UPDATE accounts SET profile_token = ?1 "
				  "WHERE address = ?2 AND profile_token IS NULL",
				  error);
	if (update == NULL)
		return NULL;
	sqlite3_bind_text(update, 1, token, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(update, 2, address, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, update, "storing the profile token", error))
		return NULL;
	select = op_store_prepare(store->write_db,
				  "SELECT profile_token FROM accounts WHERE address = ?", error);
	if (select == NULL)
		return NULL;
	sqlite3_bind_text(select, 1, address, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(select);
	if (rc == SQLITE_ROW)
		return op_store_dup_column_text(select, 0);
	if (rc == SQLITE_DONE)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account %s", address);
	else
		op_store_set_sqlite_error(store->write_db, rc, "reading the profile token",
					  error);
	return NULL;
}

char *
op_store_find_profile_account(OpStore *store, const char *token, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
					       "SELECT address FROM accounts "
					       "WHERE profile_token = ?",
					       error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, token, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return op_store_dup_column_text(stmt, 0);
	if (rc == SQLITE_DONE)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account has this profile token");
	else
		op_store_set_sqlite_error(store->read_db, rc, "looking up a profile token", error);
	return NULL;
}
