# SPDX-License-Identifier: GPL-2.0
# PREEMPT_RT: Debian's -rt-amd64 kernel as a second kernel under test,
# included by the top Makefile. scripts/kver.sh rt-amd64 picks it (the
# newest installed with its headers; scripts/deps.sh installs it).
#
#   make rt-modules     framevec, test and bench modules built W=1 against its
#                       headers (warnings fail), in a copy of the sources
#   make rt-initramfs   the VM's initramfs with those modules and its in-tree ones
#   make check-rt       every VM suite of tests/suites.conf on it; logs in
#                       build/logs/rt/, the same closing line as make check
#   make check-rt-ci    what CI (.ci/run) runs: the suites of $(RT_CI_SUITES) and
#                       the harness's tests, two guests at a time
#   make rt-vm CMD='...' [VM_PROFILE=...]  one command on it

RT_KVER ?= $(shell $(TOP)/scripts/kver.sh rt-amd64 2>/dev/null)
RT_KDIR ?= /lib/modules/$(RT_KVER)/build
RT_SRC := $(BUILD)/rt-src
RT_INITRAMFS := $(BUILD)/initramfs-rt.cpio.gz

# CI's subset (the whole of check-rt does not fit in CI's 75 minutes): the
# suites whose paths take framevec's locks and sleep with them, in
# revocation, teardown, DMA mapping and under concurrent load; those left
# out (memory types, explain, the tool, the demo, fuzzing) run in check-rt.
RT_CI_SUITES := lifetime vivid-zerocopy revocable iomem-ram edu security revocation races vb2-userptr

.PHONY: rt-modules rt-initramfs rt-vm check-rt check-rt-ci

# Kbuild (6.12) writes objects next to the sources of M=: build a copy, so
# the default build's objects stay intact (as scripts/debug.mk does).
rt-modules: ensure-deps
	@[ -n "$(RT_KVER)" ] || { echo "rt: no 6.12 -rt-amd64 kernel with headers installed (make deps)"; exit 1; }
	rm -rf $(RT_SRC)
	mkdir -p $(RT_SRC)
	find kernel include bench tests/modules \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' | cpio -pdm --quiet $(RT_SRC)
	{ $(MAKE) -C $(RT_KDIR) M=$(RT_SRC)/kernel W=1 modules && \
	  $(MAKE) -C $(RT_KDIR) M=$(RT_SRC)/tests/modules W=1 \
		KBUILD_EXTRA_SYMBOLS=$(RT_SRC)/kernel/Module.symvers modules && \
	  $(MAKE) -C $(RT_KDIR) M=$(RT_SRC)/bench W=1 \
		KBUILD_EXTRA_SYMBOLS=$(RT_SRC)/kernel/Module.symvers modules; } 2>&1 | tee $(BUILD)/rt-build.log
	@! grep -E 'warning:|error:' $(BUILD)/rt-build.log

# The same guest binaries as the initramfs target (kernel-independent)
rt-initramfs: rt-modules
	$(MAKE) lib tools selftests
	HOST_PROGS="$(GUEST_HOST_PROGS)" HOST_LIBS="$(GUEST_HOST_LIBS)" bash vm/mkinitramfs.sh $(RT_KVER) $(RT_INITRAMFS) \
		$(RT_SRC)/kernel/framevec.ko $(wildcard $(RT_SRC)/kernel/framevec_vb2.ko) $(RT_SRC)/bench/fv_bench.ko \
		$(addprefix $(RT_SRC)/tests/modules/,$(TEST_MODULES)) -- $(GUEST_BINS)

rt-vm: rt-initramfs
	@RT_KERNEL=1 bash vm/run.sh -p $(VM_PROFILE) -t $(VM_TIMEOUT) $(if $(FILES),-f $(FILES)) \
		-- '$(or $(CMD),cat /proc/modules)'

check-rt: ensure-deps
	$(MAKE) rt-initramfs
	RT_KERNEL=1 bash tests/run-suites.sh

check-rt-ci: ensure-deps
	$(MAKE) rt-initramfs
	RT_KERNEL=1 VM_JOBS=2 SUITES="$(RT_CI_SUITES) harness" bash tests/run-suites.sh
