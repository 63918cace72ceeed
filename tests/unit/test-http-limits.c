/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Limits and routing of the HTTP endpoint: the per-client token bucket, the
 * client key (IPv4 address or IPv6 /56), and the mapping of Host and path to
 * what is served.
 */
#include <string.h>

#include "http/op-http-limits.h"
#include "http/op-http-route.h"

#define SECOND ((gint64)G_USEC_PER_SEC)

static GInetAddress *
address(const char *text)
{
	GInetAddress *inet = g_inet_address_new_from_string(text);

	g_assert_nonnull(inet);
	return inet;
}

static void
test_limiter_burst_then_refill(void)
{
	g_autoptr(OpRateLimiter) limiter = op_rate_limiter_new(3, 60, 100);
	g_autoptr(GInetAddress) client = address("192.0.2.1");
	gint64 now = 1000 * SECOND;

	for (guint i = 0; i < 3; i++)
		g_assert_true(op_rate_limiter_take(limiter, client, now));
	g_assert_false(op_rate_limiter_take(limiter, client, now));
	/* 60 a minute is one a second. */
	g_assert_false(op_rate_limiter_take(limiter, client, now + SECOND / 2));
	g_assert_true(op_rate_limiter_take(limiter, client, now + SECOND));
	g_assert_false(op_rate_limiter_take(limiter, client, now + SECOND));
	/* The bucket never contains more than the burst, however long the pause. */
	for (guint i = 0; i < 3; i++)
		g_assert_true(op_rate_limiter_take(limiter, client, now + 3600 * SECOND));
	g_assert_false(op_rate_limiter_take(limiter, client, now + 3600 * SECOND));
}

static void
test_limiter_clients_apart(void)
{
	g_autoptr(OpRateLimiter) limiter = op_rate_limiter_new(1, 1, 100);
	g_autoptr(GInetAddress) first = address("192.0.2.1");
	g_autoptr(GInetAddress) second = address("192.0.2.2");

	g_assert_true(op_rate_limiter_take(limiter, first, 0));
	g_assert_false(op_rate_limiter_take(limiter, first, 0));
	g_assert_true(op_rate_limiter_take(limiter, second, 0));
	g_assert_cmpuint(op_rate_limiter_get_size(limiter), ==, 2);
}

static void
test_limiter_client_keys(void)
{
	static const struct {
		const char *address;
		const char *key;
	} cases[] = {
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:0db8:0001:0000::/56"},
		{"2001:db8:1:2::ffff", "2001:0db8:0001:0000::/56"},
		{"2001:db8:1:ff::1", "2001:0db8:0001:0000::/56"},
		{"2001:db8:1:100::1", "2001:0db8:0001:0100::/56"},
		{"2001:db8:1:abcd::1", "2001:0db8:0001:ab00::/56"},
		{"::1", "0000:0000:0000:0000::/56"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GInetAddress) inet = address(cases[i].address);
		g_autofree char *key = op_rate_limiter_dup_client_key(inet);

		g_assert_cmpstr(key, ==, cases[i].key);
	}
}

/* Addresses of one IPv6 /56 share one bucket, across its /64 subnets. */
static void
test_limiter_ipv6_prefix_shared(void)
{
	g_autoptr(OpRateLimiter) limiter = op_rate_limiter_new(2, 1, 100);
	g_autoptr(GInetAddress) first = address("2001:db8::1");
	g_autoptr(GInetAddress) second = address("2001:db8:0:ff::2");
	g_autoptr(GInetAddress) other = address("2001:db8:0:100::1");

	g_assert_true(op_rate_limiter_take(limiter, first, 0));
	g_assert_true(op_rate_limiter_take(limiter, second, 0));
	g_assert_false(op_rate_limiter_take(limiter, first, 0));
	g_assert_true(op_rate_limiter_take(limiter, other, 0));
}

/* A full table evicts the least recently used bucket to admit a new client,
 * even when no bucket has refilled. */
static void
test_limiter_evicts_least_recent(void)
{
	g_autoptr(OpRateLimiter) limiter = op_rate_limiter_new(2, 1, 2);
	g_autoptr(GInetAddress) first = address("192.0.2.1");
	g_autoptr(GInetAddress) second = address("192.0.2.2");
	g_autoptr(GInetAddress) third = address("192.0.2.3");

	g_assert_true(op_rate_limiter_take(limiter, first, 0));
	g_assert_true(op_rate_limiter_take(limiter, second, 0));
	/* Using first again makes second the least recently used. */
	g_assert_true(op_rate_limiter_take(limiter, first, 0));
	g_assert_false(op_rate_limiter_take(limiter, first, 0));

	g_assert_true(op_rate_limiter_take(limiter, third, 0));
	g_assert_cmpuint(op_rate_limiter_get_size(limiter), ==, 2);
	/* first kept its empty bucket, so it is still limited. */
	g_assert_false(op_rate_limiter_take(limiter, first, 0));
	/* second was evicted and starts again with a full bucket, which evicts
	 * third, the least recently used now. */
	g_assert_true(op_rate_limiter_take(limiter, second, 0));
	g_assert_true(op_rate_limiter_take(limiter, second, 0));
	g_assert_false(op_rate_limiter_take(limiter, second, 0));
	g_assert_cmpuint(op_rate_limiter_get_size(limiter), ==, 2);
	g_assert_false(op_rate_limiter_take(limiter, first, 0));
}

/* Many one-off clients, as from many IPv6 networks, keep the table at its
 * maximum size and are all admitted. */
static void
test_limiter_many_clients_bounded(void)
{
	g_autoptr(OpRateLimiter) limiter = op_rate_limiter_new(1, 1, 100);

	for (guint i = 0; i < 1000; i++) {
		g_autofree char *text = g_strdup_printf("2001:db8:%x::1", i);
		g_autoptr(GInetAddress) client = address(text);

		g_assert_true(op_rate_limiter_take(limiter, client, 0));
		g_assert_cmpuint(op_rate_limiter_get_size(limiter), <=, 100);
	}
	g_assert_cmpuint(op_rate_limiter_get_size(limiter), ==, 100);
}

static void
test_route_table(void)
{
	static const struct {
		const char *host;
		const char *path;
		OpHttpRouteKind kind;
		const char *domain;
	} cases[] = {
		{"autoconfig.example.org", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_AUTOCONFIG,
		 "example.org"},
		{"example.org", "/.well-known/autoconfig/mail/config-v1.1.xml",
		 OP_HTTP_ROUTE_AUTOCONFIG, "example.org"},
		{"AutoConfig.Example.ORG.:8443", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_AUTOCONFIG,
		 "example.org"},
		{"mail.example.net", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_AUTOCONFIG, NULL},
		{"autodiscover.example.org", "/AutoDiscover/AutoDiscover.xml",
		 OP_HTTP_ROUTE_AUTODISCOVER, "example.org"},
		{"example.org", "/autodiscover/autodiscover.xml", OP_HTTP_ROUTE_AUTODISCOVER,
		 "example.org"},
		{"mta-sts.example.org", "/.well-known/mta-sts.txt", OP_HTTP_ROUTE_MTA_STS,
		 "example.org"},
		/* The policy is served on mta-sts.DOMAIN only, and nothing else is. */
		{"example.org", "/.well-known/mta-sts.txt", OP_HTTP_ROUTE_NONE, NULL},
		{"mta-sts.example.org", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{"mail.example.net", "/profile/0123456789abcdef0123456789abcdef.mobileconfig",
		 OP_HTTP_ROUTE_PROFILE, NULL},
		{"mail.example.net", "/profile/short.mobileconfig", OP_HTTP_ROUTE_NONE, NULL},
		{"mail.example.net", "/profile/0123456789abcdef0123456789abcdeg.mobileconfig",
		 OP_HTTP_ROUTE_NONE, NULL},
		{"mail.example.net", "/profile/.mobileconfig", OP_HTTP_ROUTE_NONE, NULL},
		{"example.org", "/", OP_HTTP_ROUTE_NONE, NULL},
		{"example.org", "/mail/config-v1.1.xml/../x", OP_HTTP_ROUTE_NONE, NULL},
		{"example.org", "/MAIL/CONFIG-V1.1.XML", OP_HTTP_ROUTE_NONE, NULL},
		{"localhost", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{"autoconfig.org", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{"[::1]:443", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{"exa mple.org", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{"", "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
		{NULL, "/mail/config-v1.1.xml", OP_HTTP_ROUTE_NONE, NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(OpHttpRoute) route = {OP_HTTP_ROUTE_NONE, NULL, NULL};
		gboolean routed;

		g_test_message("Host %s path %s", cases[i].host, cases[i].path);
		routed = op_http_route_parse(cases[i].host, cases[i].path, "mail.example.net",
					     &route);
		g_assert_cmpint(routed, ==, cases[i].kind != OP_HTTP_ROUTE_NONE);
		g_assert_cmpint(route.kind, ==, cases[i].kind);
		g_assert_cmpstr(route.domain, ==, cases[i].domain);
	}
}

static void
test_route_profile_token(void)
{
	g_auto(OpHttpRoute) route = {OP_HTTP_ROUTE_NONE, NULL, NULL};

	g_assert_true(op_http_route_parse("autoconfig.example.org",
					  "/profile/0123456789ABCDEF0123456789ABCDEF.mobileconfig",
					  "mail.example.net", &route));
	g_assert_cmpint(route.kind, ==, OP_HTTP_ROUTE_PROFILE);
	g_assert_cmpstr(route.token, ==, "0123456789abcdef0123456789abcdef");
	g_assert_cmpstr(route.domain, ==, "example.org");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/http/limits/burst-then-refill", test_limiter_burst_then_refill);
	g_test_add_func("/http/limits/clients-apart", test_limiter_clients_apart);
	g_test_add_func("/http/limits/client-keys", test_limiter_client_keys);
	g_test_add_func("/http/limits/ipv6-prefix-shared", test_limiter_ipv6_prefix_shared);
	g_test_add_func("/http/limits/evicts-least-recent", test_limiter_evicts_least_recent);
	g_test_add_func("/http/limits/many-clients-bounded", test_limiter_many_clients_bounded);
	g_test_add_func("/http/route/table", test_route_table);
	g_test_add_func("/http/route/profile-token", test_route_profile_token);
	return g_test_run();
}
