// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/framevec: the user-space door. Turns a range of the caller's own
 * address space into a dma-buf fd.
 *
 * Object. The open file holds nothing; every import produces an independent
 * dma-buf that owns its framevec. Closing /dev/framevec does not affect them.
 *
 * Mode 0666: an import only touches the caller's own memory, what it imports
 * read-only is never written (the write rule of framevec_core.c), and every
 * page it pins is charged to the calling user's RLIMIT_MEMLOCK for as long
 * as the dma-buf lives, wherever the fd goes (the accounting of
 * framevec_core.c). docs/security.md is the threat model.
 *
 * ioctl ABI: see include/uapi/linux/framevec.h. Each struct starts with its
 * size; copy_struct_from_user() gives EINVAL/E2BIG semantics for sizes.
 */
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <uapi/linux/framevec.h>

#include "framevec_internal.h"

#define FRAMEVEC_IMPORT_VALID_FLAGS	(FRAMEVEC_IMPORT_WRITE)

/**
 * framevec_copy_uarg() - copy in a size-first, extensible ioctl struct
 * @karg: the kernel's struct
 * @ksize: sizeof(*karg)
 * @min_size: the size of the struct's first version
 * @uarg: user pointer; its first u32 is the size user space built
 * @name: the struct's name, for the log line
 * @usize_out: out: the size user space built, read once; the struct's own size
 *	field in @karg is set to it, whatever a racing thread wrote since
 *
 * Return: 0, -EFAULT, -EINVAL (smaller than the first version), or -E2BIG
 * (larger than a page, or larger with bytes this kernel does not know that
 * are not zero).
 */
int framevec_copy_uarg(void *karg, size_t ksize, size_t min_size,
		       void __user *uarg, const char *name, u32 *usize_out)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size) {
		fv_user_err("struct %s size %u is too small; rebuild against the current uapi header",
			    name, usize);
		return -EINVAL;
	}
	/* as clone3(): the unknown tail is checked for zeros, bounded */
	if (usize > PAGE_SIZE) {
		fv_user_err("struct %s size %u is larger than a page; pass sizeof() of the struct",
			    name, usize);
		return -E2BIG;
	}
	ret = copy_struct_from_user(karg, ksize, uarg, usize);
	if (ret == -E2BIG)
		fv_user_err("struct %s has non-zero bytes this kernel does not know; clear them or use a newer framevec",
			    name);
	if (ret)
		return ret;
	/* every ioctl struct starts with its u32 size: keep the one we used */
	*(u32 *)karg = usize;
	*usize_out = usize;
	return 0;
}

static long framevec_ioctl_import(void __user *uarg)
{
	struct framevec_import args;
	struct dma_buf *dmabuf;
	u32 usize;
	int fd, ret;

	ret = framevec_copy_uarg(&args, sizeof(args),
				 offsetofend(struct framevec_import, __reserved),
				 uarg, "framevec_import", &usize);
	if (ret)
		return ret;
	if (args.flags & ~FRAMEVEC_IMPORT_VALID_FLAGS) {
		fv_user_err("unknown framevec_import flags %#x",
			    args.flags & ~FRAMEVEC_IMPORT_VALID_FLAGS);
		return -EOPNOTSUPP;
	}
	if (args.__reserved) {
		fv_user_err("framevec_import reserved field is not zero; zero-initialize the struct");
		return -EINVAL;
	}
	if (args.addr > ULONG_MAX || args.length > ULONG_MAX)
		return -EOVERFLOW;

	dmabuf = framevec_import_dmabuf(current->mm, untagged_addr(args.addr), args.length,
					(args.flags & FRAMEVEC_IMPORT_WRITE) ?
					FRAMEVEC_WRITE : 0);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put_dmabuf;
	}
	args.dmabuf_fd = fd;
	if (copy_to_user(uarg, &args, min_t(size_t, usize, sizeof(args)))) {
		ret = -EFAULT;
		goto err_put_fd;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}

static long framevec_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FRAMEVEC_IOC_IMPORT:
		return framevec_ioctl_import(uarg);
	case FRAMEVEC_IOC_EXPLAIN:
		return framevec_ioctl_explain(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations framevec_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = framevec_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice framevec_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "framevec",
	.fops = &framevec_fops,
	.mode = 0666,
};

int framevec_chardev_init(void)
{
	return misc_register(&framevec_misc);
}

void framevec_chardev_exit(void)
{
	misc_deregister(&framevec_misc);
}
