#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Run the end-to-end tests (every test_*.py here) in private network, mount and
# PID namespaces with only loopback, so no test traffic can leave the machine
# and every process the tests start dies with the namespace.
# Usage: run-integration.sh OUTPOSTD OUTPOSTCTL [TEST_NAME...]
# Exits 77 (skipped) when namespaces cannot be created.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 2 ]; then
	echo "usage: $0 OUTPOSTD OUTPOSTCTL [TEST_NAME...]" >&2
	exit 2
fi

skip() {
	echo "SKIP: $*"
	exit 77
}

if [ -z "${OUTPOST_TEST_NAMESPACE:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "the integration tests need root to create a network namespace"
	command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
	unshare --net --mount --pid --fork true 2>/dev/null ||
		skip "unshare --net --mount --pid failed: namespaces are not available here"

	missing=""
	for tool in ip knotd knotc kzonecheck pdns_server dbus-daemon gdbus swaks openssl \
		/usr/bin/python3; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	if ! /usr/bin/python3 -c 'import aiosmtpd, dkim, dns.query, nacl' 2>/dev/null; then
		missing="$missing python3-aiosmtpd/python3-dkim/python3-dnspython/python3-nacl"
	fi
	if [ -n "$missing" ]; then
		echo "missing test tools:$missing; run build-aux/setup.sh as root" >&2
		exit 1
	fi
	for binary in "$1" "$2"; do
		if [ ! -x "$binary" ]; then
			echo "$binary is missing or not executable: build the project first" >&2
			exit 1
		fi
	done

	scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-integration.XXXXXX")
	rc=0
	OUTPOST_TEST_NAMESPACE="$scratch" unshare --net --mount --pid --fork --kill-child \
		--mount-proc -- "$0" "$@" || rc=$?
	if [ "$rc" = 0 ]; then
		rm -rf "$scratch"
	else
		echo "integration tests failed (status $rc); state and logs kept in $scratch" >&2
	fi
	exit "$rc"
fi

# Inside the namespaces: this shell is PID 1, so everything still running
# when it exits is killed by the kernel.
scratch="$OUTPOST_TEST_NAMESPACE"
unset OUTPOST_TEST_NAMESPACE
ip link set lo up

# A program that falls back to /etc/resolv.conf sends its queries to
# 127.0.0.1:53, where nothing listens, instead of the machine's resolver.
printf 'nameserver 127.0.0.1\n' >"$scratch/resolv.conf"
mount --bind "$scratch/resolv.conf" /etc/resolv.conf ||
	echo "warning: could not hide /etc/resolv.conf; the namespace has no route out anyway" >&2

mkdir -p "$scratch/home" "$scratch/tmp" "$scratch/run"
chmod 700 "$scratch/run"
export HOME="$scratch/home" TMPDIR="$scratch/tmp" XDG_RUNTIME_DIR="$scratch/run"
export XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share"
export XDG_CACHE_HOME="$scratch/home/.cache"
unset DBUS_SYSTEM_BUS_ADDRESS

export DBUS_SESSION_BUS_ADDRESS="unix:path=$scratch/run/bus"
bus_pid=$(dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nopidfile --fork \
	--print-pid)

outpostd=$(readlink -f "$1")
outpostctl=$(readlink -f "$2")
shift 2
export PYTHONDONTWRITEBYTECODE=1
rc=0
# Each test file starts its own servers and daemon, in a scratch folder of its own.
# OUTPOST_TEST_FILES="test_a test_b" runs only those files.
for test_file in "$here"/test_*.py; do
	name=$(basename "$test_file" .py)
	case " ${OUTPOST_TEST_FILES:-$name} " in
	*" $name "*) ;;
	*) continue ;;
	esac
	echo "== $name"
	/usr/bin/python3 "$test_file" --outpostd "$outpostd" --outpostctl "$outpostctl" \
		--scratch "$scratch/$name" "$@" || rc=$?
done

kill "$bus_pid" 2>/dev/null || true
exit "$rc"
