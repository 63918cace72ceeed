/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parts of publishing that need no server: the PowerDNS API URL, the
 * PATCH body with the apex TXT records that are kept, the mapping of HTTP
 * statuses to errors, target checks, SPF detection and the zone check.
 */
#include "dns/op-publish-pdns.h"
#include "dns/op-publisher.h"
#include "dns/op-records.h"
#include "op-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define API_KEY "s3cr3t-API-key"

/* ---- Helpers ------------------------------------------------------------ */

static OpDnsRecord *
make_record(const char *name, const char *type, const char *value)
{
	OpDnsRecord *record = g_new0(OpDnsRecord, 1);

	record->name = g_strdup(name);
	record->type = g_strdup(type);
	record->value = g_strdup(value);
	record->purpose = g_strdup("test");
	return record;
}

/* The records of a domain as op_records_for_domain() makes them, shortened. */
static GPtrArray *
make_records(void)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)op_dns_record_free);

	g_ptr_array_add(records, make_record("sel._domainkey.example.org.", "TXT",
					     "\"v=DKIM1; k=rsa; p=AAAA\" \"BBBB\""));
	g_ptr_array_add(records, make_record("example.org.", "TXT",
					     "\"v=spf1 ip4:192.0.2.10 ~all\""));
	g_ptr_array_add(records, make_record("_dmarc.example.org.", "TXT",
					     "\"v=DMARC1; p=none\""));
	g_ptr_array_add(records, make_record("_submission._tcp.example.org.", "SRV",
					     "0 1 587 mail.example.org."));
	g_ptr_array_add(records, make_record("_submissions._tcp.example.org.", "SRV",
					     "0 1 465 mail.example.org."));
	g_ptr_array_add(records, make_record("_submission._tcp.example.org.", "SRV",
					     "10 1 587 backup.example.org."));
	return records;
}

static JsonObject *
parse_object(JsonParser *parser, const char *text)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
	return json_node_get_object(json_parser_get_root(parser));
}

/* Returns the rrset of the PATCH body with name and type, or NULL. */
static JsonObject *
find_rrset(JsonObject *patch, const char *name, const char *type)
{
	JsonArray *rrsets = json_object_get_array_member(patch, "rrsets");

	for (guint i = 0; i < json_array_get_length(rrsets); i++) {
		JsonObject *rrset = json_array_get_object_element(rrsets, i);

		if (strcmp(json_object_get_string_member(rrset, "name"), name) == 0 &&
		    strcmp(json_object_get_string_member(rrset, "type"), type) == 0)
			return rrset;
	}
	return NULL;
}

static const char *
record_content(JsonObject *rrset, guint index)
{
	JsonArray *records = json_object_get_array_member(rrset, "records");

	return json_object_get_string_member(json_array_get_object_element(records, index),
					     "content");
}

static gboolean
record_disabled(JsonObject *rrset, guint index)
{
	JsonArray *records = json_object_get_array_member(rrset, "records");

	return json_object_get_boolean_member(json_array_get_object_element(records, index),
					      "disabled");
}

static guint
record_count(JsonObject *rrset)
{
	return json_array_get_length(json_object_get_array_member(rrset, "records"));
}

static char *
build_patch(GPtrArray *records, const char *zone_json, GError **error)
{
	g_autoptr(GBytes) bytes = zone_json ? g_bytes_new_static(zone_json, strlen(zone_json))
					    : NULL;

	return op_pdns_build_patch("example.org.", records, bytes, error);
}

/* ---- The PATCH body ----------------------------------------------------- */

static void
test_patch_groups_record_sets(void)
{
	g_autoptr(GPtrArray) records = make_records();
	g_autoptr(GError) error = NULL;
	g_autofree char *patch = build_patch(records, NULL, &error);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root;
	JsonObject *srv;
	JsonObject *dkim;

	g_assert_no_error(error);
	root = parse_object(parser, patch);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(root, "rrsets")), ==,
			 5);
	srv = find_rrset(root, "_submission._tcp.example.org.", "SRV");
	g_assert_nonnull(srv);
	g_assert_cmpstr(json_object_get_string_member(srv, "changetype"), ==, "REPLACE");
	g_assert_cmpint(json_object_get_int_member(srv, "ttl"), ==, 3600);
	g_assert_cmpuint(record_count(srv), ==, 2);
	g_assert_cmpstr(record_content(srv, 0), ==, "0 1 587 mail.example.org.");
	g_assert_cmpstr(record_content(srv, 1), ==, "10 1 587 backup.example.org.");
	g_assert_false(record_disabled(srv, 0));
	dkim = find_rrset(root, "sel._domainkey.example.org.", "TXT");
	g_assert_nonnull(dkim);
	g_assert_cmpstr(record_content(dkim, 0), ==, "\"v=DKIM1; k=rsa; p=AAAA\" \"BBBB\"");
	g_assert_nonnull(find_rrset(root, "example.org.", "TXT"));
	g_assert_nonnull(find_rrset(root, "_dmarc.example.org.", "TXT"));
	g_assert_nonnull(find_rrset(root, "_submissions._tcp.example.org.", "SRV"));
}

/* A response to GET /zones/example.org. with apex TXT records of others, an old
 * SPF record split in two strings, a disabled record, TXT records of other
 * names and members of the wrong type that must be skipped, not trusted. */
static const char zone_answer[] =
	"{\"name\": \"example.org.\", \"rrsets\": ["
	" {\"name\": \"example.org.\", \"type\": \"TXT\", \"ttl\": 300, \"records\": ["
	"  {\"content\": \"\\\"google-site-verification=abc\\\"\", \"disabled\": false},"
	"  {\"content\": \"\\\"v=spf1 \\\" \\\"include:old.example -all\\\"\","
	"   \"disabled\": false},"
	"  {\"content\": \"\\\"paused\\\"\", \"disabled\": true},"
	"  {\"content\": \"\\\"v=spf1 ip4:192.0.2.10 ~all\\\"\", \"disabled\": false},"
	"  {\"content\": \"\\\"V=SPF1 -all\\\"\"},"
	"  {\"content\": 17}, [\"not an object\"], {\"disabled\": true}]},"
	" {\"name\": \"EXAMPLE.ORG\", \"type\": \"TXT\", \"records\": ["
	"  {\"content\": \"\\\"v=spf1x keep-me\\\"\", \"disabled\": false}]},"
	" {\"name\": \"example.org.\", \"type\": \"MX\", \"records\": ["
	"  {\"content\": \"10 mx.example.org.\", \"disabled\": false}]},"
	" {\"name\": \"_dmarc.example.org.\", \"type\": \"TXT\", \"records\": ["
	"  {\"content\": \"\\\"v=DMARC1; p=reject\\\"\", \"disabled\": false}]},"
	" {\"name\": 5, \"type\": \"TXT\"}, \"junk\"]}";

static void
test_patch_keeps_other_apex_txt(void)
{
	g_autoptr(GPtrArray) records = make_records();
	g_autoptr(GError) error = NULL;
	g_autofree char *patch = build_patch(records, zone_answer, &error);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *root;
	JsonObject *apex;
	JsonObject *dmarc;

	g_assert_no_error(error);
	root = parse_object(parser, patch);
	apex = find_rrset(root, "example.org.", "TXT");
	g_assert_nonnull(apex);
	/* Outpost's SPF record comes first, then the kept ones in the zone's order.
	 * The old SPF records go, and Outpost's own record is not doubled. */
	g_assert_cmpuint(record_count(apex), ==, 4);
	g_assert_cmpstr(record_content(apex, 0), ==, "\"v=spf1 ip4:192.0.2.10 ~all\"");
	g_assert_cmpstr(record_content(apex, 1), ==, "\"google-site-verification=abc\"");
	g_assert_false(record_disabled(apex, 1));
	g_assert_cmpstr(record_content(apex, 2), ==, "\"paused\"");
	g_assert_true(record_disabled(apex, 2));
	/* "v=spf1x" is no SPF record (RFC 7208 §4.5). Names match in any case. */
	g_assert_cmpstr(record_content(apex, 3), ==, "\"v=spf1x keep-me\"");
	/* Outpost owns the DMARC record set whole. */
	dmarc = find_rrset(root, "_dmarc.example.org.", "TXT");
	g_assert_cmpuint(record_count(dmarc), ==, 1);
	g_assert_cmpstr(record_content(dmarc, 0), ==, "\"v=DMARC1; p=none\"");
	g_assert_null(find_rrset(root, "example.org.", "MX"));
}

static void
test_patch_rejects_bad_zone_answer(void)
{
	static const char *const answers[] = {
		"", "not json", "[]", "{\"rrsets\": 5}", "{\"name\": \"example.org.\"}",
	};

	for (guint i = 0; i < G_N_ELEMENTS(answers); i++) {
		g_autoptr(GPtrArray) records = make_records();
		g_autoptr(GError) error = NULL;
		g_autofree char *patch = build_patch(records, answers[i], &error);

		g_test_message("answer %u: \"%s\"", i, answers[i]);
		g_assert_null(patch);
		g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	}
}

/* ---- Errors ------------------------------------------------------------- */

static const struct {
	guint status;
	const char *body;
	int code;
	const char *message; /* a part of the message */
} status_cases[] = {
	{401, "Unauthorized", OP_ERROR_ACCESS_DENIED, "the PowerDNS server refused the API key"},
	{403, "", OP_ERROR_ACCESS_DENIED, "the PowerDNS server refused the API key"},
	{404, "Not Found", OP_ERROR_NOT_FOUND, "the PowerDNS server localhost has no zone "
					       "example.org: create the zone"},
	{422, "{\"error\": \"Could not find domain 'example.org.'\"}", OP_ERROR_NOT_FOUND,
	 "has no zone example.org"},
	{422, "{\"error\": \"RRset x.example.org. IN TXT: Name is out of zone\"}",
	 OP_ERROR_PERMANENT, "rejected the change to the zone example.org (HTTP 422) (RRset "
			     "x.example.org. IN TXT: Name is out of zone)"},
	{400, "{\"error\": \"bad\\nline\"}", OP_ERROR_PERMANENT, "(HTTP 400) (bad line)"},
	{500, "{\"error\": \"backend down\"}", OP_ERROR_TEMPORARY,
	 "failed to change the zone example.org (HTTP 500) (backend down): try again later"},
	{503, "", OP_ERROR_TEMPORARY, "(HTTP 503): try again later"},
	{301, "", OP_ERROR_PERMANENT, "redirect (HTTP 301), which Outpost does not follow"},
	{418, "{\"error\": \"key " API_KEY " is wrong\"}", OP_ERROR_PERMANENT,
	 "rejected the change to the zone example.org (HTTP 418)"},
};

static void
test_status_errors(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(status_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) body = g_bytes_new_static(status_cases[i].body,
							    strlen(status_cases[i].body));

		g_test_message("case %u: HTTP %u", i, status_cases[i].status);
		op_pdns_set_status_error(status_cases[i].status, body, "example.org.", "localhost",
					 API_KEY, &error);
		g_assert_error(error, OP_ERROR, status_cases[i].code);
		g_assert_nonnull(strstr(error->message, status_cases[i].message));
		/* The key never appears, even when the server repeats it. */
		g_assert_null(strstr(error->message, API_KEY));
	}
}

static void
test_status_error_text_is_cut(void)
{
	g_autofree char *long_text = g_strnfill(5000, 'x');
	g_autofree char *json = g_strdup_printf("{\"error\": \"%s\"}", long_text);
	g_autoptr(GBytes) body = g_bytes_new(json, strlen(json));
	g_autoptr(GError) error = NULL;

	op_pdns_set_status_error(422, body, "example.org.", "localhost", API_KEY, &error);
	g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
	g_assert_cmpuint(strlen(error->message), <, 400);
	g_assert_true(g_str_has_suffix(error->message, "...)"));
}

/* ---- URLs and targets --------------------------------------------------- */

static const struct {
	const char *api_url;
	const char *zone_url; /* NULL when the URL is rejected */
} url_cases[] = {
	{"http://127.0.0.1:8081", "http://127.0.0.1:8081/api/v1/servers/localhost/zones/"
				  "example.org."},
	{"http://127.0.0.1:8081/", "http://127.0.0.1:8081/api/v1/servers/localhost/zones/"
				   "example.org."},
	{"http://127.0.0.1:8081/api/v1", "http://127.0.0.1:8081/api/v1/servers/localhost/zones/"
					 "example.org."},
	{"https://dns.example.net/pdns/", "https://dns.example.net/pdns/api/v1/servers/localhost/"
					  "zones/example.org."},
	{"HTTPS://[2001:db8::53]:8081", "HTTPS://[2001:db8::53]:8081/api/v1/servers/localhost/"
					"zones/example.org."},
	/* Plain http:// only to a loopback host, because the API key would
	 * otherwise cross the network in clear text. */
	{"http://127.0.0.53:8081", "http://127.0.0.53:8081/api/v1/servers/localhost/zones/"
				   "example.org."},
	{"http://[::1]:8081", "http://[::1]:8081/api/v1/servers/localhost/zones/example.org."},
	{"http://LocalHost:8081", "http://LocalHost:8081/api/v1/servers/localhost/zones/"
				  "example.org."},
	{"http://dns.example.net:8081", NULL},
	{"http://192.0.2.53:8081", NULL},
	{"http://[2001:db8::53]:8081", NULL},
	{"http://128.0.0.1:8081", NULL},
	{"http://localhost.example.net:8081", NULL},
	{"http://127.0.0.1.example.net:8081", NULL},
	{"ftp://127.0.0.1:8081", NULL},
	{"file:///etc/passwd", NULL},
	{"127.0.0.1:8081", NULL},
	{"http://", NULL},
	{"http://user:secret@127.0.0.1:8081", NULL},
	{"http://127.0.0.1:8081/?api-key=x", NULL},
	{"http://127.0.0.1:8081/#x", NULL},
	{"http://127.0.0.1:8081/a b", NULL},
	{"http://127.0.0.1:8081/\r\nX-Injected: 1", NULL},
	{"", NULL},
};

static void
test_zone_url(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(url_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *printable = g_strescape(url_cases[i].api_url, NULL);
		g_autofree char *url = op_pdns_dup_zone_url(url_cases[i].api_url, "localhost",
							    "example.org.", &error);

		g_test_message("case %u: \"%s\"", i, printable);
		g_assert_cmpstr(url, ==, url_cases[i].zone_url);
		if (url_cases[i].zone_url == NULL) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			/* A password in the URL is never repeated. */
			g_assert_null(strstr(error->message, "secret"));
		} else {
			g_assert_no_error(error);
		}
	}
}

static const struct {
	OpPublishTarget target;
	gboolean valid;
} target_cases[] = {
	{{"powerdns", "http://127.0.0.1:8081", "localhost", "", API_KEY, ""}, TRUE},
	{{"powerdns", "https://dns.example.net", "pdns-1.example", NULL, API_KEY, ""}, TRUE},
	{{"powerdns", "http://127.0.0.1:8081", "", "", API_KEY, ""}, FALSE},
	{{"powerdns", "http://127.0.0.1:8081", "a/b", "", API_KEY, ""}, FALSE},
	{{"powerdns", "http://127.0.0.1:8081", "localhost", "hmac-sha256", API_KEY, ""}, FALSE},
	{{"powerdns", "http://127.0.0.1:8081", "localhost", "", "", ""}, FALSE},
	{{"powerdns", "http://127.0.0.1:8081", "localhost", "", "key with space", ""}, FALSE},
	{{"powerdns", "http://127.0.0.1:8081", "localhost", "", "key\r\nX-A: b", ""}, FALSE},
	{{"powerdns", "ftp://127.0.0.1", "localhost", "", API_KEY, ""}, FALSE},
	{{"dns-update", "192.0.2.53:5353", "outpost-key", "hmac-sha256", "c2VjcmV0", ""}, TRUE},
	{{"dns-update", "ns.example.org", "outpost-key", "hmac-sha256", "c2VjcmV0", ""}, FALSE},
	{{"dns-update", "192.0.2.53", "outpost-key", "hmac-md5", "c2VjcmV0", ""}, FALSE},
	{{"dns-update", "192.0.2.53", "outpost-key", "hmac-sha256", "not*base64", ""}, FALSE},
	{{"nsupdate", "192.0.2.53", "outpost-key", "hmac-sha256", "c2VjcmV0", ""}, FALSE},
	{{NULL, "192.0.2.53", "outpost-key", "hmac-sha256", "c2VjcmV0", ""}, FALSE},
};

static void
test_check_target(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(target_cases); i++) {
		g_autoptr(GError) error = NULL;
		const char *secret = target_cases[i].target.secret;
		gboolean valid = op_publisher_check_target(&target_cases[i].target, &error);

		g_test_message("case %u: %s %s", i, target_cases[i].target.kind,
			       target_cases[i].target.server);
		g_assert_cmpint(valid, ==, target_cases[i].valid);
		if (valid) {
			g_assert_no_error(error);
			continue;
		}
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		if (secret != NULL && *secret != '\0')
			g_assert_null(strstr(error->message, secret));
	}
}

/* A record outside the zone is rejected before any server is contacted, so
 * the error is the zone check's and not a failed connection to port 9. */
static void
test_publish_refuses_record_outside_zone(void)
{
	OpPublishTarget target = {"powerdns", "http://127.0.0.1:9", "localhost", "", API_KEY, ""};
	g_autoptr(GPtrArray) records = make_records();
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(records, make_record("example.org.evil.example.", "TXT", "\"x\""));
	g_assert_false(op_publisher_publish(&target, "example.org", records, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
	g_assert_nonnull(strstr(error->message, "the record example.org.evil.example. is not "
						"inside the zone example.org."));
}

static void
test_publish_unreachable_is_temporary(void)
{
	OpPublishTarget target = {"powerdns", "http://127.0.0.1:9", "localhost", "", API_KEY, ""};
	g_autoptr(GPtrArray) records = make_records();
	g_autoptr(GError) error = NULL;

	g_assert_false(op_publisher_publish(&target, "example.org.", records, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_TEMPORARY);
	g_assert_nonnull(strstr(error->message, "the PowerDNS API on 127.0.0.1 is unreachable"));
	g_assert_null(strstr(error->message, API_KEY));
}

/* ---- TXT values --------------------------------------------------------- */

static const struct {
	const char *value;
	gboolean spf;
} spf_cases[] = {
	{"\"v=spf1 -all\"", TRUE},
	{"\"v=spf1\"", TRUE},
	{"\"V=SPF1 a ~all\"", TRUE},
	{"\"v=spf1 \" \"include:a.example -all\"", TRUE},
	{"\"v=spf\" \"1 -all\"", TRUE},
	{"v=spf1", TRUE},
	{"\"v\\061spf1 -all\"", TRUE},
	{"\"v=spf10 -all\"", FALSE},
	{"\"v=spf1x\"", FALSE},
	{"\" v=spf1 -all\"", FALSE},
	{"\"v=DKIM1; p=AAAA\"", FALSE},
	{"\"v=spf1 -all", FALSE},
	{"\"v=spf1 \\", FALSE},
	{"\"v=spf1 \\999\"", FALSE},
	{"", FALSE},
};

static void
test_txt_is_spf(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(spf_cases); i++) {
		g_test_message("case %u: %s", i, spf_cases[i].value);
		g_assert_cmpint(op_publish_txt_is_spf(spf_cases[i].value), ==, spf_cases[i].spf);
	}
}

static void
test_txt_text(void)
{
	g_autofree char *joined = op_publish_dup_txt_text("\"a b\" \"c\\\"d\" e \"\\\\\"");

	g_assert_cmpstr(joined, ==, "a bc\"de\\");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/publish/pdns/patch/groups-record-sets", test_patch_groups_record_sets);
	g_test_add_func("/publish/pdns/patch/keeps-other-apex-txt",
			test_patch_keeps_other_apex_txt);
	g_test_add_func("/publish/pdns/patch/bad-zone-answer", test_patch_rejects_bad_zone_answer);
	g_test_add_func("/publish/pdns/errors/status", test_status_errors);
	g_test_add_func("/publish/pdns/errors/long-text", test_status_error_text_is_cut);
	g_test_add_func("/publish/pdns/zone-url", test_zone_url);
	g_test_add_func("/publish/target/check", test_check_target);
	g_test_add_func("/publish/zone/record-outside", test_publish_refuses_record_outside_zone);
	g_test_add_func("/publish/pdns/unreachable", test_publish_unreachable_is_temporary);
	g_test_add_func("/publish/txt/is-spf", test_txt_is_spf);
	g_test_add_func("/publish/txt/text", test_txt_text);
	return g_test_run();
}
