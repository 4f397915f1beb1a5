/*
 * botd.c - coderally-botd: the zygote of the bot sandbox. It starts CPython
 * once (isolated, fixed hash seed, RestrictedPython and the policy imported,
 * lazy imports warmed), then forks one worker per ZY_SPAWN request from the
 * host and hands the worker's socket back over SCM_RIGHTS.
 *
 *   coderally-botd --zygote FD        serve spawn requests on FD (the host's use)
 *   coderally-botd --bench-ratio FILE N   time FILE's on_tick restricted vs plain
 *   coderally-botd --fence-test FILE CANARY  run FILE *unrestricted* inside a
 *                                     locked-down worker (tests of the OS fence)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "botd.h"

#ifndef CR_BOTD_PYDIR
#define CR_BOTD_PYDIR "botsandbox/python"
#endif
#ifndef CR_BOTD_DEPSDIR
#define CR_BOTD_DEPSDIR ".deps/python"
#endif

static void die_py(const char *what) {
    fprintf(stderr, "coderally-botd: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    exit(1);
}

/* Starts the interpreter and imports crsandbox. Returns the module. */
static PyObject *python_start(const char *argv0) {
    if (PyImport_AppendInittab("_crguard", PyInit__crguard) < 0) die_py("inittab");
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    /* A fixed hash seed: set and dict-of-str iteration order must not vary
     * between runs, or deterministic bots would not replay. */
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, argv0);
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "coderally-botd: cannot start Python: %s\n", st.err_msg ? st.err_msg : "?");
        exit(1);
    }
    PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
    const char *dirs[] = {CR_BOTD_DEPSDIR, CR_BOTD_PYDIR};
    for (int i = 0; i < 2; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(dirs[i]);
        if (!s || !sys_path || PyList_Insert(sys_path, 0, s) < 0) die_py("sys.path");
        Py_DECREF(s);
    }
    PyObject *mod = PyImport_ImportModule("crsandbox");
    if (!mod) die_py("cannot import crsandbox (is RestrictedPython in .deps/python?)");
    PyObject *timeout = PyObject_GetAttrString(mod, "BotTimeout");
    if (!timeout || guard_bind_timeout(timeout) < 0) die_py("BotTimeout");
    Py_DECREF(timeout);
    PyObject *r = PyObject_CallMethod(mod, "prepare", NULL);
    if (!r) die_py("crsandbox.prepare failed");
    Py_DECREF(r);
    return mod;
}

/* Bytes of address space in use now: the baseline RLIMIT_AS adds to. */
static size_t address_space_now(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- zygote ------------------------------------------------------------- */

static int send_frame_fds(int ctrl, BotBuf *b, const int *fds, int n_fds) {
    if (bot_buf_end(b) < 0) return -1;
    struct iovec iov = {b->data, b->len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(2 * sizeof(int))];
    } cm;
    memset(&cm, 0, sizeof cm);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n_fds > 0) {
        msg.msg_control = cm.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)n_fds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)n_fds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)n_fds * sizeof(int));
    }
    ssize_t w;
    do {
        w = sendmsg(ctrl, &msg, MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    return w == (ssize_t)b->len ? 0 : -1;
}

static void zygote_spawn(int ctrl, uint32_t seq, const WorkerLimits *lim, PyObject *sandbox,
                         BotBuf *out) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) goto fail;
    pid_t zygote = getpid();
    PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid == 0) {
        /* A worker dies with its zygote. Armed first thing, then checked: a
         * zygote killed between fork and prctl would leave an orphan. */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != zygote) _exit(0);
        PyOS_AfterFork_Child();
        close(ctrl);
        close(sv[0]);
        worker_main(sv[1], lim, sandbox);
    }
    PyOS_AfterFork_Parent();
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        goto fail;
    }
    int fds[2] = {sv[0], (int)syscall(SYS_pidfd_open, pid, 0)};
    bot_buf_begin(out, ZY_SPAWNED, 0, seq);
    bot_buf_u32(out, (uint32_t)pid);
    (void)send_frame_fds(ctrl, out, fds, fds[1] >= 0 ? 2 : 1);
    close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
    return;
fail:;
    char msg[128];
    snprintf(msg, sizeof msg, "cannot start a worker: %s", strerror(errno));
    bot_buf_begin(out, ZY_FAILED, 0, seq);
    bot_buf_str(out, msg, strlen(msg));
    (void)send_frame_fds(ctrl, out, NULL, 0);
}

static int zygote_run(int ctrl, PyObject *sandbox) {
    /* The host's death ends the zygote; the zygote's ends each worker. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    signal(SIGCHLD, SIG_IGN); /* workers are reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    WorkerLimits lim = {.baseline_as = address_space_now()};
    BotBuf out;
    bot_buf_init(&out);
    uint8_t buf[256];
    for (;;) {
        ssize_t n = recv(ctrl, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* host gone */
        BotReader r;
        BotHeader h;
        if (bot_reader_open(&r, buf, (size_t)n, &h) < 0 || h.type != ZY_SPAWN) break;
        lim.memory_limit_mb = bot_read_u32(&r);
        lim.cpu_limit_s = bot_read_u32(&r);
        if (!bot_reader_done(&r) || lim.memory_limit_mb < 1 || lim.memory_limit_mb > 4096 ||
            lim.cpu_limit_s < 1)
            break;
        zygote_spawn(ctrl, h.seq, &lim, sandbox, &out);
    }
    bot_buf_fini(&out);
    return 0;
}

/* ---- --bench-ratio ------------------------------------------------------ */

static void fake_sensors(SensorRecord *s, int i) {
    memset(s, 0, sizeof *s);
    s->tick = (uint32_t)(i * 3);
    s->phase = PHASE_RUNNING;
    s->x = (float)i, s->y = 2, s->heading = 0.1f, s->speed = 30, s->v_forward = 30;
    s->top_speed = 60, s->checkpoints_total = 5, s->cars = 8, s->position = 3;
    s->on_road = true, s->edge_left = 4, s->edge_right = 4, s->stage_length = 3000;
    for (int k = 0; k < SENSOR_RAYS; k++) s->rays[k] = 20.0f + (float)k;
    s->n_opponents = 2;
    for (int k = 0; k < 2; k++) {
        s->opponents[k] = (SensorOpponent){10.0f + (float)k, 1, 10, 0.1f, 28, 0, -2, 0};
    }
    s->n_checkpoints = SENSOR_CHECKPOINTS;
    for (int k = 0; k < SENSOR_CHECKPOINTS; k++) {
        s->checkpoints[k] = (SensorCheckpoint){40.0f * (float)(k + 1), 3, 40, 0.05f, 12, k};
    }
    for (int k = 0; k < SENSOR_PACE_NOTES; k++) {
        s->pace[k] = (SensorPaceNote){(float)(10 + 20 * k),
                                      (float)(10 + 20 * k),
                                      0.5f * (float)k,
                                      0.02f * (float)k,
                                      12,
                                      0.004f * (float)k,
                                      0};
    }
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Times n on_tick calls of a trusted bot file compiled both ways, in this
 * process (no sandbox: only the template files are ever benchmarked). */
static int bench_ratio(PyObject *sandbox, const char *file, int n) {
    static const float rays[SENSOR_RAYS] = {-1.57f, -1.05f, -0.61f, -0.26f, 0,
                                            0.26f,  0.61f,  1.05f,  1.57f};
    if (marshal_init(rays, SENSOR_RAYS, NULL, 0) < 0) die_py("marshal_init");
    PyObject *r = PyObject_CallMethod(sandbox, "bench_pair", "s", file);
    if (!r) die_py("bench_pair");
    double best[2] = {1e300, 1e300};
    for (int round = 0; round < 5; round++) {
        for (int which = 0; which < 2; which++) {
            PyObject *bot = PyTuple_GET_ITEM(r, which);
            PyObject *fn = PyObject_GetAttrString(bot, "on_tick");
            if (!fn) die_py("on_tick");
            double t0 = now_ns();
            for (int i = 0; i < n; i++) {
                SensorRecord s;
                fake_sensors(&s, i);
                PyObject *st = marshal_state(&s);
                PyObject *a = st ? PyObject_CallOneArg(fn, st) : NULL;
                if (!a) die_py("on_tick failed");
                Py_DECREF(a);
                Py_DECREF(st);
            }
            double per = (now_ns() - t0) / n;
            if (per < best[which]) best[which] = per;
            Py_DECREF(fn);
        }
    }
    printf("restricted_ns %.0f\nplain_ns %.0f\nratio %.3f\n", best[0], best[1], best[0] / best[1]);
    Py_DECREF(r);
    return 0;
}

/* ---- --fence-test ------------------------------------------------------- */

/* Runs FILE with full builtins inside a locked-down worker. The code gets
 * report(str) to write to the parent; the parent prints what it got and
 * how the worker ended. Proves the OS fence holds on its own. */
static int fence_test(PyObject *sandbox, const char *file, const char *canary) {
    (void)sandbox;
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    static char code[65536];
    size_t n = fread(code, 1, sizeof code - 1, f);
    fclose(f);
    code[n] = 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 2;
    fflush(stdout);
    PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid == 0) {
        PyOS_AfterFork_Child();
        close(sv[0]);
        WorkerLimits lim = {
            .memory_limit_mb = 64, .cpu_limit_s = 5, .baseline_as = address_space_now()};
        PyObject *glb = PyDict_New();
        PyDict_SetItemString(glb, "__builtins__", PyEval_GetBuiltins());
        PyObject *cv = PyUnicode_FromString(canary);
        PyDict_SetItemString(glb, "CANARY", cv);
        Py_XDECREF(cv);
        /* report() writes to the socket through os.write on fd 3. */
        PyRun_String("import os\ndef report(s):\n    os.write(3, (str(s) + '\\n').encode())\n",
                     Py_file_input, glb, glb);
        if (PyErr_Occurred()) _exit(90);
        if (worker_lockdown(sv[1], &lim) < 0) _exit(91);
        PyObject *res = PyRun_String(code, Py_file_input, glb, glb);
        if (!res) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyObject *s = v ? PyObject_Repr(v) : NULL;
            const char *cs = s ? PyUnicode_AsUTF8(s) : "?";
            char line[512];
            int k = snprintf(line, sizeof line, "EXCEPTION %s\n", cs ? cs : "?");
            if (k > 0) (void)!write(3, line, (size_t)k < sizeof line ? (size_t)k : sizeof line);
            _exit(3);
        }
        _exit(0);
    }
    PyOS_AfterFork_Parent();
    close(sv[1]);
    char buf[4096];
    ssize_t r;
    while ((r = read(sv[0], buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)r, stdout);
    close(sv[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
        printf("END signal %d\n", WTERMSIG(status));
    } else {
        printf("END exit %d\n", WEXITSTATUS(status));
    }
    return 0;
}

/* The host spawns the zygote clean (bot_link.c); this holds even when
 * something else starts it: no fd but stdio and the control socket, no
 * blocked signal (a blocked SIGPROF would switch off the CPU budget of
 * every worker forked from here), default dispositions. */
static void zygote_hygiene(int ctrl) {
    if (ctrl == BOT_WORKER_FD) {
        if (syscall(SYS_close_range, BOT_WORKER_FD + 1, ~0u, 0) < 0) {
            for (int fd = BOT_WORKER_FD + 1; fd < 1024; fd++) close(fd);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        signal(sig, SIG_DFL);
    }
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "--zygote")) {
        int ctrl = atoi(argv[2]);
        zygote_hygiene(ctrl);
        PyObject *sandbox = python_start(argv[0]);
        int rc = zygote_run(ctrl, sandbox);
        Py_DECREF(sandbox);
        Py_FinalizeEx();
        return rc;
    }
    if (argc >= 4 && !strcmp(argv[1], "--bench-ratio")) {
        PyObject *sandbox = python_start(argv[0]);
        return bench_ratio(sandbox, argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 1000);
    }
    if (argc >= 4 && !strcmp(argv[1], "--fence-test")) {
        PyObject *sandbox = python_start(argv[0]);
        return fence_test(sandbox, argv[2], argv[3]);
    }
    fprintf(stderr,
            "usage: coderally-botd --zygote FD\n"
            "       coderally-botd --bench-ratio BOT.py N\n"
            "       coderally-botd --fence-test CODE.py CANARY\n"
            "coderally-botd is started by coderally; see docs/BOT_API.md\n");
    return 2;
}
