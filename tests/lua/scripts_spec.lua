-- The shipped scripts through the real host: settings, car types and
-- upgrades, rules, and every generator's parameters.
local crhost = require("crhost")
local dir = os.getenv("CR_SCRIPTS") or "scripts"

describe("config.lua", function()
    it("has the product's defaults", function()
        local sc = assert(crhost.open(dir))
        assert.are.equal(60, sc:config("TICK_RATE"))
        assert.are.equal(20, sc:config("BOT_TICK_RATE"))
        assert.are.equal(1000, sc:config("STAGE_MIN_LENGTH"))
        assert.are.equal(3000, sc:config("STAGE_MAX_LENGTH"))
        assert.are.equal(50, sc:config("BOT_MEMORY_LIMIT_MB"))
        assert.are.equal(10, sc:config("BOT_EXECUTION_TIMEOUT_MS"))
        assert.are.equal(8000, sc:config("PORT"))
        assert.are.equal("0.0.0.0", sc:config("HOST"))
    end)

    it("takes overrides of the right type only", function()
        local sc = assert(crhost.open(dir, { PORT = "9000" }))
        assert.are.equal(9000, sc:config("PORT"))
        local bad, err = crhost.open(dir, { PORT = "ninety" })
        assert.is_nil(bad)
        assert.matches("PORT must be a number", err)
        bad, err = crhost.open(dir, { NOPE = "1" })
        assert.is_nil(bad)
        assert.matches("unknown setting 'NOPE'", err)
        bad, err = crhost.open(dir, { STAGE_MIN_LENGTH = "5000" })
        assert.is_nil(bad)
        assert.matches("STAGE_MIN_LENGTH is above STAGE_MAX_LENGTH", err)
    end)
end)

describe("upgrades.lua", function()
    local sc = assert(crhost.open(dir))

    it("lists the car types", function()
        assert.are.same({ "coupe", "hatch", "raider" }, sc:car_types())
    end)

    it("shows the garage what stats() computes, level by level", function()
        local g = assert(sc:garage())
        assert.are.equal(3, #g.cars)
        assert.are.equal("Turbo Coupe", g.cars[1].name)
        assert.are.equal(1500, g.cars[1].price)
        assert.are.equal(8, #g.upgrades)
        for _, u in ipairs(g.upgrades) do
            assert.are.equal(u.max_level, #u.costs)
            for _, c in ipairs(g.cars) do
                for level = 0, u.max_level do
                    local s = assert(sc:car_stats(c.id, { [u.stat] = level }))
                    assert.are.equal(s[u.stat], u.values[c.id][level + 1])
                end
            end
        end
    end)

    it("gives every car type valid stats", function()
        for _, t in ipairs(sc:car_types()) do
            local s = assert(sc:car_stats(t))
            assert.is_true(s.top_speed > 30 and s.grip > 0.5 and s.weight > 500)
        end
    end)

    it("applies upgrade levels cumulatively", function()
        local base = assert(sc:car_stats("hatch"))
        local up = assert(sc:car_stats("hatch", { top_speed = 3, grip = 2, weight = 1 }))
        assert.are.equal(base.top_speed + 6, up.top_speed)
        assert.is_true(math.abs(up.grip - (base.grip + 0.1)) < 1e-9)
        assert.are.equal(base.weight - 40, up.weight)
        assert.are.equal(base.handling, up.handling)
    end)

    it("refuses unknown upgrades and levels past the top", function()
        local s, err = sc:car_stats("hatch", { top_speed = 6 })
        assert.is_nil(s)
        assert.matches("outside 0..5", err)
        s, err = sc:car_stats("hatch", { wings = 1 })
        assert.is_nil(s)
        assert.matches("unknown upgrade 'wings'", err)
        s, err = sc:car_stats("spaceship")
        assert.is_nil(s)
        assert.matches("unknown car type", err)
    end)
end)

describe("rules/standard.lua", function()
    local sc = assert(crhost.open(dir))

    it("scores a race by position", function()
        local r = assert(sc:race({ generator = "forest", seed = 3, ai = 4 }))
        local want = { 25, 18, 15, 12 }
        for i, res in ipairs(r.results) do
            assert.are.equal(i, res.position)
            assert.is_true(res.finished)
            assert.are.equal(want[i], res.points)
        end
        -- Positions follow times.
        for i = 2, #r.results do
            assert.is_true(r.results[i - 1].time_s <= r.results[i].time_s)
        end
    end)

    it("is refused when unknown", function()
        local r, err = sc:race({ generator = "forest", seed = 3, ai = 1, rules = "nonsense" })
        assert.is_nil(r)
        assert.matches("no rule set 'nonsense'", err)
    end)
end)
