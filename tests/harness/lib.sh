# SPDX-License-Identifier: GPL-2.0
# Shared by the harness's own tests: run the VM, capture rc/stdout/stderr.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vm_run() { # TIMEOUT CMD
	local t=$1
	shift
	out=$(bash "$top/vm/run.sh" -t "$t" -l "$top/build/logs/harness-$name.log" -- "$@" 2>"$top/build/logs/harness-$name.err")
	rc=$?
	err=$(cat "$top/build/logs/harness-$name.err")
}
expect() { # DESCRIPTION CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; echo "rc=$rc"; echo "stdout: $out"; echo "stderr: $err"; exit 1; fi
}
