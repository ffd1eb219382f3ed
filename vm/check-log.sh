#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fail (exit 1) if a guest kernel log shows anything a test run must not
# survive: an oops, WARN, BUG, KASAN/UBSAN/kmemleak report, bad page state,
# lockdep report, hung task, DMAR (IOMMU) fault or panic. Names each line.
# usage: check-log.sh LOG
set -u
log=$1
pattern='Oops|WARNING:|BUG:|kernel BUG|general protection fault|KASAN:|UBSAN:|kmemleak:|unreferenced object|Bad page|'
pattern+='DMAR: \[DMA|DMAR: DRHD: handling fault|DMAR:.*fault|possible circular locking|'
pattern+='possible recursive locking|inconsistent lock state|lockdep|INFO: task .* blocked|'
pattern+='rcu: INFO|Kernel panic|list_add corruption|list_del corruption|refcount_t:|'
pattern+='Poison overwritten|Redzone overwritten|Object padding overwritten|Freepointer corrupt'
# Start-up lines of the debug kernel's checkers are not reports
benign='kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread)|'
benign+='rcu:[[:space:]]+RCU lockdep checking is enabled'
hits=$(tr -d '\r' <"$log" | grep -n -E "$pattern" | grep -v -E "$benign")
[ -z "$hits" ] && exit 0
echo "vm: FAIL: guest kernel log $log reports a problem:" >&2
printf '%s\n' "$hits" | head -n 10 | sed 's/^/vm:   line /' >&2
exit 1
