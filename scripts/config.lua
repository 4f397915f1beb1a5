-- Settings with the product design's defaults. Every key can be overridden
-- by an environment variable CODERALLY_<KEY> or by `--set KEY=VALUE`; the
-- type of the default here is the type an override must have.
return {
    -- Server
    HOST = "0.0.0.0",
    PORT = 8000,
    MAX_CONCURRENT_PLAYERS = 8,
    -- A WebSocket quiet this long gets a ping; one that has not answered
    -- within as long again (gone, or not reading) is closed.
    WS_PING_S = 30,

    -- Game (the engine fixes both rates; they are here so tools can read them)
    TICK_RATE = 60,     -- Hz
    BOT_TICK_RATE = 20, -- Hz: bots are called every 3rd tick

    -- Stage generation
    STAGE_MIN_LENGTH = 1000, -- units
    STAGE_MAX_LENGTH = 3000, -- units

    -- Bot sandbox
    BOT_MEMORY_LIMIT_MB = 50,
    BOT_EXECUTION_TIMEOUT_MS = 10,

    -- Races
    DEFAULT_RULES = "standard",
    DEFAULT_CAR = "hatch",
    -- Rooms: an open room with no seat taken or held for this long closes
    -- (lobby.lua's terminate gets "expired"); one player may have at most
    -- this many open rooms they opened (POST /api/races answers 429).
    EMPTY_ROOM_TIMEOUT_S = 300,
    MAX_OPEN_ROOMS_PER_USER = 3,

    -- The background ladder that races saved bots against each other for
    -- their ratings: the share of one core it may use (0 = off).
    LADDER_CPU_SHARE = 0.25,

    -- Accounts: points a new player starts with (the starter car is DEFAULT_CAR)
    STARTING_POINTS = 1000,

    -- Database
    DATABASE_URL = "sqlite:///./coderally.db",
}
