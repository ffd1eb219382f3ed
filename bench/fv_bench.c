// SPDX-License-Identifier: GPL-2.0
/*
 * fv_bench: benchmark module, see fv_bench.h. Never shipped.
 *
 * Object: one debugfs file, /sys/kernel/debug/fv_bench/run. Each FVB_RUN
 * ioctl imports (and with FVB_MAP maps for the bench device, then unmaps)
 * and releases the caller's range once by one method, and holds nothing
 * afterwards. FVB_LIVE holds many framevec imports at once to measure their
 * kernel memory, and releases them all before it returns. The timed parts
 * are the import, map, unmap and release calls alone; counting what was held
 * and FVB_VERIFY's look-up happen between or after them, untimed.
 *
 * The bench device: the first QEMU edu device (1234:11e8), bound by this
 * module's PCI driver only to have a struct device behind the IOMMU to map
 * for. Nothing ever programs the device, so it never performs DMA; without
 * it FVB_MAP fails with -ENODEV.
 *
 * Locking: fvb_dev is set at probe and cleared at remove, both under
 * fvb_dev_lock, which each FVB_MAP run holds across its map and unmap.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/framevec.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>
#include <media/frame_vector.h>

#include "fv_bench.h"

#define FVB_PCI_VENDOR_QEMU	0x1234
#define FVB_PCI_DEVICE_EDU	0x11e8
#define FVB_VERIFY_BATCH	512

static struct dentry *fvb_dir;
static DEFINE_MUTEX(fvb_dev_lock);
static struct device *fvb_dev;

static enum dma_data_direction fvb_dir_of(const struct fvb_run *r)
{
	return (r->flags & FVB_WRITE) ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

/* nothing to stop: fv_bench neither programs a device nor reads the memory */
static void fvb_revoke_nop(struct framevec *fv, void *priv)
{
}

static int fvb_framevec(struct fvb_run *r)
{
	enum dma_data_direction dir = fvb_dir_of(r);
	struct sg_table *sgt = NULL;
	struct framevec_iter it;
	struct framevec_run run;
	struct framevec *fv;
	unsigned long runs = 0;
	int ret = 0;
	u64 t0, t1;
	bool more;

	t0 = ktime_get_ns();
	fv = framevec_import(current->mm, r->addr, r->length,
			     (r->flags & FVB_WRITE) ? FRAMEVEC_WRITE : 0,
			     (r->flags & FVB_REVOCABLE) ? fvb_revoke_nop : NULL, NULL);
	t1 = ktime_get_ns();
	if (IS_ERR(fv))
		return PTR_ERR(fv);
	r->import_ns = t1 - t0;
	for (more = framevec_run_first(&it, fv, &run); more;
	     more = framevec_run_next(&it, &run)) {
		r->held_pages += run.nr_pages;
		runs++;
	}
	/* framevec keeps one u64 per physically contiguous run (framevec_core.c) */
	r->runs = runs;
	r->meta_bytes = runs * sizeof(u64);
	if (r->flags & FVB_MAP) {
		t0 = ktime_get_ns();
		sgt = framevec_map(fv, fvb_dev, dir);
		t1 = ktime_get_ns();
		if (IS_ERR(sgt)) {
			ret = PTR_ERR(sgt);
			goto out_release;
		}
		r->map_ns = t1 - t0;
		r->runs = sgt->nents;
		t0 = ktime_get_ns();
		framevec_unmap(fv, fvb_dev, sgt, dir);
		r->unmap_ns = ktime_get_ns() - t0;
	}
out_release:
	t0 = ktime_get_ns();
	framevec_release(fv);
	r->release_ns = ktime_get_ns() - t0;
	return ret;
}

static int fvb_pin_user_pages(struct fvb_run *r, bool locked)
{
	unsigned long n = r->length >> PAGE_SHIFT, i;
	unsigned int gup = FOLL_LONGTERM | ((r->flags & FVB_WRITE) ? FOLL_WRITE : 0);
	struct page **pages;
	long pinned = 0, ret;
	u64 t0, t1;

	t0 = ktime_get_ns();
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (locked)
		mmap_read_lock(current->mm);
	while (pinned < n) {
		if (locked)
			ret = pin_user_pages(r->addr + (pinned << PAGE_SHIFT),
					     n - pinned, gup, pages + pinned);
		else
			ret = pin_user_pages_fast(r->addr + (pinned << PAGE_SHIFT),
						  min_t(long, n - pinned, INT_MAX), gup,
						  pages + pinned);
		if (ret <= 0)
			break;
		pinned += ret;
	}
	if (locked)
		mmap_read_unlock(current->mm);
	t1 = ktime_get_ns();
	r->import_ns = t1 - t0;
	for (i = 0; i < pinned; i++)
		r->held_pages += folio_maybe_dma_pinned(page_folio(pages[i]));
	r->meta_bytes = n * sizeof(*pages);
	t0 = ktime_get_ns();
	unpin_user_pages(pages, pinned);
	kvfree(pages);
	r->release_ns = ktime_get_ns() - t0;
	return pinned == n ? 0 : -EFAULT;
}

/*
 * get_vaddr_frames(), and with @vb2 the rest of vb2_dma_sg_get_userptr():
 * the table from the pages, and with FVB_MAP its DMA mapping. Called with
 * fvb_dev_lock held for FVB_MAP.
 */
static int fvb_get_vaddr_frames(struct fvb_run *r, bool vb2)
{
	enum dma_data_direction dir = fvb_dir_of(r);
	unsigned long n = r->length >> PAGE_SHIFT;
	struct frame_vector *vec;
	struct sg_table sgt;
	struct page **pages;
	u64 t0, t1;
	int ret;

	if (n > UINT_MAX)
		return -E2BIG;
	t0 = ktime_get_ns();
	vec = frame_vector_create(n);
	if (!vec)
		return -ENOMEM;
	ret = get_vaddr_frames(r->addr, n, r->flags & FVB_WRITE, vec);
	if (ret < 0)
		goto out_destroy;
	if (frame_vector_count(vec) != n) {
		ret = -EFAULT;
		goto out_put;
	}
	if (vb2) {
		pages = frame_vector_pages(vec);
		if (IS_ERR(pages)) {
			ret = PTR_ERR(pages);
			goto out_put;
		}
		/*
		 * Entries no longer than the device takes (64 KiB for edu: PCI's
		 * default), as framevec_map() builds them; vb2_dma_sg relies on
		 * its drivers raising the limit instead
		 */
		ret = sg_alloc_table_from_pages_segment(&sgt, pages, n, 0, r->length,
							(r->flags & FVB_MAP) ?
							dma_get_max_seg_size(fvb_dev) : UINT_MAX,
							GFP_KERNEL);
		if (ret)
			goto out_put;
	}
	t1 = ktime_get_ns();
	r->import_ns = t1 - t0;
	r->held_pages = frame_vector_count(vec);
	r->meta_bytes = struct_size(vec, ptrs, n);
	if (vb2) {
		r->runs = sgt.orig_nents;
		r->meta_bytes += sgt.orig_nents * sizeof(struct scatterlist);
	}
	if (vb2 && (r->flags & FVB_MAP)) {
		t0 = ktime_get_ns();
		ret = dma_map_sgtable(fvb_dev, &sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
		t1 = ktime_get_ns();
		if (ret)
			goto out_free_table;
		r->map_ns = t1 - t0;
		r->runs = sgt.nents;
		t0 = ktime_get_ns();
		dma_unmap_sgtable(fvb_dev, &sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
		r->unmap_ns = ktime_get_ns() - t0;
	}
	t0 = ktime_get_ns();
	if (vb2)
		sg_free_table(&sgt);
	put_vaddr_frames(vec);
	frame_vector_destroy(vec);
	r->release_ns = ktime_get_ns() - t0;
	return 0;

out_free_table:
	sg_free_table(&sgt);
out_put:
	put_vaddr_frames(vec);
out_destroy:
	frame_vector_destroy(vec);
	return ret;
}

/* one follow_pfnmap_start() per page, as 5.10's follow_pfn() loop did */
static int fvb_pfn_walk(struct fvb_run *r)
{
	unsigned long n = r->length >> PAGE_SHIFT, i;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma = NULL;
	unsigned long *pfns;
	int ret = 0;
	u64 t0, t1;

	t0 = ktime_get_ns();
	pfns = kvmalloc_array(n, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	mmap_read_lock(mm);
	for (i = 0; i < n; i++) {
		unsigned long addr = r->addr + (i << PAGE_SHIFT);
		struct follow_pfnmap_args args = { .address = addr };

		if (!vma || addr >= vma->vm_end) {
			vma = vma_lookup(mm, addr);
			if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP))) {
				ret = -EFAULT;
				break;
			}
		}
		args.vma = vma;
		ret = follow_pfnmap_start(&args);
		if (ret)
			break;
		pfns[i] = args.pfn;
		follow_pfnmap_end(&args);
	}
	mmap_read_unlock(mm);
	t1 = ktime_get_ns();
	r->import_ns = t1 - t0;
	r->held_pages = i;
	r->meta_bytes = n * sizeof(*pfns);
	t0 = ktime_get_ns();
	kvfree(pfns);
	r->release_ns = ktime_get_ns() - t0;
	return ret;
}

/* untimed: pages of the range still DMA-pinned, looked up without a pin */
static int fvb_verify(struct fvb_run *r)
{
	unsigned long n = r->length >> PAGE_SHIFT, done = 0;
	struct page **pages;
	int ret = 0;

	pages = kmalloc_array(FVB_VERIFY_BATCH, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (done < n) {
		int got, i;

		got = get_user_pages_fast(r->addr + (done << PAGE_SHIFT),
					  min_t(unsigned long, n - done, FVB_VERIFY_BATCH),
					  0, pages);
		if (got <= 0) {
			/* PFNMAP memory: nothing of it is counted by pins */
			ret = done ? -EFAULT : 0;
			break;
		}
		for (i = 0; i < got; i++) {
			r->left_pinned += folio_maybe_dma_pinned(page_folio(pages[i]));
			put_page(pages[i]);
		}
		done += got;
	}
	kfree(pages);
	return ret;
}

static int fvb_run(void __user *uarg)
{
	struct fvb_run r;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	ret = copy_struct_from_user(&r, sizeof(r), uarg, usize);
	if (ret)
		return ret;
	if (r.flags & ~FVB_FLAGS || r.__reserved)
		return -EINVAL;
	if (!r.length || !PAGE_ALIGNED(r.addr) || !PAGE_ALIGNED(r.length))
		return -EINVAL;
	if ((r.flags & FVB_MAP) && r.method != FVB_FRAMEVEC && r.method != FVB_VB2_USERPTR)
		return -EINVAL;
	if ((r.flags & FVB_REVOCABLE) && r.method != FVB_FRAMEVEC)
		return -EINVAL;
	r.import_ns = 0;
	r.map_ns = 0;
	r.unmap_ns = 0;
	r.release_ns = 0;
	r.held_pages = 0;
	r.runs = 0;
	r.meta_bytes = 0;
	r.left_pinned = 0;
	if (r.flags & FVB_MAP) {
		mutex_lock(&fvb_dev_lock);
		if (!fvb_dev) {
			mutex_unlock(&fvb_dev_lock);
			return -ENODEV;
		}
	}
	switch (r.method) {
	case FVB_FRAMEVEC:
		ret = fvb_framevec(&r);
		break;
	case FVB_PIN_USER_PAGES:
	case FVB_PIN_LOCKED:
		ret = fvb_pin_user_pages(&r, r.method == FVB_PIN_LOCKED);
		break;
	case FVB_GET_VADDR_FRAMES:
	case FVB_VB2_USERPTR:
		ret = fvb_get_vaddr_frames(&r, r.method == FVB_VB2_USERPTR);
		break;
	case FVB_PFN_WALK:
		ret = fvb_pfn_walk(&r);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (r.flags & FVB_MAP)
		mutex_unlock(&fvb_dev_lock);
	if (!ret && (r.flags & FVB_VERIFY))
		ret = fvb_verify(&r);
	if (ret)
		return ret;
	return copy_to_user(uarg, &r, min_t(size_t, usize, sizeof(r))) ? -EFAULT : 0;
}

static unsigned long fvb_slab_pages(void)
{
	return global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
	       global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
}

static int fvb_live(void __user *uarg)
{
	unsigned long slab0, free0, slab1, free1, i;
	struct framevec **fvs;
	struct fvb_live l;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	ret = copy_struct_from_user(&l, sizeof(l), uarg, usize);
	if (ret)
		return ret;
	if (l.flags & ~FVB_WRITE || l.__reserved)
		return -EINVAL;
	if (!l.count || l.count > FVB_LIVE_MAX || !l.length ||
	    !PAGE_ALIGNED(l.addr) || !PAGE_ALIGNED(l.length))
		return -EINVAL;
	fvs = kvcalloc(l.count, sizeof(*fvs), GFP_KERNEL);
	if (!fvs)
		return -ENOMEM;
	slab0 = fvb_slab_pages();
	free0 = global_zone_page_state(NR_FREE_PAGES);
	for (i = 0; i < l.count; i++) {
		fvs[i] = framevec_import(current->mm, l.addr + i * l.length, l.length,
					 (l.flags & FVB_WRITE) ? FRAMEVEC_WRITE : 0, NULL, NULL);
		if (IS_ERR(fvs[i])) {
			ret = PTR_ERR(fvs[i]);
			break;
		}
	}
	slab1 = fvb_slab_pages();
	free1 = global_zone_page_state(NR_FREE_PAGES);
	while (i--)
		framevec_release(fvs[i]);
	kvfree(fvs);
	if (ret)
		return ret;
	l.slab_bytes = (u64)(slab1 - slab0) << PAGE_SHIFT;
	l.used_bytes = (u64)(free0 - free1) << PAGE_SHIFT;
	l.slab_left_bytes = ((s64)fvb_slab_pages() - (s64)slab0) << PAGE_SHIFT;
	return copy_to_user(uarg, &l, min_t(size_t, usize, sizeof(l))) ? -EFAULT : 0;
}

static long fvb_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	/* size-extensible: the size is the struct's own first field */
	if (_IOC_TYPE(cmd) != 'b')
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(FVB_RUN):
		return fvb_run((void __user *)arg);
	case _IOC_NR(FVB_LIVE):
		return fvb_live((void __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations fvb_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = fvb_ioctl,
};

static int fvb_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	mutex_lock(&fvb_dev_lock);
	if (fvb_dev) {
		mutex_unlock(&fvb_dev_lock);
		return -EBUSY;
	}
	fvb_dev = &pdev->dev;
	mutex_unlock(&fvb_dev_lock);
	dev_info(&pdev->dev, "fv_bench: the device FVB_MAP maps for (never programmed)\n");
	return 0;
}

static void fvb_remove(struct pci_dev *pdev)
{
	mutex_lock(&fvb_dev_lock);
	if (fvb_dev == &pdev->dev)
		fvb_dev = NULL;
	mutex_unlock(&fvb_dev_lock);
}

static const struct pci_device_id fvb_pci_ids[] = {
	{ PCI_DEVICE(FVB_PCI_VENDOR_QEMU, FVB_PCI_DEVICE_EDU) },
	{ }
};

/* no MODULE_DEVICE_TABLE: never autoloaded; binds an edu device no driver has */
static struct pci_driver fvb_pci_driver = {
	.name = "fv_bench",
	.id_table = fvb_pci_ids,
	.probe = fvb_probe,
	.remove = fvb_remove,
};

static int __init fvb_init(void)
{
	int ret;

	ret = pci_register_driver(&fvb_pci_driver);
	if (ret)
		return ret;
	fvb_dir = debugfs_create_dir("fv_bench", NULL);
	debugfs_create_file("run", 0600, fvb_dir, NULL, &fvb_fops);
	return 0;
}

static void __exit fvb_exit(void)
{
	debugfs_remove_recursive(fvb_dir);
	pci_unregister_driver(&fvb_pci_driver);
}

module_init(fvb_init);
module_exit(fvb_exit);
MODULE_DESCRIPTION("framevec benchmarks against pin_user_pages, frame_vector and the vb2 USERPTR path");
MODULE_LICENSE("GPL");
