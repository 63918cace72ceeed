/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Delivers one domain's due messages to the recipient domain's MX hosts, or
 * to a smarthost when the sender's domain or the server has one. One
 * connection serves each run of messages on the same route. Each recipient
 * is then delivered, deferred with exponential backoff, or bounced.
 */
#define G_LOG_DOMAIN "outpost-queue"

#include "queue/op-delivery-job.h"

#include "delivery/op-bounce.h"
#include "delivery/op-smtp-client.h"
#include "op-error.h"
#include "queue/op-notice.h"

#include <string.h>

/* Seconds to wait for a connection and for each reply. RFC 5321 §4.5.3.2
 * suggests several minutes per stage: a server slower than this is retried. */
#define OP_DELIVERY_TIMEOUT 60

static void
job_message_free(OpJobMessage *message)
{
	g_free(message->message_id);
	g_free(message->sender);
	g_ptr_array_unref(message->recipients);
	g_free(message);
}

OpDeliveryJob *
op_delivery_job_new(const OpDeliveryEnv *env, const char *domain)
{
	OpDeliveryJob *job = g_new0(OpDeliveryJob, 1);

	job->env = env;
	job->domain = g_strdup(domain);
	job->messages = g_ptr_array_new_with_free_func((GDestroyNotify)job_message_free);
	return job;
}

OpJobMessage *
op_delivery_job_add_message(OpDeliveryJob *job, const OpStoreRecipient *first)
{
	OpJobMessage *message = g_new0(OpJobMessage, 1);

	message->message_id = g_strdup(first->message_id);
	message->sender = g_strdup(first->sender);
	message->created = first->created;
	message->delay_warned = first->delay_warned;
	message->is_bounce = first->is_bounce;
	message->recipients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_recipient_free);
	g_ptr_array_add(job->messages, message);
	return message;
}

void
op_delivery_job_free(OpDeliveryJob *job)
{
	if (job == NULL)
		return;
	g_free(job->domain);
	g_ptr_array_unref(job->messages);
	g_free(job);
}

/* The delay before the next attempt: retry_min doubled per earlier
 * attempt, at most retry_max. */
gint64
op_delivery_retry_delay(const OpConfig *config, guint attempts)
{
	guint64 delay = config->retry_min;

	for (guint i = 0; i < attempts && delay < config->retry_max; i++)
		delay *= 2;
	return (gint64)MIN(delay, (guint64)config->retry_max);
}

static void
log_outcome(const OpJobMessage *message, const OpStoreRecipient *recipient, const char *status,
	    const char *mx, const char *reply)
{
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OP_QUEUE_ID", message->message_id,
			 "OP_STATUS", status, "MESSAGE", "%s: to=<%s> mx=%s status=%s reply=%s",
			 message->message_id, recipient->address, mx ? mx : "-", status,
			 reply ? reply : "-");
}

static OpBounceRecipient *
bounce_recipient_new(const OpStoreRecipient *recipient, const char *status, const char *mx,
		     const char *diagnostic, gboolean delayed)
{
	OpBounceRecipient *entry = g_new0(OpBounceRecipient, 1);

	entry->recipient = g_strdup(recipient->address);
	entry->action = delayed ? "delayed" : "failed";
	entry->status = g_strdup(status);
	entry->remote_mta = g_strdup(mx);
	entry->diagnostic = g_strdup(diagnostic);
	return entry;
}

static void
bounce_recipient_free(OpBounceRecipient *entry)
{
	g_free(entry->recipient);
	g_free(entry->original_recipient);
	g_free(entry->status);
	g_free(entry->remote_mta);
	g_free(entry->diagnostic);
	g_free(entry);
}

/* Queues a DSN to the envelope sender. The caller has made sure the
 * sender is not null: a bounce is never sent to <> (RFC 5321 §6.1). */
static void
queue_notice(OpDeliveryJob *job, OpJobMessage *message, GBytes *original, GPtrArray *entries,
	     gboolean delayed)
{
	const OpDeliveryEnv *env = job->env;
	g_autoptr(GError) error = NULL;
	OpBounceInfo info = {
		.reporting_mta = env->config->hostname,
		.queue_id = message->message_id,
		.sender = message->sender,
		.arrival_time = message->created,
		.delay_warning = delayed,
		.recipients = entries,
		.original = original,
	};
	OpStoreMessage notice = {0};

	if (!op_notice_prepare(&info, &notice, &error)) {
		g_warning("%s: building the delivery status notification failed: %s",
			  message->message_id, error->message);
		return;
	}
	if (!op_store_enqueue(env->store, &notice, &error))
		g_warning("%s: queueing the delivery status notification failed: %s",
			  message->message_id, error->message);
	else {
		g_message("%s: %s notice queued as %s for <%s>", message->message_id,
			  delayed ? "delay" : "bounce", notice.id, message->sender);
		job->bounces_queued++;
	}
	op_store_message_clear(&notice);
}

/* The outcome of one attempt for one recipient. */
typedef struct {
	OpDeliveryStatus status;
	const char *enhanced; /* "5.1.1" */
	const char *reply;    /* sanitised reply or local reason */
} OpAttempt;

static void
finish_recipient(OpDeliveryJob *job, OpJobMessage *message, OpStoreRecipient *recipient,
		 OpEventType event, const char *mx, const char *reply)
{
	OpStore *store = job->env->store;
	g_autoptr(GError) error = NULL;

	op_store_add_event(store, event, message->message_id, message->sender, recipient->address,
			   mx, reply, NULL);
	if (!op_store_finish_recipient(store, recipient->recipient_id, &error))
		g_warning("%s: updating the queue for <%s> failed: %s", message->message_id,
			  recipient->address, error->message);
}

static gboolean
is_expired(const OpDeliveryJob *job, const OpJobMessage *message, gint64 now)
{
	return now - message->created >= (gint64)job->env->config->message_lifetime;
}

static gboolean
wants_delay_warning(const OpDeliveryJob *job, const OpJobMessage *message, gint64 now)
{
	guint64 after = job->env->config->delay_warning;

	return after > 0 && !message->delay_warned && *message->sender != '\0' &&
	       now - message->created >= (gint64)after;
}

static void
defer_recipient(OpDeliveryJob *job, OpJobMessage *message, OpStoreRecipient *recipient,
		const char *mx, const char *reply, gint64 now)
{
	gint64 next = now + op_delivery_retry_delay(job->env->config, recipient->attempts);
	g_autoptr(GError) error = NULL;

	op_store_add_event(job->env->store, OP_EVENT_DEFERRED, message->message_id,
			   message->sender, recipient->address, mx, reply, NULL);
	if (!op_store_defer_recipient(job->env->store, recipient->recipient_id, next, reply,
				      &error))
		g_warning("%s: updating the queue for <%s> failed: %s", message->message_id,
			  recipient->address, error->message);
}

/* Records each recipient's attempt, then sends the sender one bounce for
 * every recipient that failed and, once, a delay warning. */
static void
apply_attempts(OpDeliveryJob *job, OpJobMessage *message, GBytes *body, const OpAttempt *attempts,
	       const char *mx)
{
	g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func(
		(GDestroyNotify)bounce_recipient_free);
	g_autoptr(GPtrArray) delayed = g_ptr_array_new_with_free_func(
		(GDestroyNotify)bounce_recipient_free);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	for (guint i = 0; i < message->recipients->len; i++) {
		OpStoreRecipient *recipient = g_ptr_array_index(message->recipients, i);
		const OpAttempt *attempt = &attempts[i];

		if (attempt->status == OP_DELIVERY_OK) {
			log_outcome(message, recipient, "sent", mx, attempt->reply);
			finish_recipient(job, message, recipient, OP_EVENT_DELIVERED, mx,
					 attempt->reply);
		} else if (attempt->status == OP_DELIVERY_PERMANENT) {
			log_outcome(message, recipient, "bounced", mx, attempt->reply);
			finish_recipient(job, message, recipient, OP_EVENT_BOUNCED, mx,
					 attempt->reply);
			g_ptr_array_add(failed, bounce_recipient_new(recipient, attempt->enhanced,
								     mx, attempt->reply, FALSE));
		} else if (is_expired(job, message, now)) {
			/* RFC 3463: X.4.7, delivery time expired. */
			log_outcome(message, recipient, "expired", mx, attempt->reply);
			finish_recipient(job, message, recipient, OP_EVENT_EXPIRED, mx,
					 attempt->reply);
			g_ptr_array_add(failed, bounce_recipient_new(recipient, "4.4.7", mx,
								     attempt->reply, FALSE));
		} else {
			log_outcome(message, recipient, "deferred", mx, attempt->reply);
			defer_recipient(job, message, recipient, mx, attempt->reply, now);
			g_ptr_array_add(delayed, bounce_recipient_new(recipient, attempt->enhanced,
								      mx, attempt->reply, TRUE));
		}
	}
	/* RFC 5321 §4.5.5 and §6.1: mail from the null sender is never bounced. */
	if (*message->sender == '\0') {
		if (failed->len > 0)
			g_message("%s: not returned: the sender is null", message->message_id);
		return;
	}
	if (failed->len > 0)
		queue_notice(job, message, body, failed, FALSE);
	if (delayed->len > 0 && wants_delay_warning(job, message, now)) {
		queue_notice(job, message, body, delayed, TRUE);
		op_store_add_event(job->env->store, OP_EVENT_DELAY_WARNED, message->message_id,
				   message->sender, NULL, NULL, NULL, NULL);
		op_store_mark_delay_warned(job->env->store, message->message_id, NULL);
	}
}

/* Applies one outcome to every recipient of a message. */
static void
apply_all(OpDeliveryJob *job, OpJobMessage *message, GBytes *body, OpDeliveryStatus status,
	  const char *enhanced, const char *reply, const char *mx)
{
	g_autofree OpAttempt *attempts = g_new0(OpAttempt, message->recipients->len);

	for (guint i = 0; i < message->recipients->len; i++) {
		attempts[i].status = status;
		attempts[i].enhanced = enhanced;
		attempts[i].reply = reply;
	}
	apply_attempts(job, message, body, attempts, mx);
}

static void
apply_outcome(OpDeliveryJob *job, OpJobMessage *message, GBytes *body,
	      const OpDeliveryOutcome *outcome, const char *mx)
{
	g_autofree OpAttempt *attempts = g_new0(OpAttempt, message->recipients->len);
	g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < message->recipients->len; i++) {
		const OpRecipientResult *result = i < outcome->recipients->len
							  ? g_ptr_array_index(outcome->recipients, i)
							  : NULL;
		char *reply;

		attempts[i].status = result ? result->status : OP_DELIVERY_TEMPORARY;
		attempts[i].enhanced = result && result->enhanced ? result->enhanced : "4.0.0";
		/* The code leads the text, as in the Diagnostic-Code of RFC 3464 §2.3.6. */
		if (result != NULL && result->code != 0)
			reply = g_strdup_printf("%u %s %s", result->code, attempts[i].enhanced,
						result->text ? result->text : "");
		else
			reply = g_strdup(result && result->text ? result->text : outcome->reply);
		g_ptr_array_add(replies, reply);
		attempts[i].reply = reply;
	}
	apply_attempts(job, message, body, attempts, mx);
}

static OpSmtpClient *
connect_any(OpDeliveryJob *job, GPtrArray *hosts, const char **mx, GError **error)
{
	const OpConfig *config = job->env->config;
	g_autoptr(GError) last_error = NULL;

	for (guint i = 0; i < hosts->len; i++) {
		OpMxHost *host = g_ptr_array_index(hosts, i);

		for (guint j = 0; host->addresses != NULL && j < host->addresses->len; j++) {
			GInetAddress *address = g_ptr_array_index(host->addresses, j);
			OpSmtpClient *client;

			g_clear_error(&last_error);
			client = op_smtp_client_connect(host->host, address, config->delivery_port,
							config->hostname, OP_DELIVERY_TIMEOUT,
							&last_error);
			if (client != NULL) {
				*mx = host->host;
				return client;
			}
			g_debug("%s: connecting to %s failed: %s", job->domain, host->host,
				last_error->message);
		}
	}
	if (last_error != NULL)
		g_propagate_error(error, g_steal_pointer(&last_error));
	else
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "no MX host of %s has an address",
			    job->domain);
	return NULL;
}

static char **
dup_addresses(OpJobMessage *message)
{
	char **addresses = g_new0(char *, message->recipients->len + 1);

	for (guint i = 0; i < message->recipients->len; i++) {
		OpStoreRecipient *recipient = g_ptr_array_index(message->recipients, i);

		addresses[i] = g_strdup(recipient->address);
	}
	return addresses;
}

/* ---- Routes ----------------------------------------------------------------- */

/* Returns the smarthost for @message as "host:port", or NULL to deliver by
 * MX: the smarthost of the sender's domain, else the server-wide one. Mail
 * from the null sender (bounces) has no domain and takes the server-wide
 * smarthost. */
static char *
dup_route(OpDeliveryJob *job, const OpJobMessage *message)
{
	const char *at = strrchr(message->sender, '@');
	const char *server_wide = g_atomic_pointer_get(&job->env->config->smarthost);

	if (at != NULL && at[1] != '\0') {
		/* Domains are stored lower-case in their A-label form. */
		g_autofree char *ascii = g_hostname_to_ascii(at + 1);
		g_autofree char *domain = ascii ? g_ascii_strdown(ascii, -1) : NULL;
		g_autoptr(OpStoreDomain) stored =
			domain ? op_store_get_domain(job->env->store, domain, NULL) : NULL;

		if (stored != NULL && stored->smarthost != NULL && *stored->smarthost != '\0')
			return g_strdup(stored->smarthost);
	}
	if (server_wide != NULL && *server_wide != '\0')
		return g_strdup(server_wide);
	return NULL;
}

/* Returns the smarthost's addresses, refusing one that is this server: mail
 * sent there would come back to the queue (RFC 5321 §5.1). */
static GPtrArray *
resolve_smarthost(OpDeliveryJob *job, const char *host, guint port, GError **error)
{
	g_autoptr(OpMxHost) entry = op_mx_host_new(host, 0);
	g_autoptr(GPtrArray) hosts = g_ptr_array_new();
	g_autoptr(GPtrArray) selected = NULL;
	g_autoptr(GInetAddress) literal = g_inet_address_new_from_string(host);
	OpMxSelf self = *job->env->self;
	OpMxHost *kept;

	if (literal != NULL) {
		entry->addresses = g_ptr_array_new_with_free_func(g_object_unref);
		g_ptr_array_add(entry->addresses, g_steal_pointer(&literal));
	} else {
		entry->addresses = op_resolver_lookup_addresses(job->env->resolver, host, error);
		if (entry->addresses == NULL) {
			g_prefix_error(error, "looking up the smarthost %s failed: ", host);
			return NULL;
		}
	}
	/* The self check compares our listen addresses with the port that mail
	 * goes to, which for a smarthost is its own port. */
	self.delivery_port = port;
	g_ptr_array_add(hosts, entry);
	selected = op_mx_select(hosts, host, &self, error);
	if (selected == NULL) {
		g_prefix_error(error, "the smarthost %s cannot be used: ", host);
		return NULL;
	}
	kept = g_ptr_array_index(selected, 0);
	return g_ptr_array_ref(kept->addresses);
}

static OpSmtpClient *
connect_smarthost(OpDeliveryJob *job, const char *smarthost, char **relay, GError **error)
{
	OpConfig *config = job->env->config;
	g_autofree char *host = NULL;
	g_autoptr(GPtrArray) addresses = NULL;
	g_autoptr(GError) last_error = NULL;
	OpSmtpRelayOptions options = {0};
	guint port = 0;

	if (!op_parse_host_port(smarthost, 0, &host, &port, NULL) || port == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost \"%s\" is invalid: set it as host:port", smarthost);
		return NULL;
	}
	addresses = resolve_smarthost(job, host, port, error);
	if (addresses == NULL)
		return NULL;
	options.ca_file = g_atomic_pointer_get(&config->smarthost_ca_file);
	options.user = g_atomic_pointer_get(&config->smarthost_user);
	options.password = g_atomic_pointer_get(&config->smarthost_password);
	/* RFC 8314 §3.3: port 465 speaks TLS from the start. */
	options.implicit_tls = port == 465;
	for (guint i = 0; i < addresses->len; i++) {
		OpSmtpClient *client;

		g_clear_error(&last_error);
		client = op_smtp_client_connect_relay(host, g_ptr_array_index(addresses, i), port,
						      config->hostname, OP_DELIVERY_TIMEOUT,
						      &options, &last_error);
		if (client != NULL) {
			*relay = g_steal_pointer(&host);
			return client;
		}
		g_debug("%s: connecting to the smarthost failed: %s", job->domain,
			last_error->message);
	}
	if (last_error != NULL)
		g_propagate_error(error, g_steal_pointer(&last_error));
	else
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "the smarthost %s has no address", host);
	return NULL;
}

/* The connection of the current route, and the MX lookup, done at most once
 * per job and only when a message goes by MX. */
typedef struct {
	gboolean started;
	char *route; /* smarthost "host:port", NULL for MX */
	OpSmtpClient *client;
	GError *connect_error;
	char *server; /* name of the connected MX host or smarthost */
	gboolean mx_resolved;
	GPtrArray *hosts;
	GError *mx_error;
} OpRouteState;

static void
route_state_close(OpRouteState *state)
{
	if (state->client != NULL)
		op_smtp_client_quit(state->client);
	g_clear_pointer(&state->client, op_smtp_client_free);
	g_clear_error(&state->connect_error);
	g_clear_pointer(&state->server, g_free);
}

static void
route_state_clear(OpRouteState *state)
{
	route_state_close(state);
	g_clear_pointer(&state->route, g_free);
	g_clear_pointer(&state->hosts, g_ptr_array_unref);
	g_clear_error(&state->mx_error);
}

/* Switches to @route, closing the connection of another route. */
static void
route_state_select(OpRouteState *state, char *route)
{
	if (state->started && g_strcmp0(state->route, route) == 0) {
		g_free(route);
		return;
	}
	route_state_close(state);
	g_free(state->route);
	state->route = route;
	state->started = TRUE;
}

static void
route_state_connect(OpDeliveryJob *job, OpRouteState *state)
{
	const char *mx = NULL;

	if (state->route != NULL) {
		state->client = connect_smarthost(job, state->route, &state->server,
						  &state->connect_error);
		return;
	}
	state->client = connect_any(job, state->hosts, &mx, &state->connect_error);
	state->server = g_strdup(mx);
}

/* Looks up the MX hosts the first time a message needs them. Returns FALSE
 * with state->mx_error set when the lookup failed. */
static gboolean
route_state_resolve_mx(OpDeliveryJob *job, OpRouteState *state)
{
	if (!state->mx_resolved) {
		state->mx_resolved = TRUE;
		state->hosts = op_mx_resolve(job->env->resolver, job->domain, job->env->self,
					     &state->mx_error);
		if (state->hosts == NULL)
			g_message("%s: MX lookup failed: %s", job->domain,
				  state->mx_error->message);
	}
	return state->hosts != NULL;
}

static void
send_message(OpDeliveryJob *job, OpRouteState *state, OpJobMessage *message, GBytes *body)
{
	g_auto(GStrv) addresses = dup_addresses(message);
	OpDeliveryOutcome outcome = {0};
	g_autoptr(GError) error = NULL;

	if (!op_smtp_client_send(state->client, message->sender,
				 (const char *const *)addresses, body, &outcome, &error)) {
		/* Recipients refused before the connection broke keep their
		 * own outcome; the rest are retried. */
		if (outcome.recipients != NULL)
			apply_outcome(job, message, body, &outcome, state->server);
		else
			apply_all(job, message, body, OP_DELIVERY_TEMPORARY, "4.4.2",
				  error->message, state->server);
		op_delivery_outcome_clear(&outcome);
		g_clear_pointer(&state->client, op_smtp_client_free);
		return;
	}
	apply_outcome(job, message, body, &outcome, state->server);
	op_delivery_outcome_clear(&outcome);
	if (!op_smtp_client_is_usable(state->client))
		g_clear_pointer(&state->client, op_smtp_client_free);
}

static void
deliver_message(OpDeliveryJob *job, OpRouteState *state, OpJobMessage *message, GBytes *body)
{
	route_state_select(state, dup_route(job, message));
	if (state->route == NULL && !route_state_resolve_mx(job, state)) {
		GError *error = state->mx_error;
		gboolean permanent = g_error_matches(error, OP_ERROR, OP_ERROR_PERMANENT);

		apply_all(job, message, body,
			  permanent ? OP_DELIVERY_PERMANENT : OP_DELIVERY_TEMPORARY,
			  op_mx_error_status(error), error->message, NULL);
		return;
	}
	if (state->client == NULL && state->connect_error == NULL)
		route_state_connect(job, state);
	if (state->client == NULL) {
		/* A smarthost's failures, a refused login included, are all
		 * temporary: they come from its configuration, not from the
		 * recipient. */
		apply_all(job, message, body, OP_DELIVERY_TEMPORARY, "4.4.1",
			  state->connect_error->message, state->route);
		return;
	}
	send_message(job, state, message, body);
}

void
op_delivery_job_run(OpDeliveryJob *job)
{
	OpRouteState state = {0};

	for (guint i = 0; i < job->messages->len; i++) {
		OpJobMessage *message = g_ptr_array_index(job->messages, i);
		g_autoptr(GBytes) body = op_store_load_body(job->env->store, message->message_id, NULL);

		if (body == NULL)
			continue; /* removed from the queue meanwhile */
		deliver_message(job, &state, message, body);
	}
	route_state_clear(&state);
}
