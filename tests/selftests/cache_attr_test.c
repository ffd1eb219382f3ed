// SPDX-License-Identifier: GPL-2.0
/*
 * Cache attributes checked for real. For each owner of memory, the memory
 * type of every CPU mapping framevec makes of it (the user mmap of its
 * framevec dma-buf and, where framevec allows one, its vmap through
 * dma_buf_vmap()) must be the owner's own user mapping's, page by page.
 * They are read from the page-table entries themselves by
 * fv_test_cacheattr: TCG does not model caches, so data would look right
 * whatever the attribute. Each non-cacheable owner is first asserted to be
 * mapped non-cacheable by its owner, so that no test passes by comparing
 * write-back with write-back; write-back owners are the control.
 *
 * Owners: anonymous memory (write-back); RAM that fv_test_cacheattr maps
 * write-combined or uncached with vm_insert_pages() (pages source, vmap
 * too); fv_test_exporter's dma_alloc_coherent() buffers made write-combined
 * or uncached (iomem source, revocable: no vmap); the ivshmem BAR (MMIO,
 * uncached, no vmap); vivid's dma-contig buffers (vb2 source, vmap too),
 * cacheable where DMA is coherent (x86) and Normal-NC on arm64, whose
 * platform device is not DMA-coherent. Owners this kernel cannot make (WC
 * RAM on arm64, the BAR without the ivshmem profile) are skipped with why.
 *
 * Every test checks framevec's counters, the exporter's live buffers and
 * the test modules' state back at their baseline in teardown.
 */
#include <poll.h>

#include "framevec_test.h"
#include "pfnmap_helpers.h"
#include "../modules/fv_test_cacheattr.h"
#include "../modules/fv_test_exporter.h"

#define NR_PAGES	4

/* What pgprot_noncached() makes: x86 UC- (PCD), arm64 Device-nGnRnE */
#ifdef __aarch64__
#define MODE_NONCACHED	FVCA_MODE_UC
#else
#define MODE_NONCACHED	FVCA_MODE_UC_MINUS
#endif

static const char *mode_name(__u32 mode)
{
	static const char * const names[] = {
		[FVCA_MODE_OTHER] = "other", [FVCA_MODE_WB] = "write-back",
#ifdef __aarch64__
		[FVCA_MODE_WC] = "Normal-NC", [FVCA_MODE_UC] = "Device-nGnRnE",
#else
		[FVCA_MODE_WC] = "write-combine", [FVCA_MODE_UC] = "UC",
#endif
		[FVCA_MODE_UC_MINUS] = "UC-", [FVCA_MODE_WT] = "write-through",
		[FVCA_MODE_WP] = "write-protect", [FVCA_MODE_DEVICE] = "Device-nGnRE",
	};

	return mode < sizeof(names) / sizeof(names[0]) && names[mode] ? names[mode] : "?";
}

/* FVCA_IOC_QUERY of a user address (@dmabuf_fd < 0) or a vmap offset: 0 or errno */
static int ca_query(int cafd, uint64_t addr, int dmabuf_fd, struct fvca_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->flags = dmabuf_fd >= 0 ? FVCA_QUERY_VMAP : 0;
	q->addr = addr;
	q->dmabuf_fd = dmabuf_fd;
	return ioctl(cafd, FVCA_IOC_QUERY, q) ? errno : 0;
}

/* Fault every page of a mapping in, reading only */
static void touch(const void *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += FV_PAGE)
		(void)*(const volatile char *)((const char *)p + off);
}

FIXTURE(cache_attr) {
	struct fv_counters base;
	struct fv_texp_stats tbase;
	int devfd, cafd, texpfd, dmabuf;
	void *owner, *fvmap;
	size_t len;
	struct vivid_cap cap;
};

FIXTURE_SETUP(cache_attr)
{
	self->dmabuf = -1;
	self->texpfd = -1;
	self->cap.fd = -1;
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->cafd = open(FVCA_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->cafd) {
		TH_LOG("%s: modprobe fv_test_cacheattr", FVCA_DEV);
	}
	self->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->texpfd) {
		TH_LOG("%s: modprobe fv_test_exporter", FV_TEXP_DEV);
	}
	ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_STATS, &self->tbase));
}

FIXTURE_TEARDOWN(cache_attr)
{
	struct fv_texp_stats st;

	if (self->fvmap)
		munmap(self->fvmap, self->len);
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	if (self->owner)
		munmap(self->owner, self->len);
	vivid_cap_stop(&self->cap);
	close(self->cafd);
	if (self->texpfd >= 0) {
		close(self->texpfd);
		/* the exporter's buffers are gone once their file and maps are */
		self->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->texpfd);
		ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_STATS, &st));
		EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
		close(self->texpfd);
	}
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/*
 * The owner's mapping self->owner of self->len bytes is in place: assert
 * its pages are mapped @want by their owner (FVCA_MODE_OTHER: whatever it
 * is, reported in *@got), import it, map its framevec dma-buf, and compare
 * the entries page by page: same frame, same memory-type bits. The vmap is
 * compared too if @vmap, else it must be refused.
 */
static void compare_mappings(struct __test_metadata *_metadata,
			     FIXTURE_DATA(cache_attr) *self, __u32 want, int vmap,
			     __u32 *got)
{
	struct fvca_query own, map, vm;
	size_t i;

	touch(self->owner, self->len);
	ASSERT_EQ(0, ca_query(self->cafd, (uintptr_t)self->owner, -1, &own));
	if (want != FVCA_MODE_OTHER)
		ASSERT_EQ(want, own.mode) {
			TH_LOG("the owner maps its buffer %s (attr %#llx), not %s: nothing to compare",
			       mode_name(own.mode), (unsigned long long)own.attr, mode_name(want));
		}
	if (got)
		*got = own.mode;

	ASSERT_IMPORT_OK(self->devfd, self->owner, self->len, FRAMEVEC_IMPORT_WRITE,
			 &self->dmabuf);
	self->fvmap = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->dmabuf, 0);
	ASSERT_NE(MAP_FAILED, self->fvmap) {
		self->fvmap = NULL;
	}
	touch(self->fvmap, self->len);

	for (i = 0; i < self->len / FV_PAGE; i++) {
		ASSERT_EQ(0, ca_query(self->cafd, (uintptr_t)self->owner + i * FV_PAGE, -1, &own));
		ASSERT_EQ(0, ca_query(self->cafd, (uintptr_t)self->fvmap + i * FV_PAGE, -1, &map));
		EXPECT_EQ(own.pfn, map.pfn) {
			TH_LOG("page %zu: the dma-buf mmap maps pfn %#llx, the owner pfn %#llx",
			       i, (unsigned long long)map.pfn, (unsigned long long)own.pfn);
		}
		EXPECT_EQ(own.attr, map.attr) {
			TH_LOG("page %zu: owner's mapping is %s (attr %#llx), framevec's dma-buf mmap %s (attr %#llx)",
			       i, mode_name(own.mode), (unsigned long long)own.attr,
			       mode_name(map.mode), (unsigned long long)map.attr);
		}
		if (!vmap)
			continue;
		ASSERT_EQ(0, ca_query(self->cafd, i * FV_PAGE, self->dmabuf, &vm));
		EXPECT_EQ(own.pfn, vm.pfn) {
			TH_LOG("page %zu: the vmap maps pfn %#llx, the owner pfn %#llx",
			       i, (unsigned long long)vm.pfn, (unsigned long long)own.pfn);
		}
		EXPECT_EQ(own.attr, vm.attr) {
			TH_LOG("page %zu: owner's mapping is %s (attr %#llx), framevec's vmap %s (attr %#llx)",
			       i, mode_name(own.mode), (unsigned long long)own.attr,
			       mode_name(vm.mode), (unsigned long long)vm.attr);
		}
	}
	/* no .vmap: the dma-buf core refuses quietly (dmabuf_export.c) */
	if (!vmap)
		EXPECT_EQ(EINVAL, ca_query(self->cafd, 0, self->dmabuf, &vm));
	TH_LOG("%zu pages: owner %s (attr %#llx), dma-buf mmap %s (attr %#llx), vmap %s",
	       self->len / FV_PAGE, mode_name(own.mode), (unsigned long long)own.attr,
	       mode_name(map.mode), (unsigned long long)map.attr,
	       vmap ? mode_name(vm.mode) : "refused");
}

/* fv_test_cacheattr's RAM mapped @mode: 0, or skip where it cannot be made */
static int ca_owner(struct __test_metadata *_metadata, FIXTURE_DATA(cache_attr) *self,
		    __u32 mode)
{
	struct fvca_owner o = {
		.size = sizeof(o), .nr_pages = NR_PAGES, .mode = mode,
	};

	if (ioctl(self->cafd, FVCA_IOC_OWNER, &o))
		return errno;
	self->len = NR_PAGES * FV_PAGE;
	self->owner = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->cafd, 0);
	if (self->owner == MAP_FAILED) {
		self->owner = NULL;
		return errno;
	}
	return 0;
}

/* fv_test_exporter's coherent buffer made @flags (WC or UC) */
static int texp_owner(FIXTURE_DATA(cache_attr) *self, __u32 flags)
{
	struct fv_texp_alloc a = { .nr_pages = NR_PAGES, .nr_chunks = 1, .flags = flags };

	if (ioctl(self->texpfd, FV_TEXP_IOC_ALLOC, &a))
		return errno;
	self->len = NR_PAGES * FV_PAGE;
	self->owner = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->texpfd,
			   a.mmap_offset);
	if (self->owner == MAP_FAILED) {
		self->owner = NULL;
		return errno;
	}
	return 0;
}

/* The control: anonymous memory is write-back everywhere */
TEST_F(cache_attr, anonymous_write_back)
{
	self->len = NR_PAGES * FV_PAGE;
	self->owner = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	ASSERT_NE(MAP_FAILED, self->owner) {
		self->owner = NULL;
	}
	/* page-sized leaves only (fv_test_cacheattr.h) */
	madvise(self->owner, self->len, MADV_NOHUGEPAGE);
	memset(self->owner, 0x5a, self->len);
	compare_mappings(_metadata, self, FVCA_MODE_WB, 1, NULL);
}

static void ram_pages(struct __test_metadata *_metadata, FIXTURE_DATA(cache_attr) *self,
		      __u32 mode)
{
	int err = ca_owner(_metadata, self, mode);

	if (err == EOPNOTSUPP)
		SKIP(return, "this architecture cannot map RAM %s (arm64 cannot change its linear map's memory type)",
		     mode_name(mode));
	ASSERT_EQ(0, err);
	compare_mappings(_metadata, self, mode, 1, NULL);
}

/* RAM a driver maps write-combined: pages source, so the vmap too */
TEST_F(cache_attr, ram_pages_write_combine)
{
	ram_pages(_metadata, self, FVCA_MODE_WC);
}

/* RAM a driver maps uncached (UC-) */
TEST_F(cache_attr, ram_pages_uncached)
{
	ram_pages(_metadata, self, FVCA_MODE_UC_MINUS);
}

static void iomem_ram(struct __test_metadata *_metadata, FIXTURE_DATA(cache_attr) *self,
		      __u32 flags, __u32 mode)
{
	int err = texp_owner(self, flags);

	if (err == EOPNOTSUPP)
		SKIP(return, "fv_test_exporter makes %s coherent buffers only on x86 (set_memory_wc()/_uc() on their linear mapping)",
		     mode_name(mode));
	ASSERT_EQ(0, err);
	/* iomem memory can be revoked: no vmap */
	compare_mappings(_metadata, self, mode, 0, NULL);
}

/* A coherent buffer exported through the iomem helper, write-combined */
TEST_F(cache_attr, iomem_ram_write_combine)
{
	iomem_ram(_metadata, self, FV_TEXP_ALLOC_WC, FVCA_MODE_WC);
}

/* ... and uncached (UC-) */
TEST_F(cache_attr, iomem_ram_uncached)
{
	iomem_ram(_metadata, self, FV_TEXP_ALLOC_UC, FVCA_MODE_UC_MINUS);
}

/* MMIO: the ivshmem BAR, which the iomem helper maps uncached */
TEST_F(cache_attr, iomem_bar_uncached)
{
	struct fv_texp_bar b = {};

	if (ioctl(self->texpfd, FV_TEXP_IOC_BAR, &b))
		SKIP(return, "no ivshmem BAR (%s): run in the ivshmem VM profile", strerror(errno));
	self->len = NR_PAGES * FV_PAGE;
	self->owner = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->texpfd,
			   b.mmap_offset);
	ASSERT_NE(MAP_FAILED, self->owner) {
		self->owner = NULL;
	}
	compare_mappings(_metadata, self, MODE_NONCACHED, 0, NULL);
}

/* vivid's first dma-contig capture buffer as its owner maps it */
static void vivid_owner(struct __test_metadata *_metadata, FIXTURE_DATA(cache_attr) *self)
{
	ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 1, NULL)) {
		TH_LOG("modprobe vivid n_devs=1 allocators=1");
	}
	self->len = self->cap.maplen;
	self->owner = self->cap.map[0];
	/* vivid_cap_stop() unmaps it */
	self->cap.map[0] = NULL;
}

/* vivid dma-contig, whatever the platform makes of it: the control on x86 */
TEST_F(cache_attr, vivid_dma_contig)
{
	__u32 mode;

	vivid_owner(_metadata, self);
	compare_mappings(_metadata, self, FVCA_MODE_OTHER, 1, &mode);
	TH_LOG("vivid's dma-contig buffer is mapped %s by its owner", mode_name(mode));
}

/* ... where its device is not DMA-coherent (arm64): Normal-NC */
TEST_F(cache_attr, vivid_dma_contig_noncoherent)
{
	struct fvca_query own;

	vivid_owner(_metadata, self);
	touch(self->owner, self->len);
	ASSERT_EQ(0, ca_query(self->cafd, (uintptr_t)self->owner, -1, &own));
	if (own.mode == FVCA_MODE_WB)
		SKIP(return, "vivid's dma-contig buffers are mapped write-back here: its device is DMA-coherent (x86); the non-coherent case runs on arm64");
	compare_mappings(_metadata, self, FVCA_MODE_WC, 1, NULL);
}

/* The test module's own uAPI: sizes, flags, reserved fields */
TEST_F(cache_attr, query_uapi)
{
	struct { struct fvca_query q; __u64 tail; } big = {};
	struct fvca_owner o = { .size = sizeof(o), .nr_pages = 1, .mode = FVCA_MODE_WB };
	struct fvca_query q = { .size = sizeof(q), .dmabuf_fd = -1 };

	q.size = sizeof(q) - 1;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
	q.size = sizeof(q);
	q.flags = 1U << 1;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
	big.q.size = sizeof(big);
	big.q.dmabuf_fd = -1;
	big.tail = 1;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_QUERY, &big));
	EXPECT_EQ(E2BIG, errno);
	/* nothing mapped at page 0 */
	q.flags = 0;
	q.addr = 0;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_QUERY, &q));
	EXPECT_EQ(ENOENT, errno);
	o.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_OWNER, &o));
	EXPECT_EQ(EINVAL, errno);
	o.__reserved = 0;
	o.flags = 1;
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_OWNER, &o));
	EXPECT_EQ(EINVAL, errno);
	o.flags = 0;
	EXPECT_EQ(0, ioctl(self->cafd, FVCA_IOC_OWNER, &o));
	EXPECT_EQ(-1, ioctl(self->cafd, FVCA_IOC_OWNER, &o));
	EXPECT_EQ(EBUSY, errno);
}

TEST_HARNESS_MAIN
