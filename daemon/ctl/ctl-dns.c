/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl dns publish: sends a domain's records to its primary DNS server.
 * The TSIG key may come from a file or standard input so that its secret stays
 * out of the shell history.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <stdio.h>
#include <string.h>

#define OP_MAX_TSIG_LINE 1024

/* Returns the first line of the key text, from --tsig, --tsig - (standard
 * input) or --tsig-file. */
static char *
read_tsig_line(OpCtl *ctl, GError **error)
{
	char buffer[OP_MAX_TSIG_LINE] = {0};
	g_autofree char *contents = NULL;
	char *line;

	if ((ctl->tsig != NULL) == (ctl->tsig_file != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the TSIG key with either --tsig NAME:ALGORITHM:SECRET, "
			    "--tsig - or --tsig-file FILE");
		return NULL;
	}
	if (ctl->tsig_file != NULL) {
		if (!g_file_get_contents(ctl->tsig_file, &contents, NULL, error))
			return NULL;
		line = g_strndup(contents, strcspn(contents, "\r\n"));
		explicit_bzero(contents, strlen(contents));
		return line;
	}
	if (strcmp(ctl->tsig, "-") != 0)
		return g_strdup(ctl->tsig);
	if (fgets(buffer, sizeof buffer, stdin) == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "standard input is empty: give the TSIG key as NAME:ALGORITHM:SECRET");
		return NULL;
	}
	line = g_strndup(buffer, strcspn(buffer, "\r\n"));
	explicit_bzero(buffer, sizeof buffer);
	return line;
}

static gboolean
dns_publish(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *line = NULL;
	g_auto(GStrv) parts = NULL;
	guint count = 0;
	gboolean ok;

	if (!op_ctl_expect_args(args, 1,
				"dns publish DOMAIN --server HOST[:PORT] --tsig NAME:ALGORITHM:SECRET",
				error))
		return FALSE;
	if (ctl->server == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give the zone's primary DNS server with --server HOST[:PORT]");
		return FALSE;
	}
	line = read_tsig_line(ctl, error);
	if (line == NULL)
		return FALSE;
	parts = g_strsplit(g_strstrip(line), ":", 3);
	explicit_bzero(line, strlen(line));
	if (g_strv_length(parts) != 3) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the TSIG key must read NAME:ALGORITHM:SECRET, "
			    "e.g. outpost-key:hmac-sha256:BASE64");
		return FALSE;
	}
	ok = op_dbus_outpost1_manager_call_publish_dns_records_sync(
		ctl->proxy, args[0], ctl->server, parts[0], parts[1], parts[2], &count, NULL,
		error);
	explicit_bzero(parts[2], strlen(parts[2]));
	if (!ok)
		return FALSE;
	if (ctl->json)
		g_print("{\n  \"count\" : %u\n}\n", count);
	else
		g_print("Published %u DNS records of %s to %s.\n", count, args[0], ctl->server);
	return TRUE;
}

const OpCtlCommand op_ctl_dns_commands[] = {
	{"dns", "publish", dns_publish,
	 "DOMAIN --server HOST[:PORT] (--tsig NAME:ALGORITHM:SECRET | --tsig - | --tsig-file "
	 "FILE): publish the records by DNS UPDATE signed with the TSIG key"},
	{NULL, NULL, NULL, NULL},
};
