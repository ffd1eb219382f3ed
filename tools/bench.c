// SPDX-License-Identifier: GPL-2.0
/*
 * framevec bench (run by make bench): time import + release of the same user ranges by
 * framevec and by the in-kernel baselines (pin_user_pages_fast() and
 * pin_user_pages() with FOLL_LONGTERM, media's get_vaddr_frames()), side by side in one boot, through fv_bench's
 * debugfs interface, and print medians as ratios. TCG time is not native
 * time: only the ratios mean something, and nothing here passes or fails on
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fv_bench.h"
#include "framevec.h"

#define FVB_RUN_FILE	"/sys/kernel/debug/fv_bench/run"
#define SZ_2M	(2UL << 20)

static const char *const method_name[FVB_NR_METHODS] = {
	"framevec", "pin_user_pages_fast", "get_vaddr_frames", "pin_user_pages",
};

struct scenario {
	const char *name;
	size_t len;
	int thp;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* median import/release ns of one method over ITERS runs */
static int measure(int fd, int method, void *addr, size_t len, int iters,
		   uint64_t *imp, uint64_t *rel, uint64_t *meta)
{
	uint64_t ti[64], tr[64];

	for (int i = -2; i < iters; i++) {	/* two warm-up runs */
		struct fvb_run r = {
			.method = method, .write = 1, .addr = (uintptr_t)addr, .length = len,
		};

		if (ioctl(fd, FVB_RUN, &r)) {
			fprintf(stderr, "fv_bench: %s failed: %s\n", method_name[method],
				strerror(errno));
			return -1;
		}
		if (r.held_pages != len / 4096) {
			fprintf(stderr, "fv_bench: %s held %llu of %zu pages\n", method_name[method],
				(unsigned long long)r.held_pages, len / 4096);
			return -1;
		}
		if (i >= 0) {
			ti[i] = r.import_ns;
			tr[i] = r.release_ns;
		}
		*meta = r.meta_bytes;
	}
	qsort(ti, iters, sizeof(ti[0]), cmp_u64);
	qsort(tr, iters, sizeof(tr[0]), cmp_u64);
	*imp = ti[iters / 2];
	*rel = tr[iters / 2];
	return 0;
}

static void usage_bench(FILE *f)
{
	fprintf(f,
		"usage: framevec bench [--iters N]\n"
		"\n"
		"Time the kernel side of importing and releasing the same user ranges by\n"
		"framevec and by the in-kernel baselines (pin_user_pages_fast(), pin_user_pages()\n"
		"under the mmap lock, get_vaddr_frames()), side by side, through the fv_bench\n"
		"module's debugfs file (modprobe fv_bench; make bench does both in the test VM).\n"
		"Prints median ratios framevec / baseline and metadata bytes per page. Times\n"
		"from an emulator are not native times: read the ratios only.\n"
		"\n"
		"  --iters N   timed cycles per method and range, median taken (default 15, max 64)\n"
		"\n"
		"Exit codes: 0 done, 2 usage error, 3 fv_bench not loaded or no permission,\n"
		"4 a run failed or held the wrong number of pages.\n");
}

int fv_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iters", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int iters = 15, c;
	static const struct scenario sc[] = {
		{ "anon 1 MiB, 4 KiB pages", 1UL << 20, 0 },
		{ "anon 64 MiB, 4 KiB pages", 64UL << 20, 0 },
		{ "anon 64 MiB, THP", 64UL << 20, 1 },
	};
	int fd, failed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			iters = atoi(optarg);
			break;
		case 'h':
			usage_bench(stdout);
			return FV_EXIT_OK;
		default:
			usage_bench(stderr);
			return FV_EXIT_USAGE;
		}
	}
	if (optind != argc || iters < 1 || iters > 64) {
		usage_bench(stderr);
		return FV_EXIT_USAGE;
	}
	fd = open(FVB_RUN_FILE, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "framevec bench: %s: %s (modprobe fv_bench, as root, debugfs mounted)\n",
			FVB_RUN_FILE, strerror(errno));
		return FV_EXIT_UNAVAILABLE;
	}
	printf("framevec benchmark: median of %d import+release cycles, write, ratios framevec / baseline\n",
	       iters);
	printf("(< 1.00 means framevec is faster; TCG guest, only ratios are meaningful)\n\n");
	printf("pupf = pin_user_pages_fast, pupl = pin_user_pages under mmap_read_lock (the GUP path\n"
	       "framevec uses), fvec = get_vaddr_frames; all FOLL_LONGTERM | FOLL_WRITE\n\n");
	printf("%-26s %6s | %-7s %-7s %-7s | %-7s %-7s %-7s | %s\n", "memory", "pages",
	       "imp/pupf", "imp/pupl", "imp/fvec", "rel/pupf", "rel/pupl", "rel/fvec",
	       "metadata bytes/page: framevec pup frame_vector");
	for (unsigned int s = 0; s < sizeof(sc) / sizeof(sc[0]); s++) {
		uint64_t imp[FVB_NR_METHODS], rel[FVB_NR_METHODS], meta[FVB_NR_METHODS];
		size_t map_len = sc[s].len + SZ_2M;
		char *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *mem;
		int m;

		if (map == MAP_FAILED) {
			perror("framevec bench: mmap");
			close(fd);
			return FV_EXIT_FAILED;
		}
		mem = (char *)(((uintptr_t)map + SZ_2M - 1) & ~(SZ_2M - 1));
		madvise(mem, sc[s].len, sc[s].thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		memset(mem, 1, sc[s].len);
		for (m = 0; m < FVB_NR_METHODS; m++)
			if (measure(fd, m, mem, sc[s].len, iters, &imp[m], &rel[m], &meta[m]))
				break;
		munmap(map, map_len);
		if (m < FVB_NR_METHODS) {
			failed = 1;
			continue;
		}
		printf("%-26s %6zu | %-8.2f %-8.2f %-8.2f | %-8.2f %-8.2f %-8.2f | %.3f %.3f %.3f\n",
		       sc[s].name, sc[s].len / 4096,
		       (double)imp[0] / imp[1], (double)imp[0] / imp[3], (double)imp[0] / imp[2],
		       (double)rel[0] / rel[1], (double)rel[0] / rel[3], (double)rel[0] / rel[2],
		       (double)meta[0] / (sc[s].len / 4096), (double)meta[1] / (sc[s].len / 4096),
		       (double)meta[2] / (sc[s].len / 4096));
	}
	close(fd);
	return failed ? FV_EXIT_FAILED : FV_EXIT_OK;
}
