/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes the clientConfig version 1.1 document of Thunderbird's autoconfig.
 * The element names and values follow Mozilla's config file format, now
 * described in draft-ietf-mailmaint-autoconfig §4.
 */
#include "http/op-autoconfig.h"

#include "http/op-xml-out.h"

/* The user name placeholder that the client replaces with the address typed
 * in. It goes only into <username>: the other elements carry real values. */
#define OP_AUTOCONFIG_USERNAME "%EMAILADDRESS%"

static void
write_server(OpXmlOut *out, const char *element, const char *type, const char *host,
	     guint port, gboolean implicit_tls)
{
	op_xml_out_start(out, element);
	op_xml_out_attribute(out, "type", type);
	op_xml_out_element(out, "hostname", host);
	op_xml_out_element_uint(out, "port", port);
	/* "plain" is never offered: a password goes only over TLS. */
	op_xml_out_element(out, "socketType", implicit_tls ? "SSL" : "STARTTLS");
	op_xml_out_element(out, "username", OP_AUTOCONFIG_USERNAME);
	op_xml_out_element(out, "authentication", "password-cleartext");
	op_xml_out_end(out);
}

char *
op_autoconfig_dup_xml(const OpClientSettings *settings, gsize *length, GError **error)
{
	OpXmlOut out;

	op_xml_out_init(&out);
	op_xml_out_start(&out, "clientConfig");
	op_xml_out_attribute(&out, "version", "1.1");
	op_xml_out_start(&out, "emailProvider");
	op_xml_out_attribute(&out, "id", settings->domain);
	op_xml_out_element(&out, "domain", settings->domain);
	op_xml_out_element(&out, "displayName", settings->domain);
	op_xml_out_element(&out, "displayShortName", settings->domain);
	/* Without the domain's imap-server or pop3-server the document lists
	 * outgoing servers only, from which a client cannot set up an account. */
	if (settings->imap != NULL)
		write_server(&out, "incomingServer", "imap", settings->imap->host,
			     settings->imap->port, settings->imap->implicit_tls);
	if (settings->pop3 != NULL)
		write_server(&out, "incomingServer", "pop3", settings->pop3->host,
			     settings->pop3->port, settings->pop3->implicit_tls);
	write_server(&out, "outgoingServer", "smtp", settings->smtp_host, OP_SUBMISSION_PORT,
		     FALSE);
	write_server(&out, "outgoingServer", "smtp", settings->smtp_host, OP_SUBMISSIONS_PORT,
		     TRUE);
	op_xml_out_end(&out);
	op_xml_out_end(&out);
	return op_xml_out_finish(&out, length, error);
}
