// SPDX-License-Identifier: GPL-2.0
/*
 * Zero copy between two V4L2 devices through a user pointer, the use case
 * the 2020 frame-vector thread broke: vivid instance 0 (dma-contig, so its
 * MMAP buffers are VM_PFNMAP) captures; the application passes one buffer's
 * pointer to /dev/framevec and queues the dma-buf on vivid's output with
 * V4L2_MEMORY_DMABUF. The proof of zero copy: the page frames an importer
 * gets from framevec's dma-buf equal the ones vb2's own exporter
 * (VIDIOC_EXPBUF of the same buffer) hands out. Side by side, the same
 * pointer through V4L2_MEMORY_USERPTR (vivid instance 1, vmalloc) fails with
 * EFAULT, as mainline does since follow_pfn() went away.
 *
 * Guest: modprobe vivid n_devs=2 allocators=1,0; modprobe fv_test_importer
 */
#include "pfnmap_helpers.h"

FIXTURE(vb2) {
	int devfd, tifd;
	struct vivid_cap cap;
	int idx;		/* a dequeued buffer, full of a frame */
	struct fv_counters base;
};

FIXTURE_SETUP(vb2)
{
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->tifd);
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 2, NULL));
	self->idx = vivid_cap_dqbuf(&self->cap);
	ASSERT_LE(0, self->idx);
}

FIXTURE_TEARDOWN(vb2)
{
	vivid_cap_stop(&self->cap);
	close(self->tifd);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* pfns of a dma-buf as an importing device sees them */
static long dmabuf_pfns(int tifd, int fd, uint64_t *pfns, uint32_t max)
{
	return fvti_pfns(tifd, fd, 0, pfns, max);
}

TEST_F(vb2, import_is_held_by_the_vb2_source)
{
	struct fv_counters now;
	int fd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->cap.map[self->idx], self->cap.maplen, 0, &fd);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_vb2 + 1, now.refs_vb2);
	EXPECT_EQ(self->base.pinned_pages, now.pinned_pages);	/* nothing pinned */
	close(fd);
}

TEST_F(vb2, dmabuf_pfns_equal_vb2_expbuf_pfns)
{
	uint32_t npages = self->cap.maplen / FV_PAGE, id = 0;
	uint64_t *fv_pfns = calloc(npages, 8), *vb2_pfns = calloc(npages, 8);
	uint64_t *ki_pfns = calloc(npages, 8);
	struct v4l2_exportbuffer exp = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = self->idx, .flags = O_RDONLY,
	};
	int fd = -1;

	ASSERT_TRUE(fv_pfns && vb2_pfns && ki_pfns);
	ASSERT_IMPORT_OK(self->devfd, self->cap.map[self->idx], self->cap.maplen, 0, &fd);
	ASSERT_EQ(0, ioctl(self->cap.fd, VIDIOC_EXPBUF, &exp));

	/* vb2-dma-contig's exporter: the buffer's own pages */
	ASSERT_EQ(npages, dmabuf_pfns(self->tifd, exp.fd, vb2_pfns, npages));
	/* framevec's exporter, built from the user pointer */
	ASSERT_EQ(npages, dmabuf_pfns(self->tifd, fd, fv_pfns, npages));
	EXPECT_EQ(0, memcmp(vb2_pfns, fv_pfns, npages * 8));
	/* and an in-kernel import of the same pointer */
	ASSERT_EQ(0, fvti_import(self->tifd, self->cap.map[self->idx], self->cap.maplen, 0, &id));
	ASSERT_EQ(npages, fvti_pfns(self->tifd, -1, id, ki_pfns, npages));
	EXPECT_EQ(0, memcmp(vb2_pfns, ki_pfns, npages * 8));
	TH_LOG("%u pages at pfn %#llx: vb2 EXPBUF, framevec dma-buf and in-kernel import agree",
	       npages, (unsigned long long)vb2_pfns[0]);
	EXPECT_EQ(0, fvti_release(self->tifd, id));
	close(exp.fd);
	close(fd);
	free(fv_pfns);
	free(vb2_pfns);
	free(ki_pfns);
}

/* Output queue of vivid instance @inst with the capture's format */
static int vivid_out_open(int inst, const struct v4l2_format *cap_fmt, uint32_t memory)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
	struct v4l2_requestbuffers rb = {
		.count = 2, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = memory,
	};
	int fd = vivid_open(inst, V4L2_CAP_VIDEO_OUTPUT);

	if (fd < 0)
		return -1;
	fmt.fmt.pix = cap_fmt->fmt.pix;
	if (ioctl(fd, VIDIOC_S_FMT, &fmt) || ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < 1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void vivid_out_close(int fd, uint32_t memory)
{
	struct v4l2_requestbuffers rb = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = memory };
	int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;

	ioctl(fd, VIDIOC_STREAMOFF, &type);
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	close(fd);
}

TEST_F(vb2, output_consumes_framevec_dmabuf_and_userptr_is_efault)
{
	void *p = self->cap.map[self->idx];
	struct v4l2_buffer ub = {
		.type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_USERPTR,
		.length = self->cap.maplen, .bytesused = self->cap.fmt.fmt.pix.sizeimage,
	};
	struct pollfd pfd = { .events = POLLOUT };
	int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	int fd[2] = { -1, -1 }, out, uout, i;
	struct v4l2_buffer b;

	/*
	 * dma-contig output: DMABUF from framevec, zero copy. vivid returns
	 * an output buffer only while another is queued (for loopback), so
	 * queue two dma-bufs of the same frame.
	 */
	out = vivid_out_open(0, &self->cap.fmt, V4L2_MEMORY_DMABUF);
	ASSERT_LE(0, out);
	for (i = 0; i < 2; i++) {
		ASSERT_IMPORT_OK(self->devfd, p, self->cap.maplen, 0, &fd[i]);
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		b.memory = V4L2_MEMORY_DMABUF;
		b.index = i;
		b.m.fd = fd[i];
		b.length = self->cap.maplen;
		b.bytesused = self->cap.fmt.fmt.pix.sizeimage;
		ASSERT_EQ(0, ioctl(out, VIDIOC_QBUF, &b));
	}
	ASSERT_EQ(0, ioctl(out, VIDIOC_STREAMON, &type));
	pfd.fd = out;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	memset(&b, 0, sizeof(b));
	b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	b.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(out, VIDIOC_DQBUF, &b));
	EXPECT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
	vivid_out_close(out, V4L2_MEMORY_DMABUF);
	close(fd[0]);
	close(fd[1]);

	/* vmalloc output: USERPTR of the same pointer is refused, as mainline does */
	uout = vivid_out_open(1, &self->cap.fmt, V4L2_MEMORY_USERPTR);
	ASSERT_LE(0, uout);
	ub.m.userptr = (unsigned long)p;
	ASSERT_EQ(-1, ioctl(uout, VIDIOC_QBUF, &ub));
	EXPECT_EQ(EFAULT, errno);
	vivid_out_close(uout, V4L2_MEMORY_USERPTR);
}

TEST_HARNESS_MAIN
