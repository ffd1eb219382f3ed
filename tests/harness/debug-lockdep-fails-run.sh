#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debug kernel only (make check-debug): two mutexes taken in both orders
# (harness_debug bug=lockdep) are a lockdep report that fails the run, even
# though nothing deadlocked and the command succeeded.
name=debug-lockdep
export DEBUG_KERNEL=1
. "$(dirname "$0")/lib.sh"
vm_run 120 'modprobe harness_debug bug=lockdep && echo survived'
expect "the command itself succeeded" grep -qx survived <<<"$out"
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the lockdep report" grep -qE 'line [0-9]+:.*possible circular locking dependency' <<<"$err"
