/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A thin layer over libxml2's xmlTextWriter that writes a document into
 * memory. The writer escapes every text and attribute value, so a value from
 * the store or a request can never add markup.
 */
#pragma once

#include <glib.h>
#include <libxml/xmlwriter.h>

G_BEGIN_DECLS

typedef struct {
	xmlBufferPtr buffer;
	xmlTextWriterPtr writer;
	gboolean failed; /* a write failed; op_xml_out_finish() reports it */
} OpXmlOut;

/* Starts a UTF-8 document with two-space indentation. */
void op_xml_out_init(OpXmlOut *out);
/* Writes <!DOCTYPE name PUBLIC "public_id" "system_id">. */
void op_xml_out_doctype(OpXmlOut *out, const char *name, const char *public_id,
			const char *system_id);
void op_xml_out_start(OpXmlOut *out, const char *name);
void op_xml_out_attribute(OpXmlOut *out, const char *name, const char *value);
void op_xml_out_end(OpXmlOut *out);
/* Writes <name>text</name>. */
void op_xml_out_element(OpXmlOut *out, const char *name, const char *text);
void op_xml_out_element_uint(OpXmlOut *out, const char *name, guint value);
/* Writes <name/>. */
void op_xml_out_empty(OpXmlOut *out, const char *name);

/* Ends the document and returns its text, or NULL with an error when a write
 * failed (for example on text that is not UTF-8). Frees the writer either way. */
char *op_xml_out_finish(OpXmlOut *out, gsize *length, GError **error);

G_END_DECLS
