/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Headless tests of the admin app against a real outpostd on the session
 * bus (run-gui-tests.sh starts both under Xvfb). They open each page and
 * save a screenshot, then add a domain, add an account and hold and retry
 * a queued message through the widgets, checking the daemon's state.
 */
#include "op-application.h"
#include "op-client.h"
#include "op-paged-model.h"
#include "op-window.h"

#include <adwaita.h>
#include <string.h>

static OpWindow *window;
static OpClient *client;
static GDBusConnection *bus;
static const char *screenshot_dir;

static void
iterate(guint milliseconds)
{
	gint64 end = g_get_monotonic_time() + milliseconds * 1000;

	while (g_get_monotonic_time() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(2000);
	}
}

static gboolean
wait_for(gboolean (*predicate)(gpointer), gpointer data, guint seconds)
{
	gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < end) {
		if (predicate(data))
			return TRUE;
		iterate(50);
	}
	return predicate(data);
}

static GVariant *
call_daemon(const char *method, GVariant *parameters, const char *type)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(
		bus, OP_BUS_NAME, OP_OBJECT_PATH, "io.github.outpostmail.Outpost1.Manager", method,
		parameters, G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);

	g_assert_no_error(error);
	return reply;
}

static GtkWidget *
find_named(GtkWidget *widget, const char *name)
{
	if (g_strcmp0(gtk_widget_get_name(widget), name) == 0)
		return widget;
	for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		GtkWidget *found = find_named(child, name);

		if (found != NULL)
			return found;
	}
	return NULL;
}

/* Finds the open message dialog that contains a widget named child, or
 * any open one when child is NULL. */
static AdwMessageDialog *
find_dialog_with(const char *child)
{
	/* The list belongs to GTK: transfer none. */
	GListModel *toplevels = gtk_window_get_toplevels();

	for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
		g_autoptr(GObject) item = g_list_model_get_item(toplevels, i);

		if (!ADW_IS_MESSAGE_DIALOG(item) || !gtk_widget_get_visible(GTK_WIDGET(item)))
			continue;
		if (child == NULL || find_named(GTK_WIDGET(item), child) != NULL)
			return ADW_MESSAGE_DIALOG(item);
	}
	return NULL;
}

static gboolean
dialog_shown(gpointer child)
{
	return find_dialog_with(child) != NULL;
}

static void
save_screenshot(const char *name)
{
	GtkWidget *widget = GTK_WIDGET(window);
	g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(widget);
	GtkSnapshot *snapshot = gtk_snapshot_new();
	int width = gtk_widget_get_width(widget);
	int height = gtk_widget_get_height(widget);
	g_autoptr(GskRenderNode) node = NULL;
	g_autoptr(GdkTexture) texture = NULL;
	g_autofree char *path = g_strdup_printf("%s/%s.png", screenshot_dir, name);
	GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(widget));

	gdk_paintable_snapshot(paintable, snapshot, width, height);
	node = gtk_snapshot_free_to_node(snapshot);
	g_assert_nonnull(node);
	texture = gsk_renderer_render_texture(renderer, node,
					      &GRAPHENE_RECT_INIT(0, 0, width, height));
	g_assert_true(gdk_texture_save_to_png(texture, path));
	g_test_message("screenshot %s", path);
}

static gboolean
client_ready(gpointer data)
{
	return op_client_get_state(client) == OP_CLIENT_READY;
}

static void
test_pages_open(void)
{
	static const char *const pages[] = {"overview", "domains", "accounts", "queue",
					    "log",      "clients", "settings"};

	g_assert_true(wait_for(client_ready, NULL, 20));
	for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
		g_autofree char *name = g_strdup_printf("page-%s", pages[i]);
		GtkWidget *page = op_window_get_page(window, pages[i]);

		op_window_show_page(window, pages[i]);
		iterate(1500);
		g_assert_nonnull(page);
		g_assert_true(gtk_widget_get_mapped(page));
		save_screenshot(name);
	}
}

static gboolean
has_domain(gpointer name)
{
	g_autoptr(GVariant) reply = call_daemon("ListDomains", NULL, "(aa{sv})");
	g_autoptr(GVariant) domains = g_variant_get_child_value(reply, 0);
	GVariantIter iter;
	GVariant *domain;
	gboolean found = FALSE;

	g_variant_iter_init(&iter, domains);
	while ((domain = g_variant_iter_next_value(&iter)) != NULL) {
		const char *value = "";

		g_variant_lookup(domain, "name", "&s", &value);
		found |= g_strcmp0(value, name) == 0;
		g_variant_unref(domain);
	}
	return found;
}

static void
fill_dialog(const char *entry_name, const char *text)
{
	AdwMessageDialog *dialog = find_dialog_with(entry_name);
	GtkWidget *entry = find_named(GTK_WIDGET(dialog), entry_name);

	g_assert_nonnull(entry);
	gtk_editable_set_text(GTK_EDITABLE(entry), text);
}

static void
click(const char *page_name, const char *button_name)
{
	GtkWidget *button = find_named(op_window_get_page(window, page_name), button_name);

	g_assert_nonnull(button);
	g_assert_true(gtk_widget_is_sensitive(button));
	g_signal_emit_by_name(button, "clicked");
}

static void
test_domain_add(void)
{
	AdwMessageDialog *dialog;

	op_window_show_page(window, "domains");
	iterate(500);
	click("domains", "add-domain-button");
	g_assert_true(wait_for(dialog_shown, "add-domain-entry", 5));
	fill_dialog("add-domain-entry", "shop.example");
	dialog = find_dialog_with("add-domain-entry");
	g_assert_true(adw_message_dialog_get_response_enabled(dialog, "add"));
	adw_message_dialog_response(dialog, "add");
	g_assert_true(wait_for(has_domain, "shop.example", 30));
	iterate(1500);
	save_screenshot("domain-records");
}

static gboolean
has_account(gpointer address)
{
	g_autoptr(GVariant) reply = call_daemon(
		"ListAccounts", g_variant_new("(suu)", (const char *)address, 0, 10), "(aa{sv})");

	return g_variant_n_children(g_variant_get_child_value(reply, 0)) == 1;
}

static void
test_account_add(void)
{
	AdwMessageDialog *dialog;

	op_window_show_page(window, "accounts");
	iterate(500);
	click("accounts", "add-account-button");
	g_assert_true(wait_for(dialog_shown, "account-address-entry", 5));
	fill_dialog("account-address-entry", "anna@shop.example");
	dialog = find_dialog_with("account-address-entry");
	g_assert_false(adw_message_dialog_get_response_enabled(dialog, "save"));
	g_signal_emit_by_name(find_named(GTK_WIDGET(dialog), "generate-password-button"),
			      "clicked");
	g_assert_true(adw_message_dialog_get_response_enabled(dialog, "save"));
	iterate(300);
	save_screenshot("account-new");
	adw_message_dialog_response(dialog, "save");
	g_assert_true(wait_for(has_account, "anna@shop.example", 30));
	iterate(1000);
	save_screenshot("page-accounts-after");
}

/* Returns the state of the seeded message, "" when it is gone. */
static char *
dup_message_state(const char *id)
{
	g_autoptr(GVariant) reply = call_daemon("GetMessage", g_variant_new("(s)", id), "(a{sv})");
	g_autoptr(GVariant) message = g_variant_get_child_value(reply, 0);
	const char *state = "";

	g_variant_lookup(message, "state", "&s", &state);
	return g_strdup(state);
}

static gboolean
message_held(gpointer id)
{
	g_autofree char *state = dup_message_state(id);

	return g_strcmp0(state, "held") == 0;
}

static gboolean
message_not_held(gpointer id)
{
	return !message_held(id);
}

static GtkSelectionModel *
queue_selection(void)
{
	GtkWidget *view = find_named(op_window_get_page(window, "queue"), "queue-view");

	g_assert_nonnull(view);
	return gtk_column_view_get_model(GTK_COLUMN_VIEW(view));
}

static gboolean
queue_loaded(gpointer data)
{
	GtkSelectionModel *selection = queue_selection();
	g_autoptr(OpRecord) first = NULL;

	if (g_list_model_get_n_items(G_LIST_MODEL(selection)) == 0)
		return FALSE;
	first = g_list_model_get_item(G_LIST_MODEL(selection), 0);
	return op_record_is_loaded(first);
}

static void
select_message(const char *id)
{
	GtkSelectionModel *selection = queue_selection();

	for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(selection)); i++) {
		g_autoptr(OpRecord) record = g_list_model_get_item(G_LIST_MODEL(selection), i);

		if (g_strcmp0(op_record_get_string(record, "id"), id) == 0) {
			gtk_selection_model_select_item(selection, i, TRUE);
			return;
		}
	}
	g_assert_not_reached();
}

static void
test_queue_retry(void)
{
	GtkSelectionModel *selection;
	g_autoptr(OpRecord) first = NULL;
	g_autofree char *id = NULL;

	op_window_show_page(window, "queue");
	g_assert_true(wait_for(queue_loaded, NULL, 20));
	selection = queue_selection();
	first = g_list_model_get_item(G_LIST_MODEL(selection), 0);
	id = g_strdup(op_record_get_string(first, "id"));
	g_assert_cmpstr(id, !=, "");
	gtk_selection_model_select_item(selection, 0, TRUE);

	click("queue", "queue-hold");
	g_assert_true(wait_for(message_held, id, 20));
	iterate(1000);
	save_screenshot("queue-held");

	/* The action reloaded the list, which clears the selection. */
	g_assert_true(wait_for(queue_loaded, NULL, 20));
	select_message(id);
	click("queue", "queue-retry");
	g_assert_true(wait_for(message_not_held, id, 20));
	iterate(1000);
	save_screenshot("queue-retried");
}

static void
activate_cb(GApplication *application)
{
	client = op_client_new(G_BUS_TYPE_SESSION);
	window = op_window_new(ADW_APPLICATION(application), client);
	gtk_window_set_default_size(GTK_WINDOW(window), 1200, 760);
	gtk_window_present(GTK_WINDOW(window));
}

int
main(int argc, char **argv)
{
	g_autoptr(AdwApplication) application = NULL;
	g_autoptr(GError) error = NULL;

	g_test_init(&argc, &argv, NULL);
	screenshot_dir = g_getenv("OUTPOST_SCREENSHOT_DIR");
	if (screenshot_dir == NULL || g_getenv("DISPLAY") == NULL) {
		g_test_skip("run through run-gui-tests.sh, which starts Xvfb and outpostd");
		return g_test_run();
	}
	g_mkdir_with_parents(screenshot_dir, 0755);
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	g_assert_no_error(error);
	application = adw_application_new("io.github.outpostmail.Outpost.Test",
					  G_APPLICATION_NON_UNIQUE);
	g_signal_connect(application, "activate", G_CALLBACK(activate_cb), NULL);
	g_application_register(G_APPLICATION(application), NULL, &error);
	g_assert_no_error(error);
	g_application_activate(G_APPLICATION(application));

	g_test_add_func("/gui/pages/open-each", test_pages_open);
	g_test_add_func("/gui/domains/add", test_domain_add);
	g_test_add_func("/gui/accounts/add", test_account_add);
	g_test_add_func("/gui/queue/hold-and-retry", test_queue_retry);
	return g_test_run();
}
