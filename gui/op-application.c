/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpApplication: command-line options, the app-wide actions (about, style,
 * quit) and the one window.
 */
#include "op-application.h"

#include "op-client.h"
#include "op-window.h"

#include <glib/gi18n.h>

#define OP_APP_ID "io.github.outpostmail.Outpost"

struct _OpApplication {
	AdwApplication parent_instance;

	gboolean session_bus;
	OpClient *client;
	GSettings *settings;
};

G_DEFINE_FINAL_TYPE(OpApplication, op_application, ADW_TYPE_APPLICATION)

static void
apply_color_scheme(const char *scheme)
{
	AdwStyleManager *manager = adw_style_manager_get_default();

	if (g_strcmp0(scheme, "light") == 0)
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
	else if (g_strcmp0(scheme, "dark") == 0)
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_FORCE_DARK);
	else
		adw_style_manager_set_color_scheme(manager, ADW_COLOR_SCHEME_DEFAULT);
}

static void
color_scheme_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	OpApplication *self = user_data;
	const char *scheme = g_variant_get_string(value, NULL);

	g_simple_action_set_state(action, value);
	apply_color_scheme(scheme);
	if (self->settings != NULL)
		g_settings_set_string(self->settings, "color-scheme", scheme);
}

static void
about_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	GtkApplication *application = GTK_APPLICATION(user_data);
	const char *developers[] = {"The Outpost authors", NULL};

	adw_show_about_window(gtk_application_get_active_window(application),
			      "application-name", _("Outpost"),
			      "application-icon", OP_APP_ID,
			      "version", PACKAGE_VERSION,
			      "comments", _("Manage your outgoing mail server"),
			      "website", "https://github.com/outpostmail/outpost",
			      "license-type", GTK_LICENSE_GPL_3_0,
			      "developers", developers,
			      /* Translators: put your names here, one per line. */
			      "translator-credits", _("translator-credits"),
			      NULL);
}

static void
quit_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	g_application_quit(G_APPLICATION(user_data));
}

static GSettings *
new_settings(void)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;

	if (source != NULL)
		schema = g_settings_schema_source_lookup(source, OP_APP_ID, TRUE);
	return schema ? g_settings_new_full(schema, NULL, NULL) : NULL;
}

static void
op_application_startup(GApplication *application)
{
	OpApplication *self = OP_APPLICATION(application);
	g_autofree char *scheme = NULL;
	const GActionEntry entries[] = {
		{"about", about_cb, NULL, NULL, NULL, {0}},
		{"quit", quit_cb, NULL, NULL, NULL, {0}},
		{"color-scheme", NULL, "s", "'default'", color_scheme_cb, {0}},
	};
	const char *quit_accels[] = {"<Control>q", NULL};
	const char *refresh_accels[] = {"F5", "<Control>r", NULL};
	GAction *color_scheme;

	G_APPLICATION_CLASS(op_application_parent_class)->startup(application);
	g_action_map_add_action_entries(G_ACTION_MAP(self), entries, G_N_ELEMENTS(entries), self);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.quit", quit_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "win.refresh",
					      refresh_accels);
	self->settings = new_settings();
	if (self->settings != NULL) {
		scheme = g_settings_get_string(self->settings, "color-scheme");
		color_scheme = g_action_map_lookup_action(G_ACTION_MAP(self), "color-scheme");
		g_simple_action_set_state(G_SIMPLE_ACTION(color_scheme),
					  g_variant_new_string(scheme));
		apply_color_scheme(scheme);
	}
}

static void
op_application_activate(GApplication *application)
{
	OpApplication *self = OP_APPLICATION(application);
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));

	if (window == NULL) {
		self->client = op_client_new(self->session_bus ? G_BUS_TYPE_SESSION
							       : G_BUS_TYPE_SYSTEM);
		window = GTK_WINDOW(op_window_new(ADW_APPLICATION(self), self->client));
	}
	gtk_window_present(window);
}

static int
op_application_handle_local_options(GApplication *application, GVariantDict *options)
{
	OpApplication *self = OP_APPLICATION(application);

	if (g_variant_dict_contains(options, "version")) {
		g_print("outpost %s\n", PACKAGE_VERSION);
		return 0;
	}
	self->session_bus = g_variant_dict_contains(options, "session-bus");
	return -1;
}

static void
op_application_dispose(GObject *object)
{
	OpApplication *self = OP_APPLICATION(object);

	g_clear_object(&self->client);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(op_application_parent_class)->dispose(object);
}

static void
op_application_class_init(OpApplicationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GApplicationClass *application_class = G_APPLICATION_CLASS(klass);

	object_class->dispose = op_application_dispose;
	application_class->startup = op_application_startup;
	application_class->activate = op_application_activate;
	application_class->handle_local_options = op_application_handle_local_options;
}

static void
op_application_init(OpApplication *self)
{
	const GOptionEntry options[] = {
		{"session-bus", 0, 0, G_OPTION_ARG_NONE, NULL,
		 N_("Talk to an outpostd on the session bus instead of the system bus"), NULL},
		{"version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"),
		 NULL},
		{NULL},
	};

	g_application_add_main_option_entries(G_APPLICATION(self), options);
}

OpApplication *
op_application_new(void)
{
	/* NON_UNIQUE: a second instance on the other bus must not hand its
	 * command line to the first. */
	return g_object_new(OP_TYPE_APPLICATION, "application-id", OP_APP_ID, "flags",
			    G_APPLICATION_NON_UNIQUE, NULL);
}
