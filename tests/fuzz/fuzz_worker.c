/*
 * fuzz_worker.c - bot protocol frames into the worker's end: the real
 * request handlers of botsandbox/worker.c (included below, so its static
 * handle_init/handle_tick/handle_finish run as they are), in embedded
 * CPython started the way the zygote starts it (botd.c: isolated, fixed
 * hash seed, _crguard, RestrictedPython and crsandbox imported, prepared).
 *
 * The input is the byte stream a worker reads from its socket, one fresh
 * worker per input. The worker _exit()s on any frame it cannot read (it is
 * disposable by design); here _exit is redirected to a jump back into the
 * harness, which then ends the input as the real worker would end. Every
 * reply the worker writes is read back and must decode as the host decodes
 * it (type, echoed seq, every field, nothing left over).
 *
 * What is NOT fuzzed here, and why: the worker's lock-down (seccomp,
 * rlimits: they would fence the fuzzer itself) and arbitrary bot code.
 * BOT_INIT frames that parse have their source replaced by one of the
 * shipped templates and their budgets capped, because running fuzzed Python
 * outside the process fence is unsafe and a source that sits in one C call
 * ends the worker from a signal handler (exit 70), which no harness can
 * return from. A check-only BOT_INIT keeps its fuzzed source: it is only
 * compiled and checked against the policy, never run.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static _Noreturn void fuzz_worker_exit(int code);
#define _exit(code) fuzz_worker_exit(code)
#include "worker.c"
#undef _exit

#include <fcntl.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Budgets as the host sends them: start-up 1 s by default (capped here to
 * keep runs fast), ticks BOT_EXECUTION_TIMEOUT_MS (1..1000 ms). A start-up
 * budget under the time CPython needs to compile a template in one C call
 * ends the worker at its hard limit (exit 70), as designed, so none below. */
#define MIN_START_US 100000u
#define MAX_START_US 300000u
#define MIN_TICK_US 1000u
#define MAX_TICK_US 20000u

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static sigjmp_buf g_jump;
static bool g_in_request;
static int g_host_fd; /* the host's end of the worker's socket */
static char *g_templates[3];
static size_t g_template_len[3];

static _Noreturn void fuzz_worker_exit(int code) {
    if (code == 70 || !g_in_request) {
        /* Stop the CPU timer, or its next tick interrupts libFuzzer's crash
         * report before it saves the input. */
        struct itimerval off = {0};
        setitimer(ITIMER_PROF, &off, NULL);
        /* The hard CPU limit from the timer signal: a template ran away. */
        fprintf(stderr, "fuzz_worker: worker exit %d outside a request's frame handling\n", code);
        abort();
    }
    siglongjmp(g_jump, 1);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    static char buf[BOT_SOURCE_MAX];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char *s = malloc(*len);
    if (!s) abort();
    memcpy(s, buf, *len);
    return s;
}

static void python_start(void) {
    if (PyImport_AppendInittab("_crguard", PyInit__crguard) < 0) abort();
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    PyStatus st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) abort();
    PyObject *sys_path = PySys_GetObject("path");
    const char *dirs[] = {CR_SOURCE_DIR "/.deps/python", CR_SOURCE_DIR "/botsandbox/python"};
    for (int i = 0; i < 2; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(dirs[i]);
        if (!s || PyList_Insert(sys_path, 0, s) < 0) abort();
        Py_DECREF(s);
    }
    PyObject *mod = PyImport_ImportModule("crsandbox");
    if (!mod) {
        PyErr_Print();
        fprintf(stderr, "fuzz_worker: cannot import crsandbox (run .ci/setup for .deps)\n");
        abort();
    }
    PyObject *timeout = PyObject_GetAttrString(mod, "BotTimeout");
    if (!timeout || guard_bind_timeout(timeout) < 0) abort();
    Py_DECREF(timeout);
    PyObject *r = PyObject_CallMethod(mod, "prepare", NULL);
    if (!r) abort();
    Py_DECREF(r);
    g_sandbox = mod;

    /* As worker_main, minus the lock-down. */
    bot_buf_init(&g_out);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigprof;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) < 0) abort();
    oom_hooks_install();

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) abort();
    int big = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    g_fd = sv[0];
    g_host_fd = sv[1];

    static const char *const names[] = {"minimal", "checkpoint_follower", "ai_port"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/botsandbox/templates/%s.py", CR_SOURCE_DIR, names[i]);
        g_templates[i] = slurp(path, &g_template_len[i]);
    }
}

/* A fresh worker: what the zygote's fork would give. */
static void worker_reset(void) {
    Py_CLEAR(g_bot);
    predict_set_car(NULL);
    /* The default surface table, which an INIT may replace. */
    predict_set_surfaces(surface_table_default());
    if (marshal_set_surfaces(surface_table_default()) < 0 ||
        set_surface_names(surface_table_default()) < 0)
        abort();
    g_tick_budget_us = 10000, g_start_budget_us = 1000000;
    g_memory_cap = BOT_MEMORY_MAX;
    g_oom = 0;
    struct itimerval zero = {0};
    setitimer(ITIMER_PROF, &zero, NULL);
    g_armed = 0;
    guard_expired = 0;
    PyErr_Clear();
    uint8_t junk[4096];
    while (read(g_host_fd, junk, sizeof junk) > 0) continue;
}

/* BOT_INIT as the host would send it: a template's source unless check
 * only, budgets within the host's range, anything after the fields kept. A frame whose fields
 * do not parse goes through as is (the worker refuses it, running nothing). */
static void rewrite_init(const uint8_t *p, size_t n, BotBuf *out, const uint8_t **q, size_t *qn) {
    BotReader r;
    BotHeader h;
    *q = p, *qn = n;
    if (bot_reader_open(&r, p, n, &h)) return;
    uint32_t start = bot_read_u32(&r), tick = bot_read_u32(&r);
    uint64_t seed = bot_read_u64(&r);
    uint32_t log_cap = bot_read_u32(&r), mem_cap = bot_read_u32(&r);
    uint8_t check_only = bot_read_u8(&r);
    float rays[256], pace[256];
    uint8_t nr = bot_read_u8(&r);
    for (int i = 0; i < nr; i++) rays[i] = bot_read_f32(&r);
    uint8_t np = bot_read_u8(&r);
    for (int i = 0; i < np; i++) pace[i] = bot_read_f32(&r);
    size_t name_len, src_len, mem_len;
    const char *name = bot_read_str(&r, 256, &name_len);
    const char *src = bot_read_str(&r, BOT_SOURCE_MAX, &src_len);
    const char *mem = bot_read_str(&r, BOT_MEMORY_MAX, &mem_len);
    /* The worker reads the same fields with tighter caps: a frame that fails
     * here fails there too, before any source runs. */
    if (r.failed) return;
    if (!check_only) {
        int t = (int)(src_len % 3);
        src = g_templates[t], src_len = g_template_len[t];
    }
    bot_buf_begin(out, BOT_INIT, h.flags, h.seq);
    bot_buf_u32(out, clamp_u32(start, MIN_START_US, MAX_START_US));
    bot_buf_u32(out, clamp_u32(tick, MIN_TICK_US, MAX_TICK_US));
    bot_buf_u64(out, seed);
    bot_buf_u32(out, log_cap);
    bot_buf_u32(out, mem_cap);
    bot_buf_u8(out, check_only);
    bot_buf_u8(out, nr);
    for (int i = 0; i < nr; i++) bot_buf_f32(out, rays[i]);
    bot_buf_u8(out, np);
    for (int i = 0; i < np; i++) bot_buf_f32(out, pace[i]);
    bot_buf_str(out, name, name_len);
    bot_buf_str(out, src, src_len);
    bot_buf_str(out, mem, mem_len);
    bot_buf_bytes(out, r.p + r.pos, r.n - r.pos); /* whatever follows, as sent */
    /* Too big to send: the host would not send it either; never run the raw one. */
    *q = NULL, *qn = 0;
    if (bot_buf_end(out) == 0) *q = out->data, *qn = out->len;
}

/* The record comes from the host's own race_sensors (same build): its
 * bools are 0 or 1. Keep that true of fuzzed records, or reading them is
 * UB that no real host can cause. */
static void normalise_record(uint8_t *frame, size_t n) {
    static const size_t bools[] = {offsetof(SensorRecord, on_road), offsetof(SensorRecord, sliding),
                                   offsetof(SensorRecord, finished), offsetof(SensorRecord, dnf)};
    if (n < sizeof(SensorRecord)) return;
    uint8_t *rec = frame + n - sizeof(SensorRecord);
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) rec[bools[i]] &= 1;
}

/* The reply must decode at the host: the right type, the request's seq,
 * every field within the host's caps, nothing left over. */
static void check_reply(uint8_t want, uint32_t seq) {
    static uint8_t buf[BOT_PROTO_MAX_FRAME + 4];
    ssize_t n = read(g_host_fd, buf, sizeof buf);
    if (n <= 0) abort(); /* every request gets exactly one reply */
    size_t size = bot_frame_size(buf, (size_t)n);
    if (size != (size_t)n) abort();
    BotReader r;
    BotHeader h;
    if (bot_reader_open(&r, buf, size, &h)) abort();
    size_t len;
    if (h.type == BOT_FATAL) {
        (void)bot_read_str(&r, BOT_MESSAGE_MAX, &len);
    } else {
        if (h.type != want || h.seq != seq) abort();
        uint8_t status = bot_read_u8(&r);
        if (status > BOT_STATUS_COMPILE) abort();
        if (getenv("FUZZ_VERBOSE")) { /* to check that seeds get where they should */
            size_t k;
            const uint8_t *rest = r.p + r.pos;
            k = r.n - r.pos < 200 ? r.n - r.pos : 200;
            fprintf(stderr, "fuzz_worker: reply %u status %u: %.*s\n", h.type, status, (int)k,
                    (const char *)rest);
        }
        if (want == BOT_INIT_REPLY) {
            (void)bot_read_str(&r, 1 << 16, &len);
            (void)bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &len);
        } else if (want == BOT_ACTIONS) {
            (void)bot_read_u32(&r);
            float th = bot_read_f32(&r), br = bot_read_f32(&r), st = bot_read_f32(&r);
            if (!(th >= 0 && th <= 1 && br >= 0 && br <= 1 && st >= -1 && st <= 1)) abort();
            if (bot_read_u8(&r) > 3) abort();
            (void)bot_read_str(&r, BOT_MESSAGE_MAX, &len);
            (void)bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &len);
            uint16_t nd = bot_read_u16(&r);
            if (nd > BOT_MAX_DRAWINGS) abort();
            for (int i = 0; i < nd; i++) {
                if (bot_read_u8(&r) > BOT_DRAW_TEXT || bot_read_u32(&r) > 0xffffff) abort();
                for (int k = 0; k < 4; k++) (void)bot_read_f32(&r);
                (void)bot_read_str(&r, BOT_DRAW_TEXT_MAX, &len);
            }
        } else {
            (void)bot_read_str(&r, BOT_MEMORY_MAX, &len);
            (void)bot_read_str(&r, BOT_MESSAGE_MAX, &len);
            (void)bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &len);
        }
    }
    if (!bot_reader_done(&r)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool started;
    static BotBuf init_buf;
    if (!started) python_start(), bot_buf_init(&init_buf), started = true;
    worker_reset();
    size_t off = 0;
    /* Static: a local changed after sigsetjmp is indeterminate after the jump. */
    static uint8_t *frame;
    frame = NULL;
    if (sigsetjmp(g_jump, 1)) {
        /* The worker exited: this input is over, as its process would be. */
        if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_worker: worker exited\n");
        g_in_request = false;
        free(frame);
        return 0;
    }
    while (off < size) {
        size_t n = bot_frame_size(data + off, size - off);
        if (n == 0 || n > size - off) break; /* host closed mid-frame: exit 0 */
        g_in_request = true;
        if (n == SIZE_MAX) fuzz_worker_exit(81);
        /* An exact-size copy, so ASan sees any read past the frame. */
        frame = malloc(n);
        if (!frame) abort();
        memcpy(frame, data + off, n);
        off += n;
        BotReader r;
        BotHeader h;
        if (bot_reader_open(&r, frame, n, &h) < 0) fuzz_worker_exit(83);
        const uint8_t *q;
        size_t qn;
        switch (h.type) {
            case BOT_INIT:
                rewrite_init(frame, n, &init_buf, &q, &qn);
                if (!q) fuzz_worker_exit(0);
                if (bot_reader_open(&r, q, qn, &h) < 0) abort();
                handle_init(&r, h.seq);
                check_reply(BOT_INIT_REPLY, h.seq);
                break;
            case BOT_TICK:
                normalise_record(frame, n);
                handle_tick(&r, h.seq);
                check_reply(BOT_ACTIONS, h.seq);
                break;
            case BOT_FINISH:
                handle_finish(&r, h.seq);
                check_reply(BOT_FINISH_REPLY, h.seq);
                break;
            default:
                fuzz_worker_exit(84);
        }
        free(frame);
        frame = NULL;
        g_in_request = false;
        if (g_oom) break;
    }
    return 0;
}
