// SPDX-License-Identifier: GPL-2.0
/*
 * Races under load (issue 9 item 4): hostile threads and processes against
 * framevec while stress-ng churns memory (vm, mmap, mremap, pagemove) and a
 * thread keeps compacting (page migration). Each race runs for
 * FV_RACE_SECONDS (default 45 s, 30 s on the debug kernel: kmemleak=on).
 *
 *   import_vs_unmap_and_fork: imports (FRAMEVEC_IOC_IMPORT and the in-kernel
 *	framevec_import()/release() of fv_test_importer) of a range that other
 *	threads munmap, MAP_FIXED-remap, mprotect and madvise(MADV_DONTNEED),
 *	while a thread forks children that touch and import it too. Allowed
 *	errnos: EFAULT (a hole) and EACCES (PROT_NONE, or a write import of
 *	read-only memory); anything else fails. Memory imported before the
 *	importer unmaps, remaps, drops or protects it must still hold what was
 *	written.
 *   fault_vs_revoke_and_reqbufs: threads fault in framevec dma-buf mmaps
 *	while their owners take the memory away: fv_test_exporter revokes
 *	(SIGBUS there is expected, in the faulter and in a child that inherited
 *	its mapping; the freed memory must keep its poison: no write got
 *	through after the revoke) and vivid (dma-contig) drops its
 *	buffers with STREAMOFF, REQBUFS(0), munmap, close (no SIGBUS allowed:
 *	framevec holds the vb2 buffer, whose data must stay).
 *   import_vs_revoke_and_move_notify: threads import an exporter buffer
 *	(both front ends) and a dma-heap buffer while the exporter revokes its
 *	buffer (framevec's dma-buf then sends move_notify to a dynamic importer
 *	of fv_test_consumer) and the heap buffer's owner unmaps and closes it.
 *	Importers also release what they hold at random moments, the revoke
 *	running or not. Imports succeed or fail with ENODEV (revoked) / EFAULT
 *	(heap unmapped); every in-kernel import alive at the revoke was told;
 *	the heap data seen through framevec is the owner's.
 *
 * Address discipline: while a race runs no thread maps at a kernel-chosen
 * address where another thread makes holes (races 1 and 3): every mapping
 * goes with MAP_FIXED into a window the thread reserved beforehand, so a
 * hole is only ever refilled by the thread that made it.
 *
 * Guest: modprobe vivid n_devs=1 allocators=1; fv_test_exporter,
 * fv_test_importer, fv_test_consumer.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "pfnmap_helpers.h"
#include "../modules/fv_test_consumer.h"
#include "../modules/fv_test_exporter.h"

#define STRESS_NG	"/usr/bin/stress-ng"
#define COMPACT		"/proc/sys/vm/compact_memory"
#define FV_IOMEM	"/sys/kernel/debug/framevec/iomem"

#define ARENA_PAGES	64
#define MAX_IMPORT	8	/* pages per arena import */
#define HELD_PAGES	4
#define EBUF_PAGES	8
#define HEAP_PAGES	16
#define NR_ERRNO	140

/* ---- time, randomness, signals ---- */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned int rnd(unsigned int *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Seconds each race runs: FV_RACE_SECONDS, else 30 on the debug kernel, else 45 */
static int race_seconds(void)
{
	const char *env = getenv("FV_RACE_SECONDS");

	if (env && atoi(env) > 0)
		return atoi(env);
	return fv_on_debug_kernel() ? 30 : 45;
}

/* SIGBUS/SIGSEGV of an armed thread jump back to its sigsetjmp() */
static __thread sigjmp_buf fault_jmp;
static __thread volatile sig_atomic_t fault_armed;

static void fault_handler(int sig)
{
	if (fault_armed) {
		fault_armed = 0;
		siglongjmp(fault_jmp, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_fault_handlers(void)
{
	struct sigaction sa = { .sa_handler = fault_handler };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Run @body; @sigvar is 0, or the SIGBUS/SIGSEGV that cut it short */
#define GUARDED(sigvar, body) do {						\
	(sigvar) = sigsetjmp(fault_jmp, 1);					\
	if (!(sigvar)) {							\
		fault_armed = 1;						\
		body;								\
		fault_armed = 0;						\
	}									\
} while (0)

/* Write the first byte of every page (faults, breaks COW) */
static void poke_pages(volatile unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += FV_PAGE)
		p[i]++;
}

/* Read a word of every cache line */
static uint32_t read_lines(const volatile uint32_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len / 4; i += 16)
		sum += p[i];
	return sum;
}

/* A PROT_NONE reservation (or re-reservation over whatever is at @at) */
static void *reserve(void *at, size_t len)
{
	return mmap(at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		    (at ? MAP_FIXED : 0), -1, 0);
}

static void *map_fd_at(void *at, size_t len, int prot, int fd)
{
	return mmap(at, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
}

/* ---- errno bookkeeping: counts per errno, and the unexpected ones ---- */

struct tally {
	atomic_long ok;
	atomic_long err[NR_ERRNO];
	atomic_long unexpected;
	atomic_int last_unexpected;
	atomic_int unexpected_where;
};

/* @allowed: zero-terminated list of errnos this call may fail with */
static void tally(struct tally *t, int ret, const int *allowed, int where)
{
	if (!ret) {
		atomic_fetch_add(&t->ok, 1);
		return;
	}
	if (ret > 0 && ret < NR_ERRNO)
		atomic_fetch_add(&t->err[ret], 1);
	for (; *allowed; allowed++)
		if (*allowed == ret)
			return;
	atomic_fetch_add(&t->unexpected, 1);
	atomic_store(&t->last_unexpected, ret);
	atomic_store(&t->unexpected_where, where);
}

#define TALLY_LOG(name, t) \
	TH_LOG("%s: %ld ok, %ld EFAULT, %ld EACCES, %ld ENODEV, %ld unexpected (last %s at %d)", \
	       name, (long)(t)->ok, (long)(t)->err[EFAULT], (long)(t)->err[EACCES], \
	       (long)(t)->err[ENODEV], (long)(t)->unexpected, \
	       strerror((t)->last_unexpected), (t)->unexpected_where)

/* ---- background load ---- */

static pid_t start_stress(int seconds)
{
	char t[32];
	pid_t pid;

	if (access(STRESS_NG, X_OK))
		return -1;
	snprintf(t, sizeof(t), "%ds", seconds + 30);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (chdir("/tmp") && chdir("/"))
			_exit(126);
		execl(STRESS_NG, STRESS_NG, "--vm", "1", "--vm-bytes", "96M",
		      "--mmap", "1", "--mmap-bytes", "32M",
		      "--mremap", "1", "--mremap-bytes", "16M",
		      "--pagemove", "1", "--pagemove-bytes", "16M",
		      "-t", t, "--quiet", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* Stop the whole stress-ng process group; 0 if it was still running */
static int stop_stress(pid_t pid)
{
	int status, i;

	if (pid <= 0)
		return -1;
	kill(-pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	kill(-pid, SIGKILL);
	if (i == 100)
		waitpid(pid, &status, 0);
	/* its workers too */
	for (i = 0; i < 100 && !kill(-pid, 0); i++)
		usleep(50000);
	return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -1 : 0;
}

static atomic_int compact_stop;
static atomic_long compactions;

/* Page migration: compact memory over and over while a race runs */
static void *compactor(void *arg)
{
	while (!atomic_load(&compact_stop)) {
		if (fv_write_file(COMPACT, "1") == 0)
			atomic_fetch_add(&compactions, 1);
		usleep(200000);
	}
	return NULL;
}

/* ---- the exporter and importers ---- */

struct ebuf {
	__u32 handle;
	size_t len;
	unsigned char *map;
};

static int ebuf_alloc(int texpfd, unsigned int pages, void *at, struct ebuf *b)
{
	struct fv_texp_alloc a = { .nr_pages = pages, .nr_chunks = 1 };

	memset(b, 0, sizeof(*b));
	if (ioctl(texpfd, FV_TEXP_IOC_ALLOC, &a))
		return errno;
	b->handle = a.handle;
	b->len = (size_t)pages * FV_PAGE;
	b->map = mmap(at, b->len, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0),
		      texpfd, a.mmap_offset);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return errno;
	}
	return 0;
}

static int texp_revoke(int texpfd, __u32 handle)
{
	return ioctl(texpfd, FV_TEXP_IOC_REVOKE, &handle) ? errno : 0;
}

static int texp_quarantine(int texpfd, __u32 handle)
{
	struct fv_texp_free f = {
		.handle = handle, .flags = FV_TEXP_FREE_NOW | FV_TEXP_FREE_QUARANTINE,
	};

	return ioctl(texpfd, FV_TEXP_IOC_FREE, &f) ? errno : 0;
}

/* Bytes of the quarantined memory that lost the poison (then freed), or -1 */
static long texp_poison_changed(int texpfd, __u32 handle)
{
	struct fv_texp_check_freed c = { .handle = handle };

	if (ioctl(texpfd, FV_TEXP_IOC_CHECK_FREED, &c))
		return -1;
	return c.changed;
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

static long iomem_objects(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen(FV_IOMEM, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "objects %ld", &n);
	fclose(f);
	return n;
}

/* ---- the fixture: load, baselines ---- */

FIXTURE(races) {
	int devfd;
	int seconds;
	int fds;
	pid_t stress;
	pthread_t compactor;
	int heap_bufs;
	long iomem_objects;
	struct fv_texp_stats tbase;
	struct fv_counters base;
};

FIXTURE_SETUP(races)
{
	self->stress = -1;
	self->seconds = race_seconds();
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, texp_stats(&self->tbase)) TH_LOG("modprobe fv_test_exporter");
	ASSERT_EQ(0, access(FVTI_DEV, R_OK)) TH_LOG("modprobe fv_test_importer");
	ASSERT_EQ(0, access(FVTC_DEV, R_OK)) TH_LOG("modprobe fv_test_consumer");
	self->heap_bufs = dmabuf_count("system");
	self->iomem_objects = iomem_objects();
	self->fds = fv_count_fds();
	install_fault_handlers();
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);

	self->stress = start_stress(self->seconds);
	ASSERT_LT(0, self->stress) TH_LOG("no %s in the guest", STRESS_NG);
	sleep(1);
	ASSERT_EQ(0, waitpid(self->stress, NULL, WNOHANG)) TH_LOG("stress-ng did not start");
	atomic_store(&compact_stop, 0);
	atomic_store(&compactions, 0);
	ASSERT_EQ(0, pthread_create(&self->compactor, NULL, compactor, NULL));
	TH_LOG("racing for %d s under stress-ng (vm, mmap, mremap, pagemove) and compaction",
	       self->seconds);
}

FIXTURE_TEARDOWN(races)
{
	struct fv_texp_stats st;

	if (self->stress > 0) {
		atomic_store(&compact_stop, 1);
		pthread_join(self->compactor, NULL);
		EXPECT_EQ(0, stop_stress(self->stress)) TH_LOG("stress-ng did not start");
		TH_LOG("%ld compactions ran", (long)atomic_load(&compactions));
	}
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
	EXPECT_EQ(self->fds, fv_count_fds());
	EXPECT_EQ(self->heap_bufs, dmabuf_count("system"));
	EXPECT_EQ(self->iomem_objects, iomem_objects());
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
}

/* ==== race 1: import and release against munmap, remap, mprotect, madvise, fork ==== */

struct race1 {
	int devfd;
	unsigned char *arena;
	atomic_int stop;
	struct tally user, kern, child_imports;
	atomic_long hostile_ops, held_checks, data_lost, pfn_mismatch, map_errors;
	atomic_long held_import_errors;
	atomic_int lost_where, lost_word, held_errno;
	atomic_long children, bad_children, child_status;
};

static const int arena_errnos[] = { EFAULT, EACCES, 0 };

/*
 * A thread of a race. Its windows are reserved by the main thread before
 * any thread starts, so they never land in a hole another thread made.
 */
struct worker {
	void *r;
	int id;
	unsigned int seed;
	unsigned char *win, *own;
};

/*
 * The first word of the fv_fill() pattern of @seed that differs, or -1. The
 * arena's owners write the first byte of its pages (hostile(), children of
 * a MAP_SHARED piece), legitimately: with @skip_first, the first word of
 * each page is not checked.
 */
static long first_bad_word(const void *m, size_t len, unsigned int seed, int skip_first)
{
	const uint32_t *p = m;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (!(skip_first && !(i % (FV_PAGE / 4))) &&
		    p[i] != seed * 2654435761u + (uint32_t)i)
			return i;
	return -1;
}

/* Where the data went wrong: what the first bad word holds instead */
static void data_lost(struct race1 *r, int where, const void *m, long i)
{
	const uint32_t *p = m;

	atomic_fetch_add(&r->data_lost, 1);
	atomic_store(&r->lost_where, where);
	atomic_store(&r->lost_word, (int)(i << 16 | (p[i] & 0xffff)));
}

static void *hostile(void *arg)
{
	struct worker *w = arg;
	struct race1 *r = w->r;
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	int sig;

	while (!atomic_load(&r->stop)) {
		unsigned int off = rnd(&w->seed) % ARENA_PAGES;
		unsigned int max = ARENA_PAGES - off < 16 ? ARENA_PAGES - off : 16;
		unsigned int n = 1 + rnd(&w->seed) % max;
		unsigned char *at = r->arena + off * FV_PAGE;
		int anon = MAP_ANONYMOUS | MAP_FIXED;
		size_t len = n * FV_PAGE;

		switch (rnd(&w->seed) % 8) {
		case 0:
			munmap(at, len);
			break;
		case 1:
		case 2:
			mmap(at, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | anon | (rnd(&w->seed) & 1 ? MAP_POPULATE : 0), -1, 0);
			break;
		case 3:
			mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | anon, -1, 0);
			break;
		case 4:
			mprotect(at, len, prots[rnd(&w->seed) % 3]);
			break;
		case 5:
			madvise(at, len, MADV_DONTNEED);
			break;
		default:	/* write the first byte of each page: faults, COW after a fork */
			GUARDED(sig, poke_pages(at, len));
			break;
		}
		atomic_fetch_add(&r->hostile_ops, 1);
	}
	return NULL;
}

/*
 * Import [@p, @p + @n pages) through the dma-buf, write @seed through it, map
 * it again and check. Returns the import's errno.
 */
static int import_and_use(struct race1 *r, void *win, void *p, unsigned int n, int write,
			  unsigned int seed)
{
	size_t len = n * FV_PAGE;
	volatile uint32_t sum = 0;
	int fd, ret, sig;
	long bad = -1;
	void *m;

	ret = fv_import(r->devfd, p, len, write ? FRAMEVEC_IMPORT_WRITE : 0, &fd);
	if (ret)
		return ret;
	m = map_fd_at(win, len, write ? PROT_READ | PROT_WRITE : PROT_READ, fd);
	if (m == MAP_FAILED) {
		atomic_fetch_add(&r->map_errors, 1);
	} else if (write) {
		fv_fill(m, len, seed);
		reserve(win, len);
		m = map_fd_at(win, len, PROT_READ, fd);
		if (m == MAP_FAILED)
			atomic_fetch_add(&r->map_errors, 1);
		else
			bad = first_bad_word(m, len, seed, 1);
		if (bad >= 0)
			data_lost(r, 1, m, bad);
	} else {
		GUARDED(sig, sum += read_lines(m, len));
		if (sig)	/* pinned pages behind a framevec mmap never fault */
			atomic_fetch_add(&r->map_errors, 1);
	}
	reserve(win, MAX_IMPORT * FV_PAGE);
	close(fd);
	return 0;
}

/* In-kernel import and release of the same kind of range */
static int kimport(struct race1 *r, int tifd, void *p, unsigned int n, int write)
{
	uint64_t pfns[MAX_IMPORT];
	uint32_t id = 0;
	int ret;

	ret = fvti_import(tifd, p, n * FV_PAGE, write ? FVTI_IMPORT_WRITE : 0, &id);
	if (ret)
		return ret;
	if (fvti_pfns(tifd, -1, id, pfns, MAX_IMPORT) != n)
		atomic_fetch_add(&r->pfn_mismatch, 1);
	if (fvti_map(tifd, id, write ? FVTI_DIR_BIDIRECTIONAL : FVTI_DIR_TO_DEVICE) ||
	    fvti_unmap(tifd, id))
		atomic_fetch_add(&r->map_errors, 1);
	if (fvti_release(tifd, id))
		atomic_fetch_add(&r->map_errors, 1);
	return 0;
}

/*
 * Memory this thread owns: written, imported, then unmapped, replaced,
 * dropped or protected by its owner. The import still holds what was
 * written, and the in-kernel import the same frames.
 */
static void held_check(struct race1 *r, struct worker *w, int tifd, unsigned char *own,
		       void *win)
{
	size_t len = HELD_PAGES * FV_PAGE;
	uint64_t before[HELD_PAGES], after[HELD_PAGES];
	unsigned int seed = rnd(&w->seed);
	uint32_t id = 0;
	int fd, kret, op;
	long bad = -1;
	void *m;

	if (mmap(own, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED) {
		atomic_fetch_add(&r->map_errors, 1);
		return;
	}
	fv_fill(own, len, seed);
	kret = fv_import(r->devfd, own, len, FRAMEVEC_IMPORT_WRITE, &fd);
	if (kret) {
		atomic_fetch_add(&r->held_import_errors, 1);
		atomic_store(&r->held_errno, kret);
		return;
	}
	kret = fvti_import(tifd, own, len, FVTI_IMPORT_WRITE, &id);
	if (kret || fvti_pfns(tifd, -1, id, before, HELD_PAGES) != HELD_PAGES)
		atomic_fetch_add(&r->pfn_mismatch, 1);

	op = rnd(&w->seed) % 4;
	switch (op) {
	case 0:
		munmap(own, len);
		break;
	case 1:
		mmap(own, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		     -1, 0);
		memset(own, 0x5a, len);
		break;
	case 2:
		madvise(own, len, MADV_DONTNEED);
		memset(own, 0x5a, len);
		break;
	default:
		mprotect(own, len, PROT_NONE);
		break;
	}

	m = map_fd_at(win, len, PROT_READ, fd);
	if (m == MAP_FAILED)
		atomic_fetch_add(&r->map_errors, 1);
	else
		bad = first_bad_word(m, len, seed, 0);
	if (bad >= 0)
		data_lost(r, 10 + op, m, bad);
	if (!kret) {
		if (fvti_pfns(tifd, -1, id, after, HELD_PAGES) != HELD_PAGES ||
		    memcmp(before, after, sizeof(before)))
			atomic_fetch_add(&r->pfn_mismatch, 1);
		fvti_release(tifd, id);
	}
	reserve(win, MAX_IMPORT * FV_PAGE);
	reserve(own, len);
	close(fd);
	atomic_fetch_add(&r->held_checks, 1);
}

static void *importer(void *arg)
{
	struct worker *w = arg;
	struct race1 *r = w->r;
	unsigned char *win = w->win, *own = w->own;
	int tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	unsigned long iter = 0;

	if (tifd < 0) {
		atomic_fetch_add(&r->map_errors, 1);
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		/* each importer its half: nobody else writes there but byte 0 of a page */
		unsigned int off = rnd(&w->seed) % (ARENA_PAGES / 2 - MAX_IMPORT + 1);
		unsigned int n = 1 + rnd(&w->seed) % MAX_IMPORT;
		int write = rnd(&w->seed) & 1, ret;
		void *p = r->arena + (w->id * ARENA_PAGES / 2 + off) * FV_PAGE;

		if (w->id == 0 || (iter & 1)) {
			ret = import_and_use(r, win, p, n, write, rnd(&w->seed));
			tally(&r->user, ret, arena_errnos, 1);
		} else {
			ret = kimport(r, tifd, p, n, write);
			tally(&r->kern, ret, arena_errnos, 2);
		}
		if (!(++iter % 8))
			held_check(r, w, tifd, own, win);
	}
	close(tifd);
	return NULL;
}

/*
 * Child exit codes: 0 fine, 10 + n an unexpected errno or failure of step
 * n; a signal (SIGBUS reading its own import) shows too. A MAP_SHARED
 * piece of the arena is the parent's memory too: the child writes only the
 * first word of each page, as hostile() does, and checks no data.
 */
static int child_main(struct race1 *r, unsigned int seed)
{
	unsigned char *a = r->arena;
	unsigned int off = rnd(&seed) % (ARENA_PAGES - MAX_IMPORT);
	size_t len = (1 + rnd(&seed) % MAX_IMPORT) * FV_PAGE, i;
	int fd, ret, sig, tifd;
	volatile uint32_t sum = 0;
	uint32_t id = 0;
	void *m;

	/* touch what we inherited: COW breaks in the child */
	GUARDED(sig, poke_pages(a, ARENA_PAGES * FV_PAGE));
	ret = fv_import(r->devfd, r->arena + off * FV_PAGE, len, FRAMEVEC_IMPORT_WRITE, &fd);
	if (ret && ret != EFAULT && ret != EACCES)
		return 11;
	if (!ret) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 12;
		for (i = 0; i < len; i += FV_PAGE)
			*(volatile uint32_t *)((char *)m + i) = seed;
		for (i = 0; i < len; i += 64)
			sum += *(volatile uint32_t *)((char *)m + i);
		if (rnd(&seed) & 1)
			_exit(0);	/* exit with the import mapped and open */
		munmap(m, len);
		close(fd);
	}
	tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	if (tifd < 0)
		return 13;
	ret = fvti_import(tifd, r->arena + off * FV_PAGE, len, 0, &id);
	if (ret && ret != EFAULT && ret != EACCES)
		return 14;
	if (!ret && (rnd(&seed) & 1) && fvti_release(tifd, id))
		return 15;
	return 0;	/* the file's close releases what is left */
}

static void *forker(void *arg)
{
	struct worker *w = arg;
	struct race1 *r = w->r;
	int status;
	pid_t pid;

	while (!atomic_load(&r->stop)) {
		pid = fork();
		if (pid == 0)
			_exit(child_main(r, rnd(&w->seed) | 1));
		if (pid < 0) {
			usleep(10000);
			continue;
		}
		atomic_fetch_add(&r->children, 1);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			atomic_fetch_add(&r->bad_children, 1);
			atomic_store(&r->child_status, status);
		}
		usleep(rnd(&w->seed) % 5000);
	}
	return NULL;
}

TEST_F_TIMEOUT(races, import_vs_unmap_and_fork, 900)
{
	struct race1 *r = calloc(1, sizeof(*r));
	struct worker w[6];
	pthread_t th[6];
	double t0;
	int i;

	ASSERT_NE(NULL, r);
	r->devfd = self->devfd;
	r->arena = mmap(NULL, ARENA_PAGES * FV_PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, r->arena);
	for (i = 0; i < 6; i++) {
		w[i].r = r;
		w[i].id = i < 2 ? i : i - 2;
		w[i].seed = 0x9e3779b9u * (i + 1) + (unsigned int)time(NULL);
		w[i].win = reserve(NULL, MAX_IMPORT * FV_PAGE);
		w[i].own = reserve(NULL, HELD_PAGES * FV_PAGE);
		ASSERT_NE(MAP_FAILED, w[i].win);
		ASSERT_NE(MAP_FAILED, w[i].own);
	}
	t0 = now_s();
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL,
					    i < 2 ? importer : i < 5 ? hostile : forker, &w[i]));
	sleep(self->seconds);
	atomic_store(&r->stop, 1);
	for (i = 0; i < 6; i++)
		pthread_join(th[i], NULL);

	TH_LOG("%.1f s: %ld hostile ops, %ld children, %ld held-data checks",
	       now_s() - t0, (long)r->hostile_ops, (long)r->children, (long)r->held_checks);
	TALLY_LOG("FRAMEVEC_IOC_IMPORT", &r->user);
	TALLY_LOG("framevec_import()", &r->kern);
	/* only EFAULT (a hole) and EACCES (PROT_NONE, read-only) */
	EXPECT_EQ(0, r->user.unexpected);
	EXPECT_EQ(0, r->kern.unexpected);
	/* the race ran: imports succeeded and failed, both ways */
	EXPECT_LT(0, r->user.ok);
	EXPECT_LT(0, r->kern.ok);
	EXPECT_LT(0, r->user.err[EFAULT] + r->kern.err[EFAULT]);
	EXPECT_LT(0, r->user.err[EACCES] + r->kern.err[EACCES]);
	/* what was written is what the import holds, whatever the owner did */
	EXPECT_LT(0, r->held_checks);
	EXPECT_EQ(0, r->held_import_errors) {
		TH_LOG("importing memory nobody else touches failed: %s",
		       strerror(r->held_errno));
	}
	EXPECT_EQ(0, r->data_lost) {
		TH_LOG("the last at step %d, word %d holds ...%04x", r->lost_where,
		       r->lost_word >> 16, r->lost_word & 0xffff);
	}
	EXPECT_EQ(0, r->pfn_mismatch);
	EXPECT_EQ(0, r->map_errors);
	/* children touched, imported and exited with imports open */
	EXPECT_LT(0, r->children);
	EXPECT_EQ(0, r->bad_children) {
		TH_LOG("a child ended with status %#lx", (long)r->child_status);
	}
	munmap(r->arena, ARENA_PAGES * FV_PAGE);
	for (i = 0; i < 6; i++) {
		munmap(w[i].win, MAX_IMPORT * FV_PAGE);
		munmap(w[i].own, HELD_PAGES * FV_PAGE);
	}
	free(r);
}

/* ==== race 2: faults in framevec dma-buf mmaps against revoke and REQBUFS(0) ==== */

enum { H_EMPTY, H_OFFERED, H_TOUCHING, H_OWNER_DONE, H_FAULTER_DONE, H_QUIT };

/* An owner hands a dma-buf (a dup of the fd) to its faulter, round by round */
struct handoff {
	atomic_int state;
	int fd;
	size_t len;
	uint32_t seed;
	/* faulter's findings */
	atomic_long rounds, sigbus, enodev, bad_data, unexpected, writable_after_revoke;
	atomic_long child_sigbus, child_survived;
	atomic_int last_errno;
};

/* The faulter is at work, unless the owner is done already */
static void set_touching(struct handoff *h)
{
	int expected = H_OFFERED;

	atomic_compare_exchange_strong(&h->state, &expected, H_TOUCHING);
}

static int wait_state(struct handoff *h, int want, double timeout)
{
	double end = now_s() + timeout;

	while (atomic_load(&h->state) != want) {
		if (atomic_load(&h->state) == H_QUIT || now_s() > end)
			return -1;
		usleep(100);
	}
	return 0;
}

struct race2 {
	int devfd, texpfd;
	atomic_int stop;
	struct handoff vb2, iomem;
	/* owners' findings */
	atomic_long vb2_rounds, iomem_rounds, owner_errors, poison_lost;
	atomic_int owner_errno, owner_where;
};

static void owner_error(struct race2 *r, int where, int err)
{
	atomic_fetch_add(&r->owner_errors, 1);
	atomic_store(&r->owner_where, where);
	atomic_store(&r->owner_errno, err);
}

/* Offer @fd, let the faulter start, take the memory away with @take, wait */
static int offer(struct handoff *h, int fd, size_t len, uint32_t seed, unsigned int *rs)
{
	h->fd = dup(fd);
	h->len = len;
	h->seed = seed;
	atomic_store(&h->state, H_OFFERED);
	wait_state(h, H_TOUCHING, 2);
	usleep(rnd(rs) % 3000);
	return h->fd;
}

static int finish(struct handoff *h)
{
	atomic_store(&h->state, H_OWNER_DONE);
	if (wait_state(h, H_FAULTER_DONE, 30))
		return -1;
	atomic_store(&h->state, H_EMPTY);
	return 0;
}

/*
 * The vb2 faulter: the dma-buf holds a vivid buffer. Check what the owner
 * wrote, write another pattern while the owner drops the buffer, see it
 * again through a new mapping. No fault may fail: framevec holds the buffer.
 */
static void *vb2_faulter(void *arg)
{
	struct handoff *h = arg;
	volatile uint32_t *m;
	volatile int bad = 0;
	int sig;

	while (!wait_state(h, H_OFFERED, 1e9)) {
		size_t len = h->len, i;
		volatile int done = 0;

		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd, 0);
		if (m == MAP_FAILED) {
			atomic_fetch_add(&h->unexpected, 1);
			atomic_store(&h->last_errno, errno);
			set_touching(h);
			goto out;
		}
		GUARDED(sig, {
			if (fv_check((void *)m, len, h->seed))
				atomic_fetch_add(&h->bad_data, 1);
			set_touching(h);
			do {
				done = atomic_load(&h->state) == H_OWNER_DONE;
				for (i = 0; i < len / 4; i += 1024)
					m[i] = h->seed + 1;
			} while (!done);
			fv_fill((void *)m, len, h->seed + 1);
		});
		if (sig)
			atomic_fetch_add(&h->sigbus, 1);
		munmap((void *)m, len);
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, h->fd, 0);
		if (m == MAP_FAILED) {
			atomic_fetch_add(&h->unexpected, 1);
			atomic_store(&h->last_errno, errno);
		} else {
			bad = 0;
			GUARDED(sig, bad = fv_check((void *)m, len, h->seed + 1));
			if (bad)
				atomic_fetch_add(&h->bad_data, 1);
			if (sig)
				atomic_fetch_add(&h->sigbus, 1);
			munmap((void *)m, len);
		}
out:
		wait_state(h, H_OWNER_DONE, 30);
		close(h->fd);
		atomic_fetch_add(&h->rounds, 1);
		atomic_store(&h->state, H_FAULTER_DONE);
	}
	return NULL;
}

/*
 * A child that inherited the faulter's mapping writes it until it dies: the
 * revoke must reach the copy of the mapping fork() made too. 1 if it died
 * of SIGBUS, 0 if it was still writing after @timeout seconds.
 */
static int reap_writer(pid_t pid, double timeout)
{
	double end = now_s() + timeout;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 0;
		}
		usleep(1000);
	}
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

/*
 * The iomem faulter: the dma-buf holds exporter memory that is revoked under
 * it. Reads see the owner's data or SIGBUS, writes go on until SIGBUS, in
 * this thread and in a child that inherited the mapping; once revoked, a
 * new mmap is ENODEV.
 */
static void *iomem_faulter(void *arg)
{
	struct handoff *h = arg;
	volatile uint32_t *m;
	pid_t child;
	volatile int bad = 0;
	int sig;

	while (!wait_state(h, H_OFFERED, 1e9)) {
		size_t len = h->len, i;
		volatile int done = 0;

		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd, 0);
		if (m == MAP_FAILED) {
			if (errno == ENODEV) {
				atomic_fetch_add(&h->enodev, 1);
			} else {
				atomic_fetch_add(&h->unexpected, 1);
				atomic_store(&h->last_errno, errno);
			}
			set_touching(h);
			goto out;
		}
		bad = 0;
		GUARDED(sig, bad = fv_check((void *)m, len, h->seed));
		if (bad)
			atomic_fetch_add(&h->bad_data, 1);
		child = -1;
		if (!sig) {
			child = fork();
			if (child == 0) {
				signal(SIGBUS, SIG_DFL);
				for (;;)
					for (i = 0; i < len / 4; i += 512)
						m[i] = h->seed + 2;
			}
		}
		set_touching(h);
		if (!sig)
			GUARDED(sig, {
				do {
					done = atomic_load(&h->state) == H_OWNER_DONE;
					for (i = 0; i < len / 4; i += 256)
						m[i] = h->seed + 1;
				} while (!done);
				/* the revoke returned and our writes still land */
				atomic_fetch_add(&h->writable_after_revoke, 1);
			});
		if (sig == SIGBUS)
			atomic_fetch_add(&h->sigbus, 1);
		else if (sig)
			atomic_fetch_add(&h->unexpected, 1);
		munmap((void *)m, len);
		wait_state(h, H_OWNER_DONE, 30);
		if (child > 0) {
			if (reap_writer(child, 10))
				atomic_fetch_add(&h->child_sigbus, 1);
			else
				atomic_fetch_add(&h->child_survived, 1);
		}
		/* revoked: no new mapping */
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, h->fd, 0);
		if (m != MAP_FAILED) {
			atomic_fetch_add(&h->writable_after_revoke, 1);
			munmap((void *)m, len);
		} else if (errno != ENODEV) {
			atomic_fetch_add(&h->unexpected, 1);
			atomic_store(&h->last_errno, errno);
		}
out:
		wait_state(h, H_OWNER_DONE, 30);
		close(h->fd);
		atomic_fetch_add(&h->rounds, 1);
		atomic_store(&h->state, H_FAULTER_DONE);
	}
	return NULL;
}

struct owner {
	struct race2 *r;
	unsigned int seed;
};

/* vivid drops a buffer framevec holds while it is being faulted in */
static void *vb2_owner(void *arg)
{
	struct owner *o = arg;
	struct race2 *r = o->r;
	struct vivid_cap cap;
	int idx, fd, ret;

	while (!atomic_load(&r->stop)) {
		uint32_t seed = rnd(&o->seed);

		ret = vivid_cap_start(&cap, 0, 2, NULL);
		if (ret) {
			owner_error(r, 1, -ret);
			vivid_cap_stop(&cap);
			break;
		}
		idx = vivid_cap_dqbuf(&cap);
		if (idx < 0) {
			owner_error(r, 2, -idx);
			vivid_cap_stop(&cap);
			break;
		}
		fv_fill(cap.map[idx], cap.maplen, seed);	/* dequeued: ours */
		ret = fv_import(r->devfd, cap.map[idx], cap.maplen, FRAMEVEC_IMPORT_WRITE, &fd);
		if (ret) {
			owner_error(r, 3, ret);
			vivid_cap_stop(&cap);
			break;
		}
		offer(&r->vb2, fd, cap.maplen, seed, &o->seed);
		if (rnd(&o->seed) & 1) {	/* the faulter's dup is the last reference */
			close(fd);
			fd = -1;
		}
		vivid_cap_stop(&cap);	/* STREAMOFF, REQBUFS(0), munmap, close */
		if (finish(&r->vb2))
			owner_error(r, 4, ETIMEDOUT);
		if (fd >= 0)
			close(fd);
		atomic_fetch_add(&r->vb2_rounds, 1);
	}
	atomic_store(&r->vb2.state, H_QUIT);
	return NULL;
}

/* The exporter revokes memory that is being faulted in, and frees it */
static void *iomem_owner(void *arg)
{
	struct owner *o = arg;
	struct race2 *r = o->r;
	struct ebuf b;
	int fd, ret;
	long changed;

	while (!atomic_load(&r->stop)) {
		uint32_t seed = rnd(&o->seed);

		ret = ebuf_alloc(r->texpfd, EBUF_PAGES, NULL, &b);
		if (ret) {
			owner_error(r, 11, ret);
			break;
		}
		fv_fill(b.map, b.len, seed);
		ret = fv_import(r->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &fd);
		if (ret) {
			owner_error(r, 12, ret);
			munmap(b.map, b.len);
			break;
		}
		offer(&r->iomem, fd, b.len, seed, &o->seed);
		ret = texp_revoke(r->texpfd, b.handle);
		if (ret)
			owner_error(r, 13, ret);
		ret = texp_quarantine(r->texpfd, b.handle);
		if (ret)
			owner_error(r, 14, ret);
		if (finish(&r->iomem))
			owner_error(r, 15, ETIMEDOUT);
		/* nobody wrote into the memory after the revoke returned */
		changed = texp_poison_changed(r->texpfd, b.handle);
		if (changed)
			atomic_fetch_add(&r->poison_lost, 1);
		close(fd);
		munmap(b.map, b.len);
		atomic_fetch_add(&r->iomem_rounds, 1);
	}
	atomic_store(&r->iomem.state, H_QUIT);
	return NULL;
}

TEST_F_TIMEOUT(races, fault_vs_revoke_and_reqbufs, 900)
{
	struct race2 *r = calloc(1, sizeof(*r));
	struct owner o[2];
	pthread_t th[4];
	double t0;
	int i, probe;

	ASSERT_NE(NULL, r);
	probe = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_LE(0, probe) TH_LOG("modprobe vivid n_devs=1 allocators=1");
	close(probe);
	r->devfd = self->devfd;
	r->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r->texpfd);
	for (i = 0; i < 2; i++) {
		o[i].r = r;
		o[i].seed = 0x85ebca6bu * (i + 1) + (unsigned int)time(NULL);
	}
	t0 = now_s();
	ASSERT_EQ(0, pthread_create(&th[0], NULL, vb2_faulter, &r->vb2));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, iomem_faulter, &r->iomem));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, vb2_owner, &o[0]));
	ASSERT_EQ(0, pthread_create(&th[3], NULL, iomem_owner, &o[1]));
	sleep(self->seconds);
	atomic_store(&r->stop, 1);
	for (i = 3; i >= 0; i--)
		pthread_join(th[i], NULL);
	close(r->texpfd);

	TH_LOG("%.1f s: vb2 %ld rounds (faulter %ld, %ld SIGBUS, %ld bad data, %ld unexpected: %s)",
	       now_s() - t0, (long)r->vb2_rounds, (long)r->vb2.rounds, (long)r->vb2.sigbus,
	       (long)r->vb2.bad_data, (long)r->vb2.unexpected, strerror(r->vb2.last_errno));
	TH_LOG("iomem %ld rounds (faulter %ld: %ld SIGBUS, %ld of its children SIGBUS, %ld survived, %ld mmap ENODEV, %ld bad data, %ld unexpected: %s, %ld writable after revoke), %ld lost poison",
	       (long)r->iomem_rounds, (long)r->iomem.rounds, (long)r->iomem.sigbus,
	       (long)r->iomem.child_sigbus, (long)r->iomem.child_survived,
	       (long)r->iomem.enodev, (long)r->iomem.bad_data, (long)r->iomem.unexpected,
	       strerror(r->iomem.last_errno), (long)r->iomem.writable_after_revoke,
	       (long)r->poison_lost);
	EXPECT_EQ(0, r->owner_errors) {
		TH_LOG("owner step %d failed: %s", r->owner_where, strerror(r->owner_errno));
	}
	/* vb2: held by framevec through REQBUFS(0): no SIGBUS, data intact */
	EXPECT_LT(0, r->vb2_rounds);
	EXPECT_EQ(r->vb2_rounds, r->vb2.rounds);
	EXPECT_EQ(0, r->vb2.sigbus);
	EXPECT_EQ(0, r->vb2.bad_data);
	EXPECT_EQ(0, r->vb2.unexpected);
	/* iomem: each round ends in SIGBUS or ENODEV, never a write after the revoke */
	EXPECT_LT(0, r->iomem_rounds);
	EXPECT_EQ(r->iomem_rounds, r->iomem.rounds);
	EXPECT_LT(0, r->iomem.sigbus);
	EXPECT_EQ(r->iomem.rounds, r->iomem.sigbus + r->iomem.enodev);
	EXPECT_EQ(0, r->iomem.bad_data);
	EXPECT_EQ(0, r->iomem.unexpected);
	EXPECT_EQ(0, r->iomem.writable_after_revoke);
	/* and so did every child that inherited a mapping */
	EXPECT_LT(0, r->iomem.child_sigbus);
	EXPECT_EQ(0, r->iomem.child_survived);
	EXPECT_EQ(0, r->poison_lost);
	free(r);
}

/* ==== race 3: imports against revoke (move_notify) and a heap buffer's owner ==== */

#define R3_IMPORTERS	2
#define R3_HELD		4

struct race3 {
	int devfd, texpfd, tcfd;
	unsigned char *ewin, *hwin;	/* the owner's windows: exporter, heap */
	atomic_int stop;
	atomic_int gen, revoked_gen, acks;
	uint32_t eseed, hseed;
	struct tally euser, ekern, heap;
	atomic_long untold, stale_ok, bad_data, sigbus, map_after_revoke, errors;
	atomic_long rounds, poison_lost, move_notify_bad;
	atomic_int err_where, err_errno;
};

static void r3_error(struct race3 *r, int where, int err)
{
	atomic_fetch_add(&r->errors, 1);
	atomic_store(&r->err_where, where);
	atomic_store(&r->err_errno, err);
}

struct held {
	int fd;		/* a framevec dma-buf of the exporter buffer, or -1 */
	int kid;	/* an in-kernel import's slot, or -1 */
};

/* Read a dma-buf mapping of the exporter buffer: its data or SIGBUS */
static void r3_read_ebuf(struct race3 *r, unsigned char *win, int fd)
{
	volatile uint32_t *m = map_fd_at(win, EBUF_PAGES * FV_PAGE, PROT_READ, fd);
	volatile int bad = 0;
	int sig;

	if (m == MAP_FAILED) {
		if (errno != ENODEV)
			r3_error(r, 31, errno);
		return;
	}
	GUARDED(sig, bad = fv_check((void *)m, EBUF_PAGES * FV_PAGE, r->eseed));
	if (sig == SIGBUS)
		atomic_fetch_add(&r->sigbus, 1);
	else if (sig || bad)
		atomic_fetch_add(&r->bad_data, 1);
	reserve(win, HEAP_PAGES * FV_PAGE);
}

static void r3_release(struct race3 *r, int tifd, struct held *h, int revoked)
{
	struct fvti_status st;
	int ret;

	if (h->kid >= 0) {
		ret = fvti_status(tifd, h->kid, &st);
		if (ret)
			r3_error(r, 32, ret);
		else if (revoked && (!st.revoked || st.revoke_calls != 1))
			atomic_fetch_add(&r->untold, 1);
		/* the callback read the owner's data one last time */
		else if (revoked && st.word_valid && st.word_at_revoke != r->eseed * 2654435761u)
			atomic_fetch_add(&r->bad_data, 1);
		if (st.mapped)
			fvti_unmap(tifd, h->kid);
		ret = fvti_release(tifd, h->kid);
		if (ret)
			r3_error(r, 33, ret);
	}
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->kid = -1;
}

static void *r3_importer(void *arg)
{
	static const int ebuf_errnos[] = { ENODEV, 0 };
	static const int heap_errnos[] = { EFAULT, 0 };
	struct worker *w = arg;
	struct race3 *r = w->r;
	unsigned char *win = w->win;
	int tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	struct held held[R3_HELD];
	int nheld = 0, done_gen = 0, i, ret, fd, sig;
	uint32_t id;

	if (tifd < 0) {
		r3_error(r, 30, errno);
		return NULL;
	}
	for (;;) {
		int g = atomic_load(&r->gen);

		if (g < 0)
			break;
		if (!g || g == done_gen) {
			usleep(100);
			continue;
		}
		if (atomic_load(&r->revoked_gen) == g) {
			/* the revoke returned: everything we held was told */
			for (i = 0; i < nheld; i++)
				r3_release(r, tifd, &held[i], 1);
			nheld = 0;
			done_gen = g;
			atomic_fetch_add(&r->acks, 1);
			continue;
		}
		switch (rnd(&w->seed) % 4) {
		case 3:	/* let go of one, maybe while the revoke runs */
			if (!nheld)
				break;
			i = rnd(&w->seed) % nheld;
			r3_release(r, tifd, &held[i], 0);
			held[i] = held[--nheld];
			break;
		case 0:
			if (nheld == R3_HELD)
				break;
			ret = fv_import(r->devfd, r->ewin, EBUF_PAGES * FV_PAGE,
					FRAMEVEC_IMPORT_WRITE, &fd);
			tally(&r->euser, ret, ebuf_errnos, 1);
			if (!ret) {
				r3_read_ebuf(r, win, fd);
				held[nheld++] = (struct held){ .fd = fd, .kid = -1 };
			}
			break;
		case 1:
			if (nheld == R3_HELD)
				break;
			ret = fvti_import(tifd, r->ewin, EBUF_PAGES * FV_PAGE, FVTI_IMPORT_WRITE,
					  &id);
			tally(&r->ekern, ret, ebuf_errnos, 2);
			if (!ret) {
				ret = fvti_map(tifd, id, FVTI_DIR_FROM_DEVICE);
				if (ret && ret != ENODEV)
					r3_error(r, 34, ret);
				held[nheld++] = (struct held){ .fd = -1, .kid = id };
			}
			break;
		default: {
			int write = rnd(&w->seed) & 1;
			size_t len = HEAP_PAGES * FV_PAGE;
			void *m;

			ret = fv_import(r->devfd, r->hwin, len, write ? FRAMEVEC_IMPORT_WRITE : 0,
					&fd);
			tally(&r->heap, ret, heap_errnos, 3);
			if (ret)
				break;
			/* the owner may have let go already: the import holds its data */
			m = map_fd_at(win, len, PROT_READ, fd);
			if (m == MAP_FAILED) {
				r3_error(r, 35, errno);
			} else {
				volatile int bad = 0;

				GUARDED(sig, bad = fv_check(m, len, r->hseed));
				if (sig || bad)
					atomic_fetch_add(&r->bad_data, 1);
			}
			reserve(win, len);
			close(fd);
			break;
		}
		}
	}
	for (i = 0; i < nheld; i++)
		r3_release(r, tifd, &held[i], 0);
	close(tifd);
	return NULL;
}

static int dyn_status(int tcfd, __u32 id, struct fvtc_dyn_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ioctl(tcfd, FVTC_DYN_STATUS, st) ? errno : 0;
}

static int dyn_map(int tcfd, __u32 id, __u32 dir)
{
	struct fvtc_dyn_map m = { .id = id, .dir = dir };

	return ioctl(tcfd, FVTC_DYN_MAP, &m) ? errno : 0;
}

/* One round of the owner: returns 0, or -1 to stop */
static int r3_round(struct race3 *r, int g, unsigned int *rs)
{
	struct fvtc_dyn_attach att = {};
	struct fvtc_dyn_status st;
	int dfd, hfd, ret, heap_first = rnd(rs) & 1;
	size_t hlen = HEAP_PAGES * FV_PAGE;
	struct ebuf b;
	double end;

	ret = ebuf_alloc(r->texpfd, EBUF_PAGES, r->ewin, &b);
	if (ret) {
		r3_error(r, 1, ret);
		return -1;
	}
	r->eseed = rnd(rs);
	fv_fill(b.map, b.len, r->eseed);
	hfd = heap_alloc(hlen);
	if (hfd < 0 || map_fd_at(r->hwin, hlen, PROT_READ | PROT_WRITE, hfd) == MAP_FAILED) {
		r3_error(r, 2, hfd < 0 ? -hfd : errno);
		return -1;
	}
	r->hseed = rnd(rs);
	fv_fill(r->hwin, hlen, r->hseed);

	/* a dynamic importer of framevec's dma-buf, mapped */
	ret = fv_import(r->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &dfd);
	if (ret) {
		r3_error(r, 3, ret);
		return -1;
	}
	att.fd = dfd;
	if (ioctl(r->tcfd, FVTC_DYN_ATTACH, &att) || dyn_map(r->tcfd, att.id, 0)) {
		r3_error(r, 4, errno);
		return -1;
	}

	atomic_store(&r->acks, 0);
	atomic_store(&r->gen, g);
	usleep(2000 + rnd(rs) % 20000);
	if (heap_first) {	/* the heap buffer's owner lets go */
		munmap(r->hwin, hlen);
		close(hfd);
		usleep(rnd(rs) % 5000);
	}
	ret = texp_revoke(r->texpfd, b.handle);
	if (ret)
		r3_error(r, 5, ret);
	if (!heap_first) {
		usleep(rnd(rs) % 5000);
		munmap(r->hwin, hlen);
		close(hfd);
	}
	atomic_store(&r->revoked_gen, g);

	/* the dynamic importer was told once and cannot map again */
	ret = dyn_status(r->tcfd, att.id, &st);
	if (ret || st.move_notify_calls != 1 || !st.stale)
		atomic_fetch_add(&r->move_notify_bad, 1);
	ioctl(r->tcfd, FVTC_DYN_UNMAP, &att.id);
	ret = dyn_map(r->tcfd, att.id, 0);
	if (ret != ENODEV)
		atomic_fetch_add(&r->map_after_revoke, 1);
	if (!ret)
		ioctl(r->tcfd, FVTC_DYN_UNMAP, &att.id);
	if (ioctl(r->tcfd, FVTC_DYN_DETACH, &att.id))
		r3_error(r, 6, errno);

	ret = texp_quarantine(r->texpfd, b.handle);
	if (ret)
		r3_error(r, 7, ret);
	end = now_s() + 30;
	while (atomic_load(&r->acks) < R3_IMPORTERS && now_s() < end)
		usleep(500);
	if (atomic_load(&r->acks) < R3_IMPORTERS)
		r3_error(r, 8, ETIMEDOUT);
	if (texp_poison_changed(r->texpfd, b.handle))
		atomic_fetch_add(&r->poison_lost, 1);
	close(dfd);
	reserve(r->ewin, b.len);
	reserve(r->hwin, hlen);
	atomic_fetch_add(&r->rounds, 1);
	return 0;
}

TEST_F_TIMEOUT(races, import_vs_revoke_and_move_notify, 900)
{
	struct race3 *r;
	struct worker w[R3_IMPORTERS];
	pthread_t th[R3_IMPORTERS];
	unsigned int rs = (unsigned int)time(NULL) | 1;
	double t0, end;
	int i, g = 0, probe;

	/* a round's owner is a dma-heap buffer's too */
	probe = heap_alloc(FV_PAGE);
	if (probe == -ENOENT)
		SKIP(return, NO_DMA_HEAP);
	ASSERT_LE(0, probe);
	close(probe);
	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	r->devfd = self->devfd;
	r->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r->texpfd);
	r->tcfd = open(FVTC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r->tcfd);
	r->ewin = reserve(NULL, EBUF_PAGES * FV_PAGE);
	r->hwin = reserve(NULL, HEAP_PAGES * FV_PAGE);
	ASSERT_NE(MAP_FAILED, r->ewin);
	ASSERT_NE(MAP_FAILED, r->hwin);
	for (i = 0; i < R3_IMPORTERS; i++) {
		w[i].r = r;
		w[i].id = i;
		w[i].seed = 0xc2b2ae35u * (i + 1) + rs;
		w[i].win = reserve(NULL, HEAP_PAGES * FV_PAGE);
		ASSERT_NE(MAP_FAILED, w[i].win);
	}
	for (i = 0; i < R3_IMPORTERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, r3_importer, &w[i]));
	t0 = now_s();
	end = t0 + self->seconds;
	while (now_s() < end && !atomic_load(&r->errors))
		if (r3_round(r, ++g, &rs))
			break;
	atomic_store(&r->gen, -1);
	for (i = 0; i < R3_IMPORTERS; i++)
		pthread_join(th[i], NULL);
	close(r->tcfd);
	close(r->texpfd);
	munmap(r->ewin, EBUF_PAGES * FV_PAGE);
	munmap(r->hwin, HEAP_PAGES * FV_PAGE);
	for (i = 0; i < R3_IMPORTERS; i++)
		munmap(w[i].win, HEAP_PAGES * FV_PAGE);

	TH_LOG("%.1f s: %ld rounds, %ld SIGBUS reading revoked imports", now_s() - t0,
	       (long)r->rounds, (long)r->sigbus);
	TALLY_LOG("exporter buffer, FRAMEVEC_IOC_IMPORT", &r->euser);
	TALLY_LOG("exporter buffer, framevec_import()", &r->ekern);
	TALLY_LOG("dma-heap buffer, FRAMEVEC_IOC_IMPORT", &r->heap);
	EXPECT_EQ(0, r->errors) {
		TH_LOG("step %d failed: %s", r->err_where, strerror(r->err_errno));
	}
	EXPECT_LT(0, r->rounds);
	/* exporter buffer: imported, or ENODEV once revoked; nothing else */
	EXPECT_EQ(0, r->euser.unexpected);
	EXPECT_EQ(0, r->ekern.unexpected);
	EXPECT_LT(0, r->euser.ok);
	EXPECT_LT(0, r->ekern.ok);
	/* every in-kernel import alive at the revoke was told, once, and unmapped */
	EXPECT_EQ(0, r->untold);
	/* move_notify once per revoke; no map after it; the poison kept */
	EXPECT_EQ(0, r->move_notify_bad);
	EXPECT_EQ(0, r->map_after_revoke);
	EXPECT_EQ(0, r->poison_lost);
	/* heap buffer: imported with the owner's data, or EFAULT once unmapped */
	EXPECT_EQ(0, r->heap.unexpected);
	EXPECT_LT(0, r->heap.ok);
	EXPECT_EQ(0, r->bad_data);
	free(r);
}

TEST_HARNESS_MAIN
