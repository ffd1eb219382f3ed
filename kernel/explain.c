// SPDX-License-Identifier: GPL-2.0
/*
 * FRAMEVEC_IOC_EXPLAIN: what an import would do with each VMA of a range.
 *
 * Object. Nothing is kept. The ioctl walks [addr, addr + length) of a
 * process, and for each VMA piece asks framevec_judge_vma() twice (for an
 * importer without and with a revoke callback), and reports the piece's
 * flags, what backs it and the verdict, with the sentence that says what to
 * do instead. Holes get an entry too. It takes no reference on the memory
 * and logs nothing per VMA: it is the question users ask when an import (or
 * V4L2 USERPTR) fails, and the answer must not change anything.
 *
 * Lifetime. The target mm is held with mmget() for the whole ioctl, so its
 * VMAs stay valid while its mmap lock is held. Entries are gathered
 * FV_EXPLAIN_BATCH at a time into a kernel buffer under the mmap lock and
 * copied out after the lock is dropped: copy_to_user() may fault and take
 * the caller's mmap lock, which is the same lock when pid is 0. The walk
 * resumes from the end of the last entry, so a range whose mappings change
 * meanwhile is reported piece by piece, never twice and never with a gap.
 *
 * Permission. The caller's own range needs nothing. Linux 6.12 exports
 * neither mm_access() nor ptrace_may_access() to modules, so another
 * process's mm is only looked at for a caller with CAP_SYS_PTRACE (in the
 * initial user namespace): stricter than the PTRACE_MODE_READ that
 * /proc/PID/maps asks for, never looser.
 *
 * Vocabulary. [start, end) with end exclusive, as everywhere in framevec.
 */
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/limits.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/framevec.h>

#include "framevec_internal.h"

#define FRAMEVEC_EXPLAIN_VALID_FLAGS	(FRAMEVEC_EXPLAIN_WRITE)
/* entries gathered per mmap lock hold: about 3.5 KiB */
#define FV_EXPLAIN_BATCH		8

static_assert((int)FRAMEVEC_EXPLAIN_SOURCE_PAGES == FRAMEVEC_SOURCE_PAGES);
static_assert((int)FRAMEVEC_EXPLAIN_SOURCE_DMABUF == FRAMEVEC_SOURCE_DMABUF);
static_assert((int)FRAMEVEC_EXPLAIN_SOURCE_VB2 == FRAMEVEC_SOURCE_VB2);
static_assert((int)FRAMEVEC_EXPLAIN_SOURCE_IOMEM == FRAMEVEC_SOURCE_IOMEM);
static_assert((int)FRAMEVEC_EXPLAIN_SOURCE_REVOCABLE == FRAMEVEC_SOURCE_REVOCABLE);

/* Where the walk is: the next address to explain and the end of the range */
struct fv_explain_walk {
	struct mm_struct *mm;
	unsigned int import_flags;
	unsigned long addr;
	unsigned long end;
	char *path;	/* PATH_MAX bytes of scratch for d_path() */
};

static u64 fv_explain_vm_flags(const struct vm_area_struct *vma)
{
	static const struct {
		vm_flags_t vm;
		u64 uapi;
	} map[] = {
		{ VM_READ, FRAMEVEC_VMA_READ },
		{ VM_WRITE, FRAMEVEC_VMA_WRITE },
		{ VM_EXEC, FRAMEVEC_VMA_EXEC },
		{ VM_SHARED, FRAMEVEC_VMA_SHARED },
		{ VM_IO, FRAMEVEC_VMA_IO },
		{ VM_PFNMAP, FRAMEVEC_VMA_PFNMAP },
		{ VM_MIXEDMAP, FRAMEVEC_VMA_MIXEDMAP },
		{ VM_HUGETLB, FRAMEVEC_VMA_HUGETLB },
		{ VM_HUGEPAGE, FRAMEVEC_VMA_HUGEPAGE },
		{ VM_NOHUGEPAGE, FRAMEVEC_VMA_NOHUGEPAGE },
		{ VM_LOCKED, FRAMEVEC_VMA_LOCKED },
	};
	unsigned int i;
	u64 flags = 0;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (vma->vm_flags & map[i].vm)
			flags |= map[i].uapi;
	return flags;
}

/* Copy @name into @dst, keeping its end (the file name) if it is too long */
static void fv_explain_set_name(char *dst, size_t size, const char *name)
{
	size_t len = strlen(name);

	if (len >= size)
		name += len - (size - 1);
	strscpy(dst, name, size);
}

/* What backs @vma, and its name. Context: mmap lock held. */
static void fv_explain_backing(struct fv_explain_walk *w,
			       struct vm_area_struct *vma,
			       struct framevec_explain_entry *e)
{
	struct file *file = vma->vm_file;
	const char *name = NULL;

	if (file) {
		struct inode *inode = file_inode(file);

		if (is_file_hugepages(file))
			e->backing = FRAMEVEC_BACKING_HUGETLB;
		else if (shmem_mapping(file->f_mapping))
			e->backing = FRAMEVEC_BACKING_SHMEM;
		else if (inode->i_sb->s_magic == DMA_BUF_MAGIC)
			e->backing = FRAMEVEC_BACKING_DMABUF;
		else if (S_ISCHR(inode->i_mode) || (vma->vm_flags & (VM_IO | VM_PFNMAP)))
			e->backing = FRAMEVEC_BACKING_DEVICE;
		else
			e->backing = FRAMEVEC_BACKING_FILE;
		name = d_path(&file->f_path, w->path, PATH_MAX);
		if (IS_ERR(name))
			name = NULL;
	} else if (vma->vm_ops && vma->vm_ops->name) {
		e->backing = FRAMEVEC_BACKING_SPECIAL;
		name = vma->vm_ops->name(vma);
	} else if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
		e->backing = FRAMEVEC_BACKING_SPECIAL;
	} else {
		e->backing = FRAMEVEC_BACKING_ANON;
		if (vma_is_initial_heap(vma))
			name = "[heap]";
		else if (vma_is_initial_stack(vma))
			name = "[stack]";
	}
	if (name)
		fv_explain_set_name(e->name, sizeof(e->name), name);
}

/* Explain the piece of @vma from w->addr on. Context: mmap lock held. */
static void fv_explain_vma(struct fv_explain_walk *w, struct vm_area_struct *vma,
			   struct framevec_explain_entry *e)
{
	struct framevec_verdict v;

	e->end = min(w->end, vma->vm_end);
	e->vm_flags = fv_explain_vm_flags(vma);
	fv_explain_backing(w, vma, e);

	/*
	 * Exactly what FRAMEVEC_IOC_IMPORT asks: a revoke callback that may not
	 * run from an MMU notifier. Its sentence comes first: it is the one a
	 * user-space caller needs.
	 */
	e->error_revocable = -framevec_judge_vma(vma, w->import_flags | FRAMEVEC_ASYNC_REVOKE,
						 true, &v);
	if (v.err)
		strscpy(e->why, v.why, sizeof(e->why));
	/* without a callback: names the source even if only that is missing */
	e->error = -framevec_judge_vma(vma, w->import_flags, false, &v);
	e->source = v.ops ? v.ops->id : FRAMEVEC_EXPLAIN_NO_SOURCE;
	if (v.err && !e->why[0])
		strscpy(e->why, v.why, sizeof(e->why));
}

/*
 * Fill up to @max entries from w->addr on and advance w->addr past them.
 * Return: the number of entries filled, or -EINTR.
 */
static int fv_explain_batch(struct fv_explain_walk *w,
			    struct framevec_explain_entry *batch, unsigned int max)
{
	struct vm_area_struct *vma;
	unsigned int n;
	int ret;

	ret = mmap_read_lock_killable(w->mm);
	if (ret)
		return ret;
	for (n = 0; n < max && w->addr < w->end; n++) {
		struct framevec_explain_entry *e = &batch[n];

		memset(e, 0, sizeof(*e));
		e->start = w->addr;
		vma = find_vma(w->mm, w->addr);
		if (vma && vma->vm_start <= w->addr) {
			fv_explain_vma(w, vma, e);
		} else {
			e->end = vma ? min(w->end, vma->vm_start) : w->end;
			e->backing = FRAMEVEC_BACKING_HOLE;
			e->source = FRAMEVEC_EXPLAIN_NO_SOURCE;
			e->error = EFAULT;
			e->error_revocable = EFAULT;
			strscpy(e->why, "is not mapped; import only mapped memory",
				sizeof(e->why));
		}
		w->addr = e->end;
	}
	mmap_read_unlock(w->mm);
	return n;
}

/*
 * The address space of process @nr (0: the caller), with an mmget()
 * reference. Another process's needs CAP_SYS_PTRACE, see the top comment.
 */
static struct mm_struct *fv_explain_get_mm(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	if (nr < 0)
		return ERR_PTR(-EINVAL);
	if (!nr) {
		mmget(current->mm);
		return current->mm;
	}
	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return ERR_PTR(-ESRCH);
	if (mm != current->mm && !capable(CAP_SYS_PTRACE)) {
		mmput(mm);
		fv_user_err("explaining process %d needs CAP_SYS_PTRACE; run as root or explain your own process",
			    nr);
		return ERR_PTR(-EPERM);
	}
	return mm;
}

/* Write entry @i of the user's array, zero-filling what it has beyond ours */
static int fv_explain_put_entry(const struct framevec_explain *args, u32 i,
				const struct framevec_explain_entry *e)
{
	void __user *dst = u64_to_user_ptr(args->entries) + (size_t)i * args->entry_size;

	if (copy_to_user(dst, e, sizeof(*e)))
		return -EFAULT;
	if (args->entry_size > sizeof(*e) &&
	    clear_user(dst + sizeof(*e), args->entry_size - sizeof(*e)))
		return -EFAULT;
	return 0;
}

/*
 * Check the range against @mm and explain it into the user's array.
 * Sets args->nr_entries to the number of entries the range has.
 */
static int fv_explain_range(struct framevec_explain *args, struct mm_struct *mm)
{
	struct framevec_explain_entry *batch;
	u32 capacity = args->nr_entries, total = 0;
	struct fv_explain_walk w = {
		.mm = mm,
		.import_flags = (args->flags & FRAMEVEC_EXPLAIN_WRITE) ? FRAMEVEC_WRITE : 0,
		.addr = args->addr,
		.end = args->addr + args->length,
	};
	int n, i, ret = 0;

	if (w.end > mm->task_size) {
		fv_user_err("explain %#lx-%#lx ends beyond the user address space",
			    w.addr, w.end);
		return -EFAULT;
	}
	w.path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!w.path)
		return -ENOMEM;
	batch = kmalloc_array(FV_EXPLAIN_BATCH, sizeof(*batch), GFP_KERNEL);
	if (!batch) {
		ret = -ENOMEM;
		goto out_free_path;
	}

	while (w.addr < w.end) {
		n = fv_explain_batch(&w, batch, FV_EXPLAIN_BATCH);
		if (n < 0) {
			ret = n;
			goto out_free_batch;
		}
		for (i = 0; i < n; i++, total++) {
			if (total >= capacity)
				continue;
			ret = fv_explain_put_entry(args, total, &batch[i]);
			if (ret)
				goto out_free_batch;
		}
		cond_resched();
	}
	args->nr_entries = total;
	if (total > capacity)
		ret = -EMSGSIZE;

out_free_batch:
	kfree(batch);
out_free_path:
	kfree(w.path);
	return ret;
}

/**
 * framevec_ioctl_explain() - FRAMEVEC_IOC_EXPLAIN
 * @uarg: the user's struct framevec_explain
 *
 * See include/uapi/linux/framevec.h for the ABI.
 *
 * Context: process context, may sleep; takes the target's mmap lock for
 * read, a few entries at a time.
 * Return: 0; -EMSGSIZE with nr_entries set to the number needed when the
 * array is too small; -EINVAL (size, reserved, entry_size, zero length,
 * misaligned, negative pid), -EOPNOTSUPP (unknown flags), -E2BIG (unknown
 * non-zero struct bytes), -EOVERFLOW (range wraps), -EFAULT (bad pointer,
 * range beyond the address space), -ESRCH (no such process or no address
 * space), -EPERM (another process without CAP_SYS_PTRACE), -EINTR, -ENOMEM.
 */
long framevec_ioctl_explain(void __user *uarg)
{
	struct framevec_explain args;
	struct mm_struct *mm;
	u32 usize;
	u64 end;
	int ret;

	ret = framevec_copy_uarg(&args, sizeof(args),
				 offsetofend(struct framevec_explain, __reserved),
				 uarg, "framevec_explain", &usize);
	if (ret)
		return ret;
	if (!args.pid)
		args.addr = untagged_addr(args.addr);
	if (args.flags & ~FRAMEVEC_EXPLAIN_VALID_FLAGS) {
		fv_user_err("unknown framevec_explain flags %#x",
			    args.flags & ~FRAMEVEC_EXPLAIN_VALID_FLAGS);
		return -EOPNOTSUPP;
	}
	if (args.__reserved) {
		fv_user_err("framevec_explain reserved field is not zero; zero-initialize the struct");
		return -EINVAL;
	}
	if (args.entry_size < sizeof(struct framevec_explain_entry) ||
	    args.entry_size > PAGE_SIZE) {
		fv_user_err("framevec_explain entry_size %u is not sizeof(struct framevec_explain_entry); rebuild against the current uapi header",
			    args.entry_size);
		return -EINVAL;
	}
	if (!args.length || !PAGE_ALIGNED(args.addr) || !PAGE_ALIGNED(args.length)) {
		fv_user_err("explain %#llx+%#llx is empty or not page aligned; align address and length to %lu bytes",
			    args.addr, args.length, PAGE_SIZE);
		return -EINVAL;
	}
	if (check_add_overflow(args.addr, args.length, &end) || end > ULONG_MAX)
		return -EOVERFLOW;

	mm = fv_explain_get_mm(args.pid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	ret = fv_explain_range(&args, mm);
	mmput(mm);
	if (ret && ret != -EMSGSIZE)
		return ret;
	if (copy_to_user(uarg, &args, min_t(size_t, usize, sizeof(args))))
		return -EFAULT;
	return ret;
}
