// SPDX-License-Identifier: GPL-2.0
/*
 * framevec module: parameters, init and exit.
 *
 * Init order: debugfs, the dma-buf source's device, then /dev/framevec (the
 * first user-visible door is opened last). Exit in reverse. Module references held by every dma-buf
 * (its ops' owner) keep the module loaded while any framevec lives.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "framevec_internal.h"

unsigned long framevec_max_import_pages = SZ_1G >> PAGE_SHIFT;
module_param_named(max_import_pages, framevec_max_import_pages, ulong, 0644);
MODULE_PARM_DESC(max_import_pages,
		 "Largest single import in pages (default 262144: 1 GiB of 4 KiB pages)");

static int __init framevec_init(void)
{
	int ret;

	ret = framevec_debugfs_init();
	if (ret)
		return ret;
	ret = framevec_dmabuf_source_init();
	if (ret)
		goto err_debugfs;
	ret = framevec_chardev_init();
	if (ret)
		goto err_dmabuf_source;
	return 0;

err_dmabuf_source:
	framevec_dmabuf_source_exit();
err_debugfs:
	framevec_debugfs_exit();
	return ret;
}

static void __exit framevec_exit(void)
{
	framevec_chardev_exit();
	framevec_dmabuf_source_exit();
	framevec_debugfs_exit();
	WARN_ON(atomic64_read(&framevec_stats.live_framevecs));
	WARN_ON(atomic64_read(&framevec_stats.pinned_pages));
}

module_init(framevec_init);
module_exit(framevec_exit);

MODULE_DESCRIPTION("framevec: safe zero-copy import of user memory for device DMA");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
