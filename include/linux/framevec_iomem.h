/* SPDX-License-Identifier: GPL-2.0 */
/*
 * framevec iomem exporter: refcounts and a DMA connection for IO pfn ranges.
 *
 * A driver that maps memory without a pinnable struct page to user space
 * (dma_alloc_coherent() buffers, a PCI BAR) describes it as a struct
 * framevec_iomem: a refcounted object with the physical ranges, their memory
 * type and the owning device. framevec_iomem_mmap() maps it into a VMA that
 * stays linked to the object, so that framevec can import the VMA by taking
 * a reference on the object instead of reading PFNs it does not own.
 *
 * Lifetime: framevec_iomem_create() returns the driver's reference. Every
 * VMA and every framevec importing the object hold one more. The release
 * callback runs when the last one is dropped; only then may the driver free
 * the memory, unless it called framevec_iomem_revoke() first, after which no
 * user mapping and no importer touches the memory any more.
 */
#ifndef _LINUX_FRAMEVEC_IOMEM_H
#define _LINUX_FRAMEVEC_IOMEM_H

#include <linux/framevec.h>
#include <linux/types.h>

struct device;
struct module;
struct vm_area_struct;
struct framevec_iomem;

/**
 * struct framevec_iomem_range - one physically contiguous piece of an object
 * @phys: page aligned CPU physical address; for MMIO what a peer device
 *	maps with dma_map_resource()
 * @size: page aligned size in bytes, not zero
 */
struct framevec_iomem_range {
	phys_addr_t phys;
	size_t size;
};

/**
 * typedef framevec_iomem_release_fn - the last reference to an object is gone
 * @iomem: the object; it is freed when the callback returns
 * @priv: the pointer given at creation
 *
 * The driver may now free the memory. Runs in process context and may sleep,
 * but it can run from a VMA's close, with the mmap lock of that mm held: it
 * must not take a lock that is ever held while faulting user memory.
 */
typedef void (*framevec_iomem_release_fn)(struct framevec_iomem *iomem, void *priv);

struct framevec_iomem *__framevec_iomem_create(struct device *dev,
					       enum framevec_mem_type mem_type,
					       const struct framevec_iomem_range *ranges,
					       unsigned int nr_ranges,
					       framevec_iomem_release_fn release,
					       void *priv, struct module *owner);

/**
 * framevec_iomem_create() - describe IO memory a driver maps to user space
 * @dev: the device that owns the memory; a reference is held on it
 * @mem_type: FRAMEVEC_MEM_RAM for memory with struct page that the CPU maps
 *	cacheable (dma_alloc_coherent() on a cache-coherent platform),
 *	FRAMEVEC_MEM_MMIO for device memory such as a PCI BAR
 * @ranges: the physical ranges, in the order they appear in the object
 * @nr_ranges: number of @ranges, at least one
 * @release: called when the last reference goes, or NULL
 * @priv: argument of @release
 *
 * The caller's module is held until @release has returned. @ranges is
 * copied.
 *
 * Context: process context, may sleep.
 * Return: the object holding one reference for the caller, or an ERR_PTR:
 * -EINVAL for an empty, misaligned or wrapping range, a bad @mem_type, or
 * RAM without struct page; -EOVERFLOW if the object is too large; -ENOMEM.
 */
#define framevec_iomem_create(dev, mem_type, ranges, nr_ranges, release, priv) \
	__framevec_iomem_create(dev, mem_type, ranges, nr_ranges, release, priv, \
				THIS_MODULE)

void framevec_iomem_get(struct framevec_iomem *iomem);
void framevec_iomem_put(struct framevec_iomem *iomem);
int framevec_iomem_mmap(struct framevec_iomem *iomem, struct vm_area_struct *vma,
			unsigned long pgoff);
void framevec_iomem_revoke(struct framevec_iomem *iomem);
bool framevec_iomem_is_revoked(const struct framevec_iomem *iomem);
unsigned long framevec_iomem_nr_pages(const struct framevec_iomem *iomem);

#endif /* _LINUX_FRAMEVEC_IOMEM_H */
