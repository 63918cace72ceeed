/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Publishing a domain's generated records to where its zone is served: one
 * target type for every provider and one entry point that dispatches on the
 * target's kind. A new provider is one more source file and one table entry.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The records Outpost publishes all have this TTL, in seconds. */
#define OP_PUBLISH_TTL 3600

/* Where a domain's records go. The fields are the columns of the store's
 * publish_targets table, and their meaning depends on the kind. */
typedef struct _OpPublishTarget {
	char *kind;	     /* "dns-update" or "powerdns" */
	char *server;	     /* dns-update: "HOST[:PORT]"; powerdns: the API's base URL */
	char *key_name;	     /* dns-update: the TSIG key name; powerdns: the server id */
	char *key_algorithm; /* dns-update: "hmac-sha256" or "hmac-sha512"; powerdns: "" */
	char *secret;	     /* dns-update: the TSIG secret in base64; powerdns: the API key */
	char *zone;	     /* the zone to change, "" for the domain's own name */
} OpPublishTarget;

/* One provider: checks a target of its kind without any network traffic, and
 * replaces the record sets Outpost owns in zone (an absolute name with a
 * trailing dot) with records (OpDnsRecord *). */
typedef struct {
	const char *kind;
	gboolean (*check)(const OpPublishTarget *target, GError **error);
	gboolean (*publish)(const OpPublishTarget *target, const char *zone, GPtrArray *records,
			    GError **error);
} OpPublisher;

/* Frees the target, overwriting its secret first. */
void op_publish_target_free(OpPublishTarget *target);

/* Checks every field of target for its kind, with no network traffic.
 * Errors are OP_ERROR_INVALID_ARGUMENT and never quote the secret. */
gboolean op_publisher_check_target(const OpPublishTarget *target, GError **error);

/* Checks target, then that every record is at or below zone (with or without
 * the trailing dot), then replaces the record sets Outpost owns in zone with
 * records through the target's provider. For a name where records contains
 * an SPF record, only the TXT records starting with "v=spf1" are Outpost's: the
 * other TXT records of that name stay. A rejected key is
 * OP_ERROR_ACCESS_DENIED, an unreachable server OP_ERROR_TEMPORARY. */
gboolean op_publisher_publish(const OpPublishTarget *target, const char *zone,
			      GPtrArray *records, GError **error);

/* Returns the text of a TXT value in zone-file form (character-strings,
 * quoted or not, separated by spaces; RFC 1035 §5.1) as one string, the way
 * RFC 7208 §3.3 joins an SPF record, or NULL when the value is malformed. */
char *op_publish_dup_txt_text(const char *value);

/* Returns whether a TXT value in zone-file form is an SPF record: its text
 * starts with "v=spf1" followed by a space or its end (RFC 7208 §4.5). */
gboolean op_publish_txt_is_spf(const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpPublishTarget, op_publish_target_free)

G_END_DECLS
