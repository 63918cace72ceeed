/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs Outpost's SPF evaluator for the cross-check with pyspf in test_spf.py.
 * Usage: spf-eval RESOLVER, then one case a line on standard input as
 * "HOST<TAB>MAILFROM<TAB>HELO"; prints "RESULT<TAB>EXPLANATION" for each.
 */
#include <stdio.h>
#include <string.h>

#include "dns/op-spf.h"

static void
evaluate_line(const OpSpfLookup *lookup, char *line)
{
	g_auto(GStrv) fields = g_strsplit(g_strchomp(line), "\t", 3);
	g_autoptr(GInetAddress) ip = NULL;
	g_autofree char *explanation = NULL;
	g_autoptr(GError) error = NULL;
	const char *domain;
	const char *at;
	OpSpfResult result;

	if (g_strv_length(fields) != 3 ||
	    (ip = g_inet_address_new_from_string(fields[0])) == NULL) {
		printf("invalid-input\t\n");
		return;
	}
	/* The MAIL FROM domain, or the HELO name for an empty MAIL FROM (RFC 7208 §2.4). */
	at = strrchr(fields[1], '@');
	if (fields[1][0] == '\0')
		domain = fields[2];
	else if (at != NULL)
		domain = at + 1;
	else
		domain = fields[1];
	result = op_spf_check_host(lookup, ip, domain, fields[1][0] != '\0' ? fields[1] : NULL,
				   fields[2], &explanation, &error);
	printf("%s\t%s\n", op_spf_result_to_string(result),
	       explanation != NULL ? explanation : "");
	if (error != NULL)
		fprintf(stderr, "%s %s: %s\n", fields[0], domain, error->message);
}

int
main(int argc, char **argv)
{
	g_autoptr(OpResolver) resolver = NULL;
	g_autoptr(GError) error = NULL;
	OpSpfLookup lookup;
	char line[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s RESOLVER (e.g. 127.0.0.1:5353)\n", argv[0]);
		return 2;
	}
	resolver = op_resolver_new(argv[1], 5, &error);
	if (resolver == NULL) {
		fprintf(stderr, "%s\n", error->message);
		return 2;
	}
	op_spf_lookup_init_resolver(&lookup, resolver);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		evaluate_line(&lookup, line);
		fflush(stdout);
	}
	return 0;
}
