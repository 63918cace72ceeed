#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build Outpost and start outpostd in development mode in the foreground;
# the daemon prints the addresses it listens on. Extra arguments go to outpostd.
set -euo pipefail

cd "$(dirname "$0")/.."
bash build-aux/setup.sh
exec build/daemon/outpostd --dev "$@"
