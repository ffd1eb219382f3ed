/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the VM_PFNMAP source tests: exporters (system dma-heap,
 * udmabuf, vivid with dma-contig buffers), the in-kernel test importer
 * (/dev/fv_test_importer) and counting dma-bufs in debugfs.
 */
#ifndef PFNMAP_HELPERS_H
#define PFNMAP_HELPERS_H

#include <dirent.h>
#include <poll.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <linux/videodev2.h>

#include "vivid_helpers.h"

#include "framevec_test.h"
#include "../modules/fv_test_importer.h"

#define DMA_HEAP_SYSTEM	"/dev/dma_heap/system"
#define DMABUF_BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"
/* why a test of system-heap memory skips when heap_alloc() is -ENOENT */
#define NO_DMA_HEAP	"no " DMA_HEAP_SYSTEM ": a kernel without CONFIG_DMABUF_HEAPS_SYSTEM (Debian's arm64)"

/* A dma-buf from the system heap: the fd, or -errno */
static inline int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open(DMA_HEAP_SYSTEM, O_RDWR | O_CLOEXEC), ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data);
	ret = ret ? -errno : (int)data.fd;
	close(heap);
	return ret;
}

/* A udmabuf over a new sealed memfd of @len bytes: the fd, or -errno */
static inline int udmabuf_alloc(size_t len, int *memfd_out)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int dev, memfd, ret;

	memfd = memfd_create("fv-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, len) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		close(memfd);
		return ret;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		close(memfd);
		return ret;
	}
	create.memfd = memfd;
	ret = ioctl(dev, UDMABUF_CREATE, &create);
	ret = ret < 0 ? -errno : ret;
	close(dev);
	if (ret < 0 || !memfd_out)
		close(memfd);
	else
		*memfd_out = memfd;
	return ret;
}

/* Number of live dma-bufs whose exporter is @exp_name (debugfs bufinfo) */
static inline int dmabuf_count(const char *exp_name)
{
	char line[512], needle[64];
	int n = 0;
	FILE *f = fopen(DMABUF_BUFINFO, "r");

	if (!f)
		return -1;
	snprintf(needle, sizeof(needle), "\t%s\t", exp_name);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static inline void fill_pattern(void *p, size_t len, uint32_t seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
}

/* 0 if [p, p + len) holds the pattern of @seed, else 1 + first bad word */
static inline size_t check_pattern(const void *p, size_t len, uint32_t seed)
{
	const volatile uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != (seed ^ (uint32_t)(i * 2654435761u)))
			return i + 1;
	return 0;
}

/* ---- the in-kernel test importer ---- */

static inline int fvti_import(int fd, void *addr, size_t len, uint32_t flags, uint32_t *id)
{
	struct fvti_import a = { .addr = (uintptr_t)addr, .length = len, .flags = flags };

	if (ioctl(fd, FVTI_IOC_IMPORT, &a))
		return errno;
	*id = a.id;
	return 0;
}

static inline int fvti_map(int fd, uint32_t id, uint32_t dir)
{
	struct fvti_map a = { .id = id, .dir = dir };

	return ioctl(fd, FVTI_IOC_MAP, &a) ? errno : 0;
}

static inline int fvti_unmap(int fd, uint32_t id)
{
	return ioctl(fd, FVTI_IOC_UNMAP, &id) ? errno : 0;
}

static inline int fvti_release(int fd, uint32_t id)
{
	return ioctl(fd, FVTI_IOC_RELEASE, &id) ? errno : 0;
}

static inline int fvti_status(int fd, uint32_t id, struct fvti_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ioctl(fd, FVTI_IOC_STATUS, st) ? errno : 0;
}

/* pfns of a dma-buf (dmabuf_fd >= 0) or of slot @id: count, or -errno */
static inline long fvti_pfns(int fd, int dmabuf_fd, uint32_t id, uint64_t *pfns, uint32_t max)
{
	struct fvti_pfns a = {
		.dmabuf_fd = dmabuf_fd, .id = id, .max = max, .pfns = (uintptr_t)pfns,
	};

	if (ioctl(fd, FVTI_IOC_PFNS, &a))
		return -errno;
	return a.count;
}

/* ---- vivid ---- */

#define VIVID_MAX_BUFS 4

/* A streaming vivid capture queue with MMAP buffers, mapped read-write */
struct vivid_cap {
	int fd;
	unsigned int nbufs;
	size_t len;			/* each buffer's length */
	size_t maplen;			/* ... rounded up to pages: its VMA */
	void *map[VIVID_MAX_BUFS];
	struct v4l2_format fmt;
};

/* REQBUFS(@n) MMAP, mmap every buffer (at @fixed[i] if given), QBUF, STREAMON */
static inline int vivid_cap_start(struct vivid_cap *c, int inst, unsigned int n, void **fixed)
{
	struct v4l2_requestbuffers rb = {
		.count = n, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->fd = vivid_open(inst, V4L2_CAP_VIDEO_CAPTURE);
	if (c->fd < 0)
		return -ENODEV;
	c->fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (ioctl(c->fd, VIDIOC_G_FMT, &c->fmt) || ioctl(c->fd, VIDIOC_REQBUFS, &rb))
		return -errno;
	if (rb.count < n || n > VIVID_MAX_BUFS)
		return -ENOMEM;
	c->nbufs = n;
	for (i = 0; i < n; i++) {
		struct v4l2_buffer b = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
		};

		if (ioctl(c->fd, VIDIOC_QUERYBUF, &b))
			return -errno;
		c->len = b.length;
		c->maplen = (b.length + FV_PAGE - 1) & ~(FV_PAGE - 1);
		c->map[i] = mmap(fixed ? fixed[i] : NULL, b.length, PROT_READ | PROT_WRITE,
				 MAP_SHARED | (fixed ? MAP_FIXED : 0), c->fd, b.m.offset);
		if (c->map[i] == MAP_FAILED) {
			c->map[i] = NULL;
			return -errno;
		}
		if (ioctl(c->fd, VIDIOC_QBUF, &b))
			return -errno;
	}
	return ioctl(c->fd, VIDIOC_STREAMON, &type) ? -errno : 0;
}

/* DQBUF one filled buffer: its index, or -errno */
static inline int vivid_cap_dqbuf(struct vivid_cap *c)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP };
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (poll(&p, 1, 20000) != 1)
		return -ETIMEDOUT;
	return ioctl(c->fd, VIDIOC_DQBUF, &b) ? -errno : (int)b.index;
}

/* STREAMOFF, REQBUFS(0), munmap, close: everything the owner does to let go */
static inline void vivid_cap_stop(struct vivid_cap *c)
{
	struct v4l2_requestbuffers rb = {
		.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned int i;

	if (c->fd < 0)
		return;
	ioctl(c->fd, VIDIOC_STREAMOFF, &type);
	/* vb2 orphans buffers that are still mapped (or held by framevec) */
	ioctl(c->fd, VIDIOC_REQBUFS, &rb);
	for (i = 0; i < c->nbufs; i++)
		if (c->map[i])
			munmap(c->map[i], c->len);
	close(c->fd);
	c->fd = -1;
}

#endif /* PFNMAP_HELPERS_H */
