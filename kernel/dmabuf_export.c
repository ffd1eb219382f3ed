// SPDX-License-Identifier: GPL-2.0
/*
 * framevec dma-buf exporter: any framevec as a dma-buf.
 *
 * Object. struct framevec_dmabuf ties one dma-buf to one framevec and owns
 * it: the framevec is released by the dma-buf's release op, when the last
 * file reference and the last importer are gone. It is also the framevec's
 * importer: its revoke callback zaps every user mmap of the dma-buf, sends
 * move_notify to the dma-buf's importers and waits for their fences; the
 * core then unmaps what they still have mapped (see "Revocation" at the top
 * of framevec_core.c, which this file follows).
 *
 * Static or dynamic. A framevec its owner can revoke is exported with
 * .pin/.unpin (framevec_dmabuf_dynamic_ops): the dma-buf core then never
 * caches an attach-time mapping for a dynamic importer, every map comes
 * here and fails with -ENODEV after a revocation. Static importers, which
 * the core would map and pin at attach and could never be made to stop,
 * are refused at attach. Pins are accepted (without
 * CONFIG_DMABUF_MOVE_NOTIFY the core pins for every map) but do not stop a
 * revocation: framevec never moves memory, and a revoked owner's memory is
 * gone whatever the importer pinned. Memory that cannot be revoked is
 * exported static (framevec_dmabuf_ops, framevec_dmabuf_vmap_ops): any
 * importer may take it.
 *
 * Write rule (framevec_core.c). A read-only framevec is refused to vmap
 * (dma_buf_vmap() has no direction and its users write through it: vb2's
 * vmalloc allocator, for one; the dma-buf has no .vmap, so the core returns
 * -EINVAL), to writable mmaps, and to any device map but DMA_TO_DEVICE.
 * For a dynamic importer of a static exporter the core maps
 * DMA_BIDIRECTIONAL at attach, so that attach is refused with a line.
 * Memory that cannot be revoked but can be vmapped and was imported for
 * writing is exported with framevec_dmabuf_vmap_ops.
 *
 * MMIO goes only to importers that declared peer2peer: a table of MMIO has
 * entries without a page, which others would dereference.
 *
 * Lifetime. Each attachment's mapping is a framevec_map() table, tracked by
 * the framevec itself (its maps list), which also serves CPU-access syncs.
 * vmap is reference counted by the dma-buf core, which calls our vmap once.
 * User mmaps (VM_PFNMAP, shared only) map the runs' pfns at the first fault,
 * with the owner's cache attribute; they stay valid because the framevec
 * holds them, until a revocation zaps them.
 *
 * The dma-buf's inode is held (ihold) from export to our release op: the
 * dma-buf core evicts the file's inode before it calls release, and a
 * revocation running in between must still be able to zap its mapping.
 *
 * Locking. The dma-buf core calls map/unmap/vmap/vunmap/pin with the
 * reservation lock held (asserted below); begin/end_cpu_access take
 * fv->lock (through framevec_sync_maps()). fvd->lock orders revocation
 * against export and release: fvd->lock, then the reservation lock.
 * fvd->dmabuf is set once the dma-buf exists and cleared at its release,
 * under fvd->lock. A fault on a user mmap takes fvd->lock under the mmap
 * lock (mmap lock, fvd->lock, reservation lock); fvd->lock is never taken
 * from an MMU notifier, since /dev/framevec refuses the notifier-backed
 * revocable source.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "framevec_internal.h"

struct framevec_dmabuf {
	struct framevec *fv;
	struct mutex lock; /* fvd->dmabuf vs. revocation */
	struct dma_buf *dmabuf;
	struct inode *inode;
};

static int framevec_dmabuf_attach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attach)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;
	struct framevec *fv = fvd->fv;

	if (framevec_should_fail())
		return -ENOMEM;	/* "Fault injection" in framevec_core.c */
	if (framevec_is_revoked(fv))
		return -ENODEV;
	if (fv->revocable && !dma_buf_attachment_is_dynamic(attach)) {
		fv_user_err("%s cannot take this dma-buf: its memory can be revoked and the importer has no move_notify",
			    dev_name(attach->dev));
		return -EOPNOTSUPP;
	}
	if (framevec_has_mmio(fv) && !attach->peer2peer) {
		fv_user_err("%s cannot take this dma-buf: it holds device memory (MMIO) and the importer did not declare peer2peer",
			    dev_name(attach->dev));
		return -EOPNOTSUPP;
	}
	/* the core maps a dynamic importer of a static exporter both ways, now */
	if (!fv->revocable && dma_buf_attachment_is_dynamic(attach) &&
	    !(fv->flags & FRAMEVEC_WRITE)) {
		fv_user_err("%s cannot take this dma-buf: the dma-buf core maps it for reading and writing at attach, and it was imported read-only; import with the write flag",
			    dev_name(attach->dev));
		return -EACCES;
	}
	return 0;
}

/* Dynamic exporter (revocable framevecs only): see "Static or dynamic". */
static int framevec_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct framevec_dmabuf *fvd = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	return framevec_is_revoked(fvd->fv) ? -ENODEV : 0;
}

static void framevec_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	dma_resv_assert_held(attach->dmabuf->resv);
}

static struct sg_table *framevec_dmabuf_map(struct dma_buf_attachment *attach,
					    enum dma_data_direction dir)
{
	struct framevec_dmabuf *fvd = attach->dmabuf->priv;
	struct sg_table *sgt;

	dma_resv_assert_held(attach->dmabuf->resv);
	sgt = framevec_map(fvd->fv, attach->dev, dir);
	return sgt;
}

static void framevec_dmabuf_unmap(struct dma_buf_attachment *attach,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
	struct framevec_dmabuf *fvd = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
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
	iput(fvd->inode);
	mutex_destroy(&fvd->lock);
	kfree(fvd);
	atomic64_dec(&framevec_stats.live_dmabufs);
}

/* Map every page of @vma from its vm_pgoff; stop at the first error. */
static vm_fault_t framevec_dmabuf_insert(struct framevec *fv, struct vm_area_struct *vma)
{
	unsigned long skip = vma->vm_pgoff, addr = vma->vm_start, i, n;
	struct framevec_iter it;
	struct framevec_run run;
	vm_fault_t ret;
	bool more;

	for (more = framevec_run_first(&it, fv, &run); more && addr < vma->vm_end;
	     more = framevec_run_next(&it, &run)) {
		if (skip >= run.nr_pages) {
			skip -= run.nr_pages;
			continue;
		}
		n = min(run.nr_pages - skip, (vma->vm_end - addr) >> PAGE_SHIFT);
		/* vm_page_prot has the owner's cache attribute (mmap below) */
		for (i = 0; i < n; i++, addr += PAGE_SIZE) {
			ret = vmf_insert_pfn_prot(vma, addr, run.pfn + skip + i,
						  vma->vm_page_prot);
			if (ret != VM_FAULT_NOPAGE)
				return ret;
		}
		skip = 0;
	}
	return VM_FAULT_NOPAGE;
}

/*
 * The first fault maps the whole VMA (later ones find it mapped, unless a
 * revocation zapped it). Under fvd->lock: framevec_revoke() marks the
 * framevec revoked before it runs framevec_dmabuf_revoke(), which zaps under
 * fvd->lock, so a fault either sees the mark or is zapped after: no PTE
 * survives a revocation. Not fv->lock: inserting PTEs may allocate, and
 * fv->lock is taken from MMU notifiers (fs_reclaim -> notifier -> fv->lock).
 */
static vm_fault_t framevec_dmabuf_fault(struct vm_fault *vmf)
{
	struct framevec_dmabuf *fvd = vmf->vma->vm_private_data;
	struct framevec *fv = fvd->fv;
	vm_fault_t ret;

	mutex_lock(&fvd->lock);
	if (framevec_is_revoked(fv))
		ret = VM_FAULT_SIGBUS;
	else
		ret = framevec_dmabuf_insert(fv, vmf->vma);
	mutex_unlock(&fvd->lock);
	return ret;
}

static const struct vm_operations_struct framevec_dmabuf_vm_ops = {
	.fault = framevec_dmabuf_fault,
};

/*
 * Pages are mapped at the first fault, not here: the VMA joins the dma-buf
 * file's mapping only after this returns, so PTEs installed now would escape
 * the unmap_mapping_range() of a revocation running in between.
 */
static int framevec_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;
	struct framevec *fv = fvd->fv;
	pgprot_t prot = vma->vm_page_prot;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		fv_user_err("private mmap of a framevec dma-buf; map it MAP_SHARED");
		return -EINVAL;
	}
	if ((vma->vm_flags & VM_WRITE) && !(fv->flags & FRAMEVEC_WRITE)) {
		fv_user_err("writable mmap of a dma-buf imported read-only; map it PROT_READ or import with the write flag");
		return -EACCES;
	}
	if (framevec_is_revoked(fv))
		return -ENODEV;
	/* one attribute for the whole VMA, the owner's: imports see it there too */
	ret = framevec_cpu_prot(fv, &prot);
	if (ret)
		return ret;
	vma->vm_page_prot = prot;
	if (!(fv->flags & FRAMEVEC_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &framevec_dmabuf_vm_ops;
	vma->vm_private_data = fvd;
	return 0;
}

static int framevec_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);
	/* only in framevec_dmabuf_vmap_ops: writable, not revocable, vmappable */
	return framevec_vmap(fvd->fv, map);
}

static void framevec_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	dma_resv_assert_held(dmabuf->resv);
	framevec_vunmap(fvd->fv, map);
}

/* Make the memory coherent for the CPU (or, @for_device, for the devices). */
static void framevec_dmabuf_sync(struct dma_buf *dmabuf, bool for_device)
{
	struct framevec_dmabuf *fvd = dmabuf->priv;

	framevec_sync_maps(fvd->fv, for_device);
}

static int framevec_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					    enum dma_data_direction dir)
{
	framevec_dmabuf_sync(dmabuf, false);
	return 0;
}

static int framevec_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	framevec_dmabuf_sync(dmabuf, true);
	return 0;
}

/*
 * The ops of a dma-buf are chosen at export. .vmap exists only where a vmap
 * may be made, because the dma-buf core WARNs when .vmap fails: without it
 * dma_buf_vmap() returns -EINVAL quietly. No .vmap for read-only framevecs
 * (the write rule), revocable ones (a vmap cannot be revoked) and those
 * framevec_vmap() refuses (MMIO, mixed cache attributes).
 */
#define FRAMEVEC_DMABUF_COMMON_OPS				\
	.attach = framevec_dmabuf_attach,			\
	.map_dma_buf = framevec_dmabuf_map,			\
	.unmap_dma_buf = framevec_dmabuf_unmap,			\
	.release = framevec_dmabuf_release,			\
	.mmap = framevec_dmabuf_mmap,				\
	.begin_cpu_access = framevec_dmabuf_begin_cpu_access,	\
	.end_cpu_access = framevec_dmabuf_end_cpu_access

/* Writable memory that cannot be revoked: a static exporter, vmap too. */
static const struct dma_buf_ops framevec_dmabuf_vmap_ops = {
	FRAMEVEC_DMABUF_COMMON_OPS,
	.vmap = framevec_dmabuf_vmap,
	.vunmap = framevec_dmabuf_vunmap,
};

/* Memory that cannot be revoked but cannot be vmapped: static, no vmap. */
static const struct dma_buf_ops framevec_dmabuf_ops = {
	FRAMEVEC_DMABUF_COMMON_OPS,
};

/* Revocable memory: a dynamic exporter, dynamic importers only, no vmap. */
static const struct dma_buf_ops framevec_dmabuf_dynamic_ops = {
	FRAMEVEC_DMABUF_COMMON_OPS,
	.pin = framevec_dmabuf_pin,
	.unpin = framevec_dmabuf_unpin,
};

static const struct dma_buf_ops *framevec_dmabuf_pick_ops(struct framevec *fv)
{
	if (fv->revocable)
		return &framevec_dmabuf_dynamic_ops;
	if ((fv->flags & FRAMEVEC_WRITE) && framevec_can_vmap(fv))
		return &framevec_dmabuf_vmap_ops;
	return &framevec_dmabuf_ops;
}

/* The framevec's importer callback: make every user of the dma-buf stop. */
static void framevec_dmabuf_revoke(struct framevec *fv, void *priv)
{
	struct framevec_dmabuf *fvd = priv;
	struct dma_buf *dmabuf;

	mutex_lock(&fvd->lock);
	dmabuf = fvd->dmabuf;
	if (dmabuf) {
		/* user mmaps: later faults get SIGBUS, new mmaps -ENODEV */
		unmap_mapping_range(fvd->inode->i_mapping, 0, 0, 1);
		dma_resv_lock(dmabuf->resv, NULL);
		dma_buf_move_notify(dmabuf);
		dma_resv_unlock(dmabuf->resv);
		/* importers' DMA that move_notify did not stop has finished */
		dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP, false,
				      MAX_SCHEDULE_TIMEOUT);
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
	exp_info.ops = framevec_dmabuf_pick_ops(fvd->fv);
	exp_info.size = framevec_nr_pages(fvd->fv) << PAGE_SHIFT;
	exp_info.flags = O_RDWR;
	exp_info.priv = fvd;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_release;
	}
	/* held until our release op, which the core calls after evicting it */
	fvd->inode = file_inode(dmabuf->file);
	ihold(fvd->inode);
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
