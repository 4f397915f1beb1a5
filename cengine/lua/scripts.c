/*
 * scripts.c - a scripts snapshot from open to close: read every file once
 * (snapshot.c), load config and upgrades, list the generators; reference
 * counting so races keep the snapshot they started with; reload into a new
 * snapshot that is swapped in only if it loads.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/scripts_internal.h"

int scripts_fail(CrError *err, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return rc;
}

bool scripts_valid_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= CR_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

const char *scripts_dir(const Scripts *sc) {
    return sc->dir;
}

static const LhostBudget SETUP_BUDGET = {.call_instructions = LHOST_DEFAULT_BUDGET,
                                         .call_ms = LHOST_DEFAULT_WATCHDOG_MS,
                                         .window_name = "window"};

static int copy_overrides(Scripts *sc, const ConfigOverride *ov, size_t n) {
    if (!n) return CR_OK;
    if (!(sc->ov = calloc(n, sizeof *sc->ov))) return CR_ENOMEM;
    sc->nov = n;
    for (size_t i = 0; i < n; i++) {
        sc->ov[i].key = strdup(ov[i].key);
        sc->ov[i].value = strdup(ov[i].value);
        if (!sc->ov[i].key || !sc->ov[i].value) return CR_ENOMEM;
    }
    return CR_OK;
}

static void free_scripts(Scripts *sc) {
    generators_free(sc);
    lhost_destroy(sc->host);
    config_free(sc);
    upgrades_free(sc);
    snapshot_free(sc);
    for (size_t i = 0; i < sc->nov; i++) {
        free((char *)sc->ov[i].key);
        free((char *)sc->ov[i].value);
    }
    free(sc->ov);
    free(sc->dir);
    free(sc);
}

int scripts_open(const char *dir, const ConfigOverride *overrides, size_t n_overrides,
                 Scripts **out, CrError *err) {
    *out = NULL;
    Scripts *sc = calloc(1, sizeof *sc);
    if (!sc) return CR_ENOMEM;
    atomic_init(&sc->refs, 1);
    sc->stats_ref = LUA_NOREF;
    int rc = CR_ENOMEM;
    if (!(sc->dir = strdup(dir))) goto fail;
    if ((rc = copy_overrides(sc, overrides, n_overrides))) goto fail;
    if ((rc = snapshot_read(sc, err))) goto fail;
    /* Config first, in a plain host: rally.limits comes from it. */
    if ((rc = lhost_create(LHOST_DEFAULT_MEMORY, LHOST_DEFAULT_BUDGET, &sc->host, err))) goto fail;
    if ((rc = config_load(sc, err))) goto fail;
    if ((rc = surfaces_load(sc, err))) goto fail;
    lhost_destroy(sc->host);
    sc->host = NULL;
    if ((rc = scripts_new_host(sc, LHOST_DEFAULT_MEMORY, &SETUP_BUDGET, &sc->host, err))) goto fail;
    if ((rc = upgrades_load(sc, err))) goto fail;
    if ((rc = generators_scan(sc, err))) goto fail;
    if ((rc = lobby_check(sc, err))) goto fail;
    *out = sc;
    return CR_OK;
fail:
    if (rc == CR_ENOMEM) snprintf(err->msg, sizeof err->msg, "out of memory loading %s", dir);
    free_scripts(sc);
    return rc;
}

int scripts_open_more(const Scripts *base, const ConfigOverride *extra, size_t n_extra,
                      Scripts **out, CrError *err) {
    *out = NULL;
    ConfigOverride *all = calloc(base->nov + n_extra + 1, sizeof *all);
    if (!all) return CR_ENOMEM;
    if (base->nov) memcpy(all, base->ov, base->nov * sizeof *all);
    if (n_extra) memcpy(all + base->nov, extra, n_extra * sizeof *all);
    int rc = scripts_open(base->dir, all, base->nov + n_extra, out, err);
    free(all);
    return rc;
}

Scripts *scripts_ref(Scripts *sc) {
    atomic_fetch_add(&sc->refs, 1);
    return sc;
}

void scripts_close(Scripts *sc) {
    if (!sc) return;
    if (atomic_fetch_sub(&sc->refs, 1) == 1) free_scripts(sc);
}

/* The error of generator name in sc, or NULL (also when it is not there). */
static const char *old_error(const Scripts *sc, const char *name) {
    for (size_t i = 0; i < sc->ngens; i++)
        if (!strcmp(sc->gens[i].info.name, name)) return scripts_generator_error(sc, i);
    return NULL;
}

int scripts_reload(const Scripts *old, Scripts **out, CrError *err) {
    *out = NULL;
    Scripts *sc;
    int rc = scripts_open(old->dir, old->ov, old->nov, &sc, err);
    if (rc) return rc;
    if ((rc = generators_check_all(sc, err))) goto fail;
    for (size_t i = 0; i < sc->ngens; i++) {
        const char *e = sc->gens[i].error;
        if (e && !old_error(old, sc->gens[i].info.name)) {
            rc = scripts_fail(err, CR_ESCRIPT, "%s", e);
            goto fail;
        }
    }
    if ((rc = rules_check_all(sc, err))) goto fail;
    *out = sc;
    return CR_OK;
fail:
    scripts_close(sc);
    return rc;
}
