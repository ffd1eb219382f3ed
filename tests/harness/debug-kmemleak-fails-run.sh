#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debug kernel only (make check-debug): memory a module allocates and never
# frees (harness_debug bug=leak) is found by the kmemleak scan that ends
# every run on the debug kernel, and fails the run; a run without a leak
# passes that scan.
name=debug-kmemleak
export DEBUG_KERNEL=1
. "$(dirname "$0")/lib.sh"
vm_run 120 'modprobe harness_debug bug=leak && echo survived'
expect "the command itself succeeded" grep -qx survived <<<"$out"
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the leak" grep -qE 'line [0-9]+:.*(kmemleak: [0-9]+ new suspected memory leak|unreferenced object)' <<<"$err"
expect "the report reaches the command's output" grep -q '^# kmemleak: unreferenced object' <<<"$out"
expect "the report names the allocation site" grep -q 'harness_debug' "$hlogs/harness-$name.log"
vm_run 120 'echo clean'
expect "a run without leaks passes the scan" test "$rc" -eq 0
