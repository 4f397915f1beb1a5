/* common.h - option handling every subcommand shares: --scripts, --set. */
#ifndef CR_CLI_COMMON_H
#define CR_CLI_COMMON_H

#include <stdint.h>

#include "coderally.h"

#define CLI_MAX_SETS 32

typedef struct {
    const char *scripts;
    ConfigOverride sets[CLI_MAX_SETS];
    size_t n_sets;
} CommonOpts;

void cli_common_init(CommonOpts *o);
/* If argv[*i] is a shared option, consumes it (and its value) and returns 1;
 * returns 0 if it is not one, -1 (message printed) if it is malformed. */
int cli_common_opt(const char *cmd, int argc, char **argv, int *i, CommonOpts *o);
/* The value after option argv[*i], advancing *i; NULL (message printed) if
 * there is none. */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);
/* Splits "KEY=VALUE" (modifying s); -1 with a message if malformed. */
int cli_split_kv(const char *cmd, const char *opt, char *s, ConfigOverride *out);
/* Parses a whole decimal number in lo..hi; -1 with a message otherwise. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                  long long *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* Opens the scripts directory, printing the error on failure. */
int cli_open_scripts(const char *cmd, const CommonOpts *o, Scripts **out);
/* Prints "coderally CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
