/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The command half of a submission session (RFC 5321, RFC 6409). Each
 * check_* function validates a command and replies on failure, and each
 * proceed_* function acts on a command that passed its checks.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-smtp-session-private.h"
#include "op-worker.h"

#include "auth/op-password.h"
#include "op-error.h"
#include "policy/op-policy.h"
#include "policy/op-sender-policy.h"
#include "smtp/op-address.h"
#include "smtp/op-sasl.h"
#include "smtp/op-smtp-command.h"
#include "smtp/op-smtp-rejections.h"
#include "smtp/op-submission.h"

#include <string.h>

void
op_smtp_session_greet(OpSmtpSession *session)
{
	op_smtp_session_reply(session, "220 %s ESMTP Outpost", session->context->config->hostname);
}

void
op_smtp_session_tls_started(OpSmtpSession *session)
{
	if (session->implicit_tls && session->helo == NULL && session->account == NULL) {
		op_smtp_session_greet(session);
		return;
	}
	/* RFC 3207 §4.2: after STARTTLS the client starts over with EHLO and
	 * the server discards all state from before the handshake. */
	g_clear_pointer(&session->helo, g_free);
	session->esmtp = FALSE;
	op_smtp_session_reset_transaction(session);
}

static gboolean
auth_allowed(OpSmtpSession *session)
{
	return session->tls_active;
}

/* An authenticated account, a client in trusted_networks and a local user
 * on the sendmail socket may send to any domain. */
static gboolean
may_relay(OpSmtpSession *session)
{
	return session->account != NULL || session->trusted || session->local_peer != NULL;
}

static void
proceed_ehlo(OpSmtpSession *session, const char *args, gboolean esmtp)
{
	OpConfig *config = session->context->config;

	g_free(session->helo);
	session->helo = g_strdup(args);
	session->esmtp = esmtp;
	op_smtp_session_reset_transaction(session);
	if (!esmtp) {
		op_smtp_session_reply(session, "250 %s", config->hostname);
		return;
	}
	op_smtp_session_reply(session, "250-%s greets %s", config->hostname, args);
	op_smtp_session_reply(session, "250-PIPELINING");
	op_smtp_session_reply(session, "250-SIZE %" G_GUINT64_FORMAT, config->max_message_size);
	op_smtp_session_reply(session, "250-8BITMIME");
	op_smtp_session_reply(session, "250-ENHANCEDSTATUSCODES");
	/* The sendmail socket never leaves the host and its users are known by
	 * uid, so it offers neither TLS nor AUTH. */
	if (session->local_peer == NULL && !session->tls_active)
		op_smtp_session_reply(session, "250-STARTTLS");
	else if (session->local_peer == NULL && session->account == NULL)
		op_smtp_session_reply(session, "250-AUTH PLAIN LOGIN");
	op_smtp_session_reply(session, "250-SMTPUTF8");
	op_smtp_session_reply(session, "250 CHUNKING");
}

/* RFC 5321 §4.1.1.1 defines the argument as a domain or an address literal. Underscores
 * are allowed because many Windows host names carry them; anything else
 * outside letters, digits, dots and hyphens could forge a trace header. */
static gboolean
is_valid_helo(const char *name)
{
	gsize len = strlen(name);

	if (name[0] == '[')
		return len > 2 && name[len - 1] == ']' &&
		       strspn(name + 1, "0123456789abcdefABCDEF.:IPv6") == len - 2;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
	       len;
}

static void
handle_helo(OpSmtpSession *session, const char *args, gboolean esmtp)
{
	if (*args == '\0' || strchr(args, ' ') != NULL) {
		op_smtp_session_reply(session, "501 5.5.4 Syntax: %s hostname",
				      esmtp ? "EHLO" : "HELO");
		return;
	}
	if (!is_valid_helo(args)) {
		op_smtp_session_reply(session, "501 5.5.4 Invalid %s argument: give this host's "
					       "domain name or an address literal",
				      esmtp ? "EHLO" : "HELO");
		return;
	}
	proceed_ehlo(session, args, esmtp);
}

static void
handle_starttls(OpSmtpSession *session, const char *args)
{
	if (session->tls_active) {
		op_smtp_session_reply(session, "503 5.5.1 TLS is already active");
		return;
	}
	if (session->local_peer != NULL) {
		op_smtp_session_reply(session, "502 5.5.1 STARTTLS is not offered on the local "
					       "socket");
		return;
	}
	if (*args != '\0') {
		op_smtp_session_reply(session, "501 5.5.4 Syntax: STARTTLS takes no arguments");
		return;
	}
	op_smtp_session_reply(session, "220 2.0.0 Ready to start TLS");
	session->starttls_pending = TRUE;
}

/* ---- AUTH (RFC 4954) ---------------------------------------------------- */

typedef struct {
	OpStore *store;
	char *address;
	char *password;
} OpAuthJob;

static void
auth_job_free(OpAuthJob *job)
{
	g_free(job->address);
	if (job->password != NULL)
		explicit_bzero(job->password, strlen(job->password));
	g_free(job->password);
	g_free(job);
}

/* A hash to verify against when the account does not exist, so the time of
 * a failed lookup is close to that of a real check and does not reveal which
 * accounts exist. */
static const char *
get_dummy_hash(void)
{
	static gsize hash = 0;

	if (g_once_init_enter(&hash)) {
		char *value = op_password_hash("outpost-dummy-password", NULL);

		g_once_init_leave(&hash, (gsize)(value ? value : g_strdup("*")));
	}
	return (const char *)hash;
}

static void
auth_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpAuthJob *job = task_data;
	g_autoptr(OpStoreAccount) account = op_store_get_account(job->store, job->address, NULL);
	gboolean ok;

	ok = op_password_verify(job->password, account ? account->password_hash : get_dummy_hash());
	g_task_return_boolean(task, ok && account != NULL && account->enabled);
}

/* Replies 535 to a failed login, or closes the session after too many.
 * Returns FALSE when the session is closing. */
static gboolean
count_auth_failure(OpSmtpSession *session)
{
	session->state = OP_SMTP_STATE_COMMAND;
	g_clear_pointer(&session->login_user, g_free);
	if (++session->auth_failures >= OP_SMTP_MAX_AUTH_FAILURES) {
		op_smtp_session_record_rejection(session, NULL, NULL,
						 "421 4.7.0 Too many failed authentication "
						 "attempts");
		op_smtp_session_shutdown(session, "421 4.7.0 Too many failed authentication "
						  "attempts, closing");
		return FALSE;
	}
	op_smtp_session_reply(session, "535 5.7.8 Authentication credentials invalid");
	return TRUE;
}

static void
auth_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OpSmtpSession) session = user_data;
	OpAuthJob *job = g_task_get_task_data(G_TASK(result));
	gboolean ok = g_task_propagate_boolean(G_TASK(result), NULL);

	session->busy = FALSE;
	if (session->closed)
		return;
	if (ok) {
		session->account = g_strdup(job->address);
		op_session_log(session, G_LOG_LEVEL_INFO, "authenticated account=%s",
			       session->account);
		op_smtp_session_reply(session, "235 2.7.0 Authentication successful");
	} else {
		op_session_log(session, G_LOG_LEVEL_MESSAGE,
			       "authentication failed for %s from %s (failure %u)", job->address,
			       session->remote, session->auth_failures + 1);
		if (!count_auth_failure(session))
			return;
	}
	op_smtp_session_process(session);
	op_smtp_session_flush(session);
	op_smtp_session_update_watch(session);
}

/* Verifies the password in a worker thread: yescrypt is slow by design and
 * must never stall the main loop. Takes ownership of password. */
static void
start_auth_check(OpSmtpSession *session, const char *address, char *password)
{
	OpAuthJob *job = g_new0(OpAuthJob, 1);
	g_autoptr(GTask) task = g_task_new(NULL, NULL, auth_done_cb, op_smtp_session_ref(session));

	job->store = session->context->store;
	job->address = g_strdup(address);
	job->password = password;
	g_task_set_task_data(task, job, (GDestroyNotify)auth_job_free);
	session->busy = TRUE;
	session->state = OP_SMTP_STATE_COMMAND;
	op_worker_run(OP_WORKER_SMTP, task, auth_thread);
}

static void
auth_fail(OpSmtpSession *session, const char *reply)
{
	session->state = OP_SMTP_STATE_COMMAND;
	g_clear_pointer(&session->login_user, g_free);
	op_smtp_session_reply(session, "%s", reply);
}

static void
proceed_auth_plain(OpSmtpSession *session, const char *response)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) decoded = op_sasl_decode_base64(response, &error);
	g_auto(OpSaslCredentials) credentials = {0};

	if (decoded == NULL) {
		auth_fail(session, "501 5.5.2 Invalid base64 in the AUTH response");
		return;
	}
	if (!op_sasl_parse_plain(decoded, &credentials, &error)) {
		count_auth_failure(session);
		return;
	}
	start_auth_check(session, credentials.authcid, g_steal_pointer(&credentials.password));
}

void
op_smtp_session_handle_auth_response(OpSmtpSession *session, const char *line)
{
	g_autoptr(GError) error = NULL;
	char *decoded;

	/* RFC 4954 §4: a lone "*" cancels the exchange. */
	if (strcmp(line, "*") == 0) {
		auth_fail(session, "501 5.7.0 Authentication cancelled");
		return;
	}
	switch (session->state) {
	case OP_SMTP_STATE_AUTH_PLAIN:
		proceed_auth_plain(session, line);
		return;
	case OP_SMTP_STATE_AUTH_LOGIN_USER:
		decoded = op_sasl_decode_login_step(line, &error);
		if (decoded == NULL) {
			auth_fail(session, "501 5.5.2 Invalid base64 in the AUTH response");
			return;
		}
		session->login_user = decoded;
		session->state = OP_SMTP_STATE_AUTH_LOGIN_PASSWORD;
		op_smtp_session_reply(session, "334 UGFzc3dvcmQ6");
		return;
	case OP_SMTP_STATE_AUTH_LOGIN_PASSWORD:
		decoded = op_sasl_decode_login_step(line, &error);
		if (decoded == NULL) {
			auth_fail(session, "501 5.5.2 Invalid base64 in the AUTH response");
			return;
		}
		start_auth_check(session, session->login_user, decoded);
		g_clear_pointer(&session->login_user, g_free);
		return;
	default:
		return;
	}
}

static gboolean
check_auth(OpSmtpSession *session)
{
	if (session->local_peer != NULL) {
		op_smtp_session_reply(session, "503 5.5.1 AUTH is not offered on the local socket: "
					       "local users are known by their uid");
		return FALSE;
	}
	if (!auth_allowed(session)) {
		op_smtp_session_reply(session, "530 5.7.0 Must issue a STARTTLS command first");
		return FALSE;
	}
	if (session->helo == NULL || !session->esmtp) {
		op_smtp_session_reply(session, "503 5.5.1 Send EHLO first");
		return FALSE;
	}
	if (session->account != NULL) {
		op_smtp_session_reply(session, "503 5.5.1 Already authenticated");
		return FALSE;
	}
	if (session->sender != NULL) {
		op_smtp_session_reply(session, "503 5.5.1 AUTH is not allowed during a mail "
					       "transaction");
		return FALSE;
	}
	return TRUE;
}

static void
handle_auth(OpSmtpSession *session, const char *args)
{
	g_auto(GStrv) words = NULL;

	if (!check_auth(session))
		return;
	words = g_strsplit(args, " ", -1);
	if (words[0] == NULL || *words[0] == '\0' || (words[1] != NULL && words[2] != NULL)) {
		op_smtp_session_reply(session, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (g_ascii_strcasecmp(words[0], "PLAIN") == 0) {
		if (words[1] != NULL) {
			proceed_auth_plain(session, words[1]);
			return;
		}
		session->state = OP_SMTP_STATE_AUTH_PLAIN;
		op_smtp_session_reply(session, "334 ");
	} else if (g_ascii_strcasecmp(words[0], "LOGIN") == 0) {
		session->state = OP_SMTP_STATE_AUTH_LOGIN_USER;
		if (words[1] != NULL) {
			op_smtp_session_handle_auth_response(session, words[1]);
			return;
		}
		op_smtp_session_reply(session, "334 VXNlcm5hbWU6");
	} else {
		op_smtp_session_reply(session, "504 5.5.4 Unrecognized authentication mechanism: "
					       "use PLAIN or LOGIN");
	}
}

/* ---- MAIL and RCPT ------------------------------------------------------ */

static gboolean
check_mail_params(OpSmtpSession *session, const OpSmtpPath *path)
{
	guint64 max_size = session->context->config->max_message_size;

	for (guint i = 0; i < path->params->len; i++) {
		const OpSmtpParam *param = g_ptr_array_index(path->params, i);
		guint64 size;

		if (strcmp(param->keyword, "SIZE") == 0) {
			/* RFC 1870 §6: a declared size over the limit fails at once. */
			if (param->value == NULL ||
			    !g_ascii_string_to_unsigned(param->value, 10, 0, G_MAXUINT64, &size,
							NULL)) {
				op_smtp_session_reply(session, "501 5.5.4 Invalid SIZE parameter");
				return FALSE;
			}
			if (size > max_size) {
				op_smtp_session_record_rejection(session, path->mailbox, NULL,
								 "552 5.3.4 Declared SIZE over the limit");
				op_smtp_session_reply(session,
						      "552 5.3.4 Message size exceeds the limit of "
						      "%" G_GUINT64_FORMAT " octets",
						      max_size);
				return FALSE;
			}
		} else if (strcmp(param->keyword, "BODY") == 0) {
			if (param->value == NULL ||
			    (g_ascii_strcasecmp(param->value, "7BIT") != 0 &&
			     g_ascii_strcasecmp(param->value, "8BITMIME") != 0)) {
				op_smtp_session_reply(session, "501 5.5.4 BODY must be 7BIT or "
							       "8BITMIME");
				return FALSE;
			}
		} else if (strcmp(param->keyword, "SMTPUTF8") == 0) {
			if (param->value != NULL) {
				op_smtp_session_reply(session, "501 5.5.4 SMTPUTF8 takes no value");
				return FALSE;
			}
		} else if (strcmp(param->keyword, "AUTH") != 0) {
			/* RFC 4954 §5 AUTH= is accepted and ignored; anything else
			 * belongs to an extension this server does not offer. */
			op_smtp_session_reply(session, "555 5.5.4 Unsupported MAIL parameter %s",
					      param->keyword);
			return FALSE;
		}
	}
	return TRUE;
}

/* Returns the path with its domain in A-label form, the form accounts, the
 * queue and DNS use, so two spellings of one domain compare equal. */
static char *
dup_ascii_mailbox(const OpSmtpPath *path)
{
	if (*path->mailbox == '\0')
		return g_strdup("");
	return g_strdup_printf("%s@%s", path->local_part, path->domain_ascii);
}

/* Applies the sender rules before the transaction starts: the account is
 * still enabled, owns the sender, the sender's domain is enabled, and no
 * hourly limit is reached. The worker checks again at the end of data. The
 * store reads run on the main loop, which is acceptable because they are
 * indexed single-row reads and counts over one hour of events. */
static gboolean
check_sender(OpSmtpSession *session, const char *sender)
{
	g_autoptr(OpSenderPolicy) policy = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *rejection = NULL;
	gboolean limited = FALSE;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	policy = op_sender_policy_new(session->context->store, session->account, &error);
	if (policy == NULL)
		goto failed;
	rejection = op_sender_policy_check_account(policy);
	if (rejection == NULL &&
	    !op_sender_policy_check_address(policy, sender, "Sender address", &rejection, &error))
		goto failed;
	if (rejection == NULL &&
	    !op_sender_policy_check_limits(policy, sender, now, &limited, &rejection, &error))
		goto failed;
	if (rejection == NULL)
		return TRUE;
	op_session_log(session, G_LOG_LEVEL_MESSAGE, "rejected sender <%s> account=%s: %s", sender,
		       session->account ? session->account : "-", rejection);
	op_smtp_session_record_rejection(session, sender, NULL, rejection);
	op_smtp_session_reply(session, "%s", rejection);
	return FALSE;

failed:
	op_session_log(session, G_LOG_LEVEL_WARNING, "checking sender <%s> failed: %s", sender,
		       error->message);
	op_smtp_session_reply(session, "451 4.3.0 Local error while checking the sender: try "
				       "again later");
	return FALSE;
}

/* Applies the sender rule of the sendmail socket (op_local_peer_check_sender)
 * before the usual sender checks. */
static gboolean
check_local_sender(OpSmtpSession *session, const OpSmtpPath *path, const char *sender)
{
	OpLocalPeer *peer = session->local_peer;
	g_autoptr(GError) error = NULL;
	g_autofree char *rejection = NULL;
	g_autoptr(OpStoreDomain) domain = NULL;

	if (*sender != '\0' && !peer->any_sender) {
		domain = op_store_get_domain(session->context->store, path->domain_ascii, &error);
		if (domain == NULL && !g_error_matches(error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
			op_session_log(session, G_LOG_LEVEL_WARNING,
				       "checking sender <%s> failed: %s", sender, error->message);
			op_smtp_session_reply(session, "451 4.3.0 Local error while checking the "
						       "sender: try again later");
			return FALSE;
		}
	}
	rejection = op_local_peer_check_sender(peer, sender, session->context->config->hostname,
					       domain != NULL);
	if (rejection == NULL)
		return TRUE;
	op_session_log(session, G_LOG_LEVEL_MESSAGE, "rejected sender <%s> from %s: %s", sender,
		       session->remote, rejection);
	op_smtp_session_record_rejection(session, sender, NULL, rejection);
	op_smtp_session_reply(session, "%s", rejection);
	return FALSE;
}

static gboolean
check_mail(OpSmtpSession *session, const char *args, OpSmtpPath *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *sender = NULL;

	if (session->helo == NULL) {
		op_smtp_session_reply(session, "503 5.5.1 Send EHLO first");
		return FALSE;
	}
	if (session->sender != NULL) {
		op_smtp_session_reply(session, "503 5.5.1 Sender already given: send RSET first");
		return FALSE;
	}
	if (!op_smtp_path_parse(args, "FROM:", path, &error)) {
		op_smtp_session_reply(session, "501 5.1.7 Invalid sender address: %s",
				      error->message);
		return FALSE;
	}
	if (!check_mail_params(session, path))
		return FALSE;
	if (path->utf8 && !op_smtp_path_has_param(path, "SMTPUTF8")) {
		op_smtp_session_reply(session, "553 5.6.7 Non-ASCII address without SMTPUTF8");
		return FALSE;
	}
	/* A client that is neither authenticated nor trusted may relay nowhere
	 * and RCPT rejects it, so its sender needs no store reads. */
	if (!may_relay(session))
		return TRUE;
	sender = dup_ascii_mailbox(path);
	if (session->local_peer != NULL && !check_local_sender(session, path, sender))
		return FALSE;
	return check_sender(session, sender);
}

static void
handle_mail(OpSmtpSession *session, const char *args)
{
	g_auto(OpSmtpPath) path = {0};

	if (!check_mail(session, args, &path))
		return;
	session->sender = dup_ascii_mailbox(&path);
	session->smtputf8 = op_smtp_path_has_param(&path, "SMTPUTF8");
	op_smtp_session_reply(session, "250 2.1.0 Sender ok");
}

static gboolean
check_rcpt(OpSmtpSession *session, const char *args, OpSmtpPath *path)
{
	g_autoptr(GError) error = NULL;

	if (session->sender == NULL) {
		op_smtp_session_reply(session, "503 5.5.1 Send MAIL first");
		return FALSE;
	}
	if (!op_smtp_path_parse(args, "TO:", path, &error)) {
		op_smtp_session_reply(session, "501 5.1.3 Invalid recipient address: %s",
				      error->message);
		return FALSE;
	}
	if (path->params->len > 0) {
		const OpSmtpParam *param = g_ptr_array_index(path->params, 0);

		op_smtp_session_reply(session, "555 5.5.4 Unsupported RCPT parameter %s",
				      param->keyword);
		return FALSE;
	}
	/* This server delivers nothing locally, so a bare <postmaster> has no
	 * mailbox here, and an address literal would let a user aim the
	 * server at any IP address: both are refused before queueing. */
	if (*path->domain == '\0') {
		op_smtp_session_reply(session, "550 5.1.3 <%s>: a recipient needs a domain, such "
					       "as postmaster@example.org",
				      path->mailbox);
		return FALSE;
	}
	if (path->domain[0] == '[') {
		op_smtp_session_reply(session, "550 5.1.2 <%s>: address literals are not accepted "
					       "as recipients: use a domain name",
				      path->mailbox);
		return FALSE;
	}
	if (!may_relay(session)) {
		op_session_log(session, G_LOG_LEVEL_MESSAGE,
			       "relay denied to <%s> from %s: not authenticated", path->mailbox,
			       session->remote);
		op_smtp_session_record_rejection(session, session->sender, path->mailbox,
						 "554 5.7.1 Relay access denied");
		op_smtp_session_reply(session, "554 5.7.1 <%s>: Relay access denied: "
					       "authenticate first",
				      path->mailbox);
		return FALSE;
	}
	if (path->utf8 && !session->smtputf8) {
		op_smtp_session_reply(session, "553 5.6.7 Non-ASCII address without SMTPUTF8");
		return FALSE;
	}
	if (session->recipients->len >= session->context->config->max_recipients) {
		op_smtp_session_reply(session, "452 4.5.3 Too many recipients");
		return FALSE;
	}
	return TRUE;
}

static void
handle_rcpt(OpSmtpSession *session, const char *args)
{
	g_auto(OpSmtpPath) path = {0};

	if (!check_rcpt(session, args, &path))
		return;
	/* The A-label form of the domain is what DNS and the queue need. */
	g_ptr_array_add(session->recipients, dup_ascii_mailbox(&path));
	op_smtp_session_reply(session, "250 2.1.5 Recipient ok");
}

/* ---- DATA and BDAT ------------------------------------------------------ */

static gboolean
check_transaction_ready(OpSmtpSession *session)
{
	if (session->sender == NULL) {
		op_smtp_session_reply(session, "503 5.5.1 Send MAIL first");
		return FALSE;
	}
	if (session->recipients->len == 0) {
		op_smtp_session_reply(session, "554 5.5.1 No valid recipients");
		return FALSE;
	}
	return TRUE;
}

static void
handle_data(OpSmtpSession *session, const char *args)
{
	if (*args != '\0') {
		op_smtp_session_reply(session, "501 5.5.4 Syntax: DATA takes no arguments");
		return;
	}
	if (!check_transaction_ready(session))
		return;
	if (session->bdat_used) {
		op_smtp_session_reply(session, "503 5.5.1 DATA is not allowed after BDAT");
		return;
	}
	session->body = g_byte_array_new();
	op_data_scanner_init(&session->scanner, session->context->config->max_message_size);
	session->state = OP_SMTP_STATE_DATA;
	op_smtp_session_reply(session, "354 End data with <CR><LF>.<CR><LF>");
}

static char *
dup_bdat_refusal(OpSmtpSession *session, guint64 size)
{
	guint64 max_size = session->context->config->max_message_size;
	guint64 so_far = session->body ? session->body->len : 0;

	if (session->sender == NULL)
		return g_strdup("503 5.5.1 Send MAIL first");
	if (session->recipients->len == 0)
		return g_strdup("554 5.5.1 No valid recipients");
	if (size > max_size || so_far + size > max_size)
		return g_strdup_printf("552 5.3.4 Message size exceeds the limit of "
				       "%" G_GUINT64_FORMAT " octets",
				       max_size);
	return NULL;
}

/* Reads the decimal chunk size at the start of malformed BDAT arguments,
 * such as "4 LASTX", so the chunk can still be skipped. */
static gboolean
parse_leading_size(const char *args, guint64 *size)
{
	gsize digits = strspn(args, "0123456789");
	g_autofree char *number = g_strndup(args, digits);

	return digits > 0 && g_ascii_string_to_unsigned(number, 10, 0, G_MAXUINT64, size, NULL);
}

static void
handle_bdat(OpSmtpSession *session, const char *args)
{
	g_autoptr(GError) error = NULL;
	guint64 size = 0;
	gboolean last = FALSE;

	/* RFC 3030 §2: the chunk's octets follow the command whatever the reply,
	 * so a refused chunk is read and dropped to keep the stream in step. */
	if (!op_smtp_parse_bdat_args(args, &size, &last, &error)) {
		g_autofree char *refusal = g_strdup_printf("501 5.5.4 Syntax: BDAT size [LAST]: %s",
							   error->message);

		/* Without a size nothing can be skipped, so the reply comes at once. */
		if (!parse_leading_size(args, &size)) {
			op_smtp_session_reply(session, "%s", refusal);
			return;
		}
		session->bdat_refusal = g_steal_pointer(&refusal);
		last = FALSE;
	} else {
		session->bdat_refusal = dup_bdat_refusal(session, size);
	}
	session->bdat_failed = session->bdat_refusal != NULL;
	if (session->bdat_failed && session->recipients->len > 0)
		op_smtp_session_record_rejection(session, session->sender, NULL, session->bdat_refusal);
	if (!session->bdat_failed && session->body == NULL)
		session->body = g_byte_array_new();
	session->bdat_used = TRUE;
	session->bdat_last = last;
	session->bdat_remaining = size;
	session->state = OP_SMTP_STATE_BDAT;
	if (size == 0)
		op_smtp_session_finish_bdat_chunk(session);
}

static OpDataFault
find_line_fault(const guint8 *data, gsize len)
{
	gsize line_start = 0;

	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\r' && (i + 1 >= len || data[i + 1] != '\n'))
			return OP_DATA_FAULT_BARE_CR;
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			return OP_DATA_FAULT_BARE_LF;
		if (data[i] == '\n') {
			if (i + 1 - line_start > 1000)
				return OP_DATA_FAULT_LINE_TOO_LONG;
			line_start = i + 1;
		}
	}
	if (len - line_start > 998)
		return OP_DATA_FAULT_LINE_TOO_LONG;
	return OP_DATA_FAULT_NONE;
}

void
op_smtp_session_finish_bdat_chunk(OpSmtpSession *session)
{
	session->state = OP_SMTP_STATE_COMMAND;
	if (session->bdat_failed) {
		op_smtp_session_reply(session, "%s", session->bdat_refusal);
		op_smtp_session_reset_transaction(session);
		return;
	}
	if (!session->bdat_last) {
		op_smtp_session_reply(session, "250 2.0.0 %u octets received", session->body->len);
		return;
	}
	op_smtp_session_finish_message(session);
}

static const char *
describe_fault(OpSmtpSession *session, OpDataFault fault, char *buffer, gsize size)
{
	switch (fault) {
	case OP_DATA_FAULT_BARE_LF:
	case OP_DATA_FAULT_BARE_CR:
		/* RFC 5321 §2.3.8: a lone CR or LF is never a line ending, so a
		 * message containing one is refused whole (SMTP smuggling). */
		return "550 5.6.0 Message refused: it contains a bare CR or LF, and lines "
		       "must end with CRLF";
	case OP_DATA_FAULT_LINE_TOO_LONG:
		return "500 5.5.2 Message refused: a line is longer than 1000 octets";
	case OP_DATA_FAULT_TOO_BIG:
		g_snprintf(buffer, size,
			   "552 5.3.4 Message size exceeds the limit of %" G_GUINT64_FORMAT
			   " octets",
			   session->context->config->max_message_size);
		return buffer;
	case OP_DATA_FAULT_NONE:
	default:
		return NULL;
	}
}

static void
submission_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OpSmtpSession) session = user_data;
	OpSubmission *submission = g_task_get_task_data(G_TASK(result));
	OpSmtpContext *context = session->context;

	session->busy = FALSE;
	if (submission->queue_id != NULL && context->queued_cb != NULL)
		context->queued_cb(context->queued_data);
	if (session->closed)
		return;
	op_smtp_session_reply(session, "%s", submission->reply);
	op_smtp_session_process(session);
	op_smtp_session_flush(session);
	op_smtp_session_update_watch(session);
}

static void
submission_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	op_submission_run(task_data);
	g_task_return_boolean(task, TRUE);
}

static void
start_submission(OpSmtpSession *session)
{
	OpSubmission *submission = g_new0(OpSubmission, 1);
	g_autoptr(GTask) task = g_task_new(NULL, NULL, submission_done_cb,
					   op_smtp_session_ref(session));

	submission->context = session->context;
	submission->session_id = g_strdup(session->id);
	submission->account = g_strdup(session->account);
	submission->trusted = (session->trusted || session->local_peer != NULL) &&
			      session->account == NULL;
	submission->local = session->local_peer != NULL;
	if (session->local_peer != NULL)
		submission->local_peer = op_local_peer_new(session->local_peer->uid,
							   session->local_peer->user,
							   session->local_peer->any_sender);
	submission->helo = g_strdup(session->helo);
	submission->remote = g_strdup(session->remote);
	if (session->tls_active)
		submission->tls_version = g_strdup(SSL_get_version(session->ssl));
	submission->sender = g_steal_pointer(&session->sender);
	submission->recipients = g_steal_pointer(&session->recipients);
	submission->body = g_steal_pointer(&session->body);
	/* The transaction now belongs to the worker, and the session starts afresh. */
	session->recipients = g_ptr_array_new_with_free_func(g_free);
	op_smtp_session_reset_transaction(session);

	g_task_set_task_data(task, submission, (GDestroyNotify)op_submission_free);
	session->busy = TRUE;
	op_worker_run(OP_WORKER_SMTP, task, submission_thread);
}

void
op_smtp_session_finish_message(OpSmtpSession *session)
{
	OpDataFault fault;
	char buffer[128];
	const char *refusal;

	session->state = OP_SMTP_STATE_COMMAND;
	if (session->bdat_used)
		fault = find_line_fault(session->body->data, session->body->len);
	else
		fault = op_data_scanner_get_fault(&session->scanner);
	refusal = describe_fault(session, fault, buffer, sizeof buffer);
	/* 8bit data excludes NUL (RFC 6152, RFC 2045 §2.8), and a next hop that
	 * strips it could see an end of data where this server saw none. */
	if (refusal == NULL && memchr(session->body->data, '\0', session->body->len) != NULL)
		refusal = "550 5.6.0 Message refused: it contains a NUL octet, which mail must "
			  "not carry";
	if (refusal != NULL) {
		op_session_log(session, G_LOG_LEVEL_MESSAGE, "message refused from %s: %s",
			       session->remote, refusal);
		op_smtp_session_record_rejection(session, session->sender, NULL, refusal);
		op_smtp_session_reply(session, "%s", refusal);
		op_smtp_session_reset_transaction(session);
		return;
	}
	start_submission(session);
}

/* ---- Dispatch ----------------------------------------------------------- */

void
op_smtp_session_handle_line(OpSmtpSession *session, const char *line, gsize len)
{
	g_auto(OpSmtpCommand) command = {0};
	g_autoptr(GError) error = NULL;

	if (!op_smtp_command_parse(line, len, &command, &error)) {
		session->errors++;
		op_smtp_session_reply(session, "500 5.5.2 Syntax error: %s", error->message);
		return;
	}
	switch (command.verb) {
	case OP_SMTP_VERB_EHLO:
		handle_helo(session, command.args, TRUE);
		break;
	case OP_SMTP_VERB_HELO:
		handle_helo(session, command.args, FALSE);
		break;
	case OP_SMTP_VERB_STARTTLS:
		handle_starttls(session, command.args);
		break;
	case OP_SMTP_VERB_AUTH:
		handle_auth(session, command.args);
		break;
	case OP_SMTP_VERB_MAIL:
		handle_mail(session, command.args);
		break;
	case OP_SMTP_VERB_RCPT:
		handle_rcpt(session, command.args);
		break;
	case OP_SMTP_VERB_DATA:
		handle_data(session, command.args);
		break;
	case OP_SMTP_VERB_BDAT:
		handle_bdat(session, command.args);
		break;
	case OP_SMTP_VERB_RSET:
		op_smtp_session_reset_transaction(session);
		op_smtp_session_reply(session, "250 2.0.0 Ok");
		break;
	case OP_SMTP_VERB_NOOP:
		op_smtp_session_reply(session, "250 2.0.0 Ok");
		break;
	case OP_SMTP_VERB_QUIT:
		op_smtp_session_shutdown(session, "221 2.0.0 Bye");
		break;
	case OP_SMTP_VERB_VRFY:
		op_smtp_session_reply(session, "252 2.5.2 Cannot verify the user, but will try "
					       "delivery");
		break;
	case OP_SMTP_VERB_EXPN:
		op_smtp_session_reply(session, "502 5.5.1 EXPN is not supported");
		break;
	case OP_SMTP_VERB_HELP:
		op_smtp_session_reply(session, "214 2.0.0 See RFC 5321 and RFC 6409");
		break;
	case OP_SMTP_VERB_UNKNOWN:
	default:
		session->errors++;
		op_smtp_session_reply(session, "500 5.5.1 Command unrecognized");
		break;
	}
}
