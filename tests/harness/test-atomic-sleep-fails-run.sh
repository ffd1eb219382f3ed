#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A sleep in atomic context in the guest (a test module that sleeps with
# preemption disabled on load) fails the run, even though the command itself
# would have succeeded, naming the log line. make check-rt runs it on the
# PREEMPT_RT kernel too (RT_KERNEL=1 reaches vm/run.sh), which boots slower
# under TCG (61 s to the modprobe was seen on a loaded host): 240 s.
name=atomic-sleep
. "$(dirname "$0")/lib.sh"
vm_run 240 'modprobe harness_atomic; echo survived; exit 0'
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the scheduling while atomic line" grep -qE 'line [0-9]+:.*BUG: scheduling while atomic' <<<"$err"
