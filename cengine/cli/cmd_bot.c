/* cmd_bot.c - placeholder until the sandbox (issue 3) lands. */
#include <stdio.h>

#include "cli.h"

int cmd_bot(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "coderally bot: Python bots are not built into this coderally yet\n");
    return 1;
}

int bench_bots(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "coderally bench bots: Python bots are not built into this coderally yet\n");
    return 1;
}
