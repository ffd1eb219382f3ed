// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_importer: a driver-shaped in-kernel framevec importer, for tests.
 *
 * Object. Each open file of /dev/fv_test_importer has up to FVTI_MAX_SLOTS
 * imports (struct fvti_slot), each a framevec imported from the caller's
 * address space with a revoke callback, optionally mapped for the module's
 * own platform device ("fv_test_importer", 64-bit DMA mask, does no DMA).
 * The callback records what it saw; FVTI_IOC_STATUS reports it.
 *
 * Lifetime. import -> (map -> unmap)* -> release, as a driver's USERPTR
 * path would do; closing the file releases what is left (unmap first).
 * A slot is freed only after framevec_release(), which waits for a revoke
 * callback in progress, so the callback never sees a freed slot.
 *
 * Locking. fvf->lock serializes the ioctls of one file. The revoke callback
 * takes no lock and allocates nothing: it may run from an MMU notifier
 * (reclaim context), and the ioctls allocate under fvf->lock. It touches
 * only fields written once before it can run, or atomics. It may run before
 * framevec_import() returns, so the slot exists before the import. Only when
 * a test asks (FVTI_IOC_REVOKE_DELAY) does it sleep, to show who waits for
 * it; it records when its first call started and returned.
 */
#include <linux/dma-buf.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/framevec.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fv_test_importer.h"

struct fvti_slot {
	struct framevec *fv;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	void *kaddr;			/* first page, RAM */
	void __iomem *ioaddr;		/* first page, MMIO */
	atomic_t revoke_calls;
	bool mapped;
	bool mapped_at_revoke;
	bool word_valid;
	u32 word_at_revoke;
	u32 revoke_delay_ms;
	u64 revoke_enter_ns;
	u64 revoke_exit_ns;
};

struct fvti_file {
	struct mutex lock; /* the slots */
	struct fvti_slot *slots[FVTI_MAX_SLOTS];
};

static struct platform_device *fvti_pdev;

/* No lock, no allocation: see "Locking" above */
static void fvti_revoke(struct framevec *fv, void *priv)
{
	struct fvti_slot *slot = priv;
	void __iomem *ioaddr = READ_ONCE(slot->ioaddr);
	void *kaddr = READ_ONCE(slot->kaddr);

	u32 delay_ms;

	if (atomic_inc_return(&slot->revoke_calls) != 1)
		return;
	WRITE_ONCE(slot->revoke_enter_ns, ktime_get_ns());
	slot->mapped_at_revoke = READ_ONCE(slot->mapped);
	/* the memory must still be there: read it one last time */
	if (ioaddr || kaddr) {
		slot->word_at_revoke = ioaddr ? readl(ioaddr) : READ_ONCE(*(u32 *)kaddr);
		WRITE_ONCE(slot->word_valid, true);
	}
	/* a real driver stops its DMA here; our device never started any */
	delay_ms = READ_ONCE(slot->revoke_delay_ms);
	if (delay_ms)
		msleep(delay_ms);
	WRITE_ONCE(slot->revoke_exit_ns, ktime_get_ns());
}

static struct fvti_slot *fvti_lookup(struct fvti_file *fvf, u32 id)
{
	lockdep_assert_held(&fvf->lock);
	if (id >= FVTI_MAX_SLOTS)
		return NULL;
	return fvf->slots[id];
}

/* Map the first page for the CPU so the callback can read it */
static void fvti_map_first_page(struct fvti_slot *slot)
{
	struct framevec_iter it;
	struct framevec_run run;
	phys_addr_t phys;

	if (!framevec_run_first(&it, slot->fv, &run))
		return;
	phys = PFN_PHYS(run.pfn);
	if (run.mem_type == FRAMEVEC_MEM_RAM)
		WRITE_ONCE(slot->kaddr, memremap(phys, PAGE_SIZE, MEMREMAP_WB));
	else
		WRITE_ONCE(slot->ioaddr, ioremap(phys, PAGE_SIZE));
}

static void fvti_unmap_slot(struct fvti_slot *slot)
{
	if (!slot->sgt)
		return;
	WRITE_ONCE(slot->mapped, false);
	framevec_unmap(slot->fv, &fvti_pdev->dev, slot->sgt, slot->dir);
	slot->sgt = NULL;
}

static void fvti_free_slot(struct fvti_slot *slot)
{
	fvti_unmap_slot(slot);
	/* waits for a revoke callback in progress */
	framevec_release(slot->fv);
	if (slot->kaddr)
		memunmap(slot->kaddr);
	if (slot->ioaddr)
		iounmap(slot->ioaddr);
	kfree(slot);
}

static long fvti_import(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_import args;
	struct fvti_slot *slot;
	struct framevec *fv;
	unsigned int flags = 0;
	int id, ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~FVTI_IMPORT_WRITE)
		return -EINVAL;
	if (args.flags & FVTI_IMPORT_WRITE)
		flags |= FRAMEVEC_WRITE;

	slot = kzalloc(sizeof(*slot), GFP_KERNEL);
	if (!slot)
		return -ENOMEM;
	atomic_set(&slot->revoke_calls, 0);
	/* outside fvf->lock: the import takes the mmap lock */
	fv = framevec_import(current->mm, args.addr, args.length, flags,
			     fvti_revoke, slot);
	if (IS_ERR(fv)) {
		kfree(slot);
		return PTR_ERR(fv);
	}
	slot->fv = fv;
	fvti_map_first_page(slot);

	mutex_lock(&fvf->lock);
	for (id = 0; id < FVTI_MAX_SLOTS; id++)
		if (!fvf->slots[id])
			break;
	if (id == FVTI_MAX_SLOTS) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	args.id = id;
	if (copy_to_user(uarg, &args, sizeof(args))) {
		ret = -EFAULT;
		goto err_unlock;
	}
	fvf->slots[id] = slot;
	mutex_unlock(&fvf->lock);
	return 0;

err_unlock:
	mutex_unlock(&fvf->lock);
	fvti_free_slot(slot);
	return ret;
}

static long fvti_map(struct fvti_file *fvf, void __user *uarg)
{
	static const enum dma_data_direction dirs[] = {
		[FVTI_DIR_BIDIRECTIONAL] = DMA_BIDIRECTIONAL,
		[FVTI_DIR_TO_DEVICE] = DMA_TO_DEVICE,
		[FVTI_DIR_FROM_DEVICE] = DMA_FROM_DEVICE,
	};
	struct fvti_slot *slot;
	struct fvti_map args;
	struct sg_table *sgt;
	int ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.dir >= ARRAY_SIZE(dirs))
		return -EINVAL;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, args.id);
	if (!slot) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (slot->sgt) {
		ret = -EBUSY;
		goto out_unlock;
	}
	sgt = framevec_map(slot->fv, &fvti_pdev->dev, dirs[args.dir]);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	slot->sgt = sgt;
	slot->dir = dirs[args.dir];
	WRITE_ONCE(slot->mapped, true);
out_unlock:
	mutex_unlock(&fvf->lock);
	return ret;
}

static long fvti_unmap(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_slot *slot;
	int ret = 0;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, id);
	if (!slot)
		ret = -ENOENT;
	else if (!slot->sgt)
		ret = -EINVAL;
	else
		fvti_unmap_slot(slot);
	mutex_unlock(&fvf->lock);
	return ret;
}

static long fvti_status(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_status args;
	struct fvti_slot *slot;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, args.id);
	if (!slot) {
		mutex_unlock(&fvf->lock);
		return -ENOENT;
	}
	args.revoke_calls = atomic_read(&slot->revoke_calls);
	args.mapped_at_revoke = slot->mapped_at_revoke;
	args.word_valid = READ_ONCE(slot->word_valid);
	args.word_at_revoke = slot->word_at_revoke;
	args.revoked = framevec_is_revoked(slot->fv);
	args.mapped = !!slot->sgt;
	args.nr_pages = framevec_nr_pages(slot->fv);
	mutex_unlock(&fvf->lock);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static long fvti_release(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_slot *slot;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, id);
	if (slot)
		fvf->slots[id] = NULL;
	mutex_unlock(&fvf->lock);
	if (!slot)
		return -ENOENT;
	fvti_free_slot(slot);
	return 0;
}

static long fvti_vmap(struct fvti_file *fvf, void __user *uarg)
{
	struct iosys_map map;
	struct fvti_slot *slot;
	int ret = -ENOENT;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, id);
	if (slot)
		ret = framevec_vmap(slot->fv, &map);
	if (slot && !ret) {
		/* a real driver would read or write the frame here */
		READ_ONCE(*(u32 *)map.vaddr);
		framevec_vunmap(slot->fv, &map);
	}
	mutex_unlock(&fvf->lock);
	return ret;
}

static long fvti_revoke_delay(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_revoke_delay args;
	struct fvti_slot *slot;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.delay_ms > FVTI_MAX_DELAY_MS)
		return -EINVAL;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, args.id);
	if (slot)
		WRITE_ONCE(slot->revoke_delay_ms, args.delay_ms);
	mutex_unlock(&fvf->lock);
	return slot ? 0 : -ENOENT;
}

static long fvti_revoke_times(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_revoke_times args;
	struct fvti_slot *slot;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	mutex_lock(&fvf->lock);
	slot = fvti_lookup(fvf, args.id);
	if (!slot) {
		mutex_unlock(&fvf->lock);
		return -ENOENT;
	}
	args.calls = atomic_read(&slot->revoke_calls);
	args.enter_ns = READ_ONCE(slot->revoke_enter_ns);
	args.exit_ns = READ_ONCE(slot->revoke_exit_ns);
	mutex_unlock(&fvf->lock);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

/* Store one pfn per page of [pfn, pfn + n) at @out[*count...] */
static int fvti_put_pfns(u64 __user *out, u32 max, u32 *count,
			 unsigned long pfn, unsigned long n)
{
	for (; n; n--, pfn++, (*count)++)
		if (*count < max && put_user((u64)pfn, out + *count))
			return -EFAULT;
	return 0;
}

/* The pages a dma-buf's exporter hands to an importing device */
static int fvti_dmabuf_pfns(int fd, u64 __user *out, u32 max, u32 *count)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	int ret = 0;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &fvti_pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_TO_DEVICE);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	/*
	 * An importer must not read pages out of the exporter's table
	 * (CONFIG_DMABUF_DEBUG mangles them): read the DMA addresses, which
	 * for this platform device (dma-direct, no IOMMU, no offset on x86)
	 * are the physical addresses the device reaches.
	 */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		ret = fvti_put_pfns(out, max, count, PHYS_PFN(sg_dma_address(sg)),
				    sg_dma_len(sg) >> PAGE_SHIFT);
		if (ret)
			break;
	}
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_TO_DEVICE);
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long fvti_pfns(struct fvti_file *fvf, void __user *uarg)
{
	struct fvti_pfns args;
	struct framevec_iter it;
	struct framevec_run run;
	struct fvti_slot *slot;
	u64 __user *out;
	bool more;
	int ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	out = u64_to_user_ptr(args.pfns);
	args.count = 0;
	if (args.dmabuf_fd >= 0) {
		ret = fvti_dmabuf_pfns(args.dmabuf_fd, out, args.max, &args.count);
	} else {
		mutex_lock(&fvf->lock);
		slot = fvti_lookup(fvf, args.id);
		if (!slot)
			ret = -ENOENT;
		for (more = slot && framevec_run_first(&it, slot->fv, &run);
		     more && !ret; more = framevec_run_next(&it, &run))
			ret = fvti_put_pfns(out, args.max, &args.count, run.pfn,
					    run.nr_pages);
		mutex_unlock(&fvf->lock);
	}
	if (ret)
		return ret;
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static long fvti_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fvti_file *fvf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FVTI_IOC_IMPORT:
		return fvti_import(fvf, uarg);
	case FVTI_IOC_MAP:
		return fvti_map(fvf, uarg);
	case FVTI_IOC_UNMAP:
		return fvti_unmap(fvf, uarg);
	case FVTI_IOC_STATUS:
		return fvti_status(fvf, uarg);
	case FVTI_IOC_RELEASE:
		return fvti_release(fvf, uarg);
	case FVTI_IOC_PFNS:
		return fvti_pfns(fvf, uarg);
	case FVTI_IOC_REVOKE_DELAY:
		return fvti_revoke_delay(fvf, uarg);
	case FVTI_IOC_REVOKE_TIMES:
		return fvti_revoke_times(fvf, uarg);
	case FVTI_IOC_VMAP:
		return fvti_vmap(fvf, uarg);
	default:
		return -ENOTTY;
	}
}

static int fvti_open(struct inode *inode, struct file *file)
{
	struct fvti_file *fvf = kzalloc(sizeof(*fvf), GFP_KERNEL);

	if (!fvf)
		return -ENOMEM;
	mutex_init(&fvf->lock);
	file->private_data = fvf;
	return 0;
}

static int fvti_close(struct inode *inode, struct file *file)
{
	struct fvti_file *fvf = file->private_data;
	unsigned int id;

	/* last reference to the file: no ioctl runs, no lock needed */
	for (id = 0; id < FVTI_MAX_SLOTS; id++)
		if (fvf->slots[id])
			fvti_free_slot(fvf->slots[id]);
	mutex_destroy(&fvf->lock);
	kfree(fvf);
	return 0;
}

static const struct file_operations fvti_fops = {
	.owner = THIS_MODULE,
	.open = fvti_open,
	.release = fvti_close,
	.unlocked_ioctl = fvti_ioctl,
};

static struct miscdevice fvti_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fv_test_importer",
	.fops = &fvti_fops,
	.mode = 0600,
};

static int __init fvti_init(void)
{
	int ret;

	fvti_pdev = platform_device_register_simple("fv_test_importer",
						    PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(fvti_pdev))
		return PTR_ERR(fvti_pdev);
	ret = dma_coerce_mask_and_coherent(&fvti_pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_unregister_pdev;
	/*
	 * like a device with a scatter-gather engine: no segment size limit.
	 * Without it, exporters that hand out one long segment (vb2's
	 * dma-contig) break the 64 KiB default, which DMA-API debug reports.
	 * (Its return type differs across 6.12 releases: not checked.)
	 */
	dma_set_max_seg_size(&fvti_pdev->dev, UINT_MAX);
	ret = misc_register(&fvti_misc);
	if (ret)
		goto err_unregister_pdev;
	return 0;

err_unregister_pdev:
	platform_device_unregister(fvti_pdev);
	return ret;
}

static void __exit fvti_exit(void)
{
	misc_deregister(&fvti_misc);
	platform_device_unregister(fvti_pdev);
}

module_init(fvti_init);
module_exit(fvti_exit);

MODULE_DESCRIPTION("framevec test importer: an in-kernel importer with a revoke callback");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
