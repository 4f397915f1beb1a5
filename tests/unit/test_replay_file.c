/* test_replay_file.c - replay files from a hostile source: every double that
 * becomes an integer is checked before the cast (the Debug build's
 * float-cast-overflow sanitizer would abort on an unchecked one); the
 * writer never writes through a symlink. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "sim/replay.h"
#include "test.h"

/* Writes a two-car replay whose nitro capacity is 9 (a double no other
 * header field holds) into path. */
static int write_replay(const char *path) {
    ReplayHeader h;
    memset(&h, 0, sizeof h);
    strcpy(h.generator, "forest");
    strcpy(h.generator_version, "1");
    strcpy(h.rules, "standard");
    h.surfaces_hash = 0x5eed5a4d0000abcdULL;
    h.n_cars = 2;
    for (int i = 0; i < 2; i++) {
        h.cars[i].stats = fixture_stats();
        h.cars[i].stats.nitro_capacity = 9;
        h.cars[i].kind = CAR_AI;
        snprintf(h.cars[i].name, sizeof h.cars[i].name, "c%d", i);
        strcpy(h.cars[i].car_type, "hatch");
    }
    ReplayWriter *w;
    CrError err;
    int rc = replay_writer_open(path, &h, &w, &err);
    if (rc) return rc;
    return replay_writer_close(w, 10, 0xabcd, &err);
}

/* Replaces every 8-byte 9.0 in the file by v; returns how many. */
static int patch_double(const char *path, double v) {
    FILE *f = fopen(path, "r+b");
    if (!f) return -1;
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    double nine = 9.0;
    int count = 0;
    for (size_t i = 0; i + 8 <= n; i++) {
        if (!memcmp(buf + i, &nine, 8)) {
            memcpy(buf + i, &v, 8);
            count++;
        }
    }
    rewind(f);
    fwrite(buf, 1, n, f);
    fclose(f);
    return count;
}

TEST(integer_stats_are_checked_before_the_cast) {
    char path[64];
    snprintf(path, sizeof path, "test_replay_file_%d.bin", (int)getpid());
    const double hostile[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, 3e9, -1, 2.5, 1e6 + 1};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        ASSERT_EQ_INT(write_replay(path), CR_OK);
        ASSERT_EQ_INT(patch_double(path, hostile[i]), 2);
        Replay *rp = NULL;
        CrError err = {{0}};
        ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_EFORMAT);
        ASSERT_CONTAINS(err.msg, "car stats out of range");
        ASSERT_TRUE(rp == NULL);
    }
    /* In range but refused by car_stats_validate (capacity above 10). */
    ASSERT_EQ_INT(write_replay(path), CR_OK);
    ASSERT_EQ_INT(patch_double(path, 11), 2);
    Replay *rp = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_EFORMAT);
    /* And the untouched file reads. */
    ASSERT_EQ_INT(write_replay(path), CR_OK);
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_OK);
    ASSERT_EQ_INT(rp->header.cars[1].stats.nitro_capacity, 9);
    replay_free(rp);
    remove(path);
}

TEST(the_surfaces_hash_is_recorded_and_format_1_reads_as_the_default) {
    char path[64];
    snprintf(path, sizeof path, "test_replay_file_s_%d.bin", (int)getpid());
    ASSERT_EQ_INT(write_replay(path), CR_OK);
    Replay *rp = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_OK);
    ASSERT_EQ_U64(rp->header.surfaces_hash, 0x5eed5a4d0000abcdULL);
    replay_free(rp);
    remove(path);
    /* The golden replay was recorded in format 1, before surface tables:
     * it reads as made with the shipped table. */
    const char *scripts = getenv("CR_SCRIPTS");
    char golden[600];
    snprintf(golden, sizeof golden, "%s/../tests/golden/race.replay",
             scripts ? scripts : "scripts");
    FILE *f = fopen(golden, "rb");
    ASSERT_TRUE(f != NULL);
    unsigned char head[12];
    ASSERT_EQ_INT((int)fread(head, 1, 12, f), 12);
    fclose(f);
    ASSERT_EQ_INT(head[8], 1); /* format 1, little-endian */
    ASSERT_EQ_INT(replay_read(golden, &rp, &err), CR_OK);
    ASSERT_EQ_U64(rp->header.surfaces_hash, surface_table_default()->hash);
    /* Nor had it the STAGE_* settings: 0 = not recorded. */
    ASSERT_TRUE(rp->header.stage_limits.min_length == 0 && rp->header.stage_limits.max_length == 0);
    replay_free(rp);
}

/* Format 3 records the STAGE_* settings the stage was made under; values
 * that are no range are a damaged file. */
TEST(stage_settings_are_recorded_and_checked) {
    char path[64];
    snprintf(path, sizeof path, "test_replay_file_l_%d.bin", (int)getpid());
    const double cases[][3] = {/* min, max, ok */
                               {1000, 1500, 1}, {0, 0, 1},      {1500, 1000, 0},
                               {-5, 1000, 0},   {NAN, 1000, 0}, {1000, INFINITY, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ReplayHeader h;
        memset(&h, 0, sizeof h);
        strcpy(h.generator, "forest");
        strcpy(h.generator_version, "1");
        strcpy(h.rules, "standard");
        h.stage_limits = (StageLimits){cases[i][0], cases[i][1]};
        h.n_cars = 1;
        h.cars[0].stats = fixture_stats();
        strcpy(h.cars[0].name, "c");
        strcpy(h.cars[0].car_type, "hatch");
        ReplayWriter *w;
        CrError err = {{0}};
        ASSERT_EQ_INT(replay_writer_open(path, &h, &w, &err), CR_OK);
        ASSERT_EQ_INT(replay_writer_close(w, 1, 1, &err), CR_OK);
        Replay *rp = NULL;
        if (cases[i][2]) {
            ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_OK);
            ASSERT_TRUE(rp->header.stage_limits.min_length == cases[i][0]);
            ASSERT_TRUE(rp->header.stage_limits.max_length == cases[i][1]);
            replay_free(rp);
        } else {
            ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_EFORMAT);
            ASSERT_CONTAINS(err.msg, "bad stage limits");
        }
    }
    remove(path);
}

/* The first line of path, "" if it cannot be read. */
static const char *first_line(const char *path) {
    static char buf[64];
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
    }
    return buf;
}

TEST(the_writer_never_writes_through_a_symlink) {
    char dir[] = "/tmp/test_replay_link_XXXXXX", path[96], tmp[100], victim[96], cmd[128];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out.replay", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    FILE *f = fopen(victim, "w");
    ASSERT_TRUE(f != NULL);
    fputs("precious\n", f);
    fclose(f);
    /* A link at the temporary's name: refused, the target untouched. */
    ASSERT_EQ_INT(symlink(victim, tmp), 0);
    ASSERT_EQ_INT(write_replay(path), CR_EIO);
    ASSERT_EQ_STR(first_line(victim), "precious\n");
    ASSERT_EQ_INT(unlink(tmp), 0);
    /* A link at the final name (`race --replay FILE` where FILE is one):
     * replaced by the replay, the target untouched. */
    ASSERT_EQ_INT(symlink(victim, path), 0);
    ASSERT_EQ_INT(write_replay(path), CR_OK);
    struct stat st;
    ASSERT_TRUE(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
    ASSERT_EQ_STR(first_line(victim), "precious\n");
    Replay *rp = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(replay_read(path, &rp, &err), CR_OK);
    replay_free(rp);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ_INT(system(cmd), 0);
}

TEST_MAIN
