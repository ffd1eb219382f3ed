/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The iomem exporter object, shared by iomem_exporter.c (the object, its
 * VMAs, revocation, debugfs) and source_iomem.c (framevec's source for it).
 */
#ifndef _FRAMEVEC_IOMEM_INTERNAL_H
#define _FRAMEVEC_IOMEM_INTERNAL_H

#include <linux/framevec_iomem.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>

struct file;

/**
 * struct framevec_iomem_chunk - one range of an object, in pfns
 * @pfn: first page frame
 * @nr_pages: number of pages, at least one
 */
struct framevec_iomem_chunk {
	unsigned long pfn;
	unsigned long nr_pages;
};

/**
 * struct framevec_iomem - see iomem_exporter.c for lifetime and locking
 * @kref: the creator's reference, one per VMA, one per importing segment
 * @node: entry in the list of live objects (debugfs), under the list lock
 * @id: number for debugfs, unique while the module is loaded
 * @dev: the owning device, referenced
 * @owner: the module of @release, referenced
 * @file: the object's own file; every VMA of the object maps it, so that
 *	unmap_mapping_range() on its mapping zaps them all
 * @mem_type: RAM or MMIO
 * @nr_pages: total pages of all chunks
 * @release: the driver's callback for the last reference, or NULL
 * @priv: its argument
 * @lock: protects @importers and @nr_importers; held across revocation
 * @zap_lock: @revoked against faults: taken for read while a fault checks
 *	@revoked and inserts its pfn, for write to set @revoked
 * @revoked: the owner took the memory back; faults SIGBUS, imports -ENODEV
 * @importers: the framevec segments holding the object
 * @nr_importers: entries on @importers
 * @nr_vmas: VMAs mapping the object, in every mm
 * @nr_chunks: number of @chunks
 * @chunks: the ranges, in object order
 */
struct framevec_iomem {
	struct kref kref;
	struct list_head node;
	unsigned long id;
	struct device *dev;
	struct module *owner;
	struct file *file;
	enum framevec_mem_type mem_type;
	unsigned long nr_pages;
	framevec_iomem_release_fn release;
	void *priv;
	struct mutex lock; /* importers; held across revocation */
	struct rw_semaphore zap_lock; /* revoked vs. faults */
	bool revoked;
	struct list_head importers;
	unsigned long nr_importers;
	atomic_t nr_vmas;
	unsigned int nr_chunks;
	struct framevec_iomem_chunk chunks[] __counted_by(nr_chunks);
};

/**
 * struct framevec_iomem_importer - one framevec segment holding an object
 * @node: entry in @iomem->importers
 * @fv: the importing framevec, revoked with the object
 * @iomem: the object, referenced
 */
struct framevec_iomem_importer {
	struct list_head node;
	struct framevec *fv;
	struct framevec_iomem *iomem;
};

extern const struct vm_operations_struct framevec_iomem_vm_ops;

int framevec_iomem_add_importer(struct framevec_iomem *iomem,
				struct framevec_iomem_importer *imp,
				struct framevec *fv);
void framevec_iomem_del_importer(struct framevec_iomem_importer *imp);

#endif /* _FRAMEVEC_IOMEM_INTERNAL_H */
