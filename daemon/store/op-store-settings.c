/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The settings table: server settings changed through the admin API, as key
 * and text value, applied over the config file at start and at Reload.
 * op-settings.c defines the keys and checks the values, and this file only
 * stores them.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

static GHashTable *
read_settings(sqlite3 *db, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db, "SELECT key, value FROM settings",
							 error);
	g_autoptr(GHashTable) values = NULL;
	int rc;

	if (stmt == NULL)
		return NULL;
	values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_hash_table_insert(values, op_store_dup_column_text(stmt, 0),
				    op_store_dup_column_text(stmt, 1));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(db, rc, "reading the settings", error);
		return NULL;
	}
	return g_steal_pointer(&values);
}

/* Returns a table of key to text value, empty when nothing is stored. */
GHashTable *
op_store_dup_settings(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);

	return read_settings(store->read_db, error);
}

/* Stores every key and value of values in one transaction, so all or none. */
gboolean
op_store_set_settings(OpStore *store, GHashTable *values, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	stmt = op_store_prepare(store->write_db,
				"INSERT INTO settings (key, value) VALUES (?, ?) "
				"ON CONFLICT (key) DO UPDATE SET value = excluded.value",
				error);
	if (stmt == NULL)
		return FALSE;
	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	g_hash_table_iter_init(&iter, values);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
		if (!op_store_step_done(store->write_db, stmt, "storing a setting", error)) {
			op_store_exec(store->write_db, "ROLLBACK", NULL);
			return FALSE;
		}
	}
	if (!op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	return TRUE;
}

static gboolean
has_settings_table(sqlite3 *db, gboolean *found, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
		error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return op_store_set_sqlite_error(db, rc, "looking for the settings table", error);
	*found = rc == SQLITE_ROW;
	return TRUE;
}

/* Reads the settings of the database at path without opening the store.
 * The daemon needs them before it binds its ports and drops privileges, but
 * it opens the store only after that. A missing database, or one from before
 * the settings table existed, has no settings. */
GHashTable *
op_store_read_settings_file(const char *path, GError **error)
{
	sqlite3 *db = NULL;
	gboolean found = FALSE;
	GHashTable *values = NULL;
	int rc;

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "failed to open the database %s to read the settings: %s", path,
			    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	if (has_settings_table(db, &found, error))
		values = found ? read_settings(db, error)
			       : g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sqlite3_close(db);
	return values;
}
