// SPDX-License-Identifier: GPL-2.0
/*
 * framevec iomem exporter and source, driven through fv_test_exporter:
 * dma_alloc_coherent() buffers (one chunk or several) and, in the ivshmem
 * VM profile, the ivshmem BAR (MMIO). Each test is run for each variant;
 * run `iomem_test -V bar` without the device and `iomem_test -v bar` with it.
 *
 * Every test checks framevec's counters, the iomem debugfs counters and the
 * exporter's live buffers back at their baseline in teardown.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "framevec_test.h"
#include "fv_test_consumer.h"
#include "../modules/fv_test_exporter.h"
#include "pfnmap_helpers.h"

#define FV_IOMEM	"/sys/kernel/debug/framevec/iomem"
#define CHURN_BYTES	(128UL << 20)

/* Global counters of /sys/kernel/debug/framevec/iomem */
struct iomem_counts {
	long objects;
	long vmas;
	long importers;
};

/* One object line of the same file */
struct iomem_obj {
	long pages, ranges, refs, vmas, importers, revoked;
	char type[8];
};

/* Read the counters and, if @o, the object whose first pfn is @pfn: 0 or -1 */
static int iomem_read(struct iomem_counts *c, unsigned long pfn, struct iomem_obj *o)
{
	char line[512];
	int found = 0;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(FV_IOMEM, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long id, p;
		struct iomem_obj t;

		sscanf(line, "objects %ld", &c->objects);
		sscanf(line, "vmas %ld", &c->vmas);
		sscanf(line, "importers %ld", &c->importers);
		if (sscanf(line, "object %lu pfn=%lx pages=%ld ranges=%ld type=%7s refs=%ld vmas=%ld importers=%ld revoked=%ld",
			   &id, &p, &t.pages, &t.ranges, t.type, &t.refs, &t.vmas,
			   &t.importers, &t.revoked) == 9 && o && p == pfn) {
			*o = t;
			found = 1;
		}
	}
	fclose(f);
	return (!o || found) ? 0 : -1;
}

/* Whole content of a debugfs file, NUL terminated, in a static buffer */
static const char *slurp(const char *path)
{
	static char buf[1 << 16];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The pattern byte at object offset @off for @seed */
static inline unsigned char pat(size_t off, unsigned int seed)
{
	uint64_t x = (off >> 3) * 0x9E3779B97F4A7C15ULL + seed * 0x632BE59BD9B4E019ULL;

	return (unsigned char)(x >> (8 * (off & 7)));
}

/* Write @len bytes of the pattern for object offset @off at @p */
static void fill(volatile unsigned char *p, size_t off, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

/* Index of the first byte at @p that is not the pattern, or -1 */
static long check(const volatile unsigned char *p, size_t off, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return i;
	return -1;
}

static uint64_t pattern_hash(size_t len, unsigned int seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= pat(i, seed);
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int texp_stats(struct fv_texp_stats *st)
{
	int fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FV_TEXP_IOC_STATS, st))
		ret = errno;
	close(fd);
	return ret;
}

static int texp_free(int fd, __u32 handle, __u32 flags)
{
	struct fv_texp_free arg = { .handle = handle, .flags = flags };

	return ioctl(fd, FV_TEXP_IOC_FREE, &arg) ? errno : 0;
}

static int texp_revoke(int fd, __u32 handle)
{
	return ioctl(fd, FV_TEXP_IOC_REVOKE, &handle) ? errno : 0;
}

static int texp_probe(int dmafd, int use_pci, struct fv_texp_dma_probe *pr)
{
	int fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC), ret = 0;

	memset(pr, 0, sizeof(*pr));
	pr->dmabuf_fd = dmafd;
	pr->use_pci = use_pci;
	if (fd < 0)
		return errno;
	if (ioctl(fd, FV_TEXP_IOC_DMA_PROBE, pr))
		ret = errno;
	close(fd);
	return ret;
}

/* Map @len bytes of the exporter's buffer from page @pg; MAP_FAILED + errno */
static void *texp_map(int fd, __u64 off, unsigned long pg, size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off + pg * FV_PAGE);
}

/* Signal that kills a child reading @p, or 0 if the read succeeds */
static int touch_in_child(volatile unsigned char *p)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Allocate and touch memory in another process, to reuse freed pages */
static int churn_memory(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char *p = mmap(NULL, CHURN_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
		int i;

		if (p == MAP_FAILED || fd < 0)
			_exit(1);
		memset(p, 0x5a, CHURN_BYTES);
		/* coherent allocations zero what they get */
		for (i = 0; i < 32; i++) {
			struct fv_texp_alloc a = { .nr_pages = 16, .nr_chunks = 1 };

			if (ioctl(fd, FV_TEXP_IOC_ALLOC, &a))
				_exit(2);
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(iomem) {
	int devfd;
	int texpfd;
	__u32 handle;
	__u64 off;
	__u64 phys;
	unsigned long pfn;
	unsigned long npages;
	size_t len;
	unsigned char *map;	/* the whole buffer, MAP_SHARED read-write */
	struct fv_counters base;
	struct iomem_counts ibase;
	struct fv_texp_stats tbase;
};

FIXTURE_VARIANT(iomem) {
	bool bar;
	unsigned int pages;
	unsigned int chunks;
	const char *type;
};

FIXTURE_VARIANT_ADD(iomem, coherent) {
	.pages = 16, .chunks = 1, .type = "ram",
};

FIXTURE_VARIANT_ADD(iomem, chunked) {
	.pages = 16, .chunks = 4, .type = "ram",
};

FIXTURE_VARIANT_ADD(iomem, bar) {
	.bar = true, .type = "mmio",
};

FIXTURE_SETUP(iomem)
{
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, iomem_read(&self->ibase, 0, NULL));
	ASSERT_EQ(0, texp_stats(&self->tbase));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->texpfd);

	if (variant->bar) {
		struct fv_texp_bar b = {};

		ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_BAR, &b)) {
			TH_LOG("no ivshmem BAR: run the bar variant with VM_PROFILE=ivshmem");
		}
		self->handle = b.handle;
		self->off = b.mmap_offset;
		self->phys = b.phys;
		self->len = b.size;
	} else {
		struct fv_texp_alloc a = {
			.nr_pages = variant->pages, .nr_chunks = variant->chunks,
		};

		ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_ALLOC, &a));
		self->handle = a.handle;
		self->off = a.mmap_offset;
		self->phys = a.phys;
		self->len = (size_t)a.nr_pages * FV_PAGE;
	}
	self->npages = self->len / FV_PAGE;
	self->pfn = self->phys / FV_PAGE;
	ASSERT_LE(16, self->npages);
	self->map = texp_map(self->texpfd, self->off, 0, self->len, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->map);
	fill(self->map, 0, self->len, 1);
}

FIXTURE_TEARDOWN(iomem)
{
	struct iomem_counts ic;
	struct fv_texp_stats st;

	if (self->map)
		munmap(self->map, self->len);
	if (self->texpfd >= 0)
		close(self->texpfd);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
	ASSERT_EQ(0, iomem_read(&ic, 0, NULL));
	EXPECT_EQ(self->ibase.objects, ic.objects);
	EXPECT_EQ(self->ibase.vmas, ic.vmas);
	EXPECT_EQ(self->ibase.importers, ic.importers);
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
}

/* Assert the object's refs, VMAs and importers; refs include the driver's */
#define ASSERT_OBJ(refs_, vmas_, importers_) do {				\
	struct iomem_counts __c;						\
	struct iomem_obj __o;							\
	ASSERT_EQ(0, iomem_read(&__c, self->pfn, &__o));			\
	EXPECT_EQ(vmas_, __o.vmas);						\
	EXPECT_EQ(importers_, __o.importers);					\
	ASSERT_EQ(refs_, __o.refs);						\
	EXPECT_EQ(self->ibase.vmas + (vmas_), __c.vmas);			\
	EXPECT_EQ(self->ibase.importers + (importers_), __c.importers);		\
} while (0)

TEST_F(iomem, object_describes_the_buffer)
{
	struct iomem_obj o;
	struct iomem_counts c;

	ASSERT_EQ(0, iomem_read(&c, self->pfn, &o));
	EXPECT_EQ(self->ibase.objects + 1, c.objects);
	EXPECT_EQ(self->npages, o.pages);
	EXPECT_EQ(variant->bar ? 1 : variant->chunks, o.ranges);
	EXPECT_STREQ(variant->type, o.type);
	EXPECT_EQ(0, o.revoked);
	ASSERT_OBJ(2, 1, 0);
}

TEST_F(iomem, dmabuf_mmap_matches_mapping_both_ways)
{
	struct fv_counters now;
	char want[128];
	unsigned char *dm;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(3, 1, 1);
	snprintf(want, sizeof(want), " seg source=iomem type=%s pages=%lu runs=",
		 variant->type, self->npages);
	EXPECT_NE(NULL, strstr(slurp(FV_FRAMEVECS), want));
	/* the owner's cache attribute: the BAR uncached, coherent RAM cacheable */
	EXPECT_NE(NULL, strstr(slurp(FV_FRAMEVECS), variant->bar ? " cache=uc" : " cache=wb"));
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.refs_iomem + 1, now.refs_iomem);
	EXPECT_EQ(self->base.pinned_pages, now.pinned_pages);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, dmafd, 0));
	EXPECT_EQ(EINVAL, errno);
	dm = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 0, self->len, 1));

	fill(dm, 0, self->len, 2);		/* import -> exporter */
	EXPECT_EQ(-1, check(self->map, 0, self->len, 2));
	fill(self->map, 0, self->len, 3);	/* exporter -> import */
	EXPECT_EQ(-1, check(dm, 0, self->len, 3));

	munmap(dm, self->len);
	close(dmafd);
	ASSERT_OBJ(2, 1, 0);
}

/*
 * A framevec dma-buf of revocable memory is a dynamic exporter: its mmap,
 * imported again through /dev/framevec, is refused (the dma-buf source
 * takes only static exporters, whose memory never moves nor goes), read-only
 * or not, and nothing is held afterwards.
 */
TEST_F(iomem, nested_import_of_a_revocable_dmabuf_is_refused)
{
	unsigned char *dm;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, 0, &dmafd);
	dm = mmap(NULL, self->len, PROT_READ, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 0, self->len, 1));
	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, dm, self->len, 0);
	/* and for writing: the mapping is read-only first */
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, dm, self->len, FRAMEVEC_IMPORT_WRITE);
	munmap(dm, self->len);
	close(dmafd);
	ASSERT_OBJ(2, 1, 0);
}

/*
 * An in-kernel importer (fv_test_importer, with a revoke callback) holding a
 * live device mapping: when the exporter revokes, the callback runs first,
 * while the memory still holds its data, then maps fail with ENODEV.
 */
TEST_F(iomem, in_kernel_importer_is_told_first_then_maps_fail)
{
	uint32_t want = 0, id = 0;
	struct fvti_status st;
	int tifd;

	tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tifd) TH_LOG("modprobe fv_test_importer");
	for (int i = 0; i < 4; i++)
		want |= (uint32_t)pat(i, 1) << (8 * i);
	ASSERT_EQ(0, fvti_import(tifd, self->map, self->len, FVTI_IMPORT_WRITE, &id));
	ASSERT_OBJ(3, 1, 1);
	ASSERT_EQ(0, fvti_map(tifd, id, FVTI_DIR_TO_DEVICE));
	ASSERT_EQ(0, fvti_status(tifd, id, &st));
	EXPECT_EQ(0, st.revoke_calls);

	ASSERT_EQ(0, texp_revoke(self->texpfd, self->handle));
	ASSERT_EQ(0, fvti_status(tifd, id, &st));
	EXPECT_EQ(1, st.revoke_calls);
	EXPECT_EQ(1, st.mapped_at_revoke);	/* it had a mapping to stop */
	ASSERT_EQ(1, st.word_valid);
	EXPECT_EQ(want, st.word_at_revoke);	/* the memory was still there */
	EXPECT_EQ(1, st.revoked);
	/* the importer stops its mapping; it cannot make a new one */
	EXPECT_EQ(0, fvti_unmap(tifd, id));
	EXPECT_EQ(ENODEV, fvti_map(tifd, id, FVTI_DIR_TO_DEVICE));

	EXPECT_EQ(0, fvti_release(tifd, id));
	close(tifd);
	ASSERT_OBJ(2, 1, 0);
}

/* Import costs O(ranges): one run per physically contiguous chunk */
TEST_F(iomem, runs_follow_ranges_not_pages)
{
	unsigned long pages = 0, runs = 0;
	const char *s;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	s = strstr(slurp(FV_FRAMEVECS), " seg source=iomem");
	ASSERT_NE(NULL, s);
	ASSERT_EQ(2, sscanf(s, " seg source=iomem type=%*s pages=%lu runs=%lu", &pages, &runs));
	EXPECT_EQ(self->npages, pages);
	EXPECT_LE(1, runs);
	EXPECT_GE(variant->bar ? 1 : variant->chunks, runs);
	close(dmafd);
}

TEST_F(iomem, window_mmap_and_window_import)
{
	size_t wlen = self->len - 2 * FV_PAGE, ilen = self->len - 4 * FV_PAGE;
	unsigned char *win, *dm;
	int dmafd = -1;

	/* the exporter's mapping from object page 1 */
	win = texp_map(self->texpfd, self->off, 1, wlen, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, win);
	EXPECT_EQ(-1, check(win, FV_PAGE, wlen, 1));
	ASSERT_OBJ(3, 2, 0);

	/* import object pages 2 .. n-3 through that window */
	ASSERT_IMPORT_OK(self->devfd, win + FV_PAGE, ilen, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(4, 2, 1);
	dm = mmap(NULL, ilen, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 2 * FV_PAGE, ilen, 1));
	/* a write lands at the same object offset in the full mapping */
	fill(dm, 2 * FV_PAGE, FV_PAGE, 9);
	EXPECT_EQ(-1, check(self->map + 2 * FV_PAGE, 2 * FV_PAGE, FV_PAGE, 9));
	EXPECT_EQ(-1, check(self->map + 3 * FV_PAGE, 3 * FV_PAGE, FV_PAGE, 1));

	munmap(dm, ilen);
	close(dmafd);
	munmap(win, wlen);
	ASSERT_OBJ(2, 1, 0);
}

TEST_F(iomem, mmap_beyond_or_private_is_einval)
{
	/* one page past the end, and one page too long */
	EXPECT_EQ(MAP_FAILED, texp_map(self->texpfd, self->off, self->npages, FV_PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, texp_map(self->texpfd, self->off, 1, self->len, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, texp_map(self->texpfd, self->off, 0, FV_PAGE, MAP_PRIVATE));
	EXPECT_EQ(EINVAL, errno);
	/* a handle that does not exist */
	EXPECT_EQ(MAP_FAILED, texp_map(self->texpfd, self->off + (1ULL << 40), 0, FV_PAGE,
				       MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_OBJ(2, 1, 0);
}

/*
 * The import holds the memory: free, munmap and close the exporter, churn
 * memory elsewhere; the import still sees the pattern and its writes reach
 * the buffer, which is poisoned and freed only after the import is released.
 */
TEST_F(iomem, import_outlives_free_munmap_close)
{
	struct fv_texp_stats st;
	struct iomem_obj o;
	struct iomem_counts c;
	unsigned char *dm;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	dm = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);

	ASSERT_EQ(0, texp_free(self->texpfd, self->handle, 0));
	ASSERT_EQ(0, munmap(self->map, self->len));
	self->map = NULL;
	ASSERT_EQ(0, close(self->texpfd));
	self->texpfd = -1;
	ASSERT_OBJ(1, 0, 1);
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers + 1, st.live_buffers);
	EXPECT_EQ(self->tbase.frees, st.frees);

	/* the churn process allocates and frees 32 buffers of its own */
	ASSERT_EQ(0, churn_memory());
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers + 1, st.live_buffers);
	EXPECT_EQ(self->tbase.frees + 32, st.frees);
	EXPECT_EQ(-1, check(dm, 0, self->len, 1));
	fill(dm, 0, self->len, 4);

	ASSERT_EQ(0, munmap(dm, self->len));
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.frees + 32, st.frees);	/* the fd still holds it */
	ASSERT_EQ(0, close(dmafd));

	/* the last reference went: hashed, poisoned and freed by the owner */
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
	EXPECT_EQ(self->tbase.frees + 33, st.frees);
	EXPECT_EQ(self->npages, st.last_free_pages);
	EXPECT_EQ(pattern_hash(self->len, 4), st.last_free_hash);
	ASSERT_EQ(-1, iomem_read(&c, self->pfn, &o));
	EXPECT_EQ(self->ibase.objects, c.objects);
}

TEST_F(iomem, revoke_zaps_mappings_and_refuses_new_ones)
{
	struct fv_texp_stats st;
	struct iomem_obj o;
	struct iomem_counts c;
	unsigned char *dm;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	dm = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	ASSERT_EQ(0, touch_in_child(dm));
	ASSERT_EQ(0, touch_in_child(self->map + self->len - 1));
	/* populated mappings are zapped, unpopulated ones refuse to fault */
	ASSERT_EQ(-1, check(dm, 0, FV_PAGE, 1));

	ASSERT_EQ(0, texp_revoke(self->texpfd, self->handle));
	ASSERT_EQ(0, iomem_read(&c, self->pfn, &o));
	EXPECT_EQ(1, o.revoked);
	EXPECT_NE(NULL, strstr(slurp(FV_FRAMEVECS), "revoked=1"));

	/* every mapping is gone: the import's and the exporter's */
	EXPECT_EQ(SIGBUS, touch_in_child(dm));
	EXPECT_EQ(SIGBUS, touch_in_child(dm + self->len - 1));
	EXPECT_EQ(SIGBUS, touch_in_child(self->map));
	/* no new mapping, no new import */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->len, PROT_READ, MAP_SHARED, dmafd, 0));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(MAP_FAILED, texp_map(self->texpfd, self->off, 0, FV_PAGE, MAP_SHARED));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(ENODEV, fv_import(self->devfd, self->map, self->len, 0, NULL));

	/* after revoke the driver may free at once, the import still open */
	ASSERT_EQ(0, texp_free(self->texpfd, self->handle, FV_TEXP_FREE_NOW));
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
	EXPECT_EQ(self->tbase.frees + 1, st.frees);
	ASSERT_OBJ(2, 1, 1);	/* the exporter's VMA and the import */
	EXPECT_EQ(SIGBUS, touch_in_child(dm));

	munmap(dm, self->len);
	close(dmafd);
	ASSERT_OBJ(1, 1, 0);
}

TEST_F(iomem, free_now_needs_revoke)
{
	EXPECT_EQ(EBUSY, texp_free(self->texpfd, self->handle, FV_TEXP_FREE_NOW));
	EXPECT_EQ(ENOENT, texp_free(self->texpfd, self->handle + 100, 0));
	ASSERT_OBJ(2, 1, 0);
}

TEST_F(iomem, fork_keeps_counts)
{
	int status, dmafd = -1;
	pid_t pid;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(3, 1, 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct iomem_counts c;
		struct iomem_obj o;

		if (iomem_read(&c, self->pfn, &o) || o.vmas != 2 || o.refs != 4 ||
		    o.importers != 1)
			_exit(1);
		if (check(self->map, 0, self->len, 1) != -1)
			_exit(2);
		fill(self->map, 0, FV_PAGE, 5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_OBJ(3, 1, 1);
	/* the child's write went to the shared buffer */
	EXPECT_EQ(-1, check(self->map, 0, FV_PAGE, 5));
	close(dmafd);
	ASSERT_OBJ(2, 1, 0);
}

TEST_F(iomem, partial_munmap_and_mprotect_keep_counts)
{
	unsigned char *m = self->map, *dm;
	int dmafd = -1;

	/* [0,2) [4,n) */
	ASSERT_EQ(0, munmap(m + 2 * FV_PAGE, 2 * FV_PAGE));
	ASSERT_OBJ(3, 2, 0);
	/* [0,2) [4,5) [5,6) [6,n) */
	ASSERT_EQ(0, mprotect(m + 5 * FV_PAGE, FV_PAGE, PROT_READ));
	ASSERT_OBJ(5, 4, 0);
	ASSERT_EQ(0, mprotect(m + 5 * FV_PAGE, FV_PAGE, PROT_READ | PROT_WRITE));
	ASSERT_OBJ(5, 4, 0);	/* VMAs with a close hook are never merged */

	/* a split-off piece still maps its own object offset */
	ASSERT_IMPORT_OK(self->devfd, m + 6 * FV_PAGE, 2 * FV_PAGE, FRAMEVEC_IMPORT_WRITE, &dmafd);
	dm = mmap(NULL, 2 * FV_PAGE, PROT_READ, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 6 * FV_PAGE, 2 * FV_PAGE, 1));
	munmap(dm, 2 * FV_PAGE);
	close(dmafd);

	/* one import over three VMAs of the object: three importers */
	ASSERT_IMPORT_OK(self->devfd, m + 4 * FV_PAGE, 4 * FV_PAGE, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(8, 4, 3);
	dm = mmap(NULL, 4 * FV_PAGE, PROT_READ, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 4 * FV_PAGE, 4 * FV_PAGE, 1));
	munmap(dm, 4 * FV_PAGE);
	close(dmafd);
	ASSERT_OBJ(5, 4, 0);

	ASSERT_EQ(0, munmap(m, self->len));
	self->map = NULL;
	ASSERT_OBJ(1, 0, 0);
}

TEST_F(iomem, mremap_keeps_counts)
{
	size_t len = self->len;
	unsigned char *res, *m, *part, *dm;
	int dmafd = -1;

	/* somewhere to move to */
	res = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	m = mremap(self->map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, res);
	ASSERT_EQ(res, m);
	self->map = m;
	ASSERT_OBJ(2, 1, 0);
	EXPECT_EQ(-1, check(m, 0, len, 1));

	/* cannot grow in place or by moving */
	EXPECT_EQ(MAP_FAILED, mremap(m, len, len + FV_PAGE, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(MAP_FAILED, mremap(m, len, len + FV_PAGE, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_OBJ(2, 1, 0);

	/* shrink: still one VMA */
	ASSERT_EQ(m, mremap(m, len, len - 2 * FV_PAGE, 0));
	ASSERT_OBJ(2, 1, 0);

	/* move pages [2,4) away: [0,2) [4,n-2) and the moved piece */
	part = mremap(m + 2 * FV_PAGE, 2 * FV_PAGE, 2 * FV_PAGE,
		      MREMAP_MAYMOVE | MREMAP_FIXED, res + len);
	ASSERT_EQ(res + len, part);
	ASSERT_OBJ(4, 3, 0);
	EXPECT_EQ(-1, check(part, 2 * FV_PAGE, 2 * FV_PAGE, 1));

	ASSERT_IMPORT_OK(self->devfd, part, 2 * FV_PAGE, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(5, 3, 1);
	dm = mmap(NULL, 2 * FV_PAGE, PROT_READ, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	EXPECT_EQ(-1, check(dm, 2 * FV_PAGE, 2 * FV_PAGE, 1));
	munmap(dm, 2 * FV_PAGE);
	close(dmafd);

	ASSERT_EQ(0, munmap(res, 2 * len));
	self->map = NULL;
	ASSERT_OBJ(1, 0, 0);
}

/* What a device gets: MMIO through dma_map_resource(), RAM as before */
TEST_F(iomem, dma_map_for_a_device)
{
	struct fv_texp_dma_probe pr;
	struct fv_counters now;
	int dmafd = -1;

	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_EQ(0, texp_probe(dmafd, variant->bar, &pr));
	EXPECT_EQ(self->len, pr.total_len);
	ASSERT_LT(0, pr.max_seg_size);
	if (variant->bar) {
		/* one run, cut only at the device's maximum segment size */
		EXPECT_EQ((self->len + pr.max_seg_size - 1) / pr.max_seg_size, pr.nents);
		EXPECT_EQ(1, pr.contiguous);
	} else {
		EXPECT_LE(1, pr.nents);
		EXPECT_GE(variant->chunks * ((self->len + pr.max_seg_size - 1) / pr.max_seg_size),
			  pr.nents);
	}
	/* no IOMMU in these profiles: the device sees the physical address */
	EXPECT_EQ(self->phys, pr.first_dma);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.device_maps, now.device_maps);
	close(dmafd);
}

static int write_str(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errno;
	if (write(fd, str, strlen(str)) != (ssize_t)strlen(str))
		ret = errno;
	close(fd);
	return ret;
}

#define TEXP_PCI_DRV	"/sys/bus/pci/drivers/fv_test_exporter/"

/* The PCI address of the bound ivshmem device, e.g. 0000:00:02.0 */
static int texp_pci_addr(char *addr, size_t size)
{
	struct dirent *d;
	DIR *dir = opendir(TEXP_PCI_DRV);
	int ret = -1;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (strchr(d->d_name, ':')) {
			snprintf(addr, size, "%s", d->d_name);
			ret = 0;
			break;
		}
	closedir(dir);
	return ret;
}

/* Unbinding the driver revokes the BAR and frees (poisons) it at once */
TEST_F(iomem, unbind_revokes_bar)
{
	struct fv_texp_stats st;
	struct fv_texp_bar b = {};
	struct iomem_counts c;
	struct iomem_obj o;
	unsigned char *dm, *again;
	char addr[256];
	int dmafd = -1;

	if (!variant->bar)
		SKIP(return, "only the BAR has a driver to unbind");
	ASSERT_EQ(0, texp_pci_addr(addr, sizeof(addr)));
	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	dm = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	ASSERT_EQ(-1, check(dm, 0, self->len, 1));

	ASSERT_EQ(0, write_str(TEXP_PCI_DRV "unbind", addr));
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
	EXPECT_EQ(self->tbase.frees + 1, st.frees);
	EXPECT_EQ(pattern_hash(self->len, 1), st.last_free_hash);
	ASSERT_EQ(0, iomem_read(&c, self->pfn, &o));
	EXPECT_EQ(1, o.revoked);
	EXPECT_EQ(SIGBUS, touch_in_child(dm));
	EXPECT_EQ(SIGBUS, touch_in_child(self->map));
	EXPECT_EQ(-1, ioctl(self->texpfd, FV_TEXP_IOC_BAR, &b));
	EXPECT_EQ(ENODEV, errno);

	/* bound again, the BAR holds the poison the remove left */
	ASSERT_EQ(0, write_str(TEXP_PCI_DRV "bind", addr));
	ASSERT_EQ(0, ioctl(self->texpfd, FV_TEXP_IOC_BAR, &b));
	again = texp_map(self->texpfd, b.mmap_offset, 0, FV_PAGE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, again);
	EXPECT_EQ(FV_TEXP_POISON, again[0]);
	EXPECT_EQ(FV_TEXP_POISON, again[FV_PAGE - 1]);
	munmap(again, FV_PAGE);
	ASSERT_EQ(0, texp_free(self->texpfd, b.handle, 0));

	munmap(dm, self->len);
	close(dmafd);
	ASSERT_OBJ(2, 1, 0);
}

/* One import of anonymous memory followed by the exporter's buffer */
TEST_F(iomem, mixed_import_with_anonymous_memory)
{
	size_t len = self->len;
	unsigned char *res, *anon, *dev, *dm;
	struct fv_texp_dma_probe pr;
	char want[128];
	int dmafd = -1;

	res = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	anon = mmap(res, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1, 0);
	ASSERT_EQ(res, anon);
	dev = mmap(res + len, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   self->texpfd, self->off);
	ASSERT_EQ(res + len, dev);
	fill(anon, 0, len, 7);

	ASSERT_IMPORT_OK(self->devfd, res, 2 * len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	ASSERT_OBJ(4, 2, 1);
	snprintf(want, sizeof(want), "pages=%lu segs=2", 2 * self->npages);
	EXPECT_NE(NULL, strstr(slurp(FV_FRAMEVECS), want));

	dm = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, dmafd, 0);
	if (variant->bar) {
		/* cacheable RAM and uncached device memory: no single CPU mapping */
		ASSERT_EQ(MAP_FAILED, dm);
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		ASSERT_NE(MAP_FAILED, dm);
		EXPECT_EQ(-1, check(dm, 0, len, 7));
		EXPECT_EQ(-1, check(dm + len, 0, len, 1));
		munmap(dm, 2 * len);
	}

	ASSERT_EQ(0, texp_probe(dmafd, variant->bar, &pr));
	EXPECT_EQ(2 * len, pr.total_len);
	EXPECT_LE(variant->bar ? 2 : 1, pr.nents);

	close(dmafd);
	munmap(res, 2 * len);
	ASSERT_OBJ(2, 1, 0);
}

/*
 * MMIO goes only to dma-buf importers that declared peer2peer: the test
 * consumer's dynamic attachment does not, so a BAR is refused at attach
 * while RAM of the same exporter is taken.
 */
TEST_F(iomem, mmio_only_for_peer2peer_importers)
{
	struct fvtc_dyn_attach da = {};
	int dmafd = -1, tc, ret;

	tc = open(FVTC_DEV, O_RDWR | O_CLOEXEC);
	if (tc < 0)
		SKIP(return, "modprobe fv_test_consumer");
	ASSERT_IMPORT_OK(self->devfd, self->map, self->len, FRAMEVEC_IMPORT_WRITE, &dmafd);
	da.fd = dmafd;
	ret = ioctl(tc, FVTC_DYN_ATTACH, &da);
	if (variant->bar) {
		ASSERT_EQ(-1, ret);
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, ioctl(tc, FVTC_DYN_DETACH, &da.id));
	}
	close(tc);
	close(dmafd);
	ASSERT_OBJ(2, 1, 0);
}

TEST_HARNESS_MAIN
