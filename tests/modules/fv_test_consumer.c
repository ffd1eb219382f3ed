// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_consumer: test-only dma-buf importer, see fv_test_consumer.h.
 *
 * Object: a misc device and a platform device with a 64-bit DMA mask that
 * attaches to dma-bufs. Every ioctl undoes all it did before returning, so
 * it holds nothing between calls.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/uaccess.h>

#include "fv_test_consumer.h"

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
	arg.first_page_pfn = sg_page(sgt->sgl) ? page_to_pfn(sg_page(sgt->sgl)) : 0;
	dma_buf_unmap_attachment_unlocked(attach, sgt, arg.dir);
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long fvtc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FVTC_VMAP_READ:
		return fvtc_cpu(uarg, false);
	case FVTC_VMAP_WRITE:
		return fvtc_cpu(uarg, true);
	case FVTC_MAP:
		return fvtc_map(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations fvtc_fops = {
	.owner = THIS_MODULE,
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
MODULE_DESCRIPTION("framevec test: a dma-buf importer with vmap and device mapping");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
