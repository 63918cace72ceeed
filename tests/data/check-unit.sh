#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks that the installed systemd unit keeps its hardening: the exposure
# that "systemd-analyze security" reports must stay at 2.0 or below.
# Usage: check-unit.sh BUILT_UNIT_FILE
set -eu
unit=$1
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze is not installed: skipping the unit check"
	exit 77
fi
systemd-analyze verify --man=no "$unit" 2>&1 | grep -v "Unknown key name\|not executable\|ExecStart= path" || true
report=$(systemd-analyze security --offline=yes "$unit" 2>&1)
exposure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$exposure" ]; then
	printf '%s\n' "$report"
	echo "error: no exposure level in the output of systemd-analyze security"
	exit 1
fi
echo "exposure of $(basename "$unit"): $exposure"
awk -v value="$exposure" 'BEGIN { exit !(value <= 2.0) }' || {
	printf '%s\n' "$report" | grep '✗'
	echo "error: exposure $exposure is above 2.0"
	exit 1
}
