// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins migrate pages out of ZONE_MOVABLE first (boot with
 * movablecore=, profile "movable"): memory faulted in from ZONE_MOVABLE is
 * no longer there after the import, by PFN against /proc/zoneinfo, and its
 * data moved with it.
 */
#include "framevec_test.h"

#define LEN	(8UL << 20)

/* [start, end) pfns of zone @name on node 0; 0 if found */
static int zone_range(const char *name, unsigned long *start, unsigned long *end)
{
	char line[256], zone[32];
	unsigned long spanned = 0;
	int in = 0, node;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	*start = *end = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &node, zone) == 2) {
			in = !strcmp(zone, name);
			continue;
		}
		if (in && sscanf(line, " spanned %lu", &spanned) == 1)
			continue;
		if (in && sscanf(line, " start_pfn: %lu", start) == 1)
			*end = *start + spanned;
	}
	fclose(f);
	return *end > *start ? 0 : -1;
}

static long pages_in(char *mem, unsigned long start, unsigned long end)
{
	long n = 0;

	for (unsigned long off = 0; off < LEN; off += FV_PAGE) {
		unsigned long pfn = fv_pagemap_pfn(mem + off);

		if (pfn >= start && pfn < end)
			n++;
	}
	return n;
}

FIXTURE(movable) {
	int devfd;
	struct fv_counters base;
	unsigned long start, end;
};

FIXTURE_SETUP(movable)
{
	self->devfd = open(FV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->devfd);
	ASSERT_EQ(0, fv_read_counters(&self->base));
	if (zone_range("Movable", &self->start, &self->end))
		SKIP(return, "no ZONE_MOVABLE: boot with movablecore= (VM profile movable)");
}

FIXTURE_TEARDOWN(movable)
{
	close(self->devfd);
	ASSERT_AT_BASELINE(&self->base);
}

/* migrating 8 MiB under KASAN and TCG: minutes, not seconds */
TEST_F_TIMEOUT(movable, longterm_import_migrates_out_of_zone_movable, 300)
{
	char *mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	long before, after;
	int fd;

	ASSERT_NE(MAP_FAILED, mem);
	/* without THP (PREEMPT_RT) there is no huge page to keep out */
	if (fv_have_thp())
		ASSERT_EQ(0, madvise(mem, LEN, MADV_NOHUGEPAGE));
	fv_fill(mem, LEN, 21);
	before = pages_in(mem, self->start, self->end);
	TH_LOG("ZONE_MOVABLE pfns [%#lx, %#lx): %ld of %lu pages there before the import",
	       self->start, self->end, before, LEN / FV_PAGE);
	ASSERT_LT(0, before);

	ASSERT_IMPORT_OK(self->devfd, mem, LEN, FRAMEVEC_IMPORT_WRITE, &fd);
	after = pages_in(mem, self->start, self->end);
	TH_LOG("%ld pages in ZONE_MOVABLE after the import", after);
	ASSERT_EQ(0, after);
	ASSERT_EQ(0, fv_check(mem, LEN, 21));
	close(fd);
	munmap(mem, LEN);
}

TEST_HARNESS_MAIN
