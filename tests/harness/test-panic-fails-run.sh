#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A kernel crash (sysrq-c) fails the run and is named.
name=panic
. "$(dirname "$0")/lib.sh"
vm_run 120 'echo c > /proc/sysrq-trigger; exit 0'
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the panic" grep -qE 'line [0-9]+:.*(Kernel panic|Oops)' <<<"$err"
