#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Run test_authorization.py against outpostd on a private system bus with a
# real polkitd, inside private network, mount and PID namespaces, so the
# machine's own bus, polkit setup and network stay untouched.
# Usage: run-dbus-tests.sh OUTPOSTD DATA_DIR [TEST_NAME...]
# Exits 77 (skipped) without root, namespaces, dbus-daemon or polkitd.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
polkitd=/usr/lib/polkit-1/polkitd
bus_name=io.github.outpostmail.Outpost1

if [ $# -lt 2 ]; then
	echo "usage: $0 OUTPOSTD DATA_DIR [TEST_NAME...]" >&2
	exit 2
fi

skip() {
	echo "SKIP: $*"
	exit 77
}

if [ -z "${OUTPOST_TEST_NAMESPACE:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "the D-Bus tests need root to start a system bus and polkitd"
	command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
	command -v dbus-daemon >/dev/null 2>&1 || skip "dbus-daemon (package dbus) is not installed"
	[ -x "$polkitd" ] || skip "$polkitd (package polkitd) is not installed"
	unshare --net --mount --pid --fork true 2>/dev/null ||
		skip "unshare --net --mount --pid failed: namespaces are not available here"

	missing=""
	for tool in ip gdbus setpriv pkcheck mount knotd kdig /usr/bin/python3; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	for account in nobody polkitd; do
		id "$account" >/dev/null 2>&1 || missing="$missing user:$account"
	done
	getent group nogroup >/dev/null 2>&1 || missing="$missing group:nogroup"
	if [ -n "$missing" ]; then
		echo "missing test tools:$missing; run build-aux/setup.sh as root" >&2
		exit 1
	fi
	if [ ! -x "$1" ]; then
		echo "$1 is missing or not executable: build the project first" >&2
		exit 1
	fi
	for file in io.github.outpostmail.Outpost1.xml io.github.outpostmail.Outpost1.conf \
		io.github.outpostmail.outpost.policy; do
		if [ ! -f "$2/$file" ]; then
			echo "$2/$file is missing: pass the source tree's data/ folder" >&2
			exit 1
		fi
	done

	scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-dbus.XXXXXX")
	rc=0
	OUTPOST_TEST_NAMESPACE="$scratch" unshare --net --mount --pid --fork --kill-child \
		--mount-proc -- "$0" "$@" || rc=$?
	if [ "$rc" = 0 ]; then
		rm -rf "$scratch"
	else
		echo "D-Bus tests failed (status $rc); state and logs kept in $scratch" >&2
	fi
	exit "$rc"
fi

# Inside the namespaces: this shell is PID 1, so everything still running
# when it exits is killed by the kernel.
scratch="$OUTPOST_TEST_NAMESPACE"
unset OUTPOST_TEST_NAMESPACE
outpostd=$(readlink -f "$1")
data=$(readlink -f "$2")
shift 2

ip link set lo up
printf 'nameserver 127.0.0.1\n' >"$scratch/resolv.conf"
mount --bind "$scratch/resolv.conf" /etc/resolv.conf ||
	echo "warning: could not hide /etc/resolv.conf; the namespace has no route out anyway" >&2

# polkitd and the test's `nobody` clients must reach the bus socket, and
# polkitd, which runs as its own user, must read the action files.
chmod 755 "$scratch"
mkdir -m 755 "$scratch/bus" "$scratch/actions"
mkdir -m 700 "$scratch/state" "$scratch/home" "$scratch/tmp"
export HOME="$scratch/home" TMPDIR="$scratch/tmp"
unset DBUS_SESSION_BUS_ADDRESS

# The stock system.conf, minus what would reach outside the namespace or run
# other programs: no syslog, no pid file, no activation helper, no fork.
cat >"$scratch/bus/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$scratch/bus/system_bus_socket</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <include>$data/io.github.outpostmail.Outpost1.conf</include>
</busconfig>
EOF
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$scratch/bus/system_bus_socket"

pids=""
stop_all() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	pids=""
}
trap stop_all EXIT

fail() {
	echo "error: $*" >&2
	for log in "$scratch"/*.log; do
		[ -s "$log" ] || continue
		echo "---- last lines of $log" >&2
		tail -n 40 "$log" >&2
	done
	exit 1
}

# Waits up to 10 s for a name on the private system bus.
wait_for_name() {
	gdbus wait --system --timeout 10 "$1" || fail "$1 did not appear on the test bus"
}

dbus-daemon --config-file="$scratch/bus/system.conf" --nofork --nopidfile \
	--print-address=3 3>"$scratch/bus/address" >"$scratch/dbus-daemon.log" 2>&1 &
pids="$!"
tries=0
until [ -s "$scratch/bus/address" ]; do
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || fail "dbus-daemon did not start within 10 s"
	sleep 0.1
done

# polkitd reads actions only from /usr/share/polkit-1/actions, so a copy with
# the project's file added is mounted there, in this mount namespace only.
cp /usr/share/polkit-1/actions/*.policy "$scratch/actions/" 2>/dev/null || true
cp "$data/io.github.outpostmail.outpost.policy" "$scratch/actions/"
chmod 644 "$scratch"/actions/*.policy
mount --bind "$scratch/actions" /usr/share/polkit-1/actions ||
	fail "could not mount the test's polkit actions over /usr/share/polkit-1/actions"

"$polkitd" --no-debug >"$scratch/polkitd.log" 2>&1 &
pids="$! $pids"
wait_for_name org.freedesktop.PolicyKit1

# A DNS server that answers at once, so the lookups behind some methods (the
# published SPF record, the deliverability check) end quickly instead of
# waiting for a timeout. It serves one zone and refuses other names.
mkdir -p "$scratch/dns"
printf '%s\n' '$ORIGIN outpost.test.' '$TTL 300' '@ SOA ns hostmaster 1 3600 900 604800 300' \
	'@ NS ns' 'ns A 127.0.0.1' 'mail A 127.0.0.1' >"$scratch/dns/outpost.test.zone"
printf '%s\n' 'server:' "    rundir: \"$scratch/dns\"" '    listen: 127.0.0.1@5353' \
	'database:' "    storage: \"$scratch/dns/db\"" 'template:' '  - id: default' \
	"    storage: \"$scratch/dns\"" 'zone:' '  - domain: outpost.test' \
	>"$scratch/dns/knot.conf"
knotd -c "$scratch/dns/knot.conf" >"$scratch/knotd.log" 2>&1 &
pids="$! $pids"
tries=0
until kdig @127.0.0.1 -p 5353 +short outpost.test SOA 2>/dev/null | grep -q hostmaster; do
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || fail "knotd did not answer within 10 s"
	sleep 0.1
done

"$outpostd" --config /dev/null --state-dir "$scratch/state" \
	--hostname mail.outpost.test --submission 127.0.0.1:0 --submissions 127.0.0.1:0 \
	--resolver 127.0.0.1:5353 --delivery-port 9 >"$scratch/outpostd.log" 2>&1 &
outpostd_pid=$!
pids="$outpostd_pid $pids"
wait_for_name "$bus_name"

export PYTHONDONTWRITEBYTECODE=1
rc=0
/usr/bin/python3 "$here/test_authorization.py" --data "$data" \
	--outpostctl "$(dirname "$outpostd")/outpostctl" "$@" || rc=$?

if ! kill -0 "$outpostd_pid" 2>/dev/null; then
	wait "$outpostd_pid" || echo "outpostd exited with status $? during the tests" >&2
	rc=1
fi
if [ "$rc" != 0 ]; then
	echo "---- last lines of $scratch/outpostd.log" >&2
	tail -n 40 "$scratch/outpostd.log" >&2
fi
stop_all
exit "$rc"
