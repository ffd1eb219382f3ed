// SPDX-License-Identifier: GPL-2.0
/*
 * libframevec: see framevec/framevec.h for the API and its conventions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "framevec/framevec.h"

#define FV_EXPORT __attribute__((visibility("default")))

struct framevec_ctx {
	int fd;
};

/* Return -err with errno set to err. */
static int fv_fail(int err)
{
	errno = err;
	return -err;
}

FV_EXPORT struct framevec_ctx *framevec_open(void)
{
	struct framevec_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->fd = open(FRAMEVEC_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (ctx->fd < 0) {
		int err = errno;

		free(ctx);
		errno = err;
		return NULL;
	}
	return ctx;
}

FV_EXPORT void framevec_close(struct framevec_ctx *ctx)
{
	if (!ctx)
		return;
	close(ctx->fd);
	free(ctx);
}

FV_EXPORT int framevec_fd(const struct framevec_ctx *ctx)
{
	return ctx->fd;
}

FV_EXPORT int framevec_import_dmabuf(struct framevec_ctx *ctx, void *addr,
				     size_t len, unsigned int flags)
{
	struct framevec_import arg = {
		.size = sizeof(arg),
		.flags = flags,
		.addr = (uintptr_t)addr,
		.length = len,
		.dmabuf_fd = -1,
	};

	if (ioctl(ctx->fd, FRAMEVEC_IOC_IMPORT, &arg))
		return fv_fail(errno);
	return arg.dmabuf_fd;
}

FV_EXPORT int framevec_explain(struct framevec_ctx *ctx, pid_t pid, uint64_t addr,
			       uint64_t len, unsigned int flags,
			       struct framevec_explain_entry **entries, size_t *nr)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = addr & ~(page - 1), end;
	struct framevec_explain_entry *buf = NULL;
	struct framevec_explain arg;
	uint32_t cap = 16;
	int tries;

	*entries = NULL;
	*nr = 0;
	if (__builtin_add_overflow(addr, len, &end) ||
	    __builtin_add_overflow(end, page - 1, &end))
		return fv_fail(EOVERFLOW);
	end &= ~(page - 1);
	if (!len)
		return fv_fail(EINVAL);

	/* The mappings may change between two calls: retry a few times. */
	for (tries = 0; tries < 8; tries++) {
		struct framevec_explain_entry *n = realloc(buf, (size_t)cap * sizeof(*buf));

		if (!n) {
			free(buf);
			return fv_fail(ENOMEM);
		}
		buf = n;
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.flags = flags;
		arg.pid = pid;
		arg.nr_entries = cap;
		arg.addr = start;
		arg.length = end - start;
		arg.entries = (uintptr_t)buf;
		arg.entry_size = sizeof(*buf);
		if (!ioctl(ctx->fd, FRAMEVEC_IOC_EXPLAIN, &arg)) {
			*entries = buf;
			*nr = arg.nr_entries;
			return 0;
		}
		if (errno != EMSGSIZE) {
			int err = errno;

			free(buf);
			return fv_fail(err);
		}
		cap = arg.nr_entries + 16;
	}
	free(buf);
	return fv_fail(EAGAIN);
}

FV_EXPORT const char *framevec_source_name(int source)
{
	static const char *const names[] = {
		[FRAMEVEC_EXPLAIN_SOURCE_PAGES] = "pages",
		[FRAMEVEC_EXPLAIN_SOURCE_DMABUF] = "dma-buf",
		[FRAMEVEC_EXPLAIN_SOURCE_VB2] = "vb2",
		[FRAMEVEC_EXPLAIN_SOURCE_IOMEM] = "iomem",
		[FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE] = "revocable",
	};

	if (source < 0 || source >= (int)(sizeof(names) / sizeof(names[0])))
		return "none";
	return names[source];
}

FV_EXPORT const char *framevec_backing_name(unsigned int backing)
{
	static const char *const names[] = {
		[FRAMEVEC_BACKING_HOLE] = "hole",
		[FRAMEVEC_BACKING_ANON] = "anonymous",
		[FRAMEVEC_BACKING_FILE] = "file",
		[FRAMEVEC_BACKING_SHMEM] = "shmem",
		[FRAMEVEC_BACKING_HUGETLB] = "hugetlb",
		[FRAMEVEC_BACKING_DMABUF] = "dma-buf",
		[FRAMEVEC_BACKING_DEVICE] = "device",
		[FRAMEVEC_BACKING_SPECIAL] = "special",
	};

	if (backing >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[backing];
}

FV_EXPORT const char *framevec_vm_flags_str(uint64_t f, char *buf, size_t size)
{
	static const struct {
		uint64_t flag;
		const char *name;
	} extra[] = {
		{ FRAMEVEC_VMA_IO, " io" },
		{ FRAMEVEC_VMA_PFNMAP, " pfnmap" },
		{ FRAMEVEC_VMA_MIXEDMAP, " mixedmap" },
		{ FRAMEVEC_VMA_HUGETLB, " hugetlb" },
		{ FRAMEVEC_VMA_HUGEPAGE, " thp" },
		{ FRAMEVEC_VMA_NOHUGEPAGE, " nothp" },
		{ FRAMEVEC_VMA_LOCKED, " locked" },
	};
	size_t i, used;

	if (!size)
		return buf;
	snprintf(buf, size, "%c%c%c%c",
		 f & FRAMEVEC_VMA_READ ? 'r' : '-', f & FRAMEVEC_VMA_WRITE ? 'w' : '-',
		 f & FRAMEVEC_VMA_EXEC ? 'x' : '-', f & FRAMEVEC_VMA_SHARED ? 's' : 'p');
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		used = strlen(buf);
		if (f & extra[i].flag)
			snprintf(buf + used, size - used, "%s", extra[i].name);
	}
	return buf;
}

FV_EXPORT int framevec_read_stats(struct framevec_stats *st)
{
	static const char *const refs[] = { "pages", "dmabuf", "vb2", "iomem", "revocable" };
	char name[64];
	long long val;
	int i, n = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen(FRAMEVEC_DEBUGFS_DIR "/counters", "re");
	if (!f)
		return fv_fail(errno);
	while (fscanf(f, "%63s %lld", name, &val) == 2) {
		n++;
		if (!strcmp(name, "live_framevecs"))
			st->live_framevecs = val;
		else if (!strcmp(name, "live_dmabufs"))
			st->live_dmabufs = val;
		else if (!strcmp(name, "pinned_pages"))
			st->pinned_pages = val;
		else if (!strcmp(name, "device_maps"))
			st->device_maps = val;
		else if (!strncmp(name, "refs_", 5))
			for (i = 0; i < 5; i++)
				if (!strcmp(name + 5, refs[i]))
					st->refs[i] = val;
	}
	fclose(f);
	/* an empty or foreign file is not framevec's */
	return n ? 0 : fv_fail(EBADMSG);
}

struct fv_errmsg {
	int context;	/* -1: any */
	int err;
	const char *msg;
};

static const struct fv_errmsg fv_errmsgs[] = {
	{ FRAMEVEC_CTX_OPEN, ENOENT,
	  "/dev/framevec does not exist: load the module (modprobe framevec) or install it (dkms install framevec)" },
	{ FRAMEVEC_CTX_OPEN, ENODEV,
	  "/dev/framevec has no driver behind it: load the module (modprobe framevec)" },
	{ FRAMEVEC_CTX_OPEN, ENXIO,
	  "/dev/framevec has no driver behind it: load the module (modprobe framevec)" },
	{ FRAMEVEC_CTX_OPEN, EACCES,
	  "no permission to open /dev/framevec: the module creates it mode 0666; check udev rules or the device node's mode" },
	{ FRAMEVEC_CTX_IMPORT, EINVAL,
	  "address or length is not page aligned, or the length is zero: allocate the buffer with mmap() or aligned_alloc(sysconf(_SC_PAGESIZE), ...) and import whole pages" },
	{ FRAMEVEC_CTX_IMPORT, EFAULT,
	  "part of the range is not mapped or lies beyond the address space: import only memory the process has mapped ('framevec explain PID ADDR LEN' shows the holes)" },
	{ FRAMEVEC_CTX_IMPORT, EACCES,
	  "part of the range is PROT_NONE, or read-only and imported for writing: mprotect() it, or import without FRAMEVEC_IMPORT_WRITE" },
	{ FRAMEVEC_CTX_IMPORT, EOPNOTSUPP,
	  "part of the range is memory no framevec source can hold (or a flag is unknown): run 'framevec explain PID ADDR LEN' to see which mapping and what to use instead" },
	{ FRAMEVEC_CTX_IMPORT, EOVERFLOW,
	  "address + length wraps around: pass the buffer's real address and size" },
	{ FRAMEVEC_CTX_IMPORT, EFBIG,
	  "the range is larger than framevec's max_import_pages: split the import or raise /sys/module/framevec/parameters/max_import_pages" },
	{ FRAMEVEC_CTX_IMPORT, ENOMEM,
	  "pinning the range would exceed RLIMIT_MEMLOCK (or memory ran out): raise 'ulimit -l' or give the process CAP_IPC_LOCK" },
	{ FRAMEVEC_CTX_IMPORT, ENOTTY,
	  "the loaded framevec module does not know this ioctl: update the module to match the library" },
	{ FRAMEVEC_CTX_EXPLAIN, EPERM,
	  "explaining another process needs CAP_SYS_PTRACE: run as root, or explain from inside the process (pid 0)" },
	{ FRAMEVEC_CTX_EXPLAIN, ESRCH,
	  "no such process, or it has no address space (a kernel thread or a zombie): check the PID" },
	{ FRAMEVEC_CTX_EXPLAIN, EINVAL,
	  "the range is empty or the pid is negative: pass a PID, a start address and a non-zero length" },
	{ FRAMEVEC_CTX_EXPLAIN, EFAULT,
	  "the range ends beyond the process's address space: check the address and length" },
	{ FRAMEVEC_CTX_EXPLAIN, ENOTTY,
	  "the loaded framevec module has no explain ioctl: update the module to match the library" },
	{ FRAMEVEC_CTX_EXPLAIN, EAGAIN,
	  "the process kept changing its mappings while being explained: try again" },
	{ FRAMEVEC_CTX_STATS, ENOENT,
	  "framevec's debugfs files are missing: mount debugfs (mount -t debugfs none /sys/kernel/debug) and load the module (modprobe framevec)" },
	{ FRAMEVEC_CTX_STATS, EACCES,
	  "debugfs is readable by root only: run as root" },
	{ FRAMEVEC_CTX_STATS, EBADMSG,
	  "the counters file holds no framevec counters: check that the framevec module is the one loaded" },
	{ FRAMEVEC_CTX_V4L2, EINVAL,
	  "the V4L2 device refused the buffer: request the buffers with V4L2_MEMORY_DMABUF (VIDIOC_REQBUFS), use an index below the count, and make the buffer at least the format's sizeimage" },
	{ FRAMEVEC_CTX_V4L2, ENOTTY,
	  "the file descriptor is not a V4L2 video device" },
	{ FRAMEVEC_CTX_V4L2, EFAULT,
	  "the V4L2 driver could not use the dma-buf: a dma-contig driver needs physically contiguous memory (import a buffer of another video device, a dma-heap buffer, or use an IOMMU); 'framevec explain' shows what backs the range" },
	{ FRAMEVEC_CTX_V4L2, EOPNOTSUPP,
	  "the memory can be revoked by its owner and the V4L2 driver cannot be made to stop (no move_notify), or no framevec source holds it: 'framevec explain' tells which" },
	{ FRAMEVEC_CTX_V4L2, EBUSY,
	  "the V4L2 queue is busy: stop streaming or free the buffers first" },
	/* any context */
	{ -1, EINTR, "interrupted by a signal: try again" },
	{ -1, ENOMEM, "out of memory" },
	{ -1, EBADF, "not an open file descriptor: open the device first" },
	{ -1, ENOTTY, "the file descriptor is not /dev/framevec" },
};

FV_EXPORT const char *framevec_strerror(int err, enum framevec_err_context context)
{
	size_t i;

	if (err < 0)
		err = -err;
	if (context == FRAMEVEC_CTX_V4L2) {
		/* the import half of the V4L2 helper reports import errors */
		for (i = 0; i < sizeof(fv_errmsgs) / sizeof(fv_errmsgs[0]); i++)
			if (fv_errmsgs[i].context == FRAMEVEC_CTX_V4L2 && fv_errmsgs[i].err == err)
				return fv_errmsgs[i].msg;
		context = FRAMEVEC_CTX_IMPORT;
	}
	for (i = 0; i < sizeof(fv_errmsgs) / sizeof(fv_errmsgs[0]); i++)
		if ((int)fv_errmsgs[i].context == (int)context && fv_errmsgs[i].err == err)
			return fv_errmsgs[i].msg;
	for (i = 0; i < sizeof(fv_errmsgs) / sizeof(fv_errmsgs[0]); i++)
		if (fv_errmsgs[i].context == -1 && fv_errmsgs[i].err == err)
			return fv_errmsgs[i].msg;
	return strerror(err);
}

FV_EXPORT int framevec_v4l2_qbuf_dmabuf(int video_fd, uint32_t type, uint32_t index,
					int dmabuf_fd, size_t len, size_t bytesused)
{
	struct v4l2_plane plane;
	struct v4l2_buffer buf;

	if (len > UINT32_MAX || bytesused > len)
		return fv_fail(EINVAL);
	memset(&buf, 0, sizeof(buf));
	memset(&plane, 0, sizeof(plane));
	buf.type = type;
	buf.index = index;
	buf.memory = V4L2_MEMORY_DMABUF;
	if (V4L2_TYPE_IS_MULTIPLANAR(type)) {
		plane.m.fd = dmabuf_fd;
		plane.length = len;
		plane.bytesused = V4L2_TYPE_IS_OUTPUT(type) ? (bytesused ? bytesused : len) : 0;
		buf.m.planes = &plane;
		buf.length = 1;
	} else {
		buf.m.fd = dmabuf_fd;
		buf.length = len;
		buf.bytesused = V4L2_TYPE_IS_OUTPUT(type) ? (bytesused ? bytesused : len) : 0;
	}
	if (V4L2_TYPE_IS_OUTPUT(type))
		buf.field = V4L2_FIELD_NONE;
	if (ioctl(video_fd, VIDIOC_QBUF, &buf))
		return fv_fail(errno);
	return 0;
}

FV_EXPORT int framevec_v4l2_queue_user_buffer(struct framevec_ctx *ctx, int video_fd,
					      uint32_t type, uint32_t index, void *addr,
					      size_t len, size_t bytesused)
{
	int fd, ret;

	/*
	 * A device only reads an output buffer, but queues of vb2's vmalloc
	 * allocator vmap it, and framevec vmaps only write imports (a vmap has
	 * no direction): import writable memory for writing, read-only memory
	 * read-only (such a queue then refuses it).
	 */
	fd = framevec_import_dmabuf(ctx, addr, len, FRAMEVEC_IMPORT_WRITE);
	if (fd == -EACCES && V4L2_TYPE_IS_OUTPUT(type))
		fd = framevec_import_dmabuf(ctx, addr, len, 0);
	if (fd < 0)
		return fd;
	ret = framevec_v4l2_qbuf_dmabuf(video_fd, type, index, fd, len, bytesused);
	if (ret) {
		close(fd);
		return fv_fail(-ret);
	}
	return fd;
}
