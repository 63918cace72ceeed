/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The publish-target methods of the admin API: store, show and remove where
 * a domain's records are published. PublishDnsRecords itself stays with the
 * domain methods.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-error.h"

static GVariant *
do_set_publish_target(OpCall *call, GError **error)
{
	const char *domain = NULL;
	g_autoptr(GVariant) target = NULL;

	g_variant_get(call->parameters, "(&s@a{sv})", &domain, &target);
	if (!op_admin_set_publish_target(call->service->admin, domain, target, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_get_publish_target(OpCall *call, GError **error)
{
	const char *domain = NULL;
	GVariant *target;

	g_variant_get(call->parameters, "(&s)", &domain);
	target = op_admin_describe_publish_target(call->service->admin, domain, error);
	if (target == NULL)
		return NULL;
	return g_variant_new_tuple(&target, 1);
}

static GVariant *
do_remove_publish_target(OpCall *call, GError **error)
{
	const char *domain = NULL;

	g_variant_get(call->parameters, "(&s)", &domain);
	if (!op_admin_remove_publish_target(call->service->admin, domain, error))
		return NULL;
	return g_variant_new("()");
}

const OpDbusMethod op_dbus_publish_methods[] = {
	{"SetPublishTarget", OP_ACTION_MANAGE, do_set_publish_target},
	{"GetPublishTarget", OP_ACTION_READ, do_get_publish_target},
	{"RemovePublishTarget", OP_ACTION_MANAGE, do_remove_publish_target},
	{NULL, NULL, NULL},
};
