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
 * Write rule (the one place it is written down; the front ends point here).
 * A framevec imported without FRAMEVEC_WRITE is never written by anyone
 * framevec hands it to: pages are pinned without FOLL_WRITE (copy-on-write
 * is not broken, so they may be a file's page cache, a sealed memfd or a
 * page shared with another process), device maps are made DMA_TO_DEVICE
 * only (DMA_FROM_DEVICE and DMA_BIDIRECTIONAL are -EACCES, so the dma-buf
 * core's attach-time DMA_BIDIRECTIONAL map fails too), framevec_vmap()
 * returns a read-only mapping, and the dma-buf front end refuses vmaps
 * (which have no direction) and writable mmaps. Write imports of memory
 * whose owner forbids writes are refused before any reference is taken:
 * read-only VMAs (-EACCES) and write-sealed memfds (-EPERM). Special
 * mappings ([vdso], [vvar], ...) are not memory of the process: -ENXIO.
 *
 * Cache attributes (the one place the rule is written down). Each segment
 * records its owner's cache attribute, read from the owner VMA's
 * vm_page_prot (framevec_vma_cache(): write-back, write-combine, uncached
 * or pgprot_device(), arm64's Device-nGnRE of sysfs BAR mappings; anything
 * else is refused at import). Every CPU mapping framevec
 * makes of the memory, the dma-buf front end's user mmap and
 * framevec_vmap(), has that attribute (framevec_cpu_prot()), so that no
 * cacheable alias of uncached memory is ever made. The cache-attr suite
 * (tests/selftests/cache_attr_test.c) checks it on the page-table entries
 * themselves, against the owner's mapping, for each kind of owner.
 *
 * Accounting. Pinned pages (sources with @pins_pages) are charged to the
 * importing user's user_struct->locked_vm against the importing task's
 * RLIMIT_MEMLOCK, as iommufd's IOPT_PAGES_ACCOUNT_USER and io_uring do, so
 * that fd passing, exec and fork cannot multiply the limit; CAP_IPC_LOCK
 * skips the charge. They also show in the mm's pinned_vm (VmPin), for
 * information only. The charge belongs to the framevec and is returned by
 * framevec_release(), whoever calls it.
 *
 * Revocation. Sources whose owner can take the memory back (iomem: the
 * exporting driver; revocable: an MMU notifier) call framevec_revoke(),
 * from process context (a driver's call, a work item) or from an MMU
 * notifier's invalidate (blockable only; reclaim may be below it). It
 *   1. takes fv->revoke_lock: a second revoker waits for the first to end;
 *   2. marks the framevec revoked under fv->lock: from then on maps and
 *      vmaps fail with -ENODEV (they commit under fv->lock);
 *   3. runs the importer's callback, which must stop every DMA and CPU
 *      access before it returns (framevec's dma-buf front end zaps the
 *      user mmaps, sends move_notify and waits for the importers' fences);
 *   4. DMA-unmaps every device mapping still live (struct framevec_mapping),
 *      so that behind an IOMMU even an importer that ignored the callback
 *      gets a fault instead of the memory; its framevec_unmap() only frees.
 * Revocable framevecs are never vmapped: a kernel mapping cannot be taken
 * from its user. When framevec_revoke() returns, no device mapping, vmap,
 * user PTE of a framevec dma-buf or nested import reaches the memory, and
 * the owner may free it. The callback runs under fv->revoke_lock: it must
 * not call framevec_release() nor wait for anything that does; from an MMU
 * notifier it must not allocate memory.
 *
 * Fast path (the one place it is written down; source_pages.c points here).
 * For the importing task's own mm, when every VMA of the range goes to a
 * source with @import_unlocked (the pages source), the VMAs are checked
 * under the mmap read lock exactly as below, the lock is dropped, and the
 * pages are pinned with pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE]),
 * as iommufd does. The range may be remapped between the check and the pin;
 * what is pinned is still safe:
 *   - GUP applies the rules that protect memory to whatever the range maps
 *     when it pins: FOLL_LONGTERM refuses VM_IO/VM_PFNMAP, fs-dax and, with
 *     FOLL_WRITE, shared mappings of files whose writeback tracks dirt
 *     (gup-fast refuses their folios, the slow path their VMA); FOLL_WRITE
 *     refuses VMAs without VM_WRITE; a read-only import pins without
 *     FOLL_WRITE and the write rule below never depends on what was pinned.
 *   - Accounting does not depend on the VMAs: the range's pages are charged
 *     before the first pin, and exactly that many are pinned or none.
 *   - What GUP does not know (special mappings, write seals, the owner's
 *     cache attribute recorded in each segment) holds because the pages
 *     pinned are those of the VMAs checked: an MMU interval notifier over
 *     the range, inserted before the check, fires on every change of what
 *     the range maps (munmap, mremap and MAP_FIXED unmap it first). If it
 *     fired before the pin ended, the pins are dropped and the import starts
 *     again on the locked path, which cannot race.
 * Another mm, a range with any other source (VM_PFNMAP, dma-buf mappings),
 * or a notifier that cannot be inserted take the locked path. A range of
 * the importing task's own mm whose sources need the mmap lock only for
 * read is imported on the locked path there and then, under the read lock
 * its check was made under, so it is checked once; one that needs the
 * write lock takes the locked path from the start.
 *
 * Locking. The locked path walks the VMAs with the mmap lock held from the
 * first check to the last reference, so the checks hold for the import: for
 * read, or for write when a source needs it (an MMU interval notifier is
 * inserted under the write lock); the VMAs are then checked again under it.
 * fv->lock is taken from MMU notifiers (framevec_revoke()), so nothing
 * allocates under it. Order: fv->revoke_lock -> (callback locks) ->
 * fv->lock. The object has a single owner (the importer): import, release
 * and iteration are not concurrent with each other.
 *
 * Fault injection (CONFIG_FAULT_INJECTION only; debugfs
 * framevec/fail_framevec, the fault_attr knobs of
 * Documentation/fault-injection). Where the kernel's own points (failslab,
 * fail_page_alloc, fail_usercopy) do not reach, framevec_should_fail()
 * makes these fail, so that their unwinds can be swept with
 * /proc/thread-self/fail-nth like any allocation:
 *   - pin: each batch of the pages source's pin_user_pages() fails with
 *     -ENOMEM, as GUP does when it cannot allocate;
 *   - charge: framevec_charge() fails with -ENOMEM, as RLIMIT_MEMLOCK does
 *     (which CAP_IPC_LOCK, and so a root test, never sees);
 *   - attach: the dma-buf front end's attach fails with -ENOMEM.
 * Without CONFIG_FAULT_INJECTION framevec_should_fail() is false at compile
 * time.
 *
 * Vocabulary. Addresses: [start, end) with end exclusive; lengths in bytes;
 * nr_pages counts PAGE_SIZE pages. Overflow traps: start + length is checked
 * with check_add_overflow() and against the mm's task_size.
 */
#include <linux/bitmap.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/fcntl.h>
#include <linux/hugetlb.h>
#include <linux/iommu.h>
#include <linux/iosys-map.h>
#include <linux/lockdep.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/sched/mm.h>
#include <linux/sched/user.h>
#include <linux/scatterlist.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "framevec_internal.h"

/*
 * Sources in the order they are asked; the first that takes a VMA wins. The
 * dma-buf source comes before vb2 (a vb2 buffer mmapped through its dma-buf
 * has vb2's vm_ops on a dma-buf file); iomem, one pointer comparison, before
 * vb2, whose check looks its vm_ops up in the symbol tables (symbol_get()).
 */
static const struct framevec_source_ops *const framevec_sources[] = {
	&framevec_pages_source,
	&framevec_dmabuf_source,
	&framevec_iomem_source,
	&framevec_vb2_source,
	&framevec_revocable_source,	/* last: any VM_PFNMAP nobody else took */
};

#define FRAMEVEC_VALID_FLAGS	(FRAMEVEC_WRITE)
#define FRAMEVEC_RUNS_MIN	16

/*
 * The revoke lock of a framevec that an MMU notifier can revoke is taken
 * under reclaim; that of the dma-buf front end nests its fault path, which
 * allocates. They never nest each other: two lockdep classes.
 */
static struct lock_class_key framevec_notifier_revoke_key;
static struct lock_class_key framevec_async_revoke_key;

#if IS_ENABLED(CONFIG_FAULT_INJECTION)
static DECLARE_FAULT_ATTR(framevec_fail_attr);

/* Should this fault-injection point fail? See "Fault injection" above. */
bool framevec_should_fail(void)
{
	return should_fail(&framevec_fail_attr, 1);
}

/* An ERR_PTR without FAULT_INJECTION_DEBUG_FS: fail-nth works all the same */
void framevec_fault_debugfs_init(struct dentry *dir)
{
	fault_create_debugfs_attr("fail_framevec", dir, &framevec_fail_attr);
}
#endif

/**
 * framevec_pfn_is_ram() - is a page frame system RAM with a struct page?
 * @pfn: the frame
 *
 * pfn_valid() alone is not "RAM": reserved firmware ranges and ZONE_DEVICE
 * (P2P) pages have a struct page but are not memory framevec may vmap,
 * dma_map_page() or treat as cacheable. Those are treated as MMIO.
 *
 * Return: true for a frame of "System RAM" with an ordinary struct page.
 */
bool framevec_pfn_is_ram(unsigned long pfn)
{
	return pfn_valid(pfn) && page_is_ram(pfn) &&
	       !is_zone_device_page(pfn_to_page(pfn));
}

/* Is @file a memfd (shmem or hugetlbfs) that its owner sealed against writes? */
static bool framevec_file_write_sealed(struct file *file)
{
	unsigned int seals;

	if (!file)
		return false;
	if (shmem_file(file))
		seals = READ_ONCE(SHMEM_I(file_inode(file))->seals);
	else if (is_file_hugepages(file))
		seals = READ_ONCE(HUGETLBFS_I(file_inode(file))->seals);
	else
		return false;
	return seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
}

/*
 * A special mapping ([vdso], [vvar], [uprobes], the arm sigpage) is the
 * kernel's code or data mapped into the process: no file, and named by its
 * vm_ops (_install_special_mapping()). Writing it changes what every process
 * runs.
 */
static bool framevec_vma_is_special(struct vm_area_struct *vma)
{
	return !vma->vm_file && vma->vm_ops && vma->vm_ops->name;
}

/**
 * framevec_cache_prot() - apply a recorded cache attribute to a pgprot
 * @prot: a cacheable pgprot (vm_get_page_prot(), PAGE_KERNEL, ...)
 * @cache: enum framevec_cache
 * @decrypted: apply pgprot_decrypted() too
 *
 * Return: @prot with the attribute.
 */
static pgprot_t framevec_cache_prot(pgprot_t prot, u8 cache, bool decrypted)
{
	if (cache == FRAMEVEC_CACHE_WC)
		prot = pgprot_writecombine(prot);
	else if (cache == FRAMEVEC_CACHE_UC)
		prot = pgprot_noncached(prot);
	else if (cache == FRAMEVEC_CACHE_DEV)
		prot = pgprot_device(prot);
	return decrypted ? pgprot_decrypted(prot) : prot;
}

/*
 * The cache attribute of the owner's mapping, read from the VMA's
 * vm_page_prot by comparing it with what each attribute makes of the VMA's
 * own base protection (with and without write-notify, which clears the
 * write bit). Uncached is tried before pgprot_device(), which is the same
 * on every architecture but arm64. Return 0, or -EOPNOTSUPP for an
 * attribute framevec cannot reproduce.
 */
static int framevec_vma_cache(struct vm_area_struct *vma, u8 *cache, bool *decrypted)
{
	static const u8 modes[] = {
		FRAMEVEC_CACHE_WB, FRAMEVEC_CACHE_WC, FRAMEVEC_CACHE_UC, FRAMEVEC_CACHE_DEV,
	};
	pgprot_t bases[2] = {
		vm_get_page_prot(vma->vm_flags),
		vm_get_page_prot(vma->vm_flags & ~VM_SHARED),
	};
	unsigned int b, m, d;

	for (d = 0; d < 2; d++)
		for (b = 0; b < ARRAY_SIZE(bases); b++)
			for (m = 0; m < ARRAY_SIZE(modes); m++)
				if (pgprot_val(framevec_cache_prot(bases[b], modes[m], d)) ==
				    pgprot_val(vma->vm_page_prot)) {
					*cache = modes[m];
					*decrypted = d;
					return 0;
				}
	return -EOPNOTSUPP;
}

/**
 * framevec_judge_vma() - which source would take a VMA, or why none would
 * @vma: the VMA
 * @flags: FRAMEVEC_* import flags
 * @can_revoke: the importer passed a revoke callback
 * @v: the verdict: the source, or an errno and a sentence saying what to do
 *
 * Takes no reference and logs nothing; used by the import and by explain.
 * Applies the write rule (see the top of this file) before any source.
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
	if (framevec_vma_is_special(vma))
		return v->err = fv_refuse(&v->why, -ENXIO,
			"is a special kernel mapping ([vdso], [vvar], ...), not memory of the process; import a buffer you allocated");
	if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return v->err = fv_refuse(&v->why, -EACCES,
			"is PROT_NONE; mprotect() it readable before importing");
	if ((flags & FRAMEVEC_WRITE) && !(vma->vm_flags & VM_WRITE))
		return v->err = fv_refuse(&v->why, -EACCES,
			"is read-only; import it without the write flag or map it writable");
	if ((flags & FRAMEVEC_WRITE) && framevec_file_write_sealed(vma->vm_file))
		return v->err = fv_refuse(&v->why, -EPERM,
			"is a memfd sealed against writes (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE); import it without the write flag");
	if (framevec_vma_cache(vma, &v->cache, &v->decrypted))
		return v->err = fv_refuse(&v->why, -EOPNOTSUPP,
			"is mapped with a cache attribute framevec cannot reproduce (not write-back, write-combine, uncached or device); import a buffer mapped with one of those");

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

/*
 * Choose the source for @seg, the piece [@start, @end) of @vma, and record
 * what the VMA says about it; log one line on refusal.
 */
static int framevec_setup_seg(struct framevec *fv, struct framevec_seg *seg,
			      struct vm_area_struct *vma, unsigned long start,
			      unsigned long end)
{
	struct framevec_verdict v;

	if (framevec_judge_vma(vma, fv->flags, !!fv->revoke, &v)) {
		fv_user_err("range %#lx-%#lx %s (error %d)", start, end, v.why, v.err);
		return v.err;
	}
	seg->ops = v.ops;
	seg->cache = v.cache;
	seg->decrypted = v.decrypted;
	seg->start = start;
	seg->end = end;
	return 0;
}

/* The number of VMA pieces of [@start, @end), up to the first hole */
static unsigned long framevec_count_pieces(struct mm_struct *mm, unsigned long start,
					   unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long n = 0;

	mmap_assert_locked(mm);
	for (; start < end && (vma = vma_lookup(mm, start)); start = vma->vm_end)
		n++;
	return n;
}

/*
 * With the mmap lock held since framevec_count_pieces() counted
 * @fv->nr_segs, and no reference taken: every byte of [@fv->start, @end)
 * must be mapped and taken by a source, which each segment records (one
 * judgement per VMA piece). Counts the pages that will be charged to
 * RLIMIT_MEMLOCK; *@unlocked tells whether every source can take its piece
 * without the lock (see "Fast path").
 */
static int framevec_check_range(struct framevec *fv, struct mm_struct *mm,
				unsigned long end, unsigned long *nr_charge,
				bool *need_write, bool *unlocked)
{
	unsigned long addr = fv->start, i;
	struct vm_area_struct *vma;
	int ret;

	mmap_assert_locked(mm);
	*nr_charge = 0;
	*need_write = false;
	*unlocked = true;
	for (i = 0; addr < end; i++) {
		vma = vma_lookup(mm, addr);
		if (!vma) {
			fv_user_err("no mapping at %#lx inside the imported range; import only mapped memory",
				    addr);
			return -EFAULT;
		}
		/* counted under the same lock */
		if (WARN_ON_ONCE(i >= fv->nr_segs))
			return -EFAULT;
		ret = framevec_setup_seg(fv, &fv->segs[i], vma, addr, min(end, vma->vm_end));
		if (ret)
			return ret;
		*need_write |= fv->segs[i].ops->needs_mmap_write;
		*unlocked &= !!fv->segs[i].ops->import_unlocked;
		if (fv->segs[i].ops->pins_pages)
			*nr_charge += (fv->segs[i].end - addr) >> PAGE_SHIFT;
		addr = fv->segs[i].end;
	}
	return 0;
}

/*
 * Charge @nr_pages pinned pages (see "Accounting" at the top): to the
 * current user's locked_vm under the current task's RLIMIT_MEMLOCK unless
 * it has CAP_IPC_LOCK, and to @fv->mm's pinned_vm for VmPin.
 */
static int framevec_charge(struct framevec *fv, unsigned long nr_pages)
{
	unsigned long limit, cur, new;
	struct user_struct *user;

	if (!nr_pages)
		return 0;
	if (framevec_should_fail())
		return -ENOMEM;
	if (!capable(CAP_IPC_LOCK)) {
		user = get_uid(current_user());
		limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		cur = atomic_long_read(&user->locked_vm);
		do {
			if (check_add_overflow(cur, nr_pages, &new) || new > limit) {
				free_uid(user);
				fv_user_err("import of %lu pages exceeds RLIMIT_MEMLOCK (%lu pages, %lu locked by this user); raise ulimit -l or grant CAP_IPC_LOCK",
					    nr_pages, limit, cur);
				return -ENOMEM;
			}
		} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
		fv->user = user;
	}
	atomic64_add(nr_pages, &fv->mm->pinned_vm);
	fv->nr_charged = nr_pages;
	return 0;
}

static void framevec_uncharge(struct framevec *fv)
{
	if (!fv->nr_charged)
		return;
	atomic64_sub(fv->nr_charged, &fv->mm->pinned_vm);
	if (fv->user) {
		atomic_long_sub(fv->nr_charged, &fv->user->locked_vm);
		free_uid(fv->user);
		fv->user = NULL;
	}
	fv->nr_charged = 0;
}

/* Make room for @more runs; -ENOMEM leaves @fv unchanged. */
static int framevec_reserve_runs(struct framevec *fv, unsigned long more)
{
	unsigned long cap;
	u64 *runs;

	if (fv->runs_cap - fv->nr_runs >= more)
		return 0;
	cap = max3(fv->runs_cap * 2, fv->nr_runs + more, (unsigned long)FRAMEVEC_RUNS_MIN);
	runs = kvrealloc(fv->runs, array_size(cap, sizeof(u64)), GFP_KERNEL_ACCOUNT);
	if (!runs)
		return -ENOMEM;
	fv->runs = runs;
	fv->runs_cap = cap;
	return 0;
}

/**
 * framevec_add_pfns() - append frames to the segment being imported
 * @fv: the framevec under construction
 * @seg: its last segment, the one being imported
 * @pfn: first frame
 * @nr_pages: number of contiguous frames
 *
 * Extends the segment's last run when @pfn continues it, else adds runs.
 * Room for every new run is made before anything changes: a caller that
 * gets -ENOMEM still owns exactly the frames it passed (the pages source
 * unpins them itself), none of which is in a run.
 *
 * Return: 0, or -ENOMEM with @fv and @seg unchanged.
 */
int framevec_add_pfns(struct framevec *fv, struct framevec_seg *seg,
		      unsigned long pfn, unsigned long nr_pages)
{
	u64 *last = seg->nr_runs ? &fv->runs[fv->nr_runs - 1] : NULL;
	unsigned long extend = 0, n;
	int ret;

	if (last && framevec_run_pfn(*last) + framevec_run_pages(*last) == pfn)
		extend = min(nr_pages, FRAMEVEC_RUN_MAX_PAGES - framevec_run_pages(*last));
	ret = framevec_reserve_runs(fv, DIV_ROUND_UP(nr_pages - extend,
						     FRAMEVEC_RUN_MAX_PAGES));
	if (ret)
		return ret;

	if (extend) {
		/* the array may have moved */
		fv->runs[fv->nr_runs - 1] += extend;
		seg->nr_pages += extend;
		pfn += extend;
		nr_pages -= extend;
	}
	while (nr_pages) {
		n = min(nr_pages, FRAMEVEC_RUN_MAX_PAGES);
		fv->runs[fv->nr_runs++] = ((u64)pfn << FRAMEVEC_RUN_LEN_BITS) | (n - 1);
		seg->nr_runs++;
		seg->nr_pages += n;
		pfn += n;
		nr_pages -= n;
	}
	return 0;
}

/* Read the pfn mapped at @addr, faulting it in once if it is not mapped. */
static int framevec_follow_pfn(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long *pfn)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };

	if (follow_pfnmap_start(&args)) {
		/* the mmap lock stays held: no "unlocked" pointer */
		if (fixup_user_fault(vma->vm_mm, addr, 0, NULL) ||
		    follow_pfnmap_start(&args))
			return -EFAULT;
	}
	*pfn = args.pfn;
	follow_pfnmap_end(&args);
	return 0;
}

/*
 * One read of the page table: at most FRAMEVEC_WALK_PAGES PTEs, gathered
 * on the stack as at most FRAMEVEC_WALK_RUNS runs of contiguous pfns
 * (packed as framevec->runs), so that a PTE costs a comparison and an
 * increment, and nothing is allocated.
 */
#define FRAMEVEC_WALK_PAGES	(16 * PTRS_PER_PTE)
#define FRAMEVEC_WALK_RUNS	32

/* The PTEs of one walk, in address order, up to the first hole */
struct framevec_pfn_walk {
	unsigned long next;	/* the address the next PTE must map */
	unsigned long next_pfn;	/* the pfn that extends the last run */
	unsigned int nr_runs;
	u64 runs[FRAMEVEC_WALK_RUNS];
};

/*
 * Add the pfn mapped at @w->next; false if it needs a run and none is
 * left. Inline: it runs for every PTE.
 */
static inline bool framevec_walk_add(struct framevec_pfn_walk *w, unsigned long pfn)
{
	BUILD_BUG_ON(FRAMEVEC_WALK_PAGES > FRAMEVEC_RUN_MAX_PAGES);
	if (w->nr_runs && pfn == w->next_pfn)
		w->runs[w->nr_runs - 1]++;	/* nr_pages - 1 is in the low bits */
	else if (w->nr_runs < FRAMEVEC_WALK_RUNS)
		w->runs[w->nr_runs++] = (u64)pfn << FRAMEVEC_RUN_LEN_BITS;
	else
		return false;
	w->next_pfn = pfn + 1;
	w->next += PAGE_SIZE;
	return true;
}

/* apply_to_existing_page_range() callback, under the PTE lock */
static int framevec_pte_pfn(pte_t *ptep, unsigned long addr, void *data)
{
	struct framevec_pfn_walk *w = data;
	pte_t pte = ptep_get(ptep);

	/* it skips empty PTEs: an address out of turn follows a hole */
	if (addr != w->next || !pte_present(pte))
		return -ENOENT;
	return framevec_walk_add(w, pte_pfn(pte)) ? 0 : -ENOSPC;
}

/*
 * Read the pfns of [@addr, @end) of @vma into @w, up to the first that is
 * not mapped or until @w is full; @w->next is where the next read starts.
 * A VMA without a huge_fault handler maps only PTEs (remap_pfn_range(),
 * vmf_insert_pfn()): read them with one walk and one PTE lock per page
 * table. Otherwise a PMD or PUD leaf may map it, which
 * apply_to_existing_page_range() does not take, and follow_pfnmap_args
 * does not say how large the leaf is: read the pfns one by one. A first
 * page that is not mapped is faulted in through the mapping's own fault
 * handler. Return 0 with at least one pfn read, or -EFAULT.
 */
static int framevec_read_pfns(struct vm_area_struct *vma, unsigned long addr,
			      unsigned long end, struct framevec_pfn_walk *w)
{
	unsigned long stop = addr + (min((end - addr) >> PAGE_SHIFT,
					 FRAMEVEC_WALK_PAGES) << PAGE_SHIFT);
	unsigned long pfn;

	w->next = addr;
	w->nr_runs = 0;
	if (!vma->vm_ops || !vma->vm_ops->huge_fault) {
		/* stops at a hole: what it read up to there is good */
		apply_to_existing_page_range(vma->vm_mm, addr, stop - addr,
					     framevec_pte_pfn, w);
		if (w->next != addr)
			return 0;
		stop = addr + PAGE_SIZE;	/* the hole: fault it in, then walk on */
	}
	while (w->next < stop) {
		if (framevec_follow_pfn(vma, w->next, &pfn))
			return w->next != addr ? 0 : -EFAULT;
		if (!framevec_walk_add(w, pfn))
			break;
	}
	return 0;
}

/*
 * RAM or MMIO: is every frame of [@pfn, @pfn + @nr) system RAM with a struct
 * page (as framevec_pfn_is_ram()), none, or some? One look at the resource
 * tree for the whole run, not one per page. Return 1, 0 or -1.
 */
static int framevec_pfns_are_ram(unsigned long pfn, unsigned long nr)
{
	bool first;

	switch (region_intersects(PFN_PHYS(pfn), nr << PAGE_SHIFT,
				  IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE)) {
	case REGION_INTERSECTS:
		/* System RAM throughout: check its ends as framevec_pfn_is_ram() does */
		first = framevec_pfn_is_ram(pfn);
		if (nr > 1 && framevec_pfn_is_ram(pfn + nr - 1) != first)
			return -1;
		return first;
	case REGION_DISJOINT:
		return 0;
	default:
		return -1;
	}
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
 * Reads the page table, with one walk over up to FRAMEVEC_WALK_PAGES
 * (one PTE lock per page table) where the mapping has only PTEs, else with
 * follow_pfnmap_start() page by page (see framevec_read_pfns()), faulting
 * in a page that is not mapped yet through the mapping's own fault handler.
 * Allocates nothing but runs. Each physically contiguous stretch is added
 * as one run and classified RAM or MMIO once. The caller must already
 * hold what keeps these pfns alive (a reference on their owner, or an MMU
 * interval notifier whose sequence it checks afterwards): the pfns are
 * never used without one. Sets @seg->mem_type from the first pfn.
 *
 * Context: mmap lock held.
 * Return: 0, -EFAULT for a page that cannot be mapped, -EOPNOTSUPP if RAM
 * and device memory are mixed, -ENOMEM. The runs added so far stay in @seg.
 */
int framevec_add_pfnmap(struct framevec *fv, struct framevec_seg *seg,
			struct vm_area_struct *vma, unsigned long start,
			unsigned long end, const char *what)
{
	unsigned long addr, va, pfn, n;
	struct framevec_pfn_walk w;
	unsigned int i;
	int ram, ret;

	mmap_assert_locked(vma->vm_mm);
	for (addr = start; addr < end; addr = w.next) {
		if (framevec_read_pfns(vma, addr, end, &w)) {
			fv_user_err("%s at %#lx is not mapped and cannot be faulted in; import only what the buffer maps",
				    what, addr);
			return -EFAULT;
		}
		for (i = 0, va = addr; i < w.nr_runs; i++, va += n << PAGE_SHIFT) {
			pfn = framevec_run_pfn(w.runs[i]);
			n = framevec_run_pages(w.runs[i]);
			ram = framevec_pfns_are_ram(pfn, n);
			if (va == start && ram >= 0) {
				seg->mem_type = ram ? FRAMEVEC_MEM_RAM : FRAMEVEC_MEM_MMIO;
			} else if (ram != (seg->mem_type == FRAMEVEC_MEM_RAM)) {
				fv_user_err("%s at %#lx mixes RAM and device memory; import the parts separately",
					    what, va);
				return -EOPNOTSUPP;
			}
			ret = framevec_add_pfns(fv, seg, pfn, n);
			if (ret)
				return ret;
		}
		cond_resched();
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

/* @seg holds its references: account for it in @fv */
static void framevec_seg_imported(struct framevec *fv, struct framevec_seg *seg)
{
	/* an owner that maps it uncached keeps no cache lines of it */
	seg->dma_coherent |= seg->cache != FRAMEVEC_CACHE_WB;
	atomic64_inc(&framevec_stats.refs[seg->ops->id]);
	fv->nr_pages += seg->nr_pages;
	fv->revocable |= seg->ops->can_revoke;
}

/* Second pass: take the references, segment by segment. */
static int framevec_import_segs(struct framevec *fv, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	unsigned long i;
	int ret;

	mmap_assert_locked(mm);
	for (i = 0; i < fv->nr_segs; i++) {
		struct framevec_seg *seg = &fv->segs[i];

		/* framevec_check_range() judged every piece under the same lock */
		vma = vma_lookup(mm, seg->start);
		seg->first_run = fv->nr_runs;
		ret = seg->ops->import(fv, seg, vma, seg->start, seg->end);
		if (ret) {
			fv->nr_runs = seg->first_run;
			goto err_release_segs;
		}
		framevec_seg_imported(fv, seg);
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

/* Check what the user passed before looking at a single VMA. */
static int framevec_check_args(struct mm_struct *mm, unsigned long start,
			       unsigned long length, unsigned int flags,
			       unsigned long *end)
{
	if (flags & ~(FRAMEVEC_VALID_FLAGS | FRAMEVEC_ASYNC_REVOKE)) {
		fv_user_err("unknown import flags %#x",
			    flags & (unsigned int)~FRAMEVEC_VALID_FLAGS);
		return -EOPNOTSUPP;
	}
	if (!length) {
		fv_user_err("zero-length import; pass the buffer's size");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(length)) {
		fv_user_err("import %#lx+%#lx is not page aligned; align address and length to %lu bytes",
			    start, length, PAGE_SIZE);
		return -EINVAL;
	}
	if (check_add_overflow(start, length, end)) {
		fv_user_err("import %#lx+%#lx wraps around the address space", start, length);
		return -EOVERFLOW;
	}
	if (*end > mm->task_size) {
		fv_user_err("import %#lx-%#lx ends beyond the user address space", start, *end);
		return -EFAULT;
	}
	if (length >> PAGE_SHIFT > READ_ONCE(framevec_max_import_pages)) {
		fv_user_err("import of %lu pages is over max_import_pages=%lu; split it or raise the module parameter",
			    length >> PAGE_SHIFT, READ_ONCE(framevec_max_import_pages));
		return -EFBIG;
	}
	return 0;
}

static void framevec_free(struct framevec *fv)
{
	kvfree(fv->runs);
	mutex_destroy(&fv->revoke_lock);
	mutex_destroy(&fv->lock);
	kvfree(fv);
}

/* A framevec of @nr_segs segments, with nothing imported yet */
static struct framevec *framevec_alloc(struct mm_struct *mm, unsigned long start,
				       unsigned long nr_segs, unsigned int flags,
				       framevec_revoke_fn revoke, void *priv)
{
	struct framevec *fv;

	/* at most one segment per page: kvzalloc, never a high-order kzalloc */
	fv = kvzalloc(struct_size(fv, segs, nr_segs), GFP_KERNEL_ACCOUNT);
	if (!fv)
		return NULL;
	fv->nr_segs = nr_segs;
	fv->mm = mm;
	fv->flags = flags;
	fv->start = start;
	fv->revoke = revoke;
	fv->revoke_priv = priv;
	mutex_init(&fv->lock);
	mutex_init(&fv->revoke_lock);
	INIT_LIST_HEAD(&fv->maps);
	atomic_set(&fv->nr_maps, 0);
	return fv;
}

/*
 * First pass, with the mmap lock held: a framevec of one segment per VMA
 * piece of [@start, @end), each judged by framevec_check_range(), nothing
 * imported or charged yet. Return it or an ERR_PTR.
 */
static struct framevec *framevec_alloc_checked(struct mm_struct *mm, unsigned long start,
					       unsigned long end, unsigned int flags,
					       framevec_revoke_fn revoke, void *priv,
					       unsigned long *nr_charge, bool *need_write,
					       bool *unlocked)
{
	struct framevec *fv;
	int ret;

	fv = framevec_alloc(mm, start, framevec_count_pieces(mm, start, end), flags,
			    revoke, priv);
	if (!fv)
		return ERR_PTR(-ENOMEM);
	ret = framevec_check_range(fv, mm, end, nr_charge, need_write, unlocked);
	if (ret) {
		framevec_free(fv);
		return ERR_PTR(ret);
	}
	if (*need_write)
		lockdep_set_class(&fv->revoke_lock, &framevec_notifier_revoke_key);
	else if (flags & FRAMEVEC_ASYNC_REVOKE)
		lockdep_set_class(&fv->revoke_lock, &framevec_async_revoke_key);
	return fv;
}

/*
 * The second half of the locked path, with the mmap lock held since
 * framevec_alloc_checked() made @fv: charge and take the references.
 * Return @fv, or an ERR_PTR with @fv freed; the lock stays held.
 */
static struct framevec *framevec_import_checked(struct framevec *fv, struct mm_struct *mm,
						unsigned long nr_charge)
{
	int ret;

	ret = framevec_charge(fv, nr_charge);
	if (ret)
		goto err_free;
	ret = framevec_import_segs(fv, mm);
	if (ret)
		goto err_uncharge;
	return fv;

err_uncharge:
	framevec_uncharge(fv);
err_free:
	framevec_free(fv);
	return ERR_PTR(ret);
}

/* The import under the mmap lock, from the first check to the last reference */
static struct framevec *framevec_import_locked(struct mm_struct *mm, unsigned long start,
					       unsigned long end, unsigned int flags,
					       framevec_revoke_fn revoke, void *priv)
{
	bool write_lock = false, need_write, unlocked;
	unsigned long nr_charge;
	struct framevec *fv;
	int ret;

relock:
	ret = framevec_mmap_lock(mm, write_lock);
	if (ret)
		return ERR_PTR(ret);
	fv = framevec_alloc_checked(mm, start, end, flags, revoke, priv, &nr_charge,
				    &need_write, &unlocked);
	if (IS_ERR(fv))
		goto out_unlock;
	if (need_write && !write_lock) {
		/* the VMAs may change while unlocked: check them all again */
		framevec_mmap_unlock(mm, false);
		framevec_free(fv);
		write_lock = true;
		goto relock;
	}
	fv = framevec_import_checked(fv, mm, nr_charge);
out_unlock:
	framevec_mmap_unlock(mm, write_lock);
	return fv;
}

/*
 * The fast path's watch over the range (see "Fast path" at the top): the
 * notifier's sequence moves on every invalidation; @lock orders that against
 * framevec_watch_changed().
 */
struct framevec_watch {
	struct mmu_interval_notifier mni;
	spinlock_t lock;	/* the notifier's sequence */
};

static bool framevec_watch_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct framevec_watch *w = container_of(mni, struct framevec_watch, mni);

	/* takes nothing that sleeps: fine for a non-blockable range too */
	spin_lock(&w->lock);
	mmu_interval_set_seq(mni, cur_seq);
	spin_unlock(&w->lock);
	return true;
}

static const struct mmu_interval_notifier_ops framevec_watch_ops = {
	.invalidate = framevec_watch_invalidate,
};

/* Did anything change what the range maps since mmu_interval_read_begin()? */
static bool framevec_watch_changed(struct framevec_watch *w, unsigned long seq)
{
	bool changed;

	spin_lock(&w->lock);
	changed = mmu_interval_read_retry(&w->mni, seq);
	spin_unlock(&w->lock);
	return changed;
}

/*
 * The fast path: check under the mmap read lock, pin without it. Return the
 * framevec, an ERR_PTR the locked path would return too, or NULL to take
 * the locked path (some source needs the lock, or the range changed).
 */
static struct framevec *framevec_import_fast(struct mm_struct *mm, unsigned long start,
					     unsigned long end, unsigned int flags,
					     framevec_revoke_fn revoke, void *priv)
{
	bool need_write, unlocked, changed;
	unsigned long nr_charge, seq, i;
	struct framevec_watch watch;
	struct framevec *fv;
	int ret;

	spin_lock_init(&watch.lock);
	/* may take the mmap lock itself, the first time for an mm */
	if (mmu_interval_notifier_insert(&watch.mni, mm, start, end - start,
					 &framevec_watch_ops))
		return NULL;
	seq = mmu_interval_read_begin(&watch.mni);

	ret = mmap_read_lock_killable(mm);
	if (ret) {
		fv = ERR_PTR(ret);
		goto out_remove;
	}
	fv = framevec_alloc_checked(mm, start, end, flags, revoke, priv, &nr_charge,
				    &need_write, &unlocked);
	if (IS_ERR(fv))
		goto out_unlock;
	if (!unlocked) {
		/*
		 * Checked under the read lock: what needs no more is imported
		 * on the locked path now, under it (the watch only counts).
		 */
		if (need_write) {
			framevec_free(fv);
			fv = NULL;
		} else {
			fv = framevec_import_checked(fv, mm, nr_charge);
		}
		goto out_unlock;
	}
	ret = framevec_charge(fv, nr_charge);
	if (ret) {
		framevec_free(fv);
		fv = ERR_PTR(ret);
		goto out_unlock;
	}
	mmap_read_unlock(mm);

	for (i = 0; i < fv->nr_segs; i++) {
		struct framevec_seg *seg = &fv->segs[i];

		seg->first_run = fv->nr_runs;
		ret = seg->ops->import_unlocked(fv, seg, seg->start, seg->end);
		if (ret) {
			fv->nr_runs = seg->first_run;
			break;
		}
		framevec_seg_imported(fv, seg);
	}
	/* pinned, or refused, what the checked VMAs may no longer map */
	changed = framevec_watch_changed(&watch, seq);
	if (ret || changed)
		goto err_release_segs;
	mmu_interval_notifier_remove(&watch.mni);
	atomic64_inc(&framevec_stats.fast_imports);
	return fv;

err_release_segs:
	framevec_release_segs(fv, i);
	framevec_uncharge(fv);
	framevec_free(fv);
	mmu_interval_notifier_remove(&watch.mni);
	if (!changed)
		return ERR_PTR(ret);
	atomic64_inc(&framevec_stats.fast_retries);
	return NULL;

out_unlock:
	mmap_read_unlock(mm);
out_remove:
	mmu_interval_notifier_remove(&watch.mni);
	return fv;
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
	static atomic_long_t next_id;
	struct framevec *fv = NULL;
	unsigned long end;
	int ret;

	ret = framevec_check_args(mm, start, length, flags, &end);
	if (ret)
		return ERR_PTR(ret);
	/* mmu_interval_notifier_insert() and GUP need a live address space */
	if (!mmget_not_zero(mm))
		return ERR_PTR(-ESRCH);
	if (mm == current->mm)
		fv = framevec_import_fast(mm, start, end, flags, revoke, priv);
	if (!fv)
		fv = framevec_import_locked(mm, start, end, flags, revoke, priv);
	mmput(mm);
	if (IS_ERR(fv))
		return fv;

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
}

/**
 * framevec_import() - hold every byte of a user address range
 * @mm: the address space; the caller keeps it from being freed (mmgrab()
 *	or current->mm)
 * @start: page aligned start address (untagged)
 * @length: page aligned length in bytes, not zero
 * @flags: FRAMEVEC_WRITE if the device will write the memory
 * @revoke: callback for revocable memory, or NULL to refuse such memory
 * @priv: argument for @revoke
 *
 * Walks the VMAs of [@start, @start + @length) and has each held by the
 * source that understands it. Memory whose owner can take it back (dma-buf,
 * iomem exporter, other VM_PFNMAP) is imported only with a @revoke callback.
 * @revoke may run before framevec_import() returns (the framevec is then
 * returned already revoked); see "Revocation" in framevec_core.c for what it
 * must do and may not do. For other VM_PFNMAP memory it runs from an MMU
 * notifier, before the mapping goes: it must not allocate memory nor take a
 * lock that is held anywhere while allocating.
 * User input and every VMA are checked before the first reference is taken.
 * Without FRAMEVEC_WRITE, nothing framevec hands out writes the memory (see
 * "Write rule" in framevec_core.c). Pinned pages are charged to the current
 * user's RLIMIT_MEMLOCK unless the current task has CAP_IPC_LOCK.
 *
 * Context: process context, may sleep; takes the mmap lock of @mm for read,
 * or for write if the range has VM_PFNMAP memory only a notifier can watch.
 * Return: the framevec, or an ERR_PTR: -EINVAL (zero length, misaligned),
 * -EOPNOTSUPP (unknown flags, memory no source takes, a cache attribute
 * framevec cannot reproduce), -EOVERFLOW (range wraps), -EFAULT (beyond the
 * address space or a hole), -EACCES (PROT_NONE or write import of read-only
 * memory), -EPERM (write import of a write-sealed memfd), -ENXIO (a special
 * mapping such as [vdso]), -EFBIG (over max_import_pages), -ENOMEM (over
 * RLIMIT_MEMLOCK or out of memory), -ESRCH (@mm has no users left), -EINTR,
 * or a source's errno. On failure nothing is held and nothing is charged.
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
 * bug of the importer and WARNs. Returns the RLIMIT_MEMLOCK charge to the
 * user that imported, whoever releases. Waits for a revocation in progress
 * (the sources' release do).
 *
 * Context: process context, may sleep. Cannot fail, allocates nothing.
 */
void framevec_release(struct framevec *fv)
{
	if (!fv)
		return;
	WARN_ON(atomic_read(&fv->nr_maps) || !list_empty(&fv->maps));
	framevec_stats_del(fv);
	framevec_release_segs(fv, fv->nr_segs);
	framevec_uncharge(fv);
	mmdrop(fv->mm);
	framevec_free(fv);
}
EXPORT_SYMBOL_GPL(framevec_release);

/* The DMA side of framevec_unmap(): undo what framevec_map() mapped. */
static void framevec_dma_unmap(struct framevec_mapping *m);

/* Revocation step 4: no live device mapping keeps its IOMMU entries. */
static void framevec_zap_maps(struct framevec *fv)
{
	struct framevec_mapping *m;

	mutex_lock(&fv->lock);
	list_for_each_entry(m, &fv->maps, node) {
		if (m->zapped)
			continue;
		framevec_dma_unmap(m);
		m->zapped = true;
	}
	mutex_unlock(&fv->lock);
}

/**
 * framevec_revoke() - the owner of some of the memory takes it back
 * @fv: the framevec
 *
 * Called by a source; see "Revocation" at the top of framevec_core.c for
 * the whole model. Marks @fv revoked, so that new maps and vmaps fail with
 * -ENODEV, runs the importer's revoke callback, which must stop every
 * access before it returns, then unmaps every device mapping still live.
 * Only the first call has an effect, but every call returns only once that
 * first revocation has finished. The source keeps its reference until
 * framevec_release().
 *
 * Context: process context or a blockable MMU notifier; may sleep; no
 * framevec lock held.
 */
void framevec_revoke(struct framevec *fv)
{
	mutex_lock(&fv->revoke_lock);
	if (!fv->revoked) {
		mutex_lock(&fv->lock);
		WRITE_ONCE(fv->revoked, true);
		mutex_unlock(&fv->lock);
		if (fv->revoke)
			fv->revoke(fv, fv->revoke_priv);
		framevec_zap_maps(fv);
	}
	mutex_unlock(&fv->revoke_lock);
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

/**
 * framevec_cpu_prot() - the one CPU protection every mapping of @fv uses
 * @fv: the framevec
 * @prot: in: a cacheable protection (PAGE_KERNEL, a VMA's vm_page_prot);
 *	out: with the owner's cache attribute applied
 *
 * A CPU mapping of several segments gets one protection, so their owners'
 * attributes must agree (see "Cache attributes" at the top of this file).
 *
 * Return: 0, or -EOPNOTSUPP if the segments' attributes differ (@prot unchanged).
 */
int framevec_cpu_prot(const struct framevec *fv, pgprot_t *prot)
{
	const struct framevec_seg *first = &fv->segs[0];
	unsigned long i;

	for (i = 1; i < fv->nr_segs; i++)
		if (fv->segs[i].cache != first->cache ||
		    fv->segs[i].decrypted != first->decrypted) {
			fv_user_err("import mixes memory of different cache attributes, which no single CPU mapping can honour; map the parts separately");
			return -EOPNOTSUPP;
		}
	*prot = framevec_cache_prot(*prot, first->cache, first->decrypted);
	return 0;
}

/*
 * Where a device reaches an MMIO segment. Without a translating IOMMU the
 * device emits bus addresses, and dma_map_resource() returns the CPU
 * physical address: refuse a PCI provider whose bus address differs.
 * With CONFIG_PCI_P2PDMA, the kernel's P2P distance decides reachability
 * between two PCI devices. Return 0 or -EREMOTEIO.
 */
static int framevec_check_peer(const struct framevec_seg *seg, struct device *dev,
			       phys_addr_t phys)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	bool translated = domain && domain->type != IOMMU_DOMAIN_IDENTITY;
	struct pci_dev *provider;
	struct pci_bus_region region;
	struct resource res;

	if (!seg->provider || !dev_is_pci(seg->provider))
		return 0;
	provider = to_pci_dev(seg->provider);
#if IS_ENABLED(CONFIG_PCI_P2PDMA)
	if (dev_is_pci(dev) && pci_p2pdma_distance(provider, dev, true) < 0) {
		fv_user_err("%s cannot reach %s's memory peer to peer; use a device behind the same bridge or copy",
			    dev_name(dev), pci_name(provider));
		return -EREMOTEIO;
	}
#endif
	if (translated)
		return 0;
	res = DEFINE_RES_MEM(phys, PAGE_SIZE);
	pcibios_resource_to_bus(provider->bus, &region, &res);
	if (region.start != phys) {
		fv_user_err("%s has no IOMMU and %s's bus address differs from its CPU address; framevec cannot give it a correct address",
			    dev_name(dev), pci_name(provider));
		return -EREMOTEIO;
	}
	return 0;
}

/* The attributes entry @i of an entry-by-entry mapping was mapped with */
static unsigned long framevec_entry_attrs(const struct framevec_mapping *m, unsigned int i)
{
	return test_bit(i, m->nosync) ? DMA_ATTR_SKIP_CPU_SYNC : 0;
}

/* Undo the first @nr entries mapped by framevec_map_entries(). */
static void framevec_unmap_entries(struct framevec_mapping *m, unsigned int nr)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(m->sgt.sgl, sg, nr, i) {
		if (sg_page(sg))
			dma_unmap_page_attrs(m->dev, sg_dma_address(sg), sg_dma_len(sg),
					     m->dir, framevec_entry_attrs(m, i));
		else
			dma_unmap_resource(m->dev, sg_dma_address(sg), sg_dma_len(sg),
					   m->dir, 0);
	}
}

/*
 * A framevec holding MMIO, or RAM of both kinds of coherency: map each
 * entry on its own, RAM with dma_map_page_attrs() (the entry keeps its
 * page; DMA_ATTR_SKIP_CPU_SYNC for a dma_coherent segment, recorded in
 * m->nosync), MMIO with dma_map_resource() (no page, only the DMA address).
 * Each entry maps to one DMA range, so nents == orig_nents. On failure
 * nothing is left mapped.
 */
static int framevec_map_entries(struct framevec *fv, struct framevec_mapping *m,
				unsigned long max_seg_pages)
{
	struct sg_table *sgt = &m->sgt;
	enum dma_data_direction dir = m->dir;
	struct device *dev = m->dev;
	struct scatterlist *sg = sgt->sgl;
	unsigned int done = 0;
	unsigned long s, r, n;
	int ret;

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
					if (seg->dma_coherent)
						__set_bit(done, m->nosync);
					sg_set_page(sg, pfn_to_page(pfn), len, 0);
					addr = dma_map_page_attrs(dev, sg_page(sg), 0, len, dir,
								  framevec_entry_attrs(m, done));
				} else {
					ret = framevec_check_peer(seg, dev, PFN_PHYS(pfn));
					if (ret)
						goto err_unmap;
					sg->offset = 0;
					sg->length = len;
					addr = dma_map_resource(dev, PFN_PHYS(pfn), len, dir, 0);
				}
				if (dma_mapping_error(dev, addr)) {
					ret = -EIO;
					goto err_unmap;
				}
				sg_dma_address(sg) = addr;
				sg_dma_len(sg) = len;
			}
		}
	}
	sgt->nents = sgt->orig_nents;
	return 0;

err_unmap:
	framevec_unmap_entries(m, done);
	return ret;
}

static void framevec_dma_unmap(struct framevec_mapping *m)
{
	if (m->mmio)
		framevec_unmap_entries(m, m->sgt.nents);
	else
		dma_unmap_sgtable(m->dev, &m->sgt, m->dir, m->attrs);
}

static void framevec_free_mapping(struct framevec_mapping *m)
{
	sg_free_table(&m->sgt);
	bitmap_free(m->nosync);
	kfree(m);
}

/*
 * How a framevec is mapped: whole with one set of attributes when all its
 * RAM agrees on CPU cache maintenance and it holds no MMIO, else entry by
 * entry. Return the attributes for the whole table, or -1 for entries.
 */
static long framevec_map_attrs(const struct framevec *fv)
{
	bool coherent = false, noncoherent = false;
	unsigned long i;

	for (i = 0; i < fv->nr_segs; i++) {
		if (fv->segs[i].mem_type == FRAMEVEC_MEM_MMIO)
			return -1;
		if (fv->segs[i].dma_coherent)
			coherent = true;
		else
			noncoherent = true;
	}
	if (coherent && noncoherent)
		return -1;
	return coherent ? DMA_ATTR_SKIP_CPU_SYNC : 0;
}

/**
 * framevec_map() - map a framevec for DMA by a device
 * @fv: the framevec
 * @dev: the device that will access the memory
 * @dir: the direction of the transfers
 *
 * Builds an sg_table of the runs (split to the device's maximum segment size)
 * and maps it for @dev. RAM-only framevecs are mapped with dma_map_sgtable(),
 * which may merge entries (an IOMMU makes one contiguous range). Memory its
 * owner allocated as coherent DMA memory (vb2 dma-contig buffers, iomem RAM)
 * or maps uncached is mapped with DMA_ATTR_SKIP_CPU_SYNC: no CPU cache
 * maintenance, as the owner does none. A framevec mixing such RAM with RAM
 * that needs maintenance is mapped entry by entry, as is a framevec
 * holding MMIO (a PCI BAR): its MMIO entries have
 * no page, only sg_dma_address()/sg_dma_len() from dma_map_resource() on
 * their physical address, and its RAM entries come from dma_map_page(). For
 * such a table, sync only the entries that have a page, with
 * dma_sync_single_for_{cpu,device}(); MMIO needs no sync. For MMIO of a
 * known PCI provider, reachability is checked with the kernel's P2P DMA
 * helpers when the kernel has them (CONFIG_PCI_P2PDMA), and a device without
 * a translating IOMMU is refused if the provider's bus address is not its
 * CPU physical address. A framevec imported without FRAMEVEC_WRITE can only
 * be mapped DMA_TO_DEVICE (see "Write rule" in framevec_core.c).
 *
 * A revocation unmaps the table from @dev (see "Revocation"); the importer
 * still calls framevec_unmap(), which then only frees it.
 *
 * Locking: the table is built and mapped without fv->lock and committed
 * under it (undone if a revocation came first). fv->lock is taken by
 * framevec_revoke() from MMU notifiers, so it is never held while
 * allocating (fs_reclaim -> mmu notifier -> fv->lock).
 *
 * Context: process context, may sleep.
 * Return: the mapped table, to be passed to framevec_unmap(), or an ERR_PTR:
 * -ENODEV if the memory was revoked, -EACCES for a DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL mapping of a read-only import, -EREMOTEIO if @dev
 * cannot reach MMIO of the framevec, -EFBIG for more entries than a table
 * holds, -ENOMEM, -EIO if an MMIO or RAM entry cannot be mapped, or the DMA
 * API's errno. Nothing is left mapped on failure.
 */
struct sg_table *framevec_map(struct framevec *fv, struct device *dev,
			      enum dma_data_direction dir)
{
	unsigned long max_seg_pages, i, n, nents;
	struct framevec_mapping *m;
	long attrs;
	struct scatterlist *sg;
	int ret;

	if (framevec_is_revoked(fv))
		return ERR_PTR(-ENODEV);
	if (dir != DMA_TO_DEVICE && !(fv->flags & FRAMEVEC_WRITE)) {
		fv_user_err("%s asked to map a read-only import for writing; import with the write flag",
			    dev_name(dev));
		return ERR_PTR(-EACCES);
	}

	max_seg_pages = min_t(unsigned int, dma_get_max_seg_size(dev), SZ_1G) >> PAGE_SHIFT;
	max_seg_pages = max(1UL, max_seg_pages);
	nents = framevec_sg_entries(fv, max_seg_pages);
	if (nents > UINT_MAX)
		return ERR_PTR(-EFBIG);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dev = dev;
	m->dir = dir;
	attrs = framevec_map_attrs(fv);
	m->mmio = attrs < 0;
	if (m->mmio) {
		m->nosync = bitmap_zalloc(nents, GFP_KERNEL);
		if (!m->nosync) {
			ret = -ENOMEM;
			goto err_free_mapping;
		}
	} else {
		m->attrs = attrs;
	}

	ret = sg_alloc_table(&m->sgt, nents, GFP_KERNEL);
	if (ret)
		goto err_free_mapping;
	if (m->mmio) {
		ret = framevec_map_entries(fv, m, max_seg_pages);
		if (ret)
			goto err_free_mapping;
	} else {
		sg = m->sgt.sgl;
		for (i = 0; i < fv->nr_runs; i++) {
			unsigned long pfn = framevec_run_pfn(fv->runs[i]);
			unsigned long left = framevec_run_pages(fv->runs[i]);

			for (; left; left -= n, pfn += n, sg = sg_next(sg)) {
				n = min(left, max_seg_pages);
				sg_set_page(sg, pfn_to_page(pfn), n << PAGE_SHIFT, 0);
			}
		}
		ret = dma_map_sgtable(dev, &m->sgt, dir, m->attrs);
		if (ret)
			goto err_free_mapping;
	}

	mutex_lock(&fv->lock);
	if (fv->revoked) {
		mutex_unlock(&fv->lock);
		ret = -ENODEV;
		goto err_unmap;
	}
	list_add_tail(&m->node, &fv->maps);
	atomic_inc(&fv->nr_maps);
	atomic64_inc(&framevec_stats.device_maps);
	mutex_unlock(&fv->lock);
	return &m->sgt;

err_unmap:
	framevec_dma_unmap(m);
err_free_mapping:
	framevec_free_mapping(m);
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
 * If a revocation already unmapped the table from @dev, only frees it.
 *
 * Context: process context, may sleep. Cannot fail.
 */
void framevec_unmap(struct framevec *fv, struct device *dev,
		    struct sg_table *sgt, enum dma_data_direction dir)
{
	struct framevec_mapping *m = container_of(sgt, struct framevec_mapping, sgt);
	bool zapped;

	WARN_ON(m->dev != dev || m->dir != dir);
	mutex_lock(&fv->lock);
	list_del(&m->node);
	zapped = m->zapped;
	mutex_unlock(&fv->lock);
	/* off the list: no revocation can unmap it meanwhile */
	if (!zapped)
		framevec_dma_unmap(m);
	framevec_free_mapping(m);
	atomic64_dec(&framevec_stats.device_maps);
	atomic_dec(&fv->nr_maps);
}
EXPORT_SYMBOL_GPL(framevec_unmap);

/**
 * framevec_sync_maps() - make the memory coherent for the CPU or the devices
 * @fv: the framevec
 * @for_device: sync for the devices (end of CPU access), else for the CPU
 *
 * Syncs every live device mapping in the direction it was mapped with;
 * MMIO entries, memory its owner allocated coherent (dma_coherent) and
 * revoked mappings are skipped.
 *
 * Context: process context, may sleep; takes fv->lock.
 */
void framevec_sync_maps(struct framevec *fv, bool for_device)
{
	struct framevec_mapping *m;
	struct scatterlist *sg;
	unsigned int i;

	mutex_lock(&fv->lock);
	list_for_each_entry(m, &fv->maps, node) {
		if (m->zapped || (m->attrs & DMA_ATTR_SKIP_CPU_SYNC))
			continue;
		if (!m->mmio) {
			if (for_device)
				dma_sync_sgtable_for_device(m->dev, &m->sgt, m->dir);
			else
				dma_sync_sgtable_for_cpu(m->dev, &m->sgt, m->dir);
			continue;
		}
		for_each_sgtable_dma_sg(&m->sgt, sg, i) {
			if (!sg_page(sg) || test_bit(i, m->nosync))
				continue;
			if (for_device)
				dma_sync_single_for_device(m->dev, sg_dma_address(sg),
							   sg_dma_len(sg), m->dir);
			else
				dma_sync_single_for_cpu(m->dev, sg_dma_address(sg),
							sg_dma_len(sg), m->dir);
		}
	}
	mutex_unlock(&fv->lock);
}

/**
 * framevec_can_vmap() - would framevec_vmap() map this framevec?
 * @fv: the framevec
 *
 * Logs nothing.
 * Return: true unless @fv is revocable, holds MMIO or memory without struct
 * page, or mixes cache attributes.
 */
bool framevec_can_vmap(const struct framevec *fv)
{
	unsigned long i;

	if (fv->revocable || framevec_has_mmio(fv))
		return false;
	for (i = 0; i < fv->nr_runs; i++)
		if (!framevec_pfn_is_ram(framevec_run_pfn(fv->runs[i])))
			return false;
	for (i = 1; i < fv->nr_segs; i++)
		if (fv->segs[i].cache != fv->segs[0].cache ||
		    fv->segs[i].decrypted != fv->segs[0].decrypted)
			return false;
	return true;
}

/**
 * framevec_vmap() - map a framevec into the kernel's address space
 * @fv: the framevec
 * @map: set to the virtually contiguous mapping
 *
 * The mapping is read-only for a framevec imported without FRAMEVEC_WRITE
 * and has the owner's cache attribute (see framevec_cpu_prot()). Only RAM
 * can be vmapped: MMIO (a PCI BAR) would need an ioremap with an iosys_map
 * of I/O memory for each run, which no importer asked for yet. A framevec
 * its owner can revoke is never vmapped: a kernel mapping cannot be taken
 * away from the code that uses it (see "Revocation" in framevec_core.c).
 *
 * Context: process context, may sleep.
 * Return: 0, -EOPNOTSUPP for revocable memory, MMIO, memory without struct
 * page or segments of different cache attributes, or -ENOMEM. @map is
 * unchanged on failure.
 */
int framevec_vmap(struct framevec *fv, struct iosys_map *map)
{
	pgprot_t prot = (fv->flags & FRAMEVEC_WRITE) ? PAGE_KERNEL : PAGE_KERNEL_RO;
	struct page **pages;
	unsigned long i, j, n = 0;
	void *vaddr;
	int ret;

	if (fv->revocable) {
		fv_user_err("a vmap of memory its owner can revoke was refused: a CPU mapping cannot be revoked; access it through a device mapping or the dma-buf's mmap");
		return -EOPNOTSUPP;
	}
	if (!framevec_can_vmap(fv))
		return -EOPNOTSUPP;
	ret = framevec_cpu_prot(fv, &prot);
	if (ret)
		return ret;

	pages = kvmalloc_array(fv->nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < fv->nr_runs; i++)
		for (j = 0; j < framevec_run_pages(fv->runs[i]); j++)
			pages[n++] = pfn_to_page(framevec_run_pfn(fv->runs[i]) + j);

	vaddr = vmap(pages, n, VM_MAP, prot);
	kvfree(pages);
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	atomic_inc(&fv->nr_maps);
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
