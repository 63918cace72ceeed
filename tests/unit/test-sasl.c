/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of strict base64 decoding and of the AUTH PLAIN and LOGIN messages.
 */
#include "smtp/op-sasl.h"

#include "op-error.h"

#include <string.h>

typedef struct {
	const char *text;
	/* NULL when decoding must fail. */
	const char *decoded;
	gsize decoded_len;
} Base64Case;

#define DECODED(text) text, sizeof(text) - 1

static const Base64Case base64_cases[] = {
	{"=", DECODED("")},
	{"YQ==", DECODED("a")},
	{"YWI=", DECODED("ab")},
	{"YWJj", DECODED("abc")},
	{"YWRtaW4AAHBhc3N3b3Jk", DECODED("admin\0\0password")},
	{"+/+/", DECODED("\xfb\xff\xbf")},
	{"", NULL, 0},
	{"!!!notb64", NULL, 0},
	{"YWJj!", NULL, 0},
	{"YQ=", NULL, 0},
	{"YQ", NULL, 0},
	{"YQ===", NULL, 0},
	{"Y===", NULL, 0},
	{"====", NULL, 0},
	{"==", NULL, 0},
	{"YQ==YQ==", NULL, 0},
	{"YR==", NULL, 0},
	{"YWJ=", NULL, 0},
	{"YW Jj", NULL, 0},
	{"YWJj\n", NULL, 0},
	{" YWJj", NULL, 0},
	{"YWJj\r\n", NULL, 0},
	{"YW=j", NULL, 0},
	{"YWJj-_", NULL, 0},
	{"*", NULL, 0},
};

static void
test_base64(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(base64_cases); i++) {
		const Base64Case *test = &base64_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) bytes = NULL;
		gsize len = 0;
		const void *data;

		g_test_message("text \"%s\"", test->text);
		bytes = op_sasl_decode_base64(test->text, &error);
		if (test->decoded == NULL) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_null(bytes);
			continue;
		}
		g_assert_no_error(error);
		g_assert_nonnull(bytes);
		data = g_bytes_get_data(bytes, &len);
		g_assert_cmpmem(data, len, test->decoded, test->decoded_len);
	}
}

typedef struct {
	const char *name;
	const char *message;
	gsize len;
	gboolean ok;
	const char *authzid;
	const char *authcid;
	const char *password;
} PlainCase;

#define MESSAGE(text) text, sizeof(text) - 1

static const PlainCase plain_cases[] = {
	{"valid", MESSAGE("\0user@example.org\0secret"), TRUE, "", "user@example.org", "secret"},
	{"authzid-equal", MESSAGE("user@example.org\0user@example.org\0pw"), TRUE,
	 "user@example.org", "user@example.org", "pw"},
	{"authzid-case", MESSAGE("User@Example.ORG\0user@example.org\0pw"), TRUE,
	 "User@Example.ORG", "user@example.org", "pw"},
	{"utf8", MESSAGE("\0j\xc3\xb6rg@example.org\0p\xc3\xa4ss w\xc3\xb6rd"), TRUE, "",
	 "j\xc3\xb6rg@example.org", "p\xc3\xa4ss w\xc3\xb6rd"},
	{"authzid-different", MESSAGE("admin@example.org\0user@example.org\0pw"), FALSE},
	{"empty-authcid", MESSAGE("admin\0\0password"), FALSE},
	{"empty-password", MESSAGE("\0user\0"), FALSE},
	{"one-nul", MESSAGE("user\0password"), FALSE},
	{"no-nul", MESSAGE("userpassword"), FALSE},
	{"three-nuls", MESSAGE("\0user\0pass\0word"), FALSE},
	{"empty", MESSAGE(""), FALSE},
	{"bad-utf8", MESSAGE("\0us\xff" "er\0password"), FALSE},
	{"bad-utf8-password", MESSAGE("\0user\0pass\xc3"), FALSE},
};

static void
test_plain(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(plain_cases); i++) {
		const PlainCase *test = &plain_cases[i];
		g_autoptr(GBytes) message = g_bytes_new_static(test->message, test->len);
		g_auto(OpSaslCredentials) credentials = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_test_message("case %s", test->name);
		ok = op_sasl_parse_plain(message, &credentials, &error);
		g_assert_cmpint(ok, ==, test->ok);
		if (!test->ok) {
			g_assert_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED);
			g_assert_null(credentials.authcid);
			g_assert_null(credentials.password);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpstr(credentials.authzid, ==, test->authzid);
		g_assert_cmpstr(credentials.authcid, ==, test->authcid);
		g_assert_cmpstr(credentials.password, ==, test->password);
	}
}

/* The RFC 4616 attack: an empty authentication identity must never log in as
 * the authorization identity. */
static void
test_plain_empty_authcid_base64(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) message = op_sasl_decode_base64("YWRtaW4AAHBhc3N3b3Jk", &error);
	g_auto(OpSaslCredentials) credentials = {0};

	g_assert_no_error(error);
	g_assert_nonnull(message);
	g_assert_false(op_sasl_parse_plain(message, &credentials, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED);
	g_assert_null(credentials.authcid);
}

static void
test_plain_empty_response(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) message = op_sasl_decode_base64("=", &error);
	g_auto(OpSaslCredentials) credentials = {0};

	g_assert_no_error(error);
	g_assert_cmpuint(g_bytes_get_size(message), ==, 0);
	g_assert_false(op_sasl_parse_plain(message, &credentials, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_ACCESS_DENIED);
}

static void
test_credentials_clear(void)
{
	OpSaslCredentials credentials = {0};

	credentials.authzid = g_strdup("");
	credentials.authcid = g_strdup("user");
	credentials.password = g_strdup("secret");
	op_sasl_credentials_clear(&credentials);
	g_assert_null(credentials.authzid);
	g_assert_null(credentials.authcid);
	g_assert_null(credentials.password);

	/* Clearing twice, or an empty struct, is harmless. */
	op_sasl_credentials_clear(&credentials);
}

typedef struct {
	const char *text;
	/* NULL when decoding must fail. */
	const char *decoded;
} LoginCase;

static const LoginCase login_cases[] = {
	{"dXNlckBleGFtcGxlLm9yZw==", "user@example.org"},
	{"c2VjcmV0", "secret"},
	{"asO2cmc=", "j\xc3\xb6rg"},
	{"=", ""},
	{"*", NULL},
	{"", NULL},
	{"dXNlcgBhZG1pbg==", NULL},
	{"/w==", NULL},
	{"dXNlcg", NULL},
	{"dXNl cg==", NULL},
};

static void
test_login_steps(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(login_cases); i++) {
		const LoginCase *test = &login_cases[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *decoded = NULL;

		g_test_message("text \"%s\"", test->text);
		decoded = op_sasl_decode_login_step(test->text, &error);
		if (test->decoded == NULL) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_null(decoded);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpstr(decoded, ==, test->decoded);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/smtp/sasl/base64", test_base64);
	g_test_add_func("/smtp/sasl/plain", test_plain);
	g_test_add_func("/smtp/sasl/plain-empty-authcid", test_plain_empty_authcid_base64);
	g_test_add_func("/smtp/sasl/plain-empty-response", test_plain_empty_response);
	g_test_add_func("/smtp/sasl/credentials-clear", test_credentials_clear);
	g_test_add_func("/smtp/sasl/login-steps", test_login_steps);
	return g_test_run();
}
