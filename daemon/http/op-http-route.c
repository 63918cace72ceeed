/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Request routing of the HTTP endpoint. Thunderbird requests autoconfig.DOMAIN
 * and DOMAIN (draft-ietf-mailmaint-autoconfig §4.1), Outlook requests DOMAIN
 * and autodiscover.DOMAIN, and MTA-STS senders request mta-sts.DOMAIN (RFC
 * 8461 §3.3).
 */
#include "http/op-http-route.h"

#include "http/op-autoconfig.h"
#include "http/op-autodiscover.h"
#include "http/op-mta-sts.h"

#include <string.h>

/* RFC 1035 §2.3.4: a name is at most 253 characters in text form. */
#define OP_MAX_HOST_NAME 253
#define OP_MIN_TOKEN 16
#define OP_MAX_TOKEN 64

static const char *const op_http_host_prefixes[] = {
	"autoconfig.",
	"autodiscover.",
	"mta-sts.",
};

void
op_http_route_clear(OpHttpRoute *route)
{
	g_clear_pointer(&route->domain, g_free);
	g_clear_pointer(&route->token, g_free);
	route->kind = OP_HTTP_ROUTE_NONE;
}

static gboolean
is_host_character(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

char *
op_http_route_dup_host_name(const char *host)
{
	g_autofree char *name = NULL;
	const char *end;
	gsize length;

	if (host == NULL || *host == '\0')
		return NULL;
	/* An IPv6 literal ("[::1]:8443") names no domain. */
	if (host[0] == '[') {
		end = strchr(host, ']');
		return end != NULL ? g_strndup(host, end - host + 1) : NULL;
	}
	end = strchr(host, ':');
	length = end != NULL ? (gsize)(end - host) : strlen(host);
	while (length > 0 && host[length - 1] == '.')
		length--;
	if (length == 0 || length > OP_MAX_HOST_NAME)
		return NULL;
	name = g_ascii_strdown(host, length);
	for (const char *c = name; *c != '\0'; c++) {
		if (!is_host_character(*c))
			return NULL;
	}
	return g_steal_pointer(&name);
}

static gboolean
parse_token(const char *path, char **token)
{
	const char *start = path + strlen(OP_HTTP_PROFILE_PREFIX);
	gsize length;

	if (!g_str_has_prefix(path, OP_HTTP_PROFILE_PREFIX) ||
	    !g_str_has_suffix(path, OP_HTTP_PROFILE_SUFFIX))
		return FALSE;
	if (strlen(path) < strlen(OP_HTTP_PROFILE_PREFIX) + strlen(OP_HTTP_PROFILE_SUFFIX))
		return FALSE;
	length = strlen(start) - strlen(OP_HTTP_PROFILE_SUFFIX);
	if (length < OP_MIN_TOKEN || length > OP_MAX_TOKEN)
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isxdigit(start[i]))
			return FALSE;
	}
	*token = g_ascii_strdown(start, length);
	return TRUE;
}

static OpHttpRouteKind
route_path(const char *path, const char *prefix, char **token)
{
	gboolean on_mta_sts = g_strcmp0(prefix, "mta-sts.") == 0;

	if (strcmp(path, OP_MTA_STS_PATH) == 0)
		return on_mta_sts ? OP_HTTP_ROUTE_MTA_STS : OP_HTTP_ROUTE_NONE;
	/* mta-sts.DOMAIN serves the policy and nothing else. */
	if (on_mta_sts)
		return OP_HTTP_ROUTE_NONE;
	if (strcmp(path, OP_AUTOCONFIG_PATH) == 0 ||
	    strcmp(path, OP_AUTOCONFIG_WELL_KNOWN_PATH) == 0)
		return OP_HTTP_ROUTE_AUTOCONFIG;
	/* Clients write this path in mixed case, such as /AutoDiscover/AutoDiscover.xml. */
	if (g_ascii_strcasecmp(path, OP_AUTODISCOVER_PATH) == 0)
		return OP_HTTP_ROUTE_AUTODISCOVER;
	if (parse_token(path, token))
		return OP_HTTP_ROUTE_PROFILE;
	return OP_HTTP_ROUTE_NONE;
}

gboolean
op_http_route_parse(const char *host, const char *path, const char *own_host,
		    OpHttpRoute *route)
{
	g_autofree char *name = op_http_route_dup_host_name(host);
	g_autofree char *own = op_http_route_dup_host_name(own_host);
	const char *prefix = NULL;
	const char *domain;

	route->kind = OP_HTTP_ROUTE_NONE;
	route->domain = NULL;
	route->token = NULL;
	if (name == NULL || path == NULL || name[0] == '[')
		return FALSE;
	domain = name;
	if (g_strcmp0(name, own) != 0) {
		for (gsize i = 0; i < G_N_ELEMENTS(op_http_host_prefixes); i++) {
			if (g_str_has_prefix(name, op_http_host_prefixes[i])) {
				prefix = op_http_host_prefixes[i];
				domain = name + strlen(prefix);
				break;
			}
		}
		/* A domain has at least two labels. */
		if (strchr(domain, '.') == NULL)
			return FALSE;
	}
	route->kind = route_path(path, prefix, &route->token);
	if (route->kind == OP_HTTP_ROUTE_NONE)
		return FALSE;
	if (g_strcmp0(name, own) != 0)
		route->domain = g_strdup(domain);
	return TRUE;
}
