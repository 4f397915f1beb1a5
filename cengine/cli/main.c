/* main.c - the `coderally` binary: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fputs(
        "usage: coderally <command> [options]\n"
        "\n"
        "commands:\n"
        "  race     run a headless race flat out and print the results\n"
        "  tournament  many races over seeds and generators on every core; compare bots\n"
        "  stage    list generators, generate a stage, render it as SVG\n"
        "  replay   verify a replay by re-simulating it\n"
        "  bot      check a Python bot against the sandbox policy\n"
        "  bench    performance harness (sim, bots)\n"
        "  serve    the game server: web client, REST API, WebSocket\n"
        "\n"
        "Every command takes --scripts DIR (default: the repository's scripts/) and\n"
        "--set KEY=VALUE to override a setting from config.lua. Run\n"
        "`coderally <command> --help` for its options.\n",
        f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "race")) return cmd_race(argc - 1, argv + 1);
    if (!strcmp(cmd, "stage")) return cmd_stage(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay")) return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "bot")) return cmd_bot(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "tournament")) return cmd_tournament(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "coderally: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
