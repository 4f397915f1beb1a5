/*
 * bot_link.c - host side of the bot sandbox: the zygote connection, one link
 * per bot worker, non-blocking ticks with deadlines, restarts and the
 * per-bot log. See bot_link.h for the contract, bot_proto.h for the wire.
 */
#include "bot_link.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZYGOTE_TIMEOUT_MS 5000 /* zygote start (imports) and one fork */
#define DEFAULT_LOG_CAP (256u * 1024u)

struct BotHost {
    int ctrl;
    pid_t pid;
    uint32_t seq;
};

struct BotLink {
    BotHost *host;
    char *name, *source, *memory_in;
    size_t source_len;
    BotSpec spec;
    int fd, pidfd;
    pid_t pid;
    uint32_t seq;
    bool waiting, dead, disabled;
    uint32_t tick;
    int64_t sent_ns, deadline_ns;
    uint8_t *in;
    size_t in_len, in_cap;
    BotBuf out;
    BotReply reply;
    BotDrawing draw[BOT_MAX_DRAWINGS];
    int n_draw;
    char *log;
    size_t log_len;
    bool log_full;
    char *memory_out;
    BotLinkStats stats;
};

int64_t bot_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fail(CrError *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(CrError *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- zygote ------------------------------------------------------------- */

int bot_host_default_path(char *buf, size_t size) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return CR_EIO;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    int k = snprintf(buf, size, "%s/coderally-botd", exe);
    return k > 0 && (size_t)k < size ? CR_OK : CR_EINVAL;
}

int bot_host_start(const char *botd_path, BotHost **out, CrError *err) {
    *out = NULL;
    char path[PATH_MAX];
    if (!botd_path) {
        if (bot_host_default_path(path, sizeof path) < 0)
            return fail(err, CR_ENOTFOUND, "cannot locate coderally-botd");
        botd_path = path;
    }
    if (access(botd_path, X_OK) != 0)
        return fail(err, CR_ENOTFOUND, "bot sandbox %s: %s", botd_path, strerror(errno));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return fail(err, CR_EIO, "socketpair: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], BOT_WORKER_FD);
    char *argv[] = {(char *)botd_path, "--zygote", "3", NULL};
    char *envp[] = {NULL}; /* an empty environment: no PYTHON* variables */
    pid_t pid;
    int rc = posix_spawn(&pid, botd_path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return fail(err, CR_EIO, "cannot start %s: %s", botd_path, strerror(rc));
    }
    BotHost *h = calloc(1, sizeof *h);
    if (!h) {
        close(sv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return fail(err, CR_ENOMEM, "out of memory");
    }
    h->ctrl = sv[0];
    h->pid = pid;
    *out = h;
    return CR_OK;
}

void bot_host_stop(BotHost *host) {
    if (!host) return;
    close(host->ctrl); /* the zygote exits on EOF */
    int status;
    int64_t until = bot_now_ns() + 2000000000LL;
    while (waitpid(host->pid, &status, WNOHANG) == 0) {
        if (bot_now_ns() > until) {
            kill(host->pid, SIGKILL);
            waitpid(host->pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    free(host);
}

/* Asks the zygote for a worker: its socket, pidfd and pid. */
static int host_spawn(BotHost *h, uint32_t memory_mb, int *fd, int *pidfd, pid_t *pid,
                      CrError *err) {
    *fd = *pidfd = -1;
    BotBuf b;
    bot_buf_init(&b);
    bot_buf_begin(&b, ZY_SPAWN, 0, ++h->seq);
    bot_buf_u32(&b, memory_mb);
    bot_buf_u32(&b, 600); /* RLIMIT_CPU seconds: a backstop over a worker's life */
    int rc = bot_buf_end(&b);
    if (rc == 0 && send(h->ctrl, b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) rc = CR_EIO;
    bot_buf_fini(&b);
    if (rc) return fail(err, CR_EIO, "bot sandbox: cannot reach the zygote");
    struct pollfd p = {h->ctrl, POLLIN, 0};
    if (poll(&p, 1, ZYGOTE_TIMEOUT_MS) <= 0)
        return fail(err, CR_EIO, "bot sandbox: the zygote did not answer");
    uint8_t buf[512];
    union {
        struct cmsghdr h;
        char c[CMSG_SPACE(2 * sizeof(int))];
    } cm;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.c, .msg_controllen = sizeof cm.c};
    ssize_t n = recvmsg(h->ctrl, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return fail(err, CR_EIO, "bot sandbox: the zygote exited (see its stderr)");
    int fds[2] = {-1, -1};
    int n_fds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            n_fds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            if (n_fds > 2) n_fds = 2;
            memcpy(fds, CMSG_DATA(c), (size_t)n_fds * sizeof(int));
        }
    }
    BotReader r;
    BotHeader hdr;
    rc = bot_reader_open(&r, buf, (size_t)n, &hdr);
    if (rc == 0 && hdr.type == ZY_SPAWNED && n_fds >= 1) {
        *pid = (pid_t)bot_read_u32(&r);
        if (bot_reader_done(&r)) {
            *fd = fds[0];
            *pidfd = fds[1];
            return CR_OK;
        }
    }
    for (int i = 0; i < n_fds; i++) close(fds[i]);
    size_t len = 0;
    const char *why = hdr.type == ZY_FAILED ? bot_read_str(&r, 200, &len) : NULL;
    return fail(err, CR_EIO, "bot sandbox: %.*s", (int)len, why ? why : "bad zygote reply");
}

/* ---- log ---------------------------------------------------------------- */

static void log_append(BotLink *l, const char *s, size_t n) {
    static const char note[] = "[log truncated: cap reached]\n";
    if (l->log_full || n == 0) return;
    size_t cap = l->spec.log_cap;
    if (l->log_len + n + sizeof note > cap) {
        n = cap - sizeof note > l->log_len ? cap - sizeof note - l->log_len : 0;
        memcpy(l->log + l->log_len, s, n);
        l->log_len += n;
        memcpy(l->log + l->log_len, note, sizeof note - 1);
        l->log_len += sizeof note - 1;
        l->log_full = true;
        return;
    }
    memcpy(l->log + l->log_len, s, n);
    l->log_len += n;
}

void bot_link_note(BotLink *l, const char *fmt, ...) {
    char line[BOT_MESSAGE_MAX + 128];
    int k = snprintf(line, sizeof line, "[tick %u] ", l->tick);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + k, sizeof line - (size_t)k - 1, fmt, ap);
    va_end(ap);
    if (m < 0) return;
    size_t n = strlen(line);
    line[n++] = '\n';
    log_append(l, line, n);
}

/* ---- worker I/O --------------------------------------------------------- */

static void link_close(BotLink *l) {
    if (l->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
        close(l->pidfd);
    } else if (l->pid > 0) {
        kill(l->pid, SIGKILL); /* no pidfd: the zygote reaps, pid reuse is unlikely */
    }
    if (l->fd >= 0) close(l->fd);
    l->fd = l->pidfd = -1;
    l->pid = 0;
    l->waiting = false;
    l->in_len = 0;
}

/* The worker is gone or must go: kill it, note why, answer neutrally. */
static void link_crash(BotLink *l, const char *why, BotStatus status) {
    link_close(l);
    l->dead = true;
    l->reply.status = status;
    l->reply.input = (CarInput){0};
    l->n_draw = 0;
    if (status == BOT_STATUS_TIMEOUT) {
        l->stats.timeouts++;
    } else {
        l->stats.errors++;
    }
    bot_link_note(l, "worker lost: %s; it is replaced, in-memory state lost", why);
}

/* Writes a whole frame; the socket buffer always has room for one request,
 * so this does not block in practice, but it is bounded by the deadline. */
static int link_write(BotLink *l, int64_t deadline_ns) {
    size_t off = 0;
    while (off < l->out.len) {
        ssize_t w = send(l->fd, l->out.data + off, l->out.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t left = (deadline_ns - bot_now_ns()) / 1000000;
            struct pollfd p = {l->fd, POLLOUT, 0};
            if (left <= 0 || poll(&p, 1, (int)left) <= 0) return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

/* Non-blocking read; returns the size of a complete frame in l->in, 0 if
 * incomplete, -1 if the worker closed or sent garbage. */
static ssize_t link_read(BotLink *l) {
    for (;;) {
        size_t need = bot_frame_size(l->in, l->in_len);
        if (need == SIZE_MAX) return -1;
        if (need && l->in_len >= need) return (ssize_t)need;
        size_t want = need ? need : 4096;
        if (want > l->in_cap) {
            uint8_t *p = realloc(l->in, want);
            if (!p) return -1;
            l->in = p, l->in_cap = want;
        }
        ssize_t r = recv(l->fd, l->in + l->in_len, l->in_cap - l->in_len, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (r <= 0) return -1;
        l->in_len += (size_t)r;
    }
}

static void consume(BotLink *l, size_t n) {
    memmove(l->in, l->in + n, l->in_len - n);
    l->in_len -= n;
}

/* Blocks until a complete reply frame or the deadline. */
static ssize_t link_wait(BotLink *l, int64_t deadline_ns) {
    for (;;) {
        ssize_t n = link_read(l);
        if (n != 0) return n;
        int64_t left = (deadline_ns - bot_now_ns()) / 1000000;
        if (left <= 0) return -2;
        struct pollfd p = {l->fd, POLLIN, 0};
        int rc = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (rc < 0 && errno != EINTR) return -1;
    }
}

static double hard_deadline_ms(const BotSpec *s) {
    if (s->hard_deadline_ms > 0) return s->hard_deadline_ms;
    /* Generous against scheduling noise on a loaded machine: the CPU budget,
     * enforced inside the worker, is what normally ends a call. */
    double d = 20 * s->tick_budget_ms + 100;
    return d;
}

/* Spawns a worker and runs INIT. problems (may be NULL) gets the problem
 * lines. Returns CR_OK, CR_ESCRIPT (bot problems) or CR_EIO. */
static int link_start(BotLink *l, bool check_only, char **problems, CrError *err) {
    int rc =
        host_spawn(l->host, (uint32_t)l->spec.memory_limit_mb, &l->fd, &l->pidfd, &l->pid, err);
    if (rc) return rc;
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_INIT, 0, ++l->seq);
    bot_buf_u32(b, (uint32_t)(l->spec.start_budget_ms * 1000));
    bot_buf_u32(b, (uint32_t)(l->spec.tick_budget_ms * 1000));
    bot_buf_u64(b, l->spec.seed);
    bot_buf_u32(b, (uint32_t)l->spec.log_cap);
    bot_buf_u32(b, BOT_MEMORY_MAX);
    bot_buf_u8(b, check_only);
    bot_buf_u8(b, SENSOR_RAYS);
    for (int i = 0; i < SENSOR_RAYS; i++) bot_buf_f32(b, SENSOR_RAY_ANGLES[i]);
    bot_buf_u8(b, SENSOR_PACE_NOTES);
    for (int i = 0; i < SENSOR_PACE_NOTES; i++) bot_buf_f32(b, SENSOR_PACE_AHEAD[i]);
    bot_buf_str(b, l->name, strlen(l->name) > 256 ? 256 : strlen(l->name));
    bot_buf_str(b, l->source, l->source_len);
    const char *mem = l->memory_in ? l->memory_in : "";
    bot_buf_str(b, mem, strlen(mem));
    bot_buf_u8(b, l->spec.has_car);
    if (l->spec.has_car) {
        const CarStats *k = &l->spec.car;
        bot_buf_f64(b, k->top_speed);
        bot_buf_f64(b, k->acceleration);
        bot_buf_f64(b, k->grip);
        bot_buf_f64(b, k->braking);
        bot_buf_u32(b, (uint32_t)k->nitro_capacity);
        bot_buf_u32(b, (uint32_t)k->nitro_duration);
        bot_buf_f64(b, k->handling);
        bot_buf_f64(b, k->weight);
    }
    int64_t deadline = bot_now_ns() + (int64_t)((l->spec.start_budget_ms * 3 + 2000) * 1e6);
    if (bot_buf_end(b) < 0 || link_write(l, deadline) < 0) {
        link_close(l);
        return fail(err, CR_EIO, "bot sandbox: cannot send the bot to its worker");
    }
    ssize_t n = link_wait(l, deadline);
    if (n < 0) {
        link_close(l);
        return fail(err, CR_ESCRIPT, "1: the bot's worker %s while loading it",
                    n == -2 ? "did not answer" : "died");
    }
    BotReader r;
    BotHeader h;
    rc = bot_reader_open(&r, l->in, (size_t)n, &h);
    BotStatus status = bot_read_u8(&r);
    size_t plen, llen;
    const char *prob = bot_read_str(&r, 1 << 16, &plen);
    const char *log = bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &llen);
    if (rc || h.type != BOT_INIT_REPLY || h.seq != l->seq || !bot_reader_done(&r)) {
        link_close(l);
        return fail(err, CR_EIO, "bot sandbox: bad reply from the worker");
    }
    log_append(l, log, llen);
    if (problems) {
        *problems = malloc(plen + 1);
        if (*problems) {
            memcpy(*problems, prob, plen);
            (*problems)[plen] = 0;
        }
    }
    if (h.flags & BOT_FLAG_RESTART) status = BOT_STATUS_ERROR;
    if (status != BOT_STATUS_OK) {
        if (err) snprintf(err->msg, sizeof err->msg, "%.*s", (int)plen, prob);
        if (err && plen > 0 && err->msg[strlen(err->msg) - 1] == '\n')
            err->msg[strlen(err->msg) - 1] = 0;
        consume(l, (size_t)n);
        link_close(l);
        return CR_ESCRIPT;
    }
    consume(l, (size_t)n);
    l->dead = false;
    return CR_OK;
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static int link_alloc(BotHost *host, const BotSpec *spec, BotLink **out) {
    BotLink *l = calloc(1, sizeof *l);
    if (!l) return CR_ENOMEM;
    l->host = host;
    l->fd = l->pidfd = -1;
    l->spec = *spec;
    if (l->spec.tick_budget_ms <= 0) l->spec.tick_budget_ms = 10;
    if (l->spec.start_budget_ms <= 0) l->spec.start_budget_ms = 1000;
    if (l->spec.memory_limit_mb <= 0) l->spec.memory_limit_mb = 50;
    if (l->spec.log_cap < 1024) l->spec.log_cap = DEFAULT_LOG_CAP;
    l->name = dup_n(spec->name ? spec->name : "bot", strlen(spec->name ? spec->name : "bot"));
    l->source = dup_n(spec->source ? spec->source : "", spec->source_len);
    l->source_len = spec->source_len;
    l->memory_in = spec->memory_json ? dup_n(spec->memory_json, strlen(spec->memory_json)) : NULL;
    l->log = malloc(l->spec.log_cap);
    bot_buf_init(&l->out);
    if (!l->name || !l->source || !l->log || (spec->memory_json && !l->memory_in)) {
        bot_link_destroy(l);
        return CR_ENOMEM;
    }
    *out = l;
    return CR_OK;
}

int bot_link_create(BotHost *host, const BotSpec *spec, BotLink **out, CrError *err) {
    *out = NULL;
    if (spec->source_len > BOT_SOURCE_MAX)
        return fail(err, CR_ESCRIPT, "1: the source is %zu bytes; bots may have at most %u",
                    spec->source_len, BOT_SOURCE_MAX);
    if (spec->memory_json && strlen(spec->memory_json) > BOT_MEMORY_MAX)
        return fail(err, CR_EINVAL, "bot memory over %u bytes", BOT_MEMORY_MAX);
    BotLink *l;
    if (link_alloc(host, spec, &l) < 0) return fail(err, CR_ENOMEM, "out of memory");
    int rc = link_start(l, false, NULL, err);
    if (rc) {
        bot_link_destroy(l);
        return rc;
    }
    *out = l;
    return CR_OK;
}

int bot_check_source(BotHost *host, const char *source, size_t len, char **problems, CrError *err) {
    *problems = NULL;
    if (len > BOT_SOURCE_MAX) {
        char buf[128];
        snprintf(buf, sizeof buf, "1: the source is %zu bytes; bots may have at most %u\n", len,
                 BOT_SOURCE_MAX);
        *problems = dup_n(buf, strlen(buf));
        return *problems ? CR_OK : CR_ENOMEM;
    }
    BotSpec spec = {.name = "check", .source = source, .source_len = len};
    BotLink *l;
    if (link_alloc(host, &spec, &l) < 0) return fail(err, CR_ENOMEM, "out of memory");
    int rc = link_start(l, true, problems, err);
    bot_link_destroy(l);
    if (rc == CR_ESCRIPT && *problems) rc = CR_OK; /* problems are the answer */
    if (rc == CR_ESCRIPT && !*problems) {
        *problems = dup_n(err->msg, strlen(err->msg));
        rc = CR_OK;
    }
    return rc;
}

void bot_link_destroy(BotLink *l) {
    if (!l) return;
    link_close(l);
    bot_buf_fini(&l->out);
    free(l->in);
    free(l->name);
    free(l->source);
    free(l->memory_in);
    free(l->memory_out);
    free(l->log);
    free(l);
}

/* Replaces a dead worker before the next request, up to BOT_MAX_RESTARTS. */
static int link_revive(BotLink *l) {
    if (l->disabled) return -1;
    if (!l->dead) return 0;
    if (l->stats.restarts >= BOT_MAX_RESTARTS) {
        l->disabled = true;
        bot_link_note(l, "bot disabled for the rest of the race after %d restarts",
                      BOT_MAX_RESTARTS);
        return -1;
    }
    l->stats.restarts++;
    CrError err;
    if (link_start(l, false, NULL, &err) != CR_OK) {
        bot_link_note(l, "restart failed: %s", err.msg);
        l->dead = true;
        return -1;
    }
    bot_link_note(l, "worker restarted");
    return 0;
}

int bot_link_send_tick(BotLink *l, const SensorRecord *s, const BotWireEvent *events,
                       size_t n_events) {
    l->tick = s->tick;
    l->reply = (BotReply){.status = BOT_STATUS_CRASH};
    l->n_draw = 0;
    l->stats.calls++;
    if (l->waiting) {
        /* The caller did not collect the last reply: that worker is hung. */
        link_crash(l, "previous request never collected", BOT_STATUS_CRASH);
    }
    if (link_revive(l) < 0) return CR_OK; /* neutral input this tick */
    if (n_events > BOT_MAX_EVENTS) n_events = BOT_MAX_EVENTS;
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_TICK, 0, ++l->seq);
    bot_buf_u32(b, s->tick);
    bot_buf_u16(b, (uint16_t)n_events);
    for (size_t i = 0; i < n_events; i++) bot_buf_event(b, &events[i]);
    bot_buf_u32(b, (uint32_t)sizeof *s);
    bot_buf_bytes(b, s, sizeof *s);
    l->sent_ns = bot_now_ns();
    l->deadline_ns = l->sent_ns + (int64_t)(hard_deadline_ms(&l->spec) * 1e6);
    if (bot_buf_end(b) < 0 || link_write(l, l->deadline_ns) < 0) {
        link_crash(l, "cannot send to the worker", BOT_STATUS_CRASH);
        return CR_OK;
    }
    l->waiting = true;
    return CR_OK;
}

int bot_link_fd(const BotLink *l) {
    return l->waiting ? l->fd : -1;
}

bool bot_link_pending(const BotLink *l) {
    return l->waiting;
}

int64_t bot_link_deadline(const BotLink *l) {
    return l->waiting ? l->deadline_ns : INT64_MAX;
}

/* Decodes a BOT_ACTIONS (or BOT_FATAL) frame into the reply. */
static void link_take_reply(BotLink *l, size_t n) {
    BotReader r;
    BotHeader h;
    int rc = bot_reader_open(&r, l->in, n, &h);
    double wall = (double)(bot_now_ns() - l->sent_ns) / 1e3;
    if (rc == 0 && h.type == BOT_FATAL) {
        size_t len;
        const char *why = bot_read_str(&r, BOT_MESSAGE_MAX, &len);
        char buf[BOT_MESSAGE_MAX + 1];
        snprintf(buf, sizeof buf, "%.*s", (int)len, why ? why : "fatal");
        consume(l, n);
        link_crash(l, buf, BOT_STATUS_TIMEOUT);
        return;
    }
    BotReply rep = {0};
    rep.status = bot_read_u8(&r);
    rep.cpu_us = bot_read_u32(&r);
    float th = bot_read_f32(&r), br = bot_read_f32(&r), st = bot_read_f32(&r);
    uint8_t flags = bot_read_u8(&r);
    size_t mlen, llen;
    const char *msg = bot_read_str(&r, BOT_MESSAGE_MAX, &mlen);
    const char *log = bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &llen);
    uint16_t nd = bot_read_u16(&r);
    BotDrawing draw[BOT_MAX_DRAWINGS];
    if (nd > BOT_MAX_DRAWINGS) r.failed = true;
    for (int i = 0; i < nd && !r.failed; i++) {
        BotDrawing *d = &draw[i];
        d->kind = bot_read_u8(&r);
        d->rgb = bot_read_u32(&r) & 0xffffff;
        d->a = bot_read_f32(&r), d->b = bot_read_f32(&r);
        d->c = bot_read_f32(&r), d->d = bot_read_f32(&r);
        size_t tl;
        const char *t = bot_read_str(&r, BOT_DRAW_TEXT_MAX, &tl);
        if (t) memcpy(d->text, t, tl);
        d->text[t ? tl : 0] = 0;
        if (d->kind > BOT_DRAW_TEXT) r.failed = true;
    }
    if (rc || h.type != BOT_ACTIONS || h.seq != l->seq || !bot_reader_done(&r) ||
        rep.status > BOT_STATUS_TIMEOUT) {
        consume(l, n);
        link_crash(l, "malformed reply", BOT_STATUS_CRASH);
        return;
    }
    /* The worker validated the actions; the host checks the ranges again,
     * since it trusts nothing that crossed the process boundary. */
    if (rep.status == BOT_STATUS_OK && isfinite(th) && isfinite(br) && isfinite(st) && th >= 0 &&
        th <= 1 && br >= 0 && br <= 1 && st >= -1 && st <= 1) {
        rep.input = (CarInput){th, br, st, flags & 1, (flags & 2) != 0};
        memcpy(l->draw, draw, sizeof(BotDrawing) * nd);
        l->n_draw = nd;
    } else if (rep.status == BOT_STATUS_OK) {
        rep.status = BOT_STATUS_ERROR;
    }
    rep.wall_us = wall;
    log_append(l, log, llen);
    if (rep.status == BOT_STATUS_TIMEOUT) l->stats.timeouts++;
    if (rep.status == BOT_STATUS_ERROR) l->stats.errors++;
    if (rep.status != BOT_STATUS_OK) bot_link_note(l, "%.*s", (int)mlen, msg);
    l->stats.total_us += wall;
    if (wall > l->stats.worst_us) l->stats.worst_us = wall;
    l->stats.cpu_us += rep.cpu_us;
    l->reply = rep;
    l->waiting = false;
    consume(l, n);
    if (h.flags & BOT_FLAG_RESTART) {
        link_close(l);
        l->dead = true;
        bot_link_note(l, "worker replaced; in-memory state lost");
    }
}

int bot_link_pump(BotLink *l) {
    if (!l->waiting) return 1;
    ssize_t n = link_read(l);
    if (n == 0) return 0;
    if (n < 0) {
        link_crash(l, "worker died (crash, memory limit or forbidden system call)",
                   BOT_STATUS_CRASH);
        return 1;
    }
    link_take_reply(l, (size_t)n);
    return 1;
}

void bot_link_expire(BotLink *l, int64_t now_ns) {
    if (l->waiting && now_ns >= l->deadline_ns) {
        char why[96];
        snprintf(why, sizeof why, "no answer within the hard deadline of %.0f ms (killed)",
                 hard_deadline_ms(&l->spec));
        link_crash(l, why, BOT_STATUS_TIMEOUT);
    }
}

int bot_links_collect(BotLink *const *links, size_t n) {
    struct pollfd fds[CR_MAX_CARS];
    BotLink *who[CR_MAX_CARS];
    for (;;) {
        size_t k = 0;
        int64_t deadline = INT64_MAX, now = bot_now_ns();
        for (size_t i = 0; i < n; i++) {
            BotLink *l = links[i];
            if (!l->waiting) continue;
            if (bot_link_pump(l)) continue;
            bot_link_expire(l, now);
            if (!l->waiting) continue;
            if (k < CR_MAX_CARS) {
                fds[k] = (struct pollfd){l->fd, POLLIN, 0};
                who[k++] = l;
            }
            if (l->deadline_ns < deadline) deadline = l->deadline_ns;
        }
        if (k == 0) return CR_OK;
        int64_t left_us = (deadline - now) / 1000;
        struct timespec ts = {left_us / 1000000, (left_us % 1000000) * 1000};
        if (left_us < 0) ts = (struct timespec){0, 0};
        int rc = ppoll(fds, k, &ts, NULL);
        if (rc < 0 && errno != EINTR) return CR_EIO;
        (void)who;
    }
}

const BotReply *bot_link_reply(const BotLink *l) {
    return &l->reply;
}

const BotDrawing *bot_link_drawings(const BotLink *l, int *n) {
    *n = l->n_draw;
    return l->draw;
}

int bot_link_finish(BotLink *l, const BotWireEvent *events, size_t n_events, CrError *err) {
    if (l->waiting) bot_links_collect(&l, 1);
    if (l->disabled || l->dead) {
        /* A replaced worker has no memory worth keeping; the old one stays. */
        return fail(err, CR_EINVAL, "the bot's worker is gone; memory not saved");
    }
    if (n_events > BOT_MAX_EVENTS) n_events = BOT_MAX_EVENTS;
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_FINISH, 0, ++l->seq);
    bot_buf_u16(b, (uint16_t)n_events);
    for (size_t i = 0; i < n_events; i++) bot_buf_event(b, &events[i]);
    int64_t deadline = bot_now_ns() + (int64_t)((l->spec.start_budget_ms * 3 + 2000) * 1e6);
    if (bot_buf_end(b) < 0 || link_write(l, deadline) < 0) {
        link_crash(l, "cannot send to the worker", BOT_STATUS_CRASH);
        return fail(err, CR_EIO, "worker lost at the finish");
    }
    ssize_t n = link_wait(l, deadline);
    if (n < 0) {
        link_crash(l, n == -2 ? "no answer at the finish" : "worker died at the finish",
                   BOT_STATUS_CRASH);
        return fail(err, CR_EIO, "worker lost at the finish");
    }
    BotReader r;
    BotHeader h;
    int rc = bot_reader_open(&r, l->in, (size_t)n, &h);
    uint8_t status = bot_read_u8(&r);
    size_t jl, ml, ll;
    const char *json = bot_read_str(&r, BOT_MEMORY_MAX, &jl);
    const char *msg = bot_read_str(&r, BOT_MESSAGE_MAX, &ml);
    const char *log = bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &ll);
    if (rc || h.type != BOT_FINISH_REPLY || h.seq != l->seq || !bot_reader_done(&r)) {
        consume(l, (size_t)n);
        link_crash(l, "malformed reply", BOT_STATUS_CRASH);
        return fail(err, CR_EIO, "bad finish reply");
    }
    log_append(l, log, ll);
    free(l->memory_out);
    l->memory_out = NULL;
    if (status == BOT_STATUS_OK) {
        l->memory_out = dup_n(json, jl);
    } else {
        bot_link_note(l, "self.memory not saved: %.*s", (int)ml, msg);
    }
    consume(l, (size_t)n);
    return l->memory_out ? CR_OK : fail(err, CR_EINVAL, "memory not saved");
}

const char *bot_link_memory(const BotLink *l) {
    return l->memory_out;
}

const char *bot_link_log(const BotLink *l, size_t *len) {
    *len = l->log_len;
    return l->log;
}

void bot_link_stats(const BotLink *l, BotLinkStats *out) {
    *out = l->stats;
}

pid_t bot_link_pid(const BotLink *l) {
    return l->pid;
}

bool bot_link_disabled(const BotLink *l) {
    return l->disabled;
}
