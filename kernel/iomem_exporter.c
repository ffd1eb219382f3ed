// SPDX-License-Identifier: GPL-2.0
/*
 * framevec iomem exporter: the object that "just provides refcounts and P2P
 * DMA connection for IO pfn ranges".
 *
 * Object. struct framevec_iomem describes memory a driver maps to user space
 * that framevec cannot pin: physical ranges (chunks), their memory type (RAM
 * from dma_alloc_coherent(), or MMIO such as a PCI BAR) and the owning
 * device. Peers reach MMIO through dma_map_resource() on the chunk's
 * physical address (see framevec_map()).
 *
 * Lifetime. A kref: the driver's reference from framevec_iomem_create(), one
 * per VMA (taken in framevec_iomem_mmap() and the vm_ops open, dropped in
 * close, so fork, VMA splits and mremap keep it exact) and one per framevec
 * segment importing the object (source_iomem.c). The driver's release
 * callback runs when the last goes; it may run from a VMA's close.
 *
 * Mapping. framevec_iomem_mmap() points the VMA at the object's own
 * anonymous file, so that unmap_mapping_range() on that file zaps every
 * mapping of the object in every mm. PFNs are inserted at fault time, not
 * eagerly with remap_pfn_range(): a VMA is linked into its file's mapping
 * only after ->mmap returns, so PTEs installed by ->mmap could escape a
 * revocation running in between. The VMA is VM_IO | VM_PFNMAP |
 * VM_DONTEXPAND | VM_DONTDUMP, like remap_pfn_range() makes it, shared only.
 * Memory type: RAM keeps the vm_page_prot the driver set before calling
 * framevec_iomem_mmap() (cacheable by default; a driver whose kernel mapping
 * is not, e.g. pgprot_dmacoherent() memory of a non-coherent device, sets
 * the same attribute); MMIO is mapped uncached (pgprot_noncached(),
 * decrypted like io_remap_pfn_range()). An import records the attribute of
 * this mapping and every CPU mapping framevec makes of it uses the same one
 * (enum framevec_cache).
 *
 * Revocation. framevec_iomem_revoke() sets @revoked under @zap_lock (so no
 * fault inserts a pfn after it), zaps every user mapping, then, holding
 * @lock, revokes every importing framevec. After it returns, nothing reaches
 * the memory through framevec and the driver may free it; the object itself
 * lives until its last reference.
 *
 * Locking. Order: mmap lock -> @lock -> @zap_lock; mmap lock -> @zap_lock
 * (faults); @lock -> the importers' revoke callbacks (fv->lock, their dma-buf
 * locks). iomem_list_lock protects the list of live objects and nests inside
 * all of them.
 */
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "framevec_internal.h"
#include "iomem_internal.h"

static LIST_HEAD(iomem_list);
static DEFINE_MUTEX(iomem_list_lock);

static struct {
	atomic64_t objects;
	atomic64_t vmas;
	atomic64_t importers;
} iomem_stats;

/* The object's file: only a mapping to zap; it cannot be mmapped again. */
static const struct file_operations framevec_iomem_fops = {
	.owner = THIS_MODULE,
};

/* Validate the ranges; return the total number of pages or an errno. */
static long framevec_iomem_count_pages(enum framevec_mem_type mem_type,
				       const struct framevec_iomem_range *ranges,
				       unsigned int nr_ranges)
{
	unsigned long nr_pages = 0, pfn, i;
	phys_addr_t last;

	if (!nr_ranges || (mem_type != FRAMEVEC_MEM_RAM && mem_type != FRAMEVEC_MEM_MMIO))
		return -EINVAL;
	for (i = 0; i < nr_ranges; i++) {
		const struct framevec_iomem_range *r = &ranges[i];

		if (!r->size || !PAGE_ALIGNED(r->phys) || !PAGE_ALIGNED(r->size) ||
		    check_add_overflow(r->phys, (phys_addr_t)r->size - 1, &last))
			return -EINVAL;
		if (check_add_overflow(nr_pages, r->size >> PAGE_SHIFT, &nr_pages) ||
		    nr_pages > LONG_MAX)
			return -EOVERFLOW;
		/* framevec maps and vmaps RAM through its struct pages */
		if (mem_type == FRAMEVEC_MEM_RAM)
			for (pfn = PHYS_PFN(r->phys); pfn <= PHYS_PFN(last); pfn++)
				if (!framevec_pfn_is_ram(pfn))
					return -EINVAL;
	}
	return nr_pages;
}

/**
 * __framevec_iomem_create() - create an iomem object; use framevec_iomem_create()
 * @dev: the owning device
 * @mem_type: FRAMEVEC_MEM_RAM or FRAMEVEC_MEM_MMIO
 * @ranges: the physical ranges
 * @nr_ranges: number of @ranges
 * @release: called when the last reference goes, or NULL
 * @priv: argument of @release
 * @owner: the module of @release, held until it has run
 *
 * Context: process context, may sleep.
 * Return: the object with one reference, or an ERR_PTR (see
 * framevec_iomem_create()). Nothing is held on failure.
 */
struct framevec_iomem *__framevec_iomem_create(struct device *dev,
					       enum framevec_mem_type mem_type,
					       const struct framevec_iomem_range *ranges,
					       unsigned int nr_ranges,
					       framevec_iomem_release_fn release,
					       void *priv, struct module *owner)
{
	static atomic_long_t next_id;
	struct framevec_iomem *iomem;
	struct file *file;
	unsigned int i;
	long nr_pages;
	int ret;

	if (!dev)
		return ERR_PTR(-EINVAL);
	nr_pages = framevec_iomem_count_pages(mem_type, ranges, nr_ranges);
	if (nr_pages < 0)
		return ERR_PTR(nr_pages);
	if (!try_module_get(owner))
		return ERR_PTR(-ENODEV);

	iomem = kzalloc(struct_size(iomem, chunks, nr_ranges), GFP_KERNEL);
	if (!iomem) {
		ret = -ENOMEM;
		goto err_module_put;
	}
	iomem->nr_chunks = nr_ranges;
	for (i = 0; i < nr_ranges; i++) {
		iomem->chunks[i].pfn = PHYS_PFN(ranges[i].phys);
		iomem->chunks[i].nr_pages = ranges[i].size >> PAGE_SHIFT;
	}
	/* a unique inode: its mapping holds exactly this object's VMAs */
	file = anon_inode_create_getfile("[framevec_iomem]", &framevec_iomem_fops,
					 NULL, O_RDWR, NULL);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free;
	}
	kref_init(&iomem->kref);
	mutex_init(&iomem->lock);
	init_rwsem(&iomem->zap_lock);
	INIT_LIST_HEAD(&iomem->importers);
	atomic_set(&iomem->nr_vmas, 0);
	iomem->file = file;
	iomem->dev = get_device(dev);
	iomem->owner = owner;
	iomem->mem_type = mem_type;
	iomem->nr_pages = nr_pages;
	iomem->release = release;
	iomem->priv = priv;
	iomem->id = atomic_long_inc_return(&next_id);

	mutex_lock(&iomem_list_lock);
	list_add_tail(&iomem->node, &iomem_list);
	mutex_unlock(&iomem_list_lock);
	atomic64_inc(&iomem_stats.objects);
	return iomem;

err_free:
	kfree(iomem);
err_module_put:
	module_put(owner);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(__framevec_iomem_create);

static void framevec_iomem_free(struct kref *kref)
{
	struct framevec_iomem *iomem = container_of(kref, struct framevec_iomem, kref);
	struct module *owner = iomem->owner;

	mutex_lock(&iomem_list_lock);
	list_del(&iomem->node);
	mutex_unlock(&iomem_list_lock);
	/* every VMA and importer holds a reference */
	WARN_ON(atomic_read(&iomem->nr_vmas) || !list_empty(&iomem->importers));

	if (iomem->release)
		iomem->release(iomem, iomem->priv);
	fput(iomem->file);
	put_device(iomem->dev);
	mutex_destroy(&iomem->lock);
	kfree(iomem);
	atomic64_dec(&iomem_stats.objects);
	module_put(owner);
}

/**
 * framevec_iomem_get() - take a reference on an iomem object
 * @iomem: the object; the caller already holds a reference
 */
void framevec_iomem_get(struct framevec_iomem *iomem)
{
	kref_get(&iomem->kref);
}
EXPORT_SYMBOL_GPL(framevec_iomem_get);

/**
 * framevec_iomem_put() - drop a reference on an iomem object
 * @iomem: the object, or NULL
 *
 * The last reference runs the driver's release callback and frees the
 * object. Mappings and importers hold their own references, so the driver
 * drops its own when it no longer needs the object, whoever still uses it.
 *
 * Context: process context, may sleep.
 */
void framevec_iomem_put(struct framevec_iomem *iomem)
{
	if (iomem)
		kref_put(&iomem->kref, framevec_iomem_free);
}
EXPORT_SYMBOL_GPL(framevec_iomem_put);

/**
 * framevec_iomem_nr_pages() - size of an iomem object
 * @iomem: the object
 *
 * Return: the number of PAGE_SIZE pages of all its ranges.
 */
unsigned long framevec_iomem_nr_pages(const struct framevec_iomem *iomem)
{
	return iomem->nr_pages;
}
EXPORT_SYMBOL_GPL(framevec_iomem_nr_pages);

/**
 * framevec_iomem_is_revoked() - did the driver revoke the object?
 * @iomem: the object
 *
 * Return: true once framevec_iomem_revoke() has started.
 */
bool framevec_iomem_is_revoked(const struct framevec_iomem *iomem)
{
	return READ_ONCE(iomem->revoked);
}
EXPORT_SYMBOL_GPL(framevec_iomem_is_revoked);

/* Set *@pfn to the frame at page @pgoff of the object; false if beyond it. */
static bool framevec_iomem_pfn(const struct framevec_iomem *iomem,
			       unsigned long pgoff, unsigned long *pfn)
{
	unsigned int i;

	for (i = 0; i < iomem->nr_chunks; i++) {
		if (pgoff < iomem->chunks[i].nr_pages) {
			*pfn = iomem->chunks[i].pfn + pgoff;
			return true;
		}
		pgoff -= iomem->chunks[i].nr_pages;
	}
	return false;
}

static void framevec_iomem_vm_open(struct vm_area_struct *vma)
{
	struct framevec_iomem *iomem = vma->vm_private_data;

	kref_get(&iomem->kref);
	atomic_inc(&iomem->nr_vmas);
	atomic64_inc(&iomem_stats.vmas);
}

static void framevec_iomem_vm_close(struct vm_area_struct *vma)
{
	struct framevec_iomem *iomem = vma->vm_private_data;

	atomic64_dec(&iomem_stats.vmas);
	atomic_dec(&iomem->nr_vmas);
	framevec_iomem_put(iomem);
}

static vm_fault_t framevec_iomem_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct framevec_iomem *iomem = vma->vm_private_data;
	unsigned long pfn;
	vm_fault_t ret;

	down_read(&iomem->zap_lock);
	if (iomem->revoked || !framevec_iomem_pfn(iomem, vmf->pgoff, &pfn))
		ret = VM_FAULT_SIGBUS;
	else
		ret = vmf_insert_pfn_prot(vma, vmf->address, pfn, vma->vm_page_prot);
	up_read(&iomem->zap_lock);
	return ret;
}

/* source_iomem.c recognizes the object's VMAs by these ops. */
const struct vm_operations_struct framevec_iomem_vm_ops = {
	.open = framevec_iomem_vm_open,
	.close = framevec_iomem_vm_close,
	.fault = framevec_iomem_fault,
};

/**
 * framevec_iomem_mmap() - map an iomem object into a user VMA
 * @iomem: the object
 * @vma: the VMA, from the driver's mmap file operation
 * @pgoff: page of the object mapped at @vma->vm_start
 *
 * Links @vma to @iomem: the VMA then maps the object's own file at offset
 * @pgoff (vm_file and vm_pgoff are replaced, as dma_buf_mmap() does) and
 * holds a reference on @iomem, as does every VMA forked, split or moved from
 * it. Pages are mapped at fault time; RAM keeps vm_page_prot, MMIO is
 * mapped uncached. The mapping must be MAP_SHARED and cannot grow (mremap).
 * Call it last in the driver's mmap: on success the VMA owns the reference.
 *
 * Context: the driver's mmap file operation (mmap lock held for write).
 * Return: 0, -EINVAL for a private mapping or one beyond the object, or
 * -ENODEV if the object was revoked. @vma is unchanged on failure.
 */
int framevec_iomem_mmap(struct framevec_iomem *iomem, struct vm_area_struct *vma,
			unsigned long pgoff)
{
	unsigned long nr = vma_pages(vma);

	mmap_assert_write_locked(vma->vm_mm);
	if (!(vma->vm_flags & VM_MAYSHARE)) {
		fv_user_err("private mapping of device memory; map it MAP_SHARED");
		return -EINVAL;
	}
	if (pgoff > iomem->nr_pages || nr > iomem->nr_pages - pgoff) {
		fv_user_err("mmap of pages %lu-%lu is beyond the end of a %lu-page buffer; map at most its size",
			    pgoff, pgoff + nr, iomem->nr_pages);
		return -EINVAL;
	}
	if (READ_ONCE(iomem->revoked))
		return -ENODEV;

	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	if (iomem->mem_type == FRAMEVEC_MEM_MMIO)
		vma->vm_page_prot = pgprot_decrypted(pgprot_noncached(vma->vm_page_prot));
	vma_set_file(vma, iomem->file);
	vma->vm_pgoff = pgoff;
	vma->vm_private_data = iomem;
	vma->vm_ops = &framevec_iomem_vm_ops;
	framevec_iomem_vm_open(vma);
	return 0;
}
EXPORT_SYMBOL_GPL(framevec_iomem_mmap);

/**
 * framevec_iomem_revoke() - take an iomem object's memory back
 * @iomem: the object
 *
 * Zaps every user mapping of @iomem (later accesses get SIGBUS, new mmaps
 * fail with -ENODEV) and revokes every framevec importing it, whose
 * importers stop all DMA and CPU access before their callbacks return; new
 * imports fail with -ENODEV. When this returns the driver may free or reuse
 * the memory; the object stays until its last reference is dropped. Only
 * the first call has an effect; later ones return at once.
 *
 * Context: process context, may sleep; not from an importer's revoke
 * callback and not under a lock an importer's callback takes.
 */
void framevec_iomem_revoke(struct framevec_iomem *iomem)
{
	struct framevec_iomem_importer *imp;

	mutex_lock(&iomem->lock);
	if (iomem->revoked)
		goto out_unlock;
	/* after this no fault can map a pfn; zap what earlier ones mapped */
	down_write(&iomem->zap_lock);
	WRITE_ONCE(iomem->revoked, true);
	up_write(&iomem->zap_lock);
	unmap_mapping_range(iomem->file->f_mapping, 0, 0, 1);

	/* releases of importers wait on the lock: none goes away meanwhile */
	list_for_each_entry(imp, &iomem->importers, node)
		framevec_revoke(imp->fv);
out_unlock:
	mutex_unlock(&iomem->lock);
}
EXPORT_SYMBOL_GPL(framevec_iomem_revoke);

/**
 * framevec_iomem_add_importer() - register a framevec segment holding @iomem
 * @iomem: the object
 * @imp: the segment's record, filled in here
 * @fv: the importing framevec
 *
 * Takes a reference on @iomem for @imp.
 *
 * Context: may sleep; takes @iomem->lock.
 * Return: 0, or -ENODEV if @iomem was revoked (nothing taken).
 */
int framevec_iomem_add_importer(struct framevec_iomem *iomem,
				struct framevec_iomem_importer *imp,
				struct framevec *fv)
{
	mutex_lock(&iomem->lock);
	if (iomem->revoked) {
		mutex_unlock(&iomem->lock);
		fv_user_err("the driver revoked this buffer while it was imported; import a buffer it still owns");
		return -ENODEV;
	}
	kref_get(&iomem->kref);
	imp->iomem = iomem;
	imp->fv = fv;
	list_add_tail(&imp->node, &iomem->importers);
	WRITE_ONCE(iomem->nr_importers, iomem->nr_importers + 1);
	mutex_unlock(&iomem->lock);
	atomic64_inc(&iomem_stats.importers);
	return 0;
}

/**
 * framevec_iomem_del_importer() - undo framevec_iomem_add_importer()
 * @imp: the record
 *
 * Waits for a revocation in progress; none reaches @imp->fv afterwards.
 * Drops the reference on the object, which may free it.
 *
 * Context: may sleep; takes @imp->iomem->lock.
 */
void framevec_iomem_del_importer(struct framevec_iomem_importer *imp)
{
	struct framevec_iomem *iomem = imp->iomem;

	mutex_lock(&iomem->lock);
	list_del(&imp->node);
	WRITE_ONCE(iomem->nr_importers, iomem->nr_importers - 1);
	mutex_unlock(&iomem->lock);
	atomic64_dec(&iomem_stats.importers);
	framevec_iomem_put(iomem);
}

static int iomem_objects_show(struct seq_file *s, void *unused)
{
	struct framevec_iomem *iomem;

	seq_printf(s, "objects %lld\n", atomic64_read(&iomem_stats.objects));
	seq_printf(s, "vmas %lld\n", atomic64_read(&iomem_stats.vmas));
	seq_printf(s, "importers %lld\n", atomic64_read(&iomem_stats.importers));
	mutex_lock(&iomem_list_lock);
	list_for_each_entry(iomem, &iomem_list, node)
		seq_printf(s, "object %lu pfn=%#lx pages=%lu ranges=%u type=%s refs=%u vmas=%d importers=%lu revoked=%d dev=%s\n",
			   iomem->id, iomem->chunks[0].pfn, iomem->nr_pages,
			   iomem->nr_chunks,
			   iomem->mem_type == FRAMEVEC_MEM_MMIO ? "mmio" : "ram",
			   kref_read(&iomem->kref), atomic_read(&iomem->nr_vmas),
			   READ_ONCE(iomem->nr_importers), READ_ONCE(iomem->revoked),
			   dev_name(iomem->dev));
	mutex_unlock(&iomem_list_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iomem_objects);

/**
 * framevec_iomem_debugfs_init() - create debugfs "iomem" in framevec's directory
 * @dir: /sys/kernel/debug/framevec
 *
 * The file shows the live objects, VMAs and importers, then one line per
 * live object with its reference, VMA and importer counts.
 */
void framevec_iomem_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("iomem", 0400, dir, NULL, &iomem_objects_fops);
}
