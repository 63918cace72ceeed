/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Publishing through the HTTP API of a PowerDNS authoritative server: one
 * PATCH of the zone's record sets. The pure steps (URL, request body, error
 * mapping) are declared here so that tests can run them without a server.
 */
#pragma once

#include "dns/op-publisher.h"

G_BEGIN_DECLS

/* The largest response read from the API, enough for a zone of many thousand records. */
#define OP_PDNS_MAX_RESPONSE (16 * 1024 * 1024)

/* Returns the URL of zone (absolute, with the trailing dot) on the server with
 * id server_id, below the base api_url ("https://dns.example:8081", with or
 * without a trailing "/" or "/api/v1"). Returns NULL with
 * OP_ERROR_INVALID_ARGUMENT when api_url is not an http:// or https:// URL with
 * a host and no user name, query or fragment. */
char *op_pdns_dup_zone_url(const char *api_url, const char *server_id, const char *zone,
			   GError **error);

/* Returns the body of the PATCH that replaces, in zone, each record set of
 * records (OpDnsRecord *) with changetype REPLACE and OP_PUBLISH_TTL. zone_json
 * is the API's response to a GET of the zone, or NULL. At each name where
 * records contains an SPF record, the zone's other TXT records of that name
 * are kept in the replacement, with their disabled flag. */
char *op_pdns_build_patch(const char *zone, GPtrArray *records, GBytes *zone_json,
			  GError **error);

/* Sets error for an HTTP status outside 2xx, with body the API's response:
 * 401/403 OP_ERROR_ACCESS_DENIED, an unknown zone OP_ERROR_NOT_FOUND, 5xx
 * OP_ERROR_TEMPORARY, other statuses OP_ERROR_PERMANENT. The message quotes
 * the API's own error text, cut short, unless it contains api_key. */
void op_pdns_set_status_error(guint status, GBytes *body, const char *zone,
			      const char *server_id, const char *api_key, GError **error);

/* The "powerdns" entry of the publisher table (op-publisher.c). */
extern const OpPublisher op_publisher_powerdns;

G_END_DECLS
