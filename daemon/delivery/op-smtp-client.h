/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A blocking SMTP client for the delivery threads (RFC 5321) with
 * opportunistic STARTTLS (RFC 3207), SIZE, 8BITMIME and SMTPUTF8, and for
 * smarthosts verified TLS and AUTH (RFC 4954). Every read and write has a
 * timeout; one connection may carry several messages.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OpSmtpClient OpSmtpClient;

typedef enum {
	OP_DELIVERY_OK,
	OP_DELIVERY_TEMPORARY,
	OP_DELIVERY_PERMANENT
} OpDeliveryStatus;

typedef struct {
	char *recipient;
	OpDeliveryStatus status;
	guint code;	/* the remote reply code; 0 when the status was decided locally */
	char *enhanced; /* "5.1.1"; "X.0.0" of the reply's class when the server sent none */
	char *text;	/* sanitised reply text, or the local reason */
} OpRecipientResult;

typedef struct {
	/* The worst status over the recipients: PERMANENT if any failed for
	 * good, else TEMPORARY if any failed for now, else OK. */
	OpDeliveryStatus status;
	/* The reply that decided the outcome, "550 5.1.1 text", or the local
	 * reason when the connection broke; sanitised. */
	char *reply;
	GPtrArray *recipients; /* OpRecipientResult*, in the order they were passed */
	gboolean tls;	       /* the message went over STARTTLS */
} OpDeliveryOutcome;

/* Connects to @address:@port, reads the greeting, sends EHLO @helo_name (HELO
 * if EHLO gets a 5xx), and upgrades with STARTTLS when the server offers it.
 * The certificate is not verified: without DANE or MTA-STS the MX name is not
 * authenticated, so TLS here only protects against passive eavesdropping.
 * @mx_host is the server's name for messages and for SNI. @timeout_seconds
 * bounds the connect, each reply, the TLS handshake and each write. When the
 * TLS handshake fails, it connects once more and stays in plain text. A 4xx
 * greeting or EHLO/HELO reply fails with OP_ERROR_TEMPORARY, a 5xx with
 * OP_ERROR_PERMANENT; network errors and timeouts fail with
 * OP_ERROR_TEMPORARY. */
OpSmtpClient *op_smtp_client_connect(const char *mx_host, GInetAddress *address, guint port,
				     const char *helo_name, guint timeout_seconds,
				     GError **error);

/* How to reach a smarthost. */
typedef struct {
	const char *ca_file;   /* PEM CA certificates; NULL or "" for the system trust store */
	const char *user;      /* NULL or "" sends no AUTH */
	const char *password;
	gboolean implicit_tls; /* TLS from the first octet (RFC 8314 §3.3), as on port 465 */
} OpSmtpRelayOptions;

/* Connects to the smarthost @host at @address:@port, like
 * op_smtp_client_connect() but with TLS required: implicit TLS, or STARTTLS
 * with no plain-text fallback. The certificate must chain to the trust store
 * of @options and name @host (its DNS name, or its address when @host is an
 * IP literal). With a user set, logs in with AUTH PLAIN, or AUTH LOGIN when
 * the relay offers only that (RFC 4954). Every failure, a 535 to AUTH
 * included, is OP_ERROR_TEMPORARY, so a wrong password defers mail instead
 * of bouncing it. Error messages and the debug log never contain the
 * password. */
OpSmtpClient *op_smtp_client_connect_relay(const char *host, GInetAddress *address, guint port,
					   const char *helo_name, guint timeout_seconds,
					   const OpSmtpRelayOptions *options, GError **error);

/* Sends one message: MAIL FROM:<@sender> ("" for the null sender), RCPT TO for
 * each of @recipients (NULL-terminated), DATA and @message dot-stuffed, with
 * any bare CR or LF sent as CRLF. Initialises @outcome, which the caller
 * clears with op_delivery_outcome_clear(). A 4xx or 5xx to one RCPT marks
 * only that recipient. Addresses that are empty, contain control characters,
 * or are not ASCII for a server without SMTPUTF8 fail locally with code 0.
 * Returns TRUE when the server replied to every step, whatever the replies.
 * Returns FALSE with OP_ERROR_TEMPORARY when the connection broke (network
 * error, timeout, 421, invalid reply), and the client is then no longer
 * usable. @outcome is filled in that case too. Recipients rejected earlier
 * keep their status, and all others are TEMPORARY even after the final dot
 * was sent, because a duplicate is better than a loss. */
gboolean op_smtp_client_send(OpSmtpClient *client, const char *sender,
			     const char *const *recipients, GBytes *message,
			     OpDeliveryOutcome *outcome, GError **error);

void op_delivery_outcome_clear(OpDeliveryOutcome *outcome);

/* Sends QUIT, waits for the reply and closes the connection. The client stays
 * allocated: free it with op_smtp_client_free(). */
void op_smtp_client_quit(OpSmtpClient *client);
/* Closes the connection without QUIT and frees the client. */
void op_smtp_client_free(OpSmtpClient *client);
/* Returns FALSE once the connection broke or the server closed the session. */
gboolean op_smtp_client_is_usable(OpSmtpClient *client);
/* Returns TRUE when the session runs over TLS. */
gboolean op_smtp_client_get_tls(OpSmtpClient *client);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSmtpClient, op_smtp_client_free)

G_END_DECLS
