/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp.h"

#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "recipe/recipe.h"

/* Always allowed: the calls of ordinary programs, sorted. ioctl is below (TIOCSTI). */
static const char *const allowed[] = {
        "_llseek",
        "_newselect",
        "accept",
        "accept4",
        "access",
        "adjtimex",
        "alarm",
        "bind",
        "brk",
        "cachestat",
        "capget",
        "capset",
        "chdir",
        "chmod",
        "chown",
        "chown32",
        "clock_adjtime",
        "clock_adjtime64",
        "clock_getres",
        "clock_getres_time64",
        "clock_gettime",
        "clock_gettime64",
        "clock_nanosleep",
        "clock_nanosleep_time64",
        "close",
        "close_range",
        "connect",
        "copy_file_range",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_ctl_old",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_wait",
        "epoll_wait_old",
        "eventfd",
        "eventfd2",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fadvise64_64",
        "fallocate",
        "fanotify_mark",
        "fchdir",
        "fchmod",
        "fchmodat",
        "fchmodat2",
        "fchown",
        "fchown32",
        "fchownat",
        "fcntl",
        "fcntl64",
        "fdatasync",
        "fgetxattr",
        "flistxattr",
        "flock",
        "fork",
        "fremovexattr",
        "fsetxattr",
        "fstat",
        "fstat64",
        "fstatat64",
        "fstatfs",
        "fstatfs64",
        "fsync",
        "ftruncate",
        "ftruncate64",
        "futex",
        "futex_requeue",
        "futex_time64",
        "futex_wait",
        "futex_waitv",
        "futex_wake",
        "futimesat",
        "get_robust_list",
        "get_thread_area",
        "getcpu",
        "getcwd",
        "getdents",
        "getdents64",
        "getegid",
        "getegid32",
        "geteuid",
        "geteuid32",
        "getgid",
        "getgid32",
        "getgroups",
        "getgroups32",
        "getitimer",
        "getpeername",
        "getpgid",
        "getpgrp",
        "getpid",
        "getppid",
        "getpriority",
        "getrandom",
        "getresgid",
        "getresgid32",
        "getresuid",
        "getresuid32",
        "getrlimit",
        "getrusage",
        "getsid",
        "getsockname",
        "getsockopt",
        "gettid",
        "gettimeofday",
        "getuid",
        "getuid32",
        "getxattr",
        "inotify_add_watch",
        "inotify_init",
        "inotify_init1",
        "inotify_rm_watch",
        "io_cancel",
        "io_destroy",
        "io_getevents",
        "io_pgetevents",
        "io_pgetevents_time64",
        "io_setup",
        "io_submit",
        "ioprio_get",
        "ioprio_set",
        "ipc",
        "kill",
        "landlock_add_rule",
        "landlock_create_ruleset",
        "landlock_restrict_self",
        "lchown",
        "lchown32",
        "lgetxattr",
        "link",
        "linkat",
        "listen",
        "listxattr",
        "llistxattr",
        "lremovexattr",
        "lseek",
        "lsetxattr",
        "lstat",
        "lstat64",
        "madvise",
        "map_shadow_stack",
        "membarrier",
        "memfd_create",
        "memfd_secret",
        "mincore",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "mlock",
        "mlock2",
        "mlockall",
        "mmap",
        "mmap2",
        "mprotect",
        "mq_getsetattr",
        "mq_notify",
        "mq_open",
        "mq_timedreceive",
        "mq_timedreceive_time64",
        "mq_timedsend",
        "mq_timedsend_time64",
        "mq_unlink",
        "mremap",
        "msgctl",
        "msgget",
        "msgrcv",
        "msgsnd",
        "msync",
        "munlock",
        "munlockall",
        "munmap",
        "name_to_handle_at",
        "nanosleep",
        "newfstatat",
        "open",
        "openat",
        "openat2",
        "pause",
        "pidfd_open",
        "pidfd_send_signal",
        "pipe",
        "pipe2",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "poll",
        "ppoll",
        "ppoll_time64",
        "prctl",
        "pread64",
        "preadv",
        "preadv2",
        "prlimit64",
        "process_mrelease",
        "process_vm_readv",
        "process_vm_writev",
        "pselect6",
        "pselect6_time64",
        "ptrace",
        "pwrite64",
        "pwritev",
        "pwritev2",
        "read",
        "readahead",
        "readlink",
        "readlinkat",
        "readv",
        "recv",
        "recvfrom",
        "recvmmsg",
        "recvmmsg_time64",
        "recvmsg",
        "remap_file_pages",
        "removexattr",
        "rename",
        "renameat",
        "renameat2",
        "restart_syscall",
        "rmdir",
        "rseq",
        "rt_sigaction",
        "rt_sigpending",
        "rt_sigprocmask",
        "rt_sigqueueinfo",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo",
        "sched_get_priority_max",
        "sched_get_priority_min",
        "sched_getaffinity",
        "sched_getattr",
        "sched_getparam",
        "sched_getscheduler",
        "sched_rr_get_interval",
        "sched_rr_get_interval_time64",
        "sched_setaffinity",
        "sched_setattr",
        "sched_setparam",
        "sched_setscheduler",
        "sched_yield",
        "seccomp",
        "select",
        "semctl",
        "semget",
        "semop",
        "semtimedop",
        "semtimedop_time64",
        "send",
        "sendfile",
        "sendfile64",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "set_robust_list",
        "set_thread_area",
        "set_tid_address",
        "setfsgid",
        "setfsgid32",
        "setfsuid",
        "setfsuid32",
        "setgid",
        "setgid32",
        "setgroups",
        "setgroups32",
        "setitimer",
        "setpgid",
        "setpriority",
        "setregid",
        "setregid32",
        "setresgid",
        "setresgid32",
        "setresuid",
        "setresuid32",
        "setreuid",
        "setreuid32",
        "setrlimit",
        "setsid",
        "setsockopt",
        "setuid",
        "setuid32",
        "setxattr",
        "shmat",
        "shmctl",
        "shmdt",
        "shmget",
        "shutdown",
        "sigaltstack",
        "signalfd",
        "signalfd4",
        "sigprocmask",
        "sigreturn",
        "socketcall",
        "socketpair",
        "splice",
        "stat",
        "stat64",
        "statfs",
        "statfs64",
        "statx",
        "symlink",
        "symlinkat",
        "sync",
        "sync_file_range",
        "syncfs",
        "sysinfo",
        "tee",
        "tgkill",
        "time",
        "timer_create",
        "timer_delete",
        "timer_getoverrun",
        "timer_gettime",
        "timer_gettime64",
        "timer_settime",
        "timer_settime64",
        "timerfd_create",
        "timerfd_gettime",
        "timerfd_gettime64",
        "timerfd_settime",
        "timerfd_settime64",
        "times",
        "tkill",
        "truncate",
        "truncate64",
        "ugetrlimit",
        "umask",
        "uname",
        "unlink",
        "unlinkat",
        "utime",
        "utimensat",
        "utimensat_time64",
        "utimes",
        "vfork",
        "vmsplice",
        "wait4",
        "waitid",
        "waitpid",
        "write",
        "writev",
};

/* Calls allowed only while the process keeps a capability. */
struct cap_group {
        int cap;
        const char *const *names; /* NULL-terminated */
};

static const char *const dac_read_search[] = { "open_by_handle_at", NULL };
static const char *const sys_admin[] = {
        "bpf",           "clone",           "clone3",
        "fanotify_init", "fsconfig",        "fsmount",
        "fsopen",        "fspick",          "lookup_dcookie",
        "mount",         "mount_setattr",   "move_mount",
        "open_tree",     "perf_event_open", "quotactl",
        "quotactl_fd",   "setdomainname",   "sethostname",
        "setns",         "syslog",          "umount",
        "umount2",       "unshare",         NULL,
};
static const char *const sys_boot[] = { "reboot", NULL };
static const char *const sys_chroot[] = { "chroot", NULL };
static const char *const sys_module[] = { "delete_module", "finit_module", "init_module", NULL };
static const char *const sys_pacct[] = { "acct", NULL };
static const char *const sys_ptrace[] = {
        "kcmp",   "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
        "ptrace", NULL
};
static const char *const sys_rawio[] = { "ioperm", "iopl", NULL };
static const char *const sys_time[] = { "clock_settime", "clock_settime64", "settimeofday", "stime",
                                        NULL };
static const char *const sys_tty_config[] = { "vhangup", NULL };
static const char *const sys_nice[] = { "get_mempolicy", "mbind", "set_mempolicy",
                                        "set_mempolicy_home_node", NULL };
static const char *const syslog_[] = { "syslog", NULL };
static const char *const bpf[] = { "bpf", NULL };
static const char *const perfmon[] = { "perf_event_open", NULL };

static const struct cap_group cap_groups[] = {
        { CAP_DAC_READ_SEARCH, dac_read_search },
        { CAP_SYS_ADMIN, sys_admin },
        { CAP_SYS_BOOT, sys_boot },
        { CAP_SYS_CHROOT, sys_chroot },
        { CAP_SYS_MODULE, sys_module },
        { CAP_SYS_PACCT, sys_pacct },
        { CAP_SYS_PTRACE, sys_ptrace },
        { CAP_SYS_RAWIO, sys_rawio },
        { CAP_SYS_TIME, sys_time },
        { CAP_SYS_TTY_CONFIG, sys_tty_config },
        { CAP_SYS_NICE, sys_nice },
        { CAP_SYSLOG, syslog_ },
        { CAP_BPF, bpf },
        { CAP_PERFMON, perfmon },
};

/* What differs between the Debian architectures. */
struct arch_info {
        const char *debian;
        const char *const *scmp;  /* the filter's architectures, NULL-terminated */
        const char *const *own;   /* the architecture's own calls, NULL-terminated */
        unsigned clone_flags_arg; /* which argument of clone() holds the flags */
        uint32_t tiocsti;         /* TIOCSTI's request number there */
};

static const char *const scmp_amd64[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                          NULL };
static const char *const scmp_i386[] = { "SCMP_ARCH_X86", NULL };
static const char *const scmp_arm64[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
static const char *const scmp_arm[] = { "SCMP_ARCH_ARM", NULL };
static const char *const scmp_ppc64el[] = { "SCMP_ARCH_PPC64LE", NULL };
static const char *const scmp_s390x[] = { "SCMP_ARCH_S390X", "SCMP_ARCH_S390", NULL };
static const char *const scmp_riscv64[] = { "SCMP_ARCH_RISCV64", NULL };
static const char *const scmp_mips64el[] = { "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
                                             "SCMP_ARCH_MIPSEL", NULL };

static const char *const own_x86_64[] = { "arch_prctl", "modify_ldt", NULL };
static const char *const own_x86[] = { "modify_ldt", NULL };
static const char *const own_arm[] = {
        "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
        "set_tls",          "sync_file_range2",    NULL
};
static const char *const own_ppc[] = { "swapcontext", "sync_file_range2", NULL };
static const char *const own_s390[] = { "s390_pci_mmio_read", "s390_pci_mmio_write",
                                        "s390_runtime_instr", NULL };
static const char *const own_riscv[] = { "riscv_flush_icache", NULL };
static const char *const own_none[] = { NULL };

static const struct arch_info arches[] = {
        { "amd64", scmp_amd64, own_x86_64, 0, 0x5412 },
        { "i386", scmp_i386, own_x86, 0, 0x5412 },
        { "arm64", scmp_arm64, own_arm, 0, 0x5412 },
        { "armhf", scmp_arm, own_arm, 0, 0x5412 },
        { "armel", scmp_arm, own_arm, 0, 0x5412 },
        { "ppc64el", scmp_ppc64el, own_ppc, 0, 0x80017472 },
        { "s390x", scmp_s390x, own_s390, 1, 0x5412 },
        { "riscv64", scmp_riscv64, own_riscv, 0, 0x5412 },
        { "mips64el", scmp_mips64el, own_none, 0, 0x5472 },
};
static const struct arch_info arch_unknown = { NULL, NULL, own_none, 0, 0x5412 };

/* The namespace flags clone() may not ask for without CAP_SYS_ADMIN: CLONE_NEWNS, NEWCGROUP,
 * NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (0x7e020000). */
#define CLONE_NEW_FLAGS 0x7e020000ULL
/* AF_VSOCK: talks to the hypervisor, outside any network namespace. */
#define AF_VSOCK_ 40
/* The personalities moby allows: PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and
 * 0xffffffff (which only queries). */
static const uint64_t personalities[] = { 0x0, 0x0008, 0x20000, 0x20008, 0xffffffff };

static void names(struct json *j, const char *const *v, size_t n)
{
        json_key(j, "names");
        json_array_begin(j);
        for (size_t i = 0; i < n && v[i]; i++)
                json_string(j, v[i]);
        json_array_end(j);
}

/* {"names": [name], "action": action, "args": [{"index", "value", "valueTwo", "op"}]} */
static void rule_arg(struct json *j, const char *name, const char *action, unsigned index,
                     uint64_t value, uint64_t value_two, const char *op)
{
        json_object_begin_line(j);
        const char *v[] = { name };
        names(j, v, 1);
        json_kv_string(j, "action", action);
        json_key(j, "args");
        json_array_begin(j);
        json_object_begin(j);
        json_kv_uint(j, "index", index);
        json_kv_uint(j, "value", value);
        json_kv_uint(j, "valueTwo", value_two);
        json_kv_string(j, "op", op);
        json_object_end(j);
        json_array_end(j);
        json_object_end(j);
}

/* The Debian architecture cairn itself was built for (a NULL arch means this one), as the
 * recipe's default: recipe_host_arch. x32 has no syscall table here, nor has an unknown one. */
static const char *native_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
        return NULL;
#else
        const char *arch = recipe_host_arch();
        return streq(arch, "unknown") ? NULL : arch;
#endif
}

void seccomp_default_write(struct json *j, const char *arch, uint64_t caps)
{
        if (!arch)
                arch = native_arch();
        const struct arch_info *a = &arch_unknown;
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (streq_ptr(arch, arches[i].debian))
                        a = &arches[i];
        bool sys_admin_kept = caps & (1ULL << CAP_SYS_ADMIN);

        json_object_begin(j);
        json_kv_string(j, "defaultAction", "SCMP_ACT_ERRNO");
        json_kv_uint(j, "defaultErrnoRet", 1); /* EPERM */
        if (a->scmp) {
                json_key(j, "architectures");
                json_array_begin_line(j);
                for (size_t i = 0; a->scmp[i]; i++)
                        json_string(j, a->scmp[i]);
                json_array_end(j);
        }
        json_key(j, "syscalls");
        json_array_begin(j);

        json_object_begin(j);
        names(j, allowed, ELEMENTSOF(allowed));
        json_kv_string(j, "action", "SCMP_ACT_ALLOW");
        json_object_end(j);

        if (a->own[0]) {
                json_object_begin(j);
                names(j, a->own, SIZE_MAX);
                json_kv_string(j, "action", "SCMP_ACT_ALLOW");
                json_object_end(j);
        }
        for (size_t i = 0; i < ELEMENTSOF(cap_groups); i++) {
                if (!(caps & (1ULL << cap_groups[i].cap)))
                        continue;
                json_object_begin(j);
                names(j, cap_groups[i].names, SIZE_MAX);
                json_kv_string(j, "action", "SCMP_ACT_ALLOW");
                json_object_end(j);
        }
        rule_arg(j, "socket", "SCMP_ACT_ALLOW", 0, AF_VSOCK_, 0, "SCMP_CMP_NE");
        for (size_t i = 0; i < ELEMENTSOF(personalities); i++)
                rule_arg(j, "personality", "SCMP_ACT_ALLOW", 0, personalities[i], 0, "SCMP_CMP_EQ");
        if (!sys_admin_kept) {
                /* clone() without namespace flags: (flags & CLONE_NEW_FLAGS) == 0. */
                rule_arg(j, "clone", "SCMP_ACT_ALLOW", a->clone_flags_arg, CLONE_NEW_FLAGS, 0,
                         "SCMP_CMP_MASKED_EQ");
                json_object_begin_line(j);
                const char *c3[] = { "clone3" };
                names(j, c3, 1);
                json_kv_string(j, "action", "SCMP_ACT_ERRNO");
                json_kv_uint(j, "errnoRet", 38); /* ENOSYS */
                json_object_end(j);
        }
        /*
         * ioctl() unless the low 32 bits of the request are TIOCSTI. Rules of one call are
         * or-ed, and a rule compares one argument once, so "request != TIOCSTI" is written as
         * 32 rules: "bit N of the request differs from bit N of TIOCSTI". Any other request
         * differs in at least one of its low 32 bits and matches one of them; TIOCSTI, with any
         * upper bits, matches none and gets the default action.
         */
        for (unsigned bit = 0; bit < 32; bit++) {
                uint64_t m = 1ULL << bit;
                rule_arg(j, "ioctl", "SCMP_ACT_ALLOW", 1, m, ~(uint64_t)a->tiocsti & m,
                         "SCMP_CMP_MASKED_EQ");
        }
        json_array_end(j);
        json_object_end(j);
}
