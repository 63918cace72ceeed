/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The table of publishing providers and the checks every provider shares:
 * a known kind, and records that all lie inside the zone being changed.
 */
#define G_LOG_DOMAIN "outpost-dns"

#include "dns/op-publisher.h"

#include "dns/op-publish-pdns.h"
#include "dns/op-publish-update.h"
#include "dns/op-records.h"
#include "op-error.h"

#include <string.h>

static const OpPublisher *const op_publishers[] = {
	&op_publisher_dns_update,
	&op_publisher_powerdns,
};

void
op_publish_target_free(OpPublishTarget *target)
{
	if (target == NULL)
		return;
	if (target->secret != NULL)
		explicit_bzero(target->secret, strlen(target->secret));
	g_free(target->kind);
	g_free(target->server);
	g_free(target->key_name);
	g_free(target->key_algorithm);
	g_free(target->secret);
	g_free(target->zone);
	g_free(target);
}

static const OpPublisher *
find_publisher(const char *kind, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_publishers); i++) {
		if (g_strcmp0(kind, op_publishers[i]->kind) == 0)
			return op_publishers[i];
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown publish target kind: use dns-update or powerdns");
	return NULL;
}

gboolean
op_publisher_check_target(const OpPublishTarget *target, GError **error)
{
	const OpPublisher *publisher = find_publisher(target->kind, error);

	return publisher != NULL && publisher->check(target, error);
}

/* Returns whether name is zone or a name below it. Both are absolute. */
static gboolean
is_in_zone(const char *name, const char *zone)
{
	gsize name_length = strlen(name);
	gsize zone_length = strlen(zone);

	if (name_length == zone_length)
		return g_ascii_strcasecmp(name, zone) == 0;
	return name_length > zone_length && name[name_length - zone_length - 1] == '.' &&
	       g_ascii_strcasecmp(name + name_length - zone_length, zone) == 0;
}

gboolean
op_publisher_publish(const OpPublishTarget *target, const char *zone, GPtrArray *records,
		     GError **error)
{
	const OpPublisher *publisher = find_publisher(target->kind, error);
	g_autofree char *apex = NULL;

	if (publisher == NULL || !publisher->check(target, error))
		return FALSE;
	apex = g_str_has_suffix(zone, ".") ? g_strdup(zone) : g_strconcat(zone, ".", NULL);
	for (guint i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);

		if (!is_in_zone(record->name, apex)) {
			g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
				    "the record %s is not inside the zone %s: give the zone that "
				    "contains the domain", record->name, apex);
			return FALSE;
		}
	}
	return publisher->publish(target, apex, records, error);
}

/* Appends one quoted character-string starting after its opening quote and
 * returns the position after its closing quote, or NULL when it is not
 * closed or has a bad escape (RFC 1035 §5.1: \X and \DDD). */
static const char *
append_quoted(GString *text, const char *p)
{
	while (*p != '"') {
		if (*p == '\0')
			return NULL;
		if (*p != '\\') {
			g_string_append_c(text, *p++);
			continue;
		}
		p++;
		if (g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2])) {
			int octet = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');

			if (octet > 255)
				return NULL;
			g_string_append_c(text, (char)octet);
			p += 3;
		} else if (*p != '\0') {
			g_string_append_c(text, *p++);
		} else {
			return NULL;
		}
	}
	return p + 1;
}

char *
op_publish_dup_txt_text(const char *value)
{
	g_autoptr(GString) text = g_string_new(NULL);
	const char *p = value;

	while (*p != '\0') {
		if (g_ascii_isspace(*p)) {
			p++;
		} else if (*p == '"') {
			p = append_quoted(text, p + 1);
			if (p == NULL)
				return NULL;
		} else {
			/* An unquoted character-string ends at white space. */
			while (*p != '\0' && !g_ascii_isspace(*p) && *p != '"')
				g_string_append_c(text, *p++);
		}
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

gboolean
op_publish_txt_is_spf(const char *value)
{
	g_autofree char *text = op_publish_dup_txt_text(value);

	return text != NULL && g_ascii_strncasecmp(text, "v=spf1", 6) == 0 &&
	       (text[6] == '\0' || text[6] == ' ');
}
