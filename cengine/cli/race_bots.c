/* race_bots.c - placeholder until the sandbox (issue 3) lands: every entry
 * point refuses clearly. Replaced by the real implementation. */
#include "race_bots.h"

#include <stdio.h>

int race_bots_start(const RaceBotsConfig *cfg, const char *const *files, const int *cars, int n,
                    uint64_t seed, RaceBots **out, CrError *err) {
    (void)cfg, (void)files, (void)cars, (void)n, (void)seed;
    *out = NULL;
    snprintf(err->msg, sizeof err->msg, "Python bots are not built into this coderally yet");
    return CR_ENOTFOUND;
}
int race_bots_tick(RaceBots *rb, const RaceRoom *room, CarInput *inputs, CrError *err) {
    (void)rb, (void)room, (void)inputs, (void)err;
    return CR_EINVAL;
}
void race_bots_events(RaceBots *rb, const RaceEvent *events, size_t n) {
    (void)rb, (void)events, (void)n;
}
int race_bots_finish(RaceBots *rb, const RaceRoom *room, CrError *err) {
    (void)rb, (void)room, (void)err;
    return CR_EINVAL;
}
int race_bots_count(const RaceBots *rb) {
    (void)rb;
    return 0;
}
void race_bots_stats(const RaceBots *rb, int i, BotStats *out) {
    (void)rb, (void)i;
    *out = (BotStats){0};
}
const char *race_bots_memory(const RaceBots *rb, int i) {
    (void)rb, (void)i;
    return NULL;
}
int race_bots_write_logs(const RaceBots *rb, const RaceRoom *room, const char *dir, CrError *err) {
    (void)rb, (void)room, (void)dir, (void)err;
    return CR_EINVAL;
}
void race_bots_destroy(RaceBots *rb) {
    (void)rb;
}
