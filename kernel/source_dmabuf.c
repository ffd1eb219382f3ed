// SPDX-License-Identifier: GPL-2.0
/*
 * framevec dma-buf source: the "vma->dma_buf" link. An address inside an
 * mmapped dma-buf (a dma-heap buffer, udmabuf, a videobuf2 export,
 * framevec's own dma-bufs of memory that cannot be revoked) is held through
 * the dma-buf itself: the segment holds a reference on the dma-buf's file,
 * and the exporter frees the buffer only when its last reference goes.
 *
 * Which dma-bufs. Only those of static exporters (no .pin in their ops). A
 * static exporter's buffer never moves and is never taken back while the
 * dma-buf lives: that is what lets framevec hand out its frames without a
 * revoke path, so this source is not revocable and static importers (V4L2)
 * may take what it holds. A dynamic exporter may move its buffer at any
 * time, or revoke it (framevec's own dma-bufs of iomem memory are dynamic
 * for that reason, see dmabuf_export.c): such dma-bufs are refused with a
 * line saying to hand the dma-buf fd itself to the device, whose importer
 * then follows move_notify.
 *
 * Where the frames come from. Never from the exporter's sg_table: an
 * importer must not read pages out of it (CONFIG_DMABUF_DEBUG mangles them),
 * and it is mapped for some device, not a description of the memory. The
 * frames are those the exporter's own mmap put in the user's page tables:
 * read with framevec_add_pfnmap() under the mmap lock, a page table at a
 * time, faulting in pages the exporter maps lazily (udmabuf, framevec); each
 * contiguous stretch is one run. With the file held, the
 * exporter keeps those frames until our release.
 *
 * Recognising a dma-buf. is_dma_buf_file() is static and dma_buf_get()
 * wants an fd in the caller's table. Every dma-buf file is created by
 * dma_buf_export() on the dma-buf pseudo file system, whose superblock magic
 * is DMA_BUF_MAGIC (uapi; user space identifies dma-bufs the same way with
 * fstatfs()), and no other file lives on it; its private_data is the struct
 * dma_buf. The VMA holds the file, and we hold the mmap lock, so it is alive
 * while we look. Page-backed dma-buf mmaps (no VM_PFNMAP) are pinned by the
 * pages source before this source is asked.
 *
 * Lifetime. import: get_file(), read the frames; release: fput().
 *
 * Locking. Import runs under the mmap lock (a fault handler of the exporter
 * may run under it, as for any page fault).
 */
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>

#include "framevec_internal.h"

static bool framevec_file_is_dmabuf(struct file *file)
{
	return file && file_inode(file)->i_sb->s_magic == DMA_BUF_MAGIC;
}

static int framevec_dmabuf_check(struct vm_area_struct *vma, unsigned int flags,
				 const char **why)
{
	struct dma_buf *dmabuf;

	if (!framevec_file_is_dmabuf(vma->vm_file))
		return -ENOENT;
	/* remap_pfn_range() of a COW mapping rewrites vm_pgoff, COW pages are not the dma-buf's */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return fv_refuse(why, -EOPNOTSUPP,
			"is a private mapping of a dma-buf; mmap the dma-buf MAP_SHARED");
	dmabuf = vma->vm_file->private_data;
	if (dma_buf_is_dynamic(dmabuf))
		return fv_refuse(why, -EOPNOTSUPP,
			"is a dma-buf whose exporter can move or revoke its memory; hand the dma-buf fd itself to the device instead of its mapping");
	return 0;
}

static int framevec_dmabuf_import(struct framevec *fv, struct framevec_seg *seg,
				  struct vm_area_struct *vma, unsigned long start,
				  unsigned long end)
{
	unsigned long pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	unsigned long nr = (end - start) >> PAGE_SHIFT;
	struct dma_buf *dmabuf = vma->vm_file->private_data;
	struct file *file;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	if (pgoff > dmabuf->size >> PAGE_SHIFT || nr > (dmabuf->size >> PAGE_SHIFT) - pgoff) {
		fv_user_err("range %#lx-%#lx maps beyond the end of its dma-buf; map only the buffer",
			    start, end);
		return -EFAULT;
	}
	/* the VMA's file is a dma-buf file (checked): holding it holds the buffer */
	file = get_file(vma->vm_file);
	ret = framevec_add_pfnmap(fv, seg, vma, start, end, "dma-buf mapping");
	if (ret) {
		fput(file);
		return ret;
	}
	seg->priv = file;
	return 0;
}

static void framevec_dmabuf_release(struct framevec *fv, struct framevec_seg *seg)
{
	fput(seg->priv);
}

const struct framevec_source_ops framevec_dmabuf_source = {
	.id = FRAMEVEC_SOURCE_DMABUF,
	.name = "dmabuf",
	.check = framevec_dmabuf_check,
	.import = framevec_dmabuf_import,
	.release = framevec_dmabuf_release,
};
