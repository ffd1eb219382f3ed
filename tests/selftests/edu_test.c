// SPDX-License-Identifier: GPL-2.0
/*
 * Real device DMA through framevec: QEMU's edu PCI device, behind the
 * emulated Intel IOMMU in strict mode (profile iommu+edu), reads and
 * writes user memory through a framevec dma-buf: malloc'd-style anonymous
 * memory, hugetlb, and a videobuf2 dma-contig buffer of vivid (VM_PFNMAP).
 * Any access outside the mapping would be a DMAR fault, which fails the run.
 */
#include <linux/videodev2.h>

#include "framevec_test.h"
#include "vivid_helpers.h"
#include "fv_test_edu.h"

#define LEN	(4 * FV_PAGE)

FIXTURE(edu) {
	int devfd, edu;
	struct fv_counters base;
};

FIXTURE_SETUP(edu)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->edu = open("/dev/fv_test_edu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->edu) {
		TH_LOG("no edu device: run with VM_PROFILE=iommu+edu and modprobe fv_test_edu");
	}
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(edu)
{
	close(self->edu);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* page 0 -> device -> page 2, through an import of [mem, mem + LEN) */
static int device_copy(int devfd, int edu, char *mem, struct fvte_copy *c)
{
	int fd, ret;

	ret = fv_import(devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	if (ret)
		return ret;
	c->fd = fd;
	/* QEMU 7.2's edu refuses a transfer of its whole 4 KiB buffer */
	c->len = FV_PAGE / 2;
	c->src = 0;
	c->dst = 2 * FV_PAGE;
	ret = ioctl(edu, FVTE_COPY, c) ? errno : 0;
	close(fd);
	return ret;
}

static void copy_and_check(struct __test_metadata *_metadata, int devfd, int edu,
			   char *mem, const char *what)
{
	struct fvte_copy c = {};

	fv_fill(mem, FV_PAGE, 31);
	memset(mem + 2 * FV_PAGE, 0, FV_PAGE);
	ASSERT_EQ(0, device_copy(devfd, edu, mem, &c));
	TH_LOG("%s: the device read bus address %#llx and wrote %#llx", what,
	       (unsigned long long)c.dma_src, (unsigned long long)c.dma_dst);
	/* the device's write is in the application's own memory */
	ASSERT_EQ(0, fv_check(mem + 2 * FV_PAGE, FV_PAGE / 2, 31));
	/* and nowhere else */
	for (size_t i = FV_PAGE / 2; i < FV_PAGE; i++)
		ASSERT_EQ(0, mem[2 * FV_PAGE + i]);
	/* the device addresses 28 bits: the IOMMU gave it addresses below that */
	EXPECT_GT(1ULL << 28, c.dma_dst);
}

TEST_F(edu, device_dma_into_anonymous_memory)
{
	char *mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, mem);
	copy_and_check(_metadata, self->devfd, self->edu, mem, "anonymous");
	munmap(mem, LEN);
}

TEST_F(edu, device_dma_into_hugetlb_memory)
{
	size_t len = 2UL << 20;
	char *mem;

	ASSERT_EQ(0, fv_write_file("/proc/sys/vm/nr_hugepages", "2"));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	copy_and_check(_metadata, self->devfd, self->edu, mem, "hugetlb");
	munmap(mem, len);
}

TEST_F(edu, device_dma_into_a_vb2_dma_contig_buffer)
{
	struct v4l2_requestbuffers rb = {
		.count = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	struct v4l2_buffer b = {
		.index = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	int vfd = -1;
	char *mem;

	ASSERT_EQ(0, system("modprobe vivid n_devs=1 allocators=1"));
	vfd = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_REQBUFS, &rb));
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_QUERYBUF, &b));
	ASSERT_LE(LEN, b.length);
	/* a dma-contig MMAP buffer: VM_PFNMAP, held through the vb2 source */
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, b.m.offset);
	ASSERT_NE(MAP_FAILED, mem);
	copy_and_check(_metadata, self->devfd, self->edu, mem, "vb2 dma-contig");
	munmap(mem, LEN);
	rb.count = 0;
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_REQBUFS, &rb));
	close(vfd);
}

TEST_HARNESS_MAIN
