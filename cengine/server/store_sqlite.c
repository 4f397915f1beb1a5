/* store_sqlite.c - the Store on SQLite: WAL, synchronous=NORMAL, foreign
 * keys, migrations from sql/NNN_name.sql, bound parameters only. Statements
 * are prepared once per connection and cached by their SQL text's address. */
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rating.h"
#include "store.h"
#include "util/file.h"

#define STMT_CACHE 48
#define MIGRATION_MAX_BYTES (1 << 20)

const char *const STORE_UPGRADE_STAT_NAMES[STORE_UPGRADE_STATS] = {
    "top_speed",      "acceleration",   "grip",     "braking",
    "nitro_capacity", "nitro_duration", "handling", "weight"};

struct Store {
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
    int n_cache;
};

int store_upgrade_stat_index(const char *stat) {
    for (int i = 0; i < STORE_UPGRADE_STATS; i++)
        if (!strcmp(stat, STORE_UPGRADE_STAT_NAMES[i])) return i;
    return -1;
}

static int db_fail(Store *st, CrError *err, const char *what) {
    return cr_fail(err, STORE_EDB, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

/* The cached statement for sql (a string literal: its address is the key),
 * reset and with its bindings cleared. NULL with err set on failure. */
static sqlite3_stmt *stmt(Store *st, const char *sql, CrError *err) {
    for (int i = 0; i < st->n_cache; i++) {
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        db_fail(st, err, "prepare");
        return NULL;
    }
    if (st->n_cache < STMT_CACHE) {
        st->cache[st->n_cache].sql = sql;
        st->cache[st->n_cache].stmt = s;
        st->n_cache++;
    } else {
        /* Cannot happen with the fixed set of statements below; fail loudly
         * rather than leak. */
        sqlite3_finalize(s);
        cr_fail(err, STORE_EDB, "store: statement cache full");
        return NULL;
    }
    return s;
}

static int exec(Store *st, const char *sql, CrError *err) {
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int r = cr_fail(err, STORE_EDB, "store: %s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return r;
    }
    return 0;
}

static int begin(Store *st, CrError *err) {
    return exec(st, "BEGIN IMMEDIATE", err);
}
static int commit(Store *st, CrError *err) {
    return exec(st, "COMMIT", err);
}
static void rollback(Store *st) {
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *s, int col) {
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* ---- opening and migrations -------------------------------------------- */

int store_path_from_url(const char *url, char *out, size_t size, CrError *err) {
    const char *path = url;
    if (!strncmp(url, "sqlite:///", 10))
        path = url + 10;
    else if (strstr(url, "://"))
        return cr_fail(err, CR_EINVAL, "DATABASE_URL '%s': only sqlite:///PATH is supported", url);
    if (!*path) return cr_fail(err, CR_EINVAL, "DATABASE_URL '%s' has no path", url);
    if ((size_t)snprintf(out, size, "%s", path) >= size)
        return cr_fail(err, CR_EINVAL, "database path too long");
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows that break a foreign key, as SQLite's own check finds them: a
 * migration runs with foreign keys off (so it can rebuild a table that
 * others reference, SQLite's documented way to change a table) and must
 * leave none. */
static int check_foreign_keys(Store *st, CrError *err) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
        return db_fail(st, err, "foreign key check");
    int rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW)
        r = cr_fail(err, STORE_EDB, "a row of %s breaks a foreign key",
                    (const char *)sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        r = db_fail(st, err, "foreign key check");
    sqlite3_finalize(s);
    return r;
}

/* Applies migration number num from file, in one transaction with its
 * schema_migrations row. */
static int apply_migration(Store *st, const char *dir, const char *file, int num, CrError *err) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *sql = NULL;
    size_t len = 0;
    int r = file_read(path, MIGRATION_MAX_BYTES, &sql, &len, err);
    if (r) return r;
    if (len > MIGRATION_MAX_BYTES) {
        free(sql);
        return cr_fail(err, CR_EIO, "migration %s is over %d bytes", path, MIGRATION_MAX_BYTES);
    }
    if ((r = begin(st, err))) goto out;
    if ((r = exec(st, sql, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cr_fail(err, STORE_EDB, "migration %s: %s", path, msg);
        goto out;
    }
    if ((r = check_foreign_keys(st, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cr_fail(err, STORE_EDB, "migration %s: %s", path, msg);
        goto out;
    }
    sqlite3_stmt *s = stmt(st, "INSERT INTO schema_migrations(version, name) VALUES (?1, ?2)", err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int(s, 1, num);
    sqlite3_bind_text(s, 2, file, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        r = db_fail(st, err, "record migration");
        goto out;
    }
    r = commit(st, err);
out:
    if (r) rollback(st);
    free(sql);
    return r;
}

static int migrate(Store *st, const char *dir, CrError *err) {
    int r = exec(st,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT "
                 "(CAST(strftime('%s', 'now') AS INTEGER)))",
                 err);
    if (r || !dir) return r;
    DIR *d = opendir(dir);
    if (!d) return cr_fail(err, CR_EIO, "migrations %s: %s", dir, strerror(errno));
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 4, ".sql")) continue;
        if (n == 256) break;
        names[n] = strdup(e->d_name);
        if (!names[n]) break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int applied = store_schema_version(st), prev = 0;
    for (size_t i = 0; i < n && !r; i++) {
        const char *f = names[i];
        char *end;
        long num = strtol(f, &end, 10);
        if (end != f + 3 || *end != '_' || num <= 0) {
            r = cr_fail(err, CR_EINVAL, "migration %s/%s: name must be NNN_name.sql", dir, f);
        } else if (num == prev) {
            r = cr_fail(err, CR_EINVAL, "migration %s/%s: number %03ld used twice", dir, f, num);
        } else {
            prev = (int)num;
            if (num > applied) r = apply_migration(st, dir, f, (int)num, err);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    return r;
}

int store_schema_version(Store *st) {
    sqlite3_stmt *s = stmt(st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL);
    if (!s) return 0;
    int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    /* A SELECT left stepping holds a read transaction: this connection
     * would go on seeing the database as it is now. */
    sqlite3_reset(s);
    return v;
}

int store_open(const char *path, const char *migrations_dir, Store **out, CrError *err) {
    *out = NULL;
    Store *st = calloc(1, sizeof *st);
    if (!st) return cr_fail(err, CR_ENOMEM, "out of memory");
    int r;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        r = cr_fail(err, CR_EIO, "database %s: %s", path,
                    st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if ((r = exec(st, "PRAGMA journal_mode=WAL", err))) goto fail;
    if ((r = exec(st, "PRAGMA synchronous=NORMAL", err))) goto fail;
    /* Foreign keys come on after the migrations: a migration may rebuild a
     * table others reference (with them on, dropping the old one would
     * cascade), and each is checked for broken keys before it commits. */
    if ((r = exec(st, "PRAGMA foreign_keys=OFF", err))) goto fail;
    if ((r = migrate(st, migrations_dir, err))) goto fail;
    if ((r = exec(st, "PRAGMA foreign_keys=ON", err))) goto fail;
    *out = st;
    return 0;
fail:
    store_close(st);
    return r;
}

void store_close(Store *st) {
    if (!st) return;
    for (int i = 0; i < st->n_cache; i++) sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db);
    free(st);
}

/* ---- accounts ----------------------------------------------------------- */

static void read_user(sqlite3_stmt *s, StoreUser *u) {
    u->id = sqlite3_column_int64(s, 0);
    copy_text(u->username, sizeof u->username, s, 1);
    copy_text(u->password_hash, sizeof u->password_hash, s, 2);
    u->points = sqlite3_column_int64(s, 3);
    u->created_at = sqlite3_column_int64(s, 4);
}

int store_user_create(Store *st, const char *username, const char *password_hash, int64_t points,
                      const char *car_type, const char *car_name, int64_t *user_id, CrError *err) {
    int r = begin(st, err);
    if (r) return r;
    sqlite3_stmt *s =
        stmt(st, "INSERT INTO users(username, password_hash, points) VALUES (?1, ?2, ?3)", err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_text(s, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, points);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) {
        r = cr_fail(err, STORE_ECONFLICT, "username '%s' is taken", username);
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(st, err, "create user");
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    s = stmt(st, "INSERT INTO cars(user_id, car_type, name) VALUES (?1, ?2, ?3)", err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, car_type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, car_name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        r = db_fail(st, err, "create starter car");
        goto out;
    }
    if ((r = commit(st, err))) goto out;
    *user_id = id;
out:
    if (r) rollback(st);
    return r;
}

int store_user_by_name(Store *st, const char *username, StoreUser *out, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "SELECT id, username, password_hash, points, created_at FROM users "
                           "WHERE username = ?1",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, username, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such user");
    if (rc != SQLITE_ROW) return db_fail(st, err, "find user");
    read_user(s, out);
    sqlite3_reset(s);
    return 0;
}

int store_user_get(Store *st, int64_t id, StoreUser *out, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "SELECT id, username, password_hash, points, created_at FROM users "
                           "WHERE id = ?1",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such user");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get user");
    read_user(s, out);
    sqlite3_reset(s);
    return 0;
}

/* ---- sessions ----------------------------------------------------------- */

int store_session_create(Store *st, const char *selector, const uint8_t verifier_hash[32],
                         int64_t user_id, int64_t expires_at, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "INSERT INTO sessions(selector, verifier_hash, user_id, expires_at) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, selector, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 2, verifier_hash, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, user_id);
    sqlite3_bind_int64(s, 4, expires_at);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) return cr_fail(err, STORE_ECONFLICT, "session selector reused");
    if (rc != SQLITE_DONE) return db_fail(st, err, "create session");
    return 0;
}

int store_session_get(Store *st, const char *selector, uint8_t verifier_hash[32], int64_t *user_id,
                      int64_t *expires_at, CrError *err) {
    sqlite3_stmt *s = stmt(
        st, "SELECT verifier_hash, user_id, expires_at FROM sessions WHERE selector = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, selector, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such session");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get session");
    if (sqlite3_column_bytes(s, 0) != 32) {
        sqlite3_reset(s);
        return cr_fail(err, CR_EFORMAT, "session hash has the wrong size");
    }
    memcpy(verifier_hash, sqlite3_column_blob(s, 0), 32);
    *user_id = sqlite3_column_int64(s, 1);
    *expires_at = sqlite3_column_int64(s, 2);
    sqlite3_reset(s);
    return 0;
}

int store_session_delete(Store *st, const char *selector, CrError *err) {
    sqlite3_stmt *s = stmt(st, "DELETE FROM sessions WHERE selector = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, selector, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "delete session");
    return 0;
}

int store_session_purge(Store *st, int64_t now, int *n, CrError *err) {
    sqlite3_stmt *s = stmt(st, "DELETE FROM sessions WHERE expires_at < ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, now);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "purge sessions");
    if (n) *n = sqlite3_changes(st->db);
    return 0;
}

/* ---- cars --------------------------------------------------------------- */

#define CAR_COLS                                                                          \
    "id, user_id, car_type, COALESCE(name, ''), top_speed, acceleration, grip, braking, " \
    "nitro_capacity, nitro_duration, handling, weight, unlocked_at"

static void read_car(sqlite3_stmt *s, StoreCar *c) {
    c->id = sqlite3_column_int64(s, 0);
    c->user_id = sqlite3_column_int64(s, 1);
    copy_text(c->car_type, sizeof c->car_type, s, 2);
    copy_text(c->name, sizeof c->name, s, 3);
    for (int i = 0; i < STORE_UPGRADE_STATS; i++) c->levels[i] = sqlite3_column_int(s, 4 + i);
    c->unlocked_at = sqlite3_column_int64(s, 12);
}

int store_cars_list(Store *st, int64_t user_id, StoreCar *out, size_t cap, size_t *n,
                    CrError *err) {
    *n = 0;
    sqlite3_stmt *s = stmt(st, "SELECT " CAR_COLS " FROM cars WHERE user_id = ?1 ORDER BY id", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) read_car(s, &out[(*n)++]);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "list cars");
    return 0;
}

int store_car_get(Store *st, int64_t user_id, int64_t car_id, StoreCar *out, CrError *err) {
    sqlite3_stmt *s = stmt(st, "SELECT " CAR_COLS " FROM cars WHERE id = ?1 AND user_id = ?2", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, car_id);
    sqlite3_bind_int64(s, 2, user_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such car");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get car");
    read_car(s, out);
    sqlite3_reset(s);
    return 0;
}

/* Takes cost points from user_id inside the caller's transaction;
 * STORE_EPOINTS if they do not have them. */
static int pay(Store *st, int64_t user_id, int64_t cost, int64_t *points_after, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "UPDATE users SET points = points - ?2 WHERE id = ?1 AND points >= ?2 "
                           "RETURNING points",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, cost);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        return cr_fail(err, STORE_EPOINTS, "not enough points (%lld needed)", (long long)cost);
    if (rc != SQLITE_ROW) return db_fail(st, err, "pay");
    *points_after = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return 0;
}

int store_car_unlock(Store *st, int64_t user_id, const char *car_type, const char *name,
                     int64_t price, int64_t *car_id, int64_t *points_after, CrError *err) {
    int r = begin(st, err);
    if (r) return r;
    sqlite3_stmt *s =
        stmt(st, "INSERT INTO cars(user_id, car_type, name) VALUES (?1, ?2, ?3)", err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, car_type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) {
        r = cr_fail(err, STORE_ECONFLICT, "you already have a %s", car_type);
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(st, err, "unlock car");
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if ((r = pay(st, user_id, price, points_after, err))) goto out;
    if ((r = commit(st, err))) goto out;
    *car_id = id;
out:
    if (r) rollback(st);
    return r;
}

int store_car_upgrade(Store *st, int64_t user_id, int64_t car_id, int stat, int from_level,
                      int64_t cost, int64_t *points_after, CrError *err) {
    if (stat < 0 || stat >= STORE_UPGRADE_STATS) return cr_fail(err, CR_EINVAL, "bad stat");
    int r = begin(st, err);
    if (r) return r;
    /* One statement for every stat: ?3 names the column to raise, and the
     * row only changes if that column still holds from_level. */
    sqlite3_stmt *s = stmt(
        st,
        "UPDATE cars SET top_speed = top_speed + (?3 = 'top_speed'), "
        "acceleration = acceleration + (?3 = 'acceleration'), grip = grip + (?3 = 'grip'), "
        "braking = braking + (?3 = 'braking'), "
        "nitro_capacity = nitro_capacity + (?3 = 'nitro_capacity'), "
        "nitro_duration = nitro_duration + (?3 = 'nitro_duration'), "
        "handling = handling + (?3 = 'handling'), weight = weight + (?3 = 'weight') "
        "WHERE id = ?1 AND user_id = ?2 AND CASE ?3 WHEN 'top_speed' THEN top_speed "
        "WHEN 'acceleration' THEN acceleration WHEN 'grip' THEN grip WHEN 'braking' THEN braking "
        "WHEN 'nitro_capacity' THEN nitro_capacity WHEN 'nitro_duration' THEN nitro_duration "
        "WHEN 'handling' THEN handling WHEN 'weight' THEN weight END = ?4",
        err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, car_id);
    sqlite3_bind_int64(s, 2, user_id);
    sqlite3_bind_text(s, 3, STORE_UPGRADE_STAT_NAMES[stat], -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, from_level);
    if (sqlite3_step(s) != SQLITE_DONE) {
        r = db_fail(st, err, "upgrade");
        goto out;
    }
    if (sqlite3_changes(st->db) != 1) {
        StoreCar c;
        r = store_car_get(st, user_id, car_id, &c, err);
        if (!r) r = cr_fail(err, STORE_ECONFLICT, "the car changed; try again");
        goto out;
    }
    if ((r = pay(st, user_id, cost, points_after, err))) goto out;
    r = commit(st, err);
out:
    if (r) rollback(st);
    return r;
}

/* ---- bots --------------------------------------------------------------- */

static void read_bot(sqlite3_stmt *s, StoreBot *b) {
    b->id = sqlite3_column_int64(s, 0);
    b->user_id = sqlite3_column_int64(s, 1);
    copy_text(b->name, sizeof b->name, s, 2);
    b->version = sqlite3_column_int(s, 3);
    b->created_at = sqlite3_column_int64(s, 4);
    b->updated_at = sqlite3_column_int64(s, 5);
    b->code = NULL;
}

static int add_version(Store *st, int64_t bot_id, int version, const char *code, CrError *err) {
    sqlite3_stmt *s =
        stmt(st, "INSERT INTO bot_versions(bot_id, version, code) VALUES (?1, ?2, ?3)", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_int(s, 2, version);
    sqlite3_bind_text(s, 3, code, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "save bot version");
    return 0;
}

static int bot_row(Store *st, int64_t user_id, int64_t bot_id, StoreBot *out, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "SELECT id, user_id, name, version, created_at, updated_at FROM bots "
                           "WHERE id = ?1 AND user_id = ?2",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_int64(s, 2, user_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such bot");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get bot");
    read_bot(s, out);
    sqlite3_reset(s);
    return 0;
}

int store_bot_create(Store *st, int64_t user_id, const char *name, const char *code, StoreBot *out,
                     CrError *err) {
    int r = begin(st, err);
    if (r) return r;
    sqlite3_stmt *s =
        stmt(st, "INSERT INTO bots(user_id, name, code, version) VALUES (?1, ?2, ?3, 1)", err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, code, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) {
        r = db_fail(st, err, "create bot");
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if ((r = add_version(st, id, 1, code, err))) goto out;
    if ((r = bot_row(st, user_id, id, out, err))) goto out;
    r = commit(st, err);
out:
    if (r) rollback(st);
    return r;
}

int store_bot_update(Store *st, int64_t user_id, int64_t bot_id, const char *name, const char *code,
                     StoreBot *out, CrError *err) {
    int r = begin(st, err);
    if (r) return r;
    StoreBot cur;
    if ((r = bot_row(st, user_id, bot_id, &cur, err))) goto out;
    sqlite3_stmt *s = stmt(st,
                           "UPDATE bots SET name = COALESCE(?3, name), code = ?4, version = ?5, "
                           "updated_at = CAST(strftime('%s', 'now') AS INTEGER) "
                           "WHERE id = ?1 AND user_id = ?2",
                           err);
    if (!s) {
        r = STORE_EDB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_int64(s, 2, user_id);
    if (name)
        sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 3);
    sqlite3_bind_text(s, 4, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, cur.version + 1);
    if (sqlite3_step(s) != SQLITE_DONE) {
        r = db_fail(st, err, "update bot");
        goto out;
    }
    if ((r = add_version(st, bot_id, cur.version + 1, code, err))) goto out;
    if ((r = bot_row(st, user_id, bot_id, out, err))) goto out;
    r = commit(st, err);
out:
    if (r) rollback(st);
    return r;
}

int store_bots_list(Store *st, int64_t user_id, StoreBot *out, size_t cap, size_t *n,
                    CrError *err) {
    *n = 0;
    sqlite3_stmt *s = stmt(st,
                           "SELECT id, user_id, name, version, created_at, updated_at FROM bots "
                           "WHERE user_id = ?1 ORDER BY id",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) read_bot(s, &out[(*n)++]);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "list bots");
    return 0;
}

int store_bot_get(Store *st, int64_t user_id, int64_t bot_id, int version, StoreBot *out,
                  CrError *err) {
    int r = bot_row(st, user_id, bot_id, out, err);
    if (r) return r;
    int want = version > 0 ? version : out->version;
    sqlite3_stmt *s = stmt(
        st, "SELECT code, created_at FROM bot_versions WHERE bot_id = ?1 AND version = ?2", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_int(s, 2, want);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such version");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get bot version");
    const unsigned char *t = sqlite3_column_text(s, 0);
    out->code = strdup(t ? (const char *)t : "");
    if (version > 0) out->created_at = sqlite3_column_int64(s, 1);
    out->version = want;
    sqlite3_reset(s);
    if (!out->code) return cr_fail(err, CR_ENOMEM, "out of memory");
    return 0;
}

int store_bot_versions(Store *st, int64_t user_id, int64_t bot_id, int *versions,
                       int64_t *created_at, size_t cap, size_t *n, CrError *err) {
    *n = 0;
    StoreBot b;
    int r = bot_row(st, user_id, bot_id, &b, err);
    if (r) return r;
    sqlite3_stmt *s = stmt(st,
                           "SELECT version, created_at FROM bot_versions WHERE bot_id = ?1 "
                           "ORDER BY version",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
        versions[*n] = sqlite3_column_int(s, 0);
        created_at[*n] = sqlite3_column_int64(s, 1);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "list versions");
    return 0;
}

int store_bot_delete(Store *st, int64_t user_id, int64_t bot_id, CrError *err) {
    sqlite3_stmt *s = stmt(st, "DELETE FROM bots WHERE id = ?1 AND user_id = ?2", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_int64(s, 2, user_id);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "delete bot");
    if (sqlite3_changes(st->db) != 1) return cr_fail(err, CR_ENOTFOUND, "no such bot");
    return 0;
}

int store_bot_state_set(Store *st, int64_t bot_id, const char *json, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "INSERT INTO bot_state(bot_id, state_json) VALUES (?1, ?2) "
                           "ON CONFLICT(bot_id) DO UPDATE SET state_json = excluded.state_json, "
                           "updated_at = CAST(strftime('%s', 'now') AS INTEGER)",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    sqlite3_bind_text(s, 2, json, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) return cr_fail(err, CR_ENOTFOUND, "no such bot");
    if (rc != SQLITE_DONE) return db_fail(st, err, "save bot state");
    return 0;
}

/* The text of column 0 of the bound statement's one row, strdup'd into
 * *out (NULL when there is no row or it is NULL); what names the query in
 * errors. */
static int step_text(Store *st, sqlite3_stmt *s, char **out, const char *what, CrError *err) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return db_fail(st, err, what);
    const unsigned char *t = sqlite3_column_text(s, 0);
    if (t && !(*out = strdup((const char *)t))) {
        sqlite3_reset(s);
        return cr_fail(err, CR_ENOMEM, "out of memory");
    }
    sqlite3_reset(s);
    return 0;
}

int store_bot_state_get(Store *st, int64_t bot_id, char **json, CrError *err) {
    *json = NULL;
    sqlite3_stmt *s = stmt(st, "SELECT state_json FROM bot_state WHERE bot_id = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, bot_id);
    return step_text(st, s, json, "get bot state", err);
}

/* ---- races -------------------------------------------------------------- */

#define RACE_COLS                                                                               \
    "r.id, r.generator, r.seed, r.params_json, r.rules, r.status, r.ladder, r.created_at, "     \
    "COALESCE(r.started_at, 0), COALESCE(r.finished_at, 0), "                                   \
    "(SELECT COUNT(*) FROM race_results x WHERE x.race_id = r.id), COALESCE(length(r.replay), " \
    "0), "                                                                                      \
    "COALESCE(r.max_cars, 0), COALESCE(r.ai_fill, 0)"

static void read_race(sqlite3_stmt *s, StoreRace *r) {
    copy_text(r->id, sizeof r->id, s, 0);
    copy_text(r->generator, sizeof r->generator, s, 1);
    r->seed = (uint64_t)sqlite3_column_int64(s, 2);
    copy_text(r->params_json, sizeof r->params_json, s, 3);
    copy_text(r->rules, sizeof r->rules, s, 4);
    copy_text(r->status, sizeof r->status, s, 5);
    r->ladder = sqlite3_column_int(s, 6) != 0;
    r->created_at = sqlite3_column_int64(s, 7);
    r->started_at = sqlite3_column_int64(s, 8);
    r->finished_at = sqlite3_column_int64(s, 9);
    r->n_results = sqlite3_column_int(s, 10);
    r->replay_bytes = sqlite3_column_int64(s, 11);
    r->max_cars = sqlite3_column_int(s, 12);
    r->ai_fill = sqlite3_column_int(s, 13) != 0;
}

int store_race_create(Store *st, const StoreRace *race, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "INSERT INTO races(id, generator, seed, params_json, rules, status, "
                           "ladder, max_cars, ai_fill) VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, "
                           "NULLIF(?7, 0), ?8)",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, race->generator, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, (int64_t)race->seed);
    sqlite3_bind_text(s, 4, race->params_json[0] ? race->params_json : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, race->rules, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 6, race->ladder);
    sqlite3_bind_int(s, 7, race->max_cars);
    sqlite3_bind_int(s, 8, race->ai_fill);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) return cr_fail(err, STORE_ECONFLICT, "race id taken");
    if (rc != SQLITE_DONE) return db_fail(st, err, "create race");
    return 0;
}

int store_race_start(Store *st, const char *race_id, int64_t now, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "UPDATE races SET status = 'running', started_at = ?2 "
                           "WHERE id = ?1 AND status = 'open'",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, now);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "start race");
    if (sqlite3_changes(st->db) != 1) return cr_fail(err, CR_ENOTFOUND, "no open race %s", race_id);
    return 0;
}

static int end_race(Store *st, const char *race_id, const char *status, int64_t now,
                    const void *replay, size_t replay_len, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "UPDATE races SET status = ?2, finished_at = ?3, replay = ?4 "
                           "WHERE id = ?1 AND status IN ('open', 'running')",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if (replay && replay_len)
        sqlite3_bind_blob64(s, 4, replay, replay_len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 4);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "end race");
    if (sqlite3_changes(st->db) != 1)
        return cr_fail(err, CR_ENOTFOUND, "no open or running race %s", race_id);
    return 0;
}

/* The bots of a finished race rated against each other (per bot version),
 * inside the caller's transaction. Finishers rank by position; DNFs tie
 * for last. Fewer than two bots: nothing to rate. */
static int rate_bots(Store *st, const StoreRaceResult *results, size_t n, CrError *err) {
    Rating rt[RATING_MAX_ENTRANTS];
    int rank[RATING_MAX_ENTRANTS];
    const StoreRaceResult *who[RATING_MAX_ENTRANTS];
    int nb = 0;
    for (size_t i = 0; i < n && nb < RATING_MAX_ENTRANTS; i++)
        if (results[i].bot_id) who[nb++] = &results[i];
    if (nb < 2) return 0;
    for (int i = 0; i < nb; i++) {
        rank[i] = 1;
        for (int k = 0; k < nb; k++)
            if (!who[i]->dnf && !who[k]->dnf && who[k]->position < who[i]->position) rank[i]++;
        if (who[i]->dnf) rank[i] = nb;
        rt[i] = (Rating){RATING_MU, RATING_SIGMA};
        sqlite3_stmt *s =
            stmt(st, "SELECT mu, sigma FROM bot_ratings WHERE bot_id = ?1 AND version = ?2", err);
        if (!s) return STORE_EDB;
        sqlite3_bind_int64(s, 1, who[i]->bot_id);
        sqlite3_bind_int(s, 2, who[i]->bot_version);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            rt[i] = (Rating){sqlite3_column_double(s, 0), sqlite3_column_double(s, 1)};
        sqlite3_reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "read rating");
    }
    rating_update(rt, rank, nb);
    for (int i = 0; i < nb; i++) {
        sqlite3_stmt *s = stmt(st,
                               "INSERT INTO bot_ratings(bot_id, version, mu, sigma, races) "
                               "VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT(bot_id, version) DO UPDATE "
                               "SET mu = excluded.mu, sigma = excluded.sigma, races = races + 1",
                               err);
        if (!s) return STORE_EDB;
        sqlite3_bind_int64(s, 1, who[i]->bot_id);
        sqlite3_bind_int(s, 2, who[i]->bot_version);
        sqlite3_bind_double(s, 3, rt[i].mu);
        sqlite3_bind_double(s, 4, rt[i].sigma);
        int rc = sqlite3_step(s);
        /* A bot deleted during its race is not rated. */
        if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT) return db_fail(st, err, "save rating");
    }
    return 0;
}

int store_race_finish(Store *st, const char *race_id, int64_t now, const StoreRaceResult *results,
                      size_t n, const StoreBotMemory *memories, size_t n_mem, const void *replay,
                      size_t replay_len, CrError *err) {
    int r = begin(st, err);
    if (r) return r;
    if ((r = end_race(st, race_id, "finished", now, replay, replay_len, err))) goto out;
    for (size_t i = 0; i < n; i++) {
        const StoreRaceResult *x = &results[i];
        /* A bot (or car, or account) that raced may be gone by the finish:
         * its owner can delete a bot mid-race. Its row then says NULL there,
         * as ON DELETE SET NULL would have made it had the delete come a
         * moment later; the driver, the owner and the bot version stay.
         * Binding the id as it is would fail the foreign key and lose every
         * car's result. Bot ids are never reused (migration 004) and the
         * server deletes no account or car, so an id that exists is still
         * the one that raced. */
        sqlite3_stmt *s = stmt(st,
                               "INSERT INTO race_results(race_id, user_id, car_id, bot_id, "
                               "bot_version, driver, position, stage_time, dnf, points_earned, "
                               "dnf_reason) VALUES (?1, (SELECT id FROM users WHERE id = ?2), "
                               "(SELECT id FROM cars WHERE id = ?3), "
                               "(SELECT id FROM bots WHERE id = ?4), ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                               err);
        if (!s) {
            r = STORE_EDB;
            goto out;
        }
        sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
        if (x->user_id)
            sqlite3_bind_int64(s, 2, x->user_id);
        else
            sqlite3_bind_null(s, 2);
        if (x->car_id)
            sqlite3_bind_int64(s, 3, x->car_id);
        else
            sqlite3_bind_null(s, 3);
        if (x->bot_id)
            sqlite3_bind_int64(s, 4, x->bot_id);
        else
            sqlite3_bind_null(s, 4);
        if (x->bot_id)
            sqlite3_bind_int(s, 5, x->bot_version);
        else
            sqlite3_bind_null(s, 5);
        sqlite3_bind_text(s, 6, x->driver, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 7, x->position);
        if (x->dnf)
            sqlite3_bind_null(s, 8);
        else
            sqlite3_bind_double(s, 8, x->stage_time);
        sqlite3_bind_int(s, 9, x->dnf);
        sqlite3_bind_int(s, 10, x->points);
        if (x->dnf && x->dnf_reason[0])
            sqlite3_bind_text(s, 11, x->dnf_reason, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, 11);
        if (sqlite3_step(s) != SQLITE_DONE) {
            r = db_fail(st, err, "save result");
            goto out;
        }
        if (x->user_id && x->points) {
            s = stmt(st, "UPDATE users SET points = points + ?2 WHERE id = ?1", err);
            if (!s) {
                r = STORE_EDB;
                goto out;
            }
            sqlite3_bind_int64(s, 1, x->user_id);
            sqlite3_bind_int(s, 2, x->points);
            if (sqlite3_step(s) != SQLITE_DONE) {
                r = db_fail(st, err, "award points");
                goto out;
            }
        }
    }
    if ((r = rate_bots(st, results, n, err))) goto out;
    for (size_t i = 0; i < n_mem; i++) {
        if (!memories[i].json) continue;
        r = store_bot_state_set(st, memories[i].bot_id, memories[i].json, err);
        /* A bot deleted during its race has nowhere to keep its memory. */
        if (r == CR_ENOTFOUND) r = 0;
        if (r) goto out;
    }
    r = commit(st, err);
out:
    if (r) rollback(st);
    return r;
}

int store_race_abort(Store *st, const char *race_id, int64_t now, CrError *err) {
    return end_race(st, race_id, "aborted", now, NULL, 0, err);
}

int store_races_abort_unfinished(Store *st, int64_t now, int *n, CrError *err) {
    sqlite3_stmt *s = stmt(st,
                           "UPDATE races SET status = 'aborted', finished_at = ?1 "
                           "WHERE status IN ('open', 'running')",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, now);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "abort races");
    if (n) *n = sqlite3_changes(st->db);
    return 0;
}

int store_race_get(Store *st, const char *race_id, StoreRace *out, CrError *err) {
    sqlite3_stmt *s = stmt(st, "SELECT " RACE_COLS " FROM races r WHERE r.id = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such race");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get race");
    read_race(s, out);
    sqlite3_reset(s);
    return 0;
}

int store_races_list(Store *st, const char *status, StoreRace *out, size_t cap, size_t *n,
                     CrError *err) {
    *n = 0;
    sqlite3_stmt *s = stmt(st,
                           "SELECT " RACE_COLS
                           " FROM races r WHERE (?1 IS NULL OR r.status = ?1) "
                           "ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?2",
                           err);
    if (!s) return STORE_EDB;
    if (status)
        sqlite3_bind_text(s, 1, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 1);
    sqlite3_bind_int64(s, 2, (int64_t)cap);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) read_race(s, &out[(*n)++]);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "list races");
    return 0;
}

int store_race_results(Store *st, const char *race_id, StoreRaceResult *out, size_t cap, size_t *n,
                       CrError *err) {
    *n = 0;
    sqlite3_stmt *s = stmt(st,
                           "SELECT COALESCE(x.user_id, 0), COALESCE(x.car_id, 0), "
                           "COALESCE(x.bot_id, 0), COALESCE(x.bot_version, 0), x.driver, "
                           "COALESCE(u.username, ''), x.position, COALESCE(x.stage_time, 0), "
                           "x.dnf, x.points_earned, COALESCE(x.dnf_reason, '') FROM race_results x "
                           "LEFT JOIN users u ON u.id = x.user_id WHERE x.race_id = ?1 "
                           "ORDER BY x.position, x.id",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
        StoreRaceResult *x = &out[(*n)++];
        x->user_id = sqlite3_column_int64(s, 0);
        x->car_id = sqlite3_column_int64(s, 1);
        x->bot_id = sqlite3_column_int64(s, 2);
        x->bot_version = sqlite3_column_int(s, 3);
        copy_text(x->driver, sizeof x->driver, s, 4);
        copy_text(x->username, sizeof x->username, s, 5);
        x->position = sqlite3_column_int(s, 6);
        x->stage_time = sqlite3_column_double(s, 7);
        x->dnf = sqlite3_column_int(s, 8) != 0;
        x->points = sqlite3_column_int(s, 9);
        copy_text(x->dnf_reason, sizeof x->dnf_reason, s, 10);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "race results");
    return 0;
}

int store_race_replay(Store *st, const char *race_id, void **data, size_t *len, CrError *err) {
    *data = NULL;
    *len = 0;
    sqlite3_stmt *s = stmt(st, "SELECT replay FROM races WHERE id = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return cr_fail(err, CR_ENOTFOUND, "no such race");
    if (rc != SQLITE_ROW) return db_fail(st, err, "get replay");
    int bytes = sqlite3_column_bytes(s, 0);
    if (bytes <= 0) {
        sqlite3_reset(s);
        return cr_fail(err, CR_ENOTFOUND, "this race has no replay");
    }
    *data = malloc((size_t)bytes);
    if (*data) {
        memcpy(*data, sqlite3_column_blob(s, 0), (size_t)bytes);
        *len = (size_t)bytes;
    }
    sqlite3_reset(s);
    return *data ? 0 : cr_fail(err, CR_ENOMEM, "out of memory");
}

int store_race_rules_numbers_get(Store *st, const char *race_id, uint64_t key, char **json,
                                 CrError *err) {
    *json = NULL;
    sqlite3_stmt *s = stmt(st,
                           "SELECT rules_numbers FROM races WHERE id = ?1 AND "
                           "rules_numbers_key = ?2",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, (int64_t)key);
    return step_text(st, s, json, "get rules numbers", err);
}

int store_race_rules_numbers_set(Store *st, const char *race_id, uint64_t key, const char *json,
                                 CrError *err) {
    sqlite3_stmt *s =
        stmt(st, "UPDATE races SET rules_numbers = ?2, rules_numbers_key = ?3 WHERE id = ?1", err);
    if (!s) return STORE_EDB;
    sqlite3_bind_text(s, 1, race_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, (int64_t)key);
    if (sqlite3_step(s) != SQLITE_DONE) return db_fail(st, err, "keep rules numbers");
    return 0;
}

/* ---- leaderboard -------------------------------------------------------- */

int store_leaderboard_bots(Store *st, StoreBotRank *out, size_t cap, size_t *n, CrError *err) {
    *n = 0;
    sqlite3_stmt *s = stmt(st,
                           "SELECT br.bot_id, br.version, b.name, u.username, br.mu, br.sigma, "
                           "br.races FROM bot_ratings br JOIN bots b ON b.id = br.bot_id "
                           "JOIN users u ON u.id = b.user_id "
                           "ORDER BY br.mu - 3 * br.sigma DESC, br.races DESC, br.bot_id, "
                           "br.version LIMIT ?1",
                           err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, (int64_t)cap);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
        StoreBotRank *b = &out[*n];
        b->rank = (int)*n + 1;
        b->bot_id = sqlite3_column_int64(s, 0);
        b->version = sqlite3_column_int(s, 1);
        copy_text(b->name, sizeof b->name, s, 2);
        copy_text(b->owner, sizeof b->owner, s, 3);
        b->mu = sqlite3_column_double(s, 4);
        b->sigma = sqlite3_column_double(s, 5);
        b->races = sqlite3_column_int(s, 6);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "bot leaderboard");
    return 0;
}

int store_leaderboard_players(Store *st, StorePlayerRank *out, size_t cap, size_t *n,
                              CrError *err) {
    *n = 0;
    sqlite3_stmt *s =
        stmt(st,
             "SELECT u.username, u.points, "
             "(SELECT COUNT(DISTINCT race_id) FROM race_results r WHERE r.user_id = u.id), "
             "(SELECT COUNT(*) FROM race_results r WHERE r.user_id = u.id "
             "AND r.position = 1 AND NOT r.dnf) "
             "FROM users u ORDER BY u.points DESC, u.id LIMIT ?1",
             err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, (int64_t)cap);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
        StorePlayerRank *p = &out[*n];
        p->rank = (int)*n + 1;
        copy_text(p->username, sizeof p->username, s, 0);
        p->points = sqlite3_column_int64(s, 1);
        p->races = sqlite3_column_int(s, 2);
        p->wins = sqlite3_column_int(s, 3);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "leaderboard");
    return 0;
}

int store_ladder_bots(Store *st, StoreLadderBot *out, size_t cap, size_t *n, CrError *err) {
    *n = 0;
    sqlite3_stmt *s =
        stmt(st,
             "SELECT b.id, b.user_id, b.version, COALESCE(br.mu, 25.0), "
             "COALESCE(br.sigma, 25.0 / 3.0), COALESCE(br.races, 0) FROM bots b "
             "LEFT JOIN bot_ratings br ON br.bot_id = b.id AND br.version = b.version "
             "ORDER BY COALESCE(br.races, 0), b.updated_at DESC, b.id LIMIT ?1",
             err);
    if (!s) return STORE_EDB;
    sqlite3_bind_int64(s, 1, (int64_t)cap);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
        StoreLadderBot *b = &out[*n];
        b->bot_id = sqlite3_column_int64(s, 0);
        b->user_id = sqlite3_column_int64(s, 1);
        b->version = sqlite3_column_int(s, 2);
        b->mu = sqlite3_column_double(s, 3);
        b->sigma = sqlite3_column_double(s, 4);
        b->races = sqlite3_column_int(s, 5);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(st, err, "ladder bots");
    return 0;
}
