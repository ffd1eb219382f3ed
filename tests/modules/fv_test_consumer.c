// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_consumer: test-only dma-buf importer, see fv_test_consumer.h.
 *
 * Object: a misc device and a platform device with a 64-bit DMA mask that
 * attaches to dma-bufs. FVTC_VMAP_* and FVTC_MAP undo all they did before
 * returning. The dynamic attachments (FVTC_DYN_*) belong to the open file
 * (struct fvtc_file): each holds a dma-buf reference, an attachment and at
 * most one mapping until FVTC_DYN_DETACH or the file's release.
 *
 * Locking: fvtc_file.lock serializes the ioctls of one file and is taken
 * before the dma-buf's reservation lock. A mapping and its stale mark are
 * changed only under the reservation lock, which move_notify runs under;
 * move_notify takes no lock of ours.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/dma-resv.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fv_test_consumer.h"

struct fvtc_dyn {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;		/* reservation lock */
	enum dma_data_direction dir;	/* reservation lock */
	bool stale;			/* reservation lock */
	const struct sg_table *attach_sgt;	/* compared, never used */
	int last_map_err;
	atomic_t move_notify_calls;
};

struct fvtc_file {
	struct mutex lock; /* the attachments */
	struct fvtc_dyn *dyn[FVTC_MAX_DYN];
};

static struct platform_device *fvtc_pdev;

static long fvtc_cpu(void __user *uarg, bool write)
{
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	struct iosys_map map;
	struct fvtc_cpu arg;
	struct dma_buf *dmabuf;
	unsigned long left;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (arg.offset > dmabuf->size || arg.length > dmabuf->size - arg.offset) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = dma_buf_begin_cpu_access(dmabuf, dir);
	if (ret)
		goto out_put;
	ret = dma_buf_vmap_unlocked(dmabuf, &map);
	if (ret)
		goto out_end_access;
	if (write)
		left = copy_from_user(map.vaddr + arg.offset,
				      u64_to_user_ptr(arg.user_ptr), arg.length);
	else
		left = copy_to_user(u64_to_user_ptr(arg.user_ptr),
				    map.vaddr + arg.offset, arg.length);
	ret = left ? -EFAULT : 0;
	dma_buf_vunmap_unlocked(dmabuf, &map);
out_end_access:
	dma_buf_end_cpu_access(dmabuf, dir);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long fvtc_map(void __user *uarg)
{
	struct dma_buf_attachment *attach;
	struct scatterlist *sg;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	struct fvtc_map arg;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.dir > DMA_FROM_DEVICE)
		return -EINVAL;
	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &fvtc_pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, arg.dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	arg.nents = sgt->nents;
	arg.total = 0;
	for_each_sgtable_dma_sg(sgt, sg, i)
		arg.total += sg_dma_len(sg);
	/* never sg_page() of an exporter's table: CONFIG_DMABUF_DEBUG mangles it */
	arg.first_page_pfn = sgt->nents ? PHYS_PFN(sg_dma_address(sgt->sgl)) : 0;
	dma_buf_unmap_attachment_unlocked(attach, sgt, arg.dir);
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* The exporter moves or revokes the buffer. Reservation lock held. */
static void fvtc_move_notify(struct dma_buf_attachment *attach)
{
	struct fvtc_dyn *dyn = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&dyn->move_notify_calls);
	/* a device would stop using the mapping now; ours never started */
	if (dyn->sgt)
		dyn->stale = true;
}

static const struct dma_buf_attach_ops fvtc_dyn_ops = {
	.allow_peer2peer = false,
	.move_notify = fvtc_move_notify,
};

/* Unmap, detach and drop the dma-buf; @dyn is no longer in a slot */
static void fvtc_dyn_free(struct fvtc_dyn *dyn)
{
	dma_resv_lock(dyn->dmabuf->resv, NULL);
	if (dyn->sgt)
		dma_buf_unmap_attachment(dyn->attach, dyn->sgt, dyn->dir);
	dyn->sgt = NULL;
	dma_resv_unlock(dyn->dmabuf->resv);
	dma_buf_detach(dyn->dmabuf, dyn->attach);
	dma_buf_put(dyn->dmabuf);
	kfree(dyn);
}

static struct fvtc_dyn *fvtc_dyn_lookup(struct fvtc_file *ff, u32 id)
{
	lockdep_assert_held(&ff->lock);
	return id < FVTC_MAX_DYN ? ff->dyn[id] : NULL;
}

static long fvtc_dyn_attach(struct fvtc_file *ff, void __user *uarg)
{
	struct fvtc_dyn_attach arg;
	struct fvtc_dyn *dyn;
	unsigned int id;
	long ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	dyn = kzalloc(sizeof(*dyn), GFP_KERNEL);
	if (!dyn)
		return -ENOMEM;
	atomic_set(&dyn->move_notify_calls, 0);
	dyn->dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dyn->dmabuf)) {
		ret = PTR_ERR(dyn->dmabuf);
		kfree(dyn);
		return ret;
	}
	dyn->attach = dma_buf_dynamic_attach(dyn->dmabuf, &fvtc_pdev->dev,
					     &fvtc_dyn_ops, dyn);
	if (IS_ERR(dyn->attach)) {
		ret = PTR_ERR(dyn->attach);
		dma_buf_put(dyn->dmabuf);
		kfree(dyn);
		return ret;
	}
	/* the core maps at attach time for exporters without pin/unpin */
	dyn->attach_sgt = dyn->attach->sgt;

	mutex_lock(&ff->lock);
	for (id = 0; id < FVTC_MAX_DYN; id++)
		if (!ff->dyn[id])
			break;
	if (id == FVTC_MAX_DYN) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	arg.id = id;
	if (copy_to_user(uarg, &arg, sizeof(arg))) {
		ret = -EFAULT;
		goto err_unlock;
	}
	ff->dyn[id] = dyn;
	mutex_unlock(&ff->lock);
	return 0;

err_unlock:
	mutex_unlock(&ff->lock);
	fvtc_dyn_free(dyn);
	return ret;
}

static long fvtc_dyn_map(struct fvtc_file *ff, void __user *uarg)
{
	struct fvtc_dyn_map arg;
	struct scatterlist *sg;
	struct fvtc_dyn *dyn;
	struct sg_table *sgt;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.dir > DMA_FROM_DEVICE)
		return -EINVAL;
	mutex_lock(&ff->lock);
	dyn = fvtc_dyn_lookup(ff, arg.id);
	if (!dyn) {
		ret = -ENOENT;
		goto out_unlock;
	}
	dma_resv_lock(dyn->dmabuf->resv, NULL);
	if (dyn->sgt) {
		ret = -EBUSY;
	} else {
		sgt = dma_buf_map_attachment(dyn->attach, arg.dir);
		if (IS_ERR(sgt)) {
			ret = PTR_ERR(sgt);
		} else {
			dyn->sgt = sgt;
			dyn->dir = arg.dir;
			dyn->stale = false;
			arg.cached = dyn->attach_sgt && sgt == dyn->attach_sgt;
			arg.nents = sgt->nents;
			arg.total = 0;
			for_each_sgtable_dma_sg(sgt, sg, i)
				arg.total += sg_dma_len(sg);
		}
		dyn->last_map_err = ret;
	}
	dma_resv_unlock(dyn->dmabuf->resv);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&ff->lock);
	return ret;
}

static long fvtc_dyn_unmap(struct fvtc_file *ff, void __user *uarg)
{
	struct fvtc_dyn *dyn;
	long ret = 0;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&ff->lock);
	dyn = fvtc_dyn_lookup(ff, id);
	if (!dyn) {
		ret = -ENOENT;
		goto out_unlock;
	}
	dma_resv_lock(dyn->dmabuf->resv, NULL);
	if (dyn->sgt)
		dma_buf_unmap_attachment(dyn->attach, dyn->sgt, dyn->dir);
	else
		ret = -EINVAL;
	dyn->sgt = NULL;
	dyn->stale = false;
	dma_resv_unlock(dyn->dmabuf->resv);
out_unlock:
	mutex_unlock(&ff->lock);
	return ret;
}

static long fvtc_dyn_detach(struct fvtc_file *ff, void __user *uarg)
{
	struct fvtc_dyn *dyn;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&ff->lock);
	dyn = fvtc_dyn_lookup(ff, id);
	if (dyn)
		ff->dyn[id] = NULL;
	mutex_unlock(&ff->lock);
	if (!dyn)
		return -ENOENT;
	fvtc_dyn_free(dyn);
	return 0;
}

static long fvtc_dyn_status(struct fvtc_file *ff, void __user *uarg)
{
	struct fvtc_dyn_status arg;
	struct fvtc_dyn *dyn;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	mutex_lock(&ff->lock);
	dyn = fvtc_dyn_lookup(ff, arg.id);
	if (!dyn) {
		mutex_unlock(&ff->lock);
		return -ENOENT;
	}
	dma_resv_lock(dyn->dmabuf->resv, NULL);
	arg.move_notify_calls = atomic_read(&dyn->move_notify_calls);
	arg.last_map_err = dyn->last_map_err;
	arg.mapped = !!dyn->sgt;
	arg.cached_at_attach = !!dyn->attach_sgt;
	arg.stale = dyn->stale;
	arg.__pad = 0;
	dma_resv_unlock(dyn->dmabuf->resv);
	mutex_unlock(&ff->lock);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long fvtc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fvtc_file *ff = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FVTC_VMAP_READ:
		return fvtc_cpu(uarg, false);
	case FVTC_VMAP_WRITE:
		return fvtc_cpu(uarg, true);
	case FVTC_MAP:
		return fvtc_map(uarg);
	case FVTC_DYN_ATTACH:
		return fvtc_dyn_attach(ff, uarg);
	case FVTC_DYN_MAP:
		return fvtc_dyn_map(ff, uarg);
	case FVTC_DYN_UNMAP:
		return fvtc_dyn_unmap(ff, uarg);
	case FVTC_DYN_DETACH:
		return fvtc_dyn_detach(ff, uarg);
	case FVTC_DYN_STATUS:
		return fvtc_dyn_status(ff, uarg);
	default:
		return -ENOTTY;
	}
}

static int fvtc_open(struct inode *inode, struct file *file)
{
	struct fvtc_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	mutex_init(&ff->lock);
	file->private_data = ff;
	return 0;
}

static int fvtc_release(struct inode *inode, struct file *file)
{
	struct fvtc_file *ff = file->private_data;
	unsigned int id;

	/* last reference to the file: no ioctl runs */
	for (id = 0; id < FVTC_MAX_DYN; id++)
		if (ff->dyn[id])
			fvtc_dyn_free(ff->dyn[id]);
	mutex_destroy(&ff->lock);
	kfree(ff);
	return 0;
}

static const struct file_operations fvtc_fops = {
	.owner = THIS_MODULE,
	.open = fvtc_open,
	.release = fvtc_release,
	.unlocked_ioctl = fvtc_ioctl,
};

static struct miscdevice fvtc_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fv_test_consumer",
	.fops = &fvtc_fops,
	.mode = 0600,
};

static int __init fvtc_init(void)
{
	struct platform_device_info info = {
		.name = "fv_test_consumer",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	fvtc_pdev = platform_device_register_full(&info);
	if (IS_ERR(fvtc_pdev))
		return PTR_ERR(fvtc_pdev);
	/* like a device with a scatter-gather engine: no segment size limit */
	dma_set_max_seg_size(&fvtc_pdev->dev, UINT_MAX);
	ret = misc_register(&fvtc_misc);
	if (ret)
		goto err_unregister_pdev;
	return 0;

err_unregister_pdev:
	platform_device_unregister(fvtc_pdev);
	return ret;
}

static void __exit fvtc_exit(void)
{
	misc_deregister(&fvtc_misc);
	platform_device_unregister(fvtc_pdev);
}

module_init(fvtc_init);
module_exit(fvtc_exit);
MODULE_DESCRIPTION("framevec test: a dma-buf importer with vmap and static or dynamic device mapping");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
