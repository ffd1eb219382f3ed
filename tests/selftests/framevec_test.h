/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the framevec selftests (kselftest harness style).
 *
 * Per ioctl: a function that returns the errno (0 on success), and macros
 * that assert success or a given errno. Every fixture records framevec's
 * debugfs counters in setup and asserts in teardown that they are back.
 */
#ifndef FRAMEVEC_TEST_H
#define FRAMEVEC_TEST_H

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/framevec.h>

#include "kselftest_harness.h"

/*
 * The harness gives a test 30 s before it kills it. The suites run under
 * TCG, on the debug kernel (KASAN, lockdep, kmemleak) too, two guests at a
 * time: there one migration of 8 MiB took more than 30 s. The guest as a
 * whole has its own timeout (vm/run.sh, scaled on the debug kernel), which
 * is what catches a hang; this one only has to be generous. TEST_F expands
 * the macro where it is used, so redefining it here applies to every test.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

/*
 * The debug kernel (make check-debug) boots with kmemleak=on: tests that
 * run for a time or a number of rounds run fewer there (KASAN, lockdep and
 * kmemleak under TCG are many times slower).
 */
static inline int fv_on_debug_kernel(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	return strstr(line, "kmemleak=on") != NULL;
}

#define FV_DEV		"/dev/framevec"
#define FV_COUNTERS	"/sys/kernel/debug/framevec/counters"
#define FV_FRAMEVECS	"/sys/kernel/debug/framevec/framevecs"
#define FV_PAGE		4096UL

struct fv_counters {
	long live_framevecs;
	long live_dmabufs;
	long pinned_pages;
	long device_maps;
	long refs_pages;
	long refs_dmabuf;
	long refs_vb2;
	long refs_iomem;
	long refs_revocable;
	long fast_imports;	/* only grow: not compared with a baseline */
	long fast_retries;
};

/*
 * Unprivileged runs (the *-nobody suites set FV_TEST_AS_NOBODY=1): a fixture's
 * setup calls FV_BECOME_USER() once it has done what only an administrator
 * does (modprobe, sysctls); from there the test runs as uid and gid 65534,
 * without supplementary groups or capabilities, with RLIMIT_MEMLOCK at
 * FV_NOBODY_MEMLOCK. framevec's debugfs files are root's, but debugfs checks
 * permission only at open: they are opened just before dropping root and
 * read through those descriptors afterwards (a seq_file read at offset 0
 * starts over), so every counter check still runs. What nobody cannot do at
 * all (pagemap pfns, module loading, other users' processes) is skipped with
 * FV_SKIP_AS_NOBODY and its reason.
 */
#define FV_NOBODY		65534
#define FV_NOBODY_MEMLOCK	(16UL << 20)

static int fv_kept_counters = -1, fv_kept_framevecs = -1;

static inline int fv_as_nobody(void)
{
	const char *e = getenv("FV_TEST_AS_NOBODY");

	return e && !strcmp(e, "1");
}

/* @path for reading: through the descriptor kept from before dropping root, if any */
static inline FILE *fv_debugfs_fopen(const char *path)
{
	int fd = !strcmp(path, FV_COUNTERS) ? fv_kept_counters :
		 !strcmp(path, FV_FRAMEVECS) ? fv_kept_framevecs : -1;
	char buf[4096];
	off_t off = 0;
	ssize_t n;
	FILE *f;

	if (fd < 0)
		return fopen(path, "r");
	f = tmpfile();
	if (!f)
		return NULL;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, n, f) != (size_t)n)
			break;
		off += n;
	}
	if (n) {
		int err = n < 0 ? errno : EIO;

		fclose(f);
		errno = err;
		return NULL;
	}
	rewind(f);
	return f;
}

/* Effective capabilities, from /proc/self/status */
static inline unsigned long long fv_cap_eff(void)
{
	unsigned long long v = ~0ULL;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			v = strtoull(line + 7, NULL, 16);
	fclose(f);
	return v;
}

/*
 * Become nobody for good: uid and gid 65534, no supplementary groups, no
 * capabilities, RLIMIT_MEMLOCK = @memlock. 0, or -errno (-EPERM if any of it
 * did not take).
 */
static inline int fv_drop_to_nobody(rlim_t memlock)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setgid(FV_NOBODY) || setuid(FV_NOBODY))
		return -errno;
	if (getuid() != FV_NOBODY || geteuid() != FV_NOBODY || getgid() != FV_NOBODY ||
	    getegid() != FV_NOBODY || getgroups(0, NULL) != 0 || fv_cap_eff() != 0)
		return -EPERM;
	return 0;
}

/* Under FV_TEST_AS_NOBODY=1, become nobody as described above: 0 or -errno */
static inline int fv_become_nobody(void)
{
	int fd, ret;

	if (!fv_as_nobody())
		return 0;
	if (fv_kept_counters < 0)
		fv_kept_counters = open(FV_COUNTERS, O_RDONLY | O_CLOEXEC);
	if (fv_kept_framevecs < 0)
		fv_kept_framevecs = open(FV_FRAMEVECS, O_RDONLY | O_CLOEXEC);
	if (fv_kept_counters < 0 || fv_kept_framevecs < 0)
		return -errno;
	ret = fv_drop_to_nobody(FV_NOBODY_MEMLOCK);
	if (ret)
		return ret;
	/* what a user opens: the device node is everyone's */
	fd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

#define FV_BECOME_USER() ASSERT_EQ(0, fv_become_nobody())
#define FV_SKIP_AS_NOBODY(statement, why) do {					\
	if (fv_as_nobody())							\
		SKIP(statement, "as nobody: " why);				\
} while (0)

/* Parse the counters file's "name value" lines from @f into @c */
static inline void fv_parse_counters(FILE *f, struct fv_counters *c)
{
	char name[64];
	long val;

	memset(c, 0, sizeof(*c));
	while (fscanf(f, "%63s %ld", name, &val) == 2) {
#define FV_FIELD(n) do { if (!strcmp(name, #n)) c->n = val; } while (0)
		FV_FIELD(live_framevecs);
		FV_FIELD(fast_imports);
		FV_FIELD(fast_retries);
		FV_FIELD(live_dmabufs);
		FV_FIELD(pinned_pages);
		FV_FIELD(device_maps);
		FV_FIELD(refs_pages);
		FV_FIELD(refs_dmabuf);
		FV_FIELD(refs_vb2);
		FV_FIELD(refs_iomem);
		FV_FIELD(refs_revocable);
#undef FV_FIELD
	}
}

static inline int fv_read_counters(struct fv_counters *c)
{
	FILE *f = fv_debugfs_fopen(FV_COUNTERS);

	if (!f) {
		memset(c, 0, sizeof(*c));
		return -errno;
	}
	fv_parse_counters(f, c);
	fclose(f);
	return 0;
}

/*
 * The counters through @cfd, the counters file opened (as root) before the
 * caller dropped its privileges: 0 or -errno.
 */
static inline int fv_read_counters_fd(int cfd, struct fv_counters *c)
{
	char buf[2048];
	ssize_t n;
	FILE *f;

	memset(c, 0, sizeof(*c));
	n = pread(cfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -EIO;
	f = fmemopen(buf, n, "r");
	if (!f)
		return -errno;
	fv_parse_counters(f, c);
	fclose(f);
	return 0;
}

/* How many file descriptors this process has open */
static inline int fv_count_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* not the directory's own */
}

/* Every counter equal to the baseline @b taken before the test */
#define ASSERT_AT_BASELINE(b) do {						\
	struct fv_counters __now;						\
	ASSERT_EQ(0, fv_read_counters(&__now));					\
	EXPECT_EQ((b)->live_framevecs, __now.live_framevecs);			\
	EXPECT_EQ((b)->live_dmabufs, __now.live_dmabufs);			\
	EXPECT_EQ((b)->pinned_pages, __now.pinned_pages);			\
	EXPECT_EQ((b)->device_maps, __now.device_maps);				\
	EXPECT_EQ((b)->refs_pages, __now.refs_pages);				\
	EXPECT_EQ((b)->refs_dmabuf, __now.refs_dmabuf);				\
	EXPECT_EQ((b)->refs_vb2, __now.refs_vb2);				\
	EXPECT_EQ((b)->refs_iomem, __now.refs_iomem);				\
	EXPECT_EQ((b)->refs_revocable, __now.refs_revocable);			\
} while (0)

/* FRAMEVEC_IOC_IMPORT: 0 and *fd set, or the errno */
static inline int fv_import(int devfd, void *addr, size_t len, __u32 flags, int *fd)
{
	struct framevec_import arg = {
		.size = sizeof(arg),
		.flags = flags,
		.addr = (__u64)(uintptr_t)addr,
		.length = len,
		.dmabuf_fd = -1,
	};

	if (fd)
		*fd = -1;
	if (ioctl(devfd, FRAMEVEC_IOC_IMPORT, &arg))
		return errno;
	if (fd)
		*fd = arg.dmabuf_fd;
	else
		close(arg.dmabuf_fd);
	return 0;
}

#define ASSERT_IMPORT_OK(devfd, addr, len, flags, fdp) \
	ASSERT_EQ(0, fv_import(devfd, addr, len, flags, fdp))
#define ASSERT_IMPORT_ERRNO(err, devfd, addr, len, flags) \
	ASSERT_EQ(err, fv_import(devfd, addr, len, flags, NULL))

/* FRAMEVEC_IOC_EXPLAIN into @e (room for *@nr entries): 0 or the errno */
static inline int fv_explain(int devfd, pid_t pid, const void *addr, size_t len, __u32 flags,
			     struct framevec_explain_entry *e, __u32 *nr)
{
	struct framevec_explain arg = {
		.size = sizeof(arg),
		.flags = flags,
		.pid = pid,
		.nr_entries = *nr,
		.addr = (uintptr_t)addr,
		.length = len,
		.entries = (uintptr_t)e,
		.entry_size = sizeof(*e),
	};
	int ret = ioctl(devfd, FRAMEVEC_IOC_EXPLAIN, &arg) ? errno : 0;

	*nr = arg.nr_entries;
	return ret;
}

/* Read a number from a sysfs/procfs/debugfs file */
static inline long fv_read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}


/* What debugfs says of the (only) live framevec */
struct fv_info {
	long pages, segs, runs, meta_bytes, header_bytes, revoked;
	unsigned long first_pfn;
};

static inline int fv_read_info(struct fv_info *fi)
{
	char line[512];
	int found = 0;
	FILE *f = fv_debugfs_fopen(FV_FRAMEVECS);

	memset(fi, 0, sizeof(*fi));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "framevec ", 9)) {
			if (found++)
				break;
			sscanf(strstr(line, "pages="), "pages=%ld segs=%ld runs=%ld meta_bytes=%ld header_bytes=%ld revoked=%ld",
			       &fi->pages, &fi->segs, &fi->runs, &fi->meta_bytes,
			       &fi->header_bytes, &fi->revoked);
		} else if (found == 1 && !fi->first_pfn && strstr(line, "run pfn=")) {
			sscanf(strstr(line, "run pfn="), "run pfn=%lx", &fi->first_pfn);
		}
	}
	fclose(f);
	return found == 1 ? 0 : -ENOENT;
}

/*
 * Physical frame behind a user address, 0 if not present; root only: nobody
 * reads 0 (the kernel hides pfns without CAP_SYS_ADMIN)
 */
static inline unsigned long fv_pagemap_pfn(const void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), ((uintptr_t)addr / FV_PAGE) * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	return (ent & (1ULL << 63)) ? (unsigned long)(ent & ((1ULL << 55) - 1)) : 0;
}

/* A value from /proc/self/status in kB (VmPin, VmLck), -1 if absent */
static inline long fv_status_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static inline void fv_fill(void *p, size_t len, unsigned int seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed * 2654435761u + (uint32_t)i;
}

static inline int fv_check(const void *p, size_t len, unsigned int seed)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != seed * 2654435761u + (uint32_t)i)
			return -1;
	return 0;
}

/*
 * Transparent huge pages are not in every kernel under test: Debian's
 * PREEMPT_RT kernel has none (TRANSPARENT_HUGEPAGE depends on !PREEMPT_RT),
 * and there madvise(MADV_HUGEPAGE) and MADV_NOHUGEPAGE fail with EINVAL.
 * A test of huge pages skips there with this reason.
 */
static inline int fv_have_thp(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK);
}

#define FV_SKIP_WITHOUT_THP(statement) do {						if (!fv_have_thp())									SKIP(statement, "no transparent huge pages in this kernel "			     "(CONFIG_TRANSPARENT_HUGEPAGE off, as on PREEMPT_RT)");	} while (0)

static inline int fv_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

#endif /* FRAMEVEC_TEST_H */
