// SPDX-License-Identifier: GPL-2.0
/*
 * libframevec, linked statically: every function against the real module,
 * and the V4L2 helper against vivid (instance 1, vmalloc buffers: its
 * dma-buf import vmaps the framevec, so scattered user pages work).
 * The suite loads vivid first:
 *   modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0
 */
#include <poll.h>
#include <linux/videodev2.h>
#include <framevec/framevec.h>

#include "framevec_test.h"
#include "vivid_helpers.h"

FIXTURE(lib) {
	struct framevec_ctx *ctx;
	char *buf;		/* 4 pages, read-write, anonymous */
	struct fv_counters base;
};

FIXTURE_SETUP(lib)
{
	FV_BECOME_USER();
	self->ctx = framevec_open();
	ASSERT_NE(NULL, self->ctx);
	self->buf = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(lib)
{
	munmap(self->buf, 4 * FV_PAGE);
	framevec_close(self->ctx);
	ASSERT_AT_BASELINE(&self->base);
}

TEST_F(lib, open_gives_the_device_fd)
{
	int fd = framevec_fd(self->ctx);

	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	framevec_close(NULL);	/* a no-op */
}

TEST_F(lib, import_returns_a_dmabuf_that_holds_the_pages)
{
	struct fv_counters c;
	int fd = framevec_import_dmabuf(self->ctx, self->buf, 4 * FV_PAGE, FRAMEVEC_IMPORT_WRITE);
	char *m;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fv_read_counters(&c));
	EXPECT_EQ(self->base.live_dmabufs + 1, c.live_dmabufs);
	EXPECT_EQ(self->base.pinned_pages + 4, c.pinned_pages);
	EXPECT_EQ(self->base.refs_pages + 1, c.refs_pages);
	/* the dma-buf is the same memory: a write through it shows in buf */
	m = mmap(NULL, 4 * FV_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	m[3 * FV_PAGE + 7] = 42;
	EXPECT_EQ(42, self->buf[3 * FV_PAGE + 7]);
	munmap(m, 4 * FV_PAGE);
	close(fd);
}

TEST_F(lib, import_error_is_negative_errno_and_sets_errno)
{
	errno = 0;
	ASSERT_EQ(-EINVAL, framevec_import_dmabuf(self->ctx, self->buf + 1, FV_PAGE, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mprotect(self->buf, FV_PAGE, PROT_NONE));
	ASSERT_EQ(-EACCES, framevec_import_dmabuf(self->ctx, self->buf, 4 * FV_PAGE, 0));
}

TEST_F(lib, explain_rounds_to_pages_and_allocates)
{
	struct framevec_explain_entry *e;
	size_t nr;

	ASSERT_EQ(0, mprotect(self->buf + FV_PAGE, FV_PAGE, PROT_NONE));
	/* an unaligned address and length cover pages 0..2 */
	ASSERT_EQ(0, framevec_explain(self->ctx, 0, (uintptr_t)self->buf + 100,
				      2 * FV_PAGE, 0, &e, &nr));
	ASSERT_EQ(3, nr);
	EXPECT_EQ((uintptr_t)self->buf, e[0].start);
	EXPECT_EQ((uintptr_t)self->buf + 3 * FV_PAGE, e[2].end);
	EXPECT_STREQ("pages", framevec_source_name(e[0].source));
	EXPECT_STREQ("none", framevec_source_name(e[1].source));
	EXPECT_STREQ("anonymous", framevec_backing_name(e[1].backing));
	EXPECT_EQ(EACCES, e[1].error);
	free(e);
}

TEST_F(lib, explain_grows_its_array)
{
	struct framevec_explain_entry *e;
	char *many;
	size_t nr;
	int i;

	/* 40 pieces alternating PROT_READ / PROT_NONE: more than the first guess */
	many = mmap(NULL, 40 * FV_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, many);
	for (i = 1; i < 40; i += 2)
		ASSERT_EQ(0, mprotect(many + i * FV_PAGE, FV_PAGE, PROT_NONE));
	ASSERT_EQ(0, framevec_explain(self->ctx, 0, (uintptr_t)many, 40 * FV_PAGE, 0, &e, &nr));
	ASSERT_EQ(40, nr);
	for (i = 0; i < 40; i++)
		EXPECT_EQ(i & 1 ? EACCES : 0, e[i].error);
	free(e);
	munmap(many, 40 * FV_PAGE);
}

TEST_F(lib, explain_errors)
{
	struct framevec_explain_entry *e = (void *)1;
	size_t nr = 7;

	ASSERT_EQ(-EINVAL, framevec_explain(self->ctx, 0, (uintptr_t)self->buf, 0, 0, &e, &nr));
	EXPECT_EQ(NULL, e);
	EXPECT_EQ(0, nr);
	ASSERT_EQ(-ESRCH, framevec_explain(self->ctx, 0x3fffffff, (uintptr_t)self->buf,
					   FV_PAGE, 0, &e, &nr));
	ASSERT_EQ(-EOVERFLOW, framevec_explain(self->ctx, 0, ~0ULL - 10, 100, 0, &e, &nr));
}

TEST_F(lib, vm_flags_string)
{
	char s[96];

	EXPECT_STREQ("rw-s io pfnmap",
		     framevec_vm_flags_str(FRAMEVEC_VMA_READ | FRAMEVEC_VMA_WRITE |
					   FRAMEVEC_VMA_SHARED | FRAMEVEC_VMA_IO |
					   FRAMEVEC_VMA_PFNMAP, s, sizeof(s)));
	EXPECT_STREQ("r--p thp", framevec_vm_flags_str(FRAMEVEC_VMA_READ | FRAMEVEC_VMA_HUGEPAGE,
						      s, sizeof(s)));
	EXPECT_STREQ("r-", framevec_vm_flags_str(FRAMEVEC_VMA_READ, s, 3));
}

TEST_F(lib, read_stats_matches_debugfs)
{
	struct framevec_stats st;
	struct fv_counters c;
	int fd = framevec_import_dmabuf(self->ctx, self->buf, 2 * FV_PAGE, 0);

	ASSERT_LE(0, fd);
	if (fv_as_nobody()) {
		/* debugfs is root's: a user gets the error, not zeros */
		EXPECT_EQ(-EACCES, framevec_read_stats(&st));
		EXPECT_EQ(EACCES, errno);
		close(fd);
		return;
	}
	ASSERT_EQ(0, framevec_read_stats(&st));
	ASSERT_EQ(0, fv_read_counters(&c));
	EXPECT_EQ(c.live_framevecs, st.live_framevecs);
	EXPECT_EQ(c.live_dmabufs, st.live_dmabufs);
	EXPECT_EQ(c.pinned_pages, st.pinned_pages);
	EXPECT_EQ(c.device_maps, st.device_maps);
	EXPECT_EQ(c.refs_pages, st.refs[FRAMEVEC_EXPLAIN_SOURCE_PAGES]);
	EXPECT_EQ(c.refs_dmabuf, st.refs[FRAMEVEC_EXPLAIN_SOURCE_DMABUF]);
	EXPECT_EQ(c.refs_vb2, st.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2]);
	EXPECT_EQ(c.refs_iomem, st.refs[FRAMEVEC_EXPLAIN_SOURCE_IOMEM]);
	EXPECT_EQ(c.refs_revocable, st.refs[FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE]);
	EXPECT_EQ(self->base.pinned_pages + 2, st.pinned_pages);
	close(fd);
}

TEST_F(lib, strerror_says_what_to_do)
{
	EXPECT_NE(NULL, strstr(framevec_strerror(EINVAL, FRAMEVEC_CTX_IMPORT), "page aligned"));
	/* negative errnos, as the functions return them, work too */
	EXPECT_STREQ(framevec_strerror(EINVAL, FRAMEVEC_CTX_IMPORT),
		     framevec_strerror(-EINVAL, FRAMEVEC_CTX_IMPORT));
	EXPECT_NE(NULL, strstr(framevec_strerror(-ENOMEM, FRAMEVEC_CTX_IMPORT), "ulimit -l"));
	EXPECT_NE(NULL, strstr(framevec_strerror(EOPNOTSUPP, FRAMEVEC_CTX_IMPORT), "framevec explain"));
	EXPECT_NE(NULL, strstr(framevec_strerror(ENOENT, FRAMEVEC_CTX_OPEN), "modprobe framevec"));
	EXPECT_NE(NULL, strstr(framevec_strerror(EPERM, FRAMEVEC_CTX_EXPLAIN), "CAP_SYS_PTRACE"));
	EXPECT_NE(NULL, strstr(framevec_strerror(ENOENT, FRAMEVEC_CTX_STATS), "debugfs"));
	EXPECT_NE(NULL, strstr(framevec_strerror(EINVAL, FRAMEVEC_CTX_V4L2), "V4L2_MEMORY_DMABUF"));
	/* the V4L2 helper's import half falls back to import sentences */
	EXPECT_STREQ(framevec_strerror(EFBIG, FRAMEVEC_CTX_IMPORT),
		     framevec_strerror(EFBIG, FRAMEVEC_CTX_V4L2));
	/* context-free ones and unknown ones */
	EXPECT_NE(NULL, strstr(framevec_strerror(EINTR, FRAMEVEC_CTX_STATS), "try again"));
	EXPECT_STREQ(strerror(EXDEV), framevec_strerror(EXDEV, FRAMEVEC_CTX_IMPORT));
}

FIXTURE(v4l2) {
	struct framevec_ctx *ctx;
	int vfd;
	uint32_t type;
	size_t len, sizeimage;
	char *buf;
	struct fv_counters base;
};

FIXTURE_VARIANT(v4l2) {
	uint32_t type;
};

FIXTURE_VARIANT_ADD(v4l2, capture) { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
FIXTURE_VARIANT_ADD(v4l2, output) { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };

FIXTURE_SETUP(v4l2)
{
	struct v4l2_format fmt = { .type = variant->type };
	struct v4l2_requestbuffers rb = {
		.count = 2, .type = variant->type, .memory = V4L2_MEMORY_DMABUF,
	};

	FV_BECOME_USER();
	self->ctx = framevec_open();
	ASSERT_NE(NULL, self->ctx);
	self->type = variant->type;
	self->buf = MAP_FAILED;
	self->vfd = vivid_open(1, V4L2_TYPE_IS_OUTPUT(variant->type) ?
			       V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE);
	if (self->vfd < 0)
		SKIP(return, "vivid instance 1 not loaded (modprobe vivid n_devs=2 allocators=1,0)");
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_G_FMT, &fmt));
	self->sizeimage = fmt.fmt.pix.sizeimage;
	self->len = (self->sizeimage + FV_PAGE - 1) & ~(FV_PAGE - 1);
	/* two buffers: vivid's output starts streaming with two queued */
	self->buf = mmap(NULL, 2 * self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_REQBUFS, &rb));
	ASSERT_EQ(0, fv_read_counters(&self->base));
}

FIXTURE_TEARDOWN(v4l2)
{
	if (self->vfd >= 0) {
		struct v4l2_requestbuffers rb = {
			.count = 0, .type = self->type, .memory = V4L2_MEMORY_DMABUF,
		};

		ioctl(self->vfd, VIDIOC_REQBUFS, &rb);
		close(self->vfd);
		ASSERT_AT_BASELINE(&self->base);
	}
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->len);
	framevec_close(self->ctx);
}

/* Queue two user buffers, stream a frame through one, dequeue it. */
TEST_F(v4l2, user_buffer_goes_through_the_device)
{
	struct v4l2_buffer b = { .type = self->type, .memory = V4L2_MEMORY_DMABUF };
	struct pollfd p = { .fd = self->vfd, .events = POLLIN | POLLOUT };
	struct fv_counters c;
	size_t i, nonzero = 0;
	int fd[2], n;
	char *frame;

	memset(self->buf, 0, 2 * self->len);
	for (n = 0; n < 2; n++) {
		fd[n] = framevec_v4l2_queue_user_buffer(self->ctx, self->vfd, self->type, n,
							self->buf + n * self->len, self->len,
							self->sizeimage);
		ASSERT_LE(0, fd[n]) TH_LOG("%s", framevec_strerror(fd[n], FRAMEVEC_CTX_V4L2));
	}
	ASSERT_EQ(0, fv_read_counters(&c));
	EXPECT_EQ(self->base.refs_pages + 2, c.refs_pages);
	EXPECT_EQ(self->base.pinned_pages + (long)(2 * self->len / FV_PAGE), c.pinned_pages);

	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMON, &self->type));
	ASSERT_EQ(1, poll(&p, 1, 20000));
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_DQBUF, &b));
	ASSERT_GT(2, b.index);
	EXPECT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
	if (V4L2_TYPE_IS_CAPTURE(self->type)) {
		/* vivid drew its test pattern straight into our pages */
		frame = self->buf + b.index * self->len;
		for (i = 0; i < self->sizeimage; i++)
			nonzero += frame[i] != 0;
		EXPECT_LT(self->sizeimage / 4, nonzero);
	}
	/* re-queue the same import without importing again */
	ASSERT_EQ(0, framevec_v4l2_qbuf_dmabuf(self->vfd, self->type, b.index, fd[b.index],
					       self->len, self->sizeimage));
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMOFF, &self->type));
	close(fd[0]);
	close(fd[1]);
}

TEST_F(v4l2, bad_index_queues_and_holds_nothing)
{
	struct fv_counters c;

	errno = 0;
	ASSERT_EQ(-EINVAL, framevec_v4l2_queue_user_buffer(self->ctx, self->vfd, self->type, 99,
							   self->buf, self->len, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, fv_read_counters(&c));
	EXPECT_EQ(self->base.live_dmabufs, c.live_dmabufs);
	EXPECT_EQ(self->base.pinned_pages, c.pinned_pages);
}

TEST_F(v4l2, import_error_is_reported_before_qbuf)
{
	ASSERT_EQ(-EINVAL, framevec_v4l2_queue_user_buffer(self->ctx, self->vfd, self->type, 0,
							   self->buf + 8, self->len - FV_PAGE, 0));
}

TEST_HARNESS_MAIN
