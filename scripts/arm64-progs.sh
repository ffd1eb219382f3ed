#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's arm64 builds of the programs the arm64 VM's suites run
# (stress-ng for races, trinity for fuzz) with the shared libraries they
# depend on, into
#   $ARM64_KERNEL_CACHE/progs/        (default /var/cache/framevec/arm64)
# a tree of unpacked arm64 packages: usr/bin/stress-ng, lib/aarch64-linux-gnu/
# libc.so.6, ... The packages are those of apt's dependency closure of the
# programs (Depends and Pre-Depends, recursively) built for arm64 (libc6,
# zlib1g, gcc-12-base, ...; not the Architecture: all data packages that
# libraries depend on), fetched with apt-get download and unpacked with dpkg-deb (scripts/apt-unpack.sh),
# not installed: stress-ng, trinity and libjudydebian1 are not Multi-Arch:
# same, and apt-get install of their :arm64 builds removes the host's (the
# x86 VM's; apt-get -s shows it). The closure is wider
# than what the programs link (stress-ng's libEGL brings Mesa's): make
# arm64-initramfs takes only the programs' DT_NEEDED libraries from this tree
# (vm/mkinitramfs.sh SYSROOT). Idempotent: kept while every package's
# candidate version is the one unpacked. Needs the arm64 architecture in dpkg
# (scripts/deps.sh adds it).
set -euo pipefail

progs=(stress-ng trinity)
cache=${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}
out=$cache/progs

mapfile -t sel < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "${progs[@]/%/:arm64}" |
	sed -n 's/^[a-z0-9][a-z0-9+.-]*:arm64$/&/p' | sort -u)
# one apt-cache call (each reads every package list): NAME:arm64=CANDIDATE
mapfile -t want < <(apt-cache policy "${sel[@]}" |
	awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) } $1 == "Candidate:" { print p "=" $2 }')
for w in "${want[@]}"; do
	[ "${w#*=}" != "(none)" ] || { echo "arm64-progs: no ${w%=*} in the apt archive (make deps)" >&2; exit 1; }
done
[ "${#want[@]}" -eq "${#sel[@]}" ] || { echo "arm64-progs: apt-cache policy did not name ${sel[*]}" >&2; exit 1; }
[ -e "$out/complete" ] && [ "$(cat "$out/packages" 2>/dev/null)" = "$(printf '%s\n' "${want[@]}")" ] && exit 0

bash "$(dirname "$0")/apt-unpack.sh" "$out" "${want[@]}"
for p in "${progs[@]}"; do
	[ -x "$out/usr/bin/$p" ] || { echo "arm64-progs: no usr/bin/$p in $p:arm64" >&2; exit 1; }
done
printf '%s\n' "${want[@]}" >"$out/packages"
touch "$out/complete"
echo "arm64-progs: ${progs[*]} (arm64) and ${#want[@]} packages unpacked in $out"
