#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debug kernel only (make check-debug): an out-of-bounds read in a module
# (harness_debug bug=kasan) is a KASAN report that fails the run, named.
name=debug-kasan
export DEBUG_KERNEL=1
. "$(dirname "$0")/lib.sh"
vm_run 120 'modprobe harness_debug bug=kasan; echo survived; exit 0'
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the KASAN report" grep -qE 'line [0-9]+:.*BUG: KASAN: slab-out-of-bounds in harness_.*\[harness_debug\]' <<<"$err"
