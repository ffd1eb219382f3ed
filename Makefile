# SPDX-License-Identifier: GPL-2.0
# framevec: the one entry point. `make help` lists the targets.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
KVER ?= $(shell $(TOP)/scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
KSRC ?= /usr/src/linux-source-6.12
DEPS_OK = $(and $(KVER),$(RT_KVER),$(ARM64_KVER),$(wildcard $(KSRC)/scripts/checkpatch.pl),$(wildcard /bin/busybox),$(wildcard $(ARM64_BUSYBOX)),$(wildcard $(ARM64_PROGS)/complete),$(shell command -v qemu-system-x86_64 && command -v qemu-system-aarch64 && command -v aarch64-linux-gnu-gcc && command -v sparse && command -v dkms && command -v pkg-config && command -v cpio && command -v depmod && command -v stress-ng && command -v trinity && command -v gst-launch-1.0))

CC ?= gcc
CFLAGS_USER := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I$(TOP)/include/uapi -I$(TOP)/lib
SELFTEST_CFLAGS := $(CFLAGS_USER) -I$(TOP)/tests/modules -I$(KSRC)/tools/testing/selftests -I$(BUILD)/uapi -Wno-unused-parameter -Wno-sign-compare -Wno-clobbered

KERNEL_SRCS = $(filter-out %.mod.c,$(wildcard kernel/*.c kernel/*.h include/linux/*.h include/uapi/linux/*.h tests/modules/*.c bench/fv_bench.c bench/fv_bench.h))
SELFTESTS := $(patsubst tests/selftests/%.c,$(BUILD)/tests/%,$(wildcard tests/selftests/*.c))
TEST_MODULES = $(patsubst tests/modules/%.c,%.ko,$(filter-out %.mod.c,$(wildcard tests/modules/*.c)))
GUEST_BINS = $(SELFTESTS) tests/guest/fv-run-tests tests/guest/fv-counters
GUEST_BINS += $(BUILD)/tools/framevec tests/guest/fv-demo
GUEST_BINS += tests/guest/fv-gst-userptr
INITRAMFS := $(BUILD)/initramfs.cpio.gz
# Debian's own programs that take part in the guest (dynamically linked: the
# initramfs carries their libraries, vm/mkinitramfs.sh HOST_PROGS)
GUEST_HOST_PROGS := /usr/bin/stress-ng /usr/bin/trinity
# GStreamer (the vb2-userptr-gst suite): the tools, the plugin scanner, and
# the plugins the pipeline uses (vm/mkinitramfs.sh HOST_LIBS)
GST_LIBEXEC := /usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0
GST_PLUGINS := /usr/lib/x86_64-linux-gnu/gstreamer-1.0
GUEST_HOST_PROGS += /usr/bin/gst-launch-1.0 /usr/bin/gst-inspect-1.0 $(GST_LIBEXEC)/gst-plugin-scanner /usr/bin/v4l2-ctl
GUEST_HOST_LIBS := $(GST_PLUGINS)/libgstcoreelements.so $(GST_PLUGINS)/libgstvideo4linux2.so

VM_PROFILE ?= plain
VM_TIMEOUT ?= 300

.PHONY: all help deps ensure-deps module test-modules bench-module selftests initramfs vm shell run \
	check check-build checkpatch sparse vm-tests harness-tests bench clean \
	lib tools install uninstall dkms dkms-uninstall dkms-check install-check

all: ensure-deps
	$(MAKE) module test-modules selftests

help:
	@echo "make run       boot the VM with framevec and run the demo (installs deps)"
	@echo "make check     build W=1, checkpatch --strict, sparse, every VM suite"
	@echo "make vm CMD='...' [FILES=dir] [VM_PROFILE=plain|iommu|edu|ivshmem|movable]"
	@echo "make shell     interactive shell in the VM"
	@echo "make bench     benchmarks: ratios against the in-kernel baselines"
	@echo "make check-debug  every VM suite on a KASAN/lockdep/kmemleak kernel, fail-nth sweep (long)"
	@echo "make check-rt  every VM suite of tests/suites.conf on Debian's PREEMPT_RT kernel"
	@echo "make cross-arm64  modules, library, tool and selftests for arm64 (cross-build)"
	@echo "make check-arm64  every VM suite that applies on arm64, in qemu-system-aarch64 (TCG)"
	@echo "make deps      install build and test dependencies with apt (root)"

deps:
	@bash scripts/deps.sh

# Install dependencies only when something is missing (fast path: no apt).
ensure-deps:
	@$(if $(DEPS_OK),true,bash scripts/deps.sh)

module:
	$(MAKE) -C $(KDIR) M=$(TOP)/kernel W=1 modules
# Kbuild does not relink a module whose symbol versions (CRCs) of framevec.ko
# changed: rebuild the modules that link against it whenever they are older.
stale-against-framevec = $(shell [ -e $(1) ] && [ kernel/Module.symvers -nt $(1) ] && echo stale)

test-modules: module
	$(if $(call stale-against-framevec,tests/modules/fv_test_importer.ko),$(MAKE) -C $(KDIR) M=$(TOP)/tests/modules clean)
	$(MAKE) -C $(KDIR) M=$(TOP)/tests/modules W=1 KBUILD_EXTRA_SYMBOLS=$(TOP)/kernel/Module.symvers modules

bench-module: module
	$(if $(call stale-against-framevec,bench/fv_bench.ko),$(MAKE) -C $(KDIR) M=$(TOP)/bench clean)
	$(MAKE) -C $(KDIR) M=$(TOP)/bench W=1 KBUILD_EXTRA_SYMBOLS=$(TOP)/kernel/Module.symvers modules

# DRM's uapi headers (vgem in the tests), by the kernel's headers_install
# script, which runs its unifdef from $(KDIR)/scripts
DRM_UAPI := $(BUILD)/uapi/drm/drm.h $(BUILD)/uapi/drm/drm_mode.h
$(BUILD)/uapi/drm/%.h: $(KSRC)/include/uapi/drm/%.h
	@mkdir -p $(dir $@)
	cd $(KDIR) && sh $(KSRC)/scripts/headers_install.sh $< $@
.SECONDARY: $(DRM_UAPI)

$(BUILD)/tests/%: tests/selftests/%.c $(wildcard tests/selftests/*.h tests/modules/*.h) include/uapi/linux/framevec.h $(DRM_UAPI)
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -static -o $@ $< -lpthread

selftests: $(SELFTESTS)

initramfs: ensure-deps
	$(MAKE) module test-modules bench-module lib tools selftests
	HOST_PROGS="$(GUEST_HOST_PROGS)" HOST_LIBS="$(GUEST_HOST_LIBS)" bash vm/mkinitramfs.sh $(KVER) $(INITRAMFS) kernel/framevec.ko $(wildcard kernel/framevec_vb2.ko) bench/fv_bench.ko \
		$(addprefix tests/modules/,$(TEST_MODULES)) -- $(GUEST_BINS)

# make vm CMD='cat /proc/modules' [FILES=dir] [VM_PROFILE=...] [VM_TIMEOUT=s]
vm: initramfs
	@bash vm/run.sh -p $(VM_PROFILE) -t $(VM_TIMEOUT) $(if $(FILES),-f $(FILES)) -- '$(or $(CMD),cat /proc/modules)'

shell: initramfs
	bash vm/run.sh -i -p $(VM_PROFILE)

# The demo (framevec demo in the VM), its output shown live.
run: initramfs
	@bash scripts/run-demo.sh -t $(VM_TIMEOUT)

# Benchmarks (docs/BENCHMARKS.md): every source and baseline in one boot,
# behind the Intel IOMMU, 4 GiB, hugetlb pages reserved (vm/run.sh bench)
BENCH_ARGS ?= --pipeline 64
BENCH_GUEST := modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0 && modprobe fv_test_exporter && modprobe fv_bench
bench: initramfs
	@bash vm/run.sh -p iommu+edu+bench -t 5400 -l $(BUILD)/logs/bench.log -- '$(BENCH_GUEST) && framevec bench $(BENCH_ARGS)'

checkpatch: ensure-deps
	$(KSRC)/scripts/checkpatch.pl --strict --no-tree --quiet --show-types -f $(KERNEL_SRCS)

sparse: ensure-deps
	$(MAKE) -C $(KDIR) M=$(TOP)/kernel W=1 C=2 modules 2>&1 | tee $(BUILD)/sparse.log
	@! grep -E 'warning:|error:' $(BUILD)/sparse.log

check-build: ensure-deps
	@mkdir -p $(BUILD)
	$(MAKE) module 2>&1 | tee $(BUILD)/build.log
	@! grep -E 'warning:|error:' $(BUILD)/build.log

check: ensure-deps
	$(MAKE) check-build
	$(MAKE) checkpatch
	$(MAKE) sparse
	$(MAKE) initramfs
	bash tests/run-suites.sh

include lib/lib.mk
include scripts/debug.mk
include scripts/rt.mk
include scripts/arm64.mk

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP)/kernel clean
	-$(MAKE) -C $(KDIR) M=$(TOP)/tests/modules clean
	-$(MAKE) -C $(KDIR) M=$(TOP)/bench clean
	rm -rf $(BUILD)
