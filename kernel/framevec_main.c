// SPDX-License-Identifier: GPL-2.0
/*
 * framevec module: parameters, init and exit.
 *
 * Init order: debugfs, then /dev/framevec (the first user-visible door is
 * opened last). Exit in reverse. Module references held by every dma-buf
 * (its ops' owner) keep the module loaded while any framevec lives.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "framevec_internal.h"

unsigned long framevec_max_import_pages = SZ_1G >> PAGE_SHIFT;

/* 1 .. FRAMEVEC_MAX_IMPORT_PAGES_LIMIT; anything else is -EINVAL */
static int framevec_set_max_import_pages(const char *val, const struct kernel_param *kp)
{
	unsigned long pages;
	int ret;

	ret = kstrtoul(val, 0, &pages);
	if (ret)
		return ret;
	if (!pages || pages > FRAMEVEC_MAX_IMPORT_PAGES_LIMIT) {
		pr_info("framevec: max_import_pages must be 1..%llu\n",
			FRAMEVEC_MAX_IMPORT_PAGES_LIMIT);
		return -EINVAL;
	}
	WRITE_ONCE(framevec_max_import_pages, pages);
	return 0;
}

static const struct kernel_param_ops framevec_max_import_pages_ops = {
	.set = framevec_set_max_import_pages,
	.get = param_get_ulong,
};

module_param_cb(max_import_pages, &framevec_max_import_pages_ops,
		&framevec_max_import_pages, 0644);
MODULE_PARM_DESC(max_import_pages,
		 "Largest single import in pages (default 262144: 1 GiB of 4 KiB pages; at most 16 GiB of pages)");

static int __init framevec_init(void)
{
	int ret;

	ret = framevec_debugfs_init();
	if (ret)
		return ret;
	ret = framevec_chardev_init();
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	framevec_debugfs_exit();
	return ret;
}

static void __exit framevec_exit(void)
{
	framevec_chardev_exit();
	framevec_debugfs_exit();
	WARN_ON(atomic64_read(&framevec_stats.live_framevecs));
	WARN_ON(atomic64_read(&framevec_stats.pinned_pages));
}

module_init(framevec_init);
module_exit(framevec_exit);

MODULE_DESCRIPTION("framevec: safe zero-copy import of user memory for device DMA");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
