/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the MAIL/RCPT path parser, its ESMTP parameters, the addr-spec
 * parser and the From:/Sender: header address parser.
 */
#include "smtp/op-address.h"

#include "op-error.h"

#include <string.h>

typedef struct {
	const char *args;
	const char *keyword;
	const char *mailbox;
	const char *local_part;
	const char *domain;
	const char *domain_ascii;
	gboolean utf8;
} PathCase;

static const PathCase path_cases[] = {
	{"FROM:<user@example.org>", "FROM:", "user@example.org", "user", "example.org",
	 "example.org", FALSE},
	{"from:<User.Name+tag@Example.ORG>", "FROM:", "User.Name+tag@example.org",
	 "User.Name+tag", "example.org", "example.org", FALSE},
	{"TO:<user@example.org>", "TO:", "user@example.org", "user", "example.org",
	 "example.org", FALSE},
	{"FROM: <user@example.org>", "FROM:", "user@example.org", "user", "example.org",
	 "example.org", FALSE},
	{"FROM:<>", "FROM:", "", "", "", "", FALSE},
	{"TO:<postmaster>", "TO:", "postmaster", "postmaster", "", "", FALSE},
	{"TO:<PostMaster>", "TO:", "postmaster", "PostMaster", "", "", FALSE},
	{"TO:<\"john doe\"@example.org>", "TO:", "\"john doe\"@example.org", "\"john doe\"",
	 "example.org", "example.org", FALSE},
	{"TO:<\"a\\\"b\"@example.org>", "TO:", "\"a\\\"b\"@example.org", "\"a\\\"b\"",
	 "example.org", "example.org", FALSE},
	{"TO:<\"a>b\"@example.org>", "TO:", "\"a>b\"@example.org", "\"a>b\"", "example.org",
	 "example.org", FALSE},
	{"TO:<\"\"@example.org>", "TO:", "\"\"@example.org", "\"\"", "example.org",
	 "example.org", FALSE},
	{"TO:<@a.example,@b.example:user@d.example>", "TO:", "user@d.example", "user",
	 "d.example", "d.example", FALSE},
	{"FROM:<@a.example:user@d.example>", "FROM:", "user@d.example", "user", "d.example",
	 "d.example", FALSE},
	{"TO:<user@b\xc3\xbc" "cher.example>", "TO:", "user@b\xc3\xbc" "cher.example", "user",
	 "b\xc3\xbc" "cher.example", "xn--bcher-kva.example", TRUE},
	{"TO:<user@B\xc3\xbc" "cher.Example>", "TO:", "user@b\xc3\xbc" "cher.example", "user",
	 "b\xc3\xbc" "cher.example", "xn--bcher-kva.example", TRUE},
	{"TO:<a@\xef\xbc\xa1" "bc.example>", "TO:", "a@abc.example", "a", "abc.example",
	 "abc.example", TRUE},
	{"TO:<user@xn--bcher-kva.example>", "TO:", "user@xn--bcher-kva.example", "user",
	 "xn--bcher-kva.example", "xn--bcher-kva.example", FALSE},
	{"FROM:<j\xc3\xb6rg@example.org>", "FROM:", "j\xc3\xb6rg@example.org",
	 "j\xc3\xb6rg", "example.org", "example.org", TRUE},
	{"FROM:<\"j\xc3\xb6rg x\"@example.org>", "FROM:", "\"j\xc3\xb6rg x\"@example.org",
	 "\"j\xc3\xb6rg x\"", "example.org", "example.org", TRUE},
	{"TO:<user@[192.0.2.1]>", "TO:", "user@[192.0.2.1]", "user", "[192.0.2.1]",
	 "[192.0.2.1]", FALSE},
	{"TO:<user@[IPv6:2001:db8::1]>", "TO:", "user@[ipv6:2001:db8::1]", "user",
	 "[ipv6:2001:db8::1]", "[ipv6:2001:db8::1]", FALSE},
	{"TO:<user@localhost>", "TO:", "user@localhost", "user", "localhost", "localhost",
	 FALSE},
	{"TO:<!#$%&'*+-/=?^_`{|}~@example.org>", "TO:", "!#$%&'*+-/=?^_`{|}~@example.org",
	 "!#$%&'*+-/=?^_`{|}~", "example.org", "example.org", FALSE},
	{"TO:<a@a-b.c-d.example>", "TO:", "a@a-b.c-d.example", "a", "a-b.c-d.example",
	 "a-b.c-d.example", FALSE},
};

static void
test_path_valid(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(path_cases); i++) {
		const PathCase *test = &path_cases[i];
		g_auto(OpSmtpPath) path = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_autofree char *shown = g_strescape(test->args, NULL);

		g_test_message("args \"%s\"", shown);
		ok = op_smtp_path_parse(test->args, test->keyword, &path, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
		g_assert_cmpstr(path.mailbox, ==, test->mailbox);
		g_assert_cmpstr(path.local_part, ==, test->local_part);
		g_assert_cmpstr(path.domain, ==, test->domain);
		g_assert_cmpstr(path.domain_ascii, ==, test->domain_ascii);
		g_assert_cmpint(path.utf8, ==, test->utf8);
		g_assert_nonnull(path.params);
		g_assert_cmpuint(path.params->len, ==, 0);
	}
}

typedef struct {
	const char *name;
	const char *args;
	const char *keyword;
} InvalidPathCase;

static const InvalidPathCase invalid_path_cases[] = {
	{"shell", "FROM:<;sleep 66;>", "FROM:"},
	{"semicolon", "FROM:<a;b@example.org>", "FROM:"},
	{"no-brackets", "FROM:user@example.org", "FROM:"},
	{"no-close", "FROM:<user@example.org", "FROM:"},
	{"no-open", "FROM:user@example.org>", "FROM:"},
	{"two-spaces", "FROM:  <user@example.org>", "FROM:"},
	{"wrong-keyword", "TO:<user@example.org>", "FROM:"},
	{"no-keyword", "<user@example.org>", "FROM:"},
	{"null-recipient", "TO:<>", "TO:"},
	{"postmaster-sender", "FROM:<postmaster>", "FROM:"},
	{"no-domain", "TO:<user>", "TO:"},
	{"empty-domain", "TO:<user@>", "TO:"},
	{"empty-local", "TO:<@example.org>", "TO:"},
	{"leading-dot", "TO:<.user@example.org>", "TO:"},
	{"trailing-dot", "TO:<user.@example.org>", "TO:"},
	{"double-dot", "TO:<us..er@example.org>", "TO:"},
	{"two-ats", "TO:<a@b@example.org>", "TO:"},
	{"space-local", "TO:<john doe@example.org>", "TO:"},
	{"unterminated-quote", "TO:<\"john@example.org>", "TO:"},
	{"quote-then-text", "TO:<\"a\"b@example.org>", "TO:"},
	{"quoted-tab", "TO:<\"a\tb\"@example.org>", "TO:"},
	{"bare-backslash", "TO:<a\\b@example.org>", "TO:"},
	{"domain-underscore", "TO:<a@ex_ample.org>", "TO:"},
	{"domain-trailing-dot", "TO:<a@example.org.>", "TO:"},
	{"domain-leading-dot", "TO:<a@.example.org>", "TO:"},
	{"domain-empty-label", "TO:<a@example..org>", "TO:"},
	{"label-leading-hyphen", "TO:<a@-example.org>", "TO:"},
	{"label-trailing-hyphen", "TO:<a@example-.org>", "TO:"},
	{"domain-space", "TO:<a@exam ple.org>", "TO:"},
	{"domain-semicolon", "TO:<a@example.org;rm>", "TO:"},
	{"literal-bad-ipv4", "TO:<a@[192.0.2.256]>", "TO:"},
	{"literal-short-ipv4", "TO:<a@[192.0.2]>", "TO:"},
	{"literal-untagged-ipv6", "TO:<a@[2001:db8::1]>", "TO:"},
	{"literal-ipv4-as-ipv6", "TO:<a@[IPv6:192.0.2.1]>", "TO:"},
	{"literal-scope", "TO:<a@[IPv6:fe80::1%eth0]>", "TO:"},
	{"literal-general", "TO:<a@[x400:abc]>", "TO:"},
	{"literal-unterminated", "TO:<a@[192.0.2.1>", "TO:"},
	{"literal-name", "TO:<a@[example.org]>", "TO:"},
	{"bad-route", "TO:<@a_b.example:user@d.example>", "TO:"},
	{"route-no-colon", "TO:<@a.example,user@d.example>", "TO:"},
	{"route-empty", "TO:<@:user@d.example>", "TO:"},
	{"bad-utf8", "TO:<\xff@example.org>", "TO:"},
	{"bad-idn", "TO:<a@\xe2\x80\x8b.example>", "TO:"},
	{"bad-punycode", "TO:<a@xn--1a.example>", "TO:"},
	{"bad-punycode-utf8", "TO:<u@l\xc2\xbcx.xn--1a>", "TO:"},
	{"control", "TO:<a\x01@example.org>", "TO:"},
	{"text-after", "TO:<a@example.org>x", "TO:"},
	{"empty", "", "TO:"},
};

static void
test_path_invalid(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(invalid_path_cases); i++) {
		const InvalidPathCase *test = &invalid_path_cases[i];
		g_auto(OpSmtpPath) path = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_test_message("case %s", test->name);
		ok = op_smtp_path_parse(test->args, test->keyword, &path, &error);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_false(ok);
		g_assert_null(path.mailbox);
	}
}

static char *
repeat(char c, gsize count)
{
	char *text = g_malloc(count + 1);

	memset(text, c, count);
	text[count] = '\0';
	return text;
}

/* RFC 5321 §4.5.3.1: local part 64, domain 255, path 256 octets with its
 * brackets. */
static void
test_path_lengths(void)
{
	g_autofree char *local64 = repeat('a', 64);
	g_autofree char *local65 = repeat('a', 65);
	g_autofree char *label63 = repeat('b', 63);
	g_autofree char *label64 = repeat('b', 64);
	/* Four labels of 63 and three dots: 255 octets. */
	g_autofree char *domain255 = g_strjoin(".", label63, label63, label63, label63, NULL);
	/* 255 - 66 = 189 octets, so "<" local64 "@" domain189 ">" is 256. */
	const char *domain189 = domain255 + 66;
	struct {
		char *args;
		gboolean ok;
	} cases[] = {
		{g_strdup_printf("TO:<%s@example.org>", local64), TRUE},
		{g_strdup_printf("TO:<%s@example.org>", local65), FALSE},
		{g_strdup_printf("TO:<a@%s.example>", label63), TRUE},
		{g_strdup_printf("TO:<a@%s.example>", label64), FALSE},
		{g_strdup_printf("TO:<%s@%s>", local64, domain189), TRUE},
		{g_strdup_printf("TO:<%s@b%s>", local64, domain189), FALSE},
		{g_strdup_printf("TO:<a@%s>", domain255), FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(OpSmtpPath) path = {0};
		g_autoptr(GError) error = NULL;

		g_test_message("case %u", i);
		g_assert_cmpint(op_smtp_path_parse(cases[i].args, "TO:", &path, &error), ==,
				cases[i].ok);
		if (cases[i].ok)
			g_assert_no_error(error);
		else
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_free(cases[i].args);
	}
}

static void
test_mailbox_lengths(void)
{
	g_autofree char *label63 = repeat('b', 63);
	g_autofree char *domain255 = g_strjoin(".", label63, label63, label63, label63, NULL);
	g_autofree char *address255 = g_strdup_printf("a@%s", domain255);
	g_autofree char *address256 = g_strdup_printf("a@c%s", domain255);
	g_autofree char *domain = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(op_address_parse_mailbox(address255, NULL, &domain, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(domain), ==, 255);

	g_assert_false(op_address_parse_mailbox(address256, NULL, NULL, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

static void
test_path_params(void)
{
	g_auto(OpSmtpPath) path = {0};
	g_autoptr(GError) error = NULL;
	const OpSmtpParam *param;

	g_assert_true(op_smtp_path_parse("FROM:<a@example.org> size=100 BODY=8BITMIME SMTPUTF8",
					 "FROM:", &path, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(path.params->len, ==, 3);

	param = g_ptr_array_index(path.params, 0);
	g_assert_cmpstr(param->keyword, ==, "SIZE");
	g_assert_cmpstr(param->value, ==, "100");
	param = g_ptr_array_index(path.params, 2);
	g_assert_cmpstr(param->keyword, ==, "SMTPUTF8");
	g_assert_null(param->value);

	g_assert_cmpstr(op_smtp_path_get_param(&path, "SIZE"), ==, "100");
	g_assert_cmpstr(op_smtp_path_get_param(&path, "body"), ==, "8BITMIME");
	g_assert_null(op_smtp_path_get_param(&path, "SMTPUTF8"));
	g_assert_null(op_smtp_path_get_param(&path, "RET"));
	g_assert_true(op_smtp_path_has_param(&path, "smtputf8"));
	g_assert_true(op_smtp_path_has_param(&path, "SIZE"));
	g_assert_false(op_smtp_path_has_param(&path, "RET"));
}

typedef struct {
	const char *args;
	gboolean ok;
	guint count;
} ParamCase;

static const ParamCase param_cases[] = {
	{"FROM:<> SIZE=100", TRUE, 1},
	{"FROM:<a@example.org>  SIZE=100   BODY=7BIT", TRUE, 2},
	{"FROM:<a@example.org> ENVID=QQ314159 RET=HDRS", TRUE, 2},
	{"FROM:<a@example.org> AUTH=<>", TRUE, 1},
	{"FROM:<a@example.org> X-ID=caf\xc3\xa9", TRUE, 1},
	{"FROM:<a@example.org> SIZE=100 size=200", FALSE, 0},
	{"FROM:<a@example.org> SMTPUTF8 SMTPUTF8", FALSE, 0},
	{"FROM:<a@example.org> SIZE=", FALSE, 0},
	{"FROM:<a@example.org> =100", FALSE, 0},
	{"FROM:<a@example.org> -X=1", FALSE, 0},
	{"FROM:<a@example.org> SI_ZE=1", FALSE, 0},
	{"FROM:<a@example.org> SIZE=1=2", FALSE, 0},
	{"FROM:<a@example.org> SIZE=1\t", FALSE, 0},
	{"FROM:<a@example.org>SIZE=1", FALSE, 0},
};

static void
test_path_param_cases(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(param_cases); i++) {
		const ParamCase *test = &param_cases[i];
		g_auto(OpSmtpPath) path = {0};
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_autofree char *shown = g_strescape(test->args, NULL);

		g_test_message("args \"%s\"", shown);
		ok = op_smtp_path_parse(test->args, "FROM:", &path, &error);
		g_assert_cmpint(ok, ==, test->ok);
		if (!test->ok) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpuint(path.params->len, ==, test->count);
	}
}

typedef struct {
	const char *text;
	/* NULL when parsing must fail. */
	const char *local_part;
	const char *domain;
} MailboxCase;

static const MailboxCase mailbox_cases[] = {
	{"user@Example.ORG", "user", "example.org"},
	{"\"a b\"@example.org", "\"a b\"", "example.org"},
	{"j\xc3\xb6rg@b\xc3\xbc" "cher.example", "j\xc3\xb6rg", "b\xc3\xbc" "cher.example"},
	{"user@[192.0.2.1]", "user", "[192.0.2.1]"},
	{"user", NULL, NULL},
	{"<user@example.org>", NULL, NULL},
	{"user@example.org ", NULL, NULL},
	{"a;b@example.org", NULL, NULL},
	{"", NULL, NULL},
};

static void
test_parse_mailbox(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(mailbox_cases); i++) {
		const MailboxCase *test = &mailbox_cases[i];
		g_autofree char *local_part = NULL;
		g_autofree char *domain = NULL;
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_autofree char *shown = g_strescape(test->text, NULL);

		g_test_message("text \"%s\"", shown);
		ok = op_address_parse_mailbox(test->text, &local_part, &domain, &error);
		if (test->local_part == NULL) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_false(ok);
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ok);
		g_assert_cmpstr(local_part, ==, test->local_part);
		g_assert_cmpstr(domain, ==, test->domain);
	}
}

typedef struct {
	const char *value;
	/* The addresses joined with " ", NULL when parsing must fail. */
	const char *addresses;
} HeaderCase;

static const HeaderCase header_cases[] = {
	{"john@example.org", "john@example.org"},
	{"John Doe <john@Example.ORG>", "john@example.org"},
	{"\"Doe, John\" <john@example.org>", "john@example.org"},
	{"john@example.org (John)", "john@example.org"},
	{"(comment (nested)) john@example.org", "john@example.org"},
	{"<john@example.org>", "john@example.org"},
	{"=?utf-8?q?x?= <a@b.example>", "a@b.example"},
	{"=?utf-8?B?SsO2cmc=?= <a@b.example>", "a@b.example"},
	{"John Q. Public <jqp@example.org>", "jqp@example.org"},
	{"a@b.example, \"C\" <c@d.example>", "a@b.example c@d.example"},
	{"Team: a@b.example, C <c@d.example>;", "a@b.example c@d.example"},
	{"Team: a@b.example;, e@f.example", "a@b.example e@f.example"},
	{"Team: ;, e@f.example", "e@f.example"},
	{"Team: ; e@f.example", NULL},
	{"John\r\n Doe\r\n\t<john@example.org>", "john@example.org"},
	{"\"john doe\"@example.org", "\"john doe\"@example.org"},
	{"john . doe @ example . org", "john.doe@example.org"},
	{"J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>",
	 "j\xc3\xb6rg@b\xc3\xbc" "cher.example"},
	{"<@route.example:john@example.org>", "john@example.org"},
	{"a@[192.0.2.1]", "a@[192.0.2.1]"},
	{"", NULL},
	{"   ", NULL},
	{"John Doe", NULL},
	{"undisclosed-recipients:;", NULL},
	{"John <john@example.org", NULL},
	{"John <>", NULL},
	{"\"unterminated <john@example.org>", NULL},
	{"(unterminated john@example.org", NULL},
	{"john@example.org bob@example.org", NULL},
	{"john doe@example.org", NULL},
	{"<a;b@example.org>", NULL},
	{"john@", NULL},
	{"@example.org", NULL},
	{"Team: a@b.example", NULL},
	{"Outer: Inner: a@b.example;;", NULL},
	{"a@b.example\r\nBcc: c@d.example", NULL},
	{"a@b.example\nX: y", NULL},
	{"a\\b@example.org", NULL},
	{"a@\"example\".org", NULL},
	{"\xff@example.org", NULL},
};

static void
test_parse_header(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(header_cases); i++) {
		const HeaderCase *test = &header_cases[i];
		g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		g_autofree char *joined = NULL;
		gboolean ok;

		g_autofree char *shown = g_strescape(test->value, NULL);

		g_test_message("value \"%s\"", shown);
		ok = op_address_parse_header(test->value, addresses, &error);
		if (test->addresses == NULL) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_false(ok);
			g_assert_cmpuint(addresses->len, ==, 0);
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ok);
		g_ptr_array_add(addresses, NULL);
		joined = g_strjoinv(" ", (char **)addresses->pdata);
		g_assert_cmpstr(joined, ==, test->addresses);
	}
}

/* Addresses already in the array stay, and a failure adds none. */
static void
test_parse_header_appends(void)
{
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(addresses, g_strdup("first@example.org"));
	g_assert_true(op_address_parse_header("a@b.example", addresses, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(addresses->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(addresses, 1), ==, "a@b.example");

	g_assert_false(op_address_parse_header("c@d.example, bad;", addresses, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_cmpuint(addresses->len, ==, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/smtp/address/path-valid", test_path_valid);
	g_test_add_func("/smtp/address/path-invalid", test_path_invalid);
	g_test_add_func("/smtp/address/path-lengths", test_path_lengths);
	g_test_add_func("/smtp/address/mailbox-lengths", test_mailbox_lengths);
	g_test_add_func("/smtp/address/params", test_path_params);
	g_test_add_func("/smtp/address/param-cases", test_path_param_cases);
	g_test_add_func("/smtp/address/mailbox", test_parse_mailbox);
	g_test_add_func("/smtp/address/header", test_parse_header);
	g_test_add_func("/smtp/address/header-appends", test_parse_header_appends);
	return g_test_run();
}
