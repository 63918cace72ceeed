/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The domain and account half of the admin engine against a store in a
 * temporary directory: address and smarthost normalization, domain
 * settings, account state and aliases, and that rejected input changes
 * nothing.
 */
#include "op-admin.h"
#include "op-error.h"

#include <glib/gstdio.h>

/* ---- Normalization ------------------------------------------------------ */

static const struct {
	const char *input;
	const char *normalized; /* NULL when rejected */
} smarthost_cases[] = {
	{"", ""},
	{"smtp.example.net:587", "smtp.example.net:587"},
	{"SMTP.Example.NET:25", "smtp.example.net:25"},
	{"relay:2525", "relay:2525"},
	{"bücher.example:465", "xn--bcher-kva.example:465"},
	{"192.0.2.1:25", "192.0.2.1:25"},
	{"[2001:db8::1]:587", "[2001:db8::1]:587"},
	{"smtp.example.net", NULL},
	{"smtp.example.net:0", NULL},
	{"smtp.example.net:65536", NULL},
	{"smtp.example.net:-1", NULL},
	{"smtp.example.net:abc", NULL},
	{":25", NULL},
	{"2001:db8::1", NULL},
	{"[2001:db8::1", NULL},
	{"[2001:db8::1]x:25", NULL},
	{"smtp example.net:25", NULL},
	{"smtp_relay.example:25", NULL},
	{"-smtp.example:25", NULL},
	{"smtp..example:25", NULL},
	{"smtp.example.net.:25", NULL},
	{"smtp.example.net:25\r\nX: y", NULL},
	{"smtp.example.net\n:25", NULL},
};

static void
test_normalize_smarthost(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(smarthost_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *printable = g_strescape(smarthost_cases[i].input, NULL);
		g_autofree char *normalized = op_admin_normalize_smarthost(smarthost_cases[i].input,
									   &error);

		g_test_message("case %u: \"%s\"", i, printable);
		g_assert_cmpstr(normalized, ==, smarthost_cases[i].normalized);
		if (smarthost_cases[i].normalized == NULL)
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		else
			g_assert_no_error(error);
	}
}

static void
test_normalize_smarthost_overlong(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *label = g_strnfill(63, 'a');
	g_autofree char *host = g_strdup_printf("%s.%s.%s.%s.example:25", label, label, label,
						label);
	g_autofree char *normalized = op_admin_normalize_smarthost(host, &error);

	g_assert_null(normalized);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

static const struct {
	const char *input;
	const char *normalized; /* NULL when rejected */
} address_cases[] = {
	{"anna@example.org", "anna@example.org"},
	{"Anna@EXAMPLE.org", "Anna@example.org"},
	{"anna@bücher.example", "anna@xn--bcher-kva.example"},
	{"", NULL},
	{"anna", NULL},
	{"@example.org", NULL},
	{"anna@", NULL},
	{"an na@example.org", NULL},
	{"<anna@example.org>", NULL},
	{"anna@example.org\r\nBcc: x@example.net", NULL},
	{"anna@localhost", NULL},
	{"anna@[192.0.2.1]", NULL},
	{"anna@under_score.example", NULL},
};

static void
test_normalize_address(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(address_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *printable = g_strescape(address_cases[i].input, NULL);
		g_autofree char *normalized = op_admin_normalize_address(address_cases[i].input,
									 &error);

		g_test_message("case %u: \"%s\"", i, printable);
		g_assert_cmpstr(normalized, ==, address_cases[i].normalized);
		if (address_cases[i].normalized == NULL)
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		else
			g_assert_no_error(error);
	}
}

static void
test_normalize_address_overlong(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *local_part = g_strnfill(250, 'a');
	g_autofree char *address = g_strdup_printf("%s@example.org", local_part);
	g_autofree char *normalized = op_admin_normalize_address(address, &error);

	g_assert_null(normalized);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

/* ---- Engine against a store --------------------------------------------- */

typedef struct {
	char *dir;
	OpConfig *config;
	OpAdmin admin;
} Fixture;

static void
add_domain(Fixture *fixture, const char *name)
{
	g_autoptr(GError) error = NULL;

	/* The store is enough here: no DKIM key is generated or read. */
	g_assert_true(op_store_add_domain(fixture->admin.store, name, "op202501",
					  "/nonexistent/key.pem", "rsa-sha256", &error));
	g_assert_no_error(error);
}

static void
add_account(Fixture *fixture, const char *address, const char *domain)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(op_store_add_account(fixture->admin.store, address, domain, "$y$not-a-hash",
					   &error));
	g_assert_no_error(error);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	fixture->dir = g_dir_make_tmp("outpost-admin-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->config = op_config_new();
	g_free(fixture->config->state_dir);
	fixture->config->state_dir = g_strdup(fixture->dir);
	path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->admin.config = fixture->config;
	fixture->admin.store = op_store_open(path, &error);
	g_assert_no_error(error);
	add_domain(fixture, "example.org");
	add_domain(fixture, "brand.test");
	add_account(fixture, "anna@example.org", "example.org");
	add_account(fixture, "bert@example.org", "example.org");
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

static OpStoreDomain *
get_domain(Fixture *fixture, const char *name, guint *queued)
{
	g_autoptr(GError) error = NULL;
	OpStoreDomain *domain = op_admin_get_domain(&fixture->admin, name, queued, &error);

	g_assert_no_error(error);
	g_assert_nonnull(domain);
	return domain;
}

static gboolean
set_settings(Fixture *fixture, const char *domain, const char *text, GError **error)
{
	g_autoptr(GVariant) settings = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL,
						       NULL);

	g_assert_nonnull(settings);
	return op_admin_set_domain_settings(&fixture->admin, domain, settings, error);
}

static void
test_domain_settings(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpStoreDomain) fresh = NULL;
	g_autoptr(OpStoreDomain) changed = NULL;
	g_autoptr(OpStoreDomain) partial = NULL;
	guint queued = 99;

	fresh = get_domain(fixture, "Example.ORG", &queued);
	g_assert_cmpstr(fresh->name, ==, "example.org");
	g_assert_true(fresh->enabled);
	g_assert_cmpuint(fresh->hourly_limit, ==, 0);
	g_assert_cmpstr(fresh->smarthost, ==, "");
	g_assert_cmpuint(fresh->accounts, ==, 2);
	g_assert_cmpuint(queued, ==, 0);

	g_assert_true(set_settings(fixture, "example.org",
				   "{'enabled': <false>, 'hourly-limit': <uint32 120>, "
				   "'smarthost': <'Relay.Example.NET:587'>}",
				   &error));
	g_assert_no_error(error);
	changed = get_domain(fixture, "example.org", &queued);
	g_assert_false(changed->enabled);
	g_assert_cmpuint(changed->hourly_limit, ==, 120);
	g_assert_cmpstr(changed->smarthost, ==, "relay.example.net:587");

	/* Keys left out keep their values. */
	g_assert_true(set_settings(fixture, "example.org", "{'smarthost': <''>}", &error));
	g_assert_no_error(error);
	partial = get_domain(fixture, "example.org", &queued);
	g_assert_false(partial->enabled);
	g_assert_cmpuint(partial->hourly_limit, ==, 120);
	g_assert_cmpstr(partial->smarthost, ==, "");
}

static const struct {
	const char *domain;
	const char *settings;
	int code;
} bad_settings_cases[] = {
	{"example.org", "{'hourly-limit': <'ten'>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'hourly-limit': <int32 5>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'hourly-limit': <uint64 5>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'enabled': <'no'>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'smarthost': <uint32 25>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'smarthost': <'relay.example.net:99999'>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'colour': <'red'>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'enabled': <false>, 'Enabled': <true>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'enabled': <false>, 'enabled': <false>}", OP_ERROR_INVALID_ARGUMENT},
	{"example.org", "{'hourly-limit': <uint32 5>, 'smarthost': <'bad host:25'>}",
	 OP_ERROR_INVALID_ARGUMENT},
	{"", "{'enabled': <false>}", OP_ERROR_INVALID_ARGUMENT},
	{"localhost", "{'enabled': <false>}", OP_ERROR_INVALID_ARGUMENT},
	{"unmanaged.test", "{'enabled': <false>}", OP_ERROR_NOT_FOUND},
	{"unmanaged.test", "{}", OP_ERROR_NOT_FOUND},
};

static void
test_domain_settings_rejected(Fixture *fixture, gconstpointer data)
{
	g_autoptr(OpStoreDomain) after = NULL;
	guint queued = 0;

	for (guint i = 0; i < G_N_ELEMENTS(bad_settings_cases); i++) {
		g_autoptr(GError) error = NULL;

		g_test_message("case %u: %s %s", i, bad_settings_cases[i].domain,
			       bad_settings_cases[i].settings);
		g_assert_false(set_settings(fixture, bad_settings_cases[i].domain,
					    bad_settings_cases[i].settings, &error));
		g_assert_error(error, OP_ERROR, bad_settings_cases[i].code);
	}
	after = get_domain(fixture, "example.org", &queued);
	g_assert_true(after->enabled);
	g_assert_cmpuint(after->hourly_limit, ==, 0);
	g_assert_cmpstr(after->smarthost, ==, "");
}

static OpStoreAccount *
get_account(Fixture *fixture, const char *address)
{
	g_autoptr(GError) error = NULL;
	OpStoreAccount *account = op_store_get_account(fixture->admin.store, address, &error);

	g_assert_no_error(error);
	g_assert_nonnull(account);
	return account;
}

static void
test_account_state(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpStoreAccount) disabled = NULL;
	g_autoptr(OpStoreAccount) limited = NULL;
	g_autoptr(OpStoreAccount) domain_off = NULL;

	g_assert_true(op_admin_set_account_enabled(&fixture->admin, "ANNA@example.org", FALSE,
						   &error));
	g_assert_no_error(error);
	disabled = get_account(fixture, "anna@example.org");
	g_assert_false(disabled->enabled);

	g_assert_true(op_admin_set_account_enabled(&fixture->admin, "anna@example.org", TRUE,
						   &error));
	g_assert_true(op_admin_set_account_hourly_limit(&fixture->admin, "anna@example.org", 30,
							&error));
	g_assert_no_error(error);
	limited = get_account(fixture, "anna@example.org");
	g_assert_true(limited->enabled);
	g_assert_cmpuint(limited->hourly_limit, ==, 30);

	/* An enabled account of a disabled domain cannot log in either. */
	g_assert_true(set_settings(fixture, "example.org", "{'enabled': <false>}", &error));
	g_assert_no_error(error);
	domain_off = get_account(fixture, "anna@example.org");
	g_assert_false(domain_off->enabled);
}

static const struct {
	const char *address;
	int code;
} bad_account_cases[] = {
	{"", OP_ERROR_INVALID_ARGUMENT},
	{"anna", OP_ERROR_INVALID_ARGUMENT},
	{"anna@example.org\r\nX: y", OP_ERROR_INVALID_ARGUMENT},
	{"nobody@example.org", OP_ERROR_NOT_FOUND},
	{"anna@unmanaged.test", OP_ERROR_NOT_FOUND},
};

static void
test_account_state_rejected(Fixture *fixture, gconstpointer data)
{
	for (guint i = 0; i < G_N_ELEMENTS(bad_account_cases); i++) {
		g_autoptr(GError) enable_error = NULL;
		g_autoptr(GError) limit_error = NULL;
		g_auto(GStrv) aliases = NULL;
		g_autoptr(GError) list_error = NULL;
		g_autofree char *printable = g_strescape(bad_account_cases[i].address, NULL);

		g_test_message("case %u: %s", i, printable);
		g_assert_false(op_admin_set_account_enabled(
			&fixture->admin, bad_account_cases[i].address, FALSE, &enable_error));
		g_assert_error(enable_error, OP_ERROR, bad_account_cases[i].code);
		g_assert_false(op_admin_set_account_hourly_limit(
			&fixture->admin, bad_account_cases[i].address, 5, &limit_error));
		g_assert_error(limit_error, OP_ERROR, bad_account_cases[i].code);
		aliases = op_admin_list_aliases(&fixture->admin, bad_account_cases[i].address,
						&list_error);
		g_assert_null(aliases);
		g_assert_error(list_error, OP_ERROR, bad_account_cases[i].code);
	}
}

static void
test_account_list_filter(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) long_error = NULL;
	g_autofree char *overlong = g_strnfill(255, 'a');
	g_autoptr(GPtrArray) matching = NULL;
	g_autoptr(GPtrArray) rejected = NULL;

	matching = op_admin_list_accounts(&fixture->admin, "ANNA", 0, 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(matching->len, ==, 1);
	rejected = op_admin_list_accounts(&fixture->admin, overlong, 0, 10, &long_error);
	g_assert_null(rejected);
	g_assert_error(long_error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

static char **
list_aliases(Fixture *fixture, const char *address)
{
	g_autoptr(GError) error = NULL;
	char **aliases = op_admin_list_aliases(&fixture->admin, address, &error);

	g_assert_no_error(error);
	g_assert_nonnull(aliases);
	return aliases;
}

static void
test_aliases(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) two = NULL;
	g_auto(GStrv) one = NULL;
	g_autoptr(GPtrArray) accounts = NULL;
	const char *expected[] = {"info@xn--bcher-kva.example", "Sales@brand.test", NULL};

	add_domain(fixture, "xn--bcher-kva.example");
	g_assert_true(op_admin_add_alias(&fixture->admin, "anna@example.org", "Sales@Brand.test",
					 &error));
	g_assert_no_error(error);
	g_assert_true(op_admin_add_alias(&fixture->admin, "anna@example.org",
					 "info@bücher.example", &error));
	g_assert_no_error(error);
	two = list_aliases(fixture, "anna@example.org");
	g_assert_cmpstrv(two, expected);

	accounts = op_store_list_accounts(fixture->admin.store, "anna", 0, 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(accounts->len, ==, 1);
	g_assert_cmpstrv(((OpStoreAccount *)g_ptr_array_index(accounts, 0))->aliases, expected);

	g_assert_true(op_admin_remove_alias(&fixture->admin, "anna@example.org",
					    "INFO@bücher.example", &error));
	g_assert_no_error(error);
	one = list_aliases(fixture, "anna@example.org");
	g_assert_cmpuint(g_strv_length(one), ==, 1);
	g_assert_cmpstr(one[0], ==, "Sales@brand.test");
}

static const struct {
	const char *address;
	const char *alias;
	int code;
} bad_alias_cases[] = {
	{"anna@example.org", "bert@example.org", OP_ERROR_EXISTS},
	{"anna@example.org", "ANNA@example.org", OP_ERROR_EXISTS},
	{"anna@example.org", "taken@brand.test", OP_ERROR_EXISTS},
	{"bert@example.org", "Taken@brand.test", OP_ERROR_EXISTS},
	{"anna@example.org", "x@unmanaged.test", OP_ERROR_NOT_FOUND},
	{"nobody@example.org", "new@brand.test", OP_ERROR_NOT_FOUND},
	{"anna", "new@brand.test", OP_ERROR_INVALID_ARGUMENT},
	{"anna@example.org", "", OP_ERROR_INVALID_ARGUMENT},
	{"", "new@brand.test", OP_ERROR_INVALID_ARGUMENT},
	{"anna@example.org", "new@brand.test\r\nBcc: x@example.net", OP_ERROR_INVALID_ARGUMENT},
};

static void
test_aliases_rejected(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) remove_error = NULL;
	g_autoptr(GError) account_error = NULL;
	g_auto(GStrv) anna = NULL;
	g_auto(GStrv) bert = NULL;

	g_assert_true(op_admin_add_alias(&fixture->admin, "anna@example.org", "taken@brand.test",
					 &error));
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(bad_alias_cases); i++) {
		g_autoptr(GError) add_error = NULL;
		g_autofree char *printable = g_strescape(bad_alias_cases[i].alias, NULL);

		g_test_message("case %u: %s %s", i, bad_alias_cases[i].address, printable);
		g_assert_false(op_admin_add_alias(&fixture->admin, bad_alias_cases[i].address,
						  bad_alias_cases[i].alias, &add_error));
		g_assert_error(add_error, OP_ERROR, bad_alias_cases[i].code);
	}
	g_assert_false(op_admin_remove_alias(&fixture->admin, "bert@example.org",
					     "taken@brand.test", &remove_error));
	g_assert_error(remove_error, OP_ERROR, OP_ERROR_NOT_FOUND);

	/* An alias address cannot become an account either. */
	g_assert_false(op_admin_add_account(&fixture->admin, "taken@brand.test",
					    "a long enough password", &account_error));
	g_assert_error(account_error, OP_ERROR, OP_ERROR_EXISTS);

	anna = list_aliases(fixture, "anna@example.org");
	g_assert_cmpuint(g_strv_length(anna), ==, 1);
	bert = list_aliases(fixture, "bert@example.org");
	g_assert_cmpuint(g_strv_length(bert), ==, 0);
}

static void
test_aliases_follow_removals(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) after_domain = NULL;
	g_autoptr(GError) gone_error = NULL;

	g_assert_true(op_admin_add_alias(&fixture->admin, "anna@example.org", "one@brand.test",
					 &error));
	g_assert_true(op_admin_add_alias(&fixture->admin, "bert@example.org", "two@brand.test",
					 &error));
	g_assert_no_error(error);

	/* Removing the alias's domain removes the aliases in it. */
	g_assert_true(op_store_remove_domain(fixture->admin.store, "brand.test", FALSE, &error));
	g_assert_no_error(error);
	after_domain = list_aliases(fixture, "anna@example.org");
	g_assert_cmpuint(g_strv_length(after_domain), ==, 0);

	/* Removing an account removes its aliases, so the address is free again. */
	add_domain(fixture, "brand.test");
	g_assert_true(op_admin_add_alias(&fixture->admin, "bert@example.org", "two@brand.test",
					 &error));
	g_assert_true(op_admin_remove_account(&fixture->admin, "bert@example.org", &error));
	g_assert_no_error(error);
	g_assert_true(op_admin_add_alias(&fixture->admin, "anna@example.org", "two@brand.test",
					 &error));
	g_assert_no_error(error);
	g_assert_null(op_admin_list_aliases(&fixture->admin, "bert@example.org", &gone_error));
	g_assert_error(gone_error, OP_ERROR, OP_ERROR_NOT_FOUND);
}

#define ADD_FIXTURE_TEST(path, func)                                                               \
	g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/admin/normalize/smarthost", test_normalize_smarthost);
	g_test_add_func("/admin/normalize/smarthost-overlong", test_normalize_smarthost_overlong);
	g_test_add_func("/admin/normalize/address", test_normalize_address);
	g_test_add_func("/admin/normalize/address-overlong", test_normalize_address_overlong);
	ADD_FIXTURE_TEST("/admin/domain/settings", test_domain_settings);
	ADD_FIXTURE_TEST("/admin/domain/settings-rejected", test_domain_settings_rejected);
	ADD_FIXTURE_TEST("/admin/account/state", test_account_state);
	ADD_FIXTURE_TEST("/admin/account/state-rejected", test_account_state_rejected);
	ADD_FIXTURE_TEST("/admin/account/list-filter", test_account_list_filter);
	ADD_FIXTURE_TEST("/admin/alias/add-remove", test_aliases);
	ADD_FIXTURE_TEST("/admin/alias/rejected", test_aliases_rejected);
	ADD_FIXTURE_TEST("/admin/alias/follow-removals", test_aliases_follow_removals);
	return g_test_run();
}
