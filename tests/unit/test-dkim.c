/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DKIM key generation, public-key TXT values and signatures. Signatures are
 * verified independently by dkimpy (python3-dkim, python3-nacl for Ed25519),
 * which gets the public key from op_dkim_dup_public_txt() instead of DNS.
 */
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim/op-dkim.h"
#include "op-error.h"

#define TEST_DOMAIN "example.org"
#define TEST_SELECTOR "sel1"

/* Reads the message from stdin and returns the TXT value in argv[1] only for the
 * name in argv[2], so a signature with the wrong d= or s= fails. */
static const char verify_script[] =
	"import sys, dkim\n"
	"txt, expected = sys.argv[1].encode(), sys.argv[2].encode()\n"
	"def dnsfunc(name, timeout=5):\n"
	"    return txt if name == expected else None\n"
	"sys.exit(0 if dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc) else 1)\n";

/* One set of keys for the whole program, because generating an RSA key takes a
 * noticeable fraction of a second. */
typedef struct {
	char *dir;
	char *rsa_path;
	char *ed25519_path;
	char *rsa_pem;
	char *ed25519_pem;
	OpDkimSigner *signer;
} Fixture;

static Fixture keys;

static void
fixture_set_up(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("test-dkim-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->rsa_path = g_build_filename(fixture->dir, "rsa.pem", NULL);
	fixture->ed25519_path = g_build_filename(fixture->dir, "ed25519.pem", NULL);

	g_assert_true(op_dkim_generate_key(fixture->rsa_path, OP_DKIM_RSA_SHA256, &error));
	g_assert_no_error(error);
	g_assert_true(op_dkim_generate_key(fixture->ed25519_path, OP_DKIM_ED25519_SHA256,
					   &error));
	g_assert_no_error(error);

	g_assert_true(g_file_get_contents(fixture->rsa_path, &fixture->rsa_pem, NULL, &error));
	g_assert_true(g_file_get_contents(fixture->ed25519_path, &fixture->ed25519_pem, NULL,
					  &error));
	fixture->signer = op_dkim_signer_new(&error);
	g_assert_no_error(error);
	g_assert_nonnull(fixture->signer);
}

static void
fixture_tear_down(Fixture *fixture)
{
	g_unlink(fixture->rsa_path);
	g_unlink(fixture->ed25519_path);
	g_rmdir(fixture->dir);
	g_free(fixture->rsa_path);
	g_free(fixture->ed25519_path);
	g_free(fixture->rsa_pem);
	g_free(fixture->ed25519_pem);
	g_free(fixture->dir);
	op_dkim_signer_free(fixture->signer);
}

static const char *
fixture_get_pem(Fixture *fixture, OpDkimAlgorithm algorithm)
{
	return algorithm == OP_DKIM_ED25519_SHA256 ? fixture->ed25519_pem : fixture->rsa_pem;
}

static const char *
fixture_get_path(Fixture *fixture, OpDkimAlgorithm algorithm)
{
	return algorithm == OP_DKIM_ED25519_SHA256 ? fixture->ed25519_path : fixture->rsa_path;
}

static char *
sign_text(Fixture *fixture, OpDkimAlgorithm algorithm, const char *message, GError **error)
{
	g_autoptr(GBytes) bytes = g_bytes_new(message, strlen(message));

	return op_dkim_sign(fixture->signer, TEST_DOMAIN, TEST_SELECTOR, algorithm,
			    fixture_get_pem(fixture, algorithm), bytes, error);
}

/* Removes folding and all whitespace, which DKIM ignores inside tag values
 * (RFC 6376 §3.2), so tags can be compared as plain strings. */
static char *
dup_compact_header(const char *header)
{
	GString *out = g_string_new(NULL);
	const char *cursor;

	for (cursor = header; *cursor != '\0'; cursor++) {
		if (!g_ascii_isspace(*cursor))
			g_string_append_c(out, *cursor);
	}
	return g_string_free(out, FALSE);
}

/* Returns the value of tag in a DKIM-Signature header, or NULL. */
static char *
dup_tag(const char *header, const char *tag)
{
	g_autofree char *compact = dup_compact_header(header);
	g_auto(GStrv) tags = NULL;
	const char *value = strchr(compact, ':');
	guint i;

	g_assert_nonnull(value);
	tags = g_strsplit(value + 1, ";", -1);
	for (i = 0; tags[i] != NULL; i++) {
		const char *equals = strchr(tags[i], '=');

		if (equals != NULL && strncmp(tags[i], tag, (gsize)(equals - tags[i])) == 0 &&
		    strlen(tag) == (gsize)(equals - tags[i]))
			return g_strdup(equals + 1);
	}
	return NULL;
}

static gboolean
python_has_module(const char *module)
{
	g_autofree char *command = g_strdup_printf("/usr/bin/python3 -c 'import %s'", module);
	int status = -1;

	if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
		return FALSE;
	if (!g_spawn_command_line_sync(command, NULL, NULL, &status, NULL))
		return FALSE;
	return g_spawn_check_wait_status(status, NULL);
}

/* Returns TRUE if dkimpy can verify signing; skips the test and returns FALSE
 * otherwise. */
static gboolean
require_dkimpy(OpDkimAlgorithm algorithm)
{
	if (!python_has_module("dkim")) {
		g_test_skip("/usr/bin/python3 lacks dkim: apt-get install python3-dkim");
		return FALSE;
	}
	if (algorithm == OP_DKIM_ED25519_SHA256 && !python_has_module("nacl")) {
		g_test_skip("/usr/bin/python3 lacks nacl: apt-get install python3-nacl");
		return FALSE;
	}
	return TRUE;
}

/* Runs dkimpy on the signed message and returns whether it verified. */
static gboolean
dkimpy_verify(const char *txt, const char *signed_message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GBytes) input = g_bytes_new(signed_message, strlen(signed_message));
	g_autoptr(GBytes) stderr_bytes = NULL;
	const char *expected = TEST_SELECTOR "._domainkey." TEST_DOMAIN ".";

	process = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
					   G_SUBPROCESS_FLAGS_STDERR_PIPE,
				   &error, "/usr/bin/python3", "-c", verify_script, txt,
				   expected, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate(process, input, NULL, NULL, &stderr_bytes, &error);
	g_assert_no_error(error);
	if (g_bytes_get_size(stderr_bytes) > 0)
		g_test_message("dkimpy: %.*s", (int)g_bytes_get_size(stderr_bytes),
			       (const char *)g_bytes_get_data(stderr_bytes, NULL));
	return g_subprocess_get_if_exited(process) && g_subprocess_get_exit_status(process) == 0;
}

static void
test_generate_key(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	OpDkimAlgorithm algorithm = GPOINTER_TO_INT(user_data);
	const char *path = fixture_get_path(fixture, algorithm);
	g_autoptr(GError) error = NULL;
	OpDkimAlgorithm detected;
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(g_str_has_prefix(fixture_get_pem(fixture, algorithm),
				       "-----BEGIN PRIVATE KEY-----\n"));
	g_assert_true(op_dkim_detect_algorithm(fixture_get_pem(fixture, algorithm), &detected,
					       &error));
	g_assert_cmpint(detected, ==, algorithm);

	/* A second key must never replace the published one. */
	g_assert_false(op_dkim_generate_key(path, algorithm, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_EXISTS);
}

static void
test_generate_key_no_temp_left(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	g_autoptr(GDir) dir = g_dir_open(fixture->dir, 0, NULL);
	const char *name;
	guint count = 0;

	while ((name = g_dir_read_name(dir)) != NULL) {
		g_assert_false(g_str_has_prefix(name, "."));
		count++;
	}
	g_assert_cmpuint(count, ==, 2);
}

static void
test_public_txt_rsa(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	g_autoptr(GError) error = NULL;
	g_autofree char *txt = op_dkim_dup_public_txt(fixture->rsa_path, &error);
	g_autofree guchar *der = NULL;
	const guchar *cursor;
	EVP_PKEY *pkey;
	gsize der_len;

	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(txt, "v=DKIM1; k=rsa; p="));
	der = g_base64_decode(txt + strlen("v=DKIM1; k=rsa; p="), &der_len);
	cursor = der;
	pkey = d2i_PUBKEY(NULL, &cursor, (long)der_len);
	g_assert_nonnull(pkey);
	g_assert_true(EVP_PKEY_is_a(pkey, "RSA"));
	g_assert_cmpint(EVP_PKEY_get_bits(pkey), ==, 2048);
	EVP_PKEY_free(pkey);
}

static void
test_public_txt_ed25519(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	g_autoptr(GError) error = NULL;
	g_autofree char *txt = op_dkim_dup_public_txt(fixture->ed25519_path, &error);
	g_autofree guchar *raw = NULL;
	gsize raw_len;

	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(txt, "v=DKIM1; k=ed25519; p="));
	raw = g_base64_decode(txt + strlen("v=DKIM1; k=ed25519; p="), &raw_len);
	g_assert_cmpuint(raw_len, ==, 32);
}

static void
test_public_txt_missing(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *txt = op_dkim_dup_public_txt("/nonexistent/key.pem", &error);

	g_assert_null(txt);
	g_assert_nonnull(error);
}

static const char *const verify_messages[] = {
	"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hi\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n"
	"\r\nHello Bob,\r\n\r\nsee you.\r\n",
	/* RFC 6376 §3.4.2: a folded field unfolds to "list-unsubscribe:<mailto:...>". */
	"From: alice@example.org\r\nList-Unsubscribe:\r\n <mailto:u@example.org>\r\n"
	"Subject:  a \t b  \r\n\r\nbody\r\n",
	/* No body and no empty line. */
	"From: alice@example.org\r\nSubject: header only\r\n",
	/* No final CRLF at all. */
	"From: alice@example.org\r\n\r\nHi",
	"From: alice@example.org\r\nSubject: trailing space\r\n\r\nHello!\r\n  \r\n\r\n",
	/* A line starting with a dot is hashed as sent, before dot-stuffing. */
	"From: alice@example.org\r\n\r\n.leading dot\r\n..two\r\n",
};

static void
test_sign_verifies(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	OpDkimAlgorithm algorithm = GPOINTER_TO_INT(user_data);
	g_autofree char *txt = NULL;
	gsize i;

	if (!require_dkimpy(algorithm))
		return;
	txt = op_dkim_dup_public_txt(fixture_get_path(fixture, algorithm), NULL);
	g_assert_nonnull(txt);

	for (i = 0; i < G_N_ELEMENTS(verify_messages); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *header = sign_text(fixture, algorithm, verify_messages[i],
						    &error);
		g_autofree char *signed_message = NULL;

		g_test_message("message %" G_GSIZE_FORMAT, i);
		g_assert_no_error(error);
		g_assert_true(g_str_has_prefix(header, "DKIM-Signature: "));
		g_assert_true(g_str_has_suffix(header, "\r\n"));
		signed_message = g_strconcat(header, verify_messages[i], NULL);
		g_assert_true(dkimpy_verify(txt, signed_message));
	}
}

/* The verifier must also be able to fail, or the test above proves nothing. */
static void
test_sign_tampered_fails(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	OpDkimAlgorithm algorithm = GPOINTER_TO_INT(user_data);
	const char *message = "From: alice@example.org\r\nSubject: s\r\n\r\nPay 10 EUR\r\n";
	g_autofree char *txt = NULL;
	g_autofree char *header = NULL;
	g_autofree char *tampered = NULL;
	g_autofree char *added_from = NULL;

	if (!require_dkimpy(algorithm))
		return;
	txt = op_dkim_dup_public_txt(fixture_get_path(fixture, algorithm), NULL);
	header = sign_text(fixture, algorithm, message, NULL);
	g_assert_nonnull(header);

	tampered = g_strconcat(header, "From: alice@example.org\r\nSubject: s\r\n\r\n"
				       "Pay 99 EUR\r\n", NULL);
	g_assert_false(dkimpy_verify(txt, tampered));

	/* Oversigning: a second From: added on the way makes the signature fail. */
	added_from = g_strconcat(header, "From: mallory@example.net\r\n", message, NULL);
	g_assert_false(dkimpy_verify(txt, added_from));
}

static void
test_sign_body_hash(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	static const struct {
		const char *body;
		const char *bh;
	} cases[] = {
		/* RFC 6376 §3.4.4: relaxed, an empty body is hashed as empty. */
		{ "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
		{ "Hello!\r\n  \r\n\r\n", "EVfAHeUMDygbJe0SkMWJHjgXGjtiTLZnMQbyWqzsrCY=" },
		/* A missing final CRLF is added before hashing (the hash of "Hi\r\n"). */
		{ "Hi", "j+uJ1+KwQjMpdNiCngwvlv2FTzZnzkokoCYASnN36NE=" },
		{ "Hi\r\n\r\n\r\n", "j+uJ1+KwQjMpdNiCngwvlv2FTzZnzkokoCYASnN36NE=" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *message = g_strconcat("From: alice@example.org\r\n\r\n",
						       cases[i].body, NULL);
		g_autofree char *header = sign_text(fixture, OP_DKIM_RSA_SHA256, message, NULL);
		g_autofree char *bh = NULL;

		g_assert_nonnull(header);
		bh = dup_tag(header, "bh");
		g_assert_cmpstr(bh, ==, cases[i].bh);
	}
}

static void
test_sign_tags(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	OpDkimAlgorithm algorithm = GPOINTER_TO_INT(user_data);
	g_autofree char *header = sign_text(fixture, algorithm, verify_messages[0], NULL);
	g_autofree char *a = dup_tag(header, "a");
	g_autofree char *c = dup_tag(header, "c");
	g_autofree char *d = dup_tag(header, "d");
	g_autofree char *s = dup_tag(header, "s");
	g_autofree char *l = dup_tag(header, "l");

	g_assert_cmpstr(a, ==,
			algorithm == OP_DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256");
	g_assert_cmpstr(c, ==, "relaxed/relaxed");
	g_assert_cmpstr(d, ==, TEST_DOMAIN);
	g_assert_cmpstr(s, ==, TEST_SELECTOR);
	g_assert_null(l);
}

static guint
count_in_list(char **names, const char *name)
{
	guint count = 0;
	guint i;

	for (i = 0; names[i] != NULL; i++) {
		if (g_ascii_strcasecmp(names[i], name) == 0)
			count++;
	}
	return count;
}

static void
test_sign_signed_headers(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	const char *message = "From: alice@example.org\r\nTo: bob@example.net\r\n"
			      "X-Mailer: test\r\nList-Unsubscribe:\r\n <mailto:u@example.org>\r\n"
			      "Subject: s\r\n\r\nbody\r\n";
	g_autofree char *header = sign_text(fixture, OP_DKIM_RSA_SHA256, message, NULL);
	g_autofree char *h = NULL;
	g_auto(GStrv) names = NULL;

	g_assert_nonnull(header);
	h = dup_tag(header, "h");
	g_assert_nonnull(h);
	names = g_strsplit(h, ":", -1);
	/* Present once and oversigned once more (RFC 6376 §8.15). */
	g_assert_cmpuint(count_in_list(names, "from"), ==, 2);
	g_assert_cmpuint(count_in_list(names, "to"), ==, 2);
	g_assert_cmpuint(count_in_list(names, "subject"), ==, 2);
	g_assert_cmpuint(count_in_list(names, "list-unsubscribe"), ==, 1);
	g_assert_cmpuint(count_in_list(names, "x-mailer"), ==, 0);
}

static void
test_sign_wrong_key_type(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	g_autoptr(GBytes) message = g_bytes_new_static("From: a@example.org\r\n\r\nx\r\n", 27);
	g_autoptr(GError) error = NULL;
	g_autofree char *rsa_as_ed = NULL;
	g_autofree char *ed_as_rsa = NULL;

	rsa_as_ed = op_dkim_sign(fixture->signer, TEST_DOMAIN, TEST_SELECTOR,
				 OP_DKIM_ED25519_SHA256, fixture->rsa_pem, message, &error);
	g_assert_null(rsa_as_ed);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	ed_as_rsa = op_dkim_sign(fixture->signer, TEST_DOMAIN, TEST_SELECTOR,
				 OP_DKIM_RSA_SHA256, fixture->ed25519_pem, message, &error);
	g_assert_null(ed_as_rsa);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

static void
test_sign_invalid_key(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	g_autoptr(GBytes) message = g_bytes_new_static("From: a@example.org\r\n\r\nx\r\n", 27);
	g_autoptr(GError) error = NULL;
	g_autofree char *header = NULL;

	header = op_dkim_sign(fixture->signer, TEST_DOMAIN, TEST_SELECTOR, OP_DKIM_RSA_SHA256,
			      "not a key", message, &error);
	g_assert_null(header);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

static void
test_sign_invalid_message(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	static const char *const messages[] = {
		"To: bob@example.net\r\nSubject: no from\r\n\r\nbody\r\n",
		"From: a@example.org\r\nFrom: b@example.org\r\n\r\nbody\r\n",
		"\r\nbody only\r\n",
		"",
		"From: a@example.org\r\nthis is not a header field\r\n\r\nbody\r\n",
		" From: a@example.org\r\n\r\nbody\r\n",
		"From: a@example.org\r\nSubject: bare\nLF\r\n\r\nbody\r\n",
		"From: a@example.org\r\nSubject: bare\rCR\r\n\r\nbody\r\n",
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(messages); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *header = sign_text(fixture, OP_DKIM_ED25519_SHA256, messages[i],
						    &error);

		g_test_message("message %" G_GSIZE_FORMAT, i);
		g_assert_null(header);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

typedef struct {
	Fixture *fixture;
	OpDkimAlgorithm algorithm;
} ThreadData;

static gpointer
sign_many_thread(gpointer user_data)
{
	ThreadData *data = user_data;
	guint i;

	for (i = 0; i < 50; i++) {
		const char *message = verify_messages[i % G_N_ELEMENTS(verify_messages)];
		g_autofree char *header = sign_text(data->fixture, data->algorithm, message,
						    NULL);

		if (header == NULL)
			return GINT_TO_POINTER(FALSE);
	}
	return GINT_TO_POINTER(TRUE);
}

/* One signer serves all submission threads at once. */
static void
test_sign_threads(gconstpointer user_data)
{
	Fixture *fixture = &keys;
	ThreadData data[4];
	GThread *threads[4];
	guint i;

	for (i = 0; i < G_N_ELEMENTS(threads); i++) {
		data[i].fixture = fixture;
		data[i].algorithm = i % 2 ? OP_DKIM_ED25519_SHA256 : OP_DKIM_RSA_SHA256;
		threads[i] = g_thread_new("sign", sign_many_thread, &data[i]);
	}
	for (i = 0; i < G_N_ELEMENTS(threads); i++)
		g_assert_true(GPOINTER_TO_INT(g_thread_join(threads[i])));
}

int
main(int argc, char **argv)
{
	gconstpointer rsa = GINT_TO_POINTER(OP_DKIM_RSA_SHA256);
	gconstpointer ed25519 = GINT_TO_POINTER(OP_DKIM_ED25519_SHA256);
	int status;

	g_test_init(&argc, &argv, NULL);

	g_test_add_data_func("/dkim/key/generate-rsa", rsa, test_generate_key);
	g_test_add_data_func("/dkim/key/generate-ed25519", ed25519, test_generate_key);
	g_test_add_data_func("/dkim/key/no-temp-file-left", NULL, test_generate_key_no_temp_left);
	g_test_add_data_func("/dkim/txt/rsa", NULL, test_public_txt_rsa);
	g_test_add_data_func("/dkim/txt/ed25519", NULL, test_public_txt_ed25519);
	g_test_add_func("/dkim/txt/missing-key", test_public_txt_missing);
	g_test_add_data_func("/dkim/sign/verify-rsa", rsa, test_sign_verifies);
	g_test_add_data_func("/dkim/sign/verify-ed25519", ed25519, test_sign_verifies);
	g_test_add_data_func("/dkim/sign/tampered-rsa", rsa, test_sign_tampered_fails);
	g_test_add_data_func("/dkim/sign/tampered-ed25519", ed25519, test_sign_tampered_fails);
	g_test_add_data_func("/dkim/sign/body-hash", NULL, test_sign_body_hash);
	g_test_add_data_func("/dkim/sign/tags-rsa", rsa, test_sign_tags);
	g_test_add_data_func("/dkim/sign/tags-ed25519", ed25519, test_sign_tags);
	g_test_add_data_func("/dkim/sign/signed-headers", NULL, test_sign_signed_headers);
	g_test_add_data_func("/dkim/sign/wrong-key-type", NULL, test_sign_wrong_key_type);
	g_test_add_data_func("/dkim/sign/invalid-key", NULL, test_sign_invalid_key);
	g_test_add_data_func("/dkim/sign/invalid-message", NULL, test_sign_invalid_message);
	g_test_add_data_func("/dkim/sign/threads", NULL, test_sign_threads);
	fixture_set_up(&keys);
	status = g_test_run();
	fixture_tear_down(&keys);
	return status;
}
