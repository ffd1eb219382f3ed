/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * libframevec: user-space access to framevec.
 *
 * framevec turns a user pointer into a dma-buf fd that holds a real
 * reference on every byte of the range, so that any dma-buf importer (V4L2
 * DMABUF, DRM PRIME, ...) can use the memory without a copy. This library
 * wraps /dev/framevec, explains what backs a range, reads the debugfs
 * counters, turns errnos into sentences that say what to do, and queues user
 * buffers on V4L2 devices as V4L2_MEMORY_DMABUF.
 *
 * Conventions: functions returning int return 0 (or a file descriptor) on
 * success and a negative errno on failure; they also leave errno set to the
 * positive value. Nothing is held after a failure. The library keeps no
 * global state and is thread-safe as long as a handle is not closed while
 * in use.
 *
 * Build: cc prog.c $(pkg-config --cflags --libs framevec)
 */
#ifndef _FRAMEVEC_FRAMEVEC_H
#define _FRAMEVEC_FRAMEVEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/framevec.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBFRAMEVEC_VERSION_MAJOR	0
#define LIBFRAMEVEC_VERSION_MINOR	1

#define FRAMEVEC_DEVICE_PATH	"/dev/framevec"
#define FRAMEVEC_DEBUGFS_DIR	"/sys/kernel/debug/framevec"

/* An open /dev/framevec. */
struct framevec_ctx;

/* Open /dev/framevec. Returns the handle, or NULL with errno set. */
struct framevec_ctx *framevec_open(void);
/* Close the handle. dma-bufs it produced stay valid. NULL is a no-op. */
void framevec_close(struct framevec_ctx *ctx);
/* The /dev/framevec file descriptor of the handle (for poll, fcntl...). */
int framevec_fd(const struct framevec_ctx *ctx);

/*
 * Import [addr, addr + len) of the calling process as a dma-buf.
 * addr and len must be page aligned, len non-zero. flags: 0, or
 * FRAMEVEC_IMPORT_WRITE if a device will write the memory.
 * Returns the new dma-buf fd (O_CLOEXEC; close() it to drop the import),
 * or a negative errno (see framevec_strerror(err, FRAMEVEC_CTX_IMPORT)).
 */
int framevec_import_dmabuf(struct framevec_ctx *ctx, void *addr, size_t len,
			   unsigned int flags);

/*
 * Explain [addr, addr + len) of process pid (0: the caller; another process
 * needs CAP_SYS_PTRACE): one entry per VMA piece and per hole, in address
 * order. addr is rounded down and addr + len up to whole pages. flags: 0 or
 * FRAMEVEC_EXPLAIN_WRITE. On success *entries is a malloc()ed array of *nr
 * entries for the caller to free().
 */
int framevec_explain(struct framevec_ctx *ctx, pid_t pid, uint64_t addr,
		     uint64_t len, unsigned int flags,
		     struct framevec_explain_entry **entries, size_t *nr);

/* "pages", "dma-buf", "vb2", "iomem", "revocable", or "none" */
const char *framevec_source_name(int source);
/* "hole", "anonymous", "file", "shmem", "hugetlb", "dma-buf", "device", "special" */
const char *framevec_backing_name(unsigned int backing);
/* "rw-s io pfnmap ..." style summary of entry->vm_flags into buf */
const char *framevec_vm_flags_str(uint64_t vm_flags, char *buf, size_t size);

/* framevec's debugfs counters (/sys/kernel/debug/framevec/counters). */
struct framevec_stats {
	int64_t live_framevecs;		/* framevecs alive (imports) */
	int64_t live_dmabufs;		/* dma-bufs exported by /dev/framevec */
	int64_t pinned_pages;		/* pages long-term pinned */
	int64_t device_maps;		/* live device mappings */
	int64_t refs[5];		/* references held, by FRAMEVEC_EXPLAIN_SOURCE_* */
};

/*
 * Read the counters. Needs debugfs mounted and read access to it (root).
 * Counters this library does not know are ignored.
 */
int framevec_read_stats(struct framevec_stats *stats);

/* What was being done when an error happened, for framevec_strerror(). */
enum framevec_err_context {
	FRAMEVEC_CTX_OPEN,	/* framevec_open() */
	FRAMEVEC_CTX_IMPORT,	/* framevec_import_dmabuf() */
	FRAMEVEC_CTX_EXPLAIN,	/* framevec_explain() */
	FRAMEVEC_CTX_STATS,	/* framevec_read_stats() */
	FRAMEVEC_CTX_V4L2,	/* framevec_v4l2_*() */
};

/*
 * A sentence for err (positive or negative errno) in that context, saying
 * what went wrong and what to do. Never NULL; the string is static.
 */
const char *framevec_strerror(int err, enum framevec_err_context context);

/*
 * V4L2: import [addr, addr + len) and queue it as buffer index of a queue of
 * the given type (V4L2_BUF_TYPE_*, single-planar or one-plane multi-planar)
 * whose buffers were requested with V4L2_MEMORY_DMABUF. The import is
 * writable for capture queues and read-only for output queues; bytesused is
 * used for output queues (0: len). Returns the dma-buf fd: keep it to re-queue
 * the buffer with framevec_v4l2_qbuf_dmabuf() and close it after the queue
 * no longer uses it (VIDIOC_STREAMOFF or VIDIOC_REQBUFS with count 0).
 * On failure nothing is imported and nothing is queued.
 */
int framevec_v4l2_queue_user_buffer(struct framevec_ctx *ctx, int video_fd,
				    uint32_t type, uint32_t index, void *addr,
				    size_t len, size_t bytesused);

/* V4L2: (re-)queue buffer index as an already imported dma-buf fd. */
int framevec_v4l2_qbuf_dmabuf(int video_fd, uint32_t type, uint32_t index,
			      int dmabuf_fd, size_t len, size_t bytesused);

#ifdef __cplusplus
}
#endif

#endif /* _FRAMEVEC_FRAMEVEC_H */
