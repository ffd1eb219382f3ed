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
 * Guest: modprobe vivid n_devs=1 allocators=1
 */
#include <signal.h>
#include <sys/wait.h>

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

TEST_HARNESS_MAIN
