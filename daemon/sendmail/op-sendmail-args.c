/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses the sendmail command line the way sendmail 8 and Postfix's
 * sendmail read it, keeping only what matters to a program that hands one
 * message to outpostd, and maps SMTP replies to sysexits.h statuses.
 */
#include "sendmail/op-sendmail-args.h"

#include "op-error.h"

#include <string.h>
#include <sysexits.h>

/* Options without a value. Only -t and -v change anything here. */
#define OP_FLAG_OPTIONS "tiGmnUcvx"
/* Options with a value, inline (-fSENDER) or in the next argument. */
#define OP_VALUE_OPTIONS "fFrbBCehoLNOpRVX"

typedef struct {
	const char *mode;
	const char *description;
} OpUnsupportedMode;

/* The -b modes of sendmail 8 and Postfix other than -bm. */
static const OpUnsupportedMode op_unsupported_modes[] = {
	{"s", "SMTP on standard input: connect to the submission port instead"},
	{"v", "address verification"},
	{"p", "listing the queue: use outpostctl queue list"},
	{"i", "rebuilding the aliases database: Outpost has no aliases"},
	{"d", "running as a daemon: that is outpostd"},
	{"D", "running as a daemon: that is outpostd"},
	{"t", "address test mode"},
	{"a", "ARPANET mode"},
	{"h", "host status"},
	{"H", "host status"},
	{"P", "queue statistics: use outpostctl queue totals"},
};

void
op_sendmail_args_clear(OpSendmailArgs *args)
{
	g_clear_pointer(&args->sender, g_free);
	g_clear_pointer(&args->full_name, g_free);
	g_clear_pointer(&args->socket_path, g_free);
	g_clear_pointer(&args->recipients, g_ptr_array_unref);
}

static gboolean
check_mode(const char *mode, GError **error)
{
	if (strcmp(mode, "m") == 0)
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(op_unsupported_modes); i++) {
		if (strcmp(mode, op_unsupported_modes[i].mode) == 0) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "-b%s (%s) is not supported: outpost-sendmail only sends a "
				    "message read from standard input (-bm)",
				    mode, op_unsupported_modes[i].description);
			return FALSE;
		}
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown mode -b%s: outpost-sendmail only sends a message read from standard "
		    "input (-bm)",
		    mode);
	return FALSE;
}

static gboolean
apply_value(OpSendmailArgs *args, char option, const char *value, GError **error)
{
	switch (option) {
	case 'f':
	case 'r': /* the old name of -f */
		g_free(args->sender);
		args->sender = g_strdup(value);
		return TRUE;
	case 'F':
		g_free(args->full_name);
		args->full_name = g_strdup(value);
		return TRUE;
	case 'b':
		return check_mode(value, error);
	default:
		/* -oi and every other tuning option of the classic sendmail. */
		return TRUE;
	}
}

/* Reads the value of @option: the rest of the argument, or the next one. */
static gboolean
take_value(int argc, char **argv, int *index, const char *rest, char option, const char **value,
	   GError **error)
{
	if (*rest != '\0') {
		*value = rest;
		return TRUE;
	}
	if (*index + 1 >= argc) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "option -%c needs a value",
			    option);
		return FALSE;
	}
	*index += 1;
	*value = argv[*index];
	return TRUE;
}

/* Parses one argument of single-letter options, such as "-ti" or "-fSENDER". */
static gboolean
parse_short_options(OpSendmailArgs *args, int argc, char **argv, int *index, GError **error)
{
	for (const char *p = argv[*index] + 1; *p != '\0'; p++) {
		const char *value = NULL;

		if (*p == 't')
			args->extract_recipients = TRUE;
		else if (*p == 'v')
			args->verbose = TRUE;
		if (strchr(OP_FLAG_OPTIONS, *p) != NULL)
			continue;
		if (*p == 'q' || *p == 'I') {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "-%c is not supported: outpostd runs its queue itself, and "
				    "outpostctl queue retry sends queued mail at once",
				    *p);
			return FALSE;
		}
		if (strchr(OP_VALUE_OPTIONS, *p) == NULL) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "unknown option -%c: see outpost-sendmail --help", *p);
			return FALSE;
		}
		if (!take_value(argc, argv, index, p + 1, *p, &value, error))
			return FALSE;
		return apply_value(args, *p, value, error);
	}
	return TRUE;
}

static gboolean
parse_long_option(OpSendmailArgs *args, int argc, char **argv, int *index, GError **error)
{
	const char *arg = argv[*index];

	if (strcmp(arg, "--help") == 0) {
		args->help = TRUE;
		return TRUE;
	}
	if (g_str_has_prefix(arg, "--socket=")) {
		g_free(args->socket_path);
		args->socket_path = g_strdup(arg + strlen("--socket="));
		return TRUE;
	}
	if (strcmp(arg, "--socket") == 0) {
		if (*index + 1 >= argc) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "option --socket needs a value");
			return FALSE;
		}
		*index += 1;
		g_free(args->socket_path);
		args->socket_path = g_strdup(argv[*index]);
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown option %s: see outpost-sendmail --help", arg);
	return FALSE;
}

gboolean
op_sendmail_args_parse(OpSendmailArgs *args, int argc, char **argv, GError **error)
{
	int i;

	memset(args, 0, sizeof *args);
	args->recipients = g_ptr_array_new_with_free_func(g_free);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		/* A lone "-" is no option, as for getopt(3). */
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] == '-') {
			if (!parse_long_option(args, argc, argv, &i, error))
				return FALSE;
		} else if (!parse_short_options(args, argc, argv, &i, error)) {
			return FALSE;
		}
	}
	for (; i < argc; i++)
		g_ptr_array_add(args->recipients, g_strdup(argv[i]));
	return TRUE;
}

int
op_sendmail_exit_status(OpSendmailStep step, guint code, const char *enhanced)
{
	if (code >= 400 && code < 500)
		return EX_TEMPFAIL;
	if (code < 500 || code > 599)
		return EX_PROTOCOL;
	if (enhanced != NULL && g_str_has_prefix(enhanced, "5.7."))
		return EX_NOPERM;
	switch (step) {
	case OP_SENDMAIL_STEP_GREETING:
		return EX_UNAVAILABLE;
	case OP_SENDMAIL_STEP_RCPT:
		return EX_NOUSER;
	case OP_SENDMAIL_STEP_MAIL:
	case OP_SENDMAIL_STEP_DATA:
	case OP_SENDMAIL_STEP_MESSAGE:
	default:
		return EX_DATAERR;
	}
}
