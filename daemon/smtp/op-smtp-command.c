/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Splits an SMTP command line into its verb and arguments (RFC 5321 §4.1.1)
 * and parses the BDAT arguments (RFC 3030 §2). The session enforces the line
 * length limit, so this code accepts lines of any length.
 */
#include "smtp/op-smtp-command.h"

#include "op-error.h"

#include <string.h>

/* clang-format off */
static const char *const op_smtp_verb_names[] = {
	[OP_SMTP_VERB_UNKNOWN] = "UNKNOWN",
	[OP_SMTP_VERB_HELO] = "HELO",
	[OP_SMTP_VERB_EHLO] = "EHLO",
	[OP_SMTP_VERB_MAIL] = "MAIL",
	[OP_SMTP_VERB_RCPT] = "RCPT",
	[OP_SMTP_VERB_DATA] = "DATA",
	[OP_SMTP_VERB_BDAT] = "BDAT",
	[OP_SMTP_VERB_RSET] = "RSET",
	[OP_SMTP_VERB_NOOP] = "NOOP",
	[OP_SMTP_VERB_QUIT] = "QUIT",
	[OP_SMTP_VERB_VRFY] = "VRFY",
	[OP_SMTP_VERB_EXPN] = "EXPN",
	[OP_SMTP_VERB_HELP] = "HELP",
	[OP_SMTP_VERB_STARTTLS] = "STARTTLS",
	[OP_SMTP_VERB_AUTH] = "AUTH",
};
/* clang-format on */

const char *
op_smtp_verb_to_string(OpSmtpVerb verb)
{
	if ((guint)verb >= G_N_ELEMENTS(op_smtp_verb_names))
		return "UNKNOWN";
	return op_smtp_verb_names[verb];
}

static OpSmtpVerb
op_smtp_verb_lookup(const char *word, gsize len)
{
	for (guint i = OP_SMTP_VERB_UNKNOWN + 1; i < G_N_ELEMENTS(op_smtp_verb_names); i++) {
		const char *name = op_smtp_verb_names[i];

		if (strlen(name) == len && g_ascii_strncasecmp(name, word, len) == 0)
			return (OpSmtpVerb)i;
	}
	return OP_SMTP_VERB_UNKNOWN;
}

static gboolean
op_smtp_is_separator(char c)
{
	return c == ' ' || c == '\t';
}

/* Rejects NUL and the other C0 controls and DEL. TAB is allowed because some
 * clients separate arguments with it. CR and LF can only appear here if the
 * client sent a bare one, which must never split a command. */
static gboolean
op_smtp_check_controls(const char *line, gsize len, GError **error)
{
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "command contains the control character 0x%02x", c);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
op_smtp_command_parse(const char *line, gsize len, OpSmtpCommand *command, GError **error)
{
	gsize verb_end = 0;
	gsize args_start;
	gsize args_end = len;

	g_return_val_if_fail(line != NULL || len == 0, FALSE);
	g_return_val_if_fail(command != NULL, FALSE);

	memset(command, 0, sizeof(*command));
	if (!op_smtp_check_controls(line, len, error))
		return FALSE;

	/* UTF-8 is checked on the whole line. RFC 6531 allows it in the MAIL and
	 * RCPT paths, other arguments are only ever treated as text, and a
	 * non-ASCII verb stays unknown. */
	if (!g_utf8_validate_len(line, len, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "command is not valid UTF-8");
		return FALSE;
	}

	while (verb_end < len && !op_smtp_is_separator(line[verb_end]))
		verb_end++;
	args_start = verb_end;
	while (args_start < len && op_smtp_is_separator(line[args_start]))
		args_start++;
	while (args_end > args_start && op_smtp_is_separator(line[args_end - 1]))
		args_end--;

	command->verb = op_smtp_verb_lookup(line, verb_end);
	command->args = g_strndup(line + args_start, args_end - args_start);
	return TRUE;
}

void
op_smtp_command_clear(OpSmtpCommand *command)
{
	if (command == NULL)
		return;
	g_clear_pointer(&command->args, g_free);
	command->verb = OP_SMTP_VERB_UNKNOWN;
}

static gboolean
op_smtp_parse_decimal(const char *text, gsize len, guint64 *value)
{
	guint64 result = 0;

	if (len == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		guint digit;

		if (!g_ascii_isdigit(text[i]))
			return FALSE;
		digit = (guint)(text[i] - '0');
		if (result > (G_MAXUINT64 - digit) / 10)
			return FALSE;
		result = result * 10 + digit;
	}
	*value = result;
	return TRUE;
}

gboolean
op_smtp_parse_bdat_args(const char *args, guint64 *size, gboolean *last, GError **error)
{
	const char *end;
	const char *marker;

	g_return_val_if_fail(args != NULL, FALSE);

	end = args;
	while (*end != '\0' && *end != ' ')
		end++;
	if (!op_smtp_parse_decimal(args, (gsize)(end - args), size)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid BDAT chunk size: expected a decimal number below 2^64");
		return FALSE;
	}

	marker = end;
	while (*marker == ' ')
		marker++;
	if (*marker == '\0') {
		*last = FALSE;
		return TRUE;
	}
	if (g_ascii_strcasecmp(marker, "LAST") == 0) {
		*last = TRUE;
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid BDAT arguments: expected \"SIZE\" or \"SIZE LAST\"");
	return FALSE;
}
