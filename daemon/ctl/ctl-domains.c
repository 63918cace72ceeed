/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for domains, their DNS records and accounts.
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
	g_print("%-40s %-16s %8s %s\n", "DOMAIN", "DKIM SELECTOR", "ACCOUNTS", "ENABLED");
	g_variant_iter_init(&iter, domains);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		guint accounts = 0;
		gboolean enabled = FALSE;

		g_variant_lookup(dict, "accounts", "u", &accounts);
		g_variant_lookup(dict, "enabled", "b", &enabled);
		g_print("%-40s %-16s %8u %s\n", op_ctl_lookup_string(dict, "name"),
			op_ctl_lookup_string(dict, "dkim-selector"), accounts, enabled ? "yes" : "no");
		g_variant_unref(dict);
	}
	return TRUE;
}

/* ---- dns ---------------------------------------------------------------- */

static gboolean
dns_records(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) records = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!op_ctl_expect_args(args, 1, "dns records DOMAIN [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_dns_records_sync(ctl->proxy, args[0], &records,
								 NULL, error))
		return FALSE;
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
	g_print("%-50s %s\n", "ACCOUNT", "ENABLED");
	g_variant_iter_init(&iter, accounts);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		gboolean enabled = FALSE;

		g_variant_lookup(dict, "enabled", "b", &enabled);
		g_print("%-50s %s\n", op_ctl_lookup_string(dict, "address"), enabled ? "yes" : "no");
		g_variant_unref(dict);
	}
	return TRUE;
}

const OpCtlCommand op_ctl_domain_commands[] = {
	{"domain", "add", domain_add, "DOMAIN: manage a domain and generate its DKIM key"},
	{"domain", "list", domain_list, ": list the managed domains"},
	{"domain", "remove", domain_remove, "DOMAIN [--force]: stop managing a domain"},
	{"dns", "records", dns_records, "DOMAIN: print the DNS records to publish"},
	{"account", "add", account_add, "ADDRESS [--password-stdin]: create an account"},
	{"account", "list", account_list, "[--filter TEXT]: list accounts"},
	{"account", "remove", account_remove, "ADDRESS: delete an account"},
	{"account", "passwd", account_passwd, "ADDRESS [--password-stdin]: set a new password"},
	{NULL, NULL, NULL, NULL},
};
