/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The domain and account half of the admin engine. It checks every argument
 * before changing anything, so a rejected call leaves no trace. A domain's
 * key file is removed again when the store rejects the domain, an account is
 * stored only with a valid address and password, and domain settings are
 * stored together or not at all.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "auth/op-password.h"
#include "dkim/op-dkim.h"
#include "dns/op-records.h"
#include "dns/op-spf.h"
#include "op-error.h"
#include "smtp/op-address.h"

#include <errno.h>
#include <glib/gstdio.h>

#define OP_MAX_DOMAIN_LENGTH 253
#define OP_MAX_ADDRESS_LENGTH 254
/* A bracketed IPv6 address or a host name, a colon and a port. */
#define OP_MAX_SMARTHOST_LENGTH (OP_MAX_DOMAIN_LENGTH + 8)
/* Seconds for the lookups behind generated records (the published SPF record). */
#define OP_RECORDS_LOOKUP_TIMEOUT 3

static gboolean
is_valid_label(const char *label, gsize len)
{
	if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/* Returns the lower-case A-label form of a host name with at least
 * min_labels labels, or NULL when name is not a valid host name. */
static char *
dup_ascii_host_name(const char *name, guint min_labels)
{
	g_autofree char *ascii = NULL;
	g_auto(GStrv) labels = NULL;

	if (!g_utf8_validate(name, -1, NULL) || strlen(name) > OP_MAX_DOMAIN_LENGTH)
		return NULL;
	ascii = g_hostname_to_ascii(name);
	if (ascii == NULL || strlen(ascii) > OP_MAX_DOMAIN_LENGTH)
		return NULL;
	labels = g_strsplit(ascii, ".", -1);
	if (g_strv_length(labels) < min_labels)
		return NULL;
	for (guint i = 0; labels[i] != NULL; i++) {
		if (!is_valid_label(labels[i], strlen(labels[i])))
			return NULL;
	}
	return g_ascii_strdown(ascii, -1);
}

/* Returns the domain in lower-case A-label form, or an error saying why it
 * cannot be a mail domain. */
char *
op_admin_normalize_domain(const char *domain, GError **error)
{
	char *ascii;

	if (domain == NULL || *domain == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the domain name is empty: give a name such as example.org");
		return NULL;
	}
	ascii = dup_ascii_host_name(domain, 2);
	if (ascii == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid domain name: expected labels of letters, digits and hyphens "
			    "separated by dots, such as example.org");
	return ascii;
}

/* Returns the address with its domain in lower-case A-label form, the form
 * the store keeps, or an error when it is no valid address. The domain need
 * not be managed. */
char *
op_admin_normalize_address(const char *address, GError **error)
{
	g_autofree char *local_part = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *ascii = NULL;

	if (address == NULL || *address == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the address is empty: give an address such as anna@example.org");
		return NULL;
	}
	if (strlen(address) <= OP_MAX_ADDRESS_LENGTH && g_utf8_validate(address, -1, NULL) &&
	    op_address_parse_mailbox(address, &local_part, &domain, NULL))
		ascii = dup_ascii_host_name(domain, 2);
	if (ascii == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid address: expected name@domain of at most %d characters, "
			    "such as anna@example.org",
			    OP_MAX_ADDRESS_LENGTH);
		return NULL;
	}
	return g_strdup_printf("%s@%s", local_part, ascii);
}

gboolean
op_admin_add_domain(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autofree char *selector = NULL;
	g_autofree char *key_path = NULL;
	g_autofree char *key_dir = NULL;
	g_autoptr(OpStoreDomain) existing = NULL;

	if (name == NULL)
		return FALSE;
	existing = op_store_get_domain(admin->store, name, NULL);
	if (existing != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS, "the domain %s is already managed",
			    name);
		return FALSE;
	}
	/* A new selector per key lets a rotation publish the next one beside it. */
	selector = op_admin_dup_new_selector(OP_DKIM_RSA_SHA256);
	key_dir = g_build_filename(admin->config->state_dir, "dkim", NULL);
	if (g_mkdir_with_parents(key_dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to create %s: %s", key_dir,
			    g_strerror(saved));
		return FALSE;
	}
	key_path = op_admin_dup_dkim_key_path(admin, name, selector);
	/* A key left by an earlier, removed domain of the same name is replaced. */
	g_unlink(key_path);
	if (!op_dkim_generate_key(key_path, OP_DKIM_RSA_SHA256, error))
		return FALSE;
	if (!op_store_add_domain(admin->store, name, selector, key_path, "rsa-sha256", error)) {
		g_unlink(key_path);
		return FALSE;
	}
	g_message("domain %s added with DKIM selector %s", name, selector);
	return TRUE;
}

gboolean
op_admin_remove_domain(OpAdmin *admin, const char *domain, gboolean force, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(GPtrArray) keys = NULL;

	if (name == NULL)
		return FALSE;
	keys = op_admin_list_dkim_keys(admin, name, error);
	if (keys == NULL)
		return FALSE;
	if (!op_store_remove_domain(admin->store, name, force, error))
		return FALSE;
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];

		if (g_unlink(key->key_path) != 0 && errno != ENOENT)
			g_warning("removing the DKIM key %s failed: %s", key->key_path,
				  g_strerror(errno));
	}
	g_message("domain %s removed", name);
	return TRUE;
}

GPtrArray *
op_admin_list_domains(OpAdmin *admin, GError **error)
{
	return op_store_list_domains(admin->store, error);
}

/* Returns the terms the server needs in SPF: ip4:/ip6: terms for its sending
 * addresses, or else for the addresses of its host name, because those cost
 * no DNS lookup (RFC 7208 §4.6.4). a:HOSTNAME is the fallback. */
static GPtrArray *
dup_needed_spf_terms(OpAdmin *admin, OpResolver *resolver)
{
	GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) addresses = NULL;

	for (char **text = admin->config->sending_addresses; *text != NULL; text++)
		g_ptr_array_add(terms, g_strdup_printf("%s:%s", strchr(*text, ':') ? "ip6" : "ip4",
						       *text));
	if (terms->len == 0 && resolver != NULL)
		addresses = op_resolver_lookup_addresses(resolver, admin->config->hostname, NULL);
	for (guint i = 0; addresses != NULL && i < addresses->len; i++) {
		GInetAddress *address = addresses->pdata[i];
		g_autofree char *text = g_inet_address_to_string(address);

		g_ptr_array_add(terms, g_strdup_printf("%s:%s",
						       g_inet_address_get_family(address) ==
								       G_SOCKET_FAMILY_IPV6
							       ? "ip6"
							       : "ip4",
						       text));
	}
	if (terms->len == 0)
		g_ptr_array_add(terms, g_strdup_printf("a:%s", admin->config->hostname));
	g_ptr_array_add(terms, NULL);
	return terms;
}

/* Reads the SPF record the domain publishes now: NULL in *current when it
 * has none. Fails when the answer cannot be trusted to show it (a DNS
 * error, or more than one record), because merging into nothing would then
 * drop the admin's terms. */
static gboolean
read_current_spf(OpResolver *resolver, const char *domain, char **current, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GPtrArray) texts = op_resolver_lookup_txt(resolver, domain, &local_error);
	const char *record;

	*current = NULL;
	if (texts == NULL && g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND))
		return TRUE;
	if (texts == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the SPF record %s publishes now could not be read (%s), so merging "
			    "into it could drop its terms",
			    domain, local_error->message);
		return FALSE;
	}
	record = op_spf_record_select(texts, domain, &local_error);
	if (record == NULL && !g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
			    "%s publishes more than one SPF record, so receivers treat its SPF as "
			    "an error: merge them into one first",
			    domain);
		return FALSE;
	}
	*current = g_strdup(record);
	return TRUE;
}

/* Returns the SPF record to publish: the one the domain publishes now with
 * the server's terms merged in (RFC 7208 §3.2 allows only one record), or a
 * new one. Sets *purpose when the record needs too many lookups, and
 * *problem when the current record could not be read or merged: then the
 * returned record is a new one that must not replace the published one. */
static char *
dup_merged_spf(OpAdmin *admin, const char *domain, char **purpose, GError **problem)
{
	g_autoptr(OpResolver) resolver = op_resolver_new(admin->config->dns_resolver,
							 OP_RECORDS_LOOKUP_TIMEOUT, NULL);
	g_autoptr(GPtrArray) terms = dup_needed_spf_terms(admin, resolver);
	const char *const *needed = (const char *const *)terms->pdata;
	g_autofree char *current = NULL;
	g_autofree char *merged = NULL;
	OpSpfLookup lookup;
	guint count = 0;

	if (resolver == NULL || !read_current_spf(resolver, domain, &current, problem))
		return op_spf_record_merge(NULL, needed, NULL, NULL);
	merged = op_spf_record_merge(current, needed, NULL, problem);
	if (merged == NULL) {
		g_prefix_error(problem, "the SPF record %s publishes now (\"%s\") is invalid: ",
			       domain, current);
		return op_spf_record_merge(NULL, needed, NULL, NULL);
	}
	op_spf_lookup_init_resolver(&lookup, resolver);
	if (op_spf_count_record_lookups(&lookup, domain, merged, &count, NULL) &&
	    count > OP_SPF_MAX_DNS_LOOKUPS) {
		*purpose = g_strdup_printf(
			"SPF tells receivers which servers may send mail for the domain. This "
			"record needs %u DNS lookups, and receivers stop at %d: remove include: "
			"terms of services you no longer use.",
			count, OP_SPF_MAX_DNS_LOOKUPS);
		g_set_error(problem, OP_ERROR, OP_ERROR_PERMANENT,
			    "the SPF record of %s would need %u DNS lookups, and receivers treat "
			    "more than %d as an error: remove include: terms of services you no "
			    "longer use, then publish again",
			    domain, count, OP_SPF_MAX_DNS_LOOKUPS);
	}
	return g_steal_pointer(&merged);
}

GPtrArray *
op_admin_get_dns_records(OpAdmin *admin, const char *domain, GError **error)
{
	return op_admin_get_dns_records_full(admin, domain, FALSE, error);
}

/* Returns the records to publish. With for_publishing, an SPF record that
 * could not be merged safely is left out, so the domain keeps its own.
 * Otherwise that record is listed with the problem in its purpose. */
GPtrArray *
op_admin_get_dns_records_full(OpAdmin *admin, const char *domain, gboolean for_publishing,
			      GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(OpStoreDomain) stored = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) dkim = g_array_new(FALSE, TRUE, sizeof(OpRecordsDkimKey));
	g_autofree char *spf = NULL;
	g_autofree char *spf_purpose = NULL;
	g_autoptr(GError) spf_problem = NULL;
	g_auto(GStrv) revoked = NULL;
	OpRecordsInput input = {0};

	if (name == NULL)
		return NULL;
	stored = op_store_get_domain(admin->store, name, error);
	if (stored == NULL)
		return NULL;
	keys = op_store_list_dkim_keys(admin->store, name, error);
	if (keys == NULL)
		return NULL;
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];
		g_autoptr(GError) key_error = NULL;
		char *txt = op_dkim_dup_public_txt(key->key_path, &key_error);
		OpRecordsDkimKey entry = { key->selector, txt,
					   op_dkim_key_state_to_string(key->state) };

		/* A key that does not sign yet or any more can go without its record;
		 * the signing key cannot. */
		if (txt == NULL && key->state != OP_DKIM_KEY_ACTIVE) {
			g_warning("domain %s: the record of DKIM key %s is left out: %s",
				  stored->name, key->selector, key_error->message);
			continue;
		}
		if (txt == NULL) {
			g_propagate_prefixed_error(error, g_steal_pointer(&key_error),
						   "the signing DKIM key %s of %s is unusable: ",
						   key->selector, stored->name);
			return NULL;
		}
		g_ptr_array_add(texts, txt);
		g_array_append_val(dkim, entry);
	}
	revoked = op_store_dup_revoked_selectors(admin->store, name, error);
	if (revoked == NULL)
		return NULL;
	input.revoked_selectors = (const char *const *)revoked;
	input.domain = stored->name;
	input.hostname = admin->config->hostname;
	input.dkim_keys = (const OpRecordsDkimKey *)(gpointer)dkim->data;
	input.n_dkim_keys = dkim->len;
	if (admin->config->sending_addresses[0] != NULL)
		input.sending_addresses = (const char *const *)admin->config->sending_addresses;
	input.dmarc_policy = stored->dmarc_policy;
	input.dmarc_rua = stored->dmarc_rua;
	spf = dup_merged_spf(admin, stored->name, &spf_purpose, &spf_problem);
	/* Publishing then leaves the domain's SPF record as it is. */
	if (spf_problem != NULL && for_publishing) {
		g_warning("domain %s: the SPF record is left out of the publishing: %s",
			  stored->name, spf_problem->message);
		input.omit_spf = TRUE;
	} else if (spf_problem != NULL) {
		g_free(spf_purpose);
		spf_purpose = g_strdup_printf("Not published by Outpost until fixed: %s.",
					      spf_problem->message);
	}
	input.spf = spf;
	input.spf_purpose = spf_purpose;
	return op_records_build(&input);
}

/* Checks an address for an account or an alias: returns its managed domain
 * and sets *normalized to the address in the store's form. */
static char *
check_address(OpAdmin *admin, const char *address, char **normalized, GError **error)
{
	g_autofree char *ascii = op_admin_normalize_address(address, error);
	g_autoptr(OpStoreDomain) stored = NULL;
	const char *domain;

	if (ascii == NULL)
		return NULL;
	domain = strrchr(ascii, '@') + 1;
	stored = op_store_get_domain(admin->store, domain, NULL);
	if (stored == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s is not managed: add it first", domain);
		return NULL;
	}
	*normalized = g_steal_pointer(&ascii);
	return g_strdup(stored->name);
}

gboolean
op_admin_add_account(OpAdmin *admin, const char *address, const char *password, GError **error)
{
	g_autofree char *normalized = NULL;
	g_autofree char *domain = check_address(admin, address, &normalized, error);
	g_autofree char *hash = NULL;

	if (domain == NULL)
		return FALSE;
	if (!op_password_check_policy(password, error))
		return FALSE;
	hash = op_password_hash(password, error);
	if (hash == NULL)
		return FALSE;
	if (!op_store_add_account(admin->store, normalized, domain, hash, error))
		return FALSE;
	g_message("account %s added", normalized);
	return TRUE;
}

gboolean
op_admin_remove_account(OpAdmin *admin, const char *address, GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_remove_account(admin->store, normalized, error))
		return FALSE;
	g_message("account %s removed", normalized);
	return TRUE;
}

gboolean
op_admin_set_password(OpAdmin *admin, const char *address, const char *password, GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);
	g_autoptr(OpStoreAccount) account = NULL;
	g_autofree char *hash = NULL;

	if (normalized == NULL)
		return FALSE;
	account = op_store_get_account(admin->store, normalized, error);
	if (account == NULL)
		return FALSE;
	if (!op_password_check_policy(password, error))
		return FALSE;
	hash = op_password_hash(password, error);
	if (hash == NULL)
		return FALSE;
	if (!op_store_set_password_hash(admin->store, normalized, hash, error))
		return FALSE;
	g_message("password of account %s changed", normalized);
	return TRUE;
}

/* ---- Domain settings ---------------------------------------------------- */

/* Returns the smarthost as "host:port" with the host name in lower-case
 * A-label form and an IPv6 address in brackets, or "" for none. */
char *
op_admin_normalize_smarthost(const char *smarthost, GError **error)
{
	g_autofree char *host = NULL;
	g_autofree char *name = NULL;
	guint port = 0;

	if (smarthost == NULL || *smarthost == '\0')
		return g_strdup("");
	if (strlen(smarthost) <= OP_MAX_SMARTHOST_LENGTH &&
	    op_parse_host_port(smarthost, 0, &host, &port, NULL) && port != 0) {
		if (g_hostname_is_ip_address(host))
			return g_strdup_printf(strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
		/* A relay on the local network may have a single-label name. */
		name = dup_ascii_host_name(host, 1);
		if (name != NULL)
			return g_strdup_printf("%s:%u", name, port);
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid smarthost: expected HOST:PORT with a host name or IP address and a "
		    "port from 1 to 65535, such as smtp.example.net:587, or \"\" for none");
	return NULL;
}

OpStoreDomain *
op_admin_get_domain(OpAdmin *admin, const char *domain, guint *queued, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(OpStoreDomain) stored = NULL;

	if (name == NULL)
		return NULL;
	stored = op_store_get_domain(admin->store, name, error);
	if (stored == NULL)
		return NULL;
	if (!op_store_count_queued_from_domain(admin->store, name, queued, error))
		return NULL;
	return g_steal_pointer(&stored);
}

/* Returns a key from a caller for an error message: escaped and shortened,
 * so a hostile key cannot add lines to the log or fill it. */
char *
op_admin_dup_printable_key(const char *key)
{
	g_autofree char *head = g_strndup(key, 64);
	g_autofree char *escaped = g_strescape(head, NULL);

	return g_strdup_printf("\"%s\"%s", escaped, strlen(key) > 64 ? "..." : "");
}

static gboolean
check_setting_type(const char *key, GVariant *value, const GVariantType *type,
		   gboolean already_seen, GError **error)
{
	if (already_seen) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the domain setting %s is given twice: give each setting once", key);
		return FALSE;
	}
	if (!g_variant_is_of_type(value, type)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the domain setting %s must have the type %.*s, not %s", key,
			    (int)g_variant_type_get_string_length(type),
			    g_variant_type_peek_string(type), g_variant_get_type_string(value));
		return FALSE;
	}
	return TRUE;
}

/* Returns the server a mail client reads from as "host:port", or "" for none. */
static char *
normalize_incoming_server(const char *key, const char *value, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	char *server = op_admin_normalize_smarthost(value, &local_error);

	if (server == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s: expected HOST:PORT, such as mail.example.org:%s, or \"\" "
			    "for none",
			    key, strcmp(key, "imap-server") == 0 ? "993" : "995");
	return server;
}

/* Returns the DMARC policy (RFC 7489 §6.3, p=) in lower case. */
static char *
normalize_dmarc_policy(const char *value, GError **error)
{
	static const char *const policies[] = { "none", "quarantine", "reject", NULL };
	g_autofree char *lower = g_ascii_strdown(value, -1);

	if (g_strv_contains(policies, lower))
		return g_steal_pointer(&lower);
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid dmarc-policy: use none, quarantine or reject");
	return NULL;
}

/* Returns the address aggregate DMARC reports go to, or "" for the default,
 * postmaster at the domain. */
static char *
normalize_report_address(const char *value, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	char *address;

	if (*value == '\0')
		return g_strdup("");
	address = op_admin_normalize_address(value, &local_error);
	if (address == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid dmarc-rua: give an address such as dmarc@example.org, or \"\" "
			    "for postmaster at the domain");
	return address;
}

/* The string settings: each is normalized, then stored through its has_ flag
 * and field in OpStoreDomainSettings. */
typedef struct {
	const char *key;
	gsize has_offset;
	gsize value_offset;
} StringSetting;

#define STRING_SETTING(key, field)                                                                 \
	{ key, G_STRUCT_OFFSET(OpStoreDomainSettings, has_##field),                                \
	  G_STRUCT_OFFSET(OpStoreDomainSettings, field) }

static const StringSetting string_settings[] = {
	STRING_SETTING("smarthost", smarthost),
	STRING_SETTING("imap-server", imap_server),
	STRING_SETTING("pop3-server", pop3_server),
	STRING_SETTING("dmarc-policy", dmarc_policy),
	STRING_SETTING("dmarc-rua", dmarc_rua),
};

static char *
normalize_string_setting(const char *key, const char *value, GError **error)
{
	if (strcmp(key, "smarthost") == 0)
		return op_admin_normalize_smarthost(value, error);
	if (strcmp(key, "dmarc-policy") == 0)
		return normalize_dmarc_policy(value, error);
	if (strcmp(key, "dmarc-rua") == 0)
		return normalize_report_address(value, error);
	return normalize_incoming_server(key, value, error);
}

static gboolean
read_string_setting(const StringSetting *setting, GVariant *value,
		    OpStoreDomainSettings *settings, GPtrArray *owned, GError **error)
{
	gboolean *has = G_STRUCT_MEMBER_P(settings, setting->has_offset);
	char *normalized;

	if (!check_setting_type(setting->key, value, G_VARIANT_TYPE_STRING, *has, error))
		return FALSE;
	normalized = normalize_string_setting(setting->key, g_variant_get_string(value, NULL),
					      error);
	if (normalized == NULL)
		return FALSE;
	g_ptr_array_add(owned, normalized);
	*has = TRUE;
	G_STRUCT_MEMBER(const char *, settings, setting->value_offset) = normalized;
	return TRUE;
}

/* Reads one entry of SetDomainSettings into settings. Normalized strings go
 * into owned, which settings then borrows from. */
static gboolean
read_domain_setting(const char *key, GVariant *value, OpStoreDomainSettings *settings,
		    GPtrArray *owned, GError **error)
{
	g_autofree char *printable = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(string_settings); i++) {
		if (strcmp(key, string_settings[i].key) == 0)
			return read_string_setting(&string_settings[i], value, settings, owned,
						   error);
	}
	if (strcmp(key, "enabled") == 0) {
		if (!check_setting_type(key, value, G_VARIANT_TYPE_BOOLEAN, settings->has_enabled,
					error))
			return FALSE;
		settings->has_enabled = TRUE;
		settings->enabled = g_variant_get_boolean(value);
	} else if (strcmp(key, "hourly-limit") == 0) {
		if (!check_setting_type(key, value, G_VARIANT_TYPE_UINT32,
					settings->has_hourly_limit, error))
			return FALSE;
		settings->has_hourly_limit = TRUE;
		settings->hourly_limit = g_variant_get_uint32(value);
	} else {
		printable = op_admin_dup_printable_key(key);
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "unknown domain setting %s: use enabled, hourly-limit, smarthost, "
			    "imap-server, pop3-server, dmarc-policy, dmarc-rua or dkim-selector",
			    printable);
		return FALSE;
	}
	return TRUE;
}

static gboolean
read_selector(GVariant *value, char **selector, GError **error)
{
	if (!check_setting_type("dkim-selector", value, G_VARIANT_TYPE_STRING, *selector != NULL,
				error))
		return FALSE;
	*selector = g_variant_dup_string(value, NULL);
	return TRUE;
}

/* Returns the changes as " key=value" pairs for the log. */
static char *
describe_changes(const OpStoreDomainSettings *changes)
{
	GString *text = g_string_new(NULL);

	if (changes->has_enabled)
		g_string_append_printf(text, " enabled=%s", changes->enabled ? "yes" : "no");
	if (changes->has_hourly_limit)
		g_string_append_printf(text, " hourly-limit=%u", changes->hourly_limit);
	for (gsize i = 0; i < G_N_ELEMENTS(string_settings); i++) {
		const StringSetting *setting = &string_settings[i];
		const char *value;

		if (!G_STRUCT_MEMBER(gboolean, changes, setting->has_offset))
			continue;
		value = G_STRUCT_MEMBER(const char *, changes, setting->value_offset);
		g_string_append_printf(text, " %s=%s", setting->key, *value ? value : "none");
	}
	if (text->len == 0)
		g_string_append(text, " nothing");
	return g_string_free(text, FALSE);
}

/* Checks every entry before storing any, and stores them in one statement,
 * so an invalid entry changes nothing. */
gboolean
op_admin_set_domain_settings(OpAdmin *admin, const char *domain, GVariant *settings,
			     GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *description = NULL;
	g_autofree char *new_selector = NULL;
	g_autofree char *selector = NULL;
	OpStoreDomainSettings changes = {0};
	GVariantIter iter;
	const char *key;
	GVariant *value;

	if (name == NULL)
		return FALSE;
	g_variant_iter_init(&iter, settings);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		gboolean ok;

		if (strcmp(key, "dkim-selector") == 0)
			ok = read_selector(value, &selector, error);
		else
			ok = read_domain_setting(key, value, &changes, owned, error);
		g_variant_unref(value);
		if (!ok)
			return FALSE;
	}
	/* A new selector starts a key rotation: the key it names signs once its
	 * record is visible, so no message carries a signature that cannot be verified. */
	if (selector != NULL) {
		new_selector = op_admin_rotate_dkim_key(admin, name, "rsa", selector, error);
		if (new_selector == NULL)
			return FALSE;
	}
	if (!op_store_set_domain_settings(admin->store, name, &changes, error)) {
		if (new_selector != NULL)
			op_admin_remove_dkim_key(admin, name, new_selector, NULL);
		return FALSE;
	}
	description = describe_changes(&changes);
	g_message("domain %s changed:%s%s%s", name, description,
		  new_selector ? " dkim-selector=" : "", new_selector ? new_selector : "");
	return TRUE;
}

/* ---- Account state and aliases ------------------------------------------ */

GPtrArray *
op_admin_list_accounts(OpAdmin *admin, const char *filter, guint offset, guint limit,
		       GError **error)
{
	/* A longer filter can match no address, so it is a mistake. */
	if (strlen(filter) > OP_MAX_ADDRESS_LENGTH) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the filter is longer than an address can be (%d characters): give "
			    "part of an address",
			    OP_MAX_ADDRESS_LENGTH);
		return NULL;
	}
	return op_store_list_accounts(admin->store, filter, offset, limit, error);
}

gboolean
op_admin_set_account_enabled(OpAdmin *admin, const char *address, gboolean enabled,
			     GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_set_account_enabled(admin->store, normalized, enabled, error))
		return FALSE;
	g_message("account %s %s", normalized, enabled ? "enabled" : "disabled");
	return TRUE;
}

gboolean
op_admin_set_account_hourly_limit(OpAdmin *admin, const char *address, guint limit,
				  GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_set_account_hourly_limit(admin->store, normalized, limit, error))
		return FALSE;
	g_message("hourly limit of account %s set to %u", normalized, limit);
	return TRUE;
}

char **
op_admin_list_aliases(OpAdmin *admin, const char *address, GError **error)
{
	g_autofree char *normalized = op_admin_normalize_address(address, error);

	if (normalized == NULL)
		return NULL;
	return op_store_dup_aliases(admin->store, normalized, error);
}

/* The store rejects an alias that is an account or another account's alias,
 * under its write lock, so no account can be added between check and insert. */
gboolean
op_admin_add_alias(OpAdmin *admin, const char *address, const char *alias, GError **error)
{
	g_autofree char *account = op_admin_normalize_address(address, error);
	g_autofree char *normalized = NULL;
	g_autofree char *domain = NULL;

	if (account == NULL)
		return FALSE;
	domain = check_address(admin, alias, &normalized, error);
	if (domain == NULL)
		return FALSE;
	if (!op_store_add_alias(admin->store, account, normalized, error))
		return FALSE;
	g_message("alias %s added to account %s", normalized, account);
	return TRUE;
}

gboolean
op_admin_remove_alias(OpAdmin *admin, const char *address, const char *alias, GError **error)
{
	g_autofree char *account = op_admin_normalize_address(address, error);
	g_autofree char *normalized = NULL;

	if (account == NULL)
		return FALSE;
	normalized = op_admin_normalize_address(alias, error);
	if (normalized == NULL)
		return FALSE;
	if (!op_store_remove_alias(admin->store, account, normalized, error))
		return FALSE;
	g_message("alias %s removed from account %s", normalized, account);
	return TRUE;
}
