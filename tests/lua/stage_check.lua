--[[
stage_check.lua - runs stage generators the way the host does and checks
every stage against the host's ten rules, without building the engine.

    lua5.4 tests/lua/stage_check.lua [options] GENERATOR.lua... [N]

runs seeds 1..N (default 200) of each generator, plus a few edge seeds
(0, -1 and the integer extremes: the host passes uint64 seeds as Lua
integers), under five parameter profiles: the declared defaults, every
param at its minimum, every param at its maximum, random values (mixed)
and random picks of min or max (extremes). Per generator and profile it
prints how many seeds passed and the shape of what came out, then the
first failure: seed, params, rule, point index and coordinates. Exit
status 1 on any failure.

Options:
    --from S            first seed (default 1)
    --no-edge-seeds     only 1..N
    --profiles L        comma list (default default,min,max,mixed,extremes)
    --limit KEY=VALUE   change a rally.limits value (repeatable), to try a
                        generator under another config
    --budget I          instruction budget per generation (default 20000000;
                        the host allows more, but a generator should not need it)
    --svg DIR           draw the first stages of each profile as SVG files
    --svg-count K       how many per profile (default 4)

As a module (with tests/lua on package.path):
    M.LIMITS, M.SURFACES        the host's defaults
    M.rng(seed)                 the host's rng (xoshiro256** seeded through
                                splitmix64, as cengine/util/rng.c): the same
                                seed gives the same stage here and in the game
    M.env(limits, dir)          a sandbox _ENV like the host's; dir is the
                                scripts directory import() loads lib/NAME.lua
                                from (default "scripts")
    M.load(path, limits)        the generator table, or nil and a message;
                                import() reads <dir of path>/../lib/NAME.lua
    M.describe(gen, path)       nil, or what is wrong with the generator table
    M.params(gen, profile, rng) a params table for a profile
    M.generate(path, seed, params, limits, budget)
                                stage and {ms, instructions, kib}, or nil and
                                a message; each call loads the file afresh,
                                as the host does
    M.validate(stage, limits)   nil, or the first failure
                                {rule, msg, index, x, y}
    M.measure(stage)            length, widths, surface shares and runs,
                                hairpins
    M.svg(stage, title, limits) an SVG drawing

The sandbox follows cengine/lua/lhost.c and cengine/lua/scripts.c: the
allow-listed base functions (no xpcall; setmetatable refuses __gc), math
without random/randomseed, string without dump, table, utf8, print,
unpack, rally = { rng, limits, surfaces } and import(name), which runs
lib/NAME.lua once per load in its own sandbox and hands out its table
read-only; library tables are read-only, and reading an unknown global or
assigning any global is an error. The checks follow
cengine/stage/validate.c, stricter wherever the contract leaves room (which
end of a segment gives its width, how the start grid is measured).
]]

local M = {}

local abs, min, max, floor = math.abs, math.min, math.max, math.floor
local sqrt, atan, pi, huge = math.sqrt, math.atan, math.pi, math.huge

M.LIMITS = {
    min_length = 1000, max_length = 3000,
    min_width = 6, max_width = 40,
    verge = 5, car_width = 2,
    min_spacing = 1, max_spacing = 25,
    max_turn = math.rad(45),
    checkpoint_gap = 50, grid_length = 64, max_checkpoints = 64,
}
M.SURFACES = { "asphalt", "gravel", "ice" }

local MAX_POINTS = 20000
local MAX_COORD = 100000
local GRID_WIDTH = 10
local GRID_TURN = math.rad(10)

-- ---- the host's random numbers -------------------------------------------

local function rotl(x, k)
    return (x << k) | (x >> (64 - k))
end

-- a mod b, both read as unsigned 64-bit integers; b ~= 0.
local function umod(a, b)
    if b < 0 then
        if math.ult(a, b) then return a end
        return a - b
    end
    if a >= 0 then return a % b end
    local r = a - (((a >> 1) // b) << 1) * b
    while not math.ult(r, b) do r = r - b end
    return r
end

local RNG = {}
RNG.__index = RNG
RNG.__metatable = "locked"

local function next64(r)
    local s = r.s
    local result = rotl(s[2] * 5, 7) * 9
    local t = s[2] << 17
    s[3] = s[3] ~ s[1]
    s[4] = s[4] ~ s[2]
    s[2] = s[2] ~ s[3]
    s[1] = s[1] ~ s[4]
    s[3] = s[3] ~ t
    s[4] = rotl(s[4], 45)
    return result
end

local function float53(r)
    return (next64(r) >> 11) * 0x1p-53
end

-- Argument checks as luaL_checkudata / checknumber / checkinteger make them.
local function check_rng(r)
    if type(r) ~= "table" or getmetatable(r) ~= "locked" or not rawget(r, "s") then
        error("bad argument #1 (coderally.rng expected; call methods with ':')", 3)
    end
end

local function check_number(v, i)
    if type(v) ~= "number" then
        error(("bad argument #%d (number expected, got %s)"):format(i, type(v)), 3)
    end
    return v
end

local function check_integer(v, i)
    local n = math.tointeger(check_number(v, i))
    if not n then
        error(("bad argument #%d (number has no integer representation)"):format(i), 3)
    end
    return n
end

function RNG.float(r)
    check_rng(r)
    return float53(r)
end

function RNG.range(r, a, b)
    check_rng(r)
    a, b = check_number(a, 2), check_number(b, 3)
    return a + (b - a) * float53(r)
end

function RNG.int(r, a, b)
    check_rng(r)
    a, b = check_integer(a, 2), check_integer(b, 3)
    if a > b then error("bad argument #3 (empty interval)", 2) end
    local span = b - a + 1
    if span == 0 then return next64(r) end
    -- Rejection sampling, as rng_int does, so every value is equally likely.
    local limit = -1 - umod(-1, span)
    local v
    repeat v = next64(r) until math.ult(v, limit)
    return a + umod(v, span)
end

function RNG.chance(r, p)
    check_rng(r)
    return float53(r) < check_number(p, 2)
end

function M.rng(seed)
    local x = math.tointeger(seed)
    if not x then error("bad argument #1 (seed must be an integer)", 2) end
    local s = {}
    for i = 1, 4 do
        x = x + 0x9e3779b97f4a7c15
        local z = x
        z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
        z = (z ~ (z >> 27)) * 0x94d049bb133111eb
        s[i] = z ~ (z >> 31)
    end
    return setmetatable({ s = s }, RNG)
end

-- ---- the sandbox ----------------------------------------------------------

-- A read-only view of a copy of t (nested tables too), like the host's
-- frozen tables. The copy is raw, as lhost_push_frozen's: a table that is
-- itself a read-only view (another module, rally.limits) comes out empty.
local function frozen(t)
    local copy = {}
    for k, v in next, t do copy[k] = type(v) == "table" and frozen(v) or v end
    return setmetatable({}, {
        __index = copy,
        __newindex = function(_, k)
            error(("attempt to modify read-only table (field '%s')"):format(tostring(k)), 2)
        end,
        __pairs = function() return next, copy, nil end,
        __len = function() return #copy end,
        __metatable = "locked",
    })
end

-- No xpcall: the host leaves it out (its handler would run with the
-- instruction-budget hook off). setmetatable is wrapped below.
local BASE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "select",
               "tonumber", "tostring", "type", "rawequal", "rawlen", "rawget",
               "getmetatable", "print" }

-- setmetatable without __gc: finalizers would run with the hook off too.
local function safe_setmetatable(t, mt)
    if type(mt) == "table" and mt.__gc ~= nil then
        error("__gc metamethods are not allowed in scripts", 2)
    end
    return setmetatable(t, mt)
end

local function without(lib, drop)
    local t = {}
    for k, v in pairs(lib) do
        if not drop[k] then t[k] = v end
    end
    return t
end

-- A fresh _ENV over builtins: reading an unknown global or assigning any
-- global is an error, as in the host.
local function new_env(builtins)
    return setmetatable({}, {
        __index = function(_, k)
            local v = builtins[k]
            if v == nil then error(("unknown global '%s'"):format(tostring(k)), 2) end
            return v
        end,
        __newindex = function(_, k)
            error(("assignment to undeclared global '%s' (declare it local)"):format(tostring(k)),
                  2)
        end,
    })
end

local function read_source(path)
    local f, err = io.open(path, "rb")
    if not f then return nil, err end
    local src = f:read("a")
    f:close()
    return src
end

-- import(name) as scripts.c's lua_import: scripts/lib/NAME.lua, run once
-- per state (here: per env, i.e. per load) in its own _ENV, its table
-- handed out read-only; a cycle is an error.
local function new_import(dir, builtins)
    local cache = {}
    return function(name)
        if type(name) ~= "string" and type(name) ~= "number" then
            error(("bad argument #1 to 'import' (string expected, got %s)"):format(type(name)), 2)
        end
        name = tostring(name)
        if #name < 1 or #name > 31 or name:find("[^a-z0-9_%-]") then
            error(("import: bad module name '%s' (a-z, 0-9, _ and -)"):format(name), 0)
        end
        local v = cache[name]
        if v == false then error(("import: '%s' imports itself"):format(name), 0) end
        if v ~= nil then return v end
        cache[name] = false -- loading: catches cycles
        local path = ("%s/lib/%s.lua"):format(dir, name)
        local src, err = read_source(path)
        if not src then error(err, 0) end
        local chunk
        chunk, err = load(src, "@" .. path, "t", new_env(builtins))
        if not chunk then error(err, 0) end
        v = chunk()
        if type(v) == "table" then v = frozen(v) end
        cache[name] = v
        return v
    end
end

function M.env(limits, dir)
    local builtins = {}
    for _, k in ipairs(BASE) do builtins[k] = _G[k] end
    builtins.setmetatable = safe_setmetatable
    builtins.unpack = table.unpack
    builtins.math = frozen(without(math, { random = true, randomseed = true }))
    builtins.string = frozen(without(string, { dump = true }))
    builtins.table = frozen(table)
    builtins.utf8 = frozen(utf8)
    builtins.rally = frozen({ rng = M.rng, limits = limits or M.LIMITS, surfaces = M.SURFACES })
    builtins.import = new_import(dir or "scripts", builtins)
    return new_env(builtins)
end

-- The scripts directory of a generator: the parent of its stages/ dir.
local function scripts_dir(path)
    local stages = path:match("^(.*)/[^/]*$") or "."
    return stages .. "/.."
end

function M.load(path, limits)
    local src, err = read_source(path)
    if not src then return nil, err end
    local chunk
    chunk, err = load(src, "@" .. path, "t", M.env(limits, scripts_dir(path)))
    if not chunk then return nil, err end
    local ok, gen = xpcall(chunk, debug.traceback)
    if not ok then return nil, gen end
    return gen
end

-- What the host checks of a generator table (cengine/lua/scripts.c), and
-- what the modding guide asks for on top: a description of every param.
function M.describe(gen, path)
    if type(gen) ~= "table" then return "a generator must return a table" end
    local base = path:match("([^/]+)%.lua$")
    if gen.name ~= base then
        return ("name '%s' must match the file name '%s'"):format(tostring(gen.name), base)
    end
    if type(gen.version) ~= "string" then return "field 'version' must be a string" end
    if type(gen.description) ~= "string" or #gen.description >= 256 then
        return "field 'description' must be a string under 256 bytes"
    end
    if type(gen.generate) ~= "function" then return "field 'generate' must be a function" end
    if type(gen.params) ~= "table" then return "field 'params' must be a table" end
    for k, p in pairs(gen.params) do
        if type(p) ~= "table" or type(p.default) ~= "number" or type(p.min) ~= "number"
            or type(p.max) ~= "number" or not (p.min <= p.default and p.default <= p.max) then
            return ("param '%s' must be {default=, min=, max=} with min <= default <= max")
                :format(k)
        end
        if type(p.description) ~= "string" or p.description == "" then
            return ("param '%s' has no description"):format(k)
        end
    end
    return nil
end

-- The params table for a profile. The host passes declared defaults as they
-- are and overrides as floats, so min, max and the rest are floats here.
-- Names go in sorted order: pairs() order changes between runs.
function M.params(gen, profile, rng)
    local names = {}
    for k in pairs(gen.params) do names[#names + 1] = k end
    table.sort(names)
    local p = {}
    for _, k in ipairs(names) do
        local d = gen.params[k]
        if profile == "min" then
            p[k] = d.min + 0.0
        elseif profile == "max" then
            p[k] = d.max + 0.0
        elseif profile == "mixed" then
            p[k] = d.min + (d.max - d.min) * rng:float()
        elseif profile == "extremes" then
            p[k] = (rng:chance(0.5) and d.min or d.max) + 0.0
        else
            p[k] = d.default
        end
    end
    return p
end

function M.generate(path, seed, params, limits, budget)
    local gen, err = M.load(path, limits)
    if not gen then return nil, err end
    budget = budget or 20000000
    local count = 0
    local function hook()
        count = count + 1000
        if count > budget then error(("instruction budget of %d exceeded"):format(budget)) end
    end
    collectgarbage("collect")
    collectgarbage("stop")
    local kib0 = collectgarbage("count")
    local t0 = os.clock()
    debug.sethook(hook, "", 1000)
    local ok, stage = xpcall(gen.generate, debug.traceback, seed, params)
    debug.sethook()
    local ms = (os.clock() - t0) * 1000
    local kib = collectgarbage("count") - kib0
    collectgarbage("restart")
    if not ok then return nil, stage end
    return stage, { ms = ms, instructions = count, kib = kib }
end

-- ---- the rules ------------------------------------------------------------

local function turn_at(pts, cum, i)
    local a, b, c = pts[i - 1], pts[i], pts[i + 1]
    local l0, l1 = cum[i] - cum[i - 1], cum[i + 1] - cum[i]
    local ax, ay = (b.x - a.x) / l0, (b.y - a.y) / l0
    local bx, by = (c.x - b.x) / l1, (c.y - b.y) / l1
    return atan(ax * by - ay * bx, ax * bx + ay * by)
end

local function point_seg_d2(px, py, a, b)
    local vx, vy = b.x - a.x, b.y - a.y
    local l2 = vx * vx + vy * vy
    local t = 0
    if l2 > 0 then t = max(0, min(1, ((px - a.x) * vx + (py - a.y) * vy) / l2)) end
    local dx, dy = a.x + t * vx - px, a.y + t * vy - py
    return dx * dx + dy * dy
end

local function cross3(a, b, c)
    return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
end

local function opposite(u, v)
    return (u > 0 and v < 0) or (u < 0 and v > 0)
end

-- Distance between segments ab and cd, with the operations of validate.c
-- in the same order, so with the same rounding. As there, a crossing needs
-- the two bounding boxes to overlap: for two far-apart, exactly collinear
-- segments the cross products are rounding noise and their signs mean
-- nothing.
local function seg_seg_dist(a, b, c, d)
    local boxes = max(min(a.x, b.x), min(c.x, d.x)) <= min(max(a.x, b.x), max(c.x, d.x))
        and max(min(a.y, b.y), min(c.y, d.y)) <= min(max(a.y, b.y), max(c.y, d.y))
    if boxes and opposite(cross3(a, b, c), cross3(a, b, d))
        and opposite(cross3(c, d, a), cross3(c, d, b)) then
        return 0
    end
    return sqrt(min(point_seg_d2(a.x, a.y, c, d), point_seg_d2(b.x, b.y, c, d),
                    point_seg_d2(c.x, c.y, a, b), point_seg_d2(d.x, d.y, a, b)))
end

local function finite(v)
    return type(v) == "number" and v == v and v ~= huge and v ~= -huge
end

local function failure(rule, index, p, fmt, ...)
    return { rule = rule, index = index, x = p and p.x, y = p and p.y, msg = fmt:format(...) }
end

-- Rule 8: segments i < j more than (pi/2) C apart along the route (from
-- the end of i to the start of j) must be at least C apart, where
-- C = w_i/2 + w_j/2 + 2 verge + 2. A segment's width could be read at
-- either end, so a pair fails here if it fails for any C between its
-- narrow-end and wide-end values.
--
-- The pairs are found as validate.c finds them: the same grid (32 u cells
-- from the stage's lower-left corner), the same reach around segment i,
-- the same distance arithmetic.
local function check_overlap(pts, cum, limits)
    local n = #pts
    local gap = 2 * limits.verge + 2
    local cell = 32
    local minx, miny, maxx, maxy = huge, huge, -huge, -huge
    local max_hw = 0
    for i = 1, n do
        local p = pts[i]
        minx, miny, maxx, maxy = min(minx, p.x), min(miny, p.y), max(maxx, p.x), max(maxy, p.y)
        max_hw = max(max_hw, p.width / 2)
    end
    local gw, gh = floor((maxx - minx) / cell) + 1, floor((maxy - miny) / cell) + 1
    local grid = {}
    for i = 1, n - 1 do
        local a, b = pts[i], pts[i + 1]
        for gy = floor((min(a.y, b.y) - miny) / cell), floor((max(a.y, b.y) - miny) / cell) do
            for gx = floor((min(a.x, b.x) - minx) / cell), floor((max(a.x, b.x) - minx) / cell) do
                local k = gy * gw + gx
                local list = grid[k]
                if not list then
                    list = {}
                    grid[k] = list
                end
                list[#list + 1] = i
            end
        end
    end
    local seen = {}
    for i = 1, n - 1 do
        local a, b = pts[i], pts[i + 1]
        local ilo, ihi = min(a.width, b.width), max(a.width, b.width)
        local reach = ihi / 2 + max_hw + gap
        -- C's (int) truncation after the clamp to 0 is a floor here.
        local x0 = floor(max(0, (min(a.x, b.x) - reach - minx) / cell))
        local x1 = floor(min(gw - 1, (max(a.x, b.x) + reach - minx) / cell))
        local y0 = floor(max(0, (min(a.y, b.y) - reach - miny) / cell))
        local y1 = floor(min(gh - 1, (max(a.y, b.y) + reach - miny) / cell))
        for gy = y0, y1 do
            for gx = x0, x1 do
                for _, j in ipairs(grid[gy * gw + gx] or {}) do
                    if j > i + 1 and seen[j] ~= i then
                        seen[j] = i
                        local c, d = pts[j], pts[j + 1]
                        local clo = (ilo + min(c.width, d.width)) / 2 + gap
                        local chi = (ihi + max(c.width, d.width)) / 2 + gap
                        local route = cum[j] - cum[i + 1]
                        -- Some C in clo..chi has route > (pi/2) C and dist < C.
                        local dist = route > pi / 2 * clo and seg_seg_dist(a, b, c, d)
                        if dist and dist < chi and dist < route * 2 / pi then
                            return failure(8, j, c, "self-overlap: segment %d at (%.1f, %.1f) "
                                .. "passes %.2f u from segment %d at (%.1f, %.1f), %.1f u further "
                                .. "along the route; roads and verges need %.2f..%.2f u", j,
                                c.x, c.y, dist, i, a.x, a.y, route, clo, chi)
                        end
                    end
                end
            end
        end
    end
    return nil
end

-- Rules 1, 3, 4: count, positions, widths and surfaces of the points.
local function check_points(pts, limits)
    local n = #pts
    if n < 2 or n > MAX_POINTS then
        return failure(1, nil, nil, "%d points, not 2..%d", n, MAX_POINTS)
    end
    local known = {}
    for _, s in ipairs(M.SURFACES) do known[s] = true end
    for i = 1, n do
        local p = pts[i]
        if type(p) ~= "table" then return failure(1, i, nil, "point %d is not a table", i) end
        if not finite(p.x) or not finite(p.y) or abs(p.x) > MAX_COORD or abs(p.y) > MAX_COORD then
            return failure(1, i, nil, "point %d: position (%s, %s) not finite or beyond %d", i,
                           tostring(p.x), tostring(p.y), MAX_COORD)
        end
        if not finite(p.width) or p.width < limits.min_width or p.width > limits.max_width then
            return failure(3, i, p, "point %d: width %s outside %g..%g", i, tostring(p.width),
                           limits.min_width, limits.max_width)
        end
        if not known[p.surface] then
            return failure(4, i, p, "point %d: unknown surface '%s'", i, tostring(p.surface))
        end
    end
    return nil
end

-- Rules 5, 6: the turn at every interior point, and the radius it makes.
local function check_turns(pts, cum, limits)
    for i = 2, #pts - 1 do
        local a = abs(turn_at(pts, cum, i))
        if a > limits.max_turn then
            return failure(5, i, pts[i], "point %d: turns %.2f degrees, more than %.1f", i,
                           math.deg(a), math.deg(limits.max_turn))
        end
        if a > 1e-9 then
            local r = (cum[i + 1] - cum[i - 1]) / 2 / a
            if r < pts[i].width / 2 + 1 then
                return failure(6, i, pts[i], "point %d: radius %.2f below width/2 + 1 = %.2f", i,
                               r, pts[i].width / 2 + 1)
            end
        end
    end
    return nil
end

-- Rule 10: every point up to the one that ends the segment reaching
-- grid_length u is at least 10 u wide, and the turns in between add up
-- (as magnitudes) to under 10 degrees.
local function check_grid(pts, cum, limits)
    local grid_len = limits.grid_length or 64
    local turned = 0
    for i = 1, #pts do
        if i > 1 and cum[i - 1] >= grid_len then break end
        if pts[i].width < GRID_WIDTH then
            return failure(10, i, pts[i], "point %d: the start grid needs %g u of width, not %.2f",
                           i, GRID_WIDTH, pts[i].width)
        end
        if i > 1 and i < #pts and cum[i] < grid_len then
            turned = turned + abs(turn_at(pts, cum, i))
        end
    end
    if turned >= GRID_TURN then
        return failure(10, 1, pts[1], "the start grid turns %.2f degrees in all; under 10",
                       math.deg(turned))
    end
    return nil
end

-- Rule 9: 1..64 integer indices, increasing, strictly inside the route,
-- checkpoint_gap u from the start, the finish and each other.
local function check_checkpoints(cps, pts, cum, limits)
    if type(cps) ~= "table" then return failure(9, nil, nil, "stage.checkpoints must be a list") end
    local n, length = #pts, cum[#pts]
    local gap = limits.checkpoint_gap or 50
    if #cps < 1 or #cps > (limits.max_checkpoints or 64) then
        return failure(9, nil, nil, "%d checkpoints, not 1..64", #cps)
    end
    local prev_d, prev_name = 0, "the start"
    for k, c in ipairs(cps) do
        if math.type(c) ~= "integer" then
            return failure(9, nil, nil, "checkpoint %d is not an integer", k)
        end
        if c <= 1 or c >= n then
            return failure(9, nil, nil, "checkpoint %d: index %d not strictly inside 1..%d", k, c,
                           n)
        end
        if k > 1 and c <= cps[k - 1] then
            return failure(9, c, pts[c], "checkpoint %d: index %d not after %d", k, c, cps[k - 1])
        end
        if cum[c] - prev_d < gap then
            return failure(9, c, pts[c], "checkpoint %d: %.1f u after %s", k, cum[c] - prev_d,
                           prev_name)
        end
        if length - cum[c] < gap then
            return failure(9, c, pts[c], "checkpoint %d: %.1f u before the finish", k,
                           length - cum[c])
        end
        prev_d, prev_name = cum[c], "checkpoint " .. k
    end
    return nil
end

-- nil if the stage passes all ten rules, else the first failure found.
function M.validate(stage, limits)
    limits = limits or M.LIMITS
    if type(stage) ~= "table" then return failure(0, nil, nil, "generate must return a table") end
    local pts = stage.points
    if type(pts) ~= "table" then return failure(1, nil, nil, "stage.points must be a list") end
    local bad = check_points(pts, limits)
    if bad then return bad end
    -- Rule 2: spacing.
    local cum = { 0 }
    for i = 2, #pts do
        local l = sqrt((pts[i].x - pts[i - 1].x) ^ 2 + (pts[i].y - pts[i - 1].y) ^ 2)
        if l < limits.min_spacing or l > limits.max_spacing then
            return failure(2, i, pts[i], "point %d: %.3f u from the previous point, not %g..%g",
                           i, l, limits.min_spacing, limits.max_spacing)
        end
        cum[i] = cum[i - 1] + l
    end
    -- Rule 7: length.
    local length = cum[#pts]
    if length < limits.min_length or length > limits.max_length then
        return failure(7, #pts, pts[#pts], "length %.1f outside %g..%g", length,
                       limits.min_length, limits.max_length)
    end
    return check_turns(pts, cum, limits) or check_grid(pts, cum, limits)
        or check_checkpoints(stage.checkpoints, pts, cum, limits)
        or check_overlap(pts, cum, limits)
end

-- Shape figures: length, width range, each surface's share of the length
-- and its shortest and longest run, and hairpins (150+ degrees of turn
-- within 60 u of route).
function M.measure(stage)
    local pts = stage.points
    local n = #pts
    local cum, heading = { 0 }, {}
    local shares, runs = {}, {}
    local run_start = 1
    local wlo, whi = huge, -huge
    for i = 1, n do
        wlo, whi = min(wlo, pts[i].width), max(whi, pts[i].width)
        if i > 1 then
            local a, b = pts[i - 1], pts[i]
            local l = sqrt((b.x - a.x) ^ 2 + (b.y - a.y) ^ 2)
            cum[i] = cum[i - 1] + l
            shares[a.surface] = (shares[a.surface] or 0) + l
            heading[i - 1] = atan(b.y - a.y, b.x - a.x)
            -- A run of one surface ends at point i if segment i differs.
            if i == n or b.surface ~= a.surface then
                local r = runs[a.surface] or { lo = huge, hi = 0 }
                runs[a.surface] = r
                r.lo, r.hi = min(r.lo, cum[i] - cum[run_start]), max(r.hi, cum[i] - cum[run_start])
                run_start = i
            end
        end
    end
    local turned = { [1] = 0 }
    for i = 2, n - 1 do
        turned[i] = turned[i - 1] + (heading[i] - heading[i - 1] + pi) % (2 * pi) - pi
    end
    local hairpins, i, j = 0, 1, 1
    while i < n - 1 do
        while j < n - 1 and cum[j] - cum[i] < 60 do j = j + 1 end
        if abs(turned[j] - turned[i]) >= math.rad(150) then
            hairpins = hairpins + 1
            i = j
        else
            i = i + 1
        end
    end
    return { length = cum[n], points = n, width_lo = wlo, width_hi = whi, shares = shares,
             runs = runs, hairpins = hairpins, checkpoints = #stage.checkpoints }
end

-- ---- drawing --------------------------------------------------------------

local COLOURS = { asphalt = "#555", gravel = "#b08850", ice = "#9fd8ff" }

function M.svg(stage, title, limits)
    limits = limits or M.LIMITS
    local pts = stage.points
    local x0, x1, y0, y1 = huge, -huge, huge, -huge
    for _, p in ipairs(pts) do
        x0, x1, y0, y1 = min(x0, p.x), max(x1, p.x), min(y0, -p.y), max(y1, -p.y)
    end
    local pad = 40
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    local out = {}
    local function add(fmt, ...) out[#out + 1] = fmt:format(...) end
    add('<svg xmlns="http://www.w3.org/2000/svg" viewBox="%.1f %.1f %.1f %.1f" '
        .. 'width="%d" height="%d">', x0, y0, x1 - x0, y1 - y0, floor(x1 - x0), floor(y1 - y0))
    add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2d5a27"/>', x0, y0, x1 - x0,
        y1 - y0)
    -- Verges under everything, then the road segment by segment (SVG's y
    -- runs down, so y is flipped).
    local function road(extra, colour)
        for i = 1, #pts - 1 do
            local a, b = pts[i], pts[i + 1]
            add('<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="%.2f" '
                .. 'stroke-linecap="round"/>', a.x, -a.y, b.x, -b.y,
                colour or COLOURS[a.surface] or "red", a.width + extra)
        end
    end
    road(2 * limits.verge, "#6b8f4e")
    road(0, nil)
    local line = {}
    for _, p in ipairs(pts) do line[#line + 1] = ("%.2f,%.2f"):format(p.x, -p.y) end
    add('<polyline points="%s" fill="none" stroke="white" stroke-width="0.4" '
        .. 'stroke-dasharray="3 3"/>', table.concat(line, " "))
    for k, c in ipairs(stage.checkpoints) do
        local p = pts[c]
        add('<circle cx="%.2f" cy="%.2f" r="4" fill="red"/><text x="%.2f" y="%.2f" '
            .. 'font-size="12" fill="white">%d</text>', p.x, -p.y, p.x + 6, -p.y, k)
    end
    add('<circle cx="%.2f" cy="%.2f" r="6" fill="lime"/>', pts[1].x, -pts[1].y)
    add('<circle cx="%.2f" cy="%.2f" r="6" fill="black" stroke="white"/>', pts[#pts].x,
        -pts[#pts].y)
    add('<text x="%.1f" y="%.1f" font-size="16" fill="white">%s</text>', x0 + 8, y0 + 20, title)
    add("</svg>")
    return table.concat(out, "\n")
end

-- ---- command line ---------------------------------------------------------

local function params_text(p)
    local keys = {}
    for k in pairs(p) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ("%s=%.4g"):format(k, p[k]) end
    return table.concat(parts, " ")
end

local function stage_text(stage)
    local parts = {}
    for i, p in ipairs(stage.points) do
        parts[i] = ("%.17g %.17g %.17g %s"):format(p.x, p.y, p.width, p.surface)
    end
    for _, c in ipairs(stage.checkpoints) do parts[#parts + 1] = tostring(c) end
    return table.concat(parts, ";")
end

-- Seeds worth a try beyond 1..N: the host passes uint64 seeds as Lua
-- integers, so half of all seeds arrive negative.
local EDGE_SEEDS = { 0, -1, math.maxinteger, math.mininteger }

-- One seed: the stage and its stats, or nil and a failure.
local function check_seed(path, seed, params, opts, recheck)
    local stage, stats = M.generate(path, seed, params, opts.limits, opts.budget)
    if not stage then return nil, { msg = "generate failed: " .. tostring(stats) } end
    local fail = M.validate(stage, opts.limits)
    if fail then return nil, fail end
    if stats.instructions > opts.budget / 2 then
        return nil, { msg = ("%d instructions: over half the budget"):format(stats.instructions) }
    end
    if recheck then
        local again = M.generate(path, seed, params, opts.limits, opts.budget)
        if not again or stage_text(again) ~= stage_text(stage) then
            return nil, { msg = "not deterministic: the same seed and params gave another stage" }
        end
    end
    return stage, stats
end

local function summary_line(name, profile, passed, tried, agg)
    local shares = {}
    for _, s in ipairs(M.SURFACES) do
        if agg.shares[s] then
            local r = agg.runs[s]
            shares[#shares + 1] = ("%s %.0f%% (runs %.0f..%.0f u)"):format(s,
                100 * agg.shares[s] / max(passed, 1), r.lo, r.hi)
        end
    end
    return ("%-8s %-8s %4d/%d passed  length %.0f..%.0f  width %.1f..%.1f  hairpins %s..%s  %s")
        :format(name, profile, passed, tried, agg.lmin, agg.lmax, agg.wlo, agg.whi,
                agg.hmin == huge and "-" or agg.hmin, agg.hmax, table.concat(shares, ", "))
end

-- Runs one profile of one generator; true if every seed passed.
local function check_profile(path, gen, profile, opts, totals)
    local seeds = {}
    for seed = opts.from, opts.from + opts.n - 1 do seeds[#seeds + 1] = seed end
    if opts.edges then
        for _, seed in ipairs(EDGE_SEEDS) do seeds[#seeds + 1] = seed end
    end
    local passed, failed = 0, nil
    local agg = { lmin = huge, lmax = 0, hmin = huge, hmax = 0, wlo = huge, whi = 0,
                  shares = {}, runs = {} }
    local prng = M.rng(0x5eed)
    for k, seed in ipairs(seeds) do
        local params = M.params(gen, profile, prng)
        -- Every 25th seed runs twice: a generator must be a pure function.
        local stage, stats = check_seed(path, seed, params, opts, k % 25 == 1)
        if not stage then
            failed = failed or { seed = seed, params = params, fail = stats, count = 0 }
            failed.count = failed.count + 1
        else
            passed = passed + 1
            local m = M.measure(stage)
            agg.lmin, agg.lmax = min(agg.lmin, m.length), max(agg.lmax, m.length)
            agg.hmin, agg.hmax = min(agg.hmin, m.hairpins), max(agg.hmax, m.hairpins)
            agg.wlo, agg.whi = min(agg.wlo, m.width_lo), max(agg.whi, m.width_hi)
            for s, l in pairs(m.shares) do agg.shares[s] = (agg.shares[s] or 0) + l / m.length end
            for s, r in pairs(m.runs) do
                local a = agg.runs[s] or { lo = huge, hi = 0 }
                agg.runs[s] = a
                a.lo, a.hi = min(a.lo, r.lo), max(a.hi, r.hi)
            end
            totals.runs = totals.runs + 1
            totals.ms = totals.ms + stats.ms
            totals.ms_max = max(totals.ms_max, stats.ms)
            totals.instr_max = max(totals.instr_max, stats.instructions)
            totals.kib_max = max(totals.kib_max, stats.kib)
            if opts.svg and k <= opts.svg_count then
                local file = ("%s/%s-%s-%d.svg"):format(opts.svg, gen.name, profile, seed)
                local f = assert(io.open(file, "w"))
                f:write(M.svg(stage, ("%s %s seed %d: %.0f u"):format(gen.name, profile, seed,
                                                                    m.length), opts.limits))
                f:close()
            end
        end
    end
    print(summary_line(gen.name, profile, passed, #seeds, agg))
    if failed then
        local f = failed.fail
        print(("  FAIL seed %d (%s) [%d failing seeds]: rule %s: %s"):format(failed.seed,
            params_text(failed.params), failed.count, tostring(f.rule or "-"), f.msg))
        if f.index then
            print(("  at point %d (%.2f, %.2f)"):format(f.index, f.x or 0 / 0, f.y or 0 / 0))
        end
    end
    return failed == nil
end

local function check_file(path, opts)
    local gen, err = M.load(path, opts.limits)
    err = gen and M.describe(gen, path) or err
    if err then
        print(("FAIL %s: %s"):format(path, err))
        return false
    end
    local ok = true
    local totals = { runs = 0, ms = 0, ms_max = 0, instr_max = 0, kib_max = 0 }
    for _, profile in ipairs(opts.profiles) do
        ok = check_profile(path, gen, profile, opts, totals) and ok
    end
    if totals.runs > 0 then
        print(("%-8s time %.1f ms mean, %.1f ms max; instructions %.2fM max; "
            .. "allocated %.1f MiB max"):format(gen.name, totals.ms / totals.runs, totals.ms_max,
                                                totals.instr_max / 1e6, totals.kib_max / 1024))
    end
    return ok
end

local USAGE = [[
usage: lua5.4 tests/lua/stage_check.lua [--from S] [--no-edge-seeds]
           [--profiles default,min,max,mixed,extremes] [--limit KEY=VALUE]...
           [--budget I] [--svg DIR] [--svg-count K] GENERATOR.lua... [N]
]]

local function usage()
    io.stderr:write(USAGE)
    os.exit(2)
end

local function main(args)
    local limits = {}
    for k, v in pairs(M.LIMITS) do limits[k] = v end
    local opts = { n = 200, from = 1, edges = true, svg = nil, svg_count = 4, budget = 20000000,
                   profiles = { "default", "min", "max", "mixed", "extremes" }, limits = limits }
    local files = {}
    local i = 1
    local function value()
        i = i + 1
        return args[i] or usage()
    end
    local function int_value()
        return math.tointeger(tonumber(value())) or usage()
    end
    while i <= #args do
        local a = args[i]
        if a == "--from" then
            opts.from = int_value()
        elseif a == "--no-edge-seeds" then
            opts.edges = false
        elseif a == "--svg" then
            opts.svg = value()
        elseif a == "--svg-count" then
            opts.svg_count = int_value()
        elseif a == "--budget" then
            opts.budget = int_value()
        elseif a == "--profiles" then
            opts.profiles = {}
            for p in value():gmatch("[^,]+") do opts.profiles[#opts.profiles + 1] = p end
        elseif a == "--limit" then
            local k, v = value():match("^([%w_]+)=(.+)$")
            if not k or limits[k] == nil or not tonumber(v) then usage() end
            limits[k] = tonumber(v)
        elseif a:match("%.lua$") then
            files[#files + 1] = a
        elseif math.tointeger(tonumber(a)) then
            opts.n = math.tointeger(tonumber(a))
        else
            usage()
        end
        i = i + 1
    end
    if #files == 0 then usage() end
    local ok = true
    for _, f in ipairs(files) do ok = check_file(f, opts) and ok end
    os.exit(ok and 0 or 1)
end

-- Run as a script, not when required as a module.
if not pcall(debug.getlocal, 4, 1) then main(arg) end

return M
