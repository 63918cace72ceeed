/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads Outlook's POX autodiscover request with libxml2 and writes the
 * response. The parser loads no DTD, substitutes no entity, uses no network
 * and stops at a DOCTYPE, so a request cannot make the daemon read a file, a
 * URL or an entity expansion.
 */
#include "http/op-autodiscover.h"

#include "http/op-xml-out.h"
#include "op-error.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

typedef struct {
	gboolean has_doctype;
} OpParseState;

/* Entities are declared only in a document type declaration, so stopping
 * there rejects every external and internal entity before it is read. */
static void
reject_doctype_cb(void *context, const xmlChar *name, const xmlChar *external_id,
		  const xmlChar *system_id)
{
	xmlParserCtxtPtr parser = context;
	OpParseState *state = parser->_private;

	state->has_doctype = TRUE;
	xmlStopParser(parser);
}

/* Refuses every external resource, as a second guard behind XML_PARSE_NONET
 * and the DOCTYPE check. */
static xmlParserInputPtr
refuse_entity_loader(const char *url, const char *id, xmlParserCtxtPtr context)
{
	return NULL;
}

static void
init_libxml(void)
{
	static gsize initialized = 0;

	if (g_once_init_enter(&initialized)) {
		xmlInitParser();
		xmlSetExternalEntityLoader(refuse_entity_loader);
		g_once_init_leave(&initialized, 1);
	}
}

static gboolean
has_name(xmlNodePtr node, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

static xmlNodePtr
find_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr child = parent->children; child != NULL; child = child->next) {
		if (has_name(child, name))
			return child;
	}
	return NULL;
}

static char *
dup_text(xmlNodePtr node)
{
	xmlChar *content = xmlNodeGetContent(node);
	char *text = g_strstrip(g_strdup((const char *)content));

	xmlFree(content);
	return text;
}

static char *
set_invalid(GError **error, const char *reason)
{
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid autodiscover request: %s", reason);
	return NULL;
}

/* Checks the parsed document: an Outlook request (by namespace, when it
 * has one) for the outlook response schema. */
static char *
read_request(xmlDocPtr doc, GError **error)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr request;
	xmlNodePtr address;
	xmlNodePtr schema;
	g_autofree char *schema_text = NULL;
	g_autofree char *text = NULL;

	if (!has_name(root, "Autodiscover"))
		return set_invalid(error, "the root element is not Autodiscover");
	if (root->ns != NULL &&
	    strcmp((const char *)root->ns->href, OP_AUTODISCOVER_REQUEST_NS) != 0)
		return set_invalid(error, "not an Outlook request schema");
	request = find_child(root, "Request");
	if (request == NULL)
		return set_invalid(error, "no Request element");
	schema = find_child(request, "AcceptableResponseSchema");
	if (schema != NULL) {
		schema_text = dup_text(schema);
		if (strcmp(schema_text, OP_AUTODISCOVER_OUTLOOK_NS) != 0)
			return set_invalid(error, "only the outlook response schema is served");
	}
	address = find_child(request, "EMailAddress");
	if (address == NULL)
		return set_invalid(error, "no EMailAddress element");
	text = dup_text(address);
	if (*text == '\0')
		return set_invalid(error, "the EMailAddress is empty");
	return g_steal_pointer(&text);
}

char *
op_autodiscover_parse_request(const char *body, gsize length, GError **error)
{
	OpParseState state = {FALSE};
	xmlParserCtxtPtr parser;
	xmlDocPtr doc;
	char *address = NULL;

	if (length > OP_AUTODISCOVER_MAX_REQUEST) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid autodiscover request: %" G_GSIZE_FORMAT
			    " octets, more than the limit of %d",
			    length, OP_AUTODISCOVER_MAX_REQUEST);
		return NULL;
	}
	init_libxml();
	parser = xmlNewParserCtxt();
	if (parser == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "out of memory for the XML parser");
		return NULL;
	}
	parser->_private = &state;
	parser->sax->internalSubset = reject_doctype_cb;
	/* No XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD or
	 * XML_PARSE_HUGE, which keeps libxml2's size limits. */
	doc = xmlCtxtReadMemory(parser, body, (int)length, "autodiscover.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (state.has_doctype)
		set_invalid(error, "a document type declaration is not allowed");
	else if (doc == NULL || !parser->wellFormed)
		set_invalid(error, "the body is not well-formed XML");
	else
		address = read_request(doc, error);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(parser);
	return address;
}

static void
write_protocol(OpXmlOut *out, const char *type, const char *host, guint port,
	       gboolean implicit_tls, const char *address)
{
	op_xml_out_start(out, "Protocol");
	op_xml_out_element(out, "Type", type);
	op_xml_out_element(out, "Server", host);
	op_xml_out_element_uint(out, "Port", port);
	op_xml_out_element(out, "DomainRequired", "off");
	op_xml_out_element(out, "LoginName", address);
	op_xml_out_element(out, "SPA", "off");
	op_xml_out_element(out, "SSL", "on");
	/* Encryption overrides SSL and separates STARTTLS ("TLS") from implicit TLS. */
	op_xml_out_element(out, "Encryption", implicit_tls ? "SSL" : "TLS");
	op_xml_out_element(out, "AuthRequired", "on");
	if (strcmp(type, "SMTP") == 0) {
		op_xml_out_element(out, "UsePOPAuth", "off");
		op_xml_out_element(out, "SMTPLast", "off");
	}
	op_xml_out_end(out);
}

char *
op_autodiscover_dup_response(const OpClientSettings *settings, const char *address,
			     gsize *length, GError **error)
{
	OpXmlOut out;

	op_xml_out_init(&out);
	op_xml_out_start(&out, "Autodiscover");
	op_xml_out_attribute(&out, "xmlns", OP_AUTODISCOVER_RESPONSE_NS);
	op_xml_out_start(&out, "Response");
	op_xml_out_attribute(&out, "xmlns", OP_AUTODISCOVER_OUTLOOK_NS);
	op_xml_out_start(&out, "Account");
	op_xml_out_element(&out, "AccountType", "email");
	op_xml_out_element(&out, "Action", "settings");
	if (settings->imap != NULL)
		write_protocol(&out, "IMAP", settings->imap->host, settings->imap->port,
			       settings->imap->implicit_tls, address);
	if (settings->pop3 != NULL)
		write_protocol(&out, "POP3", settings->pop3->host, settings->pop3->port,
			       settings->pop3->implicit_tls, address);
	/* One SMTP entry: STARTTLS on the submission port of RFC 6409. */
	write_protocol(&out, "SMTP", settings->smtp_host, OP_SUBMISSION_PORT, FALSE, address);
	op_xml_out_end(&out);
	op_xml_out_end(&out);
	op_xml_out_end(&out);
	return op_xml_out_finish(&out, length, error);
}
