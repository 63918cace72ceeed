/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine behind SearchEvents, GetSettings, SetSettings and Reload.
 * Stored settings apply over the config file. SetSettings stores only
 * values that pass every check, and Reload hands the new values and TLS
 * context to the main loop, which runs the SMTP sessions.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "op-error.h"
#include "tls/op-tls.h"

#include <string.h>

/* RFC 5321 §4.5.3.1.3: a path is at most 256 octets. */
#define OP_MAX_ADDRESS_FILTER 256
#define OP_MAX_QUEUE_ID 64

/* Serializes SetSettings and Reload, so a reload never applies half a change. */
static GMutex op_settings_lock;

static gboolean
check_queue_id(const char *id, GError **error)
{
	gsize len = strlen(id);
	gboolean valid = len > 0 && len <= OP_MAX_QUEUE_ID;

	for (gsize i = 0; valid && i < len; i++)
		valid = g_ascii_isalnum(id[i]);
	if (!valid) {
		g_autofree char *shown = op_settings_dup_shown(id, OP_SETTINGS_SHOWN_CHARS);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid queue id \"%s\": expected letters and digits, such as "
			    "6931A2C0E3B1F4",
			    shown);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_address_filter(const char *address, GError **error)
{
	if (strlen(address) > OP_MAX_ADDRESS_FILTER || !g_utf8_validate(address, -1, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid address filter: expected at most %d octets of UTF-8 text",
			    OP_MAX_ADDRESS_FILTER);
		return FALSE;
	}
	return TRUE;
}

/* Returns the matching events, newest first. An empty address filter
 * matches every event. The domain is compared in its A-label form, the
 * form the queue stores recipients in. */
GPtrArray *
op_admin_search_events(OpAdmin *admin, const OpStoreEventFilter *filter, guint offset,
		       guint limit, GError **error)
{
	OpStoreEventFilter checked = *filter;
	g_autofree char *domain = NULL;

	if (filter->address != NULL && !check_address_filter(filter->address, error))
		return NULL;
	if (filter->address != NULL && *filter->address == '\0')
		checked.address = NULL;
	if (filter->queue_id != NULL && !check_queue_id(filter->queue_id, error))
		return NULL;
	if (filter->domain != NULL) {
		domain = op_admin_normalize_domain(filter->domain, error);
		if (domain == NULL)
			return NULL;
		checked.domain = domain;
	}
	if (filter->has_since && filter->has_until && filter->since > filter->until) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid time range: since (%" G_GINT64_FORMAT ") is after until "
			    "(%" G_GINT64_FORMAT ")",
			    filter->since, filter->until);
		return NULL;
	}
	return op_store_search_events(admin->store, &checked, offset, limit, error);
}

/* Returns the config file's values with the stored settings over them. */
static OpSettings *
dup_effective_settings(OpAdmin *admin, GPtrArray *problems, GError **error)
{
	g_autoptr(GHashTable) stored = op_store_dup_settings(admin->store, error);
	OpSettings *settings;

	if (stored == NULL)
		return NULL;
	settings = admin->file_settings ? op_settings_copy(admin->file_settings)
					: op_settings_new_from_config(admin->config);
	op_settings_apply_stored(settings, stored, problems);
	return settings;
}

/* Returns the settings as they apply after the next Reload, or for the
 * listen addresses, after the next start. */
OpSettings *
op_admin_dup_settings(OpAdmin *admin, GError **error)
{
	return dup_effective_settings(admin, NULL, error);
}

static gboolean
check_tls_pair(const OpSettings *settings, GError **error)
{
	g_autoptr(SSL_CTX) context = NULL;
	g_autoptr(GError) local_error = NULL;

	if (settings->tls_cert == NULL || settings->tls_key == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "set tls-cert and tls-key together");
		return FALSE;
	}
	context = op_tls_server_context_new(settings->tls_cert, settings->tls_key, &local_error);
	if (context == NULL) {
		/* OpenSSL's reasons can be long: the message keeps its start. */
		g_autofree char *shown = op_settings_dup_shown(local_error->message, 240);

		g_set_error_literal(error, OP_ERROR, local_error->code, shown);
		return FALSE;
	}
	return TRUE;
}

/* Checks what only the whole set of values can show: that some listener
 * is left, and that the certificate and key load together. */
static gboolean
check_combination(const OpSettings *settings, GHashTable *changes, GError **error)
{
	if (g_strv_length(settings->submission_listen) == 0 &&
	    g_strv_length(settings->submissions_listen) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "no listen address left: keep at least one submission-listen or "
			    "submissions-listen address");
		return FALSE;
	}
	if ((g_hash_table_contains(changes, "tls-cert") ||
	     g_hash_table_contains(changes, "tls-key")) &&
	    !check_tls_pair(settings, error))
		return FALSE;
	return TRUE;
}

static char *
dup_change_summary(GHashTable *changes)
{
	g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(changes),
					    (GCompareFunc)strcmp);
	GString *summary = g_string_new(NULL);

	for (GList *l = keys; l != NULL; l = l->next) {
		const char *key = l->data;
		const char *text = g_hash_table_lookup(changes, key);

		/* The log never shows a password, only that one was set. */
		if (strcmp(key, "smarthost-password") == 0)
			text = *text ? "(set)" : "(empty)";
		g_string_append_printf(summary, "%s%s=%s", summary->len ? " " : "", key, text);
	}
	return g_string_free(summary, FALSE);
}

/* Stores changes, a table of setting key to text form, once every value
 * and their combination pass the checks. Otherwise it stores nothing. */
gboolean
op_admin_set_settings(OpAdmin *admin, GHashTable *changes, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&op_settings_lock);
	g_autoptr(OpSettings) settings = dup_effective_settings(admin, NULL, error);
	g_autofree char *summary = NULL;
	GHashTableIter iter;
	gpointer key;
	gpointer text;

	if (settings == NULL)
		return FALSE;
	g_hash_table_iter_init(&iter, changes);
	while (g_hash_table_iter_next(&iter, &key, &text)) {
		if (!op_settings_set_text(settings, key, text, error))
			return FALSE;
	}
	if (!check_combination(settings, changes, error))
		return FALSE;
	if (!op_store_set_settings(admin->store, changes, error))
		return FALSE;
	summary = dup_change_summary(changes);
	g_message("settings stored, effective at the next reload: %s", summary);
	return TRUE;
}

/* ---- Reload --------------------------------------------------------------- */

typedef struct {
	OpAdmin *admin;
	const OpSettings *settings;
	SSL_CTX *tls;
	GMutex lock;
	GCond cond;
	gboolean done;
} OpReloadJob;

static gboolean
apply_reload_cb(gpointer user_data)
{
	OpReloadJob *job = user_data;
	OpSmtpContext *context = job->admin->smtp_context;

	/* NOTE: sessions read the hostname and max_message_size from the config
	 * at each command, so a session in progress uses the new values from its
	 * next command on. Only its TLS context stays as it was. */
	op_config_reload_settings(job->admin->config, job->settings);
	if (job->tls != NULL) {
		SSL_CTX *old = context->tls;

		/* Only new sessions use the new context. Running sessions keep the
		 * old one alive, because SSL_new took a reference to it. */
		context->tls = job->tls;
		SSL_CTX_free(old);
	}
	g_mutex_lock(&job->lock);
	job->done = TRUE;
	g_cond_signal(&job->cond);
	g_mutex_unlock(&job->lock);
	return G_SOURCE_REMOVE;
}

/* Runs the change on the main loop, where sessions read the config and
 * the TLS context, and waits for it. Called on the main thread, the
 * change runs at once. */
static void
apply_on_main_loop(OpAdmin *admin, const OpSettings *settings, SSL_CTX *tls)
{
	OpReloadJob job = {.admin = admin, .settings = settings, .tls = tls};

	g_mutex_init(&job.lock);
	g_cond_init(&job.cond);
	g_main_context_invoke(NULL, apply_reload_cb, &job);
	g_mutex_lock(&job.lock);
	while (!job.done)
		g_cond_wait(&job.cond, &job.lock);
	g_mutex_unlock(&job.lock);
	g_cond_clear(&job.cond);
	g_mutex_clear(&job.lock);
}

/* Applies the stored settings that can change at run time and loads the
 * TLS certificate again, for new sessions. Nothing changes when the
 * certificate fails to load. */
gboolean
op_admin_reload(OpAdmin *admin, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&op_settings_lock);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(OpSettings) settings = dup_effective_settings(admin, problems, error);
	SSL_CTX *tls = NULL;

	if (settings == NULL)
		return FALSE;
	for (guint i = 0; i < problems->len; i++)
		g_warning("reload: %s", (const char *)g_ptr_array_index(problems, i));
	if (admin->smtp_context != NULL && settings->tls_cert != NULL &&
	    settings->tls_key != NULL) {
		tls = op_tls_server_context_new(settings->tls_cert, settings->tls_key, error);
		if (tls == NULL) {
			g_prefix_error(error, "reload failed and the running settings are "
					      "unchanged: ");
			return FALSE;
		}
	}
	apply_on_main_loop(admin, settings, tls);
	g_message("settings reloaded: hostname=%s max-message-size=%" G_GUINT64_FORMAT
		  " message-lifetime=%" G_GUINT64_FORMAT " smarthost=%s tls-cert=%s",
		  settings->hostname, settings->max_message_size, settings->message_lifetime,
		  *settings->smarthost ? settings->smarthost : "-", settings->tls_cert);
	return TRUE;
}
