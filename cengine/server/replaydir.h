/*
 * replaydir.h - the server's private folder for the replays of races in
 * progress: `<database>.races/`, mode 0700, made at start, locked for the
 * server's life, cleared of what a killed server left there, removed at a
 * clean exit. A race's replay is written there while it runs, read into
 * the database when it ends and then removed; no replay file of the server
 * ever lands in a shared folder such as /tmp, where another local user
 * could plant a symlink at a name the server is going to write.
 *
 * Next to the database rather than a random folder in $TMPDIR: one server
 * per database (the lock makes it so), so what the folder holds at start
 * is exactly what the last server on this database left -- found and
 * removed without guessing which folder of /tmp was whose. Whoever may
 * write in the database's own folder can replace the database itself: that
 * folder is trusted; this one is checked (a real directory, ours, no access
 * for anyone else) and every name in it is ours.
 */
#ifndef CR_SERVER_REPLAYDIR_H
#define CR_SERVER_REPLAYDIR_H

#include <stddef.h>

#include "coderally.h"

typedef struct ReplayDir ReplayDir;

#define REPLAYDIR_SUFFIX ".races"
#define REPLAYDIR_ID_MAX 64 /* letters, digits, '-' and '_' */

/* Makes `<db_path>.races/` (0700) or takes the one a last server left. It
 * must be a directory, not a symlink to one, owned by this user, with no
 * permission for group or others; anything else is refused with the reason
 * and left exactly as it is. Then locks it (a second server on the same
 * database is refused, before it could touch the first one's files) and
 * removes what a killed server left: the files replaydir_file names and
 * their `.tmp` siblings, nothing else (*removed counts them, *kept the
 * other entries, which stay; either may be NULL). The caller owns *out. */
int replaydir_open(const char *db_path, ReplayDir **out, int *removed, int *kept, CrError *err);
/* Removes the files of ours still there and then the directory (unless
 * something else is in it: it stays, and stderr says so), and releases the
 * lock. NULL does nothing. */
void replaydir_close(ReplayDir *d);
/* The folder's path as made from db_path. */
const char *replaydir_path(const ReplayDir *d);
/* "<folder>/<kind>-<id>.replay" into buf: kind "race" or "ladder", id 1 to
 * REPLAYDIR_ID_MAX letters, digits, '-' or '_'. CR_EINVAL (err says why,
 * err may be NULL) for another kind, a bad id or a buf too small. Reads d
 * only: any thread. */
int replaydir_file(const ReplayDir *d, const char *kind, const char *id, char *buf, size_t size,
                   CrError *err);

#endif
