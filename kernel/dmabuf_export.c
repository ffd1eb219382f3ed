// SPDX-License-Identifier: GPL-2.0
/*
 * framevec dma-buf exporter: any framevec as a dma-buf.
 *
 * Object. struct framevec_dmabuf ties one dma-buf to one framevec and owns
 * it: the framevec is released by the dma-buf's release op, when the last
 * file reference and the last importer are gone. It is also the framevec's
 * importer: its revoke callback zaps every user mmap of the dma-buf and
 * sends move_notify to the dma-buf's importers. A framevec that can be
 * revoked therefore accepts only dynamic importers (with move_notify);
 * static ones could not be made to stop.
 *
 * Lifetime. Each attachment's mapping is an sg_table from framevec_map(),
 * stored in attach->priv between map and unmap. vmap is reference counted by
 * the dma-buf core, which calls our vmap once. User mmaps map the runs'
 * pfns eagerly (VM_PFNMAP); they stay valid because the framevec holds them.
 *
 * Locking. The dma-buf core calls map/unmap/vmap/vunmap with the
 * reservation lock held (asserted below); begin/end_cpu_access take it to
 * walk the attachments. fvd->lock orders revocation against export and
 * release: fvd->lock, then the reservation lock. fvd->dmabuf is set once the
 * dma-buf exists and cleared at its release, under fvd->lock.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "framevec_internal.h"

struct framevec_dmabuf {
	struct framevec *fv;
	struct mutex lock; /* fvd->dmabuf vs. revocation */
	struct dma_buf *dmabuf;
};

static int framevec_dmabuf_attach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attach)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	if (fvd->fv->revocable && !dma_buf_attachment_is_dynamic(attach)) {
		fv_user_err("%s cannot take this dma-buf: its memory can be revoked and the importer has no move_notify",
			    dev_name(attach->dev));
		return -EOPNOTSUPP;
	}
	return 0;
}

static struct sg_table *framevec_dmabuf_map(struct dma_buf_attachment *attach,
					    enum dma_data_direction dir)
{
	struct framevec_dmabuf *fvd = attach->dmabuf->priv;
	struct sg_table *sgt;

	dma_resv_assert_held(attach->dmabuf->resv);
	sgt = framevec_map(fvd->fv, attach->dev, dir);
	if (!IS_ERR(sgt))
		attach->priv = sgt;
	return sgt;
}

static void framevec_dmabuf_unmap(struct dma_buf_attachment *attach,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
	struct framevec_dmabuf *fvd = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	attach->priv = NULL;
	framevec_unmap(fvd->fv, attach->dev, sgt, dir);
}

static void framevec_dmabuf_release(struct dma_buf *dmabuf)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	/* waits for a revocation in progress; none will use the dma-buf after */
	mutex_lock(&fvd->lock);
	fvd->dmabuf = NULL;
	mutex_unlock(&fvd->lock);
	framevec_release(fvd->fv);
	mutex_destroy(&fvd->lock);
	kfree(fvd);
	atomic64_dec(&framevec_stats.live_dmabufs);
}

static int framevec_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;
	struct framevec *fv = fvd->fv;
	unsigned long skip = vma->vm_pgoff, addr = vma->vm_start;
	struct framevec_iter it;
	struct framevec_run run;
	bool more;
	int ret;

	if ((vma->vm_flags & VM_WRITE) && !(fv->flags & FRAMEVEC_WRITE)) {
		fv_user_err("writable mmap of a dma-buf imported read-only; map it PROT_READ or import with the write flag");
		return -EACCES;
	}
	if (!(fv->flags & FRAMEVEC_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);
	if (framevec_is_revoked(fv))
		return -ENODEV;

	for (more = framevec_run_first(&it, fv, &run); more && addr < vma->vm_end;
	     more = framevec_run_next(&it, &run)) {
		unsigned long n;

		if (run.mem_type != FRAMEVEC_MEM_RAM)
			return -EOPNOTSUPP;
		if (skip >= run.nr_pages) {
			skip -= run.nr_pages;
			continue;
		}
		n = min(run.nr_pages - skip, (vma->vm_end - addr) >> PAGE_SHIFT);
		ret = remap_pfn_range(vma, addr, run.pfn + skip, n << PAGE_SHIFT,
				      vma->vm_page_prot);
		if (ret)
			return ret;
		addr += n << PAGE_SHIFT;
		skip = 0;
	}
	return 0;
}

static int framevec_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);
	return framevec_vmap(fvd->fv, map);
}

static void framevec_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);
	framevec_vunmap(fvd->fv, map);
}

/* Make the memory coherent for the CPU (or, @for_device, for the devices). */
static void framevec_dmabuf_sync(struct dma_buf *dmabuf,
				 enum dma_data_direction dir, bool for_device)
{
	struct dma_buf_attachment *attach;

	dma_resv_lock(dmabuf->resv, NULL);
	list_for_each_entry(attach, &dmabuf->attachments, node) {
		struct sg_table *sgt = attach->priv;

		if (!sgt)
			continue;
		if (for_device)
			dma_sync_sgtable_for_device(attach->dev, sgt, dir);
		else
			dma_sync_sgtable_for_cpu(attach->dev, sgt, dir);
	}
	dma_resv_unlock(dmabuf->resv);
}

static int framevec_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					    enum dma_data_direction dir)
{
	framevec_dmabuf_sync(dmabuf, dir, false);
	return 0;
}

static int framevec_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	framevec_dmabuf_sync(dmabuf, dir, true);
	return 0;
}

static const struct dma_buf_ops framevec_dmabuf_ops = {
	.attach = framevec_dmabuf_attach,
	.map_dma_buf = framevec_dmabuf_map,
	.unmap_dma_buf = framevec_dmabuf_unmap,
	.release = framevec_dmabuf_release,
	.mmap = framevec_dmabuf_mmap,
	.vmap = framevec_dmabuf_vmap,
	.vunmap = framevec_dmabuf_vunmap,
	.begin_cpu_access = framevec_dmabuf_begin_cpu_access,
	.end_cpu_access = framevec_dmabuf_end_cpu_access,
};

/* The framevec's importer callback: make every user of the dma-buf stop. */
static void framevec_dmabuf_revoke(struct framevec *fv, void *priv)
{
	struct framevec_dmabuf *fvd = priv;
	struct dma_buf *dmabuf;

	mutex_lock(&fvd->lock);
	dmabuf = fvd->dmabuf;
	if (dmabuf) {
		/* user mmaps: later faults get SIGBUS, new mmaps -ENODEV */
		unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1);
		dma_resv_lock(dmabuf->resv, NULL);
		dma_buf_move_notify(dmabuf);
		dma_resv_unlock(dmabuf->resv);
	}
	mutex_unlock(&fvd->lock);
}

/**
 * framevec_import_dmabuf() - import a user range and wrap it in a dma-buf
 * @mm: the address space (the caller's)
 * @start: page aligned start
 * @length: page aligned length
 * @flags: FRAMEVEC_* import flags
 *
 * Return: the dma-buf (one file reference), which owns the framevec, or an
 * ERR_PTR with nothing held (see framevec_import() for the errnos).
 */
struct dma_buf *framevec_import_dmabuf(struct mm_struct *mm, unsigned long start,
				       unsigned long length, unsigned int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct framevec_dmabuf *fvd;
	struct dma_buf *dmabuf;
	int ret;

	fvd = kzalloc(sizeof(*fvd), GFP_KERNEL);
	if (!fvd)
		return ERR_PTR(-ENOMEM);
	mutex_init(&fvd->lock);

	/* dma-buf importers stop when told, not before the callback returns */
	fvd->fv = __framevec_import(mm, start, length, flags | FRAMEVEC_ASYNC_REVOKE,
				    framevec_dmabuf_revoke, fvd);
	if (IS_ERR(fvd->fv)) {
		ret = PTR_ERR(fvd->fv);
		goto err_free;
	}

	exp_info.exp_name = "framevec";
	exp_info.owner = THIS_MODULE;
	exp_info.ops = &framevec_dmabuf_ops;
	exp_info.size = framevec_nr_pages(fvd->fv) << PAGE_SHIFT;
	exp_info.flags = O_RDWR;
	exp_info.priv = fvd;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_release;
	}
	mutex_lock(&fvd->lock);
	fvd->dmabuf = dmabuf;
	mutex_unlock(&fvd->lock);
	atomic64_inc(&framevec_stats.live_dmabufs);
	return dmabuf;

err_release:
	framevec_release(fvd->fv);
err_free:
	mutex_destroy(&fvd->lock);
	kfree(fvd);
	return ERR_PTR(ret);
}
