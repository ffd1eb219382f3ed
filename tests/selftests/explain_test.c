// SPDX-License-Identifier: GPL-2.0
/*
 * FRAMEVEC_IOC_EXPLAIN: the verdict on each VMA piece and hole of a range,
 * its ABI rules, and that it takes no reference.
 */
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "framevec_test.h"

#define NR_ENTRIES 16

FIXTURE(explain) {
	int devfd;
	char *buf;		/* 8 pages, read-write, anonymous, populated */
	struct framevec_explain_entry e[NR_ENTRIES];
	__u32 nr;
	struct fv_counters base;
};

FIXTURE_SETUP(explain)
{
	FV_BECOME_USER();
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->buf = mmap(NULL, 8 * FV_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(explain)
{
	munmap(self->buf, 8 * FV_PAGE);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

#define EXPLAIN(self, pid, addr, len, flags) \
	({ (self)->nr = NR_ENTRIES; \
	   memset((self)->e, 0x5a, sizeof((self)->e)); \
	   fv_explain((self)->devfd, pid, addr, len, flags, (self)->e, &(self)->nr); })

static int raw_explain(int devfd, void *arg)
{
	return ioctl(devfd, FRAMEVEC_IOC_EXPLAIN, arg) ? errno : 0;
}

TEST_F(explain, anonymous_is_taken_by_pages)
{
	struct framevec_explain_entry *e = &self->e[0];

	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, FRAMEVEC_EXPLAIN_WRITE));
	ASSERT_EQ(1, self->nr);
	EXPECT_EQ((uintptr_t)self->buf, e->start);
	EXPECT_EQ((uintptr_t)self->buf + 8 * FV_PAGE, e->end);
	EXPECT_EQ(FRAMEVEC_BACKING_ANON, e->backing);
	EXPECT_EQ(FRAMEVEC_EXPLAIN_SOURCE_PAGES, e->source);
	EXPECT_EQ(0, e->error);
	EXPECT_EQ(0, e->error_revocable);
	EXPECT_EQ(FRAMEVEC_VMA_READ | FRAMEVEC_VMA_WRITE,
		  e->vm_flags & (FRAMEVEC_VMA_READ | FRAMEVEC_VMA_WRITE | FRAMEVEC_VMA_SHARED |
				 FRAMEVEC_VMA_IO | FRAMEVEC_VMA_PFNMAP));
	EXPECT_EQ('\0', e->why[0]);
	EXPECT_EQ('\0', e->name[0]);
}

TEST_F(explain, thp_is_taken_by_pages)
{
	size_t huge = 2UL << 20;
	char *map = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *thp;

	FV_SKIP_WITHOUT_THP(munmap(map, 2 * huge); return);
	ASSERT_NE(MAP_FAILED, map);
	thp = (char *)(((uintptr_t)map + huge - 1) & ~(huge - 1));
	ASSERT_EQ(0, madvise(thp, huge, MADV_HUGEPAGE));
	memset(thp, 1, huge);
	ASSERT_EQ(0, EXPLAIN(self, 0, thp, huge, FRAMEVEC_EXPLAIN_WRITE));
	ASSERT_EQ(1, self->nr);
	EXPECT_EQ(FRAMEVEC_BACKING_ANON, self->e[0].backing);
	EXPECT_TRUE(self->e[0].vm_flags & FRAMEVEC_VMA_HUGEPAGE);
	EXPECT_EQ(FRAMEVEC_EXPLAIN_SOURCE_PAGES, self->e[0].source);
	EXPECT_EQ(0, self->e[0].error);
	/* and the import agrees with the verdict */
	ASSERT_IMPORT_OK(self->devfd, thp, huge, FRAMEVEC_IMPORT_WRITE, NULL);
	munmap(map, 2 * huge);
}

TEST_F(explain, prot_none_piece_is_eacces_with_reason)
{
	struct framevec_explain_entry *e = self->e;

	ASSERT_EQ(0, mprotect(self->buf + 2 * FV_PAGE, FV_PAGE, PROT_NONE));
	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, 0));
	ASSERT_EQ(3, self->nr);
	EXPECT_EQ(0, e[0].error);
	EXPECT_EQ((uintptr_t)self->buf + 2 * FV_PAGE, e[1].start);
	EXPECT_EQ((uintptr_t)self->buf + 3 * FV_PAGE, e[1].end);
	EXPECT_EQ(EACCES, e[1].error);
	EXPECT_EQ(EACCES, e[1].error_revocable);
	EXPECT_EQ(FRAMEVEC_EXPLAIN_NO_SOURCE, e[1].source);
	EXPECT_EQ(0, e[1].vm_flags & (FRAMEVEC_VMA_READ | FRAMEVEC_VMA_WRITE | FRAMEVEC_VMA_EXEC));
	EXPECT_NE(NULL, strstr(e[1].why, "PROT_NONE"));
	EXPECT_EQ(0, e[2].error);
	/* the import fails with the errno explain predicted */
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, self->buf, 8 * FV_PAGE, 0);
}

TEST_F(explain, hole_gets_its_own_entry)
{
	ASSERT_EQ(0, munmap(self->buf + 4 * FV_PAGE, 2 * FV_PAGE));
	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, 0));
	ASSERT_EQ(3, self->nr);
	EXPECT_EQ(FRAMEVEC_BACKING_HOLE, self->e[1].backing);
	EXPECT_EQ((uintptr_t)self->buf + 4 * FV_PAGE, self->e[1].start);
	EXPECT_EQ((uintptr_t)self->buf + 6 * FV_PAGE, self->e[1].end);
	EXPECT_EQ(EFAULT, self->e[1].error);
	EXPECT_NE(NULL, strstr(self->e[1].why, "not mapped"));
	/* entries tile the range: each starts where the last ended */
	EXPECT_EQ(self->e[0].end, self->e[1].start);
	EXPECT_EQ(self->e[1].end, self->e[2].start);
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, self->buf, 8 * FV_PAGE, 0);
}

TEST_F(explain, read_only_refused_only_for_write)
{
	ASSERT_EQ(0, mprotect(self->buf, 8 * FV_PAGE, PROT_READ));
	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, 0));
	EXPECT_EQ(0, self->e[0].error);
	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, FRAMEVEC_EXPLAIN_WRITE));
	EXPECT_EQ(EACCES, self->e[0].error);
	EXPECT_NE(NULL, strstr(self->e[0].why, "read-only"));
}

TEST_F(explain, memfd_is_shmem_with_its_name)
{
	int mfd = memfd_create("fv-explain", 0);
	char *m;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 2 * FV_PAGE));
	m = mmap(NULL, 2 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, EXPLAIN(self, 0, m, 2 * FV_PAGE, FRAMEVEC_EXPLAIN_WRITE));
	ASSERT_EQ(1, self->nr);
	EXPECT_EQ(FRAMEVEC_BACKING_SHMEM, self->e[0].backing);
	EXPECT_TRUE(self->e[0].vm_flags & FRAMEVEC_VMA_SHARED);
	EXPECT_NE(NULL, strstr(self->e[0].name, "memfd:fv-explain"));
	EXPECT_EQ(FRAMEVEC_EXPLAIN_SOURCE_PAGES, self->e[0].source);
	EXPECT_EQ(0, self->e[0].error);
	munmap(m, 2 * FV_PAGE);
	close(mfd);
}

TEST_F(explain, too_small_array_is_emsgsize_with_count)
{
	struct framevec_explain_entry e[2];
	__u32 nr = 2;

	/* 5 entries: rw, none, rw, hole, rw */
	ASSERT_EQ(0, mprotect(self->buf + FV_PAGE, FV_PAGE, PROT_NONE));
	ASSERT_EQ(0, munmap(self->buf + 4 * FV_PAGE, FV_PAGE));
	memset(e, 0, sizeof(e));
	ASSERT_EQ(EMSGSIZE, fv_explain(self->devfd, 0, self->buf, 8 * FV_PAGE, 0, e, &nr));
	ASSERT_EQ(5, nr);
	EXPECT_EQ((uintptr_t)self->buf, e[0].start);
	EXPECT_EQ(EACCES, e[1].error);
	nr = 0;
	ASSERT_EQ(EMSGSIZE, fv_explain(self->devfd, 0, self->buf, 8 * FV_PAGE, 0, NULL, &nr));
	ASSERT_EQ(5, nr);
}

TEST_F(explain, larger_entry_size_is_zero_filled)
{
	struct {
		struct framevec_explain_entry e;
		__u64 future[3];
	} big[2];
	struct framevec_explain arg = {
		.size = sizeof(arg), .nr_entries = 2, .addr = (uintptr_t)self->buf,
		.length = FV_PAGE, .entries = (uintptr_t)big, .entry_size = sizeof(big[0]),
	};

	memset(big, 0x5a, sizeof(big));
	ASSERT_EQ(0, raw_explain(self->devfd, &arg));
	ASSERT_EQ(1, arg.nr_entries);
	EXPECT_EQ(0, big[0].future[0] | big[0].future[1] | big[0].future[2]);
	EXPECT_EQ((uintptr_t)self->buf, big[0].e.start);
	/* the second slot was not written */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, big[1].e.start);
}

TEST_F(explain, abi_errors)
{
	struct framevec_explain_entry e;
	struct framevec_explain arg = {
		.size = sizeof(arg), .nr_entries = 1, .addr = (uintptr_t)self->buf,
		.length = FV_PAGE, .entries = (uintptr_t)&e, .entry_size = sizeof(e),
	};
	struct framevec_explain a;

	a = arg; a.flags = 1U << 31;
	EXPECT_EQ(EOPNOTSUPP, raw_explain(self->devfd, &a));
	a = arg; a.__reserved = 1;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.size = offsetof(struct framevec_explain, entry_size);
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.entry_size = sizeof(e) - 1;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.length = 0;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.addr += 8;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.length = FV_PAGE + 1;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.addr = ~0UL & ~(FV_PAGE - 1); a.length = 2 * FV_PAGE;
	EXPECT_EQ(EOVERFLOW, raw_explain(self->devfd, &a));
	/*
	 * The kernel half: beyond the user address space after untagged_addr()
	 * too (arm64 ignores the top byte: 1UL << 62 would be address 0 there)
	 */
	a = arg; a.addr = ~0UL << 55;
	EXPECT_EQ(EFAULT, raw_explain(self->devfd, &a));
	a = arg; a.pid = -1;
	EXPECT_EQ(EINVAL, raw_explain(self->devfd, &a));
	a = arg; a.pid = 0x3fffffff;	/* above PID_MAX_LIMIT */
	EXPECT_EQ(ESRCH, raw_explain(self->devfd, &a));
	a = arg; a.entries = 8;		/* unmapped user pointer */
	EXPECT_EQ(EFAULT, raw_explain(self->devfd, &a));
	a = arg; a.flags = FRAMEVEC_EXPLAIN_WRITE;
	EXPECT_EQ(0, raw_explain(self->devfd, &a));
}

TEST_F(explain, kernel_thread_has_no_mm)
{
	ASSERT_EQ(ESRCH, EXPLAIN(self, 2, self->buf, FV_PAGE, 0));	/* kthreadd */
}

/* A child maps a PROT_NONE page and waits; the parent explains it. */
TEST_F(explain, other_process_needs_cap_sys_ptrace)
{
	int pipefd[2], status;
	uintptr_t addr;
	pid_t child, prober;

	FV_SKIP_AS_NOBODY(return, "its first half explains another process as root");
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		void *p = mmap(NULL, 2 * FV_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		addr = (uintptr_t)p;
		if (write(pipefd[1], &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(sizeof(addr), read(pipefd[0], &addr, sizeof(addr)));

	/* root: sees the child's PROT_NONE mapping, not our memory there */
	ASSERT_EQ(0, EXPLAIN(self, child, (void *)addr, 2 * FV_PAGE, 0));
	ASSERT_EQ(1, self->nr);
	EXPECT_EQ(EACCES, self->e[0].error);
	EXPECT_EQ(FRAMEVEC_BACKING_ANON, self->e[0].backing);

	/* an unprivileged user: EPERM for the child, its own pid still works */
	prober = fork();
	ASSERT_LE(0, prober);
	if (!prober) {
		struct framevec_explain_entry e;
		__u32 nr = 1;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (fv_explain(self->devfd, child, (void *)addr, 2 * FV_PAGE, 0, &e, &nr) != EPERM)
			_exit(11);
		nr = 1;
		if (fv_explain(self->devfd, getpid(), self->buf, FV_PAGE, 0, &e, &nr) || nr != 1 ||
		    e.error)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(prober, waitpid(prober, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(explain, takes_no_reference)
{
	struct fv_counters c;

	ASSERT_EQ(0, EXPLAIN(self, 0, self->buf, 8 * FV_PAGE, FRAMEVEC_EXPLAIN_WRITE));
	ASSERT_EQ(0, fv_read_counters(&c));
	EXPECT_EQ(self->base.pinned_pages, c.pinned_pages);
	EXPECT_EQ(self->base.live_framevecs, c.live_framevecs);
	EXPECT_EQ(self->base.refs_pages, c.refs_pages);
}

TEST_HARNESS_MAIN
