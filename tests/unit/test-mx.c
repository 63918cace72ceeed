/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of MX selection: ordering, the implicit and the null MX, the self
 * check and hosts without addresses, first on parsed records, then through a
 * real knotd on loopback when it is installed.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "delivery/op-mx.h"
#include "op-error.h"

static GPtrArray *
records_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)op_mx_host_free);
}

static OpMxHost *
host_with_addresses(const char *name, guint preference, const char *const *addresses)
{
	OpMxHost *host = op_mx_host_new(name, preference);

	host->addresses = g_ptr_array_new_with_free_func(g_object_unref);
	for (const char *const *a = addresses; a != NULL && *a != NULL; a++)
		g_ptr_array_add(host->addresses, g_inet_address_new_from_string(*a));
	return host;
}

static const char *
host_name(GPtrArray *hosts, guint index)
{
	return ((OpMxHost *)g_ptr_array_index(hosts, index))->host;
}

static void
test_mx_implicit(void)
{
	g_autoptr(GPtrArray) records = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = op_mx_order(records, "example.net", &error);

	g_assert_no_error(error);
	g_assert_cmpuint(hosts->len, ==, 1);
	g_assert_cmpstr(host_name(hosts, 0), ==, "example.net");
	g_assert_cmpuint(((OpMxHost *)hosts->pdata[0])->preference, ==, 0);
}

static void
test_mx_null(void)
{
	static const char *const targets[] = {".", ""};

	for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
		g_autoptr(GPtrArray) records = records_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) hosts = NULL;

		g_ptr_array_add(records, op_mx_host_new(targets[i], 0));
		hosts = op_mx_order(records, "example.net", &error);
		g_assert_null(hosts);
		g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
		g_assert_nonnull(strstr(error->message, "null MX"));
		g_assert_cmpstr(op_mx_error_status(error), ==, "5.1.10");
	}
}

static void
test_mx_root_beside_hosts(void)
{
	g_autoptr(GPtrArray) records = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;

	g_ptr_array_add(records, op_mx_host_new(".", 0));
	g_ptr_array_add(records, op_mx_host_new("mx.example.net.", 10));
	hosts = op_mx_order(records, "example.net", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(hosts->len, ==, 1);
	g_assert_cmpstr(host_name(hosts, 0), ==, "mx.example.net");
}

static void
test_mx_sorted(void)
{
	g_autoptr(GPtrArray) records = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;

	g_ptr_array_add(records, op_mx_host_new("MX2.Example.NET.", 20));
	g_ptr_array_add(records, op_mx_host_new("mx3.example.net.", 30));
	g_ptr_array_add(records, op_mx_host_new("mx1.example.net.", 10));
	g_ptr_array_add(records, op_mx_host_new("mx1.example.net.", 40));
	g_ptr_array_add(records, op_mx_host_new("mx3.example.net", 5));
	hosts = op_mx_order(records, "example.net", &error);

	g_assert_no_error(error);
	g_assert_cmpuint(hosts->len, ==, 3);
	g_assert_cmpstr(host_name(hosts, 0), ==, "mx3.example.net");
	g_assert_cmpuint(((OpMxHost *)hosts->pdata[0])->preference, ==, 5);
	g_assert_cmpstr(host_name(hosts, 1), ==, "mx1.example.net");
	g_assert_cmpstr(host_name(hosts, 2), ==, "mx2.example.net");
	/* The input is left as it was. */
	g_assert_cmpuint(records->len, ==, 5);
}

static void
test_mx_equal_shuffled(void)
{
	static const char *const names[] = {"a.example.net", "b.example.net", "c.example.net"};
	guint first_seen[G_N_ELEMENTS(names)] = {0};

	for (guint run = 0; run < 300; run++) {
		g_autoptr(GPtrArray) records = records_new();
		g_autoptr(GPtrArray) hosts = NULL;

		for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
			g_ptr_array_add(records, op_mx_host_new(names[i], 10));
		g_ptr_array_add(records, op_mx_host_new("backup.example.net", 5));
		g_ptr_array_add(records, op_mx_host_new("last.example.net", 50));
		hosts = op_mx_order(records, "example.net", NULL);
		g_assert_cmpuint(hosts->len, ==, 5);
		g_assert_cmpstr(host_name(hosts, 0), ==, "backup.example.net");
		g_assert_cmpstr(host_name(hosts, 4), ==, "last.example.net");
		for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
			if (g_strcmp0(host_name(hosts, 1), names[i]) == 0)
				first_seen[i]++;
		}
	}
	/* Each of three equal hosts leads about 100 times in 300 runs. */
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_cmpuint(first_seen[i], >, 30);
}

static void
test_mx_host_limit(void)
{
	g_autoptr(GPtrArray) records = records_new();
	g_autoptr(GPtrArray) hosts = NULL;

	for (guint i = 0; i < 15; i++) {
		g_autofree char *name = g_strdup_printf("mx%u.example.net", i);

		g_ptr_array_add(records, op_mx_host_new(name, 100 - i));
	}
	hosts = op_mx_order(records, "example.net", NULL);
	g_assert_cmpuint(hosts->len, ==, OP_MX_MAX_HOSTS);
	g_assert_cmpstr(host_name(hosts, 0), ==, "mx14.example.net");
}

/* Our own name, "localhost" and the addresses we listen on. */
typedef struct {
	OpMxSelf self;
	GPtrArray *own_addresses;
} SelfFixture;

static void
self_set_up(SelfFixture *fixture, gconstpointer data)
{
	static char *names[] = {"mail.example.org", "localhost", NULL};
	const char *listen = data;

	fixture->own_addresses = g_ptr_array_new_with_free_func(g_object_unref);
	if (listen != NULL) {
		g_autoptr(GError) error = NULL;
		GSocketConnectable *connectable = g_network_address_parse(listen, 25, &error);
		g_autoptr(GInetAddress) address = NULL;

		g_assert_no_error(error);
		address = g_inet_address_new_from_string(
			g_network_address_get_hostname(G_NETWORK_ADDRESS(connectable)));
		g_ptr_array_add(fixture->own_addresses,
				g_inet_socket_address_new(address,
							  g_network_address_get_port(
								  G_NETWORK_ADDRESS(connectable))));
		g_object_unref(connectable);
	}
	fixture->self.own_names = names;
	fixture->self.own_addresses = fixture->own_addresses;
	fixture->self.delivery_port = 25;
}

static void
self_tear_down(SelfFixture *fixture, gconstpointer data)
{
	g_ptr_array_unref(fixture->own_addresses);
}

static void
test_mx_self_by_name(SelfFixture *fixture, gconstpointer data)
{
	static const char *const a1[] = {"192.0.2.1", NULL};
	static const char *const a2[] = {"192.0.2.2", NULL};
	g_autoptr(GPtrArray) hosts = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) kept = NULL;

	g_ptr_array_add(hosts, host_with_addresses("mx1.example.org", 10, a1));
	g_ptr_array_add(hosts, host_with_addresses("mail.example.org", 20, a2));
	g_ptr_array_add(hosts, host_with_addresses("mx3.example.org", 20, a1));
	g_ptr_array_add(hosts, host_with_addresses("mx4.example.org", 30, a1));
	kept = op_mx_select(hosts, "example.org", &fixture->self, &error);

	/* We are the backup at 20: only the better host may take the mail. */
	g_assert_no_error(error);
	g_assert_cmpuint(kept->len, ==, 1);
	g_assert_cmpstr(host_name(kept, 0), ==, "mx1.example.org");
}

typedef struct {
	const char *name;
	const char *host;
	const char *address;
} LoopCase;

static const LoopCase loop_cases[] = {
	{"own-name", "mail.example.org", "192.0.2.9"},
	{"own-name-case", "MAIL.Example.ORG.", "192.0.2.9"},
	{"localhost", "localhost", "127.0.0.1"},
	{"localhost-subdomain", "a.localhost", "192.0.2.9"},
	{"own-address", "mx.example.org", "192.0.2.53"},
};

static void
test_mx_loop(SelfFixture *fixture, gconstpointer data)
{
	for (gsize i = 0; i < G_N_ELEMENTS(loop_cases); i++) {
		const char *addresses[] = {loop_cases[i].address, NULL};
		g_autoptr(GPtrArray) hosts = records_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) kept = NULL;

		g_test_message("case %s", loop_cases[i].name);
		g_ptr_array_add(hosts, host_with_addresses(loop_cases[i].host, 10, addresses));
		g_ptr_array_add(hosts, host_with_addresses("other.example.org", 20, addresses));
		kept = op_mx_select(hosts, "example.org", &fixture->self, &error);
		g_assert_null(kept);
		g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
		g_assert_nonnull(strstr(error->message, "loops back to myself"));
		g_assert_cmpstr(op_mx_error_status(error), ==, "5.4.6");
	}
}

typedef struct {
	const char *name;
	const char *listen;
	const char *address;
	gboolean self;
} AddressCase;

static const AddressCase address_cases[] = {
	{"same-address-port", "192.0.2.53:25", "192.0.2.53", TRUE},
	{"other-port", "192.0.2.53:587", "192.0.2.53", FALSE},
	{"other-address", "192.0.2.53:25", "192.0.2.54", FALSE},
	{"any-v4-loopback", "0.0.0.0:25", "127.0.0.1", TRUE},
	{"any-v4-other-loopback", "0.0.0.0:25", "127.0.0.2", TRUE},
	{"any-v6-loopback", "[::]:25", "::1", TRUE},
	{"any-remote", "0.0.0.0:25", "192.0.2.77", FALSE},
	{"any-other-port", "0.0.0.0:2525", "127.0.0.1", FALSE},
	{"ipv6-same", "[2001:db8::25]:25", "2001:db8::25", TRUE},
};

static void
test_mx_self_by_address(void)
{
	static const char *const good[] = {"192.0.2.200", NULL};

	for (gsize i = 0; i < G_N_ELEMENTS(address_cases); i++) {
		const AddressCase *item = &address_cases[i];
		const char *addresses[] = {item->address, NULL};
		SelfFixture fixture;
		g_autoptr(GPtrArray) hosts = records_new();
		g_autoptr(GPtrArray) kept = NULL;

		g_test_message("case %s", item->name);
		self_set_up(&fixture, item->listen);
		g_ptr_array_add(hosts, host_with_addresses("mx1.example.net", 10, good));
		g_ptr_array_add(hosts, host_with_addresses("mx2.example.net", 20, addresses));
		kept = op_mx_select(hosts, "example.net", &fixture.self, NULL);
		g_assert_nonnull(kept);
		/* When mx2 is us, it is dropped and mx1 takes the mail alone. */
		g_assert_cmpuint(kept->len, ==, item->self ? 1 : 2);
		g_assert_cmpstr(host_name(kept, 0), ==, "mx1.example.net");
		self_tear_down(&fixture, NULL);
	}
}

static void
test_mx_no_address(SelfFixture *fixture, gconstpointer data)
{
	static const char *const unusable[] = {"0.0.0.0", "::", "224.0.0.1", NULL};
	g_autoptr(GPtrArray) hosts = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) kept = NULL;

	g_ptr_array_add(hosts, op_mx_host_new("mx1.example.net", 10));
	g_ptr_array_add(hosts, host_with_addresses("mx2.example.net", 20, NULL));
	g_ptr_array_add(hosts, host_with_addresses("mx3.example.net", 30, unusable));
	kept = op_mx_select(hosts, "example.net", &fixture->self, &error);
	g_assert_null(kept);
	g_assert_error(error, OP_ERROR, OP_ERROR_TEMPORARY);
	g_assert_nonnull(strstr(error->message, "may appear later"));
	g_assert_cmpstr(op_mx_error_status(error), ==, "4.4.4");
}

static void
test_mx_skip_hostless(SelfFixture *fixture, gconstpointer data)
{
	static const char *const a2[] = {"2001:db8::2", "192.0.2.2", NULL};
	g_autoptr(GPtrArray) hosts = records_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) kept = NULL;
	OpMxHost *host;

	g_ptr_array_add(hosts, host_with_addresses("mx1.example.net", 10, NULL));
	g_ptr_array_add(hosts, host_with_addresses("mx2.example.net", 20, a2));
	kept = op_mx_select(hosts, "example.net", &fixture->self, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(kept->len, ==, 1);
	host = kept->pdata[0];
	g_assert_cmpstr(host->host, ==, "mx2.example.net");
	g_assert_cmpuint(host->addresses->len, ==, 2);
}

static void
test_mx_address_limit(SelfFixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) hosts = records_new();
	g_autoptr(GPtrArray) kept = NULL;
	OpMxHost *host = host_with_addresses("mx.example.net", 10, NULL);

	for (guint i = 1; i <= 20; i++) {
		g_autofree char *text = g_strdup_printf("192.0.2.%u", i);

		g_ptr_array_add(host->addresses, g_inet_address_new_from_string(text));
	}
	g_ptr_array_add(hosts, host);
	kept = op_mx_select(hosts, "example.net", &fixture->self, NULL);
	g_assert_cmpuint(((OpMxHost *)kept->pdata[0])->addresses->len, ==, OP_MX_MAX_ADDRESSES);
}

/* A knotd on 127.0.0.1 with a test zone, for the tests that query DNS. */
static struct {
	GPid pid;
	guint port;
	char *dir;
} knot;

static const char zone_text[] =
	"$ORIGIN example.test.\n"
	"$TTL 300\n"
	"@        SOA   ns hostmaster 1 3600 600 86400 300\n"
	"@        NS    ns\n"
	"ns       A     127.0.0.1\n"
	"mail     MX    20 mx2\n"
	"mail     MX    10 mx1\n"
	"mx1      AAAA  2001:db8::1\n"
	"mx1      A     192.0.2.1\n"
	"mx2      A     192.0.2.2\n"
	"implicit A     192.0.2.3\n"
	"implicit AAAA  2001:db8::3\n"
	"alias    CNAME implicit\n"
	"nodata   TXT   \"no address here\"\n"
	"nullmx   MX    0 .\n"
	"noaddr   MX    10 nothing.example.test.\n"
	"noaddr   MX    20 nodata.example.test.\n"
	"loop     MX    10 localhost.\n"
	"backup   MX    10 mx1\n"
	"backup   MX    20 me.example.test.\n"
	"me       A     192.0.2.99\n"
	"spf      TXT   \"v=spf1 \" \"ip4:192.0.2.1 \" \"-all\"\n";

static guint
find_free_port(void)
{
	struct sockaddr_in address = {.sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t size = sizeof(address);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	guint port;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&address, sizeof(address)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&address, &size), ==, 0);
	port = ntohs(address.sin_port);
	close(fd);
	return port;
}

static gboolean
knot_wait_ready(void)
{
	g_autofree char *server = g_strdup_printf("127.0.0.1:%u", knot.port);
	g_autoptr(OpResolver) resolver = op_resolver_new(server, 1, NULL);

	for (guint i = 0; i < 50; i++) {
		g_autoptr(ldns_pkt) answer = op_resolver_query(resolver, "example.test",
							       LDNS_RR_TYPE_SOA, NULL);

		if (answer != NULL)
			return TRUE;
		g_usleep(100 * 1000);
	}
	return FALSE;
}

/* knotd gets SIGTERM when the test dies, so a failed assertion leaves no
 * server behind. */
static void
knot_child_setup(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void
knot_start(void)
{
	g_autofree char *knotd = g_find_program_in_path("knotd");
	g_autofree char *config = NULL;
	g_autofree char *config_path = NULL;
	g_autofree char *zone_path = NULL;
	g_autoptr(GError) error = NULL;

	if (knotd == NULL && g_file_test("/usr/sbin/knotd", G_FILE_TEST_IS_EXECUTABLE))
		knotd = g_strdup("/usr/sbin/knotd");
	if (knotd == NULL)
		return;
	knot.dir = g_dir_make_tmp("test-mx-XXXXXX", &error);
	g_assert_no_error(error);
	knot.port = find_free_port();
	zone_path = g_build_filename(knot.dir, "example.test.zone", NULL);
	config_path = g_build_filename(knot.dir, "knot.conf", NULL);
	config = g_strdup_printf("server:\n  rundir: \"%s\"\n  listen: 127.0.0.1@%u\n"
				 "database:\n  storage: \"%s\"\n"
				 "log:\n  - target: stderr\n    any: error\n"
				 "zone:\n  - domain: example.test\n    file: \"%s\"\n"
				 "    zonefile-sync: -1\n    journal-content: none\n",
				 knot.dir, knot.port, knot.dir, zone_path);
	g_file_set_contents(zone_path, zone_text, -1, &error);
	g_assert_no_error(error);
	g_file_set_contents(config_path, config, -1, &error);
	g_assert_no_error(error);

	{
		const char *argv[] = {knotd, "-c", config_path, NULL};

		g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
			      knot_child_setup, NULL, &knot.pid, &error);
	}
	g_assert_no_error(error);
	if (!knot_wait_ready())
		g_error("knotd on 127.0.0.1:%u did not answer", knot.port);
}

static void
knot_stop(void)
{
	int status = 0;

	if (knot.pid > 0) {
		kill(knot.pid, SIGTERM);
		while (waitpid(knot.pid, &status, 0) < 0 && errno == EINTR)
			;
		g_spawn_close_pid(knot.pid);
	}
	if (knot.dir != NULL) {
		g_autofree char *command = g_strdup_printf("rm -rf '%s'", knot.dir);

		g_spawn_command_line_sync(command, NULL, NULL, NULL, NULL);
		g_free(knot.dir);
	}
}

static OpResolver *
knot_resolver(void)
{
	g_autofree char *server = NULL;

	if (knot.pid <= 0) {
		g_test_skip("knotd is not installed");
		return NULL;
	}
	server = g_strdup_printf("127.0.0.1:%u", knot.port);
	return op_resolver_new(server, 2, NULL);
}

static void
test_dns_mx_order(void)
{
	g_autoptr(OpResolver) resolver = knot_resolver();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	OpMxHost *first;
	g_autofree char *first_address = NULL;

	if (resolver == NULL)
		return;
	hosts = op_mx_resolve(resolver, "mail.example.test", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(hosts->len, ==, 2);
	first = hosts->pdata[0];
	g_assert_cmpstr(first->host, ==, "mx1.example.test");
	g_assert_cmpuint(first->preference, ==, 10);
	g_assert_cmpuint(first->addresses->len, ==, 2);
	/* IPv6 comes first. */
	first_address = g_inet_address_to_string(first->addresses->pdata[0]);
	g_assert_cmpstr(first_address, ==, "2001:db8::1");
	g_assert_cmpstr(host_name(hosts, 1), ==, "mx2.example.test");
}

static void
test_dns_implicit(void)
{
	static const char *const domains[] = {"implicit.example.test", "alias.example.test"};
	g_autoptr(OpResolver) resolver = knot_resolver();

	if (resolver == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(domains); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) hosts = op_mx_resolve(resolver, domains[i], NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(hosts->len, ==, 1);
		g_assert_cmpstr(host_name(hosts, 0), ==, domains[i]);
		g_assert_cmpuint(((OpMxHost *)hosts->pdata[0])->addresses->len, ==, 2);
	}
}

typedef struct {
	const char *domain;
	int code; /* OpError */
	const char *status;
} DnsErrorCase;

static const DnsErrorCase dns_error_cases[] = {
	{"nullmx.example.test", OP_ERROR_PERMANENT, "5.1.10"},
	{"missing.example.test", OP_ERROR_PERMANENT, "5.1.2"},
	{"nodata.example.test", OP_ERROR_PERMANENT, "5.4.4"},
	{"noaddr.example.test", OP_ERROR_TEMPORARY, "4.4.4"},
	{"loop.example.test", OP_ERROR_PERMANENT, "5.4.6"},
	{"bad..name", OP_ERROR_PERMANENT, "5.1.2"},
};

static void
test_dns_errors(void)
{
	g_autoptr(OpResolver) resolver = knot_resolver();
	OpMxSelf self = {0};

	if (resolver == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(dns_error_cases); i++) {
		const DnsErrorCase *item = &dns_error_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) hosts = op_mx_resolve(resolver, item->domain, &self, &error);

		g_test_message("case %s: %s", item->domain, error ? error->message : "no error");
		g_assert_null(hosts);
		g_assert_error(error, OP_ERROR, item->code);
		g_assert_cmpstr(op_mx_error_status(error), ==, item->status);
	}
}

static void
test_dns_backup_self(void)
{
	static char *names[] = {"me.example.test", NULL};
	OpMxSelf self = {.own_names = names, .delivery_port = 25};
	g_autoptr(OpResolver) resolver = knot_resolver();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;

	if (resolver == NULL)
		return;
	hosts = op_mx_resolve(resolver, "backup.example.test", &self, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(hosts->len, ==, 1);
	g_assert_cmpstr(host_name(hosts, 0), ==, "mx1.example.test");
}

static void
test_dns_txt(void)
{
	g_autoptr(OpResolver) resolver = knot_resolver();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) texts = NULL;
	g_autoptr(GPtrArray) empty = NULL;

	if (resolver == NULL)
		return;
	texts = op_resolver_lookup_txt(resolver, "spf.example.test", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(texts->len, ==, 1);
	g_assert_cmpstr(texts->pdata[0], ==, "v=spf1 ip4:192.0.2.1 -all");

	empty = op_resolver_lookup_txt(resolver, "mx1.example.test", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(empty->len, ==, 0);
	g_assert_null(op_resolver_lookup_txt(resolver, "missing.example.test", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
}

static void
test_dns_addresses(void)
{
	g_autoptr(OpResolver) resolver = knot_resolver();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) addresses = NULL;
	g_autofree char *v4 = NULL;

	if (resolver == NULL)
		return;
	addresses = op_resolver_lookup_addresses(resolver, "mx2.example.test", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(addresses->len, ==, 1);
	v4 = g_inet_address_to_string(addresses->pdata[0]);
	g_assert_cmpstr(v4, ==, "192.0.2.2");

	g_assert_null(op_resolver_lookup_addresses(resolver, "nodata.example.test", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_null(op_resolver_lookup_addresses(resolver, "missing.example.test", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
}

/* A server that does not answer gives a temporary error within the timeout. */
static void
test_dns_timeout(void)
{
	g_autofree char *server = g_strdup_printf("127.0.0.1:%u", find_free_port());
	g_autoptr(OpResolver) resolver = op_resolver_new(server, 2, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	gint64 start = g_get_monotonic_time();

	hosts = op_mx_resolve(resolver, "example.test", NULL, &error);
	g_assert_null(hosts);
	g_assert_error(error, OP_ERROR, OP_ERROR_TEMPORARY);
	g_assert_cmpstr(op_mx_error_status(error), ==, "4.4.3");
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_resolver_server_syntax(void)
{
	static const char *const valid[] = {"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"};
	static const char *const invalid[] = {"", "localhost", "127.0.0.1:0", "[::1", "1.2.3.4:x"};

	for (gsize i = 0; i < G_N_ELEMENTS(valid); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OpResolver) resolver = op_resolver_new(valid[i], 1, &error);

		g_assert_no_error(error);
		g_assert_nonnull(resolver);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OpResolver) resolver = op_resolver_new(invalid[i], 1, &error);

		g_test_message("case \"%s\"", invalid[i]);
		g_assert_null(resolver);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

int
main(int argc, char **argv)
{
	int result;

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/delivery/mx/implicit", test_mx_implicit);
	g_test_add_func("/delivery/mx/null", test_mx_null);
	g_test_add_func("/delivery/mx/root-beside-hosts", test_mx_root_beside_hosts);
	g_test_add_func("/delivery/mx/sorted", test_mx_sorted);
	g_test_add_func("/delivery/mx/equal-shuffled", test_mx_equal_shuffled);
	g_test_add_func("/delivery/mx/host-limit", test_mx_host_limit);
	g_test_add("/delivery/mx/self-by-name", SelfFixture, "192.0.2.53:25", self_set_up,
		   test_mx_self_by_name, self_tear_down);
	g_test_add("/delivery/mx/loop", SelfFixture, "192.0.2.53:25", self_set_up, test_mx_loop,
		   self_tear_down);
	g_test_add_func("/delivery/mx/self-by-address", test_mx_self_by_address);
	g_test_add("/delivery/mx/no-address", SelfFixture, NULL, self_set_up, test_mx_no_address,
		   self_tear_down);
	g_test_add("/delivery/mx/skip-hostless", SelfFixture, NULL, self_set_up,
		   test_mx_skip_hostless, self_tear_down);
	g_test_add("/delivery/mx/address-limit", SelfFixture, NULL, self_set_up,
		   test_mx_address_limit, self_tear_down);
	g_test_add_func("/delivery/mx/resolver-server-syntax", test_resolver_server_syntax);
	g_test_add_func("/delivery/mx/dns-order", test_dns_mx_order);
	g_test_add_func("/delivery/mx/dns-implicit", test_dns_implicit);
	g_test_add_func("/delivery/mx/dns-errors", test_dns_errors);
	g_test_add_func("/delivery/mx/dns-backup-self", test_dns_backup_self);
	g_test_add_func("/delivery/mx/dns-txt", test_dns_txt);
	g_test_add_func("/delivery/mx/dns-addresses", test_dns_addresses);
	g_test_add_func("/delivery/mx/dns-timeout", test_dns_timeout);

	knot_start();
	result = g_test_run();
	knot_stop();
	return result;
}
