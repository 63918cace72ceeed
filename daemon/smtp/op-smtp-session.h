/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SMTP submission session: non-blocking socket I/O with optional TLS and
 * the RFC 5321 / RFC 6409 command state machine.
 */
#pragma once

#include <gio/gio.h>

#include "smtp/op-smtp-server.h"

G_BEGIN_DECLS

typedef struct _OpSmtpSession OpSmtpSession;

typedef void (*OpSmtpSessionClosedFunc)(OpSmtpSession *session, gpointer user_data);

OpSmtpSession *op_smtp_session_new(OpSmtpContext *context, GSocketConnection *connection,
				   gboolean implicit_tls, guint64 serial,
				   OpSmtpSessionClosedFunc closed_cb, gpointer closed_data);
void op_smtp_session_start(OpSmtpSession *session);
/* Closes sessions that have been silent for longer than the timeout. */
void op_smtp_session_check_timeout(OpSmtpSession *session, gint64 now);
void op_smtp_session_shutdown(OpSmtpSession *session, const char *reply);
void op_smtp_session_abort(OpSmtpSession *session, const char *reply);
OpSmtpSession *op_smtp_session_ref(OpSmtpSession *session);
void op_smtp_session_unref(OpSmtpSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSmtpSession, op_smtp_session_unref)

G_END_DECLS
