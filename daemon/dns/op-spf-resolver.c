/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SPF evaluator's DNS lookups over OpResolver: one query per lookup, with
 * NXDOMAIN, NODATA and temporary failures kept apart as op-spf.h requires.
 */
#include "dns/op-spf.h"

#include <stdlib.h>
#include <string.h>

static GPtrArray *
op_spf_resolver_txt(gpointer user_data, const char *name, GError **error)
{
	return op_resolver_lookup_txt(user_data, name, error);
}

static GPtrArray *
op_spf_resolver_addresses(OpResolver *resolver, const char *name, ldns_rr_type type,
			  GError **error)
{
	g_autoptr(ldns_pkt) answer = op_resolver_query(resolver, name, type, error);
	GSocketFamily family = type == LDNS_RR_TYPE_A ? G_SOCKET_FAMILY_IPV4
						       : G_SOCKET_FAMILY_IPV6;
	gsize size = type == LDNS_RR_TYPE_A ? 4 : 16;
	GPtrArray *addresses;
	ldns_rr_list *records;

	if (answer == NULL)
		return NULL;
	addresses = g_ptr_array_new_with_free_func(g_object_unref);
	records = ldns_pkt_answer(answer);
	for (gsize i = 0; i < ldns_rr_list_rr_count(records); i++) {
		ldns_rr *rr = ldns_rr_list_rr(records, i);
		ldns_rdf *rdf = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;

		if (ldns_rr_get_type(rr) != type || rdf == NULL || ldns_rdf_size(rdf) != size)
			continue;
		g_ptr_array_add(addresses,
				g_inet_address_new_from_bytes(ldns_rdf_data(rdf), family));
	}
	return addresses;
}

static GPtrArray *
op_spf_resolver_a(gpointer user_data, const char *name, GError **error)
{
	return op_spf_resolver_addresses(user_data, name, LDNS_RR_TYPE_A, error);
}

static GPtrArray *
op_spf_resolver_aaaa(gpointer user_data, const char *name, GError **error)
{
	return op_spf_resolver_addresses(user_data, name, LDNS_RR_TYPE_AAAA, error);
}

static GPtrArray *
op_spf_resolver_mx(gpointer user_data, const char *name, GError **error)
{
	/* MX rdata is the preference, then the exchange (RFC 1035 §3.3.9). */
	return op_resolver_lookup_names(user_data, name, LDNS_RR_TYPE_MX, 1, error);
}

static GPtrArray *
op_spf_resolver_ptr(gpointer user_data, GInetAddress *address, GError **error)
{
	g_autofree char *labels = op_resolver_dup_reverse_labels(address);
	g_autofree char *name = g_strconcat(labels,
					    g_inet_address_get_family(address) ==
							    G_SOCKET_FAMILY_IPV4
						    ? ".in-addr.arpa"
						    : ".ip6.arpa",
					    NULL);

	return op_resolver_lookup_names(user_data, name, LDNS_RR_TYPE_PTR, 0, error);
}

void
op_spf_lookup_init_resolver(OpSpfLookup *lookup, OpResolver *resolver)
{
	*lookup = (OpSpfLookup){
		.lookup_txt = op_spf_resolver_txt,
		.lookup_a = op_spf_resolver_a,
		.lookup_aaaa = op_spf_resolver_aaaa,
		.lookup_mx = op_spf_resolver_mx,
		.lookup_ptr = op_spf_resolver_ptr,
		.user_data = resolver,
	};
}
