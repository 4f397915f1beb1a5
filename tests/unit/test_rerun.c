/* test_rerun.c - match/rerun.c: verification of the golden replay, the
 * export's byte cap, and the STAGE_* settings a replay records being the
 * ones its stage is re-generated under. */
#include <stdio.h>
#include <stdlib.h>

#include "match/rerun.h"
#include "test.h"

static Scripts *open_scripts(void) {
    const char *dir = getenv("CR_SCRIPTS");
    Scripts *sc = NULL;
    CrError err = {{0}};
    if (scripts_open(dir ? dir : "scripts", NULL, 0, &sc, &err)) {
        fprintf(stderr, "scripts: %s\n", err.msg);
        return NULL;
    }
    return sc;
}

static Replay *golden(void) {
    const char *dir = getenv("CR_SCRIPTS");
    char path[600];
    snprintf(path, sizeof path, "%s/../tests/golden/race.replay", dir ? dir : "scripts");
    Replay *r = NULL;
    CrError err = {{0}};
    if (replay_read(path, &r, &err)) fprintf(stderr, "%s\n", err.msg);
    return r;
}

TEST(the_golden_replay_verifies_and_exports_within_a_cap_only) {
    Scripts *sc = open_scripts();
    Replay *r = golden();
    ASSERT_TRUE(sc && r);
    CrError err = {{0}};
    RerunReport rep;
    RerunOptions verify = {0};
    ASSERT_EQ_INT(rerun_replay(sc, r, &verify, &rep, &err), CR_OK);
    ASSERT_EQ_INT((int)rep.hashes_checked, (int)r->n_hashes);
    ASSERT_EQ_INT((int)rep.final_tick, (int)r->final_tick);
    ASSERT_TRUE(!rep.stage_settings); /* format 1: none recorded */
    /* The whole export, then the same with a cap below its size. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    RerunOptions all = {.every = 60, .out = f};
    ASSERT_EQ_INT(rerun_replay(sc, r, &all, &rep, &err), CR_OK);
    fclose(f);
    ASSERT_TRUE(len > 1000 && rep.bytes == len);
    ASSERT_EQ_INT(buf[len - 1], '\n');
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    RerunOptions capped = {.every = 60, .out = f, .max_bytes = 1000};
    ASSERT_EQ_INT(rerun_replay(sc, r, &capped, &rep, &err), CR_EINVAL);
    ASSERT_CONTAINS(err.msg, "larger than 1000 bytes");
    fclose(f);
    ASSERT_TRUE(len > 1000 && len < 4000); /* stopped at the first line past it */
    free(buf);
    replay_free(r);
    scripts_close(sc);
}

/* A replay that says it was made under STAGE_MAX_LENGTH=1500 is re-run
 * under it: the golden race's stage (made under the default 3000) is then
 * not the one generated, which the rerun reports. The unchanged replay
 * still verifies with the same scripts, so the recorded setting did it. */
TEST(recorded_stage_settings_are_the_ones_applied) {
    Scripts *sc = open_scripts();
    Replay *r = golden();
    ASSERT_TRUE(sc && r);
    StageLimits now = scripts_stage_limits(sc);
    r->header.stage_limits = (StageLimits){now.min_length, 1500};
    CrError err = {{0}};
    RerunReport rep;
    RerunOptions verify = {0};
    ASSERT_EQ_INT(rerun_replay(sc, r, &verify, &rep, &err), CR_ESTAGE);
    ASSERT_TRUE(rep.stage_settings);
    ASSERT_CONTAINS(err.msg, "stage differs");
    /* Settings equal to the scripts' own: nothing reopened, it verifies. */
    r->header.stage_limits = now;
    ASSERT_EQ_INT(rerun_replay(sc, r, &verify, &rep, &err), CR_OK);
    ASSERT_TRUE(!rep.stage_settings);
    replay_free(r);
    scripts_close(sc);
}

TEST_MAIN
