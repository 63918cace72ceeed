/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpost: the GTK 4 admin app for the Outpost mail server.
 */
#include "op-application.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main(int argc, char **argv)
{
	g_autoptr(OpApplication) application = NULL;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	application = op_application_new();
	return g_application_run(G_APPLICATION(application), argc, argv);
}
