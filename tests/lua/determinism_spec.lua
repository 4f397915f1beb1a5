-- Scripts give the same results in every Lua state and on every machine:
-- pairs and next walk keys in a defined order, math uses the engine's own
-- deterministic functions, and '^' (libm's pow) is refused unless the
-- exponent is the literal 2. Each sandbox here is a fresh Lua state, whose
-- string hashing Lua 5.4 seeds anew.
local crhost = require("crhost")
local dir = os.getenv("CR_SCRIPTS") or "scripts"

local function run(code)
    local ok, v = crhost.sandbox(code)
    assert(ok, v)
    return v
end

describe("pairs", function()
    local walk = [[
        local t = { "a", "b", "c", zulu = 1, alpha = 2, [10] = 3, [-1] = 4, [2.5] = 5,
                    [true] = 6, [false] = 7, mike = 8, [""] = 9, Zed = 10 }
        local out = {}
        for k in pairs(t) do out[#out + 1] = tostring(k) end
        local via_next, k = {}, next(t)
        while k ~= nil do via_next[#via_next + 1] = tostring(k); k = next(t, k) end
        return table.concat(out, " ") .. " | " .. table.concat(via_next, " ")
    ]]
    local order = "1 2 3 -1 2.5 10  Zed alpha mike zulu false true"

    it("walks the array part, then numbers, strings, false, true, in every state", function()
        for _ = 1, 8 do
            assert.are.equal(order .. " | " .. order, run(walk))
        end
    end)

    it("walks many string keys in byte order", function()
        local code = [[
            local t, names = {}, {}
            for i = 1, 300 do t["k" .. (i * 7919 % 1000)] = i end
            local prev, n = nil, 0
            for k in pairs(t) do
                assert(prev == nil or prev < k, "out of order: " .. tostring(prev) .. " " .. k)
                prev, n = k, n + 1
            end
            return n
        ]]
        for _ = 1, 3 do assert.are.equal(300, run(code)) end
    end)

    it("skips keys removed during the loop and allows assigning existing ones", function()
        assert.are.equal("a=10 c=30", run([[
            local t, out = { a = 1, b = 2, c = 3 }, {}
            for k, v in pairs(t) do
                t[k] = v * 10
                if k == "a" then t.b = nil end
                if t[k] then out[#out + 1] = k .. "=" .. t[k] end
            end
            return table.concat(out, " ")
        ]]))
    end)

    it("walks library tables (read-only proxies) in order too", function()
        assert.are.equal("char byte find", run([[
            local first = {}
            for k in pairs(string) do first[#first + 1] = k end
            return first[2] .. " " .. first[1] .. " " .. first[3]
        ]]))
    end)

    it("refuses keys that have no defined order, naming the line", function()
        local ok, err = crhost.sandbox("local t = { [{}] = 1 }\nfor k in pairs(t) do end")
        assert.is_false(ok)
        assert.matches("sandbox:2: pairs: a key of type table has no defined order", err, 1, true)
        ok, err = crhost.sandbox("return next({ [print] = 1 })")
        assert.is_false(ok)
        assert.matches("key of type function", err, 1, true)
    end)

    it("still honours a __pairs metamethod", function()
        assert.are.equal("x", run([[
            local t = setmetatable({}, { __pairs = function()
                return function(_, k) if k == nil then return "x", 1 end end, nil, nil
            end })
            for k in pairs(t) do return k end
        ]]))
    end)
end)

describe("math", function()
    it("uses the deterministic functions, bit for bit the same in every state", function()
        local code = [[
            return string.format("%a %a %a %a %a %a %a %a %a %a", math.sin(1), math.cos(1e6),
                math.tan(0.5), math.asin(0.3), math.acos(-0.7), math.atan(1, -2), math.atan(3),
                math.exp(2.5), math.log(10), math.log(8, 2))
        ]]
        local first = run(code)
        for _ = 1, 3 do assert.are.equal(first, run(code)) end
        -- Values the C tests also pin (util/dmath), and log base 2 exact.
        assert.are.equal("0x1.aed548f090ceep-1", first:match("^(%S+)"))
        assert.are.equal("0x1.8p+1", first:match("(%S+)$"))
    end)

    it("keeps the exact functions and the host's rng, not math.random", function()
        assert.are.equal("3.0 nil nil", run([[
            return tostring(math.sqrt(9)) .. " " .. tostring(math.random) .. " "
                .. tostring(math.randomseed)
        ]]))
    end)
end)

describe("the ^ operator", function()
    it("is allowed with the literal exponent 2 (Lua computes x*x, exact)", function()
        assert.are.equal(6.25, run("local x = 2.5 return x ^ 2"))
        assert.are.equal(0.0001, run("return 1e-2^2"))
        assert.are.equal(16.0, run("return (2^2)^2"))
        assert.are.equal(4.0, run("return 0x2 ^ 2.0 -- and 2^3 in a comment"))
        assert.are.equal("a^3 ^ x", run("return 'a^3' .. [==[ ^ x]==]"))
    end)

    it("is refused with any other exponent, before compiling, naming file and line", function()
        for _, code in ipairs({ "return 2 ^ 0.5", "local y = 3\nreturn 2 ^ y", "return 3 ^ 2 ^ 2",
                                "return 2^-2", "return 2 ^ --[[ comment ]] 3" }) do
            local ok, err = crhost.sandbox(code)
            assert.is_false(ok, code)
            assert.matches("^sandbox:%d+: '%^' is only allowed with the exponent 2", err)
        end
        local _, err = crhost.sandbox("local y = 3\nreturn 2 ^ y")
        assert.matches("^sandbox:2:", err)
    end)
end)

describe("a generator that walks a string-keyed table with pairs", function()
    local tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute(("mkdir -p %q && cp -r %q/. %q"):format(tmp, dir, tmp)))
    local f = assert(io.open(tmp .. "/stages/pairsdemo.lua", "w"))
    f:write([[
local cos, sin, rad, abs, floor, max = math.cos, math.sin, math.rad, math.abs, math.floor, math.max
local BENDS = { alpha = 25, bravo = -30, charlie = 35, delta = -20, echo = 30, foxtrot = -25,
                golf = 20, hotel = -35, india = 15, juliet = -15 }
return {
    name = "pairsdemo", version = "1", description = "bends in the order pairs gives them",
    params = {},
    generate = function(seed)
        local rng = rally.rng(seed)
        local pts, x, y, h, dist = {}, 0, 0, 0, 0
        local function step(len, dh)
            h = h + dh
            x, y, dist = x + len * cos(h), y + len * sin(h), dist + len
            pts[#pts + 1] = { x = x, y = y, width = 12, surface = "asphalt" }
        end
        local function straight(len) for _ = 1, floor(len / 3) do step(3, 0) end end
        pts[1] = { x = 0, y = 0, width = 12, surface = "asphalt" }
        straight(100 + rng:int(0, 10))
        for _, deg in pairs(BENDS) do
            local a = rad(deg)
            if abs(h + a) > rad(40) then a = -a end
            straight(30)
            for _ = 1, 20 do step(3, a / 20) end
        end
        straight(max(1200 - dist, 150))
        local cps, n = {}, #pts
        for k = 1, 4 do cps[k] = floor(n * k / 5) end
        return { points = pts, checkpoints = cps }
    end,
}
]])
    f:close()

    it("gives the same stage in fresh states", function()
        local hashes = {}
        for i = 1, 6 do
            local sc = assert(crhost.open(tmp))
            hashes[i] = assert(sc:generate("pairsdemo", 3)).hash
        end
        for i = 2, 6 do assert.are.equal(hashes[1], hashes[i]) end
        os.execute(("rm -rf %q"):format(tmp))
    end)
end)
