// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_edu: test driver for QEMU's edu device (1234:11e8), see
 * fv_test_edu.h. Each FVTE_COPY attaches the device to a dma-buf, maps it,
 * runs two DMA transfers through the edu's 4 KiB buffer (dma-buf -> device,
 * device -> dma-buf) and undoes everything before returning. With the
 * emulated Intel IOMMU in strict mode, every access outside the mapping
 * is a DMAR fault, which fails the test run.
 *
 * Dynamic mode: struct edu_file, one per open file, holds a dynamic
 * attachment (FVTE_DYN_ATTACH until FVTE_DYN_DETACH or close) and the
 * mapping made by the last transfer; move_notify marks it stale and the
 * next transfer maps again before it starts any DMA.
 *
 * Locking: edu_lock serializes use of the device's single DMA engine.
 * edu_file.lock serializes the ioctls of a file; then the dma-buf's
 * reservation lock, under which a dynamic transfer runs and move_notify is
 * called (it takes nothing); then edu_lock.
 */
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/dma-resv.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fv_test_edu.h"

#define EDU_ID			0x00
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_START		BIT(0)
#define EDU_DMA_FROM_EDU	BIT(1)
#define EDU_BUFFER		0x40000
#define EDU_BUFFER_SIZE		4096

static struct pci_dev *edu_pdev;
static void __iomem *edu_regs;
static DEFINE_MUTEX(edu_lock);

struct edu_file {
	struct mutex lock; /* the attachment */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;	/* reservation lock */
	bool stale;		/* reservation lock */
	int last_map_err;
	u32 maps;
	atomic_t move_notify_calls;
};

/* Bus address of byte @off of the mapped table, if [off, off + len) is in one entry */
static int edu_dma_addr(struct sg_table *sgt, u64 off, u32 len, dma_addr_t *addr)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (off < sg_dma_len(sg)) {
			if (off + len > sg_dma_len(sg))
				return -EINVAL;
			*addr = sg_dma_address(sg) + off;
			return 0;
		}
		off -= sg_dma_len(sg);
	}
	return -EINVAL;
}

static int edu_dma(dma_addr_t src, dma_addr_t dst, u32 len, u32 cmd)
{
	u64 val;

	writeq(src, edu_regs + EDU_DMA_SRC);
	writeq(dst, edu_regs + EDU_DMA_DST);
	writeq(len, edu_regs + EDU_DMA_COUNT);
	writeq(cmd | EDU_DMA_START, edu_regs + EDU_DMA_CMD);
	return readq_poll_timeout(edu_regs + EDU_DMA_CMD, val, !(val & EDU_DMA_START),
				  100, 5 * USEC_PER_SEC);
}

static long edu_copy(void __user *uarg)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct fvte_copy arg;
	struct sg_table *sgt;
	dma_addr_t src, dst;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || arg.len > EDU_BUFFER_SIZE)
		return -EINVAL;
	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &edu_pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	ret = edu_dma_addr(sgt, arg.src, arg.len, &src);
	if (!ret)
		ret = edu_dma_addr(sgt, arg.dst, arg.len, &dst);
	if (ret)
		goto out_unmap;

	mutex_lock(&edu_lock);
	ret = edu_dma(src, EDU_BUFFER, arg.len, 0);
	if (!ret)
		ret = edu_dma(EDU_BUFFER, dst, arg.len, EDU_DMA_FROM_EDU);
	mutex_unlock(&edu_lock);
	arg.dma_src = src;
	arg.dma_dst = dst;
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_unmap:
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_BIDIRECTIONAL);
out_detach:
	dma_buf_detach(dmabuf, attach);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* The exporter moves or revokes the buffer. Reservation lock held. */
static void edu_move_notify(struct dma_buf_attachment *attach)
{
	struct edu_file *ef = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&ef->move_notify_calls);
	/* no transfer runs now (they hold the lock): the next one maps again */
	if (ef->sgt)
		ef->stale = true;
}

static const struct dma_buf_attach_ops edu_dyn_ops = {
	.allow_peer2peer = false,
	.move_notify = edu_move_notify,
};

/* Unmap and detach; ef->lock held or the file gone */
static void edu_dyn_detach(struct edu_file *ef)
{
	if (!ef->dmabuf)
		return;
	dma_resv_lock(ef->dmabuf->resv, NULL);
	if (ef->sgt)
		dma_buf_unmap_attachment(ef->attach, ef->sgt, DMA_BIDIRECTIONAL);
	ef->sgt = NULL;
	ef->stale = false;
	dma_resv_unlock(ef->dmabuf->resv);
	dma_buf_detach(ef->dmabuf, ef->attach);
	dma_buf_put(ef->dmabuf);
	ef->dmabuf = NULL;
	ef->attach = NULL;
}

static long edu_dyn_attach(struct edu_file *ef, int __user *uarg)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	long ret = 0;
	int fd;

	if (get_user(fd, uarg))
		return -EFAULT;
	mutex_lock(&ef->lock);
	if (ef->dmabuf) {
		ret = -EBUSY;
		goto out_unlock;
	}
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_unlock;
	}
	attach = dma_buf_dynamic_attach(dmabuf, &edu_pdev->dev, &edu_dyn_ops, ef);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		dma_buf_put(dmabuf);
		goto out_unlock;
	}
	ef->dmabuf = dmabuf;
	ef->attach = attach;
	ef->maps = 0;
	ef->last_map_err = 0;
	atomic_set(&ef->move_notify_calls, 0);
out_unlock:
	mutex_unlock(&ef->lock);
	return ret;
}

/* Map the attachment unless a valid mapping is held. Reservation lock held. */
static int edu_dyn_map(struct edu_file *ef)
{
	struct sg_table *sgt;

	dma_resv_assert_held(ef->dmabuf->resv);
	if (ef->sgt && ef->stale) {
		dma_buf_unmap_attachment(ef->attach, ef->sgt, DMA_BIDIRECTIONAL);
		ef->sgt = NULL;
	}
	ef->stale = false;
	if (ef->sgt)
		return 0;
	sgt = dma_buf_map_attachment(ef->attach, DMA_BIDIRECTIONAL);
	ef->last_map_err = PTR_ERR_OR_ZERO(sgt);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	ef->sgt = sgt;
	ef->maps++;
	return 0;
}

static long edu_dyn_dma(struct edu_file *ef, void __user *uarg)
{
	const u32 known = FVTE_CHUNK_TO_DEVICE | FVTE_CHUNK_FROM_DEVICE;
	dma_addr_t src = 0, dst = 0;
	struct fvte_chunk arg;
	long ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || arg.len > EDU_BUFFER_SIZE || !arg.flags || (arg.flags & ~known))
		return -EINVAL;
	mutex_lock(&ef->lock);
	if (!ef->dmabuf) {
		ret = -ENOENT;
		goto out_unlock;
	}
	dma_resv_lock(ef->dmabuf->resv, NULL);
	ret = edu_dyn_map(ef);
	if (!ret && (arg.flags & FVTE_CHUNK_TO_DEVICE))
		ret = edu_dma_addr(ef->sgt, arg.src, arg.len, &src);
	if (!ret && (arg.flags & FVTE_CHUNK_FROM_DEVICE))
		ret = edu_dma_addr(ef->sgt, arg.dst, arg.len, &dst);
	if (!ret) {
		mutex_lock(&edu_lock);
		if (arg.flags & FVTE_CHUNK_TO_DEVICE)
			ret = edu_dma(src, EDU_BUFFER, arg.len, 0);
		if (!ret && (arg.flags & FVTE_CHUNK_FROM_DEVICE))
			ret = edu_dma(EDU_BUFFER, dst, arg.len, EDU_DMA_FROM_EDU);
		mutex_unlock(&edu_lock);
	}
	dma_resv_unlock(ef->dmabuf->resv);
	arg.dma_src = src;
	arg.dma_dst = dst;
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&ef->lock);
	return ret;
}

static long edu_dyn_status(struct edu_file *ef, void __user *uarg)
{
	struct fvte_dyn_status st = {};

	mutex_lock(&ef->lock);
	if (!ef->dmabuf) {
		mutex_unlock(&ef->lock);
		return -ENOENT;
	}
	dma_resv_lock(ef->dmabuf->resv, NULL);
	st.move_notify_calls = atomic_read(&ef->move_notify_calls);
	st.maps = ef->maps;
	st.last_map_err = ef->last_map_err;
	st.mapped = !!ef->sgt;
	st.stale = ef->stale;
	dma_resv_unlock(ef->dmabuf->resv);
	mutex_unlock(&ef->lock);
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_file *ef = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	switch (cmd) {
	case FVTE_COPY:
		return edu_copy(uarg);
	case FVTE_DYN_ATTACH:
		return edu_dyn_attach(ef, uarg);
	case FVTE_DYN_DMA:
		return edu_dyn_dma(ef, uarg);
	case FVTE_DYN_DETACH:
		mutex_lock(&ef->lock);
		ret = ef->dmabuf ? 0 : -ENOENT;
		edu_dyn_detach(ef);
		mutex_unlock(&ef->lock);
		return ret;
	case FVTE_DYN_STATUS:
		return edu_dyn_status(ef, uarg);
	default:
		return -ENOTTY;
	}
}

static int edu_open(struct inode *inode, struct file *file)
{
	struct edu_file *ef = kzalloc(sizeof(*ef), GFP_KERNEL);

	if (!ef)
		return -ENOMEM;
	mutex_init(&ef->lock);
	atomic_set(&ef->move_notify_calls, 0);
	file->private_data = ef;
	return 0;
}

static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_file *ef = file->private_data;

	/* last reference to the file: no ioctl runs */
	edu_dyn_detach(ef);
	mutex_destroy(&ef->lock);
	kfree(ef);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner = THIS_MODULE,
	.open = edu_open,
	.release = edu_release,
	.unlocked_ioctl = edu_ioctl,
};

static struct miscdevice edu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fv_test_edu",
	.fops = &edu_fops,
	.mode = 0600,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	if (edu_pdev)
		return -EBUSY;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "fv_test_edu");
	if (ret)
		return ret;
	/* the edu device addresses 28 bits by default */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	pci_set_master(pdev);
	edu_regs = pcim_iomap_table(pdev)[0];
	dev_info(&pdev->dev, "edu id %#x\n", readl(edu_regs + EDU_ID));
	edu_pdev = pdev;
	ret = misc_register(&edu_misc);
	if (ret)
		edu_pdev = NULL;
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	misc_deregister(&edu_misc);
	edu_pdev = NULL;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "fv_test_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("framevec test: QEMU edu device DMA through a dma-buf");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
