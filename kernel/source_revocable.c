// SPDX-License-Identifier: GPL-2.0
/*
 * framevec revocable source: any other VM_PFNMAP mapping (a PCI BAR mmapped
 * through sysfs resourceN, /dev/mem, a driver's remap_pfn_range()), only for
 * importers that can stop on demand. Nothing holds such memory; what we can
 * do is watch the mapping and make the importer stop before it goes.
 *
 * Object. One struct framevec_revocable_seg per segment: an MMU interval
 * notifier over the segment's address range. Its invalidate callback runs
 * framevec_revoke(), so the importer's callback runs before the page table
 * entries are cleared (munmap, unmap_mapping_range() on device removal,
 * process exit): after that nothing of the framevec is used again. PFNs are
 * read with framevec_add_pfnmap() between mmu_interval_read_begin() and
 * mmu_interval_read_retry() on the notifier inserted first, so no PFN is
 * ever recorded without the notifier watching it. The promise is exactly
 * the user's own: the import is valid while the mapping is.
 *
 * Events. Protection changes (mprotect) and soft-dirty tracking keep the
 * PFNs in place and do not revoke; every other event does, including one
 * that comes while the import is still running (the framevec is then
 * returned revoked, or the import fails with -EAGAIN if it saw the change).
 *
 * Who may import. The revocation is synchronous: once the callback returns
 * the memory may vanish. framevec's dma-buf front end (/dev/framevec) only
 * tells its importers to stop (move_notify, SIGBUS on faults), so it is
 * refused (FRAMEVEC_ASYNC_REVOKE) with a line saying how to get there: an
 * in-kernel importer with a revoke callback, or a driver that exports the
 * memory as a dma-buf or through framevec's iomem helper.
 *
 * Locking. mmu_interval_notifier_insert_locked() needs the mmap lock for
 * write (.needs_mmap_write: the core takes it for the whole import); the
 * unlocked variant would take it again. The callback may run in reclaim's
 * lock context: it takes fv->lock (in framevec_revoke()), which nothing
 * holds while allocating, and the importer's callback must obey the same.
 * Release removes the notifier, which waits for a callback in progress.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/slab.h>

#include "framevec_internal.h"

struct framevec_revocable_seg {
	struct mmu_interval_notifier notifier;
	struct framevec *fv;
};

static int framevec_revocable_check(struct vm_area_struct *vma, unsigned int flags,
				    const char **why)
{
	if (!(vma->vm_flags & VM_PFNMAP))
		return -ENOENT;
	if (flags & FRAMEVEC_ASYNC_REVOKE)
		return fv_refuse(why, -EOPNOTSUPP,
			"is VM_PFNMAP memory with no owner to hold; only the revocable source (in-kernel importers with a revoke callback) takes it. Have its driver export a dma-buf or map it with framevec's iomem helper");
	return 0;
}

static bool framevec_revocable_invalidate(struct mmu_interval_notifier *mni,
					  const struct mmu_notifier_range *range,
					  unsigned long cur_seq)
{
	struct framevec_revocable_seg *rs =
		container_of(mni, struct framevec_revocable_seg, notifier);

	/* the OOM reaper skips VM_PFNMAP; anything else non-blocking waits */
	if (!mmu_notifier_range_blockable(range))
		return false;
	/*
	 * For mmu_interval_read_retry() in the import. No lock pairs them: the
	 * callback revokes whether or not the import has finished, and maps
	 * check the revoked flag under fv->lock.
	 */
	mmu_interval_set_seq(mni, cur_seq);
	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return true;	/* the PFNs stay where they are */
	default:
		framevec_revoke(rs->fv);
		return true;
	}
}

static const struct mmu_interval_notifier_ops framevec_revocable_ops = {
	.invalidate = framevec_revocable_invalidate,
};

static int framevec_revocable_import(struct framevec *fv, struct framevec_seg *seg,
				     struct vm_area_struct *vma, unsigned long start,
				     unsigned long end)
{
	struct framevec_revocable_seg *rs;
	unsigned long seq;
	int ret;

	mmap_assert_write_locked(vma->vm_mm);
	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs)
		return -ENOMEM;
	rs->fv = fv;
	ret = mmu_interval_notifier_insert_locked(&rs->notifier, vma->vm_mm, start,
						  end - start, &framevec_revocable_ops);
	if (ret)
		goto err_free;

	seq = mmu_interval_read_begin(&rs->notifier);
	ret = framevec_add_pfnmap(fv, seg, vma, start, end, "VM_PFNMAP mapping");
	if (ret)
		goto err_remove;
	if (mmu_interval_read_retry(&rs->notifier, seq)) {
		fv_user_err("range %#lx-%#lx changed while it was imported; try again",
			    start, end);
		ret = -EAGAIN;
		goto err_remove;
	}
	seg->priv = rs;
	return 0;

err_remove:
	mmu_interval_notifier_remove(&rs->notifier);
err_free:
	kfree(rs);
	return ret;
}

static void framevec_revocable_release(struct framevec *fv, struct framevec_seg *seg)
{
	struct framevec_revocable_seg *rs = seg->priv;

	/* waits for a callback in progress; none runs afterwards */
	mmu_interval_notifier_remove(&rs->notifier);
	kfree(rs);
}

const struct framevec_source_ops framevec_revocable_source = {
	.id = FRAMEVEC_SOURCE_REVOCABLE,
	.name = "revocable",
	.can_revoke = true,
	.needs_mmap_write = true,
	.check = framevec_revocable_check,
	.import = framevec_revocable_import,
	.release = framevec_revocable_release,
};
