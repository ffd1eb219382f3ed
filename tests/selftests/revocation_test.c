// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation (issue 8 point 6; R1-R5 of the safety contract): an exporter
 * driver (fv_test_exporter, dma_alloc_coherent() memory through framevec's
 * iomem API) takes its memory back while someone still uses it.
 *
 * Every test waits until the exporter's revoke has returned, then frees the
 * memory at once into the exporter's quarantine (FV_TEXP_FREE_NOW |
 * FV_TEXP_FREE_QUARANTINE: poisoned 0x6b and kept aside instead of going
 * back to the allocator), lets whatever could still write run on, and
 * checks that not one byte of the poison changed (FV_TEXP_IOC_CHECK_FREED,
 * which then really frees it). The harness checks the kernel log (no WARN,
 * no DMAR fault); the teardown checks framevec's counters, the iomem
 * objects and the exporter's buffers back at their baseline.
 *
 * Guest: VM_PROFILE=iommu+edu+ivshmem; modprobe vivid n_devs=1 allocators=0,
 * fv_test_exporter, fv_test_importer, fv_test_consumer, fv_test_edu.
 */
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/wait.h>
#include <linux/videodev2.h>

#include "pfnmap_helpers.h"
#include "../modules/fv_test_consumer.h"
#include "../modules/fv_test_edu.h"
#include "../modules/fv_test_exporter.h"

#define FV_IOMEM	"/sys/kernel/debug/framevec/iomem"
#define FVTE_DEV	"/dev/fv_test_edu"
#define TEXP_PCI_DRV	"/sys/bus/pci/drivers/fv_test_exporter/"
#define WRITER_BYTE	0x44
#define SLOW_CB_MS	1500

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static double ms(int64_t ns)
{
	return ns / 1e6;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = errno;
	close(fd);
	return ret;
}

/* Global counters of the iomem debugfs file */
struct iomem_counts {
	long objects, vmas, importers;
};

static int iomem_counts(struct iomem_counts *c)
{
	char line[512];
	FILE *f = fopen(FV_IOMEM, "r");

	memset(c, 0, sizeof(*c));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "objects %ld", &c->objects);
		sscanf(line, "vmas %ld", &c->vmas);
		sscanf(line, "importers %ld", &c->importers);
	}
	fclose(f);
	return 0;
}

/* ---- the exporter ---- */

/* One fv_test_exporter buffer and its MAP_SHARED read-write mapping */
struct ebuf {
	__u32 handle;
	__u64 off;
	size_t len;
	unsigned char *map;
};

/* Allocate @pages in one coherent chunk and map it (at @at if not NULL): errno */
static int ebuf_alloc(int texpfd, unsigned int pages, void *at, struct ebuf *b)
{
	struct fv_texp_alloc a = { .nr_pages = pages, .nr_chunks = 1 };

	memset(b, 0, sizeof(*b));
	if (ioctl(texpfd, FV_TEXP_IOC_ALLOC, &a))
		return errno;
	b->handle = a.handle;
	b->off = a.mmap_offset;
	b->len = (size_t)pages * FV_PAGE;
	b->map = mmap(at, b->len, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0),
		      texpfd, b->off);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return errno;
	}
	return 0;
}

static void ebuf_unmap(struct ebuf *b)
{
	if (b->map)
		munmap(b->map, b->len);
	b->map = NULL;
}

static int texp_revoke(int texpfd, __u32 handle)
{
	return ioctl(texpfd, FV_TEXP_IOC_REVOKE, &handle) ? errno : 0;
}

/* The driver frees the revoked memory now: poisoned, kept in quarantine */
static int texp_quarantine(int texpfd, __u32 handle)
{
	struct fv_texp_free f = {
		.handle = handle, .flags = FV_TEXP_FREE_NOW | FV_TEXP_FREE_QUARANTINE,
	};

	return ioctl(texpfd, FV_TEXP_IOC_FREE, &f) ? errno : 0;
}

static int texp_check_freed(int texpfd, __u32 handle, struct fv_texp_check_freed *c)
{
	memset(c, 0, sizeof(*c));
	c->handle = handle;
	return ioctl(texpfd, FV_TEXP_IOC_CHECK_FREED, c) ? errno : 0;
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

/* The quarantined memory of @handle still holds only the poison; then freed */
#define ASSERT_POISON_KEPT(texpfd, handle, npages) do {				\
	struct fv_texp_check_freed __c;						\
	ASSERT_EQ(0, texp_check_freed(texpfd, handle, &__c));			\
	EXPECT_EQ(npages, __c.nr_pages);					\
	EXPECT_EQ(0, __c.changed) {						\
		TH_LOG("%llu bytes of the freed memory were written after the revoke returned, the first at offset %#llx", \
		       (unsigned long long)__c.changed,				\
		       (unsigned long long)__c.first_changed);			\
	}									\
} while (0)

/* ---- a user-space writer in a child process ---- */

/* A child that writes WRITER_BYTE over [p, p + len) until it dies */
static pid_t start_writer(volatile unsigned char *p, size_t len)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			for (size_t i = 0; i < len; i += 64)
				p[i] = WRITER_BYTE;
	}
	return pid;
}

/* The signal that ended the writer within @ms_max ms; 0 if it was still writing */
static int stop_writer(pid_t pid, int ms_max)
{
	int status, i;

	if (pid <= 0)
		return -1;
	for (i = 0; i <= ms_max; i += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}

/* ---- the fixture ---- */

FIXTURE(revocation) {
	int devfd, texpfd;
	struct fv_counters base;
	struct fv_texp_stats tbase;
	struct iomem_counts ibase;
};

FIXTURE_SETUP(revocation)
{
	self->devfd = self->texpfd = -1;
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, iomem_counts(&self->ibase));
	ASSERT_EQ(0, texp_stats(&self->tbase)) TH_LOG("modprobe fv_test_exporter");
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->texpfd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->texpfd);
}

FIXTURE_TEARDOWN(revocation)
{
	struct fv_texp_stats st;
	struct iomem_counts ic;

	/* drops the driver's buffers and frees what is left in quarantine */
	if (self->texpfd >= 0)
		close(self->texpfd);
	if (self->devfd >= 0)
		close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
	ASSERT_EQ(0, iomem_counts(&ic));
	EXPECT_EQ(self->ibase.objects, ic.objects);
	EXPECT_EQ(self->ibase.vmas, ic.vmas);
	EXPECT_EQ(self->ibase.importers, ic.importers);
	ASSERT_EQ(0, texp_stats(&st));
	EXPECT_EQ(self->tbase.live_buffers, st.live_buffers);
}

/* ---- R3: a dynamic importer ---- */

static int dyn_status(int tcfd, __u32 id, struct fvtc_dyn_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ioctl(tcfd, FVTC_DYN_STATUS, st) ? errno : 0;
}

static int dyn_map(int tcfd, __u32 id, __u32 dir, struct fvtc_dyn_map *m)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->dir = dir;
	return ioctl(tcfd, FVTC_DYN_MAP, m) ? errno : 0;
}

/*
 * R3: the dma-buf of revocable memory takes dynamic importers only, never
 * gives them a mapping made at attach time (which the dma-buf core keeps
 * and hands out again), tells them with move_notify, and every map after
 * that fails with ENODEV.
 */
TEST_F(revocation, dynamic_importer_is_told_and_cannot_map_again)
{
	struct fvtc_map smap = { .dir = 1 };
	struct fvtc_dyn_attach att = {};
	struct fvtc_dyn_status st;
	struct fvtc_dyn_map m;
	unsigned char *dm;
	int tcfd, dfd = -1, ret;
	__u32 dir;
	pid_t writer;
	struct ebuf b;

	tcfd = open(FVTC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tcfd) TH_LOG("modprobe fv_test_consumer");
	ASSERT_EQ(0, ebuf_alloc(self->texpfd, 16, NULL, &b));
	memset(b.map, 0x33, b.len);
	ASSERT_IMPORT_OK(self->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &dfd);
	dm = mmap(NULL, b.len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, dm);

	/* a static importer could not be made to stop */
	smap.fd = dfd;
	EXPECT_EQ(-1, ioctl(tcfd, FVTC_MAP, &smap));
	EXPECT_EQ(EOPNOTSUPP, errno);

	att.fd = dfd;
	ASSERT_EQ(0, ioctl(tcfd, FVTC_DYN_ATTACH, &att));
	ASSERT_EQ(0, dyn_status(tcfd, att.id, &st));
	EXPECT_EQ(0, st.cached_at_attach) {
		TH_LOG("R3: the dma-buf core mapped the attachment at attach time and keeps that mapping");
	}
	ASSERT_EQ(0, dyn_map(tcfd, att.id, 0, &m));
	EXPECT_EQ(b.len, m.total);
	EXPECT_EQ(0, m.cached);

	writer = start_writer(dm, b.len);
	ASSERT_LT(0, writer);
	usleep(100000);
	ASSERT_EQ(0, texp_revoke(self->texpfd, b.handle));
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));

	ASSERT_EQ(0, dyn_status(tcfd, att.id, &st));
	EXPECT_EQ(1, st.move_notify_calls);
	EXPECT_EQ(1, st.stale);
	/* the importer drops its mapping, as told, and tries again */
	EXPECT_EQ(0, ioctl(tcfd, FVTC_DYN_UNMAP, &att.id));
	for (dir = 0; dir <= 2; dir++) {
		ret = dyn_map(tcfd, att.id, dir, &m);
		EXPECT_EQ(ENODEV, ret) {
			TH_LOG("R3: a map in direction %u after the revoke %s (%s)", dir,
			       ret ? "failed" : "succeeded", ret ? strerror(ret) :
			       m.cached ? "the mapping made at attach time" : "a new mapping");
		}
		ASSERT_EQ(0, dyn_status(tcfd, att.id, &st));
		if (!ret) {
			EXPECT_EQ(0, ioctl(tcfd, FVTC_DYN_UNMAP, &att.id));
		} else {
			EXPECT_EQ(-ret, st.last_map_err);
			EXPECT_EQ(0, st.mapped);
		}
	}
	EXPECT_EQ(0, ioctl(tcfd, FVTC_DYN_DETACH, &att.id));
	close(tcfd);

	/* the dma-buf's user mapping was zapped with the rest */
	EXPECT_EQ(SIGBUS, stop_writer(writer, 2000));
	ASSERT_POISON_KEPT(self->texpfd, b.handle, 16);
	munmap(dm, b.len);
	close(dfd);
	ebuf_unmap(&b);
}

/* ---- R1: concurrent revokes ---- */

static int fvti_delay(int tifd, __u32 id, __u32 delay_ms)
{
	struct fvti_revoke_delay d = { .id = id, .delay_ms = delay_ms };

	return ioctl(tifd, FVTI_IOC_REVOKE_DELAY, &d) ? errno : 0;
}

static int fvti_times(int tifd, __u32 id, struct fvti_revoke_times *t)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	return ioctl(tifd, FVTI_IOC_REVOKE_TIMES, t) ? errno : 0;
}

/* Wait until the slot's revoke callback has started: 0, or -1 after 20 s */
static int wait_callback_entered(int tifd, __u32 id)
{
	struct fvti_revoke_times t;
	int i;

	for (i = 0; i < 20000; i++) {
		if (fvti_times(tifd, id, &t))
			return -1;
		if (t.enter_ns)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* A thread that, once started, does one thing and records when it finished */
struct racer {
	pthread_t thread;
	atomic_int go;
	int texpfd;
	__u32 handle;
	void *addr;
	size_t len;
	int ret;
	uint64_t done_ns;
};

static void *racer_munmap(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->go))
		;
	r->ret = munmap(r->addr, r->len) ? errno : 0;
	r->done_ns = now_ns();
	return NULL;
}

static void *racer_revoke(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->go))
		;
	r->ret = texp_revoke(r->texpfd, r->handle);
	r->done_ns = now_ns();
	return NULL;
}

/* A hexadecimal number from a sysfs file, or 0 */
static unsigned int read_hex(const char *dir, const char *name)
{
	char path[320];
	unsigned int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%x", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* sysfs directory of the ivshmem-plain device (1af4:1110), or NULL */
static const char *ivshmem_dir(void)
{
	static char dir[256];
	const char *found = NULL;
	glob_t g;
	size_t i;

	if (glob("/sys/bus/pci/devices/*", 0, NULL, &g))
		return NULL;
	for (i = 0; i < g.gl_pathc && !found; i++) {
		if (read_hex(g.gl_pathv[i], "vendor") == 0x1af4 &&
		    read_hex(g.gl_pathv[i], "device") == 0x1110) {
			snprintf(dir, sizeof(dir), "%s", g.gl_pathv[i]);
			found = dir;
		}
	}
	globfree(&g);
	return found;
}

/*
 * R1 across two sources of one framevec: an in-kernel import (fv_test_importer)
 * of [exporter buffer][ivshmem BAR through sysfs resource2] has an iomem
 * segment and a revocable one (an MMU notifier). munmap of the BAR revokes
 * it and its callback takes 1.5 s to stop the device; meanwhile the
 * exporter revokes its buffer. The exporter's revoke must not return
 * before that callback has: until then the importer may still use the
 * memory the driver is about to free.
 */
TEST_F_TIMEOUT(revocation, exporter_revoke_waits_for_a_munmap_revoke_in_progress, 120)
{
	size_t len = 16 * FV_PAGE;
	char path[400], addr[64];
	struct fvti_revoke_times t;
	struct racer r = {};
	const char *dir;
	unsigned char *res, *bar;
	uint64_t rv_start, rv_done;
	int tifd, resfd, ret;
	bool rebind = false;
	struct ebuf b;
	pid_t writer;
	__u32 id = 0;

	tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tifd) TH_LOG("modprobe fv_test_importer");
	dir = ivshmem_dir();
	ASSERT_NE(NULL, dir) TH_LOG("no ivshmem-plain device: run with VM_PROFILE=...+ivshmem");
	snprintf(addr, sizeof(addr), "%s", strrchr(dir, '/') + 1);
	/* fv_test_exporter claims the BAR, and a claimed BAR cannot be mmapped */
	snprintf(path, sizeof(path), "%s/driver", dir);
	if (!access(path, F_OK)) {
		snprintf(path, sizeof(path), "%s/driver/unbind", dir);
		ASSERT_EQ(0, write_str(path, addr));
		rebind = true;
	}
	snprintf(path, sizeof(path), "%s/enable", dir);
	write_str(path, "1");
	snprintf(path, sizeof(path), "%s/resource2", dir);
	resfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, resfd);

	res = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	ASSERT_EQ(0, ebuf_alloc(self->texpfd, 16, res, &b));
	bar = mmap(res + len, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, resfd, 0);
	ASSERT_EQ(res + len, bar);
	memset(b.map, 0x22, len);
	for (size_t i = 0; i < len; i += FV_PAGE)
		bar[i] = 0x11;		/* the revocable source needs it populated */

	ASSERT_EQ(0, fvti_import(tifd, res, 2 * len, 0, &id));
	ASSERT_EQ(0, fvti_delay(tifd, id, SLOW_CB_MS));
	writer = start_writer(b.map, len);
	ASSERT_LT(0, writer);

	r.addr = bar;
	r.len = len;
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, racer_munmap, &r));
	(void)now_ns();
	atomic_store(&r.go, 1);
	ASSERT_EQ(0, wait_callback_entered(tifd, id));
	rv_start = now_ns();
	ret = texp_revoke(self->texpfd, b.handle);
	rv_done = now_ns();
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, r.ret);
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));

	ASSERT_EQ(0, fvti_times(tifd, id, &t));
	EXPECT_EQ(1, t.calls);
	ASSERT_NE(0, t.exit_ns);
	/* the race happened: the revoke started while the callback ran */
	ASSERT_LT(t.enter_ns, rv_start);
	ASSERT_LT(rv_start, t.exit_ns);
	EXPECT_LE(t.exit_ns, rv_done) {
		TH_LOG("R1: the exporter's revoke returned %.1f ms before the importer's callback (run by munmap) returned",
		       ms((int64_t)(t.exit_ns - rv_done)));
	}
	TH_LOG("callback %.1f ms, revoke started %.1f ms into it and took %.1f ms, munmap took %.1f ms",
	       ms(t.exit_ns - t.enter_ns), ms(rv_start - t.enter_ns), ms(rv_done - rv_start),
	       ms(r.done_ns - t.enter_ns));

	EXPECT_EQ(SIGBUS, stop_writer(writer, 2000));
	ASSERT_POISON_KEPT(self->texpfd, b.handle, 16);
	EXPECT_EQ(0, fvti_release(tifd, id));
	close(tifd);
	munmap(res, 2 * len);
	close(resfd);
	if (rebind)
		EXPECT_EQ(0, write_str(TEXP_PCI_DRV "bind", addr));
}

/*
 * R1 with one source: two threads revoke the same buffer. The second
 * revoker must not return before the first one's importer callback did.
 */
TEST_F_TIMEOUT(revocation, second_revoke_waits_for_the_first_ones_callback, 120)
{
	struct fvti_revoke_times t;
	struct racer r = {};
	uint64_t rv_start, rv_done;
	int tifd, ret;
	struct ebuf b;
	pid_t writer;
	__u32 id = 0;

	tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tifd) TH_LOG("modprobe fv_test_importer");
	ASSERT_EQ(0, ebuf_alloc(self->texpfd, 16, NULL, &b));
	memset(b.map, 0x22, b.len);
	ASSERT_EQ(0, fvti_import(tifd, b.map, b.len, FVTI_IMPORT_WRITE, &id));
	ASSERT_EQ(0, fvti_map(tifd, id, FVTI_DIR_FROM_DEVICE));
	ASSERT_EQ(0, fvti_delay(tifd, id, SLOW_CB_MS));
	writer = start_writer(b.map, b.len);
	ASSERT_LT(0, writer);

	r.texpfd = self->texpfd;
	r.handle = b.handle;
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, racer_revoke, &r));
	(void)now_ns();
	atomic_store(&r.go, 1);
	ASSERT_EQ(0, wait_callback_entered(tifd, id));
	rv_start = now_ns();
	ret = texp_revoke(self->texpfd, b.handle);
	rv_done = now_ns();
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, r.ret);
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));

	ASSERT_EQ(0, fvti_times(tifd, id, &t));
	EXPECT_EQ(1, t.calls);
	ASSERT_NE(0, t.exit_ns);
	ASSERT_LT(t.enter_ns, rv_start);
	ASSERT_LT(rv_start, t.exit_ns);
	EXPECT_LE(t.exit_ns, rv_done) {
		TH_LOG("R1: the second revoke returned %.1f ms before the first one's callback returned",
		       ms((int64_t)(t.exit_ns - rv_done)));
	}
	EXPECT_LE(t.exit_ns, r.done_ns);
	TH_LOG("callback %.1f ms; second revoke started %.1f ms into it and took %.1f ms",
	       ms(t.exit_ns - t.enter_ns), ms(rv_start - t.enter_ns), ms(rv_done - rv_start));

	EXPECT_EQ(SIGBUS, stop_writer(writer, 2000));
	ASSERT_POISON_KEPT(self->texpfd, b.handle, 16);
	EXPECT_EQ(0, fvti_unmap(tifd, id));
	EXPECT_EQ(ENODEV, fvti_map(tifd, id, FVTI_DIR_FROM_DEVICE));
	EXPECT_EQ(0, fvti_release(tifd, id));
	close(tifd);
	ebuf_unmap(&b);
}

/* ---- R4: revoke racing the dma-buf's last close ---- */

struct close_race {
	pthread_barrier_t start, done;
	atomic_int stop;
	int texpfd;
	__u32 handle;
	int dmafd;
	unsigned int spin_close, spin_revoke;
	int close_ret, revoke_ret;
};

static void spin(unsigned int n)
{
	for (volatile unsigned int i = 0; i < n; i++)
		;
}

static void *close_racer(void *arg)
{
	struct close_race *c = arg;

	for (;;) {
		pthread_barrier_wait(&c->start);
		if (atomic_load(&c->stop))
			return NULL;
		spin(c->spin_close);
		c->close_ret = close(c->dmafd) ? errno : 0;
		pthread_barrier_wait(&c->done);
	}
}

static void *revoke_racer(void *arg)
{
	struct close_race *c = arg;

	for (;;) {
		pthread_barrier_wait(&c->start);
		if (atomic_load(&c->stop))
			return NULL;
		spin(c->spin_revoke);
		c->revoke_ret = texp_revoke(c->texpfd, c->handle);
		pthread_barrier_wait(&c->done);
	}
}

/*
 * R4: one thread closes the only reference to a framevec dma-buf of
 * exporter memory while another revokes the memory, for about 20 s, with
 * the two starts shifted against each other. Both return, the memory is
 * freed untouched every time, and nothing is left.
 */
TEST_F_TIMEOUT(revocation, revoke_racing_the_last_close_of_the_dmabuf, 180)
{
	unsigned int iters = 0, bad_close = 0, bad_revoke = 0, bad_poison = 0, seed = 1;
	struct close_race c = { .texpfd = self->texpfd };
	int setup_err = 0;
	struct fv_texp_check_freed cf;
	pthread_t tc, tr;
	uint64_t end;
	struct ebuf b;

	ASSERT_EQ(0, pthread_barrier_init(&c.start, NULL, 3));
	ASSERT_EQ(0, pthread_barrier_init(&c.done, NULL, 3));
	ASSERT_EQ(0, pthread_create(&tc, NULL, close_racer, &c));
	ASSERT_EQ(0, pthread_create(&tr, NULL, revoke_racer, &c));

	end = now_ns() + 20000000000ULL;
	while (now_ns() < end && iters < 100000) {
		setup_err = ebuf_alloc(self->texpfd, 4, NULL, &b);
		if (setup_err)
			break;
		memset(b.map, 0x5a, b.len);
		setup_err = fv_import(self->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &c.dmafd);
		if (setup_err) {
			ebuf_unmap(&b);
			break;
		}
		c.handle = b.handle;
		c.spin_close = rand_r(&seed) % 20000;
		c.spin_revoke = rand_r(&seed) % 20000;
		pthread_barrier_wait(&c.start);
		pthread_barrier_wait(&c.done);
		bad_close += !!c.close_ret;
		bad_revoke += !!c.revoke_ret;
		if (texp_quarantine(self->texpfd, b.handle) ||
		    texp_check_freed(self->texpfd, b.handle, &cf) || cf.changed)
			bad_poison++;
		ebuf_unmap(&b);
		iters++;
	}
	atomic_store(&c.stop, 1);
	pthread_barrier_wait(&c.start);
	pthread_join(tc, NULL);
	pthread_join(tr, NULL);
	pthread_barrier_destroy(&c.start);
	pthread_barrier_destroy(&c.done);

	TH_LOG("%u rounds of close against revoke", iters);
	/* the count depends on the machine's speed (TCG, KASAN, load): only a floor */
	EXPECT_EQ(0, setup_err) TH_LOG("round %u failed to set up: errno %d", iters, setup_err);
	EXPECT_LE(10, iters) TH_LOG("only %u rounds in 20 s", iters);
	EXPECT_EQ(0, bad_close);
	EXPECT_EQ(0, bad_revoke);
	EXPECT_EQ(0, bad_poison);
}

/* ---- R5: framevec dma-bufs imported again through /dev/framevec ---- */

/*
 * R5: framevec's own dma-buf of revocable memory is a dynamic exporter's
 * dma-buf: its mmap imported again is refused with EOPNOTSUPP, read-only
 * or for writing. Whatever the import did, after the revoke every mapping
 * is gone and no write lands.
 */
TEST_F(revocation, nested_import_of_a_revocable_dmabuf_is_refused)
{
	int dfd = -1, nfd[2] = { -1, -1 }, ret[2], i;
	pid_t writer[3] = { -1, -1, -1 };
	unsigned char *dm, *nm[2] = {};
	const __u32 flags[2] = { 0, FRAMEVEC_IMPORT_WRITE };
	struct ebuf b;

	ASSERT_EQ(0, ebuf_alloc(self->texpfd, 16, NULL, &b));
	memset(b.map, 0x77, b.len);
	ASSERT_IMPORT_OK(self->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &dfd);
	dm = mmap(NULL, b.len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, dm);

	for (i = 0; i < 2; i++) {
		ret[i] = fv_import(self->devfd, dm, b.len, flags[i], &nfd[i]);
		EXPECT_EQ(EOPNOTSUPP, ret[i]) {
			TH_LOG("R5: the %s nested import of a dma-buf of revocable memory %s (%s)",
			       flags[i] ? "writable" : "read-only", ret[i] ? "failed" : "succeeded",
			       strerror(ret[i]));
		}
	}
	/* if taken, its users are writers too */
	if (!ret[1]) {
		nm[1] = mmap(NULL, b.len, PROT_READ | PROT_WRITE, MAP_SHARED, nfd[1], 0);
		ASSERT_NE(MAP_FAILED, nm[1]);
		writer[2] = start_writer(nm[1], b.len);
	}
	writer[0] = start_writer(dm, b.len);
	writer[1] = start_writer(b.map, b.len);
	usleep(100000);

	ASSERT_EQ(0, texp_revoke(self->texpfd, b.handle));
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));
	usleep(200000);
	for (i = 0; i < 3; i++)
		if (writer[i] > 0)
			EXPECT_EQ(SIGBUS, stop_writer(writer[i], 2000)) {
				TH_LOG("writer %d through the %s kept running", i,
				       i == 0 ? "dma-buf mmap" : i == 1 ? "exporter's mapping" :
				       "nested dma-buf mmap");
			}
	ASSERT_POISON_KEPT(self->texpfd, b.handle, 16);

	for (i = 0; i < 2; i++) {
		if (nm[i])
			munmap(nm[i], b.len);
		if (nfd[i] >= 0)
			close(nfd[i]);
	}
	munmap(dm, b.len);
	close(dfd);
	ebuf_unmap(&b);
}

/* The pfns of the live framevec whose first address is @start: count or -1 */
static long framevec_pfns(const void *start, uint64_t *pfns, long max)
{
	char line[512];
	unsigned long s, pfn, pages;
	long n = -1;
	bool in = false;
	FILE *f = fopen(FV_FRAMEVECS, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (!strncmp(line, "framevec ", 9)) {
			p = strstr(line, "start=");
			in = p && sscanf(p, "start=%lx", &s) == 1 && s == (uintptr_t)start;
			if (in)
				n = 0;
			continue;
		}
		p = strstr(line, "run pfn=");
		if (in && p && sscanf(p, "run pfn=%lx pages=%lu", &pfn, &pages) == 2)
			for (; pages; pages--, pfn++, n++)
				if (n < max)
					pfns[n] = pfn;
	}
	fclose(f);
	return n;
}

/*
 * R5, the other side: framevec's dma-buf of ordinary anonymous memory
 * (static exporter) mmapped and imported again is taken; it holds the same
 * page frames, is not revocable, so a static importer takes it, and what
 * is written through it is in the original memory.
 */
TEST_F(revocation, nested_import_of_an_anonymous_dmabuf_has_the_same_pfns)
{
	const size_t n = 16, len = n * FV_PAGE;
	uint64_t orig[16], nested[16], dmapfns[16];
	unsigned char *anon, *dm, *nm;
	int dfd = -1, nfd = -1, tifd;
	long cnt;
	size_t i;

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	fill_pattern(anon, len, 0x1234);
	ASSERT_IMPORT_OK(self->devfd, anon, len, FRAMEVEC_IMPORT_WRITE, &dfd);
	dm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, dm);
	ASSERT_IMPORT_OK(self->devfd, dm, len, FRAMEVEC_IMPORT_WRITE, &nfd);

	ASSERT_EQ(n, framevec_pfns(anon, orig, n));
	ASSERT_EQ(n, framevec_pfns(dm, nested, n));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(fv_pagemap_pfn(anon + i * FV_PAGE), orig[i]);
		EXPECT_EQ(orig[i], nested[i]) TH_LOG("page %zu", i);
	}

	/* not revocable: a static importer (fv_test_importer) takes it */
	tifd = open(FVTI_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tifd) TH_LOG("modprobe fv_test_importer");
	cnt = fvti_pfns(tifd, nfd, 0, dmapfns, n);
	EXPECT_EQ((long)n, cnt) {
		TH_LOG("R5: a static importer cannot take the nested dma-buf: %s",
		       cnt < 0 ? strerror(-cnt) : "wrong size");
	}
	if (cnt == (long)n)
		for (i = 0; i < n; i++)
			EXPECT_EQ(orig[i], dmapfns[i]);
	close(tifd);

	nm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0);
	ASSERT_NE(MAP_FAILED, nm);
	EXPECT_EQ(0, check_pattern(nm, len, 0x1234));
	fill_pattern(nm, len, 0x5678);
	EXPECT_EQ(0, check_pattern(anon, len, 0x5678));

	munmap(nm, len);
	close(nfd);
	munmap(dm, len);
	close(dfd);
	munmap(anon, len);
}

/* ---- R1/R3 with real device DMA: QEMU's edu behind the Intel IOMMU ---- */

/*
 * edu streams into exporter memory through a dynamic attachment, chunk by
 * chunk. Chunk 1 lands. The exporter revokes; chunk 2 (the device writing
 * what its buffer still holds) must find the mapping gone: its map fails
 * with ENODEV and no DMA starts. No DMAR fault (the harness), the freed
 * memory keeps its poison.
 */
TEST_F(revocation, edu_dma_stops_between_chunks_when_revoked)
{
	struct fvte_chunk ch = {};
	struct fvte_dyn_status st;
	int edu, dfd = -1, ret;
	struct ebuf b;

	edu = open(FVTE_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu) TH_LOG("no edu device: VM_PROFILE=iommu+edu, modprobe fv_test_edu");
	ASSERT_EQ(0, ebuf_alloc(self->texpfd, 4, NULL, &b));
	memset(b.map, 0, b.len);
	fv_fill(b.map, FV_PAGE, 41);
	ASSERT_IMPORT_OK(self->devfd, b.map, b.len, FRAMEVEC_IMPORT_WRITE, &dfd);
	ASSERT_EQ(0, ioctl(edu, FVTE_DYN_ATTACH, &dfd));

	/* chunk 1: page 0 -> device -> page 2 */
	ch.len = FV_PAGE / 2;
	ch.flags = FVTE_CHUNK_TO_DEVICE | FVTE_CHUNK_FROM_DEVICE;
	ch.src = 0;
	ch.dst = 2 * FV_PAGE;
	ASSERT_EQ(0, ioctl(edu, FVTE_DYN_DMA, &ch));
	EXPECT_EQ(0, fv_check(b.map + 2 * FV_PAGE, FV_PAGE / 2, 41));
	EXPECT_GT(1ULL << 28, ch.dma_dst);
	TH_LOG("chunk 1: the device read bus address %#llx and wrote %#llx",
	       (unsigned long long)ch.dma_src, (unsigned long long)ch.dma_dst);

	ASSERT_EQ(0, texp_revoke(self->texpfd, b.handle));
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));

	/* chunk 2: device -> page 3 */
	memset(&ch, 0, sizeof(ch));
	ch.len = FV_PAGE / 2;
	ch.flags = FVTE_CHUNK_FROM_DEVICE;
	ch.dst = 3 * FV_PAGE;
	ret = ioctl(edu, FVTE_DYN_DMA, &ch) ? errno : 0;
	EXPECT_EQ(ENODEV, ret) {
		if (ret)
			TH_LOG("chunk 2 after the revoke failed: %s", strerror(ret));
		else
			TH_LOG("chunk 2 after the revoke ran: the device wrote at bus address %#llx",
			       (unsigned long long)ch.dma_dst);
	}
	ASSERT_EQ(0, ioctl(edu, FVTE_DYN_STATUS, &st));
	EXPECT_EQ(1, st.move_notify_calls);
	EXPECT_EQ(1, st.maps);
	if (ret)
		EXPECT_EQ(-ret, st.last_map_err);
	EXPECT_EQ(0, ioctl(edu, FVTE_DYN_DETACH));
	close(edu);

	ASSERT_POISON_KEPT(self->texpfd, b.handle, 4);
	close(dfd);
	ebuf_unmap(&b);
}

/*
 * ---- R2: a vmap importer (vivid capture, vmalloc allocator) ----
 *
 * Last in the file: on 6.12 dma_buf_vmap() WARNs (WARN_ON_ONCE) when the
 * exporter's vmap op fails, and the VM runs with panic_on_warn, so a
 * refusal made that way ends the run here rather than before the others.
 */

#define VIVID_BUFS	3

static int vivid_dqbuf(int vfd, int timeout_ms)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF };
	struct pollfd p = { .fd = vfd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	return ioctl(vfd, VIDIOC_DQBUF, &b) ? -errno : (int)b.index;
}

static int vivid_qbuf(int vfd, unsigned int index, int dmafd, size_t len)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .length = len,
	};

	b.m.fd = dmafd;
	return ioctl(vfd, VIDIOC_QBUF, &b) ? errno : 0;
}

/*
 * vb2-vmalloc maps a DMABUF capture buffer with dma_buf_vmap() at QBUF and
 * vivid's thread writes the frames through that kernel mapping, which no
 * revocation can reach. R2: a revocable framevec is never vmapped, so QBUF
 * or STREAMON fails and vivid writes nothing. Whatever the code does, no
 * frame may land in the memory after the exporter's revoke returned.
 */
TEST_F_TIMEOUT(revocation, vivid_vmalloc_capture_never_writes_after_revoke, 240)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers rb = {
		.count = VIVID_BUFS, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int vfd, tcfd, dfd[VIVID_BUFS], qbuf_err = 0, streamon_err = -1, i, idx;
	unsigned int frames_before = 0, frames_after = 0, npages, lines = 0;
	size_t blen, untouched = 0;
	unsigned char sample[64];
	struct fvtc_cpu cpu = {};
	struct ebuf b;
	uint64_t end;

	vfd = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_LE(0, vfd) TH_LOG("modprobe vivid n_devs=1 allocators=0");
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_G_FMT, &fmt));
	fmt.fmt.pix.width = 320;
	fmt.fmt.pix.height = 180;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_S_FMT, &fmt));
	npages = (fmt.fmt.pix.sizeimage + FV_PAGE - 1) / FV_PAGE;
	blen = (size_t)npages * FV_PAGE;
	TH_LOG("capture %ux%u %.4s field %u, %u bytes per line, %u per frame, %u pages per buffer",
	       fmt.fmt.pix.width, fmt.fmt.pix.height, (char *)&fmt.fmt.pix.pixelformat,
	       fmt.fmt.pix.field, fmt.fmt.pix.bytesperline, fmt.fmt.pix.sizeimage, npages);

	/* one exporter buffer, one framevec dma-buf per capture buffer */
	ASSERT_EQ(0, ebuf_alloc(self->texpfd, VIVID_BUFS * npages, NULL, &b));
	memset(b.map, 0xa5, b.len);
	for (i = 0; i < VIVID_BUFS; i++)
		ASSERT_IMPORT_OK(self->devfd, b.map + i * blen, blen, FRAMEVEC_IMPORT_WRITE, &dfd[i]);

	/*
	 * R2: a dma-buf importer's vmap of revocable memory is refused. On
	 * 6.12 dma_buf_vmap() WARNs when the exporter's vmap op fails
	 * (dma-buf.c:1540), so such a dma-buf has no vmap op and the core
	 * returns EINVAL without a WARN.
	 */
	tcfd = open(FVTC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, tcfd) TH_LOG("modprobe fv_test_consumer");
	cpu.fd = dfd[0];
	cpu.length = sizeof(sample);
	cpu.user_ptr = (uintptr_t)sample;
	EXPECT_EQ(-1, ioctl(tcfd, FVTC_VMAP_READ, &cpu)) {
		TH_LOG("R2: dma_buf_vmap() of a dma-buf of revocable memory succeeded");
	}
	EXPECT_EQ(EINVAL, errno);
	close(tcfd);

	ASSERT_EQ(0, ioctl(vfd, VIDIOC_REQBUFS, &rb));
	ASSERT_LE(VIVID_BUFS, rb.count);
	for (i = 0; i < VIVID_BUFS && !qbuf_err; i++)
		qbuf_err = vivid_qbuf(vfd, i, dfd[i], blen);
	if (!qbuf_err)
		streamon_err = ioctl(vfd, VIDIOC_STREAMON, &type) ? errno : 0;
	TH_LOG("QBUF: %s, STREAMON: %s", strerror(qbuf_err),
	       streamon_err < 0 ? "not tried" : strerror(streamon_err));
	EXPECT_TRUE(qbuf_err || streamon_err) {
		TH_LOG("R2: vivid streams into revocable memory through a kernel mapping");
	}

	if (!qbuf_err && !streamon_err) {
		/* it captures: one frame must have landed before the revoke */
		idx = vivid_dqbuf(vfd, 20000);
		ASSERT_LE(0, idx);
		frames_before++;
		/* every line of the picture (bytesperline may pad it) */
		for (unsigned int y = 0; y < fmt.fmt.pix.height; y++) {
			const unsigned char *line = b.map + idx * blen + y * fmt.fmt.pix.bytesperline;
			size_t k;

			for (k = 0; k < fmt.fmt.pix.width * 2 && line[k] == 0xa5; k++)
				;
			lines += k < fmt.fmt.pix.width * 2;
		}
		EXPECT_EQ(fmt.fmt.pix.height, lines) {
			TH_LOG("the dequeued frame is not in the exporter's memory");
		}
		vivid_qbuf(vfd, idx, dfd[idx], blen);
	} else {
		/* nothing ever wrote the memory */
		for (size_t k = 0; k < b.len; k++)
			untouched += b.map[k] == 0xa5;
		EXPECT_EQ(b.len, untouched);
	}

	ASSERT_EQ(0, texp_revoke(self->texpfd, b.handle));
	ASSERT_EQ(0, texp_quarantine(self->texpfd, b.handle));

	if (!qbuf_err && !streamon_err) {
		/* vivid keeps its queued buffers; let it run 2 s more */
		end = now_ns() + 2000000000ULL;
		while (now_ns() < end) {
			idx = vivid_dqbuf(vfd, 100);
			if (idx < 0)
				continue;
			frames_after++;
			vivid_qbuf(vfd, idx, dfd[idx], blen);
		}
		EXPECT_EQ(0, ioctl(vfd, VIDIOC_STREAMOFF, &type));
	}
	rb.count = 0;
	EXPECT_EQ(0, ioctl(vfd, VIDIOC_REQBUFS, &rb));
	close(vfd);
	for (i = 0; i < VIVID_BUFS; i++)
		close(dfd[i]);
	TH_LOG("frames captured before the revoke: %u, dequeued after it: %u", frames_before,
	       frames_after);
	ASSERT_POISON_KEPT(self->texpfd, b.handle, VIVID_BUFS * npages);
	ebuf_unmap(&b);
}

TEST_HARNESS_MAIN
