#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the base initramfs of the test VM:
#   busybox, vm/init, the project's modules (extra/), the in-tree modules the
#   tests need from the Debian kernel (decompressed, with depmod so that
#   modprobe works), the test programs and tools.
# usage: mkinitramfs.sh KVER OUT.cpio.gz MODULE.ko... -- BIN...
# KMODROOT=DIR takes the kernel's modules from DIR/lib/modules/KVER (the
# INSTALL_MOD_PATH of a kernel built here, e.g. the debug kernel) instead
# of /lib/modules/KVER.
set -euo pipefail

kver=$1 out=$2
shift 2
ours=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ours+=("$1"); shift; done
[ $# -gt 0 ] && shift
bins=("$@")

here=$(cd "$(dirname "$0")" && pwd)
modroot=$(cd "${KMODROOT:-/}" && pwd)
mods=${modroot%/}/lib/modules/$kver
[ -d "$mods" ] || { echo "mkinitramfs: no modules at $mods" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,mnt,usr/bin,usr/sbin,fv,lib/modules/$kver/extra}
cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
ln -s ../bin/busybox "$stage/sbin/modprobe"
install -m 0755 "$here/init" "$stage/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

# In-tree modules that the tests load with modprobe, and their dependencies.
intree=(vivid videobuf2-dma-sg vgem loop ext4 crc32c_generic)
for m in "${intree[@]}"; do
	modprobe -d "$modroot" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }' ||
		echo "mkinitramfs: no module $m for $kver (not built), left out" >&2
done | sort -u | while read -r ko; do
	rel=${ko#"$mods/"}
	dst="$stage/lib/modules/$kver/${rel%.xz}"
	mkdir -p "$(dirname "$dst")"
	case "$ko" in
	*.xz) xz -dc "$ko" >"$dst" ;;
	*.zst) zstd -qdc "$ko" >"$dst" ;;
	*) cp "$ko" "$dst" ;;
	esac
done
for ko in "${ours[@]}"; do
	cp "$ko" "$stage/lib/modules/$kver/extra/"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -e "$mods/$f" ] && cp "$mods/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver"

for b in "${bins[@]}"; do
	install -m 0755 "$b" "$stage/usr/bin/"
done

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
