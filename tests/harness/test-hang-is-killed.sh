#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A guest that never finishes is killed at its timeout and the run fails.
name=hang
. "$(dirname "$0")/lib.sh"
start=$(date +%s)
vm_run 25 'sleep 100000'
elapsed=$(( $(date +%s) - start ))
expect "run fails with the timeout code" test "$rc" -eq 124
expect "message says it did not finish" grep -q 'did not finish within 25s' <<<"$err"
expect "killed near its timeout (${elapsed}s)" test "$elapsed" -lt 60
