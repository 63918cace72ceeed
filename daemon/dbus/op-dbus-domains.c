/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The domain and account methods of the admin API: domains with their
 * settings and DNS records, accounts with their state, limits and aliases.
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

/* Adds the keys that ListDomains and GetDomain share. */
static void
add_domain_entries(GVariantBuilder *builder, const OpStoreDomain *domain)
{
	op_dbus_add_entry(builder, "name", g_variant_new_string(domain->name));
	op_dbus_add_entry(builder, "dkim-selector",
			  g_variant_new_string(domain->dkim_selector ? domain->dkim_selector : ""));
	op_dbus_add_entry(builder, "enabled", g_variant_new_boolean(domain->enabled));
	op_dbus_add_entry(builder, "accounts", g_variant_new_uint32(domain->accounts));
	op_dbus_add_entry(builder, "created", g_variant_new_int64(domain->created));
	op_dbus_add_entry(builder, "hourly-limit", g_variant_new_uint32(domain->hourly_limit));
	op_dbus_add_entry(builder, "smarthost",
			  g_variant_new_string(domain->smarthost ? domain->smarthost : ""));
	op_dbus_add_entry(builder, "imap-server", g_variant_new_string(domain->imap_server));
	op_dbus_add_entry(builder, "pop3-server", g_variant_new_string(domain->pop3_server));
	op_dbus_add_entry(builder, "dmarc-policy", g_variant_new_string(domain->dmarc_policy));
	op_dbus_add_entry(builder, "dmarc-rua", g_variant_new_string(domain->dmarc_rua));
	op_dbus_add_entry(builder, "health",
			  g_variant_new_string(domain->health ? domain->health : "unknown"));
	op_dbus_add_entry(builder, "checked", g_variant_new_int64(domain->checked));
	op_dbus_add_entry(builder, "status",
			  g_variant_new_string(domain->enabled ? "ok" : "disabled"));
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
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		add_domain_entries(&builder, g_ptr_array_index(domains, i));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_domain(OpCall *call, GError **error)
{
	const char *name = NULL;
	g_autoptr(OpStoreDomain) domain = NULL;
	guint queued = 0;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(&s)", &name);
	domain = op_admin_get_domain(call->service->admin, name, &queued, error);
	if (domain == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(a{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
	add_domain_entries(&builder, domain);
	op_dbus_add_entry(&builder, "queued", g_variant_new_uint32(queued));
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_set_domain_settings(OpCall *call, GError **error)
{
	const char *domain = NULL;
	g_autoptr(GVariant) settings = NULL;

	g_variant_get(call->parameters, "(&s@a{sv})", &domain, &settings);
	if (!op_admin_set_domain_settings(call->service->admin, domain, settings, error))
		return NULL;
	return g_variant_new("()");
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
		op_dbus_add_entry(&builder, "publish",
				  g_variant_new_boolean(g_strcmp0(record->role, "advice") != 0));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_publish_dns_records(OpCall *call, GError **error)
{
	const char *domain = NULL;
	const char *server = NULL;
	const char *tsig_name = NULL;
	const char *tsig_algorithm = NULL;
	const char *tsig_secret = NULL;
	guint count = 0;

	g_variant_get(call->parameters, "(&s&s&s&s&s)", &domain, &server, &tsig_name,
		      &tsig_algorithm, &tsig_secret);
	if (!op_admin_publish_dns_records(call->service->admin, domain, server, tsig_name,
					  tsig_algorithm, tsig_secret, &count, error))
		return NULL;
	return g_variant_new("(u)", count);
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
	accounts = op_admin_list_accounts(call->service->admin, filter, offset, limit, error);
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
		op_dbus_add_entry(&builder, "hourly-limit",
				  g_variant_new_uint32(account->hourly_limit));
		op_dbus_add_entry(&builder, "aliases",
				  g_variant_new_strv((const char *const *)account->aliases, -1));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_set_account_enabled(OpCall *call, GError **error)
{
	const char *address = NULL;
	gboolean enabled = FALSE;

	g_variant_get(call->parameters, "(&sb)", &address, &enabled);
	if (!op_admin_set_account_enabled(call->service->admin, address, enabled, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_set_account_hourly_limit(OpCall *call, GError **error)
{
	const char *address = NULL;
	guint limit = 0;

	g_variant_get(call->parameters, "(&su)", &address, &limit);
	if (!op_admin_set_account_hourly_limit(call->service->admin, address, limit, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_list_aliases(OpCall *call, GError **error)
{
	const char *address = NULL;
	g_auto(GStrv) aliases = NULL;

	g_variant_get(call->parameters, "(&s)", &address);
	aliases = op_admin_list_aliases(call->service->admin, address, error);
	if (aliases == NULL)
		return NULL;
	return g_variant_new("(^as)", aliases);
}

static GVariant *
do_add_alias(OpCall *call, GError **error)
{
	const char *address = NULL;
	const char *alias = NULL;

	g_variant_get(call->parameters, "(&s&s)", &address, &alias);
	if (!op_admin_add_alias(call->service->admin, address, alias, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_alias(OpCall *call, GError **error)
{
	const char *address = NULL;
	const char *alias = NULL;

	g_variant_get(call->parameters, "(&s&s)", &address, &alias);
	if (!op_admin_remove_alias(call->service->admin, address, alias, error))
		return NULL;
	return g_variant_new("()");
}

const OpDbusMethod op_dbus_domain_methods[] = {
	{"AddDomain", OP_ACTION_MANAGE, do_add_domain},
	{"RemoveDomain", OP_ACTION_MANAGE, do_remove_domain},
	{"ListDomains", OP_ACTION_READ, do_list_domains},
	{"GetDomain", OP_ACTION_READ, do_get_domain},
	{"SetDomainSettings", OP_ACTION_MANAGE, do_set_domain_settings},
	{"GetDnsRecords", OP_ACTION_READ, do_get_dns_records},
	{"PublishDnsRecords", OP_ACTION_MANAGE, do_publish_dns_records},
	{"AddAccount", OP_ACTION_MANAGE, do_add_account},
	{"RemoveAccount", OP_ACTION_MANAGE, do_remove_account},
	{"SetPassword", OP_ACTION_MANAGE, do_set_password},
	{"ListAccounts", OP_ACTION_READ, do_list_accounts},
	{"SetAccountEnabled", OP_ACTION_MANAGE, do_set_account_enabled},
	{"SetAccountHourlyLimit", OP_ACTION_MANAGE, do_set_account_hourly_limit},
	{"ListAliases", OP_ACTION_READ, do_list_aliases},
	{"AddAlias", OP_ACTION_MANAGE, do_add_alias},
	{"RemoveAlias", OP_ACTION_MANAGE, do_remove_alias},
	{NULL, NULL, NULL},
};
