/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sender rules: the pure ownership, address and limit-reply functions, and
 * the sender policy against a store in a temporary directory with domains,
 * accounts, aliases and accepted events.
 */
#include "op-error.h"
#include "policy/op-policy.h"
#include "policy/op-sender-policy.h"
#include "store/op-store.h"

#include <glib/gstdio.h>

/* ---- Pure functions ----------------------------------------------------- */

typedef struct {
	const char *account;
	const char *aliases[3];
	const char *address;
	gboolean owned;
} OwnsCase;

static const OwnsCase owns_cases[] = {
	{"anna@example.org", {NULL}, "anna@example.org", TRUE},
	{"anna@example.org", {NULL}, "ANNA@Example.ORG", TRUE},
	{"anna@example.org", {NULL}, "bert@example.org", FALSE},
	{"anna@example.org", {NULL}, "anna@example.org.evil.test", FALSE},
	{"anna@example.org", {NULL}, "", FALSE},
	{"anna@example.org", {"sales@brand.test", "info@brand.test"}, "sales@brand.test", TRUE},
	{"anna@example.org", {"sales@brand.test", "info@brand.test"}, "Info@Brand.test", TRUE},
	{"anna@example.org", {"sales@brand.test", NULL}, "support@brand.test", FALSE},
	{"anna@example.org", {"sales@brand.test", NULL}, "sales@brand.test.evil", FALSE},
	{NULL, {"sales@brand.test", NULL}, "sales@brand.test", FALSE},
};

static void
test_account_owns(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(owns_cases); i++) {
		const OwnsCase *c = &owns_cases[i];
		const char *const *aliases = c->aliases[0] ? c->aliases : NULL;

		g_test_message("case %u: %s owns %s", i, c->account, c->address);
		g_assert_cmpint(op_policy_account_owns(c->account, aliases, c->address), ==, c->owned);
	}
}

static const struct {
	const char *address;
	const char *ascii; /* NULL when the domain is no host name */
} ascii_cases[] = {
	{"anna@example.org", "anna@example.org"},
	{"Anna@EXAMPLE.org", "Anna@example.org"},
	{"anna@bücher.example", "anna@xn--bcher-kva.example"},
	{"\"a@b\"@example.org", "\"a@b\"@example.org"},
	{"postmaster", "postmaster"},
	{"anna@[192.0.2.1]", "anna@[192.0.2.1]"},
	{"anna@bad\xff.example", NULL},
};

static void
test_ascii_address(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(ascii_cases); i++) {
		g_autofree char *ascii = op_policy_dup_ascii_address(ascii_cases[i].address);
		g_autofree char *printable = g_strescape(ascii_cases[i].address, NULL);

		g_test_message("case %u: %s", i, printable);
		g_assert_cmpstr(ascii, ==, ascii_cases[i].ascii);
	}
}

static const struct {
	guint limit;
	guint count;
	const char *reply; /* NULL when one more message may go */
} limit_cases[] = {
	{0, 0, NULL},
	{0, 1000000, NULL},
	{1, 0, NULL},
	{1, 1, "451 4.7.1 Hourly sending limit of 1 messages reached for h: try again later"},
	{10, 9, NULL},
	{10, 10, "451 4.7.1 Hourly sending limit of 10 messages reached for h: try again later"},
	{10, 11, "451 4.7.1 Hourly sending limit of 10 messages reached for h: try again later"},
	{G_MAXUINT32, G_MAXUINT32 - 1, NULL},
};

static void
test_limit_reply(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(limit_cases); i++) {
		g_autofree char *reply = op_policy_dup_limit_rejection(limit_cases[i].limit,
								     limit_cases[i].count, "h");

		g_test_message("case %u: limit %u, count %u", i, limit_cases[i].limit,
			       limit_cases[i].count);
		g_assert_cmpstr(reply, ==, limit_cases[i].reply);
	}
}

/* ---- The sender policy against a store ---------------------------------- */

typedef struct {
	char *dir;
	OpStore *store;
} Fixture;

static void
add_domain(OpStore *store, const char *name)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(op_store_add_domain(store, name, "op202501", "/nonexistent/key.pem",
					  "rsa-sha256", &error));
	g_assert_no_error(error);
}

static void
add_account(OpStore *store, const char *address, const char *domain)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(op_store_add_account(store, address, domain, "$y$not-a-hash", &error));
	g_assert_no_error(error);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	fixture->dir = g_dir_make_tmp("outpost-policy-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->store = op_store_open(path, &error);
	g_assert_no_error(error);
	add_domain(fixture->store, "example.org");
	add_domain(fixture->store, "brand.test");
	add_account(fixture->store, "anna@example.org", "example.org");
	add_account(fixture->store, "bert@example.org", "example.org");
	g_assert_true(op_store_add_alias(fixture->store, "anna@example.org", "sales@brand.test",
					 &error));
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	const char *names[] = {"outpost.db", "outpost.db-wal", "outpost.db-shm"};

	op_store_free(fixture->store);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(fixture->dir, names[i], NULL);

		g_unlink(path);
	}
	g_assert_cmpint(g_rmdir(fixture->dir), ==, 0);
	g_free(fixture->dir);
}

static OpSenderPolicy *
new_policy(Fixture *fixture, const char *account)
{
	g_autoptr(GError) error = NULL;
	OpSenderPolicy *policy = op_sender_policy_new(fixture->store, account, &error);

	g_assert_no_error(error);
	g_assert_nonnull(policy);
	return policy;
}

/* Returns the rejection of address, or NULL when it may be used. */
static char *
check_address(OpSenderPolicy *policy, const char *address)
{
	g_autoptr(GError) error = NULL;
	char *rejection = NULL;

	g_assert_true(op_sender_policy_check_address(policy, address, "Sender address", &rejection,
						     &error));
	g_assert_no_error(error);
	return rejection;
}

static const struct {
	const char *address;
	const char *rejection; /* NULL when anna may send as the address */
} anna_cases[] = {
	{"anna@example.org", NULL},
	{"ANNA@example.ORG", NULL},
	{"sales@brand.test", NULL},
	{"Sales@Brand.Test", NULL},
	{"", NULL},
	{"bert@example.org", "553 5.7.1 Sender address <bert@example.org> is not owned by "
			     "anna@example.org"},
	{"info@brand.test", "553 5.7.1 Sender address <info@brand.test> is not owned by "
			    "anna@example.org"},
	{"anna@unmanaged.test", "553 5.7.1 Sender address <anna@unmanaged.test> is not owned by "
				"anna@example.org"},
};

static void
test_sender_ownership(Fixture *fixture, gconstpointer data)
{
	g_autoptr(OpSenderPolicy) policy = new_policy(fixture, "anna@example.org");
	g_autofree char *account_rejection = op_sender_policy_check_account(policy);

	g_assert_null(account_rejection);
	for (guint i = 0; i < G_N_ELEMENTS(anna_cases); i++) {
		g_autofree char *rejection = check_address(policy, anna_cases[i].address);

		g_test_message("case %u: %s", i, anna_cases[i].address);
		g_assert_cmpstr(rejection, ==, anna_cases[i].rejection);
	}
}

static void
test_sender_disabled_account(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpSenderPolicy) policy = NULL;
	g_autoptr(OpSenderPolicy) removed = NULL;
	g_autofree char *rejection = NULL;
	g_autofree char *removed_rejection = NULL;

	g_assert_true(op_store_set_account_enabled(fixture->store, "bert@example.org", FALSE,
						   &error));
	g_assert_no_error(error);
	policy = new_policy(fixture, "bert@example.org");
	rejection = op_sender_policy_check_account(policy);
	g_assert_cmpstr(rejection, ==, "553 5.7.1 The account bert@example.org may not send: it or "
				     "its domain is disabled");

	removed = new_policy(fixture, "gone@example.org");
	removed_rejection = op_sender_policy_check_account(removed);
	g_assert_cmpstr(removed_rejection, ==, "553 5.7.1 The account gone@example.org no longer "
					     "exists");
}

static void
test_sender_disabled_domain(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpSenderPolicy) trusted = NULL;
	g_autoptr(OpSenderPolicy) anna = NULL;
	g_autofree char *trusted_rejection = NULL;
	g_autofree char *unmanaged_rejection = NULL;
	g_autofree char *null_rejection = NULL;
	g_autofree char *alias_rejection = NULL;
	OpStoreDomainSettings disable = {.has_enabled = TRUE, .enabled = FALSE};

	g_assert_true(op_store_set_domain_settings(fixture->store, "brand.test", &disable, &error));
	g_assert_no_error(error);

	trusted = new_policy(fixture, NULL);
	trusted_rejection = check_address(trusted, "app@Brand.test");
	g_assert_cmpstr(trusted_rejection, ==, "553 5.7.1 Sender address <app@Brand.test> is "
					     "rejected: the domain brand.test is disabled");
	unmanaged_rejection = check_address(trusted, "app@unmanaged.test");
	g_assert_null(unmanaged_rejection);
	null_rejection = check_address(trusted, "");
	g_assert_null(null_rejection);

	/* An alias in a disabled domain is owned but still rejected. */
	anna = new_policy(fixture, "anna@example.org");
	alias_rejection = check_address(anna, "sales@brand.test");
	g_assert_cmpstr(alias_rejection, ==, "553 5.7.1 Sender address <sales@brand.test> is "
					   "rejected: the domain brand.test is disabled");
}

static void
add_accepted(OpStore *store, const char *sender, const char *account)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *id = op_store_new_queue_id();

	g_assert_true(op_store_add_event_full(store, OP_EVENT_ACCEPTED, id, sender, NULL, NULL,
					      NULL, account, &error));
	g_assert_no_error(error);
}

/* Returns the limit rejection for sender at now, and checks *limited. */
static char *
check_limits(OpSenderPolicy *policy, const char *sender, gint64 now, gboolean limited)
{
	g_autoptr(GError) error = NULL;
	char *rejection = NULL;
	gboolean is_limited = !limited;

	g_assert_true(op_sender_policy_check_limits(policy, sender, now, &is_limited, &rejection,
						    &error));
	g_assert_no_error(error);
	g_assert_cmpint(is_limited, ==, limited);
	return rejection;
}

static void
test_sender_account_limit(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpSenderPolicy) unlimited = new_policy(fixture, "anna@example.org");
	g_autoptr(OpSenderPolicy) policy = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *third = NULL;
	g_autofree char *later = NULL;
	g_autofree char *none = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	none = check_limits(unlimited, "anna@example.org", now, FALSE);
	g_assert_null(none);
	g_assert_true(op_store_set_account_hourly_limit(fixture->store, "anna@example.org", 2,
							&error));
	g_assert_no_error(error);
	policy = new_policy(fixture, "anna@example.org");

	first = check_limits(policy, "anna@example.org", now, TRUE);
	g_assert_null(first);
	add_accepted(fixture->store, "anna@example.org", "anna@example.org");
	/* An alias or the null sender counts for the account as well. */
	add_accepted(fixture->store, "", "ANNA@example.org");
	/* Mail of another account does not count. */
	add_accepted(fixture->store, "bert@example.org", "bert@example.org");
	second = check_limits(policy, "sales@brand.test", now, TRUE);
	g_assert_cmpstr(second, ==, "451 4.7.1 Hourly sending limit of 2 messages reached for "
				    "anna@example.org: try again later");
	third = check_limits(policy, "", now, TRUE);
	g_assert_nonnull(third);
	later = check_limits(policy, "anna@example.org", now + OP_HOURLY_LIMIT_WINDOW, TRUE);
	g_assert_null(later);
}

static void
test_sender_domain_limit(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpSenderPolicy) trusted = NULL;
	g_autoptr(OpSenderPolicy) bert = NULL;
	g_autofree char *under = NULL;
	g_autofree char *over = NULL;
	g_autofree char *account_over = NULL;
	g_autofree char *other_domain = NULL;
	g_autofree char *null_sender = NULL;
	OpStoreDomainSettings limit = {.has_hourly_limit = TRUE, .hourly_limit = 2};
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_assert_true(op_store_set_domain_settings(fixture->store, "example.org", &limit, &error));
	g_assert_no_error(error);
	trusted = new_policy(fixture, NULL);
	bert = new_policy(fixture, "bert@example.org");

	add_accepted(fixture->store, "app@Example.org", NULL);
	under = check_limits(trusted, "app@example.org", now, TRUE);
	g_assert_null(under);
	add_accepted(fixture->store, "anna@example.org", "anna@example.org");
	/* Mail from a subdomain or another domain does not count. */
	add_accepted(fixture->store, "app@sub.example.org", NULL);
	add_accepted(fixture->store, "sales@brand.test", "anna@example.org");

	over = check_limits(trusted, "app@example.org", now, TRUE);
	g_assert_cmpstr(over, ==, "451 4.7.1 Hourly sending limit of 2 messages reached for "
				  "example.org: try again later");
	account_over = check_limits(bert, "BERT@EXAMPLE.ORG", now, TRUE);
	g_assert_nonnull(account_over);
	other_domain = check_limits(trusted, "app@brand.test", now, FALSE);
	g_assert_null(other_domain);
	null_sender = check_limits(trusted, "", now, FALSE);
	g_assert_null(null_sender);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/policy/account-owns", test_account_owns);
	g_test_add_func("/policy/ascii-address", test_ascii_address);
	g_test_add_func("/policy/limit-rejection", test_limit_reply);
	g_test_add("/policy/sender/ownership", Fixture, NULL, fixture_set_up,
		   test_sender_ownership, fixture_tear_down);
	g_test_add("/policy/sender/disabled-account", Fixture, NULL, fixture_set_up,
		   test_sender_disabled_account, fixture_tear_down);
	g_test_add("/policy/sender/disabled-domain", Fixture, NULL, fixture_set_up,
		   test_sender_disabled_domain, fixture_tear_down);
	g_test_add("/policy/sender/account-limit", Fixture, NULL, fixture_set_up,
		   test_sender_account_limit, fixture_tear_down);
	g_test_add("/policy/sender/domain-limit", Fixture, NULL, fixture_set_up,
		   test_sender_domain_limit, fixture_tear_down);
	return g_test_run();
}
