#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian packages with apt-get download and unpack every one of them
# with dpkg-deb into DIR, which is emptied first: the arm64 kernel, busybox
# and programs that the arm64 cross-build and VM use without installing them
# (scripts/arm64-kernel.sh, arm64-busybox.sh, arm64-progs.sh say why each
# cannot be installed). Fails if apt fetches nothing or a package does not
# unpack; DIR is then left incomplete, and its caller marks it complete only
# after checking what it needs.
# usage: apt-unpack.sh DIR PACKAGE[:ARCH][=VERSION]...
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: apt-unpack.sh DIR PACKAGE..." >&2; exit 2; }
out=$1
shift

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt drops privileges to _apt for downloads: give it a directory it may write
chmod 0755 "$work"
chown _apt "$work" 2>/dev/null || true
(cd "$work" && apt-get download -qq "$@")
debs=("$work"/*.deb)
[ -e "${debs[0]}" ] || { echo "apt-unpack: apt-get download fetched nothing for $*" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
for deb in "${debs[@]}"; do
	dpkg-deb -x "$deb" "$out"
done
