/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accepts connections on the submission ports and keeps the set of live
 * sessions: the session limit, the idle-timeout sweep and shutdown.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-smtp-server.h"

#include "op-error.h"
#include "smtp/op-smtp-rejections.h"
#include "smtp/op-smtp-session-private.h"

#define OP_TIMEOUT_SWEEP_SECONDS 5

struct _OpSmtpServer {
	OpSmtpContext *context;
	GSocketService *plain_service;
	GSocketService *tls_service;
	GPtrArray *addresses; /* GSocketAddress * actually bound */
	GHashTable *sessions; /* OpSmtpSession * -> itself, one reference */
	GHashTable *per_client; /* remote address text -> GUINT_TO_POINTER(sessions) */
	guint64 next_serial;
	guint sweep_id;
};

static void
session_closed_cb(OpSmtpSession *session, gpointer user_data)
{
	OpSmtpServer *server = user_data;
	guint count = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_client, session->remote));

	if (count <= 1)
		g_hash_table_remove(server->per_client, session->remote);
	else
		g_hash_table_insert(server->per_client, g_strdup(session->remote),
				    GUINT_TO_POINTER(count - 1));
	g_hash_table_remove(server->sessions, session);
}

/* Writes a 421 and closes; an implicit-TLS client gets no plain-text reply. */
static void
refuse_connection(GSocketConnection *connection, gboolean implicit_tls, const char *reply)
{
	if (!implicit_tls)
		g_output_stream_write(g_io_stream_get_output_stream(G_IO_STREAM(connection)), reply,
				      strlen(reply), NULL, NULL);
	g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
}

static char *
dup_remote(GSocketConnection *connection)
{
	g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address(connection,
									   NULL);

	if (!G_IS_INET_SOCKET_ADDRESS(address))
		return g_strdup("unknown");
	return g_inet_address_to_string(
		g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
}

static gboolean
incoming_cb(GSocketService *service, GSocketConnection *connection, GObject *source,
	    gpointer user_data)
{
	OpSmtpServer *server = user_data;
	gboolean implicit_tls = service == server->tls_service;
	OpSmtpSession *session;

	OpConfig *config = server->context->config;
	g_autofree char *remote = dup_remote(connection);
	guint from_client = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_client, remote));

	/* RFC 5321 §3.8: 421 tells the client to come back later. */
	if (g_hash_table_size(server->sessions) >= config->max_sessions) {
		g_message("connection from %s refused: %u sessions are open, the limit is %u",
			  remote, g_hash_table_size(server->sessions), config->max_sessions);
		refuse_connection(connection, implicit_tls,
				  "421 4.7.0 Too many connections, try again later\r\n");
		return TRUE;
	}
	if (from_client >= config->max_sessions_per_client) {
		g_message("connection from %s refused: it has %u sessions open, the limit is %u",
			  remote, from_client, config->max_sessions_per_client);
		refuse_connection(connection, implicit_tls,
				  "421 4.7.0 Too many connections from your address, try again "
				  "later\r\n");
		return TRUE;
	}
	g_hash_table_insert(server->per_client, g_strdup(remote), GUINT_TO_POINTER(from_client + 1));
	session = op_smtp_session_new(server->context, connection, implicit_tls,
				      ++server->next_serial, session_closed_cb, server);
	g_hash_table_add(server->sessions, session);
	op_smtp_session_start(session);
	return TRUE;
}

static gboolean
sweep_cb(gpointer user_data)
{
	OpSmtpServer *server = user_data;
	gint64 now = g_get_monotonic_time();
	g_autoptr(GList) sessions = g_hash_table_get_keys(server->sessions);

	/* A session that times out leaves the table, so walk a copy of the keys. */
	for (GList *l = sessions; l != NULL; l = l->next)
		op_smtp_session_check_timeout(l->data, now);
	return G_SOURCE_CONTINUE;
}

OpSmtpServer *
op_smtp_server_new(OpSmtpContext *context)
{
	OpSmtpServer *server = g_new0(OpSmtpServer, 1);

	server->context = context;
	server->plain_service = g_socket_service_new();
	server->tls_service = g_socket_service_new();
	server->addresses = g_ptr_array_new_with_free_func(g_object_unref);
	server->sessions = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 (GDestroyNotify)op_smtp_session_unref, NULL);
	server->per_client = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* GLib's default backlog of 10 stalls a burst of connections. */
	g_socket_listener_set_backlog(G_SOCKET_LISTENER(server->plain_service), 1024);
	g_socket_listener_set_backlog(G_SOCKET_LISTENER(server->tls_service), 1024);
	g_signal_connect(server->plain_service, "incoming", G_CALLBACK(incoming_cb), server);
	g_signal_connect(server->tls_service, "incoming", G_CALLBACK(incoming_cb), server);
	server->sweep_id = g_timeout_add_seconds(OP_TIMEOUT_SWEEP_SECONDS, sweep_cb, server);
	return server;
}

gboolean
op_smtp_server_listen(OpSmtpServer *server, const char *address, gboolean implicit_tls,
		      GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	g_autoptr(GSocketAddress) bound = NULL;
	guint port = 0;

	if (!op_parse_host_port(address, implicit_tls ? 465 : 587, &host, &port, error))
		return FALSE;
	inet = g_inet_address_new_from_string(host);
	if (inet == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid listen address \"%s\": expected an IP address and port",
			    address);
		return FALSE;
	}
	socket_address = g_inet_socket_address_new(inet, port);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(implicit_tls ? server->tls_service
									  : server->plain_service),
					   socket_address, G_SOCKET_TYPE_STREAM,
					   G_SOCKET_PROTOCOL_TCP, NULL, &bound, error)) {
		g_prefix_error(error, "failed to listen on %s: ", address);
		return FALSE;
	}
	g_ptr_array_add(server->addresses, g_steal_pointer(&bound));
	g_message("listening on %s (%s)", address,
		  implicit_tls ? "implicit TLS" : "STARTTLS");
	return TRUE;
}

GPtrArray *
op_smtp_server_dup_addresses(OpSmtpServer *server)
{
	return g_ptr_array_copy(server->addresses, (GCopyFunc)(void (*)(void))g_object_ref, NULL);
}

guint
op_smtp_server_get_session_count(OpSmtpServer *server)
{
	return g_hash_table_size(server->sessions);
}

void
op_smtp_server_free(OpSmtpServer *server)
{
	g_autoptr(GList) sessions = NULL;

	if (server == NULL)
		return;
	g_socket_service_stop(server->plain_service);
	g_socket_service_stop(server->tls_service);
	g_socket_listener_close(G_SOCKET_LISTENER(server->plain_service));
	g_socket_listener_close(G_SOCKET_LISTENER(server->tls_service));
	g_source_remove(server->sweep_id);
	sessions = g_hash_table_get_keys(server->sessions);
	g_hash_table_steal_all(server->sessions);
	for (GList *l = sessions; l != NULL; l = l->next) {
		op_smtp_session_abort(l->data, "421 4.3.2 Service shutting down");
		op_smtp_session_unref(l->data);
	}
	g_hash_table_unref(server->sessions);
	g_hash_table_unref(server->per_client);
	/* The sessions' rejected submissions may still be waiting for the store. */
	op_smtp_rejections_flush();
	g_clear_object(&server->plain_service);
	g_clear_object(&server->tls_service);
	g_ptr_array_unref(server->addresses);
	g_free(server);
}
