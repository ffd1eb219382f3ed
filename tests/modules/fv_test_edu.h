/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_edu: a driver for QEMU's "edu" PCI device that makes it DMA
 * through a dma-buf, as a real device driver importing a dma-buf would.
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

#define FVTE_COPY	_IOWR('e', 1, struct fvte_copy)

#endif /* FV_TEST_EDU_H */
