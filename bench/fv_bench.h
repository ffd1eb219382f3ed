/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_bench: gup_test-style benchmark interface. Times the kernel side of one
 * import (optionally + DMA map + unmap) and one release of a user range, by
 * framevec and by the in-kernel baselines, then checks the held state
 * outside the timed parts. Test-only, never shipped.
 *
 * Both structs are size-extensible: @size is the caller's sizeof() (fields
 * past it read as zero, copy_struct_from_user()); unknown flags and non-zero
 * reserved fields are refused with -EINVAL.
 */
#ifndef FV_BENCH_H
#define FV_BENCH_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

enum fvb_method {
	FVB_FRAMEVEC,		/* framevec_import() [+ framevec_map()] / framevec_release() */
	FVB_PIN_USER_PAGES,	/* pin_user_pages_fast(FOLL_LONGTERM) / unpin_user_pages() */
	FVB_GET_VADDR_FRAMES,	/* media's frame_vector: get/put_vaddr_frames() */
	FVB_PIN_LOCKED,		/* pin_user_pages(FOLL_LONGTERM) under mmap_read_lock */
	/*
	 * videobuf2's USERPTR path (vb2_dma_sg): get_vaddr_frames(),
	 * sg_alloc_table_from_pages() [+ dma_map_sgtable()]
	 */
	FVB_VB2_USERPTR,
	/*
	 * follow_pfnmap_start() once per 4 KiB page under mmap_read_lock into
	 * a pfn array, holding nothing: the cost of 5.10's follow_pfn() loop,
	 * for VM_IO | VM_PFNMAP ranges only
	 */
	FVB_PFN_WALK,
	FVB_NR_METHODS,
};

/* struct fvb_run.flags */
#define FVB_WRITE	_BITUL(0)	/* import for device writes */
#define FVB_MAP		_BITUL(1)	/* also map for the bench device (IOMMU) and unmap */
/*
 * After the release, untimed: look the range's pages up again (no pin) and
 * count those still DMA-pinned into @left_pinned (pages-backed ranges only)
 */
#define FVB_VERIFY	_BITUL(2)
/*
 * framevec: import as an importer with a revoke callback (one that does
 * nothing: fv_bench never touches the memory), which revocable memory (the
 * iomem source) requires
 */
#define FVB_REVOCABLE	_BITUL(3)
#define FVB_FLAGS	(FVB_WRITE | FVB_MAP | FVB_VERIFY | FVB_REVOCABLE)

/**
 * struct fvb_run - FVB_RUN: one timed import [+ map + unmap] + release
 * @size: in: sizeof(struct fvb_run)
 * @method: in: enum fvb_method
 * @flags: in: FVB_*
 * @__reserved: in: zero
 * @addr: in: page aligned range start
 * @length: in: page aligned length
 * @import_ns: out: time of the import, including its allocations
 * @map_ns: out: time of the DMA map (FVB_MAP)
 * @unmap_ns: out: time of the DMA unmap (FVB_MAP)
 * @release_ns: out: time of the release, including the frees
 * @held_pages: out: pages held, counted after the timed import
 * @runs: out: physically contiguous runs the method holds (framevec) or
 *	DMA segments it mapped (FVB_MAP)
 * @meta_bytes: out: bytes of per-page (or per-run) metadata the method keeps
 *	for the life of the import
 * @left_pinned: out: with FVB_VERIFY, pages of the range still pinned after
 *	the release (0 when everything returned to baseline)
 */
struct fvb_run {
	__u32 size;
	__u32 method;
	__u32 flags;
	__u32 __reserved;
	__u64 addr;
	__u64 length;
	__u64 import_ns;
	__u64 map_ns;
	__u64 unmap_ns;
	__u64 release_ns;
	__u64 held_pages;
	__u64 runs;
	__u64 meta_bytes;
	__u64 left_pinned;
};

/**
 * struct fvb_live - FVB_LIVE: kernel memory of many live framevec imports
 * @size: in: sizeof(struct fvb_live)
 * @flags: in: FVB_WRITE or 0
 * @count: in: number of imports to hold at once (at most FVB_LIVE_MAX)
 * @addr: in: start of @count consecutive ranges of @length bytes each
 * @length: in: page aligned length of one import
 * @slab_bytes: out: growth of slab memory (reclaimable + unreclaimable)
 *	while all @count imports are live
 * @used_bytes: out: growth of used memory (fall of free pages) over the same
 * @slab_left_bytes: out: slab growth left after releasing them all (signed)
 *
 * The counters are the global vmstat ones, folded per CPU lazily: they
 * drift by at most a few pages per CPU, small next to @count imports.
 */
struct fvb_live {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 __reserved;
	__u64 addr;
	__u64 length;
	__u64 slab_bytes;
	__u64 used_bytes;
	__s64 slab_left_bytes;
};

#define FVB_LIVE_MAX	65536

#define FVB_RUN		_IOWR('b', 1, struct fvb_run)
#define FVB_LIVE	_IOWR('b', 2, struct fvb_live)

#endif /* FV_BENCH_H */
