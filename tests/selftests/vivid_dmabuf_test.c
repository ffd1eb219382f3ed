// SPDX-License-Identifier: GPL-2.0
/*
 * A real importer nobody here wrote: vivid's video output takes a framevec
 * dma-buf made from the application's malloc'd buffer with
 * V4L2_MEMORY_DMABUF. With vivid's S-Video loop (the capture input "Is
 * Connected To" the output), what the application wrote into its malloc'd
 * buffer appears in the capture buffers, and so do its later writes to
 * that buffer without any new import: the device reads the application's
 * memory itself.
 */
#include <dirent.h>
#include <poll.h>
#include <linux/videodev2.h>

#include "framevec_test.h"
#include "vivid_helpers.h"

#define NR_OUT	2
#define NR_CAP	4

FIXTURE(vivid) {
	int devfd, cap, out;
	struct v4l2_format fmt;
	struct fv_counters base;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret && errno == EINTR);
	return ret ? errno : 0;
}

/* set the menu control named @name to the item named @item */
static int set_menu_ctrl(int fd, const char *name, const char *item)
{
	struct v4l2_queryctrl qc = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };

	while (!xioctl(fd, VIDIOC_QUERYCTRL, &qc)) {
		if (!strcmp((char *)qc.name, name)) {
			for (int i = qc.minimum; i <= qc.maximum; i++) {
				struct v4l2_querymenu qm = { .id = qc.id, .index = i };
				struct v4l2_control c = { .id = qc.id, .value = i };

				if (!xioctl(fd, VIDIOC_QUERYMENU, &qm) &&
				    !strcmp((char *)qm.name, item))
					return xioctl(fd, VIDIOC_S_CTRL, &c);
			}
			return ENOENT;
		}
		qc.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return ENOENT;
}

static int find_io(int fd, bool output, const char *name)
{
	for (int i = 0; i < 16; i++) {
		struct v4l2_input in = { .index = i };
		struct v4l2_output o = { .index = i };

		if (output ? xioctl(fd, VIDIOC_ENUMOUTPUT, &o) : xioctl(fd, VIDIOC_ENUMINPUT, &in))
			break;
		if (!strcmp(output ? (char *)o.name : (char *)in.name, name))
			return i;
	}
	return -1;
}

FIXTURE_SETUP(vivid)
{
	v4l2_std_id std;
	int in, o;

	self->cap = self->out = -1;
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, fv_read_counters(&self->base));
	ASSERT_EQ(0, system("modprobe vivid"));
	FV_BECOME_USER();
	self->cap = vivid_open(0, V4L2_CAP_VIDEO_CAPTURE);
	self->out = vivid_open(0, V4L2_CAP_VIDEO_OUTPUT);
	ASSERT_LE(0, self->cap);
	ASSERT_LE(0, self->out);

	/* S-Video out 0 looped to S-Video in 0, same standard and format */
	o = find_io(self->out, true, "S-Video 000-0");
	in = find_io(self->cap, false, "S-Video 000-0");
	ASSERT_LE(0, o);
	ASSERT_LE(0, in);
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_S_OUTPUT, &o));
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_S_INPUT, &in));
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_G_STD, &std));
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_S_STD, &std));
	ASSERT_EQ(0, set_menu_ctrl(self->cap, "S-Video 000-0 Is Connected To",
				   "Output S-Video 000-0"));
	ASSERT_EQ(0, set_menu_ctrl(self->cap, "OSD Text Mode", "None"));

	self->fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_G_FMT, &self->fmt));
	self->fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_S_FMT, &self->fmt));
	self->fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_S_FMT, &self->fmt));
	self->fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_G_FMT, &self->fmt));
}

FIXTURE_TEARDOWN(vivid)
{
	if (self->cap >= 0)
		close(self->cap);
	if (self->out >= 0)
		close(self->out);
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* YUYV frame whose luma is a per-frame pattern the capture side can find */
static void fill_frame(unsigned char *p, const struct v4l2_pix_format *pix, int seed)
{
	for (__u32 y = 0; y < pix->height; y++)
		for (__u32 x = 0; x < pix->width * 2; x++)
			p[y * pix->bytesperline + x] = (x & 1) ? 128 : (unsigned char)(16 + ((x / 2 + y + seed * 37) % 200));
}

/* fraction of lines (in 1/1000) of a capture frame equal to the source */
static int match_permille(const unsigned char *cap, const unsigned char *src,
			  const struct v4l2_pix_format *pix)
{
	int same = 0;

	for (__u32 y = 0; y < pix->height; y++)
		same += !memcmp(cap + y * pix->bytesperline, src + y * pix->bytesperline,
				pix->width * 2);
	return same * 1000 / pix->height;
}

TEST_F(vivid, output_takes_framevec_dmabuf_of_malloc_memory_and_loops_it_to_capture)
{
	struct v4l2_pix_format *pix = &self->fmt.fmt.pix;
	size_t len = (pix->sizeimage + FV_PAGE - 1) & ~(FV_PAGE - 1);
	struct v4l2_requestbuffers rb = {};
	unsigned char *src[NR_OUT], *cap[NR_CAP];
	int dfd[NR_OUT], type, best = 0, frames = 0, seed = 1, best2 = 0;
	struct fv_counters now;

	TH_LOG("format %ux%u YUYV, %u bytes per frame", pix->width, pix->height, pix->sizeimage);

	/* output: malloc'd frames -> framevec dma-bufs -> V4L2_MEMORY_DMABUF */
	rb.count = NR_OUT;
	rb.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	rb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_REQBUFS, &rb));
	ASSERT_EQ(NR_OUT, rb.count);
	for (int i = 0; i < NR_OUT; i++) {
		struct v4l2_buffer b = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT,
			.memory = V4L2_MEMORY_DMABUF, .bytesused = pix->sizeimage,
			.field = pix->field,
		};

		src[i] = aligned_alloc(FV_PAGE, len);
		ASSERT_NE(NULL, src[i]);
		fill_frame(src[i], pix, 1);
		/* vivid's vmalloc allocator vmaps the buffers: a write import */
		ASSERT_IMPORT_OK(self->devfd, src[i], len, FRAMEVEC_IMPORT_WRITE, &dfd[i]);
		b.m.fd = dfd[i];
		b.length = len;
		ASSERT_EQ(0, xioctl(self->out, VIDIOC_QBUF, &b));
	}
	ASSERT_EQ(0, fv_read_counters(&now));
	EXPECT_EQ(self->base.live_dmabufs + NR_OUT, now.live_dmabufs);

	/* capture: ordinary MMAP buffers */
	memset(&rb, 0, sizeof(rb));
	rb.count = NR_CAP;
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_REQBUFS, &rb));
	ASSERT_EQ(NR_CAP, rb.count);
	for (int i = 0; i < NR_CAP; i++) {
		struct v4l2_buffer b = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
		};

		ASSERT_EQ(0, xioctl(self->cap, VIDIOC_QUERYBUF, &b));
		cap[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, self->cap, b.m.offset);
		ASSERT_NE(MAP_FAILED, cap[i]);
		ASSERT_EQ(0, xioctl(self->cap, VIDIOC_QBUF, &b));
	}

	type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_STREAMON, &type));
	type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_STREAMON, &type));

	/* keep the output fed with the same framevec dma-bufs; look at captures */
	for (int n = 0; n < 80 && best2 < 1000; n++) {
		struct pollfd pfd = { .fd = self->cap, .events = POLLIN };
		struct v4l2_buffer b = {
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
		};
		struct v4l2_buffer ob = {
			.type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_DMABUF,
		};
		struct pollfd opfd = { .fd = self->out, .events = POLLOUT };
		int m;

		ASSERT_LT(0, poll(&pfd, 1, 10000));
		ASSERT_EQ(0, xioctl(self->cap, VIDIOC_DQBUF, &b));
		m = match_permille(cap[b.index], src[0], pix);
		if (seed == 1 && m > best)
			best = m;
		if (seed == 2 && m > best2)
			best2 = m;
		frames++;
		if (best == 1000 && seed == 1) {
			/* zero-copy: new content in the malloc'd memory, no new import */
			seed = 2;
			for (int i = 0; i < NR_OUT; i++)
				fill_frame(src[i], pix, seed);
		}
		ASSERT_EQ(0, xioctl(self->cap, VIDIOC_QBUF, &b));
		if (poll(&opfd, 1, 0) > 0 && !xioctl(self->out, VIDIOC_DQBUF, &ob)) {
			ob.m.fd = dfd[ob.index];
			ob.length = len;
			ob.bytesused = pix->sizeimage;
			ASSERT_EQ(0, xioctl(self->out, VIDIOC_QBUF, &ob));
		}
	}
	TH_LOG("%d capture frames; best frames matched %d.%d%% then %d.%d%% of the lines the application wrote",
	       frames, best / 10, best % 10, best2 / 10, best2 % 10);
	EXPECT_EQ(1000, best);
	/* later writes to the application's buffer reach the device unchanged */
	EXPECT_EQ(1000, best2);

	type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_STREAMOFF, &type));
	type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_STREAMOFF, &type));
	for (int i = 0; i < NR_CAP; i++)
		munmap(cap[i], pix->sizeimage);
	memset(&rb, 0, sizeof(rb));
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	ASSERT_EQ(0, xioctl(self->cap, VIDIOC_REQBUFS, &rb));
	rb.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	rb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_REQBUFS, &rb));
	for (int i = 0; i < NR_OUT; i++) {
		close(dfd[i]);
		free(src[i]);
	}
}

/*
 * The write rule: vivid's vmalloc allocator vmaps output buffers, and a
 * vmap has no direction (the same allocator writes capture frames through
 * it), so a read-only import is refused at QBUF and nothing is held after.
 */
TEST_F(vivid, output_queue_refuses_a_read_only_import)
{
	struct v4l2_pix_format *pix = &self->fmt.fmt.pix;
	size_t len = (pix->sizeimage + FV_PAGE - 1) & ~(FV_PAGE - 1);
	struct v4l2_requestbuffers rb = {
		.count = 1, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_DMABUF,
	};
	struct v4l2_buffer b = {
		.index = 0, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT,
		.memory = V4L2_MEMORY_DMABUF, .bytesused = pix->sizeimage,
		.field = pix->field,
	};
	unsigned char *src;
	int dfd = -1, ret;

	ASSERT_EQ(0, xioctl(self->out, VIDIOC_REQBUFS, &rb));
	src = aligned_alloc(FV_PAGE, len);
	ASSERT_NE(NULL, src);
	fill_frame(src, pix, 1);
	ASSERT_IMPORT_OK(self->devfd, src, len, 0, &dfd);
	b.m.fd = dfd;
	b.length = len;
	ret = xioctl(self->out, VIDIOC_QBUF, &b);
	EXPECT_NE(0, ret);
	TH_LOG("read-only import at QBUF: %s", strerror(ret));
	close(dfd);
	rb.count = 0;
	ASSERT_EQ(0, xioctl(self->out, VIDIOC_REQBUFS, &rb));
	free(src);
}

TEST_HARNESS_MAIN
