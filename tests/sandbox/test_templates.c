/*
 * test_templates.c - every starter template finishes every shipped
 * generator's stages: each template alone on each generator for SEEDS seeds,
 * finished (not DNF), with no bot error, timeout or late reply.
 *
 *   test_templates TEMPLATES_DIR SCRIPTS_DIR [SEEDS]
 *
 * Races run through the race runner as the server runs them: one zygote for
 * all, several matches at once, each stepped whenever its bot has replied,
 * the host waiting in one poll over every match's bot sockets.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot_link.h"
#include "match/match.h"
#include "util/file.h"

#ifndef CR_BOTD_PATH
#define CR_BOTD_PATH "coderally-botd"
#endif

#define MAX_TEMPLATES 16
#define AT_ONCE 8

typedef struct {
    char name[64];
    char *source;
    size_t len;
} Template;

typedef struct {
    Match *m;
    int job;
    CarEntry car;
    MatchBot bot;
} Slot;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const Template *)a)->name, ((const Template *)b)->name);
}

static int load_templates(const char *dir, Template *t, int *n) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("FAIL %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    *n = 0;
    while ((e = readdir(d)) && *n < MAX_TEMPLATES) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".py") || l >= sizeof t->name) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CrError err;
        Template *tp = &t[*n];
        memcpy(tp->name, e->d_name, l + 1); /* l < sizeof tp->name */
        if (file_read(path, 1 << 16, &tp->source, &tp->len, &err)) {
            printf("FAIL %s\n", err.msg);
            closedir(d);
            return -1;
        }
        (*n)++;
    }
    closedir(d);
    qsort(t, (size_t)*n, sizeof *t, cmp_names);
    return *n ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_templates TEMPLATES_DIR SCRIPTS_DIR [SEEDS]\n");
        return 2;
    }
    int seeds = argc > 3 ? atoi(argv[3]) : 50;
    Template tpl[MAX_TEMPLATES];
    int n_tpl;
    if (seeds < 1 || load_templates(argv[1], tpl, &n_tpl)) return 1;
    CrError err;
    Scripts *sc;
    if (scripts_open(argv[2], NULL, 0, &sc, &err)) {
        printf("FAIL scripts: %s\n", err.msg);
        return 1;
    }
    BotHost *host;
    if (bot_host_start(CR_BOTD_PATH, &host, &err)) {
        printf("FAIL zygote: %s\n", err.msg);
        return 1;
    }
    int n_gen = (int)scripts_generator_count(sc);
    int jobs = n_tpl * n_gen * seeds, next = 0, done = 0, failed = 0;
    int ok_per[MAX_TEMPLATES][8] = {{0}};
    Slot slot[AT_ONCE];
    memset(slot, 0, sizeof slot);
    int64_t t0 = now_ns();
    while (done < jobs) {
        /* Fill free slots with the next races. */
        for (int s = 0; s < AT_ONCE && next < jobs; s++) {
            if (slot[s].m) continue;
            int j = next++;
            int t = j / (n_gen * seeds), g = j / seeds % n_gen, seed = j % seeds + 1;
            Slot *sl = &slot[s];
            sl->job = j;
            memset(&sl->car, 0, sizeof sl->car);
            sl->car.kind = CAR_BOT;
            snprintf(sl->car.name, sizeof sl->car.name, "%.20s", tpl[t].name);
            snprintf(sl->car.car_type, sizeof sl->car.car_type, "hatch");
            if (scripts_car_stats(sc, "hatch", NULL, 0, &sl->car.stats, &err)) break;
            sl->bot = (MatchBot){tpl[t].name, tpl[t].source, tpl[t].len, NULL};
            MatchConfig cfg = {.scripts = sc,
                               .generator = scripts_generator(sc, (size_t)g)->name,
                               .seed = (uint64_t)seed,
                               .cars = &sl->car,
                               .n_cars = 1,
                               .bots = &sl->bot,
                               .bot_host = host,
                               /* What is tested is the template, not how
                                * fast a loaded CI machine schedules eight
                                * workers: no wall-clock kill short of 10 s
                                * (the CPU budget still holds). */
                               .bot_hard_deadline_ms = 10000};
            if (match_create(&cfg, &sl->m, &err)) {
                printf("FAIL %s on %s seed %d: %s\n", tpl[t].name, cfg.generator, seed, err.msg);
                failed++;
                done++;
                sl->m = NULL;
            }
        }
        /* Step every match as far as its bot allows; then wait for any. */
        struct pollfd fds[AT_ONCE * MATCH_MAX_FDS + 64];
        int nfds = 0;
        int64_t wake = INT64_MAX;
        for (int s = 0; s < AT_ONCE; s++) {
            Slot *sl = &slot[s];
            if (!sl->m) continue;
            for (int k = 0; k < 256 && match_can_step(sl->m); k++) {
                MatchPhase p = match_phase(sl->m);
                if (p == MATCH_DONE || p == MATCH_ABORTED) break;
                if (match_step(sl->m, now_ns(), &err)) break;
            }
            MatchPhase p = match_phase(sl->m);
            if (p == MATCH_DONE || p == MATCH_ABORTED) {
                int t = sl->job / (n_gen * seeds), g = sl->job / seeds % n_gen;
                int seed = sl->job % seeds + 1;
                RaceResult res;
                int pts;
                MatchBotStats st = {0};
                match_bot_stats(sl->m, 0, &st);
                bool fin = match_results(sl->m, &res, &pts) == CR_OK && res.finished;
                if (!fin || st.errors || st.timeouts || st.late || st.restarts) {
                    printf(
                        "FAIL %s on %s seed %d: %s, %d checkpoints, %ld errors, %ld "
                        "timeouts, %ld late, %ld restarts\n",
                        tpl[t].name, scripts_generator(sc, (size_t)g)->name, seed,
                        p == MATCH_ABORTED ? match_error(sl->m)
                        : fin              ? "finished"
                                           : "did not finish",
                        res.checkpoints, st.errors, st.timeouts, st.late, st.restarts);
                    size_t len;
                    const char *log = match_bot_log(sl->m, 0, &len);
                    /* The host's notes say what went wrong. */
                    for (const char *l = log, *end = log + len; l && l < end;) {
                        const char *nl = memchr(l, '\n', (size_t)(end - l));
                        int ll = (int)((nl ? nl : end) - l);
                        if (memmem(l, (size_t)ll, "[tick", 5)) printf("     %.*s\n", ll, l);
                        l = nl ? nl + 1 : end;
                    }
                    failed++;
                } else if (g < 8) {
                    ok_per[t][g]++;
                }
                match_destroy(sl->m);
                sl->m = NULL;
                done++;
                continue;
            }
            int64_t w;
            nfds += match_fds(sl->m, fds + nfds, MATCH_MAX_FDS, &w);
            if (w < wake) wake = w;
        }
        /* The shared zygote (and every link it serves) is ours to poll. */
        int64_t hw;
        nfds +=
            (int)bot_host_pollfds(host, fds + nfds, sizeof fds / sizeof *fds - (size_t)nfds, &hw);
        if (hw < wake) wake = hw;
        if (nfds) {
            int64_t left = wake == INT64_MAX ? 1000 : (wake - now_ns()) / 1000000 + 1;
            if (poll(fds, (nfds_t)nfds,
                     (int)(left < 0      ? 0
                           : left > 1000 ? 1000
                                         : left)) < 0 &&
                errno != EINTR)
                break;
        }
        bot_host_pump(host);
        for (int s = 0; s < AT_ONCE; s++)
            if (slot[s].m) match_pump(slot[s].m, now_ns());
    }
    for (int s = 0; s < AT_ONCE; s++) match_destroy(slot[s].m);
    for (int t = 0; t < n_tpl; t++)
        for (int g = 0; g < n_gen && g < 8; g++)
            printf("%s template %s finishes %s: %d/%d seeds\n",
                   ok_per[t][g] == seeds ? "ok  " : "FAIL", tpl[t].name,
                   scripts_generator(sc, (size_t)g)->name, ok_per[t][g], seeds);
    printf("%d races in %.1f s, %d failed\n", jobs, (now_ns() - t0) / 1e9, failed);
    bot_host_stop(host);
    scripts_close(sc);
    for (int t = 0; t < n_tpl; t++) free(tpl[t].source);
    return failed || done < jobs ? 1 : 0;
}
