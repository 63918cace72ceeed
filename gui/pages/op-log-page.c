/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Delivery Log page: search delivery events by address, queue id,
 * domain, status and time, newest first, paged from the daemon; in live
 * mode, events from the EventAdded signal that match the search appear at
 * the top as they happen.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-paged-model.h"
#include "op-widgets.h"

#include <glib/gi18n.h>
#include <string.h>

#define OP_LOG_PAGE_SIZE 200

typedef struct {
	OpClient *client;
	GtkWidget *root;
	OpPagedModel *model;
	GListStore *live;
	GtkEntry *address;
	GtkEntry *queue_id;
	GtkEntry *domain;
	GtkDropDown *status;
	GtkDropDown *period;
	GtkToggleButton *live_button;
} OpLogPage;

static const char *const op_statuses[] = {NULL, "accepted", "delivered", "deferred",
					  "bounced", "expired", "delay-warned", "rejected",
					  "deleted"};
static const gint64 op_periods[] = {0, 3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600};

static void
page_free(gpointer data)
{
	OpLogPage *page = data;

	g_signal_handlers_disconnect_by_data(page->client, page);
	op_paged_model_reset(page->model, 0);
	g_clear_object(&page->model);
	g_clear_object(&page->live);
	g_clear_object(&page->client);
	g_free(page);
}

static GVariant *
new_filter(OpLogPage *page)
{
	GVariantBuilder builder;
	guint status = gtk_drop_down_get_selected(page->status);
	guint period = gtk_drop_down_get_selected(page->period);
	const char *address = gtk_editable_get_text(GTK_EDITABLE(page->address));
	const char *queue_id = gtk_editable_get_text(GTK_EDITABLE(page->queue_id));
	const char *domain = gtk_editable_get_text(GTK_EDITABLE(page->domain));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (*address != '\0')
		g_variant_builder_add(&builder, "{sv}", "address", g_variant_new_string(address));
	if (*queue_id != '\0')
		g_variant_builder_add(&builder, "{sv}", "queue-id", g_variant_new_string(queue_id));
	if (*domain != '\0')
		g_variant_builder_add(&builder, "{sv}", "domain", g_variant_new_string(domain));
	if (status > 0 && status < G_N_ELEMENTS(op_statuses))
		g_variant_builder_add(&builder, "{sv}", "status",
				      g_variant_new_string(op_statuses[status]));
	if (period > 0 && period < G_N_ELEMENTS(op_periods))
		g_variant_builder_add(&builder, "{sv}", "since",
				      g_variant_new_int64(g_get_real_time() / G_USEC_PER_SEC -
							  op_periods[period]));
	return g_variant_builder_end(&builder);
}

/* Events arrive newest first, so each live event shifts the daemon's
 * offsets by one: later pages skip as many rows as the live list holds. */
static void
fetch_page(guint offset, guint limit, GCancellable *cancellable, GTask *task, gpointer data)
{
	OpLogPage *page = data;
	guint shift = g_list_model_get_n_items(G_LIST_MODEL(page->live));

	op_client_call(page->client, "SearchEvents",
		       g_variant_new("(@a{sv}uu)", new_filter(page), offset + shift, limit),
		       cancellable, op_client_return_first_value_cb, task);
}

static void
reload(OpLogPage *page)
{
	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	g_list_store_remove_all(page->live);
	op_paged_model_reset(page->model, -1);
}

static gboolean
event_matches(OpLogPage *page, OpRecord *event)
{
	g_autoptr(GVariant) filter = g_variant_ref_sink(new_filter(page));
	const char *value;
	gint64 since;

	if (g_variant_lookup(filter, "address", "&s", &value) &&
	    strstr(op_record_get_string(event, "sender"), value) == NULL &&
	    strstr(op_record_get_string(event, "recipient"), value) == NULL)
		return FALSE;
	if (g_variant_lookup(filter, "queue-id", "&s", &value) &&
	    g_strcmp0(op_record_get_string(event, "queue-id"), value) != 0)
		return FALSE;
	if (g_variant_lookup(filter, "domain", "&s", &value)) {
		const char *at = strrchr(op_record_get_string(event, "recipient"), '@');

		if (at == NULL || g_ascii_strcasecmp(at + 1, value) != 0)
			return FALSE;
	}
	if (g_variant_lookup(filter, "status", "&s", &value) &&
	    g_strcmp0(op_record_get_string(event, "status"), value) != 0)
		return FALSE;
	if (g_variant_lookup(filter, "since", "x", &since) &&
	    op_record_get_int(event, "time") < since)
		return FALSE;
	return TRUE;
}

static void
event_added_cb(OpClient *client, GVariant *event, OpLogPage *page)
{
	g_autoptr(OpRecord) record = op_record_new(event);

	if (!gtk_toggle_button_get_active(page->live_button) || !event_matches(page, record))
		return;
	g_list_store_insert(page->live, 0, record);
}

static void
model_error_cb(OpPagedModel *model, GError *error, OpLogPage *page)
{
	op_show_error(page->root, _("Could Not Search the Log"), error);
}

static char *
format_status(OpRecord *record, const char *key)
{
	return g_strdup(op_format_event_status(op_record_get_string(record, key)));
}

static void
changed_cb(GObject *object, GParamSpec *pspec, OpLogPage *page)
{
	reload(page);
}

static GtkWidget *
new_filter_entry(OpLogPage *page, const char *label)
{
	GtkWidget *entry = gtk_entry_new();

	gtk_entry_set_placeholder_text(GTK_ENTRY(entry), label);
	gtk_accessible_update_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       label, -1);
	g_signal_connect_swapped(entry, "activate", G_CALLBACK(reload), page);
	gtk_widget_set_hexpand(entry, TRUE);
	return entry;
}

static GtkDropDown *
new_drop_down(const char *const *labels, const char *accessible)
{
	g_autoptr(GtkStringList) list = gtk_string_list_new(NULL);
	GtkWidget *drop_down;

	for (guint i = 0; labels[i] != NULL; i++)
		gtk_string_list_append(list, _(labels[i]));
	drop_down = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(list)), NULL);
	gtk_accessible_update_property(GTK_ACCESSIBLE(drop_down), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       accessible, -1);
	return GTK_DROP_DOWN(drop_down);
}

static GtkWidget *
build_filter_bar(OpLogPage *page)
{
	static const char *const statuses[] = {
		N_("Any status"), N_("Accepted"), N_("Delivered"),    N_("Deferred"), N_("Bounced"),
		N_("Expired"),    N_("Delay warned"), N_("Rejected"), N_("Deleted"),  NULL};
	static const char *const periods[] = {N_("Any time"), N_("Last hour"), N_("Last 24 hours"),
					      N_("Last 7 days"), N_("Last 30 days"), NULL};
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *search = op_icon_button_new("system-search-symbolic", _("Search"));

	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 6);
	page->address = GTK_ENTRY(new_filter_entry(page, _("Address")));
	page->queue_id = GTK_ENTRY(new_filter_entry(page, _("Queue ID")));
	page->domain = GTK_ENTRY(new_filter_entry(page, _("Recipient domain")));
	page->status = new_drop_down(statuses, _("Status"));
	page->period = new_drop_down(periods, _("Time"));
	page->live_button = GTK_TOGGLE_BUTTON(op_toggle_button_new_with_mnemonic(_("_Live")));
	gtk_widget_set_tooltip_text(GTK_WIDGET(page->live_button),
				    _("Add new events at the top as they happen"));
	gtk_toggle_button_set_active(page->live_button, TRUE);
	g_signal_connect_swapped(search, "clicked", G_CALLBACK(reload), page);
	g_signal_connect(page->status, "notify::selected", G_CALLBACK(changed_cb), page);
	g_signal_connect(page->period, "notify::selected", G_CALLBACK(changed_cb), page);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->address));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->queue_id));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->domain));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->status));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->period));
	gtk_box_append(GTK_BOX(box), search);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->live_button));
	return box;
}

static GtkWidget *
build_view(OpLogPage *page)
{
	GtkWidget *scroller = gtk_scrolled_window_new();
	GListStore *parts = g_list_store_new(G_TYPE_LIST_MODEL);
	GtkFlattenListModel *events;
	GtkColumnView *view;
	const struct {
		const char *title;
		const char *key;
		OpRecordFormatFunc format;
		gboolean expand;
	} columns[] = {
		{N_("Time"), "time", op_record_format_time, FALSE},
		{N_("Status"), "status", format_status, FALSE},
		{N_("Queue ID"), "queue-id", op_record_format_string, FALSE},
		{N_("Sender"), "sender", op_record_format_string, TRUE},
		{N_("Recipient"), "recipient", op_record_format_string, TRUE},
		{N_("Mail Server"), "mx", op_record_format_string, FALSE},
		{N_("Reply"), "reply", op_record_format_string, TRUE},
	};

	g_list_store_append(parts, page->live);
	g_list_store_append(parts, page->model);
	events = gtk_flatten_list_model_new(G_LIST_MODEL(parts));
	view = GTK_COLUMN_VIEW(gtk_column_view_new(
		GTK_SELECTION_MODEL(gtk_no_selection_new(G_LIST_MODEL(events)))));
	gtk_widget_set_name(GTK_WIDGET(view), "log-view");
	gtk_column_view_set_show_row_separators(view, TRUE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(view), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Delivery events"), -1);
	for (guint i = 0; i < G_N_ELEMENTS(columns); i++) {
		GtkColumnViewColumn *column = op_record_column_new(
			_(columns[i].title), columns[i].key, columns[i].format, columns[i].expand);

		gtk_column_view_append_column(view, column);
		g_object_unref(column);
	}
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), GTK_WIDGET(view));
	gtk_widget_set_vexpand(scroller, TRUE);
	return scroller;
}

static void
refresh(GtkWidget *widget)
{
	reload(g_object_get_data(G_OBJECT(widget), "op-page"));
}

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

GtkWidget *
op_log_page_new(OpClient *client)
{
	OpLogPage *page = g_new0(OpLogPage, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);

	page->client = g_object_ref(client);
	page->live = g_list_store_new(OP_TYPE_RECORD);
	page->model = op_paged_model_new(OP_LOG_PAGE_SIZE, fetch_page, page, NULL);
	g_signal_connect(page->model, "error", G_CALLBACK(model_error_cb), page);
	gtk_box_append(GTK_BOX(box), build_filter_bar(page));
	gtk_box_append(GTK_BOX(box), build_view(page));
	g_signal_connect(client, "event-added", G_CALLBACK(event_added_cb), page);
	page->root = box;
	g_object_set_data_full(G_OBJECT(box), "op-page", page, page_free);
	op_page_add_refresh(box, G_CALLBACK(refresh));
	g_signal_connect(box, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), box, 0);
	return box;
}
