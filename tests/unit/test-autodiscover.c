/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outlook's POX autodiscover: reading requests, rejecting malformed ones and
 * any document type declaration (so no entity is read), and the response.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "http/op-autodiscover.h"
#include "op-error.h"

#define REQUEST_START                                                                        \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                       \
	"<Autodiscover xmlns=\"" OP_AUTODISCOVER_REQUEST_NS "\">\n"                          \
	"  <Request>\n"
#define REQUEST_SCHEMA                                                                       \
	"    <AcceptableResponseSchema>" OP_AUTODISCOVER_OUTLOOK_NS                          \
	"</AcceptableResponseSchema>\n"
#define REQUEST_END "  </Request>\n</Autodiscover>\n"

static void
test_parse_valid_request(void)
{
	static const char *const requests[] = {
		REQUEST_START "    <EMailAddress>anna@example.org</EMailAddress>\n" REQUEST_SCHEMA
			REQUEST_END,
		/* Without the optional schema element, and without a namespace. */
		"<Autodiscover><Request><EMailAddress> anna@example.org\n</EMailAddress>"
		"</Request></Autodiscover>",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(requests); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *address = NULL;

		address = op_autodiscover_parse_request(requests[i], strlen(requests[i]), &error);
		g_assert_no_error(error);
		g_assert_cmpstr(address, ==, "anna@example.org");
	}
}

static void
test_parse_rejects_malformed(void)
{
	static const char *const requests[] = {
		"",
		"not xml at all",
		REQUEST_START "    <EMailAddress>anna@example.org",
		REQUEST_START "    <EMailAddress>anna@example.org</EMailAddres>\n" REQUEST_END,
		/* An entity that no DOCTYPE declares. */
		REQUEST_START "    <EMailAddress>&x;</EMailAddress>\n" REQUEST_END,
		"<Other><Request><EMailAddress>a@example.org</EMailAddress></Request></Other>",
		"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
		"mobilesync/requestschema/2006\"><Request><EMailAddress>a@example.org"
		"</EMailAddress></Request></Autodiscover>",
		"<Autodiscover><Request></Request></Autodiscover>",
		"<Autodiscover><Request><EMailAddress>  </EMailAddress></Request></Autodiscover>",
		"<Autodiscover><EMailAddress>a@example.org</EMailAddress></Autodiscover>",
		REQUEST_START "    <EMailAddress>anna@example.org</EMailAddress>\n"
			      "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
			      "autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>\n"
			REQUEST_END,
		/* Internal entities, including an expansion bomb. */
		"<?xml version=\"1.0\"?><!DOCTYPE Autodiscover [<!ENTITY a \"anna@example.org\">]>"
		"<Autodiscover><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>",
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;"
		"&b;&b;&b;\">]><Autodiscover><Request><EMailAddress>&c;</EMailAddress>"
		"</Request></Autodiscover>",
		"<!DOCTYPE Autodiscover SYSTEM \"http://127.0.0.1:9/autodiscover.dtd\">"
		"<Autodiscover><Request><EMailAddress>a@example.org</EMailAddress></Request>"
		"</Autodiscover>",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(requests); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *address = NULL;

		g_test_message("request %" G_GSIZE_FORMAT ": %s", i, requests[i]);
		address = op_autodiscover_parse_request(requests[i], strlen(requests[i]), &error);
		g_assert_null(address);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

/* An external entity naming a file is refused, and the file's content
 * appears nowhere. */
static void
test_parse_rejects_external_entity(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-autodiscover-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "secret.txt", NULL);
	g_autofree char *request = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *address = NULL;

	g_assert_true(g_file_set_contents(path, "secret-content@example.org", -1, NULL));
	request = g_strdup_printf("<?xml version=\"1.0\"?>\n"
				  "<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM \"file://%s\">]>\n"
				  "<Autodiscover><Request><EMailAddress>&x;</EMailAddress>"
				  "</Request></Autodiscover>",
				  path);
	address = op_autodiscover_parse_request(request, strlen(request), &error);
	g_assert_null(address);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_null(strstr(error->message, "secret-content"));
	g_assert_nonnull(strstr(error->message, "document type"));
	g_unlink(path);
	g_rmdir(dir);
}

static void
test_parse_size_limit(void)
{
	g_autoptr(GString) request = g_string_new(REQUEST_START "    <EMailAddress>anna@example.org"
						  "</EMailAddress>\n");
	g_autoptr(GError) error = NULL;
	g_autofree char *address = NULL;

	/* Exactly at the limit still parses; one more space does not. */
	while (request->len + strlen(REQUEST_END) < OP_AUTODISCOVER_MAX_REQUEST)
		g_string_append_c(request, ' ');
	g_string_append(request, REQUEST_END);
	g_assert_cmpuint(request->len, ==, OP_AUTODISCOVER_MAX_REQUEST);
	address = op_autodiscover_parse_request(request->str, request->len, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(address, ==, "anna@example.org");

	g_string_insert_c(request, (gssize)(request->len - strlen(REQUEST_END)), ' ');
	g_clear_pointer(&address, g_free);
	address = op_autodiscover_parse_request(request->str, request->len, &error);
	g_assert_null(address);
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "limit"));
}

static char *
dup_xpath(xmlDocPtr doc, const char *expression)
{
	g_autofree char *wrapped = g_strdup_printf("string(%s)", expression);
	xmlXPathContextPtr context = xmlXPathNewContext(doc);
	xmlXPathObjectPtr result;
	char *text;

	xmlXPathRegisterNs(context, (const xmlChar *)"r",
			   (const xmlChar *)OP_AUTODISCOVER_RESPONSE_NS);
	xmlXPathRegisterNs(context, (const xmlChar *)"o",
			   (const xmlChar *)OP_AUTODISCOVER_OUTLOOK_NS);
	result = xmlXPathEvalExpression((const xmlChar *)wrapped, context);
	g_assert_nonnull(result);
	text = g_strdup((const char *)result->stringval);
	xmlXPathFreeObject(result);
	xmlXPathFreeContext(context);
	return text;
}

static void
assert_xpath(xmlDocPtr doc, const char *expression, const char *expected)
{
	g_autofree char *value = dup_xpath(doc, expression);

	g_test_message("%s", expression);
	g_assert_cmpstr(value, ==, expected);
}

static void
test_response_values(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	g_autofree char *xml = NULL;
	xmlDocPtr doc;

	settings = op_client_settings_new("example.org", "mail.example.net",
					  "imap.example.org:143", "pop.example.org:995", &error);
	g_assert_no_error(error);
	xml = op_autodiscover_dup_response(settings, "a&b<c>@example.org", NULL, &error);
	g_assert_no_error(error);
	doc = xmlReadMemory(xml, (int)strlen(xml), "response.xml", NULL, XML_PARSE_NONET);
	g_assert_nonnull(doc);
	assert_xpath(doc, "/r:Autodiscover/o:Response/o:Account/o:AccountType", "email");
	assert_xpath(doc, "//o:Account/o:Action", "settings");
	assert_xpath(doc, "//o:Protocol[1]/o:Type", "IMAP");
	assert_xpath(doc, "//o:Protocol[1]/o:Server", "imap.example.org");
	assert_xpath(doc, "//o:Protocol[1]/o:Port", "143");
	assert_xpath(doc, "//o:Protocol[1]/o:Encryption", "TLS");
	assert_xpath(doc, "//o:Protocol[2]/o:Type", "POP3");
	assert_xpath(doc, "//o:Protocol[2]/o:Encryption", "SSL");
	assert_xpath(doc, "//o:Protocol[3]/o:Type", "SMTP");
	assert_xpath(doc, "//o:Protocol[3]/o:Server", "mail.example.net");
	assert_xpath(doc, "//o:Protocol[3]/o:Port", "587");
	assert_xpath(doc, "//o:Protocol[3]/o:Encryption", "TLS");
	assert_xpath(doc, "//o:Protocol[3]/o:AuthRequired", "on");
	assert_xpath(doc, "//o:Protocol[3]/o:LoginName", "a&b<c>@example.org");
	assert_xpath(doc, "count(//o:Protocol)", "3");
	xmlFreeDoc(doc);
}

/* The path is matched without regard to case, as clients capitalise it. */
static void
test_path_constant(void)
{
	g_assert_cmpint(g_ascii_strcasecmp("/AutoDiscover/AutoDiscover.xml", OP_AUTODISCOVER_PATH),
			==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/http/autodiscover/parse-valid", test_parse_valid_request);
	g_test_add_func("/http/autodiscover/parse-malformed", test_parse_rejects_malformed);
	g_test_add_func("/http/autodiscover/external-entity", test_parse_rejects_external_entity);
	g_test_add_func("/http/autodiscover/size-limit", test_parse_size_limit);
	g_test_add_func("/http/autodiscover/response", test_response_values);
	g_test_add_func("/http/autodiscover/path-case", test_path_constant);
	return g_test_run();
}
