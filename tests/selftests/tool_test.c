// SPDX-License-Identifier: GPL-2.0
/*
 * The framevec tool (/usr/bin/framevec in the VM): each subcommand's output
 * and exit code. `framevec explain` runs on a child process of the test that
 * maps anonymous, THP, PROT_NONE, read-only memory, a hole, a vivid
 * dma-contig MMAP buffer (vb2), a system dma-heap buffer, a coherent buffer
 * of fv_test_exporter (iomem) and, in the ivshmem profile, a PCI BAR through
 * sysfs resource2. The suite loads vivid and the exporter first:
 *   modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0
 *   modprobe fv_test_exporter
 */
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <linux/dma-heap.h>
#include <linux/videodev2.h>

#include "framevec_test.h"
#include "vivid_helpers.h"
#include "fv_test_exporter.h"

#define TOOL "framevec"
#define HUGE (2UL << 20)

/* What the child maps; its addresses come back through a pipe */
struct maps {
	uintptr_t anon, thp, none, ro, hole, vb2, heap, iomem, bar;
	size_t vb2_len;
};

/* Run a shell command; return its exit code, its stdout in @out */
static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	size_t n = 0;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < size && !feof(p))
		n += fread(out + n, 1, size - 1 - n, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* sysfs resource2 (the shared memory BAR) of an ivshmem-plain device, or -1 */
static int open_ivshmem_bar(void)
{
	char path[128], out[64];
	FILE *f;

	f = popen("grep -l 0x1110 /sys/bus/pci/devices/*/device 2>/dev/null", "r");
	if (!f)
		return -1;
	if (!fgets(out, sizeof(out) - 1, f) || !strrchr(out, '/')) {
		pclose(f);
		return -1;
	}
	pclose(f);
	*strrchr(out, '/') = 0;	/* .../0000:00:02.0/device -> .../0000:00:02.0 */
	/* a BAR is mapped only while the device's memory decoding is on */
	snprintf(path, sizeof(path), "%s/enable", out);
	if (fv_write_file(path, "1"))
		return -1;
	snprintf(path, sizeof(path), "%s/resource2", out);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* In the child: map everything, report, wait to be killed. */
static void mapper(int wfd)
{
	struct maps m = {};
	char *p;
	int fd;

	p = mmap(NULL, 8 * FV_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	m.anon = (uintptr_t)p;
	m.none = m.anon + 2 * FV_PAGE;
	mprotect(p + 2 * FV_PAGE, FV_PAGE, PROT_NONE);
	m.ro = m.anon + 4 * FV_PAGE;
	mprotect(p + 4 * FV_PAGE, FV_PAGE, PROT_READ);
	m.hole = m.anon + 6 * FV_PAGE;
	munmap(p + 6 * FV_PAGE, FV_PAGE);

	p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m.thp = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	madvise((void *)m.thp, HUGE, MADV_HUGEPAGE);
	memset((void *)m.thp, 1, HUGE);

	fd = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	if (fd >= 0) {
		struct v4l2_requestbuffers rb = { .count = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
						  .memory = V4L2_MEMORY_MMAP };
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };

		if (!ioctl(fd, VIDIOC_REQBUFS, &rb) && !ioctl(fd, VIDIOC_QUERYBUF, &b)) {
			p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
			if (p != MAP_FAILED) {
				m.vb2 = (uintptr_t)p;
				m.vb2_len = b.length;
			}
		}
	}
	fd = open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		struct dma_heap_allocation_data a = {
			.len = 4 * FV_PAGE, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (!ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &a)) {
			p = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
			if (p != MAP_FAILED)
				m.heap = (uintptr_t)p;
		}
	}
	fd = open(FV_TEXP_DEV, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		struct fv_texp_alloc a = { .nr_pages = 4, .nr_chunks = 1 };

		if (!ioctl(fd, FV_TEXP_IOC_ALLOC, &a)) {
			p = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				 a.mmap_offset);
			if (p != MAP_FAILED)
				m.iomem = (uintptr_t)p;
		}
	}
	fd = open_ivshmem_bar();
	if (fd >= 0) {
		p = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			m.bar = (uintptr_t)p;
	}
	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(1);
	pause();
	_exit(0);
}

FIXTURE(tool) {
	pid_t child;
	struct maps m;
	char out[8192];
	struct fv_counters base;
};

FIXTURE_SETUP(tool)
{
	int pfd[2];

	FV_BECOME_USER();
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, pipe(pfd));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		/* die with the test even if it fails before its teardown */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		mapper(pfd[1]);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(self->m), read(pfd[0], &self->m, sizeof(self->m)));
	close(pfd[0]);
}

FIXTURE_TEARDOWN(tool)
{
	int st;

	kill(self->child, SIGKILL);
	waitpid(self->child, &st, 0);
	ASSERT_AT_BASELINE(&self->base);
}

#define EXPLAIN(self, opts, addr, len) \
	run((self)->out, sizeof((self)->out), TOOL " explain " opts " %d %#lx %lu", \
	    (self)->child, (unsigned long)(addr), (unsigned long)(len))
#define HAS(self, s) (strstr((self)->out, s) != NULL)

TEST_F(tool, explain_anonymous_ok)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	ASSERT_EQ(0, EXPLAIN(self, "", self->m.anon, 2 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "rw-p anonymous"));
	EXPECT_TRUE(HAS(self, "ok: source pages takes it"));
	EXPECT_TRUE(HAS(self, "verdict: ok"));
}

TEST_F(tool, explain_thp_ok)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	FV_SKIP_WITHOUT_THP(return);
	ASSERT_EQ(0, EXPLAIN(self, "--write", self->m.thp, HUGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "thp"));
	EXPECT_TRUE(HAS(self, "2 MiB"));
	EXPECT_TRUE(HAS(self, "ok: source pages"));
}

TEST_F(tool, explain_prot_none_refused_with_reason)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	ASSERT_EQ(1, EXPLAIN(self, "", self->m.anon, 4 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "REFUSED EACCES"));
	EXPECT_TRUE(HAS(self, "PROT_NONE; mprotect() it readable"));
	EXPECT_TRUE(HAS(self, "verdict: refused: 1 of 3 parts"));
}

TEST_F(tool, explain_hole_and_read_only_for_write)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	ASSERT_EQ(1, EXPLAIN(self, "--write", self->m.ro, 3 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "read-only; import it without the write flag"));
	EXPECT_TRUE(HAS(self, "hole"));
	EXPECT_TRUE(HAS(self, "REFUSED EFAULT"));
	/* without --write the read-only part is fine, the hole is not */
	ASSERT_EQ(1, EXPLAIN(self, "", self->m.ro, 2 * FV_PAGE + 1));
	EXPECT_TRUE(HAS(self, "verdict: refused: 1 of 3 parts"));
	ASSERT_EQ(0, EXPLAIN(self, "", self->m.ro, 1));	/* widened to the page */
}

TEST_F(tool, explain_vb2_buffer_taken_by_vb2)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	if (!self->m.vb2)
		SKIP(return, "vivid not loaded");
	ASSERT_EQ(0, EXPLAIN(self, "--write", self->m.vb2, self->m.vb2_len)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "rw-s io pfnmap device /dev/video"));
	EXPECT_TRUE(HAS(self, "ok: source vb2 takes it, holding the videobuf2 buffer's refcount"));
	/* not revocable: an in-kernel importer without callback takes it too */
	ASSERT_EQ(0, EXPLAIN(self, "--in-kernel", self->m.vb2, self->m.vb2_len));
}

/* The system heap is a static exporter: held by its file, never revoked */
TEST_F(tool, explain_dma_heap_buffer_needs_no_revoke_callback)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	if (!self->m.heap)
		SKIP(return, "no /dev/dma_heap/system");
	ASSERT_EQ(0, EXPLAIN(self, "", self->m.heap, 4 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "dma-buf /dmabuf:"));
	EXPECT_TRUE(HAS(self, "ok: source dma-buf takes it"));
	EXPECT_FALSE(HAS(self, "revoke callback"));
	ASSERT_EQ(0, EXPLAIN(self, "--in-kernel", self->m.heap, 4 * FV_PAGE)) TH_LOG("%s", self->out);
}

TEST_F(tool, explain_iomem_buffer_taken_by_iomem)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	if (!self->m.iomem)
		SKIP(return, "fv_test_exporter not loaded");
	ASSERT_EQ(0, EXPLAIN(self, "--write", self->m.iomem, 4 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "pfnmap"));
	EXPECT_TRUE(HAS(self, "ok: source iomem takes it"));
	/* the exporter can revoke: an importer without a callback cannot take it */
	ASSERT_EQ(1, EXPLAIN(self, "--in-kernel", self->m.iomem, 4 * FV_PAGE));
	EXPECT_TRUE(HAS(self, "REFUSED EOPNOTSUPP"));
	EXPECT_TRUE(HAS(self, "revoke callback"));
}

TEST_F(tool, explain_sysfs_bar_refused_with_the_way_out)
{
	FV_SKIP_AS_NOBODY(return, "explaining another process (the mapper) needs CAP_SYS_PTRACE, even of the same user");
	if (!self->m.bar)
		SKIP(return, "no ivshmem-plain device (VM profile ivshmem)");
	ASSERT_EQ(1, EXPLAIN(self, "", self->m.bar, 4 * FV_PAGE)) TH_LOG("%s", self->out);
	EXPECT_TRUE(HAS(self, "io pfnmap"));
	EXPECT_TRUE(HAS(self, "REFUSED EOPNOTSUPP"));
	/* it says which source would take it and how to get there */
	EXPECT_TRUE(HAS(self, "revocable"));
	EXPECT_TRUE(HAS(self, "revoke callback"));
}

TEST_F(tool, explain_other_user_is_refused_with_exit_3)
{
	/* busybox su is not there: drop privileges with a tiny setuid wrapper */
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (!pid) {
		char a[32], p[32];

		snprintf(p, sizeof(p), "%d", self->child);
		snprintf(a, sizeof(a), "%#lx", (unsigned long)self->m.anon);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp(TOOL, TOOL, "explain", p, a, "4096", NULL);
		_exit(98);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

TEST_F(tool, explain_usage_errors_are_exit_2)
{
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " explain 2>&1"));
	EXPECT_TRUE(HAS(self, "usage: framevec explain"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " explain 1 zz 4096 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " explain 1 0x1000 0 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " explain 1 0x1000 4Q 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " explain --bogus 1 0x1000 1 2>&1"));
	/* a pid that does not exist is a failure, not a usage error */
	EXPECT_EQ(4, run(self->out, sizeof(self->out), TOOL " explain 999999 0x1000 4K 2>&1"));
	EXPECT_TRUE(HAS(self, "no such process"));
}

TEST_F(tool, help_for_every_subcommand)
{
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " --help"));
	EXPECT_TRUE(HAS(self, "Exit codes:"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " explain --help"));
	EXPECT_TRUE(HAS(self, "usage: framevec explain"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " stat --help"));
	EXPECT_TRUE(HAS(self, "usage: framevec stat"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " demo --help"));
	EXPECT_TRUE(HAS(self, "usage: framevec demo"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " bench --help"));
	EXPECT_TRUE(HAS(self, "usage: framevec bench"));
	EXPECT_EQ(0, run(self->out, sizeof(self->out), TOOL " help stat"));
	EXPECT_TRUE(HAS(self, "usage: framevec stat"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " frobnicate 2>&1"));
	EXPECT_TRUE(HAS(self, "unknown command"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " stat extra 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " demo --frames 0 2>&1"));
}

/*
 * Column @col (1: the source) of the framevec bench table row starting with
 * @row, or -1
 */
static double bench_column(const char *out, const char *row, int col)
{
	const char *l = strstr(out, row);

	if (!l)
		return -1;
	for (int i = 1; i < col; i++) {
		l = strchr(l + 1, '|');
		if (!l)
			return -1;
	}
	return strtod(l + 1, NULL);
}

TEST_F(tool, bench_needs_fv_bench_then_prints_ratios)
{
	FV_SKIP_AS_NOBODY(return, "it loads and unloads fv_bench");
	system("rmmod fv_bench 2>/dev/null");
	EXPECT_EQ(3, run(self->out, sizeof(self->out), TOOL " bench --iters 1 2>&1"));
	EXPECT_TRUE(HAS(self, "modprobe fv_bench"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " bench --iters 0 2>&1"));
	ASSERT_EQ(0, system("modprobe fv_bench"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " bench --sizes 3M 2>&1"));
	EXPECT_EQ(2, run(self->out, sizeof(self->out), TOOL " bench --sources swap 2>&1"));
	ASSERT_EQ(0, run(self->out, sizeof(self->out),
			 TOOL " bench --iters 3 --sizes 2M --sources anon,thp 2>&1"));
	if (fv_have_thp()) {
		EXPECT_TRUE(HAS(self, "| THP | 2.0 MiB | 512 |"));
	} else {
		EXPECT_TRUE(HAS(self, "| THP | 2 MiB | skipped: no transparent huge pages in this kernel |"));
	}
	EXPECT_TRUE(HAS(self, "imp/pupf"));
	EXPECT_TRUE(HAS(self, "live imports of one 4 KiB page each"));
	/* framevec's metadata for 4 KiB pages is at most the 8 bytes of a pointer */
	EXPECT_GE(8.0, bench_column(self->out, "| anon 4K | 2.0 MiB |", 14));
	EXPECT_LE(0.0, bench_column(self->out, "| anon 4K | 2.0 MiB |", 14));
	ASSERT_EQ(0, system("rmmod fv_bench"));
}

/* Lines like "  pages                   3" of `framevec stat` */
static long stat_value(const char *out, const char *label)
{
	const char *l = strstr(out, label);

	return l ? strtol(l + strlen(label), NULL, 10) : -1;
}

TEST_F(tool, stat_shows_a_live_import)
{
	FV_SKIP_AS_NOBODY(return, "framevec stat reads root-only debugfs (stat_without_debugfs_access_is_exit_3 runs)");
	int devfd = open(FV_DEV, O_RDWR | O_CLOEXEC), fd = -1;
	char *buf = mmap(NULL, 16 * FV_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	ASSERT_LE(0, devfd);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), TOOL " stat"));
	EXPECT_EQ(self->base.live_framevecs, stat_value(self->out, "live imports (framevecs)"));
	EXPECT_EQ(self->base.refs_pages, stat_value(self->out, "\n  pages"));
	ASSERT_IMPORT_OK(devfd, buf, 16 * FV_PAGE, 0, &fd);
	ASSERT_EQ(0, run(self->out, sizeof(self->out), TOOL " stat"));
	EXPECT_EQ(self->base.live_framevecs + 1, stat_value(self->out, "live imports (framevecs)"));
	EXPECT_EQ(self->base.pinned_pages + 16, stat_value(self->out, "pinned pages"));
	EXPECT_EQ(self->base.refs_pages + 1, stat_value(self->out, "\n  pages"));
	close(fd);
	close(devfd);
	munmap(buf, 16 * FV_PAGE);
}

TEST_F(tool, stat_without_debugfs_access_is_exit_3)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(99);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp(TOOL, TOOL, "stat", NULL);
		_exit(98);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
