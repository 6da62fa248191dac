/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <errno.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/capability.h"
#include "base/json.h"
#include "base/util.h"
#include "seccomp.h"

/* What runc's default spec masks (maskedPaths) and makes read-only (readonlyPaths) in /proc
 * and /sys, plus moby's /sys/devices/virtual/powercap (energy counters leak what other
 * processes compute: CVE-2020-8694). */
static const char *const masked_paths[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct mount {
        const char *destination, *type, *source;
        const char *const *options; /* NULL-terminated */
};

static const char *const opt_proc[] = { "nosuid", "noexec", "nodev", NULL };
static const char *const opt_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
static const char *const opt_pts[] = { "nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                       "mode=0620", "gid=5",  NULL };
static const char *const opt_shm[] = {
        "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL
};
static const char *const opt_mqueue[] = { "nosuid", "noexec", "nodev", NULL };
static const char *const opt_sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
static const char *const opt_cgroup[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

static const struct mount default_mounts[] = {
        { "/proc", "proc", "proc", opt_proc },
        { "/dev", "tmpfs", "tmpfs", opt_dev },
        { "/dev/pts", "devpts", "devpts", opt_pts },
        { "/dev/shm", "tmpfs", "shm", opt_shm },
        { "/dev/mqueue", "mqueue", "mqueue", opt_mqueue },
        { "/sys", "sysfs", "sysfs", opt_sys },
        { "/sys/fs/cgroup", "cgroup", "cgroup", opt_cgroup },
};

static void strv_array(struct json *j, const char *key, const char *const *v, size_t n)
{
        json_key(j, key);
        json_array_begin(j);
        for (size_t i = 0; i < n && v[i]; i++)
                json_string(j, v[i]);
        json_array_end(j);
}

static void caps_array(struct json *j, const char *key, uint64_t caps)
{
        json_key(j, key);
        json_array_begin_line(j);
        for (int c = 0; c <= CAPABILITY_LAST; c++)
                if (caps & (1ULL << c))
                        json_string(j, capability_name(c));
        json_array_end(j);
}

static void rlimit(struct json *j, const char *type, int resource, uint64_t soft, uint64_t hard,
                   bool clamp)
{
        struct rlimit rl;
        if (clamp && getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
                hard = hard < rl.rlim_max ? hard : rl.rlim_max;
                soft = soft < hard ? soft : hard;
        }
        json_object_begin_line(j);
        json_kv_string(j, "type", type);
        json_kv_uint(j, "hard", hard);
        json_kv_uint(j, "soft", soft);
        json_object_end(j);
}

static void write_process(struct json *j, const struct runtime_spec *s)
{
        json_key(j, "process");
        json_object_begin(j);
        json_key(j, "terminal");
        json_bool(j, false);
        json_key(j, "user");
        json_object_begin_line(j);
        json_kv_uint(j, "uid", s->uid);
        json_kv_uint(j, "gid", s->gid);
        json_object_end(j);
        strv_array(j, "args", s->args, SIZE_MAX);
        strv_array(j, "env", s->env ? s->env : (const char *const[]){ NULL }, SIZE_MAX);
        json_kv_string(j, "cwd", s->cwd ? s->cwd : "/");
        json_key(j, "capabilities");
        json_object_begin(j);
        caps_array(j, "bounding", s->caps);
        caps_array(j, "effective", s->caps);
        caps_array(j, "inheritable", s->caps);
        caps_array(j, "permitted", s->caps);
        caps_array(j, "ambient", s->caps);
        json_object_end(j);
        json_key(j, "rlimits");
        json_array_begin(j);
        rlimit(j, "RLIMIT_CORE", RLIMIT_CORE, 0, 0, false);
        rlimit(j, "RLIMIT_NOFILE", RLIMIT_NOFILE, RUNTIME_RLIMIT_NOFILE_SOFT,
               RUNTIME_RLIMIT_NOFILE_HARD, s->clamp_rlimits);
        rlimit(j, "RLIMIT_NPROC", RLIMIT_NPROC, RUNTIME_RLIMIT_NPROC, RUNTIME_RLIMIT_NPROC,
               s->clamp_rlimits);
        json_array_end(j);
        json_key(j, "noNewPrivileges");
        json_bool(j, true);
        json_object_end(j);
}

static void write_mount(struct json *j, const struct mount *m)
{
        json_object_begin_line(j);
        json_kv_string(j, "destination", m->destination);
        json_kv_string(j, "type", m->type);
        json_kv_string(j, "source", m->source);
        strv_array(j, "options", m->options, SIZE_MAX);
        json_object_end(j);
}

static int write_mounts(struct json *j, const struct runtime_spec *s)
{
        json_key(j, "mounts");
        json_array_begin(j);
        for (size_t i = 0; i < ELEMENTSOF(default_mounts); i++)
                write_mount(j, &default_mounts[i]);
        for (size_t i = 0; i < s->n_tmpfs; i++) {
                const struct runtime_tmpfs *t = &s->tmpfs[i];
                char mode[32], uid[32], gid[32];
                snprintf(mode, sizeof(mode), "mode=%04o", t->mode & 07777);
                snprintf(uid, sizeof(uid), "uid=%u", t->uid);
                snprintf(gid, sizeof(gid), "gid=%u", t->gid);
                const char *const options[] = { "nosuid", "nodev", "noexec", mode, uid, gid, NULL };
                const struct mount m = { t->path, "tmpfs", "tmpfs", options };
                write_mount(j, &m);
        }
        json_array_end(j);
        return 0;
}

static void id_map(struct json *j, const char *key, uint32_t host)
{
        json_key(j, key);
        json_array_begin(j);
        json_object_begin_line(j);
        json_kv_uint(j, "containerID", 0);
        json_kv_uint(j, "hostID", host);
        json_kv_uint(j, "size", RUNTIME_ID_COUNT);
        json_object_end(j);
        json_array_end(j);
}

static void write_linux(struct json *j, const struct runtime_spec *s)
{
        json_key(j, "linux");
        json_object_begin(j);
        id_map(j, "uidMappings", s->host_uid);
        id_map(j, "gidMappings", s->host_gid);
        if (s->cgroups_path)
                json_kv_string(j, "cgroupsPath", s->cgroups_path);
        json_key(j, "resources");
        json_object_begin(j);
        json_key(j, "devices");
        json_array_begin(j);
        json_object_begin_line(j);
        json_key(j, "allow");
        json_bool(j, false);
        json_kv_string(j, "access", "rwm");
        json_object_end(j);
        json_array_end(j);
        if (s->memory_limit) {
                json_key(j, "memory");
                json_object_begin_line(j);
                json_kv_uint(j, "limit", s->memory_limit);
                json_object_end(j);
        }
        if (s->pids_limit) {
                json_key(j, "pids");
                json_object_begin_line(j);
                json_kv_uint(j, "limit", s->pids_limit);
                json_object_end(j);
        }
        json_object_end(j);
        static const char *const namespaces[] = { "pid",   "network", "ipc",   "uts",
                                                  "mount", "user",    "cgroup" };
        json_key(j, "namespaces");
        json_array_begin(j);
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                json_object_begin_line(j);
                json_kv_string(j, "type", namespaces[i]);
                json_object_end(j);
        }
        json_array_end(j);
        strv_array(j, "maskedPaths", masked_paths, ELEMENTSOF(masked_paths));
        strv_array(j, "readonlyPaths", readonly_paths, ELEMENTSOF(readonly_paths));
        json_key(j, "seccomp");
        seccomp_default_write(j, s->arch, s->caps);
        json_object_end(j);
}

int runtime_spec_render(const struct runtime_spec *s, char **ret, size_t *ret_len)
{
        if (!s->args || !s->args[0])
                return -EINVAL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init_pretty(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "ociVersion", RUNTIME_SPEC_VERSION);
        write_process(&j, s);
        json_key(&j, "root");
        json_object_begin_line(&j);
        json_kv_string(&j, "path", s->root_path ? s->root_path : "rootfs");
        json_key(&j, "readonly");
        json_bool(&j, s->root_readonly);
        json_object_end(&j);
        if (s->hostname)
                json_kv_string(&j, "hostname", s->hostname);
        write_mounts(&j, s);
        write_linux(&j, s);
        json_object_end(&j);
        fputc('\n', f);
        if (ferror(f) | (fclose(f) != 0))
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}
