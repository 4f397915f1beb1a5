/*
 * store.h - the server's storage, behind one small interface: accounts,
 * sessions, cars, bots and their versions, bot memory, leaderboard queries.
 * store_sqlite.c implements it on SQLite; a PostgreSQL one can follow without
 * touching the callers. A Store is one connection: use it from one thread at a
 * time (each worker thread opens its own). Every function that changes more
 * than one row does it in one transaction: after a crash either all of it is
 * there or none of it.
 */
#ifndef CR_SERVER_STORE_H
#define CR_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coderally.h"

/* Errors beyond the engine's CR_E* codes. */
enum {
    STORE_ECONFLICT = -100, /* unique key taken, or the row changed under us */
    STORE_EPOINTS = -101,   /* not enough points */
    STORE_EDB = -102        /* the database failed; see the message */
};

#define STORE_USERNAME_MAX 32
#define STORE_HASH_MAX 160 /* crypto_pwhash_STRBYTES is 128 */
#define STORE_UPGRADE_STATS 8
#define STORE_BOT_NAME_MAX 64

/* The upgradable stats, in the order of StoreCar.levels. */
extern const char *const STORE_UPGRADE_STAT_NAMES[STORE_UPGRADE_STATS];
/* Index of stat in STORE_UPGRADE_STAT_NAMES, or -1. */
int store_upgrade_stat_index(const char *stat);

typedef struct Store Store;

typedef struct {
    int64_t id;
    char username[STORE_USERNAME_MAX + 1];
    char password_hash[STORE_HASH_MAX];
    int64_t points;
    int64_t created_at;
} StoreUser;

typedef struct {
    int64_t id, user_id;
    char car_type[CR_NAME_MAX];
    char name[64];
    int levels[STORE_UPGRADE_STATS];
    int64_t unlocked_at;
} StoreCar;

typedef struct {
    int64_t id, user_id;
    char name[STORE_BOT_NAME_MAX + 1];
    int version;
    int64_t created_at, updated_at;
    char *code; /* malloc'd by store_bot_get (NULL in lists); caller frees */
} StoreBot;

typedef struct {
    int rank;
    char username[STORE_USERNAME_MAX + 1];
    int64_t points;
    int races, wins;
} StorePlayerRank;

/* Opens (creating) the database at path, turns on WAL, synchronous=NORMAL and
 * foreign keys, and applies the migrations NNN_name.sql found in
 * migrations_dir (NULL: none) that schema_migrations does not list yet, in
 * order, each in its own transaction. The caller owns *out. */
int store_open(const char *path, const char *migrations_dir, Store **out, CrError *err);
void store_close(Store *st);
/* Highest applied migration number (0 if none). */
int store_schema_version(Store *st);

/* "sqlite:///./x.db" -> "./x.db", "sqlite:////abs/x.db" -> "/abs/x.db";
 * a plain path is taken as it is. CR_EINVAL for another scheme. */
int store_path_from_url(const char *url, char *out, size_t size, CrError *err);

/* ---- accounts ----------------------------------------------------------- */

/* Creates a user with points and one car of car_type (named car_name), in one
 * transaction. STORE_ECONFLICT if the username is taken (ignoring case). */
int store_user_create(Store *st, const char *username, const char *password_hash, int64_t points,
                      const char *car_type, const char *car_name, int64_t *user_id, CrError *err);
/* CR_ENOTFOUND if there is no such user. */
int store_user_by_name(Store *st, const char *username, StoreUser *out, CrError *err);
int store_user_get(Store *st, int64_t id, StoreUser *out, CrError *err);

/* ---- sessions ----------------------------------------------------------- */

int store_session_create(Store *st, const char *selector, const uint8_t verifier_hash[32],
                         int64_t user_id, int64_t expires_at, CrError *err);
/* CR_ENOTFOUND if there is no such session (expired ones are still found:
 * the caller checks expires_at). */
int store_session_get(Store *st, const char *selector, uint8_t verifier_hash[32], int64_t *user_id,
                      int64_t *expires_at, CrError *err);
int store_session_delete(Store *st, const char *selector, CrError *err);
/* Deletes sessions that expired before now; *n gets how many (may be NULL). */
int store_session_purge(Store *st, int64_t now, int *n, CrError *err);

/* ---- cars --------------------------------------------------------------- */

/* Up to cap of the user's cars, oldest first; *n gets how many. */
int store_cars_list(Store *st, int64_t user_id, StoreCar *out, size_t cap, size_t *n, CrError *err);
/* CR_ENOTFOUND unless car_id exists AND belongs to user_id. */
int store_car_get(Store *st, int64_t user_id, int64_t car_id, StoreCar *out, CrError *err);
/* Pays price and adds a car of car_type, in one transaction. STORE_ECONFLICT
 * if the user has one already, STORE_EPOINTS if they cannot pay. */
int store_car_unlock(Store *st, int64_t user_id, const char *car_type, const char *name,
                     int64_t price, int64_t *car_id, int64_t *points_after, CrError *err);
/* Raises stat of the user's car from from_level to from_level + 1 and takes
 * cost points, in one transaction. CR_ENOTFOUND (no such car of theirs),
 * STORE_ECONFLICT (the level is no longer from_level), STORE_EPOINTS. */
int store_car_upgrade(Store *st, int64_t user_id, int64_t car_id, int stat, int from_level,
                      int64_t cost, int64_t *points_after, CrError *err);

/* ---- bots --------------------------------------------------------------- */

/* A bot with version 1, in one transaction. */
int store_bot_create(Store *st, int64_t user_id, const char *name, const char *code, StoreBot *out,
                     CrError *err);
/* A new version of the user's bot (name NULL: unchanged). CR_ENOTFOUND
 * unless it exists and is theirs. */
int store_bot_update(Store *st, int64_t user_id, int64_t bot_id, const char *name, const char *code,
                     StoreBot *out, CrError *err);
/* Up to cap of the user's bots (code NULL). */
int store_bots_list(Store *st, int64_t user_id, StoreBot *out, size_t cap, size_t *n, CrError *err);
/* The user's bot with the code of version (0: the latest) in out->code
 * (caller frees); out->version is that version. CR_ENOTFOUND otherwise. */
int store_bot_get(Store *st, int64_t user_id, int64_t bot_id, int version, StoreBot *out,
                  CrError *err);
/* Versions of the user's bot, oldest first: version numbers and times. */
int store_bot_versions(Store *st, int64_t user_id, int64_t bot_id, int *versions,
                       int64_t *created_at, size_t cap, size_t *n, CrError *err);
int store_bot_delete(Store *st, int64_t user_id, int64_t bot_id, CrError *err);
/* Bot memory (self.memory as JSON) kept between races. */
int store_bot_state_set(Store *st, int64_t bot_id, const char *json, CrError *err);
/* *json is malloc'd (caller frees), NULL when the bot has none. */
int store_bot_state_get(Store *st, int64_t bot_id, char **json, CrError *err);

/* ---- races -------------------------------------------------------------- */

#define STORE_RACE_ID_MAX 32

typedef struct {
    char id[STORE_RACE_ID_MAX + 1];
    char generator[CR_NAME_MAX];
    uint64_t seed;
    char params_json[512];
    char rules[CR_NAME_MAX];
    char status[16]; /* open, running, finished, aborted */
    bool ladder;
    int64_t created_at, started_at, finished_at; /* 0 = not yet */
    int n_results;
    int64_t replay_bytes; /* 0 = no replay */
    int max_cars;         /* grid size; 0 = not recorded (races before migration 002) */
    bool ai_fill;         /* empty grid slots got AI drivers */
} StoreRace;

typedef struct {
    int64_t user_id, car_id, bot_id; /* 0 = none */
    int bot_version;
    char driver[8];                        /* human, bot, ai */
    char username[STORE_USERNAME_MAX + 1]; /* filled by store_race_results */
    int position;
    double stage_time; /* s; valid unless dnf */
    bool dnf;
    int points;
    char dnf_reason[24]; /* why a DNF (time_limit, stalled, bot_load_failed, ...); "" if none */
} StoreRaceResult;

typedef struct {
    int64_t bot_id;
    const char *json; /* self.memory */
} StoreBotMemory;

/* A new race, status "open". STORE_ECONFLICT if the id is taken. */
int store_race_create(Store *st, const StoreRace *race, CrError *err);
/* open -> running (started_at = now). CR_ENOTFOUND unless it is open. */
int store_race_start(Store *st, const char *race_id, int64_t now, CrError *err);
/* Records a race's end in ONE transaction: its results, each user's points,
 * the bots' memory, the bots' ratings (per version, rated against each
 * other), the replay, status "finished". CR_ENOTFOUND unless the
 * race exists and is open or running. A bot deleted while it raced (or a
 * user or car gone) does not fail it: that result row is kept with the id
 * NULL (the driver, owner and bot version stay), and the bot gets no
 * rating or memory. */
int store_race_finish(Store *st, const char *race_id, int64_t now, const StoreRaceResult *results,
                      size_t n, const StoreBotMemory *memories, size_t n_mem, const void *replay,
                      size_t replay_len, CrError *err);
/* Marks a race aborted (no results). */
int store_race_abort(Store *st, const char *race_id, int64_t now, CrError *err);
/* At start-up: races left open or running by a crash become aborted. */
int store_races_abort_unfinished(Store *st, int64_t now, int *n, CrError *err);
int store_race_get(Store *st, const char *race_id, StoreRace *out, CrError *err);
/* Newest first; status NULL = any. */
int store_races_list(Store *st, const char *status, StoreRace *out, size_t cap, size_t *n,
                     CrError *err);
/* In position order, with usernames. */
int store_race_results(Store *st, const char *race_id, StoreRaceResult *out, size_t cap, size_t *n,
                       CrError *err);
/* The replay (malloc'd, caller frees). CR_ENOTFOUND if none. */
int store_race_replay(Store *st, const char *race_id, void **data, size_t *len, CrError *err);
/* The race's rules numbers (JSON text) kept under key: *json is malloc'd
 * (caller frees), or NULL if none are kept or they were kept under another
 * key. */
int store_race_rules_numbers_get(Store *st, const char *race_id, uint64_t key, char **json,
                                 CrError *err);
/* Keeps json as the race's rules numbers under key (replacing any). */
int store_race_rules_numbers_set(Store *st, const char *race_id, uint64_t key, const char *json,
                                 CrError *err);

/* ---- leaderboard -------------------------------------------------------- */

typedef struct {
    int rank;
    int64_t bot_id;
    int version;
    char name[STORE_BOT_NAME_MAX + 1];
    char owner[STORE_USERNAME_MAX + 1];
    double mu, sigma; /* Weng-Lin rating; sorted by mu - 3 sigma */
    int races;
} StoreBotRank;

/* Bot versions by rating (rated in store_race_finish: the bots of a race
 * against each other). */
int store_leaderboard_bots(Store *st, StoreBotRank *out, size_t cap, size_t *n, CrError *err);

/* Players by points (ties: older account first). */
int store_leaderboard_players(Store *st, StorePlayerRank *out, size_t cap, size_t *n, CrError *err);

/* ---- ladder ------------------------------------------------------------- */

typedef struct {
    int64_t bot_id, user_id;
    int version; /* the bot's latest */
    double mu, sigma;
    int races; /* rated races of this version */
} StoreLadderBot;

/* Up to cap bots at their latest version, least-raced first (newest edit
 * first among equals), with their ratings (the defaults if unrated). */
int store_ladder_bots(Store *st, StoreLadderBot *out, size_t cap, size_t *n, CrError *err);

#endif
