/* SPDX-License-Identifier: GPL-2.0 */
/*
 * framevec internals shared by the core, the sources and the front ends.
 */
#ifndef _FRAMEVEC_INTERNAL_H
#define _FRAMEVEC_INTERNAL_H

#include <linux/atomic.h>
#include <linux/framevec.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>

/*
 * One run is packed into a u64: the pfn in the high bits, (nr_pages - 1) in
 * the low FRAMEVEC_RUN_LEN_BITS. Longer runs are split. This is what keeps
 * the worst case (no two pages contiguous) at 8 bytes of metadata per page.
 */
#define FRAMEVEC_RUN_LEN_BITS	20
#define FRAMEVEC_RUN_MAX_PAGES	BIT(FRAMEVEC_RUN_LEN_BITS)

/*
 * Maximum value of the max_import_pages module parameter: 16 GiB of pages.
 * It keeps every count of pages and scatterlist entries of one framevec
 * far below UINT_MAX (sg_alloc_table() takes an unsigned int).
 */
#define FRAMEVEC_MAX_IMPORT_PAGES_LIMIT	(SZ_16G >> PAGE_SHIFT)

struct dentry;
struct device;
struct framevec;
struct framevec_seg;
struct user_struct;

/**
 * enum framevec_cache - the CPU cache attribute of the owner's mapping
 * @FRAMEVEC_CACHE_WB: cacheable (write-back), the kernel's default for RAM
 * @FRAMEVEC_CACHE_WC: write-combining (pgprot_writecombine(); on arm64 also
 *	pgprot_dmacoherent(), the mapping of non-coherent DMA memory)
 * @FRAMEVEC_CACHE_UC: uncached (pgprot_noncached(): device memory)
 * @FRAMEVEC_CACHE_DEV: device memory as pgprot_device() maps it: on arm64
 *	Device-nGnRE (early write acknowledgment), what a PCI BAR mmapped
 *	through sysfs resourceN gets (pci_mmap_resource_range()); where an
 *	architecture has no such type it is pgprot_noncached() and recorded
 *	as @FRAMEVEC_CACHE_UC
 *
 * Every CPU mapping framevec makes of a segment (user mmap of its dma-buf,
 * vmap) uses the attribute of the owner's mapping, recorded at import: two
 * mappings of one frame with different attributes corrupt data on arm64 and
 * under memory encryption. See framevec_vma_cache() in framevec_core.c.
 */
enum framevec_cache {
	FRAMEVEC_CACHE_WB,
	FRAMEVEC_CACHE_WC,
	FRAMEVEC_CACHE_UC,
	FRAMEVEC_CACHE_DEV,
};

/**
 * struct framevec_source_ops - one kind of memory framevec knows how to hold
 * @id: which source this is
 * @name: short name, used in logs and debugfs
 * @pins_pages: the pages this source holds are charged to RLIMIT_MEMLOCK
 * @can_revoke: the owner can take the memory back (framevec_revoke()); an
 *	import with such a segment needs an importer revoke callback
 * @needs_mmap_write: @import must run with the mmap lock held for write
 *	(mmu_interval_notifier_insert_locked() asserts it); the core then takes
 *	the write lock for the whole import
 * @check: decide, taking no reference and logging nothing, whether this
 *	source takes @vma for an import with @flags. Returns 0 to take it,
 *	-ENOENT if the VMA is not of its kind, or the errno to refuse the import
 *	with, setting *@why to a sentence that continues "range A-B " and says
 *	what to do instead. Called with the mmap lock held.
 * @import: take references on [@start, @end) of @vma and add its frames
 *	with framevec_add_pfns(). Called with the mmap lock held (for write if
 *	any segment's source has @needs_mmap_write, else for read). On
 *	failure it must have released everything it took for @seg.
 * @import_unlocked: optional: the same for the importing task's own mm,
 *	called without the mmap lock after @check took every VMA of the range
 *	under it (see "Fast path" in framevec_core.c). GUP-fast only: the
 *	source relies on GUP to refuse what the VMAs now map if it cannot be
 *	pinned long-term. Same failure contract as @import.
 * @release: drop every reference held for @seg. Cannot fail. May sleep.
 *	A source that can revoke must, before it returns, wait for a
 *	framevec_revoke() of this framevec in progress and make sure none
 *	starts afterwards.
 */
struct framevec_source_ops {
	enum framevec_source id;
	const char *name;
	bool pins_pages;
	bool can_revoke;
	bool needs_mmap_write;
	int (*check)(struct vm_area_struct *vma, unsigned int flags,
		     const char **why);
	int (*import)(struct framevec *fv, struct framevec_seg *seg,
		      struct vm_area_struct *vma, unsigned long start,
		      unsigned long end);
	int (*import_unlocked)(struct framevec *fv, struct framevec_seg *seg,
			       unsigned long start, unsigned long end);
	void (*release)(struct framevec *fv, struct framevec_seg *seg);
};

/**
 * struct framevec_seg - the part of a framevec held by one source
 * @ops: the source holding it
 * @priv: the source's reference (a dma-buf, an exporter range, ...)
 * @start: first user address of the VMA piece it was imported from
 * @end: end of that piece (exclusive)
 * @first_run: index of its first run in framevec->runs
 * @nr_runs: number of runs
 * @nr_pages: number of pages
 * @mem_type: RAM or MMIO
 * @cache: cache attribute of the owner's mapping (enum framevec_cache)
 * @decrypted: the owner mapped it decrypted (pgprot_decrypted())
 * @provider: for MMIO, the device whose memory it is, if the source knows
 *	it (referenced by the source's own reference); else NULL
 * @dma_coherent: the owner allocated it as coherent DMA memory (a vb2
 *	dma-contig buffer, iomem RAM from dma_alloc_coherent()): device maps
 *	of it never do CPU cache maintenance (DMA_ATTR_SKIP_CPU_SYNC), as
 *	neither does the owner; so for memory mapped uncached by its owner
 */
struct framevec_seg {
	const struct framevec_source_ops *ops;
	void *priv;
	unsigned long start;
	unsigned long end;
	unsigned long first_run;
	unsigned long nr_runs;
	unsigned long nr_pages;
	enum framevec_mem_type mem_type;
	u8 cache;
	bool decrypted;
	struct device *provider;
	bool dma_coherent;
};

/**
 * struct framevec_mapping - one live framevec_map() of a framevec
 * @sgt: the table handed to the importer (first: framevec_unmap() finds
 *	the mapping from it)
 * @node: entry in framevec->maps, under framevec->lock
 * @dev: the device it is mapped for
 * @dir: the direction it is mapped in
 * @mmio: mapped entry by entry (the framevec holds MMIO, or RAM that needs
 *	CPU cache maintenance next to RAM that must not get it)
 * @attrs: DMA attributes of a table mapped whole (not @mmio)
 * @nosync: for @mmio, the entries mapped with DMA_ATTR_SKIP_CPU_SYNC
 * @zapped: a revocation already unmapped it from @dev; framevec_unmap()
 *	only frees it
 */
struct framevec_mapping {
	struct sg_table sgt;
	struct list_head node;
	struct device *dev;
	enum dma_data_direction dir;
	bool mmio;
	unsigned long attrs;
	unsigned long *nosync;
	bool zapped;
};

/**
 * struct framevec - see framevec_core.c for lifetime and locking
 * @node: entry in the list of live framevecs (debugfs), under fv_list_lock
 * @id: number for debugfs, unique while the module is loaded
 * @mm: the imported mm, mmgrab()ed: its pinned_vm shows the pinned pages
 * @user: the user charged for the pinned pages, or NULL (CAP_IPC_LOCK)
 * @flags: FRAMEVEC_* import flags
 * @start: first imported user address
 * @nr_pages: total pages imported
 * @nr_charged: pinned pages, charged to @user and shown in @mm->pinned_vm
 * @runs: packed runs, see FRAMEVEC_RUN_LEN_BITS
 * @nr_runs: runs in use
 * @runs_cap: runs allocated
 * @lock: serializes the revoked mark and @maps against map/unmap
 * @revoke_lock: held across a whole revocation; later revokers wait on it
 * @maps: live device mappings (struct framevec_mapping), under @lock
 * @revocable: a segment's source can revoke (see @can_revoke)
 * @revoked: the memory was revoked; maps fail with -ENODEV
 * @nr_maps: live device mappings and vmaps, checked at release
 * @revoke: importer's revocation callback, may be NULL
 * @revoke_priv: its argument
 * @nr_segs: number of segments
 * @segs: the segments, in address order
 */
struct framevec {
	struct list_head node;
	unsigned long id;
	struct mm_struct *mm;
	struct user_struct *user;
	unsigned int flags;
	unsigned long start;
	unsigned long nr_pages;
	unsigned long nr_charged;
	u64 *runs;
	unsigned long nr_runs;
	unsigned long runs_cap;
	struct mutex lock; /* revoked and maps vs map/unmap/vmap */
	struct mutex revoke_lock; /* one revocation at a time, waited for */
	struct list_head maps;
	bool revocable;
	bool revoked;
	atomic_t nr_maps;
	framevec_revoke_fn revoke;
	void *revoke_priv;
	unsigned long nr_segs;
	struct framevec_seg segs[] __counted_by(nr_segs);
};

static inline unsigned long framevec_run_pfn(u64 run)
{
	return run >> FRAMEVEC_RUN_LEN_BITS;
}

static inline unsigned long framevec_run_pages(u64 run)
{
	return (run & (FRAMEVEC_RUN_MAX_PAGES - 1)) + 1;
}

int framevec_add_pfns(struct framevec *fv, struct framevec_seg *seg,
		      unsigned long pfn, unsigned long nr_pages);
int framevec_add_pfnmap(struct framevec *fv, struct framevec_seg *seg,
			struct vm_area_struct *vma, unsigned long start,
			unsigned long end, const char *what);

void framevec_revoke(struct framevec *fv);
bool framevec_has_mmio(const struct framevec *fv);
bool framevec_pfn_is_ram(unsigned long pfn);
int framevec_cpu_prot(const struct framevec *fv, pgprot_t *prot);
bool framevec_can_vmap(const struct framevec *fv);
void framevec_sync_maps(struct framevec *fv, bool for_device);

/**
 * struct framevec_verdict - what an import would do with one VMA
 * @ops: the source that takes it (also set when only a revoke callback is
 *	missing), or NULL
 * @err: 0 if it would be imported, else the errno
 * @why: for a refusal, a sentence continuing "range A-B " saying what to do
 * @cache: if it would be imported, the owner's cache attribute
 *	(enum framevec_cache)
 * @decrypted: if it would be imported, the owner mapped it decrypted
 */
struct framevec_verdict {
	const struct framevec_source_ops *ops;
	int err;
	const char *why;
	u8 cache;
	bool decrypted;
};

/* For source checks: set *@why to @text and return @err */
static inline int fv_refuse(const char **why, int err, const char *text)
{
	*why = text;
	return err;
}

int framevec_judge_vma(struct vm_area_struct *vma, unsigned int flags,
		       bool can_revoke, struct framevec_verdict *v);

/*
 * Internal import flag, never accepted from framevec_import() callers: the
 * importer's revoke callback cannot make every user stop before it returns
 * (framevec's dma-buf front end: dma-buf importers and user mmaps are told,
 * not waited for). Sources whose memory vanishes as soon as the callback
 * returns refuse such imports.
 */
#define FRAMEVEC_ASYNC_REVOKE	BIT(31)

struct framevec *__framevec_import(struct mm_struct *mm, unsigned long start,
				   unsigned long length, unsigned int flags,
				   framevec_revoke_fn revoke, void *priv);

/* Sources */
extern const struct framevec_source_ops framevec_pages_source;
extern const struct framevec_source_ops framevec_iomem_source;
extern const struct framevec_source_ops framevec_dmabuf_source;
extern const struct framevec_source_ops framevec_vb2_source;
extern const struct framevec_source_ops framevec_revocable_source;

/* Module parameters */
extern unsigned long framevec_max_import_pages;

/* Statistics (framevec_stats.c) */
struct framevec_stats {
	atomic64_t live_framevecs;
	atomic64_t live_dmabufs;
	atomic64_t pinned_pages;
	atomic64_t device_maps;
	atomic64_t refs[FRAMEVEC_NR_SOURCES];
	atomic64_t fast_imports;	/* done without the mmap lock, ever */
	atomic64_t fast_retries;	/* fast attempts the range changed under */
};

extern struct framevec_stats framevec_stats;

void framevec_stats_add(struct framevec *fv);
void framevec_stats_del(struct framevec *fv);
int framevec_debugfs_init(void);
void framevec_debugfs_exit(void);
void framevec_iomem_debugfs_init(struct dentry *dir);

/* framevec's own fault-injection points: see "Fault injection" in framevec_core.c */
#if IS_ENABLED(CONFIG_FAULT_INJECTION)
bool framevec_should_fail(void);
void framevec_fault_debugfs_init(struct dentry *dir);
#else
static inline bool framevec_should_fail(void)
{
	return false;
}

static inline void framevec_fault_debugfs_init(struct dentry *dir)
{
}
#endif

/* Front ends */
struct dma_buf *framevec_import_dmabuf(struct mm_struct *mm, unsigned long start,
				       unsigned long length, unsigned int flags);
long framevec_ioctl_explain(void __user *uarg);
int framevec_copy_uarg(void *karg, size_t ksize, size_t min_size,
		       void __user *uarg, const char *name, u32 *usize);
int framevec_chardev_init(void);
void framevec_chardev_exit(void);

/* One rate-limited line per user-caused error, saying what to do. */
#define fv_user_err(fmt, ...) \
	pr_info_ratelimited("framevec: " fmt "\n", ##__VA_ARGS__)

#endif /* _FRAMEVEC_INTERNAL_H */
