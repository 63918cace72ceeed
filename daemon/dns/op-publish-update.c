/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Publishing a domain's records by DNS UPDATE (RFC 2136) signed with TSIG
 * (RFC 8945), through ldns. One message carries every change, so the server
 * applies all of them or none (RFC 2136 §3.7).
 */
#define G_LOG_DOMAIN "outpost-dns"

#include "dns/op-publish-update.h"

#include "dns/op-publisher.h"
#include "dns/op-records.h"
#include "op-error.h"

#include <gio/gio.h>
#include <ldns/ldns.h>
#include <string.h>

#define OP_PUBLISH_TIMEOUT 10
/* Base64 characters of the longest secret accepted: 192 octets, more than the
 * HMAC-SHA-512 block size that RFC 2104 §3 suggests as the longest useful key. */
#define OP_MAX_TSIG_SECRET 256

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ldns_resolver, ldns_resolver_deep_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ldns_pkt, ldns_pkt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ldns_rr_list, ldns_rr_list_deep_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ldns_rdf, ldns_rdf_deep_free)

static ldns_rdf *parse_server(const char *server, guint16 *port, GError **error);

/* Base64 of RFC 4648 §4 with padding, as TSIG secrets are written in key
 * files: g_base64_decode() skips invalid characters, so check first. */
static gboolean
is_base64(const char *text)
{
	gsize length = strlen(text);
	gsize padding = 0;

	if (length == 0 || length > OP_MAX_TSIG_SECRET || length % 4 != 0)
		return FALSE;
	while (padding < 2 && text[length - 1 - padding] == '=')
		padding++;
	for (gsize i = 0; i < length - padding; i++) {
		if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/')
			return FALSE;
	}
	return TRUE;
}

gboolean
op_dns_publish_check_arguments(const char *server, const char *tsig_name,
			       const char *tsig_algorithm, const char *tsig_secret_base64,
			       GError **error)
{
	g_autoptr(ldns_rdf) name = NULL;
	g_autoptr(ldns_rdf) address = NULL;
	guint16 port = 0;

	address = parse_server(server, &port, error);
	if (address == NULL)
		return FALSE;

	if (tsig_name == NULL || *tsig_name == '\0' ||
	    ldns_str2rdf_dname(&name, tsig_name) != LDNS_STATUS_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the TSIG key name must be a domain name, such as outpost-key");
		return FALSE;
	}
	/* ldns 1.8.3 cannot sign with hmac-sha384 and falls back to hmac-md5
	 * without an algorithm, so only these two are accepted. */
	if (g_strcmp0(tsig_algorithm, "hmac-sha256") != 0 &&
	    g_strcmp0(tsig_algorithm, "hmac-sha512") != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the TSIG algorithm must be hmac-sha256 or hmac-sha512");
		return FALSE;
	}
	if (tsig_secret_base64 == NULL || !is_base64(tsig_secret_base64)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the TSIG secret is not valid base64 of at most %d characters: copy it "
			    "from the key file", OP_MAX_TSIG_SECRET);
		return FALSE;
	}
	return TRUE;
}

/* The server must be an IP address, so that no name lookup goes through the
 * system resolver on the way to the zone's own primary server. */
static ldns_rdf *
parse_server(const char *server, guint16 *port, GError **error)
{
	g_autoptr(GSocketConnectable) address = NULL;
	const char *host;
	ldns_rdf *rdf = NULL;

	if (server == NULL || *server == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the DNS server as an IP address, e.g. 192.0.2.53 or [2001:db8::53]:53");
		return NULL;
	}
	address = g_network_address_parse(server, 53, NULL);
	host = address ? g_network_address_get_hostname(G_NETWORK_ADDRESS(address)) : NULL;
	if (host != NULL && strchr(host, ':') != NULL)
		rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host);
	else if (host != NULL && g_hostname_is_ip_address(host))
		rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host);
	if (rdf == NULL || g_network_address_get_port(G_NETWORK_ADDRESS(address)) == 0) {
		/* A long value is not repeated: the message stays one readable line. */
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the DNS server %s is not an IP address with an optional port, "
			    "e.g. 192.0.2.53 or [2001:db8::53]:53",
			    strlen(server) <= 64 ? server : "given");
		ldns_rdf_deep_free(rdf);
		return NULL;
	}
	*port = g_network_address_get_port(G_NETWORK_ADDRESS(address));
	return rdf;
}

static ldns_resolver *
make_resolver(const char *server, const char *tsig_name, const char *tsig_algorithm,
	      const char *tsig_secret, GError **error)
{
	g_autoptr(ldns_rdf) address = NULL;
	g_autofree char *algorithm = g_strconcat(tsig_algorithm, ".", NULL);
	struct timeval timeout = {OP_PUBLISH_TIMEOUT, 0};
	ldns_resolver *resolver;
	guint16 port = 53;

	address = parse_server(server, &port, error);
	if (address == NULL)
		return NULL;
	/* ldns_resolver_new() reads no resolv.conf: the server is the only one. */
	resolver = ldns_resolver_new();
	ldns_resolver_push_nameserver(resolver, address);
	ldns_resolver_set_port(resolver, port);
	ldns_resolver_set_recursive(resolver, false);
	/* An UPDATE with a 2048-bit DKIM key and TSIG outgrows 512 octets. */
	ldns_resolver_set_usevc(resolver, true);
	ldns_resolver_set_timeout(resolver, timeout);
	ldns_resolver_set_retry(resolver, 1);
	ldns_resolver_set_tsig_keyname(resolver, tsig_name);
	ldns_resolver_set_tsig_algorithm(resolver, algorithm);
	ldns_resolver_set_tsig_keydata(resolver, tsig_secret);
	return resolver;
}

/* Turns the ldns status and the server's rcode into an error a person can act on. */
static gboolean
check_answer(ldns_status status, ldns_pkt *answer, const char *apex, const char *server,
	     const char *tsig_name, GError **error)
{
	g_autofree char *zone = g_strndup(apex, strlen(apex) - g_str_has_suffix(apex, "."));

	/* A server sends its BADKEY and BADSIG replies unsigned (RFC 8945 §5.2),
	 * which ldns reports only as a bogus TSIG signature. knot also replies
	 * BADKEY when its access list denies a valid key, so the message names both. */
	if (status == LDNS_STATUS_CRYPTO_TSIG_BOGUS || status == LDNS_STATUS_CRYPTO_TSIG_ERR ||
	    (answer != NULL && ldns_pkt_get_rcode(answer) == LDNS_RCODE_NOTAUTH)) {
		g_set_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED,
			    "the DNS server rejected the TSIG key %s: check the key name, "
			    "algorithm and secret, and that the key may update %s", tsig_name, zone);
		return FALSE;
	}
	if (status != LDNS_STATUS_OK || answer == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "no reply from the DNS server %s (%s): check that it is running and "
			    "reachable, then try again", server, ldns_get_errorstr_by_id(status));
		return FALSE;
	}
	switch (ldns_pkt_get_rcode(answer)) {
	case LDNS_RCODE_NOERROR:
		return TRUE;
	case LDNS_RCODE_REFUSED:
		g_set_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED,
			    "the DNS server refused the update for %s: allow updates from this host",
			    zone);
		return FALSE;
	case LDNS_RCODE_NXRRSET:
	case LDNS_RCODE_YXRRSET:
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the zone %s changed during the update or has no SOA on %s: try again",
			    zone, server);
		return FALSE;
	case LDNS_RCODE_NOTZONE:
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
			    "the records are not inside the zone %s on %s", zone, server);
		return FALSE;
	case LDNS_RCODE_SERVFAIL:
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the DNS server %s failed to apply the update for %s: try again later",
			    server, zone);
		return FALSE;
	default:
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the DNS server %s answered the update for %s with rcode %d", server,
			    zone, (int)ldns_pkt_get_rcode(answer));
		return FALSE;
	}
}

/* An SPF record starts with "v=spf1" then a space or its end (RFC 7208
 * §4.5); its character-strings are read as one string (§3.3). */
static gboolean
is_spf_txt(const ldns_rr *rr)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const guint8 *data = ldns_rdf_data(rdf);

		if (ldns_rdf_size(rdf) > 0)
			g_string_append_len(text, (const char *)data + 1, data[0]);
	}
	return g_ascii_strncasecmp(text->str, "v=spf1", 6) == 0 &&
	       (text->str[6] == '\0' || text->str[6] == ' ');
}

static ldns_rr *
make_rr(const char *name, ldns_rr_type type, ldns_rr_class klass)
{
	ldns_rr *rr = ldns_rr_new();

	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, klass);
	ldns_rr_set_ttl(rr, 0);
	return rr;
}

/* Lists the TXT records of owner and deletes only the SPF ones, so site
 * verifications and the like stay. All of them become a prerequisite (RFC
 * 2136 §2.4.2), so a TXT change there made meanwhile makes the update fail. */
static gboolean
replace_spf_txt(ldns_resolver *resolver, const char *zone, const char *owner,
		const char *server, const char *tsig_name, ldns_rr_list *prereq,
		ldns_rr_list *deletes, GError **error)
{
	g_autoptr(ldns_rdf) name = ldns_dname_new_frm_str(owner);
	g_autoptr(ldns_pkt) answer = NULL;
	ldns_status status;
	ldns_rr_list *found;
	gboolean any = FALSE;

	status = ldns_resolver_query_status(&answer, resolver, name, LDNS_RR_TYPE_TXT,
					    LDNS_RR_CLASS_IN, 0);
	if (!check_answer(status, answer, zone, server, tsig_name, error))
		return FALSE;
	found = ldns_pkt_answer(answer);
	for (size_t i = 0; i < ldns_rr_list_rr_count(found); i++) {
		ldns_rr *rr = ldns_rr_list_rr(found, i);
		ldns_rr *copy;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
			continue;
		any = TRUE;
		copy = ldns_rr_clone(rr);
		ldns_rr_set_ttl(copy, 0);
		ldns_rr_list_push_rr(prereq, copy);
		if (is_spf_txt(rr)) {
			copy = ldns_rr_clone(rr);
			ldns_rr_set_ttl(copy, 0);
			ldns_rr_set_class(copy, LDNS_RR_CLASS_NONE);
			ldns_rr_list_push_rr(deletes, copy);
		}
	}
	if (!any)
		ldns_rr_list_push_rr(prereq, make_rr(owner, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_NONE));
	return TRUE;
}

static ldns_rr *
parse_record(const OpDnsRecord *record, GError **error)
{
	g_autofree char *text = g_strdup_printf("%s %d IN %s %s", record->name, OP_PUBLISH_TTL,
						record->type, record->value);
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, OP_PUBLISH_TTL, NULL, NULL) != LDNS_STATUS_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the %s record of %s could not be encoded for DNS UPDATE",
			    record->type, record->name);
		return NULL;
	}
	return rr;
}

/* Fills the prerequisite, delete and add lists for every record. */
static gboolean
build_update(ldns_resolver *resolver, const char *zone, const char *server,
	     const char *tsig_name, GPtrArray *records, ldns_rr_list *prereq,
	     ldns_rr_list *deletes, ldns_rr_list *adds, GError **error)
{
	g_autoptr(GHashTable) deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							      NULL);

	/* The zone must exist: its SOA RRset (RFC 2136 §2.4.1). */
	ldns_rr_list_push_rr(prereq, make_rr(zone, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_ANY));
	for (guint i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);
		ldns_rr *rr = parse_record(record, error);
		g_autofree char *key = NULL;

		if (rr == NULL)
			return FALSE;
		ldns_rr_list_push_rr(adds, rr);
		key = g_strdup_printf("%s/%s", record->name, record->type);
		if (!g_hash_table_add(deleted, g_ascii_strdown(key, -1)))
			continue;
		/* Outpost owns the SPF record of a name, not its other TXT records. */
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT &&
		    op_publish_txt_is_spf(record->value)) {
			if (!replace_spf_txt(resolver, zone, record->name, server, tsig_name,
					     prereq, deletes, error))
				return FALSE;
			continue;
		}
		/* Delete the RRset Outpost owns (RFC 2136 §2.5.2). */
		ldns_rr_list_push_rr(deletes, make_rr(record->name, ldns_rr_get_type(rr),
						      LDNS_RR_CLASS_ANY));
	}
	return TRUE;
}

gboolean
op_dns_publish(const char *zone, const char *server, const char *tsig_name,
	       const char *tsig_algorithm, const char *tsig_secret_base64, GPtrArray *records,
	       GError **error)
{
	g_autoptr(ldns_resolver) resolver = NULL;
	g_autoptr(ldns_rr_list) prereq = ldns_rr_list_new();
	g_autoptr(ldns_rr_list) deletes = ldns_rr_list_new();
	g_autoptr(ldns_rr_list) adds = ldns_rr_list_new();
	g_autoptr(ldns_pkt) update = NULL;
	g_autoptr(ldns_pkt) answer = NULL;
	g_autofree char *apex = NULL;
	ldns_status status;

	if (!op_dns_publish_check_arguments(server, tsig_name, tsig_algorithm,
					    tsig_secret_base64, error))
		return FALSE;
	resolver = make_resolver(server, tsig_name, tsig_algorithm, tsig_secret_base64, error);
	if (resolver == NULL)
		return FALSE;
	apex = g_str_has_suffix(zone, ".") ? g_strdup(zone) : g_strconcat(zone, ".", NULL);
	if (!build_update(resolver, apex, server, tsig_name, records, prereq, deletes, adds,
			  error))
		return FALSE;
	/* Updates apply in order (RFC 2136 §3.4.2): every delete before any add. */
	ldns_rr_list_cat(deletes, adds);
	ldns_rr_list_free(g_steal_pointer(&adds)); /* its records now belong to deletes */
	update = ldns_update_pkt_new(ldns_dname_new_frm_str(apex), LDNS_RR_CLASS_IN, prereq,
				     deletes, NULL);
	ldns_pkt_set_rd(update, false);
	if (ldns_update_pkt_tsig_add(update, resolver) != LDNS_STATUS_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the update could not be signed with the TSIG key %s: check the "
			    "key name, algorithm and secret", tsig_name);
		return FALSE;
	}
	status = ldns_resolver_send_pkt(&answer, resolver, update);
	return check_answer(status, answer, zone, server, tsig_name, error);
}

static gboolean
check_target(const OpPublishTarget *target, GError **error)
{
	return op_dns_publish_check_arguments(target->server, target->key_name,
					      target->key_algorithm, target->secret, error);
}

static gboolean
publish_target(const OpPublishTarget *target, const char *zone, GPtrArray *records,
	       GError **error)
{
	return op_dns_publish(zone, target->server, target->key_name, target->key_algorithm,
			      target->secret, records, error);
}

const OpPublisher op_publisher_dns_update = {"dns-update", check_target, publish_target};
