// SPDX-License-Identifier: GPL-2.0
/*
 * framevec statistics and debugfs.
 *
 * Object. Global counters of what framevec holds right now (live framevecs
 * and dma-bufs, pinned pages, device mappings, references per source) and the
 * list of live framevecs. Every test reads them to check it left nothing.
 * Two counters only grow: fast_imports (imports done on the fast path) and
 * fast_retries (fast attempts that the range changed under, redone on the
 * locked path); see "Fast path" in framevec_core.c.
 *
 * Files under /sys/kernel/debug/framevec/:
 *   counters   "name value" lines, one per counter
 *   framevecs  each live framevec: its size, segments and runs, and its
 *              metadata: meta_bytes (the run array, what grows with the
 *              pages) and header_bytes (the object and one segment per VMA)
 *
 * Locking. Counters are atomics. fv_list_lock (a mutex) protects the list;
 * framevec_stats_del() runs before a framevec is torn down, so a reader
 * holding the lock sees only complete objects.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "framevec_internal.h"

struct framevec_stats framevec_stats;

static LIST_HEAD(fv_list);
static DEFINE_MUTEX(fv_list_lock);
static struct dentry *fv_debugfs_dir;

static const char *const framevec_source_names[FRAMEVEC_NR_SOURCES] = {
	[FRAMEVEC_SOURCE_PAGES] = "pages",
	[FRAMEVEC_SOURCE_DMABUF] = "dmabuf",
	[FRAMEVEC_SOURCE_VB2] = "vb2",
	[FRAMEVEC_SOURCE_IOMEM] = "iomem",
	[FRAMEVEC_SOURCE_REVOCABLE] = "revocable",
};

void framevec_stats_add(struct framevec *fv)
{
	atomic64_inc(&framevec_stats.live_framevecs);
	mutex_lock(&fv_list_lock);
	list_add_tail(&fv->node, &fv_list);
	mutex_unlock(&fv_list_lock);
}

void framevec_stats_del(struct framevec *fv)
{
	mutex_lock(&fv_list_lock);
	list_del(&fv->node);
	mutex_unlock(&fv_list_lock);
	atomic64_dec(&framevec_stats.live_framevecs);
}

static int counters_show(struct seq_file *s, void *unused)
{
	unsigned int i;

	seq_printf(s, "live_framevecs %lld\n", atomic64_read(&framevec_stats.live_framevecs));
	seq_printf(s, "live_dmabufs %lld\n", atomic64_read(&framevec_stats.live_dmabufs));
	seq_printf(s, "pinned_pages %lld\n", atomic64_read(&framevec_stats.pinned_pages));
	seq_printf(s, "device_maps %lld\n", atomic64_read(&framevec_stats.device_maps));
	for (i = 0; i < FRAMEVEC_NR_SOURCES; i++)
		seq_printf(s, "refs_%s %lld\n", framevec_source_names[i],
			   atomic64_read(&framevec_stats.refs[i]));
	seq_printf(s, "fast_imports %lld\n", atomic64_read(&framevec_stats.fast_imports));
	seq_printf(s, "fast_retries %lld\n", atomic64_read(&framevec_stats.fast_retries));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counters);

static const char *const framevec_mem_names[] = {
	[FRAMEVEC_MEM_RAM] = "ram",
	[FRAMEVEC_MEM_MMIO] = "mmio",
};

static const char *const framevec_cache_names[] = {
	[FRAMEVEC_CACHE_WB] = "wb",
	[FRAMEVEC_CACHE_WC] = "wc",
	[FRAMEVEC_CACHE_UC] = "uc",
	[FRAMEVEC_CACHE_DEV] = "dev",
};

static int framevecs_show(struct seq_file *s, void *unused)
{
	struct framevec *fv;
	unsigned long i, r;

	mutex_lock(&fv_list_lock);
	list_for_each_entry(fv, &fv_list, node) {
		seq_printf(s, "framevec %lu start=%#lx pages=%lu segs=%lu runs=%lu meta_bytes=%zu header_bytes=%zu revoked=%d\n",
			   fv->id, fv->start, fv->nr_pages, fv->nr_segs, fv->nr_runs,
			   fv->runs_cap * sizeof(u64),
			   struct_size(fv, segs, fv->nr_segs), READ_ONCE(fv->revoked));
		for (i = 0; i < fv->nr_segs; i++) {
			struct framevec_seg *seg = &fv->segs[i];

			seq_printf(s, " seg source=%s type=%s pages=%lu runs=%lu cache=%s%s\n",
				   seg->ops->name, framevec_mem_names[seg->mem_type],
				   seg->nr_pages, seg->nr_runs,
				   framevec_cache_names[seg->cache],
				   seg->decrypted ? ",decrypted" : "");
			for (r = seg->first_run; r < seg->first_run + seg->nr_runs; r++)
				seq_printf(s, "  run pfn=%#lx pages=%lu\n",
					   framevec_run_pfn(fv->runs[r]),
					   framevec_run_pages(fv->runs[r]));
		}
	}
	mutex_unlock(&fv_list_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(framevecs);

int framevec_debugfs_init(void)
{
	fv_debugfs_dir = debugfs_create_dir("framevec", NULL);
	debugfs_create_file("counters", 0444, fv_debugfs_dir, NULL, &counters_fops);
	debugfs_create_file("framevecs", 0400, fv_debugfs_dir, NULL, &framevecs_fops);
	framevec_iomem_debugfs_init(fv_debugfs_dir);
	framevec_fault_debugfs_init(fv_debugfs_dir);
	return 0;
}

void framevec_debugfs_exit(void)
{
	debugfs_remove_recursive(fv_debugfs_dir);
}
