// SPDX-License-Identifier: GPL-2.0
/*
 * Memory of the CMA area, imported long-term (suite cma, debug kernel booted
 * with cma=64M: CONFIG_CMA, DMA_CMA, CMA_DEBUGFS, DMABUF_HEAPS_CMA).
 *
 * A CMA area lends its pages to movable allocations until a contiguous
 * allocation wants them back; a long-term reference on one of its pages
 * would make that allocation fail for as long as it lives. framevec takes
 * CMA memory two ways:
 *
 *  - a buffer of the CMA dma-heap, mmapped: the dma-buf source. The heap's
 *    mmap is a VM_PFNMAP of the buffer's pages, which are the CMA area's by
 *    allocation; framevec holds the dma-buf's file, reads the frames from
 *    the page tables and pins nothing. The buffer stays where it is, held
 *    (the area cannot be allocated whole while it lives), and is the
 *    heap's again at release.
 *  - ordinary anonymous memory whose pages the allocator happened to take
 *    from the area: the pages source pins with FOLL_LONGTERM, which migrates
 *    CMA pages out before pinning them. No pinned frame may be left in the
 *    area, the data must survive the move, and the whole area must still be
 *    allocatable while the import lives.
 *
 * The area is the default one ("reserved" when set with cma=), found in
 * /sys/kernel/debug/cma/<name>/{base_pfn,count}; the whole-area allocation
 * goes through that directory's alloc and free files, or the CMA dma-heap.
 */
#include <dirent.h>
#include <linux/dma-heap.h>

#include "framevec_test.h"

#define CMA_DEBUGFS	"/sys/kernel/debug/cma"
#define SZ_1M		(1UL << 20)
#define HEAP_LEN	(4 * SZ_1M)
#define FILL_CHUNK	(16 * SZ_1M)
#define MAX_CHUNKS	256		/* 4 GiB: more than the guest has */
#define WINDOW		256		/* pages imported around a CMA page */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

FIXTURE(cma) {
	char name[256];
	unsigned long base, count;	/* the area's pfns */
	long used;			/* its pages allocated at setup */
	int devfd, heap;
	struct fv_counters base_counters;
};

/* Path of file @f in the area's debugfs directory */
static const char *cma_path(FIXTURE_DATA(cma) *self, const char *f)
{
	static char path[512];

	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/%s", self->name, f);
	return path;
}

/* @pages written to the area's debugfs file @f: 0 or the write's -errno */
static int cma_debugfs_write(FIXTURE_DATA(cma) *self, const char *f, unsigned long pages)
{
	int fd = open(cma_path(self, f), O_WRONLY | O_CLOEXEC), ret = 0;
	char v[32];

	if (fd < 0)
		return -errno;
	snprintf(v, sizeof(v), "%lu", pages);
	if (write(fd, v, strlen(v)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* alloc: @pages contiguous pages of the area (kept by debugfs); free: back */
#define cma_debugfs_alloc(self, pages) cma_debugfs_write(self, "alloc", pages)
#define cma_debugfs_free(self, pages) cma_debugfs_write(self, "free", pages)

static bool in_area(FIXTURE_DATA(cma) *self, unsigned long pfn)
{
	return pfn >= self->base && pfn < self->base + self->count;
}

/* Runs of the only live framevec: how many; pages; frames inside the area */
struct runs {
	long nr, pages, in_area;
	char source[16];
};

static int read_runs(FIXTURE_DATA(cma) *self, struct runs *r)
{
	unsigned long pfn, n, i;
	char line[512];
	int found = 0;
	FILE *f = fv_debugfs_fopen(FV_FRAMEVECS);

	memset(r, 0, sizeof(*r));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "framevec ", 9))
			found++;
		else if (found == 1 && strstr(line, " seg source="))
			sscanf(strstr(line, "source="), "source=%15s", r->source);
		else if (found == 1 &&
			 sscanf(line, "  run pfn=%lx pages=%lu", &pfn, &n) == 2) {
			r->nr++;
			r->pages += n;
			for (i = 0; i < n; i++)
				r->in_area += in_area(self, pfn + i);
		}
	}
	fclose(f);
	return found == 1 ? 0 : -ENOENT;
}

/* Pages of [p, p + pages) whose frame pagemap places in the area */
static long pages_in_area(FIXTURE_DATA(cma) *self, const char *p, unsigned long pages)
{
	unsigned long i;
	long n = 0;

	for (i = 0; i < pages; i++)
		n += in_area(self, fv_pagemap_pfn(p + i * FV_PAGE));
	return n;
}

/* A buffer of the CMA heap, as a dma-buf fd, or -errno */
static int heap_alloc(FIXTURE_DATA(cma) *self, size_t len)
{
	struct dma_heap_allocation_data a = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &a))
		return -errno;
	return a.fd;
}

FIXTURE_SETUP(cma)
{
	struct dirent *e;
	char path[512];
	DIR *d;

	self->devfd = self->heap = -1;
	d = opendir(CMA_DEBUGFS);
	if (!d)
		SKIP(return, "no " CMA_DEBUGFS " (a kernel with CONFIG_CMA_DEBUGFS, booted with cma=)");
	self->name[0] = '\0';
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && (!self->name[0] || !strcmp(e->d_name, "reserved")))
			snprintf(self->name, sizeof(self->name), "%s", e->d_name);
	closedir(d);
	if (!self->name[0])
		SKIP(return, "no CMA area (boot with cma=64M)");
	self->base = fv_read_long(cma_path(self, "base_pfn"));
	self->count = fv_read_long(cma_path(self, "count"));
	self->used = fv_read_long(cma_path(self, "used"));
	ASSERT_LT(0, (long)self->count);
	ASSERT_LE(0, self->used);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", self->name);
	self->heap = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap) TH_LOG("%s: the CMA heap of the default area", path);
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	TH_LOG("area %s: pfns %#lx-%#lx (%lu MiB), %ld pages in use", self->name, self->base,
	       self->base + self->count, self->count * FV_PAGE / SZ_1M, self->used);
	ASSERT_EQ(0, fv_read_counters(&self->base_counters));
}

FIXTURE_TEARDOWN(cma)
{
	if (self->devfd < 0)
		return;
	close(self->heap);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base_counters);
}

/*
 * The whole area (what was free of it at setup), allocated and given back:
 * 0, or -errno (-EPROTO: allocated, but the area's count of used pages is not
 * the whole). Nothing may hold a page of it long-term.
 */
static int alloc_whole_area(FIXTURE_DATA(cma) *self)
{
	unsigned long pages = self->count - self->used;
	int ret = cma_debugfs_alloc(self, pages);

	if (ret)
		return ret;
	/* all of it taken, by this allocation */
	if (fv_read_long(cma_path(self, "used")) != (long)self->count)
		ret = -EPROTO;
	return cma_debugfs_free(self, pages) ?: ret;
}

TEST_F_TIMEOUT(cma, heap_buffer_is_held_by_its_dmabuf_not_pinned, 300)
{
	struct fv_counters now;
	struct runs r;
	int buf, fd = -1;
	char *p, *q;

	ASSERT_EQ(0, self->used) TH_LOG("the area is partly allocated already");
	buf = heap_alloc(self, HEAP_LEN);
	ASSERT_LE(0, buf);
	p = mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, p);
	fv_fill(p, HEAP_LEN, 21);

	ASSERT_IMPORT_OK(self->devfd, p, HEAP_LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base_counters.live_framevecs + 1, now.live_framevecs);
	EXPECT_EQ(self->base_counters.refs_dmabuf + 1, now.refs_dmabuf);
	EXPECT_EQ(self->base_counters.refs_pages, now.refs_pages);
	EXPECT_EQ(self->base_counters.pinned_pages, now.pinned_pages);

	/* the frames are the heap buffer's own, in the area: held, not moved */
	ASSERT_EQ(0, read_runs(self, &r));
	EXPECT_STREQ("dmabuf", r.source);
	EXPECT_EQ(HEAP_LEN / FV_PAGE, r.pages);
	EXPECT_EQ(HEAP_LEN / FV_PAGE, r.in_area);
	TH_LOG("heap buffer: %ld pages in %ld runs, %ld in the area", r.pages, r.nr, r.in_area);

	/* the buffer outlives its fd and mapping: the import holds it */
	munmap(p, HEAP_LEN);
	close(buf);
	EXPECT_EQ(-ENOMEM, alloc_whole_area(self));
	q = mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, fv_check(q, HEAP_LEN, 21));
	munmap(q, HEAP_LEN);

	/* released: the heap has its pages back, the area is whole again */
	close(fd);
	EXPECT_EQ(0, fv_read_long(cma_path(self, "used")));
	EXPECT_EQ(0, alloc_whole_area(self));
}

/* A /proc/meminfo value in kB, -1 if absent */
static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Index of the first page of @p's chunk whose frame is in the area, or -1 */
static long first_in_area(FIXTURE_DATA(cma) *self, int pagemap, const char *p)
{
	static uint64_t ent[FILL_CHUNK / FV_PAGE];
	unsigned long i;

	if (pread(pagemap, ent, sizeof(ent), (uintptr_t)p / FV_PAGE * sizeof(ent[0])) !=
	    sizeof(ent))
		return -1;
	for (i = 0; i < FILL_CHUNK / FV_PAGE; i++)
		if ((ent[i] & (1ULL << 63)) && in_area(self, ent[i] & ((1ULL << 55) - 1)))
			return i;
	return -1;
}

/*
 * Fill memory with anonymous pages until some land in the area (movable
 * allocations use CMA when it holds more than half of the free memory, or
 * when the rest is gone), keep a window around the first one, free the rest.
 */
static char *anon_window_in_area(struct __test_metadata *_metadata,
				 FIXTURE_DATA(cma) *self, long *in)
{
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	static char *chunk[MAX_CHUNKS];
	char *win = NULL;
	long i, j;
	int n;

	if (pagemap < 0)
		return NULL;
	for (n = 0; n < MAX_CHUNKS && !win; n++) {
		/* stop short of the OOM killer if the area is never used */
		if (meminfo_kb("MemFree") - meminfo_kb("CmaFree") < 32 * 1024)
			break;
		chunk[n] = mmap(NULL, FILL_CHUNK, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (chunk[n] == MAP_FAILED)
			break;
		madvise(chunk[n], FILL_CHUNK, MADV_NOHUGEPAGE);
		if (madvise(chunk[n], FILL_CHUNK, MADV_POPULATE_WRITE)) {
			munmap(chunk[n], FILL_CHUNK);
			break;
		}
		i = first_in_area(self, pagemap, chunk[n]);
		if (i >= 0) {
			j = i > WINDOW / 2 ? i - WINDOW / 2 : 0;
			if (j + WINDOW > (long)(FILL_CHUNK / FV_PAGE))
				j = FILL_CHUNK / FV_PAGE - WINDOW;
			win = chunk[n] + j * FV_PAGE;
		}
	}
	close(pagemap);
	TH_LOG("filled %d MiB before a page landed in the area (MemFree %ld kB, CmaFree %ld kB)",
	       n * 16, meminfo_kb("MemFree"), meminfo_kb("CmaFree"));
	for (n--; n >= 0; n--) {
		if (win >= chunk[n] && win < chunk[n] + FILL_CHUNK) {
			/* keep the window only */
			if (win > chunk[n])
				munmap(chunk[n], win - chunk[n]);
			if (win + WINDOW * FV_PAGE < chunk[n] + FILL_CHUNK)
				munmap(win + WINDOW * FV_PAGE,
				       chunk[n] + FILL_CHUNK - (win + WINDOW * FV_PAGE));
		} else {
			munmap(chunk[n], FILL_CHUNK);
		}
	}
	if (win)
		*in = pages_in_area(self, win, WINDOW);
	return win;
}

/* filling the guest's memory takes minutes under TCG on the debug kernel */
TEST_F_TIMEOUT(cma, anon_pages_in_the_area_are_migrated_out_by_the_longterm_pin, 1200)
{
	struct fv_counters now;
	long before = 0, after;
	struct runs r;
	char *win, *q;
	int fd = -1, err;

	win = anon_window_in_area(_metadata, self, &before);
	ASSERT_NE(NULL, win) TH_LOG("no anonymous page ever came from the area");
	ASSERT_LT(0, before);
	fv_fill(win, WINDOW * FV_PAGE, 22);

	err = fv_import(self->devfd, win, WINDOW * FV_PAGE, FRAMEVEC_IMPORT_WRITE, &fd);
	/* migration may fail (-ENOMEM); it must never pin in the area */
	if (err) {
		EXPECT_EQ(ENOMEM, err);
		ASSERT_EQ(0, fv_read_counters(&now));
		EXPECT_EQ(self->base_counters.pinned_pages, now.pinned_pages);
		EXPECT_EQ(0, fv_check(win, WINDOW * FV_PAGE, 22));
		munmap(win, WINDOW * FV_PAGE);
		SKIP(return, "the long-term pin could not migrate (ENOMEM), refused cleanly");
	}
	after = pages_in_area(self, win, WINDOW);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base_counters.pinned_pages + WINDOW, now.pinned_pages);
	EXPECT_EQ(self->base_counters.refs_pages + 1, now.refs_pages);
	ASSERT_EQ(0, read_runs(self, &r));
	EXPECT_STREQ("pages", r.source);
	EXPECT_EQ(WINDOW, r.pages);
	EXPECT_EQ(0, r.in_area);
	EXPECT_EQ(0, after);
	TH_LOG("%ld of %d pages were in the area; pinned: %ld runs, %ld in the area",
	       before, WINDOW, r.nr, r.in_area);

	/* moved, not copied away: the mapping and the dma-buf are one memory */
	EXPECT_EQ(0, fv_check(win, WINDOW * FV_PAGE, 22));
	q = mmap(NULL, WINDOW * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, fv_check(q, WINDOW * FV_PAGE, 22));
	fv_fill(q, FV_PAGE, 23);
	EXPECT_EQ(0, fv_check(win, FV_PAGE, 23));
	munmap(q, WINDOW * FV_PAGE);

	/* the pin is outside the area: the whole of it is allocatable now */
	EXPECT_EQ(0, alloc_whole_area(self));

	close(fd);
	munmap(win, WINDOW * FV_PAGE);
	EXPECT_EQ(0, alloc_whole_area(self));
}

/* The same, through the heap: a buffer the size of the area after an import */
TEST_F_TIMEOUT(cma, heap_takes_the_whole_area_after_a_pages_import, 300)
{
	char *p = mmap(NULL, WINDOW * FV_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int buf, fd = -1;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, self->used) TH_LOG("the area is partly allocated already");
	ASSERT_IMPORT_OK(self->devfd, p, WINDOW * FV_PAGE, 0, &fd);
	buf = heap_alloc(self, self->count * FV_PAGE);
	ASSERT_LE(0, buf) TH_LOG("CMA heap allocation of the whole area: %s", strerror(-buf));
	EXPECT_EQ(self->count, (unsigned long)fv_read_long(cma_path(self, "used")));
	close(buf);
	close(fd);
	munmap(p, WINDOW * FV_PAGE);
	EXPECT_EQ(0, fv_read_long(cma_path(self, "used")));
}

TEST_HARNESS_MAIN
