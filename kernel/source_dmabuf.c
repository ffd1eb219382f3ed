// SPDX-License-Identifier: GPL-2.0
/*
 * framevec dma-buf source: the "vma->dma_buf" link. An address inside an
 * mmapped dma-buf (a dma-heap buffer, udmabuf, a videobuf2 export,
 * framevec's own dma-bufs of memory that cannot be revoked) is held through
 * the dma-buf itself: the segment holds a reference on the dma-buf's file,
 * and the exporter frees the buffer only when its last reference goes.
 *
 * Which dma-bufs: only those of exporters known to keep the frames their
 * mmap maps for the whole life of the dma-buf; every other one is refused.
 * Holding the file holds the struct dma_buf, nothing more: the dma-buf
 * contract keeps the storage for importers that attach (and map the
 * attachment) or vmap, and says nothing of the frames of a user mapping
 * once that mapping is gone. DRM's GEM shmem helpers (vgem, virtio-gpu,
 * panfrost, ...) are the counter-example: their PRIME mmap
 * (drm_gem_prime_mmap() -> drm_gem_shmem_mmap()) takes the object's page
 * array for as long as the VMA lives, and drm_gem_shmem_vm_close() puts it
 * at munmap, after which the pages are ordinary shmem page cache that
 * reclaim may swap out and free while the dma-buf lives on. A dma-buf is
 * taken when:
 *  - its exporter is static (no .pin in its ops). A dynamic exporter may
 *    move its buffer at any time, or revoke it (framevec's own dma-bufs of
 *    iomem memory are dynamic for that reason, see dmabuf_export.c);
 *  - and it is framevec's own (dmabuf->owner is this module), or its
 *    exporter is one of framevec_dmabuf_keepers[] below: each allocates the
 *    buffer before it makes the dma-buf, frees it only in its release op
 *    (that is, when the file goes), and its mmap maps only that buffer.
 *    Matched on exp_name and the module that exported it (dmabuf->owner).
 *    Both are set by the exporter's kernel code in dma_buf_export() and
 *    nothing a user does changes them (DMA_BUF_SET_NAME sets dmabuf->name, a
 *    different field), so a user cannot pass one exporter off as another;
 *    the module check keeps a module that happens to reuse a name out.
 * Every other dma-buf (DRM PRIME mmaps, whatever their driver, included) is
 * refused with -EOPNOTSUPP and a line saying to hand the dma-buf fd itself
 * to the device, whose importer attaches and so holds the storage as the
 * contract says. This also holds framevec to the promise of this source:
 * it is not revocable, so static importers (V4L2) may take what it holds.
 * Adding an exporter needs the same reading of its code, in the kernel that
 * is built against (a name check does not notice that a driver changed).
 *
 * Where the frames come from. Never from the exporter's sg_table: an
 * importer must not read pages out of it (CONFIG_DMABUF_DEBUG mangles them),
 * and it is mapped for some device, not a description of the memory. The
 * frames are those the exporter's own mmap put in the user's page tables:
 * read with framevec_add_pfnmap() under the mmap lock, a page table at a
 * time, faulting in pages the exporter maps lazily (udmabuf, framevec); each
 * contiguous stretch is one run. With the file held, a keeper keeps those
 * frames until our release. A GEM mmap of an imported dma-buf goes through
 * dma_buf_mmap(), which makes the VMA's file the dma-buf's: it is judged
 * by the dma-buf's exporter, like a mapping of the dma-buf fd.
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
#include <linux/module.h>
#include <linux/string.h>

#include "framevec_internal.h"

/**
 * struct framevec_dmabuf_keeper - an exporter that keeps its frames while its dma-buf lives
 * @exp_name: the exporter's dma_buf_export_info.exp_name
 * @module: the module it is built as (dmabuf->owner), or NULL if it can only
 *	be built in; a built-in exporter has no owner
 */
struct framevec_dmabuf_keeper {
	const char *exp_name;
	const char *module;
};

/* The only dma-bufs this source takes besides its own; see the top of this file */
static const struct framevec_dmabuf_keeper framevec_dmabuf_keepers[] = {
	/*
	 * dma-heaps (bool in Kconfig, exp_name is the heap's name): pages or a
	 * CMA range allocated in the heap's allocate op, freed in the buffer's
	 * release op; mmap maps the buffer's pages (remap_pfn_range() for the
	 * system heap, a fault handler for CMA). The CMA heap is the default
	 * CMA area's, named "reserved" when cma= or CONFIG_CMA_SIZE_* makes it
	 * (dma_contiguous_reserve_area()); one from a device tree node has the
	 * node's name and is refused.
	 */
	{ "system", NULL },
	{ "reserved", NULL },
	/* memfd folios pinned at UDMABUF_CREATE, unpinned in release_udmabuf() */
	{ "udmabuf", "udmabuf" },
	/*
	 * videobuf2 exports (VIDIOC_EXPBUF): the export takes a reference on
	 * the vb2 buffer's memory, dropped by the dma-buf's release op, and
	 * its mmap maps that memory; REQBUFS(0) and close leave it alone.
	 */
	{ "videobuf2_dma_contig", "videobuf2_dma_contig" },
	{ "videobuf2_dma_sg", "videobuf2_dma_sg" },
	{ "videobuf2_vmalloc", "videobuf2_vmalloc" },
};

static bool framevec_file_is_dmabuf(struct file *file)
{
	return file && file_inode(file)->i_sb->s_magic == DMA_BUF_MAGIC;
}

static bool framevec_dmabuf_is_kept(const struct dma_buf *dmabuf)
{
	const struct framevec_dmabuf_keeper *k;
	unsigned int i;

	/* dmabuf_export.c's: its dynamic ones were refused before this */
	if (dmabuf->owner == THIS_MODULE)
		return true;
	if (!dmabuf->exp_name)
		return false;
	for (i = 0; i < ARRAY_SIZE(framevec_dmabuf_keepers); i++) {
		k = &framevec_dmabuf_keepers[i];
		if (strcmp(dmabuf->exp_name, k->exp_name))
			continue;
		if (!dmabuf->owner)
			return true;
		return k->module && !strcmp(module_name(dmabuf->owner), k->module);
	}
	return false;
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
	if (!framevec_dmabuf_is_kept(dmabuf))
		return fv_refuse(why, -EOPNOTSUPP,
			"is a dma-buf whose exporter may free what it maps while the dma-buf lives (a DRM PRIME mmap does at munmap); hand the dma-buf fd itself to the device instead of its mapping");
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
	/* dma_buf_mmap_internal() checked vm_pgoff; an exporter's mmap could move it */
	if (pgoff > dmabuf->size >> PAGE_SHIFT || nr > (dmabuf->size >> PAGE_SHIFT) - pgoff) {
		fv_user_err("range %#lx-%#lx maps beyond the end of its dma-buf; map only the buffer",
			    start, end);
		return -EFAULT;
	}
	/* a keeper's dma-buf file (checked): holding it holds the frames */
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
