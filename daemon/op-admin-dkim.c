/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DKIM key rotation (RFC 6376 §3.1, RFC 8463). A new key starts pending
 * beside the active one, so both records can be published. Once the new
 * record is visible in DNS, the new key becomes active and the old one
 * retiring; after the grace period the retiring key and its file go, and
 * its record revokes it. Ed25519 keys sign beside the RSA key, never alone.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"
#include "op-worker.h"

#include "dkim/op-dkim-record.h"
#include "dkim/op-dkim.h"
#include "dns/op-resolver.h"
#include "op-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* RFC 1035 §2.3.4: a label has at most 63 octets. */
#define OP_MAX_SELECTOR_LENGTH 63
#define OP_DKIM_LOOKUP_TIMEOUT 5

char *
op_admin_dup_dkim_key_path(OpAdmin *admin, const char *domain, const char *selector)
{
	g_autofree char *name = g_strdup_printf("%s.%s.pem", domain, selector);

	return g_build_filename(admin->config->state_dir, "dkim", name, NULL);
}

/* A selector is one or more DNS labels of letters, digits and hyphens
 * (RFC 6376 §3.1); Outpost takes one label, which is what every guide shows. */
static gboolean
check_selector(const char *selector, GError **error)
{
	gsize len = strlen(selector);

	if (len > 0 && len <= OP_MAX_SELECTOR_LENGTH && selector[0] != '-' &&
	    selector[len - 1] != '-') {
		gsize i;

		for (i = 0; i < len; i++) {
			if (!g_ascii_isalnum(selector[i]) && selector[i] != '-')
				break;
		}
		if (i == len)
			return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid DKIM selector: expected 1 to %d letters, digits and inner hyphens, "
		    "such as mail2026",
		    OP_MAX_SELECTOR_LENGTH);
	return FALSE;
}

static gboolean
check_managed(OpAdmin *admin, const char *name, GError **error)
{
	g_autoptr(OpStoreDomain) stored = op_store_get_domain(admin->store, name, error);

	return stored != NULL;
}

static gboolean
parse_algorithm(const char *text, OpDkimAlgorithm *algorithm, const char **name,
		GError **error)
{
	if (*text == '\0' || g_ascii_strcasecmp(text, "rsa") == 0 ||
	    g_ascii_strcasecmp(text, "rsa-sha256") == 0) {
		*algorithm = OP_DKIM_RSA_SHA256;
		*name = "rsa-sha256";
		return TRUE;
	}
	if (g_ascii_strcasecmp(text, "ed25519") == 0 ||
	    g_ascii_strcasecmp(text, "ed25519-sha256") == 0) {
		*algorithm = OP_DKIM_ED25519_SHA256;
		*name = "ed25519-sha256";
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown DKIM algorithm: use rsa (the default) or ed25519");
	return FALSE;
}

static const OpStoreDkimKey *
find_key(GPtrArray *keys, const char *selector)
{
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];

		if (g_ascii_strcasecmp(key->selector, selector) == 0)
			return key;
	}
	return NULL;
}

/* Returns "opYYYYMMDD" and four random hex digits ("e" appended for
 * Ed25519). The random part keeps a new key from taking the selector of a
 * removed one whose record may still be published somewhere: a verifier
 * would then check new signatures with the old key. */
char *
op_admin_dup_new_selector(OpDkimAlgorithm algorithm)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = g_date_time_format(now, "op%Y%m%d");

	return g_strdup_printf("%s%04x%s", date, (guint)g_random_int_range(0, 0x10000),
			       algorithm == OP_DKIM_ED25519_SHA256 ? "e" : "");
}

static char *
dup_unused_selector(GPtrArray *keys, OpDkimAlgorithm algorithm)
{
	char *selector = op_admin_dup_new_selector(algorithm);

	while (find_key(keys, selector) != NULL) {
		g_free(selector);
		selector = op_admin_dup_new_selector(algorithm);
	}
	return selector;
}

static gboolean
check_no_pending(GPtrArray *keys, const char *algorithm, GError **error)
{
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];

		if (key->state == OP_DKIM_KEY_PENDING && strcmp(key->algorithm, algorithm) == 0) {
			g_set_error(error, OP_ERROR, OP_ERROR_BUSY,
				    "the domain %s already has a new DKIM key waiting (selector "
				    "%s): publish its record so Outpost switches to it, or remove "
				    "it first",
				    key->domain, key->selector);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
make_key_directory(OpAdmin *admin, GError **error)
{
	g_autofree char *key_dir = g_build_filename(admin->config->state_dir, "dkim", NULL);

	if (g_mkdir_with_parents(key_dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to create %s: %s", key_dir,
			    g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

char *
op_admin_rotate_dkim_key(OpAdmin *admin, const char *domain, const char *algorithm_text,
			 const char *selector, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(GPtrArray) keys = NULL;
	g_autofree char *chosen = NULL;
	g_autofree char *key_path = NULL;
	g_auto(GStrv) revoked = NULL;
	OpDkimAlgorithm algorithm;
	const char *algorithm_name;

	if (name == NULL || !parse_algorithm(algorithm_text, &algorithm, &algorithm_name, error))
		return NULL;
	if (selector != NULL && !check_selector(selector, error))
		return NULL;
	keys = op_store_list_dkim_keys(admin->store, name, error);
	if (keys == NULL || !check_managed(admin, name, error))
		return NULL;
	if (!check_no_pending(keys, algorithm_name, error))
		return NULL;
	revoked = op_store_dup_revoked_selectors(admin->store, name, error);
	if (revoked == NULL)
		return NULL;
	chosen = selector ? g_ascii_strdown(selector, -1) : dup_unused_selector(keys, algorithm);
	while (selector == NULL && g_strv_contains((const char *const *)revoked, chosen)) {
		g_free(chosen);
		chosen = dup_unused_selector(keys, algorithm);
	}
	if (g_strv_contains((const char *const *)revoked, chosen)) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
			    "the selector %s belonged to a removed key of %s, whose record now "
			    "revokes it: choose another selector",
			    chosen, name);
		return NULL;
	}
	if (find_key(keys, chosen) != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
			    "the domain %s already has a DKIM key with the selector %s: choose "
			    "another selector",
			    name, chosen);
		return NULL;
	}
	if (!make_key_directory(admin, error))
		return NULL;
	key_path = op_admin_dup_dkim_key_path(admin, name, chosen);
	/* A file left by a removed domain of the same name is replaced. */
	g_unlink(key_path);
	if (!op_dkim_generate_key(key_path, algorithm, error))
		return NULL;
	if (!op_store_add_dkim_key(admin->store, name, chosen, algorithm_name, key_path, error)) {
		g_unlink(key_path);
		return NULL;
	}
	g_message("domain %s: new %s DKIM key with selector %s, waiting for its record", name,
		  algorithm_name, chosen);
	return g_steal_pointer(&chosen);
}

GPtrArray *
op_admin_list_dkim_keys(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);

	if (name == NULL || !check_managed(admin, name, error))
		return NULL;
	return op_store_list_dkim_keys(admin->store, name, error);
}

/* Checks that the TXT record of key, looked up through the configured
 * resolver, contains the key's public part. The error describes what was found. */
gboolean
op_admin_dkim_key_visible(OpAdmin *admin, const OpStoreDkimKey *key, GError **error)
{
	g_autofree char *record_name = g_strdup_printf("%s._domainkey.%s", key->selector,
						       key->domain);
	g_autofree char *expected = op_dkim_dup_public_txt(key->key_path, error);
	g_autoptr(OpResolver) resolver = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GError) local_error = NULL;

	if (expected == NULL)
		return FALSE;
	resolver = op_resolver_new(admin->config->dns_resolver, OP_DKIM_LOOKUP_TIMEOUT, error);
	if (resolver == NULL)
		return FALSE;
	found = op_resolver_lookup_txt(resolver, record_name, &local_error);
	if (found == NULL && !g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
					   "looking up %s failed: ", record_name);
		return FALSE;
	}
	/* With several records at the name, a verifier may take any of them. */
	if (found != NULL && found->len == 1 && op_dkim_record_same_key(found->pdata[0], expected))
		return TRUE;
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
		    "the TXT record %s does not show the new DKIM key yet%s: publish the "
		    "domain's records (outpostctl dns publish %s), then try again",
		    record_name,
		    found == NULL || found->len == 0 ? ""
		    : found->len > 1		     ? " (it holds more than one record)"
						     : " (it holds another key or an unusable record)",
		    key->domain);
	return FALSE;
}

/* Checks the arguments of a call about one key and returns the domain's keys,
 * with *name set to the domain in the store's form. */
static GPtrArray *
list_domain_keys(OpAdmin *admin, const char *domain, const char *selector, char **name,
		 GError **error)
{
	*name = op_admin_normalize_domain(domain, error);
	if (*name == NULL || !check_selector(selector, error))
		return NULL;
	return op_admin_list_dkim_keys(admin, *name, error);
}

gboolean
op_admin_activate_dkim_key(OpAdmin *admin, const char *domain, const char *selector,
			   gboolean force, GError **error)
{
	g_autofree char *name = NULL;
	g_autoptr(GPtrArray) keys = list_domain_keys(admin, domain, selector, &name, error);
	const OpStoreDkimKey *key = keys ? find_key(keys, selector) : NULL;

	if (keys == NULL)
		return FALSE;
	if (key == NULL || key->state != OP_DKIM_KEY_PENDING) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s has no new DKIM key with the selector %s: see "
			    "outpostctl dkim list %s",
			    name, selector, name);
		return FALSE;
	}
	/* Signing with a key receivers cannot find fails DKIM on every message. */
	if (!force && !op_admin_dkim_key_visible(admin, key, error))
		return FALSE;
	if (!op_store_activate_dkim_key(admin->store, name, key->selector, error))
		return FALSE;
	g_message("domain %s now signs with the DKIM key %s%s", name, key->selector,
		  force ? " (forced before its record was seen)" : "");
	return TRUE;
}

gboolean
op_admin_remove_dkim_key(OpAdmin *admin, const char *domain, const char *selector,
			 GError **error)
{
	g_autofree char *name = NULL;
	g_autoptr(GPtrArray) keys = list_domain_keys(admin, domain, selector, &name, error);
	const OpStoreDkimKey *key = keys ? find_key(keys, selector) : NULL;

	if (keys == NULL)
		return FALSE;
	if (key != NULL && key->state == OP_DKIM_KEY_ACTIVE) {
		g_set_error(error, OP_ERROR, OP_ERROR_BUSY,
			    "the DKIM key %s signs the mail of %s: rotate to a new key first "
			    "(outpostctl dkim rotate %s)",
			    key->selector, name, name);
		return FALSE;
	}
	if (!op_store_remove_dkim_key(admin->store, name, selector, error))
		return FALSE;
	if (key != NULL && g_unlink(key->key_path) != 0 && errno != ENOENT)
		g_warning("removing the DKIM key file %s failed: %s", key->key_path,
			  g_strerror(errno));
	g_message("domain %s: DKIM key %s removed", name, selector);
	return TRUE;
}

/* Activates the pending keys whose records are visible. */
static void
activate_visible_keys(OpAdmin *admin)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) pending = op_store_list_pending_dkim_keys(admin->store, &error);

	if (pending == NULL) {
		g_warning("listing new DKIM keys failed: %s", error->message);
		return;
	}
	for (guint i = 0; i < pending->len; i++) {
		const OpStoreDkimKey *key = pending->pdata[i];
		g_autoptr(GError) key_error = NULL;

		if (!op_admin_dkim_key_visible(admin, key, &key_error)) {
			g_debug("DKIM key %s of %s: %s", key->selector, key->domain,
				key_error->message);
			continue;
		}
		if (!op_store_activate_dkim_key(admin->store, key->domain, key->selector,
						&key_error)) {
			g_warning("activating the DKIM key %s of %s failed: %s", key->selector,
				  key->domain, key_error->message);
			continue;
		}
		g_message("domain %s: the record of DKIM key %s is visible, signing with it now",
			  key->domain, key->selector);
	}
}

/* Removes the retiring keys whose grace period is over. */
static void
remove_expired_keys(OpAdmin *admin)
{
	g_autoptr(GError) error = NULL;
	gint64 cutoff = g_get_real_time() / G_USEC_PER_SEC - (gint64)admin->config->dkim_grace;
	g_autoptr(GPtrArray) expired = op_store_list_expired_dkim_keys(admin->store, cutoff,
								       &error);

	if (expired == NULL) {
		g_warning("listing retired DKIM keys failed: %s", error->message);
		return;
	}
	for (guint i = 0; i < expired->len; i++) {
		const OpStoreDkimKey *key = expired->pdata[i];
		g_autoptr(GError) key_error = NULL;

		if (!op_admin_remove_dkim_key(admin, key->domain, key->selector, &key_error))
			g_warning("removing the retired DKIM key %s of %s failed: %s",
				  key->selector, key->domain, key_error->message);
	}
}

void
op_admin_advance_dkim_rotations(OpAdmin *admin)
{
	activate_visible_keys(admin);
	remove_expired_keys(admin);
}

static void
advance_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	op_admin_advance_dkim_rotations(data);
	g_task_return_boolean(task, TRUE);
}

static void
advance_done(GObject *source, GAsyncResult *result, gpointer data)
{
	OpAdmin *admin = data;

	admin->dkim_running = FALSE;
}

static gboolean
advance_tick(gpointer data)
{
	OpAdmin *admin = data;
	g_autoptr(GTask) task = NULL;

	/* A check that outlasts the interval (a slow resolver) is not doubled. */
	if (admin->dkim_running)
		return G_SOURCE_CONTINUE;
	admin->dkim_running = TRUE;
	task = g_task_new(NULL, NULL, advance_done, admin);
	g_task_set_task_data(task, admin, NULL);
	op_worker_run(OP_WORKER_ADMIN, task, advance_in_thread);
	return G_SOURCE_CONTINUE;
}

void
op_admin_start_dkim_rotations(OpAdmin *admin)
{
	g_return_if_fail(admin->dkim_timer == 0);

	advance_tick(admin);
	admin->dkim_timer = g_timeout_add_seconds(admin->config->dkim_check_interval,
						  advance_tick, admin);
}

void
op_admin_stop_dkim_rotations(OpAdmin *admin)
{
	if (admin->dkim_timer != 0) {
		g_source_remove(admin->dkim_timer);
		admin->dkim_timer = 0;
	}
	while (admin->dkim_running)
		g_main_context_iteration(NULL, TRUE);
}
