// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-injection sweep (as iommufd's selftests do): for N = 1, 2, ... make
 * the N-th fault-injection point of one call fail (/proc/thread-self/fail-nth:
 * a slab or page allocation, a copy from or to user space), until the call
 * succeeds without having reached the N-th point. After every failing
 * iteration the call must have failed with an errno that says "no memory" or
 * "bad address", framevec's debugfs counters must be back where they were
 * and no file descriptor may be left behind: the unwind undid exactly the
 * work that had finished. The kmemleak scan at the end of the run (debug
 * kernel) catches what the counters cannot see.
 *
 * Calls swept: FRAMEVEC_IOC_IMPORT, FRAMEVEC_IOC_EXPLAIN; and through fv_test_importer the kernel
 * API's framevec_import(), framevec_map() for a device, and the attachment
 * and mapping of framevec's dma-buf by another driver. Memory: anonymous
 * (populated, or faulted in by the import itself), a transparent huge page,
 * and a range across anonymous memory, a dma-heap buffer and a udmabuf.
 *
 * Needs CONFIG_FAULT_INJECTION + FAILSLAB + FAIL_PAGE_ALLOC (+ _DEBUG_FS):
 * skips on a kernel without them (Debian's). Run by `make check-debug`.
 */
#include <sys/syscall.h>

#include "pfnmap_helpers.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define NTH_MAX		5000	/* more injection points than any call here has */
#define P		8	/* pages per piece */
#define SZ_2M		(2UL << 20)

enum nth_mem { NTH_ANON, NTH_ANON_FAULT, NTH_THP, NTH_MIXED };

FIXTURE(nth) {
	int devfd, fvti, nth;
	int heap_fd, udma_fd;
	char *mem;		/* the imported range */
	void *map;		/* what to munmap */
	size_t len, map_len;
	struct fv_counters base;
};

FIXTURE_VARIANT(nth) {
	enum nth_mem mem;
};

FIXTURE_VARIANT_ADD(nth, anon) { .mem = NTH_ANON };
FIXTURE_VARIANT_ADD(nth, anon_fault) { .mem = NTH_ANON_FAULT };
FIXTURE_VARIANT_ADD(nth, thp) { .mem = NTH_THP };
FIXTURE_VARIANT_ADD(nth, mixed) { .mem = NTH_MIXED };

/*
 * Let every allocation be failed, quietly: we look for what comes after.
 * FV_NTH_VERBOSE=2 in the environment logs each injected failure with its
 * stack instead (to see which points a call absorbs).
 */
static void nth_setup_injection(void)
{
	const char *verbose = getenv("FV_NTH_VERBOSE") ?: "0";
	const char * const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/failslab/verbose", verbose },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", verbose },
		{ "/sys/kernel/debug/fail_usercopy/verbose", verbose },
	};
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		fv_write_file(knobs[i][0], knobs[i][1]);
}

/* Arm fail-nth; writing can itself be failed (copy_from_user): retry */
static int nth_arm(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n), i;

	for (i = 0; i < 3; i++) {
		if (pwrite(nth, buf, len, 0) == len)
			return 0;
		if (errno != EFAULT)
			return -errno;
	}
	return -EFAULT;
}

/*
 * After the call: 1 if it reached the armed point (fail-nth reads 0), 0 if
 * not; disarms. Reading is a copy_to_user that the armed count can fail:
 * that too means the count had not run out in the call.
 */
static int nth_disarm(int nth)
{
	char buf[16] = "";
	ssize_t r = pread(nth, buf, sizeof(buf) - 1, 0);
	int reached;

	if (r < 0 && errno != EFAULT)
		return -errno;
	reached = r > 0 && strtoul(buf, NULL, 10) == 0;
	return nth_arm(nth, 0) ?: reached;
}

/* The lowest free descriptor: the same before and after a failed call */
static int next_fd(void)
{
	int fd = fcntl(0, F_DUPFD, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int counters_differ(const struct fv_counters *a, const struct fv_counters *b,
			   char *why, size_t len)
{
	int n = 0;

#define NTH_CMP(f) do {								\
	if (a->f != b->f)							\
		n += snprintf(why + n, len - n, " " #f " %ld->%ld", a->f, b->f);	\
} while (0)
	why[0] = 0;
	NTH_CMP(live_framevecs);
	NTH_CMP(live_dmabufs);
	NTH_CMP(pinned_pages);
	NTH_CMP(device_maps);
	NTH_CMP(refs_pages);
	NTH_CMP(refs_dmabuf);
	NTH_CMP(refs_vb2);
	NTH_CMP(refs_iomem);
	NTH_CMP(refs_revocable);
#undef NTH_CMP
	return n != 0;
}

/* An errno an allocation or a user copy that failed may turn into */
static int nth_errno_ok(int err)
{
	return err == ENOMEM || err == EFAULT || err == EAGAIN || err == EINTR ||
	       err == ENFILE || err == EMFILE;
}

enum nth_op { OP_IOC_IMPORT, OP_IOC_EXPLAIN, OP_KERNEL_IMPORT, OP_DEVICE_MAP, OP_DMABUF_MAP };

static const char * const op_names[] = {
	"FRAMEVEC_IOC_IMPORT", "FRAMEVEC_IOC_EXPLAIN", "framevec_import()", "framevec_map()",
	"dma-buf attach+map",
};

static int nth_explain(int devfd, void *addr, size_t len)
{
	static struct framevec_explain_entry e[8];
	struct framevec_explain arg = {
		.size = sizeof(arg),
		.flags = FRAMEVEC_EXPLAIN_WRITE,
		.nr_entries = 8,
		.addr = (uintptr_t)addr,
		.length = len,
		.entries = (uintptr_t)e,
		.entry_size = sizeof(e[0]),
	};

	return ioctl(devfd, FRAMEVEC_IOC_EXPLAIN, &arg) ? errno : 0;
}

struct nth_stats {
	unsigned int points, failed, recovered;
	unsigned int by_errno[4];	/* ENOMEM, EFAULT, other allowed, - */
};

/* One call with fail-nth armed at @n: the errno (0: success) and *reached */
static int nth_call(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
		    enum nth_op op, unsigned int n, uint32_t slot, int dmabuf,
		    int *reached)
{
	uint32_t id = 0;
	int err = EINVAL, fd = -1;
	long cnt = 0;

	ASSERT_EQ(0, nth_arm(self->nth, n));
	/* nothing but the call between arming and disarming */
	switch (op) {
	case OP_IOC_IMPORT:
		err = fv_import(self->devfd, self->mem, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
		break;
	case OP_IOC_EXPLAIN:
		err = nth_explain(self->devfd, self->mem, self->len);
		break;
	case OP_KERNEL_IMPORT:
		err = fvti_import(self->fvti, self->mem, self->len, FVTI_IMPORT_WRITE, &id);
		break;
	case OP_DEVICE_MAP:
		err = fvti_map(self->fvti, slot, FVTI_DIR_BIDIRECTIONAL);
		break;
	case OP_DMABUF_MAP:
		cnt = fvti_pfns(self->fvti, dmabuf, 0, NULL, 0);
		err = cnt < 0 ? -cnt : 0;
		break;
	}
	*reached = nth_disarm(self->nth);
	ASSERT_LE(0, *reached) TH_LOG("reading %s: %s", FAIL_NTH, strerror(-*reached));
	if (!err) {
		/* undo a success, so that every iteration starts alike */
		switch (op) {
		case OP_IOC_IMPORT:
			close(fd);
			break;
		case OP_KERNEL_IMPORT:
			ASSERT_EQ(0, fvti_release(self->fvti, id));
			break;
		case OP_DEVICE_MAP:
			ASSERT_EQ(0, fvti_unmap(self->fvti, slot));
			break;
		case OP_DMABUF_MAP:
			ASSERT_LT(0, cnt);
			break;
		case OP_IOC_EXPLAIN:
			break;
		}
	}
	return err;
}

/*
 * Sweep @op. @slot / @dmabuf: the import that OP_DEVICE_MAP maps / the
 * dma-buf that OP_DMABUF_MAP attaches to; the counters then include it.
 */
static void nth_sweep(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
		      const FIXTURE_VARIANT(nth) *variant, enum nth_op op,
		      uint32_t slot, int dmabuf)
{
	struct nth_stats st = { 0 };
	struct fv_counters before, now;
	int fd_before, err, reached;
	char why[256];
	unsigned int n;

	ASSERT_EQ(0, fv_read_counters(&before));
	fd_before = next_fd();
	for (n = 1; n < NTH_MAX; n++) {
		if (variant->mem == NTH_ANON_FAULT)	/* fault in anew every time */
			ASSERT_EQ(0, madvise(self->mem, self->len, MADV_DONTNEED));
		err = nth_call(_metadata, self, op, n, slot, dmabuf, &reached);
		ASSERT_EQ(0, fv_read_counters(&now));
		ASSERT_FALSE(counters_differ(&before, &now, why, sizeof(why)))
			TH_LOG("%s with failure point %u (%s): counters not back:%s",
			       op_names[op], n, err ? strerror(err) : "succeeded", why);
		ASSERT_EQ(fd_before, next_fd())
			TH_LOG("%s with failure point %u (%s) left a file descriptor behind",
			       op_names[op], n, err ? strerror(err) : "succeeded");
		if (!err && !reached)
			break;		/* the call has fewer than n points: done */
		if (!err) {
			st.recovered++;	/* the failure was absorbed (a fallback, a retry) */
			continue;
		}
		ASSERT_TRUE(reached)
			TH_LOG("%s failed (%s) without an injected failure", op_names[op],
			       strerror(err));
		ASSERT_TRUE(nth_errno_ok(err))
			TH_LOG("%s with failure point %u: errno %d (%s) for a failed allocation or copy",
			       op_names[op], n, err, strerror(err));
		st.failed++;
		st.by_errno[err == ENOMEM ? 0 : err == EFAULT ? 1 : 2]++;
	}
	ASSERT_LT(n, NTH_MAX) TH_LOG("%s still reaches failure point %u", op_names[op], n);
	st.points = n - 1;
	ksft_print_msg("%s: %u failure points: %u failed the call (ENOMEM %u, EFAULT %u, other %u), %u were absorbed\n",
		       op_names[op], st.points, st.failed, st.by_errno[0], st.by_errno[1],
		       st.by_errno[2], st.recovered);
	/* it must have been able to fail at all */
	ASSERT_LT(0, st.failed);
}

static void *nth_map_fixed(void *at, size_t len, int fd)
{
	return mmap(at, len, PROT_READ | PROT_WRITE,
		    fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE :
		    MAP_SHARED | MAP_FIXED, fd, 0);
}

FIXTURE_SETUP(nth)
{
	char *at;

	self->nth = -1;
	self->fvti = -1;
	self->heap_fd = -1;
	self->udma_fd = -1;
	self->devfd = -1;
	if (access(FAIL_NTH, F_OK))
		SKIP(return, "no %s: the kernel lacks CONFIG_FAULT_INJECTION (make check-debug)",
		     FAIL_NTH);
	nth_setup_injection();
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	if (access(FVTI_DEV, F_OK))
		ASSERT_EQ(0, system("modprobe fv_test_importer"));
	self->fvti = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fvti);

	switch (variant->mem) {
	case NTH_ANON:
	case NTH_ANON_FAULT:
		self->len = self->map_len = 16 * FV_PAGE;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = self->map;
		if (variant->mem == NTH_ANON)
			fv_fill(self->mem, self->len, 1);
		break;
	case NTH_THP:
		/* 2 MiB aligned inside a 4 MiB reservation */
		self->map_len = 2 * SZ_2M;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = (char *)(((uintptr_t)self->map + SZ_2M - 1) & ~(SZ_2M - 1));
		self->len = SZ_2M;
		ASSERT_EQ(0, madvise(self->mem, self->len, MADV_HUGEPAGE));
		fv_fill(self->mem, self->len, 2);
		break;
	case NTH_MIXED:
		/* [anon P][dma-heap P][udmabuf P][anon P] */
		self->heap_fd = heap_alloc(P * FV_PAGE);
		ASSERT_LE(0, self->heap_fd);
		self->udma_fd = udmabuf_alloc(P * FV_PAGE, NULL);
		ASSERT_LE(0, self->udma_fd);
		self->map_len = self->len = 4 * P * FV_PAGE;
		self->map = mmap(NULL, self->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = self->map;
		at = self->mem;
		ASSERT_EQ(at, nth_map_fixed(at, P * FV_PAGE, -1));
		at += P * FV_PAGE;
		ASSERT_EQ(at, nth_map_fixed(at, P * FV_PAGE, self->heap_fd));
		at += P * FV_PAGE;
		ASSERT_EQ(at, nth_map_fixed(at, P * FV_PAGE, self->udma_fd));
		at += P * FV_PAGE;
		ASSERT_EQ(at, nth_map_fixed(at, P * FV_PAGE, -1));
		fv_fill(self->mem, self->len, 3);
		break;
	}
}

FIXTURE_TEARDOWN(nth)
{
	if (self->nth < 0)
		return;		/* skipped */
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, self->map_len);
	if (self->heap_fd >= 0)
		close(self->heap_fd);
	if (self->udma_fd >= 0)
		close(self->udma_fd);
	if (self->fvti >= 0)
		close(self->fvti);
	if (self->devfd >= 0)
		close(self->devfd);
	close(self->nth);
	ASSERT_AT_BASELINE(&self->base);
}

/* The ioctl: copy in, judge and reference the range, export, install an fd */
TEST_F(nth, ioc_import)
{
	int fd;

	nth_sweep(_metadata, self, variant, OP_IOC_IMPORT, 0, -1);
	/* afterwards the import works and sees the memory */
	ASSERT_IMPORT_OK(self->devfd, self->mem, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
	/* mapped; the dma-buf source holds the heap and udmabuf pages too */
	ASSERT_EQ((long)(self->len / FV_PAGE), fvti_pfns(self->fvti, fd, 0, NULL, 0));
	close(fd);
}

/* Explain: judge every VMA of the range, copy the entries out */
TEST_F(nth, ioc_explain)
{
	nth_sweep(_metadata, self, variant, OP_IOC_EXPLAIN, 0, -1);
}

/* The kernel API: framevec_import() with a revoke callback */
TEST_F(nth, kernel_import)
{
	nth_sweep(_metadata, self, variant, OP_KERNEL_IMPORT, 0, -1);
}

/* framevec_map() of an import for the importer's device */
TEST_F(nth, device_map)
{
	uint32_t id = 0;

	ASSERT_EQ(0, fvti_import(self->fvti, self->mem, self->len, FVTI_IMPORT_WRITE, &id));
	nth_sweep(_metadata, self, variant, OP_DEVICE_MAP, id, -1);
	ASSERT_EQ(0, fvti_release(self->fvti, id));
}

/* Another driver attaches to framevec's dma-buf and maps it */
TEST_F(nth, dmabuf_map)
{
	int fd;

	ASSERT_IMPORT_OK(self->devfd, self->mem, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
	nth_sweep(_metadata, self, variant, OP_DMABUF_MAP, 0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
