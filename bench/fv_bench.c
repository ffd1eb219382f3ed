// SPDX-License-Identifier: GPL-2.0
/*
 * fv_bench: benchmark module, see fv_bench.h. Never shipped.
 *
 * Object: one debugfs file, /sys/kernel/debug/fv_bench/run; each FVB_RUN
 * ioctl imports and releases the caller's range once by one method and
 * holds nothing afterwards. The timed parts are the import and the release
 * calls alone; counting what was held happens between them, untimed.
 */
#include <linux/debugfs.h>
#include <linux/framevec.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <media/frame_vector.h>

#include "fv_bench.h"

static struct dentry *fvb_dir;

static int fvb_framevec(struct fvb_run *r)
{
	struct framevec_iter it;
	struct framevec_run run;
	struct framevec *fv;
	unsigned long runs = 0;
	u64 t0, t1;
	bool more;

	t0 = ktime_get_ns();
	fv = framevec_import(current->mm, r->addr, r->length,
			     r->write ? FRAMEVEC_WRITE : 0, NULL, NULL);
	t1 = ktime_get_ns();
	if (IS_ERR(fv))
		return PTR_ERR(fv);
	r->import_ns = t1 - t0;
	for (more = framevec_run_first(&it, fv, &run); more;
	     more = framevec_run_next(&it, &run)) {
		r->held_pages += run.nr_pages;
		runs++;
	}
	r->meta_bytes = runs * sizeof(u64);
	t0 = ktime_get_ns();
	framevec_release(fv);
	r->release_ns = ktime_get_ns() - t0;
	return 0;
}

static int fvb_pin_user_pages(struct fvb_run *r, bool locked)
{
	unsigned long n = r->length >> PAGE_SHIFT, i;
	unsigned int gup = FOLL_LONGTERM | (r->write ? FOLL_WRITE : 0);
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

static int fvb_get_vaddr_frames(struct fvb_run *r)
{
	unsigned long n = r->length >> PAGE_SHIFT;
	struct frame_vector *vec;
	u64 t0, t1;
	int ret;

	if (n > UINT_MAX)
		return -E2BIG;
	t0 = ktime_get_ns();
	vec = frame_vector_create(n);
	if (!vec)
		return -ENOMEM;
	ret = get_vaddr_frames(r->addr, n, r->write, vec);
	t1 = ktime_get_ns();
	if (ret < 0)
		goto out_destroy;
	r->import_ns = t1 - t0;
	r->held_pages = frame_vector_count(vec);
	r->meta_bytes = struct_size(vec, ptrs, n);
	ret = r->held_pages == n ? 0 : -EFAULT;
	t0 = ktime_get_ns();
	put_vaddr_frames(vec);
	frame_vector_destroy(vec);
	r->release_ns = ktime_get_ns() - t0;
	return ret;

out_destroy:
	put_vaddr_frames(vec);
	frame_vector_destroy(vec);
	return ret;
}

static long fvb_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fvb_run r;
	int ret;

	if (cmd != FVB_RUN)
		return -ENOTTY;
	if (copy_from_user(&r, (void __user *)arg, sizeof(r)))
		return -EFAULT;
	if (!r.length || !PAGE_ALIGNED(r.addr) || !PAGE_ALIGNED(r.length))
		return -EINVAL;
	r.import_ns = 0;
	r.release_ns = 0;
	r.held_pages = 0;
	r.meta_bytes = 0;
	switch (r.method) {
	case FVB_FRAMEVEC:
		ret = fvb_framevec(&r);
		break;
	case FVB_PIN_USER_PAGES:
	case FVB_PIN_LOCKED:
		ret = fvb_pin_user_pages(&r, r.method == FVB_PIN_LOCKED);
		break;
	case FVB_GET_VADDR_FRAMES:
		ret = fvb_get_vaddr_frames(&r);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &r, sizeof(r)) ? -EFAULT : 0;
}

static const struct file_operations fvb_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = fvb_ioctl,
};

static int __init fvb_init(void)
{
	fvb_dir = debugfs_create_dir("fv_bench", NULL);
	debugfs_create_file("run", 0600, fvb_dir, NULL, &fvb_fops);
	return 0;
}

static void __exit fvb_exit(void)
{
	debugfs_remove_recursive(fvb_dir);
}

module_init(fvb_init);
module_exit(fvb_exit);
MODULE_DESCRIPTION("framevec benchmarks against pin_user_pages and frame_vector");
MODULE_LICENSE("GPL");
