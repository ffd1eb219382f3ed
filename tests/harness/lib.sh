# SPDX-License-Identifier: GPL-2.0
# Shared by the harness's own tests: run the VM, capture rc/stdout/stderr.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# tests/run-suites.sh sets it to its log directory (build/logs/rt/, ...)
hlogs=${HARNESS_LOGS:-$top/build/logs}
vm_run() { # TIMEOUT CMD
	local t=$1
	shift
	out=$(bash "$top/vm/run.sh" -t "$t" -l "$hlogs/harness-$name.log" -- "$@" 2>"$hlogs/harness-$name.err")
	rc=$?
	err=$(cat "$hlogs/harness-$name.err")
}
expect() { # DESCRIPTION CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; echo "rc=$rc"; echo "stdout: $out"; echo "stderr: $err"; exit 1; fi
}
