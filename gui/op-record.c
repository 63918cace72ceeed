/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpRecord: a GObject around one a{sv} dictionary from the daemon. Getters
 * accept any integer type for a key, because the API mixes u, t and x.
 */
#include "op-record.h"

struct _OpRecord {
	GObject parent_instance;
	GVariant *dict;
};

enum { PROP_0, PROP_DICT, N_PROPS };

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE(OpRecord, op_record, G_TYPE_OBJECT)

static void
op_record_finalize(GObject *object)
{
	OpRecord *self = OP_RECORD(object);

	g_clear_pointer(&self->dict, g_variant_unref);
	G_OBJECT_CLASS(op_record_parent_class)->finalize(object);
}

static void
op_record_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	OpRecord *self = OP_RECORD(object);

	switch (id) {
	case PROP_DICT:
		g_value_set_variant(value, self->dict);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void
op_record_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	OpRecord *self = OP_RECORD(object);

	switch (id) {
	case PROP_DICT:
		op_record_set_dict(self, g_value_get_variant(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void
op_record_class_init(OpRecordClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = op_record_finalize;
	object_class->get_property = op_record_get_property;
	object_class->set_property = op_record_set_property;
	properties[PROP_DICT] = g_param_spec_variant(
		"dict", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
		G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
op_record_init(OpRecord *self)
{
}

OpRecord *
op_record_new(GVariant *dict)
{
	return g_object_new(OP_TYPE_RECORD, "dict", dict, NULL);
}

GVariant *
op_record_get_dict(OpRecord *self)
{
	g_return_val_if_fail(OP_IS_RECORD(self), NULL);
	return self->dict;
}

void
op_record_set_dict(OpRecord *self, GVariant *dict)
{
	g_return_if_fail(OP_IS_RECORD(self));
	if (dict == self->dict)
		return;
	if (dict != NULL)
		g_variant_ref_sink(dict);
	g_clear_pointer(&self->dict, g_variant_unref);
	self->dict = dict;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_DICT]);
}

gboolean
op_record_is_loaded(OpRecord *self)
{
	return self->dict != NULL;
}

const char *
op_record_get_string(OpRecord *self, const char *key)
{
	const char *value = "";

	if (self->dict != NULL)
		g_variant_lookup(self->dict, key, "&s", &value);
	return value;
}

static GVariant *
lookup(OpRecord *self, const char *key)
{
	return self->dict ? g_variant_lookup_value(self->dict, key, NULL) : NULL;
}

guint64
op_record_get_uint(OpRecord *self, const char *key)
{
	g_autoptr(GVariant) value = lookup(self, key);

	if (value == NULL)
		return 0;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		return g_variant_get_uint32(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return g_variant_get_uint64(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		return (guint64)MAX(g_variant_get_int64(value), 0);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		return (guint64)MAX(g_variant_get_int32(value), 0);
	return 0;
}

gint64
op_record_get_int(OpRecord *self, const char *key)
{
	g_autoptr(GVariant) value = lookup(self, key);

	if (value == NULL)
		return 0;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		return g_variant_get_int64(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		return g_variant_get_int32(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		return g_variant_get_uint32(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return (gint64)MIN(g_variant_get_uint64(value), (guint64)G_MAXINT64);
	return 0;
}

gboolean
op_record_get_boolean(OpRecord *self, const char *key)
{
	gboolean value = FALSE;

	if (self->dict != NULL)
		g_variant_lookup(self->dict, key, "b", &value);
	return value;
}

/* Joins a string-array value, such as "recipients", with separator. */
char *
op_record_dup_joined(OpRecord *self, const char *key, const char *separator)
{
	g_autofree const char **strings = NULL;

	if (self->dict == NULL || !g_variant_lookup(self->dict, key, "^a&s", &strings))
		return g_strdup("");
	return g_strjoinv(separator, (char **)strings);
}
