// SPDX-License-Identifier: GPL-2.0
/*
 * The pages source through /dev/framevec: every kind of memory with struct
 * page imports, becomes a dma-buf, and the bytes seen through the dma-buf's
 * mmap, its vmap (fv_test_consumer) and the original mapping are the same
 * memory in both directions. Metadata stays within 8 bytes per 4 KiB page
 * and 64 bytes per 2 MiB folio.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "framevec_test.h"
#include "fv_test_consumer.h"

#define SZ_2M		(2UL << 20)
#define MEM_SIZE	SZ_2M

enum mem_kind { MEM_ANON, MEM_THP, MEM_HUGETLB, MEM_MEMFD, MEM_SHMEM_FILE, MEM_PRIVATE_FILE };

FIXTURE(mem) {
	int devfd, consumer;
	char *mem;		/* the imported range */
	void *map;		/* what to munmap */
	size_t map_len;
	int file;
	struct fv_counters base;
};

FIXTURE_VARIANT(mem) {
	enum mem_kind kind;
	bool huge;		/* expect one run per 2 MiB folio */
};

FIXTURE_VARIANT_ADD(mem, anon) { .kind = MEM_ANON };
FIXTURE_VARIANT_ADD(mem, thp) { .kind = MEM_THP, .huge = true };
FIXTURE_VARIANT_ADD(mem, hugetlb) { .kind = MEM_HUGETLB, .huge = true };
FIXTURE_VARIANT_ADD(mem, memfd) { .kind = MEM_MEMFD };
FIXTURE_VARIANT_ADD(mem, shmem_file) { .kind = MEM_SHMEM_FILE };
FIXTURE_VARIANT_ADD(mem, private_file) { .kind = MEM_PRIVATE_FILE };

static void *map_file(int fd, size_t len, int flags)
{
	if (ftruncate(fd, len))
		return MAP_FAILED;
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
}

FIXTURE_SETUP(mem)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	if (access("/dev/fv_test_consumer", F_OK))
		ASSERT_EQ(0, system("modprobe fv_test_consumer"));
	self->consumer = open("/dev/fv_test_consumer", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->consumer);
	self->file = -1;
	self->map_len = MEM_SIZE;
	if (variant->kind == MEM_HUGETLB)
		ASSERT_EQ(0, fv_write_file("/proc/sys/vm/nr_hugepages", "4"));
	FV_BECOME_USER();

	switch (variant->kind) {
	case MEM_ANON:
		self->map = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		self->mem = self->map;
		break;
	case MEM_THP:
		FV_SKIP_WITHOUT_THP(return);
		/* over-allocate to place one 2 MiB aligned huge page */
		self->map_len = 2 * SZ_2M;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = (char *)(((uintptr_t)self->map + SZ_2M - 1) & ~(SZ_2M - 1));
		ASSERT_EQ(0, madvise(self->mem, SZ_2M, MADV_HUGEPAGE));
		break;
	case MEM_HUGETLB:
		self->map = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		self->mem = self->map;
		break;
	case MEM_MEMFD:
		self->file = memfd_create("framevec-test", MFD_CLOEXEC);
		ASSERT_LE(0, self->file);
		self->map = map_file(self->file, MEM_SIZE, MAP_SHARED);
		self->mem = self->map;
		break;
	case MEM_SHMEM_FILE:
		self->file = open("/dev/shm/framevec-test", O_RDWR | O_CREAT | O_TRUNC, 0600);
		ASSERT_LE(0, self->file);
		unlink("/dev/shm/framevec-test");
		self->map = map_file(self->file, MEM_SIZE, MAP_SHARED);
		self->mem = self->map;
		break;
	case MEM_PRIVATE_FILE:
		self->file = open("/tmp/framevec-test", O_RDWR | O_CREAT | O_TRUNC, 0600);
		ASSERT_LE(0, self->file);
		unlink("/tmp/framevec-test");
		self->map = map_file(self->file, MEM_SIZE, MAP_PRIVATE);
		self->mem = self->map;
		break;
	}
	ASSERT_NE(MAP_FAILED, self->map);
	fv_fill(self->mem, MEM_SIZE, 1);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(mem)
{
	munmap(self->map, self->map_len);
	if (self->file >= 0)
		close(self->file);
	close(self->consumer);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

static int consumer_cpu(int consumer, int fd, unsigned long cmd, size_t off,
			void *buf, size_t len)
{
	struct fvtc_cpu arg = {
		.fd = fd, .offset = off, .length = len, .user_ptr = (uintptr_t)buf,
	};

	return ioctl(consumer, cmd, &arg) ? errno : 0;
}

TEST_F(mem, import_mmap_vmap_and_device_map_see_the_same_bytes)
{
	static char buf[MEM_SIZE];
	struct fvtc_map dm = { .dir = 0 };
	struct fv_counters now;
	struct fv_info fi;
	char *p;
	int fd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->mem, MEM_SIZE, FRAMEVEC_IMPORT_WRITE, &fd);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.live_framevecs + 1, now.live_framevecs);
	EXPECT_EQ(self->base.pinned_pages + MEM_SIZE / FV_PAGE, now.pinned_pages);
	EXPECT_EQ(self->base.refs_pages + 1, now.refs_pages);

	/* the dma-buf's mmap is the original memory, both directions */
	p = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fv_check(p, MEM_SIZE, 1));
	fv_fill(p, MEM_SIZE, 2);
	ASSERT_EQ(0, fv_check(self->mem, MEM_SIZE, 2));
	fv_fill(self->mem, MEM_SIZE, 3);
	ASSERT_EQ(0, fv_check(p, MEM_SIZE, 3));

	/* the dma-buf's vmap (a kernel importer) too */
	ASSERT_EQ(0, consumer_cpu(self->consumer, fd, FVTC_VMAP_READ, 0, buf, MEM_SIZE));
	ASSERT_EQ(0, fv_check(buf, MEM_SIZE, 3));
	fv_fill(buf, FV_PAGE, 4);
	ASSERT_EQ(0, consumer_cpu(self->consumer, fd, FVTC_VMAP_WRITE, MEM_SIZE - FV_PAGE,
				  buf, FV_PAGE));
	ASSERT_EQ(0, fv_check(self->mem + MEM_SIZE - FV_PAGE, FV_PAGE, 4));
	ASSERT_EQ(0, fv_check(p + MEM_SIZE - FV_PAGE, FV_PAGE, 4));
	ASSERT_EQ(EINVAL, consumer_cpu(self->consumer, fd, FVTC_VMAP_READ, MEM_SIZE, buf, 1));

	/* a device mapping covers every byte */
	dm.fd = fd;
	ASSERT_EQ(0, ioctl(self->consumer, FVTC_MAP, &dm));
	EXPECT_EQ(MEM_SIZE, dm.total);
	EXPECT_LE(1, dm.nents);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.device_maps, now.device_maps);

	/* metadata: <= 8 bytes per 4 KiB page; <= 64 bytes per 2 MiB folio */
	ASSERT_EQ(0, fv_read_info(&fi));
	EXPECT_EQ(MEM_SIZE / FV_PAGE, fi.pages);
	EXPECT_EQ(1, fi.segs);
	EXPECT_LE(fi.runs, fi.pages);
	EXPECT_LE(fi.meta_bytes, 8 * fi.pages);
	if (fv_as_nobody())
		TH_LOG("as nobody: first pfn not compared (pagemap shows pfns to root only)");
	else
		EXPECT_EQ(fv_pagemap_pfn(self->mem), fi.first_pfn);
	if (variant->huge) {
		EXPECT_EQ(1, fi.runs);
		EXPECT_LE(fi.meta_bytes, 64 * (MEM_SIZE / SZ_2M));
		EXPECT_EQ(1, dm.nents);
	}
	TH_LOG("%ld pages in %ld runs, %ld bytes of metadata (+%ld header), %u DMA segments",
	       fi.pages, fi.runs, fi.meta_bytes, fi.header_bytes, dm.nents);

	munmap(p, MEM_SIZE);
	close(fd);
}

TEST_F(mem, pinned_pages_show_as_vmpin_until_release)
{
	long before = fv_status_kb("VmPin");
	int fd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->mem, MEM_SIZE, 0, &fd);
	EXPECT_EQ(before + (long)(MEM_SIZE / 1024), fv_status_kb("VmPin"));
	close(fd);
	EXPECT_EQ(before, fv_status_kb("VmPin"));
}

TEST_F(mem, read_only_import_refuses_writable_mmap_and_device_writes)
{
	struct fvtc_map dm = { .dir = 2 /* DMA_FROM_DEVICE */ };
	char *p;
	int fd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->mem, MEM_SIZE, 0, &fd);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	ASSERT_EQ(EACCES, errno);
	p = mmap(NULL, MEM_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fv_check(p, MEM_SIZE, 1));
	ASSERT_EQ(-1, mprotect(p, MEM_SIZE, PROT_READ | PROT_WRITE));
	dm.fd = fd;
	ASSERT_EQ(-1, ioctl(self->consumer, FVTC_MAP, &dm));
	ASSERT_EQ(EACCES, errno);
	dm.dir = 1; /* DMA_TO_DEVICE */
	ASSERT_EQ(0, ioctl(self->consumer, FVTC_MAP, &dm));
	/* DMA_BIDIRECTIONAL would let the device write: refused too */
	dm.dir = 0;
	ASSERT_EQ(-1, ioctl(self->consumer, FVTC_MAP, &dm));
	ASSERT_EQ(EACCES, errno);
	munmap(p, MEM_SIZE);
	close(fd);
}

TEST_F(mem, dmabuf_mmap_at_an_offset)
{
	char *p;
	int fd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->mem, MEM_SIZE, FRAMEVEC_IMPORT_WRITE, &fd);
	p = mmap(NULL, 3 * FV_PAGE, PROT_READ, MAP_SHARED, fd, 5 * FV_PAGE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, memcmp(p, self->mem + 5 * FV_PAGE, 3 * FV_PAGE));
	munmap(p, 3 * FV_PAGE);
	/* beyond the end */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * FV_PAGE, PROT_READ, MAP_SHARED, fd,
				   MEM_SIZE - FV_PAGE));
	close(fd);
}

TEST_HARNESS_MAIN
