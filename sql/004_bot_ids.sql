-- Bot ids are never used twice. Without AUTOINCREMENT SQLite hands a new
-- bot the id of the newest bot if that one was deleted; a race that bot
-- was in when its owner deleted it would then record its results, rating
-- and memory against someone else's new bot. The table is rebuilt (the
-- migration runs with foreign keys off and is checked before it commits;
-- the tables that reference bots keep their rows, ids unchanged).
CREATE TABLE bots_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    code       TEXT NOT NULL, -- the latest version's code, as in the seed
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
INSERT INTO bots_new(id, user_id, name, code, version, created_at, updated_at)
    SELECT id, user_id, name, code, version, created_at, updated_at FROM bots;
DROP TABLE bots;
ALTER TABLE bots_new RENAME TO bots;
CREATE INDEX bots_user ON bots(user_id);
