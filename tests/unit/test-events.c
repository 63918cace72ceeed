/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the delivery-event log and the settings table in a store in a
 * temporary directory, and of the engine behind SearchEvents, SetSettings
 * and Reload, with self-signed certificates made for the test.
 */
#include "op-admin.h"
#include "op-error.h"
#include "store/op-store.h"
#include "tls/op-tls-cert.h"
#include "tls/op-tls.h"

#include <glib/gstdio.h>

typedef struct {
	char *dir;
	char *db_path;
	OpStore *store;
	OpConfig *config;
	OpAdmin admin;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("outpost-events-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->db_path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->store = op_store_open(fixture->db_path, &error);
	g_assert_no_error(error);
	fixture->config = op_config_new();
	g_free(fixture->config->state_dir);
	fixture->config->state_dir = g_strdup(fixture->dir);
	fixture->admin.config = fixture->config;
	fixture->admin.store = fixture->store;
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	g_autofree char *command = g_strdup_printf("rm -rf '%s'", fixture->dir);

	op_store_free(fixture->store);
	op_config_free(fixture->config);
	g_clear_pointer(&fixture->admin.file_settings, op_settings_free);
	g_assert_cmpint(system(command), ==, 0);
	g_free(fixture->db_path);
	g_free(fixture->dir);
}

static void
add_event(Fixture *fixture, OpEventType type, const char *queue_id, const char *sender,
	  const char *recipient)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(op_store_add_event(fixture->store, type, queue_id, sender, recipient,
					 "mx.example.net", "250 2.0.0 Ok", &error));
	g_assert_no_error(error);
}

/* Five events: two messages and one rejection, oldest first. */
static void
add_sample_events(Fixture *fixture)
{
	add_event(fixture, OP_EVENT_ACCEPTED, "AAAA", "Anna@Example.org", NULL);
	add_event(fixture, OP_EVENT_DELIVERED, "AAAA", "Anna@Example.org", "bob@example.net");
	add_event(fixture, OP_EVENT_ACCEPTED, "BBBB", "carl@example.org", NULL);
	add_event(fixture, OP_EVENT_DEFERRED, "BBBB", "carl@example.org", "dora@exaxple.net");
	add_event(fixture, OP_EVENT_REJECTED, NULL, "eve@spam.test", "victim@example.net");
}

static GPtrArray *
search(Fixture *fixture, const OpStoreEventFilter *filter, guint offset, guint limit)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *events = op_store_search_events(fixture->store, filter, offset, limit, &error);

	g_assert_no_error(error);
	g_assert_nonnull(events);
	return events;
}

static gint64
event_id(GPtrArray *events, guint index)
{
	return ((OpStoreEvent *)g_ptr_array_index(events, index))->id;
}

static void
test_search_newest_first(Fixture *fixture, gconstpointer data)
{
	OpStoreEventFilter filter = {.type = -1};
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) page = NULL;
	OpStoreEvent *first;

	add_sample_events(fixture);
	all = search(fixture, &filter, 0, 100);
	g_assert_cmpuint(all->len, ==, 5);
	for (guint i = 1; i < all->len; i++)
		g_assert_cmpint(event_id(all, i - 1), >, event_id(all, i));
	first = g_ptr_array_index(all, 0);
	g_assert_cmpint(first->type, ==, OP_EVENT_REJECTED);
	g_assert_null(first->queue_id);
	g_assert_cmpstr(first->sender, ==, "eve@spam.test");
	g_assert_cmpstr(first->recipient, ==, "victim@example.net");
	g_assert_cmpstr(first->reply, ==, "250 2.0.0 Ok");
	g_assert_cmpint(first->time, >, 0);

	page = search(fixture, &filter, 1, 2);
	g_assert_cmpuint(page->len, ==, 2);
	g_assert_cmpint(event_id(page, 0), ==, event_id(all, 1));
	g_assert_cmpint(event_id(page, 1), ==, event_id(all, 2));
}

typedef struct {
	const char *name;
	OpStoreEventFilter filter;
	guint count;
} FilterCase;

static void
test_search_filters(Fixture *fixture, gconstpointer data)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const FilterCase cases[] = {
		{"address-sender-any-case", {.address = "anna@example", .type = -1}, 2},
		{"address-recipient", {.address = "bob@", .type = -1}, 1},
		{"address-none", {.address = "nobody", .type = -1}, 0},
		{"queue-id", {.queue_id = "BBBB", .type = -1}, 2},
		{"queue-id-exact", {.queue_id = "BBB", .type = -1}, 0},
		{"domain", {.domain = "example.net", .type = -1}, 2},
		{"domain-underscore-literal", {.domain = "exa_ple.net", .type = -1}, 0},
		{"type", {.type = OP_EVENT_ACCEPTED}, 2},
		{"type-and-id", {.queue_id = "AAAA", .type = OP_EVENT_DELIVERED}, 1},
		{"since-now", {.type = -1, .has_since = TRUE, .since = now - 5}, 5},
		{"since-later", {.type = -1, .has_since = TRUE, .since = now + 60}, 0},
		{"until-now", {.type = -1, .has_until = TRUE, .until = now - 60}, 0},
		{"until-later", {.type = -1, .has_until = TRUE, .until = now + 60}, 5},
	};

	add_sample_events(fixture);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) events = search(fixture, &cases[i].filter, 0, 100);

		g_test_message("case %s", cases[i].name);
		g_assert_cmpuint(events->len, ==, cases[i].count);
	}
}

typedef struct {
	guint calls;
	gint64 last_id;
	OpEventType last_type;
	char *last_recipient;
	gboolean destroyed;
} HookRecord;

static void
record_hook(const OpStoreEvent *event, gpointer user_data)
{
	HookRecord *record = user_data;

	record->calls++;
	record->last_id = event->id;
	record->last_type = event->type;
	g_free(record->last_recipient);
	record->last_recipient = g_strdup(event->recipient);
}

static void
destroy_hook(gpointer user_data)
{
	((HookRecord *)user_data)->destroyed = TRUE;
}

static void
test_event_hook(Fixture *fixture, gconstpointer data)
{
	OpStoreEventFilter filter = {.type = -1};
	HookRecord record = {0};
	g_autoptr(GPtrArray) events = NULL;

	op_store_set_event_hook(fixture->store, record_hook, &record, destroy_hook);
	add_sample_events(fixture);
	g_assert_cmpuint(record.calls, ==, 5);
	g_assert_cmpint(record.last_type, ==, OP_EVENT_REJECTED);
	g_assert_cmpstr(record.last_recipient, ==, "victim@example.net");
	events = search(fixture, &filter, 0, 1);
	g_assert_cmpint(record.last_id, ==, event_id(events, 0));

	op_store_set_event_hook(fixture->store, NULL, NULL, NULL);
	g_assert_true(record.destroyed);
	add_event(fixture, OP_EVENT_ACCEPTED, "CCCC", "a@example.org", NULL);
	g_assert_cmpuint(record.calls, ==, 5);
	g_free(record.last_recipient);
}

static void
test_event_type_names(void)
{
	OpEventType type = OP_EVENT_ACCEPTED;

	g_assert_true(op_event_type_from_string("delay-warned", &type));
	g_assert_cmpint(type, ==, OP_EVENT_DELAY_WARNED);
	g_assert_cmpstr(op_event_type_to_string(OP_EVENT_REJECTED), ==, "rejected");
	g_assert_cmpstr(op_event_type_to_string(OP_EVENT_DELETED), ==, "deleted");
	g_assert_cmpstr(op_event_type_to_string((OpEventType)100), ==, "unknown");
	g_assert_false(op_event_type_from_string("Rejected", &type));
	g_assert_false(op_event_type_from_string(NULL, &type));
}

static void
test_admin_search_checks(Fixture *fixture, gconstpointer data)
{
	const OpStoreEventFilter bad[] = {
		{.queue_id = "", .type = -1},
		{.queue_id = "AA/BB", .type = -1},
		{.domain = "not a domain", .type = -1},
		{.domain = "", .type = -1},
		{.type = -1, .has_since = TRUE, .since = 20, .has_until = TRUE, .until = 10},
	};
	OpStoreEventFilter empty_address = {.address = "", .type = -1};
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) bad_error = NULL;

		g_test_message("case %u", i);
		g_assert_null(op_admin_search_events(&fixture->admin, &bad[i], 0, 10, &bad_error));
		g_assert_error(bad_error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
	add_sample_events(fixture);
	events = op_admin_search_events(&fixture->admin, &empty_address, 0, 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(events->len, ==, 5);
}

static GHashTable *
new_table(const char *first_key, ...)
{
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	va_list args;

	va_start(args, first_key);
	for (const char *key = first_key; key != NULL; key = va_arg(args, const char *))
		g_hash_table_insert(table, g_strdup(key), g_strdup(va_arg(args, const char *)));
	va_end(args);
	return table;
}

static void
test_settings_table(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GHashTable) first = new_table("hostname", "a.example.org", "smarthost", "",
						NULL);
	g_autoptr(GHashTable) second = new_table("hostname", "b.example.org", NULL);
	g_autoptr(GHashTable) stored = NULL;
	g_autoptr(GHashTable) from_file = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(op_store_set_settings(fixture->store, first, &error));
	g_assert_true(op_store_set_settings(fixture->store, second, &error));
	g_assert_no_error(error);
	stored = op_store_dup_settings(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(stored), ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(stored, "hostname"), ==, "b.example.org");
	g_assert_cmpstr(g_hash_table_lookup(stored, "smarthost"), ==, "");

	from_file = op_store_read_settings_file(fixture->db_path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(from_file), ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(from_file, "hostname"), ==, "b.example.org");
}

static void
test_settings_file_without_table(Fixture *fixture, gconstpointer data)
{
	g_autofree char *missing = g_build_filename(fixture->dir, "missing.db", NULL);
	g_autofree char *older = g_build_filename(fixture->dir, "older.db", NULL);
	g_autoptr(GHashTable) none = NULL;
	g_autoptr(GHashTable) empty = NULL;
	g_autoptr(GError) error = NULL;
	sqlite3 *db = NULL;

	none = op_store_read_settings_file(missing, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(none), ==, 0);
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));

	g_assert_cmpint(sqlite3_open(older, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE domains (x)", NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
	empty = op_store_read_settings_file(older, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
}

/* Writes a self-signed pair named after hostname into the fixture's folder. */
static void
make_pair(Fixture *fixture, const char *hostname, char **cert, char **key)
{
	g_autofree char *cert_name = g_strdup_printf("%s.crt", hostname);
	g_autofree char *key_name = g_strdup_printf("%s.key", hostname);
	g_autoptr(GError) error = NULL;

	*cert = g_build_filename(fixture->dir, cert_name, NULL);
	*key = g_build_filename(fixture->dir, key_name, NULL);
	g_assert_true(op_tls_cert_ensure_self_signed(*cert, *key, hostname, &error));
	g_assert_no_error(error);
}

static void
use_pair(Fixture *fixture, const char *cert, const char *key)
{
	g_free(fixture->config->tls_cert);
	g_free(fixture->config->tls_key);
	fixture->config->tls_cert = g_strdup(cert);
	fixture->config->tls_key = g_strdup(key);
	fixture->admin.file_settings = op_settings_new_from_config(fixture->config);
}

static void
test_set_settings_refused(Fixture *fixture, gconstpointer data)
{
	g_autofree char *cert = NULL;
	g_autofree char *key = NULL;
	g_autofree char *other_cert = NULL;
	g_autofree char *other_key = NULL;
	g_autoptr(GHashTable) stored = NULL;
	g_autoptr(GError) error = NULL;
	GHashTable *refused[3];

	make_pair(fixture, "one.example.org", &cert, &key);
	make_pair(fixture, "two.example.org", &other_cert, &other_key);
	use_pair(fixture, cert, key);
	refused[0] = new_table("hostname", "new.example.org", "tls-key", other_key, NULL);
	refused[1] = new_table("submission-listen", "", "submissions-listen", "", NULL);
	refused[2] = new_table("hostname", "new.example.org", "message-lifetime", "1", NULL);
	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) refused_error = NULL;

		g_test_message("case %u", i);
		g_assert_false(op_admin_set_settings(&fixture->admin, refused[i], &refused_error));
		g_assert_error(refused_error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_hash_table_unref(refused[i]);
	}
	stored = op_store_dup_settings(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(stored), ==, 0);
}

static void
test_reload(Fixture *fixture, gconstpointer data)
{
	g_autofree char *cert = NULL;
	g_autofree char *key = NULL;
	g_autofree char *new_cert = NULL;
	g_autofree char *new_key = NULL;
	g_autoptr(GHashTable) changes = NULL;
	g_autoptr(GError) error = NULL;
	OpSmtpContext context = {.config = fixture->config};
	SSL_CTX *old_tls;
	g_autoptr(SSL) running = NULL;

	make_pair(fixture, "one.example.org", &cert, &key);
	make_pair(fixture, "two.example.org", &new_cert, &new_key);
	use_pair(fixture, cert, key);
	context.tls = op_tls_server_context_new(cert, key, &error);
	g_assert_no_error(error);
	old_tls = context.tls;
	/* A session in progress keeps its context alive past the swap. */
	running = SSL_new(old_tls);
	fixture->admin.smtp_context = &context;

	changes = new_table("hostname", "two.example.org", "tls-cert", new_cert, "tls-key",
			    new_key, "max-message-size", "100000", NULL);
	g_assert_true(op_admin_set_settings(&fixture->admin, changes, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(fixture->config->hostname, !=, "two.example.org");
	g_assert_true(context.tls == old_tls);

	g_assert_true(op_admin_reload(&fixture->admin, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(fixture->config->hostname, ==, "two.example.org");
	g_assert_cmpstr(fixture->config->tls_cert, ==, new_cert);
	g_assert_cmpuint(fixture->config->max_message_size, ==, 100000);
	g_assert_true(context.tls != old_tls);
	g_assert_true(SSL_get_SSL_CTX(running) == old_tls);

	/* A certificate spoilt after it was stored fails the reload and changes nothing. */
	g_assert_true(g_file_set_contents(new_cert, "not a certificate\n", -1, NULL));
	old_tls = context.tls;
	g_assert_false(op_admin_reload(&fixture->admin, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_true(context.tls == old_tls);
	SSL_CTX_free(context.tls);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/store/events/type-names", test_event_type_names);
#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/store/events/newest-first", test_search_newest_first);
	ADD("/store/events/filters", test_search_filters);
	ADD("/store/events/hook", test_event_hook);
	ADD("/store/settings/table", test_settings_table);
	ADD("/store/settings/file-without-table", test_settings_file_without_table);
	ADD("/admin/events/search-checks", test_admin_search_checks);
	ADD("/admin/settings/refused", test_set_settings_refused);
	ADD("/admin/settings/reload", test_reload);
#undef ADD
	return g_test_run();
}
