/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Thunderbird clientConfig document: servers, ports and socket types,
 * the user name placeholder, escaping, and the per-domain client settings it
 * is built from.
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "http/op-autoconfig.h"
#include "op-error.h"

static xmlDocPtr
parse_document(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "config.xml", NULL, XML_PARSE_NONET);

	g_assert_nonnull(doc);
	return doc;
}

/* Returns the XPath string value of expression in doc. */
static char *
dup_xpath(xmlDocPtr doc, const char *expression)
{
	g_autofree char *wrapped = g_strdup_printf("string(%s)", expression);
	xmlXPathContextPtr context = xmlXPathNewContext(doc);
	xmlXPathObjectPtr result = xmlXPathEvalExpression((const xmlChar *)wrapped, context);
	char *text;

	g_assert_nonnull(result);
	text = g_strdup((const char *)result->stringval);
	xmlXPathFreeObject(result);
	xmlXPathFreeContext(context);
	return text;
}

static double
count_xpath(xmlDocPtr doc, const char *expression)
{
	g_autofree char *wrapped = g_strdup_printf("count(%s)", expression);
	xmlXPathContextPtr context = xmlXPathNewContext(doc);
	xmlXPathObjectPtr result = xmlXPathEvalExpression((const xmlChar *)wrapped, context);
	double count;

	g_assert_nonnull(result);
	count = result->floatval;
	xmlXPathFreeObject(result);
	xmlXPathFreeContext(context);
	return count;
}

static void
assert_xpath(xmlDocPtr doc, const char *expression, const char *expected)
{
	g_autofree char *value = dup_xpath(doc, expression);

	g_test_message("%s", expression);
	g_assert_cmpstr(value, ==, expected);
}

static char *
dup_config(const char *imap, const char *pop3)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	char *xml;

	settings = op_client_settings_new("Example.ORG", "mail.example.net", imap, pop3, &error);
	g_assert_no_error(error);
	xml = op_autoconfig_dup_xml(settings, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(xml);
	return xml;
}

static void
test_autoconfig_imap_and_smtp(void)
{
	g_autofree char *xml = dup_config("imap.example.org:993", "");
	xmlDocPtr doc = parse_document(xml);

	assert_xpath(doc, "/clientConfig/@version", "1.1");
	assert_xpath(doc, "/clientConfig/emailProvider/@id", "example.org");
	assert_xpath(doc, "/clientConfig/emailProvider/domain", "example.org");
	g_assert_cmpfloat(count_xpath(doc, "//incomingServer"), ==, 1);
	assert_xpath(doc, "//incomingServer/@type", "imap");
	assert_xpath(doc, "//incomingServer/hostname", "imap.example.org");
	assert_xpath(doc, "//incomingServer/port", "993");
	assert_xpath(doc, "//incomingServer/socketType", "SSL");
	assert_xpath(doc, "//incomingServer/username", "%EMAILADDRESS%");
	assert_xpath(doc, "//incomingServer/authentication", "password-cleartext");
	g_assert_cmpfloat(count_xpath(doc, "//outgoingServer[@type='smtp']"), ==, 2);
	assert_xpath(doc, "//outgoingServer[1]/hostname", "mail.example.net");
	assert_xpath(doc, "//outgoingServer[1]/port", "587");
	assert_xpath(doc, "//outgoingServer[1]/socketType", "STARTTLS");
	assert_xpath(doc, "//outgoingServer[2]/port", "465");
	assert_xpath(doc, "//outgoingServer[2]/socketType", "SSL");
	assert_xpath(doc, "//outgoingServer[2]/authentication", "password-cleartext");
	/* The placeholder appears in user names only. */
	g_assert_cmpfloat(count_xpath(doc, "//*[contains(text(), '%')]"), ==, 3);
	g_assert_cmpfloat(count_xpath(doc, "//username[. = '%EMAILADDRESS%']"), ==, 3);
	xmlFreeDoc(doc);
}

/* socketType follows the port: implicit TLS on 993 and 995, STARTTLS on
 * any other, never "plain". */
static void
test_autoconfig_socket_types(void)
{
	static const struct {
		const char *imap;
		const char *pop3;
		const char *imap_socket;
		const char *pop3_socket;
	} cases[] = {
		{"imap.example.org:993", "pop.example.org:995", "SSL", "SSL"},
		{"imap.example.org:143", "pop.example.org:110", "STARTTLS", "STARTTLS"},
		{"imap.example.org", "pop.example.org", "SSL", "SSL"},
		{"[2001:db8::1]:143", "pop.example.org:1995", "STARTTLS", "STARTTLS"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *xml = dup_config(cases[i].imap, cases[i].pop3);
		xmlDocPtr doc = parse_document(xml);

		assert_xpath(doc, "//incomingServer[@type='imap']/socketType", cases[i].imap_socket);
		assert_xpath(doc, "//incomingServer[@type='pop3']/socketType", cases[i].pop3_socket);
		g_assert_cmpfloat(count_xpath(doc, "//socketType[. = 'plain']"), ==, 0);
		xmlFreeDoc(doc);
	}
}

static void
test_autoconfig_imap_before_pop3(void)
{
	g_autofree char *xml = dup_config("imap.example.org:993", "pop.example.org:995");
	xmlDocPtr doc = parse_document(xml);

	assert_xpath(doc, "//incomingServer[1]/@type", "imap");
	assert_xpath(doc, "//incomingServer[2]/@type", "pop3");
	assert_xpath(doc, "//incomingServer[2]/hostname", "pop.example.org");
	xmlFreeDoc(doc);
}

static void
test_autoconfig_outgoing_only(void)
{
	g_autofree char *xml = dup_config("", NULL);
	xmlDocPtr doc = parse_document(xml);

	g_assert_cmpfloat(count_xpath(doc, "//incomingServer"), ==, 0);
	g_assert_cmpfloat(count_xpath(doc, "//outgoingServer"), ==, 2);
	xmlFreeDoc(doc);
}

/* Markup in a value is written as text, and reads back unchanged. */
static void
test_autoconfig_escapes_values(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	g_autofree char *xml = NULL;
	xmlDocPtr doc;

	settings = op_client_settings_new("example.org", "a<b>&\"c'.example", NULL, NULL, &error);
	g_assert_no_error(error);
	xml = op_autoconfig_dup_xml(settings, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(strstr(xml, "<b>"));
	doc = parse_document(xml);
	assert_xpath(doc, "//outgoingServer[1]/hostname", "a<b>&\"c'.example");
	g_assert_cmpfloat(count_xpath(doc, "//b"), ==, 0);
	xmlFreeDoc(doc);
}

static void
test_autoconfig_rejects_invalid_utf8(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	g_autofree char *xml = NULL;

	settings = op_client_settings_new("example.org", "mail\xff.example", NULL, NULL, &error);
	g_assert_no_error(error);
	xml = op_autoconfig_dup_xml(settings, NULL, &error);
	g_assert_null(xml);
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
}

static void
test_client_settings_invalid_server(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;

	settings = op_client_settings_new("example.org", "mail.example.net", "imap.example.org:x",
					  NULL, &error);
	g_assert_null(settings);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "example.org"));
}

static void
test_client_settings_domain_of(void)
{
	static const struct {
		const char *address;
		const char *domain;
	} cases[] = {
		{"anna@Example.ORG", "example.org"},
		{"\"a@b\"@example.org", "example.org"},
		{"anna@", NULL},
		{"no-at-sign", NULL},
		{NULL, NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *domain = op_client_settings_dup_domain_of(cases[i].address);

		g_assert_cmpstr(domain, ==, cases[i].domain);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/http/autoconfig/imap-and-smtp", test_autoconfig_imap_and_smtp);
	g_test_add_func("/http/autoconfig/socket-types", test_autoconfig_socket_types);
	g_test_add_func("/http/autoconfig/imap-before-pop3", test_autoconfig_imap_before_pop3);
	g_test_add_func("/http/autoconfig/outgoing-only", test_autoconfig_outgoing_only);
	g_test_add_func("/http/autoconfig/escapes-values", test_autoconfig_escapes_values);
	g_test_add_func("/http/autoconfig/invalid-utf8", test_autoconfig_rejects_invalid_utf8);
	g_test_add_func("/http/client-settings/invalid-server", test_client_settings_invalid_server);
	g_test_add_func("/http/client-settings/domain-of", test_client_settings_domain_of);
	return g_test_run();
}
