// SPDX-License-Identifier: GPL-2.0
/*
 * harness_warn: a module whose only job is to WARN when loaded, so that the
 * VM harness can prove it fails a run whose kernel log carries a WARNING.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init harness_warn_init(void)
{
	WARN(1, "framevec harness test: deliberate warning\n");
	return 0;
}

static void __exit harness_warn_exit(void)
{
}

module_init(harness_warn_init);
module_exit(harness_warn_exit);
MODULE_DESCRIPTION("framevec test harness: WARN on load");
MODULE_LICENSE("GPL");
