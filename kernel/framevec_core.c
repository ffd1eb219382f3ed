// SPDX-License-Identifier: GPL-2.0
/*
 * framevec core: the object that holds a real reference on every byte of an
 * imported user range.
 *
 * Object. A framevec is cut into segments, one per VMA piece of the range,
 * each held by the source that understands that VMA (pages, dma-buf, ...).
 * The frames themselves are runs of physically contiguous pfns, packed into
 * one u64 each (pfn << FRAMEVEC_RUN_LEN_BITS | nr_pages - 1) in one array
 * shared by all segments: a segment owns runs [first_run, first_run +
 * nr_runs). Runs never cross a segment. Worst case 8 bytes per 4 KiB page,
 * 8 bytes per 2 MiB folio when memory is contiguous.
 *
 * Lifetime. framevec_import() builds the whole object or nothing: it checks
 * the user's input and every VMA before the first reference is taken, then
 * imports segment by segment and on failure releases, in reverse, exactly
 * the segments that finished. framevec_release() cannot fail and allocates
 * nothing; it WARNs if a device mapping or vmap is still live.
 *
 * Locking. The import walks the VMAs with the mmap lock held from the first
 * check to the last reference, so the checks hold for the import: for read,
 * or for write when a source needs it (an MMU interval notifier is inserted
 * under the write lock); the VMAs are then checked again under it.
 * fv->lock serializes the commit of map/vmap against revocation; it is taken
 * from MMU notifiers (framevec_revoke()), so nothing allocates under it.
 * The object has a single owner (the importer): import, release and
 * iteration are not concurrent with each other.
 *
 * Vocabulary. Addresses: [start, end) with end exclusive; lengths in bytes;
 * nr_pages counts PAGE_SIZE pages. Overflow traps: start + length is checked
 * with check_add_overflow() and against the mm's task_size.
 */
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "framevec_internal.h"

/* Sources in the order they are asked; the first that takes a VMA wins. */
static const struct framevec_source_ops *const framevec_sources[] = {
	&framevec_pages_source,
	&framevec_dmabuf_source,
	&framevec_vb2_source,
	&framevec_iomem_source,
	&framevec_revocable_source,	/* last: any VM_PFNMAP nobody else took */
};

#define FRAMEVEC_VALID_FLAGS	(FRAMEVEC_WRITE)
#define FRAMEVEC_RUNS_MIN	16

/**
 * framevec_judge_vma() - which source would take a VMA, or why none would
 * @vma: the VMA
 * @flags: FRAMEVEC_* import flags
 * @can_revoke: the importer passed a revoke callback
 * @v: the verdict: the source, or an errno and a sentence saying what to do
 *
 * Takes no reference and logs nothing; used by the import and by explain.
 * Context: mmap lock of @vma->vm_mm held.
 * Return: 0 if a source takes @vma, else the errno an import would fail with.
 */
int framevec_judge_vma(struct vm_area_struct *vma, unsigned int flags,
		       bool can_revoke, struct framevec_verdict *v)
{
	unsigned int i;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	v->ops = NULL;
	v->why = NULL;
	if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return v->err = fv_refuse(&v->why, -EACCES,
			"is PROT_NONE; mprotect() it readable before importing");
	if ((flags & FRAMEVEC_WRITE) && !(vma->vm_flags & VM_WRITE))
		return v->err = fv_refuse(&v->why, -EACCES,
			"is read-only; import it without the write flag or map it writable");

	for (i = 0; i < ARRAY_SIZE(framevec_sources); i++) {
		ret = framevec_sources[i]->check(vma, flags, &v->why);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return v->err = ret;
		v->ops = framevec_sources[i];
		if (v->ops->can_revoke && !can_revoke)
			return v->err = fv_refuse(&v->why, -EOPNOTSUPP,
				"is memory its owner can revoke; only an importer with a revoke callback can take it");
		return v->err = 0;
	}

	return v->err = fv_refuse(&v->why, -EOPNOTSUPP,
		"is VM_IO/VM_PFNMAP memory that no source holds a reference on; export it as a dma-buf, map it with framevec's iomem helper, or import it in-kernel with a revoke callback");
}

/* Choose the source for one VMA piece; log one line on refusal. */
static int framevec_pick_source(struct vm_area_struct *vma, unsigned long start,
				unsigned long end, unsigned int flags, bool can_revoke,
				const struct framevec_source_ops **ops)
{
	struct framevec_verdict v;

	if (framevec_judge_vma(vma, flags, can_revoke, &v)) {
		fv_user_err("range %#lx-%#lx %s (error %d)", start, end, v.why, v.err);
		return v.err;
	}
	*ops = v.ops;
	return 0;
}

/*
 * First pass, with the mmap lock held and no reference taken: every byte of
 * [start, end) must be mapped and taken by a source. Counts the segments and
 * the pages that will be charged to RLIMIT_MEMLOCK.
 */
static int framevec_check_range(struct mm_struct *mm, unsigned long start,
				unsigned long end, unsigned int flags, bool can_revoke,
				unsigned long *nr_segs, unsigned long *nr_charge,
				bool *need_write)
{
	const struct framevec_source_ops *ops;
	unsigned long addr = start, piece_end;
	struct vm_area_struct *vma;
	int ret;

	mmap_assert_locked(mm);
	*nr_segs = 0;
	*nr_charge = 0;
	*need_write = false;
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma) {
			fv_user_err("no mapping at %#lx inside the imported range; import only mapped memory",
				    addr);
			return -EFAULT;
		}
		piece_end = min(end, vma->vm_end);
		ret = framevec_pick_source(vma, addr, piece_end, flags, can_revoke, &ops);
		if (ret)
			return ret;
		(*nr_segs)++;
		*need_write |= ops->needs_mmap_write;
		if (ops->pins_pages)
			*nr_charge += (piece_end - addr) >> PAGE_SHIFT;
		addr = piece_end;
	}
	return 0;
}

/*
 * Charge pinned pages against RLIMIT_MEMLOCK on mm->pinned_vm, as RDMA's
 * ib_umem does: pins are not mlock(), so locked_vm (which mlock() and
 * VM_LOCKED account) is left alone and shows up as VmPin in /proc/PID/status.
 */
static int framevec_charge(struct mm_struct *mm, unsigned long nr_pages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	s64 pinned;

	if (!nr_pages)
		return 0;
	pinned = atomic64_add_return(nr_pages, &mm->pinned_vm);
	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(nr_pages, &mm->pinned_vm);
		fv_user_err("import of %lu pages exceeds RLIMIT_MEMLOCK (%lu pages, %lld pinned); raise ulimit -l or grant CAP_IPC_LOCK",
			    nr_pages, limit, pinned - nr_pages);
		return -ENOMEM;
	}
	return 0;
}

static void framevec_uncharge(struct mm_struct *mm, unsigned long nr_pages)
{
	if (nr_pages)
		atomic64_sub(nr_pages, &mm->pinned_vm);
}

/**
 * framevec_add_pfns() - append frames to the segment being imported
 * @fv: the framevec under construction
 * @seg: its last segment, the one being imported
 * @pfn: first frame
 * @nr_pages: number of contiguous frames
 *
 * Extends the segment's last run when @pfn continues it, else adds runs.
 *
 * Return: 0, or -ENOMEM with @fv unchanged.
 */
int framevec_add_pfns(struct framevec *fv, struct framevec_seg *seg,
		      unsigned long pfn, unsigned long nr_pages)
{
	while (nr_pages) {
		unsigned long n;
		u64 *last = NULL;

		if (seg->nr_runs)
			last = &fv->runs[fv->nr_runs - 1];
		if (last && framevec_run_pfn(*last) + framevec_run_pages(*last) == pfn &&
		    framevec_run_pages(*last) < FRAMEVEC_RUN_MAX_PAGES) {
			n = min(nr_pages,
				FRAMEVEC_RUN_MAX_PAGES - framevec_run_pages(*last));
			*last += n;
		} else {
			if (fv->nr_runs == fv->runs_cap) {
				unsigned long cap = max(fv->runs_cap * 2, FRAMEVEC_RUNS_MIN);
				u64 *runs = kvrealloc(fv->runs, array_size(cap, sizeof(u64)),
						      GFP_KERNEL_ACCOUNT);

				if (!runs)
					return -ENOMEM;
				fv->runs = runs;
				fv->runs_cap = cap;
			}
			n = min(nr_pages, FRAMEVEC_RUN_MAX_PAGES);
			fv->runs[fv->nr_runs++] = ((u64)pfn << FRAMEVEC_RUN_LEN_BITS) | (n - 1);
			seg->nr_runs++;
		}
		seg->nr_pages += n;
		pfn += n;
		nr_pages -= n;
	}
	return 0;
}

/**
 * framevec_add_pfnmap() - add the pfns a VM_PFNMAP VMA maps to a segment
 * @fv: the framevec under construction
 * @seg: its segment for [@start, @end) of @vma
 * @vma: the VM_PFNMAP VMA
 * @start: first address
 * @end: end address (exclusive)
 * @what: what the mapping is, for the log line ("videobuf2 buffer", ...)
 *
 * Reads the page table with follow_pfnmap_start(). The caller must already
 * hold what keeps these pfns alive (a reference on their owner, or an MMU
 * interval notifier whose sequence it checks afterwards): the pfns are never
 * used without one. Sets @seg->mem_type from the first pfn.
 *
 * Context: mmap lock held.
 * Return: 0, -EFAULT for an unpopulated page, -EOPNOTSUPP if RAM and device
 * memory are mixed, -ENOMEM. The runs added so far stay in @seg.
 */
int framevec_add_pfnmap(struct framevec *fv, struct framevec_seg *seg,
			struct vm_area_struct *vma, unsigned long start,
			unsigned long end, const char *what)
{
	unsigned long addr;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	for (addr = start; addr < end; addr += PAGE_SIZE) {
		struct follow_pfnmap_args args = { .vma = vma, .address = addr };
		unsigned long pfn;
		bool ram;

		if (follow_pfnmap_start(&args)) {
			fv_user_err("%s at %#lx is not populated; touch or mmap all of it before importing",
				    what, addr);
			return -EFAULT;
		}
		pfn = args.pfn;
		follow_pfnmap_end(&args);

		ram = pfn_valid(pfn);
		if (addr == start) {
			seg->mem_type = ram ? FRAMEVEC_MEM_RAM : FRAMEVEC_MEM_MMIO;
		} else if (ram != (seg->mem_type == FRAMEVEC_MEM_RAM)) {
			fv_user_err("%s at %#lx mixes RAM and device memory; import the parts separately",
				    what, addr);
			return -EOPNOTSUPP;
		}
		ret = framevec_add_pfns(fv, seg, pfn, 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* Release segments [0, nr) in reverse order: exactly the ones imported. */
static void framevec_release_segs(struct framevec *fv, unsigned long nr)
{
	while (nr--) {
		struct framevec_seg *seg = &fv->segs[nr];

		seg->ops->release(fv, seg);
		atomic64_dec(&framevec_stats.refs[seg->ops->id]);
	}
}

/* Second pass: take the references, segment by segment. */
static int framevec_import_segs(struct framevec *fv, struct mm_struct *mm,
				unsigned long end)
{
	unsigned long addr = fv->start, piece_end, i;
	struct vm_area_struct *vma;
	int ret;

	mmap_assert_locked(mm);
	for (i = 0; i < fv->nr_segs; i++) {
		struct framevec_seg *seg = &fv->segs[i];

		/* framevec_check_range() saw every piece under the same lock */
		vma = vma_lookup(mm, addr);
		piece_end = min(end, vma->vm_end);
		ret = framevec_pick_source(vma, addr, piece_end, fv->flags,
					   !!fv->revoke, &seg->ops);
		if (ret)
			goto err_release_segs;
		seg->first_run = fv->nr_runs;
		ret = seg->ops->import(fv, seg, vma, addr, piece_end);
		if (ret) {
			fv->nr_runs = seg->first_run;
			goto err_release_segs;
		}
		atomic64_inc(&framevec_stats.refs[seg->ops->id]);
		fv->nr_pages += seg->nr_pages;
		fv->revocable |= seg->ops->can_revoke;
		addr = piece_end;
	}
	return 0;

err_release_segs:
	framevec_release_segs(fv, i);
	return ret;
}

/* Take or drop the mmap lock for an import, for write if a source needs it */
static int framevec_mmap_lock(struct mm_struct *mm, bool write)
{
	return write ? mmap_write_lock_killable(mm) : mmap_read_lock_killable(mm);
}

static void framevec_mmap_unlock(struct mm_struct *mm, bool write)
{
	if (write)
		mmap_write_unlock(mm);
	else
		mmap_read_unlock(mm);
}

/**
 * __framevec_import() - framevec_import() that also takes internal flags
 * @mm: see framevec_import()
 * @start: see framevec_import()
 * @length: see framevec_import()
 * @flags: FRAMEVEC_* flags, plus FRAMEVEC_ASYNC_REVOKE
 * @revoke: see framevec_import()
 * @priv: see framevec_import()
 *
 * For framevec's own front ends; see framevec_import() for the rest.
 * Return: as framevec_import().
 */
struct framevec *__framevec_import(struct mm_struct *mm, unsigned long start,
				   unsigned long length, unsigned int flags,
				   framevec_revoke_fn revoke, void *priv)
{
	unsigned long end, nr_segs, nr_charge;
	static atomic_long_t next_id;
	bool write_lock = false, need_write;
	struct framevec *fv;
	int ret;

	if (flags & ~(FRAMEVEC_VALID_FLAGS | FRAMEVEC_ASYNC_REVOKE)) {
		fv_user_err("unknown import flags %#x",
			    flags & (unsigned int)~FRAMEVEC_VALID_FLAGS);
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (!length) {
		fv_user_err("zero-length import; pass the buffer's size");
		return ERR_PTR(-EINVAL);
	}
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(length)) {
		fv_user_err("import %#lx+%#lx is not page aligned; align address and length to %lu bytes",
			    start, length, PAGE_SIZE);
		return ERR_PTR(-EINVAL);
	}
	if (check_add_overflow(start, length, &end)) {
		fv_user_err("import %#lx+%#lx wraps around the address space", start, length);
		return ERR_PTR(-EOVERFLOW);
	}
	if (end > mm->task_size) {
		fv_user_err("import %#lx-%#lx ends beyond the user address space", start, end);
		return ERR_PTR(-EFAULT);
	}
	if (length >> PAGE_SHIFT > framevec_max_import_pages) {
		fv_user_err("import of %lu pages is over max_import_pages=%lu; split it or raise the module parameter",
			    length >> PAGE_SHIFT, framevec_max_import_pages);
		return ERR_PTR(-EFBIG);
	}

relock:
	ret = framevec_mmap_lock(mm, write_lock);
	if (ret)
		return ERR_PTR(ret);
	ret = framevec_check_range(mm, start, end, flags, !!revoke, &nr_segs,
				   &nr_charge, &need_write);
	if (ret)
		goto out_unlock;
	if (need_write && !write_lock) {
		/* the VMAs may change while unlocked: check them all again */
		framevec_mmap_unlock(mm, false);
		write_lock = true;
		goto relock;
	}
	ret = framevec_charge(mm, nr_charge);
	if (ret)
		goto out_unlock;

	fv = kzalloc(struct_size(fv, segs, nr_segs), GFP_KERNEL_ACCOUNT);
	if (!fv) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	fv->nr_segs = nr_segs;
	fv->mm = mm;
	fv->flags = flags;
	fv->start = start;
	fv->nr_charged = nr_charge;
	fv->revoke = revoke;
	fv->revoke_priv = priv;
	mutex_init(&fv->lock);
	atomic_set(&fv->nr_maps, 0);

	ret = framevec_import_segs(fv, mm, end);
	if (ret)
		goto err_free;
	framevec_mmap_unlock(mm, write_lock);

	/* Give back the slack of the doubling growth: metadata is exact. */
	if (fv->runs_cap > fv->nr_runs) {
		u64 *runs = kvrealloc(fv->runs, array_size(fv->nr_runs, sizeof(u64)),
				      GFP_KERNEL_ACCOUNT);

		if (runs) {
			fv->runs = runs;
			fv->runs_cap = fv->nr_runs;
		}
	}
	mmgrab(mm);
	fv->id = atomic_long_inc_return(&next_id);
	framevec_stats_add(fv);
	return fv;

err_free:
	kvfree(fv->runs);
	mutex_destroy(&fv->lock);
	kfree(fv);
err_uncharge:
	framevec_uncharge(mm, nr_charge);
out_unlock:
	framevec_mmap_unlock(mm, write_lock);
	return ERR_PTR(ret);
}

/**
 * framevec_import() - hold every byte of a user address range
 * @mm: the address space; the caller keeps it alive (mmget or current->mm)
 * @start: page aligned start address
 * @length: page aligned length in bytes, not zero
 * @flags: FRAMEVEC_WRITE if the device will write the memory
 * @revoke: callback for revocable memory, or NULL to refuse such memory
 * @priv: argument for @revoke
 *
 * Walks the VMAs of [@start, @start + @length) and has each held by the
 * source that understands it. Memory whose owner can take it back (dma-buf,
 * iomem exporter, other VM_PFNMAP) is imported only with a @revoke callback.
 * @revoke may run before framevec_import() returns (the framevec is then
 * returned already revoked). For other VM_PFNMAP memory it runs from an MMU
 * notifier, before the mapping goes: it must not allocate memory nor take a
 * lock that is held anywhere while allocating.
 * User input and every VMA are checked before
 * the first reference is taken. Pinned pages are charged to @mm's
 * RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK.
 *
 * Context: process context, may sleep; takes the mmap lock of @mm for read,
 * or for write if the range has VM_PFNMAP memory only a notifier can watch.
 * Return: the framevec, or an ERR_PTR: -EINVAL (zero length, misaligned),
 * -EOPNOTSUPP (unknown flags, memory no source takes), -EOVERFLOW (range
 * wraps), -EFAULT (beyond the address space or a hole), -EACCES (PROT_NONE or
 * write import of read-only memory), -EFBIG (over max_import_pages), -ENOMEM
 * (over RLIMIT_MEMLOCK or out of memory), -EINTR, or a source's errno. On
 * failure nothing is held and nothing is charged.
 */
struct framevec *framevec_import(struct mm_struct *mm, unsigned long start,
				 unsigned long length, unsigned int flags,
				 framevec_revoke_fn revoke, void *priv)
{
	if (flags & ~FRAMEVEC_VALID_FLAGS) {
		fv_user_err("unknown import flags %#x",
			    flags & (unsigned int)~FRAMEVEC_VALID_FLAGS);
		return ERR_PTR(-EOPNOTSUPP);
	}
	return __framevec_import(mm, start, length, flags, revoke, priv);
}
EXPORT_SYMBOL_GPL(framevec_import);

/**
 * framevec_release() - drop every reference a framevec holds and free it
 * @fv: the framevec, or NULL
 *
 * Every device mapping and vmap must have been undone; a leftover one is a
 * bug of the importer and WARNs. Uncharges RLIMIT_MEMLOCK.
 *
 * Context: process context, may sleep. Cannot fail, allocates nothing.
 */
void framevec_release(struct framevec *fv)
{
	if (!fv)
		return;
	WARN_ON(atomic_read(&fv->nr_maps));
	framevec_stats_del(fv);
	framevec_release_segs(fv, fv->nr_segs);
	framevec_uncharge(fv->mm, fv->nr_charged);
	mmdrop(fv->mm);
	kvfree(fv->runs);
	mutex_destroy(&fv->lock);
	kfree(fv);
}
EXPORT_SYMBOL_GPL(framevec_release);

/**
 * framevec_revoke() - the owner of some of the memory takes it back
 * @fv: the framevec
 *
 * Called by a source. Marks @fv revoked, so that new maps and vmaps fail with
 * -ENODEV, then runs the importer's revoke callback, which must stop every
 * access before it returns. Only the first call has an effect. The source
 * keeps its reference until framevec_release().
 *
 * Context: process context, may sleep; no framevec lock held.
 */
void framevec_revoke(struct framevec *fv)
{
	mutex_lock(&fv->lock);
	if (fv->revoked) {
		mutex_unlock(&fv->lock);
		return;
	}
	WRITE_ONCE(fv->revoked, true);
	mutex_unlock(&fv->lock);
	if (fv->revoke)
		fv->revoke(fv, fv->revoke_priv);
}

/**
 * framevec_nr_pages() - number of pages a framevec holds
 * @fv: the framevec
 *
 * Return: its length in PAGE_SIZE pages.
 */
unsigned long framevec_nr_pages(const struct framevec *fv)
{
	return fv->nr_pages;
}
EXPORT_SYMBOL_GPL(framevec_nr_pages);

/**
 * framevec_is_revoked() - has the memory been taken away?
 * @fv: the framevec
 *
 * Return: true once a source revoked @fv; maps then fail with -ENODEV.
 */
bool framevec_is_revoked(const struct framevec *fv)
{
	return READ_ONCE(fv->revoked);
}
EXPORT_SYMBOL_GPL(framevec_is_revoked);

static void framevec_fill_run(struct framevec_iter *it, struct framevec_run *run)
{
	const struct framevec_seg *seg = &it->fv->segs[it->seg];
	u64 packed = it->fv->runs[it->run];

	run->pfn = framevec_run_pfn(packed);
	run->nr_pages = framevec_run_pages(packed);
	run->source = seg->ops->id;
	run->mem_type = seg->mem_type;
}

/**
 * framevec_run_first() - start iterating the runs of a framevec
 * @it: the cursor to set up
 * @fv: the framevec
 * @run: filled with the first run
 *
 * Runs come in address order; each is physically contiguous and belongs to
 * one source. Use: for (ok = framevec_run_first(); ok; ok = framevec_run_next()).
 *
 * Return: false if @fv has no runs (never the case for an imported framevec).
 */
bool framevec_run_first(struct framevec_iter *it, const struct framevec *fv,
			struct framevec_run *run)
{
	it->fv = fv;
	it->seg = 0;
	it->run = 0;
	if (!fv->nr_runs)
		return false;
	framevec_fill_run(it, run);
	return true;
}
EXPORT_SYMBOL_GPL(framevec_run_first);

/**
 * framevec_run_next() - advance to the next run
 * @it: the cursor from framevec_run_first()
 * @run: filled with the next run
 *
 * Return: false when there are no more runs; @run is then unchanged.
 */
bool framevec_run_next(struct framevec_iter *it, struct framevec_run *run)
{
	const struct framevec *fv = it->fv;

	if (it->run + 1 >= fv->nr_runs)
		return false;
	it->run++;
	while (it->run >= fv->segs[it->seg].first_run + fv->segs[it->seg].nr_runs)
		it->seg++;
	framevec_fill_run(it, run);
	return true;
}
EXPORT_SYMBOL_GPL(framevec_run_next);

/* Number of scatterlist entries for the runs, each at most @max_seg bytes */
static unsigned long framevec_sg_entries(const struct framevec *fv,
					 unsigned long max_seg_pages)
{
	unsigned long i, n = 0;

	for (i = 0; i < fv->nr_runs; i++)
		n += DIV_ROUND_UP(framevec_run_pages(fv->runs[i]), max_seg_pages);
	return n;
}

/**
 * framevec_has_mmio() - does a framevec hold device memory?
 * @fv: the framevec
 *
 * Return: true if a segment is FRAMEVEC_MEM_MMIO; its device mappings are
 * then made entry by entry (see framevec_map()).
 */
bool framevec_has_mmio(const struct framevec *fv)
{
	unsigned long i;

	for (i = 0; i < fv->nr_segs; i++)
		if (fv->segs[i].mem_type == FRAMEVEC_MEM_MMIO)
			return true;
	return false;
}

/* Undo the first @nr entries mapped by framevec_map_entries(). */
static void framevec_unmap_entries(struct device *dev, struct sg_table *sgt,
				   enum dma_data_direction dir, unsigned int nr)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(sgt->sgl, sg, nr, i) {
		if (sg_page(sg))
			dma_unmap_page(dev, sg_dma_address(sg), sg_dma_len(sg), dir);
		else
			dma_unmap_resource(dev, sg_dma_address(sg), sg_dma_len(sg), dir, 0);
	}
}

/*
 * A framevec holding MMIO: map each entry on its own, RAM with
 * dma_map_page() (the entry keeps its page), MMIO with dma_map_resource()
 * (no page, only the DMA address). Each entry maps to one DMA range, so
 * nents == orig_nents. On failure nothing is left mapped.
 */
static int framevec_map_entries(struct framevec *fv, struct device *dev,
				struct sg_table *sgt, enum dma_data_direction dir,
				unsigned long max_seg_pages)
{
	struct scatterlist *sg = sgt->sgl;
	unsigned int done = 0;
	unsigned long s, r, n;

	for (s = 0; s < fv->nr_segs; s++) {
		const struct framevec_seg *seg = &fv->segs[s];

		for (r = seg->first_run; r < seg->first_run + seg->nr_runs; r++) {
			unsigned long pfn = framevec_run_pfn(fv->runs[r]);
			unsigned long left = framevec_run_pages(fv->runs[r]);

			for (; left; left -= n, pfn += n, sg = sg_next(sg), done++) {
				size_t len;
				dma_addr_t addr;

				n = min(left, max_seg_pages);
				len = n << PAGE_SHIFT;
				if (seg->mem_type == FRAMEVEC_MEM_RAM) {
					sg_set_page(sg, pfn_to_page(pfn), len, 0);
					addr = dma_map_page(dev, sg_page(sg), 0, len, dir);
				} else {
					sg->offset = 0;
					sg->length = len;
					addr = dma_map_resource(dev, PFN_PHYS(pfn), len, dir, 0);
				}
				if (dma_mapping_error(dev, addr))
					goto err_unmap;
				sg_dma_address(sg) = addr;
				sg_dma_len(sg) = len;
			}
		}
	}
	sgt->nents = sgt->orig_nents;
	return 0;

err_unmap:
	framevec_unmap_entries(dev, sgt, dir, done);
	return -EIO;
}

/*
 * The direction a framevec is really mapped in. A read-only import (no
 * FRAMEVEC_WRITE: pinned without FOLL_WRITE, copy-on-write not broken) is
 * only ever mapped DMA_TO_DEVICE: a DMA_BIDIRECTIONAL request, which the
 * dma-buf core makes on its own for importers it maps at attach time, is
 * mapped for reading, so an IOMMU refuses the device's writes.
 */
static enum dma_data_direction framevec_map_dir(const struct framevec *fv,
						enum dma_data_direction dir)
{
	if (!(fv->flags & FRAMEVEC_WRITE) && dir == DMA_BIDIRECTIONAL)
		return DMA_TO_DEVICE;
	return dir;
}

/**
 * framevec_map() - map a framevec for DMA by a device
 * @fv: the framevec
 * @dev: the device that will access the memory
 * @dir: the direction of the transfers
 *
 * Builds an sg_table of the runs (split to the device's maximum segment size)
 * and maps it for @dev. RAM-only framevecs are mapped with dma_map_sgtable(),
 * which may merge entries (an IOMMU makes one contiguous range). A framevec
 * holding MMIO (a PCI BAR) is mapped entry by entry: its MMIO entries have
 * no page, only sg_dma_address()/sg_dma_len() from dma_map_resource() on
 * their physical address, and its RAM entries come from dma_map_page(). For
 * such a table, sync only the entries that have a page, with
 * dma_sync_single_for_{cpu,device}(); MMIO needs no sync. Peer-to-peer
 * reachability is not checked: without an IOMMU the device gets the CPU
 * physical address of the BAR. A framevec imported without FRAMEVEC_WRITE
 * cannot be mapped DMA_FROM_DEVICE, and a DMA_BIDIRECTIONAL map of it is
 * made DMA_TO_DEVICE (an IOMMU then refuses device writes).
 *
 * Locking: the table is built and mapped without fv->lock and committed
 * under it (undone if a revocation came first). fv->lock is taken by
 * framevec_revoke() from MMU notifiers, so it is never held while
 * allocating (fs_reclaim -> mmu notifier -> fv->lock).
 *
 * Context: process context, may sleep.
 * Return: the mapped table, to be passed to framevec_unmap(), or an ERR_PTR:
 * -ENODEV if the memory was revoked, -EACCES for a DMA_FROM_DEVICE mapping
 * of a read-only import, -ENOMEM, -EIO if an MMIO or RAM entry cannot be mapped,
 * or the DMA API's errno. Nothing is left mapped on failure.
 */
struct sg_table *framevec_map(struct framevec *fv, struct device *dev,
			      enum dma_data_direction dir)
{
	unsigned long max_seg_pages, i, n;
	bool mmio = framevec_has_mmio(fv);
	struct scatterlist *sg;
	struct sg_table *sgt;
	int ret;

	if (framevec_is_revoked(fv))
		return ERR_PTR(-ENODEV);
	if (dir == DMA_FROM_DEVICE && !(fv->flags & FRAMEVEC_WRITE))
		return ERR_PTR(-EACCES);
	dir = framevec_map_dir(fv, dir);

	max_seg_pages = min_t(unsigned int, dma_get_max_seg_size(dev), SZ_1G) >> PAGE_SHIFT;
	max_seg_pages = max(1UL, max_seg_pages);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);

	ret = sg_alloc_table(sgt, framevec_sg_entries(fv, max_seg_pages), GFP_KERNEL);
	if (ret)
		goto err_free_sgt;
	if (mmio) {
		ret = framevec_map_entries(fv, dev, sgt, dir, max_seg_pages);
		if (ret)
			goto err_free_table;
	} else {
		sg = sgt->sgl;
		for (i = 0; i < fv->nr_runs; i++) {
			unsigned long pfn = framevec_run_pfn(fv->runs[i]);
			unsigned long left = framevec_run_pages(fv->runs[i]);

			for (; left; left -= n, pfn += n, sg = sg_next(sg)) {
				n = min(left, max_seg_pages);
				sg_set_page(sg, pfn_to_page(pfn), n << PAGE_SHIFT, 0);
			}
		}
		ret = dma_map_sgtable(dev, sgt, dir, 0);
		if (ret)
			goto err_free_table;
	}

	mutex_lock(&fv->lock);
	if (fv->revoked) {
		mutex_unlock(&fv->lock);
		ret = -ENODEV;
		goto err_unmap;
	}
	atomic_inc(&fv->nr_maps);
	atomic64_inc(&framevec_stats.device_maps);
	mutex_unlock(&fv->lock);
	return sgt;

err_unmap:
	if (mmio)
		framevec_unmap_entries(dev, sgt, dir, sgt->nents);
	else
		dma_unmap_sgtable(dev, sgt, dir, 0);
err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(framevec_map);

/**
 * framevec_unmap() - undo framevec_map()
 * @fv: the framevec
 * @dev: the device given to framevec_map()
 * @sgt: the table it returned
 * @dir: the direction given to framevec_map()
 *
 * Context: process context, may sleep. Cannot fail.
 */
void framevec_unmap(struct framevec *fv, struct device *dev,
		    struct sg_table *sgt, enum dma_data_direction dir)
{
	dir = framevec_map_dir(fv, dir);
	if (framevec_has_mmio(fv))
		framevec_unmap_entries(dev, sgt, dir, sgt->nents);
	else
		dma_unmap_sgtable(dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
	atomic64_dec(&framevec_stats.device_maps);
	atomic_dec(&fv->nr_maps);
}
EXPORT_SYMBOL_GPL(framevec_unmap);

/**
 * framevec_vmap() - map a framevec into the kernel's address space
 * @fv: the framevec
 * @map: set to the virtually contiguous mapping
 *
 * Only RAM can be vmapped: MMIO (a PCI BAR) would need an ioremap with an
 * iosys_map of I/O memory for each run, which no importer asked for yet, so a
 * framevec holding MMIO is refused.
 *
 * Context: process context, may sleep.
 * Return: 0, -ENODEV if revoked, -EOPNOTSUPP for MMIO or memory without
 * struct page, or -ENOMEM. @map is unchanged on failure.
 */
int framevec_vmap(struct framevec *fv, struct iosys_map *map)
{
	struct page **pages;
	unsigned long i, j, n = 0;
	void *vaddr;

	if (framevec_is_revoked(fv))
		return -ENODEV;
	if (framevec_has_mmio(fv))
		return -EOPNOTSUPP;
	for (i = 0; i < fv->nr_runs; i++)
		if (!pfn_valid(framevec_run_pfn(fv->runs[i])))
			return -EOPNOTSUPP;

	pages = kvmalloc_array(fv->nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < fv->nr_runs; i++)
		for (j = 0; j < framevec_run_pages(fv->runs[i]); j++)
			pages[n++] = pfn_to_page(framevec_run_pfn(fv->runs[i]) + j);

	/* vmap() allocates: commit under fv->lock only (see framevec_map()) */
	vaddr = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	if (!vaddr)
		return -ENOMEM;
	mutex_lock(&fv->lock);
	if (fv->revoked) {
		mutex_unlock(&fv->lock);
		vunmap(vaddr);
		return -ENODEV;
	}
	iosys_map_set_vaddr(map, vaddr);
	atomic_inc(&fv->nr_maps);
	mutex_unlock(&fv->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(framevec_vmap);

/**
 * framevec_vunmap() - undo framevec_vmap()
 * @fv: the framevec
 * @map: the mapping framevec_vmap() set
 *
 * Context: process context, may sleep. Cannot fail.
 */
void framevec_vunmap(struct framevec *fv, struct iosys_map *map)
{
	vunmap(map->vaddr);
	iosys_map_clear(map);
	atomic_dec(&fv->nr_maps);
}
EXPORT_SYMBOL_GPL(framevec_vunmap);
