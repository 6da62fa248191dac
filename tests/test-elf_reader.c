/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ELF reader on programs compiled here (static, static-pie, dynamic, stripped, 32-bit when
 * the compiler can) and on hand-made headers: well-formed, truncated and malicious.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tap-skip.h"

#include <elf.h>
#include <fcntl.h>

#include "enforce/elf_reader.h"

static char *tmpdir;

static int setup(void **state)
{
        (void)state;
        tmpdir = strdup("/tmp/cairn-test-elf-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        (void)rm_rf(tmpdir);
        free(tmpdir);
        return 0;
}

/* Compiles a hello world with FLAGS into tmpdir/NAME; false when the toolchain cannot. */
static bool compile(const char *name, const char *flags)
{
        _cleanup_free_ char *src = NULL, *cmd = NULL;
        assert_true(asprintf(&src, "%s/hello.c", tmpdir) > 0);
        FILE *f = fopen(src, "w");
        assert_non_null(f);
        fputs("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n", f);
        fclose(f);
        assert_true(asprintf(&cmd, "${CC:-cc} %s -o %s/%s %s 2>/dev/null", flags, tmpdir, name,
                             src) > 0);
        return system(cmd) == 0;
}

static int read_compiled(const char *name, struct elf_info *info)
{
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        return elf_read_fd(fd, info, &err);
}

static void test_compiled_dynamic(void **state)
{
        (void)state;
        assert_true(compile("dyn", ""));
        struct elf_info info;
        assert_int_equal(read_compiled("dyn", &info), 0);
        assert_int_equal(info.link, ELF_LINK_DYNAMIC);
        assert_non_null(info.interp);
        assert_true(info.n_needed >= 1);
        bool libc = false;
        for (size_t i = 0; i < info.n_needed; i++)
                libc |= startswith(info.needed[i], "libc.so");
        assert_true(libc);
        assert_int_equal(elf_matches_arch(&info, "amd64"), 1);
        elf_info_clear(&info);
}

static void test_compiled_static(void **state)
{
        (void)state;
        assert_true(compile("static", "-static"));
        struct elf_info info;
        assert_int_equal(read_compiled("static", &info), 0);
        assert_int_equal(info.link, ELF_LINK_STATIC);
        assert_null(info.interp);
        assert_int_equal(info.n_needed, 0);
        assert_string_equal(elf_link_name(info.link), "static");
        elf_info_clear(&info);
}

static void test_compiled_static_pie(void **state)
{
        (void)state;
        assert_true(compile("spie", "-static-pie -fPIE"));
        struct elf_info info;
        assert_int_equal(read_compiled("spie", &info), 0);
        assert_int_equal(info.link, ELF_LINK_STATIC_PIE);
        assert_int_equal(info.type, ET_DYN);
        assert_true(info.pie);
        elf_info_clear(&info);
}

static void test_compiled_stripped(void **state)
{
        (void)state;
        /* No section headers at all: everything must come from the program headers. */
        assert_true(compile("stripped", "-s"));
        _cleanup_free_ char *cmd = NULL;
        assert_true(asprintf(&cmd,
                             "objcopy --strip-section-headers %s/stripped 2>/dev/null || true",
                             tmpdir) > 0);
        assert_int_equal(system(cmd), 0);
        struct elf_info info;
        assert_int_equal(read_compiled("stripped", &info), 0);
        assert_int_equal(info.link, ELF_LINK_DYNAMIC);
        assert_true(info.n_needed >= 1);
        elf_info_clear(&info);
}

static void test_compiled_32bit(void **state)
{
        (void)state;
        /* gcc -m32 needs a 32-bit libc and libgcc (libc6-dev-i386, lib32gcc-N-dev: ci/bootstrap
         * installs them); without them this is a visible SKIP, and the hand-made 32-bit headers
         * still cover the parser. */
        if (!compile("m32", "-m32"))
                skip();
        struct elf_info info;
        assert_int_equal(read_compiled("m32", &info), 0);
        assert_int_equal(info.elf_class, 32);
        assert_int_equal(info.link, ELF_LINK_DYNAMIC);
        elf_info_clear(&info);
}

/* ---- hand-made files ---- */

#define MK_SIZE    2048
#define MK_VADDR   0x400000
#define MK_PHOFF   64
#define MK_INTERP  256
#define MK_STRTAB  512
#define MK_DYNAMIC 1024

struct mk {
        uint8_t buf[MK_SIZE];
        bool be, is64;
};

static void w(struct mk *m, size_t off, uint64_t v, unsigned bytes)
{
        for (unsigned i = 0; i < bytes; i++) {
                unsigned shift = m->be ? 8 * (bytes - 1 - i) : 8 * i;
                m->buf[off + i] = (uint8_t)(v >> shift);
        }
}

static void ww(struct mk *m, size_t off, uint64_t v)
{
        w(m, off, v, m->is64 ? 8 : 4);
}

/* Offset of program header i. */
static size_t ph(const struct mk *m, unsigned i)
{
        return MK_PHOFF + i * (m->is64 ? 56 : 32);
}

static void ph_set(struct mk *m, unsigned i, uint32_t type, uint64_t off, uint64_t vaddr,
                   uint64_t filesz)
{
        size_t o = ph(m, i);
        w(m, o, type, 4);
        if (m->is64) {
                w(m, o + 8, off, 8);
                w(m, o + 16, vaddr, 8);
                w(m, o + 32, filesz, 8);
                w(m, o + 40, filesz, 8);
        } else {
                w(m, o + 4, off, 4);
                w(m, o + 8, vaddr, 4);
                w(m, o + 16, filesz, 4);
                w(m, o + 20, filesz, 4);
        }
}

/* A dynamic executable: PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC with two
 * DT_NEEDED and a RUNPATH. */
static void mk_build(struct mk *m, bool is64, bool be, uint16_t machine)
{
        memset(m->buf, 0, sizeof(m->buf));
        m->is64 = is64;
        m->be = be;
        memcpy(m->buf, ELFMAG, SELFMAG);
        m->buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
        m->buf[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
        m->buf[EI_VERSION] = EV_CURRENT;
        w(m, 16, ET_EXEC, 2);
        w(m, 18, machine, 2);
        w(m, 20, EV_CURRENT, 4);
        w(m, is64 ? 52 : 40, is64 ? 64 : 52, 2);
        ww(m, is64 ? 32 : 28, MK_PHOFF);
        w(m, is64 ? 54 : 42, is64 ? 56 : 32, 2);
        w(m, is64 ? 56 : 44, 3, 2);
        ph_set(m, 0, PT_LOAD, 0, MK_VADDR, MK_SIZE);
        ph_set(m, 1, PT_INTERP, MK_INTERP, MK_VADDR + MK_INTERP, 28);
        ph_set(m, 2, PT_DYNAMIC, MK_DYNAMIC, MK_VADDR + MK_DYNAMIC, 6 * (is64 ? 16 : 8));
        memcpy(m->buf + MK_INTERP, "/lib64/ld-linux-x86-64.so.2", 28);
        memcpy(m->buf + MK_STRTAB, "\0libc.so.6\0libm.so.6\0$ORIGIN/../lib\0", 37);
        const uint64_t dyn[][2] = {
                { DT_NEEDED, 1 },
                { DT_NEEDED, 11 },
                { DT_RUNPATH, 21 },
                { DT_STRSZ, 37 },
                { DT_STRTAB, MK_VADDR + MK_STRTAB },
                { DT_NULL, 0 },
        };
        size_t es = is64 ? 16 : 8;
        for (size_t i = 0; i < ELEMENTSOF(dyn); i++) {
                ww(m, MK_DYNAMIC + i * es, dyn[i][0]);
                ww(m, MK_DYNAMIC + i * es + es / 2, dyn[i][1]);
        }
}

static int mk_read(const struct mk *m, size_t len, struct elf_info *info)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = elf_read(m->buf, len, info, &err);
        if (r < 0)
                assert_true(cairn_error_isset(&err) || r == -ENOMEM);
        return r;
}

static void check_handmade(bool is64, bool be, uint16_t machine, const char *arch)
{
        struct mk m;
        mk_build(&m, is64, be, machine);
        struct elf_info info;
        assert_int_equal(mk_read(&m, MK_SIZE, &info), 0);
        assert_int_equal(info.elf_class, is64 ? 64 : 32);
        assert_int_equal(info.big_endian, be);
        assert_int_equal(info.machine, machine);
        assert_int_equal(info.link, ELF_LINK_DYNAMIC);
        assert_string_equal(info.interp, "/lib64/ld-linux-x86-64.so.2");
        assert_int_equal(info.n_needed, 2);
        assert_string_equal(info.needed[0], "libc.so.6");
        assert_string_equal(info.needed[1], "libm.so.6");
        assert_null(info.needed[2]);
        assert_string_equal(info.runpath, "$ORIGIN/../lib");
        assert_null(info.rpath);
        assert_string_equal(elf_debian_arch(machine, info.elf_class, be), arch);
        assert_int_equal(elf_matches_arch(&info, arch), 1);
        assert_int_equal(elf_matches_arch(&info, "riscv64") == 1, streq(arch, "riscv64"));
        assert_int_equal(elf_matches_arch(&info, "no-such-arch"), -EINVAL);
        elf_info_clear(&info);
}

static void test_handmade_variants(void **state)
{
        (void)state;
        check_handmade(true, false, EM_X86_64, "amd64");
        check_handmade(false, false, EM_386, "i386");
        check_handmade(true, true, EM_S390, "s390x");
        check_handmade(false, true, EM_PPC, "powerpc");
        check_handmade(true, false, EM_AARCH64, "arm64");
}

static void test_truncated_everywhere(void **state)
{
        (void)state;
        /* Every prefix either parses or fails cleanly; ASan checks no byte past len is read. */
        for (int v = 0; v < 2; v++) {
                struct mk m;
                mk_build(&m, v == 0, v == 1, EM_X86_64);
                for (size_t len = 0; len <= MK_SIZE; len++) {
                        uint8_t *copy = malloc(len ? len : 1);
                        assert_non_null(copy);
                        memcpy(copy, m.buf, len);
                        struct elf_info info;
                        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                        int r = elf_read(copy, len, &info, &err);
                        if (r == 0) {
                                assert_true(len > MK_DYNAMIC);
                                elf_info_clear(&info);
                        }
                        free(copy);
                }
        }
}

static void expect_fail(struct mk *m, int code)
{
        struct elf_info info;
        int r = mk_read(m, MK_SIZE, &info);
        if (r == 0)
                elf_info_clear(&info);
        assert_int_equal(r, code);
}

static void test_malicious(void **state)
{
        (void)state;
        struct mk m;

        mk_build(&m, true, false, EM_X86_64); /* program headers past EOF */
        ww(&m, 32, UINT64_MAX - 8);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* PN_XNUM without section header 0 */
        w(&m, 56, PN_XNUM, 2);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* PN_XNUM with a huge real count */
        w(&m, 56, PN_XNUM, 2);
        ww(&m, 40, 1536); /* e_shoff */
        w(&m, 58, 64, 2); /* e_shentsize */
        w(&m, 1536 + 44, 1000000, 4);
        expect_fail(&m, -E2BIG);

        mk_build(&m, true, false, EM_X86_64); /* DT_NEEDED offset past DT_STRSZ */
        ww(&m, MK_DYNAMIC + 8, 5000);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* DT_STRTAB outside every PT_LOAD */
        ww(&m, MK_DYNAMIC + 4 * 16 + 8, 0x10);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* PT_LOAD claiming more than the file */
        ph_set(&m, 0, PT_LOAD, 0, MK_VADDR, UINT64_MAX / 2);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* unterminated interpreter */
        memset(m.buf + MK_INTERP, 'a', 28);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* wrong e_phentsize */
        w(&m, 54, 12, 2);
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_S390); /* s390's kernel checks EI_CLASS: no layout */
        m.buf[EI_CLASS] = 7;
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, 0x1234); /* unknown machine and unknown class */
        m.buf[EI_CLASS] = 7;
        expect_fail(&m, -ENOEXEC);

        mk_build(&m, true, false, EM_X86_64); /* strings run off the end of the table */
        memset(m.buf + MK_SIZE - 8, 'x', 8);
        ww(&m, MK_DYNAMIC + 3 * 16 + 8, 4096);                   /* DT_STRSZ past the end */
        ww(&m, MK_DYNAMIC + 4 * 16 + 8, MK_VADDR + MK_SIZE - 8); /* DT_STRTAB at the end */
        expect_fail(&m, -ENOEXEC);
}

/* The kernel reads x86-64 files as 64-bit little-endian whatever e_ident says: so does cairn,
 * and it says which identification bytes lie. */
static void test_ident_ignored_like_the_kernel(void **state)
{
        (void)state;
        static const struct {
                unsigned index;
                uint8_t value;
                unsigned odd;
        } cases[] = {
                { EI_CLASS, 0, ELF_ODD_CLASS },
                { EI_CLASS, ELFCLASS32, ELF_ODD_CLASS },
                { EI_CLASS, 0xff, ELF_ODD_CLASS },
                { EI_DATA, 0, ELF_ODD_DATA },
                { EI_DATA, ELFDATA2MSB, ELF_ODD_DATA },
                { EI_DATA, 0x7f, ELF_ODD_DATA },
                { EI_VERSION, 0, ELF_ODD_VERSION },
                { EI_VERSION, 0xff, ELF_ODD_VERSION },
                { EI_OSABI, 0x61, ELF_ODD_OSABI },
                { EI_OSABI, 0xff, ELF_ODD_OSABI },
                { EI_ABIVERSION, 0x80, ELF_ODD_ABIVERSION },
                { EI_PAD, 1, ELF_ODD_PAD },
                { EI_NIDENT - 1, 0xff, ELF_ODD_PAD },
                { 20, 0x11, ELF_ODD_E_VERSION },
                { 52, 0x11, ELF_ODD_EHSIZE },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                for (int be = 0; be < 2; be++) {
                        /* ppc64 both ways: the byte order comes from e_machine's bytes. */
                        uint16_t machine = be ? EM_PPC64 : EM_X86_64;
                        struct mk m;
                        mk_build(&m, true, be, machine);
                        m.buf[cases[i].index] = cases[i].value;
                        if (cases[i].index == EI_DATA && cases[i].value == ELFDATA2MSB && be)
                                m.buf[EI_DATA] = ELFDATA2LSB; /* the other byte order */
                        struct elf_info info;
                        assert_int_equal(mk_read(&m, MK_SIZE, &info), 0);
                        assert_int_equal(info.elf_class, 64);
                        assert_int_equal(info.big_endian, be);
                        assert_int_equal(info.machine, machine);
                        assert_int_equal(info.ident_odd, cases[i].odd);
                        assert_int_equal(info.n_needed, 2);
                        assert_string_equal(info.interp, "/lib64/ld-linux-x86-64.so.2");
                        struct elf_probe p;
                        elf_probe(m.buf, MK_SIZE, &p);
                        assert_true(p.kernel_loadable);
                        _cleanup_free_ char *d = elf_ident_odd_describe(m.buf, MK_SIZE, &p);
                        assert_non_null(d);
                        assert_non_null(strstr(d, "the kernel ignores"));
                        elf_info_clear(&info);
                }
        }
        /* A well-formed header has nothing odd; GNU/Linux OS ABI is what glibc writes. */
        struct mk m;
        mk_build(&m, true, false, EM_X86_64);
        m.buf[EI_OSABI] = ELFOSABI_GNU;
        struct elf_info info;
        assert_int_equal(mk_read(&m, MK_SIZE, &info), 0);
        assert_int_equal(info.ident_odd, 0);
        elf_info_clear(&info);
        /* ET_REL or an unknown machine: nothing binfmt_elf loads. */
        struct elf_probe p;
        w(&m, 16, ET_REL, 2);
        elf_probe(m.buf, MK_SIZE, &p);
        assert_false(p.kernel_loadable);
        mk_build(&m, true, false, 0x4242);
        elf_probe(m.buf, MK_SIZE, &p);
        assert_true(p.layout_known);
        assert_false(p.machine_known);
        assert_false(p.kernel_loadable);
        elf_probe((const uint8_t *)"\x7f"
                                   "ELF data",
                  8, &p);
        assert_true(p.magic);
        assert_false(p.layout_known);
        assert_false(p.kernel_loadable);
}

static void test_pn_xnum_valid(void **state)
{
        (void)state;
        struct mk m;
        mk_build(&m, false, false, EM_386);
        w(&m, 44, PN_XNUM, 2);
        ww(&m, 32, 1536);       /* e_shoff */
        w(&m, 46, 40, 2);       /* e_shentsize */
        w(&m, 1536 + 28, 3, 4); /* sh_info: the real count */
        struct elf_info info;
        assert_int_equal(mk_read(&m, MK_SIZE, &info), 0);
        assert_int_equal(info.n_needed, 2);
        elf_info_clear(&info);
}

static void test_too_many_needed(void **state)
{
        (void)state;
        struct mk m;
        mk_build(&m, true, false, EM_X86_64);
        /* A PT_DYNAMIC of ELF_MAX_NEEDED + 1 DT_NEEDED entries needs a bigger file. */
        size_t n = ELF_MAX_NEEDED + 1, size = MK_DYNAMIC + (n + 3) * 16;
        uint8_t *buf = calloc(1, size);
        assert_non_null(buf);
        memcpy(buf, m.buf, MK_DYNAMIC);
        for (size_t i = 0; i < n; i++) {
                uint64_t tag = DT_NEEDED, val = 1;
                memcpy(buf + MK_DYNAMIC + i * 16, &tag, 8); /* the host is little-endian */
                memcpy(buf + MK_DYNAMIC + i * 16 + 8, &val, 8);
        }
        /* PT_LOAD and PT_DYNAMIC sized to the new file. */
        struct mk hdr;
        mk_build(&hdr, true, false, EM_X86_64);
        ph_set(&hdr, 0, PT_LOAD, 0, MK_VADDR, size);
        ph_set(&hdr, 2, PT_DYNAMIC, MK_DYNAMIC, MK_VADDR + MK_DYNAMIC, (n + 3) * 16);
        memcpy(buf, hdr.buf, MK_DYNAMIC);
        struct elf_info info;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = elf_read(buf, size, &info, &err);
        free(buf);
        assert_int_equal(r, -E2BIG);
        assert_non_null(strstr(err.messages[0], "256"));
}

static void test_not_elf(void **state)
{
        (void)state;
        struct elf_info info;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        const char data[] = "\x7f"
                            "ELF this is a data file, not an executable";
        assert_true(elf_has_magic((const uint8_t *)data, sizeof(data)));
        assert_int_equal(elf_read((const uint8_t *)data, sizeof(data), &info, &err), -ENOEXEC);
        assert_int_equal(elf_read((const uint8_t *)"#!/bin/sh\n", 10, &info, NULL), -ENOEXEC);
}

int main(void)
{
        tap_skips_fix(); /* skip() below is a TAP skip, not a failure */
        struct CMUnitTest tests[] = {
                cmocka_unit_test(test_compiled_dynamic),
                cmocka_unit_test(test_compiled_static),
                cmocka_unit_test(test_compiled_static_pie),
                cmocka_unit_test(test_compiled_stripped),
                cmocka_unit_test(test_handmade_variants),
                cmocka_unit_test(test_truncated_everywhere),
                cmocka_unit_test(test_malicious),
                cmocka_unit_test(test_ident_ignored_like_the_kernel),
                cmocka_unit_test(test_pn_xnum_valid),
                cmocka_unit_test(test_too_many_needed),
                cmocka_unit_test(test_not_elf),
                cmocka_unit_test(test_compiled_32bit),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
