// SPDX-License-Identifier: GPL-2.0
/*
 * harness_debug: a module that commits, on load, one of the bugs the debug
 * kernel (make check-debug) exists to catch, so that the harness can prove
 * such a bug fails the run: an out-of-bounds read (KASAN), two mutexes taken
 * in both orders (lockdep), an allocation nobody frees (kmemleak) or a DMA
 * mapping unmapped with another size than it was mapped with (DMA-API debug).
 * Loaded only by tests/harness/debug-*.sh, on the debug kernel.
 */
#include <linux/compiler.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *bug = "";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "kasan, lockdep, leak or dma");

static DEFINE_MUTEX(harness_a);
static DEFINE_MUTEX(harness_b);

static int harness_oob_read(void)
{
	size_t idx = 16;
	char *p;
	int val;

	p = kmalloc(16, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memset(p, 0, 16);
	OPTIMIZER_HIDE_VAR(idx);	/* no compile-time bounds warning */
	val = READ_ONCE(p[idx]);
	kfree(p);
	pr_info("harness_debug: read %d past the end of a 16-byte object\n", val);
	return 0;
}

/* A then B, later B then A: an ABBA deadlock waiting to happen */
static void harness_abba(void)
{
	mutex_lock(&harness_a);
	mutex_lock(&harness_b);
	mutex_unlock(&harness_b);
	mutex_unlock(&harness_a);

	mutex_lock(&harness_b);
	mutex_lock(&harness_a);
	mutex_unlock(&harness_a);
	mutex_unlock(&harness_b);
}

/* Several, so that a stale copy of one pointer cannot hide them all */
static int harness_leak(void)
{
	void *p;
	int i;

	for (i = 0; i < 8; i++) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 64);
	}
	pr_info("harness_debug: leaked 8 objects of 64 bytes\n");
	return 0;
}

/* A page mapped for DMA whole and unmapped as half a page */
static int harness_dma_bad_unmap(void)
{
	struct platform_device *pdev;
	struct page *page;
	dma_addr_t addr;
	int ret;

	pdev = platform_device_register_simple("harness_debug", PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_unregister;
	page = alloc_page(GFP_KERNEL);
	if (!page) {
		ret = -ENOMEM;
		goto out_unregister;
	}
	addr = dma_map_page(&pdev->dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, addr)) {
		ret = -ENOMEM;
		goto out_free;
	}
	dma_unmap_page(&pdev->dev, addr, PAGE_SIZE / 2, DMA_TO_DEVICE);
	pr_info("harness_debug: unmapped %lu bytes of a %lu-byte DMA mapping\n",
		PAGE_SIZE / 2, PAGE_SIZE);
out_free:
	__free_page(page);
out_unregister:
	platform_device_unregister(pdev);
	return ret;
}

static int __init harness_debug_init(void)
{
	if (!strcmp(bug, "kasan"))
		return harness_oob_read();
	if (!strcmp(bug, "lockdep")) {
		harness_abba();
		return 0;
	}
	if (!strcmp(bug, "leak"))
		return harness_leak();
	if (!strcmp(bug, "dma"))
		return harness_dma_bad_unmap();
	pr_err("harness_debug: bug=kasan|lockdep|leak|dma\n");
	return -EINVAL;
}

static void __exit harness_debug_exit(void)
{
}

module_init(harness_debug_init);
module_exit(harness_debug_exit);
MODULE_DESCRIPTION("framevec test harness: a deliberate KASAN, lockdep, kmemleak or DMA-API report");
MODULE_LICENSE("GPL");
