/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SMTP client of the delivery threads. The socket is non-blocking and
 * every wait goes through poll() with a deadline. TLS runs over memory BIOs so
 * that all network I/O stays here: send() with MSG_NOSIGNAL never raises
 * SIGPIPE, and the same deadlines cover the TLS records.
 */
#include "delivery/op-smtp-client.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "delivery/op-smtp-reply.h"
#include "op-error.h"
#include "smtp/op-data-scanner.h"

#define OP_SMTP_CLIENT_BUFFER 4096
/* Plain text handed to TLS at once, so that the encrypted copy stays small. */
#define OP_SMTP_CLIENT_TLS_CHUNK 16384

typedef struct {
	gboolean esmtp;
	gboolean starttls;
	gboolean eightbitmime;
	gboolean smtputf8;
	gboolean size;
	guint64 size_limit; /* 0: no limit announced */
	gboolean auth_plain;
	gboolean auth_login;
} OpSmtpExtensions;

struct _OpSmtpClient {
	char *mx_host;
	char *helo_name;
	char *peer; /* "mx.example.org[192.0.2.1]:25" */
	int fd;
	SSL *ssl;
	BIO *network_in;  /* owned by ssl: octets received, to be decrypted */
	BIO *network_out; /* owned by ssl: encrypted octets to send */
	guint timeout_seconds;
	gboolean usable;
	gboolean need_rset;
	OpSmtpExtensions extensions;
	char input[OP_SMTP_CLIENT_BUFFER];
	gsize input_start;
	gsize input_end;
};

static gint64
op_smtp_client_deadline(OpSmtpClient *client)
{
	return g_get_monotonic_time() + (gint64)client->timeout_seconds * G_USEC_PER_SEC;
}

static gboolean
op_smtp_client_wait(OpSmtpClient *client, short events, gint64 deadline, GError **error)
{
	for (;;) {
		struct pollfd pfd = {.fd = client->fd, .events = events};
		gint64 now = g_get_monotonic_time();
		int rc;

		if (now >= deadline) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
				    "connection to %s timed out after %u seconds", client->peer,
				    client->timeout_seconds);
			return FALSE;
		}
		rc = poll(&pfd, 1, (int)MIN((deadline - now + 999) / 1000, G_MAXINT));
		if (rc > 0)
			return TRUE;
		if (rc < 0 && errno != EINTR) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "poll on %s failed: %s",
				    client->peer, g_strerror(errno));
			return FALSE;
		}
	}
}

/* Sends all of @data; the timeout restarts whenever the peer takes octets. */
static gboolean
op_smtp_client_send_raw(OpSmtpClient *client, const void *data, gsize len, GError **error)
{
	const char *p = data;
	gint64 deadline = op_smtp_client_deadline(client);

	while (len > 0) {
		ssize_t n = send(client->fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (gsize)n;
			deadline = op_smtp_client_deadline(client);
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!op_smtp_client_wait(client, POLLOUT, deadline, error))
				return FALSE;
		} else if (n < 0 && errno != EINTR) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "sending to %s failed: %s",
				    client->peer, g_strerror(errno));
			return FALSE;
		}
	}
	return TRUE;
}

static gssize
op_smtp_client_recv_raw(OpSmtpClient *client, void *buffer, gsize size, gint64 deadline,
			GError **error)
{
	for (;;) {
		ssize_t n = recv(client->fd, buffer, size, 0);

		if (n > 0)
			return n;
		if (n == 0) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
				    "%s closed the connection", client->peer);
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!op_smtp_client_wait(client, POLLIN, deadline, error))
				return -1;
		} else if (errno != EINTR) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
				    "receiving from %s failed: %s", client->peer,
				    g_strerror(errno));
			return -1;
		}
	}
}

static void
op_smtp_client_set_tls_error(OpSmtpClient *client, const char *what, GError **error)
{
	char reason[256] = "unknown error";
	unsigned long code = ERR_get_error();

	if (code != 0)
		ERR_error_string_n(code, reason, sizeof(reason));
	ERR_clear_error();
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "TLS %s with %s failed: %s", what,
		    client->peer, reason);
}

/* Sends the encrypted octets that OpenSSL has queued. */
static gboolean
op_smtp_client_tls_flush(OpSmtpClient *client, GError **error)
{
	char buffer[OP_SMTP_CLIENT_BUFFER];
	int n;

	while ((n = BIO_read(client->network_out, buffer, sizeof(buffer))) > 0) {
		if (!op_smtp_client_send_raw(client, buffer, (gsize)n, error))
			return FALSE;
	}
	return TRUE;
}

/* Receives encrypted octets from the network and hands them to OpenSSL. */
static gboolean
op_smtp_client_tls_fill(OpSmtpClient *client, gint64 deadline, GError **error)
{
	char buffer[OP_SMTP_CLIENT_BUFFER];
	gssize n = op_smtp_client_recv_raw(client, buffer, sizeof(buffer), deadline, error);

	if (n < 0)
		return FALSE;
	if (BIO_write(client->network_in, buffer, (int)n) != (int)n) {
		op_smtp_client_set_tls_error(client, "input", error);
		return FALSE;
	}
	return TRUE;
}

/* Decides what a failed SSL call needs: more input, or nothing (an error). */
static gboolean
op_smtp_client_tls_continue(OpSmtpClient *client, int result, const char *what,
			    gint64 deadline, GError **error)
{
	int reason = SSL_get_error(client->ssl, result);

	if (!op_smtp_client_tls_flush(client, error))
		return FALSE;
	if (reason == SSL_ERROR_WANT_READ)
		return op_smtp_client_tls_fill(client, deadline, error);
	if (reason == SSL_ERROR_WANT_WRITE)
		return TRUE;
	if (reason == SSL_ERROR_ZERO_RETURN) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "%s closed the TLS session",
			    client->peer);
		return FALSE;
	}
	op_smtp_client_set_tls_error(client, what, error);
	return FALSE;
}

static gboolean
op_smtp_client_write(OpSmtpClient *client, const void *data, gsize len, GError **error)
{
	const char *p = data;

	if (client->ssl == NULL)
		return op_smtp_client_send_raw(client, data, len, error);
	while (len > 0) {
		gsize chunk = MIN(len, OP_SMTP_CLIENT_TLS_CHUNK);
		gsize written = 0;
		int result;

		ERR_clear_error();
		result = SSL_write_ex(client->ssl, p, chunk, &written);
		if (result > 0) {
			p += written;
			len -= written;
			if (!op_smtp_client_tls_flush(client, error))
				return FALSE;
		} else if (!op_smtp_client_tls_continue(client, result, "write",
							op_smtp_client_deadline(client), error)) {
			return FALSE;
		}
	}
	return TRUE;
}

static gssize
op_smtp_client_read(OpSmtpClient *client, char *buffer, gsize size, gint64 deadline,
		    GError **error)
{
	if (client->ssl == NULL)
		return op_smtp_client_recv_raw(client, buffer, size, deadline, error);
	for (;;) {
		gsize n = 0;
		int result;

		ERR_clear_error();
		result = SSL_read_ex(client->ssl, buffer, size, &n);
		if (result > 0)
			return (gssize)n;
		if (!op_smtp_client_tls_continue(client, result, "read", deadline, error))
			return -1;
	}
}

/* Reads one CRLF-terminated line into the input buffer. Only CRLF ends a
 * line: a bare CR or LF stays in the line, where the reply parser strips it. */
static gboolean
op_smtp_client_read_line(OpSmtpClient *client, gint64 deadline, const char **line, gsize *len,
			 GError **error)
{
	for (;;) {
		const char *start = client->input + client->input_start;
		gsize pending = client->input_end - client->input_start;
		gssize n;

		for (gsize i = 0; i + 1 < pending; i++) {
			if (start[i] == '\r' && start[i + 1] == '\n') {
				*line = start;
				*len = i;
				client->input_start += i + 2;
				return TRUE;
			}
		}
		if (pending >= OP_SMTP_REPLY_MAX_LINE) {
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
				    "%s sent a reply line longer than %d octets", client->peer,
				    OP_SMTP_REPLY_MAX_LINE);
			return FALSE;
		}
		memmove(client->input, start, pending);
		client->input_start = 0;
		client->input_end = pending;
		n = op_smtp_client_read(client, client->input + pending,
					sizeof(client->input) - pending, deadline, error);
		if (n < 0)
			return FALSE;
		client->input_end += (gsize)n;
	}
}

/* Reads one whole reply. Any failure leaves the connection unusable. */
static gboolean
op_smtp_client_read_reply(OpSmtpClient *client, OpSmtpReply *reply, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autofree char *text = NULL;
	OpSmtpReplyParser parser;
	gint64 deadline = op_smtp_client_deadline(client);
	gboolean complete = FALSE;

	op_smtp_reply_parser_init(&parser);
	while (!complete) {
		const char *line = NULL;
		gsize len = 0;

		if (!op_smtp_client_read_line(client, deadline, &line, &len, &local_error))
			break;
		complete = op_smtp_reply_parser_feed(&parser, line, len, reply, &local_error);
		if (local_error != NULL) {
			g_prefix_error(&local_error, "%s: ", client->peer);
			local_error->code = OP_ERROR_TEMPORARY;
			break;
		}
	}
	op_smtp_reply_parser_clear(&parser);
	if (!complete) {
		client->usable = FALSE;
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	text = op_smtp_reply_to_string(reply);
	g_debug("%s: %s", client->peer, text);
	/* RFC 5321 §3.8: 421 means the server is closing the session. */
	if (reply->code == 421)
		client->usable = FALSE;
	return TRUE;
}

/* Sends one command line; @command must not contain CR or LF. The debug
 * log shows @shown in its place, so that credentials stay out of it. */
static gboolean
op_smtp_client_command_shown(OpSmtpClient *client, const char *command, const char *shown,
			     OpSmtpReply *reply, GError **error)
{
	g_autofree char *line = g_strconcat(command, "\r\n", NULL);
	gboolean written;

	if (strpbrk(command, "\r\n") != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "SMTP command contains a line break");
		return FALSE;
	}
	g_debug("%s: > %s", client->peer, shown);
	written = op_smtp_client_write(client, line, strlen(line), error);
	explicit_bzero(line, strlen(line));
	if (!written) {
		client->usable = FALSE;
		return FALSE;
	}
	return op_smtp_client_read_reply(client, reply, error);
}

static gboolean
op_smtp_client_command(OpSmtpClient *client, const char *command, OpSmtpReply *reply,
		       GError **error)
{
	return op_smtp_client_command_shown(client, command, command, reply, error);
}

static void
op_smtp_client_set_reply_error(OpSmtpClient *client, const char *what,
			       const OpSmtpReply *reply, GError **error)
{
	g_autofree char *text = op_smtp_reply_to_string(reply);

	g_set_error(error, OP_ERROR, reply->code >= 500 ? OP_ERROR_PERMANENT : OP_ERROR_TEMPORARY,
		    "%s %s: %s", client->peer, what, text);
}

/* RFC 1870 §4: "SIZE" alone or with the largest message size in octets. */
static void
op_smtp_client_parse_size(OpSmtpExtensions *extensions, const char *limit)
{
	guint64 value = 0;

	extensions->size = TRUE;
	if (limit != NULL && g_ascii_string_to_unsigned(limit, 10, 0, G_MAXUINT64, &value, NULL))
		extensions->size_limit = value;
}

/* RFC 4954 §3: "AUTH" followed by the SASL mechanisms, separated by spaces. */
static void
op_smtp_client_parse_auth(OpSmtpExtensions *extensions, const char *line)
{
	g_auto(GStrv) words = g_strsplit(line, " ", -1);

	for (guint i = 1; words[i] != NULL; i++) {
		if (g_ascii_strcasecmp(words[i], "PLAIN") == 0)
			extensions->auth_plain = TRUE;
		else if (g_ascii_strcasecmp(words[i], "LOGIN") == 0)
			extensions->auth_login = TRUE;
	}
}

static void
op_smtp_client_parse_extensions(OpSmtpClient *client, const OpSmtpReply *reply)
{
	OpSmtpExtensions *extensions = &client->extensions;

	memset(extensions, 0, sizeof(*extensions));
	extensions->esmtp = TRUE;
	/* The first line greets; each further line is a keyword and its
	 * parameters (RFC 5321 §4.1.1.1). */
	for (guint i = 1; reply->lines[i] != NULL; i++) {
		g_auto(GStrv) words = g_strsplit(reply->lines[i], " ", 3);
		const char *keyword = words[0];

		if (keyword == NULL)
			continue;
		if (g_ascii_strcasecmp(keyword, "STARTTLS") == 0)
			extensions->starttls = TRUE;
		else if (g_ascii_strcasecmp(keyword, "8BITMIME") == 0)
			extensions->eightbitmime = TRUE;
		else if (g_ascii_strcasecmp(keyword, "SMTPUTF8") == 0)
			extensions->smtputf8 = TRUE;
		else if (g_ascii_strcasecmp(keyword, "SIZE") == 0)
			op_smtp_client_parse_size(extensions, words[1]);
		else if (g_ascii_strcasecmp(keyword, "AUTH") == 0)
			op_smtp_client_parse_auth(extensions, reply->lines[i]);
	}
}

static gboolean
op_smtp_client_hello(OpSmtpClient *client, GError **error)
{
	g_auto(OpSmtpReply) reply = {0};
	g_autofree char *ehlo = g_strdup_printf("EHLO %s", client->helo_name);
	g_autofree char *helo = g_strdup_printf("HELO %s", client->helo_name);

	if (!op_smtp_client_command(client, ehlo, &reply, error))
		return FALSE;
	if (reply.code / 100 == 2) {
		op_smtp_client_parse_extensions(client, &reply);
		return TRUE;
	}
	if (reply.code / 100 != 5 || reply.code == 421) {
		op_smtp_client_set_reply_error(client, "rejected EHLO", &reply, error);
		return FALSE;
	}

	/* A server that does not know EHLO still speaks plain SMTP (RFC 5321 §3.2). */
	op_smtp_reply_clear(&reply);
	if (!op_smtp_client_command(client, helo, &reply, error))
		return FALSE;
	if (reply.code / 100 != 2) {
		op_smtp_client_set_reply_error(client, "rejected HELO", &reply, error);
		return FALSE;
	}
	memset(&client->extensions, 0, sizeof(client->extensions));
	return TRUE;
}

static SSL_CTX *
op_smtp_client_tls_context(GError **error)
{
	static gsize initialized = 0;
	static SSL_CTX *context = NULL;

	/* One context for all threads: OpenSSL 3 allows concurrent SSL_new()
	 * on a context that is no longer changed. */
	if (g_once_init_enter(&initialized)) {
		SSL_CTX *created = SSL_CTX_new(TLS_client_method());

		if (created != NULL) {
			SSL_CTX_set_min_proto_version(created, TLS1_2_VERSION);
			SSL_CTX_set_verify(created, SSL_VERIFY_NONE, NULL);
			SSL_CTX_set_options(created,
					    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
		}
		context = created;
		g_once_init_leave(&initialized, 1);
	}
	if (context == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "cannot create the TLS client context");
	return context;
}

static gboolean
op_smtp_client_tls_setup(OpSmtpClient *client, SSL_CTX *context, GError **error)
{
	BIO *in;
	BIO *out;

	client->ssl = SSL_new(context);
	if (client->ssl == NULL) {
		op_smtp_client_set_tls_error(client, "setup", error);
		return FALSE;
	}
	in = BIO_new(BIO_s_mem());
	out = BIO_new(BIO_s_mem());
	if (in == NULL || out == NULL) {
		BIO_free(in);
		BIO_free(out);
		op_smtp_client_set_tls_error(client, "setup", error);
		return FALSE;
	}
	/* An empty input BIO means "wait for more", not end of stream. */
	BIO_set_mem_eof_return(in, -1);
	SSL_set_bio(client->ssl, in, out);
	client->network_in = in;
	client->network_out = out;
	SSL_set_connect_state(client->ssl);
	if (client->mx_host[0] != '\0' && !g_hostname_is_ip_address(client->mx_host))
		SSL_set_tlsext_host_name(client->ssl, client->mx_host);
	return TRUE;
}

/* Makes the handshake check that the certificate names the host: its DNS
 * name, or its address when the host is an IP literal (RFC 6125 §6). */
static gboolean
op_smtp_client_expect_name(OpSmtpClient *client, GError **error)
{
	int ok;

	if (g_hostname_is_ip_address(client->mx_host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client->ssl), client->mx_host);
	else
		ok = SSL_set1_host(client->ssl, client->mx_host);
	if (ok != 1) {
		op_smtp_client_set_tls_error(client, "setup", error);
		return FALSE;
	}
	return TRUE;
}

/* Replaces the error of a failed handshake with the reason the certificate
 * was not accepted, when that was the cause. */
static void
op_smtp_client_set_verify_error(OpSmtpClient *client, GError **error)
{
	long result = SSL_get_verify_result(client->ssl);

	if (result == X509_V_OK || error == NULL || *error == NULL)
		return;
	g_clear_error(error);
	g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
		    "the TLS certificate of %s is not trusted: %s", client->peer,
		    X509_verify_cert_error_string(result));
}

/* Runs the TLS handshake. With @verify, the certificate must chain to the
 * context's trust store and name the host. */
static gboolean
op_smtp_client_handshake(OpSmtpClient *client, SSL_CTX *context, gboolean verify,
			 GError **error)
{
	gint64 deadline = op_smtp_client_deadline(client);

	if (!op_smtp_client_tls_setup(client, context, error))
		return FALSE;
	if (verify && !op_smtp_client_expect_name(client, error))
		return FALSE;
	for (;;) {
		int result;

		ERR_clear_error();
		result = SSL_do_handshake(client->ssl);
		if (result == 1)
			break;
		if (!op_smtp_client_tls_continue(client, result, "handshake", deadline, error)) {
			if (verify)
				op_smtp_client_set_verify_error(client, error);
			return FALSE;
		}
	}
	g_debug("%s: %s with %s", client->peer, SSL_get_version(client->ssl),
		SSL_get_cipher_name(client->ssl));
	return op_smtp_client_tls_flush(client, error);
}

static gboolean
op_smtp_client_starttls(OpSmtpClient *client, gboolean *handshake_failed, GError **error)
{
	g_auto(OpSmtpReply) reply = {0};
	SSL_CTX *context = op_smtp_client_tls_context(error);

	if (context == NULL)
		return FALSE;
	if (!op_smtp_client_command(client, "STARTTLS", &reply, error))
		return FALSE;
	if (reply.code == 421) {
		op_smtp_client_set_reply_error(client, "rejected STARTTLS", &reply, error);
		return FALSE;
	}
	if (reply.code != 220) {
		/* Opportunistic TLS: go on without it (RFC 3207 §4.1). */
		g_debug("%s: STARTTLS refused with %u, going on without TLS", client->peer,
			reply.code);
		return TRUE;
	}

	/* Octets that came after the 220 were sent before TLS began. Reading
	 * them later as if they came over TLS would let an attacker on the path
	 * inject replies, so they are dropped. */
	client->input_start = client->input_end = 0;
	if (!op_smtp_client_handshake(client, context, FALSE, error)) {
		client->usable = FALSE;
		*handshake_failed = TRUE;
		return FALSE;
	}
	/* RFC 3207 §4.2: discard the extensions from before TLS and send EHLO again. */
	return op_smtp_client_hello(client, error);
}

static gboolean
op_smtp_client_open(OpSmtpClient *client, GInetAddress *address, guint port, GError **error)
{
	g_autoptr(GSocketAddress) target = g_inet_socket_address_new(address, (guint16)port);
	struct sockaddr_storage native;
	gssize size = g_socket_address_get_native_size(target);
	int so_error = 0;
	socklen_t so_length = sizeof(so_error);

	if (size <= 0 || !g_socket_address_to_native(target, &native, sizeof(native), error))
		return FALSE;
	client->fd = socket(native.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (client->fd < 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "cannot create a socket for %s: %s", client->peer, g_strerror(errno));
		return FALSE;
	}
	if (connect(client->fd, (struct sockaddr *)&native, (socklen_t)size) == 0)
		return TRUE;
	if (errno != EINPROGRESS && errno != EINTR) {
		so_error = errno;
	} else {
		if (!op_smtp_client_wait(client, POLLOUT, op_smtp_client_deadline(client), error))
			return FALSE;
		if (getsockopt(client->fd, SOL_SOCKET, SO_ERROR, &so_error, &so_length) != 0)
			so_error = errno;
	}
	if (so_error != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "connect to %s failed: %s",
			    client->peer, g_strerror(so_error));
		return FALSE;
	}
	return TRUE;
}

static void
op_smtp_client_close(OpSmtpClient *client, gboolean notify)
{
	if (client->ssl != NULL) {
		/* close_notify is courtesy: a failure to send it changes nothing. */
		if (notify && SSL_shutdown(client->ssl) >= 0)
			op_smtp_client_tls_flush(client, NULL);
		SSL_free(client->ssl);
		client->ssl = NULL;
		client->network_in = NULL;
		client->network_out = NULL;
	}
	if (client->fd >= 0) {
		close(client->fd);
		client->fd = -1;
	}
	client->usable = FALSE;
}

static OpSmtpClient *
op_smtp_client_new(const char *mx_host, GInetAddress *address, guint port,
		   const char *helo_name, guint timeout_seconds)
{
	OpSmtpClient *client = g_new0(OpSmtpClient, 1);
	g_autofree char *address_text = g_inet_address_to_string(address);

	client->fd = -1;
	client->mx_host = g_strdup(mx_host);
	client->helo_name = g_strdup(helo_name);
	client->timeout_seconds = MAX(timeout_seconds, 1);
	client->peer = g_strdup_printf("%s[%s]:%u", mx_host, address_text, port);
	client->usable = TRUE;
	return client;
}

/* Reads the greeting and sends EHLO (or HELO). On failure the session is
 * closed. */
static gboolean
op_smtp_client_greet(OpSmtpClient *client, GError **error)
{
	g_auto(OpSmtpReply) greeting = {0};

	if (!op_smtp_client_read_reply(client, &greeting, error))
		return FALSE;
	if (greeting.code / 100 != 2) {
		op_smtp_client_set_reply_error(client, "rejected the connection", &greeting,
					       error);
		op_smtp_client_quit(client);
		return FALSE;
	}
	if (!op_smtp_client_hello(client, error)) {
		op_smtp_client_quit(client);
		return FALSE;
	}
	return TRUE;
}

/* Opens one session. With @use_tls FALSE, STARTTLS is not tried even when
 * offered. *handshake_failed is set when the TLS handshake failed, because a
 * plain-text session may then work. */
static OpSmtpClient *
op_smtp_client_open_session(const char *mx_host, GInetAddress *address, guint port,
			    const char *helo_name, guint timeout_seconds, gboolean use_tls,
			    gboolean *handshake_failed, GError **error)
{
	g_autoptr(OpSmtpClient) client = op_smtp_client_new(mx_host, address, port, helo_name,
							    timeout_seconds);

	if (!op_smtp_client_open(client, address, port, error))
		return NULL;
	if (!op_smtp_client_greet(client, error))
		return NULL;
	if (use_tls && client->extensions.starttls &&
	    !op_smtp_client_starttls(client, handshake_failed, error))
		return NULL;
	return g_steal_pointer(&client);
}

OpSmtpClient *
op_smtp_client_connect(const char *mx_host, GInetAddress *address, guint port,
		       const char *helo_name, guint timeout_seconds, GError **error)
{
	g_autoptr(GError) tls_error = NULL;
	gboolean handshake_failed = FALSE;
	OpSmtpClient *client;

	g_return_val_if_fail(mx_host != NULL, NULL);
	g_return_val_if_fail(G_IS_INET_ADDRESS(address), NULL);
	g_return_val_if_fail(port > 0 && port <= 65535, NULL);
	g_return_val_if_fail(helo_name != NULL, NULL);

	client = op_smtp_client_open_session(mx_host, address, port, helo_name, timeout_seconds,
					     TRUE, &handshake_failed, &tls_error);
	if (client != NULL || !handshake_failed) {
		if (tls_error != NULL)
			g_propagate_error(error, g_steal_pointer(&tls_error));
		return client;
	}
	/* Opportunistic TLS protects only against passive listeners, and an
	 * active attacker can strip STARTTLS anyway. So a server whose TLS is
	 * broken gets the mail in plain text rather than never (as Postfix does
	 * at security level "may"). */
	g_debug("%s; trying again without TLS", tls_error->message);
	return op_smtp_client_open_session(mx_host, address, port, helo_name, timeout_seconds,
					   FALSE, NULL, error);
}

/* ---- Smarthost relay ------------------------------------------------------- */

/* A context of its own per connection, because the CA file may change at a
 * reload. Unlike MX delivery, the relay's certificate is verified. */
static SSL_CTX *
op_smtp_client_relay_context(const char *ca_file, GError **error)
{
	SSL_CTX *context = SSL_CTX_new(TLS_client_method());
	char reason[256] = "unknown error";
	gboolean own_file = ca_file != NULL && *ca_file != '\0';
	int loaded;

	if (context == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "cannot create the TLS client context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
	SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
	ERR_clear_error();
	loaded = own_file ? SSL_CTX_load_verify_locations(context, ca_file, NULL)
			  : SSL_CTX_set_default_verify_paths(context);
	if (loaded != 1) {
		unsigned long code = ERR_get_error();

		if (code != 0)
			ERR_error_string_n(code, reason, sizeof(reason));
		ERR_clear_error();
		SSL_CTX_free(context);
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "loading the CA certificates for the smarthost from %s failed: %s",
			    own_file ? ca_file : "the system trust store", reason);
		return NULL;
	}
	return context;
}

/* RFC 3207 without the fallback: a relay that lacks STARTTLS or fails the
 * handshake gets nothing, because the login and the mail would go in plain
 * text to a host whose identity nothing proved. */
static gboolean
op_smtp_client_relay_starttls(OpSmtpClient *client, SSL_CTX *context, GError **error)
{
	g_auto(OpSmtpReply) reply = {0};

	if (!client->extensions.starttls) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s does not offer STARTTLS, and mail goes to a "
			    "smarthost only over TLS",
			    client->peer);
		return FALSE;
	}
	if (!op_smtp_client_command(client, "STARTTLS", &reply, error))
		return FALSE;
	if (reply.code != 220) {
		g_autofree char *text = op_smtp_reply_to_string(&reply);

		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s rejected STARTTLS: %s", client->peer, text);
		return FALSE;
	}
	/* As in op_smtp_client_starttls: octets sent before TLS are dropped. */
	client->input_start = client->input_end = 0;
	if (!op_smtp_client_handshake(client, context, TRUE, error)) {
		client->usable = FALSE;
		return FALSE;
	}
	/* RFC 3207 §4.2: the extensions, AUTH among them, are asked for again. */
	return op_smtp_client_hello(client, error);
}

static char *
op_smtp_client_encode(const char *text, gsize len)
{
	return g_base64_encode((const guchar *)text, len);
}

/* RFC 4616 §2: the initial response is "" NUL user NUL password, in base64
 * (RFC 4954 §4). */
static gboolean
op_smtp_client_auth_plain(OpSmtpClient *client, const char *user, const char *password,
			  OpSmtpReply *reply, GError **error)
{
	gsize user_len = strlen(user);
	gsize password_len = strlen(password);
	gsize len = user_len + password_len + 2;
	g_autofree char *token = g_malloc(len);
	g_autofree char *encoded = NULL;
	g_autofree char *command = NULL;
	gboolean sent;

	token[0] = '\0';
	memcpy(token + 1, user, user_len);
	token[1 + user_len] = '\0';
	memcpy(token + 2 + user_len, password, password_len);
	encoded = op_smtp_client_encode(token, len);
	explicit_bzero(token, len);
	command = g_strconcat("AUTH PLAIN ", encoded, NULL);
	explicit_bzero(encoded, strlen(encoded));
	sent = op_smtp_client_command_shown(client, command, "AUTH PLAIN (credentials hidden)",
					    reply, error);
	explicit_bzero(command, strlen(command));
	return sent;
}

/* The LOGIN mechanism (draft-murchison-sasl-login): the user name and then
 * the password, each in base64 after a 334 challenge. */
static gboolean
op_smtp_client_auth_login(OpSmtpClient *client, const char *user, const char *password,
			  OpSmtpReply *reply, GError **error)
{
	g_autofree char *encoded_user = op_smtp_client_encode(user, strlen(user));
	g_autofree char *encoded_password = op_smtp_client_encode(password, strlen(password));
	gboolean sent;

	if (!op_smtp_client_command(client, "AUTH LOGIN", reply, error))
		return FALSE;
	if (reply->code != 334)
		return TRUE;
	op_smtp_reply_clear(reply);
	if (!op_smtp_client_command_shown(client, encoded_user, "(user name hidden)", reply,
					  error))
		return FALSE;
	if (reply->code != 334)
		return TRUE;
	op_smtp_reply_clear(reply);
	sent = op_smtp_client_command_shown(client, encoded_password, "(password hidden)", reply,
					    error);
	explicit_bzero(encoded_password, strlen(encoded_password));
	return sent;
}

/* Logs in with PLAIN, or LOGIN when the relay offers only that. Every
 * failure is temporary: a wrong password must not bounce the mail. */
static gboolean
op_smtp_client_authenticate(OpSmtpClient *client, const char *user, const char *password,
			    GError **error)
{
	g_auto(OpSmtpReply) reply = {0};
	g_autofree char *text = NULL;
	gboolean sent;

	if (client->extensions.auth_plain) {
		sent = op_smtp_client_auth_plain(client, user, password, &reply, error);
	} else if (client->extensions.auth_login) {
		sent = op_smtp_client_auth_login(client, user, password, &reply, error);
	} else {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s offers neither AUTH PLAIN nor AUTH LOGIN, so "
			    "smarthost-user cannot log in",
			    client->peer);
		return FALSE;
	}
	if (!sent)
		return FALSE;
	if (reply.code == 235)
		return TRUE;
	text = op_smtp_reply_to_string(&reply);
	/* RFC 4954 §6: 535 means the credentials are invalid. */
	if (reply.code == 535)
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s refused the login (%s): check smarthost-user and "
			    "smarthost-password",
			    client->peer, text);
	else
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s rejected AUTH: %s", client->peer, text);
	return FALSE;
}

static gboolean
op_smtp_client_relay_session(OpSmtpClient *client, GInetAddress *address, guint port,
			     SSL_CTX *context, const OpSmtpRelayOptions *options,
			     GError **error)
{
	if (!op_smtp_client_open(client, address, port, error))
		return FALSE;
	if (options->implicit_tls && !op_smtp_client_handshake(client, context, TRUE, error)) {
		client->usable = FALSE;
		return FALSE;
	}
	if (!op_smtp_client_greet(client, error))
		return FALSE;
	if (!options->implicit_tls && !op_smtp_client_relay_starttls(client, context, error))
		return FALSE;
	if (options->user == NULL || *options->user == '\0')
		return TRUE;
	return op_smtp_client_authenticate(client, options->user,
					   options->password ? options->password : "", error);
}

OpSmtpClient *
op_smtp_client_connect_relay(const char *host, GInetAddress *address, guint port,
			     const char *helo_name, guint timeout_seconds,
			     const OpSmtpRelayOptions *options, GError **error)
{
	g_autoptr(OpSmtpClient) client = NULL;
	SSL_CTX *context;
	gboolean ok;

	g_return_val_if_fail(host != NULL, NULL);
	g_return_val_if_fail(G_IS_INET_ADDRESS(address), NULL);
	g_return_val_if_fail(port > 0 && port <= 65535, NULL);
	g_return_val_if_fail(helo_name != NULL, NULL);
	g_return_val_if_fail(options != NULL, NULL);

	context = op_smtp_client_relay_context(options->ca_file, error);
	if (context == NULL)
		return NULL;
	client = op_smtp_client_new(host, address, port, helo_name, timeout_seconds);
	ok = op_smtp_client_relay_session(client, address, port, context, options, error);
	/* The session's SSL object holds its own reference to the context. */
	SSL_CTX_free(context);
	if (!ok) {
		op_smtp_client_quit(client);
		return NULL;
	}
	return g_steal_pointer(&client);
}

void
op_smtp_client_quit(OpSmtpClient *client)
{
	g_auto(OpSmtpReply) reply = {0};

	if (client == NULL || client->fd < 0)
		return;
	/* The reply to QUIT changes nothing, so a failure is ignored. */
	if (client->usable)
		op_smtp_client_command(client, "QUIT", &reply, NULL);
	op_smtp_client_close(client, TRUE);
}

void
op_smtp_client_free(OpSmtpClient *client)
{
	if (client == NULL)
		return;
	op_smtp_client_close(client, FALSE);
	g_free(client->mx_host);
	g_free(client->helo_name);
	g_free(client->peer);
	g_free(client);
}

gboolean
op_smtp_client_is_usable(OpSmtpClient *client)
{
	g_return_val_if_fail(client != NULL, FALSE);
	return client->usable;
}

gboolean
op_smtp_client_get_tls(OpSmtpClient *client)
{
	g_return_val_if_fail(client != NULL, FALSE);
	return client->ssl != NULL;
}

/* One message on the wire. A recipient is pending until it has a final
 * status; it is accepted once its RCPT got a 2xx. */
typedef struct {
	OpSmtpClient *client;
	OpDeliveryOutcome *outcome;
	gboolean *pending;
	gboolean *accepted;
	guint n_accepted;
	gboolean utf8;	  /* some address is not ASCII */
	gboolean eightbit; /* the message has octets above 127 */
} OpSmtpTransaction;

static void
op_recipient_result_free(OpRecipientResult *result)
{
	g_free(result->recipient);
	g_free(result->enhanced);
	g_free(result->text);
	g_free(result);
}

void
op_delivery_outcome_clear(OpDeliveryOutcome *outcome)
{
	g_clear_pointer(&outcome->reply, g_free);
	g_clear_pointer(&outcome->recipients, g_ptr_array_unref);
	outcome->status = OP_DELIVERY_OK;
	outcome->tls = FALSE;
}

static OpRecipientResult *
op_smtp_transaction_result(OpSmtpTransaction *tx, guint index)
{
	return g_ptr_array_index(tx->outcome->recipients, index);
}

/* Gives recipient @index its final status. */
static void
op_smtp_transaction_decide(OpSmtpTransaction *tx, guint index, OpDeliveryStatus status,
			   guint code, const char *enhanced, const char *text)
{
	OpRecipientResult *result = op_smtp_transaction_result(tx, index);

	result->status = status;
	result->code = code;
	g_free(result->enhanced);
	result->enhanced = g_strdup(enhanced);
	g_free(result->text);
	result->text = g_strdup(text);
	tx->pending[index] = FALSE;
}

static void
op_smtp_transaction_decide_reply(OpSmtpTransaction *tx, guint index, const OpSmtpReply *reply)
{
	OpDeliveryStatus status = OP_DELIVERY_TEMPORARY;
	const char *enhanced = reply->enhanced;
	const char *fallback = "4.0.0";

	/* A 3xx where none belongs counts as temporary. Without an enhanced
	 * code from the server, the class alone is used (RFC 3463 §3.1). */
	if (reply->code / 100 == 2) {
		status = OP_DELIVERY_OK;
		fallback = "2.0.0";
	} else if (reply->code / 100 == 5) {
		status = OP_DELIVERY_PERMANENT;
		fallback = "5.0.0";
	}
	if (enhanced[0] == '\0')
		enhanced = fallback;
	op_smtp_transaction_decide(tx, index, status, reply->code, enhanced, reply->text);
}

/* Gives every pending recipient the status of @reply, and remembers it as
 * the outcome's reply. */
static void
op_smtp_transaction_decide_all(OpSmtpTransaction *tx, const OpSmtpReply *reply)
{
	for (guint i = 0; i < tx->outcome->recipients->len; i++) {
		if (tx->pending[i])
			op_smtp_transaction_decide_reply(tx, i, reply);
	}
	g_free(tx->outcome->reply);
	tx->outcome->reply = op_smtp_reply_to_string(reply);
}

/* Gives every pending recipient a status decided here, not by the server. */
static void
op_smtp_transaction_fail_all(OpSmtpTransaction *tx, OpDeliveryStatus status,
			     const char *enhanced, const char *text)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < tx->outcome->recipients->len; i++) {
		if (tx->pending[i]) {
			op_smtp_transaction_decide(tx, i, status, 0, enhanced, text);
			changed = TRUE;
		}
	}
	if (changed) {
		g_free(tx->outcome->reply);
		tx->outcome->reply = g_strdup_printf("%s %s", enhanced, text);
	}
}

static guint
op_smtp_transaction_count_pending(OpSmtpTransaction *tx)
{
	guint count = 0;

	for (guint i = 0; i < tx->outcome->recipients->len; i++)
		count += tx->pending[i] ? 1 : 0;
	return count;
}

static gboolean
op_smtp_has_control(const char *text)
{
	for (const guchar *p = (const guchar *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return TRUE;
	}
	return FALSE;
}

static gboolean
op_smtp_has_eightbit(GBytes *message)
{
	gsize len = 0;
	const guchar *data = g_bytes_get_data(message, &len);

	for (gsize i = 0; i < len; i++) {
		if (data[i] >= 0x80)
			return TRUE;
	}
	return FALSE;
}

/* Decides locally what must not reach the server: addresses that could break
 * the command line, a message over the announced SIZE (RFC 1870 §6.1), and
 * non-ASCII addresses for a server without SMTPUTF8 (RFC 6531 §3.2). */
static void
op_smtp_transaction_check(OpSmtpTransaction *tx, const char *sender, GBytes *message)
{
	const OpSmtpExtensions *extensions = &tx->client->extensions;
	gsize size = g_bytes_get_size(message);
	g_autofree char *no_utf8 = g_strdup_printf(
		"the address is not ASCII and %s does not offer SMTPUTF8", tx->client->mx_host);

	if (op_smtp_has_control(sender)) {
		op_smtp_transaction_fail_all(tx, OP_DELIVERY_PERMANENT, "5.1.7",
					     "the sender address contains control characters");
		return;
	}
	if (extensions->size_limit > 0 && size > extensions->size_limit) {
		g_autofree char *text = g_strdup_printf(
			"the message size of %zu octets exceeds the limit of %" G_GUINT64_FORMAT
			" octets of %s",
			size, extensions->size_limit, tx->client->mx_host);

		op_smtp_transaction_fail_all(tx, OP_DELIVERY_PERMANENT, "5.3.4", text);
		return;
	}
	tx->utf8 = !g_str_is_ascii(sender);
	if (tx->utf8 && !extensions->smtputf8) {
		op_smtp_transaction_fail_all(tx, OP_DELIVERY_PERMANENT, "5.6.7", no_utf8);
		return;
	}
	for (guint i = 0; i < tx->outcome->recipients->len; i++) {
		const char *recipient = op_smtp_transaction_result(tx, i)->recipient;

		if (recipient[0] == '\0' || op_smtp_has_control(recipient))
			op_smtp_transaction_decide(
				tx, i, OP_DELIVERY_PERMANENT, 0, "5.1.3",
				"the recipient address is empty or contains control characters");
		else if (!g_str_is_ascii(recipient) && !extensions->smtputf8)
			op_smtp_transaction_decide(tx, i, OP_DELIVERY_PERMANENT, 0, "5.6.7",
						   no_utf8);
		else if (!g_str_is_ascii(recipient))
			tx->utf8 = TRUE;
	}
}

/* Handles a 421 to any command: the server ends the session (RFC 5321 §3.8),
 * so every pending recipient gets the 421 and the connection is given up. */
static gboolean
op_smtp_transaction_closed(OpSmtpTransaction *tx, const OpSmtpReply *reply, GError **error)
{
	op_smtp_transaction_decide_all(tx, reply);
	op_smtp_client_set_reply_error(tx->client, "closed the session", reply, error);
	return FALSE;
}

static gboolean
op_smtp_transaction_mail(OpSmtpTransaction *tx, const char *sender, GBytes *message,
			 GError **error)
{
	const OpSmtpExtensions *extensions = &tx->client->extensions;
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GString) command = g_string_new(NULL);

	g_string_printf(command, "MAIL FROM:<%s>", sender);
	if (extensions->size)
		g_string_append_printf(command, " SIZE=%zu", g_bytes_get_size(message));
	/* NOTE: 8-bit content goes out as it is when the server lacks 8BITMIME,
	 * as most MTAs do. The conversion to 7 bits of RFC 6152 §3 is not done. */
	if (tx->eightbit && extensions->eightbitmime)
		g_string_append(command, " BODY=8BITMIME");
	if (tx->utf8)
		g_string_append(command, " SMTPUTF8");

	if (!op_smtp_client_command(tx->client, command->str, &reply, error))
		return FALSE;
	if (reply.code == 421)
		return op_smtp_transaction_closed(tx, &reply, error);
	if (reply.code / 100 != 2)
		op_smtp_transaction_decide_all(tx, &reply);
	return TRUE;
}

static gboolean
op_smtp_transaction_rcpt(OpSmtpTransaction *tx, GError **error)
{
	for (guint i = 0; i < tx->outcome->recipients->len; i++) {
		g_auto(OpSmtpReply) reply = {0};
		g_autofree char *command = NULL;
		const char *recipient;

		if (!tx->pending[i])
			continue;
		recipient = op_smtp_transaction_result(tx, i)->recipient;
		command = g_strdup_printf("RCPT TO:<%s>", recipient);
		if (!op_smtp_client_command(tx->client, command, &reply, error))
			return FALSE;
		if (reply.code == 421)
			return op_smtp_transaction_closed(tx, &reply, error);
		if (reply.code / 100 == 2) {
			tx->accepted[i] = TRUE;
			tx->n_accepted++;
			continue;
		}
		/* A rejection of one recipient concerns that recipient only. */
		op_smtp_transaction_decide_reply(tx, i, &reply);
		g_free(tx->outcome->reply);
		tx->outcome->reply = op_smtp_reply_to_string(&reply);
	}
	return TRUE;
}

static gboolean
op_smtp_transaction_data(OpSmtpTransaction *tx, GBytes *message, GError **error)
{
	OpSmtpClient *client = tx->client;
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GBytes) stuffed = NULL;
	const void *data;
	gsize len = 0;

	if (!op_smtp_client_command(client, "DATA", &reply, error))
		return FALSE;
	if (reply.code == 421)
		return op_smtp_transaction_closed(tx, &reply, error);
	if (reply.code != 354) {
		op_smtp_transaction_decide_all(tx, &reply);
		return TRUE;
	}
	op_smtp_reply_clear(&reply);

	/* op_data_stuff() also turns any bare CR or LF into CRLF and appends
	 * the final ".\r\n", so only CRLF line ends go out (RFC 5321 §2.3.8). */
	stuffed = op_data_stuff(message);
	data = g_bytes_get_data(stuffed, &len);
	if (!op_smtp_client_write(client, data, len, error)) {
		client->usable = FALSE;
		return FALSE;
	}
	if (!op_smtp_client_read_reply(client, &reply, error)) {
		g_prefix_error(error,
			       "no reply to the end of the message, so it may arrive twice: ");
		return FALSE;
	}
	/* After the reply to the final dot the transaction is over, whatever the
	 * code (RFC 5321 §4.1.1.4). */
	client->need_rset = FALSE;
	if (reply.code == 421)
		return op_smtp_transaction_closed(tx, &reply, error);
	op_smtp_transaction_decide_all(tx, &reply);
	return TRUE;
}

static gboolean
op_smtp_client_rset(OpSmtpClient *client, GError **error)
{
	g_auto(OpSmtpReply) reply = {0};

	if (!op_smtp_client_command(client, "RSET", &reply, error))
		return FALSE;
	if (reply.code / 100 != 2) {
		g_autofree char *text = op_smtp_reply_to_string(&reply);

		/* A server that cannot reset is not safe to send more to. */
		client->usable = FALSE;
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "%s rejected RSET: %s",
			    client->peer, text);
		return FALSE;
	}
	client->need_rset = FALSE;
	return TRUE;
}

static gboolean
op_smtp_transaction_run(OpSmtpTransaction *tx, const char *sender, GBytes *message,
			GError **error)
{
	OpSmtpClient *client = tx->client;

	if (!client->usable) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the connection to %s is no longer usable", client->peer);
		return FALSE;
	}
	op_smtp_transaction_check(tx, sender, message);
	if (op_smtp_transaction_count_pending(tx) == 0)
		return TRUE;
	if (client->need_rset && !op_smtp_client_rset(client, error))
		return FALSE;

	/* Until the reply to the final dot, the next message needs an RSET. */
	client->need_rset = TRUE;
	if (!op_smtp_transaction_mail(tx, sender, message, error))
		return FALSE;
	if (op_smtp_transaction_count_pending(tx) == 0)
		return TRUE;
	if (!op_smtp_transaction_rcpt(tx, error))
		return FALSE;
	if (tx->n_accepted == 0)
		return TRUE;
	return op_smtp_transaction_data(tx, message, error);
}

static void
op_smtp_transaction_init(OpSmtpTransaction *tx, OpSmtpClient *client,
			 const char *const *recipients, GBytes *message,
			 OpDeliveryOutcome *outcome)
{
	guint n = g_strv_length((char **)recipients);

	memset(outcome, 0, sizeof(*outcome));
	outcome->recipients = g_ptr_array_new_full(n, (GDestroyNotify)op_recipient_result_free);
	for (guint i = 0; i < n; i++) {
		OpRecipientResult *result = g_new0(OpRecipientResult, 1);

		result->recipient = g_strdup(recipients[i]);
		result->status = OP_DELIVERY_TEMPORARY;
		result->enhanced = g_strdup("4.0.0");
		result->text = g_strdup("not attempted");
		g_ptr_array_add(outcome->recipients, result);
	}
	memset(tx, 0, sizeof(*tx));
	tx->client = client;
	tx->outcome = outcome;
	tx->pending = g_new(gboolean, MAX(n, 1));
	for (guint i = 0; i < n; i++)
		tx->pending[i] = TRUE;
	tx->accepted = g_new0(gboolean, MAX(n, 1));
	tx->eightbit = op_smtp_has_eightbit(message);
}

gboolean
op_smtp_client_send(OpSmtpClient *client, const char *sender, const char *const *recipients,
		    GBytes *message, OpDeliveryOutcome *outcome, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	OpSmtpTransaction tx;
	gboolean ok;

	g_return_val_if_fail(client != NULL, FALSE);
	g_return_val_if_fail(sender != NULL, FALSE);
	g_return_val_if_fail(recipients != NULL && recipients[0] != NULL, FALSE);
	g_return_val_if_fail(message != NULL, FALSE);
	g_return_val_if_fail(outcome != NULL, FALSE);

	op_smtp_transaction_init(&tx, client, recipients, message, outcome);
	ok = op_smtp_transaction_run(&tx, sender, message, &local_error);
	if (!ok) {
		/* Whatever has no final status yet is retried later: it may
		 * have arrived, but a duplicate is better than a loss. */
		client->usable = FALSE;
		op_smtp_transaction_fail_all(&tx, OP_DELIVERY_TEMPORARY, "4.4.2",
					     local_error->message);
	}
	for (guint i = 0; i < outcome->recipients->len; i++)
		outcome->status = MAX(outcome->status, op_smtp_transaction_result(&tx, i)->status);
	outcome->tls = client->ssl != NULL;
	g_free(tx.pending);
	g_free(tx.accepted);

	if (!ok) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	return TRUE;
}
