// SPDX-License-Identifier: GPL-2.0
/*
 * fv_test_cacheattr: the kernel half of the cache-attr suite (the ioctls are
 * in fv_test_cacheattr.h). It reads the memory-type bits of the page-table
 * entry of a user address or of a dma-buf's vmap, so that the tests compare
 * what the MMU is told for framevec's mappings with the owner's; and it owns
 * write-combined or uncached RAM mapped to user space with vm_insert_pages(),
 * the one kind of non-cacheable owner on x86 whose framevec can be vmapped.
 *
 * Object. struct fvca_file: per open file, at most one owner allocation
 * (its pages and their mode). The pages are freed, write-back again, at the
 * file's release.
 *
 * Locking. fvca_file.lock orders the allocation against mmap. A query takes
 * the caller's mmap read lock around the user walk; the vmap query holds the
 * dma-buf's vmap only for the read.
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/set_memory.h>

#include "fv_test_cacheattr.h"

#define FVCA_NAME "fv_test_cacheattr"

struct fvca_file {
	struct mutex lock;	/* pages, nr_pages, mode */
	struct page **pages;
	unsigned long nr_pages;
	u32 mode;
};

/*
 * The architecture code, all of it here:
 *   fvca_decode()      the memory-type bits of a page-sized leaf entry and the
 *                      FVCA_MODE_* they select, in the kernel's own encoding;
 *   fvca_kernel_pte()  the leaf entry of a kernel (vmalloc) address;
 *   fvca_set_linear()  the linear mapping of RAM set to a mode (x86 only).
 * x86: the PAT index bits (_PAGE_CACHE_MASK) decoded with cachemode2protval(),
 * lookup_address() for kernel addresses, set_memory_wc()/_uc()/_wb().
 * arm64: the MAIR index (PTE_ATTRINDX_MASK), decoded by comparing it with
 * the kernel's pgprot_writecombine() etc.; init_mm is not exported, so the
 * kernel walk starts from TTBR1_EL1 (without ASID and CnP; with 52-bit PAs,
 * PA[51:48] are in bits [5:2], see phys_to_ttbr()) and goes down with the
 * kernel's own offset helpers, which fold levels at runtime; arm64 cannot
 * change a linear mapping's memory type, so only write-back owners.
 */
#if defined(CONFIG_X86)
static u64 fvca_decode(pte_t pte, u32 *mode)
{
	static const struct { enum page_cache_mode pcm; u32 mode; } modes[] = {
		{ _PAGE_CACHE_MODE_WB, FVCA_MODE_WB },
		{ _PAGE_CACHE_MODE_WC, FVCA_MODE_WC },
		{ _PAGE_CACHE_MODE_UC_MINUS, FVCA_MODE_UC_MINUS },
		{ _PAGE_CACHE_MODE_UC, FVCA_MODE_UC },
		{ _PAGE_CACHE_MODE_WT, FVCA_MODE_WT },
		{ _PAGE_CACHE_MODE_WP, FVCA_MODE_WP },
	};
	u64 bits = pte_val(pte) & _PAGE_CACHE_MASK;
	unsigned int i;

	*mode = FVCA_MODE_OTHER;
	/* first match: where PAT lacks a mode, the kernel encodes a stricter one */
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (bits == cachemode2protval(modes[i].pcm)) {
			*mode = modes[i].mode;
			break;
		}
	return bits;
}

static int fvca_kernel_pte(unsigned long addr, pte_t *out)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte)
		return -ENOENT;
	if (level != PG_LEVEL_4K)
		return -EOPNOTSUPP;
	*out = ptep_get(pte);
	return 0;
}

static int fvca_set_linear(struct page *page, u32 mode)
{
	unsigned long va = (unsigned long)page_address(page);

	switch (mode) {
	case FVCA_MODE_WB:
		return set_memory_wb(va, 1);
	case FVCA_MODE_WC:
		return set_memory_wc(va, 1);
	case FVCA_MODE_UC_MINUS:
		return set_memory_uc(va, 1);
	}
	return -EOPNOTSUPP;
}
#elif defined(CONFIG_ARM64)
static u64 fvca_decode(pte_t pte, u32 *mode)
{
	const struct { pgprot_t prot; u32 mode; } modes[] = {
		{ PAGE_KERNEL, FVCA_MODE_WB },
		{ __pgprot(PTE_ATTRINDX(MT_NORMAL_TAGGED)), FVCA_MODE_WB },
		{ pgprot_writecombine(PAGE_KERNEL), FVCA_MODE_WC },
		{ pgprot_noncached(PAGE_KERNEL), FVCA_MODE_UC },
		{ pgprot_device(PAGE_KERNEL), FVCA_MODE_DEVICE },
	};
	u64 bits = pte_val(pte) & PTE_ATTRINDX_MASK;
	unsigned int i;

	*mode = FVCA_MODE_OTHER;
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (bits == (pgprot_val(modes[i].prot) & PTE_ATTRINDX_MASK)) {
			*mode = modes[i].mode;
			break;
		}
	return bits;
}

static int fvca_kernel_pte(unsigned long addr, pte_t *out)
{
	u64 ttbr = read_sysreg(ttbr1_el1) & ~(TTBR_ASID_MASK | TTBR_CNP_BIT);
	phys_addr_t root = ttbr;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (IS_ENABLED(CONFIG_ARM64_PA_BITS_52))
		root = (ttbr & GENMASK_ULL(47, 6)) | ((ttbr & GENMASK_ULL(5, 2)) << 46);
	pgd = pgd_offset_pgd((pgd_t *)phys_to_virt(root), addr);
	if (pgd_none(READ_ONCE(*pgd)))
		return -ENOENT;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		return -ENOENT;
	pud = pud_offset(p4d, addr);
	if (pud_none(READ_ONCE(*pud)))
		return -ENOENT;
	if (pud_leaf(READ_ONCE(*pud)))
		return -EOPNOTSUPP;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(READ_ONCE(*pmd)))
		return -ENOENT;
	if (pmd_leaf(READ_ONCE(*pmd)))
		return -EOPNOTSUPP;
	*out = ptep_get(pte_offset_kernel(pmd, addr));
	return 0;
}

static int fvca_set_linear(struct page *page, u32 mode)
{
	return mode == FVCA_MODE_WB ? 0 : -EOPNOTSUPP;
}
#else
#error "fv_test_cacheattr: no page-table reader for this architecture"
#endif

/*
 * Copy in a size-first struct: smaller than @min is -EINVAL, a larger one
 * with non-zero bytes we do not know -E2BIG (copy_struct_from_user()).
 */
static int fvca_copy_in(void *karg, size_t ksize, size_t min, void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

struct fvca_walk {
	pte_t pte;
};

static int fvca_read_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct fvca_walk *w = data;

	w->pte = ptep_get(pte);
	return 0;
}

/*
 * The entry of @addr in the caller's mm. apply_to_existing_page_range()
 * maps and locks the PTE page but WARNs on a huge leaf: look for those first,
 * under the same mmap lock (a PMD or PUD becomes a leaf only under the write
 * lock).
 */
static int fvca_user_pte(unsigned long addr, pte_t *out)
{
	struct mm_struct *mm = current->mm;
	struct fvca_walk w = { .pte = __pte(0) };
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	int ret = -ENOENT;

	addr &= PAGE_MASK;
	mmap_read_lock(mm);
	pgd = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgd)))
		goto out_unlock;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		goto out_unlock;
	pud = pud_offset(p4d, addr);
	if (pud_none(READ_ONCE(*pud)))
		goto out_unlock;
	ret = -EOPNOTSUPP;
	if (pud_leaf(READ_ONCE(*pud)))
		goto out_unlock;
	pmd = pmd_offset(pud, addr);
	if (pmd_leaf(READ_ONCE(*pmd)))
		goto out_unlock;
	ret = apply_to_existing_page_range(mm, addr, PAGE_SIZE, fvca_read_pte, &w);
	if (!ret && pte_none(w.pte))
		ret = -ENOENT;
out_unlock:
	mmap_read_unlock(mm);
	*out = w.pte;
	return ret;
}

/* The kernel entry of byte @off of the dma-buf's vmap */
static int fvca_vmap_pte(int fd, u64 off, pte_t *out)
{
	struct iosys_map map;
	struct dma_buf *dmabuf;
	int ret;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = -EINVAL;
	if (off >= dmabuf->size)
		goto out_put;
	ret = dma_buf_vmap_unlocked(dmabuf, &map);
	if (ret)
		goto out_put;
	if (map.is_iomem)
		ret = -EOPNOTSUPP;
	else
		ret = fvca_kernel_pte((unsigned long)map.vaddr + off, out);
	dma_buf_vunmap_unlocked(dmabuf, &map);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long fvca_ioctl_query(void __user *uarg)
{
	struct fvca_query q;
	pte_t pte;
	int ret;

	ret = fvca_copy_in(&q, sizeof(q), sizeof(q), uarg);
	if (ret)
		return ret;
	if (q.flags & ~FVCA_QUERY_VMAP)
		return -EINVAL;
	if (q.flags & FVCA_QUERY_VMAP)
		ret = fvca_vmap_pte(q.dmabuf_fd, q.addr, &pte);
	else if (q.dmabuf_fd != -1)
		ret = -EINVAL;
	else
		ret = fvca_user_pte(q.addr, &pte);
	if (ret)
		return ret;
	q.attr = fvca_decode(pte, &q.mode);
	q.pfn = pte_pfn(pte);
	return copy_to_user(uarg, &q, sizeof(q)) ? -EFAULT : 0;
}

/* Free the first @n of @pages, which have @mode */
static void fvca_free_pages(struct page **pages, unsigned long n, u32 mode)
{
	while (n--) {
		/* a page whose linear map cannot be made write-back again is kept */
		if (mode != FVCA_MODE_WB && WARN_ON(fvca_set_linear(pages[n], FVCA_MODE_WB)))
			continue;
		__free_page(pages[n]);
	}
}

static long fvca_ioctl_owner(struct fvca_file *ff, void __user *uarg)
{
	struct fvca_owner o;
	struct page **pages;
	unsigned long i;
	int ret;

	ret = fvca_copy_in(&o, sizeof(o), sizeof(o), uarg);
	if (ret)
		return ret;
	if (o.flags || o.__reserved || !o.nr_pages || o.nr_pages > FVCA_MAX_PAGES ||
	    (o.mode != FVCA_MODE_WB && o.mode != FVCA_MODE_WC && o.mode != FVCA_MODE_UC_MINUS))
		return -EINVAL;
	pages = kcalloc(o.nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < o.nr_pages; i++) {
		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto err_free_pages;
		}
		ret = fvca_set_linear(pages[i], o.mode);
		if (ret) {
			__free_page(pages[i]);
			goto err_free_pages;
		}
	}
	mutex_lock(&ff->lock);
	if (ff->pages) {
		mutex_unlock(&ff->lock);
		ret = -EBUSY;
		goto err_free_pages;
	}
	ff->pages = pages;
	ff->nr_pages = o.nr_pages;
	ff->mode = o.mode;
	mutex_unlock(&ff->lock);
	return 0;

err_free_pages:
	fvca_free_pages(pages, i, o.mode);
	kfree(pages);
	return ret;
}

static long fvca_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case FVCA_IOC_QUERY:
		return fvca_ioctl_query(uarg);
	case FVCA_IOC_OWNER:
		return fvca_ioctl_owner(file->private_data, uarg);
	default:
		return -ENOTTY;
	}
}

/* The owner's mapping: its pages, with the attribute their linear map has */
static int fvca_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct fvca_file *ff = file->private_data;
	unsigned long n = vma_pages(vma);
	int ret = -EINVAL;

	mutex_lock(&ff->lock);
	if (!ff->pages || vma->vm_pgoff || n > ff->nr_pages)
		goto out_unlock;
	if (ff->mode == FVCA_MODE_WC)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	else if (ff->mode == FVCA_MODE_UC_MINUS)
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_DONTEXPAND);
	ret = vm_insert_pages(vma, vma->vm_start, ff->pages, &n);
out_unlock:
	mutex_unlock(&ff->lock);
	return ret;
}

static int fvca_open(struct inode *inode, struct file *file)
{
	struct fvca_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	mutex_init(&ff->lock);
	file->private_data = ff;
	return 0;
}

static int fvca_release(struct inode *inode, struct file *file)
{
	struct fvca_file *ff = file->private_data;

	/* no VMA is left: each held a reference to the file */
	if (ff->pages)
		fvca_free_pages(ff->pages, ff->nr_pages, ff->mode);
	kfree(ff->pages);
	mutex_destroy(&ff->lock);
	kfree(ff);
	return 0;
}

static const struct file_operations fvca_fops = {
	.owner = THIS_MODULE,
	.open = fvca_open,
	.release = fvca_release,
	.unlocked_ioctl = fvca_ioctl,
	.mmap = fvca_mmap,
};

static struct miscdevice fvca_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = FVCA_NAME,
	.fops = &fvca_fops,
	.mode = 0600,
};

module_misc_device(fvca_misc);
MODULE_DESCRIPTION("framevec test: memory types of page-table entries, and write-combined RAM");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
