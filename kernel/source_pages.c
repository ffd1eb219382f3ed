// SPDX-License-Identifier: GPL-2.0
/*
 * framevec pages source: memory with struct page (anonymous, THP, hugetlb,
 * shmem/memfd, file mappings).
 *
 * Object. Each page of the segment carries one FOLL_PIN | FOLL_LONGTERM pin;
 * the segment's runs are the pinned pfns. Long-term pins make GUP migrate
 * pages out of ZONE_MOVABLE and CMA first, so those zones keep working.
 *
 * Lifetime. Pinned in framevec_pages_import(), unpinned run by run in
 * framevec_pages_release(), dirtied there if the import was for writing.
 *
 * Locking. For the importing task's own mm the pages are pinned without
 * the mmap lock, with pin_user_pages_fast(), after the core checked the
 * VMAs under it: see "Fast path" in framevec_core.c for why that is safe.
 * Otherwise (an in-kernel import of another mm, a range that also holds
 * memory of another source) import runs with the mmap lock held for read
 * and passes no "locked" pointer, so GUP never drops the lock and the VMA
 * stays valid: pin_user_pages() for the caller's own mm, which applies its
 * protection keys (so does GUP-fast), pin_user_pages_remote() (FOLL_REMOTE
 * skips them) for another mm.
 *
 * Runs. GUP hands back one struct page per 4 KiB; each contiguous stretch
 * of them (a whole THP or hugetlb folio, or more) becomes one
 * framevec_add_pfns() call and one run, and is unpinned as one range.
 *
 * Write rule and accounting: see framevec_core.c. Without FRAMEVEC_WRITE
 * the pin has no FOLL_WRITE; the core never lets such pages be written.
 */
#include <linux/backing-dev.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "framevec_internal.h"

#define FRAMEVEC_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

static int framevec_pages_check(struct vm_area_struct *vma, unsigned int flags,
				const char **why)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return -ENOENT;
	if (vma_is_fsdax(vma)) {
		return fv_refuse(why, -EOPNOTSUPP,
			"is fs-dax, which the kernel cannot pin long-term; copy it or use an ordinary mapping");
	}
	/* The kernel refuses long-term write pins where writeback tracks dirt. */
	if ((flags & FRAMEVEC_WRITE) && (vma->vm_flags & VM_SHARED) &&
	    vma->vm_file && !shmem_mapping(vma->vm_file->f_mapping) &&
	    !is_vm_hugetlb_page(vma) &&
	    mapping_can_writeback(vma->vm_file->f_mapping)) {
		return fv_refuse(why, -EFAULT,
			"is a shared mapping of a regular file, which the kernel cannot pin long-term for writing; use memfd/shmem or MAP_PRIVATE");
	}
	return 0;
}

static void framevec_pages_unpin(struct framevec *fv, struct framevec_seg *seg)
{
	bool dirty = fv->flags & FRAMEVEC_WRITE;
	unsigned long i;

	for (i = seg->first_run; i < seg->first_run + seg->nr_runs; i++)
		unpin_user_page_range_dirty_lock(pfn_to_page(framevec_run_pfn(fv->runs[i])),
						 framevec_run_pages(fv->runs[i]), dirty);
	atomic64_sub(seg->nr_pages, &framevec_stats.pinned_pages);
}

/*
 * Pin [@start, @end) of @mm in batches and add the pages as runs. @fast:
 * pin_user_pages_fast(), without the mmap lock, for current->mm only.
 */
static int framevec_pages_pin(struct framevec *fv, struct framevec_seg *seg,
			      struct mm_struct *mm, unsigned long start,
			      unsigned long end, bool fast)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long addr = start, i;
	struct page **pages;
	long pinned;
	int ret = 0;

	if (fv->flags & FRAMEVEC_WRITE)
		gup_flags |= FOLL_WRITE;
	seg->mem_type = FRAMEVEC_MEM_RAM;

	/*
	 * From the slab and no larger than the import: not a page from the
	 * page allocator, which init_on_alloc clears with clear_page() on every
	 * import (the fixed cost in docs/BENCHMARKS.md).
	 */
	pages = kmalloc_array(min((end - start) >> PAGE_SHIFT, FRAMEVEC_PIN_BATCH),
			      sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	while (addr < end) {
		unsigned long n = min((end - addr) >> PAGE_SHIFT, FRAMEVEC_PIN_BATCH);

		if (framevec_should_fail())
			pinned = -ENOMEM;	/* "Fault injection" in framevec_core.c */
		else if (fast)
			pinned = pin_user_pages_fast(addr, n, gup_flags, pages);
		else if (mm == current->mm)
			pinned = pin_user_pages(addr, n, gup_flags, pages);
		else
			pinned = pin_user_pages_remote(mm, addr, n, gup_flags, pages, NULL);
		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			fv_user_err("cannot pin %#lx long-term (error %d): secretmem, device memory and some file mappings cannot be pinned; use anonymous memory or memfd",
				    addr, ret);
			goto err_unpin;
		}
		atomic64_add(pinned, &framevec_stats.pinned_pages);
		/* one framevec_add_pfns() per contiguous stretch, not per page */
		for (i = 0; i < pinned; i += n) {
			unsigned long pfn = page_to_pfn(pages[i]);

			for (n = 1; i + n < pinned && page_to_pfn(pages[i + n]) == pfn + n; n++)
				;
			ret = framevec_add_pfns(fv, seg, pfn, n);
			if (ret) {
				/* unchanged on failure: [i, pinned) is in no run */
				unpin_user_pages(pages + i, pinned - i);
				atomic64_sub(pinned - i, &framevec_stats.pinned_pages);
				goto err_unpin;
			}
		}
		addr += pinned << PAGE_SHIFT;
	}
	kfree(pages);
	return 0;

err_unpin:
	framevec_pages_unpin(fv, seg);
	kfree(pages);
	return ret;
}

static int framevec_pages_import(struct framevec *fv, struct framevec_seg *seg,
				 struct vm_area_struct *vma, unsigned long start,
				 unsigned long end)
{
	mmap_assert_locked(vma->vm_mm);
	return framevec_pages_pin(fv, seg, vma->vm_mm, start, end, false);
}

/* Without the mmap lock: see "Fast path" in framevec_core.c */
static int framevec_pages_import_unlocked(struct framevec *fv, struct framevec_seg *seg,
					  unsigned long start, unsigned long end)
{
	return framevec_pages_pin(fv, seg, current->mm, start, end, true);
}

static void framevec_pages_release(struct framevec *fv, struct framevec_seg *seg)
{
	framevec_pages_unpin(fv, seg);
}

const struct framevec_source_ops framevec_pages_source = {
	.id = FRAMEVEC_SOURCE_PAGES,
	.name = "pages",
	.pins_pages = true,
	.check = framevec_pages_check,
	.import = framevec_pages_import,
	.import_unlocked = framevec_pages_import_unlocked,
	.release = framevec_pages_release,
};
