/*
 * replay.h - the replay file: everything needed to re-run a race exactly, and
 * a state hash every second to prove it did. Little-endian throughout.
 *
 *   +--------------------------------------------------------------+
 *   | magic "CRREPLAY" (8) | u32 format = REPLAY_FORMAT            |
 *   | str generator | str generator_version | u64 seed             |
 *   | u16 n_params, n x (str key, str value)                       |
 *   | str rules | u64 rules_hash | u64 stage_hash                   |
 *   | u64 surfaces_hash (format 2 on; a format 1 file reads as the   |
 *   |   default table's hash, the only one there was)              |
 *   | f64 stage_min_length f64 stage_max_length (format 3 on: the  |
 *   |   STAGE_* settings the stage was generated under; older      |
 *   |   files read as 0 = not recorded)                            |
 *   | u8 n_cars, n x (str name, str car_type, u8 kind,             |
 *   |                 f64 x 8 stats in CarStats order)             |
 *   +--------------------------------------------------------------+
 *   | records until END:                                           |
 *   |  'I' u32 tick u8 car u8 throttle u8 brake i8 steer u8 flags  |
 *   |      (input in force from the step after `tick` on)          |
 *   |  'H' u32 tick u64 race_hash   (after the step reaching tick) |
 *   |  'R' u32 tick u8 car   (car retired before the step from tick) |
 *   |  'E' u32 final tick u64 final race_hash                      |
 *   +--------------------------------------------------------------+
 *   str = u16 length + bytes (no NUL), at most 255 bytes
 *   drawing = u8 kind (0 line, 1 circle, 2 text) u32 0xRRGGBB
 *             f32 a b c d (line (a,b)-(c,d); circle centre (a,b) radius c;
 *             text at (a,b)) u8 text length + bytes (at most 64)
 */
#ifndef CR_REPLAY_H
#define CR_REPLAY_H

#include <stdio.h>

#include "coderally.h"

#define REPLAY_FORMAT 3 /* writes 3; reads 1 to 3 */
#define REPLAY_MAX_PARAMS 32
#define REPLAY_HASH_EVERY CR_TICK_RATE
#define REPLAY_MAX_DRAWINGS 32 /* per car per tick */
#define REPLAY_DRAW_TEXT_MAX 64

typedef struct {
    char generator[CR_NAME_MAX];
    char generator_version[CR_NAME_MAX];
    uint64_t seed;
    int n_params;
    char param_key[REPLAY_MAX_PARAMS][64];
    char param_value[REPLAY_MAX_PARAMS][64];
    char rules[CR_NAME_MAX];
    uint64_t rules_hash;
    uint64_t stage_hash;
    /* SurfaceTable.hash of the stage's table (stage_surfaces); 0 = not
     * recorded. The stage hash covers the table too; this one lets
     * verification say that surfaces.lua is what changed. */
    uint64_t surfaces_hash;
    /* STAGE_MIN_LENGTH / STAGE_MAX_LENGTH in force when the stage was
     * generated (generators read them as rally.limits), so the replay
     * re-generates the same stage whatever the settings are now; both 0 =
     * not recorded (formats 1 and 2): the settings of the day apply. */
    StageLimits stage_limits;
    int n_cars;
    CarEntry cars[CR_MAX_CARS];
} ReplayHeader;

typedef struct {
    uint32_t tick;
    uint8_t car;
    PackedInput input;
} ReplayInput;

typedef struct {
    uint32_t tick;
    uint64_t hash;
} ReplayHash;

/* A car taken out of the race (race_retire) before the step from tick. */
typedef struct {
    uint32_t tick;
    uint8_t car;
} ReplayRetire;

/* A debug drawing in world coordinates (u), as a bot returned it. */
typedef struct {
    uint8_t kind; /* 0 line, 1 circle, 2 text */
    uint32_t rgb;
    float a, b, c, d;
    char text[REPLAY_DRAW_TEXT_MAX + 1];
} ReplayDrawing;

/* The drawings car returned on tick: drawings[first .. first + n). */
typedef struct {
    uint32_t tick;
    uint8_t car, n;
    size_t first;
} ReplayDrawSet;

typedef struct {
    ReplayHeader header;
    ReplayInput *inputs;
    size_t n_inputs;
    ReplayHash *hashes;
    size_t n_hashes;
    ReplayRetire *retires;
    size_t n_retires;
    ReplayDrawSet *draw_sets;
    size_t n_draw_sets;
    ReplayDrawing *drawings;
    size_t n_drawings;
    uint32_t final_tick;
    uint64_t final_hash;
} Replay;

typedef struct ReplayWriter ReplayWriter;

/* Writes to path.tmp and renames over path on close, so a crash never
 * leaves a half replay under the real name. */
int replay_writer_open(const char *path, const ReplayHeader *h, ReplayWriter **out, CrError *err);
/* Records car's input if it differs from the last recorded one. */
int replay_writer_input(ReplayWriter *w, uint32_t tick, int car, PackedInput in);
int replay_writer_hash(ReplayWriter *w, uint32_t tick, uint64_t hash);
/* Records that car was retired before the step from tick. */
int replay_writer_retire(ReplayWriter *w, uint32_t tick, int car);
/* Records car's debug drawings of tick (n <= REPLAY_MAX_DRAWINGS). */
int replay_writer_drawings(ReplayWriter *w, uint32_t tick, int car, const ReplayDrawing *d, int n);
/* Writes the end record, flushes, renames. Frees w either way. */
int replay_writer_close(ReplayWriter *w, uint32_t tick, uint64_t hash, CrError *err);
/* Abandons the file (removes the temporary). */
void replay_writer_abort(ReplayWriter *w);

/* Reads and checks a whole replay; CR_EFORMAT with the offset on damage. */
int replay_read(const char *path, Replay **out, CrError *err);
/* The same from len bytes in memory (a replay from a database); name is
 * what messages call it. data stays the caller's. */
int replay_parse(const void *data, size_t len, const char *name, Replay **out, CrError *err);
void replay_free(Replay *r);

#endif
