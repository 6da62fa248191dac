/* SPDX-License-Identifier: Apache-2.0 */
#include "http.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static http_progress_fn progress_cb;
static void *progress_data;

void http_set_progress(http_progress_fn cb, void *data)
{
        progress_cb = cb;
        progress_data = data;
}

struct sink {
        const char *url;
        int fd;
        uint64_t size, max;
        int error;
};

static size_t write_cb(char *data, size_t one, size_t n, void *userdata)
{
        struct sink *s = userdata;
        size_t len = one * n;
        if (len > s->max - s->size) {
                s->error = -EFBIG;
                return 0;
        }
        int r = write_all(s->fd, data, len);
        if (r < 0) {
                s->error = r;
                return 0;
        }
        s->size += len;
        return len;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        const struct sink *s = userdata;
        if (progress_cb && dlnow > 0)
                progress_cb(progress_data, s->url, (uint64_t)dlnow,
                            dltotal > 0 ? (uint64_t)dltotal : 0);
        return 0;
}

static long timeout_seconds(void)
{
        const char *t = getenv("CAIRN_HTTP_TIMEOUT");
        long v = t ? strtol(t, NULL, 10) : 0;
        return v > 0 ? v : 30;
}

static int fetch_file(const char *url, int fd, uint64_t max, struct cairn_error *err)
{
        const char *path = url + strlen("file://");
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -errno, "%s: %m", url);
        uint8_t buf[65536];
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -errno, "%s: %m", url);
                if (n == 0)
                        return 0;
                total += (uint64_t)n;
                if (total > max)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EFBIG,
                                               "%s: larger than %llu bytes", url,
                                               (unsigned long long)max);
                int r = write_all(fd, buf, (size_t)n);
                if (r < 0)
                        return cairn_error_errno(err, r, "writing %s: %s", url, strerror(-r));
        }
}

int http_fetch_fd(const char *url, int fd, uint64_t max, struct cairn_error *err)
{
        if (startswith(url, "file://"))
                return fetch_file(url, fd, max, err);
        /* One handle for the whole process: curl_easy_reset keeps its connection cache, so
         * consecutive downloads from one mirror reuse the connection. */
        static CURL *c;
        if (!c) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                        return -ENOMEM;
                c = curl_easy_init();
                if (!c)
                        return -ENOMEM;
        } else
                curl_easy_reset(c);
        struct sink s = { .url = url, .fd = fd, .max = max };
        char msg[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout_seconds());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "cairn");
        if (progress_cb) {
                curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
                curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
                curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
        CURLcode rc = curl_easy_perform(c);
        if (progress_cb)
                progress_cb(progress_data, NULL, s.size, 0);
        if (s.error == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EFBIG, "%s: larger than %llu bytes",
                                       url, (unsigned long long)max);
        if (s.error < 0)
                return cairn_error_errno(err, s.error, "writing %s: %s", url, strerror(-s.error));
        if (rc != CURLE_OK)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE,
                                       rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO, "%s: %s",
                                       url, msg[0] ? msg : curl_easy_strerror(rc));
        return 0;
}

int http_fetch_buf(const char *url, uint64_t max, char **ret, size_t *ret_len,
                   struct cairn_error *err)
{
        _cleanup_close_ int fd = memfd_create("cairn-fetch", MFD_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "memfd: %m");
        int r = http_fetch_fd(url, fd, max, err);
        if (r < 0)
                return r;
        off_t size = lseek(fd, 0, SEEK_CUR);
        _cleanup_free_ char *buf = malloc((size_t)size + 1);
        if (size < 0 || !buf)
                return -ENOMEM;
        if (pread(fd, buf, (size_t)size, 0) != size)
                return cairn_error_errno(err, -EIO, "%s: short read", url);
        buf[size] = '\0';
        *ret = steal_pointer(&buf);
        *ret_len = (size_t)size;
        return 0;
}
