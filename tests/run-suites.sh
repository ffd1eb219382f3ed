#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host side of `make check`: run every VM suite of tests/suites.conf,
# tests/suites-stock.conf and tests/suites-nobody.conf and the
# harness's own tests, count TAP results, print one closing line
#   N passed, N failed, N skipped
# and exit non-zero on any failure. SUITES="a b" runs only those suites.
# DEBUG_KERNEL=1 (make check-debug): on the debug kernel instead, the suites
# of tests/suites.conf and tests/suites-debug.conf, the harness's debug-*.sh tests instead
# of its test-*.sh, no host checks; logs in build/logs/debug/.
# RT_KERNEL=1 (make check-rt): on Debian's PREEMPT_RT kernel instead, the
# suites of tests/suites.conf and the harness's tests that a WARN and a sleep
# in atomic context fail the run, no host checks; logs in build/logs/rt/.
# ARM64=1 (make check-arm64): on Debian's arm64 kernel in qemu-system-aarch64
# instead, the suites of tests/suites.conf and tests/suites-arm64.conf, where
# a suite with the profile 'skip' is one that cannot apply on arm64: it is
# not run and counts as one skipped, with the reason the line gives; the
# harness's tests, no host checks; logs in build/logs/arm64/.
# VM_JOBS=n runs n guests at a time (default 2).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
logs=$top/build/logs
confs=("$top/tests/suites.conf" "$top/tests/suites-stock.conf" "$top/tests/suites-nobody.conf")
harness_tests=("$top"/tests/harness/test-*.sh)
# harness tests that cannot apply on this kernel: "name: reason"
harness_skipped=()
host_checks=(dkms-check install-check)
if [ "${DEBUG_KERNEL:-0}" != 0 ]; then
	logs=$top/build/logs/debug
	confs=("$top/tests/suites.conf" "$top/tests/suites-debug.conf")
	harness_tests=("$top"/tests/harness/debug-*.sh)
	host_checks=()
elif [ "${RT_KERNEL:-0}" != 0 ]; then
	logs=$top/build/logs/rt
	confs=("$top/tests/suites.conf")
	# the harness's tests that a kernel report fails the run, on this kernel
	harness_tests=("$top"/tests/harness/test-{warn,atomic-sleep}-fails-run.sh)
	host_checks=()
elif [ "${ARM64:-0}" != 0 ]; then
	logs=$top/build/logs/arm64
	confs=("$top/tests/suites.conf" "$top/tests/suites-arm64.conf")
	harness_tests=()
	for t in "$top"/tests/harness/test-*.sh; do
		case $t in
		# preempt_disable() is invisible to a kernel without PREEMPT_COUNT
		*/test-atomic-sleep-fails-run.sh)
			harness_skipped+=("$(basename "$t" .sh): Debian's arm64 kernel is PREEMPT_VOLUNTARY without PREEMPT_COUNT, so a sleep with preemption disabled is not seen there") ;;
		*) harness_tests+=("$t") ;;
		esac
	done
	host_checks=()
fi
mkdir -p "$logs"
export HARNESS_LOGS=$logs
pass=0 fail=0 skip=0
# what failed, repeated just above the closing line: CI keeps only the tail
failures=()

# The suites, in the order of the .conf files; a later line with the
# profile 'skip' marks an earlier suite as one that cannot apply here
# (tests/suites-arm64.conf), its reason in the command column
names=() profiles=() timeouts=() cmds=()
declare -A skipped=()
while read -r name profile timeout cmd; do
	case $name in ''|'#'*) continue ;; esac
	if [ -n "${SUITES:-}" ] && [[ " $(echo $SUITES) " != *" $name "* ]]; then continue; fi
	if [ "$profile" = skip ]; then
		skipped[$name]=$cmd
		continue
	fi
	names+=("$name") profiles+=("$profile") timeouts+=("$timeout") cmds+=("$cmd")
done < <(cat "${confs[@]}")
for i in "${!names[@]}"; do
	[ -n "${skipped[${names[$i]}]:-}" ] || continue
	echo "== suite ${names[$i]}: SKIP, cannot apply here: ${skipped[${names[$i]}]}"
	skip=$((skip + 1))
	unset 'names[i]' 'profiles[i]' 'timeouts[i]' 'cmds[i]'
done

# VM_JOBS guests at a time (default 2): many suites wait on the wall clock
# (vivid streams in real time, races and fuzzing run for fixed seconds), so
# two guests share the host's cores well. Each suite keeps its own logs; the
# results are reported in the order of the .conf files.
jobs=${VM_JOBS:-2}
run_one() {
	local i=$1 name=${names[$1]}
	bash "$top/vm/run.sh" -p "${profiles[$i]}" -t "${timeouts[$i]}" -l "$logs/$name.log" -- "${cmds[$i]}" \
		>"$logs/$name.tap" 2>"$logs/$name.err"
	echo $? >"$logs/$name.rc"
}
for i in "${!names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	rm -f "$logs/${names[$i]}.rc"
	echo "== start suite ${names[$i]} (profile ${profiles[$i]}) $(date +%T)"
	run_one "$i" &
done
wait

for i in "${!names[@]}"; do
	name=${names[$i]}
	echo "== suite $name (profile ${profiles[$i]})"
	rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 126)
	sed 's/^/  | /' "$logs/$name.err"
	tap=$logs/$name.tap
	ok_here=$(grep -cE '^ok [0-9]+ ' "$tap")
	skip_here=$(grep -cE '^ok [0-9]+ .*# SKIP' "$tap")
	failed_here=$(grep -cE '^not ok [0-9]+ ' "$tap")
	tests_here=$((ok_here + failed_here))
	pass=$((pass + ok_here - skip_here)) skip=$((skip + skip_here)) fail=$((fail + failed_here))
	grep -E '^not ok [0-9]+ |^# SKIP|^ok [0-9]+ .*# SKIP' "$tap" | sed "s/^/  [$name] /"
	# each failure with the (at most 4) diagnostic lines the test printed before it
	while IFS= read -r line; do
		failures+=("[$name] $line")
	done < <(awk '/^#/ { d[n++ % 4] = $0; next }
		/^not ok [0-9]+ / { for (i = (n > 4 ? n - 4 : 0); i < n; i++) print "   " d[i % 4]; print; n = 0; next }
		{ n = 0 }' "$tap")
	echo "  $((ok_here - skip_here)) passed, $failed_here failed, $skip_here skipped"
	if [ "$rc" -ne 0 ] && [ "$failed_here" -eq 0 ]; then
		# the guest or the kernel failed outside any single test
		echo "  [$name] FAIL: suite exited $rc with $tests_here test results (output: $logs/$name.tap)"
		tail -n 5 "$logs/$name.err" | sed 's/^/  | /'
		failures+=("[$name] suite exited $rc (output: $logs/$name.tap)")
		# and why, as vm/run.sh said it (CI keeps only the tail)
		while IFS= read -r line; do
			failures+=("   $line")
		done < <(grep -E '^vm: ' "$logs/$name.err" | head -n 8)
		fail=$((fail + 1))
	elif [ "$tests_here" -eq 0 ]; then
		echo "  [$name] FAIL: no test results (output: $logs/$name.tap)"
		failures+=("[$name] no test results (output: $logs/$name.tap)")
		fail=$((fail + 1))
	fi
done

# Host-side checks that print TAP: dkms build, the installed files.
for hc in "${host_checks[@]}"; do
	if [ -n "${SUITES:-}" ] && [[ " $(echo $SUITES) " != *" $hc "* ]]; then continue; fi
	echo "== host check $hc"
	make -s -C "$top" "$hc" >"$logs/$hc.tap" 2>"$logs/$hc.err"
	rc=$?
	ok_here=$(grep -cE '^ok [0-9]+ |^ok dkms' "$logs/$hc.tap")
	failed_here=$(grep -cE '^not ok' "$logs/$hc.tap")
	pass=$((pass + ok_here)) fail=$((fail + failed_here))
	grep -E '^not ok' "$logs/$hc.tap" | sed "s/^/  [$hc] /"
	while read -r line; do
		failures+=("[$hc] $line")
	done < <(grep -E '^not ok' "$logs/$hc.tap")
	if [ "$rc" -ne 0 ] && [ "$failed_here" -eq 0 ]; then
		echo "  [$hc] FAIL: exited $rc (output: $logs/$hc.tap, $logs/$hc.err)"
		tail -n 5 "$logs/$hc.err" | sed 's/^/  | /'
		failures+=("[$hc] exited $rc")
		fail=$((fail + 1))
	fi
	echo "  $ok_here passed, $failed_here failed"
done

if [ -z "${SUITES:-}" ] || grep -qw harness <<<"$SUITES"; then
	# each boots its own guest, VM_JOBS at a time; reported in order
	for t in "${harness_tests[@]}"; do
		n=$(basename "$t" .sh)
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
		(bash "$t" >"$logs/$n.out" 2>&1; echo $? >"$logs/$n.rc") &
	done
	wait
	for h in "${harness_skipped[@]}"; do
		echo "ok harness ${h%%:*} # SKIP ${h#*: }"
		skip=$((skip + 1))
	done
	for t in "${harness_tests[@]}"; do
		n=$(basename "$t" .sh)
		if [ "$(cat "$logs/$n.rc" 2>/dev/null)" = 0 ]; then
			echo "ok harness $n"
			pass=$((pass + 1))
		else
			echo "not ok harness $n (output: $logs/$n.out)"
			sed 's/^/  | /' "$logs/$n.out" | tail -n 15
			failures+=("[harness] $n (output: $logs/$n.out)")
			fail=$((fail + 1))
		fi
	done
fi

if [ "${#failures[@]}" -gt 0 ]; then
	echo "== what failed"
	printf '  %s\n' "${failures[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
