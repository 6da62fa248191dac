/* SPDX-License-Identifier: Apache-2.0 */
#include "elf_reader.h"

#include <elf.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* A parse in progress: the buffer and the byte order and class taken from e_ident. */
struct elf_parse {
        const uint8_t *buf;
        size_t len;
        bool be;
        bool is64;
};

static uint16_t rd16(const struct elf_parse *p, size_t off)
{
        const uint8_t *b = p->buf + off;
        return p->be ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t rd32(const struct elf_parse *p, size_t off)
{
        const uint8_t *b = p->buf + off;
        if (p->be)
                return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static uint64_t rd64(const struct elf_parse *p, size_t off)
{
        uint64_t a = rd32(p, off), b = rd32(p, off + 4);
        return p->be ? a << 32 | b : b << 32 | a;
}

/* A word: 32 bits in ELFCLASS32, 64 bits in ELFCLASS64. */
static uint64_t rdw(const struct elf_parse *p, size_t off)
{
        return p->is64 ? rd64(p, off) : rd32(p, off);
}

/* True when [off, off+size) lies inside the buffer, without overflow. */
static bool in_range(const struct elf_parse *p, uint64_t off, uint64_t size)
{
        return off <= p->len && size <= p->len - off;
}

struct elf_phdr {
        uint32_t type;
        uint64_t offset, vaddr, filesz;
};

static void phdr_read(const struct elf_parse *p, size_t off, struct elf_phdr *ph)
{
        ph->type = rd32(p, off);
        if (p->is64) {
                ph->offset = rd64(p, off + 8);
                ph->vaddr = rd64(p, off + 16);
                ph->filesz = rd64(p, off + 32);
        } else {
                ph->offset = rd32(p, off + 4);
                ph->vaddr = rd32(p, off + 8);
                ph->filesz = rd32(p, off + 16);
        }
}

static int fail(struct cairn_error *err, const char *what)
{
        return cairn_error_add(err, CAIRN_EXIT_POLICY, -ENOEXEC, "malformed ELF: %s", what);
}

/*
 * Copies the NUL-terminated string at off, which must end before limit (an absolute offset
 * not past the buffer) and be at most ELF_MAX_STRING bytes.
 */
static int string_dup(const struct elf_parse *p, uint64_t off, uint64_t limit, char **ret,
                      struct cairn_error *err)
{
        if (limit > p->len || off >= limit)
                return fail(err, "string outside its table");
        uint64_t max = limit - off;
        if (max > ELF_MAX_STRING + 1)
                max = ELF_MAX_STRING + 1;
        const uint8_t *s = p->buf + off;
        const uint8_t *nul = memchr(s, 0, max);
        if (!nul)
                return max > ELF_MAX_STRING
                               ? cairn_error_add(err, CAIRN_EXIT_POLICY, -E2BIG,
                                                 "ELF string longer than %d bytes", ELF_MAX_STRING)
                               : fail(err, "unterminated string");
        char *c = strndup((const char *)s, (size_t)(nul - s));
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

bool elf_has_magic(const uint8_t *buf, size_t len)
{
        return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

void elf_info_clear(struct elf_info *info)
{
        if (!info)
                return;
        free(info->interp);
        strv_free(info->needed);
        free(info->rpath);
        free(info->runpath);
        *info = (struct elf_info){};
}

/* The file offset of virtual address vaddr through the PT_LOAD segments, and how many bytes of
 * the segment's file image follow it. */
static int vaddr_to_offset(const struct elf_parse *p, const struct elf_phdr *phdrs, size_t n,
                           uint64_t vaddr, uint64_t *ret_off, uint64_t *ret_avail)
{
        for (size_t i = 0; i < n; i++) {
                const struct elf_phdr *ph = &phdrs[i];
                if (ph->type != PT_LOAD || vaddr < ph->vaddr || vaddr - ph->vaddr >= ph->filesz)
                        continue;
                uint64_t delta = vaddr - ph->vaddr;
                if (!in_range(p, ph->offset, ph->filesz))
                        return -ENOEXEC;
                *ret_off = ph->offset + delta;
                *ret_avail = ph->filesz - delta;
                return 0;
        }
        return -ENOEXEC;
}

/* Reads PT_DYNAMIC: DT_NEEDED, DT_RPATH, DT_RUNPATH and DF_1_PIE through DT_STRTAB. */
static int dynamic_read(const struct elf_parse *p, const struct elf_phdr *dyn,
                        const struct elf_phdr *phdrs, size_t n_phdrs, struct elf_info *info,
                        struct cairn_error *err)
{
        size_t entsize = p->is64 ? 16 : 8;
        if (!in_range(p, dyn->offset, dyn->filesz))
                return fail(err, "PT_DYNAMIC outside the file");
        uint64_t count = dyn->filesz / entsize;
        uint64_t strtab = 0, strsz = UINT64_MAX, rpath = UINT64_MAX, runpath = UINT64_MAX;
        bool has_strtab = false;
        uint64_t needed[ELF_MAX_NEEDED];
        size_t n_needed = 0;

        for (uint64_t i = 0; i < count; i++) {
                if (i >= ELF_MAX_DYNAMIC)
                        return cairn_error_add(err, CAIRN_EXIT_POLICY, -E2BIG,
                                               "ELF dynamic section has more than %d entries",
                                               ELF_MAX_DYNAMIC);
                size_t off = dyn->offset + i * entsize;
                int64_t tag = p->is64 ? (int64_t)rd64(p, off) : (int32_t)rd32(p, off);
                uint64_t val = rdw(p, off + entsize / 2);
                if (tag == DT_NULL)
                        break;
                switch (tag) {
                case DT_NEEDED:
                        if (n_needed >= ELF_MAX_NEEDED)
                                return cairn_error_add(err, CAIRN_EXIT_POLICY, -E2BIG,
                                                       "ELF file needs more than %d libraries",
                                                       ELF_MAX_NEEDED);
                        needed[n_needed++] = val;
                        break;
                case DT_STRTAB:
                        strtab = val;
                        has_strtab = true;
                        break;
                case DT_STRSZ:
                        strsz = val;
                        break;
                case DT_RPATH:
                        rpath = val;
                        break;
                case DT_RUNPATH:
                        runpath = val;
                        break;
                case DT_FLAGS_1:
                        if (val & DF_1_PIE)
                                info->pie = true;
                        break;
                default:
                        break;
                }
        }
        bool wants_strings = n_needed > 0 || rpath != UINT64_MAX || runpath != UINT64_MAX;
        info->needed = calloc(n_needed + 1, sizeof(char *));
        if (!info->needed)
                return -ENOMEM;
        if (!wants_strings)
                return 0;
        if (!has_strtab)
                return fail(err, "DT_NEEDED or DT_RPATH without DT_STRTAB");

        uint64_t str_off, avail;
        if (vaddr_to_offset(p, phdrs, n_phdrs, strtab, &str_off, &avail) < 0)
                return fail(err, "DT_STRTAB not inside a PT_LOAD segment of the file");
        if (strsz < avail)
                avail = strsz;
        if (!in_range(p, str_off, avail))
                avail = p->len - str_off;
        uint64_t limit = str_off + avail;

        for (size_t i = 0; i < n_needed; i++) {
                if (needed[i] >= avail)
                        return fail(err, "DT_NEEDED name outside DT_STRTAB");
                int r = string_dup(p, str_off + needed[i], limit, &info->needed[i], err);
                if (r < 0)
                        return r;
                info->n_needed++;
        }
        if (rpath != UINT64_MAX) {
                if (rpath >= avail)
                        return fail(err, "DT_RPATH outside DT_STRTAB");
                int r = string_dup(p, str_off + rpath, limit, &info->rpath, err);
                if (r < 0)
                        return r;
        }
        if (runpath != UINT64_MAX) {
                if (runpath >= avail)
                        return fail(err, "DT_RUNPATH outside DT_STRTAB");
                int r = string_dup(p, str_off + runpath, limit, &info->runpath, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int elf_parse_all(const struct elf_parse *p, struct elf_info *info, struct cairn_error *err)
{
        size_t ehsize = p->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (p->len < ehsize)
                return fail(err, "truncated header");
        info->elf_class = p->is64 ? 64 : 32;
        info->big_endian = p->be;
        info->type = rd16(p, 16);
        info->machine = rd16(p, 18);

        uint64_t phoff = rdw(p, p->is64 ? 32 : 28);
        uint64_t shoff = rdw(p, p->is64 ? 40 : 32);
        uint16_t phentsize = rd16(p, p->is64 ? 54 : 42);
        uint64_t phnum = rd16(p, p->is64 ? 56 : 44);
        uint16_t shentsize = rd16(p, p->is64 ? 58 : 46);

        if (phnum == PN_XNUM) {
                /* The real count lives in sh_info of section header 0. */
                size_t shdr = p->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
                if (shentsize != shdr || !in_range(p, shoff, shdr))
                        return fail(err, "PN_XNUM without a readable section header 0");
                phnum = rd32(p, shoff + (p->is64 ? 44 : 28));
        }
        if (phnum == 0)
                return 0;
        if (phnum > ELF_MAX_PHNUM)
                return cairn_error_add(err, CAIRN_EXIT_POLICY, -E2BIG,
                                       "ELF file has %" PRIu64 " program headers, more than %d",
                                       phnum, ELF_MAX_PHNUM);
        size_t want = p->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
        if (phentsize != want)
                return fail(err, "unexpected e_phentsize");
        if (!in_range(p, phoff, phnum * want))
                return fail(err, "program headers outside the file");

        _cleanup_free_ struct elf_phdr *phdrs = calloc(phnum, sizeof(*phdrs));
        if (!phdrs)
                return -ENOMEM;
        const struct elf_phdr *interp = NULL, *dyn = NULL;
        for (size_t i = 0; i < phnum; i++) {
                phdr_read(p, phoff + i * want, &phdrs[i]);
                if (phdrs[i].type == PT_INTERP && !interp)
                        interp = &phdrs[i];
                else if (phdrs[i].type == PT_DYNAMIC && !dyn)
                        dyn = &phdrs[i];
        }
        if (interp) {
                if (!in_range(p, interp->offset, interp->filesz) || interp->filesz == 0)
                        return fail(err, "PT_INTERP outside the file");
                int r = string_dup(p, interp->offset, interp->offset + interp->filesz,
                                   &info->interp, err);
                if (r < 0)
                        return r;
        }
        if (dyn) {
                info->has_dynamic = true;
                int r = dynamic_read(p, dyn, phdrs, phnum, info, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The layouts binfmt_elf reads, by e_machine and byte order. class 0: the kernel of that
 * architecture checks EI_CLASS (elf_check_arch compares it with ELF_CLASS), so EI_CLASS says
 * which; otherwise the kernel never looks at EI_CLASS and the machine decides.
 */
static const struct {
        uint16_t machine;
        unsigned elf_class;
        bool big_endian;
} kernel_layouts[] = {
        { EM_X86_64, 64, false }, { EM_386, 32, false },   { EM_AARCH64, 64, false },
        { EM_ARM, 32, false },    { EM_PPC64, 64, false }, { EM_PPC64, 64, true },
        { EM_PPC, 32, true },     { EM_S390, 0, true },    { EM_RISCV, 0, false },
        { EM_MIPS, 0, false },    { EM_MIPS, 0, true },    { 258 /* EM_LOONGARCH */, 0, false },
};

void elf_probe(const uint8_t *buf, size_t len, struct elf_probe *ret)
{
        struct elf_probe p = { .magic = elf_has_magic(buf, len) };
        if (!p.magic || len < 20) {
                *ret = p;
                return;
        }
        uint16_t le = (uint16_t)(buf[18] | buf[19] << 8), be = (uint16_t)(buf[18] << 8 | buf[19]);
        for (size_t i = 0; i < ELEMENTSOF(kernel_layouts) && !p.machine_known; i++) {
                if (kernel_layouts[i].machine != (kernel_layouts[i].big_endian ? be : le))
                        continue;
                p.machine_known = true;
                p.big_endian = kernel_layouts[i].big_endian;
                p.machine = kernel_layouts[i].machine;
                p.elf_class = kernel_layouts[i].elf_class;
                if (p.elf_class == 0 &&
                    (buf[EI_CLASS] == ELFCLASS32 || buf[EI_CLASS] == ELFCLASS64))
                        p.elf_class = buf[EI_CLASS] == ELFCLASS64 ? 64 : 32;
                p.layout_known = p.elf_class != 0;
        }
        if (!p.machine_known && (buf[EI_CLASS] == ELFCLASS32 || buf[EI_CLASS] == ELFCLASS64) &&
            (buf[EI_DATA] == ELFDATA2LSB || buf[EI_DATA] == ELFDATA2MSB)) {
                /* A machine cairn does not know: e_ident is all there is to go by. */
                p.layout_known = true;
                p.elf_class = buf[EI_CLASS] == ELFCLASS64 ? 64 : 32;
                p.big_endian = buf[EI_DATA] == ELFDATA2MSB;
                p.machine = p.big_endian ? be : le;
        }
        if (!p.layout_known) {
                *ret = p;
                return;
        }
        p.type = p.big_endian ? (uint16_t)(buf[16] << 8 | buf[17])
                              : (uint16_t)(buf[16] | buf[17] << 8);
        p.kernel_loadable = p.machine_known && (p.type == ET_EXEC || p.type == ET_DYN);

        if (buf[EI_CLASS] != (p.elf_class == 64 ? ELFCLASS64 : ELFCLASS32))
                p.ident_odd |= ELF_ODD_CLASS;
        if (buf[EI_DATA] != (p.big_endian ? ELFDATA2MSB : ELFDATA2LSB))
                p.ident_odd |= ELF_ODD_DATA;
        if (buf[EI_VERSION] != EV_CURRENT)
                p.ident_odd |= ELF_ODD_VERSION;
        uint8_t osabi = buf[EI_OSABI], abiversion = buf[EI_ABIVERSION];
        if (osabi != ELFOSABI_SYSV && osabi != ELFOSABI_GNU)
                p.ident_odd |= ELF_ODD_OSABI;
        /* glibc's ld.so: 0, or a small version with the GNU OS ABI (unique symbols, ifuncs). */
        if (abiversion != 0 && !(osabi == ELFOSABI_GNU && abiversion < 8))
                p.ident_odd |= ELF_ODD_ABIVERSION;
        for (size_t i = EI_PAD; i < EI_NIDENT; i++)
                if (buf[i] != 0)
                        p.ident_odd |= ELF_ODD_PAD;
        size_t ehsize = p.elf_class == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (len >= ehsize) {
                struct elf_parse e = { .buf = buf, .len = len, .be = p.big_endian };
                if (rd32(&e, 20) != EV_CURRENT)
                        p.ident_odd |= ELF_ODD_E_VERSION;
                if (rd16(&e, p.elf_class == 64 ? 52 : 40) != ehsize)
                        p.ident_odd |= ELF_ODD_EHSIZE;
        }
        *ret = p;
}

char *elf_ident_odd_describe(const uint8_t *buf, size_t len, const struct elf_probe *p)
{
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        const char *sep = "";
        static const struct {
                unsigned bit;
                const char *name;
                unsigned index;
        } bytes[] = {
                { ELF_ODD_CLASS, "EI_CLASS", EI_CLASS },
                { ELF_ODD_DATA, "EI_DATA", EI_DATA },
                { ELF_ODD_VERSION, "EI_VERSION", EI_VERSION },
                { ELF_ODD_OSABI, "EI_OSABI", EI_OSABI },
                { ELF_ODD_ABIVERSION, "EI_ABIVERSION", EI_ABIVERSION },
        };
        for (size_t i = 0; i < ELEMENTSOF(bytes); i++)
                if ((p->ident_odd & bytes[i].bit) && len > bytes[i].index) {
                        fprintf(f, "%s%s %u", sep, bytes[i].name, buf[bytes[i].index]);
                        sep = ", ";
                }
        if (p->ident_odd & ELF_ODD_PAD) {
                fprintf(f, "%sEI_PAD not zero", sep);
                sep = ", ";
        }
        if (len >= (p->elf_class == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
                struct elf_parse e = { .buf = buf, .len = len, .be = p->big_endian };
                if (p->ident_odd & ELF_ODD_E_VERSION) {
                        fprintf(f, "%se_version %" PRIu32, sep, rd32(&e, 20));
                        sep = ", ";
                }
                if (p->ident_odd & ELF_ODD_EHSIZE)
                        fprintf(f, "%se_ehsize %u", sep, rd16(&e, p->elf_class == 64 ? 52 : 40));
        }
        fprintf(f, " (the kernel ignores these and reads a %u-bit %s-endian file for e_machine %u)",
                p->elf_class, p->big_endian ? "big" : "little", p->machine);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

int elf_read(const uint8_t *buf, size_t len, struct elf_info *ret, struct cairn_error *err)
{
        if (len < EI_NIDENT || !elf_has_magic(buf, len))
                return fail(err, "no ELF header");
        struct elf_probe probe;
        elf_probe(buf, len, &probe);
        if (!probe.layout_known)
                return fail(err, probe.machine_known
                                         ? "EI_CLASS is neither 32- nor 64-bit, and this "
                                           "machine's kernel checks it"
                                         : "unknown e_machine, and e_ident names no layout");
        struct elf_parse p = {
                .buf = buf, .len = len, .be = probe.big_endian, .is64 = probe.elf_class == 64
        };

        struct elf_info info = { .ident_odd = probe.ident_odd };
        int r = elf_parse_all(&p, &info, err);
        if (r >= 0 && !info.needed) {
                info.needed = calloc(1, sizeof(char *));
                if (!info.needed)
                        r = -ENOMEM;
        }
        if (r < 0) {
                elf_info_clear(&info);
                return r;
        }
        if (info.interp || info.n_needed > 0)
                info.link = ELF_LINK_DYNAMIC;
        else if (info.type == ET_DYN && info.pie)
                info.link = ELF_LINK_STATIC_PIE;
        else
                info.link = ELF_LINK_STATIC;
        *ret = info;
        return 0;
}

int elf_read_fd(int fd, struct elf_info *ret, struct cairn_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cairn_error_errno(err, -errno, "stat: %m");
        if (!S_ISREG(st.st_mode) || st.st_size < EI_NIDENT)
                return fail(err, "no ELF header");
        if ((uint64_t)st.st_size > SIZE_MAX)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EFBIG, "file too large to map");
        size_t len = (size_t)st.st_size;
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
                return cairn_error_errno(err, -errno, "mmap: %m");
        int r = elf_read(m, len, ret, err);
        munmap(m, len);
        return r;
}

const char *elf_link_name(enum elf_link link)
{
        switch (link) {
        case ELF_LINK_STATIC:
                return "static";
        case ELF_LINK_STATIC_PIE:
                return "static-pie";
        case ELF_LINK_DYNAMIC:
                return "dynamic";
        }
        return "unknown";
}

static const struct {
        const char *arch;
        uint16_t machine;
        unsigned elf_class;
        bool big_endian;
} elf_arches[] = {
        { "amd64", EM_X86_64, 64, false },
        { "i386", EM_386, 32, false },
        { "arm64", EM_AARCH64, 64, false },
        { "armhf", EM_ARM, 32, false },
        { "armel", EM_ARM, 32, false },
        { "ppc64el", EM_PPC64, 64, false },
        { "ppc64", EM_PPC64, 64, true },
        { "powerpc", EM_PPC, 32, true },
        { "s390x", EM_S390, 64, true },
        { "riscv64", EM_RISCV, 64, false },
        { "mips64el", EM_MIPS, 64, false },
        { "mipsel", EM_MIPS, 32, false },
        { "loong64", 258 /* EM_LOONGARCH */, 64, false },
};

const char *elf_debian_arch(uint16_t machine, unsigned elf_class, bool big_endian)
{
        for (size_t i = 0; i < ELEMENTSOF(elf_arches); i++)
                if (elf_arches[i].machine == machine && elf_arches[i].elf_class == elf_class &&
                    elf_arches[i].big_endian == big_endian)
                        return elf_arches[i].arch;
        return NULL;
}

int elf_matches_arch(const struct elf_info *info, const char *arch)
{
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(elf_arches); i++) {
                if (!streq(elf_arches[i].arch, arch))
                        continue;
                known = true;
                if (elf_arches[i].machine == info->machine &&
                    elf_arches[i].elf_class == info->elf_class &&
                    elf_arches[i].big_endian == info->big_endian)
                        return true;
        }
        return known ? false : -EINVAL;
}
