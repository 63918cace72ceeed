/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DKIM key records and the key life in the store: reading tags of a
 * published record, comparing it with the signing key, and a rotation from
 * pending to active to retiring, with RSA signing before Ed25519.
 */
#include "dkim/op-dkim-record.h"
#include "op-error.h"
#include "store/op-store.h"

#include <glib/gstdio.h>

static const char rsa_record[] = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";

static void
test_record_tags(void)
{
	static const struct {
		const char *record;
		const char *tag;
		const char *value; /* NULL when absent */
	} cases[] = {
		{ "v=DKIM1; k=rsa; p=ABC", "p", "ABC" },
		{ "v=DKIM1;k=ed25519;p=ABC", "k", "ed25519" },
		/* Whitespace inside a base64 value does not count (RFC 6376 §3.2). */
		{ "v=DKIM1; p= AB C\t D ", "p", "ABCD" },
		{ " p = ABC ;", "p", "ABC" },
		{ "v=DKIM1; p=", "p", "" },
		{ "v=DKIM1; k=rsa", "p", NULL },
		{ "v=DKIM1; pp=ABC", "p", NULL },
		{ "", "p", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *value = op_dkim_record_dup_tag(cases[i].record, cases[i].tag);

		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].record);
		g_assert_cmpstr(value, ==, cases[i].value);
	}
}

static void
test_record_same_key(void)
{
	static const struct {
		const char *published;
		gboolean same;
	} cases[] = {
		{ "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", TRUE },
		/* k= defaults to rsa; the key may come split and spaced. */
		{ "v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A MIIBCgKCAQEA", TRUE },
		{ "v=DKIM1; k=ed25519; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", FALSE },
		{ "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEB", FALSE },
		/* An empty p= revokes the key (RFC 6376 §3.6.1). */
		{ "v=DKIM1; k=rsa; p=", FALSE },
		{ "v=spf1 -all", FALSE },
		/* Records verifiers skip: another version, v= not first, no sha256,
		 * a service other than email. */
		{ "v=DKIM2; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", FALSE },
		{ "k=rsa; v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", FALSE },
		{ "v=DKIM1; h=sha1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", FALSE },
		{ "v=DKIM1; s=tlsrpt; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", FALSE },
		{ "v=DKIM1; h=sha1:sha256; s=*; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
		  TRUE },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].published);
		g_assert_cmpint(op_dkim_record_same_key(cases[i].published, rsa_record), ==,
				cases[i].same);
	}
}

typedef struct {
	char *dir;
	OpStore *store;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	fixture->dir = g_dir_make_tmp("outpost-dkim-keys-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(fixture->dir, "outpost.db", NULL);
	fixture->store = op_store_open(path, &error);
	g_assert_no_error(error);
	g_assert_true(op_store_add_domain(fixture->store, "example.org", "first",
					  "/keys/first.pem", "rsa-sha256", &error));
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	const char *names[] = { "outpost.db", "outpost.db-wal", "outpost.db-shm" };

	op_store_free(fixture->store);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(fixture->dir, names[i], NULL);

		g_unlink(path);
	}
	g_assert_cmpint(g_rmdir(fixture->dir), ==, 0);
	g_free(fixture->dir);
}

static OpDkimKeyState
key_state(Fixture *fixture, const char *selector)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) keys = op_store_list_dkim_keys(fixture->store, "example.org", &error);

	g_assert_no_error(error);
	for (guint i = 0; i < keys->len; i++) {
		const OpStoreDkimKey *key = keys->pdata[i];

		if (g_str_equal(key->selector, selector))
			return key->state;
	}
	g_assert_not_reached();
}

static void
test_rotation(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpStoreDomain) domain = NULL;
	g_autoptr(GPtrArray) expired = NULL;
	g_auto(GStrv) revoked = NULL;

	g_assert_cmpint(key_state(fixture, "first"), ==, OP_DKIM_KEY_ACTIVE);
	g_assert_true(op_store_add_dkim_key(fixture->store, "example.org", "second", "rsa-sha256",
					    "/keys/second.pem", &error));
	g_assert_no_error(error);
	g_assert_cmpint(key_state(fixture, "second"), ==, OP_DKIM_KEY_PENDING);

	/* Until the switch, the domain still signs with the first key. */
	domain = op_store_get_domain(fixture->store, "example.org", &error);
	g_assert_cmpstr(domain->dkim_selector, ==, "first");

	g_assert_true(op_store_activate_dkim_key(fixture->store, "example.org", "second", &error));
	g_assert_no_error(error);
	g_assert_cmpint(key_state(fixture, "second"), ==, OP_DKIM_KEY_ACTIVE);
	g_assert_cmpint(key_state(fixture, "first"), ==, OP_DKIM_KEY_RETIRING);

	expired = op_store_list_expired_dkim_keys(fixture->store, G_MAXINT64, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(expired->len, ==, 1);
	g_assert_cmpstr(((OpStoreDkimKey *)expired->pdata[0])->selector, ==, "first");

	g_assert_true(op_store_remove_dkim_key(fixture->store, "example.org", "first", &error));
	g_assert_no_error(error);
	revoked = op_store_dup_revoked_selectors(fixture->store, "example.org", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(revoked), ==, 1);
	g_assert_cmpstr(revoked[0], ==, "first");
}

static void
test_active_key_stays(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) remove_error = NULL;
	g_autoptr(GError) activate_error = NULL;
	g_autoptr(GError) duplicate_error = NULL;

	g_assert_false(op_store_remove_dkim_key(fixture->store, "example.org", "first",
						&remove_error));
	g_assert_error(remove_error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_assert_false(op_store_activate_dkim_key(fixture->store, "example.org", "first",
						  &activate_error));
	g_assert_error(activate_error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_assert_false(op_store_add_dkim_key(fixture->store, "example.org", "FIRST", "rsa-sha256",
					     "/keys/again.pem", &duplicate_error));
	g_assert_error(duplicate_error, OP_ERROR, OP_ERROR_EXISTS);
	g_assert_cmpint(key_state(fixture, "first"), ==, OP_DKIM_KEY_ACTIVE);
}

/* An Ed25519 key signs beside the RSA key: activating it retires nothing, and
 * RSA comes first among the signing keys. */
static void
test_ed25519_beside_rsa(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) signing = NULL;

	g_assert_true(op_store_add_dkim_key(fixture->store, "example.org", "eddy",
					    "ed25519-sha256", "/keys/eddy.pem", &error));
	g_assert_true(op_store_activate_dkim_key(fixture->store, "example.org", "eddy", &error));
	g_assert_no_error(error);
	g_assert_cmpint(key_state(fixture, "first"), ==, OP_DKIM_KEY_ACTIVE);
	signing = op_store_list_signing_keys(fixture->store, "example.org", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(signing->len, ==, 2);
	g_assert_cmpstr(((OpStoreDkimKey *)signing->pdata[0])->algorithm, ==, "rsa-sha256");
	g_assert_cmpstr(((OpStoreDkimKey *)signing->pdata[1])->algorithm, ==, "ed25519-sha256");
}

static void
test_unknown_domain(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(op_store_add_dkim_key(fixture->store, "other.example", "s1", "rsa-sha256",
					     "/keys/s1.pem", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
}

#define ADD_FIXTURE_TEST(path, func)                                                               \
	g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dkim/record/tags", test_record_tags);
	g_test_add_func("/dkim/record/same-key", test_record_same_key);
	ADD_FIXTURE_TEST("/dkim/keys/rotation", test_rotation);
	ADD_FIXTURE_TEST("/dkim/keys/active-stays", test_active_key_stays);
	ADD_FIXTURE_TEST("/dkim/keys/ed25519-beside-rsa", test_ed25519_beside_rsa);
	ADD_FIXTURE_TEST("/dkim/keys/unknown-domain", test_unknown_domain);
	return g_test_run();
}
