/*
 * worker.c - one bot's sandboxed process, forked from the zygote. It locks
 * itself down (fds, environment, rlimits, no-new-privs, a seccomp
 * allow-list) before it reads the bot's source, then answers one request
 * at a time on its socket, each call into bot code under a CPU budget.
 *
 * The budget is an ITIMER_PROF timer (CPU time, so a busy machine does not
 * change results). When it fires, the handler raises BotTimeout into Python
 * and sets guard_expired so every guard raises again; it re-fires every 2 ms
 * so `try/except` loops cannot swallow it, and past a hard CPU limit (also
 * for C calls that never return to the interpreter, like 10 ** 10 ** 8) it
 * writes a BOT_FATAL frame and exits. The host's wall-clock kill is the last
 * line behind that.
 */
#include <errno.h>
#include <math.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "guards.h"

#define TIMER_REPEAT_US 2000    /* re-raise interval after the budget */
#define HARD_EXTRA_MIN_US 50000 /* CPU beyond the budget before the worker exits */

static int g_fd = BOT_WORKER_FD;
static PyObject *g_sandbox; /* crsandbox */
static PyObject *g_bot;     /* the Bot instance, or NULL */
static uint32_t g_tick_budget_us = 10000, g_start_budget_us = 1000000;
static uint32_t g_memory_cap = BOT_MEMORY_MAX;
static uint32_t g_memory_limit_mb;
static BotBuf g_out;
static uint8_t g_fatal[256];
static size_t g_fatal_len;

static volatile sig_atomic_t g_armed;
static volatile sig_atomic_t g_strikes, g_max_strikes;
static volatile sig_atomic_t g_oom;

/* ---- I/O ---------------------------------------------------------------- */

static int write_all(const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(g_fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(void *p, size_t n) {
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = read(g_fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r, n -= (size_t)r;
    }
    return 0;
}

/* ---- CPU budget --------------------------------------------------------- */

static void on_sigprof(int sig) {
    (void)sig;
    if (!g_armed) return;
    int saved = errno;
    guard_expired = 1;
    if (++g_strikes > g_max_strikes) {
        /* Bot code swallowed every BotTimeout or sits in one C call: give up
         * on this worker. write() and _exit() are async-signal-safe. */
        (void)write_all(g_fatal, g_fatal_len);
        _exit(70);
    }
    PyErr_SetInterruptEx(SIGPROF);
    errno = saved;
}

static void budget_arm(uint32_t budget_us) {
    uint32_t extra = budget_us / 2 > HARD_EXTRA_MIN_US ? budget_us / 2 : HARD_EXTRA_MIN_US;
    guard_expired = 0;
    g_strikes = 0;
    g_max_strikes = (sig_atomic_t)(extra / TIMER_REPEAT_US);
    struct itimerval it = {.it_interval = {0, TIMER_REPEAT_US},
                           .it_value = {budget_us / 1000000, budget_us % 1000000}};
    g_armed = 1;
    guard_cpu_begin(budget_us);
    setitimer(ITIMER_PROF, &it, NULL);
}

/* Stops the timer; true if the budget ran out. Swallows a BotTimeout that
 * was scheduled but not yet delivered, so it cannot hit the next call. */
static bool budget_disarm(void) {
    struct itimerval zero = {0};
    setitimer(ITIMER_PROF, &zero, NULL);
    g_armed = 0;
    bool expired = guard_expired;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyErr_CheckSignals() < 0) PyErr_Clear();
    PyErr_Restore(type, value, tb);
    guard_expired = 0;
    return expired;
}

/* ---- allocation failures ------------------------------------------------ */

/* Wrappers over Python's allocators that note any failed allocation: a bot
 * that catches MemoryError has still run out of memory, and its worker is
 * replaced after the call. */
static PyMemAllocatorEx g_orig[3];

static void *oom_malloc(void *ctx, size_t n) {
    PyMemAllocatorEx *a = ctx;
    void *p = a->malloc(a->ctx, n);
    if (!p) g_oom = 1;
    return p;
}
static void *oom_calloc(void *ctx, size_t n, size_t size) {
    PyMemAllocatorEx *a = ctx;
    void *p = a->calloc(a->ctx, n, size);
    if (!p) g_oom = 1;
    return p;
}
static void *oom_realloc(void *ctx, void *ptr, size_t n) {
    PyMemAllocatorEx *a = ctx;
    void *p = a->realloc(a->ctx, ptr, n);
    if (!p) g_oom = 1;
    return p;
}
static void oom_free(void *ctx, void *ptr) {
    PyMemAllocatorEx *a = ctx;
    a->free(a->ctx, ptr);
}

static void oom_hooks_install(void) {
    static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                    PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++) {
        PyMem_GetAllocator(domains[i], &g_orig[i]);
        PyMemAllocatorEx w = {&g_orig[i], oom_malloc, oom_calloc, oom_realloc, oom_free};
        PyMem_SetAllocator(domains[i], &w);
    }
}

/* ---- lock-down ---------------------------------------------------------- */

/* The seccomp allow-list. Reads and writes only on the socket; memory
 * management without executable mappings; clocks; the CPU timer and its
 * signal; exit. File-system probes that Python might make lazily fail with
 * EPERM (so a bot gets an exception, not a dead worker); everything else
 * (processes, sockets, exec, signals to others, ptrace, ...) kills. */
static int seccomp_install(int fd) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx) return -1;
    int rc = 0;
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, fd));
    rc |= seccomp_rule_add(ctx, eperm, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_NE, fd));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, fd));
    rc |= seccomp_rule_add(ctx, eperm, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_NE, fd));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    rc |= seccomp_rule_add(ctx, eperm, SCMP_SYS(mmap), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    rc |= seccomp_rule_add(ctx, eperm, SCMP_SYS(mprotect), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    static const int allow[] = {
        SCMP_SYS(munmap),       SCMP_SYS(brk),           SCMP_SYS(mremap),
        SCMP_SYS(madvise),      SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
        SCMP_SYS(gettimeofday), SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(setitimer),    SCMP_SYS(getitimer),     SCMP_SYS(exit),
        SCMP_SYS(exit_group),   SCMP_SYS(futex),         SCMP_SYS(getpid),
        SCMP_SYS(gettid),       SCMP_SYS(sched_yield)};
    for (size_t i = 0; i < sizeof allow / sizeof allow[0]; i++) {
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0);
    }
    static const int soft[] = {
        SCMP_SYS(open),       SCMP_SYS(openat),     SCMP_SYS(openat2),      SCMP_SYS(stat),
        SCMP_SYS(lstat),      SCMP_SYS(fstat),      SCMP_SYS(newfstatat),   SCMP_SYS(statx),
        SCMP_SYS(access),     SCMP_SYS(faccessat),  SCMP_SYS(faccessat2),   SCMP_SYS(readlink),
        SCMP_SYS(readlinkat), SCMP_SYS(getcwd),     SCMP_SYS(ioctl),        SCMP_SYS(lseek),
        SCMP_SYS(close),      SCMP_SYS(getdents64), SCMP_SYS(fcntl),        SCMP_SYS(getrandom),
        SCMP_SYS(sysinfo),    SCMP_SYS(uname),      SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
        SCMP_SYS(prlimit64),  SCMP_SYS(getrusage),  SCMP_SYS(poll),         SCMP_SYS(ppoll)};
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++) {
        rc |= seccomp_rule_add(ctx, eperm, soft[i], 0);
    }
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc) errno = -rc;
    return rc ? -1 : 0;
}

int worker_lockdown(int fd, const WorkerLimits *lim) {
    if (fd != BOT_WORKER_FD) {
        if (dup2(fd, BOT_WORKER_FD) < 0) return -1;
    }
    /* Only the socket survives: stdio included, so nothing can be written
     * anywhere but to the host. */
    if (close_range(0, BOT_WORKER_FD - 1, 0) < 0) return -1;
    if (close_range(BOT_WORKER_FD + 1, ~0u, 0) < 0) return -1;
    g_fd = BOT_WORKER_FD;
    if (clearenv() != 0) return -1;
    rlim_t as = (rlim_t)lim->baseline_as + ((rlim_t)lim->memory_limit_mb << 20);
    const struct {
        int res;
        rlim_t soft, hard;
    } limits[] = {{RLIMIT_AS, as, as},
                  {RLIMIT_CPU, lim->cpu_limit_s, lim->cpu_limit_s + 1},
                  {RLIMIT_NOFILE, BOT_WORKER_FD + 1, BOT_WORKER_FD + 1},
                  {RLIMIT_NPROC, 0, 0},
                  {RLIMIT_FSIZE, 0, 0},
                  {RLIMIT_CORE, 0, 0},
                  {RLIMIT_MEMLOCK, 0, 0}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit rl = {limits[i].soft, limits[i].hard};
        if (setrlimit(limits[i].res, &rl) < 0) return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
    return seccomp_install(BOT_WORKER_FD);
}

/* ---- calling bot code --------------------------------------------------- */

typedef struct {
    BotStatus status;
    char msg[BOT_MESSAGE_MAX];
} CallOutcome;

/* Describes the pending Python error into out (clearing it). */
static void describe_error(CallOutcome *out, const char *what) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb) PyException_SetTraceback(value, tb);
    PyObject *text = value ? PyObject_CallMethod(g_sandbox, "format_error", "O", value) : NULL;
    const char *s = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
    snprintf(out->msg, sizeof out->msg, "%s: %s", what, s ? s : "error");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Where bot code was when the budget ran out: " at line N in FUNC" (the
 * innermost bot frame of the pending BotTimeout, by format_error), or "".
 * Clears the pending error. */
static void describe_timeout_site(char *out, size_t size) {
    out[0] = 0;
    CallOutcome oc;
    describe_error(&oc, "");
    /* ": line 5 in on_tick; line 9 in f: BotTimeout: ..." -> the last frame */
    const char *p = oc.msg + 2;
    const char *end = strstr(p, ": ");
    if (strncmp(p, "line ", 5) || !end) return;
    const char *last = p;
    for (const char *q = p; q < end; q++)
        if (q[0] == ';' && q[1] == ' ') last = q + 2;
    snprintf(out, size, " at %.*s", (int)(end - last), last);
}

/* Calls bot.<method>(arg) (arg may be NULL) under budget_us of CPU. Returns
 * the result (new reference) or NULL with out filled. A missing optional
 * method returns None. */
static PyObject *call_bot(const char *method, PyObject *arg, uint32_t budget_us, bool optional,
                          CallOutcome *out) {
    out->status = BOT_STATUS_OK;
    out->msg[0] = 0;
    if (!g_bot) {
        out->status = BOT_STATUS_ERROR;
        snprintf(out->msg, sizeof out->msg, "the bot is not loaded");
        return NULL;
    }
    budget_arm(budget_us);
    PyObject *r = NULL;
    PyObject *fn = PyObject_GetAttrString(g_bot, method);
    if (!fn && optional && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        r = Py_NewRef(Py_None);
    } else if (fn) {
        r = arg ? PyObject_CallOneArg(fn, arg) : PyObject_CallNoArgs(fn);
        Py_DECREF(fn);
    }
    if (!r && !guard_expired) describe_error(out, method);
    bool expired = budget_disarm();
    if (expired) {
        /* With the timer off, so describing cannot be interrupted itself. */
        char site[160] = "";
        if (!r && PyErr_Occurred()) describe_timeout_site(site, sizeof site);
        PyErr_Clear();
        Py_CLEAR(r);
        out->status = BOT_STATUS_TIMEOUT;
        snprintf(out->msg, sizeof out->msg, "%s: CPU budget of %.1f ms exceeded%s", method,
                 budget_us / 1000.0, site);
    } else if (!r) {
        out->status = BOT_STATUS_ERROR;
    }
    return r;
}

static uint64_t cpu_now_us(void) {
    return guard_cpu_now_us();
}

/* Finishes the reply in g_out with the log taken so far and sends it. An
 * out-of-memory during the request turns into a restart. */
static void send_reply(void) {
    if (bot_buf_end(&g_out) < 0 || write_all(g_out.data, g_out.len) < 0) _exit(71);
}

static void put_log(void) {
    size_t n;
    const char *log = guard_log_take(&n);
    bot_buf_str(&g_out, log, n);
}

static void log_line(const char *fmt, const char *a, const char *b) {
    char line[BOT_MESSAGE_MAX + 64];
    int n = snprintf(line, sizeof line, fmt, a, b);
    if (n > 0) guard_log_append(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- requests ----------------------------------------------------------- */

static PyObject *float_tuple(BotReader *r, size_t max) {
    uint8_t n = bot_read_u8(r);
    if (n > max) {
        r->failed = true;
        return NULL;
    }
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t && i < n; i++) {
        PyTuple_SET_ITEM(t, i, PyFloat_FromDouble(bot_read_f32(r)));
    }
    return t;
}

/* coderally.SURFACES: the stage's surface names in index order. */
static int set_surface_names(const SurfaceTable *t) {
    PyObject *names = PyTuple_New(t->count);
    for (int i = 0; names && i < t->count; i++) {
        PyObject *s = PyUnicode_FromString(t->s[i].name);
        if (!s)
            Py_CLEAR(names);
        else
            PyTuple_SET_ITEM(names, i, s);
    }
    PyObject *helper = names ? PyObject_GetAttrString(g_sandbox, "_helper") : NULL;
    int rc = helper ? PyObject_SetAttrString(helper, "SURFACES", names) : -1;
    Py_XDECREF(helper);
    Py_XDECREF(names);
    return rc;
}

static void handle_init(BotReader *r, uint32_t seq) {
    g_start_budget_us = bot_read_u32(r);
    g_tick_budget_us = bot_read_u32(r);
    uint64_t seed = bot_read_u64(r);
    uint32_t log_cap = bot_read_u32(r);
    g_memory_cap = bot_read_u32(r);
    uint8_t check_only = bot_read_u8(r);
    PyObject *rays = float_tuple(r, SENSOR_RAYS);
    PyObject *pace = float_tuple(r, SENSOR_PACE_NOTES);
    size_t src_len, mem_len, name_len;
    (void)bot_read_str(r, 256, &name_len);
    const char *src = bot_read_str(r, BOT_SOURCE_MAX, &src_len);
    const char *mem = bot_read_str(r, BOT_MEMORY_MAX, &mem_len);
    /* The car's stats came later to the protocol: optional at the end. */
    if (!r->failed && r->pos < r->n && bot_read_u8(r)) {
        CarStats k;
        k.top_speed = bot_read_f64(r);
        k.acceleration = bot_read_f64(r);
        k.grip = bot_read_f64(r);
        k.braking = bot_read_f64(r);
        k.nitro_capacity = (int)(bot_read_u32(r) & 0xffff);
        k.nitro_duration = (int)(bot_read_u32(r) & 0xffffff);
        k.handling = bot_read_f64(r);
        k.weight = bot_read_f64(r);
        bool sane = isfinite(k.top_speed) && isfinite(k.acceleration) && isfinite(k.grip) &&
                    isfinite(k.braking) && isfinite(k.handling) && isfinite(k.weight) &&
                    k.weight > 0 && k.top_speed > 0;
        predict_set_car(sane ? &k : NULL);
    }
    /* The stage's surfaces came later still: optional after the car. */
    if (!r->failed && r->pos < r->n) {
        SurfaceTable t = {.count = bot_read_u8(r)};
        bool sane = t.count >= 2 && t.count <= SURFACE_MAX;
        for (int i = 0; sane && i < t.count; i++) {
            size_t len;
            const char *name = bot_read_str(r, CR_NAME_MAX - 1, &len);
            SurfaceInfo *e = &t.s[i];
            if (name) memcpy(e->name, name, len);
            e->grip = bot_read_f64(r);
            e->drag = bot_read_f64(r);
            e->top_speed = bot_read_f64(r);
            sane = name && len > 0 && memchr(e->name, 0, len) == NULL && isfinite(e->grip) &&
                   isfinite(e->drag) && isfinite(e->top_speed);
        }
        t.verge = sane ? bot_read_u8(r) : -1;
        if (!sane || r->failed || t.verge >= t.count) _exit(72);
        predict_set_surfaces(&t);
        if (marshal_set_surfaces(&t) < 0 || set_surface_names(&t) < 0) _exit(72);
    }
    /* The stage's identity (self.stage), optional after the surfaces. */
    const char *stage = "";
    size_t stage_len = 0;
    if (!r->failed && r->pos < r->n) {
        stage = bot_read_str(r, BOT_STAGE_MAX, &stage_len);
        if (!stage) stage = "", stage_len = 0;
    }
    if (!bot_reader_done(r) || !rays || !pace || g_memory_cap > BOT_MEMORY_MAX) _exit(72);
    guard_log_configure(log_cap);

    BotStatus status = BOT_STATUS_OK;
    char problems[4096] = "";
    size_t plen = 0;
#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        int k_ = snprintf(problems + plen, sizeof problems - plen, __VA_ARGS__);                   \
        if (k_ > 0)                                                                                \
            plen += (size_t)k_ < sizeof problems - plen ? (size_t)k_ : sizeof problems - plen - 1; \
    } while (0)

    PyObject *source = PyUnicode_DecodeUTF8(src, (Py_ssize_t)src_len, "strict");
    PyObject *memory = PyUnicode_DecodeUTF8(mem ? mem : "", (Py_ssize_t)mem_len, "strict");
    PyObject *stage_s = PyUnicode_DecodeUTF8(stage, (Py_ssize_t)stage_len, "strict");
    PyObject *bot = NULL, *list = NULL;
    if (!source || !memory || !stage_s) {
        PyErr_Clear();
        status = BOT_STATUS_COMPILE;
        PROBLEM("1: the source is not valid UTF-8\n");
        goto reply;
    }
    float rays_f[SENSOR_RAYS] = {0};
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rays) && i < SENSOR_RAYS; i++) {
        rays_f[i] = (float)PyFloat_AsDouble(PyTuple_GET_ITEM(rays, i));
    }
    if (marshal_init(rays_f, (size_t)PyTuple_GET_SIZE(rays), NULL, 0) < 0) _exit(73);

    budget_arm(g_start_budget_us);
    if (check_only) {
        list = PyObject_CallMethod(g_sandbox, "check", "O", source);
    } else {
        bot = PyObject_CallMethod(g_sandbox, "load_bot", "OOKOOO", source, memory,
                                  (unsigned long long)seed, rays, pace, stage_s);
    }
    PyObject *err = PyErr_Occurred();
    if (err && !guard_expired && PyErr_ExceptionMatches(PyExc_Exception)) {
        /* LoadError carries the problem list. */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *lerr = PyObject_GetAttrString(g_sandbox, "LoadError");
        if (lerr && PyErr_GivenExceptionMatches(type, lerr)) {
            PyObject *args = PyObject_GetAttrString(value, "args");
            if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1) {
                list = Py_NewRef(PyTuple_GET_ITEM(args, 0));
            }
            Py_XDECREF(args);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        } else {
            PyErr_Restore(type, value, tb);
        }
        Py_XDECREF(lerr);
    }
    if (PyErr_Occurred() && !guard_expired) {
        CallOutcome oc;
        describe_error(&oc, "Bot()");
        status = BOT_STATUS_ERROR;
        PROBLEM("1: %s\n", oc.msg);
    }
    bool expired = budget_disarm();
    PyErr_Clear();
    if (expired) {
        status = BOT_STATUS_TIMEOUT;
        Py_CLEAR(bot);
        Py_CLEAR(list);
        plen = 0;
        PROBLEM("1: loading the bot took more than the %.0f ms start-up budget\n",
                g_start_budget_us / 1000.0);
    }
    if (list && PyList_Check(list)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
            PyObject *item = PyList_GET_ITEM(list, i);
            long line = 1;
            const char *msg = "?";
            if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
                line = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
                msg = PyUnicode_Check(PyTuple_GET_ITEM(item, 1))
                          ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(item, 1))
                          : "?";
                if (!msg) msg = "?";
            }
            PyErr_Clear();
            PROBLEM("%ld: %s\n", line, msg);
        }
        if (PyList_GET_SIZE(list) > 0) status = BOT_STATUS_COMPILE;
    }
    if (!check_only && status == BOT_STATUS_OK && !bot) status = BOT_STATUS_ERROR;
    Py_XSETREF(g_bot, bot);
    bot = NULL;
reply:
#undef PROBLEM
    bot_buf_begin(&g_out, BOT_INIT_REPLY, g_oom ? BOT_FLAG_RESTART : 0, seq);
    bot_buf_u8(&g_out, (uint8_t)status);
    bot_buf_str(&g_out, problems, plen);
    put_log();
    Py_XDECREF(bot);
    Py_XDECREF(list);
    Py_XDECREF(source);
    Py_XDECREF(memory);
    Py_XDECREF(stage_s);
    Py_XDECREF(rays);
    Py_XDECREF(pace);
    send_reply();
}

/* Delivers the batched events; their failures go to the log only. */
static bool run_events(BotReader *r) {
    uint16_t n = bot_read_u16(r);
    if (n > BOT_MAX_EVENTS) return false;
    for (uint16_t i = 0; i < n; i++) {
        BotWireEvent ev;
        bot_read_event(r, &ev);
        if (r->failed) return false;
        const char *method = "on_event";
        PyObject *arg = marshal_event(&ev, &method);
        if (!arg) return false;
        CallOutcome oc;
        PyObject *res = call_bot(method, arg, g_tick_budget_us, true, &oc);
        Py_DECREF(arg);
        Py_XDECREF(res);
        if (oc.status != BOT_STATUS_OK) {
            char tick[16];
            snprintf(tick, sizeof tick, "%u", ev.tick);
            log_line("[tick %s] %s\n", tick, oc.msg);
        }
    }
    return true;
}

static void handle_tick(BotReader *r, uint32_t seq) {
    uint64_t cpu0 = cpu_now_us();
    uint32_t tick = bot_read_u32(r);
    if (!run_events(r)) _exit(74);
    uint32_t size = bot_read_u32(r);
    const uint8_t *raw = bot_read_bytes(r, size);
    if (size != sizeof(SensorRecord) || !raw || !bot_reader_done(r)) _exit(75);
    SensorRecord rec;
    memcpy(&rec, raw, sizeof rec);

    BotActions acts = {0};
    CallOutcome oc = {0};
    PyObject *state = marshal_state(&rec);
    if (!state) _exit(76);
    PyObject *ret = call_bot("on_tick", state, g_tick_budget_us, false, &oc);
    Py_DECREF(state);
    if (ret) {
        char note[BOT_MESSAGE_MAX];
        if (marshal_actions_keep(ret, &acts, oc.msg, sizeof oc.msg, note, sizeof note) < 0) {
            oc.status = BOT_STATUS_ERROR;
            acts = (BotActions){0};
        } else if (note[0]) {
            /* Bad drawings cost the car nothing but the drawings. */
            char t[16];
            snprintf(t, sizeof t, "%u", tick);
            log_line("[tick %s] %s\n", t, note);
        }
        Py_DECREF(ret);
    }
    if (g_oom) {
        oc.status = BOT_STATUS_ERROR;
        snprintf(oc.msg, sizeof oc.msg,
                 "ran out of memory (limit %u MB); the worker is replaced and its state lost",
                 g_memory_limit_mb);
    }
    bot_buf_begin(&g_out, BOT_ACTIONS, g_oom ? BOT_FLAG_RESTART : 0, seq);
    bot_buf_u8(&g_out, (uint8_t)oc.status);
    uint64_t used = cpu_now_us() - cpu0;
    guard_cpu_tick_done(used);
    bot_buf_u32(&g_out, (uint32_t)used);
    bot_buf_f32(&g_out, acts.input.throttle);
    bot_buf_f32(&g_out, acts.input.brake);
    bot_buf_f32(&g_out, acts.input.steer);
    bot_buf_u8(&g_out, (uint8_t)(acts.input.nitro | acts.input.handbrake << 1));
    bot_buf_str(&g_out, oc.msg, strlen(oc.msg));
    put_log();
    bot_buf_u16(&g_out, (uint16_t)acts.n_draw);
    for (int i = 0; i < acts.n_draw; i++) {
        const BotDrawing *d = &acts.draw[i];
        bot_buf_u8(&g_out, d->kind);
        bot_buf_u32(&g_out, d->rgb);
        bot_buf_f32(&g_out, d->a);
        bot_buf_f32(&g_out, d->b);
        bot_buf_f32(&g_out, d->c);
        bot_buf_f32(&g_out, d->d);
        bot_buf_str(&g_out, d->text, strlen(d->text));
    }
    send_reply();
    if (g_oom) _exit(0);
}

static void handle_finish(BotReader *r, uint32_t seq) {
    if (!run_events(r) || !bot_reader_done(r)) _exit(77);
    CallOutcome oc = {0};
    PyObject *json = NULL;
    if (g_bot) {
        budget_arm(g_start_budget_us);
        json = PyObject_CallMethod(g_sandbox, "export_memory", "OI", g_bot, g_memory_cap);
        if (!json && !guard_expired) describe_error(&oc, "self.memory");
        if (budget_disarm()) {
            Py_CLEAR(json);
            snprintf(oc.msg, sizeof oc.msg, "saving self.memory took too long");
        }
        PyErr_Clear();
    }
    Py_ssize_t n = 0;
    const char *s = json && PyUnicode_Check(json) ? PyUnicode_AsUTF8AndSize(json, &n) : NULL;
    PyErr_Clear();
    bot_buf_begin(&g_out, BOT_FINISH_REPLY, 0, seq);
    bot_buf_u8(&g_out, (uint8_t)(s ? BOT_STATUS_OK : BOT_STATUS_ERROR));
    bot_buf_str(&g_out, s ? s : "", s ? (size_t)n : 0);
    bot_buf_str(&g_out, oc.msg, strlen(oc.msg));
    put_log();
    Py_XDECREF(json);
    send_reply();
}

_Noreturn void worker_main(int fd, const WorkerLimits *limits, PyObject *sandbox) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    g_sandbox = sandbox;
    g_memory_limit_mb = limits->memory_limit_mb;
    bot_buf_init(&g_out);
    bot_buf_begin(&g_out, BOT_FATAL, BOT_FLAG_RESTART, 0);
    static const char reason[] = "CPU hard limit: the bot did not stop at its budget";
    bot_buf_str(&g_out, reason, sizeof reason - 1);
    if (bot_buf_end(&g_out) < 0 || g_out.len > sizeof g_fatal) _exit(78);
    memcpy(g_fatal, g_out.data, g_out.len);
    g_fatal_len = g_out.len;

    struct sigaction sa = {0};
    sa.sa_handler = on_sigprof;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) < 0) _exit(79);
    oom_hooks_install();
    if (worker_lockdown(fd, limits) < 0) _exit(80);

    uint8_t *in = NULL;
    size_t in_cap = 0;
    for (;;) {
        uint8_t head[4];
        if (read_all(head, 4) < 0) _exit(0); /* host closed: done */
        size_t size = bot_frame_size(head, 4);
        if (size == SIZE_MAX) _exit(81);
        if (size > in_cap) {
            uint8_t *p = realloc(in, size);
            if (!p) _exit(82);
            in = p, in_cap = size;
        }
        memcpy(in, head, 4);
        if (read_all(in + 4, size - 4) < 0) _exit(0);
        BotReader r;
        BotHeader h;
        if (bot_reader_open(&r, in, size, &h) < 0) _exit(83);
        switch (h.type) {
            case BOT_INIT:
                handle_init(&r, h.seq);
                break;
            case BOT_TICK:
                handle_tick(&r, h.seq);
                break;
            case BOT_FINISH:
                handle_finish(&r, h.seq);
                break;
            default:
                _exit(84);
        }
        if (g_oom) _exit(0);
    }
}
