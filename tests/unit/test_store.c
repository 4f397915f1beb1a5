/* test_store.c - the SQLite store against a temporary database file:
 * migrations, accounts, sessions, cars and purchases, bots and versions,
 * the leaderboard, and that refused changes change nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "test.h"

#ifndef CR_SQL_DIR
#define CR_SQL_DIR "sql"
#endif

static char db_path[64];

/* A fresh database with every migration applied. */
static Store *open_fresh(void) {
    snprintf(db_path, sizeof db_path, "/tmp/cr-test-store-XXXXXX");
    int fd = mkstemp(db_path);
    if (fd >= 0) close(fd);
    Store *st = NULL;
    CrError err = {{0}};
    if (store_open(db_path, CR_SQL_DIR, &st, &err)) {
        fprintf(stderr, "  store_open: %s\n", err.msg);
        return NULL;
    }
    return st;
}

static void close_fresh(Store *st) {
    char p[96];
    store_close(st);
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

static int64_t make_user(Store *st, const char *name, int64_t points) {
    int64_t id = 0;
    CrError err = {{0}};
    if (store_user_create(st, name, "$argon2id$fake", points, "hatch", "Rally Hatch", &id, &err))
        return -1;
    return id;
}

TEST(migrations_apply_once_and_are_recorded) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int v = store_schema_version(st);
    ASSERT_TRUE(v >= 1);
    store_close(st);
    /* Opening again applies nothing new and keeps the data. */
    CrError err = {{0}};
    ASSERT_EQ_INT(store_open(db_path, CR_SQL_DIR, &st, &err), 0);
    ASSERT_EQ_INT(store_schema_version(st), v);
    close_fresh(st);
}

TEST(broken_migration_rolls_back_and_says_which) {
    char dir[] = "/tmp/cr-test-mig-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir));
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/001_ok.sql", dir);
    snprintf(p2, sizeof p2, "%s/002_bad.sql", dir);
    FILE *f = fopen(p1, "w");
    fputs("CREATE TABLE a (x INTEGER);", f);
    fclose(f);
    f = fopen(p2, "w");
    fputs("CREATE TABLE b (y INTEGER); THIS IS NOT SQL;", f);
    fclose(f);
    char db[128];
    snprintf(db, sizeof db, "%s/db", dir);
    Store *st = NULL;
    CrError err = {{0}};
    int r = store_open(db, dir, &st, &err);
    ASSERT_TRUE(r != 0);
    ASSERT_CONTAINS(err.msg, "002_bad.sql");
    /* 001 stays applied, 002 left nothing behind: b does not exist. */
    unlink(p2);
    ASSERT_EQ_INT(store_open(db, dir, &st, &err), 0);
    ASSERT_EQ_INT(store_schema_version(st), 1);
    store_close(st);
    f = fopen(p2, "w");
    fputs("CREATE TABLE b (y INTEGER);", f);
    fclose(f);
    ASSERT_EQ_INT(store_open(db, dir, &st, &err), 0);
    ASSERT_EQ_INT(store_schema_version(st), 2);
    store_close(st);
    unlink(p1);
    unlink(p2);
    char side[160];
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    rmdir(dir);
}

TEST(usernames_are_unique_ignoring_case_and_a_user_gets_the_starter_car) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t id = make_user(st, "Ada", 1000);
    ASSERT_TRUE(id > 0);
    int64_t id2 = 0;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_user_create(st, "ada", "h", 5, "hatch", "x", &id2, &err), STORE_ECONFLICT);
    StoreUser u;
    ASSERT_EQ_INT(store_user_by_name(st, "ADA", &u, &err), 0);
    ASSERT_EQ_INT(u.id, id);
    ASSERT_EQ_INT(u.points, 1000);
    ASSERT_EQ_INT(store_user_by_name(st, "bob", &u, &err), CR_ENOTFOUND);
    StoreCar cars[4];
    size_t n = 0;
    ASSERT_EQ_INT(store_cars_list(st, id, cars, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 1);
    ASSERT_TRUE(!strcmp(cars[0].car_type, "hatch"));
    for (int i = 0; i < STORE_UPGRADE_STATS; i++) ASSERT_EQ_INT(cars[0].levels[i], 0);
    close_fresh(st);
}

TEST(sessions_are_found_by_selector_and_deleted) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t id = make_user(st, "ada", 0);
    uint8_t h[32], got[32];
    memset(h, 7, sizeof h);
    CrError err = {{0}};
    ASSERT_EQ_INT(store_session_create(st, "abc", h, id, 100, &err), 0);
    int64_t uid = 0, exp = 0;
    ASSERT_EQ_INT(store_session_get(st, "abc", got, &uid, &exp, &err), 0);
    ASSERT_EQ_INT(uid, id);
    ASSERT_EQ_INT(exp, 100);
    ASSERT_TRUE(!memcmp(got, h, 32));
    int purged = 0;
    ASSERT_EQ_INT(store_session_purge(st, 50, &purged, &err), 0);
    ASSERT_EQ_INT(purged, 0);
    ASSERT_EQ_INT(store_session_purge(st, 101, &purged, &err), 0);
    ASSERT_EQ_INT(purged, 1);
    ASSERT_EQ_INT(store_session_get(st, "abc", got, &uid, &exp, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_session_create(st, "def", h, id, 100, &err), 0);
    ASSERT_EQ_INT(store_session_delete(st, "def", &err), 0);
    ASSERT_EQ_INT(store_session_get(st, "def", got, &uid, &exp, &err), CR_ENOTFOUND);
    close_fresh(st);
}

TEST(upgrade_pays_and_raises_one_level_in_one_transaction) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t id = make_user(st, "ada", 500);
    StoreCar cars[2];
    size_t n = 0;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_cars_list(st, id, cars, 2, &n, &err), 0);
    int grip = store_upgrade_stat_index("grip");
    int64_t pts = 0;
    ASSERT_EQ_INT(store_car_upgrade(st, id, cars[0].id, grip, 0, 200, &pts, &err), 0);
    ASSERT_EQ_INT(pts, 300);
    StoreCar c;
    ASSERT_EQ_INT(store_car_get(st, id, cars[0].id, &c, &err), 0);
    ASSERT_EQ_INT(c.levels[grip], 1);
    for (int i = 0; i < STORE_UPGRADE_STATS; i++)
        if (i != grip) ASSERT_EQ_INT(c.levels[i], 0);
    /* A stale level is a conflict; too expensive is refused: nothing changes. */
    ASSERT_EQ_INT(store_car_upgrade(st, id, cars[0].id, grip, 0, 10, &pts, &err), STORE_ECONFLICT);
    ASSERT_EQ_INT(store_car_upgrade(st, id, cars[0].id, grip, 1, 301, &pts, &err), STORE_EPOINTS);
    ASSERT_EQ_INT(store_car_get(st, id, cars[0].id, &c, &err), 0);
    ASSERT_EQ_INT(c.levels[grip], 1);
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, id, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 300);
    close_fresh(st);
}

TEST(someone_elses_car_is_not_found_and_untouched) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 5000), b = make_user(st, "bob", 5000);
    StoreCar cars[2];
    size_t n = 0;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_cars_list(st, b, cars, 2, &n, &err), 0);
    int64_t pts = 0;
    StoreCar c;
    ASSERT_EQ_INT(store_car_get(st, a, cars[0].id, &c, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_car_upgrade(st, a, cars[0].id, 0, 0, 10, &pts, &err), CR_ENOTFOUND);
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, a, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 5000);
    ASSERT_EQ_INT(store_car_get(st, b, cars[0].id, &c, &err), 0);
    ASSERT_EQ_INT(c.levels[0], 0);
    close_fresh(st);
}

TEST(unlock_pays_once_and_refuses_a_second_or_unaffordable_car) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t id = make_user(st, "ada", 2000);
    int64_t car = 0, pts = 0;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_car_unlock(st, id, "coupe", "Turbo Coupe", 1500, &car, &pts, &err), 0);
    ASSERT_EQ_INT(pts, 500);
    ASSERT_EQ_INT(store_car_unlock(st, id, "coupe", "Turbo Coupe", 0, &car, &pts, &err),
                  STORE_ECONFLICT);
    ASSERT_EQ_INT(store_car_unlock(st, id, "raider", "Gravel Raider", 2500, &car, &pts, &err),
                  STORE_EPOINTS);
    StoreCar cars[4];
    size_t n = 0;
    ASSERT_EQ_INT(store_cars_list(st, id, cars, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 2); /* hatch + coupe; no raider row left behind */
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, id, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 500);
    close_fresh(st);
}

TEST(bot_saves_are_versions_and_only_the_owner_reaches_them) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 0), b = make_user(st, "bob", 0);
    StoreBot bot = {0};
    CrError err = {{0}};
    ASSERT_EQ_INT(store_bot_create(st, a, "one", "v1", &bot, &err), 0);
    ASSERT_EQ_INT(bot.version, 1);
    int64_t id = bot.id;
    ASSERT_EQ_INT(store_bot_update(st, a, id, NULL, "v2", &bot, &err), 0);
    ASSERT_EQ_INT(bot.version, 2);
    ASSERT_TRUE(!strcmp(bot.name, "one"));
    ASSERT_EQ_INT(store_bot_update(st, a, id, "renamed", "v3", &bot, &err), 0);
    ASSERT_TRUE(!strcmp(bot.name, "renamed"));
    StoreBot got = {0};
    ASSERT_EQ_INT(store_bot_get(st, a, id, 0, &got, &err), 0);
    ASSERT_EQ_INT(got.version, 3);
    ASSERT_TRUE(!strcmp(got.code, "v3"));
    free(got.code);
    ASSERT_EQ_INT(store_bot_get(st, a, id, 1, &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.code, "v1"));
    free(got.code);
    got.code = NULL;
    ASSERT_EQ_INT(store_bot_get(st, a, id, 9, &got, &err), CR_ENOTFOUND);
    free(got.code);
    got.code = NULL;
    int vs[8];
    int64_t ts[8];
    size_t n = 0;
    ASSERT_EQ_INT(store_bot_versions(st, a, id, vs, ts, 8, &n, &err), 0);
    ASSERT_EQ_INT(n, 3);
    ASSERT_EQ_INT(vs[2], 3);
    /* bob sees nothing and changes nothing */
    ASSERT_EQ_INT(store_bot_get(st, b, id, 0, &got, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_bot_update(st, b, id, NULL, "evil", &bot, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_bot_delete(st, b, id, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_bots_list(st, b, &bot, 1, &n, &err), 0);
    ASSERT_EQ_INT(n, 0);
    /* memory, then delete takes versions and memory with it */
    ASSERT_EQ_INT(store_bot_state_set(st, id, "{\"laps\":1}", &err), 0);
    char *json = NULL;
    ASSERT_EQ_INT(store_bot_state_get(st, id, &json, &err), 0);
    ASSERT_CONTAINS(json, "laps");
    free(json);
    ASSERT_EQ_INT(store_bot_delete(st, a, id, &err), 0);
    ASSERT_EQ_INT(store_bot_state_get(st, id, &json, &err), 0);
    ASSERT_TRUE(json == NULL);
    ASSERT_EQ_INT(store_bot_versions(st, a, id, vs, ts, 8, &n, &err), CR_ENOTFOUND);
    close_fresh(st);
}

TEST(leaderboard_orders_by_points_then_age) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    make_user(st, "low", 10);
    make_user(st, "high", 900);
    make_user(st, "tie", 10);
    StorePlayerRank r[8];
    size_t n = 0;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_leaderboard_players(st, r, 8, &n, &err), 0);
    ASSERT_EQ_INT(n, 3);
    ASSERT_TRUE(!strcmp(r[0].username, "high"));
    ASSERT_TRUE(!strcmp(r[1].username, "low"));
    ASSERT_TRUE(!strcmp(r[2].username, "tie"));
    ASSERT_EQ_INT(r[2].rank, 3);
    ASSERT_EQ_INT(store_leaderboard_players(st, r, 1, &n, &err), 0);
    ASSERT_EQ_INT(n, 1);
    close_fresh(st);
}

TEST(a_second_connection_sees_committed_writes) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    Store *other = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_open(db_path, NULL, &other, &err), 0);
    /* A read on the other connection first, as a worker does between requests. */
    ASSERT_TRUE(store_schema_version(other) >= 1);
    int64_t id = make_user(st, "ada", 1);
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(other, id, &u, &err), 0);
    store_close(other);
    close_fresh(st);
}

static int64_t car_of(Store *st, int64_t user) {
    StoreCar c[2];
    size_t n = 0;
    CrError err = {{0}};
    store_cars_list(st, user, c, 2, &n, &err);
    return n ? c[0].id : 0;
}

TEST(a_race_end_is_one_transaction_of_results_points_memory_and_replay) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 100), b = make_user(st, "bob", 100);
    StoreBot bot = {0};
    CrError err = {{0}};
    ASSERT_EQ_INT(store_bot_create(st, b, "bot", "code", &bot, &err), 0);
    StoreRace race = {0};
    snprintf(race.id, sizeof race.id, "r1");
    snprintf(race.generator, sizeof race.generator, "forest");
    race.seed = 3;
    snprintf(race.rules, sizeof race.rules, "standard");
    ASSERT_EQ_INT(store_race_create(st, &race, &err), 0);
    ASSERT_EQ_INT(store_race_create(st, &race, &err), STORE_ECONFLICT);
    ASSERT_EQ_INT(store_race_start(st, "r1", 10, &err), 0);
    ASSERT_EQ_INT(store_race_start(st, "r1", 10, &err), CR_ENOTFOUND);
    StoreRaceResult res[3] = {
        {.user_id = a,
         .car_id = car_of(st, a),
         .driver = "human",
         .position = 1,
         .stage_time = 61.5,
         .points = 25},
        {.user_id = b,
         .car_id = car_of(st, b),
         .bot_id = bot.id,
         .bot_version = 1,
         .driver = "bot",
         .position = 2,
         .stage_time = 63.25,
         .points = 18},
        {.driver = "ai", .position = 3, .dnf = true, .dnf_reason = "stalled"},
    };
    StoreBotMemory mem = {bot.id, "{\"best\": 63.25}"};
    const char replay[] = "CRRPLAY-bytes";
    ASSERT_EQ_INT(store_race_finish(st, "r1", 99, res, 3, &mem, 1, replay, sizeof replay, &err), 0);
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, a, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 125);
    ASSERT_EQ_INT(store_user_get(st, b, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 118);
    char *json = NULL;
    ASSERT_EQ_INT(store_bot_state_get(st, bot.id, &json, &err), 0);
    ASSERT_CONTAINS(json, "63.25");
    free(json);
    StoreRace got;
    ASSERT_EQ_INT(store_race_get(st, "r1", &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.status, "finished"));
    ASSERT_EQ_INT(got.n_results, 3);
    ASSERT_EQ_INT(got.replay_bytes, sizeof replay);
    ASSERT_EQ_INT(got.started_at, 10);
    ASSERT_EQ_INT(got.finished_at, 99);
    StoreRaceResult back[4];
    size_t n = 0;
    ASSERT_EQ_INT(store_race_results(st, "r1", back, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 3);
    ASSERT_TRUE(!strcmp(back[0].username, "ada"));
    ASSERT_TRUE(!strcmp(back[1].driver, "bot"));
    ASSERT_EQ_INT(back[1].bot_id, bot.id);
    ASSERT_TRUE(back[2].dnf && back[2].user_id == 0);
    ASSERT_TRUE(!strcmp(back[2].dnf_reason, "stalled") && !back[0].dnf_reason[0]);
    void *blob = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(store_race_replay(st, "r1", &blob, &len, &err), 0);
    ASSERT_EQ_INT(len, sizeof replay);
    ASSERT_TRUE(!memcmp(blob, replay, len));
    free(blob);
    /* Finishing twice is refused and changes nothing. */
    ASSERT_EQ_INT(store_race_finish(st, "r1", 100, res, 1, NULL, 0, NULL, 0, &err), CR_ENOTFOUND);
    ASSERT_EQ_INT(store_user_get(st, a, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 125);
    /* one bot in the race: nobody to be rated against */
    StoreBotRank br[4];
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 0);
    StorePlayerRank rk[4];
    ASSERT_EQ_INT(store_leaderboard_players(st, rk, 4, &n, &err), 0);
    ASSERT_TRUE(!strcmp(rk[0].username, "ada"));
    ASSERT_EQ_INT(rk[0].races, 1);
    ASSERT_EQ_INT(rk[0].wins, 1);
    ASSERT_EQ_INT(rk[1].wins, 0);
    close_fresh(st);
}

TEST(bots_of_a_race_are_rated_per_version_against_each_other) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 0), b = make_user(st, "bob", 0);
    StoreBot ba = {0}, bb = {0};
    CrError err = {{0}};
    ASSERT_EQ_INT(store_bot_create(st, a, "fast", "v1", &ba, &err), 0);
    ASSERT_EQ_INT(store_bot_create(st, b, "slow", "v1", &bb, &err), 0);
    for (int k = 0; k < 3; k++) {
        StoreRace race = {0};
        snprintf(race.id, sizeof race.id, "race%d", k);
        snprintf(race.generator, sizeof race.generator, "forest");
        snprintf(race.rules, sizeof race.rules, "standard");
        ASSERT_EQ_INT(store_race_create(st, &race, &err), 0);
        /* an AI car between them does not count for the bots' rating */
        StoreRaceResult res[3] = {
            {.user_id = a, .bot_id = ba.id, .bot_version = 1, .driver = "bot", .position = 1},
            {.driver = "ai", .position = 2},
            {.user_id = b,
             .bot_id = bb.id,
             .bot_version = 1,
             .driver = "bot",
             .position = 3,
             .dnf = k == 2},
        };
        ASSERT_EQ_INT(store_race_finish(st, race.id, k, res, 3, NULL, 0, NULL, 0, &err), 0);
    }
    StoreBotRank br[4];
    size_t n = 0;
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(br[0].bot_id, ba.id);
    ASSERT_TRUE(!strcmp(br[0].name, "fast") && !strcmp(br[0].owner, "ada"));
    ASSERT_EQ_INT(br[0].races, 3);
    ASSERT_LT(br[1].mu, br[0].mu);
    ASSERT_LT(br[0].sigma, 25.0 / 3);
    /* a new version starts its own rating */
    ASSERT_EQ_INT(store_bot_update(st, a, ba.id, NULL, "v2", &ba, &err), 0);
    StoreRace race = {0};
    snprintf(race.id, sizeof race.id, "race9");
    snprintf(race.generator, sizeof race.generator, "forest");
    snprintf(race.rules, sizeof race.rules, "standard");
    ASSERT_EQ_INT(store_race_create(st, &race, &err), 0);
    StoreRaceResult res[2] = {
        {.bot_id = bb.id, .bot_version = 1, .driver = "bot", .position = 1},
        {.bot_id = ba.id, .bot_version = 2, .driver = "bot", .position = 2},
    };
    ASSERT_EQ_INT(store_race_finish(st, "race9", 9, res, 2, NULL, 0, NULL, 0, &err), 0);
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 3);
    int v2_races = -1;
    for (size_t i = 0; i < n; i++)
        if (br[i].bot_id == ba.id && br[i].version == 2) v2_races = br[i].races;
    ASSERT_EQ_INT(v2_races, 1);
    close_fresh(st);
}

TEST(a_failed_race_end_leaves_nothing_behind) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 100);
    StoreRace race = {0};
    snprintf(race.id, sizeof race.id, "r2");
    snprintf(race.generator, sizeof race.generator, "forest");
    snprintf(race.rules, sizeof race.rules, "standard");
    CrError err = {{0}};
    ASSERT_EQ_INT(store_race_create(st, &race, &err), 0);
    /* The second result breaks the table's CHECK (no such driver kind):
     * the insert fails half-way, and the first result's points must not
     * stay. */
    StoreRaceResult res[2] = {
        {.user_id = a, .driver = "human", .position = 1, .points = 25},
        {.user_id = a, .driver = "robot", .position = 2, .points = 18},
    };
    ASSERT_TRUE(store_race_finish(st, "r2", 5, res, 2, NULL, 0, NULL, 0, &err) != 0);
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, a, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 100);
    StoreRace got;
    ASSERT_EQ_INT(store_race_get(st, "r2", &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.status, "open"));
    ASSERT_EQ_INT(got.n_results, 0);
    /* A crash leaves it open; the next start marks it aborted. */
    int n = 0;
    ASSERT_EQ_INT(store_races_abort_unfinished(st, 6, &n, &err), 0);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(store_race_get(st, "r2", &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.status, "aborted"));
    StoreRace list[4];
    size_t nl = 0;
    ASSERT_EQ_INT(store_races_list(st, "aborted", list, 4, &nl, &err), 0);
    ASSERT_EQ_INT(nl, 1);
    ASSERT_EQ_INT(store_races_list(st, "finished", list, 4, &nl, &err), 0);
    ASSERT_EQ_INT(nl, 0);
    close_fresh(st);
}

/* A race with a human, a bot and an AI, open and started. */
static void race_for(Store *st, const char *id) {
    StoreRace race = {0};
    CrError err = {{0}};
    snprintf(race.id, sizeof race.id, "%s", id);
    snprintf(race.generator, sizeof race.generator, "forest");
    snprintf(race.rules, sizeof race.rules, "standard");
    store_race_create(st, &race, &err);
    store_race_start(st, id, 1, &err);
}

TEST(a_bot_deleted_mid_race_loses_nobodys_result) {
    Store *st = open_fresh();
    ASSERT_TRUE(st);
    int64_t a = make_user(st, "ada", 100), b = make_user(st, "bob", 100);
    StoreBot keep = {0}, gone = {0};
    CrError err = {{0}};
    ASSERT_EQ_INT(store_bot_create(st, a, "keep", "v1", &keep, &err), 0);
    /* The newest bot: without AUTOINCREMENT its id is the next one given. */
    ASSERT_EQ_INT(store_bot_create(st, b, "gone", "v1", &gone, &err), 0);
    ASSERT_EQ_INT(store_bot_update(st, b, gone.id, NULL, "v2", &gone, &err), 0);
    ASSERT_EQ_INT(store_bot_state_set(st, gone.id, "{\"old\": 1}", &err), 0);
    race_for(st, "rd");
    /* Mid-race: its owner deletes it (DELETE /api/bots/{id}); versions,
     * memory and ratings go with it. Then someone saves a new bot. */
    ASSERT_EQ_INT(store_bot_delete(st, b, gone.id, &err), 0);
    StoreBot fresh = {0};
    ASSERT_EQ_INT(store_bot_create(st, a, "fresh", "v1", &fresh, &err), 0);
    ASSERT_TRUE(fresh.id != gone.id); /* its id is never given again */
    StoreRaceResult res[4] = {
        {.user_id = a,
         .car_id = car_of(st, a),
         .driver = "human",
         .position = 1,
         .stage_time = 60,
         .points = 25},
        {.user_id = b,
         .car_id = car_of(st, b),
         .bot_id = gone.id,
         .bot_version = 2,
         .driver = "bot",
         .position = 2,
         .stage_time = 61,
         .points = 18},
        {.user_id = a,
         .bot_id = keep.id,
         .bot_version = 1,
         .driver = "bot",
         .position = 3,
         .stage_time = 62,
         .points = 15},
        {.driver = "ai", .position = 4, .dnf = true},
    };
    StoreBotMemory mem[2] = {{gone.id, "{\"laps\": 2}"}, {keep.id, "{\"laps\": 3}"}};
    const char replay[] = "CRRPLAY-deleted";
    ASSERT_EQ_INT(store_race_finish(st, "rd", 50, res, 4, mem, 2, replay, sizeof replay, &err), 0);
    StoreRace got;
    ASSERT_EQ_INT(store_race_get(st, "rd", &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.status, "finished"));
    ASSERT_EQ_INT(got.n_results, 4);
    ASSERT_EQ_INT(got.replay_bytes, sizeof replay);
    StoreRaceResult back[5];
    size_t n = 0;
    ASSERT_EQ_INT(store_race_results(st, "rd", back, 5, &n, &err), 0);
    ASSERT_EQ_INT(n, 4);
    /* The deleted bot's row: still a bot of bob's, version 2, no bot id. */
    ASSERT_TRUE(!strcmp(back[1].driver, "bot") && !strcmp(back[1].username, "bob"));
    ASSERT_EQ_INT(back[1].bot_id, 0);
    ASSERT_EQ_INT(back[1].bot_version, 2);
    ASSERT_EQ_INT(back[1].points, 18);
    ASSERT_EQ_INT(back[2].bot_id, keep.id);
    /* Everyone's points, the owner of the deleted bot's included. */
    StoreUser u;
    ASSERT_EQ_INT(store_user_get(st, a, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 140);
    ASSERT_EQ_INT(store_user_get(st, b, &u, &err), 0);
    ASSERT_EQ_INT(u.points, 118);
    /* The kept bot's memory and rating are saved; the deleted bot's are
     * nowhere, above all not on the new bot. */
    char *json = NULL;
    ASSERT_EQ_INT(store_bot_state_get(st, keep.id, &json, &err), 0);
    ASSERT_CONTAINS(json, "\"laps\": 3");
    free(json);
    ASSERT_EQ_INT(store_bot_state_get(st, fresh.id, &json, &err), 0);
    ASSERT_TRUE(json == NULL);
    ASSERT_EQ_INT(store_bot_state_get(st, gone.id, &json, &err), 0);
    ASSERT_TRUE(json == NULL);
    StoreBotRank br[4];
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(br[0].bot_id, keep.id);
    void *blob = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(store_race_replay(st, "rd", &blob, &len, &err), 0);
    ASSERT_EQ_INT(len, sizeof replay);
    free(blob);
    close_fresh(st);
}

TEST(bot_ids_survive_the_rebuild_of_migration_004) {
    /* A database at migration 003 with bots, versions, memory, ratings and
     * a result; 004 rebuilds the bots table under them. */
    snprintf(db_path, sizeof db_path, "/tmp/cr-test-store-XXXXXX");
    int fd = mkstemp(db_path);
    if (fd >= 0) close(fd);
    char dir[] = "/tmp/cr-test-sql-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s/00[123]_*.sql %s/", CR_SQL_DIR, dir);
    ASSERT_EQ_INT(system(cmd), 0);
    Store *st = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(store_open(db_path, dir, &st, &err), 0);
    ASSERT_EQ_INT(store_schema_version(st), 3);
    int64_t a = make_user(st, "ada", 0), b = make_user(st, "bob", 0);
    StoreBot b1 = {0}, b2 = {0}, b3 = {0};
    ASSERT_EQ_INT(store_bot_create(st, a, "one", "v1", &b1, &err), 0);
    ASSERT_EQ_INT(store_bot_create(st, b, "two", "v1", &b2, &err), 0);
    ASSERT_EQ_INT(store_bot_update(st, b, b2.id, NULL, "v2", &b2, &err), 0);
    ASSERT_EQ_INT(store_bot_state_set(st, b2.id, "{\"m\": 2}", &err), 0);
    race_for(st, "r0");
    StoreRaceResult res[2] = {
        {.user_id = a, .bot_id = b1.id, .bot_version = 1, .driver = "bot", .position = 1},
        {.user_id = b, .bot_id = b2.id, .bot_version = 2, .driver = "bot", .position = 2},
    };
    ASSERT_EQ_INT(store_race_finish(st, "r0", 2, res, 2, NULL, 0, NULL, 0, &err), 0);
    store_close(st);
    ASSERT_EQ_INT(store_open(db_path, CR_SQL_DIR, &st, &err), 0);
    ASSERT_TRUE(store_schema_version(st) >= 4);
    StoreBot got = {0};
    ASSERT_EQ_INT(store_bot_get(st, b, b2.id, 1, &got, &err), 0);
    ASSERT_TRUE(!strcmp(got.code, "v1") && !strcmp(got.name, "two"));
    free(got.code);
    char *json = NULL;
    ASSERT_EQ_INT(store_bot_state_get(st, b2.id, &json, &err), 0);
    ASSERT_CONTAINS(json, "\"m\": 2");
    free(json);
    StoreRaceResult back[2];
    size_t n = 0;
    ASSERT_EQ_INT(store_race_results(st, "r0", back, 2, &n, &err), 0);
    ASSERT_EQ_INT(back[1].bot_id, b2.id);
    StoreBotRank br[4];
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 2);
    /* The foreign keys still hold after the rebuild: deleting a bot takes
     * its versions, memory and ratings, and its result keeps a NULL id. */
    ASSERT_EQ_INT(store_bot_delete(st, b, b2.id, &err), 0);
    ASSERT_EQ_INT(store_bot_state_get(st, b2.id, &json, &err), 0);
    ASSERT_TRUE(json == NULL);
    ASSERT_EQ_INT(store_leaderboard_bots(st, br, 4, &n, &err), 0);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(store_race_results(st, "r0", back, 2, &n, &err), 0);
    ASSERT_EQ_INT(back[1].bot_id, 0);
    /* ... and the newest id is not handed out again. */
    ASSERT_EQ_INT(store_bot_create(st, a, "three", "v1", &b3, &err), 0);
    ASSERT_TRUE(b3.id > b2.id);
    close_fresh(st);
    snprintf(cmd, sizeof cmd, "rm -r %s", dir);
    ASSERT_EQ_INT(system(cmd), 0);
}

TEST(database_urls) {
    char p[256];
    CrError err = {{0}};
    ASSERT_EQ_INT(store_path_from_url("sqlite:///./coderally.db", p, sizeof p, &err), 0);
    ASSERT_TRUE(!strcmp(p, "./coderally.db"));
    ASSERT_EQ_INT(store_path_from_url("sqlite:////var/x.db", p, sizeof p, &err), 0);
    ASSERT_TRUE(!strcmp(p, "/var/x.db"));
    ASSERT_EQ_INT(store_path_from_url("plain.db", p, sizeof p, &err), 0);
    ASSERT_TRUE(!strcmp(p, "plain.db"));
    ASSERT_EQ_INT(store_path_from_url("postgres://h/db", p, sizeof p, &err), CR_EINVAL);
    ASSERT_EQ_INT(store_path_from_url("sqlite:///", p, sizeof p, &err), CR_EINVAL);
}

TEST_MAIN
