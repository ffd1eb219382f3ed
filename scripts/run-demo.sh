#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make run`: boot the VM, run `framevec demo` in it and show its output
# live (vm/run.sh prints the guest's output only at the end). Exits with the
# demo's exit code, or vm/run.sh's (124 timeout, 125 kernel log problem,
# 126 guest died).
# usage: run-demo.sh [-t SECONDS] [-- DEMO-OPTIONS]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
timeout=300
while getopts "t:" opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	*) sed -n '3,8p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

log=$top/build/logs/run.log
out=${log%.log}.out
mkdir -p "$top/build/logs"
: >"$out"
echo "make run: booting the framevec VM (QEMU TCG, Debian $("$top/scripts/kver.sh")); the demo starts in a few seconds"
bash "$top/vm/run.sh" -p plain -t "$timeout" -l "$log" -- "fv-demo $*" >/dev/null &
vm=$!
# vm/run.sh writes the guest's output to $out as it comes. Pass it through
# chunk by chunk between carriage returns, so that the demo's progress line
# (redrawn with \r) updates in place; drop the harness's exit-code line.
tail -n +1 -s 0.2 --pid=$vm -f "$out" 2>/dev/null | {
	while IFS= read -r -d $'\r' chunk; do
		[[ $chunk == *FRAMEVEC-VM-EXIT* ]] || printf '%s\r' "$chunk"
	done
	[[ $chunk == *FRAMEVEC-VM-EXIT* ]] || printf '%s' "$chunk"
}
wait $vm
rc=$?
case $rc in
0) echo "make run: demo passed (kernel log: $log)" ;;
124|125|126) echo "make run: the VM failed (exit $rc, kernel log: $log)" ;;
*) echo "make run: demo failed with exit code $rc (see framevec(1) EXIT STATUS; kernel log: $log)" ;;
esac
exit $rc
