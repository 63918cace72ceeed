/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl dns publish and dns target: sends a domain's records to its DNS
 * server, and stores where they go. Secrets come from a file or standard
 * input so that they stay out of the shell history. Only the older --tsig
 * option also takes one on the command line.
 */
#include "ctl/outpostctl.h"

#include "dns/op-publisher.h"
#include "op-error.h"

#include <stdio.h>
#include <string.h>

#define OP_MAX_SECRET_LINE 1024

/* Returns the first line of path without its line ending, reading standard
 * input when path is "-". what names the line in an error. */
static char *
read_first_line(const char *path, const char *what, GError **error)
{
	char buffer[OP_MAX_SECRET_LINE] = {0};
	g_autofree char *contents = NULL;
	char *line;

	if (strcmp(path, "-") != 0) {
		if (!g_file_get_contents(path, &contents, NULL, error))
			return NULL;
		line = g_strndup(contents, strcspn(contents, "\r\n"));
		explicit_bzero(contents, strlen(contents));
		return line;
	}
	if (fgets(buffer, sizeof buffer, stdin) == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "standard input is empty: give the %s on its first line", what);
		return NULL;
	}
	line = g_strndup(buffer, strcspn(buffer, "\r\n"));
	explicit_bzero(buffer, sizeof buffer);
	return line;
}

/* Returns the TSIG key split into name, algorithm and secret, from --tsig,
 * --tsig - (standard input) or --tsig-file. */
static char **
read_tsig_key(OpCtl *ctl, GError **error)
{
	g_autofree char *line = NULL;
	char **parts;

	if ((ctl->tsig != NULL) == (ctl->tsig_file != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the TSIG key with either --tsig NAME:ALGORITHM:SECRET, "
			    "--tsig - or --tsig-file FILE");
		return NULL;
	}
	if (ctl->tsig_file != NULL)
		line = read_first_line(ctl->tsig_file, "TSIG key as NAME:ALGORITHM:SECRET", error);
	else if (strcmp(ctl->tsig, "-") == 0)
		line = read_first_line("-", "TSIG key as NAME:ALGORITHM:SECRET", error);
	else
		line = g_strdup(ctl->tsig);
	if (line == NULL)
		return NULL;
	parts = g_strsplit(g_strstrip(line), ":", 3);
	explicit_bzero(line, strlen(line));
	if (g_strv_length(parts) != 3) {
		for (guint i = 0; parts[i] != NULL; i++)
			explicit_bzero(parts[i], strlen(parts[i]));
		g_strfreev(parts);
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the TSIG key must read NAME:ALGORITHM:SECRET, "
			    "e.g. outpost-key:hmac-sha256:BASE64");
		return NULL;
	}
	return parts;
}

static void
free_secret_parts(char **parts)
{
	if (parts != NULL && parts[0] != NULL && parts[1] != NULL && parts[2] != NULL)
		explicit_bzero(parts[2], strlen(parts[2]));
	g_strfreev(parts);
}

static gboolean
dns_publish(OpCtl *ctl, char **args, GError **error)
{
	char **parts = NULL;
	guint count = 0;
	gboolean ok;

	if (!op_ctl_expect_args(args, 1,
				"dns publish DOMAIN [--server HOST[:PORT] "
				"--tsig NAME:ALGORITHM:SECRET]",
				error))
		return FALSE;
	if (ctl->server == NULL && (ctl->tsig != NULL || ctl->tsig_file != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "a TSIG key needs the zone's primary DNS server: add --server "
			    "HOST[:PORT], or leave both out to use the stored target");
		return FALSE;
	}
	/* An empty server would mean the stored target to the daemon. */
	if (ctl->server != NULL && *ctl->server == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the --server value is empty: give the DNS server as an IP address, "
			    "e.g. 192.0.2.53 or [2001:db8::53]:53");
		return FALSE;
	}
	if (ctl->server != NULL) {
		parts = read_tsig_key(ctl, error);
		if (parts == NULL)
			return FALSE;
	}
	/* Empty server and key: the daemon uses the target stored for the domain. */
	ok = op_dbus_outpost1_manager_call_publish_dns_records_sync(
		ctl->proxy, args[0], ctl->server ? ctl->server : "", parts ? parts[0] : "",
		parts ? parts[1] : "", parts ? parts[2] : "", &count, NULL, error);
	free_secret_parts(parts);
	if (!ok)
		return FALSE;
	if (ctl->json)
		g_print("{\n  \"count\" : %u\n}\n", count);
	else if (ctl->server != NULL)
		g_print("Published %u DNS records of %s to %s.\n", count, args[0], ctl->server);
	else
		g_print("Published %u DNS records of %s to its stored target.\n", count, args[0]);
	return TRUE;
}

/* ---- dns target ---------------------------------------------------------- */

static void
add_string(GVariantBuilder *builder, const char *key, const char *value)
{
	g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

/* Adds the dns-update entries: --server and the TSIG key. */
static gboolean
add_dns_update_entries(OpCtl *ctl, GVariantBuilder *builder, GError **error)
{
	char **parts = read_tsig_key(ctl, error);

	if (parts == NULL)
		return FALSE;
	add_string(builder, "kind", "dns-update");
	add_string(builder, "server", ctl->server);
	add_string(builder, "tsig-name", parts[0]);
	add_string(builder, "tsig-algorithm", parts[1]);
	add_string(builder, "tsig-secret", parts[2]);
	free_secret_parts(parts);
	return TRUE;
}

/* Adds the powerdns entries: --powerdns, --server-id and the API key. */
static gboolean
add_powerdns_entries(OpCtl *ctl, GVariantBuilder *builder, GError **error)
{
	g_autofree char *key = NULL;

	if (ctl->api_key_file == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the PowerDNS API key with --api-key-file FILE, or "
			    "--api-key-file - to read it from standard input");
		return FALSE;
	}
	key = read_first_line(ctl->api_key_file, "PowerDNS API key", error);
	if (key == NULL)
		return FALSE;
	add_string(builder, "kind", "powerdns");
	add_string(builder, "api-url", ctl->powerdns);
	add_string(builder, "api-key", g_strstrip(key));
	explicit_bzero(key, strlen(key));
	if (ctl->server_id != NULL)
		add_string(builder, "server-id", ctl->server_id);
	return TRUE;
}

static gboolean
target_set(OpCtl *ctl, const char *domain, GError **error)
{
	GVariantBuilder builder;
	gboolean ok;

	if ((ctl->server != NULL) == (ctl->powerdns != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give either --server HOST[:PORT] with a TSIG key, or --powerdns URL "
			    "with --api-key-file");
		return FALSE;
	}
	if (ctl->powerdns != NULL && (ctl->tsig != NULL || ctl->tsig_file != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "--tsig and --tsig-file apply to --server targets only");
		return FALSE;
	}
	if (ctl->server != NULL && (ctl->api_key_file != NULL || ctl->server_id != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "--api-key-file and --server-id apply to --powerdns targets only");
		return FALSE;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	if (ctl->zone != NULL)
		add_string(&builder, "zone", ctl->zone);
	ok = ctl->server != NULL ? add_dns_update_entries(ctl, &builder, error)
				 : add_powerdns_entries(ctl, &builder, error);
	if (!ok) {
		g_variant_builder_clear(&builder);
		return FALSE;
	}
	if (!op_dbus_outpost1_manager_call_set_publish_target_sync(
		    ctl->proxy, domain, g_variant_builder_end(&builder), NULL, error))
		return FALSE;
	g_print("Stored the publish target of %s. Publish with: outpostctl dns publish %s\n",
		domain, domain);
	return TRUE;
}

static gboolean
target_show(OpCtl *ctl, const char *domain, GError **error)
{
	g_autoptr(GVariant) target = NULL;
	static const char *const keys[] = {"kind", "server", "tsig-name", "tsig-algorithm",
					   "api-url", "server-id", "zone"};
	gboolean has_secret = FALSE;

	if (!op_dbus_outpost1_manager_call_get_publish_target_sync(ctl->proxy, domain, &target,
								    NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(target);
		return TRUE;
	}
	if (g_variant_n_children(target) == 0) {
		g_print("No publish target is stored for %s.\n", domain);
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *value = NULL;

		if (g_variant_lookup(target, keys[i], "&s", &value))
			g_print("%-15s %s\n", keys[i], value);
	}
	g_variant_lookup(target, "has-secret", "b", &has_secret);
	g_print("%-15s %s\n", "secret", has_secret ? "stored (never shown)" : "none");
	return TRUE;
}

static gboolean
dns_target(OpCtl *ctl, char **args, GError **error)
{
	const char *usage = "dns target set|show|remove DOMAIN";

	if (!op_ctl_expect_args(args, 2, usage, error))
		return FALSE;
	if (strcmp(args[0], "set") == 0)
		return target_set(ctl, args[1], error);
	if (strcmp(args[0], "show") == 0)
		return target_show(ctl, args[1], error);
	if (strcmp(args[0], "remove") == 0) {
		if (!op_dbus_outpost1_manager_call_remove_publish_target_sync(ctl->proxy, args[1],
									       NULL, error))
			return FALSE;
		g_print("Removed the publish target of %s.\n", args[1]);
		return TRUE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "usage: outpostctl %s", usage);
	return FALSE;
}

/* ---- dns records --zone-file ---------------------------------------------- */

void
op_ctl_print_zone_file(GVariant *records)
{
	GVariantIter iter;
	GVariant *record;

	/* Absolute names and an explicit TTL and class on every line, so the
	 * lines mean the same wherever they are pasted in a zone file. */
	g_variant_iter_init(&iter, records);
	while ((record = g_variant_iter_next_value(&iter)) != NULL) {
		const char *name = op_ctl_lookup_string(record, "name");
		gboolean publish = TRUE;

		/* Records for someone else's zone stay in the snippet as comments. */
		g_variant_lookup(record, "publish", "b", &publish);
		g_print("%s%s%s\t%d\tIN\t%s\t%s\n", publish ? "" : "; elsewhere: ", name,
			g_str_has_suffix(name, ".") ? "" : ".",
			OP_PUBLISH_TTL, op_ctl_lookup_string(record, "type"),
			op_ctl_lookup_string(record, "value"));
		g_variant_unref(record);
	}
}

const OpCtlCommand op_ctl_dns_commands[] = {
	{"dns", "publish", dns_publish,
	 "DOMAIN [--server HOST[:PORT] (--tsig NAME:ALGORITHM:SECRET | --tsig - | --tsig-file "
	 "FILE)]: publish the records by DNS UPDATE signed with the TSIG key, or without "
	 "--server to the stored target"},
	{"dns", "target", dns_target,
	 "set DOMAIN (--server HOST[:PORT] --tsig ... | --powerdns URL --api-key-file FILE|- "
	 "[--server-id ID]) [--zone ZONE], show DOMAIN [--json] or remove DOMAIN: store, "
	 "show or forget where dns publish sends the records (the secret is never shown)"},
	{NULL, NULL, NULL, NULL},
};
