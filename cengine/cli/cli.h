/*
 * cli.h - the subcommands of the `coderally` binary. Each takes the arguments
 * after its name (argv[0] is the subcommand) and returns the process exit
 * status: 0 on success, 1 on a failure of the work, 2 on bad usage.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

int cmd_race(int argc, char **argv);
int cmd_stage(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_replay_view(int argc, char **argv); /* cmd_replay_view.c: `replay view FILE` */
int cmd_bench(int argc, char **argv);
int cmd_tournament(int argc, char **argv); /* cmd_tournament.c */
int cmd_bot(int argc, char **argv);        /* cmd_bot.c: `coderally bot check FILE` */
int cmd_serve(int argc, char **argv);      /* cmd_serve.c: the game server */
int bench_bots(int argc, char **argv);     /* bench_bots.c: `coderally bench bots` */
int bench_server(int argc, char **argv);   /* bench_server.c: `coderally bench server` */
int bench_lobby(int argc, char **argv);    /* bench_lobby.c: `coderally bench lobby` */

/* Default scripts directory (the repository's scripts/). */
const char *cli_default_scripts(void);

#endif
