/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two fixed pools of worker threads, one for SMTP sessions and one for
 * administration, so a slow admin call never delays a submission either.
 */
#include "op-worker.h"

/* Threads per pool: yescrypt and RSA signing keep a core busy each, and the
 * admin calls mostly wait on SQLite or DNS. */
#define OP_WORKER_SMTP_THREADS 8
#define OP_WORKER_ADMIN_THREADS 4

typedef struct {
	GTask *task;
	GTaskThreadFunc func;
} OpWork;

static void
run_work(gpointer data, gpointer user_data)
{
	OpWork *work = data;

	work->func(work->task, g_task_get_source_object(work->task),
		   g_task_get_task_data(work->task), g_task_get_cancellable(work->task));
	g_object_unref(work->task);
	g_free(work);
}

static GThreadPool *
get_pool(OpWorkerPool which)
{
	static GThreadPool *pools[2];
	static GMutex lock;
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);

	if (pools[which] == NULL)
		pools[which] = g_thread_pool_new(run_work, NULL,
						 which == OP_WORKER_SMTP ? OP_WORKER_SMTP_THREADS
									 : OP_WORKER_ADMIN_THREADS,
						 FALSE, NULL);
	return pools[which];
}

void
op_worker_run(OpWorkerPool pool, GTask *task, GTaskThreadFunc func)
{
	OpWork *work = g_new0(OpWork, 1);

	work->task = g_object_ref(task);
	work->func = func;
	g_thread_pool_push(get_pool(pool), work, NULL);
}
