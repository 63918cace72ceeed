/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The command-line contract of outpost-sendmail: the sendmail options that
 * programs such as PHP's mail() and cron pass, and the sysexits.h status
 * that reports what became of the message.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gboolean extract_recipients; /* -t: recipients from To:, Cc: and Bcc: too */
	gboolean verbose;	     /* -v: show the SMTP dialogue on standard error */
	gboolean help;		     /* --help */
	char *sender;		     /* -f or -r, NULL when not given */
	char *full_name;	     /* -F, NULL when not given */
	char *socket_path;	     /* --socket, NULL when not given */
	GPtrArray *recipients;	     /* char *: the arguments after the options */
} OpSendmailArgs;

/* Parses argv[1..argc-1] as sendmail does: options first, then recipients;
 * "--" or the first argument that is no option ends the options. Options
 * that only tune the classic sendmail (-i, -oi, -oX, -OX=Y, -B, -N, -R, -V,
 * -m, -n, -U, -G, -c, -x, -e, -h, -C, -L, -p, -X) are accepted and ignored:
 * input always ends at end of file, never at a lone ".". Modes other than
 * sending (-bs, -bv, -bp, -bi, -q, -I and more) fail, as do unknown options,
 * with OP_ERROR_INVALID_ARGUMENT and a sentence for the user. Initialises
 * @args, which the caller clears with op_sendmail_args_clear() either way. */
gboolean op_sendmail_args_parse(OpSendmailArgs *args, int argc, char **argv, GError **error);
void op_sendmail_args_clear(OpSendmailArgs *args);

/* The step of the SMTP dialogue that a reply belongs to. */
typedef enum {
	OP_SENDMAIL_STEP_GREETING, /* the greeting and EHLO */
	OP_SENDMAIL_STEP_MAIL,
	OP_SENDMAIL_STEP_RCPT,
	OP_SENDMAIL_STEP_DATA,	   /* the 354 to DATA */
	OP_SENDMAIL_STEP_MESSAGE,  /* the reply after the final dot */
} OpSendmailStep;

/* Returns the sysexits.h status for a reply that failed @step. A 4xx reply
 * gives EX_TEMPFAIL. A 5xx reply gives EX_NOPERM for a policy rejection
 * (5.7.x), EX_NOUSER at RCPT, EX_UNAVAILABLE for the greeting and EHLO, and
 * EX_DATAERR for the sender or the message. Any other code gives
 * EX_PROTOCOL. */
int op_sendmail_exit_status(OpSendmailStep step, guint code, const char *enhanced);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSendmailArgs, op_sendmail_args_clear)

G_END_DECLS
