// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user must not be able to do through /dev/framevec
 * (issue 13 point 5; the safety contract W1-W7, A1-A3, S1, S3, S4).
 *
 * Every test that plays a user runs as nobody (uid/gid 65534, no
 * capabilities) with a small RLIMIT_MEMLOCK; what only a driver or root
 * has (/dev/fv_test_consumer, the vivid node, framevec's debugfs counters)
 * is opened as root first and inherited, as a device fd would be. Each test
 * ends by checking, while it still runs, that the memory is unchanged, that
 * the counters are back at their baseline (read through the debugfs fd
 * opened as root) and that it has no more fds open than when it started;
 * the fixture's teardown, in the parent and as root, checks the counters
 * and files again after the test process has gone.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <grp.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/videodev2.h>

#include "framevec_test.h"
#include "vivid_helpers.h"
#include "fv_test_consumer.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

#ifndef offsetofend
#define offsetofend(T, m)	(offsetof(T, m) + sizeof(((T *)0)->m))
#endif

#define NOBODY		65534
#define SZ_1M		(1UL << 20)
#define RO_LEN		(2 * SZ_1M)	/* the read-only file or memfd */
#define RO_SEED		0x5ec
#define RO_LIMIT	(4 * SZ_1M)	/* RLIMIT_MEMLOCK of nobody for the doors */
#define MEMLOCK_LIMIT	(8 * SZ_1M)	/* ... for the memlock escapes */
#define TMPFS_FILE	"/tmp/fv-sec-ro"
#define EXT2_DIR	"/mnt/fvsec"
#define EXT2_FILE	EXT2_DIR "/ro"
#define EXT2_IMG	"/tmp/fvsec.img"
#define EXT2_LOOP	"/dev/loop6"
/* an ext2 file system on a loop device, as lifetime_test's */
#define EXT2_MOUNT	"modprobe loop && modprobe ext4 && mkdir -p " EXT2_DIR " && "	\
			"dd if=/dev/zero of=" EXT2_IMG " bs=1M count=8 2>/dev/null && "	\
			"losetup " EXT2_LOOP " " EXT2_IMG " && "			\
			"mke2fs -q " EXT2_LOOP " >/dev/null && "			\
			"mount -t ext4 " EXT2_LOOP " " EXT2_DIR
#define EXT2_UMOUNT	"umount " EXT2_DIR " && losetup -d " EXT2_LOOP " && rm -f " EXT2_IMG
#define MAX_PAGES_PARAM	"/sys/module/framevec/parameters/max_import_pages"
#define EXEC_CHILD_ARG	"--memlock-exec-child"

/* this program, resolved while still root: the exec test runs it again */
static char self_exe[256];

/* ---- what every fixture holds ---- */

struct sec {
	int cfd;			/* framevec's debugfs counters, opened as root */
	int consumer;			/* /dev/fv_test_consumer, opened as root */
	int nfds;			/* open fds at the end of setup */
	struct fv_counters base;
};

/* Number of counters that differ; what differs is written to @why */
static int counters_diff(const struct fv_counters *a, const struct fv_counters *b,
			 char *why, size_t len)
{
	int n = 0, off = 0;

	why[0] = '\0';
#define FV_CMP(f) do {								\
	if (a->f != b->f) {							\
		n++;								\
		off += snprintf(why + off, len - off > 0 ? len - off : 0,	\
				" %s %ld->%ld", #f, a->f, b->f);		\
	}									\
} while (0)
	FV_CMP(live_framevecs);
	FV_CMP(live_dmabufs);
	FV_CMP(pinned_pages);
	FV_CMP(device_maps);
	FV_CMP(refs_pages);
	FV_CMP(refs_dmabuf);
	FV_CMP(refs_vb2);
	FV_CMP(refs_iomem);
	FV_CMP(refs_revocable);
#undef FV_CMP
	return n;
}

/* Counters back at the baseline of setup, read while the test still runs */
#define ASSERT_COUNTERS_BACK(s) do {						\
	struct fv_counters __now;						\
	char __why[512];							\
	ASSERT_EQ(0, fv_read_counters_fd((s)->cfd, &__now));			\
	ASSERT_EQ(0, counters_diff(&(s)->base, &__now, __why, sizeof(__why)))	\
		TH_LOG("counters not at baseline:%s", __why);			\
} while (0)

/* The end of every test: nothing held, no fd left */
#define ASSERT_NOTHING_LEFT(s) do {						\
	ASSERT_COUNTERS_BACK(s);						\
	ASSERT_EQ((s)->nfds, fv_count_fds()) TH_LOG("an fd was left open");	\
} while (0)

static void sec_setup(struct __test_metadata *_metadata, struct sec *s, bool consumer)
{
	s->consumer = -1;
	s->cfd = open(FV_COUNTERS, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, s->cfd);
	if (consumer) {
		s->consumer = open("/dev/fv_test_consumer", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, s->consumer) TH_LOG("modprobe fv_test_consumer first");
	}
	ASSERT_EQ(0, fv_read_counters_fd(s->cfd, &s->base));
	s->nfds = fv_count_fds();
	ASSERT_LT(0, s->nfds);
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x3c, len);
	return p;
}

static int consumer_cpu(int consumer, int fd, unsigned long cmd, size_t off,
			void *buf, size_t len)
{
	struct fvtc_cpu arg = {
		.fd = fd, .offset = off, .length = len, .user_ptr = (uintptr_t)buf,
	};

	return ioctl(consumer, cmd, &arg) ? errno : 0;
}

static int consumer_map(int consumer, int fd, unsigned int dir)
{
	struct fvtc_map arg = { .fd = fd, .dir = dir };

	return ioctl(consumer, FVTC_MAP, &arg) ? errno : 0;
}

/* Messages and exit codes of the processes a test forks or execs */
#define CHILD_FAIL(code, fmt, ...) do {						\
	printf("# %s:%d: child: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);	\
	fflush(stdout);								\
	_exit(code);								\
} while (0)

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ==== Read-only memory and the doors that could write it (W2-W5, W7) ==== */

/*
 * The memory: a root-owned 0644 file mapped PROT_READ by nobody (shared or
 * private, on tmpfs or ext2) or a write-sealed memfd. For the private
 * mapping, GUP unshares a read-only long-term pin of page cache into an
 * anonymous copy, so a write through framevec lands in the process's own
 * read-only mapping rather than in the file: both are checked.
 */

enum ro_kind {
	RO_TMPFS_SHARED,
	RO_TMPFS_PRIVATE,
	RO_EXT2_SHARED,
	RO_MEMFD_SEAL_WRITE,
	RO_MEMFD_SEAL_FUTURE_WRITE,
};

FIXTURE(ro) {
	struct sec s;
	bool mounted;
	const char *path;		/* the root-owned 0644 file, or NULL (memfd) */
	/* set by ro_begin(), as nobody */
	int devfd, fd;			/* /dev/framevec; the file or the memfd */
	char *mem;			/* its PROT_READ mapping */
};

FIXTURE_VARIANT(ro) {
	enum ro_kind kind;
};

FIXTURE_VARIANT_ADD(ro, tmpfs_file_shared) { .kind = RO_TMPFS_SHARED };
FIXTURE_VARIANT_ADD(ro, tmpfs_file_private) { .kind = RO_TMPFS_PRIVATE };
FIXTURE_VARIANT_ADD(ro, ext2_file_shared) { .kind = RO_EXT2_SHARED };
FIXTURE_VARIANT_ADD(ro, memfd_seal_write) { .kind = RO_MEMFD_SEAL_WRITE };
FIXTURE_VARIANT_ADD(ro, memfd_seal_future_write) { .kind = RO_MEMFD_SEAL_FUTURE_WRITE };

/* Root writes the pattern into a new 0644 file */
static int write_root_file(const char *path)
{
	static char buf[RO_LEN];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	fv_fill(buf, RO_LEN, RO_SEED);
	n = write(fd, buf, RO_LEN);
	if (fchmod(fd, 0644) || fsync(fd) || n != (ssize_t)RO_LEN) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

/* 0 if @fd holds the pattern from offset 0 to RO_LEN, else 1 + first bad byte */
static long fd_check(int fd)
{
	static uint32_t buf[RO_LEN / 4];
	size_t i;

	if (pread(fd, buf, RO_LEN, 0) != (ssize_t)RO_LEN)
		return -1;
	for (i = 0; i < RO_LEN / 4; i++)
		if (buf[i] != RO_SEED * 2654435761u + (uint32_t)i)
			return 1 + 4 * i;
	return 0;
}

FIXTURE_SETUP(ro)
{
	self->path = NULL;
	self->mounted = false;
	switch (variant->kind) {
	case RO_TMPFS_SHARED:
	case RO_TMPFS_PRIVATE:
		self->path = TMPFS_FILE;
		break;
	case RO_EXT2_SHARED:
		ASSERT_EQ(0, system(EXT2_MOUNT)) TH_LOG("cannot mount ext2 on " EXT2_LOOP);
		self->mounted = true;
		ASSERT_EQ(0, chmod(EXT2_DIR, 0755));
		self->path = EXT2_FILE;
		break;
	default:
		break;
	}
	if (self->path)
		ASSERT_EQ(0, write_root_file(self->path));
	sec_setup(_metadata, &self->s, true);
}

FIXTURE_TEARDOWN_PARENT(ro)
{
	if (self->path) {
		int fd = open(self->path, O_RDONLY | O_CLOEXEC);

		EXPECT_LE(0, fd);
		if (fd >= 0) {
			EXPECT_EQ(0, fd_check(fd)) TH_LOG("the root-owned file changed");
			close(fd);
		}
		unlink(self->path);
	}
	if (self->mounted)
		EXPECT_EQ(0, system(EXT2_UMOUNT));
	ASSERT_AT_BASELINE(&self->s.base);
}

static bool ro_is_memfd(const FIXTURE_VARIANT(ro) *variant)
{
	return variant->kind == RO_MEMFD_SEAL_WRITE || variant->kind == RO_MEMFD_SEAL_FUTURE_WRITE;
}

/* A write-sealed memfd holding the pattern: the fd, or -errno */
static int sealed_memfd(int seal)
{
	static char buf[RO_LEN];
	int fd = memfd_create("fv-sec-sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	fv_fill(buf, RO_LEN, RO_SEED);
	if (write(fd, buf, RO_LEN) != (ssize_t)RO_LEN ||
	    fcntl(fd, F_ADD_SEALS, seal | F_SEAL_SHRINK | F_SEAL_GROW) ||
	    (fcntl(fd, F_GET_SEALS) & seal) != seal) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* As nobody: open /dev/framevec, open or make the memory, map it PROT_READ */
static void ro_begin(struct __test_metadata *_metadata, FIXTURE_DATA(ro) *self,
		     const FIXTURE_VARIANT(ro) *variant)
{
	int flags = variant->kind == RO_TMPFS_PRIVATE ? MAP_PRIVATE : MAP_SHARED;

	ASSERT_EQ(0, fv_drop_to_nobody(RO_LIMIT));
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	if (ro_is_memfd(variant)) {
		self->fd = sealed_memfd(variant->kind == RO_MEMFD_SEAL_WRITE ?
					F_SEAL_WRITE : F_SEAL_FUTURE_WRITE);
		ASSERT_LE(0, self->fd);
		/* the seal is real: no new writable shared mapping */
		ASSERT_EQ(MAP_FAILED, mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
					   self->fd, 0));
		ASSERT_EQ(EPERM, errno);
	} else {
		/* the file is really not nobody's to write */
		ASSERT_EQ(-1, open(self->path, O_RDWR | O_CLOEXEC));
		ASSERT_EQ(EACCES, errno);
		self->fd = open(self->path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, self->fd);
	}
	self->mem = mmap(NULL, RO_LEN, PROT_READ, flags, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, fv_check(self->mem, RO_LEN, RO_SEED));
}

/* Undo ro_begin(); the memory holds the pattern; nothing held, no fd left */
static void ro_end(struct __test_metadata *_metadata, FIXTURE_DATA(ro) *self)
{
	EXPECT_EQ(0, fv_check(self->mem, RO_LEN, RO_SEED))
		TH_LOG("the read-only memory changed (seen through its mapping)");
	ASSERT_EQ(0, munmap(self->mem, RO_LEN));
	ASSERT_EQ(0, fd_check(self->fd)) TH_LOG("the read-only memory changed");
	close(self->fd);
	close(self->devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

static int ro_import(FIXTURE_DATA(ro) *self, size_t off, size_t len, int *fd)
{
	return fv_import(self->devfd, self->mem + off, len, 0, fd);
}

/*
 * W2: vivid capture with vb2-vmalloc (it writes through dma_buf_vmap())
 * handed read-only dma-bufs of the memory: QBUF or STREAMON must fail; if
 * they do not, a few frames are captured and the memory must still be
 * unchanged.
 */
TEST_F_TIMEOUT(ro, vivid_vmalloc_capture_cannot_write, 180)
{
	struct v4l2_requestbuffers rb = {
		.count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
	};
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, vfd, dfd[4] = { -1, -1, -1, -1 };
	int qbuf_err = 0, streamon_err = -1, frames = 0;
	size_t slot = RO_LEN / 4;
	unsigned int i;

	/* vivid instance 0, loaded with allocators=0 (vmalloc): a root-only node */
	vfd = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_LE(0, vfd) TH_LOG("modprobe vivid allocators=0 first");
	ro_begin(_metadata, self, variant);

	ASSERT_EQ(0, ioctl(vfd, VIDIOC_G_FMT, &fmt));
	if (fmt.fmt.pix.sizeimage > slot) {
		fmt.fmt.pix.width = 320;
		fmt.fmt.pix.height = 180;
		fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		ASSERT_EQ(0, ioctl(vfd, VIDIOC_S_FMT, &fmt));
	}
	ASSERT_GE(slot, fmt.fmt.pix.sizeimage);
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_REQBUFS, &rb));
	ASSERT_LE(2, rb.count);
	ASSERT_GE(4, rb.count);
	TH_LOG("%ux%u, %u bytes per frame, %u buffers", fmt.fmt.pix.width,
	       fmt.fmt.pix.height, fmt.fmt.pix.sizeimage, rb.count);

	for (i = 0; i < rb.count; i++) {
		struct v4l2_buffer b = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
			.memory = V4L2_MEMORY_DMABUF, .length = slot,
		};

		ASSERT_EQ(0, ro_import(self, i * slot, slot, &dfd[i]));
		b.m.fd = dfd[i];
		if (ioctl(vfd, VIDIOC_QBUF, &b)) {
			qbuf_err = errno;
			TH_LOG("QBUF %u: %s", i, strerror(errno));
			break;
		}
	}
	if (!qbuf_err) {
		streamon_err = ioctl(vfd, VIDIOC_STREAMON, &type) ? errno : 0;
		TH_LOG("all QBUF succeeded; STREAMON: %s", strerror(streamon_err));
	}
	/* if the device got the buffers anyway, let it fill a few */
	while (!qbuf_err && !streamon_err && frames < 3) {
		struct v4l2_buffer b = {
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
		};
		struct pollfd p = { .fd = vfd, .events = POLLIN };

		if (poll(&p, 1, 20000) != 1 || ioctl(vfd, VIDIOC_DQBUF, &b))
			break;
		frames++;
		b.m.fd = dfd[b.index];
		b.length = slot;
		ioctl(vfd, VIDIOC_QBUF, &b);
	}
	if (frames)
		TH_LOG("vivid captured %d frames into read-only memory", frames);
	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	rb.count = 0;
	ioctl(vfd, VIDIOC_REQBUFS, &rb);
	close(vfd);
	for (i = 0; i < 4; i++)
		if (dfd[i] >= 0)
			close(dfd[i]);

	EXPECT_TRUE(qbuf_err || streamon_err)
		TH_LOG("vivid (vmalloc) took read-only dma-bufs for capture");
	EXPECT_EQ(0, frames);
	ro_end(_metadata, self);
}

/*
 * W2: a kernel importer's vmap of a read-only dma-buf, for writing or
 * reading. Such a dma-buf has no vmap op (the core WARNs when one fails),
 * so dma_buf_vmap() returns EINVAL.
 */
TEST_F(ro, consumer_vmap_refused)
{
	static char buf[FV_PAGE];
	int dfd;

	ro_begin(_metadata, self, variant);
	ASSERT_EQ(0, ro_import(self, 0, RO_LEN, &dfd));
	fv_fill(buf, FV_PAGE, 99);
	EXPECT_EQ(EINVAL, consumer_cpu(self->s.consumer, dfd, FVTC_VMAP_WRITE, 0, buf, FV_PAGE));
	EXPECT_EQ(0, fv_check(self->mem, RO_LEN, RO_SEED))
		TH_LOG("FVTC_VMAP_WRITE wrote the read-only memory");
	EXPECT_EQ(EINVAL, consumer_cpu(self->s.consumer, dfd, FVTC_VMAP_READ, 0, buf, FV_PAGE));
	close(dfd);
	ro_end(_metadata, self);
}

/* W3: device maps of a read-only dma-buf: DMA_TO_DEVICE only */
TEST_F(ro, device_map_for_writing_refused)
{
	int dfd;

	ro_begin(_metadata, self, variant);
	ASSERT_EQ(0, ro_import(self, 0, RO_LEN, &dfd));
	EXPECT_EQ(EACCES, consumer_map(self->s.consumer, dfd, 2 /* DMA_FROM_DEVICE */));
	EXPECT_EQ(EACCES, consumer_map(self->s.consumer, dfd, 0 /* DMA_BIDIRECTIONAL */));
	/* the device may read it */
	EXPECT_EQ(0, consumer_map(self->s.consumer, dfd, 1 /* DMA_TO_DEVICE */));
	close(dfd);
	ro_end(_metadata, self);
}

/* W4: the dma-buf mmapped writable, now or later */
TEST_F(ro, dmabuf_mmap_and_mprotect_for_writing_refused)
{
	char *p;
	int dfd;

	ro_begin(_metadata, self, variant);
	ASSERT_EQ(0, ro_import(self, 0, RO_LEN, &dfd));
	p = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, RO_LEN);
	else
		EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, RO_LEN, PROT_READ, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, fv_check(p, RO_LEN, RO_SEED));
	EXPECT_EQ(-1, mprotect(p, RO_LEN, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, RO_LEN);
	close(dfd);
	ro_end(_metadata, self);
}

/* ==== W5: no write import of a write-sealed memfd ==== */

FIXTURE(sealed) {
	struct sec s;
};

FIXTURE_VARIANT(sealed) {
	int seal;
};

FIXTURE_VARIANT_ADD(sealed, seal_write) { .seal = F_SEAL_WRITE };
FIXTURE_VARIANT_ADD(sealed, seal_future_write) { .seal = F_SEAL_FUTURE_WRITE };

FIXTURE_SETUP(sealed)
{
	sec_setup(_metadata, &self->s, false);
}

FIXTURE_TEARDOWN_PARENT(sealed)
{
	ASSERT_AT_BASELINE(&self->s.base);
}

TEST_F(sealed, write_import_is_eperm_shared_or_private)
{
	char *shared = MAP_FAILED, *priv;
	int devfd, mfd;

	ASSERT_EQ(0, fv_drop_to_nobody(RO_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mfd = memfd_create("fv-sec-sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, RO_LEN));
	if (variant->seal == F_SEAL_FUTURE_WRITE) {
		/* a writable shared mapping from before the seal stays writable */
		shared = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		ASSERT_NE(MAP_FAILED, shared);
		fv_fill(shared, RO_LEN, RO_SEED);
	} else {
		char *w = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);

		ASSERT_NE(MAP_FAILED, w);
		fv_fill(w, RO_LEN, RO_SEED);
		ASSERT_EQ(0, munmap(w, RO_LEN));
	}
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, variant->seal));
	/* no new writable shared mapping */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0));
	ASSERT_EQ(EPERM, errno);

	if (shared != MAP_FAILED)
		EXPECT_EQ(EPERM, fv_import(devfd, shared, RO_LEN, FRAMEVEC_IMPORT_WRITE, NULL));
	priv = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	EXPECT_EQ(EPERM, fv_import(devfd, priv, RO_LEN, FRAMEVEC_IMPORT_WRITE, NULL));
	/* read-only, it imports */
	EXPECT_EQ(0, fv_import(devfd, priv, RO_LEN, 0, NULL));

	ASSERT_EQ(0, fd_check(mfd));
	munmap(priv, RO_LEN);
	if (shared != MAP_FAILED)
		munmap(shared, RO_LEN);
	close(mfd);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/* ==== W6: special mappings ([vdso], [vvar]) ==== */

FIXTURE(special) {
	struct sec s;
};

FIXTURE_SETUP(special)
{
	sec_setup(_metadata, &self->s, false);
}

FIXTURE_TEARDOWN_PARENT(special)
{
	ASSERT_AT_BASELINE(&self->s.base);
}

/* [start, end) of the mapping named @name in /proc/self/maps: 0 or -ENOENT */
static int find_mapping(const char *name, char **start, char **end)
{
	unsigned long s, e;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *sp;

		if (nl)
			*nl = '\0';
		sp = strrchr(line, ' ');
		if (!sp || strcmp(sp + 1, name))
			continue;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2) {
			*start = (char *)s;
			*end = (char *)e;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

static void special_alone(struct __test_metadata *_metadata, FIXTURE_DATA(special) *self,
			  const char *name)
{
	char *start, *end;
	int devfd;

	ASSERT_EQ(0, fv_drop_to_nobody(RO_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	ASSERT_EQ(0, find_mapping(name, &start, &end)) TH_LOG("no %s in /proc/self/maps", name);
	EXPECT_EQ(ENXIO, fv_import(devfd, start, end - start, 0, NULL));
	EXPECT_EQ(ENXIO, fv_import(devfd, start, FV_PAGE, 0, NULL));
	EXPECT_EQ(0, fv_status_kb("VmPin"));
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/*
 * Move @name with mremap() between two pieces of anonymous memory and import
 * it together with them. The process's vDSO no longer works after this: the
 * test makes no call that would use it (no time functions).
 */
static void special_moved(struct __test_metadata *_metadata, FIXTURE_DATA(special) *self,
			  const char *name)
{
	const size_t pad = 4 * FV_PAGE;
	char *start, *end, *area, *at, *moved;
	size_t len;
	int devfd;

	ASSERT_EQ(0, fv_drop_to_nobody(RO_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	ASSERT_EQ(0, find_mapping(name, &start, &end)) TH_LOG("no %s in /proc/self/maps", name);
	len = end - start;
	area = anon(pad + len + pad);
	ASSERT_NE(NULL, area);
	at = area + pad;
	moved = mremap(start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at);
	ASSERT_EQ(at, moved) TH_LOG("mremap of %s: %s", name, strerror(errno));
	/* it is where we put it, still named, between anonymous memory */
	ASSERT_EQ(0, find_mapping(name, &start, &end));
	ASSERT_EQ(at, start);
	ASSERT_EQ(at + len, end);

	EXPECT_EQ(ENXIO, fv_import(devfd, area, pad + len + pad, 0, NULL));
	EXPECT_EQ(ENXIO, fv_import(devfd, area, pad + len, 0, NULL));
	EXPECT_EQ(ENXIO, fv_import(devfd, at, len + pad, 0, NULL));
	EXPECT_EQ(ENXIO, fv_import(devfd, at, len, 0, NULL));
	/* nothing of the anonymous pieces is held */
	ASSERT_COUNTERS_BACK(&self->s);
	EXPECT_EQ(0, fv_status_kb("VmPin"));
	/* the anonymous memory alone imports */
	EXPECT_EQ(0, fv_import(devfd, area, pad, 0, NULL));
	EXPECT_EQ(0, fv_import(devfd, at + len, pad, FRAMEVEC_IMPORT_WRITE, NULL));
	munmap(area, pad + len + pad);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

TEST_F(special, vdso_import_is_enxio)
{
	special_alone(_metadata, self, "[vdso]");
}

TEST_F(special, vvar_import_is_enxio)
{
	special_alone(_metadata, self, "[vvar]");
}

TEST_F(special, vdso_moved_next_to_anon_is_enxio_and_holds_nothing)
{
	special_moved(_metadata, self, "[vdso]");
}

TEST_F(special, vvar_moved_next_to_anon_is_enxio_and_holds_nothing)
{
	special_moved(_metadata, self, "[vvar]");
}

/* ==== A1-A3: one RLIMIT_MEMLOCK per user, whatever the processes ==== */

FIXTURE(memlock) {
	struct sec s;
};

FIXTURE_SETUP(memlock)
{
	sec_setup(_metadata, &self->s, false);
}

FIXTURE_TEARDOWN_PARENT(memlock)
{
	ASSERT_AT_BASELINE(&self->s.base);
}

/* Import all of @mem (MEMLOCK_LIMIT bytes) for writing: the fd or -errno */
static int import_limit(int devfd, char *mem)
{
	int fd, err = fv_import(devfd, mem, MEMLOCK_LIMIT, FRAMEVEC_IMPORT_WRITE, &fd);

	return err ? -err : fd;
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

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The budget is enforced at all: one process, 8 MiB, then one page more */
TEST_F(memlock, limit_applies_in_one_process)
{
	char *mem, *one;
	int devfd, fd;

	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mem = anon(MEMLOCK_LIMIT);
	one = anon(FV_PAGE);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, one);
	fd = import_limit(devfd, mem);
	ASSERT_LE(0, fd);
	EXPECT_EQ((long)(MEMLOCK_LIMIT / 1024), fv_status_kb("VmPin"));
	EXPECT_EQ(ENOMEM, fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL));
	close(fd);
	EXPECT_EQ(0, fv_status_kb("VmPin"));
	EXPECT_EQ(0, fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL));
	munmap(mem, MEMLOCK_LIMIT);
	munmap(one, FV_PAGE);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/*
 * The exec'd image of the exec test (main() sends EXEC_CHILD_ARG here): it
 * holds @fd, the 8 MiB dma-buf of the image before it, in a fresh address
 * space. One more page is over the budget; once @fd is closed it is not.
 */
static int memlock_exec_child(int fd)
{
	char path[64], line[128];
	int devfd, nfd, err, framevec = 0;
	char *one;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		CHILD_FAIL(10, "after exec: fd %d is not open", fd);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "exp_name:", 9) && strstr(line, "framevec"))
			framevec = 1;
	fclose(f);
	if (!framevec)
		CHILD_FAIL(11, "after exec: fd %d is not a framevec dma-buf", fd);
	if (getuid() != NOBODY)
		CHILD_FAIL(12, "after exec: uid %u", getuid());
	if (fv_status_kb("VmPin") != 0)
		CHILD_FAIL(13, "after exec: VmPin %ld kB in a fresh mm", fv_status_kb("VmPin"));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	one = anon(FV_PAGE);
	if (devfd < 0 || !one)
		CHILD_FAIL(14, "after exec: no /dev/framevec or memory");
	err = fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, &nfd);
	if (err != ENOMEM) {
		if (!err)
			close(nfd);
		CHILD_FAIL(15, "after exec, 8 MiB held: import of one page: %s (expected ENOMEM)",
			   err ? strerror(err) : "succeeded");
	}
	close(fd);
	err = fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL);
	if (err)
		CHILD_FAIL(16, "after exec, dma-buf closed: import of one page: %s", strerror(err));
	close(devfd);
	return 0;
}

TEST_F_TIMEOUT(memlock, exec_keeping_the_dmabuf_does_not_reset_the_budget, 120)
{
	int devfd, rc;
	pid_t pid;

	ASSERT_NE('\0', self_exe[0]);
	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *mem = anon(MEMLOCK_LIMIT), arg[16];
		int fd;

		if (!mem)
			CHILD_FAIL(20, "no memory");
		fd = import_limit(devfd, mem);
		if (fd < 0)
			CHILD_FAIL(21, "import of 8 MiB: %s", strerror(-fd));
		if (fv_status_kb("VmPin") != (long)(MEMLOCK_LIMIT / 1024))
			CHILD_FAIL(22, "VmPin %ld kB after importing 8 MiB", fv_status_kb("VmPin"));
		/* keep the dma-buf across exec */
		if (fcntl(fd, F_SETFD, 0))
			CHILD_FAIL(23, "F_SETFD: %s", strerror(errno));
		snprintf(arg, sizeof(arg), "%d", fd);
		execl(self_exe, self_exe, EXEC_CHILD_ARG, arg, (char *)NULL);
		CHILD_FAIL(24, "exec %s: %s", self_exe, strerror(errno));
	}
	rc = wait_child(pid);
	EXPECT_EQ(0, rc) TH_LOG("the importing/exec'd process failed with %d (see its line)", rc);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

TEST_F_TIMEOUT(memlock, fork_child_shares_the_parents_budget, 60)
{
	char *mem, *one;
	int devfd, fd, rc;
	pid_t pid;

	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mem = anon(MEMLOCK_LIMIT);
	one = anon(FV_PAGE);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, one);
	fd = import_limit(devfd, mem);
	ASSERT_LE(0, fd);
	EXPECT_EQ((long)(MEMLOCK_LIMIT / 1024), fv_status_kb("VmPin"));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int err, nfd;

		if (fv_status_kb("VmPin") != 0)
			CHILD_FAIL(30, "VmPin %ld kB in the child's fresh mm",
				   fv_status_kb("VmPin"));
		err = fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, &nfd);
		if (err != ENOMEM) {
			if (!err)
				close(nfd);
			CHILD_FAIL(31, "parent holds 8 MiB: child's import of one page: %s%s",
				   err ? strerror(err) : "succeeded", " (expected ENOMEM)");
		}
		_exit(0);
	}
	rc = wait_child(pid);
	EXPECT_EQ(0, rc) TH_LOG("the child failed with %d (see its line)", rc);
	close(fd);
	EXPECT_EQ(0, fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL));
	munmap(mem, MEMLOCK_LIMIT);
	munmap(one, FV_PAGE);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

TEST_F_TIMEOUT(memlock, scm_rights_to_a_process_of_the_same_user_keeps_the_charge, 60)
{
	int devfd, sv[2], fd, rc;
	char *one;
	pid_t pid;

	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	one = anon(FV_PAGE);
	ASSERT_NE(NULL, one);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A: import 8 MiB, send the dma-buf to B, exit */
		char *mem = anon(MEMLOCK_LIMIT);
		int afd;

		if (!mem)
			CHILD_FAIL(40, "no memory");
		afd = import_limit(devfd, mem);
		if (afd < 0)
			CHILD_FAIL(41, "A: import of 8 MiB: %s", strerror(-afd));
		if (fv_status_kb("VmPin") != (long)(MEMLOCK_LIMIT / 1024))
			CHILD_FAIL(42, "A: VmPin %ld kB after importing 8 MiB",
				   fv_status_kb("VmPin"));
		if (send_fd(sv[1], afd))
			CHILD_FAIL(43, "A: sendmsg: %s", strerror(errno));
		_exit(0);
	}
	/* B, this process: same uid, nothing pinned from its own mm */
	fd = recv_fd(sv[0]);
	rc = wait_child(pid);
	ASSERT_EQ(0, rc) TH_LOG("process A failed with %d (see its line)", rc);
	ASSERT_LE(0, fd);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(0, fv_status_kb("VmPin"));
	EXPECT_EQ(ENOMEM, fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL))
		TH_LOG("B imported a page while A's 8 MiB dma-buf lives in B");
	close(fd);
	EXPECT_EQ(0, fv_import(devfd, one, FV_PAGE, FRAMEVEC_IMPORT_WRITE, NULL));
	munmap(one, FV_PAGE);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/* ==== S1: the struct's size is read once ==== */

FIXTURE(race) {
	struct sec s;
};

FIXTURE_SETUP(race)
{
	sec_setup(_metadata, &self->s, false);
}

FIXTURE_TEARDOWN_PARENT(race)
{
	ASSERT_AT_BASELINE(&self->s.base);
}

#define RACE_SECONDS	4
#define CANARY		0xa5

/* The ioctl's argument: a struct framevec_import and a tail after it */
struct race_arg {
	struct framevec_import imp;
	unsigned char tail[32];
};

struct race {
	struct race_arg *arg;
	__u32 size[2];
	int stop;
};

static void *size_flipper(void *p)
{
	struct race *r = p;
	__u32 *size = &r->arg->imp.size;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(size, r->size[0], __ATOMIC_RELAXED);
		__atomic_store_n(size, r->size[1], __ATOMIC_RELAXED);
	}
	return NULL;
}

struct race_result {
	long ok, refused, lost, other, overwritten;
	int other_errno;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Import one page in a loop for RACE_SECONDS while another thread flips
 * .size between @size0 and @size1. @refused_err: what the kernel answers
 * when it reads the size that is not sizeof(struct framevec_import).
 * A success whose fd did not reach the struct is "lost" (an fd leaked
 * into the table); a tail byte changed is "overwritten".
 */
static void size_race(struct race_result *res, int devfd, char *mem, __u32 size0,
		      __u32 size1, int refused_err)
{
	static struct race_arg arg;
	struct race r = { .arg = &arg, .size = { size0, size1 } };
	double end = now_s() + RACE_SECONDS;
	pthread_t t;
	unsigned int i;

	memset(res, 0, sizeof(*res));
	memset(&arg, 0, sizeof(arg));
	memset(arg.tail, CANARY, sizeof(arg.tail));
	arg.imp.size = size0;
	if (pthread_create(&t, NULL, size_flipper, &r)) {
		res->other = -1;
		return;
	}
	do {
		for (i = 0; i < 32; i++) {
			int fd;

			arg.imp.flags = 0;
			arg.imp.addr = (uintptr_t)mem;
			arg.imp.length = FV_PAGE;
			arg.imp.dmabuf_fd = -1;
			arg.imp.__reserved = 0;
			if (!ioctl(devfd, FRAMEVEC_IOC_IMPORT, &arg)) {
				fd = arg.imp.dmabuf_fd;
				if (fd < 0) {
					res->lost++;
				} else {
					res->ok++;
					close(fd);
				}
			} else if (errno == refused_err) {
				res->refused++;
			} else {
				res->other++;
				res->other_errno = errno;
			}
			for (size_t j = 0; j < sizeof(arg.tail); j++) {
				if (arg.tail[j] != CANARY) {
					res->overwritten++;
					arg.tail[j] = CANARY;
				}
			}
		}
	} while (now_s() < end);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
}

/*
 * As the contract puts it: .size flips between the first version's size
 * and a larger struct (its tail holds the canary, so a read of the larger
 * size is refused with E2BIG). Whatever the second read sees, the copy-back
 * stays within the first size: the tail is never written.
 */
TEST_F_TIMEOUT(race, size_flip_min_to_larger_never_writes_past_the_first_size, 60)
{
	struct race_result res;
	int devfd;
	char *mem;

	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mem = anon(FV_PAGE);
	ASSERT_NE(NULL, mem);
	size_race(&res, devfd, mem, offsetofend(struct framevec_import, __reserved),
		  sizeof(struct race_arg), E2BIG);
	TH_LOG("%ld imports, %ld E2BIG, %ld lost fds, %ld other errors, %ld tail writes",
	       res.ok, res.refused, res.lost, res.other, res.overwritten);
	EXPECT_EQ(0, res.overwritten) TH_LOG("the kernel wrote past the size it first read");
	EXPECT_EQ(0, res.lost) TH_LOG("successful imports whose fd was not reported");
	EXPECT_EQ(0, res.other) TH_LOG("unexpected errno %d", res.other_errno);
	/* both sizes were seen by the kernel's first read */
	EXPECT_LT(0, res.ok);
	EXPECT_LT(0, res.refused);
	munmap(mem, FV_PAGE);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/*
 * .size flips between the struct's size and one below the first version
 * (refused with EINVAL when read first). A kernel that reads the size again
 * for the copy-back copies too few bytes when it sees the small one: the
 * import succeeds but its fd never reaches user space and leaks.
 */
TEST_F_TIMEOUT(race, size_flip_to_too_small_every_import_reports_its_fd, 60)
{
	struct race_result res;
	int devfd;
	char *mem;

	ASSERT_EQ(0, fv_drop_to_nobody(MEMLOCK_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mem = anon(FV_PAGE);
	ASSERT_NE(NULL, mem);
	size_race(&res, devfd, mem, sizeof(struct framevec_import), 8, EINVAL);
	TH_LOG("%ld imports, %ld EINVAL, %ld lost fds, %ld other errors, %ld tail writes",
	       res.ok, res.refused, res.lost, res.other, res.overwritten);
	EXPECT_EQ(0, res.lost) TH_LOG("successful imports whose fd was not reported");
	EXPECT_EQ(0, res.overwritten);
	EXPECT_EQ(0, res.other) TH_LOG("unexpected errno %d", res.other_errno);
	EXPECT_LT(0, res.ok);
	EXPECT_LT(0, res.refused);
	munmap(mem, FV_PAGE);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

/* ==== S4: max_import_pages is bounded ==== */

FIXTURE(param) {
	struct sec s;
	long orig;
};

FIXTURE_SETUP(param)
{
	self->orig = fv_read_long(MAX_PAGES_PARAM);
	ASSERT_LT(0, self->orig);
	sec_setup(_metadata, &self->s, false);
}

/* write @val to the parameter: 0 or the errno */
static int write_param(const char *val)
{
	int fd = open(MAX_PAGES_PARAM, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

FIXTURE_TEARDOWN_PARENT(param)
{
	char val[32];

	if (fv_read_long(MAX_PAGES_PARAM) != self->orig) {
		snprintf(val, sizeof(val), "%ld\n", self->orig);
		EXPECT_EQ(0, write_param(val));
	}
	EXPECT_EQ(self->orig, fv_read_long(MAX_PAGES_PARAM));
	ASSERT_AT_BASELINE(&self->s.base);
}

TEST_F(param, max_import_pages_refuses_zero_and_more_than_16gib)
{
	unsigned long limit = (16UL << 30) / sysconf(_SC_PAGESIZE);
	char val[32];

	/* as root: the parameter is 0644 */
	EXPECT_EQ(EINVAL, write_param("0\n"));
	EXPECT_EQ(self->orig, fv_read_long(MAX_PAGES_PARAM));
	snprintf(val, sizeof(val), "%lu\n", limit + 1);
	EXPECT_EQ(EINVAL, write_param(val));
	EXPECT_EQ(self->orig, fv_read_long(MAX_PAGES_PARAM));
	EXPECT_EQ(EINVAL, write_param("18446744073709551615\n"));
	EXPECT_EQ(self->orig, fv_read_long(MAX_PAGES_PARAM));
	/* 16 GiB itself is allowed, and the old value goes back */
	snprintf(val, sizeof(val), "%lu\n", limit);
	EXPECT_EQ(0, write_param(val));
	EXPECT_EQ((long)limit, fv_read_long(MAX_PAGES_PARAM));
	snprintf(val, sizeof(val), "%ld\n", self->orig);
	EXPECT_EQ(0, write_param(val));
	EXPECT_EQ(self->orig, fv_read_long(MAX_PAGES_PARAM));
	ASSERT_NOTHING_LEFT(&self->s);
}

/* ==== S3: the caller's own mm is pinned with its protection keys ==== */

FIXTURE(pkeys) {
	struct sec s;
};

FIXTURE_SETUP(pkeys)
{
	sec_setup(_metadata, &self->s, false);
}

FIXTURE_TEARDOWN_PARENT(pkeys)
{
	ASSERT_AT_BASELINE(&self->s.base);
}

/* "pku" and "ospke" (the kernel uses them) among the CPU flags */
static bool cpu_has_pkeys(void)
{
	bool pku = false, ospke = false;
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		pku = strstr(line, " pku ") || strstr(line, " pku\n");
		ospke = strstr(line, " ospke ") || strstr(line, " ospke\n");
		break;
	}
	fclose(f);
	return pku && ospke;
}

TEST_F(pkeys, import_of_memory_its_pkey_denies_is_efault)
{
	const size_t len = 4 * FV_PAGE;
	int devfd, pkey;
	char *mem;

	if (!cpu_has_pkeys())
		SKIP(return, "no pku/ospke in /proc/cpuinfo: protection keys unavailable");
	ASSERT_EQ(0, fv_drop_to_nobody(RO_LIMIT));
	devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	mem = anon(len);
	ASSERT_NE(NULL, mem);
	pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);
	if (pkey < 0)
		SKIP(return, "pkey_alloc: %s", strerror(errno));
	ASSERT_EQ(0, pkey_mprotect(mem, len, PROT_READ | PROT_WRITE, pkey));
	/* this thread may not touch it: neither may an import on its behalf */
	EXPECT_EQ(EFAULT, fv_import(devfd, mem, len, 0, NULL));
	EXPECT_EQ(EFAULT, fv_import(devfd, mem, len, FRAMEVEC_IMPORT_WRITE, NULL));
	ASSERT_COUNTERS_BACK(&self->s);
	/* write-disabled: a read-only import is fine, a write import is not */
	ASSERT_EQ(0, pkey_set(pkey, PKEY_DISABLE_WRITE));
	EXPECT_EQ(0, fv_import(devfd, mem, len, 0, NULL));
	EXPECT_EQ(EFAULT, fv_import(devfd, mem, len, FRAMEVEC_IMPORT_WRITE, NULL));
	/* allowed again: both import */
	ASSERT_EQ(0, pkey_set(pkey, 0));
	EXPECT_EQ(0, fv_import(devfd, mem, len, 0, NULL));
	EXPECT_EQ(0, fv_import(devfd, mem, len, FRAMEVEC_IMPORT_WRITE, NULL));
	munmap(mem, len);
	pkey_free(pkey);
	close(devfd);
	ASSERT_NOTHING_LEFT(&self->s);
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], EXEC_CHILD_ARG))
		return memlock_exec_child(atoi(argv[2]));
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';
	return test_harness_run(argc, argv);
}
