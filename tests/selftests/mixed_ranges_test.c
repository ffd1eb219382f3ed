// SPDX-License-Identifier: GPL-2.0
/*
 * One import across VMAs of different sources placed next to each other
 * with MAP_FIXED: anonymous memory, a dma-heap buffer, a vivid dma-contig
 * buffer, a udmabuf. The dma-buf of the whole range reads and writes the
 * very memory of each piece. A failure at a later VMA (a shmem mapping
 * beyond its end, which only fails when pinned) releases every earlier
 * reference: counters and the exporters' buffers are back at baseline.
 *
 * Guest: modprobe vivid n_devs=1 allocators=1
 */
#include "pfnmap_helpers.h"

#define P	4	/* pages per piece */

FIXTURE(mixed) {
	int devfd, heap_fd, udma_fd, bad_fd;
	struct vivid_cap cap;
	char *base;
	size_t vb2_len, len, reserved;
	int heap_before, udma_before;
	struct fv_counters base_ctr;
};

/* Layout: [anon P][heap P][vb2 buffer][udmabuf P][spare P] */
FIXTURE_SETUP(mixed)
{
	void *fixed[1];
	char *at;

	ASSERT_EQ(0, fv_read_counters(&self->base_ctr));
	self->heap_before = dmabuf_count("system");
	self->udma_before = dmabuf_count("udmabuf");
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->heap_fd = heap_alloc(P * FV_PAGE);
	if (self->heap_fd == -ENOENT)
		SKIP(return, NO_DMA_HEAP);
	ASSERT_LE(0, self->heap_fd);
	self->udma_fd = udmabuf_alloc(P * FV_PAGE, NULL);
	ASSERT_LE(0, self->udma_fd);

	/* reserve the whole area, then place each piece with MAP_FIXED */
	self->vb2_len = 1 << 20;	/* more than a 640x360 YUYV frame */
	self->reserved = 4 * P * FV_PAGE + self->vb2_len;
	self->base = mmap(NULL, self->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->base);
	at = self->base;
	ASSERT_EQ(at, mmap(at, P * FV_PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1, 0));
	at += P * FV_PAGE;
	ASSERT_EQ(at, mmap(at, P * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			   self->heap_fd, 0));
	at += P * FV_PAGE;
	fixed[0] = at;
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 1, fixed));
	ASSERT_GE(self->vb2_len, self->cap.maplen);
	self->vb2_len = self->cap.maplen;	/* the rest stays PROT_NONE */
	/* stop capturing into it: we check its contents */
	{
		int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

		ASSERT_EQ(0, ioctl(self->cap.fd, VIDIOC_STREAMOFF, &type));
	}
	at += self->vb2_len;
	ASSERT_EQ(at, mmap(at, P * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			   self->udma_fd, 0));
	self->len = at + P * FV_PAGE - self->base;	/* anon+heap+vb2+udmabuf */
	fill_pattern(self->base, self->len, 0x77770000);
}

FIXTURE_TEARDOWN(mixed)
{
	vivid_cap_stop(&self->cap);	/* munmaps the vb2 piece */
	munmap(self->base, self->reserved);
	close(self->heap_fd);
	close(self->udma_fd);
	if (self->bad_fd > 0)
		close(self->bad_fd);
	close(self->devfd);
	EXPECT_EQ(self->heap_before, dmabuf_count("system"));
	EXPECT_EQ(self->udma_before, dmabuf_count("udmabuf"));
	ASSERT_AT_BASELINE(&self->base_ctr);
}

TEST_F(mixed, one_import_spans_four_sources)
{
	struct fv_counters now;
	int fd = -1;
	char *q;

	ASSERT_IMPORT_OK(self->devfd, self->base, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base_ctr.refs_pages + 1, now.refs_pages);
	EXPECT_EQ(self->base_ctr.refs_dmabuf + 2, now.refs_dmabuf);
	EXPECT_EQ(self->base_ctr.refs_vb2 + 1, now.refs_vb2);
	EXPECT_EQ(self->base_ctr.pinned_pages + P, now.pinned_pages);

	/* the dma-buf is the same memory, piece by piece */
	q = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, check_pattern(q, self->len, 0x77770000));
	fill_pattern(q, self->len, 0x99990000);
	EXPECT_EQ(0, check_pattern(self->base, self->len, 0x99990000));
	munmap(q, self->len);
	close(fd);
}

TEST_F(mixed, failure_at_the_last_vma_releases_the_earlier_ones)
{
	char *at = self->base + self->len;

	/* one page of shmem mapped as P pages: pinning page 2 fails */
	self->bad_fd = memfd_create("fv-short", MFD_CLOEXEC);
	ASSERT_LE(0, self->bad_fd);
	ASSERT_EQ(0, ftruncate(self->bad_fd, FV_PAGE));
	ASSERT_EQ(at, mmap(at, P * FV_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, self->bad_fd, 0));
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, self->base, self->len + P * FV_PAGE, 0);
	/* teardown checks that every counter and exporter is back */
}

TEST_F(mixed, prot_none_at_the_end_is_refused_before_any_reference)
{
	/* the VMA after udmabuf is the PROT_NONE rest of the reservation */
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, self->base, self->len + P * FV_PAGE, 0);
}

TEST_HARNESS_MAIN
