/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpRecord: one row of a list the daemon returns (an a{sv} dictionary), as a
 * GObject for list models. A record without a dictionary is a placeholder
 * for a row whose page is still being fetched.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OP_TYPE_RECORD (op_record_get_type())
G_DECLARE_FINAL_TYPE(OpRecord, op_record, OP, RECORD, GObject)

OpRecord *op_record_new(GVariant *dict);
GVariant *op_record_get_dict(OpRecord *self);
void op_record_set_dict(OpRecord *self, GVariant *dict);
gboolean op_record_is_loaded(OpRecord *self);
const char *op_record_get_string(OpRecord *self, const char *key);
guint64 op_record_get_uint(OpRecord *self, const char *key);
gint64 op_record_get_int(OpRecord *self, const char *key);
gboolean op_record_get_boolean(OpRecord *self, const char *key);
char *op_record_dup_joined(OpRecord *self, const char *key, const char *separator);

G_END_DECLS
