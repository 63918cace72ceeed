/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpPagedModel. With a known total (from GetQueueTotals), the model has that
 * many items from the start: rows of pages not yet fetched are placeholder
 * records that fill in when their page arrives, so the scroll bar is right.
 * With an unknown total (a text search), the model grows a page at a time
 * as the view nears its end.
 */
#include "op-paged-model.h"

/* Page fetches in flight at once. The newest request goes first, so after
 * a jump with the scroll bar the rows in view load before the ones passed. */
#define OP_MAX_FETCHES 2

struct _OpPagedModel {
	GObject parent_instance;

	OpPageFetchFunc fetch;
	gpointer fetch_data;
	GDestroyNotify fetch_destroy;
	guint page_size;

	guint n_items;
	gboolean total_known;
	/* With an unknown total: a page shorter than page_size has arrived. */
	gboolean complete;
	/* Pages of OpRecord, NULL until a row of the page is asked for. */
	GPtrArray *pages;
	/* Page numbers waiting for a fetch, the newest at the head. */
	GQueue waiting;
	guint in_flight;
	/* With an unknown total: the page after the last one is requested. */
	gboolean next_requested;
	guint fetch_count;
	GCancellable *cancellable;
};

enum { PROP_0, PROP_LOADING, N_PROPS };
enum { SIGNAL_ERROR, N_SIGNALS };

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void op_paged_model_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(OpPagedModel, op_paged_model, G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
						    op_paged_model_list_model_init))

typedef struct {
	OpPagedModel *model;
	guint page;
	GCancellable *cancellable;
} OpPageRequest;

static void dispatch_fetches(OpPagedModel *self);

static gboolean
page_number_valid(OpPagedModel *self, guint page_number)
{
	return page_number < self->pages->len && g_ptr_array_index(self->pages, page_number);
}

static void
page_free(gpointer page)
{
	if (page != NULL)
		g_ptr_array_unref(page);
}

static void
page_request_free(OpPageRequest *request)
{
	g_clear_object(&request->model);
	g_clear_object(&request->cancellable);
	g_free(request);
}

static GPtrArray *
new_placeholder_page(guint count)
{
	GPtrArray *page = g_ptr_array_new_full(count, g_object_unref);

	for (guint i = 0; i < count; i++)
		g_ptr_array_add(page, op_record_new(NULL));
	return page;
}

/* Removes every row from index on, when a page comes back shorter than the
 * total promised because the list changed since the count was made. */
static void
truncate_at(OpPagedModel *self, guint index)
{
	guint removed = self->n_items - index;

	if (index >= self->n_items)
		return;
	self->n_items = index;
	self->complete = TRUE;
	g_ptr_array_set_size(self->pages, (index + self->page_size - 1) / self->page_size);
	g_list_model_items_changed(G_LIST_MODEL(self), index, removed, 0);
}

static void
fill_known_page(OpPagedModel *self, guint page_number, GVariant *rows)
{
	GPtrArray *page = g_ptr_array_index(self->pages, page_number);
	guint count = (guint)g_variant_n_children(rows);

	for (guint i = 0; i < count && i < page->len; i++) {
		g_autoptr(GVariant) dict = g_variant_get_child_value(rows, i);

		op_record_set_dict(g_ptr_array_index(page, i), dict);
	}
	if (count < page->len)
		truncate_at(self, page_number * self->page_size + count);
}

static void
append_page(OpPagedModel *self, guint page_number, GVariant *rows)
{
	guint count = (guint)g_variant_n_children(rows);
	guint position = self->n_items;
	GPtrArray *page = g_ptr_array_new_full(count, g_object_unref);

	for (guint i = 0; i < count; i++) {
		g_autoptr(GVariant) dict = g_variant_get_child_value(rows, i);

		g_ptr_array_add(page, op_record_new(dict));
	}
	g_ptr_array_set_size(self->pages, MAX(self->pages->len, page_number + 1));
	g_ptr_array_index(self->pages, page_number) = page;
	self->n_items += count;
	self->complete = count < self->page_size;
	if (count > 0)
		g_list_model_items_changed(G_LIST_MODEL(self), position, 0, count);
}

static void
fetch_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpPageRequest *request = g_task_get_task_data(G_TASK(result));
	OpPagedModel *self = request->model;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GError) error = NULL;

	rows = g_task_propagate_pointer(G_TASK(result), &error);
	/* A reset since the request cancelled it: its rows belong to the old list. */
	if (g_cancellable_is_cancelled(request->cancellable))
		return;
	self->in_flight--;
	self->next_requested = FALSE;
	if (rows == NULL) {
		g_signal_emit(self, signals[SIGNAL_ERROR], 0, error);
	} else if (self->total_known) {
		if (page_number_valid(self, request->page))
			fill_known_page(self, request->page, rows);
	} else {
		append_page(self, request->page, rows);
	}
	dispatch_fetches(self);
}

static void
dispatch_fetches(OpPagedModel *self)
{
	gboolean was_loading = self->in_flight > 0;

	while (self->in_flight < OP_MAX_FETCHES && !g_queue_is_empty(&self->waiting)) {
		guint page = GPOINTER_TO_UINT(g_queue_pop_head(&self->waiting));
		OpPageRequest *request = g_new0(OpPageRequest, 1);
		GTask *task;

		request->model = g_object_ref(self);
		request->page = page;
		request->cancellable = g_object_ref(self->cancellable);
		task = g_task_new(NULL, self->cancellable, fetch_done_cb, NULL);
		g_task_set_task_data(task, request, (GDestroyNotify)page_request_free);
		self->in_flight++;
		self->fetch_count++;
		self->fetch(page * self->page_size, self->page_size, self->cancellable, task,
			    self->fetch_data);
	}
	if (was_loading != (self->in_flight > 0))
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LOADING]);
}

static void
request_page(OpPagedModel *self, guint page)
{
	g_queue_push_head(&self->waiting, GUINT_TO_POINTER(page));
	dispatch_fetches(self);
}

/* Makes the placeholder records of a page and queues its fetch. */
static GPtrArray *
ensure_known_page(OpPagedModel *self, guint page_number)
{
	guint first = page_number * self->page_size;

	if (page_number_valid(self, page_number))
		return g_ptr_array_index(self->pages, page_number);
	g_ptr_array_index(self->pages, page_number) =
		new_placeholder_page(MIN(self->page_size, self->n_items - first));
	request_page(self, page_number);
	return g_ptr_array_index(self->pages, page_number);
}

static gpointer
op_paged_model_get_item(GListModel *model, guint position)
{
	OpPagedModel *self = OP_PAGED_MODEL(model);
	guint page_number = position / self->page_size;
	GPtrArray *page;

	if (position >= self->n_items)
		return NULL;
	if (self->total_known) {
		page = ensure_known_page(self, page_number);
	} else {
		page = g_ptr_array_index(self->pages, page_number);
		/* Within half a page of the end: fetch the next page. */
		if (!self->complete && !self->next_requested &&
		    position + self->page_size / 2 >= self->n_items) {
			self->next_requested = TRUE;
			request_page(self, self->pages->len);
		}
	}
	return g_object_ref(g_ptr_array_index(page, position % self->page_size));
}

static guint
op_paged_model_get_n_items(GListModel *model)
{
	return OP_PAGED_MODEL(model)->n_items;
}

static GType
op_paged_model_get_item_type(GListModel *model)
{
	return OP_TYPE_RECORD;
}

static void
op_paged_model_list_model_init(GListModelInterface *iface)
{
	iface->get_item = op_paged_model_get_item;
	iface->get_n_items = op_paged_model_get_n_items;
	iface->get_item_type = op_paged_model_get_item_type;
}

/* Drops every row and starts over: with total rows when total is 0 or
 * more, or growing page by page when total is negative (unknown). Fetches
 * in flight are cancelled and their results ignored. */
void
op_paged_model_reset(OpPagedModel *self, gint64 total)
{
	guint removed = self->n_items;
	gboolean was_loading = self->in_flight > 0;

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	g_queue_clear(&self->waiting);
	self->in_flight = 0;
	self->next_requested = FALSE;
	self->complete = FALSE;
	self->total_known = total >= 0;
	self->n_items = total >= 0 ? (guint)MIN(total, (gint64)G_MAXUINT) : 0;
	g_ptr_array_set_size(self->pages, 0);
	if (self->total_known)
		g_ptr_array_set_size(self->pages,
				     (self->n_items + self->page_size - 1) / self->page_size);
	if (removed > 0 || self->n_items > 0)
		g_list_model_items_changed(G_LIST_MODEL(self), 0, removed, self->n_items);
	if (!self->total_known) {
		self->next_requested = TRUE;
		request_page(self, 0);
	}
	if (was_loading && self->in_flight == 0)
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LOADING]);
}

gboolean
op_paged_model_get_loading(OpPagedModel *self)
{
	return self->in_flight > 0;
}

/* How many pages were fetched since the model was made, for tests. */
guint
op_paged_model_get_fetch_count(OpPagedModel *self)
{
	return self->fetch_count;
}

static void
op_paged_model_dispose(GObject *object)
{
	OpPagedModel *self = OP_PAGED_MODEL(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_queue_clear(&self->waiting);
	if (self->fetch_destroy != NULL)
		g_clear_pointer(&self->fetch_data, self->fetch_destroy);
	G_OBJECT_CLASS(op_paged_model_parent_class)->dispose(object);
}

static void
op_paged_model_finalize(GObject *object)
{
	OpPagedModel *self = OP_PAGED_MODEL(object);

	g_ptr_array_unref(self->pages);
	G_OBJECT_CLASS(op_paged_model_parent_class)->finalize(object);
}

static void
op_paged_model_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	switch (id) {
	case PROP_LOADING:
		g_value_set_boolean(value, op_paged_model_get_loading(OP_PAGED_MODEL(object)));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void
op_paged_model_class_init(OpPagedModelClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = op_paged_model_dispose;
	object_class->finalize = op_paged_model_finalize;
	object_class->get_property = op_paged_model_get_property;
	properties[PROP_LOADING] = g_param_spec_boolean(
		"loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);
	/* Emitted with the GError when a page fetch fails. */
	signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
op_paged_model_init(OpPagedModel *self)
{
	self->pages = g_ptr_array_new_with_free_func(page_free);
	self->cancellable = g_cancellable_new();
	g_queue_init(&self->waiting);
}

OpPagedModel *
op_paged_model_new(guint page_size, OpPageFetchFunc fetch, gpointer user_data,
		   GDestroyNotify destroy)
{
	OpPagedModel *self = g_object_new(OP_TYPE_PAGED_MODEL, NULL);

	g_return_val_if_fail(page_size > 0, self);
	self->page_size = page_size;
	self->fetch = fetch;
	self->fetch_data = user_data;
	self->fetch_destroy = destroy;
	return self;
}
