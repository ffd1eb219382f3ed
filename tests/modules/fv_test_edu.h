/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_edu: a driver for QEMU's "edu" PCI device that makes it DMA
 * through a dma-buf, as a real device driver importing a dma-buf would:
 * statically, one transfer per call (FVTE_COPY), or dynamically with
 * move_notify, keeping its attachment between transfers (FVTE_DYN_*).
 */
#ifndef FV_TEST_EDU_H
#define FV_TEST_EDU_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct fvte_copy - have the device copy inside a dma-buf
 * @fd: the dma-buf
 * @len: bytes, at most 4096 (the edu's buffer)
 * @src: offset the device reads from (DMA to the device)
 * @dst: offset the device then writes to (DMA from the device)
 * @dma_src: out: bus address the device read from
 * @dma_dst: out: bus address the device wrote to
 *
 * @src and @dst must not cross a page boundary with @len.
 */
struct fvte_copy {
	__s32 fd;
	__u32 len;
	__u64 src;
	__u64 dst;
	__u64 dma_src;
	__u64 dma_dst;
};

/*
 * Dynamic mode: the open file attaches the device to one dma-buf with
 * dma_buf_dynamic_attach() and keeps the attachment, and its mapping
 * between transfers, as a driver streaming into a buffer does. move_notify
 * marks the mapping stale; the next transfer then unmaps it and maps again
 * before any DMA, and fails with the map's errno if that fails (no DMA is
 * started). Each transfer runs under the dma-buf's reservation lock, so a
 * move_notify waits for a transfer in progress.
 */

/* struct fvte_chunk.flags */
#define FVTE_CHUNK_TO_DEVICE	(1U << 0)	/* dma-buf @src -> device buffer */
#define FVTE_CHUNK_FROM_DEVICE	(1U << 1)	/* then device buffer -> dma-buf @dst */

/**
 * struct fvte_chunk - FVTE_DYN_DMA: one transfer through the attachment
 * @len: bytes, at most 4096 (the edu's buffer)
 * @flags: FVTE_CHUNK_*, at least one; with FVTE_CHUNK_FROM_DEVICE alone the
 *	device writes what its buffer holds from the previous transfer
 * @src: offset the device reads from (FVTE_CHUNK_TO_DEVICE)
 * @dst: offset the device writes to (FVTE_CHUNK_FROM_DEVICE)
 * @dma_src: out: bus address read from, 0 if none
 * @dma_dst: out: bus address written to, 0 if none
 */
struct fvte_chunk {
	__u32 len;
	__u32 flags;
	__u64 src;
	__u64 dst;
	__u64 dma_src;
	__u64 dma_dst;
};

/**
 * struct fvte_dyn_status - FVTE_DYN_STATUS: what the attachment saw
 * @move_notify_calls: how many times move_notify ran
 * @maps: mappings made (dma_buf_map_attachment() that succeeded)
 * @last_map_err: errno of the last mapping attempt (negative), or 0
 * @mapped: a mapping is held now
 * @stale: move_notify came after it was made
 * @__pad: zero
 */
struct fvte_dyn_status {
	__u32 move_notify_calls;
	__u32 maps;
	__s32 last_map_err;
	__u32 mapped;
	__u32 stale;
	__u32 __pad;
};

#define FVTE_COPY	_IOWR('e', 1, struct fvte_copy)
#define FVTE_DYN_ATTACH	_IOW('e', 2, __s32)
#define FVTE_DYN_DMA	_IOWR('e', 3, struct fvte_chunk)
#define FVTE_DYN_DETACH	_IO('e', 4)
#define FVTE_DYN_STATUS	_IOR('e', 5, struct fvte_dyn_status)

#endif /* FV_TEST_EDU_H */
