/* cmd_serve.c - `coderally serve`: parses the flags and runs the game server
 * (cengine/server/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__ /* defined by <features.h>, which stdio.h includes */
#include <malloc.h>
#endif

#include "cli.h"
#include "common.h"
#include "server/server.h"
#include "server/store.h"

#ifndef CR_DEFAULT_SQL
#define CR_DEFAULT_SQL "sql"
#endif
#ifndef CR_DEFAULT_WEB
#define CR_DEFAULT_WEB "web/dist"
#endif

static const char *const CMD = "serve";

static void usage(FILE *f) {
    fputs(
        "usage: coderally serve [--port N] [--host ADDR] [--db PATH|URL] [--web DIR]\n"
        "                       [--migrations DIR] [--workers N] [--botd PATH]\n"
        "                       [--scripts DIR] [--set KEY=VALUE ...]\n"
        "\n"
        "  --port N          listen here (default PORT from config.lua, 8000; 0 = any free\n"
        "                    port, printed at start)\n"
        "  --host ADDR       interface (default HOST from config.lua; 0.0.0.0 = all)\n"
        "  --db PATH|URL     SQLite file or sqlite:///PATH (default: $DATABASE_URL, else\n"
        "                    DATABASE_URL from config.lua: sqlite:///./coderally.db)\n"
        "  --web DIR         the built browser client (default: the repository's web/dist)\n"
        "  --migrations DIR  sql/NNN_name.sql files (default: the repository's sql/)\n"
        "  --workers N       threads per worker lane, 1..4 (default 2)\n"
        "  --botd PATH       the sandbox worker (default: coderally-botd next to coderally)\n"
        "  --register-limit N  registrations allowed per address per 10 minutes (default 10)\n"
        "  --rate-slots N    the rate-limit table's largest size, 16..4194304 slots of\n"
        "                    about 104 bytes (default 131072; see docs/API.md)\n"
        "\n"
        "SIGTERM or SIGINT stops it cleanly (exit 0).\n",
        f);
}

int cmd_serve(int argc, char **argv) {
    CommonOpts common;
    cli_common_init(&common);
    const char *db = NULL, *web = CR_DEFAULT_WEB, *sql = CR_DEFAULT_SQL, *botd = NULL, *host = NULL;
    long long port = -1, workers = 2, register_limit = 10, rate_slots = 131072;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = cli_common_opt(CMD, argc, argv, &i, &common);
        if (c < 0) return 2;
        if (c > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--port") && strcmp(a, "--db") && strcmp(a, "--web") &&
            strcmp(a, "--migrations") && strcmp(a, "--workers") && strcmp(a, "--botd") &&
            strcmp(a, "--host") && strcmp(a, "--register-limit") && strcmp(a, "--rate-slots")) {
            cli_error(CMD, "unknown option '%s' (see --help)", a);
            return 2;
        }
        const char *v = cli_value(CMD, argc, argv, &i);
        if (!v) return 2;
        if (!strcmp(a, "--port")) {
            if (cli_parse_int(CMD, a, v, 0, 65535, &port)) return 2;
        } else if (!strcmp(a, "--workers")) {
            if (cli_parse_int(CMD, a, v, 1, 4, &workers)) return 2;
        } else if (!strcmp(a, "--register-limit")) {
            if (cli_parse_int(CMD, a, v, 1, 1000000, &register_limit)) return 2;
        } else if (!strcmp(a, "--rate-slots")) {
            if (cli_parse_int(CMD, a, v, 16, 4194304, &rate_slots)) return 2;
        } else if (!strcmp(a, "--db")) {
            db = v;
        } else if (!strcmp(a, "--web")) {
            web = v;
        } else if (!strcmp(a, "--migrations")) {
            sql = v;
        } else if (!strcmp(a, "--host")) {
            host = v;
        } else {
            botd = v;
        }
    }
    Scripts *sc;
    if (cli_open_scripts(CMD, &common, &sc)) return 1;
    double cfg_port = 8000;
    const char *cfg_db = "sqlite:///./coderally.db", *cfg_host = "0.0.0.0";
    scripts_config_number(sc, "PORT", &cfg_port);
    scripts_config_string(sc, "DATABASE_URL", &cfg_db);
    scripts_config_string(sc, "HOST", &cfg_host);
    if (port < 0) port = (long long)cfg_port;
    if (!db) db = getenv("DATABASE_URL");
    if (!db || !*db) db = cfg_db;
    char db_path[1024], host_buf[256];
    snprintf(host_buf, sizeof host_buf, "%s", host ? host : cfg_host);
    CrError err = {{0}};
    int bad = store_path_from_url(db, db_path, sizeof db_path, &err);
    scripts_close(sc);
    if (bad) {
        cli_error(CMD, "%s", err.msg);
        return 2;
    }
    if (port < 0 || port > 65535) {
        cli_error(CMD, "PORT must be 0..65535");
        return 2;
    }
    ServerConfig cfg = {
        .host = host_buf,
        .port = (int)port,
        .db_path = db_path,
        .migrations_dir = sql,
        .web_dir = web,
        .scripts_dir = common.scripts,
        .sets = common.sets,
        .n_sets = common.n_sets,
        .botd_path = botd,
        .workers = (int)workers,
        .register_limit = (int)register_limit,
        .rate_slots = (int)rate_slots,
    };
    /* A long-running server's memory must not creep. glibc's default
     * raises its mmap threshold after the first large free, so later
     * replays, stages and geometries (0.1-1 MiB each, made and freed on
     * worker threads all day) come from per-thread heaps that fragment:
     * a 10-minute soak at 50 rooms grew 136 -> 151 MB after warm-up. With
     * a fixed threshold they are mapped and returned whole, and four
     * arenas bound the per-thread heaps: the same soak held 106 MB flat. */
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_ARENA_MAX, 4);
#endif
    if (server_run(&cfg, &err)) {
        cli_error(CMD, "%s", err.msg);
        return 1;
    }
    return 0;
}
