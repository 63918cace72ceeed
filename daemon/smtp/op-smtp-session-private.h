/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session structure, shared by the I/O half (op-smtp-session.c) and the
 * command half (op-smtp-commands.c) of the state machine.
 */
#pragma once

#include "sendmail/op-local-peer.h"
#include "smtp/op-data-scanner.h"
#include "smtp/op-smtp-session.h"

#include <openssl/ssl.h>

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
 * RFC 4954 §4 raises that to 12288 octets for AUTH and its responses. */
#define OP_SMTP_MAX_COMMAND_LINE 512
#define OP_SMTP_MAX_AUTH_LINE 12288
/* Buffered input beyond this stops reading until the session catches up. */
#define OP_SMTP_INPUT_HIGH_WATER (64 * 1024)
#define OP_SMTP_MAX_ERRORS 10
#define OP_SMTP_MAX_AUTH_FAILURES 3

typedef enum {
	OP_SMTP_STATE_TLS_HANDSHAKE, /* implicit TLS or after STARTTLS */
	OP_SMTP_STATE_COMMAND,
	OP_SMTP_STATE_AUTH_PLAIN,    /* waiting for the PLAIN response */
	OP_SMTP_STATE_AUTH_LOGIN_USER,
	OP_SMTP_STATE_AUTH_LOGIN_PASSWORD,
	OP_SMTP_STATE_DATA,
	OP_SMTP_STATE_BDAT,	     /* reading the octets of one BDAT chunk */
	OP_SMTP_STATE_CLOSING,
} OpSmtpState;

struct _OpSmtpSession {
	gatomicrefcount ref_count;
	OpSmtpContext *context;
	char id[24];
	char *remote;			/* the client's IP address, or the local user */
	GInetAddress *remote_address;
	char *client_key;		/* the server's per-client limit counts by it */
	/* The user behind a sendmail-socket session, NULL for a network client. */
	OpLocalPeer *local_peer;
	GSocketConnection *connection;
	int fd;
	guint watch_id;
	GIOCondition watch_condition;

	SSL *ssl;
	gboolean tls_active;
	gboolean implicit_tls;
	gboolean starttls_pending;	/* 220 queued; start TLS once it is flushed */
	gboolean want_write;		/* TLS needs the socket writable to go on */

	GByteArray *input;
	GString *output;
	OpSmtpState state;
	gboolean busy;			/* a worker thread owns the next reply */
	gboolean discarding_line;	/* skipping the rest of an overlong line */
	gboolean closed;
	gint64 last_activity;		/* monotonic µs */
	guint errors;
	guint auth_failures;

	char *helo;
	gboolean esmtp;
	gboolean trusted;
	char *account;			/* authenticated account address */
	char *login_user;		/* AUTH LOGIN: username between steps */

	/* The current transaction. */
	char *sender;			/* NULL before MAIL, "" for <> */
	gboolean smtputf8;
	GPtrArray *recipients;		/* char * */
	GByteArray *body;
	OpDataScanner scanner;
	guint64 bdat_remaining;
	gboolean bdat_last;
	gboolean bdat_used;
	/* Set when a BDAT chunk was refused: later chunks are read and dropped. */
	gboolean bdat_failed;
	char *bdat_refusal;		/* reply for the chunk being skipped */

	OpSmtpSessionClosedFunc closed_cb;
	gpointer closed_data;
};

/* op-smtp-session.c */
void op_smtp_session_reply(OpSmtpSession *session, const char *format, ...) G_GNUC_PRINTF(2, 3);
void op_smtp_session_flush(OpSmtpSession *session);
void op_smtp_session_close(OpSmtpSession *session);
void op_smtp_session_process(OpSmtpSession *session);
void op_smtp_session_update_watch(OpSmtpSession *session);
void op_smtp_session_reset_transaction(OpSmtpSession *session);
/* Marks a session of the sendmail socket: takes @peer and names the session
 * by it. Call before op_smtp_session_start(). */
void op_smtp_session_set_local(OpSmtpSession *session, OpLocalPeer *peer);

/* op-smtp-commands.c */
void op_smtp_session_greet(OpSmtpSession *session);
void op_smtp_session_handle_line(OpSmtpSession *session, const char *line, gsize len);
void op_smtp_session_handle_auth_response(OpSmtpSession *session, const char *line);
void op_smtp_session_finish_message(OpSmtpSession *session);
void op_smtp_session_finish_bdat_chunk(OpSmtpSession *session);
void op_smtp_session_tls_started(OpSmtpSession *session);

/* Logs with the session id first and the journald fields OP_SESSION and OP_REMOTE. */
#define op_session_log(session, level, format, ...)                                               \
	g_log_structured(G_LOG_DOMAIN, level, "OP_SESSION", (session)->id, "OP_REMOTE",            \
			 (session)->remote, "MESSAGE", "%s " format, (session)->id,                 \
			 ##__VA_ARGS__)

G_END_DECLS
