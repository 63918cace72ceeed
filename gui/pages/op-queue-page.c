/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Queue page: a searchable list of queued messages sorted by the
 * daemon, paged through OpPagedModel, with one message's details and its
 * last error in plain words, and retry, hold, release, delete and bounce
 * on the selected messages.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-paged-model.h"
#include "op-widgets.h"

#include <glib/gi18n.h>

#define OP_QUEUE_PAGE_SIZE 200

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	GtkWidget *root;
	OpPagedModel *model;
	GtkMultiSelection *selection;
	GtkColumnView *view;
	GtkSearchEntry *search;
	GtkDropDown *field;
	GtkDropDown *state;
	char *sort;
	gboolean descending;
	AdwFlap *flap;
	GtkLabel *detail_title;
	GtkLabel *detail_facts;
	GtkLabel *detail_explanation;
	GtkLabel *detail_reply;
	GtkTextBuffer *detail_headers;
	GtkLabel *count_label;
} OpQueuePage;

static const char *const op_state_filters[] = {NULL, "queued", "deferred", "held"};
static const char *const op_search_fields[] = {"recipient", "sender", "domain"};

static void
page_free(gpointer data)
{
	OpQueuePage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	/* Cancels the page fetches, whose callbacks use this page. */
	g_signal_handlers_disconnect_by_data(page->model, page);
	op_paged_model_reset(page->model, 0);
	g_clear_object(&page->model);
	g_clear_object(&page->client);
	g_free(page->sort);
	g_free(page);
}

static GVariant *
new_filter(OpQueuePage *page)
{
	GVariantBuilder builder;
	const char *text = gtk_editable_get_text(GTK_EDITABLE(page->search));
	guint state = gtk_drop_down_get_selected(page->state);
	guint field = gtk_drop_down_get_selected(page->field);

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (*text != '\0' && field < G_N_ELEMENTS(op_search_fields))
		g_variant_builder_add(&builder, "{sv}", op_search_fields[field],
				      g_variant_new_string(text));
	if (state < G_N_ELEMENTS(op_state_filters) && op_state_filters[state] != NULL)
		g_variant_builder_add(&builder, "{sv}", "state",
				      g_variant_new_string(op_state_filters[state]));
	return g_variant_builder_end(&builder);
}

static void
fetch_page(guint offset, guint limit, GCancellable *cancellable, GTask *task, gpointer data)
{
	OpQueuePage *page = data;

	op_client_call(page->client, "ListQueue",
		       g_variant_new("(@a{sv}sbuu)", new_filter(page), page->sort ? page->sort : "",
				     page->descending, offset, limit),
		       cancellable, op_client_return_first_value_cb, task);
}

static void
totals_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpQueuePage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	guint state = gtk_drop_down_get_selected(page->state);
	const char *key = state > 0 && state < G_N_ELEMENTS(op_state_filters)
				  ? op_state_filters[state]
				  : "total";
	guint32 total = 0;
	g_autoptr(GVariant) totals = NULL;
	g_autofree char *text = NULL;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply == NULL) {
		op_paged_model_reset(page->model, -1);
		return;
	}
	totals = g_variant_get_child_value(reply, 0);
	g_variant_lookup(totals, key, "u", &total);
	op_paged_model_reset(page->model, total);
	text = g_strdup_printf(ngettext("%u message", "%u messages", total), total);
	gtk_label_set_text(page->count_label, text);
}

/* Reloads the list. Without a text search the count comes from
 * GetQueueTotals, so the model has its length and pages on demand.
 * With a search, the model grows as the view scrolls. */
static void
reload(OpQueuePage *page)
{
	const char *text = gtk_editable_get_text(GTK_EDITABLE(page->search));

	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	page->cancellable = g_cancellable_new();
	if (*text != '\0') {
		gtk_label_set_text(page->count_label, "");
		op_paged_model_reset(page->model, -1);
		return;
	}
	op_client_call(page->client, "GetQueueTotals", NULL, page->cancellable, totals_done_cb,
		       page);
}

static void
model_error_cb(OpPagedModel *model, GError *error, OpQueuePage *page)
{
	op_show_error(page->root, _("Could Not Load the Queue"), error);
}

/* Sorting ------------------------------------------------------------------ */

/* GTK 4.8 has no API for the column a GtkColumnView sorts by. Each column's
 * sorter records its key and returns "larger". Comparing two items with the
 * view's sorter then calls the primary column first and stops there, and
 * the sign of the result shows whether that column is reversed. */
static const char *op_probed_sort_key;

static int
probe_compare(gconstpointer a, gconstpointer b, gpointer key)
{
	op_probed_sort_key = key;
	return GTK_ORDERING_LARGER;
}

static void
sorter_changed_cb(GtkSorter *sorter, GtkSorterChange change, OpQueuePage *page)
{
	g_autoptr(OpRecord) first = op_record_new(NULL);
	g_autoptr(OpRecord) second = op_record_new(NULL);
	GtkOrdering order;

	op_probed_sort_key = NULL;
	order = gtk_sorter_compare(sorter, first, second);
	g_free(page->sort);
	page->sort = g_strdup(op_probed_sort_key);
	page->descending = order == GTK_ORDERING_SMALLER;
	reload(page);
}

static void
add_column(OpQueuePage *page, const char *title, const char *key, OpRecordFormatFunc format,
	   gboolean expand, const char *sort_key)
{
	GtkColumnViewColumn *column = op_record_column_new(title, key, format, expand);

	if (sort_key != NULL) {
		GtkSorter *sorter = GTK_SORTER(
			gtk_custom_sorter_new(probe_compare, (gpointer)sort_key, NULL));

		gtk_column_view_column_set_sorter(column, sorter);
		g_object_unref(sorter);
	}
	gtk_column_view_append_column(page->view, column);
	g_object_unref(column);
}

static char *
format_sender(OpRecord *record, const char *key)
{
	const char *sender = op_record_get_string(record, key);

	return g_strdup(*sender ? sender : "<>");
}

static char *
format_recipients(OpRecord *record, const char *key)
{
	return op_record_dup_joined(record, key, ", ");
}

static char *
format_state(OpRecord *record, const char *key)
{
	return g_strdup(op_format_queue_state(op_record_get_string(record, key)));
}

static char *
format_next(OpRecord *record, const char *key)
{
	if (g_strcmp0(op_record_get_string(record, "state"), "held") == 0)
		return g_strdup(_("when released"));
	return op_format_relative(op_record_get_int(record, key),
				  g_get_real_time() / G_USEC_PER_SEC);
}

/* Actions ------------------------------------------------------------------- */

static GVariant *
new_selected_ids(OpQueuePage *page)
{
	g_autoptr(GtkBitset) selected =
		gtk_selection_model_get_selection(GTK_SELECTION_MODEL(page->selection));
	GtkBitsetIter iter;
	GVariantBuilder builder;
	guint position;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_STRING_ARRAY);
	for (gboolean more = gtk_bitset_iter_init_first(&iter, selected, &position); more;
	     more = gtk_bitset_iter_next(&iter, &position)) {
		g_autoptr(OpRecord) record = g_list_model_get_item(G_LIST_MODEL(page->model),
								   position);

		if (record != NULL && op_record_is_loaded(record))
			g_variant_builder_add(&builder, "s", op_record_get_string(record, "id"));
	}
	return g_variant_builder_end(&builder);
}

static void
action_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpQueuePage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autofree char *text = NULL;
	guint32 count = 0;

	if (reply == NULL) {
		op_show_error(page->root, _("The Queue Action Failed"), error);
		return;
	}
	g_variant_get(reply, "(u)", &count);
	text = g_strdup_printf(ngettext("%u message changed", "%u messages changed", count),
			       count);
	op_show_toast(page->root, text);
	reload(page);
}

static void
run_action(OpQueuePage *page, const char *method)
{
	g_autoptr(GVariant) ids = g_variant_ref_sink(new_selected_ids(page));

	if (g_variant_n_children(ids) == 0) {
		op_show_toast(page->root, _("Select one or more messages first"));
		return;
	}
	/* The action's own cancellable: a reload must not cancel it. */
	op_client_call(page->client, method, g_variant_new("(@as)", ids), NULL, action_done_cb,
		       page);
}

static void
retry_cb(GtkButton *button, OpQueuePage *page)
{
	run_action(page, "RetryMessages");
}

static void
hold_cb(GtkButton *button, OpQueuePage *page)
{
	run_action(page, "HoldMessages");
}

static void
release_cb(GtkButton *button, OpQueuePage *page)
{
	run_action(page, "ReleaseMessages");
}

static void
delete_confirmed(gpointer user_data)
{
	run_action(user_data, "DeleteMessages");
}

static void
bounce_confirmed(gpointer user_data)
{
	run_action(user_data, "BounceMessages");
}

static void
delete_cb(GtkButton *button, OpQueuePage *page)
{
	op_confirm(page->root, _("Delete the Selected Messages?"),
		   _("They are removed from the queue and their senders are not told."),
		   _("_Delete"), TRUE, delete_confirmed, page, NULL);
}

static void
bounce_cb(GtkButton *button, OpQueuePage *page)
{
	op_confirm(page->root, _("Bounce the Selected Messages?"),
		   _("They are removed from the queue and each sender gets a delivery failure "
		     "report."),
		   _("_Bounce"), TRUE, bounce_confirmed, page, NULL);
}

/* Details ------------------------------------------------------------------- */

static void
message_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpQueuePage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(OpRecord) record = NULL;
	g_autofree char *facts = NULL;
	g_autofree char *recipients = NULL;
	g_autofree char *explanation = NULL;
	g_autofree char *size = NULL;
	g_autofree char *arrived = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_error(page->root, _("Could Not Load the Message"), error);
		return;
	}
	dict = g_variant_get_child_value(reply, 0);
	record = op_record_new(dict);
	recipients = op_record_dup_joined(record, "recipients", "\n");
	size = op_format_size(op_record_get_uint(record, "size"));
	arrived = op_format_time(op_record_get_int(record, "created"), now);
	facts = g_strdup_printf(_("From: %s\nTo: %s\nAccount: %s\nSize: %s\nArrived: %s\n"
				  "State: %s, %u attempts"),
				op_record_get_string(record, "sender"), recipients,
				op_record_get_string(record, "account"), size, arrived,
				op_format_queue_state(op_record_get_string(record, "state")),
				(guint)op_record_get_uint(record, "attempts"));
	explanation = op_explain_reply(op_record_get_string(record, "last-reply"));
	gtk_label_set_text(page->detail_title, op_record_get_string(record, "id"));
	gtk_label_set_text(page->detail_facts, facts);
	gtk_label_set_text(page->detail_explanation, explanation);
	gtk_label_set_text(page->detail_reply, op_record_get_string(record, "last-reply"));
	gtk_text_buffer_set_text(page->detail_headers, op_record_get_string(record, "headers"),
				 -1);
	adw_flap_set_reveal_flap(page->flap, TRUE);
}

static void
selection_changed_cb(GtkSelectionModel *model, guint position, guint count, OpQueuePage *page)
{
	g_autoptr(GVariant) ids = g_variant_ref_sink(new_selected_ids(page));
	const char *id;

	if (g_variant_n_children(ids) != 1)
		return;
	g_variant_get_child(ids, 0, "&s", &id);
	op_client_call(page->client, "GetMessage", g_variant_new("(s)", id), page->cancellable,
		       message_done_cb, page);
}

static GtkWidget *
new_detail_label(const char *css)
{
	GtkWidget *label = gtk_label_new(NULL);

	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(label), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(label), TRUE);
	if (css != NULL)
		gtk_widget_add_css_class(label, css);
	return label;
}

static void
close_detail_cb(GtkButton *button, OpQueuePage *page)
{
	adw_flap_set_reveal_flap(page->flap, FALSE);
}

static GtkWidget *
build_detail(OpQueuePage *page)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *close = op_icon_button_new("window-close-symbolic", _("Close the Details"));
	GtkWidget *heading = gtk_label_new(_("Last error"));
	GtkWidget *headers = gtk_text_view_new();
	GtkWidget *scroller = gtk_scrolled_window_new();
	GtkWidget *outer = gtk_scrolled_window_new();

	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	page->detail_title = GTK_LABEL(new_detail_label("heading"));
	gtk_widget_set_hexpand(GTK_WIDGET(page->detail_title), TRUE);
	gtk_widget_add_css_class(close, "flat");
	g_signal_connect(close, "clicked", G_CALLBACK(close_detail_cb), page);
	gtk_box_append(GTK_BOX(top), GTK_WIDGET(page->detail_title));
	gtk_box_append(GTK_BOX(top), close);
	gtk_box_append(GTK_BOX(box), top);
	page->detail_facts = GTK_LABEL(new_detail_label(NULL));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->detail_facts));
	gtk_label_set_xalign(GTK_LABEL(heading), 0);
	gtk_widget_add_css_class(heading, "heading");
	gtk_box_append(GTK_BOX(box), heading);
	page->detail_explanation = GTK_LABEL(new_detail_label(NULL));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->detail_explanation));
	page->detail_reply = GTK_LABEL(new_detail_label("monospace"));
	gtk_widget_add_css_class(GTK_WIDGET(page->detail_reply), "dim-label");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->detail_reply));

	gtk_text_view_set_editable(GTK_TEXT_VIEW(headers), FALSE);
	gtk_text_view_set_monospace(GTK_TEXT_VIEW(headers), TRUE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(headers), GTK_WRAP_CHAR);
	gtk_accessible_update_property(GTK_ACCESSIBLE(headers), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Message header"), -1);
	page->detail_headers = gtk_text_view_get_buffer(GTK_TEXT_VIEW(headers));
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), headers);
	gtk_widget_set_size_request(scroller, -1, 200);
	gtk_widget_add_css_class(scroller, "card");
	gtk_box_append(GTK_BOX(box), scroller);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(outer), box);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(outer), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_widget_set_size_request(outer, 340, -1);
	gtk_widget_add_css_class(outer, "background");
	return outer;
}

/* Layout -------------------------------------------------------------------- */

static void
filter_changed_cb(GObject *object, GParamSpec *pspec, OpQueuePage *page)
{
	reload(page);
}

static void
search_changed_cb(GtkSearchEntry *entry, OpQueuePage *page)
{
	reload(page);
}

static GtkWidget *
build_filter_bar(OpQueuePage *page)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	const char *fields[] = {N_("Recipient"), N_("Sender"), N_("Recipient domain"), NULL};
	const char *states[] = {N_("All states"), N_("Queued"), N_("Deferred"), N_("Held"), NULL};
	g_autoptr(GtkStringList) field_list = gtk_string_list_new(NULL);
	g_autoptr(GtkStringList) state_list = gtk_string_list_new(NULL);

	for (guint i = 0; fields[i] != NULL; i++)
		gtk_string_list_append(field_list, _(fields[i]));
	for (guint i = 0; states[i] != NULL; i++)
		gtk_string_list_append(state_list, _(states[i]));
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 6);
	page->search = GTK_SEARCH_ENTRY(gtk_search_entry_new());
	g_object_set(page->search, "placeholder-text", _("Search the queue"), NULL);
	gtk_accessible_update_property(GTK_ACCESSIBLE(page->search),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search the queue"), -1);
	gtk_widget_set_hexpand(GTK_WIDGET(page->search), TRUE);
	page->field = GTK_DROP_DOWN(gtk_drop_down_new(G_LIST_MODEL(g_object_ref(field_list)), NULL));
	gtk_accessible_update_property(GTK_ACCESSIBLE(page->field), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Search in"), -1);
	page->state = GTK_DROP_DOWN(gtk_drop_down_new(G_LIST_MODEL(g_object_ref(state_list)), NULL));
	gtk_accessible_update_property(GTK_ACCESSIBLE(page->state), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("State"), -1);
	page->count_label = GTK_LABEL(gtk_label_new(NULL));
	gtk_widget_add_css_class(GTK_WIDGET(page->count_label), "dim-label");
	g_signal_connect(page->search, "search-changed", G_CALLBACK(search_changed_cb), page);
	g_signal_connect(page->field, "notify::selected", G_CALLBACK(filter_changed_cb), page);
	g_signal_connect(page->state, "notify::selected", G_CALLBACK(filter_changed_cb), page);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->search));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->field));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->state));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->count_label));
	return box;
}

static GtkWidget *
new_action_button(const char *label, const char *name, GCallback callback, OpQueuePage *page)
{
	GtkWidget *button = op_button_new_with_mnemonic(label);

	gtk_widget_set_name(button, name);
	g_signal_connect(button, "clicked", callback, page);
	return button;
}

static GtkWidget *
build_action_bar(OpQueuePage *page)
{
	GtkWidget *bar = gtk_action_bar_new();
	GtkWidget *remove = new_action_button(_("_Delete…"), "queue-delete", G_CALLBACK(delete_cb),
					      page);
	GtkWidget *bounce = new_action_button(_("_Bounce…"), "queue-bounce", G_CALLBACK(bounce_cb),
					      page);

	gtk_action_bar_pack_start(GTK_ACTION_BAR(bar),
				  new_action_button(_("_Retry Now"), "queue-retry",
						    G_CALLBACK(retry_cb), page));
	gtk_action_bar_pack_start(GTK_ACTION_BAR(bar),
				  new_action_button(_("_Hold"), "queue-hold", G_CALLBACK(hold_cb),
						    page));
	gtk_action_bar_pack_start(GTK_ACTION_BAR(bar),
				  new_action_button(_("R_elease"), "queue-release",
						    G_CALLBACK(release_cb), page));
	gtk_widget_add_css_class(remove, "destructive-action");
	gtk_action_bar_pack_end(GTK_ACTION_BAR(bar), remove);
	gtk_action_bar_pack_end(GTK_ACTION_BAR(bar), bounce);
	return bar;
}

static GtkWidget *
build_view(OpQueuePage *page)
{
	GtkWidget *scroller = gtk_scrolled_window_new();

	page->selection = gtk_multi_selection_new(G_LIST_MODEL(g_object_ref(page->model)));
	page->view = GTK_COLUMN_VIEW(gtk_column_view_new(GTK_SELECTION_MODEL(page->selection)));
	gtk_widget_set_name(GTK_WIDGET(page->view), "queue-view");
	gtk_column_view_set_show_row_separators(page->view, TRUE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(page->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Queued messages"), -1);
	add_column(page, _("Queue ID"), "id", op_record_format_string, FALSE, NULL);
	add_column(page, _("Sender"), "sender", format_sender, TRUE, "sender");
	add_column(page, _("Recipients"), "recipients", format_recipients, TRUE, NULL);
	add_column(page, _("Size"), "size", op_record_format_size, FALSE, "size");
	add_column(page, _("Arrived"), "created", op_record_format_time, FALSE, "created");
	add_column(page, _("State"), "state", format_state, FALSE, NULL);
	add_column(page, _("Attempts"), "attempts", op_record_format_number, FALSE, "attempts");
	add_column(page, _("Next Attempt"), "next-attempt", format_next, FALSE, "next-attempt");
	g_signal_connect(gtk_column_view_get_sorter(page->view), "changed",
			 G_CALLBACK(sorter_changed_cb), page);
	g_signal_connect(page->selection, "selection-changed", G_CALLBACK(selection_changed_cb),
			 page);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), GTK_WIDGET(page->view));
	gtk_widget_set_vexpand(scroller, TRUE);
	gtk_widget_set_hexpand(scroller, TRUE);
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
op_queue_page_new(OpClient *client)
{
	OpQueuePage *page = g_new0(OpQueuePage, 1);
	GtkWidget *main = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();
	page->model = op_paged_model_new(OP_QUEUE_PAGE_SIZE, fetch_page, page, NULL);
	g_signal_connect(page->model, "error", G_CALLBACK(model_error_cb), page);
	gtk_box_append(GTK_BOX(main), build_filter_bar(page));
	gtk_box_append(GTK_BOX(main), build_view(page));
	gtk_box_append(GTK_BOX(main), build_action_bar(page));

	page->flap = ADW_FLAP(adw_flap_new());
	adw_flap_set_flap_position(page->flap, GTK_PACK_END);
	adw_flap_set_reveal_flap(page->flap, FALSE);
	adw_flap_set_content(page->flap, main);
	adw_flap_set_flap(page->flap, build_detail(page));
	adw_flap_set_separator(page->flap, gtk_separator_new(GTK_ORIENTATION_VERTICAL));
	page->root = GTK_WIDGET(page->flap);

	g_object_set_data_full(G_OBJECT(page->root), "op-page", page, page_free);
	op_page_add_refresh(page->root, G_CALLBACK(refresh));
	g_signal_connect(page->root, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), page->root, 0);
	return page->root;
}
