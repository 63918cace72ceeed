/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The submission listeners: port 587 with STARTTLS, port 465 with implicit
 * TLS (RFC 8314) and the UNIX socket of outpost-sendmail, each accepted
 * connection becoming a session on the main loop.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/ssl.h>

#include "op-config.h"
#include "store/op-store.h"

G_BEGIN_DECLS

typedef struct _OpDkimSigner OpDkimSigner;

/* What every session shares; owned by main() and alive as long as the daemon. */
typedef struct {
	OpConfig *config;
	OpStore *store;
	SSL_CTX *tls;
	OpDkimSigner *signer;
	GPtrArray *trusted_networks; /* GInetAddressMask * */
	/* Called on the main loop after a message entered the queue. */
	void (*queued_cb)(gpointer user_data);
	gpointer queued_data;
} OpSmtpContext;

typedef struct _OpSmtpServer OpSmtpServer;

OpSmtpServer *op_smtp_server_new(OpSmtpContext *context);
gboolean op_smtp_server_listen(OpSmtpServer *server, const char *address, gboolean implicit_tls,
			       GError **error);
/* Listens for local programs on the UNIX socket @path. Creates its directory
 * (mode 0755) when missing, replaces a stale socket but fails when another
 * process still listens there, and makes the socket 0666 so every local user
 * can connect: each session is known by the uid of its peer. When @owner is
 * set and the process runs as root, the directory it creates and the socket
 * are given to @owner. The socket file is removed again when the server is
 * freed. */
gboolean op_smtp_server_listen_local(OpSmtpServer *server, const char *path, const char *owner,
				     GError **error);
GPtrArray *op_smtp_server_dup_addresses(OpSmtpServer *server);
void op_smtp_server_free(OpSmtpServer *server);
guint op_smtp_server_get_session_count(OpSmtpServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSmtpServer, op_smtp_server_free)

G_END_DECLS
