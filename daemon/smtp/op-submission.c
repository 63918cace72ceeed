/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turns a received message into a queued one, in a worker thread: checks the
 * From: header against the account (RFC 6409 §8 lets a submission server
 * enforce this), adds the trace and missing headers, signs with the From
 * domain's DKIM key and commits the message before the 250 reply.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-submission.h"

#include "dkim/op-dkim.h"
#include "op-error.h"
#include "policy/op-policy.h"
#include "smtp/op-address.h"
#include "smtp/op-message.h"

#include <openssl/rand.h>

void
op_submission_free(OpSubmission *submission)
{
	if (submission == NULL)
		return;
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

/* Checks the From: header and returns the domain to sign for, or NULL after
 * setting submission->reply. */
static char *
check_from_header(OpSubmission *submission, GPtrArray *headers)
{
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	const char *from = op_message_find_header(headers, "From");
	const char *first;

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
	for (guint i = 0; submission->account != NULL && i < addresses->len; i++) {
		const char *address = g_ptr_array_index(addresses, i);

		if (!op_policy_account_owns(submission->account, address)) {
			submission->reply = g_strdup_printf("553 5.7.1 From: address <%s> is not "
							    "owned by %s",
							    address, submission->account);
			return NULL;
		}
	}
	first = g_ptr_array_index(addresses, 0);
	return g_strdup(strrchr(first, '@') ? strrchr(first, '@') + 1 : "");
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
	g_string_append_printf(prefix, "Received: from %s ([%s])\r\n\tby %s (Outpost) with %s",
			       submission->helo, submission->remote, config->hostname, protocol);
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

/* Returns the DKIM-Signature header for message, "" when the domain is not
 * managed, or NULL on a signing failure. */
static char *
sign_message(OpSubmission *submission, const char *domain_name, GBytes *message, GError **error)
{
	OpSmtpContext *context = submission->context;
	g_autoptr(OpStoreDomain) domain = op_store_get_domain(context->store, domain_name, NULL);
	g_autofree char *key_pem = NULL;
	OpDkimAlgorithm algorithm = OP_DKIM_RSA_SHA256;

	if (domain == NULL || !domain->enabled || context->signer == NULL)
		return g_strdup("");
	if (!g_file_get_contents(domain->dkim_key_path, &key_pem, NULL, error))
		return NULL;
	if (g_strcmp0(domain->dkim_algorithm, "ed25519-sha256") == 0)
		algorithm = OP_DKIM_ED25519_SHA256;
	return op_dkim_sign(context->signer, domain->name, domain->dkim_selector, algorithm,
			    key_pem, message, error);
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

void
op_submission_run(OpSubmission *submission)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) headers = NULL;
	g_autoptr(GString) prefix = g_string_new(NULL);
	g_autoptr(GBytes) message = NULL;
	g_autoptr(GByteArray) final = g_byte_array_new();
	g_autofree char *sign_domain = NULL;
	g_autofree char *signature = NULL;
	gsize body_offset = 0;

	headers = op_message_parse_headers(submission->body->data, submission->body->len,
					   &body_offset, &error);
	if (headers == NULL) {
		submission->reply = g_strdup_printf("550 5.6.0 Message refused: %s",
						    error->message);
		return;
	}
	sign_domain = check_from_header(submission, headers);
	if (sign_domain == NULL)
		return;

	submission->queue_id = op_store_new_queue_id();
	append_trace_headers(submission, headers, prefix);
	g_byte_array_append(final, (const guint8 *)prefix->str, (guint)prefix->len);
	g_byte_array_append(final, submission->body->data, submission->body->len);
	message = g_bytes_new(final->data, final->len);

	signature = sign_message(submission, sign_domain, message, &error);
	if (signature == NULL) {
		g_warning("%s DKIM signing for %s failed: %s", submission->session_id,
			  sign_domain, error->message);
		submission->reply = g_strdup("451 4.3.0 Local error while signing the message: "
					     "try again later");
		g_clear_pointer(&submission->queue_id, g_free);
		return;
	}
	g_byte_array_prepend(final, (const guint8 *)signature, (guint)strlen(signature));
	g_clear_pointer(&message, g_bytes_unref);
	message = g_byte_array_free_to_bytes(g_steal_pointer(&final));

	if (!enqueue(submission, message, &error)) {
		g_warning("%s queueing failed: %s", submission->session_id, error->message);
		set_queue_failure(submission, error);
		g_clear_pointer(&submission->queue_id, g_free);
		return;
	}
	op_store_add_event(submission->context->store, OP_EVENT_ACCEPTED, submission->queue_id,
			   submission->sender, NULL, NULL, NULL, NULL);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OP_SESSION", submission->session_id,
			 "OP_QUEUE_ID", submission->queue_id, "OP_ACCOUNT",
			 submission->account ? submission->account : "", "MESSAGE",
			 "%s %s: accepted from=<%s> size=%zu nrcpt=%u account=%s",
			 submission->session_id, submission->queue_id, submission->sender,
			 g_bytes_get_size(message), submission->recipients->len,
			 submission->account ? submission->account : "-");
	submission->reply = g_strdup_printf("250 2.0.0 Ok: queued as %s", submission->queue_id);
}
