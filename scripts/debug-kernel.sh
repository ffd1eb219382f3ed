#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build framevec's debug kernel (KASAN, lockdep, kmemleak, fault injection)
# out of tree from Debian's linux-source-6.12 into build/debug-kernel/:
#   .config      x86_64_defconfig + kvm_guest.config + scripts/debug-kernel.config
#   arch/x86/boot/bzImage, Module.symvers, the tree modules build against (M=)
#   modroot/lib/modules/KVER/   the installed (uncompressed) modules
#   build-time   how long the last build took
# Nothing is copied out of the kernel source; it is only read.
# usage: debug-kernel.sh [KSRC [OUT]]    JOBS=n overrides make -j2
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=${1:-/usr/src/linux-source-6.12}
out=${2:-$top/build/debug-kernel}
frag=$top/scripts/debug-kernel.config
jobs=${JOBS:-2}
kmake=(make -C "$ksrc" O="$out" -s)

[ -e "$ksrc/Makefile" ] || { echo "debug-kernel: no kernel source at $ksrc (apt install linux-source-6.12, unpack it)" >&2; exit 2; }
mkdir -p "$out"

# (Re)configure when the fragment changed since the last configuration.
if [ ! -e "$out/.config" ] || [ "$frag" -nt "$out/.config.fv-stamp" ]; then
	echo "debug-kernel: configuring $out"
	"${kmake[@]}" x86_64_defconfig
	(cd "$out" && KCONFIG_CONFIG=.config "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$out" \
		.config "$ksrc/kernel/configs/kvm_guest.config" "$frag" >"$out/merge_config.log")
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
	[ "$bad" -eq 0 ] || exit 1
	touch "$out/.config.fv-stamp"
fi

start=$(date +%s)
echo "debug-kernel: building bzImage and modules with -j$jobs (log: $out/build.log)"
if ! make -C "$ksrc" O="$out" -j"$jobs" bzImage modules >"$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
	echo "debug-kernel: build failed; see $out/build.log" >&2
	exit 1
fi
rm -rf "$out/modroot"
make -C "$ksrc" O="$out" -s INSTALL_MOD_PATH="$out/modroot" modules_install >>"$out/build.log" 2>&1
secs=$(($(date +%s) - start))
kver=$(cat "$out/include/config/kernel.release")
printf '%s %ss\n' "$kver" "$secs" >"$out/build-time"
echo "debug-kernel: $kver built in $((secs / 60))m$((secs % 60))s: $out/arch/x86/boot/bzImage, modules in $out/modroot/lib/modules/$kver"
