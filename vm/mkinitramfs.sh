#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the base initramfs of the test VM:
#   busybox, vm/init, the project's modules (extra/), the in-tree modules the
#   tests need from the Debian kernel (decompressed, with depmod so that
#   modprobe works), the test programs and tools.
# usage: mkinitramfs.sh KVER OUT.cpio.gz MODULE.ko... -- BIN...
# KMODROOT=DIR takes the kernel's modules from DIR/lib/modules/KVER (the
# INSTALL_MOD_PATH of a kernel built here, e.g. the debug kernel) instead
# of /lib/modules/KVER (the arm64 kernel's unpacked tree, make
# arm64-initramfs, whose modules.dep scripts/arm64-kernel.sh made).
# BUSYBOX=PATH takes another busybox than the host's /bin/busybox (the arm64
# one of scripts/arm64-busybox.sh); one this host cannot run gets only its
# /bin/sh link here, and vm/init links its other applets at boot.
# HOST_PROGS="PATH..." copies dynamically linked programs of the host (Debian's
# stress-ng, trinity, ...) to the same paths in the guest, with every shared
# library ldd names for them and the dynamic loader; a program missing on the
# host fails the build (scripts/deps.sh installs them).
# HOST_LIBS="PATH..." does the same for shared objects that programs load at
# run time (GStreamer plugins): each a file, or a directory whose *.so files
# are all taken; each keeps its path and brings what ldd names for it.
# SYSROOT=DIR takes the HOST_PROGS from DIR instead, a tree of another
# architecture's unpacked packages (scripts/arm64-progs.sh): each PATH is the
# program's path in the guest, DIR/PATH the file, and it brings its program
# interpreter and the closure of its DT_NEEDED libraries (readelf), found in
# DIR's library directories, with links followed inside DIR.
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
busybox=${BUSYBOX:-/bin/busybox}
cp "$busybox" "$stage/bin/busybox"
if applets=$("$busybox" --list 2>/dev/null); then
	for applet in $applets; do
		[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
	done
	ln -s ../bin/busybox "$stage/sbin/modprobe"
else
	ln -s busybox "$stage/bin/sh"
fi
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

# A host program keeps its path; a library keeps the path ldd resolved it to
# (Debian 12 is merged-/usr: /lib is a link to usr/lib, so copy under usr/).
# A second argument is the file to copy there (a SYSROOT's).
guest_file() {
	case $1 in
	/lib/* | /lib64/*) echo "$stage/usr/${1#/}" ;;
	*) echo "$stage/${1#/}" ;;
	esac
}
copy_host_file() {
	local src=$1 real=${2:-} dst
	[ -n "$real" ] || real=$(readlink -f "$src")
	dst=$(guest_file "$src")
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp "$real" "$dst"
}
# sysroot_file PATH: DIR's file for the guest path PATH, links followed in DIR
sysroot_file() {
	local p=$1 t n=0
	while [ -L "$sysroot$p" ]; do
		n=$((n + 1))
		[ $n -le 16 ] || { echo "mkinitramfs: link loop at $sysroot$p" >&2; return 1; }
		t=$(readlink "$sysroot$p")
		case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		p=$(realpath -s -m "$p")
	done
	[ -f "$sysroot$p" ] || { echo "mkinitramfs: no $p in $sysroot" >&2; return 1; }
	echo "$sysroot$p"
}
# sysroot_closure PATH...: the guest paths of the programs, their interpreter
# and every library of their DT_NEEDED closure
sysroot_closure() {
	local todo=("$@") seen=" " f file interp lib d found dirs=()
	for d in "$sysroot"/lib/*-linux-gnu "$sysroot"/usr/lib/*-linux-gnu "$sysroot"/lib "$sysroot"/usr/lib; do
		[ -d "$d" ] && dirs+=("${d#"$sysroot"}")
	done
	while [ "${#todo[@]}" -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $f "*) continue ;; esac
		seen+="$f "
		echo "$f"
		file=$(sysroot_file "$f") || return 1
		interp=$(readelf -lW "$file" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
		[ -z "$interp" ] || todo+=("$interp")
		for lib in $(readelf -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			found=
			for d in "${dirs[@]}"; do
				if [ -e "$sysroot$d/$lib" ] || [ -L "$sysroot$d/$lib" ]; then
					found=$d/$lib
					break
				fi
			done
			[ -n "$found" ] || { echo "mkinitramfs: $lib (needed by $f) is not in $sysroot" >&2; return 1; }
			todo+=("$found")
		done
	done
}
sysroot=${SYSROOT:-}
host_progs=(${HOST_PROGS:-})
host_libs=()
for l in ${HOST_LIBS:-}; do
	if [ -d "$l" ]; then
		host_libs+=("$l"/*.so)
	elif [ -e "$l" ]; then
		host_libs+=("$l")
	else
		echo "mkinitramfs: host library $l missing (make deps installs it)" >&2
		exit 1
	fi
done
if [ "${#host_progs[@]}" -gt 0 ] || [ "${#host_libs[@]}" -gt 0 ]; then
	mkdir -p "$stage/usr/lib" "$stage/usr/lib64"
	ln -s usr/lib64 "$stage/lib64"
	# /lib: busybox's tree has none; make it the merged-/usr link as on the host
	[ -e "$stage/lib/modules" ] && { cp -a "$stage/lib/." "$stage/usr/lib/"; rm -rf "$stage/lib"; }
	ln -s usr/lib "$stage/lib"
	if [ -n "$sysroot" ]; then
		files=$(sysroot_closure "${host_progs[@]}")
		# a link (the loader's /lib/ld-linux-*.so.1, a soname's) stays one
		for f in $files; do
			real=$(sysroot_file "$f")
			copy_host_file "${real#"$sysroot"}" "$real"
			dst=$(guest_file "$f")
			if [ "${real#"$sysroot"}" != "$f" ] && [ ! -e "$dst" ]; then
				mkdir -p "$(dirname "$dst")"
				ln -s "${real#"$sysroot"}" "$dst"
			fi
		done
		host_progs=()
	fi
	for p in "${host_progs[@]}"; do
		[ -x "$p" ] || { echo "mkinitramfs: host program $p missing (make deps installs it)" >&2; exit 1; }
		copy_host_file "$p"
		ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			while read -r lib; do copy_host_file "$lib"; done
	done
	for l in "${host_libs[@]}"; do
		copy_host_file "$l"
		ldd "$l" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			while read -r lib; do copy_host_file "$lib"; done
	done
fi

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
