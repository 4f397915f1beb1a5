/* common.c - shared option handling for the subcommands. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef CR_DEFAULT_SCRIPTS
#define CR_DEFAULT_SCRIPTS "scripts"
#endif

const char *cli_default_scripts(void) {
    return CR_DEFAULT_SCRIPTS;
}

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "coderally %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_common_init(CommonOpts *o) {
    memset(o, 0, sizeof *o);
    o->scripts = getenv("CODERALLY_SCRIPTS");
    if (!o->scripts || !*o->scripts) o->scripts = cli_default_scripts();
}

const char *cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error(cmd, "option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_split_kv(const char *cmd, const char *opt, char *s, ConfigOverride *out) {
    char *eq = strchr(s, '=');
    if (!eq || eq == s) {
        cli_error(cmd, "%s takes KEY=VALUE, not '%s'", opt, s);
        return -1;
    }
    *eq = 0;
    out->key = s;
    out->value = eq + 1;
    return 0;
}

int cli_common_opt(const char *cmd, int argc, char **argv, int *i, CommonOpts *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "--scripts")) {
        const char *v = cli_value(cmd, argc, argv, i);
        if (!v) return -1;
        o->scripts = v;
        return 1;
    }
    if (!strcmp(a, "--set")) {
        char *v = (char *)cli_value(cmd, argc, argv, i);
        if (!v) return -1;
        if (o->n_sets == CLI_MAX_SETS) {
            cli_error(cmd, "at most %d --set options", CLI_MAX_SETS);
            return -1;
        }
        return cli_split_kv(cmd, "--set", v, &o->sets[o->n_sets++]) ? -1 : 1;
    }
    return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                  long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error(cmd, "%s must be a whole number in %lld..%lld, not '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+' || *s == ' ') {
        cli_error(cmd, "%s must be a whole number 0..%llu, not '%s'", opt,
                  (unsigned long long)UINT64_MAX, s);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        cli_error(cmd, "%s must be a whole number 0..%llu, not '%s'", opt,
                  (unsigned long long)UINT64_MAX, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_open_scripts(const char *cmd, const CommonOpts *o, Scripts **out) {
    CrError err = {{0}};
    int rc = scripts_open(o->scripts, o->sets, o->n_sets, out, &err);
    if (rc) cli_error(cmd, "%s", err.msg);
    return rc;
}
