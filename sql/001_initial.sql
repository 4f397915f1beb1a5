-- The seed's tables (users, cars, bots, bot_state, race_results) plus
-- sessions, bot versions, races with their replay and bot ratings.
-- Times are Unix seconds. Car upgrade columns hold upgrade LEVELS (0 = stock);
-- the stats they give come from scripts/upgrades.lua.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    points        INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    created_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TABLE cars (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    car_type       TEXT NOT NULL,
    name           TEXT,
    top_speed      INTEGER NOT NULL DEFAULT 0 CHECK (top_speed >= 0),
    acceleration   INTEGER NOT NULL DEFAULT 0 CHECK (acceleration >= 0),
    grip           INTEGER NOT NULL DEFAULT 0 CHECK (grip >= 0),
    braking        INTEGER NOT NULL DEFAULT 0 CHECK (braking >= 0),
    nitro_capacity INTEGER NOT NULL DEFAULT 0 CHECK (nitro_capacity >= 0),
    nitro_duration INTEGER NOT NULL DEFAULT 0 CHECK (nitro_duration >= 0),
    handling       INTEGER NOT NULL DEFAULT 0 CHECK (handling >= 0),
    weight         INTEGER NOT NULL DEFAULT 0 CHECK (weight >= 0),
    unlocked_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    UNIQUE (user_id, car_type)
);

CREATE TABLE bots (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    code       TEXT NOT NULL, -- the latest version's code, as in the seed
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX bots_user ON bots(user_id);

CREATE TABLE bot_versions (
    bot_id     INTEGER NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    code       TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    PRIMARY KEY (bot_id, version)
);

CREATE TABLE bot_state (
    bot_id     INTEGER PRIMARY KEY REFERENCES bots(id) ON DELETE CASCADE,
    state_json TEXT,
    updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TABLE sessions (
    selector      TEXT PRIMARY KEY,          -- public half of the token (hex)
    verifier_hash BLOB NOT NULL,             -- BLAKE2b-256 of the secret half
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE races (
    id          TEXT PRIMARY KEY,
    generator   TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    params_json TEXT NOT NULL DEFAULT '{}',
    rules       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'running', 'finished', 'aborted')),
    ladder      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    started_at  INTEGER,
    finished_at INTEGER,
    replay      BLOB
);
CREATE INDEX races_status ON races(status, created_at);

CREATE TABLE race_results (
    id            INTEGER PRIMARY KEY,
    race_id       TEXT NOT NULL REFERENCES races(id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    car_id        INTEGER REFERENCES cars(id) ON DELETE SET NULL,
    bot_id        INTEGER REFERENCES bots(id) ON DELETE SET NULL,
    bot_version   INTEGER,
    driver        TEXT NOT NULL DEFAULT 'human' CHECK (driver IN ('human', 'bot', 'ai')),
    position      INTEGER,
    stage_time    REAL,
    dnf           BOOLEAN NOT NULL DEFAULT FALSE,
    points_earned INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX race_results_race ON race_results(race_id);
CREATE INDEX race_results_user ON race_results(user_id);

-- Multi-car rating (Weng-Lin / OpenSkill style) per bot version.
CREATE TABLE bot_ratings (
    bot_id  INTEGER NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    mu      REAL NOT NULL DEFAULT 25.0,
    sigma   REAL NOT NULL DEFAULT 8.333333333333334,
    races   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot_id, version)
);

CREATE INDEX users_points ON users(points DESC, id);
