/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * MX resolution for delivery. The DNS queries live in op_mx_resolve(). The
 * ordering and the self check are pure functions over parsed records, so they
 * can be tested without a DNS server.
 */
#include "delivery/op-mx.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "op-error.h"

/* Each error message of op_mx_resolve() ends in one of these suffixes, which
 * op_mx_error_status() maps back to an enhanced status code (RFC 3463). A
 * caller may add a prefix with g_prefix_error() without breaking that. */
#define OP_MX_NULL_SUFFIX " does not accept mail (null MX, RFC 7505)"
#define OP_MX_NXDOMAIN_SUFFIX " does not exist"
#define OP_MX_LOOP_SUFFIX " loops back to myself"
#define OP_MX_INVALID_SUFFIX " is not a valid domain name"
#define OP_MX_NO_ADDRESS_SUFFIX " (the address records may appear later)"

static const struct {
	OpError code;
	const char *suffix;
	const char *status;
} op_mx_statuses[] = {
	{OP_ERROR_PERMANENT, OP_MX_NULL_SUFFIX, "5.1.10"},
	{OP_ERROR_PERMANENT, OP_MX_NXDOMAIN_SUFFIX, "5.1.2"},
	{OP_ERROR_PERMANENT, OP_MX_INVALID_SUFFIX, "5.1.2"},
	{OP_ERROR_PERMANENT, OP_MX_LOOP_SUFFIX, "5.4.6"},
	{OP_ERROR_TEMPORARY, OP_MX_NO_ADDRESS_SUFFIX, "4.4.4"},
};

OpMxHost *
op_mx_host_new(const char *host, guint preference)
{
	OpMxHost *mx = g_new0(OpMxHost, 1);
	gsize len = strlen(host);

	/* Names compare without the trailing dot and case (RFC 1035 §2.3.3). */
	if (len > 0 && host[len - 1] == '.')
		len--;
	mx->host = g_ascii_strdown(host, (gssize)len);
	mx->preference = preference;
	return mx;
}

void
op_mx_host_free(OpMxHost *host)
{
	if (host == NULL)
		return;
	g_free(host->host);
	g_clear_pointer(&host->addresses, g_ptr_array_unref);
	g_free(host);
}

static GPtrArray *
op_mx_host_array_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)op_mx_host_free);
}

static int
op_mx_compare_preference(gconstpointer a, gconstpointer b)
{
	const OpMxHost *left = *(OpMxHost *const *)a;
	const OpMxHost *right = *(OpMxHost *const *)b;

	return left->preference < right->preference ? -1 : left->preference > right->preference;
}

/* Shuffles each run of equal preference so that load spreads over the hosts
 * (RFC 5321 §5.1). */
static void
op_mx_shuffle_equal(GPtrArray *hosts)
{
	guint start = 0;

	while (start < hosts->len) {
		guint preference = ((OpMxHost *)g_ptr_array_index(hosts, start))->preference;
		guint end = start + 1;

		while (end < hosts->len &&
		       ((OpMxHost *)g_ptr_array_index(hosts, end))->preference == preference)
			end++;
		for (guint i = end - 1; i > start; i--) {
			guint j = (guint)g_random_int_range((gint32)start, (gint32)i + 1);
			gpointer swap = hosts->pdata[i];

			hosts->pdata[i] = hosts->pdata[j];
			hosts->pdata[j] = swap;
		}
		start = end;
	}
}

/* Removes every entry whose name came earlier in @hosts. Sorted by
 * preference first, a host listed twice keeps its best preference. */
static void
op_mx_remove_duplicates(GPtrArray *hosts)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint i = 0;

	while (i < hosts->len) {
		OpMxHost *host = g_ptr_array_index(hosts, i);

		if (g_hash_table_add(seen, host->host))
			i++;
		else
			g_ptr_array_remove_index(hosts, i);
	}
}

GPtrArray *
op_mx_order(GPtrArray *records, const char *domain, GError **error)
{
	g_autoptr(GPtrArray) hosts = op_mx_host_array_new();

	if (records == NULL || records->len == 0) {
		/* No MX records: the domain itself is the implicit MX (RFC 5321 §5.1). */
		g_ptr_array_add(hosts, op_mx_host_new(domain, 0));
		return g_steal_pointer(&hosts);
	}

	for (guint i = 0; i < records->len; i++) {
		const OpMxHost *record = g_ptr_array_index(records, i);

		/* A root target has no address. Beside real hosts it is ignored. */
		if (record->host[0] != '\0' && g_strcmp0(record->host, ".") != 0)
			g_ptr_array_add(hosts, op_mx_host_new(record->host, record->preference));
	}
	if (hosts->len == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "domain %s" OP_MX_NULL_SUFFIX,
			    domain);
		return NULL;
	}

	g_ptr_array_sort(hosts, op_mx_compare_preference);
	op_mx_remove_duplicates(hosts);
	op_mx_shuffle_equal(hosts);
	if (hosts->len > OP_MX_MAX_HOSTS)
		g_ptr_array_set_size(hosts, OP_MX_MAX_HOSTS);
	return g_steal_pointer(&hosts);
}

static gboolean
op_mx_name_is_self(const char *host, const OpMxSelf *self)
{
	/* RFC 6761 §6.3: localhost and its subdomains are this machine. */
	if (g_strcmp0(host, "localhost") == 0 || g_str_has_suffix(host, ".localhost"))
		return TRUE;
	for (char **name = self->own_names; name != NULL && *name != NULL; name++) {
		gsize len = strlen(*name);

		if (len > 0 && (*name)[len - 1] == '.')
			len--;
		if (strlen(host) == len && g_ascii_strncasecmp(host, *name, len) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Returns TRUE when @address belongs to a network interface of this machine. */
static gboolean
op_mx_address_is_local(GInetAddress *address)
{
	struct ifaddrs *list = NULL;
	gboolean found = FALSE;

	if (g_inet_address_get_is_loopback(address))
		return TRUE;
	if (getifaddrs(&list) != 0)
		return FALSE;
	for (struct ifaddrs *entry = list; entry != NULL && !found; entry = entry->ifa_next) {
		g_autoptr(GSocketAddress) local = NULL;
		socklen_t size;

		if (entry->ifa_addr == NULL)
			continue;
		if (entry->ifa_addr->sa_family == AF_INET)
			size = sizeof(struct sockaddr_in);
		else if (entry->ifa_addr->sa_family == AF_INET6)
			size = sizeof(struct sockaddr_in6);
		else
			continue;
		local = g_socket_address_new_from_native(entry->ifa_addr, size);
		if (G_IS_INET_SOCKET_ADDRESS(local))
			found = g_inet_address_equal(
				address,
				g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local)));
	}
	freeifaddrs(list);
	return found;
}

static gboolean
op_mx_address_is_self(GInetAddress *address, const OpMxSelf *self)
{
	if (self->own_addresses == NULL)
		return FALSE;
	for (guint i = 0; i < self->own_addresses->len; i++) {
		GInetSocketAddress *own = g_ptr_array_index(self->own_addresses, i);
		GInetAddress *own_address = g_inet_socket_address_get_address(own);

		if (g_inet_socket_address_get_port(own) != self->delivery_port)
			continue;
		if (g_inet_address_equal(own_address, address))
			return TRUE;
		if (g_inet_address_get_is_any(own_address) && op_mx_address_is_local(address))
			return TRUE;
	}
	return FALSE;
}

static gboolean
op_mx_host_is_self(const OpMxHost *host, const OpMxSelf *self)
{
	if (self == NULL)
		return FALSE;
	if (op_mx_name_is_self(host->host, self))
		return TRUE;
	for (guint i = 0; host->addresses != NULL && i < host->addresses->len; i++) {
		if (op_mx_address_is_self(g_ptr_array_index(host->addresses, i), self))
			return TRUE;
	}
	return FALSE;
}

/* Copies @host with only the addresses a connection can go to: never the
 * unspecified address (which reaches this machine) or a multicast address. */
static OpMxHost *
op_mx_host_copy_usable(const OpMxHost *host)
{
	OpMxHost *copy = op_mx_host_new(host->host, host->preference);

	copy->addresses = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; host->addresses != NULL && i < host->addresses->len; i++) {
		GInetAddress *address = g_ptr_array_index(host->addresses, i);

		if (copy->addresses->len >= OP_MX_MAX_ADDRESSES)
			break;
		if (g_inet_address_get_is_any(address) || g_inet_address_get_is_multicast(address))
			continue;
		g_ptr_array_add(copy->addresses, g_object_ref(address));
	}
	return copy;
}

static gboolean
op_mx_any_better(GPtrArray *hosts, guint preference)
{
	for (guint i = 0; i < hosts->len; i++) {
		if (((OpMxHost *)g_ptr_array_index(hosts, i))->preference < preference)
			return TRUE;
	}
	return FALSE;
}

GPtrArray *
op_mx_select(GPtrArray *hosts, const char *domain, const OpMxSelf *self, GError **error)
{
	g_autoptr(GPtrArray) kept = op_mx_host_array_new();
	guint limit = G_MAXUINT;
	gboolean found_self = FALSE;

	/* RFC 5321 §5.1: when we are one of the MX hosts, only hosts with a
	 * strictly better preference may take the mail. */
	for (guint i = 0; i < hosts->len; i++) {
		const OpMxHost *host = g_ptr_array_index(hosts, i);

		if (op_mx_host_is_self(host, self)) {
			found_self = TRUE;
			limit = MIN(limit, host->preference);
		}
	}
	if (found_self && !op_mx_any_better(hosts, limit)) {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "mail for %s" OP_MX_LOOP_SUFFIX,
			    domain);
		return NULL;
	}

	for (guint i = 0; i < hosts->len; i++) {
		const OpMxHost *host = g_ptr_array_index(hosts, i);
		OpMxHost *copy;

		if (found_self && host->preference >= limit)
			continue;
		copy = op_mx_host_copy_usable(host);
		if (copy->addresses->len == 0) {
			op_mx_host_free(copy);
			continue;
		}
		g_ptr_array_add(kept, copy);
	}

	if (kept->len > 0)
		return g_steal_pointer(&kept);
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
		    "no MX host of %s has a usable address" OP_MX_NO_ADDRESS_SUFFIX, domain);
	return NULL;
}

static GPtrArray *
op_mx_parse_answer(ldns_pkt *answer)
{
	GPtrArray *records = op_mx_host_array_new();
	ldns_rr_list *list = ldns_pkt_answer(answer);

	for (gsize i = 0; i < ldns_rr_list_rr_count(list); i++) {
		ldns_rr *rr = ldns_rr_list_rr(list, i);
		g_autofree char *exchange = NULL;
		guint preference;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) != 2)
			continue;
		preference = ldns_rdf2native_int16(ldns_rr_mx_preference(rr));
		exchange = ldns_rdf2str(ldns_rr_mx_exchange(rr));
		if (exchange != NULL)
			g_ptr_array_add(records, op_mx_host_new(exchange, preference));
	}
	return records;
}

static void
op_mx_fail_query(const char *domain, GError *query_error, GError **error)
{
	if (g_error_matches(query_error, OP_ERROR, OP_ERROR_NOT_FOUND))
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "domain %s" OP_MX_NXDOMAIN_SUFFIX,
			    domain);
	else if (g_error_matches(query_error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT))
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "%s" OP_MX_INVALID_SUFFIX,
			    domain);
	else
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "MX lookup for %s failed: %s",
			    domain, query_error->message);
}

/* Fills in the addresses of each host. A host whose lookup fails stays
 * without addresses; the first temporary failure goes to @dns_failure. For the
 * implicit MX, a domain without address records is a permanent failure. */
static gboolean
op_mx_lookup_hosts(OpResolver *resolver, GPtrArray *hosts, gboolean implicit,
		   const char *domain, GError **dns_failure, GError **error)
{
	for (guint i = 0; i < hosts->len; i++) {
		OpMxHost *host = g_ptr_array_index(hosts, i);
		g_autoptr(GError) local_error = NULL;

		host->addresses = op_resolver_lookup_addresses(resolver, host->host, &local_error);
		if (host->addresses != NULL)
			continue;
		g_debug("MX host %s of %s: %s", host->host, domain, local_error->message);
		if (implicit && !g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY)) {
			g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
				    "domain %s has no MX, AAAA or A record", domain);
			return FALSE;
		}
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY) &&
		    *dns_failure == NULL)
			*dns_failure = g_steal_pointer(&local_error);
	}
	return TRUE;
}

GPtrArray *
op_mx_resolve(OpResolver *resolver, const char *domain_ascii, const OpMxSelf *self,
	      GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GError) dns_failure = NULL;
	g_autoptr(ldns_pkt) answer = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GPtrArray) ordered = NULL;
	GPtrArray *selected;

	g_return_val_if_fail(resolver != NULL, NULL);
	g_return_val_if_fail(domain_ascii != NULL, NULL);

	answer = op_resolver_query(resolver, domain_ascii, LDNS_RR_TYPE_MX, &local_error);
	if (answer == NULL) {
		op_mx_fail_query(domain_ascii, local_error, error);
		return NULL;
	}
	records = op_mx_parse_answer(answer);
	ordered = op_mx_order(records, domain_ascii, error);
	if (ordered == NULL)
		return NULL;
	if (!op_mx_lookup_hosts(resolver, ordered, records->len == 0, domain_ascii,
				&dns_failure, error))
		return NULL;

	selected = op_mx_select(ordered, domain_ascii, self, &local_error);
	if (selected != NULL)
		return selected;
	/* With no usable host, a DNS failure explains more than "no address". */
	if (dns_failure != NULL && g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY)) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "address lookup for the MX hosts of %s failed: %s", domain_ascii,
			    dns_failure->message);
		return NULL;
	}
	g_propagate_error(error, g_steal_pointer(&local_error));
	return NULL;
}

const char *
op_mx_error_status(const GError *error)
{
	g_return_val_if_fail(error != NULL, "4.0.0");

	for (gsize i = 0; i < G_N_ELEMENTS(op_mx_statuses); i++) {
		if (g_error_matches(error, OP_ERROR, op_mx_statuses[i].code) &&
		    g_str_has_suffix(error->message, op_mx_statuses[i].suffix))
			return op_mx_statuses[i].status;
	}
	return g_error_matches(error, OP_ERROR, OP_ERROR_PERMANENT) ? "5.4.4" : "4.4.3";
}
