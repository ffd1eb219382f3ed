// SPDX-License-Identifier: GPL-2.0
/*
 * framevec iomem source: VMAs mapped with framevec_iomem_mmap().
 *
 * Object. Each segment holds one reference on the VMA's struct
 * framevec_iomem through a struct framevec_iomem_importer (seg->priv), which
 * also puts the framevec on the object's importer list so that
 * framevec_iomem_revoke() reaches it. The runs come from the object's
 * chunks, not from page tables: an import costs O(chunks), not O(pages), and
 * never reads a PFN it holds no reference on.
 *
 * Lifetime. Taken in framevec_iomem_src_import(), dropped in
 * framevec_iomem_src_release(), which first waits for a revocation in
 * progress (the object's lock) and takes the framevec off the list.
 *
 * Locking. Import runs with the mmap lock held for read: the VMA, its
 * vm_pgoff and vm_private_data are stable, and the VMA's own reference keeps
 * the object alive until ours is taken.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "framevec_internal.h"
#include "iomem_internal.h"

static int framevec_iomem_src_check(struct vm_area_struct *vma, unsigned int flags,
				    const char **why)
{
	struct framevec_iomem *iomem;

	if (vma->vm_ops != &framevec_iomem_vm_ops)
		return -ENOENT;
	iomem = vma->vm_private_data;
	if (framevec_iomem_is_revoked(iomem))
		return fv_refuse(why, -ENODEV,
			"is a buffer its driver has revoked; import a buffer the driver still owns");
	return 0;
}

static int framevec_iomem_src_import(struct framevec *fv, struct framevec_seg *seg,
				     struct vm_area_struct *vma, unsigned long start,
				     unsigned long end)
{
	struct framevec_iomem *iomem = vma->vm_private_data;
	unsigned long pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	unsigned long nr = (end - start) >> PAGE_SHIFT, n;
	struct framevec_iomem_importer *imp;
	unsigned int i;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	/* framevec_iomem_mmap() checked the window and the VMA cannot grow */
	if (WARN_ON_ONCE(pgoff >= iomem->nr_pages || nr > iomem->nr_pages - pgoff))
		return -EFAULT;
	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return -ENOMEM;
	seg->mem_type = iomem->mem_type;
	/* our reference on the object holds its reference on the device */
	if (iomem->mem_type == FRAMEVEC_MEM_MMIO)
		seg->provider = iomem->dev;
	else
		seg->dma_coherent = true;	/* RAM from dma_alloc_coherent() */

	for (i = 0; i < iomem->nr_chunks && nr; i++) {
		const struct framevec_iomem_chunk *c = &iomem->chunks[i];

		if (pgoff >= c->nr_pages) {
			pgoff -= c->nr_pages;
			continue;
		}
		n = min(nr, c->nr_pages - pgoff);
		ret = framevec_add_pfns(fv, seg, c->pfn + pgoff, n);
		if (ret)
			goto err_free;
		nr -= n;
		pgoff = 0;
	}

	ret = framevec_iomem_add_importer(iomem, imp, fv);
	if (ret)
		goto err_free;
	seg->priv = imp;
	return 0;

err_free:
	kfree(imp);
	return ret;
}

static void framevec_iomem_src_release(struct framevec *fv, struct framevec_seg *seg)
{
	struct framevec_iomem_importer *imp = seg->priv;

	framevec_iomem_del_importer(imp);
	kfree(imp);
}

const struct framevec_source_ops framevec_iomem_source = {
	.id = FRAMEVEC_SOURCE_IOMEM,
	.name = "iomem",
	.can_revoke = true,
	.check = framevec_iomem_src_check,
	.import = framevec_iomem_src_import,
	.release = framevec_iomem_src_release,
};
