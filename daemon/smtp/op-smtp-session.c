/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The I/O half of a submission session: a non-blocking socket watched by the
 * main loop, OpenSSL on top of it when TLS is active, buffered replies, and
 * the input loop that hands complete lines and DATA octets to the commands.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-smtp-session-private.h"

#include "policy/op-policy.h"
#include "tls/op-tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>

#define OP_READ_CHUNK 16384
/* Octets read per wake-up, so one fast client cannot starve the others. */
#define OP_READ_BUDGET (256 * 1024)

static gboolean session_io_cb(int fd, GIOCondition condition, gpointer user_data);

OpSmtpSession *
op_smtp_session_new(OpSmtpContext *context, GSocketConnection *connection, gboolean implicit_tls,
		    guint64 serial, OpSmtpSessionClosedFunc closed_cb, gpointer closed_data)
{
	OpSmtpSession *session = g_new0(OpSmtpSession, 1);
	g_autoptr(GSocketAddress) address = NULL;

	g_atomic_ref_count_init(&session->ref_count);
	session->context = context;
	g_snprintf(session->id, sizeof session->id, "S%" G_GUINT64_FORMAT, serial);
	session->connection = g_object_ref(connection);
	session->fd = g_socket_get_fd(g_socket_connection_get_socket(connection));
	session->implicit_tls = implicit_tls;
	session->input = g_byte_array_new();
	session->output = g_string_new(NULL);
	session->recipients = g_ptr_array_new_with_free_func(g_free);
	session->closed_cb = closed_cb;
	session->closed_data = closed_data;
	session->last_activity = g_get_monotonic_time();

	address = g_socket_connection_get_remote_address(connection, NULL);
	if (G_IS_INET_SOCKET_ADDRESS(address)) {
		session->remote_address = g_object_ref(
			g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
		session->remote = g_inet_address_to_string(session->remote_address);
	} else {
		session->remote = g_strdup("unknown");
	}
	session->client_key = g_strdup(session->remote);
	session->trusted = session->remote_address != NULL &&
			   op_policy_is_trusted(context->trusted_networks, session->remote_address);
	return session;
}

void
op_smtp_session_set_local(OpSmtpSession *session, OpLocalPeer *peer)
{
	g_clear_pointer(&session->local_peer, op_local_peer_free);
	session->local_peer = peer;
	g_free(session->remote);
	session->remote = g_strdup(peer->description);
}

OpSmtpSession *
op_smtp_session_ref(OpSmtpSession *session)
{
	g_atomic_ref_count_inc(&session->ref_count);
	return session;
}

void
op_smtp_session_unref(OpSmtpSession *session)
{
	if (!g_atomic_ref_count_dec(&session->ref_count))
		return;
	g_clear_pointer(&session->ssl, SSL_free);
	g_clear_object(&session->connection);
	g_clear_object(&session->remote_address);
	g_free(session->remote);
	g_free(session->client_key);
	g_clear_pointer(&session->local_peer, op_local_peer_free);
	g_byte_array_unref(session->input);
	g_string_free(session->output, TRUE);
	g_free(session->helo);
	g_free(session->account);
	g_free(session->login_user);
	g_free(session->sender);
	g_ptr_array_unref(session->recipients);
	g_clear_pointer(&session->body, g_byte_array_unref);
	g_free(session->bdat_refusal);
	g_free(session);
}

void
op_smtp_session_reset_transaction(OpSmtpSession *session)
{
	g_clear_pointer(&session->sender, g_free);
	g_ptr_array_set_size(session->recipients, 0);
	g_clear_pointer(&session->body, g_byte_array_unref);
	session->smtputf8 = FALSE;
	session->bdat_remaining = 0;
	session->bdat_last = FALSE;
	session->bdat_used = FALSE;
	session->bdat_failed = FALSE;
	g_clear_pointer(&session->bdat_refusal, g_free);
}

static gboolean
start_tls(OpSmtpSession *session)
{
	session->ssl = SSL_new(session->context->tls);
	if (session->ssl == NULL || SSL_set_fd(session->ssl, session->fd) != 1) {
		g_autofree char *reason = op_tls_dup_openssl_errors();

		op_session_log(session, G_LOG_LEVEL_WARNING, "TLS set-up failed: %s", reason);
		return FALSE;
	}
	session->state = OP_SMTP_STATE_TLS_HANDSHAKE;
	return TRUE;
}

void
op_smtp_session_start(OpSmtpSession *session)
{
	/* A client that hangs up at once makes the greeting's write fail, and
	 * closing drops the server's reference before this function returns. */
	g_autoptr(OpSmtpSession) hold = op_smtp_session_ref(session);

	op_session_log(session, G_LOG_LEVEL_INFO, "connect from %s%s", session->remote,
		       session->implicit_tls ? " (implicit TLS)" : "");
	if (session->implicit_tls) {
		if (!start_tls(session)) {
			op_smtp_session_close(session);
			return;
		}
	} else {
		session->state = OP_SMTP_STATE_COMMAND;
		op_smtp_session_greet(session);
	}
	op_smtp_session_flush(session);
	op_smtp_session_update_watch(session);
}

void
op_smtp_session_reply(OpSmtpSession *session, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_string_append_vprintf(session->output, format, args);
	va_end(args);
	g_string_append(session->output, "\r\n");
}

/* Sends a last reply and closes once it is written. */
void
op_smtp_session_shutdown(OpSmtpSession *session, const char *reply)
{
	if (session->closed || session->state == OP_SMTP_STATE_CLOSING)
		return;
	if (reply != NULL)
		op_smtp_session_reply(session, "%s", reply);
	session->state = OP_SMTP_STATE_CLOSING;
	op_smtp_session_flush(session);
	op_smtp_session_update_watch(session);
}

/* Sends a last reply if the socket takes it at once, then closes without
 * telling the server: used when the server itself goes away. */
void
op_smtp_session_abort(OpSmtpSession *session, const char *reply)
{
	session->closed_cb = NULL;
	op_smtp_session_shutdown(session, reply);
	op_smtp_session_close(session);
}

void
op_smtp_session_close(OpSmtpSession *session)
{
	if (session->closed)
		return;
	session->closed = TRUE;
	if (session->watch_id != 0)
		g_source_remove(session->watch_id);
	session->watch_id = 0;
	if (session->ssl != NULL && session->tls_active) {
		ERR_clear_error();
		SSL_shutdown(session->ssl);
	}
	g_io_stream_close(G_IO_STREAM(session->connection), NULL, NULL);
	op_session_log(session, G_LOG_LEVEL_INFO, "disconnect from %s", session->remote);
	if (session->closed_cb != NULL)
		session->closed_cb(session, session->closed_data);
}

/* Returns FALSE when the connection failed and was closed. */
static gboolean
write_some(OpSmtpSession *session)
{
	while (session->output->len > 0) {
		gssize written;

		if (session->ssl != NULL && session->tls_active) {
			int n;

			/* SSL_get_error() reads the thread's error queue, so a failure
			 * left there by another session must not be taken for ours. */
			ERR_clear_error();
			n = SSL_write(session->ssl, session->output->str,
				      (int)MIN(session->output->len, G_MAXINT));

			if (n <= 0) {
				int code = SSL_get_error(session->ssl, n);

				if (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ) {
					session->want_write = code == SSL_ERROR_WANT_WRITE;
					return TRUE;
				}
				return FALSE;
			}
			written = n;
		} else {
			written = send(session->fd, session->output->str, session->output->len,
				       MSG_NOSIGNAL | MSG_DONTWAIT);
			if (written < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
					session->want_write = TRUE;
					return TRUE;
				}
				return FALSE;
			}
		}
		g_string_erase(session->output, 0, written);
	}
	session->want_write = FALSE;
	return TRUE;
}

void
op_smtp_session_flush(OpSmtpSession *session)
{
	if (session->closed)
		return;
	if (!write_some(session)) {
		op_session_log(session, G_LOG_LEVEL_INFO, "write to %s failed, closing",
			       session->remote);
		op_smtp_session_close(session);
		return;
	}
	if (session->output->len > 0)
		return;
	if (session->state == OP_SMTP_STATE_CLOSING && !session->busy) {
		op_smtp_session_close(session);
		return;
	}
	/* RFC 3207 §4.2: TLS starts only once the 220 reply has gone out. */
	if (session->starttls_pending) {
		session->starttls_pending = FALSE;
		if (!start_tls(session))
			op_smtp_session_close(session);
	}
}

static void
drive_handshake(OpSmtpSession *session)
{
	int rc;

	ERR_clear_error();
	rc = SSL_accept(session->ssl);

	if (rc == 1) {
		session->tls_active = TRUE;
		session->want_write = FALSE;
		session->state = OP_SMTP_STATE_COMMAND;
		op_session_log(session, G_LOG_LEVEL_INFO, "TLS established: %s %s",
			       SSL_get_version(session->ssl), SSL_get_cipher_name(session->ssl));
		op_smtp_session_tls_started(session);
		op_smtp_session_flush(session);
		return;
	}
	switch (SSL_get_error(session->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		session->want_write = FALSE;
		return;
	case SSL_ERROR_WANT_WRITE:
		session->want_write = TRUE;
		return;
	default: {
		g_autofree char *reason = op_tls_dup_openssl_errors();

		op_session_log(session, G_LOG_LEVEL_INFO, "TLS handshake with %s failed: %s",
			       session->remote, reason);
		op_smtp_session_close(session);
	}
	}
}

/* Reads what the socket has into session->input. Returns FALSE on EOF or
 * error, after which the session must close. */
static gboolean
read_some(OpSmtpSession *session)
{
	guint8 buffer[OP_READ_CHUNK];
	gsize total = 0;

	while (total < OP_READ_BUDGET && session->input->len < OP_SMTP_INPUT_HIGH_WATER) {
		gssize n;

		if (session->ssl != NULL && session->tls_active) {
			int rc;

			ERR_clear_error();
			rc = SSL_read(session->ssl, buffer, sizeof buffer);

			if (rc <= 0) {
				int code = SSL_get_error(session->ssl, rc);

				if (code == SSL_ERROR_WANT_READ)
					return TRUE;
				if (code == SSL_ERROR_WANT_WRITE) {
					session->want_write = TRUE;
					return TRUE;
				}
				return FALSE;
			}
			n = rc;
		} else {
			n = recv(session->fd, buffer, sizeof buffer, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return TRUE;
			if (n <= 0)
				return FALSE;
		}
		g_byte_array_append(session->input, buffer, (guint)n);
		total += (gsize)n;
	}
	return TRUE;
}

static void
consume(OpSmtpSession *session, gsize count)
{
	g_byte_array_remove_range(session->input, 0, (guint)count);
}

static void
process_data(OpSmtpSession *session)
{
	gboolean finished = FALSE;
	gsize used = op_data_scanner_feed(&session->scanner, session->input->data,
					  session->input->len, session->body, &finished);

	consume(session, used);
	if (finished)
		op_smtp_session_finish_message(session);
}

static void
process_bdat(OpSmtpSession *session)
{
	gsize count = (gsize)MIN((guint64)session->input->len, session->bdat_remaining);

	/* A refused chunk is still read to its end so the stream stays in step
	 * with the client (RFC 3030 §2). */
	if (!session->bdat_failed && session->body != NULL)
		g_byte_array_append(session->body, session->input->data, (guint)count);
	consume(session, count);
	session->bdat_remaining -= count;
	if (session->bdat_remaining == 0)
		op_smtp_session_finish_bdat_chunk(session);
}

static gboolean
in_auth_state(OpSmtpSession *session)
{
	return session->state == OP_SMTP_STATE_AUTH_PLAIN ||
	       session->state == OP_SMTP_STATE_AUTH_LOGIN_USER ||
	       session->state == OP_SMTP_STATE_AUTH_LOGIN_PASSWORD;
}

static gsize
max_line_for(OpSmtpSession *session, const guint8 *data, gsize len)
{
	if (in_auth_state(session) || (len >= 5 && g_ascii_strncasecmp((const char *)data, "AUTH ", 5) == 0))
		return OP_SMTP_MAX_AUTH_LINE;
	return OP_SMTP_MAX_COMMAND_LINE;
}

/* Handles one command line. Returns FALSE when more input is needed. */
static gboolean
process_line(OpSmtpSession *session)
{
	const guint8 *data = session->input->data;
	gsize len = session->input->len;
	gsize limit = max_line_for(session, data, len);
	const guint8 *lf = memchr(data, '\n', MIN(len, limit));
	gsize line_len;

	if (session->discarding_line) {
		lf = memchr(data, '\n', len);
		consume(session, lf ? (gsize)(lf - data) + 1 : len);
		session->discarding_line = lf == NULL;
		return lf != NULL;
	}
	if (lf == NULL) {
		if (len < limit)
			return FALSE;
		/* RFC 5321 §4.5.3.1.4: reject the line and skip to its end. An
		 * AUTH exchange ends there too (RFC 4954 §4). */
		session->errors++;
		op_smtp_session_reply(session, "500 5.5.2 Line too long: at most %zu octets", limit);
		session->discarding_line = TRUE;
		if (in_auth_state(session)) {
			session->state = OP_SMTP_STATE_COMMAND;
			g_clear_pointer(&session->login_user, g_free);
		}
		return TRUE;
	}
	line_len = (gsize)(lf - data);
	if (line_len == 0 || data[line_len - 1] != '\r') {
		session->errors++;
		op_smtp_session_reply(session, "500 5.5.2 Syntax error: lines must end with CRLF");
		consume(session, line_len + 1);
		return TRUE;
	}
	{
		g_autofree char *line = g_strndup((const char *)data, line_len - 1);

		consume(session, line_len + 1);
		if (in_auth_state(session))
			op_smtp_session_handle_auth_response(session, line);
		else
			op_smtp_session_handle_line(session, line, line_len - 1);
	}
	return TRUE;
}

void
op_smtp_session_process(OpSmtpSession *session)
{
	while (!session->closed && !session->busy && !session->starttls_pending &&
	       session->state != OP_SMTP_STATE_CLOSING && session->input->len > 0) {
		if (session->errors >= OP_SMTP_MAX_ERRORS) {
			op_smtp_session_shutdown(session, "421 4.7.0 Too many errors, closing");
			return;
		}
		if (session->state == OP_SMTP_STATE_DATA)
			process_data(session);
		else if (session->state == OP_SMTP_STATE_BDAT)
			process_bdat(session);
		else if (!process_line(session))
			break;
	}
	/* RFC 3207 §4.2: anything pipelined after STARTTLS is discarded. */
	if (session->starttls_pending)
		g_byte_array_set_size(session->input, 0);
}

void
op_smtp_session_update_watch(OpSmtpSession *session)
{
	GIOCondition condition = 0;

	if (session->closed)
		return;
	if (session->output->len > 0 || session->want_write)
		condition |= G_IO_OUT;
	if (!session->starttls_pending && session->state != OP_SMTP_STATE_CLOSING &&
	    !(session->busy && session->input->len >= OP_SMTP_INPUT_HIGH_WATER) &&
	    !(session->want_write && session->state == OP_SMTP_STATE_TLS_HANDSHAKE))
		condition |= G_IO_IN;
	if (condition == session->watch_condition && session->watch_id != 0)
		return;
	if (session->watch_id != 0)
		g_source_remove(session->watch_id);
	session->watch_id = 0;
	session->watch_condition = condition;
	if (condition != 0)
		session->watch_id = g_unix_fd_add_full(G_PRIORITY_DEFAULT, session->fd, condition,
						       session_io_cb, op_smtp_session_ref(session),
						       (GDestroyNotify)op_smtp_session_unref);
}

static void
handle_io(OpSmtpSession *session, GIOCondition condition)
{
	session->last_activity = g_get_monotonic_time();
	if (session->state == OP_SMTP_STATE_TLS_HANDSHAKE) {
		drive_handshake(session);
		if (session->closed || session->state == OP_SMTP_STATE_TLS_HANDSHAKE)
			return;
	}
	if (condition & G_IO_OUT)
		op_smtp_session_flush(session);
	if (session->closed)
		return;
	if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
		if (!read_some(session)) {
			op_smtp_session_close(session);
			return;
		}
	}
	op_smtp_session_process(session);
	op_smtp_session_flush(session);
}

static gboolean
session_io_cb(int fd, GIOCondition condition, gpointer user_data)
{
	OpSmtpSession *session = user_data;
	g_autoptr(OpSmtpSession) hold = op_smtp_session_ref(session);

	handle_io(session, condition);
	if (session->closed)
		return G_SOURCE_REMOVE;
	op_smtp_session_update_watch(session);
	return session->watch_id != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void
op_smtp_session_check_timeout(OpSmtpSession *session, gint64 now)
{
	gint64 limit = (gint64)session->context->config->session_timeout * G_USEC_PER_SEC;

	if (session->closed || session->busy || now - session->last_activity < limit)
		return;
	op_session_log(session, G_LOG_LEVEL_INFO, "timeout after %u s of silence from %s",
		       session->context->config->session_timeout, session->remote);
	if (session->state == OP_SMTP_STATE_TLS_HANDSHAKE)
		op_smtp_session_close(session);
	else
		op_smtp_session_shutdown(session, "421 4.4.2 Timeout: closing the connection");
}
