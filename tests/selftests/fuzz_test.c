// SPDX-License-Identifier: GPL-2.0
/*
 * Structure-aware fuzzing of every framevec ioctl and of the test drivers'
 * ioctls (issue 9 item 5), bounded in time, replayable from a printed seed.
 *
 * FV_FUZZ_SEED (default 20260101) seeds an xorshift64* generator; each test
 * derives its own stream from it and its name, so exporting the seed and
 * running the same test (-t / -v) replays the same calls (the concurrent
 * tests only approximately: they race on purpose). FV_FUZZ_SECONDS (default
 * 60, 30 on a kernel booted with kmemleak=on, i.e. the debug kernel) is the
 * whole program's fuzzing time: each ioctl test gets 30% of it, each
 * concurrency test 10%, trinity 20%. FV_FUZZ_ITERS, if set, also caps the
 * iterations of every loop.
 *
 * The arena. Each test maps a known layout of pages: private anonymous
 * read-write and read-only, PROT_NONE, holes, a memfd mapped shared
 * read-write and read-only, a framevec dma-buf mmapped, and an iomem buffer
 * of fv_test_exporter mmapped. Addresses are drawn from its pages and edges
 * (the last page before a hole, ranges straddling a hole), plus the stack,
 * the vdso, NULL, the last user page, beyond the user address space
 * (non-canonical on x86-64), tagged and kernel addresses; lengths from 0,
 * 1, a page +-1, a few pages, up to the arena's end, the address space's
 * end, a wrap-around and huge values; struct sizes
 * from 0, 1, sizeof-1, sizeof, sizeof+8 (zero and non-zero tail), a page, a
 * page+1 and huge; flags from 0, each single bit and random words; reserved
 * fields non-zero; the struct itself placed at a page's end before a hole
 * or in read-only memory; fds of the wrong kind (pipe, eventfd, memfd,
 * /dev/null, a closed fd, /dev/framevec itself, a dma-buf).
 *
 * The oracle. For each call the errno is predicted from the order of
 * checks in kernel/chardev.c, kernel/explain.c and framevec_check_args():
 * the argument phase exactly, the range phase from the arena's page kinds
 * (first offending page in address order), and, outside the arena, a set
 * of errnos an import can give. What differs between architectures comes
 * from the running kernel or the kernel's rule: the end of the user address
 * space is found by mmap() (fz_find_task_size()), the tag of an address is
 * removed where the kernel calls untagged_addr() (fz_untag()). An unexpected errno, an unexpected
 * success, a dma-buf whose size or content does not match the range, or
 * read-only memory that changed fails the test with the iteration, the seed
 * and the arguments. Each test ends with every fd it opened closed, the
 * counters at their baseline (read through a debugfs fd opened as root),
 * VmPin at 0, and the parent's teardown checks the counters again.
 *
 * Each fixture runs as root and as nobody (uid 65534, no capabilities,
 * RLIMIT_MEMLOCK of FZ_NOBODY_MEMLOCK_PAGES pages): the driver nodes are
 * root's (0600) and are opened before the switch, as a driver's fd would
 * be handed over; /dev/framevec is opened as the user.
 */
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "framevec_test.h"
#include "fv_test_consumer.h"
#include "fv_test_edu.h"
#include "fv_test_exporter.h"
#include "fv_test_importer.h"

#define NOBODY			65534
#define FZ_NOBODY_MEMLOCK_PAGES	32
#define FZ_DEV_EDU		"/dev/fv_test_edu"
#define FZ_POOL			16
#define FZ_TRINITY		"/usr/bin/trinity"
#define FZ_TRINITY_DIR		"/tmp/fv-fuzz-trinity"

/* ---- configuration and the generator ---- */

static unsigned long long fz_seed = 20260101;
static unsigned int fz_seconds;
static unsigned long long fz_iters_max;
/*
 * DMA-API debug (the debug kernel) WARNs when one cacheline is in two
 * device mappings at once that are not DMA_TO_DEVICE ("overlapping mappings
 * aren't supported"), which two dma-bufs of the same pages, or one attached
 * twice, give as soon as a writable mapping is kept. There the fuzzer keeps
 * no such mapping: no dynamic attach of a writable static dma-buf (the core
 * maps it both ways at attach), and kept maps are DMA_TO_DEVICE.
 */
static bool fz_dma_debug;
/*
 * mm->task_size, the end of the user address space that
 * framevec_check_args() and explain.c compare an import's end with: 2^47 -
 * 4096 on x86-64 with 4-level page tables, 2^56 - 4096 with 5-level, 2^48
 * or 2^52 on arm64 (vabits_actual). fz_va_end is the first power of two at
 * or above it: x86-64's first non-canonical address.
 */
static uint64_t fz_task_size, fz_va_end;

/*
 * Whether the page at @a is below TASK_SIZE: mmap() refuses a page that ends
 * beyond it with ENOMEM, and gives EEXIST for a page in use (MAP_FIXED_NOREPLACE)
 */
static bool fz_below_task_size(uint64_t a)
{
	void *p = mmap((void *)(uintptr_t)a, FV_PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return errno != ENOMEM;
	munmap(p, FV_PAGE);
	return p == (void *)(uintptr_t)a;
}

/* A binary search for the last page below TASK_SIZE, from the stack's page up */
static uint64_t fz_find_task_size(void)
{
	uint64_t lo = (uintptr_t)&lo & ~(uint64_t)(FV_PAGE - 1), hi = 1ULL << 63;

	while (hi - lo > FV_PAGE) {
		uint64_t mid = lo + ((hi - lo) / 2 & ~(uint64_t)(FV_PAGE - 1));

		if (fz_below_task_size(mid))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * The address the kernel works on where it calls untagged_addr() on a user
 * address of the caller's own address space (chardev.c's import, explain.c
 * with pid 0; fv_test_importer does not). arm64 ignores the top byte of an
 * address whose bit 55 is clear (arch/arm64/include/asm/memory.h: the
 * address ANDed with itself sign-extended from bit 55), whether or not the
 * process asked for the tagged address ABI, which only decides what
 * access_ok() accepts. x86-64 untags only for a process that enabled LAM,
 * which this one does not.
 */
static uint64_t fz_untag(uint64_t a)
{
#ifdef __aarch64__
	return a & (uint64_t)((int64_t)(a << 8) >> 8);
#else
	return a;
#endif
}

static void fz_config(void)
{
	const char *s;

	s = getenv("FV_FUZZ_SEED");
	if (s && *s)
		fz_seed = strtoull(s, NULL, 0);
	s = getenv("FV_FUZZ_SECONDS");
	if (s && *s) {
		fz_seconds = strtoul(s, NULL, 0);
	} else {
		fz_seconds = fv_on_debug_kernel() ? 30 : 60;
	}
	fz_dma_debug = !access("/sys/kernel/debug/dma-api", F_OK);
	s = getenv("FV_FUZZ_ITERS");
	if (s && *s)
		fz_iters_max = strtoull(s, NULL, 0);
	fz_task_size = fz_find_task_size();
	for (fz_va_end = FV_PAGE; fz_va_end < fz_task_size; fz_va_end <<= 1)
		;
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static void rng_init(struct rng *r, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	r->s = fz_seed ^ h;
	if (!r->s)
		r->s = 0x9e3779b97f4a7c15ULL;
	rnd(r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- errno sets ---- */

typedef unsigned __int128 eset;
#define E(e)		((eset)1 << (e))
#define E_OK		E(0)
#define IN(set, e)	((e) >= 0 && (e) < 128 && ((set) >> (e)) & 1)

static char *eset_str(eset s, char *buf, size_t len)
{
	size_t off = 0;
	int e;

	buf[0] = '\0';
	for (e = 0; e < 128; e++)
		if (IN(s, e))
			off += snprintf(buf + off, len > off ? len - off : 0, "%s%s",
					off ? "," : "", e ? strerrorname_np(e) : "0");
	return buf;
}

/* ---- helpers shared with the other suites' ways ---- */

/* ---- the arena ---- */

enum kind { K_HOLE, K_RW, K_RO, K_NONE, K_SHM_RW, K_SHM_RO, K_DMABUF, K_IOMEM };
static const char * const kind_name[] = {
	"hole", "anon-rw", "anon-ro", "prot-none", "shm-rw", "shm-ro", "dmabuf", "iomem",
};

static const struct {
	unsigned int pages;
	enum kind kind;
} layout[] = {
	{ 40, K_RW }, { 1, K_HOLE }, { 4, K_RO }, { 1, K_NONE }, { 4, K_SHM_RW },
	{ 1, K_HOLE }, { 4, K_SHM_RO }, { 4, K_DMABUF }, { 1, K_HOLE }, { 4, K_IOMEM },
	{ 8, K_RW }, { 1, K_HOLE },
};
/* sum of layout[]; the first run is over nobody's RLIMIT_MEMLOCK */
#define NPAGES		73
#define IOMEM_FIRST	60	/* the iomem pages, then the last anonymous run */
#define SHM_PAGES	8
#define ENT_PAGES	4
#define SCRATCH_PAGES	16

struct pooled {
	int fd;
	uint64_t addr, len;	/* addr 0: not the arena's, or unknown */
	bool write;
	bool special;		/* not only pinned pages: may be revocable */
};

struct fz {
	struct rng r;
	bool nobody;
	int cfd, nfds0, devfd;
	int consumer, importer, exporter, exporter_arena, edu;
	char *arena;
	enum kind kind[NPAGES];
	char *argbuf;		/* a read-write page followed by a hole */
	char *roarg, *roarg_rw;	/* a read-only page and its writable alias */
	char *ents;		/* ENT_PAGES read-write pages followed by a hole */
	char *scratch;		/* SCRATCH_PAGES reserved (PROT_NONE) for mmaps */
	int memfd, argfd;
	int wrong[8];
	int nwrong;
	struct pooled pool[FZ_POOL];
	int npool;
	uint64_t max_pages;
	uint64_t iter;
	const char *test;
	/* fv_test_importer slots: 0 free, else 1 + (write << 1) + (mapped << 2) */
	unsigned char slot[FVTI_MAX_SLOTS];
	uint64_t slot_pages[FVTI_MAX_SLOTS];
	/* fv_test_exporter buffers of the fuzz's own fd */
	struct { uint32_t handle; bool live, revoked, is_bar; } tbuf[8];
	uint32_t quarantined[8];
	int nquarantined;
	char what[512];
	int failures;
	uint64_t results[128];	/* checked calls by errno, 0: success */
	uint64_t dmabufs;	/* dma-bufs whose fd, size and flags were checked */
	/* concurrency */
	atomic_int cdevfd;
	atomic_bool stop;
	pthread_mutex_t lock;
};

static char *page(struct fz *z, unsigned int i)
{
	return z->arena + (size_t)i * FV_PAGE;
}

static bool in_arena(struct fz *z, uint64_t a)
{
	return a >= (uintptr_t)z->arena && a < (uintptr_t)page(z, NPAGES);
}

/* ---- reporting ---- */

#define FZ_FAIL(z, fmt, ...) do {						\
	(z)->failures++;							\
	if ((z)->failures <= 20)						\
		ksft_print_msg("FAIL %s iteration %llu seed %llu: %s: " fmt "\n", \
			       (z)->test, (unsigned long long)(z)->iter,	\
			       fz_seed, (z)->what, ##__VA_ARGS__);		\
} while (0)

static void check_errno(struct fz *z, int got, eset want)
{
	char buf[512];

	if (got >= 0 && got < 128)
		z->results[got]++;
	if (!IN(want, got))
		FZ_FAIL(z, "got %s, expected one of {%s}", got ? strerrorname_np(got) : "success",
			eset_str(want, buf, sizeof(buf)));
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* dma_buf_get() of an fd that is not a dma-buf: closed or of another kind */
static eset not_dmabuf(int fd)
{
	return fd < 0 || fd >= 1000 ? E(EBADF) : E(EINVAL);
}

/* ---- generators ---- */

static uint64_t gen_addr(struct fz *z)
{
	struct rng *r = &z->r;
	uint64_t a = (uintptr_t)page(z, below(r, NPAGES + 1));

	switch (below(r, 20)) {
	case 0: return 0;
	case 1: return FV_PAGE;
	case 2: return ((uintptr_t)&a) & ~(FV_PAGE - 1);		/* the stack */
	case 3: return getauxval(AT_SYSINFO_EHDR);			/* [vdso] */
	case 4: return fz_task_size - FV_PAGE;				/* last user page */
	case 5: return fz_task_size;
	case 6: return fz_va_end;					/* non-canonical */
	case 7: return 0x8000000000000000ULL;
	case 8: return (uintptr_t)z->arena | (1ULL << 57) | (below(r, 64) << 58); /* tagged */
	case 9: return 0xffff888000000000ULL;				/* kernel direct map */
	case 10: return 0xffffffff81000000ULL;				/* kernel text */
	case 11: return -FV_PAGE;
	case 12: return a + 1 + below(r, FV_PAGE - 1);			/* misaligned */
	case 13: return (uintptr_t)z->scratch + below(r, SCRATCH_PAGES) * FV_PAGE;
	case 14: return (uintptr_t)z->ents;
	default: return a;
	}
}

/* A pointer a driver writes through: anything gen_addr() gives but our stack */
static uint64_t gen_uptr(struct fz *z)
{
	uint64_t a = gen_addr(z), sp = (uintptr_t)&a;

	return a >= (sp & ~(FV_PAGE - 1)) - 64 * FV_PAGE && a < sp + 64 * FV_PAGE ?
	       (uintptr_t)z->argbuf : a;
}

static uint64_t gen_len(struct fz *z, uint64_t addr)
{
	struct rng *r = &z->r;

	switch (below(r, 18)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return FV_PAGE - 1;
	case 3: return FV_PAGE + 1;
	case 4: return 1ULL << 40;
	case 5: return ~0ULL;
	case 6: return -FV_PAGE;
	case 7: return -addr;						/* wraps to 0 */
	case 8: return (-addr + FV_PAGE) & ~(FV_PAGE - 1);		/* wraps past 0 */
	case 9: return fz_task_size - addr;				/* to the end */
	case 10: return fz_task_size - addr + FV_PAGE;			/* one page beyond */
	case 11: return (z->max_pages + 1) * FV_PAGE;
	case 12:
		if (in_arena(z, addr))
			return (uintptr_t)page(z, NPAGES) - addr;	/* to the arena's end */
		return FV_PAGE;
	default: return (1 + below(r, below(r, 2) ? 4 : NPAGES)) * FV_PAGE;
	}
}

static uint32_t gen_flags(struct fz *z)
{
	switch (below(&z->r, 6)) {
	case 0: return 1U << below(&z->r, 32);
	case 1: return (uint32_t)rnd(&z->r);
	case 2: case 3: return 1;
	default: return 0;
	}
}

/* A size for a struct whose kernel size is @ksize, and whether the tail is dirty */
static uint32_t gen_size(struct fz *z, uint32_t ksize)
{
	switch (below(&z->r, 16)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return ksize - 1;
	case 3: return ksize + 8;
	case 4: return FV_PAGE;
	case 5: return FV_PAGE + 1;
	case 6: return 0xffffffffU;
	case 7: return ksize + below(&z->r, FV_PAGE - ksize + 1);
	default: return ksize;
	}
}

/* Where the struct goes: how many of its bytes are readable and writable */
struct place {
	void *p;
	uint64_t readable;	/* bytes readable from p */
	bool writable;
	const char *where;
};

/* Put @len bytes of @src (then @tail bytes: zero or not) somewhere */
static struct place gen_place(struct fz *z, const void *src, size_t len, size_t tail,
			      bool dirty_tail)
{
	struct place pl;
	size_t total = len + tail, off;
	char *dst, *wdst;

	switch (below(&z->r, 12)) {
	case 0:
		pl.p = NULL;
		pl.readable = 0;
		pl.writable = false;
		pl.where = "NULL";
		return pl;
	case 1:
		pl.p = (void *)0xffff888000001000ULL;
		pl.readable = 0;
		pl.writable = false;
		pl.where = "kernel";
		return pl;
	case 2: case 3: {
		/* at the end of a page followed by a hole */
		size_t back = 1 + below(&z->r, total + 8);

		off = back > FV_PAGE ? 0 : FV_PAGE - back;
		dst = wdst = z->argbuf + off;
		pl.readable = FV_PAGE - off;
		pl.writable = true;
		pl.where = "before-hole";
		break;
	}
	case 4: {
		off = below(&z->r, 2) ? 0 : FV_PAGE - (total < FV_PAGE ? total : FV_PAGE);
		dst = z->roarg + off;
		wdst = z->roarg_rw + off;
		pl.readable = FV_PAGE - off;
		pl.writable = false;
		pl.where = "read-only";
		break;
	}
	default:
		dst = wdst = z->argbuf;
		pl.readable = FV_PAGE;
		pl.writable = true;
		pl.where = "page";
		break;
	}
	pl.p = dst;
	{
		size_t n = len < pl.readable ? len : pl.readable;
		size_t t = total < pl.readable ? total : pl.readable;

		memcpy(wdst, src, n);
		if (t > n) {
			memset(wdst + n, 0, t - n);
			if (dirty_tail)
				wdst[n + below(&z->r, t - n)] = 1 + below(&z->r, 255);
		}
	}
	return pl;
}

/* ---- the range oracle ---- */

struct verdict {
	eset want;		/* what the call may give */
	uint64_t pins;		/* pages it pins, if it succeeds */
	bool exact;		/* the arena predicts the result */
	bool special;		/* dma-buf or iomem pages in the range */
};

/* framevec_check_args(): what is refused before any VMA is looked at */
static int check_args(struct fz *z, uint64_t addr, uint64_t len)
{
	uint64_t end;

	if (!len || (addr | len) & (FV_PAGE - 1))
		return EINVAL;
	if (__builtin_add_overflow(addr, len, &end))
		return EOVERFLOW;
	if (end > fz_task_size)
		return EFAULT;
	if (len / FV_PAGE > z->max_pages)
		return EFBIG;
	return -1;
}

/* What an import of [addr, addr + len) can give, args already valid */
static struct verdict judge_range(struct fz *z, uint64_t addr, uint64_t len, bool write)
{
	struct verdict v = { .exact = true };
	uint64_t a;
	bool special = false;

	if (!in_arena(z, addr) || !in_arena(z, addr + len - 1)) {
		/* the stack, the vdso, the scratch, another thread's stack... */
		v.exact = false;
		v.special = true;
		v.want = E_OK | E(EFAULT) | E(EACCES) | E(ENXIO) | E(EOPNOTSUPP) |
			 E(EPERM) | E(ENOMEM) | E(ENODEV);
		return v;
	}
	for (a = addr; a < addr + len; a += FV_PAGE) {
		enum kind k = z->kind[(a - (uintptr_t)z->arena) / FV_PAGE];

		switch (k) {
		case K_HOLE:
			v.want = E(EFAULT);
			return v;
		case K_NONE:
			v.want = E(EACCES);
			return v;
		case K_RO:
		case K_SHM_RO:
			if (write) {
				v.want = E(EACCES);
				return v;
			}
			v.pins++;
			break;
		case K_RW:
		case K_SHM_RW:
			v.pins++;
			break;
		case K_DMABUF:
		case K_IOMEM:
			special = true;
			break;
		}
	}
	v.want = E_OK;
	/* a cache attribute framevec cannot reproduce, RAM and MMIO mixed */
	v.special = special;
	if (special)
		v.want |= E(EOPNOTSUPP);
	if (z->nobody && v.pins) {
		v.want |= E(ENOMEM);
		if (v.pins > FZ_NOBODY_MEMLOCK_PAGES)
			v.want = E(ENOMEM);
	}
	return v;
}

/* ---- the dma-buf pool ---- */

static void pool_close(struct fz *z, int i)
{
	close(z->pool[i].fd);
	z->pool[i] = z->pool[--z->npool];
}

/* A successful import: check the dma-buf and keep it for the other calls */
static void got_dmabuf(struct fz *z, int fd, uint64_t addr, uint64_t len, bool write,
		       const struct verdict *v)
{
	char link[64], target[64] = "";
	off_t size;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	/* "/dmabuf:NAME" on the dma-buf pseudo filesystem */
	if (fd < 0 || readlink(link, target, sizeof(target) - 1) < 0 ||
	    strncmp(target, "/dmabuf:", 8)) {
		FZ_FAIL(z, "dmabuf_fd %d is not a dma-buf (%s)", fd, target);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (fcntl(fd, F_GETFD) != FD_CLOEXEC)
		FZ_FAIL(z, "dmabuf_fd %d is not O_CLOEXEC", fd);
	z->dmabufs++;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size != len)
		FZ_FAIL(z, "dma-buf size %lld, imported %#llx bytes", (long long)size,
			(unsigned long long)len);
	/* the stack and the like: no driver may write them through the dma-buf */
	if (!v->exact) {
		close(fd);
		return;
	}
	if (z->npool == FZ_POOL)
		pool_close(z, below(&z->r, FZ_POOL));
	z->pool[z->npool++] = (struct pooled){ fd, addr, len, write, v->special };
}

/* An fd for a call that wants a dma-buf: mostly one, sometimes the wrong kind */
static int gen_fd(struct fz *z, struct pooled **pp)
{
	*pp = NULL;
	if (z->npool && below(&z->r, 3)) {
		*pp = &z->pool[below(&z->r, z->npool)];
		return (*pp)->fd;
	}
	return z->wrong[below(&z->r, z->nwrong)];
}

/* ---- FRAMEVEC_IOC_IMPORT ---- */

static void op_import(struct fz *z)
{
	struct framevec_import a = { .dmabuf_fd = -1 };
	uint32_t ksize = sizeof(a), usize = gen_size(z, ksize);
	bool dirty = usize > ksize && !below(&z->r, 3);
	struct place pl;
	struct verdict v = { .exact = true };
	uint64_t addr;
	int err, pre;

	a.size = usize;
	a.flags = gen_flags(z);
	a.addr = gen_addr(z);
	a.length = gen_len(z, a.addr);
	if (!below(&z->r, 10))
		a.__reserved = 1U << below(&z->r, 32);
	if (!below(&z->r, 8))
		a.dmabuf_fd = (int)rnd(&z->r);
	pl = gen_place(z, &a, ksize, usize > ksize && usize <= FV_PAGE ? usize - ksize : 0,
		       dirty);
	snprintf(z->what, sizeof(z->what),
		 "IMPORT size %u flags %#x addr %#llx length %#llx reserved %#x struct at %s",
		 a.size, a.flags, (unsigned long long)a.addr, (unsigned long long)a.length,
		 a.__reserved, pl.where);
	addr = fz_untag(a.addr);

	/* framevec_copy_uarg() */
	if (pl.readable < 4)
		v.want = E(EFAULT);
	else if (usize < ksize)
		v.want = E(EINVAL);
	else if (usize > FV_PAGE)
		v.want = E(E2BIG);
	else if (pl.readable < usize)
		v.want = E(EFAULT) | (dirty ? E(E2BIG) : 0);
	else if (dirty)
		v.want = E(E2BIG);
	else if (a.flags & ~FRAMEVEC_IMPORT_WRITE)
		v.want = E(EOPNOTSUPP);
	else if (a.__reserved)
		v.want = E(EINVAL);
	else if ((pre = check_args(z, addr, a.length)) >= 0)
		v.want = E(pre);
	else
		v = judge_range(z, addr, a.length, a.flags & FRAMEVEC_IMPORT_WRITE);
	/* the struct is copied back after the import: not in read-only memory */
	if (IN(v.want, 0) && !pl.writable)
		v.want = (v.want & ~E_OK) | E(EFAULT);

	err = xioctl(z->devfd, FRAMEVEC_IOC_IMPORT, pl.p);
	check_errno(z, err, v.want);
	if (!err) {
		struct framevec_import *out = pl.p;

		got_dmabuf(z, out->dmabuf_fd, addr, a.length,
			   a.flags & FRAMEVEC_IMPORT_WRITE, &v);
	}
}

/* ---- FRAMEVEC_IOC_EXPLAIN ---- */

static void check_entries(struct fz *z, const struct framevec_explain *a, uint32_t n,
			  bool complete, char *ents)
{
	uint64_t next = a->addr;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct framevec_explain_entry *e = (void *)(ents + (size_t)i * a->entry_size);

		if (e->start != next || e->end <= e->start || e->end > a->addr + a->length ||
		    !memchr(e->why, 0, sizeof(e->why)) || !memchr(e->name, 0, sizeof(e->name)) ||
		    e->backing > FRAMEVEC_BACKING_SPECIAL ||
		    e->source < FRAMEVEC_EXPLAIN_NO_SOURCE ||
		    e->source > FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE) {
			FZ_FAIL(z, "entry %u of %u: %#llx-%#llx backing %u source %d, expected start %#llx",
				i, n, (unsigned long long)e->start, (unsigned long long)e->end,
				e->backing, e->source, (unsigned long long)next);
			return;
		}
		if (!a->pid && in_arena(z, e->start) &&
		    z->kind[(e->start - (uintptr_t)z->arena) / FV_PAGE] == K_HOLE &&
		    (e->backing != FRAMEVEC_BACKING_HOLE || e->error != EFAULT))
			FZ_FAIL(z, "entry %u at a hole %#llx: backing %u error %u", i,
				(unsigned long long)e->start, e->backing, e->error);
		if (a->entry_size > sizeof(*e)) {
			size_t j;

			for (j = sizeof(*e); j < a->entry_size; j++)
				if (((char *)e)[j]) {
					FZ_FAIL(z, "entry %u byte %zu beyond the known entry is not zero",
						i, j);
					return;
				}
		}
		next = e->end;
	}
	if (complete && next != a->addr + a->length) {
		FZ_FAIL(z, "the %u entries end at %#llx, not at %#llx", n,
			(unsigned long long)next, (unsigned long long)(a->addr + a->length));
		for (i = 0; i < n && z->failures <= 20; i++) {
			struct framevec_explain_entry *e = (void *)(ents + (size_t)i * a->entry_size);

			ksft_print_msg("  entry %u: %#llx-%#llx backing %u source %d error %u %s\n", i,
				       (unsigned long long)e->start, (unsigned long long)e->end,
				       e->backing, e->source, e->error, e->name);
		}
	}
}

static void op_explain(struct fz *z)
{
	struct framevec_explain a = { 0 };
	uint32_t ksize = sizeof(a), usize = gen_size(z, ksize), cap;
	bool dirty = usize > ksize && !below(&z->r, 3);
	size_t esz = sizeof(struct framevec_explain_entry);
	uint64_t ents_room;
	char *ents;
	struct place pl;
	eset want;
	int err;

	a.size = usize;
	a.flags = gen_flags(z);
	switch (below(&z->r, 12)) {
	case 0: a.pid = -1 - (int)below(&z->r, 3); break;
	case 1: a.pid = 1; break;
	case 2: a.pid = 2; break;		/* kthreadd: no mm */
	case 3: a.pid = 0x3fffffff; break;	/* none */
	case 4: a.pid = getpid(); break;
	default: a.pid = 0; break;
	}
	a.addr = gen_addr(z);
	a.length = below(&z->r, 2) ? gen_len(z, a.addr) : FV_PAGE * (1 + below(&z->r, 8));
	switch (below(&z->r, 8)) {
	case 0: a.entry_size = below(&z->r, esz); break;
	case 1: a.entry_size = esz + 8 * below(&z->r, 4); break;
	case 2: a.entry_size = FV_PAGE + below(&z->r, 2); break;
	default: a.entry_size = esz; break;
	}
	a.nr_entries = below(&z->r, 4) ? below(&z->r, 12) : (uint32_t)rnd(&z->r);
	/* the array: in the entries pages, sometimes running into the hole */
	ents = z->ents + (below(&z->r, 4) ? 0 : below(&z->r, ENT_PAGES * FV_PAGE));
	ents_room = z->ents + ENT_PAGES * FV_PAGE - ents;
	switch (below(&z->r, 10)) {
	case 0: a.entries = 0; ents_room = 0; break;
	case 1: a.entries = (uintptr_t)z->roarg; ents_room = 0; break; /* not writable */
	case 2: a.entries = 0xffff888000000000ULL; ents_room = 0; break;
	default: a.entries = (uintptr_t)ents; break;
	}
	if (!below(&z->r, 10))
		a.__reserved = 1U << below(&z->r, 32);
	cap = a.nr_entries;
	pl = gen_place(z, &a, ksize, usize > ksize && usize <= FV_PAGE ? usize - ksize : 0,
		       dirty);
	snprintf(z->what, sizeof(z->what),
		 "EXPLAIN size %u flags %#x pid %d nr_entries %u addr %#llx length %#llx entries %#llx entry_size %u reserved %#x struct at %s",
		 a.size, a.flags, a.pid, a.nr_entries, (unsigned long long)a.addr,
		 (unsigned long long)a.length, (unsigned long long)a.entries, a.entry_size,
		 a.__reserved, pl.where);
	/* what the kernel walks, and the entries start at */
	if (!a.pid)
		a.addr = fz_untag(a.addr);

	if (pl.readable < 4)
		want = E(EFAULT);
	else if (usize < ksize)
		want = E(EINVAL);
	else if (usize > FV_PAGE)
		want = E(E2BIG);
	else if (pl.readable < usize)
		want = E(EFAULT) | (dirty ? E(E2BIG) : 0);
	else if (dirty)
		want = E(E2BIG);
	else if (a.flags & ~FRAMEVEC_EXPLAIN_WRITE)
		want = E(EOPNOTSUPP);
	else if (a.__reserved)
		want = E(EINVAL);
	else if (a.entry_size < esz || a.entry_size > FV_PAGE)
		want = E(EINVAL);
	else if (!a.length || (a.addr | a.length) & (FV_PAGE - 1))
		want = E(EINVAL);
	else if (a.addr + a.length < a.addr)
		want = E(EOVERFLOW);
	else if (a.pid < 0)
		want = E(EINVAL);
	else if (a.pid == 2 || a.pid == 0x3fffffff)
		want = E(ESRCH);
	else if (a.pid == 1 && z->nobody)
		want = E(EPERM);
	else if (a.addr + a.length > fz_task_size)
		want = E(EFAULT);
	else {
		/* the walk: entries written while there is room, then the struct */
		want = E_OK | E(EMSGSIZE) | E(EINTR);
		if (cap && (uint64_t)cap * a.entry_size > ents_room)
			want |= E(EFAULT);
		if (!pl.writable)
			want = E(EFAULT) | (want & E(EFAULT)) | E(EINTR);
	}
	err = xioctl(z->devfd, FRAMEVEC_IOC_EXPLAIN, pl.p);
	check_errno(z, err, want);
	if (!err || err == EMSGSIZE) {
		struct framevec_explain *out = pl.p;
		uint32_t n = out->nr_entries;

		if (err == EMSGSIZE && n <= cap)
			FZ_FAIL(z, "EMSGSIZE with nr_entries %u <= %u", n, cap);
		if (!err && n > cap)
			FZ_FAIL(z, "success with nr_entries %u > %u", n, cap);
		if (!n)
			FZ_FAIL(z, "a non-empty range has no entry");
		if (a.entries == (uintptr_t)ents)
			check_entries(z, &a, n < cap ? n : cap, !err, ents);
	}
}

/* ---- other commands, wrong fds ---- */

static void op_raw(struct fz *z)
{
	static const unsigned long near[] = {
		_IO(FRAMEVEC_TYPE, 2), _IO(FRAMEVEC_TYPE, 0xff),
		_IOWR(FRAMEVEC_TYPE, 0, struct framevec_import),
		_IOWR(FRAMEVEC_TYPE, 1, struct framevec_explain),
		_IOR(FRAMEVEC_TYPE, 0, __u32), _IO(FRAMEVEC_TYPE + 1, 0), 0,
	};
	unsigned long cmd;
	int err;

	cmd = below(&z->r, 2) ? near[below(&z->r, sizeof(near) / sizeof(near[0]))] :
				(uint32_t)rnd(&z->r);
	if (cmd == FRAMEVEC_IOC_IMPORT || cmd == FRAMEVEC_IOC_EXPLAIN)
		cmd ^= 0x40000000;
	snprintf(z->what, sizeof(z->what), "ioctl(/dev/framevec, %#lx)", cmd);
	/* FIO* and the like are the VFS's: only ours must be ENOTTY */
	if (_IOC_TYPE(cmd) != FRAMEVEC_TYPE)
		return;
	err = xioctl(z->devfd, cmd, z->argbuf);
	check_errno(z, err, E(ENOTTY));
}

static void op_wrong_fd(struct fz *z)
{
	struct framevec_import a = { .size = sizeof(a), .addr = (uintptr_t)page(z, 0),
				     .length = FV_PAGE, .dmabuf_fd = -1 };
	struct pooled *p;
	int fd = gen_fd(z, &p), err;
	unsigned long cmd = below(&z->r, 2) ? FRAMEVEC_IOC_IMPORT : FRAMEVEC_IOC_EXPLAIN;

	snprintf(z->what, sizeof(z->what), "ioctl(fd %d (%s), %s)", fd,
		 p ? "dma-buf" : "wrong kind", cmd == FRAMEVEC_IOC_IMPORT ? "IMPORT" : "EXPLAIN");
	if (fd == z->devfd)
		return;
	memcpy(z->argbuf, &a, sizeof(a));
	err = xioctl(fd, cmd, z->argbuf);
	/* the memfd, pipe, eventfd, /dev/null and a dma-buf know no such ioctl */
	check_errno(z, err, fd < 0 || fd >= 1000 ? E(EBADF) : E(ENOTTY));
}

/* mmap a pooled dma-buf, compare with the memory it came from, unmap */
static void op_mmap(struct fz *z)
{
	struct pooled *p;
	int fd = gen_fd(z, &p), prot, flags, err = 0;
	uint64_t pages = 1 + below(&z->r, 6), off = below(&z->r, 4);
	char *m;
	eset want;

	if (!p)
		return;
	prot = below(&z->r, 2) ? PROT_READ : PROT_READ | PROT_WRITE;
	flags = below(&z->r, 6) ? MAP_SHARED : MAP_PRIVATE;
	if (pages > SCRATCH_PAGES)
		pages = SCRATCH_PAGES;
	snprintf(z->what, sizeof(z->what), "mmap(dma-buf of %#llx+%#llx%s, %llu pages at page %llu, %s, %s)",
		 (unsigned long long)p->addr, (unsigned long long)p->len,
		 p->write ? " write" : "", (unsigned long long)pages, (unsigned long long)off,
		 prot & PROT_WRITE ? "rw" : "ro", flags == MAP_SHARED ? "shared" : "private");
	if (flags == MAP_PRIVATE)
		want = E(EINVAL);
	else if ((pages + off) * FV_PAGE > p->len)
		want = E(EINVAL);
	else if ((prot & PROT_WRITE) && !p->write)
		want = E(EACCES);
	else
		want = E_OK | E(EOPNOTSUPP);	/* a cache attribute it cannot give */
	m = mmap(z->scratch, pages * FV_PAGE, prot, flags | MAP_FIXED, fd, off * FV_PAGE);
	if (m == MAP_FAILED)
		err = errno;
	check_errno(z, err, want);
	if (!err && p->addr &&
	    memcmp(m, (void *)(uintptr_t)(p->addr + off * FV_PAGE), pages * FV_PAGE))
		FZ_FAIL(z, "the mapping does not show the imported memory");
	/* back to the reservation */
	mmap(z->scratch, SCRATCH_PAGES * FV_PAGE, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* ---- fv_test_consumer ---- */

static void op_consumer(struct fz *z)
{
	struct pooled *p;
	int fd = gen_fd(z, &p), err;
	const eset get = not_dmabuf(fd);
	uint64_t len;
	eset want;

	if (z->consumer < 0)
		return;
	switch (below(&z->r, 6)) {
	case 0: case 1: {
		bool write = below(&z->r, 2);
		struct fvtc_cpu a = { .fd = fd };

		a.offset = below(&z->r, 3) ? 0 : gen_len(z, 0) & 0xffffffff;
		a.length = below(&z->r, 4) ? (1 + below(&z->r, 2)) * FV_PAGE - below(&z->r, 2) :
					     gen_len(z, 0);
		a.user_ptr = below(&z->r, 2) ? (uintptr_t)z->argbuf : gen_uptr(z);
		len = a.length;
		snprintf(z->what, sizeof(z->what), "FVTC_VMAP_%s fd %d offset %#llx length %#llx user %#llx",
			 write ? "WRITE" : "READ", fd, (unsigned long long)a.offset,
			 (unsigned long long)len, (unsigned long long)a.user_ptr);
		if (!p)
			want = get;
		else if (a.offset > p->len || len > p->len - a.offset)
			want = E(EINVAL);
		else if (!p->write)
			want = E(EINVAL);	/* no vmap of read-only memory: the write rule */
		else
			want = E_OK | E(EFAULT) | E(EINVAL) | E(ENOMEM) | E(ENODEV);
		err = xioctl(z->consumer, write ? FVTC_VMAP_WRITE : FVTC_VMAP_READ, &a);
		check_errno(z, err, want);
		break;
	}
	case 2: {
		struct fvtc_map a = { .fd = fd, .dir = below(&z->r, 4) ? below(&z->r, 3) : rnd(&z->r) };

		snprintf(z->what, sizeof(z->what), "FVTC_MAP fd %d dir %u", fd, a.dir);
		if (a.dir > 2)
			want = E(EINVAL);
		else if (!p)
			want = get;
		else if (a.dir != 1 && !p->write)
			want = E(EACCES) | (p->special ? E(EOPNOTSUPP) : 0);
		else
			want = E_OK | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) | E(ENODEV) |
			       E(EFBIG);
		err = xioctl(z->consumer, FVTC_MAP, &a);
		check_errno(z, err, want);
		break;
	}
	case 3: {
		struct fvtc_dyn_attach a = { .fd = fd };

		snprintf(z->what, sizeof(z->what), "FVTC_DYN_ATTACH fd %d", fd);
		if (fz_dma_debug && p && p->write)
			break;
		err = xioctl(z->consumer, FVTC_DYN_ATTACH, &a);
		/* the core maps a dynamic importer both ways at attach: the write rule */
		check_errno(z, err, !p ? get : !p->write && !p->special ? E(EACCES) :
				    E_OK | E(ENOSPC) | E(EACCES) | E(ENOMEM));
		break;
	}
	case 4: {
		struct fvtc_dyn_map a = { .id = below(&z->r, FVTC_MAX_DYN + 2),
					  .dir = below(&z->r, 4) };

		if (fz_dma_debug && a.dir != 3)
			a.dir = 1;

		snprintf(z->what, sizeof(z->what), "FVTC_DYN_MAP id %u dir %u", a.id, a.dir);
		err = xioctl(z->consumer, FVTC_DYN_MAP, &a);
		check_errno(z, err, E_OK | E(ENOENT) | E(EBUSY) | E(EINVAL) | E(EACCES) |
				    E(ENODEV) | E(ENOMEM));
		break;
	}
	default: {
		__u32 id = below(&z->r, FVTC_MAX_DYN + 2);
		unsigned long cmd = below(&z->r, 2) ? FVTC_DYN_UNMAP : FVTC_DYN_DETACH;
		struct fvtc_dyn_status st = { .id = id };

		snprintf(z->what, sizeof(z->what), "FVTC_DYN_%s/STATUS id %u",
			 cmd == FVTC_DYN_UNMAP ? "UNMAP" : "DETACH", id);
		err = xioctl(z->consumer, FVTC_DYN_STATUS, &st);
		check_errno(z, err, id < FVTC_MAX_DYN ? E_OK | E(ENOENT) : E(ENOENT));
		err = xioctl(z->consumer, cmd, &id);
		check_errno(z, err, id < FVTC_MAX_DYN ? E_OK | E(ENOENT) | E(EINVAL) | E(EBUSY) :
						       E(ENOENT));
		break;
	}
	}
}

/* ---- fv_test_importer ---- */

static void op_importer(struct fz *z)
{
	uint32_t id = below(&z->r, FVTI_MAX_SLOTS + 1);
	unsigned char s = id < FVTI_MAX_SLOTS ? z->slot[id] : 0;
	int err, pre, used = 0, i;
	eset want;

	if (z->importer < 0)
		return;
	for (i = 0; i < FVTI_MAX_SLOTS; i++)
		used += !!z->slot[i];
	switch (below(&z->r, 7)) {
	case 0: case 1: case 2: {
		struct fvti_import a = { .flags = below(&z->r, 3) ? below(&z->r, 2) : gen_flags(z) };
		struct verdict v = { .exact = true };
		struct place pl;

		a.addr = gen_addr(z);
		a.length = gen_len(z, a.addr);
		pl = gen_place(z, &a, sizeof(a), 0, false);
		snprintf(z->what, sizeof(z->what), "FVTI_IOC_IMPORT addr %#llx length %#llx flags %#x struct at %s",
			 (unsigned long long)a.addr, (unsigned long long)a.length, a.flags, pl.where);
		if (pl.readable < sizeof(a))
			v.want = E(EFAULT);
		else if (a.flags & ~FVTI_IMPORT_WRITE)
			v.want = E(EINVAL);
		else if ((pre = check_args(z, a.addr, a.length)) >= 0)
			v.want = E(pre);
		else
			v = judge_range(z, a.addr, a.length, a.flags & FVTI_IMPORT_WRITE);
		if (IN(v.want, 0) && (used == FVTI_MAX_SLOTS || !pl.writable))
			v.want = (v.want & ~E_OK) | (used == FVTI_MAX_SLOTS ? E(ENOSPC) : 0) |
				 (!pl.writable ? E(EFAULT) : 0);
		err = xioctl(z->importer, FVTI_IOC_IMPORT, pl.p);
		check_errno(z, err, v.want);
		if (!err) {
			struct fvti_import *out = pl.p;

			if (out->id >= FVTI_MAX_SLOTS || z->slot[out->id]) {
				FZ_FAIL(z, "slot %u given, not a free one", out->id);
			} else {
				z->slot[out->id] = 1 | (a.flags & 1) << 1;
				z->slot_pages[out->id] = a.length / FV_PAGE;
			}
		}
		break;
	}
	case 3: {
		struct fvti_map a = { .id = id, .dir = below(&z->r, 4) };

		if (fz_dma_debug && a.dir != 3)
			a.dir = FVTI_DIR_TO_DEVICE;

		snprintf(z->what, sizeof(z->what), "FVTI_IOC_MAP id %u dir %u", a.id, a.dir);
		if (a.dir > 2)
			want = E(EINVAL);
		else if (!s)
			want = E(ENOENT);
		else if (s & 4)
			want = E(EBUSY);
		else if (a.dir != FVTI_DIR_TO_DEVICE && !(s & 2))
			want = E(EACCES);
		else
			want = E_OK | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) | E(EFBIG);
		err = xioctl(z->importer, FVTI_IOC_MAP, &a);
		check_errno(z, err, want);
		if (!err)
			z->slot[id] |= 4;
		break;
	}
	case 4: {
		snprintf(z->what, sizeof(z->what), "FVTI_IOC_UNMAP id %u", id);
		err = xioctl(z->importer, FVTI_IOC_UNMAP, &id);
		check_errno(z, err, !s ? E(ENOENT) : !(s & 4) ? E(EINVAL) : E_OK);
		if (!err)
			z->slot[id] &= ~4;
		break;
	}
	case 5: {
		struct fvti_status st = { .id = id };
		struct fvti_revoke_delay d = { .id = id, .delay_ms = below(&z->r, 2) ? 0 : 10001 };
		struct fvti_revoke_times t = { .id = id };
		struct fvti_pfns pf = { .dmabuf_fd = -1, .id = id, .max = below(&z->r, 8) };
		struct pooled *p = NULL;

		snprintf(z->what, sizeof(z->what), "FVTI_IOC_STATUS/REVOKE_DELAY %u/REVOKE_TIMES/PFNS id %u",
			 d.delay_ms, id);
		err = xioctl(z->importer, FVTI_IOC_STATUS, &st);
		check_errno(z, err, s ? E_OK : E(ENOENT));
		if (!err && (st.nr_pages != z->slot_pages[id] || st.revoked ||
			     st.mapped != !!(s & 4)))
			FZ_FAIL(z, "slot %u: nr_pages %llu (imported %llu) revoked %u mapped %u",
				id, (unsigned long long)st.nr_pages,
				(unsigned long long)z->slot_pages[id], st.revoked, st.mapped);
		err = xioctl(z->importer, FVTI_IOC_REVOKE_DELAY, &d);
		check_errno(z, err, d.delay_ms ? E(EINVAL) : s ? E_OK : E(ENOENT));
		err = xioctl(z->importer, FVTI_IOC_REVOKE_TIMES, &t);
		check_errno(z, err, s ? E_OK : E(ENOENT));
		if (below(&z->r, 2))
			pf.dmabuf_fd = gen_fd(z, &p);
		pf.pfns = below(&z->r, 3) ? (uintptr_t)z->argbuf : gen_uptr(z);
		snprintf(z->what, sizeof(z->what), "FVTI_IOC_PFNS fd %d id %u max %u pfns %#llx",
			 pf.dmabuf_fd, id, pf.max, (unsigned long long)pf.pfns);
		err = xioctl(z->importer, FVTI_IOC_PFNS, &pf);
		if (pf.dmabuf_fd == -1)
			want = s ? E_OK | E(EFAULT) : E(ENOENT);
		else if (!p)
			want = not_dmabuf(pf.dmabuf_fd);
		else
			want = E_OK | E(EFAULT) | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) |
			       E(ENODEV) | E(EINVAL) | E(EBUSY);
		check_errno(z, err, want);
		break;
	}
	default:
		snprintf(z->what, sizeof(z->what), "FVTI_IOC_RELEASE id %u", id);
		err = xioctl(z->importer, FVTI_IOC_RELEASE, &id);
		check_errno(z, err, s ? E_OK : E(ENOENT));
		if (!err)
			z->slot[id] = 0;
		break;
	}
}

/* ---- fv_test_exporter (the fuzz's own fd; the arena's buffer is another's) ---- */

static void op_exporter(struct fz *z)
{
	unsigned int i = below(&z->r, 8);
	/* a handle of no buffer is far from those the driver gives */
	uint32_t handle = z->tbuf[i].live ? z->tbuf[i].handle : 0x100000 + below(&z->r, 64);
	int err;
	eset want;

	if (z->exporter < 0)
		return;
	switch (below(&z->r, 6)) {
	case 0: {
		struct fv_texp_alloc a = { .nr_pages = below(&z->r, 8) ? 1 + below(&z->r, 8) :
					   (uint32_t)gen_len(z, 0),
					   .nr_chunks = below(&z->r, 4) ? 1 : below(&z->r, 18) };

		/* an unknown flag (WC and UC buffers are the cache-attr suite's) */
		if (!below(&z->r, 10))
			a.flags = 1U << 2;
		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_ALLOC nr_pages %u nr_chunks %u flags %#x",
			 a.nr_pages, a.nr_chunks, a.flags);
		if (z->tbuf[i].live)
			return;
		if (!a.nr_pages || a.nr_pages > 1024 || !a.nr_chunks || a.nr_chunks > 16 ||
		    a.nr_pages % a.nr_chunks || a.flags)
			want = E(EINVAL);
		else
			want = E_OK | E(ENOMEM) | E(EOPNOTSUPP);
		err = xioctl(z->exporter, FV_TEXP_IOC_ALLOC, &a);
		check_errno(z, err, want);
		if (!err) {
			z->tbuf[i].live = true;
			z->tbuf[i].revoked = false;
			z->tbuf[i].handle = a.handle;
		}
		break;
	}
	case 1:
		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_REVOKE handle %u", handle);
		err = xioctl(z->exporter, FV_TEXP_IOC_REVOKE, &handle);
		check_errno(z, err, z->tbuf[i].live ? E_OK : E(ENOENT));
		if (!err && z->tbuf[i].live)
			z->tbuf[i].revoked = true;
		break;
	case 2: {
		struct fv_texp_free a = { .handle = handle, .flags = below(&z->r, 4) };
		bool quarantined = false;
		int q;

		if (!below(&z->r, 8))
			a.flags = 1U << below(&z->r, 32);
		for (q = 0; q < z->nquarantined; q++)
			quarantined |= z->quarantined[q] == handle;
		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_FREE handle %u flags %#x", handle,
			 a.flags);
		if (a.flags & ~3U || a.flags == 2)
			want = E(EINVAL);
		else if ((a.flags & 2) && quarantined)
			want = E(EEXIST);
		else if (!z->tbuf[i].live)
			want = E(ENOENT);
		else if ((a.flags & 1) && !z->tbuf[i].revoked)
			want = E(EBUSY);
		else
			want = E_OK;
		if ((a.flags & 2) && z->nquarantined == 8)
			return;
		err = xioctl(z->exporter, FV_TEXP_IOC_FREE, &a);
		check_errno(z, err, want);
		if (!err && z->tbuf[i].live) {
			z->tbuf[i].live = false;
			if (a.flags & 2)
				z->quarantined[z->nquarantined++] = handle;
		}
		break;
	}
	case 3: {
		struct fv_texp_check_freed a = { .handle = z->nquarantined ?
						 z->quarantined[below(&z->r, z->nquarantined)] :
						 handle };
		int q;

		if (!below(&z->r, 10))
			a.__pad = 1;
		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_CHECK_FREED handle %u pad %u",
			 a.handle, a.__pad);
		for (q = 0; q < z->nquarantined; q++)
			if (z->quarantined[q] == a.handle)
				break;
		want = a.__pad ? E(EINVAL) : q < z->nquarantined ? E_OK : E(ENOENT);
		err = xioctl(z->exporter, FV_TEXP_IOC_CHECK_FREED, &a);
		check_errno(z, err, want);
		if (!err) {
			if (a.changed)
				FZ_FAIL(z, "%llu bytes of freed memory changed, the first at %llu",
					(unsigned long long)a.changed,
					(unsigned long long)a.first_changed);
			if (q < z->nquarantined)
				z->quarantined[q] = z->quarantined[--z->nquarantined];
		}
		break;
	}
	case 4: {
		struct fv_texp_stats st;

		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_STATS");
		err = xioctl(z->exporter, FV_TEXP_IOC_STATS, &st);
		check_errno(z, err, E_OK);
		break;
	}
	default: {
		struct pooled *p;
		struct fv_texp_dma_probe a = { .use_pci = below(&z->r, 4) == 0 };

		a.dmabuf_fd = gen_fd(z, &p);
		if (!below(&z->r, 10))
			a.__pad = 1;
		snprintf(z->what, sizeof(z->what), "FV_TEXP_IOC_DMA_PROBE fd %d use_pci %u pad %u",
			 a.dmabuf_fd, a.use_pci, a.__pad);
		if (a.__pad)
			want = E(EINVAL);
		else if (a.use_pci)
			want = E(ENODEV) | (p ? E_OK | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) :
						not_dmabuf(a.dmabuf_fd));
		else if (!p)
			want = not_dmabuf(a.dmabuf_fd);
		else if (!p->write)	/* mapped both ways: the write rule */
			want = E(EACCES) | (p->special ? E(EOPNOTSUPP) : 0);
		else
			want = E_OK | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) | E(EACCES);
		err = xioctl(z->exporter, FV_TEXP_IOC_DMA_PROBE, &a);
		check_errno(z, err, want);
		break;
	}
	}
}

/* ---- fv_test_edu ---- */

static void op_edu(struct fz *z)
{
	struct pooled *p;
	int fd = gen_fd(z, &p), err;
	const eset get = not_dmabuf(fd);
	eset want;

	if (z->edu < 0)
		return;
	switch (below(&z->r, 4)) {
	case 0: case 1: {
		struct fvte_copy a = { .fd = fd, .len = below(&z->r, 6) ? 1 + below(&z->r, 64) :
						   below(&z->r, 4098) };

		a.src = below(&z->r, 2) ? 0 : below(&z->r, 4 * FV_PAGE);
		a.dst = below(&z->r, 2) ? FV_PAGE : below(&z->r, 4 * FV_PAGE);
		snprintf(z->what, sizeof(z->what), "FVTE_COPY fd %d len %u src %#llx dst %#llx",
			 fd, a.len, (unsigned long long)a.src, (unsigned long long)a.dst);
		if (!a.len || a.len > 4096)
			want = E(EINVAL);
		else if (!p)
			want = get;
		else if (!p->write)	/* the device would write: the write rule */
			want = E(EACCES) | (p->special ? E(EOPNOTSUPP) : 0);
		else
			want = E_OK | E(EINVAL) | E(ENOMEM) | E(EOPNOTSUPP) | E(EREMOTEIO) |
			       E(ENODEV);
		err = xioctl(z->edu, FVTE_COPY, &a);
		check_errno(z, err, want);
		break;
	}
	case 2: {
		snprintf(z->what, sizeof(z->what), "FVTE_DYN_ATTACH fd %d", fd);
		if (fz_dma_debug && p && p->write)
			break;
		err = xioctl(z->edu, FVTE_DYN_ATTACH, &fd);
		check_errno(z, err, !p ? get | E(EBUSY) :
				    !p->write && !p->special ? E(EACCES) | E(EBUSY) :
				    E_OK | E(EBUSY) | E(EACCES) | E(ENOMEM));
		break;
	}
	default: {
		struct fvte_chunk c = { .len = 1 + below(&z->r, 64), .flags = below(&z->r, 5),
					.dst = below(&z->r, 2) * FV_PAGE };
		struct fvte_dyn_status st;

		snprintf(z->what, sizeof(z->what), "FVTE_DYN_DMA len %u flags %#x dst %#llx, STATUS, DETACH",
			 c.len, c.flags, (unsigned long long)c.dst);
		err = xioctl(z->edu, FVTE_DYN_DMA, &c);
		check_errno(z, err, E_OK | E(ENOENT) | E(EINVAL) | E(EACCES) | E(ENODEV) |
				    E(ENOMEM));
		err = xioctl(z->edu, FVTE_DYN_STATUS, &st);
		check_errno(z, err, E_OK | E(ENOENT));
		if (below(&z->r, 2)) {
			err = xioctl(z->edu, FVTE_DYN_DETACH, NULL);
			check_errno(z, err, E_OK | E(ENOENT));
		}
		break;
	}
	}
}

/* What the checked calls gave: the fuzzer reached past the argument checks */
static void print_results(struct fz *z)
{
	char buf[1024];
	size_t off = 0;
	uint64_t total = 0;
	int e;

	for (e = 0; e < 128; e++) {
		if (!z->results[e])
			continue;
		total += z->results[e];
		off += snprintf(buf + off, sizeof(buf) > off ? sizeof(buf) - off : 0, " %s:%llu",
				e ? strerrorname_np(e) : "ok", (unsigned long long)z->results[e]);
	}
	ksft_print_msg("%s: %llu calls checked:%s; %llu dma-bufs checked\n", z->test,
		       (unsigned long long)total, buf, (unsigned long long)z->dmabufs);
}

/* ---- setup and teardown of one test's world ---- */

static int open_driver(struct __test_metadata *_metadata, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		TH_LOG("%s: %s; its calls are not fuzzed", path, strerror(errno));
	return fd;
}

static void fill(char *p, size_t len, unsigned int seed)
{
	fv_fill(p, len, seed);
}

/* Map the layout; the dma-buf and iomem pages come from real imports/exports */
static void arena_map(struct __test_metadata *_metadata, struct fz *z)
{
	unsigned int seg, i, n = 0, shm_off = 0;
	char *base;

	base = mmap(NULL, (NPAGES + 2) * FV_PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, munmap(base, FV_PAGE));
	z->arena = base + FV_PAGE;
	z->memfd = memfd_create("fv-fuzz", MFD_CLOEXEC);
	ASSERT_LE(0, z->memfd);
	ASSERT_EQ(0, ftruncate(z->memfd, SHM_PAGES * FV_PAGE));
	for (seg = 0; seg < sizeof(layout) / sizeof(layout[0]); seg++) {
		size_t len = layout[seg].pages * FV_PAGE;
		char *p = page(z, n), *m = p;
		int prot = PROT_READ | PROT_WRITE;

		switch (layout[seg].kind) {
		case K_HOLE:
			ASSERT_EQ(0, munmap(p, len));
			break;
		case K_RW:
		case K_RO:
		case K_NONE:
			m = mmap(p, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			ASSERT_EQ(p, m);
			fill(m, len, n);
			if (layout[seg].kind != K_RW)
				ASSERT_EQ(0, mprotect(m, len, layout[seg].kind == K_RO ?
						      PROT_READ : PROT_NONE));
			break;
		case K_SHM_RW:
		case K_SHM_RO: {
			char *w = mmap(NULL, len, prot, MAP_SHARED, z->memfd, shm_off);

			ASSERT_NE(MAP_FAILED, w);
			fill(w, len, n);
			ASSERT_EQ(0, munmap(w, len));
			if (layout[seg].kind == K_SHM_RO)
				prot = PROT_READ;
			m = mmap(p, len, prot, MAP_SHARED | MAP_FIXED, z->memfd, shm_off);
			ASSERT_EQ(p, m);
			shm_off += len;
			break;
		}
		case K_DMABUF: {
			int fd;

			/* a write import of the first pages, mmapped here */
			ASSERT_EQ(0, fv_import(z->devfd, page(z, 0), len, FRAMEVEC_IMPORT_WRITE, &fd));
			m = mmap(p, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
			ASSERT_EQ(p, m);
			close(fd);
			break;
		}
		case K_IOMEM: {
			struct fv_texp_alloc a = { .nr_pages = layout[seg].pages, .nr_chunks = 1 };

			if (z->exporter_arena < 0 ||
			    ioctl(z->exporter_arena, FV_TEXP_IOC_ALLOC, &a)) {
				ASSERT_EQ(0, munmap(p, len));
				for (i = 0; i < layout[seg].pages; i++)
					z->kind[n + i] = K_HOLE;
				n += layout[seg].pages;
				continue;
			}
			m = mmap(p, len, prot, MAP_SHARED | MAP_FIXED, z->exporter_arena,
				 a.mmap_offset);
			ASSERT_EQ(p, m);
			break;
		}
		}
		for (i = 0; i < layout[seg].pages; i++)
			z->kind[n + i] = layout[seg].kind;
		n += layout[seg].pages;
	}
	ASSERT_EQ(NPAGES, n);
	ASSERT_EQ(0, munmap(page(z, NPAGES), FV_PAGE));
}

static void world_setup(struct __test_metadata *_metadata, struct fz *z, bool nobody,
			const char *test)
{
	int pfd[2];
	char *p;

	memset(z, 0, sizeof(*z));
	z->test = test;
	z->nobody = nobody;
	rng_init(&z->r, test);
	z->max_pages = fv_read_long("/sys/module/framevec/parameters/max_import_pages");
	ASSERT_LT(0, (long)z->max_pages);
	z->cfd = open(FV_COUNTERS, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, z->cfd);
	z->nfds0 = fv_count_fds();

	/* what only root opens: kept open when the test becomes nobody */
	z->consumer = open_driver(_metadata, FVTC_DEV);
	z->importer = open_driver(_metadata, FVTI_DEV);
	z->exporter = open_driver(_metadata, FV_TEXP_DEV);
	z->exporter_arena = open_driver(_metadata, FV_TEXP_DEV);
	z->edu = open_driver(_metadata, FZ_DEV_EDU);

	/* the scratch, the struct pages and the entries, before the holes exist */
	z->scratch = mmap(NULL, SCRATCH_PAGES * FV_PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z->scratch);
	p = mmap(NULL, 2 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	z->argbuf = p;	/* its second page becomes a hole at the end */
	z->argfd = memfd_create("fv-fuzz-arg", MFD_CLOEXEC);
	ASSERT_LE(0, z->argfd);
	ASSERT_EQ(0, ftruncate(z->argfd, FV_PAGE));
	z->roarg = mmap(NULL, FV_PAGE, PROT_READ, MAP_SHARED, z->argfd, 0);
	ASSERT_NE(MAP_FAILED, z->roarg);
	z->roarg_rw = mmap(NULL, FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, z->argfd, 0);
	ASSERT_NE(MAP_FAILED, z->roarg_rw);
	p = mmap(NULL, (ENT_PAGES + 1) * FV_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	z->ents = p;	/* so does the page after its last */

	if (nobody) {
		ASSERT_EQ(0, fv_drop_to_nobody(FZ_NOBODY_MEMLOCK_PAGES * FV_PAGE));
		/* the drivers' nodes are root's */
		ASSERT_EQ(-1, open(FVTI_DEV, O_RDWR | O_CLOEXEC));
		ASSERT_TRUE(errno == EACCES || errno == ENOENT);
	}
	z->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, z->devfd);
	atomic_store(&z->cdevfd, z->devfd);
	arena_map(_metadata, z);

	/* fds of the wrong kind */
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	z->wrong[z->nwrong++] = pfd[0];
	z->wrong[z->nwrong++] = pfd[1];
	z->wrong[z->nwrong++] = eventfd(0, EFD_CLOEXEC);
	z->wrong[z->nwrong++] = z->memfd;
	z->wrong[z->nwrong++] = open("/dev/null", O_RDWR | O_CLOEXEC);
	z->wrong[z->nwrong++] = 1000;	/* closed: never opened */
	z->wrong[z->nwrong++] = -1;
	z->wrong[z->nwrong++] = z->devfd;
	ASSERT_EQ(-1, fcntl(1000, F_GETFD));
	/* the holes after the struct and entries pages, last: no mmap fills them */
	ASSERT_EQ(0, munmap(z->argbuf + FV_PAGE, FV_PAGE));
	ASSERT_EQ(0, munmap(z->ents + ENT_PAGES * FV_PAGE, FV_PAGE));
	pthread_mutex_init(&z->lock, NULL);
	ksft_print_msg("%s: seed %llu (FV_FUZZ_SEED), stream %#llx, as %s\n", test,
		       fz_seed, (unsigned long long)z->r.s, nobody ? "nobody" : "root");
}

/* Undo world_setup(): every fd closed, nothing held, read-only memory intact */
static void world_end(struct __test_metadata *_metadata, struct fz *z)
{
	unsigned int n = 0, seg;
	int k;

	print_results(z);

	for (seg = 0; seg < sizeof(layout) / sizeof(layout[0]); seg++) {
		enum kind kd = z->kind[n];

		if (kd == K_RO || kd == K_SHM_RO)
			EXPECT_EQ(0, fv_check(page(z, n), layout[seg].pages * FV_PAGE, n))
				TH_LOG("read-only %s memory at page %u changed",
				       kind_name[kd], n);
		n += layout[seg].pages;
	}
	while (z->npool)
		pool_close(z, 0);
	for (k = 0; k < z->nwrong; k++)
		if (z->wrong[k] >= 0 && z->wrong[k] < 1000 && z->wrong[k] != z->devfd &&
		    z->wrong[k] != z->memfd)
			close(z->wrong[k]);
	munmap(z->arena, NPAGES * FV_PAGE);
	munmap(z->scratch, SCRATCH_PAGES * FV_PAGE);
	munmap(z->argbuf, FV_PAGE);
	munmap(z->roarg, FV_PAGE);
	munmap(z->roarg_rw, FV_PAGE);
	munmap(z->ents, ENT_PAGES * FV_PAGE);
	close(z->memfd);
	close(z->argfd);
	close(atomic_load(&z->cdevfd));
	if (z->consumer >= 0)
		close(z->consumer);
	if (z->importer >= 0)
		close(z->importer);
	if (z->exporter >= 0)
		close(z->exporter);
	if (z->exporter_arena >= 0)
		close(z->exporter_arena);
	if (z->edu >= 0)
		close(z->edu);
	EXPECT_EQ(0, fv_status_kb("VmPin")) TH_LOG("pages still pinned in this mm");
	EXPECT_EQ(z->nfds0, fv_count_fds()) TH_LOG("an fd was left open");
	EXPECT_EQ(0, z->failures) TH_LOG("%d calls did not give what they should; replay with FV_FUZZ_SEED=%llu",
				       z->failures, fz_seed);
}

/* ---- the fixture ---- */

FIXTURE(fuzz) {
	struct fv_counters base;
	struct fz z;
};

FIXTURE_VARIANT(fuzz) {
	bool nobody;
};

FIXTURE_VARIANT_ADD(fuzz, root) {
	.nobody = false,
};

FIXTURE_VARIANT_ADD(fuzz, nobody) {
	.nobody = true,
};

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN_PARENT(fuzz)
{
	/* the test process is gone: everything it had is released */
	ASSERT_AT_BASELINE(&self->base);
}

#define AT_BASELINE_NOW(z, b) do {						\
	struct fv_counters __now;						\
	ASSERT_EQ(0, fv_read_counters_fd((z)->cfd, &__now));			\
	EXPECT_EQ((b)->live_framevecs, __now.live_framevecs);			\
	EXPECT_EQ((b)->live_dmabufs, __now.live_dmabufs);			\
	EXPECT_EQ((b)->pinned_pages, __now.pinned_pages);			\
	EXPECT_EQ((b)->device_maps, __now.device_maps);				\
	EXPECT_EQ((b)->refs_pages, __now.refs_pages);				\
	EXPECT_EQ((b)->refs_dmabuf, __now.refs_dmabuf);				\
	EXPECT_EQ((b)->refs_iomem, __now.refs_iomem);				\
	EXPECT_EQ((b)->refs_revocable, __now.refs_revocable);			\
} while (0)

static void run_loop(struct fz *z, double seconds, uint64_t *iters)
{
	double end = now_s() + seconds;

	for (z->iter = 0; ; z->iter++) {
		if (!(z->iter & 63) && now_s() >= end)
			break;
		if (fz_iters_max && z->iter >= fz_iters_max)
			break;
		switch (below(&z->r, 20)) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			op_import(z);
			break;
		case 6: case 7: case 8: case 9:
			op_explain(z);
			break;
		case 10:
			op_raw(z);
			break;
		case 11:
			op_wrong_fd(z);
			break;
		case 12:
			op_mmap(z);
			break;
		case 13: case 14:
			op_consumer(z);
			break;
		case 15: case 16:
			op_importer(z);
			break;
		case 17:
			op_exporter(z);
			break;
		case 18:
			op_edu(z);
			break;
		default:
			/* rarely: a full pool holds more than nobody's RLIMIT_MEMLOCK */
			if (z->npool && !below(&z->r, 16))
				pool_close(z, below(&z->r, z->npool));
			break;
		}
	}
	*iters = z->iter;
}

TEST_F_TIMEOUT(fuzz, ioctls, 1200)
{
	struct fz *z = &self->z;
	double t0 = now_s(), secs = fz_seconds * 0.3;
	uint64_t iters;
	char name[64];

	snprintf(name, sizeof(name), "fuzz.%s.ioctls", variant->nobody ? "nobody" : "root");
	world_setup(_metadata, z, variant->nobody, name);
	ksft_print_msg("%s: %.0f s, at most %llu iterations\n", name, secs, fz_iters_max);
	run_loop(z, secs, &iters);
	ksft_print_msg("%s: %llu iterations in %.1f s, %d failures\n", name,
		       (unsigned long long)iters, now_s() - t0, z->failures);
	world_end(_metadata, z);
	AT_BASELINE_NOW(z, &self->base);
}

/* ---- concurrent closes ---- */

static void *closer(void *arg)
{
	struct fz *z = arg;
	struct rng r = { z->r.s ^ 0x5555555555555555ULL };
	char *win = page(z, IOMEM_FIRST + 5);	/* inside the last anonymous run */

	while (!atomic_load(&z->stop)) {
		switch (below(&r, 4)) {
		case 0: {
			int fd = open(FV_DEV, O_RDWR | O_CLOEXEC);
			int old = atomic_exchange(&z->cdevfd, fd);

			close(old);
			break;
		}
		case 1:
			pthread_mutex_lock(&z->lock);
			if (z->npool)
				pool_close(z, below(&r, z->npool));
			pthread_mutex_unlock(&z->lock);
			break;
		case 2:
			/* a hole comes and goes under the imports */
			if (below(&r, 2))
				munmap(win, 2 * FV_PAGE);
			else
				mmap(win, 2 * FV_PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			break;
		default:
			mprotect(win - FV_PAGE, FV_PAGE, below(&r, 2) ? PROT_READ :
				 PROT_READ | PROT_WRITE);
			break;
		}
		usleep(below(&r, 200));
	}
	return NULL;
}

/* One call racing the closer: the fds and pages may be gone, nothing may break */
static void race_step(struct fz *z)
{
	int devfd = atomic_load(&z->cdevfd), fd = -1, err;
	uint64_t addr = (uintptr_t)page(z, IOMEM_FIRST + below(&z->r, 12));
	uint64_t len = (1 + below(&z->r, 4)) * FV_PAGE;
	eset racy = E_OK | E(EBADF) | E(ENOTTY) | E(EINVAL) | E(EFAULT) | E(EACCES) |
		    E(ENOMEM) | E(EOPNOTSUPP) | E(ENODEV) | E(ENOENT) | E(ENOSPC) | E(EBUSY) |
		    E(EMSGSIZE) | E(EREMOTEIO);

	pthread_mutex_lock(&z->lock);
	if (z->npool)
		fd = z->pool[below(&z->r, z->npool)].fd;
	pthread_mutex_unlock(&z->lock);
	switch (below(&z->r, 6)) {
	case 0: case 1: {
		struct framevec_import a = { .size = sizeof(a), .flags = below(&z->r, 2),
					     .addr = addr, .length = len };

		snprintf(z->what, sizeof(z->what), "racing IMPORT on fd %d %#llx+%#llx",
			 devfd, (unsigned long long)addr, (unsigned long long)len);
		err = xioctl(devfd, FRAMEVEC_IOC_IMPORT, &a);
		check_errno(z, err, racy);
		if (!err) {
			pthread_mutex_lock(&z->lock);
			if (z->npool == FZ_POOL)
				pool_close(z, 0);
			z->pool[z->npool++] = (struct pooled){ a.dmabuf_fd, 0, len, a.flags, true };
			pthread_mutex_unlock(&z->lock);
		}
		break;
	}
	case 2: {
		struct framevec_explain a = { .size = sizeof(a), .addr = addr, .length = len,
					      .nr_entries = 4, .entries = (uintptr_t)z->ents,
					      .entry_size = sizeof(struct framevec_explain_entry) };

		snprintf(z->what, sizeof(z->what), "racing EXPLAIN on fd %d", devfd);
		err = xioctl(devfd, FRAMEVEC_IOC_EXPLAIN, &a);
		check_errno(z, err, racy);
		break;
	}
	case 3: {
		char *m;

		snprintf(z->what, sizeof(z->what), "racing mmap of fd %d", fd);
		m = mmap(z->scratch, FV_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
		err = m == MAP_FAILED ? errno : 0;
		check_errno(z, err, racy | E(ENODEV));
		if (!err)
			(void)*(volatile char *)m;
		mmap(z->scratch, SCRATCH_PAGES * FV_PAGE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	}
	case 4:
		if (z->consumer >= 0) {
			struct fvtc_map a = { .fd = fd, .dir = 1 };
			struct fvtc_dyn_attach d = { .fd = fd };

			snprintf(z->what, sizeof(z->what), "racing FVTC_MAP/DYN_ATTACH fd %d", fd);
			check_errno(z, xioctl(z->consumer, FVTC_MAP, &a), racy);
			err = xioctl(z->consumer, FVTC_DYN_ATTACH, &d);
			check_errno(z, err, racy);
			if (!err)
				check_errno(z, xioctl(z->consumer, FVTC_DYN_DETACH, &d.id), E_OK);
		}
		break;
	default:
		if (z->importer >= 0) {
			struct fvti_import a = { .addr = addr, .length = len };

			snprintf(z->what, sizeof(z->what), "racing FVTI_IOC_IMPORT %#llx+%#llx",
				 (unsigned long long)addr, (unsigned long long)len);
			err = xioctl(z->importer, FVTI_IOC_IMPORT, &a);
			check_errno(z, err, racy);
			if (!err) {
				struct fvti_map m = { .id = a.id, .dir = 1 };

				check_errno(z, xioctl(z->importer, FVTI_IOC_MAP, &m), racy);
				check_errno(z, xioctl(z->importer, FVTI_IOC_RELEASE, &a.id), E_OK);
			}
		}
		break;
	}
}

TEST_F_TIMEOUT(fuzz, concurrent_closes, 1200)
{
	struct fz *z = &self->z;
	double t0 = now_s(), secs = fz_seconds * 0.1, end;
	pthread_t th;
	char name[64];

	snprintf(name, sizeof(name), "fuzz.%s.concurrent_closes",
		 variant->nobody ? "nobody" : "root");
	world_setup(_metadata, z, variant->nobody, name);
	ksft_print_msg("%s: %.0f s\n", name, secs);
	/* the window the closer unmaps and remaps is not in the oracle any more */
	ASSERT_EQ(0, pthread_create(&th, NULL, closer, z));
	end = now_s() + secs;
	for (z->iter = 0; now_s() < end; z->iter++) {
		if (fz_iters_max && z->iter >= fz_iters_max)
			break;
		race_step(z);
	}
	atomic_store(&z->stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ksft_print_msg("%s: %llu iterations in %.1f s, %d failures\n", name,
		       (unsigned long long)z->iter, now_s() - t0, z->failures);
	/* the window may be a hole now: world_end() does not check it */
	world_end(_metadata, z);
	AT_BASELINE_NOW(z, &self->base);
}

/* ---- trinity ---- */

FIXTURE(trinity) {
	struct fv_counters base;
};

FIXTURE_SETUP(trinity)
{
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN_PARENT(trinity)
{
	ASSERT_AT_BASELINE(&self->base);
}

/*
 * Debian's trinity, as nobody, on /dev/framevec only (-V; its other fd
 * kinds off), calling ioctl, mmap and friends, close, with the seed printed.
 * It runs in its own process group, killed at the deadline; its output is
 * prefixed with "# " to stay TAP. A kernel report ends the run (the harness
 * reads the log); trinity's own taint check also makes it exit non-zero.
 * A trinity this machine cannot execute (ENOEXEC: the arm64 initramfs has
 * the host's x86-64 one) skips the test; the child reports execl()'s errno
 * through a close-on-exec pipe, which a successful exec closes empty.
 */
TEST_F_TIMEOUT(trinity, ioctl_mmap_close_as_nobody, 1200)
{
	unsigned int seed = (unsigned int)(fz_seed ^ (fz_seed >> 32));
	unsigned int secs = fz_seconds / 5 ? fz_seconds / 5 : 1;
	char seedarg[32], buf[4096], line[4096];
	size_t ll = 0;
	int out[2], ex[2], status = 0, killed = 0, exec_err = 0;
	double end;
	pid_t pid;

	if (access(FZ_TRINITY, X_OK))
		SKIP(return, FZ_TRINITY " is not in this guest");
	snprintf(seedarg, sizeof(seedarg), "%u", seed);
	ksft_print_msg("trinity: seed %s, %u s, on " FV_DEV " as nobody\n", seedarg, secs);
	ASSERT_EQ(0, mkdir(FZ_TRINITY_DIR, 0777) && errno != EEXIST ? -1 : 0);
	ASSERT_EQ(0, chown(FZ_TRINITY_DIR, NOBODY, NOBODY));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ex, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		setpgid(0, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (chdir(FZ_TRINITY_DIR) || fv_drop_to_nobody(FZ_NOBODY_MEMLOCK_PAGES * FV_PAGE))
			_exit(126);
		execl(FZ_TRINITY, FZ_TRINITY, "-q", "--stats", "-l", "off", "-s", seedarg, "-C", "2",
		      "-V", FV_DEV,
		      "--disable-fds=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm",
		      "-c", "ioctl", "-c", "mmap", "-c", "munmap", "-c", "mremap",
		      "-c", "mprotect", "-c", "madvise", "-c", "close", "-c", "dup",
		      (char *)NULL);
		exec_err = errno;
		if (write(ex[1], &exec_err, sizeof(exec_err)) != sizeof(exec_err))
			_exit(126);
		_exit(127);
	}
	close(out[1]);
	close(ex[1]);
	if (read(ex[0], &exec_err, sizeof(exec_err)) != sizeof(exec_err))
		exec_err = 0;
	close(ex[0]);
	if (exec_err == ENOEXEC) {
		close(out[0]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		SKIP(return, FZ_TRINITY " is not an executable of this machine (ENOEXEC): built for another architecture");
	}
	ASSERT_EQ(0, exec_err)
		TH_LOG("execl(" FZ_TRINITY "): %s", strerror(exec_err));
	end = now_s() + secs;
	for (;;) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		double left = end - now_s();
		ssize_t n;

		if (left <= 0 && !killed) {
			kill(-pid, SIGINT);
			killed = 1;
			end = now_s() + 10;
			continue;
		}
		if (left <= 0 && killed == 1) {
			kill(-pid, SIGKILL);
			killed = 2;
			end = now_s() + 30;
			continue;
		}
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(out[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || ll == sizeof(line) - 1) {
				line[ll] = '\0';
				printf("# trinity: %s\n", line);
				ll = 0;
			} else {
				line[ll++] = buf[i];
			}
		}
		fflush(stdout);
	}
	close(out[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kill(-pid, SIGKILL);	/* its children, if any are left */
	while (waitpid(-pid, NULL, 0) > 0)
		;
	ksft_print_msg("trinity: seed %s: %s %d after %u s\n", seedarg,
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), secs);
	ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) >= 126)
		TH_LOG("trinity did not start");
	/* stopped by us at the deadline, or done with no taint */
	ASSERT_TRUE(killed || (WIFEXITED(status) && !WEXITSTATUS(status)))
		TH_LOG("trinity ended on its own with a failure: a taint? see the log");
}

int main(int argc, char **argv)
{
	fz_config();
	printf("# fuzz: seed %llu (FV_FUZZ_SEED), %u s (FV_FUZZ_SECONDS), iterations %llu (FV_FUZZ_ITERS, 0: bounded by time); replay: FV_FUZZ_SEED=%llu FV_FUZZ_SECONDS=%u fuzz_test\n",
	       fz_seed, fz_seconds, fz_iters_max, fz_seed, fz_seconds);
	printf("# fuzz: the user address space ends at %#llx (mm->task_size, found by mmap)%s\n",
	       (unsigned long long)fz_task_size, fz_untag(1ULL << 56) ? "" :
	       "; the kernel's untagged_addr() ignores the top byte");
	if (fz_dma_debug)
		printf("# fuzz: DMA-API debug is on: no writable device mapping is kept (see fz_dma_debug)\n");
	fflush(stdout);
	return test_harness_run(argc, argv);
}
