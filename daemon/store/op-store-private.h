/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Declarations shared by the store's source files: the two connections with
 * their locks, and small helpers that turn SQLite results into GErrors.
 */
#pragma once

#include "store/op-store.h"

G_BEGIN_DECLS

struct _OpStore {
	sqlite3 *read_db;
	sqlite3 *write_db;
	GMutex read_lock;
	GMutex write_lock;
	/* Called after each committed event, under write_lock (op-store-events.c). */
	OpStoreEventHook event_hook;
	gpointer event_hook_data;
	GDestroyNotify event_hook_destroy;
};

gboolean op_store_set_sqlite_error(sqlite3 *db, int rc, const char *what, GError **error);
gboolean op_store_exec(sqlite3 *db, const char *sql, GError **error);
sqlite3_stmt *op_store_prepare(sqlite3 *db, const char *sql, GError **error);
char *op_store_dup_column_text(sqlite3_stmt *stmt, int column);
gboolean op_store_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, GError **error);

G_END_DECLS
