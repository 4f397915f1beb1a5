/*
 * coderally.h - the one public header of the CodeRally engine.
 *
 * Whoever drives a race (the CLI, the server, the bot sandbox host, the tests)
 * uses only what is declared here: compile a stage, create a race room, feed
 * each car's input for a tick, step, read the snapshot, the events of the tick
 * and the sensor record of any car. The engine knows nothing of sockets, SQL or
 * Python. Lua (stage generators, rules, upgrades, config) is reached through the
 * script_* functions at the end.
 *
 * Units: distances in world units (u, about a metre), time in seconds (s) or in
 * ticks (1/60 s), angles in radians, counter-clockwise positive, heading 0 = +x.
 */
#ifndef CODERALLY_H
#define CODERALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- constants ---------------------------------------------------------- */

#define CR_TICK_RATE 60     /* simulation ticks per simulated second */
#define CR_BOT_TICK_EVERY 3 /* sensors/bots run every 3rd tick: 20 Hz */
#define CR_MAX_CARS 16
#define CR_NAME_MAX 32    /* bytes including the terminating NUL */
#define CR_CAR_RADIUS 1.1 /* u; cars collide as discs of this radius */
#define CR_CAR_WIDTH 2.0  /* u; a stage must be wider than two of these */
#define CR_VERGE 5.0      /* u of off-track verge between road edge and wall */

#define SENSOR_RAYS 9
#define SENSOR_RAY_RANGE 150.0 /* u */
#define SENSOR_MAX_OPPONENTS 7
#define SENSOR_VISION_RANGE 120.0                   /* u */
#define SENSOR_VISION_HALF_ANGLE 1.3962634015954636 /* rad (80 degrees) */
#define SENSOR_CHECKPOINTS 3
#define SENSOR_PACE_NOTES 6

/* ---- errors ------------------------------------------------------------- */

enum {
    CR_OK = 0,
    CR_ENOMEM = -1,    /* out of memory */
    CR_EINVAL = -2,    /* bad argument or bad input */
    CR_ESCRIPT = -3,   /* a Lua script failed; see the message */
    CR_ESTAGE = -4,    /* a stage failed validation; see the message */
    CR_EIO = -5,       /* file could not be read or written */
    CR_ENOTFOUND = -6, /* no such generator, car type, rule set, file */
    CR_EFORMAT = -7,   /* malformed file (replay, json) */
    CR_EMISMATCH = -8  /* replay does not match the re-simulation */
};

/* Human-readable name of an error code. Never NULL. */
const char *cr_strerror(int err);

/* A message buffer for errors that need more than a code: what is wrong and
 * where (file:line, point index, ...). Functions that take one fill it on
 * failure and leave it untouched on success. */
typedef struct {
    char msg[1024];
} CrError;
/* Writes the message (printf-style) into err, if err is not NULL, and
 * returns code: `return cr_fail(err, CR_EINVAL, "bad %s", what);`. */
int cr_fail(CrError *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- surfaces ----------------------------------------------------------- */

/* A surface is an index into a SurfaceTable. Tables come from
 * scripts/surfaces.lua (see docs/MODDING.md); the built-in default table is
 * the shipped one, and these are its indices. */
typedef int Surface;
enum {
    SURFACE_ASPHALT = 0,
    SURFACE_GRAVEL = 1,
    SURFACE_ICE = 2,
    SURFACE_OFFROAD = 3, /* the default table's verge beyond the road edge */
    SURFACE_COUNT = 4    /* entries in the default table */
};
#define SURFACE_MAX 16       /* entries in any table, the verge included */
#define SURFACE_COLOUR_MAX 8 /* "#rrggbb" and its NUL */

/* One surface's physics and looks. grip multiplies the car's cornering
 * grip; drag is rolling drag (1/s of speed lost per second); top_speed is a
 * factor on the car's top speed. */
typedef struct {
    char name[CR_NAME_MAX];
    double grip;      /* 0.01 .. 2 */
    double drag;      /* 0 .. 5 */
    double top_speed; /* 0.05 .. 1.5 */
    char colour[SURFACE_COLOUR_MAX];
} SurfaceInfo;

/* An immutable set of surfaces: what generators may name, what cars feel.
 * A plain value (about 1 KiB): a compiled Stage keeps its own copy, so a
 * race, a replay and the sensors use the table the stage was made with.
 * Exactly one entry is the verge ("offroad"), never generated. */
typedef struct {
    SurfaceInfo s[SURFACE_MAX];
    int count;
    int verge;     /* index of "offroad" */
    uint64_t hash; /* of every entry's content, in order */
} SurfaceTable;

/* The shipped table: asphalt, gravel, ice, offroad (indices as above). */
const SurfaceTable *surface_table_default(void);
/* Checks one entry's name, ranges and colour; CR_EINVAL says which. */
int surface_info_check(const SurfaceInfo *entry, CrError *err);
/* Builds *out from n entries, in order; one must be named "offroad" (the
 * verge). Checks names (a-z, 0-9, _ and -, unique), ranges and colours
 * ("#rrggbb"); CR_EINVAL says which entry and field is wrong. */
int surface_table_init(SurfaceTable *out, const SurfaceInfo *entries, size_t n, CrError *err);
/* Index of the road surface called name, or -1 (the verge is not a road
 * surface). */
int surface_table_find(const SurfaceTable *t, const char *name);
/* Name of entry s, or "unknown". */
const char *surface_table_name(const SurfaceTable *t, Surface s);
/* Is t the shipped table, entry for entry? */
bool surface_table_is_default(const SurfaceTable *t);

/* Names in the default table: "asphalt", "gravel", "ice", "offroad". */
const char *surface_name(Surface s);
/* Returns 0 and sets *out, or CR_ENOTFOUND. "offroad" is not a road surface.
 * Default table only; a stage's own table: surface_table_find. */
int surface_parse(const char *name, Surface *out);

/* ---- stages ------------------------------------------------------------- */

/* One centre-line point as a generator returns it. The segment from point i to
 * point i+1 has point i's surface; width is the full road width at the point. */
typedef struct {
    double x, y;
    double width;
    Surface surface;
} StagePoint;

/* What a generator produces. Start is point 0 (cars face point 1), the finish
 * line is at the last point. checkpoints holds centre-line point indices,
 * strictly increasing, each strictly between 0 and n_points-1. */
typedef struct {
    const StagePoint *points;
    size_t n_points;
    const uint32_t *checkpoints;
    size_t n_checkpoints;
    const SurfaceTable *surfaces; /* what point surfaces index; NULL: the default */
} StageDesc;

typedef struct {
    double min_length; /* u, STAGE_MIN_LENGTH */
    double max_length; /* u, STAGE_MAX_LENGTH */
} StageLimits;

typedef struct Stage Stage;

/* Validates desc and compiles it into a Stage with its spatial index. On a bad
 * stage returns CR_ESTAGE and says in err exactly what is wrong and where
 * (point index and coordinates). The caller owns one reference to *out;
 * desc is copied. A compiled stage never changes, so any number of rooms,
 * on any threads, may share it. */
int stage_compile(const StageDesc *desc, const StageLimits *limits, Stage **out, CrError *err);
/* Takes another reference; returns stage. */
Stage *stage_ref(Stage *stage);
/* Drops a reference; the last one frees the stage. NULL does nothing. */
void stage_destroy(Stage *stage);

double stage_length(const Stage *stage); /* u, along the centre line */
size_t stage_point_count(const Stage *stage);
const StagePoint *stage_points(const Stage *stage); /* n = stage_point_count */
size_t stage_checkpoint_count(const Stage *stage);
/* Centre-line point index of checkpoint i (0-based). */
uint32_t stage_checkpoint_point(const Stage *stage, size_t i);
/* Route distance (u) of centre-line point i from the start. */
double stage_point_distance(const Stage *stage, size_t i);
/* 64-bit hash of the compiled geometry and, unless it is the default, the
 * surface table: equal stages hash equal. */
uint64_t stage_hash(const Stage *stage);
/* The stage's own copy of the surface table it was compiled with. */
const SurfaceTable *stage_surfaces(const Stage *stage);

/* What lies under a world position. */
typedef struct {
    Surface surface;  /* the table's verge beyond the road edge */
    double edge_dist; /* u to the road edge: negative on the road */
    double wall_dist; /* u to the wall: negative inside the stage */
} StageProbe;
void stage_probe(const Stage *stage, double x, double y, StageProbe *out);

/* Distance (u) along a ray from (x, y) in direction angle until the road ends,
 * capped at max_dist. 0 when (x, y) is already off the road. */
double stage_raycast(const Stage *stage, double x, double y, double angle, double max_dist);

/* Writes an SVG drawing of the stage (verge, road by surface, edges,
 * checkpoints, start grid, finish) to path. */
int stage_write_svg(const Stage *stage, const char *title, const char *path, CrError *err);

/* ---- cars --------------------------------------------------------------- */

/* Physics stats of one car, after upgrades. Ranges are checked by
 * car_stats_validate; scripts/upgrades.lua produces them. */
typedef struct {
    double top_speed;    /* u/s on asphalt without nitro */
    double acceleration; /* u/s^2 at standstill, full throttle */
    double grip;         /* multiplier on surface grip, ~0.5..2 */
    double braking;      /* u/s^2 at full brake */
    int nitro_capacity;  /* number of nitro charges */
    int nitro_duration;  /* ticks one charge lasts */
    double handling;     /* rad/s of yaw at full steer */
    double weight;       /* kg; mass in collisions */
} CarStats;

/* CR_OK, or CR_EINVAL with the offending field named in err. */
int car_stats_validate(const CarStats *stats, CrError *err);

typedef enum { CAR_AI = 0, CAR_BOT = 1, CAR_HUMAN = 2 } CarKind;
const char *car_kind_name(CarKind kind); /* "ai", "bot", "human" */

typedef struct {
    char name[CR_NAME_MAX];
    char car_type[CR_NAME_MAX];
    CarKind kind;
    CarStats stats;
} CarEntry;

/* A car's controls for one tick. The engine quantises on entry (throttle and
 * brake to 1/255, steer to 1/127) so a replay reproduces a live race exactly;
 * NaN counts as 0 and values are clamped to their ranges. */
typedef struct {
    float throttle; /* 0..1 */
    float brake;    /* 0..1; at standstill, brake reverses */
    float steer;    /* -1 (right) .. 1 (left) */
    bool nitro;     /* fire a charge (held: keeps burning the current charge) */
    bool handbrake; /* locks the rear: less grip, more slide */
} CarInput;

/* The compact wire/replay form of a CarInput: 4 bytes. */
typedef struct {
    uint8_t throttle, brake;
    int8_t steer;
    uint8_t flags; /* bit 0 nitro, bit 1 handbrake */
} PackedInput;
PackedInput input_pack(const CarInput *in);
CarInput input_unpack(PackedInput p);

/* ---- rules -------------------------------------------------------------- */

/* Facts about a car that rules hooks see. */
typedef struct {
    int car;           /* index in the race */
    int checkpoint;    /* checkpoint just passed (0-based), or -1 */
    double time_s;     /* race time since the start */
    double split_s;    /* time since the previous checkpoint (or start) */
    double offtrack_s; /* time off the road since the previous checkpoint */
    double impulse;    /* collision impulse (kg*u/s), for on_collision */
    int other;         /* other car index in a collision, -1 for a wall */
} RuleEvent;

/* Race rules as the simulation uses them. The hooks are optional (NULL);
 * they return a penalty in seconds (>= 0) added to the car's time, or a
 * negative CR_ error which stops the race with CR_ESCRIPT from race_step. */
typedef struct {
    int countdown_ticks;   /* before the start; inputs are ignored until then */
    int time_limit_ticks;  /* after the start; cars still running are DNF */
    int stall_limit_ticks; /* no progress for this long: DNF (0 = never) */
    void *ud;
    double (*on_checkpoint)(void *ud, const RuleEvent *ev);
    double (*on_finish)(void *ud, const RuleEvent *ev);
    double (*on_collision)(void *ud, const RuleEvent *ev);
    /* Why the last hook failed, or NULL. */
    const char *(*last_error)(void *ud);
} RaceRules;

/* ---- sensors ------------------------------------------------------------ */

/* The sensor record: what a driver (the built-in AI, a Python bot, a test)
 * knows about the race, built every CR_BOT_TICK_EVERY ticks. Fog of war:
 * opponents appear only within SENSOR_VISION_RANGE and the vision cone.
 * Car frame: forward is +x along the heading, left is +y. Every field is
 * documented with units in docs/BOT_API.md. */
typedef struct {
    float forward, left;  /* u, position in the car frame */
    float distance;       /* u */
    float bearing;        /* rad, angle from the heading, left positive */
    float speed;          /* u/s */
    float heading_rel;    /* rad, its heading minus ours, in (-pi, pi] */
    float rel_vf, rel_vl; /* u/s, its velocity minus ours, car frame */
} SensorOpponent;

typedef struct {
    float forward, left; /* u, centre of the gate in the car frame */
    float distance;      /* u, straight-line */
    float bearing;       /* rad */
    float width;         /* u, gate width (the road width there) */
    int32_t index;       /* checkpoint index; == checkpoint count for the finish */
} SensorCheckpoint;

typedef struct {
    float ahead;         /* u of route ahead of the car's route position */
    float forward, left; /* u, road centre at that point in the car frame */
    float bearing;       /* rad */
    float width;         /* u, road width */
    float curvature;     /* 1/u, left positive, of the road there */
    int32_t surface;     /* Surface */
} SensorPaceNote;

typedef struct {
    uint32_t tick; /* simulation tick */
    float time_s;  /* s since the start; negative in the countdown */
    int32_t phase; /* RacePhase */
    /* own car */
    float x, y;             /* u, world */
    float heading;          /* rad, world */
    float speed;            /* u/s, magnitude of velocity */
    float v_forward;        /* u/s, velocity along the heading */
    float v_left;           /* u/s, sideways velocity (slide) */
    float angular_velocity; /* rad/s, left positive */
    int32_t surface;        /* Surface under the car */
    float edge_left;        /* u from car centre to the left road edge (<0 off road) */
    float edge_right;       /* u to the right road edge */
    bool on_road;
    bool sliding; /* lateral grip exceeded */
    bool finished, dnf;
    int32_t nitro_charges; /* left */
    float nitro_s;         /* s of burn left in the active charge, 0 if none */
    float top_speed;       /* u/s, the car's stat, for planning */
    int32_t checkpoints_passed, checkpoints_total;
    int32_t position;   /* 1-based race position now */
    int32_t cars;       /* cars in the race */
    float progress;     /* u along the route from the start */
    float stage_length; /* u */
    /* rays: angle SENSOR_RAY_ANGLES[i] from the heading, distance to the road
     * edge (u, capped at SENSOR_RAY_RANGE) */
    float rays[SENSOR_RAYS];
    int32_t n_opponents;
    SensorOpponent opponents[SENSOR_MAX_OPPONENTS]; /* nearest first */
    int32_t n_checkpoints;
    SensorCheckpoint checkpoints[SENSOR_CHECKPOINTS]; /* next first; finish last */
    SensorPaceNote pace[SENSOR_PACE_NOTES];           /* road ahead at SENSOR_PACE_AHEAD */
} SensorRecord;

extern const float SENSOR_RAY_ANGLES[SENSOR_RAYS];       /* rad, right to left */
extern const float SENSOR_PACE_AHEAD[SENSOR_PACE_NOTES]; /* u ahead */

/* ---- the race room ------------------------------------------------------ */

typedef enum { PHASE_COUNTDOWN = 0, PHASE_RUNNING = 1, PHASE_FINISHED = 2 } RacePhase;

typedef enum {
    EVENT_START = 0,      /* countdown over */
    EVENT_CHECKPOINT = 1, /* car passed checkpoint a */
    EVENT_FINISH = 2,     /* car crossed the finish; value = stage time (s) */
    EVENT_DNF = 3,        /* a = DNF_* reason */
    EVENT_COLLISION = 4,  /* car hit car a (-1 = a wall); value = impulse */
    EVENT_PENALTY = 5,    /* value = seconds added */
    EVENT_RACE_END = 6
} EventType;

enum { DNF_TIME_LIMIT = 1, DNF_STALLED = 2, DNF_RETIRED = 3 };

typedef struct {
    uint32_t tick;
    int16_t type; /* EventType */
    int16_t car;  /* -1 for race-wide events */
    int32_t a;
    double value;
} RaceEvent;

typedef struct {
    float x, y, heading;
    float vx, vy, angular_velocity;
    float throttle, steer; /* last applied, for rendering */
    uint8_t surface;
    uint8_t flags; /* CAR_FLAG_* */
    uint8_t nitro_charges;
    uint8_t position;     /* 1-based */
    int16_t checkpoints;  /* passed */
    uint16_t nitro_ticks; /* left of the burn; with the rest, what re-simulation needs */
    float progress;       /* u */
    float time_s;         /* stage time with penalties once FINISHED, else 0 */
    float penalty_s;      /* penalty seconds so far */
} CarSnapshot;

enum {
    CAR_FLAG_SLIDING = 1,
    CAR_FLAG_NITRO = 2,
    CAR_FLAG_OFFROAD = 4,
    CAR_FLAG_FINISHED = 8,
    CAR_FLAG_DNF = 16,
    CAR_FLAG_BRAKING = 32,
    CAR_FLAG_NITRO_HELD = 64 /* nitro was held at the last step: a charge needs a new press */
};

typedef struct {
    uint32_t tick;
    int32_t phase; /* RacePhase */
    float time_s;  /* since the start; negative in the countdown */
    int32_t n_cars;
    CarSnapshot cars[CR_MAX_CARS];
} RaceSnapshot;

typedef struct {
    int car;      /* index in the race */
    int position; /* 1-based final position */
    bool finished, dnf;
    int dnf_reason; /* DNF_* or 0 */
    double time_s;  /* stage time including penalties; valid if finished */
    double penalty_s;
    int checkpoints; /* passed */
    double progress; /* u along the route reached */
} RaceResult;

typedef struct RaceRoom RaceRoom;

/* Creates a race on stage (which must outlive the room) with n_cars cars on
 * the start grid in the order given. rules is copied. */
int race_create(const Stage *stage, const CarEntry *cars, int n_cars, const RaceRules *rules,
                RaceRoom **out, CrError *err);
void race_destroy(RaceRoom *room);

/* Sets car's input for the next step and the steps after, until changed.
 * CR_EINVAL for a bad car index. Inputs are quantised (see CarInput). */
int race_set_input(RaceRoom *room, int car, const CarInput *in);
int race_set_packed_input(RaceRoom *room, int car, PackedInput in);
/* The input car holds now, in its quantised form (what a replay records). */
PackedInput race_input(const RaceRoom *room, int car);
/* Takes a car out of the race (DNF_RETIRED), e.g. a disconnected player. */
int race_retire(RaceRoom *room, int car);

/* Advances one tick. CR_OK, or CR_ESCRIPT if a rules hook failed (err says
 * why; the room is then finished). Stepping a finished race does nothing. */
int race_step(RaceRoom *room, CrError *err);

uint32_t race_tick(const RaceRoom *room);
RacePhase race_phase(const RaceRoom *room);
int race_car_count(const RaceRoom *room);
const CarEntry *race_car(const RaceRoom *room, int car);
const Stage *race_stage(const RaceRoom *room);

/* Events of the last step, valid until the next step. */
const RaceEvent *race_events(const RaceRoom *room, size_t *n);

void race_snapshot(const RaceRoom *room, RaceSnapshot *out);

/* Fills the sensor record of car as of now. Costs a few hundred ns. */
int race_sensors(const RaceRoom *room, int car, SensorRecord *out);

/* Results ordered by position: finishers by time, then the rest by
 * checkpoints and progress. out must hold race_car_count entries. */
void race_results(const RaceRoom *room, RaceResult *out);

/* Hash of the complete simulation state: equal states hash equal, and any
 * difference in any car's state changes it (with overwhelming probability). */
uint64_t race_hash(const RaceRoom *room);

/* ---- the built-in AI driver --------------------------------------------- */

/* Decides controls from the sensor record only, as a bot must. Deterministic.
 * skill in 0..1 scales how hard it pushes (1 = fastest). */
void ai_drive(const SensorRecord *s, double skill, CarInput *out);
/* The same on stage's own surface table (surface indices in s are the
 * stage's); ai_drive assumes the default table. */
void ai_drive_on(const Stage *stage, const SensorRecord *s, double skill, CarInput *out);

/* ---- scripts (Lua) ------------------------------------------------------ */

/* A scripts directory loaded into sandboxed Lua: config.lua, upgrades.lua,
 * rules/NAME.lua, stages/NAME.lua. Every script runs with an allow-listed
 * environment, an instruction budget and a memory cap; errors come back in
 * CrError as "file:line: message" plus a traceback. */
typedef struct Scripts Scripts;

/* A KEY=VALUE setting override (from the environment or a flag). */
typedef struct {
    const char *key;
    const char *value;
} ConfigOverride;

/* Loads dir. Settings come from config.lua, then CODERALLY_<KEY> environment
 * variables, then overrides (later wins). An unknown key or a value of the
 * wrong type is an error naming the key. The caller owns *out. */
int scripts_open(const char *dir, const ConfigOverride *overrides, size_t n_overrides,
                 Scripts **out, CrError *err);
/* Loads base's folder again (from disk, as scripts_open) with base's
 * overrides followed by extra (later wins): the same settings with a few
 * changed, e.g. the STAGE_* settings a replay was recorded under. */
int scripts_open_more(const Scripts *base, const ConfigOverride *extra, size_t n_extra,
                      Scripts **out, CrError *err);
/* Drops a reference; the last one frees the snapshot. NULL does nothing. */
void scripts_close(Scripts *sc);
/* Takes another reference; returns sc. Rules (a race) hold one, so a race
 * keeps the snapshot it started with whatever is reloaded meanwhile. */
Scripts *scripts_ref(Scripts *sc);
const char *scripts_dir(const Scripts *sc);

/* A Scripts is an immutable snapshot: scripts_open reads every file it may
 * use (config.lua, upgrades.lua, rules/, stages/, lib/) into memory once,
 * and races, generation, import and hashes use those texts only.
 *
 * scripts_reload reads old's folder again (with old's overrides) into a new
 * snapshot and checks all of it: config, upgrades, every generator's header
 * and every rule set. Only if nothing is newly broken (a generator that was
 * already broken in old may stay broken) is *out set (the caller owns it
 * and swaps it in); otherwise err says which file and line, *out is NULL,
 * and old stays in force untouched. */
int scripts_reload(const Scripts *old, Scripts **out, CrError *err);
/* Has anything under the folder changed since the snapshot was read (a
 * script added, removed, or its size or mtime changed)? Cheap: one stat per
 * file. */
bool scripts_changed(const Scripts *sc);
/* A hash of what the folder's scripts are on disk now (names, sizes,
 * mtimes), and of what they were when sc was read: a watcher remembers the
 * last one it tried, so a broken edit is reported once. 0 if unreadable. */
uint64_t scripts_disk_fingerprint(const char *dir);
uint64_t scripts_fingerprint(const Scripts *sc);

/* Settings. CR_ENOTFOUND for an unknown key, CR_EINVAL for a wrong type. */
int scripts_config_number(const Scripts *sc, const char *key, double *out);
int scripts_config_string(const Scripts *sc, const char *key, const char **out);
/* Stage limits from STAGE_MIN_LENGTH / STAGE_MAX_LENGTH. */
StageLimits scripts_stage_limits(const Scripts *sc);

/* One declared parameter of a generator: generate() gets def unless the
 * caller gives a number in min..max. */
#define CR_MAX_GEN_PARAMS 32
typedef struct {
    char name[CR_NAME_MAX];
    double def, min, max;
    char description[160]; /* may be empty */
} GeneratorParam;

typedef struct {
    char name[CR_NAME_MAX];
    char version[CR_NAME_MAX];
    char description[256];
    char file[512]; /* relative to the scripts folder: "stages/forest.lua" */
    size_t n_params;
    GeneratorParam params[CR_MAX_GEN_PARAMS]; /* sorted by name */
} GeneratorInfo;

/* Generators found in stages/, sorted by name. A generator's file is run
 * (in a throwaway state, from the snapshot) only when something asks about
 * it: scripts_generator, _error, _find or a generation. A Scripts is for
 * one thread at a time (its caches change); take a reference per race. */
size_t scripts_generator_count(const Scripts *sc);
const GeneratorInfo *scripts_generator(const Scripts *sc, size_t i);
/* Why generator i failed to load ("file:line: message"), or NULL if it is fine. */
const char *scripts_generator_error(const Scripts *sc, size_t i);
/* CR_ENOTFOUND (listing the known names in err) if there is no such one. */
int scripts_find_generator(const Scripts *sc, const char *name, const GeneratorInfo **out,
                           CrError *err);

/* The snapshot's surface table (surfaces.lua, or the default without one):
 * what its generators may name and every stage it makes is compiled with. */
const SurfaceTable *scripts_surfaces(const Scripts *sc);
/* Runs generator name with seed in a fresh throwaway Lua state and compiles
 * the result. params overrides the generator's declared parameters (each
 * value a number within the declared min..max). CR_ESCRIPT for a script
 * error, CR_ESTAGE for an invalid stage; err says which file, line and what.
 * Compiled stages are cached by (generator, version, seed, params): asking
 * again returns the same Stage. The caller owns one reference to *out
 * (stage_destroy), which stays valid after scripts_close. */
int scripts_generate_stage(Scripts *sc, const char *name, uint64_t seed,
                           const ConfigOverride *params, size_t n_params, Stage **out,
                           CrError *err);

/* Car types and upgrades from upgrades.lua: everything a garage shows and
 * a server needs to validate and price a purchase. All of it is read when
 * the scripts are opened (every level of every upgrade of every car type is
 * computed and validated then), so these getters never run Lua. */
#define CR_UPGRADE_MAX_LEVELS 16

typedef struct {
    char id[CR_NAME_MAX];  /* "hatch": the key races and saved cars use */
    char name[64];         /* display name, "Rally Hatch" */
    char description[256]; /* may be empty */
    int64_t price;         /* points to unlock it; 0 = every player has it */
    CarStats base;         /* stats with every upgrade at level 0 */
} CarTypeInfo;

typedef struct {
    char stat[CR_NAME_MAX]; /* the CarStats field it changes: "top_speed", ... */
    char name[64];          /* display name, "Top speed" (the stat if unnamed) */
    char description[256];  /* may be empty */
    int max_level;          /* levels run 0..max_level, 1 <= max_level <= 16 */
    /* cost[k] is the price in points of going from level k to k+1,
     * for 0 <= k < max_level; every cost is a whole number >= 0. */
    int64_t cost[CR_UPGRADE_MAX_LEVELS];
} UpgradeInfo;

/* Car types sorted by id. */
size_t scripts_car_type_count(const Scripts *sc);
const char *scripts_car_type(const Scripts *sc, size_t i); /* its id; NULL past the end */
const CarTypeInfo *scripts_car_type_info(const Scripts *sc, size_t i); /* NULL past the end */
/* CR_ENOTFOUND (listing the known ids in err) if there is no such type. */
int scripts_find_car_type(const Scripts *sc, const char *id, const CarTypeInfo **out, CrError *err);

/* Upgradable stats sorted by stat name. */
size_t scripts_upgrade_count(const Scripts *sc);
const UpgradeInfo *scripts_upgrade(const Scripts *sc, size_t i); /* NULL past the end */
/* CR_ENOTFOUND (listing the known stats in err) if stat is not upgradable. */
int scripts_find_upgrade(const Scripts *sc, const char *stat, const UpgradeInfo **out,
                         CrError *err);
/* What upgrade stat at level does for car_type: the stat's value with that
 * upgrade at level and every other at 0 (level 0 gives the base value), so a
 * garage shows "now" and "next level" as two calls. CR_ENOTFOUND for an
 * unknown type or stat, CR_EINVAL for a level outside 0..max_level. */
int scripts_upgrade_value(const Scripts *sc, const char *car_type, const char *stat, int level,
                          double *out, CrError *err);
/* Price of buying level to_level of stat (from to_level - 1): CR_EINVAL for
 * to_level outside 1..max_level, CR_ENOTFOUND for an unknown stat. */
int scripts_upgrade_cost(const Scripts *sc, const char *stat, int to_level, int64_t *out,
                         CrError *err);

/* One upgrade level for one stat, e.g. {"grip", 2}. */
typedef struct {
    const char *stat;
    int level;
} UpgradeLevel;
/* Stats of car_type at the given upgrade levels (others at 0), validated:
 * an unknown stat or a level outside 0..max_level is CR_EINVAL naming it. */
int scripts_car_stats(Scripts *sc, const char *car_type, const UpgradeLevel *levels,
                      size_t n_levels, CarStats *out, CrError *err);

/* A rule set from rules/NAME.lua of the snapshot bound to one race, in its
 * own Lua state, holding a reference to the snapshot: the race keeps the
 * rules it started with whatever is reloaded. The rules table is checked
 * strictly (unknown fields, a name that is not the file's, wrong types are
 * errors with the file). Hooks run under a small budget per call and per
 * tick backed by a wall-clock watchdog; a hook that fails, overruns or
 * returns a bad penalty makes race_step return CR_ESCRIPT with
 * "rules/NAME.lua:LINE: message" and finishes that race only. */
typedef struct Rules Rules;
/* The rule sets of the snapshot (rules/NAME.lua), sorted by name: up to
 * max names into names; returns how many there are. */
size_t scripts_rule_sets(const Scripts *sc, char (*names)[CR_NAME_MAX], size_t max);
int rules_load(Scripts *sc, const char *name, const Stage *stage, Rules **out, CrError *err);
void rules_destroy(Rules *rules);
const RaceRules *rules_race(const Rules *rules);
/* The rule set's numbers as loaded: seconds (rules_race has them in ticks)
 * and which are functions of the stage (their values are then for the
 * stage given to rules_load; with none, the field's lowest allowed value). */
typedef struct {
    double countdown_s, time_limit_s, stall_limit_s; /* stall 0 = never */
    bool countdown_per_stage, time_limit_per_stage, stall_limit_per_stage;
} RulesNumbers;
const RulesNumbers *rules_numbers(const Rules *rules);
const char *rules_name(const Rules *rules);
uint64_t rules_hash(const Rules *rules); /* of the script text that runs */
/* Who is who, for points(): each result then carries the car's name and
 * kind. cars is copied; call it once with the race's cars. */
void rules_set_cars(Rules *rules, const CarEntry *cars, int n_cars);
/* Points for each result (same order as results). */
int rules_points(Rules *rules, const RaceResult *results, int n, int *points, CrError *err);

/* A room's lobby from lobby.lua of the snapshot (docs/MODDING.md, "Lobby"),
 * in its own Lua state holding a reference to the snapshot: a room keeps
 * the lobby it opened with. Two forms: the match-handler form (the table
 * has init, after Nakama's match handler) keeps a state table of the
 * script's own that init makes and every later hook gets as its second
 * argument, and may run a loop a few times a second; the legacy form (no
 * init) has the first hooks (on_join, on_ready, on_leave) and no state.
 * Without lobby.lua the built-in lobby applies (join while not full, start
 * when all are ready, no AI fill, a leaver's car retired,
 * LOBBY_DEFAULT_GRACE_S of grace). A hook that fails or returns the wrong
 * thing returns its error ("lobby.lua:LINE: ...") with the built-in answer
 * in the outputs, so the room carries on safely. */
#define LOBBY_DEFAULT_GRACE_S 10.0
#define LOBBY_LOOP_HZ_MAX 10
#define LOBBY_LABEL_MAX 64
#define LOBBY_MESSAGE_MAX 200
#define LOBBY_REASON_MAX 120
typedef struct Lobby Lobby;
typedef enum { LOBBY_RETIRE = 0, LOBBY_AI, LOBBY_HOLD } LobbyLeave;
typedef struct {
    int64_t user_id;
    const char *username;
    bool bot, ready, connected;
    int position; /* race position 1..; 0 before the race */
} LobbyPlayer;
typedef struct {
    const char *id;
    const char *phase; /* "open", "countdown", "running", "finished" */
    int max_cars;
    int n_players;
    const LobbyPlayer *players;
    int n_spectators;
} LobbyRoom;
/* Where the room is when its loop runs. */
typedef struct {
    int64_t n;        /* 1, 2, ... */
    double elapsed_s; /* since the room opened */
    bool racing;      /* race_tick and race_time_s are the race's */
    int64_t race_tick;
    double race_time_s; /* negative in the countdown */
} LobbyTick;
/* What a loop asked for (all zero: nothing). */
typedef struct {
    int start; /* 1: start after countdown_s; -1: cancel a start counting down */
    double countdown_s;
    int n_kick;
    int64_t kick[CR_MAX_CARS]; /* user ids */
    char reason[LOBBY_REASON_MAX + 1];
    char message[LOBBY_MESSAGE_MAX + 1]; /* "" none */
    bool label_changed;                  /* lobby_label() has the new one */
} LobbyActions;
int lobby_load(Scripts *sc, Lobby **out, CrError *err); /* sc NULL: built-in */
int lobby_check(Scripts *sc, CrError *err);             /* loads and drops */
void lobby_destroy(Lobby *lobby);
bool lobby_has_script(const Lobby *lobby);
int lobby_min_players(const Lobby *lobby);
double lobby_grace_s(const Lobby *lobby);
/* The handler form's init, once per room before any other hook: the state,
 * the loop's rate and the label. On failure the state is an empty table
 * and the defaults apply. Nothing to do for the other forms. */
int lobby_init(Lobby *lobby, const LobbyRoom *room, CrError *err);
double lobby_loop_hz(const Lobby *lobby);    /* 0: no loop hook */
const char *lobby_label(const Lobby *lobby); /* "" when none */
size_t lobby_memory(const Lobby *lobby);     /* bytes its Lua state holds */
int lobby_join_attempt(Lobby *lobby, const LobbyRoom *room, const LobbyPlayer *player, bool *ok,
                       char *reason, size_t reason_n, CrError *err);
/* Notifications: a player took a seat; a player's ready flag changed. */
int lobby_join(Lobby *lobby, const LobbyRoom *room, const LobbyPlayer *player, CrError *err);
int lobby_ready(Lobby *lobby, const LobbyRoom *room, const LobbyPlayer *player, CrError *err);
/* countdown_s < 0 when the rules' own countdown applies. */
int lobby_should_start(Lobby *lobby, const LobbyRoom *room, bool *start, double *countdown_s,
                       CrError *err);
int lobby_ai_fill(Lobby *lobby, const LobbyRoom *room, int *n, CrError *err);
/* A player gave up their seat (why: "left", "timeout" when their grace ran
 * out, "kicked") in phase: what their car becomes (meaningless in "open",
 * where the seat is simply freed; the legacy on_leave is not asked then). */
int lobby_leave(Lobby *lobby, const LobbyRoom *room, const LobbyPlayer *player, const char *phase,
                const char *why, LobbyLeave *out, CrError *err);
/* The handler form's loop (lobby_loop_hz() times a second). */
int lobby_loop(Lobby *lobby, const LobbyRoom *room, const LobbyTick *tick, LobbyActions *out,
               CrError *err);
/* The room ends (reason: "finished", "aborted", "shutdown"); the last hook. */
int lobby_terminate(Lobby *lobby, const LobbyRoom *room, const char *reason, CrError *err);
const char *lobby_leave_name(LobbyLeave leave);

#endif
