// SPDX-License-Identifier: GPL-2.0
/*
 * framevec: the command-line tool.
 *
 *   framevec explain [--write] [--in-kernel] PID ADDR LEN
 *   framevec stat
 *   framevec demo [--frames N]
 *   framevec bench [--iters N]
 *
 * Exit codes: see tools/framevec.h and framevec(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framevec.h"

static const char *prog = "framevec";

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: framevec [--help] [--version] COMMAND [ARGS]\n"
		"\n"
		"Commands (each takes --help):\n"
		"  explain PID ADDR LEN   for each mapping of the range: what it is, which framevec\n"
		"                         source takes it, or why it is refused and what to do instead\n"
		"  stat                   live imports, pinned pages and references per source\n"
		"  demo                   vivid capture -> user pointer -> framevec -> dma-buf -> vivid\n"
		"                         output, zero-copy, beside the USERPTR path failing\n"
		"  bench                  benchmarks: ratios against pin_user_pages and frame_vector\n"
		"\n"
		"Exit codes:\n"
		"  0  success (explain: /dev/framevec can import the whole range)\n"
		"  1  explain: some part of the range would be refused\n"
		"  2  usage error\n"
		"  3  framevec is not available (module not loaded, debugfs not mounted, no permission)\n"
		"  4  an operation failed (the message says which)\n"
		"  5  demo: a check failed (zero-copy not proven, USERPTR did not fail, references left)\n");
}

static void usage_explain(FILE *f)
{
	fprintf(f,
		"usage: framevec explain [--write] [--in-kernel] PID ADDR LEN\n"
		"\n"
		"Explain what backs [ADDR, ADDR+LEN) of process PID and what a framevec import\n"
		"would do with each mapping and hole in it. Takes no reference and changes nothing.\n"
		"ADDR and LEN are numbers (0x for hex); LEN takes a K, M or G suffix. The range is\n"
		"widened to whole pages. Another process than the caller needs CAP_SYS_PTRACE.\n"
		"\n"
		"  --write      judge for an import the device writes (FRAMEVEC_IMPORT_WRITE)\n"
		"  --in-kernel  judge for an in-kernel importer without a revoke callback\n"
		"               (default: /dev/framevec, which has one)\n"
		"\n"
		"Exit codes: 0 every part can be imported, 1 some part is refused,\n"
		"2 usage error, 3 framevec not available or no permission, 4 failure.\n");
}

static void usage_stat(FILE *f)
{
	fprintf(f,
		"usage: framevec stat\n"
		"\n"
		"Print framevec's counters from debugfs (/sys/kernel/debug/framevec/counters):\n"
		"live imports (framevecs) and dma-bufs, pages pinned, device mappings, and the\n"
		"references held per source. Needs root (debugfs).\n"
		"\n"
		"Exit codes: 0 printed, 3 debugfs or the module is missing or unreadable.\n");
}

/* framevec_strerror() context errors that mean "framevec is not there" */
int fv_exit_code(int err)
{
	err = err < 0 ? -err : err;
	switch (err) {
	case ENOENT: case ENODEV: case ENXIO: case EACCES: case EPERM: case ENOTTY:
		return FV_EXIT_UNAVAILABLE;
	default:
		return FV_EXIT_FAILED;
	}
}

static int parse_u64(const char *s, uint64_t *v, int suffixes)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	if (suffixes && *end) {
		unsigned int shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		if (*v > (UINT64_MAX >> shift))
			return -1;
		*v <<= shift;
		end++;
	}
	return *end ? -1 : 0;
}

static const char *errname(int err)
{
	switch (err) {
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case ENODEV: return "ENODEV";
	case EFBIG: return "EFBIG";
	default: return "error";
	}
}

static const char *source_holds(int source)
{
	switch (source) {
	case FRAMEVEC_EXPLAIN_SOURCE_PAGES: return "a long-term pin on each page";
	case FRAMEVEC_EXPLAIN_SOURCE_DMABUF: return "the dma-buf's file (its exporter is static: the buffer never moves)";
	case FRAMEVEC_EXPLAIN_SOURCE_VB2: return "the videobuf2 buffer's refcount";
	case FRAMEVEC_EXPLAIN_SOURCE_IOMEM: return "a reference on the exporter's IO range";
	case FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE: return "an mmu notifier; the owner can revoke it";
	default: return "nothing";
	}
}

static void print_size(uint64_t bytes)
{
	if (bytes >= (1ULL << 30) && !(bytes & ((1ULL << 30) - 1)))
		printf("%6" PRIu64 " GiB", bytes >> 30);
	else if (bytes >= (1ULL << 20) && !(bytes & ((1ULL << 20) - 1)))
		printf("%6" PRIu64 " MiB", bytes >> 20);
	else
		printf("%6" PRIu64 " KiB", bytes >> 10);
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "write", no_argument, NULL, 'w' },
		{ "in-kernel", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct framevec_explain_entry *e = NULL;
	int c, in_kernel = 0, ret, refused = 0;
	unsigned int flags = 0;
	uint64_t pid, addr, len;
	struct framevec_ctx *ctx;
	size_t nr, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hwk", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage_explain(stdout); return FV_EXIT_OK;
		case 'w': flags |= FRAMEVEC_EXPLAIN_WRITE; break;
		case 'k': in_kernel = 1; break;
		default: usage_explain(stderr); return FV_EXIT_USAGE;
		}
	}
	if (argc - optind != 3 || parse_u64(argv[optind], &pid, 0) || pid > INT32_MAX ||
	    parse_u64(argv[optind + 1], &addr, 0) || parse_u64(argv[optind + 2], &len, 1) || !len) {
		usage_explain(stderr);
		return FV_EXIT_USAGE;
	}

	ctx = framevec_open();
	if (!ctx) {
		ret = errno;
		fprintf(stderr, "%s: %s\n", prog, framevec_strerror(ret, FRAMEVEC_CTX_OPEN));
		return fv_exit_code(ret);
	}
	ret = framevec_explain(ctx, (pid_t)pid, addr, len, flags, &e, &nr);
	framevec_close(ctx);
	if (ret) {
		fprintf(stderr, "%s: explain pid %" PRIu64 ": %s\n", prog, pid,
			framevec_strerror(ret, FRAMEVEC_CTX_EXPLAIN));
		return fv_exit_code(ret);
	}

	printf("pid %" PRIu64 ", %#" PRIx64 "-%#" PRIx64 ", %s import by %s:\n", pid,
	       nr ? (uint64_t)e[0].start : addr, nr ? (uint64_t)e[nr - 1].end : addr + len,
	       flags & FRAMEVEC_EXPLAIN_WRITE ? "write" : "read-only",
	       in_kernel ? "an in-kernel importer without revoke callback" : "/dev/framevec");
	for (i = 0; i < nr; i++) {
		int err = in_kernel ? e[i].error : e[i].error_revocable;
		char fl[96];

		printf("  %#" PRIx64 "-%#" PRIx64 " ", (uint64_t)e[i].start, (uint64_t)e[i].end);
		print_size(e[i].end - e[i].start);
		if (e[i].backing == FRAMEVEC_BACKING_HOLE)
			printf("  hole\n");
		else
			printf("  %s %s %s\n", framevec_vm_flags_str(e[i].vm_flags, fl, sizeof(fl)),
			       framevec_backing_name(e[i].backing), e[i].name);
		if (!err) {
			printf("      ok: source %s takes it, holding %s\n",
			       framevec_source_name(e[i].source), source_holds(e[i].source));
		} else {
			refused++;
			printf("      REFUSED %s: range %#" PRIx64 "-%#" PRIx64 " %s\n", errname(err),
			       (uint64_t)e[i].start, (uint64_t)e[i].end, e[i].why);
		}
		if (!in_kernel && !err && e[i].error)
			printf("      note: an in-kernel importer needs a revoke callback for it (%s)\n",
			       errname(e[i].error));
	}
	if (refused)
		printf("verdict: refused: %d of %zu part%s cannot be imported (see above)\n",
		       refused, nr, nr == 1 ? "" : "s");
	else
		printf("verdict: ok: every part can be imported\n");
	free(e);
	return refused ? FV_EXIT_REFUSED : FV_EXIT_OK;
}

static int cmd_stat(int argc, char **argv)
{
	struct framevec_stats st;
	int i, ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage_stat(stdout);
		return FV_EXIT_OK;
	}
	if (argc > 1) {
		usage_stat(stderr);
		return FV_EXIT_USAGE;
	}
	ret = framevec_read_stats(&st);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, framevec_strerror(ret, FRAMEVEC_CTX_STATS));
		return ret == -EBADMSG ? FV_EXIT_FAILED : FV_EXIT_UNAVAILABLE;
	}
	printf("live imports (framevecs)  %" PRId64 "\n", st.live_framevecs);
	printf("live dma-bufs             %" PRId64 "\n", st.live_dmabufs);
	printf("pinned pages              %" PRId64 "\n", st.pinned_pages);
	printf("device mappings           %" PRId64 "\n", st.device_maps);
	printf("references by source:\n");
	for (i = 0; i < 5; i++)
		printf("  %-22s  %" PRId64 "\n", framevec_source_name(i), st.refs[i]);
	return FV_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage_main(stderr);
		return FV_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		if (argc > 2 && !strcmp(argv[2], "explain"))
			usage_explain(stdout);
		else if (argc > 2 && !strcmp(argv[2], "stat"))
			usage_stat(stdout);
		else if (argc > 2 && !strcmp(argv[2], "demo"))
			return fv_cmd_demo(2, (char *[]){ "demo", "--help", NULL });
		else if (argc > 2 && !strcmp(argv[2], "bench"))
			return fv_cmd_bench(2, (char *[]){ "bench", "--help", NULL });
		else
			usage_main(stdout);
		return FV_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("framevec %d.%d\n", LIBFRAMEVEC_VERSION_MAJOR, LIBFRAMEVEC_VERSION_MINOR);
		return FV_EXIT_OK;
	}
	if (!strcmp(cmd, "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc - 1, argv + 1);
	if (!strcmp(cmd, "demo"))
		return fv_cmd_demo(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return fv_cmd_bench(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
	usage_main(stderr);
	return FV_EXIT_USAGE;
}
