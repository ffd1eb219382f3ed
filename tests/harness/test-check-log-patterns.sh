#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vm/check-log.sh on made-up kernel logs, no VM: each kind of report fails
# the log and is named; the start-up lines of the checkers, the command
# line (page_poison=1) and dma-debug running out of memory (a note) do not.
name=check-log-patterns
. "$(dirname "$0")/lib.sh"
rc=0 out= err=
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
boot='[    0.000000] Linux version 6.12.117-fvdebug (root@host) #1 SMP PREEMPT_DYNAMIC
[    0.000000] Command line: console=ttyS0,115200 panic_on_warn=1 page_poison=1 slub_debug=FZPU
[    0.052000] Kernel command line: console=ttyS0,115200 panic_on_warn=1 page_poison=1 slub_debug=FZPU
[    0.310000] DMA-API: preallocated 65536 debug entries
[    0.310000] DMA-API: debugging enabled by kernel config
[    0.400000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15787)
[    0.410000] rcu: 	RCU lockdep checking is enabled.
[    3.100000] DMA-API: dma_debug_entry pool grown to 131072 (200%)'
check() { # DESCRIPTION WANT(pass|fail) LINE
	printf '%s\n%s\r\n' "$boot" "$3" >"$work/log"
	err=$(bash "$top/vm/check-log.sh" "$work/log" 2>&1)
	rc=$?
	if [ "$2" = pass ]; then
		expect "$1: passes" test "$rc" -eq 0
	else
		expect "$1: fails" test "$rc" -eq 1
		expect "$1: named" grep -qF -- "line 9:$3" <<<"$err"
	fi
}
check "a clean boot" pass '[    5.000000] framevec: loaded'
check "page poisoning" fail '[    9.100000] pagealloc: memory corruption'
check "page poisoning, one bit" fail '[    9.100000] pagealloc: single bit error'
check "page poisoning, other" fail '[    9.100000] page_poison: unexpected value'
check "DMA-API, size" fail '[    9.200000] DMA-API: platform harness_debug: device driver frees DMA memory with different size [device address=0x0000000001234000] [map size=4096 bytes] [unmap size=2048 bytes]'
check "DMA-API, not allocated" fail '[    9.200000] DMA-API: fv_test_consumer fv: device driver tries to free DMA memory it has not allocated [device address=0x0000000001234000] [size=4096 bytes]'
check "DMA-API, sync direction" fail '[    9.200000] DMA-API: pci 0000:00:03.0: device driver syncs DMA memory with different direction [device address=0x0000000001234000] [size=4096 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]'
check "DMA-API, pending at unbind" fail '[    9.200000] DMA-API: fv_test_edu 0000:00:04.0: device driver has pending DMA allocations while released from device [count=1]'
check "DMA-API, overlap exceeded" fail '[    9.200000] DMA-API: exceeded 7 overlapping mappings of cacheline 0x0000000000123400'
check "DMA-API, out of memory (fault injection)" pass '[    9.200000] DMA-API: cacheline tracking ENOMEM, dma-debug disabled'
expect "DMA-API, out of memory: a note says checking stopped" grep -qF 'vm: note: DMA-API debugging switched itself off (out of memory); not checked after line 9:' <<<"$err"
check "dma-api, lower case" fail '[    9.200000] dma-api: exceeded 7 overlapping mappings of cacheline 0x0000000000123400'
check "SMMUv3 fault (arm64)" fail '[    9.250000] arm-smmu-v3 9050000.smmuv3: event 0x10 received:'
check "SMMUv3 lost events" fail '[    9.250000] arm-smmu-v3 9050000.smmuv3: EVTQ overflow detected -- events lost'
check "SMMUv3 global error" fail '[    9.250000] arm-smmu-v3 9050000.smmuv3: unexpected global error reported (0x00000001), this could be serious'
check "SMMUv3 probe" pass '[    0.900000] arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)'
check "a dma-buf WARN" fail '[    9.300000] WARNING: CPU: 1 PID: 170 at drivers/dma-buf/dma-buf.c:913 dma_buf_dynamic_attach+0x3c5/0x470'
check "sleep in atomic context (might_sleep)" fail '[    9.400000] BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48'
check "scheduling while atomic" fail '[    9.400000] BUG: scheduling while atomic: fv-run-tests/171/0x00000002'
check "lockdep: a spinlock_t under a raw lock" fail '[    9.400000] [ BUG: Invalid wait context ]'
check "lockdep: a circular dependency" fail '[    9.400000] WARNING: possible circular locking dependency detected'
check "lockdep: switched off" fail '[    9.400000] INFO: lockdep is turned off.'
# a frame of a dump_stack() that is no report (vivid late: "schedule_timeout:
# wrong timeout value"), on the debug kernel, where lockdep_*() frames abound
check "a lockdep_*() stack frame" pass '[  175.366882]  ? lockdep_hardirqs_on_prepare+0x275/0x3e0'
check "a lockdep_*() stack frame of a module" pass '[  175.366882]  lockdep_foo+0x1/0x2 [harness_debug]'
