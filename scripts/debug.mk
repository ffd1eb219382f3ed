# SPDX-License-Identifier: GPL-2.0
# Deep runs on a debug kernel (KASAN, lockdep, kmemleak, fault injection),
# included by the top Makefile. Never part of `make check`.
#
#   make debug-kernel     build it from $(KSRC) once per machine, into a cache outside
#                         the clone (/var/cache/framevec/debug-kernel/VERSION-HASH, see
#                         scripts/debug-kernel.sh); build/debug-kernel links to it.
#                         DEBUG_KERNEL_REBUILD=1 builds it again.
#   make debug-modules    framevec, test and bench modules built against it
#   make debug-initramfs  the VM's initramfs with its modules
#   make check-debug      all of the above, then every VM suite (tests/suites.conf and
#                         tests/suites-debug.conf) on it, kmemleak scanned after each,
#                         and the harness's own debug-*.sh tests
#   make debug-vm CMD='...' [VM_PROFILE=...]  one command on it

DEBUG_KOUT := $(BUILD)/debug-kernel
DEBUG_SRC := $(BUILD)/debug-src
DEBUG_INITRAMFS := $(BUILD)/initramfs-debug.cpio.gz
DEBUG_KVER = $(shell cat $(DEBUG_KOUT)/include/config/kernel.release 2>/dev/null)

.PHONY: debug-kernel debug-modules debug-initramfs debug-vm check-debug

# Always asked: instant when the cache has this configuration's kernel
# (keyed by the source's version and a hash of the fragment and the script),
# which it then links as $(DEBUG_KOUT).
debug-kernel:
	bash scripts/debug-kernel.sh $(KSRC) $(DEBUG_KOUT)

# Kbuild (6.12) writes objects next to the sources of M=: build a copy of
# the project's module sources, so the default build's objects stay intact.
# -g: the kernel has no debug info, our modules do (faddr2line on reports).
debug-modules: debug-kernel
	rm -rf $(DEBUG_SRC)
	mkdir -p $(DEBUG_SRC)
	find kernel include bench tests/modules \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' | cpio -pdm --quiet $(DEBUG_SRC)
	$(MAKE) -C $(DEBUG_KOUT) KCFLAGS=-g M=$(DEBUG_SRC)/kernel W=1 modules
	$(MAKE) -C $(DEBUG_KOUT) KCFLAGS=-g M=$(DEBUG_SRC)/tests/modules W=1 \
		KBUILD_EXTRA_SYMBOLS=$(DEBUG_SRC)/kernel/Module.symvers modules
	$(MAKE) -C $(DEBUG_KOUT) KCFLAGS=-g M=$(DEBUG_SRC)/bench W=1 \
		KBUILD_EXTRA_SYMBOLS=$(DEBUG_SRC)/kernel/Module.symvers modules

# The same guest binaries as the initramfs target ($(GUEST_BINS): the
# selftests, the framevec tool, which also runs the benchmarks, the guest scripts)
debug-initramfs: debug-modules
	$(MAKE) lib tools selftests
	KMODROOT=$(DEBUG_KOUT)/modroot HOST_PROGS="$(GUEST_HOST_PROGS)" HOST_LIBS="$(GUEST_HOST_LIBS)" bash vm/mkinitramfs.sh $(DEBUG_KVER) $(DEBUG_INITRAMFS) \
		$(DEBUG_SRC)/kernel/framevec.ko $(wildcard $(DEBUG_SRC)/kernel/framevec_vb2.ko) $(DEBUG_SRC)/bench/fv_bench.ko \
		$(addprefix $(DEBUG_SRC)/tests/modules/,$(TEST_MODULES)) -- $(GUEST_BINS)

debug-vm: debug-initramfs
	@DEBUG_KERNEL=1 bash vm/run.sh -p $(VM_PROFILE) -t $(VM_TIMEOUT) $(if $(FILES),-f $(FILES)) \
		-- '$(or $(CMD),cat /proc/modules)'

check-debug: ensure-deps
	$(MAKE) debug-initramfs
	DEBUG_KERNEL=1 bash tests/run-suites.sh
