// SPDX-License-Identifier: GPL-2.0
/*
 * framevec dma-buf source: the "vma->dma_buf" link. An address inside an
 * mmapped dma-buf (a dma-heap buffer, udmabuf, framevec's own dma-bufs, any
 * exporter whose mmap keeps the dma-buf file as vm_file) is held through the
 * dma-buf itself, not through its page tables.
 *
 * Object. One struct framevec_dmabuf_seg per segment: a reference on the
 * dma-buf file, a dynamic attachment for framevec's own device, pinned and
 * mapped once at import. The segment's runs are the pages of the exporter's
 * sg_table (CPU side: sg_page(), never the DMA addresses) in the window the
 * VMA shows: page vm_pgoff + (start - vm_start) / PAGE_SIZE onwards.
 *
 * Recognising a dma-buf. is_dma_buf_file() is static and dma_buf_get()
 * wants an fd in the caller's table. Every dma-buf file is created by
 * dma_buf_export() on the dma-buf pseudo file system, whose superblock magic
 * is DMA_BUF_MAGIC (uapi; user space identifies dma-bufs the same way with
 * fstatfs()), and no other file lives on it; its private_data is the struct
 * dma_buf. The VMA holds the file, and we hold the mmap lock, so it is alive
 * while we look.
 *
 * The device. An attachment needs a struct device. framevec registers one
 * platform device, "framevec", with a 64-bit DMA mask; it belongs to no bus
 * with an IOMMU, so its mappings are dma-direct and cost nothing. We never
 * use its DMA addresses: the importer maps the framevec for its own device.
 *
 * Why the pages stay. framevec hands out PFNs, which cannot follow a move,
 * so the attachment is pinned (dma_buf_pin(), a no-op for exporters that
 * never move, like the system heap, udmabuf and framevec) and mapped until
 * release. Without CONFIG_DMABUF_MOVE_NOTIFY (Debian) the dma-buf core pins
 * a dynamic attachment's mapping anyway; the explicit pin makes it so on
 * every configuration. The exporter cannot free or move the pages while we
 * hold the pinned mapping and the file.
 *
 * Revocation and lock nesting. move_notify runs with the exporter's
 * reservation lock held, with or without an acquire context. Running
 * framevec_revoke() there would run the importer's callback under it; for
 * framevec's own dma-buf front end that callback takes fvd->lock and the
 * reservation lock of another dma-buf: the same ww class nested without a
 * context (lockdep: recursive locking) and the front end's order "fvd->lock,
 * then reservation lock" inverted. So move_notify only queues a work item
 * that runs framevec_revoke() with no lock held. This delay is safe because
 * of the pin above: move_notify is the exporter asking for its memory back,
 * not the memory going away; it stays ours until release.
 *
 * Lifetime. import: file, attach, pin, map; release in reverse: unmap,
 * unpin, detach (after which move_notify cannot run), cancel the revoke work
 * (waiting for one in progress), drop the file.
 *
 * Locking. Import runs under the mmap lock, then takes the reservation lock
 * (the order dma_resv_lockdep() primes: mmap_lock -> dma_resv).
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "framevec_internal.h"

struct framevec_dmabuf_seg {
	struct framevec *fv;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct work_struct revoke_work;
};

static struct platform_device *framevec_pdev;

static bool framevec_file_is_dmabuf(struct file *file)
{
	return file && file_inode(file)->i_sb->s_magic == DMA_BUF_MAGIC;
}

static int framevec_dmabuf_check(struct vm_area_struct *vma, unsigned int flags,
				 const char **why)
{
	if (!framevec_file_is_dmabuf(vma->vm_file))
		return -ENOENT;
	/* remap_pfn_range() of a COW mapping rewrites vm_pgoff, COW pages are not the dma-buf's */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return fv_refuse(why, -EOPNOTSUPP,
			"is a private mapping of a dma-buf; mmap the dma-buf MAP_SHARED");
	return 0;
}

static void framevec_dmabuf_revoke_work(struct work_struct *work)
{
	struct framevec_dmabuf_seg *ds =
		container_of(work, struct framevec_dmabuf_seg, revoke_work);

	framevec_revoke(ds->fv);
}

/* The exporter wants its memory back. Called with its reservation lock held. */
static void framevec_dmabuf_move_notify(struct dma_buf_attachment *attach)
{
	struct framevec_dmabuf_seg *ds = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	/* no lock may be taken here: see "Revocation and lock nesting" */
	queue_work(system_unbound_wq, &ds->revoke_work);
}

static const struct dma_buf_attach_ops framevec_dmabuf_attach_ops = {
	.allow_peer2peer = false,
	.move_notify = framevec_dmabuf_move_notify,
};

/* Add the pages [pgoff, pgoff + nr) of the exporter's table as runs */
static int framevec_dmabuf_add_window(struct framevec *fv, struct framevec_seg *seg,
				      struct sg_table *sgt, unsigned long pgoff,
				      unsigned long nr)
{
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	for_each_sgtable_sg(sgt, sg, i) {
		unsigned long pages = sg->length >> PAGE_SHIFT, n;
		struct page *page = sg_page(sg);

		if (!nr)
			break;
		if (!page || !PAGE_ALIGNED(sg->offset) || !PAGE_ALIGNED(sg->length)) {
			fv_user_err("dma-buf exports memory without struct page or in partial pages; map it for the device through the dma-buf instead");
			return -EOPNOTSUPP;
		}
		if (pgoff >= pages) {
			pgoff -= pages;
			continue;
		}
		n = min(pages - pgoff, nr);
		ret = framevec_add_pfns(fv, seg, page_to_pfn(page) +
					(sg->offset >> PAGE_SHIFT) + pgoff, n);
		if (ret)
			return ret;
		nr -= n;
		pgoff = 0;
	}
	if (nr) {
		fv_user_err("dma-buf mapping extends beyond the buffer's pages; map only the buffer");
		return -EFAULT;
	}
	return 0;
}

static int framevec_dmabuf_import(struct framevec *fv, struct framevec_seg *seg,
				  struct vm_area_struct *vma, unsigned long start,
				  unsigned long end)
{
	unsigned long pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	unsigned long nr = (end - start) >> PAGE_SHIFT;
	struct framevec_dmabuf_seg *ds;
	struct dma_buf *dmabuf;
	long wait;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	ds = kzalloc(sizeof(*ds), GFP_KERNEL_ACCOUNT);
	if (!ds)
		return -ENOMEM;
	ds->fv = fv;
	INIT_WORK(&ds->revoke_work, framevec_dmabuf_revoke_work);

	/* the VMA's file is a dma-buf file (checked), private_data its dma_buf */
	get_file(vma->vm_file);
	dmabuf = vma->vm_file->private_data;
	ds->dmabuf = dmabuf;
	if (pgoff + nr > dmabuf->size >> PAGE_SHIFT) {
		fv_user_err("range %#lx-%#lx maps beyond the end of its dma-buf; map only the buffer",
			    start, end);
		ret = -EFAULT;
		goto err_put_file;
	}

	ds->attach = dma_buf_dynamic_attach(dmabuf, &framevec_pdev->dev,
					    &framevec_dmabuf_attach_ops, ds);
	if (IS_ERR(ds->attach)) {
		ret = PTR_ERR(ds->attach);
		fv_user_err("range %#lx-%#lx: exporter %s refused an attachment (error %d)",
			    start, end, dmabuf->exp_name, ret);
		goto err_put_file;
	}

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		goto err_detach;
	ret = dma_buf_pin(ds->attach);
	if (ret)
		goto err_unlock;
	ds->sgt = dma_buf_map_attachment(ds->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(ds->sgt)) {
		ret = PTR_ERR(ds->sgt);
		goto err_unpin;
	}
	dma_resv_unlock(dmabuf->resv);

	/* a dynamic exporter may still be moving the buffer into place */
	wait = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL, true,
				     MAX_SCHEDULE_TIMEOUT);
	if (wait < 0) {
		ret = wait;
		goto err_unmap;
	}

	ret = framevec_dmabuf_add_window(fv, seg, ds->sgt, pgoff, nr);
	if (ret)
		goto err_unmap;
	seg->mem_type = FRAMEVEC_MEM_RAM;
	seg->priv = ds;
	return 0;

err_unmap:
	dma_resv_lock(dmabuf->resv, NULL);
	dma_buf_unmap_attachment(ds->attach, ds->sgt, DMA_BIDIRECTIONAL);
err_unpin:
	dma_buf_unpin(ds->attach);
err_unlock:
	dma_resv_unlock(dmabuf->resv);
err_detach:
	dma_buf_detach(dmabuf, ds->attach);
	cancel_work_sync(&ds->revoke_work);
err_put_file:
	dma_buf_put(dmabuf);
	kfree(ds);
	return ret;
}

static void framevec_dmabuf_release(struct framevec *fv, struct framevec_seg *seg)
{
	struct framevec_dmabuf_seg *ds = seg->priv;
	struct dma_buf *dmabuf = ds->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	dma_buf_unmap_attachment(ds->attach, ds->sgt, DMA_BIDIRECTIONAL);
	dma_buf_unpin(ds->attach);
	dma_resv_unlock(dmabuf->resv);
	/* off the exporter's list: move_notify cannot queue the work again */
	dma_buf_detach(dmabuf, ds->attach);
	cancel_work_sync(&ds->revoke_work);
	dma_buf_put(dmabuf);
	kfree(ds);
}

const struct framevec_source_ops framevec_dmabuf_source = {
	.id = FRAMEVEC_SOURCE_DMABUF,
	.name = "dmabuf",
	.can_revoke = true,
	.check = framevec_dmabuf_check,
	.import = framevec_dmabuf_import,
	.release = framevec_dmabuf_release,
};

/**
 * framevec_dmabuf_source_init() - register the device dma-bufs are attached to
 *
 * Return: 0 or a negative errno.
 */
int framevec_dmabuf_source_init(void)
{
	int ret;

	framevec_pdev = platform_device_register_simple("framevec", PLATFORM_DEVID_NONE,
							NULL, 0);
	if (IS_ERR(framevec_pdev))
		return PTR_ERR(framevec_pdev);
	ret = dma_coerce_mask_and_coherent(&framevec_pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		platform_device_unregister(framevec_pdev);
		return ret;
	}
	return 0;
}

/**
 * framevec_dmabuf_source_exit() - unregister the device; no framevec is left
 */
void framevec_dmabuf_source_exit(void)
{
	platform_device_unregister(framevec_pdev);
}
