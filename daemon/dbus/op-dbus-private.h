/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Declarations shared by the D-Bus method files: the call in flight, the
 * method tables each area exports, and small helpers for replies.
 */
#pragma once

#include "dbus/op-authority.h"
#include "dbus/op-dbus-service.h"

G_BEGIN_DECLS

typedef struct _OpCall OpCall;
typedef GVariant *(*OpCallFunc)(OpCall *call, GError **error);

/* One method call in flight: authorized first, then run in a worker thread. */
struct _OpCall {
	OpDbusService *service;
	GDBusMethodInvocation *invocation;
	const char *method;
	const char *action;
	OpCallFunc func;
	GVariant *parameters; /* the call's arguments, a tuple */
};

/* One method of the API: its name in the XML, its polkit action and the
 * function that does the work and returns the reply tuple. */
typedef struct {
	const char *name;
	const char *action;
	OpCallFunc func;
} OpDbusMethod;

struct _OpDbusService {
	OpAdmin *admin;
	OpAuthority *authority;
	GDBusConnection *connection;
	guint registration_id;
	guint owner_id;
	gboolean session_bus;
	GCallback ready_cb;
	GCallback lost_cb;
	gpointer user_data;
	struct _OpEventRelay *events; /* who receives EventAdded (op-dbus-settings.c) */
};

/* Tables of each area, ended by an entry whose name is NULL. */
extern const OpDbusMethod op_dbus_domain_methods[];
extern const OpDbusMethod op_dbus_queue_methods[];
extern const OpDbusMethod op_dbus_settings_methods[];
extern const OpDbusMethod op_dbus_deliverability_methods[];
extern const OpDbusMethod op_dbus_publish_methods[];
extern const OpDbusMethod op_dbus_client_methods[];

/* EventAdded (op-dbus-settings.c): start once the connection is set, stop
 * before it is dropped. The signal goes to each client that called
 * SearchEvents, while it stays on the bus. */
void op_dbus_events_start(OpDbusService *service);
void op_dbus_events_stop(OpDbusService *service);

gboolean op_dbus_check_page(guint limit, GError **error);
void op_dbus_add_entry(GVariantBuilder *builder, const char *key, GVariant *value);

G_END_DECLS
