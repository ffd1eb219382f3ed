// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_vb2mem: drives a videobuf2 allocator's USERPTR memops the way
 * vb2-core does for a queue (get_userptr, cookie or vaddr, put_userptr), on
 * a platform device that DMAs like a simple engine. vivid offers USERPTR
 * only with vb2-vmalloc and no driver using vb2-dma-contig or vb2-dma-sg
 * with USERPTR runs in the VM; this is how the tests reach those
 * allocators' handling of the frame vectors vb2_create_framevec() returns
 * (framevec_vb2's or the kernel's).
 *
 * Object. Per open file, up to FVVM_MAX_BUFS buffers: the allocator's
 * private pointer, its memops, and the vb2_queue/vb2_buffer pair the memops
 * read the DMA direction from. Released on FVVM_PUT or close.
 *
 * Locking. One mutex per file around the slot table.
 */
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <media/videobuf2-core.h>
#include <media/videobuf2-dma-contig.h>
#include <media/videobuf2-dma-sg.h>
#include <media/videobuf2-vmalloc.h>

#include "fv_test_vb2mem.h"

struct fvvm_slot {
	const struct vb2_mem_ops *ops;
	void *priv;
	struct vb2_queue q;
	struct vb2_buffer vb;
	size_t size;
};

struct fvvm_file {
	struct mutex lock;	/* the slots */
	struct fvvm_slot *slots[FVVM_MAX_BUFS];
};

static struct platform_device *fvvm_pdev;

static const struct vb2_mem_ops *fvvm_ops(u32 alloc)
{
	switch (alloc) {
	case FVVM_DMA_CONTIG:
		return &vb2_dma_contig_memops;
	case FVVM_DMA_SG:
		return &vb2_dma_sg_memops;
	case FVVM_VMALLOC:
		return &vb2_vmalloc_memops;
	}
	return NULL;
}

static void fvvm_put(struct fvvm_slot *s)
{
	s->ops->put_userptr(s->priv);
	kfree(s);
}

static int fvvm_get(struct fvvm_file *f, struct fvvm_get *a)
{
	struct fvvm_slot *s;
	unsigned int id;
	void *cookie;

	if (a->dir != DMA_TO_DEVICE && a->dir != DMA_FROM_DEVICE)
		return -EINVAL;
	if (!a->size || a->size > SZ_64M)
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->ops = fvvm_ops(a->alloc);
	if (!s->ops) {
		kfree(s);
		return -EINVAL;
	}
	s->q.dma_dir = a->dir;
	s->vb.vb2_queue = &s->q;
	s->size = a->size;

	mutex_lock(&f->lock);
	for (id = 0; id < FVVM_MAX_BUFS && f->slots[id]; id++)
		;
	if (id == FVVM_MAX_BUFS) {
		mutex_unlock(&f->lock);
		kfree(s);
		return -ENOSPC;
	}
	s->priv = s->ops->get_userptr(&s->vb, &fvvm_pdev->dev, a->addr, a->size);
	if (IS_ERR(s->priv)) {
		int ret = PTR_ERR(s->priv);

		mutex_unlock(&f->lock);
		kfree(s);
		return ret;
	}
	f->slots[id] = s;
	mutex_unlock(&f->lock);

	a->id = id;
	a->nents = 0;
	a->dma_addr = 0;
	if (a->alloc == FVVM_DMA_CONTIG) {
		cookie = s->ops->cookie(&s->vb, s->priv);
		a->nents = 1;
		a->dma_addr = *(dma_addr_t *)cookie;
	} else if (a->alloc == FVVM_DMA_SG) {
		struct sg_table *sgt = s->ops->cookie(&s->vb, s->priv);

		a->nents = sgt->nents;
		a->dma_addr = sg_dma_address(sgt->sgl);
	}
	return 0;
}

static int fvvm_read(struct fvvm_file *f, const struct fvvm_read *a)
{
	struct fvvm_slot *s;
	void *vaddr;
	int ret = 0;

	if (a->id >= FVVM_MAX_BUFS || a->__pad)
		return -EINVAL;
	mutex_lock(&f->lock);
	s = f->slots[a->id];
	if (!s || a->len > s->size) {
		ret = s ? -EINVAL : -ENOENT;
		goto out;
	}
	vaddr = s->ops->vaddr(&s->vb, s->priv);
	if (!vaddr) {
		ret = -ENXIO;
		goto out;
	}
	if (copy_to_user(u64_to_user_ptr(a->buf), vaddr, a->len))
		ret = -EFAULT;
out:
	mutex_unlock(&f->lock);
	return ret;
}

static long fvvm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fvvm_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct fvvm_slot *s;
	struct fvvm_get g;
	struct fvvm_read r;
	u32 id;
	int ret;

	switch (cmd) {
	case FVVM_GET:
		if (copy_from_user(&g, uarg, sizeof(g)))
			return -EFAULT;
		ret = fvvm_get(f, &g);
		if (!ret && copy_to_user(uarg, &g, sizeof(g)))
			ret = -EFAULT;	/* the buffer stays; close releases it */
		return ret;
	case FVVM_READ:
		if (copy_from_user(&r, uarg, sizeof(r)))
			return -EFAULT;
		return fvvm_read(f, &r);
	case FVVM_PUT:
		if (get_user(id, (u32 __user *)uarg))
			return -EFAULT;
		if (id >= FVVM_MAX_BUFS)
			return -EINVAL;
		mutex_lock(&f->lock);
		s = f->slots[id];
		f->slots[id] = NULL;
		mutex_unlock(&f->lock);
		if (!s)
			return -ENOENT;
		fvvm_put(s);
		return 0;
	}
	return -ENOTTY;
}

static int fvvm_open(struct inode *inode, struct file *file)
{
	struct fvvm_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int fvvm_release(struct inode *inode, struct file *file)
{
	struct fvvm_file *f = file->private_data;
	unsigned int i;

	for (i = 0; i < FVVM_MAX_BUFS; i++)
		if (f->slots[i])
			fvvm_put(f->slots[i]);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations fvvm_fops = {
	.owner = THIS_MODULE,
	.open = fvvm_open,
	.release = fvvm_release,
	.unlocked_ioctl = fvvm_ioctl,
};

static struct miscdevice fvvm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fv_test_vb2mem",
	.fops = &fvvm_fops,
	.mode = 0600,
};

static int __init fvvm_init(void)
{
	struct platform_device_info info = {
		.name = "fv_test_vb2mem",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	fvvm_pdev = platform_device_register_full(&info);
	if (IS_ERR(fvvm_pdev))
		return PTR_ERR(fvvm_pdev);
	/* as a vb2 driver does (vb2_dma_contig_set_max_seg_size()) */
	dma_set_max_seg_size(&fvvm_pdev->dev, UINT_MAX);
	ret = misc_register(&fvvm_misc);
	if (ret)
		platform_device_unregister(fvvm_pdev);
	return ret;
}

static void __exit fvvm_exit(void)
{
	misc_deregister(&fvvm_misc);
	platform_device_unregister(fvvm_pdev);
}

module_init(fvvm_init);
module_exit(fvvm_exit);
MODULE_DESCRIPTION("framevec test: a videobuf2 allocator's USERPTR memops, called directly");
MODULE_LICENSE("GPL");
