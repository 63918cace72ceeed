/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stored publishing targets: where each domain's records go, with the TSIG
 * secret or API key needed there. One row per domain, removed with it.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "dns/op-publisher.h"
#include "op-error.h"

#include <string.h>

/* The secret is stored as given, so the database file is the secret file.
 * The daemon creates it under umask 0077 (mode 0600), in a state directory
 * that main.c, outpost-tmpfiles.conf and the unit's StateDirectoryMode create
 * with mode 0700. */
gboolean
op_store_set_publish_target(OpStore *store, const char *domain, const OpPublishTarget *target,
			    GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		store->write_db,
		"INSERT OR REPLACE INTO publish_targets "
		"(domain_id, kind, server, key_name, key_algorithm, secret, zone) "
		"SELECT id, ?2, ?3, ?4, ?5, ?6, ?7 FROM domains WHERE name = ?1",
		error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, target->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, target->server, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, target->key_name ? target->key_name : "", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 5, target->key_algorithm ? target->key_algorithm : "", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, target->secret, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 7, target->zone ? target->zone : "", -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "storing the publish target", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    domain);
		return FALSE;
	}
	return TRUE;
}

/* Sets *target to the stored target of domain, or to NULL when none is. */
gboolean
op_store_get_publish_target(OpStore *store, const char *domain, OpPublishTarget **target,
			    GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		store->read_db,
		"SELECT kind, server, key_name, key_algorithm, secret, zone "
		"FROM publish_targets JOIN domains ON domains.id = publish_targets.domain_id "
		"WHERE domains.name = ?",
		error);
	OpPublishTarget *found;
	int rc;

	*target = NULL;
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return TRUE;
	if (rc != SQLITE_ROW)
		return op_store_set_sqlite_error(store->read_db, rc, "reading the publish target",
						 error);
	found = g_new0(OpPublishTarget, 1);
	found->kind = op_store_dup_column_text(stmt, 0);
	found->server = op_store_dup_column_text(stmt, 1);
	found->key_name = op_store_dup_column_text(stmt, 2);
	found->key_algorithm = op_store_dup_column_text(stmt, 3);
	found->secret = op_store_dup_column_text(stmt, 4);
	found->zone = op_store_dup_column_text(stmt, 5);
	*target = found;
	return TRUE;
}

gboolean
op_store_remove_publish_target(OpStore *store, const char *domain, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		store->write_db,
		"DELETE FROM publish_targets "
		"WHERE domain_id = (SELECT id FROM domains WHERE name = ?)",
		error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "removing the publish target", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "no publish target is stored for %s", domain);
		return FALSE;
	}
	return TRUE;
}
