/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * framevec user API: turn a user address range into a dma-buf fd, and
 * explain what an import would do with a range.
 *
 * Every ioctl takes one struct whose first member is its size in bytes, in
 * the style of iommufd: user space sets @size to sizeof() of the struct it was
 * built against. A smaller struct than the kernel's first version is refused
 * with EINVAL; a larger one, up to a page, is accepted only if every byte the
 * kernel does not know is zero (E2BIG otherwise, and for more than a page).
 * Unknown flags and non-zero reserved fields are refused with EOPNOTSUPP and
 * EINVAL respectively.
 */
#ifndef _UAPI_LINUX_FRAMEVEC_H
#define _UAPI_LINUX_FRAMEVEC_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FRAMEVEC_TYPE 0xB9

enum {
	FRAMEVEC_CMD_IMPORT = 0x00,
	FRAMEVEC_CMD_EXPLAIN = 0x01,
};

/**
 * enum framevec_import_flags - flags of struct framevec_import
 * @FRAMEVEC_IMPORT_WRITE: the device (or an importer of the dma-buf) will
 *	write the memory: the range must be writable and not a write-sealed
 *	memfd, and pages are pinned with FOLL_WRITE so that copy-on-write is
 *	broken before the pin. Without it the import is read-only for everyone
 *	framevec hands it to: device maps are DMA_TO_DEVICE only (EACCES
 *	otherwise), the dma-buf cannot be vmapped (dma_buf_vmap(): EINVAL, so
 *	videobuf2's vmalloc allocator refuses it) nor mmapped writable (EACCES).
 *	See docs/security.md.
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
 * long as the returned dma-buf lives. Pinned pages are charged to the
 * calling user's RLIMIT_MEMLOCK until then, wherever the fd goes. @size is
 * read once; the struct is copied back with that size. Nothing is held when
 * the ioctl fails.
 */
struct framevec_import {
	__u32 size;
	__u32 flags;
	__aligned_u64 addr;
	__aligned_u64 length;
	__s32 dmabuf_fd;
	__u32 __reserved;
};

/**
 * enum framevec_explain_flags - flags of struct framevec_explain
 * @FRAMEVEC_EXPLAIN_WRITE: judge the range for an import with
 *	FRAMEVEC_IMPORT_WRITE (read-only memory is then refused)
 */
enum framevec_explain_flags {
	FRAMEVEC_EXPLAIN_WRITE = 1 << 0,
};

/**
 * enum framevec_explain_vma_flags - what struct framevec_explain_entry.vm_flags reports
 * @FRAMEVEC_VMA_READ: readable (PROT_READ)
 * @FRAMEVEC_VMA_WRITE: writable (PROT_WRITE)
 * @FRAMEVEC_VMA_EXEC: executable (PROT_EXEC)
 * @FRAMEVEC_VMA_SHARED: MAP_SHARED
 * @FRAMEVEC_VMA_IO: VM_IO: device memory, never pinned
 * @FRAMEVEC_VMA_PFNMAP: VM_PFNMAP: raw page frames without struct page refcounts
 * @FRAMEVEC_VMA_MIXEDMAP: VM_MIXEDMAP
 * @FRAMEVEC_VMA_HUGETLB: a hugetlbfs mapping
 * @FRAMEVEC_VMA_HUGEPAGE: madvise(MADV_HUGEPAGE): transparent huge pages asked for
 * @FRAMEVEC_VMA_NOHUGEPAGE: madvise(MADV_NOHUGEPAGE)
 * @FRAMEVEC_VMA_LOCKED: mlock()ed
 */
enum framevec_explain_vma_flags {
	FRAMEVEC_VMA_READ = 1 << 0,
	FRAMEVEC_VMA_WRITE = 1 << 1,
	FRAMEVEC_VMA_EXEC = 1 << 2,
	FRAMEVEC_VMA_SHARED = 1 << 3,
	FRAMEVEC_VMA_IO = 1 << 4,
	FRAMEVEC_VMA_PFNMAP = 1 << 5,
	FRAMEVEC_VMA_MIXEDMAP = 1 << 6,
	FRAMEVEC_VMA_HUGETLB = 1 << 7,
	FRAMEVEC_VMA_HUGEPAGE = 1 << 8,
	FRAMEVEC_VMA_NOHUGEPAGE = 1 << 9,
	FRAMEVEC_VMA_LOCKED = 1 << 10,
};

/**
 * enum framevec_explain_backing - what is behind one entry
 * @FRAMEVEC_BACKING_HOLE: nothing is mapped there
 * @FRAMEVEC_BACKING_ANON: anonymous memory (malloc, stack, heap, MAP_ANONYMOUS)
 * @FRAMEVEC_BACKING_FILE: a file; @name is its path
 * @FRAMEVEC_BACKING_SHMEM: shmem: memfd, POSIX/SysV shared memory, MAP_SHARED|MAP_ANONYMOUS
 * @FRAMEVEC_BACKING_HUGETLB: hugetlbfs (MAP_HUGETLB, memfd with MFD_HUGETLB)
 * @FRAMEVEC_BACKING_DMABUF: an mmapped dma-buf
 * @FRAMEVEC_BACKING_DEVICE: a mapping of a device file (/dev/videoN, a sysfs BAR, ...)
 * @FRAMEVEC_BACKING_SPECIAL: a kernel mapping without a file ([vdso], [vvar], ...)
 */
enum framevec_explain_backing {
	FRAMEVEC_BACKING_HOLE,
	FRAMEVEC_BACKING_ANON,
	FRAMEVEC_BACKING_FILE,
	FRAMEVEC_BACKING_SHMEM,
	FRAMEVEC_BACKING_HUGETLB,
	FRAMEVEC_BACKING_DMABUF,
	FRAMEVEC_BACKING_DEVICE,
	FRAMEVEC_BACKING_SPECIAL,
};

/**
 * enum framevec_explain_source - which framevec source recognizes a piece
 * @FRAMEVEC_EXPLAIN_NO_SOURCE: none (a hole, PROT_NONE, unknown device memory)
 * @FRAMEVEC_EXPLAIN_SOURCE_PAGES: memory with struct page, pinned long-term
 * @FRAMEVEC_EXPLAIN_SOURCE_DMABUF: an mmapped dma-buf, held by its file
 * @FRAMEVEC_EXPLAIN_SOURCE_VB2: a videobuf2 MMAP buffer, held by its refcount
 * @FRAMEVEC_EXPLAIN_SOURCE_IOMEM: a range of framevec's iomem exporter
 * @FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE: other VM_PFNMAP memory, watched by a
 *	notifier; only importers with a revoke callback can take it
 */
enum framevec_explain_source {
	FRAMEVEC_EXPLAIN_NO_SOURCE = -1,
	FRAMEVEC_EXPLAIN_SOURCE_PAGES = 0,
	FRAMEVEC_EXPLAIN_SOURCE_DMABUF = 1,
	FRAMEVEC_EXPLAIN_SOURCE_VB2 = 2,
	FRAMEVEC_EXPLAIN_SOURCE_IOMEM = 3,
	FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE = 4,
};

#define FRAMEVEC_EXPLAIN_WHY_LEN	256
#define FRAMEVEC_EXPLAIN_NAME_LEN	128

/**
 * struct framevec_explain_entry - the verdict on one VMA piece (or hole)
 * @start: first address of the piece
 * @end: end of the piece (exclusive)
 * @vm_flags: a combination of enum framevec_explain_vma_flags
 * @backing: an enum framevec_explain_backing
 * @source: an enum framevec_explain_source: the source that recognizes
 *	the memory, set even when only a revoke callback is missing
 * @error: 0 if an in-kernel import without a revoke callback takes the
 *	piece, else the (positive) errno it fails with
 * @error_revocable: the same for FRAMEVEC_IOC_IMPORT, whose dma-buf is an
 *	importer with a revoke callback (one that cannot run from an MMU
 *	notifier, so other VM_PFNMAP memory is refused to it)
 * @why: NUL-terminated; when @error or @error_revocable is set, a sentence
 *	that continues "range START-END " and says what to do instead (the
 *	one for @error_revocable when that is set)
 * @name: NUL-terminated; the file's path (its last bytes if too long),
 *	"[heap]", "[stack]", "[vdso]" and the like, or empty
 */
struct framevec_explain_entry {
	__aligned_u64 start;
	__aligned_u64 end;
	__aligned_u64 vm_flags;
	__u32 backing;
	__s32 source;
	__u32 error;
	__u32 error_revocable;
	char why[FRAMEVEC_EXPLAIN_WHY_LEN];
	char name[FRAMEVEC_EXPLAIN_NAME_LEN];
};

/**
 * struct framevec_explain - ioctl(FRAMEVEC_IOC_EXPLAIN)
 * @size: sizeof(struct framevec_explain)
 * @flags: a combination of enum framevec_explain_flags
 * @pid: the process whose range is explained, 0 for the caller. Another
 *	process needs CAP_SYS_PTRACE (EPERM otherwise); ESRCH if it has no
 *	address space
 * @nr_entries: in: how many entries @entries has room for; out: how many
 *	the range has (holes included)
 * @addr: page aligned start of the range
 * @length: page aligned, non-zero length of the range in bytes
 * @entries: user pointer to an array of @nr_entries entries
 * @entry_size: sizeof(struct framevec_explain_entry) as the caller knows it:
 *	the kernel writes that many bytes per entry, zero-filling what it does
 *	not know (smaller than the first version: EINVAL)
 * @__reserved: must be zero
 *
 * Reports, for each VMA piece of [@addr, @addr + @length) and each hole
 * between them, in address order, what backs it and what an import would
 * do with it. Takes no reference and changes nothing. Fails with EMSGSIZE,
 * after filling the first @nr_entries entries and setting @nr_entries to
 * the number needed, when the array is too small. The range is walked under
 * the mmap lock a few entries at a time: it is a snapshot only while the
 * process does not change its mappings.
 */
struct framevec_explain {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 nr_entries;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 entries;
	__u32 entry_size;
	__u32 __reserved;
};

#define FRAMEVEC_IOC_IMPORT _IO(FRAMEVEC_TYPE, FRAMEVEC_CMD_IMPORT)
#define FRAMEVEC_IOC_EXPLAIN _IO(FRAMEVEC_TYPE, FRAMEVEC_CMD_EXPLAIN)

#endif /* _UAPI_LINUX_FRAMEVEC_H */
