#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# How long admin calls and a password check take while clients hold many
# TLS handshakes open on the HTTPS endpoint. Runs outpostd in private
# network, mount and PID namespaces with only loopback, on its own session
# bus. Usage (as root): tests/bench/idle-https-bench.sh [BUILD_DIR] [CONNECTIONS]
set -eu

build=$(readlink -f "${1:-build}")
count=${2:-300}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${OUTPOST_BENCH_NAMESPACE:-}" ]; then
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
	OUTPOST_BENCH_NAMESPACE="$scratch" exec unshare --net --mount --pid --fork --kill-child \
		--mount-proc -- "$0" "$build" "$count"
fi

scratch="$OUTPOST_BENCH_NAMESPACE"
cd "$scratch"
ip link set lo up
export DBUS_SESSION_BUS_ADDRESS="unix:path=$scratch/bus"
dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nopidfile --fork
"$build/daemon/outpostd" --session-bus --config /dev/null --state-dir state \
	--hostname mail.outpost.test --submission 127.0.0.1:10587 \
	--submissions 127.0.0.1:10465 --https 127.0.0.1:10443 \
	--resolver 127.0.0.1:9 >outpostd.log 2>&1 &
daemon=$!
gdbus wait --session --timeout 10 io.github.outpostmail.Outpost1
ctl="$build/daemon/outpostctl --session-bus"
$ctl domain add example.org >/dev/null

# Plain TCP connections that never send a ClientHello, held for 20 s.
/usr/bin/python3 - "$count" <<'PYTHON' &
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", 10443)) for _ in range(int(sys.argv[1]))]
time.sleep(20)
PYTHON
holder=$!
sleep 5

timed() {
	start=$(date +%s%N)
	"$@" >/dev/null
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}
echo "with $count idle HTTPS connections:"
echo "  domain list: $(timed $ctl domain list) ms"
echo "  account add (yescrypt hash): $(timed sh -c \
	"echo a-long-password1 | $ctl account add me@example.org --password-stdin") ms"
wait "$holder"
kill "$daemon"
wait "$daemon" || true
rm -rf "$scratch"
