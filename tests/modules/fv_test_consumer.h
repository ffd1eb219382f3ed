/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_consumer: a test-only dma-buf importer, as a device driver would
 * be: CPU access through dma_buf_vmap() and device mapping through
 * dma_buf_map_attachment() on its own platform device, as a static importer
 * (FVTC_MAP) or a dynamic one with move_notify (FVTC_DYN_*).
 */
#ifndef FV_TEST_CONSUMER_H
#define FV_TEST_CONSUMER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FVTC_DEV	"/dev/fv_test_consumer"

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
 * @first_page_pfn: out: the first entry's DMA address as a pfn: its
 *	physical frame for this device (dma-direct, no IOMMU), 0 if none
 */
struct fvtc_map {
	__s32 fd;
	__u32 dir;
	__u32 nents;
	__u32 pad;
	__u64 total;
	__u64 first_page_pfn;
};

/*
 * Dynamic attachments: a dma-buf importer that can be told to let go
 * (dma_buf_dynamic_attach() with move_notify), as a GPU driver is. Unlike
 * the calls above, these keep state in the open file between calls: up to
 * FVTC_MAX_DYN attachments, each with at most one mapping. The move_notify
 * callback only counts and marks the mapping stale; the importer drops it
 * with FVTC_DYN_UNMAP and may try FVTC_DYN_MAP again. Closing the file
 * unmaps and detaches what is left.
 */
#define FVTC_MAX_DYN	4

/**
 * struct fvtc_dyn_attach - FVTC_DYN_ATTACH: attach to a dma-buf dynamically
 * @fd: in: the dma-buf (a reference is held until FVTC_DYN_DETACH)
 * @id: out: the attachment
 */
struct fvtc_dyn_attach {
	__s32 fd;
	__u32 id;
};

/**
 * struct fvtc_dyn_map - FVTC_DYN_MAP: dma_buf_map_attachment() under the
 *	reservation lock
 * @id: in: the attachment
 * @dir: in: enum dma_data_direction (1 to device, 2 from device, 0 both)
 * @nents: out: mapped entries
 * @cached: out: 1 if the table returned is the one the dma-buf core mapped
 *	at attach time and keeps (attach->sgt then), not a fresh mapping
 * @total: out: sum of the entries' DMA lengths
 */
struct fvtc_dyn_map {
	__u32 id;
	__u32 dir;
	__u32 nents;
	__u32 cached;
	__u64 total;
};

/**
 * struct fvtc_dyn_status - FVTC_DYN_STATUS: what the attachment saw
 * @id: in: the attachment
 * @move_notify_calls: out: how many times move_notify ran
 * @last_map_err: out: errno of the last FVTC_DYN_MAP (negative), 0 if it
 *	succeeded or none was made
 * @mapped: out: the importer holds a mapping
 * @cached_at_attach: out: the dma-buf core mapped the attachment when it
 *	was made (attach->sgt was set right after dma_buf_dynamic_attach())
 * @stale: out: move_notify came after the mapping was made
 * @__pad: zero
 */
struct fvtc_dyn_status {
	__u32 id;
	__u32 move_notify_calls;
	__s32 last_map_err;
	__u32 mapped;
	__u32 cached_at_attach;
	__u32 stale;
	__u32 __pad;
};

#define FVTC_VMAP_READ	_IOW('t', 1, struct fvtc_cpu)
#define FVTC_VMAP_WRITE	_IOW('t', 2, struct fvtc_cpu)
#define FVTC_MAP	_IOWR('t', 3, struct fvtc_map)
#define FVTC_DYN_ATTACH	_IOWR('t', 4, struct fvtc_dyn_attach)
#define FVTC_DYN_MAP	_IOWR('t', 5, struct fvtc_dyn_map)
#define FVTC_DYN_UNMAP	_IOW('t', 6, __u32)
#define FVTC_DYN_DETACH	_IOW('t', 7, __u32)
#define FVTC_DYN_STATUS	_IOWR('t', 8, struct fvtc_dyn_status)

#endif /* FV_TEST_CONSUMER_H */
