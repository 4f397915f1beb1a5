-- The property the game rests on: for every generator, hundreds of seeds
-- give valid stages (the host validates each one) and the built-in AI, which
-- sees only its sensor record, finishes every one of them.
local crhost = require("crhost")
local dir = os.getenv("CR_SCRIPTS") or "scripts"
local sc = assert(crhost.open(dir))
local SEEDS = tonumber(os.getenv("CR_PROPERTY_SEEDS") or "200")

for _, g in ipairs(sc:generators()) do
    describe(g.name, function()
        it(("gives %d valid stages that the AI finishes"):format(SEEDS), function()
            local failures = {}
            for seed = 1, SEEDS do
                local r, err = sc:race({ generator = g.name, seed = seed, ai = 1 })
                if not r then
                    failures[#failures + 1] = ("seed %d: %s"):format(seed, err)
                elseif not r.results[1].finished then
                    failures[#failures + 1] = ("seed %d: the AI did not finish (%d checkpoints, reason %d)")
                        :format(seed, r.results[1].checkpoints, r.results[1].dnf_reason)
                end
            end
            assert.are.same({}, failures)
        end)
    end)
end
