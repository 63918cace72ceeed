/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for domains with their settings and DNS records, and
 * for accounts with their state, hourly limits and aliases.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <string.h>

static gboolean
domain_add(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 1, "domain add DOMAIN", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_add_domain_sync(ctl->proxy, args[0], NULL, error))
		return FALSE;
	g_print("Added %s with a new DKIM key. Publish its records: outpostctl dns records %s\n",
		args[0], args[0]);
	return TRUE;
}

static gboolean
domain_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 1, "domain remove DOMAIN [--force]", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_domain_sync(ctl->proxy, args[0], ctl->force,
								 NULL, error);
}

static char *
format_limit(guint limit)
{
	if (limit == 0)
		return g_strdup("none");
	return g_strdup_printf("%u/h", limit);
}

static gboolean
domain_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) domains = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!op_ctl_expect_args(args, 0, "domain list [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_domains_sync(ctl->proxy, &domains, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(domains);
		return TRUE;
	}
	g_print("%-32s %-8s %8s %10s %-16s %s\n", "DOMAIN", "STATUS", "ACCOUNTS", "LIMIT",
		"DKIM SELECTOR", "SMARTHOST");
	g_variant_iter_init(&iter, domains);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		guint accounts = 0;
		guint limit = 0;
		g_autofree char *limit_text = NULL;

		g_variant_lookup(dict, "accounts", "u", &accounts);
		g_variant_lookup(dict, "hourly-limit", "u", &limit);
		limit_text = format_limit(limit);
		g_print("%-32s %-8s %8u %10s %-16s %s\n", op_ctl_lookup_string(dict, "name"),
			op_ctl_lookup_string(dict, "status"), accounts, limit_text,
			op_ctl_lookup_string(dict, "dkim-selector"),
			*op_ctl_lookup_string(dict, "smarthost") ? op_ctl_lookup_string(dict, "smarthost")
								   : "-");
		g_variant_unref(dict);
	}
	return TRUE;
}

/* Prints "LABEL   value" in the column layout of domain show, unless value is empty. */
static void
print_optional(const char *label, const char *value)
{
	if (*value != '\0')
		g_print("%-16s%s\n", label, value);
}

static gboolean
domain_show(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) settings = NULL;
	g_autoptr(GDateTime) created = NULL;
	g_autofree char *created_text = NULL;
	g_autofree char *limit_text = NULL;
	const char *smarthost;
	gint64 created_time = 0;
	guint accounts = 0;
	guint queued = 0;
	guint limit = 0;

	if (!op_ctl_expect_args(args, 1, "domain show DOMAIN [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_domain_sync(ctl->proxy, args[0], &settings, NULL,
							   error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(settings);
		return TRUE;
	}
	g_variant_lookup(settings, "accounts", "u", &accounts);
	g_variant_lookup(settings, "queued", "u", &queued);
	g_variant_lookup(settings, "hourly-limit", "u", &limit);
	g_variant_lookup(settings, "created", "x", &created_time);
	created = g_date_time_new_from_unix_utc(created_time);
	created_text = created ? g_date_time_format(created, "%Y-%m-%d %H:%M UTC") : g_strdup("");
	limit_text = limit ? g_strdup_printf("%u messages per hour", limit) : g_strdup("none");
	smarthost = op_ctl_lookup_string(settings, "smarthost");
	g_print("Domain:         %s\n", op_ctl_lookup_string(settings, "name"));
	g_print("Status:         %s\n", op_ctl_lookup_string(settings, "status"));
	g_print("DKIM selector:  %s\n", op_ctl_lookup_string(settings, "dkim-selector"));
	g_print("Accounts:       %u\n", accounts);
	g_print("Queued:         %u\n", queued);
	g_print("Hourly limit:   %s\n", limit_text);
	g_print("Smarthost:      %s\n", *smarthost ? smarthost : "none (delivery by MX)");
	print_optional("IMAP server:", op_ctl_lookup_string(settings, "imap-server"));
	print_optional("POP3 server:", op_ctl_lookup_string(settings, "pop3-server"));
	g_print("DMARC policy:   %s\n", op_ctl_lookup_string(settings, "dmarc-policy"));
	print_optional("DMARC reports:", op_ctl_lookup_string(settings, "dmarc-rua"));
	g_print("Created:        %s\n", created_text);
	return TRUE;
}

static gboolean
parse_yes_no(const char *option, const char *text, gboolean *value, GError **error)
{
	if (g_ascii_strcasecmp(text, "yes") == 0) {
		*value = TRUE;
		return TRUE;
	}
	if (g_ascii_strcasecmp(text, "no") == 0) {
		*value = FALSE;
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid value for %s: expected yes or no", option);
	return FALSE;
}

static gboolean
parse_limit(const char *what, const char *text, guint *limit, GError **error)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &value, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s \"%s\": expected a number of messages per hour from 0 (no "
			    "limit) to %u",
			    what, text, G_MAXUINT32);
		return FALSE;
	}
	*limit = (guint)value;
	return TRUE;
}

/* Collects the options of domain set into the a{sv} of SetDomainSettings. */
static GVariant *
build_domain_settings(OpCtl *ctl, GError **error)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	gboolean enabled = FALSE;
	guint limit = 0;

	const struct {
		const char *key;
		const char *value;
	} strings[] = {
		{ "smarthost", ctl->smarthost },	 { "imap-server", ctl->imap_server },
		{ "pop3-server", ctl->pop3_server },	 { "dmarc-policy", ctl->dmarc_policy },
		{ "dmarc-rua", ctl->dmarc_rua },	 { "dkim-selector", ctl->dkim_selector },
	};
	gboolean any = ctl->enabled != NULL || ctl->hourly_limit != NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
		any = any || strings[i].value != NULL;
	if (!any) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "nothing to change: give --enabled, --hourly-limit, --smarthost, "
			    "--imap-server, --pop3-server, --dmarc-policy, --dmarc-rua or "
			    "--dkim-selector");
		return NULL;
	}
	if (ctl->enabled != NULL) {
		if (!parse_yes_no("--enabled", ctl->enabled, &enabled, error))
			return NULL;
		g_variant_builder_add(&builder, "{sv}", "enabled", g_variant_new_boolean(enabled));
	}
	if (ctl->hourly_limit != NULL) {
		if (!parse_limit("--hourly-limit", ctl->hourly_limit, &limit, error))
			return NULL;
		g_variant_builder_add(&builder, "{sv}", "hourly-limit",
				      g_variant_new_uint32(limit));
	}
	for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
		if (strings[i].value != NULL)
			g_variant_builder_add(&builder, "{sv}", strings[i].key,
					      g_variant_new_string(strings[i].value));
	}
	return g_variant_builder_end(&builder);
}

static gboolean
domain_set(OpCtl *ctl, char **args, GError **error)
{
	GVariant *settings;

	if (!op_ctl_expect_args(args, 1,
				"domain set DOMAIN [--enabled=yes|no] [--hourly-limit=N] "
				"[--smarthost=HOST:PORT] [--imap-server=HOST:PORT] "
				"[--pop3-server=HOST:PORT] [--dmarc-policy=POLICY] "
				"[--dmarc-rua=ADDRESS] [--dkim-selector=SELECTOR]",
				error))
		return FALSE;
	settings = build_domain_settings(ctl, error);
	if (settings == NULL)
		return FALSE;
	return op_dbus_outpost1_manager_call_set_domain_settings_sync(ctl->proxy, args[0],
								       settings, NULL, error);
}

/* ---- dns ---------------------------------------------------------------- */

static gboolean
dns_records(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) records = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!op_ctl_expect_args(args, 1, "dns records DOMAIN [--json | --zone-file]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_dns_records_sync(ctl->proxy, args[0], &records,
								 NULL, error))
		return FALSE;
	if (ctl->zone_file) {
		op_ctl_print_zone_file(records);
		return TRUE;
	}
	if (ctl->json) {
		op_ctl_print_json(records);
		return TRUE;
	}
	g_variant_iter_init(&iter, records);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		g_print("; %s\n%s\tIN\t%s\t%s\n\n", op_ctl_lookup_string(dict, "purpose"),
			op_ctl_lookup_string(dict, "name"), op_ctl_lookup_string(dict, "type"),
			op_ctl_lookup_string(dict, "value"));
		g_variant_unref(dict);
	}
	return TRUE;
}

/* ---- account ------------------------------------------------------------ */

static gboolean
account_add(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *password = NULL;
	gboolean ok;

	if (!op_ctl_expect_args(args, 1, "account add ADDRESS [--password-stdin]", error))
		return FALSE;
	password = op_ctl_read_password(ctl, error);
	if (password == NULL)
		return FALSE;
	ok = op_dbus_outpost1_manager_call_add_account_sync(ctl->proxy, args[0], password, NULL,
							     error);
	explicit_bzero(password, strlen(password));
	return ok;
}

static gboolean
account_passwd(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *password = NULL;
	gboolean ok;

	if (!op_ctl_expect_args(args, 1, "account passwd ADDRESS [--password-stdin]", error))
		return FALSE;
	password = op_ctl_read_password(ctl, error);
	if (password == NULL)
		return FALSE;
	ok = op_dbus_outpost1_manager_call_set_password_sync(ctl->proxy, args[0], password, NULL,
							      error);
	explicit_bzero(password, strlen(password));
	return ok;
}

static gboolean
account_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 1, "account remove ADDRESS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_account_sync(ctl->proxy, args[0], NULL, error);
}

static gboolean
account_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) accounts = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!op_ctl_expect_args(args, 0, "account list [--filter TEXT] [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_accounts_sync(ctl->proxy,
							       ctl->filter ? ctl->filter : "", 0,
							       OP_PAGE, &accounts, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(accounts);
		return TRUE;
	}
	g_print("%-40s %-7s %10s %s\n", "ACCOUNT", "ENABLED", "LIMIT", "ALIASES");
	g_variant_iter_init(&iter, accounts);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		gboolean enabled = FALSE;
		guint limit = 0;
		g_autofree const char **aliases = NULL;
		g_autofree char *aliases_text = NULL;
		g_autofree char *limit_text = NULL;

		g_variant_lookup(dict, "enabled", "b", &enabled);
		g_variant_lookup(dict, "hourly-limit", "u", &limit);
		g_variant_lookup(dict, "aliases", "^a&s", &aliases);
		aliases_text = aliases && aliases[0] ? g_strjoinv(", ", (char **)aliases)
						     : g_strdup("-");
		limit_text = format_limit(limit);
		g_print("%-40s %-7s %10s %s\n", op_ctl_lookup_string(dict, "address"),
			enabled ? "yes" : "no", limit_text, aliases_text);
		g_variant_unref(dict);
	}
	return TRUE;
}

static gboolean
account_enable(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 1, "account enable ADDRESS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_set_account_enabled_sync(ctl->proxy, args[0], TRUE,
								       NULL, error);
}

static gboolean
account_disable(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 1, "account disable ADDRESS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_set_account_enabled_sync(ctl->proxy, args[0], FALSE,
								       NULL, error);
}

static gboolean
account_limit(OpCtl *ctl, char **args, GError **error)
{
	guint limit = 0;

	if (!op_ctl_expect_args(args, 2, "account limit ADDRESS N", error))
		return FALSE;
	if (!parse_limit("limit", args[1], &limit, error))
		return FALSE;
	return op_dbus_outpost1_manager_call_set_account_hourly_limit_sync(ctl->proxy, args[0],
									    limit, NULL, error);
}

/* ---- alias -------------------------------------------------------------- */

static gboolean
alias_list(OpCtl *ctl, char **args, GError **error)
{
	g_auto(GStrv) aliases = NULL;

	if (!op_ctl_expect_args(args, 1, "alias list ADDRESS [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_aliases_sync(ctl->proxy, args[0], &aliases, NULL,
							      error))
		return FALSE;
	if (ctl->json) {
		g_autoptr(GVariant) value = g_variant_ref_sink(
			g_variant_new_strv((const char *const *)aliases, -1));

		op_ctl_print_json(value);
		return TRUE;
	}
	for (guint i = 0; aliases[i] != NULL; i++)
		g_print("%s\n", aliases[i]);
	return TRUE;
}

static gboolean
alias_add(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 2, "alias add ADDRESS ALIAS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_add_alias_sync(ctl->proxy, args[0], args[1], NULL,
							     error);
}

static gboolean
alias_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 2, "alias remove ADDRESS ALIAS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_alias_sync(ctl->proxy, args[0], args[1], NULL,
								error);
}

const OpCtlCommand op_ctl_domain_commands[] = {
	{"domain", "add", domain_add, "DOMAIN: manage a domain and generate its DKIM key"},
	{"domain", "list", domain_list, "[--json]: list the managed domains"},
	{"domain", "show", domain_show, "DOMAIN [--json]: show a domain's settings and counts"},
	{"domain", "set", domain_set,
	 "DOMAIN [--enabled=yes|no] [--hourly-limit=N] [--smarthost=HOST:PORT] "
	 "[--imap-server=HOST:PORT] [--pop3-server=HOST:PORT] [--dmarc-policy=POLICY] "
	 "[--dmarc-rua=ADDRESS] [--dkim-selector=SELECTOR]: change a domain's settings; "
	 "--hourly-limit=0 removes the limit and an empty value a server; a new DKIM selector "
	 "starts a key rotation"},
	{"domain", "remove", domain_remove, "DOMAIN [--force]: stop managing a domain"},
	{"dns", "records", dns_records,
	 "DOMAIN [--json | --zone-file]: print the DNS records to publish"},
	{"account", "add", account_add, "ADDRESS [--password-stdin]: create an account"},
	{"account", "list", account_list, "[--filter TEXT] [--json]: list accounts"},
	{"account", "remove", account_remove, "ADDRESS: delete an account"},
	{"account", "passwd", account_passwd, "ADDRESS [--password-stdin]: set a new password"},
	{"account", "enable", account_enable, "ADDRESS: let an account log in and send again"},
	{"account", "disable", account_disable,
	 "ADDRESS: stop an account from logging in and sending"},
	{"account", "limit", account_limit,
	 "ADDRESS N: let an account send at most N messages per hour, 0 for no limit"},
	{"alias", "list", alias_list, "ADDRESS [--json]: list the aliases of an account"},
	{"alias", "add", alias_add, "ADDRESS ALIAS: let an account send as ALIAS too"},
	{"alias", "remove", alias_remove, "ADDRESS ALIAS: remove one of an account's aliases"},
	{NULL, NULL, NULL, NULL},
};
