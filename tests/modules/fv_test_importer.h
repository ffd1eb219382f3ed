/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_importer: an in-kernel framevec importer with a revoke callback,
 * driven from the selftests through /dev/fv_test_importer (root only).
 * Shared by the test module and the tests.
 */
#ifndef _FV_TEST_IMPORTER_H
#define _FV_TEST_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FVTI_DEV	"/dev/fv_test_importer"
#define FVTI_TYPE	0xBA
#define FVTI_MAX_SLOTS	16

/* struct fvti_import.flags */
#define FVTI_IMPORT_WRITE	(1U << 0)

/* struct fvti_map.dir: enum dma_data_direction */
#define FVTI_DIR_BIDIRECTIONAL	0
#define FVTI_DIR_TO_DEVICE	1
#define FVTI_DIR_FROM_DEVICE	2

/**
 * struct fvti_import - import [addr, addr + length) of the caller with
 *	framevec_import() and a revoke callback
 * @addr: start
 * @length: length in bytes
 * @flags: FVTI_IMPORT_*
 * @id: out: slot of the import
 */
struct fvti_import {
	__u64 addr;
	__u64 length;
	__u32 flags;
	__u32 id;
};

/**
 * struct fvti_map - framevec_map() a slot for the module's device
 * @id: slot
 * @dir: FVTI_DIR_*
 */
struct fvti_map {
	__u32 id;
	__u32 dir;
};

/**
 * struct fvti_status - what the importer saw
 * @id: in: slot
 * @revoke_calls: how many times the revoke callback ran
 * @mapped_at_revoke: a device mapping was live when it first ran
 * @word_valid: @word_at_revoke was read (the first page had a kernel mapping)
 * @word_at_revoke: first 32-bit word of the memory, read inside the callback
 * @revoked: framevec_is_revoked() now
 * @mapped: a device mapping is live now
 * @nr_pages: framevec_nr_pages()
 */
struct fvti_status {
	__u32 id;
	__u32 revoke_calls;
	__u32 mapped_at_revoke;
	__u32 word_valid;
	__u32 word_at_revoke;
	__u32 revoked;
	__u32 mapped;
	__u32 __pad;
	__u64 nr_pages;
};

/**
 * struct fvti_pfns - the page frames behind an import or a dma-buf
 * @dmabuf_fd: a dma-buf to attach to and map (its exporter's sg_table), or -1
 * @id: slot whose runs to list when @dmabuf_fd is -1
 * @max: entries in @pfns
 * @count: out: number of pages (may exceed @max; only @max are written)
 * @pfns: user pointer to __u64[max], one pfn per page
 */
struct fvti_pfns {
	__s32 dmabuf_fd;
	__u32 id;
	__u32 max;
	__u32 count;
	__u64 pfns;
};

/**
 * struct fvti_revoke_delay - FVTI_IOC_REVOKE_DELAY: a slow revoke callback
 * @id: slot
 * @delay_ms: from now on the callback sleeps this long (at most
 *	FVTI_MAX_DELAY_MS) before it returns, as a driver waiting for its
 *	DMA to drain would; 0 for none
 */
struct fvti_revoke_delay {
	__u32 id;
	__u32 delay_ms;
};

#define FVTI_MAX_DELAY_MS	10000

/**
 * struct fvti_revoke_times - FVTI_IOC_REVOKE_TIMES: when the callback ran
 * @id: in: slot
 * @calls: out: how many times the revoke callback was called
 * @enter_ns: out: CLOCK_MONOTONIC when its first call started, 0 if none
 * @exit_ns: out: CLOCK_MONOTONIC when that call returned, 0 if not yet
 */
struct fvti_revoke_times {
	__u32 id;
	__u32 calls;
	__u64 enter_ns;
	__u64 exit_ns;
};

#define FVTI_IOC_IMPORT		_IOWR(FVTI_TYPE, 0, struct fvti_import)
#define FVTI_IOC_MAP		_IOW(FVTI_TYPE, 1, struct fvti_map)
#define FVTI_IOC_UNMAP		_IOW(FVTI_TYPE, 2, __u32)
#define FVTI_IOC_STATUS		_IOWR(FVTI_TYPE, 3, struct fvti_status)
#define FVTI_IOC_RELEASE	_IOW(FVTI_TYPE, 4, __u32)
#define FVTI_IOC_PFNS		_IOWR(FVTI_TYPE, 5, struct fvti_pfns)
#define FVTI_IOC_REVOKE_DELAY	_IOW(FVTI_TYPE, 6, struct fvti_revoke_delay)
#define FVTI_IOC_REVOKE_TIMES	_IOWR(FVTI_TYPE, 7, struct fvti_revoke_times)
/* framevec_vmap() the slot, read its first word, framevec_vunmap() */
#define FVTI_IOC_VMAP		_IOW(FVTI_TYPE, 8, __u32)

#endif /* _FV_TEST_IMPORTER_H */
