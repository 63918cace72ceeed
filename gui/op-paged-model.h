/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpPagedModel: a GListModel of OpRecord that fetches its rows from the
 * daemon a page at a time, only for the rows a view requests, so a list of
 * 100,000 queued messages costs a few pages of memory and D-Bus calls.
 */
#pragma once

#include "op-record.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Fetches up to limit rows from offset and completes task with
 * g_task_return_pointer(task, rows, g_variant_unref), where rows is an
 * aa{sv} array, or with an error. The function owns task. */
typedef void (*OpPageFetchFunc)(guint offset, guint limit, GCancellable *cancellable,
				GTask *task, gpointer user_data);

#define OP_TYPE_PAGED_MODEL (op_paged_model_get_type())
G_DECLARE_FINAL_TYPE(OpPagedModel, op_paged_model, OP, PAGED_MODEL, GObject)

OpPagedModel *op_paged_model_new(guint page_size, OpPageFetchFunc fetch, gpointer user_data,
				 GDestroyNotify destroy);
void op_paged_model_reset(OpPagedModel *self, gint64 total);
gboolean op_paged_model_get_loading(OpPagedModel *self);
guint op_paged_model_get_fetch_count(OpPagedModel *self);

G_END_DECLS
