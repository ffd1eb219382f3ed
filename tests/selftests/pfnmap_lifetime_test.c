// SPDX-License-Identifier: GPL-2.0
/*
 * The use-after-free that killed follow_pfn(): import a VM_PFNMAP buffer,
 * then its owner lets go of everything (vb2: STREAMOFF, REQBUFS(0), munmap,
 * close; dma-heap and udmabuf: munmap and close every fd). framevec's
 * reference must keep the memory: another process churns memory, the import
 * still holds its pattern, writes through the import land only there (the
 * churner's memory is intact, page_poison and slub_debug find no
 * corruption), and after the last release the owner frees it.
 *
 * And the other side of that rule: a dma-buf whose exporter would let go
 * of the frames while the dma-buf lives is refused. vgem's (DRM's GEM shmem
 * helpers) PRIME mmap holds its pages only while it is mapped, so an import
 * of it, kept after munmap, would hold freed frames: it gets EOPNOTSUPP, and
 * so does vgem's GEM mmap, a VM_PFNMAP that nothing holds.
 *
 * Guest: modprobe vivid n_devs=1 allocators=1 && modprobe vgem
 * (vgem is optional: the debug kernel has no DRM, and the vgem tests skip)
 */
#include <signal.h>
#include <sys/wait.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>

#include "pfnmap_helpers.h"

#define NPAGES		16
#define CHURN_BYTES	(256UL << 20)

enum exporter { VB2, HEAP, UDMABUF };

FIXTURE(lifetime) {
	int devfd;
	struct vivid_cap cap;
	int exp_fd, memfd;	/* heap/udmabuf dma-buf, udmabuf's memfd */
	void *p;		/* the owner's mapping */
	size_t len;
	struct fv_counters base;
	int bufs_before;
};

FIXTURE_VARIANT(lifetime) {
	enum exporter exp;
	const char *exp_name;	/* in dma_buf/bufinfo */
};

FIXTURE_VARIANT_ADD(lifetime, vb2) { .exp = VB2, .exp_name = NULL };
FIXTURE_VARIANT_ADD(lifetime, dma_heap) { .exp = HEAP, .exp_name = "system" };
FIXTURE_VARIANT_ADD(lifetime, udmabuf) { .exp = UDMABUF, .exp_name = "udmabuf" };

FIXTURE_SETUP(lifetime)
{
	int idx;

	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->exp_fd = self->memfd = -1;
	self->cap.fd = -1;
	if (variant->exp_name)
		self->bufs_before = dmabuf_count(variant->exp_name);

	switch (variant->exp) {
	case VB2:
		ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 2, NULL));
		idx = vivid_cap_dqbuf(&self->cap);
		ASSERT_LE(0, idx);	/* dequeued: vivid no longer writes it */
		self->p = self->cap.map[idx];
		self->len = self->cap.maplen;
		break;
	case HEAP:
		self->len = NPAGES * FV_PAGE;
		self->exp_fd = heap_alloc(self->len);
		if (self->exp_fd == -ENOENT)
			SKIP(return, NO_DMA_HEAP);
		ASSERT_LE(0, self->exp_fd);
		break;
	case UDMABUF:
		self->len = NPAGES * FV_PAGE;
		self->exp_fd = udmabuf_alloc(self->len, &self->memfd);
		ASSERT_LE(0, self->exp_fd);
		break;
	}
	if (self->exp_fd >= 0) {
		self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       self->exp_fd, 0);
		ASSERT_NE(MAP_FAILED, self->p);
		EXPECT_EQ(self->bufs_before + 1, dmabuf_count(variant->exp_name));
	}
	fill_pattern(self->p, self->len, 0xa5a50000);
}

/* Everything the owner does to let go of its buffer */
static void owner_lets_go(FIXTURE_DATA(lifetime) *self)
{
	if (self->cap.fd >= 0) {
		vivid_cap_stop(&self->cap);
	} else if (self->exp_fd >= 0) {
		munmap(self->p, self->len);
		close(self->exp_fd);
		self->exp_fd = -1;
		if (self->memfd >= 0)
			close(self->memfd);
		self->memfd = -1;
	}
	self->p = NULL;
}

FIXTURE_TEARDOWN(lifetime)
{
	owner_lets_go(self);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/*
 * Child: fill CHURN_BYTES with its own pattern (reusing whatever the owner
 * freed), tell the parent, wait, check that nothing changed.
 */
static int churn(int ready, int go)
{
	char *m = mmap(NULL, CHURN_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	char c;

	if (m == MAP_FAILED)
		return 2;
	fill_pattern(m, CHURN_BYTES, 0x5a5a0000);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 3;
	return check_pattern(m, CHURN_BYTES, 0x5a5a0000) ? 1 : 0;
}

TEST_F(lifetime, memory_outlives_its_owner)
{
	int ready[2], go[2], fd = -1, status;
	struct fv_counters now;
	uint32_t *q, *q2;
	pid_t pid;
	char c;

	ASSERT_IMPORT_OK(self->devfd, self->p, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
	owner_lets_go(self);

	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_vb2 + (variant->exp == VB2), now.refs_vb2);
	EXPECT_EQ(self->base.refs_dmabuf + (variant->exp != VB2), now.refs_dmabuf);
	if (variant->exp_name)	/* the exporter's buffer is still alive: ours */
		EXPECT_EQ(self->bufs_before + 1, dmabuf_count(variant->exp_name));

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(churn(ready[1], go[0]));
	ASSERT_EQ(1, read(ready[0], &c, 1));

	/* the import still holds the owner's data; write through it */
	q = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, check_pattern(q, self->len, 0xa5a50000));
	fill_pattern(q, self->len, 0x3c3c0000);
	munmap(q, self->len);

	/* the writes landed in the import only: the churner's memory is intact */
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* and they are there, seen through a second mapping */
	q2 = mmap(NULL, self->len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q2);
	EXPECT_EQ(0, check_pattern(q2, self->len, 0x3c3c0000));
	munmap(q2, self->len);

	/* the last release: framevec lets go and the owner frees the buffer */
	close(fd);
	if (variant->exp_name)
		EXPECT_EQ(self->bufs_before, dmabuf_count(variant->exp_name));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* ---- vgem: a DRM PRIME mmap, and a GEM mmap ---- */

#define VGEM_NO_CARD	"no vgem card in /dev/dri (modprobe vgem; the debug kernel has no DRM)"

FIXTURE(vgem) {
	int devfd, card, dmabuf;
	struct drm_mode_create_dumb dumb;
	void *p;
	struct fv_counters base;
	struct framevec_explain_entry e;
};

/* An open /dev/dri/cardN whose driver is vgem, or -1 */
static int vgem_open(void)
{
	char path[32], name[16];
	int i, fd;

	for (i = 0; i < 16; i++) {
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

FIXTURE_SETUP(vgem)
{
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->dmabuf = -1;
	self->p = MAP_FAILED;
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->card = vgem_open();
	if (self->card < 0)
		SKIP(return, VGEM_NO_CARD);
	/* 16 pages of shmem: 1024 pixels of 4 bytes a row */
	self->dumb = (struct drm_mode_create_dumb){ .width = 1024, .height = NPAGES, .bpp = 32 };
	ASSERT_EQ(0, ioctl(self->card, DRM_IOCTL_MODE_CREATE_DUMB, &self->dumb));
	ASSERT_EQ(NPAGES * FV_PAGE, self->dumb.size);
}

FIXTURE_TEARDOWN(vgem)
{
	struct drm_mode_destroy_dumb d = { .handle = self->dumb.handle };

	if (self->p != MAP_FAILED)
		munmap(self->p, NPAGES * FV_PAGE);
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	if (self->card >= 0) {
		EXPECT_EQ(0, ioctl(self->card, DRM_IOCTL_MODE_DESTROY_DUMB, &d));
		close(self->card);
	}
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* Explain the one mapping at self->p into self->e */
static int vgem_explain(FIXTURE_DATA(vgem) *self)
{
	__u32 nr = 1;
	int ret;

	ret = fv_explain(self->devfd, 0, self->p, NPAGES * FV_PAGE, FRAMEVEC_EXPLAIN_WRITE,
			 &self->e, &nr);
	return ret ? ret : nr == 1 ? 0 : -1;
}

/*
 * The dma-buf of a GEM shmem object, mmapped: drm_gem_shmem_vm_close() puts
 * its pages at munmap, so holding the dma-buf's file would not hold them.
 * Refused for what it is, before any reference, and explain says the same.
 */
TEST_F(vgem, prime_mmap_is_refused)
{
	struct drm_prime_handle prime = {
		.handle = self->dumb.handle, .flags = DRM_CLOEXEC | DRM_RDWR,
	};
	struct fv_counters now;

	ASSERT_EQ(0, ioctl(self->card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime));
	self->dmabuf = prime.fd;
	self->p = mmap(NULL, NPAGES * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->dmabuf, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	fill_pattern(self->p, NPAGES * FV_PAGE, 0x7e7e0000);	/* every page mapped */

	/* EXPECT, not ASSERT: what explain says matters too if this fails */
	EXPECT_EQ(EOPNOTSUPP, fv_import(self->devfd, self->p, NPAGES * FV_PAGE,
					FRAMEVEC_IMPORT_WRITE, NULL));
	EXPECT_EQ(EOPNOTSUPP, fv_import(self->devfd, self->p, FV_PAGE, 0, NULL));
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_dmabuf, now.refs_dmabuf);
	EXPECT_EQ(self->base.live_framevecs, now.live_framevecs);

	ASSERT_EQ(0, vgem_explain(self));
	EXPECT_EQ(FRAMEVEC_BACKING_DMABUF, self->e.backing);
	EXPECT_EQ(FRAMEVEC_EXPLAIN_NO_SOURCE, self->e.source);
	EXPECT_EQ(EOPNOTSUPP, self->e.error);
	EXPECT_EQ(EOPNOTSUPP, self->e.error_revocable);
	EXPECT_NE(NULL, strstr(self->e.why, "hand the dma-buf fd itself to the device"))
		TH_LOG("why: %s", self->e.why);
	EXPECT_NE(NULL, strstr(self->e.why, "may free what it maps"))
		TH_LOG("why: %s", self->e.why);
	/* the buffer is the user's still: refusing it changed nothing */
	EXPECT_EQ(0, check_pattern(self->p, NPAGES * FV_PAGE, 0x7e7e0000));
}

/*
 * The GEM object mmapped through the card (DRM_IOCTL_MODE_MAP_DUMB's fake
 * offset): a VM_PFNMAP of a device file, no dma-buf, nothing framevec could
 * hold. Only an in-kernel importer with a revoke callback (the revocable
 * source) may take such memory; /dev/framevec's dma-buf may not.
 */
TEST_F(vgem, gem_mmap_is_refused)
{
	struct drm_mode_map_dumb map = { .handle = self->dumb.handle };

	ASSERT_EQ(0, ioctl(self->card, DRM_IOCTL_MODE_MAP_DUMB, &map));
	self->p = mmap(NULL, NPAGES * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->card, map.offset);
	ASSERT_NE(MAP_FAILED, self->p);
	fill_pattern(self->p, NPAGES * FV_PAGE, 0x1e1e0000);

	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, self->p, NPAGES * FV_PAGE,
			    FRAMEVEC_IMPORT_WRITE);

	ASSERT_EQ(0, vgem_explain(self));
	EXPECT_EQ(FRAMEVEC_BACKING_DEVICE, self->e.backing);
	EXPECT_EQ(FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE, self->e.source);
	EXPECT_NE(0, self->e.vm_flags & FRAMEVEC_VMA_PFNMAP);
	EXPECT_EQ(EOPNOTSUPP, self->e.error);
	EXPECT_EQ(EOPNOTSUPP, self->e.error_revocable);
	EXPECT_NE(NULL, strstr(self->e.why, "only the revocable source"))
		TH_LOG("why: %s", self->e.why);
	EXPECT_EQ(0, check_pattern(self->p, NPAGES * FV_PAGE, 0x1e1e0000));
}

TEST_HARNESS_MAIN
