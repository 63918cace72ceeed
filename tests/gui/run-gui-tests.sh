#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Run the admin app's GUI tests: in private network, mount and PID
# namespaces with only loopback, start a session bus, outpostd on it, seed
# a domain, an account and deferred messages, then run COMMAND under Xvfb
# with OUTPOST_SCREENSHOT_DIR set.
# Usage: run-gui-tests.sh OUTPOSTD OUTPOSTCTL SCREENSHOT_DIR COMMAND [ARGUMENT...]
# Exits 77 (skipped) when namespaces or Xvfb are not available.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
skip() {
	echo "SKIP: $*"
	exit 77
}

if [ -z "${OUTPOST_TEST_NAMESPACE:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "the GUI tests need root to create a network namespace"
	unshare --net --mount --pid --fork true 2>/dev/null ||
		skip "unshare --net --mount --pid failed: namespaces are not available here"
	for tool in xvfb-run Xvfb dbus-daemon gdbus /usr/bin/python3; do
		command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
	done
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-gui.XXXXXX")
	rc=0
	OUTPOST_TEST_NAMESPACE="$scratch" unshare --net --mount --pid --fork --kill-child \
		--mount-proc -- "$0" "$@" || rc=$?
	if [ "$rc" = 0 ]; then
		rm -rf "$scratch"
	else
		echo "GUI tests failed (status $rc); logs kept in $scratch" >&2
	fi
	exit "$rc"
fi

scratch="$OUTPOST_TEST_NAMESPACE"
unset OUTPOST_TEST_NAMESPACE
ip link set lo up
printf 'nameserver 127.0.0.1\n' >"$scratch/resolv.conf"
mount --bind "$scratch/resolv.conf" /etc/resolv.conf || true

outpostd=$(readlink -f "$1")
outpostctl=$(readlink -f "$2")
mkdir -p "$3"
screenshots=$(readlink -f "$3")
shift 3

mkdir -p "$scratch/home" "$scratch/tmp" "$scratch/run" "$scratch/state"
chmod 700 "$scratch/run"
export HOME="$scratch/home" TMPDIR="$scratch/tmp" XDG_RUNTIME_DIR="$scratch/run"
export XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/home/.cache"
export XDG_DATA_HOME="$scratch/home/.local/share"
export GSK_RENDERER=cairo GDK_BACKEND=x11 LANG=C.UTF-8
export GSETTINGS_BACKEND=memory
unset DBUS_SYSTEM_BUS_ADDRESS

export DBUS_SESSION_BUS_ADDRESS="unix:path=$scratch/run/bus"
dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nopidfile --fork --print-pid \
	>"$scratch/bus.pid"

# Nothing answers DNS on 127.0.0.1:9, so every delivery attempt fails
# temporarily and the seeded messages stay in the queue as deferred.
"$outpostd" --session-bus --config /dev/null --state-dir "$scratch/state" \
	--hostname mail.outpost.test --submission 127.0.0.1:10587 \
	--submissions 127.0.0.1:10465 --resolver 127.0.0.1:9 --delivery-port 2525 \
	--retry-min 3600 >"$scratch/outpostd.log" 2>&1 &
gdbus wait --session --timeout 20 io.github.outpostmail.Outpost1

"$outpostctl" --session-bus domain add seed.example >/dev/null
echo 'seed-password-1234' |
	"$outpostctl" --session-bus account add sender@seed.example --password-stdin >/dev/null
/usr/bin/python3 "$here/seed_queue.py" 127.0.0.1 10587 sender@seed.example \
	seed-password-1234 12

xvfb-run -a -s '-screen 0 1280x800x24' env OUTPOST_SCREENSHOT_DIR="$screenshots" "$@"
