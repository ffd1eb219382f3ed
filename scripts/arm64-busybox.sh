#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's busybox-static for arm64, the shell and tools of the arm64
# VM's initramfs (make check-arm64), into
#   $ARM64_KERNEL_CACHE/busybox/bin/busybox   (default /var/cache/framevec/arm64)
# fetched with apt-get download and unpacked with dpkg-deb (scripts/apt-unpack.sh), not installed:
# busybox-static:arm64 conflicts with the host's busybox-static, and apt
# would remove that one (the x86 VM's). Idempotent: kept while the archive's
# candidate version is the one unpacked. Needs the arm64 architecture in dpkg
# (scripts/deps.sh adds it).
set -euo pipefail

cache=${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}
out=$cache/busybox
want=$(apt-cache policy busybox-static:arm64 | sed -n 's/^ *Candidate: //p')
[ -n "$want" ] && [ "$want" != "(none)" ] ||
	{ echo "arm64-busybox: no busybox-static:arm64 in the apt archive (make deps)" >&2; exit 1; }
[ -e "$out/bin/busybox" ] && [ "$(cat "$out/version" 2>/dev/null)" = "$want" ] && exit 0

bash "$(dirname "$0")/apt-unpack.sh" "$out" "busybox-static:arm64=$want"
[ -x "$out/bin/busybox" ] || { echo "arm64-busybox: no bin/busybox in busybox-static:arm64" >&2; exit 1; }
echo "$want" >"$out/version"
echo "arm64-busybox: busybox-static:arm64 $want unpacked in $out"
