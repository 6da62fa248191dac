/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding a DT_NEEDED library inside an image the way ld.so would (DESIGN.md §5, "lessons"):
 * RPATH only when there is no RUNPATH, then RUNPATH, with $ORIGIN expanded; the directories of
 * /etc/ld.so.conf (with `include` globs in sorted order); the standard and multiarch
 * directories; the interpreter's directory. Every path is resolved with tree_resolve(), so
 * symlinks stay inside the image root.
 *
 * A RUNPATH does not carry to a library's own dependencies, and neither does anything else
 * here: each ELF file is resolved with its own DT_RPATH/DT_RUNPATH.
 */
#pragma once

#include <stdbool.h>

#include "elf_reader.h"
#include "tree/store.h"
#include "tree/tree.h"

#define LD_CONF_MAX      (64 * 1024) /* bytes read of one ld.so.conf file */
#define LD_CONF_MAX_DIRS 256         /* directories kept from ld.so.conf */
#define LD_CONF_DEPTH    8           /* nested includes */

struct ld_search;

/* Reads /etc/ld.so.conf of tree t (contents from s). t and s are borrowed and must outlive
 * the result. A missing or unreadable ld.so.conf is no error; -ENOMEM is. */
int ld_search_new(const struct tree *t, const struct store *s, struct ld_search **ret);
void ld_search_free(struct ld_search *ls);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ld_search *, ld_search_free)

/* 1 when DT_NEEDED `name` of the ELF file at `path` (its resolved path), described by elf,
 * is found inside the image, 0 when it is not, -ENOMEM (never taken for "not found"). */
int ld_search_find(const struct ld_search *ls, const char *path, const struct elf_info *elf,
                   const char *name);

/* The same search; on 1 and with ret_path, *ret_path (owned by the caller) is the path where
 * ld.so finds the library (DIR/NAME of the directory that has it, symlinks not followed). */
int ld_search_locate(const struct ld_search *ls, const char *path, const struct elf_info *elf,
                     const char *name, char **ret_path);
