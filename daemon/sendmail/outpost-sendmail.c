/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpost-sendmail: the sendmail command for local programs (PHP's mail(),
 * cron, scripts). It reads one message from standard input and submits it
 * to outpostd over the sendmail socket, where the daemon identifies the
 * caller by uid. The exit status follows sysexits.h.
 */
#define G_LOG_DOMAIN "outpost-sendmail"

#include "delivery/op-smtp-reply.h"
#include "op-config.h"
#include "op-error.h"
#include "sendmail/op-sendmail-args.h"
#include "sendmail/op-sendmail-message.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* Seconds one read or write on the socket may take, and so the longest
 * wait for outpostd to queue the message after the final dot. */
#define OP_SENDMAIL_IO_TIMEOUT 300
/* Connection attempts while the daemon's listen queue is full: about 5 s in all. */
#define OP_SENDMAIL_CONNECT_TRIES 13
/* While a slow program is still writing the message, a NOOP this often
 * keeps the session alive: outpostd closes silent sessions after
 * session_timeout, 300 s by default. */
#define OP_SENDMAIL_KEEPALIVE_MS (60 * 1000)
/* The largest message read when the server announces no SIZE, which
 * outpostd always does: the default max_message_size. */
#define OP_SENDMAIL_FALLBACK_MAX_SIZE (25 * 1024 * 1024)
#define OP_SENDMAIL_READ_CHUNK 65536

typedef struct {
	GSocketConnection *connection;
	GInputStream *input;
	GOutputStream *output;
	gboolean verbose;
	int status;	    /* the exit status once something failed */
	gboolean data_sent; /* the final dot went out: the message may be queued */

	char buffer[OP_SMTP_REPLY_MAX_LINE + 2];
	gsize buffer_start;
	gsize buffer_end;

	/* Learnt from the greeting and the EHLO reply. */
	char *hostname;
	guint64 max_size;
	gboolean size_offered;
	gboolean eightbitmime;
	gboolean smtputf8;
} OpSendmail;

static void
op_sendmail_clear(OpSendmail *sm)
{
	if (sm->connection != NULL)
		g_io_stream_close(G_IO_STREAM(sm->connection), NULL, NULL);
	g_clear_object(&sm->connection);
	g_clear_pointer(&sm->hostname, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSendmail, op_sendmail_clear)

/* Prints a failure and records the exit status. Returns FALSE. */
static gboolean G_GNUC_PRINTF(3, 4)
fail(OpSendmail *sm, int status, const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list args;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("outpost-sendmail: %s\n", text);
	sm->status = status;
	return FALSE;
}

static gboolean
fail_connection(OpSendmail *sm, const GError *error)
{
	if (sm->data_sent)
		return fail(sm, EX_TEMPFAIL, "the connection to outpostd failed after the message "
					     "was sent: %s; it may have been queued, so sending it "
					     "again may deliver it twice",
			    error->message);
	return fail(sm, EX_TEMPFAIL, "the connection to outpostd failed: %s; the message was "
				     "not sent",
		    error->message);
}

/* ---- The SMTP dialogue ---------------------------------------------------- */

static gboolean
read_line(OpSendmail *sm, const char **line, gsize *len, GError **error)
{
	for (;;) {
		char *start = sm->buffer + sm->buffer_start;
		gsize pending = sm->buffer_end - sm->buffer_start;
		gssize n;

		for (gsize i = 0; i + 1 < pending; i++) {
			if (start[i] == '\r' && start[i + 1] == '\n') {
				start[i] = '\0';
				*line = start;
				*len = i;
				sm->buffer_start += i + 2;
				return TRUE;
			}
		}
		if (pending >= OP_SMTP_REPLY_MAX_LINE) {
			g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
				    "outpostd sent a reply line longer than %d octets",
				    OP_SMTP_REPLY_MAX_LINE);
			return FALSE;
		}
		memmove(sm->buffer, start, pending);
		sm->buffer_start = 0;
		sm->buffer_end = pending;
		n = g_input_stream_read(sm->input, sm->buffer + pending,
					sizeof sm->buffer - pending - 1, NULL, error);
		if (n < 0)
			return FALSE;
		if (n == 0) {
			g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
				    "outpostd closed the connection");
			return FALSE;
		}
		sm->buffer_end += (gsize)n;
	}
}

/* Reads one reply. Returns FALSE, with the failure printed, when the
 * connection broke or the reply was invalid. */
static gboolean
read_reply(OpSendmail *sm, OpSmtpReply *reply)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_autoptr(GError) error = NULL;

	op_smtp_reply_parser_init(&parser);
	for (;;) {
		const char *line = NULL;
		gsize len = 0;

		if (!read_line(sm, &line, &len, &error))
			return fail_connection(sm, error);
		if (sm->verbose)
			g_printerr("<<< %s\n", line);
		if (op_smtp_reply_parser_feed(&parser, line, len, reply, &error))
			return TRUE;
		if (error != NULL)
			return fail(sm, EX_PROTOCOL, "outpostd sent an invalid reply: %s",
				    error->message);
	}
}

/* Sends one command line. Addresses come from the user, so a CR or LF in
 * one must never reach the socket as a second command. */
static gboolean
send_command(OpSendmail *sm, const char *command)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *line = g_strconcat(command, "\r\n", NULL);

	if (strpbrk(command, "\r\n") != NULL)
		return fail(sm, EX_DATAERR, "invalid address: it contains a line break");
	if (sm->verbose)
		g_printerr(">>> %s\n", command);
	if (!g_output_stream_write_all(sm->output, line, strlen(line), NULL, NULL, &error))
		return fail_connection(sm, error);
	return TRUE;
}

/* Fails with the reply and the exit status that fits @step unless the reply
 * has the code @expected. @what names the request in the message. */
static gboolean
check_reply(OpSendmail *sm, const OpSmtpReply *reply, guint expected, OpSendmailStep step,
	    const char *what)
{
	g_autofree char *text = NULL;

	if (reply->code == expected)
		return TRUE;
	text = op_smtp_reply_to_string(reply);
	return fail(sm, op_sendmail_exit_status(step, reply->code, reply->enhanced), "%s: %s",
		    what, text);
}

static gboolean
exchange(OpSendmail *sm, const char *command, guint expected, OpSendmailStep step,
	 const char *what)
{
	g_auto(OpSmtpReply) reply = {0};

	return send_command(sm, command) && read_reply(sm, &reply) &&
	       check_reply(sm, &reply, expected, step, what);
}

static void
quit(OpSendmail *sm)
{
	g_auto(OpSmtpReply) reply = {0};
	int status = sm->status;

	/* A failure here changes nothing for the message, so it is not reported. */
	if (sm->connection != NULL && send_command(sm, "QUIT"))
		read_reply(sm, &reply);
	sm->status = status;
}

/* ---- Connecting ---------------------------------------------------------- */

static gboolean
connect_socket(OpSendmail *sm, const char *path)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
	g_autoptr(GError) error = NULL;

	g_socket_client_set_timeout(client, OP_SENDMAIL_IO_TIMEOUT);
	/* A UNIX socket has no proxy, and looking for one loads GIO modules. */
	g_socket_client_set_enable_proxy(client, FALSE);
	/* Linux refuses a connection to a UNIX socket whose listen queue is full
	 * with EAGAIN instead of queueing it: a busy daemon gets a few seconds to
	 * catch up before the message is given up as temporarily failed. */
	for (guint attempt = 0;; attempt++) {
		sm->connection = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address),
							 NULL, &error);
		if (sm->connection != NULL || attempt == OP_SENDMAIL_CONNECT_TRIES ||
		    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			break;
		g_clear_error(&error);
		g_usleep((attempt + 1) * 50 * 1000);
	}
	if (sm->connection == NULL && g_error_matches(error, G_IO_ERROR,
						      G_IO_ERROR_PERMISSION_DENIED))
		return fail(sm, EX_TEMPFAIL,
			    "cannot reach outpostd at %s: %s; the message was not sent (the socket "
			    "must be in a directory every user can search: see sendmail_socket in "
			    "outpost.conf)",
			    path, error->message);
	if (sm->connection == NULL)
		return fail(sm, EX_TEMPFAIL, "cannot reach outpostd at %s: %s; the message was "
					     "not sent (is outpostd running? --socket or "
					     "OUTPOST_SENDMAIL_SOCKET choose another socket)",
			    path, error->message);
	sm->input = g_io_stream_get_input_stream(G_IO_STREAM(sm->connection));
	sm->output = g_io_stream_get_output_stream(G_IO_STREAM(sm->connection));
	return TRUE;
}

static gboolean
is_host_name(const char *text)
{
	return *text != '\0' && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789.-") == strlen(text);
}

static void
read_extensions(OpSendmail *sm, const OpSmtpReply *reply)
{
	/* The first line greets; each further one names an extension. */
	for (guint i = 1; reply->lines[i] != NULL; i++) {
		const char *line = reply->lines[i];
		guint64 size = 0;

		if (g_ascii_strncasecmp(line, "SIZE", 4) == 0 && (line[4] == ' ' || !line[4])) {
			g_autofree char *number = g_strstrip(g_strdup(line + 4));

			sm->size_offered = TRUE;
			/* RFC 1870 §4: SIZE 0 or no number means no fixed limit. */
			if (g_ascii_string_to_unsigned(number, 10, 1, G_MAXUINT64, &size, NULL))
				sm->max_size = size;
		} else if (g_ascii_strcasecmp(line, "8BITMIME") == 0) {
			sm->eightbitmime = TRUE;
		} else if (g_ascii_strcasecmp(line, "SMTPUTF8") == 0) {
			sm->smtputf8 = TRUE;
		}
	}
}

/* Reads the greeting, whose first word is the daemon's host name, and sends
 * EHLO. */
static gboolean
greet(OpSendmail *sm)
{
	g_auto(OpSmtpReply) greeting = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_auto(GStrv) words = NULL;

	if (!read_reply(sm, &greeting) ||
	    !check_reply(sm, &greeting, 220, OP_SENDMAIL_STEP_GREETING, "outpostd rejected the "
									 "session"))
		return FALSE;
	words = g_strsplit(greeting.lines[0] != NULL ? greeting.lines[0] : "", " ", 2);
	if (words[0] == NULL || !is_host_name(words[0]))
		return fail(sm, EX_PROTOCOL, "outpostd's greeting names no host name");
	sm->hostname = g_strdup(words[0]);
	if (!send_command(sm, "EHLO localhost") || !read_reply(sm, &reply) ||
	    !check_reply(sm, &reply, 250, OP_SENDMAIL_STEP_GREETING, "outpostd rejected EHLO"))
		return FALSE;
	sm->max_size = OP_SENDMAIL_FALLBACK_MAX_SIZE;
	read_extensions(sm, &reply);
	return TRUE;
}

static gboolean
keep_alive(OpSendmail *sm)
{
	return exchange(sm, "NOOP", 250, OP_SENDMAIL_STEP_GREETING, "outpostd rejected NOOP");
}

/* Reads standard input to its end. The dot convention of sendmail without
 * -i does not apply: a line with a lone "." is part of the message. */
static gboolean
read_message(OpSendmail *sm, GByteArray *message)
{
	g_autofree guint8 *chunk = g_malloc(OP_SENDMAIL_READ_CHUNK);

	for (;;) {
		struct pollfd input = {.fd = STDIN_FILENO, .events = POLLIN};
		int ready = poll(&input, 1, OP_SENDMAIL_KEEPALIVE_MS);
		ssize_t n;

		if (ready == 0) {
			if (!keep_alive(sm))
				return FALSE;
			continue;
		}
		n = read(STDIN_FILENO, chunk, OP_SENDMAIL_READ_CHUNK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return fail(sm, EX_IOERR,
				    "reading the message from standard input failed: %s",
				    g_strerror(errno));
		if (n == 0)
			return TRUE;
		if (message->len + (guint64)n > sm->max_size)
			return fail(sm, EX_DATAERR,
				    "the message is larger than outpostd's limit of "
				    "%" G_GUINT64_FORMAT " octets; it was not sent",
				    sm->max_size);
		g_byte_array_append(message, chunk, (guint)n);
	}
}

/* ---- The message ---------------------------------------------------------- */

/* Returns the envelope sender: -f, or the caller's login name at the
 * daemon's host name. */
static char *
dup_sender(OpSendmail *sm, const OpSendmailArgs *args)
{
	g_autoptr(GError) error = NULL;
	struct passwd *entry;
	char *sender;

	if (args->sender != NULL) {
		sender = op_sendmail_parse_sender(args->sender, sm->hostname, &error);
		if (sender == NULL)
			fail(sm, EX_USAGE, "%s", error->message);
		return sender;
	}
	entry = getpwuid(getuid());
	if (entry == NULL) {
		fail(sm, EX_NOUSER, "uid %u has no user name: give a sender address with -f",
		     (guint)getuid());
		return NULL;
	}
	return g_strdup_printf("%s@%s", entry->pw_name, sm->hostname);
}

static gboolean
add_recipients(OpSendmail *sm, const char *text, int status, GPtrArray *recipients)
{
	g_autoptr(GError) error = NULL;

	if (op_sendmail_parse_addresses(text, sm->hostname, recipients, &error))
		return TRUE;
	return fail(sm, status, "%s", error->message);
}

/* Returns the recipients of the arguments and, with -t, of the message's
 * recipient fields, each once. */
static GPtrArray *
collect_recipients(OpSendmail *sm, const OpSendmailArgs *args, GPtrArray *fields)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *unique = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < args->recipients->len; i++) {
		if (!add_recipients(sm, g_ptr_array_index(args->recipients, i), EX_USAGE, all))
			goto failed;
	}
	for (guint i = 0; fields != NULL && i < fields->len; i++) {
		const char *value = g_ptr_array_index(fields, i);

		if (*value != '\0' && !add_recipients(sm, value, EX_DATAERR, all))
			goto failed;
	}
	for (guint i = 0; i < all->len; i++) {
		char *address = g_ptr_array_index(all, i);

		if (g_hash_table_add(seen, address))
			g_ptr_array_add(unique, g_strdup(address));
	}
	if (unique->len > 0)
		return unique;
	fail(sm, EX_USAGE, "no recipients: name them as arguments, or use -t with To:, Cc: or "
			   "Bcc: fields in the message");
failed:
	g_ptr_array_unref(unique);
	return NULL;
}

static gboolean
has_8bit(const GByteArray *message)
{
	for (guint i = 0; i < message->len; i++) {
		if (message->data[i] & 0x80)
			return TRUE;
	}
	return FALSE;
}

/* Converts the message to CRLF and edits its header section. */
static void
prepare_message(const OpSendmailArgs *args, const char *sender, GByteArray *message,
		GPtrArray *fields)
{
	g_autoptr(GByteArray) converted = op_sendmail_to_crlf(message->data, message->len);
	g_autofree char *from = op_sendmail_format_from(sender, args->full_name);

	op_sendmail_edit_headers(converted, from, fields);
	g_byte_array_set_size(message, 0);
	g_byte_array_append(message, converted->data, converted->len);
}

static gboolean
is_ascii(const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p & 0x80)
			return FALSE;
	}
	return TRUE;
}

/* Returns the MAIL command with the parameters the message needs. */
static char *
format_mail_command(OpSendmail *sm, const char *sender, const GByteArray *message,
		    GPtrArray *recipients)
{
	GString *mail = g_string_new(NULL);
	gboolean utf8 = !is_ascii(sender);

	g_string_printf(mail, "MAIL FROM:<%s>", sender);
	/* RFC 1870 §6: the declared size lets outpostd reject a message that is
	 * too large before it is sent. */
	if (sm->size_offered)
		g_string_append_printf(mail, " SIZE=%u", message->len);
	if (sm->eightbitmime && has_8bit(message))
		g_string_append(mail, " BODY=8BITMIME");
	for (guint i = 0; i < recipients->len; i++)
		utf8 |= !is_ascii(g_ptr_array_index(recipients, i));
	/* RFC 6531 §3.4: an address with a UTF-8 local part needs SMTPUTF8. */
	if (utf8 && sm->smtputf8)
		g_string_append(mail, " SMTPUTF8");
	return g_string_free(mail, FALSE);
}

/* ---- Submission ------------------------------------------------------------ */

static gboolean
send_data(OpSendmail *sm, GBytes *stuffed)
{
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(stuffed, &len);

	if (!exchange(sm, "DATA", 354, OP_SENDMAIL_STEP_DATA, "outpostd rejected DATA"))
		return FALSE;
	if (sm->verbose)
		g_printerr(">>> (%zu octets of message and the final dot)\n", len);
	if (!g_output_stream_write_all(sm->output, data, len, NULL, NULL, &error))
		return fail_connection(sm, error);
	sm->data_sent = TRUE;
	if (!read_reply(sm, &reply))
		return FALSE;
	sm->data_sent = FALSE;
	return check_reply(sm, &reply, 250, OP_SENDMAIL_STEP_MESSAGE,
			   "outpostd rejected the message");
}

/* Sends one transaction to the recipients from *next on. When outpostd
 * takes no more recipients in one transaction, the message goes to those
 * accepted so far and *next is left at the first one not yet sent. */
static gboolean
send_transaction(OpSendmail *sm, const char *mail, GPtrArray *recipients, guint *next,
		 GBytes *stuffed)
{
	guint accepted = 0;

	if (!exchange(sm, mail, 250, OP_SENDMAIL_STEP_MAIL, "outpostd rejected the sender"))
		return FALSE;
	for (; *next < recipients->len; (*next)++) {
		const char *recipient = g_ptr_array_index(recipients, *next);
		g_autofree char *command = g_strdup_printf("RCPT TO:<%s>", recipient);
		g_autofree char *what = NULL;
		g_auto(OpSmtpReply) reply = {0};

		if (!send_command(sm, command) || !read_reply(sm, &reply))
			return FALSE;
		if (reply.code == 250 || reply.code == 251) {
			accepted++;
			continue;
		}
		/* RFC 5321 §4.5.3.1.10: "452 too many recipients" requests the
		 * rest in another transaction. */
		if (reply.code == 452 && accepted > 0)
			break;
		what = g_strdup_printf("outpostd rejected the recipient <%s>", recipient);
		return check_reply(sm, &reply, 250, OP_SENDMAIL_STEP_RCPT, what);
	}
	return send_data(sm, stuffed);
}

/* Sends the message to every recipient, in as many transactions as
 * outpostd requests. A rejected recipient stops the submission before DATA,
 * so the caller learns of it while nothing was queued, unless earlier
 * transactions were queued already. */
static gboolean
deliver(OpSendmail *sm, const char *mail, GPtrArray *recipients, GBytes *stuffed)
{
	guint next = 0;

	while (next < recipients->len) {
		guint first = next;

		if (!send_transaction(sm, mail, recipients, &next, stuffed)) {
			if (first > 0)
				g_printerr("outpost-sendmail: the message was queued for the "
					   "first %u of the %u recipients only\n",
					   first, recipients->len);
			return FALSE;
		}
	}
	return TRUE;
}

static int
submit(OpSendmail *sm, const OpSendmailArgs *args, const char *socket_path)
{
	g_autoptr(GByteArray) message = g_byte_array_new();
	g_autoptr(GPtrArray) fields = NULL;
	g_autoptr(GPtrArray) recipients = NULL;
	g_autoptr(GBytes) stuffed = NULL;
	g_autofree char *sender = NULL;
	g_autofree char *mail = NULL;

	if (!connect_socket(sm, socket_path))
		return sm->status;
	if (!greet(sm) || !read_message(sm, message))
		goto out;
	sender = dup_sender(sm, args);
	if (sender == NULL)
		goto out;
	if (args->extract_recipients)
		fields = g_ptr_array_new_with_free_func(g_free);
	prepare_message(args, sender, message, fields);
	if (message->len > sm->max_size) {
		fail(sm, EX_DATAERR, "the message is larger than outpostd's limit of "
				     "%" G_GUINT64_FORMAT " octets; it was not sent",
		     sm->max_size);
		goto out;
	}
	recipients = collect_recipients(sm, args, fields);
	if (recipients == NULL)
		goto out;
	mail = format_mail_command(sm, sender, message, recipients);
	stuffed = op_sendmail_dot_stuff(message->data, message->len);
	if (deliver(sm, mail, recipients, stuffed))
		sm->status = EX_OK;
out:
	quit(sm);
	return sm->status;
}

static void
print_usage(void)
{
	g_print("Usage: outpost-sendmail [OPTION...] [--] [RECIPIENT...]\n"
		"Send the message on standard input through outpostd.\n"
		"\n"
		"  -t            also send to the To:, Cc: and Bcc: addresses of the message;\n"
		"                Bcc: fields are removed in every case\n"
		"  -f SENDER     envelope sender (default: your login name at outpostd's host\n"
		"                name)\n"
		"  -F NAME       display name for the From: field added to a message without one\n"
		"  -v            show the SMTP dialogue on standard error\n"
		"  -i, -oi       accepted: input always ends at end of file, never at a lone '.'\n"
		"  --socket PATH outpostd's sendmail socket (default: $OUTPOST_SENDMAIL_SOCKET, "
		"else\n"
		"                " OP_DEFAULT_SENDMAIL_SOCKET ")\n"
		"  --help        show this help\n"
		"\n"
		"Other sendmail options (-oX, -B, -N, -R, -V...) are accepted and ignored.\n"
		"Exit status: 0 when outpostd queued the message, 75 (EX_TEMPFAIL) to try again\n"
		"later, 64-78 from sysexits.h on other failures, with outpostd's reply on\n"
		"standard error.\n");
}

int
main(int argc, char **argv)
{
	g_auto(OpSendmailArgs) args = {0};
	g_auto(OpSendmail) sm = {.status = EX_SOFTWARE};
	g_autoptr(GError) error = NULL;
	const char *socket_path;

	/* Messages with addresses in UTF-8 print in the user's charset. */
	setlocale(LC_ALL, "");
	/* A daemon that goes away mid-write is an error to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (!op_sendmail_args_parse(&args, argc, argv, &error)) {
		g_printerr("outpost-sendmail: %s\n", error->message);
		return EX_USAGE;
	}
	if (args.help) {
		print_usage();
		return EX_OK;
	}
	if (!args.extract_recipients && args.recipients->len == 0) {
		g_printerr("outpost-sendmail: no recipients: name them as arguments, or use -t\n");
		return EX_USAGE;
	}
	socket_path = args.socket_path;
	if (socket_path == NULL || *socket_path == '\0')
		socket_path = g_getenv("OUTPOST_SENDMAIL_SOCKET");
	if (socket_path == NULL || *socket_path == '\0')
		socket_path = OP_DEFAULT_SENDMAIL_SOCKET;
	sm.verbose = args.verbose;
	return submit(&sm, &args, socket_path);
}
