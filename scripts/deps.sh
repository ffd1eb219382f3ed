#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything framevec needs to build and test, with apt. Idempotent.
# Picks the newest linux-image-6.12.N+deb12-amd64-unsigned that has a matching
# linux-headers package, and the same for the PREEMPT_RT flavour
# (-rt-amd64, make check-rt); versions are discovered, never hard-coded.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must run as root to install packages with apt-get (try: sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

stamp_dir=/var/lib/framevec-deps
mkdir -p "$stamp_dir"
if [ ! -e "$stamp_dir/apt-updated" ]; then
	apt-get update -qq
	touch "$stamp_dir/apt-updated"
fi

# newest_kernel FLAVOUR: the newest 6.12.N+deb12-FLAVOUR whose
# linux-image-...-unsigned and linux-headers are both in the archive
newest_kernel() {
	local flavour=$1 v
	apt-cache search --names-only "^linux-image-6\\.12\\.[0-9]+\\+deb12-$flavour-unsigned\$" |
		sed -n "s/^linux-image-\\(6\\.12\\.[0-9]*+deb12-$flavour\\)-unsigned .*/\\1/p" |
		sort -V -r |
		while read -r v; do
			if apt-cache show "linux-headers-$v" >/dev/null 2>&1; then
				echo "$v"
				break
			fi
		done
}
# The generic kernel under test, and the PREEMPT_RT one (make check-rt)
kver=$(newest_kernel amd64)
rt_kver=$(newest_kernel rt-amd64)
for v in "amd64:$kver" "rt-amd64:$rt_kver"; do
	if [ -z "${v#*:}" ]; then
		echo "deps: no linux-image-6.12.N+deb12-${v%%:*}-unsigned with matching headers in the apt archive" >&2
		exit 1
	fi
done

pkgs=(qemu-system-x86 qemu-utils busybox-static cpio kmod sparse v4l-utils
      build-essential bc flex bison libelf-dev libssl-dev xz-utils zstd
      pkg-config dkms
      stress-ng trinity
      gstreamer1.0-tools gstreamer1.0-plugins-good
      linux-source-6.12
      "linux-image-$kver-unsigned" "linux-headers-$kver"
      "linux-image-$rt_kver-unsigned" "linux-headers-$rt_kver")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/framevec-deps.log 2>&1; then
		# the cached package lists may be stale: refresh once and retry
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/framevec-deps.log 2>&1 || {
			tail -20 /tmp/framevec-deps.log >&2
			echo "deps: apt-get could not install: ${missing[*]} (see /tmp/framevec-deps.log)" >&2
			exit 1
		}
	fi
fi

# Unpack the kernel source tarball once (checkpatch.pl, kselftest headers, API reference)
srcdir=/usr/src/linux-source-6.12
if [ ! -e "$srcdir/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.12*.tar.* 2>/dev/null | head -n1)
	[ -n "$tarball" ] || { echo "deps: linux-source-6.12 tarball not found" >&2; exit 1; }
	mkdir -p "$srcdir"
	tar -xf "$tarball" -C "$srcdir" --strip-components=1
fi
echo "$kver" > "$stamp_dir/kver"
echo "$rt_kver" > "$stamp_dir/rt-kver"
echo "deps: ok (kernels $kver and $rt_kver)"
