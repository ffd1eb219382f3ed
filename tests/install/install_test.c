// SPDX-License-Identifier: GPL-2.0
/*
 * Built against the installed framevec only (pkg-config, <framevec/framevec.h>,
 * <linux/framevec.h>, libframevec): proves the installed header and library
 * work. With --no-device (for the host, where the module is not loaded) it
 * checks only what needs no /dev/framevec. Prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <framevec/framevec.h>

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++n, what);
	failed |= !ok;
}

int main(int argc, char **argv)
{
	int no_device = argc > 1 && !strcmp(argv[1], "--no-device");
	struct framevec_explain_entry *e = NULL;
	struct framevec_stats before, during, after;
	struct framevec_ctx *ctx;
	size_t nr = 0;
	char *buf;
	int fd;

	printf("TAP version 13\n1..%d\n", no_device ? 2 : 8);
	check(strstr(framevec_strerror(-EINVAL, FRAMEVEC_CTX_IMPORT), "page aligned") != NULL,
	      "installed library: framevec_strerror");
	check(sizeof(struct framevec_explain_entry) == 424 &&
	      FRAMEVEC_IOC_EXPLAIN != FRAMEVEC_IOC_IMPORT, "installed uapi header");
	if (no_device)
		return failed;

	ctx = framevec_open();
	check(ctx != NULL, "framevec_open");
	if (!ctx)
		return 1;
	buf = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check(!framevec_read_stats(&before), "framevec_read_stats");
	fd = framevec_import_dmabuf(ctx, buf, 8 * 4096, FRAMEVEC_IMPORT_WRITE);
	check(fd >= 0, "framevec_import_dmabuf");
	framevec_read_stats(&during);
	check(during.pinned_pages == before.pinned_pages + 8 &&
	      during.refs[FRAMEVEC_EXPLAIN_SOURCE_PAGES] == before.refs[FRAMEVEC_EXPLAIN_SOURCE_PAGES] + 1,
	      "the import holds 8 pinned pages, one pages reference");
	close(fd);
	check(!framevec_explain(ctx, 0, (uintptr_t)buf, 8 * 4096, 0, &e, &nr) && nr == 1 &&
	      e[0].source == FRAMEVEC_EXPLAIN_SOURCE_PAGES && !e[0].error, "framevec_explain");
	free(e);
	framevec_close(ctx);
	framevec_read_stats(&after);
	check(!memcmp(&before, &after, sizeof(before)), "counters back at baseline");
	return failed;
}
