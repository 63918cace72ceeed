/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outlook's plain-old-XML (POX) autodiscover: the request Outlook POSTs to
 * /autodiscover/autodiscover.xml, and the "outlook" response with the IMAP,
 * POP3 and SMTP settings of the requested address.
 */
#pragma once

#include "http/op-client-settings.h"

G_BEGIN_DECLS

/* Matched without regard to case, as clients send /AutoDiscover/AutoDiscover.xml too. */
#define OP_AUTODISCOVER_PATH "/autodiscover/autodiscover.xml"

/* The largest request body read. A request carries one address, in about 400
 * octets (an estimate from the request format), so 8 KiB leaves ample room. */
#define OP_AUTODISCOVER_MAX_REQUEST 8192

#define OP_AUTODISCOVER_REQUEST_NS \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define OP_AUTODISCOVER_RESPONSE_NS \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define OP_AUTODISCOVER_OUTLOOK_NS \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

/* Parses a request body and returns its EMailAddress, or NULL with
 * OP_ERROR_INVALID_ARGUMENT for a body that is not well-formed XML, has a
 * document type declaration (so no entity is ever defined or fetched), is
 * larger than OP_AUTODISCOVER_MAX_REQUEST, is not an Outlook request, or
 * requests a response schema other than OP_AUTODISCOVER_OUTLOOK_NS. */
char *op_autodiscover_parse_request(const char *body, gsize length, GError **error);

/* Returns the response for address with the servers of settings. */
char *op_autodiscover_dup_response(const OpClientSettings *settings, const char *address,
				   gsize *length, GError **error);

G_END_DECLS
