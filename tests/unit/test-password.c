/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Password hashing with yescrypt, verification against stored hashes of several
 * formats, and the policy for new passwords.
 */
#include <string.h>

#include "auth/op-password.h"
#include "op-error.h"

static void
test_hash_format(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *hash = op_password_hash("correct horse battery", &error);
	g_autofree char *second = op_password_hash("correct horse battery", &error);

	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(hash, "$y$"));
	/* A fresh salt each time, so equal passwords give different hashes. */
	g_assert_cmpstr(hash, !=, second);
}

static void
test_verify_round_trip(void)
{
	static const char *const passwords[] = {
		"correct horse battery",
		"Pässwörd mit Ümlauten",
		"a",
		"",
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(passwords); i++) {
		g_autofree char *hash = op_password_hash(passwords[i], NULL);
		g_autofree char *other = g_strconcat(passwords[i], "x", NULL);

		g_assert_nonnull(hash);
		g_assert_true(op_password_verify(passwords[i], hash));
		g_assert_false(op_password_verify(other, hash));
	}
}

/* Hashes made by other tools with a known password, as an admin migrating from
 * another server would import them. */
static void
test_verify_known_hashes(void)
{
	static const struct {
		const char *hash;
		gboolean valid;
	} cases[] = {
		/* Python's crypt.crypt() with this salt (libxcrypt's yescrypt). */
		{ "$y$j9T$Qq.4z5Nne1sUwgh9DDV2G0$3vSSJR4TeLFxPtfmZHnCU7T0goHBVkh9JBD1g6dL3o9",
		  TRUE },
		/* openssl passwd -6 -salt V1eW5T4oXJZrqZ1N secret123 */
		{ "$6$V1eW5T4oXJZrqZ1N$m3XF/BoUPPWiP/YqtyTTr.OALn53zft4jtma3/AyslzGORKZ8ySCtoD6w96"
		  "y5M6lUwLmdaN.n.kSjZg8bfgMV/",
		  TRUE },
		/* openssl passwd -5 -salt abcdefgh secret123 */
		{ "$5$abcdefgh$gu4Fu7PIuH9nGr1B7ZqLDtO3QWLFlnhpoXY7evoEnNA", TRUE },
		/* The SHA-512 hash above with its last character changed. */
		{ "$6$V1eW5T4oXJZrqZ1N$m3XF/BoUPPWiP/YqtyTTr.OALn53zft4jtma3/AyslzGORKZ8ySCtoD6w96"
		  "y5M6lUwLmdaN.n.kSjZg8bfgMV.",
		  FALSE },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("hash %s", cases[i].hash);
		g_assert_cmpint(op_password_verify("secret123", cases[i].hash), ==,
				cases[i].valid);
		g_assert_false(op_password_verify("secret124", cases[i].hash));
	}
}

static void
test_verify_malformed(void)
{
	static const char *const hashes[] = {
		"",
		"*",
		"!",
		"!$y$j9T$Qq.4z5Nne1sUwgh9DDV2G0$4iXJ4tQp3TKKpK4J7PqM/vRwQlc1pd7vVZJXiwbk3U4",
		"$y$",
		"$y$j9T$",
		"$unknown$abc$def",
		/* Traditional DES uses 8 characters of the password only. */
		"abJnggxhB/yWI",
		"secret123",
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(hashes); i++) {
		g_test_message("hash \"%s\"", hashes[i]);
		g_assert_false(op_password_verify("secret123", hashes[i]));
	}
	g_assert_false(op_password_verify(NULL, "$y$j9T$x$y"));
	g_assert_false(op_password_verify("secret123", NULL));
}

static void
test_policy(void)
{
	static const struct {
		const char *password;
		const char *message; /* a substring of the error, or NULL if accepted */
	} cases[] = {
		{ "0123456789", NULL },
		{ "ééééééééé€", NULL },
		{ "twelve chars", NULL },
		{ "012345678", "too short: use at least 10 characters" },
		/* Nine characters although it has 18 bytes. */
		{ "ééééééééé", "too short" },
		{ "", "too short" },
		{ "0123456789\t", "control character" },
		{ "0123456789\n", "control character" },
		{ "01234\x7f" "56789", "control character" },
		{ "01234\xc2\x85" "56789", "control character" },
		{ "0123456789\xff", "not valid UTF-8" },
		{ "0123456789\xc3", "not valid UTF-8" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gboolean ok = op_password_check_policy(cases[i].password, &error);

		g_test_message("case %" G_GSIZE_FORMAT, i);
		if (cases[i].message == NULL) {
			g_assert_no_error(error);
			g_assert_true(ok);
		} else {
			g_assert_false(ok);
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_nonnull(strstr(error->message, cases[i].message));
		}
	}
}

static void
test_policy_length_limit(void)
{
	g_autofree char *max = g_strnfill(1024, 'a');
	g_autofree char *over = g_strnfill(1025, 'a');
	g_autoptr(GError) error = NULL;

	g_assert_true(op_password_check_policy(max, &error));
	g_assert_no_error(error);
	g_assert_false(op_password_check_policy(over, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "too long"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/auth/password/hash-format", test_hash_format);
	g_test_add_func("/auth/password/round-trip", test_verify_round_trip);
	g_test_add_func("/auth/password/known-hashes", test_verify_known_hashes);
	g_test_add_func("/auth/password/malformed-hash", test_verify_malformed);
	g_test_add_func("/auth/password/policy", test_policy);
	g_test_add_func("/auth/password/policy-length-limit", test_policy_length_limit);
	return g_test_run();
}
