/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The daemon's own worker threads, in place of GTask's shared pool. That
 * pool also runs the TLS handshakes of GIO connections (the HTTPS
 * endpoint): a client holding many handshakes open would otherwise make
 * password checks, message commits and admin calls wait behind them.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
	OP_WORKER_SMTP,	 /* password checks, signing and committing messages */
	OP_WORKER_ADMIN, /* D-Bus calls, reloads, DKIM key checks */
} OpWorkerPool;

/* Runs func(task, source object, task data, cancellable) in a thread of
 * pool, like g_task_run_in_thread(); the task's callback runs in the task's
 * main context as usual. Takes a reference on task. */
void op_worker_run(OpWorkerPool pool, GTask *task, GTaskThreadFunc func);

G_END_DECLS
