/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp filter of cairn's runtime bundles (config.json's linux.seccomp), equivalent to
 * the container engines' default: an allow-list of the system calls ordinary programs make,
 * every other call failing with EPERM.
 *
 * Origin: the semantics of Docker's (moby's) default profile, profiles/seccomp/default.json,
 * as of Docker 25, written here as tables instead of a copied file:
 *   - one group of calls always allowed; socket() except AF_VSOCK; personality() only with the
 *     five personas moby lets through; ptrace and process_vm_readv/writev (moby allows them on
 *     kernels >= 4.8, all cairn targets);
 *   - the architecture's own calls (arch_prctl and modify_ldt on x86, set_tls... on ARM);
 *   - groups of calls allowed only when the process keeps a capability (mount & co. with
 *     CAP_SYS_ADMIN, chroot with CAP_SYS_CHROOT...); without CAP_SYS_ADMIN clone() may not
 *     create namespaces and clone3() returns ENOSYS so that libc falls back to clone();
 *   - io_uring_* are not allowed (moby and containerd removed them in 2023: a large kernel
 *     attack surface that bypasses the filter's view of each operation).
 * One addition: ioctl(fd, TIOCSTI) fails with EPERM, whatever the upper 32 bits of the request
 * say (the kernel truncates the request to 32 bits, so a plain "!= TIOCSTI" rule could be
 * bypassed): a program must never push input into a terminal it might find.
 *
 * runc skips names its libseccomp does not know (newer calls on an older runc) and returns
 * ENOSYS for calls newer than the whole profile, as the engines do.
 */
#pragma once

#include <stdint.h>

#include "base/json.h"

/*
 * Writes the seccomp object for an image of Debian architecture arch ("amd64", "arm64"...)
 * whose process keeps the capabilities in caps (bit N = capability N); NULL: the architecture
 * cairn was built for. For an architecture this table does not know, the "architectures" list
 * is left out (the runtime's native one).
 */
void seccomp_default_write(struct json *j, const char *arch, uint64_t caps);
