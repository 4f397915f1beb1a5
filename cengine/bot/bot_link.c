/*
 * bot_link.c - host side of the bot sandbox: the zygote connection, one link
 * per bot worker, all as state machines advanced by bot_host_pump and never
 * waiting (ARCHITECTURE lesson 19). See bot_link.h for the contract and the
 * states, bot_proto.h for the wire.
 */
#include "bot_link.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The zygote imports Python before it answers its first request, which takes
 * seconds under the sanitizers on a loaded machine; past this it is hung. */
#define ZYGOTE_ANSWER_MS 15000
#define ZYGOTE_BACKOFF_MIN_MS 100
#define ZYGOTE_BACKOFF_MAX_MS 5000
/* Revive back-off: 0 for the first loss, then 100, 200, 400 ... ms. */
#define REVIVE_BACKOFF_MS 100
#define REVIVE_BACKOFF_MAX_MS 3000
/* A first load that cannot even get a worker (zygote broken) gives up,
 * and sooner if zygotes keep dying before they serve anyone. */
#define FIRST_START_MS 30000
#define ZYGOTE_BROKEN_AFTER 3
#define SEND_RETRY_MS 2
#define DEFAULT_LOG_CAP (256u * 1024u)
#define MAX_GRAVES 64
#define COLLECT_FDS 256
/* With no spawn outstanding the zygote has nothing to say; the pump reads
 * its socket this often anyway, so a death is noticed without a syscall on
 * every turn of a busy loop. */
#define ZYGOTE_CHECK_MS 250
/* A zygote dying this soon after one of its workers was counted as lost is
 * taken to have killed it: a worker forked at that moment can hold the
 * zygote's socket open, so the workers' deaths may be seen first. */
#define ZYGOTE_BLAME_MS 1000

/* What a link waits for. STARTING/REVIVING use WAIT, SPAWN, LOAD; BUSY is
 * TICK; FINISHING is TICK (finish queued behind it) or FINISH. */
typedef enum { PH_NONE, PH_WAIT, PH_SPAWN, PH_LOAD, PH_TICK, PH_FINISH } Phase;

struct BotHost {
    char path[PATH_MAX];
    int ctrl; /* -1 while the zygote is down */
    pid_t pid;
    uint32_t seq; /* last ZY_SPAWN sequence number */
    uint32_t gen; /* bumps on every zygote start */
    int64_t restart_at;
    int64_t next_check; /* when the pump next reads the zygote unasked */
    bool served;        /* this zygote has handed out a worker */
    int dead_unserved;  /* zygotes in a row that died before serving one */
    int backoff_ms;
    BotLink *links;
    pid_t graves[MAX_GRAVES]; /* killed zygotes not reaped yet */
    int n_graves;
    BotHostStats stats;
    /* Watch mode (bot_host_watch): the epoll set, -1 without. */
    int ep;
    int n_watched;
    bool ctrl_watched;
    BotWakeFn on_wake;
    void *wake_ud;
    /* The earliest time service is needed by (may be early, never late);
     * INT64_MIN while host_pump_due recomputes it. */
    int64_t soonest;
    int64_t asked; /* what on_wake was last told */
};

struct BotLink {
    BotHost *host;
    BotLink *prev, *next;
    char *name, *source, *memory_in, *stage_in;
    size_t source_len;
    BotSpec spec;
    char reply_msg[BOT_MESSAGE_MAX + 1]; /* why the last tick was not OK */
    SurfaceTable surfaces;               /* spec.surfaces points here */
    BotLinkState state;
    Phase phase;
    int fd, pidfd;
    int watch_fd; /* fd as registered in the host's epoll set, or -1 */
    uint32_t watch_ev;
    pid_t pid;
    uint32_t seq;        /* last request to the worker */
    uint32_t spawn_seq;  /* the ZY_SPAWN this link waits on */
    uint32_t gen;        /* zygote generation the worker came from */
    uint32_t blamed_gen; /* the last restart counted against the bot: its */
    int64_t blamed_ns;   /* worker's generation and when */
    uint32_t tick;
    int64_t sent_ns, wake_ns, first_deadline_ns;
    int start_rc; /* 1 while the first load is under way, then CR_OK or CR_ESCRIPT */
    char *problems;
    BotWireEvent fin_ev[BOT_MAX_EVENTS];
    size_t n_fin_ev;
    bool finish_queued;
    uint8_t *in;
    size_t in_len, in_cap;
    BotBuf out;
    size_t out_off; /* bytes of out already written */
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

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static int64_t ms_to_ns(double ms) {
    return (int64_t)(ms * 1e6);
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

/* ---- readiness (bot_host_watch) ---------------------------------------- */

/* Tells the caller the host needs service by t, if that is sooner than what
 * it was told. */
static void host_want(BotHost *h, int64_t t) {
    if (h->ep < 0 || t >= h->soonest) return;
    h->soonest = t;
    if (h->on_wake && t != h->asked) {
        h->asked = t;
        h->on_wake(h->wake_ud, t);
    }
}

/* Brings one socket's registration in the epoll set to (fd, ev) under tag;
 * ev 0 or fd -1 takes it out. *cur_fd and *cur_ev say what is registered.
 * Every close of a registered socket comes after this with fd -1: epoll
 * keeps a registration as long as the open file lives, not the number, so a
 * socket closed first could go on reporting under a number reused since.
 * -1 if the kernel refused (ENOMEM, max_user_watches): the caller then reads
 * that socket on a timer instead. */
static int watch_set(BotHost *h, int *cur_fd, uint32_t *cur_ev, int fd, uint32_t ev, void *tag) {
    if (fd < 0) ev = 0;
    if (*cur_fd >= 0 && (*cur_fd != fd || ev == 0)) {
        /* Cannot fail for a registered fd that is still open. */
        if (epoll_ctl(h->ep, EPOLL_CTL_DEL, *cur_fd, NULL) == 0) h->n_watched--;
        *cur_fd = -1;
        *cur_ev = 0;
    }
    if (ev == 0 || (*cur_fd == fd && *cur_ev == ev)) return 0;
    struct epoll_event e = {.events = ev, .data.ptr = tag};
    bool add = *cur_fd != fd;
    if (epoll_ctl(h->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e) < 0) return -1;
    if (add) h->n_watched++;
    *cur_fd = fd;
    *cur_ev = ev;
    return 0;
}

/* When a link next needs its timers run, INT64_MAX if it waits for nothing. */
static int64_t link_wake(const BotLink *l) {
    if (l->phase == PH_NONE) return INT64_MAX;
    int64_t t = l->wake_ns;
    if (l->start_rc == 1 && l->first_deadline_ns < t) t = l->first_deadline_ns;
    return t;
}

/* After anything that may have changed what a link waits on: its socket is
 * in the epoll set exactly while a load, tick or finish is in flight
 * (POLLOUT too while a frame is half written), and the caller's timer is
 * no later than its deadline. Idle workers stay out of the set: a worker
 * that dies while idle would otherwise report a hang-up nobody reads. */
static void link_sync(BotLink *l) {
    BotHost *h = l->host;
    if (!h || h->ep < 0) return;
    uint32_t ev = 0;
    if (l->fd >= 0 && (l->phase == PH_LOAD || l->phase == PH_TICK || l->phase == PH_FINISH))
        ev = EPOLLIN | (l->out_off < l->out.len ? EPOLLOUT : 0);
    if (watch_set(h, &l->watch_fd, &l->watch_ev, l->fd, ev, l) < 0)
        host_want(h, bot_now_ns() + ms_to_ns(SEND_RETRY_MS));
    host_want(h, link_wake(l));
}

/* The zygote's socket is watched for as long as it is open: it only speaks
 * to answer a spawn or to say it is gone (EOF), so it never wakes us idly. */
static void host_watch_ctrl(BotHost *h) {
    if (h->ep < 0) return;
    int cur = h->ctrl_watched ? h->ctrl : -1;
    uint32_t ev = h->ctrl_watched ? EPOLLIN : 0;
    int rc = watch_set(h, &cur, &ev, h->ctrl, h->ctrl >= 0 ? EPOLLIN : 0, h);
    h->ctrl_watched = rc == 0 && cur >= 0;
    if (rc < 0) host_want(h, bot_now_ns() + ms_to_ns(ZYGOTE_CHECK_MS));
}

static void host_unwatch_ctrl(BotHost *h) {
    if (h->ep < 0 || !h->ctrl_watched) return;
    int cur = h->ctrl;
    uint32_t ev = EPOLLIN;
    watch_set(h, &cur, &ev, -1, 0, h);
    h->ctrl_watched = false;
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

/* Reaps what it can of the killed zygotes without waiting. */
static void host_reap(BotHost *h) {
    int k = 0;
    for (int i = 0; i < h->n_graves; i++) {
        pid_t r = waitpid(h->graves[i], NULL, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) h->graves[k++] = h->graves[i];
    }
    h->n_graves = k;
}

static void host_bury(BotHost *h, pid_t pid) {
    if (waitpid(pid, NULL, WNOHANG) != 0) return;
    if (h->n_graves == MAX_GRAVES) {
        /* Only after 64 zygote deaths within moments: the oldest was
         * SIGKILLed long ago, so this wait is the kernel's teardown only. */
        waitpid(h->graves[0], NULL, 0);
        memmove(h->graves, h->graves + 1, sizeof h->graves[0] * (MAX_GRAVES - 1));
        h->n_graves--;
    }
    h->graves[h->n_graves++] = pid;
    host_want(h, bot_now_ns() + ms_to_ns(50));
}

/* Spawns the zygote with only its own fds (stdin and stdout on /dev/null,
 * stderr for its diagnostics, its socket as fd 3), an empty signal mask and
 * default dispositions: a caller that blocks or ignores SIGPROF must not
 * switch off the workers' CPU budget. posix_spawn returns once exec is
 * done; the zygote's Python start-up happens after that, in the background. */
static int host_spawn_zygote(BotHost *h) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return errno;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, sv[1], BOT_WORKER_FD);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, BOT_WORKER_FD + 1);
    if (!rc) rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&at, &all);
    if (!rc) rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {h->path, "--zygote", "3", NULL};
    char *envp[] = {NULL}; /* an empty environment: no PYTHON* variables */
    pid_t pid = 0;
    if (!rc) rc = posix_spawn(&pid, h->path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc;
    }
    h->ctrl = sv[0];
    h->pid = pid;
    h->served = false;
    h->gen++;
    h->stats.zygote_starts++;
    host_watch_ctrl(h);
    return 0;
}

static void link_lost(BotLink *l, const char *why, int status);
static void link_request_spawn(BotLink *l, int64_t now);
static void link_send_init(BotLink *l, int64_t now);

/* The zygote died, hung or spoke garbage: kill it, restart it after a
 * back-off; links that asked it for a worker ask the next one. */
static void host_zygote_lost(BotHost *h, const char *why) {
    if (h->ctrl < 0) return;
    fprintf(stderr, "coderally: bot sandbox zygote lost (%s); restarting it\n", why);
    host_unwatch_ctrl(h);
    close(h->ctrl);
    h->ctrl = -1;
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        host_bury(h, h->pid);
    }
    h->pid = 0;
    h->stats.zygote_deaths++;
    h->dead_unserved = h->served ? 0 : h->dead_unserved + 1;
    int64_t now = bot_now_ns();
    h->restart_at = now + ms_to_ns(h->backoff_ms);
    h->backoff_ms =
        h->backoff_ms * 2 > ZYGOTE_BACKOFF_MAX_MS ? ZYGOTE_BACKOFF_MAX_MS : h->backoff_ms * 2;
    host_want(h, h->restart_at);
    /* Its workers die with it (PR_SET_PDEATHSIG): replace them now, not at
     * their next tick, so the bots are back sooner; a loss just counted
     * against a bot was this death's doing and is taken back. */
    for (BotLink *l = h->links; l; l = l->next) {
        if (l->blamed_gen == h->gen && now - l->blamed_ns < ms_to_ns(ZYGOTE_BLAME_MS) &&
            l->stats.restarts > 0) {
            l->stats.restarts--;
            l->blamed_gen = 0;
            bot_link_note(l, "that loss was its zygote's death: not counted");
            if (l->state == BOT_LINK_DISABLED && l->start_rc == CR_OK) {
                l->state = BOT_LINK_REVIVING;
                l->phase = PH_WAIT;
                l->wake_ns = h->restart_at;
            }
        }
        if (l->phase == PH_SPAWN) {
            l->phase = PH_WAIT;
            l->wake_ns = h->restart_at;
        } else if (l->fd >= 0 && l->gen == h->gen) {
            link_lost(l, "its zygote died", BOT_STATUS_CRASH);
        }
        link_sync(l);
    }
}

static BotLink *host_find_spawn(BotHost *h, uint32_t seq) {
    for (BotLink *l = h->links; l; l = l->next)
        if (l->phase == PH_SPAWN && l->spawn_seq == seq) return l;
    return NULL;
}

/* One zygote reply: hand the worker to the link whose request it answers,
 * or discard it (and end that worker) if no one waits for that number. */
static void host_take_reply(BotHost *h, const uint8_t *buf, size_t n, int *fds, int n_fds) {
    BotReader r;
    BotHeader hdr;
    int rc = bot_reader_open(&r, buf, n, &hdr);
    BotLink *l = rc == 0 ? host_find_spawn(h, hdr.seq) : NULL;
    if (rc == 0 && l && hdr.type == ZY_SPAWNED && n_fds >= 1) {
        pid_t pid = (pid_t)bot_read_u32(&r);
        if (bot_reader_done(&r) && pid > 0) {
            l->fd = fds[0];
            l->pidfd = n_fds > 1 ? fds[1] : -1;
            l->pid = pid;
            l->gen = h->gen;
            h->backoff_ms = ZYGOTE_BACKOFF_MIN_MS;
            h->served = true;
            h->dead_unserved = 0;
            link_send_init(l, bot_now_ns());
            link_sync(l);
            return;
        }
    }
    if (rc == 0 && l && hdr.type == ZY_FAILED) {
        size_t len = 0;
        const char *why = bot_read_str(&r, 200, &len);
        char msg[300];
        snprintf(msg, sizeof msg, "the sandbox could not start a worker: %.*s", (int)len,
                 why ? why : "?");
        for (int i = 0; i < n_fds; i++) close(fds[i]);
        l->phase = PH_NONE;
        link_lost(l, msg, -1);
        link_sync(l);
        return;
    }
    /* Stale (its link gave up or is gone), duplicated or malformed. A stale
     * worker is killed; a duplicate names a worker a link already has, which
     * must live on: only our copies of its fds are closed. */
    h->stats.stale_replies++;
    bool owned = false;
    if (rc == 0 && hdr.type == ZY_SPAWNED) {
        BotReader r2;
        BotHeader h2;
        pid_t pid = bot_reader_open(&r2, buf, n, &h2) == 0 ? (pid_t)bot_read_u32(&r2) : 0;
        for (BotLink *o = h->links; o && pid > 0 && !owned; o = o->next) owned = o->pid == pid;
    }
    if (n_fds > 1 && !owned) syscall(SYS_pidfd_send_signal, fds[1], SIGKILL, NULL, 0);
    for (int i = 0; i < n_fds; i++) close(fds[i]);
}

/* Reads every reply the zygote has sent, without waiting. */
static void host_read(BotHost *h) {
    while (h->ctrl >= 0) {
        uint8_t buf[512];
        union {
            struct cmsghdr h;
            char c[CMSG_SPACE(4 * sizeof(int))];
        } cm;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.c, .msg_controllen = sizeof cm.c};
        ssize_t n = recvmsg(h->ctrl, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            host_zygote_lost(h, n == 0 ? "it exited" : strerror(errno));
            return;
        }
        int fds[4];
        int n_fds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof fd);
                if (n_fds < 4) {
                    fds[n_fds++] = fd;
                } else {
                    close(fd);
                }
            }
        }
        if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            for (int i = 0; i < n_fds; i++) close(fds[i]);
            h->stats.stale_replies++;
            continue;
        }
        host_take_reply(h, buf, (size_t)n, fds, n_fds);
    }
}

int bot_host_start(const char *botd_path, BotHost **out, CrError *err) {
    *out = NULL;
    char path[PATH_MAX];
    if (!botd_path) {
        if (bot_host_default_path(path, sizeof path) < 0)
            return cr_fail(err, CR_ENOTFOUND, "cannot locate coderally-botd");
        botd_path = path;
    }
    if (strlen(botd_path) >= PATH_MAX) return cr_fail(err, CR_EINVAL, "bot sandbox path too long");
    if (access(botd_path, X_OK) != 0)
        return cr_fail(err, CR_ENOTFOUND, "bot sandbox %s: %s", botd_path, strerror(errno));
    BotHost *h = calloc(1, sizeof *h);
    if (!h) return cr_fail(err, CR_ENOMEM, "out of memory");
    snprintf(h->path, sizeof h->path, "%s", botd_path);
    h->ctrl = -1;
    h->ep = -1;
    h->soonest = h->asked = INT64_MAX;
    h->backoff_ms = ZYGOTE_BACKOFF_MIN_MS;
    int rc = host_spawn_zygote(h);
    if (rc) {
        free(h);
        return cr_fail(err, CR_EIO, "cannot start %s: %s", botd_path, strerror(rc));
    }
    *out = h;
    return CR_OK;
}

static void link_close(BotLink *l);

void bot_host_stop(BotHost *h) {
    if (!h) return;
    for (BotLink *l = h->links; l;) {
        BotLink *next = l->next;
        link_close(l);
        l->phase = PH_NONE;
        if (l->state != BOT_LINK_FINISHED) l->state = BOT_LINK_DISABLED;
        if (l->start_rc == 1) l->start_rc = CR_ESCRIPT;
        l->host = NULL;
        l->prev = l->next = NULL;
        l = next;
    }
    host_unwatch_ctrl(h);
    if (h->ctrl >= 0) close(h->ctrl);
    if (h->ep >= 0) close(h->ep);
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0); /* SIGKILLed: only the kernel's teardown */
    }
    for (int i = 0; i < h->n_graves; i++) waitpid(h->graves[i], NULL, 0);
    free(h);
}

void bot_host_stats(const BotHost *h, BotHostStats *out) {
    *out = h->stats;
}

pid_t bot_host_pid(const BotHost *h) {
    return h->ctrl >= 0 ? h->pid : 0;
}

/* ---- worker I/O --------------------------------------------------------- */

/* Ends the worker without waiting: SIGKILL through its pidfd (the zygote's
 * children are reaped by the kernel), and closes the link's ends. */
static void link_close(BotLink *l) {
    if (l->host && l->host->ep >= 0) watch_set(l->host, &l->watch_fd, &l->watch_ev, -1, 0, l);
    if (l->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
        close(l->pidfd);
    } else if (l->pid > 0) {
        kill(l->pid, SIGKILL); /* no pidfd: the zygote reaps, pid reuse is unlikely */
    }
    if (l->fd >= 0) close(l->fd);
    l->fd = l->pidfd = -1;
    l->pid = 0;
    l->in_len = 0;
    l->out.len = l->out_off = 0;
}

/* Writes what it can of the pending frame. 0 (done or to be continued on
 * POLLOUT), -1 if the worker is gone. */
static int link_flush(BotLink *l) {
    while (l->out_off < l->out.len) {
        ssize_t w = send(l->fd, l->out.data + l->out_off, l->out.len - l->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            l->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
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

static double hard_deadline_ms(const BotSpec *s) {
    if (s->hard_deadline_ms > 0) return s->hard_deadline_ms;
    /* Generous against scheduling noise on a loaded machine: the CPU budget,
     * enforced inside the worker, is what normally ends a call. */
    return 20 * s->tick_budget_ms + 100;
}

static double load_deadline_ms(const BotSpec *s) {
    return s->start_budget_ms * 3 + 2000;
}

static int revive_backoff_ms(long restarts) {
    if (restarts <= 1) return 0;
    long ms = (long)REVIVE_BACKOFF_MS << (restarts - 2 < 8 ? restarts - 2 : 8);
    return ms > REVIVE_BACKOFF_MAX_MS ? REVIVE_BACKOFF_MAX_MS : (int)ms;
}

static void set_problems(BotLink *l, const char *s, size_t n) {
    free(l->problems);
    l->problems = dup_n(s, n);
}

/* The worker is gone or must go, whatever the link was doing: kill it and
 * move on. status >= 0 answers a tick in flight with that status (neutral
 * input); -1 leaves the reply alone. A first load fails for good; a loaded
 * bot is revived after a back-off, unless it used up its restarts. A worker
 * lost because its zygote died does not count against the bot. */
static void link_lost(BotLink *l, const char *why, int status) {
    BotHost *h = l->host;
    Phase was = l->phase;
    /* A worker gone before it had the whole bot cannot have died of the
     * bot; the usual cause is its zygote's death, whose EOF may not be
     * readable yet. A first load gets another worker (until its deadline;
     * a revive counts the loss, which bounds it). */
    bool unsent = l->start_rc == 1 && was == PH_LOAD && l->out_off < l->out.len;
    link_close(l);
    l->phase = PH_NONE;
    if (was == PH_TICK && status >= 0) {
        l->reply.status = (BotStatus)status;
        l->reply.input = (CarInput){0};
        l->n_draw = 0;
        snprintf(l->reply_msg, sizeof l->reply_msg, "worker lost: %s", why);
        if (status == BOT_STATUS_TIMEOUT) {
            l->stats.timeouts++;
        } else {
            l->stats.errors++;
        }
    }
    if (l->state == BOT_LINK_FINISHING || l->state == BOT_LINK_FINISHED) {
        bot_link_note(l, "worker lost at the finish: %s; memory not saved", why);
        l->state = BOT_LINK_FINISHED;
        l->finish_queued = false;
        return;
    }
    if (l->state == BOT_LINK_DISABLED) return;
    /* A zygote closes its socket before its workers get their death signal,
     * so reading the socket now (replies queued ahead of the EOF included)
     * tells whether this worker died with its zygote. */
    if (h && l->gen == h->gen && h->ctrl >= 0) host_read(h);
    bool zygote_fault = (h && (l->gen != h->gen || h->ctrl < 0)) || unsent;
    if (l->start_rc == 1 && !zygote_fault) {
        char msg[BOT_MESSAGE_MAX + 64];
        int k = snprintf(msg, sizeof msg, "1: the bot's worker failed while loading it: %s", why);
        set_problems(l, msg, k > 0 ? (size_t)k : 0);
        l->start_rc = CR_ESCRIPT;
        l->state = l->spec.check_only ? BOT_LINK_FINISHED : BOT_LINK_DISABLED;
        bot_link_note(l, "%s", msg + 3);
        return;
    }
    if (l->start_rc != 1 && !zygote_fault) {
        l->stats.restarts++;
        l->blamed_gen = l->gen;
        l->blamed_ns = bot_now_ns();
        if (l->stats.restarts > BOT_MAX_RESTARTS) {
            l->stats.restarts = BOT_MAX_RESTARTS;
            l->state = BOT_LINK_DISABLED;
            bot_link_note(
                l, "worker lost: %s; bot disabled for the rest of the race after %d restarts", why,
                BOT_MAX_RESTARTS);
            return;
        }
    }
    if (l->start_rc != 1) {
        l->state = BOT_LINK_REVIVING;
        bot_link_note(l, "worker lost: %s; it is replaced, in-memory state lost", why);
    }
    l->phase = PH_WAIT;
    /* A zygote fault waits for the restart (or a moment, if the zygote only
     * failed to fork), so a failing zygote is not asked in a tight loop. */
    l->wake_ns = bot_now_ns() + ms_to_ns(zygote_fault ? 20 : revive_backoff_ms(l->stats.restarts));
    if (h && h->ctrl < 0 && h->restart_at > l->wake_ns) l->wake_ns = h->restart_at;
    link_sync(l);
}

/* Asks the zygote for a worker (sequence-numbered), or waits for the zygote
 * to be back. */
static void link_request_spawn(BotLink *l, int64_t now) {
    BotHost *h = l->host;
    if (!h) return;
    if (h->ctrl < 0) {
        l->wake_ns = h->restart_at > now ? h->restart_at : now + ms_to_ns(SEND_RETRY_MS);
        return;
    }
    uint32_t seq = h->seq + 1;
    BotBuf *b = &l->out;
    bot_buf_begin(b, ZY_SPAWN, 0, seq);
    bot_buf_u32(b, (uint32_t)l->spec.memory_limit_mb);
    bot_buf_u32(b, 600); /* RLIMIT_CPU seconds: a backstop over a worker's life */
    if (bot_buf_end(b) < 0) {
        link_lost(l, "cannot build a spawn request", -1);
        return;
    }
    ssize_t w = send(h->ctrl, b->data, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    b->len = 0;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        l->wake_ns = now + ms_to_ns(SEND_RETRY_MS);
        return;
    }
    if (w < 0) {
        host_zygote_lost(h, strerror(errno));
        l->wake_ns = h->restart_at;
        return;
    }
    h->seq = seq;
    h->stats.spawn_requests++;
    l->spawn_seq = seq;
    l->phase = PH_SPAWN;
    l->wake_ns = now + ms_to_ns(ZYGOTE_ANSWER_MS);
}

/* Sends BOT_INIT to the fresh worker; the reply is read by link_advance. */
static void link_send_init(BotLink *l, int64_t now) {
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_INIT, 0, ++l->seq);
    bot_buf_u32(b, (uint32_t)(l->spec.start_budget_ms * 1000));
    bot_buf_u32(b, (uint32_t)(l->spec.tick_budget_ms * 1000));
    bot_buf_u64(b, l->spec.seed);
    bot_buf_u32(b, (uint32_t)l->spec.log_cap);
    bot_buf_u32(b, BOT_MEMORY_MAX);
    bot_buf_u8(b, l->spec.check_only);
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
    const SurfaceTable *sf = &l->surfaces;
    bot_buf_u8(b, (uint8_t)sf->count);
    for (int i = 0; i < sf->count; i++) {
        bot_buf_str(b, sf->s[i].name, strlen(sf->s[i].name));
        bot_buf_f64(b, sf->s[i].grip);
        bot_buf_f64(b, sf->s[i].drag);
        bot_buf_f64(b, sf->s[i].top_speed);
    }
    bot_buf_u8(b, (uint8_t)sf->verge);
    const char *stage = l->stage_in ? l->stage_in : "";
    bot_buf_str(b, stage, strlen(stage));
    l->out_off = 0;
    l->phase = PH_LOAD;
    l->wake_ns = now + ms_to_ns(load_deadline_ms(&l->spec));
    if (bot_buf_end(b) < 0 || link_flush(l) < 0)
        link_lost(l, "cannot send the bot to its worker", -1);
}

/* BOT_INIT_REPLY: the bot is loaded (READY), refused, or a revive failed. */
static void link_take_init(BotLink *l, size_t n) {
    BotReader r;
    BotHeader h;
    int rc = bot_reader_open(&r, l->in, n, &h);
    BotStatus status = bot_read_u8(&r);
    size_t plen, llen;
    const char *prob = bot_read_str(&r, 1 << 16, &plen);
    const char *log = bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &llen);
    if (rc || h.type != BOT_INIT_REPLY || h.seq != l->seq || !bot_reader_done(&r)) {
        consume(l, n);
        link_lost(l, "bad reply from the worker while loading", -1);
        return;
    }
    log_append(l, log, llen);
    if (h.flags & BOT_FLAG_RESTART) status = BOT_STATUS_ERROR;
    if (l->spec.check_only) {
        set_problems(l, status == BOT_STATUS_OK ? "" : prob, status == BOT_STATUS_OK ? 0 : plen);
        consume(l, n);
        link_close(l);
        l->phase = PH_NONE;
        l->state = BOT_LINK_FINISHED;
        l->start_rc = CR_OK;
        return;
    }
    if (status != BOT_STATUS_OK) {
        char msg[BOT_MESSAGE_MAX + 1];
        snprintf(msg, sizeof msg, "%.*s", (int)plen, prob);
        if (msg[0] && msg[strlen(msg) - 1] == '\n') msg[strlen(msg) - 1] = 0;
        consume(l, n);
        if (l->start_rc == 1) {
            set_problems(l, msg, strlen(msg));
            link_close(l);
            l->phase = PH_NONE;
            l->start_rc = CR_ESCRIPT;
            l->state = BOT_LINK_DISABLED;
            bot_link_note(l, "the bot did not load: %s", msg);
            return;
        }
        char why[BOT_MESSAGE_MAX + 32];
        snprintf(why, sizeof why, "restart failed: %s", msg);
        link_lost(l, why, -1);
        return;
    }
    consume(l, n);
    l->phase = PH_NONE;
    if (l->start_rc != 1) bot_link_note(l, "worker restarted");
    l->start_rc = CR_OK;
    l->state = BOT_LINK_READY;
}

/* Sends BOT_FINISH; the link is FINISHING until the reply or the deadline. */
static void link_send_finish(BotLink *l, const BotWireEvent *events, size_t n_events) {
    if (n_events > BOT_MAX_EVENTS) n_events = BOT_MAX_EVENTS;
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_FINISH, 0, ++l->seq);
    bot_buf_u16(b, (uint16_t)n_events);
    for (size_t i = 0; i < n_events; i++) bot_buf_event(b, &events[i]);
    l->out_off = 0;
    l->state = BOT_LINK_FINISHING;
    l->phase = PH_FINISH;
    l->finish_queued = false;
    l->wake_ns = bot_now_ns() + ms_to_ns(load_deadline_ms(&l->spec));
    if (bot_buf_end(b) < 0 || link_flush(l) < 0) link_lost(l, "cannot send to the worker", -1);
}

static void link_take_finish(BotLink *l, size_t n) {
    BotReader r;
    BotHeader h;
    int rc = bot_reader_open(&r, l->in, n, &h);
    uint8_t status = bot_read_u8(&r);
    size_t jl, ml, ll;
    const char *json = bot_read_str(&r, BOT_MEMORY_MAX, &jl);
    const char *msg = bot_read_str(&r, BOT_MESSAGE_MAX, &ml);
    const char *log = bot_read_str(&r, BOT_LOG_CHUNK_MAX + 64, &ll);
    if (rc || h.type != BOT_FINISH_REPLY || h.seq != l->seq || !bot_reader_done(&r)) {
        consume(l, n);
        link_lost(l, "malformed finish reply", -1);
        return;
    }
    log_append(l, log, ll);
    free(l->memory_out);
    l->memory_out = NULL;
    if (status == BOT_STATUS_OK) {
        l->memory_out = dup_n(json, jl);
    } else {
        bot_link_note(l, "self.memory not saved: %.*s", (int)ml, msg);
    }
    consume(l, n);
    link_close(l); /* the race is over for this worker */
    l->phase = PH_NONE;
    l->state = BOT_LINK_FINISHED;
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
        link_lost(l, buf, BOT_STATUS_TIMEOUT);
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
        link_lost(l, "malformed reply", BOT_STATUS_CRASH);
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
    snprintf(l->reply_msg, sizeof l->reply_msg, "%.*s", rep.status == BOT_STATUS_OK ? 0 : (int)mlen,
             msg ? msg : "");
    l->stats.total_us += wall;
    if (wall > l->stats.worst_us) l->stats.worst_us = wall;
    if (l->host) {
        long b = (long)(wall / BOT_RTT_BUCKET_US);
        l->host->stats.rtt_hist[b < BOT_RTT_BUCKETS ? b : BOT_RTT_BUCKETS - 1]++;
        l->host->stats.tick_replies++;
    }
    l->stats.cpu_us += rep.cpu_us;
    l->reply = rep;
    consume(l, n);
    l->phase = PH_NONE;
    if (l->state == BOT_LINK_BUSY) l->state = BOT_LINK_READY;
    if (h.flags & BOT_FLAG_RESTART) {
        link_lost(l, "the worker's state is unusable (e.g. out of memory)", -1);
        return;
    }
    if (l->finish_queued) link_send_finish(l, l->fin_ev, l->n_fin_ev);
}

/* Reads and acts on what the worker sent, without waiting. */
static void link_service_fd(BotLink *l) {
    if (l->fd < 0 || (l->phase != PH_LOAD && l->phase != PH_TICK && l->phase != PH_FINISH)) return;
    if (link_flush(l) < 0) {
        link_lost(l, "worker died (crash, memory limit or forbidden system call)",
                  BOT_STATUS_CRASH);
        return;
    }
    ssize_t n = link_read(l);
    if (n == 0) return;
    if (n < 0) {
        link_lost(l, "worker died (crash, memory limit or forbidden system call)",
                  BOT_STATUS_CRASH);
        return;
    }
    switch (l->phase) {
        case PH_LOAD:
            link_take_init(l, (size_t)n);
            break;
        case PH_TICK:
            link_take_reply(l, (size_t)n);
            break;
        case PH_FINISH:
            link_take_finish(l, (size_t)n);
            break;
        default:
            break;
    }
}

void bot_link_expire(BotLink *l, int64_t now) {
    if (now < l->wake_ns) return;
    char why[128];
    switch (l->phase) {
        case PH_TICK:
            snprintf(why, sizeof why, "no answer within the hard deadline of %.0f ms (killed)",
                     hard_deadline_ms(&l->spec));
            link_lost(l, why, BOT_STATUS_TIMEOUT);
            break;
        case PH_LOAD:
            snprintf(why, sizeof why, "not loaded within %.0f ms (killed)",
                     load_deadline_ms(&l->spec));
            link_lost(l, why, -1);
            break;
        case PH_FINISH:
            link_lost(l, "no answer at the finish (killed)", -1);
            break;
        case PH_SPAWN:
            if (l->host) host_zygote_lost(l->host, "it did not answer a spawn request");
            break;
        default:
            break;
    }
}

/* Everything one link has due: its socket, its deadline, its back-off. */
static void link_advance(BotLink *l, int64_t now, bool io) {
    if (io) link_service_fd(l);
    bot_link_expire(l, now);
    bool broken = l->host && l->host->ctrl < 0 && l->host->dead_unserved >= ZYGOTE_BROKEN_AFTER;
    if (l->start_rc == 1 && (now >= l->first_deadline_ns || broken) &&
        (l->phase == PH_WAIT || l->phase == PH_SPAWN)) {
        /* Not the bot's fault, but a first load has to end somewhere. */
        static const char why_broken[] =
            "1: the bot sandbox does not start (coderally-botd exited before serving; see its "
            "stderr)";
        static const char why_slow[] = "1: the bot sandbox could not provide a worker in time";
        const char *why = broken ? why_broken : why_slow;
        link_close(l);
        l->phase = PH_NONE;
        set_problems(l, why, strlen(why));
        l->start_rc = CR_ESCRIPT;
        l->state = l->spec.check_only ? BOT_LINK_FINISHED : BOT_LINK_DISABLED;
        bot_link_note(l, "%s", why + 3);
        return;
    }
    if (l->phase == PH_WAIT && now >= l->wake_ns) link_request_spawn(l, now);
    link_sync(l);
}

/* Whether poll reported anything for fd. An fd missing from the set (its
 * link started waiting after the caller polled) counts as ready: a read
 * that finds nothing costs one syscall, a missed reply would cost a tick. */
static bool polled(const struct pollfd *fds, size_t n, size_t *cursor, int fd) {
    if (!fds) return true;
    for (size_t i = 0; i < n; i++) {
        size_t j = (*cursor + i) % n;
        if (fds[j].fd == fd) {
            *cursor = j + 1;
            return fds[j].revents != 0;
        }
    }
    return true;
}

/* Reaps buried zygotes and starts a new one once the back-off is over. */
static void host_restart_due(BotHost *h, int64_t now) {
    host_reap(h);
    if (h->ctrl < 0 && now >= h->restart_at) {
        int rc = host_spawn_zygote(h);
        if (rc) {
            fprintf(stderr, "coderally: cannot restart the bot sandbox zygote: %s\n", strerror(rc));
            h->restart_at = now + ms_to_ns(h->backoff_ms);
            h->backoff_ms = h->backoff_ms * 2 > ZYGOTE_BACKOFF_MAX_MS ? ZYGOTE_BACKOFF_MAX_MS
                                                                      : h->backoff_ms * 2;
        }
    }
}

void bot_host_pump_polled(BotHost *h, const struct pollfd *fds, size_t n) {
    int64_t now = bot_now_ns();
    size_t cursor = 0;
    host_restart_due(h, now);
    bool spawning = false;
    for (BotLink *l = h->links; l && !spawning; l = l->next) spawning = l->phase == PH_SPAWN;
    if ((spawning && (h->ctrl < 0 || polled(fds, n, &cursor, h->ctrl))) || now >= h->next_check) {
        host_read(h);
        h->next_check = now + ms_to_ns(ZYGOTE_CHECK_MS);
    }
    for (BotLink *l = h->links; l; l = l->next) {
        bool io = l->fd >= 0 && polled(fds, n, &cursor, l->fd);
        link_advance(l, now, io);
    }
}

void bot_host_pump(BotHost *h) {
    bot_host_pump_polled(h, NULL, 0);
}

/* Watch mode's timer: every link's deadlines and back-offs, the zygote's
 * restart, and reads of any socket the epoll set could not take; then the
 * next time exactly (host_want only ever lowers it, so it drifts early). */
static void host_pump_due(BotHost *h, int64_t now) {
    h->soonest = INT64_MIN; /* host_want is a no-op while this recomputes */
    host_restart_due(h, now);
    if (h->ctrl >= 0 && !h->ctrl_watched) host_watch_ctrl(h);
    if (h->ctrl >= 0 && !h->ctrl_watched) host_read(h);
    for (BotLink *l = h->links; l; l = l->next) link_advance(l, now, l->fd != l->watch_fd);
    int64_t t = INT64_MAX;
    if (h->ctrl < 0) t = h->restart_at;
    if (h->ctrl >= 0 && !h->ctrl_watched) t = now + ms_to_ns(ZYGOTE_CHECK_MS);
    if (h->n_graves > 0 && now + ms_to_ns(50) < t) t = now + ms_to_ns(50);
    for (BotLink *l = h->links; l; l = l->next) {
        int64_t w = link_wake(l);
        bool unwatched = l->fd >= 0 && l->fd != l->watch_fd &&
                         (l->phase == PH_LOAD || l->phase == PH_TICK || l->phase == PH_FINISH);
        if (unwatched && now + ms_to_ns(SEND_RETRY_MS) < w) w = now + ms_to_ns(SEND_RETRY_MS);
        if (w < t) t = w;
    }
    h->soonest = t;
}

int bot_host_watch(BotHost *h, BotWakeFn on_wake, void *ud, int *fd, CrError *err) {
    if (h->ep < 0) {
        h->ep = epoll_create1(EPOLL_CLOEXEC);
        if (h->ep < 0) return cr_fail(err, CR_EIO, "epoll_create1: %s", strerror(errno));
    }
    h->on_wake = on_wake;
    h->wake_ud = ud;
    h->asked = INT64_MAX;
    h->soonest = INT64_MIN; /* a full round now: registers what is open already */
    bot_host_service(h);
    *fd = h->ep;
    return CR_OK;
}

void bot_host_service(BotHost *h) {
    if (h->ep < 0) {
        bot_host_pump(h);
        return;
    }
    int64_t now = bot_now_ns();
    /* Bounded: a flood of readiness cannot keep the loop here; what is left
     * keeps the epoll fd readable and comes back on the next turn. */
    for (int round = 0; round < 4; round++) {
        struct epoll_event ev[64];
        int n = epoll_wait(h->ep, ev, 64, 0);
        for (int i = 0; i < n; i++) {
            /* A link taken out of the set while this batch was handled (its
             * worker lost with the zygote) finds its fd gone and does
             * nothing; links are freed only by bot_link_destroy. */
            if (ev[i].data.ptr == h) {
                host_read(h);
            } else {
                link_advance(ev[i].data.ptr, now, true);
            }
        }
        if (n < 64) break;
    }
    if (now >= h->soonest) host_pump_due(h, now);
    if (h->on_wake && h->soonest != h->asked) {
        h->asked = h->soonest;
        h->on_wake(h->wake_ud, h->soonest);
    }
}

int bot_host_watched(const BotHost *h) {
    return h->ep < 0 ? -1 : h->n_watched;
}

double bot_host_rtt_quantile(const BotHostStats *s, double q) {
    if (s->tick_replies <= 0) return 0;
    long want = (long)ceil(q * (double)s->tick_replies), seen = 0;
    if (want < 1) want = 1;
    for (int b = 0; b < BOT_RTT_BUCKETS; b++) {
        seen += s->rtt_hist[b];
        if (seen >= want) return (double)(b + 1) * BOT_RTT_BUCKET_US;
    }
    return (double)BOT_RTT_BUCKETS * BOT_RTT_BUCKET_US;
}

size_t bot_host_pollfds(BotHost *h, struct pollfd *fds, size_t cap, int64_t *wake_ns) {
    size_t k = 0;
    int64_t wake = INT64_MAX;
    bool spawning = false;
    for (BotLink *l = h->links; l && !spawning; l = l->next) spawning = l->phase == PH_SPAWN;
    if (h->ctrl < 0) {
        wake = h->restart_at;
    } else if (spawning && k < cap) {
        fds[k++] = (struct pollfd){h->ctrl, POLLIN, 0};
    }
    if (h->n_graves > 0) {
        int64_t soon = bot_now_ns() + ms_to_ns(50);
        if (soon < wake) wake = soon;
    }
    for (BotLink *l = h->links; l; l = l->next) {
        if (l->phase == PH_NONE) continue;
        if (l->wake_ns < wake) wake = l->wake_ns;
        if (l->start_rc == 1 && l->first_deadline_ns < wake) wake = l->first_deadline_ns;
        if (l->fd >= 0 && l->phase != PH_WAIT && l->phase != PH_SPAWN && k < cap) {
            short ev = POLLIN;
            if (l->out_off < l->out.len) ev |= POLLOUT;
            fds[k++] = (struct pollfd){l->fd, ev, 0};
        }
    }
    *wake_ns = wake;
    return k;
}

/* ---- links -------------------------------------------------------------- */

int bot_link_create(BotHost *host, const BotSpec *spec, BotLink **out, CrError *err) {
    *out = NULL;
    if (!host) return cr_fail(err, CR_EINVAL, "no bot sandbox");
    if (spec->source_len > BOT_SOURCE_MAX)
        return cr_fail(err, CR_ESCRIPT, "1: the source is %zu bytes; bots may have at most %u",
                       spec->source_len, BOT_SOURCE_MAX);
    if (spec->memory_json && strlen(spec->memory_json) > BOT_MEMORY_MAX)
        return cr_fail(err, CR_EINVAL, "bot memory over %u bytes", BOT_MEMORY_MAX);
    if (spec->stage_json && strlen(spec->stage_json) > BOT_STAGE_MAX)
        return cr_fail(err, CR_EINVAL, "stage identity over %u bytes", BOT_STAGE_MAX);
    BotLink *l = calloc(1, sizeof *l);
    if (!l) return cr_fail(err, CR_ENOMEM, "out of memory");
    l->fd = l->pidfd = l->watch_fd = -1;
    l->spec = *spec;
    /* Own copy: a revive re-sends it, whoever owned the caller's. */
    l->surfaces = spec->surfaces ? *spec->surfaces : *surface_table_default();
    l->spec.surfaces = &l->surfaces;
    if (l->spec.tick_budget_ms <= 0) l->spec.tick_budget_ms = 10;
    if (l->spec.start_budget_ms <= 0) l->spec.start_budget_ms = 1000;
    if (l->spec.memory_limit_mb <= 0) l->spec.memory_limit_mb = 50;
    if (l->spec.log_cap < 1024) l->spec.log_cap = DEFAULT_LOG_CAP;
    const char *name = spec->name ? spec->name : "bot";
    l->name = dup_n(name, strlen(name));
    l->source = dup_n(spec->source ? spec->source : "", spec->source ? spec->source_len : 0);
    l->source_len = spec->source ? spec->source_len : 0;
    l->memory_in = spec->memory_json ? dup_n(spec->memory_json, strlen(spec->memory_json)) : NULL;
    l->stage_in = spec->stage_json ? dup_n(spec->stage_json, strlen(spec->stage_json)) : NULL;
    l->log = malloc(l->spec.log_cap);
    bot_buf_init(&l->out);
    l->spec.name = l->spec.source = l->spec.memory_json = l->spec.stage_json = NULL;
    if (!l->name || !l->source || !l->log || (spec->memory_json && !l->memory_in) ||
        (spec->stage_json && !l->stage_in)) {
        bot_link_destroy(l);
        return cr_fail(err, CR_ENOMEM, "out of memory");
    }
    int64_t now = bot_now_ns();
    l->state = BOT_LINK_STARTING;
    l->start_rc = 1;
    l->first_deadline_ns = now + ms_to_ns(FIRST_START_MS + load_deadline_ms(&l->spec));
    l->host = host;
    l->next = host->links;
    if (host->links) host->links->prev = l;
    host->links = l;
    l->phase = PH_WAIT;
    l->wake_ns = now;
    link_request_spawn(l, now);
    link_sync(l);
    *out = l;
    return CR_OK;
}

void bot_link_destroy(BotLink *l) {
    if (!l) return;
    link_close(l);
    if (l->host) {
        if (l->prev) {
            l->prev->next = l->next;
        } else {
            l->host->links = l->next;
        }
        if (l->next) l->next->prev = l->prev;
    }
    bot_buf_fini(&l->out);
    free(l->in);
    free(l->name);
    free(l->source);
    free(l->memory_in);
    free(l->stage_in);
    free(l->memory_out);
    free(l->problems);
    free(l->log);
    free(l);
}

BotLinkState bot_link_state(const BotLink *l) {
    return l->state;
}

const char *bot_link_state_name(BotLinkState s) {
    static const char *const names[] = {"starting", "ready",     "busy",    "reviving",
                                        "disabled", "finishing", "finished"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int bot_link_start_result(const BotLink *l, CrError *err) {
    if (l->start_rc == CR_ESCRIPT)
        return cr_fail(err, CR_ESCRIPT, "%s",
                       l->problems ? l->problems : "1: the bot did not load");
    return l->start_rc;
}

const char *bot_link_problems(const BotLink *l) {
    return l->problems;
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
    BotSpec spec = {.name = "check", .source = source, .source_len = len, .check_only = true};
    BotLink *l;
    int rc = bot_link_create(host, &spec, &l, err);
    if (rc) return rc;
    rc = bot_links_collect(&l, 1);
    if (rc == CR_OK) {
        const char *p = l->problems ? l->problems : "1: the check did not finish\n";
        *problems = dup_n(p, strlen(p));
        if (!*problems) rc = cr_fail(err, CR_ENOMEM, "out of memory");
    } else {
        cr_fail(err, rc, "waiting for the sandbox failed");
    }
    bot_link_destroy(l);
    return rc;
}

int bot_link_send_tick(BotLink *l, const SensorRecord *s, const BotWireEvent *events,
                       size_t n_events) {
    l->tick = s->tick;
    l->n_draw = 0;
    l->stats.calls++;
    if (l->phase == PH_TICK && l->state == BOT_LINK_BUSY) {
        /* The caller did not collect the last reply: that worker is hung. */
        link_lost(l, "previous request never collected", BOT_STATUS_CRASH);
    }
    l->reply = (BotReply){.status = BOT_STATUS_UNAVAILABLE};
    if (l->state != BOT_LINK_READY) {
        l->stats.unavailable++;
        return CR_OK; /* neutral input this tick */
    }
    if (n_events > BOT_MAX_EVENTS) n_events = BOT_MAX_EVENTS;
    BotBuf *b = &l->out;
    bot_buf_begin(b, BOT_TICK, 0, ++l->seq);
    bot_buf_u32(b, s->tick);
    bot_buf_u16(b, (uint16_t)n_events);
    for (size_t i = 0; i < n_events; i++) bot_buf_event(b, &events[i]);
    bot_buf_u32(b, (uint32_t)sizeof *s);
    bot_buf_bytes(b, s, sizeof *s);
    l->out_off = 0;
    l->sent_ns = bot_now_ns();
    l->wake_ns = l->sent_ns + ms_to_ns(hard_deadline_ms(&l->spec));
    l->phase = PH_TICK;
    l->state = BOT_LINK_BUSY;
    l->reply.status = BOT_STATUS_CRASH;
    if (bot_buf_end(b) < 0 || link_flush(l) < 0)
        link_lost(l, "cannot send to the worker", BOT_STATUS_CRASH);
    link_sync(l);
    return CR_OK;
}

int bot_link_fd(const BotLink *l) {
    return l->phase == PH_LOAD || l->phase == PH_TICK || l->phase == PH_FINISH ? l->fd : -1;
}

bool bot_link_pending(const BotLink *l) {
    return l->phase == PH_TICK;
}

int64_t bot_link_deadline(const BotLink *l) {
    return l->phase == PH_NONE ? INT64_MAX : l->wake_ns;
}

int bot_link_pump(BotLink *l) {
    link_advance(l, bot_now_ns(), true);
    return l->phase != PH_TICK;
}

/* What collect waits for: a tick or finish in flight, or a first load. */
static bool link_outstanding(const BotLink *l) {
    return l->phase == PH_TICK || l->phase == PH_FINISH ||
           (l->start_rc == 1 && l->phase != PH_NONE);
}

int bot_links_collect(BotLink *const *links, size_t n) {
    struct pollfd fds[COLLECT_FDS];
    size_t k = 0;
    bool polled_once = false;
    BotHost *h = NULL;
    for (size_t i = 0; i < n && !h; i++) h = links[i]->host;
    for (;;) {
        if (h && polled_once) {
            bot_host_pump_polled(h, fds, k);
        } else if (h) {
            bot_host_pump(h);
        } else {
            for (size_t i = 0; i < n; i++) bot_link_pump(links[i]);
        }
        bool more = false;
        for (size_t i = 0; i < n && !more; i++) more = link_outstanding(links[i]);
        if (!more || !h) return CR_OK;
        int64_t wake;
        k = bot_host_pollfds(h, fds, COLLECT_FDS, &wake);
        int64_t now = bot_now_ns();
        int64_t left = wake == INT64_MAX ? 1000000000 : wake - now;
        if (k == COLLECT_FDS && left > 1000000) left = 1000000; /* some fds left out */
        if (left < 0) left = 0;
        struct timespec ts = {left / 1000000000, left % 1000000000};
        int rc = ppoll(fds, k, &ts, NULL);
        if (rc < 0 && errno != EINTR) return CR_EIO;
        polled_once = rc >= 0; /* after EINTR revents mean nothing: pump everything */
    }
}

const BotReply *bot_link_reply(const BotLink *l) {
    return &l->reply;
}

const char *bot_link_reply_message(const BotLink *l) {
    return l->reply.status == BOT_STATUS_OK ? "" : l->reply_msg;
}

const BotDrawing *bot_link_drawings(const BotLink *l, int *n) {
    *n = l->n_draw;
    return l->draw;
}

int bot_link_finish(BotLink *l, const BotWireEvent *events, size_t n_events) {
    if (n_events > BOT_MAX_EVENTS) n_events = BOT_MAX_EVENTS;
    switch (l->state) {
        case BOT_LINK_READY:
            link_send_finish(l, events, n_events);
            link_sync(l);
            return CR_OK;
        case BOT_LINK_BUSY:
            if (n_events) memcpy(l->fin_ev, events, n_events * sizeof *events);
            l->n_fin_ev = n_events;
            l->finish_queued = true;
            l->state = BOT_LINK_FINISHING;
            return CR_OK;
        case BOT_LINK_FINISHING:
        case BOT_LINK_FINISHED:
            return CR_OK;
        default:
            /* A replaced or never-loaded worker has no memory worth keeping;
             * the old memory stays. */
            bot_link_note(l, "the bot's worker is gone (%s); memory not saved",
                          bot_link_state_name(l->state));
            link_close(l);
            l->phase = PH_NONE;
            if (l->start_rc == 1) l->start_rc = CR_ESCRIPT;
            l->state = BOT_LINK_FINISHED;
            return CR_OK;
    }
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
    return l->state == BOT_LINK_DISABLED;
}
