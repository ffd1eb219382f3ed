#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build framevec's debug kernel (KASAN, lockdep, kmemleak, DMA-API debug,
# fault injection) out of tree from Debian's linux-source-6.12, once per
# machine: into a cache outside the clone,
#   $DEBUG_KERNEL_CACHE/VERSION-HASH/     (default /var/cache/framevec/debug-kernel)
# VERSION is the kernel version of the source tree (its Makefile), HASH the
# first 12 hex digits of a sha256 over this script, scripts/debug-kernel.config
# and the compiler's version: any change to them builds a new kernel, and a
# second run, from this clone or a fresh one, rebuilds nothing.
# Each build directory holds:
#   .config      tinyconfig + scripts/debug-kernel.config (every line verified)
#   arch/x86/boot/bzImage, Module.symvers, the tree modules build against (M=)
#   modroot/lib/modules/KVER/   the installed (uncompressed) modules
#   build-time   written last: a build without it is incomplete (resumed)
# LINK (default build/debug-kernel) is made a symbolic link to it.
# Nothing is written into the kernel source; it is only read.
#
# usage: debug-kernel.sh [KSRC [LINK]]
#   JOBS=n                  make -jn (default 2)
#   DEBUG_KERNEL_NICE=n     niceness of the build (default 10)
#   DEBUG_KERNEL_CACHE=dir  cache root
#   DEBUG_KERNEL_REBUILD=1  throw this key's build away and build it again
#   DEBUG_KERNEL_PRINT=1    only print the build directory (nothing built)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=${1:-/usr/src/linux-source-6.12}
link=${2:-$top/build/debug-kernel}
frag=$top/scripts/debug-kernel.config
jobs=${JOBS:-2}
niceness=${DEBUG_KERNEL_NICE:-10}

[ -e "$ksrc/Makefile" ] || { echo "debug-kernel: no kernel source at $ksrc (apt install linux-source-6.12, unpack it)" >&2; exit 2; }

if [ -n "${DEBUG_KERNEL_CACHE:-}" ]; then
	cache=$DEBUG_KERNEL_CACHE
elif mkdir -p /var/cache/framevec/debug-kernel 2>/dev/null && [ -w /var/cache/framevec/debug-kernel ]; then
	cache=/var/cache/framevec/debug-kernel
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/framevec/debug-kernel
fi

# The cache key: the source's version, and what decides the build's result
version=$(awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
	$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
	/^$/ && v != "" { exit } END { print v "." p "." s e }' "$ksrc/Makefile")
hash=$({ cat "$top/scripts/debug-kernel.sh" "$frag"; gcc --version | head -n 1; } | sha256sum | cut -c1-12)
out=$cache/$version-$hash

if [ "${DEBUG_KERNEL_PRINT:-0}" != 0 ]; then
	echo "$out"
	exit 0
fi

point_link() {
	mkdir -p "$(dirname "$link")"
	if [ -d "$link" ] && [ ! -L "$link" ]; then
		echo "debug-kernel: $link was an in-tree build; removing it (the build now lives in $cache)"
		rm -rf "$link"
	fi
	ln -sfn "$out" "$link"
}

if [ -e "$out/build-time" ] && [ "${DEBUG_KERNEL_REBUILD:-0}" = 0 ]; then
	point_link
	echo "debug-kernel: cached, nothing to build: $out ($(cat "$out/build-time")); $link points at it"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$out.lock"
if ! flock -n 9; then
	echo "debug-kernel: another build of $out is running; waiting for it"
	flock 9
fi
if [ "${DEBUG_KERNEL_REBUILD:-0}" != 0 ]; then
	echo "debug-kernel: DEBUG_KERNEL_REBUILD set: removing $out"
	rm -rf "$out"
elif [ -e "$out/build-time" ]; then
	point_link
	echo "debug-kernel: built meanwhile by another run: $out ($(cat "$out/build-time"))"
	exit 0
fi
mkdir -p "$out"
kmake=(nice -n "$niceness" make -C "$ksrc" O="$out" -s)

# Configure once per build directory (its key covers the fragment)
if [ ! -e "$out/.config.fv-stamp" ]; then
	echo "debug-kernel: configuring $out (tinyconfig + $frag)"
	"${kmake[@]}" tinyconfig
	(cd "$out" && KCONFIG_CONFIG=.config "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$out" \
		.config "$frag" >"$out/merge_config.log")
	"${kmake[@]}" olddefconfig
	# Every option the fragment asks for must have survived olddefconfig.
	bad=0
	while read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$out/.config" || {
				echo "debug-kernel: Kconfig refused $line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$out/.config" || echo unset))" >&2
				bad=1
			} ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$out/.config" || {
				echo "debug-kernel: Kconfig kept $(grep "^$opt=" "$out/.config") (wanted unset)" >&2
				bad=1
			} ;;
		esac
	done <"$frag"
	[ "$bad" -eq 0 ] || { rm -f "$out/.config"; exit 1; }
	cp "$frag" "$out/fv-debug-kernel.config"
	touch "$out/.config.fv-stamp"
fi

start=$(date +%s)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "debug-kernel: building bzImage and modules with -j$jobs, nice $niceness (log: $out/build.log)"
if ! nice -n "$niceness" make -C "$ksrc" O="$out" -j"$jobs" bzImage modules >"$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
	echo "debug-kernel: build failed; see $out/build.log" >&2
	exit 1
fi
rm -rf "$out/modroot"
"${kmake[@]}" INSTALL_MOD_PATH="$out/modroot" modules_install >>"$out/build.log" 2>&1
secs=$(($(date +%s) - start))
kver=$(cat "$out/include/config/kernel.release")
printf '%s %ss -j%s (load before: %s)\n' "$kver" "$secs" "$jobs" "$load" >"$out/build-time.tmp"
mv "$out/build-time.tmp" "$out/build-time"
point_link
echo "debug-kernel: $kver built in $((secs / 60))m$((secs % 60))s: $out/arch/x86/boot/bzImage, modules in $out/modroot/lib/modules/$kver; $link points at it"
