/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_bench: gup_test-style benchmark interface. Times the kernel side of one
 * import and one release of a user range, by framevec and by the in-kernel
 * baselines, then checks the held state outside the timed part.
 */
#ifndef FV_BENCH_H
#define FV_BENCH_H

#include <linux/ioctl.h>
#include <linux/types.h>

enum fvb_method {
	FVB_FRAMEVEC,		/* framevec_import() / framevec_release() */
	FVB_PIN_USER_PAGES,	/* pin_user_pages_fast(FOLL_LONGTERM) / unpin_user_pages() */
	FVB_GET_VADDR_FRAMES,	/* media's frame_vector: get/put_vaddr_frames() */
	FVB_PIN_LOCKED,		/* pin_user_pages(FOLL_LONGTERM) under mmap_read_lock */
	FVB_NR_METHODS,
};

/**
 * struct fvb_run - one timed import + release
 * @method: enum fvb_method
 * @write: import for device writes
 * @addr: page aligned range start
 * @length: page aligned length
 * @import_ns: out: time of the import, including its allocations
 * @release_ns: out: time of the release, including the frees
 * @held_pages: out: pages held, checked after the timed import
 * @meta_bytes: out: bytes of per-page metadata the method allocated
 */
struct fvb_run {
	__u32 method;
	__u32 write;
	__u64 addr;
	__u64 length;
	__u64 import_ns;
	__u64 release_ns;
	__u64 held_pages;
	__u64 meta_bytes;
};

#define FVB_RUN	_IOWR('b', 1, struct fvb_run)

#endif /* FV_BENCH_H */
