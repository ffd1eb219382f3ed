/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The framevec tool: shared definitions of its subcommands.
 */
#ifndef FRAMEVEC_TOOL_H
#define FRAMEVEC_TOOL_H

#include <framevec/framevec.h>

/* Exit codes of the framevec tool (documented in framevec(1)) */
enum {
	FV_EXIT_OK = 0,		/* success; explain: /dev/framevec can import all */
	FV_EXIT_REFUSED = 1,	/* explain: some piece of the range is refused */
	FV_EXIT_USAGE = 2,	/* bad command line */
	FV_EXIT_UNAVAILABLE = 3,/* framevec missing: module, debugfs, permission */
	FV_EXIT_FAILED = 4,	/* a system call failed; the message says which */
	FV_EXIT_CHECK = 5,	/* demo: a check failed (zero-copy, baseline, refs) */
};

int fv_cmd_demo(int argc, char **argv);
int fv_cmd_bench(int argc, char **argv);
/* The exit code for a failure with errno @err (either sign) */
int fv_exit_code(int err);

#endif /* FRAMEVEC_TOOL_H */
