--[[
stage_check.lua - runs stage generators through the real host (crhost.so,
the engine's own sandbox, generator loading and stage_validate) over many
seeds and parameter profiles.

    lua5.4 tests/lua/stage_check.lua [options] GENERATOR.lua... [N]

needs crhost.so on package.cpath (build/debug/cengine after `make debug`:
LUA_CPATH='build/debug/cengine/?.so;;'). A generator file
DIR/stages/NAME.lua is loaded from the scripts directory DIR, as the game
does (config.lua, upgrades.lua and lib/ from there too).

It runs seeds 1..N (default 200) of each generator, plus edge seeds (0, -1
and the integer extremes: the host passes uint64 seeds as Lua integers),
under five parameter profiles: the declared defaults, every param at its
minimum, every param at its maximum, random values (mixed) and random picks
of min or max (extremes). Every seed is generated in two fresh Lua states
(two separate hosts, so no cache is shared) and any difference between the
two stages fails: a generator must be a pure function of seed and params.
It also checks that the host refuses each parameter just below its minimum
and just above its maximum, and an unknown parameter. Per generator and
profile it prints how many seeds passed and the shape of what came out,
then the first failure: seed, params and the host's message (file, line,
rule, point). Exit status 1 on any failure.

Options:
    --from S            first seed (default 1)
    --no-edge-seeds     only 1..N
    --profiles L        comma list (default default,min,max,mixed,extremes)
    --set KEY=VALUE     a config.lua setting for the host (repeatable), e.g.
                        STAGE_MAX_LENGTH=2000 to try another server config
    --svg DIR           draw the first stages of each profile as SVG files
                        (DIR is created)
    --svg-count K       how many per profile (default 4)

Only the declared params are read here, in plain Lua (they are data);
generation and validation are the host's.
]]

local ok_crhost, crhost = pcall(require, "crhost")

local M = {}

local min, max, huge = math.min, math.max, math.huge

-- ---- the generator's declared parameters ----------------------------------

-- The generator file's returned table, loaded in a permissive plain-Lua
-- environment only to read `params` (import() loads lib/NAME.lua the same
-- way); nothing here runs generate().
local function read_declared(path)
    local dir = path:match("^(.*)/stages/[^/]+%.lua$") or "."
    local env
    local function load_file(file)
        local f, err = io.open(file, "r")
        if not f then return nil, err end
        local src = f:read("a")
        f:close()
        local chunk, lerr = load(src, "@" .. file, "t", env)
        if not chunk then return nil, lerr end
        local ok, v = pcall(chunk)
        if not ok then return nil, v end
        return v
    end
    env = setmetatable({
        import = function(name) return assert(load_file(dir .. "/lib/" .. name .. ".lua")) end,
        rally = setmetatable({}, { __index = function() return function() end end }),
    }, { __index = _G })
    return load_file(path)
end

-- Sorted names of the declared params (pairs order is not to be relied on).
local function param_names(decl)
    local names = {}
    for k in pairs(decl.params or {}) do names[#names + 1] = k end
    table.sort(names)
    return names
end

-- Parameter overrides for a profile, as the strings the host parses (17
-- significant digits: the exact double). Defaults are passed explicitly too.
function M.params(decl, profile)
    local p = {}
    for _, k in ipairs(param_names(decl)) do
        local d = decl.params[k]
        local v
        if profile == "min" then
            v = d.min
        elseif profile == "max" then
            v = d.max
        elseif profile == "mixed" then
            v = d.min + (d.max - d.min) * math.random()
        elseif profile == "extremes" then
            v = math.random() < 0.5 and d.min or d.max
        else
            v = d.default
        end
        p[k] = ("%.17g"):format(v)
    end
    return p
end

local function params_text(p)
    local keys = {}
    for k in pairs(p) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ("%s=%.4g"):format(k, tonumber(p[k])) end
    return table.concat(parts, " ")
end

-- ---- checks ----------------------------------------------------------------

-- Seeds worth a try beyond 1..N: the host passes uint64 seeds as Lua
-- integers, so half of all seeds arrive negative.
local EDGE_SEEDS = { 0, -1, math.maxinteger, math.mininteger }

-- The host must refuse each param just outside its range, and unknown ones.
local function check_refusals(hosts, name, decl)
    local problems = {}
    local function expect_refused(params, what)
        local s, err = hosts[1]:generate(name, 1, params)
        if s then
            problems[#problems + 1] = what .. " was accepted"
        elseif not tostring(err):find("parameter", 1, true) then
            problems[#problems + 1] = what .. " failed for another reason: " .. tostring(err)
        end
    end
    for _, k in ipairs(param_names(decl)) do
        local d = decl.params[k]
        local step = max((d.max - d.min) / 100, 1e-6)
        expect_refused({ [k] = ("%.17g"):format(d.min - step) }, k .. " below its minimum")
        expect_refused({ [k] = ("%.17g"):format(d.max + step) }, k .. " above its maximum")
        expect_refused({ [k] = "nan" }, k .. " = nan")
    end
    expect_refused({ no_such_param = "1" }, "an unknown parameter")
    return problems
end

-- One seed in both hosts: the first host's stage info, or nil and a message.
local function check_seed(hosts, name, seed, params, svg_file)
    local a, err = hosts[1]:generate(name, seed, params, svg_file)
    if not a then return nil, err end
    local b, err2 = hosts[2]:generate(name, seed, params)
    if not b then return nil, "second fresh state failed: " .. tostring(err2) end
    if a.hash ~= b.hash then
        return nil, ("not deterministic: two fresh states gave stages %s and %s"):format(a.hash,
                                                                                     b.hash)
    end
    return a
end

local SURFACES = { "asphalt", "gravel", "ice" }

local function summary_line(name, profile, passed, tried, agg)
    local shares = {}
    for _, s in ipairs(SURFACES) do
        if agg.shares[s] > 0 then
            shares[#shares + 1] = ("%s %.0f%%"):format(s, 100 * agg.shares[s] / max(passed, 1))
        end
    end
    return ("%-8s %-8s %4d/%d passed  length %.0f..%.0f  checkpoints %s..%s  %s"):format(name,
        profile, passed, tried, agg.lmin, agg.lmax, agg.cmin == huge and "-" or agg.cmin,
        agg.cmax, table.concat(shares, ", "))
end

-- Runs one profile of one generator; true if every seed passed.
local function check_profile(hosts, name, decl, profile, opts, totals)
    local seeds = {}
    for seed = opts.from, opts.from + opts.n - 1 do seeds[#seeds + 1] = seed end
    if opts.edges then
        for _, seed in ipairs(EDGE_SEEDS) do seeds[#seeds + 1] = seed end
    end
    math.randomseed(0x5eed) -- the same random profiles every run
    local passed, failed = 0, nil
    local agg = { lmin = huge, lmax = 0, cmin = huge, cmax = 0,
                  shares = { asphalt = 0, gravel = 0, ice = 0 } }
    for k, seed in ipairs(seeds) do
        local params = M.params(decl, profile)
        local svg_file
        if opts.svg and k <= opts.svg_count then
            svg_file = ("%s/%s-%s-%d.svg"):format(opts.svg, name, profile, seed)
        end
        local t0 = os.clock()
        local info, err = check_seed(hosts, name, seed, params, svg_file)
        totals.ms = totals.ms + (os.clock() - t0) * 1000 / 2
        if not info then
            failed = failed or { seed = seed, params = params, msg = err, count = 0 }
            failed.count = failed.count + 1
        else
            passed = passed + 1
            totals.runs = totals.runs + 1
            agg.lmin, agg.lmax = min(agg.lmin, info.length), max(agg.lmax, info.length)
            agg.cmin, agg.cmax = min(agg.cmin, info.checkpoints), max(agg.cmax, info.checkpoints)
            for _, s in ipairs(SURFACES) do
                agg.shares[s] = agg.shares[s] + (info.surfaces[s] or 0) / info.length
            end
        end
    end
    print(summary_line(name, profile, passed, #seeds, agg))
    if failed then
        print(("  FAIL seed %d (%s) [%d failing seeds]: %s"):format(failed.seed,
            params_text(failed.params), failed.count, tostring(failed.msg)))
    end
    return failed == nil
end

local function check_file(path, opts)
    local dir, name = path:match("^(.*)/stages/([^/]+)%.lua$")
    if not dir then
        print(("FAIL %s: expected a path DIR/stages/NAME.lua"):format(path))
        return false
    end
    local hosts = {}
    for i = 1, 2 do
        local sc, err = crhost.open(dir, opts.sets)
        if not sc then
            print(("FAIL %s: %s"):format(path, err))
            return false
        end
        hosts[i] = sc
    end
    local listed
    for _, g in ipairs(hosts[1]:generators()) do
        if g.name == name then listed = g end
    end
    if not listed or listed.error then
        print(("FAIL %s: %s"):format(path, listed and listed.error or "not found by the host"))
        return false
    end
    local decl, derr = read_declared(path)
    if type(decl) ~= "table" then
        print(("FAIL %s: cannot read its params: %s"):format(path, tostring(derr)))
        return false
    end
    local ok = true
    local refused = check_refusals(hosts, name, decl)
    if #refused > 0 then
        ok = false
        for _, p in ipairs(refused) do print(("  FAIL %s: %s"):format(name, p)) end
    else
        print(("%-8s refuses out-of-range, NaN and unknown parameters"):format(name))
    end
    local totals = { runs = 0, ms = 0 }
    for _, profile in ipairs(opts.profiles) do
        ok = check_profile(hosts, name, decl, profile, opts, totals) and ok
    end
    if totals.runs > 0 then
        print(("%-8s %.1f ms per generation (generate + validate + compile, CPU)"):format(name,
            totals.ms / totals.runs))
    end
    return ok
end

local USAGE = [[
usage: lua5.4 tests/lua/stage_check.lua [--from S] [--no-edge-seeds]
           [--profiles default,min,max,mixed,extremes] [--set KEY=VALUE]...
           [--svg DIR] [--svg-count K] GENERATOR.lua... [N]
]]

local function usage()
    io.stderr:write(USAGE)
    os.exit(2)
end

local function main(args)
    if not ok_crhost then
        io.stderr:write("stage_check: cannot load crhost.so (build it with `make debug` and put "
            .. "build/debug/cengine on LUA_CPATH): " .. tostring(crhost) .. "\n")
        os.exit(2)
    end
    local opts = { n = 200, from = 1, edges = true, svg = nil, svg_count = 4, sets = {},
                   profiles = { "default", "min", "max", "mixed", "extremes" } }
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
        elseif a == "--profiles" then
            opts.profiles = {}
            for p in value():gmatch("[^,]+") do
                if not M.PROFILES[p] then usage() end
                opts.profiles[#opts.profiles + 1] = p
            end
        elseif a == "--set" then
            local k, v = value():match("^([%w_]+)=(.+)$")
            if not k then usage() end
            opts.sets[k] = v
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
    if opts.svg and not os.execute(("mkdir -p '%s'"):format(opts.svg:gsub("'", "'\\''"))) then
        io.stderr:write(("stage_check: cannot create %s\n"):format(opts.svg))
        os.exit(2)
    end
    local ok = true
    for _, f in ipairs(files) do ok = check_file(f, opts) and ok end
    os.exit(ok and 0 or 1)
end

M.PROFILES = { default = true, min = true, max = true, mixed = true, extremes = true }

-- Run as a script, not when required as a module.
if not pcall(debug.getlocal, 4, 1) then main(arg) end

return M
