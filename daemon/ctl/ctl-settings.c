/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for the delivery log, server settings and statistics.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <string.h>

const OpCtlCommand op_ctl_settings_commands[] = {
	{NULL, NULL, NULL, NULL},
};
