#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs submit-bench.py against build/daemon in a private network namespace
# with its own session bus. Usage: tests/bench/run-bench.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
exec unshare --net -- sh -c "ip link set lo up; ulimit -n 8192; exec dbus-run-session -- /usr/bin/python3 '$top/tests/bench/submit-bench.py' '$build/daemon/outpostd' '$build/daemon/outpostctl'"
