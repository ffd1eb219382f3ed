// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime of a framevec dma-buf over ordinary memory: it outlives the
 * mapping it came from, the process that made it, and a fork. Also what the
 * kernel refuses to pin long-term.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "framevec_test.h"

#define LEN	(64 * FV_PAGE)

FIXTURE(life) {
	int devfd;
	struct fv_counters base;
};

FIXTURE_SETUP(life)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(life)
{
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

TEST_F(life, munmap_of_the_original_keeps_memory_and_data)
{
	struct fv_counters now;
	char *mem = anon(LEN), *p;
	int fd;

	ASSERT_NE(NULL, mem);
	fv_fill(mem, LEN, 7);
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	ASSERT_EQ(0, munmap(mem, LEN));
	/* churn: allocate, dirty and free memory so freed pages would be reused */
	for (int i = 0; i < 8; i++) {
		char *c = anon(16 << 20);

		ASSERT_NE(NULL, c);
		memset(c, 0x5a, 16 << 20);
		munmap(c, 16 << 20);
	}
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.pinned_pages + LEN / FV_PAGE, now.pinned_pages);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fv_check(p, LEN, 7));
	munmap(p, LEN);
	close(fd);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(life, fd_passed_with_scm_rights_outlives_the_importing_process)
{
	int sv[2], status, fd;
	struct fv_counters now;
	pid_t pid;
	char *p;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *mem = anon(LEN);
		int dfd;

		if (!mem)
			_exit(1);
		fv_fill(mem, LEN, 9);
		if (fv_import(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &dfd))
			_exit(2);
		if (send_fd(sv[1], dfd))
			_exit(3);
		_exit(0);
	}
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
	close(sv[1]);

	/* the importer and its mm are gone; the memory is not */
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.live_framevecs + 1, now.live_framevecs);
	EXPECT_EQ(self->base.pinned_pages + LEN / FV_PAGE, now.pinned_pages);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fv_check(p, LEN, 9));
	fv_fill(p, LEN, 10);
	ASSERT_EQ(0, fv_check(p, LEN, 10));
	munmap(p, LEN);
	close(fd);
}

TEST_F(life, fork_after_import_parent_writes_are_what_the_dmabuf_sees)
{
	int pipefd[2], status, fd;
	char *mem = anon(LEN), *p, go;
	pid_t pid;

	ASSERT_NE(NULL, mem);
	fv_fill(mem, LEN, 11);
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the child writes its copy: must not reach the dma-buf */
		fv_fill(mem, LEN, 12);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(pipefd[0], &go, 1));
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, fv_check(p, LEN, 11));
	/* pinned anonymous pages stay the parent's: its writes land in the dma-buf */
	fv_fill(mem, LEN, 13);
	EXPECT_EQ(0, fv_check(p, LEN, 13));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, fv_check(p, LEN, 13));
	munmap(p, LEN);
	munmap(mem, LEN);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
}

TEST_F(life, closing_dev_framevec_keeps_dmabufs)
{
	char *mem = anon(LEN), *p;
	int dev2, fd;

	ASSERT_NE(NULL, mem);
	fv_fill(mem, LEN, 14);
	dev2 = open(FV_DEV, O_RDWR);
	ASSERT_LE(0, dev2);
	ASSERT_IMPORT_OK(dev2, mem, LEN, 0, &fd);
	close(dev2);
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, fv_check(p, LEN, 14));
	munmap(p, LEN);
	munmap(mem, LEN);
	close(fd);
}

TEST_F(life, dmabuf_fd_is_cloexec_and_named_framevec)
{
	char path[64], line[128], *mem = anon(LEN);
	int fd, found = 0;
	FILE *f;

	ASSERT_NE(NULL, mem);
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, 0, &fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "exp_name:", 9) && strstr(line, "framevec"))
			found = 1;
	fclose(f);
	EXPECT_EQ(1, found);
	close(fd);
	munmap(mem, LEN);
}

TEST_F(life, secretmem_is_refused_with_the_kernels_errno)
{
	int sfd = syscall(SYS_memfd_secret, 0);
	char *mem;

	if (sfd < 0)
		SKIP(return, "memfd_secret unavailable (errno %d)", errno);
	ASSERT_EQ(0, ftruncate(sfd, LEN));
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, LEN);
	/* GUP refuses secretmem: EFAULT, and nothing is held */
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, mem, LEN, 0);
	munmap(mem, LEN);
	close(sfd);
}

TEST_F(life, failure_in_a_later_vma_releases_earlier_pins)
{
	char *mem = anon(3 * LEN);

	ASSERT_NE(NULL, mem);
	memset(mem, 1, 3 * LEN);
	/* anon | anon-with-other-flags | PROT_NONE: two pieces pass, the last fails */
	ASSERT_EQ(0, madvise(mem + LEN, LEN, MADV_DONTFORK));
	ASSERT_EQ(0, mprotect(mem + 2 * LEN, LEN, PROT_NONE));
	ASSERT_IMPORT_ERRNO(EACCES, self->devfd, mem, 3 * LEN, 0);
	ASSERT_IMPORT_OK(self->devfd, mem, 2 * LEN, 0, NULL);
	munmap(mem, 3 * LEN);
}

TEST_F(life, pin_failure_in_a_later_vma_unpins_the_earlier_ones)
{
	int sfd = syscall(SYS_memfd_secret, 0);
	struct fv_counters now;
	char *mem;

	if (sfd < 0)
		SKIP(return, "memfd_secret unavailable (errno %d)", errno);
	ASSERT_EQ(0, ftruncate(sfd, LEN));
	/* anonymous memory, then secretmem right after it: the check passes both */
	mem = anon(2 * LEN);
	ASSERT_NE(NULL, mem);
	memset(mem, 1, LEN);
	ASSERT_EQ(mem + LEN, mmap(mem + LEN, LEN, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, sfd, 0));
	memset(mem + LEN, 2, LEN);
	/* the first piece is pinned, the second fails: the first is unpinned */
	ASSERT_IMPORT_ERRNO(EFAULT, self->devfd, mem, 2 * LEN, 0);
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.pinned_pages, now.pinned_pages);
	EXPECT_EQ(0, fv_status_kb("VmPin"));
	munmap(mem, 2 * LEN);
	close(sfd);
}

TEST_F(life, writable_shared_mapping_of_a_disk_file_is_refused_for_writing)
{
	char *mem;
	int fd;

	/* ext2 on a loop device: a file system with writeback */
	if (system("modprobe loop && modprobe ext4 && mkdir -p /mnt/fvdisk && "
		   "dd if=/dev/zero of=/tmp/fvdisk.img bs=1M count=8 2>/dev/null && "
		   "losetup /dev/loop7 /tmp/fvdisk.img && mke2fs -q /dev/loop7 && "
		   "mount -t ext4 /dev/loop7 /mnt/fvdisk"))
		SKIP(return, "cannot mount an ext2 file system on a loop device");
	fd = open("/mnt/fvdisk/data", O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, LEN));
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 3, LEN);
	/* the kernel refuses long-term write pins of such pages: same errno */
	EXPECT_EQ(EFAULT, fv_import(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, NULL));
	/* for reading it is allowed */
	EXPECT_EQ(0, fv_import(self->devfd, mem, LEN, 0, NULL));
	munmap(mem, LEN);
	close(fd);
	EXPECT_EQ(0, system("umount /mnt/fvdisk && losetup -d /dev/loop7"));
}

TEST_HARNESS_MAIN
