// SPDX-License-Identifier: GPL-2.0
/*
 * framevec bench (run by make bench): time import + release, and import +
 * DMA map + unmap + release, of the same user ranges by framevec and by the
 * in-kernel baselines, side by side in one boot, through fv_bench's debugfs
 * interface (bench/fv_bench.h), and print medians as ratios.
 *
 * Sources: anonymous 4 KiB pages, THP, hugetlb 2 MiB, memfd (shmem), vivid
 * MMAP buffers (vb2 dma-contig, modprobe vivid allocators=1), a system
 * dma-heap buffer, an iomem RAM range of fv_test_exporter. Baselines:
 * pin_user_pages_fast() (the floor), pin_user_pages() under the mmap lock,
 * get_vaddr_frames(), the vb2 USERPTR path (get_vaddr_frames() +
 * sg_alloc_table_from_pages() + dma_map_sgtable()), and for the VM_PFNMAP
 * sources, which none of those accept, a per-page follow_pfnmap_start() walk.
 *
 * After the timed runs of each range, untimed: every run held every page,
 * framevec's debugfs counters are back at their values from before, the
 * data in the range is what was written before the runs, and (--smoke)
 * fv_bench found no page of the range still pinned. TCG time is not native
 * time: only the ratios mean something, and nothing here passes or fails on
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <linux/v4l2-dv-timings.h>
#include <linux/videodev2.h>

#include "fv_bench.h"
#include "fv_test_exporter.h"
#include "framevec.h"

#define FVB_RUN_FILE	"/sys/kernel/debug/fv_bench/run"
#define FV_COUNTERS	"/sys/kernel/debug/framevec/counters"
#define SZ_4K		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_4M		(4UL << 20)
#define SZ_64M		(64UL << 20)
#define MAX_ITERS	64
#define MAX_VB2_BUFS	32
#define LIVE_IMPORTS	10000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)
#endif

enum src_kind { SRC_ANON, SRC_THP, SRC_HUGETLB, SRC_MEMFD, SRC_VB2, SRC_HEAP, SRC_IOMEM, NR_SRC };

static const char *const src_name[NR_SRC] = {
	"anon 4K", "THP", "hugetlb 2M", "memfd", "vb2 dma-contig", "dma-heap system (64M bufs)",
	"iomem RAM (4M objects)",
};

/* the VM_PFNMAP sources: no struct page pin, the per-page walk is their baseline */
static int src_pfnmap(int k)
{
	return k == SRC_VB2 || k == SRC_HEAP || k == SRC_IOMEM;
}

/* one measured case: a method, with or without the DMA map */
enum { C_FV, C_PUPF, C_PUPL, C_GVF, C_VB2, C_WALK, C_FV_MAP, C_VB2_MAP, NR_CASES };

static const struct {
	const char *name;
	unsigned int method;
	unsigned int flags;
	int pages_only;		/* fails on VM_PFNMAP ranges by design */
	int pfnmap_only;
} cases[NR_CASES] = {
	[C_FV] = { "framevec", FVB_FRAMEVEC, 0, 0, 0 },
	[C_PUPF] = { "pin_user_pages_fast", FVB_PIN_USER_PAGES, 0, 1, 0 },
	[C_PUPL] = { "pin_user_pages", FVB_PIN_LOCKED, 0, 1, 0 },
	[C_GVF] = { "get_vaddr_frames", FVB_GET_VADDR_FRAMES, 0, 1, 0 },
	[C_VB2] = { "vb2 userptr", FVB_VB2_USERPTR, 0, 1, 0 },
	[C_WALK] = { "pfn walk", FVB_PFN_WALK, 0, 0, 1 },
	[C_FV_MAP] = { "framevec+map", FVB_FRAMEVEC, FVB_MAP, 0, 0 },
	[C_VB2_MAP] = { "vb2 userptr+map", FVB_VB2_USERPTR, FVB_MAP, 1, 0 },
};

struct result {
	int done;
	uint64_t imp, map, unmap, rel, cycle;	/* medians, ns */
	uint64_t meta, runs;
};

/* a mapped source range and what to undo */
struct range {
	char *addr;
	size_t len;
	void *map;
	size_t map_len;
	int fd;
};

struct opts {
	int iters, iters_large, smoke;
	unsigned int flags;
	int have_dev;
};

/* --tap: the table as TAP comments, one TAP result per range (tests/suites.conf) */
static int tap, tap_n;

static const char *pfx(void)
{
	return tap ? "# " : "";
}

static void tap_result(int failed, const char *what, size_t len)
{
	if (tap)
		printf("%sok %d %s %zu KiB: %s\n", failed ? "not " : "", ++tap_n, what, len >> 10,
		       failed ? "failed, see above" :
		       "every run held every page, counters at baseline, data intact");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* the node of vivid instance @inst ("platform:vivid-00N") with @cap, or -1 */
static int vivid_node(int inst, uint32_t cap)
{
	struct v4l2_capability c;
	char path[32], bus[32];

	snprintf(bus, sizeof(bus), "platform:vivid-%03d", inst);
	for (int i = 0; i < 64; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &c) && !strcmp((char *)c.bus_info, bus) &&
		    (c.device_caps & cap))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * vivid MMAP buffers, mmapped back to back: as many buffers of the format's
 * size as come nearest to @len (one vb2 buffer is at most 4 MiB without
 * CMA). The range is the buffers' total, a little different from @len.
 */
static int setup_vb2(struct range *r, size_t len, int smoke)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers rb = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	size_t bsz;
	char *base;

	r->fd = vivid_node(0, V4L2_CAP_VIDEO_CAPTURE);	/* allocators=1: dma-contig */
	if (r->fd < 0)
		return -ENODEV;
	if (ioctl(r->fd, VIDIOC_G_FMT, &f))
		return -errno;
	f.fmt.pix.width = smoke ? 640 : 1920;
	f.fmt.pix.height = smoke ? 480 : 1080;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(r->fd, VIDIOC_S_FMT, &f))
		return -errno;
	bsz = (f.fmt.pix.sizeimage + SZ_4K - 1) & ~(SZ_4K - 1);
	/* the whole number of buffers nearest to @len */
	rb.count = (len + bsz / 2) / bsz ? (len + bsz / 2) / bsz : 1;
	if (rb.count > MAX_VB2_BUFS)
		return -E2BIG;
	if (ioctl(r->fd, VIDIOC_REQBUFS, &rb))
		return -errno;
	if (rb.count < (len + bsz / 2) / bsz)
		return -ENOMEM;
	r->len = (size_t)rb.count * bsz;
	/* reserve the whole range, then put each buffer in its place */
	base = mmap(NULL, r->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	r->map = base;
	r->map_len = r->len;
	r->addr = base;
	for (unsigned int i = 0; i < rb.count; i++) {
		struct v4l2_buffer b = {
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP, .index = i,
		};

		if (ioctl(r->fd, VIDIOC_QUERYBUF, &b))
			return -errno;
		if (mmap(base + i * bsz, bsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 r->fd, b.m.offset) == MAP_FAILED)
			return -errno;
	}
	return 0;
}

/*
 * fv_test_exporter buffers of at most 4 MiB each (its limit, and the most
 * dma_alloc_coherent() gives without CMA), mmapped back to back: one iomem
 * object, VMA and framevec segment per 4 MiB
 */
static int setup_iomem(struct range *r, size_t len)
{
	size_t step = len < SZ_4M ? len : SZ_4M;
	char *base;

	r->fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	r->map = base;
	r->map_len = len;
	r->addr = base;
	for (size_t off = 0; off < len; off += step) {
		struct fv_texp_alloc a = { .nr_pages = step / SZ_4K, .nr_chunks = 1 };

		if (ioctl(r->fd, FV_TEXP_IOC_ALLOC, &a))
			return -errno;
		if (mmap(base + off, step, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r->fd,
			 a.mmap_offset) == MAP_FAILED)
			return -errno;
	}
	return 0;
}

/*
 * System dma-heap buffers of at most 64 MiB, mmapped back to back: the heap
 * zeroes a buffer's pages in one ioctl without rescheduling, and 1 GiB at
 * once stalls a TCG guest's CPU long enough for the soft-lockup watchdog.
 * Each mapping holds its dma-buf; the fds are closed at once.
 */
static int setup_heap(struct range *r, size_t len)
{
	size_t step = len < SZ_64M ? len : SZ_64M;
	int heap = open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
	char *base;
	int ret = 0;

	if (heap < 0)
		return -errno;
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		close(heap);
		return -errno;
	}
	r->map = base;
	r->map_len = len;
	r->addr = base;
	for (size_t off = 0; off < len && !ret; off += step) {
		struct dma_heap_allocation_data a = { .len = step, .fd_flags = O_RDWR | O_CLOEXEC };

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) {
			ret = -errno;
			break;
		}
		if (mmap(base + off, step, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, a.fd,
			 0) == MAP_FAILED)
			ret = -errno;
		close(a.fd);
	}
	close(heap);
	return ret;
}

/*
 * A kernel without transparent huge pages (Debian's PREEMPT_RT:
 * TRANSPARENT_HUGEPAGE depends on !PREEMPT_RT) has no THP source, and there
 * madvise(MADV_HUGEPAGE) and MADV_NOHUGEPAGE fail with EINVAL.
 */
static int have_thp(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK);
}

static int setup_range(struct range *r, int kind, size_t len, int smoke)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->len = len;
	switch (kind) {
	case SRC_ANON:
	case SRC_THP:
		/* 2 MiB aligned, so that THP is one folio per 2 MiB */
		r->map_len = len + SZ_2M;
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r->map == MAP_FAILED)
			return -errno;
		r->addr = (char *)(((uintptr_t)r->map + SZ_2M - 1) & ~(SZ_2M - 1));
		/* without THP, anonymous memory is 4 KiB pages with no hint */
		if (have_thp() &&
		    madvise(r->addr, len, kind == SRC_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
			return -errno;
		return 0;
	case SRC_HUGETLB:
		r->map_len = len;
		r->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (r->map == MAP_FAILED)
			return -errno;
		r->addr = r->map;
		return 0;
	case SRC_MEMFD:
		r->fd = memfd_create("fv_bench", MFD_CLOEXEC);
		if (r->fd < 0 || ftruncate(r->fd, len))
			return -errno;
		break;
	case SRC_HEAP:
		return setup_heap(r, len);
	case SRC_IOMEM:
		return setup_iomem(r, len);
	case SRC_VB2:
		return setup_vb2(r, len, smoke);
	}
	/* memfd: the file, shared */
	r->map_len = len;
	r->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	r->addr = r->map;
	return 0;
}

static void teardown_range(struct range *r)
{
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);	/* vivid frees its buffers with the last mapping and fd */
}

/* the data check: a pattern no page shares with another */
static void fill(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += sizeof(uint64_t))
		*(uint64_t *)(p + off) = off * 0x9e3779b97f4a7c15ULL + 1;
}

static int intact(const char *p, size_t len)
{
	for (size_t off = 0; off < len; off += sizeof(uint64_t))
		if (*(const uint64_t *)(p + off) != off * 0x9e3779b97f4a7c15ULL + 1)
			return 0;
	return 1;
}

/*
 * framevec's counters that return to baseline, one "name value" line each:
 * fast_imports and fast_retries only grow (kernel/framevec_stats.c) and
 * are left out.
 */
static int read_counters(char *buf, size_t sz)
{
	char line[128];
	size_t len = 0;
	FILE *f = fopen(FV_COUNTERS, "r");

	if (!f)
		return -1;
	buf[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "fast_", 5))
			continue;
		len += snprintf(buf + len, sz - len, "%s", line);
		if (len >= sz)
			break;
	}
	fclose(f);
	return len < sz ? 0 : -1;
}

/* one run of one case; its times go to slot @i of @t (none for i < 0) */
struct samples {
	uint64_t imp[MAX_ITERS], map[MAX_ITERS], unmap[MAX_ITERS], rel[MAX_ITERS], cycle[MAX_ITERS];
};

static int run_once(int fd, int c, int kind, const struct range *rg, const struct opts *o,
		    int i, struct samples *t, struct result *res)
{
	size_t pages = rg->len / SZ_4K;
	struct fvb_run r = {
		.size = sizeof(r), .method = cases[c].method,
		.flags = cases[c].flags | o->flags | (o->smoke ? FVB_VERIFY : 0) |
			 (kind == SRC_IOMEM && cases[c].method == FVB_FRAMEVEC ?
			  FVB_REVOCABLE : 0),
		.addr = (uintptr_t)rg->addr, .length = rg->len,
	};

	if (ioctl(fd, FVB_RUN, &r)) {
		fprintf(stderr, "framevec bench: %s failed: %s\n", cases[c].name, strerror(errno));
		return -1;
	}
	if (r.held_pages != pages) {
		fprintf(stderr, "framevec bench: %s held %llu of %zu pages\n", cases[c].name,
			(unsigned long long)r.held_pages, pages);
		return -1;
	}
	if (r.left_pinned) {
		fprintf(stderr, "framevec bench: %s left %llu pages pinned after its release\n",
			cases[c].name, (unsigned long long)r.left_pinned);
		return -1;
	}
	if (i < 0)
		return 0;
	t->imp[i] = r.import_ns;
	t->map[i] = r.map_ns;
	t->unmap[i] = r.unmap_ns;
	t->rel[i] = r.release_ns;
	t->cycle[i] = r.import_ns + r.map_ns + r.unmap_ns + r.release_ns;
	res->meta = r.meta_bytes;
	res->runs = r.runs;
	return 0;
}

static void medians(struct samples *t, int iters, struct result *res)
{
	res->imp = median(t->imp, iters);
	res->map = median(t->map, iters);
	res->unmap = median(t->unmap, iters);
	res->rel = median(t->rel, iters);
	res->cycle = median(t->cycle, iters);
	res->done = 1;
}

static void ratio(uint64_t a, const struct result *b, uint64_t bv)
{
	if (b->done && bv)
		printf(" %5.2f |", (double)a / bv);
	else
		printf("     - |");
}

static void print_header(void)
{
	printf("%s| source | size | pages | fv ns/page | imp/pupf | imp/pupl | imp/gvf | imp/vb2 | imp/walk |"
	       " rel/unpin | rel/pvf | map cycle/vb2 | fv map ns/page | fv B/page | runs | pup B/page | vb2 B/page |\n",
	       pfx());
	printf("%s|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", pfx());
}

static void print_row(int kind, const struct range *rg, const struct result *res)
{
	double pages = rg->len / SZ_4K;
	const struct result *fv = &res[C_FV];

	printf("%s| %s | %.1f MiB | %.0f | %.1f |", pfx(), src_name[kind], rg->len / 1048576.0, pages,
	       fv->imp / pages);
	ratio(fv->imp, &res[C_PUPF], res[C_PUPF].imp);
	ratio(fv->imp, &res[C_PUPL], res[C_PUPL].imp);
	ratio(fv->imp, &res[C_GVF], res[C_GVF].imp);
	ratio(fv->imp, &res[C_VB2], res[C_VB2].imp);
	ratio(fv->imp, &res[C_WALK], res[C_WALK].imp);
	ratio(fv->rel, &res[C_PUPF], res[C_PUPF].rel);
	ratio(fv->rel, &res[C_GVF], res[C_GVF].rel);
	ratio(res[C_FV_MAP].cycle, &res[C_VB2_MAP], res[C_VB2_MAP].cycle);
	if (res[C_FV_MAP].done)
		printf(" %.1f |", res[C_FV_MAP].map / pages);
	else
		printf(" - |");
	printf(" %.3f | %llu |", fv->meta / pages, (unsigned long long)fv->runs);
	if (res[C_PUPF].done)
		printf(" %.1f |", res[C_PUPF].meta / pages);
	else if (res[C_WALK].done)
		printf(" (walk) %.1f |", res[C_WALK].meta / pages);
	else
		printf(" - |");
	if (res[C_VB2].done)
		printf(" %.1f |\n", res[C_VB2].meta / pages);
	else
		printf(" - |\n");
	fflush(stdout);
}

/* one source at one size: every case that applies, then the checks */
static int bench_range(int fd, int kind, size_t len, const struct opts *o)
{
	static struct samples t[NR_CASES];
	struct result res[NR_CASES] = { };
	char before[4096], after[4096];
	int run[NR_CASES];
	int iters = len >= (256UL << 20) ? o->iters_large : o->iters;
	struct range rg;
	int ret, failed = 0;

	if (kind == SRC_THP && !have_thp()) {
		printf("%s| %s | %zu MiB | skipped: no transparent huge pages in this kernel |\n",
		       pfx(), src_name[kind], len >> 20);
		if (tap)
			printf("ok %d %s %zu KiB # SKIP no transparent huge pages in this kernel\n",
			       ++tap_n, src_name[kind], len >> 10);
		return 0;
	}
	ret = setup_range(&rg, kind, len, o->smoke);
	if (ret) {
		printf("%s| %s | %zu MiB | skipped: %s |\n", pfx(), src_name[kind], len >> 20,
		       strerror(-ret));
		teardown_range(&rg);
		tap_result(o->smoke, src_name[kind], len);
		/* a missing source is not a failure of framevec; the smoke test needs them all */
		return o->smoke;
	}
	fill(rg.addr, rg.len);
	if (read_counters(before, sizeof(before))) {
		fprintf(stderr, "framevec bench: %s: %s\n", FV_COUNTERS, strerror(errno));
		teardown_range(&rg);
		return 1;
	}
	/*
	 * Round robin: run i of every case, then run i + 1 of every case, so
	 * that a slow stretch of a shared host falls on every case alike
	 */
	for (int c = 0; c < NR_CASES; c++)
		run[c] = !((cases[c].pages_only && src_pfnmap(kind)) ||
			   (cases[c].pfnmap_only && !src_pfnmap(kind)) ||
			   ((cases[c].flags & FVB_MAP) && !o->have_dev));
	for (int i = -1; i < iters; i++) {	/* one warm-up round */
		for (int c = 0; c < NR_CASES; c++) {
			if (!run[c])
				continue;
			if (run_once(fd, c, kind, &rg, o, i, &t[c], &res[c])) {
				fprintf(stderr, "framevec bench: %s %zu bytes: %s failed\n",
					src_name[kind], rg.len, cases[c].name);
				run[c] = 0;
				failed = 1;
			}
		}
	}
	for (int c = 0; c < NR_CASES; c++)
		if (run[c])
			medians(&t[c], iters, &res[c]);
	if (read_counters(after, sizeof(after)) || strcmp(before, after)) {
		fprintf(stderr, "framevec bench: %s: framevec's counters did not return to baseline:\nbefore:\n%safter:\n%s",
			src_name[kind], before, after);
		failed = 1;
	}
	if (!intact(rg.addr, rg.len)) {
		fprintf(stderr, "framevec bench: %s: the range's data changed\n", src_name[kind]);
		failed = 1;
	}
	if (!failed)
		print_row(kind, &rg, res);
	teardown_range(&rg);
	tap_result(failed, src_name[kind], rg.len);
	return failed;
}

/* kernel memory of LIVE_IMPORTS live imports of one 4 KiB page each */
static int bench_live(int fd, int count)
{
	size_t len = (size_t)count * SZ_4K;
	struct fvb_live l = { .size = sizeof(l), .count = count, .length = SZ_4K };
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret = 0;

	if (p == MAP_FAILED)
		return 1;
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 1, len);
	l.addr = (uintptr_t)p;
	if (ioctl(fd, FVB_LIVE, &l)) {
		fprintf(stderr, "framevec bench: %d live imports: %s\n", count, strerror(errno));
		ret = 1;
	} else {
		printf("%s\n%s%d live imports of one 4 KiB page each: slab +%.0f B per import, used memory +%.0f B per import (slab left after release: %lld B)\n",
		       pfx(), pfx(), count, (double)l.slab_bytes / count, (double)l.used_bytes / count,
		       (long long)l.slab_left_bytes);
	}
	munmap(p, len);
	if (tap)
		printf("%sok %d %d live imports held and released\n", ret ? "not " : "", ++tap_n,
		       count);
	return ret;
}

/*
 * The pipeline figure: frames/s of vivid HDMI capture (instance 0,
 * dma-contig, MMAP) -> vivid HDMI output at 1920x1080 YUYV, zero-copy (each
 * capture buffer imported once as a framevec dma-buf, queued on instance 0's
 * output as DMABUF) against the copying fallback (each frame memcpy()ed into
 * a malloc()ed buffer queued as USERPTR on instance 1's output, vmalloc: what
 * an application does when the kernel refuses USERPTR of the capture
 * buffer), and capture alone (vivid's own rate, the ceiling of both). Same
 * boot, same frame count, one after the other.
 */
#define PIPE_BUFS	4
#define PIPE_ROUNDS	3

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * The 1080p timings tried on vivid's HDMI input and output, fastest first.
 * vivid's webcam input is paced at 30 frames/s at most at 1080p; HDMI runs
 * at the frame rate of its DV timings, of which the fastest at 1080p is the
 * CVT reduced blanking v2 timing under vivid's 775 MHz pixel clock limit:
 * 300 Hz (as v4l2-ctl --set-dv-bt-timings cvt,width=1920,height=1080,fps=300,
 * reduced-blanking=2 computes it; vivid checks it against CVT itself). The
 * pipeline is then not held back by vivid's pace but by the paths measured.
 */
static const struct v4l2_dv_timings pipe_timings[] = {
	{
		.type = V4L2_DV_BT_656_1120,
		V4L2_INIT_BT_TIMINGS(1920, 1080, 0, V4L2_DV_HSYNC_POS_POL,
				     751800000, 8, 32, 40, 159, 8, 6, 0, 0, 0,
				     V4L2_DV_BT_STD_CVT, V4L2_DV_FL_REDUCED_BLANKING)
	},
	V4L2_DV_BT_CEA_1920X1080P60,
};

/*
 * 1920x1080 YUYV progressive on vivid's HDMI input or output, at the fastest
 * of pipe_timings[] it takes. *@fps: the pace vivid then runs the node at
 * (VIDIOC_G_PARM).
 */
static int pipe_format(int fd, int output, struct v4l2_format *f, double *fps)
{
	uint32_t type = output ? V4L2_BUF_TYPE_VIDEO_OUTPUT : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_streamparm parm = { .type = type };
	struct v4l2_fract *tpf;
	unsigned int i, t;

	for (i = 0; i < 16; i++) {
		struct v4l2_output o = { .index = i };
		struct v4l2_input in = { .index = i };

		if (output ? ioctl(fd, VIDIOC_ENUMOUTPUT, &o) : ioctl(fd, VIDIOC_ENUMINPUT, &in))
			return -1;
		if (strstr(output ? (char *)o.name : (char *)in.name, "HDMI"))
			break;
	}
	if (ioctl(fd, output ? VIDIOC_S_OUTPUT : VIDIOC_S_INPUT, &i))
		return -1;
	for (t = 0; t < ARRAY_SIZE(pipe_timings); t++) {
		struct v4l2_dv_timings dv = pipe_timings[t];

		if (!ioctl(fd, VIDIOC_S_DV_TIMINGS, &dv))
			break;
	}
	if (t == ARRAY_SIZE(pipe_timings))
		return -1;
	memset(f, 0, sizeof(*f));
	f->type = type;
	if (ioctl(fd, VIDIOC_G_FMT, f))
		return -1;
	f->fmt.pix.width = 1920;
	f->fmt.pix.height = 1080;
	f->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f->fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(fd, VIDIOC_S_FMT, f) || ioctl(fd, VIDIOC_G_PARM, &parm))
		return -1;
	tpf = output ? &parm.parm.output.timeperframe : &parm.parm.capture.timeperframe;
	*fps = tpf->numerator ? (double)tpf->denominator / tpf->numerator : 0;
	return f->fmt.pix.width == 1920 && f->fmt.pix.height == 1080 ? 0 : -1;
}

static int reqbufs(int fd, uint32_t type, uint32_t memory, unsigned int count)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = type, .memory = memory };

	return ioctl(fd, VIDIOC_REQBUFS, &rb) ? -errno : (int)rb.count;
}

/* One run of the pipeline, over the frames after the first PIPE_BUFS */
struct pipe_result {
	double fps;		/* frames out per second */
	double copy_ms;		/* the memcpy fallback: ms of memcpy() per frame */
	unsigned int skipped;	/* capture sequence numbers that brought no frame */
};

/*
 * Stream @frames frames through; @copy: the memcpy fallback to @uptr_out,
 * else zero-copy to @db_out; @out < 0: capture alone, each buffer queued
 * again as soon as it is dequeued (vivid's own pace). Returns 0 with *@res
 * filled in, or an errno.
 */
static int pipe_run(struct framevec_ctx *ctx, int cap, int out, int copy, int frames,
		    size_t frame_bytes, struct pipe_result *res)
{
	uint32_t tcap = V4L2_BUF_TYPE_VIDEO_CAPTURE, tout = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	uint32_t omem = copy ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_DMABUF;
	void *ptr[PIPE_BUFS] = { }, *bounce[PIPE_BUFS] = { };
	int dmabuf[PIPE_BUFS], n = 0, err = 0, ncap = 0;
	uint32_t seq0 = 0, seq = 0;
	double t0 = 0, tc, copy_s = 0;
	size_t len = 0;

	memset(res, 0, sizeof(*res));

	for (int i = 0; i < PIPE_BUFS; i++)
		dmabuf[i] = -1;
	if (reqbufs(cap, tcap, V4L2_MEMORY_MMAP, PIPE_BUFS) < PIPE_BUFS ||
	    (out >= 0 && reqbufs(out, tout, omem, PIPE_BUFS) < PIPE_BUFS)) {
		err = errno ? errno : ENOMEM;
		goto out;
	}
	for (int i = 0; i < PIPE_BUFS; i++) {
		struct v4l2_buffer b = { .index = i, .type = tcap, .memory = V4L2_MEMORY_MMAP };

		if (ioctl(cap, VIDIOC_QUERYBUF, &b)) {
			err = errno;
			goto out;
		}
		len = (b.length + SZ_4K - 1) & ~(SZ_4K - 1);
		ptr[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, cap, b.m.offset);
		if (ptr[i] == MAP_FAILED) {
			err = errno;
			ptr[i] = NULL;
			goto out;
		}
		if (copy) {
			bounce[i] = aligned_alloc(SZ_4K, len);
			if (!bounce[i]) {
				err = ENOMEM;
				goto out;
			}
			memset(bounce[i], 0, len);
		} else if (out >= 0) {
			dmabuf[i] = framevec_import_dmabuf(ctx, ptr[i], len, 0);
			if (dmabuf[i] < 0) {
				err = -dmabuf[i];
				fprintf(stderr, "framevec bench: pipeline: %s\n",
					framevec_strerror(dmabuf[i], FRAMEVEC_CTX_IMPORT));
				goto out;
			}
		}
		if (ioctl(cap, VIDIOC_QBUF, &b)) {
			err = errno;
			goto out;
		}
	}
	if (ioctl(cap, VIDIOC_STREAMON, &tcap) ||
	    (out >= 0 && ioctl(out, VIDIOC_STREAMON, &tout))) {
		err = errno;
		goto out;
	}
	while (n < frames && !err) {
		struct pollfd p[2] = { { .fd = cap, .events = POLLIN }, { .fd = out, .events = POLLOUT } };
		struct v4l2_buffer b;

		if (poll(p, out >= 0 ? 2 : 1, 20000) <= 0 ||
		    ((p[0].revents | p[1].revents) & POLLERR)) {
			err = ETIMEDOUT;
			break;
		}
		if (p[0].revents & POLLIN) {
			memset(&b, 0, sizeof(b));
			b.type = tcap;
			b.memory = V4L2_MEMORY_MMAP;
			if (ioctl(cap, VIDIOC_DQBUF, &b)) {
				err = errno;
				break;
			}
			if (t0) {
				if (!ncap++)
					seq0 = b.sequence;
				seq = b.sequence;
			}
			if (out < 0) {
				if (++n == PIPE_BUFS)
					t0 = now_s();
				if (n == frames)
					break;
				if (ioctl(cap, VIDIOC_QBUF, &b))
					err = errno;
			} else if (copy) {
				struct v4l2_buffer o = {
					.index = b.index, .type = tout, .memory = V4L2_MEMORY_USERPTR,
					.m.userptr = (uintptr_t)bounce[b.index], .length = len,
					.bytesused = frame_bytes,
				};

				tc = now_s();
				memcpy(bounce[b.index], ptr[b.index], frame_bytes);
				if (t0)
					copy_s += now_s() - tc;
				if (ioctl(out, VIDIOC_QBUF, &o))
					err = errno;
			} else {
				err = -framevec_v4l2_qbuf_dmabuf(out, tout, b.index, dmabuf[b.index],
								 len, frame_bytes);
			}
			if (err)
				break;
		}
		if (p[1].revents & POLLOUT) {
			memset(&b, 0, sizeof(b));
			b.type = tout;
			b.memory = omem;
			if (ioctl(out, VIDIOC_DQBUF, &b)) {
				err = errno;
				break;
			}
			if (b.flags & V4L2_BUF_FLAG_ERROR) {
				err = EIO;
				break;
			}
			if (++n == PIPE_BUFS)
				t0 = now_s();
			if (n == frames)
				break;
			/* the capture buffer comes back once its frame is out */
			b.type = tcap;
			b.memory = V4L2_MEMORY_MMAP;
			if (ioctl(cap, VIDIOC_QBUF, &b))
				err = errno;
		}
	}
	if (!err) {
		res->fps = (frames - PIPE_BUFS) / (now_s() - t0);
		res->copy_ms = ncap ? copy_s * 1e3 / ncap : 0;
		res->skipped = ncap ? seq - seq0 - (ncap - 1) : 0;
	}
	if (out >= 0)
		ioctl(out, VIDIOC_STREAMOFF, &tout);
	ioctl(cap, VIDIOC_STREAMOFF, &tcap);
out:
	if (out >= 0)
		reqbufs(out, tout, omem, 0);
	for (int i = 0; i < PIPE_BUFS; i++) {
		if (dmabuf[i] >= 0)
			close(dmabuf[i]);
		if (ptr[i])
			munmap(ptr[i], len);
		free(bounce[i]);
	}
	reqbufs(cap, tcap, V4L2_MEMORY_MMAP, 0);
	return err;
}

static int cmp_result(const void *a, const void *b)
{
	return cmp_double(&((const struct pipe_result *)a)->fps,
			  &((const struct pipe_result *)b)->fps);
}

static int bench_pipeline(int frames)
{
	struct pipe_result zcs[PIPE_ROUNDS], cps[PIPE_ROUNDS], caps[PIPE_ROUNDS], *zc, *cp, *ca;
	int cap = vivid_node(0, V4L2_CAP_VIDEO_CAPTURE);
	int db_out = vivid_node(0, V4L2_CAP_VIDEO_OUTPUT);
	int up_out = vivid_node(1, V4L2_CAP_VIDEO_OUTPUT);
	struct framevec_ctx *ctx = NULL;
	double cap_fps, out_fps;
	struct v4l2_format fc, fo;
	int ret = 1, e1, e2, e3;

	if (cap < 0 || db_out < 0 || up_out < 0) {
		fprintf(stderr, "framevec bench: --pipeline needs modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0\n");
		goto out;
	}
	if (pipe_format(cap, 0, &fc, &cap_fps) || pipe_format(db_out, 1, &fo, &out_fps) ||
	    pipe_format(up_out, 1, &fo, &out_fps)) {
		fprintf(stderr, "framevec bench: pipeline: cannot set 1920x1080 YUYV on HDMI: %s\n",
			strerror(errno));
		goto out;
	}
	ctx = framevec_open();
	if (!ctx) {
		fprintf(stderr, "framevec bench: pipeline: %s\n",
			framevec_strerror(errno, FRAMEVEC_CTX_OPEN));
		goto out;
	}
	/* in turn, PIPE_ROUNDS times each: a slow stretch of the host hits all */
	for (int i = 0; i < PIPE_ROUNDS; i++) {
		e1 = pipe_run(ctx, cap, db_out, 0, frames, fo.fmt.pix.sizeimage, &zcs[i]);
		e2 = pipe_run(ctx, cap, up_out, 1, frames, fo.fmt.pix.sizeimage, &cps[i]);
		e3 = pipe_run(ctx, cap, -1, 0, frames, fo.fmt.pix.sizeimage, &caps[i]);
		if (e1 || e2 || e3) {
			fprintf(stderr, "framevec bench: pipeline failed: zero-copy %s, copy %s, capture alone %s\n",
				e1 ? strerror(e1) : "ok", e2 ? strerror(e2) : "ok",
				e3 ? strerror(e3) : "ok");
			goto out;
		}
	}
	qsort(zcs, PIPE_ROUNDS, sizeof(zcs[0]), cmp_result);
	qsort(cps, PIPE_ROUNDS, sizeof(cps[0]), cmp_result);
	qsort(caps, PIPE_ROUNDS, sizeof(caps[0]), cmp_result);
	zc = &zcs[PIPE_ROUNDS / 2];
	cp = &cps[PIPE_ROUNDS / 2];
	ca = &caps[PIPE_ROUNDS / 2];
	printf("%s\n%spipeline 1920x1080 YUYV, vivid HDMI in and out paced at %.2f and %.2f frames/s,\n"
	       "%s  medians of %d rounds in turn of %d frames (first %d not timed); skipped: capture\n"
	       "%s  sequence numbers that brought no frame (vivid late, or no buffer queued):\n"
	       "%s  vivid capture -> framevec dma-buf -> vivid output %.2f frames/s (skipped %u)\n"
	       "%s  memcpy into malloc'd buffer -> vivid output USERPTR %.2f frames/s (skipped %u, memcpy %.2f ms/frame)\n"
	       "%s  vivid capture alone, no output %.2f frames/s (skipped %u)\n"
	       "%s  ratio zero-copy / copy %.2f\n",
	       pfx(), pfx(), cap_fps, out_fps, pfx(), PIPE_ROUNDS, frames, PIPE_BUFS, pfx(),
	       pfx(), zc->fps, zc->skipped, pfx(), cp->fps, cp->skipped, cp->copy_ms,
	       pfx(), ca->fps, ca->skipped, pfx(), zc->fps / cp->fps);
	ret = 0;
out:
	if (ctx)
		framevec_close(ctx);
	if (cap >= 0)
		close(cap);
	if (db_out >= 0)
		close(db_out);
	if (up_out >= 0)
		close(up_out);
	if (tap)
		printf("%sok %d pipeline zero-copy and memcpy fallback streamed every frame\n",
		       ret ? "not " : "", ++tap_n);
	return ret;
}

static size_t parse_size(const char *s)
{
	char *end;
	size_t v = strtoul(s, &end, 10);

	switch (*end) {
	case 'K': case 'k': return v << 10;
	case 'M': case 'm': return v << 20;
	case 'G': case 'g': return v << 30;
	case 0: return v;
	}
	return 0;
}

static void usage_bench(FILE *f)
{
	fprintf(f,
		"usage: framevec bench [--iters N] [--iters-large N] [--sizes LIST] [--sources LIST] [--smoke]\n"
		"\n"
		"Time the kernel side of importing and releasing (and mapping for a device behind\n"
		"the IOMMU) the same user ranges by framevec and by the in-kernel baselines,\n"
		"side by side, through the fv_bench module's debugfs file, and print median\n"
		"ratios framevec / baseline (< 1 means framevec is faster) as a markdown table.\n"
		"make bench does it all in the test VM. Times from an emulator are not native\n"
		"times: read the ratios only. After each range: every run held every page,\n"
		"framevec's counters are back at baseline, the range's data is intact.\n"
		"\n"
		"  --iters N        timed runs per case below 256 MiB, median taken (default 15, max 64)\n"
		"  --iters-large N  timed runs per case from 256 MiB (default 5)\n"
		"  --sizes LIST     comma-separated sizes (default 4M,64M,1G)\n"
		"  --sources LIST   comma-separated: anon,thp,hugetlb,memfd,vb2,heap,iomem (default all)\n"
		"  --smoke          correctness only: 2M, one run per case, each release checked\n"
		"                   for pages left pinned, every source required\n"
		"  --tap            print TAP: the table as comments, one result per range\n"
		"  --pipeline N     then stream N frames (more than 4) of vivid HDMI capture ->\n"
		"                   vivid HDMI output at 1920x1080 (paced at 300 Hz), zero-copy\n"
		"                   through a framevec dma-buf, through the memcpy + USERPTR\n"
		"                   fallback, and capture alone: frames/s and the ratio\n"
		"                   (needs vivid n_devs=2 node_types=0x101,0x101 allocators=1,0)\n"
		"\n"
		"Sources: vb2 needs modprobe vivid allocators=1; iomem needs fv_test_exporter;\n"
		"hugetlb needs /proc/sys/vm/nr_hugepages; the map cases need an edu device\n"
		"bound to fv_bench (VM profile iommu+edu). A source that is missing is skipped\n"
		"(not with --smoke).\n"
		"\n"
		"Exit codes: 0 done, 2 usage error, 3 fv_bench not loaded or no permission,\n"
		"4 a run failed, held the wrong number of pages, or a check after it failed.\n");
}

int fv_cmd_bench(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "iters", required_argument, NULL, 'n' },
		{ "iters-large", required_argument, NULL, 'N' },
		{ "sizes", required_argument, NULL, 's' },
		{ "sources", required_argument, NULL, 'S' },
		{ "smoke", no_argument, NULL, 'k' },
		{ "tap", no_argument, NULL, 't' },
		{ "pipeline", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	static const char *const src_opt[NR_SRC] = {
		"anon", "thp", "hugetlb", "memfd", "vb2", "heap", "iomem",
	};
	struct opts o = { .iters = 15, .iters_large = 5, .flags = FVB_WRITE };
	char sizes_arg[256] = "4M,64M,1G", sources_arg[256] = "";
	size_t sizes[8];
	int nsizes = 0, use[NR_SRC], fd, failed = 0, c, pipeline = 0;
	struct fvb_run probe = { .size = sizeof(probe), .method = FVB_FRAMEVEC, .flags = FVB_MAP };

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:N:s:S:ktp:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.iters = atoi(optarg); break;
		case 'N': o.iters_large = atoi(optarg); break;
		case 's': snprintf(sizes_arg, sizeof(sizes_arg), "%s", optarg); break;
		case 'S': snprintf(sources_arg, sizeof(sources_arg), "%s", optarg); break;
		case 'k': o.smoke = 1; break;
		case 't': tap = 1; break;
		case 'p': pipeline = atoi(optarg); break;
		case 'h': usage_bench(stdout); return FV_EXIT_OK;
		default: usage_bench(stderr); return FV_EXIT_USAGE;
		}
	}
	if (o.smoke) {
		o.iters = 1;
		o.iters_large = 1;
		if (!strcmp(sizes_arg, "4M,64M,1G"))
			strcpy(sizes_arg, "2M");
	}
	if (optind != argc || o.iters < 1 || o.iters > MAX_ITERS || pipeline < 0 ||
	    (pipeline && pipeline <= PIPE_BUFS) ||
	    o.iters_large < 1 || o.iters_large > MAX_ITERS) {
		usage_bench(stderr);
		return FV_EXIT_USAGE;
	}
	for (char *t = strtok(sizes_arg, ","); t; t = strtok(NULL, ",")) {
		if (nsizes == 8 || !(sizes[nsizes] = parse_size(t)) || sizes[nsizes] % SZ_2M) {
			fprintf(stderr, "framevec bench: size '%s': a multiple of 2 MiB, at most 8 sizes\n", t);
			return FV_EXIT_USAGE;
		}
		nsizes++;
	}
	for (int k = 0; k < NR_SRC; k++)
		use[k] = !sources_arg[0];
	for (char *t = strtok(sources_arg, ","); t; t = strtok(NULL, ",")) {
		int k;

		for (k = 0; k < NR_SRC && strcmp(t, src_opt[k]); k++)
			;
		if (k == NR_SRC) {
			fprintf(stderr, "framevec bench: unknown source '%s'\n", t);
			return FV_EXIT_USAGE;
		}
		use[k] = 1;
	}
	fd = open(FVB_RUN_FILE, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "framevec bench: %s: %s (modprobe fv_bench, as root, debugfs mounted)\n",
			FVB_RUN_FILE, strerror(errno));
		return FV_EXIT_UNAVAILABLE;
	}
	/* a one-page map probe: is there a device to map for? */
	probe.addr = (uintptr_t)mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	probe.length = SZ_4K;
	o.have_dev = !ioctl(fd, FVB_RUN, &probe);
	munmap((void *)(uintptr_t)probe.addr, SZ_4K);
	if (!o.have_dev && o.smoke) {
		fprintf(stderr, "framevec bench: --smoke: no device to map for (%s)\n", strerror(errno));
		close(fd);
		return FV_EXIT_FAILED;
	}

	if (tap)
		printf("TAP version 13\n");
	printf("%sframevec bench: medians of %d runs (%d from 256 MiB) per case, cases in turn, after\n"
	       "%sone warm-up round; device writes; ratios framevec / baseline, < 1.00 means framevec is faster.\n"
	       "%sTCG guest: only ratios are meaningful.%s\n%s\n",
	       pfx(), o.iters, o.iters_large, pfx(), pfx(),
	       o.have_dev ? "" : " No device to map for: no map cases.", pfx());
	{
		static const char *const legend[] = {
			"pupf = pin_user_pages_fast + unpin (the floor), pupl = pin_user_pages under the mmap",
			"lock, gvf/pvf = get_vaddr_frames/put_vaddr_frames, vb2 = the videobuf2 USERPTR path",
			"(get_vaddr_frames + sg_alloc_table_from_pages [+ dma_map_sgtable]), walk = one",
			"follow_pfnmap_start() per page (the VM_PFNMAP sources, which the others refuse).",
			"map cycle = import + map + unmap + release for the edu device behind the Intel IOMMU",
			"(iommu.strict=1). B/page = metadata kept per 4 KiB page (framevec: its run array).",
			"",
		};

		for (unsigned int i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
			printf("%s%s\n", pfx(), legend[i]);
	}
	print_header();
	for (int k = 0; k < NR_SRC; k++) {
		if (!use[k])
			continue;
		for (int s = 0; s < nsizes; s++)
			failed |= bench_range(fd, k, sizes[s], &o);
	}
	failed |= bench_live(fd, o.smoke ? 100 : LIVE_IMPORTS);
	close(fd);
	if (pipeline)
		failed |= bench_pipeline(pipeline);
	if (tap)
		printf("1..%d\n", tap_n);
	return failed ? FV_EXIT_FAILED : FV_EXIT_OK;
}
