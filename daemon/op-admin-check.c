/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The deliverability check of a managed domain, run through the admin API:
 * it gathers what the check needs (the records to publish, the sending
 * addresses, the certificate), runs it and keeps the outcome, so the domain
 * list can show each domain's health without asking DNS again.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "dns/op-records.h"
#include "op-error.h"

#include <json-glib/json-glib.h>

#define OP_CHECK_RESOLVER_TIMEOUT 5

static GPtrArray *
parse_sending_addresses(OpAdmin *admin)
{
	GPtrArray *addresses = g_ptr_array_new_with_free_func(g_object_unref);

	for (char **text = admin->config->sending_addresses; *text != NULL; text++) {
		GInetAddress *address = g_inet_address_new_from_string(*text);

		if (address != NULL)
			g_ptr_array_add(addresses, address);
	}
	return addresses;
}

/* Returns the checks as the JSON text kept in the store. */
static char *
dup_report(GPtrArray *checks)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_array(builder);
	for (guint i = 0; i < checks->len; i++) {
		const OpCheck *check = checks->pdata[i];

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, check->name);
		json_builder_set_member_name(builder, "state");
		json_builder_add_string_value(builder, op_check_state_to_string(check->state));
		json_builder_set_member_name(builder, "sentence");
		json_builder_add_string_value(builder, check->sentence);
		json_builder_set_member_name(builder, "fix");
		json_builder_add_string_value(builder, check->fix);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

GPtrArray *
op_admin_check_domain(OpAdmin *admin, const char *domain, const char **health, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GPtrArray) addresses = NULL;
	g_autoptr(OpResolver) resolver = NULL;
	g_autoptr(GPtrArray) checks = NULL;
	g_autofree char *report = NULL;
	g_autoptr(GError) store_error = NULL;
	OpDnsCheckInput input = {0};

	if (name == NULL)
		return NULL;
	records = op_admin_get_dns_records(admin, name, error);
	if (records == NULL)
		return NULL;
	resolver = op_resolver_new(admin->config->dns_resolver, OP_CHECK_RESOLVER_TIMEOUT, error);
	if (resolver == NULL)
		return NULL;
	addresses = parse_sending_addresses(admin);
	input.domain = name;
	input.hostname = admin->config->hostname;
	input.records = records;
	input.sending_addresses = addresses;
	input.dnsbl_zones = (const char *const *)admin->config->dnsbl_zones;
	input.resolver = resolver;
	input.authoritative_port = admin->config->authoritative_port;
	input.tls_cert = admin->config->tls_cert;
	checks = op_dns_check_run(&input);
	*health = op_dns_check_health(checks);
	report = dup_report(checks);
	/* The outcome is kept for the domain list; failing to keep it loses only that. */
	if (!op_store_set_dns_check(admin->store, name, *health, report, &store_error))
		g_warning("keeping the check of %s failed: %s", name, store_error->message);
	g_message("domain %s checked: %s, %u checks", name, *health, checks->len);
	return g_steal_pointer(&checks);
}
