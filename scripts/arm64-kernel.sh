#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's arm64 kernel V (6.12.N+deb12-arm64) for cross-building and
# the arm64 VM: its linux-headers and linux-image-...-unsigned packages
# (arm64), fetched with apt-get download and unpacked with dpkg-deb (scripts/apt-unpack.sh) into
#   $ARM64_KERNEL_CACHE/V/     (default /var/cache/framevec/arm64)
# holding usr/src/linux-headers-V (M= builds against it, ARCH=arm64),
# lib/modules/V/ (with modules.dep, from the host's depmod -b: the arm64 VM's
# initramfs takes modules and their dependencies from it) and boot/vmlinuz-V. They are not installed with dpkg: on an
# amd64 host, the arm64 headers package depends on gcc-12:arm64, which would
# replace the host's compiler. What they need on the host, the headers'
# -common part (Architecture: all) and linux-kbuild-... (Multi-Arch: foreign:
# the host's fixdep and modpost), scripts/deps.sh installs with apt; the
# kbuild link in the unpacked tree points at the host's copy.
# Idempotent: an unpacked V is kept. Needs the arm64 architecture in dpkg
# (dpkg --add-architecture arm64; scripts/deps.sh does it).
# usage: arm64-kernel.sh V
set -euo pipefail

v=$1
cache=${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}
out=$cache/$v
if [ -e "$out/complete" ]; then
	# unpacked before modules.dep was made here
	[ -e "$out/lib/modules/$v/modules.dep" ] || depmod -b "$out" "$v"
	exit 0
fi
kbuild=linux-kbuild-${v%-arm64}
[ -d "/usr/lib/$kbuild" ] || { echo "arm64-kernel: $kbuild is not installed (make deps)" >&2; exit 1; }

bash "$(dirname "$0")/apt-unpack.sh" "$out" "linux-headers-$v:arm64" "linux-image-$v-unsigned:arm64"
# usr/src/linux-headers-V/scripts -> ../../lib/linux-kbuild-.../scripts
mkdir -p "$out/usr/lib"
ln -sfn "/usr/lib/$kbuild" "$out/usr/lib/$kbuild"
[ -e "$out/usr/src/linux-headers-$v/Makefile" ] && [ -e "$out/boot/vmlinuz-$v" ] ||
	{ echo "arm64-kernel: $v unpacked without headers or image" >&2; exit 1; }
depmod -b "$out" "$v"
touch "$out/complete"
echo "arm64-kernel: Debian's arm64 kernel $v unpacked in $out"
