/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stored publish targets through the admin engine, against a store in a
 * temporary directory. The tests cover what is stored and shown, that the
 * secret is never shown and that rejected input stores nothing. They also
 * cover the publish call's choice between a given and a stored target.
 */
#include "dns/op-publisher.h"
#include "op-admin.h"
#include "op-error.h"

#include <glib/gstdio.h>
#include <string.h>

#define API_KEY "pdns-key-0123456789"

typedef struct {
	char *dir;
	OpConfig *config;
	OpAdmin admin;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	const char *domains[] = {"example.org", "shop.example.org", "brand.test"};
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	fixture->dir = g_dir_make_tmp("outpost-publish-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->config = op_config_new();
	path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->admin.config = fixture->config;
	fixture->admin.store = op_store_open(path, &error);
	g_assert_no_error(error);
	/* The store is enough here: no DKIM key is generated or read. */
	for (guint i = 0; i < G_N_ELEMENTS(domains); i++) {
		g_assert_true(op_store_add_domain(fixture->admin.store, domains[i], "op202501",
						  "/nonexistent/key.pem", "rsa-sha256", &error));
		g_assert_no_error(error);
	}
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	const char *names[] = {"outpost.db", "outpost.db-wal", "outpost.db-shm"};

	op_store_free(fixture->admin.store);
	op_config_free(fixture->config);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(fixture->dir, names[i], NULL);

		g_unlink(path);
	}
	g_assert_cmpint(g_rmdir(fixture->dir), ==, 0);
	g_free(fixture->dir);
}

static gboolean
set_target(Fixture *fixture, const char *domain, const char *text, GError **error)
{
	g_autoptr(GVariant) target = g_variant_parse(G_VARIANT_TYPE("a{sv}"), text, NULL, NULL,
						     NULL);

	g_assert_nonnull(target);
	return op_admin_set_publish_target(&fixture->admin, domain, target, error);
}

static GVariant *
describe(Fixture *fixture, const char *domain)
{
	g_autoptr(GError) error = NULL;
	GVariant *shown = op_admin_describe_publish_target(&fixture->admin, domain, &error);

	g_assert_no_error(error);
	g_assert_nonnull(shown);
	return g_variant_ref_sink(shown);
}

static const char *
lookup(GVariant *dict, const char *key)
{
	const char *value = NULL;

	g_assert_true(g_variant_lookup(dict, key, "&s", &value));
	return value;
}

static const char powerdns_target[] =
	"{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1:8081'>, 'api-key': <'" API_KEY "'>}";

static void
test_powerdns_target(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) shown = NULL;
	g_autoptr(OpPublishTarget) stored = NULL;
	g_autofree char *text = NULL;
	gboolean has_secret = FALSE;

	g_assert_true(set_target(fixture, "Example.ORG", powerdns_target, &error));
	g_assert_no_error(error);
	shown = describe(fixture, "example.org");
	g_assert_cmpstr(lookup(shown, "kind"), ==, "powerdns");
	g_assert_cmpstr(lookup(shown, "api-url"), ==, "http://127.0.0.1:8081");
	g_assert_cmpstr(lookup(shown, "server-id"), ==, "localhost");
	g_assert_cmpstr(lookup(shown, "zone"), ==, "example.org");
	g_assert_true(g_variant_lookup(shown, "has-secret", "b", &has_secret));
	g_assert_true(has_secret);
	g_assert_false(g_variant_lookup(shown, "api-key", "&s", NULL));
	text = g_variant_print(shown, FALSE);
	g_assert_null(strstr(text, API_KEY));

	g_assert_true(op_store_get_publish_target(fixture->admin.store, "example.org", &stored,
						  &error));
	g_assert_no_error(error);
	g_assert_cmpstr(stored->secret, ==, API_KEY);
	g_assert_cmpstr(stored->key_algorithm, ==, "");
	g_assert_cmpstr(stored->zone, ==, "");
}

static void
test_dns_update_target(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) shown = NULL;

	g_assert_true(set_target(fixture, "shop.example.org",
				 "{'kind': <'dns-update'>, 'server': <'192.0.2.53:5353'>,"
				 " 'tsig-name': <'outpost-key'>, 'tsig-algorithm': <'hmac-sha256'>,"
				 " 'tsig-secret': <'c2VjcmV0c2VjcmV0'>, 'zone': <'Example.ORG.'>}",
				 &error));
	g_assert_no_error(error);
	shown = describe(fixture, "shop.example.org");
	g_assert_cmpstr(lookup(shown, "kind"), ==, "dns-update");
	g_assert_cmpstr(lookup(shown, "server"), ==, "192.0.2.53:5353");
	g_assert_cmpstr(lookup(shown, "tsig-name"), ==, "outpost-key");
	g_assert_cmpstr(lookup(shown, "tsig-algorithm"), ==, "hmac-sha256");
	g_assert_cmpstr(lookup(shown, "zone"), ==, "example.org");
	g_assert_false(g_variant_lookup(shown, "tsig-secret", "&s", NULL));
	g_assert_false(g_variant_lookup(shown, "api-url", "&s", NULL));
}

static const struct {
	const char *domain;
	const char *target;
	int code;
	const char *message; /* a part of the message */
} rejected_cases[] = {
	{"example.org", "@a{sv} {}", OP_ERROR_INVALID_ARGUMENT, "kind"},
	{"example.org", "{'kind': <'nsupdate'>}", OP_ERROR_INVALID_ARGUMENT, "dns-update or powerdns"},
	{"example.org", "{'kind': <5>}", OP_ERROR_INVALID_ARGUMENT, "kind"},
	{"example.org", "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>}",
	 OP_ERROR_INVALID_ARGUMENT, "API key"},
	{"example.org", "{'kind': <'powerdns'>, 'api-key': <'k'>}", OP_ERROR_INVALID_ARGUMENT,
	 "http:// or https://"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <'k'>,"
	 " 'tsig-name': <'outpost-key'>}",
	 OP_ERROR_INVALID_ARGUMENT, "does not apply to a powerdns publish target"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <'k'>,"
	 " 'zone': <'other.example'>}",
	 OP_ERROR_INVALID_ARGUMENT, "not inside the zone other.example"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <'k'>,"
	 " 'zone': <'ample.org'>}",
	 OP_ERROR_INVALID_ARGUMENT, "not inside the zone ample.org"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <'k'>,"
	 " 'zone': <'bad_zone..org'>}",
	 OP_ERROR_INVALID_ARGUMENT, "invalid domain name"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <uint32 5>}",
	 OP_ERROR_INVALID_ARGUMENT, "must be a string"},
	{"example.org",
	 "{'kind': <'powerdns'>, 'api-url': <'http://127.0.0.1'>, 'api-key': <'k'>,"
	 " 'colour': <'red'>}",
	 OP_ERROR_INVALID_ARGUMENT, "unknown publish target key \"colour\""},
	{"example.org", "{'kind': <'dns-update'>, 'server': <'192.0.2.53'>}",
	 OP_ERROR_INVALID_ARGUMENT, "TSIG key name"},
	{"example.org",
	 "{'kind': <'dns-update'>, 'server': <'192.0.2.53'>, 'tsig-name': <'k'>,"
	 " 'tsig-algorithm': <'hmac-sha256'>, 'tsig-secret': <'c2VjcmV0'>,"
	 " 'api-key': <'x'>}",
	 OP_ERROR_INVALID_ARGUMENT, "does not apply to a dns-update publish target"},
	{"unmanaged.example", powerdns_target, OP_ERROR_NOT_FOUND, "not managed"},
	{"not a domain", powerdns_target, OP_ERROR_INVALID_ARGUMENT, "invalid domain name"},
	{"", powerdns_target, OP_ERROR_INVALID_ARGUMENT, "empty"},
};

static void
test_rejected_targets_store_nothing(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) before = NULL;

	g_assert_true(set_target(fixture, "example.org", powerdns_target, &error));
	g_assert_no_error(error);
	before = describe(fixture, "example.org");
	for (guint i = 0; i < G_N_ELEMENTS(rejected_cases); i++) {
		g_autoptr(GError) rejected = NULL;
		g_autoptr(GVariant) after = NULL;

		g_test_message("case %u: %s", i, rejected_cases[i].target);
		g_assert_false(set_target(fixture, rejected_cases[i].domain,
					  rejected_cases[i].target, &rejected));
		g_assert_error(rejected, OP_ERROR, rejected_cases[i].code);
		g_assert_nonnull(strstr(rejected->message, rejected_cases[i].message));
		g_assert_null(strstr(rejected->message, "c2VjcmV0"));
		after = describe(fixture, "example.org");
		g_assert_true(g_variant_equal(before, after));
	}
}

static void
test_replace_and_remove(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) shown = NULL;
	g_autoptr(GVariant) empty = NULL;

	g_assert_true(set_target(fixture, "brand.test", powerdns_target, &error));
	g_assert_true(set_target(fixture, "brand.test",
				 "{'kind': <'powerdns'>, 'api-url': <'https://dns.example.net'>,"
				 " 'api-key': <'other'>, 'server-id': <'pdns-2'>}",
				 &error));
	g_assert_no_error(error);
	shown = describe(fixture, "brand.test");
	g_assert_cmpstr(lookup(shown, "api-url"), ==, "https://dns.example.net");
	g_assert_cmpstr(lookup(shown, "server-id"), ==, "pdns-2");

	g_assert_true(op_admin_remove_publish_target(&fixture->admin, "brand.test", &error));
	g_assert_no_error(error);
	empty = describe(fixture, "brand.test");
	g_assert_cmpuint(g_variant_n_children(empty), ==, 0);
	g_assert_false(op_admin_remove_publish_target(&fixture->admin, "brand.test", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(op_admin_remove_publish_target(&fixture->admin, "unmanaged.example",
						      &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
}

static void
test_removed_with_domain(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpPublishTarget) stored = NULL;

	g_assert_true(set_target(fixture, "brand.test", powerdns_target, &error));
	g_assert_true(op_store_remove_domain(fixture->admin.store, "brand.test", TRUE, &error));
	g_assert_true(op_store_add_domain(fixture->admin.store, "brand.test", "op202501",
					  "/nonexistent/key.pem", "rsa-sha256", &error));
	g_assert_no_error(error);
	g_assert_true(op_store_get_publish_target(fixture->admin.store, "brand.test", &stored,
						  &error));
	g_assert_null(stored);
}

/* Without a server the stored target is used, and a TSIG key without a
 * server is rejected. Both are decided before the records are read. */
static void
test_publish_chooses_target(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	guint count = 0;

	g_assert_false(op_admin_publish_dns_records(&fixture->admin, "example.org", "", "", "",
						    "", &count, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "no publish target is stored for example.org"));
	g_clear_error(&error);

	g_assert_false(op_admin_publish_dns_records(&fixture->admin, "example.org", "",
						    "outpost-key", "hmac-sha256", "c2VjcmV0",
						    &count, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "a TSIG key needs the server"));
	g_clear_error(&error);

	g_assert_false(op_admin_publish_dns_records(&fixture->admin, "example.org",
						    "ns.example.org", "outpost-key", "hmac-sha256",
						    "c2VjcmV0", &count, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_false(op_admin_publish_dns_records(&fixture->admin, "unmanaged.example", "", "",
						    "", "", &count, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_assert_cmpuint(count, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/publish/targets/powerdns", test_powerdns_target);
	ADD("/publish/targets/dns-update", test_dns_update_target);
	ADD("/publish/targets/rejected", test_rejected_targets_store_nothing);
	ADD("/publish/targets/replace-remove", test_replace_and_remove);
	ADD("/publish/targets/removed-with-domain", test_removed_with_domain);
	ADD("/publish/targets/publish-choice", test_publish_chooses_target);
#undef ADD
	return g_test_run();
}
