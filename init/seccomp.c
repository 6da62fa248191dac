/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp half of restrict.h: a classic-BPF filter against executables that exist only in
 * memory. Landlock rules attach to files on mounted filesystems; a memfd lives on the kernel's
 * internal shmem mount, which Landlock does not check, so execve("/proc/self/fd/N") and
 * execveat(N, "", AT_EMPTY_PATH) of a memfd run whatever it holds. The filter makes sure no
 * executable memfd is created under it, and refuses fexecve's execveat form altogether.
 *
 * The kernel's UAPI (linux/filter.h, linux/seccomp.h, linux/audit.h) is declared here: musl-gcc
 * builds cairn-init without the kernel's headers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "restrict.h"

struct bpf_insn {
        uint16_t code;
        uint8_t jt, jf;
        uint32_t k;
};

struct bpf_prog {
        unsigned short len;
        struct bpf_insn *filter;
};

#define BPF_LD_W_ABS 0x20 /* BPF_LD | BPF_W | BPF_ABS */
#define BPF_JEQ_K    0x15 /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_JSET_K   0x45 /* BPF_JMP | BPF_JSET | BPF_K */
#define BPF_RET_K    0x06 /* BPF_RET | BPF_K */

#define SECCOMP_MODE_FILTER_     2
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#define SECCOMP_RET_ERRNO_       0x00050000U
#define SECCOMP_RET_ALLOW_       0x7fff0000U

/* struct seccomp_data: nr at 0, arch at 4, args[i] (64-bit) at 16 + 8 i. */
#define OFF_NR   0
#define OFF_ARCH 4
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OFF_ARG_LO(i) (16 + 8 * (i))
#else
#define OFF_ARG_LO(i) (16 + 8 * (i) + 4)
#endif

#define MFD_NOEXEC_SEAL_ 0x0008U
#define MFD_EXEC_        0x0010U
#define AT_EMPTY_PATH_   0x1000U

/*
 * The architecture cairn-init is built for, and the 32-bit ABI its kernel also runs (a process
 * can switch to it: int 0x80 on x86-64), with that ABI's numbers.
 */
#if defined(__x86_64__)
#define ARCH_NATIVE     0xc000003eU /* AUDIT_ARCH_X86_64 */
#define ARCH_COMPAT     0x40000003U /* AUDIT_ARCH_I386 */
#define COMPAT_MEMFD    356
#define COMPAT_EXECVEAT 358
#define X32_BIT         0x40000000U
#define X32_MEMFD       (X32_BIT | 319)
#define X32_EXECVEAT    (X32_BIT | 545)
#elif defined(__aarch64__)
#define ARCH_NATIVE     0xc00000b7U /* AUDIT_ARCH_AARCH64 */
#define ARCH_COMPAT     0x40000028U /* AUDIT_ARCH_ARM */
#define COMPAT_MEMFD    385
#define COMPAT_EXECVEAT 387
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH_NATIVE 0xc00000f3U /* AUDIT_ARCH_RISCV64 */
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARCH_NATIVE 0xc0000015U /* AUDIT_ARCH_PPC64LE */
#elif defined(__s390x__)
#define ARCH_NATIVE 0x80000016U /* AUDIT_ARCH_S390X */
#elif defined(__i386__)
#define ARCH_NATIVE 0x40000003U /* AUDIT_ARCH_I386 */
#elif defined(__arm__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARCH_NATIVE 0x40000028U /* AUDIT_ARCH_ARM */
#endif

#if defined(ARCH_NATIVE) && defined(SYS_memfd_create) && defined(SYS_execveat)

enum label {
        L_NEXT = -1, /* the next instruction */
        L_NATIVE,
        L_COMPAT,
        L_KILL,
        L_MEMFD,
        L_EXECVEAT,
        L_ALLOW,
        L_EPERM,
        L_ENOSYS,
        L_COUNT,
};

struct asm_ctx {
        struct bpf_insn ins[48];
        int target_t[48], target_f[48];
        int at[L_COUNT];
        size_t n;
        bool overflow;
};

static void emit(struct asm_ctx *a, uint16_t code, uint32_t k, int jt, int jf)
{
        if (a->n >= sizeof(a->ins) / sizeof(*a->ins)) {
                a->overflow = true;
                return;
        }
        a->ins[a->n] = (struct bpf_insn){ .code = code, .k = k };
        a->target_t[a->n] = jt;
        a->target_f[a->n] = jf;
        a->n++;
}

static void label(struct asm_ctx *a, enum label l)
{
        a->at[l] = (int)a->n;
}

/* Resolves the jumps (always forward, so offsets are positive and small). */
static int resolve(struct asm_ctx *a)
{
        if (a->overflow)
                return -ENOEXEC;
        for (size_t i = 0; i < a->n; i++) {
                if ((a->ins[i].code & 0x07) != 0x05)
                        continue; /* not a jump */
                int t[2] = { a->target_t[i], a->target_f[i] };
                uint8_t off[2];
                for (int k = 0; k < 2; k++) {
                        int d = t[k] == L_NEXT ? 0 : a->at[t[k]] - (int)i - 1;
                        if (t[k] != L_NEXT && (a->at[t[k]] < 0 || d < 0 || d > 255))
                                return -ENOEXEC; /* a bug in the program above */
                        off[k] = (uint8_t)d;
                }
                a->ins[i].jt = off[0];
                a->ins[i].jf = off[1];
        }
        return 0;
}

int exec_filter_install(void)
{
        struct asm_ctx a = { .n = 0 };
        struct bpf_prog prog;
        int r;

        for (int i = 0; i < L_COUNT; i++)
                a.at[i] = -1;

        emit(&a, BPF_LD_W_ABS, OFF_ARCH, 0, 0);
#ifdef ARCH_COMPAT
        emit(&a, BPF_JEQ_K, ARCH_NATIVE, L_NATIVE, L_NEXT);
        emit(&a, BPF_JEQ_K, ARCH_COMPAT, L_COMPAT, L_KILL);
#else
        emit(&a, BPF_JEQ_K, ARCH_NATIVE, L_NATIVE, L_KILL);
#endif
        label(&a, L_KILL);
        emit(&a, BPF_RET_K, SECCOMP_RET_KILL_PROCESS, 0, 0);

        label(&a, L_NATIVE);
        emit(&a, BPF_LD_W_ABS, OFF_NR, 0, 0);
        emit(&a, BPF_JEQ_K, SYS_memfd_create, L_MEMFD, L_NEXT);
#ifdef X32_BIT
        emit(&a, BPF_JEQ_K, SYS_execveat, L_EXECVEAT, L_NEXT);
        emit(&a, BPF_JEQ_K, X32_MEMFD, L_MEMFD, L_NEXT);
        emit(&a, BPF_JEQ_K, X32_EXECVEAT, L_EXECVEAT, L_ALLOW);
#else
        emit(&a, BPF_JEQ_K, SYS_execveat, L_EXECVEAT, L_ALLOW);
#endif
#ifdef ARCH_COMPAT
        label(&a, L_COMPAT);
        emit(&a, BPF_LD_W_ABS, OFF_NR, 0, 0);
        emit(&a, BPF_JEQ_K, COMPAT_MEMFD, L_MEMFD, L_NEXT);
        emit(&a, BPF_JEQ_K, COMPAT_EXECVEAT, L_EXECVEAT, L_ALLOW);
#endif

        /* memfd_create(name, flags): MFD_EXEC asks for an executable memfd; without
         * MFD_NOEXEC_SEAL the kernel (vm.memfd_noexec=0) makes one anyway. */
        label(&a, L_MEMFD);
        emit(&a, BPF_LD_W_ABS, OFF_ARG_LO(1), 0, 0);
        emit(&a, BPF_JSET_K, MFD_EXEC_, L_EPERM, L_NEXT);
        emit(&a, BPF_JSET_K, MFD_NOEXEC_SEAL_, L_ALLOW, L_ENOSYS);

        /* execveat(dirfd, path, argv, envp, flags) */
        label(&a, L_EXECVEAT);
        emit(&a, BPF_LD_W_ABS, OFF_ARG_LO(4), 0, 0);
        emit(&a, BPF_JSET_K, AT_EMPTY_PATH_, L_EPERM, L_ALLOW);

        label(&a, L_ALLOW);
        emit(&a, BPF_RET_K, SECCOMP_RET_ALLOW_, 0, 0);
        label(&a, L_EPERM);
        emit(&a, BPF_RET_K, SECCOMP_RET_ERRNO_ | EPERM, 0, 0);
        label(&a, L_ENOSYS);
        emit(&a, BPF_RET_K, SECCOMP_RET_ERRNO_ | ENOSYS, 0, 0);

        r = resolve(&a);
        if (r < 0)
                return r;
        prog = (struct bpf_prog){ .len = (unsigned short)a.n, .filter = a.ins };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER_, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

#else

int exec_filter_install(void)
{
        return -ENOTSUP;
}

#endif
