/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SPF record syntax (RFC 7208 §4.6, §12), lookup counting, address matching
 * and the merge of a server's terms into an existing record.
 */
#include <string.h>

#include "dns/op-spf-record.h"
#include "op-error.h"

typedef struct {
	const char *text;
	guint terms;
	guint lookups;
} ValidCase;

static const ValidCase valid_cases[] = {
	{"v=spf1", 0, 0},
	{"v=spf1 ", 0, 0},
	{"V=SPF1 -ALL", 1, 0},
	{"v=spf1 +all", 1, 0},
	{"v=spf1 a mx -all", 3, 2},
	{"v=spf1  a   mx  ~all  ", 3, 2},
	{"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 ~all", 3, 0},
	{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", 3, 0},
	{"v=spf1 ip4:0.0.0.0/0 ?all", 2, 0},
	{"v=spf1 ip6:::ffff:192.0.2.1 -all", 2, 0},
	{"v=spf1 a:mail.example.org/24//64 mx/28 mx//96 -all", 4, 3},
	{"v=spf1 include:_spf.example.net include:_spf.example.com -all", 3, 2},
	{"v=spf1 ptr ptr:example.org exists:%{i}.bl.example.org -all", 4, 3},
	{"v=spf1 redirect=_spf.example.org", 1, 1},
	{"v=spf1 mx redirect=_spf.example.org", 2, 2},
	/* redirect= is ignored when the record has "all" (RFC 7208 §6.1). */
	{"v=spf1 mx -all redirect=_spf.example.org", 3, 1},
	/* Mechanisms after "all" are never evaluated (§5.1). */
	{"v=spf1 -all a mx include:example.net", 4, 0},
	{"v=spf1 -all exp=explain.example.org", 2, 0},
	{"v=spf1 exp=%{d}.explain.example.org -all", 2, 0},
	{"v=spf1 foo=bar x-y.z_w=%{d} -all", 3, 0},
	{"v=spf1 empty= -all", 2, 0},
	{"v=spf1 a:example.org. -all", 2, 1},
	{"v=spf1 a:%{d} -all", 2, 1},
	{"v=spf1 a:%{ir}.%{v}._spf.%{d2} -all", 2, 1},
	{"v=spf1 exists:%{l1r+-}.%{o}._spf.example.org -all", 2, 1},
	{"v=spf1 a:foo-bar.example.org a:example.c-m -all", 3, 2},
	{"v=spf1 a:example.org%% -all", 2, 1},
	{"v=spf1 IP4:192.0.2.1 Include:example.net MX:example.net -All", 4, 2},
};

typedef struct {
	const char *text;
	const char *bad_term;
} InvalidCase;

static const InvalidCase invalid_cases[] = {
	{"v=spf1 foo", "foo"},
	{"v=spf1 a: -all", "a:"},
	{"v=spf1 include -all", "include"},
	{"v=spf1 exists -all", "exists"},
	{"v=spf1 all:example.org", "all:example.org"},
	{"v=spf1 -all/24", "-all/24"},
	{"v=spf1 ip4 -all", "ip4"},
	{"v=spf1 ip4:192.0.2 -all", "ip4:192.0.2"},
	{"v=spf1 ip4:192.0.2.256 -all", "ip4:192.0.2.256"},
	{"v=spf1 ip4:192.0.2.01 -all", "ip4:192.0.2.01"},
	{"v=spf1 ip4:192.0.2.1/33 -all", "ip4:192.0.2.1/33"},
	{"v=spf1 ip4:192.0.2.1/024 -all", "ip4:192.0.2.1/024"},
	{"v=spf1 ip4:192.0.2.1/ -all", "ip4:192.0.2.1/"},
	{"v=spf1 ip4:2001:db8::1 -all", "ip4:2001:db8::1"},
	{"v=spf1 ip6:192.0.2.1 -all", "ip6:192.0.2.1"},
	{"v=spf1 ip6:2001:db8::/129 -all", "ip6:2001:db8::/129"},
	{"v=spf1 ip6:2001:db8:::1 -all", "ip6:2001:db8:::1"},
	{"v=spf1 a:example.org/33 -all", "a:example.org/33"},
	{"v=spf1 a//129 -all", "a//129"},
	{"v=spf1 a/24/64 -all", "a/24/64"},
	{"v=spf1 ptr/24 -all", "ptr/24"},
	{"v=spf1 a:museum -all", "a:museum"},
	{"v=spf1 a:museum. -all", "a:museum."},
	{"v=spf1 a:192.0.2.1 -all", "a:192.0.2.1"},
	{"v=spf1 a:example.-org -all", "a:example.-org"},
	{"v=spf1 include:example.org-", "include:example.org-"},
	{"v=spf1 a:%{x}.example.org -all", "a:%{x}.example.org"},
	{"v=spf1 a:%{c}.example.org -all", "a:%{c}.example.org"},
	{"v=spf1 a:%{d0}.example.org -all", "a:%{d0}.example.org"},
	{"v=spf1 a:%{d -all", "a:%{d"},
	{"v=spf1 exists:%x.example.org -all", "exists:%x.example.org"},
	{"v=spf1 exists:%.example.org -all", "exists:%.example.org"},
	{"v=spf1 redirect=", "redirect="},
	{"v=spf1 exp= -all", "exp="},
	{"v=spf1 +redirect=example.org", "+redirect=example.org"},
	{"v=spf1 1foo=bar -all", "1foo=bar"},
	{"v=spf1 foo=%z -all", "foo=%z"},
	{"v=spf1 =bar -all", "=bar"},
	{"v=spf1 a:example.org\t-all", "a:example.org\t-all"},
	{"v=spf1 *all", "*all"},
};

static void
test_parse_valid(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(valid_cases); i++) {
		const ValidCase *c = &valid_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(OpSpfRecord) record = op_spf_record_parse(c->text, &error);

		g_test_message("record: %s", c->text);
		g_assert_no_error(error);
		g_assert_nonnull(record);
		g_assert_cmpuint(record->terms->len, ==, c->terms);
		g_assert_cmpuint(op_spf_record_count_lookups(record), ==, c->lookups);
	}
}

static void
test_parse_invalid(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(invalid_cases); i++) {
		const InvalidCase *c = &invalid_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(OpSpfRecord) record = op_spf_record_parse(c->text, &error);
		g_autofree char *quoted = g_strdup_printf("\"%s\"", c->bad_term);

		g_test_message("record: %s", c->text);
		g_assert_null(record);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, quoted));
	}
}

static void
test_parse_not_spf(void)
{
	static const char *const texts[] = {"", "v=spf10 -all", "spf1 -all", "v=spf1-all",
					    "v=DKIM1; k=rsa", " v=spf1 -all"};

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OpSpfRecord) record = op_spf_record_parse(texts[i], &error);

		g_assert_false(op_spf_record_is_spf(texts[i]));
		g_assert_null(record);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_parse_repeated_modifier(void)
{
	static const char *const texts[] = {
		"v=spf1 redirect=a.example.org redirect=b.example.org",
		"v=spf1 exp=a.example.org -all exp=b.example.org",
		"v=spf1 REDIRECT=a.example.org redirect=a.example.org",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OpSpfRecord) record = op_spf_record_parse(texts[i], &error);

		g_assert_null(record);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, "more than once"));
	}
}

static void
test_parse_term_fields(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpSpfRecord) record = op_spf_record_parse(
		"v=spf1 -a:mail.example.org/24//64 ~mx ?ip4:192.0.2.0/24 ip6:2001:db8::/48 "
		"include:_spf.example.net Redirect=_spf.example.org foo=bar",
		&error);
	const OpSpfTerm *term;

	g_assert_no_error(error);
	g_assert_cmpuint(record->terms->len, ==, 7);

	term = g_ptr_array_index(record->terms, 0);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_A);
	g_assert_cmpint(term->qualifier, ==, OP_SPF_QUALIFIER_FAIL);
	g_assert_cmpstr(term->domain_spec, ==, "mail.example.org");
	g_assert_cmpint(term->cidr4, ==, 24);
	g_assert_cmpint(term->cidr6, ==, 64);
	g_assert_cmpstr(term->text, ==, "-a:mail.example.org/24//64");

	term = g_ptr_array_index(record->terms, 1);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_MX);
	g_assert_cmpint(term->qualifier, ==, OP_SPF_QUALIFIER_SOFTFAIL);
	g_assert_null(term->domain_spec);
	g_assert_cmpint(term->cidr4, ==, -1);
	g_assert_cmpint(term->cidr6, ==, -1);

	term = g_ptr_array_index(record->terms, 2);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_IP4);
	g_assert_cmpint(term->qualifier, ==, OP_SPF_QUALIFIER_NEUTRAL);
	g_assert_cmpint(term->cidr4, ==, 24);
	g_assert_cmpint(term->network[0], ==, 192);
	g_assert_cmpint(term->network[2], ==, 2);

	term = g_ptr_array_index(record->terms, 3);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_IP6);
	g_assert_cmpint(term->qualifier, ==, OP_SPF_QUALIFIER_PASS);
	g_assert_cmpint(term->cidr6, ==, 48);
	g_assert_cmpint(term->network[1], ==, 0x01);

	term = g_ptr_array_index(record->terms, 4);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_INCLUDE);
	g_assert_cmpstr(term->domain_spec, ==, "_spf.example.net");

	term = op_spf_record_get_modifier(record, "redirect");
	g_assert_nonnull(term);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_REDIRECT);
	g_assert_cmpstr(term->name, ==, "redirect");
	g_assert_cmpstr(term->domain_spec, ==, "_spf.example.org");

	term = op_spf_record_get_modifier(record, "foo");
	g_assert_nonnull(term);
	g_assert_cmpint(term->kind, ==, OP_SPF_TERM_UNKNOWN_MODIFIER);
	g_assert_cmpstr(term->domain_spec, ==, "bar");
	g_assert_null(op_spf_record_get_modifier(record, "exp"));
}

static void
test_needs_lookup(void)
{
	static const struct {
		const char *term;
		gboolean lookup;
	} cases[] = {
		{"all", FALSE},	    {"include:example.org", TRUE}, {"a", TRUE},
		{"mx", TRUE},	    {"ptr", TRUE},		   {"ip4:192.0.2.1", FALSE},
		{"ip6:::1", FALSE}, {"exists:example.org", TRUE},  {"redirect=example.org", TRUE},
		{"exp=example.org", FALSE}, {"foo=bar", FALSE},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OpSpfTerm) term = op_spf_term_parse(cases[i].term, &error);

		g_assert_no_error(error);
		g_assert_cmpint(op_spf_term_needs_lookup(term), ==, cases[i].lookup);
	}
}

typedef struct {
	const char *record;
	const char *address;
	gboolean covered;
	const char *term; /* the first ip4/ip6 term containing the address, or NULL */
} CoverCase;

static const CoverCase cover_cases[] = {
	{"v=spf1 ip4:192.0.2.10 ~all", "192.0.2.10", TRUE, "ip4:192.0.2.10"},
	{"v=spf1 ip4:192.0.2.10 ~all", "192.0.2.11", FALSE, NULL},
	{"v=spf1 ip4:192.0.2.0/24 ~all", "192.0.2.200", TRUE, "ip4:192.0.2.0/24"},
	{"v=spf1 ip4:192.0.2.0/25 ~all", "192.0.2.200", FALSE, NULL},
	{"v=spf1 ip4:192.0.2.77/24 ~all", "192.0.2.1", TRUE, "ip4:192.0.2.77/24"},
	{"v=spf1 ip4:0.0.0.0/0 ~all", "198.51.100.1", TRUE, "ip4:0.0.0.0/0"},
	{"v=spf1 ip4:192.0.2.10 ~all", "::ffff:192.0.2.10", TRUE, "ip4:192.0.2.10"},
	{"v=spf1 ip4:192.0.2.10 ~all", "2001:db8::10", FALSE, NULL},
	{"v=spf1 ip6:2001:db8::10 ~all", "2001:db8::10", TRUE, "ip6:2001:db8::10"},
	{"v=spf1 ip6:2001:db8::/32 ~all", "2001:db8:ffff::1", TRUE, "ip6:2001:db8::/32"},
	{"v=spf1 ip6:2001:db8::/33 ~all", "2001:db8:ffff::1", FALSE, NULL},
	{"v=spf1 ip6:2001:db8::/33 ~all", "192.0.2.10", FALSE, NULL},
	{"v=spf1 -ip4:192.0.2.10 ip4:192.0.2.0/24 ~all", "192.0.2.10", FALSE, "-ip4:192.0.2.10"},
	{"v=spf1 ~all ip4:192.0.2.10", "192.0.2.10", FALSE, NULL},
	{"v=spf1 a mx ~all", "192.0.2.10", FALSE, NULL},
};

static void
test_covers_address(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(cover_cases); i++) {
		const CoverCase *c = &cover_cases[i];
		g_autoptr(OpSpfRecord) record = op_spf_record_parse(c->record, NULL);
		g_autoptr(GInetAddress) address = g_inet_address_new_from_string(c->address);
		const OpSpfTerm *term;

		g_test_message("%s against %s", c->address, c->record);
		g_assert_nonnull(record);
		g_assert_nonnull(address);
		g_assert_cmpint(op_spf_record_covers_address(record, address), ==, c->covered);
		term = op_spf_record_find_address_term(record, address);
		g_assert_cmpstr(term != NULL ? term->text : NULL, ==, c->term);
	}
}

typedef struct {
	const char *existing;
	const char *needed[4];
	const char *merged;
	guint added;
} MergeCase;

static const MergeCase merge_cases[] = {
	{NULL, {"ip4:192.0.2.10", "ip6:2001:db8::10"},
	 "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 ~all", 2},
	{"", {"a:mail.example.org"}, "v=spf1 a:mail.example.org ~all", 1},
	{"v=spf1 mx -all", {"ip4:192.0.2.10"}, "v=spf1 mx ip4:192.0.2.10 -all", 1},
	{"v=spf1 mx ~all", {"ip4:192.0.2.10"}, "v=spf1 mx ip4:192.0.2.10 ~all", 1},
	{"v=spf1 mx ?all", {"ip4:192.0.2.10"}, "v=spf1 mx ip4:192.0.2.10 ?all", 1},
	{"v=spf1 mx", {"ip4:192.0.2.10"}, "v=spf1 mx ip4:192.0.2.10 ~all", 1},
	{"v=spf1 mx redirect=_spf.example.net", {"ip4:192.0.2.10"},
	 "v=spf1 mx ip4:192.0.2.10 redirect=_spf.example.net", 1},
	{"v=spf1 include:_spf.example.net -all exp=why.example.org", {"ip4:192.0.2.10"},
	 "v=spf1 include:_spf.example.net ip4:192.0.2.10 -all exp=why.example.org", 1},
	{"v=spf1 ip4:192.0.2.10 -all", {"ip4:192.0.2.10"}, "v=spf1 ip4:192.0.2.10 -all", 0},
	{"v=spf1 +ip4:192.0.2.10/32 -all", {"ip4:192.0.2.10"},
	 "v=spf1 +ip4:192.0.2.10/32 -all", 0},
	{"v=spf1 ip4:192.0.2.0/24 -all", {"ip4:192.0.2.10"}, "v=spf1 ip4:192.0.2.0/24 -all", 0},
	{"v=spf1 ip6:2001:DB8::/32 -all", {"ip6:2001:db8::10"},
	 "v=spf1 ip6:2001:DB8::/32 -all", 0},
	{"v=spf1 ip6:2001:db8:0:0::10 -all", {"ip6:2001:db8::10"},
	 "v=spf1 ip6:2001:db8:0:0::10 -all", 0},
	{"v=spf1 A:Mail.Example.org -all", {"a:mail.example.org"},
	 "v=spf1 A:Mail.Example.org -all", 0},
	/* A narrower existing network does not cover a wider needed one. */
	{"v=spf1 ip4:192.0.2.10 -all", {"ip4:192.0.2.0/24"},
	 "v=spf1 ip4:192.0.2.10 ip4:192.0.2.0/24 -all", 1},
	/* Only a "+" term makes the needed one redundant. */
	{"v=spf1 ~ip4:192.0.2.10 -all", {"ip4:192.0.2.10"},
	 "v=spf1 ~ip4:192.0.2.10 ip4:192.0.2.10 -all", 1},
	/* A term after "all" is never evaluated, so it does not count. */
	{"v=spf1 -all ip4:192.0.2.10", {"ip4:192.0.2.10"},
	 "v=spf1 ip4:192.0.2.10 -all ip4:192.0.2.10", 1},
	{"v=spf1 a mx -all", {"a", "ip4:192.0.2.10", "ip4:192.0.2.10"},
	 "v=spf1 a mx ip4:192.0.2.10 -all", 1},
	{"v=spf1   mx   -all  ", {NULL}, "v=spf1 mx -all", 0},
	{"V=SPF1 MX -ALL", {"ip4:192.0.2.10"}, "v=spf1 MX ip4:192.0.2.10 -ALL", 1},
	{"v=spf1 -all", {"ip4:192.0.2.10", "ip6:2001:db8::10", "a:mail.example.org"},
	 "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 a:mail.example.org -all", 3},
	{"v=spf1 foo=bar mx", {"ip4:192.0.2.10"}, "v=spf1 foo=bar mx ip4:192.0.2.10 ~all", 1},
};

static void
test_merge(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(merge_cases); i++) {
		const MergeCase *c = &merge_cases[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *merged = NULL;
		g_autoptr(OpSpfRecord) reparsed = NULL;
		guint added = G_MAXUINT;

		g_test_message("merge into: %s", c->existing != NULL ? c->existing : "(none)");
		merged = op_spf_record_merge(c->existing, c->needed, &added, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(merged, ==, c->merged);
		g_assert_cmpuint(added, ==, c->added);
		reparsed = op_spf_record_parse(merged, &error);
		g_assert_no_error(error);
		g_assert_nonnull(reparsed);
	}
}

static void
test_merge_invalid(void)
{
	static const struct {
		const char *existing;
		const char *needed;
	} cases[] = {
		{"v=spf1 mx foo -all", "ip4:192.0.2.10"},
		{"v=spf1 redirect=a.example.org redirect=b.example.org", "ip4:192.0.2.10"},
		{"not an spf record", "ip4:192.0.2.10"},
		{"v=spf1 mx -all", "ip4:192.0.2.300"},
		{"v=spf1 mx -all", "-all"},
		{"v=spf1 mx -all", "redirect=example.org"},
		{"v=spf1 mx -all", "ip4:192.0.2.10 ip4:192.0.2.11"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *needed[] = {cases[i].needed, NULL};
		g_autoptr(GError) error = NULL;
		g_autofree char *merged = op_spf_record_merge(cases[i].existing, needed, NULL,
							      &error);

		g_assert_null(merged);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_merge_keeps_lookup_count(void)
{
	const char *needed[] = {"ip4:192.0.2.10", "ip6:2001:db8::10", NULL};
	g_autofree char *merged = op_spf_record_merge(
		"v=spf1 include:a.example.net include:b.example.net mx -all", needed, NULL, NULL);
	g_autoptr(OpSpfRecord) record = op_spf_record_parse(merged, NULL);
	g_autoptr(GInetAddress) v4 = g_inet_address_new_from_string("192.0.2.10");
	g_autoptr(GInetAddress) v6 = g_inet_address_new_from_string("2001:db8::10");

	g_assert_nonnull(record);
	g_assert_cmpuint(op_spf_record_count_lookups(record), ==, 3);
	g_assert_true(op_spf_record_covers_address(record, v4));
	g_assert_true(op_spf_record_covers_address(record, v6));
}

static void
test_select(void)
{
	g_autoptr(GPtrArray) none = g_ptr_array_new();
	g_autoptr(GPtrArray) one = g_ptr_array_new();
	g_autoptr(GPtrArray) two = g_ptr_array_new();
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(one, "google-site-verification=abc");
	g_ptr_array_add(one, "v=spf1 mx -all");
	g_ptr_array_add(one, "v=spf10 -all");
	g_ptr_array_add(two, "v=spf1 mx -all");
	g_ptr_array_add(two, "V=SPF1 a -all");

	g_assert_null(op_spf_record_select(none, "example.org", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_clear_error(&error);

	g_assert_cmpstr(op_spf_record_select(one, "example.org", &error), ==, "v=spf1 mx -all");
	g_assert_no_error(error);

	g_assert_null(op_spf_record_select(two, "example.org", &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_PERMANENT);
	g_assert_nonnull(strstr(error->message, "example.org"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/dns/spf-record/parse-valid", test_parse_valid);
	g_test_add_func("/dns/spf-record/parse-invalid", test_parse_invalid);
	g_test_add_func("/dns/spf-record/parse-not-spf", test_parse_not_spf);
	g_test_add_func("/dns/spf-record/repeated-modifier", test_parse_repeated_modifier);
	g_test_add_func("/dns/spf-record/term-fields", test_parse_term_fields);
	g_test_add_func("/dns/spf-record/needs-lookup", test_needs_lookup);
	g_test_add_func("/dns/spf-record/covers-address", test_covers_address);
	g_test_add_func("/dns/spf-record/merge", test_merge);
	g_test_add_func("/dns/spf-record/merge-invalid", test_merge_invalid);
	g_test_add_func("/dns/spf-record/merge-lookup-count", test_merge_keeps_lookup_count);
	g_test_add_func("/dns/spf-record/select", test_select);

	return g_test_run();
}
