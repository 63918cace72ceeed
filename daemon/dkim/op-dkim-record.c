/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading DKIM key records (RFC 6376 §3.6.1): a tag list of "name=value"
 * pairs separated by semicolons, in which whitespace around and inside
 * base64 values does not count.
 */
#include "dkim/op-dkim-record.h"

#include <string.h>

static gboolean
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 6376 §3.2: tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]. */
char *
op_dkim_record_dup_tag(const char *record, const char *tag)
{
	g_auto(GStrv) specs = NULL;

	g_return_val_if_fail(record != NULL && tag != NULL, NULL);

	specs = g_strsplit(record, ";", -1);
	for (char **spec = specs; *spec != NULL; spec++) {
		const char *equals = strchr(*spec, '=');
		g_autofree char *name = NULL;
		GString *value;

		if (equals == NULL)
			continue;
		name = g_strstrip(g_strndup(*spec, equals - *spec));
		if (strcmp(name, tag) != 0)
			continue;
		value = g_string_new(NULL);
		for (const char *c = equals + 1; *c != '\0'; c++) {
			if (!is_space(*c))
				g_string_append_c(value, *c);
		}
		return g_string_free(value, FALSE);
	}
	return NULL;
}

/* Whether a tag list of values separated by colons (h=, s=) contains value
 * or, for s=, the wildcard. */
static gboolean
list_allows(const char *list, const char *value)
{
	g_auto(GStrv) items = NULL;

	if (list == NULL)
		return TRUE;
	items = g_strsplit(list, ":", -1);
	for (char **item = items; *item != NULL; item++) {
		if (g_ascii_strcasecmp(*item, value) == 0 || strcmp(*item, "*") == 0)
			return TRUE;
	}
	return FALSE;
}

/* Whether a verifier would use the record at all (RFC 6376 §3.6.1): v=, when
 * present, is DKIM1 and the first tag; h= allows sha256; s= allows email. */
static gboolean
is_usable(const char *record)
{
	g_autofree char *version = op_dkim_record_dup_tag(record, "v");
	g_autofree char *hashes = op_dkim_record_dup_tag(record, "h");
	g_autofree char *services = op_dkim_record_dup_tag(record, "s");
	const char *start = record;

	while (is_space(*start))
		start++;
	if (version != NULL && (strcmp(version, "DKIM1") != 0 || !g_str_has_prefix(start, "v")))
		return FALSE;
	return list_allows(hashes, "sha256") && list_allows(services, "email");
}

gboolean
op_dkim_record_same_key(const char *published, const char *expected)
{
	g_autofree char *published_key = op_dkim_record_dup_tag(published, "p");
	g_autofree char *expected_key = op_dkim_record_dup_tag(expected, "p");
	g_autofree char *published_type = op_dkim_record_dup_tag(published, "k");
	g_autofree char *expected_type = op_dkim_record_dup_tag(expected, "k");

	if (published_key == NULL || expected_key == NULL || *published_key == '\0' ||
	    !is_usable(published))
		return FALSE;
	/* k= defaults to rsa (RFC 6376 §3.6.1). */
	if (g_ascii_strcasecmp(published_type ? published_type : "rsa",
			       expected_type ? expected_type : "rsa") != 0)
		return FALSE;
	return strcmp(published_key, expected_key) == 0;
}
