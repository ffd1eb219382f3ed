// SPDX-License-Identifier: GPL-2.0
/*
 * framevec demo: what framevec does that the kernel cannot.
 *
 * vivid (instance 0, dma-contig buffers) captures into MMAP buffers; the
 * application only has their pointers. framevec turns each pointer into a
 * dma-buf that vivid's output queue takes as V4L2_MEMORY_DMABUF: frames flow
 * from capture to output with zero CPU copies. Beside it, the same pointer
 * given to the in-kernel USERPTR path (vivid instance 1, vmalloc) fails with
 * EFAULT, as it does since follow_pfn() was removed. Then the owner unmaps
 * and closes the capture device while the imports live: the data stays
 * intact, because framevec holds the vb2 buffers. Closing the dma-bufs
 * releases every reference.
 *
 * Proof of zero-copy: for every buffer, the pfns framevec holds for the
 * pointer (debugfs framevecs list, vb2 source, read from the page tables)
 * equal the pages vb2's own exporter hands out for that buffer
 * (VIDIOC_EXPBUF, imported through framevec's dma-buf source, which reads
 * vb2's sg_table). /proc/self/pagemap cannot be used: it skips VM_PFNMAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "framevec.h"

#define DEMO_MAX_BUFS	8

struct demo_dev {
	char path[32];
	int fd;
};

struct demo {
	int frames, nbufs;
	int vb2_livepatch;		/* framevec_vb2 is loaded: USERPTR must work */
	long page;
	struct demo_dev cap, out, uptr_out;
	struct v4l2_format fmt_cap, fmt_out;
	void *ptr[DEMO_MAX_BUFS];
	size_t len;
	int dmabuf[DEMO_MAX_BUFS];
	size_t npages;
	uint64_t *pfns[DEMO_MAX_BUFS];	/* the vb2 buffer's pfns, from its exporter */
	int check_refs;			/* dma-buf references taken by the proof */
	double import_us[DEMO_MAX_BUFS];
	struct framevec_stats base;
	struct framevec_ctx *ctx;
};

#define fail(code, ...) do { fprintf(stderr, "\ndemo: FAIL: " __VA_ARGS__); \
			     fputc('\n', stderr); return code; } while (0)

static void usage_demo(FILE *f)
{
	fprintf(f,
		"usage: framevec demo [--frames N] [--buffers N] [--vb2-livepatch]\n"
		"\n"
		"vivid capture with dma-contig buffers -> the application's pointer -> framevec ->\n"
		"dma-buf -> vivid output, with zero CPU copies; the in-kernel USERPTR path failing\n"
		"with EFAULT on the same pointer; the owner unmapping and closing while the import\n"
		"lives, the data intact; every reference released at the end.\n"
		"\n"
		"Needs root, debugfs, framevec with its vb2 source, and two vivid instances:\n"
		"  modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0\n"
		"(instance 0 dma-contig for the zero-copy path, instance 1 vmalloc for USERPTR).\n"
		"\n"
		"  --frames N   frames to pass from capture to output (default 30)\n"
		"  --buffers N  capture buffers (2-%d, default 4)\n"
		"  --vb2-livepatch  framevec_vb2 is loaded: the in-kernel USERPTR path must\n"
		"               accept the pointer, zero-copy (the vb2 buffer's own pfns)\n"
		"\n"
		"Exit codes: 0 zero-copy proven, USERPTR failed with EFAULT, every reference\n"
		"released; 3 vivid, framevec or debugfs missing; 4 a system call failed;\n"
		"5 a check failed.\n", DEMO_MAX_BUFS);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Find vivid instance @inst's node with capability @cap */
static int find_vivid(int inst, uint32_t cap, struct demo_dev *d)
{
	char bus[32];
	int i;

	snprintf(bus, sizeof(bus), "platform:vivid-%03d", inst);
	for (i = 0; i < 64; i++) {
		struct v4l2_capability c;
		int fd;

		snprintf(d->path, sizeof(d->path), "/dev/video%d", i);
		fd = open(d->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &c) && !strcmp((char *)c.bus_info, bus) &&
		    (c.device_caps & cap)) {
			d->fd = fd;
			return 0;
		}
		close(fd);
	}
	d->fd = -1;
	return -1;
}

/* Select the S-Video input/output with NTSC, YUYV: same size on both ends */
static int setup_svideo(int fd, int output, struct v4l2_format *fmt)
{
	uint32_t type = output ? V4L2_BUF_TYPE_VIDEO_OUTPUT : V4L2_BUF_TYPE_VIDEO_CAPTURE;
	v4l2_std_id std = V4L2_STD_NTSC_M;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		char name[32];

		if (output) {
			struct v4l2_output o = { .index = i };

			if (ioctl(fd, VIDIOC_ENUMOUTPUT, &o))
				return -1;
			memcpy(name, o.name, sizeof(name));
		} else {
			struct v4l2_input in = { .index = i };

			if (ioctl(fd, VIDIOC_ENUMINPUT, &in))
				return -1;
			memcpy(name, in.name, sizeof(name));
		}
		name[31] = 0;
		if (strstr(name, "S-Video"))
			break;
	}
	if (ioctl(fd, output ? VIDIOC_S_OUTPUT : VIDIOC_S_INPUT, &i) ||
	    ioctl(fd, VIDIOC_S_STD, &std))
		return -1;
	memset(fmt, 0, sizeof(*fmt));
	fmt->type = type;
	if (ioctl(fd, VIDIOC_G_FMT, fmt))
		return -1;
	fmt->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt->fmt.pix.width = 720;
	fmt->fmt.pix.height = 480;
	return ioctl(fd, VIDIOC_S_FMT, fmt);
}

static int reqbufs(int fd, uint32_t type, uint32_t memory, unsigned int count,
		   uint32_t *caps)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = type, .memory = memory };

	if (ioctl(fd, VIDIOC_REQBUFS, &rb))
		return -errno;
	if (caps)
		*caps = rb.capabilities;
	return rb.count;
}

static int wait_dq(int fd, uint32_t type, uint32_t memory, struct v4l2_buffer *b)
{
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->memory = memory;
	return ioctl(fd, VIDIOC_DQBUF, b) ? -errno : 0;
}

/*
 * The pfns framevec holds for the import starting at @start, from the
 * debugfs list of framevecs; *source is the first segment's source.
 */
static int read_framevec_pfns(void *start, size_t npages, uint64_t *pfns,
			      char *source, size_t srclen)
{
	FILE *f = fopen(FRAMEVEC_DEBUGFS_DIR "/framevecs", "re");
	int in = 0, n = 0;
	char line[256];

	if (!f)
		return -errno;
	source[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, pfn, pages;
		char src[32];

		if (sscanf(line, "framevec %*u start=%llx", &s) == 1) {
			in = s == (uintptr_t)start;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, " seg source=%31s", src) == 1 && !source[0])
			snprintf(source, srclen, "%s", src);
		else if (sscanf(line, " run pfn=%llx pages=%llu", &pfn, &pages) == 2)
			while (pages-- && (size_t)n < npages)
				pfns[n++] = pfn++;
	}
	fclose(f);
	return (size_t)n == npages ? 0 : -ENOENT;
}

/* FNV-1a over the buffer: the CPU reads it, copies nothing */
static uint64_t checksum(const volatile unsigned char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int stats_equal(const struct framevec_stats *a, const struct framevec_stats *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static int demo_setup(struct demo *d)
{
	uint32_t caps = 0;
	int i, ret;

	if (find_vivid(0, V4L2_CAP_VIDEO_CAPTURE, &d->cap) ||
	    find_vivid(0, V4L2_CAP_VIDEO_OUTPUT, &d->out) ||
	    find_vivid(1, V4L2_CAP_VIDEO_OUTPUT, &d->uptr_out))
		fail(FV_EXIT_UNAVAILABLE,
		     "two vivid instances with capture and output nodes are needed: modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=1,0");
	/* instance 0 must be dma-contig (no USERPTR), instance 1 vmalloc */
	if (reqbufs(d->cap.fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP, 0, &caps) < 0 ||
	    (caps & V4L2_BUF_CAP_SUPPORTS_USERPTR))
		fail(FV_EXIT_UNAVAILABLE, "vivid instance 0 is not using dma-contig buffers: load vivid with allocators=1,0");
	if (setup_svideo(d->cap.fd, 0, &d->fmt_cap) || setup_svideo(d->out.fd, 1, &d->fmt_out) ||
	    setup_svideo(d->uptr_out.fd, 1, &d->fmt_out))
		fail(FV_EXIT_FAILED, "cannot select vivid's S-Video input/output with NTSC YUYV 720x480: %s",
		     strerror(errno));

	ret = reqbufs(d->cap.fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP, d->nbufs, NULL);
	if (ret < d->nbufs)
		fail(FV_EXIT_FAILED, "VIDIOC_REQBUFS(capture, MMAP, %d): %s", d->nbufs,
		     ret < 0 ? strerror(-ret) : "too few buffers");
	for (i = 0; i < d->nbufs; i++) {
		struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP };

		if (ioctl(d->cap.fd, VIDIOC_QUERYBUF, &b))
			fail(FV_EXIT_FAILED, "VIDIOC_QUERYBUF: %s", strerror(errno));
		d->len = (b.length + d->page - 1) & ~(d->page - 1);
		d->ptr[i] = mmap(NULL, d->len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 d->cap.fd, b.m.offset);
		if (d->ptr[i] == MAP_FAILED)
			fail(FV_EXIT_FAILED, "mmap of capture buffer %d: %s", i, strerror(errno));
	}
	d->npages = d->len / d->page;
	if (d->fmt_out.fmt.pix.sizeimage > d->len)
		fail(FV_EXIT_FAILED, "output frame (%u bytes) larger than capture buffer (%zu)",
		     d->fmt_out.fmt.pix.sizeimage, d->len);
	ret = reqbufs(d->out.fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_DMABUF, d->nbufs, NULL);
	if (ret < d->nbufs)
		fail(FV_EXIT_FAILED, "VIDIOC_REQBUFS(output, DMABUF, %d): %s", d->nbufs,
		     ret < 0 ? strerror(-ret) : "too few buffers");
	return 0;
}

static int vb2_exporter_pfns(struct demo *d, int i, uint64_t *pfns);

/*
 * [1] with framevec_vb2: the same QBUF is accepted, and the vector vb2 got
 * is held by framevec on the vb2 buffer's own pfns.
 */
static int demo_userptr_patched(struct demo *d, int ret, int err)
{
	uint64_t *held = calloc(d->npages, 8), *vb2 = calloc(d->npages, 8);
	char source[32];
	int zc;

	if (!held || !vb2)
		fail(FV_EXIT_FAILED, "out of memory");
	if (ret)
		fail(FV_EXIT_CHECK, "with framevec_vb2 the USERPTR call should succeed, got %s",
		     strerror(err));
	if (read_framevec_pfns(d->ptr[0], d->npages, held, source, sizeof(source)) ||
	    strcmp(source, "vb2"))
		fail(FV_EXIT_CHECK, "framevec does not hold the USERPTR buffer through its vb2 source");
	if (vb2_exporter_pfns(d, 0, vb2))
		fail(FV_EXIT_FAILED, "cannot read the vb2 buffer's own pfns");
	zc = !memcmp(held, vb2, d->npages * 8);
	printf("    framevec_vb2: vb2 holds it through framevec (%s source), %zu pages at pfn %#" PRIx64 ":\n"
	       "    the capture buffer's own pfns (VIDIOC_EXPBUF): %s\n",
	       source, d->npages, held[0], zc ? "zero-copy" : "DIFFERENT");
	free(held);
	free(vb2);
	if (!zc)
		fail(FV_EXIT_CHECK, "the USERPTR buffer is not on the capture buffer's pfns");
	return 0;
}

/* [1] the kernel's own USERPTR path on the same pointer */
static int demo_userptr(struct demo *d)
{
	struct v4l2_buffer b = {
		.index = 0, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_USERPTR,
		.m.userptr = (unsigned long)d->ptr[0], .length = d->len,
		.bytesused = d->fmt_out.fmt.pix.sizeimage, .field = V4L2_FIELD_INTERLACED,
	};
	int ret, err;

	ret = reqbufs(d->uptr_out.fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_USERPTR, 1, NULL);
	if (ret < 1)
		fail(FV_EXIT_FAILED, "VIDIOC_REQBUFS(%s, USERPTR): %s", d->uptr_out.path,
		     ret < 0 ? strerror(-ret) : "no buffer");
	ret = ioctl(d->uptr_out.fd, VIDIOC_QBUF, &b);
	err = errno;
	printf("[1] kernel USERPTR, same pointer: VIDIOC_QBUF(%s, USERPTR %p) -> %s\n",
	       d->uptr_out.path, d->ptr[0], ret ? strerror(err) : "accepted");
	if (d->vb2_livepatch) {
		err = demo_userptr_patched(d, ret, err);
		reqbufs(d->uptr_out.fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_USERPTR, 0, NULL);
		close(d->uptr_out.fd);
		d->uptr_out.fd = -1;
		return err;
	}
	reqbufs(d->uptr_out.fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, V4L2_MEMORY_USERPTR, 0, NULL);
	close(d->uptr_out.fd);
	d->uptr_out.fd = -1;
	if (!ret || err != EFAULT)
		fail(FV_EXIT_CHECK, "the USERPTR baseline should fail with EFAULT (Bad address), got %s",
		     ret ? strerror(err) : "success");
	printf("    frame_vector cannot hold VM_PFNMAP memory: no zero-copy through the kernel\n");
	return 0;
}

/* Is the vb2 source there? Explain the first buffer and say what takes it. */
static int demo_explain(struct demo *d)
{
	struct framevec_explain_entry *e;
	size_t nr;
	char fl[96];
	int ret;

	ret = framevec_explain(d->ctx, 0, (uintptr_t)d->ptr[0], d->len, 0, &e, &nr);
	if (ret)
		fail(fv_exit_code(ret), "explain: %s", framevec_strerror(ret, FRAMEVEC_CTX_EXPLAIN));
	printf("    explain %p: %s %s %s -> %s\n", d->ptr[0],
	       framevec_vm_flags_str(e[0].vm_flags, fl, sizeof(fl)),
	       framevec_backing_name(e[0].backing), e[0].name,
	       e[0].error_revocable ? "refused" : framevec_source_name(e[0].source));
	if (e[0].source != FRAMEVEC_EXPLAIN_SOURCE_VB2 || e[0].error) {
		fprintf(stderr, "\ndemo: FAIL: framevec has no vb2 source for this buffer (source %s, %s%s): the vb2 source (kernel/source_vb2.c, written on branch pfnmap) is missing from this module, so no reference can be taken on a videobuf2 MMAP buffer\n",
			framevec_source_name(e[0].source), e[0].error ? "refused: " : "",
			e[0].error ? e[0].why : "ok");
		free(e);
		return FV_EXIT_CHECK;
	}
	free(e);
	return 0;
}

/*
 * The vb2 buffer's pfns as vb2 itself hands them out: export buffer @i
 * (VIDIOC_EXPBUF, vb2's own dma-buf exporter), mmap that and import it;
 * framevec's dma-buf source reads the pages from vb2's sg_table, a path
 * independent of the vb2 source, which reads the pointer's page tables.
 */
static int vb2_exporter_pfns(struct demo *d, int i, uint64_t *pfns)
{
	struct v4l2_exportbuffer exp = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = i,
					 .flags = O_RDWR | O_CLOEXEC };
	char source[32];
	int ret, fd;
	void *m;

	if (ioctl(d->cap.fd, VIDIOC_EXPBUF, &exp))
		return -errno;
	m = mmap(NULL, d->len, PROT_READ, MAP_SHARED, exp.fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	fd = framevec_import_dmabuf(d->ctx, m, d->len, 0);
	if (fd < 0) {
		ret = fd;
		goto out_unmap;
	}
	d->check_refs++;
	ret = read_framevec_pfns(m, d->npages, pfns, source, sizeof(source));
	if (!ret && strcmp(source, "dmabuf"))
		ret = -EPROTO;
	close(fd);
out_unmap:
	munmap(m, d->len);
out_close:
	close(exp.fd);
	return ret;
}

/* [2] import every buffer; prove its pfns are the vb2 buffer's */
static int demo_import(struct demo *d)
{
	uint64_t *held = calloc(d->npages, 8);
	char source[32];
	int i, ret = 0;

	if (!held)
		fail(FV_EXIT_FAILED, "out of memory");
	for (i = 0; i < d->nbufs && !ret; i++) {
		double t0;

		d->pfns[i] = calloc(d->npages, 8);
		if (!d->pfns[i]) {
			ret = FV_EXIT_FAILED;
			break;
		}
		t0 = now_us();
		d->dmabuf[i] = framevec_import_dmabuf(d->ctx, d->ptr[i], d->len, 0);
		d->import_us[i] = now_us() - t0;
		if (d->dmabuf[i] < 0) {
			fprintf(stderr, "\ndemo: FAIL: import of buffer %d: %s\n", i,
				framevec_strerror(d->dmabuf[i], FRAMEVEC_CTX_IMPORT));
			ret = FV_EXIT_CHECK;
			break;
		}
		if (read_framevec_pfns(d->ptr[i], d->npages, held, source, sizeof(source)) ||
		    strcmp(source, "vb2")) {
			fprintf(stderr, "\ndemo: FAIL: import %d is not in %s/framevecs as a vb2 segment\n",
				i, FRAMEVEC_DEBUGFS_DIR);
			ret = FV_EXIT_CHECK;
			break;
		}
		ret = vb2_exporter_pfns(d, i, d->pfns[i]);
		if (ret) {
			fprintf(stderr, "\ndemo: FAIL: cannot read buffer %d's pfns through VIDIOC_EXPBUF: %s\n",
				i, ret == -EPROTO ? "not held by the dma-buf source" :
				framevec_strerror(ret, FRAMEVEC_CTX_IMPORT));
			ret = FV_EXIT_CHECK;
			break;
		}
		if (memcmp(held, d->pfns[i], d->npages * 8)) {
			fprintf(stderr, "\ndemo: FAIL: buffer %d: framevec holds pfn %#" PRIx64 ", vb2 exports pfn %#" PRIx64 "\n",
				i, held[0], d->pfns[i][0]);
			ret = FV_EXIT_CHECK;
		}
	}
	free(held);
	if (!ret)
		printf("[2] framevec: %d pointers imported as dma-bufs (vb2 source); every page of each\n"
		       "    dma-buf is the vb2 buffer's own page frame (checked against VIDIOC_EXPBUF;\n"
		       "    buffer 0: %zu pages from pfn %#" PRIx64 ")\n",
		       d->nbufs, d->npages, d->pfns[0][0]);
	return ret;
}

/* capture -> pointer's dma-buf -> output, @frames times */
static int demo_stream(struct demo *d, uint64_t *last_sum, int *last_idx)
{
	uint32_t cap = V4L2_BUF_TYPE_VIDEO_CAPTURE, out = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	double t0 = now_us();
	int i, n, ret;

	for (i = 0; i < d->nbufs; i++) {
		struct v4l2_buffer b = { .index = i, .type = cap, .memory = V4L2_MEMORY_MMAP };

		if (ioctl(d->cap.fd, VIDIOC_QBUF, &b))
			fail(FV_EXIT_FAILED, "VIDIOC_QBUF(capture): %s", strerror(errno));
	}
	if (ioctl(d->cap.fd, VIDIOC_STREAMON, &cap) || ioctl(d->out.fd, VIDIOC_STREAMON, &out))
		fail(FV_EXIT_FAILED, "VIDIOC_STREAMON: %s", strerror(errno));

	/*
	 * Capture fills a buffer -> queue its dma-buf on output -> output done
	 * -> give it back to capture. vivid's output starts only with two
	 * buffers queued, so several are in flight.
	 */
	for (n = 0; n < d->frames;) {
		struct pollfd p[2] = {
			{ .fd = d->cap.fd, .events = POLLIN },
			{ .fd = d->out.fd, .events = POLLOUT },
		};
		struct v4l2_buffer b;

		if (poll(p, 2, 20000) <= 0)
			fail(FV_EXIT_FAILED, "no frame from vivid within 20 s");
		if ((p[0].revents | p[1].revents) & POLLERR)
			fail(FV_EXIT_FAILED, "vivid reported an error on its queue");
		if (p[0].revents & POLLIN) {
			ret = wait_dq(d->cap.fd, cap, V4L2_MEMORY_MMAP, &b);
			if (ret)
				fail(FV_EXIT_FAILED, "capture VIDIOC_DQBUF: %s", strerror(-ret));
			i = b.index;
			ret = framevec_v4l2_qbuf_dmabuf(d->out.fd, out, i, d->dmabuf[i], d->len,
							d->fmt_out.fmt.pix.sizeimage);
			if (ret)
				fail(FV_EXIT_FAILED, "output VIDIOC_QBUF(DMABUF): %s",
				     framevec_strerror(ret, FRAMEVEC_CTX_V4L2));
		}
		if (p[1].revents & POLLOUT) {
			ret = wait_dq(d->out.fd, out, V4L2_MEMORY_DMABUF, &b);
			if (ret)
				fail(FV_EXIT_FAILED, "output VIDIOC_DQBUF: %s", strerror(-ret));
			if (b.flags & V4L2_BUF_FLAG_ERROR)
				fail(FV_EXIT_FAILED, "vivid output flagged buffer %u as failed", b.index);
			*last_idx = b.index;
			n++;
			printf("\r    frames %d/%d  capture -> framevec dma-buf -> output  "
			       "CPU copies: 0 B  %.1f fps ", n, d->frames,
			       n / ((now_us() - t0) / 1e6));
			fflush(stdout);
			if (n == d->frames)
				break;
			memset(&b, 0, sizeof(b));
			b.index = *last_idx;
			b.type = cap;
			b.memory = V4L2_MEMORY_MMAP;
			if (ioctl(d->cap.fd, VIDIOC_QBUF, &b))
				fail(FV_EXIT_FAILED, "VIDIOC_QBUF(capture): %s", strerror(errno));
		}
	}
	printf("\n");
	if (ioctl(d->out.fd, VIDIOC_STREAMOFF, &out) || ioctl(d->cap.fd, VIDIOC_STREAMOFF, &cap))
		fail(FV_EXIT_FAILED, "VIDIOC_STREAMOFF: %s", strerror(errno));
	*last_sum = checksum(d->ptr[*last_idx], d->fmt_out.fmt.pix.sizeimage);
	return 0;
}

int fv_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "frames", required_argument, NULL, 'f' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "vb2-livepatch", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct demo d = { .frames = 30, .nbufs = 4 };
	struct framevec_stats st, mid;
	double lat_min = 1e18, lat_max = 0, lat_sum = 0;
	uint64_t sum_before, sum_after;
	int c, i, ret, last = 0;
	unsigned char *m;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hf:b:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage_demo(stdout); return FV_EXIT_OK;
		case 'f': d.frames = atoi(optarg); break;
		case 'b': d.nbufs = atoi(optarg); break;
		case 'L': d.vb2_livepatch = 1; break;
		default: usage_demo(stderr); return FV_EXIT_USAGE;
		}
	}
	if (optind != argc || d.frames < 1 || d.nbufs < 2 || d.nbufs > DEMO_MAX_BUFS) {
		usage_demo(stderr);
		return FV_EXIT_USAGE;
	}
	d.page = sysconf(_SC_PAGESIZE);
	for (i = 0; i < DEMO_MAX_BUFS; i++)
		d.dmabuf[i] = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	d.ctx = framevec_open();
	if (!d.ctx)
		fail(FV_EXIT_UNAVAILABLE, "%s", framevec_strerror(errno, FRAMEVEC_CTX_OPEN));
	ret = framevec_read_stats(&d.base);
	if (ret)
		fail(FV_EXIT_UNAVAILABLE, "%s", framevec_strerror(ret, FRAMEVEC_CTX_STATS));
	ret = demo_setup(&d);
	if (ret)
		return ret;

	printf("framevec demo: vivid capture (dma-contig) -> application pointer -> framevec\n"
	       "               -> dma-buf -> vivid output, zero CPU copies\n");
	printf("    capture %s, output %s: vivid-000 (dma-contig), %ux%u YUYV, %d MMAP buffers of %zu KiB\n",
	       d.cap.path, d.out.path, d.fmt_cap.fmt.pix.width, d.fmt_cap.fmt.pix.height,
	       d.nbufs, d.len >> 10);
	ret = demo_userptr(&d);
	if (ret)
		return ret;
	ret = demo_explain(&d);
	if (ret)
		return ret;
	ret = demo_import(&d);
	if (ret)
		return ret;
	for (i = 0; i < d.nbufs; i++) {
		lat_sum += d.import_us[i];
		lat_min = d.import_us[i] < lat_min ? d.import_us[i] : lat_min;
		lat_max = d.import_us[i] > lat_max ? d.import_us[i] : lat_max;
	}
	ret = demo_stream(&d, &sum_before, &last);
	if (ret)
		return ret;

	/* [3] the owner goes away while the imports live */
	for (i = 0; i < d.nbufs; i++)
		munmap(d.ptr[i], d.len);
	close(d.cap.fd);
	d.cap.fd = -1;
	if (framevec_read_stats(&mid))
		fail(FV_EXIT_UNAVAILABLE, "cannot read the counters");
	m = mmap(NULL, d.len, PROT_READ, MAP_SHARED, d.dmabuf[last], 0);
	if (m == MAP_FAILED)
		fail(FV_EXIT_FAILED, "mmap of dma-buf %d after the owner left: %s", last, strerror(errno));
	sum_after = checksum(m, d.fmt_out.fmt.pix.sizeimage);
	munmap(m, d.len);
	printf("[3] owner unmapped its %d buffers and closed %s; framevec still holds %" PRId64 " vb2 refs;\n"
	       "    last frame read through its dma-buf: %s (fnv %016" PRIx64 ")\n",
	       d.nbufs, d.cap.path, mid.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] -
	       d.base.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2],
	       sum_after == sum_before ? "intact" : "CHANGED", sum_after);

	/* [4] release */
	close(d.out.fd);
	for (i = 0; i < d.nbufs; i++)
		close(d.dmabuf[i]);
	framevec_close(d.ctx);
	if (framevec_read_stats(&st))
		fail(FV_EXIT_UNAVAILABLE, "cannot read the counters");
	printf("[4] closed the output device and the dma-bufs: counters %s\n",
	       stats_equal(&st, &d.base) ? "back at baseline" : "NOT at baseline");

	printf("\nreport\n");
	printf("  frames capture -> output      %d\n", d.frames);
	printf("  bytes copied by the CPU       0\n");
	printf("  import latency                min %.0f us, avg %.0f us, max %.0f us (%d imports of %zu KiB)\n",
	       lat_min, lat_sum / d.nbufs, lat_max, d.nbufs, d.len >> 10);
	printf("  zero-copy                     proven: %d/%d dma-bufs on the vb2 buffers' pfns\n",
	       d.nbufs, d.nbufs);
	printf("  in-kernel USERPTR             %s\n", d.vb2_livepatch ?
	       "accepted zero-copy (framevec_vb2)" : "EFAULT, as expected");
	printf("  data after owner left         %s\n", sum_after == sum_before ? "intact" : "CHANGED");
	printf("  references                    taken %" PRId64 " (%" PRId64 " vb2 for the frames, %d dma-buf for the proof), released %s\n",
	       mid.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] - d.base.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] +
	       d.check_refs, mid.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] -
	       d.base.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2], d.check_refs,
	       stats_equal(&st, &d.base) ? "all" : "NOT all");
	if (sum_after != sum_before)
		fail(FV_EXIT_CHECK, "the data changed after the owner unmapped: the memory was not held");
	if (!stats_equal(&st, &d.base) ||
	    mid.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] - d.base.refs[FRAMEVEC_EXPLAIN_SOURCE_VB2] != d.nbufs)
		fail(FV_EXIT_CHECK, "references were not all taken and released (see the counters)");
	printf("RESULT: PASS\n");
	return FV_EXIT_OK;
}
