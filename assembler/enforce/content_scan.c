/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where cairn detects BusyBox, toybox, uutils, shells, package managers and UPX packing: the
 * marker strings (markers[] below), the BusyBox applet table (busybox_applets.h), and what
 * they add up to (content_is_busybox, content_toolbox, content_is_packed, shell_detect,
 * package_manager_detect). policy_check.c turns the result into a verdict per file and into
 * findings.
 */
#include "content_scan.h"

#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>

#include "base/cachemac.h"
#include "base/util.h"
#include "busybox_applets.h"

#define CHUNK   (64 * 1024)
#define OVERLAP 64 /* longer than any marker */

/* Every string searched for. `bit` is an index into the scanner's hit mask. */
struct marker {
        const char *text;
        unsigned bit;
};

enum {
        M_BB_BANNER,
        M_BB_MULTICALL,
        M_BB_USAGE,
        M_BB_LIST,
        M_TB_NAME,
        M_TB_MULTICALL,
        M_TB_USAGE,
        M_UU_MULTICALL,
        M_UU_SOURCE,
        M_UPX_INFO,
        M_UPX_ID,
        M_BASH,
        M_DASH,
        M_MKSH,
        M_PDKSH,
        M_LKSH,
        M_KSH93,
        M_ZSH_VERSION,
        M_ZSH_PATCHLEVEL,
        M_SASH,
        M_YASH,
        M_POSH,
        M_FISH,
        M_TCSH,
        M_DPKG,
        M_APK,
        M_RPM,
        M_PIP,
        M_COUNT,
};

static const struct marker markers[] = {
        { "BusyBox v", M_BB_BANNER },
        { "BusyBox is a multi-call binary", M_BB_MULTICALL },
        { "Usage: busybox", M_BB_USAGE },
        { "busybox --list", M_BB_LIST },
        { "Toybox ", M_TB_NAME },
        { "multicall binary", M_TB_MULTICALL },
        { "usage: toybox", M_TB_USAGE },
        { "(multi-call binary)", M_UU_MULTICALL },
        { "src/uu/", M_UU_SOURCE },
        { "This file is packed with the UPX", M_UPX_INFO },
        { "$Id: UPX ", M_UPX_ID },
        { "GNU bash, version", M_BASH },
        { "EOF in backquote substitution", M_DASH },
        { "@(#)MIRBSD KSH", M_MKSH },
        { "@(#)PD KSH", M_PDKSH },
        { "@(#)LEGACY KSH", M_LKSH },
        { "@(#)$Id: Version A", M_KSH93 },
        { "ZSH_VERSION", M_ZSH_VERSION },
        { "ZSH_PATCHLEVEL", M_ZSH_PATCHLEVEL },
        { "Stand-alone shell", M_SASH },
        { "Yet another shell", M_YASH },
        { "posh_builtin_getopts", M_POSH },
        { "this indicates a bug in fish", M_FISH },
        { "tcsh %d.%.2d.%.2d", M_TCSH },
        { "' package management program version %s.", M_DPKG },
        { "apk-tools ", M_APK },
        { "RPM version %s", M_RPM },
        { "pip._internal", M_PIP },
};

/* A run of at least this many known applet names, NUL-separated, is an applet table. */
#define APPLET_TABLE_MIN 24
#define TOKEN_MAX        24

struct scanner {
        struct content_scan result;
        uint64_t hits;      /* 1 << M_* */
        uint64_t offset;    /* file offset of the current read */
        uint32_t hist[256]; /* byte counts of the current entropy block */
        uint32_t hist_n;
        char token[TOKEN_MAX + 1];
        size_t token_len;
        bool token_bad;
        size_t run;               /* known names in the current run, in increasing order */
        size_t unknown;           /* name-like tokens since the last known one */
        char last[TOKEN_MAX + 1]; /* the run's last known name */
};

static int applet_cmp(const void *key, const void *elem)
{
        return strcmp(key, *(const char *const *)elem);
}

static void token_end(struct scanner *s)
{
        if (s->token_bad || s->token_len == 0) {
                s->run = 0;
        } else {
                s->token[s->token_len] = 0;
                if (streq(s->token, "memfd_create"))
                        s->result.markers |= CONTENT_MEMFD_CREATE;
                else if (streq(s->token, "fexecve"))
                        s->result.markers |= CONTENT_FEXECVE;
                else if (streq(s->token, "execveat"))
                        s->result.markers |= CONTENT_EXECVEAT;
                if (bsearch(s->token, busybox_applet_names, ELEMENTSOF(busybox_applet_names),
                            sizeof(busybox_applet_names[0]), applet_cmp)) {
                        /* The table is sorted: a name out of order starts a new run. */
                        if (s->run > 0 && strcmp(s->token, s->last) <= 0)
                                s->run = 0;
                        s->run++;
                        s->unknown = 0;
                        memcpy(s->last, s->token, s->token_len + 1);
                        if (s->run > s->result.applet_run)
                                s->result.applet_run = s->run;
                } else if (++s->unknown > 16) {
                        /* A few unknown names are applets cairn does not list (builds differ
                         * in what they carry); many in a row are not an applet table. */
                        s->run = 0;
                }
        }
        s->token_len = 0;
        s->token_bad = false;
}

/* Feeds bytes that were not fed before into the applet table tokenizer. */
static void tokens_feed(struct scanner *s, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint8_t c = p[i];
                if (c == 0) {
                        token_end(s);
                        continue;
                }
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '_' || c == '[' || c == '.';
                if (!ok || s->token_len >= TOKEN_MAX)
                        s->token_bad = true;
                else
                        s->token[s->token_len++] = (char)c;
        }
}

/* Shannon entropy of one full block, in bits per byte. */
static double block_entropy(const uint32_t hist[256])
{
        double sum = 0;
        for (size_t i = 0; i < 256; i++)
                if (hist[i])
                        sum += hist[i] * log2(hist[i]);
        return log2(CONTENT_ENTROPY_BLOCK) - sum / CONTENT_ENTROPY_BLOCK;
}

static void entropy_block_done(struct scanner *s)
{
        /* Only whole blocks count, and all-zero ones (padding, holes read as zeros) do not:
         * the measure is the same whether the file's zeros are stored or sparse. */
        if (s->hist_n == CONTENT_ENTROPY_BLOCK && s->hist[0] != CONTENT_ENTROPY_BLOCK) {
                s->result.entropy_bytes += CONTENT_ENTROPY_BLOCK;
                if (block_entropy(s->hist) > CONTENT_HIGH_ENTROPY)
                        s->result.high_entropy_bytes += CONTENT_ENTROPY_BLOCK;
        }
        memset(s->hist, 0, sizeof(s->hist));
        s->hist_n = 0;
}

/* Counts bytes p[0..n) at file offset off into blocks aligned to CONTENT_ENTROPY_BLOCK. */
static void entropy_feed(struct scanner *s, const uint8_t *p, size_t n, uint64_t off)
{
        for (size_t i = 0; i < n; i++) {
                s->hist[p[i]]++;
                s->hist_n++;
                if ((off + i + 1) % CONTENT_ENTROPY_BLOCK == 0)
                        entropy_block_done(s);
        }
}

/* A hole (or a skipped run of zeros) at the current position: it ends every string, as its
 * zeros would, and the entropy block it cuts is dropped. */
static void scanner_hole(struct scanner *s)
{
        token_end(s);
        token_end(s);
        memset(s->hist, 0, sizeof(s->hist));
        s->hist_n = 0;
}

static void markers_find(struct scanner *s, const uint8_t *p, size_t n, uint64_t base)
{
        for (size_t i = 0; i < ELEMENTSOF(markers); i++) {
                if (s->hits & (UINT64_C(1) << markers[i].bit))
                        continue;
                if (memmem(p, n, markers[i].text, strlen(markers[i].text)))
                        s->hits |= UINT64_C(1) << markers[i].bit;
        }
        if (base < 4096) {
                size_t lim = (size_t)(4096 - base) + 3;
                const void *u = memmem(p, n < lim ? n : lim, "UPX!", 4);
                if (u)
                        s->result.markers |= CONTENT_UPX_MAGIC;
        }
}

#define HIT(m) (hits & (UINT64_C(1) << (m)))

/* The shell whose markers were hit (1 << M_*), or NULL; the first match in this order wins. */
static const char *shell_detect(uint64_t hits)
{
        if (HIT(M_BASH))
                return "bash";
        if (HIT(M_MKSH))
                return "mksh";
        if (HIT(M_LKSH))
                return "lksh";
        if (HIT(M_PDKSH))
                return "pdksh";
        if (HIT(M_KSH93))
                return "ksh93";
        if (HIT(M_ZSH_VERSION) && HIT(M_ZSH_PATCHLEVEL))
                return "zsh";
        if (HIT(M_SASH))
                return "sash";
        if (HIT(M_YASH))
                return "yash";
        if (HIT(M_POSH))
                return "posh";
        if (HIT(M_FISH))
                return "fish";
        if (HIT(M_TCSH))
                return "tcsh";
        if (HIT(M_DASH))
                return "dash";
        return NULL;
}

/* The package manager whose markers were hit, or NULL (policy_check.c adds apt and rpm found
 * by DT_NEEDED, and ignores libraries). */
static const char *package_manager_detect(uint64_t hits)
{
        if (HIT(M_DPKG))
                return "dpkg";
        if (HIT(M_APK))
                return "apk";
        if (HIT(M_RPM))
                return "rpm";
        if (HIT(M_PIP))
                return "pip";
        return NULL;
}
#undef HIT

static void scanner_finish(struct scanner *s, struct content_scan *ret)
{
        token_end(s);
        struct content_scan *r = &s->result;
        static const struct {
                unsigned bit;
                unsigned marker;
        } direct[] = {
                { M_BB_BANNER, CONTENT_BUSYBOX_BANNER },
                { M_BB_MULTICALL, CONTENT_BUSYBOX_MULTICALL },
                { M_BB_USAGE, CONTENT_BUSYBOX_USAGE },
                { M_BB_LIST, CONTENT_BUSYBOX_LIST },
                { M_TB_NAME, CONTENT_TOYBOX_NAME },
                { M_TB_MULTICALL, CONTENT_TOYBOX_MULTICALL },
                { M_TB_USAGE, CONTENT_TOYBOX_USAGE },
                { M_UU_MULTICALL, CONTENT_UUTILS_MULTICALL },
                { M_UU_SOURCE, CONTENT_UUTILS_SOURCE },
                { M_UPX_INFO, CONTENT_UPX_INFO },
                { M_UPX_ID, CONTENT_UPX_ID },
        };
        for (size_t i = 0; i < ELEMENTSOF(direct); i++)
                if (s->hits & (UINT64_C(1) << direct[i].bit))
                        r->markers |= direct[i].marker;
        if (r->applet_run >= APPLET_TABLE_MIN)
                r->markers |= CONTENT_APPLET_TABLE;

        r->shell = shell_detect(s->hits);
        r->package_manager = package_manager_detect(s->hits);
        *ret = *r;
}

/* Scans buf, whose first `fresh_from` bytes were already seen as the previous chunk's tail. */
static void scanner_feed(struct scanner *s, const uint8_t *buf, size_t len, size_t fresh_from)
{
        markers_find(s, buf, len, s->offset - fresh_from);
        tokens_feed(s, buf + fresh_from, len - fresh_from);
        entropy_feed(s, buf + fresh_from, len - fresh_from, s->offset);
        s->result.scanned += len - fresh_from;
}

/* UPX's pack header closes the file: "UPX!" in its last 4 KiB (tail: those bytes). */
static void trailer_find(struct scanner *s, const uint8_t *tail, size_t n)
{
        if (memmem(tail, n, "UPX!", 4))
                s->result.markers |= CONTENT_UPX_TRAILER;
}

void content_scan_buf(const uint8_t *buf, size_t len, struct content_scan *ret)
{
        struct scanner s = {};
        size_t all = len;
        if (len > CONTENT_SCAN_MAX) {
                len = CONTENT_SCAN_MAX;
                s.result.truncated = true;
        }
        scanner_feed(&s, buf, len, 0);
        size_t t = all < 4096 ? all : 4096;
        if (t > 0)
                trailer_find(&s, buf + all - t, t);
        scanner_finish(&s, ret);
}

static bool all_zero(const uint8_t *p, size_t n)
{
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int content_scan_fd_limit(int fd, uint64_t limit, struct content_scan *ret)
{
        struct scanner s = {};
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
        _cleanup_free_ uint8_t *buf = malloc(OVERLAP + CHUNK);
        if (!buf)
                return -ENOMEM;
        size_t kept = 0;
        uint64_t pos = 0, data_end = 0; /* the data extent being read: [pos, data_end) */
        bool seekable = true;
        while (pos < size) {
                if (pos >= data_end) {
                        /* The next data extent; without SEEK_DATA the rest is all data. */
                        off_t d = seekable ? lseek(fd, (off_t)pos, SEEK_DATA) : -1;
                        if (d < 0 && seekable && errno == ENXIO)
                                break; /* only a hole is left */
                        if (d < 0) {
                                seekable = false;
                                data_end = size;
                        } else {
                                off_t h = lseek(fd, d, SEEK_HOLE);
                                data_end = h < 0 ? size : (uint64_t)h;
                                if ((uint64_t)d > pos) {
                                        scanner_hole(&s);
                                        kept = 0;
                                        pos = (uint64_t)d;
                                }
                        }
                        if (pos >= data_end)
                                continue;
                }
                size_t want = data_end - pos < CHUNK ? (size_t)(data_end - pos) : CHUNK;
                ssize_t n = pread(fd, buf + kept, want, (off_t)pos);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (all_zero(buf + kept, (size_t)n)) {
                        /* Zeros hold no marker: skipped like a hole, and not counted. */
                        scanner_hole(&s);
                        kept = 0;
                        pos += (uint64_t)n;
                        continue;
                }
                if (s.result.scanned + (uint64_t)n > limit) {
                        s.result.truncated = true;
                        break;
                }
                s.offset = pos;
                scanner_feed(&s, buf, kept + (size_t)n, kept);
                pos += (uint64_t)n;
                size_t have = kept + (size_t)n;
                kept = have < OVERLAP ? have : OVERLAP;
                memmove(buf, buf + have - kept, kept);
        }
        if (size > 0) {
                uint8_t tail[4096];
                size_t t = size < sizeof(tail) ? (size_t)size : sizeof(tail);
                ssize_t n = pread(fd, tail, t, (off_t)(size - t));
                if (n < 0)
                        return -errno;
                trailer_find(&s, tail, (size_t)n);
        }
        scanner_finish(&s, ret);
        return 0;
}

int content_scan_fd(int fd, struct content_scan *ret)
{
        return content_scan_fd_limit(fd, CONTENT_SCAN_MAX, ret);
}

int content_entropy_sample_fd(int fd, uint64_t size, unsigned samples, struct content_scan *ret)
{
        struct scanner s = {};
        uint8_t block[CONTENT_ENTROPY_BLOCK];
        uint64_t blocks = size / CONTENT_ENTROPY_BLOCK;
        uint64_t n_samples = blocks < samples ? blocks : samples;
        for (uint64_t i = 0; i < n_samples; i++) {
                uint64_t b = i * blocks / n_samples;
                ssize_t n = pread(fd, block, sizeof(block), (off_t)(b * CONTENT_ENTROPY_BLOCK));
                if (n < 0)
                        return -errno;
                if ((size_t)n != sizeof(block))
                        break;
                entropy_feed(&s, block, sizeof(block), 0);
                s.result.scanned += sizeof(block);
        }
        *ret = s.result;
        return 0;
}

bool content_is_busybox(const struct content_scan *s)
{
        unsigned m = s->markers;
        if (m & (CONTENT_BUSYBOX_MULTICALL | CONTENT_APPLET_TABLE))
                return true;
        int weak = !!(m & CONTENT_BUSYBOX_BANNER) + !!(m & CONTENT_BUSYBOX_USAGE) +
                   !!(m & CONTENT_BUSYBOX_LIST);
        return weak >= 2;
}

const char *content_toolbox(const struct content_scan *s)
{
        unsigned m = s->markers;
        if ((m & CONTENT_TOYBOX_USAGE) ||
            ((m & CONTENT_TOYBOX_NAME) && (m & CONTENT_TOYBOX_MULTICALL)))
                return "toybox";
        if ((m & CONTENT_UUTILS_MULTICALL) && (m & CONTENT_UUTILS_SOURCE))
                return "uutils-coreutils";
        return NULL;
}

bool content_is_packed(const struct content_scan *s)
{
        return s->markers &
               (CONTENT_UPX_MAGIC | CONTENT_UPX_INFO | CONTENT_UPX_ID | CONTENT_UPX_TRAILER);
}

unsigned content_high_entropy_percent(const struct content_scan *s)
{
        if (s->entropy_bytes == 0)
                return 0;
        return (unsigned)(s->high_entropy_bytes * 100 / s->entropy_bytes);
}

bool content_is_opaque(const struct content_scan *s)
{
        return s->entropy_bytes >= 4 * CONTENT_ENTROPY_BLOCK &&
               content_high_entropy_percent(s) >= 70;
}

bool content_memfd_exec(const struct content_scan *s)
{
        return (s->markers & CONTENT_MEMFD_CREATE) &&
               (s->markers & (CONTENT_FEXECVE | CONTENT_EXECVEAT));
}

char *content_evidence(const struct content_scan *s)
{
        static const struct {
                unsigned marker;
                const char *text;
        } names[] = {
                { CONTENT_BUSYBOX_BANNER, "banner \"BusyBox v\"" },
                { CONTENT_BUSYBOX_MULTICALL, "help text \"BusyBox is a multi-call binary\"" },
                { CONTENT_BUSYBOX_USAGE, "\"Usage: busybox\"" },
                { CONTENT_BUSYBOX_LIST, "\"busybox --list\"" },
                { CONTENT_TOYBOX_NAME, "\"Toybox \"" },
                { CONTENT_TOYBOX_MULTICALL, "\"multicall binary\"" },
                { CONTENT_TOYBOX_USAGE, "\"usage: toybox\"" },
                { CONTENT_UUTILS_MULTICALL, "\"(multi-call binary)\"" },
                { CONTENT_UUTILS_SOURCE, "uutils sources \"src/uu/\"" },
                { CONTENT_UPX_MAGIC, "\"UPX!\" magic in the first 4 KiB" },
                { CONTENT_UPX_INFO, "UPX info string" },
                { CONTENT_UPX_ID, "UPX stub id \"$Id: UPX\"" },
                { CONTENT_UPX_TRAILER, "\"UPX!\" pack header in the last 4 KiB" },
        };
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        const char *sep = "";
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (s->markers & names[i].marker) {
                        fprintf(f, "%s%s", sep, names[i].text);
                        sep = ", ";
                }
        if (s->markers & CONTENT_APPLET_TABLE) {
                fprintf(f, "%sapplet name table (%zu names in a row)", sep, s->applet_run);
                sep = ", ";
        }
        if (s->shell)
                fprintf(f, "%sshell marker of %s", sep, s->shell);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/* Bump whenever what the scanner finds changes (markers, tables, limits): results cached by
 * an older scanner are then simply not found. */
#define CONTENT_SCAN_VERSION 2

/* The scanner's own static string for name, from the names it can report; NULL if none. */
static const char *known_name(const char *name)
{
        static const char *const names[] = { "bash", "mksh", "lksh", "pdksh", "ksh93", "zsh",
                                             "sash", "yash", "posh", "fish",  "tcsh",  "dash",
                                             "dpkg", "apk",  "rpm",  "pip" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(names[i], name))
                        return names[i];
        return NULL;
}

/* The cached result for the content whose SHA-256 is sha256: sealed with that digest
 * (base/cachemac.h), so a verdict can only come from this user's own scan of those bytes. */
static bool scan_cache_read(const char *path, const char *sha256, struct content_scan *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int k = cachemac_read(path, 512, "scan", sha256, &buf, &len);
        if (k == -EBADMSG)
                cachemac_notice_rebuilt(path);
        if (k < 0)
                return false;
        unsigned found, truncated;
        size_t applet_run;
        uint64_t scanned, entropy, high;
        char shell[16], pm[16];
        int end = 0;
        if (sscanf(buf,
                   "cairn-scan %*d\nmarkers %u\nshell %15s\npm %15s\napplets %zu\ntruncated "
                   "%u\nscanned %" SCNu64 "\nentropy %" SCNu64 " %" SCNu64 "\n%n",
                   &found, shell, pm, &applet_run, &truncated, &scanned, &entropy, &high,
                   &end) != 8 ||
            (size_t)end != len || truncated > 1 || high > entropy)
                return false;
        struct content_scan r = {
                .markers = found,
                .shell = known_name(shell),
                .package_manager = known_name(pm),
                .applet_run = applet_run,
                .truncated = truncated,
                .scanned = scanned,
                .entropy_bytes = entropy,
                .high_entropy_bytes = high,
        };
        if ((!r.shell && !streq(shell, "-")) || (!r.package_manager && !streq(pm, "-")))
                return false;
        *ret = r;
        return true;
}

static void scan_cache_write(const char *dir, const char *path, const char *sha256,
                             const struct content_scan *r)
{
        _cleanup_free_ char *text = NULL;
        int len = asprintf(&text,
                           "cairn-scan %d\nmarkers %u\nshell %s\npm %s\napplets %zu\n"
                           "truncated %u\nscanned %" PRIu64 "\nentropy %" PRIu64 " %" PRIu64 "\n",
                           CONTENT_SCAN_VERSION, r->markers, r->shell ? r->shell : "-",
                           r->package_manager ? r->package_manager : "-", r->applet_run,
                           (unsigned)r->truncated, r->scanned, r->entropy_bytes,
                           r->high_entropy_bytes);
        if (len < 0) {
                text = NULL;
                return;
        }
        if (mkdir_p(dir, 0755) >= 0)
                (void)cachemac_write(path, "scan", sha256, text, (size_t)len);
}

int content_scan_fd_cached(int fd, const char *dir, const char *sha256, struct content_scan *ret)
{
        if (!dir || !sha256)
                return content_scan_fd(fd, ret);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s.%d", dir, sha256, CONTENT_SCAN_VERSION) < 0)
                return -ENOMEM;
        if (scan_cache_read(path, sha256, ret))
                return 0;
        int r = content_scan_fd(fd, ret);
        if (r >= 0)
                scan_cache_write(dir, path, sha256, ret);
        return r;
}
