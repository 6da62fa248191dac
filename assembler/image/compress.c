/* SPDX-License-Identifier: Apache-2.0 */
#include "compress.h"

#include <pthread.h>
#include <sched.h>
#include <zlib.h>
#include <zstd.h>

#define DICT_SIZE 32768

/*
 * One chunk of input and what it compresses to. Jobs live in a ring: the caller fills the
 * slot after the newest dispatched job, workers compress dispatched jobs, and the caller
 * collects them oldest first, handing their output to the sink.
 */
enum job_state {
        JOB_FILLING, /* owned by the caller */
        JOB_READY,   /* dispatched, waiting for a worker */
        JOB_BUSY,    /* a worker compresses it */
        JOB_DONE,    /* output ready to collect */
};

struct job {
        uint8_t *in; /* owned; DICT_SIZE + COMPRESS_CHUNK bytes: the dictionary, then the chunk */
        size_t dict_len, len;
        uint8_t *out; /* owned */
        size_t out_len, out_cap;
        uint32_t crc; /* gzip: CRC-32 of the chunk */
        bool last;    /* zstd: ends the frame */
        enum job_state state;
        int error;
};

/* A worker's deflate state, reset for every chunk. */
struct deflater {
        z_stream z;
        bool ready;
};

struct worker {
        struct compressor *c; /* borrowed */
        pthread_t thread;
        struct deflater d;
};

struct compressor {
        enum compress_alg alg;
        unsigned threads;
        compress_sink_fn sink; /* borrowed */
        void *userdata;        /* borrowed */

        struct job *jobs; /* owned; ring of n_jobs */
        size_t n_jobs;
        size_t head;       /* oldest dispatched job not yet collected */
        size_t n_inflight; /* dispatched, not yet collected */
        struct job *cur;   /* being filled: jobs[(head + n_inflight) % n_jobs], or NULL */

        pthread_mutex_t lock;
        pthread_cond_t work;    /* a job became READY, or stop */
        pthread_cond_t done;    /* a job became DONE */
        struct worker *workers; /* owned; n_workers once started */
        unsigned n_workers;
        bool started, stop;

        struct deflater inline_d; /* for jobs run on the caller's thread */
        ZSTD_CCtx *zstd;          /* owned; used by one thread at a time, in job order */

        bool header_sent;
        uint32_t crc;
        uint64_t total;
        int error;
};

unsigned compress_default_threads(void)
{
        const char *s = getenv("CAIRN_THREADS");
        if (s && *s) {
                char *end = NULL;
                unsigned long n = strtoul(s, &end, 10);
                if (*end == '\0' && n >= 1 && n <= COMPRESS_MAX_THREADS)
                        return (unsigned)n;
        }
        cpu_set_t set;
        int n = 0;
        if (sched_getaffinity(0, sizeof(set), &set) == 0)
                n = CPU_COUNT(&set);
        if (n < 1)
                n = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
                n = 1;
        return n > COMPRESS_MAX_THREADS ? COMPRESS_MAX_THREADS : (unsigned)n;
}

int compress_alg_from_name(const char *name, enum compress_alg *ret)
{
        if (streq(name, "gzip"))
                *ret = COMPRESS_GZIP;
        else if (streq(name, "zstd"))
                *ret = COMPRESS_ZSTD;
        else
                return -EINVAL;
        return 0;
}

void compress_library(enum compress_alg alg, char out[COMPRESS_FORMAT_ID_MAX])
{
        if (alg == COMPRESS_ZSTD)
                snprintf(out, COMPRESS_FORMAT_ID_MAX, "zstd %s", ZSTD_versionString());
        else
                snprintf(out, COMPRESS_FORMAT_ID_MAX, "zlib %s", zlibVersion());
}

void compress_format_id(enum compress_alg alg, char out[COMPRESS_FORMAT_ID_MAX])
{
        if (alg == COMPRESS_ZSTD)
                snprintf(out, COMPRESS_FORMAT_ID_MAX, "zstd-%d-zstd%s-v%d", COMPRESS_ZSTD_LEVEL,
                         ZSTD_versionString(), COMPRESS_FORMAT_VERSION);
        else
                snprintf(out, COMPRESS_FORMAT_ID_MAX, "gzip-%d-zlib%s-v%d", COMPRESS_GZIP_LEVEL,
                         zlibVersion(), COMPRESS_FORMAT_VERSION);
}

static int job_reserve_out(struct job *j, size_t need)
{
        if (j->out_cap - j->out_len >= need)
                return 0;
        size_t cap = j->out_cap ? j->out_cap : COMPRESS_CHUNK;
        while (cap - j->out_len < need)
                cap *= 2;
        uint8_t *p = realloc(j->out, cap);
        if (!p)
                return -ENOMEM;
        j->out = p;
        j->out_cap = cap;
        return 0;
}

/*
 * Whether deflate would only waste time on this chunk, judged from every third byte (a stride
 * that is coprime with the 2-, 4- and 8-byte periods of binary records) and the byte after it.
 * Both tests use integers only, so the decision, and so the output, is the same everywhere:
 *  - byte frequencies: sum((256*c - m)^2) < 32*m^2 over m samples is chi-square < m/8, where
 *    even an ideal order-0 coder saves under 1.1 %;
 *  - byte pairs: at least 24,000 of the 65,536 possible pairs occur (random data gives
 *    ~31,900 from 43,691 samples), which repeated strings and structured tables with flat
 *    byte counts do not reach.
 * Only full chunks are judged, so the thresholds are constants.
 */
#define SAMPLE_STRIDE   3
#define SAMPLES         ((COMPRESS_CHUNK + SAMPLE_STRIDE - 1) / SAMPLE_STRIDE)
#define PAIRS_THRESHOLD 24000

static bool chunk_incompressible(const uint8_t *p, size_t n)
{
        if (n != COMPRESS_CHUNK)
                return false;
        uint32_t count[256] = { 0 };
        uint64_t seen[65536 / 64] = { 0 };
        /* The last sample is at COMPRESS_CHUNK - 2, so p[i + 1] stays inside the chunk. */
        for (size_t i = 0; i < n; i += SAMPLE_STRIDE) {
                count[p[i]]++;
                unsigned pair = (unsigned)p[i] << 8 | p[i + 1];
                seen[pair / 64] |= UINT64_C(1) << (pair % 64);
        }
        const uint64_t m = SAMPLES;
        uint64_t sum = 0;
        for (size_t b = 0; b < 256; b++) {
                int64_t d = 256 * (int64_t)count[b] - (int64_t)m;
                sum += (uint64_t)(d * d);
        }
        if (sum >= 32 * m * m)
                return false;
        unsigned distinct = 0;
        for (size_t w = 0; w < ELEMENTSOF(seen); w++)
                distinct += (unsigned)__builtin_popcountll(seen[w]);
        return distinct >= PAIRS_THRESHOLD;
}

_Static_assert(COMPRESS_CHUNK % SAMPLE_STRIDE == 2, "the last sample needs a byte after it");

/* Deflate stored blocks (BFINAL=0, BTYPE=00): the chunk starts and ends on a byte boundary. */
static int store_chunk(struct job *j, const uint8_t *p, size_t n)
{
        int r = job_reserve_out(j, n + 5 * (n / 65535 + 1));
        if (r < 0)
                return r;
        while (n > 0) {
                size_t len = n < 65535 ? n : 65535;
                uint8_t *o = j->out + j->out_len;
                o[0] = 0;
                o[1] = (uint8_t)len;
                o[2] = (uint8_t)(len >> 8);
                o[3] = (uint8_t)~len;
                o[4] = (uint8_t)(~len >> 8);
                memcpy(o + 5, p, len);
                j->out_len += 5 + len;
                p += len;
                n -= len;
        }
        return 0;
}

static int deflate_chunk(struct deflater *d, struct job *j, const uint8_t *p, size_t n)
{
        if (!d->ready) {
                d->z = (z_stream){ 0 };
                if (deflateInit2(&d->z, COMPRESS_GZIP_LEVEL, Z_DEFLATED, -15, 8,
                                 Z_DEFAULT_STRATEGY) != Z_OK)
                        return -ENOMEM;
                d->ready = true;
        } else if (deflateReset(&d->z) != Z_OK) {
                return -EIO;
        }
        if (j->dict_len > 0 && deflateSetDictionary(&d->z, j->in, (uInt)j->dict_len) != Z_OK)
                return -EIO;
        int r = job_reserve_out(j, deflateBound(&d->z, n) + 64);
        if (r < 0)
                return r;
        d->z.next_in = (Bytef *)p;
        d->z.avail_in = (uInt)n;
        for (;;) {
                d->z.next_out = j->out + j->out_len;
                d->z.avail_out = (uInt)(j->out_cap - j->out_len);
                int zr = deflate(&d->z, Z_SYNC_FLUSH);
                j->out_len = j->out_cap - d->z.avail_out;
                if (zr != Z_OK && zr != Z_BUF_ERROR)
                        return -EIO;
                /* Room left after a sync flush: the chunk is complete. */
                if (d->z.avail_in == 0 && d->z.avail_out > 0)
                        return 0;
                r = job_reserve_out(j, j->out_cap);
                if (r < 0)
                        return r;
        }
}

/*
 * All input goes in with ZSTD_e_continue and the frame ends with an empty ZSTD_e_end, as
 * libarchive's filter does: a first call with ZSTD_e_end over data would make zstd write the
 * content size into the frame header, and the bytes would differ from the ones cairn wrote.
 */
static int zstd_chunk(struct compressor *c, struct job *j)
{
        ZSTD_inBuffer in = { j->in + j->dict_len, j->len, 0 };
        /* libarchive never passes empty input on: an empty stream is one ZSTD_e_end call. */
        for (ZSTD_EndDirective mode = j->len > 0 ? ZSTD_e_continue : ZSTD_e_end;;) {
                int r = job_reserve_out(j, ZSTD_CStreamOutSize());
                if (r < 0)
                        return r;
                ZSTD_outBuffer out = { j->out + j->out_len, j->out_cap - j->out_len, 0 };
                size_t left = ZSTD_compressStream2(c->zstd, &out, &in, mode);
                if (ZSTD_isError(left))
                        return -EIO;
                j->out_len += out.pos;
                if (mode == ZSTD_e_end && left == 0)
                        return 0;
                if (mode == ZSTD_e_continue && in.pos == in.size) {
                        if (!j->last)
                                return 0;
                        mode = ZSTD_e_end;
                }
        }
}

static void job_run(struct compressor *c, struct deflater *d, struct job *j)
{
        const uint8_t *p = j->in + j->dict_len;
        j->out_len = 0;
        if (c->alg == COMPRESS_ZSTD) {
                j->error = zstd_chunk(c, j);
                return;
        }
        j->crc = (uint32_t)crc32(crc32(0, NULL, 0), p, (uInt)j->len);
        j->error = chunk_incompressible(p, j->len) ? store_chunk(j, p, j->len)
                                                   : deflate_chunk(d, j, p, j->len);
}

/* The oldest READY job, or NULL. Jobs are dispatched in order, so a single worker (zstd)
 * takes them in stream order. */
static struct job *next_ready(struct compressor *c)
{
        for (size_t i = 0; i < c->n_inflight; i++) {
                struct job *j = &c->jobs[(c->head + i) % c->n_jobs];
                if (j->state == JOB_READY)
                        return j;
        }
        return NULL;
}

static void *worker_main(void *data)
{
        struct worker *w = data;
        struct compressor *c = w->c;
        pthread_mutex_lock(&c->lock);
        for (;;) {
                struct job *j;
                while (!(j = next_ready(c)) && !c->stop)
                        pthread_cond_wait(&c->work, &c->lock);
                if (!j)
                        break;
                j->state = JOB_BUSY;
                pthread_mutex_unlock(&c->lock);
                job_run(c, &w->d, j);
                pthread_mutex_lock(&c->lock);
                j->state = JOB_DONE;
                pthread_cond_broadcast(&c->done);
        }
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

/* Starts the workers; when none can be started the jobs simply run on the caller's thread. */
static void workers_start(struct compressor *c)
{
        c->started = true;
        unsigned want = c->alg == COMPRESS_ZSTD ? 1 : c->threads;
        c->workers = calloc(want, sizeof(*c->workers));
        if (!c->workers)
                return;
        for (unsigned i = 0; i < want; i++) {
                c->workers[i].c = c;
                if (pthread_create(&c->workers[i].thread, NULL, worker_main, &c->workers[i]) != 0)
                        break;
                c->n_workers++;
        }
}

static void workers_stop(struct compressor *c)
{
        if (!c->started)
                return;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_broadcast(&c->work);
        pthread_mutex_unlock(&c->lock);
        for (unsigned i = 0; i < c->n_workers; i++)
                pthread_join(c->workers[i].thread, NULL);
        for (unsigned i = 0; i < c->n_workers; i++)
                if (c->workers[i].d.ready)
                        deflateEnd(&c->workers[i].d.z);
        free(c->workers);
        c->workers = NULL;
        c->n_workers = 0;
}

static int sink(struct compressor *c, const void *buf, size_t len)
{
        if (len == 0)
                return 0;
        int r = c->sink(c->userdata, buf, len);
        if (r < 0)
                c->error = r;
        return r;
}

static int send_header(struct compressor *c)
{
        if (c->header_sent || c->alg != COMPRESS_GZIP)
                return 0;
        c->header_sent = true;
        /* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix): no name, no time. */
        static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
        return sink(c, header, sizeof(header));
}

/* Waits for the oldest job, hands its output to the sink and frees its slot. */
static int collect_one(struct compressor *c)
{
        struct job *j = &c->jobs[c->head];
        if (c->n_workers > 0) {
                pthread_mutex_lock(&c->lock);
                while (j->state != JOB_DONE)
                        pthread_cond_wait(&c->done, &c->lock);
                pthread_mutex_unlock(&c->lock);
        }
        int r = j->error;
        if (r < 0) {
                c->error = r;
                return r;
        }
        r = send_header(c);
        if (r >= 0)
                r = sink(c, j->out, j->out_len);
        if (r < 0)
                return r;
        if (c->alg == COMPRESS_GZIP)
                c->crc = (uint32_t)crc32_combine(c->crc, j->crc, (z_off_t)j->len);
        c->total += j->len;
        /* Workers read head and n_inflight (next_ready) under the lock. */
        if (c->n_workers > 0)
                pthread_mutex_lock(&c->lock);
        j->state = JOB_FILLING;
        c->head = (c->head + 1) % c->n_jobs;
        c->n_inflight--;
        if (c->n_workers > 0)
                pthread_mutex_unlock(&c->lock);
        return 0;
}

/* Hands the job being filled to the workers (or runs it here) and starts the next one. */
static int dispatch(struct compressor *c, bool last)
{
        struct job *j = c->cur;
        j->last = last;
        c->cur = NULL;
        if (!c->started && !last && c->threads > 1)
                workers_start(c);
        if (c->n_workers > 0) {
                pthread_mutex_lock(&c->lock);
                j->state = JOB_READY;
                c->n_inflight++;
                pthread_cond_signal(&c->work);
                pthread_mutex_unlock(&c->lock);
        } else {
                job_run(c, &c->inline_d, j);
                j->state = JOB_DONE;
                c->n_inflight++;
        }
        if (last)
                return 0;
        if (c->n_inflight == c->n_jobs) {
                int r = collect_one(c);
                if (r < 0)
                        return r;
        }
        struct job *next = &c->jobs[(c->head + c->n_inflight) % c->n_jobs];
        next->len = 0;
        next->dict_len = 0;
        if (c->alg == COMPRESS_GZIP) {
                /* The previous chunk's tail, as pigz does: the compression ratio of one stream,
                 * the parallelism of independent chunks. */
                next->dict_len = DICT_SIZE;
                memcpy(next->in, j->in + j->dict_len + j->len - DICT_SIZE, DICT_SIZE);
        }
        c->cur = next;
        return 0;
}

int compress_new(enum compress_alg alg, unsigned threads, compress_sink_fn sink_fn, void *userdata,
                 struct compressor **ret)
{
        _cleanup_(compress_freep) struct compressor *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->alg = alg;
        c->threads = threads < 1                      ? 1
                     : threads > COMPRESS_MAX_THREADS ? COMPRESS_MAX_THREADS
                                                      : threads;
        c->sink = sink_fn;
        c->userdata = userdata;
        c->crc = (uint32_t)crc32(0, NULL, 0);
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->work, NULL);
        pthread_cond_init(&c->done, NULL);
        /* Enough slots that every worker has one while the caller fills and collects. */
        c->n_jobs = 2 * (size_t)c->threads + 2;
        c->jobs = calloc(c->n_jobs, sizeof(*c->jobs));
        if (!c->jobs)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_jobs; i++) {
                c->jobs[i].in = malloc(DICT_SIZE + COMPRESS_CHUNK);
                if (!c->jobs[i].in)
                        return -ENOMEM;
        }
        if (alg == COMPRESS_ZSTD) {
                c->zstd = ZSTD_createCCtx();
                if (!c->zstd || ZSTD_isError(ZSTD_CCtx_setParameter(
                                        c->zstd, ZSTD_c_compressionLevel, COMPRESS_ZSTD_LEVEL)))
                        return -ENOMEM;
        }
        c->cur = &c->jobs[0];
        *ret = steal_pointer(&c);
        return 0;
}

int compress_write(struct compressor *c, const void *buf, size_t len)
{
        if (!c->cur && c->error == 0)
                return -EINVAL; /* after compress_finish */
        const uint8_t *p = buf;
        while (len > 0) {
                if (c->error < 0)
                        return c->error;
                struct job *j = c->cur;
                size_t n = COMPRESS_CHUNK - j->len;
                if (n > len)
                        n = len;
                memcpy(j->in + j->dict_len + j->len, p, n);
                j->len += n;
                p += n;
                len -= n;
                if (j->len == COMPRESS_CHUNK) {
                        int r = dispatch(c, false);
                        if (r < 0)
                                return r;
                }
        }
        return c->error;
}

int compress_finish(struct compressor *c)
{
        if (c->error < 0)
                return c->error;
        if (!c->cur)
                return -EINVAL; /* finished already */
        int r;
        /* zstd always ends its frame; gzip's trailer needs no chunk of its own. */
        if (c->cur->len > 0 || c->alg == COMPRESS_ZSTD) {
                r = dispatch(c, true);
                if (r < 0)
                        return r;
        }
        c->cur = NULL;
        while (c->n_inflight > 0) {
                r = collect_one(c);
                if (r < 0)
                        return r;
        }
        if (c->alg == COMPRESS_ZSTD)
                return 0;
        r = send_header(c);
        if (r < 0)
                return r;
        /* A final empty fixed-Huffman block (BFINAL=1, BTYPE=01, end-of-block), then CRC-32
         * and ISIZE (the length modulo 2^32), little-endian. */
        uint8_t trailer[10] = { 0x03, 0x00 };
        for (int i = 0; i < 4; i++) {
                trailer[2 + i] = (uint8_t)(c->crc >> (8 * i));
                trailer[6 + i] = (uint8_t)(c->total >> (8 * i));
        }
        return sink(c, trailer, sizeof(trailer));
}

void compress_free(struct compressor *c)
{
        if (!c)
                return;
        workers_stop(c);
        if (c->inline_d.ready)
                deflateEnd(&c->inline_d.z);
        for (size_t i = 0; c->jobs && i < c->n_jobs; i++) {
                free(c->jobs[i].in);
                free(c->jobs[i].out);
        }
        free(c->jobs);
        ZSTD_freeCCtx(c->zstd);
        pthread_cond_destroy(&c->done);
        pthread_cond_destroy(&c->work);
        pthread_mutex_destroy(&c->lock);
        free(c);
}
