/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The libsoup 3 server of the HTTP endpoint. Each request is checked against
 * the rate and size limits as soon as its headers arrive, then routed by
 * its Host header and path. Only managed, enabled domains get responses. Any
 * other host, domain, token or path gets 404, whether or not an account of
 * that name exists.
 */
#define G_LOG_DOMAIN "outpost-http"

#include "http/op-http-server.h"

#include "http/op-autoconfig.h"
#include "http/op-autodiscover.h"
#include "http/op-http-limits.h"
#include "http/op-http-route.h"
#include "http/op-mobileconfig.h"
#include "http/op-mta-sts.h"
#include "op-error.h"

#include <libsoup/soup.h>
#include <string.h>

#define OP_HTTP_BODY_SIZE_KEY "op-body-size"
#define OP_XML_TYPE "application/xml; charset=utf-8"

struct _OpHttpServer {
	SoupServer *soup;
	OpConfig *config;
	OpAdmin *admin; /* NULL until the store is open */
	OpRateLimiter *limiter;
};

gboolean
op_http_server_is_enabled(OpConfig *config, const char **reason)
{
	const char *problem = NULL;

	if (config->http_listen[0] == NULL && config->https_listen[0] == NULL)
		problem = "no http_listen or https_listen address is set";
	else if (config->hostname == NULL || strchr(config->hostname, '.') == NULL ||
		 g_ascii_strcasecmp(config->hostname, "localhost") == 0)
		problem = "the host name is not a public DNS name: set hostname (or --hostname) "
			  "to the name mail clients reach this server by";
	if (reason != NULL)
		*reason = problem;
	return problem == NULL;
}

/* libsoup 3.2 has no phrase for 429 (RFC 6585 §4). */
static const char *
get_reason_phrase(guint status)
{
	return status == 429 ? "Too Many Requests" : soup_status_get_phrase(status);
}

static void
respond(SoupServerMessage *msg, guint status, const char *content_type, const char *body,
	gsize length)
{
	soup_server_message_set_status(msg, status, get_reason_phrase(status));
	soup_server_message_set_response(msg, content_type, SOUP_MEMORY_COPY, body, length);
}

static void
respond_status(SoupServerMessage *msg, guint status)
{
	g_autofree char *text = g_strdup_printf("%u %s\n", status, get_reason_phrase(status));

	respond(msg, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Sets the response before the body is read. The body is then drained
 * without being stored, and the connection closes after the response. */
static void
reject_early(SoupServerMessage *msg, guint status)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	respond_status(msg, status);
	if (status == 429)
		soup_message_headers_replace(headers, "Retry-After", "60");
	soup_message_headers_replace(headers, "Connection", "close");
	soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
}

static GInetAddress *
get_remote_address(SoupServerMessage *msg)
{
	GSocketAddress *address = soup_server_message_get_remote_address(msg);

	if (address == NULL || !G_IS_INET_SOCKET_ADDRESS(address))
		return NULL;
	return g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
}

static void
got_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	OpHttpServer *self = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	GInetAddress *client = get_remote_address(msg);

	if (client != NULL &&
	    !op_rate_limiter_take(self->limiter, client, g_get_monotonic_time())) {
		g_debug("http remote=%s status=429", soup_server_message_get_remote_host(msg));
		reject_early(msg, 429);
		return;
	}
	if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_content_length(headers) > OP_HTTP_MAX_BODY)
		reject_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
}

/* Counts a body sent without Content-Length (chunked) against the limit, and
 * ends a connection that keeps sending long after the limit. */
static void
got_chunk_cb(SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	gsize total = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(msg), OP_HTTP_BODY_SIZE_KEY));

	total += g_bytes_get_size(chunk);
	g_object_set_data(G_OBJECT(msg), OP_HTTP_BODY_SIZE_KEY, GSIZE_TO_POINTER(total));
	if (total > OP_HTTP_MAX_BODY && soup_server_message_get_status(msg) == 0)
		reject_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
	if (total > OP_HTTP_MAX_DRAIN) {
		GSocket *socket = soup_server_message_get_socket(msg);

		if (socket != NULL)
			g_socket_shutdown(socket, TRUE, TRUE, NULL);
	}
}

static void
request_started_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	GSocket *socket = soup_server_message_get_socket(msg);

	/* A connection idle this long is closed, so slow clients cannot hold
	 * connections open. */
	if (socket != NULL)
		g_socket_set_timeout(socket, OP_HTTP_IDLE_TIMEOUT);
	g_signal_connect(msg, "got-headers", G_CALLBACK(got_headers_cb), user_data);
	g_signal_connect(msg, "got-chunk", G_CALLBACK(got_chunk_cb), user_data);
}

/* Returns the settings of domain, or NULL after setting a 404 (unknown or
 * disabled domain) or 500 response. */
static OpClientSettings *
lookup_settings(OpHttpServer *self, SoupServerMessage *msg, const char *domain)
{
	g_autoptr(GError) error = NULL;
	OpClientSettings *settings;

	settings = op_admin_dup_client_settings(self->admin, domain, TRUE, &error);
	if (settings != NULL)
		return settings;
	if (g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
	} else {
		g_warning("http: reading the settings of %s failed: %s", domain, error->message);
		respond_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR);
	}
	return NULL;
}

/* Returns the domain of address when it is valid and, if the Host header
 * named a domain, the same one. Otherwise sets a 400 or 404 response. */
static char *
check_address(SoupServerMessage *msg, const OpHttpRoute *route, const char *address,
	      char **normalized)
{
	g_autofree char *ascii = op_admin_normalize_address(address, NULL);
	const char *domain;

	if (ascii == NULL) {
		respond_status(msg, SOUP_STATUS_BAD_REQUEST);
		return NULL;
	}
	domain = strrchr(ascii, '@') + 1;
	if (route->domain != NULL && g_ascii_strcasecmp(domain, route->domain) != 0) {
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
		return NULL;
	}
	*normalized = g_steal_pointer(&ascii);
	return g_strdup(strrchr(*normalized, '@') + 1);
}

static void
respond_xml(SoupServerMessage *msg, char *(*write)(const OpClientSettings *, const char *,
						   gsize *, GError **),
	    const OpClientSettings *settings, const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL;
	gsize length = 0;

	xml = write(settings, address, &length, &error);
	if (xml == NULL) {
		g_warning("http: writing the response for %s failed: %s", settings->domain,
			  error->message);
		respond_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR);
		return;
	}
	respond(msg, SOUP_STATUS_OK, OP_XML_TYPE, xml, length);
}

static char *
write_autoconfig(const OpClientSettings *settings, const char *address, gsize *length,
		 GError **error)
{
	return op_autoconfig_dup_xml(settings, length, error);
}

/* GET /mail/config-v1.1.xml?emailaddress=ADDRESS. Without the parameter the
 * domain comes from the Host header. The response is the same for every
 * address of the domain, so it reveals no account. */
static void
serve_autoconfig(OpHttpServer *self, SoupServerMessage *msg, const OpHttpRoute *route,
		 GHashTable *query)
{
	const char *address = query ? g_hash_table_lookup(query, "emailaddress") : NULL;
	g_autofree char *normalized = NULL;
	g_autofree char *domain = NULL;
	g_autoptr(OpClientSettings) settings = NULL;

	if (address != NULL) {
		domain = check_address(msg, route, address, &normalized);
		if (domain == NULL)
			return;
	} else if (route->domain != NULL) {
		domain = g_strdup(route->domain);
	} else {
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
		return;
	}
	settings = lookup_settings(self, msg, domain);
	if (settings != NULL)
		respond_xml(msg, write_autoconfig, settings, NULL);
}

static void
serve_autodiscover(OpHttpServer *self, SoupServerMessage *msg, const OpHttpRoute *route)
{
	g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	g_autoptr(GError) error = NULL;
	g_autofree char *address = NULL;
	g_autofree char *normalized = NULL;
	g_autofree char *domain = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	gsize length = 0;
	const char *data = g_bytes_get_data(body, &length);

	address = op_autodiscover_parse_request(data, length, &error);
	if (address == NULL) {
		g_debug("http remote=%s autodiscover rejected: %s",
			soup_server_message_get_remote_host(msg), error->message);
		respond_status(msg, SOUP_STATUS_BAD_REQUEST);
		return;
	}
	domain = check_address(msg, route, address, &normalized);
	if (domain == NULL)
		return;
	settings = lookup_settings(self, msg, domain);
	if (settings != NULL)
		respond_xml(msg, op_autodiscover_dup_response, settings, normalized);
}

static void
serve_mta_sts(OpHttpServer *self, SoupServerMessage *msg, const OpHttpRoute *route)
{
	g_autoptr(OpClientSettings) settings = lookup_settings(self, msg, route->domain);
	g_autofree char *policy = NULL;

	if (settings == NULL)
		return;
	policy = op_mta_sts_dup_policy(self->config->hostname);
	/* RFC 8461 §3.3: the policy is served as text/plain. */
	respond(msg, SOUP_STATUS_OK, "text/plain", policy, strlen(policy));
}

static void
serve_profile(OpHttpServer *self, SoupServerMessage *msg, const OpHttpRoute *route)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) profile = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *disposition = NULL;
	gsize length = 0;
	const char *data;

	profile = op_admin_get_profile_by_token(self->admin, route->token, &domain, &error);
	if (profile == NULL) {
		if (!g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND))
			g_warning("http: making a profile failed: %s", error->message);
		respond_status(msg, g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND)
					    ? SOUP_STATUS_NOT_FOUND
					    : SOUP_STATUS_INTERNAL_SERVER_ERROR);
		return;
	}
	/* A token of one domain asked for on another domain's host is unknown there. */
	if (route->domain != NULL && g_ascii_strcasecmp(route->domain, domain) != 0) {
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
		return;
	}
	data = g_bytes_get_data(profile, &length);
	respond(msg, SOUP_STATUS_OK, OP_MOBILECONFIG_CONTENT_TYPE, data, length);
	disposition = g_strdup_printf("attachment; filename=\"%s.mobileconfig\"", domain);
	soup_message_headers_replace(soup_server_message_get_response_headers(msg),
				     "Content-Disposition", disposition);
}

/* Checks the scheme and method of a routed request. Sets an error response
 * and returns FALSE when the request may not be served. */
static gboolean
check_request(OpHttpServer *self, SoupServerMessage *msg, const OpHttpRoute *route)
{
	const char *method = soup_server_message_get_method(msg);
	GUri *uri = soup_server_message_get_uri(msg);
	gboolean https = g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
	gboolean post = route->kind == OP_HTTP_ROUTE_AUTODISCOVER;

	/* RFC 8461 §3.3: the policy is fetched over HTTPS only. */
	if (!https && (route->kind == OP_HTTP_ROUTE_MTA_STS || !self->config->http_allow_plain)) {
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
		return FALSE;
	}
	if (post ? method != SOUP_METHOD_POST
		 : method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
		respond_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Allow", post ? "POST" : "GET, HEAD");
		return FALSE;
	}
	if (self->admin == NULL) {
		respond_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
		return FALSE;
	}
	return TRUE;
}

static const char *
route_name(OpHttpRouteKind kind)
{
	static const char *const names[] = {"none", "autoconfig", "autodiscover", "mta-sts",
					    "profile"};

	return kind < G_N_ELEMENTS(names) ? names[kind] : "none";
}

static void
handle_cb(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
	  gpointer user_data)
{
	OpHttpServer *self = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *host = soup_message_headers_get_one(headers, "Host");
	g_auto(OpHttpRoute) route = {OP_HTTP_ROUTE_NONE, NULL, NULL};

	if (!op_http_route_parse(host, path, self->config->hostname, &route))
		respond_status(msg, SOUP_STATUS_NOT_FOUND);
	else if (check_request(self, msg, &route)) {
		switch (route.kind) {
		case OP_HTTP_ROUTE_AUTOCONFIG:
			serve_autoconfig(self, msg, &route, query);
			break;
		case OP_HTTP_ROUTE_AUTODISCOVER:
			serve_autodiscover(self, msg, &route);
			break;
		case OP_HTTP_ROUTE_MTA_STS:
			serve_mta_sts(self, msg, &route);
			break;
		case OP_HTTP_ROUTE_PROFILE:
			serve_profile(self, msg, &route);
			break;
		default:
			respond_status(msg, SOUP_STATUS_NOT_FOUND);
			break;
		}
	}
	/* The path is not logged: a profile path contains its token. */
	g_debug("http remote=%s route=%s domain=%s status=%u",
		soup_server_message_get_remote_host(msg), route_name(route.kind),
		route.domain ? route.domain : "-", soup_server_message_get_status(msg));
}

static gboolean
listen_on(OpHttpServer *self, const char *address, gboolean https, GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	guint port = 0;

	if (!op_parse_host_port(address, https ? 443 : 80, &host, &port, error))
		return FALSE;
	inet = g_inet_address_new_from_string(host);
	if (inet == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid HTTP listen address \"%s\": expected an IP address and port",
			    address);
		return FALSE;
	}
	socket_address = g_inet_socket_address_new(inet, port);
	if (!soup_server_listen(self->soup, socket_address, https ? SOUP_SERVER_LISTEN_HTTPS : 0,
				error)) {
		g_prefix_error(error, "failed to listen for %s on %s: ", https ? "HTTPS" : "HTTP",
			       address);
		return FALSE;
	}
	return TRUE;
}

static gboolean
listen_all(OpHttpServer *self, GError **error)
{
	for (guint i = 0; self->config->http_listen[i] != NULL; i++) {
		if (!listen_on(self, self->config->http_listen[i], FALSE, error))
			return FALSE;
	}
	for (guint i = 0; self->config->https_listen[i] != NULL; i++) {
		if (!listen_on(self, self->config->https_listen[i], TRUE, error))
			return FALSE;
	}
	return TRUE;
}

OpHttpServer *
op_http_server_new(OpConfig *config, GError **error)
{
	g_autoptr(OpHttpServer) self = g_new0(OpHttpServer, 1);
	g_autoptr(GTlsCertificate) certificate = NULL;

	self->config = config;
	self->limiter = op_rate_limiter_new(OP_HTTP_RATE_BURST, OP_HTTP_RATE_PER_MINUTE,
					    OP_HTTP_RATE_MAX_CLIENTS);
	if (config->https_listen[0] != NULL) {
		/* TODO: Reload replaces the submission ports' certificate but not this one;
		 * HTTPS picks up a new certificate at the next start. */
		certificate = g_tls_certificate_new_from_files(config->tls_cert, config->tls_key,
							       error);
		if (certificate == NULL) {
			g_prefix_error(error, "failed to load the HTTPS certificate %s: ",
				       config->tls_cert);
			return NULL;
		}
	}
	self->soup = g_object_new(SOUP_TYPE_SERVER, "server-header", "outpostd",
				  "tls-certificate", certificate, NULL);
	soup_server_add_handler(self->soup, NULL, handle_cb, self, NULL);
	g_signal_connect(self->soup, "request-started", G_CALLBACK(request_started_cb), self);
	if (!listen_all(self, error))
		return NULL;
	return g_steal_pointer(&self);
}

void
op_http_server_set_admin(OpHttpServer *server, OpAdmin *admin)
{
	server->admin = admin;
}

void
op_http_server_free(OpHttpServer *server)
{
	if (server == NULL)
		return;
	if (server->soup != NULL) {
		soup_server_disconnect(server->soup);
		g_object_unref(server->soup);
	}
	op_rate_limiter_free(server->limiter);
	g_free(server);
}
