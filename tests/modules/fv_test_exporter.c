// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_exporter: a test-only driver that exports memory the way a capture
 * device does, through framevec's iomem helper: dma_alloc_coherent() buffers
 * (RAM) and BAR2 of QEMU's ivshmem-plain device (MMIO). The ioctls are in
 * fv_test_exporter.h.
 *
 * Object. struct texp_buf is one exported buffer and the priv of its
 * framevec_iomem object. The open file holds the driver's reference on the
 * object, by handle, until FV_TEXP_IOC_FREE or close.
 *
 * Lifetime. A buffer's memory is hashed (for the tests), poisoned with 0x6b
 * and freed exactly once: by the object's release callback when the last
 * reference (driver, VMA or importer) goes, or earlier by FV_TEXP_FREE_NOW
 * or the PCI remove, both only after framevec_iomem_revoke(). The texp_buf
 * itself is freed by the release callback. A write-combined or uncached
 * buffer (FV_TEXP_ALLOC_WC/_UC) is made write-back again just before its
 * memory is freed. With FV_TEXP_FREE_QUARANTINE the
 * poisoned pages of a coherent buffer move to a struct texp_quarantine of
 * the open file instead of going back to the allocator; they are checked
 * against the poison and freed by FV_TEXP_IOC_CHECK_FREED or at close.
 *
 * Locking. Handle tables use their xarray's lock; a lookup takes a reference
 * on the object under it. texp_lock protects the ivshmem state and the BAR
 * buffers' list and memory; it is taken by the release callback, which can
 * run under a mmap lock, so it is never held across a user copy.
 * texp_file.qlock protects the file's quarantine list; it is taken before
 * texp_lock and never under a mmap lock.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/framevec_iomem.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "fv_test_exporter.h"

#define TEXP_NAME		"fv_test_exporter"
#define TEXP_MAX_PAGES		1024
#define TEXP_BAR		2
#define TEXP_PGOFF_BITS		(FV_TEXP_HANDLE_SHIFT - PAGE_SHIFT)
#define FNV_BASIS		0xcbf29ce484222325ULL
#define FNV_PRIME		0x100000001b3ULL

struct texp_chunk {
	void *cpu;
	dma_addr_t dma;
};

struct texp_buf {
	struct framevec_iomem *iomem;
	struct list_head bar_node;
	bool is_bar;
	bool memory_freed;
	u32 cache;		/* 0, FV_TEXP_ALLOC_WC or FV_TEXP_ALLOC_UC */
	size_t chunk_size;
	unsigned int nr_chunks;
	struct texp_chunk chunks[] __counted_by(nr_chunks);
};

/* Poisoned pages of a freed coherent buffer, kept aside until checked */
struct texp_quarantine {
	struct list_head node;
	u32 handle;
	size_t chunk_size;
	unsigned int nr_chunks;
	struct texp_chunk chunks[] __counted_by(nr_chunks);
};

struct texp_file {
	struct xarray bufs;
	struct mutex qlock; /* quarantine */
	struct list_head quarantine;
};

static struct platform_device *texp_pdev;

static DEFINE_MUTEX(texp_lock);
static struct pci_dev *texp_pci;
static void __iomem *texp_bar_va;
static LIST_HEAD(texp_bar_bufs);

static atomic64_t texp_live, texp_frees, texp_last_hash, texp_last_pages;

static u64 texp_fnv(u64 h, const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/*
 * The linear mapping of a chunk set to @cache (0: write-back). Not on
 * arm64, which cannot change the memory type of its linear mapping.
 */
static int texp_set_cache(void *cpu, size_t size, u32 cache)
{
#ifdef CONFIG_X86
	unsigned long va = (unsigned long)cpu;
	int n = size >> PAGE_SHIFT;

	if (cache == FV_TEXP_ALLOC_WC)
		return set_memory_wc(va, n);
	if (cache == FV_TEXP_ALLOC_UC)
		return set_memory_uc(va, n);
	return set_memory_wb(va, n);
#else
	return cache ? -EOPNOTSUPP : 0;
#endif
}

/* Free the chunks; those of a WC/UC buffer are made write-back first */
static void texp_free_chunks(struct texp_buf *buf)
{
	unsigned int i;

	for (i = 0; i < buf->nr_chunks; i++) {
		if (!buf->chunks[i].cpu)
			continue;
		/* a chunk that cannot be made write-back again is leaked */
		if (buf->cache && WARN_ON(texp_set_cache(buf->chunks[i].cpu, buf->chunk_size, 0)))
			continue;
		dma_free_coherent(&texp_pdev->dev, buf->chunk_size,
				  buf->chunks[i].cpu, buf->chunks[i].dma);
	}
}

/* Hash the BAR's bytes, then poison them. */
static u64 texp_poison_bar(size_t size)
{
	u64 h = FNV_BASIS;
	size_t off;
	u8 *page;

	lockdep_assert_held(&texp_lock);
	page = kmalloc(PAGE_SIZE, GFP_KERNEL);
	for (off = 0; page && off < size; off += PAGE_SIZE) {
		memcpy_fromio(page, texp_bar_va + off, PAGE_SIZE);
		h = texp_fnv(h, page, PAGE_SIZE);
	}
	kfree(page);
	memset_io(texp_bar_va, FV_TEXP_POISON, size);
	return h;
}

/*
 * Hash, poison and free the buffer's memory. Called once per buffer. With
 * @q (coherent buffers only), the poisoned chunks move to @q instead of
 * being freed.
 */
static void texp_free_memory(struct texp_buf *buf, struct texp_quarantine *q)
{
	size_t size = buf->chunk_size * buf->nr_chunks;
	u64 h = FNV_BASIS;
	unsigned int i;

	if (buf->is_bar) {
		h = texp_poison_bar(size);
	} else {
		for (i = 0; i < buf->nr_chunks; i++)
			h = texp_fnv(h, buf->chunks[i].cpu, buf->chunk_size);
		for (i = 0; i < buf->nr_chunks; i++)
			memset(buf->chunks[i].cpu, FV_TEXP_POISON, buf->chunk_size);
		if (q) {
			q->chunk_size = buf->chunk_size;
			q->nr_chunks = buf->nr_chunks;
			for (i = 0; i < buf->nr_chunks; i++) {
				q->chunks[i] = buf->chunks[i];
				buf->chunks[i].cpu = NULL;
			}
		} else {
			texp_free_chunks(buf);
		}
	}
	buf->memory_freed = true;
	atomic64_set(&texp_last_hash, h);
	atomic64_set(&texp_last_pages, size >> PAGE_SHIFT);
	atomic64_inc(&texp_frees);
	atomic64_dec(&texp_live);
}

/* The iomem object's last reference is gone: nobody can reach the memory. */
static void texp_release(struct framevec_iomem *iomem, void *priv)
{
	struct texp_buf *buf = priv;

	if (buf->is_bar) {
		mutex_lock(&texp_lock);
		if (!buf->memory_freed)
			texp_free_memory(buf, NULL);
		list_del(&buf->bar_node);
		mutex_unlock(&texp_lock);
	} else if (!buf->memory_freed) {
		texp_free_memory(buf, NULL);
	}
	kfree(buf);
}

/* Give the buffer a handle in @tf (its mmap offset stays a positive off_t). */
static int texp_add_handle(struct texp_file *tf, struct texp_buf *buf, u32 *handle)
{
	return xa_alloc(&tf->bufs, handle, buf, XA_LIMIT(1, S32_MAX), GFP_KERNEL);
}

/* Look a buffer up and take a reference on its object; NULL if none. */
static struct texp_buf *texp_get(struct texp_file *tf, unsigned long handle)
{
	struct texp_buf *buf;

	xa_lock(&tf->bufs);
	buf = xa_load(&tf->bufs, handle);
	if (buf)
		framevec_iomem_get(buf->iomem);
	xa_unlock(&tf->bufs);
	return buf;
}

/* Undo texp_add_handle() after a failed copy to user space. */
static void texp_drop_handle(struct texp_file *tf, u32 handle)
{
	struct texp_buf *buf = xa_erase(&tf->bufs, handle);

	if (buf)
		framevec_iomem_put(buf->iomem);
}

static long texp_ioctl_alloc(struct texp_file *tf, void __user *uarg)
{
	struct framevec_iomem_range ranges[FV_TEXP_MAX_CHUNKS];
	struct fv_texp_alloc args;
	struct framevec_iomem *iomem;
	struct texp_buf *buf;
	unsigned int i;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (!args.nr_pages || args.nr_pages > TEXP_MAX_PAGES || !args.nr_chunks ||
	    args.nr_chunks > FV_TEXP_MAX_CHUNKS || args.nr_pages % args.nr_chunks ||
	    (args.flags & ~(FV_TEXP_ALLOC_WC | FV_TEXP_ALLOC_UC)) ||
	    args.flags == (FV_TEXP_ALLOC_WC | FV_TEXP_ALLOC_UC))
		return -EINVAL;

	buf = kzalloc(struct_size(buf, chunks, args.nr_chunks), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->nr_chunks = args.nr_chunks;
	buf->chunk_size = (size_t)(args.nr_pages / args.nr_chunks) << PAGE_SHIFT;
	for (i = 0; i < buf->nr_chunks; i++) {
		struct texp_chunk *c = &buf->chunks[i];

		c->cpu = dma_alloc_coherent(&texp_pdev->dev, buf->chunk_size, &c->dma,
					    GFP_KERNEL);
		if (!c->cpu) {
			ret = -ENOMEM;
			goto err_free_chunks;
		}
		/* remapped coherent memory has no linear physical address */
		if (is_vmalloc_addr(c->cpu)) {
			ret = -EOPNOTSUPP;
			goto err_free_chunks;
		}
		if (args.flags) {
			ret = texp_set_cache(c->cpu, buf->chunk_size, args.flags);
			if (ret)
				goto err_free_chunks;
			/* from here texp_free_chunks() restores every chunk */
			buf->cache = args.flags;
		}
		ranges[i].phys = virt_to_phys(c->cpu);
		ranges[i].size = buf->chunk_size;
	}

	iomem = framevec_iomem_create(&texp_pdev->dev, FRAMEVEC_MEM_RAM, ranges,
				      buf->nr_chunks, texp_release, buf);
	if (IS_ERR(iomem)) {
		ret = PTR_ERR(iomem);
		goto err_free_chunks;
	}
	buf->iomem = iomem;
	atomic64_inc(&texp_live);
	/* from here the object owns buf: its release frees the memory */
	ret = texp_add_handle(tf, buf, &args.handle);
	if (ret) {
		framevec_iomem_put(iomem);
		return ret;
	}
	args.mmap_offset = (u64)args.handle << FV_TEXP_HANDLE_SHIFT;
	args.phys = ranges[0].phys;
	if (copy_to_user(uarg, &args, sizeof(args))) {
		texp_drop_handle(tf, args.handle);
		return -EFAULT;
	}
	return 0;

err_free_chunks:
	texp_free_chunks(buf);
	kfree(buf);
	return ret;
}

static long texp_ioctl_bar(struct texp_file *tf, void __user *uarg)
{
	struct framevec_iomem_range range;
	struct fv_texp_bar args = {};
	struct framevec_iomem *iomem;
	struct texp_buf *buf;
	int ret;

	buf = kzalloc(struct_size(buf, chunks, 1), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->is_bar = true;
	buf->nr_chunks = 1;

	mutex_lock(&texp_lock);
	if (!texp_pci) {
		ret = -ENODEV;
		goto err_unlock;
	}
	range.phys = pci_resource_start(texp_pci, TEXP_BAR);
	range.size = pci_resource_len(texp_pci, TEXP_BAR);
	buf->chunk_size = range.size;
	iomem = framevec_iomem_create(&texp_pci->dev, FRAMEVEC_MEM_MMIO, &range, 1,
				      texp_release, buf);
	if (IS_ERR(iomem)) {
		ret = PTR_ERR(iomem);
		goto err_unlock;
	}
	buf->iomem = iomem;
	list_add_tail(&buf->bar_node, &texp_bar_bufs);
	atomic64_inc(&texp_live);
	mutex_unlock(&texp_lock);

	ret = texp_add_handle(tf, buf, &args.handle);
	if (ret) {
		framevec_iomem_put(iomem);
		return ret;
	}
	args.mmap_offset = (u64)args.handle << FV_TEXP_HANDLE_SHIFT;
	args.phys = range.phys;
	args.size = range.size;
	if (copy_to_user(uarg, &args, sizeof(args))) {
		texp_drop_handle(tf, args.handle);
		return -EFAULT;
	}
	return 0;

err_unlock:
	mutex_unlock(&texp_lock);
	kfree(buf);
	return ret;
}

static long texp_ioctl_revoke(struct texp_file *tf, void __user *uarg)
{
	struct texp_buf *buf;
	u32 handle;

	if (get_user(handle, (u32 __user *)uarg))
		return -EFAULT;
	buf = texp_get(tf, handle);
	if (!buf)
		return -ENOENT;
	framevec_iomem_revoke(buf->iomem);
	framevec_iomem_put(buf->iomem);
	return 0;
}

/* The quarantine entry of @handle, or NULL */
static struct texp_quarantine *texp_quarantine_find(struct texp_file *tf, u32 handle)
{
	struct texp_quarantine *q;

	lockdep_assert_held(&tf->qlock);
	list_for_each_entry(q, &tf->quarantine, node)
		if (q->handle == handle)
			return q;
	return NULL;
}

static void texp_quarantine_free(struct texp_quarantine *q)
{
	unsigned int i;

	for (i = 0; i < q->nr_chunks; i++)
		dma_free_coherent(&texp_pdev->dev, q->chunk_size, q->chunks[i].cpu,
				  q->chunks[i].dma);
	kfree(q);
}

static long texp_ioctl_free(struct texp_file *tf, void __user *uarg)
{
	struct texp_quarantine *q = NULL;
	struct fv_texp_free args;
	struct texp_buf *buf;
	long ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(FV_TEXP_FREE_NOW | FV_TEXP_FREE_QUARANTINE))
		return -EINVAL;
	if ((args.flags & FV_TEXP_FREE_QUARANTINE) && !(args.flags & FV_TEXP_FREE_NOW))
		return -EINVAL;
	if (args.flags & FV_TEXP_FREE_QUARANTINE) {
		/* room for any buffer; filled by texp_free_memory() */
		q = kzalloc(struct_size(q, chunks, FV_TEXP_MAX_CHUNKS), GFP_KERNEL);
		if (!q)
			return -ENOMEM;
		q->handle = args.handle;
		mutex_lock(&tf->qlock);
		if (texp_quarantine_find(tf, args.handle)) {
			ret = -EEXIST;
			goto out_unlock_q;
		}
	}

	xa_lock(&tf->bufs);
	buf = xa_load(&tf->bufs, args.handle);
	if (!buf)
		ret = -ENOENT;
	/* the memory may go before the object only once nothing can reach it */
	else if ((args.flags & FV_TEXP_FREE_NOW) && !framevec_iomem_is_revoked(buf->iomem))
		ret = -EBUSY;
	/* the BAR stays the device's: only its content is poisoned */
	else if (q && (buf->is_bar || buf->cache))
		ret = -EINVAL;
	else
		__xa_erase(&tf->bufs, args.handle);
	xa_unlock(&tf->bufs);
	if (ret)
		goto out_unlock_q;

	if (args.flags & FV_TEXP_FREE_NOW) {
		mutex_lock(&texp_lock);
		if (!buf->memory_freed)
			texp_free_memory(buf, q);
		mutex_unlock(&texp_lock);
	}
	if (q) {
		list_add_tail(&q->node, &tf->quarantine);
		mutex_unlock(&tf->qlock);
	}
	framevec_iomem_put(buf->iomem);
	return 0;

out_unlock_q:
	if (q) {
		mutex_unlock(&tf->qlock);
		kfree(q);
	}
	return ret;
}

static long texp_ioctl_check_freed(struct texp_file *tf, void __user *uarg)
{
	struct fv_texp_check_freed args;
	struct texp_quarantine *q;
	unsigned int i;
	size_t off;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	mutex_lock(&tf->qlock);
	q = texp_quarantine_find(tf, args.handle);
	if (q)
		list_del(&q->node);
	mutex_unlock(&tf->qlock);
	if (!q)
		return -ENOENT;

	args.nr_pages = (q->chunk_size * q->nr_chunks) >> PAGE_SHIFT;
	args.changed = 0;
	args.first_changed = U64_MAX;
	for (i = 0; i < q->nr_chunks; i++) {
		const u8 *p = q->chunks[i].cpu;

		for (off = 0; off < q->chunk_size; off++) {
			if (READ_ONCE(p[off]) == FV_TEXP_POISON)
				continue;
			if (!args.changed++)
				args.first_changed = (u64)i * q->chunk_size + off;
		}
	}
	texp_quarantine_free(q);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static long texp_ioctl_stats(void __user *uarg)
{
	struct fv_texp_stats st = {
		.live_buffers = atomic64_read(&texp_live),
		.frees = atomic64_read(&texp_frees),
		.last_free_hash = atomic64_read(&texp_last_hash),
		.last_free_pages = atomic64_read(&texp_last_pages),
	};

	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static void texp_move_notify(struct dma_buf_attachment *attach)
{
	/* the probe unmaps before it returns: nothing to invalidate */
}

static const struct dma_buf_attach_ops texp_attach_ops = {
	.allow_peer2peer = true,
	.move_notify = texp_move_notify,
};

static long texp_ioctl_dma_probe(void __user *uarg)
{
	struct dma_buf_attachment *attach;
	struct fv_texp_dma_probe args;
	struct pci_dev *pdev = NULL;
	struct dma_buf *dmabuf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct device *dev;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	if (args.use_pci) {
		mutex_lock(&texp_lock);
		pdev = pci_dev_get(texp_pci);
		mutex_unlock(&texp_lock);
		if (!pdev)
			return -ENODEV;
		dev = &pdev->dev;
	} else {
		dev = &texp_pdev->dev;
	}
	dmabuf = dma_buf_get(args.dmabuf_fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_put_pci;
	}
	attach = dma_buf_dynamic_attach(dmabuf, dev, &texp_attach_ops, NULL);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put_dmabuf;
	}

	args.nents = 0;
	args.max_seg_size = dma_get_max_seg_size(dev);
	args.total_len = 0;
	args.first_dma = 0;
	args.contiguous = 1;
	dma_resv_lock(dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
	} else {
		for_each_sgtable_dma_sg(sgt, sg, i) {
			if (!args.nents++)
				args.first_dma = sg_dma_address(sg);
			else if (sg_dma_address(sg) != args.first_dma + args.total_len)
				args.contiguous = 0;
			args.total_len += sg_dma_len(sg);
		}
		dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	}
	dma_resv_unlock(dmabuf->resv);
	dma_buf_detach(dmabuf, attach);
	if (!ret && copy_to_user(uarg, &args, sizeof(args)))
		ret = -EFAULT;
out_put_dmabuf:
	dma_buf_put(dmabuf);
out_put_pci:
	pci_dev_put(pdev);
	return ret;
}

static long texp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct texp_file *tf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FV_TEXP_IOC_ALLOC:
		return texp_ioctl_alloc(tf, uarg);
	case FV_TEXP_IOC_BAR:
		return texp_ioctl_bar(tf, uarg);
	case FV_TEXP_IOC_REVOKE:
		return texp_ioctl_revoke(tf, uarg);
	case FV_TEXP_IOC_FREE:
		return texp_ioctl_free(tf, uarg);
	case FV_TEXP_IOC_STATS:
		return texp_ioctl_stats(uarg);
	case FV_TEXP_IOC_DMA_PROBE:
		return texp_ioctl_dma_probe(uarg);
	case FV_TEXP_IOC_CHECK_FREED:
		return texp_ioctl_check_freed(tf, uarg);
	default:
		return -ENOTTY;
	}
}

/* mmap offset: handle << FV_TEXP_HANDLE_SHIFT, plus pages into the buffer */
static int texp_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct texp_file *tf = file->private_data;
	unsigned long pgoff = vma->vm_pgoff & (BIT(TEXP_PGOFF_BITS) - 1);
	struct texp_buf *buf;
	int ret;

	buf = texp_get(tf, vma->vm_pgoff >> TEXP_PGOFF_BITS);
	if (!buf)
		return -EINVAL;
	/* RAM keeps the protection set here (framevec_iomem_mmap()) */
	if (buf->cache == FV_TEXP_ALLOC_WC)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	else if (buf->cache == FV_TEXP_ALLOC_UC)
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	ret = framevec_iomem_mmap(buf->iomem, vma, pgoff);
	/* on success the VMA holds its own reference */
	framevec_iomem_put(buf->iomem);
	return ret;
}

static int texp_open(struct inode *inode, struct file *file)
{
	struct texp_file *tf = kzalloc(sizeof(*tf), GFP_KERNEL);

	if (!tf)
		return -ENOMEM;
	xa_init_flags(&tf->bufs, XA_FLAGS_ALLOC1);
	mutex_init(&tf->qlock);
	INIT_LIST_HEAD(&tf->quarantine);
	file->private_data = tf;
	return 0;
}

static int texp_release_file(struct inode *inode, struct file *file)
{
	struct texp_file *tf = file->private_data;
	struct texp_quarantine *q, *tmp;
	struct texp_buf *buf;
	unsigned long handle;

	xa_for_each(&tf->bufs, handle, buf) {
		xa_erase(&tf->bufs, handle);
		framevec_iomem_put(buf->iomem);
	}
	xa_destroy(&tf->bufs);
	/* last reference to the file: no ioctl runs */
	list_for_each_entry_safe(q, tmp, &tf->quarantine, node) {
		list_del(&q->node);
		texp_quarantine_free(q);
	}
	mutex_destroy(&tf->qlock);
	kfree(tf);
	return 0;
}

static const struct file_operations texp_fops = {
	.owner = THIS_MODULE,
	.open = texp_open,
	.release = texp_release_file,
	.unlocked_ioctl = texp_ioctl,
	.mmap = texp_mmap,
};

static struct miscdevice texp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = TEXP_NAME,
	.fops = &texp_fops,
	.mode = 0600,
};

static int texp_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	void __iomem *va;
	int ret;

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_disable;
	ret = pci_request_region(pdev, TEXP_BAR, TEXP_NAME);
	if (ret)
		goto err_disable;
	va = pci_iomap(pdev, TEXP_BAR, 0);
	if (!va) {
		ret = -ENOMEM;
		goto err_release_region;
	}
	mutex_lock(&texp_lock);
	if (texp_pci) {
		mutex_unlock(&texp_lock);
		ret = -EBUSY;
		goto err_unmap;
	}
	texp_pci = pdev;
	texp_bar_va = va;
	mutex_unlock(&texp_lock);
	return 0;

err_unmap:
	pci_iounmap(pdev, va);
err_release_region:
	pci_release_region(pdev, TEXP_BAR);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

/* The BAR goes away: revoke every buffer of it and free it now. */
static void texp_pci_remove(struct pci_dev *pdev)
{
	struct texp_buf *buf;

	mutex_lock(&texp_lock);
	list_for_each_entry(buf, &texp_bar_bufs, bar_node) {
		framevec_iomem_revoke(buf->iomem);
		if (!buf->memory_freed)
			texp_free_memory(buf, NULL);
	}
	texp_pci = NULL;
	mutex_unlock(&texp_lock);
	pci_iounmap(pdev, texp_bar_va);
	texp_bar_va = NULL;
	pci_release_region(pdev, TEXP_BAR);
	pci_disable_device(pdev);
}

static const struct pci_device_id texp_pci_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },	/* QEMU ivshmem-plain */
	{ }
};
MODULE_DEVICE_TABLE(pci, texp_pci_ids);

static struct pci_driver texp_pci_driver = {
	.name = TEXP_NAME,
	.id_table = texp_pci_ids,
	.probe = texp_pci_probe,
	.remove = texp_pci_remove,
};

static int __init texp_init(void)
{
	int ret;

	texp_pdev = platform_device_register_simple(TEXP_NAME, -1, NULL, 0);
	if (IS_ERR(texp_pdev))
		return PTR_ERR(texp_pdev);
#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
	/*
	 * No firmware node says this device is DMA-coherent, so on arm64 it
	 * is not, and dma_alloc_coherent() returns a remapped uncached alias
	 * with no linear address. Its buffers are a coherent device's, as on
	 * x86 (and arm64 SoCs whose DT says dma-coherent).
	 */
	texp_pdev->dev.dma_coherent = true;
#endif
	ret = pci_register_driver(&texp_pci_driver);
	if (ret)
		goto err_unregister_pdev;
	ret = misc_register(&texp_misc);
	if (ret)
		goto err_unregister_pci;
	return 0;

err_unregister_pci:
	pci_unregister_driver(&texp_pci_driver);
err_unregister_pdev:
	platform_device_unregister(texp_pdev);
	return ret;
}

static void __exit texp_exit(void)
{
	misc_deregister(&texp_misc);
	pci_unregister_driver(&texp_pci_driver);
	platform_device_unregister(texp_pdev);
}

module_init(texp_init);
module_exit(texp_exit);
MODULE_DESCRIPTION("framevec test: exports coherent buffers and an ivshmem BAR through the iomem helper");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
