/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Mail-client setup: the settings a user types into a mail client, the URLs
 * clients configure themselves from, and each account's Apple profile.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "http/op-autoconfig.h"
#include "http/op-autodiscover.h"
#include "http/op-http-route.h"
#include "http/op-http-server.h"
#include "http/op-mobileconfig.h"
#include "op-error.h"

#include <string.h>

OpClientSettings *
op_admin_dup_client_settings(OpAdmin *admin, const char *domain, gboolean enabled_only,
			     GError **error)
{
	g_autoptr(OpStoreDomain) stored = NULL;
	g_autoptr(GError) local_error = NULL;

	stored = op_store_get_domain(admin->store, domain, &local_error);
	if (stored == NULL) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND))
			g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
				    "the domain %s is not managed: add it first", domain);
		else
			g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	if (enabled_only && !stored->enabled) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is disabled",
			    domain);
		return NULL;
	}
	return op_client_settings_new(stored->name, admin->config->hostname, stored->imap_server,
				      stored->pop3_server, error);
}

/* Returns the account's address in the store's form after checking that it
 * exists. */
static char *
dup_account_address(OpAdmin *admin, const char *address, GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);
	g_autoptr(OpStoreAccount) account = NULL;
	g_autoptr(GError) local_error = NULL;

	if (normalized == NULL)
		return NULL;
	account = op_store_get_account(admin->store, normalized, &local_error);
	if (account == NULL) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND))
			g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
				    "no account %s: add it first", normalized);
		else
			g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	return g_strdup(account->address);
}

/* Returns "https://HOST[:PORT]" of the first listener that serves profiles,
 * or NULL when none does. */
static char *
dup_profile_base(OpConfig *config)
{
	gboolean https = config->https_listen[0] != NULL;
	const char *listen = https ? config->https_listen[0] : config->http_listen[0];
	g_autofree char *host = NULL;
	guint port = 0;

	if (!op_http_server_is_enabled(config, NULL))
		return NULL;
	if (listen == NULL || (!https && !config->http_allow_plain))
		return NULL;
	if (!op_parse_host_port(listen, https ? 443 : 80, &host, &port, NULL))
		return NULL;
	if (port == (https ? 443u : 80u))
		return g_strdup_printf("%s://%s", https ? "https" : "http", config->hostname);
	return g_strdup_printf("%s://%s:%u", https ? "https" : "http", config->hostname, port);
}

OpAdminClientSetup *
op_admin_get_client_setup(OpAdmin *admin, const char *address, GError **error)
{
	g_autofree char *normalized = dup_account_address(admin, address, error);
	g_autoptr(OpAdminClientSetup) setup = NULL;
	g_autofree char *escaped = NULL;
	g_autofree char *token = NULL;
	g_autofree char *base = NULL;

	if (normalized == NULL)
		return NULL;
	setup = g_new0(OpAdminClientSetup, 1);
	setup->address = g_steal_pointer(&normalized);
	setup->settings = op_admin_dup_client_settings(admin, strrchr(setup->address, '@') + 1,
						       FALSE, error);
	if (setup->settings == NULL)
		return NULL;
	token = op_store_ensure_profile_token(admin->store, setup->address, error);
	if (token == NULL)
		return NULL;
	/* Clients build these URLs themselves, on the default HTTPS port. */
	escaped = g_uri_escape_string(setup->address, NULL, FALSE);
	setup->autoconfig_url = g_strdup_printf("https://autoconfig.%s" OP_AUTOCONFIG_PATH
						"?emailaddress=%s",
						setup->settings->domain, escaped);
	setup->autodiscover_url = g_strdup_printf("https://autodiscover.%s" OP_AUTODISCOVER_PATH,
						  setup->settings->domain);
	base = dup_profile_base(admin->config);
	setup->profile_url = base ? g_strconcat(base, OP_HTTP_PROFILE_PREFIX, token,
						OP_HTTP_PROFILE_SUFFIX, NULL)
				  : g_strdup("");
	return g_steal_pointer(&setup);
}

void
op_admin_client_setup_free(OpAdminClientSetup *setup)
{
	if (setup == NULL)
		return;
	g_free(setup->address);
	op_client_settings_free(setup->settings);
	g_free(setup->autoconfig_url);
	g_free(setup->autodiscover_url);
	g_free(setup->profile_url);
	g_free(setup);
}

static GBytes *
build_profile(OpAdmin *admin, const char *address, gboolean enabled_only, GError **error)
{
	g_autoptr(OpClientSettings) settings = NULL;
	g_autoptr(GBytes) profile = NULL;

	settings = op_admin_dup_client_settings(admin, strrchr(address, '@') + 1, enabled_only,
						error);
	if (settings == NULL)
		return NULL;
	profile = op_mobileconfig_new(settings, address, error);
	if (profile == NULL || admin->profile_signer == NULL)
		return g_steal_pointer(&profile);
	return op_profile_signer_sign(admin->profile_signer, profile, error);
}

GBytes *
op_admin_get_apple_profile(OpAdmin *admin, const char *address, GError **error)
{
	g_autofree char *normalized = dup_account_address(admin, address, error);
	g_autofree char *token = NULL;

	if (normalized == NULL)
		return NULL;
	token = op_store_ensure_profile_token(admin->store, normalized, error);
	if (token == NULL)
		return NULL;
	return build_profile(admin, normalized, FALSE, error);
}

GBytes *
op_admin_get_profile_by_token(OpAdmin *admin, const char *token, char **domain,
			      GError **error)
{
	g_autofree char *address = op_store_find_profile_account(admin->store, token, error);
	g_autoptr(OpStoreAccount) account = NULL;
	GBytes *profile;

	if (address == NULL)
		return NULL;

	/* A disabled account is served like a removed one, so its token stops
	 * working until the account is enabled again. */
	account = op_store_get_account(admin->store, address, error);
	if (account == NULL)
		return NULL;
	if (!account->enabled) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the account %s is disabled",
			    address);
		return NULL;
	}

	profile = build_profile(admin, address, TRUE, error);
	if (profile != NULL && domain != NULL)
		*domain = g_strdup(strrchr(address, '@') + 1);
	return profile;
}
