# SPDX-License-Identifier: GPL-2.0
# User side of framevec, included by the top Makefile: libframevec (shared +
# static + pkg-config), the framevec tool, install/uninstall, DKMS.
#
#   make lib tools
#   make install [PREFIX=/usr/local] [DESTDIR=]   library, headers, tool, man pages
#   make uninstall [PREFIX=...] [DESTDIR=]
#   make dkms [DKMS_KVER=`uname -r`]               module through DKMS (root)
#   make dkms-uninstall
#   make dkms-check                                dkms build against $(KVER), $(RT_KVER)
#                                                  (PREEMPT_RT) and, cross-built, $(ARM64_KVER)
#                                                  (arm64: framevec alone, no LIVEPATCH),
#                                                  leaves nothing
#   make install-check                             installed files work, in the VM

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
LIB_SONAME := libframevec.so.0
LIB_SO := $(BUILD)/lib/libframevec.so.$(VERSION)
LIB_A := $(BUILD)/lib/libframevec.a
LIB_HDRS := lib/framevec/framevec.h include/uapi/linux/framevec.h
TOOL := $(BUILD)/tools/framevec

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DKMS_KVER ?=

$(BUILD)/lib/%.pic.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_USER) -fPIC -fvisibility=hidden -c -o $@ $<

$(LIB_A): $(BUILD)/lib/framevec.pic.o
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(BUILD)/lib/framevec.pic.o lib/libframevec.map
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script,lib/libframevec.map \
		-Wl,-z,defs -o $@ $(BUILD)/lib/framevec.pic.o
	ln -sf $(notdir $@) $(BUILD)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/lib/libframevec.so

lib: $(LIB_A) $(LIB_SO)

# Static: the VM has no dynamic loader, and the tool is self-contained.
$(TOOL): tools/framevec.c tools/demo.c tools/bench.c tools/framevec.h bench/fv_bench.h tests/modules/fv_test_exporter.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_USER) -Ibench -Itests/modules -static -o $@ tools/framevec.c tools/demo.c tools/bench.c $(LIB_A)

tools: $(TOOL)

# The library's own selftest links the static archive.
$(BUILD)/tests/libframevec_test: tests/selftests/libframevec_test.c tests/selftests/*.h $(LIB_HDRS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -static -o $@ $< $(LIB_A) -lpthread

install: lib tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/framevec $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 0644 lib/framevec/framevec.h $(DESTDIR)$(INCLUDEDIR)/framevec/framevec.h
	install -m 0644 include/uapi/linux/framevec.h $(DESTDIR)$(INCLUDEDIR)/linux/framevec.h
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libframevec.so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		lib/framevec.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/framevec.pc
	install -m 0755 $(TOOL) $(DESTDIR)$(BINDIR)/framevec
	install -m 0644 man/framevec.1 $(DESTDIR)$(MANDIR)/man1/framevec.1
	install -m 0644 man/libframevec.3 $(DESTDIR)$(MANDIR)/man3/libframevec.3
	$(if $(DESTDIR),,-ldconfig)

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/framevec/framevec.h $(DESTDIR)$(INCLUDEDIR)/linux/framevec.h \
		$(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
		$(DESTDIR)$(LIBDIR)/libframevec.so $(DESTDIR)$(LIBDIR)/libframevec.a \
		$(DESTDIR)$(PKGCONFIGDIR)/framevec.pc $(DESTDIR)$(BINDIR)/framevec \
		$(DESTDIR)$(MANDIR)/man1/framevec.1 $(DESTDIR)$(MANDIR)/man3/libframevec.3
	-rmdir $(DESTDIR)$(INCLUDEDIR)/framevec 2>/dev/null
	$(if $(DESTDIR),,-ldconfig)

dkms:
	bash scripts/dkms.sh install $(DKMS_KVER)

dkms-uninstall:
	bash scripts/dkms.sh uninstall

# Both kernels under test: the generic one and PREEMPT_RT (scripts/rt.mk)
dkms-check: ensure-deps
	bash scripts/dkms.sh check $(KVER)
	bash scripts/dkms.sh check $(RT_KVER)
	bash scripts/dkms.sh check-arm64 $(ARM64_KVER)

# Install into a DESTDIR, build a program against the installed header,
# pkg-config file and static archive only, and run it and the installed tool
# in the VM from the installed paths.
install-check: initramfs
	bash tests/install/install-check.sh
