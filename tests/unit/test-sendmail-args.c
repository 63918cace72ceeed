/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of outpost-sendmail's command line: the sendmail options that PHP,
 * cron and scripts pass, the modes it rejects, and the sysexits.h status
 * for each kind of SMTP reply.
 */
#include "op-error.h"
#include "sendmail/op-sendmail-args.h"

#include <string.h>
#include <sysexits.h>

typedef struct {
	const char *name;
	/* The arguments after the program name, NULL-terminated. */
	const char *argv[8];
	gboolean valid;
	gboolean extract;
	gboolean verbose;
	const char *sender;
	const char *full_name;
	const char *socket;
	/* The recipient arguments joined with "|". */
	const char *recipients;
} ArgsCase;

static const ArgsCase args_cases[] = {
	{"recipient", {"a@example.org", NULL}, TRUE, FALSE, FALSE, NULL, NULL, NULL,
	 "a@example.org"},
	{"php-mail", {"-t", "-i", NULL}, TRUE, TRUE, FALSE, NULL, NULL, NULL, ""},
	{"sender-separate", {"-f", "app@example.org", "a@example.org", NULL}, TRUE, FALSE, FALSE,
	 "app@example.org", NULL, NULL, "a@example.org"},
	{"sender-joined", {"-fapp@example.org", "a@example.org", NULL}, TRUE, FALSE, FALSE,
	 "app@example.org", NULL, NULL, "a@example.org"},
	{"sender-r", {"-r", "app@example.org", "a@example.org", NULL}, TRUE, FALSE, FALSE,
	 "app@example.org", NULL, NULL, "a@example.org"},
	{"sender-last-wins", {"-fa@example.org", "-fb@example.org", "c@example.org", NULL}, TRUE,
	 FALSE, FALSE, "b@example.org", NULL, NULL, "c@example.org"},
	{"full-name", {"-F", "Web Shop", "-t", NULL}, TRUE, TRUE, FALSE, NULL, "Web Shop", NULL,
	 ""},
	{"full-name-joined", {"-FShop", "a@example.org", NULL}, TRUE, FALSE, FALSE, NULL, "Shop",
	 NULL, "a@example.org"},
	{"grouped-flags", {"-tiv", NULL}, TRUE, TRUE, TRUE, NULL, NULL, NULL, ""},
	{"flags-then-value", {"-tfapp@example.org", NULL}, TRUE, TRUE, FALSE, "app@example.org",
	 NULL, NULL, ""},
	{"oi", {"-oi", "a@example.org", NULL}, TRUE, FALSE, FALSE, NULL, NULL, NULL,
	 "a@example.org"},
	{"o-separate", {"-o", "i", "a@example.org", NULL}, TRUE, FALSE, FALSE, NULL, NULL, NULL,
	 "a@example.org"},
	{"other-o", {"-oem", "-odb", "-ODeliveryMode=b", "a@example.org", NULL}, TRUE, FALSE,
	 FALSE, NULL, NULL, NULL, "a@example.org"},
	{"ignored-values", {"-B", "8BITMIME", "-N", "never", "-V", "id", "a@example.org", NULL},
	 TRUE, FALSE, FALSE, NULL, NULL, NULL, "a@example.org"},
	{"ignored-flags", {"-m", "-n", "-U", "-G", "-c", "-x", "a@example.org", NULL}, TRUE,
	 FALSE, FALSE, NULL, NULL, NULL, "a@example.org"},
	{"deliver-mode", {"-bm", "a@example.org", NULL}, TRUE, FALSE, FALSE, NULL, NULL, NULL,
	 "a@example.org"},
	{"double-dash", {"-t", "--", "-odd@example.org", NULL}, TRUE, TRUE, FALSE, NULL, NULL,
	 NULL, "-odd@example.org"},
	{"options-end-at-recipient", {"a@example.org", "-t", NULL}, TRUE, FALSE, FALSE, NULL, NULL,
	 NULL, "a@example.org|-t"},
	{"lone-dash", {"-", NULL}, TRUE, FALSE, FALSE, NULL, NULL, NULL, "-"},
	{"several-recipients", {"a@example.org", "b@example.org, c@example.org", NULL}, TRUE,
	 FALSE, FALSE, NULL, NULL, NULL, "a@example.org|b@example.org, c@example.org"},
	{"socket", {"--socket", "/tmp/s.sock", "a@example.org", NULL}, TRUE, FALSE, FALSE, NULL,
	 NULL, "/tmp/s.sock", "a@example.org"},
	{"socket-equals", {"--socket=/tmp/s.sock", "a@example.org", NULL}, TRUE, FALSE, FALSE,
	 NULL, NULL, "/tmp/s.sock", "a@example.org"},

	{"smtp-mode", {"-bs", NULL}, FALSE},
	{"verify-mode", {"-bv", "a@example.org", NULL}, FALSE},
	{"queue-list-mode", {"-bp", NULL}, FALSE},
	{"newaliases", {"-bi", NULL}, FALSE},
	{"initialise-aliases", {"-I", NULL}, FALSE},
	{"queue-run", {"-q", NULL}, FALSE},
	{"queue-run-interval", {"-q15m", NULL}, FALSE},
	{"unknown-mode", {"-bz", NULL}, FALSE},
	{"unknown-option", {"-k", "a@example.org", NULL}, FALSE},
	{"unknown-long-option", {"--verbose", "a@example.org", NULL}, FALSE},
	{"sender-without-value", {"-f", NULL}, FALSE},
	{"full-name-without-value", {"-t", "-F", NULL}, FALSE},
	{"socket-without-value", {"--socket", NULL}, FALSE},
};

static char *
join_recipients(GPtrArray *recipients)
{
	g_ptr_array_add(recipients, NULL);
	g_ptr_array_set_size(recipients, recipients->len - 1);
	return g_strjoinv("|", (char **)recipients->pdata);
}

static void
test_parse(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(args_cases); i++) {
		const ArgsCase *c = &args_cases[i];
		g_autoptr(GPtrArray) argv = g_ptr_array_new();
		g_auto(OpSendmailArgs) args = {0};
		g_autoptr(GError) error = NULL;
		g_autofree char *recipients = NULL;
		gboolean ok;

		g_test_message("case %s", c->name);
		g_ptr_array_add(argv, (gpointer) "outpost-sendmail");
		for (guint j = 0; c->argv[j] != NULL; j++)
			g_ptr_array_add(argv, (gpointer)c->argv[j]);
		ok = op_sendmail_args_parse(&args, (int)argv->len, (char **)argv->pdata, &error);
		g_assert_cmpint(ok, ==, c->valid);
		if (!c->valid) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpint(args.extract_recipients, ==, c->extract);
		g_assert_cmpint(args.verbose, ==, c->verbose);
		g_assert_cmpstr(args.sender, ==, c->sender);
		g_assert_cmpstr(args.full_name, ==, c->full_name);
		g_assert_cmpstr(args.socket_path, ==, c->socket);
		recipients = join_recipients(args.recipients);
		g_assert_cmpstr(recipients, ==, c->recipients);
	}
}

static void
test_help(void)
{
	char *argv[] = {"outpost-sendmail", "--help", NULL};
	g_auto(OpSendmailArgs) args = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(op_sendmail_args_parse(&args, 2, argv, &error));
	g_assert_no_error(error);
	g_assert_true(args.help);
}

/* The reason names the mode, so the user knows what was rejected. */
static void
test_mode_message(void)
{
	char *argv[] = {"outpost-sendmail", "-bp", NULL};
	g_auto(OpSendmailArgs) args = {0};
	g_autoptr(GError) error = NULL;

	g_assert_false(op_sendmail_args_parse(&args, 2, argv, &error));
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "-bp"));
	g_assert_nonnull(strstr(error->message, "outpostctl queue list"));
}

typedef struct {
	OpSendmailStep step;
	guint code;
	const char *enhanced;
	int status;
} StatusCase;

static const StatusCase status_cases[] = {
	{OP_SENDMAIL_STEP_GREETING, 421, "4.7.0", EX_TEMPFAIL},
	{OP_SENDMAIL_STEP_GREETING, 554, "5.3.2", EX_UNAVAILABLE},
	{OP_SENDMAIL_STEP_MAIL, 451, "4.3.0", EX_TEMPFAIL},
	{OP_SENDMAIL_STEP_MAIL, 553, "5.7.1", EX_NOPERM},
	{OP_SENDMAIL_STEP_MAIL, 553, "5.1.7", EX_DATAERR},
	{OP_SENDMAIL_STEP_MAIL, 552, "5.3.4", EX_DATAERR},
	{OP_SENDMAIL_STEP_RCPT, 550, "5.1.3", EX_NOUSER},
	{OP_SENDMAIL_STEP_RCPT, 550, "", EX_NOUSER},
	{OP_SENDMAIL_STEP_RCPT, 554, "5.7.1", EX_NOPERM},
	{OP_SENDMAIL_STEP_RCPT, 452, "4.5.3", EX_TEMPFAIL},
	{OP_SENDMAIL_STEP_DATA, 554, "5.5.1", EX_DATAERR},
	{OP_SENDMAIL_STEP_MESSAGE, 550, "5.6.0", EX_DATAERR},
	{OP_SENDMAIL_STEP_MESSAGE, 500, "5.5.2", EX_DATAERR},
	{OP_SENDMAIL_STEP_MESSAGE, 553, "5.7.1", EX_NOPERM},
	{OP_SENDMAIL_STEP_MESSAGE, 451, "4.3.0", EX_TEMPFAIL},
	{OP_SENDMAIL_STEP_MESSAGE, 250, "2.0.0", EX_PROTOCOL},
	{OP_SENDMAIL_STEP_DATA, 250, "", EX_PROTOCOL},
};

static void
test_exit_status(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(status_cases); i++) {
		const StatusCase *c = &status_cases[i];

		g_test_message("case %u: step %d, %u %s", i, c->step, c->code, c->enhanced);
		g_assert_cmpint(op_sendmail_exit_status(c->step, c->code, c->enhanced), ==,
				c->status);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sendmail/args/parse", test_parse);
	g_test_add_func("/sendmail/args/help", test_help);
	g_test_add_func("/sendmail/args/mode-message", test_mode_message);
	g_test_add_func("/sendmail/args/exit-status", test_exit_status);
	return g_test_run();
}
