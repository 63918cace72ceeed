/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turns a delivery status notification (RFC 3464) into a message ready for
 * the queue, for the delivery jobs' bounces and delay warnings and for the
 * administrator's BounceMessages.
 */
#pragma once

#include "delivery/op-bounce.h"
#include "store/op-store.h"

G_BEGIN_DECLS

/* Builds the DSN described by @info into @notice, with its envelope: a new
 * queue id, the null sender (RFC 5321 §4.5.5) and info->sender as the one
 * recipient, arriving now. Fails where op_bounce_build fails, for example
 * for a null info->sender. Clear @notice with op_store_message_clear. */
gboolean op_notice_prepare(const OpBounceInfo *info, OpStoreMessage *notice, GError **error);

G_END_DECLS
