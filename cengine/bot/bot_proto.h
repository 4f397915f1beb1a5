/*
 * bot_proto.h - the wire format between the host (cengine/bot/) and the
 * sandboxed bot workers of coderally-botd (botsandbox/). Pure C, no Python:
 * both sides compile bot_proto.c.
 *
 * Every message is one frame: a fixed header and a payload of at most
 * BOT_PROTO_MAX_FRAME bytes. All integers are little-endian; strings are a
 * u32 length followed by that many bytes (no NUL). A reader checks every
 * length against what is left of the frame and fails the whole frame on any
 * overrun, unknown type or wrong version.
 *
 *   offset  size  field
 *   0       4     len      bytes after this field (8 + payload), <= BOT_PROTO_MAX_FRAME
 *   4       1     version  BOT_PROTO_VERSION
 *   5       1     type     BotMsgType
 *   6       2     flags    BOT_FLAG_*
 *   8       4     seq      request sequence number; a reply echoes it
 *   12      ...   payload  per type, see below
 *
 * Host -> zygote (SOCK_SEQPACKET, one frame per packet):
 *   ZY_SPAWN     u32 memory_limit_mb, u32 cpu_limit_s
 *   ZY_SPAWNED   u32 pid; SCM_RIGHTS carries [worker socket, pidfd or none]
 *   ZY_FAILED    str message
 *
 * Host <-> worker (SOCK_STREAM; exactly one reply per request):
 *   BOT_INIT     u32 start_budget_us, u32 tick_budget_us, u64 seed,
 *                u32 log_cap, u32 memory_cap, u8 check_only,
 *                u8 n, n x f32 ray angles, u8 m, m x f32 pace-note distances,
 *                str name, str source, str memory_json,
 *                u8 has_car [, f64 top_speed, acceleration, grip, braking,
 *                u32 nitro_capacity, nitro_duration, f64 handling, weight]
 *                (the bot's car for coderally.predict(); a worker accepts
 *                an INIT that ends before has_car: predict() is then off)
 *                [, u8 n_surfaces, n x (str name, f64 grip, drag, top_speed),
 *                u8 verge] (the stage's surface table: the names states
 *                carry and predict()'s physics; absent: the default table)
 *                [, str stage_json] (the stage's identity, the bot's
 *                self.stage: {"generator", "seed", "params", "hash"};
 *                absent or empty: {})
 *   BOT_INIT_REPLY  u8 BotStatus, str problems ("LINE: message" per line), str log
 *   BOT_TICK     u32 tick, u16 n_events, n x BotWireEvent, u32 sensor_size,
 *                SensorRecord (raw, same build on both sides)
 *   BOT_ACTIONS  u8 BotStatus, u32 cpu_us, f32 throttle, f32 brake, f32 steer,
 *                u8 input_flags, str message, str log, u16 n_draw, n x drawing
 *                (u8 kind, u32 rgb, f32 a, b, c, d, str text)
 *   BOT_FINISH   u16 n_events, n x BotWireEvent
 *   BOT_FINISH_REPLY u8 BotStatus, str memory_json, str message, str log
 *   BOT_FATAL    str reason   (worker -> host, instead of a reply; the worker exits)
 *
 * A reply with BOT_FLAG_RESTART means the worker exits after sending it (its
 * state is unusable, e.g. after running out of memory): the host replaces it.
 */
#ifndef CR_BOT_PROTO_H
#define CR_BOT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coderally.h"

#define BOT_PROTO_VERSION 1
#define BOT_PROTO_HEADER 12
#define BOT_PROTO_MAX_FRAME (1u << 20) /* 1 MiB: bounds every message */
#define BOT_SOURCE_MAX (64u * 1024u)   /* bytes of bot source */
#define BOT_MEMORY_MAX (64u * 1024u)   /* bytes of self.memory as JSON */
#define BOT_STAGE_MAX 4096u            /* bytes of self.stage as JSON */
#define BOT_LOG_CHUNK_MAX (8u * 1024u) /* log bytes one reply may carry */
#define BOT_MESSAGE_MAX 1024u          /* bytes of an error message */
#define BOT_MAX_EVENTS 64              /* events batched into one tick */
#define BOT_MAX_DRAWINGS 32            /* debug drawings per tick */
#define BOT_DRAW_TEXT_MAX 64           /* bytes of one drawing's text */
#define BOT_WORKER_FD 3                /* the worker's socket, its only fd */

typedef enum {
    ZY_SPAWN = 1,
    ZY_SPAWNED = 2,
    ZY_FAILED = 3,
    BOT_INIT = 10,
    BOT_INIT_REPLY = 11,
    BOT_TICK = 12,
    BOT_ACTIONS = 13,
    BOT_FINISH = 14,
    BOT_FINISH_REPLY = 15,
    BOT_FATAL = 16
} BotMsgType;

enum { BOT_FLAG_RESTART = 1 };

/* Outcome of one call into bot code, as the worker reports it. */
typedef enum {
    BOT_STATUS_OK = 0,
    BOT_STATUS_ERROR = 1,      /* exception, bad return value: neutral input */
    BOT_STATUS_TIMEOUT = 2,    /* CPU budget exceeded: neutral input */
    BOT_STATUS_COMPILE = 3,    /* INIT: the source does not pass the policy */
    BOT_STATUS_CRASH = 4,      /* host-side only: worker died, killed or hung */
    BOT_STATUS_UNAVAILABLE = 5 /* host-side only: no worker ready (starting, reviving) */
} BotStatus;

/* Bot events (a subset of EventType) as they travel in a tick. */
typedef enum {
    BOT_EVENT_START = 0,
    BOT_EVENT_CHECKPOINT = 1, /* a = checkpoint index, value = race time (s) */
    BOT_EVENT_COLLISION = 2,  /* a = other car or -1 for a wall, value = impulse */
    BOT_EVENT_FINISH = 3,     /* a = 1 finished / 0 DNF, value = race time (s) */
} BotEventType;

typedef struct {
    uint32_t tick;
    uint8_t type; /* BotEventType */
    int32_t a;
    double value;
} BotWireEvent;

typedef enum { BOT_DRAW_LINE = 0, BOT_DRAW_CIRCLE = 1, BOT_DRAW_TEXT = 2 } BotDrawKind;

/* One debug drawing in world coordinates (u). Line: (a, b) -> (c, d);
 * circle: centre (a, b), radius c; text: at (a, b). */
typedef struct {
    uint8_t kind; /* BotDrawKind */
    uint32_t rgb; /* 0xRRGGBB */
    float a, b, c, d;
    char text[BOT_DRAW_TEXT_MAX + 1];
} BotDrawing;

/* A growable output frame. bot_buf_* never fail loudly: on overflow or OOM
 * they set failed and later calls do nothing; check failed once at the end. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} BotBuf;

void bot_buf_init(BotBuf *b);
void bot_buf_fini(BotBuf *b);
/* Starts a frame (resets the buffer). */
void bot_buf_begin(BotBuf *b, BotMsgType type, uint16_t flags, uint32_t seq);
void bot_buf_u8(BotBuf *b, uint8_t v);
void bot_buf_u16(BotBuf *b, uint16_t v);
void bot_buf_u32(BotBuf *b, uint32_t v);
void bot_buf_u64(BotBuf *b, uint64_t v);
void bot_buf_f32(BotBuf *b, float v);
void bot_buf_f64(BotBuf *b, double v);
void bot_buf_bytes(BotBuf *b, const void *p, size_t n); /* raw, no length */
void bot_buf_str(BotBuf *b, const char *s, size_t n);   /* u32 length + bytes */
void bot_buf_event(BotBuf *b, const BotWireEvent *ev);
/* Writes the length into the header. 0, or CR_EINVAL if anything failed or
 * the frame exceeds BOT_PROTO_MAX_FRAME. */
int bot_buf_end(BotBuf *b);

/* Reads a frame's fields; any overrun sets failed and returns zeros. */
typedef struct {
    const uint8_t *p;
    size_t n, pos;
    bool failed;
} BotReader;

typedef struct {
    uint8_t version, type;
    uint16_t flags;
    uint32_t seq;
} BotHeader;

/* Checks the header of a complete frame (data, n includes the length field)
 * and points r at its payload. CR_EFORMAT on a bad version or length. */
int bot_reader_open(BotReader *r, const uint8_t *data, size_t n, BotHeader *hdr);
uint8_t bot_read_u8(BotReader *r);
uint16_t bot_read_u16(BotReader *r);
uint32_t bot_read_u32(BotReader *r);
uint64_t bot_read_u64(BotReader *r);
float bot_read_f32(BotReader *r);
double bot_read_f64(BotReader *r);
/* Points *out at n raw bytes inside the frame (not copied). */
const uint8_t *bot_read_bytes(BotReader *r, size_t n);
/* A string: points into the frame; *len is its length; at most max bytes. */
const char *bot_read_str(BotReader *r, size_t max, size_t *len);
void bot_read_event(BotReader *r, BotWireEvent *ev);
/* True if every byte of the payload was consumed and nothing failed. */
bool bot_reader_done(const BotReader *r);

/* Length of the frame starting at data if at least 4 bytes are there, else 0.
 * Returns SIZE_MAX for a length that can never be valid. */
size_t bot_frame_size(const uint8_t *data, size_t avail);

#endif
