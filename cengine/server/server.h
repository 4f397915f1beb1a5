/*
 * server.h - `coderally serve`: one libwebsockets event-loop thread for HTTP,
 * REST and WebSocket, worker pools for hashing, SQLite and bot checks.
 */
#ifndef CR_SERVER_H
#define CR_SERVER_H

#include <stddef.h>

#include "coderally.h"

typedef struct {
    const char *host;           /* interface to listen on, NULL: all */
    int port;                   /* 0: pick a free one */
    const char *db_path;        /* SQLite file */
    const char *migrations_dir; /* sql/ */
    const char *web_dir;        /* web/dist (may not exist) */
    const char *scripts_dir;
    const ConfigOverride *sets;
    size_t n_sets;
    const char *botd_path; /* NULL: next to the executable */
    int workers;           /* threads per lane; 0: 2 */
    int register_limit;    /* registrations per address per 10 minutes; 0: 10 */
    int rate_slots;        /* the rate-limit table's cap in slots; 0: 131072 */
    /* `coderally replay view`: this file is served at GET /api/replays/local
     * and open_path is appended to the URL printed at start. NULL: none. */
    const char *replay_file;
    const char *open_path;
} ServerConfig;

/* Runs the server until SIGTERM or SIGINT, then stops accepting work, lets
 * what is in flight finish, flushes and closes everything. Prints the URL to
 * open on stdout once listening. 0 after a clean stop. */
int server_run(const ServerConfig *cfg, CrError *err);

#endif
