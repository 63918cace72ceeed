#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build Outpost and start outpostd in development mode in the foreground;
# the daemon prints the addresses it listens on. Extra arguments go to outpostd.
# The daemon uses a private session bus at state/bus, started here unless one
# from an earlier run still answers, so outpostctl can reach it from another
# terminal after "export DBUS_SESSION_BUS_ADDRESS=unix:path=$PWD/state/bus".
set -euo pipefail

cd "$(dirname "$0")/.."
bash build-aux/setup.sh

mkdir -p state
chmod 700 state
bus="unix:path=$PWD/state/bus"
if ! DBUS_SESSION_BUS_ADDRESS=$bus gdbus call --session --dest org.freedesktop.DBus \
	--object-path /org/freedesktop/DBus --method org.freedesktop.DBus.GetId >/dev/null 2>&1; then
	rm -f state/bus
	dbus-daemon --session --address="$bus" --fork --print-pid >state/bus.pid
fi
export DBUS_SESSION_BUS_ADDRESS=$bus
exec build/daemon/outpostd --dev "$@"
