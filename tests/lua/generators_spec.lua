-- Every generator in scripts/stages through the real host: deterministic,
-- within the length limits, its parameters honoured and checked, and the
-- kind of stage it promises.
local crhost = require("crhost")
local dir = os.getenv("CR_SCRIPTS") or "scripts"
local sc = assert(crhost.open(dir))

local function names()
    local out = {}
    for _, g in ipairs(sc:generators()) do out[#out + 1] = g.name end
    return out
end

describe("stage generators", function()
    it("are the three shipped ones, none broken", function()
        assert.are.same({ "coast", "forest", "mountain" }, names())
        for _, g in ipairs(sc:generators()) do
            assert.is_nil(g.error)
            assert.is_true(#g.description > 10)
        end
    end)

    for _, name in ipairs(names()) do
        describe(name, function()
            it("is deterministic per seed", function()
                local a = assert(sc:generate(name, 17))
                local b = assert(sc:generate(name, 17))
                local c = assert(sc:generate(name, 18))
                assert.are.equal(a.hash, b.hash)
                assert.are_not.equal(a.hash, c.hash)
            end)

            it("keeps within STAGE_MIN_LENGTH..STAGE_MAX_LENGTH", function()
                for seed = 1, 20 do
                    local s = assert(sc:generate(name, seed))
                    assert.is_true(s.length >= 1000 and s.length <= 3000)
                    assert.is_true(s.checkpoints >= 1)
                end
            end)

            it("refuses unknown and out-of-range parameters", function()
                local s, err = sc:generate(name, 1, { nonsense = 1 })
                assert.is_nil(s)
                assert.matches("no parameter 'nonsense'", err)
                s, err = sc:generate(name, 1, { length = 1e9 })
                assert.is_nil(s)
                assert.matches("parameter length = '1000000000.0' must be a number in", err, 1, true)
            end)
        end)
    end
end)

-- Surface share by route distance, averaged over seeds.
local function share(name, surface, seeds)
    local total, part = 0, 0
    for seed = 1, seeds do
        local s = assert(sc:generate(name, seed))
        total = total + s.length
        part = part + s.surfaces[surface]
    end
    return part / total
end

describe("the kinds of stage", function()
    it("forest is mostly gravel", function()
        assert.is_true(share("forest", "gravel", 10) > 0.6)
    end)
    it("coast is mostly asphalt with ice patches", function()
        assert.is_true(share("coast", "asphalt", 10) > 0.6)
        assert.is_true(share("coast", "ice", 10) > 0.02)
    end)
    it("mountain mixes surfaces", function()
        assert.is_true(share("mountain", "asphalt", 10) > 0.1)
        assert.is_true(share("mountain", "gravel", 10) > 0.1)
    end)
end)
