/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue part of the administration engine: paged listing with filters,
 * one message's envelope and headers, retry, hold, release, delete, bounce,
 * the totals per state and the hourly delivery statistics. Every argument is
 * checked before the store changes, and a change that makes mail due wakes
 * the scheduler so it runs at once.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "delivery/op-bounce.h"
#include "op-error.h"
#include "queue/op-notice.h"

/* Ids per call: one page of ListQueue. */
#define OP_MAX_QUEUE_IDS 1000
/* Queue ids are 14 hexadecimal digits. Longer text is rejected as invalid
 * rather than looked up. */
#define OP_MAX_QUEUE_ID_LENGTH 64
/* RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254. */
#define OP_MAX_FILTER_LENGTH 254
/* Octets of a header section that GetMessage returns and a bounce quotes. */
#define OP_MAX_HEADER_SECTION (1024 * 1024)
#define OP_MAX_STATISTICS_HOURS 720
/* Values longer than this are not repeated in error messages. */
#define OP_MAX_QUOTED_VALUE 40

/* RFC 3463 §3.1: X.0.0, other or undefined status. */
#define OP_ADMIN_BOUNCE_STATUS "5.0.0"
#define OP_ADMIN_BOUNCE_REASON "deleted by the administrator"

static const char *const op_queue_sort_names[] = {
	[OP_QUEUE_SORT_CREATED] = "created",
	[OP_QUEUE_SORT_SIZE] = "size",
	[OP_QUEUE_SORT_SENDER] = "sender",
	[OP_QUEUE_SORT_ATTEMPTS] = "attempts",
	[OP_QUEUE_SORT_NEXT_ATTEMPT] = "next-attempt",
};

/* Returns whether @text is short and printable enough to quote in an error. */
static gboolean
is_quotable(const char *text)
{
	gsize len = strlen(text);

	if (len == 0 || len > OP_MAX_QUOTED_VALUE)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isgraph(text[i]))
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_sort(const char *sort, OpQueueSort *key, GError **error)
{
	if (sort == NULL || *sort == '\0') {
		*key = OP_QUEUE_SORT_CREATED;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(op_queue_sort_names); i++) {
		if (strcmp(sort, op_queue_sort_names[i]) == 0) {
			*key = (OpQueueSort)i;
			return TRUE;
		}
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown sort key%s%s%s: use created, size, sender, attempts or next-attempt",
		    is_quotable(sort) ? " \"" : "", is_quotable(sort) ? sort : "",
		    is_quotable(sort) ? "\"" : "");
	return FALSE;
}

static gboolean
parse_state(const char *state, OpQueueState *value, GError **error)
{
	static const OpQueueState states[] = {OP_QUEUE_STATE_QUEUED, OP_QUEUE_STATE_DEFERRED,
					      OP_QUEUE_STATE_HELD};

	*value = OP_QUEUE_STATE_ANY;
	if (state == NULL)
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		if (strcmp(state, op_queue_state_to_string(states[i])) == 0) {
			*value = states[i];
			return TRUE;
		}
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown message state%s%s%s: use queued, deferred or held",
		    is_quotable(state) ? " \"" : "", is_quotable(state) ? state : "",
		    is_quotable(state) ? "\"" : "");
	return FALSE;
}

/* Returns the substring to search for in ASCII lower case, or NULL for no
 * filter. SQLite's lower() also folds only ASCII letters. */
static gboolean
parse_substring(const char *text, const char *what, char **needle, GError **error)
{
	*needle = NULL;
	if (text == NULL || *text == '\0')
		return TRUE;
	if (strlen(text) > OP_MAX_FILTER_LENGTH) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the %s filter is longer than %d octets, so no address can match: "
			    "shorten it",
			    what, OP_MAX_FILTER_LENGTH);
		return FALSE;
	}
	*needle = g_ascii_strdown(text, -1);
	return TRUE;
}

/* Recipient domains are stored as given in RCPT TO, so an internationalized
 * domain may be stored as an A-label or a U-label: the query matches both. */
static gboolean
parse_domain(const char *domain, char **ascii, char **unicode, GError **error)
{
	*ascii = NULL;
	*unicode = NULL;
	if (domain == NULL)
		return TRUE;
	*ascii = op_admin_normalize_domain(domain, error);
	if (*ascii == NULL) {
		g_prefix_error(error, "invalid domain filter: ");
		return FALSE;
	}
	if (g_hostname_is_ascii_encoded(*ascii)) {
		g_autofree char *decoded = g_hostname_to_unicode(*ascii);

		*unicode = decoded ? g_utf8_strdown(decoded, -1) : NULL;
	}
	return TRUE;
}

static gboolean
set_age_bounds(const OpAdminQueueFilter *filter, OpStoreQueueQuery *query, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if ((filter->has_min_age && filter->min_age < 0) ||
	    (filter->has_max_age && filter->max_age < 0)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid age filter: min-age and max-age are seconds, 0 or more");
		return FALSE;
	}
	if (filter->has_min_age && filter->has_max_age && filter->min_age > filter->max_age) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid age filter: min-age (%" G_GINT64_FORMAT " s) is above max-age "
			    "(%" G_GINT64_FORMAT " s), so no message can match",
			    filter->min_age, filter->max_age);
		return FALSE;
	}
	query->created_max = filter->has_min_age ? now - filter->min_age : G_MAXINT64;
	query->created_min = filter->has_max_age ? now - filter->max_age : G_MININT64;
	return TRUE;
}

GPtrArray *
op_admin_list_queue(OpAdmin *admin, const OpAdminQueueFilter *filter, const char *sort,
		    gboolean descending, guint offset, guint limit, GError **error)
{
	OpStoreQueueQuery query = {.descending = descending, .offset = offset, .limit = limit};
	g_autofree char *sender = NULL;
	g_autofree char *recipient = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *domain_unicode = NULL;

	if (!parse_sort(sort, &query.sort, error) ||
	    !parse_state(filter->state, &query.state, error) ||
	    !parse_substring(filter->sender, "sender", &sender, error) ||
	    !parse_substring(filter->recipient, "recipient", &recipient, error) ||
	    !parse_domain(filter->domain, &domain, &domain_unicode, error) ||
	    !set_age_bounds(filter, &query, error))
		return NULL;
	query.sender = sender;
	query.recipient = recipient;
	query.domain = domain;
	query.domain_unicode = domain_unicode;
	return op_store_query_queue(admin->store, &query, error);
}

/* Checks one queue id and returns it in upper case, as ids are stored. An
 * id of the right form that no message has is not an error here. */
static char *
normalize_id(const char *id, GError **error)
{
	gsize len = strlen(id);

	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isgraph(id[i]))
			len = 0;
	}
	if (len == 0 || len > OP_MAX_QUEUE_ID_LENGTH) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid queue id: expected the id that queue list shows, such as "
			    "6931A2F0A1B2C3");
		return NULL;
	}
	return g_ascii_strup(id, -1);
}

/* Checks a list of ids and returns them normalized, each once. */
static GStrv
normalize_ids(const char *const *ids, GError **error)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint count = ids != NULL ? g_strv_length((char **)ids) : 0;

	if (count == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "no queue id given: give the ids that queue list shows");
		return NULL;
	}
	if (count > OP_MAX_QUEUE_IDS) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "too many queue ids (%u): give at most %d per call", count,
			    OP_MAX_QUEUE_IDS);
		return NULL;
	}
	for (guint i = 0; i < count; i++) {
		char *id = normalize_id(ids[i], error);

		if (id == NULL)
			return NULL;
		if (!g_hash_table_add(seen, id))
			continue;
		g_strv_builder_add(builder, id);
	}
	return g_strv_builder_end(builder);
}

OpStoreQueueEntry *
op_admin_get_message(OpAdmin *admin, const char *id, GBytes **headers, GError **error)
{
	g_autofree char *normalized = normalize_id(id, error);
	g_autoptr(OpStoreQueueEntry) entry = NULL;

	if (normalized == NULL)
		return NULL;
	entry = op_store_get_queue_entry(admin->store, normalized, error);
	if (entry == NULL)
		return NULL;
	*headers = op_store_load_header_section(admin->store, normalized, OP_MAX_HEADER_SECTION,
						error);
	if (*headers == NULL)
		return NULL;
	return g_steal_pointer(&entry);
}

static gboolean
wake_queue_cb(gpointer user_data)
{
	op_queue_wake(user_data);
	return G_SOURCE_REMOVE;
}

/* Makes the scheduler scan the queue now rather than at its next tick. The
 * engine runs in worker threads and OpQueue belongs to the main loop, so the
 * wake is handed to the main context. */
static void
wake_queue(OpAdmin *admin)
{
	if (admin->queue != NULL)
		g_main_context_invoke(NULL, wake_queue_cb, admin->queue);
}

gboolean
op_admin_retry_messages(OpAdmin *admin, const char *const *ids, guint *count, GError **error)
{
	g_auto(GStrv) normalized = normalize_ids(ids, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_retry_messages(admin->store, (const char *const *)normalized,
				     g_get_real_time() / G_USEC_PER_SEC, count, error))
		return FALSE;
	g_message("%u of %u messages made due now", *count, g_strv_length(normalized));
	if (*count > 0)
		wake_queue(admin);
	return TRUE;
}

static gboolean
set_held(OpAdmin *admin, const char *const *ids, gboolean held, guint *count, GError **error)
{
	g_auto(GStrv) normalized = normalize_ids(ids, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_set_held(admin->store, (const char *const *)normalized, held, count, error))
		return FALSE;
	g_message("%u of %u messages %s", *count, g_strv_length(normalized),
		  held ? "held" : "released");
	/* A released message whose retry time has passed is due now. */
	if (!held && *count > 0)
		wake_queue(admin);
	return TRUE;
}

gboolean
op_admin_hold_messages(OpAdmin *admin, const char *const *ids, guint *count, GError **error)
{
	return set_held(admin, ids, TRUE, count, error);
}

gboolean
op_admin_release_messages(OpAdmin *admin, const char *const *ids, guint *count, GError **error)
{
	return set_held(admin, ids, FALSE, count, error);
}

gboolean
op_admin_delete_messages(OpAdmin *admin, const char *const *ids, guint *count, GError **error)
{
	g_auto(GStrv) normalized = normalize_ids(ids, error);

	if (normalized == NULL)
		return FALSE;
	if (!op_store_delete_messages(admin->store, (const char *const *)normalized,
				      OP_ADMIN_BOUNCE_REASON, count, error))
		return FALSE;
	g_message("%u of %u messages deleted without notice to the sender", *count,
		  g_strv_length(normalized));
	return TRUE;
}

/* Builds the failure notice for every recipient of @entry: status 5.0.0,
 * with the original header section attached. */
static gboolean
prepare_bounce(OpAdmin *admin, const OpStoreQueueEntry *entry, GBytes *headers,
	       OpStoreMessage *notice, GError **error)
{
	g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_bounce_recipient_free);
	OpBounceInfo info = {
		.reporting_mta = admin->config->hostname,
		.queue_id = entry->id,
		.sender = entry->sender,
		.arrival_time = entry->created,
		.delay_warning = FALSE,
		.recipients = recipients,
		.original = headers,
	};

	for (guint i = 0; i < entry->recipients->len; i++) {
		OpBounceRecipient *recipient = g_new0(OpBounceRecipient, 1);

		recipient->recipient = g_strdup(g_ptr_array_index(entry->recipients, i));
		recipient->action = "failed";
		recipient->status = g_strdup(OP_ADMIN_BOUNCE_STATUS);
		recipient->diagnostic = g_strdup(OP_ADMIN_BOUNCE_REASON);
		g_ptr_array_add(recipients, recipient);
	}
	return op_notice_prepare(&info, notice, error);
}

/* Bounces one message. *found is FALSE when it has left the queue. */
static gboolean
bounce_message(OpAdmin *admin, const char *id, gboolean *found, GError **error)
{
	g_autoptr(GError) lookup_error = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;
	g_autoptr(GBytes) headers = NULL;
	OpStoreMessage notice = {0};
	gboolean returned;
	gboolean ok;

	*found = FALSE;
	entry = op_store_get_queue_entry(admin->store, id, &lookup_error);
	if (entry != NULL)
		headers = op_store_load_header_section(admin->store, id, OP_MAX_HEADER_SECTION,
						       &lookup_error);
	if (headers == NULL) {
		if (g_error_matches(lookup_error, OP_ERROR, OP_ERROR_NOT_FOUND))
			return TRUE;
		g_propagate_error(error, g_steal_pointer(&lookup_error));
		return FALSE;
	}
	/* RFC 5321 §6.1: a message from the null sender is never returned. */
	returned = *entry->sender != '\0' && entry->recipients->len > 0;
	if (returned && !prepare_bounce(admin, entry, headers, &notice, error))
		return FALSE;
	ok = op_store_bounce_message(admin->store, id, returned ? &notice : NULL,
				     OP_ADMIN_BOUNCE_STATUS " " OP_ADMIN_BOUNCE_REASON, found,
				     error);
	if (ok && *found)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OP_QUEUE_ID", id, "OP_STATUS",
				 "bounced", "MESSAGE", "%s: bounced by the administrator%s%s", id,
				 returned ? ", notice queued as " : ", not returned: the sender is null",
				 returned ? notice.id : "");
	op_store_message_clear(&notice);
	return ok;
}

/* Bounces the messages one by one. When one fails, those before it stay
 * bounced and the error names how many. */
gboolean
op_admin_bounce_messages(OpAdmin *admin, const char *const *ids, guint *count, GError **error)
{
	g_auto(GStrv) normalized = normalize_ids(ids, error);
	guint bounced = 0;

	if (normalized == NULL)
		return FALSE;
	for (guint i = 0; normalized[i] != NULL; i++) {
		gboolean found = FALSE;

		if (!bounce_message(admin, normalized[i], &found, error)) {
			g_prefix_error(error, "bouncing %s failed after %u bounced messages: ",
				       normalized[i], bounced);
			if (bounced > 0)
				wake_queue(admin);
			return FALSE;
		}
		if (found)
			bounced++;
	}
	if (bounced > 0)
		wake_queue(admin);
	*count = bounced;
	return TRUE;
}

gboolean
op_admin_get_queue_totals(OpAdmin *admin, OpStoreQueueTotals *totals, GError **error)
{
	return op_store_get_queue_totals(admin->store, totals, error);
}

/* Returns one OpStoreHourCounts per hour, oldest first, ending with the
 * current hour. */
GArray *
op_admin_get_statistics(OpAdmin *admin, guint hours, GError **error)
{
	gint64 current_hour = g_get_real_time() / G_USEC_PER_SEC / 3600 * 3600;

	if (hours == 0 || hours > OP_MAX_STATISTICS_HOURS) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid number of hours %u: ask for 1 to %d (30 days)", hours,
			    OP_MAX_STATISTICS_HOURS);
		return NULL;
	}
	return op_store_count_events_by_hour(admin->store,
					     current_hour - (gint64)(hours - 1) * 3600, hours,
					     error);
}
