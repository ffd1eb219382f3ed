// SPDX-License-Identifier: GPL-2.0
/*
 * The module is loaded, its device and debugfs are there and sane.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "framevec_test.h"

FIXTURE(skeleton) {
	int devfd;
	struct fv_counters base;
};

FIXTURE_SETUP(skeleton)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(skeleton)
{
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(skeleton, device_is_misc_char_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(FV_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0666, st.st_mode & 0777);
	ASSERT_EQ(10, major(st.st_rdev)); /* MISC_MAJOR */
}

TEST_F(skeleton, unknown_ioctl_is_enotty)
{
	char buf[64] = {};

	ASSERT_EQ(-1, ioctl(self->devfd, _IO(FRAMEVEC_TYPE, 0x7f), buf));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->devfd, _IOWR('V', 0, int), buf));
	ASSERT_EQ(ENOTTY, errno);
}

TEST_F(skeleton, counters_start_at_zero)
{
	ASSERT_EQ(0, self->base.live_framevecs);
	ASSERT_EQ(0, self->base.live_dmabufs);
	ASSERT_EQ(0, self->base.pinned_pages);
	ASSERT_EQ(0, self->base.device_maps);
	ASSERT_EQ(0, self->base.refs_pages);
}

TEST_F(skeleton, debugfs_lists_no_framevec)
{
	char line[256];
	FILE *f = fopen(FV_FRAMEVECS, "r");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(NULL, fgets(line, sizeof(line), f));
	fclose(f);
}

TEST_F(skeleton, module_parameter_has_default)
{
	ASSERT_EQ(262144, fv_read_long("/sys/module/framevec/parameters/max_import_pages"));
}

TEST_HARNESS_MAIN
