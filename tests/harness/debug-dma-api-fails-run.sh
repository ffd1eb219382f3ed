#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debug kernel only (make check-debug): a DMA mapping unmapped with another
# size than it was mapped with (harness_debug bug=dma) is a DMA-API debug
# error that fails the run, and the message names the DMA-API line itself.
name=debug-dma-api
export DEBUG_KERNEL=1
. "$(dirname "$0")/lib.sh"
vm_run 120 'modprobe harness_debug bug=dma; echo survived; exit 0'
expect "run fails with the log-check code" test "$rc" -eq 125
expect "message names the DMA-API error" grep -qE 'line [0-9]+:.*DMA-API: .*device driver frees DMA memory with different size' <<<"$err"
