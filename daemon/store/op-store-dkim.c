/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A domain's DKIM keys and their life. A new key is pending until its TXT
 * record is visible, then active (it signs), then retiring: its record
 * stays published, so mail signed with it still verifies, until the grace
 * period ends and the key is removed. At most one key per algorithm is
 * active.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

static const char *const key_states[] = {
	[OP_DKIM_KEY_PENDING] = "pending",
	[OP_DKIM_KEY_ACTIVE] = "active",
	[OP_DKIM_KEY_RETIRING] = "retiring",
};

const char *
op_dkim_key_state_to_string(OpDkimKeyState state)
{
	return key_states[state];
}

static OpDkimKeyState
state_from_string(const char *text)
{
	for (gsize i = 0; i < G_N_ELEMENTS(key_states); i++) {
		if (g_strcmp0(text, key_states[i]) == 0)
			return (OpDkimKeyState)i;
	}
	/* The column is only ever written from key_states. */
	return OP_DKIM_KEY_RETIRING;
}

void
op_store_dkim_key_free(OpStoreDkimKey *key)
{
	if (key == NULL)
		return;
	g_free(key->domain);
	g_free(key->selector);
	g_free(key->algorithm);
	g_free(key->key_path);
	g_free(key);
}

static OpStoreDkimKey *
read_key_row(sqlite3_stmt *stmt)
{
	OpStoreDkimKey *key = g_new0(OpStoreDkimKey, 1);
	g_autofree char *state = op_store_dup_column_text(stmt, 4);

	key->domain = op_store_dup_column_text(stmt, 0);
	key->selector = op_store_dup_column_text(stmt, 1);
	key->algorithm = op_store_dup_column_text(stmt, 2);
	key->key_path = op_store_dup_column_text(stmt, 3);
	key->state = state_from_string(state);
	key->created = sqlite3_column_int64(stmt, 5);
	key->changed = sqlite3_column_int64(stmt, 6);
	return key;
}

#define KEY_COLUMNS                                                                                \
	"SELECT d.name, k.selector, k.algorithm, k.key_path, k.state, k.created, k.changed "      \
	"FROM dkim_keys k JOIN domains d ON d.id = k.domain_id "

static GPtrArray *
list_keys(OpStore *store, const char *sql, const char *text, gint64 number, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db, sql, error);
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_dkim_key_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	if (text != NULL)
		sqlite3_bind_text(stmt, 1, text, -1, SQLITE_TRANSIENT);
	else if (sqlite3_bind_parameter_count(stmt) > 0)
		sqlite3_bind_int64(stmt, 1, number);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(keys, read_key_row(stmt));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "reading DKIM keys", error);
		return NULL;
	}
	return g_steal_pointer(&keys);
}

GPtrArray *
op_store_list_dkim_keys(OpStore *store, const char *domain, GError **error)
{
	return list_keys(store, KEY_COLUMNS "WHERE d.name = ? ORDER BY k.created, k.id", domain, 0,
			 error);
}

/* RSA signs first so its DKIM-Signature field comes first: receivers that do not
 * know Ed25519 find the one they can check at the top (RFC 8463 §6). */
GPtrArray *
op_store_list_signing_keys(OpStore *store, const char *domain, GError **error)
{
	return list_keys(store,
			 KEY_COLUMNS "WHERE d.name = ? AND k.state = 'active' "
				     "ORDER BY k.algorithm = 'rsa-sha256' DESC",
			 domain, 0, error);
}

GPtrArray *
op_store_list_pending_dkim_keys(OpStore *store, GError **error)
{
	return list_keys(store, KEY_COLUMNS "WHERE k.state = 'pending'", NULL, 0,
			 error);
}

GPtrArray *
op_store_list_expired_dkim_keys(OpStore *store, gint64 changed_before, GError **error)
{
	return list_keys(store, KEY_COLUMNS "WHERE k.state = 'retiring' AND k.changed < ?", NULL,
			 changed_before, error);
}

gboolean
op_store_add_dkim_key(OpStore *store, const char *domain, const char *selector,
		      const char *algorithm, const char *key_path, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT INTO dkim_keys (domain_id, selector, "
					       "algorithm, key_path, state, created, changed) "
					       "SELECT id, ?2, ?3, ?4, 'pending', ?5, ?5 "
					       "FROM domains WHERE name = ?1",
					       error);
	g_autoptr(GError) local_error = NULL;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, selector, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, algorithm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, key_path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 5, g_get_real_time() / G_USEC_PER_SEC);
	if (!op_store_step_done(store->write_db, stmt, "adding the DKIM key", &local_error)) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_EXISTS)) {
			g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
				    "the domain %s already has a DKIM key with the selector %s: "
				    "choose another selector",
				    domain, selector);
			return FALSE;
		}
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    domain);
		return FALSE;
	}
	return TRUE;
}

static gboolean
run_key_update(OpStore *store, const char *sql, const char *domain, const char *selector,
	       gint64 now, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db, sql, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, selector, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(stmt) >= 3)
		sqlite3_bind_int64(stmt, 3, now);
	return op_store_step_done(store->write_db, stmt, "changing DKIM keys", error);
}

/* The active key of the same algorithm becomes retiring, then the pending key
 * becomes active. */
static gboolean
activate_key(OpStore *store, const char *domain, const char *selector, gint64 now,
	     GError **error)
{
	if (!run_key_update(store,
			    "UPDATE dkim_keys SET state = 'retiring', changed = ?3 "
			    "WHERE state = 'active' AND domain_id = "
			    "(SELECT id FROM domains WHERE name = ?1) AND algorithm = "
			    "(SELECT k.algorithm FROM dkim_keys k JOIN domains d "
			    "ON d.id = k.domain_id WHERE d.name = ?1 AND k.selector = ?2)",
			    domain, selector, now, error))
		return FALSE;
	if (!run_key_update(store,
			    "UPDATE dkim_keys SET state = 'active', changed = ?3 "
			    "WHERE state = 'pending' AND selector = ?2 AND domain_id = "
			    "(SELECT id FROM domains WHERE name = ?1)",
			    domain, selector, now, error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s has no pending DKIM key with the selector %s", domain,
			    selector);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_store_activate_dkim_key(OpStore *store, const char *domain, const char *selector,
			   GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!activate_key(store, domain, selector, now, error) ||
	    !op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	return TRUE;
}

static gboolean
delete_key(OpStore *store, const char *domain, const char *selector, GError **error)
{
	if (!run_key_update(store,
			    "DELETE FROM dkim_keys WHERE state != 'active' AND selector = ?2 "
			    "AND domain_id = (SELECT id FROM domains WHERE name = ?1)",
			    domain, selector, 0, error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s has no pending or retiring DKIM key with the selector %s",
			    domain, selector);
		return FALSE;
	}
	return run_key_update(store,
			      "INSERT OR REPLACE INTO dkim_revoked (domain_id, selector, removed) "
			      "SELECT id, ?2, ?3 FROM domains WHERE name = ?1",
			      domain, selector, g_get_real_time() / G_USEC_PER_SEC, error);
}

/* Only a pending or retiring key can go: removing the active one would leave
 * the domain's mail unsigned. The selector is remembered, so its record can
 * be published empty, which revokes the key. */
gboolean
op_store_remove_dkim_key(OpStore *store, const char *domain, const char *selector,
			 GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!delete_key(store, domain, selector, error) ||
	    !op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	return TRUE;
}

char **
op_store_dup_revoked_selectors(OpStore *store, const char *domain, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
					       "SELECT r.selector FROM dkim_revoked r JOIN domains d "
					       "ON d.id = r.domain_id WHERE d.name = ? "
					       "ORDER BY r.removed, r.selector",
					       error);
	g_autoptr(GPtrArray) selectors = g_ptr_array_new_with_free_func(g_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(selectors, op_store_dup_column_text(stmt, 0));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "reading revoked DKIM keys", error);
		return NULL;
	}
	g_ptr_array_add(selectors, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&selectors), FALSE);
}
