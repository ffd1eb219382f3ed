#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the newest installed Debian 6.12 kernel that has both its image
# (/boot/vmlinuz-V) and its headers (/lib/modules/V/build): the kernel under test.
# usage: kver.sh [FLAVOUR]   FLAVOUR amd64 (default, the generic kernel) or
#                            rt-amd64 (PREEMPT_RT, make check-rt), or
#                            arm64: the newest unpacked by scripts/arm64-kernel.sh
#                            (make cross-arm64)
set -eu
flavour=${1:-amd64}
if [ "$flavour" = arm64 ]; then
	for d in "${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}"/6.12.*+deb12-arm64; do
		[ -e "$d/complete" ] && basename "$d"
	done | sort -V | tail -n 1
	exit 0
fi
for img in /boot/vmlinuz-6.12.*+deb12-"$flavour"; do
	[ -e "$img" ] || continue
	v=${img#/boot/vmlinuz-}
	# 6.12.N only: the glob's * could also take another flavour's prefix
	[[ $v =~ ^6\.12\.[0-9]+\+deb12-$flavour$ ]] || continue
	[ -e "/lib/modules/$v/build/Makefile" ] && echo "$v"
done | sort -V | tail -n 1
