/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_cacheattr: test-only driver for the cache-attr suite. It reads the
 * memory type of a CPU mapping from its real page-table entry (TCG does not
 * model caches: data cannot show a wrong attribute), and it owns RAM that it
 * maps to user space write-combined or uncached, as a driver of a
 * framebuffer does. Shared by the module and the selftests.
 *
 * /dev/fv_test_cacheattr (root only). Every struct starts with its size in
 * bytes (user space passes sizeof()); a larger struct is accepted if the
 * bytes this module does not know are zero (-E2BIG otherwise), a smaller one
 * than the first version is -EINVAL. Unknown flags and non-zero reserved
 * fields are -EINVAL.
 */
#ifndef _FV_TEST_CACHEATTR_H
#define _FV_TEST_CACHEATTR_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FVCA_DEV	"/dev/fv_test_cacheattr"
#define FVCA_TYPE	0xBC
#define FVCA_MAX_PAGES	256

/*
 * Memory types a leaf entry decodes to (struct fvca_query.mode,
 * struct fvca_owner.mode): what the kernel's own encoding of each
 * (x86: cachemode2protval() through PAT; arm64: the MAIR index) gives.
 */
#define FVCA_MODE_OTHER		0	/* none of these */
#define FVCA_MODE_WB		1	/* write-back; arm64 Normal (tagged or not) */
#define FVCA_MODE_WC		2	/* x86 WC; arm64 Normal-NC */
#define FVCA_MODE_UC_MINUS	3	/* x86 UC- (pgprot_noncached()) */
#define FVCA_MODE_UC		4	/* x86 UC; arm64 Device-nGnRnE */
#define FVCA_MODE_WT		5	/* x86 write-through */
#define FVCA_MODE_WP		6	/* x86 write-protect */
#define FVCA_MODE_DEVICE	7	/* arm64 Device-nGnRE (pgprot_device()) */

/* struct fvca_query.flags */
#define FVCA_QUERY_VMAP	(1U << 0)	/* dma_buf_vmap() of @dmabuf_fd, not @addr */

/**
 * struct fvca_query - FVCA_IOC_QUERY: the page-table entry of one page
 * @size: sizeof(struct fvca_query)
 * @flags: 0: @addr is a user address of the caller's mm, which must be
 *	mapped (touch it first); FVCA_QUERY_VMAP: the module maps the dma-buf
 *	@dmabuf_fd with dma_buf_vmap(), reads the kernel entry of byte @addr
 *	of that mapping, and unmaps it
 * @addr: in: user address, or byte offset into the vmap
 * @dmabuf_fd: in: the dma-buf (FVCA_QUERY_VMAP), else -1
 * @mode: out: FVCA_MODE_*
 * @attr: out: the entry's memory-type bits as they are (x86
 *	_PAGE_CACHE_MASK: PAT|PCD|PWT; arm64 PTE_ATTRINDX_MASK)
 * @pfn: out: the page frame the entry maps
 *
 * Only page-sized leaves are read: a huge leaf (PMD or PUD) is -EOPNOTSUPP,
 * as is a vmap of I/O memory. An address without an entry is -ENOENT, a
 * dma-buf without vmap gives dma_buf_vmap()'s error.
 */
struct fvca_query {
	__u32 size;
	__u32 flags;
	__aligned_u64 addr;
	__s32 dmabuf_fd;
	__u32 mode;
	__aligned_u64 attr;
	__aligned_u64 pfn;
};

/**
 * struct fvca_owner - FVCA_IOC_OWNER: give the open file its RAM
 * @size: sizeof(struct fvca_owner)
 * @flags: zero
 * @nr_pages: in: 1..FVCA_MAX_PAGES order-0 pages
 * @mode: in: FVCA_MODE_WB, FVCA_MODE_WC or FVCA_MODE_UC_MINUS; the latter
 *	two only where the kernel's linear mapping can be changed to match
 *	(x86: set_memory_wc()/set_memory_uc()), else -EOPNOTSUPP
 * @__reserved: zero
 *
 * mmap() of the file at offset 0 then maps the pages (vm_insert_pages(), a
 * VMA framevec's pages source takes) with pgprot_writecombine() or
 * pgprot_noncached() of the VMA's protection. One allocation per file
 * (-EBUSY); the pages go back, write-back again, when the file is closed.
 * Close the file only once nothing maps them: framevec pins outlive it.
 */
struct fvca_owner {
	__u32 size;
	__u32 flags;
	__u32 nr_pages;
	__u32 mode;
	__aligned_u64 __reserved;
};

#define FVCA_IOC_QUERY	_IOWR(FVCA_TYPE, 0, struct fvca_query)
#define FVCA_IOC_OWNER	_IOW(FVCA_TYPE, 1, struct fvca_owner)

#endif /* _FV_TEST_CACHEATTR_H */
