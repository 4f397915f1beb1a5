/* test_replaydir.c - the server's private replay folder: made 0700 next to
 * the database, a planted symlink, file or open folder at its name refused
 * and left as it was, one server per database, a killed server's replays
 * swept at start and nothing else ever removed. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/replaydir.h"
#include "test.h"

static char root[64];

/* A fresh folder for one test; db is "<it>/x.db", dir "<it>/x.db.races". */
static void fresh(char *db, char *dir, size_t size) {
    snprintf(root, sizeof root, "/tmp/test_replaydir_XXXXXX");
    if (!mkdtemp(root)) abort();
    snprintf(db, size, "%s/x.db", root);
    snprintf(dir, size, "%s/x.db.races", root);
}

static void touch(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *dir, const char *name) {
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

/* What the file holds (first line), "" if it cannot be read. */
static const char *content(const char *dir, const char *name) {
    static char buf[128];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    buf[0] = 0;
    FILE *f = fopen(p, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
    }
    return buf;
}

static void rm_rf(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", root, root);
    if (system(cmd)) abort();
}

TEST(made_private_next_to_the_database_and_removed_at_close) {
    char db[256], dir[256];
    fresh(db, dir, sizeof db);
    mode_t old = umask(0); /* a lax umask must not make it readable */
    ReplayDir *d = NULL;
    CrError err = {{0}};
    int removed = -1, kept = -1;
    int rc = replaydir_open(db, &d, &removed, &kept, &err);
    umask(old);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_STR(replaydir_path(d), dir);
    ASSERT_EQ_INT(removed, 0);
    ASSERT_EQ_INT(kept, 0);
    struct stat st;
    ASSERT_EQ_INT(lstat(dir, &st), 0);
    ASSERT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ_INT(st.st_mode & 0777, 0700);
    char p[512], want[512];
    ASSERT_EQ_INT(replaydir_file(d, "race", "0a1b2c", p, sizeof p, &err), 0);
    snprintf(want, sizeof want, "%s/race-0a1b2c.replay", dir);
    ASSERT_EQ_STR(p, want);
    ASSERT_EQ_INT(replaydir_file(d, "ladder", "Ab_9-z", p, sizeof p, &err), 0);
    /* Nothing that could leave the folder or name another kind of file. */
    const char *bad_ids[] = {
        "",     "..",
        "../x", "a/b",
        "a.b",  "a b",
        "x\n",  "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        ASSERT_EQ_INT(replaydir_file(d, "race", bad_ids[i], p, sizeof p, &err), CR_EINVAL);
    ASSERT_EQ_INT(replaydir_file(d, "svg", "abc", p, sizeof p, &err), CR_EINVAL);
    ASSERT_EQ_INT(replaydir_file(d, "race", "abc", p, 16, &err), CR_EINVAL);
    /* Replays still there at a clean exit go with the folder. */
    touch(dir, "race-0a1b2c.replay.tmp", "x");
    replaydir_close(d);
    ASSERT_TRUE(lstat(dir, &st) != 0 && errno == ENOENT);
    rm_rf();
}

TEST(a_killed_servers_replays_are_swept_and_nothing_else) {
    char db[256], dir[256], outside[300];
    fresh(db, dir, sizeof db);
    ASSERT_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(outside, sizeof outside, "%s/precious", root);
    touch(root, "precious", "keep me");
    touch(dir, "race-abc123.replay", "r");
    touch(dir, "race-abc123.replay.tmp", "r");
    touch(dir, "ladder-0f0f.replay.tmp", "l");
    char link[512];
    snprintf(link, sizeof link, "%s/race-link.replay", dir);
    ASSERT_EQ_INT(symlink(outside, link), 0);
    /* Not ours: a near miss of every part of the name, and a folder. */
    const char *others[] = {"notes.txt",       "race-abc.replay.bak", "race-.replay",
                            "Race-abc.replay", "race-a.b.replay",     "ladder-x.replay~"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) touch(dir, others[i], "o");
    char sub[512];
    snprintf(sub, sizeof sub, "%s/race-sub.replay", dir);
    ASSERT_EQ_INT(mkdir(sub, 0700), 0);
    ReplayDir *d = NULL;
    CrError err = {{0}};
    int removed = 0, kept = 0;
    ASSERT_EQ_INT(replaydir_open(db, &d, &removed, &kept, &err), 0);
    ASSERT_EQ_INT(removed, 4);
    ASSERT_EQ_INT(kept, 7);
    ASSERT_TRUE(!exists(dir, "race-abc123.replay") && !exists(dir, "race-abc123.replay.tmp"));
    ASSERT_TRUE(!exists(dir, "ladder-0f0f.replay.tmp") && !exists(dir, "race-link.replay"));
    ASSERT_EQ_STR(content(root, "precious"), "keep me"); /* the link's target */
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        ASSERT_EQ_STR(content(dir, others[i]), "o");
    ASSERT_TRUE(exists(dir, "race-sub.replay"));
    /* At close the folder stays for what is not ours. */
    replaydir_close(d);
    ASSERT_TRUE(exists(dir, "notes.txt"));
    rm_rf();
}

TEST(a_symlink_file_or_open_folder_at_the_name_is_refused_and_left) {
    char db[256], dir[256], target[300];
    fresh(db, dir, sizeof db);
    ReplayDir *d = NULL;
    CrError err = {{0}};
    /* A symlink to a folder of someone else's choosing. */
    snprintf(target, sizeof target, "%s/target", root);
    ASSERT_EQ_INT(mkdir(target, 0700), 0);
    touch(target, "race-abc.replay", "victim");
    ASSERT_EQ_INT(symlink(target, dir), 0);
    ASSERT_EQ_INT(replaydir_open(db, &d, NULL, NULL, &err), CR_EIO);
    ASSERT_TRUE(d == NULL);
    ASSERT_CONTAINS(err.msg, "not a directory");
    ASSERT_EQ_STR(content(target, "race-abc.replay"), "victim");
    struct stat st;
    ASSERT_TRUE(lstat(dir, &st) == 0 && S_ISLNK(st.st_mode));
    ASSERT_EQ_INT(unlink(dir), 0);
    /* A plain file. */
    touch(root, "x.db.races", "file");
    ASSERT_EQ_INT(replaydir_open(db, &d, NULL, NULL, &err), CR_EIO);
    ASSERT_EQ_STR(content(root, "x.db.races"), "file");
    ASSERT_EQ_INT(unlink(dir), 0);
    /* A folder others may enter or write in. */
    ASSERT_EQ_INT(mkdir(dir, 0700), 0);
    ASSERT_EQ_INT(chmod(dir, 0755), 0);
    touch(dir, "race-abc.replay", "left");
    ASSERT_EQ_INT(replaydir_open(db, &d, NULL, NULL, &err), CR_EIO);
    ASSERT_CONTAINS(err.msg, "mode 755");
    ASSERT_EQ_STR(content(dir, "race-abc.replay"), "left");
    ASSERT_TRUE(lstat(dir, &st) == 0 && (st.st_mode & 0777) == 0755);
    rm_rf();
}

TEST(one_server_per_database) {
    char db[256], dir[256];
    fresh(db, dir, sizeof db);
    ReplayDir *a = NULL, *b = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(replaydir_open(db, &a, NULL, NULL, &err), 0);
    touch(dir, "race-live.replay.tmp", "live");
    ASSERT_EQ_INT(replaydir_open(db, &b, NULL, NULL, &err), CR_EIO);
    ASSERT_CONTAINS(err.msg, "another coderally serve");
    /* The first one's live file was not swept by the refused second. */
    ASSERT_EQ_STR(content(dir, "race-live.replay.tmp"), "live");
    replaydir_close(a);
    ASSERT_EQ_INT(replaydir_open(db, &b, NULL, NULL, &err), 0);
    replaydir_close(b);
    rm_rf();
}

TEST_MAIN
