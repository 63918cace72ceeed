/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the SMTP command-line parser and the BDAT argument parser.
 */
#include "smtp/op-smtp-command.h"

#include "op-error.h"

#include <string.h>

typedef struct {
	const char *line;
	OpSmtpVerb verb;
	const char *args;
} CommandCase;

static const CommandCase command_cases[] = {
	{"HELO client.example", OP_SMTP_VERB_HELO, "client.example"},
	{"ehlo client.example", OP_SMTP_VERB_EHLO, "client.example"},
	{"MAIL FROM:<a@b.example>", OP_SMTP_VERB_MAIL, "FROM:<a@b.example>"},
	{"mail from:<a@b.example> SIZE=10", OP_SMTP_VERB_MAIL, "from:<a@b.example> SIZE=10"},
	{"RcPt TO:<a@b.example>", OP_SMTP_VERB_RCPT, "TO:<a@b.example>"},
	{"DATA", OP_SMTP_VERB_DATA, ""},
	{"data ", OP_SMTP_VERB_DATA, ""},
	{"BDAT 5 LAST", OP_SMTP_VERB_BDAT, "5 LAST"},
	{"RSET", OP_SMTP_VERB_RSET, ""},
	{"NOOP anything", OP_SMTP_VERB_NOOP, "anything"},
	{"QUIT", OP_SMTP_VERB_QUIT, ""},
	{"VRFY postmaster", OP_SMTP_VERB_VRFY, "postmaster"},
	{"EXPN list", OP_SMTP_VERB_EXPN, "list"},
	{"HELP", OP_SMTP_VERB_HELP, ""},
	{"StartTLS", OP_SMTP_VERB_STARTTLS, ""},
	{"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", OP_SMTP_VERB_AUTH, "PLAIN dGVzdAB0ZXN0AHRlc3Q="},
	{"AUTH   LOGIN  ", OP_SMTP_VERB_AUTH, "LOGIN"},
	{"AUTH\tLOGIN", OP_SMTP_VERB_AUTH, "LOGIN"},
	{"XYZZY", OP_SMTP_VERB_UNKNOWN, ""},
	{"MAILFROM:<a@b.example>", OP_SMTP_VERB_UNKNOWN, ""},
	{"HELOO x", OP_SMTP_VERB_UNKNOWN, "x"},
	{"", OP_SMTP_VERB_UNKNOWN, ""},
	{" DATA", OP_SMTP_VERB_UNKNOWN, "DATA"},
	{"MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", OP_SMTP_VERB_MAIL,
	 "FROM:<j\xc3\xb6rg@b\xc3\xbc" "cher.example>"},
	{"EHLO b\xc3\xbc" "cher.example", OP_SMTP_VERB_EHLO, "b\xc3\xbc" "cher.example"},
};

static void
test_command_verbs(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(command_cases); i++) {
		const CommandCase *test = &command_cases[i];
		g_auto(OpSmtpCommand) command = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_test_message("line \"%s\"", test->line);
		ok = op_smtp_command_parse(test->line, strlen(test->line), &command, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
		g_assert_cmpint(command.verb, ==, test->verb);
		if (test->verb != OP_SMTP_VERB_UNKNOWN || test->args[0] != '\0')
			g_assert_cmpstr(command.args, ==, test->args);
		g_assert_nonnull(command.args);
	}
}

typedef struct {
	const char *name;
	const char *line;
	gsize len;
} InvalidCase;

#define INVALID(name, text) {name, text, sizeof(text) - 1}

static const InvalidCase invalid_cases[] = {
	INVALID("nul", "MAIL FROM:<a@b>\0RCPT TO:<c@d>"),
	INVALID("nul-only", "\0"),
	INVALID("cr", "DATA\r"),
	INVALID("lf", "NOOP\nQUIT"),
	INVALID("escape", "HELO \x1b[31m"),
	INVALID("del", "HELO a\x7f"),
	INVALID("bad-utf8-mail", "MAIL FROM:<\xff@b.example>"),
	INVALID("bad-utf8-rcpt", "RCPT TO:<a@\xc3\x28.example>"),
	INVALID("bad-utf8-ehlo", "EHLO \xfe\xfe"),
	INVALID("bad-utf8-verb", "\xff\xfe"),
	INVALID("overlong-utf8", "MAIL FROM:<\xc0\xaf@b.example>"),
};

static void
test_command_invalid(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(invalid_cases); i++) {
		const InvalidCase *test = &invalid_cases[i];
		g_auto(OpSmtpCommand) command = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_test_message("case %s", test->name);
		ok = op_smtp_command_parse(test->line, test->len, &command, &error);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_false(ok);
		g_assert_null(command.args);
	}
}

/* The session limits the line length, but the parser must cope with any. */
static void
test_command_long_line(void)
{
	gsize len = 10 * 1024 * 1024;
	g_autofree char *line = g_malloc(len);
	g_auto(OpSmtpCommand) command = {0};
	g_autoptr(GError) error = NULL;

	memcpy(line, "EHLO ", 5);
	memset(line + 5, 'a', len - 5);
	g_assert_true(op_smtp_command_parse(line, len, &command, &error));
	g_assert_no_error(error);
	g_assert_cmpint(command.verb, ==, OP_SMTP_VERB_EHLO);
	g_assert_cmpuint(strlen(command.args), ==, len - 5);
}

static void
test_command_not_terminated(void)
{
	static const char buffer[] = {'Q', 'U', 'I', 'T', 'X'};
	g_auto(OpSmtpCommand) command = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(op_smtp_command_parse(buffer, 4, &command, &error));
	g_assert_cmpint(command.verb, ==, OP_SMTP_VERB_QUIT);
	g_assert_cmpstr(command.args, ==, "");
}

static void
test_verb_to_string(void)
{
	g_assert_cmpstr(op_smtp_verb_to_string(OP_SMTP_VERB_MAIL), ==, "MAIL");
	g_assert_cmpstr(op_smtp_verb_to_string(OP_SMTP_VERB_STARTTLS), ==, "STARTTLS");
	g_assert_cmpstr(op_smtp_verb_to_string(OP_SMTP_VERB_AUTH), ==, "AUTH");
	g_assert_cmpstr(op_smtp_verb_to_string(OP_SMTP_VERB_UNKNOWN), ==, "UNKNOWN");
	g_assert_cmpstr(op_smtp_verb_to_string((OpSmtpVerb)99), ==, "UNKNOWN");
}

typedef struct {
	const char *args;
	gboolean ok;
	guint64 size;
	gboolean last;
} BdatCase;

static const BdatCase bdat_cases[] = {
	{"3", TRUE, 3, FALSE},
	{"0 LAST", TRUE, 0, TRUE},
	{"3 last", TRUE, 3, TRUE},
	{"5 LAST", TRUE, 5, TRUE},
	{"007", TRUE, 7, FALSE},
	{"18446744073709551615", TRUE, G_MAXUINT64, FALSE},
	{"18446744073709551616", FALSE, 0, FALSE},
	{"99999999999999999999", FALSE, 0, FALSE},
	{"-1", FALSE, 0, FALSE},
	{"+1", FALSE, 0, FALSE},
	{"", FALSE, 0, FALSE},
	{"LAST", FALSE, 0, FALSE},
	{"3 LAST extra", FALSE, 0, FALSE},
	{"3 LASTX", FALSE, 0, FALSE},
	{"3x", FALSE, 0, FALSE},
	{"0x10", FALSE, 0, FALSE},
	{" 3", FALSE, 0, FALSE},
	{"3\tLAST", FALSE, 0, FALSE},
};

static void
test_bdat_args(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(bdat_cases); i++) {
		const BdatCase *test = &bdat_cases[i];
		g_autoptr(GError) error = NULL;
		guint64 size = 12345;
		gboolean last = 7;
		gboolean ok;

		g_test_message("args \"%s\"", test->args);
		ok = op_smtp_parse_bdat_args(test->args, &size, &last, &error);
		g_assert_cmpint(ok, ==, test->ok);
		if (!test->ok) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpuint(size, ==, test->size);
		g_assert_cmpint(last, ==, test->last);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/smtp/command/verbs", test_command_verbs);
	g_test_add_func("/smtp/command/invalid", test_command_invalid);
	g_test_add_func("/smtp/command/long-line", test_command_long_line);
	g_test_add_func("/smtp/command/not-terminated", test_command_not_terminated);
	g_test_add_func("/smtp/command/verb-to-string", test_verb_to_string);
	g_test_add_func("/smtp/command/bdat-args", test_bdat_args);
	return g_test_run();
}
