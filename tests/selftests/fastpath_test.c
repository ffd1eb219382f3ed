// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path of an import (see "Fast path" in kernel/framevec_core.c):
 * memory of the importing process that only the pages source takes is
 * checked under the mmap lock and pinned with pin_user_pages_fast() without
 * it. debugfs counts those imports (fast_imports) and the attempts redone on
 * the locked path because the range changed meanwhile (fast_retries); the
 * tests count both, as the pin may itself move the pages (a debug kernel's
 * CMA), which redoes the import.
 *
 * Every rule of the locked path still holds on it: a read-only import
 * cannot be written; a shared mapping of a disk file is refused for
 * writing; RLIMIT_MEMLOCK bounds what one user pins; a THP is one run.
 * A range that another source must take as well uses the locked path.
 *
 * Races: another thread remaps the range again and again while imports run
 * (best effort: TCG decides how often the remap falls between the check and
 * the pin). Each import must fail or hold exactly one coherent kind of
 * memory: the anonymous pages, or, on the locked path, the dma-buf the range
 * became. Never a page of a VM_PFNMAP mapping or of a disk file through the
 * pages source. Counters and VmPin are back at baseline after each test.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "pfnmap_helpers.h"
#include "fv_test_consumer.h"

#define SZ_2M		(2UL << 20)
#define LEN		(64 * FV_PAGE)
#define ANON_BYTE	0xa1
#define OTHER_BYTE	0xc3
/* imports per race: 200, 50 on the debug kernel (fv_on_debug_kernel()) */
#define RACE_ROUNDS	(fv_on_debug_kernel() ? 50 : 200)
#define NOBODY_LIMIT	(256 * FV_PAGE)

FIXTURE(fast) {
	int devfd, consumer;
	struct fv_counters base;
};

FIXTURE_SETUP(fast)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	if (access("/dev/fv_test_consumer", F_OK))
		ASSERT_EQ(0, system("modprobe fv_test_consumer"));
	self->consumer = open("/dev/fv_test_consumer", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->consumer);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(fast)
{
	close(self->consumer);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
	EXPECT_EQ(0, fv_status_kb("VmPin"));
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Imports that took the fast path: done on it, or redone on the locked path
 * because the range changed meanwhile, which includes the long-term pin
 * itself migrating the pages out of CMA or ZONE_MOVABLE
 */
static long fast_imports(void)
{
	struct fv_counters c;

	return fv_read_counters(&c) ? -1 : c.fast_imports + c.fast_retries;
}

/* ext4 on a loop device, as lifetime_test: a file system with writeback */
static int mount_disk(void)
{
	return system("modprobe loop && modprobe ext4 && mkdir -p /mnt/fvfast && "
		      "dd if=/dev/zero of=/tmp/fvfast.img bs=1M count=8 2>/dev/null && "
		      "losetup /dev/loop6 /tmp/fvfast.img && mke2fs -q /dev/loop6 && "
		      "mount -t ext4 /dev/loop6 /mnt/fvfast");
}

static int umount_disk(void)
{
	return system("umount /mnt/fvfast && losetup -d /dev/loop6 && rm -f /tmp/fvfast.img");
}

/* A file on the disk of @len bytes filled with @byte: the fd, or -1 */
static int disk_file(size_t len, int byte)
{
	char buf[FV_PAGE];
	size_t off;
	int fd = open("/mnt/fvfast/data", O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	memset(buf, byte, sizeof(buf));
	for (off = 0; off < len; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf)) {
			close(fd);
			return -1;
		}
	return fd;
}

TEST_F(fast, anon_and_thp_imports_take_it_thp_is_one_run)
{
	struct fv_info fi;
	long before = fast_imports();
	char *map, *mem;
	int fd;

	map = anon(2 * SZ_2M);
	ASSERT_NE(NULL, map);
	mem = (char *)(((uintptr_t)map + SZ_2M - 1) & ~(SZ_2M - 1));
	/* without THP (PREEMPT_RT), the same range of 4 KiB pages */
	if (fv_have_thp())
		ASSERT_EQ(0, madvise(mem, SZ_2M, MADV_HUGEPAGE));
	fv_fill(mem, SZ_2M, 7);

	ASSERT_IMPORT_OK(self->devfd, mem, SZ_2M, FRAMEVEC_IMPORT_WRITE, &fd);
	EXPECT_EQ(before + 1, fast_imports());
	ASSERT_EQ(0, fv_read_info(&fi));
	EXPECT_EQ(SZ_2M / FV_PAGE, fi.pages);
	/* khugepaged is not asked: the fault gave a THP, or 4 KiB pages */
	if (fv_pagemap_pfn(mem) && fv_pagemap_pfn(mem) + 511 == fv_pagemap_pfn(mem + SZ_2M - FV_PAGE))
		EXPECT_EQ(1, fi.runs);
	EXPECT_EQ(SZ_2M / 1024, fv_status_kb("VmPin"));
	TH_LOG("2 MiB: %ld runs, %ld bytes of metadata", fi.runs, fi.meta_bytes);
	close(fd);

	/*
	 * Faulted in by the import itself (GUP-fast falls back to the slow
	 * path). For writing: a read pin of memory never written replaces the
	 * shared zero page (unshare), which the fast path's notifier sees as
	 * a change, and redoes on the locked path.
	 */
	ASSERT_EQ(0, madvise(mem, SZ_2M, MADV_DONTNEED));
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	EXPECT_EQ(before + 2, fast_imports());
	close(fd);
	munmap(map, 2 * SZ_2M);
}

TEST_F(fast, read_only_import_cannot_be_written)
{
	struct fvtc_map dm = { .dir = 2 /* DMA_FROM_DEVICE */ };
	long before = fast_imports();
	char *mem, *p;
	int fd;

	mem = anon(LEN);
	ASSERT_NE(NULL, mem);
	fv_fill(mem, LEN, 3);
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, 0, &fd);
	EXPECT_EQ(before + 1, fast_imports());

	ASSERT_EQ(MAP_FAILED, mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, fv_check(p, LEN, 3));
	EXPECT_EQ(-1, mprotect(p, LEN, PROT_READ | PROT_WRITE));
	dm.fd = fd;
	EXPECT_EQ(-1, ioctl(self->consumer, FVTC_MAP, &dm));
	EXPECT_EQ(EACCES, errno);
	dm.dir = 0; /* DMA_BIDIRECTIONAL */
	EXPECT_EQ(-1, ioctl(self->consumer, FVTC_MAP, &dm));
	EXPECT_EQ(EACCES, errno);
	dm.dir = 1; /* DMA_TO_DEVICE */
	EXPECT_EQ(0, ioctl(self->consumer, FVTC_MAP, &dm));
	munmap(p, LEN);
	close(fd);

	/* read-only memory: a read import is fast, a write import refused */
	ASSERT_EQ(0, mprotect(mem, LEN, PROT_READ));
	EXPECT_EQ(EACCES, fv_import(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, NULL));
	EXPECT_EQ(0, fv_import(self->devfd, mem, LEN, 0, NULL));
	EXPECT_EQ(before + 2, fast_imports());
	munmap(mem, LEN);
}

TEST_F(fast, shared_disk_file_is_refused_for_writing)
{
	long before = fast_imports();
	char *mem;
	int fd;

	FV_SKIP_AS_NOBODY(return, "mounting a loop device");
	if (mount_disk())
		SKIP(return, "cannot mount an ext4 file system on a loop device");
	fd = disk_file(LEN, 5);
	ASSERT_LE(0, fd);
	mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(EFAULT, fv_import(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, NULL));
	EXPECT_EQ(before, fast_imports());
	/* for reading it is pinned, on the fast path */
	EXPECT_EQ(0, fv_import(self->devfd, mem, LEN, 0, NULL));
	EXPECT_EQ(before + 1, fast_imports());
	munmap(mem, LEN);
	close(fd);
	EXPECT_EQ(0, umount_disk());
}

TEST_F(fast, memlock_bounds_the_fast_path)
{
	long before = fast_imports();
	char *mem;
	int fd1, fd2;

	if (fv_as_nobody()) {
		struct rlimit rl = { .rlim_cur = NOBODY_LIMIT, .rlim_max = NOBODY_LIMIT };

		ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	} else {
		/* keep debugfs readable after dropping root (framevec_test.h) */
		fv_kept_counters = open(FV_COUNTERS, O_RDONLY | O_CLOEXEC);
		fv_kept_framevecs = open(FV_FRAMEVECS, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fv_kept_counters);
		ASSERT_LE(0, fv_kept_framevecs);
		ASSERT_EQ(0, fv_drop_to_nobody(NOBODY_LIMIT));
	}
	mem = anon(NOBODY_LIMIT + FV_PAGE);
	ASSERT_NE(NULL, mem);
	fv_fill(mem, NOBODY_LIMIT + FV_PAGE, 9);

	ASSERT_IMPORT_OK(self->devfd, mem, NOBODY_LIMIT, FRAMEVEC_IMPORT_WRITE, &fd1);
	EXPECT_EQ(before + 1, fast_imports());
	EXPECT_EQ(NOBODY_LIMIT / 1024, fv_status_kb("VmPin"));
	/* one page more than the limit: refused before anything is pinned */
	EXPECT_EQ(ENOMEM, fv_import(self->devfd, mem + NOBODY_LIMIT, FV_PAGE, 0, NULL));
	EXPECT_EQ(NOBODY_LIMIT / 1024, fv_status_kb("VmPin"));
	close(fd1);
	/* the charge went back with the release */
	ASSERT_IMPORT_OK(self->devfd, mem + FV_PAGE, NOBODY_LIMIT, 0, &fd2);
	EXPECT_EQ(before + 2, fast_imports());
	close(fd2);
	munmap(mem, NOBODY_LIMIT + FV_PAGE);
}

TEST_F(fast, range_with_a_dmabuf_takes_the_locked_path)
{
	long before = fast_imports();
	int heap, fd;
	char *mem;

	heap = heap_alloc(LEN);
	if (heap == -ENOENT)
		SKIP(return, "no system dma-heap");
	ASSERT_LE(0, heap);
	mem = anon(2 * LEN);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(mem + LEN, mmap(mem + LEN, LEN, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, heap, 0));
	fv_fill(mem, 2 * LEN, 4);
	ASSERT_IMPORT_OK(self->devfd, mem, 2 * LEN, 0, &fd);
	EXPECT_EQ(before, fast_imports());
	close(fd);
	/* its anonymous half alone is fast again */
	ASSERT_IMPORT_OK(self->devfd, mem, LEN, 0, &fd);
	EXPECT_EQ(before + 1, fast_imports());
	close(fd);
	munmap(mem, 2 * LEN);
	close(heap);
}

/* ==== Races: the range is remapped while it is imported ==== */

struct flipper {
	char *mem;
	int other;		/* mapped MAP_SHARED over mem every other round */
	volatile int stop;
	long flips;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!f->stop) {
		if (mmap(f->mem, LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != f->mem)
			break;
		memset(f->mem, ANON_BYTE, LEN);
		if (mmap(f->mem, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 f->other, 0) != f->mem)
			break;
		f->flips++;
	}
	return NULL;
}

struct race_result {
	long errors, anon_pins, other_pins, bad;
};

/*
 * Import [f->mem, +LEN) RACE_ROUNDS times while @f flips it. A pin of the
 * anonymous pages holds only ANON_BYTE or zeroes (not yet filled); one of
 * the dma-buf (@other_ok, locked path) only OTHER_BYTE. Any other content
 * is a page the import must not have taken.
 */
static void race(struct __test_metadata *_metadata, int devfd, struct flipper *f,
		 __u32 flags, int ok_errno, bool other_ok, struct race_result *r)
{
	struct fv_counters c0, c1;
	pthread_t t;
	int i, fd, err, rounds = RACE_ROUNDS;

	memset(r, 0, sizeof(*r));
	ASSERT_EQ(0, fv_read_counters(&c0));
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, f));
	for (i = 0; i < rounds; i++) {
		unsigned char *p;
		size_t j, anon_bytes = 0, other_bytes = 0, zero = 0;

		err = fv_import(devfd, f->mem, LEN, flags, &fd);
		if (err) {
			if (err != ok_errno) {
				TH_LOG("round %d: errno %d", i, err);
				r->bad++;
			}
			r->errors++;
			continue;
		}
		p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			TH_LOG("round %d: mmap of the import: errno %d", i, errno);
			r->bad++;
			close(fd);
			continue;
		}
		for (j = 0; j < LEN; j++) {
			anon_bytes += p[j] == ANON_BYTE;
			other_bytes += p[j] == OTHER_BYTE;
			zero += !p[j];
		}
		if (anon_bytes + zero == LEN) {
			r->anon_pins++;
		} else if (other_ok && other_bytes == LEN) {
			r->other_pins++;
		} else {
			TH_LOG("round %d: %zu anonymous, %zu zero, %zu other bytes", i,
			       anon_bytes, zero, other_bytes);
			r->bad++;
		}
		munmap(p, LEN);
		close(fd);
	}
	f->stop = 1;
	pthread_join(t, NULL);
	ASSERT_EQ(0, fv_read_counters(&c1));
	TH_LOG("%ld flips: %ld errors, %ld anonymous pins, %ld dma-buf pins; %ld fast, %ld fast attempts redone locked",
	       f->flips, r->errors, r->anon_pins, r->other_pins,
	       c1.fast_imports - c0.fast_imports, c1.fast_retries - c0.fast_retries);
	EXPECT_EQ(0, r->bad);
	EXPECT_LT(0, f->flips);
}

TEST_F_TIMEOUT(fast, remap_to_a_pfnmap_dmabuf_gives_an_error_or_a_correct_pin, 240)
{
	struct flipper f = {};
	struct race_result r;
	char *p;

	f.other = heap_alloc(LEN);
	if (f.other == -ENOENT)
		SKIP(return, "no system dma-heap");
	ASSERT_LE(0, f.other);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, f.other, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, OTHER_BYTE, LEN);
	munmap(p, LEN);
	f.mem = anon(LEN);
	ASSERT_NE(NULL, f.mem);

	/* the locked path takes the dma-buf (dma-buf source): both pins are right */
	race(_metadata, self->devfd, &f, 0, EFAULT, true, &r);
	munmap(f.mem, LEN);
	close(f.other);
}

TEST_F_TIMEOUT(fast, remap_to_a_shared_disk_file_never_pins_it_for_writing, 240)
{
	struct flipper f = {};
	struct race_result r;

	FV_SKIP_AS_NOBODY(return, "mounting a loop device");
	if (mount_disk())
		SKIP(return, "cannot mount an ext4 file system on a loop device");
	f.other = disk_file(LEN, OTHER_BYTE);
	ASSERT_LE(0, f.other);
	f.mem = anon(LEN);
	ASSERT_NE(NULL, f.mem);

	race(_metadata, self->devfd, &f, FRAMEVEC_IMPORT_WRITE, EFAULT, false, &r);
	munmap(f.mem, LEN);
	close(f.other);
	EXPECT_EQ(0, umount_disk());
}

TEST_HARNESS_MAIN
