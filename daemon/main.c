/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostd: the submission server, the delivery queue and the D-Bus admin
 * API in one process on the GLib main loop.
 */
#define G_LOG_DOMAIN "outpostd"

#include "dbus/op-dbus-service.h"
#include "op-worker.h"
#include "dkim/op-dkim.h"
#include "dns/op-resolver.h"
#include "http/op-http-server.h"
#include "http/op-mobileconfig.h"
#include "op-admin.h"
#include "op-config.h"
#include "op-error.h"
#include "op-privileges.h"
#include "op-settings.h"
#include "policy/op-policy.h"
#include "queue/op-queue.h"
#include "smtp/op-smtp-server.h"
#include "store/op-store.h"
#include "tls/op-tls-cert.h"
#include "tls/op-tls.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

/* Seconds a DNS query may take before the attempt counts as a temporary failure. */
#define OP_DNS_TIMEOUT 10

typedef struct {
	OpConfig *config;
	GMainLoop *loop;
	OpStore *store;
	OpDkimSigner *signer;
	OpResolver *resolver;
	OpMxSelf self;
	OpSmtpContext context;
	OpSmtpServer *server;
	OpQueue *queue;
	OpAdmin admin;
	OpDbusService *dbus;
	OpHttpServer *http; /* NULL while the HTTP endpoint is off */
	int exit_status;
} OpDaemon;

static gboolean
prepare_state_dir(OpConfig *config, GError **error)
{
	if (g_mkdir_with_parents(config->state_dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "failed to create the state directory %s: %s", config->state_dir,
			    g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

/* Applies the settings stored through the admin API over the config file
 * and the flags. The store opens only after the ports are bound and
 * privileges dropped, but stored settings may move the listeners and the
 * certificate, so they are read from the database file directly. */
static gboolean
apply_stored_settings(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;
	g_autofree char *db_path = g_build_filename(config->state_dir, "outpost.db", NULL);
	g_autoptr(GHashTable) stored = op_store_read_settings_file(db_path, error);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(OpSettings) settings = NULL;

	if (stored == NULL)
		return FALSE;
	/* Without a configured pair, a self-signed one lives in the state directory. */
	if (config->tls_cert == NULL) {
		config->tls_cert = g_build_filename(config->state_dir, "tls-cert.pem", NULL);
		config->tls_key = g_build_filename(config->state_dir, "tls-key.pem", NULL);
	}
	daemon->admin.file_settings = op_settings_new_from_config(config);
	settings = op_settings_copy(daemon->admin.file_settings);
	op_settings_apply_stored(settings, stored, problems);
	for (guint i = 0; i < problems->len; i++)
		g_warning("%s", (const char *)g_ptr_array_index(problems, i));
	op_config_apply_settings(config, settings);
	if (g_hash_table_size(stored) > 0)
		g_message("%u settings stored through the admin API apply over the config file",
			  g_hash_table_size(stored));
	return TRUE;
}

/* Makes the self-signed pair when the config names the state directory's. */
static gboolean
ensure_self_signed(OpConfig *config, GError **error)
{
	g_autofree char *default_cert = g_build_filename(config->state_dir, "tls-cert.pem",
							 NULL);

	if (strcmp(config->tls_cert, default_cert) != 0)
		return TRUE;
	if (!op_tls_cert_ensure_self_signed(config->tls_cert, config->tls_key, config->hostname,
					    error))
		return FALSE;
	/* The self-signed pair belongs to the daemon's own user, like the rest of
	 * the state. */
	if (config->user != NULL && geteuid() == 0 &&
	    (!op_privileges_chown(config->tls_cert, config->user, error) ||
	     !op_privileges_chown(config->tls_key, config->user, error)))
		return FALSE;
	return TRUE;
}

/* A stored certificate that no longer loads, say because its file was
 * removed, gives way to the config file's, so the daemon still starts and
 * the admin can fix the setting through the API. */
static gboolean
setup_tls(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;
	OpSettings *file_settings = daemon->admin.file_settings;
	g_autoptr(GError) local_error = NULL;

	if (!ensure_self_signed(config, error))
		return FALSE;
	daemon->context.tls = op_tls_server_context_new(config->tls_cert, config->tls_key,
							&local_error);
	if (daemon->context.tls != NULL)
		return TRUE;
	if (g_strcmp0(config->tls_cert, file_settings->tls_cert) == 0 &&
	    g_strcmp0(config->tls_key, file_settings->tls_key) == 0) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	g_warning("using the TLS certificate of the config file, because the stored one "
		  "failed: %s",
		  local_error->message);
	g_free(config->tls_cert);
	g_free(config->tls_key);
	config->tls_cert = g_strdup(file_settings->tls_cert);
	config->tls_key = g_strdup(file_settings->tls_key);
	if (!ensure_self_signed(config, error))
		return FALSE;
	daemon->context.tls = op_tls_server_context_new(config->tls_cert, config->tls_key, error);
	return daemon->context.tls != NULL;
}

static void
queued_cb(gpointer user_data)
{
	OpDaemon *daemon = user_data;

	if (daemon->queue != NULL)
		op_queue_wake(daemon->queue);
}

static gboolean
start_listeners(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;

	daemon->server = op_smtp_server_new(&daemon->context);
	for (guint i = 0; config->submission_listen[i] != NULL; i++) {
		if (!op_smtp_server_listen(daemon->server, config->submission_listen[i], FALSE,
					   error))
			return FALSE;
	}
	for (guint i = 0; config->submissions_listen[i] != NULL; i++) {
		if (!op_smtp_server_listen(daemon->server, config->submissions_listen[i], TRUE,
					   error))
			return FALSE;
	}
	if (config->sendmail_socket != NULL && *config->sendmail_socket != '\0')
		return op_smtp_server_listen_local(daemon->server, config->sendmail_socket,
						   config->user, error);
	return TRUE;
}

/* Binds the HTTP endpoint's ports and reads the profile-signing key, both of
 * which may need the starting user's privileges. */
static gboolean
start_http(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;
	g_autoptr(GError) local_error = NULL;
	const char *reason = NULL;

	daemon->admin.profile_signer = op_profile_signer_new(config->tls_cert, config->tls_key,
							     &local_error);
	if (daemon->admin.profile_signer == NULL)
		g_warning("Apple profiles are served unsigned: %s", local_error->message);
	if (!op_http_server_is_enabled(config, &reason)) {
		if (config->http_listen[0] != NULL || config->https_listen[0] != NULL)
			g_message("the HTTP endpoint is off: %s", reason);
		return TRUE;
	}
	daemon->http = op_http_server_new(config, error);
	return daemon->http != NULL;
}

static void
setup_self(OpDaemon *daemon)
{
	const char *names[] = {daemon->config->hostname, "localhost", NULL};
	g_autofree char *lower = g_ascii_strdown(daemon->config->hostname, -1);

	names[0] = lower;
	daemon->self.own_names = g_strdupv((char **)names);
	daemon->self.own_addresses = op_smtp_server_dup_addresses(daemon->server);
	daemon->self.delivery_port = daemon->config->delivery_port;
}

/* Runs as the starting user: only what needs root when started as root. */
static gboolean
setup_privileged(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;
	gboolean switching = config->user != NULL && geteuid() == 0;

	if (!prepare_state_dir(config, error))
		return FALSE;
	if (switching && !op_privileges_chown(config->state_dir, config->user, error))
		return FALSE;
	if (!apply_stored_settings(daemon, error) || !setup_tls(daemon, error))
		return FALSE;
	daemon->context.config = config;
	daemon->context.trusted_networks = op_policy_parse_networks(config->trusted_networks,
								    error);
	if (daemon->context.trusted_networks == NULL)
		return FALSE;
	if (!start_listeners(daemon, error))
		return FALSE;
	if (!start_http(daemon, error))
		return FALSE;
	if (switching)
		return op_privileges_drop(config->user, error);
	if (geteuid() == 0 && !config->session_bus)
		g_warning("running as root: set user=outpost in the config file or use the "
			  "systemd unit, so no part that reads network input runs as root");
	return TRUE;
}

static gboolean
setup(OpDaemon *daemon, GError **error)
{
	OpConfig *config = daemon->config;
	g_autofree char *db_path = NULL;

	if (!setup_privileged(daemon, error))
		return FALSE;
	db_path = g_build_filename(config->state_dir, "outpost.db", NULL);
	daemon->store = op_store_open(db_path, error);
	if (daemon->store == NULL)
		return FALSE;
	daemon->signer = op_dkim_signer_new(error);
	if (daemon->signer == NULL)
		return FALSE;
	daemon->resolver = op_resolver_new(config->dns_resolver, OP_DNS_TIMEOUT, error);
	if (daemon->resolver == NULL)
		return FALSE;

	daemon->context.store = daemon->store;
	daemon->context.signer = daemon->signer;
	daemon->context.queued_cb = queued_cb;
	daemon->context.queued_data = daemon;
	setup_self(daemon);
	daemon->queue = op_queue_new(config, daemon->store, daemon->resolver, &daemon->self);
	daemon->admin.config = config;
	daemon->admin.store = daemon->store;
	daemon->admin.smtp_context = &daemon->context;
	daemon->admin.queue = daemon->queue;
	if (daemon->http != NULL)
		op_http_server_set_admin(daemon->http, &daemon->admin);
	return TRUE;
}

static void
print_banner(OpDaemon *daemon)
{
	OpConfig *config = daemon->config;
	g_autofree char *state_dir = g_canonicalize_filename(config->state_dir, NULL);

	g_print("outpostd %s ready: state in %s, DNS resolver %s, delivery to port %u\n",
		PACKAGE_VERSION, state_dir,
		config->dns_resolver ? config->dns_resolver : "from /etc/resolv.conf",
		config->delivery_port);
	for (guint i = 0; config->submission_listen[i] != NULL; i++)
		g_print("  submission (STARTTLS) on %s\n", config->submission_listen[i]);
	for (guint i = 0; config->submissions_listen[i] != NULL; i++)
		g_print("  submission (implicit TLS) on %s\n", config->submissions_listen[i]);
	if (config->sendmail_socket != NULL && *config->sendmail_socket != '\0')
		g_print("  local submission (outpost-sendmail) on %s\n", config->sendmail_socket);
	for (guint i = 0; daemon->http != NULL && config->https_listen[i] != NULL; i++)
		g_print("  mail-client setup and MTA-STS (HTTPS) on %s\n", config->https_listen[i]);
	for (guint i = 0; daemon->http != NULL && config->http_listen[i] != NULL; i++)
		g_print("  mail-client setup (HTTP%s) on %s\n",
			config->http_allow_plain ? "" : ", answering 404 without --http-allow-plain",
			config->http_listen[i]);
	if (config->dev_mode) {
		const char *bus = g_getenv("DBUS_SESSION_BUS_ADDRESS");

		g_print("First steps, in another terminal:\n");
		if (bus != NULL)
			g_print("  export DBUS_SESSION_BUS_ADDRESS='%s'\n", bus);
		g_print(
			"  build/daemon/outpostctl --session-bus domain add example.org\n"
			"  echo 'a-long-password' | build/daemon/outpostctl --session-bus account add "
			"me@example.org --password-stdin\n"
			"  swaks --server %s --tls --auth-user me@example.org --auth-password "
			"a-long-password --from me@example.org --to someone@example.net\n",
			config->submission_listen[0]);
		if (config->sendmail_socket != NULL && *config->sendmail_socket != '\0')
			g_print("  printf 'Subject: hi\\n\\nhello\\n' | "
				"OUTPOST_SENDMAIL_SOCKET=%s build/daemon/outpost-sendmail "
				"-f me@example.org someone@example.net\n",
				config->sendmail_socket);
	}
}

static void
ready_cb(gpointer user_data)
{
	OpDaemon *daemon = user_data;

	op_queue_start(daemon->queue);
	op_admin_start_dkim_rotations(&daemon->admin);
	print_banner(daemon);
	sd_notify(0, "READY=1");
}

static void
lost_cb(gpointer user_data)
{
	OpDaemon *daemon = user_data;

	g_printerr("outpostd: could not own %s on the %s bus: is another outpostd running?\n",
		   OP_DBUS_NAME, daemon->config->session_bus ? "session" : "system");
	daemon->exit_status = 1;
	g_main_loop_quit(daemon->loop);
}

static gboolean
stop_cb(gpointer user_data)
{
	OpDaemon *daemon = user_data;

	g_message("stopping on signal");
	sd_notify(0, "STOPPING=1");
	g_main_loop_quit(daemon->loop);
	return G_SOURCE_CONTINUE;
}

static void
reload_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpDaemon *daemon = task_data;
	g_autoptr(GError) error = NULL;

	sd_notify(0, "RELOADING=1");
	if (!op_admin_reload(&daemon->admin, &error))
		g_warning("reloading on SIGHUP failed: %s", error->message);
	sd_notify(0, "READY=1");
	g_task_return_boolean(task, TRUE);
}

/* SIGHUP does what the Reload method does. The work runs in a thread
 * because it reads the store and the certificate files, and the thread
 * hands the new values back to the main loop. */
static gboolean
reload_cb(gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, NULL, NULL);

	g_message("reloading the settings on SIGHUP");
	g_task_set_task_data(task, user_data, NULL);
	op_worker_run(OP_WORKER_ADMIN, task, reload_thread);
	return G_SOURCE_CONTINUE;
}

static void
teardown(OpDaemon *daemon)
{
	op_admin_stop_dkim_rotations(&daemon->admin);
	g_clear_pointer(&daemon->dbus, op_dbus_service_free);
	g_clear_pointer(&daemon->http, op_http_server_free);
	g_clear_pointer(&daemon->admin.profile_signer, op_profile_signer_free);
	g_clear_pointer(&daemon->server, op_smtp_server_free);
	g_clear_pointer(&daemon->queue, op_queue_free);
	g_clear_pointer(&daemon->self.own_names, g_strfreev);
	g_clear_pointer(&daemon->self.own_addresses, g_ptr_array_unref);
	g_clear_pointer(&daemon->context.trusted_networks, g_ptr_array_unref);
	g_clear_pointer(&daemon->resolver, op_resolver_free);
	g_clear_pointer(&daemon->signer, op_dkim_signer_free);
	g_clear_pointer(&daemon->context.tls, SSL_CTX_free);
	g_clear_pointer(&daemon->store, op_store_free);
	g_clear_pointer(&daemon->admin.file_settings, op_settings_free);
	g_clear_pointer(&daemon->loop, g_main_loop_unref);
}

int
main(int argc, char **argv)
{
	g_autoptr(OpConfig) config = op_config_new();
	g_autoptr(GError) error = NULL;
	OpDaemon daemon = {0};

	signal(SIGPIPE, SIG_IGN);
	/* The database contains password hashes and message bodies: files the
	 * daemon creates are for its own user only. */
	umask(0077);
	if (!op_config_parse(config, &argc, &argv, &error)) {
		g_printerr("outpostd: %s\n", error->message);
		return 2;
	}
	daemon.config = config;
	daemon.loop = g_main_loop_new(NULL, FALSE);
	if (!setup(&daemon, &error)) {
		g_printerr("outpostd: %s\n", error->message);
		teardown(&daemon);
		return 1;
	}
	daemon.dbus = op_dbus_service_new(&daemon.admin, config->session_bus,
					  G_CALLBACK(ready_cb), G_CALLBACK(lost_cb), &daemon);
	g_unix_signal_add(SIGTERM, stop_cb, &daemon);
	g_unix_signal_add(SIGINT, stop_cb, &daemon);
	g_unix_signal_add(SIGHUP, reload_cb, &daemon);
	g_main_loop_run(daemon.loop);
	teardown(&daemon);
	return daemon.exit_status;
}
