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

struct elf_info {
        unsigned elf_class; /* 32 or 64 */
        bool big_endian;
        uint16_t type;    /* ET_EXEC, ET_DYN, ... */
        uint16_t machine; /* EM_X86_64, ... */
        char *interp;     /* owned; PT_INTERP, or NULL */
        char **needed;    /* owned, NULL-terminated (never NULL on success); DT_NEEDED */
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
 * Parses the ELF image buf[0..len). On success fills *ret (owned by the caller, release with
 * elf_info_clear). -ENOEXEC (with err naming what is wrong) when buf is not a well-formed ELF
 * file; -E2BIG when a table exceeds an ELF_MAX_* limit; -ENOMEM.
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
