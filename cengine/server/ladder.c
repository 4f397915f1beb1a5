/* ladder.c - the background ladder (ladder.h). */
#include "ladder.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "match/match.h"
#include "store.h"

#define CANDIDATES 256
#define SLICE_NS (5 * 1000 * 1000L) /* run this long, then sleep our share off */
#define IDLE_S 3                    /* look for bots again this often */
#define LADDER_NICE 19

struct Ladder {
    LadderConfig cfg;
    Store *store;
    Scripts *scripts;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
    atomic_long done, aborted;
    int64_t slice_start;
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Sleeps ns unless stopped meanwhile. */
static void nap(Ladder *l, int64_t ns) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ns / 1000000000;
    until.tv_nsec += ns % 1000000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&l->mu);
    while (!atomic_load(&l->stop))
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&l->mu);
}

/* The duty cycle: after a slice of work, sleep so work / (work + sleep) is
 * the share. Wall time, not CPU time, so the bot processes' work in the
 * slice is inside the cap as well. */
static void yield_share(Ladder *l) {
    if (l->cfg.cpu_share >= 1) return;
    int64_t t = now_ns(), ran = t - l->slice_start;
    if (ran < SLICE_NS) return;
    nap(l, (int64_t)((double)ran * (1 - l->cfg.cpu_share) / l->cfg.cpu_share));
    l->slice_start = now_ns();
}

int ladder_create(const LadderConfig *cfg, Ladder **out, CrError *err) {
    *out = NULL;
    if (!(cfg->cpu_share > 0 && cfg->cpu_share <= 1)) {
        snprintf(err->msg, sizeof err->msg, "LADDER_CPU_SHARE must be in (0, 1], got %g",
                 cfg->cpu_share);
        return CR_EINVAL;
    }
    Ladder *l = calloc(1, sizeof *l);
    if (!l) return CR_ENOMEM;
    l->cfg = *cfg;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    int r = store_open(cfg->db_path, NULL, &l->store, err);
    if (!r) r = scripts_open(cfg->scripts_dir, cfg->sets, cfg->n_sets, &l->scripts, err);
    if (r) {
        ladder_destroy(l);
        return r;
    }
    *out = l;
    return 0;
}

void ladder_destroy(Ladder *l) {
    if (!l) return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        atomic_store(&l->stop, true);
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    store_close(l->store);
    scripts_close(l->scripts);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

long ladder_races_done(const Ladder *l) {
    return atomic_load(&l->done);
}

long ladder_races_aborted(const Ladder *l) {
    return atomic_load(&l->aborted);
}

/* The field: the least-raced version, then the ones rated closest to it
 * (by mu), up to LADDER_MAX_BOTS. Returns how many. */
static int pick_field(StoreLadderBot *c, size_t n, StoreLadderBot *field) {
    if (n < 2) return 0;
    field[0] = c[0];
    int k = 1;
    bool used[CANDIDATES] = {false};
    used[0] = true;
    while (k < LADDER_MAX_BOTS && (size_t)k < n) {
        size_t best = 0;
        double gap = INFINITY;
        for (size_t i = 1; i < n; i++)
            if (!used[i] && fabs(c[i].mu - c[0].mu) < gap) {
                gap = fabs(c[i].mu - c[0].mu);
                best = i;
            }
        used[best] = true;
        field[k++] = c[best];
    }
    return k;
}

/* A generator that loads, chosen by the seed. */
static const GeneratorInfo *pick_generator(Scripts *sc, uint64_t seed) {
    size_t n = scripts_generator_count(sc), ok = 0;
    for (size_t i = 0; i < n; i++)
        if (!scripts_generator_error(sc, i)) ok++;
    if (!ok) return NULL;
    size_t want = (size_t)(seed % ok);
    for (size_t i = 0; i < n; i++)
        if (!scripts_generator_error(sc, i) && want-- == 0) return scripts_generator(sc, i);
    return NULL;
}

static int read_file(const char *path, void **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return CR_EIO;
    int r = CR_EIO;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        rewind(f);
        void *b = sz > 0 ? malloc((size_t)sz) : NULL;
        if (b && fread(b, 1, (size_t)sz, f) == (size_t)sz) {
            *data = b;
            *len = (size_t)sz;
            r = 0;
        } else {
            free(b);
        }
    }
    fclose(f);
    return r;
}

/* Steps the match flat out within our share: waits for bots only as long
 * as they need, never on a clock. */
static int drive(Ladder *l, Match *m, CrError *err) {
    l->slice_start = now_ns();
    while (!atomic_load(&l->stop)) {
        MatchPhase p = match_phase(m);
        if (p == MATCH_DONE) return 0;
        if (p == MATCH_ABORTED) {
            snprintf(err->msg, sizeof err->msg, "%s", match_error(m) ? match_error(m) : "aborted");
            return CR_ESCRIPT;
        }
        if (match_can_step(m)) {
            int r = match_step(m, now_ns(), err);
            if (r) return r;
        } else {
            struct pollfd fds[MATCH_MAX_FDS];
            int64_t wake = INT64_MAX;
            int n = match_fds(m, fds, MATCH_MAX_FDS, &wake);
            int64_t t = now_ns();
            int ms = wake == INT64_MAX ? 50 : (wake <= t ? 0 : (int)((wake - t) / 1000000 + 1));
            if (ms > 50) ms = 50;
            poll(fds, (nfds_t)n, ms);
            match_pump(m, now_ns());
        }
        yield_share(l);
    }
    snprintf(err->msg, sizeof err->msg, "the ladder stopped");
    return CR_EIO;
}

int ladder_race(Ladder *l, bool *raced, CrError *err) {
    *raced = false;
    StoreLadderBot cands[CANDIDATES], field[LADDER_MAX_BOTS];
    StoreBot bots[LADDER_MAX_BOTS];
    char *memory[LADDER_MAX_BOTS] = {NULL};
    MatchBot mb[LADDER_MAX_BOTS];
    CarEntry cars[LADDER_MAX_BOTS];
    StoreRaceResult res[LADDER_MAX_BOTS];
    StoreBotMemory mem[LADDER_MAX_BOTS];
    RaceResult rr[CR_MAX_CARS];
    int pts[CR_MAX_CARS];
    Match *m = NULL;
    void *replay = NULL;
    size_t replay_len = 0, nc = 0;
    char path[] = "/tmp/coderally-ladder-XXXXXX";
    bool have_file = false, have_race = false;
    int nb = 0, r;
    StoreRace race = {0};
    memset(bots, 0, sizeof bots);

    /* A changed scripts folder is taken between races; a broken edit keeps
     * the last good one (the server reports it). */
    if (scripts_changed(l->scripts)) {
        Scripts *next = NULL;
        CrError ignore;
        if (!scripts_reload(l->scripts, &next, &ignore)) {
            scripts_close(l->scripts);
            l->scripts = next;
        }
    }
    if ((r = store_ladder_bots(l->store, cands, CANDIDATES, &nc, err))) goto out;
    if ((nb = pick_field(cands, nc, field)) < 2) goto out;
    for (int i = 0; i < nb; i++) {
        if ((r = store_bot_get(l->store, field[i].user_id, field[i].bot_id, field[i].version,
                               &bots[i], err)) ||
            (r = store_bot_state_get(l->store, field[i].bot_id, &memory[i], err)))
            goto out;
    }
    const char *car = "hatch";
    scripts_config_string(l->scripts, "DEFAULT_CAR", &car);
    for (int i = 0; i < nb; i++) {
        /* Equal cars: the ladder rates code, not garages. */
        memset(&cars[i], 0, sizeof cars[i]);
        snprintf(cars[i].name, sizeof cars[i].name, "%.*s", (int)sizeof cars[i].name - 1,
                 bots[i].name);
        snprintf(cars[i].car_type, sizeof cars[i].car_type, "%s", car);
        cars[i].kind = CAR_BOT;
        if ((r = scripts_car_stats(l->scripts, car, NULL, 0, &cars[i].stats, err))) goto out;
        mb[i] = (MatchBot){bots[i].name, bots[i].code, strlen(bots[i].code), memory[i]};
    }
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    seed &= (1ULL << 53) - 1; /* exact in JSON */
    const GeneratorInfo *gi = pick_generator(l->scripts, seed);
    if (!gi) {
        snprintf(err->msg, sizeof err->msg, "no stage generator loads");
        r = CR_ESCRIPT;
        goto out;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err->msg, sizeof err->msg, "cannot create a replay file: %s", strerror(errno));
        r = CR_EIO;
        goto out;
    }
    close(fd);
    have_file = true;

    uint8_t rnd[6];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(race.id, sizeof race.id, rnd, sizeof rnd);
    snprintf(race.generator, sizeof race.generator, "%s", gi->name);
    race.seed = seed;
    snprintf(race.params_json, sizeof race.params_json, "{}");
    const char *rules = "standard";
    scripts_config_string(l->scripts, "DEFAULT_RULES", &rules);
    snprintf(race.rules, sizeof race.rules, "%s", rules);
    race.ladder = true;
    race.max_cars = nb;
    if ((r = store_race_create(l->store, &race, err)) ||
        (r = store_race_start(l->store, race.id, time(NULL), err)))
        goto out;
    have_race = true;

    MatchConfig mc = {.scripts = l->scripts,
                      .generator = gi->name,
                      .seed = seed,
                      .rules = rules,
                      .cars = cars,
                      .n_cars = nb,
                      .bots = mb,
                      .botd_path = l->cfg.botd_path,
                      .retire_failed_bots = true,
                      .replay_path = path};
    if ((r = match_create(&mc, &m, err)) || (r = drive(l, m, err)) ||
        (r = match_results(m, rr, pts)))
        goto out;
    if ((r = read_file(path, &replay, &replay_len))) {
        snprintf(err->msg, sizeof err->msg, "cannot read back the replay %s", path);
        goto out;
    }
    int n_mem = 0;
    for (int i = 0; i < nb; i++) {
        const char *js = match_bot_memory(m, i);
        if (js) mem[n_mem++] = (StoreBotMemory){bots[i].id, js};
    }
    for (int i = 0; i < nb; i++) {
        const RaceResult *x = &rr[i];
        int c = x->car;
        res[i] = (StoreRaceResult){.user_id = bots[c].user_id,
                                   .bot_id = bots[c].id,
                                   .bot_version = bots[c].version,
                                   .position = x->position,
                                   .stage_time = x->time_s,
                                   .dnf = !x->finished,
                                   /* Ladder races earn no points: they are
                                    * not played, and would be farmable. */
                                   .points = 0};
        snprintf(res[i].driver, sizeof res[i].driver, "bot");
        if (!x->finished)
            snprintf(res[i].dnf_reason, sizeof res[i].dnf_reason, "%s", match_dnf_reason(m, x));
    }
    r = store_race_finish(l->store, race.id, time(NULL), res, (size_t)nb, mem, (size_t)n_mem,
                          replay, replay_len, err);
    if (!r) {
        have_race = false;
        *raced = true;
        atomic_fetch_add(&l->done, 1);
    }
out:
    if (have_race) {
        CrError ignore;
        store_race_abort(l->store, race.id, time(NULL), &ignore);
        atomic_fetch_add(&l->aborted, 1);
    }
    match_destroy(m);
    if (have_file) unlink(path);
    free(replay);
    for (int i = 0; i < LADDER_MAX_BOTS; i++) {
        free(bots[i].code);
        free(memory[i]);
    }
    return r;
}

static void *ladder_main(void *arg) {
    Ladder *l = arg;
    /* Nice 19, below the loop and the workers (at nice 10 the ladder moved
     * the rooms' tick p99 from 0.7 to 2 ms at 50 rooms; at 19 it does not).
     * Not SCHED_IDLE, which matched it but starved the ladder outright on a
     * busy machine. The zygote and bot processes started from this thread
     * inherit it. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LADDER_NICE);
    char last[sizeof((CrError *)0)->msg] = "";
    while (!atomic_load(&l->stop)) {
        bool raced = false;
        CrError err = {{0}};
        int r = ladder_race(l, &raced, &err);
        if (r && !atomic_load(&l->stop) && strcmp(last, err.msg)) {
            fprintf(stderr, "[ladder] race failed: %s\n", err.msg);
            snprintf(last, sizeof last, "%s", err.msg);
        }
        if (r || !raced) nap(l, (int64_t)IDLE_S * 1000000000);
    }
    return NULL;
}

int ladder_start(Ladder *l, CrError *err) {
    if (l->started) return 0;
    if (pthread_create(&l->thread, NULL, ladder_main, l)) {
        snprintf(err->msg, sizeof err->msg, "cannot start the ladder thread");
        return CR_ENOMEM;
    }
    l->started = true;
    return 0;
}
