// SPDX-License-Identifier: GPL-2.0
/*
 * framevec_vb2: unmodified vivid, unmodified application code, V4L2
 * USERPTR on another device's MMAP buffer. Without the livepatch the output
 * refuses the pointer with EFAULT; with it the output reads the capture
 * buffer's own page frames (framevec's debugfs lists the pfns it holds, vb2
 * EXPBUF + fv_test_importer shows vb2's own), the buffer outlives its owner,
 * ordinary malloc() memory works both ways on both vivid allocators, and
 * disabling the patch with buffers live ends in the documented leak, never
 * a double release (KASAN on the debug kernel).
 *
 * Tests run in this file's order: the unpatched one first, the disable one
 * last (a disabled livepatch cannot be enabled again without a reload).
 *
 * vivid's dma-contig queues have no USERPTR, so the allocator that consumes
 * the frame vectors here is vb2-vmalloc (vm_map_ram() of the pages).
 *
 * Guest: modprobe vivid n_devs=2 allocators=1,0 (0: dma-contig, 1: vmalloc);
 * modprobe fv_test_importer; modprobe fv_test_exporter (revocable memory);
 * modprobe fv_test_vb2mem (the dma-contig, dma-sg and vmalloc memops). The tests load framevec_vb2 themselves.
 */
#include <stdbool.h>
#include "pfnmap_helpers.h"
#include "fv_test_exporter.h"
#include "fv_test_vb2mem.h"

#define LP_DIR		"/sys/kernel/livepatch/framevec_vb2"
#define LP_PARAMS	"/sys/module/framevec_vb2/parameters/"
#define NBUF		2
/*
 * vivid offers USERPTR only with its vmalloc allocator: instance 1. The
 * MMAP buffers come from instance 0 (dma-contig: VM_PFNMAP mappings).
 */
#define OUT_INST	1

static bool lp_loaded(void)
{
	return !access(LP_DIR, F_OK);
}

/* modprobe it (once) and wait until every task runs the patched pair */
static int lp_enable(void)
{
	int i;

	if (!lp_loaded() && system("modprobe framevec_vb2"))
		return -1;
	for (i = 0; i < 600; i++) {
		if (fv_read_long(LP_DIR "/enabled") == 1 &&
		    fv_read_long(LP_DIR "/transition") == 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* The page frames framevec holds for the framevec starting at @start */
static long held_pfns(void *start, uint64_t *pfns, long max, char *source, size_t srclen)
{
	unsigned long pfn, pages, s, i;
	char line[512];
	bool mine = false;
	long n = 0;
	FILE *f = fopen(FV_FRAMEVECS, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (!strncmp(line, "framevec ", 9)) {
			p = strstr(line, "start=");
			mine = p && sscanf(p, "start=%lx", &s) == 1 && s == (uintptr_t)start;
			if (mine && n)		/* two framevecs at @start */
				mine = false, n = -EEXIST;
		} else if (mine && (p = strstr(line, "seg source="))) {
			sscanf(p, "seg source=%31s", source);
			source[srclen - 1] = 0;
		} else if (mine && (p = strstr(line, "run pfn=")) &&
			   sscanf(p, "run pfn=%lx pages=%lu", &pfn, &pages) == 2) {
			for (i = 0; i < pages && n < max; i++)
				pfns[n++] = pfn + i;
		}
	}
	fclose(f);
	return n;
}

/* vb2's own page frames of capture buffer @idx: EXPBUF, seen by an importer */
static long vb2_pfns(int capfd, int tifd, int idx, uint64_t *pfns, long max)
{
	struct v4l2_exportbuffer exp = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = idx, .flags = O_RDONLY,
	};
	long n;

	if (ioctl(capfd, VIDIOC_EXPBUF, &exp))
		return -errno;
	n = fvti_pfns(tifd, exp.fd, 0, pfns, max);
	close(exp.fd);
	return n;
}

static int vq_open(int inst, uint32_t type, const struct v4l2_format *like, unsigned int count)
{
	struct v4l2_format fmt = { .type = type };
	struct v4l2_requestbuffers rb = {
		.count = count, .type = type, .memory = V4L2_MEMORY_USERPTR,
	};
	int fd = vivid_open(inst, type == V4L2_BUF_TYPE_VIDEO_OUTPUT ?
			    V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE);

	if (fd < 0)
		return -1;
	if (ioctl(fd, VIDIOC_G_FMT, &fmt))
		goto err;
	if (like) {
		fmt.fmt.pix = like->fmt.pix;
		if (ioctl(fd, VIDIOC_S_FMT, &fmt))
			goto err;
	}
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < count)
		goto err;
	return fd;
err:
	close(fd);
	return -1;
}

static int vq_qbuf(int fd, uint32_t type, unsigned int idx, void *p, size_t len, size_t used)
{
	struct v4l2_buffer b = {
		.type = type, .memory = V4L2_MEMORY_USERPTR, .index = idx,
		.length = len, .bytesused = used,
	};

	b.m.userptr = (unsigned long)p;
	return ioctl(fd, VIDIOC_QBUF, &b) ? errno : 0;
}

/* STREAMON, wait for one buffer, DQBUF it: its index or -errno */
static int vq_stream_one(int fd, uint32_t type)
{
	struct pollfd pfd = {
		.fd = fd, .events = type == V4L2_BUF_TYPE_VIDEO_OUTPUT ? POLLOUT : POLLIN,
	};
	struct v4l2_buffer b = { .type = type, .memory = V4L2_MEMORY_USERPTR };

	if (ioctl(fd, VIDIOC_STREAMON, &type))
		return -errno;
	if (poll(&pfd, 1, 20000) != 1)
		return -ETIMEDOUT;
	if (ioctl(fd, VIDIOC_DQBUF, &b))
		return -errno;
	return (b.flags & V4L2_BUF_FLAG_ERROR) ? -EIO : (int)b.index;
}

/* STREAMOFF, REQBUFS(0), close: vb2 gives back every USERPTR buffer */
static void vq_close(int fd, uint32_t type)
{
	struct v4l2_requestbuffers rb = { .type = type, .memory = V4L2_MEMORY_USERPTR };

	ioctl(fd, VIDIOC_STREAMOFF, &type);
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	close(fd);
}

/* An allocator's get_userptr() through fv_test_vb2mem: 0 or the errno */
static int vm_get(int fd, uint32_t alloc, uint32_t dir, void *p, size_t len, struct fvvm_get *g)
{
	memset(g, 0, sizeof(*g));
	g->addr = (uintptr_t)p;
	g->size = len;
	g->alloc = alloc;
	g->dir = dir;
	return ioctl(fd, FVVM_GET, g) ? errno : 0;
}

static const char *const vm_names[] = { "dma-contig", "dma-sg", "vmalloc" };

/* Without the patch: what mainline does since follow_pfn() went away */
FIXTURE(unpatched) {
	struct vivid_cap cap;
	struct fv_counters base;
};

FIXTURE_SETUP(unpatched)
{
	if (lp_loaded())
		SKIP(return, "framevec_vb2 is already loaded");
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, NBUF, NULL));
}

FIXTURE_TEARDOWN(unpatched)
{
	vivid_cap_stop(&self->cap);
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(unpatched, userptr_of_a_vb2_mmap_buffer_is_efault)
{
	int out = vq_open(OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT, &self->cap.fmt, NBUF);

	ASSERT_LE(0, out);
	EXPECT_EQ(EFAULT, vq_qbuf(out, V4L2_BUF_TYPE_VIDEO_OUTPUT, 0, self->cap.map[0],
				  self->cap.len, self->cap.fmt.fmt.pix.sizeimage));
	vq_close(out, V4L2_BUF_TYPE_VIDEO_OUTPUT);
}

TEST_F(unpatched, every_allocator_refuses_a_vb2_mmap_buffer)
{
	int fd = open(FVVM_DEV, O_RDWR | O_CLOEXEC);
	struct fvvm_get g;
	uint32_t a;

	ASSERT_LE(0, fd);
	for (a = FVVM_DMA_CONTIG; a <= FVVM_VMALLOC; a++) {
		/* vb2-dma-sg reports every get_userptr() failure as ENOMEM */
		EXPECT_EQ(a == FVVM_DMA_SG ? ENOMEM : EFAULT,
			  vm_get(fd, a, 1, self->cap.map[0], self->cap.len, &g))
			TH_LOG("%s", vm_names[a]);
	}
	close(fd);
}

/* With the patch: vivid instance 0 (dma-contig) captures into MMAP buffers */
FIXTURE(patched) {
	int tifd;
	struct vivid_cap cap;
	struct fv_counters base;
	long base_live;
	uint64_t *pfns, *want;
	long npages;
};

FIXTURE_SETUP(patched)
{
	ASSERT_EQ(0, lp_enable());
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->base_live = fv_read_long(LP_PARAMS "live_vectors");
	ASSERT_EQ(0, self->base_live);
	self->tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->tifd);
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 4, NULL));
	/* the capture has filled two of them: the output will send those */
	ASSERT_LE(0, vivid_cap_dqbuf(&self->cap));
	ASSERT_LE(0, vivid_cap_dqbuf(&self->cap));
	self->npages = self->cap.maplen / FV_PAGE;
	self->pfns = calloc(self->npages, 8);
	self->want = calloc(self->npages, 8);
	ASSERT_TRUE(self->pfns && self->want);
}

FIXTURE_TEARDOWN(patched)
{
	vivid_cap_stop(&self->cap);
	close(self->tifd);
	free(self->pfns);
	free(self->want);
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	ASSERT_AT_BASELINE(&self->base);
}

/* Capture buffer @i queued as USERPTR output buffer @i; framevec holds its own pfns */
static void queue_capture_buffer(struct __test_metadata *_metadata,
				 FIXTURE_DATA(patched) *self, int out, int i)
{
	char source[32] = "";
	long n;

	ASSERT_EQ(0, vq_qbuf(out, V4L2_BUF_TYPE_VIDEO_OUTPUT, i, self->cap.map[i],
			     self->cap.len, self->cap.fmt.fmt.pix.sizeimage));
	n = held_pfns(self->cap.map[i], self->pfns, self->npages, source, sizeof(source));
	ASSERT_EQ(self->npages, n);
	EXPECT_STREQ("vb2", source);
	ASSERT_EQ(self->npages, vb2_pfns(self->cap.fd, self->tifd, i, self->want, self->npages));
	EXPECT_EQ(0, memcmp(self->pfns, self->want, self->npages * 8));
}

TEST_F(patched, output_reads_the_capture_buffers_own_pfns)
{
	int out = vq_open(OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT, &self->cap.fmt, NBUF);
	struct fv_counters now;
	int i;

	ASSERT_LE(0, out);
	for (i = 0; i < NBUF; i++)
		queue_capture_buffer(_metadata, self, out, i);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_vb2 + NBUF, now.refs_vb2);
	EXPECT_EQ(self->base.pinned_pages, now.pinned_pages);	/* nothing pinned */
	EXPECT_EQ(NBUF, fv_read_long(LP_PARAMS "live_vectors"));
	/* a livepatch taints the kernel: K, TAINT_LIVEPATCH (bit 15) */
	EXPECT_TRUE(fv_read_long("/proc/sys/kernel/tainted") & (1L << 15));
	/* vivid returns an output buffer while another is queued: frames flow */
	EXPECT_LE(0, vq_stream_one(out, V4L2_BUF_TYPE_VIDEO_OUTPUT));
	TH_LOG("%ld pages at pfn %#llx: framevec holds vb2's own frames, output streams",
	       self->npages, (unsigned long long)self->want[0]);
	vq_close(out, V4L2_BUF_TYPE_VIDEO_OUTPUT);
}

TEST_F(patched, buffer_outlives_its_owner_until_the_output_lets_go)
{
	int out = vq_open(OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT, &self->cap.fmt, NBUF);
	uint64_t *held = calloc(self->npages * NBUF, 8);
	struct vivid_cap again;
	struct fv_counters now;
	char source[32] = "";
	long i, j, k;

	ASSERT_LE(0, out);
	ASSERT_NE(NULL, held);
	for (i = 0; i < NBUF; i++) {
		queue_capture_buffer(_metadata, self, out, i);
		memcpy(held + i * self->npages, self->pfns, self->npages * 8);
	}
	/* the owner: STREAMOFF, REQBUFS(0), munmap, close */
	vivid_cap_stop(&self->cap);
	self->cap.fd = -1;
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_vb2 + NBUF, now.refs_vb2);
	/* framevec still holds the same frames (listed by their old address) */
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(self->npages, held_pfns(self->cap.map[i], self->pfns,
						  self->npages, source, sizeof(source)));
		EXPECT_EQ(0, memcmp(self->pfns, held + i * self->npages, self->npages * 8));
	}
	/* they are not free: a new owner's buffers get other frames */
	ASSERT_EQ(0, vivid_cap_start(&again, 0, 4, NULL));
	for (k = 0; k < 4; k++) {
		ASSERT_EQ(self->npages, vb2_pfns(again.fd, self->tifd, k, self->want, self->npages));
		for (i = 0; i < self->npages * NBUF; i++)
			for (j = 0; j < self->npages; j++)
				ASSERT_NE(held[i], self->want[j]);
	}
	vivid_cap_stop(&again);
	/* and the output still streams from them */
	EXPECT_LE(0, vq_stream_one(out, V4L2_BUF_TYPE_VIDEO_OUTPUT));
	vq_close(out, V4L2_BUF_TYPE_VIDEO_OUTPUT);
	free(held);
}

/* malloc() memory through the patch, to and from the device */
FIXTURE(heap) {
	struct fv_counters base;
	struct v4l2_format fmt;
	size_t len;
	void *buf[NBUF];
};

FIXTURE_VARIANT(heap) {
	int inst;
	uint32_t type;
};

FIXTURE_VARIANT_ADD(heap, vmalloc_output) { OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT };
FIXTURE_VARIANT_ADD(heap, vmalloc_capture) { OUT_INST, V4L2_BUF_TYPE_VIDEO_CAPTURE };

FIXTURE_SETUP(heap)
{
	int fd, i;

	ASSERT_EQ(0, lp_enable());
	ASSERT_EQ(0, fv_read_counters(&self->base));
	fd = vivid_open(variant->inst, variant->type == V4L2_BUF_TYPE_VIDEO_OUTPUT ?
			V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_LE(0, fd);
	self->fmt.type = variant->type;
	ASSERT_EQ(0, ioctl(fd, VIDIOC_G_FMT, &self->fmt));
	close(fd);
	self->len = (self->fmt.fmt.pix.sizeimage + FV_PAGE - 1) & ~(FV_PAGE - 1);
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, posix_memalign(&self->buf[i], FV_PAGE, self->len));
		fv_fill(self->buf[i], self->len, i + 1);
	}
}

FIXTURE_TEARDOWN(heap)
{
	int i;

	for (i = 0; i < NBUF; i++)
		free(self->buf[i]);
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(heap, malloc_userptr_streams_through_framevec)
{
	int fd = vq_open(variant->inst, variant->type, NULL, NBUF);
	long npages = self->len / FV_PAGE, n, i, p;
	uint64_t *pfns = calloc(npages, 8);
	struct fv_counters now;
	char source[32] = "";

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, pfns);
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, vq_qbuf(fd, variant->type, i, self->buf[i], self->len,
				     self->fmt.fmt.pix.sizeimage));
		/* held as pages, exactly the process's own frames */
		n = held_pfns(self->buf[i], pfns, npages, source, sizeof(source));
		ASSERT_EQ(npages, n);
		EXPECT_STREQ("pages", source);
		for (p = 0; p < npages; p++)
			ASSERT_EQ(fv_pagemap_pfn((char *)self->buf[i] + p * FV_PAGE), pfns[p]);
	}
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.pinned_pages + NBUF * npages, now.pinned_pages);
	EXPECT_EQ(NBUF, fv_read_long(LP_PARAMS "live_vectors"));
	i = vq_stream_one(fd, variant->type);
	ASSERT_LE(0, i);
	if (variant->type == V4L2_BUF_TYPE_VIDEO_OUTPUT) {
		/* the device read it; nothing wrote it */
		EXPECT_EQ(0, fv_check(self->buf[i], self->len, i + 1));
	} else {
		/* vivid's test pattern landed in the process's own memory */
		EXPECT_NE(0, fv_check(self->buf[i], self->fmt.fmt.pix.sizeimage, i + 1));
	}
	vq_close(fd, variant->type);
	free(pfns);
}

/*
 * vb2's three allocators on the vectors framevec_vb2 makes, driven by
 * fv_test_vb2mem as vb2-core would: a vb2 MMAP buffer of vivid's (pfns,
 * contiguous; the device writes) and malloc() memory (pages; the device
 * reads; one page for dma-contig, which needs contiguous memory).
 */
FIXTURE(allocators) {
	struct fv_counters base;
	int vmfd, tifd;
	struct vivid_cap cap;
	void *heap;
	size_t heaplen;
};

FIXTURE_VARIANT(allocators) {
	uint32_t alloc;
	bool vb2_source;
	size_t heap_pages;
};

FIXTURE_VARIANT_ADD(allocators, dma_contig_vb2) { FVVM_DMA_CONTIG, true, 0 };
FIXTURE_VARIANT_ADD(allocators, dma_sg_vb2) { FVVM_DMA_SG, true, 0 };
FIXTURE_VARIANT_ADD(allocators, vmalloc_vb2) { FVVM_VMALLOC, true, 0 };
FIXTURE_VARIANT_ADD(allocators, dma_contig_heap) { FVVM_DMA_CONTIG, false, 1 };
FIXTURE_VARIANT_ADD(allocators, dma_sg_heap) { FVVM_DMA_SG, false, 32 };
FIXTURE_VARIANT_ADD(allocators, vmalloc_heap) { FVVM_VMALLOC, false, 32 };

FIXTURE_SETUP(allocators)
{
	self->cap.fd = -1;
	ASSERT_EQ(0, lp_enable());
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->vmfd = open(FVVM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->vmfd);
	self->tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->tifd);
	if (variant->vb2_source) {
		ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 4, NULL));
		ASSERT_LE(0, vivid_cap_dqbuf(&self->cap));
	} else {
		self->heaplen = variant->heap_pages * FV_PAGE;
		ASSERT_EQ(0, posix_memalign(&self->heap, FV_PAGE, self->heaplen));
		fv_fill(self->heap, self->heaplen, 9);
	}
}

FIXTURE_TEARDOWN(allocators)
{
	close(self->vmfd);
	close(self->tifd);
	vivid_cap_stop(&self->cap);
	free(self->heap);
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(allocators, get_userptr_maps_the_memory_itself)
{
	void *p = variant->vb2_source ? self->cap.map[0] : self->heap;
	size_t len = variant->vb2_source ? self->cap.len : self->heaplen;
	long npages = (len + FV_PAGE - 1) / FV_PAGE, n;
	uint64_t *want = calloc(npages, 8);
	char source[32] = "", *seen = malloc(len);
	struct fvvm_read r = { 0 };
	struct fvvm_get g;
	long i;

	ASSERT_TRUE(want && seen);
	ASSERT_EQ(0, vm_get(self->vmfd, variant->alloc, variant->vb2_source ? 2 : 1, p, len, &g));
	EXPECT_EQ(1, fv_read_long(LP_PARAMS "live_vectors"));
	n = held_pfns(p, want, npages, source, sizeof(source));
	ASSERT_EQ(npages, n);
	EXPECT_STREQ(variant->vb2_source ? "vb2" : "pages", source);
	if (variant->vb2_source) {
		/* framevec holds vb2's own frames */
		uint64_t *vb2 = calloc(npages, 8);

		ASSERT_NE(NULL, vb2);
		ASSERT_EQ(npages, vb2_pfns(self->cap.fd, self->tifd, 0, vb2, npages));
		EXPECT_EQ(0, memcmp(vb2, want, npages * 8));
		free(vb2);
	} else {
		for (i = 0; i < npages; i++)
			ASSERT_EQ(fv_pagemap_pfn((char *)p + i * FV_PAGE), want[i]);
	}
	/* no IOMMU in this VM: the device's first address is the first frame */
	if (variant->alloc != FVVM_VMALLOC) {
		EXPECT_LE(1, g.nents);
		EXPECT_EQ(want[0], g.dma_addr / FV_PAGE);
	}
	/* the allocator's kernel mapping shows the process's bytes */
	r.id = g.id;
	r.buf = (uintptr_t)seen;
	r.len = len;
	ASSERT_EQ(0, ioctl(self->vmfd, FVVM_READ, &r));
	EXPECT_EQ(0, memcmp(seen, p, len));
	TH_LOG("%s on %s memory: %ld pages, %u DMA segment(s), same bytes",
	       vm_names[variant->alloc], source, npages, g.nents);
	ASSERT_EQ(0, ioctl(self->vmfd, FVVM_PUT, &g.id));
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	free(want);
	free(seen);
}

/* Does the kernel log, from @fd's position on, have a line with @what? */
static bool kmsg_has(int fd, const char *what)
{
	char rec[1024];
	bool found = false;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		if (strstr(rec, what))
			found = true;
	}
	return found;
}

/*
 * Memory its owner can revoke (a driver's framevec iomem export): vb2 has
 * no way to stop DMA on demand, so it is refused, EFAULT as unpatched, with
 * one line saying why.
 */
FIXTURE(revocable) {
	struct fv_counters base;
	int texpfd, kmsg;
	void *map;
	size_t len;
	struct v4l2_format fmt;
};

FIXTURE_SETUP(revocable)
{
	struct fv_texp_alloc a = { .nr_chunks = 1 };
	int fd;

	ASSERT_EQ(0, lp_enable());
	ASSERT_EQ(0, fv_read_counters(&self->base));
	fd = vivid_open(OUT_INST, V4L2_CAP_VIDEO_OUTPUT);
	ASSERT_LE(0, fd);
	self->fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	ASSERT_EQ(0, ioctl(fd, VIDIOC_G_FMT, &self->fmt));
	close(fd);
	self->len = (self->fmt.fmt.pix.sizeimage + FV_PAGE - 1) & ~(FV_PAGE - 1);
	a.nr_pages = self->len / FV_PAGE;
	self->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->texpfd);
	ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_ALLOC, &a));
	self->map = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->texpfd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, self->map);
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg);
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
}

FIXTURE_TEARDOWN(revocable)
{
	munmap(self->map, self->len);
	close(self->texpfd);
	close(self->kmsg);
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(revocable, is_efault_with_the_reason_logged)
{
	int out = vq_open(OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT, NULL, NBUF);

	ASSERT_LE(0, out);
	EXPECT_EQ(EFAULT, vq_qbuf(out, V4L2_BUF_TYPE_VIDEO_OUTPUT, 0, self->map, self->len,
				  self->fmt.fmt.pix.sizeimage));
	EXPECT_TRUE(kmsg_has(self->kmsg, "vb2 cannot stop DMA on demand"));
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));
	vq_close(out, V4L2_BUF_TYPE_VIDEO_OUTPUT);
}

/*
 * Last: disable the patch with USERPTR buffers live (a vb2 buffer and
 * malloc() memory), then release them. The unpatched vb2_destroy_framevec()
 * runs on vectors the patch made: it must unpin nothing (got_ref is false)
 * and the framevecs stay held, the documented leak. KASAN and page poisoning
 * would report a double release or a use after free.
 */
FIXTURE(disable) {
	struct fv_counters base;
	struct vivid_cap cap;
	void *heap;
	size_t heaplen;
};

FIXTURE_SETUP(disable)
{
	ASSERT_EQ(0, lp_enable());
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 4, NULL));
	ASSERT_LE(0, vivid_cap_dqbuf(&self->cap));
	ASSERT_LE(0, vivid_cap_dqbuf(&self->cap));
	self->heaplen = self->cap.maplen;
	ASSERT_EQ(0, posix_memalign(&self->heap, FV_PAGE, self->heaplen));
	fv_fill(self->heap, self->heaplen, 7);
}

FIXTURE_TEARDOWN(disable)
{
	vivid_cap_stop(&self->cap);
	free(self->heap);
}

TEST_F(disable, buffers_live_at_disable_stay_held_and_are_never_released_twice)
{
	int out = vq_open(OUT_INST, V4L2_BUF_TYPE_VIDEO_OUTPUT, &self->cap.fmt, 3);
	long npages = self->cap.maplen / FV_PAGE, i;
	struct fv_counters now;

	ASSERT_LE(0, out);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vq_qbuf(out, V4L2_BUF_TYPE_VIDEO_OUTPUT, i, self->cap.map[i],
				     self->cap.len, self->cap.fmt.fmt.pix.sizeimage));
	ASSERT_EQ(0, vq_qbuf(out, V4L2_BUF_TYPE_VIDEO_OUTPUT, 2, self->heap, self->cap.len,
			     self->cap.fmt.fmt.pix.sizeimage));
	EXPECT_LE(0, vq_stream_one(out, V4L2_BUF_TYPE_VIDEO_OUTPUT));
	ASSERT_EQ(3, fv_read_long(LP_PARAMS "live_vectors"));

	ASSERT_EQ(0, fv_write_file(LP_DIR "/enabled", "0"));
	/* the transition ends and livepatch drops the patch's directory */
	for (i = 0; i < 600 && lp_loaded(); i++)
		usleep(100000);
	ASSERT_FALSE(lp_loaded());
	EXPECT_EQ(3, fv_read_long(LP_PARAMS "leaked_vectors"));
	EXPECT_EQ(0, fv_read_long(LP_PARAMS "live_vectors"));

	/* the unpatched vb2 releases them: frees the vectors, nothing else */
	vq_close(out, V4L2_BUF_TYPE_VIDEO_OUTPUT);
	vivid_cap_stop(&self->cap);
	self->cap.fd = -1;
	ASSERT_EQ(0, fv_read_counters(&now));
	/* baseline plus exactly the three leaked imports */
	EXPECT_EQ(self->base.live_framevecs + 3, now.live_framevecs);
	EXPECT_EQ(self->base.refs_vb2 + 2, now.refs_vb2);
	EXPECT_EQ(self->base.refs_pages + 1, now.refs_pages);
	EXPECT_EQ(self->base.pinned_pages + npages, now.pinned_pages);
	EXPECT_EQ(self->base.device_maps, now.device_maps);
	EXPECT_EQ(self->base.live_dmabufs, now.live_dmabufs);
	/* the heap buffer is still pinned by its framevec, and intact */
	EXPECT_EQ(0, fv_check(self->heap, self->heaplen, 7));
	/* the leaked imports keep the module loaded */
	EXPECT_NE(0, system("rmmod framevec_vb2 2>/dev/null"));
	TH_LOG("disabled with 3 USERPTR buffers live: %ld pages each stay held until reboot",
	       npages);
}

TEST_HARNESS_MAIN
