/* replay.c - writing and reading replay files (format in replay.h). */
#include "sim/replay.h"

#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Above any count car_stats_validate accepts, far inside int. */
#define REPLAY_MAX_COUNT_STAT 1e6

static const char MAGIC[8] = {'C', 'R', 'R', 'E', 'P', 'L', 'A', 'Y'};

struct ReplayWriter {
    FILE *f;
    char *path, *tmp;
    PackedInput last[CR_MAX_CARS];
    bool have[CR_MAX_CARS];
};

static void put_u8(FILE *f, uint8_t v) {
    fputc(v, f);
}
static void put_u16(FILE *f, uint16_t v) {
    put_u8(f, (uint8_t)v);
    put_u8(f, (uint8_t)(v >> 8));
}
static void put_u32(FILE *f, uint32_t v) {
    put_u16(f, (uint16_t)v);
    put_u16(f, (uint16_t)(v >> 16));
}
static void put_u64(FILE *f, uint64_t v) {
    put_u32(f, (uint32_t)v);
    put_u32(f, (uint32_t)(v >> 32));
}
static void put_f64(FILE *f, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(f, v);
}
static void put_str(FILE *f, const char *s) {
    size_t n = strlen(s);
    if (n > 255) n = 255;
    put_u16(f, (uint16_t)n);
    fwrite(s, 1, n, f);
}

static void stats_to_array(const CarStats *s, double v[8]) {
    v[0] = s->top_speed, v[1] = s->acceleration, v[2] = s->grip, v[3] = s->braking;
    v[4] = s->nitro_capacity, v[5] = s->nitro_duration, v[6] = s->handling, v[7] = s->weight;
}

int replay_writer_open(const char *path, const ReplayHeader *h, ReplayWriter **out, CrError *err) {
    *out = NULL;
    ReplayWriter *w = calloc(1, sizeof *w);
    if (!w) return CR_ENOMEM;
    size_t n = strlen(path);
    w->path = strdup(path);
    w->tmp = malloc(n + 5);
    if (!w->path || !w->tmp) {
        free(w->path);
        free(w->tmp);
        free(w);
        return CR_ENOMEM;
    }
    memcpy(w->tmp, path, n);
    memcpy(w->tmp + n, ".tmp", 5);
    /* Never through a symlink at the temporary's name (fopen would follow
     * one and truncate whatever it points at); the rename onto path
     * replaces a link there rather than writing through it. */
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!w->f) {
        int e = errno;
        if (fd >= 0) close(fd);
        snprintf(err->msg, sizeof err->msg, "%s: %s", w->tmp, strerror(e));
        free(w->path);
        free(w->tmp);
        free(w);
        return CR_EIO;
    }
    FILE *f = w->f;
    fwrite(MAGIC, 1, 8, f);
    put_u32(f, REPLAY_FORMAT);
    put_str(f, h->generator);
    put_str(f, h->generator_version);
    put_u64(f, h->seed);
    put_u16(f, (uint16_t)h->n_params);
    for (int i = 0; i < h->n_params; i++) {
        put_str(f, h->param_key[i]);
        put_str(f, h->param_value[i]);
    }
    put_str(f, h->rules);
    put_u64(f, h->rules_hash);
    put_u64(f, h->stage_hash);
    put_u64(f, h->surfaces_hash);
    put_f64(f, h->stage_limits.min_length);
    put_f64(f, h->stage_limits.max_length);
    put_u8(f, (uint8_t)h->n_cars);
    for (int i = 0; i < h->n_cars; i++) {
        put_str(f, h->cars[i].name);
        put_str(f, h->cars[i].car_type);
        put_u8(f, (uint8_t)h->cars[i].kind);
        double v[8];
        stats_to_array(&h->cars[i].stats, v);
        for (int k = 0; k < 8; k++) put_f64(f, v[k]);
    }
    *out = w;
    return CR_OK;
}

int replay_writer_input(ReplayWriter *w, uint32_t tick, int car, PackedInput in) {
    if (car < 0 || car >= CR_MAX_CARS) return CR_EINVAL;
    if (w->have[car] && !memcmp(&w->last[car], &in, sizeof in)) return CR_OK;
    w->have[car] = true;
    w->last[car] = in;
    put_u8(w->f, 'I');
    put_u32(w->f, tick);
    put_u8(w->f, (uint8_t)car);
    put_u8(w->f, in.throttle);
    put_u8(w->f, in.brake);
    put_u8(w->f, (uint8_t)in.steer);
    put_u8(w->f, in.flags);
    return ferror(w->f) ? CR_EIO : CR_OK;
}

static void put_f32(FILE *f, float x) {
    uint32_t v;
    memcpy(&v, &x, 4);
    put_u32(f, v);
}

int replay_writer_drawings(ReplayWriter *w, uint32_t tick, int car, const ReplayDrawing *d, int n) {
    if (car < 0 || car >= CR_MAX_CARS || n < 0 || n > REPLAY_MAX_DRAWINGS) return CR_EINVAL;
    if (n == 0) return CR_OK;
    put_u8(w->f, 'D');
    put_u32(w->f, tick);
    put_u8(w->f, (uint8_t)car);
    put_u8(w->f, (uint8_t)n);
    for (int i = 0; i < n; i++) {
        put_u8(w->f, d[i].kind);
        put_u32(w->f, d[i].rgb);
        put_f32(w->f, d[i].a);
        put_f32(w->f, d[i].b);
        put_f32(w->f, d[i].c);
        put_f32(w->f, d[i].d);
        size_t len = strnlen(d[i].text, REPLAY_DRAW_TEXT_MAX);
        put_u8(w->f, (uint8_t)len);
        fwrite(d[i].text, 1, len, w->f);
    }
    return ferror(w->f) ? CR_EIO : CR_OK;
}

int replay_writer_hash(ReplayWriter *w, uint32_t tick, uint64_t hash) {
    put_u8(w->f, 'H');
    put_u32(w->f, tick);
    put_u64(w->f, hash);
    return ferror(w->f) ? CR_EIO : CR_OK;
}

int replay_writer_retire(ReplayWriter *w, uint32_t tick, int car) {
    if (car < 0 || car >= CR_MAX_CARS) return CR_EINVAL;
    put_u8(w->f, 'R');
    put_u32(w->f, tick);
    put_u8(w->f, (uint8_t)car);
    return ferror(w->f) ? CR_EIO : CR_OK;
}

static void writer_free(ReplayWriter *w) {
    free(w->path);
    free(w->tmp);
    free(w);
}

void replay_writer_abort(ReplayWriter *w) {
    if (!w) return;
    fclose(w->f);
    remove(w->tmp);
    writer_free(w);
}

int replay_writer_close(ReplayWriter *w, uint32_t tick, uint64_t hash, CrError *err) {
    put_u8(w->f, 'E');
    put_u32(w->f, tick);
    put_u64(w->f, hash);
    int bad = ferror(w->f);
    if (fclose(w->f) != 0) bad = 1;
    if (bad || rename(w->tmp, w->path) != 0) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot write the replay: %s", w->path,
                 strerror(errno));
        remove(w->tmp);
        writer_free(w);
        return CR_EIO;
    }
    writer_free(w);
    return CR_OK;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    const unsigned char *p;
    size_t n, off;
    bool bad;
} Reader;

static const unsigned char *take(Reader *r, size_t k) {
    if (r->bad || r->n - r->off < k) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p + r->off;
    r->off += k;
    return p;
}
static uint8_t get_u8(Reader *r) {
    const unsigned char *p = take(r, 1);
    return p ? p[0] : 0;
}
static uint16_t get_u16(Reader *r) {
    const unsigned char *p = take(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}
static uint32_t get_u32(Reader *r) {
    uint32_t lo = get_u16(r);
    return lo | (uint32_t)get_u16(r) << 16;
}
static uint64_t get_u64(Reader *r) {
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
static double get_f64(Reader *r) {
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}
/* Strings must fit out (with NUL) and hold no NUL. */
static void get_str(Reader *r, char *out, size_t cap) {
    uint16_t n = get_u16(r);
    const unsigned char *p = take(r, n);
    if (!p || n >= cap || memchr(p, 0, n)) {
        r->bad = true;
        out[0] = 0;
        return;
    }
    memcpy(out, p, n);
    out[n] = 0;
}

static int damaged(CrError *err, const char *path, size_t off, const char *what) {
    snprintf(err->msg, sizeof err->msg, "%s: not a valid replay (%s at byte %zu)", path, what, off);
    return CR_EFORMAT;
}

int replay_read(const char *path, Replay **out, CrError *err) {
    *out = NULL;
    char *text;
    size_t len;
    int rc = file_read(path, (size_t)1 << 30, &text, &len, err);
    if (rc) return rc;
    if (len > (size_t)1 << 30) {
        free(text);
        snprintf(err->msg, sizeof err->msg, "%s: larger than 1 GiB", path);
        return CR_EFORMAT;
    }
    rc = replay_parse(text, len, path, out, err);
    free(text);
    return rc;
}

int replay_parse(const void *data, size_t len, const char *path, Replay **out, CrError *err) {
    *out = NULL;
    int rc = CR_OK;
    const unsigned char *buf = data;
    Replay *rp = calloc(1, sizeof *rp);
    if (!rp) return CR_ENOMEM;
    Reader r = {buf, len, 0, false};
    ReplayHeader *h = &rp->header;
    const unsigned char *m = take(&r, 8);
    if (!m || memcmp(m, MAGIC, 8)) {
        rc = damaged(err, path, 0, "no CRREPLAY magic");
        goto out;
    }
    uint32_t fmt = get_u32(&r);
    if (fmt < 1 || fmt > REPLAY_FORMAT) {
        snprintf(err->msg, sizeof err->msg, "%s: replay format %u; this coderally reads 1 to %d",
                 path, fmt, REPLAY_FORMAT);
        rc = CR_EFORMAT;
        goto out;
    }
    get_str(&r, h->generator, sizeof h->generator);
    get_str(&r, h->generator_version, sizeof h->generator_version);
    h->seed = get_u64(&r);
    h->n_params = get_u16(&r);
    if (h->n_params > REPLAY_MAX_PARAMS) {
        rc = damaged(err, path, r.off, "too many parameters");
        goto out;
    }
    for (int i = 0; i < h->n_params; i++) {
        get_str(&r, h->param_key[i], sizeof h->param_key[i]);
        get_str(&r, h->param_value[i], sizeof h->param_value[i]);
    }
    get_str(&r, h->rules, sizeof h->rules);
    h->rules_hash = get_u64(&r);
    h->stage_hash = get_u64(&r);
    h->surfaces_hash = fmt >= 2 ? get_u64(&r) : surface_table_default()->hash;
    if (fmt >= 3) {
        h->stage_limits.min_length = get_f64(&r);
        h->stage_limits.max_length = get_f64(&r);
        /* Recorded limits are a range the settings allow (config.c). */
        const StageLimits *l = &h->stage_limits;
        if (!r.bad && !(l->min_length == 0 && l->max_length == 0) &&
            !(l->min_length >= 1 && l->max_length >= l->min_length && l->max_length <= 1e6)) {
            rc = damaged(err, path, r.off, "bad stage limits");
            goto out;
        }
    }
    h->n_cars = get_u8(&r);
    if (r.bad || h->n_cars < 1 || h->n_cars > CR_MAX_CARS) {
        rc = damaged(err, path, r.off, "bad header");
        goto out;
    }
    for (int i = 0; i < h->n_cars; i++) {
        CarEntry *c = &h->cars[i];
        get_str(&r, c->name, sizeof c->name);
        get_str(&r, c->car_type, sizeof c->car_type);
        uint8_t kind = get_u8(&r);
        double v[8];
        for (int k = 0; k < 8; k++) v[k] = get_f64(&r);
        if (r.bad || kind > CAR_HUMAN) {
            rc = damaged(err, path, r.off, "bad car entry");
            goto out;
        }
        /* The two counts are stored as doubles: a whole number in range
         * before the cast, which is undefined for NaN or out-of-range. */
        for (int k = 4; k <= 5; k++) {
            if (!(v[k] >= 0 && v[k] <= REPLAY_MAX_COUNT_STAT) || v[k] != floor(v[k])) {
                rc = damaged(err, path, r.off, "car stats out of range");
                goto out;
            }
        }
        c->kind = (CarKind)kind;
        c->stats = (CarStats){v[0], v[1], v[2], v[3], (int)v[4], (int)v[5], v[6], v[7]};
        CrError e2;
        if (car_stats_validate(&c->stats, &e2)) {
            rc = damaged(err, path, r.off, "car stats out of range");
            goto out;
        }
    }
    /* Records: count first so the arrays are allocated once. */
    size_t ni = 0, nh = 0, nr = 0, nd = 0, ndraw = 0, start = r.off;
    bool ended = false;
    while (!ended && !r.bad) {
        uint8_t t = get_u8(&r);
        if (t == 'I') {
            take(&r, 9), ni++;
        } else if (t == 'H') {
            take(&r, 12), nh++;
        } else if (t == 'R') {
            take(&r, 5), nr++;
        } else if (t == 'E') {
            take(&r, 12), ended = true;
        } else if (t == 'D') {
            take(&r, 5);
            uint8_t n = get_u8(&r);
            for (int i = 0; i < n && !r.bad; i++) {
                take(&r, 21);
                take(&r, get_u8(&r));
            }
            nd++, ndraw += n;
        } else {
            r.bad = true;
        }
    }
    if (r.bad || !ended) {
        rc = damaged(err, path, r.off, ended ? "truncated record" : "no end record");
        goto out;
    }
    if (r.off != len) {
        rc = damaged(err, path, r.off, "data after the end record");
        goto out;
    }
    rp->inputs = malloc((ni ? ni : 1) * sizeof *rp->inputs);
    rp->hashes = malloc((nh ? nh : 1) * sizeof *rp->hashes);
    rp->retires = malloc((nr ? nr : 1) * sizeof *rp->retires);
    rp->draw_sets = malloc((nd ? nd : 1) * sizeof *rp->draw_sets);
    rp->drawings = malloc((ndraw ? ndraw : 1) * sizeof *rp->drawings);
    if (!rp->inputs || !rp->hashes || !rp->retires || !rp->draw_sets || !rp->drawings) {
        rc = CR_ENOMEM;
        goto out;
    }
    r.off = start;
    uint32_t last_tick = 0;
    for (;;) {
        size_t at = r.off;
        uint8_t t = get_u8(&r);
        uint32_t tick = get_u32(&r);
        if (tick < last_tick) {
            rc = damaged(err, path, at, "records out of tick order");
            goto out;
        }
        last_tick = tick;
        if (t == 'I') {
            ReplayInput *in = &rp->inputs[rp->n_inputs++];
            in->tick = tick;
            in->car = get_u8(&r);
            in->input.throttle = get_u8(&r);
            in->input.brake = get_u8(&r);
            in->input.steer = (int8_t)get_u8(&r);
            in->input.flags = get_u8(&r);
            if (in->car >= h->n_cars || in->input.flags > 3) {
                rc = damaged(err, path, at, "bad input record");
                goto out;
            }
        } else if (t == 'H') {
            rp->hashes[rp->n_hashes].tick = tick;
            rp->hashes[rp->n_hashes++].hash = get_u64(&r);
        } else if (t == 'R') {
            ReplayRetire *re = &rp->retires[rp->n_retires++];
            re->tick = tick;
            re->car = get_u8(&r);
            if (re->car >= h->n_cars) {
                rc = damaged(err, path, at, "bad retire record");
                goto out;
            }
        } else if (t == 'D') {
            ReplayDrawSet *ds = &rp->draw_sets[rp->n_draw_sets++];
            ds->tick = tick;
            ds->car = get_u8(&r);
            ds->n = get_u8(&r);
            ds->first = rp->n_drawings;
            if (ds->car >= h->n_cars || ds->n > REPLAY_MAX_DRAWINGS) {
                rc = damaged(err, path, at, "bad drawing record");
                goto out;
            }
            for (int i = 0; i < ds->n; i++) {
                ReplayDrawing *d = &rp->drawings[rp->n_drawings++];
                d->kind = get_u8(&r);
                d->rgb = get_u32(&r);
                float *f[4] = {&d->a, &d->b, &d->c, &d->d};
                for (int k = 0; k < 4; k++) {
                    uint32_t v = get_u32(&r);
                    memcpy(f[k], &v, 4);
                }
                uint8_t tlen = get_u8(&r);
                const unsigned char *txt = take(&r, tlen);
                if (!txt || d->kind > 2 || d->rgb > 0xffffff || tlen > REPLAY_DRAW_TEXT_MAX ||
                    memchr(txt, 0, tlen)) {
                    rc = damaged(err, path, at, "bad drawing");
                    goto out;
                }
                memcpy(d->text, txt, tlen);
                d->text[tlen] = 0;
            }
        } else {
            rp->final_tick = tick;
            rp->final_hash = get_u64(&r);
            break;
        }
    }
    *out = rp;
    rp = NULL;
out:
    replay_free(rp);
    return rc;
}

void replay_free(Replay *r) {
    if (!r) return;
    free(r->inputs);
    free(r->hashes);
    free(r->retires);
    free(r->draw_sets);
    free(r->drawings);
    free(r);
}
