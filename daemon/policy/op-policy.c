/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Relay and sender-ownership rules, as pure functions without store or I/O.
 * An account owns exactly its own address and its aliases. The domain part
 * compares case-insensitively (RFC 5321 §2.4), and so does the local part,
 * because no two accounts or aliases may differ only in case.
 */
#include "policy/op-policy.h"

#include "op-error.h"

#include <string.h>

GPtrArray *
op_policy_parse_networks(char **cidrs, GError **error)
{
	g_autoptr(GPtrArray) networks = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; cidrs != NULL && cidrs[i] != NULL; i++) {
		g_autofree char *cidr = g_strstrip(g_strdup(cidrs[i]));
		GInetAddressMask *mask;

		if (*cidr == '\0')
			continue;
		mask = g_inet_address_mask_new_from_string(cidr, error);
		if (mask == NULL) {
			g_prefix_error(error, "invalid trusted network \"%s\": ", cidr);
			return NULL;
		}
		g_ptr_array_add(networks, mask);
	}
	return g_steal_pointer(&networks);
}

gboolean
op_policy_is_trusted(GPtrArray *networks, GInetAddress *address)
{
	for (guint i = 0; networks != NULL && i < networks->len; i++) {
		if (g_inet_address_mask_matches(g_ptr_array_index(networks, i), address))
			return TRUE;
	}
	return FALSE;
}

static gboolean
is_same_address(const char *folded_address, const char *candidate)
{
	g_autofree char *folded = g_utf8_casefold(candidate, -1);

	return strcmp(folded, folded_address) == 0;
}

gboolean
op_policy_account_owns(const char *account, const char *const *aliases, const char *address)
{
	g_autofree char *folded_address = NULL;

	if (account == NULL || address == NULL || *address == '\0')
		return FALSE;
	folded_address = g_utf8_casefold(address, -1);
	if (is_same_address(folded_address, account))
		return TRUE;
	for (guint i = 0; aliases != NULL && aliases[i] != NULL; i++) {
		if (is_same_address(folded_address, aliases[i]))
			return TRUE;
	}
	return FALSE;
}

char *
op_policy_dup_ascii_address(const char *address)
{
	const char *at = strrchr(address, '@');
	g_autofree char *ascii = NULL;
	g_autofree char *lower = NULL;

	if (at == NULL)
		return g_strdup(address);
	ascii = g_hostname_to_ascii(at + 1);
	if (ascii == NULL)
		return NULL;
	lower = g_ascii_strdown(ascii, -1);
	return g_strdup_printf("%.*s@%s", (int)(at - address), address, lower);
}

char *
op_policy_dup_limit_rejection(guint limit, guint count, const char *holder)
{
	if (limit == 0 || count < limit)
		return NULL;
	return g_strdup_printf("451 4.7.1 Hourly sending limit of %u messages reached for %s: "
			       "try again later",
			       limit, holder);
}
