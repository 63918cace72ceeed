/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Builds delivery status notifications (RFC 3464) as multipart/report
 * messages (RFC 6522): a failure notice or a delay warning for the envelope
 * sender, with the original message's header section attached.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	char *recipient;
	char *original_recipient; /* the ORCPT address (RFC 3461 §4.2); may be NULL */
	const char *action;	  /* "failed" or "delayed" (RFC 3464 §2.3.3) */
	char *status;		  /* "5.1.1" */
	char *remote_mta;	  /* the host that answered; may be NULL */
	char *diagnostic;	  /* "550 5.1.1 user unknown"; may be NULL */
} OpBounceRecipient;

typedef struct {
	const char *reporting_mta; /* our hostname */
	const char *queue_id;	   /* may be NULL */
	const char *sender;	   /* the original envelope sender; the DSN goes to it */
	gint64 arrival_time;	   /* unix seconds; 0 if unknown */
	gboolean delay_warning;	   /* TRUE: a delay warning, FALSE: a failure notice */
	GPtrArray *recipients;	   /* OpBounceRecipient* */
	GBytes *original;	   /* the original message; only its header section is used */
} OpBounceInfo;

/* Builds the DSN message with CRLF line ends and lines of at most 998
 * octets. Remote text is stripped of control characters before it goes in.
 * Fails with OP_ERROR_INVALID_ARGUMENT for a null sender (a bounce is never
 * sent to a bounce, RFC 5321 §6.1), no recipients, an unknown action, or a
 * name or address with control characters. The envelope (null sender) is the
 * caller's. */
GBytes *op_bounce_build(const OpBounceInfo *info, GError **error);

void op_bounce_recipient_free(OpBounceRecipient *recipient);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpBounceRecipient, op_bounce_recipient_free)

G_END_DECLS
