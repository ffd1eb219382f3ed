#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A WARN in the guest (a test module that WARNs on load) fails the run, even
# though the command itself would have succeeded, naming the log line.
name=warn
. "$(dirname "$0")/lib.sh"
vm_run 120 'modprobe harness_warn; echo survived; exit 0'
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the WARNING line" grep -qE 'line [0-9]+:.*WARNING:.*harness_warn' <<<"$err"
