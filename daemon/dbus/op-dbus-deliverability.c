/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The deliverability methods of the admin API: a domain's DKIM keys and
 * their rotation, and the check of what DNS publishes.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

static void
add_key_entries(GVariantBuilder *builder, OpAdmin *admin, const OpStoreDkimKey *key)
{
	g_autofree char *record = g_strdup_printf("%s._domainkey.%s.", key->selector,
						  key->domain);

	op_dbus_add_entry(builder, "selector", g_variant_new_string(key->selector));
	op_dbus_add_entry(builder, "algorithm", g_variant_new_string(key->algorithm));
	op_dbus_add_entry(builder, "state",
			  g_variant_new_string(op_dkim_key_state_to_string(key->state)));
	op_dbus_add_entry(builder, "record", g_variant_new_string(record));
	op_dbus_add_entry(builder, "created", g_variant_new_int64(key->created));
	op_dbus_add_entry(builder, "changed", g_variant_new_int64(key->changed));
	if (key->state == OP_DKIM_KEY_RETIRING)
		op_dbus_add_entry(builder, "removed-after",
				  g_variant_new_int64(key->changed +
						      (gint64)admin->config->dkim_grace));
}

static GVariant *
do_list_dkim_keys(OpCall *call, GError **error)
{
	OpAdmin *admin = call->service->admin;
	const char *domain = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&s)", &domain);
	keys = op_admin_list_dkim_keys(admin, domain, error);
	if (keys == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < keys->len; i++) {
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		add_key_entries(&builder, admin, keys->pdata[i]);
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_rotate_dkim_key(OpCall *call, GError **error)
{
	const char *domain = NULL;
	const char *algorithm = NULL;
	g_autofree char *selector = NULL;

	g_variant_get(call->parameters, "(&s&s)", &domain, &algorithm);
	selector = op_admin_rotate_dkim_key(call->service->admin, domain, algorithm, NULL, error);
	if (selector == NULL)
		return NULL;
	return g_variant_new("(s)", selector);
}

static GVariant *
do_activate_dkim_key(OpCall *call, GError **error)
{
	const char *domain = NULL;
	const char *selector = NULL;
	gboolean force = FALSE;

	g_variant_get(call->parameters, "(&s&sb)", &domain, &selector, &force);
	if (!op_admin_activate_dkim_key(call->service->admin, domain, selector, force, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_dkim_key(OpCall *call, GError **error)
{
	const char *domain = NULL;
	const char *selector = NULL;

	g_variant_get(call->parameters, "(&s&s)", &domain, &selector);
	if (!op_admin_remove_dkim_key(call->service->admin, domain, selector, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_check_domain_dns(OpCall *call, GError **error)
{
	const char *domain = NULL;
	const char *health = NULL;
	g_autoptr(GPtrArray) checks = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&s)", &domain);
	checks = op_admin_check_domain(call->service->admin, domain, &health, error);
	if (checks == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(saa{sv})"));
	g_variant_builder_add(&builder, "s", health);
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < checks->len; i++) {
		const OpCheck *check = checks->pdata[i];

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "name", g_variant_new_string(check->name));
		op_dbus_add_entry(&builder, "state",
				  g_variant_new_string(op_check_state_to_string(check->state)));
		op_dbus_add_entry(&builder, "sentence", g_variant_new_string(check->sentence));
		op_dbus_add_entry(&builder, "fix", g_variant_new_string(check->fix));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

const OpDbusMethod op_dbus_deliverability_methods[] = {
	{ "CheckDomainDns", OP_ACTION_READ, do_check_domain_dns },
	{ "ListDkimKeys", OP_ACTION_READ, do_list_dkim_keys },
	{ "RotateDkimKey", OP_ACTION_MANAGE, do_rotate_dkim_key },
	{ "ActivateDkimKey", OP_ACTION_MANAGE, do_activate_dkim_key },
	{ "RemoveDkimKey", OP_ACTION_MANAGE, do_remove_dkim_key },
	{ NULL },
};
