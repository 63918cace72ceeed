/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Relay and sender-ownership rules. An account owns exactly its own
 * address; the domain part compares case-insensitively (RFC 5321 §2.4) and
 * so does the local part, since no two accounts may differ only in case.
 */
#include "policy/op-policy.h"

#include "op-error.h"

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

gboolean
op_policy_account_owns(const char *account, const char *address)
{
	g_autofree char *folded_account = NULL;
	g_autofree char *folded_address = NULL;

	if (account == NULL || address == NULL || *address == '\0')
		return FALSE;
	folded_account = g_utf8_casefold(account, -1);
	folded_address = g_utf8_casefold(address, -1);
	return g_strcmp0(folded_account, folded_address) == 0;
}
