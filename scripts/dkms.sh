#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# framevec and DKMS.
#   dkms.sh install [KVER]   copy the module source to /usr/src/framevec-VERSION,
#                            dkms add + build + install (for KVER, default the running kernel)
#   dkms.sh uninstall        dkms remove framevec/VERSION from every kernel, drop the source copy
#   dkms.sh check KVER       what `make check` runs: add, build against KVER's headers and
#                            remove a source copy versioned VERSION-check, leaving nothing
#                            behind. Serialized with a lock, so it can run repeatedly and
#                            from several trees on one machine.
#   dkms.sh check-arm64 KVER the same as a cross-build for arm64: against the arm64 headers
#                            of scripts/arm64-kernel.sh (or ARM64_KDIR), dkms -a arm64
#                            --kernelsourcedir, ARCH=arm64 and CROSS_COMPILE (default
#                            aarch64-linux-gnu-) in make's environment
# VERSION is PACKAGE_VERSION of dkms.conf. Needs root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
kver=${2:-}
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$version" ] || { echo "dkms: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "dkms: must run as root (dkms writes /usr/src and /var/lib/dkms)" >&2
	exit 1
fi
command -v dkms >/dev/null || { echo "dkms: dkms is not installed (apt-get install dkms)" >&2; exit 1; }

# Copy what DKMS builds: dkms.conf, kernel/ sources and Kbuild, include/.
stage() {
	local ver=$1 dst=/usr/src/framevec-$1
	rm -rf "$dst"
	mkdir -p "$dst/kernel"
	cp "$top"/kernel/*.c "$top"/kernel/*.h "$top"/kernel/Kbuild "$top"/kernel/Makefile "$dst/kernel/"
	cp -r "$top/include" "$dst/"
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" "$top/dkms.conf" >"$dst/dkms.conf"
}

# Forget framevec/VER entirely: every kernel, the source copy.
unregister() {
	local ver=$1
	if dkms status -m framevec -v "$ver" 2>/dev/null | grep -q .; then
		dkms remove -m framevec -v "$ver" --all >/dev/null 2>&1 || true
	fi
	rm -rf "/usr/src/framevec-$ver" "/var/lib/dkms/framevec/$ver"
	rmdir /var/lib/dkms/framevec 2>/dev/null || true
}

case $mode in
install)
	kver=${kver:-$(uname -r)}
	unregister "$version"
	stage "$version"
	dkms add -m framevec -v "$version"
	dkms build -m framevec -v "$version" -k "$kver"
	dkms install -m framevec -v "$version" -k "$kver"
	;;
uninstall)
	unregister "$version"
	;;
check | check-arm64)
	[ -n "$kver" ] || { echo "usage: dkms.sh $mode KVER" >&2; exit 2; }
	dkms_args=(-k "$kver")
	if [ "$mode" = check-arm64 ]; then
		kdir=${ARM64_KDIR:-${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}/$kver/usr/src/linux-headers-$kver}
		dkms_args+=(-a arm64 "--kernelsourcedir=$kdir")
		# Kbuild takes both from the environment of DKMS's make
		export ARCH=arm64 CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
	else
		kdir=/lib/modules/$kver/build
	fi
	[ -e "$kdir/Makefile" ] || { echo "dkms: no headers for $kver at $kdir" >&2; exit 1; }
	ver=$version-check
	exec 9>/run/lock/framevec-dkms-check.lock
	flock 9
	unregister "$ver"		# left over by an interrupted run
	trap 'unregister "$ver"' EXIT
	stage "$ver"
	log=$(mktemp)
	if ! { dkms add -m framevec -v "$ver" && dkms build -m framevec -v "$ver" "${dkms_args[@]}"; } >"$log" 2>&1; then
		sed 's/^/dkms:   | /' "$log" >&2
		[ -e "/var/lib/dkms/framevec/$ver/build/make.log" ] &&
			tail -n 30 "/var/lib/dkms/framevec/$ver/build/make.log" | sed 's/^/dkms:   make| /' >&2
		rm -f "$log"
		echo "not ok dkms build framevec/$ver for $kver"
		exit 1
	fi
	rm -f "$log"
	ko=$(find "/var/lib/dkms/framevec/$ver/$kver" -name 'framevec.ko*' | head -n 1)
	if [ -z "$ko" ]; then
		echo "not ok dkms build framevec/$ver for $kver: no framevec.ko produced"
		exit 1
	fi
	plain=$(mktemp --suffix=.ko)
	case $ko in
	*.xz) xz -dc "$ko" >"$plain" ;;
	*.zst) zstd -qdc "$ko" >"$plain" ;;
	*) cp "$ko" "$plain" ;;
	esac
	magic=$(modinfo -F vermagic "$plain" 2>/dev/null || true)
	machine=$(LC_ALL=C readelf -h "$plain" 2>/dev/null | sed -n 's/^ *Machine: *//p')
	rm -f "$plain"
	if [ "${magic%% *}" != "$kver" ]; then
		echo "not ok dkms build framevec/$ver for $kver: vermagic '$magic'"
		exit 1
	fi
	if [ "$mode" = check-arm64 ] && [ "$machine" != AArch64 ]; then
		echo "not ok dkms build framevec/$ver for $kver: an ELF for '$machine', not AArch64"
		exit 1
	fi
	echo "ok dkms build framevec/$ver for $kver ($(basename "$ko"), vermagic ${magic%% *})"
	;;
*)
	sed -n '3,12p' "$0" >&2
	exit 2
	;;
esac
