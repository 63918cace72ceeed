/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl dns check: the deliverability check of a domain, one line per
 * check and the fix under each problem. The exit status is 0 only when
 * every check passes, so scripts and monitoring can use it.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

static void
print_check(GVariant *check)
{
	const char *state = op_ctl_lookup_string(check, "state");
	const char *fix = op_ctl_lookup_string(check, "fix");
	const char *mark = "FAIL";

	if (g_str_equal(state, "pass"))
		mark = "ok  ";
	else if (g_str_equal(state, "warn"))
		mark = "WARN";

	g_print("%s %s\n", mark, op_ctl_lookup_string(check, "sentence"));
	if (!g_str_equal(state, "pass") && *fix != '\0')
		g_print("     fix: %s\n", fix);
}

static gboolean
dns_check(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *health = NULL;
	g_autoptr(GVariant) checks = NULL;
	GVariantIter iter;
	GVariant *check;

	if (!op_ctl_expect_args(args, 1, "dns check DOMAIN [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_check_domain_dns_sync(ctl->proxy, args[0], &health,
								 &checks, NULL, error))
		return FALSE;
	if (ctl->json) {
		g_autoptr(GVariant) reply = g_variant_ref_sink(
			g_variant_new("(s@aa{sv})", health, checks));

		op_ctl_print_json(reply);
	} else {
		g_variant_iter_init(&iter, checks);
		while ((check = g_variant_iter_next_value(&iter)) != NULL) {
			print_check(check);
			g_variant_unref(check);
		}
		g_print("Health of %s: %s\n", args[0], health);
	}
	if (!g_str_equal(health, "green")) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "%s is %s: fix the problems above, then check again", args[0], health);
		return FALSE;
	}
	return TRUE;
}

const OpCtlCommand op_ctl_check_commands[] = {
	{"dns", "check", dns_check,
	 "DOMAIN [--json]: check the published records, SPF, reverse DNS, blocklists and "
	 "the certificate; exits 0 only when every check passes"},
	{NULL, NULL, NULL, NULL},
};
