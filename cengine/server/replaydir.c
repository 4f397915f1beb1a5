/* replaydir.c - the server's private folder for live races' replays
 * (replaydir.h). */
#include "replaydir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest name replaydir_file makes, with the writer's ".tmp". */
#define NAME_MAX_LEN (sizeof "ladder-" - 1 + REPLAYDIR_ID_MAX + sizeof ".replay.tmp" - 1)

struct ReplayDir {
    int fd; /* the folder, open (and flock'ed) for the server's life */
    char path[PATH_MAX];
};

static bool id_ok(const char *s, size_t n) {
    if (n == 0 || n > REPLAYDIR_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Whether name is one replaydir_file makes, or its writer's ".tmp": the
 * only names the folder's sweeps ever remove. */
static bool ours(const char *name) {
    const char *id;
    if (!strncmp(name, "race-", 5))
        id = name + 5;
    else if (!strncmp(name, "ladder-", 7))
        id = name + 7;
    else
        return false;
    const char *dot = strchr(id, '.');
    if (!dot || !id_ok(id, (size_t)(dot - id))) return false;
    return !strcmp(dot, ".replay") || !strcmp(dot, ".replay.tmp");
}

/* Removes our files (regular files, or a symlink where one of them would
 * be: unlinking a link never touches what it points at) and counts them
 * and the entries left alone. Relative to the folder's fd, so a path
 * changed meanwhile cannot redirect it. */
static void sweep(int dirfd, int *removed, int *kept) {
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0) close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        bool gone = false;
        if (ours(e->d_name) && !fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
            (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
            gone = unlinkat(dirfd, e->d_name, 0) == 0;
        if (gone && removed) (*removed)++;
        if (!gone && kept) (*kept)++;
    }
    closedir(dir);
}

int replaydir_open(const char *db_path, ReplayDir **out, int *removed, int *kept, CrError *err) {
    *out = NULL;
    if (removed) *removed = 0;
    if (kept) *kept = 0;
    ReplayDir *d = calloc(1, sizeof *d);
    if (!d) return CR_ENOMEM;
    d->fd = -1;
    int rc = CR_EIO;
    size_t n = (size_t)snprintf(d->path, sizeof d->path, "%s%s", db_path, REPLAYDIR_SUFFIX);
    if (n + 1 + NAME_MAX_LEN >= sizeof d->path) {
        rc = cr_fail(err, CR_EINVAL, "the database path %s is too long", db_path);
        goto fail;
    }
    bool made = mkdir(d->path, 0700) == 0;
    if (!made && errno != EEXIST) {
        rc = cr_fail(err, CR_EIO, "cannot make the replay folder %s: %s", d->path, strerror(errno));
        goto fail;
    }
    /* O_NOFOLLOW: a symlink planted at the name is refused, not followed. */
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->fd < 0) {
        const char *why = errno == ELOOP || errno == ENOTDIR
                              ? "it is not a directory (a symlink or a file?); the server keeps "
                                "live races' replays there: move it away"
                              : strerror(errno);
        rc = cr_fail(err, CR_EIO, "the replay folder %s: %s", d->path, why);
        goto fail;
    }
    /* umask may have taken bits of the 0700 away; it can never add any. */
    if (made && fchmod(d->fd, 0700)) {
        rc = cr_fail(err, CR_EIO, "the replay folder %s: chmod: %s", d->path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(d->fd, &st)) {
        rc = cr_fail(err, CR_EIO, "the replay folder %s: %s", d->path, strerror(errno));
        goto fail;
    }
    if (st.st_uid != geteuid()) {
        rc = cr_fail(err, CR_EIO, "the replay folder %s belongs to another user: move it away",
                     d->path);
        goto fail;
    }
    if ((st.st_mode & 0777) != 0700) {
        char mode[8];
        snprintf(mode, sizeof mode, "%03o", (unsigned)(st.st_mode & 0777));
        rc = cr_fail(err, CR_EIO,
                     "the replay folder %s has mode %s, not 0700 (others could plant files in it "
                     "or read them): chmod 700 it or move it away",
                     d->path, mode);
        goto fail;
    }
    if (flock(d->fd, LOCK_EX | LOCK_NB)) {
        rc = errno == EWOULDBLOCK
                 ? cr_fail(err, CR_EIO,
                           "another coderally serve is using this database (its replay folder %s "
                           "is locked)",
                           d->path)
                 : cr_fail(err, CR_EIO, "cannot lock the replay folder %s: %s", d->path,
                           strerror(errno));
        goto fail;
    }
    sweep(d->fd, removed, kept);
    *out = d;
    return 0;
fail:
    if (d->fd >= 0) close(d->fd);
    free(d);
    return rc;
}

void replaydir_close(ReplayDir *d) {
    if (!d) return;
    int kept = 0;
    sweep(d->fd, NULL, &kept);
    /* rmdir removes only an empty folder: whatever else is in it stays. */
    if (kept)
        fprintf(stderr, "[server] kept the replay folder %s: it holds %d entr%s not the server's\n",
                d->path, kept, kept == 1 ? "y" : "ies");
    else if (rmdir(d->path) && errno != ENOENT)
        fprintf(stderr, "[server] cannot remove the replay folder %s: %s\n", d->path,
                strerror(errno));
    close(d->fd); /* and the lock with it */
    free(d);
}

const char *replaydir_path(const ReplayDir *d) {
    return d->path;
}

int replaydir_file(const ReplayDir *d, const char *kind, const char *id, char *buf, size_t size,
                   CrError *err) {
    if (strcmp(kind, "race") && strcmp(kind, "ladder"))
        return cr_fail(err, CR_EINVAL, "no replay file kind %s", kind);
    if (!id_ok(id, strlen(id))) return cr_fail(err, CR_EINVAL, "bad race id for a replay file");
    if ((size_t)snprintf(buf, size, "%s/%s-%s.replay", d->path, kind, id) >= size)
        return cr_fail(err, CR_EINVAL, "the replay file name in %s is too long", d->path);
    return 0;
}
