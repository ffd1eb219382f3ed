/* SPDX-License-Identifier: GPL-2.0 */
/*
 * framevec: safe, zero-copy import of user memory for device DMA.
 *
 * A framevec is an imported user address range that holds a real reference
 * on whatever backs every byte of it (a FOLL_LONGTERM pin for memory with
 * struct page), for as long as a device may touch it. It replaces
 * get_vaddr_frames() without its follow_pfn() fallback.
 *
 * Lifetime: framevec_import() -> (framevec_map() -> framevec_unmap())* ->
 * framevec_release(). Unmap before release. Release cannot fail.
 */
#ifndef _LINUX_FRAMEVEC_H
#define _LINUX_FRAMEVEC_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct mm_struct;
struct sg_table;
struct iosys_map;
struct framevec;

/**
 * enum framevec_source - what holds the memory of one part of a framevec
 * @FRAMEVEC_SOURCE_PAGES: ordinary memory with struct page, long-term pinned
 * @FRAMEVEC_SOURCE_DMABUF: an mmapped dma-buf of a static exporter, held by its file
 * @FRAMEVEC_SOURCE_VB2: a videobuf2 MMAP buffer, held by its vmarea refcount
 * @FRAMEVEC_SOURCE_IOMEM: a framevec iomem exporter range, held by its kref
 * @FRAMEVEC_SOURCE_REVOCABLE: other VM_PFNMAP memory, watched by a notifier
 * @FRAMEVEC_NR_SOURCES: number of sources
 */
enum framevec_source {
	FRAMEVEC_SOURCE_PAGES,
	FRAMEVEC_SOURCE_DMABUF,
	FRAMEVEC_SOURCE_VB2,
	FRAMEVEC_SOURCE_IOMEM,
	FRAMEVEC_SOURCE_REVOCABLE,
	FRAMEVEC_NR_SOURCES,
};

/**
 * enum framevec_mem_type - what kind of memory a run of frames is
 * @FRAMEVEC_MEM_RAM: system RAM; CPU mappings are cacheable
 * @FRAMEVEC_MEM_MMIO: device memory (a PCI BAR); map with dma_map_resource()
 */
enum framevec_mem_type {
	FRAMEVEC_MEM_RAM,
	FRAMEVEC_MEM_MMIO,
};

/* Flags of framevec_import() */
/*
 * The device will write the memory: require a writable range, break COW.
 * Without it nothing framevec hands out writes the memory (the write rule,
 * framevec_core.c).
 */
#define FRAMEVEC_WRITE		BIT(0)

/**
 * struct framevec_run - a run of physically contiguous frames
 * @pfn: first page frame number
 * @nr_pages: number of pages in the run, at least one
 * @source: the source that holds these frames
 * @mem_type: RAM or MMIO
 *
 * Filled in by framevec_run_first()/framevec_run_next(); not how runs are
 * stored inside the framevec (see framevec_core.c).
 */
struct framevec_run {
	unsigned long pfn;
	unsigned long nr_pages;
	enum framevec_source source;
	enum framevec_mem_type mem_type;
};

/**
 * struct framevec_iter - cursor over the runs of a framevec
 * @fv: the framevec
 * @seg: index of the current segment
 * @run: index of the current run inside the framevec's run array
 */
struct framevec_iter {
	const struct framevec *fv;
	unsigned long seg;
	unsigned long run;
};

/**
 * typedef framevec_revoke_fn - importer callback run when memory is revoked
 * @fv: the framevec being revoked
 * @priv: the pointer given to framevec_import()
 *
 * Runs in process context, may sleep. When it returns, the importer must have
 * stopped every DMA and CPU access to @fv and must not start new ones; it
 * may keep @fv (maps then fail with -ENODEV) and release it later. framevec
 * then DMA-unmaps every device mapping of @fv still live; the importer's
 * later framevec_unmap() only frees the table. A second revocation waits
 * for this one. It must not call framevec_release() itself: the revocation
 * waits for the callback under a lock its release takes. For VM_PFNMAP
 * memory watched by an MMU notifier it runs from the notifier: it must not
 * allocate memory nor take a lock that is held anywhere while allocating.
 * The whole model is at the top of framevec_core.c ("Revocation").
 */
typedef void (*framevec_revoke_fn)(struct framevec *fv, void *priv);

struct framevec *framevec_import(struct mm_struct *mm, unsigned long start,
				 unsigned long length, unsigned int flags,
				 framevec_revoke_fn revoke, void *priv);
void framevec_release(struct framevec *fv);

unsigned long framevec_nr_pages(const struct framevec *fv);
bool framevec_is_revoked(const struct framevec *fv);

bool framevec_run_first(struct framevec_iter *it, const struct framevec *fv,
			struct framevec_run *run);
bool framevec_run_next(struct framevec_iter *it, struct framevec_run *run);

struct sg_table *framevec_map(struct framevec *fv, struct device *dev,
			      enum dma_data_direction dir);
void framevec_unmap(struct framevec *fv, struct device *dev,
		    struct sg_table *sgt, enum dma_data_direction dir);

int framevec_vmap(struct framevec *fv, struct iosys_map *map);
void framevec_vunmap(struct framevec *fv, struct iosys_map *map);

#endif /* _LINUX_FRAMEVEC_H */
