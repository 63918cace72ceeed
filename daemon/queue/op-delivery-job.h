/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One delivery job: the due messages for one recipient domain, delivered
 * over one connection where possible, in a worker thread. The job records
 * each recipient's outcome in the store and queues bounces and delay
 * warnings (RFC 3464) for the envelope sender.
 */
#pragma once

#include "delivery/op-mx.h"
#include "dns/op-resolver.h"
#include "op-config.h"
#include "store/op-store.h"

G_BEGIN_DECLS

typedef struct {
	OpConfig *config;
	OpStore *store;
	OpResolver *resolver;
	OpMxSelf *self;
} OpDeliveryEnv;

typedef struct {
	char *message_id;
	char *sender;
	gint64 created;
	gboolean delay_warned;
	gboolean is_bounce;
	GPtrArray *recipients; /* OpStoreRecipient * */
} OpJobMessage;

typedef struct {
	const OpDeliveryEnv *env;
	char *domain;
	GPtrArray *messages; /* OpJobMessage * */
	guint bounces_queued;
} OpDeliveryJob;

OpDeliveryJob *op_delivery_job_new(const OpDeliveryEnv *env, const char *domain);
OpJobMessage *op_delivery_job_add_message(OpDeliveryJob *job, const OpStoreRecipient *first);
void op_delivery_job_free(OpDeliveryJob *job);
void op_delivery_job_run(OpDeliveryJob *job);
gint64 op_delivery_retry_delay(const OpConfig *config, guint attempts);

G_END_DECLS
