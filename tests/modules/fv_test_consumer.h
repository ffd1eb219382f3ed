/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_consumer: a test-only dma-buf importer, as a device driver would
 * be: CPU access through dma_buf_vmap() and device mapping through
 * dma_buf_map_attachment() on its own platform device.
 */
#ifndef FV_TEST_CONSUMER_H
#define FV_TEST_CONSUMER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct fvtc_cpu - copy between a dma-buf (through its vmap) and user memory
 * @fd: the dma-buf
 * @pad: zero
 * @offset: byte offset in the dma-buf
 * @length: bytes to copy
 * @user_ptr: user buffer
 */
struct fvtc_cpu {
	__s32 fd;
	__u32 pad;
	__u64 offset;
	__u64 length;
	__u64 user_ptr;
};

/**
 * struct fvtc_map - attach and map a dma-buf for the test device, then undo
 * @fd: the dma-buf
 * @dir: enum dma_data_direction (1 to device, 2 from device, 0 both)
 * @nents: out: mapped entries
 * @pad: zero
 * @total: out: sum of the entries' DMA lengths
 * @first_page_pfn: out: pfn of the first entry's page (0 if none)
 */
struct fvtc_map {
	__s32 fd;
	__u32 dir;
	__u32 nents;
	__u32 pad;
	__u64 total;
	__u64 first_page_pfn;
};

#define FVTC_VMAP_READ	_IOW('t', 1, struct fvtc_cpu)
#define FVTC_VMAP_WRITE	_IOW('t', 2, struct fvtc_cpu)
#define FVTC_MAP	_IOWR('t', 3, struct fvtc_map)

#endif /* FV_TEST_CONSUMER_H */
