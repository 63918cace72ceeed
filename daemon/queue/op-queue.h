/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The delivery queue's scheduler: it finds due recipients in the store,
 * groups them by recipient domain and hands each group to a delivery worker
 * thread, at most a few per domain at a time.
 */
#pragma once

#include "delivery/op-mx.h"
#include "dns/op-resolver.h"
#include "op-config.h"
#include "store/op-store.h"

G_BEGIN_DECLS

typedef struct _OpQueue OpQueue;

OpQueue *op_queue_new(OpConfig *config, OpStore *store, OpResolver *resolver, OpMxSelf *self);
void op_queue_start(OpQueue *queue);
void op_queue_wake(OpQueue *queue);
void op_queue_free(OpQueue *queue);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpQueue, op_queue_free)

G_END_DECLS
