/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl account client-settings and account profile: what a user types
 * into a mail client, and the account's Apple profile for Apple Mail.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static void
print_server(GVariant *settings, const char *label, const char *prefix)
{
	g_autofree char *host_key = g_strconcat(prefix, "-host", NULL);
	g_autofree char *port_key = g_strconcat(prefix, "-port", NULL);
	g_autofree char *security_key = g_strconcat(prefix, "-security", NULL);
	const char *host = op_ctl_lookup_string(settings, host_key);
	guint port = 0;

	g_variant_lookup(settings, port_key, "u", &port);
	if (*host == '\0')
		g_print("%-18s not set (outpostctl domain set: imap-server, pop3-server)\n", label);
	else
		g_print("%-18s %s port %u, %s\n", label, host, port,
			op_ctl_lookup_string(settings, security_key));
}

static gboolean
account_client_settings(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) settings = NULL;
	const char *profile_url;
	const char *host;

	if (!op_ctl_expect_args(args, 1, "account client-settings ADDRESS [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_client_settings_sync(ctl->proxy, args[0],
								    &settings, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(settings);
		return TRUE;
	}
	host = op_ctl_lookup_string(settings, "smtp-host");
	profile_url = op_ctl_lookup_string(settings, "profile-url");
	g_print("%-18s %s\n", "User name:", op_ctl_lookup_string(settings, "username"));
	g_print("%-18s %s\n", "Authentication:",
		op_ctl_lookup_string(settings, "authentication"));
	g_print("%-18s %s port 587, STARTTLS (or port 465, SSL/TLS)\n", "Outgoing (SMTP):",
		host);
	print_server(settings, "Incoming (IMAP):", "imap");
	print_server(settings, "Incoming (POP3):", "pop3");
	g_print("%-18s %s\n", "Autoconfig:", op_ctl_lookup_string(settings, "autoconfig-url"));
	g_print("%-18s %s\n", "Autodiscover:",
		op_ctl_lookup_string(settings, "autodiscover-url"));
	g_print("%-18s %s\n", "Apple profile:",
		*profile_url ? profile_url : "not served (set https_listen), see account profile");
	return TRUE;
}

static gboolean
account_profile(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) profile = NULL;
	gsize length = 0;
	const guint8 *data;

	if (!op_ctl_expect_args(args, 1, "account profile ADDRESS > FILE.mobileconfig", error))
		return FALSE;
	if (isatty(STDOUT_FILENO)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the profile is binary data: redirect it to a file, e.g. "
			    "outpostctl account profile %s > account.mobileconfig",
			    args[0]);
		return FALSE;
	}
	if (!op_dbus_outpost1_manager_call_get_apple_profile_sync(ctl->proxy, args[0], &profile,
								  NULL, error))
		return FALSE;
	data = g_variant_get_fixed_array(profile, &length, 1);
	if (fwrite(data, 1, length, stdout) != length || fflush(stdout) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "writing the profile failed: %s",
			    g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

const OpCtlCommand op_ctl_client_commands[] = {
	{"account", "client-settings", account_client_settings,
	 "ADDRESS [--json]: show what to type into a mail client, and the autoconfig URLs"},
	{"account", "profile", account_profile,
	 "ADDRESS: write the account's Apple Mail profile (.mobileconfig) to standard output"},
	{NULL, NULL, NULL, NULL},
};
