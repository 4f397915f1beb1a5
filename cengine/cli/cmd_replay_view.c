/* cmd_replay_view.c - `coderally replay view FILE`: opens a local replay in
 * the browser's replay viewer. Runs `coderally serve` on a free local port
 * with a throw-away database that serves this one file, and prints the URL
 * to open; it opens nothing itself. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "server/server.h"
#include "sim/replay.h"

#ifndef CR_DEFAULT_SQL
#define CR_DEFAULT_SQL "sql"
#endif
#ifndef CR_DEFAULT_WEB
#define CR_DEFAULT_WEB "web/dist"
#endif

static const char *const CMD = "replay view";

static void usage(FILE *f) {
    fputs(
        "usage: coderally replay view FILE [--port N] [--host ADDR] [--web DIR] [--scripts DIR]\n"
        "\n"
        "  Serves FILE to the browser's replay viewer from a local server with a\n"
        "  temporary database and prints the URL to open. Ctrl-C stops it.\n"
        "  --port N     listen here (default 0: any free port, printed)\n"
        "  --host ADDR  interface (default 127.0.0.1: this machine only)\n"
        "  --web DIR    the built browser client (default: the repository's web/dist)\n",
        f);
}

/* Removes the temporary database (and SQLite's journal files) and its folder. */
static void remove_db(const char *dir) {
    static const char *const FILES[] = {"view.db", "view.db-wal", "view.db-shm", "view.db-journal"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, FILES[i]);
        unlink(p);
    }
    rmdir(dir);
}

int cmd_replay_view(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    const char *file = NULL, *web = CR_DEFAULT_WEB, *host = "127.0.0.1";
    long long port = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--port") || !strcmp(a, "--host") || !strcmp(a, "--web")) {
            const char *v = cli_value(CMD, argc, argv, &i);
            if (!v) return 2;
            if (!strcmp(a, "--port")) {
                if (cli_parse_int(CMD, a, v, 0, 65535, &port)) return 2;
            } else if (!strcmp(a, "--host")) {
                host = v;
            } else {
                web = v;
            }
        } else if (a[0] == '-' || file) {
            cli_error(CMD, "unexpected argument '%s' (see --help)", a);
            return 2;
        } else {
            file = a;
        }
    }
    if (!file) {
        cli_error(CMD, "needs a replay FILE");
        return 2;
    }
    /* Check it is a replay before starting anything, so a wrong file is a
     * clear error here and not a broken page. */
    CrError err = {{0}};
    Replay *r;
    if (replay_read(file, &r, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    replay_free(r);
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        cli_error(CMD, "%s: cannot resolve the path", file);
        return 1;
    }
    char dir[] = "/tmp/coderally-view-XXXXXX";
    if (!mkdtemp(dir)) {
        cli_error(CMD, "cannot make a temporary folder for the database");
        return 1;
    }
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/view.db", dir);
    ServerConfig cfg = {
        .host = host,
        .port = (int)port,
        .db_path = db,
        .migrations_dir = CR_DEFAULT_SQL,
        .web_dir = web,
        .scripts_dir = common.scripts,
        .sets = common.sets,
        .n_sets = common.n_sets,
        .workers = 1,
        .register_limit = 10,
        .replay_file = abs,
        .open_path = "#/replays?src=local",
    };
    int rc = server_run(&cfg, &err);
    remove_db(dir);
    if (rc) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    return 0;
}
