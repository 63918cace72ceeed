/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The deliverability check. Records are read from each authoritative server
 * of the domain, because a resolver's cache can hide a change for a TTL.
 * SPF, reverse DNS and blocklists are looked up through the recursive
 * resolver, the view a receiving server has.
 */
#define G_LOG_DOMAIN "outpost-dns"

#include "dns/op-dns-check.h"

#include "dkim/op-dkim-record.h"
#include "dns/op-records.h"
#include "dns/op-spf.h"
#include "op-error.h"
#include "tls/op-tls-cert.h"

#include <string.h>

#define OP_CHECK_TIMEOUT 5
/* Warn this many days before the submission certificate expires. */
#define OP_CERT_WARN_DAYS 21

static const char *const check_states[] = { "pass", "warn", "fail" };

const char *
op_check_state_to_string(OpCheckState state)
{
	return check_states[state];
}

void
op_check_free(OpCheck *check)
{
	if (check == NULL)
		return;
	g_free(check->name);
	g_free(check->sentence);
	g_free(check->fix);
	g_free(check);
}

static void add_check(GPtrArray *checks, const char *name, OpCheckState state, const char *fix,
		      const char *format, ...) G_GNUC_PRINTF(5, 6);

static void
add_check(GPtrArray *checks, const char *name, OpCheckState state, const char *fix,
	  const char *format, ...)
{
	OpCheck *check = g_new0(OpCheck, 1);
	va_list args;

	va_start(args, format);
	check->sentence = g_strdup_vprintf(format, args);
	va_end(args);
	check->name = g_strdup(name);
	check->state = state;
	check->fix = g_strdup(fix ? fix : "");
	g_ptr_array_add(checks, check);
}

const char *
op_dns_check_health(GPtrArray *checks)
{
	OpCheckState worst = OP_CHECK_PASS;

	for (guint i = 0; i < checks->len; i++) {
		const OpCheck *check = checks->pdata[i];

		worst = MAX(worst, check->state);
	}
	if (worst == OP_CHECK_FAIL)
		return "red";
	if (worst == OP_CHECK_WARN)
		return "amber";
	return "green";
}

/* Returns name without its trailing dot, for sentences. */
static char *
dup_bare_name(const char *name)
{
	gsize len = strlen(name);

	return g_strndup(name, len > 1 && name[len - 1] == '.' ? len - 1 : len);
}

/* ---- Reading the authoritative servers --------------------------------- */

typedef struct {
	char *label;	      /* "ns1.example.org (192.0.2.53)" */
	OpResolver *resolver; /* queries go to this one server */
} AuthServer;

static void
auth_server_free(AuthServer *server)
{
	g_free(server->label);
	op_resolver_free(server->resolver);
	g_free(server);
}

static void
add_auth_servers_of(GPtrArray *servers, const OpDnsCheckInput *input, const char *ns)
{
	g_autoptr(GPtrArray) addresses = op_resolver_lookup_addresses(input->resolver, ns, NULL);

	for (guint i = 0; addresses != NULL && i < addresses->len; i++) {
		g_autofree char *ip = g_inet_address_to_string(addresses->pdata[i]);
		g_autofree char *target = g_strdup_printf(strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip,
							  input->authoritative_port);
		OpResolver *resolver = op_resolver_new(target, OP_CHECK_TIMEOUT, NULL);
		AuthServer *server;

		if (resolver == NULL)
			continue;
		server = g_new0(AuthServer, 1);
		server->label = g_strdup_printf("%s (%s)", ns, ip);
		server->resolver = resolver;
		g_ptr_array_add(servers, server);
	}
}

/* Returns the name servers of the zone that contains domain: the NS records
 * of the domain, or else of its closest parent that has NS records. */
static GPtrArray *
find_zone_name_servers(const OpDnsCheckInput *input, GError **error)
{
	for (const char *name = input->domain; name != NULL && strchr(name, '.') != NULL;
	     name = strchr(name, '.') + 1) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(GPtrArray) names = op_resolver_lookup_names(
			input->resolver, name, LDNS_RR_TYPE_NS, 0, &local_error);

		if (names != NULL && names->len > 0)
			return g_steal_pointer(&names);
		if (names == NULL && !g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			return NULL;
		}
	}
	return g_ptr_array_new_with_free_func(g_free);
}

/* Returns the authoritative servers of the domain's zone, or NULL after
 * adding the check that explains why there are none. */
static GPtrArray *
find_auth_servers(const OpDnsCheckInput *input, GPtrArray *checks)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) names = find_zone_name_servers(input, &error);
	g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func(
		(GDestroyNotify)auth_server_free);

	if (names == NULL || names->len == 0) {
		add_check(checks, "nameservers", OP_CHECK_FAIL,
			  "Delegate the domain to DNS servers at your registrar, or add the "
			  "domain to the DNS server that holds its zone.",
			  "no name server of %s was found%s%s", input->domain, error ? ": " : "",
			  error ? error->message : "");
		return NULL;
	}
	for (guint i = 0; i < names->len; i++)
		add_auth_servers_of(servers, input, names->pdata[i]);
	if (servers->len == 0) {
		add_check(checks, "nameservers", OP_CHECK_FAIL,
			  "Give each name server of the zone an A or AAAA record.",
			  "none of the name servers of %s has an address", input->domain);
		return NULL;
	}
	return g_steal_pointer(&servers);
}

/* The published values of name and type on one server: TXT strings joined,
 * other types in zone-file form. */
static GPtrArray *
lookup_published(AuthServer *server, const char *name, const char *type, GError **error)
{
	ldns_rr_type rr_type = ldns_get_rr_type_by_name(type);
	g_autoptr(GError) local_error = NULL;
	g_autoptr(ldns_pkt) answer = NULL;
	GPtrArray *values;

	if (rr_type == LDNS_RR_TYPE_TXT) {
		values = op_resolver_lookup_txt(server->resolver, name, &local_error);
		if (values == NULL && g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND))
			return g_ptr_array_new_with_free_func(g_free);
		if (values == NULL)
			g_propagate_error(error, g_steal_pointer(&local_error));
		return values;
	}
	answer = op_resolver_query(server->resolver, name, rr_type, &local_error);
	values = g_ptr_array_new_with_free_func(g_free);
	if (answer == NULL) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND))
			return values;
		g_ptr_array_unref(values);
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	for (gsize i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(answer)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(answer), i);
		g_autoptr(GString) text = g_string_new(NULL);

		if (ldns_rr_get_type(rr) != rr_type)
			continue;
		for (gsize j = 0; j < ldns_rr_rd_count(rr); j++) {
			char *field = ldns_rdf2str(ldns_rr_rdf(rr, j));

			g_string_append_printf(text, "%s%s", j ? " " : "", field ? field : "");
			free(field);
		}
		g_ptr_array_add(values, g_string_free(g_steal_pointer(&text), FALSE));
	}
	return values;
}

/* The TXT value of a generated record, its quoted strings joined. */
static char *
dup_expected_txt(const OpDnsRecord *record)
{
	g_autofree char *line = g_strdup_printf("%s 3600 IN TXT %s", record->name, record->value);
	g_autoptr(GString) joined = g_string_new(NULL);
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK)
		return g_strdup(record->value);
	for (gsize i = 0; i < ldns_rr_rd_count(rr); i++) {
		ldns_rdf *rdf = ldns_rr_rdf(rr, i);

		/* A character-string is a length octet and the octets. */
		g_string_append_len(joined, (const char *)ldns_rdf_data(rdf) + 1,
				    (gssize)ldns_rdf_size(rdf) - 1);
	}
	ldns_rr_free(rr);
	return g_string_free(g_steal_pointer(&joined), FALSE);
}

static gboolean
contains_value(GPtrArray *values, const char *value, gboolean (*same)(const char *,
								      const char *))
{
	for (guint i = 0; i < values->len; i++) {
		if (same(values->pdata[i], value))
			return TRUE;
	}
	return FALSE;
}

static gboolean
same_text(const char *a, const char *b)
{
	return g_ascii_strcasecmp(a, b) == 0;
}

static gboolean
is_dmarc(const char *text, const char *unused)
{
	return g_ascii_strncasecmp(text, "v=DMARC1", 8) == 0;
}

static gboolean
same_dkim_key(const char *published, const char *expected)
{
	return op_dkim_record_same_key(published, expected);
}

/* ---- Comparing one record ------------------------------------------------- */

/* A removed key's record must be gone or hold an empty key: otherwise
 * anyone who kept the private key can still sign as the domain. */
static void
check_revoked(GPtrArray *checks, const char *name, GPtrArray *published, const char *where)
{
	for (guint i = 0; i < published->len; i++) {
		g_autofree char *key = op_dkim_record_dup_tag(published->pdata[i], "p");

		if (key != NULL && *key != '\0') {
			add_check(checks, name, OP_CHECK_WARN,
				  "Publish the domain's records: they revoke it with an empty key.",
				  "the DKIM record %s on %s still holds the key of a removed DKIM key",
				  name, where);
			return;
		}
	}
	add_check(checks, name, OP_CHECK_PASS, NULL, "the removed DKIM key %s is revoked", name);
}

static void
check_dkim(GPtrArray *checks, const OpDnsRecord *record, GPtrArray *published,
	   const char *expected, const char *where)
{
	g_autofree char *name = dup_bare_name(record->name);
	const char *role = record->role;

	if (g_strcmp0(role, "dkim-revoked") == 0) {
		check_revoked(checks, name, published, where);
		return;
	}
	if (published->len == 1 && contains_value(published, expected, same_dkim_key)) {
		add_check(checks, name, OP_CHECK_PASS, NULL, "the DKIM key %s is published", name);
		return;
	}
	if (g_strcmp0(role, "dkim-retiring") == 0) {
		add_check(checks, name, OP_CHECK_WARN,
			  "Keep the record until Outpost drops the key, so mail signed before "
			  "the rotation still verifies.",
			  "the retired DKIM key %s is no longer published on %s", name, where);
		return;
	}
	add_check(checks, name,
		  g_strcmp0(role, "dkim-pending") == 0 ? OP_CHECK_WARN : OP_CHECK_FAIL,
		  "Publish the domain's records (outpostctl dns publish), or copy the TXT "
		  "record from outpostctl dns records.",
		  published->len > 1 ? "the DKIM name %s on %s holds more than one record%s"
		  : published->len > 0 ? "the DKIM record %s on %s holds another key%s"
				       : "the DKIM record %s is missing on %s%s",
		  name, where,
		  g_strcmp0(role, "dkim-pending") == 0
			  ? ": Outpost keeps signing with the current key until it appears"
			  : ": receivers cannot verify this domain's signatures");
}

static void
check_dmarc(GPtrArray *checks, const OpDnsRecord *record, GPtrArray *published,
	    const char *expected, const char *where)
{
	g_autofree char *name = dup_bare_name(record->name);
	guint found = 0;
	const char *text = NULL;

	for (guint i = 0; i < published->len; i++) {
		if (is_dmarc(published->pdata[i], NULL)) {
			found++;
			text = published->pdata[i];
		}
	}
	if (found == 0) {
		add_check(checks, "dmarc", OP_CHECK_FAIL,
			  "Publish the DMARC record, starting with p=none and a rua address.",
			  "%s has no DMARC record on %s: large receivers treat such mail as "
			  "suspect",
			  name, where);
	} else if (found > 1) {
		add_check(checks, "dmarc", OP_CHECK_FAIL, "Keep only one v=DMARC1 record.",
			  "%s has %u DMARC records on %s, so receivers ignore them all (RFC 7489 "
			  "§6.6.3)",
			  name, found, where);
	} else if (same_text(text, expected)) {
		add_check(checks, "dmarc", OP_CHECK_PASS, NULL, "DMARC is published as generated");
	} else {
		add_check(checks, "dmarc", OP_CHECK_PASS, NULL,
			  "DMARC is published (\"%s\"), with other tags than Outpost's "
			  "settings (\"%s\")",
			  text, expected);
	}
}

static void
check_exact(GPtrArray *checks, const OpDnsRecord *record, GPtrArray *published,
	    const char *expected, const char *where)
{
	g_autofree char *name = dup_bare_name(record->name);
	g_autofree char *label = g_strdup_printf("%s %s", name, record->type);

	if (contains_value(published, expected, same_text))
		add_check(checks, label, OP_CHECK_PASS, NULL, "%s %s is published", name,
			  record->type);
	else if (published->len == 0)
		add_check(checks, label, OP_CHECK_WARN,
			  "Publish the record: see outpostctl dns records.",
			  "%s %s is missing on %s (%s)", name, record->type, where,
			  record->purpose);
	else
		add_check(checks, label, OP_CHECK_WARN,
			  "Replace it with the generated value: see outpostctl dns records.",
			  "%s %s on %s is \"%s\", not \"%s\"", name, record->type, where,
			  (const char *)published->pdata[0], expected);
}

/* Compares one generated record with what one authoritative server has. */
static void
check_record(GPtrArray *checks, const OpDnsRecord *record, AuthServer *server)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) published = lookup_published(server, record->name, record->type,
							   &error);
	g_autofree char *expected = NULL;
	g_autofree char *name = dup_bare_name(record->name);
	const char *role = record->role ? record->role : "";

	if (published == NULL) {
		add_check(checks, name, OP_CHECK_WARN,
			  "Check that the name server answers queries for the zone.",
			  "%s did not answer for %s %s: %s", server->label, name, record->type,
			  error->message);
		return;
	}
	expected = strcmp(record->type, "TXT") == 0 ? dup_expected_txt(record)
						    : g_strdup(record->value);
	if (g_str_has_prefix(role, "dkim"))
		check_dkim(checks, record, published, expected, server->label);
	else if (strcmp(role, "dmarc") == 0)
		check_dmarc(checks, record, published, expected, server->label);
	else if (strcmp(role, "spf") == 0 || strcmp(role, "advice") == 0)
		return; /* check_spf() and check_addresses() look at these as receivers do */
	else
		check_exact(checks, record, published, expected, server->label);
}

/* Checks each record on every server, since a receiver may ask any of them,
 * and keeps one line per record: the first problem, or the pass. */
static void
check_records(const OpDnsCheckInput *input, GPtrArray *checks, GPtrArray *servers)
{
	for (guint i = 0; i < input->records->len; i++) {
		const OpDnsRecord *record = input->records->pdata[i];
		g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(
			(GDestroyNotify)op_check_free);
		OpCheck *last = NULL;

		for (guint j = 0; j < servers->len; j++) {
			check_record(results, record, servers->pdata[j]);
			last = results->len ? results->pdata[results->len - 1] : NULL;
			if (last != NULL && last->state != OP_CHECK_PASS)
				break;
		}
		if (last != NULL)
			g_ptr_array_add(checks, g_ptr_array_steal_index(results, results->len - 1));
	}
}

/* ---- SPF -------------------------------------------------------------------- */

/* Returns the term that allows address: "ip4:192.0.2.10" or "ip6:2001:db8::10". */
static char *
dup_address_term(GInetAddress *address)
{
	g_autofree char *text = g_inet_address_to_string(address);

	return g_strdup_printf("%s:%s",
			       g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6 ? "ip6"
											  : "ip4",
			       text);
}

/* Returns the SPF records among texts, quoted and separated by commas. */
static char *
dup_spf_texts(GPtrArray *texts)
{
	GString *found = g_string_new(NULL);

	for (guint i = 0; i < texts->len; i++) {
		if (!op_spf_record_is_spf(texts->pdata[i]))
			continue;
		g_string_append_printf(found, "%s\"%s\"", found->len ? ", " : "",
				       (const char *)texts->pdata[i]);
	}
	return g_string_free(found, FALSE);
}

/* Reads the published SPF record from an authoritative server. Returns NULL
 * after adding the check that describes the problem. */
static char *
read_spf_record(const OpDnsCheckInput *input, GPtrArray *checks, AuthServer *server)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) texts = op_resolver_lookup_txt(server->resolver, input->domain,
							     &error);
	const char *record;

	if (texts == NULL && !g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		add_check(checks, "spf", OP_CHECK_WARN,
			  "Check that the name server answers queries for the zone.",
			  "%s did not answer for the SPF record of %s: %s", server->label,
			  input->domain, error->message);
		return NULL;
	}
	g_clear_error(&error);
	record = texts ? op_spf_record_select(texts, input->domain, &error) : NULL;
	if (record == NULL && texts != NULL && !g_error_matches(error, OP_ERROR,
								OP_ERROR_NOT_FOUND)) {
		g_autofree char *found = dup_spf_texts(texts);

		add_check(checks, "spf", OP_CHECK_FAIL,
			  "Merge the v=spf1 records into one, keeping the terms of each.",
			  "%s (%s)", error->message, found);
		return NULL;
	}
	if (record == NULL) {
		add_check(checks, "spf", OP_CHECK_FAIL,
			  "Publish the SPF record of outpostctl dns records.",
			  "%s has no SPF record on %s, so receivers cannot tell that this server "
			  "may send its mail",
			  input->domain, server->label);
		return NULL;
	}
	return g_strdup(record);
}

static void
check_spf_lookups(const OpDnsCheckInput *input, GPtrArray *checks, const OpSpfLookup *lookup,
		  const char *record)
{
	g_autoptr(GError) error = NULL;
	guint count = 0;

	if (!op_spf_count_record_lookups(lookup, input->domain, record, &count, &error)) {
		add_check(checks, "spf lookups",
			  g_error_matches(error, OP_ERROR, OP_ERROR_TEMPORARY) ? OP_CHECK_WARN
									       : OP_CHECK_FAIL,
			  "Fix the SPF record: see outpostctl dns records.",
			  "the SPF record of %s cannot be evaluated: %s", input->domain,
			  error->message);
		return;
	}
	if (count > OP_SPF_MAX_DNS_LOOKUPS)
		add_check(checks, "spf lookups", OP_CHECK_FAIL,
			  "Replace include: terms of services you no longer use, or their "
			  "ip4:/ip6: ranges, until at most 10 lookups remain.",
			  "the SPF record of %s needs %u DNS lookups; receivers stop at %d and "
			  "then treat it as an error (RFC 7208 §4.6.4)",
			  input->domain, count, OP_SPF_MAX_DNS_LOOKUPS);
	else
		add_check(checks, "spf lookups", OP_CHECK_PASS, NULL,
			  "the SPF record of %s needs %u of at most %d DNS lookups", input->domain,
			  count, OP_SPF_MAX_DNS_LOOKUPS);
}

/* Evaluates SPF for one sending address as a receiver would, with the
 * postmaster address of the domain as the envelope sender. */
static void
check_spf_address(const OpDnsCheckInput *input, GPtrArray *checks, const OpSpfLookup *lookup,
		  GInetAddress *address, const char *record)
{
	g_autofree char *text = g_inet_address_to_string(address);
	g_autofree char *name = g_strdup_printf("spf %s", text);
	g_autofree char *sender = g_strdup_printf("postmaster@%s", input->domain);
	g_autofree char *term = dup_address_term(address);
	const char *needed[] = { term, NULL };
	g_autofree char *merged = op_spf_record_merge(record, needed, NULL, NULL);
	g_autofree char *fix = NULL;
	g_autoptr(GError) error = NULL;
	OpSpfResult result;

	result = op_spf_check_host(lookup, address, input->domain, sender, input->hostname, NULL,
				   &error);
	if (result == OP_SPF_RESULT_PASS) {
		add_check(checks, name, OP_CHECK_PASS, NULL, "SPF of %s allows %s", input->domain,
			  text);
		return;
	}
	if (merged != NULL)
		fix = g_strdup_printf("Publish \"%s\" (outpostctl dns publish merges it into "
				      "the current record).",
				      merged);
	else
		fix = g_strdup_printf("Correct the SPF record's syntax first, then add %s before "
				      "its final all.",
				      term);
	if (result == OP_SPF_RESULT_TEMPERROR)
		add_check(checks, name, OP_CHECK_WARN, fix,
			  "SPF of %s could not be evaluated for %s: %s", input->domain, text,
			  error ? error->message : "a DNS lookup failed");
	else
		add_check(checks, name, OP_CHECK_FAIL, fix,
			  "SPF does not allow %s (the result is %s%s%s): add %s before the "
			  "final all",
			  text, op_spf_result_to_string(result), error ? ": " : "",
			  error ? error->message : "", term);
}

/* "+all" (or a bare "all") passes every address: anyone may then send as
 * the domain, and SPF protects nothing (RFC 7208 §5.1). */
static void
check_spf_all(const OpDnsCheckInput *input, GPtrArray *checks, const char *record)
{
	g_autoptr(OpSpfRecord) parsed = op_spf_record_parse(record, NULL);

	for (guint i = 0; parsed != NULL && i < parsed->terms->len; i++) {
		const OpSpfTerm *term = parsed->terms->pdata[i];

		if (term->kind != OP_SPF_TERM_ALL)
			continue;
		if (term->qualifier == OP_SPF_QUALIFIER_PASS)
			add_check(checks, "spf all", OP_CHECK_FAIL,
				  "End the record with ~all or -all instead.",
				  "the SPF record of %s ends in \"%s\", which lets any server on "
				  "the internet send as the domain",
				  input->domain, term->text);
		return;
	}
}

static void
check_spf(const OpDnsCheckInput *input, GPtrArray *checks, GPtrArray *addresses,
	  AuthServer *server)
{
	g_autofree char *record = read_spf_record(input, checks, server);
	OpSpfLookup lookup;

	if (record == NULL)
		return;
	op_spf_lookup_init_resolver(&lookup, input->resolver);
	check_spf_all(input, checks, record);
	check_spf_lookups(input, checks, &lookup, record);
	for (guint i = 0; i < addresses->len; i++)
		check_spf_address(input, checks, &lookup, addresses->pdata[i], record);
}

/* ---- The sending addresses ------------------------------------------------ */

/* Returns the configured sending addresses, or those of the hostname, or NULL
 * after adding the check that reports the missing addresses. */
static GPtrArray *
find_sending_addresses(const OpDnsCheckInput *input, GPtrArray *checks)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *addresses;

	addresses = op_resolver_lookup_addresses(input->resolver, input->hostname, &error);
	if (addresses == NULL) {
		add_check(checks, "hostname", OP_CHECK_FAIL,
			  "Publish an A (and AAAA) record for the host name, pointing at the "
			  "server's public address.",
			  "the server's host name %s has no address: %s", input->hostname,
			  error->message);
	} else {
		add_check(checks, "hostname", OP_CHECK_PASS, NULL, "the host name %s resolves",
			  input->hostname);
	}
	if (input->sending_addresses != NULL && input->sending_addresses->len > 0) {
		g_clear_pointer(&addresses, g_ptr_array_unref);
		return g_ptr_array_ref(input->sending_addresses);
	}
	return addresses;
}

/* Whether one of names is the host name and resolves back to address. */
static gboolean
forward_confirms(const OpDnsCheckInput *input, const char *name, GInetAddress *address)
{
	g_autoptr(GPtrArray) forward = op_resolver_lookup_addresses(input->resolver, name, NULL);

	for (guint i = 0; forward != NULL && i < forward->len; i++) {
		if (g_inet_address_equal(forward->pdata[i], address))
			return TRUE;
	}
	return FALSE;
}

/* Forward-confirmed reverse DNS (RFC 8601 §3: "iprev") and whether the name
 * is the one the server greets with. */
static void
check_reverse(const OpDnsCheckInput *input, GPtrArray *checks, const OpSpfLookup *lookup,
	      GInetAddress *address)
{
	g_autofree char *text = g_inet_address_to_string(address);
	g_autofree char *name = g_strdup_printf("ptr %s", text);
	g_autofree char *fix = g_strdup_printf("Ask whoever runs %s (usually the hosting "
					       "provider) to set its PTR record to %s, and "
					       "give %s an address record for %s.",
					       text, input->hostname, input->hostname, text);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) names = lookup->lookup_ptr(lookup->user_data, address, &error);
	const char *confirmed = NULL;

	if (names == NULL || names->len == 0) {
		add_check(checks, name, OP_CHECK_FAIL, fix,
			  "%s has no reverse DNS name (PTR record): many receivers refuse mail "
			  "from such addresses",
			  text);
		return;
	}
	for (guint i = 0; i < names->len && confirmed == NULL; i++) {
		if (forward_confirms(input, names->pdata[i], address))
			confirmed = names->pdata[i];
	}
	if (confirmed == NULL)
		add_check(checks, name, OP_CHECK_FAIL, fix,
			  "the reverse DNS name of %s is %s, which does not resolve back to %s",
			  text, (const char *)names->pdata[0], text);
	else if (g_ascii_strcasecmp(confirmed, input->hostname) != 0)
		add_check(checks, name, OP_CHECK_WARN, fix,
			  "the server greets as %s, but the reverse DNS name of %s is %s: "
			  "receivers compare the two",
			  input->hostname, text, confirmed);
	else
		add_check(checks, name, OP_CHECK_PASS, NULL,
			  "%s has the reverse DNS name %s, which resolves back to it", text,
			  confirmed);
}

/* One DNSBL query (RFC 5782 §2): the address's reversed labels under the
 * zone; an A record in 127.0.0.0/8 means listed. */
static void
check_blocklist(const OpDnsCheckInput *input, GPtrArray *checks, GInetAddress *address,
		const char *zone)
{
	g_autofree char *text = g_inet_address_to_string(address);
	g_autofree char *labels = op_resolver_dup_reverse_labels(address);
	g_autofree char *query = g_strdup_printf("%s.%s", labels, zone);
	g_autofree char *name = g_strdup_printf("blocklist %s %s", zone, text);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) answers = op_resolver_lookup_addresses(input->resolver, query,
								    &error);
	g_autofree char *answer = NULL;

	if (answers == NULL && g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		add_check(checks, name, OP_CHECK_PASS, NULL, "%s is not listed on %s", text, zone);
		return;
	}
	if (answers == NULL) {
		add_check(checks, name, OP_CHECK_WARN,
			  "Check the blocklist's usage terms: many refuse queries from public "
			  "resolvers.",
			  "the blocklist %s could not be asked about %s: %s", zone, text,
			  error->message);
		return;
	}
	answer = g_inet_address_to_string(answers->pdata[0]);
	add_check(checks, name, OP_CHECK_FAIL,
		  "Find out why on the blocklist's web site (often an infected program or an "
		  "open form on the host sent spam), fix that, then ask for removal.",
		  "%s is listed on %s (answer %s): receivers using that list refuse its mail",
		  text, zone, answer);
}

static void
check_addresses(const OpDnsCheckInput *input, GPtrArray *checks, GPtrArray *addresses)
{
	OpSpfLookup lookup;

	op_spf_lookup_init_resolver(&lookup, input->resolver);
	for (guint i = 0; i < addresses->len; i++) {
		check_reverse(input, checks, &lookup, addresses->pdata[i]);
		for (guint j = 0; input->dnsbl_zones && input->dnsbl_zones[j]; j++)
			check_blocklist(input, checks, addresses->pdata[i], input->dnsbl_zones[j]);
	}
}

/* ---- The submission certificate ------------------------------------------ */

static void
check_certificate(const OpDnsCheckInput *input, GPtrArray *checks)
{
	g_autoptr(GError) error = NULL;
	gint64 days = 0;

	if (!op_tls_cert_check(input->tls_cert, input->hostname, &days, &error)) {
		add_check(checks, "certificate",
			  g_error_matches(error, OP_ERROR, OP_ERROR_PERMANENT) ? OP_CHECK_FAIL
									       : OP_CHECK_WARN,
			  "Install a certificate for the host name from a public CA (for "
			  "example Let's Encrypt) and set tls_cert and tls_key.",
			  "the submission certificate %s %s", input->tls_cert, error->message);
		return;
	}
	if (days < OP_CERT_WARN_DAYS)
		add_check(checks, "certificate", OP_CHECK_WARN,
			  "Renew the certificate, then run outpostctl reload.",
			  "the submission certificate for %s expires in %" G_GINT64_FORMAT
			  " days",
			  input->hostname, days);
	else
		add_check(checks, "certificate", OP_CHECK_PASS, NULL,
			  "the submission certificate is valid for %s for %" G_GINT64_FORMAT
			  " more days",
			  input->hostname, days);
}

GPtrArray *
op_dns_check_run(const OpDnsCheckInput *input)
{
	GPtrArray *checks = g_ptr_array_new_with_free_func((GDestroyNotify)op_check_free);
	g_autoptr(GPtrArray) servers = find_auth_servers(input, checks);
	g_autoptr(GPtrArray) addresses = find_sending_addresses(input, checks);

	if (servers != NULL)
		check_records(input, checks, servers);
	if (servers != NULL && addresses != NULL)
		check_spf(input, checks, addresses, servers->pdata[0]);
	if (addresses != NULL)
		check_addresses(input, checks, addresses);
	if (input->tls_cert != NULL)
		check_certificate(input, checks);
	return checks;
}
