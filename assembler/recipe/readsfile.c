/* SPDX-License-Identifier: Apache-2.0 */
#include "readsfile.h"

#include "base/digest.h"
#include "base/json.h"
#include "recipe.h"
#include "yamlread.h"

static const char regenerate_hint[] = " (record it again with 'cairn profile --write-reads')";

void readsfile_free(struct readsfile *rf)
{
        if (!rf)
                return;
        free(rf->recipe);
        free(rf->variant);
        free(rf->packages);
        strv_free(rf->reads);
        free(rf);
}

static int path_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int readsfile_normalize(struct readsfile *rf)
{
        if (!rf->reads)
                return 0;
        qsort(rf->reads, rf->n_reads, sizeof(char *), path_cmp);
        size_t k = 0;
        for (size_t i = 0; i < rf->n_reads; i++) {
                if (k > 0 && streq(rf->reads[k - 1], rf->reads[i])) {
                        free(rf->reads[i]);
                        continue;
                }
                rf->reads[k++] = rf->reads[i];
        }
        rf->n_reads = k;
        rf->reads[k] = NULL;
        return 0;
}

bool readsfile_has(const struct readsfile *rf, const char *path)
{
        return rf && rf->reads &&
               bsearch(&path, rf->reads, rf->n_reads, sizeof(char *), path_cmp) != NULL;
}

int readsfile_parse(const char *name, const char *buf, size_t len, struct readsfile **ret,
                    struct cairn_error *err)
{
        static const char *const keys[] = { "reads-record", "recipe", "variant",
                                            "packages",     "reads",  NULL };
        _cleanup_ynode_ struct ynode *root = NULL;
        int r = ynode_load(name, buf, len, &root, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s: not a reads record%s", name, regenerate_hint);
        struct yread y = {
                .file = name, .err = err, .kind = YREAD_GENERATED, .hint = regenerate_hint
        };
        _cleanup_readsfile_ struct readsfile *rf = calloc(1, sizeof(*rf));
        if (!rf)
                return -ENOMEM;
        if (yread_map(&y, root, "the reads record", keys)) {
                for (const char *const *k = keys; *k && !yread_failed(&y); k++)
                        if (!ynode_map_get(root, *k))
                                yread_fail(&y, root->pos, "the reads record: missing '%s'", *k);
        }
        uint64_t version = 0;
        if (!yread_failed(&y) &&
            yread_uint(&y, ynode_map_get(root, "reads-record"), "reads-record", UINT32_MAX,
                       &version) &&
            version != READSFILE_VERSION)
                yread_fail(&y, ynode_map_get(root, "reads-record")->pos,
                           "reads-record: version %llu is not supported (this cairn reads %d)",
                           (unsigned long long)version, READSFILE_VERSION);
        if (!yread_failed(&y)) {
                rf->version = (unsigned)version;
                rf->recipe = yread_string(&y, ynode_map_get(root, "recipe"), "recipe");
                rf->variant = yread_string(&y, ynode_map_get(root, "variant"), "variant");
                rf->packages = yread_string(&y, ynode_map_get(root, "packages"), "packages");
                const struct ynode *l = ynode_map_get(root, "reads");
                rf->reads = yread_strv(&y, l, "reads", READSFILE_MAX_PATHS, yread_string);
                rf->n_reads = strv_length(rf->reads);
                for (size_t i = 0; !yread_failed(&y) && i < rf->n_reads; i++) {
                        if (!path_is_normalized(rf->reads[i]))
                                yread_fail(&y, l->items[i]->pos,
                                           "reads: '%s' is not an absolute normalised path",
                                           rf->reads[i]);
                        else if (i > 0 && strcmp(rf->reads[i - 1], rf->reads[i]) >= 0)
                                yread_fail(&y, l->items[i]->pos,
                                           "reads: '%s' is out of order or repeated", rf->reads[i]);
                }
        }
        r = yread_result(&y);
        if (r < 0)
                return r;
        if (!rf->reads) {
                rf->reads = calloc(1, sizeof(char *));
                if (!rf->reads)
                        return -ENOMEM;
        }
        *ret = steal_pointer(&rf);
        return 0;
}

int readsfile_read(const char *path, struct readsfile **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, READSFILE_MAX_BYTES, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: larger than %d MiB; not a reads record cairn wrote",
                                       path, READSFILE_MAX_BYTES >> 20);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        return readsfile_parse(path, buf, len, ret, err);
}

void readsfile_print(const struct readsfile *rf, FILE *f)
{
        struct json j;
        json_init_pretty(&j, f);
        json_object_begin(&j);
        json_kv_uint(&j, "reads-record", rf->version ? rf->version : READSFILE_VERSION);
        json_kv_string(&j, "recipe", rf->recipe ? rf->recipe : "");
        json_kv_string(&j, "variant", rf->variant ? rf->variant : "");
        json_kv_string(&j, "packages", rf->packages ? rf->packages : "");
        json_key(&j, "reads");
        json_array_begin(&j);
        for (size_t i = 0; i < rf->n_reads; i++)
                json_string(&j, rf->reads[i]);
        json_array_end(&j);
        json_object_end(&j);
        fputc('\n', f);
}

int readsfile_write(struct readsfile *rf, const char *path, struct cairn_error *err)
{
        readsfile_normalize(rf);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        readsfile_print(rf, f);
        if (fclose(f) != 0)
                return -ENOMEM;
        int r = write_file_atomic(path, text, len, true);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot write the reads record: %s", path,
                                         strerror(-r));
        return 0;
}

int readsfile_packages_digest(const char *const *names, const char *const *versions,
                              const char *const *sha256s, size_t n, char out[72])
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s %s %s\n", names[i], versions[i], sha256s[i] ? sha256s[i] : "");
        if (fclose(f) != 0)
                return -ENOMEM;
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, text ? text : "", len, hex);
        snprintf(out, 72, "sha256:%s", hex);
        return 0;
}
