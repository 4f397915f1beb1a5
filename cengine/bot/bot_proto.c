/* bot_proto.c - frame writer and bounds-checked reader of the bot wire format
 * (see bot_proto.h). Shared verbatim by the host and coderally-botd. */
#include "bot_proto.h"

#include <stdlib.h>
#include <string.h>

void bot_buf_init(BotBuf *b) {
    *b = (BotBuf){0};
}

void bot_buf_fini(BotBuf *b) {
    free(b->data);
    *b = (BotBuf){0};
}

/* Makes room for n more bytes; sets failed past the frame limit. */
static bool buf_reserve(BotBuf *b, size_t n) {
    if (b->failed) return false;
    if (n > BOT_PROTO_MAX_FRAME + 4 - b->len) {
        b->failed = true;
        return false;
    }
    if (b->len + n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void bot_buf_bytes(BotBuf *b, const void *p, size_t n) {
    if (!buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bot_buf_u8(BotBuf *b, uint8_t v) {
    bot_buf_bytes(b, &v, 1);
}

/* The project only targets little-endian machines (x86-64, aarch64), so the
 * native representation is the wire representation. */
void bot_buf_u16(BotBuf *b, uint16_t v) {
    bot_buf_bytes(b, &v, sizeof v);
}
void bot_buf_u32(BotBuf *b, uint32_t v) {
    bot_buf_bytes(b, &v, sizeof v);
}
void bot_buf_u64(BotBuf *b, uint64_t v) {
    bot_buf_bytes(b, &v, sizeof v);
}
void bot_buf_f32(BotBuf *b, float v) {
    bot_buf_bytes(b, &v, sizeof v);
}
void bot_buf_f64(BotBuf *b, double v) {
    bot_buf_bytes(b, &v, sizeof v);
}

void bot_buf_str(BotBuf *b, const char *s, size_t n) {
    if (n > UINT32_MAX) {
        b->failed = true;
        return;
    }
    bot_buf_u32(b, (uint32_t)n);
    bot_buf_bytes(b, s, n);
}

void bot_buf_event(BotBuf *b, const BotWireEvent *ev) {
    bot_buf_u32(b, ev->tick);
    bot_buf_u8(b, ev->type);
    bot_buf_u32(b, (uint32_t)ev->a);
    bot_buf_f64(b, ev->value);
}

void bot_buf_begin(BotBuf *b, BotMsgType type, uint16_t flags, uint32_t seq) {
    b->len = 0;
    b->failed = false;
    bot_buf_u32(b, 0); /* patched by bot_buf_end */
    bot_buf_u8(b, BOT_PROTO_VERSION);
    bot_buf_u8(b, (uint8_t)type);
    bot_buf_u16(b, flags);
    bot_buf_u32(b, seq);
}

int bot_buf_end(BotBuf *b) {
    if (b->failed || b->len < BOT_PROTO_HEADER || b->len - 4 > BOT_PROTO_MAX_FRAME) {
        return CR_EINVAL;
    }
    uint32_t n = (uint32_t)(b->len - 4);
    memcpy(b->data, &n, 4);
    return CR_OK;
}

size_t bot_frame_size(const uint8_t *data, size_t avail) {
    if (avail < 4) return 0;
    uint32_t n;
    memcpy(&n, data, 4);
    if (n < BOT_PROTO_HEADER - 4 || n > BOT_PROTO_MAX_FRAME) return SIZE_MAX;
    return (size_t)n + 4;
}

int bot_reader_open(BotReader *r, const uint8_t *data, size_t n, BotHeader *hdr) {
    *r = (BotReader){0};
    if (n < BOT_PROTO_HEADER || bot_frame_size(data, n) != n) return CR_EFORMAT;
    hdr->version = data[4];
    hdr->type = data[5];
    memcpy(&hdr->flags, data + 6, 2);
    memcpy(&hdr->seq, data + 8, 4);
    if (hdr->version != BOT_PROTO_VERSION) return CR_EFORMAT;
    r->p = data + BOT_PROTO_HEADER;
    r->n = n - BOT_PROTO_HEADER;
    return CR_OK;
}

const uint8_t *bot_read_bytes(BotReader *r, size_t n) {
    if (r->failed || n > r->n - r->pos) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

/* Copies a fixed-size field or zero-fills on overrun. */
static void read_fixed(BotReader *r, void *out, size_t n) {
    const uint8_t *p = bot_read_bytes(r, n);
    if (p) {
        memcpy(out, p, n);
    } else {
        memset(out, 0, n);
    }
}

uint8_t bot_read_u8(BotReader *r) {
    uint8_t v;
    read_fixed(r, &v, sizeof v);
    return v;
}
uint16_t bot_read_u16(BotReader *r) {
    uint16_t v;
    read_fixed(r, &v, sizeof v);
    return v;
}
uint32_t bot_read_u32(BotReader *r) {
    uint32_t v;
    read_fixed(r, &v, sizeof v);
    return v;
}
uint64_t bot_read_u64(BotReader *r) {
    uint64_t v;
    read_fixed(r, &v, sizeof v);
    return v;
}
float bot_read_f32(BotReader *r) {
    float v;
    read_fixed(r, &v, sizeof v);
    return v;
}
double bot_read_f64(BotReader *r) {
    double v;
    read_fixed(r, &v, sizeof v);
    return v;
}

const char *bot_read_str(BotReader *r, size_t max, size_t *len) {
    uint32_t n = bot_read_u32(r);
    *len = 0;
    if (r->failed) return NULL;
    if (n > max) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = bot_read_bytes(r, n);
    if (!p) return NULL;
    *len = n;
    return (const char *)p;
}

void bot_read_event(BotReader *r, BotWireEvent *ev) {
    ev->tick = bot_read_u32(r);
    ev->type = bot_read_u8(r);
    ev->a = (int32_t)bot_read_u32(r);
    ev->value = bot_read_f64(r);
}

bool bot_reader_done(const BotReader *r) {
    return !r->failed && r->pos == r->n;
}
