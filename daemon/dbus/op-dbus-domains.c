/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The domain and account methods of the admin API.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "dns/op-records.h"
#include "op-error.h"

static GVariant *
do_add_domain(OpCall *call, GError **error)
{
	const char *domain = NULL;

	g_variant_get(call->parameters, "(&s)", &domain);
	if (!op_admin_add_domain(call->service->admin, domain, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_domain(OpCall *call, GError **error)
{
	const char *domain = NULL;
	gboolean force = FALSE;

	g_variant_get(call->parameters, "(&sb)", &domain, &force);
	if (!op_admin_remove_domain(call->service->admin, domain, force, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_list_domains(OpCall *call, GError **error)
{
	g_autoptr(GPtrArray) domains = op_admin_list_domains(call->service->admin, error);
	GVariantBuilder builder;

	if (domains == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < domains->len; i++) {
		OpStoreDomain *domain = g_ptr_array_index(domains, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "name", g_variant_new_string(domain->name));
		op_dbus_add_entry(&builder, "dkim-selector",
				  g_variant_new_string(domain->dkim_selector));
		op_dbus_add_entry(&builder, "enabled", g_variant_new_boolean(domain->enabled));
		op_dbus_add_entry(&builder, "accounts", g_variant_new_uint32(domain->accounts));
		op_dbus_add_entry(&builder, "created", g_variant_new_int64(domain->created));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_dns_records(OpCall *call, GError **error)
{
	const char *domain = NULL;
	g_autoptr(GPtrArray) records = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&s)", &domain);
	records = op_admin_get_dns_records(call->service->admin, domain, error);
	if (records == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < records->len; i++) {
		OpDnsRecord *record = g_ptr_array_index(records, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "name", g_variant_new_string(record->name));
		op_dbus_add_entry(&builder, "type", g_variant_new_string(record->type));
		op_dbus_add_entry(&builder, "value", g_variant_new_string(record->value));
		op_dbus_add_entry(&builder, "purpose",
				  g_variant_new_string(record->purpose ? record->purpose : ""));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_add_account(OpCall *call, GError **error)
{
	const char *address = NULL;
	const char *password = NULL;

	g_variant_get(call->parameters, "(&s&s)", &address, &password);
	if (!op_admin_add_account(call->service->admin, address, password, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_account(OpCall *call, GError **error)
{
	const char *address = NULL;

	g_variant_get(call->parameters, "(&s)", &address);
	if (!op_admin_remove_account(call->service->admin, address, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_set_password(OpCall *call, GError **error)
{
	const char *address = NULL;
	const char *password = NULL;

	g_variant_get(call->parameters, "(&s&s)", &address, &password);
	if (!op_admin_set_password(call->service->admin, address, password, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_list_accounts(OpCall *call, GError **error)
{
	const char *filter = NULL;
	guint offset = 0;
	guint limit = 0;
	g_autoptr(GPtrArray) accounts = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&suu)", &filter, &offset, &limit);
	if (!op_dbus_check_page(limit, error))
		return NULL;
	accounts = op_store_list_accounts(call->service->admin->store, filter, offset, limit,
					  error);
	if (accounts == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < accounts->len; i++) {
		OpStoreAccount *account = g_ptr_array_index(accounts, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "address", g_variant_new_string(account->address));
		op_dbus_add_entry(&builder, "enabled", g_variant_new_boolean(account->enabled));
		op_dbus_add_entry(&builder, "created", g_variant_new_int64(account->created));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

const OpDbusMethod op_dbus_domain_methods[] = {
	{"AddDomain", OP_ACTION_MANAGE, do_add_domain},
	{"RemoveDomain", OP_ACTION_MANAGE, do_remove_domain},
	{"ListDomains", OP_ACTION_READ, do_list_domains},
	{"GetDnsRecords", OP_ACTION_READ, do_get_dns_records},
	{"AddAccount", OP_ACTION_MANAGE, do_add_account},
	{"RemoveAccount", OP_ACTION_MANAGE, do_remove_account},
	{"SetPassword", OP_ACTION_MANAGE, do_set_password},
	{"ListAccounts", OP_ACTION_READ, do_list_accounts},
	{NULL, NULL, NULL},
};
