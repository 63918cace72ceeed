/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DNS publishing: sends a managed domain's generated records to a publish
 * target, given with the call or stored for the domain, and manages the
 * stored targets. Secrets are write-only: they leave the daemon only towards
 * the target's own server and are never logged.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "dns/op-publisher.h"
#include "dns/op-records.h"
#include "op-error.h"

#include <string.h>

#define OP_KIND_DNS_UPDATE "dns-update"
#define OP_KIND_POWERDNS "powerdns"
#define OP_DEFAULT_SERVER_ID "localhost"

/* The keys of SetPublishTarget's dictionary, the kind each applies to (NULL
 * for every kind) and the target field each sets. */
static const struct {
	const char *key;
	const char *kind;
	gsize offset;
} op_target_keys[] = {
	{"kind", NULL, G_STRUCT_OFFSET(OpPublishTarget, kind)},
	{"zone", NULL, G_STRUCT_OFFSET(OpPublishTarget, zone)},
	{"server", OP_KIND_DNS_UPDATE, G_STRUCT_OFFSET(OpPublishTarget, server)},
	{"tsig-name", OP_KIND_DNS_UPDATE, G_STRUCT_OFFSET(OpPublishTarget, key_name)},
	{"tsig-algorithm", OP_KIND_DNS_UPDATE, G_STRUCT_OFFSET(OpPublishTarget, key_algorithm)},
	{"tsig-secret", OP_KIND_DNS_UPDATE, G_STRUCT_OFFSET(OpPublishTarget, secret)},
	{"api-url", OP_KIND_POWERDNS, G_STRUCT_OFFSET(OpPublishTarget, server)},
	{"api-key", OP_KIND_POWERDNS, G_STRUCT_OFFSET(OpPublishTarget, secret)},
	{"server-id", OP_KIND_POWERDNS, G_STRUCT_OFFSET(OpPublishTarget, key_name)},
};

static gboolean
read_target_entry(OpPublishTarget *target, const char *key, GVariant *value, GError **error)
{
	g_autofree char *printable = op_admin_dup_printable_key(key);
	char **field;

	for (guint i = 0; i < G_N_ELEMENTS(op_target_keys); i++) {
		if (strcmp(key, op_target_keys[i].key) != 0)
			continue;
		if (op_target_keys[i].kind != NULL &&
		    strcmp(op_target_keys[i].kind, target->kind) != 0) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "the key %s does not apply to a %s publish target",
				    printable, target->kind);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "the publish target's %s must be a string", printable);
			return FALSE;
		}
		field = &G_STRUCT_MEMBER(char *, target, op_target_keys[i].offset);
		g_free(*field);
		*field = g_variant_dup_string(value, NULL);
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown publish target key %s: use kind, zone, server, tsig-name, "
		    "tsig-algorithm, tsig-secret, api-url, api-key or server-id", printable);
	return FALSE;
}

/* Checks the zone against the domain and stores it normalized. */
static gboolean
check_zone(OpPublishTarget *target, const char *domain, GError **error)
{
	g_autofree char *requested = g_strdup(target->zone ? target->zone : "");
	g_autofree char *zone = NULL;
	gsize domain_length = strlen(domain);
	gsize zone_length;

	if (g_str_has_suffix(requested, "."))
		requested[strlen(requested) - 1] = '\0';
	if (*requested == '\0') {
		g_free(target->zone);
		target->zone = g_strdup("");
		return TRUE;
	}
	zone = op_admin_normalize_domain(requested, error);
	if (zone == NULL)
		return FALSE;
	zone_length = strlen(zone);
	if (strcmp(zone, domain) != 0 &&
	    (domain_length <= zone_length || domain[domain_length - zone_length - 1] != '.' ||
	     strcmp(domain + domain_length - zone_length, zone) != 0)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the domain %s is not inside the zone %s: give the zone that "
			    "contains it", domain, zone);
		return FALSE;
	}
	g_free(target->zone);
	target->zone = g_steal_pointer(&zone);
	return TRUE;
}

/* Reads and checks SetPublishTarget's dictionary for domain. */
static OpPublishTarget *
read_target(GVariant *dictionary, const char *domain, GError **error)
{
	g_autoptr(OpPublishTarget) target = g_new0(OpPublishTarget, 1);
	GVariantIter iter;
	const char *key;
	GVariant *value;

	if (!g_variant_lookup(dictionary, "kind", "s", &target->kind) ||
	    (strcmp(target->kind, OP_KIND_DNS_UPDATE) != 0 &&
	     strcmp(target->kind, OP_KIND_POWERDNS) != 0)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the publish target's kind as a string: dns-update or powerdns");
		return NULL;
	}
	g_variant_iter_init(&iter, dictionary);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		gboolean ok = read_target_entry(target, key, value, error);

		g_variant_unref(value);
		if (!ok)
			return NULL;
	}
	if (strcmp(target->kind, OP_KIND_POWERDNS) == 0 &&
	    (target->key_name == NULL || *target->key_name == '\0')) {
		g_free(target->key_name);
		target->key_name = g_strdup(OP_DEFAULT_SERVER_ID);
	}
	if (!op_publisher_check_target(target, error) || !check_zone(target, domain, error))
		return NULL;
	return g_steal_pointer(&target);
}

/* Normalizes domain and checks that it is managed. */
static char *
dup_managed_domain(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(OpStoreDomain) stored = NULL;

	if (name == NULL)
		return NULL;
	stored = op_store_get_domain(admin->store, name, error);
	if (stored == NULL)
		return NULL;
	return g_steal_pointer(&name);
}

/* The secret is required with every change, even when one is stored:
 * otherwise a caller could point the stored key at a server of its own and
 * read the write-only secret there. */
gboolean
op_admin_set_publish_target(OpAdmin *admin, const char *domain, GVariant *target,
			    GError **error)
{
	g_autofree char *name = dup_managed_domain(admin, domain, error);
	g_autoptr(OpPublishTarget) checked = NULL;

	if (name == NULL)
		return FALSE;
	checked = read_target(target, name, error);
	if (checked == NULL)
		return FALSE;
	if (!op_store_set_publish_target(admin->store, name, checked, error))
		return FALSE;
	g_info("stored the %s publish target of %s: server=%s zone=%s", checked->kind, name,
	       checked->server, *checked->zone ? checked->zone : name);
	return TRUE;
}

GVariant *
op_admin_describe_publish_target(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = dup_managed_domain(admin, domain, error);
	g_autoptr(OpPublishTarget) target = NULL;
	GVariantDict dict;

	if (name == NULL)
		return NULL;
	if (!op_store_get_publish_target(admin->store, name, &target, error))
		return NULL;
	g_variant_dict_init(&dict, NULL);
	if (target == NULL)
		return g_variant_dict_end(&dict);
	g_variant_dict_insert(&dict, "kind", "s", target->kind);
	g_variant_dict_insert(&dict, "zone", "s", *target->zone ? target->zone : name);
	if (strcmp(target->kind, OP_KIND_POWERDNS) == 0) {
		g_variant_dict_insert(&dict, "api-url", "s", target->server);
		g_variant_dict_insert(&dict, "server-id", "s", target->key_name);
	} else {
		g_variant_dict_insert(&dict, "server", "s", target->server);
		g_variant_dict_insert(&dict, "tsig-name", "s", target->key_name);
		g_variant_dict_insert(&dict, "tsig-algorithm", "s", target->key_algorithm);
	}
	g_variant_dict_insert(&dict, "has-secret", "b", *target->secret != '\0');
	return g_variant_dict_end(&dict);
}

gboolean
op_admin_remove_publish_target(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = dup_managed_domain(admin, domain, error);

	if (name == NULL || !op_store_remove_publish_target(admin->store, name, error))
		return FALSE;
	g_info("removed the publish target of %s", name);
	return TRUE;
}

/* Returns the target of a publish call: the one given, or with an empty
 * server the one stored for domain. */
static OpPublishTarget *
dup_call_target(OpAdmin *admin, const char *domain, const char *server, const char *tsig_name,
		const char *tsig_algorithm, const char *tsig_secret, GError **error)
{
	OpPublishTarget *target = NULL;

	if (*server != '\0') {
		target = g_new0(OpPublishTarget, 1);
		target->kind = g_strdup(OP_KIND_DNS_UPDATE);
		target->server = g_strdup(server);
		target->key_name = g_strdup(tsig_name);
		target->key_algorithm = g_strdup(tsig_algorithm);
		target->secret = g_strdup(tsig_secret);
		target->zone = g_strdup("");
		return target;
	}
	if (*tsig_name != '\0' || *tsig_algorithm != '\0' || *tsig_secret != '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "a TSIG key needs the server it is for: give the server too, or "
			    "leave both empty to use the stored publish target");
		return NULL;
	}
	if (!op_store_get_publish_target(admin->store, domain, &target, error))
		return NULL;
	if (target == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "no publish target is stored for %s: store one with "
			    "SetPublishTarget (outpostctl dns target set) or give a server",
			    domain);
	return target;
}

gboolean
op_admin_publish_dns_records(OpAdmin *admin, const char *domain, const char *server,
			     const char *tsig_name, const char *tsig_algorithm,
			     const char *tsig_secret, guint *count, GError **error)
{
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(OpPublishTarget) target = NULL;
	g_autofree char *name = dup_managed_domain(admin, domain, error);
	const char *zone;

	if (name == NULL)
		return FALSE;
	target = dup_call_target(admin, name, server, tsig_name, tsig_algorithm, tsig_secret,
				 error);
	/* Every argument is checked before anything goes to the network. */
	if (target == NULL || !op_publisher_check_target(target, error))
		return FALSE;
	records = op_admin_get_dns_records_full(admin, name, TRUE, error);
	if (records == NULL)
		return FALSE;
	op_records_remove_advice(records);
	zone = *target->zone != '\0' ? target->zone : name;
	if (!op_publisher_publish(target, zone, records, error))
		return FALSE;
	g_info("published %u DNS records of %s to the %s target %s (zone %s)", records->len,
	       name, target->kind, target->server, zone);
	*count = records->len;
	return TRUE;
}
