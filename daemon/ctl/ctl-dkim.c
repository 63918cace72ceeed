/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl dkim: list a domain's DKIM keys and move a key rotation along.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

static char *
dup_time(GVariant *key, const char *name)
{
	g_autoptr(GDateTime) time = NULL;
	gint64 seconds = 0;

	if (!g_variant_lookup(key, name, "x", &seconds))
		return g_strdup("");
	time = g_date_time_new_from_unix_utc(seconds);
	return time ? g_date_time_format(time, "%Y-%m-%d %H:%M") : g_strdup("");
}

static gboolean
dkim_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) keys = NULL;
	GVariantIter iter;
	GVariant *key;

	if (!op_ctl_expect_args(args, 1, "dkim list DOMAIN [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_dkim_keys_sync(ctl->proxy, args[0], &keys, NULL,
							       error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(keys);
		return TRUE;
	}
	g_print("%-16s %-15s %-9s %-17s %s\n", "SELECTOR", "ALGORITHM", "STATE", "SINCE",
		"REMOVED AFTER");
	g_variant_iter_init(&iter, keys);
	while ((key = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree char *changed = dup_time(key, "changed");
		g_autofree char *removed = dup_time(key, "removed-after");

		g_print("%-16s %-15s %-9s %-17s %s\n", op_ctl_lookup_string(key, "selector"),
			op_ctl_lookup_string(key, "algorithm"), op_ctl_lookup_string(key, "state"),
			changed, removed);
		g_variant_unref(key);
	}
	return TRUE;
}

static gboolean
dkim_rotate(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *selector = NULL;

	if (!op_ctl_expect_args(args, 1, "dkim rotate DOMAIN [--algorithm=rsa|ed25519]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_rotate_dkim_key_sync(
		    ctl->proxy, args[0], ctl->algorithm ? ctl->algorithm : "rsa", &selector, NULL,
		    error))
		return FALSE;
	if (ctl->json) {
		g_autoptr(GVariant) reply = g_variant_ref_sink(g_variant_new("(s)", selector));

		op_ctl_print_json(reply);
		return TRUE;
	}
	g_print("New DKIM key %s for %s. Publish the domain's records (outpostctl dns publish "
		"%s, or see outpostctl dns records %s): Outpost signs with the new key once its "
		"record is visible.\n",
		selector, args[0], args[0], args[0]);
	return TRUE;
}

static gboolean
dkim_activate(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 2, "dkim activate DOMAIN SELECTOR [--force]", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_activate_dkim_key_sync(ctl->proxy, args[0], args[1],
								   ctl->force, NULL, error);
}

static gboolean
dkim_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 2, "dkim remove DOMAIN SELECTOR", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_dkim_key_sync(ctl->proxy, args[0], args[1],
								 NULL, error);
}

const OpCtlCommand op_ctl_dkim_commands[] = {
	{"dkim", "list", dkim_list, "DOMAIN [--json]: list the domain's DKIM keys and their state"},
	{"dkim", "rotate", dkim_rotate,
	 "DOMAIN [--algorithm=rsa|ed25519]: make a new key that signs once its record is "
	 "visible; an Ed25519 key signs beside the RSA key"},
	{"dkim", "activate", dkim_activate,
	 "DOMAIN SELECTOR [--force]: sign with a new key now, after checking its record"},
	{"dkim", "remove", dkim_remove,
	 "DOMAIN SELECTOR: remove a key that does not sign (a new or a retiring one)"},
	{NULL, NULL, NULL, NULL},
};
