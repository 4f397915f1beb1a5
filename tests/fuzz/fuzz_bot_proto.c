/*
 * fuzz_bot_proto.c - bot protocol frames into the decoders of bot_proto.h,
 * which both ends use: the host (cengine/bot/) and the worker
 * (botsandbox/worker.c). The input is a byte stream as it arrives on a
 * socket: frames are cut with bot_frame_size, opened with bot_reader_open
 * and every message type is read field by field in the order its reader
 * reads it (the layouts drawn in bot_proto.h, with the same caps the host
 * and the worker pass). Then:
 *   - every string the reader hands out lies inside the frame, within its cap;
 *   - a frame read to the end without failure is re-encoded with bot_buf_*
 *     and must come out byte for byte the same (reader and writer agree).
 * The worker's own request handlers cannot run here: see docs/FUZZING.md.
 */
#include <assert.h>
#include <string.h>

#include "bot_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field codes of a message layout:
 *   b u8, h u16, w u32, q u64, f f32, s str (cap in caps[]),
 *   F u8 count + f32s (cap in caps[]), E u16 count + events (BOT_MAX_EVENTS),
 *   R u32 size + raw bytes (a SensorRecord), D u16 count + drawings,
 *   C optional at the end: u8 has_car [+ f64 x 4, u32 x 2, f64 x 2], then
 *     optional: u8 n, n x (str name, f64 x 3), u8 verge (the surface table). */
typedef struct {
    uint8_t type;
    const char *fields;
    size_t caps[4]; /* for s and F, in order of appearance */
} Layout;

static const Layout LAYOUTS[] = {
    {ZY_SPAWN, "ww", {0}},
    {ZY_SPAWNED, "w", {0}},
    {ZY_FAILED, "s", {200}},
    {BOT_INIT, "wwqwwbFFsssC", {SENSOR_RAYS, SENSOR_PACE_NOTES, 256, BOT_SOURCE_MAX}},
    {BOT_INIT_REPLY, "bss", {1 << 16, BOT_LOG_CHUNK_MAX + 64}},
    {BOT_TICK, "wER", {0}},
    {BOT_ACTIONS, "bwfffbssD", {BOT_MESSAGE_MAX, BOT_LOG_CHUNK_MAX + 64}},
    {BOT_FINISH, "E", {0}},
    {BOT_FINISH_REPLY, "bsss", {BOT_MEMORY_MAX, BOT_MESSAGE_MAX, BOT_LOG_CHUNK_MAX + 64}},
    {BOT_FATAL, "s", {BOT_MESSAGE_MAX}},
};

/* BOT_INIT's third string (memory JSON) has its own cap. */
static size_t cap_of(const Layout *l, int k) {
    if (l->type == BOT_INIT && k == 4) return BOT_MEMORY_MAX;
    return l->caps[k];
}

static const uint8_t *g_frame;
static size_t g_frame_n;

static void read_str(BotReader *r, BotBuf *out, size_t max) {
    size_t len = 12345;
    const char *s = bot_read_str(r, max, &len);
    if (!s) {
        assert(len == 0 && r->failed);
        return;
    }
    assert(len <= max);
    assert((const uint8_t *)s >= g_frame && (const uint8_t *)s + len <= g_frame + g_frame_n);
    bot_buf_str(out, s, len);
}

static void read_drawing(BotReader *r, BotBuf *out) {
    bot_buf_u8(out, bot_read_u8(r));
    bot_buf_u32(out, bot_read_u32(r));
    for (int i = 0; i < 4; i++) bot_buf_f32(out, bot_read_f32(r));
    read_str(r, out, BOT_DRAW_TEXT_MAX);
}

static void read_fields(const Layout *l, BotReader *r, BotBuf *out) {
    int k = 0;
    for (const char *f = l->fields; *f && !r->failed; f++) {
        switch (*f) {
            case 'b':
                bot_buf_u8(out, bot_read_u8(r));
                break;
            case 'h':
                bot_buf_u16(out, bot_read_u16(r));
                break;
            case 'w':
                bot_buf_u32(out, bot_read_u32(r));
                break;
            case 'q':
                bot_buf_u64(out, bot_read_u64(r));
                break;
            case 'f':
                bot_buf_f32(out, bot_read_f32(r));
                break;
            case 's':
                read_str(r, out, cap_of(l, k++));
                break;
            case 'F': {
                uint8_t n = bot_read_u8(r);
                if (n > cap_of(l, k++)) r->failed = true;
                bot_buf_u8(out, n);
                for (int i = 0; i < n && !r->failed; i++) bot_buf_f32(out, bot_read_f32(r));
                break;
            }
            case 'E': {
                uint16_t n = bot_read_u16(r);
                if (n > BOT_MAX_EVENTS) r->failed = true;
                bot_buf_u16(out, n);
                for (int i = 0; i < n && !r->failed; i++) {
                    BotWireEvent ev;
                    bot_read_event(r, &ev);
                    bot_buf_event(out, &ev);
                }
                break;
            }
            case 'R': {
                uint32_t n = bot_read_u32(r);
                const uint8_t *p = bot_read_bytes(r, n);
                if (p) {
                    assert(p >= g_frame && p + n <= g_frame + g_frame_n);
                    bot_buf_u32(out, n);
                    bot_buf_bytes(out, p, n);
                }
                break;
            }
            case 'D': {
                uint16_t n = bot_read_u16(r);
                if (n > BOT_MAX_DRAWINGS) r->failed = true;
                bot_buf_u16(out, n);
                for (int i = 0; i < n && !r->failed; i++) read_drawing(r, out);
                break;
            }
            case 'C':
                if (r->pos == r->n) break; /* an older host: no car */
                {
                    uint8_t has = bot_read_u8(r);
                    bot_buf_u8(out, has);
                    for (int i = 0; has && i < 4; i++) bot_buf_f64(out, bot_read_f64(r));
                    for (int i = 0; has && i < 2; i++) bot_buf_u32(out, bot_read_u32(r));
                    for (int i = 0; has && i < 2; i++) bot_buf_f64(out, bot_read_f64(r));
                }
                if (r->pos == r->n) break; /* no surface table: the default */
                {
                    uint8_t n = bot_read_u8(r);
                    bot_buf_u8(out, n);
                    for (int i = 0; i < n && !r->failed; i++) {
                        read_str(r, out, CR_NAME_MAX - 1);
                        for (int f3 = 0; f3 < 3; f3++) bot_buf_f64(out, bot_read_f64(r));
                    }
                    bot_buf_u8(out, bot_read_u8(r));
                }
                break;
            default:
                assert(!"unknown layout code");
        }
    }
}

static void decode_frame(const uint8_t *p, size_t n, BotBuf *out) {
    BotReader r;
    BotHeader h;
    if (bot_reader_open(&r, p, n, &h) != CR_OK) return;
    assert(h.version == BOT_PROTO_VERSION && r.n == n - BOT_PROTO_HEADER);
    const Layout *l = NULL;
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++) {
        if (LAYOUTS[i].type == h.type) l = &LAYOUTS[i];
    }
    if (!l) return; /* an unknown type fails the frame at both ends */
    g_frame = p, g_frame_n = n;
    bot_buf_begin(out, (BotMsgType)h.type, h.flags, h.seq);
    read_fields(l, &r, out);
    if (!bot_reader_done(&r)) return;
    /* Read cleanly to the end: writing the same values gives the same bytes. */
    assert(bot_buf_end(out) == 0);
    assert(out->len == n && memcmp(out->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static BotBuf out;
    static bool init;
    if (!init) bot_buf_init(&out), init = true;
    size_t off = 0;
    while (off < size) {
        size_t n = bot_frame_size(data + off, size - off);
        if (n == 0 || n == SIZE_MAX || n > size - off) break; /* partial or fatal */
        assert(n >= BOT_PROTO_HEADER && n <= BOT_PROTO_MAX_FRAME + 4);
        decode_frame(data + off, n, &out);
        off += n;
    }
    return 0;
}
