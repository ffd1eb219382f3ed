#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the newest installed Debian 6.12 kernel that has both its image
# (/boot/vmlinuz-V) and its headers (/lib/modules/V/build): the kernel under test.
set -eu
for img in /boot/vmlinuz-6.12.*+deb12-amd64; do
	[ -e "$img" ] || continue
	v=${img#/boot/vmlinuz-}
	[ -e "/lib/modules/$v/build/Makefile" ] && echo "$v"
done | sort -V | tail -n 1
