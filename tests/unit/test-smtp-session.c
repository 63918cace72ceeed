/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SMTP transcripts replayed against a real submission server on loopback:
 * the client is a thread with a blocking socket, the server runs on the
 * test's main loop with a store in a temporary directory. The client's
 * network is trusted, so it may relay without TLS or AUTH.
 */
#include "smtp/op-smtp-server.h"
#include "policy/op-policy.h"
#include "store/op-store.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
	char *dir;
	OpConfig *config;
	OpStore *store;
	OpSmtpContext context;
	OpSmtpServer *server;
	guint port;
} Fixture;

typedef struct {
	const char *send;   /* written in one go; NULL sends nothing */
	const char *expect; /* prefix of the final reply line; NULL reads nothing */
	gsize length;	    /* octets of send, for data with a NUL; 0 means strlen */
} Step;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;
	g_autoptr(GPtrArray) addresses = NULL;
	char *trusted[] = {"127.0.0.0/8", NULL};

	fixture->dir = g_dir_make_tmp("outpost-session-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->config = op_config_new();
	g_free(fixture->config->hostname);
	fixture->config->hostname = g_strdup("mail.outpost.test");
	fixture->config->max_message_size = 2000;
	db = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->store = op_store_open(db, &error);
	g_assert_no_error(error);

	fixture->context.config = fixture->config;
	fixture->context.store = fixture->store;
	fixture->context.trusted_networks = op_policy_parse_networks(trusted, &error);
	g_assert_no_error(error);
	fixture->server = op_smtp_server_new(&fixture->context);
	g_assert_true(op_smtp_server_listen(fixture->server, "127.0.0.1:0", FALSE, &error));
	g_assert_no_error(error);
	addresses = op_smtp_server_dup_addresses(fixture->server);
	fixture->port = g_inet_socket_address_get_port(g_ptr_array_index(addresses, 0));
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	g_autofree char *command = g_strdup_printf("rm -rf '%s'", fixture->dir);

	op_smtp_server_free(fixture->server);
	g_ptr_array_unref(fixture->context.trusted_networks);
	op_store_free(fixture->store);
	op_config_free(fixture->config);
	g_assert_cmpint(system(command), ==, 0);
	g_free(fixture->dir);
}

typedef struct {
	guint port;
	const Step *steps;
	GString *failure; /* set by the client thread */
	gboolean done;
} Conversation;

/* Reads one reply, all its lines, and returns its last line. */
static char *
read_reply(GDataInputStream *input, GError **error)
{
	for (;;) {
		gsize length = 0;
		g_autofree char *line = g_data_input_stream_read_line(input, &length, NULL, error);

		if (line == NULL)
			return NULL;
		if (length < 4 || line[3] != '-')
			return g_steal_pointer(&line);
	}
}

static gpointer
client_thread(gpointer data)
{
	Conversation *conversation = data;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection = NULL;
	g_autoptr(GDataInputStream) input = NULL;
	GOutputStream *output;
	g_autofree char *greeting = NULL;

	connection = g_socket_client_connect_to_host(client, "127.0.0.1", conversation->port, NULL,
						     &error);
	if (connection == NULL) {
		g_string_append_printf(conversation->failure, "connect: %s", error->message);
		goto out;
	}
	input = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(connection)));
	g_data_input_stream_set_newline_type(input, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
	output = g_io_stream_get_output_stream(G_IO_STREAM(connection));
	greeting = read_reply(input, &error);
	for (const Step *step = conversation->steps; step->send || step->expect; step++) {
		g_autofree char *reply = NULL;

		if (step->send != NULL &&
		    !g_output_stream_write_all(output, step->send,
					       step->length ? step->length : strlen(step->send),
					       NULL, NULL, &error)) {
			g_string_append_printf(conversation->failure, "write: %s", error->message);
			goto out;
		}
		if (step->expect == NULL)
			continue;
		reply = read_reply(input, &error);
		if (reply == NULL || !g_str_has_prefix(reply, step->expect)) {
			g_string_append_printf(conversation->failure,
					       "after %.40s…: expected \"%s\", got \"%s\"",
					       step->send ? step->send : "(nothing)", step->expect,
					       reply ? reply : (error ? error->message : "EOF"));
			goto out;
		}
	}
out:
	g_atomic_int_set(&conversation->done, TRUE);
	g_main_context_wakeup(NULL);
	return NULL;
}

static void
converse(Fixture *fixture, const Step *steps)
{
	Conversation conversation = {fixture->port, steps, g_string_new(NULL), FALSE};
	GThread *thread = g_thread_new("client", client_thread, &conversation);

	while (!g_atomic_int_get(&conversation.done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
	/* Let the session see the close and finish any queued work. */
	for (int i = 0; i < 50 && g_main_context_iteration(NULL, FALSE); i++)
		;
	if (conversation.failure->len > 0)
		g_test_message("%s", conversation.failure->str);
	g_assert_cmpstr(conversation.failure->str, ==, "");
	g_string_free(conversation.failure, TRUE);
}

static guint
count_queued(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = op_store_list_queue(fixture->store, 0, 100, &error);

	g_assert_no_error(error);
	return entries->len;
}

static GBytes *
load_only_message(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = op_store_list_queue(fixture->store, 0, 100, &error);
	OpStoreQueueEntry *entry;

	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 1);
	entry = g_ptr_array_index(entries, 0);
	return op_store_load_body(fixture->store, entry->id, &error);
}

#define ENVELOPE                                                                                  \
	{"EHLO client.example\r\n", "250 "}, {"MAIL FROM:<a@example.org>\r\n", "250 2.1.0"},       \
	{                                                                                          \
		"RCPT TO:<b@example.net>\r\n", "250 2.1.5"                                         \
	}

static void
test_session_data_accepted(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {ENVELOPE,
			      {"DATA\r\n", "354 "},
			      {"From: a@example.org\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n",
			       "250 2.0.0 Ok: queued as"},
			      {"QUIT\r\n", "221 "},
			      {NULL, NULL}};
	g_autoptr(GBytes) body = NULL;

	converse(fixture, steps);
	body = load_only_message(fixture);
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(body, NULL), g_bytes_get_size(body),
				      "\r\n\r\n.dot\r\nbody\r\n"));
}

/* Each variant of a lone CR or LF around the dot must neither end the
 * message nor start a second one (RFC 5321 §2.3.8, §4.1.1.4). */
static void
test_session_smuggling(Fixture *fixture, gconstpointer data)
{
	static const char *const endings[] = {"\n.\n", "\n.\r\n", "\r\n.\n", "\r\n.\r\r\n",
					      "\r.\r"};

	for (guint i = 0; i < G_N_ELEMENTS(endings); i++) {
		g_autofree char *payload = g_strdup_printf(
			"Subject: x\r\n\r\nhi%sMAIL FROM:<ceo@example.org>\r\nRCPT "
			"TO:<v@example.net>\r\nDATA\r\n\r\nfake\r\n.\r\n",
			endings[i]);
		const Step steps[] = {ENVELOPE,
				      {"DATA\r\n", "354 "},
				      {payload, "550 5.6.0"},
				      {"NOOP\r\n", "250 "},
				      {NULL, NULL}};

		converse(fixture, steps);
		g_assert_cmpuint(count_queued(fixture), ==, 0);
	}
}

static void
test_session_invalid_sender(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {{"EHLO client.example\r\n", "250 "},
			      {"MAIL FROM:<;sleep 66;>\r\n", "501 5.1.7"},
			      {"MAIL FROM:<a@example.org> SIZE=99999999999\r\n", "552 5.3.4"},
			      {"MAIL FROM:<a@example.org> FOO=1\r\n", "555 5.5.4"},
			      {"RCPT TO:<b@example.net>\r\n", "503 5.5.1"},
			      {"MAIL FROM:<>\r\n", "250 "},
			      {NULL, NULL}};

	converse(fixture, steps);
}

static void
test_session_long_lines(Fixture *fixture, gconstpointer data)
{
	g_autofree char *long_command = g_strnfill(600, 'a');
	g_autofree char *ehlo = g_strdup_printf("EHLO %s\r\n", long_command);
	g_autofree char *long_line = g_strnfill(1200, 'b');
	g_autofree char *message = g_strdup_printf("Subject: x\r\n\r\n%s\r\n.\r\n", long_line);
	const Step steps[] = {{ehlo, "500 5.5.2"},
			      {"NOOP\r\n", "250 "},
			      ENVELOPE,
			      {"DATA\r\n", "354 "},
			      {message, "500 5.5.2"},
			      {"NOOP\r\n", "250 "},
			      {NULL, NULL}};

	converse(fixture, steps);
	g_assert_cmpuint(count_queued(fixture), ==, 0);
}

static void
test_session_too_big(Fixture *fixture, gconstpointer data)
{
	g_autofree char *line = g_strnfill(900, 'c');
	g_autofree char *message = g_strdup_printf("Subject: x\r\n\r\n%s\r\n%s\r\n%s\r\n.\r\n",
						   line, line, line);
	const Step steps[] = {ENVELOPE,
			      {"DATA\r\n", "354 "},
			      {message, "552 5.3.4"},
			      {"BDAT 3 LAST\r\nabc", "503 5.5.1"},
			      {NULL, NULL}};

	converse(fixture, steps);
	g_assert_cmpuint(count_queued(fixture), ==, 0);
}

static void
test_session_bdat(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {ENVELOPE,
			      {"BDAT 17\r\nFrom: a@b.org\r\n\r\n", "250 2.0.0"},
			      /* Two pipelined chunks in one write. */
			      {"BDAT 3\r\nabcBDAT 4 LAST\r\nde\r\n", "250 2.0.0"},
			      {NULL, "250 2.0.0 Ok: queued as"},
			      {"BDAT 3\r\nabc", "503 5.5.1"},
			      {"BDAT 99999999999999999999\r\n", "501 5.5.4"},
			      ENVELOPE,
			      {"BDAT 3\r\nabc", "250 "},
			      {"DATA\r\n", "503 5.5.1"},
			      {"BDAT 0 LAST\r\n", "550 5.6.0"},
			      {NULL, NULL}};
	g_autoptr(GBytes) body = NULL;
	g_autofree char *text = NULL;

	converse(fixture, steps);
	body = load_only_message(fixture);
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	g_assert_true(g_str_has_suffix(text, "From: a@b.org\r\n\r\nabcde\r\n"));
}

static void
test_session_auth_needs_tls(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {{"EHLO client.example\r\n", "250 CHUNKING"},
			      {"AUTH PLAIN AGEAYg==\r\n", "530 5.7.0"},
			      {"STARTTLS extra\r\n", "501 5.5.4"},
			      {"FOO\r\n", "500 5.5.1"},
			      {"NOOP\n", "500 5.5.2"},
			      {"QUIT\r\n", "221 "},
			      {NULL, NULL}};

	converse(fixture, steps);
}

static void
test_session_refusals(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {{"EHLO bad;name\r\n", "501 5.5.4"},
			      {"EHLO host_with_underscore.example\r\n", "250 "},
			      {"MAIL FROM:<a@example.org>\r\n", "250 "},
			      {"RCPT TO:<postmaster>\r\n", "550 5.1.3"},
			      {"RCPT TO:<a@[127.0.0.2]>\r\n", "550 5.1.2"},
			      {"RCPT TO:<b@example.net>\r\n", "250 "},
			      {"DATA\r\n", "354 "},
			      {"Subject: x\r\n\r\nhi\r\n\0.\r\n.\r\n", "550 5.6.0", 25},
			      {NULL, NULL}};

	converse(fixture, steps);
	g_assert_cmpuint(count_queued(fixture), ==, 0);
}

static void
test_session_bdat_bad_args(Fixture *fixture, gconstpointer data)
{
	const Step steps[] = {ENVELOPE,
			      /* The 4 octets after a malformed BDAT are skipped, not run. */
			      {"BDAT 4 LASTX\r\nNOOP", "501 5.5.4"},
			      {"\r\nNOOP\r\n", "500 "},
			      {NULL, "250 "},
			      {NULL, NULL}};

	converse(fixture, steps);
	g_assert_cmpuint(count_queued(fixture), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/smtp/session/data-accepted", Fixture, NULL, fixture_set_up,
		   test_session_data_accepted, fixture_tear_down);
	g_test_add("/smtp/session/smuggling", Fixture, NULL, fixture_set_up,
		   test_session_smuggling, fixture_tear_down);
	g_test_add("/smtp/session/invalid-sender", Fixture, NULL, fixture_set_up,
		   test_session_invalid_sender, fixture_tear_down);
	g_test_add("/smtp/session/long-lines", Fixture, NULL, fixture_set_up,
		   test_session_long_lines, fixture_tear_down);
	g_test_add("/smtp/session/too-big", Fixture, NULL, fixture_set_up, test_session_too_big,
		   fixture_tear_down);
	g_test_add("/smtp/session/bdat", Fixture, NULL, fixture_set_up, test_session_bdat,
		   fixture_tear_down);
	g_test_add("/smtp/session/auth-needs-tls", Fixture, NULL, fixture_set_up,
		   test_session_auth_needs_tls, fixture_tear_down);
	g_test_add("/smtp/session/refusals", Fixture, NULL, fixture_set_up,
		   test_session_refusals, fixture_tear_down);
	g_test_add("/smtp/session/bdat-bad-args", Fixture, NULL, fixture_set_up,
		   test_session_bdat_bad_args, fixture_tear_down);
	return g_test_run();
}
