/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SPF evaluator against cases written from RFC 7208 (tests/data/spf/rfc7208.json:
 * scenarios of zone data and expected results), served by an in-memory zone, plus
 * the macro examples of RFC 7208 §7.4.
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "dns/op-spf-macro.h"
#include "dns/op-spf.h"
#include "op-error.h"

/* The zone data of one scenario: lower-case name without the trailing dot to a
 * JsonArray of records. */
typedef struct {
	GHashTable *names;
} Zone;

static JsonParser *data_parser;

static char *
zone_key(const char *name)
{
	gsize length = strlen(name);

	if (length > 0 && name[length - 1] == '.')
		length--;
	return g_ascii_strdown(name, (gssize)length);
}

static void
zone_add(Zone *zone, JsonObject *names)
{
	g_autoptr(GList) members = json_object_get_members(names);

	for (GList *l = members; l != NULL; l = l->next) {
		g_autofree char *key = zone_key(l->data);
		JsonArray *records = json_object_get_array_member(names, l->data);
		GPtrArray *list = g_hash_table_lookup(zone->names, key);

		if (list == NULL) {
			list = g_ptr_array_new();
			g_hash_table_insert(zone->names, g_steal_pointer(&key), list);
		}
		for (guint i = 0; i < json_array_get_length(records); i++)
			g_ptr_array_add(list, json_array_get_element(records, i));
	}
}

/* Returns whether @key has records or is an empty non-terminal, which exists in
 * DNS (NODATA) although it has no records. */
static gboolean
zone_name_exists(Zone *zone, const char *key)
{
	GHashTableIter iter;
	gpointer name;
	g_autofree char *suffix = g_strconcat(".", key, NULL);

	if (g_hash_table_contains(zone->names, key))
		return TRUE;
	g_hash_table_iter_init(&iter, zone->names);
	while (g_hash_table_iter_next(&iter, &name, NULL)) {
		if (g_str_has_suffix(name, suffix))
			return TRUE;
	}
	return FALSE;
}

static gpointer
zone_convert(JsonNode *value, const char *type)
{
	if (strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0)
		return g_inet_address_new_from_string(json_node_get_string(value));
	if (strcmp(type, "MX") == 0)
		return g_strdup(json_array_get_string_element(json_node_get_array(value), 1));
	if (JSON_NODE_HOLDS_ARRAY(value)) {
		JsonArray *strings = json_node_get_array(value);
		GString *joined = g_string_new(NULL);

		for (guint i = 0; i < json_array_get_length(strings); i++)
			g_string_append(joined, json_array_get_string_element(strings, i));
		return g_string_free(joined, FALSE);
	}
	return g_strdup(json_node_get_string(value));
}

static GPtrArray *
zone_lookup(Zone *zone, const char *name, const char *type, GError **error)
{
	g_autofree char *key = zone_key(name);
	GPtrArray *records = g_hash_table_lookup(zone->names, key);
	gboolean address = strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0;
	GPtrArray *answer;

	for (guint i = 0; records != NULL && i < records->len; i++) {
		JsonNode *record = g_ptr_array_index(records, i);

		if (JSON_NODE_HOLDS_VALUE(record)) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "%s: timed out", name);
			return NULL;
		}
	}
	if (!zone_name_exists(zone, key)) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "%s does not exist", name);
		return NULL;
	}
	answer = g_ptr_array_new_with_free_func(address ? g_object_unref : g_free);
	for (guint i = 0; records != NULL && i < records->len; i++) {
		JsonObject *record = json_node_get_object(g_ptr_array_index(records, i));

		if (json_object_has_member(record, type))
			g_ptr_array_add(answer,
					zone_convert(json_object_get_member(record, type), type));
	}
	return answer;
}

static GPtrArray *
zone_lookup_txt(gpointer zone, const char *name, GError **error)
{
	return zone_lookup(zone, name, "TXT", error);
}

static GPtrArray *
zone_lookup_a(gpointer zone, const char *name, GError **error)
{
	return zone_lookup(zone, name, "A", error);
}

static GPtrArray *
zone_lookup_aaaa(gpointer zone, const char *name, GError **error)
{
	return zone_lookup(zone, name, "AAAA", error);
}

static GPtrArray *
zone_lookup_mx(gpointer zone, const char *name, GError **error)
{
	return zone_lookup(zone, name, "MX", error);
}

static GPtrArray *
zone_lookup_ptr(gpointer zone, GInetAddress *address, GError **error)
{
	const guint8 *bytes = g_inet_address_to_bytes(address);
	g_autoptr(GString) name = g_string_new(NULL);

	if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4) {
		g_string_printf(name, "%u.%u.%u.%u.in-addr.arpa", bytes[3], bytes[2], bytes[1],
				bytes[0]);
	} else {
		for (int i = 15; i >= 0; i--)
			g_string_append_printf(name, "%x.%x.", bytes[i] & 0x0f, bytes[i] >> 4);
		g_string_append(name, "ip6.arpa");
	}
	return zone_lookup(zone, name->str, "PTR", error);
}

static JsonObject *
data_root(void)
{
	return json_node_get_object(json_parser_get_root(data_parser));
}

static gboolean
results_accept(JsonNode *expected, OpSpfResult result)
{
	const char *name = op_spf_result_to_string(result);
	JsonArray *list;

	if (JSON_NODE_HOLDS_VALUE(expected))
		return strcmp(json_node_get_string(expected), name) == 0;
	list = json_node_get_array(expected);
	for (guint i = 0; i < json_array_get_length(list); i++) {
		if (strcmp(json_array_get_string_element(list, i), name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Picks the check_host() domain as a receiver does: the MAIL FROM domain, or the
 * HELO name for an empty MAIL FROM (RFC 7208 §2.4). */
static const char *
case_domain(const char *mailfrom, const char *helo)
{
	const char *at = strrchr(mailfrom, '@');

	if (*mailfrom == '\0')
		return helo;
	return at != NULL ? at + 1 : mailfrom;
}

static void
run_case(const OpSpfLookup *lookup, const char *scenario, JsonObject *test)
{
	const char *name = json_object_get_string_member(test, "name");
	const char *mailfrom = json_object_get_string_member(test, "mailfrom");
	const char *helo = json_object_get_string_member(test, "helo");
	const char *domain = case_domain(mailfrom, helo);
	g_autoptr(GInetAddress) ip = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *explanation = NULL;
	OpSpfResult result;

	ip = g_inet_address_new_from_string(json_object_get_string_member(test, "host"));
	g_assert_nonnull(ip);
	result = op_spf_check_host(lookup, ip, domain, *mailfrom != '\0' ? mailfrom : NULL, helo,
				   &explanation, &error);
	g_test_message("%s/%s: %s (%s)", scenario, name, op_spf_result_to_string(result),
		       error != NULL ? error->message : "no error");
	if (!results_accept(json_object_get_member(test, "result"), result))
		g_error("%s/%s: unexpected result %s", scenario, name,
			op_spf_result_to_string(result));
	if (result == OP_SPF_RESULT_TEMPERROR)
		g_assert_error(error, OP_ERROR, OP_ERROR_TEMPORARY);
	else if (result == OP_SPF_RESULT_PERMERROR)
		g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
	else
		g_assert_no_error(error);
	if (json_object_has_member(test, "explanation"))
		g_assert_cmpstr(explanation, ==,
				json_object_get_string_member_with_default(test, "explanation",
									   NULL));
	if (json_object_has_member(test, "lookups")) {
		guint count = 0;

		g_assert_true(op_spf_count_lookups(lookup, domain, &count, NULL));
		g_assert_cmpuint(count, ==, json_object_get_int_member(test, "lookups"));
	}
}

static void
test_scenario(gconstpointer data)
{
	JsonObject *scenario = (JsonObject *)data;
	const char *name = json_object_get_string_member(scenario, "name");
	JsonArray *tests = json_object_get_array_member(scenario, "tests");
	Zone zone = {.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						    (GDestroyNotify)g_ptr_array_unref)};
	OpSpfLookup lookup = {
		.lookup_txt = zone_lookup_txt,
		.lookup_a = zone_lookup_a,
		.lookup_aaaa = zone_lookup_aaaa,
		.lookup_mx = zone_lookup_mx,
		.lookup_ptr = zone_lookup_ptr,
		.user_data = &zone,
	};

	zone_add(&zone, json_object_get_object_member(scenario, "zonedata"));
	if (json_object_has_member(scenario, "zone")) {
		JsonObject *zones = json_object_get_object_member(data_root(), "zones");

		zone_add(&zone, json_object_get_object_member(
					zones, json_object_get_string_member(scenario, "zone")));
	}
	for (guint i = 0; i < json_array_get_length(tests); i++)
		run_case(&lookup, name, json_array_get_object_element(tests, i));
	g_hash_table_unref(zone.names);
}

static void
test_case_count(void)
{
	JsonArray *scenarios = json_object_get_array_member(data_root(), "scenarios");
	guint cases = 0;

	for (guint i = 0; i < json_array_get_length(scenarios); i++) {
		JsonObject *scenario = json_array_get_object_element(scenarios, i);

		cases += json_array_get_length(json_object_get_array_member(scenario, "tests"));
	}
	g_test_message("%u cases in %u scenarios", cases, json_array_get_length(scenarios));
	g_assert_cmpuint(cases, >=, 200);
}

/* The examples of RFC 7208 §7.4, for strong-bad@email.example.com. */
static const struct {
	const char *macro;
	const char *ip;
	const char *expansion;
} macro_examples[] = {
	{"%{s}", "192.0.2.3", "strong-bad@email.example.com"},
	{"%{o}", "192.0.2.3", "email.example.com"},
	{"%{d}", "192.0.2.3", "email.example.com"},
	{"%{d4}", "192.0.2.3", "email.example.com"},
	{"%{d3}", "192.0.2.3", "email.example.com"},
	{"%{d2}", "192.0.2.3", "example.com"},
	{"%{d1}", "192.0.2.3", "com"},
	{"%{dr}", "192.0.2.3", "com.example.email"},
	{"%{d2r}", "192.0.2.3", "example.email"},
	{"%{l}", "192.0.2.3", "strong-bad"},
	{"%{l-}", "192.0.2.3", "strong.bad"},
	{"%{lr}", "192.0.2.3", "strong-bad"},
	{"%{lr-}", "192.0.2.3", "bad.strong"},
	{"%{l1r-}", "192.0.2.3", "strong"},
	{"%{ir}.%{v}._spf.%{d2}", "192.0.2.3", "3.2.0.192.in-addr._spf.example.com"},
	{"%{lr-}.lp._spf.%{d2}", "192.0.2.3", "bad.strong.lp._spf.example.com"},
	{"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "192.0.2.3",
	 "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	{"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "192.0.2.3",
	 "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	{"%{d2}.trusted-domains.example.net", "192.0.2.3",
	 "example.com.trusted-domains.example.net"},
	{"%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01",
	 "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
	/* Escapes, upper-case letters and c (§7.3). */
	{"%%%_%-", "192.0.2.3", "% %20"},
	{"%{L}", "192.0.2.3", "strong-bad"},
	{"%{S}", "192.0.2.3", "strong-bad%40email.example.com"},
	{"%{c}", "2001:db8::cb01", "2001:db8::cb01"},
	{"%{i}", "2001:db8::cb01",
	 "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1"},
	{"%{r}", "192.0.2.3", "unknown"},
	{"%{h}", "192.0.2.3", "mx.example.org"},
	{"%{p}", "192.0.2.3", "unknown"},
};

static void
test_macro_examples(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(macro_examples); i++) {
		g_autoptr(GInetAddress) ip = g_inet_address_new_from_string(macro_examples[i].ip);
		OpSpfMacroContext context = {
			.sender = "strong-bad@email.example.com",
			.local_part = "strong-bad",
			.sender_domain = "email.example.com",
			.domain = "email.example.com",
			.ip = ip,
			.helo = "mx.example.org",
		};
		g_autoptr(GError) error = NULL;
		g_autofree char *expansion = op_spf_macro_expand(macro_examples[i].macro, &context,
								 TRUE, &error);

		g_test_message("%s for %s", macro_examples[i].macro, macro_examples[i].ip);
		g_assert_no_error(error);
		g_assert_cmpstr(expansion, ==, macro_examples[i].expansion);
	}
}

static void
test_macro_timestamp(void)
{
	g_autoptr(GInetAddress) ip = g_inet_address_new_from_string("192.0.2.3");
	OpSpfMacroContext context = {.domain = "example.com", .ip = ip};
	gint64 before = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *expansion = op_spf_macro_expand("%{t}", &context, TRUE, NULL);
	gint64 value = g_ascii_strtoll(expansion, NULL, 10);

	g_assert_cmpint(value, >=, before);
	g_assert_cmpint(value, <=, before + 5);
}

static void
test_result_names(void)
{
	for (int i = OP_SPF_RESULT_NONE; i <= OP_SPF_RESULT_PERMERROR; i++) {
		OpSpfResult parsed = OP_SPF_RESULT_NONE;

		g_assert_true(op_spf_result_from_string(op_spf_result_to_string(i), &parsed));
		g_assert_cmpint(parsed, ==, i);
	}
	g_assert_cmpstr(op_spf_result_to_string(OP_SPF_RESULT_SOFTFAIL), ==, "softfail");
	g_assert_false(op_spf_result_from_string("hardfail", &(OpSpfResult){0}));
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	JsonArray *scenarios;

	g_test_init(&argc, &argv, NULL);

	path = g_test_build_filename(G_TEST_DIST, "..", "data", "spf", "rfc7208.json", NULL);
	data_parser = json_parser_new();
	if (!json_parser_load_from_file(data_parser, path, &error))
		g_error("cannot load %s: %s", path, error->message);
	scenarios = json_object_get_array_member(data_root(), "scenarios");
	for (guint i = 0; i < json_array_get_length(scenarios); i++) {
		JsonObject *scenario = json_array_get_object_element(scenarios, i);
		g_autofree char *test_path = g_strdup_printf(
			"/dns/spf/rfc7208/%s", json_object_get_string_member(scenario, "name"));

		g_test_add_data_func(test_path, scenario, test_scenario);
	}
	g_test_add_func("/dns/spf/rfc7208-case-count", test_case_count);
	g_test_add_func("/dns/spf/macro-examples", test_macro_examples);
	g_test_add_func("/dns/spf/macro-timestamp", test_macro_timestamp);
	g_test_add_func("/dns/spf/result-names", test_result_names);

	return g_test_run();
}
