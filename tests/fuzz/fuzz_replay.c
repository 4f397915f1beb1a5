/*
 * fuzz_replay.c - replay files into replay_read, the reader `coderally
 * replay verify/export` and the server use on files from anywhere. The
 * input is the whole file, handed over as a path to an in-memory file. A
 * replay the reader accepts must hold only what its format allows.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coderally.h"
#include "sim/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool terminated(const char *s, size_t cap) {
    return memchr(s, 0, cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_replay", 0);
        assert(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    assert(ftruncate(fd, 0) == 0);
    assert(pwrite(fd, data, size, 0) == (ssize_t)size);

    Replay *r = NULL;
    CrError err = {{0}};
    int rc = replay_read(path, &r, &err);
    if (rc != CR_OK) {
        assert(r == NULL);
        assert(err.msg[0] != 0);
        return 0;
    }
    const ReplayHeader *h = &r->header;
    assert(h->n_cars >= 1 && h->n_cars <= CR_MAX_CARS);
    assert(h->n_params >= 0 && h->n_params <= REPLAY_MAX_PARAMS);
    assert(terminated(h->generator, sizeof h->generator));
    assert(terminated(h->rules, sizeof h->rules));
    for (int i = 0; i < h->n_params; i++) {
        assert(terminated(h->param_key[i], sizeof h->param_key[i]));
        assert(terminated(h->param_value[i], sizeof h->param_value[i]));
    }
    for (int i = 0; i < h->n_cars; i++) {
        CrError e2;
        assert(terminated(h->cars[i].name, CR_NAME_MAX));
        assert(car_stats_validate(&h->cars[i].stats, &e2) == CR_OK);
    }
    for (size_t i = 0; i < r->n_inputs; i++) {
        assert(r->inputs[i].car < h->n_cars);
        if (i) assert(r->inputs[i].tick >= r->inputs[i - 1].tick);
    }
    size_t total = 0;
    for (size_t i = 0; i < r->n_draw_sets; i++) {
        const ReplayDrawSet *s = &r->draw_sets[i];
        assert(s->car < h->n_cars && s->n <= REPLAY_MAX_DRAWINGS);
        assert(s->first == total);
        total += s->n;
    }
    assert(total == r->n_drawings);
    for (size_t i = 0; i < r->n_drawings; i++) {
        assert(r->drawings[i].kind <= 2 && r->drawings[i].rgb <= 0xffffff);
        assert(terminated(r->drawings[i].text, sizeof r->drawings[i].text));
    }
    replay_free(r);
    return 0;
}
