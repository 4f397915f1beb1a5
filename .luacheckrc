-- Scripts run in the host's sandbox (cengine/lua/lhost.c): Lua 5.4 with an
-- allow-list of builtins plus the host's `rally` table and `import`
-- (shared modules from scripts/lib/), and no globals of their own. Specs run
-- under busted.
std = "lua54"
max_line_length = 110

files["scripts/"] = {
    std = "none",
    read_globals = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber",
        "tostring", "type", "rawequal", "rawlen", "rawget", "setmetatable", "getmetatable",
        "unpack", "print", "math", "string", "table", "utf8", "rally", "import",
    },
}
-- surfaces.lua runs in a state of its own with one builtin, surface{}.
files["scripts/surfaces.lua"] = { std = "none", read_globals = { "surface" } }
files["tests/lua/"] = { std = "+busted" }
-- The newcomer test's scripts folder (tests/integration/newcomer/) is a modder's.
files["tests/integration/newcomer/scripts/"] = files["scripts/"]
files["tests/integration/newcomer/scripts/surfaces.lua"] = files["scripts/surfaces.lua"]
