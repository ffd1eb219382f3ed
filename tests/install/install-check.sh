#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install-check: install into a DESTDIR (PREFIX=/usr/local), build a
# program against that install only (pkg-config, headers, libframevec: the
# shared library is checked on the host, the static archive in the VM, which
# has no dynamic loader), then in the VM put the install at / and run the
# installed tool and the program from their installed paths.
# Prints TAP; exits non-zero on any failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
b=$top/build/install-check
dest=$b/destdir
rm -rf "$b"
mkdir -p "$b/files"
make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr/local >/dev/null

pc() { PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$dest/usr/local/lib/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$dest pkg-config "$@" framevec; }
cflags=$(pc --cflags)
# host: the shared library, by soname
${CC:-cc} -Wall -Werror $cflags -o "$b/install_test.dyn" "$top/tests/install/install_test.c" $(pc --libs)
readelf -d "$b/install_test.dyn" | grep -q 'NEEDED.*\[libframevec.so.0\]'
echo "# host: shared library (libframevec.so.0) from the install"
LD_LIBRARY_PATH=$dest/usr/local/lib "$b/install_test.dyn" --no-device | sed 's/^/# /'
# guest: the static archive
${CC:-cc} -Wall -Werror -static $cflags -o "$b/files/install_test" "$top/tests/install/install_test.c" \
	$(pc --static --libs)
cp -a "$dest" "$b/files/root"
cp "$top/tests/install/install-guest.sh" "$b/files/"
bash "$top/vm/run.sh" -p plain -t 300 -l "$top/build/logs/install-check.log" -f "$b/files" -- \
	'sh /fv/install-guest.sh' | tee "$b/out.tap"
! grep -q '^not ok' "$b/out.tap"
