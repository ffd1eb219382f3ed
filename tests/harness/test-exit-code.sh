#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The guest command's output and exit code reach the host unchanged.
name=exit-code
. "$(dirname "$0")/lib.sh"
vm_run 120 'echo hello from the guest; exit 3'
expect "exit code 3 comes back" test "$rc" -eq 3
expect "output comes back" grep -qx 'hello from the guest' <<<"$out"
vm_run 120 'grep -q "^framevec " /proc/modules'
expect "framevec is loaded and a clean run exits 0" test "$rc" -eq 0
