/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An ELF reader for untrusted input (DESIGN.md §5, "lessons"). Named elf_reader.h, not elf.h,
 * so that <elf.h> of the C library stays reachable through the include path.
 *
 * Only program headers decide: PT_INTERP, PT_DYNAMIC, and DT_STRTAB mapped to a file offset
 * through the PT_LOAD segments, because section headers may be stripped or lie. The one
 * section header read is section 0, for the real program header count when e_phnum is
 * PN_XNUM. Every offset and size is checked against the buffer; table sizes and string lengths
 * are bounded by the ELF_MAX_* limits below. 32/64-bit, little and big endian.
 *
 * The file is read the way the kernel reads it, not the way e_ident describes it. binfmt_elf
 * checks the magic, e_type (ET_EXEC, ET_DYN), e_machine (elf_check_arch) and the program
 * headers, and reads every field in the layout of the architecture it was built for; on
 * x86-64, arm64, i386, arm and powerpc it never looks at EI_CLASS or EI_DATA, and on no
 * architecture at EI_VERSION, EI_OSABI, EI_ABIVERSION, the padding, e_version or e_ehsize. So
 * the layout (class, byte order) comes from e_machine (elf_probe); e_ident is consulted only
 * for the machines whose kernel checks EI_CLASS (s390, riscv, mips, loongarch) and for
 * machines cairn does not know. Identification bytes that disagree with that layout, or that
 * no toolchain writes, are reported in ident_odd rather than refused: the kernel runs such a
 * file, so the enforcer must read it and say that its header lies.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define ELF_MAX_PHNUM   4096 /* program headers */
#define ELF_MAX_DYNAMIC 8192 /* entries of PT_DYNAMIC */
#define ELF_MAX_NEEDED  256  /* DT_NEEDED entries */
#define ELF_MAX_STRING  4096 /* bytes of one interpreter path, library name or RPATH */

enum elf_link {
        ELF_LINK_STATIC,     /* no PT_INTERP, no DT_NEEDED, not PIE */
        ELF_LINK_STATIC_PIE, /* ET_DYN + DF_1_PIE, no PT_INTERP, no DT_NEEDED */
        ELF_LINK_DYNAMIC,    /* PT_INTERP or DT_NEEDED */
};

/* Identification fields that the kernel ignores and that disagree with what a toolchain writes
 * (elf_info.ident_odd). */
enum elf_ident_odd {
        ELF_ODD_CLASS = 1 << 0,      /* EI_CLASS is not the class the kernel reads */
        ELF_ODD_DATA = 1 << 1,       /* EI_DATA is not the byte order the kernel reads */
        ELF_ODD_VERSION = 1 << 2,    /* EI_VERSION is not EV_CURRENT */
        ELF_ODD_OSABI = 1 << 3,      /* EI_OSABI is neither SYSV nor GNU/Linux */
        ELF_ODD_ABIVERSION = 1 << 4, /* EI_ABIVERSION that ld.so would refuse */
        ELF_ODD_PAD = 1 << 5,        /* non-zero bytes in EI_PAD */
        ELF_ODD_E_VERSION = 1 << 6,  /* e_version is not EV_CURRENT */
        ELF_ODD_EHSIZE = 1 << 7,     /* e_ehsize is not the header's size */
};

/* The fixed part of the header, read as the kernel reads it (elf_probe). */
struct elf_probe {
        bool magic;         /* \x7fELF */
        bool layout_known;  /* class and byte order follow from e_machine (or e_ident) */
        bool machine_known; /* e_machine is one of the architectures cairn knows */
        unsigned elf_class; /* 32 or 64 when layout_known */
        bool big_endian;
        uint16_t type, machine; /* e_type, e_machine in that layout */
        /* binfmt_elf would load it: ET_EXEC or ET_DYN for a machine cairn knows, in that
         * machine's layout (the kernel of that architecture would go on to map it, or load it
         * as a program's interpreter, whatever its mode). */
        bool kernel_loadable;
        unsigned ident_odd; /* enum elf_ident_odd */
};

/* Probes the first bytes of a file; never fails (a short or foreign buffer: magic false or
 * layout_known false). */
void elf_probe(const uint8_t *buf, size_t len, struct elf_probe *ret);

/* "EI_VERSION 0, EI_CLASS 0 (the kernel reads 64-bit)" for odd (enum elf_ident_odd) of the
 * header in buf (at least EI_NIDENT + 36 bytes, as elf_read saw it). Owned by the caller; NULL
 * when out of memory. */
char *elf_ident_odd_describe(const uint8_t *buf, size_t len, const struct elf_probe *p);

struct elf_info {
        unsigned elf_class; /* 32 or 64: the layout the kernel reads, whatever EI_CLASS says */
        bool big_endian;    /* the byte order the kernel reads, whatever EI_DATA says */
        unsigned ident_odd; /* enum elf_ident_odd */
        uint16_t type;      /* ET_EXEC, ET_DYN, ... */
        uint16_t machine;   /* EM_X86_64, ... */
        char *interp;       /* owned; PT_INTERP, or NULL */
        char **needed;      /* owned, NULL-terminated (never NULL on success); DT_NEEDED */
        size_t n_needed;
        char *rpath;   /* owned; DT_RPATH or NULL */
        char *runpath; /* owned; DT_RUNPATH or NULL */
        bool has_dynamic;
        bool pie; /* DF_1_PIE */
        enum elf_link link;
};

/* True when buf starts with the ELF magic (it may still fail elf_read). */
bool elf_has_magic(const uint8_t *buf, size_t len);

/*
 * Parses the ELF image buf[0..len) in the layout elf_probe finds. On success fills *ret (owned
 * by the caller, release with elf_info_clear). -ENOEXEC (with err naming what is wrong) when
 * buf is not a well-formed ELF file; -E2BIG when a table exceeds an ELF_MAX_* limit; -ENOMEM.
 * Odd identification bytes are no failure: they are in ret->ident_odd.
 */
int elf_read(const uint8_t *buf, size_t len, struct elf_info *ret, struct cairn_error *err);

/* Same for an open file: mapped read-only, never read whole into memory. */
int elf_read_fd(int fd, struct elf_info *ret, struct cairn_error *err);

void elf_info_clear(struct elf_info *info);

/* "static", "static-pie" or "dynamic". */
const char *elf_link_name(enum elf_link link);

/*
 * The Debian architecture of an ELF header ("amd64", "arm64", ...), or NULL when cairn does not
 * know it. big_endian/elf_class disambiguate machines shared by several architectures.
 */
const char *elf_debian_arch(uint16_t machine, unsigned elf_class, bool big_endian);

/*
 * True when info's machine, class and byte order run on Debian architecture arch; -EINVAL when
 * cairn does not know arch. armel and armhf share EM_ARM and match each other.
 */
int elf_matches_arch(const struct elf_info *info, const char *arch);
