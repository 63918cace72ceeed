/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests of OpPagedModel against a fake daemon that serves rows of a
 * 100,000-message queue from an idle callback, as D-Bus replies arrive.
 */
#include "op-paged-model.h"

#define QUEUE_LENGTH 100000
#define PAGE_SIZE 200

typedef struct {
	guint length;
	guint calls;
	gboolean fail;
} FakeQueue;

typedef struct {
	FakeQueue *queue;
	guint offset;
	guint limit;
	GTask *task;
} FakeCall;

static gboolean
answer_cb(gpointer data)
{
	FakeCall *call = data;
	GVariantBuilder rows;

	if (call->queue->fail) {
		g_task_return_new_error(call->task, G_IO_ERROR, G_IO_ERROR_FAILED, "the queue failed");
	} else {
		g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
		for (guint i = call->offset; i < call->offset + call->limit && i < call->queue->length;
		     i++) {
			GVariantBuilder row;
			g_autofree char *id = g_strdup_printf("Q%06u", i);

			g_variant_builder_init(&row, G_VARIANT_TYPE_VARDICT);
			g_variant_builder_add(&row, "{sv}", "id", g_variant_new_string(id));
			g_variant_builder_add(&row, "{sv}", "size", g_variant_new_uint64(i * 10));
			g_variant_builder_add_value(&rows, g_variant_builder_end(&row));
		}
		g_task_return_pointer(call->task, g_variant_ref_sink(g_variant_builder_end(&rows)),
				      (GDestroyNotify)g_variant_unref);
	}
	g_object_unref(call->task);
	g_free(call);
	return G_SOURCE_REMOVE;
}

static void
fake_fetch(guint offset, guint limit, GCancellable *cancellable, GTask *task, gpointer data)
{
	FakeCall *call = g_new0(FakeCall, 1);

	call->queue = data;
	call->offset = offset;
	call->limit = limit;
	call->task = task;
	call->queue->calls++;
	g_idle_add(answer_cb, call);
}

static void
settle(OpPagedModel *model)
{
	for (guint i = 0; i < 1000 && g_main_context_pending(NULL); i++)
		g_main_context_iteration(NULL, FALSE);
}

static OpRecord *
get_record(OpPagedModel *model, guint position)
{
	return g_list_model_get_item(G_LIST_MODEL(model), position);
}

static void
test_known_total(void)
{
	FakeQueue queue = {.length = QUEUE_LENGTH};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);
	g_autoptr(OpRecord) last = NULL;
	g_autoptr(OpRecord) middle = NULL;

	op_paged_model_reset(model, QUEUE_LENGTH);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, QUEUE_LENGTH);
	g_assert_cmpuint(queue.calls, ==, 0);

	last = get_record(model, QUEUE_LENGTH - 1);
	middle = get_record(model, 50000);
	g_assert_false(op_record_is_loaded(last));
	g_assert_true(op_paged_model_get_loading(model));
	settle(model);
	g_assert_true(op_record_is_loaded(last));
	g_assert_cmpstr(op_record_get_string(last, "id"), ==, "Q099999");
	g_assert_cmpstr(op_record_get_string(middle, "id"), ==, "Q050000");
	g_assert_cmpuint(op_record_get_uint(middle, "size"), ==, 500000);
	/* Only the two pages asked for were fetched. */
	g_assert_cmpuint(queue.calls, ==, 2);
	g_assert_false(op_paged_model_get_loading(model));
}

static void
test_same_page_fetched_once(void)
{
	FakeQueue queue = {.length = QUEUE_LENGTH};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);

	op_paged_model_reset(model, QUEUE_LENGTH);
	for (guint i = 0; i < PAGE_SIZE; i++)
		g_object_unref(get_record(model, i));
	settle(model);
	for (guint i = 0; i < PAGE_SIZE; i++)
		g_object_unref(get_record(model, i));
	g_assert_cmpuint(queue.calls, ==, 1);
}

static void
test_shrunk_queue(void)
{
	FakeQueue queue = {.length = 250};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);

	/* The count was 400, but the queue contained 250 when the page was read. */
	op_paged_model_reset(model, 400);
	g_object_unref(get_record(model, 210));
	settle(model);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 250);
}

static void
test_unknown_total_grows(void)
{
	FakeQueue queue = {.length = 450};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);

	op_paged_model_reset(model, -1);
	settle(model);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, PAGE_SIZE);
	/* Near the end: the next page is fetched and appended. */
	g_object_unref(get_record(model, PAGE_SIZE - 1));
	settle(model);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 2 * PAGE_SIZE);
	g_object_unref(get_record(model, 2 * PAGE_SIZE - 1));
	settle(model);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 450);
	/* A short page ends the list: no further fetch. */
	g_object_unref(get_record(model, 449));
	settle(model);
	g_assert_cmpuint(queue.calls, ==, 3);
}

static void
test_reset_drops_stale_pages(void)
{
	FakeQueue queue = {.length = QUEUE_LENGTH};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);
	g_autoptr(OpRecord) stale = NULL;

	op_paged_model_reset(model, QUEUE_LENGTH);
	stale = get_record(model, 0);
	op_paged_model_reset(model, 10);
	settle(model);
	g_assert_false(op_record_is_loaded(stale));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 10);
}

static void
error_cb(OpPagedModel *model, GError *error, guint *errors)
{
	(*errors)++;
}

static void
test_fetch_error_signal(void)
{
	FakeQueue queue = {.length = 10, .fail = TRUE};
	g_autoptr(OpPagedModel) model = op_paged_model_new(PAGE_SIZE, fake_fetch, &queue, NULL);
	guint errors = 0;

	g_signal_connect(model, "error", G_CALLBACK(error_cb), &errors);
	op_paged_model_reset(model, -1);
	settle(model);
	g_assert_cmpuint(errors, ==, 1);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 0);
	g_assert_false(op_paged_model_get_loading(model));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gui/paged-model/known-total", test_known_total);
	g_test_add_func("/gui/paged-model/page-fetched-once", test_same_page_fetched_once);
	g_test_add_func("/gui/paged-model/shrunk-queue", test_shrunk_queue);
	g_test_add_func("/gui/paged-model/unknown-total", test_unknown_total_grows);
	g_test_add_func("/gui/paged-model/reset-drops-stale", test_reset_drops_stale_pages);
	g_test_add_func("/gui/paged-model/fetch-error", test_fetch_error_signal);
	return g_test_run();
}
