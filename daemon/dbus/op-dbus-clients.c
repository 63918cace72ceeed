/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The mail-client setup methods of the admin API: the settings a user types
 * into a mail client and the account's Apple profile.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-error.h"

static void
add_server(GVariantBuilder *builder, const char *prefix, const OpMailServer *server)
{
	g_autofree char *host = g_strconcat(prefix, "-host", NULL);
	g_autofree char *port = g_strconcat(prefix, "-port", NULL);
	g_autofree char *security = g_strconcat(prefix, "-security", NULL);

	op_dbus_add_entry(builder, host, g_variant_new_string(server ? server->host : ""));
	op_dbus_add_entry(builder, port, g_variant_new_uint32(server ? server->port : 0));
	op_dbus_add_entry(builder, security,
			  g_variant_new_string(server == NULL	     ? ""
					       : server->implicit_tls ? "ssl"
								      : "starttls"));
}

static GVariant *
do_get_client_settings(OpCall *call, GError **error)
{
	const char *address = NULL;
	g_autoptr(OpAdminClientSetup) setup = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&s)", &address);
	setup = op_admin_get_client_setup(call->service->admin, address, error);
	if (setup == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(a{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
	op_dbus_add_entry(&builder, "address", g_variant_new_string(setup->address));
	op_dbus_add_entry(&builder, "smtp-host",
			  g_variant_new_string(setup->settings->smtp_host));
	op_dbus_add_entry(&builder, "smtp-port", g_variant_new_uint32(OP_SUBMISSION_PORT));
	op_dbus_add_entry(&builder, "smtp-security", g_variant_new_string("starttls"));
	op_dbus_add_entry(&builder, "smtps-port", g_variant_new_uint32(OP_SUBMISSIONS_PORT));
	op_dbus_add_entry(&builder, "smtps-security", g_variant_new_string("ssl"));
	op_dbus_add_entry(&builder, "username", g_variant_new_string(setup->address));
	op_dbus_add_entry(&builder, "authentication", g_variant_new_string("normal password"));
	add_server(&builder, "imap", setup->settings->imap);
	add_server(&builder, "pop3", setup->settings->pop3);
	op_dbus_add_entry(&builder, "autoconfig-url",
			  g_variant_new_string(setup->autoconfig_url));
	op_dbus_add_entry(&builder, "autodiscover-url",
			  g_variant_new_string(setup->autodiscover_url));
	op_dbus_add_entry(&builder, "profile-url", g_variant_new_string(setup->profile_url));
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_apple_profile(OpCall *call, GError **error)
{
	const char *address = NULL;
	g_autoptr(GBytes) profile = NULL;
	GVariant *bytes;

	g_variant_get(call->parameters, "(&s)", &address);
	profile = op_admin_get_apple_profile(call->service->admin, address, error);
	if (profile == NULL)
		return NULL;
	bytes = g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, profile, TRUE);
	return g_variant_new_tuple(&bytes, 1);
}

const OpDbusMethod op_dbus_client_methods[] = {
	{"GetClientSettings", OP_ACTION_READ, do_get_client_settings},
	{"GetAppleProfile", OP_ACTION_READ, do_get_apple_profile},
	{NULL, NULL, NULL},
};
