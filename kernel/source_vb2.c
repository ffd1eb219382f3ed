// SPDX-License-Identifier: GPL-2.0
/*
 * framevec vb2 source: a videobuf2 MMAP buffer mapped VM_PFNMAP
 * (videobuf2-dma-contig: dma_mmap_coherent() is a remap_pfn_range()). This
 * is the zero-copy case the 2020 frame-vector thread could not keep safe.
 *
 * Object. The VMA's vm_private_data is the buffer's struct
 * vb2_vmarea_handler. The segment holds what a duplicate of the VMA would
 * hold: one count on the buffer's vmarea refcount (exactly
 * vb2_common_vm_open()), dropped by handler->put (vb2_common_vm_close()),
 * and a reference on the VMA's file. The buffer's memory is freed by its
 * allocator only when the last count goes, so it survives STREAMOFF,
 * REQBUFS(0) (vb2 orphans buffers still mapped), munmap and close. The file
 * keeps the video device's driver module loaded, and with it the allocator
 * module whose handler->put we will call.
 *
 * PFNs are read from the page table with framevec_add_pfnmap() under the
 * mmap lock after the count is taken; they cannot change while it is held.
 * dma_mmap_coherent() maps PTEs only, so they are read a page table at a
 * time, and a buffer allocated contiguously becomes one run. The buffer's
 * own description (struct vb2_dc_buf) is private to videobuf2-dma-contig:
 * the page table is the layout framevec can read.
 * Not revocable: a vb2 buffer has no way to take its memory back.
 *
 * Module dependency. Recognising the VMA means comparing vm_ops with
 * vb2_common_vm_ops, exported by videobuf2-memops. A direct reference would
 * make framevec.ko load the media stack. Instead the check resolves it with
 * symbol_get() and drops it at once: if videobuf2-memops is not loaded, no
 * VMA can carry those ops. The comparison needs the module only while we
 * look; afterwards the held file pins it (driver -> allocator -> memops).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <media/videobuf2-memops.h>

#include "framevec_internal.h"

struct framevec_vb2_seg {
	struct vb2_vmarea_handler *handler;
	struct file *file;
};

static bool framevec_vma_is_vb2(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *vb2_ops;
	bool is_vb2;

	/* __symbol_get() does not sleep: fine under the mmap lock */
	vb2_ops = symbol_get(vb2_common_vm_ops);
	if (!vb2_ops)
		return false;
	is_vb2 = vma->vm_ops == vb2_ops;
	symbol_put(vb2_common_vm_ops);
	return is_vb2;
}

static int framevec_vb2_check(struct vm_area_struct *vma, unsigned int flags,
			      const char **why)
{
	/* vb2 MMAP buffers with struct pages (vmalloc, dma-sg) are pinned instead */
	if (!(vma->vm_flags & VM_PFNMAP) || !framevec_vma_is_vb2(vma))
		return -ENOENT;
	if (!vma->vm_private_data || !vma->vm_file)
		return fv_refuse(why, -EOPNOTSUPP,
			"is a videobuf2 mapping without its buffer handler; import the buffer through VIDIOC_EXPBUF instead");
	return 0;
}

static int framevec_vb2_import(struct framevec *fv, struct framevec_seg *seg,
			       struct vm_area_struct *vma, unsigned long start,
			       unsigned long end)
{
	struct vb2_vmarea_handler *handler = vma->vm_private_data;
	struct framevec_vb2_seg *vs;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	vs = kzalloc(sizeof(*vs), GFP_KERNEL_ACCOUNT);
	if (!vs)
		return -ENOMEM;
	/* what vb2_common_vm_open() does for a new VMA of the buffer */
	refcount_inc(handler->refcount);
	vs->handler = handler;
	vs->file = get_file(vma->vm_file);

	ret = framevec_add_pfnmap(fv, seg, vma, start, end, "videobuf2 buffer");
	if (ret)
		goto err_put;
	/* dma-contig MMAP buffers come from dma_alloc_attrs(): coherent */
	seg->dma_coherent = true;
	seg->priv = vs;
	return 0;

err_put:
	handler->put(handler->arg);
	fput(vs->file);
	kfree(vs);
	return ret;
}

static void framevec_vb2_release(struct framevec *fv, struct framevec_seg *seg)
{
	struct framevec_vb2_seg *vs = seg->priv;

	/* what vb2_common_vm_close() does, then what closing the VMA does */
	vs->handler->put(vs->handler->arg);
	fput(vs->file);
	kfree(vs);
}

const struct framevec_source_ops framevec_vb2_source = {
	.id = FRAMEVEC_SOURCE_VB2,
	.name = "vb2",
	.check = framevec_vb2_check,
	.import = framevec_vb2_import,
	.release = framevec_vb2_release,
};
