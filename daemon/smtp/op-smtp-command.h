/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Splits one SMTP command line (without its CRLF) into a verb and its
 * arguments, and parses the arguments of BDAT (RFC 3030). A pure parser over
 * a buffer: no sockets and no logging, so it can be unit-tested and fuzzed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OP_SMTP_VERB_UNKNOWN,
	OP_SMTP_VERB_HELO,
	OP_SMTP_VERB_EHLO,
	OP_SMTP_VERB_MAIL,
	OP_SMTP_VERB_RCPT,
	OP_SMTP_VERB_DATA,
	OP_SMTP_VERB_BDAT,
	OP_SMTP_VERB_RSET,
	OP_SMTP_VERB_NOOP,
	OP_SMTP_VERB_QUIT,
	OP_SMTP_VERB_VRFY,
	OP_SMTP_VERB_EXPN,
	OP_SMTP_VERB_HELP,
	OP_SMTP_VERB_STARTTLS,
	OP_SMTP_VERB_AUTH
} OpSmtpVerb;

typedef struct {
	OpSmtpVerb verb;
	/* The text after the verb and its separating spaces: "" when there is
	 * none, never NULL after a successful parse. */
	char *args;
} OpSmtpCommand;

/* Parses @line (@len octets, the CRLF excluded). An unknown verb parses
 * successfully as OP_SMTP_VERB_UNKNOWN. Trailing blanks are dropped from the
 * arguments. Fails with OP_ERROR_INVALID_ARGUMENT on a NUL or another control
 * character except TAB, or when the line is not valid UTF-8. Valid non-ASCII
 * text passes anywhere, so the session checks that the client sent SMTPUTF8
 * (RFC 6531). */
gboolean op_smtp_command_parse(const char *line, gsize len, OpSmtpCommand *command, GError **error);
void op_smtp_command_clear(OpSmtpCommand *command);

/* Returns the upper-case verb name, "UNKNOWN" for OP_SMTP_VERB_UNKNOWN. */
const char *op_smtp_verb_to_string(OpSmtpVerb verb);

/* Parses the BDAT arguments "SIZE" or "SIZE LAST" (RFC 3030 §2): SIZE is
 * decimal digits only, no sign, and must fit in a guint64; LAST is matched
 * case-insensitively. Fails with OP_ERROR_INVALID_ARGUMENT otherwise. */
gboolean op_smtp_parse_bdat_args(const char *args, guint64 *size, gboolean *last, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSmtpCommand, op_smtp_command_clear)

G_END_DECLS
