// SPDX-License-Identifier: GPL-2.0
/*
 * FRAMEVEC_IOC_IMPORT error table: one test per row, each asserting the
 * exact errno and that nothing is left held.
 */
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "framevec_test.h"

FIXTURE(errors) {
	int devfd;
	char *buf;		/* 4 pages, read-write, anonymous */
	struct fv_counters base;
};

FIXTURE_SETUP(errors)
{
	FV_BECOME_USER();
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	self->buf = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(errors)
{
	munmap(self->buf, 4 * FV_PAGE);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* raw ioctl with a caller-built struct: returns errno or 0 */
static int raw_import(int devfd, void *arg)
{
	int ret = ioctl(devfd, FRAMEVEC_IOC_IMPORT, arg);

	if (ret == 0) {
		close(((struct framevec_import *)arg)->dmabuf_fd);
		return 0;
	}
	return errno;
}

TEST_F(errors, sane_import_succeeds)
{
	ASSERT_IMPORT_OK(self->devfd, self->buf, 4 * FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL);
}

TEST_F(errors, zero_length_is_einval)
{
	ASSERT_IMPORT_ERRNO(EINVAL, self->devfd, self->buf, 0, 0);
}

TEST_F(errors, unaligned_address_is_einval)
{
	ASSERT_IMPORT_ERRNO(EINVAL, self->devfd, self->buf + 8, FV_PAGE, 0);
}

TEST_F(errors, unaligned_length_is_einval)
{
	ASSERT_IMPORT_ERRNO(EINVAL, self->devfd, self->buf, FV_PAGE + 1, 0);
}

TEST_F(errors, wrapping_range_is_eoverflow)
{
	ASSERT_IMPORT_ERRNO(EOVERFLOW, self->devfd, (void *)(uintptr_t)(~0UL & ~(FV_PAGE - 1)),
			    2 * FV_PAGE, 0);
}

TEST_F(errors, beyond_user_space_is_efault)
{
	/* x86-64 user space ends below 1 << 47 (4-level) or 1 << 56 (5-level) */
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, (void *)(1UL << 62), FV_PAGE, 0);
}

TEST_F(errors, hole_in_range_is_efault)
{
	ASSERT_EQ(0, munmap(self->buf + FV_PAGE, FV_PAGE));
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, self->buf, 4 * FV_PAGE, 0);
}

TEST_F(errors, prot_none_is_eacces)
{
	ASSERT_EQ(0, mprotect(self->buf + 2 * FV_PAGE, FV_PAGE, PROT_NONE));
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, self->buf, 4 * FV_PAGE, 0);
}

TEST_F(errors, write_import_of_read_only_is_eacces)
{
	ASSERT_EQ(0, mprotect(self->buf, 4 * FV_PAGE, PROT_READ));
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, self->buf, 4 * FV_PAGE, FRAMEVEC_IMPORT_WRITE);
	/* the same range read-only is fine */
	ASSERT_IMPORT_OK(self->devfd, self->buf, 4 * FV_PAGE, 0, NULL);
}

TEST_F(errors, unknown_flag_is_eopnotsupp)
{
	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, self->buf, FV_PAGE, 1U << 31);
	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, self->buf, FV_PAGE, 1U << 1);
}

TEST_F(errors, nonzero_reserved_is_einval)
{
	struct framevec_import arg = {
		.size = sizeof(arg), .addr = (uintptr_t)self->buf, .length = FV_PAGE,
		.__reserved = 1,
	};

	ASSERT_EQ(EINVAL, raw_import(self->devfd, &arg));
}

TEST_F(errors, struct_too_small_is_einval)
{
	struct framevec_import arg = {
		.size = offsetof(struct framevec_import, dmabuf_fd),
		.addr = (uintptr_t)self->buf, .length = FV_PAGE,
	};

	ASSERT_EQ(EINVAL, raw_import(self->devfd, &arg));
	arg.size = 0;
	ASSERT_EQ(EINVAL, raw_import(self->devfd, &arg));
}

TEST_F(errors, larger_struct_with_zero_tail_is_accepted)
{
	struct {
		struct framevec_import base;
		__u64 future[4];
	} arg = {
		.base = { .size = sizeof(arg), .addr = (uintptr_t)self->buf, .length = FV_PAGE },
	};

	ASSERT_EQ(0, raw_import(self->devfd, &arg));
}

TEST_F(errors, larger_struct_with_nonzero_tail_is_e2big)
{
	struct {
		struct framevec_import base;
		__u64 future[4];
	} arg = {
		.base = { .size = sizeof(arg), .addr = (uintptr_t)self->buf, .length = FV_PAGE },
		.future = { 0, 0, 7, 0 },
	};

	ASSERT_EQ(E2BIG, raw_import(self->devfd, &arg));
}

/* Above a page, even all-zero, is E2BIG: the kernel never scans gigabytes */
TEST_F(errors, struct_larger_than_a_page_is_e2big)
{
	size_t len = 2 * FV_PAGE;
	struct framevec_import *arg = calloc(1, len);

	ASSERT_NE(NULL, arg);
	arg->size = FV_PAGE + 8;
	arg->addr = (uintptr_t)self->buf;
	arg->length = FV_PAGE;
	EXPECT_EQ(E2BIG, raw_import(self->devfd, arg));
	arg->size = 0xffffffff;
	EXPECT_EQ(E2BIG, raw_import(self->devfd, arg));
	/* exactly a page of zeros after the known fields is still fine */
	arg->size = FV_PAGE;
	EXPECT_EQ(0, raw_import(self->devfd, arg));	/* closes the fd */
	free(arg);
}

TEST_F(errors, bad_struct_pointer_is_efault)
{
	ASSERT_EQ(-1, ioctl(self->devfd, FRAMEVEC_IOC_IMPORT, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(errors, over_max_import_pages_is_efbig)
{
	long max = fv_read_long("/sys/module/framevec/parameters/max_import_pages");
	FILE *f;

	FV_SKIP_AS_NOBODY(return, "it sets framevec's max_import_pages parameter");
	ASSERT_LT(0, max);
	f = fopen("/sys/module/framevec/parameters/max_import_pages", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "2\n");
	fclose(f);
	EXPECT_EQ(EFBIG, fv_import(self->devfd, self->buf, 4 * FV_PAGE, 0, NULL));
	EXPECT_EQ(0, fv_import(self->devfd, self->buf, 2 * FV_PAGE, 0, NULL));
	f = fopen("/sys/module/framevec/parameters/max_import_pages", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%ld\n", max);
	fclose(f);
}

/* In a child that drops root (and so CAP_IPC_LOCK): the errno, or 100+ */
static int unprivileged_import(int devfd, void *addr, size_t len, rlim_t limit)
{
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
	int status, fd, first;
	pid_t pid = fork();

	if (pid == 0) {
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
			_exit(100);
		first = fv_import(devfd, addr, len, 0, &fd);
		if (first != ENOMEM)
			_exit(101);
		/* half of it fits; then the budget is used up ... */
		if (fv_import(devfd, addr, len / 2, 0, &fd))
			_exit(102);
		if (fv_import(devfd, addr, len / 2, 0, NULL) != ENOMEM)
			_exit(103);
		/* ... and releasing the dma-buf gives it back */
		close(fd);
		if (fv_import(devfd, addr, len / 2, 0, NULL))
			_exit(104);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(errors, over_rlimit_memlock_is_enomem_and_release_gives_budget_back)
{
	ASSERT_EQ(0, unprivileged_import(self->devfd, self->buf, 4 * FV_PAGE, 2 * FV_PAGE));
}

TEST_F(errors, cap_ipc_lock_bypasses_rlimit_memlock)
{
	struct rlimit rl = { .rlim_cur = FV_PAGE, .rlim_max = RLIM_INFINITY };

	FV_SKIP_AS_NOBODY(return, "it needs CAP_IPC_LOCK");
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	/* root has CAP_IPC_LOCK */
	ASSERT_IMPORT_OK(self->devfd, self->buf, 4 * FV_PAGE, 0, NULL);
}

TEST_F(errors, pfnmap_without_source_is_eopnotsupp)
{
	/* /dev/mem is VM_IO|VM_PFNMAP; no source takes it */
	int fd = open("/dev/mem", O_RDONLY);
	void *p;

	FV_SKIP_AS_NOBODY(close(fd); return, "/dev/mem is root's");
	if (fd < 0)
		SKIP(return, "no /dev/mem");
	p = mmap(NULL, FV_PAGE, PROT_READ, MAP_SHARED, fd, 0xf0000);
	close(fd);
	if (p == MAP_FAILED)
		SKIP(return, "cannot mmap /dev/mem");
	ASSERT_IMPORT_ERRNO(EOPNOTSUPP, self->devfd, p, FV_PAGE, 0);
	munmap(p, FV_PAGE);
}

TEST_HARNESS_MAIN
