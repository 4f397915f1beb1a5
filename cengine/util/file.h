/* file.h - reading a whole file with a size cap: scripts, replays, bots. */
#ifndef CR_FILE_H
#define CR_FILE_H

#include <stddef.h>

#include "coderally.h"

/* Reads path into a new buffer (NUL-terminated, the caller frees it). At
 * most max + 1 bytes are read, so *len > max tells the caller the file is
 * too big, in the caller's own words. CR_ENOTFOUND or CR_EIO with
 * "path: reason" in err; CR_ENOMEM. */
int file_read(const char *path, size_t max, char **out, size_t *len, CrError *err);

#endif
