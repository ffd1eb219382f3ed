#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything framevec needs to build and test, with apt. Idempotent.
# Picks the newest linux-image-6.12.N+deb12-amd64-unsigned that has a matching
# linux-headers package, and the same for the PREEMPT_RT flavour
# (-rt-amd64, make check-rt), and Debian's arm64 kernel for the cross-build
# (make cross-arm64: dpkg's arm64 architecture is added, the kernel unpacked
# by scripts/arm64-kernel.sh) with QEMU's aarch64 system emulator and
# Debian's arm64 busybox (scripts/arm64-busybox.sh), stress-ng and trinity
# with their libraries (scripts/arm64-progs.sh) for the arm64 VM (make
# check-arm64); versions are discovered, never hard-coded.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must run as root to install packages with apt-get (try: sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

stamp_dir=/var/lib/framevec-deps
mkdir -p "$stamp_dir"
# arm64 package lists (the cross-build's kernel); the lists are read again
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	rm -f "$stamp_dir/apt-updated"
fi
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
# The newest arm64 6.12.N+deb12-arm64 with headers and image, whose host
# parts (linux-kbuild, Multi-Arch: foreign, and the -common headers) exist
newest_arm64_kernel() {
	local v
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-arm64$' |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb12-arm64\) .*/\1/p' |
		sort -V -r |
		while read -r v; do
			if apt-cache show "linux-image-$v-unsigned:arm64" >/dev/null 2>&1 &&
			   apt-cache show "linux-kbuild-${v%-arm64}" >/dev/null 2>&1 &&
			   apt-cache show "linux-headers-${v%-arm64}-common" >/dev/null 2>&1; then
				echo "$v"
				break
			fi
		done
}
# The generic kernel under test, the PREEMPT_RT one (make check-rt) and the
# arm64 one (make cross-arm64)
kver=$(newest_kernel amd64)
rt_kver=$(newest_kernel rt-amd64)
arm64_kver=$(newest_arm64_kernel)
for v in "amd64:$kver" "rt-amd64:$rt_kver" "arm64:$arm64_kver"; do
	if [ -z "${v#*:}" ]; then
		echo "deps: no linux-image-6.12.N+deb12-${v%%:*}-unsigned with matching headers in the apt archive" >&2
		exit 1
	fi
done

pkgs=(qemu-system-x86 qemu-system-arm qemu-utils busybox-static cpio kmod sparse v4l-utils
      build-essential bc flex bison libelf-dev libssl-dev xz-utils zstd
      pkg-config dkms
      stress-ng trinity
      gstreamer1.0-tools gstreamer1.0-plugins-good
      linux-source-6.12
      "linux-image-$kver-unsigned" "linux-headers-$kver"
      "linux-image-$rt_kver-unsigned" "linux-headers-$rt_kver"
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross "linux-kbuild-${arm64_kver%-arm64}" "linux-headers-${arm64_kver%-arm64}-common")
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
bash "$(dirname "$0")/arm64-kernel.sh" "$arm64_kver"
bash "$(dirname "$0")/arm64-busybox.sh"
bash "$(dirname "$0")/arm64-progs.sh"
echo "$rt_kver" > "$stamp_dir/rt-kver"
echo "$arm64_kver" > "$stamp_dir/arm64-kver"
echo "deps: ok (kernels $kver, $rt_kver; $arm64_kver for the arm64 cross-build and VM)"
