/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * framevec user API: turn a user address range into a dma-buf fd.
 *
 * Every ioctl takes one struct whose first member is its size in bytes, in
 * the style of iommufd: user space sets @size to sizeof() of the struct it was
 * built against. A smaller struct than the kernel's first version is refused
 * with EINVAL; a larger one is accepted only if every byte the kernel does not
 * know is zero (E2BIG otherwise). Unknown flags and non-zero reserved fields
 * are refused with EOPNOTSUPP and EINVAL respectively.
 */
#ifndef _UAPI_LINUX_FRAMEVEC_H
#define _UAPI_LINUX_FRAMEVEC_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FRAMEVEC_TYPE 0xB9

enum {
	FRAMEVEC_CMD_IMPORT = 0x00,
};

/**
 * enum framevec_import_flags - flags of struct framevec_import
 * @FRAMEVEC_IMPORT_WRITE: the device (or an importer of the dma-buf) will
 *	write the memory: the range must be writable, and pages are pinned with
 *	FOLL_WRITE so that copy-on-write is broken before the pin.
 */
enum framevec_import_flags {
	FRAMEVEC_IMPORT_WRITE = 1 << 0,
};

/**
 * struct framevec_import - ioctl(FRAMEVEC_IOC_IMPORT)
 * @size: sizeof(struct framevec_import)
 * @flags: a combination of enum framevec_import_flags
 * @addr: page aligned start of the range in the caller's address space
 * @length: page aligned, non-zero length of the range in bytes
 * @dmabuf_fd: out: a new dma-buf file descriptor (O_CLOEXEC, O_RDWR)
 * @__reserved: must be zero
 *
 * Imports [@addr, @addr + @length) of the calling process: every byte of it
 * is held by a real reference (a long-term pin for ordinary memory) for as
 * long as the returned dma-buf lives. Nothing is held when the ioctl fails.
 */
struct framevec_import {
	__u32 size;
	__u32 flags;
	__aligned_u64 addr;
	__aligned_u64 length;
	__s32 dmabuf_fd;
	__u32 __reserved;
};

#define FRAMEVEC_IOC_IMPORT _IO(FRAMEVEC_TYPE, FRAMEVEC_CMD_IMPORT)

#endif /* _UAPI_LINUX_FRAMEVEC_H */
