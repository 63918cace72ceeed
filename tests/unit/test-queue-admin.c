/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue part of the administration engine (op-admin-queue.c) and the
 * store queries behind it, on a store in a temporary directory. The tests
 * cover ListQueue's filters, sort orders and pages, GetMessage's header
 * section, retry, hold, release, delete, bounce, the totals and the hourly
 * statistics. A second SQLite connection sets up states that would
 * otherwise take delivery attempts or hours of waiting.
 */
#include "op-admin.h"
#include "op-error.h"
#include "store/op-store.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
	char *dir;
	OpConfig *config;
	OpStore *store;
	sqlite3 *db; /* the test's own connection, for setting up states */
	OpAdmin admin;
	gint64 now;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	fixture->dir = g_dir_make_tmp("outpost-queue-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->config = op_config_new();
	g_free(fixture->config->hostname);
	fixture->config->hostname = g_strdup("mail.outpost.test");
	path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->store = op_store_open(path, &error);
	g_assert_no_error(error);
	g_assert_true(op_store_create_queue_indexes(fixture->store, &error));
	g_assert_no_error(error);
	g_assert_cmpint(sqlite3_open(path, &fixture->db), ==, SQLITE_OK);
	sqlite3_busy_timeout(fixture->db, 10000);
	fixture->admin.config = fixture->config;
	fixture->admin.store = fixture->store;
	fixture->now = g_get_real_time() / G_USEC_PER_SEC;
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	g_autofree char *command = g_strdup_printf("rm -rf '%s'", fixture->dir);

	sqlite3_close(fixture->db);
	op_store_free(fixture->store);
	op_config_free(fixture->config);
	g_assert_cmpint(system(command), ==, 0);
	g_free(fixture->dir);
}

static void
run_sql(Fixture *fixture, const char *sql)
{
	char *message = NULL;

	if (sqlite3_exec(fixture->db, sql, NULL, NULL, &message) != SQLITE_OK)
		g_error("%s: %s", sql, message);
}

static gint64
query_int(Fixture *fixture, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value;

	g_assert_cmpint(sqlite3_prepare_v2(fixture->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

/* Queues a message with the given id, created @age seconds ago. @recipients
 * is a comma-separated list. */
static void
enqueue(Fixture *fixture, const char *id, const char *sender, const char *recipients,
	const char *body, gint64 age)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) addresses = g_strsplit(recipients, ",", -1);
	OpStoreMessage message = {0};

	message.id = g_strdup(id);
	message.sender = g_strdup(sender);
	message.account = *sender != '\0' ? g_strdup(sender) : NULL;
	message.recipients = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; addresses[i] != NULL; i++)
		g_ptr_array_add(message.recipients, g_strdup(addresses[i]));
	message.body = g_bytes_new(body, strlen(body));
	message.created = fixture->now - age;
	message.is_bounce = *sender == '\0';
	g_assert_true(op_store_enqueue(fixture->store, &message, &error));
	g_assert_no_error(error);
	op_store_message_clear(&message);
}

/* Gives every recipient of @id @attempts failed attempts and a last reply. */
static void
set_attempts(Fixture *fixture, const char *id, guint attempts, gint64 next_attempt)
{
	g_autofree char *sql = g_strdup_printf(
		"UPDATE recipients SET attempts = %u, next_attempt = %" G_GINT64_FORMAT
		", last_reply = '451 4.4.1 attempt %u failed' WHERE message_id = '%s'",
		attempts, next_attempt, attempts, id);

	run_sql(fixture, sql);
}

#define BODY "Subject: test\r\nFrom: <a@example.org>\r\n\r\nsecret body line\r\n"

/* Five messages with distinct senders, sizes, ages, attempts and states:
 * ids sort as they arrived, like real queue ids. */
static void
fill_queue(Fixture *fixture)
{
	enqueue(fixture, "00000001000001", "anna@example.org", "x@one.test", BODY "a", 500);
	enqueue(fixture, "00000001000002", "Bert@Example.org", "y@two.test,z@one.test",
		BODY "bbbbbbbbbb", 400);
	enqueue(fixture, "00000001000003", "carl@example.com", "w@three.test", BODY, 300);
	enqueue(fixture, "00000001000004", "", "anna@example.org", BODY "dd", 200);
	enqueue(fixture, "00000001000005", "dora@example.com", "v@two.test", BODY "eee", 100);
	set_attempts(fixture, "00000001000002", 3, fixture->now + 600);
	set_attempts(fixture, "00000001000003", 1, fixture->now + 60);
	run_sql(fixture, "UPDATE recipients SET held = 1 WHERE message_id = '00000001000005'");
}

/* Returns the ids of a ListQueue page, comma-separated, or the error message. */
static char *
list_ids(Fixture *fixture, const OpAdminQueueFilter *filter, const char *sort,
	 gboolean descending, guint offset, guint limit)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = op_admin_list_queue(&fixture->admin, filter, sort,
							   descending, offset, limit, &error);
	GString *ids = g_string_new(NULL);

	if (entries == NULL) {
		g_string_append_printf(ids, "error: %s", error->message);
		return g_string_free(ids, FALSE);
	}
	for (guint i = 0; i < entries->len; i++) {
		OpStoreQueueEntry *entry = g_ptr_array_index(entries, i);

		/* The last two digits are enough to tell the messages apart. */
		g_string_append_printf(ids, "%s%s", i > 0 ? "," : "", entry->id + 12);
	}
	return g_string_free(ids, FALSE);
}

typedef struct {
	const char *name;
	OpAdminQueueFilter filter;
	const char *expected;
} FilterCase;

static void
test_list_filters(Fixture *fixture, gconstpointer data)
{
	static const FilterCase cases[] = {
		{"none", {0}, "01,02,03,04,05"},
		{"sender substring", {.sender = "example.com"}, "03,05"},
		{"sender ignores case", {.sender = "BERT@example"}, "02"},
		{"empty sender matches all", {.sender = ""}, "01,02,03,04,05"},
		{"recipient substring", {.recipient = "@one.test"}, "01,02"},
		{"recipient ignores case", {.recipient = "Y@TWO"}, "02"},
		{"domain", {.domain = "two.test"}, "02,05"},
		{"domain upper case", {.domain = "ONE.TEST"}, "01,02"},
		{"domain is not a substring", {.domain = "ne.test"}, ""},
		{"state queued", {.state = "queued"}, "01,04"},
		{"state deferred", {.state = "deferred"}, "02,03"},
		{"state held", {.state = "held"}, "05"},
		{"min-age", {.has_min_age = TRUE, .min_age = 250}, "01,02,03"},
		{"max-age", {.has_max_age = TRUE, .max_age = 250}, "04,05"},
		{"age range",
		 {.has_min_age = TRUE, .min_age = 150, .has_max_age = TRUE, .max_age = 450},
		 "02,03,04"},
		{"combined", {.sender = "example.org", .state = "deferred"}, "02"},
		{"no match", {.recipient = "nobody@"}, ""},
	};

	fill_queue(fixture);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *ids = list_ids(fixture, &cases[i].filter, "", FALSE, 0, 100);

		g_test_message("case: %s", cases[i].name);
		g_assert_cmpstr(ids, ==, cases[i].expected);
	}
}

static void
test_list_domain_idn(Fixture *fixture, gconstpointer data)
{
	OpAdminQueueFilter unicode = {.domain = "bücher.example"};
	OpAdminQueueFilter ascii = {.domain = "xn--bcher-kva.example"};
	g_autofree char *by_unicode = NULL;
	g_autofree char *by_ascii = NULL;

	enqueue(fixture, "00000002000001", "a@example.org", "k@xn--bcher-kva.example", BODY, 10);
	enqueue(fixture, "00000002000002", "a@example.org", "k@bücher.example", BODY, 5);
	by_unicode = list_ids(fixture, &unicode, "", FALSE, 0, 10);
	by_ascii = list_ids(fixture, &ascii, "", FALSE, 0, 10);
	g_assert_cmpstr(by_unicode, ==, "01,02");
	g_assert_cmpstr(by_ascii, ==, "01,02");
}

typedef struct {
	const char *sort;
	gboolean descending;
	const char *expected;
} SortCase;

static void
test_list_sort(Fixture *fixture, gconstpointer data)
{
	static const SortCase cases[] = {
		{"", FALSE, "01,02,03,04,05"},
		{"created", FALSE, "01,02,03,04,05"},
		{"created", TRUE, "05,04,03,02,01"},
		{"size", FALSE, "03,01,04,05,02"},
		{"size", TRUE, "02,05,04,01,03"},
		/* The null sender sorts first, and SQLite compares octets, so 'B' < 'a'. */
		{"sender", FALSE, "04,02,01,03,05"},
		{"sender", TRUE, "05,03,01,02,04"},
		/* Ties are broken by id, in the same direction. */
		{"attempts", FALSE, "01,04,05,03,02"},
		{"attempts", TRUE, "02,03,05,04,01"},
		/* 01 was due long ago, 04 and 05 at arrival, 03 in a minute, 02 in ten. */
		{"next-attempt", FALSE, "01,04,05,03,02"},
		{"next-attempt", TRUE, "02,03,05,04,01"},
	};
	OpAdminQueueFilter none = {0};

	fill_queue(fixture);
	/* Put the next attempts out of arrival order. */
	set_attempts(fixture, "00000001000001", 0, fixture->now - 1000);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *ids = list_ids(fixture, &none, cases[i].sort, cases[i].descending,
						0, 100);

		g_test_message("sort %s%s", cases[i].sort, cases[i].descending ? " desc" : "");
		g_assert_cmpstr(ids, ==, cases[i].expected);
	}
}

static void
test_list_pages(Fixture *fixture, gconstpointer data)
{
	OpAdminQueueFilter none = {0};
	OpAdminQueueFilter deferred = {.state = "deferred"};
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *third = NULL;
	g_autofree char *past_end = NULL;
	g_autofree char *filtered = NULL;

	fill_queue(fixture);
	first = list_ids(fixture, &none, "size", TRUE, 0, 2);
	second = list_ids(fixture, &none, "size", TRUE, 2, 2);
	third = list_ids(fixture, &none, "size", TRUE, 4, 2);
	past_end = list_ids(fixture, &none, "size", TRUE, 5, 2);
	filtered = list_ids(fixture, &deferred, "", FALSE, 1, 5);
	g_assert_cmpstr(first, ==, "02,05");
	g_assert_cmpstr(second, ==, "04,01");
	g_assert_cmpstr(third, ==, "03");
	g_assert_cmpstr(past_end, ==, "");
	g_assert_cmpstr(filtered, ==, "03");
}

static void
test_list_entry_values(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	OpAdminQueueFilter filter = {.sender = "bert"};
	g_autoptr(GPtrArray) entries = NULL;
	OpStoreQueueEntry *entry;

	fill_queue(fixture);
	entries = op_admin_list_queue(&fixture->admin, &filter, "", FALSE, 0, 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 1);
	entry = g_ptr_array_index(entries, 0);
	g_assert_cmpstr(entry->sender, ==, "Bert@Example.org");
	g_assert_cmpuint(entry->recipients->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(entry->recipients, 0), ==, "y@two.test");
	g_assert_cmpstr(g_ptr_array_index(entry->recipients, 1), ==, "z@one.test");
	g_assert_cmpuint(entry->size, ==, strlen(BODY "bbbbbbbbbb"));
	g_assert_cmpint(entry->created, ==, fixture->now - 400);
	g_assert_cmpstr(entry->state, ==, "deferred");
	g_assert_cmpuint(entry->attempts, ==, 3);
	g_assert_cmpint(entry->next_attempt, ==, fixture->now + 600);
	g_assert_cmpstr(entry->last_reply, ==, "451 4.4.1 attempt 3 failed");
}

typedef struct {
	const char *name;
	OpAdminQueueFilter filter;
	const char *sort;
} BadListCase;

static void
test_list_bad_input(Fixture *fixture, gconstpointer data)
{
	g_autofree char *long_text = g_strnfill(255, 'a');
	const BadListCase cases[] = {
		{"unknown sort key", {0}, "bogus"},
		{"sort key in upper case", {0}, "SIZE"},
		{"unknown state", {.state = "bogus"}, ""},
		{"empty state", {.state = ""}, ""},
		{"negative min-age", {.has_min_age = TRUE, .min_age = -1}, ""},
		{"negative max-age", {.has_max_age = TRUE, .max_age = -5}, ""},
		{"min-age above max-age",
		 {.has_min_age = TRUE, .min_age = 10, .has_max_age = TRUE, .max_age = 5},
		 ""},
		{"overlong sender", {.sender = long_text}, ""},
		{"overlong recipient", {.recipient = long_text}, ""},
		{"invalid domain", {.domain = "no_underscore.example"}, ""},
		{"empty domain", {.domain = ""}, ""},
	};

	fill_queue(fixture);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) entries = op_admin_list_queue(
			&fixture->admin, &cases[i].filter, cases[i].sort, FALSE, 0, 10, &error);

		g_test_message("case: %s", cases[i].name);
		g_assert_null(entries);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_cmpuint(strlen(error->message), <=, 300);
	}
}

static char *
get_headers(Fixture *fixture, const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) headers = NULL;
	g_autoptr(OpStoreQueueEntry) entry = op_admin_get_message(&fixture->admin, id, &headers,
								  &error);

	g_assert_no_error(error);
	g_assert_nonnull(entry);
	return g_strndup(g_bytes_get_data(headers, NULL), g_bytes_get_size(headers));
}

static void
test_get_message(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) headers = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;
	OpStoreRecipientState *state;

	fill_queue(fixture);
	run_sql(fixture, "UPDATE recipients SET attempts = 2, last_reply = '450 busy' "
			 "WHERE message_id = '00000001000002' AND address = 'z@one.test'");
	entry = op_admin_get_message(&fixture->admin, "00000001000002", &headers, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(entry->id, ==, "00000001000002");
	g_assert_cmpstr(entry->account, ==, "Bert@Example.org");
	g_assert_cmpstr(entry->state, ==, "deferred");
	g_assert_cmpuint(g_bytes_get_size(headers), ==, strlen("Subject: test\r\nFrom: "
							       "<a@example.org>\r\n"));
	g_assert_cmpuint(entry->recipient_states->len, ==, 2);
	state = g_ptr_array_index(entry->recipient_states, 1);
	g_assert_cmpstr(state->address, ==, "z@one.test");
	g_assert_cmpint(state->state, ==, OP_QUEUE_STATE_DEFERRED);
	g_assert_cmpuint(state->attempts, ==, 2);
	g_assert_cmpstr(state->last_reply, ==, "450 busy");
	/* The message's reply is that of the recipient tried most. */
	g_assert_cmpstr(entry->last_reply, ==, "451 4.4.1 attempt 3 failed");
}

/* Queue ids are stored in upper case, so a lower-case id finds its message. */
static void
test_get_message_lower_case(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) headers = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;

	enqueue(fixture, "6931A2F0ABCDEF", "a@example.org", "b@example.net", BODY, 0);
	entry = op_admin_get_message(&fixture->admin, "6931a2f0abcdef", &headers, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(entry->id, ==, "6931A2F0ABCDEF");
}

typedef struct {
	const char *name;
	const char *body;
	const char *expected;
} HeaderCase;

static void
test_get_message_headers(Fixture *fixture, gconstpointer data)
{
	static const HeaderCase cases[] = {
		{"body left out", "A: 1\r\nB: 2\r\n\r\nbody\r\n", "A: 1\r\nB: 2\r\n"},
		{"folded header", "A: 1\r\n 2\r\n\r\nbody\r\n", "A: 1\r\n 2\r\n"},
		{"no body", "A: 1\r\nB: 2\r\n", "A: 1\r\nB: 2\r\n"},
		{"empty header section", "\r\nbody only\r\n", ""},
		{"empty body", "A: 1\r\n\r\n", "A: 1\r\n"},
		{"second empty line in body", "A: 1\r\n\r\nx\r\n\r\ny\r\n", "A: 1\r\n"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *id = g_strdup_printf("0000000300000%u", i);
		g_autofree char *headers = NULL;

		enqueue(fixture, id, "a@example.org", "b@example.net", cases[i].body, 0);
		headers = get_headers(fixture, id);
		g_test_message("case: %s", cases[i].name);
		g_assert_cmpstr(headers, ==, cases[i].expected);
	}
}

/* The empty line falls on every position across the 4096-octet chunks in
 * which the header section is read. */
static void
test_get_message_headers_chunks(Fixture *fixture, gconstpointer data)
{
	for (guint len = 4088; len <= 4100; len++) {
		g_autofree char *id = g_strdup_printf("0000000400%04u", len);
		g_autofree char *field = g_strnfill(len - 5, 'h');
		g_autofree char *header = g_strdup_printf("X: %s\r\n", field);
		g_autofree char *body = g_strdup_printf("%s\r\nbody\r\n", header);
		g_autofree char *headers = NULL;

		enqueue(fixture, id, "a@example.org", "b@example.net", body, 0);
		headers = get_headers(fixture, id);
		g_assert_cmpstr(headers, ==, header);
	}
}

/* A header section above 1 MiB is cut at a line end, and the body is never
 * part of what is returned. */
static void
test_get_message_headers_capped(Fixture *fixture, gconstpointer data)
{
	GString *body = g_string_new(NULL);
	g_autofree char *headers = NULL;
	g_autofree char *line = g_strnfill(98, 'v');

	while (body->len < 1100 * 1024)
		g_string_append_printf(body, "X: %s\r\n", line);
	g_string_append(body, "\r\nthe body\r\n");
	enqueue(fixture, "00000005000001", "a@example.org", "b@example.net", body->str, 0);
	headers = get_headers(fixture, "00000005000001");
	g_assert_cmpuint(strlen(headers), <=, 1024 * 1024);
	g_assert_cmpuint(strlen(headers), >, 1000 * 1024);
	g_assert_true(g_str_has_suffix(headers, "\r\n"));
	g_assert_null(strstr(headers, "the body"));
	g_string_free(body, TRUE);
}

static void
test_get_message_bad_id(Fixture *fixture, gconstpointer data)
{
	static const char *const invalid[] = {"", "with space", "line\r\nbreak"};
	g_autofree char *overlong = g_strnfill(65, 'A');
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) headers = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;

	fill_queue(fixture);
	entry = op_admin_get_message(&fixture->admin, "00000009999999", &headers, &error);
	g_assert_null(entry);
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_clear_error(&error);
	entry = op_admin_get_message(&fixture->admin, overlong, &headers, &error);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_clear_error(&error);
		entry = op_admin_get_message(&fixture->admin, invalid[i], &headers, &error);
		g_assert_null(entry);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

static guint
count_due(Fixture *fixture, const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) due = op_store_list_due(fixture->store, fixture->now + 1, 100, &error);
	guint count = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < due->len; i++) {
		OpStoreRecipient *recipient = g_ptr_array_index(due, i);

		if (strcmp(recipient->message_id, id) == 0)
			count++;
	}
	return count;
}

static void
test_hold_and_release(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const char *ids[] = {"00000001000001", "00000001000002", NULL};
	const char *release[] = {"00000001000001", NULL};
	guint count = 0;

	fill_queue(fixture);
	g_assert_cmpuint(count_due(fixture, "00000001000001"), ==, 1);
	g_assert_true(op_admin_hold_messages(&fixture->admin, ids, &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 2);
	g_assert_cmpuint(count_due(fixture, "00000001000001"), ==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM recipients WHERE held = 1"), ==,
			4);

	g_assert_true(op_admin_release_messages(&fixture->admin, release, &count, &error));
	g_assert_cmpuint(count, ==, 1);
	g_assert_cmpuint(count_due(fixture, "00000001000001"), ==, 1);
	/* Releasing keeps the retry time: 02 stays deferred for ten minutes. */
	g_assert_cmpint(query_int(fixture, "SELECT min(next_attempt) FROM recipients "
					   "WHERE message_id = '00000001000002'"),
			==, fixture->now + 600);
}

static void
test_retry_releases(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const char *ids[] = {"00000001000002", "00000001000005", "00000001000002",
			     "00000009999999", NULL};
	guint count = 0;

	fill_queue(fixture);
	g_assert_cmpuint(count_due(fixture, "00000001000002"), ==, 0);
	g_assert_true(op_admin_retry_messages(&fixture->admin, ids, &count, &error));
	g_assert_no_error(error);
	/* A repeated id counts once, and an unknown one not at all. */
	g_assert_cmpuint(count, ==, 2);
	g_assert_cmpuint(count_due(fixture, "00000001000002"), ==, 2);
	g_assert_cmpuint(count_due(fixture, "00000001000005"), ==, 1);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM recipients WHERE held = 1"), ==,
			0);
	/* The attempts so far are kept, so the backoff goes on from there. */
	g_assert_cmpint(query_int(fixture, "SELECT max(attempts) FROM recipients "
					   "WHERE message_id = '00000001000002'"),
			==, 3);
}

static void
test_ids_bad_input(Fixture *fixture, gconstpointer data)
{
	g_autofree char *overlong = g_strnfill(65, '0');
	const char *empty[] = {NULL};
	const char *mixed[] = {"00000001000001", "", NULL};
	const char *spaced[] = {"00000001000001", "0000 0001", NULL};
	const char *too_long[] = {"00000001000001", overlong, NULL};
	const char *const *cases[] = {empty, mixed, spaced, too_long};
	g_autoptr(GPtrArray) many = g_ptr_array_new();

	fill_queue(fixture);
	for (guint i = 0; i < 1001; i++)
		g_ptr_array_add(many, "00000001000001");
	g_ptr_array_add(many, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases) + 1; i++) {
		const char *const *ids = i < G_N_ELEMENTS(cases) ? cases[i]
								 : (const char *const *)many->pdata;
		g_autoptr(GError) error = NULL;
		guint count = 99;

		g_test_message("case %u", i);
		g_assert_false(op_admin_hold_messages(&fixture->admin, ids, &count, &error));
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
		g_assert_false(op_admin_delete_messages(&fixture->admin, ids, &count, &error));
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_cmpuint(count, ==, 99);
	}
	/* A rejected list changes nothing, not even its valid ids. */
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM recipients WHERE held = 1"), ==,
			1);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages"), ==, 5);
}

static void
copy_event_cb(const OpStoreEvent *event, gpointer user_data)
{
	OpStoreEvent *copy = g_new0(OpStoreEvent, 1);

	copy->type = event->type;
	copy->queue_id = g_strdup(event->queue_id);
	copy->recipient = g_strdup(event->recipient);
	copy->reply = g_strdup(event->reply);
	g_ptr_array_add(user_data, copy);
}

static void
test_delete_records_events(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) announced = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_event_free);
	const char *ids[] = {"00000001000002", "00000009999999", NULL};
	OpStoreEvent *event;
	guint count = 0;

	fill_queue(fixture);
	op_store_set_event_hook(fixture->store, copy_event_cb, announced, NULL);
	g_assert_true(op_admin_delete_messages(&fixture->admin, ids, &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages "
					   "WHERE id = '00000001000002'"),
			==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM recipients "
					   "WHERE message_id = '00000001000002'"),
			==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM events WHERE type = 'deleted' "
					   "AND queue_id = '00000001000002' AND sender = "
					   "'Bert@Example.org' AND account = 'Bert@Example.org'"),
			==, 2);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM events WHERE type = 'deleted' "
					   "AND recipient = 'z@one.test'"),
			==, 1);
	/* The hook behind the EventAdded signal sees each event once committed. */
	g_assert_cmpuint(announced->len, ==, 2);
	event = g_ptr_array_index(announced, 1);
	g_assert_cmpint(event->type, ==, OP_EVENT_DELETED);
	g_assert_cmpstr(event->queue_id, ==, "00000001000002");
	g_assert_cmpstr(event->recipient, ==, "z@one.test");
	g_assert_cmpstr(event->reply, ==, "deleted by the administrator");
	/* Deleting again finds nothing and records nothing. */
	g_assert_true(op_admin_delete_messages(&fixture->admin, ids, &count, &error));
	g_assert_cmpuint(count, ==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM events"), ==, 2);
	g_assert_cmpuint(announced->len, ==, 2);
	op_store_set_event_hook(fixture->store, NULL, NULL, NULL);
}

/* A delivery job that finishes after the administrator removed its
 * message must neither fail nor bring the recipient back. */
static void
test_in_flight_removed(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) due = NULL;
	const char *ids[] = {"00000001000001", "00000001000004", NULL};
	OpStoreRecipient *first;
	OpStoreRecipient *second;
	guint count = 0;

	fill_queue(fixture);
	due = op_store_list_due(fixture->store, fixture->now, 100, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(due->len, >=, 2);
	first = g_ptr_array_index(due, 0);
	second = g_ptr_array_index(due, 1);
	g_assert_cmpstr(first->message_id, ==, "00000001000001");
	g_assert_cmpstr(second->message_id, ==, "00000001000004");
	g_assert_true(op_admin_delete_messages(&fixture->admin, ids, &count, &error));
	g_assert_cmpuint(count, ==, 2);

	g_assert_true(op_store_defer_recipient(fixture->store, first->recipient_id,
					       fixture->now + 60, "451 later", &error));
	g_assert_no_error(error);
	g_assert_true(op_store_finish_recipient(fixture->store, second->recipient_id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM recipients WHERE message_id IN "
					   "('00000001000001', '00000001000004')"),
			==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages"), ==, 3);
}

static GBytes *
load_only_notice(Fixture *fixture, char **id)
{
	g_autoptr(GError) error = NULL;
	OpAdminQueueFilter filter = {.recipient = "bert@example.org"};
	g_autoptr(GPtrArray) entries = op_admin_list_queue(&fixture->admin, &filter, "", FALSE, 0,
							   10, &error);
	OpStoreQueueEntry *entry;

	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 1);
	entry = g_ptr_array_index(entries, 0);
	g_assert_cmpstr(entry->sender, ==, "");
	*id = g_strdup(entry->id);
	return op_store_load_body(fixture->store, entry->id, &error);
}

static void
test_bounce_returns_notice(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autofree char *notice_id = NULL;
	g_autofree char *text = NULL;
	const char *ids[] = {"00000001000002", NULL};
	guint count = 0;

	fill_queue(fixture);
	g_assert_true(op_admin_bounce_messages(&fixture->admin, ids, &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages "
					   "WHERE id = '00000001000002'"),
			==, 0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM events WHERE type = 'bounced' "
					   "AND queue_id = '00000001000002'"),
			==, 2);
	body = load_only_notice(fixture, &notice_id);
	g_assert_nonnull(body);
	g_assert_cmpint(query_int(fixture, "SELECT is_bounce FROM messages WHERE sender = ''"
					   " AND id NOT LIKE '00000001%'"),
			==, 1);
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	g_assert_nonnull(strstr(text, "Status: 5.0.0"));
	g_assert_nonnull(strstr(text, "Final-Recipient: rfc822; y@two.test"));
	g_assert_nonnull(strstr(text, "Final-Recipient: rfc822; z@one.test"));
	g_assert_nonnull(strstr(text, "deleted by the administrator"));
	g_assert_nonnull(strstr(text, "Subject: test"));
	/* Only the original header section is returned, never its body. */
	g_assert_null(strstr(text, "secret body line"));
}

static void
test_bounce_null_sender(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const char *ids[] = {"00000001000004", NULL};
	guint count = 0;

	fill_queue(fixture);
	g_assert_true(op_admin_bounce_messages(&fixture->admin, ids, &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1);
	/* RFC 5321 §6.1: the message is removed but never returned. */
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages"), ==, 4);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM messages WHERE sender = ''"), ==,
			0);
	g_assert_cmpint(query_int(fixture, "SELECT count(*) FROM events WHERE type = 'bounced' "
					   "AND queue_id = '00000001000004'"),
			==, 1);
}

static void
test_totals(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	OpStoreQueueTotals totals = {0};

	g_assert_true(op_admin_get_queue_totals(&fixture->admin, &totals, &error));
	g_assert_cmpuint(totals.total, ==, 0);
	fill_queue(fixture);
	g_assert_true(op_admin_get_queue_totals(&fixture->admin, &totals, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(totals.queued, ==, 2);
	g_assert_cmpuint(totals.deferred, ==, 2);
	g_assert_cmpuint(totals.held, ==, 1);
	g_assert_cmpuint(totals.total, ==, 5);
}

static void
add_event(Fixture *fixture, const char *type, gint64 time)
{
	g_autofree char *sql = g_strdup_printf(
		"INSERT INTO events (time, type, queue_id) VALUES (%" G_GINT64_FORMAT ", '%s', 'x')",
		time, type);

	run_sql(fixture, sql);
}

static void
test_statistics(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) rows = NULL;
	gint64 hour = fixture->now / 3600 * 3600;
	const OpStoreHourCounts *last;
	const OpStoreHourCounts *first;
	const OpStoreHourCounts *middle;

	add_event(fixture, "delivered", hour);
	add_event(fixture, "delivered", hour + 1);
	add_event(fixture, "deferred", hour);
	add_event(fixture, "bounced", hour - 1);
	add_event(fixture, "expired", hour - 3600);
	add_event(fixture, "rejected", hour - 2 * 3600);
	add_event(fixture, "accepted", hour);
	add_event(fixture, "deleted", hour);
	/* Outside the three hours asked for. */
	add_event(fixture, "delivered", hour - 3 * 3600);
	rows = op_admin_get_statistics(&fixture->admin, 3, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	first = &g_array_index(rows, OpStoreHourCounts, 0);
	middle = &g_array_index(rows, OpStoreHourCounts, 1);
	last = &g_array_index(rows, OpStoreHourCounts, 2);
	g_assert_cmpint(first->hour, ==, hour - 2 * 3600);
	g_assert_cmpint(last->hour, ==, hour);
	g_assert_cmpuint(first->rejected, ==, 1);
	g_assert_cmpuint(first->sent + first->deferred + first->bounced, ==, 0);
	g_assert_cmpuint(middle->bounced, ==, 2);
	g_assert_cmpuint(middle->sent, ==, 0);
	g_assert_cmpuint(last->sent, ==, 2);
	g_assert_cmpuint(last->deferred, ==, 1);
	g_assert_cmpuint(last->bounced + last->rejected, ==, 0);
}

static void
test_statistics_bad_hours(Fixture *fixture, gconstpointer data)
{
	static const guint hours[] = {0, 721, G_MAXUINT};
	g_autoptr(GArray) rows = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(hours); i++) {
		g_autoptr(GError) error = NULL;

		rows = op_admin_get_statistics(&fixture->admin, hours[i], &error);
		g_assert_null(rows);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
	rows = op_admin_get_statistics(&fixture->admin, 720, NULL);
	g_assert_cmpuint(rows->len, ==, 720);
}

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/queue/list/filters", test_list_filters);
	ADD("/queue/list/domain-idn", test_list_domain_idn);
	ADD("/queue/list/sort", test_list_sort);
	ADD("/queue/list/pages", test_list_pages);
	ADD("/queue/list/entry-values", test_list_entry_values);
	ADD("/queue/list/bad-input", test_list_bad_input);
	ADD("/queue/get-message/recipients", test_get_message);
	ADD("/queue/get-message/lower-case", test_get_message_lower_case);
	ADD("/queue/get-message/headers", test_get_message_headers);
	ADD("/queue/get-message/headers-chunks", test_get_message_headers_chunks);
	ADD("/queue/get-message/headers-capped", test_get_message_headers_capped);
	ADD("/queue/get-message/bad-id", test_get_message_bad_id);
	ADD("/queue/hold-and-release", test_hold_and_release);
	ADD("/queue/retry/releases", test_retry_releases);
	ADD("/queue/ids/bad-input", test_ids_bad_input);
	ADD("/queue/delete/records-events", test_delete_records_events);
	ADD("/queue/delete/in-flight", test_in_flight_removed);
	ADD("/queue/bounce/returns-notice", test_bounce_returns_notice);
	ADD("/queue/bounce/null-sender", test_bounce_null_sender);
	ADD("/queue/totals", test_totals);
	ADD("/queue/statistics/hours", test_statistics);
	ADD("/queue/statistics/bad-hours", test_statistics_bad_hours);
	return g_test_run();
}
