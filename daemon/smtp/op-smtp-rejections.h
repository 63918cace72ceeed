/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Records rejected submissions (relay denied, oversized or smuggled
 * messages, too many failed logins) as "rejected" delivery events.
 */
#pragma once

#include "smtp/op-smtp-session.h"

G_BEGIN_DECLS

/* Queues a "rejected" event with reply, the SMTP reply code and text for
 * the log. Sender may be NULL. A NULL recipient is every recipient of the
 * current transaction, or none when it has none. The write waits for an
 * fsync, so one writer thread does it off the main loop. When that thread
 * is too far behind, the event is dropped and counted in a warning. */
void op_smtp_session_record_rejection(OpSmtpSession *session, const char *sender,
				      const char *recipient, const char *reply);
/* Waits until every queued event is written. op_smtp_server_free calls it,
 * before the store closes. */
void op_smtp_rejections_flush(void);

G_END_DECLS
