/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Publishing through the PowerDNS authoritative server's HTTP API with a
 * libsoup client: a GET of the zone to learn the TXT records Outpost must keep,
 * then one PATCH that replaces Outpost's record sets. PowerDNS applies a PATCH
 * in one backend transaction (patchZone in its ws-auth.cc). The calls block,
 * so they run in a worker thread.
 */
#define G_LOG_DOMAIN "outpost-dns"

#include "dns/op-publish-pdns.h"

#include "dns/op-records.h"
#include "op-error.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

/* Seconds libsoup waits for each socket operation, connecting included
 * (SoupSession:timeout in libsoup 3). */
#define OP_PDNS_TIMEOUT 15
#define OP_PDNS_MAX_URL 1024
#define OP_PDNS_MAX_KEY 1024
#define OP_PDNS_MAX_SERVER_ID 64
/* Characters of the API's error text quoted in an error message. */
#define OP_PDNS_MAX_QUOTE 200

/* ---- Checks ------------------------------------------------------------- */

static gboolean
is_visible_ascii(const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f)
			return FALSE;
	}
	return TRUE;
}

/* Returns TRUE when host, as GUri returns it (an IPv6 literal without
 * brackets), is "localhost" or a loopback address (127.0.0.0/8 or ::1). */
static gboolean
is_loopback_host(const char *host)
{
	g_autoptr(GInetAddress) address = NULL;

	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	address = g_inet_address_new_from_string(host);
	return address != NULL && g_inet_address_get_is_loopback(address);
}

/* A base URL of the API. The key goes in a header, so a user name or password
 * in the URL is rejected rather than sent, and neither is ever quoted. Plain
 * http:// would send the key in clear text, so it is accepted only when the
 * API is on the same host. */
static GUri *
parse_api_url(const char *api_url, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	const char *scheme;

	if (api_url == NULL || *api_url == '\0' || strlen(api_url) > OP_PDNS_MAX_URL ||
	    !is_visible_ascii(api_url))
		goto invalid;
	uri = g_uri_parse(api_url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		goto invalid;
	scheme = g_uri_get_scheme(uri);
	if ((g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) ||
	    g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0' ||
	    g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL)
		goto invalid;
	if (g_uri_get_userinfo(uri) != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the PowerDNS API URL must not contain a user name or password: "
			    "give the API key on its own");
		return NULL;
	}
	if (g_ascii_strcasecmp(scheme, "http") == 0 && !is_loopback_host(g_uri_get_host(uri))) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the PowerDNS API URL must start with https:// because %s is not a "
			    "loopback address and http:// would send the API key in clear text",
			    g_uri_get_host(uri));
		return NULL;
	}
	return g_steal_pointer(&uri);

invalid:
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "the PowerDNS API URL must be an http:// or https:// URL with a host and "
		    "no query, such as http://127.0.0.1:8081");
	return NULL;
}

char *
op_pdns_dup_zone_url(const char *api_url, const char *server_id, const char *zone,
		     GError **error)
{
	g_autoptr(GUri) uri = parse_api_url(api_url, error);
	g_autofree char *escaped_id = NULL;
	g_autofree char *escaped_zone = NULL;
	g_autofree char *base = NULL;
	gsize length;

	if (uri == NULL)
		return NULL;
	base = g_strdup(api_url);
	length = strlen(base);
	while (length > 0 && base[length - 1] == '/')
		base[--length] = '\0';
	/* Admins often copy the URL with the API's version path. */
	if (g_str_has_suffix(base, "/api/v1"))
		base[length - strlen("/api/v1")] = '\0';
	escaped_id = g_uri_escape_string(server_id, NULL, FALSE);
	escaped_zone = g_uri_escape_string(zone, NULL, FALSE);
	return g_strdup_printf("%s/api/v1/servers/%s/zones/%s", base, escaped_id, escaped_zone);
}

static gboolean
check_server_id(const char *server_id, GError **error)
{
	gsize length = server_id ? strlen(server_id) : 0;

	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isalnum(server_id[i]) && strchr("._-", server_id[i]) == NULL)
			length = 0;
	}
	if (length == 0 || length > OP_PDNS_MAX_SERVER_ID) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the PowerDNS server id must be 1 to %d letters, digits, dots, hyphens "
			    "or underscores, such as localhost", OP_PDNS_MAX_SERVER_ID);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_target(const OpPublishTarget *target, GError **error)
{
	g_autoptr(GUri) uri = parse_api_url(target->server, error);

	if (uri == NULL || !check_server_id(target->key_name, error))
		return FALSE;
	if (target->key_algorithm != NULL && *target->key_algorithm != '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "a PowerDNS target has no TSIG algorithm: leave it out");
		return FALSE;
	}
	/* The key goes into a header line, so only visible ASCII is safe there. */
	if (target->secret == NULL || *target->secret == '\0' ||
	    strlen(target->secret) > OP_PDNS_MAX_KEY || !is_visible_ascii(target->secret)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the PowerDNS API key must be 1 to %d visible ASCII characters: copy "
			    "it from api-key in pdns.conf", OP_PDNS_MAX_KEY);
		return FALSE;
	}
	return TRUE;
}

/* ---- The PATCH body ----------------------------------------------------- */

/* The API's response comes from the network, so each member's type is checked
 * here: json-glib's typed getters emit criticals on a wrong type. */
static JsonNode *
get_member(JsonObject *object, const char *name, JsonNodeType node_type, GType value_type)
{
	JsonNode *node = object ? json_object_get_member(object, name) : NULL;

	if (node == NULL || JSON_NODE_TYPE(node) != node_type)
		return NULL;
	if (node_type == JSON_NODE_VALUE && json_node_get_value_type(node) != value_type)
		return NULL;
	return node;
}

static const char *
get_string(JsonObject *object, const char *name)
{
	JsonNode *node = get_member(object, name, JSON_NODE_VALUE, G_TYPE_STRING);

	return node ? json_node_get_string(node) : NULL;
}

static JsonArray *
get_array(JsonObject *object, const char *name)
{
	JsonNode *node = get_member(object, name, JSON_NODE_ARRAY, G_TYPE_INVALID);

	return node ? json_node_get_array(node) : NULL;
}

static JsonObject *
get_object_element(JsonArray *array, guint index)
{
	JsonNode *node = json_array_get_element(array, index);

	return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* The records of one record set, in the order they first appear. */
typedef struct {
	const char *name;
	const char *type;
	GPtrArray *contents; /* const char *, borrowed from the records */
	GPtrArray *kept;     /* JsonNode *, records of the zone that stay */
} RecordSet;

static void
record_set_free(RecordSet *set)
{
	g_ptr_array_unref(set->contents);
	g_ptr_array_unref(set->kept);
	g_free(set);
}

static GPtrArray *
group_records(GPtrArray *records)
{
	g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *sets = g_ptr_array_new_with_free_func((GDestroyNotify)record_set_free);

	for (guint i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);
		g_autofree char *key = g_strdup_printf("%s/%s", record->name, record->type);
		char *folded = g_ascii_strdown(key, -1);
		RecordSet *set = g_hash_table_lookup(by_key, folded);

		if (set == NULL) {
			set = g_new0(RecordSet, 1);
			set->name = record->name;
			set->type = record->type;
			set->contents = g_ptr_array_new();
			set->kept = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
			g_ptr_array_add(sets, set);
			g_hash_table_insert(by_key, folded, set);
		} else {
			g_free(folded);
		}
		g_ptr_array_add(set->contents, record->value);
	}
	return sets;
}

static gboolean
set_has_spf(const RecordSet *set)
{
	if (g_ascii_strcasecmp(set->type, "TXT") != 0)
		return FALSE;
	for (guint i = 0; i < set->contents->len; i++) {
		if (op_publish_txt_is_spf(g_ptr_array_index(set->contents, i)))
			return TRUE;
	}
	return FALSE;
}

static gboolean
names_equal(const char *a, const char *b)
{
	gsize a_length = strlen(a) - g_str_has_suffix(a, ".");
	gsize b_length = strlen(b) - g_str_has_suffix(b, ".");

	return a_length == b_length && g_ascii_strncasecmp(a, b, a_length) == 0;
}

/* Adds to set the zone's TXT records of its name that are not SPF records
 * and not among Outpost's own, as {"content", "disabled"} objects. */
static void
keep_other_txt(RecordSet *set, JsonObject *rrset)
{
	JsonArray *found = get_array(rrset, "records");

	for (guint i = 0; found != NULL && i < json_array_get_length(found); i++) {
		JsonObject *record = get_object_element(found, i);
		const char *content = get_string(record, "content");
		JsonNode *disabled = get_member(record, "disabled", JSON_NODE_VALUE,
						G_TYPE_BOOLEAN);
		gboolean duplicate = FALSE;
		g_autoptr(JsonBuilder) builder = json_builder_new();

		if (content == NULL || op_publish_txt_is_spf(content))
			continue;
		for (guint j = 0; j < set->contents->len; j++)
			duplicate |= strcmp(g_ptr_array_index(set->contents, j), content) == 0;
		if (duplicate)
			continue;
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "content");
		json_builder_add_string_value(builder, content);
		json_builder_set_member_name(builder, "disabled");
		json_builder_add_boolean_value(builder,
					       disabled != NULL && json_node_get_boolean(disabled));
		json_builder_end_object(builder);
		g_ptr_array_add(set->kept, json_builder_get_root(builder));
	}
}

/* Reads the zone's record sets from the GET response and keeps, for each set
 * containing Outpost's SPF record, the other TXT records of that name. */
static gboolean
find_kept_records(GPtrArray *sets, GBytes *zone_json, const char *zone, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	gsize length = 0;
	const char *data = g_bytes_get_data(zone_json, &length);
	JsonNode *root;
	JsonArray *rrsets = NULL;

	if (json_parser_load_from_data(parser, data, (gssize)length, NULL)) {
		/* An empty response parses as no root at all. */
		root = json_parser_get_root(parser);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT(root))
			rrsets = get_array(json_node_get_object(root), "rrsets");
	}
	if (rrsets == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the response of the PowerDNS API for the zone %s has no list of "
			    "record sets: check that the URL is the PowerDNS API", zone);
		return FALSE;
	}
	for (guint i = 0; i < sets->len; i++) {
		RecordSet *set = g_ptr_array_index(sets, i);

		if (!set_has_spf(set))
			continue;
		for (guint j = 0; j < json_array_get_length(rrsets); j++) {
			JsonObject *rrset = get_object_element(rrsets, j);
			const char *name = get_string(rrset, "name");
			const char *type = get_string(rrset, "type");

			if (name != NULL && type != NULL && names_equal(name, set->name) &&
			    g_ascii_strcasecmp(type, "TXT") == 0)
				keep_other_txt(set, rrset);
		}
	}
	return TRUE;
}

static void
add_record_set(JsonBuilder *builder, const RecordSet *set)
{
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "name");
	json_builder_add_string_value(builder, set->name);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, set->type);
	json_builder_set_member_name(builder, "ttl");
	json_builder_add_int_value(builder, OP_PUBLISH_TTL);
	json_builder_set_member_name(builder, "changetype");
	json_builder_add_string_value(builder, "REPLACE");
	json_builder_set_member_name(builder, "records");
	json_builder_begin_array(builder);
	for (guint i = 0; i < set->contents->len; i++) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "content");
		json_builder_add_string_value(builder, g_ptr_array_index(set->contents, i));
		json_builder_set_member_name(builder, "disabled");
		json_builder_add_boolean_value(builder, FALSE);
		json_builder_end_object(builder);
	}
	for (guint i = 0; i < set->kept->len; i++)
		json_builder_add_value(builder, json_node_copy(g_ptr_array_index(set->kept, i)));
	json_builder_end_array(builder);
	json_builder_end_object(builder);
}

char *
op_pdns_build_patch(const char *zone, GPtrArray *records, GBytes *zone_json, GError **error)
{
	g_autoptr(GPtrArray) sets = group_records(records);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	if (zone_json != NULL && !find_kept_records(sets, zone_json, zone, error))
		return NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "rrsets");
	json_builder_begin_array(builder);
	for (guint i = 0; i < sets->len; i++)
		add_record_set(builder, g_ptr_array_index(sets, i));
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

/* ---- Errors ------------------------------------------------------------- */

/* Returns the API's error text ({"error": "..."} or a plain text body) on one
 * line and cut short, or NULL when there is none or it contains the key. */
static char *
dup_api_error_text(GBytes *body, const char *api_key)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	gsize length = 0;
	const char *data = body ? g_bytes_get_data(body, &length) : NULL;
	g_autofree char *text = NULL;
	JsonNode *root;

	if (length == 0)
		return NULL;
	if (json_parser_load_from_data(parser, data, (gssize)length, NULL)) {
		root = json_parser_get_root(parser);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT(root))
			text = g_strdup(get_string(json_node_get_object(root), "error"));
	} else {
		text = g_strndup(data, MIN(length, OP_PDNS_MAX_QUOTE * 4));
	}
	if (text == NULL || *text == '\0' || (api_key && *api_key && strstr(text, api_key)))
		return NULL;
	for (char *p = text; *p != '\0'; p++) {
		if ((guchar)*p < ' ' || *p == 0x7f)
			*p = ' ';
	}
	g_strstrip(text);
	if (!g_utf8_validate(text, -1, NULL) || g_utf8_strlen(text, -1) > OP_PDNS_MAX_QUOTE) {
		g_autofree char *valid = g_utf8_make_valid(text, -1);
		g_autofree char *cut = g_utf8_substring(valid, 0, OP_PDNS_MAX_QUOTE);

		return g_strconcat(cut, "...", NULL);
	}
	return *text != '\0' ? g_steal_pointer(&text) : NULL;
}

void
op_pdns_set_status_error(guint status, GBytes *body, const char *zone, const char *server_id,
			 const char *api_key, GError **error)
{
	g_autofree char *text = dup_api_error_text(body, api_key);
	g_autofree char *name = g_strndup(zone, strlen(zone) - g_str_has_suffix(zone, "."));
	g_autofree char *detail = text ? g_strdup_printf(" (%s)", text) : g_strdup("");

	if (status == 401 || status == 403) {
		g_set_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED,
			    "the PowerDNS server refused the API key: check the key (api-key in "
			    "pdns.conf) and that webserver-allow-from admits this host");
	} else if (status == 404 || (status == 422 && text != NULL &&
				     (strstr(text, "not find") || strstr(text, "not found")))) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the PowerDNS server %s has no zone %s: create the zone there, or "
			    "give the zone and server id that hold it", server_id, name);
	} else if (status >= 300 && status < 400) {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
			    "the PowerDNS API responded with a redirect (HTTP %u), which Outpost "
			    "does not follow: give the API's own URL", status);
	} else if (status >= 500 && status < 600) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the PowerDNS server failed to change the zone %s (HTTP %u)%s: try "
			    "again later", name, status, detail);
	} else {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
			    "the PowerDNS server rejected the change to the zone %s (HTTP %u)%s",
			    name, status, detail);
	}
}

/* Turns a failed send into an error: TLS problems are permanent until the
 * admin fixes the certificate or the URL, the rest is worth a retry. */
static void
set_transport_error(const GError *local, const char *host, GError **error)
{
	if (local->domain == G_TLS_ERROR) {
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
			    "the TLS connection to the PowerDNS API on %s failed (%s): check its "
			    "certificate and the URL", host, local->message);
		return;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
		    "the PowerDNS API on %s is unreachable (%s): check that it is running and "
		    "reachable, then try again", host, local->message);
}

/* ---- HTTP --------------------------------------------------------------- */

/* Sends message and reads its response, at most OP_PDNS_MAX_RESPONSE octets.
 * Redirects are never followed, so the key goes only to the admin's host. */
static GBytes *
send_message(SoupSession *session, SoupMessage *message, const char *api_key,
	     const char *host, GError **error)
{
	SoupMessageHeaders *headers = soup_message_get_request_headers(message);
	g_autoptr(GInputStream) stream = NULL;
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autoptr(GError) local = NULL;
	guint8 buffer[65536];
	gssize got;

	soup_message_add_flags(message, SOUP_MESSAGE_NO_REDIRECT);
	soup_message_headers_replace(headers, "X-API-Key", api_key);
	soup_message_headers_replace(headers, "Accept", "application/json");
	stream = soup_session_send(session, message, NULL, &local);
	if (stream == NULL) {
		set_transport_error(local, host, error);
		return NULL;
	}
	while ((got = g_input_stream_read(stream, buffer, sizeof buffer, NULL, &local)) > 0) {
		if (body->len + (gsize)got > OP_PDNS_MAX_RESPONSE) {
			g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
				    "the PowerDNS API on %s sent a response larger than %d MiB",
				    host, OP_PDNS_MAX_RESPONSE / (1024 * 1024));
			return NULL;
		}
		g_byte_array_append(body, buffer, (guint)got);
	}
	if (got < 0) {
		set_transport_error(local, host, error);
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&body));
}

static SoupSession *
make_session(void)
{
	SoupSession *session = soup_session_new_with_options("timeout", OP_PDNS_TIMEOUT,
							     "idle-timeout", OP_PDNS_TIMEOUT,
							     "user-agent", "Outpost", NULL);

	/* No proxy: the key goes straight to the host the admin gave. */
	soup_session_set_proxy_resolver(session, NULL);
	return session;
}

/* Sends one request and sets error unless the status is 2xx. */
static GBytes *
request(SoupSession *session, const char *method, const char *url, GBytes *json,
	const OpPublishTarget *target, const char *zone, const char *host, GError **error)
{
	g_autoptr(SoupMessage) message = soup_message_new(method, url);
	g_autoptr(GBytes) response = NULL;
	guint status;

	if (message == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the PowerDNS API URL on %s is not a valid URL", host);
		return NULL;
	}
	if (json != NULL)
		soup_message_set_request_body_from_bytes(message, "application/json", json);
	response = send_message(session, message, target->secret, host, error);
	if (response == NULL)
		return NULL;
	status = soup_message_get_status(message);
	if (status < 200 || status >= 300) {
		op_pdns_set_status_error(status, response, zone, target->key_name, target->secret,
					 error);
		return NULL;
	}
	return g_steal_pointer(&response);
}

static gboolean
publish_target(const OpPublishTarget *target, const char *zone, GPtrArray *records,
	       GError **error)
{
	g_autoptr(GUri) uri = parse_api_url(target->server, error);
	g_autofree char *url = NULL;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GBytes) zone_json = NULL;
	g_autoptr(GBytes) response = NULL;
	g_autoptr(GBytes) body = NULL;
	char *patch;
	const char *host;

	if (uri == NULL)
		return FALSE;
	host = g_uri_get_host(uri);
	url = op_pdns_dup_zone_url(target->server, target->key_name, zone, error);
	if (url == NULL)
		return FALSE;
	session = make_session();
	/* NOTE: PowerDNS has no conditional PATCH, so a TXT record another client
	 * adds between this GET and the PATCH is lost from the replaced set. */
	zone_json = request(session, "GET", url, NULL, target, zone, host, error);
	if (zone_json == NULL)
		return FALSE;
	patch = op_pdns_build_patch(zone, records, zone_json, error);
	if (patch == NULL)
		return FALSE;
	body = g_bytes_new_take(patch, strlen(patch));
	response = request(session, "PATCH", url, body, target, zone, host, error);
	return response != NULL;
}

const OpPublisher op_publisher_powerdns = {"powerdns", check_target, publish_target};
