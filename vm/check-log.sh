#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fail (exit 1) if a guest kernel log shows anything a test run must not
# survive: an oops, WARN, BUG, KASAN/UBSAN/kmemleak report, bad page state,
# page poisoning report, DMA-API debug error, lockdep report, hung task, DMAR
# (Intel IOMMU) or SMMUv3 (arm64) fault or error, panic, a sleep in atomic context (sleeping function called
# from invalid context, scheduling while atomic: what PREEMPT_RT turns a
# spinlock_t taken under a raw lock or with interrupts off into). Names each line.
# dma-buf's own checks (and CONFIG_DMABUF_DEBUG's) are WARN_ON()s: they
# print WARNING: like any other WARN. DMA-API debug errors are WARN()s too,
# but only the first is printed (show_num_errors): every DMA-API line fails
# the run except its start-up lines and those saying dma-debug ran out of
# memory and switched itself off, which report no driver bug (fault
# injection, e.g. the fail-nth suite, causes them): those are printed as a
# note that DMA-API checking stopped there.
# usage: check-log.sh LOG
set -u
log=$1
pattern='Oops|WARNING:|BUG:|kernel BUG|general protection fault|KASAN:|UBSAN:|kmemleak:|unreferenced object|Bad page|'
pattern+='DMAR: \[DMA|DMAR: DRHD: handling fault|DMAR:.*fault|'
# arm-smmu-v3: an event (translation, permission, bad STE... fault: what
# a DMA outside its mapping causes on arm64), a lost event, a command-queue
# or global error
pattern+='arm-smmu-v3 .*: (event 0x[0-9a-f]+ received|EVTQ overflow|PRIQ overflow|CMDQ error|CMDQ timeout|unexpected global error|.*write aborted)|'
pattern+='possible circular locking|'
pattern+='possible recursive locking|inconsistent lock state|lockdep|INFO: task .* blocked|'
pattern+='rcu: INFO|Kernel panic|list_add corruption|list_del corruption|refcount_t:|'
pattern+='Poison overwritten|Redzone overwritten|Object padding overwritten|Freepointer corrupt|'
pattern+='pagealloc: |page_poison|DMA-API: |dma-api: |'
# also BUG: lines, named for themselves: what a sleep in atomic context
# prints, whatever the prefix (make check-rt)
pattern+='sleeping function called from invalid context|scheduling while atomic|Invalid wait context'
# Start-up lines of the debug kernel's checkers are not reports
benign='kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread)|'
benign+='rcu:[[:space:]]+RCU lockdep checking is enabled|'
benign+='DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config|'
benign+='dma_debug_entry pool grown to)|'
# kmemleak's own metadata allocation failed (fault injection: fail-nth):
# it scans the whole object instead, no leak and no check lost
benign+='kmemleak: Cannot allocate a scan area, scanning the full object|'
# page_poison=1 is on every command line (vm/run.sh)
benign+='(Kernel command line|Command line): '
# dma-debug out of memory: not a driver bug, but the checks stop there
stopped='DMA-API: (cacheline tracking ENOMEM, dma-debug disabled|debugging out of memory|[0-9]+ debug entries requested but only)'
tr -d '\r' <"$log" | grep -n -E "$stopped" | head -n 3 |
	sed 's/^/vm: note: DMA-API debugging switched itself off (out of memory); not checked after line /' >&2
# A stack frame ("[  t]  ? lockdep_hardirqs_on_prepare+0x275/0x3e0 [mod]")
# is never the report itself, only part of one whose first line matches
# on its own; dump_stack() from a driver that is not a report at all (vivid's
# "schedule_timeout: wrong timeout value" when it runs late) would
# otherwise match the 'lockdep' of the debug kernel's lockdep_*() frames.
frame='^[0-9]+:\[ *[0-9]+\.[0-9]+\] +(\? )?[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[[^]]+\])?$'
hits=$(tr -d '\r' <"$log" | grep -n -E "$pattern" | grep -v -E "$benign|$stopped" | grep -v -E "$frame")
[ -z "$hits" ] && exit 0
echo "vm: FAIL: guest kernel log $log reports a problem:" >&2
printf '%s\n' "$hits" | head -n 10 | sed 's/^/vm:   line /' >&2
exit 1
