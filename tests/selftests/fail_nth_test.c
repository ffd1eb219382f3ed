// SPDX-License-Identifier: GPL-2.0
/*
 * Fault-injection sweep (as iommufd's selftests do): for N = 1, 2, ... make
 * the N-th fault-injection point of one call fail (/proc/thread-self/fail-nth:
 * a slab or page allocation, a copy from or to user space, and framevec's
 * own points, debugfs framevec/fail_framevec: a pin, the RLIMIT_MEMLOCK
 * charge, a dma-buf attach; see "Fault injection" in framevec_core.c),
 * until the call succeeds without having reached the N-th point. A call
 * that is refused without injection (an errno that is its documented
 * answer for that memory) is swept the same way: it must then give that
 * errno or a failed allocation's. After every iteration the call must have
 * failed with an errno that says "no memory" or "bad address" (or its
 * documented one), framevec's debugfs counters, and what framevec's own
 * bookkeeping cannot see, the system's page pins (nr_foll_pin_* in
 * /proc/vmstat), its live dma-bufs (dma_buf/bufinfo) and the test
 * exporter's live buffers, must be back where they were, and no file
 * descriptor may be left behind: the unwind undid exactly the work that had
 * finished.
 *
 * Leaks the counters cannot see: with FV_NTH_KMEMLEAK=1 every test scans
 * kmemleak in its teardown (5 s + two scans each: too slow for the whole
 * suite); by default the VM's /init scans once after the whole run and
 * puts every report in the log, which fails the run (vm/check-log.sh).
 *
 * Calls swept: FRAMEVEC_IOC_IMPORT, FRAMEVEC_IOC_EXPLAIN; through
 * fv_test_importer the kernel API's framevec_import(), framevec_map() for a
 * device and framevec_vmap(); the attachment and mapping of framevec's
 * dma-buf by another driver (static: fv_test_importer; dynamic, for memory
 * that can be revoked: fv_test_consumer); mmap() of framevec's dma-buf and
 * its first fault. Memory: anonymous (populated, or faulted in by the
 * import itself), a transparent huge page, a range across anonymous memory,
 * a dma-heap buffer and a udmabuf, a vb2 dma-contig MMAP buffer (vivid), a
 * RAM buffer of the iomem exporter (fv_test_exporter) and, with the ivshmem
 * profile, a VM_PFNMAP no source holds (revocable). On the iomem variant
 * also the exporter's API as fv_test_exporter uses it: framevec_iomem_create()
 * with its ranges, framevec_iomem_mmap() and its fault, framevec_iomem_revoke()
 * with an importer, framevec_iomem_put() of the last reference.
 *
 * The dma-buf front end's vmap is swept as framevec_vmap(), which is all it
 * calls: a failing .vmap makes the dma-buf core WARN (dma_buf_vmap()), which
 * fails a debug run by design.
 *
 * Needs CONFIG_FAULT_INJECTION + FAILSLAB + FAIL_PAGE_ALLOC (+ _DEBUG_FS):
 * skips on a kernel without them (Debian's). Run by `make check-debug`:
 * modprobe vivid n_devs=1 allocators=1, fv_test_importer, fv_test_exporter,
 * fv_test_consumer; -v revocable with VM_PROFILE=ivshmem, -V revocable
 * without.
 */
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#include "pfnmap_helpers.h"
#include "fv_test_consumer.h"
#include "../modules/fv_test_exporter.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define NTH_MAX		5000	/* more injection points than any call here has */
#define P		8	/* pages per piece */
#define TEXP_PAGES	8	/* pages of an exporter buffer, in 2 ranges */
#define REV_PAGES	8	/* pages of the ivshmem BAR imported */
#define SZ_2M		(2UL << 20)
#define NTH_TIMEOUT	300	/* s per test: TCG, KASAN, kmemleak */

enum nth_mem {
	NTH_ANON, NTH_ANON_FAULT, NTH_THP, NTH_MIXED, NTH_VB2, NTH_IOMEM, NTH_REVOCABLE,
};

FIXTURE(nth) {
	int devfd, fvti, fvtc, texp, nth;
	int heap_fd, udma_fd, res_fd;
	char *mem;		/* the imported range */
	void *map;		/* what to munmap */
	size_t len, map_len;
	__u32 texp_handle;
	__u64 texp_off;		/* mmap offset of the iomem variant's buffer */
	struct vivid_cap cap;
	struct fv_counters base;
	__u64 texp_live;
	long pins, dmabufs;	/* foll_pins(), dmabufs_total() before the test */
};

FIXTURE_VARIANT(nth) {
	enum nth_mem mem;
	bool revocable;		/* dynamic dma-buf importers only */
};

FIXTURE_VARIANT_ADD(nth, anon) { .mem = NTH_ANON };
FIXTURE_VARIANT_ADD(nth, anon_fault) { .mem = NTH_ANON_FAULT };
FIXTURE_VARIANT_ADD(nth, thp) { .mem = NTH_THP };
FIXTURE_VARIANT_ADD(nth, mixed) { .mem = NTH_MIXED };
FIXTURE_VARIANT_ADD(nth, vb2) { .mem = NTH_VB2 };
FIXTURE_VARIANT_ADD(nth, iomem) { .mem = NTH_IOMEM, .revocable = true };
FIXTURE_VARIANT_ADD(nth, revocable) { .mem = NTH_REVOCABLE, .revocable = true };

/*
 * Let every allocation be failed, quietly: we look for what comes after.
 * framevec's own attr needs no probability: fail-nth reaches any
 * fault_attr in task context (should_fail_ex()); iommufd's selftest only
 * quiets it, as here. FV_NTH_VERBOSE=2 in the environment logs each
 * injected failure with its stack instead (to see which points a call
 * absorbs).
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
		{ "/sys/kernel/debug/framevec/fail_framevec/verbose", verbose },
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

/* The exporter's buffers whose memory is not freed yet (0 without it) */
static __u64 texp_live(void)
{
	struct fv_texp_stats st = { 0 };
	int fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (ioctl(fd, FV_TEXP_IOC_STATS, &st))
		st.live_buffers = ~0ULL;
	close(fd);
	return st.live_buffers;
}

/* Pins held in the whole system (/proc/vmstat): framevec's counters aside */
static long foll_pins(void)
{
	long acq = -1, rel = -1, v;
	char name[64];
	FILE *f;

	/* fold the per-cpu differences in, or the numbers lag behind */
	if (fv_write_file("/proc/sys/vm/stat_refresh", "1"))
		return -1;
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/* Live dma-bufs of every exporter (debugfs dma_buf/bufinfo), -1 without */
static long dmabufs_total(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen(DMABUF_BUFINFO, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %ld objects", &n) == 1)
			break;
	fclose(f);
	return n;
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

enum nth_op {
	OP_IOC_IMPORT, OP_IOC_EXPLAIN, OP_KERNEL_IMPORT, OP_DEVICE_MAP, OP_KERNEL_VMAP,
	OP_DMABUF_MAP, OP_DMABUF_DYN_MAP, OP_DMABUF_MMAP_FAULT,
	OP_TEXP_CREATE, OP_TEXP_MMAP_FAULT, OP_TEXP_REVOKE, OP_TEXP_DESTROY,
};

static const char * const op_names[] = {
	"FRAMEVEC_IOC_IMPORT", "FRAMEVEC_IOC_EXPLAIN", "framevec_import()", "framevec_map()",
	"framevec_vmap()", "dma-buf attach+map", "dma-buf dynamic attach+map",
	"dma-buf mmap+fault", "framevec_iomem_create()", "framevec_iomem_mmap()+fault",
	"framevec_iomem_revoke()", "framevec_iomem_put() (last)",
};

/*
 * Driver calls with no way to fail (void): only fv_test_exporter's copy of
 * the ioctl's argument can (EFAULT), before the call; every point inside
 * must be absorbed, and there may be none.
 */
static bool op_cannot_fail(enum nth_op op)
{
	return op == OP_TEXP_REVOKE || op == OP_TEXP_DESTROY;
}

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

/* A user access to a mapping whose fault was failed may be a SIGBUS */
static sigjmp_buf nth_jmp;
static volatile sig_atomic_t nth_touching;

static void nth_sigbus(int sig)
{
	if (!nth_touching)
		abort();
	siglongjmp(nth_jmp, sig);
}

/* Read every page of [p, p + len): 0, or EFAULT for a SIGBUS */
static int nth_touch(const volatile char *p, size_t len)
{
	size_t i;

	if (sigsetjmp(nth_jmp, 1)) {
		nth_touching = 0;
		return EFAULT;
	}
	nth_touching = 1;
	for (i = 0; i < len; i += FV_PAGE)
		(void)p[i];
	nth_touching = 0;
	return 0;
}

/* mmap @fd at @off and touch it: 0, or the errno (EFAULT for a SIGBUS) */
static int nth_map_touch(int fd, off_t off, size_t len, void **out)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	int err;

	*out = NULL;
	if (m == MAP_FAILED)
		return errno;
	*out = m;
	err = nth_touch(m, len);
	return err;
}

static int texp_alloc(int texp, unsigned int pages, unsigned int chunks, struct fv_texp_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->nr_pages = pages;
	a->nr_chunks = chunks;
	return ioctl(texp, FV_TEXP_IOC_ALLOC, a) ? errno : 0;
}

static int texp_free(int texp, __u32 handle)
{
	struct fv_texp_free f = { .handle = handle };

	return ioctl(texp, FV_TEXP_IOC_FREE, &f) ? errno : 0;
}

static int fvtc_dyn_attach_map(int fvtc, int dmabuf, __u32 *id)
{
	struct fvtc_dyn_attach a = { .fd = dmabuf };
	struct fvtc_dyn_map m = { .dir = FVTI_DIR_TO_DEVICE };

	if (ioctl(fvtc, FVTC_DYN_ATTACH, &a))
		return errno;
	*id = a.id;
	m.id = a.id;
	if (ioctl(fvtc, FVTC_DYN_MAP, &m)) {
		int err = errno;

		ioctl(fvtc, FVTC_DYN_DETACH, id);
		return err;
	}
	return 0;
}

struct nth_stats {
	unsigned int points, failed, recovered;
	unsigned int by_errno[4];	/* ENOMEM, EFAULT, other allowed, the refusal */
};

/* What an iteration works on besides the fixture */
struct nth_ctx {
	uint32_t slot;		/* the import OP_DEVICE_MAP / OP_KERNEL_VMAP use */
	int dmabuf;		/* the dma-buf the OP_DMABUF_* ops use */
	/* OP_TEXP_REVOKE, OP_TEXP_DESTROY: a fresh buffer each time */
	struct fv_texp_alloc buf;
	void *buf_map;
	uint32_t buf_slot;
};

/* Before arming: what the call needs that is not its own work */
static void nth_prepare(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
			enum nth_op op, struct nth_ctx *c)
{
	if (op != OP_TEXP_REVOKE && op != OP_TEXP_DESTROY)
		return;
	ASSERT_EQ(0, texp_alloc(self->texp, TEXP_PAGES, 2, &c->buf));
	if (op == OP_TEXP_DESTROY)
		return;
	/* revoke with a mapping and an importer: framevec_revoke() runs */
	c->buf_map = mmap(NULL, TEXP_PAGES * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->texp, c->buf.mmap_offset);
	ASSERT_NE(MAP_FAILED, c->buf_map);
	ASSERT_EQ(0, nth_touch(c->buf_map, TEXP_PAGES * FV_PAGE));
	ASSERT_EQ(0, fvti_import(self->fvti, c->buf_map, TEXP_PAGES * FV_PAGE,
				 FVTI_IMPORT_WRITE, &c->buf_slot));
}

/* One call with fail-nth armed at @n (0: not armed): the errno and *reached */
static int nth_call(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
		    enum nth_op op, unsigned int n, struct nth_ctx *c, int *reached)
{
	struct fv_texp_alloc a;
	void *m = NULL;
	uint32_t id = 0;
	int err = EINVAL, fd = -1;
	long cnt = 0;

	nth_prepare(_metadata, self, op, c);
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
		err = fvti_map(self->fvti, c->slot, FVTI_DIR_BIDIRECTIONAL);
		break;
	case OP_KERNEL_VMAP:
		err = ioctl(self->fvti, FVTI_IOC_VMAP, &c->slot) ? errno : 0;
		break;
	case OP_DMABUF_MAP:
		cnt = fvti_pfns(self->fvti, c->dmabuf, 0, NULL, 0);
		err = cnt < 0 ? -cnt : 0;
		break;
	case OP_DMABUF_DYN_MAP:
		err = fvtc_dyn_attach_map(self->fvtc, c->dmabuf, &id);
		break;
	case OP_DMABUF_MMAP_FAULT:
		err = nth_map_touch(c->dmabuf, 0, self->len, &m);
		break;
	case OP_TEXP_CREATE:
		err = texp_alloc(self->texp, TEXP_PAGES, 2, &a);
		break;
	case OP_TEXP_MMAP_FAULT:
		err = nth_map_touch(self->texp, self->texp_off, TEXP_PAGES * FV_PAGE, &m);
		break;
	case OP_TEXP_REVOKE:
		err = ioctl(self->texp, FV_TEXP_IOC_REVOKE, &c->buf.handle) ? errno : 0;
		break;
	case OP_TEXP_DESTROY:
		err = texp_free(self->texp, c->buf.handle);
		break;
	}
	*reached = nth_disarm(self->nth);
	ASSERT_LE(0, *reached) TH_LOG("reading %s: %s", FAIL_NTH, strerror(-*reached));

	/* undo what worked, so that every iteration starts alike */
	if (m)
		ASSERT_EQ(0, munmap(m, op == OP_DMABUF_MMAP_FAULT ? self->len :
				    TEXP_PAGES * FV_PAGE));
	/* the buffer of the driver calls goes whatever happened */
	if (op == OP_TEXP_REVOKE) {
		ASSERT_EQ(0, fvti_release(self->fvti, c->buf_slot));
		ASSERT_EQ(0, munmap(c->buf_map, TEXP_PAGES * FV_PAGE));
		ASSERT_EQ(0, texp_free(self->texp, c->buf.handle));
	} else if (op == OP_TEXP_DESTROY && err) {
		ASSERT_EQ(0, texp_free(self->texp, c->buf.handle));
	}
	if (err)
		return err;
	switch (op) {
	case OP_IOC_IMPORT:
		close(fd);
		break;
	case OP_KERNEL_IMPORT:
		ASSERT_EQ(0, fvti_release(self->fvti, id));
		break;
	case OP_DEVICE_MAP:
		ASSERT_EQ(0, fvti_unmap(self->fvti, c->slot));
		break;
	case OP_DMABUF_MAP:
		ASSERT_LT(0, cnt);
		break;
	case OP_DMABUF_DYN_MAP:
		ASSERT_EQ(0, ioctl(self->fvtc, FVTC_DYN_UNMAP, &id));
		ASSERT_EQ(0, ioctl(self->fvtc, FVTC_DYN_DETACH, &id));
		break;
	case OP_TEXP_CREATE:
		ASSERT_EQ(0, texp_free(self->texp, a.handle));
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Sweep @op over every failure point it reaches. The counters, the
 * exporter's live buffers and the next free fd are taken before: they
 * include what @c refers to.
 */
static void nth_sweep(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
		      const FIXTURE_VARIANT(nth) *variant, enum nth_op op, struct nth_ctx *c)
{
	struct nth_stats st = { 0 };
	struct fv_counters before, now;
	int fd_before, err, err0, reached;
	long pins_before, bufs_before;
	__u64 live_before;
	char why[256];
	unsigned int n;

	ASSERT_EQ(0, fv_read_counters(&before));
	live_before = texp_live();
	pins_before = foll_pins();
	bufs_before = dmabufs_total();
	fd_before = next_fd();
	/* unarmed: its answer for this memory (0, or the documented refusal) */
	err0 = nth_call(_metadata, self, op, 0, c, &reached);
	if (err0)
		ksft_print_msg("%s refuses this memory: %s; sweeping the refusal\n",
			       op_names[op], strerror(err0));
	for (n = 1; n < NTH_MAX; n++) {
		if (variant->mem == NTH_ANON_FAULT)	/* fault in anew every time */
			ASSERT_EQ(0, madvise(self->mem, self->len, MADV_DONTNEED));
		err = nth_call(_metadata, self, op, n, c, &reached);
		ASSERT_EQ(0, fv_read_counters(&now));
		ASSERT_FALSE(counters_differ(&before, &now, why, sizeof(why)))
			TH_LOG("%s with failure point %u (%s): counters not back:%s",
			       op_names[op], n, err ? strerror(err) : "succeeded", why);
		ASSERT_EQ(pins_before, foll_pins())
			TH_LOG("%s with failure point %u (%s): pinned pages not back (nr_foll_pin_*)",
			       op_names[op], n, err ? strerror(err) : "succeeded");
		ASSERT_EQ(bufs_before, dmabufs_total())
			TH_LOG("%s with failure point %u (%s): live dma-bufs not back (bufinfo)",
			       op_names[op], n, err ? strerror(err) : "succeeded");
		ASSERT_EQ(live_before, texp_live())
			TH_LOG("%s with failure point %u (%s): the exporter's buffers not back",
			       op_names[op], n, err ? strerror(err) : "succeeded");
		ASSERT_EQ(fd_before, next_fd())
			TH_LOG("%s with failure point %u (%s) left a file descriptor behind",
			       op_names[op], n, err ? strerror(err) : "succeeded");
		if (!reached) {
			/* the call has fewer than n points: done */
			ASSERT_EQ(err0, err) TH_LOG("%s without injection: %s, before: %s",
						    op_names[op], strerror(err), strerror(err0));
			break;
		}
		if (err == err0) {
			/* absorbed (a fallback, a retry), or refused all the same */
			if (err)
				st.by_errno[3]++;
			else
				st.recovered++;
			continue;
		}
		ASSERT_TRUE(nth_errno_ok(err))
			TH_LOG("%s with failure point %u: errno %d (%s) for a failed allocation or copy",
			       op_names[op], n, err, strerror(err));
		st.failed++;
		st.by_errno[err == ENOMEM ? 0 : err == EFAULT ? 1 : 2]++;
	}
	ASSERT_LT(n, NTH_MAX) TH_LOG("%s still reaches failure point %u", op_names[op], n);
	st.points = n - 1;
	ksft_print_msg("%s: %u failure points: %u failed the call (ENOMEM %u, EFAULT %u, other %u), %u absorbed, %u refused as without injection\n",
		       op_names[op], st.points, st.failed, st.by_errno[0], st.by_errno[1],
		       st.by_errno[2], st.recovered, st.by_errno[3]);
	if (op_cannot_fail(op)) {
		ASSERT_EQ(st.failed, st.by_errno[1]) TH_LOG("%s failed", op_names[op]);
		return;
	}
	if (err0)
		return;		/* a refusal may come before any point */
	/* it must have reached a point at all, and failed at one */
	ASSERT_LT(0, st.points);
	ASSERT_LT(0, st.failed);
}

static void *nth_map_fixed(void *at, size_t len, int fd)
{
	return mmap(at, len, PROT_READ | PROT_WRITE,
		    fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE :
		    MAP_SHARED | MAP_FIXED, fd, 0);
}

/* resource2 of QEMU's ivshmem-plain device (1af4:1110), or -1 */
static int ivshmem_bar_open(void)
{
	char path[300];
	glob_t g;
	size_t i;
	int fd = -1;

	if (glob("/sys/bus/pci/devices/*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		unsigned int v = 0, d = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/vendor", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%x", &v) != 1)
			v = 0;
		fclose(f);
		snprintf(path, sizeof(path), "%s/device", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%x", &d) != 1)
			d = 0;
		fclose(f);
		if (v != 0x1af4 || d != 0x1110)
			continue;
		snprintf(path, sizeof(path), "%s/enable", g.gl_pathv[i]);
		fv_write_file(path, "1");
		snprintf(path, sizeof(path), "%s/resource2", g.gl_pathv[i]);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	globfree(&g);
	return fd;
}

/* A small format, so that a vb2 buffer is a few pages */
static int vivid_small_format(void)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int fd = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE), ret;

	if (fd < 0)
		return ENODEV;
	ret = ioctl(fd, VIDIOC_G_FMT, &f) ? errno : 0;
	if (!ret) {
		f.fmt.pix.width = 64;
		f.fmt.pix.height = 64;
		f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		ret = ioctl(fd, VIDIOC_S_FMT, &f) ? errno : 0;
	}
	close(fd);
	return ret;
}

FIXTURE_SETUP(nth)
{
	struct fv_texp_alloc a;
	char *at;

	self->nth = -1;
	self->fvti = self->fvtc = self->texp = -1;
	self->heap_fd = self->udma_fd = self->res_fd = -1;
	self->devfd = -1;
	self->cap.fd = -1;
	if (access(FAIL_NTH, F_OK))
		SKIP(return, "no %s: the kernel lacks CONFIG_FAULT_INJECTION (make check-debug)",
		     FAIL_NTH);
	nth_setup_injection();
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	ASSERT_EQ(0, fv_read_counters(&self->base));
	self->texp_live = texp_live();
	self->pins = foll_pins();
	self->dmabufs = dmabufs_total();
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	if (access(FVTI_DEV, F_OK))
		ASSERT_EQ(0, system("modprobe fv_test_importer"));
	self->fvti = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fvti);
	self->fvtc = open(FVTC_DEV, O_RDWR | O_CLOEXEC);	/* the dynamic importer */
	self->texp = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);

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
		FV_SKIP_WITHOUT_THP(return);
		/*
		 * Two huge pages, 2 MiB aligned inside a 6 MiB reservation:
		 * 1024 pages are two pin batches (source_pages.c), so a
		 * failure of the second unwinds the pins of the first.
		 */
		self->map_len = 3 * SZ_2M;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = (char *)(((uintptr_t)self->map + SZ_2M - 1) & ~(SZ_2M - 1));
		self->len = 2 * SZ_2M;
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
	case NTH_VB2:
		/* a dma-contig MMAP buffer of vivid (allocators=1) */
		ASSERT_EQ(0, vivid_small_format()) TH_LOG("modprobe vivid n_devs=1 allocators=1");
		ASSERT_EQ(0, vivid_cap_start(&self->cap, 0, 2, NULL));
		self->mem = self->cap.map[0];
		self->len = self->cap.maplen;
		break;
	case NTH_IOMEM:
		/* a RAM buffer of the iomem exporter, two ranges */
		ASSERT_LE(0, self->texp) TH_LOG("modprobe fv_test_exporter");
		ASSERT_EQ(0, texp_alloc(self->texp, TEXP_PAGES, 2, &a));
		self->texp_handle = a.handle;
		self->texp_off = a.mmap_offset;
		self->len = self->map_len = TEXP_PAGES * FV_PAGE;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->texp, a.mmap_offset);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = self->map;
		fv_fill(self->mem, self->len, 4);
		break;
	case NTH_REVOCABLE:
		/* a VM_PFNMAP no source holds: QEMU ivshmem-plain's BAR 2 */
		self->res_fd = ivshmem_bar_open();
		ASSERT_LE(0, self->res_fd) TH_LOG("no ivshmem-plain device; VM_PROFILE=ivshmem");
		self->len = self->map_len = REV_PAGES * FV_PAGE;
		self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->res_fd, 0);
		ASSERT_NE(MAP_FAILED, self->map);
		self->mem = self->map;
		fv_fill(self->mem, self->len, 5);
		break;
	}
}

/* FV_NTH_KMEMLEAK=1: kmemleak after this test, its reports fail it */
static void nth_kmemleak(struct __test_metadata *_metadata)
{
	char line[256];
	int leaks = 0;
	FILE *f;

	if (!getenv("FV_NTH_KMEMLEAK") || access(KMEMLEAK, W_OK))
		return;
	sleep(5);	/* kmemleak reports objects older than 5 s */
	fv_write_file(KMEMLEAK, "scan");
	fv_write_file(KMEMLEAK, "scan");
	f = fopen(KMEMLEAK, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (leaks++ < 40)
			ksft_print_msg("kmemleak: %s", line);
	}
	fclose(f);
	fv_write_file(KMEMLEAK, "clear");
	EXPECT_EQ(0, leaks);
}

FIXTURE_TEARDOWN(nth)
{
	if (self->nth < 0)
		return;		/* skipped */
	if (self->cap.fd >= 0)
		vivid_cap_stop(&self->cap);
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, self->map_len);
	if (self->texp_handle)
		texp_free(self->texp, self->texp_handle);
	if (self->heap_fd >= 0)
		close(self->heap_fd);
	if (self->udma_fd >= 0)
		close(self->udma_fd);
	if (self->res_fd >= 0)
		close(self->res_fd);
	if (self->texp >= 0)
		close(self->texp);
	if (self->fvtc >= 0)
		close(self->fvtc);
	if (self->fvti >= 0)
		close(self->fvti);
	if (self->devfd >= 0)
		close(self->devfd);
	close(self->nth);
	ASSERT_AT_BASELINE(&self->base);
	EXPECT_EQ(self->texp_live, texp_live());
	/* a reference a failed call kept on the memory's owner shows now */
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(self->dmabufs, dmabufs_total());
	nth_kmemleak(_metadata);
}

/* An import of the whole range by fv_test_importer, for the ops that use one */
static void nth_slot_import(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
			      struct nth_ctx *c)
{
	ASSERT_EQ(0, fvti_import(self->fvti, self->mem, self->len, FVTI_IMPORT_WRITE, &c->slot));
}

/* framevec's dma-buf of the range, for the dma-buf ops */
static void nth_dmabuf(struct __test_metadata *_metadata, FIXTURE_DATA(nth) *self,
		       const FIXTURE_VARIANT(nth) *variant, struct nth_ctx *c)
{
	ASSERT_IMPORT_OK(self->devfd, self->mem, self->len, FRAMEVEC_IMPORT_WRITE, &c->dmabuf);
}

/* The ioctl: copy in, judge and reference the range, export, install an fd */
TEST_F_TIMEOUT(nth, ioc_import, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };
	int fd;

	nth_sweep(_metadata, self, variant, OP_IOC_IMPORT, &c);
	if (variant->mem == NTH_REVOCABLE)
		return;		/* swept the refusal */
	/* afterwards the import works and sees the memory */
	ASSERT_IMPORT_OK(self->devfd, self->mem, self->len, FRAMEVEC_IMPORT_WRITE, &fd);
	if (!variant->revocable)	/* mapped; the dma-buf source holds heap and udmabuf */
		ASSERT_EQ((long)(self->len / FV_PAGE), fvti_pfns(self->fvti, fd, 0, NULL, 0));
	close(fd);
}

/* Explain: judge every VMA of the range, copy the entries out */
TEST_F_TIMEOUT(nth, ioc_explain, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	nth_sweep(_metadata, self, variant, OP_IOC_EXPLAIN, &c);
}

/* The kernel API: framevec_import() with a revoke callback */
TEST_F_TIMEOUT(nth, kernel_import, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	nth_sweep(_metadata, self, variant, OP_KERNEL_IMPORT, &c);
}

/* framevec_map() of an import for the importer's device */
TEST_F_TIMEOUT(nth, device_map, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	nth_slot_import(_metadata, self, &c);
	nth_sweep(_metadata, self, variant, OP_DEVICE_MAP, &c);
	ASSERT_EQ(0, fvti_release(self->fvti, c.slot));
}

/* framevec_vmap() of an import (what the dma-buf's .vmap calls) */
TEST_F_TIMEOUT(nth, kernel_vmap, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	nth_slot_import(_metadata, self, &c);
	nth_sweep(_metadata, self, variant, OP_KERNEL_VMAP, &c);
	ASSERT_EQ(0, fvti_release(self->fvti, c.slot));
}

/*
 * Another driver attaches to framevec's dma-buf and maps it: statically
 * (fv_test_importer), or dynamically (fv_test_consumer) for memory that can
 * be revoked, which static importers cannot take.
 */
TEST_F_TIMEOUT(nth, dmabuf_map, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	if (variant->mem == NTH_REVOCABLE)
		SKIP(return, "/dev/framevec refuses this memory (EOPNOTSUPP): no dma-buf");
	nth_dmabuf(_metadata, self, variant, &c);
	if (variant->revocable) {
		ASSERT_LE(0, self->fvtc) TH_LOG("modprobe fv_test_consumer");
		nth_sweep(_metadata, self, variant, OP_DMABUF_DYN_MAP, &c);
	} else {
		nth_sweep(_metadata, self, variant, OP_DMABUF_MAP, &c);
	}
	close(c.dmabuf);
}

/* mmap() of framevec's dma-buf and the fault that maps it (a SIGBUS is EFAULT) */
TEST_F_TIMEOUT(nth, dmabuf_mmap_fault, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	if (variant->mem == NTH_REVOCABLE)
		SKIP(return, "/dev/framevec refuses this memory (EOPNOTSUPP): no dma-buf");
	nth_dmabuf(_metadata, self, variant, &c);
	nth_sweep(_metadata, self, variant, OP_DMABUF_MMAP_FAULT, &c);
	close(c.dmabuf);
}

/* The iomem exporter's own API, as a driver (fv_test_exporter) calls it */
#define NTH_TEXP_ONLY() do {							\
	if (variant->mem != NTH_IOMEM)						\
		SKIP(return, "the iomem exporter's API is swept in the iomem variant");	\
} while (0)

/* FV_TEXP_IOC_ALLOC: framevec_iomem_create() with two ranges */
TEST_F_TIMEOUT(nth, texp_create, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	NTH_TEXP_ONLY();
	nth_sweep(_metadata, self, variant, OP_TEXP_CREATE, &c);
}

/* mmap() of an exporter buffer (framevec_iomem_mmap()) and its fault */
TEST_F_TIMEOUT(nth, texp_mmap_fault, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	NTH_TEXP_ONLY();
	nth_sweep(_metadata, self, variant, OP_TEXP_MMAP_FAULT, &c);
}

/* framevec_iomem_revoke() of a buffer that is mapped and imported */
TEST_F_TIMEOUT(nth, texp_revoke, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	NTH_TEXP_ONLY();
	nth_sweep(_metadata, self, variant, OP_TEXP_REVOKE, &c);
}

/* FV_TEXP_IOC_FREE: the driver's last reference goes, the object with it */
TEST_F_TIMEOUT(nth, texp_destroy, NTH_TIMEOUT)
{
	struct nth_ctx c = { 0 };

	NTH_TEXP_ONLY();
	nth_sweep(_metadata, self, variant, OP_TEXP_DESTROY, &c);
}

static void __attribute__((constructor)) nth_signals(void)
{
	struct sigaction sa = { .sa_handler = nth_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

TEST_HARNESS_MAIN
