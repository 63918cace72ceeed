/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes XML documents to memory through xmlTextWriter, keeping the first
 * failure so that callers can write a whole document and check once.
 */
#include "http/op-xml-out.h"

#include "op-error.h"

#include <libxml/parser.h>

#define XML_TEXT(s) ((const xmlChar *)(s))

static void
check(OpXmlOut *out, int rc)
{
	if (rc < 0)
		out->failed = TRUE;
}

void
op_xml_out_init(OpXmlOut *out)
{
	static gsize initialized = 0;

	/* libxml2 initializes itself on first use, but not safely when two
	 * threads (a D-Bus worker and the main loop) get there at once. */
	if (g_once_init_enter(&initialized)) {
		xmlInitParser();
		g_once_init_leave(&initialized, 1);
	}
	out->failed = FALSE;
	out->buffer = xmlBufferCreate();
	out->writer = out->buffer ? xmlNewTextWriterMemory(out->buffer, 0) : NULL;
	if (out->writer == NULL) {
		out->failed = TRUE;
		return;
	}
	check(out, xmlTextWriterSetIndent(out->writer, 1));
	check(out, xmlTextWriterSetIndentString(out->writer, XML_TEXT("  ")));
	check(out, xmlTextWriterStartDocument(out->writer, "1.0", "UTF-8", NULL));
}

void
op_xml_out_doctype(OpXmlOut *out, const char *name, const char *public_id,
		   const char *system_id)
{
	if (out->writer == NULL)
		return;
	check(out, xmlTextWriterWriteDTD(out->writer, XML_TEXT(name), XML_TEXT(public_id),
					 XML_TEXT(system_id), NULL));
}

void
op_xml_out_start(OpXmlOut *out, const char *name)
{
	if (out->writer == NULL)
		return;
	check(out, xmlTextWriterStartElement(out->writer, XML_TEXT(name)));
}

void
op_xml_out_attribute(OpXmlOut *out, const char *name, const char *value)
{
	if (out->writer == NULL)
		return;
	if (!g_utf8_validate(value, -1, NULL)) {
		out->failed = TRUE;
		return;
	}
	check(out, xmlTextWriterWriteAttribute(out->writer, XML_TEXT(name), XML_TEXT(value)));
}

void
op_xml_out_end(OpXmlOut *out)
{
	if (out->writer == NULL)
		return;
	check(out, xmlTextWriterEndElement(out->writer));
}

void
op_xml_out_element(OpXmlOut *out, const char *name, const char *text)
{
	if (out->writer == NULL)
		return;
	/* xmlTextWriter copies bytes that are not UTF-8 unchanged, which would
	 * make the document unreadable, so they are refused here. */
	if (!g_utf8_validate(text, -1, NULL)) {
		out->failed = TRUE;
		return;
	}
	check(out, xmlTextWriterWriteElement(out->writer, XML_TEXT(name), XML_TEXT(text)));
}

void
op_xml_out_element_uint(OpXmlOut *out, const char *name, guint value)
{
	char text[16];

	g_snprintf(text, sizeof text, "%u", value);
	op_xml_out_element(out, name, text);
}

void
op_xml_out_empty(OpXmlOut *out, const char *name)
{
	op_xml_out_start(out, name);
	op_xml_out_end(out);
}

char *
op_xml_out_finish(OpXmlOut *out, gsize *length, GError **error)
{
	char *text = NULL;

	if (out->writer != NULL) {
		check(out, xmlTextWriterEndDocument(out->writer));
		xmlFreeTextWriter(out->writer);
		out->writer = NULL;
	}
	if (!out->failed) {
		text = g_strndup((const char *)xmlBufferContent(out->buffer),
				 xmlBufferLength(out->buffer));
		if (length != NULL)
			*length = (gsize)xmlBufferLength(out->buffer);
	}
	if (out->buffer != NULL)
		xmlBufferFree(out->buffer);
	out->buffer = NULL;
	if (text == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "writing the XML document failed: a value is not valid UTF-8 or "
			    "memory ran out");
	return text;
}
