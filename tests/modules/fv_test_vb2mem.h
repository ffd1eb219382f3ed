/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fv_test_vb2mem: test-only driver that calls a videobuf2 allocator's
 * USERPTR memops (get_userptr, cookie, vaddr, put_userptr) directly, for the
 * allocators no driver in the VM offers USERPTR with (dma-contig, dma-sg),
 * and vmalloc. Shared by the module and the selftests. /dev/fv_test_vb2mem
 * (root only); buffers belong to the open file.
 */
#ifndef _FV_TEST_VB2MEM_H
#define _FV_TEST_VB2MEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FVVM_DEV	"/dev/fv_test_vb2mem"
#define FVVM_TYPE	0xBB
#define FVVM_MAX_BUFS	8

/* struct fvvm_get.alloc */
#define FVVM_DMA_CONTIG	0
#define FVVM_DMA_SG	1
#define FVVM_VMALLOC	2

/**
 * struct fvvm_get - FVVM_GET: get_userptr() of one allocator
 * @addr: in: user address
 * @size: in: bytes
 * @alloc: in: FVVM_DMA_CONTIG, FVVM_DMA_SG or FVVM_VMALLOC
 * @dir: in: enum dma_data_direction of the queue (1 to, 2 from device)
 * @id: out: the buffer
 * @nents: out: DMA segments (dma-contig: 1; vmalloc: 0)
 * @dma_addr: out: DMA address of the first segment (vmalloc: 0)
 */
struct fvvm_get {
	__u64 addr;
	__u64 size;
	__u32 alloc;
	__u32 dir;
	__u32 id;
	__u32 nents;
	__u64 dma_addr;
};

/**
 * struct fvvm_read - FVVM_READ: copy from the allocator's kernel mapping
 * (memops->vaddr) of buffer @id to user memory
 * @id: the buffer
 * @__pad: zero
 * @buf: user buffer
 * @len: bytes, at most the buffer's size
 */
struct fvvm_read {
	__u32 id;
	__u32 __pad;
	__u64 buf;
	__u64 len;
};

#define FVVM_GET	_IOWR(FVVM_TYPE, 0, struct fvvm_get)
#define FVVM_READ	_IOW(FVVM_TYPE, 1, struct fvvm_read)
#define FVVM_PUT	_IOW(FVVM_TYPE, 2, __u32)

#endif /* _FV_TEST_VB2MEM_H */
