/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Blocking DNS queries over ldns. Each query builds its own ldns_resolver
 * from the immutable settings here, because ldns keeps per-server state in
 * the resolver (it marks a server that once timed out as unreachable for good)
 * and is not safe to share between threads.
 */
#include "dns/op-resolver.h"

#include <openssl/rand.h>

#include "op-config.h"
#include "op-error.h"

/* ldns tries each server this many times, each try bounded by half the timeout. */
#define OP_RESOLVER_TRIES 2

struct _OpResolver {
	GPtrArray *nameservers; /* ldns_rdf* of type A or AAAA */
	guint16 port;
	guint timeout_seconds;
	char *description; /* for error messages: "127.0.0.1:5353" or "system resolver" */
};

static void
op_resolver_rdf_free(gpointer rdf)
{
	ldns_rdf_deep_free(rdf);
}

static ldns_rdf *
op_resolver_parse_address(const char *host)
{
	ldns_rdf *rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host);

	if (rdf == NULL)
		rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host);
	return rdf;
}

static gboolean
op_resolver_set_server(OpResolver *resolver, const char *server, GError **error)
{
	g_autofree char *host = NULL;
	guint port = 0;
	ldns_rdf *address;

	if (!op_parse_host_port(server, 53, &host, &port, error)) {
		g_prefix_error(error, "invalid DNS resolver: ");
		return FALSE;
	}
	if (port == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid DNS resolver \"%s\": port 0 cannot be queried", server);
		return FALSE;
	}
	address = op_resolver_parse_address(host);
	if (address == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid DNS resolver \"%s\": expected an IPv4 or IPv6 address",
			    server);
		return FALSE;
	}
	g_ptr_array_add(resolver->nameservers, address);
	resolver->port = (guint16)port;
	resolver->description = g_strdup(server);
	return TRUE;
}

static gboolean
op_resolver_set_system(OpResolver *resolver, GError **error)
{
	ldns_resolver *system = NULL;
	ldns_status status;
	ldns_rdf **servers;
	gsize count;

	status = ldns_resolver_new_frm_file(&system, NULL);
	if (status != LDNS_STATUS_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "cannot read the system resolver configuration: %s",
			    ldns_get_errorstr_by_id(status));
		return FALSE;
	}
	servers = ldns_resolver_nameservers(system);
	count = ldns_resolver_nameserver_count(system);
	for (gsize i = 0; i < count; i++)
		g_ptr_array_add(resolver->nameservers, ldns_rdf_clone(servers[i]));
	resolver->port = ldns_resolver_port(system);
	ldns_resolver_deep_free(system);

	if (count == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the system resolver configuration names no nameserver: "
			    "set dns_resolver in the configuration");
		return FALSE;
	}
	resolver->description = g_strdup("system resolver");
	return TRUE;
}

OpResolver *
op_resolver_new(const char *server, guint timeout_seconds, GError **error)
{
	g_autoptr(OpResolver) resolver = g_new0(OpResolver, 1);

	resolver->nameservers = g_ptr_array_new_with_free_func(op_resolver_rdf_free);
	resolver->timeout_seconds = MAX(timeout_seconds, 1);
	if (server != NULL) {
		if (!op_resolver_set_server(resolver, server, error))
			return NULL;
	} else if (!op_resolver_set_system(resolver, error)) {
		return NULL;
	}
	return g_steal_pointer(&resolver);
}

void
op_resolver_free(OpResolver *resolver)
{
	if (resolver == NULL)
		return;
	g_ptr_array_unref(resolver->nameservers);
	g_free(resolver->description);
	g_free(resolver);
}

/* Builds a fresh ldns resolver for one query. Search lists and default
 * domains stay off: every name we look up is fully qualified. */
static ldns_resolver *
op_resolver_make_ldns(OpResolver *resolver)
{
	ldns_resolver *res = ldns_resolver_new();
	struct timeval timeout = {
		.tv_sec = MAX((resolver->timeout_seconds + 1) / OP_RESOLVER_TRIES, 1),
	};

	if (res == NULL)
		return NULL;
	for (guint i = 0; i < resolver->nameservers->len; i++)
		ldns_resolver_push_nameserver(res, g_ptr_array_index(resolver->nameservers, i));
	ldns_resolver_set_port(res, resolver->port);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_retry(res, OP_RESOLVER_TRIES);
	ldns_resolver_set_retrans(res, 0);
	ldns_resolver_set_timeout(res, timeout);
	ldns_resolver_set_defnames(res, false);
	ldns_resolver_set_dnsrch(res, false);
	/* Retry over TCP when a UDP answer comes back truncated (RFC 7766 §5). */
	ldns_resolver_set_fallback(res, true);
	return res;
}

static const char *
op_resolver_type_name(ldns_rr_type type, char *buffer, gsize size)
{
	const ldns_rr_descriptor *descriptor = ldns_rr_descript(type);

	if (descriptor != NULL && descriptor->_name != NULL)
		return descriptor->_name;
	g_snprintf(buffer, size, "TYPE%u", (guint)type);
	return buffer;
}

/* ldns does not check that an answer belongs to the query it sent, so a
 * spoofed UDP datagram from anywhere would be taken. Check the ID and the
 * question section (RFC 5452 §9.1). */
static gboolean
op_resolver_answer_matches(ldns_pkt *query, ldns_pkt *answer)
{
	ldns_rr_list *asked = ldns_pkt_question(query);
	ldns_rr_list *echoed = ldns_pkt_question(answer);
	ldns_rr *q;
	ldns_rr *e;

	if (ldns_pkt_id(query) != ldns_pkt_id(answer) || !ldns_pkt_qr(answer))
		return FALSE;
	if (ldns_rr_list_rr_count(echoed) != 1 || ldns_rr_list_rr_count(asked) != 1)
		return FALSE;
	q = ldns_rr_list_rr(asked, 0);
	e = ldns_rr_list_rr(echoed, 0);
	return ldns_rr_get_type(q) == ldns_rr_get_type(e) &&
	       ldns_rr_get_class(q) == ldns_rr_get_class(e) &&
	       ldns_dname_compare(ldns_rr_owner(q), ldns_rr_owner(e)) == 0;
}

static gboolean
op_resolver_check_rcode(ldns_pkt *answer, const char *name, const char *type_name,
			GError **error)
{
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer);
	const ldns_lookup_table *entry;

	if (rcode == LDNS_RCODE_NOERROR)
		return TRUE;
	if (rcode == LDNS_RCODE_NXDOMAIN) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "%s does not exist (NXDOMAIN)",
			    name);
		return FALSE;
	}
	entry = ldns_lookup_by_id(ldns_rcodes, rcode);
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "DNS query for %s %s failed: %s", name,
		    type_name, entry != NULL ? entry->name : "unknown rcode");
	return FALSE;
}

static ldns_pkt *
op_resolver_send(OpResolver *resolver, ldns_rdf *dname, ldns_rr_type type,
		 const char *name, const char *type_name, GError **error)
{
	ldns_resolver *res = op_resolver_make_ldns(resolver);
	g_autoptr(ldns_pkt) query = NULL;
	g_autoptr(ldns_pkt) answer = NULL;
	ldns_status status;
	guint16 id = 0;

	if (res == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "out of memory for a DNS query");
		return NULL;
	}
	status = ldns_resolver_prepare_query_pkt(&query, res, dname, type, LDNS_RR_CLASS_IN,
						 LDNS_RD);
	if (status == LDNS_STATUS_OK) {
		/* An unpredictable ID makes blind spoofing harder (RFC 5452 §4.3). */
		if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
			id = (guint16)g_random_int();
		ldns_pkt_set_id(query, id);
		status = ldns_resolver_send_pkt(&answer, res, query);
	}
	ldns_resolver_deep_free(res);

	if (status != LDNS_STATUS_OK || answer == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "DNS query for %s %s to %s failed: %s", name, type_name,
			    resolver->description, ldns_get_errorstr_by_id(status));
		return NULL;
	}
	if (!op_resolver_answer_matches(query, answer)) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "DNS answer for %s %s from %s does not match the query", name,
			    type_name, resolver->description);
		return NULL;
	}
	return g_steal_pointer(&answer);
}

ldns_pkt *
op_resolver_query(OpResolver *resolver, const char *name, ldns_rr_type type, GError **error)
{
	g_autoptr(ldns_pkt) answer = NULL;
	ldns_rdf *dname;
	const char *type_name;
	char type_buffer[16];

	g_return_val_if_fail(resolver != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);

	type_name = op_resolver_type_name(type, type_buffer, sizeof(type_buffer));
	dname = *name != '\0' ? ldns_dname_new_frm_str(name) : NULL;
	if (dname == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid domain name \"%s\"", name);
		return NULL;
	}
	answer = op_resolver_send(resolver, dname, type, name, type_name, error);
	ldns_rdf_deep_free(dname);
	if (answer == NULL)
		return NULL;
	if (!op_resolver_check_rcode(answer, name, type_name, error))
		return NULL;
	g_debug("DNS %s %s: %zu answer records", name, type_name,
		ldns_rr_list_rr_count(ldns_pkt_answer(answer)));
	return g_steal_pointer(&answer);
}

/* Appends the addresses of one record type from the answer section. After a
 * CNAME chain they belong to the canonical name, and they are taken as well. */
static void
op_resolver_collect_addresses(ldns_pkt *answer, ldns_rr_type type, GPtrArray *out)
{
	ldns_rr_list *records = ldns_pkt_answer(answer);
	GSocketFamily family = type == LDNS_RR_TYPE_AAAA ? G_SOCKET_FAMILY_IPV6
							 : G_SOCKET_FAMILY_IPV4;
	gsize expected = type == LDNS_RR_TYPE_AAAA ? 16 : 4;

	for (gsize i = 0; i < ldns_rr_list_rr_count(records); i++) {
		ldns_rr *rr = ldns_rr_list_rr(records, i);
		ldns_rdf *rdf;

		if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) != 1)
			continue;
		rdf = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(rdf) != expected)
			continue;
		g_ptr_array_add(out, g_inet_address_new_from_bytes(ldns_rdf_data(rdf), family));
	}
}

GPtrArray *
op_resolver_lookup_addresses(OpResolver *resolver, const char *host, GError **error)
{
	static const ldns_rr_type types[] = {LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_A};
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GError) failure = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(ldns_pkt) answer = op_resolver_query(resolver, host, types[i],
							       &local_error);

		if (answer != NULL) {
			op_resolver_collect_addresses(answer, types[i], addresses);
			continue;
		}
		g_debug("address lookup: %s", local_error->message);
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND) ||
		    g_error_matches(local_error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT)) {
			/* The name does not exist, so the other type need not be queried. */
			g_propagate_error(error, g_steal_pointer(&local_error));
			return NULL;
		}
		if (failure == NULL)
			failure = g_steal_pointer(&local_error);
	}

	if (addresses->len > 0)
		return g_steal_pointer(&addresses);
	if (failure != NULL) {
		g_propagate_error(error, g_steal_pointer(&failure));
		return NULL;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "%s has no AAAA or A record", host);
	return NULL;
}

static char *
op_resolver_join_txt(ldns_rr *rr)
{
	GString *text = g_string_new(NULL);

	for (gsize i = 0; i < ldns_rr_rd_count(rr); i++) {
		ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const guint8 *data = ldns_rdf_data(rdf);
		gsize size = ldns_rdf_size(rdf);

		/* A character-string is a length octet and that many octets. */
		if (size == 0 || (gsize)data[0] + 1 > size)
			continue;
		g_string_append_len(text, (const char *)data + 1, data[0]);
	}
	return g_string_free(text, FALSE);
}

GPtrArray *
op_resolver_lookup_txt(OpResolver *resolver, const char *name, GError **error)
{
	g_autoptr(ldns_pkt) answer = op_resolver_query(resolver, name, LDNS_RR_TYPE_TXT, error);
	GPtrArray *texts;
	ldns_rr_list *records;

	if (answer == NULL)
		return NULL;
	texts = g_ptr_array_new_with_free_func(g_free);
	records = ldns_pkt_answer(answer);
	for (gsize i = 0; i < ldns_rr_list_rr_count(records); i++) {
		ldns_rr *rr = ldns_rr_list_rr(records, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT)
			g_ptr_array_add(texts, op_resolver_join_txt(rr));
	}
	return texts;
}

GPtrArray *
op_resolver_lookup_names(OpResolver *resolver, const char *name, ldns_rr_type type, gsize field,
			 GError **error)
{
	g_autoptr(ldns_pkt) answer = op_resolver_query(resolver, name, type, error);
	GPtrArray *names;
	ldns_rr_list *records;

	if (answer == NULL)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	records = ldns_pkt_answer(answer);
	for (gsize i = 0; i < ldns_rr_list_rr_count(records); i++) {
		ldns_rr *rr = ldns_rr_list_rr(records, i);
		char *text;
		gsize length;

		if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) <= field)
			continue;
		text = ldns_rdf2str(ldns_rr_rdf(rr, field));
		if (text == NULL)
			continue;
		length = strlen(text);
		if (length > 1 && text[length - 1] == '.')
			text[length - 1] = '\0';
		g_ptr_array_add(names, g_strdup(text));
		free(text);
	}
	return names;
}

char *
op_resolver_dup_reverse_labels(GInetAddress *address)
{
	const guint8 *bytes = g_inet_address_to_bytes(address);
	GString *labels = g_string_new(NULL);

	if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4) {
		g_string_printf(labels, "%u.%u.%u.%u", bytes[3], bytes[2], bytes[1], bytes[0]);
		return g_string_free(labels, FALSE);
	}
	for (int i = 15; i >= 0; i--)
		g_string_append_printf(labels, "%s%x.%x", i == 15 ? "" : ".", bytes[i] & 0x0f,
				       bytes[i] >> 4);
	return g_string_free(labels, FALSE);
}
