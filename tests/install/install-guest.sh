#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of install-check: put the DESTDIR install (in /fv/root) at /,
# then run the installed tool and a program built against the install.
cp -a /fv/root/. /
rc=0
echo "TAP version 13"
echo "1..14"
echo "# installed tool and program, from /usr/local"
/fv/install_test >/tmp/it || rc=1
grep -v -e '^TAP version' -e '^1\.\.' /tmp/it
n=8
t() { n=$((n + 1)); if "$@" >/tmp/out 2>&1; then echo "ok $n $*"; else echo "not ok $n $*"; sed 's/^/# /' /tmp/out; rc=1; fi; }
t /usr/local/bin/framevec --version
t /usr/local/bin/framevec stat
t /usr/local/bin/framevec explain $$ 0x$(sed -n 's/^\([0-9a-f]*\)-.* \[stack\]$/\1/p' /proc/$$/maps) 4096
t test -r /usr/local/include/framevec/framevec.h -a -r /usr/local/include/linux/framevec.h
t test -r /usr/local/lib/pkgconfig/framevec.pc -a -r /usr/local/lib/libframevec.a
t test -r /usr/local/share/man/man1/framevec.1 -a -r /usr/local/share/man/man3/libframevec.3
exit $rc
