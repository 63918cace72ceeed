/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs on the main loop: once a second, or at once when a message arrives,
 * it reads the due recipients, skips those already being delivered, groups
 * the rest by domain and starts a job per domain in the delivery pool.
 */
#define G_LOG_DOMAIN "outpost-queue"

#include "queue/op-queue.h"

#include "queue/op-delivery-job.h"

/* Due recipients read per scan, and messages per job. */
#define OP_SCAN_LIMIT 2000
#define OP_JOB_MAX_MESSAGES 50

struct _OpQueue {
	OpDeliveryEnv env;
	GThreadPool *pool;
	GHashTable *in_flight;	   /* recipient id (gint64 *) */
	GHashTable *domain_jobs;   /* domain -> GUINT_TO_POINTER(running jobs) */
	guint tick_id;
	guint wake_id;
	gboolean stopping;
	guint running;
};

typedef struct {
	OpQueue *queue;
	OpDeliveryJob *job;
} OpJobDone;

static void scan(OpQueue *queue);

static gboolean
job_done_cb(gpointer user_data)
{
	OpJobDone *done = user_data;
	OpQueue *queue = done->queue;
	OpDeliveryJob *job = done->job;
	guint jobs = GPOINTER_TO_UINT(g_hash_table_lookup(queue->domain_jobs, job->domain));

	for (guint i = 0; i < job->messages->len; i++) {
		OpJobMessage *message = g_ptr_array_index(job->messages, i);

		for (guint j = 0; j < message->recipients->len; j++) {
			OpStoreRecipient *recipient = g_ptr_array_index(message->recipients, j);

			g_hash_table_remove(queue->in_flight, &recipient->recipient_id);
		}
	}
	if (jobs <= 1)
		g_hash_table_remove(queue->domain_jobs, job->domain);
	else
		g_hash_table_insert(queue->domain_jobs, g_strdup(job->domain),
				    GUINT_TO_POINTER(jobs - 1));
	queue->running--;
	/* A bounce queued by the job is due at once. */
	if (job->bounces_queued > 0)
		op_queue_wake(queue);
	op_delivery_job_free(job);
	g_free(done);
	return G_SOURCE_REMOVE;
}

static void
run_job(gpointer data, gpointer user_data)
{
	OpQueue *queue = user_data;
	OpJobDone *done = g_new0(OpJobDone, 1);

	op_delivery_job_run(data);
	done->queue = queue;
	done->job = data;
	g_main_context_invoke(NULL, job_done_cb, done);
}

static OpJobMessage *
find_message(OpDeliveryJob *job, const char *message_id)
{
	for (guint i = 0; i < job->messages->len; i++) {
		OpJobMessage *message = g_ptr_array_index(job->messages, i);

		if (g_strcmp0(message->message_id, message_id) == 0)
			return message;
	}
	return NULL;
}

static OpStoreRecipient *
copy_recipient(const OpStoreRecipient *recipient)
{
	OpStoreRecipient *copy = g_memdup2(recipient, sizeof *recipient);

	copy->message_id = g_strdup(recipient->message_id);
	copy->sender = g_strdup(recipient->sender);
	copy->address = g_strdup(recipient->address);
	copy->domain = g_strdup(recipient->domain);
	return copy;
}

/* Adds a due recipient to its domain's new job, unless the domain has as
 * many jobs running as allowed or the job is full. */
static void
add_recipient(OpQueue *queue, GHashTable *jobs, OpStoreRecipient *recipient)
{
	OpDeliveryJob *job = g_hash_table_lookup(jobs, recipient->domain);
	guint running = GPOINTER_TO_UINT(g_hash_table_lookup(queue->domain_jobs, recipient->domain));
	OpJobMessage *message;

	if (g_hash_table_contains(queue->in_flight, &recipient->recipient_id))
		return;
	if (job == NULL) {
		if (running >= queue->env.config->per_destination_concurrency)
			return;
		job = op_delivery_job_new(&queue->env, recipient->domain);
		g_hash_table_insert(jobs, g_strdup(recipient->domain), job);
	}
	message = find_message(job, recipient->message_id);
	if (message == NULL) {
		if (job->messages->len >= OP_JOB_MAX_MESSAGES)
			return;
		message = op_delivery_job_add_message(job, recipient);
	}
	g_hash_table_add(queue->in_flight, g_memdup2(&recipient->recipient_id, sizeof(gint64)));
	g_ptr_array_add(message->recipients, copy_recipient(recipient));
}

static void
start_jobs(OpQueue *queue, GHashTable *jobs)
{
	GHashTableIter iter;
	gpointer domain;
	gpointer job;

	g_hash_table_iter_init(&iter, jobs);
	while (g_hash_table_iter_next(&iter, &domain, &job)) {
		guint running = GPOINTER_TO_UINT(g_hash_table_lookup(queue->domain_jobs, domain));
		g_autoptr(GError) error = NULL;

		g_hash_table_insert(queue->domain_jobs, g_strdup(domain),
				    GUINT_TO_POINTER(running + 1));
		queue->running++;
		g_hash_table_iter_steal(&iter);
		g_free(domain);
		if (!g_thread_pool_push(queue->pool, job, &error))
			g_warning("starting a delivery job failed: %s", error->message);
	}
}

static void
scan(OpQueue *queue)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) due = NULL;
	g_autoptr(GHashTable) jobs = NULL;

	if (queue->stopping)
		return;
	due = op_store_list_due(queue->env.store, g_get_real_time() / G_USEC_PER_SEC,
				OP_SCAN_LIMIT, &error);
	if (due == NULL) {
		g_warning("reading the queue failed: %s", error->message);
		return;
	}
	jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     (GDestroyNotify)op_delivery_job_free);
	for (guint i = 0; i < due->len; i++)
		add_recipient(queue, jobs, g_ptr_array_index(due, i));
	start_jobs(queue, jobs);
}

static gboolean
tick_cb(gpointer user_data)
{
	scan(user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean
wake_cb(gpointer user_data)
{
	OpQueue *queue = user_data;

	queue->wake_id = 0;
	scan(queue);
	return G_SOURCE_REMOVE;
}

OpQueue *
op_queue_new(OpConfig *config, OpStore *store, OpResolver *resolver, OpMxSelf *self)
{
	OpQueue *queue = g_new0(OpQueue, 1);

	queue->env.config = config;
	queue->env.store = store;
	queue->env.resolver = resolver;
	queue->env.self = self;
	queue->pool = g_thread_pool_new(run_job, queue, (int)config->delivery_concurrency, FALSE,
					NULL);
	queue->in_flight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	queue->domain_jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return queue;
}

void
op_queue_start(OpQueue *queue)
{
	queue->tick_id = g_timeout_add_seconds(1, tick_cb, queue);
	op_queue_wake(queue);
}

/* Schedules a scan on the next main-loop iteration; several wakes in a row
 * cost one scan. */
void
op_queue_wake(OpQueue *queue)
{
	if (queue->wake_id == 0 && !queue->stopping)
		queue->wake_id = g_idle_add(wake_cb, queue);
}

void
op_queue_free(OpQueue *queue)
{
	if (queue == NULL)
		return;
	queue->stopping = TRUE;
	if (queue->tick_id != 0)
		g_source_remove(queue->tick_id);
	if (queue->wake_id != 0)
		g_source_remove(queue->wake_id);
	/* Waits for the running jobs and drops those not started: what they did
	 * not finish stays in the store and is due again at the next start. */
	g_thread_pool_free(queue->pool, TRUE, TRUE);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_hash_table_unref(queue->in_flight);
	g_hash_table_unref(queue->domain_jobs);
	g_free(queue);
}
