// SPDX-License-Identifier: GPL-2.0
/*
 * framevec_vb2: a livepatch that gives every unmodified videobuf2 driver
 * safe V4L2_MEMORY_USERPTR again.
 *
 * Object. Every vb2 allocator (dma-contig, dma-sg, vmalloc) takes its
 * USERPTR frames from vb2_create_framevec() and gives them back with
 * vb2_destroy_framevec() (videobuf2-memops). This module replaces that pair
 * through the kernel's livepatch API. Its create imports the range through
 * framevec with no revoke callback, so only memory nobody can take back is
 * accepted: pages (pinned FOLL_LONGTERM), vb2 MMAP buffers of other devices
 * (held by their vmarea refcount) and static dma-bufs. It fills the
 * frame_vector the allocators expect: struct pages when every frame is
 * ordinary memory, pfns otherwise (dma-contig and vmalloc turn pfns of RAM
 * back into pages and check MMIO pfns for contiguity; dma-sg needs pages).
 * The vector never holds a reference itself (got_ref is false): the
 * framevec does, and the xarray below maps each vector to its framevec.
 *
 * Revocable memory (other VM_PFNMAP, iomem exporters, dynamic dma-bufs) is
 * refused with -EFAULT as before, with one rate-limited line: vb2 has no
 * way to stop a device's DMA on demand, so it cannot honour a revocation.
 *
 * Lifetime. The destroy releases exactly the import the create made; a
 * vector it does not know (created before the patch) gets the original
 * treatment, put_vaddr_frames() and frame_vector_destroy(). Each live
 * vector holds a reference on this module, so it cannot be unloaded while
 * a driver holds one.
 *
 * Disable. Once the patch is disabled through /sys/kernel/livepatch/, the
 * original vb2_destroy_framevec() runs on vectors this module created. As
 * got_ref is false it unpins nothing and just frees the vector: no double
 * release, and no use after free, because the framevec (and with it the
 * memory) is never released. That is a leak, the only safe outcome: the
 * post-unpatch callback logs once how many imports stay held, and their
 * module references keep this module, and framevec, loaded until reboot.
 *
 * Locking. The xarray's own lock; vb2 calls both functions in process
 * context with its queue lock held, and the import takes the mmap lock as
 * get_vaddr_frames() does.
 */
#include <linux/err.h>
#include <linux/framevec.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/xarray.h>
#include <media/frame_vector.h>

/* vector (its address) -> the framevec that holds its frames */
static DEFINE_XARRAY(fv_vb2_vectors);
static atomic_long_t fv_vb2_live = ATOMIC_LONG_INIT(0);
static atomic_long_t fv_vb2_leaked = ATOMIC_LONG_INIT(0);

static int fv_vb2_get_live(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&fv_vb2_live));
}

static int fv_vb2_get_leaked(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&fv_vb2_leaked));
}

static const struct kernel_param_ops fv_vb2_live_ops = { .get = fv_vb2_get_live };
static const struct kernel_param_ops fv_vb2_leaked_ops = { .get = fv_vb2_get_leaked };
module_param_cb(live_vectors, &fv_vb2_live_ops, NULL, 0444);
MODULE_PARM_DESC(live_vectors, "USERPTR frame vectors imported through framevec and not yet released");
module_param_cb(leaked_vectors, &fv_vb2_leaked_ops, NULL, 0444);
MODULE_PARM_DESC(leaked_vectors, "imports still held after the patch was disabled (kept until reboot)");

/* Revocation probe: nothing uses the memory yet, nothing to stop. */
static void fv_vb2_probe_revoke(struct framevec *fv, void *priv)
{
}

/*
 * framevec refused the range. If it would take it with a revoke callback,
 * the memory is revocable, which vb2 cannot honour: say so.
 */
static void fv_vb2_explain_refusal(unsigned long start, unsigned long length,
				   unsigned int flags, int err)
{
	struct framevec *probe;

	if (err != -EOPNOTSUPP)
		return;
	probe = framevec_import(current->mm, start, length, flags,
				fv_vb2_probe_revoke, NULL);
	if (IS_ERR(probe))
		return;
	framevec_release(probe);
	pr_info_ratelimited("framevec_vb2: USERPTR %#lx-%#lx is memory its owner can revoke; refused (EFAULT): vb2 cannot stop DMA on demand\n",
			    start, start + length);
}

/* Pages if every frame is ordinary memory, pfns otherwise. */
static void fv_vb2_fill(struct frame_vector *vec, const struct framevec *fv)
{
	unsigned long *pfns = (unsigned long *)vec->ptrs;
	struct page **pages = (struct page **)vec->ptrs;
	struct framevec_run run;
	struct framevec_iter it;
	bool all_pages = true;
	unsigned int i = 0;
	unsigned long j;
	bool more;

	for (more = framevec_run_first(&it, fv, &run); more;
	     more = framevec_run_next(&it, &run))
		if (run.source != FRAMEVEC_SOURCE_PAGES)
			all_pages = false;

	for (more = framevec_run_first(&it, fv, &run); more;
	     more = framevec_run_next(&it, &run)) {
		for (j = 0; j < run.nr_pages && i < vec->nr_allocated; j++, i++) {
			if (all_pages)
				pages[i] = pfn_to_page(run.pfn + j);
			else
				pfns[i] = run.pfn + j;
		}
	}
	vec->nr_frames = i;
	vec->is_pfns = !all_pages;
	/* the framevec holds the frames: put_vaddr_frames() must not unpin */
	vec->got_ref = false;
}

static struct frame_vector *fv_vb2_create_framevec(unsigned long start,
						   unsigned long length,
						   bool write)
{
	unsigned int flags = write ? FRAMEVEC_WRITE : 0;
	unsigned long first, nr;
	struct frame_vector *vec;
	struct framevec *fv;
	void *old;
	int ret;

	start = untagged_addr(start);
	if (!length || !current->mm)
		return ERR_PTR(-EFAULT);
	first = start >> PAGE_SHIFT;
	nr = ((start + length - 1) >> PAGE_SHIFT) - first + 1;
	/* frame_vector_create()'s own limit, without its WARN */
	if (nr > INT_MAX / sizeof(void *) / 2)
		return ERR_PTR(-ENOMEM);

	fv = framevec_import(current->mm, first << PAGE_SHIFT, nr << PAGE_SHIFT,
			     flags, NULL, NULL);
	if (IS_ERR(fv)) {
		ret = PTR_ERR(fv);
		fv_vb2_explain_refusal(first << PAGE_SHIFT, nr << PAGE_SHIFT,
				       flags, ret);
		/* what get_vaddr_frames() says of memory it cannot take */
		if (ret != -ENOMEM && ret != -EINTR)
			ret = -EFAULT;
		return ERR_PTR(ret);
	}
	if (WARN_ON_ONCE(framevec_nr_pages(fv) != nr)) {
		ret = -EFAULT;
		goto err_release;
	}

	vec = frame_vector_create(nr);
	if (!vec) {
		ret = -ENOMEM;
		goto err_release;
	}
	fv_vb2_fill(vec, fv);

	old = xa_store(&fv_vb2_vectors, (unsigned long)vec, fv, GFP_KERNEL);
	if (xa_is_err(old)) {
		ret = xa_err(old);
		goto err_destroy;
	}
	if (old) {
		/*
		 * A vector of ours that the original destroy freed (a task not
		 * yet switched to the patch): its framevec stays held.
		 */
		atomic_long_dec(&fv_vb2_live);
		atomic_long_inc(&fv_vb2_leaked);
		pr_warn_once("framevec_vb2: a USERPTR buffer was released by the unpatched vb2_destroy_framevec(); its memory stays held until reboot\n");
	}
	__module_get(THIS_MODULE);
	atomic_long_inc(&fv_vb2_live);
	return vec;

err_destroy:
	vec->nr_frames = 0;
	frame_vector_destroy(vec);
err_release:
	framevec_release(fv);
	return ERR_PTR(ret);
}

static void fv_vb2_destroy_framevec(struct frame_vector *vec)
{
	struct framevec *fv = xa_erase(&fv_vb2_vectors, (unsigned long)vec);

	if (!fv) {
		/* not ours: created before the patch, the original way */
		put_vaddr_frames(vec);
		frame_vector_destroy(vec);
		return;
	}
	vec->nr_frames = 0;
	frame_vector_destroy(vec);
	framevec_release(fv);
	atomic_long_dec(&fv_vb2_live);
	/* the enabled patch holds this module too: the return is safe */
	module_put(THIS_MODULE);
}

/*
 * Every task runs the original pair now. Whatever is still in the xarray
 * will be freed by the original destroy, which never releases a framevec:
 * those imports stay held for good.
 */
static void fv_vb2_post_unpatch(struct klp_object *obj)
{
	unsigned long nr = 0, index;
	void *entry;

	xa_for_each(&fv_vb2_vectors, index, entry)
		nr++;
	if (!nr)
		return;
	atomic_long_sub(nr, &fv_vb2_live);
	atomic_long_add(nr, &fv_vb2_leaked);
	pr_warn("framevec_vb2: patch disabled with %lu USERPTR buffer(s) still imported; their memory stays held (leaked) and framevec_vb2 stays loaded until reboot\n",
		nr);
}

static struct klp_func fv_vb2_funcs[] = {
	{
		.old_name = "vb2_create_framevec",
		.new_func = fv_vb2_create_framevec,
	},
	{
		.old_name = "vb2_destroy_framevec",
		.new_func = fv_vb2_destroy_framevec,
	},
	{ }
};

static struct klp_object fv_vb2_objs[] = {
	{
		.name = "videobuf2_memops",
		.funcs = fv_vb2_funcs,
		.callbacks = {
			.post_unpatch = fv_vb2_post_unpatch,
		},
	},
	{ }
};

static struct klp_patch fv_vb2_patch = {
	.mod = THIS_MODULE,
	.objs = fv_vb2_objs,
};

static int __init fv_vb2_init(void)
{
	return klp_enable_patch(&fv_vb2_patch);
}

static void __exit fv_vb2_exit(void)
{
	/* live vectors hold module references: none can be left here */
	WARN_ON(!xa_empty(&fv_vb2_vectors));
	xa_destroy(&fv_vb2_vectors);
}

module_init(fv_vb2_init);
module_exit(fv_vb2_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("framevec: safe USERPTR for unmodified videobuf2 drivers (livepatch)");
MODULE_INFO(livepatch, "Y");
