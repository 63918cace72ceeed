/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accepts connections on the submission ports and the sendmail socket, and
 * keeps the set of live sessions: the session limits, the idle-timeout
 * sweep and shutdown.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-smtp-server.h"

#include "op-error.h"
#include "op-privileges.h"
#include "sendmail/op-local-peer.h"
#include "smtp/op-smtp-rejections.h"
#include "smtp/op-smtp-session-private.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define OP_TIMEOUT_SWEEP_SECONDS 5

struct _OpSmtpServer {
	OpSmtpContext *context;
	GSocketService *plain_service;
	GSocketService *tls_service;
	GSocketService *local_service;
	GPtrArray *addresses; /* GSocketAddress * actually bound */
	GHashTable *sessions; /* OpSmtpSession * -> itself, one reference */
	/* Client key (IP address text, or "uid:N" for a local user) ->
	 * GUINT_TO_POINTER(sessions). */
	GHashTable *per_client;
	/* The sendmail socket this server created, removed at shutdown only
	 * while the file is still the one bound here. */
	char *local_path;
	dev_t local_device;
	ino_t local_inode;
	guint64 next_serial;
	guint sweep_id;
};

static void
session_closed_cb(OpSmtpSession *session, gpointer user_data)
{
	OpSmtpServer *server = user_data;
	const char *key = session->client_key;
	guint count = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_client, key));

	if (count <= 1)
		g_hash_table_remove(server->per_client, key);
	else
		g_hash_table_insert(server->per_client, g_strdup(key), GUINT_TO_POINTER(count - 1));
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

/* Names the peer of a sendmail-socket connection by the uid the kernel
 * recorded at connect(2). Returns NULL when the kernel gives none. */
static OpLocalPeer *
identify_local_peer(GSocketConnection *connection)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GCredentials) credentials = NULL;
	uid_t uid;

	credentials = g_socket_get_credentials(g_socket_connection_get_socket(connection),
					       &error);
	if (credentials == NULL) {
		g_warning("local connection rejected: reading its credentials failed: %s",
			  error->message);
		return NULL;
	}
	uid = g_credentials_get_unix_user(credentials, &error);
	if (uid == (uid_t)-1) {
		g_warning("local connection rejected: it has no uid: %s", error->message);
		return NULL;
	}
	/* NOTE: the passwd and group lookups block the main loop until NSS
	 * returns, which is quick with local files but not with a slow
	 * directory service. */
	return op_local_peer_lookup(uid);
}

/* Returns FALSE after rejecting the connection when a session limit is reached.
 * @key counts the sessions of one client and @name names it in the log. */
static gboolean
check_session_limits(OpSmtpServer *server, GSocketConnection *connection, gboolean implicit_tls,
		     const char *key, const char *name)
{
	OpConfig *config = server->context->config;
	guint from_client = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_client, key));

	/* RFC 5321 §3.8: with 421 the client retries later. */
	if (g_hash_table_size(server->sessions) >= config->max_sessions) {
		g_message("connection from %s refused: %u sessions are open, the limit is %u",
			  name, g_hash_table_size(server->sessions), config->max_sessions);
		refuse_connection(connection, implicit_tls,
				  "421 4.7.0 Too many connections, try again later\r\n");
		return FALSE;
	}
	if (from_client >= config->max_sessions_per_client) {
		g_message("connection from %s refused: it has %u sessions open, the limit is %u",
			  name, from_client, config->max_sessions_per_client);
		refuse_connection(connection, implicit_tls,
				  "421 4.7.0 Too many connections from your address, try again "
				  "later\r\n");
		return FALSE;
	}
	return TRUE;
}

static gboolean
incoming_cb(GSocketService *service, GSocketConnection *connection, GObject *source,
	    gpointer user_data)
{
	OpSmtpServer *server = user_data;
	gboolean implicit_tls = service == server->tls_service;
	g_autoptr(OpLocalPeer) peer = NULL;
	g_autofree char *key = NULL;
	OpSmtpSession *session;
	guint from_client;

	/* Local users share no address, so each uid has a limit of its own. */
	if (service == server->local_service) {
		peer = identify_local_peer(connection);
		if (peer == NULL) {
			refuse_connection(connection, FALSE,
					  "421 4.7.0 Cannot identify the local user\r\n");
			return TRUE;
		}
		key = g_strdup_printf("uid:%u", (guint)peer->uid);
	} else {
		key = dup_remote(connection);
	}
	if (!check_session_limits(server, connection, implicit_tls, key,
				  peer != NULL ? peer->description : key))
		return TRUE;
	from_client = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_client, key));
	g_hash_table_insert(server->per_client, g_strdup(key), GUINT_TO_POINTER(from_client + 1));
	session = op_smtp_session_new(server->context, connection, implicit_tls,
				      ++server->next_serial, session_closed_cb, server);
	g_free(session->client_key);
	session->client_key = g_steal_pointer(&key);
	if (peer != NULL)
		op_smtp_session_set_local(session, g_steal_pointer(&peer));
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
	server->local_service = g_socket_service_new();
	server->addresses = g_ptr_array_new_with_free_func(g_object_unref);
	server->sessions = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 (GDestroyNotify)op_smtp_session_unref, NULL);
	server->per_client = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* GLib's default backlog of 10 stalls a burst of connections. */
	g_socket_listener_set_backlog(G_SOCKET_LISTENER(server->plain_service), 1024);
	g_socket_listener_set_backlog(G_SOCKET_LISTENER(server->tls_service), 1024);
	g_signal_connect(server->plain_service, "incoming", G_CALLBACK(incoming_cb), server);
	g_signal_connect(server->tls_service, "incoming", G_CALLBACK(incoming_cb), server);
	g_signal_connect(server->local_service, "incoming", G_CALLBACK(incoming_cb), server);
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

/* Creates the socket's directory when it is missing, open to every user. */
static gboolean
prepare_socket_dir(const char *path, const char *owner, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return TRUE;
	/* The daemon's umask is 0077, so the mode is set again after mkdir. */
	if (g_mkdir_with_parents(dir, 0755) != 0 || chmod(dir, 0755) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "failed to create the directory %s of the sendmail socket: %s", dir,
			    g_strerror(saved));
		return FALSE;
	}
	if (owner != NULL && geteuid() == 0)
		return op_privileges_chown(dir, owner, error);
	return TRUE;
}

/* Removes a socket left behind by a daemon that was killed, but never a
 * file that is no socket or a socket another process still listens on. */
static gboolean
remove_stale_socket(const char *path, GError **error)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	struct stat info;
	int fd;
	int rc;

	if (lstat(path, &info) != 0)
		return TRUE;
	if (!S_ISSOCK(info.st_mode)) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
			    "%s exists and is not a socket: remove it or set sendmail_socket to "
			    "another path",
			    path);
		return FALSE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "socket() failed: %s",
			    g_strerror(saved));
		return FALSE;
	}
	g_strlcpy(address.sun_path, path, sizeof address.sun_path);
	rc = connect(fd, (struct sockaddr *)&address, sizeof address);
	close(fd);
	if (rc == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_BUSY,
			    "another process listens on %s: is another outpostd running?", path);
		return FALSE;
	}
	if (g_unlink(path) != 0 && errno != ENOENT) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "failed to remove the old socket %s: %s", path, g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

/* Logs when a directory above the socket keeps other users out, as a
 * state directory (mode 0700) does: only root and the daemon's own user
 * can submit then. */
static void
check_socket_reachable(const char *path)
{
	g_autofree char *absolute = g_canonicalize_filename(path, NULL);
	g_autofree char *dir = g_path_get_dirname(absolute);

	while (strcmp(dir, "/") != 0) {
		struct stat info;
		char *parent;

		if (stat(dir, &info) == 0 && (info.st_mode & S_IXOTH) == 0) {
			g_message("only root and the daemon's user can reach the sendmail "
				  "socket %s: %s is not searchable by other users",
				  absolute, dir);
			return;
		}
		parent = g_path_get_dirname(dir);
		g_free(dir);
		dir = parent;
	}
}

gboolean
op_smtp_server_listen_local(OpSmtpServer *server, const char *path, const char *owner,
			    GError **error)
{
	g_autoptr(GSocketAddress) address = NULL;
	struct sockaddr_un native;
	struct stat info;

	if (strlen(path) >= sizeof native.sun_path) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid sendmail socket path %s: a UNIX socket path has at most %zu "
			    "octets",
			    path, sizeof native.sun_path - 1);
		return FALSE;
	}
	if (!prepare_socket_dir(path, owner, error) || !remove_stale_socket(path, error))
		return FALSE;
	address = g_unix_socket_address_new(path);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(server->local_service), address,
					   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
					   NULL, error)) {
		g_prefix_error(error, "failed to listen on %s: ", path);
		return FALSE;
	}
	/* connect(2) needs write permission on the socket file. Every local
	 * user may submit, because each session is known by its uid. */
	if (chmod(path, 0666) != 0 || lstat(path, &info) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "failed to open %s to local users: %s", path, g_strerror(saved));
		return FALSE;
	}
	if (owner != NULL && geteuid() == 0 && !op_privileges_chown(path, owner, error))
		return FALSE;
	g_free(server->local_path);
	server->local_path = g_strdup(path);
	server->local_device = info.st_dev;
	server->local_inode = info.st_ino;
	g_message("listening on %s (local submission)", path);
	check_socket_reachable(path);
	return TRUE;
}

static void
remove_local_socket(OpSmtpServer *server)
{
	struct stat info;

	if (server->local_path == NULL)
		return;
	/* A newer daemon may have replaced the file: leave its socket alone. */
	if (lstat(server->local_path, &info) == 0 && info.st_dev == server->local_device &&
	    info.st_ino == server->local_inode && g_unlink(server->local_path) != 0)
		g_message("could not remove %s: %s", server->local_path, g_strerror(errno));
	g_clear_pointer(&server->local_path, g_free);
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
	g_socket_service_stop(server->local_service);
	g_socket_listener_close(G_SOCKET_LISTENER(server->plain_service));
	g_socket_listener_close(G_SOCKET_LISTENER(server->tls_service));
	g_socket_listener_close(G_SOCKET_LISTENER(server->local_service));
	remove_local_socket(server);
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
	g_clear_object(&server->local_service);
	g_ptr_array_unref(server->addresses);
	g_free(server);
}
