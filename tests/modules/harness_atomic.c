// SPDX-License-Identifier: GPL-2.0
/*
 * harness_atomic: a module whose only job is to sleep with preemption
 * disabled when loaded ("BUG: scheduling while atomic"), so that the VM
 * harness can prove it fails a run whose kernel log reports a sleep in
 * atomic context, on the generic and on the PREEMPT_RT kernel.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/preempt.h>

static int __init harness_atomic_init(void)
{
	preempt_disable();
	msleep(20);
	preempt_enable();
	return 0;
}

static void __exit harness_atomic_exit(void)
{
}

module_init(harness_atomic_init);
module_exit(harness_atomic_exit);
MODULE_DESCRIPTION("framevec test harness: sleep in atomic context on load");
MODULE_LICENSE("GPL");
