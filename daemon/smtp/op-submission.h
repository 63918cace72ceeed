/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accepting a received message into the queue: the header checks of
 * RFC 6409 §8, the trace header, DKIM signing and the durable enqueue. It
 * runs in a worker thread and produces the SMTP reply for the session.
 */
#pragma once

#include "sendmail/op-local-peer.h"
#include "smtp/op-smtp-server.h"

G_BEGIN_DECLS

typedef struct {
	/* Input, owned. */
	OpSmtpContext *context; /* borrowed */
	char *session_id;
	char *account;		/* NULL unless authenticated */
	gboolean trusted;	/* relaying for a trusted network or a local user */
	gboolean local;		/* from the sendmail socket: remote names the user */
	OpLocalPeer *local_peer; /* that user, for the From: rule; NULL otherwise */
	char *helo;
	char *remote;
	char *tls_version;	/* NULL without TLS */
	char *sender;
	GPtrArray *recipients;
	GByteArray *body;

	/* Output. */
	char *reply;		/* complete reply line without CRLF */
	char *queue_id;		/* set when queued */
} OpSubmission;

void op_submission_free(OpSubmission *submission);
void op_submission_run(OpSubmission *submission);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSubmission, op_submission_free)

G_END_DECLS
