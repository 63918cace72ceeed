/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turns a received message into a queued one, in a worker thread: checks the
 * From: header against the account (RFC 6409 §8 lets a submission server
 * enforce this) and the hourly sending limits, adds the trace and missing
 * headers, signs with the From domain's DKIM key and commits the message
 * before the 250 reply.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-submission.h"

#include "dkim/op-dkim.h"
#include "op-error.h"
#include "policy/op-policy.h"
#include "policy/op-sender-policy.h"
#include "smtp/op-address.h"
#include "smtp/op-message.h"

#include <openssl/rand.h>

void
op_submission_free(OpSubmission *submission)
{
	if (submission == NULL)
		return;
	g_clear_pointer(&submission->local_peer, op_local_peer_free);
	g_free(submission->session_id);
	g_free(submission->account);
	g_free(submission->helo);
	g_free(submission->remote);
	g_free(submission->tls_version);
	g_free(submission->sender);
	g_clear_pointer(&submission->recipients, g_ptr_array_unref);
	g_clear_pointer(&submission->body, g_byte_array_unref);
	g_free(submission->reply);
	g_free(submission->queue_id);
	g_free(submission);
}

static char *
format_date(GDateTime *time)
{
	/* The RFC 5322 §3.3 date. The daemon never calls setlocale(), so %a and
	 * %b give the English names the format needs. */
	return g_date_time_format(time, "%a, %d %b %Y %H:%M:%S %z");
}

static void
set_local_failure(OpSubmission *submission, const char *what, const GError *error)
{
	g_warning("%s %s failed: %s", submission->session_id, what, error->message);
	submission->reply = g_strdup_printf("451 4.3.0 Local error while %s: try again later",
					    what);
}

/* Applies the envelope rule of the sendmail socket to a From: address too,
 * so an ordinary local user cannot sign mail as any managed domain. */
static char *
check_local_from(OpSubmission *submission, const char *address)
{
	g_autofree char *ascii = op_policy_dup_ascii_address(address);
	const char *at = ascii ? strrchr(ascii, '@') : NULL;
	g_autoptr(OpStoreDomain) domain = NULL;

	if (submission->local_peer->any_sender)
		return NULL;
	if (at != NULL)
		domain = op_store_get_domain(submission->context->store, at + 1, NULL);
	return op_local_peer_check_sender(submission->local_peer, ascii ? ascii : address,
					  submission->context->config->hostname, domain != NULL);
}

/* Applies the sender rules again, because the account, its aliases or the
 * domain may have changed since MAIL FROM: the account, the envelope sender
 * and every From: address. Returns FALSE after setting submission->reply. */
static gboolean
check_sender_addresses(OpSubmission *submission, OpSenderPolicy *policy, GPtrArray *addresses)
{
	g_autoptr(GError) error = NULL;
	char *rejection = op_sender_policy_check_account(policy);

	if (rejection == NULL && !op_sender_policy_check_address(policy, submission->sender,
							       "Sender address", &rejection, &error)) {
		set_local_failure(submission, "checking the sender", error);
		return FALSE;
	}
	for (guint i = 0; rejection == NULL && i < addresses->len; i++) {
		const char *address = g_ptr_array_index(addresses, i);

		if (!op_sender_policy_check_address(policy, address, "From: address", &rejection,
						    &error)) {
			set_local_failure(submission, "checking the sender", error);
			return FALSE;
		}
		if (rejection == NULL && submission->local_peer != NULL)
			rejection = check_local_from(submission, address);
	}
	submission->reply = rejection;
	return rejection == NULL;
}

/* Checks the From: header and returns the domain to sign for, in A-label
 * form, or NULL after setting submission->reply. */
static char *
check_from_header(OpSubmission *submission, OpSenderPolicy *policy, GPtrArray *headers)
{
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	const char *from = op_message_find_header(headers, "From");

	if (from == NULL) {
		submission->reply = g_strdup("550 5.6.0 Message refused: it has no From: header");
		return NULL;
	}
	if (op_message_count_headers(headers, "From") > 1) {
		submission->reply = g_strdup("550 5.6.0 Message refused: it has more than one "
					     "From: header");
		return NULL;
	}
	if (!op_address_parse_header(from, addresses, &error)) {
		submission->reply = g_strdup_printf("550 5.6.0 Message refused: invalid From: "
						    "header: %s",
						    error->message);
		return NULL;
	}
	if (!check_sender_addresses(submission, policy, addresses))
		return NULL;
	/* The store keeps domains in A-label form. A domain that has none is
	 * not managed and gets no signature. */
	first = op_policy_dup_ascii_address(g_ptr_array_index(addresses, 0));
	if (first == NULL || strrchr(first, '@') == NULL)
		return g_strdup("");
	return g_strdup(strrchr(first, '@') + 1);
}

/* Sets *limited when the account or the sender's domain has an hourly
 * limit. Returns FALSE after setting submission->reply. */
static gboolean
check_limits(OpSubmission *submission, OpSenderPolicy *policy, gboolean *limited)
{
	g_autoptr(GError) error = NULL;
	char *rejection = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (!op_sender_policy_check_limits(policy, submission->sender, now, limited, &rejection,
					   &error)) {
		set_local_failure(submission, "checking the sending limits", error);
		return FALSE;
	}
	if (rejection != NULL) {
		g_message("%s rejected from=<%s> account=%s: %s", submission->session_id,
			  submission->sender, submission->account ? submission->account : "-",
			  rejection);
		submission->reply = rejection;
		return FALSE;
	}
	return TRUE;
}

static void
append_trace_headers(OpSubmission *submission, GPtrArray *headers, GString *prefix)
{
	OpConfig *config = submission->context->config;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *date = format_date(now);
	const char *protocol;

	/* RFC 3848 names: S for TLS, A for an authenticated client. */
	if (submission->tls_version != NULL)
		protocol = submission->account ? "ESMTPSA" : "ESMTPS";
	else
		protocol = submission->account ? "ESMTPA" : "ESMTP";
	/* A local program has no address: the comment names its user instead. */
	if (submission->local)
		g_string_append_printf(prefix, "Received: from %s (%s)", submission->helo,
				       submission->remote);
	else
		g_string_append_printf(prefix, "Received: from %s ([%s])", submission->helo,
				       submission->remote);
	g_string_append_printf(prefix, "\r\n\tby %s (Outpost) with %s", config->hostname,
			       protocol);
	if (submission->tls_version != NULL)
		g_string_append_printf(prefix, " (%s)", submission->tls_version);
	g_string_append_printf(prefix, " id %s", submission->queue_id);
	if (submission->recipients->len == 1)
		g_string_append_printf(prefix, "\r\n\tfor <%s>",
				       (char *)g_ptr_array_index(submission->recipients, 0));
	g_string_append_printf(prefix, ";\r\n\t%s\r\n", date);

	/* RFC 6409 §8.2 and §8.3: a submission server may add these. */
	if (op_message_find_header(headers, "Message-ID") == NULL) {
		guint8 random[8] = {0};

		RAND_bytes(random, sizeof random);
		g_string_append_printf(prefix, "Message-ID: <%s.%02x%02x%02x%02x%02x%02x%02x%02x@%s>\r\n",
				       submission->queue_id, random[0], random[1], random[2],
				       random[3], random[4], random[5], random[6], random[7],
				       config->hostname);
	}
	if (op_message_find_header(headers, "Date") == NULL)
		g_string_append_printf(prefix, "Date: %s\r\n", date);
}

/* Returns the DKIM-Signature header fields for message, one per active key of
 * the domain (RSA first, then Ed25519: RFC 8463 §6 asks for both while not
 * every receiver checks Ed25519), "" when the domain is not managed or is
 * disabled, or NULL on a signing failure. Each key signs the unsigned message,
 * so neither signature covers the other. */
static char *
sign_message(OpSubmission *submission, const char *domain_name, GBytes *message, GError **error)
{
	OpSmtpContext *context = submission->context;
	g_autoptr(OpStoreDomain) domain = op_store_get_domain(context->store, domain_name, NULL);
	g_autoptr(GPtrArray) keys = NULL;
	g_autoptr(GString) fields = g_string_new(NULL);

	if (domain == NULL || !domain->enabled || context->signer == NULL)
		return g_strdup("");
	keys = op_store_list_signing_keys(context->store, domain->name, error);
	if (keys == NULL)
		return NULL;
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];
		OpDkimAlgorithm algorithm = OP_DKIM_RSA_SHA256;
		g_autofree char *key_pem = NULL;
		g_autofree char *field = NULL;

		if (g_strcmp0(key->algorithm, "ed25519-sha256") == 0)
			algorithm = OP_DKIM_ED25519_SHA256;
		if (!g_file_get_contents(key->key_path, &key_pem, NULL, error))
			return NULL;
		field = op_dkim_sign(context->signer, domain->name, key->selector, algorithm,
				     key_pem, message, error);
		if (field == NULL)
			return NULL;
		g_string_append(fields, field);
	}
	return g_string_free(g_steal_pointer(&fields), FALSE);
}

static void
set_queue_failure(OpSubmission *submission, const GError *error)
{
	if (g_error_matches(error, OP_ERROR, OP_ERROR_TEMPORARY))
		submission->reply = g_strdup("452 4.3.1 Insufficient system storage: try again "
					     "later");
	else
		submission->reply = g_strdup("451 4.3.0 Local error: the message was not queued, "
					     "try again later");
}

static gboolean
enqueue(OpSubmission *submission, GBytes *message, GError **error)
{
	OpStoreMessage stored = {
		.id = submission->queue_id,
		.sender = submission->sender,
		.account = submission->account,
		.recipients = submission->recipients,
		.body = message,
		.created = g_get_real_time() / G_USEC_PER_SEC,
	};

	return op_store_enqueue(submission->context->store, &stored, error);
}

/* Adds the trace headers and the DKIM signature, or returns NULL after
 * setting submission->reply. */
static GBytes *
build_message(OpSubmission *submission, GPtrArray *headers, const char *sign_domain)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) prefix = g_string_new(NULL);
	g_autoptr(GBytes) unsigned_message = NULL;
	g_autoptr(GByteArray) final = g_byte_array_new();
	g_autofree char *signature = NULL;

	append_trace_headers(submission, headers, prefix);
	g_byte_array_append(final, (const guint8 *)prefix->str, (guint)prefix->len);
	g_byte_array_append(final, submission->body->data, submission->body->len);
	unsigned_message = g_bytes_new(final->data, final->len);

	signature = sign_message(submission, sign_domain, unsigned_message, &error);
	if (signature == NULL) {
		g_warning("%s DKIM signing for %s failed: %s", submission->session_id,
			  sign_domain, error->message);
		submission->reply = g_strdup("451 4.3.0 Local error while signing the message: "
					     "try again later");
		return NULL;
	}
	g_byte_array_prepend(final, (const guint8 *)signature, (guint)strlen(signature));
	return g_byte_array_free_to_bytes(g_steal_pointer(&final));
}

/* Records the accepted event with the account, which the account's hourly
 * limit counts. The message is queued already, so a failure here is logged
 * and the client still gets its 250. */
static void
record_accepted(OpSubmission *submission, OpSenderPolicy *policy)
{
	g_autoptr(GError) error = NULL;
	const char *account = policy->stored ? policy->stored->address : submission->account;

	if (!op_store_add_event_full(submission->context->store, OP_EVENT_ACCEPTED,
				     submission->queue_id, submission->sender, NULL, NULL, NULL,
				     account, &error))
		g_warning("%s %s: recording the accepted event failed: %s",
			  submission->session_id, submission->queue_id, error->message);
}

/* Serializes the final limit check, the enqueue and the event of messages
 * under an hourly limit, so two sessions that end at once cannot both take
 * the last message of the hour. Senders without a limit never wait for it. */
static GMutex op_limit_lock;

/* Queues the message and sets the 250 reply, or returns FALSE after setting
 * another reply. */
static gboolean
accept_message(OpSubmission *submission, OpSenderPolicy *policy, GBytes *message,
	       gboolean limited)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(GError) error = NULL;

	if (limited) {
		locker = g_mutex_locker_new(&op_limit_lock);
		if (!check_limits(submission, policy, &limited))
			return FALSE;
	}
	if (!enqueue(submission, message, &error)) {
		g_warning("%s queueing failed: %s", submission->session_id, error->message);
		set_queue_failure(submission, error);
		return FALSE;
	}
	record_accepted(submission, policy);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OP_SESSION", submission->session_id,
			 "OP_QUEUE_ID", submission->queue_id, "OP_ACCOUNT",
			 submission->account ? submission->account : "", "MESSAGE",
			 "%s %s: accepted from=<%s> size=%zu nrcpt=%u account=%s",
			 submission->session_id, submission->queue_id, submission->sender,
			 g_bytes_get_size(message), submission->recipients->len,
			 submission->account ? submission->account : "-");
	submission->reply = g_strdup_printf("250 2.0.0 Ok: queued as %s", submission->queue_id);
	return TRUE;
}

void
op_submission_run(OpSubmission *submission)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) headers = NULL;
	g_autoptr(OpSenderPolicy) policy = NULL;
	g_autoptr(GBytes) message = NULL;
	g_autofree char *sign_domain = NULL;
	gboolean limited = FALSE;
	gsize body_offset = 0;

	headers = op_message_parse_headers(submission->body->data, submission->body->len,
					   &body_offset, &error);
	if (headers == NULL) {
		submission->reply = g_strdup_printf("550 5.6.0 Message refused: %s",
						    error->message);
		return;
	}
	policy = op_sender_policy_new(submission->context->store, submission->account, &error);
	if (policy == NULL) {
		set_local_failure(submission, "checking the sender", error);
		return;
	}
	sign_domain = check_from_header(submission, policy, headers);
	if (sign_domain == NULL)
		return;
	if (!check_limits(submission, policy, &limited))
		return;

	submission->queue_id = op_store_new_queue_id();
	message = build_message(submission, headers, sign_domain);
	/* Only a queued message keeps its id: the session wakes the queue for it. */
	if (message == NULL || !accept_message(submission, policy, message, limited))
		g_clear_pointer(&submission->queue_id, g_free);
}
