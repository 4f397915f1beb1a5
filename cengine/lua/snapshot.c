/*
 * snapshot.c - every script a Scripts may use, read into memory once:
 * config.lua, upgrades.lua, rules/, stages/ and lib/. Races, generation,
 * import and hashes use these texts only, so an edit in progress on disk
 * never reaches a race; a reload is a new snapshot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/scripts_internal.h"
#include "util/file.h"
#include "util/hash.h"

#define fail scripts_fail
#define FILE_MAX (8u << 20)   /* one script */
#define TOTAL_MAX (64u << 20) /* the whole snapshot */
#define SNAPSHOT_TRIES 5      /* reads that saw the folder change under them */
#define LISTING_FOLDERS "rules", "stages", "lib"

typedef struct {
    char *buf;
    size_t len, cap;
} Text;

static int text_add(Text *t, const char *rel, const struct stat *st) {
    char line[700];
    int w = snprintf(line, sizeof line, "%s\t%lld\t%lld.%09ld\n", rel, (long long)st->st_size,
                     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    if (w < 0 || (size_t)w >= sizeof line) return CR_EINVAL;
    if (t->len + (size_t)w + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        while (cap < t->len + (size_t)w + 1) cap *= 2;
        char *n = realloc(t->buf, cap);
        if (!n) return CR_ENOMEM;
        t->buf = n;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, line, (size_t)w + 1);
    t->len += (size_t)w;
    return CR_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.lua names in dir/sub, sorted; a missing folder is empty. */
static int list_folder(const char *dir, const char *sub, char ***names, size_t *n, CrError *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    *names = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? CR_OK : fail(err, CR_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 0;
    int rc = CR_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".lua") != 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn) {
                rc = CR_ENOMEM;
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            rc = CR_ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(*names, *n, sizeof **names, cmp_name);
    return rc;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Calls fn for every file a snapshot of dir holds, in a fixed order. */
static int each_file(const char *dir, int (*fn)(void *ud, const char *rel), void *ud,
                     CrError *err) {
    static const char *const top[] = {"config.lua", "surfaces.lua", "upgrades.lua"};
    static const char *const subs[] = {LISTING_FOLDERS};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        int rc = fn(ud, top[i]);
        if (rc) return rc;
    }
    for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
        char **names;
        size_t n;
        int rc = list_folder(dir, subs[s], &names, &n, err);
        for (size_t i = 0; !rc && i < n; i++) {
            char rel[600];
            snprintf(rel, sizeof rel, "%s/%s", subs[s], names[i]);
            rc = fn(ud, rel);
        }
        free_names(names, n);
        if (rc) return rc;
    }
    return CR_OK;
}

typedef struct {
    const char *dir;
    Text text;
} ListCtx;

static int list_one(void *ud, const char *rel) {
    ListCtx *c = ud;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", c->dir, rel);
    struct stat st;
    if (stat(path, &st) != 0) memset(&st, 0, sizeof st); /* "missing" is a state too */
    return text_add(&c->text, rel, &st);
}

int snapshot_listing(const char *dir, char **out, CrError *err) {
    ListCtx c = {dir, {0}};
    int rc = each_file(dir, list_one, &c, err);
    if (!rc && !c.text.buf && !(c.text.buf = calloc(1, 1))) rc = CR_ENOMEM;
    if (rc) {
        free(c.text.buf);
        return rc;
    }
    *out = c.text.buf;
    return CR_OK;
}

typedef struct {
    Scripts *sc;
    size_t cap, total;
    CrError *err;
} ReadCtx;

static int read_one(void *ud, const char *rel) {
    ReadCtx *c = ud;
    Scripts *sc = c->sc;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", sc->dir, rel);
    ScriptFile f = {0};
    struct stat st;
    if (stat(path, &st) != 0) {
        /* config.lua and upgrades.lua are required; their loaders say so. */
        return CR_OK;
    }
    int rc = file_read(path, FILE_MAX, &f.text, &f.len, c->err);
    if (rc == CR_ENOTFOUND) return CR_OK; /* removed since the listing: a retry sees it */
    if (rc) return rc;
    if (f.len > FILE_MAX) {
        free(f.text);
        return fail(c->err, CR_EINVAL, "%s: larger than %u KiB", rel, FILE_MAX >> 10);
    }
    c->total += f.len;
    if (c->total > TOTAL_MAX) {
        free(f.text);
        return fail(c->err, CR_EINVAL, "%s: the scripts folder holds more than %u MiB of Lua",
                    sc->dir, TOTAL_MAX >> 20);
    }
    f.size = (int64_t)st.st_size;
    f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (!(f.rel = strdup(rel))) {
        free(f.text);
        return CR_ENOMEM;
    }
    if (sc->nfiles == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        ScriptFile *n = realloc(sc->files, c->cap * sizeof *n);
        if (!n) {
            free(f.rel);
            free(f.text);
            return CR_ENOMEM;
        }
        sc->files = n;
    }
    sc->files[sc->nfiles++] = f;
    return CR_OK;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const ScriptFile *)a)->rel, ((const ScriptFile *)b)->rel);
}

static void drop_files(Scripts *sc) {
    for (size_t i = 0; i < sc->nfiles; i++) {
        free(sc->files[i].rel);
        free(sc->files[i].text);
    }
    free(sc->files);
    sc->files = NULL;
    sc->nfiles = 0;
    free(sc->listing);
    sc->listing = NULL;
}

/* A folder being saved to while we read gives a listing before and after
 * that differ: read again, so the snapshot is one state of the folder. */
int snapshot_read(Scripts *sc, CrError *err) {
    for (int attempt = 0; attempt < SNAPSHOT_TRIES; attempt++) {
        drop_files(sc);
        char *before = NULL, *after = NULL;
        int rc = snapshot_listing(sc->dir, &before, err);
        ReadCtx c = {sc, 0, 0, err};
        if (!rc) rc = each_file(sc->dir, read_one, &c, err);
        if (!rc) rc = snapshot_listing(sc->dir, &after, err);
        if (rc) {
            free(before);
            free(after);
            return rc;
        }
        bool same = strcmp(before, after) == 0;
        free(after);
        sc->listing = before;
        if (sc->nfiles) qsort(sc->files, sc->nfiles, sizeof *sc->files, cmp_file);
        if (same) return CR_OK;
    }
    return fail(err, CR_EIO, "%s: the scripts kept changing while they were read", sc->dir);
}

void snapshot_free(Scripts *sc) {
    drop_files(sc);
}

const ScriptFile *snapshot_file(const Scripts *sc, const char *rel) {
    size_t lo = 0, hi = sc->nfiles;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(sc->files[mid].rel, rel);
        if (c == 0) return &sc->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int snapshot_run(const Scripts *sc, LuaHost *h, const char *rel, CrError *err) {
    const ScriptFile *f = snapshot_file(sc, rel);
    if (!f) return fail(err, CR_ENOTFOUND, "%s/%s: no such file", sc->dir, rel);
    char name[640];
    snprintf(name, sizeof name, "@%s", rel);
    return lhost_run_string(h, f->text, f->len, name, err);
}

bool scripts_changed(const Scripts *sc) {
    char *now = NULL;
    CrError err;
    if (snapshot_listing(sc->dir, &now, &err)) return true;
    bool changed = strcmp(now, sc->listing ? sc->listing : "") != 0;
    free(now);
    return changed;
}

uint64_t scripts_disk_fingerprint(const char *dir) {
    char *now = NULL;
    CrError err;
    if (snapshot_listing(dir, &now, &err)) return 0;
    uint64_t h = hash_bytes(HASH_SEED, now, strlen(now));
    free(now);
    return h;
}

uint64_t scripts_fingerprint(const Scripts *sc) {
    const char *l = sc->listing ? sc->listing : "";
    return hash_bytes(HASH_SEED, l, strlen(l));
}
