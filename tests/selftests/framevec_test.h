/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the framevec selftests (kselftest harness style).
 *
 * Per ioctl: a function that returns the errno (0 on success), and macros
 * that assert success or a given errno. Every fixture records framevec's
 * debugfs counters in setup and asserts in teardown that they are back.
 */
#ifndef FRAMEVEC_TEST_H
#define FRAMEVEC_TEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/framevec.h>

#include "kselftest_harness.h"

#define FV_DEV		"/dev/framevec"
#define FV_COUNTERS	"/sys/kernel/debug/framevec/counters"
#define FV_FRAMEVECS	"/sys/kernel/debug/framevec/framevecs"
#define FV_PAGE		4096UL

struct fv_counters {
	long live_framevecs;
	long live_dmabufs;
	long pinned_pages;
	long device_maps;
	long refs_pages;
	long refs_dmabuf;
	long refs_vb2;
	long refs_iomem;
	long refs_revocable;
};

static inline int fv_read_counters(struct fv_counters *c)
{
	char name[64];
	long val;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(FV_COUNTERS, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %ld", name, &val) == 2) {
#define FV_FIELD(n) do { if (!strcmp(name, #n)) c->n = val; } while (0)
		FV_FIELD(live_framevecs);
		FV_FIELD(live_dmabufs);
		FV_FIELD(pinned_pages);
		FV_FIELD(device_maps);
		FV_FIELD(refs_pages);
		FV_FIELD(refs_dmabuf);
		FV_FIELD(refs_vb2);
		FV_FIELD(refs_iomem);
		FV_FIELD(refs_revocable);
#undef FV_FIELD
	}
	fclose(f);
	return 0;
}

/* Every counter equal to the baseline @b taken before the test */
#define ASSERT_AT_BASELINE(b) do {						\
	struct fv_counters __now;						\
	ASSERT_EQ(0, fv_read_counters(&__now));					\
	EXPECT_EQ((b)->live_framevecs, __now.live_framevecs);			\
	EXPECT_EQ((b)->live_dmabufs, __now.live_dmabufs);			\
	EXPECT_EQ((b)->pinned_pages, __now.pinned_pages);			\
	EXPECT_EQ((b)->device_maps, __now.device_maps);				\
	EXPECT_EQ((b)->refs_pages, __now.refs_pages);				\
	EXPECT_EQ((b)->refs_dmabuf, __now.refs_dmabuf);				\
	EXPECT_EQ((b)->refs_vb2, __now.refs_vb2);				\
	EXPECT_EQ((b)->refs_iomem, __now.refs_iomem);				\
	EXPECT_EQ((b)->refs_revocable, __now.refs_revocable);			\
} while (0)

/* FRAMEVEC_IOC_IMPORT: 0 and *fd set, or the errno */
static inline int fv_import(int devfd, void *addr, size_t len, __u32 flags, int *fd)
{
	struct framevec_import arg = {
		.size = sizeof(arg),
		.flags = flags,
		.addr = (__u64)(uintptr_t)addr,
		.length = len,
		.dmabuf_fd = -1,
	};

	if (ioctl(devfd, FRAMEVEC_IOC_IMPORT, &arg))
		return errno;
	if (fd)
		*fd = arg.dmabuf_fd;
	else
		close(arg.dmabuf_fd);
	return 0;
}

#define ASSERT_IMPORT_OK(devfd, addr, len, flags, fdp) \
	ASSERT_EQ(0, fv_import(devfd, addr, len, flags, fdp))
#define ASSERT_IMPORT_ERRNO(err, devfd, addr, len, flags) \
	ASSERT_EQ(err, fv_import(devfd, addr, len, flags, NULL))

/* Read a number from a sysfs/procfs/debugfs file */
static inline long fv_read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

#endif /* FRAMEVEC_TEST_H */
