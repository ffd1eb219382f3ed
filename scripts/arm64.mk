# SPDX-License-Identifier: GPL-2.0
# arm64 cross-build on an amd64 host, included by the top Makefile: what a
# user building on a PC for a board runs (README "Cross-building for arm64").
# Against Debian's arm64 6.12 kernel, the newest that scripts/deps.sh found
# and scripts/arm64-kernel.sh unpacked (scripts/kver.sh arm64), with
# gcc-aarch64-linux-gnu.
#
#   make cross-arm64    framevec, the test and bench modules (W=1), libframevec,
#                       the framevec tool and the selftests, all for arm64;
#                       any compiler warning fails it. Modules from a copy of
#                       the sources in build/arm64-src/, the rest in build/arm64/.
#   ARM64_KDIR=dir      build the modules against other arm64 headers (a board's)

ARM64_KVER ?= $(shell $(TOP)/scripts/kver.sh arm64 2>/dev/null)
ARM64_ROOT ?= $(or $(ARM64_KERNEL_CACHE),/var/cache/framevec/arm64)/$(ARM64_KVER)
ARM64_KDIR ?= $(ARM64_ROOT)/usr/src/linux-headers-$(ARM64_KVER)
ARM64_CROSS ?= aarch64-linux-gnu-
ARM64_SRC := $(BUILD)/arm64-src
ARM64_BUILD := $(BUILD)/arm64
ARM64_KMAKE = $(MAKE) -C $(ARM64_KDIR) ARCH=arm64 CROSS_COMPILE=$(ARM64_CROSS) W=1

.PHONY: cross-arm64 cross-arm64-modules cross-arm64-user

cross-arm64: ensure-deps
	@mkdir -p $(ARM64_BUILD)
	set -o pipefail; $(MAKE) cross-arm64-modules cross-arm64-user 2>&1 | tee $(ARM64_BUILD)/build.log
	@! grep -E 'warning:|error:' $(ARM64_BUILD)/build.log
	@file $(ARM64_SRC)/kernel/framevec.ko $(ARM64_BUILD)/tools/framevec | sed 's/, BuildID.*//'

# Kbuild (6.12) writes objects next to the sources of M=: build a copy
cross-arm64-modules:
	@[ -e "$(ARM64_KDIR)/Makefile" ] || { echo "cross-arm64: no arm64 headers at $(ARM64_KDIR) (make deps)"; exit 1; }
	rm -rf $(ARM64_SRC)
	mkdir -p $(ARM64_SRC)
	find kernel include bench tests/modules \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' | cpio -pdm --quiet $(ARM64_SRC)
	$(ARM64_KMAKE) M=$(ARM64_SRC)/kernel modules
	$(ARM64_KMAKE) M=$(ARM64_SRC)/tests/modules KBUILD_EXTRA_SYMBOLS=$(ARM64_SRC)/kernel/Module.symvers modules
	$(ARM64_KMAKE) M=$(ARM64_SRC)/bench KBUILD_EXTRA_SYMBOLS=$(ARM64_SRC)/kernel/Module.symvers modules

# The user-space rules of the top Makefile and lib/lib.mk, with the cross
# compiler and another output directory
cross-arm64-user:
	$(MAKE) BUILD=$(ARM64_BUILD) CC=$(ARM64_CROSS)gcc AR=$(ARM64_CROSS)ar lib tools selftests

# The arm64 VM (vm/run.sh ARM64=1: qemu-system-aarch64 -M virt under TCG,
# an SMMUv3 for the iommu profile) and its suites:
#   make arm64-initramfs   the cross-built modules and programs, Debian's arm64
#                          busybox, the arm64 kernel's in-tree modules, and
#                          Debian's arm64 stress-ng and trinity with the
#                          libraries they link (scripts/arm64-progs.sh)
#   make check-arm64       every suite of tests/suites.conf that applies on
#                          arm64 (tests/suites-arm64.conf says which do not, and
#                          why); logs in build/logs/arm64/, the same closing
#                          line as make check
#   make check-arm64-ci    what CI (.ci/run) runs: $(ARM64_CI_SUITES)
#   make arm64-vm CMD='...' [VM_PROFILE=...]  one command on it
ARM64_INITRAMFS := $(BUILD)/initramfs-arm64.cpio.gz
# CI's subset (README "arm64"): the demo; pages and lifetime (what holds
# user memory); security; vivid's dma-contig buffers through framevec
# (vivid-zerocopy); the edu device behind the SMMUv3 (edu), and revocation
# with it and an ivshmem BAR (revocation, revocable: the BAR is
# pgprot_device() memory, Device-nGnRE on arm64); the memory type of every
# CPU mapping framevec makes against its owner's, where vivid's dma-contig
# buffers are Normal-NC (cache-attr); and the harness's own tests, which
# prove the log checks fail a run on this kernel.
ARM64_CI_SUITES := demo pages lifetime security vivid-zerocopy edu revocable revocation cache-attr harness
ARM64_BUSYBOX ?= $(or $(ARM64_KERNEL_CACHE),/var/cache/framevec/arm64)/busybox/bin/busybox
# Debian's arm64 builds of the x86 VM's GUEST_HOST_PROGS that the suites run
# here (races: stress-ng, fuzz: trinity), from the tree of unpacked packages
# scripts/arm64-progs.sh made (vm/mkinitramfs.sh SYSROOT)
ARM64_PROGS ?= $(or $(ARM64_KERNEL_CACHE),/var/cache/framevec/arm64)/progs
ARM64_GUEST_PROGS := /usr/bin/stress-ng /usr/bin/trinity
ARM64_GUEST_BINS = $(patsubst $(BUILD)/%,$(ARM64_BUILD)/%,$(filter $(BUILD)/%,$(GUEST_BINS))) \
	$(filter-out $(BUILD)/%,$(GUEST_BINS))

.PHONY: arm64-initramfs arm64-vm check-arm64 check-arm64-ci

arm64-initramfs: cross-arm64
	@[ -x "$(ARM64_BUSYBOX)" ] || { echo "arm64: no arm64 busybox at $(ARM64_BUSYBOX) (make deps)"; exit 1; }
	@[ -e "$(ARM64_PROGS)/complete" ] || { echo "arm64: no arm64 stress-ng and trinity in $(ARM64_PROGS) (make deps)"; exit 1; }
	KMODROOT=$(ARM64_ROOT) BUSYBOX=$(ARM64_BUSYBOX) SYSROOT=$(ARM64_PROGS) HOST_PROGS="$(ARM64_GUEST_PROGS)" bash vm/mkinitramfs.sh $(ARM64_KVER) $(ARM64_INITRAMFS) \
		$(ARM64_SRC)/kernel/framevec.ko $(wildcard $(ARM64_SRC)/kernel/framevec_vb2.ko) $(ARM64_SRC)/bench/fv_bench.ko \
		$(addprefix $(ARM64_SRC)/tests/modules/,$(TEST_MODULES)) -- $(ARM64_GUEST_BINS)

arm64-vm: arm64-initramfs
	@ARM64=1 bash vm/run.sh -p $(VM_PROFILE) -t $(VM_TIMEOUT) $(if $(FILES),-f $(FILES)) \
		-- '$(or $(CMD),cat /proc/modules)'

check-arm64: ensure-deps
	$(MAKE) arm64-initramfs
	ARM64=1 bash tests/run-suites.sh

# Two guests at a time (VM_JOBS), as check-rt-ci: CI's machine is not shared
check-arm64-ci: ensure-deps
	$(MAKE) arm64-initramfs
	ARM64=1 VM_JOBS=$${VM_JOBS:-2} SUITES="$(ARM64_CI_SUITES)" bash tests/run-suites.sh
