// SPDX-License-Identifier: GPL-2.0
/*
 * VM_PFNMAP memory nobody can hold: QEMU's ivshmem-plain BAR 2 mmapped
 * through sysfs resource2. /dev/framevec refuses it (EOPNOTSUPP: its
 * importers cannot be made to stop in time). An in-kernel importer with a
 * revoke callback (fv_test_importer) gets a revocable import: munmap or
 * process exit runs the callback first, while the memory still
 * holds what was written; maps fail with ENODEV afterwards. (Removing the PCI
 * device does not zap the mapping on 6.12; see the last test.)
 *
 * Guest: VM_PROFILE=ivshmem; modprobe fv_test_importer
 */
#include <glob.h>

#include "pfnmap_helpers.h"

#define PATTERN	0x1f2e3d4cu

/* sysfs directory of the ivshmem device (1af4:1110), or NULL */
static char *ivshmem_dir(void)
{
	static char dir[256];
	glob_t g;
	size_t i;

	if (glob("/sys/bus/pci/devices/*", 0, NULL, &g))
		return NULL;
	for (i = 0; i < g.gl_pathc; i++) {
		char path[300];

		snprintf(path, sizeof(path), "%s/vendor", g.gl_pathv[i]);
		if (fv_read_long(path) != -1) {
			FILE *f;
			unsigned int v = 0, d = 0;

			f = fopen(path, "r");
			if (f && fscanf(f, "%x", &v) != 1)
				v = 0;
			if (f)
				fclose(f);
			snprintf(path, sizeof(path), "%s/device", g.gl_pathv[i]);
			f = fopen(path, "r");
			if (f && fscanf(f, "%x", &d) != 1)
				d = 0;
			if (f)
				fclose(f);
			if (v == 0x1af4 && d == 0x1110) {
				snprintf(dir, sizeof(dir), "%s", g.gl_pathv[i]);
				globfree(&g);
				return dir;
			}
		}
	}
	globfree(&g);
	return NULL;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

FIXTURE(revocable) {
	int devfd, tifd, resfd;
	char dir[256];
	volatile uint32_t *bar;
	size_t len;
	struct fv_counters base;
};

FIXTURE_SETUP(revocable)
{
	char path[300];
	const char *d;

	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->tifd);
	d = ivshmem_dir();
	if (!d) {
		/* a removed device comes back on rescan */
		write_str("/sys/bus/pci/rescan", "1");
		d = ivshmem_dir();
	}
	ASSERT_NE(NULL, d) TH_LOG("no ivshmem-plain device; run with VM_PROFILE=ivshmem");
	snprintf(self->dir, sizeof(self->dir), "%s", d);
	snprintf(path, sizeof(path), "%s/enable", self->dir);
	write_str(path, "1");
	snprintf(path, sizeof(path), "%s/resource2", self->dir);
	self->resfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->resfd);
	self->len = 16 * FV_PAGE;
	self->bar = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->resfd, 0);
	ASSERT_NE(MAP_FAILED, self->bar);
	self->bar[0] = PATTERN;
	ASSERT_EQ(PATTERN, self->bar[0]);
}

FIXTURE_TEARDOWN(revocable)
{
	if (self->bar)
		munmap((void *)self->bar, self->len);
	close(self->resfd);
	close(self->tifd);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(revocable, dev_framevec_refuses_with_eopnotsupp)
{
	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, (void *)self->bar, self->len, 0);
}

/* The callback ran once, before the memory went, and the framevec is dead */
static void assert_revoked_in_time(struct __test_metadata *_metadata, int tifd, uint32_t id)
{
	struct fvti_status st;

	ASSERT_EQ(0, fvti_status(tifd, id, &st));
	EXPECT_EQ(1, st.revoke_calls);
	EXPECT_EQ(1, st.revoked);
	EXPECT_EQ(1, st.word_valid);
	EXPECT_EQ(PATTERN, st.word_at_revoke);
	EXPECT_EQ(ENODEV, fvti_map(tifd, id, FVTI_DIR_TO_DEVICE));
}

TEST_F(revocable, munmap_revokes_before_the_mapping_goes)
{
	struct fvti_status st;
	struct fv_counters now;
	uint32_t id = 0;
	int ret;

	ASSERT_EQ(0, fvti_import(self->tifd, (void *)self->bar, self->len, FVTI_IMPORT_WRITE, &id));
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_revocable + 1, now.refs_revocable);
	ASSERT_EQ(0, fvti_status(self->tifd, id, &st));
	EXPECT_EQ(0, st.revoke_calls);
	EXPECT_EQ(16, st.nr_pages);
	/* MMIO maps need dma_map_resource() (framevec's iomem work) */
	ret = fvti_map(self->tifd, id, FVTI_DIR_TO_DEVICE);
	EXPECT_TRUE(ret == 0 || ret == EOPNOTSUPP) TH_LOG("map: %s", strerror(ret));
	if (!ret)
		EXPECT_EQ(0, fvti_unmap(self->tifd, id));

	/* mprotect keeps the PFNs in place: no revocation */
	ASSERT_EQ(0, mprotect((void *)self->bar, self->len, PROT_READ));
	ASSERT_EQ(0, fvti_status(self->tifd, id, &st));
	EXPECT_EQ(0, st.revoke_calls);

	ASSERT_EQ(0, munmap((void *)self->bar, self->len));
	self->bar = NULL;
	assert_revoked_in_time(_metadata, self->tifd, id);
	EXPECT_EQ(0, fvti_release(self->tifd, id));
}

TEST_F(revocable, mapped_import_is_told_while_mapped)
{
	struct fvti_status st;
	uint32_t id = 0;
	int ret;

	ASSERT_EQ(0, fvti_import(self->tifd, (void *)self->bar, self->len, FVTI_IMPORT_WRITE, &id));
	ret = fvti_map(self->tifd, id, FVTI_DIR_TO_DEVICE);
	if (ret == EOPNOTSUPP) {
		EXPECT_EQ(0, fvti_release(self->tifd, id));
		SKIP(return, "MMIO maps need framevec's iomem work (dma_map_resource)");
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, munmap((void *)self->bar, self->len));
	self->bar = NULL;
	ASSERT_EQ(0, fvti_status(self->tifd, id, &st));
	EXPECT_EQ(1, st.mapped_at_revoke);
	EXPECT_EQ(0, fvti_unmap(self->tifd, id));
	EXPECT_EQ(0, fvti_release(self->tifd, id));
}

TEST_F(revocable, process_exit_revokes)
{
	struct fvti_status st;
	uint32_t id = 0;
	int status, tifd;
	pid_t pid;

	/* the child imports into a file it shares with us, then exits */
	tifd = self->tifd;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fvti_import(tifd, (void *)self->bar, self->len, 0, &id) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* the child's slot is the first free one: ours are all released */
	ASSERT_EQ(0, fvti_status(tifd, 0, &st));
	EXPECT_EQ(1, st.revoke_calls);
	EXPECT_EQ(PATTERN, st.word_at_revoke);
	EXPECT_EQ(ENODEV, fvti_map(tifd, 0, FVTI_DIR_TO_DEVICE));
	EXPECT_EQ(0, fvti_release(tifd, 0));
}

/*
 * Last: the device goes away (it comes back on rescan). On 6.12 removal does
 * not zap a sysfs resourceN mmap: kernfs unmaps the kernfs inode's mapping,
 * while the VMA lives in the iomem mapping that f_mapping points to. The
 * user keeps its mapping, so the import stays exactly as valid as the
 * user's own view; it is revoked when that mapping goes.
 */
TEST_F(revocable, pci_remove_keeps_the_mapping_and_the_import)
{
	struct fvti_status st;
	char path[300];
	uint32_t id = 0;

	ASSERT_EQ(0, fvti_import(self->tifd, (void *)self->bar, self->len, FVTI_IMPORT_WRITE, &id));
	snprintf(path, sizeof(path), "%s/remove", self->dir);
	close(self->resfd);
	self->resfd = -1;
	ASSERT_EQ(0, write_str(path, "1"));
	ASSERT_NE(0, access(self->dir, F_OK));		/* the device is gone */
	ASSERT_EQ(0, fvti_status(self->tifd, id, &st));
	EXPECT_EQ(0, st.revoke_calls);
	EXPECT_EQ(0, st.revoked);

	ASSERT_EQ(0, munmap((void *)self->bar, self->len));
	self->bar = NULL;
	ASSERT_EQ(0, fvti_status(self->tifd, id, &st));
	EXPECT_EQ(1, st.revoke_calls);
	EXPECT_EQ(1, st.revoked);
	EXPECT_EQ(ENODEV, fvti_map(self->tifd, id, FVTI_DIR_TO_DEVICE));
	EXPECT_EQ(0, fvti_release(self->tifd, id));
	EXPECT_EQ(0, write_str("/sys/bus/pci/rescan", "1"));
}

TEST_HARNESS_MAIN
