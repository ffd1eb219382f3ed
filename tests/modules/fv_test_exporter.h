/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_exporter: test-only driver that exports memory through framevec's
 * iomem helper, like a capture device exporting its buffers. Shared by the
 * module and the selftests.
 *
 * /dev/fv_test_exporter (root only). Buffers belong to the open file and are
 * named by a handle; mmap() at the buffer's mmap_offset (plus a page offset
 * inside the buffer) maps it. Closing the file drops the driver's reference
 * on every buffer it still has: the memory itself is poisoned (0x6b) and
 * freed only when the last mapping and importer are gone too.
 */
#ifndef _FV_TEST_EXPORTER_H
#define _FV_TEST_EXPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FV_TEXP_DEV		"/dev/fv_test_exporter"
#define FV_TEXP_TYPE		0xBA
#define FV_TEXP_POISON		0x6b
#define FV_TEXP_MAX_CHUNKS	16

/*
 * FV_TEXP_IOC_ALLOC flags: the buffer's memory is made write-combined or
 * uncached (UC-) in the kernel's linear mapping and mapped so to user space,
 * as a driver of a framebuffer does (x86 only, set_memory_wc()/_uc(); else
 * -EOPNOTSUPP). Such buffers cannot go to quarantine.
 */
#define FV_TEXP_ALLOC_WC	(1U << 0)
#define FV_TEXP_ALLOC_UC	(1U << 1)

/**
 * struct fv_texp_alloc - FV_TEXP_IOC_ALLOC: dma_alloc_coherent() buffer
 * @nr_pages: in: size in pages, a multiple of @nr_chunks
 * @nr_chunks: in: number of separate allocations (1..FV_TEXP_MAX_CHUNKS),
 *	each one range of the iomem object
 * @handle: out: the buffer's handle
 * @flags: in: 0, FV_TEXP_ALLOC_WC or FV_TEXP_ALLOC_UC
 * @mmap_offset: out: mmap() offset of the buffer's first page
 * @phys: out: physical address of the first chunk
 */
struct fv_texp_alloc {
	__u32 nr_pages;
	__u32 nr_chunks;
	__u32 handle;
	__u32 flags;
	__u64 mmap_offset;
	__u64 phys;
};

/**
 * struct fv_texp_bar - FV_TEXP_IOC_BAR: export BAR2 of the ivshmem device
 * @handle: out: the buffer's handle
 * @__pad: zero
 * @mmap_offset: out: mmap() offset of the BAR's first page
 * @phys: out: physical address of the BAR
 * @size: out: size of the BAR in bytes
 */
struct fv_texp_bar {
	__u32 handle;
	__u32 __pad;
	__u64 mmap_offset;
	__u64 phys;
	__u64 size;
};

/* FV_TEXP_IOC_FREE flags: free the memory now (only after a revoke) */
#define FV_TEXP_FREE_NOW	(1U << 0)
/*
 * With FV_TEXP_FREE_NOW, for a dma_alloc_coherent() buffer: the memory is
 * hashed, poisoned and counted as freed as usual, but its pages are kept
 * aside (in a quarantine of the open file, under the buffer's handle) instead
 * of going back to the allocator, so that a late write into them can be
 * seen: FV_TEXP_IOC_CHECK_FREED compares them with the poison, then really
 * frees them. Closing the file frees what is left in quarantine.
 */
#define FV_TEXP_FREE_QUARANTINE	(1U << 1)

/**
 * struct fv_texp_free - FV_TEXP_IOC_FREE: drop the driver's reference
 * @handle: the buffer
 * @flags: FV_TEXP_FREE_NOW, optionally with FV_TEXP_FREE_QUARANTINE, or 0
 */
struct fv_texp_free {
	__u32 handle;
	__u32 flags;
};

/**
 * struct fv_texp_check_freed - FV_TEXP_IOC_CHECK_FREED: check quarantined
 *	memory against the poison, then free it
 * @handle: in: the handle the buffer had when it was freed with
 *	FV_TEXP_FREE_QUARANTINE
 * @__pad: zero
 * @nr_pages: out: size of the quarantined memory in pages
 * @changed: out: bytes that do not hold FV_TEXP_POISON any more
 * @first_changed: out: byte offset of the first of them, or ~0
 */
struct fv_texp_check_freed {
	__u32 handle;
	__u32 __pad;
	__u64 nr_pages;
	__u64 changed;
	__u64 first_changed;
};

/**
 * struct fv_texp_stats - FV_TEXP_IOC_STATS: module-wide counters
 * @live_buffers: buffers whose memory is not freed yet
 * @frees: memory frees since the module was loaded
 * @last_free_hash: FNV-1a 64 of the last freed buffer's bytes, read just
 *	before they were poisoned
 * @last_free_pages: its size in pages
 */
struct fv_texp_stats {
	__u64 live_buffers;
	__u64 frees;
	__u64 last_free_hash;
	__u64 last_free_pages;
};

/**
 * struct fv_texp_dma_probe - FV_TEXP_IOC_DMA_PROBE: map a dma-buf for a device
 * @dmabuf_fd: in: the dma-buf
 * @use_pci: in: attach the ivshmem PCI device instead of the platform device
 * @nents: out: DMA entries of the mapping
 * @max_seg_size: out: the device's maximum DMA segment size
 * @total_len: out: sum of their lengths
 * @first_dma: out: DMA address of the first entry
 * @contiguous: out: 1 if each entry starts where the previous one ended
 * @__pad: zero
 *
 * Attaches dynamically, maps DMA_BIDIRECTIONAL, reads the table, unmaps and
 * detaches: a test of what framevec_map() gives a device.
 */
struct fv_texp_dma_probe {
	__s32 dmabuf_fd;
	__u32 use_pci;
	__u32 nents;
	__u32 max_seg_size;
	__u64 total_len;
	__u64 first_dma;
	__u32 contiguous;
	__u32 __pad;
};

#define FV_TEXP_IOC_ALLOC	_IOWR(FV_TEXP_TYPE, 0, struct fv_texp_alloc)
#define FV_TEXP_IOC_BAR		_IOR(FV_TEXP_TYPE, 1, struct fv_texp_bar)
#define FV_TEXP_IOC_REVOKE	_IOW(FV_TEXP_TYPE, 2, __u32)
#define FV_TEXP_IOC_FREE	_IOW(FV_TEXP_TYPE, 3, struct fv_texp_free)
#define FV_TEXP_IOC_STATS	_IOR(FV_TEXP_TYPE, 4, struct fv_texp_stats)
#define FV_TEXP_IOC_DMA_PROBE	_IOWR(FV_TEXP_TYPE, 5, struct fv_texp_dma_probe)
#define FV_TEXP_IOC_CHECK_FREED	_IOWR(FV_TEXP_TYPE, 6, struct fv_texp_check_freed)

#define FV_TEXP_HANDLE_SHIFT	32

#endif /* _FV_TEST_EXPORTER_H */
