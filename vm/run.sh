#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the Debian 6.12 kernel under QEMU TCG with the framevec initramfs and
# run one command in the guest.
#
# usage: vm/run.sh [-p PROFILE] [-t SECONDS] [-f DIR] [-l LOG] [-i] -- CMD...
#   -p  machine profile(s) joined with '+': plain, iommu, edu, ivshmem, movable,
#       cma (a 64 MiB default CMA area, cma=64M, in 1 GiB of memory),
#       bench (make bench: 4 GiB, 520 hugetlb 2 MiB pages reserved at boot,
#       and without page_poison/slub_debug, which would
#       dominate the times and the slab figures)
#   -t  hard timeout in seconds (default 300)
#   -f  directory whose files are copied to /fv in the guest
#   -l  where to keep the guest's kernel log (default build/logs/last.log)
#   -i  interactive shell on this terminal instead of CMD
#
# Prints the command's output (the guest's second serial port), then exits
# with the command's exit code, or: 124 if the guest did not finish in time,
# 125 if the kernel log shows an oops/WARN/BUG/KASAN/lockdep/DMAR/SMMUv3 fault,
# 126 if the guest died without reporting an exit code.
#
# Environment: KVER, KIMAGE (default /boot/vmlinuz-$KVER), INITRAMFS,
# VM_APPEND (more kernel arguments). DEBUG_KERNEL=1 boots the debug kernel
# of `make debug-kernel` (build/debug-kernel, a link into its cache, or
# DEBUG_KERNEL_DIR) with the initramfs of `make debug-initramfs`, kmemleak
# on, and every timeout multiplied by VM_TIMEOUT_SCALE (default 4: KASAN and lockdep under TCG).
# RT_KERNEL=1 boots Debian's PREEMPT_RT kernel (scripts/kver.sh rt-amd64) with
# the initramfs of `make rt-initramfs`.
# ARM64=1 boots Debian's arm64 kernel (scripts/kver.sh arm64, unpacked by
# scripts/arm64-kernel.sh) with the initramfs of `make arm64-initramfs` on
# qemu-system-aarch64 -M virt, TCG (never KVM): the kernel log on the PL011
# (ttyAMA0), the command's output on a virtio console (hvc0); the iommu
# profile is an SMMUv3 there (virt,iommu=smmuv3), edu and ivshmem the same
# PCI devices. ARM64_CPU overrides its -cpu (default max,pauth-impdef=on:
# QEMU's own pointer-authentication algorithm, much cheaper under TCG than
# the architected QARMA5 of plain max).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
profile=plain timeout=300 files= log= interactive=
while getopts "p:t:f:l:i" opt; do
	case $opt in
	p) profile=$OPTARG ;;
	t) timeout=$OPTARG ;;
	f) files=$OPTARG ;;
	l) log=$OPTARG ;;
	i) interactive=1 ;;
	*) sed -n '3,34p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

if [ "${DEBUG_KERNEL:-0}" != 0 ]; then
	dk=${DEBUG_KERNEL_DIR:-$top/build/debug-kernel}
	[ -e "$dk/include/config/kernel.release" ] || { echo "vm: no debug kernel in $dk; run 'make debug-kernel'" >&2; exit 2; }
	kver=$(cat "$dk/include/config/kernel.release")
	kimage=${KIMAGE:-$dk/arch/x86/boot/bzImage}
	base=${INITRAMFS:-$top/build/initramfs-debug.cpio.gz}
	timeout=$((timeout * ${VM_TIMEOUT_SCALE:-4}))
	# no5lvl: with 5-level paging, an interrupt taken while identify_cpu()
	# re-reads the CPU flags (LA57 briefly clear) makes KASAN report a
	# direct-map access as wild (seen at boot under TCG, -cpu max).
	debug_append=" kmemleak=on no5lvl"
elif [ "${RT_KERNEL:-0}" != 0 ]; then
	kver=${KVER:-$("$top/scripts/kver.sh" rt-amd64)}
	[ -n "$kver" ] || { echo "vm: no PREEMPT_RT kernel installed; run 'make deps'" >&2; exit 2; }
	kimage=${KIMAGE:-/boot/vmlinuz-$kver}
	base=${INITRAMFS:-$top/build/initramfs-rt.cpio.gz}
	debug_append=
elif [ "${ARM64:-0}" != 0 ]; then
	kver=${KVER:-$("$top/scripts/kver.sh" arm64)}
	[ -n "$kver" ] || { echo "vm: no arm64 kernel unpacked; run 'make deps'" >&2; exit 2; }
	kimage=${KIMAGE:-${ARM64_KERNEL_CACHE:-/var/cache/framevec/arm64}/$kver/boot/vmlinuz-$kver}
	base=${INITRAMFS:-$top/build/initramfs-arm64.cpio.gz}
	debug_append=
else
	kver=${KVER:-$("$top/scripts/kver.sh")}
	kimage=${KIMAGE:-/boot/vmlinuz-$kver}
	base=${INITRAMFS:-$top/build/initramfs.cpio.gz}
	debug_append=
fi
[ -e "$kimage" ] || { echo "vm: kernel image $kimage missing" >&2; exit 2; }
[ -e "$base" ] || { echo "vm: $base missing; run 'make initramfs' (make rt-initramfs, make debug-initramfs, make arm64-initramfs)" >&2; exit 2; }
mkdir -p "$top/build/logs"
log=${log:-$top/build/logs/last.log}
out=${log%.log}.out

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Per-run overlay: the kernel unpacks concatenated cpio archives in order.
mkdir -p "$work/root/fv"
if [ -n "$files" ]; then
	cp -a "$files/." "$work/root/fv/"
fi
if [ -n "$interactive" ]; then
	touch "$work/root/fv/interactive"
else
	printf '%s\n' "$*" >"$work/root/fv/cmd.sh"
fi
(cd "$work/root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/overlay.cpio.gz"
cat "$base" "$work/overlay.cpio.gz" >"$work/initramfs.cpio.gz"

arm64=
[ "${ARM64:-0}" != 0 ] && arm64=1
machine=pc mem=2G append=
memdebug=" page_poison=1 slub_debug=FZPU"
devices=()
IFS=+ read -ra parts <<<"$profile"
for p in "${parts[@]}"; do
	case $p in
	plain) ;;
	iommu)
		if [ -n "$arm64" ]; then
			# every PCI device of virt behind an SMMUv3
			machine=virt,iommu=smmuv3
			append+=" iommu.strict=1 iommu.passthrough=0"
		else
			machine=q35
			devices+=(-device intel-iommu)
			append+=" intel_iommu=on iommu.strict=1 iommu.passthrough=0"
		fi
		;;
	edu) devices+=(-device edu) ;;
	ivshmem)
		devices+=(-object "memory-backend-file,id=fvshm,size=4M,share=on,mem-path=$work/ivshmem"
			  -device ivshmem-plain,memdev=fvshm)
		;;
	movable) append+=" movablecore=1G" ;;
	# 1 GiB: cma_test fills memory until movable allocations use the area
	cma) append+=" cma=64M" mem=1G ;;
	bench) append+=" hugepages=520" mem=4G memdebug= ;;
	*) echo "vm: unknown profile '$p' (plain, iommu, edu, ivshmem, movable, cma, bench)" >&2; exit 2 ;;
	esac
done

if [ -n "$arm64" ]; then
	[ "$machine" = pc ] && machine=virt
	# fvtty=, fvout=: the console and output port of vm/init
	cmdline="console=ttyAMA0,115200 fvtty=ttyAMA0 fvout=hvc0 rdinit=/init panic=-1 oops=panic panic_on_warn=1"
	cmdline+="$memdebug mitigations=off"
else
	cmdline="console=ttyS0,115200 rdinit=/init panic=-1 oops=panic panic_on_warn=1"
	# no_timer_check: on a loaded host, the boot-time check that the IO-APIC
	# timer ticks can miss its ticks under TCG and panic ("timer doesn't work
	# through Interrupt-remapped IO-APIC", seen with the iommu profile)
	cmdline+="$memdebug mitigations=off tsc=unstable no5lvl no_timer_check"
fi
cmdline+=" loglevel=7 printk.devkmsg=on$append$debug_append${VM_APPEND:+ $VM_APPEND}"

if [ -n "$arm64" ]; then
	qemu=(qemu-system-aarch64 -machine "$machine" -accel tcg -cpu "${ARM64_CPU:-max,pauth-impdef=on}")
	# the command's output port: virt has one PL011, the kernel's console
	outport=(-device virtio-serial-pci -device virtconsole,chardev=fvout)
else
	qemu=(qemu-system-x86_64 -machine "$machine" -accel tcg -cpu max)
	outport=()
fi
qemu+=(-smp 2 -m "$mem" -kernel "$kimage" -initrd "$work/initramfs.cpio.gz"
       -append "$cmdline" -display none -no-reboot -nodefaults "${devices[@]}")

if [ -n "$interactive" ]; then
	if [ -n "$arm64" ]; then
		exec "${qemu[@]}" -serial mon:stdio
	fi
	exec "${qemu[@]}" -serial mon:stdio -serial null
fi

boot() {
	: >"$out"
	if [ -n "$arm64" ]; then
		timeout -k 5 "$timeout" "${qemu[@]}" -monitor none -serial "file:$log" \
			-chardev "file,id=fvout,path=$out" "${outport[@]}" </dev/null >"$work/qemu.err" 2>&1
	else
		timeout -k 5 "$timeout" "${qemu[@]}" -monitor none \
			-serial "file:$log" -serial "file:$out" </dev/null >"$work/qemu.err" 2>&1
	fi
}
boot
qrc=$?
# A kernel that dies before it runs /init has run none of our code: under
# TCG, boot very rarely faults (seen: "Oops: int3" in run_timer_softirq on a
# loaded host; with 5-level paging, a false KASAN report, hence no5lvl). Boot once more, and
# say so; a crash after /init is never retried.
if [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] && ! grep -q 'Run /init as init process' "$log" &&
   grep -qE 'Oops|Kernel panic' "$log"; then
	echo "vm: note: the guest kernel crashed before /init ($(grep -m1 -oE 'Oops: [^[]*|Kernel panic.*' "$log")); booting once more" >&2
	cp "$log" "${log%.log}.early-crash.log"
	boot
	qrc=$?
fi
tr -d '\r' <"$out" | grep -v '^FRAMEVEC-VM-EXIT ' || true

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vm: FAIL: guest did not finish within ${timeout}s (killed); kernel log: $log" >&2
	tail -n 5 "$log" | sed 's/^/vm:   | /' >&2
	exit 124
fi
if ! "$here/check-log.sh" "$log"; then
	exit 125
fi
rc=$(tr -d '\r' <"$out" | sed -n 's/^FRAMEVEC-VM-EXIT \([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$rc" ]; then
	echo "vm: FAIL: guest stopped without reporting an exit code (qemu exit $qrc); kernel log: $log" >&2
	head -n 3 "$work/qemu.err" | sed 's/^/vm:   qemu: /' >&2
	tail -n 5 "$log" | sed 's/^/vm:   | /' >&2
	exit 126
fi
exit "$rc"
