#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install the Debian packages needed to build and test Outpost (as root, and
# only those missing), then configure and build the tree in build/.
# Safe to run again: it changes nothing that is already in place.
set -euo pipefail

cd "$(dirname "$0")/.."

build_packages=(
	meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libglib2.0-bin libssl-dev
	libsqlite3-dev libopendkim-dev libldns-dev libsoup-3.0-dev libpolkit-gobject-1-dev
	libsystemd-dev libcrypt-dev libjson-glib-dev libxml2-dev openssl
	libgtk-4-dev libadwaita-1-dev gettext desktop-file-utils appstream
)
# swaks needs libnet-ssleay-perl for STARTTLS; it is only a recommendation of
# the swaks package, so --no-install-recommends would leave it out.
test_packages=(
	dbus swaks libnet-ssleay-perl python3 python3-aiosmtpd python3-dkim python3-nacl
	python3-dnspython knot knot-dnsutils iproute2 util-linux sqlite3 polkitd pkexec
	libglib2.0-bin systemd python3-spf pdns-server pdns-backend-sqlite3 knot-dnssecutils curl
	libxml2-utils xvfb xauth python3-dogtail python3-pyatspi gir1.2-atspi-2.0
	fonts-dejavu-core libgl1-mesa-dri
)

missing=()
for package in "${build_packages[@]}" "${test_packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$package")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "error: missing packages: ${missing[*]}" >&2
		echo "Run this script as root, or install them with apt-get." >&2
		exit 1
	fi
	echo "Installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ -f build/build.ninja ]; then
	meson setup --reconfigure build -Dgui=enabled
else
	meson setup build -Dgui=enabled
fi
ninja -C build
